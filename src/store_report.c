/*
 * SpatiaLite store: reads for the HTML atlas (levels with titles and
 * ranks, facilities per area, the evaluations of measures).
 */
#include "store_report.h"
#include "ctx_internal.h"

#include <sqlite3.h>

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
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

/* ---- evaluations of measures (statistics rows "effect:<id>") ---- */

/* One row; the four strings share one allocation starting at id. */
typedef struct effect_row {
    char *id, *subject, *period, *name;
    double value;
} effect_row;

typedef struct effect_rows {
    kz_ctx *ctx;
    const char *level;
    effect_row *r;
    size_t n, cap;
} effect_rows;

static void free_effect_rows(effect_rows *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->r[i].id);
    free(s->r);
}

static int take_effect_row(const kz_store_statistic *st, void *payload)
{
    effect_rows *s = payload;
    const char *period = st->period ? st->period : "";
    size_t l_id, l_sub, l_per, l_name;
    effect_row *r;
    if (st->analysis == NULL || strncmp(st->analysis, "effect:", 7) != 0 || st->level == NULL ||
        strcmp(st->level, s->level) != 0 || st->subject == NULL || st->measure == NULL)
        return KZ_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        effect_row *more = realloc(s->r, cap * sizeof(*more));
        if (more == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->r = more;
        s->cap = cap;
    }
    l_id = strlen(st->analysis + 7) + 1;
    l_sub = strlen(st->subject) + 1;
    l_per = strlen(period) + 1;
    l_name = strlen(st->measure) + 1;
    r = &s->r[s->n];
    if ((r->id = malloc(l_id + l_sub + l_per + l_name)) == NULL)
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    s->n++;
    r->subject = r->id + l_id;
    r->period = r->subject + l_sub;
    r->name = r->period + l_per;
    memcpy(r->id, st->analysis + 7, l_id);
    memcpy(r->subject, st->subject, l_sub);
    memcpy(r->period, period, l_per);
    memcpy(r->name, st->measure, l_name);
    r->value = st->value;
    return KZ_OK;
}

static int cmp_effect_row(const void *pa, const void *pb)
{
    const effect_row *a = pa, *b = pb;
    int c = strcmp(a->id, b->id);
    if (c == 0)
        c = strcmp(a->subject, b->subject);
    return c ? c : strcmp(a->period, b->period);
}

/* A per-period row: mean_treated, mean_comparison, event_<k>, event_<k>_se.
 * *series: 0..3 in that order; *k: the k of event rows. */
static int period_row(const char *name, int *series, long *k)
{
    char *end = NULL;
    if (strcmp(name, "mean_treated") == 0 || strcmp(name, "mean_comparison") == 0) {
        *series = name[5] == 't' ? 0 : 1;
        return 1;
    }
    if (strncmp(name, "event_", 6) != 0)
        return 0;
    *k = strtol(name + 6, &end, 10);
    if (end == name + 6 || (*end != '\0' && strcmp(end, "_se") != 0))
        return 0;
    *series = *end == '\0' ? 2 : 3;
    return 1;
}

void kz_store__free_effects(kz_store_effect *effects, size_t n)
{
    size_t i;
    for (i = 0; effects && i < n; i++) {
        kz_store_effect *e = &effects[i];
        kz_store__measure_dispose(&e->m);
        free(e->indicator);
        free(e->periods);
        free(e->mean_treated);
        free(e->mean_comparison);
        free(e->event);
        free(e->event_se);
        free(e->event_k);
    }
    free(effects);
}

/* The summary rows by name, stored at these offsets of kz_store_effect. */
static const struct {
    const char *name;
    size_t at;
} effect_summary[] = {
    {"status", offsetof(kz_store_effect, status)},
    {"did", offsetof(kz_store_effect, did)},
    {"se", offsetof(kz_store_effect, se)},
    {"p", offsetof(kz_store_effect, p)},
    {"df", offsetof(kz_store_effect, df)},
    {"ci_low", offsetof(kz_store_effect, ci_low)},
    {"ci_high", offsetof(kz_store_effect, ci_high)},
    {"n_treated", offsetof(kz_store_effect, n_treated)},
    {"n_comparison", offsetof(kz_store_effect, n_comparison)},
    {"n_pre", offsetof(kz_store_effect, n_pre)},
    {"n_post", offsetof(kz_store_effect, n_post)},
    {"pretrend_status", offsetof(kz_store_effect, pretrend_status)},
    {"pretrend_diff", offsetof(kz_store_effect, pretrend_diff)},
    {"pretrend_se", offsetof(kz_store_effect, pretrend_se)},
    {"pretrend_p", offsetof(kz_store_effect, pretrend_p)},
    {"pretrend_violated", offsetof(kz_store_effect, pretrend_violated)},
};

