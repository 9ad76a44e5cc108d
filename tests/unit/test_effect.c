/*
 * Difference-in-differences (src/methods/effect.c): a hand-computed 2×2
 * case (estimate and CR1 standard error), balanced panels (TWFE = the
 * difference of mean differences), noiseless unbalanced panels (the exact
 * effect), simulations over 200 seeds (95% CI coverage, size under the
 * null, the parallel-trends check flags diverging pre-trends), refusals,
 * and the nearest-neighbour comparison group.
 */
#include "kiez/ctx.h"
#include "kiez/effect.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* cmocka needs these first; keep them in their own block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static kz_ctx *new_ctx(void)
{
    kz_ctx *ctx = NULL;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    return ctx;
}

/* Treated A, B and comparison C, D over two periods:
 *   A 10 → 15, B 12 → 16 (mean change 4.5), C 8 → 9, D 9 → 11 (1.5).
 * DiD = 4.5 − 1.5 = 3. With two periods the FE regression is the
 * regression of Δy on (1, T): residuals ±0.5 for every area, HC0 variance
 * of the slope Σ_T r²/n_T² + Σ_C r²/n_C² = 0.5/4 + 0.5/4 = 0.25; CR1 factor
 * G/(G−1)·(N−1)/(N−K) = 4/3 · 7/5 (N = 8 values, K = 2 coefficients + 1),
 * so V = 0.25 · 28/15 = 7/15. */
static void test_two_by_two(void **state)
{
    const double y[] = {10, 15, 12, 16, 8, 9, 9, 11};
    const unsigned char role[] = {1, 1, 2, 2};
    kz_effect_panel pn = {y, role, NULL, 4, 2, 1};
    kz_effect_result r;
    double ev[2], es[2];
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_effect_estimate(&r, ev, es, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_OK);
    assert_int_equal(r.n_treated, 2);
    assert_int_equal(r.n_comparison, 2);
    assert_int_equal(r.n_obs, 8);
    assert_true(fabs(r.did - 3.0) < 1e-12);
    assert_true(fabs(r.means_did - 3.0) < 1e-12);
    assert_true(fabs(r.se - sqrt(7.0 / 15.0)) < 1e-12);
    assert_true(fabs(r.df - 3.0) < 1e-12);
    assert_true(fabs(r.t - 3.0 / sqrt(7.0 / 15.0)) < 1e-9);
    /* t(0.975, 3) = 3.182446305284263 */
    assert_true(fabs(r.ci_high - (3.0 + 3.182446305284263 * sqrt(7.0 / 15.0))) < 1e-8);
    assert_true(r.p > 0.02 && r.p < 0.05); /* t = 4.39 on 3 df: p = 0.0219 */
    /* One pre period: no trends check, but an estimate. */
    assert_int_equal(r.pretrend_status, KZ_EFFECT_FEW_PRE);
    assert_true(isnan(r.pretrend_diff));
    /* Event study with two periods: reference 0, then the DiD itself. */
    assert_true(ev[0] == 0 && es[0] == 0);
    assert_true(fabs(ev[1] - 3.0) < 1e-12 && fabs(es[1] - r.se) < 1e-12);
    kz_ctx_free(ctx);
}

/* ---- random panels -------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double uniform(void)
{
    return ((double)(next_u64() >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/*
 * y_it = α_i + γ_t + β·T_i·after_t + λ·T_i·t + ε_it, α ~ N(0, 2²), γ ~
 * N(0, 1), AR(1) errors ε_it = ρ ε_i,t−1 + u, u ~ N(0, 1): serially
 * correlated, so an SE that ignored the clustering would be too small.
 */
static void simulate(double *y, unsigned char *role, size_t n_t, size_t n_c, size_t np,
                     size_t start, double beta, double lambda, double rho)
{
    double gamma[64];
    size_t i, j;
    for (j = 0; j < np; j++)
        gamma[j] = normal();
    for (i = 0; i < n_t + n_c; i++) {
        double a = 2 * normal(), e = normal() / sqrt(1 - rho * rho);
        int tr = i < n_t;
        role[i] = tr ? KZ_EFFECT_TREATED : KZ_EFFECT_COMPARISON;
        for (j = 0; j < np; j++) {
            if (j > 0)
                e = rho * e + normal();
            y[i * np + j] =
                a + gamma[j] + (tr && j >= start ? beta : 0) + (tr ? lambda * (double)j : 0) + e;
        }
    }
}

