/*
 * Moran's I: global (with analytical and permutation inference), local
 * (LISA), bivariate, and for rates (empirical Bayes, Assunção & Reis 1999).
 *
 * Reference implementations: R spdep (moran.test, moran.mc, localmoran,
 * moran_bv, localmoran_bv, EBImoran.mc) and PySAL esda (Moran, Moran_Local,
 * Moran_BV, Moran_Local_BV, Moran_Rate). Each function says which one it
 * follows where they differ.
 *
 * Values are given in the order of the weights' areas, n = kz_weights_n().
 * Every value must be finite (callers name the offending feature).
 *
 * Permutations are deterministic for a given seed regardless of the number
 * of threads: permutation r of the global test, and all permutations of
 * area i in LISA, draw from their own xoshiro256** stream seeded with
 * splitmix64 from (seed, r) or (seed, i).
 */
#ifndef KIEZ_MORAN_H
#define KIEZ_MORAN_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/weights.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_moran_options {
    long permutations;       /* 0 = no permutation test; at most 1e6 */
    unsigned long long seed; /* seed of the permutations */
    int threads;             /* worker threads; 0 = the number of CPUs (at most 8) */
    double alpha;            /* LISA: significance level, default 0.05 */
    int fdr;                 /* LISA: Benjamini-Hochberg false discovery rate */
} kz_moran_options;

/* Defaults: 999 permutations, seed 12345, threads 0, alpha 0.05, no FDR. */
KZ_API void kz_moran_options_init(kz_moran_options *opts);

/* Result of a global test. Fields that a test does not compute are NaN. */
typedef struct kz_moran_result {
    size_t n;                        /* areas */
    size_t n_islands;                /* areas without neighbours */
    size_t n_used;                   /* n - n_islands: the n of the formulas (spdep adjust.n) */
    double s0, s1, s2;               /* weights constants (Cliff & Ord) */
    double i;                        /* Moran's I */
    double expected;                 /* E[I] = -1 / (n_used - 1) */
    double var_norm, z_norm, p_norm; /* under normality; p two-sided */
    double var_rand, z_rand, p_rand; /* under randomisation; p two-sided */
    long permutations;
    double p_sim;    /* pseudo p-value (M + 1) / (R + 1), folded (esda) */
    double mean_sim; /* mean of the permuted I */
    double sd_sim;   /* standard deviation of the permuted I (divisor R) */
    double z_sim;    /* (I - mean_sim) / sd_sim */
} kz_moran_result;

/**
 * Global Moran's I of x (n values) under the weights as they are styled,
 * as spdep moran.test(x, listw, zero.policy = TRUE, adjust.n = TRUE) and
 * esda.Moran (identical without islands).
 * \param out receives the result (caller's struct).
 * \return KZ_OK, KZ_E_INPUT (fewer than 4 areas with neighbours, constant
 *         or non-finite x, weights summing to 0), KZ_E_USAGE (options),
 *         KZ_E_NOMEM, KZ_E_INTERNAL (threads).
 */
KZ_API int kz_moran_global(kz_moran_result *out, kz_ctx *ctx, const kz_weights *w, const double *x,
                           const kz_moran_options *opts);

/**
 * Bivariate Moran's I of x with the spatial lag of y:
 *   I_xy = sum_i zx_i (W zy)_i / (n - 1),
 * zx, zy standardised with the sample sd (n - 1), as esda.Moran_BV and
 * spdep moran_bv(scale = TRUE). Permutations permute zy. Only i, n and the
 * permutation fields are set.
 * \return as kz_moran_global().
 */
KZ_API int kz_moran_bivariate(kz_moran_result *out, kz_ctx *ctx, const kz_weights *w,
                              const double *x, const double *y, const kz_moran_options *opts);

/**
 * Assunção-Reis (1999) empirical Bayes standardised rates of `events` over
 * the population at risk `base` (n values each), as spdep EBest/EBImoran.mc:
 *   p_i = e_i / b_i,  beta = sum e / sum b,
 *   s2 = sum b_i (p_i - beta)^2 / sum b,  alpha = s2 - beta / (sum b / n),
 *   alpha = max(alpha, 0),  v_i = alpha + beta / b_i,
 *   z_i = (p_i - beta) / sqrt(v_i).
 * (esda.assuncao_rate does not clip alpha at 0; it replaces negative v_i
 * by beta / b_i. The two agree whenever alpha >= 0.)
 * \param out_z caller's array of n values.
 * \return KZ_OK or KZ_E_INPUT (base <= 0, events < 0, no events, naming
 *         the area index).
 */
