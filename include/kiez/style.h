/*
 * Map styles of indicators: classes, colour-blind-safe palettes and QGIS
 * styles (QML), shared by the GeoPackage/GeoJSON exports and the HTML atlas
 * so that a class has the same colour everywhere.
 *
 * The rules (docs in README, "Styles"):
 *  - Scheme. An indicator is DIVERGING when it is centred on zero by
 *    construction: its unit is one of "z", "sd", "SD", "Index", "pp",
 *    "Prozentpunkte", "%-Punkte" (alone or followed by "/..." or " ...",
 *    e.g. "Prozentpunkte/Jahr"), or its name starts with "z_" or contains
 *    "zscore", "index", "status", "dynamic", "change", "_chg", "diff",
 *    "delta", "trend", "slope", "cagr", or ends with "_z" or "_pp". Every other
 *    indicator (shares, counts, rates, coverage) is SEQUENTIAL.
 *  - Classes. SEQUENTIAL: 5 quantile classes (kz_classify_breaks, fewer on
 *    ties). DIVERGING: 5 classes with inner breaks at ±0.5·s and ±1.5·s, s
 *    the root mean square of the values (their spread around zero; s = 1 for
 *    z-scores gives the usual ±0.5/±1.5 sd breaks) and outer breaks at the
 *    data range but at least ±2.5·s, so the middle class holds zero and
 *    gets the neutral colour.
 *  - Palettes (ColorBrewer, colour-blind safe), listed from low to high
 *    values. Red always means "bad":
 *      sequential, polarity neutral:   YlGnBu
 *      sequential, polarity negative:  YlOrRd (higher is worse: high = red)
 *      sequential, polarity positive:  YlOrRd reversed (low = red)
 *      diverging,  polarity neutral:   PuOr (orange below, purple above zero)
 *      diverging,  polarity negative:  RdBu reversed (above zero = red)
 *      diverging,  polarity positive:  RdBu (below zero = red)
 *  - Legend labels: "12,3 – 15,0 % (108)": German number format, the unit,
 *    and the number of areas in the class.
 */
#ifndef KIEZ_STYLE_H
#define KIEZ_STYLE_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Number of classes of every map. */
#define KZ_STYLE_CLASSES 5

enum kz_style_scheme { KZ_STYLE_SEQUENTIAL = 0, KZ_STYLE_DIVERGING = 1 };

/* What a style needs to know of an indicator (borrowed strings; unit and
 * polarity may be NULL; polarity "neutral", "positive" = higher is better,
 * "negative" = higher is worse). */
typedef struct kz_style_indicator {
    const char *name;  /* field name */
    const char *label; /* human label (alias, legend title); NULL = name */
    const char *unit;
    const char *polarity;
    const char *categories; /* class columns: "1=hoch;2=mittel;..." -> categorical; or NULL */
} kz_style_indicator;

typedef struct kz_style_class {
    double lower, upper; /* lower < x <= upper; the first class includes lower */
    size_t count;        /* areas in the class */
    unsigned char rgb[3];
    char label[160]; /* "12,3 – 15,0 % (108)", UTF-8 */
} kz_style_class;

/* A classified indicator: its classes with colours and legend labels. */
typedef struct kz_style_map {
    int scheme;          /* enum kz_style_scheme */
    const char *palette; /* "YlGnBu", "YlOrRd", "PuOr", "RdBu" (static) */
    int reversed;        /* palette listed from high to low values */
    int decimals;        /* digits after the decimal comma in labels */
    int n_classes;       /* 0 when no value is finite */
    kz_style_class classes[KZ_STYLE_CLASSES];
    size_t n_missing; /* values without class (NaN) */
} kz_style_map;

/* The scheme of an indicator by the naming rules above. */
KZ_API int kz_style_scheme_of(const kz_style_indicator *ind);

/**
 * Classify `values` (NaN = missing) of an indicator and colour the classes.
 * No finite value gives a map with n_classes = 0 (not an error).
 * \return KZ_OK, KZ_E_NOMEM or KZ_E_INTERNAL.
 */
KZ_API int kz_style_classify(kz_style_map *out, kz_ctx *ctx, const kz_style_indicator *ind,
                             const double *values, size_t n);

/* The class of a value by the rule of classify.h, or -1 (NaN, no class). */
KZ_API int kz_style_class_of(const kz_style_map *map, double value);

/* Colour for missing values (light grey), #rrggbb. */
#define KZ_STYLE_MISSING_RGB "#d9d9d9"

/**
 * Format a number the German way: decimal comma, thin no-break space
 * between thousands ("12 345,6"), `decimals` digits (0..6). Like snprintf,
 * returns the length needed; NaN gives "–".
 */
KZ_API int kz_style_format_number(char *out, size_t size, double value, int decimals);

/* A level layer to style: its indicator fields in catalogue order. */
typedef struct kz_style_layer {
    const kz_style_indicator *indicators;
    size_t n_indicators;
    const char *label_field; /* field labelled with area names, e.g. "name" */
    double label_max_scale;  /* labels show when zoomed in beyond 1:label_max_scale */
} kz_style_layer;

/**
 * A QGIS 3 style (QML document) of `layer` showing indicator `indicator`
 * classified as `map`: a graduated renderer (or, without classes, an
 * outline only), scale-dependent labels of the area names, and field
 * aliases from the indicator labels.
 * \param out receives the NUL-terminated document; free with kz_style_qml_free().
 * \return KZ_OK, KZ_E_USAGE (indicator out of range), KZ_E_NOMEM.
 */
KZ_API int kz_style_qml(char **out, kz_ctx *ctx, const kz_style_layer *layer, size_t indicator,
                        const kz_style_map *map);

/* Free a document of kz_style_qml(). NULL is a no-op. */
KZ_API void kz_style_qml_free(char *qml);

/**
 * Write default QGIS styles for every level layer: into the GeoPackage's
 * layer_styles table (gpkg_path may be NULL) and as <dir>/<level>.qml
 * sidecars next to existing <dir>/<level>.geojson files (geojson_dir may
 * be NULL). The default style shows the first indicator of the catalogue;
 * every further indicator gets a non-default style named after it, so
 * QGIS's style manager can switch. Earlier kiez styles of the same layers
 * are replaced; other rows of layer_styles are kept.
 * \return KZ_OK, KZ_E_IO (GeoPackage not writable), KZ_E_NOMEM,
 *         KZ_E_INTERNAL.
 */
KZ_API int kz_export_styles(kz_db *db, kz_ctx *ctx, const char *gpkg_path, const char *geojson_dir);

#ifdef __cplusplus
}
#endif
#endif
