/* Spatial statistics in the pipeline (compute_spatial.c, the spatial and
 * correlations sections of project.c, the LISA style of style_qml.c):
 * weights restricted to the areas with values on a hand-drawn 3 x 3 grid,
 * the project keys with their defaults and errors, and the categorical
 * QML of LISA cluster columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "compute_spatial.h"
#include "kiez/ctx.h"
#include "kiez/style.h"
#include "project_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- weights restricted to a subset ---------------------------------- */

/* WKB (little endian) of the unit square with lower left corner (x, y). */
static size_t square_wkb(unsigned char *out, double x, double y)
{
    const double xy[10] = {x, y, x + 1, y, x + 1, y + 1, x, y + 1, x, y};
    uint32_t type = 3, rings = 1, points = 5;
    size_t o = 0;
    out[o++] = 1;
    memcpy(out + o, &type, 4);
    o += 4;
    memcpy(out + o, &rings, 4);
    o += 4;
    memcpy(out + o, &points, 4);
    o += 4;
    memcpy(out + o, xy, sizeof(xy));
    return o + sizeof(xy);
}

/* The 3 x 3 grid, cells numbered row by row from the lower left:
 *   6 7 8
 *   3 4 5
 *   0 1 2                                                                */
typedef struct grid {
    unsigned char buf[9][128];
    const unsigned char *wkb[9];
    size_t size[9];
} grid;

static void make_grid(grid *g)
{
    size_t i;
    for (i = 0; i < 9; i++) {
        g->size[i] = square_wkb(g->buf[i], (double)(i % 3), (double)(i / 3));
        g->wkb[i] = g->buf[i];
    }
}

static kz_weights *grid_weights(kz_ctx *ctx, const grid *g, const size_t *which, size_t n,
                                int kind, int style)
{
    const unsigned char *wkb[9];
    size_t size[9], i;
    kz_weights_options o;
    kz_weights *w = NULL;
    for (i = 0; i < n; i++) {
        wkb[i] = g->wkb[which[i]];
        size[i] = g->size[which[i]];
    }
    kz_weights_options_init(&o);
    o.kind = kind;
    o.style = style;
    o.distance = 1.0;
    assert_int_equal(kz_weights_from_wkb(&w, ctx, wkb, size, n, NULL, &o), KZ_OK);
    return w;
}

/* Restricting the weights of all nine cells equals building them from the
 * kept cells alone (queen, rook, distance band 1 between centroids), with
 * the row-standardised weights 1 / (number of kept neighbours). */
