/*
 * GAL and GWT weights files (weights.h), as GeoDa, PySAL (libpysal.io) and
 * spdep (read.gal / write.nb.gal, read.gwt2nb / write.sn2gwt) use them.
 *
 *   GAL:  0 n shapefile idvar      GWT:  0 n shapefile idvar
 *         id count                       id_i id_j w_ij
 *         nbr_1 nbr_2 ... nbr_count      ...
 */
#include "ctx_internal.h"
#include "kiez/weights.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES 65536
#define MAX_AREAS 100000000UL

static int has_space(const char *s)
{
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return 1;
    return 0;
}

static int check_keys(kz_ctx *ctx, const char *const *keys, size_t n)
{
    size_t i;
    if (keys == NULL)
        return KZ_OK;
    for (i = 0; i < n; i++)
        if (keys[i] == NULL || keys[i][0] == '\0' || has_space(keys[i]))
            return kz_ctx__error(ctx, KZ_E_INPUT,
                                 "area %zu: key \"%s\" is empty or has white space; GAL/GWT ids "
                                 "cannot hold it",
                                 i, keys[i] ? keys[i] : "");
    return KZ_OK;
}

static void put_id(FILE *f, const char *const *keys, size_t i)
{
    if (keys)
        fputs(keys[i], f);
    else
        fprintf(f, "%zu", i + 1);
}

static int finish(kz_ctx *ctx, FILE *f, const char *path)
{
    int bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot write: %s", path, strerror(errno));
    return KZ_OK;
}

static int write_file(kz_ctx *ctx, const kz_weights *w, const char *path, const char *const *keys,
                      const char *shapefile, const char *idvar, int gwt)
{
    size_t n = kz_weights_n(w), i, e;
    FILE *f;
    int rc;

    if ((rc = check_keys(ctx, keys, n)) != KZ_OK)
        return rc;
    if ((shapefile && has_space(shapefile)) || (idvar && has_space(idvar)))
        return kz_ctx__error(ctx, KZ_E_INPUT,
                             "%s: the shapefile and id names of the header "
                             "cannot contain white space",
                             path);
    if ((f = fopen(path, "w")) == NULL)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "0 %zu %s %s\n", n, shapefile && *shapefile ? shapefile : "unknown",
            idvar && *idvar ? idvar : "id");
    /* GWT carries the weights in the current style (as PySAL writes w.weights). */
    for (i = 0; i < n; i++) {
        const size_t *ids;
        const double *wt;
        size_t k = kz_weights_neighbours(w, i, &ids, &wt);
        if (!gwt) {
            put_id(f, keys, i);
            fprintf(f, " %zu\n", k);
            for (e = 0; e < k; e++) {
                if (e)
                    fputc(' ', f);
                put_id(f, keys, ids[e]);
            }
            fputc('\n', f);
        } else {
            for (e = 0; e < k; e++) {
                put_id(f, keys, i);
                fputc(' ', f);
                put_id(f, keys, ids[e]);
                fprintf(f, " %.17g\n", wt[e]);
            }
        }
    }
    return finish(ctx, f, path);
}

int kz_weights_write_gal(kz_ctx *ctx, const kz_weights *w, const char *path,
                         const char *const *keys, const char *shapefile, const char *idvar)
{
    return write_file(ctx, w, path, keys, shapefile, idvar, 0);
}

int kz_weights_write_gwt(kz_ctx *ctx, const kz_weights *w, const char *path,
                         const char *const *keys, const char *shapefile, const char *idvar)
{
    return write_file(ctx, w, path, keys, shapefile, idvar, 1);
}

/* ---- reading ----------------------------------------------------------------- */

typedef struct reader {
    FILE *f;
    const char *path;
    long line;
    char *buf;
} reader;

/* Next non-empty line into r->buf; 1 on success, 0 at the end, -1 when too
 * long. */
static int next_line(reader *r)
{
    for (;;) {
        size_t len;
        char *s;
        if (fgets(r->buf, LINE_MAX_BYTES, r->f) == NULL)
            return 0;
        r->line++;
        len = strlen(r->buf);
        if (len == LINE_MAX_BYTES - 1 && r->buf[len - 1] != '\n' && !feof(r->f))
            return -1;
        for (s = r->buf; *s && isspace((unsigned char)*s); s++)
            ;
        if (*s)
            return 1;
    }
}

/* Split r->buf into at most `max` white-space separated tokens. */
static size_t tokens(char *buf, char **tok, size_t max)
{
    size_t k = 0;
    char *s = buf;
    while (*s) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (k == max)
            return max + 1;
        tok[k++] = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    return k;
}

