/*
 * Coverage kernels: hand-computed small cases for every measure, and
 * randomised comparisons with GEOS Covers / brute force.
 */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geom.h"
#include "kiez/coverage.h"
#include "kiez/kiez.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Areas from WKT, as WKB (test helper). */
typedef struct wkb_areas {
    unsigned char *wkb[64];
    size_t size[64];
    GEOSGeometry *geom[64];
    size_t n;
    kz_area_set set;
    GEOSContextHandle_t h;
} wkb_areas;

static void areas_add_geom(wkb_areas *A, GEOSGeometry *g)
{
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(A->h);
    assert_non_null(g);
    A->geom[A->n] = g;
    A->wkb[A->n] = GEOSWKBWriter_write_r(A->h, w, g, &A->size[A->n]);
    assert_non_null(A->wkb[A->n]);
    A->n++;
    GEOSWKBWriter_destroy_r(A->h, w);
    A->set.wkb = (const unsigned char *const *)A->wkb;
    A->set.wkb_size = A->size;
    A->set.n = A->n;
}

static void areas_add(wkb_areas *A, const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(A->h);
    areas_add_geom(A, GEOSWKTReader_read_r(A->h, r, wkt));
    GEOSWKTReader_destroy_r(A->h, r);
}

static void areas_free(wkb_areas *A)
{
    size_t i;
    for (i = 0; i < A->n; i++) {
        GEOSFree_r(A->h, A->wkb[i]);
        GEOSGeom_destroy_r(A->h, A->geom[i]);
    }
    GEOS_finish_r(A->h);
}

static void areas_init(wkb_areas *A)
{
    memset(A, 0, sizeof(*A));
    A->h = GEOS_init_r();
}

/* Two unit squares sharing an edge, an empty area, a square with a hole. */
static void test_count_squares(void **state)
{
    kz_ctx *ctx = NULL;
    wkb_areas A;
    /*                   A in   shared edge  shared vertex  B's outer edge  B in   A's corner */
    double x[] = {0.5, 1.0, 1.0, 2.0, 1.5, 0.0, 4.5, 4.0, 3.5, 10.0, 0.25};
    double y[] = {0.5, 0.5, 1.0, 0.5, 0.5, 0.0, 4.5, 4.5, 3.5, 10.0, 0.75};
    /*           in hole  hole edge  D in  far away  A in */
    double w[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    int cat[] = {0, 1, 0, 1, 0, 1, 0, -1, 1, 0, 1};
    int where[11];
    kz_point_set pts = {x, y, w, cat, 11};
    kz_count *c = NULL;
    (void)state;

    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    areas_init(&A);
    areas_add(&A, "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)))");
    areas_add(&A, "POLYGON((1 0,2 0,2 1,1 1,1 0))");
    areas_add(&A, "MULTIPOLYGON EMPTY");
    areas_add(&A, "MULTIPOLYGON(((3 3,6 3,6 6,3 6,3 3),(4 4,4 5,5 5,5 4,4 4)))");

    assert_int_equal(kz_coverage_count(&c, ctx, &A.set, &pts, 2, 1, where), KZ_OK);
    {
        int want[] = {0, 0, 0, 1, 1, 0, -1, 3, 3, -1, 0};
        size_t i;
        for (i = 0; i < 11; i++)
            assert_int_equal(where[i], want[i]);
    }
    assert_int_equal(c->count[0], 5);
    assert_int_equal(c->count[1], 2);
    assert_int_equal(c->count[2], 0);
    assert_int_equal(c->count[3], 2);
    assert_int_equal(c->outside, 2);
    assert_int_equal(c->on_boundary, 2); /* (1, 0.5) and (1, 1) */
    assert_true(c->weight[0] == 1 + 2 + 3 + 6 + 11);
    assert_true(c->weight[1] == 4 + 5);
    assert_true(c->weight[2] == 0);
    assert_true(c->weight[3] == 8 + 9);
    /* categories: A has points 0(c0) 1(c1) 2(c0) 5(c1) 10(c1) */
    assert_int_equal(c->category_count[0 * 2 + 0], 2);
    assert_int_equal(c->category_count[0 * 2 + 1], 3);
    assert_int_equal(c->category_count[1 * 2 + 0], 1);
    assert_int_equal(c->category_count[1 * 2 + 1], 1);
    assert_int_equal(c->category_count[3 * 2 + 0], 0); /* point 7 has no category */
    assert_int_equal(c->category_count[3 * 2 + 1], 1);
    assert_true(c->category_weight[0 * 2 + 1] == 2 + 6 + 11);
    kz_count_free(c);

    /* Without weights and categories; more threads than work. */
    pts.weight = NULL;
    pts.category = NULL;
    assert_int_equal(kz_coverage_count(&c, ctx, &A.set, &pts, 0, 8, NULL), KZ_OK);
    assert_true(c->weight[0] == 5);
    assert_null(c->category_count);
    kz_count_free(c);

    /* A category out of range is a usage error. */
    pts.category = cat;
    assert_int_equal(kz_coverage_count(&c, ctx, &A.set, &pts, 1, 1, NULL), KZ_E_USAGE);
    assert_null(c);

    areas_free(&A);
    kz_ctx_free(ctx);
    kz_count_free(NULL);
}

static void test_count_bad_wkb(void **state)
{
    kz_ctx *ctx = NULL;
    unsigned char junk[] = {1, 2, 3};
    const unsigned char *wkb[] = {junk};
    size_t size[] = {3};
    kz_area_set set = {wkb, size, 1};
    double x = 0, y = 0;
    kz_point_set pts = {&x, &y, NULL, NULL, 1};
    kz_count *c = NULL;
    wkb_areas A;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_coverage_count(&c, ctx, &set, &pts, 0, 1, NULL), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "area 0"));
    areas_init(&A);
    areas_add(&A, "POINT(1 1)");
    assert_int_equal(kz_coverage_count(&c, ctx, &A.set, &pts, 0, 1, NULL), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "not a polygon"));
    areas_free(&A);
    kz_ctx_free(ctx);
}

