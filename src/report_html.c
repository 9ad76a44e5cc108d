/*
 * The HTML atlas (report.h): static pages with inline CSS and SVG maps
 * drawn from the area geometries; no script, no network.
 *
 * Maps: the WKB (Multi)Polygons of the store are projected linearly into a
 * viewBox (y flipped; for a lon/lat CRS x is scaled by cos(latitude)) and
 * quantised to whole viewBox units, dropping repeated points. Shared
 * boundaries quantise identically, so neighbouring areas stay gap-free,
 * and the 198,000 vertices of Berlin's 542 planning areas shrink to what
 * the drawing can show. The index page defines every area path once and
 * each choropleth <use>s it.
 *
 * Traffic lights: an area page shows the official light of an indicator
 * (the <indicator>_light column of the project's action section, the very
 * value the GeoPackage carries) wherever one exists for the level and
 * period, with its rule; other indicators get only an "Orientierung"
 * (±1 sd around the city value), labelled as no assessment. Withheld
 * values (flag 2) get neither.
 */
#include "ctx_internal.h"
#include "dirs.h"
#include "kiez/effect.h"
#include "kiez/report.h"
#include "kiez/style.h"
#include "kiez/table.h"
#include "report_chart.h"
#include "store_report.h"
#include "strmap.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_LEN 4096
/* Caps of the WKB reader: nesting and points per geometry. */
#define WKB_MAX_DEPTH 2
#define WKB_MAX_POINTS (20u * 1000u * 1000u)
/* Facilities listed per layer on an area page. */
#define MAX_LISTED 40

/* ---- geometry ---- */

typedef struct geom {
    double *xy; /* x0 y0 x1 y1 ... */
    size_t n_pts, cap_pts;
    size_t *rings; /* start of ring r at rings[r]; rings[n_rings] = n_pts */
    size_t n_rings, cap_rings;
    double minx, miny, maxx, maxy;
} geom;

typedef struct wkb_reader {
    const unsigned char *p;
    size_t n, o;
    int little;
} wkb_reader;

static void geom_free(geom *g)
{
    free(g->xy);
    free(g->rings);
    memset(g, 0, sizeof(*g));
}

static int rd_u32(wkb_reader *r, uint32_t *out)
{
    const unsigned char *b = r->p + r->o;
    if (r->n - r->o < 4)
        return -1;
    *out = r->little
               ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24
               : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[0] << 24;
    r->o += 4;
    return 0;
}

static int rd_f64(wkb_reader *r, double *out)
{
    const unsigned char *b = r->p + r->o;
    uint64_t u = 0;
    int i;
    if (r->n - r->o < 8)
        return -1;
    for (i = 0; i < 8; i++)
        u |= (uint64_t)b[r->little ? i : 7 - i] << (8 * i);
    memcpy(out, &u, sizeof(*out));
    r->o += 8;
    return 0;
}

static int push_ring(geom *g)
{
    if (g->n_rings + 2 > g->cap_rings) {
        size_t cap = g->cap_rings ? g->cap_rings * 2 : 8;
        size_t *more = realloc(g->rings, cap * sizeof(size_t));
        if (more == NULL)
            return -1;
        g->rings = more;
        g->cap_rings = cap;
    }
    g->rings[g->n_rings++] = g->n_pts;
    g->rings[g->n_rings] = g->n_pts;
    return 0;
}

static int push_point(geom *g, double x, double y)
{
    if (g->n_pts == g->cap_pts) {
        size_t cap = g->cap_pts ? g->cap_pts * 2 : 64;
        double *more = realloc(g->xy, cap * 2 * sizeof(double));
        if (more == NULL)
            return -1;
        g->xy = more;
        g->cap_pts = cap;
    }
    g->xy[2 * g->n_pts] = x;
    g->xy[2 * g->n_pts + 1] = y;
    g->n_pts++;
    g->rings[g->n_rings] = g->n_pts;
    if (g->n_pts == 1 || x < g->minx)
        g->minx = x;
    if (g->n_pts == 1 || x > g->maxx)
        g->maxx = x;
    if (g->n_pts == 1 || y < g->miny)
        g->miny = y;
    if (g->n_pts == 1 || y > g->maxy)
        g->maxy = y;
    return 0;
}

/* Read one Polygon or MultiPolygon (2D WKB, either byte order).
 * Returns 0, -1 on malformed input, -2 on allocation failure. */
