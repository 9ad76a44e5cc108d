/*
 * kiez nearest DEMAND FACILITIES: distance from every demand point to the
 * nearest facility; per area the population-weighted mean distance and the
 * share of the population within a radius.
 */
#include "cli.h"
#include "kiez/coverage.h"
#include "kiez/layer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shared with kiez count and access; defined in cmd_count.c. */
int kz_cli_cov_numbers(double *out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field);
int kz_cli_cov_area_set(kz_area_set *set, const kz_layer *areas);
void kz_cli_cov_area_set_free(kz_area_set *set);
int kz_cli_cov_projected(const char *cmd, const kz_layer *l, const char *name);
int kz_cli_cov_option(const char **out, int *i, int argc, char **argv, const char *name);

static void help(void)
{
    printf("usage: kiez nearest DEMAND FACILITIES [--within M] [--weight F] [--only F=VALUE]\n"
           "                    [--areas AREAS [--key F] [--label F]] [--crs CRS]\n"
           "                    [-o OUT] [--layer NAME] [--threads N] [--json]\n\n"
           "Straight-line distance from every point of DEMAND (e.g. residents, address\n"
           "points, grid cells) to the nearest point of FACILITIES, in the units of the\n"
           "CRS (metres). Sources are any OGR source, \"path\" or \"path|layername=L\";\n"
           "everything is reprojected to --crs, else to the CRS of AREAS, else of DEMAND.\n\n"
           "  --within M     also the share of the demand within M of a facility\n"
           "                 (e.g. 1000: the BBSR measure for primary schools)\n"
           "  --weight F     field of DEMAND with the population of each point\n"
           "                 (default 1 per point); unreadable values count as 0\n"
           "  --only F=VALUE use only facilities whose field F equals VALUE\n"
           "  --areas AREAS  aggregate per area: population, weighted mean distance,\n"
           "                 share within M (a point on a shared boundary belongs to\n"
           "                 the first area); --key/--label name the areas\n"
           "  --crs CRS      work in this projected CRS (e.g. EPSG:25833)\n"
           "  -o OUT         write the areas (with --areas) or the demand points with\n"
           "                 the results to OUT (.gpkg, .geojson, .shp, .csv)\n"
           "  --layer NAME   layer name in a GeoPackage (default: the file name)\n"
           "  --threads N    threads (default: one per core)\n"
           "  --json         one JSON document on stdout\n");
}

/* JSON number or null for NaN / infinity. */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

