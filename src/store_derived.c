/*
 * SpatiaLite store: derived indicators (indices, trends) stored like
 * ratio indicators, so every export picks them up as columns and series.
 */
#include "ctx_internal.h"
#include "kiez/table.h"
#include "store.h"
#include "strmap.h"

#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

int kz_store__clear_derived(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx,
                          "DELETE FROM indicator_block WHERE indicator IN"
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
    kz_store_ind_history h;
    size_t p;
    int rc;
    out[0] = '\0';
    if ((rc = kz_store__ind_history(db, ctx, level, indicator, &h)) != KZ_OK)
        return rc;
    for (p = h.n; p-- > 0;)
        if (kz_store__ind_any_number(&h.block[p])) {
            snprintf(out, 11, "%s", h.period[p]);
            break;
        }
    kz_store__free_history(&h);
    return KZ_OK;
}

/* Cell of keys[i] in the level's key order: i itself when the caller
 * passes the level's keys (the usual case), else through the map. */
static long cell_of(const kz_level_keys *lk, char *const *keys, size_t i)
{
    if (i < lk->n && strcmp(lk->keys[i], keys[i]) == 0)
        return (long)i;
    return kz_strmap__get(lk->map, keys[i]);
}

int kz_store__indicator_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                               const char *indicator, char *const *keys, size_t n, double *values)
{
    kz_level_keys lk;
    kz_store_ind_block b;
    size_t i;
    int rc, found;
    memset(&b, 0, sizeof(b));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &lk)) != KZ_OK)
        return rc;
    if ((rc = kz_store__ind_alloc(ctx, &b, lk.n)) == KZ_OK &&
        (rc = kz_store__ind_read(db, ctx, level, period, indicator, &b, &found)) == KZ_OK)
        for (i = 0; i < n; i++) {
            long c = cell_of(&lk, keys, i);
            values[i] = c >= 0 ? b.value[c] : NAN;
        }
    kz_store__ind_free(&b);
    kz_store__free_keys(&lk);
    return rc;
}

int kz_store__put_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                         const char *indicator, char *const *keys, size_t n, const double *values)
{
    kz_level_keys lk;
    kz_store_ind_block b;
    size_t i;
    int rc, found;
    memset(&b, 0, sizeof(b));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &lk)) != KZ_OK)
        return rc;
    if ((rc = kz_store__ind_alloc(ctx, &b, lk.n)) == KZ_OK &&
        (rc = kz_store__ind_read(db, ctx, level, period, indicator, &b, &found)) == KZ_OK) {
        for (i = 0; i < n; i++) {
            long c = cell_of(&lk, keys, i);
            if (c < 0)
                continue;
            /* A whole new row per area, as INSERT OR REPLACE wrote it. */
            b.value[c] = isfinite(values[i]) ? values[i] : NAN;
            b.numerator[c] = b.denominator[c] = NAN;
            b.flag[c] = isfinite(values[i]) ? KZ_FLAG_OK : KZ_FLAG_MISSING;
        }
        rc = kz_store__ind_write(db, ctx, level, period, indicator, &b);
    }
    kz_store__ind_free(&b);
    kz_store__free_keys(&lk);
    return rc;
}

int kz_store__each_point(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                         const char *from, const char *to, kz_store_point_fn fn, void *payload)
{
    kz_level_keys lk;
    kz_store_ind_history h;
    size_t i, p;
    int rc;
    memset(&h, 0, sizeof(h));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &lk)) != KZ_OK)
        return rc;
    if ((rc = kz_store__ind_history(db, ctx, level, indicator, &h)) != KZ_OK)
        goto done;
    /* By key, then period, within [from, to]. */
    for (i = 0; i < lk.n && rc == KZ_OK; i++)
        for (p = 0; p < h.n && rc == KZ_OK; p++) {
            const kz_store_ind_block *b = &h.block[p];
            if (b->flag[i] == KZ_IND_NONE || strcmp(h.period[p], from) < 0 ||
                strcmp(h.period[p], to) > 0)
                continue;
            rc = fn(lk.keys[i], h.period[p], b->value[i], b->flag[i], payload);
        }
done:
    kz_store__free_history(&h);
    kz_store__free_keys(&lk);
    return rc;
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
