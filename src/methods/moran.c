/*
 * Moran's I (moran.h): global, local, bivariate, empirical Bayes rates.
 * Permutation tests run on worker threads (pthreads); each permutation
 * (global) or area (local) has its own random stream, so results depend
 * on the seed only, never on the thread count.
 */
#include "kiez/moran.h"
#include "ctx_internal.h"
#include "distributions.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PERMUTATIONS 1000000L
#define MAX_THREADS 8
#define BLOCK 64 /* areas / permutations handed to a thread at a time */

void kz_moran_options_init(kz_moran_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->permutations = 999;
    opts->seed = 12345;
    opts->threads = 0;
    opts->alpha = 0.05;
    opts->fdr = 0;
}

/* ---- random numbers ----------------------------------------------------- */

/* splitmix64 (Steele, Lea & Flood 2014) seeds xoshiro256** (Blackman &
 * Vigna 2018, prng.di.unimi.it). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *state)
{
    return mix64(*state += 0x9e3779b97f4a7c15ULL);
}

typedef struct rng {
    uint64_t s[4];
} rng;

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = mix64(seed + 0x9e3779b97f4a7c15ULL) ^ mix64(stream * 0xd1b54a32d192ed03ULL + 1);
    int k;
    for (k = 0; k < 4; k++)
        r->s[k] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform integer in [0, m), m >= 1, without modulo bias (rejection). */
static size_t rng_below(rng *r, size_t m)
{
    uint64_t mm = (uint64_t)m, threshold = (0 - mm) % mm, x;
    do
        x = rng_next(r);
    while (x < threshold);
    return (size_t)(x % mm);
}

/* ---- threads ------------------------------------------------------------- */

typedef void (*work_fn)(void *job, int t, int nthreads);

typedef struct thread_arg {
    work_fn fn;
    void *job;
    int t, nthreads;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    a->fn(a->job, a->t, a->nthreads);
    return NULL;
}

static int thread_count(const kz_moran_options *opts, size_t items)
{
    long t = opts->threads;
    if (t <= 0) {
        t = sysconf(_SC_NPROCESSORS_ONLN);
        if (t < 1)
            t = 1;
    }
    if (t > MAX_THREADS)
        t = MAX_THREADS;
    if ((size_t)t > items / BLOCK + 1)
        t = (long)(items / BLOCK + 1);
    return (int)t;
}

/* Run fn(job, t, T) for t = 0..T-1, on T - 1 extra threads and this one. */
static int run_parallel(kz_ctx *ctx, work_fn fn, void *job, int nthreads)
{
    pthread_t tid[MAX_THREADS];
    thread_arg args[MAX_THREADS];
    int t, started = 0, rc = KZ_OK;
    for (t = 0; t < nthreads; t++) {
        args[t].fn = fn;
        args[t].job = job;
        args[t].t = t;
        args[t].nthreads = nthreads;
    }
    for (t = 1; t < nthreads; t++) {
        if (pthread_create(&tid[t], NULL, thread_main, &args[t]) != 0)
            break;
        started++;
    }
    fn(job, 0, nthreads);
    /* Threads that could not start: do their share here. */
    for (t = started + 1; t < nthreads; t++)
        fn(job, t, nthreads);
    for (t = 1; t <= started; t++)
        if (pthread_join(tid[t], NULL) != 0)
            rc = kz_ctx__error(ctx, KZ_E_INTERNAL, "cannot join a worker thread");
    return rc;
}

/* ---- helpers -------------------------------------------------------------- */

static int check_values(kz_ctx *ctx, const double *x, size_t n, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return kz_ctx__error(ctx, KZ_E_INPUT, "%s of area %zu is not a finite number", what, i);
    return KZ_OK;
}