static int parse_size(size_t *out, const char *s)
{
    char *end = NULL;
    unsigned long long v;
    if (*s == '-' || *s == '+')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

typedef struct key_index {
    const char *key;
    size_t i;
} key_index;

typedef struct id_map {
    size_t n;
    key_index *order; /* sorted by key; NULL: ids are 1-based indexes */
} id_map;

static int cmp_key_index(const void *a, const void *b)
{
    return strcmp(((const key_index *)a)->key, ((const key_index *)b)->key);
}

/* Resolve an id to an index; -1 if unknown. */
static long long lookup(const id_map *m, const char *id)
{
    if (m->order == NULL) {
        size_t v;
        if (parse_size(&v, id) != 0 || v < 1 || v > m->n)
            return -1;
        return (long long)(v - 1);
    } else {
        size_t lo = 0, hi = m->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(m->order[mid].key, id);
            if (c == 0)
                return (long long)m->order[mid].i;
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return -1;
    }
}

typedef struct edges {
    size_t *i, *j;
    double *w;
    size_t n, cap;
} edges;

static int edges_add(edges *e, size_t i, size_t j, double w)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        size_t *ni = realloc(e->i, cap * sizeof(size_t));
        size_t *nj = ni ? realloc(e->j, cap * sizeof(size_t)) : NULL;
        double *nw = nj ? realloc(e->w, cap * sizeof(double)) : NULL;
        if (ni)
            e->i = ni;
        if (nj)
            e->j = nj;
        if (nw == NULL)
            return KZ_E_NOMEM;
        e->w = nw;
        e->cap = cap;
    }
    e->i[e->n] = i;
    e->j[e->n] = j;
    e->w[e->n] = w;
    e->n++;
    return KZ_OK;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix), k;
    if (a < b)
        return 0;
    for (k = 0; k < b; k++)
        if (tolower((unsigned char)s[a - b + k]) != suffix[k])
            return 0;
    return 1;
}

