/*
 * Demand points (see demand.h): areas to grid points or one point each,
 * Zensus population grids (PROJ reprojection), address points with counts,
 * and the dasymetric distribution of area populations over source points.
 *
 * Point-in-area decisions go through kz_coverage_locate(), so a grid cell
 * centre or source point on a shared boundary belongs to exactly one area
 * by the same documented rule as every count in kiez.
 */
#include "kiez/demand.h"
#include "ctx_internal.h"
#include "geom.h"
#include "kiez/layer.h"
#include "kiez/table.h"

#include <proj.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Candidate cell centres tested per kz_coverage_locate() call. */
#define BATCH_CELLS (1L << 22)
/* Cap on the candidate cells of one grid (bounding box / cell²). */
#define MAX_CELLS 2147483647.0

/* ---- result ------------------------------------------------------------ */

void kz_demand_free(kz_demand *d)
{
    if (d == NULL)
        return;
    free(d->x);
    free(d->y);
    free(d->weight);
    free(d->area);
    free(d);
}

kz_point_set kz_demand_point_set(const kz_demand *d)
{
    kz_point_set s;
    memset(&s, 0, sizeof(s));
    if (d != NULL) {
        s.x = d->x;
        s.y = d->y;
        s.weight = d->weight;
        s.n = d->n;
    }
    return s;
}

/* Growable arrays of a result. */
typedef struct buf {
    kz_demand *d;
    size_t cap;
} buf;

