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

/*
 * The periods with indicator values: every one of them is a period of the
 * level's value blocks (ratios come from the values, derived columns from
 * the ratios), so the candidates come from the small value_block table and
 * each is confirmed by one indicator row. SELECT DISTINCT over
 * indicator_value read all 2 million rows of a national level instead
 * (period is not a prefix of its key).
 */
int kz_store__level_periods(kz_db *db, kz_ctx *ctx, const char *level, char ***out, size_t *n)
{
    return kz_store__strings(db, ctx,
                             "SELECT DISTINCT b.period FROM value_block b WHERE b.level = ?1"
                             " AND EXISTS (SELECT 1 FROM indicator_value v WHERE v.level = ?1"
                             " AND v.period = b.period) ORDER BY b.period",
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
    /* MAX(period) over the level would read all its rows; instead hop from
     * key to key along the primary key (level, key, period, ...) and take
     * each key's last period with one seek: a few ms instead of a scan. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "WITH RECURSIVE k(key) AS ("
                                " SELECT MIN(key) FROM indicator_value WHERE level = ?1"
                                " UNION ALL SELECT (SELECT MIN(key) FROM indicator_value"
                                " WHERE level = ?1 AND key > k.key) FROM k WHERE k.key IS NOT NULL)"
                                " SELECT MAX((SELECT MAX(period) FROM indicator_value"
                                " WHERE level = ?1 AND key = k.key)) FROM k")) != KZ_OK)
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

/*
 * The catalogue's indicators by name, so the value queries need no join
 * with `indicator` (an index lookup per row): rank = position in the
 * catalogue order (ORDER BY ord), ord = the stored ord. Names the catalogue
 * does not have are skipped, as the inner join did.
 */
typedef struct indicator_map {
    kz_strmap *by_name; /* name → rank */
    char **names;       /* by rank */
    int *ords;          /* by rank */
    size_t n;
} indicator_map;

static void indicator_map_free(indicator_map *m)
{
    kz_strmap__free(m->by_name);
    kz_store__free_strings(m->names, m->n);
    free(m->ords);
    memset(m, 0, sizeof(*m));
}

static int indicator_map_load(kz_db *db, kz_ctx *ctx, indicator_map *m)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    memset(m, 0, sizeof(*m));
    if ((m->by_name = kz_strmap__new()) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(db, ctx, &st, "SELECT name, ord FROM indicator ORDER BY ord")) !=
        KZ_OK) {
        indicator_map_free(m);
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n == cap) {
            char **names = realloc(m->names, (cap ? cap * 2 : 16) * sizeof(char *));
            int *ords;
            if (names == NULL)
                goto nomem;
            m->names = names;
            if ((ords = realloc(m->ords, (cap ? cap * 2 : 16) * sizeof(int))) == NULL)
                goto nomem;
            m->ords = ords;
            cap = cap ? cap * 2 : 16;
        }
        if ((m->names[m->n] = kz_store__column_dup(st, 0)) == NULL)
            goto nomem;
        m->ords[m->n] = sqlite3_column_int(st, 1);
        m->n++;
        if (kz_strmap__put(m->by_name, m->names[m->n - 1], (long)(m->n - 1), NULL) < 0)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        indicator_map_free(m);
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
    }
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    indicator_map_free(m);
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

/* Rank of the indicator in column i of st, or -1 when not in the catalogue. */
static long indicator_rank(const indicator_map *m, sqlite3_stmt *st, int i)
{
    const char *name = (const char *)sqlite3_column_text(st, i);
    return name != NULL ? kz_strmap__get(m->by_name, name) : -1;
}

/* Store value v at the stored ord of indicator `rank` (ignored outside
 * 0..n_indicators-1, as before). */
static void put_value(const indicator_map *m, long rank, double *values, size_t n_indicators,
                      double v)
{
    int ord;
    if (rank < 0)
        return;
    ord = m->ords[rank];
    if (ord >= 0 && (size_t)ord < n_indicators)
        values[ord] = v;
}

