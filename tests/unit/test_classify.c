/* Classification methods: hand vectors for every method, ties, constant
 * input, k > distinct values, and Jenks against exhaustive search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/classify.h"
#include "kiez/kiez.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-12

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

/* Classify and check breaks and counts. */
static void check(const double *v, size_t n, int method, int k, double step,
                  const double *want_breaks, int want_k, const size_t *want_counts)
{
    kz_ctx *ctx = new_ctx();
    kz_classify_options o = {0};
    double b[KZ_CLASSIFY_MAX_CLASSES + 1];
    size_t counts[KZ_CLASSIFY_MAX_CLASSES];
    int cls[64], got_k = -1, i;
    o.method = method;
    o.classes = k;
    o.sd_step = step;
    assert_int_equal(kz_classify_breaks(b, &got_k, ctx, v, n, &o), KZ_OK);
    assert_int_equal(got_k, want_k);
    for (i = 0; i <= want_k; i++)
        assert_near(b[i], want_breaks[i], 1e-9);
    kz_classify_assign(cls, counts, b, got_k, v, n);
    for (i = 0; i < want_k; i++)
        assert_int_equal(counts[i], want_counts[i]);
    kz_ctx_free(ctx);
}

static void test_quantile(void **state)
{
    /* 1..10, k = 4, Hyndman-Fan 7: h = 9p → 3.25, 5.5, 7.75 */
    const double v[] = {7, 1, 2, 3, 4, 5, 6, 8, 9, 10};
    const double b[] = {1, 3.25, 5.5, 7.75, 10};
    const size_t c[] = {3, 2, 2, 3};
    /* ties: Q(.25) = Q(.5) = Q(.75) = 1 → breaks merge to one class */
    const double t[] = {1, 1, 1, 1, 2};
    const double tb[] = {1, 2};
    const size_t tc[] = {5};
    /* ties in the middle: 1 1 2 2 2 2 3 3, k = 3: h = 7/3 and 14/3 both
     * fall among the 2s → breaks 1 2 2 3, merged to two classes */
    const double m[] = {3, 1, 2, 2, 1, 2, 2, 3};
    const double mb[] = {1, 2, 3};
    const size_t mc[] = {6, 2};
    (void)state;
    check(v, 10, KZ_CLASSIFY_QUANTILE, 4, 0, b, 4, c);
    check(t, 5, KZ_CLASSIFY_QUANTILE, 4, 0, tb, 1, tc);
    check(m, 8, KZ_CLASSIFY_QUANTILE, 3, 0, mb, 2, mc);
}

static void test_equal(void **state)
{
    const double v[] = {0, 1, 2, 10};
    const double b[] = {0, 2, 4, 6, 8, 10};
    const size_t c[] = {3, 0, 0, 0, 1};
    const double w[] = {-1, 0.5, 2};
    const double wb[] = {-1, 0.5, 2};
    const size_t wc[] = {2, 1};
    (void)state;
    check(v, 4, KZ_CLASSIFY_EQUAL, 5, 0, b, 5, c);
    check(w, 3, KZ_CLASSIFY_EQUAL, 2, 0, wb, 2, wc); /* 0.5 == break → lower class */
}

static void test_stddev(void **state)
{
    /* mean 5, population sd 2 */
    const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
    const double b3[] = {2, 3, 7, 9};
    const size_t c3[] = {1, 6, 1};
    const double b4[] = {2, 3, 5, 7, 9};
    const size_t c4[] = {1, 5, 1, 1};
    const double h4[] = {2, 4, 5, 6, 9}; /* half sd steps */
    const size_t hc4[] = {4, 2, 0, 2};
    const double b6[] = {1, 1, 3, 5, 7, 9, 9}; /* breaks beyond the data */
    const size_t c6[] = {0, 1, 5, 1, 1, 0};
    const double b1[] = {2, 9};
    const size_t c1[] = {8};
    kz_ctx *ctx = new_ctx();
    kz_classify_options o = {0};
    double b[8];
    int k;
    (void)state;
    check(v, 8, KZ_CLASSIFY_STDDEV, 3, 1.0, b3, 3, c3);
    check(v, 8, KZ_CLASSIFY_STDDEV, 4, 0.0, b4, 4, c4);
    check(v, 8, KZ_CLASSIFY_STDDEV, 4, 0.5, h4, 4, hc4);
    check(v, 8, KZ_CLASSIFY_STDDEV, 6, 1.0, b6, 6, c6);
    check(v, 8, KZ_CLASSIFY_STDDEV, 1, 1.0, b1, 1, c1);
    /* sample sd: sqrt(32 / 7) */
    o.method = KZ_CLASSIFY_STDDEV;
    o.classes = 3;
    o.sample_sd = 1;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 8, &o), KZ_OK);
    assert_near(b[1], 5 - sqrt(32.0 / 7.0), EPS);
    assert_near(b[2], 5 + sqrt(32.0 / 7.0), EPS);
    kz_ctx_free(ctx);
}

