/*
 * Pearson and Spearman correlation matrices (correlate.h).
 */
#include "kiez/correlate.h"
#include "ctx_internal.h"
#include "distributions.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ranked {
    double v;
    size_t at;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Ranks 1..m of v[0..m-1] into r; ties get the average of their ranks
 * (R rank(ties.method = "average")). `tmp` has room for m entries. */
static void average_ranks(double *r, const double *v, size_t m, ranked *tmp)
{
    size_t i = 0, j;
    for (j = 0; j < m; j++) {
        tmp[j].v = v[j];
        tmp[j].at = j;
    }
    qsort(tmp, m, sizeof(ranked), cmp_ranked);
    while (i < m) {
        double avg;
        j = i;
        while (j + 1 < m && tmp[j + 1].v == tmp[i].v)
            j++;
        /* positions i..j (0-based) share ranks i+1..j+1 */
        avg = ((double)(i + 1) + (double)(j + 1)) / 2.0;
        for (; i <= j; i++)
            r[tmp[i].at] = avg;
    }
}

/* Pearson r of a and b (m values), two-pass with centred sums. */
static double pearson(const double *a, const double *b, size_t m)
{
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    size_t i;
    for (i = 0; i < m; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)m;
    mb /= (double)m;
    /* r = sum (a - ma)(b - mb) / sqrt(sum (a - ma)^2 sum (b - mb)^2) */
    for (i = 0; i < m; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (!(saa > 0) || !(sbb > 0))
        return NAN;
    return sab / sqrt(saa * sbb);
}

int kz_correlate_matrix(double *out_r, double *out_p, size_t *out_n, kz_ctx *ctx,
                        const double *const *columns, size_t k, size_t n, int method)
{
    double *a = NULL, *b = NULL, *ra = NULL, *rb = NULL;
    ranked *tmp = NULL;
    size_t u, v, i;
    int rc = KZ_OK;

    if (method != KZ_CORR_PEARSON && method != KZ_CORR_SPEARMAN)
        return kz_ctx__error(ctx, KZ_E_USAGE, "unknown correlation method %d", method);
    if (k == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "no variables to correlate");
    for (v = 0; v < k; v++)
        for (i = 0; i < n; i++)
            if (isinf(columns[v][i]))
                return kz_ctx__error(ctx, KZ_E_INPUT, "variable %zu, area %zu: infinite value", v,
                                     i);
    a = malloc((n ? n : 1) * sizeof(double));
    b = malloc((n ? n : 1) * sizeof(double));
    ra = malloc((n ? n : 1) * sizeof(double));
    rb = malloc((n ? n : 1) * sizeof(double));
    tmp = malloc((n ? n : 1) * sizeof(ranked));
    if (!a || !b || !ra || !rb || !tmp) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (v = 0; v < k; v++) {
        for (u = v; u < k; u++) {
            size_t m = 0;
            double r, p;
            for (i = 0; i < n; i++) {
                if (isnan(columns[v][i]) || isnan(columns[u][i]))
                    continue;
                a[m] = columns[v][i];
                b[m] = columns[u][i];
                m++;
            }
            if (m < 3) {
                r = NAN;
            } else if (method == KZ_CORR_SPEARMAN) {
                /* Spearman's rho = Pearson r of the average ranks. */
                average_ranks(ra, a, m, tmp);
                average_ranks(rb, b, m, tmp);
                r = pearson(ra, rb, m);
            } else {
                r = pearson(a, b, m);
            }
            if (!isnan(r)) {
                if (r > 1.0)
                    r = 1.0;
                if (r < -1.0)
                    r = -1.0;
            }
            if (u == v && !isnan(r))
                r = 1.0;
            /* t = r sqrt((m - 2) / (1 - r^2)), Student t with m - 2 df,
             * two-sided (R cor.test). |r| = 1 gives p = 0. */
            if (isnan(r))
                p = NAN;
            else if (fabs(r) >= 1.0)
                p = 0.0;
            else
                p = kz_dist__t_p2(r * sqrt((double)(m - 2) / (1.0 - r * r)), (double)(m - 2));
            out_r[v * k + u] = out_r[u * k + v] = r;
            if (out_p)
                out_p[v * k + u] = out_p[u * k + v] = p;
            if (out_n)
                out_n[v * k + u] = out_n[u * k + v] = m;
        }
    }
done:
    free(a);
    free(b);
    free(ra);
    free(rb);
    free(tmp);
    return rc;
}
