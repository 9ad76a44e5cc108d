/* z-scores, composite index, cut classes, cross-classification: hand
 * vectors, and Berlin's MSS 2021 from its published inputs (skipped with 77
 * when the data is missing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/kiez.h"
#include "kiez/standardise.h"

#include <math.h>
#include <stdio.h>
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

static void test_zscore_plain(void **state)
{
    /* mean 5, Σ(x − 5)² = 32: population sd 2, sample sd sqrt(32/7) */
    const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
    const double want[] = {-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2};
    kz_ctx *ctx = new_ctx();
    kz_zscore_options o = {0};
    kz_zstats st;
    double z[8];
    int i;
    (void)state;
    assert_int_equal(kz_zscore(z, &st, ctx, x, 8, NULL), KZ_OK);
    for (i = 0; i < 8; i++)
        assert_near(z[i], want[i], EPS);
    assert_int_equal(st.n, 8);
    assert_int_equal(st.n_out, 0);
    assert_near(st.mean, 5, EPS);
    assert_near(st.sd, 2, EPS);
    o.sample_sd = 1;
    assert_int_equal(kz_zscore(z, &st, ctx, x, 8, &o), KZ_OK);
    assert_near(st.sd, sqrt(32.0 / 7.0), EPS);
    assert_near(z[7], 4.0 / sqrt(32.0 / 7.0), EPS);
    kz_ctx_free(ctx);
}

static void test_zscore_include_and_nan(void **state)
{
    /* 100 excluded (outlier), NaN skipped: mean 2, sd sqrt(2/3) */
    const double x[] = {1, 2, 3, 100, NAN};
    const unsigned char inc[] = {1, 1, 1, 0, 1};
    kz_ctx *ctx = new_ctx();
    kz_zscore_options o = {0};
    kz_zstats st;
    double z[5];
    (void)state;
    o.include = inc;
    assert_int_equal(kz_zscore(z, &st, ctx, x, 5, &o), KZ_OK);
    assert_int_equal(st.n, 3);
    assert_int_equal(st.n_out, 2);
    assert_near(st.mean, 2, EPS);
    assert_near(st.sd, sqrt(2.0 / 3.0), EPS);
    assert_near(z[0], -1.0 / sqrt(2.0 / 3.0), EPS);
    assert_near(z[1], 0, EPS);
    assert_true(isnan(z[3]));
    assert_true(isnan(z[4]));
    kz_ctx_free(ctx);
}

static void test_zscore_weights(void **state)
{
    /* w = 1 1 2 on 1 2 3: W = 4, mean 9/4, Σw(x − m)² = 2.75;
     * population sd sqrt(2.75/4), sample (frequency) sd sqrt(2.75/3);
     * the same as the unweighted 1 2 3 3. */
    const double x[] = {1, 2, 3};
    const double w[] = {1, 1, 2};
    const double rep[] = {1, 2, 3, 3};
    kz_ctx *ctx = new_ctx();
    kz_zscore_options o = {0};
    kz_zstats st, sr;
    double z[3], zr[4];
    (void)state;
    o.weights = w;
    assert_int_equal(kz_zscore(z, &st, ctx, x, 3, &o), KZ_OK);
    assert_near(st.weight, 4, EPS);
    assert_near(st.mean, 2.25, EPS);
    assert_near(st.sd, sqrt(2.75 / 4.0), EPS);
    assert_near(z[0], (1 - 2.25) / sqrt(2.75 / 4.0), EPS);
    assert_int_equal(kz_zscore(zr, &sr, ctx, rep, 4, NULL), KZ_OK);
    assert_near(sr.sd, st.sd, EPS);
    o.sample_sd = 1;
    assert_int_equal(kz_zscore(z, &st, ctx, x, 3, &o), KZ_OK);
    assert_near(st.sd, sqrt(2.75 / 3.0), EPS);
    kz_ctx_free(ctx);
}

