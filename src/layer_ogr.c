/*
 * GDAL/OGR adapter for reading vector layers (kz_layer).
 * Reprojection goes through OGR's coordinate transformation, i.e. PROJ.
 */
#include "ctx_internal.h"
#include "kiez/table.h"
#include "layer_internal.h"
#include "ogr_internal.h"

#include <pthread.h>

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <stdlib.h>
#include <string.h>

/* Keys and labels are capped: longer ones are data errors, not names. */
#define KEY_MAX 256

void kz_layer_free(kz_layer *layer)
{
    size_t i;
    if (layer == NULL)
        return;
    for (i = 0; i < layer->n; i++) {
        if (layer->keys)
            free(layer->keys[i]);
        if (layer->labels)
            free(layer->labels[i]);
        if (layer->wkb)
            free(layer->wkb[i]);
    }
    if (layer->fields) {
        for (i = 0; i < layer->n * layer->n_fields; i++)
            free(layer->fields[i]);
    }
    free(layer->keys);
    free(layer->labels);
    free(layer->fields);
    free(layer->wkb);
    free(layer->wkb_size);
    free(layer->x);
    free(layer->y);
    free(layer->fid);
    free(layer->source);
    free(layer->crs_wkt);
    free(layer);
}

size_t kz_layer_count(const kz_layer *layer)
{
    return layer->n;
}

const char *kz_layer_key(const kz_layer *layer, size_t i)
{
    return layer->keys ? layer->keys[i] : NULL;
}

const char *kz_layer_label(const kz_layer *layer, size_t i)
{
    return layer->labels ? layer->labels[i] : NULL;
}

const char *kz_layer_field(const kz_layer *layer, size_t i, size_t f)
{
    return layer->fields ? layer->fields[i * layer->n_fields + f] : NULL;
}

long long kz_layer_fid(const kz_layer *layer, size_t i)
{
    return layer->fid[i];
}

const unsigned char *kz_layer_wkb(const kz_layer *layer, size_t i, size_t *size)
{
    if (layer->wkb == NULL) {
        *size = 0;
        return NULL;
    }
    *size = layer->wkb_size[i];
    return layer->wkb[i];
}

void kz_layer_point(const kz_layer *layer, size_t i, double *x, double *y)
{
    *x = layer->x ? layer->x[i] : 0.0;
    *y = layer->y ? layer->y[i] : 0.0;
}

const double *kz_layer_xs(const kz_layer *layer)
{
    return layer->x;
}

const double *kz_layer_ys(const kz_layer *layer)
{
    return layer->y;
}

const char *kz_layer_crs_wkt(const kz_layer *layer)
{
    return layer->crs_wkt ? layer->crs_wkt : "";
}

const char *kz_layer_source(const kz_layer *layer)
{
    return layer->source;
}

/* Split "path|layername=L" into a path and a layer name (both malloc'd). */
static int split_source(char **path, char **layer_name, const char *source)
{
    const char *bar = strchr(source, '|');
    *path = NULL;
    *layer_name = NULL;
    if (bar == NULL) {
        *path = strdup(source);
        return *path ? KZ_OK : KZ_E_NOMEM;
    }
    *path = malloc((size_t)(bar - source) + 1);
    if (*path == NULL)
        return KZ_E_NOMEM;
    memcpy(*path, source, (size_t)(bar - source));
    (*path)[bar - source] = '\0';
    if (strncmp(bar + 1, "layername=", 10) != 0)
        return KZ_E_USAGE;
    *layer_name = strdup(bar + 11);
    return *layer_name ? KZ_OK : KZ_E_NOMEM;
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;

static void register_drivers(void)
{
    GDALAllRegister();
}

void kz_ogr__register(void)
{
    pthread_once(&registered, register_drivers);
}

GDALDatasetH kz_layer__open(kz_ctx *ctx, const char *path, char **open_options)
{
    GDALDatasetH ds;
    kz_ogr__register();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                    (const char *const *)open_options, NULL);
    if (ds == NULL) {
        const char *msg = CPLGetLastErrorMsg();
        kz_ctx__error(ctx, KZ_E_IO,
                      "%s: cannot open as a vector source%s%s; check the path and that it is "
                      "a complete GIS file (GeoJSON, Shapefile, GeoPackage, ...)",
                      path, msg[0] ? ": " : "", msg);
    }
    CPLPopErrorHandler();
    return ds;
}

