/* Moran's I, LISA, bivariate and EB Moran on hand-computed cases: a chain
 * of four, a 3 x 3 checkerboard (rook and queen), a chain with an island;
 * plus invariants and thread-independence of the permutations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kiez/moran.h"
#include "kiez/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want)))) {
        print_error("got %.17g, want %.17g\n", got, want);
        fail();
    }
}

/* Rook (queen = 0) or queen grid of m x m cells, cell r*m+c. */
static kz_weights *grid(kz_ctx *ctx, int m, int queen, int style)
{
    size_t n = (size_t)m * (size_t)m, *off = calloc(n + 1, sizeof(size_t)),
           *nbr = malloc(8 * n * sizeof(size_t)), k = 0;
    kz_weights *w = NULL;
    int r, c, dr, dc;
    for (r = 0; r < m; r++)
        for (c = 0; c < m; c++) {
            for (dr = -1; dr <= 1; dr++)
                for (dc = -1; dc <= 1; dc++) {
                    int rr = r + dr, cc = c + dc;
                    if ((dr == 0 && dc == 0) || rr < 0 || cc < 0 || rr >= m || cc >= m)
                        continue;
                    if (!queen && dr != 0 && dc != 0)
                        continue;
                    nbr[k++] = (size_t)(rr * m + cc);
                }
            off[r * m + c + 1] = k;
        }
    assert_int_equal(kz_weights_from_lists(&w, ctx, n, off, nbr, NULL, style), KZ_OK);
    free(off);
    free(nbr);
    return w;
}

static kz_weights *chain(kz_ctx *ctx, int style)
{
    size_t off[] = {0, 1, 3, 5, 6}, nbr[] = {1, 0, 2, 1, 3, 2};
    kz_weights *w = NULL;
    assert_int_equal(kz_weights_from_lists(&w, ctx, 4, off, nbr, NULL, style), KZ_OK);
    return w;
}

