/*
 * Derived indicators computed after the ratio indicators: composite
 * indices (Berlin MSS style) and trend columns. The methods live in
 * src/methods (standardise.c, trend.c); this file feeds them from the
 * store and writes their results back as catalogue entries, so exports
 * carry them like every other indicator.
 */
#include "compute_action.h"
#include "compute_spatial.h"
#include "ctx_internal.h"
#include "kiez/compute.h"
#include "kiez/standardise.h"
#include "kiez/trend.h"
#include "store.h"
#include "store_coverage.h"
#include "store_effect.h"
#include "strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 128

static const kz_indicator_def *find_indicator(const kz_project *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->n_indicators; i++)
        if (strcmp(p->indicators[i].name, name) == 0)
            return &p->indicators[i];
    return NULL;
}

/*
 * One composite index. Areas out of scope: below min_population, listed as
 * outliers, or missing any input; they get no z-score, index or class
 * (Berlin MSS 2021: areas under 300 inhabitants are not evaluated).
 */
static int compute_index(kz_db *db, kz_ctx *ctx, const kz_project *p, const kz_index_def *X)
{
    kz_level_keys keys = {NULL, NULL, 0};
    double *x = NULL, *z = NULL, *sum = NULL, *index = NULL, *cls_d = NULL, *cuts = NULL;
    int *cls = NULL;
    unsigned char *include = NULL;
    kz_index_input *inputs = NULL;
    kz_zscore_options zo;
    char period[11], name[NAME_MAX_LEN], label[NAME_MAX_LEN + 64];
    size_t i, j, n, n_in = 0;
    int rc;

    if ((rc = kz_store__level_keys(db, ctx, X->level, 0, &keys)) != KZ_OK)
        return rc;
    n = keys.n;
    if (X->period != NULL)
        rc = kz_period_parse(period, X->period);
    else
        rc = kz_store__latest_period_of(db, ctx, X->level, X->inputs[0], period);
    if (rc != KZ_OK || period[0] == '\0') {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "index %s: no values of %s on level %s", X->name,
                           X->inputs[0], X->level);
        goto done;
    }
    x = malloc((n + 1) * sizeof(double));
    z = malloc((n + 1) * X->n_inputs * sizeof(double));
    sum = malloc((n + 1) * sizeof(double));
    index = malloc((n + 1) * sizeof(double));
    cls_d = malloc((n + 1) * sizeof(double));
    cls = malloc((n + 1) * sizeof(int));
    include = malloc(n + 1);
    inputs = calloc(X->n_inputs, sizeof(*inputs));
    cuts = malloc((X->n_cuts + 1) * sizeof(double));
    if (!x || !z || !sum || !index || !cls_d || !cls || !include || !inputs || !cuts) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }

    /* Scope: areas with every input, enough population, not an outlier. */
    memset(include, 1, n);
    for (j = 0; j < X->n_inputs; j++) {
        if ((rc = kz_store__indicator_values(db, ctx, X->level, period, X->inputs[j], keys.keys, n,
                                             z + j * n)) != KZ_OK)
            goto done;
        for (i = 0; i < n; i++)
            if (!isfinite(z[j * n + i]))
                include[i] = 0;
    }
    if (X->population != NULL) {
        if ((rc = kz_store__indicator_values(db, ctx, X->level, period, X->population, keys.keys, n,
                                             x)) != KZ_OK)
            goto done;
        for (i = 0; i < n; i++)
            if (!(x[i] >= X->min_population))
                include[i] = 0;
    }
    for (j = 0; j < X->n_outliers; j++) {
        long at = kz_strmap__get(keys.map, X->outliers[j]);
        if (at < 0)
            kz_ctx__log(ctx, KZ_LOG_WARN, "index %s: outlier \"%s\" is no area of level %s",
                        X->name, X->outliers[j], X->level);
        else
            include[at] = 0;
    }
    for (i = 0; i < n; i++)
        n_in += include[i];

    memset(&zo, 0, sizeof(zo));
    zo.sample_sd = X->sample_sd;
    zo.include = include;
    for (j = 0; j < X->n_inputs; j++) {
        const kz_indicator_def *def = find_indicator(p, X->inputs[j]);
        memcpy(x, z + j * n, n * sizeof(double));
        if ((rc = kz_zscore(z + j * n, NULL, ctx, x, n, &zo)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "index %s, input %s", X->name, X->inputs[j]);
            goto done;
        }
        inputs[j].z = z + j * n;
        /* The index grows with disadvantage: inputs where higher is better
         * enter with a minus sign. */
        inputs[j].polarity = def && def->polarity == KZ_POLARITY_POSITIVE ? -1 : 1;
        inputs[j].weight = 1.0;
        snprintf(name, sizeof(name), "z_%s", X->inputs[j]);
        snprintf(label, sizeof(label), "z-Wert %s", def && def->label ? def->label : X->inputs[j]);
        if ((rc = kz_store__put_derived(db, ctx, name, label, "z", "negative", "zscore",
                                        "z = (x - mean) / sd over the areas in scope")) != KZ_OK ||
            (rc = kz_store__put_values(db, ctx, X->level, period, name, keys.keys, n, z + j * n)) !=
                KZ_OK)
            goto done;
    }
    if ((rc = kz_index_composite(sum, index, NULL, ctx, inputs, X->n_inputs, n, &zo)) != KZ_OK) {
        kz_ctx__error_prefix(ctx, "index %s", X->name);
        goto done;
    }
    snprintf(name, sizeof(name), "%s_sum", X->name);
    snprintf(label, sizeof(label), "%s: Summe der z-Werte", X->label ? X->label : X->name);
    if ((rc = kz_store__put_derived(db, ctx, name, label, "z", "negative", "sum",
                                    "sum of the inputs' z-scores")) != KZ_OK ||
        (rc = kz_store__put_values(db, ctx, X->level, period, name, keys.keys, n, sum)) != KZ_OK)
        goto done;
    snprintf(name, sizeof(name), "%s_index", X->name);
    snprintf(label, sizeof(label), "%s (Index)", X->label ? X->label : X->name);
    if ((rc = kz_store__put_derived(db, ctx, name, label, "z", "negative", "index",
                                    "the sums re-standardised (z-score of the sums)")) != KZ_OK ||
        (rc = kz_store__put_values(db, ctx, X->level, period, name, keys.keys, n, index)) != KZ_OK)
        goto done;
    if (X->n_cuts > 0) {
        for (j = 0; j < X->n_cuts; j++)
            cuts[j] = strtod(X->cuts[j], NULL);
        if ((rc = kz_cut_classes(cls, NULL, ctx, index, n, cuts, X->n_cuts)) != KZ_OK)
            goto done;
        for (i = 0; i < n; i++)
            cls_d[i] = cls[i] > 0 ? (double)cls[i] : NAN;
        snprintf(name, sizeof(name), "%s_class", X->name);
        snprintf(label, sizeof(label), "%s (Klasse)", X->label ? X->label : X->name);
        if ((rc = kz_store__put_derived(db, ctx, name, label, NULL, "negative", "class",
                                        "class by cut points, bounds inclusive in the middle "
                                        "class")) != KZ_OK ||
            (rc = kz_store__put_values(db, ctx, X->level, period, name, keys.keys, n, cls_d)) !=
                KZ_OK)
            goto done;
        if (X->n_class_labels > 0) {
            /* "1=hoch;2=mittel;..." for categorical styles and legends. */
            char cats[1024];
            size_t used = 0;
            for (j = 0; j < X->n_class_labels && used < sizeof(cats); j++) {
                int w = snprintf(cats + used, sizeof(cats) - used, "%s%zu=%s", j ? ";" : "", j + 1,
                                 X->class_labels[j]);
                if (w < 0)
                    break;
                used += (size_t)w;
            }
            if ((rc = kz_store__set_categories(db, ctx, name, cats)) != KZ_OK)
                goto done;
        }
    }
    kz_ctx__log(ctx, KZ_LOG_INFO, "index %s: %zu of %zu areas of %s in scope, period %s", X->name,
                n_in, n, X->level, period);
