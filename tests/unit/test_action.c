/* Needs for action: deviations, traffic lights with polarity, rankings
 * with ties, comparable areas; hand-computed vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/action.h"
#include "kiez/kiez.h"

#include <math.h>
#include <string.h>

#define EPS 1e-12

#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s:%d: %.17g, expected %.17g", __FILE__, __LINE__, a_, b_);                  \
    } while (0)

/* Equal, or both NaN. */
#define assert_same(a, b)                                                                          \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!((isnan(a_) && isnan(b_)) || fabs(a_ - b_) <= EPS))                                   \
            fail_msg("%s:%d: %.17g, expected %.17g", __FILE__, __LINE__, a_, b_);                  \
    } while (0)

static kz_ctx *new_ctx(void)
{
    kz_ctx *ctx = NULL;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    return ctx;
}

static void test_worse_sd_deviation(void **state)
{
    const double s[] = {1, 2, 3, 4, NAN};
    const double x[] = {12, 8, NAN, 5}, ref[] = {10, 10, 10, 0};
    const double want_abs[] = {2, -2, NAN, 5}, want_rel[] = {20, -20, NAN, NAN};
    double ab[4], rel[4];
    size_t i;
    (void)state;
    assert_near(kz_action_worse(12, 10, KZ_POLARITY_NEGATIVE), 2, EPS);
    assert_near(kz_action_worse(12, 10, KZ_POLARITY_POSITIVE), -2, EPS);
    assert_near(kz_action_worse(12, 10, KZ_POLARITY_NEUTRAL), 2, EPS);
    assert_near(kz_action_worse(8, 10, KZ_POLARITY_NEUTRAL), 2, EPS);
    assert_true(isnan(kz_action_worse(NAN, 10, KZ_POLARITY_NEGATIVE)));
    /* mean 2.5, Σ(x − x̄)² = 5, population sd sqrt(5 / 4) */
    assert_near(kz_action_sd(s, 5), sqrt(1.25), EPS);
    assert_true(isnan(kz_action_sd(s + 4, 1)));
    kz_action_deviation(ab, rel, x, ref, 4);
    for (i = 0; i < 4; i++) {
        assert_same(ab[i], want_abs[i]);
        assert_same(rel[i], want_rel[i]);
    }
}

static void test_lights(void **state)
{
    /* City 10, sd 2, thresholds 0.5 and 1 sd: w = worse deviation / 2. */
    const double x[] = {10, 10.5, 11, 11.2, 12, 13, 8.6, 7, NAN};
    const double t[2] = {0.5, 1.0}, bad[2] = {1.0, 0.5}, neg[2] = {-1, 1};
    /* negative: w = 0 .25 .5 .6 1 1.5 −.7 −1.5 → 0.5 and 1.0 exactly stay green/yellow */
    const int want_neg[] = {1, 1, 1, 2, 2, 3, 1, 1, 0};
    /* positive: w = 0 −.25 −.5 −.6 −1 −1.5 .7 1.5 */
    const int want_pos[] = {1, 1, 1, 1, 1, 1, 2, 3, 0};
    /* neutral: |x − 10| / 2 */
    const int want_neu[] = {1, 1, 1, 2, 2, 3, 2, 3, 0};
    /* absolute thresholds 1 and 2 (percentage points), negative */
    const int want_abs[] = {1, 1, 1, 2, 2, 3, 1, 1, 0};
    const double tabs[2] = {1, 2};
    int out[9];
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 2, KZ_POLARITY_NEGATIVE, t), KZ_OK);
    assert_memory_equal(out, want_neg, sizeof(out));
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 2, KZ_POLARITY_POSITIVE, t), KZ_OK);
    assert_memory_equal(out, want_pos, sizeof(out));
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 2, KZ_POLARITY_NEUTRAL, t), KZ_OK);
    assert_memory_equal(out, want_neu, sizeof(out));
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 1, KZ_POLARITY_NEGATIVE, tabs), KZ_OK);
    assert_memory_equal(out, want_abs, sizeof(out));
    /* No reference: no light. */
    assert_int_equal(kz_action_lights(out, ctx, x, 1, NAN, 2, KZ_POLARITY_NEGATIVE, t), KZ_OK);
    assert_int_equal(out[0], KZ_LIGHT_NONE);
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 2, KZ_POLARITY_NEGATIVE, bad),
                     KZ_E_USAGE);
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 2, KZ_POLARITY_NEGATIVE, neg),
                     KZ_E_USAGE);
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, 0, KZ_POLARITY_NEGATIVE, t), KZ_E_USAGE);
    assert_int_equal(kz_action_lights(out, ctx, x, 9, 10, NAN, KZ_POLARITY_NEGATIVE, t),
                     KZ_E_USAGE);
    kz_ctx_free(ctx);
}

static void check_ranks(kz_ctx *ctx, const double *x, size_t n, double ref, int pol, int ties,
                        const double *want)
{
    double r[8];
    size_t i;
    assert_int_equal(kz_action_rank(r, ctx, x, n, ref, pol, ties), KZ_OK);
    for (i = 0; i < n; i++)
        assert_same(r[i], want[i]);
}

