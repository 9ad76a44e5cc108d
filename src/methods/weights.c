/*
 * Spatial weights (weights.h): contiguity from polygons with GEOS (STRtree
 * over envelopes expanded by the tolerance, prepared geometries), k nearest
 * neighbours and distance bands over points with a k-d tree, and the CSR
 * matrix all of them share.
 */
#include "kiez/weights.h"
#include "ctx_internal.h"
#include "geom.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kz_weights {
    size_t n;
    size_t *offsets; /* n + 1 */
    size_t *nbr;     /* offsets[n] neighbour indexes, ascending per row */
    double *raw;     /* raw weights */
    double *w;       /* weights in the current style */
    int style;
    double tol; /* contiguity tolerance used, 0 otherwise */
    size_t n_islands;
    size_t *islands;
};

void kz_weights_options_init(kz_weights_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->kind = KZ_WEIGHTS_QUEEN;
    opts->tol = 0.0;
    opts->k = 4;
    opts->distance = 0.0;
    opts->style = KZ_STYLE_W;
}

void kz_weights_free(kz_weights *w)
{
    if (w == NULL)
        return;
    free(w->offsets);
    free(w->nbr);
    free(w->raw);
    free(w->w);
    free(w->islands);
    free(w);
}

size_t kz_weights_n(const kz_weights *w)
{
    return w->n;
}

double kz_weights_tolerance(const kz_weights *w)
{
    return w->tol;
}

size_t kz_weights_links(const kz_weights *w)
{
    return w->offsets[w->n];
}

size_t kz_weights_neighbours(const kz_weights *w, size_t i, const size_t **ids,
                             const double **weights)
{
    size_t a = w->offsets[i];
    if (ids)
        *ids = w->nbr + a;
    if (weights)
        *weights = w->w + a;
    return w->offsets[i + 1] - a;
}

size_t kz_weights_islands(const kz_weights *w, const size_t **ids)
{
    if (ids)
        *ids = w->islands;
    return w->n_islands;
}

int kz_weights_style(const kz_weights *w)
{
    return w->style;
}

int kz_weights_set_style(kz_weights *w, kz_ctx *ctx, int style)
{
    size_t i, e;
    if (style != KZ_STYLE_B && style != KZ_STYLE_W)
        return kz_ctx__error(ctx, KZ_E_USAGE, "unknown weights style %d (B or W)", style);
    for (i = 0; i < w->n; i++) {
        double sum = 0.0;
        for (e = w->offsets[i]; e < w->offsets[i + 1]; e++)
            sum += w->raw[e];
        for (e = w->offsets[i]; e < w->offsets[i + 1]; e++)
            w->w[e] = (style == KZ_STYLE_W && sum != 0.0) ? w->raw[e] / sum : w->raw[e];
    }
    w->style = style;
    return KZ_OK;
}

/* Binary search for j in row i. */
static int has_link(const kz_weights *w, size_t i, size_t j)
{
    size_t lo = w->offsets[i], hi = w->offsets[i + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->nbr[mid] == j)
            return 1;
        if (w->nbr[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int kz_weights_is_symmetric(const kz_weights *w)
{
    size_t i, e;
    for (i = 0; i < w->n; i++)
        for (e = w->offsets[i]; e < w->offsets[i + 1]; e++)
            if (!has_link(w, w->nbr[e], i))
                return 0;
    return 1;
}

/* ---- building the CSR matrix from links ------------------------------ */

typedef struct link {
    size_t i, j;
    double raw;
} link;

typedef struct links {
    link *v;
    size_t n, cap;
} links;

static int links_add(links *l, size_t i, size_t j, double raw)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        link *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return KZ_E_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].i = i;
    l->v[l->n].j = j;
    l->v[l->n].raw = raw;
    l->n++;
    return KZ_OK;
}

static int cmp_link(const void *a, const void *b)
{
    const link *x = a, *y = b;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    return 0;
}

/* Warn once about islands, naming up to ten of them. */
static void warn_islands(kz_ctx *ctx, const kz_weights *w, const char *const *keys)
{
    char list[512];
    size_t i, used = 0;
    if (w->n_islands == 0)
        return;
    list[0] = '\0';
    for (i = 0; i < w->n_islands && i < 10; i++) {
        int k;
        if (keys && keys[w->islands[i]])
            k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
                         keys[w->islands[i]]);
        else
            k = snprintf(list + used, sizeof(list) - used, "%s#%zu", i ? ", " : "", w->islands[i]);
        if (k < 0 || (size_t)k >= sizeof(list) - used)
            break;
        used += (size_t)k;
    }
    kz_ctx__log(ctx, KZ_LOG_WARN,
                "%zu area%s without neighbours (islands; weights row of zeros): %s%s", w->n_islands,
                w->n_islands == 1 ? "" : "s", list, w->n_islands > 10 ? ", ..." : "");
}

