/*
 * Disclosure control in the pipeline (the method: disclosure.h).
 *
 * Where and on what: after aggregation and the ratio indicators, before
 * the derived ones. Table `value` keeps the true counts, so the database
 * stays the statistics office's working copy and coarser totals are the
 * true sums (suppression withholds cells, it never changes a total). What
 * is published is what the exports read: indicator_value. There every
 * value built on a suppressed count (a count indicator, or a ratio with a
 * suppressed numerator or denominator) becomes NULL with flag 2, with its
 * suppressed numerator/denominator; derived indicators (z-scores, indices,
 * trends, needs for action) then see only published values. Every
 * indicator of an area below the minimum population is withheld as well,
 * derived ones included (the seal pass after the derived indicators).
 */
#include "compute_action.h"
#include "ctx_internal.h"
#include "kiez/disclosure.h"
#include "store_disclosure.h"
#include "strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The cells of one variable, one period at a time. */
typedef struct cells {
    kz_db *db;
    kz_ctx *ctx;
    const kz_store_tree *tree;
    const char *variable;
    double min_count;
    char period[16];
    double *value;
    unsigned char *status;
    kz_strmap *small; /* "period\x1flevel\x1fkey" of inhabited areas below min_population */
    size_t primary, secondary, area;
} cells;

static int flush(cells *c)
{
    size_t added = 0, i;
    int rc;
    if (c->period[0] == '\0')
        return KZ_OK;
    memset(c->status, 0, c->tree->n ? c->tree->n : 1);
    c->primary += kz_disclosure_primary(c->status, c->value, c->tree->n, c->min_count);
    /* Cells of areas below the minimum population (but inhabited: an empty
     * area has no one to protect) are protected like primary ones. */
    if (c->small != NULL)
        for (i = 0; i < c->tree->n; i++) {
            char buf[640];
            if (c->status[i] == KZ_SDC_PUBLISH && !isnan(c->value[i]) &&
                snprintf(buf, sizeof(buf), "%s\x1f%s\x1f%s", c->period, c->tree->level[i],
                         c->tree->key[i]) < (int)sizeof(buf) &&
                kz_strmap__get(c->small, buf) >= 0) {
                c->status[i] = KZ_SDC_AREA;
                c->area++;
            }
        }
    if ((rc = kz_disclosure_secondary(&added, c->ctx, c->status, c->value, c->tree->parent,
                                      c->tree->group, c->tree->n)) != KZ_OK ||
        (rc = kz_store__put_suppressed(c->db, c->ctx, c->variable, c->period, c->tree,
                                       c->status)) != KZ_OK)
        return rc;
    c->secondary += added;
    for (i = 0; i < c->tree->n; i++)
        c->value[i] = NAN;
    c->period[0] = '\0';
    return KZ_OK;
}

static int take(const char *level, const char *key, const char *period, double value, void *payload)
{
    cells *c = payload;
    char buf[600];
    long at;
    int rc;
    if (strcmp(period, c->period) != 0) {
        if ((rc = flush(c)) != KZ_OK)
            return rc;
        snprintf(c->period, sizeof(c->period), "%s", period);
    }
    if (snprintf(buf, sizeof(buf), "%s\x1f%s", level, key) >= (int)sizeof(buf))
        return KZ_OK;
    if ((at = kz_strmap__get(c->tree->map, buf)) >= 0)
        c->value[at] = value;
    return KZ_OK;
}

/* Inhabited areas below the minimum population, per period. */
typedef struct small_state {
    kz_strmap *map;
    double min;
} small_state;

static int take_small(const char *level, const char *key, const char *period, double value,
                      void *payload)
{
    small_state *s = payload;
    char buf[640];
    if (value > 0 && value < s->min &&
        snprintf(buf, sizeof(buf), "%s\x1f%s\x1f%s", period, level, key) < (int)sizeof(buf) &&
        kz_strmap__put(s->map, buf, 1, NULL) < 0)
        return KZ_E_NOMEM;
    return KZ_OK;
}

