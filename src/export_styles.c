/*
 * GDAL adapter for the QGIS styles of the level layers: rows of the
 * GeoPackage's layer_styles table and <level>.qml sidecars of the GeoJSON
 * files. The styles themselves come from style_qml.c.
 *
 * layer_styles is the table QGIS reads and writes (QgsOgrProviderUtils);
 * QGIS 3.22 applies a row when f_table_catalog and f_table_schema are ''
 * (NULL never matches), f_table_name equals the layer name,
 * f_geometry_column the layer's geometry column, preferring useAsDefault = 1
 * and then the newest update_time. Created through GDAL as a table without
 * geometry, it is registered in gpkg_contents as 'attributes' and the
 * package still passes validate_gpkg.py.
 */
#include "ctx_internal.h"
#include "kiez/style.h"
#include "ogr_internal.h"
#include "store.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PATH_LEN 4096
#define STYLE_MARK "kiez " /* description prefix of the rows kiez owns */

/* The latest values of one level: values[j * n_areas + i] for indicator j,
 * area i; plus the area sum of the level to pick label scales. */
typedef struct level_values {
    kz_ctx *ctx;
    size_t n_ind, n_areas, cap;
    double *values; /* n_ind blocks of cap */
    double area_sum;
    int geographic;
} level_values;

static int collect(const kz_store_area *a, void *payload)
{
    level_values *lv = payload;
    size_t j;
    if (lv->n_areas == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 256;
        double *more = malloc((lv->n_ind ? lv->n_ind : 1) * cap * sizeof(double));
        if (more == NULL)
            return kz_ctx__error(lv->ctx, KZ_E_NOMEM, "out of memory");
        for (j = 0; j < lv->n_ind && lv->n_areas > 0; j++)
            memcpy(more + j * cap, lv->values + j * lv->cap, lv->n_areas * sizeof(double));
        free(lv->values);
        lv->values = more;
        lv->cap = cap;
    }
    for (j = 0; j < lv->n_ind; j++)
        lv->values[j * lv->cap + lv->n_areas] = a->values[j];
    if (a->wkb != NULL) {
        OGRGeometryH g = NULL;
        if (OGR_G_CreateFromWkb((const void *)a->wkb, NULL, &g, (int)a->wkb_size) == OGRERR_NONE) {
            double area = OGR_G_Area(g);
            if (lv->geographic) {
                /* Degrees² to m², near enough for a label scale. */
                OGREnvelope env;
                OGR_G_GetEnvelope(g, &env);
                area *= 111320.0 * 111320.0 *
                        cos((env.MinY + env.MaxY) / 2 * 3.14159265358979323846 / 180);
            }
            lv->area_sum += area;
            OGR_G_DestroyGeometry(g);
        }
    }
    lv->n_areas++;
    return KZ_OK;
}

/* Labels show when a typical area is about 25 mm wide on screen: the
 * scale denominator width / 0.025 m, rounded to a customary scale. */
static double label_scale(const level_values *lv)
{
    static const double nice[] = {5000,   10000,  25000,   50000,   100000,
                                  250000, 500000, 1000000, 2500000, 5000000};
    double raw, best = 50000, best_d = INFINITY;
    size_t i;
    if (lv->n_areas == 0 || !(lv->area_sum > 0))
        return best;
    raw = sqrt(lv->area_sum / (double)lv->n_areas) / 0.025;
    for (i = 0; i < sizeof(nice) / sizeof(nice[0]); i++) {
        double d = fabs(log(raw / nice[i]));
        if (d < best_d) {
            best_d = d;
            best = nice[i];
        }
    }
    return best;
}

static int gdal_fail(kz_ctx *ctx, const char *path, const char *what)
{
    const char *msg = CPLGetLastErrorMsg();
    return kz_ctx__error(ctx, KZ_E_IO, "%s: %s%s%s", path, what, msg[0] ? ": " : "", msg);
}

static int add_field(kz_ctx *ctx, const char *path, OGRLayerH layer, const char *name,
                     OGRFieldType type, int boolean)
{
    OGRFieldDefnH f = OGR_Fld_Create(name, type);
    OGRErr err;
    if (boolean)
        OGR_Fld_SetSubType(f, OFSTBoolean);
    err = OGR_L_CreateField(layer, f, TRUE);
    OGR_Fld_Destroy(f);
    return err == OGRERR_NONE ? KZ_OK
                              : gdal_fail(ctx, path, "cannot create a field of layer_styles");
}

static const char *const style_fields[] = {
    "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
    "styleName",       "styleQML",       "styleSLD",     "useAsDefault",
    "description",     "owner",          "ui",           "update_time"};

