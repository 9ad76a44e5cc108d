/*
 * kiez nearest DEMAND FACILITIES: distance from every demand point to the
 * nearest facility; per area the population-weighted mean distance and the
 * share of the population within a radius.
 */
#include "coverage_args.h"

#include <stdlib.h>
#include <string.h>

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

/* One demand point's result for --json: fid, distance, facility_fid. */
typedef struct point_rows {
    const kz_layer *demand, *fac;
    const kz_nearest *res;
} point_rows;

static json_t *point_row(size_t k, void *payload)
{
    const point_rows *p = payload;
    json_t *a = json_object();
    json_object_set_new(a, "fid", json_integer(kz_layer_fid(p->demand, k)));
    json_object_set_new(a, "distance", kz_cli_cov_num(p->res->distance[k]));
    json_object_set_new(a, "facility_fid",
                        p->res->facility[k] >= 0
                            ? json_integer(kz_layer_fid(p->fac, (size_t)p->res->facility[k]))
                            : json_null());
    return a;
}

int kz_cmd_nearest(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "nearest", *within_s = NULL, *weight = NULL, *only = NULL;
    const kz_cli_opt own[] = {{"--within", &within_s}, {"--weight", &weight}, {"--only", &only}};
    char *only_field = NULL;
    const char *only_value = NULL;
    double within = 0;
    int r, rc = 0, *fcat = NULL;
    kz_cov_args args;
    kz_cov_layers l;
    kz_nearest_options no;
    kz_nearest *res = NULL;
    double *w = NULL;
    size_t bad = 0, k, n_used = 0;

    if ((rc = kz_cli_cov_parse(&args, cmd, argc, argv, own, sizeof(own) / sizeof(own[0]),
                               KZ_COV_AREAS, "DEMAND and FACILITIES", help)) >= 0)
        return rc;
    if (within_s && (kz_cli_parse_double(&within, within_s) != 0 || !(within > 0)))
        return kz_cli_usage_error(cmd, "--within needs a positive distance, not \"%s\"", within_s);
    if ((rc = kz_cli_cov_check(&args, cmd)) != 0)
        return rc;
    memset(&l, 0, sizeof(l));
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

    if ((rc = kz_cli_cov_load(&l, cli, cmd, &args, weight, only_field)) != 0)
        goto done;
    if (weight) {
        if ((rc = kz_cli_cov_weights(&w, &bad, cmd, l.demand, 0, weight)) != 0)
            goto done;
        l.dem.weight = w;
    }
    memset(&no, 0, sizeof(no));
    no.within = within;
    no.category = -1;
    no.threads = (int)args.threads;
    n_used = l.fpts.n;
    if (only_field) {
        if ((fcat = malloc((l.fpts.n ? l.fpts.n : 1) * sizeof(int))) == NULL)
            goto nomem;
        n_used = 0;
        for (k = 0; k < l.fpts.n; k++) {
            const char *v = kz_layer_field(l.fac, k, 0);
            fcat[k] = v != NULL && strcmp(v, only_value) == 0 ? 0 : 1;
            n_used += fcat[k] == 0;
        }
        l.fpts.category = fcat;
        no.category = 0;
    }
    if (l.areas) {
        if ((rc = kz_cli_cov_locate(&l, cli, cmd, (int)args.threads)) != 0)
            goto done;
        no.demand_area = l.where;
        no.n_areas = l.set.n;
    }
    if ((r = kz_coverage_nearest(&res, cli->ctx, &l.dem, &l.fpts, &no)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    if (n_used == 0)
        fprintf(stderr, "kiez nearest: warning: no facility%s%s; distances are null\n",
                only ? " matches " : "", only ? only : "");

    if (args.outpath) {
        kz_column cols[3];
        size_t nc = 0;
        if (l.areas) {
            cols[nc++] = (kz_column){"population", KZ_COL_REAL, res->area_weight, NULL, NULL};
            cols[nc++] = (kz_column){"mean_distance", KZ_COL_REAL, res->area_mean, NULL, NULL};
            if (within > 0)
                cols[nc++] = (kz_column){"share_within", KZ_COL_REAL, res->area_within, NULL, NULL};
            r = kz_layer_write(cli->ctx, l.areas, args.outpath, args.layer_name, cols, nc);
        } else {
            cols[nc++] = (kz_column){"distance", KZ_COL_REAL, res->distance, NULL, NULL};
            cols[nc++] = (kz_column){"facility", KZ_COL_INTEGER, NULL, res->facility, NULL};
            r = kz_layer_write(cli->ctx, l.demand, args.outpath, args.layer_name, cols, nc);
        }
        if (r != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
    }

    if (cli->json) {
        json_t *doc = json_object(), *arr = json_array();
        json_object_set_new(doc, "command", json_string("nearest"));
        json_object_set_new(doc, "demand_source", json_string(args.pos[0]));
        json_object_set_new(doc, "facilities_source", json_string(args.pos[1]));
        json_object_set_new(doc, "demand_points", json_integer((json_int_t)l.dem.n));
        json_object_set_new(doc, "facilities", json_integer((json_int_t)n_used));
        json_object_set_new(doc, "distance", json_string("straight line in the CRS units"));
        if (weight) {
            json_object_set_new(doc, "weight_field", json_string(weight));
            json_object_set_new(doc, "weight_unreadable", json_integer((json_int_t)bad));
        }
        json_object_set_new(doc, "population", json_real(res->total_weight));
        json_object_set_new(doc, "mean_distance", kz_cli_cov_num(res->mean));
        if (within > 0) {
            json_object_set_new(doc, "within", json_real(within));
            json_object_set_new(doc, "share_within", kz_cli_cov_num(res->within_share));
        }
        if (l.areas) {
            for (k = 0; k < l.set.n; k++) {
                json_t *a = kz_cli_cov_area_json(l.areas, k);
                json_object_set_new(a, "population", json_real(res->area_weight[k]));
                json_object_set_new(a, "mean_distance", kz_cli_cov_num(res->area_mean[k]));
                if (within > 0)
                    json_object_set_new(a, "share_within", kz_cli_cov_num(res->area_within[k]));
                json_array_append_new(arr, a);
            }
            json_object_set_new(doc, "results", arr);
            rc = kz_cli_cov_print_json(cmd, doc);
        } else {
            point_rows pr = {l.demand, l.fac, res};
            json_decref(arr);
            rc = kz_cli_cov_print_json_rows(cmd, doc, l.dem.n, point_row, &pr);
        }
        if (rc != 0)
            goto done;
    } else if (l.areas) {
        printf("%s\tpopulation\tmean_distance%s\n", args.key ? "key" : "fid",
               within > 0 ? "\tshare_within" : "");
        for (k = 0; k < l.set.n; k++) {
            kz_cli_cov_print_area(l.areas, k, args.key != NULL);
            printf("\t%.15g\t%.15g", res->area_weight[k], res->area_mean[k]);
            if (within > 0)
                printf("\t%.15g", res->area_within[k]);
            putchar('\n');
        }
    } else {
        printf("fid\tdistance\tfacility_fid\n");
        for (k = 0; k < l.dem.n; k++)
            printf("%lld\t%.15g\t%lld\n", kz_layer_fid(l.demand, k), res->distance[k],
                   res->facility[k] >= 0 ? kz_layer_fid(l.fac, (size_t)res->facility[k]) : -1LL);
    }
    if (cli->verbosity > 0) {
        fprintf(stderr, "kiez nearest: %zu demand points, %zu facilities: mean distance %.1f",
                l.dem.n, n_used, res->mean);
        if (within > 0)
            fprintf(stderr, ", %.1f %% within %g", 100 * res->within_share, within);
        fputc('\n', stderr);
    }
    goto done;
nomem:
    rc = kz_cli_cov_nomem(cmd);
done:
    kz_nearest_free(res);
    free(w);
    free(fcat);
    free(only_field);
    kz_cli_cov_layers_free(&l);
    return rc;
}
