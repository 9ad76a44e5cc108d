/*
 * Class breaks for maps and reports (see include/kiez/classify.h for the
 * contract and the exact definition of every method).
 */
#include "kiez/classify.h"

#include "ctx_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {"quantile", "equal", "stddev", "manual", "jenks"};

const char *kz_classify_method_name(int method)
{
    if (method < 0 || method >= (int)(sizeof(method_names) / sizeof(method_names[0])))
        return NULL;
    return method_names[method];
}

int kz_classify_method_parse(const char *name)
{
    int i;
    for (i = 0; i < (int)(sizeof(method_names) / sizeof(method_names[0])); i++)
        if (name && strcmp(name, method_names[i]) == 0)
            return i;
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The finite values, sorted ascending, in a new array (caller frees). */
static int sorted_finite(double **out, size_t *m, kz_ctx *ctx, const double *values, size_t n)
{
    size_t i, k = 0;
    double *s = malloc((n ? n : 1) * sizeof(*s));
    if (!s)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory classifying %zu values", n);
    for (i = 0; i < n; i++)
        if (isfinite(values[i]))
            s[k++] = values[i];
    if (k == 0) {
        free(s);
        return kz_ctx__error(ctx, KZ_E_INPUT, "classify: no finite value among %zu values", n);
    }
    qsort(s, k, sizeof(*s), cmp_double);
    *out = s;
    *m = k;
    return KZ_OK;
}

/*
 * Quantile of sorted s[0..m-1] at probability p, Hyndman & Fan (1996)
 * definition 7: h = (m-1) p, Q(p) = s[⌊h⌋] + (h - ⌊h⌋)(s[⌊h⌋+1] - s[⌊h⌋]).
 */
static double quantile7(const double *s, size_t m, double p)
{
    double h = (double)(m - 1) * p;
    size_t lo = (size_t)floor(h);
    double frac = h - (double)lo;
    if (lo + 1 >= m)
        return s[m - 1];
    return s[lo] + frac * (s[lo + 1] - s[lo]);
}

/* Merge equal neighbouring breaks in place; returns the new class count. */
static int merge_equal(double *b, int k)
{
    int i, w = 0;
    for (i = 1; i <= k; i++)
        if (b[i] > b[w])
            b[++w] = b[i];
    if (w == 0) { /* all equal: one class [v, v] */
        b[1] = b[0];
        return 1;
    }
    return w;
}

/*
 * Fisher's exact optimal classification (W. D. Fisher, "On grouping for
 * maximum homogeneity", JASA 53, 1958; used for maps by G. F. Jenks,
 * "Optimal data classification for choropleth maps", 1977).
 *
 * On the d distinct sorted values u[0..d-1] with multiplicities w[], let
 * SSD(i, j) = Σ_{t=i..j} w_t (u_t − m_ij)², m_ij the weighted mean of
 * u[i..j]. With D[c][j] the least SSD of putting u[0..j] into c classes:
 *   D[1][j] = SSD(0, j)
 *   D[c][j] = min_{c-1 <= i <= j} D[c-1][i-1] + SSD(i, j)
 * The optimum is D[k][d-1], the partition is recovered from the argmins.
 * SSD(i, j) for fixed j is accumulated while i runs down from j, from sums
 * of deviations from u[j] (shifted, so cancellation stays small), so each
 * SSD is computed once: O(d²) SSDs and O(k d²) comparisons. Ties between
 * candidates keep the larger i.
 */
static int jenks(double *out_breaks, int *out_k, kz_ctx *ctx, const double *s, size_t m, int k)
{
    size_t d = 0, i, j, t;
    double *u = NULL, *w = NULL, *dp = NULL;
    uint32_t *arg = NULL;
    int c, kk, rc = KZ_OK;

    u = malloc(m * sizeof(*u));
    w = malloc(m * sizeof(*w));
    if (!u || !w)
        goto nomem;
    for (i = 0; i < m; i++) {
        if (d > 0 && s[i] == u[d - 1]) {
            w[d - 1] += 1.0;
        } else {
            u[d] = s[i];
            w[d++] = 1.0;
        }
    }
    if (d > UINT32_MAX) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT, "jenks: too many distinct values (%zu)", d);
        goto done;
    }
    kk = (size_t)k < d ? k : (int)d;
    dp = malloc((size_t)kk * d * sizeof(*dp));
    arg = malloc((size_t)kk * d * sizeof(*arg));
    if (!dp || !arg)
        goto nomem;
    for (t = 0; t < (size_t)kk * d; t++) {
        dp[t] = INFINITY;
        arg[t] = 0;
    }
    /* dp[j*kk + (c-1)] = D[c][j]; arg holds the first index i of class c.
     * Row j holds all class counts together: the inner loop over c then
     * reads and writes contiguous memory (3x faster than rows per c). */
    for (j = 0; j < d; j++) {
        double wsum = 0.0, sum = 0.0, sq = 0.0, m2;
        if (j % 256 == 0)
            kz_ctx__progress(ctx, "jenks", (long long)j, (long long)d);
        for (i = j + 1; i-- > 0;) {
            /* add u[i] with weight w[i] to the segment u[i..j]; sums of
             * deviations from u[j] keep the cancellation in
             * SSD = Σw(u-u_j)² - (Σw(u-u_j))² / Σw small, and no division
             * sits in the loop-carried chain (Welford's update did: 3x slower) */
            double dl = u[i] - u[j];
            wsum += w[i];
            sum += w[i] * dl;
            sq += w[i] * dl * dl;
            m2 = sq - sum * sum / wsum;
            if (m2 < 0.0)
                m2 = 0.0;
            if (i == 0) {
                dp[j * (size_t)kk] = m2;
                arg[j * (size_t)kk] = 0;
            } else {
                const double *prev = dp + (i - 1) * (size_t)kk; /* D[.][i-1] */
                double *cur = dp + j * (size_t)kk;              /* D[.][j] */
                uint32_t *cur_arg = arg + j * (size_t)kk;
                int cmax = (size_t)kk < i + 1 ? kk : (int)(i + 1);
                for (c = 2; c <= cmax; c++) {
                    double cand = prev[c - 2] + m2;
                    if (cand < cur[c - 1]) {
                        cur[c - 1] = cand;
                        cur_arg[c - 1] = (uint32_t)i;
                    }
                }
            }
        }
    }
    kz_ctx__progress(ctx, "jenks", (long long)d, (long long)d);
    /* Recover the classes from the right: class c covers u[arg .. j]. */
    j = d - 1;
    for (c = kk; c >= 1; c--) {
        out_breaks[c] = u[j];
        if (c > 1)
            j = arg[j * (size_t)kk + (size_t)(c - 1)] - 1;
    }
    out_breaks[0] = u[0];
    *out_k = kk;
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory in jenks (%zu values, %d classes)", m, k);
done:
    free(u);
    free(w);
    free(dp);
    free(arg);
    return rc;
}

