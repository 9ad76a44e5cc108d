/*
 * Spatial statistics and correlation matrices configured in the project
 * file (spatial[], correlations[]), run by kz_compute_derived() after the
 * indices and trends. Internal to the library.
 */
#ifndef KZ_COMPUTE_SPATIAL_H
#define KZ_COMPUTE_SPATIAL_H

#include "kiez/db.h"
#include "kiez/project.h"
#include "kiez/weights.h"

#include <stddef.h>

/*
 * For every spatial[] item: global Moran's I of each indicator (statistics
 * "moran") and LISA columns lisa_<ind>_i, _p, _class; for every
 * correlations[] item: Pearson and/or Spearman matrices (statistics
 * "correlation:pearson" / "correlation:spearman", subject "A|B" for each
 * pair in list order, measures r, n, p). Earlier results of these analyses
 * are replaced. Areas without a value are left out (weights are restricted
 * to the areas with values; correlations delete pairwise).
 * \return KZ_OK, KZ_E_INPUT (no values, constant values, fewer than 4
 *         areas with neighbours, naming item, indicator and level),
 *         KZ_E_USAGE, KZ_E_IO, KZ_E_NOMEM.
 */
int kz_compute__spatial(kz_db *db, kz_ctx *ctx, const kz_project *p);

/*
 * The weights among the areas i with keep[i] != 0, from `full` (n areas,
 * styled KZ_STYLE_B so that its weights are the raw ones): links to left-out areas are dropped, the
 * raw weights of the others kept, the result styled `style`. An area whose neighbours are all left
 * out becomes an island. For contiguity and distance bands this equals building the weights from
 * the kept areas alone; k nearest neighbours must be rebuilt instead. \param out receives the
 * weights over m = sum(keep) areas; caller frees with kz_weights_free(). \param map caller's array
 * of n entries; map[j] receives the index in `full` of area j of the result, for j < m. \return
 * KZ_OK, KZ_E_NOMEM, KZ_E_USAGE (full not styled B, unknown style).
 */
int kz_compute__restrict_weights(kz_weights **out, size_t *m, size_t *map, kz_ctx *ctx,
                                 const kz_weights *full, const unsigned char *keep, int style);

#endif