static void test_manual(void **state)
{
    const double v[] = {1, 5, 10, 15, NAN};
    const double inner[] = {5, 10};
    const double full[] = {0, 5, 10, 12};
    const double bad[] = {0, 5, 5, 12};
    kz_ctx *ctx = new_ctx();
    kz_classify_options o = {0};
    double b[8];
    size_t counts[8];
    int cls[5], k;
    (void)state;
    o.method = KZ_CLASSIFY_MANUAL;
    o.classes = 3;
    o.breaks = inner;
    o.n_breaks = 2;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 5, &o), KZ_OK);
    assert_int_equal(k, 3);
    assert_near(b[0], 1, EPS);
    assert_near(b[1], 5, EPS);
    assert_near(b[2], 10, EPS);
    assert_near(b[3], 15, EPS);
    assert_int_equal(kz_classify_assign(cls, counts, b, k, v, 5), 1);
    assert_int_equal(cls[0], 0);
    assert_int_equal(cls[1], 0);
    assert_int_equal(cls[2], 1);
    assert_int_equal(cls[3], 2);
    assert_int_equal(cls[4], -1);

    o.breaks = full;
    o.n_breaks = 4;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 5, &o), KZ_OK);
    assert_int_equal(k, 3);
    assert_int_equal(kz_classify_assign(cls, counts, b, k, v, 5), 2); /* 15 and NaN */
    assert_int_equal(cls[3], -1);
    assert_int_equal(counts[0], 2);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 0);

    o.breaks = bad;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 5, &o), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "increase"));
    o.breaks = full;
    o.n_breaks = 3;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 5, &o), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

static void test_jenks_hand(void **state)
{
    const double v[] = {11, 1, 2, 3, 10, 12, 20};
    const double b[] = {1, 3, 12, 20};
    const size_t c[] = {3, 3, 1};
    const double a[] = {4, 5, 9, 10};
    const double ab[] = {4, 5, 10};
    const size_t ac[] = {2, 2};
    /* ties stay together */
    const double t[] = {1, 1, 1, 2, 2, 9};
    const double tb[] = {1, 2, 9};
    const size_t tc[] = {5, 1};
    /* k > distinct values: one class per distinct value */
    const double d[] = {2, 1, 3, 2};
    const double db[] = {1, 1, 2, 3};
    const size_t dc[] = {1, 2, 1};
    (void)state;
    check(v, 7, KZ_CLASSIFY_JENKS, 3, 0, b, 3, c);
    check(a, 4, KZ_CLASSIFY_JENKS, 2, 0, ab, 2, ac);
    check(t, 6, KZ_CLASSIFY_JENKS, 2, 0, tb, 2, tc);
    check(d, 4, KZ_CLASSIFY_JENKS, 5, 0, db, 3, dc);
}

static void test_constant_and_errors(void **state)
{
    const double v[] = {3, 3, NAN, 3};
    const double one[] = {3, 3};
    const size_t c[] = {3};
    const double nan[] = {NAN, NAN};
    kz_ctx *ctx = new_ctx();
    kz_classify_options o = {0};
    double b[8];
    int k;
    (void)state;
    check(v, 4, KZ_CLASSIFY_QUANTILE, 4, 0, one, 1, c);
    check(v, 4, KZ_CLASSIFY_EQUAL, 4, 0, one, 1, c);
    check(v, 4, KZ_CLASSIFY_JENKS, 4, 0, one, 1, c);
    o.method = KZ_CLASSIFY_STDDEV;
    o.classes = 3;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 4, &o), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "sd = 0"));
    o.method = KZ_CLASSIFY_QUANTILE;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, nan, 2, &o), KZ_E_INPUT);
    assert_int_equal(kz_classify_breaks(b, &k, ctx, nan, 0, &o), KZ_E_INPUT);
    o.classes = 0;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 4, &o), KZ_E_USAGE);
    o.classes = 3;
    o.method = 99;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, 4, &o), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

