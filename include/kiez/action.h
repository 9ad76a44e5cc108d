/*
 * Needs for action: how far an area's indicator value lies from a
 * reference (the city or the parent area), traffic lights by thresholds
 * with polarity, rankings by need, and "comparable areas". Pure
 * computation on arrays; NaN means missing (or suppressed) and never
 * takes part.
 *
 * Polarity (as in project.h, enum kz_polarity): KZ_POLARITY_NEGATIVE =
 * higher is worse (e.g. unemployment), KZ_POLARITY_POSITIVE = higher is
 * better (e.g. Kita places per child), KZ_POLARITY_NEUTRAL = neither: a
 * deviation in either direction counts.
 */
#ifndef KIEZ_ACTION_H
#define KIEZ_ACTION_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Traffic-light classes (stored as numbers in <indicator>_light). */
enum kz_light {
    KZ_LIGHT_NONE = 0,   /* no value or no reference: no class (stored as NULL) */
    KZ_LIGHT_GREEN = 1,  /* not noticeably worse than the reference */
    KZ_LIGHT_YELLOW = 2, /* worse beyond the first threshold */
    KZ_LIGHT_RED = 3     /* worse beyond the second threshold */
};

/* How the thresholds of a traffic light are measured. */
enum kz_action_unit {
    KZ_ACTION_ABSOLUTE = 0, /* in the unit of the indicator (e.g. percentage points) */
    KZ_ACTION_SD = 1        /* in standard deviations of the indicator over the level */
};

/* How tied values are ranked. */
enum kz_rank_ties {
    KZ_RANK_MIN = 0,    /* competition ranking: 1, 2, 2, 4 */
    KZ_RANK_AVERAGE = 1 /* fractional ranking: 1, 2.5, 2.5, 4 */
};

/**
 * The deviation "towards worse" of x from ref:
 *   negative polarity: x − ref;  positive polarity: ref − x;
 *   neutral: |x − ref|.
 * NaN when x or ref is NaN.
 */
KZ_API double kz_action_worse(double x, double ref, int polarity);

/**
 * Population standard deviation sqrt(Σ (x − x̄)² / m) over the m finite
 * values of x[0..n); NaN when m == 0.
 */
KZ_API double kz_action_sd(const double *x, size_t n);

/**
 * Deviations of x[i] from ref[i]: absolute x − ref into abs_out[i] and
 * relative 100 (x − ref) / ref (in %) into rel_out[i] (NaN when ref is 0
 * or a value is NaN). Either output may be NULL. x, ref, and the outputs
 * have n entries.
 */
KZ_API void kz_action_deviation(double *abs_out, double *rel_out, const double *x,
                                const double *ref, size_t n);

/**
 * Traffic lights of x[0..n) against one reference value `ref`:
 *   w = kz_action_worse(x, ref, polarity) / scale,
 *   green (1) when w <= t[0], yellow (2) when t[0] < w <= t[1],
 *   red (3) when w > t[1]; KZ_LIGHT_NONE when x or ref is NaN.
 * scale is 1 for thresholds in the indicator's unit and the level's sd
 * (kz_action_sd) for thresholds in sd units. "Yellow beyond 0.5 sd worse
 * than the city" is t = {0.5, 1.0}: a value exactly 0.5 sd worse is green.
 * \param out n lights (enum kz_light).
 * \param thresholds two numbers, 0 <= t[0] <= t[1].
 * \return KZ_OK, or KZ_E_USAGE (thresholds not increasing or negative,
 *         scale not > 0, unknown polarity).
 */
KZ_API int kz_action_lights(int *out, kz_ctx *ctx, const double *x, size_t n, double ref,
                            double scale, int polarity, const double thresholds[2]);

/**
 * Rank the areas by need: rank 1 is the area most in need. Negative
 * polarity: the highest value first; positive: the lowest first; neutral:
 * the largest |x − ref| first (ref is used only for neutral indicators).
 * Ties share a rank by `ties` (enum kz_rank_ties). NaN values get a NaN
 * rank and are not counted.
 * \param out n ranks (as doubles, for fractional ranks).
 * \return KZ_OK, KZ_E_USAGE (bad polarity or ties), or KZ_E_NOMEM.
 */
KZ_API int kz_action_rank(double *out, kz_ctx *ctx, const double *x, size_t n, double ref,
                          int polarity, int ties);

/**
 * Comparable areas of a reference area: the areas i != ref whose values of
 * every one of m indicators lie within the tolerance of the reference's:
 *   |x[j][i] − x[j][ref]| <= tolerance · scale[j]   for every j < m,
 * all values finite. scale[j] is 1 for a tolerance in the indicators'
 * units, or the sd of indicator j over the level for a tolerance in sd
 * (scale NULL = all 1). Their distance is max_j |x[j][i] − x[j][ref]| /
 * scale[j] (in tolerance units: 0 = identical, <= tolerance).
 *
 * x is column-major: indicator j's value of area i is x[j * n + i].
 * \param out_idx receives at most n area indices, sorted by distance
 *        then index; caller provides n entries.
 * \param out_dist their distances (n entries), or NULL.
 * \param n_out receives the number of comparable areas.
 * \return KZ_OK, KZ_E_USAGE (ref >= n, m == 0, tolerance < 0 or not a
 *         number, a scale not > 0), KZ_E_INPUT (the reference has a
 *         missing value: nothing can be compared), or KZ_E_NOMEM.
 */
KZ_API int kz_action_comparable(size_t *out_idx, double *out_dist, size_t *n_out, kz_ctx *ctx,
                                const double *x, size_t n, size_t m, size_t ref,
                                const double *scale, double tolerance);

#ifdef __cplusplus
}
#endif
#endif