done:
    free(x);
    free(z);
    free(sum);
    free(index);
    free(cls_d);
    free(cls);
    free(include);
    free(inputs);
    free(cuts);
    kz_store__free_keys(&keys);
    return rc;
}

/* Collects one area's series at a time and writes its trend measures. */
typedef struct trend_state {
    kz_ctx *ctx;
    char key[256];
    double *t, *v;
    int *flags;
    size_t n, cap;
    char **keys;
    double *chg, *slope;
    size_t n_areas, cap_areas;
} trend_state;

static int flush_area(trend_state *s)
{
    kz_trend tr;
    int rc;
    if (s->key[0] == '\0')
        return KZ_OK;
    if (s->n_areas == s->cap_areas) {
        size_t cap = s->cap_areas ? 2 * s->cap_areas : 256;
        char **k = realloc(s->keys, cap * sizeof(char *));
        double *c, *sl;
        if (k == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->keys = k;
        c = realloc(s->chg, cap * sizeof(double));
        if (c == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->chg = c;
        sl = realloc(s->slope, cap * sizeof(double));
        if (sl == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->slope = sl;
        s->cap_areas = cap;
    }
    rc = kz_trend_compute(&tr, s->ctx, s->t, s->v, s->flags, s->n);
    if ((s->keys[s->n_areas] = malloc(strlen(s->key) + 1)) == NULL)
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    memcpy(s->keys[s->n_areas], s->key, strlen(s->key) + 1);
    s->chg[s->n_areas] = rc == KZ_OK && tr.n_used >= 2 ? tr.abs_change : NAN;
    s->slope[s->n_areas] = rc == KZ_OK && tr.n_used >= 2 ? tr.slope : NAN;
    s->n_areas++;
    s->n = 0;
    return KZ_OK;
}

static int take_point(const char *key, const char *period, double value, int flag, void *payload)
{
    trend_state *s = payload;
    int rc;
    if (strcmp(key, s->key) != 0) {
        if ((rc = flush_area(s)) != KZ_OK)
            return rc;
        snprintf(s->key, sizeof(s->key), "%s", key);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        double *t = realloc(s->t, cap * sizeof(double)), *v;
        int *f;
        if (t == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->t = t;
        if ((v = realloc(s->v, cap * sizeof(double))) == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->v = v;
        if ((f = realloc(s->flags, cap * sizeof(int))) == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->flags = f;
        s->cap = cap;
    }
    if ((rc = kz_date_to_years(&s->t[s->n], s->ctx, period)) != KZ_OK)
        return rc;
    s->v[s->n] = value;
    s->flags[s->n] = flag == 1 || flag == 2;
    s->n++;
    return KZ_OK;
}

static void trend_state_reset(trend_state *s)
{
    size_t i;
    for (i = 0; i < s->n_areas; i++)
        free(s->keys[i]);
    s->n_areas = 0;
    s->n = 0;
    s->key[0] = '\0';
}

/* Trend columns of one indicator on every level, stored at period `to`. */
static int compute_trend(kz_db *db, kz_ctx *ctx, const kz_project *p, const kz_trend_def *R,
                         const char *indicator, char **levels, size_t n_levels)
{
    const kz_indicator_def *def = find_indicator(p, indicator);
    trend_state s;
    char from[11], to[11], chg[NAME_MAX_LEN], slope[NAME_MAX_LEN], label[NAME_MAX_LEN + 96];
    const char *unit = def && def->unit ? def->unit : NULL;
    int pct = unit && strcmp(unit, "%") == 0;
    size_t l;
    int rc = KZ_OK;

    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    if (kz_period_parse(from, R->from) != KZ_OK || kz_period_parse(to, R->to) != KZ_OK)
        return kz_ctx__error(ctx, KZ_E_USAGE, "trends: bad period %s or %s", R->from, R->to);
    snprintf(chg, sizeof(chg), "%s_chg", indicator);
    snprintf(slope, sizeof(slope), "%s_slope", indicator);
    snprintf(label, sizeof(label), "%s: Veränderung %.4s–%.4s",
             def && def->label ? def->label : indicator, from, to);
    if ((rc = kz_store__put_derived(db, ctx, chg, label, pct ? "Prozentpunkte" : unit,
                                    def && def->polarity == KZ_POLARITY_POSITIVE ? "positive"
                                                                                 : "negative",
                                    "change", "last - first value in the span")) != KZ_OK)
        return rc;
    snprintf(label, sizeof(label), "%s: Trend pro Jahr %.4s–%.4s",
             def && def->label ? def->label : indicator, from, to);
    if ((rc = kz_store__put_derived(db, ctx, slope, label, pct ? "Prozentpunkte/Jahr" : unit,
                                    def && def->polarity == KZ_POLARITY_POSITIVE ? "positive"
                                                                                 : "negative",
                                    "slope", "OLS slope of the values on time, per year")) != KZ_OK)
        return rc;
    for (l = 0; l < n_levels && rc == KZ_OK; l++) {
        trend_state_reset(&s);
        if ((rc = kz_store__each_point(db, ctx, levels[l], indicator, from, to, take_point, &s)) !=
                KZ_OK ||
            (rc = flush_area(&s)) != KZ_OK)
            break;
        if ((rc = kz_store__put_values(db, ctx, levels[l], to, chg, s.keys, s.n_areas, s.chg)) !=
                KZ_OK ||
            (rc = kz_store__put_values(db, ctx, levels[l], to, slope, s.keys, s.n_areas,
                                       s.slope)) != KZ_OK)
            break;
    }
    trend_state_reset(&s);
    free(s.keys);
    free(s.chg);
    free(s.slope);
    free(s.t);
    free(s.v);
    free(s.flags);
    return rc;
}

int kz_compute_derived(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    char **levels = NULL;
    size_t n_levels = 0, i, j;
    int rc;
    if ((rc = kz_store__clear_derived(db, ctx)) != KZ_OK)
        return rc;
    /* Disclosure control first: what follows sees published values only. */
    if ((rc = kz_compute__disclosure(db, ctx, p, 0)) != KZ_OK) /* compute_disclosure.c */
        return rc;
    /* Coverage first, so indices and spatial statistics may use its columns. */
    if ((rc = kz_compute__coverage(db, ctx, p)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_indices; i++)
        if ((rc = compute_index(db, ctx, p, &p->indices[i])) != KZ_OK)
            return rc;
    if ((rc = kz_compute__effects(db, ctx, p)) != KZ_OK) /* compute_effect.c */
        return rc;
    if (p->n_trends > 0 && (rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_trends && rc == KZ_OK; i++)
        for (j = 0; j < p->trends[i].n_indicators && rc == KZ_OK; j++)
            rc = compute_trend(db, ctx, p, &p->trends[i], p->trends[i].indicators[j], levels,
                               n_levels);
    kz_store__free_strings(levels, n_levels);
    /* Spatial statistics and correlations last: indices and trends may be
     * their inputs (compute_spatial.c). */
    if (rc == KZ_OK)
        rc = kz_compute__spatial(db, ctx, p);
    /* Needs for action (compute_action.c), then withhold the derived values
     * of areas below the minimum population (compute_disclosure.c). */
    if (rc == KZ_OK)
        rc = kz_compute__action(db, ctx, p);
    return rc == KZ_OK ? kz_compute__disclosure(db, ctx, p, 1) : rc;
}