static int buf_init(buf *b, kz_ctx *ctx)
{
    b->cap = 0;
    b->d = calloc(1, sizeof(*b->d));
    if (b->d == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    return KZ_OK;
}

static int buf_push(buf *b, kz_ctx *ctx, double x, double y, double w, int area)
{
    kz_demand *d = b->d;
    if (d->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        double *nx = realloc(d->x, cap * sizeof(double));
        double *ny = nx ? realloc(d->y, cap * sizeof(double)) : NULL;
        double *nw = ny ? realloc(d->weight, cap * sizeof(double)) : NULL;
        int *na = nw ? realloc(d->area, cap * sizeof(int)) : NULL;
        if (nx)
            d->x = nx;
        if (ny)
            d->y = ny;
        if (nw)
            d->weight = nw;
        if (na == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory (demand points)");
        d->area = na;
        b->cap = cap;
    }
    d->x[d->n] = x;
    d->y[d->n] = y;
    d->weight[d->n] = w;
    d->area[d->n] = area;
    d->n++;
    return KZ_OK;
}

/* ---- GEOS helpers ------------------------------------------------------ */

static GEOSGeometry *read_area(kz_ctx *ctx, GEOSContextHandle_t h, GEOSWKBReader *rd,
                               const kz_area_set *areas, size_t i)
{
    GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, areas->wkb[i], areas->wkb_size[i]);
    if (g == NULL)
        kz_ctx__error(ctx, KZ_E_INPUT, "area %zu: unreadable WKB: %s", i, ctx->geos_msg);
    return g;
}

/* One point of area i: centroid or point on surface. */
static int area_point(kz_ctx *ctx, GEOSContextHandle_t h, GEOSWKBReader *rd,
                      const kz_area_set *areas, size_t i, int centroid, double *x, double *y)
{
    GEOSGeometry *g = read_area(ctx, h, rd, areas, i), *pt;
    int ok;
    if (g == NULL)
        return KZ_E_INPUT;
    pt = centroid ? GEOSGetCentroid_r(h, g) : GEOSPointOnSurface_r(h, g);
    GEOSGeom_destroy_r(h, g);
    if (pt == NULL || GEOSisEmpty_r(h, pt) != 0) {
        if (pt)
            GEOSGeom_destroy_r(h, pt);
        return kz_ctx__error(ctx, KZ_E_INPUT, "area %zu: empty polygon, no point inside", i);
    }
    ok = GEOSGeomGetX_r(h, pt, x) == 1 && GEOSGeomGetY_r(h, pt, y) == 1;
    GEOSGeom_destroy_r(h, pt);
    return ok ? KZ_OK : kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS: %s", ctx->geos_msg);
}

static int usable(double p)
{
    return isfinite(p) && p >= 0;
}

/* ---- areas to points --------------------------------------------------- */

/*
 * Equal shares of P over the m points of each area; the last point of an
 * area takes P minus the running sum of the others, so summing an area's
 * weights in point order gives P.
 */
static int share_equally(kz_demand *d, kz_ctx *ctx, const double *population, size_t n_areas)
{
    size_t *m = calloc(n_areas + 1, sizeof(size_t)), *seen = calloc(n_areas + 1, sizeof(size_t));
    double *acc = calloc(n_areas + 1, sizeof(double));
    size_t i;
    if (m == NULL || seen == NULL || acc == NULL) {
        free(m);
        free(seen);
        free(acc);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    for (i = 0; i < d->n; i++)
        m[d->area[i]]++;
    for (i = 0; i < d->n; i++) {
        int a = d->area[i];
        double w = population[a] / (double)m[a];
        if (++seen[a] == m[a])
            w = population[a] - acc[a];
        d->weight[i] = w;
        acc[a] += w;
    }
    free(m);
    free(seen);
    free(acc);
    return KZ_OK;
}

/* Append one point on surface for every area with population and no
 * point yet. */
static int add_fallbacks(buf *b, kz_ctx *ctx, const kz_area_set *areas, const double *population,
                         double *have)
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *rd;
    size_t a;
    int rc = KZ_OK;
    if (h == NULL || (rd = GEOSWKBReader_create_r(h)) == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS cannot be initialised");
    for (a = 0; a < areas->n && rc == KZ_OK; a++) {
        double x, y;
        if (!usable(population[a]) || population[a] == 0 || have[a] > 0)
            continue;
        if ((rc = area_point(ctx, h, rd, areas, a, 0, &x, &y)) == KZ_OK &&
            (rc = buf_push(b, ctx, x, y, population[a], (int)a)) == KZ_OK)
            b->d->fallback_areas++;
    }
    GEOSWKBReader_destroy_r(h, rd);
    return rc;
}

/* Bounding box of the areas with population > 0; 0 if there is none. */
static int areas_bbox(kz_ctx *ctx, const kz_area_set *areas, const double *population,
                      double box[4])
{
    GEOSContextHandle_t h = kz_geom__handle(ctx);
    GEOSWKBReader *rd;
    size_t a;
    int found = 0, rc = KZ_OK;
    if (h == NULL || (rd = GEOSWKBReader_create_r(h)) == NULL)
        return kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS cannot be initialised");
    box[0] = box[1] = INFINITY;
    box[2] = box[3] = -INFINITY;
    for (a = 0; a < areas->n; a++) {
        GEOSGeometry *g;
        double v;
        if (!usable(population[a]) || population[a] == 0)
            continue;
        if ((g = read_area(ctx, h, rd, areas, a)) == NULL) {
            rc = KZ_E_INPUT;
            break;
        }
        if (GEOSisEmpty_r(h, g) == 0) {
            if (GEOSGeom_getXMin_r(h, g, &v) == 1)
                box[0] = fmin(box[0], v);
            if (GEOSGeom_getYMin_r(h, g, &v) == 1)
                box[1] = fmin(box[1], v);
            if (GEOSGeom_getXMax_r(h, g, &v) == 1)
                box[2] = fmax(box[2], v);
            if (GEOSGeom_getYMax_r(h, g, &v) == 1)
                box[3] = fmax(box[3], v);
            found = 1;
        }
        GEOSGeom_destroy_r(h, g);
    }
    GEOSWKBReader_destroy_r(h, rd);
    if (rc != KZ_OK)
        return -rc;
    return found && isfinite(box[0]) && isfinite(box[2]);
}

static int grid_points(buf *b, kz_ctx *ctx, const kz_area_set *areas, const double *population,
                       double cell, int threads)
{
    double box[4] = {0, 0, 0, 0}, *cx = NULL, *cy = NULL;
    int *where = NULL, found, rc = KZ_OK;
    long c0, c1, r0, r1, ncol, nrow, rows_per, r;
    kz_point_set ps;

    if ((found = areas_bbox(ctx, areas, population, box)) < 0)
        return -found;
    if (found == 0)
        return KZ_OK;
    /* Cells [c*cell, (c+1)*cell): centres (c + 0.5) * cell. */
    if ((box[2] - box[0]) / cell + 2 > MAX_CELLS || (box[3] - box[1]) / cell + 2 > MAX_CELLS ||
        ((box[2] - box[0]) / cell + 2) * ((box[3] - box[1]) / cell + 2) > MAX_CELLS)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "a %g grid over an extent of %.0f x %.0f gives too many cells; "
                             "use a larger cell",
                             cell, box[2] - box[0], box[3] - box[1]);
    c0 = (long)floor(box[0] / cell);
    c1 = (long)floor(box[2] / cell);
    r0 = (long)floor(box[1] / cell);
    r1 = (long)floor(box[3] / cell);
    ncol = c1 - c0 + 1;
    nrow = r1 - r0 + 1;
    rows_per = BATCH_CELLS / ncol > 0 ? BATCH_CELLS / ncol : 1;
    cx = malloc((size_t)(rows_per * ncol) * sizeof(double));
    cy = malloc((size_t)(rows_per * ncol) * sizeof(double));
    where = malloc((size_t)(rows_per * ncol) * sizeof(int));
    if (cx == NULL || cy == NULL || where == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory (grid of %ld x %ld cells)", ncol, nrow);
        goto done;
    }
    for (r = 0; r < nrow && rc == KZ_OK; r += rows_per) {
        long nr = nrow - r < rows_per ? nrow - r : rows_per, i, j;
        size_t k = 0, q;
        for (i = 0; i < nr; i++)
            for (j = 0; j < ncol; j++, k++) {
                cx[k] = ((double)(c0 + j) + 0.5) * cell;
                cy[k] = ((double)(r0 + r + i) + 0.5) * cell;
            }
        memset(&ps, 0, sizeof(ps));
        ps.x = cx;
        ps.y = cy;
        ps.n = k;
        if ((rc = kz_coverage_locate(where, ctx, areas, &ps, threads, NULL)) != KZ_OK)
            break;
        for (q = 0; q < k && rc == KZ_OK; q++) {
            int a = where[q];
            if (a >= 0 && usable(population[a]) && population[a] > 0)
                rc = buf_push(b, ctx, cx[q], cy[q], 0, a);
        }
    }
done:
    free(cx);
    free(cy);
    free(where);
    return rc;
}

int kz_demand_from_areas(kz_demand **out, kz_ctx *ctx, const kz_area_set *areas,
                         const double *population, int method, double cell, int threads)
{
    buf b;
    double *have = NULL;
    size_t a, i;
    int rc;

    *out = NULL;
    if (method != KZ_DEMAND_GRID && method != KZ_DEMAND_CENTROID && method != KZ_DEMAND_SURFACE)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "demand points from areas: method %d is not grid, "
                             "centroid or surface",
                             method);
    if (method == KZ_DEMAND_GRID && !(isfinite(cell) && cell > 0))
        return kz_ctx__error(ctx, KZ_E_USAGE, "demand points: the grid cell must be positive");
    if ((rc = buf_init(&b, ctx)) != KZ_OK)
        return rc;
    b.d->n_areas = areas->n;
    b.d->method = method;
    for (a = 0; a < areas->n; a++)
        if (!usable(population[a]))
            b.d->skipped_areas++;
    if (method == KZ_DEMAND_GRID) {
        b.d->cell = cell;
        if ((have = calloc(areas->n + 1, sizeof(double))) == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        if ((rc = grid_points(&b, ctx, areas, population, cell, threads)) != KZ_OK ||
            (rc = share_equally(b.d, ctx, population, areas->n)) != KZ_OK)
            goto done;
        for (i = 0; i < b.d->n; i++)
            have[b.d->area[i]] = 1;
        if ((rc = add_fallbacks(&b, ctx, areas, population, have)) != KZ_OK)
            goto done;
        snprintf(b.d->description, sizeof(b.d->description),
                 "grid %g: each area's population spread evenly over the centres of the %g x %g "
                 "grid cells inside it (%zu areas without a cell centre: one point on surface)",
                 cell, cell, cell, b.d->fallback_areas);
    } else {
        GEOSContextHandle_t h = kz_geom__handle(ctx);
        GEOSWKBReader *rd = h ? GEOSWKBReader_create_r(h) : NULL;
        if (rd == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "GEOS cannot be initialised");
            goto done;
        }
        for (a = 0; a < areas->n && rc == KZ_OK; a++) {
            double x, y;
            if (!usable(population[a]) || population[a] == 0)
                continue;
            if ((rc = area_point(ctx, h, rd, areas, a, method == KZ_DEMAND_CENTROID, &x, &y)) ==
                KZ_OK)
                rc = buf_push(&b, ctx, x, y, population[a], (int)a);
        }
        GEOSWKBReader_destroy_r(h, rd);
        if (rc != KZ_OK)
            goto done;
        snprintf(b.d->description, sizeof(b.d->description), "%s",
                 method == KZ_DEMAND_CENTROID
                     ? "centroid: each area's population at its centroid"
                     : "point on surface: each area's population at one point inside it "
                       "(GEOS PointOnSurface)");
    }
done:
    free(have);
    if (rc != KZ_OK) {
        kz_demand_free(b.d);
        return rc;
    }
    *out = b.d;
    return KZ_OK;
}

