/*
 * Demand points: population placed on points, the input of the distance
 * and 2SFCA kernels (coverage.h).
 *
 * Three ways to get them:
 *   - from areas with a population each (kz_demand_from_areas): spread
 *     uniformly over the area on a regular grid (cell centres inside the
 *     polygon), or one point per area (centroid or point on surface);
 *   - from a population grid in the Zensus format (kz_demand_read_zensus:
 *     cell ids like CRS3035RES100mN2689000E4337000, EPSG:3035), or from
 *     address points with counts (kz_demand_read_points: any OGR point
 *     layer and a count field);
 *   - either of the latter distributed over areas (kz_demand_distribute):
 *     each area's population is shared among the points inside it in
 *     proportion to their counts (dasymetric mapping), so the points carry
 *     the areas' official figures and the source only says where people live.
 *
 * Every result states how it was made (kz_demand.method), so outputs can
 * say which method was used.
 */
#ifndef KIEZ_DEMAND_H
#define KIEZ_DEMAND_H

#include "kiez/common.h"
#include "kiez/coverage.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How kz_demand_from_areas() places an area's population. */
enum kz_demand_method {
    KZ_DEMAND_GRID = 0,     /* centres of grid cells inside the area, equal weights */
    KZ_DEMAND_CENTROID = 1, /* one point at the area's centroid (may lie outside it) */
    KZ_DEMAND_SURFACE = 2,  /* one point on the area's surface (GEOS PointOnSurface) */
    KZ_DEMAND_ZENSUS = 3,   /* a Zensus population grid (kz_demand_read_zensus) */
    KZ_DEMAND_POINTS = 4    /* address points with counts (kz_demand_read_points) */
};

typedef struct kz_demand {
    size_t n;               /* number of points */
    double *x, *y;          /* coordinates in the target CRS */
    double *weight;         /* population of each point */
    int *area;              /* area index of each point, -1 = none (raw source points) */
    size_t n_areas;         /* number of areas the points were made for; 0 = raw */
    int method;             /* enum kz_demand_method */
    double cell;            /* grid: cell size; Zensus: resolution of the grid; else 0 */
    size_t fallback_areas;  /* areas with population but no grid cell centre or source
                               point inside: one point on surface each, so nothing is lost */
    size_t skipped_areas;   /* areas without a usable population (missing or negative) */
    size_t unplaced;        /* source points in no area (kz_demand_distribute) or with an
                               unusable count (readers) */
    double unplaced_weight; /* their counts */
    char description[320];  /* the method in words, for outputs */
} kz_demand;

/**
 * Place the population of each area on points.
 *
 * KZ_DEMAND_GRID: the cells of a grid aligned to multiples of `cell` in the
 * CRS of the areas; every cell centre covered by an area (by the rule of
 * kz_coverage_locate: a centre on a shared boundary belongs to the area
 * with the smaller index) becomes a point of that area, and the area's
 * population is divided equally among its points (the last point takes the
 * rounding remainder, so the weights of an area add up to its population).
 * An area with population but no cell centre inside gets one point on its
 * surface (GEOSPointOnSurface), counted in fallback_areas.
 * KZ_DEMAND_CENTROID / KZ_DEMAND_SURFACE: one point per area with the whole
 * population.
 *
 * Areas whose population is NaN or negative get no points (skipped_areas);
 * areas with population 0 get none either.
 *
 * \param out receives the points (in grid order, row by row from the south,
 *        then fallback points by area); caller frees with kz_demand_free().
 * \param population one value per area.
 * \param cell grid cell size in CRS units (> 0) for KZ_DEMAND_GRID.
 * \param threads for the point-in-area tests, 0 = one per core.
 * \return KZ_OK, KZ_E_USAGE (bad method or cell, a grid of more than 2^31
 *         candidate cells), KZ_E_INPUT (unreadable WKB), KZ_E_NOMEM,
 *         KZ_E_INTERNAL.
 */
KZ_API int kz_demand_from_areas(kz_demand **out, kz_ctx *ctx, const kz_area_set *areas,
                                const double *population, int method, double cell, int threads);

/**
 * Parse a Zensus grid cell id such as "CRS3035RES100mN2689000E4337000"
 * (also "RES1000m", "RES1km", "RES10km"): the EPSG code, the cell size in
 * metres and the lower-left corner (easting, northing).
 * \return KZ_OK or KZ_E_INPUT when the text is not such an id.
 */
KZ_API int kz_demand_parse_grid_id(int *epsg, double *size, double *east, double *north,
                                   const char *id);

/**
 * Read a population grid in the Zensus CSV format (e.g. Zensus 2011/2022
 * "Bevölkerung im 100-Meter-Gitter": Gitter_ID_100m;x_mp_100m;y_mp_100m;
 * Einwohner). The cell id column is the first whose name starts with
 * "Gitter_ID" (any case), else the first column. Each cell becomes a point
 * at its centre (lower-left corner + size/2), reprojected from the grid's
 * CRS to `crs` with PROJ (axis order normalised for visualisation: x
 * easting / longitude). Counts that are missing, suppressed ("." or -1 in
 * Zensus 2011) or negative are left out and counted in `unplaced`; zero
 * counts are dropped silently.
 * \param count_column column with the counts; NULL = "Einwohner".
 * \param crs target CRS, e.g. "EPSG:25833".
 * \param out receives raw points (area -1); caller frees with kz_demand_free().
 * \return KZ_OK, KZ_E_IO, KZ_E_INPUT (no such column, a bad cell id: names
 *         file and line), KZ_E_USAGE (unknown CRS), KZ_E_NOMEM.
 */
KZ_API int kz_demand_read_zensus(kz_demand **out, kz_ctx *ctx, const char *path,
                                 const char *count_column, const char *crs);

/**
 * Read address points with counts from any OGR point layer ("path" or
 * "path|layername=L"), reprojected to `crs`. Counts as in kz_value_parse()
 * with '.' as decimal; unreadable or negative counts are left out and
 * counted in `unplaced`.
 * \param out receives raw points (area -1); caller frees with kz_demand_free().
 * \return as kz_layer_read().
 */
KZ_API int kz_demand_read_points(kz_demand **out, kz_ctx *ctx, const char *source,
                                 const char *count_field, const char *crs);

/**
 * Distribute the population of each area over the source points inside it,
 * in proportion to their weights (dasymetric):
 *   w'_i = P_a × w_i / Σ_{k in a} w_k      for point i in area a,
 * so the weights of an area add up to P_a. Points in no area are dropped
 * (counted in `unplaced`); an area with population but no source weight
 * inside gets one point on its surface (fallback_areas). The description
 * of `points` is carried over.
 * \param out receives the points; caller frees with kz_demand_free().
 * \return as kz_demand_from_areas().
 */
KZ_API int kz_demand_distribute(kz_demand **out, kz_ctx *ctx, const kz_area_set *areas,
                                const double *population, const kz_demand *points, int threads);

/* The points as a point set for the coverage kernels (borrowed arrays). */
KZ_API kz_point_set kz_demand_point_set(const kz_demand *demand);

/* Free demand points. NULL is a no-op. */
KZ_API void kz_demand_free(kz_demand *demand);

#ifdef __cplusplus
}
#endif
#endif
