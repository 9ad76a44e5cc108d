/*
 * Coverage kernels: points per area, distance to the nearest facility, and
 * two-step floating catchment area accessibility (2SFCA / E2SFCA).
 *
 * The kernels work on plain arrays: areas as WKB (Multi)Polygons (e.g. from
 * kz_layer_wkb()), points as x / y arrays in the same projected CRS
 * (distances are straight lines in its unit, usually metres). They use all
 * cores when `threads` is 0 and give the same result for any thread count.
 */
#ifndef KIEZ_COVERAGE_H
#define KIEZ_COVERAGE_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Areas: n WKB Polygons or MultiPolygons (borrowed). */
typedef struct kz_area_set {
    const unsigned char *const *wkb;
    const size_t *wkb_size;
    size_t n;
} kz_area_set;

/* Points: n coordinates (borrowed) with an optional weight per point
 * (capacity, places, population; NULL = 1 each) and an optional category
 * index per point (0 .. n_categories-1; a negative index = no category;
 * NULL = none). */
typedef struct kz_point_set {
    const double *x;
    const double *y;
    const double *weight;
    const int *category;
    size_t n;
} kz_point_set;

/**
 * Locate every point in the areas: out_area[i] receives the index of the
 * area that covers point i (interior or boundary), or -1 when none does.
 *
 * Boundary rule: a point covered by several areas (on a shared boundary or
 * vertex, or in an overlap) belongs to the one with the smallest index, so
 * every point is counted exactly once. "Covered" is decided exactly as GEOS
 * Covers decides it: a fast crossing-number test answers when its floating
 * point error bound proves the answer, and GEOS decides the rest.
 *
 * \param out_area  caller-allocated, points->n entries.
 * \param threads   number of threads, 0 = one per core.
 * \param on_boundary receives the number of points covered by more than one
 *        area (resolved by the rule above); may be NULL.
 * \return KZ_OK, KZ_E_INPUT (unreadable WKB or not a polygon: names the
 *         area index), KZ_E_NOMEM, KZ_E_INTERNAL (GEOS failure).
 */
KZ_API int kz_coverage_locate(int *out_area, kz_ctx *ctx, const kz_area_set *areas,
                              const kz_point_set *points, int threads, size_t *on_boundary);

/* Points per area: counts, weight sums, counts per category. */
typedef struct kz_count {
    size_t n_areas;
    size_t n_categories;
    long long *count;          /* [n_areas] points per area */
    double *weight;            /* [n_areas] sum of point weights (capacities) */
    long long *category_count; /* [n_areas * n_categories], row per area; NULL without categories */
    double *category_weight;   /* [n_areas * n_categories]; NULL without categories */
    long long outside;         /* points in no area */
    long long on_boundary;     /* points covered by several areas (see kz_coverage_locate) */
} kz_count;

/**
 * Count points per area (kz_coverage_locate, then tally).
 * \param out  receives the counts; caller frees with kz_count_free().
 * \param point_area optional, caller-allocated points->n entries: the area
 *        of each point (-1 = none); NULL if not wanted.
 * \param n_categories number of categories when points->category is set.
 * \return as kz_coverage_locate(); KZ_E_USAGE for a category index >= n_categories.
 */
KZ_API int kz_coverage_count(kz_count **out, kz_ctx *ctx, const kz_area_set *areas,
                             const kz_point_set *points, size_t n_categories, int threads,
                             int *point_area);

/* Free counts. NULL is a no-op. */
KZ_API void kz_count_free(kz_count *count);

/* Options of kz_coverage_nearest(). Zero-initialise, then set. */
typedef struct kz_nearest_options {
    double within;          /* radius for the share within (> 0), 0 = no share */
    int category;           /* use only facilities of this category; -1 = all */
    const int *demand_area; /* optional area index per demand point (-1 = none) */
    size_t n_areas;         /* number of areas when demand_area is set */
    int threads;            /* 0 = one per core */
} kz_nearest_options;

