/*
 * SpatiaLite store: writing levels, areas, values, objects, sources and
 * findings. Bound parameters only; geometry arrives as ISO WKB.
 */
#include "checksum.h"
#include "ctx_internal.h"
#include "store.h"

#include "kiez/project.h"
#include "strmap.h"
#include <sqlite3.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void kz_store__finalize_cache(kz_db *db)
{
    sqlite3_finalize(db->st_area);
    sqlite3_finalize(db->st_area_merge);
    sqlite3_finalize(db->st_object);
    sqlite3_finalize(db->st_finding);
    db->st_area = db->st_area_merge = db->st_object = db->st_finding = NULL;
}

/* Prepare a cached statement once. */
static int cached(kz_db *db, kz_ctx *ctx, sqlite3_stmt **st, const char *sql)
{
    if (*st != NULL)
        return KZ_OK;
    return kz_store__prepare(db, ctx, st, sql);
}

/* Run one statement with text parameters (NULL binds NULL). */
static int run_text(kz_db *db, kz_ctx *ctx, const char *sql, const char *what, int n, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int i, rc;
    if ((rc = kz_store__prepare(db, ctx, &st, sql)) != KZ_OK)
        return rc;
    va_start(ap, n);
    for (i = 1; i <= n; i++)
        kz_store__bind_text(st, i, va_arg(ap, const char *));
    va_end(ap);
    rc = kz_store__step_done(db, ctx, st, what);
    sqlite3_finalize(st);
    return rc;
}

int kz_store__put_level(kz_db *db, kz_ctx *ctx, const char *name, const char *title,
                        const char *parent, const char *parent_match, const char *source, int rank)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = run_text(db, ctx, "DELETE FROM indicator_block WHERE level = ?1",
                       "clearing the level", 1, name)) != KZ_OK ||
        (rc = kz_store__clear_level_values(db, ctx, name)) != KZ_OK ||
        (rc = run_text(db, ctx, "DELETE FROM area WHERE level = ?1", "clearing the level", 1,
                       name)) != KZ_OK)
        return rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT OR REPLACE INTO level(name, title, parent, parent_match,"
                                " source, rank) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, name);
    kz_store__bind_text(st, 2, title ? title : name);
    kz_store__bind_text(st, 3, parent);
    kz_store__bind_text(st, 4, parent_match);
    kz_store__bind_text(st, 5, source);
    sqlite3_bind_int(st, 6, rank);
    rc = kz_store__step_done(db, ctx, st, "registering the level");
    sqlite3_finalize(st);
    return rc;
}

int kz_store__insert_area(kz_db *db, kz_ctx *ctx, const char *level, const char *key,
                          const char *name, const unsigned char *wkb, size_t wkb_size, int merge)
{
    int rc;
    if ((rc = cached(db, ctx, &db->st_area,
                     "INSERT INTO area(level, key, name, geom) VALUES (?1, ?2, ?3,"
                     " CastToMultiPolygon(GeomFromWKB(?4, ?5)))")) != KZ_OK)
        return rc;
    kz_store__bind_text(db->st_area, 1, level);
    kz_store__bind_text(db->st_area, 2, key);
    kz_store__bind_text(db->st_area, 3, name);
    sqlite3_bind_blob(db->st_area, 4, wkb, (int)wkb_size, SQLITE_STATIC);
    sqlite3_bind_int(db->st_area, 5, db->srid);
    rc = sqlite3_step(db->st_area);
    sqlite3_reset(db->st_area);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    if (rc != SQLITE_CONSTRAINT)
        return kz_store__fail(db, ctx, KZ_E_IO, "inserting an area");
    if (!merge)
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "level %s: key \"%s\" occurs in more than one feature; fix the "
                             "source or set duplicates: merge to unite their polygons",
                             level, key);
    if ((rc = cached(db, ctx, &db->st_area_merge,
                     "UPDATE area SET geom = CastToMultiPolygon(ST_Union(geom,"
                     " GeomFromWKB(?3, ?4))) WHERE level = ?1 AND key = ?2")) != KZ_OK)
        return rc;
    kz_store__bind_text(db->st_area_merge, 1, level);
    kz_store__bind_text(db->st_area_merge, 2, key);
    sqlite3_bind_blob(db->st_area_merge, 3, wkb, (int)wkb_size, SQLITE_STATIC);
    sqlite3_bind_int(db->st_area_merge, 4, db->srid);
    if ((rc = kz_store__step_done(db, ctx, db->st_area_merge, "merging polygons")) != KZ_OK)
        return rc;
    kz_ctx__log(ctx, KZ_LOG_WARN, "level %s: key \"%s\" occurs in several features; united", level,
                key);
    return KZ_OK;
}

