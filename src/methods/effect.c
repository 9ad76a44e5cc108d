/*
 * Difference-in-differences on a panel of areas × periods (see
 * include/kiez/effect.h for the contract). Pure computation on arrays.
 *
 * Estimation. Every model here is
 *   y_it = α_i + γ_t + x_it'β + ε_it
 * with area effects α_i and period effects γ_t. The area effects are
 * absorbed by demeaning every column within its area (Frisch–Waugh–Lovell:
 * the OLS coefficients and residuals of the demeaned regression equal those
 * of the regression with one dummy per area, also with unbalanced data);
 * the period effects stay as dummies (one period dropped). So the normal
 * equations are p × p with p = (periods − 1) + columns of x, not one
 * column per area: a level with 10,000 areas costs no more than one with 50.
 *
 * Cluster-robust variance by area (Liang & Zeger 1986, Biometrika 73(1),
 * 13–22; the CR1 form, Cameron & Miller 2015, "A Practitioner's Guide to
 * Cluster-Robust Inference", J. Human Resources 50(2), 317–372):
 *   V = c · (X'X)⁻¹ ( Σ_g X_g' e_g e_g' X_g ) (X'X)⁻¹,
 *   c = G/(G−1) · (N−1)/(N−K),
 * with X the demeaned regressors, e the residuals, g the G areas (clusters),
 * N the observations and K the coefficients estimated after absorbing the
 * area effects plus one for the intercept; the area effects themselves are
 * not counted because they are nested within the clusters (Cameron & Miller
 * 2015; the convention of Stata's xtreg, fe vce(cluster)). Inference uses
 * Student t with G − 1 degrees of freedom (Cameron & Miller 2015), which is
 * what keeps the coverage near 95% with few areas.
 *
 * Check with two periods: the demeaned rows of area i are ±½(1, T_i), so
 * β = Δȳ_treated − Δȳ_comparison (the 2×2 difference-in-differences) and V
 * = c · HC0 of the regression of Δy_i on (1, T_i); tests/unit/test_effect.c
 * checks both by hand.
 */
#include "kiez/effect.h"

#include "ctx_internal.h"
#include "distributions.h"
#include "kiez/standardise.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *kz_effect_status_text(int status)
{
    switch (status) {
    case KZ_EFFECT_OK:
        return "ok";
    case KZ_EFFECT_FEW_TREATED:
        return "fewer than 2 treated areas with values before and after the start";
    case KZ_EFFECT_FEW_COMPARISON:
        return "fewer than 2 comparison areas with values before and after the start";
    case KZ_EFFECT_NO_PRE:
        return "no period with values before the start";
    case KZ_EFFECT_NO_POST:
        return "no period with values on or after the start";
    case KZ_EFFECT_FEW_PRE:
        return "fewer than 2 periods with values before the start";
    case KZ_EFFECT_SINGULAR:
        return "the regression has no unique solution (too little variation)";
    default:
        return "unknown status";
    }
}

/* ---- OLS with area-demeaned columns and CR1 variance --------------------- */

typedef struct design {
    size_t n;        /* rows (observations) */
    size_t p;        /* columns */
    double *x;       /* n × p, row-major, demeaned within area */
    double *y;       /* n, demeaned within area */
    size_t *area;    /* n: area index of each row (rows of an area are contiguous) */
    size_t n_groups; /* areas with rows (clusters) */
} design;

/* Cholesky A = L L' in place (lower triangle); -1 when not positive
 * definite beyond a relative tolerance (a singular design). */
static int cholesky(double *a, size_t p)
{
    size_t i, j, k;
    double scale = 0;
    for (i = 0; i < p; i++)
        if (a[i * p + i] > scale)
            scale = a[i * p + i];
    if (!(scale > 0))
        return -1;
    for (j = 0; j < p; j++) {
        double d = a[j * p + j];
        for (k = 0; k < j; k++)
            d -= a[j * p + k] * a[j * p + k];
        if (!(d > 1e-10 * scale))
            return -1;
        d = sqrt(d);
        a[j * p + j] = d;
        for (i = j + 1; i < p; i++) {
            double s = a[i * p + j];
            for (k = 0; k < j; k++)
                s -= a[i * p + k] * a[j * p + k];
            a[i * p + j] = s / d;
        }
    }
    return 0;
}

