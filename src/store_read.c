/*
 * SpatiaLite store: reading levels, areas with indicator values, series,
 * objects and findings for the exports.
 */
#include "ctx_internal.h"
#include "dirs.h"
#include "store.h"

#include "strmap.h"
#include <sqlite3.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *kz_store__column_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static double col_double(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

void kz_store__free_strings(char **strings, size_t n)
{
    size_t i;
    for (i = 0; strings && i < n; i++)
        free(strings[i]);
    free(strings);
}

int kz_store__strings(kz_db *db, kz_ctx *ctx, const char *sql, const char *param, char ***out,
                      size_t *n)
{
    sqlite3_stmt *st = NULL;
    char **list = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(db, ctx, &st, sql)) != KZ_OK)
        return rc;
    if (param != NULL)
        kz_store__bind_text(st, 1, param);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            char **more = realloc(list, (cap = cap ? cap * 2 : 16) * sizeof(char *));
            if (more == NULL)
                goto nomem;
            list = more;
        }
        if ((list[*n] = kz_store__column_dup(st, 0)) == NULL)
            goto nomem;
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_strings(list, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading names");
    }
    *out = list;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_strings(list, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__level_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    return kz_store__strings(db, ctx, "SELECT name FROM level ORDER BY rank, name", NULL, out, n);
}

/*
 * The periods with indicator values among the periods of the level's
 * value blocks (ratios come from the values, derived columns from the
 * ratios).
 */
int kz_store__level_periods(kz_db *db, kz_ctx *ctx, const char *level, char ***out, size_t *n)
{
    /* Each period of the indicators confirmed by one seek into value_block
     * (0.01 s at national size; the other way round, DISTINCT over the
     * value blocks with an EXISTS per block took 0.2 s). */
    return kz_store__strings(db, ctx,
                             "SELECT p.period FROM (SELECT DISTINCT period FROM indicator_block"
                             " WHERE level = ?1) p WHERE EXISTS (SELECT 1 FROM value_block b"
                             " WHERE b.level = ?1 AND b.period = p.period) ORDER BY p.period",
                             level, out, n);
}

int kz_store__object_layer_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n)
{
    return kz_store__strings(db, ctx, "SELECT name FROM object_layer ORDER BY name", NULL, out, n);
}

void kz_store__free_catalogue(kz_store_indicator *rows, size_t n)
{
    size_t i;
    for (i = 0; rows && i < n; i++) {
        free(rows[i].name);
        free(rows[i].label);
        free(rows[i].numerator);
        free(rows[i].denominator);
        free(rows[i].unit);
        free(rows[i].polarity);
        free(rows[i].description);
        free(rows[i].source);
        free(rows[i].kind);
        free(rows[i].categories);
    }
    free(rows);
}

