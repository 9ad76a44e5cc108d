/*
 * SpatiaLite store: reads for the HTML atlas (store_report.c), beyond the
 * export reads of store.h.
 */
#ifndef KZ_STORE_REPORT_H
#define KZ_STORE_REPORT_H

#include "store.h"
#include "store_effect.h"

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

/* One evaluation of a registered measure on one target indicator, as the
 * pipeline stored it (compute_effect.c): the statistics rows of analysis
 * "effect:<id>" whose subject is the indicator, with the register entry.
 * Summary values are the rows of those names (period = the start); NaN
 * when a row is missing or NULL. Per-period series share `periods`
 * (ascending ISO dates): mean_treated, mean_comparison, event_<k> and
 * event_<k>_se; event_k[j] is k (the period relative to the start, 0 the
 * first on or after it; LONG_MIN when that period has no event row). */
typedef struct kz_store_effect {
    kz_store_measure m; /* register: name, start, comparison, k, match_on, keys, ... */
    char *indicator;
    double status, did, se, p, df, ci_low, ci_high, n_treated, n_comparison, n_pre, n_post;
    double pretrend_status, pretrend_diff, pretrend_se, pretrend_p, pretrend_violated;
    size_t n_periods;
    char (*periods)[11];
    double *mean_treated, *mean_comparison, *event, *event_se;
    long *event_k;
} kz_store_effect;

/* Every evaluation of a measure registered on `level`, by measure id then
 * indicator (none when the database has no effect statistics). Free with
 * kz_store__free_effects(). */
int kz_store__effects(kz_db *db, kz_ctx *ctx, const char *level, kz_store_effect **out, size_t *n);
void kz_store__free_effects(kz_store_effect *effects, size_t n);

#endif
