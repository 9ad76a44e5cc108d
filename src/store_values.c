/*
 * SpatiaLite store: the imported and aggregated values of the variables,
 * as column blocks.
 *
 * One row of value_block holds one variable of one level and period for
 * every area of the level: `value` is n IEEE-754 doubles, little-endian,
 * NaN where there is no number; `flag` is n bytes, one per area, in the
 * level's key order (area.key, SQLite's BINARY collation, the order of
 * kz_store__level_keys()). A flag byte is KZ_CELL_ABSENT (no value for
 * that area) or an enum kz_flag, with KZ_CELL_COMPUTED set when the value
 * was summed from the child level by kz_compute_aggregates() rather than
 * imported. `computed` counts those cells, so a new aggregation finds the
 * blocks to clean without reading the others.
 *
 * Why blocks and not one row per value: at national size (10,997
 * municipalities x 20 periods x 50 variables, tools/bench_pipeline.py)
 * one row per value meant 11 million B-tree inserts with four text key
 * columns: 19-22 s of a 50 s run, 80 % of it inside SQLite. A block is
 * one insert per 11,000 values, and the methods read whole columns anyway.
 *
 * Writing goes through a buffer (struct kz_value_buffer): an import adds
 * values one by one with kz_store__insert_value(); they wait as pending
 * cells (block, area, value, flag, file and line) and are written when
 * the transaction or savepoint commits, when another level is written, or
 * when PENDING_MAX are waiting: grouped by block, each block read, changed
 * and written once per batch. Memory stays flat however large the input,
 * and in any row order: a long table sorted by area touches every block
 * in every few rows, which a buffer of whole blocks could not hold. A
 * value imported twice is reported with the file and line that repeat it.
 * A rollback drops the buffer.
 */
#include "ctx_internal.h"
#include "kiez/table.h"
#include "store.h"
#include "strmap.h"

#include <sqlite3.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Values waiting to be written, at most (32 bytes each: 16 MB). */
#define PENDING_MAX ((size_t)1 << 19)

struct kz_value_buffer {
    char *level;
    kz_level_keys keys; /* the level's areas: cell i is keys.keys[i] */
    char last_key[64];  /* the area of the last value (a row's values share it) */
    long last_at;
    kz_strmap *by_name;        /* "period\x1fvariable" → block index */
    char **period, **variable; /* of block index i */
    size_t n_blocks, cap_blocks;
    size_t last_block; /* of the last value */
    char **sources;    /* paths of the values' files, for messages */
    size_t n_sources;
    struct pending *cells;
    size_t n;
};

/* ---------------------------------------------------------------- blobs */

void kz_store__encode_doubles(unsigned char *out, const double *v, size_t n)
{
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &v[i], sizeof(bits));
        for (k = 0; k < 8; k++)
            out[8 * i + (size_t)k] = (unsigned char)(bits >> (8 * k));
    }
}

void kz_store__decode_doubles(double *v, const unsigned char *in, size_t n)
{
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        uint64_t bits = 0;
        for (k = 0; k < 8; k++)
            bits |= (uint64_t)in[8 * i + (size_t)k] << (8 * k);
        memcpy(&v[i], &bits, sizeof(bits));
    }
}

int kz_store__block_alloc(kz_ctx *ctx, kz_store_block *b, size_t n)
{
    size_t i;
    b->n = n;
    b->value = malloc((n ? n : 1) * sizeof(double));
    b->flag = malloc(n ? n : 1);
    if (b->value == NULL || b->flag == NULL) {
        kz_store__block_free(b);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory for a block of %lu values",
                             (unsigned long)n);
    }
    for (i = 0; i < n; i++) {
        b->value[i] = NAN;
        b->flag[i] = KZ_CELL_ABSENT;
    }
    return KZ_OK;
}

void kz_store__block_free(kz_store_block *b)
{
    free(b->value);
    free(b->flag);
    b->value = NULL;
    b->flag = NULL;
    b->n = 0;
}

/* Fill b (allocated, b->n cells) from a row whose columns col - 2 .. col + 2
 * are period, variable, n, value, flag. */