static void test_restrict_equals_rebuild(void **state)
{
    static const unsigned char keeps[3][9] = {
        {1, 1, 1, 1, 0, 1, 1, 1, 1}, /* no centre */
        {1, 0, 1, 0, 1, 1, 1, 1, 1}, /* cells 1 and 3 gone: 0 touches 4 only (queen) */
        {1, 1, 1, 1, 1, 1, 1, 1, 1}};
    static const int kinds[3] = {KZ_WEIGHTS_QUEEN, KZ_WEIGHTS_ROOK, KZ_WEIGHTS_DIST};
    kz_ctx *ctx = NULL;
    grid g;
    size_t all[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, kept[9], map[9], i, k, t, m, n_kept;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    make_grid(&g);
    for (t = 0; t < 3; t++) {
        kz_weights *full = grid_weights(ctx, &g, all, 9, kinds[t], KZ_STYLE_B);
        for (k = 0; k < 3; k++) {
            kz_weights *sub = NULL, *ref;
            n_kept = 0;
            for (i = 0; i < 9; i++)
                if (keeps[k][i])
                    kept[n_kept++] = i;
            ref = grid_weights(ctx, &g, kept, n_kept, kinds[t], KZ_STYLE_W);
            assert_int_equal(
                kz_compute__restrict_weights(&sub, &m, map, ctx, full, keeps[k], KZ_STYLE_W),
                KZ_OK);
            assert_int_equal(m, n_kept);
            assert_int_equal(kz_weights_n(sub), n_kept);
            assert_int_equal(kz_weights_links(sub), kz_weights_links(ref));
            for (i = 0; i < m; i++) {
                const size_t *a, *b;
                const double *wa, *wb;
                size_t na = kz_weights_neighbours(sub, i, &a, &wa), j;
                size_t nb = kz_weights_neighbours(ref, i, &b, &wb);
                assert_int_equal(map[i], kept[i]);
                assert_int_equal(na, nb);
                for (j = 0; j < na; j++) {
                    assert_int_equal(a[j], b[j]);
                    assert_true(fabs(wa[j] - 1.0 / (double)na) < 1e-15);
                    assert_true(fabs(wb[j] - wa[j]) < 1e-15);
                }
            }
            kz_weights_free(sub);
            kz_weights_free(ref);
        }
        kz_weights_free(full);
    }
    kz_ctx_free(ctx);
}

/* Rook weights without cells 1 and 3: corner 0 loses both neighbours and
 * becomes an island; binary weights keep their raw value 1. */
static void test_restrict_island(void **state)
{
    static const unsigned char keep[9] = {1, 0, 1, 0, 1, 1, 1, 1, 1};
    kz_ctx *ctx = NULL;
    kz_weights *full, *sub = NULL;
    grid g;
    size_t all[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8}, map[9], m;
    const size_t *islands, *ids;
    const double *w;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    make_grid(&g);
    full = grid_weights(ctx, &g, all, 9, KZ_WEIGHTS_ROOK, KZ_STYLE_B);
    assert_int_equal(kz_weights_links(full), 24); /* 12 shared edges, both ways */
    assert_int_equal(kz_compute__restrict_weights(&sub, &m, map, ctx, full, keep, KZ_STYLE_B),
                     KZ_OK);
    assert_int_equal(m, 7);
    assert_int_equal(kz_weights_links(sub), 12); /* 6 of the 12 edges touch cell 1 or 3 */
    assert_int_equal(kz_weights_islands(sub, &islands), 1);
    assert_int_equal(islands[0], 0);
    /* Cell 4 (index 2 of the subset) keeps neighbours 5 and 7 (indexes 3, 5). */
    assert_int_equal(map[2], 4);
    assert_int_equal(kz_weights_neighbours(sub, 2, &ids, &w), 2);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[1], 5);
    assert_true(w[0] == 1.0 && w[1] == 1.0);
    kz_weights_free(sub);
    /* Weights must come styled B (raw). */
    assert_int_equal(kz_weights_set_style(full, ctx, KZ_STYLE_W), KZ_OK);
    assert_int_equal(kz_compute__restrict_weights(&sub, &m, map, ctx, full, keep, KZ_STYLE_W),
                     KZ_E_USAGE);
    assert_null(sub);
    kz_weights_free(full);
    kz_ctx_free(ctx);
}

/* ---- project keys ------------------------------------------------------ */

#define HDR                                                                                        \
    "name: T\n"                                                                                    \
    "crs: EPSG:25833\n"                                                                            \
    "levels:\n"                                                                                    \
    "  - {name: plr, source: plr.shp, key: PLR_ID}\n"                                              \
    "indicators:\n"                                                                                \
    "  - {name: S1, numerator: S1}\n"                                                              \
    "  - {name: S3, numerator: S3}\n"                                                              \
    "indices:\n"                                                                                   \
    "  - {name: status, level: plr, inputs: [S1, S3]}\n"                                           \
    "trends:\n"                                                                                    \
    "  - {indicators: [S1], from: 2019-12-31, to: 2020-12-31}\n"

static int parse(kz_project **out, kz_ctx *ctx, const char *yaml)
{
    return kz_project__parse_buffer(out, ctx, yaml, strlen(yaml), "t.yml", KZ_PROJECT__NO_FS);
}

