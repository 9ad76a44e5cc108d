/*
 * SpatiaLite store: reads for the spatial statistics (compute_spatial.c):
 * a level's polygons as WKB, and the periods an indicator has values in.
 * Part of the store adapter (store*.c); includes no SQLite header, nor
 * store.h (whose include guard does not cover all of it): free the periods
 * with kz_store__free_strings() from store.h.
 */
#ifndef KZ_STORE_SPATIAL_H
#define KZ_STORE_SPATIAL_H

#include "kiez/ctx.h"
#include "kiez/db.h"

#include <stddef.h>

/* The areas of a level in key order (the order of kz_store__level_keys)
 * with their polygons as ISO WKB (SpatiaLite AsBinary). */
typedef struct kz_store_geoms {
    char **keys;
    unsigned char **wkb;
    size_t *wkb_size;
    size_t n;
} kz_store_geoms;

/* Read the polygons of `level`. An area without a geometry is an error
 * (KZ_E_INPUT naming its key). Free with kz_store__free_geoms(). */
int kz_store__level_geoms(kz_db *db, kz_ctx *ctx, const char *level, kz_store_geoms *out);

/* Free what kz_store__level_geoms() read; a zeroed struct is fine. */
void kz_store__free_geoms(kz_store_geoms *g);

/* The periods (ISO dates, descending) with at least one non-null value of
 * `indicator` on `level`. Caller frees with kz_store__free_strings(). */
int kz_store__value_periods(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                            char ***out, size_t *n);

#endif
