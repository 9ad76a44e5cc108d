/*
 * SpatiaLite store: what needs for action and disclosure control read
 * (parent links, the area tree, raw counts) and how disclosure control
 * withholds indicator values.
 *
 * The value blocks keep the true counts (the database is the statistics
 * office's working copy); the decisions are recorded in two tables,
 * disclosure_cell(level, key, period, variable, status) (status 1 primary,
 * 2 secondary, as in disclosure.h) and disclosure_area(level, key, period,
 * population) (areas below the minimum population), and applied to
 * indicator_value, which every export reads.
 */
#include "store_disclosure.h"
#include "ctx_internal.h"
#include "strmap.h"

#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_text(const unsigned char *s)
{
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen((const char *)s) + 1;
    if ((d = malloc(n)) != NULL)
        memcpy(d, s, n);
    return d;
}

int kz_store__parents(kz_db *db, kz_ctx *ctx, const char *level, char *const *keys, size_t n,
                      char **parent_level, char ***parent_keys)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    *parent_level = NULL;
    if ((*parent_keys = calloc(n ? n : 1, sizeof(char *))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(db, ctx, &st, "SELECT parent FROM level WHERE name = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
        (*parent_level = dup_text(sqlite3_column_text(st, 0))) == NULL) {
        sqlite3_finalize(st);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    if (*parent_level == NULL)
        return KZ_OK;
    if ((rc = kz_store__prepare(
             db, ctx, &st, "SELECT parent_key FROM area WHERE level = ?1 AND key = ?2")) != KZ_OK)
        return rc;
    for (i = 0; i < n && rc == KZ_OK; i++) {
        kz_store__bind_text(st, 1, level);
        kz_store__bind_text(st, 2, keys[i]);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
            ((*parent_keys)[i] = dup_text(sqlite3_column_text(st, 0))) == NULL)
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

void kz_store__free_tree(kz_store_tree *t)
{
    kz_store__free_strings(t->level, t->n);
    kz_store__free_strings(t->key, t->n);
    free(t->parent);
    free(t->group);
    kz_strmap__free(t->map);
    memset(t, 0, sizeof(*t));
}

/* "level\x1fkey": level names are identifiers, so the separator is unique. */
static int tree_key(char *buf, size_t size, const char *level, const char *key)
{
    int w = snprintf(buf, size, "%s\x1f%s", level, key);
    return w >= 0 && (size_t)w < size ? 0 : -1;
}

int kz_store__area_tree(kz_db *db, kz_ctx *ctx, kz_store_tree *t)
{
    sqlite3_stmt *st = NULL;
    char **plevel = NULL, **pkey = NULL, buf[600];
    size_t cap = 0, i;
    int rc;
    memset(t, 0, sizeof(*t));
    if ((t->map = kz_strmap__new()) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT a.level, a.key, l.parent, a.parent_key FROM area a"
                                " JOIN level l ON l.name = a.level"
                                " ORDER BY l.rank DESC, a.level, a.key")) != KZ_OK)
        goto done;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (t->n == cap) {
            size_t nc = cap ? 2 * cap : 256;
            char **a = realloc(t->level, nc * sizeof(char *)), **b, **c, **d;
            if (a != NULL)
                t->level = a;
            b = a ? realloc(t->key, nc * sizeof(char *)) : NULL;
            if (b != NULL)
                t->key = b;
            c = b ? realloc(plevel, nc * sizeof(char *)) : NULL;
            if (c != NULL)
                plevel = c;
            d = c ? realloc(pkey, nc * sizeof(char *)) : NULL;
            if (d == NULL)
                goto nomem;
            pkey = d;
            cap = nc;
        }
        t->level[t->n] = dup_text(sqlite3_column_text(st, 0));
        t->key[t->n] = dup_text(sqlite3_column_text(st, 1));
        plevel[t->n] = dup_text(sqlite3_column_text(st, 2));
        pkey[t->n] = dup_text(sqlite3_column_text(st, 3));
        t->n++;
        if (t->level[t->n - 1] == NULL || t->key[t->n - 1] == NULL ||
            (sqlite3_column_type(st, 2) != SQLITE_NULL && plevel[t->n - 1] == NULL) ||
            (sqlite3_column_type(st, 3) != SQLITE_NULL && pkey[t->n - 1] == NULL))
            goto nomem;
        if (tree_key(buf, sizeof(buf), t->level[t->n - 1], t->key[t->n - 1]) != 0)
            continue; /* a key longer than any real one: no parent lookups reach it */
        if (kz_strmap__put(t->map, buf, (long)(t->n - 1), NULL) < 0)
            goto nomem;
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading the areas");
        goto done;
    }
    if ((t->parent = malloc((t->n ? t->n : 1) * sizeof(long))) == NULL ||
        (t->group = malloc((t->n ? t->n : 1) * sizeof(int))) == NULL)
        goto nomem;
    for (i = 0; i < t->n; i++) {
        /* Rows come ordered by level: a new level, a new group. */
        t->group[i] = i == 0 ? 0 : t->group[i - 1] + (strcmp(t->level[i], t->level[i - 1]) != 0);
        t->parent[i] = -1;
        if (plevel[i] != NULL && pkey[i] != NULL &&
            tree_key(buf, sizeof(buf), plevel[i], pkey[i]) == 0) {
            long at = kz_strmap__get(t->map, buf);
            t->parent[i] = at >= 0 ? at : -1;
        }
    }
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
done:
    sqlite3_finalize(st);
    kz_store__free_strings(plevel, t->n);
    kz_store__free_strings(pkey, t->n);
    if (rc != KZ_OK)
        kz_store__free_tree(t);
    return rc;
}

