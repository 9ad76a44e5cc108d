/*
 * SpatiaLite store: aggregation and ratio indicators (see compute.h for
 * the rules), computed in C over the value blocks of store_values.c.
 */
#include "ctx_internal.h"
#include "kiez/compute.h"
#include "kiez/table.h"
#include "store.h"
#include "strmap.h"

#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* (level, period, variable) names of blocks, collected before rewriting
 * them (kz_store__each_block() does not allow writes while it reads). */
typedef struct block_list {
    char **level, **period, **variable;
    size_t n, cap;
} block_list;

static int collect_block(const kz_store_block *b, void *payload)
{
    block_list *l = payload;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **lv = realloc(l->level, cap * sizeof(char *));
        char **pe = lv ? realloc(l->period, cap * sizeof(char *)) : NULL;
        char **va = pe ? realloc(l->variable, cap * sizeof(char *)) : NULL;
        if (lv)
            l->level = lv;
        if (pe)
            l->period = pe;
        if (va == NULL)
            return KZ_E_NOMEM;
        l->variable = va;
        l->cap = cap;
    }
    l->level[l->n] = strdup(b->level);
    l->period[l->n] = strdup(b->period);
    l->variable[l->n] = strdup(b->variable);
    l->n++;
    if (l->level[l->n - 1] == NULL || l->period[l->n - 1] == NULL || l->variable[l->n - 1] == NULL)
        return KZ_E_NOMEM;
    return KZ_OK;
}

static void block_list_free(block_list *l)
{
    kz_store__free_strings(l->level, l->n);
    kz_store__free_strings(l->period, l->n);
    kz_store__free_strings(l->variable, l->n);
    memset(l, 0, sizeof(*l));
}

/* Remove the sums of an earlier kz_compute_aggregates() (cells marked
 * KZ_CELL_COMPUTED), so a new one starts from the imported values. */
static int strip_aggregates(kz_db *db, kz_ctx *ctx)
{
    block_list l;
    kz_store_block b;
    size_t i, j;
    int rc, found;
    memset(&l, 0, sizeof(l));
    memset(&b, 0, sizeof(b));
    if ((rc = kz_store__each_block(db, ctx, NULL, NULL, 1, collect_block, &l)) != KZ_OK) {
        if (rc == KZ_E_NOMEM)
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < l.n; i++) {
        kz_level_keys keys;
        if ((rc = kz_store__level_keys(db, ctx, l.level[i], 0, &keys)) != KZ_OK)
            goto done;
        if (b.n != keys.n) {
            kz_store__block_free(&b);
            rc = kz_store__block_alloc(ctx, &b, keys.n);
        }
        kz_store__free_keys(&keys);
        if (rc != KZ_OK || (rc = kz_store__read_block(db, ctx, l.level[i], l.period[i],
                                                      l.variable[i], &b, &found)) != KZ_OK)
            goto done;
        for (j = 0; j < b.n; j++)
            if (b.flag[j] != KZ_CELL_ABSENT && (b.flag[j] & KZ_CELL_COMPUTED)) {
                b.flag[j] = KZ_CELL_ABSENT;
                b.value[j] = NAN;
            }
        if ((rc = kz_store__write_block(db, ctx, l.level[i], l.period[i], l.variable[i], &b)) !=
            KZ_OK)
            goto done;
    }
done:
    kz_store__block_free(&b);
    block_list_free(&l);
    return rc;
}

/*
 * Sums of the values of `level` into `parent`: per parent area, period and
 * variable the sum over the child areas (area.parent_key), stored only
 * when every child area has a value (flag 4); otherwise no number, with
 * flag 2 when a child's value is suppressed, else 1. A parent gets a cell
 * when at least one of its children has one. Values imported for the
 * parent level itself win.
 */