/* The layer_styles table, created when missing. */
static int styles_table(OGRLayerH *out, GDALDatasetH ds, kz_ctx *ctx, const char *path)
{
    OGRLayerH t = GDALDatasetGetLayerByName(ds, "layer_styles");
    char **opts = NULL;
    size_t i;
    int rc;
    *out = NULL;
    if (t != NULL) {
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(t);
        for (i = 0; i < sizeof(style_fields) / sizeof(style_fields[0]); i++)
            if (OGR_FD_GetFieldIndex(defn, style_fields[i]) < 0)
                return kz_ctx__error(ctx, KZ_E_IO,
                                     "%s: table layer_styles has no column %s; it was not "
                                     "made by QGIS or kiez",
                                     path, style_fields[i]);
        *out = t;
        return KZ_OK;
    }
    opts = CSLSetNameValue(opts, "FID", "id");
    t = GDALDatasetCreateLayer(ds, "layer_styles", NULL, wkbNone, opts);
    CSLDestroy(opts);
    if (t == NULL)
        return gdal_fail(ctx, path, "cannot create the table layer_styles");
    for (i = 0; i < sizeof(style_fields) / sizeof(style_fields[0]); i++) {
        const char *n = style_fields[i];
        OGRFieldType type = strcmp(n, "useAsDefault") == 0  ? OFTInteger
                            : strcmp(n, "update_time") == 0 ? OFTDateTime
                                                            : OFTString;
        if ((rc = add_field(ctx, path, t, n, type, strcmp(n, "useAsDefault") == 0)) != KZ_OK)
            return rc;
    }
    *out = t;
    return KZ_OK;
}

/* Delete the rows kiez wrote earlier for `table` (description "kiez ..."). */
static int drop_old_rows(OGRLayerH t, kz_ctx *ctx, const char *path, const char *table)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(t);
    int fi_name = OGR_FD_GetFieldIndex(defn, "f_table_name");
    int fi_desc = OGR_FD_GetFieldIndex(defn, "description");
    GIntBig *fids = NULL;
    size_t n = 0, cap = 0, i;
    OGRFeatureH f;
    int rc = KZ_OK;
    OGR_L_ResetReading(t);
    while ((f = OGR_L_GetNextFeature(t)) != NULL) {
        const char *name =
            OGR_F_IsFieldSetAndNotNull(f, fi_name) ? OGR_F_GetFieldAsString(f, fi_name) : "";
        const char *desc =
            OGR_F_IsFieldSetAndNotNull(f, fi_desc) ? OGR_F_GetFieldAsString(f, fi_desc) : "";
        if (strcmp(name, table) == 0 && strncmp(desc, STYLE_MARK, strlen(STYLE_MARK)) == 0) {
            if (n == cap) {
                GIntBig *more = realloc(fids, (cap = cap ? cap * 2 : 16) * sizeof(*fids));
                if (more == NULL) {
                    OGR_F_Destroy(f);
                    free(fids);
                    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                }
                fids = more;
            }
            fids[n++] = OGR_F_GetFID(f);
        }
        OGR_F_Destroy(f);
    }
    for (i = 0; i < n && rc == KZ_OK; i++)
        if (OGR_L_DeleteFeature(t, fids[i]) != OGRERR_NONE)
            rc = gdal_fail(ctx, path, "cannot replace an old style");
    free(fids);
    return rc;
}

static int add_row(OGRLayerH t, kz_ctx *ctx, const char *path, const char *table,
                   const char *geom_col, const char *style_name, const char *qml, int is_default,
                   const char *description, const struct tm *now)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(t);
    OGRFeatureH f = OGR_F_Create(defn);
    OGRErr err;
    if (f == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "f_table_catalog"), "");
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "f_table_schema"), "");
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "f_table_name"), table);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "f_geometry_column"), geom_col);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "styleName"), style_name);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "styleQML"), qml);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "styleSLD"), "");
    OGR_F_SetFieldInteger(f, OGR_FD_GetFieldIndex(defn, "useAsDefault"), is_default);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "description"), description);
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "owner"), "kiez");
    OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(defn, "ui"), "");
    /* TZFlag 100 = UTC: GDAL writes 2024-01-01T00:00:00.000Z, as QGIS does. */
    OGR_F_SetFieldDateTimeEx(f, OGR_FD_GetFieldIndex(defn, "update_time"), now->tm_year + 1900,
                             now->tm_mon + 1, now->tm_mday, now->tm_hour, now->tm_min,
                             (float)now->tm_sec, 100);
    err = OGR_L_CreateFeature(t, f);
    OGR_F_Destroy(f);
    return err == OGRERR_NONE ? KZ_OK : gdal_fail(ctx, path, "cannot write a style");
}