/* Take the links (sorted, duplicates dropped) into a new weights object.
 * Frees nothing of `l`. */
static int build(kz_weights **out, kz_ctx *ctx, size_t n, links *l, int style,
                 const char *const *keys)
{
    kz_weights *w = NULL;
    size_t e, k = 0, i;
    int rc;

    *out = NULL;
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(link), cmp_link);
    w = calloc(1, sizeof(*w));
    if (w == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    w->n = n;
    w->offsets = calloc(n + 1, sizeof(size_t));
    w->nbr = malloc((l->n ? l->n : 1) * sizeof(size_t));
    w->raw = malloc((l->n ? l->n : 1) * sizeof(double));
    w->w = malloc((l->n ? l->n : 1) * sizeof(double));
    if (!w->offsets || !w->nbr || !w->raw || !w->w) {
        kz_weights_free(w);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    for (e = 0; e < l->n; e++) {
        if (k > 0 && l->v[e].i == l->v[e - 1].i && l->v[e].j == l->v[e - 1].j)
            continue;
        w->nbr[k] = l->v[e].j;
        w->raw[k] = l->v[e].raw;
        w->offsets[l->v[e].i + 1]++;
        k++;
    }
    for (i = 0; i < n; i++) {
        if (w->offsets[i + 1] == 0)
            w->n_islands++;
        w->offsets[i + 1] += w->offsets[i];
    }
    if (w->n_islands > 0) {
        w->islands = malloc(w->n_islands * sizeof(size_t));
        if (w->islands == NULL) {
            kz_weights_free(w);
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        }
        for (i = 0, k = 0; i < n; i++)
            if (w->offsets[i + 1] == w->offsets[i])
                w->islands[k++] = i;
    }
    if ((rc = kz_weights_set_style(w, ctx, style)) != KZ_OK) {
        kz_weights_free(w);
        return rc;
    }
    warn_islands(ctx, w, keys);
    *out = w;
    return KZ_OK;
}

int kz_weights_from_lists(kz_weights **out, kz_ctx *ctx, size_t n, const size_t *offsets,
                          const size_t *nbr, const double *raw, int style)
{
    links l = {NULL, 0, 0};
    size_t i, e;
    int rc = KZ_OK;

    *out = NULL;
    for (i = 0; i < n; i++) {
        for (e = offsets[i]; e < offsets[i + 1]; e++) {
            if (nbr[e] >= n || nbr[e] == i) {
                rc = kz_ctx__error(ctx, KZ_E_INPUT, "neighbour list of area %zu: index %zu is %s",
                                   i, nbr[e], nbr[e] == i ? "the area itself" : "out of range");
                goto done;
            }
            if (e > offsets[i] && nbr[e] <= nbr[e - 1]) {
                size_t f;
                for (f = offsets[i]; f < e; f++)
                    if (nbr[f] == nbr[e]) {
                        rc = kz_ctx__error(ctx, KZ_E_INPUT,
                                           "neighbour list of area %zu: %zu repeated", i, nbr[e]);
                        goto done;
                    }
            }
            if (links_add(&l, i, nbr[e], raw ? raw[e] : 1.0) != KZ_OK) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
        }
    }
    rc = build(out, ctx, n, &l, style, NULL);
done:
    free(l.v);
    return rc;
}

/* ---- contiguity (GEOS) ------------------------------------------------ */

typedef struct poly {
    GEOSGeometry *g;
    const GEOSPreparedGeometry *prep;
    double x0, y0, x1, y1; /* envelope */
    double *xy;            /* ring vertices without closing ones, x y pairs */
    size_t n_xy;
} poly;

typedef struct hits {
    size_t *v;
    size_t n, cap;
    int failed;
} hits;

static void collect(void *item, void *userdata)
{
    hits *h = userdata;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        size_t *v = realloc(h->v, cap * sizeof(*v));
        if (v == NULL) {
            h->failed = 1;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    h->v[h->n++] = *(const size_t *)item;
}

/* Append the vertices of a ring (without its closing vertex) to p->xy. */
static int add_ring(GEOSContextHandle_t h, poly *p, const GEOSGeometry *ring, size_t *cap)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int size = 0;
    if (cs == NULL || !GEOSCoordSeq_getSize_r(h, cs, &size))
        return KZ_E_INTERNAL;
    if (size == 0)
        return KZ_OK;
    if (p->n_xy + size > *cap) {
        size_t nc = (*cap ? *cap : 64);
        double *v;
        while (nc < p->n_xy + size)
            nc *= 2;
        v = realloc(p->xy, nc * 2 * sizeof(double));
        if (v == NULL)
            return KZ_E_NOMEM;
        p->xy = v;
        *cap = nc;
    }
    if (!GEOSCoordSeq_copyToBuffer_r(h, cs, p->xy + 2 * p->n_xy, 0, 0))
        return KZ_E_INTERNAL;
    p->n_xy += size - 1; /* drop the closing vertex */
    return KZ_OK;
}

static int extract_vertices(GEOSContextHandle_t h, poly *p)
{
    int i, r, n = GEOSGetNumGeometries_r(h, p->g), rc;
    size_t cap = 0;
    for (i = 0; i < n; i++) {
        const GEOSGeometry *part = GEOSGetGeometryN_r(h, p->g, i);
        int nr;
        if (GEOSGeomTypeId_r(h, part) != GEOS_POLYGON)
            continue;
        if ((rc = add_ring(h, p, GEOSGetExteriorRing_r(h, part), &cap)) != KZ_OK)
            return rc;
        nr = GEOSGetNumInteriorRings_r(h, part);
        for (r = 0; r < nr; r++)
            if ((rc = add_ring(h, p, GEOSGetInteriorRingN_r(h, part, r), &cap)) != KZ_OK)
                return rc;
    }
    return KZ_OK;
}

/* Is point (x, y) within tol of the prepared polygon? */
static int point_near(GEOSContextHandle_t h, const GEOSPreparedGeometry *prep, double x, double y,
                      double tol)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x, y);
    char r;
    if (pt == NULL)
        return -1;
    r = tol > 0 ? GEOSPreparedDistanceWithin_r(h, prep, pt, tol)
                : GEOSPreparedIntersects_r(h, prep, pt);
    GEOSGeom_destroy_r(h, pt);
    return r == 2 ? -1 : r;
}

