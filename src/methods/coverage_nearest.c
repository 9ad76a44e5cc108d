/*
 * Nearest facility: kz_coverage_nearest(), and the uniform point grid that
 * the nearest and 2SFCA kernels share.
 *
 * The search visits grid rings around the demand point's cell and stops
 * when the best distance found is no larger than the distance to any cell
 * not yet visited (exact: it compares squared distances computed the same
 * way for every candidate, ties to the smaller facility index).
 */
#include "coverage_internal.h"
#include "ctx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- point grid ------------------------------------------------------- */

void kz_pgrid__dispose(kz_pgrid *g)
{
    free(g->start);
    free(g->idx);
    g->start = NULL;
    g->idx = NULL;
}

long kz_pgrid__col(const kz_pgrid *g, double x)
{
    double c = floor((x - g->x0) / g->cell);
    if (!(c >= 0))
        return 0;
    if (c > (double)(g->nx - 1))
        return g->nx - 1;
    return (long)c;
}

long kz_pgrid__row(const kz_pgrid *g, double y)
{
    double c = floor((y - g->y0) / g->cell);
    if (!(c >= 0))
        return 0;
    if (c > (double)(g->ny - 1))
        return g->ny - 1;
    return (long)c;
}

int kz_pgrid__build(kz_pgrid *g, const double *x, const double *y, const unsigned char *skip,
                    size_t n, double cell)
{
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY, w, h;
    size_t i, used = 0, cells, *fill;

    memset(g, 0, sizeof(*g));
    g->x = x;
    g->y = y;
    g->n = n;
    for (i = 0; i < n; i++) {
        if ((skip && skip[i]) || !isfinite(x[i]) || !isfinite(y[i]))
            continue;
        minx = fmin(minx, x[i]);
        maxx = fmax(maxx, x[i]);
        miny = fmin(miny, y[i]);
        maxy = fmax(maxy, y[i]);
        used++;
    }
    if (used == 0) {
        minx = miny = 0;
        maxx = maxy = 1;
    }
    w = maxx - minx;
    h = maxy - miny;
    if (!(cell > 0)) {
        /* About two points per cell. */
        cell = sqrt((w > 0 ? w : 1) * (h > 0 ? h : 1) / ((double)used / 2.0 + 1.0));
        if (!(cell > 0))
            cell = 1;
    }
    /* Cap the grid at about 2048 x 2048 cells. */
    if (w / cell > 2047)
        cell = w / 2047;
    if (h / cell > 2047)
        cell = h / 2047;
    g->cell = cell;
    g->x0 = minx;
    g->y0 = miny;
    g->nx = (long)(w / cell) + 1;
    g->ny = (long)(h / cell) + 1;
    cells = (size_t)(g->nx * g->ny);
    g->start = calloc(cells + 1, sizeof(size_t));
    g->idx = malloc((used ? used : 1) * sizeof(size_t));
    fill = malloc(cells * sizeof(size_t));
    if (g->start == NULL || g->idx == NULL || fill == NULL) {
        free(fill);
        kz_pgrid__dispose(g);
        return KZ_E_NOMEM;
    }
    for (i = 0; i < n; i++) {
        if ((skip && skip[i]) || !isfinite(x[i]) || !isfinite(y[i]))
            continue;
        g->start[kz_pgrid__row(g, y[i]) * g->nx + kz_pgrid__col(g, x[i]) + 1]++;
    }
    for (i = 0; i < cells; i++)
        g->start[i + 1] += g->start[i];
    memcpy(fill, g->start, cells * sizeof(size_t));
    for (i = 0; i < n; i++) {
        if ((skip && skip[i]) || !isfinite(x[i]) || !isfinite(y[i]))
            continue;
        g->idx[fill[kz_pgrid__row(g, y[i]) * g->nx + kz_pgrid__col(g, x[i])]++] = i;
    }
    free(fill);
    return KZ_OK;
}

/* ---- nearest ---------------------------------------------------------- */