static int grow(kz_layer *l, kz_ctx *ctx)
{
    size_t cap = l->cap ? l->cap * 2 : 256;
    void *p;
#define GROW(field, type)                                                                          \
    if (l->field != NULL) {                                                                        \
        p = realloc(l->field, cap * sizeof(type));                                                 \
        if (p == NULL)                                                                             \
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory reading %s", l->source);          \
        l->field = p;                                                                              \
    }
    GROW(fid, long long)
    GROW(keys, char *)
    GROW(labels, char *)
    GROW(wkb, unsigned char *)
    GROW(wkb_size, size_t)
    GROW(x, double)
    GROW(y, double)
#undef GROW
    if (l->fields != NULL) {
        p = realloc(l->fields, cap * l->n_fields * sizeof(char *));
        if (p == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory reading %s", l->source);
        l->fields = p;
    }
    l->cap = cap;
    return KZ_OK;
}

/* Index of a field by name, or an error naming the available fields. */
static int field_index(int *out, kz_ctx *ctx, OGRFeatureDefnH defn, const char *source,
                       const char *name, const char *role)
{
    int i, n = OGR_FD_GetFieldCount(defn);
    char list[512];
    size_t used = 0;
    *out = OGR_FD_GetFieldIndex(defn, name);
    if (*out >= 0)
        return KZ_OK;
    list[0] = '\0';
    for (i = 0; i < n && used + 4 < sizeof(list); i++) {
        const char *f = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
        int w = snprintf(list + used, sizeof(list) - used, "%s\"%s\"", i ? ", " : "", f);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return kz_ctx__error(ctx, KZ_E_INPUT, "%s: no %s field \"%s\"; the layer has: %s", source, role,
                         name, n ? list : "no fields");
}

static OGRSpatialReferenceH srs_from_user(kz_ctx *ctx, const char *crs)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (srs == NULL)
        return NULL;
    if (OSRSetFromUserInput(srs, crs) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        kz_ctx__error(ctx, KZ_E_USAGE, "unknown CRS \"%s\" (use e.g. EPSG:25833)", crs);
        return NULL;
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

/* Describe feature i for messages: "feature 17 (key \"0101\")". */
static void feature_name(char *buf, size_t size, long long fid, const char *key)
{
    if (key != NULL)
        snprintf(buf, size, "feature %lld (key \"%s\")", fid, key);
    else
        snprintf(buf, size, "feature %lld", fid);
}

static int take_geometry(kz_layer *l, kz_ctx *ctx, OGRGeometryH g, const char *what)
{
    OGRwkbGeometryType t;
    if (g == NULL || OGR_G_IsEmpty(g))
        return kz_ctx__error(ctx, KZ_E_INPUT, "%s: %s has no geometry; give it one or remove it",
                             l->source, what);
    t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (l->kind == KZ_GEOM_AREAS) {
        OGRGeometryH multi;
        int size;
        if (t != wkbPolygon && t != wkbMultiPolygon)
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "%s: %s is a %s, not a polygon; areas must be polygons", l->source,
                                 what, OGRGeometryTypeToName(t));
        multi = OGR_G_ForceToMultiPolygon(OGR_G_Clone(g));
        OGR_G_FlattenTo2D(multi);
        size = OGR_G_WkbSize(multi);
        l->wkb[l->n] = malloc((size_t)size);
        if (l->wkb[l->n] == NULL) {
            OGR_G_DestroyGeometry(multi);
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory reading %s", l->source);
        }
        OGR_G_ExportToIsoWkb(multi, wkbNDR, l->wkb[l->n]);
        l->wkb_size[l->n] = (size_t)size;
        OGR_G_DestroyGeometry(multi);
    } else {
        OGRGeometryH p = g;
        if (t == wkbMultiPoint) {
            int parts = OGR_G_GetGeometryCount(g);
            if (parts > 1)
                kz_ctx__log(ctx, KZ_LOG_WARN,
                            "%s: %s is a MultiPoint of %d points; using the first", l->source, what,
                            parts);
            p = OGR_G_GetGeometryRef(g, 0);
        } else if (t != wkbPoint) {
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "%s: %s is a %s, not a point; objects must be "
                                 "points (convert polygons to centroids in a GIS)",
                                 l->source, what, OGRGeometryTypeToName(t));
        }
        l->x[l->n] = OGR_G_GetX(p, 0);
        l->y[l->n] = OGR_G_GetY(p, 0);
    }
    return KZ_OK;
}

/*
 * A projected CRS in metres whose coordinates all lie within ±180/±90 is
 * almost surely lon/lat data with a wrong .prj or crs member: refuse it
 * rather than place the areas near (0, 0). The reverse, a geographic CRS
 * with coordinates beyond ±180/±90, is metre data in a file without CRS
 * (a GeoJSON without crs member means WGS 84).
 */
static int check_units(const char *source, kz_ctx *ctx, OGRSpatialReferenceH src, OGRLayerH lyr)
{
    OGREnvelope env;
    if (src == NULL || OGR_L_GetExtent(lyr, &env, TRUE) != OGRERR_NONE)
        return KZ_OK;
    if (OSRIsGeographic(src) &&
        (env.MinX < -180.0 || env.MaxX > 180.0 || env.MinY < -90.0 || env.MaxY > 90.0))
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "%s: the coordinates (%.0f..%.0f, %.0f..%.0f) look like metres, but "
                             "the layer's CRS is the geographic \"%s\" (a GeoJSON without crs "
                             "member is WGS 84); give the file its CRS (e.g. ogr2ogr -a_srs "
                             "EPSG:25833)",
                             source, env.MinX, env.MaxX, env.MinY, env.MaxY,
                             OSRGetName(src) ? OSRGetName(src) : "?");
    if (!OSRIsProjected(src))
        return KZ_OK;
    if (env.MinX >= -180.0 && env.MaxX <= 180.0 && env.MinY >= -90.0 && env.MaxY <= 90.0)
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "%s: the coordinates (%.4f..%.4f, %.4f..%.4f) look like degrees, but "
                             "the layer declares the projected CRS \"%s\"; fix the .prj or crs "
                             "member (lon/lat data is EPSG:4326)",
                             source, env.MinX, env.MaxX, env.MinY, env.MaxY,
                             OSRGetName(src) ? OSRGetName(src) : "?");
    return KZ_OK;
}

