/*
 * Needs for action in the pipeline (the methods: action.h): deviations
 * from the city and the parent area, traffic lights, rankings, stored as
 * derived indicators; comparable areas as statistics rows.
 *
 * The "city" of an area is its ancestor on the top level (rank 0 in table
 * level; normally the one area of the whole city). Values are read from
 * indicator_value after disclosure control, so withheld values take no
 * part (they get no deviation, light or rank).
 */
#include "compute_action.h"
#include "ctx_internal.h"
#include "kiez/action.h"
#include "kiez/table.h"
#include "store_disclosure.h"
#include "strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 128

/* Polarity and unit of an indicator or derived column, from the catalogue. */
typedef struct ind_info {
    int polarity; /* enum kz_polarity */
    char unit[64];
    char label[160];
} ind_info;

static int indicator_info(kz_db *db, kz_ctx *ctx, const char *name, ind_info *out)
{
    kz_store_indicator *cat = NULL;
    size_t n = 0, i;
    int rc, found = 0;
    memset(out, 0, sizeof(*out));
    if ((rc = kz_store__catalogue(db, ctx, &cat, &n)) != KZ_OK)
        return rc;
    for (i = 0; i < n; i++)
        if (strcmp(cat[i].name, name) == 0) {
            const char *pol = cat[i].polarity;
            found = 1;
            out->polarity = pol && strcmp(pol, "positive") == 0   ? KZ_POLARITY_POSITIVE
                            : pol && strcmp(pol, "negative") == 0 ? KZ_POLARITY_NEGATIVE
                                                                  : KZ_POLARITY_NEUTRAL;
            snprintf(out->unit, sizeof(out->unit), "%s", cat[i].unit ? cat[i].unit : "");
            snprintf(out->label, sizeof(out->label), "%s", cat[i].label ? cat[i].label : name);
        }
    kz_store__free_catalogue(cat, n);
    if (!found)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "action: \"%s\" is neither an indicator nor a column computed by "
                             "kiez; check the name",
                             name);
    return KZ_OK;
}

static const char *polarity_text(int polarity)
{
    return polarity == KZ_POLARITY_POSITIVE   ? "positive"
           : polarity == KZ_POLARITY_NEGATIVE ? "negative"
                                              : "neutral";
}

static int register_outputs(kz_db *db, kz_ctx *ctx, const char *ind, const ind_info *I,
                            const kz_action_def *A)
{
    char name[NAME_LEN], label[NAME_LEN + 200], desc[256];
    const char *pol = polarity_text(I->polarity);
    /* A difference of shares is in percentage points. */
    const char *dunit = strcmp(I->unit, "%") == 0 ? "Prozentpunkte" : I->unit[0] ? I->unit : NULL;
    int rc;

    snprintf(name, sizeof(name), "%s_dev_city", ind);
    snprintf(label, sizeof(label), "%s: Abweichung vom Stadtwert", I->label);
    if ((rc = kz_store__put_derived(db, ctx, name, label, dunit, pol, "deviation",
                                    "value - value of the top-level area (city)")) != KZ_OK)
        return rc;
    snprintf(name, sizeof(name), "%s_dev_parent", ind);
    snprintf(label, sizeof(label), "%s: Abweichung vom übergeordneten Gebiet", I->label);
    if ((rc = kz_store__put_derived(db, ctx, name, label, dunit, pol, "deviation",
                                    "value - value of the parent area")) != KZ_OK)
        return rc;
    snprintf(name, sizeof(name), "%s_dev_parent_pct", ind);
    snprintf(label, sizeof(label), "%s: Abweichung vom übergeordneten Gebiet in %%", I->label);
    if ((rc = kz_store__put_derived(db, ctx, name, label, "%", pol, "deviation",
                                    "100 (value - parent value) / parent value")) != KZ_OK)
        return rc;
    snprintf(name, sizeof(name), "%s_light", ind);
    snprintf(label, sizeof(label), "%s: Ampel (1 grün, 2 gelb, 3 rot)", I->label);
    snprintf(desc, sizeof(desc),
             "traffic light against the city value: worse by more than %s%s yellow, by more "
             "than %s%s red (polarity %s)",
             A->thresholds[0], A->unit == KZ_ACTION_SD ? " sd" : "", A->thresholds[1],
             A->unit == KZ_ACTION_SD ? " sd" : "", pol);
    if ((rc = kz_store__put_derived(db, ctx, name, label, "Ampel", "negative", "class", desc)) !=
        KZ_OK)
        return rc;
    snprintf(name, sizeof(name), "%s_rank", ind);
    snprintf(label, sizeof(label), "%s: Rang (1 = größter Handlungsbedarf)", I->label);
    return kz_store__put_derived(db, ctx, name, label, "Rang", "positive", "rank",
                                 "rank by need within the level, 1 = most in need; ties share "
                                 "the lowest rank (1, 2, 2, 4)");
}

