/*
 * Spatial statistics and correlation matrices of the project file
 * (spatial[], correlations[]): feeds the methods of src/methods (weights.c,
 * moran.c, correlate.c) from the store and writes their results back:
 * global results to the statistics table, LISA per area as derived
 * indicators, so every export carries them as layer columns.
 *
 * Missing values: an area without a value of the indicator (missing,
 * suppressed, or out of an index's scope) is left out of the weights and
 * the statistics, as if it were not on the map; its neighbours lose it as
 * a neighbour (spdep: subset the nb with subset.nb; PySAL: w_subset). The
 * LISA columns of such an area are null.
 */
#include "compute_spatial.h"
#include "ctx_internal.h"
#include "kiez/correlate.h"
#include "kiez/moran.h"
#include "kiez/table.h"
#include "store.h"
#include "store_spatial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 160

int kz_compute__restrict_weights(kz_weights **out, size_t *m, size_t *map, kz_ctx *ctx,
                                 const kz_weights *full, const unsigned char *keep, int style)
{
    size_t n = kz_weights_n(full), links = kz_weights_links(full), i, e, k = 0, at = 0;
    size_t *sub = NULL, *offsets = NULL, *nbr = NULL;
    double *raw = NULL;
    int rc;

    *out = NULL;
    *m = 0;
    if (kz_weights_style(full) != KZ_STYLE_B)
        return kz_ctx__error(ctx, KZ_E_USAGE, "restricting weights: they must be styled B");
    sub = malloc((n ? n : 1) * sizeof(size_t));
    offsets = malloc((n + 1) * sizeof(size_t));
    nbr = malloc((links ? links : 1) * sizeof(size_t));
    raw = malloc((links ? links : 1) * sizeof(double));
    if (sub == NULL || offsets == NULL || nbr == NULL || raw == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    /* sub[i]: index of full area i among the kept ones. */
    for (i = 0; i < n; i++)
        if (keep[i]) {
            map[k] = i;
            sub[i] = k++;
        }
    for (i = 0; i < k; i++) {
        const size_t *ids;
        const double *w;
        size_t cnt = kz_weights_neighbours(full, map[i], &ids, &w);
        offsets[i] = at;
        /* Neighbours stay ascending: sub[] is increasing over kept areas. */
        for (e = 0; e < cnt; e++)
            if (keep[ids[e]]) {
                nbr[at] = sub[ids[e]];
                raw[at++] = w[e];
            }
    }
    offsets[k] = at;
    rc = kz_weights_from_lists(out, ctx, k, offsets, nbr, raw, style);
    if (rc == KZ_OK)
        *m = k;
done:
    free(sub);
    free(offsets);
    free(nbr);
    free(raw);
    return rc;
}

/* Label of a column from the catalogue, or its name. */
static const char *label_of(const kz_store_indicator *cat, size_t n_cat, const char *name)
{
    size_t i;
    for (i = 0; i < n_cat; i++)
        if (strcmp(cat[i].name, name) == 0)
            return cat[i].label ? cat[i].label : name;
    return name;
}

/* The period of an analysis: the configured one, or the latest period in
 * which every one of `names` has a value on the level ("" if none). */
static int pick_period(char out[11], kz_db *db, kz_ctx *ctx, const char *level,
                       const char *configured, char *const *names, size_t n_names)
{
    char **first = NULL;
    size_t n_first = 0, i, j;
    int rc;
    out[0] = '\0';
    if (configured != NULL)
        return kz_period_parse(out, configured) == KZ_OK
                   ? KZ_OK
                   : kz_ctx__error(ctx, KZ_E_USAGE, "\"%s\" is not a date", configured);
    if ((rc = kz_store__value_periods(db, ctx, level, names[0], &first, &n_first)) != KZ_OK)
        return rc;
    for (i = 0; i < n_first && out[0] == '\0' && rc == KZ_OK; i++) {
        int everywhere = 1;
        for (j = 1; j < n_names && everywhere && rc == KZ_OK; j++) {
            char **other = NULL;
            size_t n_other = 0, k;
            int found = 0;
            if ((rc = kz_store__value_periods(db, ctx, level, names[j], &other, &n_other)) != KZ_OK)
                break;
            for (k = 0; k < n_other && !found; k++)
                found = strcmp(other[k], first[i]) == 0;
            everywhere = found;
            kz_store__free_strings(other, n_other);
        }
        if (rc == KZ_OK && everywhere)
            snprintf(out, 11, "%.10s", first[i]);
    }
    kz_store__free_strings(first, n_first);
    return rc;
}

typedef struct stat_ctx {
    kz_db *db;
    kz_ctx *ctx;
    const char *analysis, *level, *period, *subject, *note;
} stat_ctx;

static int put(const stat_ctx *s, const char *measure, double value)
{
    return kz_store__put_statistic(s->db, s->ctx, s->analysis, s->level, s->period, s->subject,
                                   measure, value, s->note);
}

/* Global Moran's I and LISA of one indicator; `full` holds the weights of
 * all areas (styled B), NULL for k nearest neighbours (rebuilt per subset). */
static int spatial_indicator(kz_db *db, kz_ctx *ctx, const kz_spatial_def *S, size_t item,
                             const char *ind, const kz_store_geoms *g, const kz_weights *full,
                             double tol, const kz_store_indicator *cat, size_t n_cat)
{
    kz_weights *w = NULL;
    kz_lisa *lisa = NULL;
    kz_moran_result res;
    kz_moran_options mo;
    double *x = NULL, *xs = NULL, *li = NULL, *lp = NULL, *lc = NULL;
    unsigned char *keep = NULL;
    size_t *map = NULL, n = g->n, m = 0, i, left_out = 0;
    char period[11], name[NAME_LEN], label[NAME_LEN + 96], note[320];
    const char *lab = label_of(cat, n_cat, ind);
    stat_ctx sc;
    int rc;

    if ((rc = pick_period(period, db, ctx, S->level, S->period, (char *const *)&ind, 1)) != KZ_OK)
        return rc;
    if (period[0] == '\0')
        return kz_ctx__error(ctx, KZ_E_INPUT, "spatial[%zu]: %s has no values on level %s", item,
                             ind, S->level);
    x = malloc(n * sizeof(double));
    xs = malloc(n * sizeof(double));
    li = malloc(n * sizeof(double));
    lp = malloc(n * sizeof(double));
    lc = malloc(n * sizeof(double));
    keep = malloc(n);
    map = malloc(n * sizeof(size_t));
    if (!x || !xs || !li || !lp || !lc || !keep || !map) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = kz_store__indicator_values(db, ctx, S->level, period, ind, g->keys, n, x)) != KZ_OK)
        goto done;
    for (i = 0; i < n; i++) {
        keep[i] = isfinite(x[i]) != 0;
        left_out += !keep[i];
    }
    if (full != NULL) {
        if ((rc = kz_compute__restrict_weights(&w, &m, map, ctx, full, keep, S->style)) != KZ_OK)
            goto done;
    } else {
        /* k nearest neighbours among the areas with values. */
        const unsigned char **wkb = malloc(n * sizeof(*wkb));
        size_t *size = malloc(n * sizeof(size_t));
        const char **keys = malloc(n * sizeof(*keys));
        kz_weights_options wo;
        if (wkb == NULL || size == NULL || keys == NULL) {
            free(wkb);
            free(size);
            free(keys);
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (i = 0; i < n; i++)
            if (keep[i]) {
                wkb[m] = g->wkb[i];
                size[m] = g->wkb_size[i];
                keys[m] = g->keys[i];
                map[m++] = i;
            }
        kz_weights_options_init(&wo);
        wo.kind = KZ_WEIGHTS_KNN;
        wo.k = S->k;
        wo.style = S->style;
        rc = m > (size_t)S->k ? kz_weights_from_wkb(&w, ctx, (const unsigned char *const *)wkb,
                                                    size, m, (const char *const *)keys, &wo)
                              : kz_ctx__error(ctx, KZ_E_INPUT,
                                              "%zu areas with values: too few for knn:%d", m, S->k);
        free(wkb);
        free(size);
        free(keys);
        if (rc != KZ_OK)
            goto done;
    }
    for (i = 0; i < m; i++)
        xs[i] = x[map[i]];

    kz_moran_options_init(&mo);
    mo.permutations = S->permutations;
    mo.seed = (unsigned long long)S->seed;
    mo.alpha = S->alpha;
    mo.fdr = S->fdr;
    if ((rc = kz_moran_global(&res, ctx, w, xs, &mo)) != KZ_OK ||
        (rc = kz_moran_local(&lisa, ctx, w, xs, &mo)) != KZ_OK)
        goto done;

    /* Global results. */
    if (S->weights_kind <= KZ_WEIGHTS_ROOK)
        snprintf(note, sizeof(note),
                 "%s weights (snapping tolerance %.6g), style %s, %d permutations, seed %d; "
                 "%zu areas without values left out",
                 S->weights ? S->weights : "queen", tol, S->style == KZ_STYLE_W ? "W" : "B",
                 S->permutations, S->seed, left_out);
    else
        snprintf(note, sizeof(note),
                 "%s weights, style %s, %d permutations, seed %d; %zu areas without values "
                 "left out",
                 S->weights, S->style == KZ_STYLE_W ? "W" : "B", S->permutations, S->seed,
                 left_out);
    sc.db = db;
    sc.ctx = ctx;
    sc.analysis = "moran";
    sc.level = S->level;
    sc.period = period;
    sc.subject = ind;
    sc.note = note;
    if ((rc = put(&sc, "I", res.i)) != KZ_OK || (rc = put(&sc, "E_I", res.expected)) != KZ_OK ||
        (rc = put(&sc, "var_norm", res.var_norm)) != KZ_OK ||
        (rc = put(&sc, "z_norm", res.z_norm)) != KZ_OK ||
        (rc = put(&sc, "p_norm", res.p_norm)) != KZ_OK ||
        (rc = put(&sc, "var_rand", res.var_rand)) != KZ_OK ||
        (rc = put(&sc, "z_rand", res.z_rand)) != KZ_OK ||
        (rc = put(&sc, "p_rand", res.p_rand)) != KZ_OK ||
        (rc = put(&sc, "p_perm", res.p_sim)) != KZ_OK ||
        (rc = put(&sc, "z_perm", res.z_sim)) != KZ_OK ||
        (rc = put(&sc, "n", (double)res.n)) != KZ_OK ||
        (rc = put(&sc, "islands", (double)res.n_islands)) != KZ_OK ||
        (S->weights_kind <= KZ_WEIGHTS_ROOK && (rc = put(&sc, "tolerance", tol)) != KZ_OK))
        goto done;

    /* LISA per area: null for the areas left out. The p-value is the one
     * the class uses: the permutation p with permutations, else the
     * normal approximation. */
    for (i = 0; i < n; i++)
        li[i] = lp[i] = lc[i] = NAN;
    for (i = 0; i < m; i++) {
        li[map[i]] = lisa->i[i];
        lp[map[i]] = lisa->p_sim != NULL ? lisa->p_sim[i] : lisa->p_norm[i];
        lc[map[i]] = (double)lisa->cluster[i];
    }
    snprintf(name, sizeof(name), "lisa_%s_i", ind);
    snprintf(label, sizeof(label), "LISA %s: lokales Moran's I", lab);
    if ((rc = kz_store__put_derived(db, ctx, name, label, NULL, "neutral", "local_moran",
                                    "local Moran's I_i = z_i / m2 * sum_j w_ij z_j")) != KZ_OK ||
        (rc = kz_store__put_values(db, ctx, S->level, period, name, g->keys, n, li)) != KZ_OK)
        goto done;
    snprintf(name, sizeof(name), "lisa_%s_p", ind);
    snprintf(label, sizeof(label), "LISA %s: p-Wert", lab);
    if ((rc = kz_store__put_derived(
             db, ctx, name, label, NULL, "neutral", "p_value",
             S->permutations > 0 ? "conditional permutation pseudo p-value (folded)"
                                 : "two-sided p-value of the normal approximation")) != KZ_OK ||
        (rc = kz_store__put_values(db, ctx, S->level, period, name, g->keys, n, lp)) != KZ_OK)
        goto done;
    snprintf(name, sizeof(name), "lisa_%s_class", ind);
    snprintf(label, sizeof(label), "LISA %s: Cluster", lab);
    if ((rc = kz_store__put_derived(db, ctx, name, label, NULL, "neutral", "class",
                                    "LISA cluster: 0 not significant, 1 HH, 2 LH, 3 LL, 4 HL")) !=
            KZ_OK ||
        (rc = kz_store__put_values(db, ctx, S->level, period, name, g->keys, n, lc)) != KZ_OK)
        goto done;
    kz_ctx__log(ctx, KZ_LOG_INFO,
                "moran %s on %s (%s): I = %.4f, z = %.2f, p_perm = %.4g, %zu areas (%zu left "
                "out); LISA HH %zu, LL %zu, LH %zu, HL %zu, ns %zu",
                ind, S->level, period, res.i, res.z_rand, res.p_sim, res.n, left_out,
                lisa->counts[KZ_LISA_HH], lisa->counts[KZ_LISA_LL], lisa->counts[KZ_LISA_LH],
                lisa->counts[KZ_LISA_HL], lisa->counts[KZ_LISA_NS]);
done:
    if (rc != KZ_OK && rc != KZ_E_NOMEM)
        kz_ctx__error_prefix(ctx, "spatial[%zu]: %s on level %s", item, ind, S->level);
    kz_moran_local_free(lisa);
    kz_weights_free(w);
    free(x);
    free(xs);
    free(li);
    free(lp);
    free(lc);
    free(keep);
    free(map);
    return rc;
}

