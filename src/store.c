/*
 * SpatiaLite store: open/create, schema, transactions.
 *
 * Schema (version 3); keys are TEXT, periods ISO dates:
 *   meta(key PK, value)                     schema_version, crs, created
 *   level(name PK, title, parent, parent_match, source, rank)
 *   area(level, key, name, parent_key, geom MULTIPOLYGON)  PK(level, key)
 *   source(id PK, kind, path, bytes, sha256, records, imported)
 *   value_block(level, period, variable, n, computed, value BLOB, flag BLOB)
 *                          PK(level, period, variable): one variable of every area of a
 *                          level and period, in key order (store_values.c)
 *   object_layer(name PK, title, source, category_field, capacity_field)
 *   object(layer, id, name, category, capacity, capacity_flag, geom POINT) PK(layer, id)
 *   indicator(name PK, label, numerator, denominator, scale, unit, polarity, description, source,
 *             ord, kind, categories, inputs)
 *                          kind: ratio (from the project), zscore, sum, index, class, change,
 *                          slope (derived by compute); categories of a class column:
 *                          "1=hoch;2=mittel;..." (labels in class order); inputs of a
 *                          derived column: the variables it divides by, "a;b" (disclosure)
 *   indicator_block(level, period, indicator, n, value BLOB, numerator BLOB, denominator BLOB,
 *                   flag BLOB)  PK(level, period, indicator): one indicator of every area
 *                          of a level and period, in key order (store_indicators.c)
 *   finding(id PK, kind, source, line, level, key, message)   completeness report
 *   run(id PK, started, finished, project, version, inputs)
 *   statistic(id PK, analysis, level, period, subject, measure, value, note)
 *                                           results that are not per area: Moran's I,
 *                                           correlations, effect estimates, ... (long)
 */
#include "store.h"
#include "ctx_internal.h"
#include "dirs.h"

#include <sqlite3.h>

#include <spatialite.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const schema_sql =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE level(name TEXT PRIMARY KEY, title TEXT, parent TEXT, parent_match TEXT,"
    " source TEXT, rank INTEGER NOT NULL);"
    "CREATE TABLE area(id INTEGER PRIMARY KEY, level TEXT NOT NULL, key TEXT NOT NULL,"
    " name TEXT, parent_key TEXT, UNIQUE(level, key));"
    "CREATE TABLE source(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, path TEXT NOT NULL,"
    " bytes INTEGER, sha256 TEXT, records INTEGER, imported TEXT);"
    /* The variables' values as column blocks (store_values.c). */
    "CREATE TABLE value_block(level TEXT NOT NULL, period TEXT NOT NULL, variable TEXT NOT NULL,"
    " n INTEGER NOT NULL, computed INTEGER NOT NULL, value BLOB NOT NULL, flag BLOB NOT NULL,"
    " PRIMARY KEY(level, period, variable)) WITHOUT ROWID;"
    "CREATE TABLE object_layer(name TEXT PRIMARY KEY, title TEXT, source TEXT,"
    " category_field TEXT, capacity_field TEXT);"
    "CREATE TABLE object(id INTEGER PRIMARY KEY, layer TEXT NOT NULL, object_id TEXT NOT NULL,"
    " name TEXT, category TEXT, capacity REAL, capacity_flag INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE(layer, object_id));"
    "CREATE TABLE indicator(name TEXT PRIMARY KEY, label TEXT, numerator TEXT,"
    " denominator TEXT, scale REAL NOT NULL, unit TEXT, polarity TEXT, description TEXT,"
    " source TEXT, ord INTEGER NOT NULL, kind TEXT NOT NULL DEFAULT 'ratio', categories TEXT,"
    " inputs TEXT);"
    /* The indicators' values as column blocks (store_indicators.c). */
    "CREATE TABLE indicator_block(level TEXT NOT NULL, period TEXT NOT NULL,"
    " indicator TEXT NOT NULL, n INTEGER NOT NULL, value BLOB, numerator BLOB,"
    " denominator BLOB, flag BLOB NOT NULL, PRIMARY KEY(level, period, indicator)) WITHOUT ROWID;"
    "CREATE TABLE finding(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT, line INTEGER,"
    " level TEXT, key TEXT, message TEXT NOT NULL);"
    "CREATE TABLE run(id INTEGER PRIMARY KEY, started TEXT, finished TEXT, project TEXT,"
    " version TEXT, inputs TEXT);"
    "CREATE TABLE statistic(id INTEGER PRIMARY KEY, analysis TEXT NOT NULL, level TEXT,"
    " period TEXT, subject TEXT NOT NULL, measure TEXT NOT NULL, value REAL, note TEXT);"
    "CREATE TABLE measure(id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT, level TEXT NOT NULL,"
    " start_date TEXT NOT NULL, end_date TEXT, budget REAL, indicators TEXT NOT NULL,"
    " comparison TEXT NOT NULL, k INTEGER, match_on TEXT, illustrative INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE measure_area(measure TEXT NOT NULL, key TEXT NOT NULL,"
    " PRIMARY KEY(measure, key)) WITHOUT ROWID;";

