/*
 * The coverage step of the pipeline: for every `coverage:` section of the
 * project, the supply of an object layer for a target population per area
 * and level (see kz_coverage_def in project.h).
 *
 * Per area of the finest level a:
 *   count_a  = objects covered by a (kz_coverage_count, boundary rule there)
 *   supply_a = Σ capacity (supply: capacity) or count_a
 *   per_a    = supply_a / demand_a × per
 *   coverage_a = supply_a / (need_factor × demand_a) × 100   (planning norm)
 * and with demand points i (population P_i, area a(i), demand.h):
 *   dist_a   = Σ_{i in a} P_i d_i / Σ_{i in a} P_i    (d_i to the nearest object)
 *   within_a = Σ_{i in a, d_i <= radius} P_i / Σ_{i in a} P_i × 100
 *   access_a = Σ_{i in a} P_i A_i / Σ_{i in a} P_i × per   (2SFCA, Luo & Wang 2003)
 * Coarser levels (the parent chain of the level, up to the city) sum the
 * numerators and denominators of their children and recompute the ratios:
 * rates are never averaged (DESIGN.md). An area whose children miss a
 * demand value gets no ratio.
 */
#include "ctx_internal.h"
#include "kiez/coverage.h"
#include "kiez/demand.h"
#include "kiez/project.h"
#include "store.h"
#include "store_coverage.h"
#include "strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHAIN 32
#define NAME_LEN 96
#define LABEL_LEN 320
#define MAX_DEMAND_VARS 16

/* Sums per area; ratios are computed from them at every level. */
typedef struct cov_sum {
    double count, supply, demand;
    double pw, pwd, pwin, pwa; /* Σ P, Σ P d, Σ P [d <= R], Σ P A over demand points */
    long children;             /* finest level: 1 */
} cov_sum;

typedef struct objects {
    const kz_coverage_def *C;
    kz_ctx *ctx;
    double *x, *y, *supply;
    size_t n, cap, no_capacity;
} objects;

static int take_object(const kz_store_object *o, void *payload)
{
    objects *ob = payload;
    const kz_coverage_def *C = ob->C;
    size_t k;
    if (C->n_categories > 0) {
        for (k = 0; k < C->n_categories; k++)
            if (o->category != NULL && strcmp(o->category, C->categories[k]) == 0)
                break;
        if (k == C->n_categories)
            return KZ_OK;
    }
    if (ob->n == ob->cap) {
        size_t cap = ob->cap ? ob->cap * 2 : 256;
        double *x = realloc(ob->x, cap * sizeof(double));
        double *y = x ? realloc(ob->y, cap * sizeof(double)) : NULL;
        double *s = y ? realloc(ob->supply, cap * sizeof(double)) : NULL;
        if (x)
            ob->x = x;
        if (y)
            ob->y = y;
        if (s == NULL)
            return kz_ctx__error(ob->ctx, KZ_E_NOMEM, "out of memory");
        ob->supply = s;
        ob->cap = cap;
    }
    ob->x[ob->n] = o->x;
    ob->y[ob->n] = o->y;
    if (C->supply == KZ_SUPPLY_CAPACITY) {
        /* An object without a readable capacity adds nothing to the supply
         * (it is still counted); reported once per analysis. */
        ob->supply[ob->n] = isfinite(o->capacity) ? o->capacity : 0;
        if (!isfinite(o->capacity))
            ob->no_capacity++;
    } else {
        ob->supply[ob->n] = 1;
    }
    ob->n++;
    return KZ_OK;
}

