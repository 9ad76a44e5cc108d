/*
 * SpatiaLite store: indicator values as column blocks.
 *
 * indicator_block holds one row per level, period and indicator with the
 * indicator of every area of the level (cell i = the level's i-th key in
 * key order, as in value_block): n little-endian doubles each for value,
 * numerator and denominator (NaN = no number; the column is NULL when no
 * cell has a number) and n flag bytes (enum kz_flag, or
 * KZ_IND_NONE where the area has no value at all).
 *
 * Why blocks and not one row per value: at national size (10,997
 * municipalities, 20 periods, 21 indicators) the long table had 2.1 M rows
 * with four text key columns; writing them was 60 % of `kiez compute`
 * and reading them back most of the trends and the exports. The
 * GeoPackage keeps the long <level>_series for its users (export_ogr.c).
 */
#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

int kz_store__ind_alloc(kz_ctx *ctx, kz_store_ind_block *b, size_t n)
{
    size_t m = n ? n : 1;
    memset(b, 0, sizeof(*b));
    b->n = n;
    b->value = malloc(m * sizeof(double));
    b->numerator = malloc(m * sizeof(double));
    b->denominator = malloc(m * sizeof(double));
    b->flag = malloc(m);
    if (b->value == NULL || b->numerator == NULL || b->denominator == NULL || b->flag == NULL) {
        kz_store__ind_free(b);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory for a block of %lu values",
                             (unsigned long)n);
    }
    kz_store__ind_clear(b);
    return KZ_OK;
}

void kz_store__ind_clear(kz_store_ind_block *b)
{
    size_t i;
    for (i = 0; i < b->n; i++) {
        b->value[i] = b->numerator[i] = b->denominator[i] = NAN;
        b->flag[i] = KZ_IND_NONE;
    }
}

void kz_store__ind_free(kz_store_ind_block *b)
{
    free(b->value);
    free(b->numerator);
    free(b->denominator);
    free(b->flag);
    memset(b, 0, sizeof(*b));
}

/* One doubles column of a row: n doubles, or all NaN when NULL. */
static int take_doubles(sqlite3_stmt *st, int col, double *out, size_t n)
{
    const unsigned char *blob = sqlite3_column_blob(st, col);
    size_t bytes = (size_t)sqlite3_column_bytes(st, col), i;
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        for (i = 0; i < n; i++)
            out[i] = NAN;
        return 0;
    }
    if (bytes != 8 * n)
        return -1;
    kz_store__decode_doubles(out, blob, n);
    return 0;
}

/* Fill b (b->n cells) from columns col .. col + 4 of st: n, value,
 * numerator, denominator, flag; level, period and indicator name it. */
static int take_block(kz_ctx *ctx, sqlite3_stmt *st, int col, const char *level, const char *period,
                      const char *indicator, kz_store_ind_block *b)
{
    size_t n = (size_t)sqlite3_column_int64(st, col);
    if (n != b->n || take_doubles(st, col + 1, b->value, n) != 0 ||
        take_doubles(st, col + 2, b->numerator, n) != 0 ||
        take_doubles(st, col + 3, b->denominator, n) != 0 ||
        (size_t)sqlite3_column_bytes(st, col + 4) != n)
        return kz_ctx__error(ctx, KZ_E_IO,
                             "indicator block %s, %s, %s: %lu values for %lu areas; the areas "
                             "changed after the indicators were computed, or the block is "
                             "damaged: run kiez compute again",
                             level, period, indicator, (unsigned long)n, (unsigned long)b->n);
    memcpy(b->flag, sqlite3_column_blob(st, col + 4), n);
    return KZ_OK;
}

int kz_store__ind_read(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                       const char *indicator, kz_store_ind_block *b, int *found)
{
    sqlite3_stmt *st = NULL;
    int rc;
    *found = 0;
    kz_store__ind_clear(b);
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT n, value, numerator, denominator, flag FROM indicator_block"
                                " WHERE level = ?1 AND period = ?2 AND indicator = ?3")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, period);
    kz_store__bind_text(st, 3, indicator);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = take_block(ctx, st, 0, level, period, indicator, b);
        *found = rc == KZ_OK;
    } else {
        rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading indicators");
    }
    sqlite3_finalize(st);
    return rc;
}

