/*
 * Computation inside the monitoring database: aggregation of counts up the
 * area hierarchy and ratio indicators for every level and period.
 */
#ifndef KIEZ_COMPUTE_H
#define KIEZ_COMPUTE_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"
#include "kiez/project.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Sum every variable from each level to its parent level, finest level
 * first, so counts reach every coarser level. A parent's sum is stored only
 * when every child has a value (flag KZ_FLAG_AGGREGATED); otherwise the
 * parent's value is missing (never a partial sum). Values imported for the
 * parent level itself win over sums. Earlier aggregates are replaced.
 *
 * Rates are never averaged: indicators are computed afterwards from the
 * summed numerators and denominators (kz_compute_indicators).
 */
KZ_API int kz_compute_aggregates(kz_db *db, kz_ctx *ctx);

/**
 * Compute every indicator of the catalogue for every area and period:
 * value = numerator / denominator × scale (or numerator × scale without a
 * denominator). Missing or suppressed inputs give a missing or suppressed
 * indicator; a zero denominator gives a missing one.
 */
KZ_API int kz_compute_indicators(kz_db *db, kz_ctx *ctx);

/**
 * Compute the project's derived indicators after the ratio indicators:
 * composite indices (z_<input>, <name>_sum, <name>_index, <name>_class on
 * the index's level and period) and trends (<indicator>_chg and
 * <indicator>_slope on every level, stored at the trend's `to` period).
 * Earlier derived values are replaced.
 */
KZ_API int kz_compute_derived(kz_db *db, kz_ctx *ctx, const kz_project *project);

/* Aggregates, indicators and (with a project) derived indicators, in one
 * transaction. */
KZ_API int kz_compute(kz_db *db, kz_ctx *ctx, const kz_project *project);

#ifdef __cplusplus
}
#endif
#endif
