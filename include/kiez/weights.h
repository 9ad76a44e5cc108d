/*
 * Spatial weights: who is whose neighbour, and how much.
 *
 * A kz_weights holds a sparse n x n matrix in compressed rows (CSR): for
 * area i its neighbours j (ascending) and the weight w_ij. Every weights
 * object keeps its raw weights (1 for contiguity, k nearest neighbours and
 * distance bands; the third column of a GWT file) and the current style:
 *
 *   KZ_STYLE_B  binary / raw:    w_ij = raw_ij
 *   KZ_STYLE_W  row-standardised: w_ij = raw_ij / sum_k raw_ik
 *
 * as spdep nb2listw(style = "B" / "W") and PySAL w.transform = "b" / "r".
 *
 * Islands (areas without neighbours) keep a row of zeros. The statistics
 * (moran.h) treat them as spdep does with zero.policy = TRUE: their lag is
 * 0, and the global test uses n reduced by the number of islands
 * (spdep adjust.n = TRUE). Building weights with islands logs one warning
 * with their count and keys.
 */
#ifndef KIEZ_WEIGHTS_H
#define KIEZ_WEIGHTS_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/layer.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_weights kz_weights;

/* How neighbours are found. */
enum kz_weights_kind {
    KZ_WEIGHTS_QUEEN = 0, /* polygons whose boundaries come within `tol` */
    KZ_WEIGHTS_ROOK = 1,  /* polygons sharing a boundary stretch (see below) */
    KZ_WEIGHTS_KNN = 2,   /* k nearest centroids */
    KZ_WEIGHTS_DIST = 3   /* centroids within a distance band */
};

/* How weights are scaled. */
enum kz_weights_style {
    KZ_STYLE_B = 0, /* binary (raw) */
    KZ_STYLE_W = 1  /* row-standardised */
};

/*
 * Contiguity rules (GEOS, coordinates in CRS units):
 *   queen: i and j are neighbours if the distance between the polygons is
 *          at most `tol` (tol = 0: they intersect, e.g. touch in a point).
 *   rook:  queen neighbours that share at least two distinct boundary
 *          points: vertices of either polygon that lie within `tol` of the
 *          other polygon, counted once when closer than or equal to `tol`
 *          to each other. This is spdep poly2nb's rule ("more than one
 *          shared boundary point", snap = tol), extended to vertices that
 *          lie on the other polygon's edges (T-junctions).
 * A snapping tolerance of a few centimetres to a metre bridges the slivers
 * and tiny gaps of real municipal boundaries; spdep's default is
 * sqrt(DBL_EPSILON) ~ 1.5e-8.
 *
 * Points (centroids of the polygons, GEOS GEOSGetCentroid):
 *   knn:  the k nearest other points (Euclidean); ties at the k-th distance
 *         are broken by the lower index. Not symmetric in general.
 *   dist: all other points at a distance <= `distance` (PySAL DistanceBand;
 *         spdep dnearneigh(d1 = 0) differs only for coincident points,
 *         which it excludes).
 */
/* opts.tol: a millionth of the diagonal of the polygons' extent (1 m for
 * Germany in metres, 4.5 cm for Berlin, about 1 m for degrees at 50 N). */
#define KZ_WEIGHTS_TOL_AUTO (-1.0)

typedef struct kz_weights_options {
    int kind;        /* enum kz_weights_kind */
    double tol;      /* queen/rook snapping tolerance, >= 0, or KZ_WEIGHTS_TOL_AUTO */
    int k;           /* knn: number of neighbours, >= 1 */
    double distance; /* dist: band, > 0 */
    int style;       /* enum kz_weights_style */
} kz_weights_options;

/* The tolerance used by the last contiguity build (after AUTO is resolved). */
KZ_API double kz_weights_tolerance(const kz_weights *w);

/* Defaults: queen, tol 0, k 4, distance 0 (must be set for dist), style W. */
KZ_API void kz_weights_options_init(kz_weights_options *opts);

/**
 * Build weights from the polygons of an area layer (kz_layer_wkb), in the
 * layer's order. Keys (if read) name islands in the warning.
 * \param out receives the weights; caller frees with kz_weights_free().
 * \return KZ_OK, KZ_E_USAGE (bad options), KZ_E_INPUT (unreadable or empty
 *         geometry, naming the feature), KZ_E_NOMEM, KZ_E_INTERNAL (GEOS).
 */
KZ_API int kz_weights_from_layer(kz_weights **out, kz_ctx *ctx, const kz_layer *layer,
                                 const kz_weights_options *opts);

/**
 * Build weights from n polygons given as WKB (Polygon or MultiPolygon).
 * `keys` (n strings, may be NULL) name areas in messages; borrowed.
 * \param out receives the weights; caller frees with kz_weights_free().
 * \return as kz_weights_from_layer().
 */