static int put(kz_db *db, kz_ctx *ctx, const char *level, const char *period, const char *ind,
               const char *suffix, char *const *keys, size_t n, const double *v)
{
    char name[NAME_LEN];
    snprintf(name, sizeof(name), "%s%s", ind, suffix);
    return kz_store__put_values(db, ctx, level, period, name, keys, n, v);
}

/* Values of the parent areas and of the top-level ancestors of keys[0..n)
 * of `level` at `period`. */
static int reference_values(kz_db *db, kz_ctx *ctx, const char *level, char *const *keys, size_t n,
                            const char *indicator, const char *period, double *parent, double *city)
{
    char *cur_level = NULL, *up_level = NULL, **cur = NULL, **up = NULL;
    size_t i, step;
    int rc = KZ_OK;
    for (i = 0; i < n; i++)
        parent[i] = city[i] = NAN;
    /* Walk up one level at a time, carrying each area's ancestor key. */
    if ((cur = calloc(n ? n : 1, sizeof(char *))) == NULL ||
        (cur_level = malloc(strlen(level) + 1)) == NULL) {
        free(cur);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    memcpy(cur_level, level, strlen(level) + 1);
    for (i = 0; i < n; i++)
        if ((cur[i] = malloc(strlen(keys[i]) + 1)) != NULL)
            memcpy(cur[i], keys[i], strlen(keys[i]) + 1);
        else
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (step = 0; rc == KZ_OK && step < 64; step++) {
        if ((rc = kz_store__parents(db, ctx, cur_level, cur, n, &up_level, &up)) != KZ_OK)
            break;
        if (up_level == NULL) {
            /* cur_level is the top level: cur holds the city keys. */
            rc = kz_store__indicator_values(db, ctx, cur_level, period, indicator, cur, n, city);
            break;
        }
        if (step == 0 && (rc = kz_store__indicator_values(db, ctx, up_level, period, indicator, up,
                                                          n, parent)) != KZ_OK)
            break;
        kz_store__free_strings(cur, n);
        free(cur_level);
        cur = up;
        cur_level = up_level;
        up = NULL;
        up_level = NULL;
    }
    kz_store__free_strings(cur, n);
    kz_store__free_strings(up, n);
    free(cur_level);
    free(up_level);
    return rc;
}

static int action_level(kz_db *db, kz_ctx *ctx, const kz_action_def *A, const ind_info *I,
                        const char *level, int *done_any)
{
    kz_level_keys keys = {NULL, NULL, 0};
    char period[11];
    double *x = NULL, *par = NULL, *city = NULL, *dev = NULL, *rel = NULL, *out = NULL, *w = NULL;
    int *light = NULL;
    double t[2], sd, scale;
    size_t i, n;
    int rc;

    if ((rc = kz_store__level_keys(db, ctx, level, 0, &keys)) != KZ_OK)
        return rc;
    n = keys.n;
    if (A->period != NULL)
        rc = kz_period_parse(period, A->period);
    else
        rc = kz_store__latest_period_of(db, ctx, level, A->indicator, period);
    if (rc != KZ_OK || period[0] == '\0' || n == 0) {
        /* No published value on this level: nothing to compare. */
        kz_ctx__clear(ctx);
        rc = KZ_OK;
        goto done;
    }
    x = malloc((n + 1) * sizeof(double));
    par = malloc((n + 1) * sizeof(double));
    city = malloc((n + 1) * sizeof(double));
    dev = malloc((n + 1) * sizeof(double));
    rel = malloc((n + 1) * sizeof(double));
    out = malloc((n + 1) * sizeof(double));
    w = malloc((n + 1) * sizeof(double));
    light = malloc((n + 1) * sizeof(int));
    if (!x || !par || !city || !dev || !rel || !out || !w || !light) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = kz_store__indicator_values(db, ctx, level, period, A->indicator, keys.keys, n, x)) !=
            KZ_OK ||
        (rc = reference_values(db, ctx, level, keys.keys, n, A->indicator, period, par, city)) !=
            KZ_OK)
        goto done;
    *done_any = 1;

    kz_action_deviation(dev, NULL, x, city, n);
    if ((rc = put(db, ctx, level, period, A->indicator, "_dev_city", keys.keys, n, dev)) != KZ_OK)
        goto done;
    kz_action_deviation(dev, rel, x, par, n);
    if ((rc = put(db, ctx, level, period, A->indicator, "_dev_parent", keys.keys, n, dev)) !=
            KZ_OK ||
        (rc = put(db, ctx, level, period, A->indicator, "_dev_parent_pct", keys.keys, n, rel)) !=
            KZ_OK)
        goto done;

    /* Traffic lights against each area's city value. */
    t[0] = strtod(A->thresholds[0], NULL);
    t[1] = strtod(A->thresholds[1], NULL);
    sd = kz_action_sd(x, n);
    scale = A->unit == KZ_ACTION_SD ? sd : 1.0;
    if (A->unit == KZ_ACTION_SD && !(sd > 0)) {
        kz_ctx__log(ctx, KZ_LOG_WARN,
                    "action %s on %s: the values do not vary (sd %g); no traffic lights",
                    A->indicator, level, sd);
        for (i = 0; i < n; i++)
            out[i] = NAN;
    } else {
        for (i = 0; i < n; i++) {
            if ((rc = kz_action_lights(&light[i], ctx, &x[i], 1, city[i], scale, I->polarity, t)) !=
                KZ_OK)
                goto done;
            out[i] = light[i] == KZ_LIGHT_NONE ? NAN : (double)light[i];
        }
    }
    if ((rc = put(db, ctx, level, period, A->indicator, "_light", keys.keys, n, out)) != KZ_OK)
        goto done;

    /* Rank by need: by the value for polar indicators, by the distance from
     * the own city's value for neutral ones. */
    if (I->polarity == KZ_POLARITY_NEUTRAL) {
        for (i = 0; i < n; i++)
            w[i] = kz_action_worse(x[i], city[i], KZ_POLARITY_NEUTRAL);
        rc = kz_action_rank(out, ctx, w, n, NAN, KZ_POLARITY_NEGATIVE, KZ_RANK_MIN);
    } else {
        rc = kz_action_rank(out, ctx, x, n, NAN, I->polarity, KZ_RANK_MIN);
    }
    if (rc != KZ_OK ||
        (rc = put(db, ctx, level, period, A->indicator, "_rank", keys.keys, n, out)) != KZ_OK)
        goto done;

    /* What the lights were measured with: city value (of the first area
     * with one), sd of the level, thresholds in the indicator's unit. */
    for (i = 0; i < n && !isfinite(city[i]); i++)
        ;
    if ((rc = kz_store__put_statistic(db, ctx, "action", level, period, A->indicator, "city",
                                      i < n ? city[i] : NAN, NULL)) != KZ_OK ||
        (rc = kz_store__put_statistic(db, ctx, "action", level, period, A->indicator, "sd", sd,
                                      "population sd over the areas of the level")) != KZ_OK ||
        (rc = kz_store__put_statistic(db, ctx, "action", level, period, A->indicator,
                                      "yellow_beyond", t[0] * scale,
                                      "worse than the city value by more than this")) != KZ_OK ||
        (rc = kz_store__put_statistic(db, ctx, "action", level, period, A->indicator, "red_beyond",
                                      t[1] * scale,
                                      "worse than the city value by more than this")) != KZ_OK)
        goto done;