static int areas_query(kz_db *db, kz_ctx *ctx, const char *level, sqlite3_stmt **areas)
{
    int rc = kz_store__prepare(db, ctx, areas,
                               "SELECT key, name, parent_key, AsBinary(geom) FROM area"
                               " WHERE level = ?1 ORDER BY key");
    if (rc == KZ_OK)
        kz_store__bind_text(*areas, 1, level);
    return rc;
}

static void area_from_row(sqlite3_stmt *areas, kz_store_area *a)
{
    a->key = (const char *)sqlite3_column_text(areas, 0);
    a->name = (const char *)sqlite3_column_text(areas, 1);
    a->parent_key = (const char *)sqlite3_column_text(areas, 2);
    a->wkb = sqlite3_column_blob(areas, 3);
    a->wkb_size = (size_t)sqlite3_column_bytes(areas, 3);
}

/*
 * One area after the other, in key order. The values of an area and period
 * are one primary-key range of indicator_value (level, key, period, ...):
 * one short indexed query per area.
 */
/* What both area readers hold: the areas of a level in key order, a
 * statement on its values, the catalogue's ranks and n_values doubles. */
typedef struct area_reader {
    sqlite3_stmt *areas, *vals;
    indicator_map map;
    double *values;
} area_reader;

static void reader_close(area_reader *r)
{
    sqlite3_finalize(r->areas);
    sqlite3_finalize(r->vals);
    indicator_map_free(&r->map);
    free(r->values);
}

/* Open a reader; vals_sql has the level as ?1. On failure all is freed. */
static int reader_open(kz_db *db, kz_ctx *ctx, const char *level, size_t n_values,
                       const char *vals_sql, area_reader *r)
{
    int rc;
    memset(r, 0, sizeof(*r));
    if ((r->values = malloc((n_values ? n_values : 1) * sizeof(double))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = indicator_map_load(db, ctx, &r->map)) != KZ_OK) {
        free(r->values);
        return rc;
    }
    if ((rc = areas_query(db, ctx, level, &r->areas)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &r->vals, vals_sql)) != KZ_OK) {
        reader_close(r);
        return rc;
    }
    kz_store__bind_text(r->vals, 1, level);
    return KZ_OK;
}

