/*
 * Demand points (demand.h) on hand-computed cases, Zensus cell ids and CSV
 * reading (expected coordinates from PROJ's cs2cs, an independent tool),
 * the dasymetric distribution, and the coverage section of the project file.
 */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "geom.h"
#include "kiez/demand.h"
#include "kiez/kiez.h"
#include "project_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define assert_close(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

typedef struct wkb_areas {
    unsigned char *wkb[16];
    size_t size[16];
    size_t n;
    kz_area_set set;
    GEOSContextHandle_t h;
} wkb_areas;

static void areas_add(wkb_areas *A, const char *wkt)
{
    GEOSWKTReader *r = GEOSWKTReader_create_r(A->h);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(A->h);
    GEOSGeometry *g = GEOSWKTReader_read_r(A->h, r, wkt);
    assert_non_null(g);
    A->wkb[A->n] = GEOSWKBWriter_write_r(A->h, w, g, &A->size[A->n]);
    A->n++;
    A->set.wkb = (const unsigned char *const *)A->wkb;
    A->set.wkb_size = A->size;
    A->set.n = A->n;
    GEOSGeom_destroy_r(A->h, g);
    GEOSWKBWriter_destroy_r(A->h, w);
    GEOSWKTReader_destroy_r(A->h, r);
}

static void areas_free(wkb_areas *A)
{
    size_t i;
    for (i = 0; i < A->n; i++)
        GEOSFree_r(A->h, A->wkb[i]);
    GEOS_finish_r(A->h);
}

static void areas_init(wkb_areas *A)
{
    memset(A, 0, sizeof(*A));
    A->h = GEOS_init_r();
}

/* Two 500 x 500 squares side by side, a 10 x 10 square, and one more. */
static void four_areas(wkb_areas *A)
{
    areas_init(A);
    areas_add(A, "POLYGON((0 0, 500 0, 500 500, 0 500, 0 0))");
    areas_add(A, "POLYGON((500 0, 1000 0, 1000 500, 500 500, 500 0))");
    areas_add(A, "POLYGON((1010 10, 1020 10, 1020 20, 1010 20, 1010 10))");
    areas_add(A, "POLYGON((0 1000, 400 1000, 400 1400, 0 1400, 0 1000))");
}

static double area_sum(const kz_demand *d, int a, size_t *n)
{
    double s = 0;
    size_t i;
    *n = 0;
    for (i = 0; i < d->n; i++)
        if (d->area[i] == a) {
            s += d->weight[i];
            (*n)++;
        }
    return s;
}

/* Grid 200: centres at x, y = 100, 300, 500, ...; x = 500 lies on the shared
 * edge and goes to area 0 (smaller index), y = 500 on the top edges is
 * covered: area 0 gets 3 x 3 centres, area 1 gets 2 x 3. Area 2 (10 x 10)
 * has no centre: one point on surface. Area 3 has population NaN: skipped. */
static void test_grid(void **state)
{
    kz_ctx *ctx = *state;
    wkb_areas A;
    kz_demand *d = NULL;
    double pop[4] = {90, 1.0 / 3.0, 7, NAN};
    size_t n, i;
    four_areas(&A);
    assert_int_equal(kz_demand_from_areas(&d, ctx, &A.set, pop, KZ_DEMAND_GRID, 200, 1), KZ_OK);
    assert_int_equal(d->method, KZ_DEMAND_GRID);
    /* area 0: x in {100, 300, 500} x y in {100, 300, 500} */
    assert_true(area_sum(d, 0, &n) == 90);
    assert_int_equal(n, 9);
    /* area 1: x in {700, 900} x y in {100, 300, 500}; the weights add up to
     * 1/3 exactly, in point order */
    assert_true(area_sum(d, 1, &n) == 1.0 / 3.0);
    assert_int_equal(n, 6);
    assert_true(area_sum(d, 2, &n) == 7);
    assert_int_equal(n, 1);
    assert_int_equal(area_sum(d, 3, &n) == 0, 1);
    assert_int_equal(n, 0);
    assert_int_equal(d->fallback_areas, 1);
    assert_int_equal(d->skipped_areas, 1);
    assert_int_equal(d->n, 16);
    for (i = 0; i < d->n; i++) {
        if (d->area[i] == 0) {
            assert_true(d->x[i] <= 500 && fmod(d->x[i], 200) == 100);
            assert_close(d->weight[i], 10, 1e-12);
        }
        if (d->area[i] == 2) {
            assert_true(d->x[i] > 1010 && d->x[i] < 1020 && d->y[i] > 10 && d->y[i] < 20);
        }
    }
    /* the point on the shared edge went to area 0 */
    for (i = 0; i < d->n; i++)
        if (d->x[i] == 500)
            assert_int_equal(d->area[i], 0);
    assert_non_null(strstr(d->description, "grid 200"));
    assert_non_null(strstr(d->description, "1 areas without a cell centre"));
    kz_demand_free(d);

    /* bad cell */
    assert_int_equal(kz_demand_from_areas(&d, ctx, &A.set, pop, KZ_DEMAND_GRID, 0, 1), KZ_E_USAGE);
    assert_null(d);
    areas_free(&A);
}