int kz_store__dissolve(kz_db *db, kz_ctx *ctx, const char *level, const char *child, int prefix,
                       const char *key, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc;
    /* ST_Union over a group is SpatiaLite's aggregate union (GEOS). */
    rc = kz_store__prepare(db, ctx, &st,
                           prefix > 0 ? "INSERT INTO area(level, key, name, geom)"
                                        " SELECT ?1, substr(key, 1, ?3), NULL,"
                                        " CastToMultiPolygon(ST_Union(geom))"
                                        " FROM area WHERE level = ?2 GROUP BY substr(key, 1, ?3)"
                                      : "INSERT INTO area(level, key, name, geom)"
                                        " SELECT ?1, ?4, ?5, CastToMultiPolygon(ST_Union(geom))"
                                        " FROM area WHERE level = ?2");
    if (rc != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, child);
    sqlite3_bind_int(st, 3, prefix);
    kz_store__bind_text(st, 4, key);
    kz_store__bind_text(st, 5, name);
    rc = kz_store__step_done(db, ctx, st, "dissolving areas");
    sqlite3_finalize(st);
    if (rc == KZ_OK && sqlite3_changes(db->sql) == 0)
        return kz_ctx__error(ctx, KZ_E_INPUT, "level %s: dissolving level %s gave no areas", level,
                             child);
    return rc;
}

/*
 * Parents by key prefix: the longest parent key that starts the child key
 * (tried from the whole key down, one hash lookup each: the correlated
 * SQL this replaces compared every child with every parent, 4.4 million
 * substr() calls for the municipalities of Germany). A parent level of one
 * area (the city) is everyone's parent.
 */
static int link_by_prefix(kz_db *db, kz_ctx *ctx, const char *level, const char *parent)
{
    kz_level_keys parents, children;
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;
    memset(&parents, 0, sizeof(parents));
    memset(&children, 0, sizeof(children));
    if ((rc = kz_store__level_keys(db, ctx, parent, 0, &parents)) != KZ_OK ||
        (rc = kz_store__level_keys(db, ctx, level, 0, &children)) != KZ_OK ||
        (rc = kz_store__prepare(db, ctx, &st,
                                "UPDATE area SET parent_key = ?3 WHERE level = ?1 AND key = ?2")) !=
            KZ_OK)
        goto done;
    kz_store__bind_text(st, 1, level);
    for (i = 0; i < children.n && rc == KZ_OK; i++) {
        char prefix[256];
        const char *key = children.keys[i];
        size_t len = strlen(key);
        long at = -1;
        if (len >= sizeof(prefix))
            len = sizeof(prefix) - 1;
        memcpy(prefix, key, len);
        for (; len > 0 && at < 0; len--) {
            prefix[len] = '\0';
            at = kz_strmap__get(parents.map, prefix);
        }
        if (at < 0 && parents.n == 1)
            at = 0;
        kz_store__bind_text(st, 2, key);
        kz_store__bind_text(st, 3, at >= 0 ? parents.keys[at] : NULL);
        rc = kz_store__step_done(db, ctx, st, "linking areas to their parents");
    }
done:
    sqlite3_finalize(st);
    kz_store__free_keys(&parents);
    kz_store__free_keys(&children);
    return rc;
}

