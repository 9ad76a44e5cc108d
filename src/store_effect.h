/*
 * The register of measures in the store (tables measure and measure_area,
 * src/store_effect.c) and its GeoPackage layer `measures`
 * (src/export_measures.c). Internal; see include/kiez/effect.h.
 */
#ifndef KZ_STORE_EFFECT_H
#define KZ_STORE_EFFECT_H

#include "kiez/ctx.h"
#include "kiez/db.h"

#include <stddef.h>

/* One registered measure. Lists (indicators, match_on) are comma-separated
 * identifiers. Owned strings; free with kz_store__measure_dispose(). */
typedef struct kz_store_measure {
    char *id, *name, *kind, *level, *start, *end, *indicators, *comparison, *match_on;
    double budget; /* NaN = not given */
    int k;         /* nearest: comparison areas */
    int illustrative;
    char **keys; /* treated areas */
    size_t n_keys;
} kz_store_measure;

void kz_store__measure_dispose(kz_store_measure *m);

/* Remove the register and the statistics of analyses "effect:*". */
int kz_store__clear_measures(kz_db *db, kz_ctx *ctx);

/* Add a measure and its areas. A duplicate id is KZ_E_INPUT. */
int kz_store__put_measure(kz_db *db, kz_ctx *ctx, const kz_store_measure *m);

/* Read a measure by id; KZ_E_USAGE (naming the ids there are) when there
 * is none, KZ_E_IO when the database has no register. */
int kz_store__get_measure(kz_db *db, kz_ctx *ctx, const char *id, kz_store_measure *out);

/* Every measure (id order) with the union of its areas' polygons as WKB
 * (NULL when none of its areas has a geometry). */
typedef int (*kz_store_measure_fn)(const kz_store_measure *m, const unsigned char *wkb,
                                   size_t wkb_size, void *payload);
int kz_store__each_measure(kz_db *db, kz_ctx *ctx, kz_store_measure_fn fn, void *payload);

/* Write the layer `measures` (polygons of the treated areas, one feature
 * per measure, with its attributes) into an open GDAL dataset `ds`
 * (a GDALDatasetH), when the register has measures. export_measures.c. */
int kz_export__measures(void *ds, kz_db *db, kz_ctx *ctx, const char *path);

/* The pipeline step (compute_effect.c, called by kz_compute_derived()):
 * store the project's register, evaluate every measure on each of its
 * target indicators into statistics rows "effect:<id>", and the derived
 * column <id>_treated. Earlier register and results are replaced. */
struct kz_project;
int kz_compute__effects(kz_db *db, kz_ctx *ctx, const struct kz_project *p);

#endif
