/*
 * kiez access DEMAND FACILITIES --radius M: two-step floating catchment
 * area accessibility (2SFCA, E2SFCA with --zones), per demand point and
 * per area.
 */
#include "cli.h"
#include "kiez/coverage.h"
#include "kiez/layer.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shared with kiez count and nearest; defined in cmd_count.c. */
int kz_cli_cov_numbers(double *out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field);
int kz_cli_cov_area_set(kz_area_set *set, const kz_layer *areas);
void kz_cli_cov_area_set_free(kz_area_set *set);
int kz_cli_cov_projected(const char *cmd, const kz_layer *l, const char *name);
int kz_cli_cov_option(const char **out, int *i, int argc, char **argv, const char *name);

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

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
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

int kz_cmd_access(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "access", *pos[2] = {NULL, NULL}, *radius_s = NULL, *supply = NULL;
    const char *demand_f = NULL, *zones_s = NULL, *areas_src = NULL, *key = NULL;
    const char *label = NULL, *crs = NULL, *outpath = NULL, *layer_name = NULL;
    const char *threads_s = NULL;
    long threads = 0;
    double radius = 0, lim[MAX_ZONES], wt[MAX_ZONES], *p = NULL, *s = NULL;
    size_t nz = 0, bad_p = 0, bad_s = 0, k;
    int i, npos = 0, r, rc = 0, *where = NULL;
    kz_layer_options o;
    kz_layer *areas = NULL, *demand = NULL, *fac = NULL;
    kz_area_set set = {NULL, NULL, 0};
    kz_point_set dem, fpts;
    kz_access_options ao;
    kz_access *res = NULL;
    double diff;

    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            help();
            return 0;
        }
        if ((r = kz_cli_cov_option(&radius_s, &i, argc, argv, "--radius")) ||
            (r = kz_cli_cov_option(&supply, &i, argc, argv, "--supply")) ||
            (r = kz_cli_cov_option(&demand_f, &i, argc, argv, "--demand")) ||
            (r = kz_cli_cov_option(&zones_s, &i, argc, argv, "--zones")) ||
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
    if (radius_s == NULL)
        return kz_cli_usage_error(cmd, "needs --radius M (the catchment size, e.g. 1000)");
    if (kz_cli_parse_double(&radius, radius_s) != 0 || !(radius > 0))
        return kz_cli_usage_error(cmd, "--radius needs a positive distance, not \"%s\"", radius_s);
    if (zones_s && parse_zones(lim, wt, &nz, zones_s) != 0)
        return kz_cli_usage_error(cmd, "--zones needs LIMIT:WEIGHT,... (at most %d), not \"%s\"",
                                  MAX_ZONES, zones_s);
    if (threads_s && kz_cli_parse_long(&threads, threads_s) != 0)
        return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"", threads_s);
    if ((key || label) && !areas_src)
        return kz_cli_usage_error(cmd, "--key and --label name the areas of --areas");

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
    o.fields = &demand_f;
    o.n_fields = demand_f ? 1 : 0;
    if ((r = kz_layer_read(&demand, cli->ctx, pos[0], &o)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    if (!crs && kz_layer_crs_wkt(demand)[0])
        crs = kz_layer_crs_wkt(demand);
    if ((rc = kz_cli_cov_projected(cmd, demand, pos[0])) != 0)
        goto done;
    o.crs = crs;
    o.fields = &supply;
    o.n_fields = supply ? 1 : 0;
    if ((r = kz_layer_read(&fac, cli->ctx, pos[1], &o)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }

    memset(&dem, 0, sizeof(dem));
    dem.x = kz_layer_xs(demand);
    dem.y = kz_layer_ys(demand);
    dem.n = kz_layer_count(demand);
    memset(&fpts, 0, sizeof(fpts));
    fpts.x = kz_layer_xs(fac);
    fpts.y = kz_layer_ys(fac);
    fpts.n = kz_layer_count(fac);
    if (demand_f) {
        if ((p = malloc((dem.n ? dem.n : 1) * sizeof(double))) == NULL ||
            kz_cli_cov_numbers(p, &bad_p, cmd, demand, 0, demand_f) != 0)
            goto nomem;
        dem.weight = p;
    }
    if (supply) {
        if ((s = malloc((fpts.n ? fpts.n : 1) * sizeof(double))) == NULL ||
            kz_cli_cov_numbers(s, &bad_s, cmd, fac, 0, supply) != 0)
            goto nomem;
        fpts.weight = s;
    }
    memset(&ao, 0, sizeof(ao));
    ao.radius = radius;
    ao.zone_limit = nz ? lim : NULL;
    ao.zone_weight = nz ? wt : NULL;
    ao.n_zones = nz;
    ao.threads = (int)threads;
    if (areas) {
        if (kz_cli_cov_area_set(&set, areas) != 0 ||
            (where = malloc((dem.n ? dem.n : 1) * sizeof(int))) == NULL)
            goto nomem;
        if ((r = kz_coverage_locate(where, cli->ctx, &set, &dem, (int)threads, NULL)) != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
        ao.demand_area = where;
        ao.n_areas = set.n;
    }
    if ((r = kz_coverage_access(&res, cli->ctx, &dem, &fpts, &ao)) != KZ_OK) {
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

    if (outpath) {
        kz_column cols[2];
        size_t nc = 0;
        if (areas) {
            cols[nc++] = (kz_column){"population", KZ_COL_REAL, res->area_weight, NULL, NULL};
            cols[nc++] = (kz_column){"access", KZ_COL_REAL, res->area_access, NULL, NULL};
            r = kz_layer_write(cli->ctx, areas, outpath, layer_name, cols, nc);
        } else {
            cols[nc++] = (kz_column){"access", KZ_COL_REAL, res->access, NULL, NULL};
            r = kz_layer_write(cli->ctx, demand, outpath, layer_name, cols, nc);
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
        json_object_set_new(doc, "demand_source", json_string(pos[0]));
        json_object_set_new(doc, "facilities_source", json_string(pos[1]));
        json_object_set_new(doc, "radius", json_real(radius));
        for (k = 0; k < nz; k++)
            json_array_append_new(zs, json_pack("{s:f,s:f}", "limit", lim[k], "weight", wt[k]));
        json_object_set_new(doc, "zones", zs);
        json_object_set_new(doc, "demand_points", json_integer((json_int_t)dem.n));
        json_object_set_new(doc, "facilities", json_integer((json_int_t)fpts.n));
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
        for (k = 0; k < fpts.n; k++)
            json_array_append_new(fa,
                                  json_pack("{s:I,s:o}", "fid", (json_int_t)kz_layer_fid(fac, k),
                                            "ratio", num(res->ratio[k])));
        json_object_set_new(doc, "facility_ratios", fa);
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
                json_object_set_new(a, "access", num(res->area_access[k]));
                json_array_append_new(arr, a);
            }
        } else {
            for (k = 0; k < dem.n; k++)
                json_array_append_new(arr, json_pack("{s:I,s:o}", "fid",
                                                     (json_int_t)kz_layer_fid(demand, k), "access",
                                                     num(res->access[k])));
        }
        json_object_set_new(doc, "results", arr);
        r = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
        json_decref(doc);
        if (r != 0)
            goto nomem;
        fputc('\n', stdout);
    } else if (areas) {
        printf("%s\tpopulation\taccess\n", key ? "key" : "fid");
        for (k = 0; k < set.n; k++) {
            if (key)
                printf("%s", kz_layer_key(areas, k));
            else
                printf("%lld", kz_layer_fid(areas, k));
            printf("\t%.15g\t%.15g\n", res->area_weight[k], res->area_access[k]);
        }
    } else {
        printf("fid\taccess\n");
        for (k = 0; k < dem.n; k++)
            printf("%lld\t%.15g\n", kz_layer_fid(demand, k), res->access[k]);
    }
    if (cli->verbosity > 0)
        fprintf(stderr,
                "kiez access: %s, radius %g: %zu demand points (%zu unserved), %zu facilities "
                "(%zu reach no demand); check: sum P*A = %.6f = reached supply %.6f\n",
                nz ? "E2SFCA" : "2SFCA", radius, dem.n, res->unserved_demand, fpts.n,
                res->unreached_facilities, res->weighted_access, res->supply_reached);
    goto done;
nomem:
    fprintf(stderr, "kiez access: out of memory\n");
    rc = 4;
done:
    kz_access_free(res);
    free(p);
    free(s);
    free(where);
    kz_cli_cov_area_set_free(&set);
    kz_layer_free(areas);
    kz_layer_free(demand);
    kz_layer_free(fac);
    return rc;
}