/* One point per area: the centroid of the L shape [0,2]x[0,1] + [0,1]x[1,2]
 * (area 3) is x = (2 * 1 + 1 * 0.5) / 3 = 5/6, y the same. */
static void test_one_point(void **state)
{
    kz_ctx *ctx = *state;
    wkb_areas A;
    kz_demand *d = NULL;
    double pop[2] = {5, 0};
    areas_init(&A);
    areas_add(&A, "POLYGON((0 0, 2 0, 2 1, 1 1, 1 2, 0 2, 0 0))");
    areas_add(&A, "POLYGON((5 5, 6 5, 6 6, 5 6, 5 5))");
    assert_int_equal(kz_demand_from_areas(&d, ctx, &A.set, pop, KZ_DEMAND_CENTROID, 0, 1), KZ_OK);
    assert_int_equal(d->n, 1); /* population 0: no point */
    assert_close(d->x[0], 5.0 / 6.0, 1e-12);
    assert_close(d->y[0], 5.0 / 6.0, 1e-12);
    assert_true(d->weight[0] == 5);
    assert_non_null(strstr(d->description, "centroid"));
    kz_demand_free(d);
    assert_int_equal(kz_demand_from_areas(&d, ctx, &A.set, pop, KZ_DEMAND_SURFACE, 0, 1), KZ_OK);
    assert_int_equal(d->n, 1);
    /* inside the L */
    assert_true((d->x[0] > 0 && d->x[0] < 2 && d->y[0] > 0 && d->y[0] < 1) ||
                (d->x[0] > 0 && d->x[0] < 1 && d->y[0] > 0 && d->y[0] < 2));
    kz_demand_free(d);
    areas_free(&A);
}