/* ---- Zensus grid ------------------------------------------------------- */

static int parse_uint(const char **pp, double *v)
{
    const char *p = *pp;
    double x = 0;
    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        x = x * 10 + (*p - '0');
        if (x > 1e12)
            return -1;
    }
    *v = x;
    *pp = p;
    return 0;
}

int kz_demand_parse_grid_id(int *epsg, double *size, double *east, double *north, const char *id)
{
    const char *p = id;
    double crs, res, n, e;
    if (strncasecmp(p, "CRS", 3) != 0)
        return KZ_E_INPUT;
    p += 3;
    if (parse_uint(&p, &crs) != 0 || crs < 1 || crs > 999999 || strncasecmp(p, "RES", 3) != 0)
        return KZ_E_INPUT;
    p += 3;
    if (parse_uint(&p, &res) != 0 || res <= 0)
        return KZ_E_INPUT;
    if (strncmp(p, "km", 2) == 0) {
        res *= 1000;
        p += 2;
    } else if (*p == 'm') {
        p++;
    } else {
        return KZ_E_INPUT;
    }
    if (*p != 'N' || (p++, parse_uint(&p, &n)) != 0 || *p != 'E' ||
        (p++, parse_uint(&p, &e)) != 0 || *p != '\0')
        return KZ_E_INPUT;
    *epsg = (int)crs;
    *size = res;
    *east = e;
    *north = n;
    return KZ_OK;
}

