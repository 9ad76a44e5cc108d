/*
 * Effects of registered measures in a monitoring database: the register
 * from the project file into the store (tables measure, measure_area), the
 * panel of an indicator on the measure's level read from the store, the
 * comparison group (all untreated areas, or the k nearest at baseline) and
 * the difference-in-differences of src/methods/effect.c; results as rows
 * of the statistics table (analysis "effect:<id>") and a derived column
 * <id>_treated. See include/kiez/effect.h.
 */
#include "ctx_internal.h"
#include "kiez/effect.h"
#include "kiez/project.h"
#include "kiez/table.h"
#include "kiez/trend.h"
#include "store.h"
#include "store_effect.h"
#include "strmap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_ILLUSTRATIVE "ILLUSTRATIVE register, not a real measure"
#define MAX_KEY 256

static char *dup_str(const char *s)
{
    size_t n;
    char *d;
    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    if ((d = malloc(n)) != NULL)
        memcpy(d, s, n);
    return d;
}

/* Split "a,b,c" into owned strings. */
static int split_list(char ***out, size_t *n, const char *text)
{
    const char *p = text, *c;
    *out = NULL;
    *n = 0;
    if (text == NULL || text[0] == '\0')
        return 0;
    for (;;) {
        char **v = realloc(*out, (*n + 1) * sizeof(char *));
        size_t len;
        if (v == NULL)
            return -1;
        *out = v;
        c = strchr(p, ',');
        len = c ? (size_t)(c - p) : strlen(p);
        if ((v[*n] = malloc(len + 1)) == NULL)
            return -1;
        memcpy(v[*n], p, len);
        v[*n][len] = '\0';
        (*n)++;
        if (c == NULL)
            return 0;
        p = c + 1;
    }
}

