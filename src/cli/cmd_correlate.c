/*
 * kiez correlate SRC --fields A,B,...: Pearson or Spearman correlation
 * matrix with pairwise n and p-values.
 */
#include "cli.h"
#include "kiez/correlate.h"
#include "kiez/layer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 256

static void help(void)
{
    printf("usage: kiez correlate SRC --fields A,B,... [--method pearson|spearman] [--key F]\n"
           "                      [--json]\n\n"
           "Correlation matrix of numeric fields over the features of SRC (any OGR\n"
           "source, \"path\" or \"path|layername=L\"), with the number of pairs and the\n"
           "two-sided p-value of each coefficient (t test with n - 2 degrees of freedom,\n"
           "as R cor.test; for Spearman the same t approximation).\n\n"
           "  --fields A,B,...  two or more fields (numbers stored as text are read)\n"
           "  --method M        pearson (default) or spearman (ties get average ranks)\n"
           "  --json            one JSON document on stdout\n\n"
           "A null or non-numeric value is missing: each pair of fields uses the\n"
           "features where both are present (pairwise deletion); how many values are\n"
           "missing per field is reported on stderr. A coefficient is NA (null in JSON)\n"
           "with fewer than 3 pairs or a constant field.\n");
}

/* Split "A,B,C" into fields (in a copy of the text). */
static int split_fields(char **copy, const char **fields, size_t *n, const char *text)
{
    size_t len = strlen(text);
    char *s, *start;
    *n = 0;
    if ((*copy = malloc(len + 1)) == NULL)
        return -1;
    memcpy(*copy, text, len + 1);
    start = *copy;
    for (s = *copy;; s++) {
        if (*s == ',' || *s == '\0') {
            int end = *s == '\0';
            *s = '\0';
            if (*start == '\0' || *n == MAX_FIELDS)
                return -1;
            fields[(*n)++] = start;
            if (end)
                break;
            start = s + 1;
        }
    }
    return 0;
}