static int check_increasing(kz_ctx *ctx, const double *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (!isfinite(b[i]))
            return kz_ctx__error(ctx, KZ_E_USAGE, "classify: break %zu is not a finite number",
                                 i + 1);
        if (i > 0 && !(b[i] > b[i - 1]))
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "classify: breaks must increase strictly (break %zu: %g after %g)",
                                 i + 1, b[i], b[i - 1]);
    }
    return KZ_OK;
}

int kz_classify_breaks(double *out_breaks, int *out_classes, kz_ctx *ctx, const double *values,
                       size_t n, const kz_classify_options *opts)
{
    double *s = NULL;
    size_t m = 0, i;
    int k, j, rc;

    if (!opts || opts->classes < 1 || opts->classes > KZ_CLASSIFY_MAX_CLASSES)
        return kz_ctx__error(ctx, KZ_E_USAGE, "classify: the number of classes must be 1..%d",
                             KZ_CLASSIFY_MAX_CLASSES);
    k = opts->classes;
    if (!kz_classify_method_name(opts->method))
        return kz_ctx__error(ctx, KZ_E_USAGE, "classify: unknown method %d", opts->method);

    if (opts->method == KZ_CLASSIFY_MANUAL) {
        if (!opts->breaks || (opts->n_breaks != (size_t)k + 1 && opts->n_breaks != (size_t)k - 1))
            return kz_ctx__error(ctx, KZ_E_USAGE,
                                 "classify: %d manual classes need %d inner or %d breaks, got %zu",
                                 k, k - 1, k + 1, opts->n_breaks);
        if ((rc = check_increasing(ctx, opts->breaks, opts->n_breaks)) != KZ_OK)
            return rc;
        if (opts->n_breaks == (size_t)k + 1) {
            memcpy(out_breaks, opts->breaks, ((size_t)k + 1) * sizeof(*out_breaks));
            *out_classes = k;
            return KZ_OK;
        }
    }

    if ((rc = sorted_finite(&s, &m, ctx, values, n)) != KZ_OK)
        return rc;

    switch (opts->method) {
    case KZ_CLASSIFY_QUANTILE:
        out_breaks[0] = s[0];
        for (j = 1; j < k; j++)
            out_breaks[j] = quantile7(s, m, (double)j / k);
        out_breaks[k] = s[m - 1];
        *out_classes = merge_equal(out_breaks, k);
        break;
    case KZ_CLASSIFY_EQUAL:
        out_breaks[0] = s[0];
        for (j = 1; j < k; j++) /* b_j = min + j (max - min) / k */
            out_breaks[j] = s[0] + (double)j * (s[m - 1] - s[0]) / k;
        out_breaks[k] = s[m - 1];
        *out_classes = merge_equal(out_breaks, k);
        break;
    case KZ_CLASSIFY_STDDEV: {
        /* mean and sd (population: ÷ m, sample: ÷ (m - 1)), two passes */
        double mean = 0.0, ss = 0.0, sd, step = opts->sd_step > 0 ? opts->sd_step : 1.0;
        if (m < 2) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT, "classify stddev: needs 2 or more values, got %zu",
                               m);
            break;
        }
        for (i = 0; i < m; i++)
            mean += s[i];
        mean /= (double)m;
        for (i = 0; i < m; i++)
            ss += (s[i] - mean) * (s[i] - mean);
        sd = sqrt(ss / (double)(opts->sample_sd ? m - 1 : m));
        if (!(sd > 0.0)) {
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "classify stddev: all %zu values are equal (sd = 0)", m);
            break;
        }
        /* inner break j (1..k-1) at mean + (j - k/2) step sd for k even,
         * and mean + (j - (k+1)/2 + [j >= (k+1)/2]) step sd for k odd, so
         * that k odd skips the mean (multiples ±1, ±2, ...). */
        for (j = 1; j < k; j++) {
            double mult;
            if (k % 2 == 0)
                mult = (double)(j - k / 2);
            else
                mult = (double)(j - (k + 1) / 2 + (j >= (k + 1) / 2 ? 1 : 0));
            out_breaks[j] = mean + mult * step * sd;
        }
        out_breaks[0] = k > 1 && out_breaks[1] < s[0] ? out_breaks[1] : s[0];
        out_breaks[k] = k > 1 && out_breaks[k - 1] > s[m - 1] ? out_breaks[k - 1] : s[m - 1];
        *out_classes = k;
        break;
    }
    case KZ_CLASSIFY_MANUAL: /* inner breaks, outer from the data */
        for (j = 1; j < k; j++)
            out_breaks[j] = opts->breaks[j - 1];
        out_breaks[0] = k > 1 && out_breaks[1] < s[0] ? out_breaks[1] : s[0];
        out_breaks[k] = k > 1 && out_breaks[k - 1] > s[m - 1] ? out_breaks[k - 1] : s[m - 1];
        *out_classes = k;
        break;
    case KZ_CLASSIFY_JENKS:
        rc = jenks(out_breaks, out_classes, ctx, s, m, k);
        break;
    }
    free(s);
    return rc;
}

