/* Trend measures: hand-computed vectors for every measure, skipping of
 * missing and suppressed periods, dynamics, and the date helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/kiez.h"
#include "kiez/trend.h"

#include <math.h>
#include <string.h>

#define EPS 1e-9

/* cmocka 1.1 has no assert_double_equal */
#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s:%d: %.17g, expected %.17g", __FILE__, __LINE__, a_, b_);                  \
    } while (0)

static kz_ctx *new_ctx(void)
{
    kz_ctx *ctx = NULL;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    return ctx;
}

static void test_all_measures(void **state)
{
    /* t̄ = 2021.5, v̄ = 12, Σdt² = 5, Σdt·dv = 7 → slope 1.4;
     * residuals 0.1 0.7 −1.7 0.9, SSR 4.2 → se sqrt(4.2 / 2 / 5);
     * change 10 → 15: +5, +50 %, CAGR 1.5^(1/3) − 1 over 3 years */
    const double t[] = {2020, 2021, 2022, 2023};
    const double v[] = {10, 12, 11, 15};
    kz_ctx *ctx = new_ctx();
    kz_trend tr;
    (void)state;
    assert_int_equal(kz_trend_compute(&tr, ctx, t, v, NULL, 4), KZ_OK);
    assert_int_equal(tr.n_used, 4);
    assert_int_equal(tr.n_missing + tr.n_suppressed, 0);
    assert_near(tr.t_first, 2020, EPS);
    assert_near(tr.t_last, 2023, EPS);
    assert_near(tr.abs_change, 5, EPS);
    assert_near(tr.pp_change, 5, EPS);
    assert_near(tr.rel_change, 50, EPS);
    assert_near(tr.cagr, 100 * (cbrt(1.5) - 1), EPS);
    assert_near(tr.cagr, 14.471424255333186, 1e-9);
    assert_near(tr.slope, 1.4, EPS);
    assert_near(tr.intercept, 12 - 1.4 * 2021.5, 1e-6);
    assert_near(tr.slope_se, sqrt(0.42), EPS);
    assert_near(kz_trend_get(&tr, KZ_TREND_SLOPE_SE), sqrt(0.42), EPS);
    assert_near(kz_trend_get(&tr, KZ_TREND_REL), 50, EPS);
    assert_true(isnan(kz_trend_get(&tr, 42)));
    kz_ctx_free(ctx);
}

static void test_skipped_periods(void **state)
{
    /* 2021 missing, 2024 suppressed: used 2020, 2022, 2023 (10, 11, 15);
     * t̄ = 6065/3, Σdt² = 14/3, Σdt·dv = 7 → slope 1.5; fitted 9.5 12.5 14,
     * residuals 0.5 −1.5 1, SSR 3.5 → se sqrt(3.5 / 1 / (14/3)) */
    const double t[] = {2020, 2021, 2022, 2023, 2024};
    const double v[] = {10, NAN, 11, 15, 99};
    const int flags[] = {0, 0, 0, 0, 1};
    kz_ctx *ctx = new_ctx();
    kz_trend tr;
    (void)state;
    assert_int_equal(kz_trend_compute(&tr, ctx, t, v, flags, 5), KZ_OK);
    assert_int_equal(tr.n_used, 3);
    assert_int_equal(tr.n_missing, 1);
    assert_int_equal(tr.n_suppressed, 1);
    assert_near(tr.t_last, 2023, EPS);
    assert_near(tr.last, 15, EPS);
    assert_near(tr.abs_change, 5, EPS);
    assert_near(tr.cagr, 100 * (cbrt(1.5) - 1), EPS);
    assert_near(tr.slope, 1.5, EPS);
    assert_near(tr.slope_se, sqrt(0.75), EPS);
    kz_ctx_free(ctx);
}

static void test_short_and_degenerate(void **state)
{
    const double t2[] = {2019.5, 2021};
    const double v2[] = {4, 7};
    const double z[] = {0, 3};
    const double none[] = {NAN, NAN};
    const double tbad[] = {2020, 2020};
    kz_ctx *ctx = new_ctx();
    kz_trend tr;
    (void)state;
    /* two periods: slope = change / years, no standard error */
    assert_int_equal(kz_trend_compute(&tr, ctx, t2, v2, NULL, 2), KZ_OK);
    assert_near(tr.slope, 2, EPS);
    assert_true(isnan(tr.slope_se));
    assert_near(tr.cagr, 100 * (pow(7.0 / 4.0, 1 / 1.5) - 1), EPS);
    /* first value 0: no relative change, no CAGR */
    assert_int_equal(kz_trend_compute(&tr, ctx, t2, z, NULL, 2), KZ_OK);
    assert_near(tr.abs_change, 3, EPS);
    assert_true(isnan(tr.rel_change));
    assert_true(isnan(tr.cagr));
    /* a negative change from a positive base: CAGR defined */
    assert_int_equal(kz_trend_compute(&tr, ctx, t2, (const double[]){8, 2}, NULL, 2), KZ_OK);
    assert_near(tr.rel_change, -75, EPS);
    assert_near(tr.cagr, 100 * (pow(0.25, 1 / 1.5) - 1), EPS);
    /* nothing usable: all NaN, still OK */
    assert_int_equal(kz_trend_compute(&tr, ctx, t2, none, NULL, 2), KZ_OK);
    assert_int_equal(tr.n_used, 0);
    assert_int_equal(tr.n_missing, 2);
    assert_true(isnan(tr.abs_change) && isnan(tr.slope) && isnan(tr.t_first));
    /* one usable period: no change */
    assert_int_equal(kz_trend_compute(&tr, ctx, t2, (const double[]){1, NAN}, NULL, 2), KZ_OK);
    assert_int_equal(tr.n_used, 1);
    assert_true(isnan(tr.abs_change));
    /* periods not increasing */
    assert_int_equal(kz_trend_compute(&tr, ctx, tbad, v2, NULL, 2), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "period 2"));
    kz_ctx_free(ctx);
}

