/*
 * SpatiaLite store: the register of measures (tables measure and
 * measure_area, schema in store.c). Bound parameters only.
 */
#include "store_effect.h"

#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static char *dup_col(sqlite3_stmt *st, int i, int *nomem)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    char *d;
    size_t n;
    if (t == NULL)
        return NULL;
    n = strlen(t) + 1;
    if ((d = malloc(n)) == NULL) {
        *nomem = 1;
        return NULL;
    }
    memcpy(d, t, n);
    return d;
}

void kz_store__measure_dispose(kz_store_measure *m)
{
    size_t i;
    if (m == NULL)
        return;
    free(m->id);
    free(m->name);
    free(m->kind);
    free(m->level);
    free(m->start);
    free(m->end);
    free(m->indicators);
    free(m->comparison);
    free(m->match_on);
    for (i = 0; i < m->n_keys; i++)
        free(m->keys[i]);
    free(m->keys);
    memset(m, 0, sizeof(*m));
}

int kz_store__clear_measures(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx,
                          "DELETE FROM measure_area; DELETE FROM measure;"
                          " DELETE FROM statistic WHERE analysis LIKE 'effect:%'");
}

int kz_store__put_measure(kz_db *db, kz_ctx *ctx, const kz_store_measure *m)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO measure(id, name, kind, level, start_date, end_date,"
                                " budget, indicators, comparison, k, match_on, illustrative)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, m->id);
    kz_store__bind_text(st, 2, m->name);
    kz_store__bind_text(st, 3, m->kind);
    kz_store__bind_text(st, 4, m->level);
    kz_store__bind_text(st, 5, m->start);
    kz_store__bind_text(st, 6, m->end);
    if (isfinite(m->budget))
        sqlite3_bind_double(st, 7, m->budget);
    else
        sqlite3_bind_null(st, 7);
    kz_store__bind_text(st, 8, m->indicators);
    kz_store__bind_text(st, 9, m->comparison);
    sqlite3_bind_int(st, 10, m->k);
    kz_store__bind_text(st, 11, m->match_on);
    sqlite3_bind_int(st, 12, m->illustrative);
    rc = kz_store__step_done(db, ctx, st, "storing a measure");
    sqlite3_finalize(st);
    if (rc != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(
             db, ctx, &st, "INSERT OR IGNORE INTO measure_area(measure, key) VALUES (?1, ?2)")) !=
        KZ_OK)
        return rc;
    for (i = 0; i < m->n_keys && rc == KZ_OK; i++) {
        kz_store__bind_text(st, 1, m->id);
        kz_store__bind_text(st, 2, m->keys[i]);
        rc = kz_store__step_done(db, ctx, st, "storing the areas of a measure");
    }
    sqlite3_finalize(st);
    return rc;
}

#define MEASURE_COLUMNS                                                                            \
    "m.id, m.name, m.kind, m.level, m.start_date, m.end_date, m.budget, m.indicators,"             \
    " m.comparison, m.k, m.match_on, m.illustrative"

/* Fill a measure from the row of MEASURE_COLUMNS (keys not read). */
static int read_row(sqlite3_stmt *st, kz_store_measure *m)
{
    int nomem = 0;
    memset(m, 0, sizeof(*m));
    m->id = dup_col(st, 0, &nomem);
    m->name = dup_col(st, 1, &nomem);
    m->kind = dup_col(st, 2, &nomem);
    m->level = dup_col(st, 3, &nomem);
    m->start = dup_col(st, 4, &nomem);
    m->end = dup_col(st, 5, &nomem);
    m->budget = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
    m->indicators = dup_col(st, 7, &nomem);
    m->comparison = dup_col(st, 8, &nomem);
    m->k = sqlite3_column_int(st, 9);
    m->match_on = dup_col(st, 10, &nomem);
    m->illustrative = sqlite3_column_int(st, 11);
    return nomem ? -1 : 0;
}

static int read_keys(kz_db *db, kz_ctx *ctx, kz_store_measure *m)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc, nomem = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key FROM measure_area WHERE measure = ?1 ORDER BY key")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, m->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n_keys == cap) {
            size_t nc = cap ? 2 * cap : 16;
            char **k = realloc(m->keys, nc * sizeof(char *));
            if (k == NULL) {
                nomem = 1;
                break;
            }
            m->keys = k;
            cap = nc;
        }
        if ((m->keys[m->n_keys] = dup_col(st, 0, &nomem)) == NULL) {
            nomem = 1;
            break;
        }
        m->n_keys++;
    }
    sqlite3_finalize(st);
    if (nomem)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading a measure");
}

/* "a, b, c" of the registered ids, for messages. */
static void list_ids(kz_db *db, char *out, size_t size)
{
    sqlite3_stmt *st = NULL;
    size_t o = 0;
    out[0] = '\0';
    if (sqlite3_prepare_v2(db->sql, "SELECT id FROM measure ORDER BY id", -1, &st, NULL) !=
        SQLITE_OK)
        return;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        size_t n = strlen(id);
        if (o + n + 3 >= size)
            break;
        if (o > 0) {
            memcpy(out + o, ", ", 2);
            o += 2;
        }
        memcpy(out + o, id, n + 1);
        o += n;
    }
    sqlite3_finalize(st);
}

int kz_store__get_measure(kz_db *db, kz_ctx *ctx, const char *id, kz_store_measure *out)
{
    sqlite3_stmt *st = NULL;
    char ids[512];
    int rc;
    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(db->sql, "SELECT " MEASURE_COLUMNS " FROM measure m WHERE m.id = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return kz_ctx__error(ctx, KZ_E_IO,
                             "%s: no register of measures in this database (%s); build it again "
                             "with a kiez of this version",
                             db->path, sqlite3_errmsg(db->sql));
    kz_store__bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (read_row(st, out) != 0) {
            sqlite3_finalize(st);
            kz_store__measure_dispose(out);
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        }
        sqlite3_finalize(st);
        if ((rc = read_keys(db, ctx, out)) != KZ_OK)
            kz_store__measure_dispose(out);
        return rc;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return kz_store__fail(db, ctx, KZ_E_IO, "reading a measure");
    list_ids(db, ids, sizeof(ids));
    if (ids[0] == '\0')
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "no measure \"%s\": %s has no measures (add a measures: section to "
                             "the project file)",
                             id, db->path);
    return kz_ctx__error(ctx, KZ_E_USAGE, "no measure \"%s\"; the measures are: %s", id, ids);
}

int kz_store__each_measure(kz_db *db, kz_ctx *ctx, kz_store_measure_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    /* ST_Union: SpatiaLite's aggregate union (GEOS), one polygon per measure. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT " MEASURE_COLUMNS ", (SELECT AsBinary(ST_Union(a.geom))"
                                " FROM measure_area ma JOIN area a ON a.level = m.level"
                                " AND a.key = ma.key WHERE ma.measure = m.id)"
                                " FROM measure m ORDER BY m.id")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_measure m;
        const unsigned char *wkb = sqlite3_column_blob(st, 12);
        size_t wkb_size = (size_t)sqlite3_column_bytes(st, 12);
        if (read_row(st, &m) != 0) {
            kz_store__measure_dispose(&m);
            sqlite3_finalize(st);
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        }
        if ((rc = read_keys(db, ctx, &m)) == KZ_OK)
            rc = fn(&m, wkb, wkb_size, payload);
        kz_store__measure_dispose(&m);
        if (rc != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading the measures");
}
