/*
 * SpatiaLite store: aggregation and indicators in SQL (see compute.h for
 * the rules).
 */
#include "ctx_internal.h"
#include "kiez/compute.h"
#include "kiez/table.h"
#include "store.h"

#include <sqlite3.h>

#include <stdlib.h>
#include <string.h>

/* Sum of children: only when every child area has a value. */
static const char *const aggregate_sql =
    "INSERT INTO value(level, key, period, variable, value, flag, source)"
    " SELECT ?2, a.parent_key, v.period, v.variable,"
    "  CASE WHEN COUNT(v.value) = c.n THEN SUM(v.value) END,"
    "  CASE WHEN COUNT(v.value) = c.n THEN 4"
    "       WHEN MAX(v.flag = 2) THEN 2 ELSE 1 END, NULL"
    " FROM value v JOIN area a ON a.level = v.level AND a.key = v.key"
    " JOIN (SELECT parent_key, COUNT(*) AS n FROM area WHERE level = ?1 GROUP BY parent_key) c"
    "  ON c.parent_key = a.parent_key"
    " WHERE v.level = ?1 AND a.parent_key IS NOT NULL"
    " GROUP BY a.parent_key, v.period, v.variable"
    " ON CONFLICT DO NOTHING";

int kz_compute_aggregates(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *levels = NULL, *agg = NULL;
    int rc;
    if ((rc = kz_store__exec(db, ctx, "DELETE FROM value WHERE source IS NULL")) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &levels,
                                "SELECT name, parent FROM level WHERE parent IS NOT NULL"
                                " ORDER BY rank DESC, name")) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &agg, aggregate_sql)) != KZ_OK)
        goto done;
    while ((rc = sqlite3_step(levels)) == SQLITE_ROW) {
        const char *level = (const char *)sqlite3_column_text(levels, 0);
        const char *parent = (const char *)sqlite3_column_text(levels, 1);
        kz_store__bind_text(agg, 1, level);
        kz_store__bind_text(agg, 2, parent);
        if ((rc = kz_store__step_done(db, ctx, agg, "aggregating values")) != KZ_OK)
            goto done;
        kz_ctx__log(ctx, KZ_LOG_INFO, "aggregated %s to %s: %d values", level, parent,
                    sqlite3_changes(db->sql));
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading levels");
done:
    sqlite3_finalize(levels);
    sqlite3_finalize(agg);
    return rc;
}

static const char *const ratio_sql =
    "INSERT INTO indicator_value(level, key, period, indicator, value, numerator, denominator,"
    " flag)"
    " SELECT n.level, n.key, n.period, ?1,"
    "  CASE WHEN n.value IS NOT NULL AND d.value IS NOT NULL AND d.value <> 0"
    "       THEN n.value / d.value * ?4 END,"
    "  n.value, d.value,"
    "  CASE WHEN n.flag = 2 OR d.flag = 2 THEN 2"
    "       WHEN n.value IS NULL OR d.value IS NULL OR d.value = 0 THEN 1"
    "       ELSE MAX(n.flag, d.flag) END"
    " FROM value n JOIN value d ON d.level = n.level AND d.key = n.key AND d.period = n.period"
    "  AND d.variable = ?3"
    " WHERE n.variable = ?2";

static const char *const count_sql =
    "INSERT INTO indicator_value(level, key, period, indicator, value, numerator, denominator,"
    " flag)"
    " SELECT n.level, n.key, n.period, ?1, n.value * ?4, n.value, NULL, n.flag"
    " FROM value n WHERE n.variable = ?2";

int kz_compute_indicators(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *cat = NULL, *ratio = NULL, *count = NULL;
    int rc;
    if ((rc = kz_store__exec(db, ctx,
                             "DELETE FROM indicator_value WHERE indicator IN"
                             " (SELECT name FROM indicator WHERE kind = 'ratio')")) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &cat,
                                "SELECT name, numerator, denominator, scale FROM indicator"
                                " WHERE kind = 'ratio' ORDER BY ord")) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &ratio, ratio_sql)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &count, count_sql)) != KZ_OK)
        goto done;
    while ((rc = sqlite3_step(cat)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(cat, 0);
        const char *num = (const char *)sqlite3_column_text(cat, 1);
        const char *den = (const char *)sqlite3_column_text(cat, 2);
        sqlite3_stmt *st = den ? ratio : count;
        int changes;
        kz_store__bind_text(st, 1, name);
        kz_store__bind_text(st, 2, num);
        if (den)
            kz_store__bind_text(st, 3, den);
        sqlite3_bind_double(st, 4, sqlite3_column_double(cat, 3));
        if ((rc = kz_store__step_done(db, ctx, st, "computing an indicator")) != KZ_OK)
            goto done;
        changes = sqlite3_changes(db->sql);
        if (changes == 0)
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "indicator %s: no area has both %s%s%s; check the variable names "
                        "against the tables",
                        name, num, den ? " and " : "", den ? den : "");
        else
            kz_ctx__log(ctx, KZ_LOG_INFO, "indicator %s: %d values", name, changes);
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
done:
    sqlite3_finalize(cat);
    sqlite3_finalize(ratio);
    sqlite3_finalize(count);
    return rc;
}

int kz_compute(kz_db *db, kz_ctx *ctx, const kz_project *project)
{
    int rc;
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_compute_aggregates(db, ctx)) != KZ_OK ||
        (rc = kz_compute_indicators(db, ctx)) != KZ_OK ||
        (project != NULL && (rc = kz_compute_derived(db, ctx, project)) != KZ_OK)) {
        kz_store__rollback(db);
        return rc;
    }
    return kz_store__commit(db, ctx);
}
