/*
 * Trend measures of one series (see include/kiez/trend.h for the contract).
 *
 * Formulas: absolute change v_last − v_first; relative change
 * 100 (v_last − v_first) / v_first; compound annual growth rate
 * CAGR = 100 ((v_last / v_first)^(1/Δt) − 1) with Δt in years; ordinary
 * least squares slope and its standard error as in any regression text
 * (e.g. Wooldridge, "Introductory Econometrics", ch. 2:
 * se(b) = σ̂ / sqrt(SST_t), σ̂² = SSR / (n − 2)).
 */
#include "kiez/trend.h"

#include "ctx_internal.h"

#include <math.h>
#include <string.h>

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* year + (day of year − 1) / days in year */
static double decimal_year(long y, int m, int d)
{
    int doy = d, i;
    for (i = 1; i < m; i++)
        doy += days_in_month(y, i);
    return (double)y + (double)(doy - 1) / (is_leap(y) ? 366.0 : 365.0);
}

int kz_date_to_years(double *out, kz_ctx *ctx, const char *iso_date)
{
    long y = 0;
    int m, d, i;
    if (!iso_date || strlen(iso_date) != 10 || iso_date[4] != '-' || iso_date[7] != '-')
        goto bad;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (iso_date[i] < '0' || iso_date[i] > '9'))
            goto bad;
    for (i = 0; i < 4; i++)
        y = y * 10 + (iso_date[i] - '0');
    m = (iso_date[5] - '0') * 10 + (iso_date[6] - '0');
    d = (iso_date[8] - '0') * 10 + (iso_date[9] - '0');
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        goto bad;
    *out = decimal_year(y, m, d);
    return KZ_OK;
bad:
    return kz_ctx__error(ctx, KZ_E_INPUT, "\"%s\" is not a date YYYY-MM-DD",
                         iso_date ? iso_date : "(null)");
}

double kz_days_to_years(long long z)
{
    /* civil_from_days, H. Hinnant, "chrono-Compatible Low-Level Date
     * Algorithms": the proleptic Gregorian date of day z since 1970-01-01 */
    long long era, y;
    unsigned doe, yoe, doy, mp, d, m;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (long long)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    return decimal_year((long)y, (int)m, (int)d);
}

static int check_periods(kz_ctx *ctx, const double *t, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (!isfinite(t[i]))
            return kz_ctx__error(ctx, KZ_E_INPUT, "trend: period %zu is not a number", i + 1);
        if (i > 0 && !(t[i] > t[i - 1]))
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "trend: periods must increase (period %zu: %.6f after %.6f)",
                                 i + 1, t[i], t[i - 1]);
    }
    return KZ_OK;
}

static int usable(const double *v, const int *flags, size_t i)
{
    return !(flags && flags[i]) && !isnan(v[i]);
}

int kz_trend_compute(kz_trend *out, kz_ctx *ctx, const double *t, const double *v, const int *flags,
                     size_t n)
{
    size_t i;
    double tm = 0.0, vm = 0.0, stt = 0.0, stv = 0.0, years;
    int rc;

    out->n_used = out->n_missing = out->n_suppressed = 0;
    out->t_first = out->t_last = out->first = out->last = NAN;
    out->abs_change = out->pp_change = out->rel_change = out->cagr = NAN;
    out->slope = out->slope_se = out->intercept = NAN;
    if ((rc = check_periods(ctx, t, n)) != KZ_OK)
        return rc;

    for (i = 0; i < n; i++) {
        if (flags && flags[i]) {
            out->n_suppressed++;
            continue;
        }
        if (isnan(v[i])) {
            out->n_missing++;
            continue;
        }
        if (out->n_used == 0) {
            out->t_first = t[i];
            out->first = v[i];
        }
        out->t_last = t[i];
        out->last = v[i];
        out->n_used++;
        tm += t[i];
        vm += v[i];
    }
    if (out->n_used < 2)
        return KZ_OK;

    out->abs_change = out->last - out->first;
    out->pp_change = out->abs_change;
    if (out->first != 0.0)
        out->rel_change = 100.0 * (out->last - out->first) / out->first;
    years = out->t_last - out->t_first;
    if (out->first > 0.0 && out->last >= 0.0 && years > 0.0)
        out->cagr = 100.0 * (pow(out->last / out->first, 1.0 / years) - 1.0);

    /* OLS, centred sums */
    tm /= (double)out->n_used;
    vm /= (double)out->n_used;
    for (i = 0; i < n; i++) {
        if (!usable(v, flags, i))
            continue;
        stt += (t[i] - tm) * (t[i] - tm);
        stv += (t[i] - tm) * (v[i] - vm);
    }
    out->slope = stv / stt;
    out->intercept = vm - out->slope * tm;
    if (out->n_used >= 3) {
        double ssr = 0.0;
        for (i = 0; i < n; i++) {
            double e;
            if (!usable(v, flags, i))
                continue;
            e = v[i] - vm - out->slope * (t[i] - tm);
            ssr += e * e;
        }
        out->slope_se = sqrt(ssr / (double)(out->n_used - 2) / stt);
    }
    return KZ_OK;
}