typedef struct nearest_job {
    const kz_pgrid *g;
    const kz_point_set *demand;
    size_t n_fac;
    double *dist;
    long long *fac;
} nearest_job;

/* Scan one cell for a better facility. */
static void scan_cell(const kz_pgrid *g, long cx, long cy, double px, double py, double *best,
                      long long *best_j)
{
    size_t k, c = (size_t)(cy * g->nx + cx), end = g->start[c + 1];
    for (k = g->start[c]; k < end; k++) {
        size_t j = g->idx[k];
        double dx = g->x[j] - px, dy = g->y[j] - py, d = dx * dx + dy * dy;
        if (d < *best || (d == *best && (long long)j < *best_j)) {
            *best = d;
            *best_j = (long long)j;
        }
    }
}

static void nearest_range(size_t begin, size_t end, int thread, void *arg)
{
    nearest_job *job = arg;
    const kz_pgrid *g = job->g;
    size_t i;
    (void)thread;
    for (i = begin; i < end; i++) {
        double px = job->demand->x[i], py = job->demand->y[i];
        double best = INFINITY;
        long long best_j = -1;
        long cx, cy, r, rmax;
        job->dist[i] = INFINITY;
        job->fac[i] = -1;
        if (!isfinite(px) || !isfinite(py) || g->start[g->nx * g->ny] == 0)
            continue;
        cx = kz_pgrid__col(g, px);
        cy = kz_pgrid__row(g, py);
        rmax = g->nx > g->ny ? g->nx : g->ny;
        for (r = 0; r <= rmax; r++) {
            long x0 = cx - r, x1 = cx + r, y0 = cy - r, y1 = cy + r, x, y;
            double lb = INFINITY, d;
            int more = 0;
            /* the ring of cells at Chebyshev distance r, clipped to the grid */
            for (y = y0 < 0 ? 0 : y0; y <= (y1 < g->ny ? y1 : g->ny - 1); y++) {
                if (y == y0 || y == y1) {
                    for (x = x0 < 0 ? 0 : x0; x <= (x1 < g->nx ? x1 : g->nx - 1); x++)
                        scan_cell(g, x, y, px, py, &best, &best_j);
                } else {
                    if (x0 >= 0)
                        scan_cell(g, x0, y, px, py, &best, &best_j);
                    if (x1 < g->nx && x1 != x0)
                        scan_cell(g, x1, y, px, py, &best, &best_j);
                }
            }
            /* Lower bound of the distance to any cell outside the ring
             * block that still exists in the grid. */
            if (x0 > 0) {
                d = px - (g->x0 + (double)x0 * g->cell);
                lb = fmin(lb, d);
                more = 1;
            }
            if (x1 < g->nx - 1) {
                d = (g->x0 + (double)(x1 + 1) * g->cell) - px;
                lb = fmin(lb, d);
                more = 1;
            }
            if (y0 > 0) {
                d = py - (g->y0 + (double)y0 * g->cell);
                lb = fmin(lb, d);
                more = 1;
            }
            if (y1 < g->ny - 1) {
                d = (g->y0 + (double)(y1 + 1) * g->cell) - py;
                lb = fmin(lb, d);
                more = 1;
            }
            if (!more)
                break;
            /* Strictly below the bound: a tie beyond it could have a smaller
             * index, so go on when equal. The bound is shrunk by a relative
             * 1e-9 to stay safe against rounding of the cell edges. */
            lb = lb > 0 ? lb * (1 - 1e-9) : 0;
            if (best_j >= 0 && best < lb * lb)
                break;
        }
        job->dist[i] = best_j >= 0 ? sqrt(best) : INFINITY;
        job->fac[i] = best_j;
    }
}

void kz_nearest_free(kz_nearest *nearest)
{
    if (nearest == NULL)
        return;
    free(nearest->distance);
    free(nearest->facility);
    free(nearest->area_weight);
    free(nearest->area_mean);
    free(nearest->area_within);
    free(nearest);
}

