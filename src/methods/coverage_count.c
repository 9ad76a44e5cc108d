/*
 * Points in areas: kz_coverage_locate() and kz_coverage_count().
 *
 * How it is fast: the polygons are parsed once (GEOS) into plain edge
 * arrays, each area's edges bucketed into horizontal bands, and the areas'
 * bounding boxes into a uniform grid. A point is tested against the areas
 * listed in its grid cell, in ascending index order, with a crossing-number
 * test over the edges of one band. Both cores share the points.
 *
 * How it stays exact: every orientation test carries Shewchuk's error bound
 * (orient2d, "Adaptive Precision Floating-Point Arithmetic and Fast Robust
 * Geometric Predicates", 1997: ccwerrboundA = (3 + 16 eps) eps). When the
 * bound cannot prove the sign (a point on or within rounding distance of an
 * edge) the point goes to GEOS Covers, which decides with exact predicates,
 * so the result equals GEOS's (and SpatiaLite's ST_Covers) for every point.
 * Each thread has its own GEOS context handle and its own GEOS geometries
 * (handles and prepared geometries are not thread-safe).
 */
#include "coverage_internal.h"
#include "ctx_internal.h"
#include "geom.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parallel loop ---------------------------------------------------- */

int kz_coverage__threads(int requested, size_t n, size_t min_chunk)
{
    long cores = requested > 0 ? requested : sysconf(_SC_NPROCESSORS_ONLN);
    size_t by_work = min_chunk ? n / min_chunk : n;
    if (cores < 1)
        cores = 1;
    if (cores > 64)
        cores = 64;
    if ((size_t)cores > by_work)
        cores = by_work > 0 ? (long)by_work : 1;
    return (int)cores;
}

typedef struct par_job {
    void (*fn)(size_t, size_t, int, void *);
    void *arg;
    size_t n, chunk;
    atomic_size_t next;
} par_job;

typedef struct par_worker {
    par_job *job;
    int thread;
} par_worker;

static void *par_run(void *p)
{
    par_worker *w = p;
    par_job *job = w->job;
    for (;;) {
        size_t begin = atomic_fetch_add(&job->next, job->chunk);
        if (begin >= job->n)
            break;
        job->fn(begin, begin + job->chunk < job->n ? begin + job->chunk : job->n, w->thread,
                job->arg);
    }
    return NULL;
}