/* Bind n doubles as a blob (into buf, 8n bytes), or NULL when all are NaN. */
static void bind_doubles(sqlite3_stmt *st, int i, const double *v, size_t n, unsigned char *buf)
{
    size_t k;
    for (k = 0; k < n && isnan(v[k]); k++)
        ;
    if (k == n) {
        sqlite3_bind_null(st, i);
        return;
    }
    kz_store__encode_doubles(buf, v, n);
    sqlite3_bind_blob(st, i, buf, (int)(8 * n), SQLITE_STATIC);
}

int kz_store__ind_write(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        const char *indicator, const kz_store_ind_block *b)
{
    sqlite3_stmt *st = NULL;
    unsigned char *buf = NULL;
    size_t i;
    int rc;
    for (i = 0; i < b->n && b->flag[i] == KZ_IND_NONE; i++)
        ;
    if (i == b->n) {
        rc = kz_store__prepare(db, ctx, &st,
                               "DELETE FROM indicator_block WHERE level = ?1 AND period = ?2"
                               " AND indicator = ?3");
    } else {
        if ((buf = malloc(3 * 8 * b->n)) == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        rc = kz_store__prepare(db, ctx, &st,
                               "INSERT OR REPLACE INTO indicator_block(level, period, indicator,"
                               " n, value, numerator, denominator, flag)"
                               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        if (rc == KZ_OK) {
            sqlite3_bind_int64(st, 4, (sqlite3_int64)b->n);
            bind_doubles(st, 5, b->value, b->n, buf);
            bind_doubles(st, 6, b->numerator, b->n, buf + 8 * b->n);
            bind_doubles(st, 7, b->denominator, b->n, buf + 16 * b->n);
            sqlite3_bind_blob(st, 8, b->flag, (int)b->n, SQLITE_STATIC);
        }
    }
    if (rc == KZ_OK) {
        kz_store__bind_text(st, 1, level);
        kz_store__bind_text(st, 2, period);
        kz_store__bind_text(st, 3, indicator);
        rc = kz_store__step_done(db, ctx, st, "writing indicators");
    }
    sqlite3_finalize(st);
    free(buf);
    return rc;
}

int kz_store__ind_history(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                          kz_store_ind_history *h)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0, n_cells;
    int rc;
    memset(h, 0, sizeof(*h));
    if ((rc = kz_store__prepare(db, ctx, &st, "SELECT COUNT(*) FROM area WHERE level = ?1")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    rc = sqlite3_step(st);
    n_cells = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return kz_store__fail(db, ctx, KZ_E_IO, "counting areas");
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT period, n, value, numerator, denominator, flag"
                                " FROM indicator_block WHERE level = ?1 AND indicator = ?2"
                                " ORDER BY period")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, indicator);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (h->n == cap) {
            size_t more = cap ? 2 * cap : 16;
            char **p = realloc(h->period, more * sizeof(char *));
            kz_store_ind_block *b;
            if (p != NULL)
                h->period = p;
            if (p == NULL || (b = realloc(h->block, more * sizeof(*b))) == NULL)
                goto nomem;
            h->block = b;
            cap = more;
        }
        if ((h->period[h->n] = kz_store__column_dup(st, 0)) == NULL)
            goto nomem;
        if ((rc = kz_store__ind_alloc(ctx, &h->block[h->n], n_cells)) != KZ_OK) {
            free(h->period[h->n]);
            goto fail;
        }
        h->n++;
        if ((rc = take_block(ctx, st, 1, level, h->period[h->n - 1], indicator,
                             &h->block[h->n - 1])) != KZ_OK)
            goto fail;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    kz_store__free_history(h);
    return kz_store__fail(db, ctx, KZ_E_IO, "reading indicators");
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
fail:
    sqlite3_finalize(st);
    kz_store__free_history(h);
    return rc;
}

int kz_store__ind_any_number(const kz_store_ind_block *b)
{
    size_t i;
    for (i = 0; i < b->n; i++)
        if (!isnan(b->value[i]))
            return 1;
    return 0;
}

void kz_store__free_history(kz_store_ind_history *h)
{
    size_t i;
    for (i = 0; i < h->n; i++) {
        free(h->period[i]);
        kz_store__ind_free(&h->block[i]);
    }
    free(h->period);
    free(h->block);
    memset(h, 0, sizeof(*h));
}

/* Read every block of the frame's level and period into f (growing its
 * arrays; blocks allocated beyond f->n stay for the next period). */
static int read_frame(kz_db *db, kz_ctx *ctx, kz_store_ind_frame *f, size_t *cap)
{
    sqlite3_stmt *st = NULL;
    int rc;
    size_t i;
    for (i = 0; i < f->n; i++) {
        free(f->indicator[i]);
        f->indicator[i] = NULL;
    }
    f->n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT indicator, n, value, numerator, denominator, flag"
                                " FROM indicator_block WHERE level = ?1 AND period = ?2"
                                " ORDER BY indicator")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, f->level);
    kz_store__bind_text(st, 2, f->period);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->n == *cap) {
            size_t more = *cap ? 2 * *cap : 16;
            char **names = realloc(f->indicator, more * sizeof(char *));
            kz_store_ind_block *b;
            if (names != NULL)
                f->indicator = names;
            if (names == NULL || (b = realloc(f->block, more * sizeof(*b))) == NULL) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
            f->block = b;
            for (i = *cap; i < more; i++) {
                memset(&f->block[i], 0, sizeof(f->block[i]));
                f->indicator[i] = NULL;
            }
            *cap = more;
        }
        if (f->block[f->n].value == NULL &&
            (rc = kz_store__ind_alloc(ctx, &f->block[f->n], f->n_cells)) != KZ_OK)
            goto done;
        if ((f->indicator[f->n] = kz_store__column_dup(st, 0)) == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        f->n++;
        if ((rc = take_block(ctx, st, 1, f->level, f->period, f->indicator[f->n - 1],
                             &f->block[f->n - 1])) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading indicators");
done:
    sqlite3_finalize(st);
    return rc;
}

int kz_store__each_ind_frame(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                             kz_store_ind_frame_fn fn, void *payload)
{
    kz_store_ind_frame f;
    kz_level_keys keys;
    char **periods = NULL;
    size_t n_periods = 0, cap = 0, p;
    int rc;

    memset(&f, 0, sizeof(f));
    memset(&keys, 0, sizeof(keys));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &keys)) != KZ_OK)
        return rc;
    /* The periods to visit: the one given (an empty frame when it has no
     * blocks) or all the level's. */
    if (period == NULL &&
        (rc = kz_store__strings(db, ctx,
                                "SELECT DISTINCT period FROM indicator_block WHERE level = ?1"
                                " ORDER BY period",
                                level, &periods, &n_periods)) != KZ_OK)
        goto done;
    f.level = level;
    f.keys = (const char *const *)keys.keys;
    f.n_cells = keys.n;
    for (p = 0; p < (period != NULL ? 1 : n_periods); p++) {
        f.period = period != NULL ? period : periods[p];
        /* No statement is open during fn: it may write the blocks back. */
        if ((rc = read_frame(db, ctx, &f, &cap)) != KZ_OK || (rc = fn(&f, payload)) != KZ_OK)
            goto done;
    }
done:
    for (p = 0; p < cap; p++) {
        free(f.indicator[p]);
        kz_store__ind_free(&f.block[p]);
    }
    free(f.indicator);
    free(f.block);
    kz_store__free_strings(periods, n_periods);
    kz_store__free_keys(&keys);
    return rc;
}

long kz_store__ind_find(const kz_store_ind_frame *f, const char *indicator)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) { /* names ascending (ORDER BY indicator, BINARY = strcmp) */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->indicator[mid], indicator);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}