static double urand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (double)((*s >> 8) & 0xffffff) / (double)0x1000000;
}

/*
 * Voronoi cells of random sites at UTM-like coordinates: a partition whose
 * shared edges lie at coordinates that doubles cannot represent. Points on
 * vertices, on interpolated edge positions and at random must get the area
 * that brute-force GEOS Covers gives (smallest index among covering areas).
 */
static void test_locate_matches_geos(void **state)
{
    kz_ctx *ctx = NULL;
    wkb_areas A;
    GEOSContextHandle_t h;
    GEOSGeometry *sites, *pts_g[40], *vor, *clip, *env;
    unsigned seed = 12345;
    size_t i, j, n = 0, cap = 20000;
    double *x = malloc(cap * sizeof(double)), *y = malloc(cap * sizeof(double));
    int *where = malloc(cap * sizeof(int)), *where2 = malloc(cap * sizeof(int));
    kz_point_set pts;
    size_t boundary = 0, boundary2 = 0;
    (void)state;

    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    areas_init(&A);
    h = A.h;
    for (i = 0; i < 40; i++)
        pts_g[i] = GEOSGeom_createPointFromXY_r(h, 390000.1 + urand(&seed) * 10000.3,
                                                5810000.7 + urand(&seed) * 10000.9);
    sites = GEOSGeom_createCollection_r(h, GEOS_MULTIPOINT, pts_g, 40);
    vor = GEOSVoronoiDiagram_r(h, sites, NULL, 0.0, 0);
    env = GEOSGeom_createRectangle_r(h, 390000.1, 5810000.7, 400000.4, 5820001.6);
    assert_non_null(vor);
    for (i = 0; i < (size_t)GEOSGetNumGeometries_r(h, vor); i++) {
        clip = GEOSIntersection_r(h, GEOSGetGeometryN_r(h, vor, (int)i), env);
        areas_add_geom(&A, clip);
    }
    /* vertices and points along edges of every area, then random points */
    for (i = 0; i < A.n && n + 200 < cap; i++) {
        const GEOSGeometry *ring = GEOSGetExteriorRing_r(h, A.geom[i]);
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
        unsigned int sz = 0, k;
        GEOSCoordSeq_getSize_r(h, cs, &sz);
        for (k = 0; k + 1 < sz; k++) {
            double x1, y1, x2, y2, t = urand(&seed);
            GEOSCoordSeq_getXY_r(h, cs, k, &x1, &y1);
            GEOSCoordSeq_getXY_r(h, cs, k + 1, &x2, &y2);
            x[n] = x1;
            y[n++] = y1;
            x[n] = x1 + t * (x2 - x1);
            y[n++] = y1 + t * (y2 - y1);
            x[n] = (x1 + x2) / 2;
            y[n++] = (y1 + y2) / 2;
        }
    }
    while (n < cap) {
        x[n] = 389000 + urand(&seed) * 12000;
        y[n++] = 5809000 + urand(&seed) * 12000;
    }
    pts = (kz_point_set){x, y, NULL, NULL, n};
    assert_int_equal(kz_coverage_locate(where, ctx, &A.set, &pts, 1, &boundary), KZ_OK);
    assert_int_equal(kz_coverage_locate(where2, ctx, &A.set, &pts, 2, &boundary2), KZ_OK);
    assert_memory_equal(where, where2, n * sizeof(int));
    assert_int_equal(boundary, boundary2);
    assert_true(boundary > 0);
    for (i = 0; i < n; i++) {
        GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, x[i], y[i]);
        int want = -1;
        for (j = 0; j < A.n && want < 0; j++)
            if (GEOSCovers_r(h, A.geom[j], p) == 1)
                want = (int)j;
        GEOSGeom_destroy_r(h, p);
        if (where[i] != want)
            fail_msg("point %zu (%.17g %.17g): got %d, GEOS says %d", i, x[i], y[i], where[i],
                     want);
    }
    GEOSGeom_destroy_r(h, vor);
    GEOSGeom_destroy_r(h, sites);
    GEOSGeom_destroy_r(h, env);
    areas_free(&A);
    free(x);
    free(y);
    free(where);
    free(where2);
    kz_ctx_free(ctx);
}

