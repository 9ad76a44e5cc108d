/*
 * kiez effect DB --measure ID [--indicator NAME] [--comparison all|nearest:K]:
 * difference-in-differences of a registered measure against a comparison
 * group, with the parallel-trends check and the event study.
 */
#include "cli.h"
#include "kiez/effect.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ILLUSTRATIVE "ILLUSTRATIVE register, not a real measure"

static const char usage[] =
    "usage: kiez effect DB.sqlite --measure ID [--indicator NAME]\n"
    "                   [--comparison all|nearest|nearest:K] [--json]\n"
    "\n"
    "Did the areas of a measure (the measures: section of the project file)\n"
    "develop differently after its start than a comparison group?\n"
    "Difference-in-differences as a two-way fixed effects regression (area and\n"
    "period effects) with standard errors clustered by area (CR1) and a 95%\n"
    "confidence interval from Student t with (areas - 1) degrees of freedom;\n"
    "a check of parallel trends before the start (difference of the linear\n"
    "trends, violated at p < 0.05); and an event study: the effect in each\n"
    "period relative to the last period before the start.\n"
    "\n"
    "  --measure ID       the measure's id\n"
    "  --indicator NAME   indicator to evaluate (default: its first target)\n"
    "  --comparison C     all: every untreated area of the level; nearest:K: the\n"
    "                     K untreated areas closest to a treated area at baseline\n"
    "                     (Euclidean distance of z-scores of the register's\n"
    "                     match_on indicators); default: the register's choice\n"
    "  --json             one JSON document on stdout\n"
    "\n"
    "Periods on or after the start count as after. With fewer than 2 treated\n"
    "or 2 comparison areas observed before and after, or without a period\n"
    "before or after the start, no estimate is given, and the reason is said.\n";

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *strings(char **v, size_t n)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static size_t start_index(const kz_effect_report *r)
{
    size_t s;
    for (s = 0; s < r->n_periods && strcmp(r->periods[s], r->start) < 0; s++)
        ;
    return s;
}