static void test_chain_global(void **state)
{
    double x[] = {1, 2, 3, 4};
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_moran_result r;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    w = chain(ctx, KZ_STYLE_B);
    kz_moran_options_init(&o);
    o.permutations = 0;
    assert_int_equal(kz_moran_global(&r, ctx, w, x, &o), KZ_OK);
    /* z = (-1.5, -0.5, 0.5, 1.5), sum z^2 = 5, sum_ij w_ij z_i z_j = 2.5,
     * S0 = 6: I = (4/6) 2.5/5 = 1/3. S1 = 12, S2 = 2^2+4^2+4^2+2^2 = 40. */
    near(r.i, 1.0 / 3.0, 1e-15);
    near(r.expected, -1.0 / 3.0, 1e-15);
    near(r.s0, 6, 0);
    near(r.s1, 12, 0);
    near(r.s2, 40, 0);
    /* normality: (16*12 - 4*40 + 3*36) / (36*15) - 1/9 = 4/27 */
    near(r.var_norm, 4.0 / 27.0, 1e-15);
    near(r.z_norm, (2.0 / 3.0) / sqrt(4.0 / 27.0), 1e-14);
    near(r.p_norm, erfc(fabs(r.z_norm) / sqrt(2.0)), 1e-15);
    /* randomisation: b2 = 4 * 10.25 / 25 = 1.64;
     * (4 (7*12 - 160 + 108) - 1.64 (12*12 - 320 + 216)) / (3*2*1*36) - 1/9
     * = (128 - 65.6) / 216 - 1/9 = 8/45 */
    near(r.var_rand, 8.0 / 45.0, 1e-14);
    assert_true(isnan(r.p_sim));
    assert_int_equal(r.n_used, 4);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

static void test_chain_local(void **state)
{
    double x[] = {1, 2, 3, 4};
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_lisa *l = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    w = chain(ctx, KZ_STYLE_W);
    kz_moran_options_init(&o);
    o.permutations = 0;
    assert_int_equal(kz_moran_local(&l, ctx, w, x, &o), KZ_OK);
    /* m2 = 5/4; lags (-0.5, -0.5, 0.5, 0.5); I_i = z_i / m2 * lag_i */
    near(l->i[0], 0.6, 1e-15);
    near(l->i[1], 0.2, 1e-15);
    near(l->i[2], 0.2, 1e-15);
    near(l->i[3], 0.6, 1e-15);
    near(l->lag[0], -0.5, 1e-15);
    /* E = -z^2 W_i / ((n-1) m2) = -2.25 / 3.75; Var = 1.44 * 2 * (2/3) * 0.5 */
    near(l->expected[0], -0.6, 1e-15);
    near(l->variance[0], 0.96, 1e-15);
    near(l->z[0], 1.2 / sqrt(0.96), 1e-14);
    assert_null(l->p_sim);
    kz_moran_local_free(l);
    kz_moran_local_free(NULL);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

static void test_checkerboard(void **state)
{
    double x[] = {1, 0, 1, 0, 1, 0, 1, 0, 1};
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_moran_result r;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    kz_moran_options_init(&o);
    o.permutations = 99;
    /* rook: every link joins a 1 and a 0: I = -1 */
    w = grid(ctx, 3, 0, KZ_STYLE_B);
    assert_int_equal(kz_moran_global(&r, ctx, w, x, &o), KZ_OK);
    near(r.i, -1.0, 1e-15);
    near(r.s0, 24, 0);
    /* nothing permuted is more negative: folded M = 0 -> p = 1/100 */
    near(r.p_sim, 0.01, 1e-15);
    kz_weights_free(w);
    /* queen: (9/40) (24 (-20/81) + 8 (16/81) + 8 (25/81)) / (20/9) = -0.19 */
    w = grid(ctx, 3, 1, KZ_STYLE_B);
    assert_int_equal(kz_moran_global(&r, ctx, w, x, &o), KZ_OK);
    near(r.i, -0.19, 1e-15);
    near(r.s0, 40, 0);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

static void test_island(void **state)
{
    /* chain a-b-c and the island d */
    size_t off[] = {0, 1, 3, 4, 4}, nbr[] = {1, 0, 2, 1};
    double x[] = {1, 2, 3, 10};
    kz_ctx *ctx = NULL;
    kz_weights *w = NULL;
    kz_moran_options o;
    kz_moran_result r;
    kz_lisa *l = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_weights_from_lists(&w, ctx, 4, off, nbr, NULL, KZ_STYLE_B), KZ_OK);
    kz_moran_options_init(&o);
    o.permutations = 0;
    assert_int_equal(kz_moran_global(&r, ctx, w, x, &o), KZ_OK);
    /* mean over all four = 4, z = (-3, -2, -1, 6), sum z^2 = 50;
     * sum w z z = 2 (6 + 2) = 16; n = 3 (spdep adjust.n); I = 3/4 * 16/50 */
    assert_int_equal(r.n_used, 3);
    assert_int_equal(r.n_islands, 1);
    near(r.i, 0.24, 1e-15);
    near(r.expected, -0.5, 1e-15);
    assert_true(isnan(r.var_rand)); /* needs n > 3 */
    assert_false(isnan(r.var_norm));
    assert_int_equal(kz_moran_local(&l, ctx, w, x, &o), KZ_OK);
    near(l->i[3], 0.0, 0);
    assert_true(isnan(l->z[3]) && isnan(l->p_norm[3]));
    assert_int_equal(l->cluster[3], KZ_LISA_NS);
    kz_moran_local_free(l);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

/* 20 x 20 grid, values with a trend plus noise. */
static void field(double *x, int m, uint64_t seed)
{
    int i;
    for (i = 0; i < m * m; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (i % m) + (i / m) * 0.5 + (double)(seed >> 40) / (double)(1ULL << 24) * 8.0;
    }
}

static void test_permutations_thread_independent(void **state)
{
    enum { M = 20, N = M * M };
    double x[N], y[N];
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_moran_result r1, r2;
    kz_lisa *a = NULL, *b = NULL;
    double sum = 0;
    int i, t;
    (void)state;
    field(x, M, 7);
    field(y, M, 99);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    w = grid(ctx, M, 1, KZ_STYLE_W);
    kz_moran_options_init(&o);
    o.permutations = 499;
    o.seed = 2024;
    o.threads = 1;
    assert_int_equal(kz_moran_global(&r1, ctx, w, x, &o), KZ_OK);
    assert_int_equal(kz_moran_local(&a, ctx, w, x, &o), KZ_OK);
    /* sum_i I_i = n I for row-standardised weights without islands */
    for (i = 0; i < N; i++)
        sum += a->i[i];
    near(sum, N * r1.i, 1e-12);
    near(r1.p_sim, 1.0 / 500.0, 1e-15); /* strong trend: no permutation beats it */
    for (t = 2; t <= 3; t++) {
        o.threads = t;
        assert_int_equal(kz_moran_global(&r2, ctx, w, x, &o), KZ_OK);
        assert_true(r2.p_sim == r1.p_sim && r2.mean_sim == r1.mean_sim && r2.sd_sim == r1.sd_sim);
        assert_int_equal(kz_moran_local(&b, ctx, w, x, &o), KZ_OK);
        assert_memory_equal(a->p_sim, b->p_sim, N * sizeof(double));
        assert_memory_equal(a->cluster, b->cluster, N * sizeof(int));
        kz_moran_local_free(b);
    }
    for (i = 0; i < N; i++)
        assert_true(a->p_sim[i] >= 1.0 / 500.0 && a->p_sim[i] <= 0.5 + 1e-12);
    assert_true(a->counts[KZ_LISA_HH] > 0 && a->counts[KZ_LISA_LL] > 0);
    /* another seed gives other p-values */
    o.seed = 2025;
    assert_int_equal(kz_moran_local(&b, ctx, w, x, &o), KZ_OK);
    assert_true(memcmp(a->p_sim, b->p_sim, N * sizeof(double)) != 0);
    kz_moran_local_free(b);
    /* FDR: a stricter cut, never more significant areas */
    o.fdr = 1;
    assert_int_equal(kz_moran_local(&b, ctx, w, x, &o), KZ_OK);
    assert_true(b->threshold <= o.alpha);
    assert_true(b->counts[0] >= a->counts[0]);
    kz_moran_local_free(b);
    /* bivariate of x with itself equals Moran's I (W style, no islands) */
    o.fdr = 0;
    assert_int_equal(kz_moran_bivariate(&r2, ctx, w, x, x, &o), KZ_OK);
    near(r2.i, r1.i, 1e-13);
    assert_int_equal(kz_moran_bivariate(&r2, ctx, w, x, y, &o), KZ_OK);
    assert_true(r2.p_sim > 0 && r2.p_sim <= 0.5 + 1e-12);
    assert_int_equal(kz_moran_local_bivariate(&b, ctx, w, x, x, &o), KZ_OK);
    /* local BV of x with x: zx_i lag(zx)_i = I_i (n - 1) / n */
    near(b->i[17], a->i[17] * (N - 1) / N, 1e-12);
    kz_moran_local_free(b);
    kz_moran_local_free(a);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

static void test_eb_rates(void **state)
{
    double e[] = {1, 2, 3}, b[] = {10, 10, 10}, z[3], bad[] = {10, 0, 10};
    double e4[] = {1, 2, 3, 9}, b4[] = {10, 10, 10, 20};
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_moran_result r1, r2;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    /* beta = 0.2; s2 = 0.2/30; alpha = s2 - 0.2/10 < 0 -> 0; v = 0.02 */
    assert_int_equal(kz_moran_eb_rates(z, ctx, e, b, 3), KZ_OK);
    near(z[0], -0.1 / sqrt(0.02), 1e-15);
    near(z[1], 0.0, 1e-15);
    near(z[2], 0.1 / sqrt(0.02), 1e-15);
    assert_int_equal(kz_moran_eb_rates(z, ctx, e, bad, 3), KZ_E_INPUT);
    w = chain(ctx, KZ_STYLE_W);
    kz_moran_options_init(&o);
    o.permutations = 0;
    {
        double zz[4];
        assert_int_equal(kz_moran_rate(&r1, zz, ctx, w, e4, b4, &o), KZ_OK);
        assert_int_equal(kz_moran_global(&r2, ctx, w, zz, &o), KZ_OK);
        near(r1.i, r2.i, 0);
    }
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

static void test_bad_input(void **state)
{
    double c[] = {3, 3, 3, 3}, nan4[] = {1, NAN, 2, 3};
    kz_ctx *ctx = NULL;
    kz_weights *w;
    kz_moran_options o;
    kz_moran_result r;
    kz_lisa *l = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    w = chain(ctx, KZ_STYLE_W);
    kz_moran_options_init(&o);
    assert_int_equal(kz_moran_global(&r, ctx, w, c, &o), KZ_E_INPUT);
    assert_int_equal(kz_moran_global(&r, ctx, w, nan4, &o), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "area 1"));
    assert_int_equal(kz_moran_local(&l, ctx, w, c, &o), KZ_E_INPUT);
    assert_null(l);
    o.permutations = -1;
    assert_int_equal(kz_moran_global(&r, ctx, w, nan4, &o), KZ_E_USAGE);
    assert_string_equal(kz_moran_class_name(KZ_LISA_HL), "HL");
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_global),
        cmocka_unit_test(test_chain_local),
        cmocka_unit_test(test_checkerboard),
        cmocka_unit_test(test_island),
        cmocka_unit_test(test_permutations_thread_independent),
        cmocka_unit_test(test_eb_rates),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