int kz_store__catalogue(kz_db *db, kz_ctx *ctx, kz_store_indicator **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    kz_store_indicator *rows = NULL;
    size_t cap = 0;
    int rc;
    *out = NULL;
    *n = 0;
    if ((rc = kz_store__prepare(
             db, ctx, &st,
             "SELECT name, label, numerator, denominator, unit, polarity,"
             " description, source, scale, kind, categories FROM indicator ORDER BY ord")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_indicator *r;
        if (*n == cap) {
            kz_store_indicator *more = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(*rows));
            if (more == NULL)
                goto nomem;
            rows = more;
        }
        r = &rows[(*n)++];
        r->name = kz_store__column_dup(st, 0);
        r->label = kz_store__column_dup(st, 1);
        r->numerator = kz_store__column_dup(st, 2);
        r->denominator = kz_store__column_dup(st, 3);
        r->unit = kz_store__column_dup(st, 4);
        r->polarity = kz_store__column_dup(st, 5);
        r->description = kz_store__column_dup(st, 6);
        r->source = kz_store__column_dup(st, 7);
        r->scale = sqlite3_column_double(st, 8);
        r->kind = kz_store__column_dup(st, 9);
        r->categories = kz_store__column_dup(st, 10);
        if (r->name == NULL || r->kind == NULL)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        kz_store__free_catalogue(rows, *n);
        *n = 0;
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
    }
    *out = rows;
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    kz_store__free_catalogue(rows, *n);
    *n = 0;
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

int kz_store__latest_period(kz_db *db, kz_ctx *ctx, const char *level, char out[11])
{
    sqlite3_stmt *st = NULL;
    int rc;
    out[0] = '\0';
    if ((rc = kz_store__prepare(
             db, ctx, &st, "SELECT MAX(period) FROM indicator_block WHERE level = ?1")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, level);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        const char *p = (const char *)sqlite3_column_text(st, 0);
        size_t len = strlen(p);
        if (len > 10)
            len = 10;
        memcpy(out, p, len);
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    return KZ_OK;
}

/*
 * The catalogue's indicators by name, so the value queries need no join
 * with `indicator` (an index lookup per row): rank = position in the
 * catalogue order (ORDER BY ord), ord = the stored ord. Names the catalogue
 * does not have are skipped, as the inner join did.
 */
typedef struct indicator_map {
    kz_strmap *by_name; /* name → rank */
    char **names;       /* by rank */
    int *ords;          /* by rank */
    size_t n;
} indicator_map;

static void indicator_map_free(indicator_map *m)
{
    kz_strmap__free(m->by_name);
    kz_store__free_strings(m->names, m->n);
    free(m->ords);
    memset(m, 0, sizeof(*m));
}

static int indicator_map_load(kz_db *db, kz_ctx *ctx, indicator_map *m)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    memset(m, 0, sizeof(*m));
    if ((m->by_name = kz_strmap__new()) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__prepare(db, ctx, &st, "SELECT name, ord FROM indicator ORDER BY ord")) !=
        KZ_OK) {
        indicator_map_free(m);
        return rc;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->n == cap) {
            char **names = realloc(m->names, (cap ? cap * 2 : 16) * sizeof(char *));
            int *ords;
            if (names == NULL)
                goto nomem;
            m->names = names;
            if ((ords = realloc(m->ords, (cap ? cap * 2 : 16) * sizeof(int))) == NULL)
                goto nomem;
            m->ords = ords;
            cap = cap ? cap * 2 : 16;
        }
        if ((m->names[m->n] = kz_store__column_dup(st, 0)) == NULL)
            goto nomem;
        m->ords[m->n] = sqlite3_column_int(st, 1);
        m->n++;
        if (kz_strmap__put(m->by_name, m->names[m->n - 1], (long)(m->n - 1), NULL) < 0)
            goto nomem;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        indicator_map_free(m);
        return kz_store__fail(db, ctx, KZ_E_IO, "reading the catalogue");
    }
    return KZ_OK;
nomem:
    sqlite3_finalize(st);
    indicator_map_free(m);
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

static void area_from_row(sqlite3_stmt *areas, kz_store_area *a)
{
    a->key = (const char *)sqlite3_column_text(areas, 0);
    a->name = (const char *)sqlite3_column_text(areas, 1);
    a->parent_key = (const char *)sqlite3_column_text(areas, 2);
    a->wkb = sqlite3_column_blob(areas, 3);
    a->wkb_size = (size_t)sqlite3_column_bytes(areas, 3);
}

/* The values of one period: vals[cell * n_ind + ord] from a frame. */
typedef struct period_values {
    kz_ctx *ctx;
    const indicator_map *map;
    double *vals;
    size_t n_ind, n_cells;
} period_values;

static int take_values(kz_store_ind_frame *f, void *payload)
{
    period_values *pv = payload;
    size_t j, i, cells = f->n_cells * pv->n_ind;
    pv->n_cells = f->n_cells;
    if ((pv->vals = malloc((cells > 0 ? cells : 1) * sizeof(double))) == NULL)
        return kz_ctx__error(pv->ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < cells; i++)
        pv->vals[i] = NAN;
    for (j = 0; j < f->n; j++) {
        long rank = kz_strmap__get(pv->map->by_name, f->indicator[j]);
        int ord = rank >= 0 ? pv->map->ords[rank] : -1;
        if (ord < 0 || (size_t)ord >= pv->n_ind)
            continue; /* not in the catalogue, or beyond the caller's columns */
        for (i = 0; i < f->n_cells; i++)
            pv->vals[i * pv->n_ind + (size_t)ord] = f->block[j].value[i];
    }
    return KZ_OK;
}

/*
 * The areas in key order with one period's values: the period's blocks
 * are read first (cell i = the level's i-th key, the order of the area
 * query too).
 */
