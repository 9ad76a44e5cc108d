/*
 * The monitoring database: one SpatiaLite file holding levels, areas,
 * long-format values with flags, objects, the indicator catalogue, computed
 * indicator values and the provenance of every import.
 * The schema is in docs/database.md and src/store_schema.c.
 */
#ifndef KIEZ_DB_H
#define KIEZ_DB_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_db kz_db;

/* Version of the database schema this library reads and writes. */
#define KZ_SCHEMA_VERSION 3

/**
 * Create a new, empty monitoring database for areas in `crs` ("EPSG:n").
 * Fails if the file exists.
 * \param out receives the handle; caller closes with kz_db_close().
 * \return KZ_OK, KZ_E_USAGE (file exists, CRS not EPSG), KZ_E_IO, KZ_E_NOMEM.
 */
KZ_API int kz_db_create(kz_db **out, kz_ctx *ctx, const char *path, const char *crs);

/**
 * Open an existing monitoring database and check its schema version.
 * \return KZ_OK, KZ_E_IO (missing, unreadable, not a kiez database or a
 *         different schema version), KZ_E_NOMEM.
 */
KZ_API int kz_db_open(kz_db **out, kz_ctx *ctx, const char *path);

/* Close the database. NULL is a no-op. */
KZ_API void kz_db_close(kz_db *db);

/* The CRS of the database's geometries ("EPSG:n"); borrowed. */
KZ_API const char *kz_db_crs(const kz_db *db);

/* The database file path; borrowed. */
KZ_API const char *kz_db_path(const kz_db *db);

#ifdef __cplusplus
}
#endif
#endif