void kz_coverage__parallel(int threads, size_t n, size_t chunk,
                           void (*fn)(size_t begin, size_t end, int thread, void *arg), void *arg)
{
    pthread_t tid[64];
    par_worker workers[64];
    par_job job;
    int t, started = 0;

    if (chunk == 0)
        chunk = 1;
    if (threads > 64)
        threads = 64;
    job.fn = fn;
    job.arg = arg;
    job.n = n;
    job.chunk = chunk;
    atomic_init(&job.next, 0);
    for (t = 0; t < threads; t++) {
        workers[t].job = &job;
        workers[t].thread = t;
    }
    /* Threads 1.. run in new threads, thread 0 in the caller; a thread that
     * cannot start leaves its share to the others. */
    for (t = 1; t < threads; t++) {
        if (pthread_create(&tid[t], NULL, par_run, &workers[t]) != 0)
            break;
        started = t;
    }
    workers[0].thread = 0;
    par_run(&workers[0]);
    for (t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}

/* ---- area index ------------------------------------------------------- */

typedef struct edge {
    double x1, y1, x2, y2;
} edge;

typedef struct area_idx {
    double minx, miny, maxx, maxy;
    int empty;
    int nb;             /* bands */
    double band_h;      /* band height */
    size_t *band_start; /* nb + 1 */
    edge *band_edges;
} area_idx;

typedef struct locator {
    const kz_area_set *areas;
    area_idx *a;
    size_t n;
    /* uniform grid over the areas' bounding boxes */
    double gx0, gy0, gcell;
    long gnx, gny;
    size_t *gstart;
    int *gareas;
} locator;

/* Shewchuk's ccwerrboundA, (3 + 16 eps) eps with eps = 2^-53, rounded up. */
#define ORIENT_ERRBOUND 3.3306690738754716e-16

enum { PIP_OUT = 0, PIP_INTERIOR = 1, PIP_BOUNDARY = 2, PIP_UNSURE = 3 };

/* Crossing-number test of (px, py) against one area; exact where it answers. */
static int pip(const area_idx *a, double px, double py)
{
    size_t k, end;
    int b, crossings = 0;
    if (a->empty || px < a->minx || px > a->maxx || py < a->miny || py > a->maxy)
        return PIP_OUT;
    b = (int)((py - a->miny) / a->band_h);
    if (b < 0)
        b = 0;
    if (b >= a->nb)
        b = a->nb - 1;
    end = a->band_start[b + 1];
    for (k = a->band_start[b]; k < end; k++) {
        const edge *e = &a->band_edges[k];
        double ylo = e->y1 < e->y2 ? e->y1 : e->y2, yhi = e->y1 < e->y2 ? e->y2 : e->y1;
        double xlo, xhi, l, r, det, bound;
        if (py < ylo || py > yhi)
            continue;
        xlo = e->x1 < e->x2 ? e->x1 : e->x2;
        xhi = e->x1 < e->x2 ? e->x2 : e->x1;
        if (px > xhi)
            continue; /* left of p: neither crossed nor touched */
        if ((px == e->x1 && py == e->y1) || (px == e->x2 && py == e->y2))
            return PIP_BOUNDARY;
        if (e->y1 == e->y2) {
            if (px >= xlo)
                return PIP_BOUNDARY; /* on a horizontal edge */
            continue;                /* half-open rule: never crossed */
        }
        if (px < xlo) {
            /* Entirely right of p: crossed iff it straddles py (half-open). */
            if ((e->y1 > py) != (e->y2 > py))
                crossings++;
            continue;
        }
        /* orient2d(a = (x2,y2), b = p, c = (x1,y1)); the ray to +x crosses
         * the edge iff sign(det) == sign(y2 - y1). */
        l = (e->x2 - e->x1) * (py - e->y1);
        r = (e->y2 - e->y1) * (px - e->x1);
        det = l - r;
        bound = ORIENT_ERRBOUND * (fabs(l) + fabs(r));
        if (fabs(det) <= bound) {
            if (l == 0.0 && r == 0.0)
                return PIP_BOUNDARY; /* exactly collinear inside the edge's box */
            return PIP_UNSURE;
        }
        if ((e->y1 > py) != (e->y2 > py) && ((det > 0) == (e->y2 > e->y1)))
            crossings++;
    }
    return (crossings & 1) ? PIP_INTERIOR : PIP_OUT;
}

static void locator_dispose(locator *L)
{
    size_t i;
    if (L->a) {
        for (i = 0; i < L->n; i++) {
            free(L->a[i].band_start);
            free(L->a[i].band_edges);
        }
    }
    free(L->a);
    free(L->gstart);
    free(L->gareas);
}

/* Append the edges of every ring of a polygon to a growable array. */
static int ring_edges(edge **edges, size_t *n, size_t *cap, GEOSContextHandle_t h,
                      const GEOSGeometry *ring)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
    unsigned int size = 0, i;
    double px = 0, py = 0, x, y;
    if (cs == NULL || !GEOSCoordSeq_getSize_r(h, cs, &size))
        return KZ_E_INTERNAL;
    for (i = 0; i < size; i++) {
        if (!GEOSCoordSeq_getXY_r(h, cs, i, &x, &y))
            return KZ_E_INTERNAL;
        if (i > 0) {
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                edge *p = realloc(*edges, nc * sizeof(edge));
                if (p == NULL)
                    return KZ_E_NOMEM;
                *edges = p;
                *cap = nc;
            }
            (*edges)[(*n)++] = (edge){px, py, x, y};
        }
        px = x;
        py = y;
    }
    return KZ_OK;
}