int kz_store__link_parents(kz_db *db, kz_ctx *ctx, const char *level, const char *parent,
                           int match_overlap, long *orphans)
{
    sqlite3_stmt *st = NULL;
    int rc;
    /* Overlap: the parent whose polygon shares the largest area with the
     * child, candidates found through the R*Tree of area.geom. */
    static const char *const by_overlap =
        "UPDATE area SET parent_key = (SELECT p.key FROM area p WHERE p.level = ?2"
        " AND p.id IN (SELECT pkid FROM idx_area_geom WHERE xmin <= MbrMaxX(area.geom)"
        " AND xmax >= MbrMinX(area.geom) AND ymin <= MbrMaxY(area.geom)"
        " AND ymax >= MbrMinY(area.geom))"
        " AND ST_Intersects(p.geom, area.geom)"
        " ORDER BY ST_Area(ST_Intersection(p.geom, area.geom)) DESC LIMIT 1)"
        " WHERE level = ?1";
    if (!match_overlap) {
        if ((rc = link_by_prefix(db, ctx, level, parent)) != KZ_OK)
            return rc;
    } else {
        if ((rc = kz_store__prepare(db, ctx, &st, by_overlap)) != KZ_OK)
            return rc;
        kz_store__bind_text(st, 1, level);
        kz_store__bind_text(st, 2, parent);
        rc = kz_store__step_done(db, ctx, st, "linking areas to their parents");
        sqlite3_finalize(st);
        if (rc != KZ_OK)
            return rc;
    }
    if ((rc = kz_store__prepare(
             db, ctx, &st,
             "INSERT INTO finding(kind, level, key, message) SELECT 'orphan', level, key,"
             " 'area ' || key || ' of level ' || level || ' fits no area of level ' || ?2"
             " FROM area WHERE level = ?1 AND parent_key IS NULL")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    kz_store__bind_text(st, 2, parent);
    rc = kz_store__step_done(db, ctx, st, "recording orphans");
    sqlite3_finalize(st);
    *orphans = rc == KZ_OK ? sqlite3_changes(db->sql) : 0;
    return rc;
}

int kz_store__add_source(kz_db *db, kz_ctx *ctx, const char *kind, const char *path, long long *id)
{
    sqlite3_stmt *st = NULL;
    char sha256[65];
    long long bytes = -1;
    int rc;
    /* Size and SHA-256 of the file named (for a shapefile: the .shp);
     * none for a source that is no plain file. */
    kz_sha256_file(path, sha256, &bytes);
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO source(kind, path, bytes, sha256, imported) VALUES"
                                " (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, kind);
    kz_store__bind_text(st, 2, path);
    if (bytes >= 0)
        sqlite3_bind_int64(st, 3, bytes);
    kz_store__bind_text(st, 4, sha256[0] ? sha256 : NULL);
    rc = kz_store__step_done(db, ctx, st, "recording the source");
    sqlite3_finalize(st);
    *id = sqlite3_last_insert_rowid(db->sql);
    return rc;
}

int kz_store__source_records(kz_db *db, kz_ctx *ctx, long long id, long long records)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st, "UPDATE source SET records = ?2 WHERE id = ?1")) !=
        KZ_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, records);
    rc = kz_store__step_done(db, ctx, st, "recording the source");
    sqlite3_finalize(st);
    return rc;
}