int kz_store__srid(const char *crs)
{
    long v;
    char *end = NULL;
    if (crs == NULL || (strncmp(crs, "EPSG:", 5) != 0 && strncmp(crs, "epsg:", 5) != 0))
        return 0;
    v = strtol(crs + 5, &end, 10);
    if (end == crs + 5 || *end != '\0' || v <= 0 || v > 999999)
        return 0;
    return (int)v;
}

/* What to do about an SQLite error that is not kiez's fault. */
static const char *advice(kz_db *db)
{
    return (sqlite3_errcode(db->sql) & 0xff) == SQLITE_FULL ? "; free disk space and run again"
                                                            : "";
}

int kz_store__fail(kz_db *db, kz_ctx *ctx, int code, const char *what)
{
    return kz_ctx__error(ctx, code, "%s: %s: %s%s", db->path, what, sqlite3_errmsg(db->sql),
                         advice(db));
}

int kz_store__exec(kz_db *db, kz_ctx *ctx, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db->sql, sql, NULL, NULL, &err) != SQLITE_OK) {
        kz_ctx__error(ctx, KZ_E_IO, "%s: %s%s", db->path, err ? err : "SQL error", advice(db));
        sqlite3_free(err);
        return KZ_E_IO;
    }
    return KZ_OK;
}

int kz_store__prepare(kz_db *db, kz_ctx *ctx, sqlite3_stmt **out, const char *sql)
{
    if (sqlite3_prepare_v2(db->sql, sql, -1, out, NULL) != SQLITE_OK)
        return kz_store__fail(db, ctx, KZ_E_INTERNAL, "preparing a statement");
    return KZ_OK;
}

