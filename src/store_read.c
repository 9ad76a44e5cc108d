/*
 * SpatiaLite store: reading levels, areas with indicator values, series,
 * objects and findings for the exports.
 */
#include "ctx_internal.h"
#include "store.h"

#include "strmap.h"
#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *kz_store__column_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static double col_double(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

void kz_store__free_strings(char **strings, size_t n)
{
    size_t i;
    for (i = 0; strings && i < n; i++)
        free(strings[i]);
    free(strings);
}

int kz_store__strings(kz_db *db, kz_ctx *ctx, const char *sql, const char *param, char ***out,
                      size_t *n)
{
    sqlite3_stmt *st = NULL;
    char **list = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st, sql)) != KZ_OK)
        return rc;
    if (param != NULL)
        kz_store__bind_text(st, 1, param);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            char **more = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(char *));
            if (more == NULL)
                goto nomem;
            list = more;
        }
        if ((list[*n] = kz_store__column_dup(st, 0)) == NULL)
            goto nomem;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_strings(list, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading names");
    }
    *out = list;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_strings(list, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__level_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    return kz_store__strings(db, ctx, "SELECT name FROM level ORDER BY rank, name", NULL, out, n);
}

int kz_store__level_periods(kz_db *db, kz_ctx *ctx, const char *level, char ***out, size_t *n)
{
    return kz_store__strings(
        db, ctx, "SELECT DISTINCT period FROM indicator_value WHERE level = ?1 ORDER BY period",
        level, out, n);
}

int kz_store__object_layer_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    return kz_store__strings(db, ctx, "SELECT name FROM object_layer ORDER BY name", NULL, out, n);
}

void kz_store__free_catalogue(kz_store_indicator *rows, size_t n)
{
    size_t i;
    for (i = 0; rows && i < n; i++) {
        free(rows[i].name);
        free(rows[i].label);
        free(rows[i].numerator);
        free(rows[i].denominator);
        free(rows[i].unit);
        free(rows[i].polarity);
        free(rows[i].description);
        free(rows[i].source);
        free(rows[i].kind);
        free(rows[i].categories);
    }
    free(rows);
}

