/* Spatial weights on hand-drawn cases: a 3 x 3 grid (rook and queen), a
 * chain, an island, a sliver gap, k nearest neighbours, distance bands,
 * styles, and GAL/GWT round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geom.h"
#include "kiez/weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* n polygons as WKB, from WKT. */
typedef struct polys {
    size_t n;
    unsigned char *wkb[64];
    size_t size[64];
} polys;

static void polys_from_wkt(polys *p, const char *const *wkt, size_t n)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *r = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    size_t i;
    assert_true(n <= 64);
    p->n = n;
    for (i = 0; i < n; i++) {
        GEOSGeometry *g = GEOSWKTReader_read_r(h, r, wkt[i]);
        unsigned char *buf;
        assert_non_null(g);
        buf = GEOSWKBWriter_write_r(h, w, g, &p->size[i]);
        p->wkb[i] = malloc(p->size[i]);
        memcpy(p->wkb[i], buf, p->size[i]);
        GEOSFree_r(h, buf);
        GEOSGeom_destroy_r(h, g);
    }
    GEOSWKBWriter_destroy_r(h, w);
    GEOSWKTReader_destroy_r(h, r);
    GEOS_finish_r(h);
}

static void polys_free(polys *p)
{
    size_t i;
    for (i = 0; i < p->n; i++)
        free(p->wkb[i]);
}

/* Unit squares of a cols x rows grid, cell r*cols+c at (c, r), shifted by
 * `gap` between columns. */
static void grid(polys *p, int cols, int rows, double gap)
{
    char buf[64][512];
    const char *wkt[64];
    int r, c, k = 0;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            double x = c * (1.0 + gap), y = r;
            snprintf(buf[k], sizeof(buf[k]),
                     "POLYGON((%.9g %.9g,%.9g %.9g,%.9g %.9g,%.9g %.9g,%.9g %.9g))", x, y, x + 1, y,
                     x + 1, y + 1, x, y + 1, x, y);
            wkt[k] = buf[k];
            k++;
        }
    polys_from_wkt(p, wkt, (size_t)k);
}

static kz_weights *make(kz_ctx *ctx, const polys *p, int kind, double tol, int style)
{
    kz_weights_options o;
    kz_weights *w = NULL;
    kz_weights_options_init(&o);
    o.kind = kind;
    o.tol = tol;
    o.style = style;
    assert_int_equal(
        kz_weights_from_wkb(&w, ctx, (const unsigned char *const *)p->wkb, p->size, p->n, NULL, &o),
        KZ_OK);
    return w;
}

/* Compare the neighbours of i with a -1 terminated list. */
static void expect(const kz_weights *w, size_t i, const int *want)
{
    const size_t *ids;
    size_t k = kz_weights_neighbours(w, i, &ids, NULL), m = 0;
    while (want[m] >= 0)
        m++;
    if (k != m) {
        print_error("area %zu: %zu neighbours, want %zu\n", i, k, m);
        fail();
    }
    for (m = 0; m < k; m++)
        assert_int_equal(ids[m], want[m]);
}