static int polygon_edges(edge **edges, size_t *n, size_t *cap, GEOSContextHandle_t h,
                         const GEOSGeometry *poly)
{
    int r, nr = GEOSGetNumInteriorRings_r(h, poly), rc;
    const GEOSGeometry *ext = GEOSGetExteriorRing_r(h, poly);
    if (ext == NULL || nr < 0)
        return KZ_E_INTERNAL;
    if ((rc = ring_edges(edges, n, cap, h, ext)) != KZ_OK)
        return rc;
    for (r = 0; r < nr; r++) {
        const GEOSGeometry *hole = GEOSGetInteriorRingN_r(h, poly, r);
        if (hole == NULL)
            return KZ_E_INTERNAL;
        if ((rc = ring_edges(edges, n, cap, h, hole)) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

/* Bucket an area's edges into horizontal bands (CSR). */
static int build_bands(area_idx *a, const edge *edges, size_t n)
{
    size_t i, total = 0;
    int b, nb;
    size_t *fill;
    double h = a->maxy - a->miny;
    nb = (int)(n / 4);
    if (nb < 1)
        nb = 1;
    if (nb > 4096)
        nb = 4096;
    if (!(h > 0))
        nb = 1;
    a->nb = nb;
    a->band_h = h > 0 ? h / nb : 1.0;
    a->band_start = calloc((size_t)nb + 1, sizeof(size_t));
    if (a->band_start == NULL)
        return KZ_E_NOMEM;
#define BAND(v) ((int)fmin(fmax(((v)-a->miny) / a->band_h, 0.0), (double)(nb - 1)))
    for (i = 0; i < n; i++) {
        int lo = BAND(fmin(edges[i].y1, edges[i].y2)), hi = BAND(fmax(edges[i].y1, edges[i].y2));
        for (b = lo; b <= hi; b++)
            a->band_start[b + 1]++;
    }
    for (b = 0; b < nb; b++)
        a->band_start[b + 1] += a->band_start[b];
    total = a->band_start[nb];
    a->band_edges = malloc((total ? total : 1) * sizeof(edge));
    fill = malloc((size_t)nb * sizeof(size_t));
    if (a->band_edges == NULL || fill == NULL) {
        free(fill);
        return KZ_E_NOMEM;
    }
    memcpy(fill, a->band_start, (size_t)nb * sizeof(size_t));
    for (i = 0; i < n; i++) {
        int lo = BAND(fmin(edges[i].y1, edges[i].y2)), hi = BAND(fmax(edges[i].y1, edges[i].y2));
        for (b = lo; b <= hi; b++)
            a->band_edges[fill[b]++] = edges[i];
    }
#undef BAND
    free(fill);
    return KZ_OK;
}

static int locator_build(locator *L, kz_ctx *ctx, const kz_area_set *areas)
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *reader = NULL;
    GEOSGeometry *g = NULL;
    edge *edges = NULL;
    size_t cap = 0, i, ne;
    double gminx = INFINITY, gminy = INFINITY, gmaxx = -INFINITY, gmaxy = -INFINITY;
    int rc = KZ_OK;

    memset(L, 0, sizeof(*L));
    L->areas = areas;
    L->n = areas->n;
    if (areas->n > INT_MAX)
        return kz_ctx__error(ctx, KZ_E_USAGE, "too many areas (%zu)", areas->n);
    if (h == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot start GEOS");
    L->a = calloc(areas->n ? areas->n : 1, sizeof(area_idx));
    reader = GEOSWKBReader_create_r(h);
    if (L->a == NULL || reader == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory indexing areas");
        goto done;
    }
    for (i = 0; i < areas->n; i++) {
        area_idx *a = &L->a[i];
        int type, p, np;
        size_t k;
        g = GEOSWKBReader_read_r(h, reader, areas->wkb[i], areas->wkb_size[i]);
        if (g == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "area %zu: unreadable WKB: %s", i, ctx->geos_msg);
            goto done;
        }
        type = GEOSGeomTypeId_r(h, g);
        if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "area %zu: a %s, not a polygon", i,
                               type == GEOS_POINT ? "point" : "non-polygon geometry");
            goto done;
        }
        ne = 0;
        if (GEOSisEmpty_r(h, g) == 1) {
            a->empty = 1;
            GEOSGeom_destroy_r(h, g);
            g = NULL;
            continue;
        }
        np = type == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
        for (p = 0; p < np; p++) {
            const GEOSGeometry *poly = type == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, p);
            if (poly == NULL || GEOSisEmpty_r(h, poly) == 1)
                continue;
            if ((rc = polygon_edges(&edges, &ne, &cap, h, poly)) != KZ_OK) {
                rc = rc == KZ_E_NOMEM
                         ? kz_ctx__error(ctx, rc, "out of memory indexing areas")
                         : kz_ctx__error(ctx, rc, "area %zu: GEOS: %s", i, ctx->geos_msg);
                goto done;
            }
        }
        GEOSGeom_destroy_r(h, g);
        g = NULL;
        if (ne == 0) {
            a->empty = 1;
            continue;
        }
        a->minx = a->miny = INFINITY;
        a->maxx = a->maxy = -INFINITY;
        for (k = 0; k < ne; k++) {
            a->minx = fmin(a->minx, fmin(edges[k].x1, edges[k].x2));
            a->maxx = fmax(a->maxx, fmax(edges[k].x1, edges[k].x2));
            a->miny = fmin(a->miny, fmin(edges[k].y1, edges[k].y2));
            a->maxy = fmax(a->maxy, fmax(edges[k].y1, edges[k].y2));
        }
        if (!isfinite(a->minx) || !isfinite(a->maxx) || !isfinite(a->miny) || !isfinite(a->maxy)) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "area %zu: non-finite coordinates", i);
            goto done;
        }
        if ((rc = build_bands(a, edges, ne)) != KZ_OK) {
            rc = kz_ctx__error(ctx, rc, "out of memory indexing areas");
            goto done;
        }
        gminx = fmin(gminx, a->minx);
        gminy = fmin(gminy, a->miny);
        gmaxx = fmax(gmaxx, a->maxx);
        gmaxy = fmax(gmaxy, a->maxy);
    }

    /* Uniform grid over the bounding boxes, about 8 cells per area. */
    if (gminx <= gmaxx) {
        double w = gmaxx - gminx, hgt = gmaxy - gminy;
        double cells = 8.0 * (double)areas->n;
        size_t *fill = NULL, c;
        long cx, cy;
        if (cells > 4e6)
            cells = 4e6;
        L->gcell = sqrt((w > 0 ? w : 1) * (hgt > 0 ? hgt : 1) / cells);
        if (!(L->gcell > 0))
            L->gcell = 1;
        L->gnx = (long)(w / L->gcell) + 1;
        L->gny = (long)(hgt / L->gcell) + 1;
        if (L->gnx > 4096)
            L->gnx = 4096;
        if (L->gny > 4096)
            L->gny = 4096;
        L->gcell = fmax(w / (double)L->gnx, hgt / (double)L->gny) * (1 + 1e-12);
        if (!(L->gcell > 0))
            L->gcell = 1;
        L->gx0 = gminx;
        L->gy0 = gminy;
        L->gstart = calloc((size_t)(L->gnx * L->gny) + 1, sizeof(size_t));
        if (L->gstart == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory indexing areas");
            goto done;
        }
#define GCOL(v) ((long)fmin(fmax(((v)-L->gx0) / L->gcell, 0.0), (double)(L->gnx - 1)))
#define GROW_(v) ((long)fmin(fmax(((v)-L->gy0) / L->gcell, 0.0), (double)(L->gny - 1)))
        for (i = 0; i < areas->n; i++) {
            const area_idx *a = &L->a[i];
            if (a->empty)
                continue;
            for (cy = GROW_(a->miny); cy <= GROW_(a->maxy); cy++)
                for (cx = GCOL(a->minx); cx <= GCOL(a->maxx); cx++)
                    L->gstart[cy * L->gnx + cx + 1]++;
        }
        for (c = 0; c < (size_t)(L->gnx * L->gny); c++)
            L->gstart[c + 1] += L->gstart[c];
        L->gareas = malloc((L->gstart[L->gnx * L->gny] + 1) * sizeof(int));
        fill = malloc((size_t)(L->gnx * L->gny) * sizeof(size_t));
        if (L->gareas == NULL || fill == NULL) {
            free(fill);
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory indexing areas");
            goto done;
        }
        memcpy(fill, L->gstart, (size_t)(L->gnx * L->gny) * sizeof(size_t));
        /* Ascending area order within each cell: the boundary rule needs it. */
        for (i = 0; i < areas->n; i++) {
            const area_idx *a = &L->a[i];
            if (a->empty)
                continue;
            for (cy = GROW_(a->miny); cy <= GROW_(a->maxy); cy++)
                for (cx = GCOL(a->minx); cx <= GCOL(a->maxx); cx++)
                    L->gareas[fill[cy * L->gnx + cx]++] = (int)i;
        }
        free(fill);
    }
