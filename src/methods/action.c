/*
 * Needs for action (see include/kiez/action.h for the contract).
 *
 * The rules follow the practice of German municipal monitoring reports
 * (e.g. Berlin's Monitoring Soziale Stadtentwicklung and the KGSt
 * "Sozialraummonitoring" guidance): an area's value is compared with the
 * city value; a deviation "towards worse" beyond a first threshold is
 * yellow, beyond a second one red; thresholds are given in the unit of
 * the indicator or in standard deviations of the indicator over the areas
 * of the level (population sd, as for the MSS z-scores).
 */
#include "kiez/action.h"
#include "kiez/project.h" /* enum kz_polarity */

#include "ctx_internal.h"

#include <math.h>
#include <stdlib.h>

double kz_action_worse(double x, double ref, int polarity)
{
    if (!isfinite(x) || !isfinite(ref))
        return NAN;
    if (polarity == KZ_POLARITY_NEGATIVE)
        return x - ref;
    if (polarity == KZ_POLARITY_POSITIVE)
        return ref - x;
    return fabs(x - ref);
}

double kz_action_sd(const double *x, size_t n)
{
    double mean = 0, ss = 0;
    size_t i, m = 0;
    for (i = 0; i < n; i++)
        if (isfinite(x[i])) {
            mean += x[i];
            m++;
        }
    if (m == 0)
        return NAN;
    mean /= (double)m;
    /* Two passes: Σ (x − x̄)² without the cancellation of Σx² − m x̄². */
    for (i = 0; i < n; i++)
        if (isfinite(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)m);
}

void kz_action_deviation(double *abs_out, double *rel_out, const double *x, const double *ref,
                         size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        int ok = isfinite(x[i]) && isfinite(ref[i]);
        if (abs_out != NULL)
            abs_out[i] = ok ? x[i] - ref[i] : NAN;
        if (rel_out != NULL)
            rel_out[i] = ok && ref[i] != 0 ? 100.0 * (x[i] - ref[i]) / ref[i] : NAN;
    }
}

static int polarity_ok(int polarity)
{
    return polarity == KZ_POLARITY_NEUTRAL || polarity == KZ_POLARITY_POSITIVE ||
           polarity == KZ_POLARITY_NEGATIVE;
}

int kz_action_lights(int *out, kz_ctx *ctx, const double *x, size_t n, double ref, double scale,
                     int polarity, const double thresholds[2])
{
    size_t i;
    if (!polarity_ok(polarity))
        return kz_ctx__error(ctx, KZ_E_USAGE, "traffic light: unknown polarity %d", polarity);
    if (!(thresholds[0] >= 0) || !(thresholds[1] >= thresholds[0]) || !isfinite(thresholds[1]))
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "traffic light: thresholds must be two numbers 0 <= yellow <= red, "
                             "got %g and %g",
                             thresholds[0], thresholds[1]);
    if (!(scale > 0) || !isfinite(scale))
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "traffic light: the scale (sd of the level) is %g; thresholds in "
                             "sd need at least two different values",
                             scale);
    for (i = 0; i < n; i++) {
        double w = kz_action_worse(x[i], ref, polarity) / scale;
        if (isnan(w))
            out[i] = KZ_LIGHT_NONE;
        else if (w <= thresholds[0])
            out[i] = KZ_LIGHT_GREEN;
        else if (w <= thresholds[1])
            out[i] = KZ_LIGHT_YELLOW;
        else
            out[i] = KZ_LIGHT_RED;
    }
    return KZ_OK;
}

/* Sort keys: need (larger = more in need), then index for a stable order. */
typedef struct need {
    double need;
    size_t i;
} need;

static int by_need(const void *a, const void *b)
{
    const need *x = a, *y = b;
    if (x->need != y->need)
        return x->need > y->need ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int kz_action_rank(double *out, kz_ctx *ctx, const double *x, size_t n, double ref, int polarity,
                   int ties)
{
    need *v;
    size_t i, m = 0, k;
    if (!polarity_ok(polarity))
        return kz_ctx__error(ctx, KZ_E_USAGE, "ranking: unknown polarity %d", polarity);
    if (ties != KZ_RANK_MIN && ties != KZ_RANK_AVERAGE)
        return kz_ctx__error(ctx, KZ_E_USAGE, "ranking: unknown tie rule %d", ties);
    if ((v = malloc((n ? n : 1) * sizeof(*v))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        out[i] = NAN;
        if (!isfinite(x[i]))
            continue;
        /* The need grows with "worse": the value itself for negative
         * polarity, its negative for positive, the distance from ref for
         * neutral (which needs a reference). */
        v[m].need = polarity == KZ_POLARITY_NEGATIVE   ? x[i]
                    : polarity == KZ_POLARITY_POSITIVE ? -x[i]
                                                       : fabs(x[i] - ref);
        if (isnan(v[m].need))
            continue;
        v[m++].i = i;
    }
    qsort(v, m, sizeof(*v), by_need);
    for (i = 0; i < m; i = k) {
        /* Positions i..k-1 (0-based) hold one tie group. */
        for (k = i + 1; k < m && v[k].need == v[i].need; k++)
            ;
        double r = ties == KZ_RANK_MIN ? (double)(i + 1) : 0.5 * (double)(i + 1 + k);
        size_t j;
        for (j = i; j < k; j++)
            out[v[j].i] = r;
    }
    free(v);
    return KZ_OK;
}

int kz_action_comparable(size_t *out_idx, double *out_dist, size_t *n_out, kz_ctx *ctx,
                         const double *x, size_t n, size_t m, size_t ref, const double *scale,
                         double tolerance)
{
    need *v;
    size_t i, j, c = 0;
    *n_out = 0;
    if (ref >= n || m == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "comparable areas: need a reference area and at least one "
                             "indicator");
    if (!(tolerance >= 0) || !isfinite(tolerance))
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "comparable areas: the tolerance must be a number >= 0, got %g",
                             tolerance);
    for (j = 0; j < m; j++) {
        if (scale != NULL && (!(scale[j] > 0) || !isfinite(scale[j])))
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "comparable areas: the scale of indicator %zu is %g; a "
                                 "tolerance in sd needs at least two different values",
                                 j + 1, scale[j]);
        if (!isfinite(x[j * n + ref]))
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "comparable areas: the reference area has no value of "
                                 "indicator %zu",
                                 j + 1);
    }
    if ((v = malloc((n ? n : 1) * sizeof(*v))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        double dist = 0;
        int ok = i != ref;
        for (j = 0; j < m && ok; j++) {
            double d = fabs(x[j * n + i] - x[j * n + ref]) / (scale ? scale[j] : 1.0);
            /* NaN (a missing value) fails the comparison too. */
            if (!(d <= tolerance))
                ok = 0;
            else if (d > dist)
                dist = d;
        }
        if (ok) {
            v[c].need = -dist; /* by_need sorts descending: nearest first */
            v[c++].i = i;
        }
    }
    qsort(v, c, sizeof(*v), by_need);
    for (i = 0; i < c; i++) {
        out_idx[i] = v[i].i;
        if (out_dist != NULL)
            out_dist[i] = -v[i].need;
    }
    *n_out = c;
    free(v);
    return KZ_OK;
}
