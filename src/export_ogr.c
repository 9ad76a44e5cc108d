/*
 * GDAL adapter for the exports: GeoPackage and GeoJSON.
 */
#include "ctx_internal.h"
#include "kiez/export.h"
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

typedef struct time_date {
    int y, m, d;
} time_date;

typedef struct time_writer {
    writer w;
    size_t n_periods;
    time_date *start, *end; /* period_start, period_end per period */
    double tolerance;       /* simplification, in CRS units */
} time_writer;

/*
 * All periods of one area: the polygon is read and simplified once (topology
 * kept per area, so the layer stays small; it is for animation, not
 * measuring) and one feature is reused for every period: fields set anew,
 * FID reset so the driver assigns the next one.
 */
static int time_rows(const kz_store_area *a, const double *values, void *payload)
{
    time_writer *t = payload;
    OGRFeatureH feat = OGR_F_Create(t->w.defn);
    OGRGeometryH g = NULL;
    size_t p, i;
    int rc = KZ_OK;
    if (feat == NULL)
        return kz_ctx__error(t->w.ctx, KZ_E_NOMEM, "out of memory");
    set_text(feat, 0, a->key);
    set_text(feat, 1, a->name);
    if (a->wkb != NULL &&
        OGR_G_CreateFromWkb((const void *)a->wkb, NULL, &g, (int)a->wkb_size) == OGRERR_NONE) {
        OGRGeometryH s = OGR_G_SimplifyPreserveTopology(g, t->tolerance);
        if (s != NULL) {
            OGR_G_DestroyGeometry(g);
            g = s;
        }
        OGR_F_SetGeometryDirectly(feat, OGR_G_ForceToMultiPolygon(g));
    }
    for (p = 0; p < t->n_periods && rc == KZ_OK; p++) {
        const double *v = values + p * t->w.n_ind;
        OGR_F_SetFieldDateTime(feat, 2, t->start[p].y, t->start[p].m, t->start[p].d, 0, 0, 0, 0);
        OGR_F_SetFieldDateTime(feat, 3, t->end[p].y, t->end[p].m, t->end[p].d, 0, 0, 0, 0);
        for (i = 0; i < t->w.n_ind; i++)
            set_real(feat, 4 + (int)i, v[i]);
        OGR_F_SetFID(feat, OGRNullFID);
        if (OGR_L_CreateFeature(t->w.layer, feat) != OGRERR_NONE)
            rc = gdal_fail(t->w.ctx, t->w.path, "cannot write a feature");
        else
            t->w.count++;
    }
    OGR_F_Destroy(feat);
    return rc;
}

/*
 * <level>_time: one feature per area and period, valid from the period's
 * reference date until the next period's (the last one for as long as the
 * spacing before it), so QGIS's temporal controller can play the periods.
 * Only for levels with at least two periods. Features come area by area
 * (key order), the periods of an area in order.
 */
