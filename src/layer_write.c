/*
 * GDAL/OGR adapter for writing vector layers: kz_layer_write().
 *
 * New files are written under a temporary name in the target folder and
 * renamed into place (rename(2) is atomic within a folder), so readers never
 * see a half-written file and a failure leaves the old file untouched. A
 * Shapefile is several files; each is renamed, which is atomic per file
 * only. An existing GeoPackage is opened in update mode and the layer is
 * deleted (if present) and written inside one SQLite transaction: it lands
 * whole or not at all, and the other layers stay as they are.
 */
#include "ctx_internal.h"
#include "layer_internal.h"
#include "ogr_internal.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum out_format { FMT_GPKG, FMT_GEOJSON, FMT_SHP, FMT_CSV };

/* Longest path handled; longer ones are refused. */
#define PATH_MAX_KZ 4096

static const char *const shp_parts[] = {".shp", ".shx", ".dbf", ".prj",
                                        ".cpg", ".qix", ".sbn", ".sbx"};

static int format_of(const char *path, int *fmt, const char **ext)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot == NULL || (slash != NULL && dot < slash))
        return -1;
    *ext = dot;
    if (strcasecmp(dot, ".gpkg") == 0)
        *fmt = FMT_GPKG;
    else if (strcasecmp(dot, ".geojson") == 0 || strcasecmp(dot, ".json") == 0)
        *fmt = FMT_GEOJSON;
    else if (strcasecmp(dot, ".shp") == 0)
        *fmt = FMT_SHP;
    else if (strcasecmp(dot, ".csv") == 0)
        *fmt = FMT_CSV;
    else
        return -1;
    return 0;
}

/* The file name without folder and extension: the default layer name. */
static void base_name(char *out, size_t size, const char *path, const char *ext)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    int len = (int)(ext - b);
    snprintf(out, size, "%.*s", len > 0 ? len : 0, b);
}

static int gdal_fail(kz_ctx *ctx, int code, const char *path, const char *what)
{
    const char *msg = CPLGetLastErrorMsg();
    return kz_ctx__error(ctx, code, "%s: cannot %s%s%s", path, what, msg[0] ? ": " : "", msg);
}