size_t kz_classify_assign(int *out_class, size_t *out_counts, const double *breaks, int classes,
                          const double *values, size_t n)
{
    size_t i, none = 0;
    int c;
    if (out_counts)
        for (c = 0; c < classes; c++)
            out_counts[c] = 0;
    for (i = 0; i < n; i++) {
        double x = values[i];
        int lo, hi;
        if (isnan(x) || classes < 1 || x < breaks[0] || x > breaks[classes]) {
            out_class[i] = -1;
            none++;
            continue;
        }
        /* smallest c with x <= breaks[c + 1] (binary search) */
        lo = 0;
        hi = classes - 1;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (x <= breaks[mid + 1])
                hi = mid;
            else
                lo = mid + 1;
        }
        out_class[i] = lo;
        if (out_counts)
            out_counts[lo]++;
    }
    return none;
}

/* Format x with `decimals` digits; a value that rounds to zero prints
 * without a minus sign. */
static void format_number(char *buf, size_t size, double x, int decimals)
{
    const char *p;
    snprintf(buf, size, "%.*f", decimals, x);
    if (buf[0] != '-')
        return;
    for (p = buf + 1; *p; p++)
        if (*p != '0' && *p != '.')
            return;
    memmove(buf, buf + 1, strlen(buf));
}

int kz_classify_label(char *out, size_t size, double lower, double upper, int decimals)
{
    char lo[400], hi[400]; /* "%.15f" of 1e300 fits */
    if (decimals < 0)
        decimals = 0;
    if (decimals > 15)
        decimals = 15;
    format_number(lo, sizeof(lo), lower, decimals);
    format_number(hi, sizeof(hi), upper, decimals);
    /* U+2013 EN DASH between the bounds */
    return snprintf(out, size, "%s \xe2\x80\x93 %s", lo, hi);
}

double kz_classify_ssd(const double *values, const int *classes, size_t n)
{
    double sum[KZ_CLASSIFY_MAX_CLASSES] = {0}, cnt[KZ_CLASSIFY_MAX_CLASSES] = {0};
    double ssd = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        int c = classes[i];
        if (c < 0 || c >= KZ_CLASSIFY_MAX_CLASSES || isnan(values[i]))
            continue;
        sum[c] += values[i];
        cnt[c] += 1.0;
    }
    for (i = 0; i < n; i++) {
        int c = classes[i];
        double dlt;
        if (c < 0 || c >= KZ_CLASSIFY_MAX_CLASSES || isnan(values[i]))
            continue;
        dlt = values[i] - sum[c] / cnt[c];
        ssd += dlt * dlt;
    }
    return ssd;
}
