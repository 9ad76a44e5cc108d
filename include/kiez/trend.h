/*
 * Trends of one indicator in one area over its periods: absolute change,
 * change in percentage points, relative change, CAGR, OLS slope per year
 * with its standard error, and "dynamics" (change over a fixed span).
 * Pure computation on arrays.
 *
 * A series is n periods t[] in decimal years (see kz_date_to_years()),
 * strictly increasing, with values v[] and flags[]. A period is missing when
 * its value is NaN and suppressed when its flag is non-zero (disclosure
 * control); both are skipped and counted, never interpolated.
 */
#ifndef KIEZ_TREND_H
#define KIEZ_TREND_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Decimal year of an ISO date "YYYY-MM-DD" (proleptic Gregorian, years
 * 1..9999): year + (day of year − 1) / (days in that year), so
 * "2020-01-01" is 2020.0 and "2020-12-31" is 2020 + 365/366.
 * \return KZ_OK or KZ_E_INPUT (not a valid date, naming it).
 */
KZ_API int kz_date_to_years(double *out, kz_ctx *ctx, const char *iso_date);

/* The same for a day count since 1970-01-01 (day 0), e.g. from a database;
 * exact (civil calendar). */
KZ_API double kz_days_to_years(long long days_since_1970);

/* Trend measures of one series. Every measure is NaN when it cannot be
 * computed (too few periods, division by zero, ...). */
typedef struct kz_trend {
    size_t n_used;          /* periods with a value, used */
    size_t n_missing;       /* periods skipped: value NaN */
    size_t n_suppressed;    /* periods skipped: flag set */
    double t_first, t_last; /* first and last used period (NaN if none) */
    double first, last;     /* their values */
    double abs_change;      /* last − first */
    double pp_change;       /* the same number, in percentage points, for shares */
    double rel_change;      /* 100 (last − first) / first, in %; NaN if first == 0 */
    double cagr;            /* 100 ((last / first)^(1 / years) − 1), % per year,
                               years = t_last − t_first; NaN unless first > 0,
                               last >= 0 and years > 0 */
    double slope;           /* OLS slope of value on t, per year (n_used >= 2) */
    double slope_se;        /* its standard error (n_used >= 3) */
    double intercept;       /* OLS intercept at t = 0 */
} kz_trend;

/**
 * Compute the trend measures of a series from its first and last used
 * periods and, for the slope, all used periods:
 *   b = Σ (t − t̄)(v − v̄) / Σ (t − t̄)²,  a = v̄ − b t̄,
 *   SE(b) = sqrt( Σ (v − a − b t)² / (n − 2) / Σ (t − t̄)² ).
 * \param flags n flags (non-zero = suppressed), or NULL.
 * \return KZ_OK (also with no usable period: all measures NaN),
 *         KZ_E_INPUT (t not finite or not strictly increasing, naming the
 *         index).
 */
KZ_API int kz_trend_compute(kz_trend *out, kz_ctx *ctx, const double *t, const double *v,
                            const int *flags, size_t n);

/* Why a dynamics value is missing (bits). */
enum kz_dynamics_status {
    KZ_DYN_OK = 0,
    KZ_DYN_NO_START = 1,      /* no period at t_end − span */
    KZ_DYN_NO_END = 2,        /* no period at t_end */
    KZ_DYN_START_SKIPPED = 4, /* the start period is missing or suppressed */
    KZ_DYN_END_SKIPPED = 8    /* the end period is missing or suppressed */
};

/* Periods within this many years count as the same period (two days): the
 * decimal years of the same calendar date differ slightly between years. */
#define KZ_PERIOD_TOLERANCE (2.0 / 365.25)

typedef struct kz_dynamics {
    double value;   /* v(t_end) − v(t_end − span), or NaN */
    double t_start; /* the matched start period (NaN if none) */
    double t_end;   /* the end period used */
    int status;     /* enum kz_dynamics_status bits; 0 = value is set */
} kz_dynamics;

/**
 * Dynamics over `span` years (MSS: 2, Hamburg: 3): the value at t_end minus
 * the value at t_end − span, matching periods exactly up to
 * KZ_PERIOD_TOLERANCE. t_end NaN means the series' last period. A missing
 * start or end is reported in `status`, not an error.
 * \return KZ_OK, KZ_E_USAGE (span <= 0), KZ_E_INPUT (t not increasing).
 */
KZ_API int kz_trend_dynamics(kz_dynamics *out, kz_ctx *ctx, const double *t, const double *v,
                             const int *flags, size_t n, double t_end, double span);

/* Measures by number, for tables and labels. */
enum kz_trend_measure {
    KZ_TREND_ABS = 0,
    KZ_TREND_PP = 1,
    KZ_TREND_REL = 2,
    KZ_TREND_CAGR = 3,
    KZ_TREND_SLOPE = 4,
    KZ_TREND_SLOPE_SE = 5
};

/* The value of a measure in a computed trend (NaN for an unknown one). */
KZ_API double kz_trend_get(const kz_trend *trend, int measure);

/* Short name ("abs_change", "pp_change", "rel_change", "cagr", "slope",
 * "slope_se") and label with unit ("change (percentage points)", ...) of a
 * measure; NULL if unknown. Borrowed, static. */
KZ_API const char *kz_trend_measure_name(int measure);
KZ_API const char *kz_trend_measure_label(int measure);

#ifdef __cplusplus
}
#endif
#endif