typedef struct kz_nearest {
    size_t n_demand;
    size_t n_areas;
    double *distance;    /* [n_demand] to the nearest facility; INFINITY when there is none */
    long long *facility; /* [n_demand] index of the nearest facility, -1 when none */
    double *area_weight; /* [n_areas] population (sum of demand weights) */
    double *area_mean;   /* [n_areas] weighted mean distance; NaN without population */
    double *area_within; /* [n_areas] weighted share (0..1) within `within`; NaN without
                            population or without `within` */
    double total_weight; /* over all demand points */
    double mean;         /* weighted mean distance over all demand points */
    double within_share; /* weighted share within `within` over all demand points */
} kz_nearest;

/**
 * Distance from every demand point to the nearest facility (straight line),
 * and per area the population-weighted mean distance
 *   mean_a = Σ_{i in a} P_i d_i / Σ_{i in a} P_i
 * and the share within R
 *   share_a = Σ_{i in a, d_i <= R} P_i / Σ_{i in a} P_i
 * (the BBSR reports e.g. the share of the population within 1 km of a
 * primary school). Ties go to the facility with the smaller index.
 * \param out receives the result; caller frees with kz_nearest_free().
 * \return KZ_OK, KZ_E_USAGE (bad options), KZ_E_NOMEM.
 */
KZ_API int kz_coverage_nearest(kz_nearest **out, kz_ctx *ctx, const kz_point_set *demand,
                               const kz_point_set *facilities, const kz_nearest_options *opts);

/* Free a nearest result. NULL is a no-op. */
KZ_API void kz_nearest_free(kz_nearest *nearest);

/* Options of kz_coverage_access(). Zero-initialise, then set. */
typedef struct kz_access_options {
    double radius; /* catchment d0 (> 0) */
    /* E2SFCA step decay (Luo & Qi 2009): zone r covers distances
     * (limit[r-1], limit[r]] and has weight weight[r]; limits ascending, the
     * last equal to radius. n_zones = 0: plain 2SFCA, W(d) = 1 for d <= d0. */
    const double *zone_limit;
    const double *zone_weight;
    size_t n_zones;
    const int *demand_area; /* optional area index per demand point (-1 = none) */
    size_t n_areas;
    int threads; /* 0 = one per core */
} kz_access_options;

typedef struct kz_access {
    size_t n_demand;
    size_t n_facilities;
    size_t n_areas;
    double *ratio;          /* [n_facilities] R_j; NaN when j reaches no demand */
    double *access;         /* [n_demand] A_i (0 when no facility reaches i) */
    double *area_weight;    /* [n_areas] population */
    double *area_access;    /* [n_areas] population-weighted mean of A_i; NaN without population */
    double supply_reached;  /* Σ S_j over facilities that reach some demand */
    double supply_total;    /* Σ S_j over all facilities */
    double weighted_access; /* Σ P_i A_i; equals supply_reached up to rounding */
    size_t unreached_facilities; /* facilities that reach no demand */
    size_t unserved_demand;      /* demand points no facility reaches */
} kz_access;

/**
 * Two-step floating catchment area accessibility, 2SFCA (Luo & Wang 2003)
 * and, with zones, the enhanced E2SFCA (Luo & Qi 2009):
 *   step 1: R_j = S_j / Σ_{k: d_kj <= d0} W(d_kj) P_k
 *   step 2: A_i = Σ_{j: d_ij <= d0} W(d_ij) R_j
 * with supply S_j = facility weight, demand P_k = demand weight. Then
 * Σ_i P_i A_i = Σ_j S_j over the facilities that reach some demand.
 * \param out receives the result; caller frees with kz_access_free().
 * \return KZ_OK, KZ_E_USAGE (bad radius or zones), KZ_E_NOMEM.
 */
KZ_API int kz_coverage_access(kz_access **out, kz_ctx *ctx, const kz_point_set *demand,
                              const kz_point_set *facilities, const kz_access_options *opts);

/* Free an access result. NULL is a no-op. */
KZ_API void kz_access_free(kz_access *access);

#ifdef __cplusplus
}
#endif
#endif
