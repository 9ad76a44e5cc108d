/*
 * Validity of area polygons (GEOS): report or repair with MakeValid.
 */
#include "ctx_internal.h"
#include "geom.h"
#include "layer_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Repair one polygon: MakeValid, keep the polygonal part as MultiPolygon. */
static GEOSGeometry *repair(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    GEOSGeometry *valid = GEOSMakeValid_r(h, g), *multi;
    int type;
    if (valid == NULL)
        return NULL;
    type = GEOSGeomTypeId_r(h, valid);
    if (type == GEOS_MULTIPOLYGON)
        return valid;
    if (type == GEOS_POLYGON) {
        GEOSGeometry *parts[1] = {valid};
        return GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, 1);
    }
    /* A collection of polygons and lines: keep the polygons. */
    {
        int i, n = GEOSGetNumGeometries_r(h, valid), k = 0;
        GEOSGeometry **parts = calloc((size_t)(n > 0 ? n : 1), sizeof(*parts));
        if (parts == NULL) {
            GEOSGeom_destroy_r(h, valid);
            return NULL;
        }
        for (i = 0; i < n; i++) {
            const GEOSGeometry *part = GEOSGetGeometryN_r(h, valid, i);
            int pt = GEOSGeomTypeId_r(h, part);
            if (pt == GEOS_POLYGON)
                parts[k++] = GEOSGeom_clone_r(h, part);
            else if (pt == GEOS_MULTIPOLYGON) {
                int j, m = GEOSGetNumGeometries_r(h, part);
                GEOSGeometry **more = realloc(parts, (size_t)(n + m) * sizeof(*parts));
                if (more == NULL)
                    break;
                parts = more;
                for (j = 0; j < m; j++)
                    parts[k++] = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, part, j));
            }
        }
        multi = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)k);
        free(parts);
    }
    GEOSGeom_destroy_r(h, valid);
    return multi;
}

int kz_layer_check_areas(kz_layer *layer, kz_ctx *ctx, int do_repair, size_t *repaired)
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *reader = NULL;
    GEOSWKBWriter *writer = NULL;
    size_t i, fixed = 0;
    char first[256] = "";
    int rc = KZ_OK;

    if (repaired)
        *repaired = 0;
    if (layer->kind != KZ_GEOM_AREAS)
        return KZ_OK;
    if (h == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot initialise GEOS");
    reader = GEOSWKBReader_create_r(h);
    writer = GEOSWKBWriter_create_r(h);
    if (reader == NULL || writer == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    GEOSWKBWriter_setByteOrder_r(h, writer, GEOS_WKB_NDR);
    for (i = 0; i < layer->n; i++) {
        GEOSGeometry *g = GEOSWKBReader_read_r(h, reader, layer->wkb[i], layer->wkb_size[i]);
        GEOSGeometry *fixedg;
        char *reason;
        unsigned char *wkb;
        size_t size;
        if (g == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "%s: feature %lld: unreadable geometry: %s; fix it in a GIS",
                               layer->source, layer->fid[i], ctx->geos_msg);
            goto done;
        }
        if (GEOSisValid_r(h, g) == 1) {
            GEOSGeom_destroy_r(h, g);
            continue;
        }
        reason = GEOSisValidReason_r(h, g);
        if (!do_repair) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "%s: feature %lld%s%s%s: invalid polygon: %s; fix it in a GIS or "
                               "set invalid: repair",
                               layer->source, layer->fid[i], layer->keys ? " (key \"" : "",
                               layer->keys ? layer->keys[i] : "", layer->keys ? "\")" : "",
                               reason ? reason : "unknown reason");
            GEOSFree_r(h, reason);
            GEOSGeom_destroy_r(h, g);
            goto done;
        }
        if (fixed == 0)
            snprintf(first, sizeof(first), "feature %lld: %s", layer->fid[i],
                     reason ? reason : "invalid");
        GEOSFree_r(h, reason);
        fixedg = repair(h, g);
        GEOSGeom_destroy_r(h, g);
        if (fixedg == NULL || GEOSisEmpty_r(h, fixedg) == 1) {
            if (fixedg)
                GEOSGeom_destroy_r(h, fixedg);
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "%s: feature %lld: invalid polygon that cannot be repaired",
                               layer->source, layer->fid[i]);
            goto done;
        }
        wkb = GEOSWKBWriter_write_r(h, writer, fixedg, &size);
        GEOSGeom_destroy_r(h, fixedg);
        if (wkb == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        free(layer->wkb[i]);
        layer->wkb[i] = malloc(size);
        if (layer->wkb[i] == NULL) {
            GEOSFree_r(h, wkb);
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        memcpy(layer->wkb[i], wkb, size);
        layer->wkb_size[i] = size;
        GEOSFree_r(h, wkb);
        fixed++;
    }
    if (fixed > 0)
        kz_ctx__log(ctx, KZ_LOG_WARN, "%s: repaired %zu invalid polygon(s) with GEOS MakeValid (%s%s)",
                    layer->source, fixed, first, fixed > 1 ? ", ..." : "");
    if (repaired)
        *repaired = fixed;
done:
    if (reader)
        GEOSWKBReader_destroy_r(h, reader);
    if (writer)
        GEOSWKBWriter_destroy_r(h, writer);
    return rc;
}
