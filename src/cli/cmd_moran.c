/*
 * kiez moran SRC --field F: global Moran's I (univariate, bivariate with
 * --with, empirical Bayes rates with --base).
 *
 * Also home of the helpers the spatial commands share (moran, lisa); they
 * are declared again in cmd_lisa.c.
 */
#include "cli.h"
#include "kiez/layer.h"
#include "kiez/moran.h"
#include "kiez/weights.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared by moran and lisa ------------------------------------ */

typedef struct kz_cli_spatial {
    const char *src, *field, *key, *base, *with, *weights, *save_weights;
    const char *outpath, *layer_name;
    double snap; /* KZ_WEIGHTS_TOL_AUTO unless --snap */
    int style;
    long permutations, seed, threads;
    double alpha;
    int fdr;
    /* loaded */
    kz_layer *layer;
    kz_weights *w;
    double *x, *y, *b; /* field, --with, --base values */
    char *kind_name;   /* "queen", "knn:6", a file name */
} kz_cli_spatial;

int kz_cli_spatial_args(kz_cli_spatial *a, const char *cmd, int argc, char **argv, int lisa);
int kz_cli_spatial_load(kz_cli_spatial *a, kz_cli *cli, const char *cmd);
void kz_cli_spatial_free(kz_cli_spatial *a);
json_t *kz_cli_json_number(double v);
json_t *kz_cli_spatial_weights_json(const kz_cli_spatial *a);
void kz_cli_spatial_help_common(void);

json_t *kz_cli_json_number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

void kz_cli_spatial_help_common(void)
{
    printf("  --field F        numeric field to analyse (numbers stored as text are read;\n"
           "                   a null or non-numeric value is an error naming the feature)\n"
           "  --key F          field with the area key, used in messages and output\n"
           "  --weights W      queen (default), rook, knn:K, dist:M (centroids within M\n"
           "                   CRS units), or a GAL/GWT file (ids = --key values, else\n"
           "                   1-based feature order)\n"
           "  --snap TOL       contiguity snapping tolerance in CRS units: polygons whose\n"
           "                   boundaries come within TOL are neighbours (default: 1e-6\n"
           "                   of the layer's extent diagonal; 0 = exact)\n"
           "  --style W|B      row-standardised (default) or binary weights\n"
           "  --save-weights FILE  write the weights as .gal or .gwt\n"
           "  --base F         rates: F holds events, this field the population at risk;\n"
           "                   analyse Assuncao-Reis empirical Bayes rates\n"
           "  --with F         bivariate: the field against the spatial lag of F\n"
           "  --permutations N permutations (default 999; 0 = none)\n"
           "  --seed S         random seed (default 12345); results depend only on it\n"
           "  --threads N      threads for permutations (default: one per core)\n"
           "  --json           one JSON document on stdout\n\n"
           "Contiguity: queen = boundaries within the tolerance; rook = at least two\n"
           "distinct shared boundary points (as spdep poly2nb). Areas without neighbours\n"
           "(islands) are reported and kept with zero weights (spdep zero.policy = TRUE).\n");
}

static int take(const char **out, int *i, int argc, char **argv, const char *name)
{
    if (strcmp(argv[*i], name) != 0)
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 1;
}

/* Parse the arguments. Returns -1 when parsed, else an exit code (0 after
 * --help). */