/* Collect the vertices of `a` that lie within tol of `b`; return 1 as soon
 * as two of them (together with *have / *px, *py from earlier calls) are
 * more than tol apart, 0 otherwise, -1 on GEOS failure. */
static int shared_points(GEOSContextHandle_t h, const poly *a, const poly *b, double tol, int *have,
                         double *px, double *py)
{
    size_t v;
    double t2 = tol * tol;
    for (v = 0; v < a->n_xy; v++) {
        double x = a->xy[2 * v], y = a->xy[2 * v + 1];
        int r;
        if (x < b->x0 - tol || x > b->x1 + tol || y < b->y0 - tol || y > b->y1 + tol)
            continue;
        if (*have) {
            double dx = x - *px, dy = y - *py;
            if (dx * dx + dy * dy <= t2)
                continue; /* the same point as the first one */
        }
        r = point_near(h, b->prep, x, y, tol);
        if (r < 0)
            return -1;
        if (!r)
            continue;
        if (*have)
            return 1;
        *have = 1;
        *px = x;
        *py = y;
    }
    return 0;
}

static void free_polys(GEOSContextHandle_t h, poly *p, size_t n)
{
    size_t i;
    if (p == NULL)
        return;
    for (i = 0; i < n; i++) {
        if (p[i].prep)
            GEOSPreparedGeom_destroy_r(h, p[i].prep);
        if (p[i].g)
            GEOSGeom_destroy_r(h, p[i].g);
        free(p[i].xy);
    }
    free(p);
}