int kz_store__variable_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(
             db, ctx, &st, "SELECT DISTINCT variable FROM value_block ORDER BY variable")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            char **more = realloc(*out, (cap = cap ? 2 * cap : 32) * sizeof(char *));
            if (more == NULL)
                break;
            *out = more;
        }
        if (((*out)[*n] = dup_text(sqlite3_column_text(st, 0))) == NULL)
            break;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    kz_store__free_strings(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == SQLITE_ROW ? kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory")
                            : kz_store__fail(db, ctx, KZ_E_IO, "reading the variables");
}

/* each_cell: every present cell of a block, to the caller's function. */
typedef struct cell_walk {
    kz_store_cell_fn fn;
    void *payload;
} cell_walk;

static int walk_cells(const kz_store_block *b, void *payload)
{
    const cell_walk *w = payload;
    size_t i;
    int rc;
    for (i = 0; i < b->n; i++)
        if (b->flag[i] != KZ_CELL_ABSENT &&
            (rc = w->fn(b->level, b->keys[i], b->period, b->value[i], w->payload)) != KZ_OK)
            return rc;
    return KZ_OK;
}

int kz_store__each_cell(kz_db *db, kz_ctx *ctx, const char *variable, kz_store_cell_fn fn,
                        void *payload)
{
    cell_walk w;
    w.fn = fn;
    w.payload = payload;
    return kz_store__each_block(db, ctx, NULL, variable, 0, walk_cells, &w);
}

int kz_store__disclosure_reset(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx,
                          "CREATE TABLE IF NOT EXISTS disclosure_cell(level TEXT NOT NULL,"
                          " key TEXT NOT NULL, period TEXT NOT NULL, variable TEXT NOT NULL,"
                          " status INTEGER NOT NULL,"
                          " PRIMARY KEY(level, key, period, variable)) WITHOUT ROWID;"
                          "CREATE TABLE IF NOT EXISTS disclosure_area(level TEXT NOT NULL,"
                          " key TEXT NOT NULL, period TEXT NOT NULL, population REAL,"
                          " PRIMARY KEY(level, key, period)) WITHOUT ROWID;"
                          "DELETE FROM disclosure_cell; DELETE FROM disclosure_area;");
}

int kz_store__put_suppressed(kz_db *db, kz_ctx *ctx, const char *variable, const char *period,
                             const kz_store_tree *t, const unsigned char *status)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT OR REPLACE INTO disclosure_cell(level, key, period,"
                                " variable, status) VALUES (?1, ?2, ?3, ?4, ?5)")) != KZ_OK)
        return rc;
    for (i = 0; i < t->n && rc == KZ_OK; i++) {
        if (status[i] == 0)
            continue;
        kz_store__bind_text(st, 1, t->level[i]);
        kz_store__bind_text(st, 2, t->key[i]);
        kz_store__bind_text(st, 3, period);
        kz_store__bind_text(st, 4, variable);
        sqlite3_bind_int(st, 5, status[i]);
        rc = kz_store__step_done(db, ctx, st, "recording a suppressed cell");
    }
    sqlite3_finalize(st);
    return rc;
}