#define N_T 15
#define N_C 25
#define NP 8
#define START 4
#define SEEDS 200

static void test_balanced_equals_mean_did(void **state)
{
    double y[(N_T + N_C) * NP];
    unsigned char role[N_T + N_C];
    kz_effect_panel pn = {y, role, NULL, N_T + N_C, NP, START};
    kz_effect_result r;
    kz_ctx *ctx = new_ctx();
    int s;
    (void)state;
    for (s = 0; s < 10; s++) {
        rng_state = 1000 + (uint64_t)s;
        simulate(y, role, N_T, N_C, NP, START, 1.5, 0, 0.3);
        assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
        assert_int_equal(r.status, KZ_EFFECT_OK);
        assert_true(fabs(r.did - r.means_did) < 1e-10);
    }
    kz_ctx_free(ctx);
}

/* Noiseless y = α_i + γ_t + 2·D_it with holes: TWFE recovers 2 exactly
 * (the mean-based DiD does not, the holes unbalance the groups). */
static void test_unbalanced_noiseless(void **state)
{
    double y[(N_T + N_C) * NP];
    unsigned char role[N_T + N_C];
    kz_effect_panel pn = {y, role, NULL, N_T + N_C, NP, START};
    kz_effect_result r;
    double ev[NP], es[NP];
    kz_ctx *ctx = new_ctx();
    size_t i, j;
    (void)state;
    rng_state = 7;
    for (i = 0; i < N_T + N_C; i++) {
        double a = 10 * uniform();
        role[i] = i < N_T ? KZ_EFFECT_TREATED : KZ_EFFECT_COMPARISON;
        for (j = 0; j < NP; j++)
            y[i * NP + j] = a + 0.7 * (double)(j * j) + (i < N_T && j >= START ? 2.0 : 0);
    }
    y[0 * NP + 1] = NAN;
    y[3 * NP + 6] = NAN;
    y[20 * NP + 0] = NAN;
    y[21 * NP + 7] = NAN;
    y[2 * NP + 0] = y[2 * NP + 1] = y[2 * NP + 2] = y[2 * NP + 3] = NAN; /* never before */
    assert_int_equal(kz_effect_estimate(&r, ev, es, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_OK);
    assert_int_equal(r.n_treated, N_T - 1); /* area 2 has no value before the start */
    assert_int_equal(r.n_comparison, N_C);
    assert_true(fabs(r.did - 2.0) < 1e-9);
    assert_true(r.se < 1e-6);
    assert_true(fabs(r.means_did - 2.0) > 1e-3);
    assert_true(fabs(r.pretrend_diff) < 1e-9);
    for (j = 0; j < NP; j++)
        assert_true(fabs(ev[j] - (j >= START ? 2.0 : 0.0)) < 1e-9);
    kz_ctx_free(ctx);
}

/* Over 200 seeds: the 95% CI covers the true effect in 90–99% of them; at
 * effect 0 the test rejects in at most 10%; with parallel trends the check
 * flags at most 10%. */
static void test_simulation_coverage(void **state)
{
    double y[(N_T + N_C) * NP], ev[NP], es[NP];
    unsigned char role[N_T + N_C];
    kz_effect_panel pn = {y, role, NULL, N_T + N_C, NP, START};
    kz_effect_result r;
    kz_ctx *ctx = new_ctx();
    int s, covered = 0, rejected = 0, flagged = 0, ev_covered = 0, ev_n = 0;
    size_t j;
    (void)state;
    for (s = 0; s < SEEDS; s++) {
        rng_state = 42 + (uint64_t)s * 7919;
        simulate(y, role, N_T, N_C, NP, START, 2.0, 0, 0.5);
        assert_int_equal(kz_effect_estimate(&r, ev, es, ctx, &pn), KZ_OK);
        assert_int_equal(r.status, KZ_EFFECT_OK);
        covered += r.ci_low <= 2.0 && 2.0 <= r.ci_high;
        flagged += r.pretrend_violated;
        for (j = 0; j < NP; j++) {
            double truth = j >= START ? 2.0 : 0.0, q = 2.0227; /* t(0.975, 39) */
            if (j == START - 1)
                continue;
            ev_n++;
            ev_covered += fabs(ev[j] - truth) <= q * es[j];
        }
        rng_state = 900000 + (uint64_t)s * 104729;
        simulate(y, role, N_T, N_C, NP, START, 0.0, 0, 0.5);
        assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
        rejected += r.p < 0.05;
    }
    print_message("coverage %d/%d, null rejections %d/%d, pretrend flagged %d/%d, event "
                  "coverage %d/%d\n",
                  covered, SEEDS, rejected, SEEDS, flagged, SEEDS, ev_covered, ev_n);
    assert_true(covered >= SEEDS * 90 / 100 && covered <= SEEDS * 99 / 100);
    assert_true(rejected <= SEEDS * 10 / 100);
    assert_true(flagged <= SEEDS * 10 / 100);
    assert_true(ev_covered >= ev_n * 90 / 100 && ev_covered <= ev_n * 99 / 100);
    kz_ctx_free(ctx);
}

/* Treated areas on a steeper trend (0.75 per period, also before the
 * start): the check flags it in most seeds. */
static void test_simulation_pretrend_violated(void **state)
{
    double y[(N_T + N_C) * NP];
    unsigned char role[N_T + N_C];
    kz_effect_panel pn = {y, role, NULL, N_T + N_C, NP, START};
    kz_effect_result r;
    kz_ctx *ctx = new_ctx();
    int s, flagged = 0, sign_ok = 0;
    (void)state;
    for (s = 0; s < SEEDS; s++) {
        rng_state = 5000 + (uint64_t)s * 31;
        simulate(y, role, N_T, N_C, NP, START, 0.0, 0.75, 0.5);
        assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
        assert_int_equal(r.pretrend_status, KZ_EFFECT_OK);
        flagged += r.pretrend_violated;
        sign_ok += r.pretrend_diff > 0;
    }
    print_message("diverging pre-trends flagged in %d/%d seeds\n", flagged, SEEDS);
    assert_true(flagged >= SEEDS * 80 / 100);
    assert_true(sign_ok >= SEEDS * 95 / 100);
    kz_ctx_free(ctx);
}

/* The trend difference is per unit of t: with t in years and a half-yearly
 * series, a difference of 1 per period is 2 per year. */
static void test_pretrend_units(void **state)
{
    double y[4 * 4], t[4] = {2021.5, 2022.0, 2022.5, 2023.0};
    const unsigned char role[] = {1, 1, 2, 2};
    kz_effect_panel pn = {y, role, t, 4, 4, 3};
    kz_effect_result r;
    kz_ctx *ctx = new_ctx();
    size_t i, j;
    (void)state;
    for (i = 0; i < 4; i++)
        for (j = 0; j < 4; j++)
            y[i * 4 + j] = (double)i + (i < 2 ? 1.0 : 0.0) * (double)j + (i == 1 && j == 1) * 0.1;
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
    assert_int_equal(r.pretrend_status, KZ_EFFECT_OK);
    assert_true(fabs(r.pretrend_diff - 2.0) < 1e-9);
    kz_ctx_free(ctx);
}

static void test_refusals(void **state)
{
    double y[] = {10, 15, 12, 16, 8, 9, 9, 11};
    unsigned char role[] = {1, 1, 2, 2};
    kz_effect_panel pn = {y, role, NULL, 4, 2, 1};
    kz_effect_result r;
    double ev[2], es[2];
    kz_ctx *ctx = new_ctx();
    (void)state;
    role[1] = KZ_EFFECT_OUT; /* one treated area */
    assert_int_equal(kz_effect_estimate(&r, ev, es, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_FEW_TREATED);
    assert_true(isnan(r.did) && isnan(r.se) && isnan(r.p) && isnan(ev[1]));
    assert_int_equal(r.n_treated, 1);
    role[1] = KZ_EFFECT_TREATED;
    role[3] = KZ_EFFECT_TREATED; /* one comparison area */
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_FEW_COMPARISON);
    assert_true(isnan(r.did));
    role[3] = KZ_EFFECT_COMPARISON;
    y[4] = NAN; /* C has no value before: one comparison area left */
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_FEW_COMPARISON);
    y[4] = 8;
    pn.start = 0;
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_NO_PRE);
    pn.start = 2;
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_OK);
    assert_int_equal(r.status, KZ_EFFECT_NO_POST);
    assert_true(isnan(r.did));
    pn.start = 3;
    assert_int_equal(kz_effect_estimate(&r, NULL, NULL, ctx, &pn), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "beyond"));
    assert_true(kz_effect_status_text(KZ_EFFECT_FEW_TREATED)[0] != '\0');
    kz_ctx_free(ctx);
}