/* Solve L L' v = b in place. */
static void chol_solve(const double *l, size_t p, double *b)
{
    size_t i, k;
    for (i = 0; i < p; i++) {
        double s = b[i];
        for (k = 0; k < i; k++)
            s -= l[i * p + k] * b[k];
        b[i] = s / l[i * p + i];
    }
    for (i = p; i-- > 0;) {
        double s = b[i];
        for (k = i + 1; k < p; k++)
            s -= l[k * p + i] * b[k];
        b[i] = s / l[i * p + i];
    }
}

/*
 * OLS of d->y on d->x: coefficients into beta (p), CR1 variance into v
 * (p × p). Returns KZ_OK, KZ_E_NOMEM, or 1 when singular.
 */
static int ols_cr1(double *beta, double *v, const design *d)
{
    size_t p = d->p, n = d->n, r, i, j, g0;
    double *a = calloc(p * p, sizeof(double)), *ainv = calloc(p * p, sizeof(double));
    double *meat = calloc(p * p, sizeof(double)), *s = calloc(p, sizeof(double));
    double *tmp = calloc(p * p, sizeof(double)), c;
    int rc = KZ_OK;

    if (!a || !ainv || !meat || !s || !tmp) {
        rc = KZ_E_NOMEM;
        goto done;
    }
    memset(beta, 0, p * sizeof(double));
    for (r = 0; r < n; r++) {
        const double *xr = d->x + r * p;
        for (i = 0; i < p; i++) {
            beta[i] += xr[i] * d->y[r];
            for (j = 0; j <= i; j++)
                a[i * p + j] += xr[i] * xr[j];
        }
    }
    for (i = 0; i < p; i++)
        for (j = i + 1; j < p; j++)
            a[i * p + j] = a[j * p + i];
    if (n <= p + 1 || cholesky(a, p) != 0) {
        rc = 1;
        goto done;
    }
    chol_solve(a, p, beta);
    for (j = 0; j < p; j++) {
        double *col = tmp + j * p; /* column j of A⁻¹, symmetric */
        memset(col, 0, p * sizeof(double));
        col[j] = 1;
        chol_solve(a, p, col);
        for (i = 0; i < p; i++)
            ainv[i * p + j] = col[i];
    }
    /* Meat: Σ_g s_g s_g', s_g = Σ_{rows of g} x_r e_r. */
    for (r = 0; r < n; r = g0) {
        memset(s, 0, p * sizeof(double));
        for (g0 = r; g0 < n && d->area[g0] == d->area[r]; g0++) {
            const double *xr = d->x + g0 * p;
            double e = d->y[g0];
            for (i = 0; i < p; i++)
                e -= xr[i] * beta[i];
            for (i = 0; i < p; i++)
                s[i] += xr[i] * e;
        }
        for (i = 0; i < p; i++)
            for (j = 0; j < p; j++)
                meat[i * p + j] += s[i] * s[j];
    }
    /* V = c A⁻¹ M A⁻¹ */
    c = (double)d->n_groups / (double)(d->n_groups - 1) * (double)(n - 1) / (double)(n - p - 1);
    for (i = 0; i < p; i++)
        for (j = 0; j < p; j++) {
            double t = 0;
            size_t k;
            for (k = 0; k < p; k++)
                t += ainv[i * p + k] * meat[k * p + j];
            tmp[i * p + j] = t;
        }
    for (i = 0; i < p; i++)
        for (j = 0; j < p; j++) {
            double t = 0;
            size_t k;
            for (k = 0; k < p; k++)
                t += tmp[i * p + k] * ainv[k * p + j];
            v[i * p + j] = c * t;
        }
done:
    free(a);
    free(ainv);
    free(meat);
    free(s);
    free(tmp);
    return rc;
}

/* ---- the panel ------------------------------------------------------------ */

enum model { M_DID, M_EVENT, M_TREND };

typedef struct panel_state {
    const kz_effect_panel *pn;
    unsigned char *used; /* n_areas: 1 treated used, 2 comparison used, 0 not */
    size_t t_end;        /* periods considered: 0..t_end-1 */
} panel_state;

static double yv(const kz_effect_panel *pn, size_t i, size_t j)
{
    return pn->y[i * pn->n_periods + j];
}

static double tv(const kz_effect_panel *pn, size_t j)
{
    return pn->t ? pn->t[j] : (double)j;
}