/* small_areas: the areas of a block whose population is below min. */
typedef struct small_walk {
    kz_db *db;
    kz_ctx *ctx;
    sqlite3_stmt *ins;
    double min;
    long n;
} small_walk;

static int walk_small(const kz_store_block *b, void *payload)
{
    small_walk *w = payload;
    size_t i;
    int rc;
    for (i = 0; i < b->n; i++) {
        if (b->flag[i] == KZ_CELL_ABSENT || isnan(b->value[i]) || !(b->value[i] < w->min))
            continue;
        kz_store__bind_text(w->ins, 1, b->level);
        kz_store__bind_text(w->ins, 2, b->keys[i]);
        kz_store__bind_text(w->ins, 3, b->period);
        sqlite3_bind_double(w->ins, 4, b->value[i]);
        if ((rc = kz_store__step_done(w->db, w->ctx, w->ins,
                                      "finding areas below the minimum population")) != KZ_OK)
            return rc;
        w->n++;
    }
    return KZ_OK;
}

int kz_store__small_areas(kz_db *db, kz_ctx *ctx, const char *population, double min, long *n)
{
    small_walk w;
    int rc;
    *n = 0;
    memset(&w, 0, sizeof(w));
    w.db = db;
    w.ctx = ctx;
    w.min = min;
    if ((rc = kz_store__prepare(db, ctx, &w.ins,
                                "INSERT INTO disclosure_area(level, key, period, population)"
                                " VALUES (?1, ?2, ?3, ?4)")) != KZ_OK)
        return rc;
    rc = kz_store__each_block(db, ctx, NULL, population, 0, walk_small, &w);
    sqlite3_finalize(w.ins);
    *n = w.n;
    return rc;
}

/* Indicator values built on a suppressed cell: value withheld, the
 * suppressed numerator or denominator too (the other stays: it is
 * published in its own right), flag 2. Then every value of an area below
 * the minimum population. */
static const char *const apply_cells_sql =
    "UPDATE indicator_value SET value = NULL, flag = 2,"
    " numerator = CASE WHEN EXISTS (SELECT 1 FROM disclosure_cell s JOIN indicator i"
    "  ON i.name = indicator_value.indicator AND s.variable = i.numerator"
    "  WHERE s.level = indicator_value.level AND s.key = indicator_value.key"
    "  AND s.period = indicator_value.period) THEN NULL ELSE numerator END,"
    " denominator = CASE WHEN EXISTS (SELECT 1 FROM disclosure_cell s JOIN indicator i"
    "  ON i.name = indicator_value.indicator AND s.variable = i.denominator"
    "  WHERE s.level = indicator_value.level AND s.key = indicator_value.key"
    "  AND s.period = indicator_value.period) THEN NULL ELSE denominator END"
    " WHERE (level, key, period, indicator) IN (SELECT s.level, s.key, s.period, i.name"
    "  FROM disclosure_cell s JOIN indicator i"
    "  ON s.variable = i.numerator OR s.variable = i.denominator)";

/* Derived columns computed from a withheld count (indicator.inputs, e.g.
 * coverage places per 100 children): value withheld, flag 2. */
static const char *const apply_inputs_sql =
    "UPDATE indicator_value SET value = NULL, flag = 2"
    " WHERE (level, key, period, indicator) IN (SELECT s.level, s.key, s.period, i.name"
    "  FROM disclosure_cell s JOIN indicator i ON i.inputs IS NOT NULL"
    "  AND instr(';' || i.inputs || ';', ';' || s.variable || ';') > 0)";

static const char *const apply_areas_sql =
    "UPDATE indicator_value SET value = NULL, numerator = NULL, denominator = NULL, flag = 2"
    " WHERE (level, key, period) IN (SELECT level, key, period FROM disclosure_area)"
    " AND (value IS NOT NULL OR numerator IS NOT NULL OR denominator IS NOT NULL OR flag <> 2)";

int kz_store__apply_disclosure(kz_db *db, kz_ctx *ctx, long *n)
{
    int rc;
    *n = 0;
    if ((rc = kz_store__exec(db, ctx, apply_cells_sql)) != KZ_OK)
        return rc;
    *n = sqlite3_changes(db->sql);
    if ((rc = kz_store__exec(db, ctx, apply_inputs_sql)) != KZ_OK)
        return rc;
    *n += sqlite3_changes(db->sql);
    if ((rc = kz_store__exec(db, ctx, apply_areas_sql)) != KZ_OK)
        return rc;
    *n += sqlite3_changes(db->sql);
    return KZ_OK;
}