int kz_store__bind_text(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int kz_store__step_done(kz_db *db, kz_ctx *ctx, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return kz_store__fail(db, ctx, rc == SQLITE_CONSTRAINT ? KZ_E_INPUT : KZ_E_IO, what);
    return KZ_OK;
}

/*
 * Transactions nest: the outermost is BEGIN IMMEDIATE ... COMMIT, inner
 * ones are savepoints, so kz_import_project() can be one transaction made
 * of imports that are each one transaction on their own.
 */
int kz_store__begin(kz_db *db, kz_ctx *ctx)
{
    /* Values buffered in the enclosing scope are written before a nested
     * one starts, so a rollback of the nested scope (which drops the
     * buffer) loses only its own values. */
    int rc = db->in_tx > 0 ? kz_store__flush_values(db, ctx) : KZ_OK;
    if (rc != KZ_OK)
        return rc;
    rc = kz_store__exec(db, ctx, db->in_tx == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT kz");
    if (rc == KZ_OK)
        db->in_tx++;
    return rc;
}

int kz_store__commit(kz_db *db, kz_ctx *ctx)
{
    int rc = kz_store__flush_values(db, ctx);
    if (rc != KZ_OK)
        return rc;
    rc = kz_store__exec(db, ctx, db->in_tx == 1 ? "COMMIT" : "RELEASE kz");
    if (rc == KZ_OK)
        db->in_tx--;
    return rc;
}

void kz_store__rollback(kz_db *db)
{
    if (db == NULL)
        return;
    kz_store__drop_values(db);
    if (db->in_tx == 0)
        return;
    if (db->in_tx == 1)
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
    else
        sqlite3_exec(db->sql, "ROLLBACK TO kz; RELEASE kz", NULL, NULL, NULL);
    db->in_tx--;
}

/* Open the SQLite file and attach SpatiaLite to the connection. */
static int connect(kz_db **out, kz_ctx *ctx, const char *path, int flags)
{
    kz_db *db = calloc(1, sizeof(*db));
    *out = NULL;
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        free(db);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    db->open_path = sqlite3_mprintf("%s%s", kz_dirs__dot(path), path); /* never a URI */
    if (db->open_path == NULL) {
        kz_db_close(db);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    if (sqlite3_open_v2(db->open_path, &db->sql, flags, NULL) != SQLITE_OK) {
        kz_ctx__error(ctx, KZ_E_IO, "%s: cannot open the database: %s", path,
                      db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
        kz_db_close(db);
        return KZ_E_IO;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    db->splite = spatialite_alloc_connection();
    if (db->splite == NULL) {
        kz_db_close(db);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory (SpatiaLite)");
    }
    spatialite_init_ex(db->sql, db->splite, 0);
    *out = db;
    return KZ_OK;
}

int kz_db_create(kz_db **out, kz_ctx *ctx, const char *path, const char *crs)
{
    kz_db *db = NULL;
    char sql[512];
    int srid = kz_store__srid(crs), rc;
    sqlite3_stmt *st = NULL;

    *out = NULL;
    if (srid == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "CRS \"%s\": give the project CRS as EPSG:n",
                             crs ? crs : "");
    if (access(path, F_OK) == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "%s: the file exists; remove it or open it instead of creating it",
                             path);
    if ((rc = connect(&db, ctx, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) != KZ_OK)
        return rc;
    db->srid = srid;
    if ((db->crs = strdup(crs)) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto fail;
    }
    /* The rollback journal (SQLite's default) keeps the database one file:
     * kz_run() builds into a temporary file and renames it into place. */
    /* 16 KiB pages (SQLite's default is 4 KiB): a value block of the
     * national level (11,000 cells, 99 KB) spans 7 pages instead of 25,
     * and the bulk inserts write a quarter of the pages; `kiez run` on the
     * national benchmark took 0.5 s less system time (9.4 -> 8.8 s wall),
     * 64 KiB pages were slower again. The page cache stays 2 MB. */
    if ((rc = kz_store__exec(db, ctx, "PRAGMA page_size=16384")) != KZ_OK ||
        (rc = kz_store__begin(db, ctx)) != KZ_OK)
        goto fail;
    if ((rc = kz_store__exec(db, ctx, "SELECT InitSpatialMetadata(0)")) != KZ_OK ||
        (rc = kz_store__exec(db, ctx, schema_sql)) != KZ_OK)
        goto fail;
    snprintf(sql, sizeof(sql),
             "SELECT AddGeometryColumn('area', 'geom', %d, 'MULTIPOLYGON', 'XY');"
             "SELECT AddGeometryColumn('object', 'geom', %d, 'POINT', 'XY');"
             "SELECT CreateSpatialIndex('area', 'geom');"
             "SELECT CreateSpatialIndex('object', 'geom');",
             srid, srid);
    if ((rc = kz_store__exec(db, ctx, sql)) != KZ_OK)
        goto fail;
    if ((rc = kz_store__prepare(
             db, ctx, &st,
             "INSERT INTO meta(key, value) VALUES ('schema_version', ?1),"
             " ('crs', ?2), ('created', strftime('%Y-%m-%dT%H:%M:%SZ','now'))")) != KZ_OK)
        goto fail;
    sqlite3_bind_int(st, 1, KZ_SCHEMA_VERSION);
    sqlite3_bind_text(st, 2, crs, -1, SQLITE_TRANSIENT);
    rc = kz_store__step_done(db, ctx, st, "writing the schema version");
    sqlite3_finalize(st);
    if (rc != KZ_OK || (rc = kz_store__commit(db, ctx)) != KZ_OK)
        goto fail;
    *out = db;
    return KZ_OK;
fail:
    kz_store__rollback(db);
    kz_db_close(db);
    unlink(path);
    return rc;
}

int kz_db_open(kz_db **out, kz_ctx *ctx, const char *path)
{
    kz_db *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc, version = -1;
    const char *crs = NULL;

    *out = NULL;
    if (access(path, F_OK) != 0)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: no such database; create it with kiez init", path);
    if ((rc = connect(&db, ctx, path, SQLITE_OPEN_READWRITE)) != KZ_OK)
        return rc;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT (SELECT value FROM meta WHERE key='schema_version'),"
                           " (SELECT value FROM meta WHERE key='crs')",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = kz_ctx__error(ctx, KZ_E_IO, "%s: not a kiez monitoring database", path);
        goto fail;
    }
    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
        version = sqlite3_column_int(st, 0);
    crs = (const char *)sqlite3_column_text(st, 1);
    if (version != KZ_SCHEMA_VERSION || crs == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_IO,
                           "%s: database schema version %d, this kiez reads version %d; "
                           "rebuild it with kiez run",
                           path, version, KZ_SCHEMA_VERSION);
        goto fail;
    }
    if ((db->crs = strdup(crs)) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto fail;
    }
    db->srid = kz_store__srid(db->crs);
    sqlite3_finalize(st);
    *out = db;
    return KZ_OK;
fail:
    sqlite3_finalize(st);
    kz_db_close(db);
    return rc;
}

/*
 * kz_run() builds its database from scratch under a temporary name and
 * renames it into place only when the run is complete; a crash or kill
 * leaves a temporary file that is never used (the next run removes it).
 * Durability during that build buys nothing, so this connection keeps
 * its rollback journal in memory (savepoints and ROLLBACK still work:
 * journal_mode=OFF would make them undefined) and does not fsync
 * (synchronous=OFF); kz_run() fsyncs the file once before the rename.
 * Databases opened by kiez import / compute keep SQLite's defaults: fully
 * durable. The page cache stays at SQLite's 2 MB: 32 MB gave the same CPU
 * time at national size (52 s either way, tools/bench_pipeline.py) and
 * 28 MB more peak memory.
 */
int kz_store__fast_build(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx, "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF");
}

void kz_db_close(kz_db *db)
{
    if (db == NULL)
        return;
    kz_store__finalize_cache(db);
    kz_store__drop_values(db);
    while (db->in_tx > 0)
        kz_store__rollback(db);
    if (db->sql)
        sqlite3_close_v2(db->sql);
    /* NOTES.md: spatialite_cleanup_ex only after sqlite3_close. */
    if (db->splite)
        spatialite_cleanup_ex(db->splite);
    free(db->path);
    sqlite3_free(db->open_path);
    free(db->crs);
    free(db);
}

const char *kz_db_crs(const kz_db *db)
{
    return db->crs;
}

const char *kz_db_path(const kz_db *db)
{
    return db->path;
}