static void test_grid_rook_queen(void **state)
{
    polys p;
    kz_ctx *ctx = NULL;
    kz_weights *rook, *queen;
    const double *wt;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    grid(&p, 3, 3, 0.0);
    /* 0 1 2 / 3 4 5 / 6 7 8 (bottom row first) */
    rook = make(ctx, &p, KZ_WEIGHTS_ROOK, 0.0, KZ_STYLE_B);
    queen = make(ctx, &p, KZ_WEIGHTS_QUEEN, 0.0, KZ_STYLE_W);
    assert_int_equal(kz_weights_links(rook), 24);
    assert_int_equal(kz_weights_links(queen), 40);
    expect(rook, 0, (const int[]){1, 3, -1});
    expect(rook, 4, (const int[]){1, 3, 5, 7, -1});
    expect(rook, 7, (const int[]){4, 6, 8, -1});
    expect(queen, 0, (const int[]){1, 3, 4, -1});
    expect(queen, 4, (const int[]){0, 1, 2, 3, 5, 6, 7, 8, -1});
    expect(queen, 5, (const int[]){1, 2, 4, 7, 8, -1});
    assert_true(kz_weights_is_symmetric(rook));
    assert_int_equal(kz_weights_islands(queen, NULL), 0);
    /* Row-standardised: the corner's three weights are 1/3. */
    assert_int_equal(kz_weights_neighbours(queen, 0, NULL, &wt), 3);
    assert_true(fabs(wt[2] - 1.0 / 3.0) < 1e-15);
    assert_int_equal(kz_weights_set_style(queen, ctx, KZ_STYLE_B), KZ_OK);
    kz_weights_neighbours(queen, 0, NULL, &wt);
    assert_true(wt[0] == 1.0);
    /* The same with a tolerance. */
    kz_weights_free(rook);
    rook = make(ctx, &p, KZ_WEIGHTS_ROOK, 1e-6, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(rook), 24);
    kz_weights_free(rook);
    kz_weights_free(queen);
    kz_weights_free(NULL);
    polys_free(&p);
    kz_ctx_free(ctx);
}

static void test_chain_and_island(void **state)
{
    static const char *const wkt[] = {
        "POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 0,2 0,2 1,1 1,1 0))",
        "POLYGON((2 0,3 0,3 1,2 1,2 0))", "MULTIPOLYGON(((10 10,11 10,11 11,10 11,10 10)))"};
    static const char *const keys[] = {"a", "b", "c", "far"};
    polys p;
    kz_ctx *ctx = NULL;
    kz_weights *w = NULL;
    kz_weights_options o;
    const size_t *isl;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    polys_from_wkt(&p, wkt, 4);
    kz_weights_options_init(&o);
    assert_int_equal(
        kz_weights_from_wkb(&w, ctx, (const unsigned char *const *)p.wkb, p.size, 4, keys, &o),
        KZ_OK);
    expect(w, 0, (const int[]){1, -1});
    expect(w, 1, (const int[]){0, 2, -1});
    expect(w, 3, (const int[]){-1});
    assert_int_equal(kz_weights_islands(w, &isl), 1);
    assert_int_equal(isl[0], 3);
    assert_int_equal(kz_ctx_warning_count(ctx), 1); /* the island warning */
    kz_weights_free(w);
    polys_free(&p);
    kz_ctx_free(ctx);
}

static void test_sliver_gap_and_corner(void **state)
{
    polys p;
    kz_ctx *ctx = NULL;
    kz_weights *w;
    static const char *const corner[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))",
                                         "POLYGON((1.0005 1.0005,2 1,2 2,1 2,1.0005 1.0005))"};
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    /* Two columns 1 mm apart: no neighbours without tolerance... */
    grid(&p, 2, 1, 0.001);
    w = make(ctx, &p, KZ_WEIGHTS_QUEEN, 0.0, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 0);
    assert_int_equal(kz_weights_islands(w, NULL), 2);
    kz_weights_free(w);
    /* ...and rook and queen neighbours with 1 cm. */
    w = make(ctx, &p, KZ_WEIGHTS_QUEEN, 0.01, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 2);
    kz_weights_free(w);
    w = make(ctx, &p, KZ_WEIGHTS_ROOK, 0.01, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 2);
    kz_weights_free(w);
    polys_free(&p);
    /* Nearly touching corners: queen with tolerance, never rook. */
    polys_from_wkt(&p, corner, 2);
    w = make(ctx, &p, KZ_WEIGHTS_QUEEN, 0.0, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 0);
    kz_weights_free(w);
    w = make(ctx, &p, KZ_WEIGHTS_QUEEN, 0.001, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 2);
    kz_weights_free(w);
    w = make(ctx, &p, KZ_WEIGHTS_ROOK, 0.001, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(w), 0);
    kz_weights_free(w);
    polys_free(&p);
    kz_ctx_free(ctx);
}

