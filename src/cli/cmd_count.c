/*
 * kiez count AREAS POINTS: points (and capacity sums, per category) per area.
 *
 * Also home of the helpers the coverage commands share (count, nearest,
 * access); they are declared again in cmd_nearest.c and cmd_access.c.
 */
#include "cli.h"
#include "kiez/coverage.h"
#include "kiez/layer.h"
#include "kiez/table.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared by the coverage commands -------------------------- */

int kz_cli_cov_numbers(double *out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field);
int kz_cli_cov_area_set(kz_area_set *set, const kz_layer *areas);
void kz_cli_cov_area_set_free(kz_area_set *set);
int kz_cli_cov_projected(const char *cmd, const kz_layer *l, const char *name);
int kz_cli_cov_option(const char **out, int *i, int argc, char **argv, const char *name);

/*
 * Parse a numeric field of every feature (capacity, population). Numbers
 * stored as text are parsed with kz_value_parse (decimal point, no
 * thousands separator). Missing or unreadable values count as 0; how many,
 * and the first feature, are reported on stderr. Returns 0 or -1 (no memory).
 */
int kz_cli_cov_numbers(double *out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field)
{
    size_t i, n = kz_layer_count(l), first = 0;
    *bad = 0;
    for (i = 0; i < n; i++) {
        const char *text = kz_layer_field(l, i, f);
        int flag = KZ_FLAG_MISSING;
        double v = 0;
        if (text == NULL || kz_value_parse(&v, &flag, text, '.', KZ_THOUSANDS_NONE) != KZ_OK ||
            (flag != KZ_FLAG_OK && flag != KZ_FLAG_ESTIMATED) || !isfinite(v)) {
            if ((*bad)++ == 0)
                first = i;
            v = 0;
        }
        out[i] = v;
    }
    if (*bad > 0) {
        const char *key = kz_layer_key(l, first), *text = kz_layer_field(l, first, f);
        fprintf(stderr,
                "kiez %s: warning: %s: %zu of %zu features have no number in \"%s\" (first: "
                "feature %lld%s%s%s, value \"%s\"); they count as 0\n",
                cmd, kz_layer_source(l), *bad, n, field, kz_layer_fid(l, first),
                key ? " (key \"" : "", key ? key : "", key ? "\")" : "", text ? text : "");
    }
    return 0;
}

/* WKB arrays of an area layer for the kernels; free with _free(). */
int kz_cli_cov_area_set(kz_area_set *set, const kz_layer *areas)
{
    size_t i, n = kz_layer_count(areas);
    const unsigned char **wkb = malloc((n ? n : 1) * sizeof(*wkb));
    size_t *size = malloc((n ? n : 1) * sizeof(size_t));
    if (wkb == NULL || size == NULL) {
        free(wkb);
        free(size);
        return -1;
    }
    for (i = 0; i < n; i++)
        wkb[i] = kz_layer_wkb(areas, i, &size[i]);
    set->wkb = wkb;
    set->wkb_size = size;
    set->n = n;
    return 0;
}

void kz_cli_cov_area_set_free(kz_area_set *set)
{
    free((void *)set->wkb);
    free((void *)set->wkb_size);
}

/* Distances need metres: refuse a geographic CRS (degrees). Returns 0 or
 * the exit code 2 after a message. */
int kz_cli_cov_projected(const char *cmd, const kz_layer *l, const char *name)
{
    const char *wkt = kz_layer_crs_wkt(l);
    if (strncmp(wkt, "GEOGCRS", 7) == 0 || strncmp(wkt, "GEOGCS", 6) == 0) {
        fprintf(stderr,
                "kiez %s: %s is in longitude/latitude (degrees); distances need a projected "
                "CRS in metres: add --crs EPSG:25833 (or your UTM zone)\n",
                cmd, name);
        return 2;
    }
    return 0;
}

