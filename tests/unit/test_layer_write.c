/*
 * kz_layer_write: write small layers to GeoPackage, GeoJSON, Shapefile and
 * CSV and read them back with GDAL.
 */
/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kiez/kiez.h"
#include "kiez/layer.h"
#include "layer_internal.h"

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* A layer of two squares in EPSG:25833 (Berlin), built by hand so the
 * test does not depend on the reader. Freed with free_layer(). */
static kz_layer *make_areas(void)
{
    static const char *wkt[] = {"MULTIPOLYGON(((390000 5820000,391000 5820000,391000 5821000,"
                                "390000 5821000,390000 5820000)))",
                                "MULTIPOLYGON(((391000 5820000,392000 5820000,392000 5821000,"
                                "391000 5821000,391000 5820000)))"};
    kz_layer *l = calloc(1, sizeof(*l));
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *crs = NULL;
    size_t i;
    OSRImportFromEPSG(srs, 25833);
    OSRExportToWkt(srs, &crs);
    l->crs_wkt = strdup(crs);
    CPLFree(crs);
    OSRDestroySpatialReference(srs);
    l->source = strdup("test");
    l->kind = KZ_GEOM_AREAS;
    l->n = l->cap = 2;
    l->fid = calloc(2, sizeof(long long));
    l->keys = calloc(2, sizeof(char *));
    l->labels = calloc(2, sizeof(char *));
    l->wkb = calloc(2, sizeof(unsigned char *));
    l->wkb_size = calloc(2, sizeof(size_t));
    for (i = 0; i < 2; i++) {
        OGRGeometryH g = NULL;
        char *w = (char *)wkt[i];
        assert_int_equal(OGR_G_CreateFromWkt(&w, NULL, &g), OGRERR_NONE);
        l->wkb_size[i] = (size_t)OGR_G_WkbSize(g);
        l->wkb[i] = malloc(l->wkb_size[i]);
        OGR_G_ExportToIsoWkb(g, wkbNDR, l->wkb[i]);
        OGR_G_DestroyGeometry(g);
        l->fid[i] = (long long)i;
    }
    l->keys[0] = strdup("001");
    l->keys[1] = strdup("002");
    l->labels[0] = strdup("Mitte \xc3\xa4");
    l->labels[1] = strdup("Nord");
    return l;
}

static kz_layer *make_points(void)
{
    kz_layer *l = calloc(1, sizeof(*l));
    l->crs_wkt = strdup("");
    l->source = strdup("pts");
    l->kind = KZ_GEOM_POINTS;
    l->n = l->cap = 3;
    l->fid = calloc(3, sizeof(long long));
    l->x = malloc(3 * sizeof(double));
    l->y = malloc(3 * sizeof(double));
    l->x[0] = 1;
    l->y[0] = 2;
    l->x[1] = 3;
    l->y[1] = 4;
    l->x[2] = 5;
    l->y[2] = 6;
    return l;
}

static void free_layer(kz_layer *l)
{
    size_t i;
    for (i = 0; i < l->n; i++) {
        if (l->keys)
            free(l->keys[i]);
        if (l->labels)
            free(l->labels[i]);
        if (l->wkb)
            free(l->wkb[i]);
    }
    free(l->keys);
    free(l->labels);
    free(l->wkb);
    free(l->wkb_size);
    free(l->x);
    free(l->y);
    free(l->fid);
    free(l->source);
    free(l->crs_wkt);
    free(l);
}

static const double reals[] = {1.5, NAN};
static const long long ints[] = {7, -3};
static const char *const texts[] = {"a", NULL};

static void columns(kz_column *c)
{
    c[0] = (kz_column){"share", KZ_COL_REAL, reals, NULL, NULL};
    c[1] = (kz_column){"n", KZ_COL_INTEGER, NULL, ints, NULL};
    c[2] = (kz_column){"note", KZ_COL_TEXT, NULL, NULL, texts};
}