/* Areas with a role and a value before and after the start. */
static void mark_used(unsigned char *used, const kz_effect_panel *pn)
{
    size_t i, j;
    for (i = 0; i < pn->n_areas; i++) {
        int pre = 0, post = 0;
        used[i] = 0;
        if (pn->role[i] != KZ_EFFECT_TREATED && pn->role[i] != KZ_EFFECT_COMPARISON)
            continue;
        for (j = 0; j < pn->n_periods; j++)
            if (isfinite(yv(pn, i, j))) {
                if (j < pn->start)
                    pre = 1;
                else
                    post = 1;
            }
        if (pre && post)
            used[i] = pn->role[i];
    }
}

/*
 * Build the demeaned design of a model over periods 0..t_end-1:
 * period dummies for every observed period but the first, then
 *   M_DID:   treated · after
 *   M_EVENT: treated · 1[t = j] for each j with ev_col[j] (column index)
 *   M_TREND: treated · t
 * Returns KZ_OK or KZ_E_NOMEM; d->p = 0 when no rows.
 */
static int build(design *d, const panel_state *ps, int model, const long *ev_col, size_t n_ev,
                 size_t *first_extra)
{
    const kz_effect_panel *pn = ps->pn;
    size_t np = pn->n_periods, i, j, r, c, k, n_dum = 0;
    long *dum = malloc((np + 1) * sizeof(long));
    int seen_first = 0;

    memset(d, 0, sizeof(*d));
    if (dum == NULL)
        return KZ_E_NOMEM;
    /* Period dummies: observed periods among used areas, the first dropped. */
    for (j = 0; j < ps->t_end; j++) {
        int obs = 0;
        for (i = 0; i < pn->n_areas && !obs; i++)
            obs = ps->used[i] && isfinite(yv(pn, i, j));
        dum[j] = -1;
        if (!obs)
            continue;
        if (seen_first)
            dum[j] = (long)n_dum++;
        seen_first = 1;
    }
    d->p = n_dum + (model == M_EVENT ? n_ev : 1);
    *first_extra = n_dum;
    for (i = 0; i < pn->n_areas; i++)
        if (ps->used[i])
            for (j = 0; j < ps->t_end; j++)
                d->n += isfinite(yv(pn, i, j));
    d->x = calloc(d->n * d->p + 1, sizeof(double));
    d->y = malloc((d->n + 1) * sizeof(double));
    d->area = malloc((d->n + 1) * sizeof(size_t));
    if (!d->x || !d->y || !d->area) {
        free(dum);
        return KZ_E_NOMEM;
    }
    r = 0;
    for (i = 0; i < pn->n_areas; i++) {
        size_t r0 = r, m;
        int tr = ps->used[i] == KZ_EFFECT_TREATED;
        if (!ps->used[i])
            continue;
        for (j = 0; j < ps->t_end; j++) {
            double *xr;
            if (!isfinite(yv(pn, i, j)))
                continue;
            xr = d->x + r * d->p;
            d->y[r] = yv(pn, i, j);
            d->area[r] = i;
            if (dum[j] >= 0)
                xr[dum[j]] = 1;
            if (model == M_DID)
                xr[n_dum] = tr && j >= pn->start;
            else if (model == M_TREND)
                xr[n_dum] = tr ? tv(pn, j) : 0;
            else if (tr && ev_col[j] >= 0)
                xr[n_dum + (size_t)ev_col[j]] = 1;
            r++;
        }
        m = r - r0;
        if (m == 0)
            continue;
        d->n_groups++;
        /* Demean within the area (absorbs α_i). */
        for (c = 0; c <= d->p; c++) {
            double mean = 0;
            for (k = r0; k < r; k++)
                mean += c < d->p ? d->x[k * d->p + c] : d->y[k];
            mean /= (double)m;
            for (k = r0; k < r; k++) {
                if (c < d->p)
                    d->x[k * d->p + c] -= mean;
                else
                    d->y[k] -= mean;
            }
        }
    }
    free(dum);
    return KZ_OK;
}

static void design_free(design *d)
{
    free(d->x);
    free(d->y);
    free(d->area);
}