/* Index of the period matching `when`, or n. */
static size_t find_period(const double *t, size_t n, double when)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (fabs(t[i] - when) <= KZ_PERIOD_TOLERANCE)
            return i;
    return n;
}

int kz_trend_dynamics(kz_dynamics *out, kz_ctx *ctx, const double *t, const double *v,
                      const int *flags, size_t n, double t_end, double span)
{
    size_t is, ie;
    int rc;

    out->value = NAN;
    out->t_start = NAN;
    out->t_end = NAN;
    out->status = KZ_DYN_OK;
    if (!(span > 0.0) || !isfinite(span))
        return kz_ctx__error(ctx, KZ_E_USAGE, "dynamics: the span must be > 0 years, got %g", span);
    if ((rc = check_periods(ctx, t, n)) != KZ_OK)
        return rc;
    if (isnan(t_end)) {
        if (n == 0) {
            out->status = KZ_DYN_NO_START | KZ_DYN_NO_END;
            return KZ_OK;
        }
        t_end = t[n - 1];
    }
    out->t_end = t_end;
    ie = find_period(t, n, t_end);
    is = find_period(t, n, t_end - span);
    if (ie == n)
        out->status |= KZ_DYN_NO_END;
    else if (!usable(v, flags, ie))
        out->status |= KZ_DYN_END_SKIPPED;
    if (is == n)
        out->status |= KZ_DYN_NO_START;
    else {
        out->t_start = t[is];
        if (!usable(v, flags, is))
            out->status |= KZ_DYN_START_SKIPPED;
    }
    if (ie < n)
        out->t_end = t[ie];
    if (out->status == KZ_DYN_OK)
        out->value = v[ie] - v[is];
    return KZ_OK;
}

double kz_trend_get(const kz_trend *tr, int measure)
{
    switch (measure) {
    case KZ_TREND_ABS:
        return tr->abs_change;
    case KZ_TREND_PP:
        return tr->pp_change;
    case KZ_TREND_REL:
        return tr->rel_change;
    case KZ_TREND_CAGR:
        return tr->cagr;
    case KZ_TREND_SLOPE:
        return tr->slope;
    case KZ_TREND_SLOPE_SE:
        return tr->slope_se;
    default:
        return NAN;
    }
}

static const struct {
    const char *name, *label;
} measures[] = {
    {"abs_change", "absolute change"},
    {"pp_change", "change (percentage points)"},
    {"rel_change", "relative change (%)"},
    {"cagr", "compound annual growth rate (% per year)"},
    {"slope", "linear trend (OLS slope per year)"},
    {"slope_se", "standard error of the slope (per year)"},
};

const char *kz_trend_measure_name(int measure)
{
    if (measure < 0 || measure >= (int)(sizeof(measures) / sizeof(measures[0])))
        return NULL;
    return measures[measure].name;
}

const char *kz_trend_measure_label(int measure)
{
    if (measure < 0 || measure >= (int)(sizeof(measures) / sizeof(measures[0])))
        return NULL;
    return measures[measure].label;
}