static void test_nearest_hand(void **state)
{
    kz_ctx *ctx = NULL;
    double fx[] = {0, 10, 0}, fy[] = {0, 0, 10};
    int fcat[] = {0, 1, 0};
    double dx[] = {1, 6, 5, 0}, dy[] = {0, 0, 0, 7}, dw[] = {2, 1, 1, 1};
    int area[] = {0, 0, 1, 1};
    kz_point_set fac = {fx, fy, NULL, fcat, 3}, dem = {dx, dy, dw, NULL, 4};
    kz_nearest_options o;
    kz_nearest *r = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    memset(&o, 0, sizeof(o));
    o.within = 4;
    o.category = -1;
    o.demand_area = area;
    o.n_areas = 3;
    assert_int_equal(kz_coverage_nearest(&r, ctx, &dem, &fac, &o), KZ_OK);
    assert_true(r->distance[0] == 1 && r->facility[0] == 0);
    assert_true(r->distance[1] == 4 && r->facility[1] == 1);
    assert_true(r->distance[2] == 5 && r->facility[2] == 0); /* tie: smaller index */
    assert_true(r->distance[3] == 3 && r->facility[3] == 2);
    assert_true(r->area_weight[0] == 3 && r->area_weight[1] == 2 && r->area_weight[2] == 0);
    assert_true(fabs(r->area_mean[0] - 2.0) < 1e-12); /* (2*1 + 1*4) / 3 */
    assert_true(r->area_within[0] == 1.0);            /* 1 <= 4 and 4 <= 4 */
    assert_true(fabs(r->area_mean[1] - 4.0) < 1e-12); /* (5 + 3) / 2 */
    assert_true(r->area_within[1] == 0.5);
    assert_true(isnan(r->area_mean[2]) && isnan(r->area_within[2]));
    assert_true(fabs(r->mean - (2 + 4 + 5 + 3) / 5.0) < 1e-12);
    assert_true(fabs(r->within_share - 4 / 5.0) < 1e-12);
    kz_nearest_free(r);

    /* Only category 1: everything goes to (10, 0). */
    o.category = 1;
    assert_int_equal(kz_coverage_nearest(&r, ctx, &dem, &fac, &o), KZ_OK);
    assert_true(r->distance[0] == 9 && r->distance[1] == 4 && r->distance[2] == 5);
    assert_true(fabs(r->distance[3] - sqrt(149.0)) < 1e-12);
    assert_true(r->facility[3] == 1);
    kz_nearest_free(r);

    /* No facility of the category: infinite distances, share 0. */
    o.category = 7;
    assert_int_equal(kz_coverage_nearest(&r, ctx, &dem, &fac, &o), KZ_OK);
    assert_true(isinf(r->distance[0]) && r->facility[0] == -1);
    assert_true(r->area_within[0] == 0.0);
    kz_nearest_free(r);
    kz_nearest_free(NULL);
    kz_ctx_free(ctx);
}

