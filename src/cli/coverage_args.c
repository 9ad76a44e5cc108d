/*
 * Options, layers and output the coverage commands (kiez count, nearest,
 * access) share; see coverage_args.h.
 */
#include "coverage_args.h"

#include "kiez/table.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* "--name VALUE": 1 and the value, advancing *i; -1 if the value is
 * missing; 0 if argv[*i] is another option. */
static int option(const char **out, int *i, int argc, char **argv, const char *name)
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

int kz_cli_cov_parse(kz_cov_args *a, const char *cmd, int argc, char **argv, const kz_cli_opt *own,
                     size_t n_own, int flags, const char *needs, void (*help)(void))
{
    const kz_cli_opt common[] = {{"--key", &a->key},          {"--label", &a->label},
                                 {"-o", &a->outpath},         {"--output", &a->outpath},
                                 {"--layer", &a->layer_name}, {"--threads", &a->threads_s},
                                 {"--areas", &a->areas_src},  {"--crs", &a->crs}};
    size_t n_common = sizeof(common) / sizeof(common[0]) - ((flags & KZ_COV_AREAS) ? 0 : 2);
    int i, npos = 0, r, threads = 0;
    size_t k;

    memset(a, 0, sizeof(*a));
    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            help();
            return 0;
        }
        r = threads = 0;
        for (k = 0; r == 0 && k < n_own; k++)
            r = option(own[k].value, &i, argc, argv, own[k].name);
        for (k = 0; r == 0 && k < n_common; k++)
            if ((r = option(common[k].value, &i, argc, argv, common[k].name)) != 0)
                threads = common[k].value == &a->threads_s;
        if (r != 0) {
            if (r < 0)
                return kz_cli_usage_error(cmd, "%s needs a value", argv[i]);
            if ((flags & KZ_COV_THREADS_NOW) && threads &&
                kz_cli_parse_long(&a->threads, a->threads_s) != 0)
                return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"",
                                          a->threads_s);
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return kz_cli_usage_error(cmd, "unknown option %s", argv[i]);
        if (npos == 2)
            return kz_cli_usage_error(cmd, "too many arguments (\"%s\")", argv[i]);
        a->pos[npos++] = argv[i];
    }
    if (npos < 2)
        return kz_cli_usage_error(cmd, "needs %s", needs);
    return -1;
}

int kz_cli_cov_check(kz_cov_args *a, const char *cmd)
{
    if (a->threads_s && kz_cli_parse_long(&a->threads, a->threads_s) != 0)
        return kz_cli_usage_error(cmd, "--threads needs a number, not \"%s\"", a->threads_s);
    if ((a->key || a->label) && !a->areas_src)
        return kz_cli_usage_error(cmd, "--key and --label name the areas of --areas");
    return 0;
}

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

int kz_cli_cov_weights(double **out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field)
{
    size_t i, n = kz_layer_count(l), first = 0;
    double *w = malloc((n ? n : 1) * sizeof(double));
    if (w == NULL)
        return kz_cli_cov_nomem(cmd);
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
        w[i] = v;
    }
    if (*bad > 0) {
        const char *key = kz_layer_key(l, first), *text = kz_layer_field(l, first, f);
        fprintf(stderr,
                "kiez %s: warning: %s: %zu of %zu features have no number in \"%s\" (first: "
                "feature %lld%s%s%s, value \"%s\"); they count as 0\n",
                cmd, kz_layer_source(l), *bad, n, field, kz_layer_fid(l, first),
                key ? " (key \"" : "", key ? key : "", key ? "\")" : "", text ? text : "");
    }
    *out = w;
    return 0;
}

/* Distances need metres: refuse a geographic CRS (degrees). */
static int projected(const char *cmd, const kz_layer *l, const char *name)
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

/* A layer's x, y and count as a point set. */
static void point_set(kz_point_set *pts, const kz_layer *l)
{
    memset(pts, 0, sizeof(*pts));
    pts->x = kz_layer_xs(l);
    pts->y = kz_layer_ys(l);
    pts->n = kz_layer_count(l);
}

