/*
 * SpatiaLite store: aggregation and indicators in SQL (see compute.h for
 * the rules).
 */
#include "ctx_internal.h"
#include "kiez/compute.h"
#include "kiez/table.h"
#include "store.h"
#include "strmap.h"

#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Aggregation and indicators stream the value table once each, in its
 * primary-key order (level, key, period, variable), and do the grouping in
 * C. The SQL they replace (GROUP BY parent, period, variable over a join,
 * and one self-join of the value table per indicator, each a full scan
 * because `variable` is the last key column) took 45 s of a 60 s compute
 * at national size (tools/bench_pipeline.py); this takes a few seconds.
 * The rules are the SQL's, unchanged (compute.h).
 */

/* A growable copy of a string (the previous row's key while streaming). */
typedef struct text_buf {
    char *s;
    size_t cap;
} text_buf;

static int keep(text_buf *b, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > b->cap) {
        size_t cap = n < 64 ? 64 : 2 * n;
        char *more = realloc(b->s, cap);
        if (more == NULL)
            return -1;
        b->s = more;
        b->cap = cap;
    }
    memcpy(b->s, s, n);
    return 0;
}

/* Interned strings: text → small index, index → text. */
typedef struct names {
    kz_strmap *map;
    char **at;
    size_t n, cap;
} names;

static long intern(names *t, const char *s)
{
    long i = kz_strmap__get(t->map, s);
    size_t len;
    if (i >= 0)
        return i;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **more = realloc(t->at, cap * sizeof(char *));
        if (more == NULL)
            return -1;
        t->at = more;
        t->cap = cap;
    }
    len = strlen(s) + 1;
    if ((t->at[t->n] = malloc(len)) == NULL)
        return -1;
    memcpy(t->at[t->n], s, len);
    if (kz_strmap__put(t->map, s, (long)t->n, NULL) < 0) {
        free(t->at[t->n]);
        return -1;
    }
    return (long)t->n++;
}

static void names_free(names *t)
{
    size_t i;
    for (i = 0; i < t->n; i++)
        free(t->at[i]);
    free(t->at);
    kz_strmap__free(t->map);
    memset(t, 0, sizeof(*t));
}

/* One sum of the aggregation: parent area, period, variable. */
typedef struct agg_cell {
    uint64_t id; /* parent << 40 | period << 20 | variable, + 1 (0 = empty slot) */
    double sum;
    long count;   /* children with a value */
    int withheld; /* some child's value is suppressed (flag 2) */
} agg_cell;

typedef struct agg_table {
    agg_cell *cells;
    size_t n, cap; /* cap a power of two */
} agg_table;

#define AGG_FIELD_MAX ((uint64_t)1 << 20)

/* splitmix64's finaliser: every bit of the id reaches the low bits. */
static size_t agg_hash(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (size_t)x;
}

static agg_cell *agg_find(agg_table *t, uint64_t id)
{
    size_t mask, i;
    if (2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096, j;
        agg_cell *cells = calloc(cap, sizeof(*cells));
        if (cells == NULL)
            return NULL;
        for (j = 0; j < t->cap; j++) {
            if (t->cells[j].id == 0)
                continue;
            i = agg_hash(t->cells[j].id) & (cap - 1);
            while (cells[i].id != 0)
                i = (i + 1) & (cap - 1);
            cells[i] = t->cells[j];
        }
        free(t->cells);
        t->cells = cells;
        t->cap = cap;
    }
    mask = t->cap - 1;
    i = agg_hash(id) & mask;
    while (t->cells[i].id != 0 && t->cells[i].id != id)
        i = (i + 1) & mask;
    if (t->cells[i].id == 0) {
        t->cells[i].id = id;
        t->n++;
    }
    return &t->cells[i];
}

static int text_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int id_order(const void *a, const void *b)
{
    uint64_t x = ((const agg_cell *)a)->id, y = ((const agg_cell *)b)->id;
    return x < y ? -1 : x > y;
}

/* Sort the interned strings; rank[i] receives the position of string i in
 * t->at afterwards (indices in ids become ranks, so sorting ids sorts by
 * text). */