int kz_store__each_area(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        size_t n_indicators, kz_store_area_fn fn, void *payload)
{
    area_reader r;
    int rc;
    if ((rc = reader_open(db, ctx, level, n_indicators,
                          "SELECT indicator, value FROM indicator_value"
                          " WHERE level = ?1 AND key = ?2 AND period = ?3",
                          &r)) != KZ_OK)
        return rc;
    kz_store__bind_text(r.vals, 3, period);
    while ((rc = sqlite3_step(r.areas)) == SQLITE_ROW) {
        kz_store_area a;
        size_t i;
        area_from_row(r.areas, &a);
        for (i = 0; i < n_indicators; i++)
            r.values[i] = NAN;
        kz_store__bind_text(r.vals, 2, a.key);
        while ((rc = sqlite3_step(r.vals)) == SQLITE_ROW)
            put_value(&r.map, indicator_rank(&r.map, r.vals, 0), r.values, n_indicators,
                      col_double(r.vals, 1));
        sqlite3_reset(r.vals);
        if (rc != SQLITE_DONE) {
            rc = kz_store__fail(db, ctx, KZ_E_IO, "reading values");
            goto done;
        }
        a.values = r.values;
        if ((rc = fn(&a, payload)) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
done:
    reader_close(&r);
    return rc;
}

/* Index of `period` in the ascending list, searching on from *at (the
 * rows of a key come in period order); -1 when absent. */
static long period_index(char **periods, size_t n, size_t *at, const char *period)
{
    int c = 1;
    if (*at >= n || strcmp(periods[*at], period) > 0)
        *at = 0;
    while (*at < n && (c = strcmp(periods[*at], period)) < 0)
        (*at)++;
    return c == 0 ? (long)*at : -1;
}

/*
 * Every area once, in key order, with the values of all periods: one scan
 * of the level's indicator_value rows in primary-key order (key, period,
 * indicator), merged with the areas in C.
 */
int kz_store__each_area_periods(kz_db *db, kz_ctx *ctx, const char *level, char **periods,
                                size_t n_periods, size_t n_indicators, kz_store_area_periods_fn fn,
                                void *payload)
{
    size_t n_vals = (n_periods ? n_periods : 1) * (n_indicators ? n_indicators : 1);
    area_reader r;
    int rc, vrc;
    if ((rc = reader_open(db, ctx, level, n_vals,
                          "SELECT key, period, indicator, value FROM indicator_value"
                          " WHERE level = ?1 ORDER BY key, period, indicator",
                          &r)) != KZ_OK)
        return rc;
    vrc = sqlite3_step(r.vals);
    while ((rc = sqlite3_step(r.areas)) == SQLITE_ROW) {
        kz_store_area a;
        size_t i, at = 0;
        area_from_row(r.areas, &a);
        for (i = 0; i < n_vals; i++)
            r.values[i] = NAN;
        /* Both in key order (BINARY collation = strcmp): skip value rows of
         * keys without an area, take those of this area. */
        for (; vrc == SQLITE_ROW; vrc = sqlite3_step(r.vals)) {
            const char *key = (const char *)sqlite3_column_text(r.vals, 0);
            int c = strcmp(key, a.key);
            long p;
            if (c > 0)
                break;
            if (c < 0)
                continue;
            p = period_index(periods, n_periods, &at, (const char *)sqlite3_column_text(r.vals, 1));
            if (p >= 0)
                put_value(&r.map, indicator_rank(&r.map, r.vals, 2),
                          r.values + (size_t)p * n_indicators, n_indicators, col_double(r.vals, 3));
        }
        if (vrc != SQLITE_ROW && vrc != SQLITE_DONE) {
            rc = kz_store__fail(db, ctx, KZ_E_IO, "reading values");
            goto done;
        }
        a.values = r.values;
        if ((rc = fn(&a, r.values, payload)) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
done:
    reader_close(&r);
    return rc;
}

/* One series row, buffered while the rows of a key are reordered. */
typedef struct series_item {
    long rank, period;
    double value, numerator, denominator;
    int flag;
} series_item;

/* Distinct periods seen so far (a few dozen), in order of appearance. */
typedef struct period_list {
    char **s;
    size_t n, cap, last;
} period_list;

static long period_intern(period_list *l, const char *period)
{
    size_t i;
    if (l->last < l->n && strcmp(l->s[l->last], period) == 0)
        return (long)l->last;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->s[i], period) == 0)
            return (long)(l->last = i);
    if (l->n == l->cap) {
        char **more = realloc(l->s, (l->cap = l->cap ? l->cap * 2 : 32) * sizeof(char *));
        if (more == NULL)
            return -1;
        l->s = more;
    }
    if ((l->s[l->n] = malloc(strlen(period) + 1)) == NULL)
        return -1;
    memcpy(l->s[l->n], period, strlen(period) + 1);
    return (long)(l->last = l->n++);
}

/*
 * Emit the buffered rows of one key in catalogue order, periods ascending
 * within an indicator: a stable counting sort by rank of rows that arrive
 * in (period, indicator) order.
 */
static int series_flush(const indicator_map *map, const period_list *pl, const char *key,
                        const series_item *items, size_t n, series_item *sorted, size_t *count,
                        kz_store_series_fn fn, void *payload)
{
    size_t i;
    int rc;
    memset(count, 0, (map->n + 1) * sizeof(size_t));
    for (i = 0; i < n; i++)
        count[items[i].rank + 1]++;
    for (i = 1; i <= map->n; i++)
        count[i] += count[i - 1];
    for (i = 0; i < n; i++)
        sorted[count[items[i].rank]++] = items[i];
    for (i = 0; i < n; i++) {
        kz_store_series r;
        r.key = key;
        r.period = pl->s[sorted[i].period];
        r.indicator = map->names[sorted[i].rank];
        r.value = sorted[i].value;
        r.numerator = sorted[i].numerator;
        r.denominator = sorted[i].denominator;
        r.flag = sorted[i].flag;
        if ((rc = fn(&r, payload)) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

/*
 * The series in order (key, catalogue order, period). SQLite would sort
 * every key's rows in a temporary B-tree; instead the rows are read in
 * primary-key order (key, period, indicator) and reordered per key in C
 * (a few hundred rows at a time).
 */
int kz_store__each_series(kz_db *db, kz_ctx *ctx, const char *level, kz_store_series_fn fn,
                          void *payload)
{
    sqlite3_stmt *st = NULL;
    indicator_map map;
    period_list pl = {NULL, 0, 0, 0};
    series_item *items = NULL, *sorted = NULL;
    size_t *count = NULL, n = 0, cap = 0;
    char *key = NULL;
    size_t key_cap = 0;
    int rc;
    if ((rc = indicator_map_load(db, ctx, &map)) != KZ_OK)
        return rc;
    if ((count = malloc((map.n + 1) * sizeof(size_t))) == NULL)
        goto nomem;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, period, indicator, value, numerator, denominator,"
                                " flag FROM indicator_value WHERE level = ?1"
                                " ORDER BY key, period, indicator")) != KZ_OK)
        goto done;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *period = (const char *)sqlite3_column_text(st, 1);
        long rank = indicator_rank(&map, st, 2);
        series_item *it;
        if (rank < 0 || k == NULL || period == NULL)
            continue;
        if (key == NULL || strcmp(k, key) != 0) {
            size_t len = strlen(k) + 1;
            if (n > 0 &&
                (rc = series_flush(&map, &pl, key, items, n, sorted, count, fn, payload)) != KZ_OK)
                goto done;
            n = 0;
            if (len > key_cap) {
                char *more = realloc(key, key_cap = len * 2);
                if (more == NULL)
                    goto nomem;
                key = more;
            }
            memcpy(key, k, len);
        }
        if (n == cap) {
            size_t c = cap ? cap * 2 : 256;
            series_item *more = realloc(items, c * sizeof(*items));
            if (more == NULL)
                goto nomem;
            items = more;
            if ((more = realloc(sorted, c * sizeof(*sorted))) == NULL)
                goto nomem;
            sorted = more;
            cap = c;
        }
        it = &items[n++];
        it->rank = rank;
        if ((it->period = period_intern(&pl, period)) < 0)
            goto nomem;
        it->value = col_double(st, 3);
        it->numerator = col_double(st, 4);
        it->denominator = col_double(st, 5);
        it->flag = sqlite3_column_int(st, 6);
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading the series");
        goto done;
    }
    rc = n > 0 ? series_flush(&map, &pl, key, items, n, sorted, count, fn, payload) : KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
done:
    sqlite3_finalize(st);
    indicator_map_free(&map);
    kz_store__free_strings(pl.s, pl.n);
    free(items);
    free(sorted);
    free(count);
    free(key);
    return rc;
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

/*
 * The series go into the GeoPackage by one INSERT ... SELECT that SQLite
 * runs on GDAL's connection, with this database attached: 2.05 million
 * rows at national size in about 1 s of CPU, where creating them as OGR
 * features took about 6 s. GDAL creates the table; the export only reads
 * the store. The path is attached as a plain file name (db->open_path,
 * never a URI), so '?', '#' and '%' in it mean nothing special; names and the path are
 * quoted by sqlite3_mprintf (%Q literals, %w identifiers).
 */
int kz_store__attach_sql(kz_db *db, kz_ctx *ctx, char **attach, char **detach)
{
    *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS kiez_store", db->open_path);
    *detach = sqlite3_mprintf("DETACH DATABASE kiez_store");
    if (*attach == NULL || *detach == NULL) {
        sqlite3_free(*attach);
        sqlite3_free(*detach);
        *attach = *detach = NULL;
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    return KZ_OK;
}

int kz_store__series_copy_sql(kz_ctx *ctx, const char *level, const char *table, char **insert)
{
    *insert = sqlite3_mprintf(
        "INSERT INTO \"%w\"(key, period, indicator, value, numerator, denominator, flag)"
        " SELECT key, period, indicator, value, numerator, denominator, flag"
        " FROM kiez_store.indicator_value WHERE level = %Q ORDER BY key, period, indicator",
        table, level);
    return *insert ? KZ_OK : kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

void kz_store__free_sql(char *sql)
{
    sqlite3_free(sql);
}