static void path_in_dir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

/* Check feature values of the two-square layer read back from `ds`. */
static void check_values(OGRLayerH lyr, int has_geom)
{
    OGRFeatureH f;
    OGRFeatureDefnH d = OGR_L_GetLayerDefn(lyr);
    int ik = OGR_FD_GetFieldIndex(d, "key"), iname = OGR_FD_GetFieldIndex(d, "name");
    int is = OGR_FD_GetFieldIndex(d, "share"), in = OGR_FD_GetFieldIndex(d, "n");
    int it = OGR_FD_GetFieldIndex(d, "note");
    assert_true(ik >= 0 && iname >= 0 && is >= 0 && in >= 0 && it >= 0);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), 2);
    OGR_L_ResetReading(lyr);
    f = OGR_L_GetNextFeature(lyr);
    assert_string_equal(OGR_F_GetFieldAsString(f, ik), "001");
    assert_string_equal(OGR_F_GetFieldAsString(f, iname), "Mitte \xc3\xa4");
    assert_true(OGR_F_GetFieldAsDouble(f, is) == 1.5);
    assert_int_equal(OGR_F_GetFieldAsInteger64(f, in), 7);
    assert_string_equal(OGR_F_GetFieldAsString(f, it), "a");
    /* has_geom 2: a Shapefile, which does not tell one-part multipolygons */
    if (has_geom == 1)
        assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(OGR_F_GetGeometryRef(f))),
                         wkbMultiPolygon);
    if (has_geom == 2)
        assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(OGR_F_GetGeometryRef(f))), wkbPolygon);
    OGR_F_Destroy(f);
    f = OGR_L_GetNextFeature(lyr);
    assert_string_equal(OGR_F_GetFieldAsString(f, ik), "002");
    assert_int_equal(OGR_F_GetFieldAsInteger64(f, in), -3);
    assert_false(OGR_F_IsFieldSetAndNotNull(f, is) && OGR_F_GetFieldAsString(f, is)[0]);
    assert_false(OGR_F_IsFieldSetAndNotNull(f, it) && OGR_F_GetFieldAsString(f, it)[0]);
    OGR_F_Destroy(f);
}

static GDALDatasetH open_vec(const char *path)
{
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    assert_non_null(ds);
    return ds;
}

static void test_gpkg(void **state)
{
    kz_ctx *ctx = NULL;
    kz_layer *l = make_areas(), *p = make_points();
    kz_column c[3];
    char path[256], cmd[512];
    GDALDatasetH ds;
    OGRLayerH lyr;
    struct stat st;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    columns(c);
    path_in_dir(path, sizeof(path), "out.gpkg");
    assert_int_equal(kz_layer_write(ctx, l, path, "plr", c, 3), KZ_OK);
    ds = open_vec(path);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 1);
    lyr = GDALDatasetGetLayerByName(ds, "plr");
    assert_non_null(lyr);
    assert_int_equal(wkbFlatten(OGR_L_GetGeomType(lyr)), wkbMultiPolygon);
    assert_string_equal(OSRGetAuthorityCode(OGR_L_GetSpatialRef(lyr), NULL), "25833");
    check_values(lyr, 1);
    GDALClose(ds);

    /* A second layer is added, then the first replaced; points work too. */
    assert_int_equal(kz_layer_write(ctx, p, path, "points", NULL, 0), KZ_OK);
    c[1] = (kz_column){"n", KZ_COL_INTEGER, NULL, (const long long[]){70, 80}, NULL};
    assert_int_equal(kz_layer_write(ctx, l, path, "plr", c, 3), KZ_OK);
    ds = open_vec(path);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 2);
    lyr = GDALDatasetGetLayerByName(ds, "points");
    assert_int_equal(wkbFlatten(OGR_L_GetGeomType(lyr)), wkbPoint);
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), 3);
    lyr = GDALDatasetGetLayerByName(ds, "plr");
    assert_int_equal(OGR_L_GetFeatureCount(lyr, TRUE), 2);
    {
        OGRFeatureH f = OGR_L_GetNextFeature(lyr);
        assert_int_equal(
            OGR_F_GetFieldAsInteger64(f, OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(lyr), "n")), 70);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);

    /* The GeoPackage passes GDAL's validator (when python3-gdal is there). */
    if (stat("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", &st) == 0) {
        snprintf(cmd, sizeof(cmd),
                 "/usr/bin/python3 "
                 "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py -k %s",
                 path);
        assert_int_equal(system(cmd), 0);
    }
    free_layer(l);
    free_layer(p);
    kz_ctx_free(ctx);
}