static int rank_names(names *t, uint64_t **rank)
{
    size_t i;
    char **orig = malloc((t->n ? t->n : 1) * sizeof(char *));
    *rank = malloc((t->n ? t->n : 1) * sizeof(uint64_t));
    if (orig == NULL || *rank == NULL) {
        free(orig);
        return -1;
    }
    memcpy(orig, t->at, t->n * sizeof(char *));
    qsort(t->at, t->n, sizeof(char *), text_order);
    /* Strings are unique: find each one's new place by binary search. */
    for (i = 0; i < t->n; i++) {
        char **at = bsearch(&orig[i], t->at, t->n, sizeof(char *), text_order);
        (*rank)[i] = (uint64_t)(at - t->at);
    }
    free(orig);
    return 0;
}

/*
 * Sums of the values of `level` into `parent`: per parent area, period and
 * variable the sum over the child areas, stored only when every child area
 * (area.parent_key) has a value (flag 4); otherwise NULL with flag 2 when
 * a child's value is suppressed, else 1. Values imported for the parent
 * level itself win (ON CONFLICT DO NOTHING).
 */
static int aggregate_level(kz_db *db, kz_ctx *ctx, const char *level, const char *parent,
                           long *inserted)
{
    sqlite3_stmt *st = NULL, *ins = NULL;
    names parents = {NULL, NULL, 0, 0}, periods = {NULL, NULL, 0, 0};
    names variables = {NULL, NULL, 0, 0};
    kz_strmap *child = kz_strmap__new();
    long *n_children = NULL, *counts = NULL;
    uint64_t *rank_p = NULL, *rank_t = NULL, *rank_v = NULL;
    agg_table t = {NULL, 0, 0};
    text_buf last_key = {NULL, 0}, last_period = {NULL, 0};
    long p = -1, per = -1;
    size_t i, j, n_counted = 0;
    int rc;

    *inserted = 0;
    parents.map = kz_strmap__new();
    periods.map = kz_strmap__new();
    variables.map = kz_strmap__new();
    if (!child || !parents.map || !periods.map || !variables.map)
        goto nomem;
    /* Child key → parent index, and the number of children per parent. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, parent_key FROM area WHERE level = ?1"
                                " AND parent_key IS NOT NULL")) != KZ_OK)
        goto done;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long at = intern(&parents, (const char *)sqlite3_column_text(st, 1));
        long *more;
        if (at < 0 || kz_strmap__put(child, (const char *)sqlite3_column_text(st, 0), at, NULL) < 0)
            goto nomem;
        if (parents.n > n_counted) {
            if ((more = realloc(n_children, parents.n * sizeof(long))) == NULL)
                goto nomem;
            n_children = more;
            n_children[n_counted++] = 0;
        }
        n_children[at]++;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
        goto done;
    }
    if (parents.n == 0) {
        rc = KZ_OK;
        goto done;
    }
    if (parents.n >= AGG_FIELD_MAX * 8) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "level %s: too many parent areas to aggregate", parent);
        goto done;
    }
    /* One pass over the level's values in key order. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, period, variable, value, flag FROM value"
                                " WHERE level = ?1")) != KZ_OK)
        goto done;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const char *period = (const char *)sqlite3_column_text(st, 1);
        long var;
        agg_cell *cell;
        if (last_key.s == NULL || strcmp(key, last_key.s) != 0) {
            if (keep(&last_key, key) != 0)
                goto nomem;
            p = kz_strmap__get(child, key);
        }
        if (p < 0)
            continue; /* no parent (an orphan), or not an area of the level */
        if (last_period.s == NULL || strcmp(period, last_period.s) != 0) {
            if (keep(&last_period, period) != 0 || (per = intern(&periods, period)) < 0)
                goto nomem;
        }
        if ((var = intern(&variables, (const char *)sqlite3_column_text(st, 2))) < 0)
            goto nomem;
        if ((uint64_t)per >= AGG_FIELD_MAX || (uint64_t)var >= AGG_FIELD_MAX) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "level %s: more than %lu periods or variables to aggregate", level,
                               (unsigned long)AGG_FIELD_MAX);
            goto done;
        }
        cell = agg_find(&t, ((uint64_t)p << 40 | (uint64_t)per << 20 | (uint64_t)var) + 1);
        if (cell == NULL)
            goto nomem;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            cell->sum += sqlite3_column_double(st, 3);
            cell->count++;
        }
        if (sqlite3_column_int(st, 4) == KZ_FLAG_SUPPRESSED)
            cell->withheld = 1;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading values to aggregate");
        goto done;
    }
    /* Compact the sums, renumber them by text order (the primary key's:
     * parent key, period, variable), sort, and append them in that order. */
    if (rank_names(&parents, &rank_p) != 0 || rank_names(&periods, &rank_t) != 0 ||
        rank_names(&variables, &rank_v) != 0)
        goto nomem;
    for (i = j = 0; i < t.cap; i++) {
        uint64_t id;
        if (t.cells[i].id == 0)
            continue;
        id = t.cells[i].id - 1;
        t.cells[j] = t.cells[i];
        t.cells[j].id = rank_p[id >> 40] << 40 | rank_t[(id >> 20) & (AGG_FIELD_MAX - 1)] << 20 |
                        rank_v[id & (AGG_FIELD_MAX - 1)];
        j++;
    }
    qsort(t.cells, j, sizeof(*t.cells), id_order);
    /* n_children by rank, like the names now */
    if ((counts = malloc(parents.n * sizeof(long))) == NULL)
        goto nomem;
    for (i = 0; i < parents.n; i++)
        counts[rank_p[i]] = n_children[i];
    if ((rc = kz_store__prepare(db, ctx, &ins,
                                "INSERT INTO value(level, key, period, variable, value, flag,"
                                " source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)"
                                " ON CONFLICT DO NOTHING")) != KZ_OK)
        goto done;
    sqlite3_bind_text(ins, 1, parent, -1, SQLITE_STATIC);
    for (i = 0; i < j; i++) {
        const agg_cell *c = &t.cells[i];
        uint64_t id = c->id;
        long at = (long)(id >> 40);
        int complete = c->count == counts[at];
        sqlite3_bind_text(ins, 2, parents.at[at], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, periods.at[(id >> 20) & (AGG_FIELD_MAX - 1)], -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, variables.at[id & (AGG_FIELD_MAX - 1)], -1, SQLITE_STATIC);
        if (complete)
            sqlite3_bind_double(ins, 5, c->sum);
        else
            sqlite3_bind_null(ins, 5);
        sqlite3_bind_int(ins, 6,
                         complete      ? KZ_FLAG_AGGREGATED
                         : c->withheld ? KZ_FLAG_SUPPRESSED
                                       : KZ_FLAG_MISSING);
        if ((rc = kz_store__step_done(db, ctx, ins, "aggregating values")) != KZ_OK)
            goto done;
        *inserted += sqlite3_changes(db->sql);
    }
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory aggregating level %s", level);
done:
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    free(t.cells);
    free(n_children);
    free(counts);
    free(rank_p);
    free(rank_t);
    free(rank_v);
    free(last_key.s);
    free(last_period.s);
    kz_strmap__free(child);
    names_free(&parents);
    names_free(&periods);
    names_free(&variables);
    return rc;
}