static const char *name_of(const char *const *keys, size_t i, char *buf, size_t size)
{
    if (keys && keys[i]) {
        snprintf(buf, size, "feature %zu (key %s)", i, keys[i]);
    } else
        snprintf(buf, size, "feature %zu", i);
    return buf;
}

static int contiguity(kz_weights **out, kz_ctx *ctx, const unsigned char *const *wkb,
                      const size_t *wkb_size, size_t n, const char *const *keys,
                      const kz_weights_options *opts)
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *reader = NULL;
    GEOSSTRtree *tree = NULL;
    poly *p = NULL;
    size_t *ids = NULL, i, c;
    hits cand = {NULL, 0, 0, 0};
    links l = {NULL, 0, 0};
    double tol = opts->tol;
    char what[300];
    int rc = KZ_OK;

    if (h == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot initialise GEOS");
    reader = GEOSWKBReader_create_r(h);
    tree = GEOSSTRtree_create_r(h, 10);
    p = calloc(n ? n : 1, sizeof(*p));
    ids = malloc((n ? n : 1) * sizeof(size_t));
    if (reader == NULL || tree == NULL || p == NULL || ids == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        int type;
        ids[i] = i;
        p[i].g = GEOSWKBReader_read_r(h, reader, wkb[i], wkb_size[i]);
        if (p[i].g == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: unreadable geometry: %s",
                               name_of(keys, i, what, sizeof(what)), ctx->geos_msg);
            goto done;
        }
        type = GEOSGeomTypeId_r(h, p[i].g);
        if ((type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) || GEOSisEmpty_r(h, p[i].g)) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: contiguity weights need a non-empty polygon",
                               name_of(keys, i, what, sizeof(what)));
            goto done;
        }
        if (!GEOSGeom_getExtent_r(h, p[i].g, &p[i].x0, &p[i].y0, &p[i].x1, &p[i].y1)) {
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS: %s", ctx->geos_msg);
            goto done;
        }
        p[i].prep = GEOSPrepare_r(h, p[i].g);
        if (p[i].prep == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS: %s", ctx->geos_msg);
            goto done;
        }
        if (opts->kind == KZ_WEIGHTS_ROOK && (rc = extract_vertices(h, &p[i])) != KZ_OK) {
            rc = kz_ctx__error(ctx, rc, "%s: cannot read the vertices",
                               name_of(keys, i, what, sizeof(what)));
            goto done;
        }
    }
    if (tol < 0) {
        /* KZ_WEIGHTS_TOL_AUTO: 1e-6 of the diagonal of the whole extent. */
        double x0 = HUGE_VAL, y0 = HUGE_VAL, x1 = -HUGE_VAL, y1 = -HUGE_VAL;
        for (i = 0; i < n; i++) {
            x0 = fmin(x0, p[i].x0);
            y0 = fmin(y0, p[i].y0);
            x1 = fmax(x1, p[i].x1);
            y1 = fmax(y1, p[i].y1);
        }
        tol = n ? 1e-6 * hypot(x1 - x0, y1 - y0) : 0.0;
    }
    for (i = 0; i < n; i++) {
        GEOSGeometry *env;
        /* The tree holds envelopes expanded by tol, so a query with an
         * unexpanded envelope finds every polygon within tol (up to the
         * corner regions, which the exact test below settles). */
        env = GEOSGeom_createRectangle_r(h, p[i].x0 - tol, p[i].y0 - tol, p[i].x1 + tol,
                                         p[i].y1 + tol);
        if (env == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS: %s", ctx->geos_msg);
            goto done;
        }
        GEOSSTRtree_insert_r(h, tree, env, &ids[i]);
        GEOSGeom_destroy_r(h, env);
    }

    for (i = 0; i < n; i++) {
        GEOSGeometry *env = GEOSGeom_createRectangle_r(h, p[i].x0, p[i].y0, p[i].x1, p[i].y1);
        if (env == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS: %s", ctx->geos_msg);
            goto done;
        }
        cand.n = 0;
        GEOSSTRtree_query_r(h, tree, env, collect, &cand);
        GEOSGeom_destroy_r(h, env);
        if (cand.failed) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (c = 0; c < cand.n; c++) {
            size_t j = cand.v[c];
            char near;
            if (j <= i)
                continue; /* each pair once */
            near = tol > 0 ? GEOSPreparedDistanceWithin_r(h, p[i].prep, p[j].g, tol)
                           : GEOSPreparedIntersects_r(h, p[i].prep, p[j].g);
            if (near == 2) {
                rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS on %s: %s",
                                   name_of(keys, i, what, sizeof(what)), ctx->geos_msg);
                goto done;
            }
            if (!near)
                continue;
            if (opts->kind == KZ_WEIGHTS_ROOK) {
                int have = 0, r;
                double px = 0, py = 0;
                r = shared_points(h, &p[i], &p[j], tol, &have, &px, &py);
                if (r == 0)
                    r = shared_points(h, &p[j], &p[i], tol, &have, &px, &py);
                if (r < 0) {
                    rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS on %s: %s",
                                       name_of(keys, i, what, sizeof(what)), ctx->geos_msg);
                    goto done;
                }
                if (r == 0)
                    continue;
            }
            if (links_add(&l, i, j, 1.0) != KZ_OK || links_add(&l, j, i, 1.0) != KZ_OK) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
        }
        if ((i + 1) % 1000 == 0 || i + 1 == n)
            kz_ctx__progress(ctx, "contiguity", (long long)(i + 1), (long long)n);
    }
    if ((rc = build(out, ctx, n, &l, opts->style, keys)) == KZ_OK)
        (*out)->tol = tol;