typedef struct zensus_state {
    kz_ctx *ctx;
    const char *path, *count_column;
    kz_csv_dialect dialect;
    long id_col, count_col;
    int epsg;
    double size;
    buf b;
} zensus_state;

static int zensus_row(const kz_csv_row *row, void *payload)
{
    zensus_state *z = payload;
    double e, n, size, v;
    int epsg, flag;
    size_t i;
    if (z->id_col < 0) {
        for (i = 0; i < row->n_fields; i++) {
            if (z->id_col < 0 && strncasecmp(row->fields[i], "gitter_id", 9) == 0)
                z->id_col = (long)i;
            if (z->count_col < 0 && strcasecmp(row->fields[i], z->count_column) == 0)
                z->count_col = (long)i;
        }
        if (z->id_col < 0)
            z->id_col = 0;
        if (z->count_col < 0)
            return kz_ctx__error(z->ctx, KZ_E_INPUT,
                                 "%s:%ld: no column \"%s\" with the counts; name it with "
                                 "count: in demand_points",
                                 z->path, row->line, z->count_column);
        return KZ_OK;
    }
    if (kz_demand_parse_grid_id(&epsg, &size, &e, &n, row->fields[z->id_col]) != KZ_OK)
        return kz_ctx__error(z->ctx, KZ_E_INPUT,
                             "%s:%ld: \"%.60s\" is not a grid cell id like "
                             "CRS3035RES100mN2689000E4337000",
                             z->path, row->line, row->fields[z->id_col]);
    if (z->epsg == 0) {
        z->epsg = epsg;
        z->size = size;
    } else if (epsg != z->epsg || size != z->size) {
        return kz_ctx__error(z->ctx, KZ_E_INPUT,
                             "%s:%ld: cell %s is on another grid (EPSG:%d, %g m) than the first "
                             "(EPSG:%d, %g m); one file, one grid",
                             z->path, row->line, row->fields[z->id_col], epsg, size, z->epsg,
                             z->size);
    }
    if (kz_value_parse(&v, &flag, row->fields[z->count_col], z->dialect.decimal,
                       z->dialect.thousands) != KZ_OK ||
        (flag != KZ_FLAG_OK && flag != KZ_FLAG_ESTIMATED) || v < 0) {
        /* Zensus 2011 writes -1 for counts withheld for confidentiality. */
        z->b.d->unplaced++;
        return KZ_OK;
    }
    if (v == 0)
        return KZ_OK;
    return buf_push(&z->b, z->ctx, e + size / 2, n + size / 2, v, -1);
}