static void test_knn_and_distance(void **state)
{
    double x[] = {0, 1, 3, 6, 10}, y[] = {0, 0, 0, 0, 0};
    kz_ctx *ctx = NULL;
    kz_weights *w = NULL;
    kz_weights_options o;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    kz_weights_options_init(&o);
    o.kind = KZ_WEIGHTS_KNN;
    o.k = 1;
    assert_int_equal(kz_weights_from_points(&w, ctx, x, y, 5, NULL, &o), KZ_OK);
    expect(w, 0, (const int[]){1, -1});
    expect(w, 2, (const int[]){1, -1});
    expect(w, 4, (const int[]){3, -1});
    assert_false(kz_weights_is_symmetric(w));
    kz_weights_free(w);
    o.k = 2;
    assert_int_equal(kz_weights_from_points(&w, ctx, x, y, 5, NULL, &o), KZ_OK);
    expect(w, 1, (const int[]){0, 2, -1});
    expect(w, 3, (const int[]){2, 4, -1}); /* 3 and 4 away: both */
    expect(w, 4, (const int[]){2, 3, -1});
    kz_weights_free(w);
    o.k = 5;
    assert_int_equal(kz_weights_from_points(&w, ctx, x, y, 5, NULL, &o), KZ_E_USAGE);
    o.kind = KZ_WEIGHTS_DIST;
    o.distance = 2.5;
    assert_int_equal(kz_weights_from_points(&w, ctx, x, y, 5, NULL, &o), KZ_OK);
    expect(w, 0, (const int[]){1, -1});
    expect(w, 1, (const int[]){0, 2, -1});
    expect(w, 3, (const int[]){-1});
    assert_int_equal(kz_weights_islands(w, NULL), 2);
    kz_weights_free(w);
    kz_ctx_free(ctx);
}

/* A larger random point set: k-d tree results equal brute force. */
static void test_knn_brute_force(void **state)
{
    enum { N = 700, K = 6 };
    static double x[N], y[N];
    kz_ctx *ctx = NULL;
    kz_weights *w = NULL, *d = NULL;
    kz_weights_options o;
    size_t i, j;
    uint64_t s = 42;
    (void)state;
    for (i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (double)(s >> 40) / 1000.0;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        y[i] = (double)((s >> 40) % 50000) / 1000.0;
    }
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    kz_weights_options_init(&o);
    o.kind = KZ_WEIGHTS_KNN;
    o.k = K;
    assert_int_equal(kz_weights_from_points(&w, ctx, x, y, N, NULL, &o), KZ_OK);
    o.kind = KZ_WEIGHTS_DIST;
    o.distance = 300.0;
    assert_int_equal(kz_weights_from_points(&d, ctx, x, y, N, NULL, &o), KZ_OK);
    for (i = 0; i < N; i++) {
        const size_t *ids;
        size_t k = kz_weights_neighbours(w, i, &ids, NULL), e, closer = 0, within = 0;
        double far = 0;
        assert_int_equal(k, K);
        for (e = 0; e < k; e++) {
            double dd = hypot(x[ids[e]] - x[i], y[ids[e]] - y[i]);
            if (dd > far)
                far = dd;
        }
        for (j = 0; j < N; j++) {
            double dd = hypot(x[j] - x[i], y[j] - y[i]);
            if (j != i && dd < far)
                closer++;
            if (j != i && dd <= 300.0)
                within++;
        }
        assert_true(closer < K);
        assert_int_equal(kz_weights_neighbours(d, i, NULL, NULL), within);
    }
    kz_weights_free(w);
    kz_weights_free(d);
    kz_ctx_free(ctx);
}

