/*
 * Correlation matrices across areas: Pearson and Spearman, with pairwise
 * deletion of missing values, the number of pairs, and two-sided p-values.
 */
#ifndef KIEZ_CORRELATE_H
#define KIEZ_CORRELATE_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kz_correlate_method {
    KZ_CORR_PEARSON = 0,
    KZ_CORR_SPEARMAN = 1 /* Pearson of the ranks; ties get their average rank */
};

/**
 * Correlation matrix of k variables over n areas. `columns[v][a]` is the
 * value of variable v in area a; NaN marks a missing value, and each pair of
 * variables uses the areas where both are present (pairwise deletion, as R
 * cor(use = "pairwise.complete.obs")). For Spearman the ranks are taken
 * within those areas, as R does.
 *
 * Outputs are k x k row-major caller's arrays (out_p and out_n may be NULL):
 *   out_r[v*k+u]  the coefficient; NaN when fewer than 3 pairs or a
 *                 variable is constant over them; 1 on the diagonal when
 *                 defined
 *   out_p[v*k+u]  two-sided p-value of r = 0 from t = r sqrt((m-2)/(1-r^2))
 *                 with m - 2 degrees of freedom (R cor.test for Pearson;
 *                 for Spearman the same t approximation, as cor.test with
 *                 exact = FALSE); 0 on the diagonal
 *   out_n[v*k+u]  the number of pairs m
 *
 * \return KZ_OK, KZ_E_USAGE (unknown method, k = 0), KZ_E_INPUT (an
 *         infinite value, naming variable and area), KZ_E_NOMEM.
 */
KZ_API int kz_correlate_matrix(double *out_r, double *out_p, size_t *out_n, kz_ctx *ctx,
                               const double *const *columns, size_t k, size_t n, int method);

#ifdef __cplusplus
}
#endif
#endif
