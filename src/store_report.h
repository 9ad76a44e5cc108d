/*
 * SpatiaLite store: reads for the HTML atlas (store_report.c), beyond the
 * export reads of store.h.
 */
#ifndef KZ_STORE_REPORT_H
#define KZ_STORE_REPORT_H

#include "store.h"

/* A level of the hierarchy; rank 0 is the top (e.g. the city). */
typedef struct kz_store_level {
    char *name, *title, *parent; /* title and parent may be NULL */
    int rank;
} kz_store_level;

/* Every level, by rank then name. Free with kz_store__free_levels(). */
int kz_store__levels(kz_db *db, kz_ctx *ctx, kz_store_level **out, size_t *n);
void kz_store__free_levels(kz_store_level *levels, size_t n);

/* Names and titles (NULL when none) of the object layers, by name; free
 * both with kz_store__free_strings(). */
int kz_store__object_layers(kz_db *db, kz_ctx *ctx, char ***names, char ***titles, size_t *n);

/* A facility (object) covered by an area of a level. */
typedef struct kz_store_facility {
    const char *area_key, *layer, *layer_title, *id, *name, *category;
    double capacity; /* NaN = null */
    double x, y;
} kz_store_facility;
typedef int (*kz_store_facility_fn)(const kz_store_facility *f, void *payload);

/* The objects of every layer inside (ST_Covers: boundary included) each
 * area of `level`, through the R*Tree of object.geom; ordered by area key,
 * layer, name. A point on a shared boundary is reported for both areas. */
int kz_store__each_facility(kz_db *db, kz_ctx *ctx, const char *level, kz_store_facility_fn fn,
                            void *payload);

#endif
