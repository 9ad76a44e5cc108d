/*
 * GDAL adapter for the GeoPackage layer `measures`: one feature per
 * registered measure, its geometry the union of the treated areas'
 * polygons, with the register's attributes. Called from kz_export_gpkg()
 * (export_ogr.c) inside its transaction.
 */
#include "ctx_internal.h"
#include "store_effect.h"

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_ILLUSTRATIVE "ILLUSTRATIVE register: not a real measure; for demonstration only"

typedef struct mwriter {
    kz_ctx *ctx;
    const char *path;
    OGRLayerH layer;
} mwriter;

static const char *const text_fields[] = {"id",         "name",     "kind",       "level",
                                          "start_date", "end_date", "indicators", "comparison",
                                          "match_on",   "areas",    "note"};

static int fail(kz_ctx *ctx, const char *path, const char *what)
{
    const char *msg = CPLGetLastErrorMsg();
    return kz_ctx__error(ctx, KZ_E_IO, "%s: %s%s%s", path, what, msg[0] ? ": " : "", msg);
}

static void put_text(OGRFeatureH f, const char *name, const char *v)
{
    int i = OGR_F_GetFieldIndex(f, name);
    if (v != NULL)
        OGR_F_SetFieldString(f, i, v);
    else
        OGR_F_SetFieldNull(f, i);
}

static int measure_row(const kz_store_measure *m, const unsigned char *wkb, size_t wkb_size,
                       void *payload)
{
    mwriter *w = payload;
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(w->layer));
    OGRGeometryH g = NULL;
    char *areas;
    size_t len = 1, i, o = 0;
    OGRErr err;

    if (f == NULL)
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < m->n_keys; i++)
        len += strlen(m->keys[i]) + 1;
    if ((areas = malloc(len)) == NULL) {
        OGR_F_Destroy(f);
        return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
    }
    areas[0] = '\0';
    for (i = 0; i < m->n_keys; i++) {
        size_t n = strlen(m->keys[i]);
        if (i > 0)
            areas[o++] = ',';
        memcpy(areas + o, m->keys[i], n + 1);
        o += n;
    }
    put_text(f, "id", m->id);
    put_text(f, "name", m->name);
    put_text(f, "kind", m->kind);
    put_text(f, "level", m->level);
    put_text(f, "start_date", m->start);
    put_text(f, "end_date", m->end);
    put_text(f, "indicators", m->indicators);
    put_text(f, "comparison", m->comparison);
    put_text(f, "match_on", m->match_on);
    put_text(f, "areas", areas);
    put_text(f, "note", m->illustrative ? NOTE_ILLUSTRATIVE : NULL);
    free(areas);
    if (isfinite(m->budget))
        OGR_F_SetFieldDouble(f, OGR_F_GetFieldIndex(f, "budget"), m->budget);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "k"), m->k);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "n_areas"), (int)m->n_keys);
    OGR_F_SetFieldInteger(f, OGR_F_GetFieldIndex(f, "illustrative"), m->illustrative);
    if (wkb != NULL &&
        OGR_G_CreateFromWkb((const void *)wkb, NULL, &g, (int)wkb_size) == OGRERR_NONE) {
        g = OGR_G_ForceToMultiPolygon(g);
        OGR_F_SetGeometryDirectly(f, g);
    }
    err = OGR_L_CreateFeature(w->layer, f);
    OGR_F_Destroy(f);
    return err == OGRERR_NONE ? KZ_OK : fail(w->ctx, w->path, "cannot write a measure");
}

static int count_row(const kz_store_measure *m, const unsigned char *wkb, size_t wkb_size,
                     void *payload)
{
    (void)m;
    (void)wkb;
    (void)wkb_size;
    ++*(size_t *)payload;
    return KZ_OK;
}

static int add_field(mwriter *w, const char *name, OGRFieldType type)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    OGRErr err = OGR_L_CreateField(w->layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
    return err == OGRERR_NONE ? KZ_OK : fail(w->ctx, w->path, "cannot create a field");
}

int kz_export__measures(void *ds, kz_db *db, kz_ctx *ctx, const char *path)
{
    OGRSpatialReferenceH srs;
    mwriter w = {ctx, path, NULL};
    size_t n = 0, i;
    int rc;

    /* A database without the register (older schema) or with no measures:
     * no layer. */
    if (kz_store__each_measure(db, ctx, count_row, &n) != KZ_OK || n == 0) {
        kz_ctx__clear(ctx);
        return KZ_OK;
    }
    if ((srs = OSRNewSpatialReference(NULL)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if (OSRSetFromUserInput(srs, kz_db_crs(db)) != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot build the CRS %s", kz_db_crs(db));
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    w.layer = GDALDatasetCreateLayer((GDALDatasetH)ds, "measures", srs, wkbMultiPolygon, NULL);
    OSRDestroySpatialReference(srs);
    if (w.layer == NULL)
        return fail(ctx, path, "cannot create the layer measures");
    for (i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++)
        if ((rc = add_field(&w, text_fields[i], OFTString)) != KZ_OK)
            return rc;
    if ((rc = add_field(&w, "budget", OFTReal)) != KZ_OK ||
        (rc = add_field(&w, "k", OFTInteger)) != KZ_OK ||
        (rc = add_field(&w, "n_areas", OFTInteger)) != KZ_OK ||
        (rc = add_field(&w, "illustrative", OFTInteger)) != KZ_OK)
        return rc;
    return kz_store__each_measure(db, ctx, measure_row, &w);
}