int kz_store__catalogue(kz_db *db, kz_ctx *ctx, kz_store_indicator **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    kz_store_indicator *rows = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(
             db, ctx, &st,
             "SELECT name, label, numerator, denominator, unit, polarity,"
             " description, source, scale, kind, categories FROM indicator ORDER BY ord")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_indicator *r;
        if (*n == cap) {
            kz_store_indicator *more = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(*rows));
            if (more == NULL)
                goto nomem;
            rows = more;
        }
        r = &rows[(*n)++];
        r->name = kz_store__column_dup(st, 0);
        r->label = kz_store__column_dup(st, 1);
        r->numerator = kz_store__column_dup(st, 2);
        r->denominator = kz_store__column_dup(st, 3);
        r->unit = kz_store__column_dup(st, 4);
        r->polarity = kz_store__column_dup(st, 5);
        r->description = kz_store__column_dup(st, 6);
        r->source = kz_store__column_dup(st, 7);
        r->scale = sqlite3_column_double(st, 8);
        r->kind = kz_store__column_dup(st, 9);
        r->categories = kz_store__column_dup(st, 10);
        if (r->name == NULL || r->kind == NULL)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_catalogue(rows, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
    }
    *out = rows;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_catalogue(rows, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__latest_period(kz_db *db, kz_ctx *ctx, const char *level, char out[11])
{
    sqlite3_stmt *st = NULL;
    int rc;
    out[0] = '\0';
    if ((rc = kz_store__prepare(
             db, ctx, &st, "SELECT MAX(period) FROM indicator_value WHERE level = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(p);
        if (len > 10)
            len = 10;
        memcpy(out, p, len);
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    return KZ_OK;
}

int kz_store__each_area(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        size_t n_indicators, kz_store_area_fn fn, void *payload)
{
    sqlite3_stmt *areas = NULL, *vals = NULL;
    double *values = malloc((n_indicators ? n_indicators : 1) * sizeof(double));
    int rc;
    if (values == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(db, ctx, &areas,
                                "SELECT key, name, parent_key, AsBinary(geom) FROM area"
                                " WHERE level = ?1 ORDER BY key")) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &vals,
                                "SELECT i.ord, v.value FROM indicator_value v JOIN indicator i"
                                " ON i.name = v.indicator WHERE v.level = ?1 AND v.key = ?2"
                                " AND v.period = ?3")) != KZ_OK)
        goto done;
    kz_store__bind_text(areas, 1, level);
    while ((rc = sqlite3_step(areas)) == SQLITE_ROW) {
        kz_store_area a;
        size_t i;
        a.key = (const char *)sqlite3_column_text(areas, 0);
        a.name = (const char *)sqlite3_column_text(areas, 1);
        a.parent_key = (const char *)sqlite3_column_text(areas, 2);
        a.wkb = sqlite3_column_blob(areas, 3);
        a.wkb_size = (size_t)sqlite3_column_bytes(areas, 3);
        for (i = 0; i < n_indicators; i++)
            values[i] = NAN;
        kz_store__bind_text(vals, 1, level);
        kz_store__bind_text(vals, 2, a.key);
        kz_store__bind_text(vals, 3, period);
        while (sqlite3_step(vals) == SQLITE_ROW) {
            int ord = sqlite3_column_int(vals, 0);
            if (ord >= 0 && (size_t)ord < n_indicators)
                values[ord] = col_double(vals, 1);
        }
        sqlite3_reset(vals);
        a.values = values;
        if ((rc = fn(&a, payload)) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
done:
    sqlite3_finalize(areas);
    sqlite3_finalize(vals);
    free(values);
    return rc;
}

int kz_store__each_series(kz_db *db, kz_ctx *ctx, const char *level, kz_store_series_fn fn,
                          void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT v.key, v.period, v.indicator, v.value, v.numerator,"
                                " v.denominator, v.flag FROM indicator_value v JOIN indicator i"
                                " ON i.name = v.indicator WHERE v.level = ?1"
                                " ORDER BY v.key, i.ord, v.period")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_series r;
        r.key = (const char *)sqlite3_column_text(st, 0);
        r.period = (const char *)sqlite3_column_text(st, 1);
        r.indicator = (const char *)sqlite3_column_text(st, 2);
        r.value = col_double(st, 3);
        r.numerator = col_double(st, 4);
        r.denominator = col_double(st, 5);
        r.flag = sqlite3_column_int(st, 6);
        if ((rc = fn(&r, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading the series");
}

int kz_store__each_object(kz_db *db, kz_ctx *ctx, const char *layer, kz_store_object_fn fn,
                          void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT object_id, name, category, capacity, ST_X(geom), ST_Y(geom)"
                                " FROM object WHERE layer = ?1 ORDER BY id")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, layer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_object o;
        o.id = (const char *)sqlite3_column_text(st, 0);
        o.name = (const char *)sqlite3_column_text(st, 1);
        o.category = (const char *)sqlite3_column_text(st, 2);
        o.capacity = col_double(st, 3);
        o.x = sqlite3_column_double(st, 4);
        o.y = sqlite3_column_double(st, 5);
        if ((rc = fn(&o, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading objects");
}

int kz_store__each_finding(kz_db *db, kz_ctx *ctx, kz_store_finding_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT kind, source, line, level, key, message FROM finding"
                                " ORDER BY id")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_finding f;
        f.kind = (const char *)sqlite3_column_text(st, 0);
        f.source = (const char *)sqlite3_column_text(st, 1);
        f.line = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : (long)sqlite3_column_int64(st, 2);
        f.level = (const char *)sqlite3_column_text(st, 3);
        f.key = (const char *)sqlite3_column_text(st, 4);
        f.message = (const char *)sqlite3_column_text(st, 5);
        if ((rc = fn(&f, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading findings");
}

int kz_store__last_run(kz_db *db, kz_ctx *ctx, kz_store_run *out)
{
    sqlite3_stmt *st = NULL;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT started, finished, project, version, inputs FROM run"
                                " ORDER BY id DESC LIMIT 1")) != KZ_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s;
        if ((s = (const char *)sqlite3_column_text(st, 0)) != NULL)
            snprintf(out->started, sizeof(out->started), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
            snprintf(out->finished, sizeof(out->finished), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 2)) != NULL)
            snprintf(out->project, sizeof(out->project), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 3)) != NULL)
            snprintf(out->version, sizeof(out->version), "%s", s);
        out->inputs = kz_store__column_dup(st, 4);
    }
    sqlite3_finalize(st);
    return KZ_OK;
}