int kz_store__each_area(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        size_t n_indicators, kz_store_area_fn fn, void *payload)
{
    sqlite3_stmt *areas = NULL;
    indicator_map map;
    period_values pv;
    size_t i = 0;
    int rc;
    memset(&pv, 0, sizeof(pv));
    if ((rc = indicator_map_load(db, ctx, &map)) != KZ_OK)
        return rc;
    pv.ctx = ctx;
    pv.map = &map;
    pv.n_ind = n_indicators;
    if ((rc = kz_store__each_ind_frame(db, ctx, level, period, take_values, &pv)) != KZ_OK)
        goto done;
    if ((rc = kz_store__prepare(db, ctx, &areas,
                                "SELECT key, name, parent_key, AsBinary(geom) FROM area"
                                " WHERE level = ?1 ORDER BY key")) != KZ_OK)
        goto done;
    kz_store__bind_text(areas, 1, level);
    while ((rc = sqlite3_step(areas)) == SQLITE_ROW && i < pv.n_cells) {
        kz_store_area a;
        area_from_row(areas, &a);
        a.values = pv.vals + i++ * n_indicators;
        if ((rc = fn(&a, payload)) != KZ_OK)
            goto done;
    }
    rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? KZ_OK
                                               : kz_store__fail(db, ctx, KZ_E_IO, "reading areas");
done:
    sqlite3_finalize(areas);
    free(pv.vals);
    indicator_map_free(&map);
    return rc;
}

/* The rows of a frame: area by area (key order), indicators by name;
 * cells without a row are skipped. */
typedef struct series_walk {
    kz_store_series_fn fn;
    void *payload;
} series_walk;

static int series_frame(kz_store_ind_frame *f, void *payload)
{
    series_walk *w = payload;
    size_t i, j;
    int rc;
    for (i = 0; i < f->n_cells; i++)
        for (j = 0; j < f->n; j++) {
            const kz_store_ind_block *b = &f->block[j];
            kz_store_series r;
            if (b->flag[i] == KZ_IND_NONE)
                continue;
            r.key = f->keys[i];
            r.period = f->period;
            r.indicator = f->indicator[j];
            r.value = b->value[i];
            r.numerator = b->numerator[i];
            r.denominator = b->denominator[i];
            r.flag = b->flag[i];
            if ((rc = w->fn(&r, w->payload)) != KZ_OK)
                return rc;
        }
    return KZ_OK;
}

int kz_store__each_series(kz_db *db, kz_ctx *ctx, const char *level, kz_store_series_fn fn,
                          void *payload)
{
    series_walk w = {fn, payload};
    return kz_store__each_ind_frame(db, ctx, level, NULL, series_frame, &w);
}

int kz_store__each_object(kz_db *db, kz_ctx *ctx, const char *layer, kz_store_object_fn fn,
                          void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT object_id, name, category, capacity, ST_X(geom), ST_Y(geom)"
                                " FROM object WHERE layer = ?1 ORDER BY id")) != KZ_OK)
        return rc;
    kz_store__bind_text(st, 1, layer);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_object o;
        o.id = (const char *)sqlite3_column_text(st, 0);
        o.name = (const char *)sqlite3_column_text(st, 1);
        o.category = (const char *)sqlite3_column_text(st, 2);
        o.capacity = col_double(st, 3);
        o.x = sqlite3_column_double(st, 4);
        o.y = sqlite3_column_double(st, 5);
        if ((rc = fn(&o, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading objects");
}

int kz_store__each_finding(kz_db *db, kz_ctx *ctx, kz_store_finding_fn fn, void *payload)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT kind, source, line, level, key, message FROM finding"
                                " ORDER BY id")) != KZ_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        kz_store_finding f;
        f.kind = (const char *)sqlite3_column_text(st, 0);
        f.source = (const char *)sqlite3_column_text(st, 1);
        f.line = sqlite3_column_type(st, 2) == SQLITE_NULL ? 0 : (long)sqlite3_column_int64(st, 2);
        f.level = (const char *)sqlite3_column_text(st, 3);
        f.key = (const char *)sqlite3_column_text(st, 4);
        f.message = (const char *)sqlite3_column_text(st, 5);
        if ((rc = fn(&f, payload)) != KZ_OK) {
            sqlite3_finalize(st);
            return rc;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? KZ_OK : kz_store__fail(db, ctx, KZ_E_IO, "reading findings");
}