static int wkb_read(wkb_reader *r, geom *g, int depth)
{
    uint32_t type, n, i, j, m;
    if (depth > WKB_MAX_DEPTH || r->o >= r->n || r->p[r->o] > 1)
        return -1;
    r->little = r->p[r->o++] == 1;
    if (rd_u32(r, &type) != 0)
        return -1;
    if (rd_u32(r, &n) != 0)
        return -1;
    if (type == 6) {
        for (i = 0; i < n; i++) {
            int rc = wkb_read(r, g, depth + 1);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (type != 3)
        return -1;
    for (i = 0; i < n; i++) {
        if (rd_u32(r, &m) != 0 || m > (r->n - r->o) / 16 || g->n_pts + m > WKB_MAX_POINTS)
            return -1;
        if (push_ring(g) != 0)
            return -2;
        for (j = 0; j < m; j++) {
            double x, y;
            if (rd_f64(r, &x) != 0 || rd_f64(r, &y) != 0)
                return -1;
            if (!isfinite(x) || !isfinite(y))
                return -1;
            if (push_point(g, x, y) != 0)
                return -2;
        }
    }
    return 0;
}

/* A linear map from CRS coordinates into a viewBox of width w. */
typedef struct view {
    double x0, y1, s, kx, w, h;
    long q; /* quantum in viewBox units */
} view;

static void view_fit(view *v, double minx, double miny, double maxx, double maxy, double w,
                     double kx, long q)
{
    double dx = (maxx - minx) * kx, dy = maxy - miny;
    if (!(dx > 0))
        dx = 1;
    if (!(dy > 0))
        dy = 1;
    v->x0 = minx;
    v->y1 = maxy;
    v->kx = kx;
    v->s = w / dx;
    v->w = w;
    v->h = ceil(dy * v->s);
    v->q = q;
}

static void view_xy(const view *v, double x, double y, long *px, long *py)
{
    *px = lround((x - v->x0) * v->kx * v->s / (double)v->q) * v->q;
    *py = lround((v->y1 - y) * v->s / (double)v->q) * v->q;
}

/* SVG path data of a geometry: each ring quantised, repeated points
 * dropped, rings of fewer than three distinct points left out. */
static void put_d(FILE *f, const geom *g, const view *v)
{
    size_t r, i;
    for (r = 0; r < g->n_rings; r++) {
        size_t a = g->rings[r], b = g->rings[r + 1], distinct = 0;
        long lx = LONG_MIN, ly = LONG_MIN, px, py;
        for (i = a; i < b && distinct < 4; i++) {
            view_xy(v, g->xy[2 * i], g->xy[2 * i + 1], &px, &py);
            if (px != lx || py != ly)
                distinct++;
            lx = px;
            ly = py;
        }
        if (distinct < 4) /* closed ring: first point repeats */
            continue;
        lx = ly = LONG_MIN;
        for (i = a; i < b; i++) {
            view_xy(v, g->xy[2 * i], g->xy[2 * i + 1], &px, &py);
            if (px == lx && py == ly)
                continue;
            fprintf(f, i == a ? "M%ld %ld" : " %ld %ld", px, py);
            lx = px;
            ly = py;
        }
        fputc('Z', f);
    }
}

/* ---- data of the atlas ---- */

typedef struct area {
    char *key, *name, *parent_key;
    double *values;
    geom g;
    size_t fac_start, fac_len;
} area;

typedef struct area_set {
    kz_ctx *ctx;
    area *a;
    size_t n, cap, n_ind;
    int with_geom;
    kz_strmap *idx;
} area_set;

typedef struct spt {
    size_t area, ind;
    double t, v;
} spt;

typedef struct series {
    spt *p;
    size_t n, cap;
    size_t *start, *len; /* per area * n_ind + ind */
} series;

typedef struct facility {
    size_t area, layer;
    char *name, *category;
    double capacity, x, y;
} facility;

/*
 * The official traffic light of an indicator: the derived column
 * <indicator>_light of the project's action section (compute_action.c),
 * with the rule it was made by. The statistics rows (analysis "action",
 * this level and period) give the city value, the sd of the level and the
 * thresholds in the indicator's unit; the light column's catalogue
 * description gives the thresholds as configured (and whether in sd).
 */
typedef struct light_rule {
    long col;     /* catalogue index of <indicator>_light; -1 = none */
    int on_level; /* the action statistics exist for this level and period */
    double city, sd, yellow, red;
    double t1, t2; /* as configured; NaN when the description does not say */
    int sd_unit;
} light_rule;

typedef struct atlas {
    kz_db *db;
    kz_ctx *ctx;
    const char *dir;
    kz_store_indicator *cat;
    size_t n_ind;
    kz_style_indicator *sind;
    kz_style_map *maps;
    double *sd, *ref; /* per indicator: sd over the level, reference of the traffic light */
    kz_store_level *levels;
    size_t n_levels;
    const kz_store_level *lv, *parent_lv, *top_lv;
    char period[11];
    area_set areas, parents, tops, bg;
    series ser, city_ser;
    facility *facs;
    size_t n_facs, cap_facs;
    char **layers, **layer_titles;
    size_t n_layers;
    size_t *layer_count; /* per area * n_layers */
    double kx;
    double minx, miny, maxx, maxy;
    view map_view, loc_view;
    const char *city_name, *bg_title;
    const double *city;
    kz_store_effect *effects; /* evaluations of measures on the level */
    size_t n_effects;
    light_rule *rules;       /* per indicator */
    unsigned char *is_light; /* per indicator: the light column of another one */
    unsigned char *withheld; /* per area * n_ind: flag 2 (disclosure) at the period */
} atlas;

static char *dup_s(const char *s)
{
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    if ((d = malloc(n)) != NULL)
        memcpy(d, s, n);
    return d;
}

static void area_set_free(area_set *s)
{
    size_t i;
    for (i = 0; i < s->n; i++) {
        free(s->a[i].key);
        free(s->a[i].name);
        free(s->a[i].parent_key);
        free(s->a[i].values);
        geom_free(&s->a[i].g);
    }
    free(s->a);
    kz_strmap__free(s->idx);
    memset(s, 0, sizeof(*s));
}

static int collect_area(const kz_store_area *sa, void *payload)
{
    area_set *s = payload;
    area *a;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        area *more = realloc(s->a, cap * sizeof(area));
        if (more == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->a = more;
        s->cap = cap;
    }
    a = &s->a[s->n];
    memset(a, 0, sizeof(*a));
    a->key = dup_s(sa->key ? sa->key : "");
    a->name = dup_s(sa->name ? sa->name : (sa->key ? sa->key : ""));
    a->parent_key = dup_s(sa->parent_key);
    a->values = malloc((s->n_ind ? s->n_ind : 1) * sizeof(double));
    s->n++;
    if (a->key == NULL || a->name == NULL || a->values == NULL ||
        (sa->parent_key != NULL && a->parent_key == NULL))
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    if (s->n_ind > 0)
        memcpy(a->values, sa->values, s->n_ind * sizeof(double));
    if (kz_strmap__put(s->idx, a->key, (long)(s->n - 1), NULL) < 0)
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    if (s->with_geom && sa->wkb != NULL) {
        wkb_reader r = {sa->wkb, sa->wkb_size, 0, 1};
        int rc = wkb_read(&r, &a->g, 0);
        if (rc == -2)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        if (rc != 0) {
            kz_ctx__log(s->ctx, KZ_LOG_WARN,
                        "atlas: area %s: geometry not a readable polygon; "
                        "left off the maps",
                        a->key);
            geom_free(&a->g);
        }
    }
    return KZ_OK;
}

static int load_areas(atlas *at, area_set *s, const char *level, int with_geom)
{
    memset(s, 0, sizeof(*s));
    s->ctx = at->ctx;
    s->n_ind = at->n_ind;
    s->with_geom = with_geom;
    if ((s->idx = kz_strmap__new()) == NULL)
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    return kz_store__each_area(at->db, at->ctx, level, at->period, at->n_ind, collect_area, s);
}

/* Sortable period position: year*372 + (month-1)*31 + day. */
static double period_t(const char *p)
{
    int y = 0, m = 1, d = 1;
    if (p == NULL || sscanf(p, "%4d-%2d-%2d", &y, &m, &d) < 1)
        return NAN;
    return (double)y * 372.0 + (double)(m - 1) * 31.0 + (double)d;
}

typedef struct series_job {
    atlas *at;
    series *s;
    area_set *areas;
    unsigned char *withheld; /* per area * n_ind at the atlas period, or NULL */
} series_job;

static long indicator_index(const atlas *at, const char *name)
{
    size_t j;
    for (j = 0; j < at->n_ind; j++)
        if (strcmp(at->cat[j].name, name) == 0)
            return (long)j;
    return -1;
}

static int collect_series(const kz_store_series *row, void *payload)
{
    series_job *sj = payload;
    series *s = sj->s;
    long a = kz_strmap__get(sj->areas->idx, row->key ? row->key : "");
    long j = row->indicator ? indicator_index(sj->at, row->indicator) : -1;
    if (a >= 0 && j >= 0 && sj->withheld != NULL && row->flag == KZ_FLAG_SUPPRESSED &&
        row->period != NULL && strcmp(row->period, sj->at->period) == 0)
        sj->withheld[(size_t)a * sj->at->n_ind + (size_t)j] = 1;
    if (a < 0 || j < 0 || !isfinite(row->value))
        return KZ_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        spt *more = realloc(s->p, cap * sizeof(spt));
        if (more == NULL)
            return kz_ctx__error(sj->at->ctx, KZ_E_NOMEM, "out of memory");
        s->p = more;
        s->cap = cap;
    }
    s->p[s->n].area = (size_t)a;
    s->p[s->n].ind = (size_t)j;
    s->p[s->n].t = period_t(row->period);
    s->p[s->n].v = row->value;
    s->n++;
    return KZ_OK;
}

static int cmp_spt(const void *pa, const void *pb)
{
    const spt *a = pa, *b = pb;
    if (a->area != b->area)
        return a->area < b->area ? -1 : 1;
    if (a->ind != b->ind)
        return a->ind < b->ind ? -1 : 1;
    return a->t < b->t ? -1 : a->t > b->t;
}

static int load_series(atlas *at, series *s, area_set *areas, const char *level,
                       unsigned char *withheld)
{
    series_job sj = {at, s, areas, withheld};
    size_t i, cells = areas->n * at->n_ind;
    int rc;
    memset(s, 0, sizeof(*s));
    if ((rc = kz_store__each_series(at->db, at->ctx, level, collect_series, &sj)) != KZ_OK)
        return rc;
    s->start = calloc(cells ? cells : 1, sizeof(size_t));
    s->len = calloc(cells ? cells : 1, sizeof(size_t));
    if (s->start == NULL || s->len == NULL)
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    if (s->n > 0)
        qsort(s->p, s->n, sizeof(spt), cmp_spt);
    for (i = 0; i < s->n; i++) {
        size_t c = s->p[i].area * at->n_ind + s->p[i].ind;
        if (s->len[c] == 0)
            s->start[c] = i;
        s->len[c]++;
    }
    return KZ_OK;
}

/* One action statistics row of the atlas level and period. */
static int take_action_row(const kz_store_statistic *st, void *payload)
{
    atlas *at = payload;
    light_rule *r;
    long j;
    if (st->analysis == NULL || strcmp(st->analysis, "action") != 0 || st->level == NULL ||
        strcmp(st->level, at->lv->name) != 0 || st->period == NULL ||
        strcmp(st->period, at->period) != 0 || st->subject == NULL || st->measure == NULL ||
        (j = indicator_index(at, st->subject)) < 0)
        return KZ_OK;
    r = &at->rules[j];
    r->on_level = 1;
    if (strcmp(st->measure, "city") == 0)
        r->city = st->value;
    else if (strcmp(st->measure, "sd") == 0)
        r->sd = st->value;
    else if (strcmp(st->measure, "yellow_beyond") == 0)
        r->yellow = st->value;
    else if (strcmp(st->measure, "red_beyond") == 0)
        r->red = st->value;
    return KZ_OK;
}

/* The thresholds as configured, from the light column's description
 * (compute_action.c writes "... worse by more than T1[ sd] yellow, by more
 * than T2[ sd] red ..."). */
static void parse_rule(light_rule *r, const char *desc)
{
    static const char by[] = "by more than ";
    const char *p = desc ? strstr(desc, by) : NULL;
    double t[2];
    int k, sd[2];
    for (k = 0; k < 2 && p != NULL; k++) {
        char *end;
        t[k] = strtod(p + sizeof(by) - 1, &end);
        if (end == p + sizeof(by) - 1)
            return;
        sd[k] = strncmp(end, " sd", 3) == 0;
        p = strstr(end, by);
    }
    if (k == 2 && sd[0] == sd[1]) {
        r->t1 = t[0];
        r->t2 = t[1];
        r->sd_unit = sd[0];
    }
}

/* Which indicators have an official light on this level and period. */
static int load_lights(atlas *at)
{
    size_t j, k, len;
    at->rules = calloc(at->n_ind ? at->n_ind : 1, sizeof(light_rule));
    at->is_light = calloc(at->n_ind ? at->n_ind : 1, 1);
    if (at->rules == NULL || at->is_light == NULL)
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    for (j = 0; j < at->n_ind; j++) {
        light_rule *r = &at->rules[j];
        r->col = -1;
        r->city = r->sd = r->yellow = r->red = r->t1 = r->t2 = NAN;
        len = strlen(at->cat[j].name);
        for (k = 0; k < at->n_ind; k++)
            if (strncmp(at->cat[k].name, at->cat[j].name, len) == 0 &&
                strcmp(at->cat[k].name + len, "_light") == 0 &&
                strcmp(at->cat[k].kind, "class") == 0)
                break;
        if (k < at->n_ind) {
            r->col = (long)k;
            at->is_light[k] = 1;
            parse_rule(r, at->cat[k].description);
        }
    }
    return kz_store__each_statistic(at->db, at->ctx, take_action_row, at);
}

static void series_free(series *s)
{
    free(s->p);
    free(s->start);
    free(s->len);
    memset(s, 0, sizeof(*s));
}

static int collect_facility(const kz_store_facility *f, void *payload)
{
    atlas *at = payload;
    long a = kz_strmap__get(at->areas.idx, f->area_key ? f->area_key : "");
    size_t l;
    facility *fc;
    if (a < 0)
        return KZ_OK;
    for (l = 0; l < at->n_layers; l++)
        if (f->layer != NULL && strcmp(at->layers[l], f->layer) == 0)
            break;
    if (l == at->n_layers)
        return KZ_OK;
    if (at->n_facs == at->cap_facs) {
        size_t cap = at->cap_facs ? at->cap_facs * 2 : 256;
        facility *more = realloc(at->facs, cap * sizeof(facility));
        if (more == NULL)
            return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
        at->facs = more;
        at->cap_facs = cap;
    }
    fc = &at->facs[at->n_facs++];
    fc->area = (size_t)a;
    fc->layer = l;
    fc->name = dup_s(f->name ? f->name : (f->id ? f->id : ""));
    fc->category = dup_s(f->category);
    fc->capacity = f->capacity;
    fc->x = f->x;
    fc->y = f->y;
    if (fc->name == NULL || (f->category != NULL && fc->category == NULL))
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    at->layer_count[(size_t)a * at->n_layers + l]++;
    return KZ_OK;
}

static int cmp_facility(const void *pa, const void *pb)
{
    const facility *a = pa, *b = pb;
    int c;
    if (a->area != b->area)
        return a->area < b->area ? -1 : 1;
    if (a->layer != b->layer)
        return a->layer < b->layer ? -1 : 1;
    if ((c = strcmp(a->name, b->name)) != 0)
        return c;
    return a->x < b->x ? -1 : a->x > b->x ? 1 : (a->y < b->y ? -1 : a->y > b->y);
}

/* ---- writing ---- */

/* Okabe & Ito (2008) colours, distinguishable with colour-vision deficiency. */
static const char *const layer_colour[] = {"#E69F00", "#0072B2", "#009E73", "#CC79A7",
                                           "#D55E00", "#56B4E9", "#F0E442", "#000000"};

static const char css[] =
    ":root{--ink:#1f2933;--muted:#52606d;--line:#d3d9de;--accent:#1f4e79}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
    "color:var(--ink);background:#fff}"
    "header{background:var(--accent);color:#fff;padding:16px 28px}"
    "header h1{margin:2px 0;font-size:26px}header p{margin:2px 0;opacity:.92}"
    "header a{color:#fff}"
    "nav{padding:8px 28px;border-bottom:1px solid var(--line);font-size:14px}"
    "nav a{margin-right:14px;white-space:nowrap}"
    "main{padding:16px 28px;max-width:1320px}"
    "a{color:var(--accent)}"
    "h2{font-size:19px;margin:22px 0 10px}h3{font-size:16px;margin:16px 0 6px}"
    ".maps{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:20px}"
    "figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:12px}"
    "figure h2,figure h3{font-size:16px;margin:0 0 6px}"
    "svg.map{width:100%;height:auto;display:block}"
    ".legend{list-style:none;padding:0;margin:8px 0 0;font-size:13px}"
    ".legend li{display:flex;align-items:center;gap:8px;margin:2px 0}"
    ".sw{display:inline-block;width:22px;height:13px;border:1px solid #6b7280;flex:none}"
    ".dot{display:inline-block;width:12px;height:12px;border-radius:50%;border:1px solid #fff;"
    "outline:1px solid #6b7280;flex:none}"
    "table{border-collapse:collapse;font-size:13.5px}"
    "th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;"
    "vertical-align:middle}"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "thead th{background:#eef1f4;position:sticky;top:0}"
    "tr.city td{font-weight:600;background:#f7f9fa}"
    ".wide{overflow-x:auto}"
    ".small{color:var(--muted);font-size:13px}"
    ".light{font-weight:600;white-space:nowrap}.orient{white-space:nowrap}"
    ".nw{white-space:nowrap}"
    ".amp{display:inline-block;width:12px;height:12px;border-radius:50%;border:1px solid "
    "#3e4c59;vertical-align:-1px;margin-right:5px}"
    "ul.rules{margin:4px 0 8px;padding-left:20px}"
    "td svg{vertical-align:middle}"
    ".cols{display:grid;grid-template-columns:minmax(260px,340px) minmax(360px,1fr);gap:20px;"
    "align-items:start}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:20px}"
    "svg.chart{width:100%;height:auto;display:block}"
    "section.measure{border-top:2px solid var(--line);margin-top:22px}"
    ".illus{border:2px dashed #b35806;background:#fff7ec;padding:6px 10px;border-radius:4px}"
    ".refused{border:1px solid var(--line);border-left:4px solid #52606d;background:#f7f9fa;"
    "padding:8px 12px;margin:0;border-radius:4px;align-self:start}"
    "details{margin:8px 0}summary{cursor:pointer;color:var(--accent)}"
    "footer{padding:14px 28px;color:var(--muted);font-size:13px;border-top:1px solid var(--line);"
    "margin-top:24px}";

/* Text helpers shared with the charts (report_chart.c). */
#define esc kz_report__esc
#define fmt_date kz_report__date
#define fmt_value kz_report__value

static void escf(FILE *f, const char *fmt, ...) KZ_PRINTF(2, 3);
static void escf(FILE *f, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    esc(f, buf);
}

/* File name of an area page: gebiet-<key>.html, bytes outside
 * [A-Za-z0-9_-] written as ~XX. */
static void page_name(char *out, size_t size, const char *key)
{
    size_t o = (size_t)snprintf(out, size, "gebiet-");
    for (; *key && o + 8 < size; key++) {
        unsigned char c = (unsigned char)*key;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '_' || c == '-')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "~%02X", c);
    }
    snprintf(out + o, size - o, ".html");
}