int kz_cli_cov_load(kz_cov_layers *l, kz_cli *cli, const char *cmd, const kz_cov_args *a,
                    const char *demand_field, const char *fac_field)
{
    const char *crs = a->crs;
    kz_layer_options o;
    int r, rc;

    memset(&o, 0, sizeof(o));
    if (a->areas_src) {
        o.kind = KZ_GEOM_AREAS;
        o.key_field = a->key;
        o.label_field = a->label;
        o.crs = crs;
        if ((r = kz_layer_read(&l->areas, cli->ctx, a->areas_src, &o)) != KZ_OK)
            return kz_cli_fail(cli, cmd, r);
        if (!crs && kz_layer_crs_wkt(l->areas)[0])
            crs = kz_layer_crs_wkt(l->areas);
    }
    memset(&o, 0, sizeof(o));
    o.kind = KZ_GEOM_POINTS;
    o.crs = crs;
    o.fields = &demand_field;
    o.n_fields = demand_field ? 1 : 0;
    if ((r = kz_layer_read(&l->demand, cli->ctx, a->pos[0], &o)) != KZ_OK)
        return kz_cli_fail(cli, cmd, r);
    if (!crs && kz_layer_crs_wkt(l->demand)[0])
        crs = kz_layer_crs_wkt(l->demand);
    if ((rc = projected(cmd, l->demand, a->pos[0])) != 0)
        return rc;
    o.crs = crs;
    o.fields = &fac_field;
    o.n_fields = fac_field ? 1 : 0;
    if ((r = kz_layer_read(&l->fac, cli->ctx, a->pos[1], &o)) != KZ_OK)
        return kz_cli_fail(cli, cmd, r);
    point_set(&l->dem, l->demand);
    point_set(&l->fpts, l->fac);
    return 0;
}

int kz_cli_cov_locate(kz_cov_layers *l, kz_cli *cli, const char *cmd, int threads)
{
    int r;
    if (kz_cli_cov_area_set(&l->set, l->areas) != 0 ||
        (l->where = malloc((l->dem.n ? l->dem.n : 1) * sizeof(int))) == NULL)
        return kz_cli_cov_nomem(cmd);
    if ((r = kz_coverage_locate(l->where, cli->ctx, &l->set, &l->dem, threads, NULL)) != KZ_OK)
        return kz_cli_fail(cli, cmd, r);
    return 0;
}

void kz_cli_cov_layers_free(kz_cov_layers *l)
{
    free(l->where);
    kz_cli_cov_area_set_free(&l->set);
    kz_layer_free(l->areas);
    kz_layer_free(l->demand);
    kz_layer_free(l->fac);
}

json_t *kz_cli_cov_num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *kz_cli_cov_area_json(const kz_layer *areas, size_t k)
{
    json_t *o = json_object();
    const char *key = kz_layer_key(areas, k), *name = kz_layer_label(areas, k);
    json_object_set_new(o, "fid", json_integer(kz_layer_fid(areas, k)));
    if (key)
        json_object_set_new(o, "key", json_string(key));
    if (name)
        json_object_set_new(o, "name", json_string(name));
    return o;
}

void kz_cli_cov_print_area(const kz_layer *areas, size_t k, int by_key)
{
    if (by_key)
        printf("%s", kz_layer_key(areas, k));
    else
        printf("%lld", kz_layer_fid(areas, k));
}

/* 0 when everything reached stdout, else the message and exit code 3. */
static int written(const char *cmd)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "kiez %s: cannot write the output: %s\n", cmd, strerror(errno));
    return 3;
}