int kz_layer_read(kz_layer **out, kz_ctx *ctx, const char *source, const kz_layer_options *opts)
{
    kz_layer *l = NULL;
    char *path = NULL, *layer_name = NULL;
    GDALDatasetH ds = NULL;
    OGRLayerH lyr;
    OGRFeatureDefnH defn;
    OGRFeatureH feat = NULL;
    OGRSpatialReferenceH target = NULL, assumed = NULL;
    OGRCoordinateTransformationH ct = NULL;
    char **open_options = NULL;
    int key_idx = -1, label_idx = -1, *field_idx = NULL;
    size_t f, i;
    int rc, quiet = 0;

    *out = NULL;
    rc = split_source(&path, &layer_name, source);
    if (rc == KZ_E_USAGE) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE, "%s: expected \"path\" or \"path|layername=NAME\"",
                           source);
        goto done;
    }
    if (rc != KZ_OK) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if (opts->x_field != NULL) {
        /* GDAL's CSV driver builds points from the coordinate columns;
         * the other columns stay text (keys keep their leading zeros). */
        open_options = CSLSetNameValue(open_options, "X_POSSIBLE_NAMES", opts->x_field);
        open_options = CSLSetNameValue(open_options, "Y_POSSIBLE_NAMES", opts->y_field);
        open_options = CSLSetNameValue(open_options, "KEEP_GEOM_COLUMNS", "NO");
    }
    ds = kz_layer__open(ctx, path, open_options);
    CSLDestroy(open_options);
    open_options = NULL;
    if (ds == NULL) {
        rc = KZ_E_IO;
        goto done;
    }
    /* GDAL's own warnings (e.g. "Non closed ring detected") would print
     * to stderr next to kiez's message: keep them quiet. */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    quiet = 1;
    if (layer_name != NULL) {
        lyr = GDALDatasetGetLayerByName(ds, layer_name);
        if (lyr == NULL) {
            int k, n = GDALDatasetGetLayerCount(ds);
            char names[512] = "";
            size_t used = 0;
            for (k = 0; k < n && used < sizeof(names); k++) {
                int w = snprintf(names + used, sizeof(names) - used, "%s\"%s\"", k ? ", " : "",
                                 OGR_L_GetName(GDALDatasetGetLayer(ds, k)));
                used += w > 0 ? (size_t)w : 0;
            }
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "%s: no layer \"%s\"; the file has: %s; fix the "
                               "layername after '|'",
                               path, layer_name, names);
            goto done;
        }
    } else {
        if (GDALDatasetGetLayerCount(ds) < 1) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: the source has no layer", path);
            goto done;
        }
        lyr = GDALDatasetGetLayer(ds, 0);
    }
    defn = OGR_L_GetLayerDefn(lyr);
    if (OGR_L_GetFeatureCount(lyr, TRUE) == 0) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: the layer has no features", source);
        goto done;
    }
    if (OGR_FD_GetGeomFieldCount(defn) < 1) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT,
                           "%s: the layer has no geometry column; give a vector file with "
                           "geometries (GeoJSON, Shapefile, GeoPackage)",
                           source);
        goto done;
    }

    l = calloc(1, sizeof(*l));
    if (l == NULL || (l->source = strdup(source)) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    l->kind = opts->kind;
    l->n_fields = opts->n_fields;
    if (opts->key_field &&
        (rc = field_index(&key_idx, ctx, defn, source, opts->key_field, "key")) != KZ_OK)
        goto done;
    if (opts->label_field &&
        (rc = field_index(&label_idx, ctx, defn, source, opts->label_field, "label")) != KZ_OK)
        goto done;
    if (opts->n_fields > 0) {
        field_idx = calloc(opts->n_fields, sizeof(int));
        if (field_idx == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (f = 0; f < opts->n_fields; f++)
            if ((rc = field_index(&field_idx[f], ctx, defn, source, opts->fields[f], "")) != KZ_OK)
                goto done;
    }

    /* Allocate the arrays this layer uses (grow() only grows non-NULL ones). */
    l->fid = malloc(sizeof(long long));
    if (opts->key_field)
        l->keys = malloc(sizeof(char *));
    if (opts->label_field)
        l->labels = malloc(sizeof(char *));
    if (opts->n_fields)
        l->fields = malloc(opts->n_fields * sizeof(char *));
    if (l->kind == KZ_GEOM_AREAS) {
        l->wkb = malloc(sizeof(unsigned char *));
        l->wkb_size = malloc(sizeof(size_t));
    } else {
        l->x = malloc(sizeof(double));
        l->y = malloc(sizeof(double));
    }
    if (l->fid == NULL || (opts->key_field && !l->keys) || (opts->label_field && !l->labels) ||
        (opts->n_fields && !l->fields) || (l->kind == KZ_GEOM_AREAS && (!l->wkb || !l->wkb_size)) ||
        (l->kind != KZ_GEOM_AREAS && (!l->x || !l->y))) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    l->cap = 1;

    if (opts->crs != NULL) {
        OGRSpatialReferenceH src = OGR_L_GetSpatialRef(lyr);
        char *wkt = NULL;
        if (src == NULL && opts->source_crs != NULL) {
            if ((assumed = srs_from_user(ctx, opts->source_crs)) == NULL) {
                rc = KZ_E_USAGE;
                goto done;
            }
            src = assumed;
        }
        if (src == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "%s: the layer has no CRS; add a .prj file or convert it with a "
                               "CRS (e.g. ogr2ogr -a_srs EPSG:25833)",
                               source);
            goto done;
        }
        if ((target = srs_from_user(ctx, opts->crs)) == NULL) {
            rc = KZ_E_USAGE;
            goto done;
        }
        if (!OSRIsSame(src, target)) {
            OGRSpatialReferenceH src_trad = OSRClone(src);
            OSRSetAxisMappingStrategy(src_trad, OAMS_TRADITIONAL_GIS_ORDER);
            ct = OCTNewCoordinateTransformation(src_trad, target);
            OSRDestroySpatialReference(src_trad);
            if (ct == NULL) {
                rc = kz_ctx__error(ctx, KZ_E_INPUT,
                                   "%s: cannot transform from the layer's CRS to %s", source,
                                   opts->crs);
                goto done;
            }
        }
        OSRExportToWkt(target, &wkt);
        l->crs_wkt = wkt ? strdup(wkt) : NULL;
        CPLFree(wkt);
    } else if (OGR_L_GetSpatialRef(lyr) != NULL) {
        char *wkt = NULL;
        OSRExportToWkt(OGR_L_GetSpatialRef(lyr), &wkt);
        l->crs_wkt = wkt ? strdup(wkt) : NULL;
        CPLFree(wkt);
    }

    if (opts->crs != NULL &&
        (rc = check_units(source, ctx, OGR_L_GetSpatialRef(lyr), lyr)) != KZ_OK)
        goto done;
    OGR_L_ResetReading(lyr);
    while ((feat = OGR_L_GetNextFeature(lyr)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(feat);
        char what[KEY_MAX + 64];
        const char *key = NULL;
        char keybuf[KEY_MAX];

        if (l->n == l->cap && (rc = grow(l, ctx)) != KZ_OK)
            goto done;
        l->fid[l->n] = OGR_F_GetFID(feat);
        if (l->keys) {
            l->keys[l->n] = NULL;
            if (!OGR_F_IsFieldSetAndNotNull(feat, key_idx)) {
                feature_name(what, sizeof(what), l->fid[l->n], NULL);
                rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: %s has no key in field \"%s\"", source,
                                   what, opts->key_field);
                goto done;
            }
            key = OGR_F_GetFieldAsString(feat, key_idx);
            for (f = 0; f < opts->n_fix_keys; f++) {
                char fidtext[32];
                snprintf(fidtext, sizeof(fidtext), "%lld", l->fid[l->n]);
                if (strcmp(opts->fix_keys[2 * f], fidtext) == 0) {
                    kz_ctx__log(ctx, KZ_LOG_INFO, "%s: feature %s: key \"%s\" corrected to \"%s\"",
                                source, fidtext, key, opts->fix_keys[2 * f + 1]);
                    key = opts->fix_keys[2 * f + 1];
                }
            }
            if (kz_key_normalise(keybuf, sizeof(keybuf), key, opts->key_width) != KZ_OK) {
                feature_name(what, sizeof(what), l->fid[l->n], key);
                rc = kz_ctx__error(ctx, KZ_E_INPUT,
                                   "%s: %s: the key is empty, too long, or does not fit width %d",
                                   source, what, opts->key_width);
                goto done;
            }
            key = keybuf;
        }
        feature_name(what, sizeof(what), l->fid[l->n], key);
        if (g != NULL && ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: %s: cannot transform the geometry to %s",
                               source, what, opts->crs);
            goto done;
        }
        /* Entry n is owned by the layer from here on, so every failure below
         * is cleaned up by kz_layer_free(). */
        if (l->keys)
            l->keys[l->n] = NULL;
        if (l->labels)
            l->labels[l->n] = NULL;
        for (f = 0; f < opts->n_fields; f++)
            l->fields[l->n * l->n_fields + f] = NULL;
        if (l->wkb)
            l->wkb[l->n] = NULL;
        if ((rc = take_geometry(l, ctx, g, what)) != KZ_OK)
            goto done;
        i = l->n++;
        if (l->keys && (l->keys[i] = strdup(key)) == NULL)
            goto nomem;
        if (l->labels) {
            l->labels[i] = strdup(OGR_F_IsFieldSetAndNotNull(feat, label_idx)
                                      ? OGR_F_GetFieldAsString(feat, label_idx)
                                      : "");
            if (l->labels[i] == NULL)
                goto nomem;
        }
        for (f = 0; f < opts->n_fields; f++) {
            if (!OGR_F_IsFieldSetAndNotNull(feat, field_idx[f]))
                continue;
            l->fields[i * l->n_fields + f] = strdup(OGR_F_GetFieldAsString(feat, field_idx[f]));
            if (l->fields[i * l->n_fields + f] == NULL)
                goto nomem;
        }
        OGR_F_Destroy(feat);
        feat = NULL;
    }
    *out = l;
    l = NULL;
    rc = KZ_OK;
    goto done;

nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory reading %s", source);
done:
    if (assumed)
        OSRDestroySpatialReference(assumed);
    if (feat)
        OGR_F_Destroy(feat);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (target)
        OSRDestroySpatialReference(target);
    if (ds)
        GDALClose(ds);
    if (quiet)
        CPLPopErrorHandler();
    free(field_idx);
    free(path);
    free(layer_name);
    kz_layer_free(l);
    return rc;
}