static const char *level_title(const kz_store_level *l)
{
    return l->title ? l->title : l->name;
}

static const char *ind_label(const kz_store_indicator *c)
{
    return c->label ? c->label : c->name;
}

static void put_head(FILE *f, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"kiez ",
          f);
    esc(f, kz_version());
    fputs("\">\n<title>", f);
    esc(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
}

static void put_footer(FILE *f, const atlas *at)
{
    char date[16];
    fmt_date(date, sizeof(date), at->period);
    fputs("<footer>Stand der Daten: ", f);
    esc(f, date);
    fputs(". Erstellt mit kiez ", f);
    esc(f, kz_version());
    fputs(". Farben nach ColorBrewer (farbfehlsichtigkeitsgeeignet); Klassen und Farben wie in den "
          "QGIS-Stilen der GeoPackage-Ebenen.</footer>\n</body>\n</html>\n",
          f);
}

static void put_rgb(FILE *f, const unsigned char *rgb)
{
    fprintf(f, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

static void put_fill(FILE *f, const kz_style_map *m, double v)
{
    int c = kz_style_class_of(m, v);
    if (c < 0)
        fputs(KZ_STYLE_MISSING_RGB, f);
    else
        put_rgb(f, m->classes[c].rgb);
}

static void put_legend(FILE *f, const kz_style_map *m)
{
    int i;
    fputs("<ul class=\"legend\">", f);
    for (i = 0; i < m->n_classes; i++) {
        fputs("<li><span class=\"sw\" style=\"background:", f);
        put_rgb(f, m->classes[i].rgb);
        fputs("\"></span>", f);
        esc(f, m->classes[i].label);
        fputs("</li>", f);
    }
    if (m->n_missing > 0) {
        fputs("<li><span class=\"sw\" style=\"background:" KZ_STYLE_MISSING_RGB "\"></span>", f);
        fprintf(f, "keine Angabe (%zu)</li>", m->n_missing);
    }
    fputs("</ul>\n", f);
}

/* Open `path`.tmp-<pid> for writing. */
static FILE *open_tmp(atlas *at, char *tmp, size_t size, const char *name)
{
    FILE *f;
    if (snprintf(tmp, size, "%s/%s.tmp-%ld", at->dir, name, (long)getpid()) >= (int)size) {
        kz_ctx__error(at->ctx, KZ_E_USAGE, "%s: path too long", at->dir);
        return NULL;
    }
    if ((f = fopen(tmp, "wb")) == NULL)
        kz_ctx__error(at->ctx, KZ_E_IO, "%s: cannot write: %s", tmp, strerror(errno));
    return f;
}

static int close_tmp(atlas *at, FILE *f, const char *tmp, const char *name)
{
    char path[PATH_LEN];
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (snprintf(path, sizeof(path), "%s/%s", at->dir, name) >= (int)sizeof(path))
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return kz_ctx__error(at->ctx, KZ_E_IO, "%s: cannot write", path);
    }
    return KZ_OK;
}

/* ---- index.html ---- */

static void put_choropleth(FILE *f, const atlas *at, size_t j)
{
    const kz_style_map *m = &at->maps[j];
    const kz_store_indicator *c = &at->cat[j];
    char date[16], val[64], page[PATH_LEN];
    size_t i;
    fmt_date(date, sizeof(date), at->period);
    fprintf(f, "<figure id=\"ind-%zu\">\n<h2>", j);
    esc(f, ind_label(c));
    if (c->unit && c->unit[0]) {
        fputs(" (", f);
        esc(f, c->unit);
        fputc(')', f);
    }
    fprintf(f,
            "</h2>\n<svg class=\"map\" viewBox=\"0 0 %.0f %.0f\" role=\"img\""
            " aria-labelledby=\"ind-%zu-t\">\n<title id=\"ind-%zu-t\">",
            at->map_view.w, at->map_view.h, j, j);
    escf(f, "Karte: %s nach %s, Stand %s. Die Werte stehen in der Tabelle der Gebiete.",
         ind_label(c), level_title(at->lv), date);
    /* Grey outlines: the neutral class of diverging maps is near white. */
    fputs("</title>\n<g stroke=\"#8a949e\" stroke-width=\"0.5\" stroke-linejoin=\"round\">\n", f);
    for (i = 0; i < at->areas.n; i++) {
        const area *a = &at->areas.a[i];
        if (a->g.n_pts == 0)
            continue;
        page_name(page, sizeof(page), a->key);
        fputs("<a href=\"", f);
        esc(f, page);
        fprintf(f, "\"><use href=\"#g%zu\" fill=\"", i);
        put_fill(f, m, a->values[j]);
        fputs("\"><title>", f);
        fmt_value(val, sizeof(val), a->values[j], m->decimals, c->unit);
        escf(f, "%s: %s", a->name, val);
        fputs("</title></use></a>\n", f);
    }
    fputs("</g>\n</svg>\n", f);
    put_legend(f, m);
    fputs("</figure>\n", f);
}

static const char *parent_name(const atlas *at, const area *a)
{
    long p;
    if (a->parent_key == NULL || at->parents.idx == NULL)
        return NULL;
    p = kz_strmap__get(at->parents.idx, a->parent_key);
    return p >= 0 ? at->parents.a[p].name : NULL;
}

static int write_index(atlas *at)
{
    char tmp[PATH_LEN], title[512], date[16], val[64], page[PATH_LEN];
    size_t i, j;
    FILE *f;

    fmt_date(date, sizeof(date), at->period);
    snprintf(title, sizeof(title), "Monitoring-Atlas %s: %s", at->city_name, level_title(at->lv));
    if ((f = open_tmp(at, tmp, sizeof(tmp), "index.html")) == NULL)
        return at->ctx->errcode ? at->ctx->errcode : KZ_E_IO;
    put_head(f, title);
    fputs("<header>\n<h1>Monitoring-Atlas ", f);
    esc(f, at->city_name);
    fputs("</h1>\n<p>", f);
    escf(f, "%s \xc2\xb7 %zu Gebiete \xc2\xb7 Stand %s", level_title(at->lv), at->areas.n, date);
    fputs("</p>\n</header>\n<nav aria-label=\"Indikatoren\">", f);
    for (j = 0; j < at->n_ind; j++) {
        fprintf(f, "<a href=\"#ind-%zu\">", j);
        esc(f, ind_label(&at->cat[j]));
        fputs("</a> ", f);
    }
    fputs("<a href=\"#gebiete\">Tabelle der Gebiete</a></nav>\n<main>\n", f);

    /* Every area path once; the maps <use> them. */
    fprintf(f, "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\""
               " focusable=\"false\"><defs>\n");
    for (i = 0; i < at->areas.n; i++) {
        if (at->areas.a[i].g.n_pts == 0)
            continue;
        fprintf(f, "<path id=\"g%zu\" d=\"", i);
        put_d(f, &at->areas.a[i].g, &at->map_view);
        fputs("\"/>\n", f);
    }
    fputs("</defs></svg>\n", f);

    fputs("<p class=\"small\">Jede Karte zeigt einen Indikator f\xc3\xbcr alle Gebiete. Ein Klick "
          "auf "
          "ein Gebiet \xc3\xb6"
          "ffnet sein Profil; die Werte stehen auch in der Tabelle unten. "
          "Anteile und Anzahlen: 5 Klassen gleicher Besetzung (Quantile); Indizes, z-Werte und "
          "Ver\xc3\xa4nderungen: Klassen um null. Rot steht bei Indikatoren mit Wertung immer "
          "f\xc3\xbcr ung\xc3\xbcnstig.</p>\n<section class=\"maps\">\n",
          f);
    for (j = 0; j < at->n_ind; j++)
        put_choropleth(f, at, j);
    fputs("</section>\n", f);

    fputs("<section id=\"gebiete\">\n<h2>Gebiete</h2>\n<div class=\"wide\"><table>\n<caption "
          "class=\"small\">",
          f);
    escf(f, "%s, Stand %s. Erste Zeile: %s insgesamt.", level_title(at->lv), date, at->city_name);
    fputs("</caption>\n<thead><tr><th scope=\"col\">Gebiet</th><th scope=\"col\">Schl\xc3\xbcssel"
          "</th>",
          f);
    if (at->parent_lv != NULL) {
        fputs("<th scope=\"col\">", f);
        esc(f, level_title(at->parent_lv));
        fputs("</th>", f);
    }
    for (j = 0; j < at->n_ind; j++) {
        fputs("<th scope=\"col\" class=\"n\">", f);
        esc(f, ind_label(&at->cat[j]));
        if (at->cat[j].unit && at->cat[j].unit[0]) {
            fputs(" (", f);
            esc(f, at->cat[j].unit);
            fputc(')', f);
        }
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n<tr class=\"city\"><td>", f);
    esc(f, at->city_name);
    fputs("</td><td></td>", f);
    if (at->parent_lv != NULL)
        fputs("<td></td>", f);
    for (j = 0; j < at->n_ind; j++) {
        kz_style_format_number(val, sizeof(val), at->city ? at->city[j] : NAN,
                               at->maps[j].decimals);
        fputs("<td class=\"n\">", f);
        esc(f, val);
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
    for (i = 0; i < at->areas.n; i++) {
        const area *a = &at->areas.a[i];
        const char *pn = parent_name(at, a);
        page_name(page, sizeof(page), a->key);
        fputs("<tr><td><a href=\"", f);
        esc(f, page);
        fputs("\">", f);
        esc(f, a->name);
        fputs("</a></td><td>", f);
        esc(f, a->key);
        fputs("</td>", f);
        if (at->parent_lv != NULL) {
            fputs("<td>", f);
            esc(f, pn ? pn : "");
            fputs("</td>", f);
        }
        for (j = 0; j < at->n_ind; j++) {
            kz_style_format_number(val, sizeof(val), a->values[j], at->maps[j].decimals);
            fputs("<td class=\"n\">", f);
            esc(f, val);
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n</section>\n</main>\n", f);
    put_footer(f, at);
    return close_tmp(at, f, tmp, "index.html");
}

/* ---- umriss.svg: outlines for the locator maps ---- */

static int write_outlines(atlas *at)
{
    char tmp[PATH_LEN];
    size_t i;
    FILE *f = open_tmp(at, tmp, sizeof(tmp), "umriss.svg");
    if (f == NULL)
        return at->ctx->errcode ? at->ctx->errcode : KZ_E_IO;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\">\n"
            "<g fill=\"#eef1f4\" stroke=\"#7b8794\" stroke-width=\"3\""
            " stroke-linejoin=\"round\">\n",
            at->loc_view.w, at->loc_view.h);
    for (i = 0; i < at->bg.n; i++) {
        if (at->bg.a[i].g.n_pts == 0)
            continue;
        fputs("<path d=\"", f);
        put_d(f, &at->bg.a[i].g, &at->loc_view);
        fputs("\"/>\n", f);
    }
    fputs("</g>\n</svg>\n", f);
    return close_tmp(at, f, tmp, "umriss.svg");
}

/* ---- area pages ---- */

static void put_locator(FILE *f, const atlas *at, const area *a)
{
    long x0, y0, x1, y1;
    fprintf(f,
            "<figure>\n<h3>Lage in der Stadt</h3>\n<svg class=\"map\" viewBox=\"0 0 %.0f %.0f\""
            " role=\"img\" aria-labelledby=\"loc-t\" style=\"background:url(umriss.svg) 0 0/100%%"
            " 100%% no-repeat\">\n<title id=\"loc-t\">",
            at->loc_view.w, at->loc_view.h);
    escf(f, "Lage von %s in %s", a->name, at->city_name);
    fputs("</title>\n", f);
    if (a->g.n_pts > 0) {
        view_xy(&at->loc_view, a->g.minx, a->g.maxy, &x0, &y0);
        view_xy(&at->loc_view, a->g.maxx, a->g.miny, &x1, &y1);
        fputs("<path fill=\"#b2182b\" stroke=\"#67001f\" stroke-width=\"2\" d=\"", f);
        put_d(f, &a->g, &at->loc_view);
        fprintf(f,
                "\"/>\n<circle cx=\"%ld\" cy=\"%ld\" r=\"%ld\" fill=\"none\" stroke=\"#b2182b\""
                " stroke-width=\"6\"/>\n",
                (x0 + x1) / 2, (y0 + y1) / 2, labs(x1 - x0) / 2 + labs(y1 - y0) / 2 + 30);
    }
    fputs("</svg>\n<p class=\"small\">Umrisse: ", f);
    esc(f, at->bg_title);
    fputs("; rot: dieses Gebiet.</p>\n</figure>\n", f);
}

static void put_detail(FILE *f, const atlas *at, size_t ai)
{
    const area *a = &at->areas.a[ai];
    double minx, miny, maxx, maxy, dx, dy, cx, cy;
    char page[PATH_LEN];
    view v;
    size_t i, l;
    if (a->g.n_pts == 0)
        return;
    /* The area's box with a margin, widened to an aspect between 0.6 and 1. */
    dx = (a->g.maxx - a->g.minx) * at->kx;
    dy = a->g.maxy - a->g.miny;
    if (dy > dx)
        dx = dy;
    if (dy < 0.6 * dx)
        dy = 0.6 * dx;
    dx *= 1.35;
    dy *= 1.35;
    cx = (a->g.minx + a->g.maxx) / 2;
    cy = (a->g.miny + a->g.maxy) / 2;
    minx = cx - dx / 2 / at->kx;
    maxx = cx + dx / 2 / at->kx;
    miny = cy - dy / 2;
    maxy = cy + dy / 2;
    view_fit(&v, minx, miny, maxx, maxy, 600, at->kx, 1);
    fprintf(f,
            "<figure>\n<h3>Gebiet und Einrichtungen</h3>\n<svg class=\"map\" viewBox=\"0 0 600"
            " %.0f\" role=\"img\" aria-labelledby=\"det-t\">\n<title id=\"det-t\">",
            v.h);
    escf(f, "Karte von %s mit den Nachbargebieten und %zu Einrichtungen im Gebiet", a->name,
         a->fac_len);
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#f7f9fa\"/>\n"
          "<g fill=\"#e4e8ec\" stroke=\"#9aa5b1\" stroke-width=\"1.2\">\n",
          f);
    for (i = 0; i < at->areas.n; i++) {
        const area *b = &at->areas.a[i];
        if (i == ai || b->g.n_pts == 0 || b->g.maxx < minx || b->g.minx > maxx ||
            b->g.maxy < miny || b->g.miny > maxy)
            continue;
        page_name(page, sizeof(page), b->key);
        fputs("<a href=\"", f);
        esc(f, page);
        fputs("\"><path d=\"", f);
        put_d(f, &b->g, &v);
        fputs("\"><title>", f);
        esc(f, b->name);
        fputs("</title></path></a>\n", f);
    }
    fputs("</g>\n<path fill=\"#fff7ec\" stroke=\"#b35806\" stroke-width=\"3\" d=\"", f);
    put_d(f, &a->g, &v);
    fputs("\"/>\n<g stroke=\"#ffffff\" stroke-width=\"1.5\">\n", f);
    for (i = a->fac_start; i < a->fac_start + a->fac_len; i++) {
        const facility *fc = &at->facs[i];
        long px, py;
        view_xy(&v, fc->x, fc->y, &px, &py);
        fprintf(f, "<circle cx=\"%ld\" cy=\"%ld\" r=\"6\" fill=\"%s\"><title>", px, py,
                layer_colour[fc->layer % 8]);
        esc(f, fc->name);
        if (fc->category) {
            fputs(" (", f);
            esc(f, fc->category);
            fputc(')', f);
        }
        fputs("</title></circle>\n", f);
    }
    fputs("</g>\n</svg>\n<ul class=\"legend\">", f);
    for (l = 0; l < at->n_layers; l++) {
        size_t n = at->layer_count[ai * at->n_layers + l];
        fprintf(f, "<li><span class=\"dot\" style=\"background:%s\"></span>", layer_colour[l % 8]);
        escf(f, "%s (%zu)", at->layer_titles[l] ? at->layer_titles[l] : at->layers[l], n);
        fputs("</li>", f);
    }
    fputs("</ul>\n</figure>\n", f);
}

/* A sparkline of the area's series (solid) and the city's (dashed). */
static void put_sparkline(FILE *f, const atlas *at, size_t ai, size_t j)
{
    const series *s = &at->ser;
    const spt *p = s->p + s->start[ai * at->n_ind + j];
    size_t n = s->len[ai * at->n_ind + j], cn = 0, k;
    const spt *cp = NULL;
    const kz_style_map *m = &at->maps[j];
    const char *unit = at->cat[j].unit;
    double t0, t1, lo = INFINITY, hi = -INFINITY;
    const double W = 150, H = 34, pad = 3;
    char a0[64], a1[64], d0[32], d1[32];
    if (at->city_ser.len != NULL && at->tops.n > 0 && at->cat[j].denominator != NULL) {
        cp = at->city_ser.p + at->city_ser.start[j];
        cn = at->city_ser.len[j];
    }
    if (n < 2) {
        fputs("<span class=\"small\">nur ein Zeitpunkt</span>", f);
        return;
    }
    t0 = p[0].t;
    t1 = p[n - 1].t;
    for (k = 0; k < n; k++) {
        lo = fmin(lo, p[k].v);
        hi = fmax(hi, p[k].v);
    }
    for (k = 0; k < cn; k++)
        if (cp[k].t >= t0 && cp[k].t <= t1) {
            lo = fmin(lo, cp[k].v);
            hi = fmax(hi, cp[k].v);
        }
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    fmt_value(a0, sizeof(a0), p[0].v, m->decimals, unit);
    fmt_value(a1, sizeof(a1), p[n - 1].v, m->decimals, unit);
    /* Periods back to dates for the text alternative. */
    {
        int y0 = (int)((p[0].t - 1) / 372), y1 = (int)((p[n - 1].t - 1) / 372);
        int r0 = (int)(p[0].t - 1) - y0 * 372, r1 = (int)(p[n - 1].t - 1) - y1 * 372;
        snprintf(d0, sizeof(d0), "%02d.%02d.%04d", r0 % 31 + 1, r0 / 31 + 1, y0);
        snprintf(d1, sizeof(d1), "%02d.%02d.%04d", r1 % 31 + 1, r1 / 31 + 1, y1);
    }
    fprintf(f,
            "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\""
            " aria-label=\"",
            W, H, W, H);
    escf(f, "Entwicklung %s bis %s (%zu Zeitpunkte): von %s auf %s%s%s", d0, d1, n, a0, a1,
         cn > 1 ? "; gestrichelt: " : "", cn > 1 ? at->city_name : "");
    fputs("\">", f);
#define SX(t) (pad + ((t)-t0) / (t1 - t0) * (W - 2 * pad))
#define SY(v) (H - pad - ((v)-lo) / (hi - lo) * (H - 2 * pad))
    if (cn > 1) {
        int first = 1;
        fputs("<polyline fill=\"none\" stroke=\"#7b8794\" stroke-width=\"1.2\""
              " stroke-dasharray=\"3 2\" points=\"",
              f);
        for (k = 0; k < cn; k++) {
            if (cp[k].t < t0 || cp[k].t > t1)
                continue;
            fprintf(f, first ? "%.1f,%.1f" : " %.1f,%.1f", SX(cp[k].t), SY(cp[k].v));
            first = 0;
        }
        fputs("\"/>", f);
    }
    fputs("<polyline fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"2\" points=\"", f);
    for (k = 0; k < n; k++)
        fprintf(f, k ? " %.1f,%.1f" : "%.1f,%.1f", SX(p[k].t), SY(p[k].v));
    fprintf(f, "\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"#1f4e79\"/></svg>",
            SX(p[n - 1].t), SY(p[n - 1].v));
#undef SX
#undef SY
    kz_style_format_number(a0, sizeof(a0), p[0].v, m->decimals);
    kz_style_format_number(a1, sizeof(a1), p[n - 1].v, m->decimals);
    fputs(" <span class=\"small nw\">", f);
    esc(f, a0);
    fputs(" \xe2\x86\x92 ", f);
    esc(f, a1);
    fputs("</span>", f);
}

/* Traffic-light colours and words, as in the QGIS style of the light
 * columns (ColorBrewer RdYlGn 3: green, yellow, red). */
static const char *const light_rgb[3] = {"#1a9641", "#fdae61", "#d7191c"};
static const char *const light_word[3] = {"gr\xc3\xbcn", "gelb", "rot"};

/* A threshold as configured ("0,5", "1", "12,25"). */
static void fmt_threshold(char *out, size_t size, double t)
{
    char *c;
    snprintf(out, size, "%.6g", t);
    if ((c = strchr(out, '.')) != NULL)
        *c = ',';
}

/* The rule of indicator j's official light in words: reference, the
 * direction that counts, thresholds and their unit (compute_action.c:
 * green w <= t1, yellow t1 < w <= t2, red w > t2). */
static void light_rule_text(char *out, size_t size, const atlas *at, size_t j)
{
    const light_rule *r = &at->rules[j];
    const kz_store_indicator *c = &at->cat[j];
    const char *pol = c->polarity, *unit = c->unit && c->unit[0] ? c->unit : NULL;
    /* A difference of shares is in percentage points (as compute_action.c). */
    const char *dunit = unit && strcmp(unit, "%") == 0 ? "Prozentpunkte" : unit;
    int dec = at->maps[j].decimals + 1;
    char city[64], t1[64], t2[64], sd[200], y[64], rd[64];
    const char *dir = pol && strcmp(pol, "positive") == 0
                          ? "Abweichung nach unten z\xc3\xa4hlt (h\xc3\xb6her ist g\xc3\xbcnstiger)"
                      : pol && strcmp(pol, "negative") == 0
                          ? "Abweichung nach oben z\xc3\xa4hlt (niedriger ist g\xc3\xbcnstiger)"
                          : "Abweichung in beide Richtungen z\xc3\xa4hlt (Indikator ohne Wertung)";
    fmt_value(city, sizeof(city), r->city, dec, unit);
    sd[0] = '\0';
    if (isfinite(r->t1)) {
        fmt_threshold(t1, sizeof(t1), r->t1);
        fmt_threshold(t2, sizeof(t2), r->t2);
    } else { /* the description did not say: the thresholds in the indicator's unit */
        kz_style_format_number(t1, sizeof(t1), r->yellow, dec);
        kz_style_format_number(t2, sizeof(t2), r->red, dec);
    }
    if (isfinite(r->t1) && r->sd_unit) {
        fmt_value(y, sizeof(y), r->sd, dec, dunit);
        kz_style_format_number(rd, sizeof(rd), r->yellow, dec);
        snprintf(sd, sizeof(sd),
                 " (sd = Standardabweichung der Gebiete dieser Ebene, %s; gelb \xc3\xbc"
                 "ber %s",
                 y, rd);
        fmt_value(rd, sizeof(rd), r->red, dec, dunit);
        snprintf(sd + strlen(sd), sizeof(sd) - strlen(sd),
                 ", rot \xc3\xbc"
                 "ber %s)",
                 rd);
    }
    snprintf(out, size,
             "Ampel des Projekts (Abschnitt action, Spalte %s): Vergleich mit dem Stadtwert %s, "
             "%s. Gr\xc3\xbcn bis %s, gelb \xc3\xbc"
             "ber %s bis %s, rot \xc3\xbc"
             "ber %s %s%s.",
             at->cat[r->col].name, city, dir, t1, t1, t2, t2,
             r->sd_unit && isfinite(r->t1) ? "sd"
             : dunit                       ? dunit
                                           : "",
             sd);
}

static int official_light(const atlas *at, size_t j)
{
    return at->rules[j].col >= 0 && at->rules[j].on_level;
}

/* Orientation, not an assessment: counts, ratios, indices and changes,
 * but not classes, ranks or the light columns themselves. */
static int has_orientation(const atlas *at, size_t j)
{
    const char *kind = at->cat[j].kind;
    return !at->is_light[j] && strcmp(kind, "class") != 0 && strcmp(kind, "rank") != 0;
}

static void put_cell_open(FILE *f, const char *cls, const atlas *at, size_t j)
{
    fprintf(f, "<span class=\"%s\" data-indicator=\"", cls);
    esc(f, at->cat[j].name);
    fputc('"', f);
}

/*
 * The "Ampel / Orientierung" cell of indicator j on the page of area ai:
 * the official light where the project computed one for this level and
 * period (exactly the value of the <indicator>_light column), otherwise the
 * atlas's orientation (±1 sd around the city value), labelled as such.
 * Withheld values (flag 2) get neither.
 */
static void put_light(FILE *f, const atlas *at, size_t ai, size_t j)
{
    const area *a = &at->areas.a[ai];
    const unsigned char *wh = at->withheld + ai * at->n_ind;
    double x = a->values[j], c = at->ref[j], sd = at->sd[j], d;
    char dtext[64], rule[1024];
    const char *pol = at->cat[j].polarity;
    int sign = pol && strcmp(pol, "positive") == 0   ? 1
               : pol && strcmp(pol, "negative") == 0 ? -1
                                                     : 0;
    const char *colour, *symbol, *words, *judgement = "";

    if (official_light(at, j)) {
        const light_rule *r = &at->rules[j];
        double L = a->values[r->col];
        light_rule_text(rule, sizeof(rule), at, j);
        if (wh[j] || wh[r->col]) {
            put_cell_open(f, "nolight", at, j);
            fputs(" data-withheld=\"1\" title=\"", f);
            esc(f, rule);
            fputs("\">\xe2\x80\x93 keine Ampel</span> <span class=\"small\">(Wert geheim "
                  "gehalten)</span>",
                  f);
        } else if (isfinite(L) && L >= 1 && L <= 3 && L == floor(L)) {
            int k = (int)L - 1;
            put_cell_open(f, "light official", at, j);
            fprintf(f, " data-light=\"%d\" title=\"", k + 1);
            esc(f, rule);
            fprintf(f, "\"><span class=\"amp\" style=\"background:%s\"></span>%s</span>",
                    light_rgb[k], light_word[k]);
            if (isfinite(x) && isfinite(r->city)) {
                const char *unit = at->cat[j].unit;
                fmt_value(dtext, sizeof(dtext), x - r->city, at->maps[j].decimals + 1,
                          unit && strcmp(unit, "%") == 0 ? "Pp." : unit);
                fputs(" <span class=\"small\">(Ampel, ", f);
                if (x - r->city > 0 && strspn(dtext, "0,") < strcspn(dtext, " "))
                    fputc('+', f);
                esc(f, dtext);
                fputs(")</span>", f);
            } else {
                fputs(" <span class=\"small\">(Ampel)</span>", f);
            }
        } else {
            put_cell_open(f, "nolight", at, j);
            fputs(" title=\"", f);
            esc(f, rule);
            fputs("\">\xe2\x80\x93 keine Ampel</span>", f);
        }
        return;
    }
    if (!has_orientation(at, j) || wh[j] || !isfinite(x) || !isfinite(c) || !(sd > 0)) {
        put_cell_open(f, "nolight", at, j);
        fputs(wh[j] ? " data-withheld=\"1\">\xe2\x80\x93</span>" : ">\xe2\x80\x93</span>", f);
        return;
    }
    d = (x - c) / sd;
    if (fabs(d) <= 1) {
        colour = "#616e7c";
        symbol = "\xe2\x89\x88"; /* ≈: no disc, which is the official light's */
        words = "im Rahmen";
    } else {
        int good = sign == 0 ? 0 : (d > 0) == (sign > 0) ? 1 : -1;
        symbol = d > 0 ? "\xe2\x96\xb2" : "\xe2\x96\xbc"; /* ▲ ▼ */
        words = d > 0 ? "deutlich h\xc3\xb6her" : "deutlich niedriger";
        colour = good > 0 ? "#0571b0" : good < 0 ? "#b2182b" : "#5e3c99";
        judgement = good > 0 ? " (g\xc3\xbcnstig)" : good < 0 ? " (ung\xc3\xbcnstig)" : "";
    }
    put_cell_open(f, "orient", at, j);
    fputs(" title=\"", f);
    esc(f, at->cat[j].denominator == NULL && kz_style_scheme_of(&at->sind[j]) == KZ_STYLE_SEQUENTIAL
               ? "Orientierung, keine Ampel: \xc2\xb1"
                 "1 Standardabweichung um das Mittel der "
                 "Gebiete dieser Ebene"
               : "Orientierung, keine Ampel: \xc2\xb1"
                 "1 Standardabweichung um den Wert der "
                 "Stadt");
    fprintf(f, "\" style=\"color:%s\">%s %s%s</span>", colour, symbol, words, judgement);
    kz_style_format_number(dtext, sizeof(dtext), d, 1);
    fprintf(f, " <span class=\"small\">(%s%s sd, Orientierung)</span>", d >= 0.05 ? "+" : "",
            dtext);
}

/* Under the indicator table: which rule made which light. */
static void put_light_legend(FILE *f, const atlas *at)
{
    char rule[1024];
    size_t j, n = 0;
    for (j = 0; j < at->n_ind; j++)
        n += official_light(at, j) != 0;
    fputs("<div class=\"small\" id=\"ampel\">", f);
    if (n > 0) {
        fputs("<p>Ampel: die Ampel der Handlungsbedarfe, wie das Projekt sie berechnet "
              "(Abschnitt <code>action</code>; im GeoPackage die Spalte "
              "<code>&lt;Indikator&gt;_light</code>, 1 gr\xc3\xbcn, 2 gelb, 3 rot). Regeln auf "
              "dieser Ebene:</p>\n<ul class=\"rules\">",
              f);
        for (j = 0; j < at->n_ind; j++) {
            if (!official_light(at, j))
                continue;
            light_rule_text(rule, sizeof(rule), at, j);
            fputs("<li data-indicator=\"", f);
            esc(f, at->cat[j].name);
            fputs("\"><strong>", f);
            esc(f, ind_label(&at->cat[j]));
            fputs(":</strong> ", f);
            esc(f, rule);
            fputs("</li>", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("<p>Orientierung (nur bei Indikatoren ohne Ampel; keine Bewertung): Differenz zum "
          "Stadtwert (bei Anzahlen: zum Mittel der Gebiete) in Standardabweichungen (sd) der "
          "Gebiete dieser Ebene. Mehr als 1 sd gilt als deutlich (\xe2\x96\xb2 h\xc3\xb6her, "
          "\xe2\x96\xbc niedriger, \xe2\x89\x88 im Rahmen); rot = ung\xc3\xbcnstig, blau = "
          "g\xc3\xbcnstig nach der Wertung des Indikators, violett = Indikator ohne Wertung. "
          "Geheim gehaltene Werte (Statistikgeheimnis) haben weder Ampel noch Orientierung. "
          "Entwicklung: Werte aller Zeitpunkte des Gebiets (durchgezogen) und, bei Anteilen, "
          "der Stadt (gestrichelt).</p></div>\n",
          f);
}

/* ---- measures: before and after against a comparison group ---- */

/* German wording of enum kz_effect_status (effect.h). */
static const char *effect_reason(double status)
{
    switch ((int)status) {
    case KZ_EFFECT_FEW_TREATED:
        return "weniger als 2 Ma\xc3\x9fnahmengebiete mit Werten vor und ab dem Beginn";
    case KZ_EFFECT_FEW_COMPARISON:
        return "weniger als 2 Vergleichsgebiete mit Werten vor und ab dem Beginn";
    case KZ_EFFECT_NO_PRE:
        return "kein Zeitpunkt mit Werten vor dem Beginn";
    case KZ_EFFECT_NO_POST:
        return "kein Zeitpunkt mit Werten ab dem Beginn";
    case KZ_EFFECT_FEW_PRE:
        return "weniger als 2 Zeitpunkte mit Werten vor dem Beginn";
    case KZ_EFFECT_SINGULAR:
        return "die Regression hat keine eindeutige L\xc3\xb6sung (zu wenig Variation)";
    default:
        return "kein Ergebnis gespeichert";
    }
}

static int covers(const kz_store_effect *e, const char *key)
{
    size_t i;
    for (i = 0; i < e->m.n_keys; i++)
        if (strcmp(e->m.keys[i], key) == 0)
            return 1;
    return 0;
}

/* "p = 0,46" or "p < 0,001". */
static void fmt_p(char *out, size_t size, double p)
{
    int n;
    if (isfinite(p) && p < 0.001) {
        snprintf(out, size, "p < 0,001");
        return;
    }
    n = snprintf(out, size, "p = ");
    kz_style_format_number(out + n, size - (size_t)n, p, p < 0.01 ? 3 : 2);
}

/* The labels of a comma-separated list of indicators, joined with "und". */
static void indicator_labels(char *out, size_t size, const atlas *at, const char *list)
{
    size_t o = 0, n = 0, count = 1;
    const char *p;
    out[0] = '\0';
    for (p = list; p && *p; p++)
        count += *p == ',';
    for (p = list; p && *p && o < size;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p), j;
        char name[128];
        const char *label = name;
        snprintf(name, sizeof(name), "%.*s", (int)len, p);
        for (j = 0; j < at->n_ind; j++)
            if (strcmp(at->cat[j].name, name) == 0)
                label = ind_label(&at->cat[j]);
        n++;
        o += (size_t)snprintf(out + o, size - o, "%s%s",
                              n == 1       ? ""
                              : n == count ? " und "
                                           : ", ",
                              label);
        p = c ? c + 1 : p + len;
    }
}

/* The sentences under the charts: estimate, sizes, comparison group, trends check. */
static void put_effect_text(FILE *f, const atlas *at, const kz_store_effect *e, int dec,
                            const char *dunit, const char *baseline)
{
    char did[64], se[64], lo[64], hi[64], p[32], labels[512], base[16];
    int ok = e->status == KZ_EFFECT_OK;
    fmt_value(did, sizeof(did), e->did, dec, dunit);
    kz_style_format_number(se, sizeof(se), e->se, dec);
    kz_style_format_number(lo, sizeof(lo), e->ci_low, dec);
    kz_style_format_number(hi, sizeof(hi), e->ci_high, dec);
    fmt_p(p, sizeof(p), e->p);
    fputs("<p class=\"estimate\">", f);
    if (ok) {
        fputs("<strong>", f);
        escf(f, "Gesch\xc3\xa4tzte Wirkung: %s", did);
        fputs("</strong> ", f);
        escf(f,
             "(Differenz-von-Differenzen mit Gebiets- und Zeitpunkteffekten; Standardfehler %s, "
             "robust f\xc3\xbcr wiederholte Werte desselben Gebiets; 95-%%-Konfidenzintervall %s "
             "bis %s; %s). ",
             se, lo, hi, p);
        esc(f, e->ci_low <= 0 && e->ci_high >= 0
                   ? "Das Intervall schlie\xc3\x9ft 0 ein: kein belastbarer Hinweis auf eine "
                     "Wirkung. "
                   : "Das Intervall schlie\xc3\x9ft 0 aus. ");
    }
    escf(f,
         "Gebiete mit Werten vor und ab dem Beginn: %.0f Ma\xc3\x9fnahmengebiet%s, %.0f "
         "Vergleichsgebiet%s; Zeitpunkte: %.0f vor, %.0f ab dem Beginn.",
         e->n_treated, e->n_treated == 1 ? "" : "e", e->n_comparison,
         e->n_comparison == 1 ? "" : "e", e->n_pre, e->n_post);
    fputs("</p>\n<p>", f);
    if (e->m.comparison && strcmp(e->m.comparison, "nearest") == 0) {
        indicator_labels(labels, sizeof(labels), at, e->m.match_on);
        fmt_date(base, sizeof(base), baseline ? baseline : "");
        escf(f,
             "Vergleichsgruppe: die %d Gebiete ohne Ma\xc3\x9fnahme, die den "
             "Ma\xc3\x9fnahmengebieten %s%s nach %s am \xc3\xa4hnlichsten waren (n\xc3\xa4"
             "chste Nachbarn in z-Werten). ",
             e->m.k, baseline ? "am " : "vor dem Beginn", baseline ? base : "", labels);
    } else {
        fputs("Vergleichsgruppe: alle Gebiete der Ebene ohne Ma\xc3\x9fnahme. ", f);
    }
    fmt_value(did, sizeof(did), e->pretrend_diff, dec, dunit);
    kz_style_format_number(se, sizeof(se), e->pretrend_se, dec);
    fmt_p(p, sizeof(p), e->pretrend_p);
    if (e->pretrend_status == KZ_EFFECT_OK && isfinite(e->pretrend_violated))
        escf(f,
             "Pr\xc3\xbc"
             "fung paralleler Trends vor dem Beginn: %s (Unterschied der Trends %s pro Jahr, "
             "Standardfehler %s, %s)%s",
             e->pretrend_violated > 0 ? "die Trends unterschieden sich schon vorher deutlich"
                                      : "kein deutlicher Unterschied",
             did, se, p,
             e->pretrend_violated > 0 ? "; die Sch\xc3\xa4tzung ist mit Vorsicht zu lesen." : ".");
    else
        escf(f,
             "Pr\xc3\xbc"
             "fung paralleler Trends vor dem Beginn nicht m\xc3\xb6glich: %s.",
             effect_reason(e->pretrend_status));
    fputs("</p>\n", f);
}

static void put_number_cell(FILE *f, double v, int decimals)
{
    char buf[64];
    kz_style_format_number(buf, sizeof(buf), v, decimals);
    fputs("<td class=\"n\">", f);
    esc(f, buf);
    fputs("</td>", f);
}

/* The values of both charts as a table (their text alternative). */
static void put_effect_table(FILE *f, const kz_store_effect *e, int dec, int ok)
{
    char d[16];
    size_t j;
    fputs("<details><summary>Werte der Diagramme als Tabelle</summary>\n<div class=\"wide\">"
          "<table class=\"effect-values\">\n<thead><tr><th scope=\"col\">Zeitpunkt</th>"
          "<th scope=\"col\" class=\"n\">Mittel Ma\xc3\x9fnahmengebiete</th>"
          "<th scope=\"col\" class=\"n\">Mittel Vergleichsgebiete</th>",
          f);
    if (ok)
        fputs("<th scope=\"col\" class=\"n\">relativ zum Beginn</th><th scope=\"col\" "
              "class=\"n\">Effekt</th><th scope=\"col\" class=\"n\">Standardfehler</th>",
              f);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (j = 0; j < e->n_periods; j++) {
        fmt_date(d, sizeof(d), e->periods[j]);
        fputs("<tr><th scope=\"row\">", f);
        esc(f, d);
        fputs("</th>", f);
        put_number_cell(f, e->mean_treated[j], dec);
        put_number_cell(f, e->mean_comparison[j], dec);
        if (ok) {
            if (e->event_k[j] != LONG_MIN) /* U+2212 minus, as in the numbers */
                fprintf(f, "<td class=\"n\">%s%ld</td>",
                        e->event_k[j] < 0   ? "\xe2\x88\x92"
                        : e->event_k[j] > 0 ? "+"
                                            : "",
                        labs(e->event_k[j]));
            else
                fputs("<td class=\"n\">\xe2\x80\x93</td>", f);
            put_number_cell(f, e->event[j], dec);
            put_number_cell(f, e->event_se[j], dec);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div></details>\n", f);
}

/* One measure and target indicator: the group means over time, the event
 * study (or why there is no estimate), the sentences and the table. */
static int put_measure(FILE *f, atlas *at, const kz_store_effect *e, size_t n)
{
    long j = indicator_index(at, e->indicator);
    const kz_store_indicator *c = j >= 0 ? &at->cat[j] : NULL;
    const char *label = c ? ind_label(c) : e->indicator, *unit = c ? c->unit : NULL;
    /* A difference of percentages is in percentage points. */
    const char *dunit = unit && strcmp(unit, "%") == 0 ? "Prozentpunkte" : unit;
    const char *baseline = NULL;
    int dec = (j >= 0 ? at->maps[j].decimals : 1) + 1, ok = e->status == KZ_EFFECT_OK, rc;
    char id[32], start[16], axis[300], title[700], desc[700], mark[64], cap[600];
    double *err = NULL;
    size_t k;
    kz_chart_series means[2] = {
        {"treated", "Ma\xc3\x9fnahmengebiete (Mittel)", "#1f4e79", e->mean_treated, NULL, 0, 0, 0},
        {"comparison", "Vergleichsgebiete (Mittel)", "#d55e00", e->mean_comparison, NULL, 1, 0, 1},
    };
    kz_chart_series event = {
        "event", "Effekt (\xc2\xb1 1,96 Standardfehler)", "#1f4e79", e->event, NULL, 0, 1, 0};
    kz_chart ch;

    for (k = 0; k < e->n_periods; k++)
        if (e->event_k[k] == -1)
            baseline = e->periods[k];
    fmt_date(start, sizeof(start), e->m.start);
    snprintf(axis, sizeof(axis), "%s%s%s%s", label, unit && unit[0] ? " (" : "",
             unit && unit[0] ? unit : "", unit && unit[0] ? ")" : "");
    snprintf(mark, sizeof(mark), "Beginn %s", start);
    fprintf(f, "<section class=\"measure\" id=\"massnahme-%zu\" data-measure=\"", n);
    esc(f, e->m.id);
    fputs("\" data-indicator=\"", f);
    esc(f, e->indicator);
    fputs("\">\n<h2>Ma\xc3\x9fnahme: ", f);
    esc(f, e->m.name);
    fputs("</h2>\n", f);
    if (e->m.illustrative)
        fputs("<p class=\"illus\"><strong>Illustrativ:</strong> ein Beispielregister, keine "
              "reale Ma\xc3\x9fnahme. Die Zahlen zeigen nur, wie kiez eine Ma\xc3\x9fnahme "
              "auswertet.</p>\n",
              f);
    fputs("<p class=\"small\">", f);
    if (e->m.kind)
        escf(f, "Art: %s \xc2\xb7 ", e->m.kind);
    escf(f, "Beginn %s", start);
    if (e->m.end) {
        fmt_date(cap, sizeof(cap), e->m.end);
        escf(f, " \xc2\xb7 Ende %s", cap);
    }
    if (isfinite(e->m.budget)) {
        fmt_value(cap, sizeof(cap), e->m.budget, 0, "\xe2\x82\xac");
        escf(f, " \xc2\xb7 Budget %s", cap);
    }
    if (e->m.n_keys == 1)
        escf(f, " \xc2\xb7 nur dieses Gebiet im Register \xc2\xb7 Zielindikator: %s", axis);
    else
        escf(f,
             " \xc2\xb7 %zu Gebiete im Register, dieses eingeschlossen \xc2\xb7 Zielindikator: %s",
             e->m.n_keys, axis);
    fputs("</p>\n<div class=\"charts\">\n<figure>\n<h3>Verlauf: Ma\xc3\x9fnahmengebiete und "
          "Vergleichsgruppe</h3>\n",
          f);
    memset(&ch, 0, sizeof(ch));
    snprintf(id, sizeof(id), "m%zu-mean", n);
    snprintf(title, sizeof(title),
             "Diagramm: Mittelwert %s je Zeitpunkt, Ma\xc3\x9fnahmengebiete (n = %.0f) und "
             "Vergleichsgebiete (n = %.0f), Beginn der Ma\xc3\x9fnahme %s",
             axis, e->n_treated, e->n_comparison, start);
    snprintf(desc, sizeof(desc),
             "Durchgezogene Linie mit Kreisen: Ma\xc3\x9fnahmengebiete; gestrichelte Linie mit "
             "Quadraten: Vergleichsgebiete; senkrechte Linie: Beginn. Die Werte stehen in der "
             "Tabelle unter den Diagrammen.");
    ch.id = id;
    ch.title = title;
    ch.desc = desc;
    ch.y_label = axis;
    ch.unit = unit;
    ch.decimals = dec;
    ch.periods = (const char(*)[11])e->periods;
    ch.n_periods = e->n_periods;
    ch.series = means;
    ch.n_series = 2;
    ch.mark = e->m.start;
    ch.mark_label = mark;
    ch.width = 640;
    ch.height = 320;
    if ((rc = kz_chart__svg(f, at->ctx, &ch)) != KZ_OK)
        return rc;
    fputs("<figcaption class=\"small\">Mittel der Gebietswerte je Zeitpunkt.</figcaption>\n"
          "</figure>\n",
          f);
    if (ok) {
        if ((err = malloc((e->n_periods + 1) * sizeof(double))) == NULL)
            return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
        for (k = 0; k < e->n_periods; k++)
            err[k] = 1.96 * e->event_se[k]; /* normal 97.5 % quantile: a ±1.96·SE band */
        event.err = err;
        snprintf(id, sizeof(id), "m%zu-event", n);
        snprintf(title, sizeof(title),
                 "Diagramm: gesch\xc3\xa4tzter Effekt der Ma\xc3\x9fnahme auf %s je Zeitpunkt "
                 "(Ereignisstudie) mit \xc2\xb1 1,96 Standardfehlern, Beginn %s",
                 label, start);
        snprintf(desc, sizeof(desc),
                 "Unterschied zwischen Ma\xc3\x9fnahmen- und Vergleichsgebieten je Zeitpunkt, "
                 "gemessen am letzten Zeitpunkt vor dem Beginn (dort 0). Punkte vor dem Beginn "
                 "nahe 0 sprechen f\xc3\xbcr parallele Trends.");
        snprintf(axis, sizeof(axis), "Effekt%s%s%s", dunit && dunit[0] ? " (" : "",
                 dunit && dunit[0] ? dunit : "", dunit && dunit[0] ? ")" : "");
        ch.id = id;
        ch.y_label = axis;
        ch.unit = dunit;
        ch.series = &event;
        ch.n_series = 1;
        ch.zero = 1;
        ch.height = 320;
        fputs("<figure>\n<h3>Effekt je Zeitpunkt (Ereignisstudie)</h3>\n", f);
        rc = kz_chart__svg(f, at->ctx, &ch);
        free(err);
        if (rc != KZ_OK)
            return rc;
        fmt_date(cap, sizeof(cap), baseline ? baseline : "");
        fputs("<figcaption class=\"small\">", f);
        escf(f,
             "Punkte: Unterschied zur Vergleichsgruppe, gemessen am %s%s (= 0); Balken: "
             "\xc2\xb1 1,96 Standardfehler (etwa 95 %%).",
             baseline ? "" : "letzten Zeitpunkt vor dem Beginn", baseline ? cap : "");
        fputs("</figcaption>\n</figure>\n", f);
    } else {
        fputs("<p class=\"refused\"><strong>Keine Sch\xc3\xa4tzung der Wirkung.</strong> ", f);
        escf(f, "Grund: %s. Ein Effekt wird deshalb nicht angegeben.", effect_reason(e->status));
        fputs("</p>\n", f);
    }
    fputs("</div>\n", f);
    put_effect_text(f, at, e, dec, dunit, baseline);
    put_effect_table(f, e, dec, ok);
    fputs("</section>\n", f);
    return KZ_OK;
}

/* A section per measure and target indicator covering the area. */
static int put_measures(FILE *f, atlas *at, const area *a)
{
    size_t i;
    int rc = KZ_OK;
    for (i = 0; i < at->n_effects && rc == KZ_OK; i++)
        if (covers(&at->effects[i], a->key))
            rc = put_measure(f, at, &at->effects[i], i);
    return rc;
}

static void put_facility_lists(FILE *f, const atlas *at, const area *a)
{
    size_t l, i;
    char cap[64];
    fputs("<section>\n<h2>Einrichtungen im Gebiet</h2>\n", f);
    if (at->n_layers == 0) {
        fputs("<p class=\"small\">Keine Einrichtungsdaten im Projekt.</p>\n</section>\n", f);
        return;
    }
    for (l = 0; l < at->n_layers; l++) {
        size_t shown = 0, total = 0;
        int any_cat = 0, any_cap = 0;
        for (i = a->fac_start; i < a->fac_start + a->fac_len; i++)
            if (at->facs[i].layer == l) {
                total++;
                any_cat |= at->facs[i].category != NULL;
                any_cap |= isfinite(at->facs[i].capacity);
            }
        fputs("<h3>", f);
        escf(f, "%s (%zu)", at->layer_titles[l] ? at->layer_titles[l] : at->layers[l], total);
        fputs("</h3>\n", f);
        if (total == 0) {
            fputs("<p class=\"small\">Keine im Gebiet.</p>\n", f);
            continue;
        }
        fputs("<table><thead><tr><th scope=\"col\">Name</th>", f);
        if (any_cat)
            fputs("<th scope=\"col\">Art</th>", f);
        if (any_cap)
            fputs("<th scope=\"col\" class=\"n\">Pl\xc3\xa4tze</th>", f);
        fputs("</tr></thead><tbody>\n", f);
        for (i = a->fac_start; i < a->fac_start + a->fac_len && shown < MAX_LISTED; i++) {
            const facility *fc = &at->facs[i];
            if (fc->layer != l)
                continue;
            shown++;
            fputs("<tr><td>", f);
            esc(f, fc->name);
            fputs("</td>", f);
            if (any_cat) {
                fputs("<td>", f);
                esc(f, fc->category ? fc->category : "");
                fputs("</td>", f);
            }
            if (any_cap) {
                kz_style_format_number(cap, sizeof(cap), fc->capacity, 0);
                fputs("<td class=\"n\">", f);
                esc(f, cap);
                fputs("</td>", f);
            }
            fputs("</tr>\n", f);
        }
        fputs("</tbody></table>\n", f);
        if (total > shown)
            fprintf(f, "<p class=\"small\">und %zu weitere.</p>\n", total - shown);
    }
    fputs("</section>\n", f);
}

static int write_area_page(atlas *at, size_t ai)
{
    const area *a = &at->areas.a[ai];
    const area *parent = NULL;
    char name[PATH_LEN], tmp[PATH_LEN], title[512], date[16], val[64];
    size_t j;
    int rc;
    FILE *f;

    if (a->parent_key != NULL && at->parents.idx != NULL) {
        long p = kz_strmap__get(at->parents.idx, a->parent_key);
        if (p >= 0)
            parent = &at->parents.a[p];
    }
    page_name(name, sizeof(name), a->key);
    fmt_date(date, sizeof(date), at->period);
    snprintf(title, sizeof(title), "%s \xe2\x80\x93 Monitoring-Atlas %s", a->name, at->city_name);
    if ((f = open_tmp(at, tmp, sizeof(tmp), name)) == NULL)
        return at->ctx->errcode ? at->ctx->errcode : KZ_E_IO;
    put_head(f, title);
    fputs("<header>\n<p><a href=\"index.html\">Monitoring-Atlas ", f);
    esc(f, at->city_name);
    fputs("</a> \xe2\x80\xba ", f);
    esc(f, level_title(at->lv));
    fputs("</p>\n<h1>", f);
    esc(f, a->name);
    fputs("</h1>\n<p>", f);
    escf(f, "Schl\xc3\xbcssel %s", a->key);
    if (parent != NULL && at->parent_lv != NULL)
        escf(f, " \xc2\xb7 %s: %s", level_title(at->parent_lv), parent->name);
    escf(f, " \xc2\xb7 Stand %s", date);
    for (j = 0; j < at->n_effects; j++)
        if (covers(&at->effects[j], a->key)) {
            fprintf(f, " \xc2\xb7 <a href=\"#massnahme-%zu\">Ma\xc3\x9fnahme: ", j);
            esc(f, at->effects[j].m.name);
            fputs("</a>", f);
        }
    fputs("</p>\n</header>\n<main>\n<div class=\"cols\">\n", f);
    put_locator(f, at, a);
    put_detail(f, at, ai);
    fputs("</div>\n<section>\n<h2>Indikatoren</h2>\n<div class=\"wide\"><table>\n"
          "<thead><tr><th scope=\"col\">Indikator</th><th scope=\"col\" class=\"n\">",
          f);
    esc(f, a->name);
    fputs("</th>", f);
    if (at->parent_lv != NULL) {
        fputs("<th scope=\"col\" class=\"n\">", f);
        esc(f, parent ? parent->name : level_title(at->parent_lv));
        fputs("</th>", f);
    }
    fputs("<th scope=\"col\" class=\"n\">", f);
    esc(f, at->city_name);
    fputs("</th><th scope=\"col\">Ampel / Orientierung</th>"
          "<th scope=\"col\">Entwicklung</th></tr></thead>\n<tbody>\n",
          f);
    for (j = 0; j < at->n_ind; j++) {
        const kz_store_indicator *c = &at->cat[j];
        int dec = at->maps[j].decimals;
        if (at->is_light[j]) /* shown as the light of its indicator */
            continue;
        fputs("<tr><th scope=\"row\">", f);
        esc(f, ind_label(c));
        if (c->unit != NULL && c->unit[0] != '\0') {
            fputs(" <span class=\"small\">(", f);
            esc(f, c->unit);
            fputs(")</span>", f);
        }
        fputs("</th><td class=\"n\">", f);
        fmt_value(val, sizeof(val), a->values[j], dec, NULL);
        esc(f, val);
        fputs("</td>", f);
        if (at->parent_lv != NULL) {
            fmt_value(val, sizeof(val), parent ? parent->values[j] : NAN, dec, NULL);
            fputs("<td class=\"n\">", f);
            esc(f, val);
            fputs("</td>", f);
        }
        fmt_value(val, sizeof(val), at->city ? at->city[j] : NAN, dec, NULL);
        fputs("<td class=\"n\">", f);
        esc(f, val);
        fputs("</td><td class=\"nw\">", f);
        put_light(f, at, ai, j);
        fputs("</td><td>", f);
        put_sparkline(f, at, ai, j);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n", f);
    put_light_legend(f, at);
    fputs("</section>\n", f);
    if ((rc = put_measures(f, at, a)) != KZ_OK) {
        fclose(f);
        unlink(tmp);
        return rc;
    }
    put_facility_lists(f, at, a);
    fputs("</main>\n", f);
    put_footer(f, at);
    return close_tmp(at, f, tmp, name);
}

/* ---- driver ---- */

static const kz_store_level *find_level(const atlas *at, const char *name)
{
    size_t i;
    for (i = 0; name != NULL && i < at->n_levels; i++)
        if (strcmp(at->levels[i].name, name) == 0)
            return &at->levels[i];
    return NULL;
}

/* Map extents, the lon/lat aspect factor, classes and sd per indicator. */
static int prepare(atlas *at)
{
    size_t i, j, got = 0;
    double *vals;
    int rc = KZ_OK;
    for (i = 0; i < at->areas.n; i++) {
        const geom *g = &at->areas.a[i].g;
        if (g->n_pts == 0)
            continue;
        if (got++ == 0) {
            at->minx = g->minx;
            at->miny = g->miny;
            at->maxx = g->maxx;
            at->maxy = g->maxy;
        } else {
            at->minx = fmin(at->minx, g->minx);
            at->miny = fmin(at->miny, g->miny);
            at->maxx = fmax(at->maxx, g->maxx);
            at->maxy = fmax(at->maxy, g->maxy);
        }
    }
    at->kx = 1;
    /* A lon/lat CRS: shorten x by cos(latitude) so the map is not stretched. */
    if (got > 0 && at->minx >= -180 && at->maxx <= 180 && at->miny >= -90 && at->maxy <= 90 &&
        at->maxx - at->minx < 30)
        at->kx = cos((at->miny + at->maxy) / 2 * 3.14159265358979323846 / 180);
    view_fit(&at->map_view, at->minx, at->miny, at->maxx, at->maxy, 1000, at->kx, 1);
    {
        double minx = at->minx, miny = at->miny, maxx = at->maxx, maxy = at->maxy;
        for (i = 0; i < at->bg.n; i++) {
            const geom *g = &at->bg.a[i].g;
            if (g->n_pts == 0)
                continue;
            minx = fmin(minx, g->minx);
            miny = fmin(miny, g->miny);
            maxx = fmax(maxx, g->maxx);
            maxy = fmax(maxy, g->maxy);
        }
        view_fit(&at->loc_view, minx, miny, maxx, maxy, 1000, at->kx, 3);
    }
    at->maps = calloc(at->n_ind ? at->n_ind : 1, sizeof(kz_style_map));
    at->sd = calloc(at->n_ind ? at->n_ind : 1, sizeof(double));
    at->ref = calloc(at->n_ind ? at->n_ind : 1, sizeof(double));
    at->sind = calloc(at->n_ind ? at->n_ind : 1, sizeof(kz_style_indicator));
    vals = malloc((at->areas.n ? at->areas.n : 1) * sizeof(double));
    if (at->maps == NULL || at->sd == NULL || at->ref == NULL || at->sind == NULL || vals == NULL) {
        free(vals);
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    }
    for (j = 0; j < at->n_ind && rc == KZ_OK; j++) {
        double sum = 0, ss = 0;
        size_t n = 0;
        at->sind[j].name = at->cat[j].name;
        at->sind[j].label = at->cat[j].label;
        at->sind[j].unit = at->cat[j].unit;
        at->sind[j].polarity = at->cat[j].polarity;
        for (i = 0; i < at->areas.n; i++) {
            vals[i] = at->areas.a[i].values[j];
            if (isfinite(vals[i])) {
                sum += vals[i];
                n++;
            }
        }
        for (i = 0; i < at->areas.n; i++)
            if (isfinite(vals[i]))
                ss += (vals[i] - sum / (double)n) * (vals[i] - sum / (double)n);
        at->sd[j] = n > 1 ? sqrt(ss / (double)n) : NAN; /* population sd */
        /* Counts (no denominator, not centred on zero) compare with the mean
         * area of the level; rates, indices and changes with the city. */
        if (at->cat[j].denominator == NULL &&
            kz_style_scheme_of(&at->sind[j]) == KZ_STYLE_SEQUENTIAL)
            at->ref[j] = n > 0 ? sum / (double)n : NAN;
        else
            at->ref[j] = at->city ? at->city[j] : NAN;
        rc = kz_style_classify(&at->maps[j], at->ctx, &at->sind[j], vals, at->areas.n);
    }
    free(vals);
    return rc;
}

static int load(atlas *at, const char *level)
{
    const kz_store_level *bg_lv = NULL;
    size_t i;
    int rc;
    if ((rc = kz_store__levels(at->db, at->ctx, &at->levels, &at->n_levels)) != KZ_OK)
        return rc;
    if (at->n_levels == 0)
        return kz_ctx__error(at->ctx, KZ_E_USAGE, "%s: no levels; import a project first",
                             kz_db_path(at->db));
    if (level != NULL) {
        if ((at->lv = find_level(at, level)) == NULL)
            return kz_ctx__error(at->ctx, KZ_E_USAGE, "%s: no level \"%s\" (the finest is \"%s\")",
                                 kz_db_path(at->db), level, at->levels[at->n_levels - 1].name);
    } else {
        at->lv = &at->levels[0];
        for (i = 1; i < at->n_levels; i++)
            if (at->levels[i].rank > at->lv->rank)
                at->lv = &at->levels[i];
    }
    at->top_lv = &at->levels[0];
    at->parent_lv = find_level(at, at->lv->parent);
    /* Locator outlines: the level just below the top, if the chosen one is finer. */
    for (i = 0; i < at->n_levels && bg_lv == NULL; i++)
        if (at->levels[i].rank == 1 && at->lv->rank >= 1)
            bg_lv = &at->levels[i];
    if (bg_lv == NULL)
        bg_lv = at->lv;
    at->bg_title = level_title(bg_lv);

    if ((rc = kz_store__catalogue(at->db, at->ctx, &at->cat, &at->n_ind)) != KZ_OK ||
        (rc = kz_store__latest_period(at->db, at->ctx, at->lv->name, at->period)) != KZ_OK ||
        (rc = load_areas(at, &at->areas, at->lv->name, 1)) != KZ_OK ||
        (rc = load_areas(at, &at->tops, at->top_lv->name, 0)) != KZ_OK ||
        (rc = load_areas(at, &at->bg, bg_lv->name, 1)) != KZ_OK)
        return rc;
    if (at->parent_lv != NULL &&
        (rc = load_areas(at, &at->parents, at->parent_lv->name, 0)) != KZ_OK)
        return rc;
    at->city_name = at->tops.n > 0 ? at->tops.a[0].name : level_title(at->top_lv);
    at->city = at->tops.n > 0 ? at->tops.a[0].values : NULL;
    at->withheld = calloc((at->areas.n ? at->areas.n : 1) * (at->n_ind ? at->n_ind : 1), 1);
    if (at->withheld == NULL)
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = load_series(at, &at->ser, &at->areas, at->lv->name, at->withheld)) != KZ_OK ||
        (rc = load_series(at, &at->city_ser, &at->tops, at->top_lv->name, NULL)) != KZ_OK ||
        (rc = load_lights(at)) != KZ_OK)
        return rc;

    if ((rc = kz_store__object_layers(at->db, at->ctx, &at->layers, &at->layer_titles,
                                      &at->n_layers)) != KZ_OK ||
        (rc = kz_store__effects(at->db, at->ctx, at->lv->name, &at->effects, &at->n_effects)) !=
            KZ_OK)
        return rc;
    at->layer_count =
        calloc((at->n_layers ? at->n_layers : 1) * (at->areas.n ? at->areas.n : 1), sizeof(size_t));
    if (at->layer_count == NULL)
        return kz_ctx__error(at->ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_store__each_facility(at->db, at->ctx, at->lv->name, collect_facility, at)) !=
        KZ_OK)
        return rc;
    /* Group by area (the store orders by key, as the areas are; make sure). */
    if (at->n_facs > 1)
        qsort(at->facs, at->n_facs, sizeof(facility), cmp_facility);
    for (i = 0; i < at->areas.n; i++)
        at->areas.a[i].fac_len = 0;
    for (i = 0; i < at->n_facs; i++) {
        area *a = &at->areas.a[at->facs[i].area];
        if (a->fac_len++ == 0)
            a->fac_start = i;
    }
    return KZ_OK;
}

static void atlas_free(atlas *at)
{
    size_t i;
    area_set_free(&at->areas);
    area_set_free(&at->parents);
    area_set_free(&at->tops);
    area_set_free(&at->bg);
    series_free(&at->ser);
    series_free(&at->city_ser);
    for (i = 0; i < at->n_facs; i++) {
        free(at->facs[i].name);
        free(at->facs[i].category);
    }
    free(at->facs);
    kz_store__free_strings(at->layer_titles, at->n_layers);
    free(at->layer_count);
    kz_store__free_strings(at->layers, at->n_layers);
    kz_store__free_levels(at->levels, at->n_levels);
    kz_store__free_catalogue(at->cat, at->n_ind);
    free(at->maps);
    free(at->sd);
    free(at->ref);
    free(at->sind);
    kz_store__free_effects(at->effects, at->n_effects);
    free(at->rules);
    free(at->is_light);
    free(at->withheld);
}

int kz_report_write(kz_db *db, kz_ctx *ctx, const char *out_dir, const char *level)
{
    atlas at;
    size_t i;
    int rc;
    memset(&at, 0, sizeof(at));
    at.db = db;
    at.ctx = ctx;
    at.dir = out_dir;
    if ((rc = kz_dirs__make(ctx, out_dir, "atlas folder")) != KZ_OK ||
        (rc = load(&at, level)) != KZ_OK || (rc = prepare(&at)) != KZ_OK)
        goto done;
    kz_ctx__log(ctx, KZ_LOG_INFO, "atlas: %s, %zu areas, %zu indicators, %zu facilities, into %s",
                at.lv->name, at.areas.n, at.n_ind, at.n_facs, out_dir);
    if ((rc = write_outlines(&at)) != KZ_OK || (rc = write_index(&at)) != KZ_OK)
        goto done;
    for (i = 0; i < at.areas.n; i++) {
        if ((rc = write_area_page(&at, i)) != KZ_OK)
            goto done;
        kz_ctx__progress(ctx, "atlas", (long long)i + 1, (long long)at.areas.n);
    }
done:
    atlas_free(&at);
    return rc;
}