/* t quantile: the x with T_df(x) = q, by bisection on the CDF. */
static double t_quantile(double q, double df)
{
    double lo = 0, hi = 1;
    int i;
    while (kz_dist__t_cdf(hi, df) < q && hi < 1e12)
        hi *= 2;
    for (i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (kz_dist__t_cdf(mid, df) < q)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* One coefficient (index k) of a model: value, se, t, p with df. */
static int fit_one(double *value, double *se, int *singular, const panel_state *ps, int model,
                   const long *ev_col, size_t n_ev, double *all_beta, double *all_se)
{
    design d;
    double *beta = NULL, *v = NULL;
    size_t first, i;
    int rc;

    *singular = 0;
    if ((rc = build(&d, ps, model, ev_col, n_ev, &first)) != KZ_OK)
        goto done;
    beta = malloc((d.p + 1) * sizeof(double));
    v = malloc((d.p * d.p + 1) * sizeof(double));
    if (!beta || !v) {
        rc = KZ_E_NOMEM;
        goto done;
    }
    if (d.n_groups < 2) {
        *singular = 1;
        goto done;
    }
    rc = ols_cr1(beta, v, &d);
    if (rc == 1) {
        *singular = 1;
        rc = KZ_OK;
        goto done;
    }
    if (rc != KZ_OK)
        goto done;
    if (value) {
        *value = beta[first];
        *se = sqrt(v[first * d.p + first]);
    }
    if (all_beta)
        for (i = 0; i < n_ev; i++) {
            all_beta[i] = beta[first + i];
            all_se[i] = sqrt(v[(first + i) * d.p + first + i]);
        }
done:
    design_free(&d);
    free(beta);
    free(v);
    return rc;
}

static void clear_result(kz_effect_result *r)
{
    memset(r, 0, sizeof(*r));
    r->did = r->se = r->t = r->p = r->df = r->ci_low = r->ci_high = r->means_did = NAN;
    r->pretrend_diff = r->pretrend_se = r->pretrend_t = r->pretrend_p = r->pretrend_df = NAN;
}

static int period_observed(const kz_effect_panel *pn, const unsigned char *used, size_t j,
                           int group)
{
    size_t i;
    for (i = 0; i < pn->n_areas; i++)
        if (used[i] == group && isfinite(yv(pn, i, j)))
            return 1;
    return 0;
}

static int event_study(double *ev, double *ev_se, const panel_state *ps)
{
    const kz_effect_panel *pn = ps->pn;
    size_t np = pn->n_periods, j, n_ev = 0, ref = pn->start - 1;
    long *col = malloc((np + 1) * sizeof(long));
    double *b = malloc((np + 1) * sizeof(double)), *s = malloc((np + 1) * sizeof(double));
    int rc = KZ_OK, singular = 0;

    if (!col || !b || !s) {
        rc = KZ_E_NOMEM;
        goto done;
    }
    if (!period_observed(pn, ps->used, ref, KZ_EFFECT_TREATED) ||
        !period_observed(pn, ps->used, ref, KZ_EFFECT_COMPARISON))
        goto done; /* no reference: every δ stays NaN */
    for (j = 0; j < np; j++) {
        col[j] = -1;
        if (j != ref && period_observed(pn, ps->used, j, KZ_EFFECT_TREATED) &&
            period_observed(pn, ps->used, j, KZ_EFFECT_COMPARISON))
            col[j] = (long)n_ev++;
    }
    ev[ref] = 0;
    ev_se[ref] = 0;
    if (n_ev == 0)
        goto done;
    if ((rc = fit_one(NULL, NULL, &singular, ps, M_EVENT, col, n_ev, b, s)) != KZ_OK || singular)
        goto done;
    for (j = 0; j < np; j++)
        if (col[j] >= 0) {
            ev[j] = b[col[j]];
            ev_se[j] = s[col[j]];
        }
done:
    free(col);
    free(b);
    free(s);
    return rc;
}

int kz_effect_estimate(kz_effect_result *out, double *out_event, double *out_event_se, kz_ctx *ctx,
                       const kz_effect_panel *pn)
{
    panel_state ps;
    size_t i, j, np = pn->n_periods, n_pre_obs_periods = 0;
    double sum[2][2] = {{0, 0}, {0, 0}}, cnt[2][2] = {{0, 0}, {0, 0}};
    int rc = KZ_OK, singular;
    int any_pre = 0, any_post = 0;

    clear_result(out);
    if (out_event)
        for (j = 0; j < np; j++)
            out_event[j] = out_event_se[j] = NAN;
    if (pn->start > np)
        return kz_ctx__error(ctx, KZ_E_USAGE, "effect: start period %zu beyond the %zu periods",
                             pn->start, np);
    for (j = 1; pn->t && j < np; j++)
        if (!(pn->t[j] > pn->t[j - 1]))
            return kz_ctx__error(ctx, KZ_E_USAGE, "effect: period times must increase (period %zu)",
                                 j);
    for (i = 0; i < pn->n_areas; i++)
        if (pn->role[i] > KZ_EFFECT_COMPARISON)
            return kz_ctx__error(ctx, KZ_E_USAGE, "effect: area %zu has an unknown role %d", i,
                                 pn->role[i]);
    out->n_pre = pn->start;
    out->n_post = np - pn->start;
    ps.pn = pn;
    ps.t_end = np;
    if ((ps.used = malloc(pn->n_areas + 1)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < pn->n_areas; i++) {
        if (pn->role[i] == KZ_EFFECT_OUT)
            continue;
        for (j = 0; j < np; j++)
            if (isfinite(yv(pn, i, j))) {
                if (j < pn->start)
                    any_pre = 1;
                else
                    any_post = 1;
            }
    }
    mark_used(ps.used, pn);
    for (i = 0; i < pn->n_areas; i++) {
        if (ps.used[i] == KZ_EFFECT_TREATED)
            out->n_treated++;
        else if (ps.used[i] == KZ_EFFECT_COMPARISON)
            out->n_comparison++;
        if (ps.used[i])
            for (j = 0; j < np; j++)
                if (isfinite(yv(pn, i, j))) {
                    int g = ps.used[i] == KZ_EFFECT_TREATED, a = j >= pn->start;
                    out->n_obs++;
                    sum[g][a] += yv(pn, i, j);
                    cnt[g][a] += 1;
                }
    }
    if (!any_pre)
        out->status = KZ_EFFECT_NO_PRE;
    else if (!any_post)
        out->status = KZ_EFFECT_NO_POST;
    else if (out->n_treated < KZ_EFFECT_MIN_AREAS)
        out->status = KZ_EFFECT_FEW_TREATED;
    else if (out->n_comparison < KZ_EFFECT_MIN_AREAS)
        out->status = KZ_EFFECT_FEW_COMPARISON;
    if (out->status != KZ_EFFECT_OK) {
        out->pretrend_status = out->status;
        goto done;
    }
    out->means_did = (sum[1][1] / cnt[1][1] - sum[1][0] / cnt[1][0]) -
                     (sum[0][1] / cnt[0][1] - sum[0][0] / cnt[0][0]);

    /* The estimate. */
    if ((rc = fit_one(&out->did, &out->se, &singular, &ps, M_DID, NULL, 0, NULL, NULL)) != KZ_OK)
        goto nomem;
    if (singular) {
        out->status = KZ_EFFECT_SINGULAR;
        out->did = out->se = NAN;
    } else {
        double q;
        out->df = (double)(out->n_treated + out->n_comparison - 1);
        out->t = out->did / out->se;
        out->p = kz_dist__t_p2(out->t, out->df);
        q = t_quantile(0.975, out->df);
        out->ci_low = out->did - q * out->se;
        out->ci_high = out->did + q * out->se;
    }

    /* Parallel trends before the start. */
    for (j = 0; j < pn->start; j++)
        if (period_observed(pn, ps.used, j, KZ_EFFECT_TREATED) ||
            period_observed(pn, ps.used, j, KZ_EFFECT_COMPARISON))
            n_pre_obs_periods++;
    if (n_pre_obs_periods < KZ_EFFECT_MIN_PRE) {
        out->pretrend_status = KZ_EFFECT_FEW_PRE;
    } else {
        ps.t_end = pn->start;
        rc = fit_one(&out->pretrend_diff, &out->pretrend_se, &singular, &ps, M_TREND, NULL, 0, NULL,
                     NULL);
        ps.t_end = np;
        if (rc != KZ_OK)
            goto nomem;
        if (singular) {
            out->pretrend_status = KZ_EFFECT_SINGULAR;
            out->pretrend_diff = out->pretrend_se = NAN;
        } else {
            out->pretrend_df = (double)(out->n_treated + out->n_comparison - 1);
            out->pretrend_t = out->pretrend_diff / out->pretrend_se;
            out->pretrend_p = kz_dist__t_p2(out->pretrend_t, out->pretrend_df);
            out->pretrend_violated = out->pretrend_p < 0.05;
        }
    }

    if (out_event && (rc = event_study(out_event, out_event_se, &ps)) != KZ_OK)
        goto nomem;
done:
    free(ps.used);
    return KZ_OK;
nomem:
    free(ps.used);
    return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
}

void kz_effect_group_means(double *out_treated, double *out_comparison, const kz_effect_panel *pn)
{
    unsigned char *used = malloc(pn->n_areas + 1);
    size_t i, j;
    for (j = 0; j < pn->n_periods; j++) {
        double s[2] = {0, 0}, c[2] = {0, 0};
        if (used != NULL && j == 0)
            mark_used(used, pn);
        for (i = 0; used != NULL && i < pn->n_areas; i++) {
            double v = yv(pn, i, j);
            if (used[i] && isfinite(v)) {
                int g = used[i] == KZ_EFFECT_TREATED;
                s[g] += v;
                c[g] += 1;
            }
        }
        out_treated[j] = c[1] > 0 ? s[1] / c[1] : NAN;
        out_comparison[j] = c[0] > 0 ? s[0] / c[0] : NAN;
    }
    free(used);
}

/* ---- comparison group by nearest neighbours -------------------------------- */

typedef struct cand {
    double d;
    size_t i;
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->d < y->d)
        return -1;
    if (x->d > y->d)
        return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int kz_effect_nearest(unsigned char *role, double *out_distance, size_t *out_kept, kz_ctx *ctx,
                      const double *x, size_t n, size_t n_vars, size_t k)
{
    unsigned char *complete = NULL;
    double *col = NULL, *zc = NULL, *z = NULL;
    cand *cs = NULL;
    size_t i, v, m = 0, n_tr = 0;
    kz_zscore_options zo;
    int rc = KZ_OK;

    *out_kept = 0;
    if (k == 0 || n_vars == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "nearest comparison: k and the indicators to match on must not be 0");
    complete = malloc(n + 1);
    col = malloc((n + 1) * sizeof(double));
    zc = malloc((n + 1) * sizeof(double));
    z = malloc((n * n_vars + 1) * sizeof(double));
    cs = malloc((n + 1) * sizeof(cand));
    if (!complete || !col || !zc || !z || !cs) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        complete[i] = 1;
        for (v = 0; v < n_vars; v++)
            if (!isfinite(x[i * n_vars + v]))
                complete[i] = 0;
    }
    memset(&zo, 0, sizeof(zo));
    zo.include = complete;
    for (v = 0; v < n_vars; v++) {
        for (i = 0; i < n; i++)
            col[i] = x[i * n_vars + v];
        if ((rc = kz_zscore(zc, NULL, ctx, col, n, &zo)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "nearest comparison, indicator %zu", v + 1);
            goto done;
        }
        for (i = 0; i < n; i++)
            z[i * n_vars + v] = zc[i];
    }
    for (i = 0; i < n; i++)
        n_tr += role[i] == KZ_EFFECT_TREATED && complete[i];
    if (n_tr == 0) {
        rc = kz_ctx__error(ctx, KZ_E_INPUT,
                           "nearest comparison: no treated area has a value of every indicator "
                           "to match on at baseline");
        goto done;
    }
    for (i = 0; i < n; i++) {
        double best = INFINITY;
        size_t a;
        if (out_distance)
            out_distance[i] = NAN;
        if (role[i] != KZ_EFFECT_COMPARISON)
            continue;
        if (!complete[i]) {
            role[i] = KZ_EFFECT_OUT;
            continue;
        }
        for (a = 0; a < n; a++) {
            double s = 0;
            if (role[a] != KZ_EFFECT_TREATED || !complete[a])
                continue;
            for (v = 0; v < n_vars; v++) {
                double e = z[i * n_vars + v] - z[a * n_vars + v];
                s += e * e;
            }
            if (s < best)
                best = s;
        }
        cs[m].d = sqrt(best);
        cs[m].i = i;
        if (out_distance)
            out_distance[i] = cs[m].d;
        m++;
    }
    qsort(cs, m, sizeof(cand), cand_cmp);
    for (i = k; i < m; i++)
        role[cs[i].i] = KZ_EFFECT_OUT;
    *out_kept = m < k ? m : k;
done:
    free(complete);
    free(col);
    free(zc);
    free(z);
    free(cs);
    return rc;
}
