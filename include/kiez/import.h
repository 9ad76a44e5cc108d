/*
 * Imports: geometries of the levels, statistical tables and object layers
 * of a project into a monitoring database. Each import runs in one
 * transaction: it lands whole or not at all, and a failed import leaves the
 * database as it was.
 */
#ifndef KIEZ_IMPORT_H
#define KIEZ_IMPORT_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/db.h"
#include "kiez/project.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Import the areas of every level of the project (reprojected to the
 * project CRS, polygons checked, dissolved levels built) and link each level
 * to its parent by key prefix or largest overlap. Areas that fit no parent
 * are reported (warning and finding). Replaces earlier imports of the levels.
 * \return KZ_OK, KZ_E_INPUT (bad source data), KZ_E_IO, KZ_E_USAGE, KZ_E_NOMEM.
 */
KZ_API int kz_import_levels(kz_db *db, kz_ctx *ctx, const kz_project *project);

/**
 * Import table `index` of the project (every file its source matches).
 * Keys are matched to the level's areas; unmatched keys are an error (or a
 * warning with unmatched: warn), duplicate keys always an error; both name
 * file and line.
 */
KZ_API int kz_import_table(kz_db *db, kz_ctx *ctx, const kz_project *project, size_t index);

/* Import object layer `index` of the project (points in the project CRS). */
KZ_API int kz_import_objects(kz_db *db, kz_ctx *ctx, const kz_project *project, size_t index);

/* Register the project's indicator catalogue (replacing the old one). */
KZ_API int kz_import_catalogue(kz_db *db, kz_ctx *ctx, const kz_project *project);

/* Everything above, in order, in one transaction: stops at the first
 * failure and leaves the database as it was. */
KZ_API int kz_import_project(kz_db *db, kz_ctx *ctx, const kz_project *project);

#ifdef __cplusplus
}
#endif
#endif