static void test_grid_id(void **state)
{
    int epsg;
    double size, e, n;
    (void)state;
    assert_int_equal(
        kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES100mN2689000E4337000"), KZ_OK);
    assert_int_equal(epsg, 3035);
    assert_true(size == 100 && e == 4337000 && n == 2689000);
    assert_int_equal(
        kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES1000mN2689000E4337000"), KZ_OK);
    assert_true(size == 1000);
    assert_int_equal(kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES1kmN26E43"), KZ_OK);
    assert_true(size == 1000 && e == 43 && n == 26);
    assert_int_equal(
        kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES100mE4337000N2689000"),
        KZ_E_INPUT);
    assert_int_equal(kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES100N1E1"),
                     KZ_E_INPUT);
    assert_int_equal(
        kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS3035RES100mN2689000E4337000x"),
        KZ_E_INPUT);
    assert_int_equal(kz_demand_parse_grid_id(&epsg, &size, &e, &n, ""), KZ_E_INPUT);
    assert_int_equal(kz_demand_parse_grid_id(&epsg, &size, &e, &n, "CRS0RES100mN1E1"), KZ_E_INPUT);
}

static char *write_temp(const char *text)
{
    static char path[64];
    FILE *f;
    int fd;
    snprintf(path, sizeof(path), "/tmp/kz_demand_XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Three Berlin cells in EPSG:3035; expected centres in EPSG:25833 from
 *   echo "3270050 4552050" | cs2cs -f %.6f EPSG:3035 EPSG:25833
 * (cs2cs takes northing, easting for EPSG:3035). */
static void test_zensus(void **state)
{
    kz_ctx *ctx = *state;
    kz_demand *d = NULL;
    const char *csv = "Gitter_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n"
                      "CRS3035RES100mN3270000E4552000;4552050;3270050;12\n"
                      "CRS3035RES100mN3270100E4552000;4552050;3270150;-1\n"
                      "CRS3035RES100mN3271450E4553450;4553500;3271500;7\n"
                      "CRS3035RES100mN3271550E4553450;4553500;3271600;0\n";
    char *path = write_temp(csv);
    assert_int_equal(kz_demand_read_zensus(&d, ctx, path, NULL, "EPSG:25833"), KZ_OK);
    assert_int_equal(d->n, 2);
    assert_int_equal(d->unplaced, 1); /* the -1 (withheld) cell */
    assert_close(d->x[0], 391570.549089, 1e-5);
    assert_close(d->y[0], 5816861.915372, 1e-5);
    assert_close(d->x[1], 393117.059340, 1e-5);
    assert_close(d->y[1], 5818208.094003, 1e-5);
    assert_true(d->weight[0] == 12 && d->weight[1] == 7);
    assert_int_equal(d->area[0], -1);
    assert_true(d->cell == 100);
    assert_non_null(strstr(d->description, "Zensus grid 100 m"));
    kz_demand_free(d);
    /* identity: cell centres as they are */
    assert_int_equal(kz_demand_read_zensus(&d, ctx, path, "Einwohner", "EPSG:3035"), KZ_OK);
    assert_close(d->x[0], 4552050, 1e-6);
    assert_close(d->y[0], 3270050, 1e-6);
    kz_demand_free(d);
    /* no such column */
    assert_int_equal(kz_demand_read_zensus(&d, ctx, path, "Personen", "EPSG:25833"), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "Personen"));
    unlink(path);
    /* a bad id names the line */
    path = write_temp("Gitter_ID_100m,Einwohner\nCRS3035RES100mN1E1,3\nnot-an-id,4\n");
    assert_int_equal(kz_demand_read_zensus(&d, ctx, path, NULL, "EPSG:25833"), KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), ":3:"));
    unlink(path);
}

/* Dasymetric: area 0 (pop 100) holds points of weight 1, 2, 1 -> 25, 50,
 * 25; area 1 (pop 50) one point of weight 5 -> 50; one point outside;
 * area 2 (pop 7) none -> one point on surface; area 3 NaN. */
static void test_distribute(void **state)
{
    kz_ctx *ctx = *state;
    wkb_areas A;
    kz_demand raw, *d = NULL;
    double x[6] = {10, 20, 30, 600, 5000, 40}, y[6] = {10, 20, 30, 100, 5000, 40};
    double w[6] = {1, 2, 1, 5, 3, 0};
    int area[6] = {-1, -1, -1, -1, -1, -1};
    double pop[4] = {100, 50, 7, NAN};
    size_t n;
    four_areas(&A);
    memset(&raw, 0, sizeof(raw));
    raw.n = 6;
    raw.x = x;
    raw.y = y;
    raw.weight = w;
    raw.area = area;
    raw.method = KZ_DEMAND_POINTS;
    snprintf(raw.description, sizeof(raw.description), "address points");
    assert_int_equal(kz_demand_distribute(&d, ctx, &A.set, pop, &raw, 1), KZ_OK);
    assert_int_equal(d->n, 5);
    assert_true(d->weight[0] == 25 && d->weight[1] == 50 && d->weight[2] == 25);
    assert_true(d->weight[3] == 50 && d->area[3] == 1);
    assert_true(d->weight[4] == 7 && d->area[4] == 2);
    assert_true(area_sum(d, 0, &n) == 100 && n == 3);
    assert_int_equal(d->unplaced, 1);
    assert_true(d->unplaced_weight == 3);
    assert_int_equal(d->fallback_areas, 1);
    assert_int_equal(d->skipped_areas, 1);
    assert_non_null(strstr(d->description, "address points; each area's population shared"));
    kz_demand_free(d);
    areas_free(&A);
}

/* ---- the coverage section of the project file ---- */

#define HDR                                                                                        \
    "name: T\ncrs: EPSG:25833\nlevels:\n  - {name: plr, source: a.shp, key: K, parent: city}\n"    \
    "  - {name: city, dissolve: plr, area_key: '1'}\n"                                             \
    "objects:\n  - {name: kitas, source: k.geojson, capacity: e_platz, category: art}\n"           \
    "  - {name: schools, source: s.geojson}\n"

static int parse(kz_ctx *ctx, const char *text, kz_project **p)
{
    return kz_project__parse_buffer(p, ctx, text, strlen(text), "inline.yml", KZ_PROJECT__NO_FS);
}

static void test_project_coverage(void **state)
{
    kz_ctx *ctx = *state;
    kz_project *p = NULL;
    const kz_coverage_def *C;
    assert_int_equal(parse(ctx,
                           HDR "coverage:\n"
                               "  - name: kita\n    objects: kitas\n    level: plr\n"
                               "    supply: capacity\n    demand: u6 + a6_7\n"
                               "    radius: 500\n    access_radius: 1000\n    need_factor: 0.6\n"
                               "    category: Kita\n"
                               "    demand_points: {method: grid, cell: 50, layer: true}\n"
                               "  - {name: school, objects: schools, level: plr, demand: a6_15,"
                               " per: 1000, categories: [A, B]}\n",
                           &p),
                     KZ_OK);
    assert_int_equal(p->n_coverage, 2);
    C = &p->coverage[0];
    assert_string_equal(C->name, "kita");
    assert_int_equal(C->supply, KZ_SUPPLY_CAPACITY);
    assert_string_equal(C->demand, "u6 + a6_7");
    assert_true(C->per == 100 && C->radius == 500 && C->access_radius == 1000);
    assert_true(C->need_factor == 0.6);
    assert_int_equal(C->n_categories, 1);
    assert_string_equal(C->categories[0], "Kita");
    assert_int_equal(C->demand_method, KZ_DEMAND_GRID);
    assert_true(C->demand_cell == 50);
    assert_int_equal(C->demand_layer, 1);
    C = &p->coverage[1];
    assert_int_equal(C->supply, KZ_SUPPLY_COUNT);
    assert_true(C->per == 1000);
    assert_int_equal(C->n_categories, 2);
    assert_int_equal(C->n_demand_points, 0);
    kz_project_free(p);

    assert_int_equal(parse(ctx,
                           HDR "coverage:\n  - {name: k, objects: kitas, level: plr, demand: u6,"
                               " radius: 300, demand_points: {method: zensus, source: z.csv,"
                               " count: Einwohner}}\n",
                           &p),
                     KZ_OK);
    assert_int_equal(p->coverage[0].demand_method, KZ_DEMAND_ZENSUS);
    assert_string_equal(p->coverage[0].demand_source, "z.csv");
    assert_string_equal(p->coverage[0].demand_count, "Einwohner");
    kz_project_free(p);
}

static void test_project_coverage_errors(void **state)
{
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"  - {name: k, objects: nope, level: plr, demand: u6}\n",
         "coverage[0].objects: object layer \"nope\" is not defined"},
        {"  - {name: k, objects: kitas, level: bzr, demand: u6}\n",
         "coverage[0].level: level \"bzr\" is not defined"},
        {"  - {name: k, objects: schools, level: plr, demand: u6, supply: capacity}\n",
         "supply: capacity needs a capacity field on objects \"schools\""},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, per: 0.5}\n",
         "coverage[0].per: must be a whole number"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radius: -1}\n",
         "coverage[0].radius: must be a positive distance"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6 +}\n",
         "coverage[0].demand: expected a variable name"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, category: A, categories: [B]}\n",
         "give category (one) or categories (a list), not both"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radius: 1,"
         " demand_points: {method: hexagon}}\n",
         "method \"hexagon\" is not one of grid"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radius: 1,"
         " demand_points: {method: zensus}}\n",
         "method zensus needs source"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radius: 1,"
         " demand_points: {method: centroid, cell: 10}}\n",
         "cell only applies with method: grid"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6,"
         " demand_points: {method: grid}}\n",
         "demand points serve radius and access_radius"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radius: 1,"
         " demand_points: {colour: red}}\n",
         "unknown key \"colour\""},
        {"  - {name: k, objects: kitas, level: plr, demand: u6}\n"
         "  - {name: k, objects: kitas, level: plr, demand: u6}\n",
         "coverage[1].name: \"k\" is already the name of coverage[0]"},
        {"  - {name: k, objects: kitas, level: plr}\n", "coverage[0].demand: required key"},
        {"  - {name: k, objects: kitas, level: plr, demand: u6, radus: 5}\n",
         "did you mean \"radius\""},
    };
    kz_ctx *ctx = *state;
    size_t i;
    char buf[1024];
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kz_project *p = NULL;
        snprintf(buf, sizeof(buf), HDR "coverage:\n%s", cases[i].yaml);
        if (parse(ctx, buf, &p) != KZ_E_USAGE || strstr(kz_ctx_errmsg(ctx), cases[i].msg) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, kz_ctx_errmsg(ctx), cases[i].msg);
        assert_null(p);
    }
}