static int aggregate_level(kz_db *db, kz_ctx *ctx, const char *level, const char *parent,
                           long *inserted)
{
    sqlite3_stmt *st = NULL;
    kz_level_keys child, par;
    kz_store_block cb, pb;
    char **periods = NULL, **variables = NULL;
    long *parent_of = NULL, *n_children = NULL, *count = NULL;
    double *sum = NULL;
    unsigned char *any = NULL, *withheld = NULL;
    size_t n_blocks = 0, i, k;
    int rc, found;

    *inserted = 0;
    memset(&child, 0, sizeof(child));
    memset(&par, 0, sizeof(par));
    memset(&cb, 0, sizeof(cb));
    memset(&pb, 0, sizeof(pb));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &child)) != KZ_OK ||
        (rc = kz_store__level_keys(db, ctx, parent, 0, &par)) != KZ_OK)
        goto done;
    if (child.n == 0 || par.n == 0)
        goto done;
    if ((parent_of = malloc(child.n * sizeof(long))) == NULL ||
        (n_children = calloc(par.n, sizeof(long))) == NULL ||
        (count = malloc(par.n * sizeof(long))) == NULL ||
        (sum = malloc(par.n * sizeof(double))) == NULL || (any = malloc(par.n)) == NULL ||
        (withheld = malloc(par.n)) == NULL)
        goto nomem;
    for (i = 0; i < child.n; i++)
        parent_of[i] = -1;
    /* Child area → parent area, and the number of children per parent. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, parent_key FROM area WHERE level = ?1"
                                " AND parent_key IS NOT NULL")) != KZ_OK)
        goto done;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long c = kz_strmap__get(child.map, (const char *)sqlite3_column_text(st, 0));
        long p = kz_strmap__get(par.map, (const char *)sqlite3_column_text(st, 1));
        if (c < 0 || p < 0)
            continue; /* a parent key that is no area of the parent level */
        parent_of[c] = p;
        n_children[p]++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
        goto done;
    }
    if ((rc = kz_store__block_names(db, ctx, level, &periods, &variables, &n_blocks)) != KZ_OK ||
        (rc = kz_store__block_alloc(ctx, &cb, child.n)) != KZ_OK ||
        (rc = kz_store__block_alloc(ctx, &pb, par.n)) != KZ_OK)
        goto done;
    for (k = 0; k < n_blocks; k++) {
        if ((rc = kz_store__read_block(db, ctx, level, periods[k], variables[k], &cb, &found)) !=
                KZ_OK ||
            (rc = kz_store__read_block(db, ctx, parent, periods[k], variables[k], &pb, &found)) !=
                KZ_OK)
            goto done;
        memset(count, 0, par.n * sizeof(long));
        memset(any, 0, par.n);
        memset(withheld, 0, par.n);
        for (i = 0; i < par.n; i++)
            sum[i] = 0.0;
        for (i = 0; i < child.n; i++) {
            long p = parent_of[i];
            if (p < 0 || cb.flag[i] == KZ_CELL_ABSENT)
                continue; /* an orphan, or no value */
            any[p] = 1;
            if (!isnan(cb.value[i])) {
                sum[p] += cb.value[i];
                count[p]++;
            }
            if (KZ_CELL_FLAG(cb.flag[i]) == KZ_FLAG_SUPPRESSED)
                withheld[p] = 1;
        }
        for (i = 0; i < par.n; i++) {
            int complete = count[i] == n_children[i];
            if (!any[i] || pb.flag[i] != KZ_CELL_ABSENT)
                continue; /* no child value, or imported for the parent */
            pb.value[i] = complete ? sum[i] : NAN;
            pb.flag[i] = (unsigned char)((complete      ? KZ_FLAG_AGGREGATED
                                          : withheld[i] ? KZ_FLAG_SUPPRESSED
                                                        : KZ_FLAG_MISSING) |
                                         KZ_CELL_COMPUTED);
            (*inserted)++;
        }
        if ((rc = kz_store__write_block(db, ctx, parent, periods[k], variables[k], &pb)) != KZ_OK)
            goto done;
    }
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory aggregating level %s", level);
done:
    sqlite3_finalize(st);
    kz_store__block_free(&cb);
    kz_store__block_free(&pb);
    kz_store__free_strings(periods, n_blocks);
    kz_store__free_strings(variables, n_blocks);
    if (child.map != NULL)
        kz_store__free_keys(&child);
    if (par.map != NULL)
        kz_store__free_keys(&par);
    free(parent_of);
    free(n_children);
    free(count);
    free(sum);
    free(any);
    free(withheld);
    return rc;
}