static int write_timeline(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                          const char *level, const kz_store_indicator *cat, size_t n_cat)
{
    static const column_spec columns[] = {{"key", OFTString},
                                          {"name", OFTString},
                                          {"period_start", OFTDate},
                                          {"period_end", OFTDate}};
    OGRSpatialReferenceH srs;
    time_writer t;
    char **periods = NULL, name[256];
    size_t n = 0, i;
    int rc;

    memset(&t, 0, sizeof(t));
    if ((rc = kz_store__level_periods(db, ctx, level, &periods, &n)) != KZ_OK || n < 2)
        goto done;
    snprintf(name, sizeof(name), "%s_time", level);
    t.w.ctx = ctx;
    t.w.path = path;
    t.w.n_ind = n_cat;
    if ((rc = open_indicator_layer(&t.w, ds, db, name, wkbMultiPolygon, NULL, columns,
                                   N_COLUMNS(columns), cat, n_cat)) != KZ_OK)
        goto done;
    srs = OGR_L_GetSpatialRef(t.w.layer);
    t.tolerance = srs != NULL && OSRIsGeographic(srs) ? 1e-4 : 10.0;
    t.start = malloc(n * sizeof(time_date));
    t.end = malloc(n * sizeof(time_date));
    if (t.start == NULL || t.end == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    t.n_periods = n;
    for (i = 0; i < n; i++) {
        long start = iso_days(periods[i]);
        long end =
            i + 1 < n ? iso_days(periods[i + 1]) : start + (start - iso_days(periods[i - 1]));
        civil_from_days(start, &t.start[i].y, &t.start[i].m, &t.start[i].d);
        civil_from_days(end, &t.end[i].y, &t.end[i].m, &t.end[i].d);
    }
    rc = kz_store__each_area_periods(db, ctx, level, periods, n, n_cat, time_rows, &t);
done:
    free(t.start);
    free(t.end);
    kz_store__free_strings(periods, n);
    return rc;
}

/* <level>_series: created by GDAL, filled by SQLite from the attached store
 * in one statement (kz_store__attach_sql() says why). */
static int write_series(GDALDatasetH ds, kz_db *db, kz_ctx *ctx, const char *path,
                        const char *level)
{
    static const column_spec columns[] = {{"key", OFTString},       {"period", OFTDate},
                                          {"indicator", OFTString}, {"value", OFTReal},
                                          {"numerator", OFTReal},   {"denominator", OFTReal},
                                          {"flag", OFTInteger}};
    char name[256], *insert = NULL;
    writer w = {ctx, path, NULL, NULL, 0, 0};
    int rc;
    snprintf(name, sizeof(name), "%s_series", level);
    if ((rc = open_layer(&w, ds, db, name, wkbNone, columns, N_COLUMNS(columns))) != KZ_OK ||
        (rc = kz_store__series_copy_sql(ctx, level, name, &insert)) != KZ_OK)
        return rc;
    CPLErrorReset();
    GDALDatasetExecuteSQL(ds, insert, NULL, NULL);
    kz_store__free_sql(insert);
    if (CPLGetLastErrorType() >= CE_Failure)
        return gdal_fail(ctx, path, "cannot copy the series");
    return KZ_OK;
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
    int n = snprintf(out, size, "%s%s.tmp-%ld%s", path[0] == '/' ? "" : "./", path, (long)getpid(),
                     ext);
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
    char **levels = NULL, **objects = NULL, **demand = NULL, *attach = NULL, *detach = NULL;
    size_t n_levels = 0, n_objects = 0, n_demand = 0, n_cat = 0, i;
    kz_store_indicator *cat = NULL;
    int rc, attached = 0;

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
    /* The store, attached for the series (outside the transaction: SQLite
     * attaches and detaches only there). */
    if ((rc = kz_store__attach_sql(db, ctx, &attach, &detach)) != KZ_OK)
        goto done;
    GDALDatasetExecuteSQL(ds, attach, NULL, NULL);
    if (CPLGetLastErrorType() >= CE_Failure) {
        rc = gdal_fail(ctx, path, "cannot read the database from the GeoPackage");
        goto done;
    }
    attached = 1;
    /* One transaction for the whole package: fast, and all or nothing. */
    if (GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE) {
        rc = gdal_fail(ctx, path, "cannot start a transaction");
        goto done;
    }
    for (i = 0; i < n_levels; i++) {
        if ((rc = write_level(ds, db, ctx, path, levels[i], cat, n_cat, NULL)) != KZ_OK ||
            (rc = write_series(ds, db, ctx, path, levels[i])) != KZ_OK ||
            (rc = write_timeline(ds, db, ctx, path, levels[i], cat, n_cat)) != KZ_OK)
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
    GDALDatasetExecuteSQL(ds, detach, NULL, NULL);
    attached = 0;
    GDALClose(ds);
    ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure) {
        rc = gdal_fail(ctx, path, "writing failed");
        goto done;
    }
    rc = commit_file(ctx, tmp, path);
done:
    if (ds != NULL) {
        GDALDatasetRollbackTransaction(ds);
        if (attached)
            GDALDatasetExecuteSQL(ds, detach, NULL, NULL);
        GDALClose(ds);
        unlink(tmp);
    } else if (rc != KZ_OK) {
        unlink(tmp);
    }
    CPLPopErrorHandler();
    kz_store__free_sql(attach);
    kz_store__free_sql(detach);
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
done:
    CSLDestroy(options);
    kz_store__free_strings(levels, n_levels);
    kz_store__free_catalogue(cat, n_cat);
    return rc;
}
