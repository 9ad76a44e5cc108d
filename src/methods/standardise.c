/*
 * z-scores, composite indices, cut classes and cross-classification (see
 * include/kiez/standardise.h for the contract and the formulas).
 *
 * Source of the index method: Berlin's "Monitoring Soziale Stadtentwicklung"
 * (SenSBW; MSS 2021 with the LOR 2021 planning areas): the index
 * indicators are z-standardised over the valid planning areas (300 or more
 * inhabitants, outliers removed); the status index is the sum of the
 * z-values of S1, S3, S4, standardised again, cut at −1, 1, 1.5; the
 * dynamics index likewise from D1, D3, D4, cut at −1, 1. The report text
 * itself was not at hand when this was written; what the published data
 * confirms (tests/unit/test_standardise.c): the per-indicator classes
 * S*_SD_GR of mss_2021_index_indikatoren.csv are exactly the population-sd
 * z-scores of the 536 valid areas cut by kz_cut_classes() at −1, 1, 1.5.
 */
#include "kiez/standardise.h"

#include "ctx_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int in_scope(const double *x, const kz_zscore_options *opts, size_t i)
{
    if (opts && opts->include && !opts->include[i])
        return 0;
    if (!isfinite(x[i]))
        return 0;
    if (opts && opts->weights && !isfinite(opts->weights[i]))
        return 0;
    return 1;
}

int kz_zscore(double *out_z, kz_zstats *out_stats, kz_ctx *ctx, const double *x, size_t n,
              const kz_zscore_options *opts)
{
    const double *w = opts ? opts->weights : NULL;
    double wsum = 0.0, mean = 0.0, ss = 0.0, denom, sd;
    size_t i, used = 0;

    /* mean = Σ w x / Σ w (w = 1 without weights); two passes for accuracy */
    for (i = 0; i < n; i++) {
        double wi;
        if (!in_scope(x, opts, i))
            continue;
        wi = w ? w[i] : 1.0;
        if (wi < 0.0)
            return kz_ctx__error(ctx, KZ_E_INPUT, "z-score: negative weight %g at area %zu", wi, i);
        wsum += wi;
        mean += wi * x[i];
        used++;
    }
    if (used < 2)
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "z-score: needs 2 or more areas in scope, got %zu of %zu", used, n);
    if (!(wsum > 0.0))
        return kz_ctx__error(ctx, KZ_E_INPUT, "z-score: the weights of the %zu areas sum to 0",
                             used);
    mean /= wsum;
    for (i = 0; i < n; i++)
        if (in_scope(x, opts, i))
            ss += (w ? w[i] : 1.0) * (x[i] - mean) * (x[i] - mean);
    /* population: ÷ W (= n unweighted); sample: ÷ (W − 1) (= n − 1) */
    denom = opts && opts->sample_sd ? wsum - 1.0 : wsum;
    if (!(denom > 0.0))
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "z-score: sample sd needs a weight sum above 1, got %g", wsum);
    sd = sqrt(ss / denom);
    if (!(sd > 0.0) || !isfinite(sd))
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "z-score: all %zu areas in scope have the same value (sd = 0)", used);
    for (i = 0; i < n; i++)
        out_z[i] = in_scope(x, opts, i) ? (x[i] - mean) / sd : NAN;
    if (out_stats) {
        out_stats->n = used;
        out_stats->n_out = n - used;
        out_stats->weight = wsum;
        out_stats->mean = mean;
        out_stats->sd = sd;
    }
    return KZ_OK;
}

int kz_index_composite(double *out_sum, double *out_index, kz_zstats *out_stats, kz_ctx *ctx,
                       const kz_index_input *inputs, size_t n_inputs, size_t n,
                       const kz_zscore_options *opts)
{
    double *sum = out_sum;
    size_t i, j;
    int rc;

    if (n_inputs == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "index: no inputs");
    for (j = 0; j < n_inputs; j++) {
        if (inputs[j].polarity != 1 && inputs[j].polarity != -1)
            return kz_ctx__error(ctx, KZ_E_USAGE, "index: input %zu has polarity %d, not +1 or -1",
                                 j + 1, inputs[j].polarity);
        if (!(inputs[j].weight >= 0.0) || !inputs[j].z)
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "index: input %zu needs z-scores and a weight >= 0", j + 1);
    }
    if (!sum && !(sum = calloc(n ? n : 1, sizeof(*sum))))
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing an index of %zu areas", n);
    /* sum_i = Σ_j polarity_j · weight_j · z_ij; NaN if any input is NaN */
    for (i = 0; i < n; i++) {
        double s = 0.0;
        for (j = 0; j < n_inputs; j++) {
            double wj = inputs[j].weight > 0.0 ? inputs[j].weight : 1.0;
            s += (double)inputs[j].polarity * wj * inputs[j].z[i];
        }
        sum[i] = s;
    }
    /* re-standardise: a full z-score of the sums */
    rc = kz_zscore(out_index, out_stats, ctx, sum, n, opts);
    if (rc != KZ_OK)
        kz_ctx__error_prefix(ctx, "index");
    if (sum != out_sum)
        free(sum);
    return rc;
}

int kz_cut_classes(int *out_class, size_t *out_counts, kz_ctx *ctx, const double *x, size_t n,
                   const double *cuts, size_t n_cuts)
{
    size_t i, j;
    if (n_cuts == 0 || !cuts)
        return kz_ctx__error(ctx, KZ_E_USAGE, "classes: no cut points");
    for (j = 0; j < n_cuts; j++) {
        if (!isfinite(cuts[j]) || (j > 0 && !(cuts[j] > cuts[j - 1])))
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "classes: cut points must be finite and increase strictly "
                                 "(cut %zu is %g)",
                                 j + 1, cuts[j]);
    }
    if (out_counts)
        for (j = 0; j < n_cuts + 2; j++)
            out_counts[j] = 0;
    for (i = 0; i < n; i++) {
        int c;
        if (isnan(x[i])) {
            c = 0;
        } else if (x[i] < cuts[0]) {
            c = 1; /* below the lowest cut */
        } else {
            /* c_1 <= x: class 2 up to and including c_2, then class j for
             * c_{j-1} < x <= c_j, class m+1 above c_m */
            c = (int)n_cuts + 1;
            for (j = 1; j < n_cuts; j++) {
                if (x[i] <= cuts[j]) {
                    c = (int)j + 1;
                    break;
                }
            }
        }
        out_class[i] = c;
        if (out_counts)
            out_counts[c]++;
    }
    return KZ_OK;
}

int kz_cross_classes(int *out_group, kz_ctx *ctx, const int *a, int n_a, const int *b, int n_b,
                     size_t n)
{
    size_t i;
    if (n_a < 1 || n_b < 1)
        return kz_ctx__error(ctx, KZ_E_USAGE, "cross classes: %d × %d classes", n_a, n_b);
    for (i = 0; i < n; i++) {
        if (a[i] < 0 || a[i] > n_a || b[i] < 0 || b[i] > n_b)
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "cross classes: area %zu has classes %d and %d, expected 0..%d "
                                 "and 0..%d",
                                 i, a[i], b[i], n_a, n_b);
        out_group[i] = a[i] == 0 || b[i] == 0 ? 0 : (a[i] - 1) * n_b + b[i];
    }
    return KZ_OK;
}

int kz_cross_label(char *out, size_t size, int group, int n_b)
{
    if (group <= 0 || n_b < 1)
        return snprintf(out, size, "%s", "");
    return snprintf(out, size, "%d.%d", (group - 1) / n_b + 1, (group - 1) % n_b + 1);
}