static void test_project_keys(void **state)
{
    kz_ctx *ctx = NULL;
    kz_project *p = NULL;
    const char *yaml = HDR "spatial:\n"
                           "  - level: plr\n"
                           "    indicators: [S1, status_index, z_S3, S1_chg]\n"
                           "  - {level: plr, indicators: [S3], weights: \"knn:6\", style: B,"
                           " permutations: 0, seed: 7, alpha: 0.01, fdr: true,"
                           " period: 2020-12-31}\n"
                           "  - {level: plr, indicators: [status_sum], weights: \"dist:1500.5\"}\n"
                           "  - {level: plr, indicators: [S1_slope], weights: rook,"
                           " tolerance: 0.5}\n"
                           "correlations:\n"
                           "  - {level: plr, indicators: [S1, S3, status_index]}\n"
                           "  - {level: plr, indicators: [S1, S3], method: spearman}\n";
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(parse(&p, ctx, yaml), KZ_OK);
    assert_int_equal(p->n_spatial, 4);
    /* Defaults. */
    assert_int_equal(p->spatial[0].n_indicators, 4);
    assert_null(p->spatial[0].weights);
    assert_int_equal(p->spatial[0].weights_kind, KZ_WEIGHTS_QUEEN);
    assert_true(p->spatial[0].tolerance < 0);
    assert_int_equal(p->spatial[0].style, KZ_STYLE_W);
    assert_int_equal(p->spatial[0].permutations, 999);
    assert_int_equal(p->spatial[0].seed, 12345);
    assert_true(p->spatial[0].alpha == 0.05);
    assert_int_equal(p->spatial[0].fdr, 0);
    assert_null(p->spatial[0].period);
    /* Everything given. */
    assert_int_equal(p->spatial[1].weights_kind, KZ_WEIGHTS_KNN);
    assert_int_equal(p->spatial[1].k, 6);
    assert_int_equal(p->spatial[1].style, KZ_STYLE_B);
    assert_int_equal(p->spatial[1].permutations, 0);
    assert_int_equal(p->spatial[1].seed, 7);
    assert_true(p->spatial[1].alpha == 0.01);
    assert_int_equal(p->spatial[1].fdr, 1);
    assert_string_equal(p->spatial[1].period, "2020-12-31");
    assert_int_equal(p->spatial[2].weights_kind, KZ_WEIGHTS_DIST);
    assert_true(p->spatial[2].distance == 1500.5);
    assert_int_equal(p->spatial[3].weights_kind, KZ_WEIGHTS_ROOK);
    assert_true(p->spatial[3].tolerance == 0.5);
    assert_int_equal(p->n_correlations, 2);
    assert_int_equal(p->correlations[0].methods, KZ_CORRELATION_BOTH);
    assert_int_equal(p->correlations[0].n_indicators, 3);
    assert_int_equal(p->correlations[1].methods, KZ_CORRELATION_SPEARMAN);
    kz_project_free(p);
    kz_ctx_free(ctx);
}

/* Columns of a coverage item (<name>_...) may be analysed: coverage is
 * parsed after spatial but checked before it. */
static void test_project_coverage_columns(void **state)
{
    kz_ctx *ctx = NULL;
    kz_project *p = NULL;
    const char *yaml = HDR "objects:\n"
                           "  - {name: kitas, source: kitas.geojson, capacity: e_platz}\n"
                           "spatial:\n"
                           "  - {level: plr, indicators: [kita_per_100, S1]}\n"
                           "coverage:\n"
                           "  - {name: kita, objects: kitas, level: plr, supply: capacity,"
                           " demand: S1, per: 100}\n";
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    if (parse(&p, ctx, yaml) != KZ_OK)
        fprintf(stderr, "%s\n", kz_ctx_errmsg(ctx));
    assert_non_null(p);
    assert_int_equal(p->n_spatial, 1);
    assert_int_equal(p->n_coverage, 1);
    kz_project_free(p);
    kz_ctx_free(ctx);
}

typedef struct bad_case {
    const char *yaml, *message;
} bad_case;