int kz_compute_aggregates(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *levels = NULL;
    int rc;
    if ((rc = strip_aggregates(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &levels,
                                "SELECT name, parent FROM level WHERE parent IS NOT NULL"
                                " ORDER BY rank DESC, name")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(levels)) == SQLITE_ROW) {
        const char *level = (const char *)sqlite3_column_text(levels, 0);
        const char *parent = (const char *)sqlite3_column_text(levels, 1);
        long n = 0;
        if ((rc = aggregate_level(db, ctx, level, parent, &n)) != KZ_OK)
            goto done;
        kz_ctx__log(ctx, KZ_LOG_INFO, "aggregated %s to %s: %ld values", level, parent, n);
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading levels");
done:
    sqlite3_finalize(levels);
    return rc;
}

/* One ratio indicator of the catalogue; num/den index the variables read. */
typedef struct ratio_def {
    char *name;
    long num, den; /* den < 0: a plain count */
    double scale;
    long count; /* values written */
    const char *num_name, *den_name;
} ratio_def;

/*
 * Cell i of one indicator from the blocks of its numerator and denominator
 * (den NULL: a plain count), rules of the former SQL: ratio = numerator /
 * denominator × scale when both have a value and the denominator is not
 * 0; flag 2 if either is suppressed, 1 if either is missing or the
 * denominator 0, else the larger flag. A count = numerator × scale with
 * the numerator's flag. A value only where the variables exist; returns
 * whether there is one.
 */
static int ratio_cell(const ratio_def *d, const kz_store_block *num, const kz_store_block *den,
                      size_t i, kz_store_ind_block *out)
{
    double n = num->value[i], q;
    int n_flag = KZ_CELL_FLAG(num->flag[i]), q_flag, bad;
    if (num->flag[i] == KZ_CELL_ABSENT || (den != NULL && den->flag[i] == KZ_CELL_ABSENT))
        return 0;
    out->numerator[i] = n;
    if (den == NULL) {
        out->value[i] = isnan(n) ? NAN : n * d->scale;
        out->flag[i] = (unsigned char)n_flag;
        return 1;
    }
    q = den->value[i];
    q_flag = KZ_CELL_FLAG(den->flag[i]);
    bad = isnan(n) || isnan(q) || q == 0.0;
    out->value[i] = bad ? NAN : n / q * d->scale;
    out->denominator[i] = q;
    out->flag[i] = (unsigned char)(n_flag == KZ_FLAG_SUPPRESSED || q_flag == KZ_FLAG_SUPPRESSED
                                       ? KZ_FLAG_SUPPRESSED
                                   : bad             ? KZ_FLAG_MISSING
                                   : n_flag > q_flag ? n_flag
                                                     : q_flag);
    return 1;
}

/* The variable names the catalogue needs: text → index and back. */
typedef struct var_names {
    kz_strmap *map;
    char **at;
    size_t n, cap;
} var_names;

static long intern(var_names *t, const char *s)
{
    long i = kz_strmap__get(t->map, s);
    if (i >= 0)
        return i;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **more = realloc(t->at, cap * sizeof(char *));
        if (more == NULL)
            return -1;
        t->at = more;
        t->cap = cap;
    }
    if ((t->at[t->n] = strdup(s)) == NULL)
        return -1;
    if (kz_strmap__put(t->map, s, (long)t->n, NULL) < 0) {
        free(t->at[t->n]);
        return -1;
    }
    return (long)t->n++;
}

/*
 * The ratio indicators of one level: every block of the variables they
 * need (periods x variables x areas, about 9 bytes per cell) is read once,
 * then each indicator of each period is computed as one block and written.
 */
static int level_indicators(kz_db *db, kz_ctx *ctx, const char *level, ratio_def *defs,
                            size_t n_defs, const var_names *vars)
{
    kz_level_keys keys;
    kz_store_block *blocks = NULL; /* [period * vars->n + variable] */
    kz_store_ind_block out;
    char **bp = NULL, **bv = NULL, **periods = NULL;
    size_t n_names = 0, n_periods = 0, i, p, v;
    int rc, found;

    memset(&keys, 0, sizeof(keys));
    memset(&out, 0, sizeof(out));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &keys)) != KZ_OK ||
        (rc = kz_store__block_names(db, ctx, level, &bp, &bv, &n_names)) != KZ_OK)
        goto done;
    /* The level's periods (block names come ordered by period). */
    if ((periods = malloc((n_names ? n_names : 1) * sizeof(char *))) == NULL)
        goto nomem;
    for (i = 0; i < n_names; i++)
        if (n_periods == 0 || strcmp(periods[n_periods - 1], bp[i]) != 0)
            periods[n_periods++] = bp[i];
    if (n_periods == 0 || keys.n == 0)
        goto done;
    if ((blocks = calloc(n_periods * vars->n, sizeof(*blocks))) == NULL)
        goto nomem;
    for (p = 0; p < n_periods; p++)
        for (v = 0; v < vars->n; v++) {
            kz_store_block *b = &blocks[p * vars->n + v];
            if ((rc = kz_store__block_alloc(ctx, b, keys.n)) != KZ_OK ||
                (rc = kz_store__read_block(db, ctx, level, periods[p], vars->at[v], b, &found)) !=
                    KZ_OK)
                goto done;
        }
    if ((rc = kz_store__ind_alloc(ctx, &out, keys.n)) != KZ_OK)
        goto done;
    for (i = 0; i < n_defs; i++) {
        ratio_def *d = &defs[i];
        for (p = 0; p < n_periods; p++) {
            const kz_store_block *num = &blocks[p * vars->n + (size_t)d->num];
            const kz_store_block *den = d->den >= 0 ? &blocks[p * vars->n + (size_t)d->den] : NULL;
            size_t k;
            kz_store__ind_clear(&out);
            for (k = 0; k < keys.n; k++)
                d->count += ratio_cell(d, num, den, k, &out);
            if ((rc = kz_store__ind_write(db, ctx, level, periods[p], d->name, &out)) != KZ_OK)
                goto done;
        }
    }
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing the indicators of %s", level);
done:
    if (blocks != NULL)
        for (i = 0; i < n_periods * vars->n; i++)
            kz_store__block_free(&blocks[i]);
    free(blocks);
    kz_store__ind_free(&out);
    free(periods);
    kz_store__free_strings(bp, n_names);
    kz_store__free_strings(bv, n_names);
    kz_store__free_keys(&keys);
    return rc;
}