int kz_store__last_run(kz_db *db, kz_ctx *ctx, kz_store_run *out)
{
    sqlite3_stmt *st = NULL;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = kz_store__prepare(db, ctx, &st,
                                "SELECT started, finished, project, version, inputs FROM run"
                                " ORDER BY id DESC LIMIT 1")) != KZ_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *s;
        if ((s = (const char *)sqlite3_column_text(st, 0)) != NULL)
            snprintf(out->started, sizeof(out->started), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 1)) != NULL)
            snprintf(out->finished, sizeof(out->finished), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 2)) != NULL)
            snprintf(out->project, sizeof(out->project), "%s", s);
        if ((s = (const char *)sqlite3_column_text(st, 3)) != NULL)
            snprintf(out->version, sizeof(out->version), "%s", s);
        out->inputs = kz_store__column_dup(st, 4);
    }
    sqlite3_finalize(st);
    return KZ_OK;
}

/*
 * The GeoPackage's long <level>_series and wide <level>_periods go in
 * through this connection: GDAL creates the empty tables and closes the
 * file, then it is attached here and both are filled in one pass over the
 * indicator blocks, period by period; series rows 64 per statement (2.05 M
 * rows at national size, 220,000 period rows). Creating them as OGR
 * features took about 6 s and 1 s. The path is attached as a plain file
 * name (kz_dirs__dot), so '?', '#' and '%' in it mean nothing special.
 */
#define SERIES_BATCH 64

typedef struct table_fill {
    kz_db *db;
    kz_ctx *ctx;
    const kz_store_level_tables *lt;
    const kz_store_indicator *cat;
    size_t n_cat, next_period; /* lt->periods[next_period]: the next one */
    sqlite3_stmt *one, *many;  /* series: one row; SERIES_BATCH rows */
    sqlite3_stmt *wide;        /* one row of the periods table */
    kz_store_series rows[SERIES_BATCH];
    size_t n;
} table_fill;

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_series(sqlite3_stmt *st, int base, const kz_store_series *r)
{
    sqlite3_bind_text(st, base + 1, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 2, r->period, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, base + 3, r->indicator, -1, SQLITE_STATIC);
    bind_real(st, base + 4, r->value);
    bind_real(st, base + 5, r->numerator);
    bind_real(st, base + 6, r->denominator);
    sqlite3_bind_int(st, base + 7, r->flag);
}

/* Insert the series rows waiting (they point into the current frame). */
static int series_flush(table_fill *c)
{
    size_t i;
    int rc = KZ_OK;
    if (c->n == SERIES_BATCH) {
        for (i = 0; i < c->n; i++)
            bind_series(c->many, 7 * (int)i, &c->rows[i]);
        rc = kz_store__step_done(c->db, c->ctx, c->many, "writing the series");
    } else {
        for (i = 0; i < c->n && rc == KZ_OK; i++) {
            bind_series(c->one, 0, &c->rows[i]);
            rc = kz_store__step_done(c->db, c->ctx, c->one, "writing the series");
        }
    }
    c->n = 0;
    return rc;
}

static int series_row(const kz_store_series *r, void *payload)
{
    table_fill *c = payload;
    c->rows[c->n++] = *r;
    return c->n == SERIES_BATCH ? series_flush(c) : KZ_OK;
}

