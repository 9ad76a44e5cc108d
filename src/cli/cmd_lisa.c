/*
 * kiez lisa SRC --field F: local Moran (LISA) per area with cluster classes;
 * writes a layer with -o.
 */
#include "cli.h"
#include "kiez/layer.h"
#include "kiez/moran.h"
#include "kiez/weights.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shared with cmd_moran.c (defined there). */
typedef struct kz_cli_spatial {
    const char *src, *field, *key, *base, *with, *weights, *save_weights;
    const char *outpath, *layer_name;
    double snap;
    int style;
    long permutations, seed, threads;
    double alpha;
    int fdr;
    kz_layer *layer;
    kz_weights *w;
    double *x, *y, *b;
    char *kind_name;
} kz_cli_spatial;

int kz_cli_spatial_args(kz_cli_spatial *a, const char *cmd, int argc, char **argv, int lisa);
int kz_cli_spatial_load(kz_cli_spatial *a, kz_cli *cli, const char *cmd);
void kz_cli_spatial_free(kz_cli_spatial *a);
json_t *kz_cli_json_number(double v);
json_t *kz_cli_spatial_weights_json(const kz_cli_spatial *a);
void kz_cli_spatial_help_common(void);

static void help(void)
{
    printf("usage: kiez lisa SRC --field F [--key F] [--weights queen|rook|knn:K|dist:M|FILE]\n"
           "                 [--snap TOL] [--style W|B] [--base F | --with F]\n"
           "                 [--permutations N] [--seed S] [--threads N] [--alpha A] [--fdr]\n"
           "                 [-o OUT] [--layer NAME] [--save-weights FILE] [--json]\n\n"
           "Local Moran's I (LISA) per area of SRC: I_i = z_i/m2 * sum_j w_ij z_j with\n"
           "z = x - mean, m2 = sum z^2 / n (as spdep localmoran and PySAL esda), its\n"
           "conditional expectation, variance, z and normal p (spdep), and a conditional\n"
           "permutation pseudo p-value (esda). Cluster classes: 1 HH, 2 LH, 3 LL, 4 HL\n"
           "(esda numbering) where p < alpha, else 0; p is the permutation p-value, or the\n"
           "normal one with --permutations 0.\n\n"
           "  -o OUT           write the areas with lisa_i, lisa_e, lisa_var, lisa_z,\n"
           "                   lisa_p_norm, lisa_p_sim, lisa_lag, lisa_cluster (0-4) and\n"
           "                   lisa_class (HH, LH, LL, HL, ns) to OUT (.gpkg, .geojson,\n"
           "                   .shp, .csv)\n"
           "  --layer NAME     layer name in a GeoPackage (default: the file name)\n"
           "  --alpha A        significance level (default 0.05)\n"
           "  --fdr            Benjamini-Hochberg false discovery rate (esda.fdr)\n");
    kz_cli_spatial_help_common();
}

static int write_layer(const kz_cli_spatial *a, const kz_lisa *l, kz_cli *cli, const char *cmd)
{
    size_t n = l->n, i;
    long long *cl = malloc(n * sizeof(long long));
    const char **names = malloc(n * sizeof(char *));
    kz_column cols[9];
    int r, rc = 0;
    if (cl == NULL || names == NULL) {
        free(cl);
        free(names);
        fprintf(stderr, "kiez %s: out of memory\n", cmd);
        return 4;
    }
    for (i = 0; i < n; i++) {
        cl[i] = l->cluster[i];
        names[i] = kz_moran_class_name(l->cluster[i]);
    }
    memset(cols, 0, sizeof(cols));
    cols[0].name = "lisa_i";
    cols[0].reals = l->i;
    cols[1].name = "lisa_e";
    cols[1].reals = l->expected;
    cols[2].name = "lisa_var";
    cols[2].reals = l->variance;
    cols[3].name = "lisa_z";
    cols[3].reals = l->z;
    cols[4].name = "lisa_p_norm";
    cols[4].reals = l->p_norm;
    cols[5].name = "lisa_p_sim";
    cols[5].reals = l->p_sim;
    cols[6].name = "lisa_lag";
    cols[6].reals = l->lag;
    cols[7].name = "lisa_cluster";
    cols[7].type = KZ_COL_INTEGER;
    cols[7].integers = cl;
    cols[8].name = "lisa_class";
    cols[8].type = KZ_COL_TEXT;
    cols[8].texts = names;
    for (i = 0; i < 7; i++)
        cols[i].type = KZ_COL_REAL;
    if (l->p_sim == NULL) {
        /* no permutations: drop the p_sim column */
        memmove(&cols[5], &cols[6], 3 * sizeof(kz_column));
    }
    r = kz_layer_write(cli->ctx, a->layer, a->outpath, a->layer_name, cols, l->p_sim ? 9 : 8);
    if (r != KZ_OK)
        rc = kz_cli_fail(cli, cmd, r);
    free(cl);
    free(names);
    return rc;
}

