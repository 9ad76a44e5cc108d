/*
 * SpatiaLite store: reads for the HTML atlas (levels with titles and
 * ranks, facilities per area).
 */
#include "store_report.h"
#include "ctx_internal.h"

#include <sqlite3.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kz_store__free_levels(kz_store_level *levels, size_t n)
{
    size_t i;
    for (i = 0; levels && i < n; i++) {
        free(levels[i].name);
        free(levels[i].title);
        free(levels[i].parent);
    }
    free(levels);
}

int kz_store__levels(kz_db *db, kz_ctx *ctx, kz_store_level **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    kz_store_level *rows = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT name, title, parent, rank FROM level"
                                " ORDER BY rank, name")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_level *r;
        if (*n == cap) {
            kz_store_level *more = realloc(rows, (cap = cap ? cap * 2 : 8) * sizeof(*rows));
            if (more == NULL)
                goto nomem;
            rows = more;
        }
        r = &rows[(*n)++];
        r->name = kz_store__column_dup(st, 0);
        r->title = kz_store__column_dup(st, 1);
        r->parent = kz_store__column_dup(st, 2);
        r->rank = sqlite3_column_int(st, 3);
        if (r->name == NULL)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_levels(rows, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the levels");
    }
    *out = rows;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_levels(rows, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__object_layers(kz_db *db, kz_ctx *ctx, char ***names, char ***titles, size_t *n)
{
    sqlite3_stmt *st = NULL;
    char **nm = NULL, **tt = NULL;
    size_t cap = 0;
    int rc;
    *names = *titles = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT name, title FROM object_layer ORDER BY name")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            size_t c2 = cap ? cap * 2 : 8;
            char **m1 = realloc(nm, c2 * sizeof(char *)), **m2;
            if (m1 == NULL)
                goto nomem;
            nm = m1;
            if ((m2 = realloc(tt, c2 * sizeof(char *))) == NULL)
                goto nomem;
            tt = m2;
            cap = c2;
        }
        nm[*n] = kz_store__column_dup(st, 0);
        tt[*n] = kz_store__column_dup(st, 1);
        (*n)++;
        if (nm[*n - 1] == NULL || (sqlite3_column_type(st, 1) != SQLITE_NULL && tt[*n - 1] == NULL))
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_strings(nm, *n);
        kz_store__free_strings(tt, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the object layers");
    }
    *names = nm;
    *titles = tt;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_strings(nm, *n);
    kz_store__free_strings(tt, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__each_facility(kz_db *db, kz_ctx *ctx, const char *level, kz_store_facility_fn fn,
                            void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    /* SpatiaLite does not use the R*Tree by itself: go through SpatialIndex. */
    if ((rc = kz_store__prepare(
             db, ctx, &st,
             "SELECT a.key, o.layer, l.title, o.object_id, o.name, o.category, o.capacity,"
             " ST_X(o.geom), ST_Y(o.geom)"
             " FROM area a JOIN object o ON o.id IN (SELECT rowid FROM SpatialIndex"
             "  WHERE f_table_name = 'object' AND f_geometry_column = 'geom'"
             "  AND search_frame = a.geom)"
             " LEFT JOIN object_layer l ON l.name = o.layer"
             " WHERE a.level = ?1 AND ST_Covers(a.geom, o.geom) = 1"
             " ORDER BY a.key, o.layer, o.name, o.object_id")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_facility f;
        f.area_key = (const char *)sqlite3_column_text(st, 0);
        f.layer = (const char *)sqlite3_column_text(st, 1);
        f.layer_title = (const char *)sqlite3_column_text(st, 2);
        f.id = (const char *)sqlite3_column_text(st, 3);
        f.name = (const char *)sqlite3_column_text(st, 4);
        f.category = (const char *)sqlite3_column_text(st, 5);
        f.capacity = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
        f.x = sqlite3_column_double(st, 7);
        f.y = sqlite3_column_double(st, 8);
        if ((rc = fn(&f, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading facilities");
}