done:
    if (tree)
        GEOSSTRtree_destroy_r(h, tree);
    if (reader)
        GEOSWKBReader_destroy_r(h, reader);
    free_polys(h, p, n);
    free(ids);
    free(cand.v);
    free(l.v);
    return rc;
}

/* ---- points: a k-d tree ------------------------------------------------ */

/* An implicit k-d tree: the node over idx[lo, hi) splits at mid = (lo+hi)/2
 * on axis depth % 2; idx[mid] is the splitting point. */
typedef struct kdtree {
    const double *x, *y;
    size_t *idx;
    size_t n;
} kdtree;

#define KD_LEAF 8

static double coord(const kdtree *t, size_t i, int axis)
{
    return axis ? t->y[i] : t->x[i];
}

/* Quickselect: place the element of rank k (by axis, then index) at k. */
static void kd_select(kdtree *t, size_t lo, size_t hi, size_t k, int axis)
{
    while (hi - lo > 1) {
        size_t piv = t->idx[lo + (hi - lo - 1) / 2], i = lo, j = hi - 1, tmp;
        double pv = coord(t, piv, axis);
        /* Hoare partition with (value, index) order, so equal values split;
         * the pivot is never the last element, so the range shrinks. */
        for (;;) {
            while (coord(t, t->idx[i], axis) < pv ||
                   (coord(t, t->idx[i], axis) == pv && t->idx[i] < piv))
                i++;
            while (coord(t, t->idx[j], axis) > pv ||
                   (coord(t, t->idx[j], axis) == pv && t->idx[j] > piv))
                j--;
            if (i >= j)
                break;
            tmp = t->idx[i];
            t->idx[i] = t->idx[j];
            t->idx[j] = tmp;
            i++;
            j--;
        }
        if (k <= j)
            hi = j + 1;
        else
            lo = j + 1;
    }
}