static json_t *areas_json(const kz_cli_spatial *a, const kz_lisa *l)
{
    json_t *arr = json_array();
    size_t i;
    for (i = 0; i < l->n; i++) {
        const char *key = kz_layer_key(a->layer, i);
        json_t *o = json_pack(
            "{s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:s}", "key",
            key ? json_string(key) : json_null(), "fid", (json_int_t)kz_layer_fid(a->layer, i), "I",
            kz_cli_json_number(l->i[i]), "expected", kz_cli_json_number(l->expected[i]), "variance",
            kz_cli_json_number(l->variance[i]), "z", kz_cli_json_number(l->z[i]), "p_norm",
            kz_cli_json_number(l->p_norm[i]), "p_sim",
            l->p_sim ? kz_cli_json_number(l->p_sim[i]) : json_null(), "lag",
            kz_cli_json_number(l->lag[i]), "cluster", l->cluster[i], "class",
            kz_moran_class_name(l->cluster[i]));
        json_array_append_new(arr, o);
    }
    return arr;
}

int kz_cmd_lisa(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "lisa";
    kz_cli_spatial a;
    kz_moran_options mo;
    kz_lisa *l = NULL;
    double *ebz = NULL;
    int rc, res, c;

    rc = kz_cli_spatial_args(&a, cmd, argc, argv, 1);
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
    mo.alpha = a.alpha;
    mo.fdr = a.fdr;
    if (a.with) {
        res = kz_moran_local_bivariate(&l, cli->ctx, a.w, a.x, a.y, &mo);
    } else if (a.base) {
        /* LISA of the empirical Bayes rates (esda Moran_Local_Rate). */
        ebz = malloc(kz_layer_count(a.layer) * sizeof(double));
        if (ebz == NULL) {
            fprintf(stderr, "kiez %s: out of memory\n", cmd);
            rc = 4;
            goto done;
        }
        res = kz_moran_eb_rates(ebz, cli->ctx, a.x, a.b, kz_layer_count(a.layer));
        if (res == KZ_OK)
            res = kz_moran_local(&l, cli->ctx, a.w, ebz, &mo);
    } else {
        res = kz_moran_local(&l, cli->ctx, a.w, a.x, &mo);
    }
    if (res != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, res);
        goto done;
    }
    rc = 0;
    if (a.outpath && (rc = write_layer(&a, l, cli, cmd)) != 0)
        goto done;
    if (cli->json) {
        json_t *doc = json_pack(
            "{s:s, s:s, s:o, s:o, s:I, s:I, s:f, s:b, s:o, s:{s:I, s:I, s:I, s:I, s:I}}", "source",
            a.src, "field", a.field, "with", a.with ? json_string(a.with) : json_null(), "base",
            a.base ? json_string(a.base) : json_null(), "permutations", (json_int_t)l->permutations,
            "seed", (json_int_t)a.seed, "alpha", a.alpha, "fdr", a.fdr, "threshold",
            kz_cli_json_number(l->threshold), "counts", "ns", (json_int_t)l->counts[0], "HH",
            (json_int_t)l->counts[1], "LH", (json_int_t)l->counts[2], "LL",
            (json_int_t)l->counts[3], "HL", (json_int_t)l->counts[4]);
        if (doc == NULL) {
            fprintf(stderr, "kiez %s: cannot build the JSON document\n", cmd);
            rc = 4;
            goto done;
        }
        json_object_set_new(doc, "weights", kz_cli_spatial_weights_json(&a));
        if (a.outpath)
            json_object_set_new(doc, "output", json_string(a.outpath));
        json_object_set_new(doc, "areas", areas_json(&a, l));
        json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("LISA of \"%s\"%s%s%s: %zu areas, weights %s (%s), %zu islands\n", a.field,
               a.with ? " with the lag of \"" : "", a.with ? a.with : "", a.with ? "\"" : "", l->n,
               a.kind_name, kz_weights_style(a.w) == KZ_STYLE_W ? "W" : "B",
               kz_weights_islands(a.w, NULL));
        printf("significant: p < %.4g (%s%s)\n", l->threshold,
               l->p_sim ? "permutation p" : "normal p", a.fdr ? ", FDR" : "");
        for (c = 1; c <= 4; c++)
            printf("%-4s %zu\n", kz_moran_class_name(c), l->counts[c]);
        printf("%-4s %zu\n", "ns", l->counts[0]);
        if (a.outpath)
            printf("written: %s\n", a.outpath);
    }
done:
    free(ebz);
    kz_moran_local_free(l);
    kz_cli_spatial_free(&a);
    return rc;
}