done:
    free(edges);
    if (g)
        GEOSGeom_destroy_r(h, g);
    if (reader)
        GEOSWKBReader_destroy_r(h, reader);
    return rc;
}

/* ---- locating points -------------------------------------------------- */

/* Per-thread state: a GEOS handle and GEOS geometries, made on first need. */
typedef struct thread_state {
    GEOSContextHandle_t h;
    GEOSWKBReader *reader;
    GEOSGeometry **geoms;
    size_t on_boundary;
    int failed; /* KZ_OK or the error code */
    size_t failed_area;
} thread_state;

typedef struct locate_job {
    const locator *L;
    const kz_point_set *pts;
    int *out;
    thread_state *ts;
} locate_job;

static void quiet(const char *message, void *userdata)
{
    (void)message;
    (void)userdata;
}

/* GEOS Covers for the unsure cases: 1 covered, 0 not, -1 failure. */
static int geos_covers(thread_state *t, const locator *L, size_t area, double x, double y)
{
    GEOSGeometry *pt;
    char r;
    if (t->h == NULL) {
        t->h = GEOS_init_r();
        if (t->h == NULL)
            return -1;
        GEOSContext_setErrorMessageHandler_r(t->h, quiet, NULL);
        GEOSContext_setNoticeMessageHandler_r(t->h, quiet, NULL);
    }
    if (t->geoms == NULL && (t->geoms = calloc(L->n, sizeof(GEOSGeometry *))) == NULL)
        return -1;
    if (t->reader == NULL && (t->reader = GEOSWKBReader_create_r(t->h)) == NULL)
        return -1;
    if (t->geoms[area] == NULL) {
        t->geoms[area] =
            GEOSWKBReader_read_r(t->h, t->reader, L->areas->wkb[area], L->areas->wkb_size[area]);
        if (t->geoms[area] == NULL)
            return -1;
    }
    pt = GEOSGeom_createPointFromXY_r(t->h, x, y);
    if (pt == NULL)
        return -1;
    r = GEOSCovers_r(t->h, t->geoms[area], pt);
    GEOSGeom_destroy_r(t->h, pt);
    return r == 2 ? -1 : r;
}