static void test_zscore_errors(void **state)
{
    const double one[] = {1, NAN};
    const double same[] = {4, 4, 4};
    const double x[] = {1, 2, 3};
    const double neg[] = {1, -1, 1};
    kz_ctx *ctx = new_ctx();
    kz_zscore_options o = {0};
    double z[3];
    (void)state;
    assert_int_equal(kz_zscore(z, NULL, ctx, one, 2, NULL), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "2 or more"));
    assert_int_equal(kz_zscore(z, NULL, ctx, same, 3, NULL), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "sd = 0"));
    o.weights = neg;
    assert_int_equal(kz_zscore(z, NULL, ctx, x, 3, &o), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "negative weight"));
    kz_ctx_free(ctx);
}

static void test_composite(void **state)
{
    const double z1[] = {1, -1, 0, 0};
    const double z2[] = {1, 1, -1, -1};
    const double zn[] = {1, NAN, 0, 0};
    kz_index_input in[2] = {{z1, 1, 0}, {z2, 1, 0}};
    kz_ctx *ctx = new_ctx();
    kz_zstats st;
    double sum[4], idx[4];
    (void)state;
    /* sums 2 0 −1 −1: mean 0, sd sqrt(6/4) */
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 2, 4, NULL), KZ_OK);
    assert_near(sum[0], 2, EPS);
    assert_near(sum[3], -1, EPS);
    assert_near(st.mean, 0, EPS);
    assert_near(st.sd, sqrt(1.5), EPS);
    assert_near(idx[0], 2 / sqrt(1.5), EPS);
    assert_near(idx[2], -1 / sqrt(1.5), EPS);
    /* polarity −1 on z2: sums 0 −2 1 1 */
    in[1].polarity = -1;
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 2, 4, NULL), KZ_OK);
    assert_near(sum[1], -2, EPS);
    assert_near(idx[1], -2 / sqrt(1.5), EPS);
    /* weight 2 on z1, polarity +1 on both: sums 3 −1 −1 −1, sd sqrt(3) */
    in[0].weight = 2;
    in[1].polarity = 1;
    assert_int_equal(kz_index_composite(NULL, idx, &st, ctx, in, 2, 4, NULL), KZ_OK);
    assert_near(idx[0], 3 / sqrt(3.0), EPS);
    /* a missing input (2 z1 + zn): no index for that area, the others are
     * standardised without it: sums 3 NaN 0 0, mean 1, sd sqrt(2) */
    in[1].z = zn;
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 2, 4, NULL), KZ_OK);
    assert_true(isnan(sum[1]) && isnan(idx[1]));
    assert_int_equal(st.n, 3);
    assert_near(st.mean, 1, EPS);
    assert_near(st.sd, sqrt(2.0), EPS);
    assert_near(idx[0], 2 / sqrt(2.0), EPS);
    in[0].polarity = 0;
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 2, 4, NULL), KZ_E_USAGE);
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 0, 4, NULL), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

static void test_cut_classes(void **state)
{
    const double status_cuts[] = {-1, 1, 1.5};
    const double dyn_cuts[] = {-1, 1};
    const double one_cut[] = {0};
    const double bad_cuts[] = {1, 1};
    const double x[] = {-1.0001, -1, 0, 1, 1.0001, 1.5, 1.5001, NAN};
    const int want_s[] = {1, 2, 2, 2, 3, 3, 4, 0};
    const double d[] = {-1.5, -1, 1, 1.2};
    const int want_d[] = {1, 2, 2, 3};
    const double o[] = {-1, 0, 1};
    const int want_o[] = {1, 2, 2};
    kz_ctx *ctx = new_ctx();
    int c[8], i;
    size_t counts[5];
    (void)state;
    assert_int_equal(kz_cut_classes(c, counts, ctx, x, 8, status_cuts, 3), KZ_OK);
    for (i = 0; i < 8; i++)
        assert_int_equal(c[i], want_s[i]);
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 3);
    assert_int_equal(counts[3], 2);
    assert_int_equal(counts[4], 1);
    assert_int_equal(kz_cut_classes(c, NULL, ctx, d, 4, dyn_cuts, 2), KZ_OK);
    for (i = 0; i < 4; i++)
        assert_int_equal(c[i], want_d[i]);
    assert_int_equal(kz_cut_classes(c, NULL, ctx, o, 3, one_cut, 1), KZ_OK);
    for (i = 0; i < 3; i++)
        assert_int_equal(c[i], want_o[i]);
    assert_int_equal(kz_cut_classes(c, NULL, ctx, o, 3, bad_cuts, 2), KZ_E_USAGE);
    assert_int_equal(kz_cut_classes(c, NULL, ctx, o, 3, bad_cuts, 0), KZ_E_USAGE);
    kz_ctx_free(ctx);
}