static void test_geojson(void **state)
{
    kz_ctx *ctx = NULL;
    kz_layer *l = make_areas();
    kz_column c[3];
    char path[256], text[8192];
    GDALDatasetH ds;
    OGRLayerH lyr;
    OGRFeatureH f;
    OGREnvelope env;
    FILE *fp;
    size_t n;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    columns(c);
    path_in_dir(path, sizeof(path), "out.geojson");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_OK);
    ds = open_vec(path);
    lyr = GDALDatasetGetLayer(ds, 0);
    check_values(lyr, 1);
    /* WGS 84 lon/lat: Berlin is near 13.4 E, 52.5 N. */
    OGR_L_ResetReading(lyr);
    f = OGR_L_GetNextFeature(lyr);
    OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &env);
    assert_true(env.MinX > 13 && env.MaxX < 14 && env.MinY > 52 && env.MaxY < 53);
    OGR_F_Destroy(f);
    GDALClose(ds);
    fp = fopen(path, "r");
    n = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    text[n] = '\0';
    assert_null(strstr(text, "\"crs\""));
    assert_non_null(strstr(text, "MultiPolygon"));
    {
        /* at most 7 decimals */
        const char *s = text;
        while ((s = strchr(s, '.')) != NULL) {
            int d = 0;
            s++;
            while (s[d] >= '0' && s[d] <= '9')
                d++;
            assert_true(d <= 7);
        }
    }
    free_layer(l);
    kz_ctx_free(ctx);
}

static void test_shp_csv_and_errors(void **state)
{
    kz_ctx *ctx = NULL;
    kz_layer *l = make_areas();
    kz_column c[3];
    char path[256], tmp[300];
    GDALDatasetH ds;
    struct stat st;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    columns(c);
    path_in_dir(path, sizeof(path), "out.shp");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_OK);
    ds = open_vec(path);
    check_values(GDALDatasetGetLayer(ds, 0), 2);
    GDALClose(ds);
    path_in_dir(tmp, sizeof(tmp), "out.prj");
    assert_int_equal(stat(tmp, &st), 0);
    /* rewriting replaces it */
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_OK);

    path_in_dir(path, sizeof(path), "out.csv");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_OK);
    ds = open_vec(path);
    check_values(GDALDatasetGetLayer(ds, 0), 0);
    GDALClose(ds);

    path_in_dir(path, sizeof(path), "out.xyz");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "unknown output format"));
    path_in_dir(path, sizeof(path), "no/such/dir/out.gpkg");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_E_IO);
    /* a column without values */
    c[0].reals = NULL;
    path_in_dir(path, sizeof(path), "bad.geojson");
    assert_int_equal(kz_layer_write(ctx, l, path, NULL, c, 3), KZ_E_USAGE);
    assert_int_not_equal(stat(path, &st), 0); /* nothing left behind */
    free_layer(l);
    kz_ctx_free(ctx);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/kz_layer_write_XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    GDALAllRegister();
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpkg),
        cmocka_unit_test(test_geojson),
        cmocka_unit_test(test_shp_csv_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, getenv("KZ_KEEP") ? NULL : teardown);
}