static void locate_range(size_t begin, size_t end, int thread, void *arg)
{
    locate_job *job = arg;
    const locator *L = job->L;
    thread_state *t = &job->ts[thread];
    size_t i, k;
    for (i = begin; i < end; i++) {
        double px = job->pts->x[i], py = job->pts->y[i];
        long cx, cy;
        size_t c, kend;
        int best = -1, covers = 0;
        job->out[i] = -1;
        if (!isfinite(px) || !isfinite(py) || L->gstart == NULL)
            continue;
        if (px < L->gx0 || py < L->gy0)
            continue;
        cx = (long)((px - L->gx0) / L->gcell);
        cy = (long)((py - L->gy0) / L->gcell);
        if (cx >= L->gnx || cy >= L->gny)
            continue;
        c = (size_t)(cy * L->gnx + cx);
        kend = L->gstart[c + 1];
        for (k = L->gstart[c]; k < kend; k++) {
            int a = L->gareas[k];
            int r = pip(&L->a[a], px, py);
            if (r == PIP_UNSURE) {
                int g = geos_covers(t, L, (size_t)a, px, py);
                if (g < 0) {
                    t->failed = KZ_E_INTERNAL;
                    t->failed_area = (size_t)a;
                    continue;
                }
                r = g ? PIP_BOUNDARY : PIP_OUT;
            }
            if (r == PIP_OUT)
                continue;
            if (best < 0)
                best = a;
            covers++;
            /* An interior point of the first covering area is done; a
             * boundary point looks further, to count shared boundaries. */
            if (r == PIP_INTERIOR && covers == 1)
                break;
        }
        if (covers > 1)
            t->on_boundary++;
        job->out[i] = best;
    }
}