/* Write `text` to `path` under a temporary name, then rename. */
static int write_file(kz_ctx *ctx, const char *path, const char *text)
{
    char tmp[PATH_LEN + 32];
    FILE *f;
    size_t n = strlen(text);
    int ok;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: path too long", path);
    if ((f = fopen(tmp, "wb")) == NULL)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot write", path);
    ok = fwrite(text, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot write", path);
    }
    return KZ_OK;
}

typedef struct job {
    kz_db *db;
    kz_ctx *ctx;
    const char *gpkg_path, *geojson_dir;
    GDALDatasetH ds;
    OGRLayerH styles;
    kz_style_indicator *inds;
    size_t n_ind;
    struct tm now;
    int geographic;
} job;

/*
 * The default style of <level>_time: the level's default style plus the
 * temporal properties (QgsVectorLayerTemporalProperties, mode 2 = start and
 * end from fields), so QGIS's temporal controller plays the periods.
 */
static int add_timeline_style(job *jb, const char *level, const char *qml, const char *desc)
{
    static const char temporal[] =
        "\n  <temporal enabled=\"1\" mode=\"2\" startField=\"period_start\" "
        "endField=\"period_end\" durationField=\"\" durationUnit=\"min\" "
        "startExpression=\"\" endExpression=\"\" fixedDuration=\"0\" accumulate=\"0\">"
        "<fixedRange><start></start><end></end></fixedRange></temporal>";
    char name[256];
    const char *open = strstr(qml, "<qgis"), *close, *geom_col;
    OGRLayerH l;
    char *text;
    size_t head, len = strlen(qml);
    int rc;

    snprintf(name, sizeof(name), "%s_time", level);
    if (jb->ds == NULL || (l = GDALDatasetGetLayerByName(jb->ds, name)) == NULL)
        return KZ_OK;
    if (open == NULL || (close = strchr(open, '>')) == NULL)
        return kz_ctx__error(jb->ctx, KZ_E_INTERNAL, "style of %s: no <qgis> element", level);
    geom_col = OGR_L_GetGeometryColumn(l);
    if (geom_col == NULL || geom_col[0] == '\0')
        geom_col = "geom";
    head = (size_t)(close - qml) + 1;
    if ((text = malloc(len + sizeof(temporal))) == NULL)
        return kz_ctx__error(jb->ctx, KZ_E_NOMEM, "out of memory");
    memcpy(text, qml, head);
    memcpy(text + head, temporal, sizeof(temporal) - 1);
    memcpy(text + head + sizeof(temporal) - 1, qml + head, len - head + 1);
    if ((rc = drop_old_rows(jb->styles, jb->ctx, jb->gpkg_path, name)) == KZ_OK)
        rc = add_row(jb->styles, jb->ctx, jb->gpkg_path, name, geom_col, "timeline", text, 1, desc,
                     &jb->now);
    free(text);
    return rc;
}

static int style_level(job *jb, const char *level)
{
    level_values lv;
    kz_style_layer layer;
    char period[11], path[PATH_LEN], geojson[PATH_LEN], desc[256];
    const char *geom_col = NULL;
    size_t j;
    int rc;

    memset(&lv, 0, sizeof(lv));
    lv.ctx = jb->ctx;
    lv.n_ind = jb->n_ind;
    lv.geographic = jb->geographic;
    if (jb->ds != NULL) {
        OGRLayerH l = GDALDatasetGetLayerByName(jb->ds, level);
        if (l == NULL) {
            kz_ctx__log(jb->ctx, KZ_LOG_DEBUG, "%s: no layer %s to style", jb->gpkg_path, level);
        } else {
            geom_col = OGR_L_GetGeometryColumn(l);
            if (geom_col == NULL || geom_col[0] == '\0')
                geom_col = "geom";
        }
    }
    path[0] = geojson[0] = '\0';
    if (jb->geojson_dir != NULL) {
        if (snprintf(geojson, sizeof(geojson), "%s/%s.geojson", jb->geojson_dir, level) >=
                (int)sizeof(geojson) ||
            snprintf(path, sizeof(path), "%s/%s.qml", jb->geojson_dir, level) >= (int)sizeof(path))
            return kz_ctx__error(jb->ctx, KZ_E_USAGE, "%s: path too long", jb->geojson_dir);
        if (access(geojson, F_OK) != 0)
            path[0] = '\0';
    }
    if (geom_col == NULL && path[0] == '\0')
        return KZ_OK;
    if ((rc = kz_store__latest_period(jb->db, jb->ctx, level, period)) != KZ_OK ||
        (rc = kz_store__each_area(jb->db, jb->ctx, level, period, jb->n_ind, collect, &lv)) !=
            KZ_OK)
        goto done;
    layer.indicators = jb->inds;
    layer.n_indicators = jb->n_ind;
    layer.label_field = "name";
    layer.label_max_scale = label_scale(&lv);
    if (geom_col != NULL &&
        (rc = drop_old_rows(jb->styles, jb->ctx, jb->gpkg_path, level)) != KZ_OK)
        goto done;
    for (j = 0; j < jb->n_ind; j++) {
        kz_style_map map;
        char *qml = NULL;
        if ((rc = kz_style_classify(&map, jb->ctx, &jb->inds[j], lv.values + j * lv.cap,
                                    lv.n_areas)) != KZ_OK ||
            (rc = kz_style_qml(&qml, jb->ctx, &layer, j, &map)) != KZ_OK)
            goto done;
        snprintf(desc, sizeof(desc), STYLE_MARK "%s: %s, %s %d classes, period %s",
                 jb->inds[j].label ? jb->inds[j].label : jb->inds[j].name, map.palette,
                 map.scheme == KZ_STYLE_DIVERGING ? "diverging" : "quantile", map.n_classes,
                 period[0] ? period : "none");
        if (geom_col != NULL)
            rc = add_row(jb->styles, jb->ctx, jb->gpkg_path, level, geom_col, jb->inds[j].name, qml,
                         j == 0, desc, &jb->now);
        if (rc == KZ_OK && j == 0 && path[0] != '\0')
            rc = write_file(jb->ctx, path, qml);
        if (rc == KZ_OK && j == 0)
            rc = add_timeline_style(jb, level, qml, desc);
        kz_style_qml_free(qml);
        if (rc != KZ_OK)
            goto done;
    }
done:
    free(lv.values);
    return rc;
}