static int print_json(const kz_effect_report *r)
{
    const kz_effect_result *e = &r->result;
    json_t *doc = json_object(), *cmp = json_object(), *est, *pre = json_object();
    json_t *ev = json_array();
    size_t j, s = start_index(r);

    json_object_set_new(doc, "measure", json_string(r->measure));
    json_object_set_new(doc, "name", json_string(r->name));
    json_object_set_new(doc, "kind", r->kind ? json_string(r->kind) : json_null());
    json_object_set_new(doc, "illustrative", json_boolean(r->illustrative));
    if (r->illustrative)
        json_object_set_new(doc, "note", json_string(ILLUSTRATIVE));
    json_object_set_new(doc, "level", json_string(r->level));
    json_object_set_new(doc, "indicator", json_string(r->indicator));
    json_object_set_new(doc, "start", json_string(r->start));
    json_object_set_new(doc, "end", r->end[0] ? json_string(r->end) : json_null());
    json_object_set_new(doc, "budget", num(r->budget));
    json_object_set_new(cmp, "method",
                        json_string(r->comparison == KZ_COMPARISON_NEAREST ? "nearest" : "all"));
    if (r->comparison == KZ_COMPARISON_NEAREST) {
        json_object_set_new(cmp, "k", json_integer((json_int_t)r->k));
        json_object_set_new(cmp, "match_on", strings(r->match_on, r->n_match_on));
    }
    json_object_set_new(cmp, "baseline", r->baseline[0] ? json_string(r->baseline) : json_null());
    json_object_set_new(doc, "comparison", cmp);
    json_object_set_new(
        doc, "status",
        json_string(e->status == KZ_EFFECT_OK ? "ok" : kz_effect_status_text(e->status)));
    json_object_set_new(doc, "n_registered", json_integer((json_int_t)r->n_registered));
    json_object_set_new(doc, "n_treated", json_integer((json_int_t)e->n_treated));
    json_object_set_new(doc, "n_comparison", json_integer((json_int_t)e->n_comparison));
    json_object_set_new(doc, "n_obs", json_integer((json_int_t)e->n_obs));
    json_object_set_new(doc, "n_pre", json_integer((json_int_t)e->n_pre));
    json_object_set_new(doc, "n_post", json_integer((json_int_t)e->n_post));
    if (e->status == KZ_EFFECT_OK) {
        est = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "did", num(e->did), "se",
                        num(e->se), "t", num(e->t), "p", num(e->p), "df", num(e->df), "ci_low",
                        num(e->ci_low), "ci_high", num(e->ci_high), "means_did", num(e->means_did));
    } else {
        est = json_null();
    }
    json_object_set_new(doc, "estimate", est);
    json_object_set_new(pre, "status",
                        json_string(e->pretrend_status == KZ_EFFECT_OK
                                        ? "ok"
                                        : kz_effect_status_text(e->pretrend_status)));
    json_object_set_new(pre, "diff_per_year", num(e->pretrend_diff));
    json_object_set_new(pre, "se", num(e->pretrend_se));
    json_object_set_new(pre, "t", num(e->pretrend_t));
    json_object_set_new(pre, "p", num(e->pretrend_p));
    json_object_set_new(pre, "violated",
                        e->pretrend_status == KZ_EFFECT_OK ? json_boolean(e->pretrend_violated)
                                                           : json_null());
    json_object_set_new(doc, "pretrend", pre);
    for (j = 0; j < r->n_periods; j++)
        json_array_append_new(ev, json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "period",
                                            r->periods[j], "k", (json_int_t)((long)j - (long)s),
                                            "effect", num(r->event[j]), "se", num(r->event_se[j]),
                                            "mean_treated", num(r->mean_treated[j]),
                                            "mean_comparison", num(r->mean_comparison[j])));
    json_object_set_new(doc, "event_study", ev);
    json_object_set_new(doc, "treated_areas", strings(r->treated, r->n_treated));
    json_object_set_new(doc, "comparison_areas", strings(r->compared, r->n_compared));
    json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    fputc('\n', stdout);
    json_decref(doc);
    return 0;
}

/* A number with `prec` decimals (g: significant digits), or NA. */
static void print_num(double v, int prec, int g)
{
    if (!isfinite(v))
        printf("NA");
    else if (g)
        printf("%.*g", prec, v);
    else
        printf("%.*f", prec, v);
}

