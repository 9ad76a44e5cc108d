/*
 * Effects of measures: before and after, against a comparison group
 * (difference-in-differences).
 *
 * Two layers:
 *  - methods on arrays (src/methods/effect.c): a panel of areas × periods
 *    with a role per area (treated, comparison, left out) and the index of
 *    the first period on or after the measure's start; the comparison group
 *    by nearest neighbours at baseline; the two-way fixed effects estimate
 *    with cluster-robust standard errors, a pre-period parallel-trends
 *    check and an event-study series;
 *  - the evaluation of a registered measure in a monitoring database
 *    (src/compute_effect.c), as `kiez effect` and `kiez run` use it.
 *
 * Honest uncertainty: when there are too few areas or periods the result
 * carries a status saying why, and every number is NaN; nothing is printed
 * as an estimate that is not one.
 */
#ifndef KIEZ_EFFECT_H
#define KIEZ_EFFECT_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Role of an area in an evaluation. */
enum kz_effect_role {
    KZ_EFFECT_OUT = 0,       /* left out */
    KZ_EFFECT_TREATED = 1,   /* covered by the measure */
    KZ_EFFECT_COMPARISON = 2 /* in the comparison group */
};

/* Why an estimate is missing. Append only. */
enum kz_effect_status {
    KZ_EFFECT_OK = 0,
    KZ_EFFECT_FEW_TREATED = 1,    /* fewer than 2 treated areas observed before and after */
    KZ_EFFECT_FEW_COMPARISON = 2, /* fewer than 2 comparison areas observed before and after */
    KZ_EFFECT_NO_PRE = 3,         /* no period before the start */
    KZ_EFFECT_NO_POST = 4,        /* no period on or after the start */
    KZ_EFFECT_FEW_PRE = 5,        /* trends check: fewer than 2 periods before the start */
    KZ_EFFECT_SINGULAR = 6        /* the regression has no unique solution */
};

/* A sentence for a status ("fewer than 2 treated areas ..."). Borrowed, static. */
KZ_API const char *kz_effect_status_text(int status);

/* The minimum of treated areas, comparison areas and pre periods. */
#define KZ_EFFECT_MIN_AREAS 2
#define KZ_EFFECT_MIN_PRE 2

/* A panel: y[i * n_periods + j] is area i's value in period j. */
typedef struct kz_effect_panel {
    const double *y;           /* n_areas × n_periods, NaN = missing */
    const unsigned char *role; /* n_areas roles (enum kz_effect_role) */
    const double *t;           /* n_periods times, increasing (decimal years); NULL = 0, 1, ... */
    size_t n_areas, n_periods;
    size_t start; /* periods 0..start-1 are before the measure, start.. after */
} kz_effect_panel;

typedef struct kz_effect_result {
    int status;             /* enum kz_effect_status; the estimate is NaN unless OK */
    size_t n_treated;       /* treated areas used: observed before and after */
    size_t n_comparison;    /* comparison areas used: observed before and after */
    size_t n_obs;           /* area-period values used */
    size_t n_pre, n_post;   /* periods before / on or after the start */
    double did;             /* two-way fixed effects difference-in-differences */
    double se;              /* cluster-robust (by area, CR1) standard error */
    double t, p, df;        /* t = did / se, two-sided p from Student t with df = G − 1 */
    double ci_low, ci_high; /* 95% confidence interval did ± t(0.975, df) · se */
    double means_did;       /* (mean after − mean before)_treated − (same)_comparison over
                               the values used; equals `did` when the panel is balanced */
    int pretrend_status;    /* enum kz_effect_status for the trends check */
    double pretrend_diff;   /* treated minus comparison linear trend before the start,
                               per unit of t (per year with decimal years) */
    double pretrend_se, pretrend_t, pretrend_p, pretrend_df;
    int pretrend_violated; /* 1 when pretrend_p < 0.05 */
} kz_effect_result;