int kz_export_styles(kz_db *db, kz_ctx *ctx, const char *gpkg_path, const char *geojson_dir)
{
    job jb;
    char **levels = NULL;
    kz_store_indicator *cat = NULL;
    size_t n_levels = 0, n_cat = 0, i;
    time_t t = time(NULL);
    OGRSpatialReferenceH srs;
    int rc, in_tx = 0;

    memset(&jb, 0, sizeof(jb));
    jb.db = db;
    jb.ctx = ctx;
    jb.gpkg_path = gpkg_path;
    jb.geojson_dir = geojson_dir;
    gmtime_r(&t, &jb.now);
    kz_ogr__register();
    if ((srs = OSRNewSpatialReference(NULL)) != NULL) {
        if (OSRSetFromUserInput(srs, kz_db_crs(db)) == OGRERR_NONE)
            jb.geographic = OSRIsGeographic(srs);
        OSRDestroySpatialReference(srs);
    }
    if ((rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK ||
        (rc = kz_store__catalogue(db, ctx, &cat, &n_cat)) != KZ_OK)
        goto done;
    if (n_cat == 0) {
        kz_ctx__log(ctx, KZ_LOG_INFO, "no indicators in the catalogue: no styles written");
        goto done;
    }
    if ((jb.inds = calloc(n_cat, sizeof(*jb.inds))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n_cat; i++) {
        jb.inds[i].name = cat[i].name;
        jb.inds[i].label = cat[i].label;
        jb.inds[i].unit = cat[i].unit;
        jb.inds[i].polarity = cat[i].polarity;
        jb.inds[i].categories = cat[i].categories;
    }
    jb.n_ind = n_cat;

    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    if (gpkg_path != NULL) {
        const char *const drivers[] = {"GPKG", NULL};
        jb.ds = GDALOpenEx(gpkg_path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers, NULL, NULL);
        if (jb.ds == NULL) {
            rc = gdal_fail(ctx, gpkg_path, "cannot open the GeoPackage for writing styles");
            goto pop;
        }
        if (GDALDatasetStartTransaction(jb.ds, FALSE) != OGRERR_NONE) {
            rc = gdal_fail(ctx, gpkg_path, "cannot start a transaction");
            goto pop;
        }
        in_tx = 1;
        if ((rc = styles_table(&jb.styles, jb.ds, ctx, gpkg_path)) != KZ_OK)
            goto pop;
    }
    for (i = 0; i < n_levels; i++)
        if ((rc = style_level(&jb, levels[i])) != KZ_OK)
            goto pop;
    if (jb.ds != NULL) {
        if (GDALDatasetCommitTransaction(jb.ds) != OGRERR_NONE) {
            rc = gdal_fail(ctx, gpkg_path, "cannot commit the styles");
            goto pop;
        }
        in_tx = 0;
        GDALClose(jb.ds);
        jb.ds = NULL;
        if (CPLGetLastErrorType() >= CE_Failure)
            rc = gdal_fail(ctx, gpkg_path, "writing the styles failed");
    }
pop:
    if (jb.ds != NULL) {
        if (in_tx)
            GDALDatasetRollbackTransaction(jb.ds);
        GDALClose(jb.ds);
    }
    CPLPopErrorHandler();
done:
    free(jb.inds);
    kz_store__free_strings(levels, n_levels);
    kz_store__free_catalogue(cat, n_cat);
    return rc;
}