static void test_lists_and_files(void **state)
{
    /* chain 0-1-2 and island 3, with a one-way weight 3 -> 0 in GWT */
    size_t off[] = {0, 1, 3, 4, 4}, nbr[] = {1, 0, 2, 1};
    size_t bad_nbr[] = {1, 1, 2, 1};
    static const char *const keys[] = {"x01", "x02", "x03", "x04"};
    char dir[] = "/tmp/kz_weights_XXXXXX", gal[128], gwt[128], txt[128];
    kz_ctx *ctx = NULL;
    kz_weights *w = NULL, *r = NULL;
    const double *wt;
    const size_t *ids;
    FILE *f;
    size_t i;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_non_null(mkdtemp(dir));
    snprintf(gal, sizeof(gal), "%s/w.gal", dir);
    snprintf(gwt, sizeof(gwt), "%s/w.gwt", dir);
    snprintf(txt, sizeof(txt), "%s/w.txt", dir);
    assert_int_equal(kz_weights_from_lists(&w, ctx, 4, off, bad_nbr, NULL, KZ_STYLE_W), KZ_E_INPUT);
    assert_int_equal(kz_weights_from_lists(&w, ctx, 4, off, nbr, NULL, KZ_STYLE_W), KZ_OK);
    assert_int_equal(kz_weights_write_gal(ctx, w, gal, keys, "chain", "KEY"), KZ_OK);
    assert_int_equal(kz_weights_write_gwt(ctx, w, gwt, NULL, NULL, NULL), KZ_OK);
    assert_int_equal(kz_weights_read(&r, ctx, gal, keys, 4, KZ_STYLE_B), KZ_OK);
    for (i = 0; i < 4; i++) {
        size_t k = kz_weights_neighbours(r, i, &ids, &wt), e;
        const size_t *ids0;
        assert_int_equal(k, kz_weights_neighbours(w, i, &ids0, NULL));
        for (e = 0; e < k; e++) {
            assert_int_equal(ids[e], ids0[e]);
            assert_true(wt[e] == 1.0);
        }
    }
    kz_weights_free(r);
    assert_int_equal(kz_weights_read(&r, ctx, gwt, NULL, 4, KZ_STYLE_B), KZ_OK);
    assert_int_equal(kz_weights_neighbours(r, 1, &ids, &wt), 2);
    assert_true(wt[0] == 0.5 && wt[1] == 0.5); /* row-standardised when written */
    kz_weights_free(r);
    /* wrong n, unknown id, bad extension */
    assert_int_equal(kz_weights_read(&r, ctx, gal, keys, 3, KZ_STYLE_B), KZ_E_INPUT);
    assert_int_equal(kz_weights_read(&r, ctx, gal, NULL, 4, KZ_STYLE_B), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "unknown id"));
    assert_int_equal(kz_weights_read(&r, ctx, txt, keys, 4, KZ_STYLE_B), KZ_E_USAGE);
    /* a hand-written GWT with a one-way link and a GAL in GeoDa's style */
    f = fopen(gwt, "w");
    fputs("4\n1 2 1.5\n2 1 1.5\n4 1 2\n", f);
    fclose(f);
    assert_int_equal(kz_weights_read(&r, ctx, gwt, NULL, 4, KZ_STYLE_B), KZ_OK);
    assert_int_equal(kz_weights_neighbours(r, 3, &ids, &wt), 1);
    assert_true(ids[0] == 0 && wt[0] == 2.0);
    assert_false(kz_weights_is_symmetric(r));
    assert_int_equal(kz_weights_islands(r, NULL), 1);
    kz_weights_free(r);
    f = fopen(gal, "w");
    fputs("0 4 x KEY\nx01 1\nx02\nx02 2\nx01 x03\nx03 1\nx02\nx04 0\n\n", f);
    fclose(f);
    assert_int_equal(kz_weights_read(&r, ctx, gal, keys, 4, KZ_STYLE_W), KZ_OK);
    assert_int_equal(kz_weights_links(r), 4);
    kz_weights_free(r);
    f = fopen(gal, "w");
    fputs("0 4 x KEY\nx01 2\nx02\n", f);
    fclose(f);
    assert_int_equal(kz_weights_read(&r, ctx, gal, keys, 4, KZ_STYLE_W), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), ":3:"));
    kz_weights_free(w);
    unlink(gal);
    unlink(gwt);
    rmdir(dir);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_rook_queen),       cmocka_unit_test(test_chain_and_island),
        cmocka_unit_test(test_sliver_gap_and_corner), cmocka_unit_test(test_knn_and_distance),
        cmocka_unit_test(test_knn_brute_force),       cmocka_unit_test(test_lists_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
