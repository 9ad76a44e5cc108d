/*
 * kiez classify SRC --field F [--method M] [--classes K] [--breaks a,b,...]
 * Class breaks of a numeric field of any OGR layer (areas or points), with
 * counts and labels; --json for one JSON document on stdout.
 */
#include "cli.h"
#include "kiez/classify.h"
#include "kiez/layer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CMD "classify"
#define MAX_BREAKS (KZ_CLASSIFY_MAX_CLASSES + 1)

static void help(void)
{
    printf("usage: kiez classify SRC --field F [--method M] [--classes K] [options]\n"
           "\n"
           "Class breaks of the numeric field F of an OGR layer (areas or points).\n"
           "SRC is \"path\" or \"path|layername=L\". Null and non-numeric values are\n"
           "skipped and counted. Classes hold lower < x <= upper (the first also x == lower).\n"
           "\n"
           "options:\n"
           "  --field F        the field to classify (required)\n"
           "  --method M       quantile (default), equal, stddev, jenks (Fisher's exact\n"
           "                   optimal classification) or manual\n"
           "  --classes K      number of classes (default 5; with --breaks: their count + 1)\n"
           "  --breaks a,b,..  manual breaks: K-1 inner breaks, or K+1 breaks including\n"
           "                   the outer ones (values outside are not classified)\n"
           "  --sd-step S      stddev: 1 (default) or 0.5 standard deviations per class\n"
           "  --sample-sd      stddev: sample sd (n-1) instead of population sd (n)\n"
           "  --decimals N     decimals of the class labels (default 2)\n"
           "  --json           one JSON document on stdout\n"
           "\n"
           "exit codes: 0 ok, 1 usage, 2 bad input data, 3 I/O, 4 internal\n");
}

/* Parse "a,b,c" into out (at most max); returns the count or -1. */
static int parse_breaks(double *out, int max, const char *text)
{
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || n >= max || (*end != ',' && *end != '\0'))
            return -1;
        out[n++] = v;
        if (*end == '\0')
            return n;
        p = end + 1;
    }
}

/* Text of a field as a finite number; 0 on success. Leading and trailing
 * blanks are allowed; "nan", "inf" are not numbers here. */
static int parse_value(double *out, const char *text)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Read the layer as areas, then as points. Returns KZ_OK, a result code
 * with the message on the context, or the negated result code of the areas
 * attempt when neither worked (its message is then already printed: the
 * points attempt overwrote it on the context). */
static int read_layer(kz_layer **out, kz_cli *cli, const char *src, const char *field)
{
    const char *fields[1];
    kz_layer_options o;
    char first[1024];
    int rc, rc2;

    fields[0] = field;
    memset(&o, 0, sizeof(o));
    o.kind = KZ_GEOM_AREAS;
    o.fields = fields;
    o.n_fields = 1;
    rc = kz_layer_read(out, cli->ctx, src, &o);
    if (rc != KZ_E_INPUT)
        return rc;
    snprintf(first, sizeof(first), "%s", kz_ctx_errmsg(cli->ctx));
    o.kind = KZ_GEOM_POINTS;
    rc2 = kz_layer_read(out, cli->ctx, src, &o);
    if (rc2 == KZ_OK)
        return KZ_OK;
    /* neither areas nor points: report the first complaint */
    fprintf(stderr, "kiez %s: %s\n", CMD, first);
    return -rc;
}

static int print_json(const char *src, const char *field, const char *method, size_t n,
                      size_t n_null, size_t n_bad, size_t n_out, const double *b, int k,
                      const size_t *counts, int decimals)
{
    json_t *doc = json_object(), *jb = json_array(), *jc = json_array();
    char label[1024];
    int i, rc = 0;
    if (!doc || !jb || !jc) {
        json_decref(doc);
        json_decref(jb);
        json_decref(jc);
        return 4;
    }
    for (i = 0; i <= k; i++)
        json_array_append_new(jb, json_real(b[i]));
    for (i = 0; i < k; i++) {
        kz_classify_label(label, sizeof(label), b[i], b[i + 1], decimals);
        json_array_append_new(jc, json_pack("{s:i, s:f, s:f, s:I, s:s}", "class", i + 1, "lower",
                                            b[i], "upper", b[i + 1], "count", (json_int_t)counts[i],
                                            "label", label));
    }
    json_object_set_new(doc, "source", json_string(src));
    json_object_set_new(doc, "field", json_string(field));
    json_object_set_new(doc, "method", json_string(method));
    json_object_set_new(doc, "n", json_integer((json_int_t)n));
    json_object_set_new(doc, "skipped_null", json_integer((json_int_t)n_null));
    json_object_set_new(doc, "skipped_non_numeric", json_integer((json_int_t)n_bad));
    json_object_set_new(doc, "unclassified", json_integer((json_int_t)n_out));
    json_object_set_new(doc, "k", json_integer(k));
    json_object_set_new(doc, "breaks", jb);
    json_object_set_new(doc, "classes", jc);
    if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0)
        rc = 3;
    fputc('\n', stdout);
    json_decref(doc);
    return rc;
}