/* Allocation failures anywhere in the coverage section leave no leak and
 * give KZ_E_NOMEM (run under ASan). */
static void test_project_coverage_alloc(void **state)
{
    kz_ctx *ctx = *state;
    const char *text = HDR "coverage:\n  - {name: k, objects: kitas, level: plr, demand: u6,"
                           " radius: 5, category: A, demand_points: {method: grid, cell: 9}}\n";
    int n, rc = KZ_E_NOMEM;
    for (n = 0; n < 2000 && rc == KZ_E_NOMEM; n++) {
        kz_project *p = NULL;
        kz_project__set_alloc_fail_after(n);
        rc = parse(ctx, text, &p);
        kz_project__set_alloc_fail_after(-1);
        assert_true(rc == KZ_OK || rc == KZ_E_NOMEM);
        kz_project_free(p);
    }
    assert_int_equal(rc, KZ_OK);
}

static int setup(void **state)
{
    kz_ctx *ctx = NULL;
    if (kz_ctx_new(&ctx) != KZ_OK)
        return -1;
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    kz_ctx_free(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_one_point),
        cmocka_unit_test(test_grid_id),
        cmocka_unit_test(test_zensus),
        cmocka_unit_test(test_distribute),
        cmocka_unit_test(test_project_coverage),
        cmocka_unit_test(test_project_coverage_errors),
        cmocka_unit_test(test_project_coverage_alloc),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
