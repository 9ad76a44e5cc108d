/*
 * Vector layers: features read from any OGR source (Shapefile, GeoPackage,
 * GeoJSON, ...) into memory, reprojected to a target CRS. Used by the
 * imports and by the analysis commands that work on any layer.
 */
#ifndef KIEZ_LAYER_H
#define KIEZ_LAYER_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_layer kz_layer;

/* What geometries a layer must have. */
enum kz_geom_kind {
    KZ_GEOM_AREAS = 0, /* Polygon or MultiPolygon, kept as MultiPolygon */
    KZ_GEOM_POINTS = 1 /* Point or MultiPoint (first point; more parts warn) */
};

typedef struct kz_layer_options {
    int kind;                  /* enum kz_geom_kind */
    const char *key_field;     /* field with the feature key; NULL = none */
    const char *label_field;   /* field with a display name; NULL = none */
    const char *const *fields; /* further fields to read as text */
    size_t n_fields;
    const char *crs;        /* reproject to this CRS ("EPSG:25833", WKT...); NULL = keep */
    int key_width;          /* > 0: normalise keys (kz_key_normalise) */
    const char *x_field;    /* CSV sources: column of the x (longitude) coordinate; NULL = none */
    const char *y_field;    /* CSV sources: column of the y (latitude) coordinate */
    const char *source_crs; /* CRS of sources that declare none (CSV with coordinates) */
    const char *const *fix_keys; /* pairs (feature id as text, key): documented corrections */
    size_t n_fix_keys;           /* number of pairs */
} kz_layer_options;

/**
 * Read every feature of an OGR source. `source` is "path" or
 * "path|layername=L" (the first layer when no name is given).
 *
 * Every feature must have a geometry of the requested kind (Polygon and
 * MultiPolygon for areas, promoted to MultiPolygon; Point and MultiPoint for
 * points), a key when key_field is set, and the source must have a CRS when
 * `crs` is set. Errors name the source, the feature (FID and key) and what
 * is wrong. Geometry validity is not checked here (see kz_layer_check_areas).
 *
 * \param out receives the layer; caller frees with kz_layer_free().
 * \return KZ_OK, KZ_E_IO (cannot open), KZ_E_INPUT (missing layer or field,
 *         bad geometry, no CRS), KZ_E_NOMEM.
 */
KZ_API int kz_layer_read(kz_layer **out, kz_ctx *ctx, const char *source,
                         const kz_layer_options *opts);

/* Free a layer. NULL is a no-op. */
KZ_API void kz_layer_free(kz_layer *layer);

/* Number of features. */
KZ_API size_t kz_layer_count(const kz_layer *layer);

/* Key / label of feature i (borrowed), or NULL when not read. */
KZ_API const char *kz_layer_key(const kz_layer *layer, size_t i);
KZ_API const char *kz_layer_label(const kz_layer *layer, size_t i);

/* Text of further field f of feature i (borrowed); NULL when the field is
 * null in the source. */
KZ_API const char *kz_layer_field(const kz_layer *layer, size_t i, size_t f);

/* The OGR feature id of feature i. */
KZ_API long long kz_layer_fid(const kz_layer *layer, size_t i);

/* Areas: the MultiPolygon of feature i as ISO WKB (borrowed). */
KZ_API const unsigned char *kz_layer_wkb(const kz_layer *layer, size_t i, size_t *size);

/* Points: coordinates of feature i. */
KZ_API void kz_layer_point(const kz_layer *layer, size_t i, double *x, double *y);

/* Points: arrays of all x and y coordinates (borrowed, kz_layer_count long). */
KZ_API const double *kz_layer_xs(const kz_layer *layer);
KZ_API const double *kz_layer_ys(const kz_layer *layer);

/* The layer's CRS after reprojection, as WKT (borrowed); "" if none. */
KZ_API const char *kz_layer_crs_wkt(const kz_layer *layer);

/* The source string the layer was read from (borrowed). */
KZ_API const char *kz_layer_source(const kz_layer *layer);

/**
 * Check that the polygons of an area layer are valid (GEOS). Invalid ones
 * are repaired with GEOS MakeValid when `repair` is set (counted in one
 * warning that names the features), else the first one is an error naming
 * the feature and the reason.
 * \param repaired receives the number of repaired features (may be NULL).
 * \return KZ_OK, KZ_E_INPUT, KZ_E_NOMEM, KZ_E_INTERNAL.
 */
KZ_API int kz_layer_check_areas(kz_layer *layer, kz_ctx *ctx, int repair, size_t *repaired);

/* Types of the columns kz_layer_write() adds. */
enum kz_column_type { KZ_COL_REAL = 0, KZ_COL_INTEGER = 1, KZ_COL_TEXT = 2 };

/* One attribute column: `name` and one of the arrays (kz_layer_count long),
 * by type. A REAL that is NaN and a TEXT that is NULL are written as null. */
typedef struct kz_column {
    const char *name;
    int type; /* enum kz_column_type */
    const double *reals;
    const long long *integers;
    const char *const *texts;
} kz_column;

/**
 * Write the features of `layer` (key as "key", label as "name" when read,
 * then `columns`) with their geometry to a new file. The driver follows the
 * extension: .gpkg (GeoPackage; `layer_name` names the layer, an existing
 * file gets the layer added or replaced), .geojson (RFC 7946: WGS 84,
 * 7 decimals), .shp, .csv (no geometry). Written to a temporary name and
 * renamed, so a failure leaves no partial file.
 *
eturn KZ_OK, KZ_E_USAGE (unknown extension), KZ_E_IO, KZ_E_NOMEM.
 */
KZ_API int kz_layer_write(kz_ctx *ctx, const kz_layer *layer, const char *path,
                          const char *layer_name, const kz_column *columns, size_t n_columns);

#ifdef __cplusplus
}
#endif
#endif