static int spatial_item(kz_db *db, kz_ctx *ctx, const kz_spatial_def *S, size_t item,
                        const kz_store_indicator *cat, size_t n_cat)
{
    kz_store_geoms g;
    kz_weights *full = NULL;
    kz_weights_options wo;
    double tol = 0;
    size_t j;
    int rc;

    if ((rc = kz_store__level_geoms(db, ctx, S->level, &g)) != KZ_OK)
        return rc;
    if (g.n == 0) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "spatial[%zu]: level %s has no areas", item, S->level);
        goto done;
    }
    /* The weights of all areas, once per item; raw (B) so that subsets
     * keep their raw weights. k nearest neighbours depend on which areas
     * take part and are built per indicator instead. */
    if (S->weights_kind != KZ_WEIGHTS_KNN) {
        kz_weights_options_init(&wo);
        wo.kind = S->weights_kind;
        wo.tol = S->tolerance < 0 ? KZ_WEIGHTS_TOL_AUTO : S->tolerance;
        wo.distance = S->distance;
        wo.style = KZ_STYLE_B;
        if ((rc = kz_weights_from_wkb(&full, ctx, (const unsigned char *const *)g.wkb, g.wkb_size,
                                      g.n, (const char *const *)g.keys, &wo)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "spatial[%zu]: weights of level %s", item, S->level);
            goto done;
        }
        tol = kz_weights_tolerance(full);
        kz_ctx__log(ctx, KZ_LOG_INFO, "spatial[%zu]: %s weights of %s: %zu areas, %zu links", item,
                    S->weights ? S->weights : "queen", S->level, g.n, kz_weights_links(full));
    }
    for (j = 0; j < S->n_indicators && rc == KZ_OK; j++)
        rc = spatial_indicator(db, ctx, S, item, S->indicators[j], &g, full, tol, cat, n_cat);