int kz_compute_aggregates(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *levels = NULL;
    int rc;
    /* Earlier aggregates, found through the partial index (store.c; a
     * database from before it gets it here, once). Without INDEXED BY the
     * planner scans the whole table (EXPLAIN QUERY PLAN: SCAN value). */
    if ((rc = kz_store__exec(db, ctx,
                             "CREATE INDEX IF NOT EXISTS value_aggregate ON value(level)"
                             " WHERE source IS NULL;"
                             "DELETE FROM value INDEXED BY value_aggregate"
                             " WHERE source IS NULL")) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &levels,
                                "SELECT name, parent FROM level WHERE parent IS NOT NULL"
                                " ORDER BY rank DESC, name")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(levels)) == SQLITE_ROW) {
        const char *level = (const char *)sqlite3_column_text(levels, 0);
        const char *parent = (const char *)sqlite3_column_text(levels, 1);
        long n = 0;
        if ((rc = aggregate_level(db, ctx, level, parent, &n)) != KZ_OK)
            goto done;
        kz_ctx__log(ctx, KZ_LOG_INFO, "aggregated %s to %s: %ld values", level, parent, n);
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading levels");
done:
    sqlite3_finalize(levels);
    return rc;
}

/* One ratio indicator of the catalogue; num/den index the variables read. */
typedef struct ratio_def {
    char *name;
    long num, den; /* den < 0: a plain count */
    double scale;
    long count; /* values written */
    const char *num_name, *den_name;
} ratio_def;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const ratio_def *)a)->name, ((const ratio_def *)b)->name);
}