static int check_options(kz_ctx *ctx, const kz_moran_options *opts)
{
    if (opts->permutations < 0 || opts->permutations > MAX_PERMUTATIONS)
        return kz_ctx__error(ctx, KZ_E_USAGE, "permutations must be between 0 and %ld (got %ld)",
                             MAX_PERMUTATIONS, opts->permutations);
    if (!(opts->alpha > 0 && opts->alpha < 1))
        return kz_ctx__error(ctx, KZ_E_USAGE, "alpha must be between 0 and 1 (got %g)",
                             opts->alpha);
    return KZ_OK;
}

static double mean_of(const double *x, size_t n)
{
    double s = 0.0;
    size_t i;
    for (i = 0; i < n; i++)
        s += x[i];
    return s / (double)n;
}

/* Spatial lag (W v)_i; islands get 0 (spdep zero.policy = TRUE). */
static double lag_at(const kz_weights *w, const double *v, size_t i)
{
    const size_t *ids;
    const double *wt;
    size_t k = kz_weights_neighbours(w, i, &ids, &wt), e;
    double s = 0.0;
    for (e = 0; e < k; e++)
        s += wt[e] * v[ids[e]];
    return s;
}

/* Weight w_ji, 0 when j has no link to i (binary search; rows ascending). */
static int find_weight(const kz_weights *w, size_t j, size_t i, double *wji)
{
    const size_t *ids;
    const double *wt;
    size_t lo = 0, hi = kz_weights_neighbours(w, j, &ids, &wt);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] == i) {
            *wji = wt[mid];
            return 1;
        }
        if (ids[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    *wji = 0.0;
    return 0;
}

/*
 * Weights constants (Cliff & Ord 1981, Spatial Processes, p. 19-21; spdep
 * spweights.constants):
 *   S0 = sum_i sum_j w_ij
 *   S1 = 1/2 sum_i sum_j (w_ij + w_ji)^2
 *   S2 = sum_i (w_i. + w_.i)^2   (row sum plus column sum)
 */
static int constants(double *s0, double *s1, double *s2, kz_ctx *ctx, const kz_weights *w)
{
    size_t n = kz_weights_n(w), i, e;
    double *col = calloc(n ? n : 1, sizeof(double)), *row = calloc(n ? n : 1, sizeof(double));
    if (col == NULL || row == NULL) {
        free(col);
        free(row);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    }
    *s0 = *s1 = *s2 = 0.0;
    for (i = 0; i < n; i++) {
        const size_t *ids;
        const double *wt;
        size_t k = kz_weights_neighbours(w, i, &ids, &wt);
        for (e = 0; e < k; e++) {
            double wji, a = wt[e];
            row[i] += a;
            col[ids[e]] += a;
            /* Each ordered pair (i,j) with a link both ways is visited from
             * both sides: half of (w_ij + w_ji)^2 each time; a one-way link
             * once: the whole (w_ij + 0)^2 (the 1/2 and the two ordered
             * pairs (i,j), (j,i) of the definition cancel). */
            if (find_weight(w, ids[e], i, &wji))
                *s1 += 0.5 * (a + wji) * (a + wji);
            else
                *s1 += a * a;
        }
    }
    for (i = 0; i < n; i++) {
        *s0 += row[i];
        *s2 += (row[i] + col[i]) * (row[i] + col[i]);
    }
    free(col);
    free(row);
    return KZ_OK;
}

/* Folded pseudo p-value (esda): M = #(sim >= obs), folded to R - M when
 * smaller; p = (M + 1) / (R + 1) (Hope 1968; esda Moran.p_sim). */
static double folded_p(long larger, long r)
{
    if (r - larger < larger)
        larger = r - larger;
    return (double)(larger + 1) / (double)(r + 1);
}

/* ---- global permutations ------------------------------------------------- */

typedef struct global_job {
    const kz_weights *w;
    size_t n;
    const double *perm;  /* values permuted */
    const double *fixed; /* left-hand values; NULL = the permuted ones */
    double scale;        /* I = scale * sum_i a_i (W b)_i */
    uint64_t seed;
    long r;
    double *sims;
    int failed;
} global_job;

static void global_work(void *p, int t, int nthreads)
{
    global_job *job = p;
    double *buf = malloc((job->n ? job->n : 1) * sizeof(double));
    long b, r;
    if (buf == NULL) {
        job->failed = 1;
        return;
    }
    for (b = (long)t * BLOCK; b < job->r; b += (long)nthreads * BLOCK) {
        for (r = b; r < b + BLOCK && r < job->r; r++) {
            rng g;
            size_t i;
            double s = 0.0;
            rng_seed(&g, job->seed, (uint64_t)r);
            memcpy(buf, job->perm, job->n * sizeof(double));
            /* Fisher-Yates shuffle (Knuth, TAOCP 2, Algorithm P). */
            for (i = job->n - 1; i > 0; i--) {
                size_t j = rng_below(&g, i + 1);
                double tmp = buf[i];
                buf[i] = buf[j];
                buf[j] = tmp;
            }
            for (i = 0; i < job->n; i++)
                s += (job->fixed ? job->fixed[i] : buf[i]) * lag_at(job->w, buf, i);
            job->sims[r] = job->scale * s;
        }
    }
    free(buf);
}

/* Permutation inference for a global statistic `obs`. */
static int global_permutations(kz_moran_result *out, kz_ctx *ctx, const kz_weights *w,
                               const double *perm, const double *fixed, double scale, double obs,
                               const kz_moran_options *opts)
{
    global_job job;
    long r, larger = 0;
    double sum = 0.0, ss = 0.0;
    int rc;

    out->permutations = opts->permutations;
    if (opts->permutations == 0)
        return KZ_OK;
    memset(&job, 0, sizeof(job));
    job.w = w;
    job.n = kz_weights_n(w);
    job.perm = perm;
    job.fixed = fixed;
    job.scale = scale;
    job.seed = opts->seed;
    job.r = opts->permutations;
    job.sims = malloc((size_t)job.r * sizeof(double));
    if (job.sims == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    rc = run_parallel(ctx, global_work, &job, thread_count(opts, (size_t)job.r));
    if (rc == KZ_OK && job.failed)
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if (rc == KZ_OK) {
        for (r = 0; r < job.r; r++) {
            sum += job.sims[r];
            if (job.sims[r] >= obs)
                larger++;
        }
        out->mean_sim = sum / (double)job.r;
        for (r = 0; r < job.r; r++)
            ss += (job.sims[r] - out->mean_sim) * (job.sims[r] - out->mean_sim);
        out->sd_sim = sqrt(ss / (double)job.r);
        out->z_sim = (obs - out->mean_sim) / out->sd_sim;
        out->p_sim = folded_p(larger, job.r);
    }
    free(job.sims);
    return rc;
}

static void result_init(kz_moran_result *out, const kz_weights *w)
{
    memset(out, 0, sizeof(*out));
    out->n = kz_weights_n(w);
    out->n_islands = kz_weights_islands(w, NULL);
    out->n_used = out->n - out->n_islands;
    out->s0 = out->s1 = out->s2 = NAN;
    out->i = out->expected = NAN;
    out->var_norm = out->z_norm = out->p_norm = NAN;
    out->var_rand = out->z_rand = out->p_rand = NAN;
    out->p_sim = out->mean_sim = out->sd_sim = out->z_sim = NAN;
}

int kz_moran_global(kz_moran_result *out, kz_ctx *ctx, const kz_weights *w, const double *x,
                    const kz_moran_options *opts)
{
    size_t n = kz_weights_n(w), i;
    double *z = NULL, mean, zz = 0.0, z4 = 0.0, cross = 0.0, nu, s02, b2, ei;
    int rc;

    result_init(out, w);
    if ((rc = check_options(ctx, opts)) != KZ_OK || (rc = check_values(ctx, x, n, "the value")))
        return rc;
    if (out->n_used < 3)
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "Moran's I needs at least 3 areas with neighbours (have %zu of %zu)",
                             out->n_used, n);
    if ((rc = constants(&out->s0, &out->s1, &out->s2, ctx, w)) != KZ_OK)
        return rc;
    if (!(out->s0 != 0.0))
        return kz_ctx__error(ctx, KZ_E_INPUT, "the weights sum to zero");
    if ((z = malloc(n * sizeof(double))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    /* z_i = x_i - mean(x) over all n areas, islands included (spdep moran). */
    mean = mean_of(x, n);
    for (i = 0; i < n; i++) {
        z[i] = x[i] - mean;
        zz += z[i] * z[i];
        z4 += z[i] * z[i] * z[i] * z[i];
    }
    if (!(zz > 0.0)) {
        free(z);
        return kz_ctx__error(ctx, KZ_E_INPUT, "the values are all equal: Moran's I is undefined");
    }
    for (i = 0; i < n; i++)
        cross += z[i] * lag_at(w, z, i);

    /* I = (n / S0) * sum_i z_i (W z)_i / sum_i z_i^2 (Moran 1950; Cliff &
     * Ord 1981 eq. 1.32), n = areas with neighbours (spdep adjust.n). */
    nu = (double)out->n_used;
    out->i = (nu / out->s0) * cross / zz;
    /* E[I] = -1 / (n - 1) (Cliff & Ord 1981 eq. 1.34). */
    ei = out->expected = -1.0 / (nu - 1.0);
    s02 = out->s0 * out->s0;
    /* Normality (Cliff & Ord 1981 eq. 1.35; spdep moran.test):
     *   Var[I] = (n^2 S1 - n S2 + 3 S0^2) / (S0^2 (n^2 - 1)) - E[I]^2 */
    out->var_norm =
        (nu * nu * out->s1 - nu * out->s2 + 3.0 * s02) / (s02 * (nu * nu - 1.0)) - ei * ei;
    out->z_norm = (out->i - ei) / sqrt(out->var_norm);
    out->p_norm = kz_dist__normal_p2(out->z_norm);
    /* Randomisation (Cliff & Ord 1981 eq. 1.36; spdep moran.test), with the
     * kurtosis b2 = N sum z^4 / (sum z^2)^2 over all N areas:
     *   Var[I] = [n((n^2 - 3n + 3) S1 - n S2 + 3 S0^2)
     *             - b2((n^2 - n) S1 - 2n S2 + 6 S0^2)]
     *            / ((n-1)(n-2)(n-3) S0^2) - E[I]^2 */
    b2 = (double)n * z4 / (zz * zz);
    if (out->n_used > 3) {
        double num = nu * ((nu * nu - 3.0 * nu + 3.0) * out->s1 - nu * out->s2 + 3.0 * s02) -
                     b2 * ((nu * nu - nu) * out->s1 - 2.0 * nu * out->s2 + 6.0 * s02);
        out->var_rand = num / ((nu - 1.0) * (nu - 2.0) * (nu - 3.0) * s02) - ei * ei;
        out->z_rand = (out->i - ei) / sqrt(out->var_rand);
        out->p_rand = kz_dist__normal_p2(out->z_rand);
    }
    rc = global_permutations(out, ctx, w, z, NULL, (nu / out->s0) / zz, out->i, opts);
    free(z);
    return rc;
}

/* Standardise: (v - mean) / sd with divisor n - 1 (R scale(), esda ddof=1). */
static int standardise(double *out, kz_ctx *ctx, const double *v, size_t n, const char *what)
{
    double mean = mean_of(v, n), ss = 0.0, sd;
    size_t i;
    for (i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    sd = sqrt(ss / (double)(n - 1));
    if (!(sd > 0.0))
        return kz_ctx__error(ctx, KZ_E_INPUT, "the values of %s are all equal", what);
    for (i = 0; i < n; i++)
        out[i] = (v[i] - mean) / sd;
    return KZ_OK;
}

int kz_moran_bivariate(kz_moran_result *out, kz_ctx *ctx, const kz_weights *w, const double *x,
                       const double *y, const kz_moran_options *opts)
{
    size_t n = kz_weights_n(w), i;
    double *zx = NULL, *zy = NULL, s = 0.0;
    int rc;

    result_init(out, w);
    if ((rc = check_options(ctx, opts)) != KZ_OK || (rc = check_values(ctx, x, n, "x")) ||
        (rc = check_values(ctx, y, n, "y")))
        return rc;
    if (n < 3)
        return kz_ctx__error(ctx, KZ_E_INPUT, "bivariate Moran's I needs at least 3 areas");
    zx = malloc(n * sizeof(double));
    zy = malloc(n * sizeof(double));
    if (zx == NULL || zy == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = standardise(zx, ctx, x, n, "x")) != KZ_OK ||
        (rc = standardise(zy, ctx, y, n, "y")) != KZ_OK)
        goto done;
    /* I_xy = sum_i zx_i (W zy)_i / sum_i zx_i^2, and sum zx^2 = n - 1
     * (Wartenberg 1985; esda Moran_BV; spdep moran_bv). */
    for (i = 0; i < n; i++)
        s += zx[i] * lag_at(w, zy, i);
    out->i = s / (double)(n - 1);
    rc = global_permutations(out, ctx, w, zy, zx, 1.0 / (double)(n - 1), out->i, opts);
done:
    free(zx);
    free(zy);
    return rc;
}

int kz_moran_eb_rates(double *out_z, kz_ctx *ctx, const double *events, const double *base,
                      size_t n)
{
    double esum = 0.0, bsum = 0.0, beta, s2 = 0.0, alpha;
    size_t i;
    int rc;
    if ((rc = check_values(ctx, events, n, "the event count")) != KZ_OK ||
        (rc = check_values(ctx, base, n, "the population at risk")) != KZ_OK)
        return rc;
    if (n == 0)
        return kz_ctx__error(ctx, KZ_E_INPUT, "no areas");
    for (i = 0; i < n; i++) {
        if (!(base[i] > 0))
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "the population at risk of area %zu is not positive", i);
        if (events[i] < 0)
            return kz_ctx__error(ctx, KZ_E_INPUT, "the event count of area %zu is negative", i);
        esum += events[i];
        bsum += base[i];
    }
    if (!(esum > 0))
        return kz_ctx__error(ctx, KZ_E_INPUT, "there are no events: the rates are all zero");
    /* Assunção & Reis (1999), Stat. Med. 18, 2147-2162, method-of-moments
     * estimates as spdep EBest(family = "poisson"):
     *   beta = sum e / sum b;  s2 = sum b_i (p_i - beta)^2 / sum b
     *   alpha = s2 - beta / (sum b / n), clipped at 0
     *   z_i = (p_i - beta) / sqrt(alpha + beta / b_i) */
    beta = esum / bsum;
    for (i = 0; i < n; i++) {
        double p = events[i] / base[i];
        s2 += base[i] * ((p - beta) * (p - beta) / bsum);
    }
    alpha = s2 - beta / (bsum / (double)n);
    if (alpha < 0)
        alpha = 0;
    for (i = 0; i < n; i++) {
        double p = events[i] / base[i], v = alpha + beta / base[i];
        out_z[i] = (p - beta) / sqrt(v);
    }
    return KZ_OK;
}

int kz_moran_rate(kz_moran_result *out, double *out_z, kz_ctx *ctx, const kz_weights *w,
                  const double *events, const double *base, const kz_moran_options *opts)
{
    size_t n = kz_weights_n(w);
    double *z = out_z ? out_z : malloc((n ? n : 1) * sizeof(double));
    int rc;
    result_init(out, w);
    if (z == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if ((rc = kz_moran_eb_rates(z, ctx, events, base, n)) == KZ_OK)
        rc = kz_moran_global(out, ctx, w, z, opts);
    if (z != out_z)
        free(z);
    return rc;
}

/* ---- local ------------------------------------------------------------------- */

void kz_moran_local_free(kz_lisa *lisa)
{
    if (lisa == NULL)
        return;
    free(lisa->i);
    free(lisa->expected);
    free(lisa->variance);
    free(lisa->z);
    free(lisa->p_norm);
    free(lisa->p_sim);
    free(lisa->lag);
    free(lisa->cluster);
    free(lisa);
}

const char *kz_moran_class_name(int cls)
{
    static const char *const names[] = {"ns", "HH", "LH", "LL", "HL"};
    return cls >= 0 && cls <= 4 ? names[cls] : "ns";
}

static kz_lisa *lisa_new(size_t n, int with_sim)
{
    kz_lisa *l = calloc(1, sizeof(*l));
    size_t m = n ? n : 1;
    if (l == NULL)
        return NULL;
    l->n = n;
    l->i = malloc(m * sizeof(double));
    l->expected = malloc(m * sizeof(double));
    l->variance = malloc(m * sizeof(double));
    l->z = malloc(m * sizeof(double));
    l->p_norm = malloc(m * sizeof(double));
    l->lag = malloc(m * sizeof(double));
    l->cluster = calloc(m, sizeof(int));
    if (with_sim)
        l->p_sim = malloc(m * sizeof(double));
    if (!l->i || !l->expected || !l->variance || !l->z || !l->p_norm || !l->lag || !l->cluster ||
        (with_sim && !l->p_sim)) {
        kz_moran_local_free(l);
        return NULL;
    }
    return l;
}

typedef struct local_job {
    const kz_weights *w;
    size_t n;
    const double *draw; /* the values drawn for the neighbours */
    const double *fac;  /* I_i = fac_i * lag_i */
    const double *obs;  /* observed I_i */
    uint64_t seed;
    long r;
    double *p_sim;
    int failed;
} local_job;

/* Conditional permutation (Anselin 1995, section 4; esda crand): for area
 * i keep its value and draw |N(i)| values without replacement from the
 * other n - 1 areas, R times. A partial Fisher-Yates shuffle over an index
 * array whose swaps are undone after each draw keeps the array in a known
 * state, so each area's draws depend on its own stream only. */
static void local_work(void *p, int t, int nthreads)
{
    local_job *job = p;
    size_t n = job->n, *idx = malloc(n * sizeof(size_t)), *rec = NULL, i, b, maxk = 0;
    for (i = 0; i < n; i++) {
        size_t k = kz_weights_neighbours(job->w, i, NULL, NULL);
        if (k > maxk)
            maxk = k;
    }
    rec = malloc((maxk ? maxk : 1) * sizeof(size_t));
    if (idx == NULL || rec == NULL) {
        job->failed = 1;
        free(idx);
        free(rec);
        return;
    }
    for (i = 0; i < n; i++)
        idx[i] = i;
    for (b = (size_t)t * BLOCK; b < n; b += (size_t)nthreads * BLOCK) {
        for (i = b; i < b + BLOCK && i < n; i++) {
            const double *wt;
            size_t k = kz_weights_neighbours(job->w, i, NULL, &wt), tmp, s;
            long r, larger = 0;
            rng g;
            if (k == 0) {
                job->p_sim[i] = NAN;
                continue;
            }
            rng_seed(&g, job->seed, (uint64_t)i);
            /* Move i out of the first n - 1 positions. */
            tmp = idx[i];
            idx[i] = idx[n - 1];
            idx[n - 1] = tmp;
            for (r = 0; r < job->r; r++) {
                double lag = 0.0;
                for (s = 0; s < k; s++) {
                    size_t u = s + rng_below(&g, n - 1 - s);
                    tmp = idx[s];
                    idx[s] = idx[u];
                    idx[u] = tmp;
                    rec[s] = u;
                    lag += wt[s] * job->draw[idx[s]];
                }
                if (job->fac[i] * lag >= job->obs[i])
                    larger++;
                for (s = k; s-- > 0;) {
                    tmp = idx[s];
                    idx[s] = idx[rec[s]];
                    idx[rec[s]] = tmp;
                }
            }
            tmp = idx[i];
            idx[i] = idx[n - 1];
            idx[n - 1] = tmp;
            job->p_sim[i] = folded_p(larger, job->r);
        }
    }
    free(idx);
    free(rec);
}

static int local_permutations(kz_lisa *l, kz_ctx *ctx, const kz_weights *w, const double *draw,
                              const double *fac, const kz_moran_options *opts)
{
    local_job job;
    int rc;
    l->permutations = opts->permutations;
    if (opts->permutations == 0)
        return KZ_OK;
    memset(&job, 0, sizeof(job));
    job.w = w;
    job.n = l->n;
    job.draw = draw;
    job.fac = fac;
    job.obs = l->i;
    job.seed = opts->seed;
    job.r = opts->permutations;
    job.p_sim = l->p_sim;
    rc = run_parallel(ctx, local_work, &job, thread_count(opts, l->n));
    if (rc == KZ_OK && job.failed)
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quadrants and significance (see kz_moran_local()). */
static int classify(kz_lisa *l, kz_ctx *ctx, const double *zv, const kz_moran_options *opts)
{
    const double *p = l->p_sim ? l->p_sim : l->p_norm;
    size_t i, m = 0;
    l->threshold = opts->alpha;
    if (opts->fdr) {
        /* Benjamini & Hochberg (1995) as esda.fdr: the largest k with
         * p_(k) < k alpha / m gives the cut k alpha / m, else alpha / m. */
        double *sorted = malloc((l->n ? l->n : 1) * sizeof(double));
        size_t k;
        if (sorted == NULL)
            return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        for (i = 0; i < l->n; i++)
            if (!isnan(p[i]))
                sorted[m++] = p[i];
        qsort(sorted, m, sizeof(double), cmp_double);
        l->threshold = m ? opts->alpha / (double)m : opts->alpha;
        for (k = m; k >= 1; k--)
            if (sorted[k - 1] < (double)k * opts->alpha / (double)m) {
                l->threshold = (double)k * opts->alpha / (double)m;
                break;
            }
        free(sorted);
    }
    memset(l->counts, 0, sizeof(l->counts));
    for (i = 0; i < l->n; i++) {
        int c = KZ_LISA_NS;
        if (!isnan(p[i]) && p[i] < l->threshold) {
            /* esda quadrants: HH 1, LH 2, LL 3, HL 4; 0 counts as low. */
            int hi = zv[i] > 0, lhi = l->lag[i] > 0;
            c = hi ? (lhi ? KZ_LISA_HH : KZ_LISA_HL) : (lhi ? KZ_LISA_LH : KZ_LISA_LL);
        }
        l->cluster[i] = c;
        l->counts[c]++;
    }
    return KZ_OK;
}

int kz_moran_local(kz_lisa **out, kz_ctx *ctx, const kz_weights *w, const double *x,
                   const kz_moran_options *opts)
{
    size_t n = kz_weights_n(w), i;
    double *z = NULL, *fac = NULL, mean, m2 = 0.0, nd = (double)n;
    kz_lisa *l = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_options(ctx, opts)) != KZ_OK || (rc = check_values(ctx, x, n, "the value")))
        return rc;
    if (n < 3)
        return kz_ctx__error(ctx, KZ_E_INPUT, "local Moran needs at least 3 areas (have %zu)", n);
    z = malloc(n * sizeof(double));
    fac = malloc(n * sizeof(double));
    l = lisa_new(n, opts->permutations > 0);
    if (z == NULL || fac == NULL || l == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    mean = mean_of(x, n);
    for (i = 0; i < n; i++) {
        z[i] = x[i] - mean;
        m2 += z[i] * z[i];
    }
    if (!(m2 > 0.0)) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "the values are all equal: local Moran is undefined");
        goto done;
    }
    /* m2 = sum z^2 / n (the ML variance: spdep localmoran mlvar = TRUE,
     * esda Moran_Local both divide by n). */
    m2 /= nd;
    for (i = 0; i < n; i++) {
        const double *wt;
        size_t k = kz_weights_neighbours(w, i, NULL, &wt), e;
        double wi = 0.0, wi2 = 0.0, zi2 = z[i] * z[i];
        for (e = 0; e < k; e++) {
            wi += wt[e];
            wi2 += wt[e] * wt[e];
        }
        l->lag[i] = lag_at(w, z, i);
        fac[i] = z[i] / m2;
        /* I_i = z_i / m2 * sum_j w_ij z_j (Anselin 1995, eq. 12). */
        l->i[i] = fac[i] * l->lag[i];
        /* Conditional moments (Sokal, Oden & Thomson 1998; spdep
         * localmoran conditional = TRUE), W_i = sum_j w_ij,
         * W_i2 = sum_j w_ij^2:
         *   E[I_i]   = -z_i^2 W_i / ((n - 1) m2)
         *   Var[I_i] = (z_i / m2)^2 n / (n - 2) (W_i2 - W_i^2 / (n - 1))
         *              (m2 - z_i^2 / (n - 1)) */
        l->expected[i] = -(zi2 * wi) / ((nd - 1.0) * m2);
        l->variance[i] = (z[i] / m2) * (z[i] / m2) * (nd / (nd - 2.0)) *
                         (wi2 - wi * wi / (nd - 1.0)) * (m2 - zi2 / (nd - 1.0));
        l->z[i] = k ? (l->i[i] - l->expected[i]) / sqrt(l->variance[i]) : NAN;
        l->p_norm[i] = kz_dist__normal_p2(l->z[i]);
    }
    if ((rc = local_permutations(l, ctx, w, z, fac, opts)) != KZ_OK)
        goto done;
    rc = classify(l, ctx, z, opts);
done:
    free(z);
    free(fac);
    if (rc == KZ_OK)
        *out = l;
    else
        kz_moran_local_free(l);
    return rc;
}

int kz_moran_local_bivariate(kz_lisa **out, kz_ctx *ctx, const kz_weights *w, const double *x,
                             const double *y, const kz_moran_options *opts)
{
    size_t n = kz_weights_n(w), i;
    double *zx = NULL, *zy = NULL;
    kz_lisa *l = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_options(ctx, opts)) != KZ_OK || (rc = check_values(ctx, x, n, "x")) ||
        (rc = check_values(ctx, y, n, "y")))
        return rc;
    if (n < 3)
        return kz_ctx__error(ctx, KZ_E_INPUT, "local Moran needs at least 3 areas (have %zu)", n);
    zx = malloc(n * sizeof(double));
    zy = malloc(n * sizeof(double));
    l = lisa_new(n, opts->permutations > 0);
    if (zx == NULL || zy == NULL || l == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = standardise(zx, ctx, x, n, "x")) != KZ_OK ||
        (rc = standardise(zy, ctx, y, n, "y")) != KZ_OK)
        goto done;
    for (i = 0; i < n; i++) {
        /* I_i = zx_i (W zy)_i (Anselin, Syabri & Smirnov 2002; spdep
         * localmoran_bv). */
        l->lag[i] = lag_at(w, zy, i);
        l->i[i] = zx[i] * l->lag[i];
        l->expected[i] = l->variance[i] = l->z[i] = l->p_norm[i] = NAN;
    }
    if ((rc = local_permutations(l, ctx, w, zy, zx, opts)) != KZ_OK)
        goto done;
    rc = classify(l, ctx, zx, opts);
done:
    free(zx);
    free(zy);
    if (rc == KZ_OK)
        *out = l;
    else
        kz_moran_local_free(l);
    return rc;
}