static void kd_build(kdtree *t, size_t lo, size_t hi, int depth)
{
    size_t mid;
    if (hi - lo <= KD_LEAF)
        return;
    mid = lo + (hi - lo) / 2;
    kd_select(t, lo, hi, mid, depth & 1);
    kd_build(t, lo, mid, depth + 1);
    kd_build(t, mid + 1, hi, depth + 1);
}

/* A max-heap of the k best (distance², index) so far. */
typedef struct knn_heap {
    double *d;
    size_t *j;
    size_t n, k;
} knn_heap;

static int worse(double da, size_t ja, double db, size_t jb)
{
    return da > db || (da == db && ja > jb);
}

static void heap_offer(knn_heap *hp, double d, size_t j)
{
    size_t c, p;
    if (hp->n < hp->k) {
        c = hp->n++;
        while (c > 0) {
            p = (c - 1) / 2;
            if (!worse(d, j, hp->d[p], hp->j[p]))
                break;
            hp->d[c] = hp->d[p];
            hp->j[c] = hp->j[p];
            c = p;
        }
        hp->d[c] = d;
        hp->j[c] = j;
        return;
    }
    if (!worse(hp->d[0], hp->j[0], d, j))
        return;
    c = 0;
    for (;;) {
        size_t l = 2 * c + 1, r = l + 1, m = c;
        double md = d;
        size_t mj = j;
        if (l < hp->n && worse(hp->d[l], hp->j[l], md, mj)) {
            m = l;
            md = hp->d[l];
            mj = hp->j[l];
        }
        if (r < hp->n && worse(hp->d[r], hp->j[r], md, mj))
            m = r;
        if (m == c)
            break;
        hp->d[c] = hp->d[m];
        hp->j[c] = hp->j[m];
        c = m;
    }
    hp->d[c] = d;
    hp->j[c] = j;
}

static void kd_knn(const kdtree *t, size_t lo, size_t hi, int depth, size_t q, knn_heap *hp)
{
    size_t mid, s;
    double diff;
    if (hi - lo <= KD_LEAF) {
        for (s = lo; s < hi; s++) {
            size_t j = t->idx[s];
            double dx, dy;
            if (j == q)
                continue;
            dx = t->x[j] - t->x[q];
            dy = t->y[j] - t->y[q];
            heap_offer(hp, dx * dx + dy * dy, j);
        }
        return;
    }
    mid = lo + (hi - lo) / 2;
    s = t->idx[mid];
    if (s != q) {
        double dx = t->x[s] - t->x[q], dy = t->y[s] - t->y[q];
        heap_offer(hp, dx * dx + dy * dy, s);
    }
    diff = coord(t, q, depth & 1) - coord(t, s, depth & 1);
    if (diff < 0) {
        kd_knn(t, lo, mid, depth + 1, q, hp);
        if (hp->n < hp->k || diff * diff <= hp->d[0])
            kd_knn(t, mid + 1, hi, depth + 1, q, hp);
    } else {
        kd_knn(t, mid + 1, hi, depth + 1, q, hp);
        if (hp->n < hp->k || diff * diff <= hp->d[0])
            kd_knn(t, lo, mid, depth + 1, q, hp);
    }
}