/* The variables of one area and period while streaming. */
typedef struct slot {
    double value;
    int is_null, flag, present;
} slot;

/*
 * Write the indicators of one area and period (rules of the former SQL):
 * ratio = numerator / denominator × scale when both have a value and the
 * denominator is not 0; flag 2 if either is suppressed, 1 if either is
 * missing or the denominator 0, else the larger flag. A count =
 * numerator × scale with the numerator's flag. Rows only where the
 * variables exist.
 */
static int write_group(kz_db *db, kz_ctx *ctx, sqlite3_stmt *ins, const char *level,
                       const char *key, const char *period, ratio_def *defs, size_t n_defs,
                       const slot *slots)
{
    size_t i;
    int rc;
    sqlite3_bind_text(ins, 1, level, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, period, -1, SQLITE_STATIC);
    for (i = 0; i < n_defs; i++) {
        ratio_def *d = &defs[i];
        const slot *n = &slots[d->num];
        if (!n->present)
            continue;
        sqlite3_bind_text(ins, 4, d->name, -1, SQLITE_STATIC);
        if (d->den < 0) {
            if (n->is_null)
                sqlite3_bind_null(ins, 5);
            else
                sqlite3_bind_double(ins, 5, n->value * d->scale);
            if (n->is_null)
                sqlite3_bind_null(ins, 6);
            else
                sqlite3_bind_double(ins, 6, n->value);
            sqlite3_bind_null(ins, 7);
            sqlite3_bind_int(ins, 8, n->flag);
        } else {
            const slot *q = &slots[d->den];
            int bad;
            if (!q->present)
                continue;
            bad = n->is_null || q->is_null || q->value == 0.0;
            if (bad)
                sqlite3_bind_null(ins, 5);
            else
                sqlite3_bind_double(ins, 5, n->value / q->value * d->scale);
            if (n->is_null)
                sqlite3_bind_null(ins, 6);
            else
                sqlite3_bind_double(ins, 6, n->value);
            if (q->is_null)
                sqlite3_bind_null(ins, 7);
            else
                sqlite3_bind_double(ins, 7, q->value);
            sqlite3_bind_int(ins, 8,
                             n->flag == KZ_FLAG_SUPPRESSED || q->flag == KZ_FLAG_SUPPRESSED
                                 ? KZ_FLAG_SUPPRESSED
                             : bad               ? KZ_FLAG_MISSING
                             : n->flag > q->flag ? n->flag
                                                 : q->flag);
        }
        if ((rc = kz_store__step_done(db, ctx, ins, "computing an indicator")) != KZ_OK)
            return rc;
        d->count++;
    }
    return KZ_OK;
}

