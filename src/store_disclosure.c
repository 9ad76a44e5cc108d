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
 * the indicator blocks, which every export reads.
 */
#include "store_disclosure.h"
#include "ctx_internal.h"
#include "kiez/table.h"
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

/* What disclosure control needs of an indicator of the catalogue. */
typedef struct rule {
    char *name, *numerator, *denominator;
    char *inputs; /* ";a;b;" (derived columns: the counts they divide by), or NULL */
} rule;

typedef struct withhold {
    kz_db *db;
    kz_ctx *ctx;
    rule *rules; /* by name ascending, as the frame's blocks */
    size_t n_rules;
    kz_level_keys keys;  /* of the frame's level */
    long *cell;          /* suppressed cells of the frame: cell index ... */
    char **variable;     /* ... and variable */
    size_t n_cells, cap; /* of cell and variable */
    long *small;         /* areas below the minimum population */
    size_t n_small;
    unsigned char *mark; /* per cell of the level: matched in this step */
    long changes;
} withhold;

static void withhold_clear(withhold *w)
{
    size_t i;
    for (i = 0; i < w->n_cells; i++)
        free(w->variable[i]);
    w->n_cells = 0;
    w->n_small = 0;
}

/* The suppressed cells and small areas of the frame's level and period. */
static int load_withheld(withhold *w, const char *level, const char *period)
{
    sqlite3_stmt *st = NULL;
    int rc;
    withhold_clear(w);
    if ((rc = kz_store__prepare(w->db, w->ctx, &st,
                                "SELECT key, variable FROM disclosure_cell"
                                " WHERE level = ?1 AND period = ?2")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, period);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long c = kz_strmap__get(w->keys.map, (const char *)sqlite3_column_text(st, 0));
        if (c < 0)
            continue;
        if (w->n_cells == w->cap) {
            size_t more = w->cap ? 2 * w->cap : 64;
            long *cells = realloc(w->cell, more * sizeof(long));
            char **vars;
            if (cells != NULL)
                w->cell = cells;
            if (cells == NULL || (vars = realloc(w->variable, more * sizeof(char *))) == NULL)
                goto nomem;
            w->variable = vars;
            w->cap = more;
        }
        if ((w->variable[w->n_cells] = kz_store__column_dup(st, 1)) == NULL)
            goto nomem;
        w->cell[w->n_cells++] = c;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return kz_store__fail(w->db, w->ctx, KZ_E_IO, "reading suppressed cells");
    if ((rc = kz_store__prepare(
             w->db, w->ctx, &st,
             "SELECT key FROM disclosure_area WHERE level = ?1 AND period = ?2")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, period);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long c = kz_strmap__get(w->keys.map, (const char *)sqlite3_column_text(st, 0));
        if (c >= 0)
            w->small[w->n_small++] = c; /* at most one row per area */
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK
                             : kz_store__fail(w->db, w->ctx, KZ_E_IO, "reading small areas");
nomem:
    sqlite3_finalize(st);
    return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
}

static int same(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* ";a;b;" holds b? */
static int listed(const char *list, const char *name)
{
    const char *at;
    size_t len = strlen(name);
    if (list == NULL)
        return 0;
    for (at = strstr(list, name); at != NULL; at = strstr(at + 1, name))
        if (at > list && at[-1] == ';' && at[len] == ';')
            return 1;
    return 0;
}

/* Count and clear the marks of the step. */
static long take_marks(withhold *w)
{
    long n = 0;
    size_t i;
    for (i = 0; i < w->n_cells; i++)
        if (w->mark[w->cell[i]]) {
            w->mark[w->cell[i]] = 0;
            n++;
        }
    return n;
}

/*
 * The rules, in three steps over each block of the frame (each counts
 * the values it touches, as the three UPDATEs of the former SQL did):
 * 1. values built on a suppressed cell: value withheld, the suppressed
 *    numerator or denominator too (the other stays: it is published in its
 *    own right), flag 2;
 * 2. derived columns computed from a withheld count (indicator.inputs,
 *    e.g. coverage places per 100 children): value withheld, flag 2;
 * 3. every value of an area below the minimum population: all withheld,
 *    flag 2.
 */
static int withhold_frame(kz_store_ind_frame *f, void *payload)
{
    withhold *w = payload;
    size_t j, k, r = 0;
    int rc;
    if ((rc = load_withheld(w, f->level, f->period)) != KZ_OK)
        return rc;
    if (w->n_cells == 0 && w->n_small == 0)
        return KZ_OK;
    for (j = 0; j < f->n; j++) {
        kz_store_ind_block *b = &f->block[j];
        const rule *ru;
        long touched = 0;
        while (r < w->n_rules && strcmp(w->rules[r].name, f->indicator[j]) < 0)
            r++;
        if (r == w->n_rules || strcmp(w->rules[r].name, f->indicator[j]) != 0)
            continue;
        ru = &w->rules[r];
        for (k = 0; k < w->n_cells; k++) { /* 1 */
            long c = w->cell[k];
            int num = same(w->variable[k], ru->numerator);
            int den = same(w->variable[k], ru->denominator);
            if (b->flag[c] == KZ_IND_NONE || (!num && !den))
                continue;
            b->value[c] = NAN;
            b->flag[c] = KZ_FLAG_SUPPRESSED;
            if (num)
                b->numerator[c] = NAN;
            if (den)
                b->denominator[c] = NAN;
            w->mark[c] = 1;
        }
        touched += take_marks(w);
        for (k = 0; k < w->n_cells; k++) { /* 2 */
            long c = w->cell[k];
            if (b->flag[c] == KZ_IND_NONE || !listed(ru->inputs, w->variable[k]))
                continue;
            b->value[c] = NAN;
            b->flag[c] = KZ_FLAG_SUPPRESSED;
            w->mark[c] = 1;
        }
        touched += take_marks(w);
        for (k = 0; k < w->n_small; k++) { /* 3 */
            long c = w->small[k];
            if (b->flag[c] == KZ_IND_NONE ||
                (isnan(b->value[c]) && isnan(b->numerator[c]) && isnan(b->denominator[c]) &&
                 b->flag[c] == KZ_FLAG_SUPPRESSED))
                continue;
            b->value[c] = b->numerator[c] = b->denominator[c] = NAN;
            b->flag[c] = KZ_FLAG_SUPPRESSED;
            touched++;
        }
        if (touched > 0 && (rc = kz_store__ind_write(w->db, w->ctx, f->level, f->period,
                                                     f->indicator[j], b)) != KZ_OK)
            return rc;
        w->changes += touched;
    }
    return KZ_OK;
}

static int load_rules(withhold *w)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    if ((rc = kz_store__prepare(w->db, w->ctx, &st,
                                "SELECT name, numerator, denominator,"
                                " CASE WHEN inputs IS NULL THEN NULL ELSE ';' || inputs || ';' END"
                                " FROM indicator ORDER BY name")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rule *ru;
        if (w->n_rules == cap) {
            rule *more = realloc(w->rules, (cap = cap ? 2 * cap : 32) * sizeof(rule));
            if (more == NULL)
                goto nomem;
            w->rules = more;
        }
        ru = &w->rules[w->n_rules++];
        ru->name = kz_store__column_dup(st, 0);
        ru->numerator = kz_store__column_dup(st, 1);
        ru->denominator = kz_store__column_dup(st, 2);
        ru->inputs = kz_store__column_dup(st, 3);
        if (ru->name == NULL)
            goto nomem;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK
                             : kz_store__fail(w->db, w->ctx, KZ_E_IO, "reading the catalogue");
nomem:
    sqlite3_finalize(st);
    return kz_ctx__error(w->ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__apply_disclosure(kz_db *db, kz_ctx *ctx, long *n)
{
    withhold w;
    char **levels = NULL;
    size_t n_levels = 0, i;
    int rc;
    memset(&w, 0, sizeof(w));
    w.db = db;
    w.ctx = ctx;
    *n = 0;
    if ((rc = load_rules(&w)) != KZ_OK ||
        (rc = kz_store__level_names(db, ctx, &levels, &n_levels)) != KZ_OK)
        goto done;
    for (i = 0; i < n_levels; i++) {
        if ((rc = kz_store__level_keys(db, ctx, levels[i], 0, &w.keys)) != KZ_OK)
            goto done;
        free(w.small);
        free(w.mark);
        w.small = malloc((w.keys.n ? w.keys.n : 1) * sizeof(long));
        w.mark = calloc(w.keys.n ? w.keys.n : 1, 1);
        if (w.small == NULL || w.mark == NULL)
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        else
            rc = kz_store__each_ind_frame(db, ctx, levels[i], NULL, withhold_frame, &w);
        kz_store__free_keys(&w.keys);
        if (rc != KZ_OK)
            goto done;
    }
    *n = w.changes;
done:
    withhold_clear(&w);
    for (i = 0; i < w.n_rules; i++) {
        free(w.rules[i].name);
        free(w.rules[i].numerator);
        free(w.rules[i].denominator);
        free(w.rules[i].inputs);
    }
    free(w.rules);
    free(w.cell);
    free(w.variable);
    free(w.small);
    free(w.mark);
    kz_store__free_strings(levels, n_levels);
    return rc;
}