static void test_labels_and_names(void **state)
{
    char buf[64];
    (void)state;
    assert_int_equal(kz_classify_label(buf, sizeof(buf), 1.2345, 3.4, 1), 11);
    assert_string_equal(buf, "1.2 \xe2\x80\x93 3.4");
    kz_classify_label(buf, sizeof(buf), -0.0001, 10, 0);
    assert_string_equal(buf, "0 \xe2\x80\x93 10"); /* no "-0" */
    kz_classify_label(buf, sizeof(buf), -1.25, -0.004, 2);
    assert_string_equal(buf, "-1.25 \xe2\x80\x93 0.00");
    kz_classify_label(buf, sizeof(buf), 0.0, 2.5, 2);
    assert_string_equal(buf, "0.00 \xe2\x80\x93 2.50");
    assert_string_equal(kz_classify_method_name(KZ_CLASSIFY_JENKS), "jenks");
    assert_int_equal(kz_classify_method_parse("stddev"), KZ_CLASSIFY_STDDEV);
    assert_int_equal(kz_classify_method_parse("natural"), -1);
    assert_null(kz_classify_method_name(7));
}

/* ---- Jenks against exhaustive search ---- */

static uint64_t rng_state;
static double rnd(void) /* xorshift64*, uniform [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double group_ssd(const double *v, const int *g, size_t n, int k)
{
    double s[8] = {0}, c[8] = {0}, ssd = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        s[g[i]] += v[i];
        c[g[i]] += 1;
    }
    for (i = 0; i < n; i++) {
        double d = v[i] - s[g[i]] / c[g[i]];
        ssd += d * d;
    }
    (void)k;
    return ssd;
}

/* Minimum SSD over every partition of v into exactly k non-empty sets
 * (restricted growth strings: g[0] = 0, g[i] <= 1 + max(g[0..i-1])). */
static double brute_all_partitions(const double *v, size_t n, int k)
{
    int g[16] = {0}, mx[16] = {0};
    double best = INFINITY;
    size_t i;
    for (;;) {
        if (mx[n - 1] + 1 == k) {
            double s = group_ssd(v, g, n, k);
            if (s < best)
                best = s;
        }
        /* next restricted growth string with at most k blocks */
        i = n - 1;
        while (i > 0 && (g[i] > mx[i - 1] || g[i] + 1 >= k))
            i--;
        if (i == 0)
            break;
        g[i]++;
        mx[i] = g[i] > mx[i - 1] ? g[i] : mx[i - 1];
        for (i = i + 1; i < n; i++) {
            g[i] = 0;
            mx[i] = mx[i - 1];
        }
    }
    return best;
}

/* Minimum SSD over every split of the sorted values into k non-empty runs
 * (ties may be split). */
