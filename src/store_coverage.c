/*
 * SpatiaLite store: what the coverage step reads (areas as WKB, variable
 * values) and writes (demand points, table demand_point).
 *
 *   demand_point(id PK, layer, area_key, weight, distance, access, x, y)
 *
 * The coverage step creates the table (and drops it when the project has no
 * coverage), so databases without coverage keep the schema of store.c;
 * exports read it only when it exists.
 */
#include "store_coverage.h"
#include "ctx_internal.h"
#include "store.h"
#include "strmap.h"

#include <sqlite3.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kz_store__free_areas(kz_store_areas *a)
{
    size_t i;
    if (a == NULL)
        return;
    for (i = 0; i < a->n; i++) {
        if (a->keys)
            free(a->keys[i]);
        if (a->parents)
            free(a->parents[i]);
        if (a->wkb)
            free(a->wkb[i]);
    }
    free(a->keys);
    free(a->parents);
    free(a->wkb);
    free(a->wkb_size);
    memset(a, 0, sizeof(*a));
}

int kz_store__areas_wkb(kz_db *db, kz_ctx *ctx, const char *level, kz_store_areas *out)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT key, parent_key, AsBinary(geom) FROM area WHERE level = ?1"
                                " ORDER BY key")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2), i = out->n;
        if (i == cap) {
            size_t nc = cap ? cap * 2 : 256;
            char **k = realloc(out->keys, nc * sizeof(char *));
            char **p = k ? realloc(out->parents, nc * sizeof(char *)) : NULL;
            unsigned char **w = p ? realloc(out->wkb, nc * sizeof(unsigned char *)) : NULL;
            size_t *ws = w ? realloc(out->wkb_size, nc * sizeof(size_t)) : NULL;
            if (k)
                out->keys = k;
            if (p)
                out->parents = p;
            if (w)
                out->wkb = w;
            if (ws == NULL)
                goto nomem;
            out->wkb_size = ws;
            cap = nc;
        }
        out->keys[i] = kz_store__column_dup(st, 0);
        out->parents[i] = kz_store__column_dup(st, 1);
        out->wkb[i] = malloc(len ? len : 1);
        out->wkb_size[i] = len;
        out->n++;
        if (out->keys[i] == NULL || out->wkb[i] == NULL ||
            (out->parents[i] == NULL && sqlite3_column_type(st, 1) != SQLITE_NULL))
            goto nomem;
        if (blob == NULL || len == 0) {
            sqlite3_finalize(st);
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "level %s, area %s: no geometry", level,
                               out->keys[i]);
            kz_store__free_areas(out);
            return rc;
        }
        memcpy(out->wkb[i], blob, len);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_areas(out);
        return kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
    }
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_areas(out);
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

/* latest_variable_period: the last period with a number in a block. */
static int walk_latest(const kz_store_block *b, void *payload)
{
    char *out = payload;
    size_t i, len;
    for (i = 0; i < b->n; i++)
        if (b->flag[i] != KZ_CELL_ABSENT && !isnan(b->value[i]))
            break;
    if (i == b->n)
        return KZ_OK;
    len = strlen(b->period) > 10 ? 10 : strlen(b->period);
    memcpy(out, b->period, len); /* blocks come in period order: the last wins */
    out[len] = '\0';
    return KZ_OK;
}

int kz_store__latest_variable_period(kz_db *db, kz_ctx *ctx, const char *level,
                                     const char *variable, char out[11])
{
    out[0] = '\0';
    return kz_store__each_block(db, ctx, level, variable, 0, walk_latest, out);
}

int kz_store__variable_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                              const char *variable, char *const *keys, size_t n, double *values)
{
    kz_level_keys all;
    kz_store_block b;
    size_t i;
    int rc, found = 0;
    memset(&b, 0, sizeof(b));
    if ((rc = kz_store__level_keys(db, ctx, level, 0, &all)) != KZ_OK)
        return rc;
    if ((rc = kz_store__block_alloc(ctx, &b, all.n)) == KZ_OK &&
        (rc = kz_store__read_block(db, ctx, level, period, variable, &b, &found)) == KZ_OK)
        for (i = 0; i < n; i++) {
            long at = kz_strmap__get(all.map, keys[i]);
            values[i] = at >= 0 ? b.value[at] : NAN;
        }
    kz_store__block_free(&b);
    kz_store__free_keys(&all);
    return rc;
}

int kz_store__clear_demand_points(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx,
                          "CREATE TABLE IF NOT EXISTS demand_point(id INTEGER PRIMARY KEY,"
                          " layer TEXT NOT NULL, area_key TEXT, weight REAL, distance REAL,"
                          " access REAL, x REAL NOT NULL, y REAL NOT NULL);"
                          "DELETE FROM demand_point");
}

static void bind_real(sqlite3_stmt *st, int i, const double *v, size_t k)
{
    if (v != NULL && isfinite(v[k]))
        sqlite3_bind_double(st, i, v[k]);
    else
        sqlite3_bind_null(st, i);
}

int kz_store__put_demand_points(kz_db *db, kz_ctx *ctx, const char *layer, size_t n,
                                const double *x, const double *y, const double *weight,
                                const int *area, char *const *area_key, const double *distance,
                                const double *access)
{
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO demand_point(layer, area_key, weight, distance,"
                                " access, x, y) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")) != KZ_OK)
        return rc;
    for (i = 0; i < n && rc == KZ_OK; i++) {
        kz_store__bind_text(st, 1, layer);
        kz_store__bind_text(st, 2, area && area[i] >= 0 ? area_key[area[i]] : NULL);
        bind_real(st, 3, weight, i);
        bind_real(st, 4, distance, i);
        bind_real(st, 5, access, i);
        sqlite3_bind_double(st, 6, x[i]);
        sqlite3_bind_double(st, 7, y[i]);
        rc = kz_store__step_done(db, ctx, st, "storing demand points");
    }
    sqlite3_finalize(st);
    return rc;
}

int kz_store__demand_layer_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc, exists;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                " AND name = 'demand_point'")) != KZ_OK)
        return rc;
    exists = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!exists)
        return KZ_OK;
    return kz_store__strings(db, ctx, "SELECT DISTINCT layer FROM demand_point ORDER BY layer",
                             NULL, out, n);
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

int kz_store__each_demand_point(kz_db *db, kz_ctx *ctx, const char *layer, kz_store_demand_fn fn,
                                void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT area_key, weight, distance, access, x, y FROM demand_point"
                                " WHERE layer = ?1 ORDER BY id")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, layer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_demand_point pt;
        pt.area_key = (const char *)sqlite3_column_text(st, 0);
        pt.weight = col_real(st, 1);
        pt.distance = col_real(st, 2);
        pt.access = col_real(st, 3);
        pt.x = sqlite3_column_double(st, 4);
        pt.y = sqlite3_column_double(st, 5);
        if ((rc = fn(&pt, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading demand points");
}