/* Reproject n points in place from EPSG:from to `crs` (x = easting or
 * longitude after proj_normalize_for_visualization, NOTES.md). */
static int reproject(kz_ctx *ctx, double *x, double *y, size_t n, int from, const char *crs)
{
    PJ_CONTEXT *pc = proj_context_create();
    PJ *raw = NULL, *pj = NULL;
    char src[32];
    size_t i;
    int rc = KZ_OK;
    if (pc == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory (PROJ)");
    proj_log_level(pc, PJ_LOG_NONE);
    snprintf(src, sizeof(src), "EPSG:%d", from);
    raw = proj_create_crs_to_crs(pc, src, crs, NULL);
    if (raw != NULL)
        pj = proj_normalize_for_visualization(pc, raw);
    if (pj == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE, "PROJ cannot transform %s to %s: %s", src, crs,
                           proj_context_errno_string(pc, proj_context_errno(pc)));
        goto done;
    }
    if (n > 0)
        proj_trans_generic(pj, PJ_FWD, x, sizeof(double), n, y, sizeof(double), n, NULL, 0, 0, NULL,
                           0, 0);
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]) || fabs(x[i]) > 1e15 || fabs(y[i]) > 1e15) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "PROJ cannot transform a grid cell centre from %s to %s", src, crs);
            break;
        }
done:
    proj_destroy(pj);
    proj_destroy(raw);
    proj_context_destroy(pc);
    return rc;
}

int kz_demand_read_zensus(kz_demand **out, kz_ctx *ctx, const char *path, const char *count_column,
                          const char *crs)
{
    zensus_state z;
    int rc;
    *out = NULL;
    memset(&z, 0, sizeof(z));
    z.ctx = ctx;
    z.path = path;
    z.count_column = count_column ? count_column : "Einwohner";
    z.id_col = z.count_col = -1;
    if ((rc = buf_init(&z.b, ctx)) != KZ_OK)
        return rc;
    z.b.d->method = KZ_DEMAND_ZENSUS;
    if ((rc = kz_csv_read(ctx, path, &z.dialect, zensus_row, &z)) == KZ_OK && z.b.d->n > 0)
        rc = reproject(ctx, z.b.d->x, z.b.d->y, z.b.d->n, z.epsg, crs);
    if (rc != KZ_OK) {
        kz_demand_free(z.b.d);
        return rc;
    }
    z.b.d->cell = z.size;
    snprintf(z.b.d->description, sizeof(z.b.d->description),
             "Zensus grid %g m (EPSG:%d, column %s): counts at the cell centres", z.size, z.epsg,
             z.count_column);
    *out = z.b.d;
    return KZ_OK;
}

/* ---- address points ---------------------------------------------------- */