static int take_row(kz_ctx *ctx, sqlite3_stmt *st, int col, kz_store_block *b)
{
    size_t n = (size_t)sqlite3_column_int64(st, col);
    const unsigned char *v = sqlite3_column_blob(st, col + 1);
    size_t v_bytes = (size_t)sqlite3_column_bytes(st, col + 1);
    const unsigned char *f = sqlite3_column_blob(st, col + 2);
    size_t f_bytes = (size_t)sqlite3_column_bytes(st, col + 2);
    if (n != b->n || v_bytes != 8 * n || f_bytes != n)
        return kz_ctx__error(ctx, KZ_E_IO,
                             "value block %s, %s, %s: %lu values (%lu bytes) for %lu areas; the "
                             "areas changed after the values were imported, or the block is "
                             "damaged: re-import the tables",
                             b->level ? b->level : "",
                             (const char *)sqlite3_column_text(st, col - 2),
                             (const char *)sqlite3_column_text(st, col - 1), (unsigned long)n,
                             (unsigned long)v_bytes, (unsigned long)b->n);
    kz_store__decode_doubles(b->value, v, n);
    memcpy(b->flag, f, n);
    return KZ_OK;
}

int kz_store__read_block(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                         const char *variable, kz_store_block *b, int *found)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    *found = 0;
    for (i = 0; i < b->n; i++) {
        b->value[i] = NAN;
        b->flag[i] = KZ_CELL_ABSENT;
    }
    if ((rc = kz_store__flush_values(db, ctx)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &st,
                                "SELECT period, variable, n, value, flag FROM value_block"
                                " WHERE level = ?1 AND period = ?2 AND variable = ?3")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, period);
    kz_store__bind_text(st, 3, variable);
    b->level = level;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = take_row(ctx, st, 2, b);
        *found = rc == KZ_OK;
    } else {
        rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading values");
    }
    sqlite3_finalize(st);
    return rc;
}

int kz_store__write_block(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                          const char *variable, const kz_store_block *b)
{
    sqlite3_stmt *st = NULL;
    unsigned char *blob = NULL;
    size_t i, present = 0, computed = 0;
    int rc;
    for (i = 0; i < b->n; i++) {
        if (b->flag[i] == KZ_CELL_ABSENT)
            continue;
        present++;
        computed += (b->flag[i] & KZ_CELL_COMPUTED) != 0;
    }
    if (present == 0) {
        if ((rc = kz_store__prepare(db, ctx, &st,
                                    "DELETE FROM value_block WHERE level = ?1 AND period = ?2"
                                    " AND variable = ?3")) != KZ_OK)
            return rc;
    } else {
        if ((blob = malloc(8 * b->n)) == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        kz_store__encode_doubles(blob, b->value, b->n);
        if ((rc = kz_store__prepare(
                 db, ctx, &st,
                 "INSERT OR REPLACE INTO value_block(level, period, variable,"
                 " n, computed, value, flag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) != KZ_OK) {
            free(blob);
            return rc;
        }
        sqlite3_bind_int64(st, 4, (sqlite3_int64)b->n);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)computed);
        sqlite3_bind_blob(st, 6, blob, (int)(8 * b->n), SQLITE_STATIC);
        sqlite3_bind_blob(st, 7, b->flag, (int)b->n, SQLITE_STATIC);
    }
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, period);
    kz_store__bind_text(st, 3, variable);
    rc = kz_store__step_done(db, ctx, st, "writing values");
    sqlite3_finalize(st);
    free(blob);
    return rc;
}