/**
 * Difference-in-differences of a panel.
 *
 * Areas used: those with role TREATED or COMPARISON and at least one value
 * before and one on or after the start. Estimate: the OLS coefficient β of
 *   y_it = α_i + γ_t + β · treated_i · after_t + ε_it
 * (area and period fixed effects); with balanced data it equals the
 * difference of the before/after mean differences of the two groups, and
 * with two periods the simple 2×2 difference-in-differences.
 *
 * Standard errors are cluster-robust by area (Liang & Zeger 1986, with the
 * CR1 small-sample factor G/(G−1) · (N−1)/(N−K)), so repeated observations
 * of an area are not counted as independent; t and p use Student t with
 * G − 1 degrees of freedom (Cameron & Miller 2015).
 *
 * Parallel-trends check on the periods before the start: β_pre of
 *   y_it = α_i + γ_t + β_pre · treated_i · t + ε_it,
 * the difference of the linear pre-trends, with its CR1 standard error;
 * "violated" at p < 0.05. Needs 2 pre periods (KZ_EFFECT_FEW_PRE).
 *
 * Event study (optional): δ_j of
 *   y_it = α_i + γ_t + Σ_{j ≠ start−1} δ_j · treated_i · 1[t = j] + ε_it,
 * the effect in period j relative to the period before the start
 * (δ_{start−1} = 0, SE 0); NaN where a group has no value in period j.
 *
 * \param out_event, out_event_se  n_periods values each, or NULL.
 * \return KZ_OK (also when refused: see out->status), KZ_E_USAGE (start >
 *         n_periods, times not increasing, unknown role), KZ_E_NOMEM.
 */
KZ_API int kz_effect_estimate(kz_effect_result *out, double *out_event, double *out_event_se,
                              kz_ctx *ctx, const kz_effect_panel *panel);

/**
 * Mean value per period of the treated and of the comparison areas used by
 * kz_effect_estimate() (for charts); NaN where a group has no value.
 * \param out_treated, out_comparison n_periods values each.
 */
KZ_API void kz_effect_group_means(double *out_treated, double *out_comparison,
                                  const kz_effect_panel *panel);

/**
 * Comparison group of the k most similar untreated areas at baseline.
 *
 * Every variable is standardised to z-scores over all n areas with finite
 * values in every variable (population sd, kz_zscore()). The distance of a
 * candidate to the treated group is the Euclidean distance in z-space to
 * its nearest treated area: d_j = min_i sqrt(Σ_v (z_jv − z_iv)²). The k
 * candidates with the smallest d_j are kept (ties: lower index first).
 *
 * \param role in: TREATED, COMPARISON (a candidate) or OUT per area; out:
 *        candidates not among the k nearest (or with a missing value) are
 *        set to OUT.
 * \param out_distance n distances (NaN for non-candidates), or NULL.
 * \param x n × n_vars baseline values, area-major (x[i * n_vars + v]).
 * \param out_kept number of comparison areas kept (min(k, candidates)).
 * \return KZ_OK; KZ_E_USAGE (k or n_vars 0); KZ_E_INPUT (no treated area
 *         with all values, a variable constant or with fewer than 2 values);
 *         KZ_E_NOMEM.
 */
KZ_API int kz_effect_nearest(unsigned char *role, double *out_distance, size_t *out_kept,
                             kz_ctx *ctx, const double *x, size_t n, size_t n_vars, size_t k);

/* ---- a registered measure in a monitoring database ---- */

/* How the comparison group is chosen. */
enum kz_comparison { KZ_COMPARISON_ALL = 0, KZ_COMPARISON_NEAREST = 1 };

/* The evaluation of one measure on one indicator. Strings are owned. */
typedef struct kz_effect_report {
    char *measure, *name, *kind, *level, *indicator;
    char start[11], end[11]; /* end "" when open */
    double budget;           /* NaN when not given */
    int illustrative;        /* 1: an illustrative register, not a real measure */
    int comparison;          /* enum kz_comparison used */
    size_t k;                /* nearest: areas asked for */
    char **match_on;         /* nearest: indicators matched on */
    size_t n_match_on;
    char baseline[11]; /* the last period before the start (matching, event reference) */
    size_t n_periods;
    char (*periods)[11];
    double *mean_treated, *mean_comparison; /* per period */
    double *event, *event_se;               /* per period, see kz_effect_estimate() */
    char **treated, **compared;             /* keys of the treated and comparison areas used */
    size_t n_treated, n_compared;
    size_t n_registered; /* treated areas in the register */
    kz_effect_result result;
} kz_effect_report;

/**
 * Evaluate a registered measure (see the `measures` section of the project
 * file) on an indicator of the database.
 * \param indicator  NULL = the measure's first target indicator.
 * \param comparison NULL = the register's choice, else "all" or "nearest:K"
 *        (matched on the register's match_on indicators).
 * \param out receives the report, also when the estimate was refused
 *        (out->result.status); free with kz_effect_report_free().
 * \return KZ_OK; KZ_E_USAGE (no such measure or indicator, bad comparison,
 *         nearest without match_on), KZ_E_INPUT, KZ_E_IO, KZ_E_NOMEM.
 */
KZ_API int kz_effect_evaluate(kz_effect_report **out, kz_ctx *ctx, kz_db *db, const char *measure,
                              const char *indicator, const char *comparison);

/* Free a report. NULL is a no-op. */
KZ_API void kz_effect_report_free(kz_effect_report *report);

#ifdef __cplusplus
}
#endif
#endif
