/*
 * kiez access DEMAND FACILITIES --radius M: two-step floating catchment
 * area accessibility (2SFCA, E2SFCA with --zones), per demand point and
 * per area.
 */
#include "coverage_args.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ZONES 16

static void help(void)
{
    printf("usage: kiez access DEMAND FACILITIES --radius M [--supply F] [--demand F]\n"
           "                   [--zones L:W,...] [--areas AREAS [--key F] [--label F]]\n"
           "                   [--crs CRS] [-o OUT] [--layer NAME] [--threads N] [--json]\n\n"
           "Two-step floating catchment area accessibility (2SFCA, Luo & Wang 2003):\n"
           "  R_j = S_j / sum of P_k over demand points k within M of facility j\n"
           "  A_i = sum of R_j over facilities j within M of demand point i\n"
           "i.e. supply per head available to each demand point (e.g. Kita places per\n"
           "child). Straight-line distances in the CRS units (metres). Sum over i of\n"
           "P_i A_i equals the supply of the facilities that reach some demand; the\n"
           "check is printed. Sources are any OGR source, \"path\" or \"path|layername=L\".\n\n"
           "  --radius M     catchment radius d0\n"
           "  --supply F     field of FACILITIES with the supply S_j (default 1 each)\n"
           "  --demand F     field of DEMAND with the demand P_k (default 1 each)\n"
           "  --zones L:W,.. enhanced 2SFCA (Luo & Qi 2009): distance zones up to L with\n"
           "                 weight W, ascending, the last L equal to --radius, e.g.\n"
           "                 --zones 300:1,600:0.68,1000:0.22\n"
           "  --areas AREAS  also the population-weighted mean of A_i per area (a point\n"
           "                 on a shared boundary belongs to the first area); --key and\n"
           "                 --label name the areas\n"
           "  --crs CRS      work in this projected CRS (default: AREAS', else DEMAND's)\n"
           "  -o OUT         write the areas (with --areas) or the demand points with\n"
           "                 the results to OUT (.gpkg, .geojson, .shp, .csv)\n"
           "  --layer NAME   layer name in a GeoPackage (default: the file name)\n"
           "  --threads N    threads (default: one per core)\n"
           "  --json         one JSON document on stdout\n");
}

/* "300:1,600:0.68,1000:0.22" -> limits and weights; 0 or -1. */
static int parse_zones(double *lim, double *wt, size_t *n, const char *text)
{
    const char *p = text;
    *n = 0;
    while (*p) {
        char *end;
        if (*n == MAX_ZONES)
            return -1;
        lim[*n] = strtod(p, &end);
        if (end == p || *end != ':')
            return -1;
        p = end + 1;
        wt[*n] = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0'))
            return -1;
        (*n)++;
        p = *end == ',' ? end + 1 : end;
    }
    return *n > 0 ? 0 : -1;
}

/* One demand point's result for --json: {"fid": n, "access": A}. */
typedef struct point_rows {
    const kz_layer *demand;
    const double *access;
} point_rows;

static json_t *point_row(size_t k, void *payload)
{
    const point_rows *p = payload;
    return json_pack("{s:I,s:o}", "fid", (json_int_t)kz_layer_fid(p->demand, k), "access",
                     kz_cli_cov_num(p->access[k]));
}

