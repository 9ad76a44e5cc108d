/*
 * The HTML atlas: a self-contained static site (no server, no network, no
 * script) that planners read in any browser.
 *
 *   index.html          one SVG choropleth per indicator of the level (the
 *                       classes and colours of the QGIS styles, style.h),
 *                       and a table of the areas linking to their pages;
 *   gebiet-<key>.html   one page per area: its position in the city and a
 *                       detail map with the facilities inside it, its
 *                       indicators against the parent area and the city
 *                       with traffic lights and sparklines of the periods,
 *                       and the list of facilities;
 *   umriss.svg          the outlines of the locator maps, shared by the pages.
 *
 * Traffic light of an indicator of an area: d = (x − c) / sd, x the area's
 * value, c the city's (the top level, rank 0), sd the population standard
 * deviation of the indicator over the areas of the level, all at the
 * level's latest period. |d| <= 1: "im Rahmen" (grey); otherwise "deutlich
 * höher" (▲) or "deutlich niedriger" (▼), red when that is unfavourable by
 * the indicator's polarity, blue when favourable, purple for neutral
 * indicators. The symbol and the words carry the meaning, not the colour
 * alone.
 */
#ifndef KIEZ_REPORT_H
#define KIEZ_REPORT_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Write the atlas into `out_dir` (created if missing; files of an earlier
 * atlas are replaced, each file atomically): index.html and one page per
 * area of `level`, or of the finest level (highest rank) when NULL.
 * \return KZ_OK, KZ_E_USAGE (no such level, no levels), KZ_E_IO (cannot
 *         write), KZ_E_NOMEM, KZ_E_INTERNAL.
 */
KZ_API int kz_report_write(kz_db *db, kz_ctx *ctx, const char *out_dir, const char *level);

#ifdef __cplusplus
}
#endif
#endif