int kz_demand_read_points(kz_demand **out, kz_ctx *ctx, const char *source, const char *count_field,
                          const char *crs)
{
    kz_layer_options o;
    kz_layer *l = NULL;
    buf b;
    size_t i, n;
    int rc;

    *out = NULL;
    memset(&o, 0, sizeof(o));
    o.kind = KZ_GEOM_POINTS;
    o.fields = &count_field;
    o.n_fields = 1;
    o.crs = crs;
    if ((rc = kz_layer_read(&l, ctx, source, &o)) != KZ_OK)
        return rc;
    if ((rc = buf_init(&b, ctx)) != KZ_OK) {
        kz_layer_free(l);
        return rc;
    }
    b.d->method = KZ_DEMAND_POINTS;
    n = kz_layer_count(l);
    for (i = 0; i < n && rc == KZ_OK; i++) {
        const char *t = kz_layer_field(l, i, 0);
        double v, x, y;
        int flag;
        if (t == NULL || kz_value_parse(&v, &flag, t, '.', KZ_THOUSANDS_NONE) != KZ_OK ||
            (flag != KZ_FLAG_OK && flag != KZ_FLAG_ESTIMATED) || v < 0) {
            b.d->unplaced++;
            continue;
        }
        if (v == 0)
            continue;
        kz_layer_point(l, i, &x, &y);
        rc = buf_push(&b, ctx, x, y, v, -1);
    }
    kz_layer_free(l);
    if (rc != KZ_OK) {
        kz_demand_free(b.d);
        return rc;
    }
    snprintf(b.d->description, sizeof(b.d->description), "address points (%.160s, count %.60s)",
             source, count_field);
    *out = b.d;
    return KZ_OK;
}

/* ---- dasymetric distribution ------------------------------------------- */

int kz_demand_distribute(kz_demand **out, kz_ctx *ctx, const kz_area_set *areas,
                         const double *population, const kz_demand *points, int threads)
{
    kz_point_set ps = kz_demand_point_set(points);
    int *where = NULL;
    double *sum = NULL, *acc = NULL, *have = NULL;
    size_t *left = NULL, i, a;
    buf b;
    int rc;

    *out = NULL;
    if ((rc = buf_init(&b, ctx)) != KZ_OK)
        return rc;
    b.d->n_areas = areas->n;
    b.d->method = points->method;
    b.d->cell = points->cell;
    b.d->unplaced = points->unplaced;
    b.d->unplaced_weight = points->unplaced_weight;
    where = malloc((points->n + 1) * sizeof(int));
    sum = calloc(areas->n + 1, sizeof(double));
    acc = calloc(areas->n + 1, sizeof(double));
    have = calloc(areas->n + 1, sizeof(double));
    left = calloc(areas->n + 1, sizeof(size_t));
    if (where == NULL || sum == NULL || acc == NULL || have == NULL || left == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (a = 0; a < areas->n; a++)
        if (!usable(population[a]))
            b.d->skipped_areas++;
    if ((rc = kz_coverage_locate(where, ctx, areas, &ps, threads, NULL)) != KZ_OK)
        goto done;
    for (i = 0; i < points->n; i++) {
        if (where[i] < 0) {
            b.d->unplaced++;
            b.d->unplaced_weight += points->weight[i];
        } else if (points->weight[i] > 0) {
            sum[where[i]] += points->weight[i];
            left[where[i]]++;
        }
    }
    /* w'_i = P_a w_i / Σ_{k in a} w_k; the last point of an area takes the
     * remainder, so the area's weights add up to P_a. */
    for (i = 0; i < points->n && rc == KZ_OK; i++) {
        int ai = where[i];
        double w;
        if (ai < 0 || !(points->weight[i] > 0) || !usable(population[ai]) || population[ai] == 0)
            continue;
        w = --left[ai] == 0 ? population[ai] - acc[ai]
                            : population[ai] * (points->weight[i] / sum[ai]);
        acc[ai] += w;
        have[ai] = 1;
        rc = buf_push(&b, ctx, points->x[i], points->y[i], w, ai);
    }
    if (rc == KZ_OK)
        rc = add_fallbacks(&b, ctx, areas, population, have);
    if (rc == KZ_OK)
        snprintf(b.d->description, sizeof(b.d->description),
                 "%.120s; each area's population shared among the points inside it in "
                 "proportion to their counts (%zu areas without any: one point on surface)",
                 points->description, b.d->fallback_areas);
done:
    free(where);
    free(sum);
    free(acc);
    free(have);
    free(left);
    if (rc != KZ_OK) {
        kz_demand_free(b.d);
        return rc;
    }
    *out = b.d;
    return KZ_OK;
}