/* The demand variables of C: "a + b" lists two; at most MAX_DEMAND_VARS. */
static size_t demand_variables(const kz_coverage_def *C, char vars[][NAME_LEN])
{
    const char *d = C->demand;
    size_t nv = 0;
    for (;;) {
        const char *plus = strchr(d, '+'), *e = plus ? plus : d + strlen(d);
        while (d < e && (*d == ' ' || *d == '\t'))
            d++;
        while (e > d && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        snprintf(vars[nv++], NAME_LEN, "%.*s", (int)(e - d), d);
        if (plus == NULL || nv >= MAX_DEMAND_VARS)
            return nv;
        d = plus + 1;
    }
}

/* The demand of the areas at `period`: the sum of the demand variables
 * (NaN where one is missing: no partial sums). */
static int read_demand(kz_db *db, kz_ctx *ctx, const kz_coverage_def *C, const char *level,
                       const char *period, const kz_store_areas *A, double *demand)
{
    char vars[MAX_DEMAND_VARS][NAME_LEN];
    size_t nv = demand_variables(C, vars), i, k;
    double *tmp = malloc((A->n + 1) * sizeof(double));
    int rc = KZ_OK;
    if (tmp == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < A->n; i++)
        demand[i] = 0;
    for (k = 0; k < nv && rc == KZ_OK; k++) {
        rc = kz_store__variable_values(db, ctx, level, period, vars[k], A->keys, A->n, tmp);
        for (i = 0; i < A->n && rc == KZ_OK; i++)
            demand[i] += tmp[i];
    }
    free(tmp);
    return rc;
}

static double ratio(double num, double den, double scale)
{
    return isfinite(num) && isfinite(den) && den > 0 ? num / den * scale : NAN;
}

/* Demand points for C on the areas of its level. */
static int make_demand(kz_demand **out, kz_ctx *ctx, const kz_project *p, const kz_coverage_def *C,
                       const kz_area_set *set, const double *demand)
{
    kz_demand *raw = NULL;
    int rc;
    *out = NULL;
    switch (C->demand_method) {
    case KZ_DEMAND_ZENSUS:
        if ((rc = kz_demand_read_zensus(&raw, ctx, C->demand_source, C->demand_count, p->crs)) !=
            KZ_OK)
            return rc;
        break;
    case KZ_DEMAND_POINTS:
        if ((rc = kz_demand_read_points(&raw, ctx, C->demand_source, C->demand_count, p->crs)) !=
            KZ_OK)
            return rc;
        break;
    default:
        return kz_demand_from_areas(out, ctx, set, demand, C->demand_method, C->demand_cell, 0);
    }
    rc = kz_demand_distribute(out, ctx, set, demand, raw, 0);
    kz_demand_free(raw);
    return rc;
}

typedef struct column {
    char name[NAME_LEN];
    int on;
} column;

enum { COL_COUNT, COL_SUPPLY, COL_PER, COL_COVERAGE, COL_DIST, COL_WITHIN, COL_ACCESS, COL_N };

static int register_columns(kz_db *db, kz_ctx *ctx, const kz_coverage_def *C, column *col,
                            const char *method)
{
    char vars[MAX_DEMAND_VARS][NAME_LEN], inputs[MAX_DEMAND_VARS * NAME_LEN];
    size_t nv = demand_variables(C, vars), i, at = 0;
    for (i = 0; i < nv; i++)
        at += (size_t)snprintf(inputs + at, sizeof(inputs) - at, "%s%s", i ? ";" : "", vars[i]);
    const char *lab = C->label ? C->label : C->name;
    char label[LABEL_LEN], desc[LABEL_LEN + 256];
    int rc = KZ_OK, k;
    for (k = 0; k < COL_N && rc == KZ_OK; k++) {
        const char *unit = NULL, *pol = "positive";
        char unit_buf[48];
        if (!col[k].on)
            continue;
        switch (k) {
        case COL_COUNT:
            snprintf(label, sizeof(label), "%s: Anzahl", lab);
            snprintf(desc, sizeof(desc), "objects of layer %s covered by the area", C->objects);
            unit = "Anzahl";
            break;
        case COL_SUPPLY:
            snprintf(label, sizeof(label), "%s: Plätze", lab);
            snprintf(desc, sizeof(desc), "sum of the capacities of the objects in the area");
            unit = "Plätze";
            break;
        case COL_PER:
            snprintf(label, sizeof(label), "%s je %g %s", lab, C->per, vars[0]);
            snprintf(desc, sizeof(desc), "supply / (%s) x %g, coarser levels from the sums",
                     C->demand, C->per);
            snprintf(unit_buf, sizeof(unit_buf), "je %g", C->per);
            unit = unit_buf;
            break;
        case COL_COVERAGE:
            snprintf(label, sizeof(label), "%s: Versorgungsgrad", lab);
            snprintf(desc, sizeof(desc), "supply / (%g x (%s)) x 100: coverage of the need",
                     C->need_factor, C->demand);
            unit = "%";
            break;
        case COL_DIST:
            snprintf(label, sizeof(label), "%s: mittlere Entfernung", lab);
            snprintf(desc, sizeof(desc),
                     "demand-weighted mean straight-line distance to the nearest object; "
                     "demand points: %s",
                     method);
            unit = "m";
            pol = "negative";
            break;
        case COL_WITHIN:
            snprintf(label, sizeof(label), "%s: Anteil im Umkreis von %g m", lab, C->radius);
            snprintf(desc, sizeof(desc),
                     "share of (%s) within %g m of an object; demand points: %s", C->demand,
                     C->radius, method);
            unit = "%";
            break;
        case COL_ACCESS:
            snprintf(label, sizeof(label), "%s: Erreichbarkeit (2SFCA %g m) je %g", lab,
                     C->access_radius, C->per);
            snprintf(desc, sizeof(desc),
                     "2SFCA (Luo & Wang 2003), catchment %g m, demand-weighted mean x %g; "
                     "demand points: %s",
                     C->access_radius, C->per, method);
            snprintf(unit_buf, sizeof(unit_buf), "je %g", C->per);
            unit = unit_buf;
            break;
        default:
            break;
        }
        rc = kz_store__put_derived(db, ctx, col[k].name, label, unit, pol, "coverage", desc);
        /* Ratios to the demand reveal it: withheld where a demand count is. */
        if (rc == KZ_OK && (k == COL_PER || k == COL_COVERAGE))
            rc = kz_store__set_inputs(db, ctx, col[k].name, inputs);
    }
    return rc;
}

/* Store the columns of one level from its sums. */
static int put_level(kz_db *db, kz_ctx *ctx, const kz_coverage_def *C, const column *col,
                     const char *level, const char *period, const kz_store_areas *A,
                     const cov_sum *s, double *v)
{
    int k, rc = KZ_OK;
    size_t i;
    for (k = 0; k < COL_N && rc == KZ_OK; k++) {
        if (!col[k].on)
            continue;
        for (i = 0; i < A->n; i++) {
            const cov_sum *a = &s[i];
            double x = NAN;
            if (a->children > 0) {
                switch (k) {
                case COL_COUNT:
                    x = a->count;
                    break;
                case COL_SUPPLY:
                    x = a->supply;
                    break;
                case COL_PER:
                    x = ratio(a->supply, a->demand, C->per);
                    break;
                case COL_COVERAGE:
                    x = ratio(a->supply, C->need_factor * a->demand, 100);
                    break;
                case COL_DIST:
                    x = ratio(a->pwd, a->pw, 1);
                    break;
                case COL_WITHIN:
                    x = ratio(a->pwin, a->pw, 100);
                    break;
                case COL_ACCESS:
                    x = ratio(a->pwa, a->pw, C->per);
                    break;
                default:
                    break;
                }
            }
            v[i] = x;
        }
        rc = kz_store__put_values(db, ctx, level, period, col[k].name, A->keys, A->n, v);
    }
    return rc;
}

static int stat(kz_db *db, kz_ctx *ctx, const kz_coverage_def *C, const char *level,
                const char *period, const char *measure, double value, const char *note)
{
    return kz_store__put_statistic(db, ctx, "coverage", level, period, C->name, measure, value,
                                   note);
}

static int coverage_one(kz_db *db, kz_ctx *ctx, const kz_project *p, const kz_coverage_def *C)
{
    const char *chain[MAX_CHAIN];
    kz_store_areas A[MAX_CHAIN];
    cov_sum *S[MAX_CHAIN];
    size_t n_chain = 0, l, i;
    char period[11] = "", vars[MAX_DEMAND_VARS][NAME_LEN];
    double *demand = NULL, *v = NULL, *dist = NULL, *acc = NULL;
    objects ob;
    kz_area_set set = {NULL, NULL, 0};
    kz_point_set fac;
    kz_count *cnt = NULL;
    kz_demand *dp = NULL;
    kz_nearest *near = NULL;
    kz_access *access = NULL;
    column col[COL_N];
    const char *method = "none";
    int rc = KZ_OK, lx;

    memset(A, 0, sizeof(A));
    memset(S, 0, sizeof(S));
    memset(&ob, 0, sizeof(ob));
    memset(col, 0, sizeof(col));
    ob.C = C;
    ob.ctx = ctx;

    /* The level and its parent chain (coarser levels up to the top). */
    for (lx = kz_project_level_index(p, C->level); lx >= 0 && n_chain < MAX_CHAIN;
         lx = p->levels[lx].parent ? kz_project_level_index(p, p->levels[lx].parent) : -1) {
        for (l = 0; l < n_chain; l++)
            if (strcmp(chain[l], p->levels[lx].name) == 0)
                break;
        if (l < n_chain)
            break;
        chain[n_chain++] = p->levels[lx].name;
    }
    if (n_chain == 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "no level %s", C->level);
    for (l = 0; l < n_chain; l++) {
        if ((rc = kz_store__areas_wkb(db, ctx, chain[l], &A[l])) != KZ_OK)
            goto done;
        if ((S[l] = calloc(A[l].n + 1, sizeof(cov_sum))) == NULL)
            goto nomem;
    }

    /* Demand at the latest period with values of the (first) variable. */
    if ((demand = malloc((A[0].n + 1) * sizeof(double))) == NULL ||
        (v = malloc((A[0].n + 1) * sizeof(double))) == NULL)
        goto nomem;
    demand_variables(C, vars);
    if ((rc = kz_store__latest_variable_period(db, ctx, chain[0], vars[0], period)) != KZ_OK)
        goto done;
    if (period[0] == '\0') {
        rc = kz_ctx__error(ctx, KZ_E_INPUT,
                           "no values of %s on level %s; check demand: against the tables", vars[0],
                           chain[0]);
        goto done;
    }
    if ((rc = read_demand(db, ctx, C, chain[0], period, &A[0], demand)) != KZ_OK)
        goto done;

    /* Objects, counted into the areas. */
    if ((rc = kz_store__each_object(db, ctx, C->objects, take_object, &ob)) != KZ_OK)
        goto done;
    if (ob.n == 0)
        kz_ctx__log(ctx, KZ_LOG_WARN, "coverage %s: no objects in layer %s%s", C->name, C->objects,
                    C->n_categories ? " of the given categories" : "");
    if (ob.no_capacity > 0)
        kz_ctx__log(ctx, KZ_LOG_WARN,
                    "coverage %s: %zu objects of %s have no readable capacity; they are counted "
                    "but add no places",
                    C->name, ob.no_capacity, C->objects);
    set.wkb = (const unsigned char *const *)A[0].wkb;
    set.wkb_size = A[0].wkb_size;
    set.n = A[0].n;
    memset(&fac, 0, sizeof(fac));
    fac.x = ob.x;
    fac.y = ob.y;
    fac.weight = ob.supply;
    fac.n = ob.n;
    if ((rc = kz_coverage_count(&cnt, ctx, &set, &fac, 0, 0, NULL)) != KZ_OK)
        goto done;
    for (i = 0; i < A[0].n; i++) {
        S[0][i].count = (double)cnt->count[i];
        S[0][i].supply = cnt->weight[i];
        S[0][i].demand = demand[i];
        S[0][i].children = 1;
    }

    /* Demand points: distance to the nearest object and 2SFCA. */
    if (C->radius > 0 || C->access_radius > 0) {
        kz_point_set dem;
        kz_nearest_options no;
        if ((rc = make_demand(&dp, ctx, p, C, &set, demand)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "demand points");
            goto done;
        }
        method = dp->description;
        dem = kz_demand_point_set(dp);
        memset(&no, 0, sizeof(no));
        no.within = C->radius;
        no.category = -1;
        no.demand_area = dp->area;
        no.n_areas = A[0].n;
        if ((rc = kz_coverage_nearest(&near, ctx, &dem, &fac, &no)) != KZ_OK)
            goto done;
        dist = near->distance;
        for (i = 0; i < A[0].n; i++) {
            double w = near->area_weight[i];
            S[0][i].pw = w;
            if (w > 0) {
                S[0][i].pwd = near->area_mean[i] * w;
                S[0][i].pwin = C->radius > 0 ? near->area_within[i] * w : 0;
            }
        }
        if (C->access_radius > 0) {
            kz_access_options ao;
            double diff, tol;
            memset(&ao, 0, sizeof(ao));
            ao.radius = C->access_radius;
            ao.demand_area = dp->area;
            ao.n_areas = A[0].n;
            if ((rc = kz_coverage_access(&access, ctx, &dem, &fac, &ao)) != KZ_OK)
                goto done;
            acc = access->access;
            for (i = 0; i < A[0].n; i++)
                if (access->area_weight[i] > 0)
                    S[0][i].pwa = access->area_access[i] * access->area_weight[i];
            /* The 2SFCA identity (DESIGN.md): Σ_i P_i A_i = Σ_j S_j over the
             * facilities that reach some demand. */
            diff = fabs(access->weighted_access - access->supply_reached);
            tol = 1e-9 * (access->supply_reached > 1 ? access->supply_reached : 1);
            if (diff > tol)
                kz_ctx__log(ctx, KZ_LOG_WARN,
                            "coverage %s: 2SFCA identity violated: sum of P*A = %.17g, supply "
                            "reached = %.17g",
                            C->name, access->weighted_access, access->supply_reached);
        }
        if (C->demand_layer) {
            char layer[NAME_LEN];
            snprintf(layer, sizeof(layer), "%s_demand", C->name);
            if ((rc = kz_store__put_demand_points(db, ctx, layer, dp->n, dp->x, dp->y, dp->weight,
                                                  dp->area, A[0].keys, dist, acc)) != KZ_OK)
                goto done;
        }
    }

    /* Up the chain: sums of the children, by parent key. */
    for (l = 1; l < n_chain; l++) {
        kz_strmap *map = kz_strmap__new();
        size_t orphans = 0;
        if (map == NULL)
            goto nomem;
        for (i = 0; i < A[l].n; i++)
            if (kz_strmap__put(map, A[l].keys[i], (long)i, NULL) < 0) {
                kz_strmap__free(map);
                goto nomem;
            }
        for (i = 0; i < A[l - 1].n; i++) {
            const cov_sum *c = &S[l - 1][i];
            long at = A[l - 1].parents[i] ? kz_strmap__get(map, A[l - 1].parents[i]) : -1;
            cov_sum *t;
            if (at < 0 || c->children == 0) {
                orphans += at < 0;
                continue;
            }
            t = &S[l][at];
            t->count += c->count;
            t->supply += c->supply;
            t->demand += c->demand;
            t->pw += c->pw;
            t->pwd += c->pwd;
            t->pwin += c->pwin;
            t->pwa += c->pwa;
            t->children++;
        }
        kz_strmap__free(map);
        if (orphans > 0)
            kz_ctx__log(ctx, KZ_LOG_WARN,
                        "coverage %s: %zu areas of level %s have no parent in %s; their objects "
                        "and demand are missing there",
                        C->name, orphans, chain[l - 1], chain[l]);
    }

    /* Columns. */
    snprintf(col[COL_COUNT].name, NAME_LEN, "%s_count", C->name);
    snprintf(col[COL_SUPPLY].name, NAME_LEN, "%s_supply", C->name);
    snprintf(col[COL_PER].name, NAME_LEN, "%s_per_%.0f", C->name, C->per);
    snprintf(col[COL_COVERAGE].name, NAME_LEN, "%s_coverage", C->name);
    snprintf(col[COL_DIST].name, NAME_LEN, "%s_dist", C->name);
    snprintf(col[COL_WITHIN].name, NAME_LEN, "%s_within", C->name);
    snprintf(col[COL_ACCESS].name, NAME_LEN, "%s_access", C->name);
    col[COL_COUNT].on = col[COL_PER].on = 1;
    col[COL_SUPPLY].on = C->supply == KZ_SUPPLY_CAPACITY;
    col[COL_COVERAGE].on = C->need_factor > 0;
    col[COL_DIST].on = dp != NULL;
    col[COL_WITHIN].on = dp != NULL && C->radius > 0;
    col[COL_ACCESS].on = access != NULL;
    if ((rc = register_columns(db, ctx, C, col, method)) != KZ_OK)
        goto done;
    for (l = 0; l < n_chain; l++) {
        double *vl = realloc(v, (A[l].n + 1) * sizeof(double));
        if (vl == NULL)
            goto nomem;
        v = vl;
        if ((rc = put_level(db, ctx, C, col, chain[l], period, &A[l], S[l], v)) != KZ_OK)
            goto done;
    }

    /* Statistics of the run (not per area). */
    if ((rc = stat(db, ctx, C, chain[0], period, "objects", (double)ob.n, NULL)) != KZ_OK ||
        (rc = stat(db, ctx, C, chain[0], period, "objects_outside", (double)cnt->outside, NULL)) !=
            KZ_OK ||
        (rc = stat(db, ctx, C, chain[0], period, "objects_on_boundary", (double)cnt->on_boundary,
                   NULL)) != KZ_OK ||
        (rc = stat(db, ctx, C, chain[0], period, "objects_without_capacity", (double)ob.no_capacity,
                   NULL)) != KZ_OK)
        goto done;
    if (dp != NULL) {
        double total = 0;
        for (i = 0; i < dp->n; i++)
            total += dp->weight[i];
        if ((rc = stat(db, ctx, C, chain[0], period, "demand_points", (double)dp->n,
                       dp->description)) != KZ_OK ||
            (rc = stat(db, ctx, C, chain[0], period, "demand_total", total, NULL)) != KZ_OK ||
            (rc = stat(db, ctx, C, chain[0], period, "demand_fallback_areas",
                       (double)dp->fallback_areas, NULL)) != KZ_OK ||
            (rc = stat(db, ctx, C, chain[0], period, "demand_unplaced", (double)dp->unplaced,
                       NULL)) != KZ_OK ||
            (rc = stat(db, ctx, C, chain[0], period, "mean_distance", near->mean, NULL)) != KZ_OK)
            goto done;
        if (C->radius > 0 && (rc = stat(db, ctx, C, chain[0], period, "share_within",
                                        near->within_share * 100, NULL)) != KZ_OK)
            goto done;
    }
    if (access != NULL &&
        ((rc = stat(db, ctx, C, chain[0], period, "supply_total", access->supply_total, NULL)) !=
             KZ_OK ||
         (rc = stat(db, ctx, C, chain[0], period, "supply_reached", access->supply_reached,
                    NULL)) != KZ_OK ||
         (rc = stat(db, ctx, C, chain[0], period, "sum_demand_times_access",
                    access->weighted_access, "2SFCA identity: equals supply_reached")) != KZ_OK ||
         (rc = stat(db, ctx, C, chain[0], period, "unreached_facilities",
                    (double)access->unreached_facilities, NULL)) != KZ_OK ||
         (rc = stat(db, ctx, C, chain[0], period, "unserved_demand_points",
                    (double)access->unserved_demand, NULL)) != KZ_OK))
        goto done;
    kz_ctx__log(ctx, KZ_LOG_INFO, "coverage %s: %zu objects on %zu areas of %s at %s%s%s", C->name,
                ob.n, A[0].n, chain[0], period, dp ? "; demand points: " : "",
                dp ? dp->description : "");
    goto done;
nomem:
    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
done:
    for (l = 0; l < n_chain; l++) {
        kz_store__free_areas(&A[l]);
        free(S[l]);
    }
    free(demand);
    free(v);
    free(ob.x);
    free(ob.y);
    free(ob.supply);
    kz_count_free(cnt);
    kz_demand_free(dp);
    kz_nearest_free(near);
    kz_access_free(access);
    return rc;
}

int kz_compute__coverage(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i;
    int rc;
    if ((rc = kz_store__clear_statistics(db, ctx, "coverage")) != KZ_OK)
        return rc;
    if (p->n_coverage == 0)
        return kz_store__exec(db, ctx, "DROP TABLE IF EXISTS demand_point");
    if ((rc = kz_store__clear_demand_points(db, ctx)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_coverage; i++)
        if ((rc = coverage_one(db, ctx, p, &p->coverage[i])) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "coverage %s", p->coverage[i].name);
            return rc;
        }
    return KZ_OK;
}