int kz_weights_read(kz_weights **out, kz_ctx *ctx, const char *path, const char *const *keys,
                    size_t n, int style)
{
    reader r = {NULL, path, 0, NULL};
    id_map map = {n, NULL};
    edges e = {NULL, NULL, NULL, 0, 0};
    size_t *offsets = NULL, *nbr = NULL, *fill = NULL, header_n = 0, k, i;
    double *raw = NULL;
    char *tok[5];
    int gwt, got, rc = KZ_OK;

    *out = NULL;
    if (ends_with(path, ".gwt"))
        gwt = 1;
    else if (ends_with(path, ".gal"))
        gwt = 0;
    else
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: weights files end in .gal or .gwt", path);
    if (n == 0 || n > MAX_AREAS)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: bad number of areas %zu", path, n);
    if ((r.buf = malloc(LINE_MAX_BYTES)) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    if (keys) {
        if ((map.order = malloc(n * sizeof(key_index))) == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        for (i = 0; i < n; i++) {
            if (keys[i] == NULL) {
                rc = kz_ctx__error(ctx, KZ_E_INPUT, "area %zu has no key", i);
                goto done;
            }
            map.order[i].key = keys[i];
            map.order[i].i = i;
        }
        qsort(map.order, n, sizeof(key_index), cmp_key_index);
        for (i = 1; i < n; i++)
            if (strcmp(map.order[i].key, map.order[i - 1].key) == 0) {
                rc = kz_ctx__error(ctx, KZ_E_INPUT, "key \"%s\" appears twice in the layer",
                                   map.order[i].key);
                goto done;
            }
    }
    if ((r.f = fopen(path, "r")) == NULL) {
        rc = kz_ctx__error(ctx, KZ_E_IO, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
#define FAIL_LINE(...)                                                                             \
    do {                                                                                           \
        rc = kz_ctx__error(ctx, KZ_E_INPUT, __VA_ARGS__);                                          \
        goto done;                                                                                 \
    } while (0)
    got = next_line(&r);
    if (got <= 0)
        FAIL_LINE("%s: %s", path, got < 0 ? "line 1 is too long" : "the file is empty");
    k = tokens(r.buf, tok, 4);
    if (k == 1 ? parse_size(&header_n, tok[0]) != 0
               : (k < 2 || k > 4 || parse_size(&header_n, tok[1]) != 0))
        FAIL_LINE("%s:%ld: expected the header \"0 n shapefile idvar\" or \"n\"", path, r.line);
    if (header_n != n)
        FAIL_LINE("%s:%ld: the file is for %zu areas, the layer has %zu", path, r.line, header_n,
                  n);
    if (!gwt) {
        /* GAL: pairs of lines "id count" and the neighbour ids. */
        char *ids_tok[2];
        unsigned char *seen = calloc(n, 1);
        if (seen == NULL) {
            rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
            goto done;
        }
        while ((got = next_line(&r)) > 0) {
            long long a, b;
            size_t cnt, c;
            char *s;
            if (tokens(r.buf, ids_tok, 2) != 2 || parse_size(&cnt, ids_tok[1]) != 0 || cnt >= n) {
                free(seen);
                FAIL_LINE("%s:%ld: expected \"id number_of_neighbours\"", path, r.line);
            }
            if ((a = lookup(&map, ids_tok[0])) < 0) {
                free(seen);
                FAIL_LINE("%s:%ld: unknown id \"%s\"", path, r.line, ids_tok[0]);
            }
            if (seen[a]) {
                free(seen);
                FAIL_LINE("%s:%ld: id \"%s\" has a second neighbour list", path, r.line,
                          ids_tok[0]);
            }
            seen[a] = 1;
            if (cnt == 0) {
                /* GeoDa writes an empty line after a zero count; PySAL may
                 * not. An empty line is skipped by next_line() anyway. */
                continue;
            }
            if ((got = next_line(&r)) <= 0) {
                free(seen);
                FAIL_LINE("%s:%ld: %s", path, r.line,
                          got < 0 ? "line too long" : "the neighbour list is missing");
            }
            s = r.buf;
            for (c = 0; c < cnt; c++) {
                char *t;
                while (*s && isspace((unsigned char)*s))
                    s++;
                t = s;
                while (*s && !isspace((unsigned char)*s))
                    s++;
                if (*s)
                    *s++ = '\0';
                if (*t == '\0') {
                    free(seen);
                    FAIL_LINE("%s:%ld: expected %zu neighbour ids, found %zu", path, r.line, cnt,
                              c);
                }
                if ((b = lookup(&map, t)) < 0 || b == a) {
                    free(seen);
                    FAIL_LINE("%s:%ld: %s id \"%s\"", path, r.line,
                              b < 0 ? "unknown" : "self-neighbour", t);
                }
                if (edges_add(&e, (size_t)a, (size_t)b, 1.0) != KZ_OK) {
                    free(seen);
                    rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                    goto done;
                }
            }
            while (*s && isspace((unsigned char)*s))
                s++;
            if (*s) {
                free(seen);
                FAIL_LINE("%s:%ld: more than %zu neighbour ids", path, r.line, cnt);
            }
        }
        free(seen);
    } else {
        while ((got = next_line(&r)) > 0) {
            long long a, b;
            double v;
            char *end = NULL;
            if (tokens(r.buf, tok, 3) != 3)
                FAIL_LINE("%s:%ld: expected \"id_i id_j weight\"", path, r.line);
            if ((a = lookup(&map, tok[0])) < 0 || (b = lookup(&map, tok[1])) < 0)
                FAIL_LINE("%s:%ld: unknown id \"%s\"", path, r.line,
                          lookup(&map, tok[0]) < 0 ? tok[0] : tok[1]);
            if (a == b)
                FAIL_LINE("%s:%ld: self-neighbour id \"%s\"", path, r.line, tok[0]);
            v = strtod(tok[2], &end);
            if (end == tok[2] || *end != '\0' || v != v)
                FAIL_LINE("%s:%ld: bad weight \"%s\"", path, r.line, tok[2]);
            if (edges_add(&e, (size_t)a, (size_t)b, v) != KZ_OK) {
                rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
                goto done;
            }
        }
    }
    if (got < 0)
        FAIL_LINE("%s:%ld: line too long (more than %d bytes)", path, r.line + 1,
                  LINE_MAX_BYTES - 1);
#undef FAIL_LINE
    /* To CSR (rows in file order; kz_weights_from_lists sorts). */
    offsets = calloc(n + 1, sizeof(size_t));
    fill = calloc(n, sizeof(size_t));
    nbr = malloc((e.n ? e.n : 1) * sizeof(size_t));
    raw = malloc((e.n ? e.n : 1) * sizeof(double));
    if (!offsets || !fill || !nbr || !raw) {
        rc = kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < e.n; k++)
        offsets[e.i[k] + 1]++;
    for (i = 0; i < n; i++)
        offsets[i + 1] += offsets[i];
    for (k = 0; k < e.n; k++) {
        size_t at = offsets[e.i[k]] + fill[e.i[k]]++;
        nbr[at] = e.j[k];
        raw[at] = e.w[k];
    }
    rc = kz_weights_from_lists(out, ctx, n, offsets, nbr, raw, style);
    if (rc != KZ_OK)
        kz_ctx__error_prefix(ctx, "%s", path);
done:
    if (r.f)
        fclose(r.f);
    free(r.buf);
    free(map.order);
    free(e.i);
    free(e.j);
    free(e.w);
    free(offsets);
    free(fill);
    free(nbr);
    free(raw);
    return rc;
}