int kz_compute_indicators(kz_db *db, kz_ctx *ctx)
{
    sqlite3_stmt *cat = NULL, *st = NULL, *ins = NULL;
    names vars = {NULL, NULL, 0, 0};
    ratio_def *defs = NULL;
    slot *slots = NULL;
    size_t n_defs = 0, cap = 0, i;
    text_buf level = {NULL, 0}, key = {NULL, 0}, period = {NULL, 0};
    char *sql = NULL;
    int rc, started = 0;

    if ((rc = kz_store__exec(db, ctx,
                             "DELETE FROM indicator_value WHERE indicator IN"
                             " (SELECT name FROM indicator WHERE kind = 'ratio')")) != KZ_OK)
        return rc;
    if ((vars.map = kz_strmap__new()) == NULL)
        goto nomem;
    if ((rc = kz_store__prepare(db, ctx, &cat,
                                "SELECT name, numerator, denominator, scale FROM indicator"
                                " WHERE kind = 'ratio' ORDER BY ord")) != KZ_OK)
        goto done;
    while ((rc = sqlite3_step(cat)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(cat, 0);
        const char *num = (const char *)sqlite3_column_text(cat, 1);
        const char *den = (const char *)sqlite3_column_text(cat, 2);
        ratio_def *d;
        if (n_defs == cap) {
            ratio_def *more = realloc(defs, (cap ? 2 * cap : 16) * sizeof(*defs));
            if (more == NULL)
                goto nomem;
            defs = more;
            cap = cap ? 2 * cap : 16;
        }
        d = &defs[n_defs];
        memset(d, 0, sizeof(*d));
        if ((d->name = malloc(strlen(name) + 1)) == NULL)
            goto nomem;
        memcpy(d->name, name, strlen(name) + 1);
        n_defs++;
        d->scale = sqlite3_column_double(cat, 3);
        d->den = -1;
        if (num == NULL || (d->num = intern(&vars, num)) < 0 ||
            (den != NULL && (d->den = intern(&vars, den)) < 0))
            goto nomem;
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
        goto done;
    }
    if (n_defs == 0) {
        rc = KZ_OK;
        goto done;
    }
    for (i = 0; i < n_defs; i++) {
        defs[i].num_name = vars.at[defs[i].num];
        defs[i].den_name = defs[i].den >= 0 ? vars.at[defs[i].den] : NULL;
    }
    /* Written in the primary key's order of indicator_value: appends. */
    qsort(defs, n_defs, sizeof(*defs), by_name);
    if ((slots = calloc(vars.n, sizeof(*slots))) == NULL ||
        (sql = malloc(128 + 3 * vars.n)) == NULL)
        goto nomem;
    /* One scan of the values the catalogue needs, in key order. */
    {
        size_t at = (size_t)snprintf(sql, 128,
                                     "SELECT level, key, period, variable, value, flag"
                                     " FROM value WHERE variable IN (");
        for (i = 0; i < vars.n; i++)
            at += (size_t)snprintf(sql + at, 4, "%s?", i ? "," : "");
        memcpy(sql + at, ")", 2);
    }
    if ((rc = kz_store__prepare(db, ctx, &st, sql)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &ins,
                                "INSERT INTO indicator_value(level, key, period, indicator,"
                                " value, numerator, denominator, flag)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")) != KZ_OK)
        goto done;
    for (i = 0; i < vars.n; i++)
        sqlite3_bind_text(st, (int)i + 1, vars.at[i], -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *l = (const char *)sqlite3_column_text(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        const char *p = (const char *)sqlite3_column_text(st, 2);
        long v = kz_strmap__get(vars.map, (const char *)sqlite3_column_text(st, 3));
        if (!started || strcmp(k, key.s) != 0 || strcmp(p, period.s) != 0 ||
            strcmp(l, level.s) != 0) {
            if (started && (rc = write_group(db, ctx, ins, level.s, key.s, period.s, defs, n_defs,
                                             slots)) != KZ_OK)
                goto done;
            if (keep(&level, l) != 0 || keep(&key, k) != 0 || keep(&period, p) != 0)
                goto nomem;
            for (i = 0; i < vars.n; i++)
                slots[i].present = 0;
            started = 1;
        }
        if (v < 0)
            continue;
        slots[v].present = 1;
        slots[v].is_null = sqlite3_column_type(st, 4) == SQLITE_NULL;
        slots[v].value = sqlite3_column_double(st, 4);
        slots[v].flag = sqlite3_column_int(st, 5);
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading values");
        goto done;
    }
    if (started &&
        (rc = write_group(db, ctx, ins, level.s, key.s, period.s, defs, n_defs, slots)) != KZ_OK)
        goto done;
    for (i = 0; i < n_defs; i++) {
        if (defs[i].count == 0)
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "indicator %s: no area has both %s%s%s; check the variable names "
                        "against the tables",
                        defs[i].name, defs[i].num_name, defs[i].den_name ? " and " : "",
                        defs[i].den_name ? defs[i].den_name : "");
        else
            kz_ctx__log(ctx, KZ_LOG_INFO, "indicator %s: %ld values", defs[i].name, defs[i].count);
    }
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing indicators");
done:
    sqlite3_finalize(cat);
    sqlite3_finalize(st);
    sqlite3_finalize(ins);
    for (i = 0; i < n_defs; i++)
        free(defs[i].name);
    free(defs);
    free(slots);
    free(sql);
    free(level.s);
    free(key.s);
    free(period.s);
    names_free(&vars);
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
