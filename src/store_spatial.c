/*
 * SpatiaLite store: reads for the spatial statistics (store_spatial.h).
 */
#include "store_spatial.h"
#include "ctx_internal.h"
#include "store.h"

#include <sqlite3.h>

#include <stdlib.h>
#include <string.h>

void kz_store__free_geoms(kz_store_geoms *g)
{
    size_t i;
    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++) {
        if (g->keys)
            free(g->keys[i]);
        if (g->wkb)
            free(g->wkb[i]);
    }
    free(g->keys);
    free(g->wkb);
    free(g->wkb_size);
    memset(g, 0, sizeof(*g));
}

static int grow(kz_store_geoms *g, size_t *cap)
{
    size_t c = *cap ? *cap * 2 : 256;
    char **k = realloc(g->keys, c * sizeof(*k));
    unsigned char **w;
    size_t *s;
    if (k == NULL)
        return -1;
    g->keys = k;
    if ((w = realloc(g->wkb, c * sizeof(*w))) == NULL)
        return -1;
    g->wkb = w;
    if ((s = realloc(g->wkb_size, c * sizeof(*s))) == NULL)
        return -1;
    g->wkb_size = s;
    *cap = c;
    return 0;
}

int kz_store__level_geoms(kz_db *db, kz_ctx *ctx, const char *level, kz_store_geoms *out)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    /* ORDER BY key as kz_store__level_keys and kz_store__each_area. */
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, AsBinary(geom) FROM area WHERE level = ?1"
                                " ORDER BY key")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const void *blob = sqlite3_column_blob(st, 1);
        size_t klen, blen = (size_t)sqlite3_column_bytes(st, 1);
        if (key == NULL)
            key = "";
        if (blob == NULL || blen == 0) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "level %s: area %s has no geometry", level, key);
            goto fail;
        }
        if (out->n == cap && grow(out, &cap) != 0)
            goto nomem;
        klen = strlen(key) + 1;
        out->keys[out->n] = malloc(klen);
        out->wkb[out->n] = malloc(blen);
        out->wkb_size[out->n] = blen;
        out->n++; /* counted now, so kz_store__free_geoms frees a partial row */
        if (out->keys[out->n - 1] == NULL || out->wkb[out->n - 1] == NULL)
            goto nomem;
        memcpy(out->keys[out->n - 1], key, klen);
        memcpy(out->wkb[out->n - 1], blob, blen);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_geoms(out);
        return kz_store__fail(db, ctx, KZ_E_IO, "reading area geometries");
    }
    return KZ_OK;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
fail:
    sqlite3_finalize(st);
    kz_store__free_geoms(out);
    return rc;
}

int kz_store__value_periods(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                            char ***out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    char **list = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT DISTINCT period FROM indicator_value WHERE level = ?1"
                                " AND indicator = ?2 AND value IS NOT NULL"
                                " ORDER BY period DESC")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, indicator);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        size_t len = p ? strlen(p) + 1 : 1;
        if (*n == cap) {
            char **more = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(*more));
            if (more == NULL)
                goto nomem;
            list = more;
        }
        if ((list[*n] = malloc(len)) == NULL)
            goto nomem;
        memcpy(list[*n], p ? p : "", len);
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_strings(list, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading periods");
    }
    *out = list;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_strings(list, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}
