/*
 * SpatiaLite store: derived indicators (indices, trends) stored like
 * ratio indicators, so every export picks them up as columns and series.
 */
#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

#include <math.h>
#include <string.h>

int kz_store__clear_derived(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx,
                          "DELETE FROM indicator_value WHERE indicator IN"
                          " (SELECT name FROM indicator WHERE kind <> 'ratio');"
                          "DELETE FROM indicator WHERE kind <> 'ratio'");
}

int kz_store__put_derived(kz_db *db, kz_ctx *ctx, const char *name, const char *label,
                          const char *unit, const char *polarity, const char *kind,
                          const char *description)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO indicator(name, label, scale, unit, polarity,"
                                " description, ord, kind) VALUES (?1, ?2, 1, ?3, ?4, ?5,"
                                " (SELECT COALESCE(MAX(ord), -1) + 1 FROM indicator), ?6)")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, name);
    kz_store__bind_text(st, 2, label);
    kz_store__bind_text(st, 3, unit);
    kz_store__bind_text(st, 4, polarity);
    kz_store__bind_text(st, 5, description);
    kz_store__bind_text(st, 6, kind);
    rc = kz_store__step_done(db, ctx, st, "registering a derived indicator");
    sqlite3_finalize(st);
    if (rc == KZ_E_INPUT)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "the column \"%s\" computed by kiez has the name of another "
                             "indicator; rename one of them",
                             name);
    return rc;
}

int kz_store__latest_period_of(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                               char out[11])
{
    sqlite3_stmt *st = NULL;
    int rc;
    out[0] = '\0';
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT MAX(period) FROM indicator_value WHERE level = ?1"
                                " AND indicator = ?2 AND value IS NOT NULL")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, indicator);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(p) > 10 ? 10 : strlen(p);
        memcpy(out, p, len);
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    return KZ_OK;
}

int kz_store__indicator_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                               const char *indicator, char *const *keys, size_t n, double *values)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    /* One primary-key lookup per area (EXPLAIN QUERY PLAN: SEARCH USING
     * PRIMARY KEY (level=? AND key=? AND period=? AND indicator=?)). One
     * query per level and period would scan every row of the level
     * (the key precedes period and indicator in the key): 2 million rows
     * for Germany's municipalities against 11,000 lookups. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT value FROM indicator_value WHERE level = ?1 AND key = ?2"
                                " AND period = ?3 AND indicator = ?4")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 3, period);
    kz_store__bind_text(st, 4, indicator);
    for (i = 0; i < n; i++) {
        sqlite3_bind_text(st, 2, keys[i], -1, SQLITE_STATIC);
        values[i] = NAN;
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            values[i] = sqlite3_column_double(st, 0);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return KZ_OK;
}

int kz_store__put_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                         const char *indicator, char *const *keys, size_t n, const double *values)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT OR REPLACE INTO indicator_value(level, key, period,"
                                " indicator, value, flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) !=
        KZ_OK)
        return rc;
    for (i = 0; i < n; i++) {
        kz_store__bind_text(st, 1, level);
        kz_store__bind_text(st, 2, keys[i]);
        kz_store__bind_text(st, 3, period);
        kz_store__bind_text(st, 4, indicator);
        if (isfinite(values[i]))
            sqlite3_bind_double(st, 5, values[i]);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_int(st, 6, isfinite(values[i]) ? 0 : 1);
        if ((rc = kz_store__step_done(db, ctx, st, "storing derived values")) != KZ_OK)
            break;
    }
    sqlite3_finalize(st);
    return rc;
}

int kz_store__each_point(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                         const char *from, const char *to, kz_store_point_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, period, value, flag FROM indicator_value"
                                " WHERE level = ?1 AND indicator = ?2 AND period BETWEEN ?3 AND ?4"
                                " ORDER BY key, period")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, indicator);
    kz_store__bind_text(st, 3, from);
    kz_store__bind_text(st, 4, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        double v = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
        if ((rc = fn((const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 1), v, sqlite3_column_int(st, 3),
                     payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading a series");
}

int kz_store__clear_statistics(kz_db *db, kz_ctx *ctx, const char *analysis)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(
             db, ctx, &st, "DELETE FROM statistic WHERE ?1 IS NULL OR analysis = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, analysis);
    rc = kz_store__step_done(db, ctx, st, "clearing statistics");
    sqlite3_finalize(st);
    return rc;
}

int kz_store__put_statistic(kz_db *db, kz_ctx *ctx, const char *analysis, const char *level,
                            const char *period, const char *subject, const char *measure,
                            double value, const char *note)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO statistic(analysis, level, period, subject, measure,"
                                " value, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, analysis);
    kz_store__bind_text(st, 2, level);
    kz_store__bind_text(st, 3, period);
    kz_store__bind_text(st, 4, subject);
    kz_store__bind_text(st, 5, measure);
    if (isfinite(value))
        sqlite3_bind_double(st, 6, value);
    else
        sqlite3_bind_null(st, 6);
    kz_store__bind_text(st, 7, note);
    rc = kz_store__step_done(db, ctx, st, "storing a statistic");
    sqlite3_finalize(st);
    return rc;
}

int kz_store__each_statistic(kz_db *db, kz_ctx *ctx, kz_store_statistic_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT analysis, level, period, subject, measure, value, note"
                                " FROM statistic ORDER BY id")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_statistic s;
        s.analysis = (const char *)sqlite3_column_text(st, 0);
        s.level = (const char *)sqlite3_column_text(st, 1);
        s.period = (const char *)sqlite3_column_text(st, 2);
        s.subject = (const char *)sqlite3_column_text(st, 3);
        s.measure = (const char *)sqlite3_column_text(st, 4);
        s.value = sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
        s.note = (const char *)sqlite3_column_text(st, 6);
        if ((rc = fn(&s, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading statistics");
}