int kz_compute_indicators(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *cat = NULL;
    var_names vars;
    ratio_def *defs = NULL;
    char **levels = NULL;
    size_t n_defs = 0, cap = 0, n_levels = 0, i;
    int rc;

    memset(&vars, 0, sizeof(vars));
    if ((rc = kz_store__exec(db, ctx,
                             "DELETE FROM indicator_block WHERE indicator IN"
                             " (SELECT name FROM indicator WHERE kind = 'ratio')")) != KZ_OK)
        return rc;
    if ((vars.map = kz_strmap__new()) == NULL)
        goto nomem;
    if ((rc = kz_store__prepare(db, ctx, &cat,
                                "SELECT name, numerator, denominator, scale FROM indicator"
                                " WHERE kind = 'ratio' ORDER BY ord")) != KZ_OK)
        goto done;
    while ((rc = sqlite3_step(cat)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(cat, 0);
        const char *num = (const char *)sqlite3_column_text(cat, 1);
        const char *den = (const char *)sqlite3_column_text(cat, 2);
        ratio_def *d;
        if (n_defs == cap) {
            ratio_def *more = realloc(defs, (cap ? 2 * cap : 16) * sizeof(*defs));
            if (more == NULL)
                goto nomem;
            defs = more;
            cap = cap ? 2 * cap : 16;
        }
        d = &defs[n_defs];
        memset(d, 0, sizeof(*d));
        if ((d->name = strdup(name)) == NULL)
            goto nomem;
        n_defs++;
        d->scale = sqlite3_column_double(cat, 3);
        d->den = -1;
        if (num == NULL || (d->num = intern(&vars, num)) < 0 ||
            (den != NULL && (d->den = intern(&vars, den)) < 0))
            goto nomem;
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
        goto done;
    }
    if (n_defs == 0) {
        rc = KZ_OK;
        goto done;
    }
    for (i = 0; i < n_defs; i++) {
        defs[i].num_name = vars.at[defs[i].num];
        defs[i].den_name = defs[i].den >= 0 ? vars.at[defs[i].den] : NULL;
    }
    if ((rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK)
        goto done;
    for (i = 0; i < n_levels; i++)
        if ((rc = level_indicators(db, ctx, levels[i], defs, n_defs, &vars)) != KZ_OK)
            goto done;
    for (i = 0; i < n_defs; i++) {
        if (defs[i].count == 0)
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "indicator %s: no area has both %s%s%s; check the variable names "
                        "against the tables",
                        defs[i].name, defs[i].num_name, defs[i].den_name ? " and " : "",
                        defs[i].den_name ? defs[i].den_name : "");
        else
            kz_ctx__log(ctx, KZ_LOG_INFO, "indicator %s: %ld values", defs[i].name, defs[i].count);
    }
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing indicators");
done:
    sqlite3_finalize(cat);
    for (i = 0; i < n_defs; i++)
        free(defs[i].name);
    free(defs);
    kz_store__free_strings(levels, n_levels);
    kz_store__free_strings(vars.at, vars.n);
    kz_strmap__free(vars.map);
    return rc;
}

int kz_compute(kz_db *db, kz_ctx *ctx, const kz_project *project)
{
    int rc;
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_compute_aggregates(db, ctx)) != KZ_OK ||
        (rc = kz_compute_indicators(db, ctx)) != KZ_OK ||
        (project != NULL && (rc = kz_compute_derived(db, ctx, project)) != KZ_OK)) {
        kz_store__rollback(db);
        return rc;
    }
    return kz_store__commit(db, ctx);
}