int kz_coverage_locate(int *out_area, kz_ctx *ctx, const kz_area_set *areas,
                       const kz_point_set *points, int threads, size_t *on_boundary)
{
    locator L;
    locate_job job;
    thread_state ts[64];
    int rc, nt, t;

    if (on_boundary)
        *on_boundary = 0;
    if ((rc = locator_build(&L, ctx, areas)) != KZ_OK) {
        locator_dispose(&L);
        return rc;
    }
    nt = kz_coverage__threads(threads, points->n, 16384);
    memset(ts, 0, sizeof(ts));
    job.L = &L;
    job.pts = points;
    job.out = out_area;
    job.ts = ts;
    kz_coverage__parallel(nt, points->n, 8192, locate_range, &job);
    for (t = 0; t < nt; t++) {
        size_t a;
        if (ts[t].failed && rc == KZ_OK)
            rc = kz_ctx__error(ctx, ts[t].failed,
                               "area %zu: GEOS failed deciding whether it covers a point",
                               ts[t].failed_area);
        if (on_boundary)
            *on_boundary += ts[t].on_boundary;
        if (ts[t].geoms) {
            for (a = 0; a < L.n; a++)
                if (ts[t].geoms[a])
                    GEOSGeom_destroy_r(ts[t].h, ts[t].geoms[a]);
            free(ts[t].geoms);
        }
        if (ts[t].reader)
            GEOSWKBReader_destroy_r(ts[t].h, ts[t].reader);
        if (ts[t].h)
            GEOS_finish_r(ts[t].h);
    }
    locator_dispose(&L);
    return rc;
}

/* ---- counting --------------------------------------------------------- */

void kz_count_free(kz_count *count)
{
    if (count == NULL)
        return;
    free(count->count);
    free(count->weight);
    free(count->category_count);
    free(count->category_weight);
    free(count);
}

int kz_coverage_count(kz_count **out, kz_ctx *ctx, const kz_area_set *areas,
                      const kz_point_set *points, size_t n_categories, int threads, int *point_area)
{
    kz_count *c = NULL;
    int *where = point_area;
    size_t i, on_boundary = 0, na = areas->n;
    int rc;

    *out = NULL;
    if (points->category) {
        for (i = 0; i < points->n; i++)
            if (points->category[i] >= 0 && (size_t)points->category[i] >= n_categories)
                return kz_ctx__error(ctx, KZ_E_USAGE,
                                     "point %zu has category %d, but there are only %zu", i,
                                     points->category[i], n_categories);
    } else {
        n_categories = 0;
    }
    c = calloc(1, sizeof(*c));
    if (where == NULL)
        where = malloc((points->n ? points->n : 1) * sizeof(int));
    if (c == NULL || where == NULL)
        goto nomem;
    c->n_areas = na;
    c->n_categories = n_categories;
    c->count = calloc(na ? na : 1, sizeof(long long));
    c->weight = calloc(na ? na : 1, sizeof(double));
    if (c->count == NULL || c->weight == NULL)
        goto nomem;
    if (n_categories) {
        c->category_count = calloc(na * n_categories + 1, sizeof(long long));
        c->category_weight = calloc(na * n_categories + 1, sizeof(double));
        if (c->category_count == NULL || c->category_weight == NULL)
            goto nomem;
    }
    if ((rc = kz_coverage_locate(where, ctx, areas, points, threads, &on_boundary)) != KZ_OK)
        goto done;
    /* Tally in point order on one thread: sums do not depend on threads. */
    for (i = 0; i < points->n; i++) {
        int a = where[i];
        double w = points->weight ? points->weight[i] : 1.0;
        if (a < 0) {
            c->outside++;
            continue;
        }
        c->count[a]++;
        c->weight[a] += w;
        if (n_categories && points->category[i] >= 0) {
            size_t k = (size_t)a * n_categories + (size_t)points->category[i];
            c->category_count[k]++;
            c->category_weight[k] += w;
        }
    }
    c->on_boundary = (long long)on_boundary;
    *out = c;
    c = NULL;
    rc = KZ_OK;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory counting points");
done:
    if (where != point_area)
        free(where);
    kz_count_free(c);
    return rc;
}