int kz_cli_cov_print_json(const char *cmd, json_t *doc)
{
    int r = json_dumpf(doc, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    json_decref(doc);
    if (r != 0)
        return written(cmd) ? 3 : kz_cli_cov_nomem(cmd);
    fputc('\n', stdout);
    return written(cmd);
}

/* Rows [begin, end) as JSON text, each after ",\n  " ("\n  " for row 0). */
typedef struct row_chunk {
    kz_cli_cov_row_fn row;
    void *payload;
    size_t begin, end;
    char *text;
    size_t len, cap;
    int bad; /* out of memory */
} row_chunk;

static int chunk_room(row_chunk *c, size_t more)
{
    char *grown;
    size_t cap = c->cap ? c->cap : 65536;
    if (c->len + more <= c->cap)
        return 0;
    while (cap < c->len + more)
        cap *= 2;
    if ((grown = realloc(c->text, cap)) == NULL)
        return -1;
    c->text = grown;
    c->cap = cap;
    return 0;
}

static void *format_chunk(void *arg)
{
    row_chunk *c = arg;
    size_t i;
    c->len = 0;
    for (i = c->begin; i < c->end && !c->bad; i++) {
        json_t *r = c->row(i, c->payload);
        const char *sep = i ? ",\n  " : "\n  ";
        size_t need;
        if (r == NULL || chunk_room(c, 4) != 0) {
            c->bad = 1;
            json_decref(r);
            break;
        }
        memcpy(c->text + c->len, sep, strlen(sep));
        c->len += strlen(sep);
        need = json_dumpb(r, c->text + c->len, c->cap - c->len, JSON_REAL_PRECISION(15));
        if (need > c->cap - c->len) { /* too little room: the text is not there yet */
            if (chunk_room(c, need) != 0)
                need = 0;
            else
                need = json_dumpb(r, c->text + c->len, c->cap - c->len, JSON_REAL_PRECISION(15));
        }
        json_decref(r);
        if (need == 0)
            c->bad = 1;
        c->len += need;
    }
    return NULL;
}

/*
 * The rows are formatted 16,384 at a time on both cores: a second thread
 * formats every other chunk while this one formats the chunk before it,
 * then both are written in order. Formatting was 40 % of `kiez access
 * --json` on a million points; at most two chunks (about 1.3 MB) are held.
 */
#define ROW_CHUNK 16384

int kz_cli_cov_print_json_rows(const char *cmd, json_t *doc, size_t n, kz_cli_cov_row_fn row,
                               void *payload)
{
    char *head = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
    size_t end, i, members = json_object_size(doc);
    row_chunk a, b;
    int rc = 0;
    json_decref(doc);
    if (head == NULL || (end = strlen(head)) < 2 || head[end - 1] != '}') {
        free(head);
        return kz_cli_cov_nomem(cmd);
    }
    /* The members, without the closing brace; then the rows. */
    end--;
    while (end > 0 && (head[end - 1] == '\n' || head[end - 1] == ' '))
        end--;
    fwrite(head, 1, end, stdout);
    free(head);
    fputs(members ? ",\n \"results\": [" : "\n \"results\": [", stdout);
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.row = b.row = row;
    a.payload = b.payload = payload;
    for (i = 0; i < n && rc == 0; i += 2 * ROW_CHUNK) {
        pthread_t second;
        int started;
        a.begin = i;
        a.end = b.begin = i + ROW_CHUNK < n ? i + ROW_CHUNK : n;
        b.end = b.begin + ROW_CHUNK < n ? b.begin + ROW_CHUNK : n;
        started = b.begin < b.end && pthread_create(&second, NULL, format_chunk, &b) == 0;
        format_chunk(&a);
        if (started)
            pthread_join(second, NULL);
        else
            format_chunk(&b);
        if (a.bad || b.bad)
            rc = written(cmd) ? 3 : kz_cli_cov_nomem(cmd);
        else if ((a.len > 0 && fwrite(a.text, 1, a.len, stdout) != a.len) ||
                 (b.len > 0 && fwrite(b.text, 1, b.len, stdout) != b.len))
            rc = written(cmd);
    }
    free(a.text);
    free(b.text);
    if (rc != 0)
        return rc;
    fputs(n ? "\n ]\n}\n" : "]\n}\n", stdout);
    return written(cmd);
}

int kz_cli_cov_nomem(const char *cmd)
{
    fprintf(stderr, "kiez %s: out of memory\n", cmd);
    return 4;
}
