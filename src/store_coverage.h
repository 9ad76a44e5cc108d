/*
 * Store functions of the coverage step (store_coverage.c) and the step
 * itself (compute_coverage.c). Internal; see store.h for the conventions.
 */
#ifndef KZ_STORE_COVERAGE_H
#define KZ_STORE_COVERAGE_H

/* Not store.h: its include guard does not cover the whole file. */
#include "kiez/ctx.h"
#include "kiez/db.h"

#include <stddef.h>

struct kz_project;

/* The areas of a level in key order, with parent keys and WKB polygons.
 * Free with kz_store__free_areas(). */
typedef struct kz_store_areas {
    char **keys;
    char **parents; /* NULL entries for areas without parent */
    unsigned char **wkb;
    size_t *wkb_size;
    size_t n;
} kz_store_areas;
int kz_store__areas_wkb(kz_db *db, kz_ctx *ctx, const char *level, kz_store_areas *out);
void kz_store__free_areas(kz_store_areas *areas);

/* Latest period with a (non-null) value of `variable` on `level`; "" if none. */
int kz_store__latest_variable_period(kz_db *db, kz_ctx *ctx, const char *level,
                                     const char *variable, char out[11]);

/* Values of `variable` at `period` for keys[0..n) (NaN when missing or
 * suppressed). */
int kz_store__variable_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                              const char *variable, char *const *keys, size_t n, double *values);

/* Demand points (table demand_point, created on first use): replace all. */
int kz_store__clear_demand_points(kz_db *db, kz_ctx *ctx);

/* Add the points of one layer: area_key[area[i]] names the area of point i
 * (area < 0: none); distance and access may be NULL. */
int kz_store__put_demand_points(kz_db *db, kz_ctx *ctx, const char *layer, size_t n,
                                const double *x, const double *y, const double *weight,
                                const int *area, char *const *area_key, const double *distance,
                                const double *access);

/* Names of the demand point layers (none when the table does not exist).
 * Free with kz_store__free_strings(). */
int kz_store__demand_layer_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n);

typedef struct kz_store_demand_point {
    const char *area_key;
    double x, y, weight, distance, access; /* NaN = null */
} kz_store_demand_point;
typedef int (*kz_store_demand_fn)(const kz_store_demand_point *pt, void *payload);
int kz_store__each_demand_point(kz_db *db, kz_ctx *ctx, const char *layer, kz_store_demand_fn fn,
                                void *payload);

/* The coverage step of kz_compute_derived() (compute_coverage.c): every
 * coverage section of the project. */
int kz_compute__coverage(kz_db *db, kz_ctx *ctx, const struct kz_project *p);

#endif