static void test_nearest_brute_force(void **state)
{
    kz_ctx *ctx = NULL;
    enum { ND = 3000, NF = 257 };
    double *dx = malloc(ND * sizeof(double)), *dy = malloc(ND * sizeof(double));
    double fx[NF], fy[NF];
    unsigned seed = 7;
    size_t i, j;
    kz_point_set fac = {fx, fy, NULL, NULL, NF}, dem = {dx, dy, NULL, NULL, ND};
    kz_nearest_options o;
    kz_nearest *r = NULL, *r1 = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (j = 0; j < NF; j++) {
        /* clustered facilities, some on integer positions for ties */
        fx[j] = j % 3 == 0 ? (double)(int)(urand(&seed) * 100) : 40 + urand(&seed) * 20;
        fy[j] = j % 3 == 0 ? (double)(int)(urand(&seed) * 100) : 40 + urand(&seed) * 20;
    }
    for (i = 0; i < ND; i++) {
        dx[i] = i % 2 ? (double)(int)(urand(&seed) * 140 - 20) : urand(&seed) * 140 - 20;
        dy[i] = i % 2 ? (double)(int)(urand(&seed) * 140 - 20) : urand(&seed) * 140 - 20;
    }
    memset(&o, 0, sizeof(o));
    o.category = -1;
    o.threads = 2;
    assert_int_equal(kz_coverage_nearest(&r, ctx, &dem, &fac, &o), KZ_OK);
    o.threads = 1;
    assert_int_equal(kz_coverage_nearest(&r1, ctx, &dem, &fac, &o), KZ_OK);
    for (i = 0; i < ND; i++) {
        double best = INFINITY;
        long long bj = -1;
        for (j = 0; j < NF; j++) {
            double ex = fx[j] - dx[i], ey = fy[j] - dy[i], d = ex * ex + ey * ey;
            if (d < best) {
                best = d;
                bj = (long long)j;
            }
        }
        assert_true(r->facility[i] == bj);
        assert_true(r->distance[i] == sqrt(best));
        assert_true(r1->facility[i] == bj);
    }
    kz_nearest_free(r);
    kz_nearest_free(r1);
    free(dx);
    free(dy);
    kz_ctx_free(ctx);
}

static void test_access_hand(void **state)
{
    kz_ctx *ctx = NULL;
    double dx[] = {0, 2, 10}, dy[] = {0, 0, 0}, dp[] = {10, 20, 5};
    double fx[] = {1, 3, 100}, fy[] = {0, 0, 100}, fs[] = {6, 3, 7};
    int area[] = {0, 0, 1};
    kz_point_set dem = {dx, dy, dp, NULL, 3}, fac = {fx, fy, fs, NULL, 3};
    kz_access_options o;
    kz_access *r = NULL;
    double lim[] = {0.5, 1.5}, wt[] = {1.0, 0.5};
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    memset(&o, 0, sizeof(o));
    o.radius = 1.5;
    o.demand_area = area;
    o.n_areas = 3;
    assert_int_equal(kz_coverage_access(&r, ctx, &dem, &fac, &o), KZ_OK);
    /* R1 = 6 / (10 + 20), R2 = 3 / 20; j3 reaches nobody */
    assert_true(fabs(r->ratio[0] - 0.2) < 1e-15);
    assert_true(fabs(r->ratio[1] - 0.15) < 1e-15);
    assert_true(isnan(r->ratio[2]));
    /* A1 = R1, A2 = R1 + R2, A3 = 0 */
    assert_true(fabs(r->access[0] - 0.2) < 1e-15);
    assert_true(fabs(r->access[1] - 0.35) < 1e-15);
    assert_true(r->access[2] == 0);
    assert_true(r->supply_total == 16 && r->supply_reached == 9);
    assert_true(fabs(r->weighted_access - 9) < 1e-12); /* 10*0.2 + 20*0.35 */
    assert_int_equal(r->unreached_facilities, 1);
    assert_int_equal(r->unserved_demand, 1);
    assert_true(fabs(r->area_access[0] - 9.0 / 30) < 1e-15);
    assert_true(r->area_access[1] == 0 && r->area_weight[1] == 5);
    assert_true(isnan(r->area_access[2]));
    kz_access_free(r);

    /* E2SFCA: zones (0, 0.5] weight 1, (0.5, 1.5] weight 0.5; k1 at 0.6. */
    dx[0] = 0.6;
    o.zone_limit = lim;
    o.zone_weight = wt;
    o.n_zones = 2;
    assert_int_equal(kz_coverage_access(&r, ctx, &dem, &fac, &o), KZ_OK);
    /* R1 = 6 / (1*10 + 0.5*20) = 0.3; R2 = 3 / (0.5*20) = 0.3 */
    assert_true(fabs(r->ratio[0] - 0.3) < 1e-15 && fabs(r->ratio[1] - 0.3) < 1e-15);
    /* A1 = 1*0.3; A2 = 0.5*0.3 + 0.5*0.3 */
    assert_true(fabs(r->access[0] - 0.3) < 1e-15 && fabs(r->access[1] - 0.3) < 1e-15);
    assert_true(fabs(r->weighted_access - 9) < 1e-12);
    kz_access_free(r);

    /* Bad options. */
    o.radius = 2;
    assert_int_equal(kz_coverage_access(&r, ctx, &dem, &fac, &o), KZ_E_USAGE);
    o.radius = 0;
    o.n_zones = 0;
    assert_int_equal(kz_coverage_access(&r, ctx, &dem, &fac, &o), KZ_E_USAGE);
    assert_null(r);
    kz_access_free(NULL);
    kz_ctx_free(ctx);
}

