/*
 * Standardisation and composite indices in the style of Berlin's
 * "Monitoring Soziale Stadtentwicklung" (MSS): z-scores over the areas in
 * scope, polarity-signed and weighted sums of z-scores, re-standardised
 * into an index, classes by cut points, and the cross-classification of a
 * status and a dynamics index. Pure computation on arrays; the caller
 * allocates every output array (n long unless said otherwise).
 */
#ifndef KIEZ_STANDARDISE_H
#define KIEZ_STANDARDISE_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_zscore_options {
    int sample_sd;                /* 0: population sd (default), 1: sample sd */
    const double *weights;        /* n weights >= 0 (e.g. population); NULL = none */
    const unsigned char *include; /* n flags: 0 = left out of the statistics,
                                     z = NaN (under minimum population,
                                     outlier); NULL = all included */
} kz_zscore_options;

/* The statistics a z-score was computed with. */
typedef struct kz_zstats {
    size_t n;      /* areas in the statistics */
    size_t n_out;  /* areas left out: excluded, NaN value or NaN weight */
    double weight; /* sum of weights (n without weights) */
    double mean;
    double sd;
} kz_zstats;

/**
 * z-scores z_i = (x_i − mean) / sd over the areas in scope: those with
 * include[i] != 0 and a finite x_i (and a finite weight). Areas out of scope
 * get z = NaN.
 *
 * Unweighted: mean = Σx / n; population sd = sqrt(Σ(x − mean)² / n), sample
 * sd = sqrt(Σ(x − mean)² / (n − 1)).
 * Weighted (weights w_i, W = Σw): mean = Σ w x / W; population
 * sd = sqrt(Σ w (x − mean)² / W); sample sd treats the weights as
 * frequencies: sqrt(Σ w (x − mean)² / (W − 1)), which needs W > 1.
 *
 * \param out_z     n z-scores.
 * \param out_stats receives the statistics (may be NULL).
 * \return KZ_OK; KZ_E_INPUT when fewer than 2 areas are in scope, a weight
 *         is negative, or sd = 0 (the message says which).
 */
KZ_API int kz_zscore(double *out_z, kz_zstats *out_stats, kz_ctx *ctx, const double *x, size_t n,
                     const kz_zscore_options *opts);

/* One input of a composite index. */
typedef struct kz_index_input {
    const double *z; /* the input's z-scores, n long; NaN = missing */
    int polarity;    /* +1: higher is worse (adds), -1: higher is better */
    double weight;   /* > 0; 0 means 1 */
} kz_index_input;

/**
 * Composite index (MSS style). For every area
 *   sum_i = Σ_j polarity_j · weight_j · z_ij
 * (NaN when any input is NaN: no index without all inputs), then
 *   index_i = (sum_i − mean(sum)) / sd(sum)
 * over the areas in scope of `opts` (a full z-score of the sums, with the
 * same sd convention, weights and include mask as the inputs). The MSS
 * divides the sum by the sd of the sums ("erneut standardisiert"); as
 * unweighted input z-scores over the same areas have mean 0, so do the sums
 * and the two agree; with weights or differing scopes the full z-score is
 * what keeps the index centred, so that is what is computed.
 *
 * \param out_sum   n sums (may be NULL).
 * \param out_index n index values.
 * \param out_stats statistics of the sums (may be NULL).
 * \return KZ_OK; KZ_E_USAGE (no inputs, polarity not ±1, negative weight);
 *         KZ_E_INPUT as kz_zscore() on the sums; KZ_E_NOMEM.
 */
KZ_API int kz_index_composite(double *out_sum, double *out_index, kz_zstats *out_stats, kz_ctx *ctx,
                              const kz_index_input *inputs, size_t n_inputs, size_t n,
                              const kz_zscore_options *opts);

/**
 * Classes by cut points c_1 < ... < c_m, giving m+1 classes numbered 1..m+1,
 * with the bounds inclusive in the middle class (MSS 2021):
 *   class 1        if x < c_1
 *   class 2        if c_1 <= x <= c_2
 *   class j        if c_{j-1} < x <= c_j     (3 <= j <= m)
 *   class m+1      if x > c_m                 (m >= 2)
 * and for m = 1: class 1 if x < c_1, class 2 if x >= c_1.
 * So with the status cuts (−1, 1, 1.5): −1 → 2, 1 → 2, 1.5 → 3, 1.51 → 4;
 * with the dynamics cuts (−1, 1): −1 → 2, 1 → 2. NaN → class 0 (no class).
 *
 * \param out_class n classes.
 * \param out_counts m+2 counts indexed by class (index 0: no class); may be NULL.
 * \return KZ_OK, KZ_E_USAGE (no cuts, cuts not finite or not increasing).
 */
KZ_API int kz_cut_classes(int *out_class, size_t *out_counts, kz_ctx *ctx, const double *x,
                          size_t n, const double *cuts, size_t n_cuts);

/**
 * Cross-classification of two class vectors (e.g. status 1..4 × dynamics
 * 1..3 = Berlin's 12 groups): group = (a − 1) · n_b + b, numbered
 * 1..n_a·n_b in row order (1 = a1/b1, 2 = a1/b2, ...); 0 when either class
 * is 0 (no class).
 * \return KZ_OK, KZ_E_INPUT (a class outside 0..n_a or 0..n_b, naming the
 *         area index), KZ_E_USAGE (n_a or n_b < 1).
 */
KZ_API int kz_cross_classes(int *out_group, kz_ctx *ctx, const int *a, int n_a, const int *b,
                            int n_b, size_t n);

/* Label of a cross group: "a.b" (e.g. group 12 of 4 × 3 is "4.3"), "" for
 * group 0. Like snprintf, returns the length needed. */
KZ_API int kz_cross_label(char *out, size_t size, int group, int n_b);

#ifdef __cplusplus
}
#endif
#endif