static int kd_range(const kdtree *t, size_t lo, size_t hi, int depth, size_t q, double r2, double r,
                    links *l)
{
    size_t mid, s;
    double diff;
    if (hi - lo <= KD_LEAF) {
        for (s = lo; s < hi; s++) {
            size_t j = t->idx[s];
            double dx = t->x[j] - t->x[q], dy = t->y[j] - t->y[q];
            if (j != q && dx * dx + dy * dy <= r2 && links_add(l, q, j, 1.0) != KZ_OK)
                return KZ_E_NOMEM;
        }
        return KZ_OK;
    }
    mid = lo + (hi - lo) / 2;
    s = t->idx[mid];
    if (s != q) {
        double dx = t->x[s] - t->x[q], dy = t->y[s] - t->y[q];
        if (dx * dx + dy * dy <= r2 && links_add(l, q, s, 1.0) != KZ_OK)
            return KZ_E_NOMEM;
    }
    diff = coord(t, q, depth & 1) - coord(t, s, depth & 1);
    if (diff <= r && kd_range(t, lo, mid, depth + 1, q, r2, r, l) != KZ_OK)
        return KZ_E_NOMEM;
    if (-diff <= r && kd_range(t, mid + 1, hi, depth + 1, q, r2, r, l) != KZ_OK)
        return KZ_E_NOMEM;
    return KZ_OK;
}