/* "--name VALUE": the value, advancing *i; NULL and an error if missing. */
int kz_cli_cov_option(const char **out, int *i, int argc, char **argv, const char *name)
{
    if (strcmp(argv[*i], name) != 0)
        return 0;
    if (*i + 1 >= argc) {
        *out = NULL;
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

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
    const char *cmd = "count", *pos[2] = {NULL, NULL}, *key = NULL, *label = NULL;
    const char *capacity = NULL, *category = NULL, *outpath = NULL, *layer_name = NULL, *v = NULL;
    long threads = 0;
    int i, npos = 0, rc = 0, r, *cat = NULL;
    kz_layer_options ao, po;
    kz_layer *areas = NULL, *points = NULL;
    kz_area_set set = {NULL, NULL, 0};
    kz_point_set pts;
    kz_count *c = NULL;
    double *cap = NULL;
    size_t bad = 0, n_cat = 0, a, k;
    const char **cat_names = NULL, *fields[2];
    size_t n_fields = 0, f_cap = 0, f_cat = 0;

    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            help();
            return 0;
        }
        if ((r = kz_cli_cov_option(&key, &i, argc, argv, "--key")) ||
            (r = kz_cli_cov_option(&label, &i, argc, argv, "--label")) ||
            (r = kz_cli_cov_option(&capacity, &i, argc, argv, "--capacity")) ||
            (r = kz_cli_cov_option(&category, &i, argc, argv, "--category")) ||
            (r = kz_cli_cov_option(&outpath, &i, argc, argv, "-o")) ||
            (r = kz_cli_cov_option(&outpath, &i, argc, argv, "--output")) ||
            (r = kz_cli_cov_option(&layer_name, &i, argc, argv, "--layer")) ||
            (r = kz_cli_cov_option(&v, &i, argc, argv, "--threads"))) {
            if (r < 0)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[i]);
            if (strcmp(argv[i - 1], "--threads") == 0 && kz_cli_parse_long(&threads, v) != 0)
                return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"", v);
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[i]);
        if (npos == 2)
            return kz_cli_usage_error(cmd, "too many arguments (\"%s\")", argv[i]);
        pos[npos++] = argv[i];
    }
    if (npos < 2)
        return kz_cli_usage_error(cmd, "needs AREAS and POINTS");

    memset(&ao, 0, sizeof(ao));
    ao.kind = KZ_GEOM_AREAS;
    ao.key_field = key;
    ao.label_field = label;
    if ((r = kz_layer_read(&areas, cli->ctx, pos[0], &ao)) != KZ_OK) {
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
    if ((r = kz_layer_read(&points, cli->ctx, pos[1], &po)) != KZ_OK) {
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
        cap = malloc((pts.n ? pts.n : 1) * sizeof(double));
        if (cap == NULL || kz_cli_cov_numbers(cap, &bad, cmd, points, f_cap, capacity) != 0)
            goto nomem;
        pts.weight = cap;
    }
    if (category) {
        if (categories(&cat, &cat_names, &n_cat, points, f_cat) != 0)
            goto nomem;
        pts.category = cat;
    }
    if ((r = kz_coverage_count(&c, cli->ctx, &set, &pts, n_cat, (int)threads, NULL)) != KZ_OK) {
        rc = kz_cli_fail(cli, cmd, r);
        goto done;
    }

    if (outpath) {
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
            r = kz_layer_write(cli->ctx, areas, outpath, layer_name, cols, nc);
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
        json_object_set_new(doc, "areas_source", json_string(pos[0]));
        json_object_set_new(doc, "points_source", json_string(pos[1]));
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
            json_t *o = json_object();
            const char *ak = kz_layer_key(areas, a), *al = kz_layer_label(areas, a);
            json_object_set_new(o, "fid", json_integer(kz_layer_fid(areas, a)));
            if (ak)
                json_object_set_new(o, "key", json_string(ak));
            if (al)
                json_object_set_new(o, "name", json_string(al));
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
        if (json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15)) != 0) {
            json_decref(doc);
            goto nomem;
        }
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        printf("%s\tcount%s", key ? "key" : "fid", capacity ? "\tcapacity" : "");
        for (k = 0; k < n_cat; k++)
            printf("\t%s", cat_names[k]);
        putchar('\n');
        for (a = 0; a < set.n; a++) {
            if (key)
                printf("%s", kz_layer_key(areas, a));
            else
                printf("%lld", kz_layer_fid(areas, a));
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
    fprintf(stderr, "kiez count: out of memory\n");
    rc = 4;
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