int kz_cli_spatial_args(kz_cli_spatial *a, const char *cmd, int argc, char **argv, int lisa)
{
    const char *snap = NULL, *style = NULL, *perm = NULL, *seed = NULL, *threads = NULL;
    const char *alpha = NULL;
    int i, r;

    memset(a, 0, sizeof(*a));
    a->snap = KZ_WEIGHTS_TOL_AUTO;
    a->style = KZ_STYLE_W;
    a->permutations = 999;
    a->seed = 12345;
    a->alpha = 0.05;
    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i]))
            return 0;
        if ((r = take(&a->field, &i, argc, argv, "--field")) ||
            (r = take(&a->key, &i, argc, argv, "--key")) ||
            (r = take(&a->weights, &i, argc, argv, "--weights")) ||
            (r = take(&snap, &i, argc, argv, "--snap")) ||
            (r = take(&style, &i, argc, argv, "--style")) ||
            (r = take(&a->save_weights, &i, argc, argv, "--save-weights")) ||
            (r = take(&a->base, &i, argc, argv, "--base")) ||
            (r = take(&a->with, &i, argc, argv, "--with")) ||
            (r = take(&perm, &i, argc, argv, "--permutations")) ||
            (r = take(&seed, &i, argc, argv, "--seed")) ||
            (r = take(&threads, &i, argc, argv, "--threads")) ||
            (lisa && (r = take(&alpha, &i, argc, argv, "--alpha"))) ||
            (lisa && (r = take(&a->outpath, &i, argc, argv, "-o"))) ||
            (lisa && (r = take(&a->outpath, &i, argc, argv, "--output"))) ||
            (lisa && (r = take(&a->layer_name, &i, argc, argv, "--layer")))) {
            if (r < 0)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[i]);
            continue;
        }
        if (lisa && strcmp(argv[i], "--fdr") == 0) {
            a->fdr = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[i]);
        if (a->src != NULL)
            return kz_cli_usage_error(cmd, "too many arguments (\"%s\")", argv[i]);
        a->src = argv[i];
    }
    if (a->src == NULL)
        return kz_cli_usage_error(cmd, "needs a source layer SRC");
    if (a->field == NULL)
        return kz_cli_usage_error(cmd, "needs --field");
    if (a->base && a->with)
        return kz_cli_usage_error(cmd, "--base and --with cannot be combined");
    if (snap && (kz_cli_parse_double(&a->snap, snap) != 0 || a->snap < 0))
        return kz_cli_usage_error(cmd, "--snap needs a distance >= 0, not \"%s\"", snap);
    if (style) {
        if (strcmp(style, "W") == 0 || strcmp(style, "w") == 0)
            a->style = KZ_STYLE_W;
        else if (strcmp(style, "B") == 0 || strcmp(style, "b") == 0)
            a->style = KZ_STYLE_B;
        else
            return kz_cli_usage_error(cmd, "--style is W or B, not \"%s\"", style);
    }
    if (perm && (kz_cli_parse_long(&a->permutations, perm) != 0 || a->permutations > 1000000))
        return kz_cli_usage_error(cmd, "--permutations needs a number 0..1000000, not \"%s\"",
                                  perm);
    if (seed && kz_cli_parse_long(&a->seed, seed) != 0)
        return kz_cli_usage_error(cmd, "--seed needs a non-negative integer, not \"%s\"", seed);
    if (threads && (kz_cli_parse_long(&a->threads, threads) != 0 || a->threads > 64))
        return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"", threads);
    if (alpha && (kz_cli_parse_double(&a->alpha, alpha) != 0 || !(a->alpha > 0 && a->alpha < 1)))
        return kz_cli_usage_error(cmd, "--alpha needs a number between 0 and 1, not \"%s\"", alpha);
    return -1;
}

/* The numbers of field f; a null or non-numeric value is an error naming
 * the feature. Returns KZ_OK or an exit code after a message. */
