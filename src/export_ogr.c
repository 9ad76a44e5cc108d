/*
 * GDAL adapter for the exports: GeoPackage and GeoJSON.
 */
#include "ctx_internal.h"
#include "dirs.h"
#include "kiez/export.h"
#include "kiez/style.h"
#include "ogr_internal.h"
#include "store.h"
#include "store_coverage.h"
#include "store_effect.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_MAX_LEN 4096

typedef struct writer {
    kz_ctx *ctx;
    const char *path; /* final path, for messages */
    OGRLayerH layer;
    OGRFeatureDefnH defn;
    size_t n_ind;
    long long count;
} writer;

static int gdal_fail(kz_ctx *ctx, const char *path, const char *what)
{
    const char *msg = CPLGetLastErrorMsg();
    return kz_ctx__error(ctx, KZ_E_IO, "%s: %s%s%s", path, what, msg[0] ? ": " : "", msg);
}

static OGRSpatialReferenceH db_srs(kz_db *db)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (srs == NULL)
        return NULL;
    if (OSRSetFromUserInput(srs, kz_db_crs(db)) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return NULL;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

static int add_field(kz_ctx *ctx, const char *path, OGRLayerH layer, const char *name,
                     OGRFieldType type)
{
    OGRFieldDefnH f = OGR_Fld_Create(name, type);
    OGRErr err = OGR_L_CreateField(layer, f, TRUE);
    OGR_Fld_Destroy(f);
    return err == OGRERR_NONE ? KZ_OK : gdal_fail(ctx, path, "cannot create a field");
}

static void set_text(OGRFeatureH feat, int i, const char *s)
{
    if (s != NULL)
        OGR_F_SetFieldString(feat, i, s);
    else
        OGR_F_SetFieldNull(feat, i);
}

static void set_real(OGRFeatureH feat, int i, double v)
{
    if (isnan(v))
        OGR_F_SetFieldNull(feat, i);
    else
        OGR_F_SetFieldDouble(feat, i, v);
}

static int write_feature(writer *w, OGRFeatureH feat)
{
    OGRErr err = OGR_L_CreateFeature(w->layer, feat);
    OGR_F_Destroy(feat);
    if (err != OGRERR_NONE)
        return gdal_fail(w->ctx, w->path, "cannot write a feature");
    w->count++;
    return KZ_OK;
}

/* A column of a layer or table the export creates. */
typedef struct column_spec {
    const char *name;
    OGRFieldType type;
} column_spec;

/*
 * Create layer `name` in `ds` (with the driver's layer creation `options`)
 * with the given columns, then one column per entry of the catalogue `cat`:
 * with geometry `type` in the database's CRS, or a table without geometry
 * (wkbNone, registered as "attributes" in the GeoPackage). Sets w->layer
 * and w->defn.
 */
static int open_indicator_layer(writer *w, GDALDatasetH ds, kz_db *db, const char *name,
                                OGRwkbGeometryType type, char **options, const column_spec *columns,
                                size_t n_columns, const kz_store_indicator *cat, size_t n_cat)
{
    OGRSpatialReferenceH srs = NULL;
    size_t i;
    int rc;
    if (type != wkbNone && (srs = db_srs(db)) == NULL)
        return kz_ctx__error(w->ctx, KZ_E_INTERNAL, "cannot build the CRS %s", kz_db_crs(db));
    w->layer = GDALDatasetCreateLayer(ds, name, srs, type, options);
    if (srs != NULL)
        OSRDestroySpatialReference(srs);
    if (w->layer == NULL)
        return gdal_fail(w->ctx, w->path, "cannot create a layer");
    for (i = 0; i < n_columns; i++)
        if ((rc = add_field(w->ctx, w->path, w->layer, columns[i].name, columns[i].type)) != KZ_OK)
            return rc;
    for (i = 0; i < n_cat; i++) {
        /* Classes are whole numbers: integer columns, so QGIS categorises them. */
        OGRFieldType t = strcmp(cat[i].kind, "class") == 0 ? OFTInteger : OFTReal;
        if ((rc = add_field(w->ctx, w->path, w->layer, cat[i].name, t)) != KZ_OK)
            return rc;
    }
    w->defn = OGR_L_GetLayerDefn(w->layer);
    return KZ_OK;
}

/* open_indicator_layer without options and catalogue columns. */
static int open_layer(writer *w, GDALDatasetH ds, kz_db *db, const char *name,
                      OGRwkbGeometryType type, const column_spec *columns, size_t n_columns)
{
    return open_indicator_layer(w, ds, db, name, type, NULL, columns, n_columns, NULL, 0);
}

#define N_COLUMNS(a) (sizeof(a) / sizeof((a)[0]))

static int area_row(const kz_store_area *a, void *payload)
{
    writer *w = payload;
    OGRFeatureH feat = OGR_F_Create(w->defn);
    OGRGeometryH g = NULL;
    size_t i;
    if (feat == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, a->key);
    set_text(feat, 1, a->name);
    set_text(feat, 2, a->parent_key);
    for (i = 0; i < w->n_ind; i++)
        set_real(feat, 3 + (int)i, a->values[i]);
    if (a->wkb != NULL &&
        OGR_G_CreateFromWkb((const void *)a->wkb, NULL, &g, (int)a->wkb_size) == OGRERR_NONE) {
        g = OGR_G_ForceToMultiPolygon(g);
        OGR_F_SetGeometryDirectly(feat, g);
    }
    return write_feature(w, feat);
}

/* One layer per level: key, name, parent_key and the latest indicators. */
static int write_level(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path, const char *level,
                       const kz_store_indicator *cat, size_t n_cat, char **options)
{
    static const column_spec columns[] = {
        {"key", OFTString}, {"name", OFTString}, {"parent_key", OFTString}};
    writer w = {ctx, path, NULL, NULL, n_cat, 0};
    char period[11];
    int rc;

    if ((rc = open_indicator_layer(&w, ds, db, level, wkbMultiPolygon, options, columns,
                                   N_COLUMNS(columns), cat, n_cat)) != KZ_OK)
        return rc;
    if ((rc = kz_store__latest_period(db, ctx, level, period)) != KZ_OK)
        return rc;
    GDALSetMetadataItem((GDALMajorObjectH)w.layer, "KIEZ_PERIOD", period, NULL);
    return kz_store__each_area(db, ctx, level, period, n_cat, area_row, &w);
}

/* Days since 1970-01-01 of a civil date and back (H. Hinnant, "chrono-
 * Compatible Low-Level Date Algorithms"), for the periods' end dates. */
static long days_from_civil(int y, int m, int d)
{
    int era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (long)era * 146097L + doe - 719468L;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    long era, doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static long iso_days(const char *iso)
{
    int y = 0, m = 0, d = 0;
    if (sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return 0;
    return days_from_civil(y, m, d);
}

/* Run `sql` (from sqlite3_mprintf, freed here; NULL = out of memory) on
 * GDAL's connection. */
static int run_sql(GDALDatasetH ds, kz_ctx *ctx, const char *path, char *sql, const char *what)
{
    if (sql == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    CPLErrorReset();
    GDALDatasetExecuteSQL(ds, sql, NULL, NULL);
    kz_store__free_sql(sql);
    return CPLGetLastErrorType() >= CE_Failure ? gdal_fail(ctx, path, what) : KZ_OK;
}

/*
 * <level>_time, for QGIS's temporal controller: a view that joins
 * <level>_periods (one row per area and period with every indicator,
 * valid from the period's reference date until the next period's; the
 * last one for as long as the spacing before it) to the level's polygons,
 * registered in gpkg_contents and gpkg_geometry_columns like a table, so
 * GDAL and QGIS read it as a layer. Only for levels with at least two
 * periods.
 *
 * A view instead of a table with a copy of each polygon per period: at
 * national size (10,997 municipalities, 20 periods) the copies were
 * 219,940 polygons with their R*Tree, 3.1 s of a 4.6 s export and 107 MB
 * of a 254 MB file. The view has no R*Tree; the temporal controller asks
 * for one period at a time, which the index on period_start serves: QGIS
 * 3.22 drew a frame of all Germany in 0.15 s (copies with R*Tree: 0.20 s)
 * and one of Berlin's surroundings in 0.065 s (0.038 s).
 */
static int write_timeline(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                          const char *level, const kz_store_indicator *cat, size_t n_cat,
                          kz_store_level_tables *rows)
{
    static const column_spec columns[] = {
        {"key", OFTString}, {"period_start", OFTDate}, {"period_end", OFTDate}};
    writer w = {ctx, path, NULL, NULL, n_cat, 0};
    char table[256], view[256], box[160], **periods = NULL, **ends = NULL, *sql = NULL;
    const char *geom, *fid;
    OGRLayerH areas;
    OGREnvelope env;
    size_t n = 0, i;
    int rc;

    if ((rc = kz_store__level_periods(db, ctx, level, &periods, &n)) != KZ_OK || n < 2)
        goto done;
    if ((ends = calloc(n, sizeof(char *))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        long start = iso_days(periods[i]);
        long end =
            i + 1 < n ? iso_days(periods[i + 1]) : start + (start - iso_days(periods[i - 1]));
        int y, m, d;
        civil_from_days(end, &y, &m, &d);
        if ((ends[i] = malloc(11)) == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        snprintf(ends[i], 11, "%04d-%02d-%02d", y, m, d);
    }
    snprintf(table, sizeof(table), "%s_periods", level);
    snprintf(view, sizeof(view), "%s_time", level);
    /* Created empty; its rows come with the series (kz_store__fill_tables). */
    if ((rc = open_indicator_layer(&w, ds, db, table, wkbNone, NULL, columns, N_COLUMNS(columns),
                                   cat, n_cat)) != KZ_OK)
        goto done;
    rows->periods = periods;
    rows->ends = ends;
    rows->n_periods = n;
    periods = ends = NULL;
    if ((rc = run_sql(ds, ctx, path,
                      sqlite3_mprintf("CREATE INDEX \"%w_period_idx\" ON \"%w\""
                                      "(period_start, period_end)",
                                      table, table),
                      "cannot index the periods")) != KZ_OK)
        goto done;

    if ((areas = GDALDatasetGetLayerByName(ds, level)) == NULL) {
        rc = gdal_fail(ctx, path, "the level's layer is missing");
        goto done;
    }
    geom = OGR_L_GetGeometryColumn(areas);
    fid = OGR_L_GetFIDColumn(areas);
    if (OGR_L_GetExtent(areas, &env, TRUE) == OGRERR_NONE)
        snprintf(box, sizeof(box), "%.17g, %.17g, %.17g, %.17g", env.MinX, env.MinY, env.MaxX,
                 env.MaxY);
    else
        snprintf(box, sizeof(box), "NULL, NULL, NULL, NULL");
    {
        sqlite3_str *v = sqlite3_str_new(NULL);
        sqlite3_str_appendf(v,
                            "CREATE VIEW \"%w\" AS SELECT p.\"%w\" AS \"%w\","
                            " a.\"%w\" AS \"%w\", p.key AS key, a.name AS name,"
                            " p.period_start AS period_start, p.period_end AS period_end",
                            view, fid, fid, geom, geom);
        for (i = 0; i < n_cat; i++)
            sqlite3_str_appendf(v, ", p.\"%w\" AS \"%w\"", cat[i].name, cat[i].name);
        sqlite3_str_appendf(v, " FROM \"%w\" p JOIN \"%w\" a ON a.key = p.key", table, level);
        sql = sqlite3_str_finish(v);
    }
    rc = run_sql(ds, ctx, path, sql, "cannot create the time view");
    sql = NULL;
    if (rc != KZ_OK ||
        (rc = run_sql(ds, ctx, path,
                      sqlite3_mprintf("CREATE INDEX \"%w_key_idx\" ON \"%w\"(key)", level, level),
                      "cannot index the keys")) != KZ_OK ||
        (rc = run_sql(
             ds, ctx, path,
             sqlite3_mprintf("INSERT INTO gpkg_contents(table_name, data_type, identifier,"
                             " description, last_change, min_x, min_y, max_x, max_y, srs_id)"
                             " SELECT %Q, 'features', %Q, %Q,"
                             " strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'), %s, srs_id"
                             " FROM gpkg_contents WHERE table_name = %Q",
                             view, view, "the indicators of every period on the areas' polygons",
                             box, level),
             "cannot register the time view")) != KZ_OK)
        goto done;
    rc = run_sql(ds, ctx, path,
                 sqlite3_mprintf("INSERT INTO gpkg_geometry_columns(table_name, column_name,"
                                 " geometry_type_name, srs_id, z, m) SELECT %Q, column_name,"
                                 " geometry_type_name, srs_id, z, m FROM gpkg_geometry_columns"
                                 " WHERE table_name = %Q",
                                 view, level),
                 "cannot register the time view");
done:
    kz_store__free_strings(periods, n);
    if (ends != NULL)
        kz_store__free_strings(ends, n);
    return rc;
}

/* <level>_series: created here, empty; kz_store__fill_tables() fills it
 * after GDAL has closed the file. */
static int create_series(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                         const char *level)
{
    static const column_spec columns[] = {{"key", OFTString},       {"period", OFTDate},
                                          {"indicator", OFTString}, {"value", OFTReal},
                                          {"numerator", OFTReal},   {"denominator", OFTReal},
                                          {"flag", OFTInteger}};
    char name[256];
    writer w = {ctx, path, NULL, NULL, 0, 0};
    snprintf(name, sizeof(name), "%s_series", level);
    return open_layer(&w, ds, db, name, wkbNone, columns, N_COLUMNS(columns));
}

/* A new feature of w's layer with the point (x, y); NULL if out of memory. */
static OGRFeatureH point_feature(const writer *w, double x, double y)
{
    OGRFeatureH feat = OGR_F_Create(w->defn);
    OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
    if (feat == NULL || g == NULL) {
        if (feat)
            OGR_F_Destroy(feat);
        if (g)
            OGR_G_DestroyGeometry(g);
        return NULL;
    }
    OGR_G_SetPoint_2D(g, 0, x, y);
    OGR_F_SetGeometryDirectly(feat, g);
    return feat;
}

static int object_row(const kz_store_object *o, void *payload)
{
    writer *w = payload;
    OGRFeatureH feat = point_feature(w, o->x, o->y);
    if (feat == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, o->id);
    set_text(feat, 1, o->name);
    set_text(feat, 2, o->category);
    set_real(feat, 3, o->capacity);
    return write_feature(w, feat);
}

static int write_objects(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                         const char *layer)
{
    static const column_spec columns[] = {
        {"id", OFTString}, {"name", OFTString}, {"category", OFTString}, {"capacity", OFTReal}};
    writer w = {ctx, path, NULL, NULL, 0, 0};
    int rc;
    if ((rc = open_layer(&w, ds, db, layer, wkbPoint, columns, N_COLUMNS(columns))) != KZ_OK)
        return rc;
    return kz_store__each_object(db, ctx, layer, object_row, &w);
}

/* Demand points of a coverage analysis (store_coverage.c). */
static int demand_row(const kz_store_demand_point *pt, void *payload)
{
    writer *w = payload;
    OGRFeatureH feat = point_feature(w, pt->x, pt->y);
    if (feat == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, pt->area_key);
    set_real(feat, 1, pt->weight);
    set_real(feat, 2, pt->distance);
    set_real(feat, 3, pt->access);
    return write_feature(w, feat);
}

static int write_demand(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                        const char *layer)
{
    static const column_spec columns[] = {
        {"area_key", OFTString}, {"weight", OFTReal}, {"distance", OFTReal}, {"access", OFTReal}};
    writer w = {ctx, path, NULL, NULL, 0, 0};
    int rc;
    if ((rc = open_layer(&w, ds, db, layer, wkbPoint, columns, N_COLUMNS(columns))) != KZ_OK)
        return rc;
    return kz_store__each_demand_point(db, ctx, layer, demand_row, &w);
}

static int write_catalogue(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                           const kz_store_indicator *cat, size_t n)
{
    static const column_spec columns[] = {
        {"name", OFTString},        {"label", OFTString},  {"numerator", OFTString},
        {"denominator", OFTString}, {"unit", OFTString},   {"polarity", OFTString},
        {"description", OFTString}, {"source", OFTString}, {"kind", OFTString},
        {"categories", OFTString},  {"scale", OFTReal}};
    writer w = {ctx, path, NULL, NULL, 0, 0};
    size_t i, f;
    int rc;
    if ((rc = open_layer(&w, ds, db, "indicator_catalogue", wkbNone, columns,
                         N_COLUMNS(columns))) != KZ_OK)
        return rc;
    for (i = 0; i < n; i++) {
        OGRFeatureH feat = OGR_F_Create(w.defn);
        const char *vals[10];
        if (feat == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        vals[0] = cat[i].name;
        vals[1] = cat[i].label;
        vals[2] = cat[i].numerator;
        vals[3] = cat[i].denominator;
        vals[4] = cat[i].unit;
        vals[5] = cat[i].polarity;
        vals[6] = cat[i].description;
        vals[7] = cat[i].source;
        vals[8] = cat[i].kind;
        vals[9] = cat[i].categories;
        for (f = 0; f < 10; f++)
            set_text(feat, (int)f, vals[f]);
        OGR_F_SetFieldDouble(feat, 10, cat[i].scale);
        if ((rc = write_feature(&w, feat)) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

static int finding_row(const kz_store_finding *f, void *payload)
{
    writer *w = payload;
    OGRFeatureH feat = OGR_F_Create(w->defn);
    if (feat == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, f->kind);
    set_text(feat, 1, f->source);
    if (f->line > 0)
        OGR_F_SetFieldInteger64(feat, 2, f->line);
    set_text(feat, 3, f->level);
    set_text(feat, 4, f->key);
    set_text(feat, 5, f->message);
    return write_feature(w, feat);
}

static int statistic_row(const kz_store_statistic *s, void *payload)
{
    writer *w = payload;
    OGRFeatureH feat = OGR_F_Create(w->defn);
    if (feat == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, s->analysis);
    set_text(feat, 1, s->level);
    set_text(feat, 2, s->period);
    set_text(feat, 3, s->subject);
    set_text(feat, 4, s->measure);
    set_real(feat, 5, s->value);
    set_text(feat, 6, s->note);
    return write_feature(w, feat);
}

/* Results that are not per area (Moran's I, correlations, effects), long. */
static int write_statistics(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path)
{
    static const column_spec columns[] = {{"analysis", OFTString}, {"level", OFTString},
                                          {"period", OFTString},   {"subject", OFTString},
                                          {"measure", OFTString},  {"value", OFTReal},
                                          {"note", OFTString}};
    writer w = {ctx, path, NULL, NULL, 0, 0};
    int rc;
    if ((rc = open_layer(&w, ds, db, "statistics", wkbNone, columns, N_COLUMNS(columns))) != KZ_OK)
        return rc;
    return kz_store__each_statistic(db, ctx, statistic_row, &w);
}

/*
 * Provenance: the run that produced the package (kiez version, project
 * file, times, inputs with sizes and record counts) as a table and as
 * dataset metadata (gpkg_metadata), so a file found later says where it
 * came from.
 */
static int write_provenance(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path)
{
    static const column_spec columns[] = {{"kiez_version", OFTString}, {"project", OFTString},
                                          {"started", OFTString},      {"finished", OFTString},
                                          {"crs", OFTString},          {"inputs", OFTString}};
    kz_store_run run;
    writer w = {ctx, path, NULL, NULL, 0, 0};
    OGRFeatureH feat;
    int rc;
    if ((rc = kz_store__last_run(db, ctx, &run)) != KZ_OK)
        return rc;
    GDALSetMetadataItem(ds, "KIEZ_VERSION", kz_version(), NULL);
    GDALSetMetadataItem(ds, "KIEZ_CRS", kz_db_crs(db), NULL);
    if (run.started[0]) {
        GDALSetMetadataItem(ds, "KIEZ_PROJECT", run.project, NULL);
        GDALSetMetadataItem(ds, "KIEZ_RUN_STARTED", run.started, NULL);
        GDALSetMetadataItem(ds, "KIEZ_RUN_FINISHED", run.finished, NULL);
    }
    if ((rc = open_layer(&w, ds, db, "provenance", wkbNone, columns, N_COLUMNS(columns))) !=
        KZ_OK) {
        free(run.inputs);
        return rc;
    }
    if ((feat = OGR_F_Create(w.defn)) == NULL) {
        free(run.inputs);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    set_text(feat, 0, kz_version());
    set_text(feat, 1, run.project[0] ? run.project : NULL);
    set_text(feat, 2, run.started[0] ? run.started : NULL);
    set_text(feat, 3, run.finished[0] ? run.finished : NULL);
    set_text(feat, 4, kz_db_crs(db));
    set_text(feat, 5, run.inputs);
    free(run.inputs);
    return write_feature(&w, feat);
}

static int write_findings(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path)
{
    static const column_spec columns[] = {{"kind", OFTString},    {"source", OFTString},
                                          {"line", OFTInteger64}, {"level", OFTString},
                                          {"key", OFTString},     {"message", OFTString}};
    writer w = {ctx, path, NULL, NULL, 0, 0};
    int rc;
    if ((rc = open_layer(&w, ds, db, "findings", wkbNone, columns, N_COLUMNS(columns))) != KZ_OK)
        return rc;
    return kz_store__each_finding(db, ctx, finding_row, &w);
}

/* "<path>.tmp-<pid>" next to the final file, so rename() stays on one file
 * system and is atomic. */
/* The temporary file next to `path`; relative as "./path", because GDAL's
 * SQLite reads a name that begins with "file:" as a URI. */
static int temp_name(char *out, size_t size, kz_ctx *ctx, const char *path, const char *ext)
{
    int n = snprintf(out, size, "%s%s.tmp-%ld%s", kz_dirs__dot(path), path, (long)getpid(), ext);
    if (n < 0 || (size_t)n >= size)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: path too long", path);
    return KZ_OK;
}

static int commit_file(kz_ctx *ctx, const char *tmp, const char *path)
{
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot move the finished file into place", path);
    }
    return KZ_OK;
}

int kz_export_gpkg(kz_db *db, kz_ctx *ctx, const char *path)
{
    GDALDriverH drv;
    GDALDatasetH ds = NULL;
    char tmp[PATH_MAX_LEN];
    char **levels = NULL, **objects = NULL, **demand = NULL;
    size_t n_levels = 0, n_objects = 0, n_demand = 0, n_cat = 0, i;
    kz_store_indicator *cat = NULL;
    kz_store_level_tables *rows = NULL; /* what the store writes after GDAL */
    int rc;

    kz_ogr__register();
    if ((rc = temp_name(tmp, sizeof(tmp), ctx, path, ".gpkg")) != KZ_OK)
        return rc;
    if ((drv = GDALGetDriverByName("GPKG")) == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "GDAL has no GPKG driver");
    if ((rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK ||
        (rc = kz_store__object_layer_names(db, ctx, &objects, &n_objects)) != KZ_OK ||
        (rc = kz_store__demand_layer_names(db, ctx, &demand, &n_demand)) != KZ_OK ||
        (rc = kz_store__catalogue(db, ctx, &cat, &n_cat)) != KZ_OK)
        goto done;
    if ((rows = calloc(n_levels ? n_levels : 1, sizeof(*rows))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n_levels; i++)
        rows[i].level = levels[i];
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    /* No gpkg_ogr_contents (a GDAL extension caching feature counts): its
     * triggers scan that table for every row inserted, which doubled the
     * time of the series copy; readers count the rows instead. */
    {
        char *options[] = {"ADD_GPKG_OGR_CONTENTS=NO", NULL};
        ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, options);
    }
    if (ds == NULL) {
        rc = gdal_fail(ctx, path, "cannot create the GeoPackage");
        goto done;
    }
    /* One transaction for the whole package: fast, and all or nothing. */
    if (GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE) {
        rc = gdal_fail(ctx, path, "cannot start a transaction");
        goto done;
    }
    for (i = 0; i < n_levels; i++) {
        if ((rc = write_level(ds, db, ctx, path, levels[i], cat, n_cat, NULL)) != KZ_OK ||
            (rc = create_series(ds, db, ctx, path, levels[i])) != KZ_OK ||
            (rc = write_timeline(ds, db, ctx, path, levels[i], cat, n_cat, &rows[i])) != KZ_OK)
            goto done;
        kz_ctx__progress(ctx, "export", (long long)i + 1, (long long)n_levels);
    }
    for (i = 0; i < n_objects; i++)
        if ((rc = write_objects(ds, db, ctx, path, objects[i])) != KZ_OK)
            goto done;
    for (i = 0; i < n_demand; i++)
        if ((rc = write_demand(ds, db, ctx, path, demand[i])) != KZ_OK)
            goto done;
    if ((rc = write_catalogue(ds, db, ctx, path, cat, n_cat)) != KZ_OK ||
        (rc = write_findings(ds, db, ctx, path)) != KZ_OK ||
        (rc = write_statistics(ds, db, ctx, path)) != KZ_OK ||
        (rc = write_provenance(ds, db, ctx, path)) != KZ_OK ||
        (rc = kz_export__measures(ds, db, ctx, path)) != KZ_OK) /* export_measures.c */
        goto done;
    if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
        rc = gdal_fail(ctx, path, "cannot commit");
        goto done;
    }
    GDALClose(ds);
    ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure) {
        rc = gdal_fail(ctx, path, "writing failed");
        goto done;
    }
    /* The rows GDAL did not write, then the QGIS styles, all before the
     * file takes its name: a GeoPackage in place is complete. */
    if ((rc = kz_store__fill_tables(db, ctx, tmp, rows, n_levels, cat, n_cat)) != KZ_OK ||
        (rc = kz_export_styles(db, ctx, tmp, NULL)) != KZ_OK) {
        unlink(tmp);
        goto done;
    }
    rc = commit_file(ctx, tmp, path);
done:
    if (ds != NULL) {
        GDALDatasetRollbackTransaction(ds);
        GDALClose(ds);
        unlink(tmp);
    } else if (rc != KZ_OK) {
        unlink(tmp);
    }
    CPLPopErrorHandler();
    for (i = 0; rows != NULL && i < n_levels; i++) {
        kz_store__free_strings(rows[i].periods, rows[i].n_periods);
        kz_store__free_strings(rows[i].ends, rows[i].n_periods);
    }
    free(rows);
    kz_store__free_strings(levels, n_levels);
    kz_store__free_strings(objects, n_objects);
    kz_store__free_strings(demand, n_demand);
    kz_store__free_catalogue(cat, n_cat);
    return rc;
}

int kz_export_geojson(kz_db *db, kz_ctx *ctx, const char *dir)
{
    GDALDriverH drv;
    char **levels = NULL;
    size_t n_levels = 0, n_cat = 0, i;
    kz_store_indicator *cat = NULL;
    char **options = NULL;
    int rc;

    kz_ogr__register();
    if ((drv = GDALGetDriverByName("GeoJSON")) == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "GDAL has no GeoJSON driver");
    if ((rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK ||
        (rc = kz_store__catalogue(db, ctx, &cat, &n_cat)) != KZ_OK)
        goto done;
    /* RFC 7946: WGS 84 lon/lat, right-hand rings, no crs member, 7 decimals. */
    options = CSLSetNameValue(options, "RFC7946", "YES");
    options = CSLSetNameValue(options, "COORDINATE_PRECISION", "7");
    CPLPushErrorHandler(CPLQuietErrorHandler);
    for (i = 0; i < n_levels; i++) {
        char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
        GDALDatasetH ds;
        int n = snprintf(path, sizeof(path), "%s/%s.geojson", dir, levels[i]);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            rc = kz_ctx__error(ctx, KZ_E_USAGE, "%s: path too long", dir);
            break;
        }
        if ((rc = temp_name(tmp, sizeof(tmp), ctx, path, ".geojson")) != KZ_OK)
            break;
        CPLErrorReset();
        ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
        if (ds == NULL) {
            rc = gdal_fail(ctx, path, "cannot create the file");
            break;
        }
        rc = write_level(ds, db, ctx, path, levels[i], cat, n_cat, options);
        GDALClose(ds);
        if (rc == KZ_OK && CPLGetLastErrorType() >= CE_Failure)
            rc = gdal_fail(ctx, path, "writing failed");
        if (rc != KZ_OK) {
            unlink(tmp);
            break;
        }
        if ((rc = commit_file(ctx, tmp, path)) != KZ_OK)
            break;
    }
    CPLPopErrorHandler();
    /* The .qml sidecars QGIS loads with each file. */
    if (rc == KZ_OK)
        rc = kz_export_styles(db, ctx, NULL, dir);
done:
    CSLDestroy(options);
    kz_store__free_strings(levels, n_levels);
    kz_store__free_catalogue(cat, n_cat);
    return rc;
}