static void print_text(const kz_effect_report *r)
{
    const kz_effect_result *e = &r->result;
    size_t j, s = start_index(r);

    if (r->illustrative)
        printf("*** %s ***\n", ILLUSTRATIVE);
    printf("measure %s: %s\n", r->measure, r->name);
    printf("  kind %s, level %s, start %s, end %s", r->kind ? r->kind : "-", r->level, r->start,
           r->end[0] ? r->end : "-");
    if (isfinite(r->budget))
        printf(", budget %.2f", r->budget);
    printf("\n  indicator %s\n", r->indicator);
    if (r->comparison == KZ_COMPARISON_NEAREST) {
        printf("  comparison: the %zu untreated areas nearest to a treated area on ", r->k);
        for (j = 0; j < r->n_match_on; j++)
            printf("%s%s", j ? ", " : "", r->match_on[j]);
        printf(" (z-scores) at %s\n", r->baseline[0] ? r->baseline : "-");
    } else {
        printf("  comparison: all untreated areas of level %s\n", r->level);
    }
    printf("  areas: %zu treated (of %zu registered), %zu comparison, observed before and "
           "after\n",
           e->n_treated, r->n_registered, e->n_comparison);
    printf("  periods: %zu before the start, %zu on or after; %zu values\n\n", e->n_pre, e->n_post,
           e->n_obs);
    if (e->status != KZ_EFFECT_OK) {
        printf("NO ESTIMATE: %s.\n", kz_effect_status_text(e->status));
        if (r->illustrative)
            printf("\n*** %s ***\n", ILLUSTRATIVE);
        return;
    }
    printf("difference-in-differences (two-way fixed effects, SE clustered by area, CR1)\n");
    printf("  estimate  ");
    print_num(e->did, 4, 0);
    printf("\n  SE        ");
    print_num(e->se, 4, 0);
    printf("   t ");
    print_num(e->t, 3, 0);
    printf(", df %.0f, p ", e->df);
    print_num(e->p, 4, 1);
    printf("\n  95%% CI    [");
    print_num(e->ci_low, 4, 0);
    printf(", ");
    print_num(e->ci_high, 4, 0);
    printf("]\n  (difference of the mean changes: ");
    print_num(e->means_did, 4, 0);
    printf(")\n\n");
    printf("parallel trends before the start: ");
    if (e->pretrend_status != KZ_EFFECT_OK) {
        printf("not checked: %s\n", kz_effect_status_text(e->pretrend_status));
    } else {
        printf("treated minus comparison trend ");
        print_num(e->pretrend_diff, 4, 0);
        printf(" per year (SE ");
        print_num(e->pretrend_se, 4, 0);
        printf(", t ");
        print_num(e->pretrend_t, 3, 0);
        printf(", p ");
        print_num(e->pretrend_p, 4, 1);
        printf(")\n  %s\n",
               e->pretrend_violated
                   ? "VIOLATED (p < 0.05): the groups already diverged before the start; "
                     "the estimate is not credible"
                   : "not rejected (p >= 0.05)");
    }
    printf("\nevent study (effect relative to %s)\n", r->baseline);
    printf("  period        k     effect         SE    treated comparison\n");
    for (j = 0; j < r->n_periods; j++) {
        printf("  %s %3ld ", r->periods[j], (long)j - (long)s);
        if (isfinite(r->event[j]))
            printf("%10.4f %10.4f", r->event[j], r->event_se[j]);
        else
            printf("%10s %10s", "NA", "NA");
        printf(" %10.4f %10.4f\n", r->mean_treated[j], r->mean_comparison[j]);
    }
    if (r->illustrative)
        printf("\n*** %s ***\n", ILLUSTRATIVE);
}

int kz_cmd_effect(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "effect", *path = NULL, *measure = NULL, *indicator = NULL;
    const char *comparison = NULL;
    kz_effect_report *r = NULL;
    kz_db *db = NULL;
    int a, rc;

    for (a = 1; a < argc; a++) {
        const char **slot = NULL;
        if (kz_cli_is_help(argv[a])) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[a], "--measure") == 0)
            slot = &measure;
        else if (strcmp(argv[a], "--indicator") == 0)
            slot = &indicator;
        else if (strcmp(argv[a], "--comparison") == 0)
            slot = &comparison;
        if (slot) {
            if (a + 1 >= argc)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[a]);
            *slot = argv[++a];
            continue;
        }
        if (argv[a][0] == '-' && argv[a][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[a]);
        if (path)
            return kz_cli_usage_error(cmd, "one database only (\"%s\")", argv[a]);
        path = argv[a];
    }
    if (path == NULL)
        return kz_cli_usage_error(cmd, "needs a database DB.sqlite (written by kiez run)");
    if (measure == NULL)
        return kz_cli_usage_error(cmd, "needs --measure ID");
    if ((rc = kz_db_open(&db, cli->ctx, path)) != KZ_OK)
        return kz_cli_fail(cli, cmd, rc);
    rc = kz_effect_evaluate(&r, cli->ctx, db, measure, indicator, comparison);
    kz_db_close(db);
    if (rc != KZ_OK)
        return kz_cli_fail(cli, cmd, rc);
    if (cli->json)
        print_json(r);
    else
        print_text(r);
    if (r->result.status != KZ_EFFECT_OK)
        fprintf(stderr, "kiez %s: no estimate: %s\n", cmd, kz_effect_status_text(r->result.status));
    kz_effect_report_free(r);
    return 0;
}