static int numbers(double *out, const char *cmd, const kz_layer *l, size_t f, const char *field)
{
    size_t i, n = kz_layer_count(l);
    for (i = 0; i < n; i++) {
        const char *text = kz_layer_field(l, i, f), *key = kz_layer_key(l, i);
        char *end = NULL;
        double v = text ? strtod(text, &end) : NAN;
        if (text != NULL && end != text)
            while (*end == ' ' || *end == '\t')
                end++;
        if (text == NULL || end == text || *end != '\0' || !isfinite(v)) {
            fprintf(stderr,
                    "kiez %s: %s: feature %lld%s%s%s: field \"%s\" is %s%s%s; every area needs "
                    "a number\n",
                    cmd, kz_layer_source(l), kz_layer_fid(l, i), key ? " (key \"" : "",
                    key ? key : "", key ? "\")" : "", field, text ? "not a number (\"" : "null",
                    text ? text : "", text ? "\")" : "");
            return 2;
        }
        out[i] = v;
    }
    return KZ_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Read the layer, the values and the weights. Returns -1 on success, else
 * an exit code after a message. */
int kz_cli_spatial_load(kz_cli_spatial *a, kz_cli *cli, const char *cmd)
{
    kz_layer_options lo;
    kz_weights_options wo;
    const char *fields[3];
    size_t nf = 0, n, i, f_with = 0, f_base = 0;
    const char *spec = a->weights ? a->weights : "queen";
    int r;

    fields[nf++] = a->field;
    if (a->with) {
        f_with = nf;
        fields[nf++] = a->with;
    }
    if (a->base) {
        f_base = nf;
        fields[nf++] = a->base;
    }
    memset(&lo, 0, sizeof(lo));
    lo.kind = KZ_GEOM_AREAS;
    lo.key_field = a->key;
    lo.fields = fields;
    lo.n_fields = nf;
    if ((r = kz_layer_read(&a->layer, cli->ctx, a->src, &lo)) != KZ_OK)
        return kz_cli_fail(cli, cmd, r);
    n = kz_layer_count(a->layer);
    if (n < 3) {
        fprintf(stderr, "kiez %s: %s: needs at least 3 areas, has %zu\n", cmd, a->src, n);
        return 2;
    }
    a->x = malloc(n * sizeof(double));
    a->y = a->with ? malloc(n * sizeof(double)) : NULL;
    a->b = a->base ? malloc(n * sizeof(double)) : NULL;
    a->kind_name = malloc(strlen(spec) + 1);
    if (!a->x || (a->with && !a->y) || (a->base && !a->b) || !a->kind_name) {
        fprintf(stderr, "kiez %s: out of memory\n", cmd);
        return 4;
    }
    memcpy(a->kind_name, spec, strlen(spec) + 1);
    if ((r = numbers(a->x, cmd, a->layer, 0, a->field)) != KZ_OK ||
        (a->with && (r = numbers(a->y, cmd, a->layer, f_with, a->with)) != KZ_OK) ||
        (a->base && (r = numbers(a->b, cmd, a->layer, f_base, a->base)) != KZ_OK))
        return r;

    kz_weights_options_init(&wo);
    wo.style = a->style;
    wo.tol = a->snap;
    if (strcmp(spec, "queen") == 0) {
        wo.kind = KZ_WEIGHTS_QUEEN;
    } else if (strcmp(spec, "rook") == 0) {
        wo.kind = KZ_WEIGHTS_ROOK;
    } else if (strncmp(spec, "knn:", 4) == 0) {
        long k;
        wo.kind = KZ_WEIGHTS_KNN;
        if (kz_cli_parse_long(&k, spec + 4) != 0 || k < 1 || k > 1000)
            return kz_cli_usage_error(cmd, "--weights knn:K needs K between 1 and 1000");
        wo.k = (int)k;
    } else if (strncmp(spec, "dist:", 5) == 0) {
        wo.kind = KZ_WEIGHTS_DIST;
        if (kz_cli_parse_double(&wo.distance, spec + 5) != 0 || !(wo.distance > 0))
            return kz_cli_usage_error(cmd, "--weights dist:M needs a distance M > 0");
    } else if (ends_with(spec, ".gal") || ends_with(spec, ".gwt") || ends_with(spec, ".GAL") ||
               ends_with(spec, ".GWT")) {
        const char **keys = NULL;
        if (a->key) {
            keys = malloc(n * sizeof(char *));
            if (keys == NULL) {
                fprintf(stderr, "kiez %s: out of memory\n", cmd);
                return 4;
            }
            for (i = 0; i < n; i++)
                keys[i] = kz_layer_key(a->layer, i);
        }
        r = kz_weights_read(&a->w, cli->ctx, spec, keys, n, a->style);
        free(keys);
        if (r != KZ_OK)
            return kz_cli_fail(cli, cmd, r);
        goto save;
    } else {
        return kz_cli_usage_error(cmd,
                                  "--weights is queen, rook, knn:K, dist:M or a .gal/.gwt file, "
                                  "not \"%s\"",
                                  spec);
    }
    if ((r = kz_weights_from_layer(&a->w, cli->ctx, a->layer, &wo)) != KZ_OK)
        return kz_cli_fail(cli, cmd, r);
save:
    if (a->save_weights) {
        const char **keys = NULL;
        int gwt = ends_with(a->save_weights, ".gwt") || ends_with(a->save_weights, ".GWT");
        if (!gwt && !ends_with(a->save_weights, ".gal") && !ends_with(a->save_weights, ".GAL"))
            return kz_cli_usage_error(cmd, "--save-weights needs a .gal or .gwt file name");
        if (a->key) {
            keys = malloc(n * sizeof(char *));
            if (keys == NULL) {
                fprintf(stderr, "kiez %s: out of memory\n", cmd);
                return 4;
            }
            for (i = 0; i < n; i++)
                keys[i] = kz_layer_key(a->layer, i);
        }
        r = gwt ? kz_weights_write_gwt(cli->ctx, a->w, a->save_weights, keys, a->src, a->key)
                : kz_weights_write_gal(cli->ctx, a->w, a->save_weights, keys, a->src, a->key);
        free(keys);
        if (r != KZ_OK)
            return kz_cli_fail(cli, cmd, r);
    }
    return -1;
}

void kz_cli_spatial_free(kz_cli_spatial *a)
{
    kz_weights_free(a->w);
    kz_layer_free(a->layer);
    free(a->x);
    free(a->y);
    free(a->b);
    free(a->kind_name);
}

/* An area's id in output: its key, else its feature id as text. */
static json_t *area_id(const kz_layer *l, size_t i)
{
    const char *key = kz_layer_key(l, i);
    return key ? json_string(key) : json_integer(kz_layer_fid(l, i));
}

json_t *kz_cli_spatial_weights_json(const kz_cli_spatial *a)
{
    const size_t *isl;
    size_t k = kz_weights_islands(a->w, &isl), i;
    json_t *islands = json_array(), *o;
    for (i = 0; i < k; i++)
        json_array_append_new(islands, area_id(a->layer, isl[i]));
    o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o}", "kind", a->kind_name, "style",
                  kz_weights_style(a->w) == KZ_STYLE_W ? "W" : "B", "n",
                  (json_int_t)kz_weights_n(a->w), "links", (json_int_t)kz_weights_links(a->w),
                  "snap", kz_cli_json_number(kz_weights_tolerance(a->w)), "islands", islands);
    return o;
}