int kz_weights_from_points(kz_weights **out, kz_ctx *ctx, const double *x, const double *y,
                           size_t n, const char *const *keys, const kz_weights_options *opts)
{
    kdtree t = {x, y, NULL, n};
    knn_heap hp = {NULL, NULL, 0, 0};
    links l = {NULL, 0, 0};
    size_t i, e;
    int rc = KZ_OK;

    *out = NULL;
    if (opts->kind == KZ_WEIGHTS_KNN && opts->k < 1)
        return kz_ctx__error(ctx, KZ_E_USAGE, "knn weights need k >= 1 (got %d)", opts->k);
    if (opts->kind == KZ_WEIGHTS_KNN && (size_t)opts->k >= n)
        return kz_ctx__error(ctx, KZ_E_USAGE, "knn weights need k < n (k = %d, n = %zu)", opts->k,
                             n);
    if (opts->kind == KZ_WEIGHTS_DIST && !(opts->distance > 0 && isfinite(opts->distance)))
        return kz_ctx__error(ctx, KZ_E_USAGE, "distance band weights need a distance > 0");
    if (opts->kind != KZ_WEIGHTS_KNN && opts->kind != KZ_WEIGHTS_DIST)
        return kz_ctx__error(ctx, KZ_E_USAGE, "points give knn or distance band weights only");
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return kz_ctx__error(ctx, KZ_E_INPUT, "point %zu%s%s%s has no finite coordinates", i,
                                 keys ? " (key " : "", keys ? keys[i] : "", keys ? ")" : "");
    t.idx = malloc((n ? n : 1) * sizeof(size_t));
    if (t.idx == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++)
        t.idx[i] = i;
    kd_build(&t, 0, n, 0);
    if (opts->kind == KZ_WEIGHTS_KNN) {
        hp.k = (size_t)opts->k;
        hp.d = malloc(hp.k * sizeof(double));
        hp.j = malloc(hp.k * sizeof(size_t));
        if (hp.d == NULL || hp.j == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (i = 0; i < n; i++) {
            hp.n = 0;
            kd_knn(&t, 0, n, 0, i, &hp);
            for (e = 0; e < hp.n; e++)
                if (links_add(&l, i, hp.j[e], 1.0) != KZ_OK) {
                    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                    goto done;
                }
        }
    } else {
        for (i = 0; i < n; i++)
            if (kd_range(&t, 0, n, 0, i, opts->distance * opts->distance, opts->distance, &l) !=
                KZ_OK) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
    }
    rc = build(out, ctx, n, &l, opts->style, keys);
done:
    free(t.idx);
    free(hp.d);
    free(hp.j);
    free(l.v);
    return rc;
}

/* Centroids of polygons given as WKB (GEOS). */
static int centroids(double *x, double *y, kz_ctx *ctx, const unsigned char *const *wkb,
                     const size_t *wkb_size, size_t n, const char *const *keys)
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *reader;
    size_t i;
    char what[300];
    int rc = KZ_OK;
    if (h == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot initialise GEOS");
    if ((reader = GEOSWKBReader_create_r(h)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < n && rc == KZ_OK; i++) {
        GEOSGeometry *g = GEOSWKBReader_read_r(h, reader, wkb[i], wkb_size[i]), *c = NULL;
        if (g == NULL || GEOSisEmpty_r(h, g) || (c = GEOSGetCentroid_r(h, g)) == NULL ||
            !GEOSGeomGetX_r(h, c, &x[i]) || !GEOSGeomGetY_r(h, c, &y[i]))
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "%s: no centroid (empty or unreadable geometry)",
                               name_of(keys, i, what, sizeof(what)));
        if (c)
            GEOSGeom_destroy_r(h, c);
        if (g)
            GEOSGeom_destroy_r(h, g);
    }
    GEOSWKBReader_destroy_r(h, reader);
    return rc;
}

int kz_weights_from_wkb(kz_weights **out, kz_ctx *ctx, const unsigned char *const *wkb,
                        const size_t *wkb_size, size_t n, const char *const *keys,
                        const kz_weights_options *opts)
{
    double *x, *y;
    int rc;

    *out = NULL;
    if (opts->style != KZ_STYLE_B && opts->style != KZ_STYLE_W)
        return kz_ctx__error(ctx, KZ_E_USAGE, "unknown weights style %d (B or W)", opts->style);
    switch (opts->kind) {
    case KZ_WEIGHTS_QUEEN:
    case KZ_WEIGHTS_ROOK:
        if (!((opts->tol >= 0 && isfinite(opts->tol)) || opts->tol == KZ_WEIGHTS_TOL_AUTO))
            return kz_ctx__error(ctx, KZ_E_USAGE, "the snapping tolerance must be >= 0 (or auto)");
        return contiguity(out, ctx, wkb, wkb_size, n, keys, opts);
    case KZ_WEIGHTS_KNN:
    case KZ_WEIGHTS_DIST:
        x = malloc((n ? n : 1) * sizeof(double));
        y = malloc((n ? n : 1) * sizeof(double));
        if (x == NULL || y == NULL)
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        else if ((rc = centroids(x, y, ctx, wkb, wkb_size, n, keys)) == KZ_OK)
            rc = kz_weights_from_points(out, ctx, x, y, n, keys, opts);
        free(x);
        free(y);
        return rc;
    default:
        return kz_ctx__error(ctx, KZ_E_USAGE, "unknown weights kind %d", opts->kind);
    }
}

int kz_weights_from_layer(kz_weights **out, kz_ctx *ctx, const kz_layer *layer,
                          const kz_weights_options *opts)
{
    size_t n = kz_layer_count(layer), i;
    const unsigned char **wkb = malloc((n ? n : 1) * sizeof(*wkb));
    size_t *sizes = malloc((n ? n : 1) * sizeof(size_t));
    const char **keys = malloc((n ? n : 1) * sizeof(*keys));
    int rc, have_keys = 1;

    *out = NULL;
    if (wkb == NULL || sizes == NULL || keys == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        wkb[i] = kz_layer_wkb(layer, i, &sizes[i]);
        if (wkb[i] == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_USAGE, "%s: not an area layer", kz_layer_source(layer));
            goto done;
        }
        keys[i] = kz_layer_key(layer, i);
        if (keys[i] == NULL)
            have_keys = 0;
    }
    rc = kz_weights_from_wkb(out, ctx, wkb, sizes, n, have_keys ? keys : NULL, opts);
done:
    free(wkb);
    free(sizes);
    free(keys);
    return rc;
}