int kz_store__add_finding(kz_db *db, kz_ctx *ctx, const char *kind, const char *source, long line,
                          const char *level, const char *key, const char *message)
{
    int rc;
    if ((rc = cached(db, ctx, &db->st_finding,
                     "INSERT INTO finding(kind, source, line, level, key, message)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) != KZ_OK)
        return rc;
    kz_store__bind_text(db->st_finding, 1, kind);
    kz_store__bind_text(db->st_finding, 2, source);
    if (line > 0)
        sqlite3_bind_int64(db->st_finding, 3, line);
    else
        sqlite3_bind_null(db->st_finding, 3);
    kz_store__bind_text(db->st_finding, 4, level);
    kz_store__bind_text(db->st_finding, 5, key);
    kz_store__bind_text(db->st_finding, 6, message);
    return kz_store__step_done(db, ctx, db->st_finding, "recording a finding");
}

int kz_store__put_object_layer(kz_db *db, kz_ctx *ctx, const char *name, const char *title,
                               const char *source, const char *category_field,
                               const char *capacity_field)
{
    int rc;
    if ((rc = run_text(db, ctx, "DELETE FROM object WHERE layer = ?1", "clearing objects", 1,
                       name)) != KZ_OK)
        return rc;
    return run_text(db, ctx,
                    "INSERT OR REPLACE INTO object_layer(name, title, source, category_field,"
                    " capacity_field) VALUES (?1, ?2, ?3, ?4, ?5)",
                    "registering the object layer", 5, name, title ? title : name, source,
                    category_field, capacity_field);
}

int kz_store__insert_object(kz_db *db, kz_ctx *ctx, const char *layer, const char *id,
                            const char *name, const char *category, double capacity,
                            int capacity_flag, double x, double y)
{
    int rc;
    if ((rc = cached(
             db, ctx, &db->st_object,
             "INSERT INTO object(layer, object_id, name, category, capacity,"
             " capacity_flag, geom) VALUES (?1, ?2, ?3, ?4, ?5, ?6, MakePoint(?7, ?8, ?9))")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(db->st_object, 1, layer);
    kz_store__bind_text(db->st_object, 2, id);
    kz_store__bind_text(db->st_object, 3, name);
    kz_store__bind_text(db->st_object, 4, category);
    if (capacity_flag == 0)
        sqlite3_bind_double(db->st_object, 5, capacity);
    else
        sqlite3_bind_null(db->st_object, 5);
    sqlite3_bind_int(db->st_object, 6, capacity_flag);
    sqlite3_bind_double(db->st_object, 7, x);
    sqlite3_bind_double(db->st_object, 8, y);
    sqlite3_bind_int(db->st_object, 9, db->srid);
    rc = sqlite3_step(db->st_object);
    sqlite3_reset(db->st_object);
    if (rc == SQLITE_DONE)
        return KZ_OK;
    if (rc == SQLITE_CONSTRAINT)
        return kz_ctx__error(ctx, KZ_E_INPUT, "objects %s: id \"%s\" occurs twice", layer, id);
    return kz_store__fail(db, ctx, KZ_E_IO, "inserting an object");
}

void kz_store__free_keys(kz_level_keys *k)
{
    size_t i;
    for (i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
    kz_strmap__free(k->map);
    k->keys = NULL;
    k->map = NULL;
    k->n = 0;
}

int kz_store__level_keys(kz_db *db, kz_ctx *ctx, const char *level, int by_name, kz_level_keys *out)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    out->n = 0;
    out->keys = NULL;
    out->map = kz_strmap__new();
    if (out->map == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(
             db, ctx, &st, "SELECT key, name FROM area WHERE level = ?1 ORDER BY key")) != KZ_OK)
        goto fail;
    kz_store__bind_text(st, 1, level);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const char *look = by_name ? (const char *)sqlite3_column_text(st, 1) : key;
        size_t len = strlen(key) + 1;
        int put;
        if (out->n == cap) {
            char **more = realloc(out->keys, (cap ? cap * 2 : 256) * sizeof(char *));
            if (more == NULL)
                goto nomem;
            out->keys = more;
            cap = cap ? cap * 2 : 256;
        }
        if ((out->keys[out->n] = malloc(len)) == NULL)
            goto nomem;
        memcpy(out->keys[out->n], key, len);
        out->n++;
        if (look == NULL)
            continue;
        put = kz_strmap__put(out->map, look, (long)(out->n - 1), NULL);
        if (put < 0)
            goto nomem;
        /* A name shared by two areas cannot identify one of them. */
        if (put == 1)
            kz_strmap__set(out->map, look, -2);
    }
    if (rc != SQLITE_DONE) {
        rc = kz_store__fail(db, ctx, KZ_E_IO, "reading area keys");
        goto fail;
    }
    sqlite3_finalize(st);
    return KZ_OK;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
fail:
    sqlite3_finalize(st);
    kz_store__free_keys(out);
    return rc;
}

int kz_store__clear_catalogue(kz_db *db, kz_ctx *ctx)
{
    return kz_store__exec(db, ctx, "DELETE FROM indicator_block; DELETE FROM indicator");
}

int kz_store__put_indicator(kz_db *db, kz_ctx *ctx, const kz_indicator_def *def, int ord)
{
    static const char *const polarity[] = {"neutral", "positive", "negative"};
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO indicator(name, label, numerator, denominator, scale,"
                                " unit, polarity, description, source, ord)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, def->name);
    kz_store__bind_text(st, 2, def->label ? def->label : def->name);
    kz_store__bind_text(st, 3, def->numerator);
    kz_store__bind_text(st, 4, def->denominator);
    sqlite3_bind_double(st, 5, def->scale);
    kz_store__bind_text(st, 6, def->unit);
    kz_store__bind_text(st, 7,
                        polarity[def->polarity >= 0 && def->polarity <= 2 ? def->polarity : 0]);
    kz_store__bind_text(st, 8, def->description);
    kz_store__bind_text(st, 9, def->source);
    sqlite3_bind_int(st, 10, ord);
    rc = kz_store__step_done(db, ctx, st, "registering an indicator");
    sqlite3_finalize(st);
    return rc;
}

void kz_store__now(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int kz_store__record_run(kz_db *db, kz_ctx *ctx, const char *project, const char *started)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "INSERT INTO run(started, finished, project, version, inputs)"
                                " SELECT ?1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?2, ?3,"
                                " json_group_array(json_object('kind', kind, 'path', path, "
                                "'bytes', bytes, 'sha256', sha256,"
                                " 'records', records, 'imported', imported)) FROM source")) !=
        KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, started);
    kz_store__bind_text(st, 2, project);
    kz_store__bind_text(st, 3, kz_version());
    rc = kz_store__step_done(db, ctx, st, "recording the run");
    sqlite3_finalize(st);
    return rc;
}
