/*
 * Exports of a monitoring database (DESIGN.md, "Output contract"):
 * a GeoPackage with one layer per level (key, name, parent_key, one column
 * per indicator for the level's latest period), a long table
 * <level>_series, the object layers, indicator_catalogue, findings
 * (completeness report) and statistics (results that are not per area);
 * and one RFC 7946 GeoJSON per level.
 *
 * Files are written under a temporary name and renamed when complete, so
 * a failure never leaves a partial output.
 */
#ifndef KIEZ_EXPORT_H
#define KIEZ_EXPORT_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write the GeoPackage `path` with its QGIS styles (kz_export_styles),
 * replacing an existing file only when the new one is complete.
 * \return KZ_OK, KZ_E_IO, KZ_E_NOMEM, KZ_E_INTERNAL. */
KZ_API int kz_export_gpkg(kz_db *db, kz_ctx *ctx, const char *path);

/* Write <dir>/<level>.geojson for every level (WGS 84, 7 decimals) and
 * the <level>.qml sidecars. */
KZ_API int kz_export_geojson(kz_db *db, kz_ctx *ctx, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