done:
    free(x);
    free(par);
    free(city);
    free(dev);
    free(rel);
    free(out);
    free(w);
    free(light);
    kz_store__free_keys(&keys);
    return rc;
}

static int compute_one(kz_db *db, kz_ctx *ctx, const kz_action_def *A)
{
    char **levels = NULL;
    size_t n_levels = 0, l;
    ind_info I;
    int rc, any = 0;
    if ((rc = indicator_info(db, ctx, A->indicator, &I)) != KZ_OK ||
        (rc = register_outputs(db, ctx, A->indicator, &I, A)) != KZ_OK)
        return rc;
    if (A->level != NULL) {
        if ((rc = action_level(db, ctx, A, &I, A->level, &any)) != KZ_OK)
            return rc;
        return any ? KZ_OK
                   : kz_ctx__error(ctx, KZ_E_INPUT, "action %s: no values on level %s",
                                   A->indicator, A->level);
    }
    if ((rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK)
        return rc;
    /* Every level but the top one (rank 0, first in the list). */
    for (l = 1; l < n_levels && rc == KZ_OK; l++)
        rc = action_level(db, ctx, A, &I, levels[l], &any);
    kz_store__free_strings(levels, n_levels);
    if (rc == KZ_OK && !any)
        return kz_ctx__error(ctx, KZ_E_INPUT, "action %s: no values on any level", A->indicator);
    return rc;
}

static int compute_comparable(kz_db *db, kz_ctx *ctx, const kz_comparable_def *C)
{
    kz_level_keys keys = {NULL, NULL, 0};
    char period[11], analysis[300], note[512];
    double *x = NULL, *scale = NULL, *dist = NULL;
    size_t *idx = NULL, n, m = C->n_indicators, i, j, o = 0, n_out;
    int rc;

    if ((rc = kz_store__level_keys(db, ctx, C->level, 0, &keys)) != KZ_OK)
        return rc;
    n = keys.n;
    if (C->period != NULL)
        rc = kz_period_parse(period, C->period);
    else
        rc = kz_store__latest_period_of(db, ctx, C->level, C->indicators[0], period);
    if (rc != KZ_OK || period[0] == '\0' || n == 0) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "comparable: no values of %s on level %s",
                           C->indicators[0], C->level);
        goto done;
    }
    x = malloc((n * m + 1) * sizeof(double));
    scale = malloc((m + 1) * sizeof(double));
    dist = malloc((n + 1) * sizeof(double));
    idx = malloc((n + 1) * sizeof(size_t));
    if (!x || !scale || !dist || !idx) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    note[0] = '\0';
    for (j = 0; j < m; j++) {
        int w;
        if ((rc = kz_store__indicator_values(db, ctx, C->level, period, C->indicators[j], keys.keys,
                                             n, x + j * n)) != KZ_OK)
            goto done;
        scale[j] = C->unit == KZ_ACTION_SD ? kz_action_sd(x + j * n, n) : 1.0;
        w = snprintf(note + o, sizeof(note) - o, "%s%s", j ? ", " : "indicators ",
                     C->indicators[j]);
        if (w > 0 && (size_t)w < sizeof(note) - o)
            o += (size_t)w;
    }
    snprintf(note + o, sizeof(note) - o,
             "; tolerance %g%s; value = max over the indicators of |difference|%s", C->tolerance,
             C->unit == KZ_ACTION_SD ? " sd" : "", C->unit == KZ_ACTION_SD ? " / sd" : "");
    for (i = 0; i < C->n_references; i++) {
        long at = kz_strmap__get(keys.map, C->references[i]);
        size_t k;
        if (at < 0) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "comparable: \"%s\" is no area of level %s",
                               C->references[i], C->level);
            goto done;
        }
        snprintf(analysis, sizeof(analysis), "comparable:%s", C->references[i]);
        if ((rc = kz_store__clear_statistics(db, ctx, analysis)) != KZ_OK)
            goto done;
        rc = kz_action_comparable(idx, dist, &n_out, ctx, x, n, m, (size_t)at, scale, C->tolerance);
        if (rc == KZ_E_INPUT) {
            /* The reference's value is missing or withheld. */
            kz_ctx__log(ctx, KZ_LOG_WARN, "comparable %s: %s", C->references[i],
                        kz_ctx_errmsg(ctx));
            kz_ctx__clear(ctx);
            rc = KZ_OK;
            continue;
        }
        if (rc != KZ_OK) {
            kz_ctx__error_prefix(ctx, "comparable %s", C->references[i]);
            goto done;
        }
        if ((rc = kz_store__put_statistic(db, ctx, analysis, C->level, period, C->references[i],
                                          "n_comparable", (double)n_out, note)) != KZ_OK)
            goto done;
        for (k = 0; k < n_out; k++)
            if ((rc = kz_store__put_statistic(db, ctx, analysis, C->level, period,
                                              keys.keys[idx[k]], "distance", dist[k], NULL)) !=
                KZ_OK)
                goto done;
        kz_ctx__log(ctx, KZ_LOG_INFO, "comparable %s on %s: %zu areas", C->references[i], C->level,
                    n_out);
    }
done:
    free(x);
    free(scale);
    free(dist);
    free(idx);
    kz_store__free_keys(&keys);
    return rc;
}

int kz_compute__action(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i;
    int rc;
    if (p->n_actions > 0 && (rc = kz_store__clear_statistics(db, ctx, "action")) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_actions; i++)
        if ((rc = compute_one(db, ctx, &p->actions[i])) != KZ_OK)
            return rc;
    for (i = 0; i < p->n_comparables; i++)
        if ((rc = compute_comparable(db, ctx, &p->comparables[i])) != KZ_OK)
            return rc;
    return KZ_OK;
}