int kz_store__each_block(kz_db *db, kz_ctx *ctx, const char *level, const char *variable,
                         int computed_only, kz_store_block_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    kz_level_keys *keys = NULL; /* one per level met, loaded once */
    char **names = NULL;
    size_t n_levels = 0, i;
    kz_store_block b;
    int rc;
    memset(&b, 0, sizeof(b));
    if ((rc = kz_store__flush_values(db, ctx)) != KZ_OK ||
        (rc = kz_store__prepare(
             db, ctx, &st,
             "SELECT level, period, variable, n, value, flag FROM value_block"
             " WHERE (?1 IS NULL OR level = ?1) AND (?2 IS NULL OR variable = ?2)"
             " AND (?3 = 0 OR computed > 0) ORDER BY period, level, variable")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, variable);
    sqlite3_bind_int(st, 3, computed_only);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *lv = (const char *)sqlite3_column_text(st, 0);
        for (i = 0; i < n_levels && strcmp(names[i], lv) != 0; i++)
            ;
        if (i == n_levels) {
            kz_level_keys *more_keys = realloc(keys, (n_levels + 1) * sizeof(*keys));
            char **more_names;
            if (more_keys != NULL)
                keys = more_keys;
            more_names = realloc(names, (n_levels + 1) * sizeof(*names));
            if (more_names != NULL)
                names = more_names;
            if (more_keys == NULL || more_names == NULL ||
                (names[n_levels] = malloc(strlen(lv) + 1)) == NULL) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
            memcpy(names[n_levels], lv, strlen(lv) + 1);
            if ((rc = kz_store__level_keys(db, ctx, lv, 0, &keys[n_levels])) != KZ_OK) {
                free(names[n_levels]);
                goto done;
            }
            n_levels++;
        }
        if (b.n != keys[i].n) {
            kz_store__block_free(&b);
            if ((rc = kz_store__block_alloc(ctx, &b, keys[i].n)) != KZ_OK)
                goto done;
        }
        b.level = names[i];
        b.period = (const char *)sqlite3_column_text(st, 1);
        b.variable = (const char *)sqlite3_column_text(st, 2);
        b.keys = (const char *const *)keys[i].keys;
        if ((rc = take_row(ctx, st, 3, &b)) != KZ_OK || (rc = fn(&b, payload)) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading values");
done:
    sqlite3_finalize(st);
    kz_store__block_free(&b);
    for (i = 0; i < n_levels; i++) {
        kz_store__free_keys(&keys[i]);
        free(names[i]);
    }
    free(keys);
    free(names);
    return rc;
}

int kz_store__block_names(kz_db *db, kz_ctx *ctx, const char *level, char ***periods,
                          char ***variables, size_t *n)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    *periods = *variables = NULL;
    *n = 0;
    if ((rc = kz_store__flush_values(db, ctx)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &st,
                                "SELECT period, variable FROM value_block WHERE level = ?1"
                                " ORDER BY period, variable")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t more_cap = cap ? 2 * cap : 64;
            char **p = realloc(*periods, more_cap * sizeof(char *));
            char **v;
            if (p != NULL)
                *periods = p;
            v = p ? realloc(*variables, more_cap * sizeof(char *)) : NULL;
            if (v == NULL)
                goto nomem;
            *variables = v;
            cap = more_cap;
        }
        (*periods)[*n] = kz_store__column_dup(st, 0);
        (*variables)[*n] = kz_store__column_dup(st, 1);
        (*n)++;
        if ((*periods)[*n - 1] == NULL || (*variables)[*n - 1] == NULL)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    rc = kz_store__fail(db, ctx, KZ_E_IO, "reading the value blocks");
    goto fail;
nomem:
    sqlite3_finalize(st);
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
fail:
    kz_store__free_strings(*periods, *n);
    kz_store__free_strings(*variables, *n);
    *periods = *variables = NULL;
    *n = 0;
    return rc;
}

/* ---------------------------------------------------------------- buffer */

/* A value waiting to be written: block, area (cell), value, flag, and
 * where it came from (for the message about a repeated value). */
typedef struct pending {
    double value;
    uint32_t block, cell, line;
    uint32_t next;   /* the block's next pending value (apply_pending) */
    uint32_t source; /* index in buf->sources (files in reading order) */
    unsigned char flag;
} pending;

#define NO_CELL UINT32_MAX

static void buffer_clear(kz_value_buffer *buf)
{
    kz_store__free_strings(buf->period, buf->n_blocks);
    kz_store__free_strings(buf->variable, buf->n_blocks);
    buf->period = buf->variable = NULL;
    buf->n_blocks = buf->cap_blocks = 0;
    kz_strmap__free(buf->by_name);
    buf->by_name = NULL;
    buf->n = 0;
}

static void buffer_free(kz_value_buffer *buf)
{
    if (buf == NULL)
        return;
    buffer_clear(buf);
    free(buf->cells);
    kz_store__free_strings(buf->sources, buf->n_sources);
    free(buf->level);
    if (buf->keys.map != NULL)
        kz_store__free_keys(&buf->keys);
    free(buf);
}

void kz_store__drop_values(kz_db *db)
{
    buffer_free(db->values);
    db->values = NULL;
}

/*
 * Write the pending values, block by block: each block read, changed and
 * written once. The values of a block are chained in the order they came
 * (cells[i].next), so a value for a cell that has an imported value
 * already (stored, or earlier in the batch) is the later one: an error
 * naming the file and line that repeat it; of several, the first line.
 */
static int apply_pending(kz_db *db, kz_ctx *ctx, kz_value_buffer *buf)
{
    uint32_t *head = NULL, *tail = NULL, c;
    const pending *dup = NULL;
    kz_store_block b;
    size_t i, k;
    int rc = KZ_OK, found;

    memset(&b, 0, sizeof(b));
    if (buf->n == 0)
        return KZ_OK;
    if ((head = malloc(buf->n_blocks * sizeof(uint32_t))) == NULL ||
        (tail = malloc(buf->n_blocks * sizeof(uint32_t))) == NULL ||
        (rc = kz_store__block_alloc(ctx, &b, buf->keys.n)) != KZ_OK) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory writing values");
        goto done;
    }
    for (k = 0; k < buf->n_blocks; k++)
        head[k] = NO_CELL;
    for (i = 0; i < buf->n; i++) {
        uint32_t blk = buf->cells[i].block;
        buf->cells[i].next = NO_CELL;
        if (head[blk] == NO_CELL)
            head[blk] = (uint32_t)i;
        else
            buf->cells[tail[blk]].next = (uint32_t)i;
        tail[blk] = (uint32_t)i;
    }
    for (k = 0; k < buf->n_blocks && rc == KZ_OK; k++) {
        if (head[k] == NO_CELL)
            continue;
        rc =
            kz_store__read_block(db, ctx, buf->level, buf->period[k], buf->variable[k], &b, &found);
        for (c = head[k]; c != NO_CELL && rc == KZ_OK; c = buf->cells[c].next) {
            const pending *p = &buf->cells[c];
            unsigned char was = b.flag[p->cell];
            /* An aggregate from an earlier kiez compute gives way to an
             * imported value; an imported value does not. */
            if (was != KZ_CELL_ABSENT && !(was & KZ_CELL_COMPUTED)) {
                if (dup == NULL || p->source < dup->source ||
                    (p->source == dup->source && p->line < dup->line))
                    dup = p; /* the first repeat in reading order */
                continue;
            }
            /* Only real values are stored; missing and suppressed cells keep NaN. */
            b.value[p->cell] = p->flag == KZ_FLAG_OK || p->flag == KZ_FLAG_ESTIMATED ||
                                       p->flag == KZ_FLAG_AGGREGATED
                                   ? p->value
                                   : NAN;
            b.flag[p->cell] = p->flag;
        }
        if (rc == KZ_OK && dup == NULL)
            rc = kz_store__write_block(db, ctx, buf->level, buf->period[k], buf->variable[k], &b);
    }
    if (rc == KZ_OK && dup != NULL)
        rc = kz_ctx__error(ctx, KZ_E_INPUT,
                           "%s:%lu: key \"%s\" has a value for \"%s\" in period %s already "
                           "(a duplicate row, or another file of the same level)",
                           buf->sources[dup->source], (unsigned long)dup->line,
                           buf->keys.keys[dup->cell], buf->variable[dup->block],
                           buf->period[dup->block]);
    buf->n = 0;
done:
    free(head);
    free(tail);
    kz_store__block_free(&b);
    return rc;
}