/* Write every feature into `lyr`. */
static int write_features(kz_ctx *ctx, const kz_layer *layer, OGRLayerH lyr, int fmt,
                          OGRCoordinateTransformationH ct, const kz_column *columns,
                          size_t n_columns, const char *path)
{
    OGRFeatureDefnH defn;
    int base = 0, rc = KZ_OK;
    size_t i, c;

    if (layer->keys) {
        OGRFieldDefnH f = OGR_Fld_Create("key", OFTString);
        OGRErr e = OGR_L_CreateField(lyr, f, TRUE);
        OGR_Fld_Destroy(f);
        if (e != OGRERR_NONE)
            return gdal_fail(ctx, KZ_E_IO, path, "create the field \"key\"");
    }
    if (layer->labels) {
        OGRFieldDefnH f = OGR_Fld_Create("name", OFTString);
        OGRErr e = OGR_L_CreateField(lyr, f, TRUE);
        OGR_Fld_Destroy(f);
        if (e != OGRERR_NONE)
            return gdal_fail(ctx, KZ_E_IO, path, "create the field \"name\"");
    }
    for (c = 0; c < n_columns; c++) {
        OGRFieldType t = columns[c].type == KZ_COL_REAL      ? OFTReal
                         : columns[c].type == KZ_COL_INTEGER ? OFTInteger64
                                                             : OFTString;
        OGRFieldDefnH f;
        OGRErr e;
        if ((columns[c].type == KZ_COL_REAL && columns[c].reals == NULL) ||
            (columns[c].type == KZ_COL_INTEGER && columns[c].integers == NULL) ||
            (columns[c].type == KZ_COL_TEXT && columns[c].texts == NULL) ||
            columns[c].type < KZ_COL_REAL || columns[c].type > KZ_COL_TEXT ||
            columns[c].name == NULL)
            return kz_ctx__error(ctx, KZ_E_USAGE, "%s: column %zu has no name or no values", path,
                                 c);
        f = OGR_Fld_Create(columns[c].name, t);
        e = OGR_L_CreateField(lyr, f, TRUE);
        OGR_Fld_Destroy(f);
        if (e != OGRERR_NONE) {
            char what[300];
            snprintf(what, sizeof(what), "create the field \"%s\"", columns[c].name);
            return gdal_fail(ctx, KZ_E_IO, path, what);
        }
    }
    defn = OGR_L_GetLayerDefn(lyr);
    base = (layer->keys ? 1 : 0) + (layer->labels ? 1 : 0);
    for (i = 0; i < layer->n && rc == KZ_OK; i++) {
        OGRFeatureH feat = OGR_F_Create(defn);
        if (feat == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory writing %s", path);
        if (layer->keys)
            OGR_F_SetFieldString(feat, 0, layer->keys[i]);
        if (layer->labels)
            OGR_F_SetFieldString(feat, layer->keys ? 1 : 0, layer->labels[i]);
        for (c = 0; c < n_columns; c++) {
            int f = base + (int)c;
            const kz_column *col = &columns[c];
            if (col->type == KZ_COL_REAL) {
                if (isnan(col->reals[i]) || isinf(col->reals[i]))
                    OGR_F_SetFieldNull(feat, f);
                else
                    OGR_F_SetFieldDouble(feat, f, col->reals[i]);
            } else if (col->type == KZ_COL_INTEGER) {
                OGR_F_SetFieldInteger64(feat, f, col->integers[i]);
            } else if (col->texts[i] == NULL) {
                OGR_F_SetFieldNull(feat, f);
            } else {
                OGR_F_SetFieldString(feat, f, col->texts[i]);
            }
        }
        if (fmt != FMT_CSV) {
            OGRGeometryH g = NULL;
            if (layer->kind == KZ_GEOM_AREAS) {
                if (OGR_G_CreateFromWkb(layer->wkb[i], NULL, &g, (int)layer->wkb_size[i]) !=
                    OGRERR_NONE)
                    g = NULL;
            } else {
                g = OGR_G_CreateGeometry(wkbPoint);
                if (g)
                    OGR_G_SetPoint_2D(g, 0, layer->x[i], layer->y[i]);
            }
            if (g == NULL) {
                OGR_F_Destroy(feat);
                return kz_ctx__error(ctx, KZ_E_INTERNAL, "%s: feature %zu: bad geometry", path, i);
            }
            if (ct != NULL && OGR_G_Transform(g, ct) != OGRERR_NONE) {
                OGR_G_DestroyGeometry(g);
                OGR_F_Destroy(feat);
                return kz_ctx__error(ctx, KZ_E_INPUT, "%s: feature %zu: cannot transform to WGS 84",
                                     path, i);
            }
            OGR_F_SetGeometryDirectly(feat, g);
        }
        if (OGR_L_CreateFeature(lyr, feat) != OGRERR_NONE) {
            char what[64];
            snprintf(what, sizeof(what), "write feature %zu", i);
            rc = gdal_fail(ctx, KZ_E_IO, path, what);
        }
        OGR_F_Destroy(feat);
    }
    return rc;
}

/*
 * Create the output layer. For GeoJSON the geometries are reprojected to
 * WGS 84 here (*ct receives the transformation, caller destroys it) and the
 * layer is declared WGS 84: when GDAL's RFC 7946 writer reprojects by itself
 * it turns one-part MultiPolygons into Polygons (GDAL #10686), and the
 * contract is MultiPolygon areas.
 */
static OGRLayerH create_layer(kz_ctx *ctx, GDALDatasetH ds, const kz_layer *layer, int fmt,
                              const char *name, const char *path, OGRCoordinateTransformationH *ct)
{
    OGRSpatialReferenceH srs = NULL;
    char **lco = NULL;
    OGRLayerH lyr;
    OGRwkbGeometryType gt = fmt == FMT_CSV                 ? wkbNone
                            : layer->kind == KZ_GEOM_AREAS ? wkbMultiPolygon
                                                           : wkbPoint;

    if (fmt != FMT_CSV && layer->crs_wkt && layer->crs_wkt[0]) {
        char *wkt = layer->crs_wkt;
        srs = OSRNewSpatialReference(NULL);
        if (srs == NULL || OSRImportFromWkt(srs, &wkt) != OGRERR_NONE) {
            if (srs)
                OSRDestroySpatialReference(srs);
            kz_ctx__error(ctx, KZ_E_INTERNAL, "%s: the layer's CRS is not readable WKT", path);
            return NULL;
        }
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    if (fmt == FMT_GEOJSON && srs != NULL && ct != NULL) {
        OGRSpatialReferenceH wgs84 = OSRNewSpatialReference(NULL);
        if (wgs84 == NULL || OSRImportFromEPSG(wgs84, 4326) != OGRERR_NONE) {
            if (wgs84)
                OSRDestroySpatialReference(wgs84);
            OSRDestroySpatialReference(srs);
            kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot set up WGS 84 (PROJ database?)");
            return NULL;
        }
        OSRSetAxisMappingStrategy(wgs84, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(srs, wgs84)) {
            *ct = OCTNewCoordinateTransformation(srs, wgs84);
            if (*ct == NULL) {
                OSRDestroySpatialReference(wgs84);
                OSRDestroySpatialReference(srs);
                kz_ctx__error(ctx, KZ_E_INPUT, "%s: cannot transform the layer's CRS to WGS 84",
                              path);
                return NULL;
            }
        }
        OSRDestroySpatialReference(srs);
        srs = wgs84;
    }
    if (fmt == FMT_GEOJSON)
        /* RFC 7946: WGS 84 lon/lat, rewound rings, no crs member, 7 decimals. */
        lco = CSLSetNameValue(lco, "RFC7946", "YES");
    if (fmt == FMT_GEOJSON)
        /* Its antimeridian cutting also turns one-part MultiPolygons into
         * Polygons; municipal data never crosses 180 degrees. */
        lco = CSLSetNameValue(lco, "WRAPDATELINE", "NO");
    if (fmt == FMT_SHP)
        lco = CSLSetNameValue(lco, "ENCODING", "UTF-8");
    lyr = GDALDatasetCreateLayer(ds, name, srs, gt, lco);
    if (lyr == NULL)
        gdal_fail(ctx, KZ_E_IO, path, "create the layer");
    CSLDestroy(lco);
    if (srs)
        OSRDestroySpatialReference(srs);
    return lyr;
}

/* Replace or add a layer inside an existing GeoPackage, in one transaction. */
static int write_into_gpkg(kz_ctx *ctx, const kz_layer *layer, const char *path, const char *name,
                           const kz_column *columns, size_t n_columns)
{
    const char *const drivers[] = {"GPKG", NULL};
    GDALDatasetH ds;
    OGRLayerH lyr;
    int i, rc = KZ_OK;

    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, drivers, NULL, NULL);
    if (ds == NULL)
        return gdal_fail(ctx, KZ_E_IO, path, "open the GeoPackage for update");
    if (GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE) {
        rc = gdal_fail(ctx, KZ_E_IO, path, "start a transaction");
        goto done;
    }
    for (i = 0; i < GDALDatasetGetLayerCount(ds); i++) {
        if (strcmp(OGR_L_GetName(GDALDatasetGetLayer(ds, i)), name) == 0) {
            if (GDALDatasetDeleteLayer(ds, i) != OGRERR_NONE) {
                rc = gdal_fail(ctx, KZ_E_IO, path, "replace the layer");
                goto rollback;
            }
            break;
        }
    }
    if ((lyr = create_layer(ctx, ds, layer, FMT_GPKG, name, path, NULL)) == NULL) {
        rc = KZ_E_IO;
        goto rollback;
    }
    if ((rc = write_features(ctx, layer, lyr, FMT_GPKG, NULL, columns, n_columns, path)) != KZ_OK)
        goto rollback;
    if (GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
        rc = gdal_fail(ctx, KZ_E_IO, path, "commit");
        goto rollback;
    }
    goto done;
rollback:
    GDALDatasetRollbackTransaction(ds);
done:
    GDALClose(ds);
    return rc;
}

/* The temporary name: "<path without ext>.kztmp<pid><ext>". */
static int temp_name(char *out, size_t size, const char *path, const char *ext, const char *part)
{
    int n = snprintf(out, size, "%.*s.kztmp%ld%s", (int)(ext - path), path, (long)getpid(),
                     part ? part : ext);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int final_name(char *out, size_t size, const char *path, const char *ext, const char *part)
{
    int n = snprintf(out, size, "%.*s%s", (int)(ext - path), path, part);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void remove_temp(GDALDriverH drv, const char *tmp, const char *path, const char *ext,
                        int fmt)
{
    char name[PATH_MAX_KZ];
    size_t k;
    if (fmt == FMT_SHP) {
        for (k = 0; k < sizeof(shp_parts) / sizeof(shp_parts[0]); k++)
            if (temp_name(name, sizeof(name), path, ext, shp_parts[k]) == 0)
                unlink(name);
    } else {
        struct stat st;
        if (stat(tmp, &st) == 0 && GDALDeleteDataset(drv, tmp) != CE_None)
            unlink(tmp);
    }
}

int kz_layer_write(kz_ctx *ctx, const kz_layer *layer, const char *path, const char *layer_name,
                   const kz_column *columns, size_t n_columns)
{
    static const char *const driver_names[] = {"GPKG", "GeoJSON", "ESRI Shapefile", "CSV"};
    const char *ext = NULL;
    char name[256], tmp[PATH_MAX_KZ], from[PATH_MAX_KZ], to[PATH_MAX_KZ];
    GDALDriverH drv;
    GDALDatasetH ds = NULL;
    OGRLayerH lyr;
    OGRCoordinateTransformationH ct = NULL;
    struct stat st;
    int fmt, rc = KZ_OK, in_txn = 0;
    size_t k;

    tmp[0] = '\0';
    if (format_of(path, &fmt, &ext) != 0)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "%s: unknown output format; use .gpkg, .geojson, .shp or .csv", path);
    if (strlen(path) + 32 >= PATH_MAX_KZ)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: the path is too long", path);
    if (layer_name != NULL && layer_name[0] != '\0')
        snprintf(name, sizeof(name), "%s", layer_name);
    else
        base_name(name, sizeof(name), path, ext);

    kz_ogr__register();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    drv = GDALGetDriverByName(driver_names[fmt]);
    if (drv == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GDAL has no %s driver", driver_names[fmt]);
        goto done;
    }
    if (fmt == FMT_GPKG && stat(path, &st) == 0) {
        rc = write_into_gpkg(ctx, layer, path, name, columns, n_columns);
        goto done;
    }

    temp_name(tmp, sizeof(tmp), path, ext, NULL);
    remove_temp(drv, tmp, path, ext, fmt); /* a leftover of a crashed run */
    ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    if (ds == NULL) {
        rc = gdal_fail(ctx, KZ_E_IO, path, "create the file");
        goto done;
    }
    if ((lyr = create_layer(ctx, ds, layer, fmt, name, path, &ct)) == NULL) {
        rc = KZ_E_IO;
        goto done;
    }
    /* One transaction makes a GeoPackage write fast; other drivers have none. */
    in_txn = GDALDatasetStartTransaction(ds, FALSE) == OGRERR_NONE;
    if ((rc = write_features(ctx, layer, lyr, fmt, ct, columns, n_columns, path)) != KZ_OK)
        goto done;
    if (in_txn && GDALDatasetCommitTransaction(ds) != OGRERR_NONE) {
        rc = gdal_fail(ctx, KZ_E_IO, path, "commit");
        goto done;
    }
    in_txn = 0;
    GDALClose(ds);
    ds = NULL;
    if (CPLGetLastErrorType() >= CE_Failure) {
        rc = gdal_fail(ctx, KZ_E_IO, path, "finish writing");
        goto done;
    }

    if (fmt == FMT_SHP) {
        for (k = 0; k < sizeof(shp_parts) / sizeof(shp_parts[0]); k++) {
            temp_name(from, sizeof(from), path, ext, shp_parts[k]);
            final_name(to, sizeof(to), path, ext, shp_parts[k]);
            if (stat(from, &st) == 0) {
                if (rename(from, to) != 0) {
                    rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot rename %s into place", to, from);
                    goto done;
                }
            } else {
                unlink(to); /* a stale part of an older file */
            }
        }
    } else if (rename(tmp, path) != 0) {
        rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot rename the temporary file %s into place", path,
                           tmp);
        goto done;
    }
done:
    if (ds != NULL) {
        if (in_txn)
            GDALDatasetRollbackTransaction(ds);
        GDALClose(ds);
    }
    if (ct != NULL)
        OCTDestroyCoordinateTransformation(ct);
    if (rc != KZ_OK && drv != NULL && tmp[0] != '\0')
        remove_temp(drv, tmp, path, ext, fmt);
    CPLPopErrorHandler();
    return rc;
}