/* The periods table's rows of a frame: one per area. */
static int wide_rows(table_fill *c, const kz_store_ind_frame *f, const char *end)
{
    long *at;
    size_t i, j;
    int rc = KZ_OK;
    if ((at = malloc((c->n_cat ? c->n_cat : 1) * sizeof(long))) == NULL)
        return kz_ctx__error(c->ctx, KZ_E_NOMEM, "out of memory");
    for (j = 0; j < c->n_cat; j++)
        at[j] = kz_store__ind_find(f, c->cat[j].name);
    for (i = 0; i < f->n_cells && rc == KZ_OK; i++) {
        sqlite3_bind_text(c->wide, 1, f->keys[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(c->wide, 2, f->period, -1, SQLITE_STATIC);
        sqlite3_bind_text(c->wide, 3, end, -1, SQLITE_STATIC);
        for (j = 0; j < c->n_cat; j++)
            bind_real(c->wide, 4 + (int)j, at[j] >= 0 ? f->block[at[j]].value[i] : NAN);
        rc = kz_store__step_done(c->db, c->ctx, c->wide, "writing the periods");
    }
    free(at);
    return rc;
}

static int fill_frame(kz_store_ind_frame *f, void *payload)
{
    table_fill *c = payload;
    series_walk w = {series_row, c};
    const kz_store_level_tables *lt = c->lt;
    int rc = series_frame(f, &w);
    if (rc == KZ_OK)
        rc = series_flush(c);
    while (c->next_period < lt->n_periods && strcmp(lt->periods[c->next_period], f->period) < 0)
        c->next_period++;
    if (rc == KZ_OK && c->next_period < lt->n_periods &&
        strcmp(lt->periods[c->next_period], f->period) == 0)
        rc = wide_rows(c, f, lt->ends[c->next_period]);
    return rc;
}

/* The INSERT of n rows into the series table of the attached GeoPackage. */
static int series_insert(kz_db *db, kz_ctx *ctx, const char *level, size_t n, sqlite3_stmt **st)
{
    sqlite3_str *sql = sqlite3_str_new(NULL);
    char *text;
    size_t i;
    int rc;
    sqlite3_str_appendf(sql,
                        "INSERT INTO kiez_out.\"%w_series\"(key, period, indicator, value,"
                        " numerator, denominator, flag) VALUES ",
                        level);
    for (i = 0; i < n; i++)
        sqlite3_str_appendall(sql, i ? ",(?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?)");
    if ((text = sqlite3_str_finish(sql)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    rc = kz_store__prepare(db, ctx, st, text);
    sqlite3_free(text);
    return rc;
}

/* The INSERT of one row into the periods table of the attached GeoPackage. */
static int wide_insert(kz_db *db, kz_ctx *ctx, const char *level, const kz_store_indicator *cat,
                       size_t n_cat, sqlite3_stmt **st)
{
    sqlite3_str *sql = sqlite3_str_new(NULL);
    char *text;
    size_t j;
    int rc;
    sqlite3_str_appendf(sql, "INSERT INTO kiez_out.\"%w_periods\"(key, period_start, period_end",
                        level);
    for (j = 0; j < n_cat; j++)
        sqlite3_str_appendf(sql, ", \"%w\"", cat[j].name);
    sqlite3_str_appendall(sql, ") VALUES (?, ?, ?");
    for (j = 0; j < n_cat; j++)
        sqlite3_str_appendall(sql, ", ?");
    sqlite3_str_appendall(sql, ")");
    if ((text = sqlite3_str_finish(sql)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    rc = kz_store__prepare(db, ctx, st, text);
    sqlite3_free(text);
    return rc;
}

int kz_store__fill_tables(kz_db *db, kz_ctx *ctx, const char *gpkg_path,
                          const kz_store_level_tables *levels, size_t n_levels,
                          const kz_store_indicator *cat, size_t n_cat)
{
    table_fill c;
    char *attach;
    size_t i;
    int rc;
    memset(&c, 0, sizeof(c));
    c.db = db;
    c.ctx = ctx;
    c.cat = cat;
    c.n_cat = n_cat;
    attach =
        sqlite3_mprintf("ATTACH DATABASE '%q%q' AS kiez_out", kz_dirs__dot(gpkg_path), gpkg_path);
    if (attach == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    rc = kz_store__exec(db, ctx, attach);
    sqlite3_free(attach);
    if (rc != KZ_OK)
        return rc;
    if ((rc = kz_store__exec(db, ctx, "BEGIN")) != KZ_OK)
        goto detach;
    for (i = 0; i < n_levels && rc == KZ_OK; i++) {
        c.lt = &levels[i];
        c.next_period = 0;
        if ((rc = series_insert(db, ctx, levels[i].level, SERIES_BATCH, &c.many)) == KZ_OK &&
            (rc = series_insert(db, ctx, levels[i].level, 1, &c.one)) == KZ_OK &&
            (levels[i].n_periods == 0 ||
             (rc = wide_insert(db, ctx, levels[i].level, cat, n_cat, &c.wide)) == KZ_OK))
            rc = kz_store__each_ind_frame(db, ctx, levels[i].level, NULL, fill_frame, &c);
        sqlite3_finalize(c.many);
        sqlite3_finalize(c.one);
        sqlite3_finalize(c.wide);
        c.many = c.one = c.wide = NULL;
    }
    if (rc == KZ_OK)
        rc = kz_store__exec(db, ctx, "COMMIT");
    else
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
detach:
    sqlite3_exec(db->sql, "DETACH DATABASE kiez_out", NULL, NULL, NULL);
    return rc;
}

void kz_store__free_sql(char *sql)
{
    sqlite3_free(sql);
}