done:
    kz_weights_free(full);
    kz_store__free_geoms(&g);
    return rc;
}

static int correlation_item(kz_db *db, kz_ctx *ctx, const kz_correlation_def *C, size_t item)
{
    static const struct {
        int bit, method;
        const char *analysis;
    } methods[] = {{KZ_CORRELATION_PEARSON, KZ_CORR_PEARSON, "correlation:pearson"},
                   {KZ_CORRELATION_SPEARMAN, KZ_CORR_SPEARMAN, "correlation:spearman"}};
    kz_level_keys keys = {NULL, NULL, 0};
    size_t k = C->n_indicators, n, v, u, t, *nn = NULL;
    double *values = NULL, *r = NULL, *pv = NULL;
    const double **cols = NULL;
    char period[11], subject[2 * NAME_LEN + 2];
    stat_ctx sc;
    int rc;

    if ((rc = pick_period(period, db, ctx, C->level, C->period, C->indicators, k)) != KZ_OK)
        return rc;
    if (period[0] == '\0')
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "correlations[%zu]: no period in which all indicators have values "
                             "on level %s; set period",
                             item, C->level);
    if ((rc = kz_store__level_keys(db, ctx, C->level, 0, &keys)) != KZ_OK)
        return rc;
    n = keys.n;
    values = malloc((n ? n : 1) * k * sizeof(double));
    cols = malloc(k * sizeof(*cols));
    r = malloc(k * k * sizeof(double));
    pv = malloc(k * k * sizeof(double));
    nn = malloc(k * k * sizeof(size_t));
    if (!values || !cols || !r || !pv || !nn) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (v = 0; v < k; v++) {
        if ((rc = kz_store__indicator_values(db, ctx, C->level, period, C->indicators[v], keys.keys,
                                             n, values + v * n)) != KZ_OK)
            goto done;
        cols[v] = values + v * n;
    }
    sc.db = db;
    sc.ctx = ctx;
    sc.level = C->level;
    sc.period = period;
    sc.note = "pairwise complete areas; p two-sided from t with n - 2 degrees of freedom";
    sc.subject = subject;
    for (t = 0; t < 2; t++) {
        if (!(C->methods & methods[t].bit))
            continue;
        if ((rc = kz_correlate_matrix(r, pv, nn, ctx, cols, k, n, methods[t].method)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "correlations[%zu] on level %s", item, C->level);
            goto done;
        }
        sc.analysis = methods[t].analysis;
        /* Each pair once, in list order: subject "A|B" with A before B. */
        for (v = 0; v < k; v++)
            for (u = v + 1; u < k; u++) {
                snprintf(subject, sizeof(subject), "%s|%s", C->indicators[v], C->indicators[u]);
                if ((rc = put(&sc, "r", r[v * k + u])) != KZ_OK ||
                    (rc = put(&sc, "n", (double)nn[v * k + u])) != KZ_OK ||
                    (rc = put(&sc, "p", pv[v * k + u])) != KZ_OK)
                    goto done;
            }
    }
    kz_ctx__log(ctx, KZ_LOG_INFO, "correlations[%zu]: %zu indicators on %s (%s)", item, k, C->level,
                period);
done:
    free(values);
    free(cols);
    free(r);
    free(pv);
    free(nn);
    kz_store__free_keys(&keys);
    return rc;
}

int kz_compute__spatial(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    kz_store_indicator *cat = NULL;
    size_t n_cat = 0, i;
    int rc;
    if ((rc = kz_store__clear_statistics(db, ctx, "moran")) != KZ_OK ||
        (rc = kz_store__clear_statistics(db, ctx, "correlation:pearson")) != KZ_OK ||
        (rc = kz_store__clear_statistics(db, ctx, "correlation:spearman")) != KZ_OK)
        return rc;
    if (p->n_spatial == 0 && p->n_correlations == 0)
        return KZ_OK;
    if ((rc = kz_store__catalogue(db, ctx, &cat, &n_cat)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_spatial && rc == KZ_OK; i++)
        rc = spatial_item(db, ctx, &p->spatial[i], i, cat, n_cat);
    for (i = 0; i < p->n_correlations && rc == KZ_OK; i++)
        rc = correlation_item(db, ctx, &p->correlations[i], i);
    kz_store__free_catalogue(cat, n_cat);
    return rc;
}