static void test_ranks(void **state)
{
    const double x[] = {5, 7, 7, 3, NAN, 9};
    /* higher is worse: 9 first, the two 7s share 2 (or 2.5), then 5, 3 */
    const double neg_min[] = {4, 2, 2, 5, NAN, 1}, neg_avg[] = {4, 2.5, 2.5, 5, NAN, 1};
    /* higher is better: 3 first, 5, the 7s share 3 (3.5), 9 last */
    const double pos_min[] = {2, 3, 3, 1, NAN, 5}, pos_avg[] = {2, 3.5, 3.5, 1, NAN, 5};
    /* neutral around 6: |x − 6| = 1 1 1 3 – 3: the two 3s first, then three 1s */
    const double neu_min[] = {3, 3, 3, 1, NAN, 1}, neu_avg[] = {4, 4, 4, 1.5, NAN, 1.5};
    double r[6];
    kz_ctx *ctx = new_ctx();
    (void)state;
    check_ranks(ctx, x, 6, NAN, KZ_POLARITY_NEGATIVE, KZ_RANK_MIN, neg_min);
    check_ranks(ctx, x, 6, NAN, KZ_POLARITY_NEGATIVE, KZ_RANK_AVERAGE, neg_avg);
    check_ranks(ctx, x, 6, NAN, KZ_POLARITY_POSITIVE, KZ_RANK_MIN, pos_min);
    check_ranks(ctx, x, 6, NAN, KZ_POLARITY_POSITIVE, KZ_RANK_AVERAGE, pos_avg);
    check_ranks(ctx, x, 6, 6, KZ_POLARITY_NEUTRAL, KZ_RANK_MIN, neu_min);
    check_ranks(ctx, x, 6, 6, KZ_POLARITY_NEUTRAL, KZ_RANK_AVERAGE, neu_avg);
    assert_int_equal(kz_action_rank(r, ctx, x, 6, 0, 7, KZ_RANK_MIN), KZ_E_USAGE);
    assert_int_equal(kz_action_rank(r, ctx, x, 6, 0, KZ_POLARITY_NEGATIVE, 5), KZ_E_USAGE);
    assert_int_equal(kz_action_rank(r, ctx, x, 0, 0, KZ_POLARITY_NEGATIVE, KZ_RANK_MIN), KZ_OK);
    kz_ctx_free(ctx);
}

static void test_comparable(void **state)
{
    /* Two indicators over six areas (column-major), reference area 0. */
    const double x[] = {
        10, 11, 14, 9.5, 10,  10.4, /* A */
        50, 52, 51, 60,  NAN, 49    /* B */
    };
    const double sd[] = {2, 4};
    size_t idx[6], n = 99;
    double dist[6];
    kz_ctx *ctx = new_ctx();
    (void)state;
    /* Tolerance 0.5 sd: |ΔA| <= 1, |ΔB| <= 2.
     * area 1: ΔA 1 → 0.5, ΔB 2 → 0.5: in, distance 0.5 (on the bound)
     * area 2: ΔA 4 → 2: out;  area 3: ΔB 10 → 2.5: out;  area 4: B missing
     * area 5: ΔA 0.4 → 0.2, ΔB 1 → 0.25: in, distance 0.25 */
    assert_int_equal(kz_action_comparable(idx, dist, &n, ctx, x, 6, 2, 0, sd, 0.5), KZ_OK);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 5);
    assert_near(dist[0], 0.25, EPS);
    assert_int_equal(idx[1], 1);
    assert_near(dist[1], 0.5, EPS);
    /* Absolute tolerance 2: area 1 (max 2), area 5 (max 1); area 2 ΔA 4 out. */
    assert_int_equal(kz_action_comparable(idx, dist, &n, ctx, x, 6, 2, 0, NULL, 2), KZ_OK);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 5);
    assert_near(dist[0], 1, EPS);
    assert_int_equal(idx[1], 1);
    assert_near(dist[1], 2, EPS);
    /* Only indicator A, tolerance 0.3 sd (0.6): area 4 (0), 5 (0.2), 3 (0.25). */
    assert_int_equal(kz_action_comparable(idx, NULL, &n, ctx, x, 6, 1, 0, sd, 0.3), KZ_OK);
    assert_int_equal(n, 3);
    assert_int_equal(idx[0], 4);
    assert_int_equal(idx[1], 5);
    assert_int_equal(idx[2], 3);
    /* The reference without a value of B; bad arguments. */
    assert_int_equal(kz_action_comparable(idx, dist, &n, ctx, x, 6, 2, 4, sd, 0.5), KZ_E_INPUT);
    assert_int_equal(kz_action_comparable(idx, dist, &n, ctx, x, 6, 2, 6, sd, 0.5), KZ_E_USAGE);
    assert_int_equal(kz_action_comparable(idx, dist, &n, ctx, x, 6, 2, 0, sd, -1), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worse_sd_deviation),
        cmocka_unit_test(test_lights),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_comparable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