int kz_cmd_correlate(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "correlate", *src = NULL, *fields_arg = NULL, *method_arg = NULL;
    const char *key = NULL, *fields[MAX_FIELDS];
    char *copy = NULL;
    size_t k = 0, n = 0, f, u, i;
    double **cols = NULL, *r = NULL, *p = NULL;
    size_t *pairs = NULL, *missing = NULL;
    kz_layer_options lo;
    kz_layer *layer = NULL;
    int method = KZ_CORR_PEARSON, rc = 0, res, a;

    for (a = 1; a < argc; a++) {
        const char **slot = NULL;
        if (kz_cli_is_help(argv[a])) {
            help();
            return 0;
        }
        if (strcmp(argv[a], "--fields") == 0)
            slot = &fields_arg;
        else if (strcmp(argv[a], "--method") == 0)
            slot = &method_arg;
        else if (strcmp(argv[a], "--key") == 0)
            slot = &key;
        if (slot) {
            if (a + 1 >= argc)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[a]);
            *slot = argv[++a];
            continue;
        }
        if (argv[a][0] == '-' && argv[a][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[a]);
        if (src)
            return kz_cli_usage_error(cmd, "too many arguments (\"%s\")", argv[a]);
        src = argv[a];
    }
    if (src == NULL)
        return kz_cli_usage_error(cmd, "needs a source layer SRC");
    if (fields_arg == NULL)
        return kz_cli_usage_error(cmd, "needs --fields A,B,...");
    if (method_arg) {
        if (strcmp(method_arg, "pearson") == 0)
            method = KZ_CORR_PEARSON;
        else if (strcmp(method_arg, "spearman") == 0)
            method = KZ_CORR_SPEARMAN;
        else
            return kz_cli_usage_error(cmd, "--method is pearson or spearman, not \"%s\"",
                                      method_arg);
    }
    if (split_fields(&copy, fields, &k, fields_arg) != 0 || k < 2) {
        free(copy);
        return kz_cli_usage_error(cmd,
                                  "--fields needs two to %d non-empty names separated by "
                                  "commas",
                                  MAX_FIELDS);
    }

    memset(&lo, 0, sizeof(lo));
    lo.kind = KZ_GEOM_AREAS;
    lo.key_field = key;
    lo.fields = fields;
    lo.n_fields = k;
    res = kz_layer_read(&layer, cli->ctx, src, &lo);
    if (res == KZ_E_INPUT && strstr(kz_ctx_errmsg(cli->ctx), "not a polygon") != NULL) {
        /* Not polygons: correlation needs no geometry; try points. */
        lo.kind = KZ_GEOM_POINTS;
        res = kz_layer_read(&layer, cli->ctx, src, &lo);
    }
    if (res != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, res);
        goto done;
    }
    n = kz_layer_count(layer);
    cols = calloc(k, sizeof(double *));
    missing = calloc(k, sizeof(size_t));
    r = malloc(k * k * sizeof(double));
    p = malloc(k * k * sizeof(double));
    pairs = malloc(k * k * sizeof(size_t));
    if (!cols || !missing || !r || !p || !pairs) {
        fprintf(stderr, "kiez %s: out of memory\n", cmd);
        rc = 4;
        goto done;
    }
    for (f = 0; f < k; f++) {
        if ((cols[f] = malloc((n ? n : 1) * sizeof(double))) == NULL) {
            fprintf(stderr, "kiez %s: out of memory\n", cmd);
            rc = 4;
            goto done;
        }
        for (i = 0; i < n; i++) {
            const char *text = kz_layer_field(layer, i, f);
            char *end = NULL;
            double v = text ? strtod(text, &end) : NAN;
            if (text != NULL && end != text)
                while (*end == ' ' || *end == '\t')
                    end++;
            if (text == NULL || end == text || *end != '\0' || !isfinite(v)) {
                v = NAN;
                missing[f]++;
            }
            cols[f][i] = v;
        }
        if (missing[f] > 0)
            fprintf(stderr,
                    "kiez %s: warning: field \"%s\": %zu of %zu values are null or not numbers; "
                    "pairs with them are left out\n",
                    cmd, fields[f], missing[f], n);
    }
    res = kz_correlate_matrix(r, p, pairs, cli->ctx, (const double *const *)cols, k, n, method);
    if (res != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, res);
        goto done;
    }
    if (cli->json) {
        json_t *names = json_array(), *jr = json_array(), *jp = json_array(), *jn = json_array();
        json_t *doc;
        for (f = 0; f < k; f++) {
            json_t *rr = json_array(), *pr = json_array(), *nr = json_array();
            json_array_append_new(names, json_string(fields[f]));
            for (u = 0; u < k; u++) {
                double rv = r[f * k + u], pv = p[f * k + u];
                json_array_append_new(rr, isfinite(rv) ? json_real(rv) : json_null());
                json_array_append_new(pr, isfinite(pv) ? json_real(pv) : json_null());
                json_array_append_new(nr, json_integer((json_int_t)pairs[f * k + u]));
            }
            json_array_append_new(jr, rr);
            json_array_append_new(jp, pr);
            json_array_append_new(jn, nr);
        }
        doc = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o}", "source", src, "method",
                        method == KZ_CORR_SPEARMAN ? "spearman" : "pearson", "features",
                        (json_int_t)n, "fields", names, "r", jr, "p", jp, "n", jn);
        if (doc == NULL) {
            fprintf(stderr, "kiez %s: cannot build the JSON document\n", cmd);
            rc = 4;
            goto done;
        }
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("%s correlation, %zu features\n\n",
               method == KZ_CORR_SPEARMAN ? "Spearman" : "Pearson", n);
        printf("field_a\tfield_b\tr\tp\tn\n");
        for (f = 0; f < k; f++)
            for (u = f + 1; u < k; u++)
                if (isnan(r[f * k + u]))
                    printf("%s\t%s\tNA\tNA\t%zu\n", fields[f], fields[u], pairs[f * k + u]);
                else
                    printf("%s\t%s\t%.4f\t%.4g\t%zu\n", fields[f], fields[u], r[f * k + u],
                           p[f * k + u], pairs[f * k + u]);
    }
done:
    if (cols)
        for (f = 0; f < k; f++)
            free(cols[f]);
    free(cols);
    free(missing);
    free(r);
    free(p);
    free(pairs);
    free(copy);
    kz_layer_free(layer);
    return rc;
}
