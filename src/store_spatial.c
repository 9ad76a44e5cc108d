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
    kz_store_ind_history h;
    size_t p;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__ind_history(db, ctx, level, indicator, &h)) != KZ_OK)
        return rc;
    /* Newest first: the history's periods, moved out where a value is. */
    if ((*out = malloc((h.n ? h.n : 1) * sizeof(char *))) == NULL) {
        kz_store__free_history(&h);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    for (p = h.n; p-- > 0;)
        if (kz_store__ind_any_number(&h.block[p])) {
            (*out)[(*n)++] = h.period[p];
            h.period[p] = NULL;
        }
    kz_store__free_history(&h);
    return KZ_OK;
}