/* ---- the command ------------------------------------------------------------ */

static void help(void)
{
    printf("usage: kiez moran SRC --field F [--key F] [--weights queen|rook|knn:K|dist:M|FILE]\n"
           "                  [--snap TOL] [--style W|B] [--base F | --with F]\n"
           "                  [--permutations N] [--seed S] [--threads N] [--save-weights FILE]\n"
           "                  [--json]\n\n"
           "Global Moran's I of a field over the areas of SRC (any OGR polygon layer,\n"
           "\"path\" or \"path|layername=L\"): I, E[I] = -1/(n-1), variance, z and two-sided\n"
           "p under normality and randomisation, and a permutation pseudo p-value\n"
           "(M+1)/(R+1) (folded, as PySAL esda). Results agree with R spdep moran.test\n"
           "and moran.mc on the same weights.\n\n");
    kz_cli_spatial_help_common();
}

static void print_text(const kz_cli_spatial *a, const kz_moran_result *r)
{
    const char *what = a->with   ? "Bivariate Moran's I"
                       : a->base ? "Moran's I (EB rates)"
                                 : "Moran's I";
    printf("%s of \"%s\"%s%s%s%s%s\n", what, a->field, a->with ? " with the lag of \"" : "",
           a->with ? a->with : "", a->with ? "\"" : "", a->base ? " per \"" : "",
           a->base ? "\"" : "");
    if (a->base)
        printf("  population at risk: \"%s\"\n", a->base);
    printf("weights      %s, style %s, %zu areas, %zu links, %zu islands\n", a->kind_name,
           kz_weights_style(a->w) == KZ_STYLE_W ? "W" : "B", kz_weights_n(a->w),
           kz_weights_links(a->w), r->n_islands);
    printf("I            %.6f\n", r->i);
    if (!a->with) {
        printf("E[I]         %.6f\n", r->expected);
        printf("normality    var %.6g  z %.4f  p %.4g\n", r->var_norm, r->z_norm, r->p_norm);
        if (!isnan(r->var_rand))
            printf("randomis.    var %.6g  z %.4f  p %.4g\n", r->var_rand, r->z_rand, r->p_rand);
    }
    if (r->permutations > 0)
        printf("permutations %ld (seed %ld): pseudo p %.4g, mean %.6f, sd %.6f, z %.4f\n",
               r->permutations, a->seed, r->p_sim, r->mean_sim, r->sd_sim, r->z_sim);
}