KZ_API int kz_weights_from_wkb(kz_weights **out, kz_ctx *ctx, const unsigned char *const *wkb,
                               const size_t *wkb_size, size_t n, const char *const *keys,
                               const kz_weights_options *opts);

/**
 * Build k-nearest-neighbour or distance-band weights from n points.
 * opts->kind must be KZ_WEIGHTS_KNN or KZ_WEIGHTS_DIST.
 * \param out receives the weights; caller frees with kz_weights_free().
 * \return KZ_OK, KZ_E_USAGE, KZ_E_NOMEM.
 */
KZ_API int kz_weights_from_points(kz_weights **out, kz_ctx *ctx, const double *x, const double *y,
                                  size_t n, const char *const *keys,
                                  const kz_weights_options *opts);

/**
 * Build weights from neighbour lists in CSR form: the neighbours of i are
 * nbr[offsets[i] .. offsets[i+1]-1] with raw weights `raw` (NULL = all 1).
 * Indexes must be < n, not i, and not repeated within a row.
 * \param out receives the weights (the arrays are copied); caller frees
 *        with kz_weights_free().
 * \return KZ_OK, KZ_E_INPUT (bad index), KZ_E_NOMEM.
 */
KZ_API int kz_weights_from_lists(kz_weights **out, kz_ctx *ctx, size_t n, const size_t *offsets,
                                 const size_t *nbr, const double *raw, int style);

/* Free weights. NULL is a no-op. */
KZ_API void kz_weights_free(kz_weights *w);

/* Number of areas (rows). */
KZ_API size_t kz_weights_n(const kz_weights *w);

/* Number of non-zero weights (links). */
KZ_API size_t kz_weights_links(const kz_weights *w);

/* Neighbours of area i: returns their number and points *ids and *weights
 * (either may be NULL) at borrowed arrays of that length, in the current
 * style; valid until the weights are restyled or freed. */
KZ_API size_t kz_weights_neighbours(const kz_weights *w, size_t i, const size_t **ids,
                                    const double **weights);

/* Number of islands; *ids (may be NULL) receives a borrowed array of them. */
KZ_API size_t kz_weights_islands(const kz_weights *w, const size_t **ids);

/* The current style (enum kz_weights_style). */
KZ_API int kz_weights_style(const kz_weights *w);

/* Change the style (recomputes the weights from the raw ones).
 * \return KZ_OK or KZ_E_USAGE (unknown style). */
KZ_API int kz_weights_set_style(kz_weights *w, kz_ctx *ctx, int style);

/* True if w_ij != 0 exactly when w_ji != 0. */
KZ_API int kz_weights_is_symmetric(const kz_weights *w);

/**
 * Write the neighbour lists as a GAL file (GeoDa / PySAL / spdep
 * write.nb.gal): header "0 n shapefile idvar", then per area "id count" and
 * a line with the neighbours' ids. Ids are `keys` (no white space allowed)
 * or 1-based indexes when keys is NULL.
 * \return KZ_OK, KZ_E_INPUT (key with white space), KZ_E_IO.
 */
KZ_API int kz_weights_write_gal(kz_ctx *ctx, const kz_weights *w, const char *path,
                                const char *const *keys, const char *shapefile, const char *idvar);

/**
 * Write the weights in their current style as a GWT file (as PySAL writes
 * w.weights): header "0 n shapefile idvar", then one line "id_i id_j w_ij"
 * per link (%.17g). Ids as for GAL.
 * \return KZ_OK, KZ_E_INPUT, KZ_E_IO.
 */
KZ_API int kz_weights_write_gwt(kz_ctx *ctx, const kz_weights *w, const char *path,
                                const char *const *keys, const char *shapefile, const char *idvar);

/**
 * Read a GAL or GWT file (told apart by the extension, .gal or .gwt) for n
 * areas. Ids are matched against `keys` (n strings) or, when keys is NULL,
 * must be 1-based indexes 1..n. The header is "n" or "0 n [shapefile
 * [idvar]]"; n must match. Raw weights are 1 (GAL) or the third column
 * (GWT); the style is set to `style`. Lines are at most 64 KiB.
 * \param out receives the weights; caller frees with kz_weights_free().
 * \return KZ_OK, KZ_E_IO (cannot read), KZ_E_INPUT (bad syntax, unknown or
 *         repeated id, naming file and line), KZ_E_USAGE (extension),
 *         KZ_E_NOMEM.
 */
KZ_API int kz_weights_read(kz_weights **out, kz_ctx *ctx, const char *path, const char *const *keys,
                           size_t n, int style);

#ifdef __cplusplus
}
#endif
#endif