int kz_store__flush_values(kz_db *db, kz_ctx *ctx)
{
    kz_value_buffer *buf = db->values;
    int rc;
    if (buf == NULL)
        return KZ_OK;
    db->values = NULL; /* the reads below must not flush again */
    rc = apply_pending(db, ctx, buf);
    buffer_free(buf);
    return rc;
}

/* The buffer for `level`, writing another level's values first. */
static int buffer_for(kz_db *db, kz_ctx *ctx, const char *level, kz_value_buffer **out)
{
    kz_value_buffer *buf;
    int rc;
    if (db->values != NULL && strcmp(db->values->level, level) == 0) {
        *out = db->values;
        return KZ_OK;
    }
    if ((rc = kz_store__flush_values(db, ctx)) != KZ_OK)
        return rc;
    if ((buf = calloc(1, sizeof(*buf))) == NULL || (buf->level = strdup(level)) == NULL ||
        (buf->cells = malloc(PENDING_MAX * sizeof(pending))) == NULL) {
        if (buf != NULL)
            free(buf->level);
        free(buf);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    buf->last_at = -1;
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &buf->keys)) != KZ_OK) {
        buf->keys.map = NULL;
        buffer_free(buf);
        return rc;
    }
    db->values = *out = buf;
    return KZ_OK;
}