/* Two variables on different scales; treated area 0 at (0, 0).
 * v1 = 0, 10, 20, 30, 40 (mean 20, sd sqrt(200)), v2 = 0, 1, 0.1, 0, 2
 * (mean 0.62, sd 0.7440...). Distances in z to area 0:
 *   1: sqrt((10/14.142)² + (1/0.744)²) = 1.521
 *   2: sqrt((20/14.142)² + (0.1/0.744)²) = 1.421
 *   3: sqrt((30/14.142)² + 0) = 2.121
 *   4: sqrt((40/14.142)² + (2/0.744)²) = 3.902
 * k = 2 keeps 2 and 1. Unscaled, 1 (10.05) would beat 2 (20.0) and 3 (30),
 * and the order of 1 and 2 would flip. */
static void test_nearest(void **state)
{
    const double x[] = {0, 0, 10, 1, 20, 0.1, 30, 0, 40, 2, 5, NAN};
    unsigned char role[] = {1, 2, 2, 2, 2, 2};
    double d[6];
    size_t kept;
    kz_ctx *ctx = new_ctx();
    double m1 = 20, s1 = sqrt(200.0), m2 = 0.62, s2;
    (void)state;
    s2 = sqrt((0.62 * 0.62 + 0.38 * 0.38 + 0.52 * 0.52 + 0.62 * 0.62 + 1.38 * 1.38) / 5);
    (void)m1;
    (void)m2;
    assert_int_equal(kz_effect_nearest(role, d, &kept, ctx, x, 6, 2, 2), KZ_OK);
    assert_int_equal(kept, 2);
    assert_true(fabs(d[1] - sqrt(pow(10 / s1, 2) + pow(1 / s2, 2))) < 1e-12);
    assert_true(fabs(d[2] - sqrt(pow(20 / s1, 2) + pow(0.1 / s2, 2))) < 1e-12);
    assert_true(isnan(d[0]) && isnan(d[5]));
    assert_int_equal(role[0], KZ_EFFECT_TREATED);
    assert_int_equal(role[1], KZ_EFFECT_COMPARISON);
    assert_int_equal(role[2], KZ_EFFECT_COMPARISON);
    assert_int_equal(role[3], KZ_EFFECT_OUT);
    assert_int_equal(role[4], KZ_EFFECT_OUT);
    assert_int_equal(role[5], KZ_EFFECT_OUT); /* missing value */
    /* k larger than the candidates: all complete ones kept. */
    {
        unsigned char r2[] = {1, 2, 2, 2, 2, 2};
        assert_int_equal(kz_effect_nearest(r2, NULL, &kept, ctx, x, 6, 2, 10), KZ_OK);
        assert_int_equal(kept, 4);
    }
    /* No treated area with values. */
    {
        unsigned char r3[] = {2, 2, 2, 2, 2, 1};
        assert_int_equal(kz_effect_nearest(r3, NULL, &kept, ctx, x, 6, 2, 2), KZ_E_INPUT);
    }
    assert_int_equal(kz_effect_nearest(role, NULL, &kept, ctx, x, 6, 2, 0), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_by_two),
        cmocka_unit_test(test_balanced_equals_mean_did),
        cmocka_unit_test(test_unbalanced_noiseless),
        cmocka_unit_test(test_simulation_coverage),
        cmocka_unit_test(test_simulation_pretrend_violated),
        cmocka_unit_test(test_pretrend_units),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_nearest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