static void print_text(const char *field, const char *method, size_t n, size_t n_null, size_t n_bad,
                       size_t n_out, const double *b, int k, const size_t *counts, int decimals)
{
    char label[1024];
    int i;
    printf("field \"%s\", method %s, %d class%s, %zu value%s", field, method, k, k == 1 ? "" : "es",
           n, n == 1 ? "" : "s");
    if (n_null || n_bad)
        printf(" (skipped: %zu null, %zu non-numeric)", n_null, n_bad);
    printf("\n%-6s %-28s %s\n", "class", "range", "count");
    for (i = 0; i < k; i++) {
        int width = kz_classify_label(label, sizeof(label), b[i], b[i + 1], decimals);
        const char *p;
        for (p = label; *p; p++) /* pad by characters: UTF-8 continuation bytes take no column */
            if (((unsigned char)*p & 0xC0) == 0x80)
                width--;
        printf("%-6d %s%*s %zu\n", i + 1, label, width < 28 ? 28 - width : 0, "", counts[i]);
    }
    if (n_out)
        printf("outside the breaks: %zu\n", n_out);
}

int kz_cmd_classify(int argc, char **argv, kz_cli *cli)
{
    const char *src = NULL, *field = NULL, *method_name = "quantile";
    long classes = -1, decimals = 2;
    double sd_step = 1.0, manual[MAX_BREAKS], breaks[MAX_BREAKS + 1];
    int n_manual = -1, method_given = 0, sample_sd = 0, i, k = 0, rc, exit_code = 0;
    kz_classify_options o;
    kz_layer *layer = NULL;
    double *values = NULL;
    int *cls = NULL;
    size_t counts[KZ_CLASSIFY_MAX_CLASSES], n = 0, n_null = 0, n_bad = 0, n_out, f, nf;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (kz_cli_is_help(a)) {
            help();
            return 0;
        } else if (strcmp(a, "--sample-sd") == 0) {
            sample_sd = 1;
            continue;
        } else if (a[0] == '-' && a[1] == '-' && !val) {
            return kz_cli_usage_error(CMD, "%s needs a value", a);
        } else if (strcmp(a, "--field") == 0) {
            field = val;
        } else if (strcmp(a, "--method") == 0) {
            method_name = val;
            method_given = 1;
        } else if (strcmp(a, "--classes") == 0) {
            if (kz_cli_parse_long(&classes, val) != 0 || classes < 1 ||
                classes > KZ_CLASSIFY_MAX_CLASSES)
                return kz_cli_usage_error(CMD, "--classes must be 1..%d, not \"%s\"",
                                          KZ_CLASSIFY_MAX_CLASSES, val);
        } else if (strcmp(a, "--breaks") == 0) {
            n_manual = parse_breaks(manual, MAX_BREAKS, val);
            if (n_manual < 1)
                return kz_cli_usage_error(CMD,
                                          "--breaks wants numbers separated by commas, "
                                          "not \"%s\"",
                                          val);
        } else if (strcmp(a, "--sd-step") == 0) {
            if (kz_cli_parse_double(&sd_step, val) != 0 || (sd_step != 1.0 && sd_step != 0.5))
                return kz_cli_usage_error(CMD, "--sd-step must be 1 or 0.5, not \"%s\"", val);
        } else if (strcmp(a, "--decimals") == 0) {
            if (kz_cli_parse_long(&decimals, val) != 0 || decimals > 15)
                return kz_cli_usage_error(CMD, "--decimals must be 0..15, not \"%s\"", val);
        } else if (a[0] == '-' && a[1] != '\0') {
            return kz_cli_usage_error(CMD, "unknown option %s", a);
        } else {
            if (src)
                return kz_cli_usage_error(CMD, "one source only (got \"%s\" and \"%s\")", src, a);
            src = a;
            continue;
        }
        i++; /* the option's value */
    }
    if (!src)
        return kz_cli_usage_error(CMD, "no source given");
    if (!field)
        return kz_cli_usage_error(CMD, "--field is required");
    memset(&o, 0, sizeof(o));
    if (n_manual > 0 && !method_given)
        method_name = "manual";
    o.method = kz_classify_method_parse(method_name);
    if (o.method < 0)
        return kz_cli_usage_error(CMD,
                                  "unknown method \"%s\" (quantile, equal, stddev, jenks, "
                                  "manual)",
                                  method_name);
    if (o.method == KZ_CLASSIFY_MANUAL) {
        if (n_manual < 0)
            return kz_cli_usage_error(CMD, "--method manual needs --breaks");
        if (classes < 0)
            classes = n_manual + 1;
        if (n_manual != classes - 1 && n_manual != classes + 1)
            return kz_cli_usage_error(CMD, "%ld classes need %ld inner or %ld breaks, got %d",
                                      classes, classes - 1, classes + 1, n_manual);
        o.breaks = manual;
        o.n_breaks = (size_t)n_manual;
    } else if (n_manual >= 0) {
        return kz_cli_usage_error(CMD, "--breaks goes with --method manual, not %s", method_name);
    }
    if (classes < 0)
        classes = 5;
    if (classes > KZ_CLASSIFY_MAX_CLASSES)
        return kz_cli_usage_error(CMD, "at most %d classes", KZ_CLASSIFY_MAX_CLASSES);
    o.classes = (int)classes;
    o.sd_step = sd_step;
    o.sample_sd = sample_sd;

    rc = read_layer(&layer, cli, src, field);
    if (rc < 0)
        return kz_exit_code(-rc);
    if (rc != KZ_OK)
        return kz_cli_fail(cli, CMD, rc);

    nf = kz_layer_count(layer);
    values = malloc((nf ? nf : 1) * sizeof(*values));
    cls = malloc((nf ? nf : 1) * sizeof(*cls));
    if (!values || !cls) {
        fprintf(stderr, "kiez %s: out of memory\n", CMD);
        exit_code = 4;
        goto done;
    }
    for (f = 0; f < nf; f++) {
        const char *text = kz_layer_field(layer, f, 0);
        if (!text || text[0] == '\0')
            n_null++;
        else if (parse_value(&values[n], text) != 0)
            n_bad++;
        else
            n++;
    }
    if (n_null + n_bad > 0 && cli->verbosity > 0)
        fprintf(stderr, "kiez %s: skipped %zu null and %zu non-numeric value%s of \"%s\"\n", CMD,
                n_null, n_bad, n_null + n_bad == 1 ? "" : "s", field);
    if (n == 0) {
        fprintf(stderr, "kiez %s: %s: field \"%s\" has no numeric value in %zu feature%s\n", CMD,
                src, field, nf, nf == 1 ? "" : "s");
        exit_code = kz_exit_code(KZ_E_INPUT);
        goto done;
    }
    rc = kz_classify_breaks(breaks, &k, cli->ctx, values, n, &o);
    if (rc != KZ_OK) {
        exit_code = kz_cli_fail(cli, CMD, rc);
        goto done;
    }
    n_out = kz_classify_assign(cls, counts, breaks, k, values, n);
    if (k < o.classes && cli->verbosity > 0)
        fprintf(stderr,
                "kiez %s: %d classes instead of %d: the field has too few distinct "
                "values\n",
                CMD, k, o.classes);
    if (cli->json)
        exit_code = print_json(src, field, method_name, n, n_null, n_bad, n_out, breaks, k, counts,
                               (int)decimals);
    else
        print_text(field, method_name, n, n_null, n_bad, n_out, breaks, k, counts, (int)decimals);
done:
    free(values);
    free(cls);
    kz_layer_free(layer);
    return exit_code;
}