static void test_access_identity_random(void **state)
{
    kz_ctx *ctx = NULL;
    enum { ND = 5000, NF = 150 };
    double *dx = malloc(ND * sizeof(double)), *dy = malloc(ND * sizeof(double));
    double *dp = malloc(ND * sizeof(double)), fx[NF], fy[NF], fs[NF];
    unsigned seed = 99;
    size_t i;
    kz_point_set dem = {dx, dy, dp, NULL, ND}, fac = {fx, fy, fs, NULL, NF};
    kz_access_options o;
    kz_access *r1 = NULL, *r2 = NULL;
    double lim[] = {300, 600, 1000}, wt[] = {1, 0.68, 0.22};
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (i = 0; i < ND; i++) {
        dx[i] = urand(&seed) * 10000;
        dy[i] = urand(&seed) * 10000;
        dp[i] = (double)(int)(urand(&seed) * 50);
    }
    for (i = 0; i < NF; i++) {
        fx[i] = urand(&seed) * 12000 - 1000;
        fy[i] = urand(&seed) * 12000 - 1000;
        fs[i] = 10 + (double)(int)(urand(&seed) * 100);
    }
    memset(&o, 0, sizeof(o));
    o.radius = 1000;
    o.zone_limit = lim;
    o.zone_weight = wt;
    o.n_zones = 3;
    o.threads = 1;
    assert_int_equal(kz_coverage_access(&r1, ctx, &dem, &fac, &o), KZ_OK);
    o.threads = 2;
    assert_int_equal(kz_coverage_access(&r2, ctx, &dem, &fac, &o), KZ_OK);
    assert_memory_equal(r1->access, r2->access, ND * sizeof(double));
    assert_true(r1->supply_reached < r1->supply_total); /* some outside reach */
    assert_true(fabs(r1->weighted_access - r1->supply_reached) <= 1e-9 * r1->supply_reached);
    /* brute force for a few demand points */
    for (i = 0; i < ND; i += 97) {
        double a = 0;
        size_t j, z;
        for (j = 0; j < NF; j++) {
            double ex = fx[j] - dx[i], ey = fy[j] - dy[i], d2 = ex * ex + ey * ey;
            for (z = 0; z < 3; z++)
                if (d2 <= lim[z] * lim[z]) {
                    if (r1->ratio[j] == r1->ratio[j])
                        a += wt[z] * r1->ratio[j];
                    break;
                }
        }
        assert_true(fabs(a - r1->access[i]) <= 1e-12 * (a > 1 ? a : 1));
    }
    kz_access_free(r1);
    kz_access_free(r2);
    free(dx);
    free(dy);
    free(dp);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_squares),          cmocka_unit_test(test_count_bad_wkb),
        cmocka_unit_test(test_locate_matches_geos),    cmocka_unit_test(test_nearest_hand),
        cmocka_unit_test(test_nearest_brute_force),    cmocka_unit_test(test_access_hand),
        cmocka_unit_test(test_access_identity_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