/* The index of block (period, variable) in the buffer, added if new. */
static long block_index(kz_ctx *ctx, kz_value_buffer *buf, const char *period, const char *variable)
{
    char name[512];
    size_t lp = strlen(period), lv = strlen(variable);
    long at;
    if (lp + lv + 2 > sizeof(name)) {
        kz_ctx__error(ctx, KZ_E_INPUT, "variable name \"%s\" too long", variable);
        return -1;
    }
    /* The columns of a wide table come in the same order in every row:
     * try the block after the last one first (the names decide). The
     * hash lookup it saves was a tenth of the national import. */
    if (buf->last_block + 1 < buf->n_blocks &&
        strcmp(buf->variable[buf->last_block + 1], variable) == 0 &&
        strcmp(buf->period[buf->last_block + 1], period) == 0)
        return (long)++buf->last_block;
    /* "period\x1fvariable"; memcpy, as this runs once per value */
    memcpy(name, period, lp);
    name[lp] = '\x1f';
    memcpy(name + lp + 1, variable, lv + 1);
    if (buf->by_name != NULL && (at = kz_strmap__get(buf->by_name, name)) >= 0) {
        buf->last_block = (size_t)at;
        return at;
    }
    if (buf->by_name == NULL && (buf->by_name = kz_strmap__new()) == NULL)
        goto nomem;
    if (buf->n_blocks == buf->cap_blocks) {
        size_t cap = buf->cap_blocks ? 2 * buf->cap_blocks : 64;
        char **p = realloc(buf->period, cap * sizeof(char *));
        char **v;
        if (p != NULL)
            buf->period = p;
        if (p == NULL || (v = realloc(buf->variable, cap * sizeof(char *))) == NULL)
            goto nomem;
        buf->variable = v;
        buf->cap_blocks = cap;
    }
    buf->period[buf->n_blocks] = strdup(period);
    buf->variable[buf->n_blocks] = strdup(variable);
    buf->n_blocks++;
    if (buf->period[buf->n_blocks - 1] == NULL || buf->variable[buf->n_blocks - 1] == NULL ||
        kz_strmap__put(buf->by_name, name, (long)(buf->n_blocks - 1), NULL) < 0)
        goto nomem;
    buf->last_block = buf->n_blocks - 1;
    return (long)buf->last_block;
nomem:
    kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    return -1;
}

/* The index of the source path in the buffer's list (usually the last). */
static long source_index(kz_ctx *ctx, kz_value_buffer *buf, const char *source)
{
    char **more;
    if (buf->n_sources > 0 && strcmp(buf->sources[buf->n_sources - 1], source) == 0)
        return (long)buf->n_sources - 1;
    if ((more = realloc(buf->sources, (buf->n_sources + 1) * sizeof(char *))) == NULL ||
        (more[buf->n_sources] = strdup(source)) == NULL) {
        if (more != NULL)
            buf->sources = more;
        kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        return -1;
    }
    buf->sources = more;
    return (long)buf->n_sources++;
}

int kz_store__insert_value(kz_db *db, kz_ctx *ctx, const char *level, const char *key,
                           const char *period, const char *variable, double value, int flag,
                           const char *source, long line)
{
    kz_value_buffer *buf = NULL;
    pending *c;
    long i, block, src;
    int rc;
    if ((rc = buffer_for(db, ctx, level, &buf)) != KZ_OK)
        return rc;
    if (strcmp(key, buf->last_key) == 0 && buf->last_at >= 0) {
        i = buf->last_at; /* a row's values share the area */
    } else {
        if ((i = kz_strmap__get(buf->keys.map, key)) < 0)
            return kz_ctx__error(ctx, KZ_E_INTERNAL, "%s %s: not an area of the level", level, key);
        buf->last_at = -1;
        if (strlen(key) < sizeof(buf->last_key)) {
            memcpy(buf->last_key, key, strlen(key) + 1);
            buf->last_at = i;
        }
    }
    if ((block = block_index(ctx, buf, period, variable)) < 0 ||
        (src = source_index(ctx, buf, source ? source : "")) < 0)
        return ctx->errcode;
    if (buf->n == PENDING_MAX) {
        db->values = NULL; /* reads while applying must not flush */
        rc = apply_pending(db, ctx, buf);
        db->values = buf;
        if (rc != KZ_OK)
            return rc;
    }
    c = &buf->cells[buf->n++];
    c->value = value;
    c->block = (uint32_t)block;
    c->cell = (uint32_t)i;
    c->line = line > 0 && line < (long)UINT32_MAX ? (uint32_t)line : 0;
    c->source = (uint32_t)src;
    c->flag = (unsigned char)flag;
    return KZ_OK;
}

int kz_store__clear_level_values(kz_db *db, kz_ctx *ctx, const char *level)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (db->values != NULL && strcmp(db->values->level, level) == 0)
        kz_store__drop_values(db);
    else if ((rc = kz_store__flush_values(db, ctx)) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &st, "DELETE FROM value_block WHERE level = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    rc = kz_store__step_done(db, ctx, st, "clearing the level");
    sqlite3_finalize(st);
    return rc;
}
