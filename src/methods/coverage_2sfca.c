/*
 * Two-step floating catchment area accessibility: kz_coverage_access().
 *
 * 2SFCA after Luo, W. & Wang, F. (2003), "Measures of spatial accessibility
 * to health care in a GIS environment", Environment and Planning B 30(6);
 * E2SFCA (step distance decay by zones) after Luo, W. & Qi, Y. (2009), "An
 * enhanced two-step floating catchment area (E2SFCA) method for measuring
 * spatial accessibility to primary care physicians", Health & Place 15(4):
 *
 *   step 1, per facility j:      R_j = S_j / Σ_{k: d_kj <= d0} W(d_kj) P_k
 *   step 2, per demand point i:  A_i = Σ_{j: d_ij <= d0} W(d_ij) R_j
 *
 * W(d) = 1 for plain 2SFCA, else the weight of the zone d falls in. Both
 * steps decide "d <= limit" on the same squared distance, so the pairs of
 * step 1 and step 2 are the same, and
 *   Σ_i P_i A_i = Σ_j R_j Σ_i W(d_ij) P_i = Σ_j S_j
 * over the facilities with a positive denominator ("that reach someone").
 * A facility whose denominator is 0 gets R_j = NaN and adds nothing.
 * Step 1 runs in parallel over facilities, step 2 over demand points, each
 * output written by one thread in a fixed order: results do not depend on
 * the number of threads.
 */
#include "coverage_internal.h"
#include "ctx_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct access_job {
    const kz_pgrid *g;        /* grid over the points searched */
    const kz_point_set *from; /* points whose value is computed */
    const kz_point_set *to;   /* points found in the grid */
    const double *to_value;   /* step 1: P_k (weights); step 2: R_j */
    const kz_access_options *o;
    double *lim2; /* squared zone limits (or d0^2) */
    double *out;
    int step;
} access_job;

/* W(d) for a squared distance within d0 (zones ascending). */
static double decay(const access_job *job, double d2)
{
    size_t r;
    if (job->o->n_zones == 0)
        return 1.0;
    for (r = 0; r < job->o->n_zones; r++)
        if (d2 <= job->lim2[r])
            return job->o->zone_weight[r];
    return 0.0;
}

static void access_range(size_t begin, size_t end, int thread, void *arg)
{
    access_job *job = arg;
    const kz_pgrid *g = job->g;
    double d0 = job->o->radius;
    double d02 = job->o->n_zones ? job->lim2[job->o->n_zones - 1] : d0 * d0;
    size_t i;
    (void)thread;
    for (i = begin; i < end; i++) {
        double px = job->from->x[i], py = job->from->y[i], sum = 0;
        long cx0, cx1, cy0, cy1, cx, cy;
        if (!isfinite(px) || !isfinite(py)) {
            job->out[i] = job->step == 1 ? NAN : 0;
            continue;
        }
        cx0 = kz_pgrid__col(g, px - d0);
        cx1 = kz_pgrid__col(g, px + d0);
        cy0 = kz_pgrid__row(g, py - d0);
        cy1 = kz_pgrid__row(g, py + d0);
        for (cy = cy0; cy <= cy1; cy++) {
            for (cx = cx0; cx <= cx1; cx++) {
                size_t c = (size_t)(cy * g->nx + cx), k, kend = g->start[c + 1];
                for (k = g->start[c]; k < kend; k++) {
                    size_t j = g->idx[k];
                    double dx = g->x[j] - px, dy = g->y[j] - py, d2 = dx * dx + dy * dy, v;
                    if (d2 > d02)
                        continue;
                    v = job->to_value ? job->to_value[j] : 1.0;
                    if (job->step == 2 && v != v)
                        continue; /* facility that reaches no demand */
                    sum += decay(job, d2) * v;
                }
            }
        }
        if (job->step == 1) {
            double s = job->from->weight ? job->from->weight[i] : 1.0;
            job->out[i] = sum > 0 ? s / sum : NAN; /* R_j = S_j / Σ W P */
        } else {
            job->out[i] = sum; /* A_i = Σ W R_j */
        }
    }
}

void kz_access_free(kz_access *access)
{
    if (access == NULL)
        return;
    free(access->ratio);
    free(access->access);
    free(access->area_weight);
    free(access->area_access);
    free(access);
}