KZ_API int kz_moran_eb_rates(double *out_z, kz_ctx *ctx, const double *events, const double *base,
                             size_t n);

/**
 * Moran's I for rates: kz_moran_global() of the empirical Bayes rates
 * (kz_moran_eb_rates), as spdep EBImoran.mc and esda.Moran_Rate
 * (adjusted = True). With islands spdep's EBImoran keeps n unadjusted
 * while this uses n_used as kz_moran_global() does.
 * \param out_z optional caller's array of n values receiving the EB rates.
 * \return as kz_moran_global() and kz_moran_eb_rates().
 */
KZ_API int kz_moran_rate(kz_moran_result *out, double *out_z, kz_ctx *ctx, const kz_weights *w,
                         const double *events, const double *base, const kz_moran_options *opts);

/* LISA cluster classes (esda's quadrant numbering). */
enum kz_lisa_class {
    KZ_LISA_NS = 0, /* not significant (or island) */
    KZ_LISA_HH = 1, /* high value, high neighbours */
    KZ_LISA_LH = 2,
    KZ_LISA_LL = 3,
    KZ_LISA_HL = 4
};

/* Local results, one entry per area. Arrays are owned by the struct. */
typedef struct kz_lisa {
    size_t n;
    double *i;        /* local I */
    double *expected; /* E[I_i] (conditional randomisation) or NaN */
    double *variance; /* Var[I_i] or NaN */
    double *z;        /* (I_i - E) / sqrt(Var); NaN for islands */
    double *p_norm;   /* two-sided normal p of z */
    double *p_sim;    /* folded conditional permutation pseudo p; NULL without permutations */
    double *lag;      /* spatial lag of the (standardised) variable */
    int *cluster;     /* enum kz_lisa_class */
    double threshold; /* p below which an area is significant (alpha or the FDR cut) */
    size_t counts[5]; /* areas per class */
    long permutations;
} kz_lisa;

/**
 * Local Moran (LISA) of x, as spdep localmoran(x, listw, conditional = TRUE,
 * mlvar = TRUE) and esda.Moran_Local:
 *   z_i = x_i - mean(x),  m2 = sum z^2 / n,
 *   I_i = z_i / m2 * sum_j w_ij z_j.
 * E and Var are spdep's conditional (total-randomisation) moments; the
 * permutation test is esda's conditional permutation: z_i stays, its
 * |N(i)| neighbour values are drawn without replacement from the other
 * n - 1 areas; p_sim = (M + 1) / (R + 1) with M the number of permuted
 * I_i >= I_i, folded to R - M when that is smaller.
 * Cluster: quadrant of (z_i, lag_i) (HH 1, LH 2, LL 3, HL 4; zero counts
 * as low) when p < threshold, else 0. p is p_sim with permutations, else
 * p_norm. With opts->fdr the threshold is esda.fdr's: k alpha / m for the
 * largest k with p_(k) < k alpha / m among the m areas with a p, else
 * alpha / m. Islands: I = 0, z and p NaN, class 0.
 * \param out receives the result; caller frees with kz_moran_local_free().
 * \return as kz_moran_global().
 */
KZ_API int kz_moran_local(kz_lisa **out, kz_ctx *ctx, const kz_weights *w, const double *x,
                          const kz_moran_options *opts);

/**
 * Local bivariate Moran: I_i = zx_i * sum_j w_ij zy_j with zx, zy
 * standardised with the sample sd (n - 1), as spdep localmoran_bv's Ibvi.
 * The permutation test draws neighbour values of zy without replacement
 * (as esda.Moran_Local_BV; spdep draws with replacement). expected,
 * variance, z and p_norm are NaN; clusters come from (zx_i, lag_i) and
 * need permutations (without them every class is 0).
 * \param out receives the result; caller frees with kz_moran_local_free().
 * \return as kz_moran_global().
 */
KZ_API int kz_moran_local_bivariate(kz_lisa **out, kz_ctx *ctx, const kz_weights *w,
                                    const double *x, const double *y, const kz_moran_options *opts);

/* Free a LISA result. NULL is a no-op. */
KZ_API void kz_moran_local_free(kz_lisa *lisa);

/* "HH", "LH", "LL", "HL" or "ns" for a class (static string). */
KZ_API const char *kz_moran_class_name(int cls);

#ifdef __cplusplus
}
#endif
#endif