static double brute_contiguous(const double *v, size_t n, int k)
{
    double s[16];
    int g[16];
    unsigned mask, total = 1u << (n - 1);
    double best = INFINITY;
    size_t i;
    memcpy(s, v, n * sizeof(*s));
    for (i = 1; i < n; i++) { /* insertion sort */
        size_t j = i;
        double x = s[i];
        while (j > 0 && s[j - 1] > x) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
    for (mask = 0; mask < total; mask++) {
        if (__builtin_popcount(mask) != k - 1)
            continue;
        g[0] = 0;
        for (i = 1; i < n; i++)
            g[i] = g[i - 1] + ((mask >> (i - 1)) & 1u ? 1 : 0);
        {
            double ssd = group_ssd(s, g, n, k);
            if (ssd < best)
                best = ssd;
        }
    }
    return best;
}

static double jenks_ssd(kz_ctx *ctx, const double *v, size_t n, int k, int *got_k)
{
    kz_classify_options o = {0};
    double b[8];
    int cls[16];
    o.method = KZ_CLASSIFY_JENKS;
    o.classes = k;
    assert_int_equal(kz_classify_breaks(b, got_k, ctx, v, n, &o), KZ_OK);
    assert_int_equal(kz_classify_assign(cls, NULL, b, *got_k, v, n), 0);
    return kz_classify_ssd(v, cls, n);
}

static void test_jenks_exhaustive(void **state)
{
    kz_ctx *ctx = new_ctx();
    unsigned seed;
    int cases = 0;
    (void)state;
    /* continuous values: every set partition, n <= 10 */
    for (seed = 1; seed <= 300; seed++) {
        double v[16];
        size_t n = 2 + seed % 9, i; /* 2..10 */
        int k = 1 + (int)(seed / 9) % 4, got_k;
        double mine, best;
        rng_state = 0x9E3779B97F4A7C15ULL * seed;
        if ((size_t)k > n)
            k = (int)n;
        /* every 5th case sits on a large offset (cancellation check) */
        for (i = 0; i < n; i++)
            v[i] = (seed % 5 == 0 ? 1e6 : 0.0) + rnd() * 100.0 * (seed % 3 == 0 ? rnd() : 1.0);
        mine = jenks_ssd(ctx, v, n, k, &got_k);
        assert_int_equal(got_k, k);
        best = brute_all_partitions(v, n, k);
        if (fabs(mine - best) > 1e-8 * (1.0 + best))
            fail_msg("seed %u n %zu k %d: jenks %.12g, exhaustive %.12g", seed, n, k, mine, best);
        cases++;
    }
    /* a few full n = 12 set-partition searches */
    for (seed = 1000; seed < 1004; seed++) {
        double v[12];
        size_t i;
        int got_k;
        rng_state = 0x2545F4914F6CDD1DULL * seed;
        for (i = 0; i < 12; i++)
            v[i] = rnd() * 50.0;
        {
            double mine = jenks_ssd(ctx, v, 12, 4, &got_k);
            double best = brute_all_partitions(v, 12, 4);
            assert_true(fabs(mine - best) <= 1e-9 * (1.0 + best));
        }
        cases++;
    }
    /* integer values with ties, n = 12: every split of the sorted values */
    for (seed = 1; seed <= 400; seed++) {
        double v[12], mine, best;
        size_t n = 4 + seed % 9, i; /* 4..12 */
        int k = 1 + (int)(seed / 9) % 4, got_k, distinct = 0, j;
        rng_state = 0xD1B54A32D192ED03ULL * seed;
        for (i = 0; i < n; i++)
            v[i] = floor(rnd() * 7.0);
        for (j = 0; j < 7; j++)
            for (i = 0; i < n; i++)
                if (v[i] == j) {
                    distinct++;
                    break;
                }
        mine = jenks_ssd(ctx, v, n, k, &got_k);
        assert_int_equal(got_k, k < distinct ? k : distinct);
        if (got_k < k)
            continue; /* fewer distinct values than classes: one per value, SSD 0 */
        best = brute_contiguous(v, n, k);
        if (fabs(mine - best) > 1e-9 * (1.0 + best))
            fail_msg("ties seed %u n %zu k %d: jenks %.12g, exhaustive %.12g", seed, n, k, mine,
                     best);
        if (n <= 9) {
            best = brute_all_partitions(v, n, k);
            assert_true(fabs(mine - best) <= 1e-9 * (1.0 + best));
        }
        cases++;
    }
    assert_true(cases > 600);
    kz_ctx_free(ctx);
}

static void test_jenks_larger(void **state)
{
    /* n = 3000 with 3 clear clusters: Jenks must find them */
    enum { N = 3000 };
    static double v[N];
    kz_ctx *ctx = new_ctx();
    kz_classify_options o = {0};
    double b[4];
    size_t i, counts[3];
    static int cls[N];
    int k;
    (void)state;
    rng_state = 42;
    for (i = 0; i < N; i++)
        v[i] = (double)(i % 3) * 100.0 + rnd() * 10.0;
    o.method = KZ_CLASSIFY_JENKS;
    o.classes = 3;
    assert_int_equal(kz_classify_breaks(b, &k, ctx, v, N, &o), KZ_OK);
    kz_classify_assign(cls, counts, b, k, v, N);
    assert_int_equal(counts[0], 1000);
    assert_int_equal(counts[1], 1000);
    assert_int_equal(counts[2], 1000);
    assert_true(b[1] < 10.0 && b[2] >= 100.0 && b[2] < 110.0);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile),         cmocka_unit_test(test_equal),
        cmocka_unit_test(test_stddev),           cmocka_unit_test(test_manual),
        cmocka_unit_test(test_jenks_hand),       cmocka_unit_test(test_constant_and_errors),
        cmocka_unit_test(test_labels_and_names), cmocka_unit_test(test_jenks_exhaustive),
        cmocka_unit_test(test_jenks_larger),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
