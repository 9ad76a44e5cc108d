/*
 * kiez count AREAS POINTS: points (and capacity sums, per category) per area.
 */
#include "coverage_args.h"

#include <stdlib.h>
#include <string.h>

/* ---- categories ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* Category index per point from a text field: categories sorted by name;
 * a null value has no category (-1). *names receives the sorted distinct
 * names (borrowed from the layer; free the array). */
static int categories(int **out, const char ***names, size_t *n_names, const kz_layer *l, size_t f)
{
    size_t i, n = kz_layer_count(l), k = 0;
    const char **all = malloc((n ? n : 1) * sizeof(char *));
    int *cat = malloc((n ? n : 1) * sizeof(int));
    if (all == NULL || cat == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if (kz_layer_field(l, i, f) != NULL)
            all[k++] = kz_layer_field(l, i, f);
    qsort(all, k, sizeof(char *), cmp_str);
    *n_names = 0;
    for (i = 0; i < k; i++)
        if (*n_names == 0 || strcmp(all[*n_names - 1], all[i]) != 0)
            all[(*n_names)++] = all[i];
    for (i = 0; i < n; i++) {
        const char *v = kz_layer_field(l, i, f), **hit;
        cat[i] = -1;
        if (v != NULL && (hit = bsearch(&v, all, *n_names, sizeof(char *), cmp_str)) != NULL)
            cat[i] = (int)(hit - all);
    }
    *out = cat;
    *names = all;
    return 0;
nomem:
    free(all);
    free(cat);
    return -1;
}

/* ---- the command ------------------------------------------------------ */

static void help(void)
{
    printf("usage: kiez count AREAS POINTS [--key F] [--label F] [--capacity F] [--category F]\n"
           "                  [-o OUT] [--layer NAME] [--threads N] [--json]\n\n"
           "Count the points of POINTS in each area of AREAS, sum their capacities, and\n"
           "count them per category. AREAS and POINTS are any OGR source, \"path\" or\n"
           "\"path|layername=L\"; the points are reprojected to the CRS of the areas.\n\n"
           "  --key F        field with the area key (e.g. PLR_ID); without it areas\n"
           "                 are listed by feature id (fid)\n"
           "  --label F      field with the area name, written as \"name\"\n"
           "  --capacity F   field of POINTS with a capacity (places, beds) to sum;\n"
           "                 numbers stored as text are read; missing or unreadable\n"
           "                 ones count as 0 and are reported\n"
           "  --category F   field of POINTS to count by (e.g. a type or operator)\n"
           "  -o OUT         write the areas with the columns count, capacity and\n"
           "                 count_<category> to OUT (.gpkg, .geojson, .shp, .csv)\n"
           "  --layer NAME   layer name in a GeoPackage (default: the file name)\n"
           "  --threads N    threads (default: one per core)\n"
           "  --json         one JSON document on stdout\n\n"
           "A point on the boundary of several areas (a shared edge or vertex) is counted\n"
           "once, for the area that comes first in AREAS; points outside every area are\n"
           "reported as outside. Without --json the counts go to stdout as a\n"
           "tab-separated table: key, count[, capacity][, one column per category].\n");
}

int kz_cmd_count(int argc, char **argv, kz_cli *cli)
{
    const char *cmd = "count", *capacity = NULL, *category = NULL;
    const kz_cli_opt own[] = {{"--capacity", &capacity}, {"--category", &category}};
    kz_cov_args args;
    int rc = 0, r, *cat = NULL;
    kz_layer_options ao, po;
    kz_layer *areas = NULL, *points = NULL;
    kz_area_set set = {NULL, NULL, 0};
    kz_point_set pts;
    kz_count *c = NULL;
    double *cap = NULL;
    size_t bad = 0, n_cat = 0, a, k;
    const char **cat_names = NULL, *fields[2];
    size_t n_fields = 0, f_cap = 0, f_cat = 0;

    if ((rc = kz_cli_cov_parse(&args, cmd, argc, argv, own, sizeof(own) / sizeof(own[0]),
                               KZ_COV_THREADS_NOW, "AREAS and POINTS", help)) >= 0)
        return rc;
    rc = 0;

    memset(&ao, 0, sizeof(ao));
    ao.kind = KZ_GEOM_AREAS;
    ao.key_field = args.key;
    ao.label_field = args.label;
    if ((r = kz_layer_read(&areas, cli->ctx, args.pos[0], &ao)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    memset(&po, 0, sizeof(po));
    po.kind = KZ_GEOM_POINTS;
    po.crs = kz_layer_crs_wkt(areas)[0] ? kz_layer_crs_wkt(areas) : NULL;
    if (capacity) {
        f_cap = n_fields;
        fields[n_fields++] = capacity;
    }
    if (category) {
        f_cat = n_fields;
        fields[n_fields++] = category;
    }
    po.fields = fields;
    po.n_fields = n_fields;
    if ((r = kz_layer_read(&points, cli->ctx, args.pos[1], &po)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }
    if (kz_cli_cov_area_set(&set, areas) != 0)
        goto nomem;
    memset(&pts, 0, sizeof(pts));
    pts.x = kz_layer_xs(points);
    pts.y = kz_layer_ys(points);
    pts.n = kz_layer_count(points);
    if (capacity) {
        if ((rc = kz_cli_cov_weights(&cap, &bad, cmd, points, f_cap, capacity)) != 0)
            goto done;
        pts.weight = cap;
    }
    if (category) {
        if (categories(&cat, &cat_names, &n_cat, points, f_cat) != 0)
            goto nomem;
        pts.category = cat;
    }
    if ((r = kz_coverage_count(&c, cli->ctx, &set, &pts, n_cat, (int)args.threads, NULL)) !=
        KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }

    if (args.outpath) {
        size_t nc = 1 + (capacity ? 1 : 0) + n_cat, col = 0;
        kz_column *cols = calloc(nc, sizeof(kz_column));
        long long *percat = n_cat ? malloc(n_cat * set.n * sizeof(long long) + 1) : NULL;
        char **names = n_cat ? calloc(n_cat, sizeof(char *)) : NULL;
        int ok = cols != NULL && (!n_cat || (percat && names));
        for (k = 0; ok && k < n_cat; k++) {
            size_t len = strlen(cat_names[k]) + 7;
            if ((names[k] = malloc(len)) == NULL) {
                ok = 0;
                break;
            }
            snprintf(names[k], len, "count_%s", cat_names[k]);
            for (a = 0; a < set.n; a++)
                percat[k * set.n + a] = c->category_count[a * n_cat + k];
        }
        if (ok) {
            cols[col++] = (kz_column){"count", KZ_COL_INTEGER, NULL, c->count, NULL};
            if (capacity)
                cols[col++] = (kz_column){"capacity", KZ_COL_REAL, c->weight, NULL, NULL};
            for (k = 0; k < n_cat; k++)
                cols[col++] = (kz_column){names[k], KZ_COL_INTEGER, NULL, percat + k * set.n, NULL};
            r = kz_layer_write(cli->ctx, areas, args.outpath, args.layer_name, cols, nc);
        }
        for (k = 0; names && k < n_cat; k++)
            free(names[k]);
        free(names);
        free(percat);
        free(cols);
        if (!ok)
            goto nomem;
        if (r != KZ_OK) {
            rc = kz_cli_fail(cli, cmd, r);
            goto done;
        }
    }

    if (cli->json) {
        json_t *doc = json_object(), *res = json_array(), *cats = json_array();
        for (k = 0; k < n_cat; k++)
            json_array_append_new(cats, json_string(cat_names[k]));
        json_object_set_new(doc, "command", json_string("count"));
        json_object_set_new(doc, "areas_source", json_string(args.pos[0]));
        json_object_set_new(doc, "points_source", json_string(args.pos[1]));
        json_object_set_new(doc, "areas", json_integer((json_int_t)set.n));
        json_object_set_new(doc, "points", json_integer((json_int_t)pts.n));
        json_object_set_new(doc, "inside", json_integer((json_int_t)(pts.n - (size_t)c->outside)));
        json_object_set_new(doc, "outside", json_integer(c->outside));
        json_object_set_new(doc, "on_shared_boundary", json_integer(c->on_boundary));
        json_object_set_new(doc, "boundary_rule",
                            json_string("a point covered by several areas counts for the "
                                        "first of them in AREAS"));
        if (capacity) {
            json_object_set_new(doc, "capacity_field", json_string(capacity));
            json_object_set_new(doc, "capacity_unreadable", json_integer((json_int_t)bad));
        }
        if (category) {
            json_object_set_new(doc, "category_field", json_string(category));
            json_object_set_new(doc, "categories", cats);
        } else {
            json_decref(cats);
        }
        for (a = 0; a < set.n; a++) {
            json_t *o = kz_cli_cov_area_json(areas, a);
            json_object_set_new(o, "count", json_integer(c->count[a]));
            if (capacity)
                json_object_set_new(o, "capacity", json_real(c->weight[a]));
            if (n_cat) {
                json_t *bc = json_object();
                for (k = 0; k < n_cat; k++)
                    json_object_set_new(bc, cat_names[k],
                                        json_integer(c->category_count[a * n_cat + k]));
                json_object_set_new(o, "by_category", bc);
            }
            json_array_append_new(res, o);
        }
        json_object_set_new(doc, "results", res);
        if ((rc = kz_cli_cov_print_json(cmd, doc)) != 0)
            goto done;
    } else {
        printf("%s\tcount%s", args.key ? "key" : "fid", capacity ? "\tcapacity" : "");
        for (k = 0; k < n_cat; k++)
            printf("\t%s", cat_names[k]);
        putchar('\n');
        for (a = 0; a < set.n; a++) {
            kz_cli_cov_print_area(areas, a, args.key != NULL);
            printf("\t%lld", c->count[a]);
            if (capacity)
                printf("\t%.15g", c->weight[a]);
            for (k = 0; k < n_cat; k++)
                printf("\t%lld", c->category_count[a * n_cat + k]);
            putchar('\n');
        }
    }
    if (cli->verbosity > 0)
        fprintf(stderr,
                "kiez count: %zu points: %zu in %zu areas, %lld outside, %lld on shared "
                "boundaries (counted for the first area)\n",
                pts.n, pts.n - (size_t)c->outside, set.n, c->outside, c->on_boundary);
    goto done;
nomem:
    rc = kz_cli_cov_nomem(cmd);
done:
    kz_count_free(c);
    free(cap);
    free(cat);
    free(cat_names);
    kz_cli_cov_area_set_free(&set);
    kz_layer_free(points);
    kz_layer_free(areas);
    return rc;
}