static void test_dates(void **state)
{
    kz_ctx *ctx = new_ctx();
    double y;
    (void)state;
    assert_int_equal(kz_date_to_years(&y, ctx, "2020-01-01"), KZ_OK);
    assert_near(y, 2020, 0);
    assert_int_equal(kz_date_to_years(&y, ctx, "2020-12-31"), KZ_OK);
    assert_near(y, 2020 + 365.0 / 366.0, 1e-12);
    assert_int_equal(kz_date_to_years(&y, ctx, "2020-02-29"), KZ_OK);
    assert_near(y, 2020 + 59.0 / 366.0, 1e-12);
    assert_int_equal(kz_date_to_years(&y, ctx, "2021-03-01"), KZ_OK);
    assert_near(y, 2021 + 59.0 / 365.0, 1e-12);
    assert_int_equal(kz_date_to_years(&y, ctx, "1900-03-01"), KZ_OK); /* not leap */
    assert_near(y, 1900 + 59.0 / 365.0, 1e-12);
    assert_int_equal(kz_date_to_years(&y, ctx, "2000-03-01"), KZ_OK); /* leap */
    assert_near(y, 2000 + 60.0 / 366.0, 1e-12);
    assert_int_equal(kz_date_to_years(&y, ctx, "2021-02-29"), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "2021-02-29"));
    assert_int_equal(kz_date_to_years(&y, ctx, "2021-13-01"), KZ_E_INPUT);
    assert_int_equal(kz_date_to_years(&y, ctx, "2021-1-01"), KZ_E_INPUT);
    assert_int_equal(kz_date_to_years(&y, ctx, "2021-01-01T00"), KZ_E_INPUT);
    assert_int_equal(kz_date_to_years(&y, ctx, "abcd-01-01"), KZ_E_INPUT);
    assert_int_equal(kz_date_to_years(&y, ctx, "0000-01-01"), KZ_E_INPUT);
    assert_int_equal(kz_date_to_years(&y, ctx, NULL), KZ_E_INPUT);
    /* day counts since 1970-01-01 */
    assert_near(kz_days_to_years(0), 1970, 0);
    assert_near(kz_days_to_years(18262), 2020, 0); /* 50·365 + 12 leap days */
    assert_near(kz_days_to_years(18262 + 365), 2020 + 365.0 / 366.0, 1e-12);
    assert_near(kz_days_to_years(-1), 1969 + 364.0 / 365.0, 1e-12);
    assert_near(kz_days_to_years(11017), 2000 + 60.0 / 366.0, 1e-12); /* 2000-03-01 */
    kz_ctx_free(ctx);
}

static void test_dynamics(void **state)
{
    /* year-end reference dates, as in the MSS */
    const char *dates[] = {"2018-12-31", "2019-12-31", "2020-12-31"};
    double t[3];
    const double v[] = {5, 6, 8};
    const int sup[] = {1, 0, 0};
    kz_ctx *ctx = new_ctx();
    kz_dynamics d;
    int i;
    (void)state;
    for (i = 0; i < 3; i++)
        assert_int_equal(kz_date_to_years(&t[i], ctx, dates[i]), KZ_OK);
    /* last period − the one two years before: 8 − 5 */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, NAN, 2), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_OK);
    assert_near(d.value, 3, EPS);
    assert_near(d.t_start, t[0], 0);
    assert_near(d.t_end, t[2], 0);
    /* one-year span ending 2019: 6 − 5 */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, t[1], 1), KZ_OK);
    assert_near(d.value, 1, EPS);
    /* start period absent */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, t[1], 2), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_NO_START);
    assert_true(isnan(d.value) && isnan(d.t_start));
    /* start period suppressed */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, sup, 3, NAN, 2), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_START_SKIPPED);
    assert_true(isnan(d.value));
    /* end period absent, start present */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, t[1] + 2, 1), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_NO_END);
    /* end period missing (NaN) */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, (const double[]){5, 6, NAN}, NULL, 3, NAN, 2),
                     KZ_OK);
    assert_int_equal(d.status, KZ_DYN_END_SKIPPED);
    /* half a year off is not a match */
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, NAN, 1.5), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_NO_START);
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 3, NAN, 0), KZ_E_USAGE);
    assert_int_equal(kz_trend_dynamics(&d, ctx, t, v, NULL, 0, NAN, 2), KZ_OK);
    assert_int_equal(d.status, KZ_DYN_NO_START | KZ_DYN_NO_END);
    kz_ctx_free(ctx);
}

static void test_measure_names(void **state)
{
    (void)state;
    assert_string_equal(kz_trend_measure_name(KZ_TREND_PP), "pp_change");
    assert_string_equal(kz_trend_measure_label(KZ_TREND_PP), "change (percentage points)");
    assert_string_equal(kz_trend_measure_name(KZ_TREND_CAGR), "cagr");
    assert_null(kz_trend_measure_name(-1));
    assert_null(kz_trend_measure_label(6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_measures),
        cmocka_unit_test(test_skipped_periods),
        cmocka_unit_test(test_short_and_degenerate),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_dynamics),
        cmocka_unit_test(test_measure_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