static void test_project_errors(void **state)
{
    static const bad_case cases[] = {
        {HDR "spatial:\n  - {level: bzr, indicators: [S1]}\n",
         "t.yml:13:13: spatial[0]: level \"bzr\" is not defined under levels"},
        {HDR "spatial:\n  - {level: plr}\n", "t.yml:13:5: spatial[0]: needs indicators"},
        {HDR "spatial:\n  - {level: plr, indicators: [S2]}\n",
         "t.yml:13:30: spatial[0]: \"S2\" is neither an indicator nor a column computed by"},
        /* status_class needs cuts; lisa columns are no inputs. */
        {HDR "spatial:\n  - {level: plr, indicators: [status_class]}\n",
         "spatial[0]: \"status_class\" is neither"},
        {HDR "spatial:\n  - {level: plr, indicators: [lisa_S1_i]}\n",
         "spatial[0]: \"lisa_S1_i\" is neither"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1, S1]}\n",
         "spatial[0]: \"S1\" is listed twice"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], weights: hex}\n",
         "t.yml:13:45: spatial[0]: weights \"hex\" is not one of queen, rook, knn:K"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], weights: \"knn:0\"}\n",
         "spatial[0]: weights \"knn:0\" is not one of"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], weights: \"dist:-3\"}\n",
         "spatial[0]: weights \"dist:-3\" is not one of"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], weights: \"knn:4\", tolerance: 1}\n",
         "spatial[0]: tolerance is a snapping distance >= 0 in CRS units for queen or rook"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], tolerance: -1}\n",
         "spatial[0]: tolerance is a snapping distance"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], alpha: 1.5}\n",
         "spatial[0]: alpha must lie between 0 and 1"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], style: R}\n",
         "spatial[0].style: \"R\" is not one of \"W\", \"B\""},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], permutations: 2000000}\n",
         "spatial[0].permutations: 2000000 is out of range"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1], period: soon}\n",
         "spatial[0]: \"soon\" is not a date"},
        {HDR "spatial:\n  - {level: plr, indicators: [S1, S3]}\n"
             "  - {level: plr, indicators: [S3], weights: rook}\n",
         "spatial[1]: \"S3\" on level plr is already in spatial[0]"},
        {HDR "correlations:\n  - {level: plr, indicators: [S1]}\n",
         "correlations[0]: needs at least two indicators"},
        {HDR "correlations:\n  - {level: plr, indicators: [S1, S9]}\n",
         "correlations[0]: \"S9\" is neither"},
        {HDR "correlations:\n  - {level: plr, indicators: [S1, S3], method: kendall}\n",
         "correlations[0].method: \"kendall\" is not one of pearson, spearman, both"},
        {HDR "correlations:\n  - {level: x, indicators: [S1, S3]}\n",
         "correlations[0]: level \"x\" is not defined"},
    };
    kz_ctx *ctx = NULL;
    size_t i, bad = 0;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kz_project *p = NULL;
        int rc = parse(&p, ctx, cases[i].yaml);
        if (rc != KZ_E_USAGE || strstr(kz_ctx_errmsg(ctx), cases[i].message) == NULL) {
            fprintf(stderr, "case %zu: rc %d\n  want: %s\n  got:  %s\n", i, rc, cases[i].message,
                    rc == KZ_OK ? "(no error)" : kz_ctx_errmsg(ctx));
            bad++;
        }
        assert_null(p);
        kz_project_free(p);
    }
    kz_ctx_free(ctx);
    assert_int_equal(bad, 0);
}

/* ---- LISA style ---------------------------------------------------------- */

static void test_lisa_style(void **state)
{
    static const kz_style_indicator inds[2] = {{"lisa_S1_class", "LISA S1: Cluster", NULL, NULL, NULL},
                                               {"status_class", "Status", NULL, NULL, NULL}};
    static const double values[6] = {0, 1, 2, 3, 4, NAN};
    kz_style_layer layer = {inds, 2, "name", 25000};
    kz_style_map map;
    kz_ctx *ctx = NULL;
    char *qml = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_style_classify(&map, ctx, &inds[0], values, 6), KZ_OK);
    assert_int_equal(kz_style_qml(&qml, ctx, &layer, 0, &map), KZ_OK);
    assert_non_null(strstr(qml, "<renderer-v2 type=\"categorizedSymbol\" attr=\"lisa_S1_class\""));
    assert_null(strstr(qml, "graduatedSymbol"));
    assert_non_null(strstr(qml, "value=\"1\" label=\"HH: hoch, Nachbarn hoch\""));
    assert_non_null(strstr(qml, "value=\"3\" label=\"LL: niedrig, Nachbarn niedrig\""));
    assert_non_null(strstr(qml, "value=\"0\" label=\"nicht signifikant\""));
    assert_non_null(strstr(qml, "value=\"\" label=\"keine Werte\""));
    /* Symbols 0..5 in the category order HH, LL, LH, HL, ns, none. */
    assert_non_null(strstr(qml, "name=\"0\" alpha=\"1\""));
    assert_non_null(strstr(qml, "\"color\" value=\"255,0,0,255\""));
    assert_non_null(strstr(qml, "\"color\" value=\"0,0,255,255\""));
    assert_non_null(strstr(qml, "\"color\" value=\"167,173,249,255\""));
    assert_non_null(strstr(qml, "\"color\" value=\"244,173,168,255\""));
    assert_non_null(strstr(qml, "\"color\" value=\"238,238,238,255\""));
    kz_style_qml_free(qml);
    /* Other class columns stay graduated. */
    assert_int_equal(kz_style_classify(&map, ctx, &inds[1], values, 6), KZ_OK);
    assert_int_equal(kz_style_qml(&qml, ctx, &layer, 1, &map), KZ_OK);
    assert_non_null(strstr(qml, "graduatedSymbol"));
    assert_null(strstr(qml, "categorizedSymbol"));
    kz_style_qml_free(qml);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restrict_equals_rebuild),
        cmocka_unit_test(test_restrict_island),
        cmocka_unit_test(test_project_keys),
        cmocka_unit_test(test_project_errors),
        cmocka_unit_test(test_project_coverage_columns),
        cmocka_unit_test(test_lisa_style),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