static void test_cross(void **state)
{
    const int a[] = {1, 4, 2, 0, 3};
    const int b[] = {1, 3, 2, 2, 0};
    const int bad[] = {1, 4, 2, 0, 5};
    kz_ctx *ctx = new_ctx();
    int g[5];
    char buf[16];
    (void)state;
    assert_int_equal(kz_cross_classes(g, ctx, a, 4, b, 3, 5), KZ_OK);
    assert_int_equal(g[0], 1);
    assert_int_equal(g[1], 12);
    assert_int_equal(g[2], 5);
    assert_int_equal(g[3], 0);
    assert_int_equal(g[4], 0);
    kz_cross_label(buf, sizeof(buf), 12, 3);
    assert_string_equal(buf, "4.3");
    kz_cross_label(buf, sizeof(buf), 5, 3);
    assert_string_equal(buf, "2.2");
    kz_cross_label(buf, sizeof(buf), 0, 3);
    assert_string_equal(buf, "");
    assert_int_equal(kz_cross_classes(g, ctx, bad, 4, b, 3, 5), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "area 4"));
    kz_ctx_free(ctx);
}

/* ---- MSS 2021 on the published inputs ---- */

#define MSS_PATH KZ_GEODATA "/berlin/mss2021/mss_2021_index_indikatoren.csv"
#define MSS_MAX 600
#define MSS_COLS 40

enum { C_S1, C_S3, C_S4, C_D1, C_D3, C_D4, N_IND };
static const char *const ind_names[N_IND] = {"S1", "S3", "S4", "D1", "D3", "D4"};

typedef struct mss {
    size_t n;
    char key[MSS_MAX][16];
    double v[N_IND][MSS_MAX];
    int sd_gr[N_IND][MSS_MAX];
    unsigned char valid[MSS_MAX];
} mss;

/* Split one CSV line at commas, honouring double quotes (no embedded
 * newlines in this file); fields are NUL-terminated in place, quotes
 * removed. Returns the number of fields. */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *r = line, *w = line;
    while (n < max) {
        int quoted = 0;
        fields[n++] = w;
        for (;;) {
            if (*r == '"') {
                if (quoted && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                    continue;
                }
                quoted = !quoted;
                r++;
                continue;
            }
            if (*r == '\0' || *r == '\n' || *r == '\r' || (*r == ',' && !quoted))
                break;
            *w++ = *r++;
        }
        if (*r != ',') {
            *w = '\0';
            break;
        }
        r++;
        *w++ = '\0';
    }
    return n;
}

static int column(char **fields, int n, const char *name)
{
    int i;
    for (i = 0; i < n; i++)
        if (strcmp(fields[i], name) == 0)
            return i;
    fail_msg("%s: no column %s", MSS_PATH, name);
    return -1;
}