int kz_coverage_access(kz_access **out, kz_ctx *ctx, const kz_point_set *demand,
                       const kz_point_set *facilities, const kz_access_options *opts)
{
    kz_access *res = NULL;
    kz_pgrid gd, gf;
    access_job job;
    double lim2[64], *sum_a = NULL;
    size_t i, r, na = opts->demand_area ? opts->n_areas : 0;
    int rc = KZ_OK, nt;

    *out = NULL;
    memset(&gd, 0, sizeof(gd));
    memset(&gf, 0, sizeof(gf));
    if (!(opts->radius > 0) || !isfinite(opts->radius))
        return kz_ctx__error(ctx, KZ_E_USAGE, "the catchment radius must be a positive distance");
    if (opts->n_zones > 64)
        return kz_ctx__error(ctx, KZ_E_USAGE, "at most 64 distance zones");
    for (r = 0; r < opts->n_zones; r++) {
        if (!(opts->zone_limit[r] > 0) ||
            (r > 0 && !(opts->zone_limit[r] > opts->zone_limit[r - 1])))
            return kz_ctx__error(ctx, KZ_E_USAGE, "zone limits must be positive and ascending");
        if (!(opts->zone_weight[r] >= 0) || !isfinite(opts->zone_weight[r]))
            return kz_ctx__error(ctx, KZ_E_USAGE, "zone weights must be finite and >= 0");
        lim2[r] = opts->zone_limit[r] * opts->zone_limit[r];
    }
    if (opts->n_zones && opts->zone_limit[opts->n_zones - 1] != opts->radius)
        return kz_ctx__error(ctx, KZ_E_USAGE, "the last zone limit (%g) must equal the radius (%g)",
                             opts->zone_limit[opts->n_zones - 1], opts->radius);

    res = calloc(1, sizeof(*res));
    if (res == NULL)
        goto nomem;
    res->n_demand = demand->n;
    res->n_facilities = facilities->n;
    res->n_areas = na;
    res->ratio = malloc((facilities->n ? facilities->n : 1) * sizeof(double));
    res->access = malloc((demand->n ? demand->n : 1) * sizeof(double));
    res->area_weight = calloc(na ? na : 1, sizeof(double));
    res->area_access = calloc(na ? na : 1, sizeof(double));
    sum_a = calloc(na ? na : 1, sizeof(double));
    if (!res->ratio || !res->access || !res->area_weight || !res->area_access || !sum_a)
        goto nomem;
    /* Cells of half the radius: a query visits about 5 x 5 cells. */
    if (kz_pgrid__build(&gd, demand->x, demand->y, NULL, demand->n, opts->radius / 2) != KZ_OK ||
        kz_pgrid__build(&gf, facilities->x, facilities->y, NULL, facilities->n, opts->radius / 2) !=
            KZ_OK)
        goto nomem;

    job.o = opts;
    job.lim2 = lim2;
    /* step 1 */
    job.g = &gd;
    job.from = facilities;
    job.to = demand;
    job.to_value = demand->weight;
    job.out = res->ratio;
    job.step = 1;
    nt = kz_coverage__threads(opts->threads, facilities->n, 64);
    kz_coverage__parallel(nt, facilities->n, 16, access_range, &job);
    /* step 2 */
    job.g = &gf;
    job.from = demand;
    job.to = facilities;
    job.to_value = res->ratio;
    job.out = res->access;
    job.step = 2;
    nt = kz_coverage__threads(opts->threads, demand->n, 4096);
    kz_coverage__parallel(nt, demand->n, 2048, access_range, &job);

    for (i = 0; i < facilities->n; i++) {
        double s = facilities->weight ? facilities->weight[i] : 1.0;
        res->supply_total += s;
        if (res->ratio[i] == res->ratio[i])
            res->supply_reached += s;
        else
            res->unreached_facilities++;
    }
    for (i = 0; i < demand->n; i++) {
        double p = demand->weight ? demand->weight[i] : 1.0;
        int a = na ? opts->demand_area[i] : -1;
        res->weighted_access += p * res->access[i];
        if (res->access[i] == 0)
            res->unserved_demand++;
        if (a >= 0 && (size_t)a < na) {
            res->area_weight[a] += p;
            sum_a[a] += p * res->access[i];
        }
    }
    /* Area value: population-weighted mean, Σ_{i in a} P_i A_i / Σ_{i in a} P_i. */
    for (i = 0; i < na; i++)
        res->area_access[i] = res->area_weight[i] > 0 ? sum_a[i] / res->area_weight[i] : NAN;
    *out = res;
    res = NULL;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory computing accessibility");
done:
    kz_pgrid__dispose(&gd);
    kz_pgrid__dispose(&gf);
    free(sum_a);
    kz_access_free(res);
    return rc;
}