int kz_cmd_nearest(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "nearest", *pos[2] = {NULL, NULL}, *within_s = NULL, *weight = NULL;
    const char *only = NULL, *areas_src = NULL, *key = NULL, *label = NULL, *crs = NULL;
    const char *outpath = NULL, *layer_name = NULL, *threads_s = NULL;
    char *only_field = NULL;
    const char *only_value = NULL;
    long threads = 0;
    double within = 0;
    int i, npos = 0, r, rc = 0, *where = NULL, *fcat = NULL;
    kz_layer_options o;
    kz_layer *areas = NULL, *demand = NULL, *fac = NULL;
    kz_area_set set = {NULL, NULL, 0};
    kz_point_set dem, fpts;
    kz_nearest_options no;
    kz_nearest *res = NULL;
    double *w = NULL;
    size_t bad = 0, k, n_used = 0;

    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            help();
            return 0;
        }
        if ((r = kz_cli_cov_option(&within_s, &i, argc, argv, "--within")) ||
            (r = kz_cli_cov_option(&weight, &i, argc, argv, "--weight")) ||
            (r = kz_cli_cov_option(&only, &i, argc, argv, "--only")) ||
            (r = kz_cli_cov_option(&areas_src, &i, argc, argv, "--areas")) ||
            (r = kz_cli_cov_option(&key, &i, argc, argv, "--key")) ||
            (r = kz_cli_cov_option(&label, &i, argc, argv, "--label")) ||
            (r = kz_cli_cov_option(&crs, &i, argc, argv, "--crs")) ||
            (r = kz_cli_cov_option(&outpath, &i, argc, argv, "-o")) ||
            (r = kz_cli_cov_option(&outpath, &i, argc, argv, "--output")) ||
            (r = kz_cli_cov_option(&layer_name, &i, argc, argv, "--layer")) ||
            (r = kz_cli_cov_option(&threads_s, &i, argc, argv, "--threads"))) {
            if (r < 0)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[i]);
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[i]);
        if (npos == 2)
            return kz_cli_usage_error(cmd, "too many arguments (\"%s\")", argv[i]);
        pos[npos++] = argv[i];
    }
    if (npos < 2)
        return kz_cli_usage_error(cmd, "needs DEMAND and FACILITIES");
    if (within_s && (kz_cli_parse_double(&within, within_s) != 0 || !(within > 0)))
        return kz_cli_usage_error(cmd, "--within needs a positive distance, not \"%s\"", within_s);
    if (threads_s && kz_cli_parse_long(&threads, threads_s) != 0)
        return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"", threads_s);
    if ((key || label) && !areas_src)
        return kz_cli_usage_error(cmd, "--key and --label name the areas of --areas");
    if (only) {
        const char *eq = strchr(only, '=');
        if (eq == NULL || eq == only)
            return kz_cli_usage_error(cmd, "--only needs FIELD=VALUE, not \"%s\"", only);
        only_field = malloc((size_t)(eq - only) + 1);
        if (only_field == NULL)
            goto nomem;
        memcpy(only_field, only, (size_t)(eq - only));
        only_field[eq - only] = '\0';
        only_value = eq + 1;
    }

    memset(&o, 0, sizeof(o));
    if (areas_src) {
        o.kind = KZ_GEOM_AREAS;
        o.key_field = key;
        o.label_field = label;
        o.crs = crs;
        if ((r = kz_layer_read(&areas, cli->ctx, areas_src, &o)) != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
        if (!crs && kz_layer_crs_wkt(areas)[0])
            crs = kz_layer_crs_wkt(areas);
    }
    memset(&o, 0, sizeof(o));
    o.kind = KZ_GEOM_POINTS;
    o.crs = crs;
    o.fields = &weight;
    o.n_fields = weight ? 1 : 0;
    if ((r = kz_layer_read(&demand, cli->ctx, pos[0], &o)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    if (!crs && kz_layer_crs_wkt(demand)[0])
        crs = kz_layer_crs_wkt(demand);
    if ((rc = kz_cli_cov_projected(cmd, demand, pos[0])) != 0)
        goto done;
    o.fields = (const char *const *)&only_field;
    o.n_fields = only_field ? 1 : 0;
    o.crs = crs;
    if ((r = kz_layer_read(&fac, cli->ctx, pos[1], &o)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }

    memset(&dem, 0, sizeof(dem));
    dem.x = kz_layer_xs(demand);
    dem.y = kz_layer_ys(demand);
    dem.n = kz_layer_count(demand);
    if (weight) {
        if ((w = malloc((dem.n ? dem.n : 1) * sizeof(double))) == NULL ||
            kz_cli_cov_numbers(w, &bad, cmd, demand, 0, weight) != 0)
            goto nomem;
        dem.weight = w;
    }
    memset(&fpts, 0, sizeof(fpts));
    fpts.x = kz_layer_xs(fac);
    fpts.y = kz_layer_ys(fac);
    fpts.n = kz_layer_count(fac);
    memset(&no, 0, sizeof(no));
    no.within = within;
    no.category = -1;
    no.threads = (int)threads;
    n_used = fpts.n;
    if (only_field) {
        if ((fcat = malloc((fpts.n ? fpts.n : 1) * sizeof(int))) == NULL)
            goto nomem;
        n_used = 0;
        for (k = 0; k < fpts.n; k++) {
            const char *v = kz_layer_field(fac, k, 0);
            fcat[k] = v != NULL && strcmp(v, only_value) == 0 ? 0 : 1;
            n_used += fcat[k] == 0;
        }
        fpts.category = fcat;
        no.category = 0;
    }
    if (areas) {
        if (kz_cli_cov_area_set(&set, areas) != 0 ||
            (where = malloc((dem.n ? dem.n : 1) * sizeof(int))) == NULL)
            goto nomem;
        if ((r = kz_coverage_locate(where, cli->ctx, &set, &dem, (int)threads, NULL)) != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
        no.demand_area = where;
        no.n_areas = set.n;
    }
    if ((r = kz_coverage_nearest(&res, cli->ctx, &dem, &fpts, &no)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    if (n_used == 0)
        fprintf(stderr, "kiez nearest: warning: no facility%s%s; distances are null\n",
                only ? " matches " : "", only ? only : "");

    if (outpath) {
        kz_column cols[3];
        size_t nc = 0;
        if (areas) {
            cols[nc++] = (kz_column){"population", KZ_COL_REAL, res->area_weight, NULL, NULL};
            cols[nc++] = (kz_column){"mean_distance", KZ_COL_REAL, res->area_mean, NULL, NULL};
            if (within > 0)
                cols[nc++] = (kz_column){"share_within", KZ_COL_REAL, res->area_within, NULL, NULL};
            r = kz_layer_write(cli->ctx, areas, outpath, layer_name, cols, nc);
        } else {
            cols[nc++] = (kz_column){"distance", KZ_COL_REAL, res->distance, NULL, NULL};
            cols[nc++] = (kz_column){"facility", KZ_COL_INTEGER, NULL, res->facility, NULL};
            r = kz_layer_write(cli->ctx, demand, outpath, layer_name, cols, nc);
        }
        if (r != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
    }

    if (cli->json) {
        json_t *doc = json_object(), *arr = json_array();
        json_object_set_new(doc, "command", json_string("nearest"));
        json_object_set_new(doc, "demand_source", json_string(pos[0]));
        json_object_set_new(doc, "facilities_source", json_string(pos[1]));
        json_object_set_new(doc, "demand_points", json_integer((json_int_t)dem.n));
        json_object_set_new(doc, "facilities", json_integer((json_int_t)n_used));
        json_object_set_new(doc, "distance", json_string("straight line in the CRS units"));
        if (weight) {
            json_object_set_new(doc, "weight_field", json_string(weight));
            json_object_set_new(doc, "weight_unreadable", json_integer((json_int_t)bad));
        }
        json_object_set_new(doc, "population", json_real(res->total_weight));
        json_object_set_new(doc, "mean_distance", num(res->mean));
        if (within > 0) {
            json_object_set_new(doc, "within", json_real(within));
            json_object_set_new(doc, "share_within", num(res->within_share));
        }
        if (areas) {
            for (k = 0; k < set.n; k++) {
                json_t *a = json_object();
                const char *ak = kz_layer_key(areas, k), *al = kz_layer_label(areas, k);
                json_object_set_new(a, "fid", json_integer(kz_layer_fid(areas, k)));
                if (ak)
                    json_object_set_new(a, "key", json_string(ak));
                if (al)
                    json_object_set_new(a, "name", json_string(al));
                json_object_set_new(a, "population", json_real(res->area_weight[k]));
                json_object_set_new(a, "mean_distance", num(res->area_mean[k]));
                if (within > 0)
                    json_object_set_new(a, "share_within", num(res->area_within[k]));
                json_array_append_new(arr, a);
            }
        } else {
            for (k = 0; k < dem.n; k++) {
                json_t *a = json_object();
                json_object_set_new(a, "fid", json_integer(kz_layer_fid(demand, k)));
                json_object_set_new(a, "distance", num(res->distance[k]));
                json_object_set_new(a, "facility_fid",
                                    res->facility[k] >= 0
                                        ? json_integer(kz_layer_fid(fac, (size_t)res->facility[k]))
                                        : json_null());
                json_array_append_new(arr, a);
            }
        }
        json_object_set_new(doc, "results", arr);
        r = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        json_decref(doc);
        if (r != 0)
            goto nomem;
        fputc('\n', stdout);
    } else if (areas) {
        printf("%s\tpopulation\tmean_distance%s\n", key ? "key" : "fid",
               within > 0 ? "\tshare_within" : "");
        for (k = 0; k < set.n; k++) {
            if (key)
                printf("%s", kz_layer_key(areas, k));
            else
                printf("%lld", kz_layer_fid(areas, k));
            printf("\t%.15g\t%.15g", res->area_weight[k], res->area_mean[k]);
            if (within > 0)
                printf("\t%.15g", res->area_within[k]);
            putchar('\n');
        }
    } else {
        printf("fid\tdistance\tfacility_fid\n");
        for (k = 0; k < dem.n; k++)
            printf("%lld\t%.15g\t%lld\n", kz_layer_fid(demand, k), res->distance[k],
                   res->facility[k] >= 0 ? kz_layer_fid(fac, (size_t)res->facility[k]) : -1LL);
    }
    if (cli->verbosity > 0) {
        fprintf(stderr, "kiez nearest: %zu demand points, %zu facilities: mean distance %.1f",
                dem.n, n_used, res->mean);
        if (within > 0)
            fprintf(stderr, ", %.1f %% within %g", 100 * res->within_share, within);
        fputc('\n', stderr);
    }
    goto done;
nomem:
    fprintf(stderr, "kiez nearest: out of memory\n");
    rc = 4;
done:
    kz_nearest_free(res);
    free(w);
    free(where);
    free(fcat);
    free(only_field);
    kz_cli_cov_area_set_free(&set);
    kz_layer_free(areas);
    kz_layer_free(demand);
    kz_layer_free(fac);
    return rc;
}
