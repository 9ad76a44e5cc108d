/* Correlation matrices and the distribution functions behind their
 * p-values; expected values from R 4.2 (cor, cor.test, pt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kiez/correlate.h"
#include "methods/distributions.h"

#include <math.h>

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want)))) {
        print_error("got %.17g, want %.17g\n", got, want);
        fail();
    }
}

static void test_t_distribution(void **state)
{
    (void)state;
    /* R: 2 * pt(-c(0.5, 2, 10, 40), c(1, 5, 30, 100)); 2 * pt(-1.3, 2.5) */
    near(kz_dist__t_p2(0.5, 1), 7.0483276469913358e-01, 1e-13);
    near(kz_dist__t_p2(-2, 5), 1.0193947882985828e-01, 1e-13);
    near(kz_dist__t_p2(10, 30), 4.5752514082296097e-11, 1e-10);
    near(kz_dist__t_p2(40, 100) / 2.4621076021400736e-63, 1.0, 1e-9);
    near(kz_dist__t_p2(1.3, 2.5), 0.30048678927070793, 1e-13);
    near(kz_dist__t_cdf(0, 7), 0.5, 1e-15);
    near(kz_dist__normal_p2(1.959963984540054), 0.05, 1e-14);
    near(kz_dist__normal_cdf(-1), 0.15865525393145705, 1e-15);
    assert_true(isnan(kz_dist__t_p2(NAN, 3)));
}

static void test_pearson_spearman(void **state)
{
    double x[] = {1, 2, 3, 4, 5}, y[] = {2, 4, 5, 4, 5};
    const double *cols[] = {x, y};
    double r[4], p[4];
    size_t n[4];
    kz_ctx *ctx = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_correlate_matrix(r, p, n, ctx, cols, 2, 5, KZ_CORR_PEARSON), KZ_OK);
    /* by hand: sxy = 6, sxx = 10, syy = 6 -> r = 6 / sqrt(60) */
    near(r[1], 6.0 / sqrt(60.0), 1e-15);
    near(r[2], r[1], 0);
    near(r[0], 1.0, 0);
    near(p[1], 0.12402706265755457, 1e-12); /* cor.test(x, y)$p.value */
    near(p[0], 0.0, 0);
    assert_int_equal(n[1], 5);
    /* Spearman with ties in y: average ranks (1, 2.5, 4.5, 2.5, 4.5) */
    assert_int_equal(kz_correlate_matrix(r, p, NULL, ctx, cols, 2, 5, KZ_CORR_SPEARMAN), KZ_OK);
    near(r[1], 0.73786478737262184, 1e-14);
    near(p[1], 0.15461852312844906, 1e-12); /* cor.test(exact = FALSE) */
    kz_ctx_free(ctx);
}

static void test_pairwise_deletion(void **state)
{
    double z[] = {1, NAN, 3, 4, 5, 6}, w[] = {2, 3, NAN, 1, 7, 8};
    const double *cols[] = {z, w};
    double r[4], p[4];
    size_t n[4];
    kz_ctx *ctx = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_correlate_matrix(r, p, n, ctx, cols, 2, 6, KZ_CORR_PEARSON), KZ_OK);
    near(r[1], 0.74693711777836957, 1e-14); /* cor(use = "pairwise.complete.obs") */
    assert_int_equal(n[1], 4);
    assert_int_equal(n[0], 5);
    assert_int_equal(n[3], 5);
    assert_int_equal(kz_correlate_matrix(r, p, n, ctx, cols, 2, 6, KZ_CORR_SPEARMAN), KZ_OK);
    near(r[1], 0.8, 1e-14);
    kz_ctx_free(ctx);
}

static void test_degenerate(void **state)
{
    double c[] = {2, 2, 2, 2}, x[] = {1, 2, 3, 4}, inf[] = {1, INFINITY, 2, 3};
    const double *cols[] = {c, x}, *bad[] = {x, inf};
    double r[4], p[4];
    kz_ctx *ctx = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_correlate_matrix(r, p, NULL, ctx, cols, 2, 4, KZ_CORR_PEARSON), KZ_OK);
    assert_true(isnan(r[1]) && isnan(p[1]) && isnan(r[0]));
    near(r[3], 1.0, 0);
    assert_int_equal(kz_correlate_matrix(r, p, NULL, ctx, cols, 2, 2, KZ_CORR_PEARSON), KZ_OK);
    assert_true(isnan(r[3])); /* fewer than 3 pairs */
    assert_int_equal(kz_correlate_matrix(r, p, NULL, ctx, bad, 2, 4, KZ_CORR_PEARSON), KZ_E_INPUT);
    assert_int_equal(kz_correlate_matrix(r, p, NULL, ctx, cols, 2, 4, 7), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_distribution),
        cmocka_unit_test(test_pearson_spearman),
        cmocka_unit_test(test_pairwise_deletion),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