static int listed(char *const *list, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

static int put_rules(kz_db *db, kz_ctx *ctx, const kz_disclosure_def *D)
{
    char note[256];
    int rc;
    if ((rc = kz_store__put_statistic(
             db, ctx, "disclosure", NULL, NULL, "rules", "min_count", D->min_count,
             "counts 0 < x < min_count are withheld (NULL, flag 2) with "
             "every indicator built on them; zeros are published")) != KZ_OK)
        return rc;
    if ((rc = kz_store__put_statistic(
             db, ctx, "disclosure", NULL, NULL, "rules", "secondary", NAN,
             "a relation parent = sum of its children with one withheld cell gets a second: the "
             "smallest sibling (or child), repeated up and down the area hierarchy (Hundepool et "
             "al., Statistical Disclosure Control, 2012, ch. 4)")) != KZ_OK)
        return rc;
    if (D->min_population > 0) {
        snprintf(note, sizeof(note),
                 "areas with %s below min_population publish no indicator (NULL, flag 2)",
                 D->population);
        if ((rc = kz_store__put_statistic(db, ctx, "disclosure", NULL, NULL, "rules",
                                          "min_population", D->min_population, note)) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

int kz_compute__disclosure(kz_db *db, kz_ctx *ctx, const kz_project *p, int seal)
{
    const kz_disclosure_def *D = &p->disclosure;
    kz_store_tree tree;
    char **all = NULL;
    size_t n_all = 0, i, total_primary = 0, total_secondary = 0;
    long n_small = 0, changed = 0;
    cells c;
    int rc;

    if (!D->enabled)
        return KZ_OK;
    if (seal)
        return kz_store__apply_disclosure(db, ctx, &changed);
    memset(&tree, 0, sizeof(tree));
    memset(&c, 0, sizeof(c));
    if ((rc = kz_store__disclosure_reset(db, ctx)) != KZ_OK ||
        (rc = kz_store__clear_statistics(db, ctx, "disclosure")) != KZ_OK ||
        (rc = put_rules(db, ctx, D)) != KZ_OK ||
        (rc = kz_store__area_tree(db, ctx, &tree)) != KZ_OK ||
        (rc = kz_store__variable_names(db, ctx, &all, &n_all)) != KZ_OK)
        goto done;
    c.db = db;
    c.ctx = ctx;
    c.tree = &tree;
    c.min_count = D->min_count;
    c.value = malloc((tree.n ? tree.n : 1) * sizeof(double));
    c.status = malloc(tree.n ? tree.n : 1);
    if (c.value == NULL || c.status == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if (D->min_population > 0) {
        small_state ss;
        if (!listed(all, n_all, D->population))
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "disclosure: population variable \"%s\" is not in any imported table; "
                        "no area is below min_population",
                        D->population);
        ss.min = D->min_population;
        if ((ss.map = c.small = kz_strmap__new()) == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        if ((rc = kz_store__each_cell(db, ctx, D->population, take_small, &ss)) != KZ_OK) {
            if (rc == KZ_E_NOMEM)
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
    }
    for (i = 0; i < D->n_variables; i++)
        if (!listed(all, n_all, D->variables[i]))
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "disclosure: variable \"%s\" is not in any imported table; check "
                        "disclosure.variables",
                        D->variables[i]);
    for (i = 0; i < n_all; i++) {
        const char *v = all[i];
        size_t k;
        /* The counts: the listed variables, or every variable but not_counts. */
        if (D->n_variables > 0 ? !listed(D->variables, D->n_variables, v)
                               : listed(D->not_counts, D->n_not_counts, v))
            continue;
        c.variable = v;
        c.primary = c.secondary = c.area = 0;
        c.period[0] = '\0';
        for (k = 0; k < tree.n; k++)
            c.value[k] = NAN;
        if ((rc = kz_store__each_cell(db, ctx, v, take, &c)) != KZ_OK || (rc = flush(&c)) != KZ_OK)
            goto done;
        if ((rc = kz_store__put_statistic(db, ctx, "disclosure", NULL, NULL, v, "primary",
                                          (double)c.primary, NULL)) != KZ_OK ||
            (rc = kz_store__put_statistic(db, ctx, "disclosure", NULL, NULL, v, "secondary",
                                          (double)c.secondary, NULL)) != KZ_OK ||
            (c.small != NULL &&
             (rc = kz_store__put_statistic(db, ctx, "disclosure", NULL, NULL, v, "small_area",
                                           (double)c.area, NULL)) != KZ_OK))
            goto done;
        total_primary += c.primary + c.area;
        total_secondary += c.secondary;
    }
    if (D->min_population > 0) {
        if ((rc = kz_store__small_areas(db, ctx, D->population, D->min_population, &n_small)) !=
            KZ_OK)
            goto done;
        if ((rc = kz_store__put_statistic(db, ctx, "disclosure", NULL, NULL, "areas",
                                          "below_min_population", (double)n_small,
                                          "areas x periods")) != KZ_OK)
            goto done;
    }
    if ((rc = kz_store__apply_disclosure(db, ctx, &changed)) != KZ_OK)
        goto done;
    kz_ctx__log(ctx, KZ_LOG_INFO,
                "disclosure: %zu cells below %g, %zu more withheld as complements, %ld areas x "
                "periods below the minimum population; %ld indicator values withheld",
                total_primary, D->min_count, total_secondary, n_small, changed);
done:
    free(c.value);
    free(c.status);
    kz_strmap__free(c.small);
    kz_store__free_strings(all, n_all);
    kz_store__free_tree(&tree);
    return rc;
}