static mss *read_mss(void)
{
    static char line[8192];
    char *f[MSS_COLS];
    int col[N_IND], col_gr[N_IND], col_key, col_kom, nf, j;
    mss *m = calloc(1, sizeof(*m));
    FILE *fp = fopen(MSS_PATH, "r");
    assert_non_null(m);
    assert_non_null(fp);
    assert_non_null(fgets(line, sizeof(line), fp));
    nf = split_csv(line, f, MSS_COLS);
    col_key = column(f, nf, "PLR_ID");
    col_kom = column(f, nf, "KOM");
    for (j = 0; j < N_IND; j++) {
        char name[16];
        col[j] = column(f, nf, ind_names[j]);
        snprintf(name, sizeof(name), "%s_SD_GR", ind_names[j]);
        col_gr[j] = column(f, nf, name);
    }
    while (fgets(line, sizeof(line), fp)) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        assert_true(m->n < MSS_MAX);
        assert_int_equal(split_csv(line, f, MSS_COLS), nf);
        snprintf(m->key[m->n], sizeof(m->key[0]), "%s", f[col_key]);
        m->valid[m->n] = strcmp(f[col_kom], "g\xc3\xbcltig") == 0;
        for (j = 0; j < N_IND; j++) {
            char *end;
            m->v[j][m->n] = strtod(f[col[j]], &end);
            assert_true(end != f[col[j]] && *end == '\0');
            m->sd_gr[j][m->n] = (int)strtol(f[col_gr[j]], &end, 10);
            if (m->valid[m->n])
                assert_true(m->v[j][m->n] != -9999);
            else
                assert_true(m->v[j][m->n] == -9999); /* invalid rows carry −9999 */
        }
        m->n++;
    }
    fclose(fp);
    return m;
}

/* Areas whose z-class (cuts) equals the published *_SD_GR class. */
static size_t class_matches(kz_ctx *ctx, const mss *m, int ind, int sample, const double *cuts,
                            size_t n_cuts)
{
    kz_zscore_options o = {0};
    double z[MSS_MAX];
    int c[MSS_MAX];
    size_t i, same = 0;
    o.include = m->valid;
    o.sample_sd = sample;
    assert_int_equal(kz_zscore(z, NULL, ctx, m->v[ind], m->n, &o), KZ_OK);
    assert_int_equal(kz_cut_classes(c, NULL, ctx, z, m->n, cuts, n_cuts), KZ_OK);
    for (i = 0; i < m->n; i++)
        if (m->valid[i] && c[i] == m->sd_gr[ind][i])
            same++;
    return same;
}

/* One MSS index: z of three indicators, sum, re-standardised index, classes. */
static void mss_index(kz_ctx *ctx, const mss *m, int first, const double *cuts, size_t n_cuts,
                      int *cls, size_t *counts)
{
    static double z[3][MSS_MAX];
    double sum[MSS_MAX], idx[MSS_MAX], smean = 0;
    kz_zscore_options o = {0};
    kz_index_input in[3];
    kz_zstats st;
    size_t i;
    int j;
    o.include = m->valid;
    for (j = 0; j < 3; j++) {
        assert_int_equal(kz_zscore(z[j], NULL, ctx, m->v[first + j], m->n, &o), KZ_OK);
        in[j].z = z[j];
        in[j].polarity = 1; /* higher = worse for all six */
        in[j].weight = 1;
    }
    assert_int_equal(kz_index_composite(sum, idx, &st, ctx, in, 3, m->n, &o), KZ_OK);
    assert_int_equal(st.n, 536);
    for (i = 0; i < m->n; i++)
        if (m->valid[i])
            smean += sum[i];
    /* the sums of z-scores over the same areas have mean 0: dividing by
     * their sd alone and a full z-score agree */
    assert_true(fabs(smean / 536.0) < 1e-12);
    assert_true(fabs(st.mean) < 1e-12);
    assert_int_equal(kz_cut_classes(cls, counts, ctx, idx, m->n, cuts, n_cuts), KZ_OK);
    for (i = 0; i < m->n; i++)
        assert_int_equal(cls[i] == 0, !m->valid[i]);
}