int kz_coverage_nearest(kz_nearest **out, kz_ctx *ctx, const kz_point_set *demand,
                        const kz_point_set *facilities, const kz_nearest_options *opts)
{
    kz_nearest *res = NULL;
    unsigned char *skip = NULL;
    kz_pgrid g;
    nearest_job job;
    size_t i, na = opts->demand_area ? opts->n_areas : 0;
    double sum_w = 0, sum_wd = 0, sum_win = 0, *sum_ad = NULL, *sum_ain = NULL;
    int rc = KZ_OK;

    *out = NULL;
    memset(&g, 0, sizeof(g));
    if (opts->within < 0 || opts->within != opts->within)
        return kz_ctx__error(ctx, KZ_E_USAGE, "the radius must be a positive distance");
    if (opts->category >= 0 && facilities->category == NULL)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "a facility category was asked for, but the facilities have none");
    res = calloc(1, sizeof(*res));
    if (res == NULL)
        goto nomem;
    res->n_demand = demand->n;
    res->n_areas = na;
    res->distance = malloc((demand->n ? demand->n : 1) * sizeof(double));
    res->facility = malloc((demand->n ? demand->n : 1) * sizeof(long long));
    res->area_weight = calloc(na ? na : 1, sizeof(double));
    res->area_mean = calloc(na ? na : 1, sizeof(double));
    res->area_within = calloc(na ? na : 1, sizeof(double));
    sum_ad = calloc(na ? na : 1, sizeof(double));
    sum_ain = calloc(na ? na : 1, sizeof(double));
    if (!res->distance || !res->facility || !res->area_weight || !res->area_mean ||
        !res->area_within || !sum_ad || !sum_ain)
        goto nomem;
    if (opts->category >= 0) {
        skip = malloc(facilities->n ? facilities->n : 1);
        if (skip == NULL)
            goto nomem;
        for (i = 0; i < facilities->n; i++)
            skip[i] = facilities->category[i] != opts->category;
    }
    if (kz_pgrid__build(&g, facilities->x, facilities->y, skip, facilities->n, 0) != KZ_OK)
        goto nomem;
    job.g = &g;
    job.demand = demand;
    job.n_fac = facilities->n;
    job.dist = res->distance;
    job.fac = res->facility;
    kz_coverage__parallel(kz_coverage__threads(opts->threads, demand->n, 4096), demand->n, 2048,
                          nearest_range, &job);

    /* Weighted aggregates, in point order (deterministic):
     * mean = Σ P_i d_i / Σ P_i; share = Σ_{d_i <= R} P_i / Σ P_i. */
    for (i = 0; i < demand->n; i++) {
        double w = demand->weight ? demand->weight[i] : 1.0, d = res->distance[i];
        int in = opts->within > 0 && d <= opts->within;
        int a = na ? opts->demand_area[i] : -1;
        double wd = w != 0 ? w * d : 0; /* 0 * INFINITY would be NaN */
        sum_w += w;
        sum_wd += wd;
        sum_win += in ? w : 0;
        if (a >= 0 && (size_t)a < na) {
            res->area_weight[a] += w;
            sum_ad[a] += wd;
            sum_ain[a] += in ? w : 0;
        }
    }
    res->total_weight = sum_w;
    res->mean = sum_w > 0 ? sum_wd / sum_w : NAN;
    res->within_share = sum_w > 0 && opts->within > 0 ? sum_win / sum_w : NAN;
    for (i = 0; i < na; i++) {
        double w = res->area_weight[i];
        res->area_mean[i] = w > 0 ? sum_ad[i] / w : NAN;
        res->area_within[i] = w > 0 && opts->within > 0 ? sum_ain[i] / w : NAN;
    }
    *out = res;
    res = NULL;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing nearest distances");
done:
    kz_pgrid__dispose(&g);
    free(skip);
    free(sum_ad);
    free(sum_ain);
    kz_nearest_free(res);
    return rc;
}