/* Fill one evaluation from its rows r[0..n) (sorted by period). */
static int build_effect(kz_db *db, kz_ctx *ctx, kz_store_effect *e, const effect_row *r, size_t n)
{
    const char *last = NULL;
    size_t i, j, np = 0;
    int series, rc;
    long k = 0;
    for (i = 0; i < sizeof(effect_summary) / sizeof(effect_summary[0]); i++)
        *(double *)((char *)e + effect_summary[i].at) = NAN;
    if ((e->indicator = malloc(strlen(r[0].subject) + 1)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    memcpy(e->indicator, r[0].subject, strlen(r[0].subject) + 1);
    if ((rc = kz_store__get_measure(db, ctx, r[0].id, &e->m)) != KZ_OK)
        return rc;
    for (i = 0; i < n; i++)
        if (period_row(r[i].name, &series, &k) && (last == NULL || strcmp(r[i].period, last))) {
            last = r[i].period;
            np++;
        }
    e->periods = calloc(np + 1, sizeof(*e->periods));
    e->mean_treated = malloc((np + 1) * sizeof(double));
    e->mean_comparison = malloc((np + 1) * sizeof(double));
    e->event = malloc((np + 1) * sizeof(double));
    e->event_se = malloc((np + 1) * sizeof(double));
    e->event_k = malloc((np + 1) * sizeof(long));
    if (!e->periods || !e->mean_treated || !e->mean_comparison || !e->event || !e->event_se ||
        !e->event_k)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (j = 0; j < np; j++) {
        e->mean_treated[j] = e->mean_comparison[j] = e->event[j] = e->event_se[j] = NAN;
        e->event_k[j] = LONG_MIN;
    }
    for (i = 0, j = 0; i < n; i++) {
        double *col[4];
        if (!period_row(r[i].name, &series, &k)) {
            size_t s;
            for (s = 0; s < sizeof(effect_summary) / sizeof(effect_summary[0]); s++)
                if (strcmp(r[i].name, effect_summary[s].name) == 0)
                    *(double *)((char *)e + effect_summary[s].at) = r[i].value;
            continue;
        }
        if (e->n_periods == 0 || strcmp(e->periods[j], r[i].period) != 0) {
            j = e->n_periods++;
            snprintf(e->periods[j], sizeof(e->periods[j]), "%s", r[i].period);
        }
        col[0] = e->mean_treated;
        col[1] = e->mean_comparison;
        col[2] = e->event;
        col[3] = e->event_se;
        col[series][j] = r[i].value;
        if (series >= 2)
            e->event_k[j] = k;
    }
    return KZ_OK;
}

int kz_store__effects(kz_db *db, kz_ctx *ctx, const char *level, kz_store_effect **out, size_t *n)
{
    effect_rows rows;
    kz_store_effect *ev = NULL;
    size_t i, a, groups = 0;
    int rc;
    *out = NULL;
    *n = 0;
    memset(&rows, 0, sizeof(rows));
    rows.ctx = ctx;
    rows.level = level;
    if ((rc = kz_store__each_statistic(db, ctx, take_effect_row, &rows)) != KZ_OK)
        goto done;
    if (rows.n == 0)
        goto done;
    qsort(rows.r, rows.n, sizeof(effect_row), cmp_effect_row);
    for (i = 0; i < rows.n; i++)
        if (i == 0 || strcmp(rows.r[i].id, rows.r[i - 1].id) != 0 ||
            strcmp(rows.r[i].subject, rows.r[i - 1].subject) != 0)
            groups++;
    if ((ev = calloc(groups, sizeof(*ev))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (a = 0, i = 1; i <= rows.n && rc == KZ_OK; i++)
        if (i == rows.n || strcmp(rows.r[i].id, rows.r[a].id) != 0 ||
            strcmp(rows.r[i].subject, rows.r[a].subject) != 0) {
            rc = build_effect(db, ctx, &ev[(*n)++], rows.r + a, i - a);
            a = i;
        }
    if (rc != KZ_OK) {
        kz_store__free_effects(ev, *n);
        *n = 0;
        ev = NULL;
    }
done:
    free_effect_rows(&rows);
    *out = ev;
    return rc;
}