static void test_mss2021(void **state)
{
    const double s_cuts[] = {-1, 1, 1.5}, d_cuts[] = {-1, 1};
    kz_ctx *ctx = new_ctx();
    mss *m = read_mss();
    size_t i, valid = 0, counts_s[5], counts_d[4], groups[13] = {0};
    int cs[MSS_MAX], cd[MSS_MAX], g[MSS_MAX], j;
    (void)state;
    assert_int_equal(m->n, 542);
    for (i = 0; i < m->n; i++)
        valid += m->valid[i];
    assert_int_equal(valid, 536);
    assert_string_equal(m->key[0], "01100101"); /* quoted key, leading zero kept */

    /* The published per-indicator classes S*_SD_GR are the population-sd
     * z-scores over the 536 valid areas cut at −1, 1, 1.5 (middle class
     * closed): all 536 agree for S1, S3, S4. The sample sd misclassifies one
     * area each in S3 (05400942) and S4 (12100102). */
    for (j = C_S1; j <= C_S4; j++) {
        size_t pop = class_matches(ctx, m, j, 0, s_cuts, 3);
        size_t smp = class_matches(ctx, m, j, 1, s_cuts, 3);
        print_message("MSS 2021 %s_SD_GR: %zu/536 agree (population sd), %zu/536 (sample sd)\n",
                      ind_names[j], pop, smp);
        assert_int_equal(pop, 536);
    }
    assert_int_equal(class_matches(ctx, m, C_S3, 1, s_cuts, 3), 535);
    assert_int_equal(class_matches(ctx, m, C_S4, 1, s_cuts, 3), 535);
    /* D*_SD_GR are 3 classes cut at −1, 1; they agree for all but at most
     * one area per indicator either way (areas within 0.005 of a cut; the
     * published D values are rounded to 5 decimals). */
    for (j = C_D1; j <= C_D4; j++) {
        size_t pop = class_matches(ctx, m, j, 0, d_cuts, 2);
        size_t smp = class_matches(ctx, m, j, 1, d_cuts, 2);
        print_message("MSS 2021 %s_SD_GR: %zu/536 agree (population sd), %zu/536 (sample sd)\n",
                      ind_names[j], pop, smp);
        assert_true(pop >= 535);
    }

    mss_index(ctx, m, C_S1, s_cuts, 3, cs, counts_s);
    mss_index(ctx, m, C_D1, d_cuts, 2, cd, counts_d);
    print_message("MSS 2021 status index classes: 1 high %zu, 2 medium %zu, 3 low %zu, "
                  "4 very low %zu, none %zu\n",
                  counts_s[1], counts_s[2], counts_s[3], counts_s[4], counts_s[0]);
    print_message("MSS 2021 dynamics index classes: 1 positive %zu, 2 stable %zu, "
                  "3 negative %zu, none %zu\n",
                  counts_d[1], counts_d[2], counts_d[3], counts_d[0]);
    /* computed here; the same with population or sample sd */
    assert_int_equal(counts_s[1], 75);
    assert_int_equal(counts_s[2], 366);
    assert_int_equal(counts_s[3], 46);
    assert_int_equal(counts_s[4], 49);
    assert_int_equal(counts_s[0], 6);
    assert_int_equal(counts_d[1], 48);
    assert_int_equal(counts_d[2], 436);
    assert_int_equal(counts_d[3], 52);

    assert_int_equal(kz_cross_classes(g, ctx, cs, 4, cd, 3, m->n), KZ_OK);
    for (i = 0; i < m->n; i++)
        groups[g[i]]++;
    assert_int_equal(groups[0], 6);
    print_message("MSS 2021 status/dynamics groups 1.1..4.3: %zu %zu %zu | %zu %zu %zu | "
                  "%zu %zu %zu | %zu %zu %zu\n",
                  groups[1], groups[2], groups[3], groups[4], groups[5], groups[6], groups[7],
                  groups[8], groups[9], groups[10], groups[11], groups[12]);
    free(m);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zscore_plain),   cmocka_unit_test(test_zscore_include_and_nan),
        cmocka_unit_test(test_zscore_weights), cmocka_unit_test(test_zscore_errors),
        cmocka_unit_test(test_composite),      cmocka_unit_test(test_cut_classes),
        cmocka_unit_test(test_cross),
    };
    const struct CMUnitTest data_tests[] = {
        cmocka_unit_test(test_mss2021),
    };
    FILE *fp;
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc != 0)
        return rc;
    fp = fopen(MSS_PATH, "r");
    if (!fp) {
        printf("skipped: no MSS 2021 data at %s\n", MSS_PATH);
        return 77;
    }
    fclose(fp);
    return cmocka_run_group_tests_name("mss2021", data_tests, NULL, NULL);
}