int kz_cmd_moran(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "moran";
    kz_cli_spatial a;
    kz_moran_options mo;
    kz_moran_result r;
    int rc, res;

    rc = kz_cli_spatial_args(&a, cmd, argc, argv, 0);
    if (rc == 0)
        help();
    if (rc >= 0)
        return rc;
    if ((rc = kz_cli_spatial_load(&a, cli, cmd)) >= 0)
        goto done;
    kz_moran_options_init(&mo);
    mo.permutations = a.permutations;
    mo.seed = (unsigned long long)a.seed;
    mo.threads = (int)a.threads;
    if (a.with)
        res = kz_moran_bivariate(&r, cli->ctx, a.w, a.x, a.y, &mo);
    else if (a.base)
        res = kz_moran_rate(&r, NULL, cli->ctx, a.w, a.x, a.b, &mo);
    else
        res = kz_moran_global(&r, cli->ctx, a.w, a.x, &mo);
    if (res != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, res);
        goto done;
    }
    rc = 0;
    if (cli->json) {
        json_t *doc = json_pack(
            "{s:s, s:s, s:o, s:o, s:I, s:I, s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}, "
            "s:{s:I, s:I, s:o, s:o, s:o, s:o}, s:{s:o, s:o, s:o}}",
            "source", a.src, "field", a.field, "with", a.with ? json_string(a.with) : json_null(),
            "base", a.base ? json_string(a.base) : json_null(), "n", (json_int_t)r.n, "n_used",
            (json_int_t)r.n_used, "I", kz_cli_json_number(r.i), "expected",
            kz_cli_json_number(r.expected), "normality", "variance", kz_cli_json_number(r.var_norm),
            "z", kz_cli_json_number(r.z_norm), "p", kz_cli_json_number(r.p_norm), "randomisation",
            "variance", kz_cli_json_number(r.var_rand), "z", kz_cli_json_number(r.z_rand), "p",
            kz_cli_json_number(r.p_rand), "permutation", "n", (json_int_t)r.permutations, "seed",
            (json_int_t)a.seed, "p", kz_cli_json_number(r.p_sim), "mean",
            kz_cli_json_number(r.mean_sim), "sd", kz_cli_json_number(r.sd_sim), "z",
            kz_cli_json_number(r.z_sim), "constants", "S0", kz_cli_json_number(r.s0), "S1",
            kz_cli_json_number(r.s1), "S2", kz_cli_json_number(r.s2));
        if (doc == NULL) {
            fprintf(stderr, "kiez %s: cannot build the JSON document\n", cmd);
            rc = 4;
            goto done;
        }
        json_object_set_new(doc, "weights", kz_cli_spatial_weights_json(&a));
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        print_text(&a, &r);
    }
done:
    kz_cli_spatial_free(&a);
    return rc;
}