int kz_cmd_access(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "access", *radius_s = NULL, *supply = NULL, *demand_f = NULL;
    const char *zones_s = NULL;
    const kz_cli_opt own[] = {{"--radius", &radius_s},
                              {"--supply", &supply},
                              {"--demand", &demand_f},
                              {"--zones", &zones_s}};
    double radius = 0, lim[MAX_ZONES], wt[MAX_ZONES], *p = NULL, *s = NULL;
    size_t nz = 0, bad_p = 0, bad_s = 0, k;
    int r, rc = 0;
    kz_cov_args args;
    kz_cov_layers l;
    kz_access_options ao;
    kz_access *res = NULL;
    double diff;

    if ((rc = kz_cli_cov_parse(&args, cmd, argc, argv, own, sizeof(own) / sizeof(own[0]),
                               KZ_COV_AREAS, "DEMAND and FACILITIES", help)) >= 0)
        return rc;
    if (radius_s == NULL)
        return kz_cli_usage_error(cmd, "needs --radius M (the catchment size, e.g. 1000)");
    if (kz_cli_parse_double(&radius, radius_s) != 0 || !(radius > 0))
        return kz_cli_usage_error(cmd, "--radius needs a positive distance, not \"%s\"", radius_s);
    if (zones_s && parse_zones(lim, wt, &nz, zones_s) != 0)
        return kz_cli_usage_error(cmd, "--zones needs LIMIT:WEIGHT,... (at most %d), not \"%s\"",
                                  MAX_ZONES, zones_s);
    if ((rc = kz_cli_cov_check(&args, cmd)) != 0)
        return rc;

    memset(&l, 0, sizeof(l));
    if ((rc = kz_cli_cov_load(&l, cli, cmd, &args, demand_f, supply)) != 0)
        goto done;
    if (demand_f) {
        if ((rc = kz_cli_cov_weights(&p, &bad_p, cmd, l.demand, 0, demand_f)) != 0)
            goto done;
        l.dem.weight = p;
    }
    if (supply) {
        if ((rc = kz_cli_cov_weights(&s, &bad_s, cmd, l.fac, 0, supply)) != 0)
            goto done;
        l.fpts.weight = s;
    }
    memset(&ao, 0, sizeof(ao));
    ao.radius = radius;
    ao.zone_limit = nz ? lim : NULL;
    ao.zone_weight = nz ? wt : NULL;
    ao.n_zones = nz;
    ao.threads = (int)args.threads;
    if (l.areas) {
        if ((rc = kz_cli_cov_locate(&l, cli, cmd, (int)args.threads)) != 0)
            goto done;
        ao.demand_area = l.where;
        ao.n_areas = l.set.n;
    }
    if ((r = kz_coverage_access(&res, cli->ctx, &l.dem, &l.fpts, &ao)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    /* The 2SFCA identity: Σ_i P_i A_i = Σ_j S_j over facilities reaching demand. */
    diff = fabs(res->weighted_access - res->supply_reached);
    if (diff > 1e-9 * (res->supply_reached > 1 ? res->supply_reached : 1)) {
        fprintf(stderr,
                "kiez access: internal error: sum of P*A = %.17g but reached supply = %.17g\n",
                res->weighted_access, res->supply_reached);
        rc = 4;
        goto done;
    }

    if (args.outpath) {
        kz_column cols[2];
        size_t nc = 0;
        if (l.areas) {
            cols[nc++] = (kz_column){"population", KZ_COL_REAL, res->area_weight, NULL, NULL};
            cols[nc++] = (kz_column){"access", KZ_COL_REAL, res->area_access, NULL, NULL};
            r = kz_layer_write(cli->ctx, l.areas, args.outpath, args.layer_name, cols, nc);
        } else {
            cols[nc++] = (kz_column){"access", KZ_COL_REAL, res->access, NULL, NULL};
            r = kz_layer_write(cli->ctx, l.demand, args.outpath, args.layer_name, cols, nc);
        }
        if (r != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
    }

    if (cli->json) {
        json_t *doc = json_object(), *arr = json_array(), *fa = json_array(), *zs = json_array();
        json_object_set_new(doc, "command", json_string("access"));
        json_object_set_new(doc, "method", json_string(nz ? "E2SFCA" : "2SFCA"));
        json_object_set_new(doc, "demand_source", json_string(args.pos[0]));
        json_object_set_new(doc, "facilities_source", json_string(args.pos[1]));
        json_object_set_new(doc, "radius", json_real(radius));
        for (k = 0; k < nz; k++)
            json_array_append_new(zs, json_pack("{s:f,s:f}", "limit", lim[k], "weight", wt[k]));
        json_object_set_new(doc, "zones", zs);
        json_object_set_new(doc, "demand_points", json_integer((json_int_t)l.dem.n));
        json_object_set_new(doc, "facilities", json_integer((json_int_t)l.fpts.n));
        if (demand_f)
            json_object_set_new(doc, "demand_unreadable", json_integer((json_int_t)bad_p));
        if (supply)
            json_object_set_new(doc, "supply_unreadable", json_integer((json_int_t)bad_s));
        json_object_set_new(doc, "supply_total", json_real(res->supply_total));
        json_object_set_new(doc, "supply_reached", json_real(res->supply_reached));
        json_object_set_new(doc, "sum_demand_times_access", json_real(res->weighted_access));
        json_object_set_new(doc, "unreached_facilities",
                            json_integer((json_int_t)res->unreached_facilities));
        json_object_set_new(doc, "unserved_demand_points",
                            json_integer((json_int_t)res->unserved_demand));
        for (k = 0; k < l.fpts.n; k++)
            json_array_append_new(fa,
                                  json_pack("{s:I,s:o}", "fid", (json_int_t)kz_layer_fid(l.fac, k),
                                            "ratio", kz_cli_cov_num(res->ratio[k])));
        json_object_set_new(doc, "facility_ratios", fa);
        if (l.areas) {
            for (k = 0; k < l.set.n; k++) {
                json_t *a = kz_cli_cov_area_json(l.areas, k);
                json_object_set_new(a, "population", json_real(res->area_weight[k]));
                json_object_set_new(a, "access", kz_cli_cov_num(res->area_access[k]));
                json_array_append_new(arr, a);
            }
            json_object_set_new(doc, "results", arr);
            rc = kz_cli_cov_print_json(cmd, doc);
        } else {
            point_rows pr = {l.demand, res->access};
            json_decref(arr);
            rc = kz_cli_cov_print_json_rows(cmd, doc, l.dem.n, point_row, &pr);
        }
        if (rc != 0)
            goto done;
    } else if (l.areas) {
        printf("%s\tpopulation\taccess\n", args.key ? "key" : "fid");
        for (k = 0; k < l.set.n; k++) {
            kz_cli_cov_print_area(l.areas, k, args.key != NULL);
            printf("\t%.15g\t%.15g\n", res->area_weight[k], res->area_access[k]);
        }
    } else {
        printf("fid\taccess\n");
        for (k = 0; k < l.dem.n; k++)
            printf("%lld\t%.15g\n", kz_layer_fid(l.demand, k), res->access[k]);
    }
    if (cli->verbosity > 0)
        fprintf(stderr,
                "kiez access: %s, radius %g: %zu demand points (%zu unserved), %zu facilities "
                "(%zu reach no demand); check: sum P*A = %.6f = reached supply %.6f\n",
                nz ? "E2SFCA" : "2SFCA", radius, l.dem.n, res->unserved_demand, l.fpts.n,
                res->unreached_facilities, res->weighted_access, res->supply_reached);
done:
    kz_access_free(res);
    free(p);
    free(s);
    kz_cli_cov_layers_free(&l);
    return rc;
}