static void free_list(char **v, size_t n)
{
    size_t i;
    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void kz_effect_report_free(kz_effect_report *r)
{
    if (r == NULL)
        return;
    free(r->measure);
    free(r->name);
    free(r->kind);
    free(r->level);
    free(r->indicator);
    free_list(r->match_on, r->n_match_on);
    free(r->periods);
    free(r->mean_treated);
    free(r->mean_comparison);
    free(r->event);
    free(r->event_se);
    free_list(r->treated, r->n_treated);
    free_list(r->compared, r->n_compared);
    free(r);
}

/* ---- the panel from the store ------------------------------------------------ */

typedef struct series_state {
    kz_ctx *ctx;
    const kz_strmap *map;
    size_t n_rows, cap;
    long *area;
    char (*period)[11];
    double *value;
} series_state;

static int take_point(const char *key, const char *period, double value, int flag, void *payload)
{
    series_state *s = payload;
    long at = kz_strmap__get(s->map, key);
    if (at < 0)
        return KZ_OK;
    if (s->n_rows == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        long *a = realloc(s->area, cap * sizeof(long));
        char(*p)[11];
        double *v;
        if (a == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->area = a;
        if ((p = realloc(s->period, cap * sizeof(*p))) == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->period = p;
        if ((v = realloc(s->value, cap * sizeof(double))) == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->value = v;
        s->cap = cap;
    }
    s->area[s->n_rows] = at;
    snprintf(s->period[s->n_rows], 11, "%s", period);
    /* Missing (1) and suppressed (2) values are not values. */
    s->value[s->n_rows] = flag == 1 || flag == 2 ? NAN : value;
    s->n_rows++;
    return KZ_OK;
}

static int cmp_period(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Parse "all", "nearest" or "nearest:K". */
static int parse_comparison(int *method, size_t *k, kz_ctx *ctx, const char *text)
{
    if (strcmp(text, "all") == 0) {
        *method = KZ_COMPARISON_ALL;
        return KZ_OK;
    }
    if (strncmp(text, "nearest", 7) == 0) {
        *method = KZ_COMPARISON_NEAREST;
        if (text[7] == '\0')
            return KZ_OK;
        if (text[7] == ':') {
            char *end = NULL;
            long v = strtol(text + 8, &end, 10);
            if (end != text + 8 && *end == '\0' && v >= 1 && v <= 1000000) {
                *k = (size_t)v;
                return KZ_OK;
            }
        }
    }
    return kz_ctx__error(ctx, KZ_E_USAGE,
                         "comparison \"%s\": give all, nearest or nearest:K (K >= 1 areas)", text);
}

int kz_effect_evaluate(kz_effect_report **out, kz_ctx *ctx, kz_db *db, const char *measure,
                       const char *indicator, const char *comparison)
{
    kz_store_measure m;
    kz_level_keys keys = {NULL, NULL, 0};
    series_state ss;
    kz_effect_report *r = NULL;
    kz_effect_panel pn;
    char **targets = NULL;
    size_t n_targets = 0, n, np = 0, i, j, start;
    double *y = NULL, *t = NULL, *x = NULL, *col = NULL;
    unsigned char *role = NULL;
    int rc;

    *out = NULL;
    memset(&ss, 0, sizeof(ss));
    if ((rc = kz_store__get_measure(db, ctx, measure, &m)) != KZ_OK)
        return rc;
    if ((r = calloc(1, sizeof(*r))) == NULL || split_list(&targets, &n_targets, m.indicators) ||
        split_list(&r->match_on, &r->n_match_on, m.match_on)) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    if (indicator == NULL && n_targets > 0)
        indicator = targets[0];
    if (indicator == NULL) {
        rc =
            kz_ctx__error(ctx, KZ_E_USAGE, "measure %s has no target indicator; give one", measure);
        goto done;
    }
    r->measure = dup_str(m.id);
    r->name = dup_str(m.name);
    r->kind = dup_str(m.kind);
    r->level = dup_str(m.level);
    r->indicator = dup_str(indicator);
    if (!r->measure || !r->name || (m.kind && !r->kind) || !r->level || !r->indicator) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    snprintf(r->start, sizeof(r->start), "%s", m.start);
    snprintf(r->end, sizeof(r->end), "%s", m.end ? m.end : "");
    r->budget = m.budget;
    r->illustrative = m.illustrative;
    r->k = m.k > 0 ? (size_t)m.k : 10;
    r->n_registered = m.n_keys;
    r->comparison =
        strcmp(m.comparison, "nearest") == 0 ? KZ_COMPARISON_NEAREST : KZ_COMPARISON_ALL;
    if (comparison != NULL &&
        (rc = parse_comparison(&r->comparison, &r->k, ctx, comparison)) != KZ_OK)
        goto done;
    if (r->comparison == KZ_COMPARISON_NEAREST && r->n_match_on == 0) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE,
                           "measure %s: a nearest comparison needs the register's match_on "
                           "indicators (comparison: {method: nearest, match_on: [...]})",
                           measure);
        goto done;
    }

    /* The panel: every area of the level × every period of the indicator. */
    if ((rc = kz_store__level_keys(db, ctx, m.level, 0, &keys)) != KZ_OK)
        goto done;
    n = keys.n;
    ss.ctx = ctx;
    ss.map = keys.map;
    if ((rc = kz_store__each_point(db, ctx, m.level, indicator, "0000-00-00", "9999-99-99",
                                   take_point, &ss)) != KZ_OK)
        goto done;
    if (ss.n_rows == 0) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE, "measure %s: no values of indicator %s on level %s",
                           measure, indicator, m.level);
        goto done;
    }
    if ((r->periods = malloc(ss.n_rows * sizeof(*r->periods))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    memcpy(r->periods, ss.period, ss.n_rows * sizeof(*r->periods));
    qsort(r->periods, ss.n_rows, sizeof(*r->periods), cmp_period);
    for (i = 0; i < ss.n_rows; i++)
        if (np == 0 || strcmp(r->periods[np - 1], r->periods[i]) != 0)
            memmove(r->periods[np++], r->periods[i], 11);
    r->n_periods = np;
    y = malloc(n * np * sizeof(double) + 1);
    t = malloc(np * sizeof(double));
    role = calloc(n + 1, 1);
    r->mean_treated = malloc(np * sizeof(double));
    r->mean_comparison = malloc(np * sizeof(double));
    r->event = malloc(np * sizeof(double));
    r->event_se = malloc(np * sizeof(double));
    if (!y || !t || !role || !r->mean_treated || !r->mean_comparison || !r->event || !r->event_se) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < n * np; i++)
        y[i] = NAN;
    for (i = 0; i < ss.n_rows; i++) {
        char(*hit)[11] = bsearch(ss.period[i], r->periods, np, sizeof(*r->periods), cmp_period);
        y[(size_t)ss.area[i] * np + (size_t)(hit - r->periods)] = ss.value[i];
    }
    for (j = 0; j < np; j++)
        if ((rc = kz_date_to_years(&t[j], ctx, r->periods[j])) != KZ_OK)
            goto done;
    for (start = 0; start < np && strcmp(r->periods[start], r->start) < 0; start++)
        ;
    if (start > 0)
        snprintf(r->baseline, sizeof(r->baseline), "%s", r->periods[start - 1]);

    /* Roles: the registered areas are treated, every other area a candidate. */
    for (i = 0; i < n; i++)
        role[i] = KZ_EFFECT_COMPARISON;
    for (i = 0; i < m.n_keys; i++) {
        long at = kz_strmap__get(keys.map, m.keys[i]);
        if (at >= 0)
            role[at] = KZ_EFFECT_TREATED;
        else
            kz_ctx__log(ctx, KZ_LOG_WARN, "measure %s: area %s is no area of level %s", measure,
                        m.keys[i], m.level);
    }
    if (r->comparison == KZ_COMPARISON_NEAREST && start > 0) {
        size_t v, kept;
        x = malloc(n * r->n_match_on * sizeof(double) + 1);
        col = malloc(n * sizeof(double) + 1);
        if (!x || !col) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (v = 0; v < r->n_match_on; v++) {
            if ((rc = kz_store__indicator_values(db, ctx, m.level, r->baseline, r->match_on[v],
                                                 keys.keys, n, col)) != KZ_OK)
                goto done;
            for (i = 0; i < n; i++)
                x[i * r->n_match_on + v] = col[i];
        }
        if ((rc = kz_effect_nearest(role, NULL, &kept, ctx, x, n, r->n_match_on, r->k)) != KZ_OK) {
            kz_ctx__error_prefix(ctx, "measure %s, baseline %s", measure, r->baseline);
            goto done;
        }
    }
    pn.y = y;
    pn.role = role;
    pn.t = t;
    pn.n_areas = n;
    pn.n_periods = np;
    pn.start = start;
    if ((rc = kz_effect_estimate(&r->result, r->event, r->event_se, ctx, &pn)) != KZ_OK)
        goto done;
    kz_effect_group_means(r->mean_treated, r->mean_comparison, &pn);

    /* The areas used: with a role and a value before and after. */
    for (i = 0; i < n; i++) {
        int pre = 0, post = 0;
        char ***list;
        size_t *cnt;
        char **grown;
        if (role[i] == KZ_EFFECT_OUT)
            continue;
        for (j = 0; j < np; j++)
            if (isfinite(y[i * np + j])) {
                if (j < start)
                    pre = 1;
                else
                    post = 1;
            }
        if (!pre || !post)
            continue;
        list = role[i] == KZ_EFFECT_TREATED ? &r->treated : &r->compared;
        cnt = role[i] == KZ_EFFECT_TREATED ? &r->n_treated : &r->n_compared;
        if ((grown = realloc(*list, (*cnt + 1) * sizeof(char *))) == NULL ||
            (grown[*cnt] = dup_str(keys.keys[i])) == NULL) {
            if (grown)
                *list = grown;
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        *list = grown;
        (*cnt)++;
    }
done:
    kz_store__measure_dispose(&m);
    kz_store__free_keys(&keys);
    free_list(targets, n_targets);
    free(ss.area);
    free(ss.period);
    free(ss.value);
    free(y);
    free(t);
    free(x);
    free(col);
    free(role);
    if (rc != KZ_OK) {
        kz_effect_report_free(r);
        return rc;
    }
    *out = r;
    return KZ_OK;
}

/* ---- the register and the results in the pipeline ---------------------------- */

typedef struct keys_state {
    kz_ctx *ctx;
    const char *file, *column;
    int width;
    long col;
    kz_store_measure *m;
    size_t cap;
} keys_state;

static int add_key(keys_state *s, const char *key, const char *where)
{
    char norm[MAX_KEY];
    size_t i;
    if (kz_key_normalise(norm, sizeof(norm), key, s->width) != KZ_OK)
        return kz_ctx__error(s->ctx, KZ_E_INPUT, "measure %s: %s: \"%s\" is not an area key",
                             s->m->id, where, key);
    for (i = 0; i < s->m->n_keys; i++)
        if (strcmp(s->m->keys[i], norm) == 0)
            return KZ_OK;
    if (s->m->n_keys == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **k = realloc(s->m->keys, cap * sizeof(char *));
        if (k == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        s->m->keys = k;
        s->cap = cap;
    }
    if ((s->m->keys[s->m->n_keys] = dup_str(norm)) == NULL)
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    s->m->n_keys++;
    return KZ_OK;
}

static int key_row(const kz_csv_row *row, void *payload)
{
    keys_state *s = payload;
    char where[64];
    size_t i;
    if (s->col < 0) {
        for (i = 0; i < row->n_fields; i++)
            if (strcmp(row->fields[i], s->column) == 0)
                s->col = (long)i;
        if (s->col < 0)
            return kz_ctx__error(s->ctx, KZ_E_INPUT,
                                 "%s:%ld: no column \"%s\" with the keys of measure %s", s->file,
                                 row->line, s->column, s->m->id);
        return KZ_OK;
    }
    if (row->fields[s->col][0] == '\0')
        return KZ_OK;
    snprintf(where, sizeof(where), "line %ld", row->line);
    return add_key(s, row->fields[s->col], where);
}

/* Join a list with commas into an owned string. */
static char *join_list(char **v, size_t n)
{
    size_t len = 1, i, o = 0;
    char *s;
    for (i = 0; i < n; i++)
        len += strlen(v[i]) + 1;
    if ((s = malloc(len)) == NULL)
        return NULL;
    s[0] = '\0';
    for (i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (i > 0)
            s[o++] = ',';
        memcpy(s + o, v[i], l + 1);
        o += l;
    }
    return s;
}

static int register_measure(kz_db *db, kz_ctx *ctx, const kz_project *p, const kz_measure_def *M,
                            const kz_level_keys *lk)
{
    kz_store_measure m;
    keys_state ks;
    char start[11], end[11];
    int li = kz_project_level_index(p, M->level), rc = KZ_OK;
    size_t i;

    memset(&m, 0, sizeof(m));
    memset(&ks, 0, sizeof(ks));
    ks.ctx = ctx;
    ks.m = &m;
    ks.col = -1;
    ks.width = li >= 0 ? p->levels[li].key_width : 0;
    if (kz_period_parse(start, M->start) != KZ_OK ||
        (M->end && kz_period_parse(end, M->end) != KZ_OK))
        return kz_ctx__error(ctx, KZ_E_USAGE, "measure %s: bad start or end date", M->id);
    m.id = M->id;
    m.name = M->name;
    m.kind = M->kind;
    m.level = M->level;
    m.start = start;
    m.end = M->end ? end : NULL;
    m.budget = M->budget;
    m.k = M->k;
    m.illustrative = M->illustrative;
    m.comparison = M->comparison == KZ_MEASURE_COMPARE_NEAREST ? "nearest" : "all";
    m.indicators = join_list(M->indicators, M->n_indicators);
    m.match_on = M->n_match_on ? join_list(M->match_on, M->n_match_on) : NULL;
    if (m.indicators == NULL || (M->n_match_on && m.match_on == NULL)) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < M->n_areas && rc == KZ_OK; i++)
        rc = add_key(&ks, M->areas[i], "areas");
    if (rc == KZ_OK && M->areas_file != NULL) {
        ks.file = M->areas_file;
        ks.column = M->areas_key ? M->areas_key : "key";
        rc = kz_csv_read(ctx, M->areas_file, NULL, key_row, &ks);
    }
    for (i = 0; i < m.n_keys && rc == KZ_OK; i++)
        if (kz_strmap__get(lk->map, m.keys[i]) < 0)
            rc = kz_ctx__error(ctx, KZ_E_INPUT,
                               "measure %s: area \"%s\" is no area of level %s; check the key",
                               M->id, m.keys[i], M->level);
    if (rc == KZ_OK)
        rc = kz_store__put_measure(db, ctx, &m);
done:
    free(m.indicators);
    free(m.match_on);
    for (i = 0; i < m.n_keys; i++)
        free(m.keys[i]);
    free(m.keys);
    return rc;
}

static int put(kz_db *db, kz_ctx *ctx, const kz_effect_report *r, const char *analysis,
               const char *period, const char *measure, double value, const char *note)
{
    return kz_store__put_statistic(db, ctx, analysis, r->level, period, r->indicator, measure,
                                   value, note);
}

/* The statistics rows of one evaluation. */
static int store_report(kz_db *db, kz_ctx *ctx, const kz_effect_report *r)
{
    const kz_effect_result *e = &r->result;
    char analysis[96], note[512], name[48], match[256] = "";
    size_t j, start;
    int rc = KZ_OK, o;
    struct {
        const char *name;
        double value;
    } rows[] = {
        {"status", (double)e->status},
        {"did", e->did},
        {"se", e->se},
        {"t", e->t},
        {"p", e->p},
        {"df", e->df},
        {"ci_low", e->ci_low},
        {"ci_high", e->ci_high},
        {"n_treated", (double)e->n_treated},
        {"n_comparison", (double)e->n_comparison},
        {"n_obs", (double)e->n_obs},
        {"n_pre", (double)e->n_pre},
        {"n_post", (double)e->n_post},
        {"means_did", e->means_did},
        {"pretrend_status", (double)e->pretrend_status},
        {"pretrend_diff", e->pretrend_diff},
        {"pretrend_se", e->pretrend_se},
        {"pretrend_t", e->pretrend_t},
        {"pretrend_p", e->pretrend_p},
        {"pretrend_violated",
         e->pretrend_status == KZ_EFFECT_OK ? (double)e->pretrend_violated : NAN},
    };

    snprintf(analysis, sizeof(analysis), "effect:%s", r->measure);
    for (j = 0; j < r->n_match_on; j++) {
        size_t l = strlen(match);
        snprintf(match + l, sizeof(match) - l, "%s%s", j ? "," : "", r->match_on[j]);
    }
    if (r->comparison == KZ_COMPARISON_NEAREST)
        o = snprintf(note, sizeof(note), "%s%scomparison nearest:%zu on %s at %s",
                     r->illustrative ? NOTE_ILLUSTRATIVE : "", r->illustrative ? "; " : "", r->k,
                     match, r->baseline);
    else
        o = snprintf(note, sizeof(note), "%s%scomparison all untreated areas",
                     r->illustrative ? NOTE_ILLUSTRATIVE : "", r->illustrative ? "; " : "");
    if (e->status != KZ_EFFECT_OK && o > 0 && (size_t)o < sizeof(note))
        snprintf(note + o, sizeof(note) - (size_t)o, "; no estimate: %s",
                 kz_effect_status_text(e->status));
    for (j = 0; j < sizeof(rows) / sizeof(rows[0]) && rc == KZ_OK; j++)
        rc = put(db, ctx, r, analysis, r->start, rows[j].name, rows[j].value, note);
    for (start = 0; start < r->n_periods && strcmp(r->periods[start], r->start) < 0; start++)
        ;
    for (j = 0; j < r->n_periods && rc == KZ_OK; j++) {
        long k = (long)j - (long)start;
        snprintf(name, sizeof(name), "event_%ld", k);
        if ((rc = put(db, ctx, r, analysis, r->periods[j], name, r->event[j], note)) != KZ_OK)
            break;
        snprintf(name, sizeof(name), "event_%ld_se", k);
        if ((rc = put(db, ctx, r, analysis, r->periods[j], name, r->event_se[j], note)) != KZ_OK ||
            (rc = put(db, ctx, r, analysis, r->periods[j], "mean_treated", r->mean_treated[j],
                      note)) != KZ_OK)
            break;
        rc = put(db, ctx, r, analysis, r->periods[j], "mean_comparison", r->mean_comparison[j],
                 note);
    }
    return rc;
}

/* <id>_treated: 1 for the measure's areas, 0 for the others of its level. */
static int store_flag(kz_db *db, kz_ctx *ctx, const kz_measure_def *M, const kz_level_keys *lk)
{
    kz_store_measure m;
    char name[64], label[300], period[11];
    double *v = NULL;
    size_t i;
    int rc;

    if ((rc = kz_store__get_measure(db, ctx, M->id, &m)) != KZ_OK)
        return rc;
    if ((rc = kz_store__latest_period(db, ctx, M->level, period)) != KZ_OK || period[0] == '\0')
        goto done;
    if ((v = malloc((lk->n + 1) * sizeof(double))) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < lk->n; i++)
        v[i] = 0;
    for (i = 0; i < m.n_keys; i++) {
        long at = kz_strmap__get(lk->map, m.keys[i]);
        if (at >= 0)
            v[at] = 1;
    }
    snprintf(name, sizeof(name), "%s_treated", M->id);
    snprintf(label, sizeof(label), "%s%.200s: Maßnahmengebiet (1 = ja)",
             M->illustrative ? "[ILLUSTRATIV] " : "", M->name);
    if ((rc = kz_store__put_derived(db, ctx, name, label, NULL, "neutral", "flag",
                                    M->illustrative ? NOTE_ILLUSTRATIVE
                                                    : "area covered by the measure")) == KZ_OK)
        rc = kz_store__put_values(db, ctx, M->level, period, name, lk->keys, lk->n, v);
done:
    free(v);
    kz_store__measure_dispose(&m);
    return rc;
}

int kz_compute__effects(kz_db *db, kz_ctx *ctx, const kz_project *p)
{
    size_t i, j;
    int rc;

    if ((rc = kz_store__clear_measures(db, ctx)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_measures; i++) {
        const kz_measure_def *M = &p->measures[i];
        kz_level_keys lk = {NULL, NULL, 0};
        if ((rc = kz_store__level_keys(db, ctx, M->level, 0, &lk)) != KZ_OK)
            return rc;
        rc = register_measure(db, ctx, p, M, &lk);
        if (rc == KZ_OK)
            rc = store_flag(db, ctx, M, &lk);
        kz_store__free_keys(&lk);
        if (rc != KZ_OK)
            return rc;
        for (j = 0; j < M->n_indicators; j++) {
            kz_effect_report *r = NULL;
            if ((rc = kz_effect_evaluate(&r, ctx, db, M->id, M->indicators[j], NULL)) != KZ_OK)
                return rc;
            rc = store_report(db, ctx, r);
            if (r->result.status != KZ_EFFECT_OK)
                kz_ctx__log(ctx, KZ_LOG_WARN, "measure %s, %s: no estimate: %s", M->id,
                            M->indicators[j], kz_effect_status_text(r->result.status));
            else
                kz_ctx__log(ctx, KZ_LOG_INFO,
                            "measure %s%s, %s: DiD %.4g (SE %.4g, p %.3g), %zu treated vs %zu "
                            "comparison areas",
                            M->id, M->illustrative ? " (illustrative)" : "", M->indicators[j],
                            r->result.did, r->result.se, r->result.p, r->result.n_treated,
                            r->result.n_comparison);
            kz_effect_report_free(r);
            if (rc != KZ_OK)
                return rc;
        }
    }
    return KZ_OK;
}
