/*
 * The project file (libyaml adapter: the only file that includes <yaml.h>).
 *
 * The YAML text is read with libyaml's event API into a small tree of our
 * own, then walked against one schema per section (a table of keys, types
 * and struct offsets) into a kz_project, and finally cross-checked (names,
 * references, cycles, sources). libyaml's document loader is not used: it
 * resolves aliases silently and has no depth cap, while the event API lets
 * us reject anchors, aliases, extra documents and deep nesting as they come.
 *
 * Every error is KZ_E_USAGE with "file:line:column: key.path: what is wrong;
 * what to do" on the context. See docs/project-file.md for the format.
 */
#include "ctx_internal.h"
#include "kiez/table.h"
#include "kiez/weights.h"
#include "project_internal.h"

#include <yaml.h>

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <locale.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Caps on untrusted input. A project file is a short description. */
#define MAX_FILE (1L << 20)  /* bytes in a project file */
#define MAX_DEPTH 16         /* nested lists/mappings */
#define MAX_NODES 200000L    /* scalars, lists and mappings in one file */
#define MAX_LEVELS 100       /* levels (the cycle check is cubic in this) */
#define MAX_ITEMS 10000      /* tables, indicators, objects, list items */
#define MAX_NAME 40          /* characters in a level/indicator/object name */
#define MAX_WIDTH 64         /* key_width, key_prefix */
#define MAX_REGEX 256        /* bytes in period_path */
#define MAX_REGEX_NODES 1000 /* estimated regcomp() tree size of period_path */
#define MAX_FIELDS 24        /* keys in one schema */

#define DEFAULT_GEODATA "../shared/geodata"
#define DEFAULT_OUT_DIR "out"

/* ---- allocation, with failure injection for the tests ---------------- */

static long fail_after = -1;
static int fail_done;

void kz_project__set_alloc_fail_after(long n)
{
    fail_after = n;
    fail_done = 0;
}

int kz_project__alloc_failed(void)
{
    return fail_done;
}

static int inject_failure(void)
{
    if (fail_after < 0)
        return 0;
    if (fail_after-- == 0) {
        fail_done = 1;
        return 1;
    }
    return 0;
}

static void *xmalloc(size_t n)
{
    return inject_failure() ? NULL : malloc(n);
}

static void *xcalloc(size_t n, size_t size)
{
    return inject_failure() ? NULL : calloc(n, size);
}

static void *xrealloc(void *p, size_t n)
{
    return inject_failure() ? NULL : realloc(p, n);
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

/* a + sep + b, sep omitted when a already ends with it or is empty. */
static char *xjoin(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *d;
    if (la == 0 || (la >= ls && ls > 0 && memcmp(a + la - ls, sep, ls) == 0))
        ls = 0;
    d = xmalloc(la + ls + lb + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, a, la);
    memcpy(d + la, sep, ls);
    memcpy(d + la + ls, b, lb);
    d[la + ls + lb] = '\0';
    return d;
}

/* ---- the tree --------------------------------------------------------- */

enum { N_SCALAR, N_SEQ, N_MAP };

typedef struct node {
    int kind;
    int line, col;      /* 1-based, where the node starts */
    int plain;          /* scalar written without quotes (may be null, bool) */
    char *text;         /* scalar: NUL-terminated, no inner NUL */
    struct node **kids; /* list: items; mapping: key, value, key, value, ... */
    size_t n, cap;
} node;

static void node_free(node *nd)
{
    size_t i;
    if (nd == NULL)
        return;
    for (i = 0; i < nd->n; i++)
        node_free(nd->kids[i]);
    free(nd->kids);
    free(nd->text);
    free(nd);
}

/* Where a node or a key was found, per item of a section. */
typedef struct item_loc {
    const node *map;
    const node *at[MAX_FIELDS]; /* value node of each schema key, or NULL */
} item_loc;

typedef struct pstate {
    kz_ctx *ctx;
    const char *file; /* for messages */
    const char *buf;  /* the text, for reader error positions */
    size_t len;
    unsigned flags;
    char *dir;           /* project folder; NULL = working directory */
    const char *geodata; /* $KIEZ_GEODATA or the default */
    kz_project *p;
    item_loc *lv, *tb, *in, *ob, *ix, *tr, *sp, *co;
    item_loc *ms, *mc; /* measures and their comparison mappings */
    item_loc out;
    item_loc *cv;            /* coverage */
    item_loc *ac, *cp, disc; /* action, comparable, disclosure */
} pstate;

/* ---- errors ------------------------------------------------------------ */

static int nomem(pstate *s)
{
    return kz_ctx__error(s->ctx, KZ_E_NOMEM, "%s: out of memory while reading the project file",
                         s->file);
}

static int verr(pstate *s, int line, int col, const char *key, const char *fmt, va_list ap)
    KZ_PRINTF(5, 0);

static int verr(pstate *s, int line, int col, const char *key, const char *fmt, va_list ap)
{
    char msg[KZ_ERRMSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (key != NULL && key[0] != '\0')
        return kz_ctx__error(s->ctx, KZ_E_USAGE, "%s:%d:%d: %s: %s", s->file, line, col, key, msg);
    return kz_ctx__error(s->ctx, KZ_E_USAGE, "%s:%d:%d: %s", s->file, line, col, msg);
}

static int err_at(pstate *s, const node *nd, const char *key, const char *fmt, ...) KZ_PRINTF(4, 5);

/* An error at a node (NULL: the start of the file) about `key`. */
static int err_at(pstate *s, const node *nd, const char *key, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = verr(s, nd ? nd->line : 1, nd ? nd->col : 1, key, fmt, ap);
    va_end(ap);
    return rc;
}

static int err_mark(pstate *s, yaml_mark_t mark, const char *fmt, ...) KZ_PRINTF(3, 4);

static int err_mark(pstate *s, yaml_mark_t mark, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = verr(s, (int)mark.line + 1, (int)mark.column + 1, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int syntax_error(pstate *s, const yaml_parser_t *parser)
{
    const char *problem = parser->problem ? parser->problem : "unknown problem";
    if (parser->error == YAML_MEMORY_ERROR)
        return nomem(s);
    if (parser->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark: count lines. */
        size_t off = parser->problem_offset < s->len ? parser->problem_offset : s->len;
        size_t i, line = 1, col = 1;
        for (i = 0; i < off; i++) {
            if (s->buf[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)s->buf[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        return kz_ctx__error(s->ctx, KZ_E_USAGE,
                             "%s:%zu:%zu: YAML error: %s; the file must be UTF-8 text "
                             "without control characters",
                             s->file, line, col, problem);
    }
    if (parser->context != NULL)
        return err_mark(s, parser->problem_mark,
                        "YAML syntax error: %s (%s at line %d column %d); check indentation, "
                        "colons and quotes",
                        problem, parser->context, (int)parser->context_mark.line + 1,
                        (int)parser->context_mark.column + 1);
    return err_mark(s, parser->problem_mark,
                    "YAML syntax error: %s; check indentation, colons and quotes", problem);
}

static const char *kind_name(const node *nd)
{
    if (nd->kind == N_SEQ)
        return "a list";
    if (nd->kind == N_MAP)
        return "a mapping";
    return "a text value";
}

/* ---- YAML events to tree ----------------------------------------------- */

typedef struct builder {
    node *root;
    node *stack[MAX_DEPTH];
    int depth;
    long n_nodes;
} builder;

static int builder_add(pstate *s, builder *b, const yaml_event_t *ev, int kind, node **out)
{
    node *nd, *parent;
    if (++b->n_nodes > MAX_NODES)
        return err_mark(s, ev->start_mark,
                        "more than %ld values in the file; a project file is a short "
                        "description, not data",
                        MAX_NODES);
    nd = xcalloc(1, sizeof(*nd));
    if (nd == NULL)
        return nomem(s);
    nd->kind = kind;
    nd->line = (int)ev->start_mark.line + 1;
    nd->col = (int)ev->start_mark.column + 1;
    if (b->depth == 0) {
        b->root = nd; /* a second root cannot happen: one document only */
    } else {
        parent = b->stack[b->depth - 1];
        if (parent->n == parent->cap) {
            size_t cap = parent->cap ? parent->cap * 2 : 8;
            node **kids = xrealloc(parent->kids, cap * sizeof(*kids));
            if (kids == NULL) {
                free(nd);
                return nomem(s);
            }
            parent->kids = kids;
            parent->cap = cap;
        }
        parent->kids[parent->n++] = nd;
    }
    *out = nd;
    return KZ_OK;
}

static int on_event(pstate *s, builder *b, const yaml_event_t *ev, int *docs)
{
    node *nd = NULL;
    int rc;
    const yaml_char_t *anchor = NULL;

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return err_mark(s, ev->start_mark,
                            "a second YAML document starts here; a project file holds "
                            "exactly one: remove the '---' or '...' line or split the file");
        return KZ_OK;
    case YAML_ALIAS_EVENT:
        return err_mark(s, ev->start_mark,
                        "alias *%s: anchors and aliases are not supported in project "
                        "files; write the value out in full",
                        (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        b->depth--;
        return KZ_OK;
    default:
        return KZ_OK;
    }
    if (anchor != NULL)
        return err_mark(s, ev->start_mark,
                        "anchor &%s: anchors and aliases are not supported in project "
                        "files; write the value out in full",
                        (const char *)anchor);

    if (ev->type == YAML_SCALAR_EVENT) {
        const char *v = (const char *)ev->data.scalar.value;
        size_t n = ev->data.scalar.length;
        if (memchr(v, '\0', n) != NULL)
            return err_mark(s, ev->start_mark,
                            "the value contains a NUL character (\\0); remove it");
        if ((rc = builder_add(s, b, ev, N_SCALAR, &nd)) != KZ_OK)
            return rc;
        nd->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        nd->text = xstrndup(v, n);
        return nd->text ? KZ_OK : nomem(s);
    }
    if (b->depth >= MAX_DEPTH)
        return err_mark(s, ev->start_mark,
                        "lists and mappings nested deeper than %d levels; a project file "
                        "needs at most 4",
                        MAX_DEPTH);
    if ((rc = builder_add(s, b, ev, ev->type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP, &nd)) !=
        KZ_OK)
        return rc;
    b->stack[b->depth++] = nd;
    return KZ_OK;
}

static int build_tree(pstate *s, node **out)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    builder b;
    int docs = 0, done = 0, rc = KZ_OK;

    memset(&b, 0, sizeof(b));
    *out = NULL;
    if (!yaml_parser_initialize(&parser))
        return nomem(s);
    yaml_parser_set_input_string(&parser, (const unsigned char *)s->buf, s->len);
    while (!done && rc == KZ_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(s, &parser);
            break;
        }
        if (ev.type == YAML_STREAM_END_EVENT)
            done = 1;
        else
            rc = on_event(s, &b, &ev, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (rc != KZ_OK) {
        node_free(b.root);
        return rc;
    }
    *out = b.root;
    return KZ_OK;
}

/* ---- scalars ------------------------------------------------------------ */

static int is_null(const node *nd)
{
    return nd->kind == N_SCALAR && nd->plain &&
           (nd->text[0] == '\0' || strcmp(nd->text, "~") == 0 || strcasecmp(nd->text, "null") == 0);
}

static int is_ident(const char *t)
{
    size_t i;
    /* ASCII letters, digits and _: safe as SQL, GeoPackage and QGIS names.
     * Upper case is allowed because official indicator codes use it (S1, KI_01). */
    if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
        return 0;
    for (i = 1; t[i] != '\0'; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return i <= MAX_NAME;
}

static int parse_long(const char *t, long *v)
{
    char *end;
    long x;
    if (t[0] == '\0' || isspace((unsigned char)t[0]))
        return -1;
    errno = 0;
    x = strtol(t, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = x;
    return 0;
}

/* A decimal number in YAML/C syntax, independent of the C locale (a
 * program may have called setlocale() with a decimal comma). */
static int parse_number(const char *t, double *v)
{
    char tmp[128];
    const char *dp = localeconv()->decimal_point;
    size_t i = 0, o = 0, ldp = strlen(dp), digits = 0;
    char *end;
    if (strlen(t) > 60 || ldp > 8)
        return -1;
    if (t[i] == '+' || t[i] == '-')
        tmp[o++] = t[i++];
    for (; isdigit((unsigned char)t[i]); i++, digits++)
        tmp[o++] = t[i];
    if (t[i] == '.') {
        i++;
        memcpy(tmp + o, dp, ldp);
        o += ldp;
        for (; isdigit((unsigned char)t[i]); i++, digits++)
            tmp[o++] = t[i];
    }
    if (digits == 0)
        return -1;
    if (t[i] == 'e' || t[i] == 'E') {
        tmp[o++] = t[i++];
        if (t[i] == '+' || t[i] == '-')
            tmp[o++] = t[i++];
        if (!isdigit((unsigned char)t[i]))
            return -1;
        for (; isdigit((unsigned char)t[i]); i++)
            tmp[o++] = t[i];
    }
    if (t[i] != '\0')
        return -1;
    tmp[o] = '\0';
    *v = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(*v))
        return -1;
    return 0;
}

static int parse_bool(const char *t, int *v)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    size_t i;
    for (i = 0; i < 3; i++) {
        if (strcasecmp(t, yes[i]) == 0) {
            *v = 1;
            return 0;
        }
        if (strcasecmp(t, no[i]) == 0) {
            *v = 0;
            return 0;
        }
    }
    return -1;
}

/* Levenshtein distance of two short strings; large when either is long. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j;
    size_t row[65], prev;
    if (la > 64 || lb > 64)
        return 1000;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* ---- schemas ------------------------------------------------------------ */

enum ftype {
    F_STR,      /* char *, non-empty */
    F_IDENT,    /* char *, [a-z][a-z0-9_]{0,39} */
    F_INT,      /* int in [min, max] */
    F_BOOL,     /* int 0/1 */
    F_NUM,      /* double, finite */
    F_LIST,     /* char ** + size_t count at count_off */
    F_STRMAP,   /* mapping of text to text: char ** of 2n (key, value), n at count_off */
    F_ENUM,     /* int, from the names in `ev` */
    F_CHARENUM, /* char, from the names in `ev` */
    F_DELIM,    /* char: one printable character, or "tab" / "\t" */
    F_SECTION   /* handled by the caller */
};

typedef struct enum_val {
    const char *name;
    int value;
    int alias; /* accepted but not listed in messages */
} enum_val;

typedef struct field {
    const char *key;
    int type;
    int required;
    size_t off;
    size_t count_off;
    const enum_val *ev; /* terminated by a NULL name */
    int min, max;
} field;

static const enum_val ev_parent_match[] = {
    {"prefix", KZ_MATCH_PREFIX, 0}, {"overlap", KZ_MATCH_OVERLAP, 0}, {NULL, 0, 0}};
static const enum_val ev_duplicates[] = {
    {"error", KZ_DUP_ERROR, 0}, {"merge", KZ_DUP_MERGE, 0}, {NULL, 0, 0}};
static const enum_val ev_invalid[] = {
    {"repair", KZ_INVALID_REPAIR, 0}, {"reject", KZ_INVALID_REJECT, 0}, {NULL, 0, 0}};
static const enum_val ev_period_as[] = {{"date", KZ_PERIOD_DATE, 0},
                                        {"year", KZ_PERIOD_YEAR, 0},
                                        {"year_half", KZ_PERIOD_YEAR_HALF, 0},
                                        {"year_month", KZ_PERIOD_YEAR_MONTH, 0},
                                        {NULL, 0, 0}};
static const enum_val ev_format[] = {{"wide", 0, 0}, {"long", 1, 0}, {NULL, 0, 0}};
static const enum_val ev_decimal[] = {{".", '.', 0}, {",", ',', 0}, {NULL, 0, 0}};
static const enum_val ev_thousands[] = {{" ", ' ', 0},
                                        {".", '.', 0},
                                        {",", ',', 0},
                                        {"'", '\'', 0},
                                        {"nbsp", KZ_THOUSANDS_NBSP, 0},
                                        {"\xc2\xa0", KZ_THOUSANDS_NBSP, 1},
                                        {"none", KZ_THOUSANDS_NONE, 0},
                                        {NULL, 0, 0}};
static const enum_val ev_encoding[] = {
    {"utf-8", KZ_ENC_UTF8, 0},    {"utf8", KZ_ENC_UTF8, 1},
    {"latin1", KZ_ENC_LATIN1, 0}, {"iso-8859-1", KZ_ENC_LATIN1, 1},
    {"cp1252", KZ_ENC_CP1252, 0}, {"windows-1252", KZ_ENC_CP1252, 1},
    {"detect", KZ_ENC_DETECT, 0}, {NULL, 0, 0}};
static const enum_val ev_unmatched[] = {
    {"error", KZ_UNMATCHED_ERROR, 0}, {"warn", KZ_UNMATCHED_WARN, 0}, {NULL, 0, 0}};
static const enum_val ev_weights_style[] = {
    {"W", KZ_STYLE_W, 0}, {"B", KZ_STYLE_B, 0}, {NULL, 0, 0}};
static const enum_val ev_corr_method[] = {{"pearson", KZ_CORRELATION_PEARSON, 0},
                                          {"spearman", KZ_CORRELATION_SPEARMAN, 0},
                                          {"both", KZ_CORRELATION_BOTH, 0},
                                          {NULL, 0, 0}};
static const enum_val ev_polarity[] = {{"neutral", KZ_POLARITY_NEUTRAL, 0},
                                       {"positive", KZ_POLARITY_POSITIVE, 0},
                                       {"negative", KZ_POLARITY_NEGATIVE, 0},
                                       {NULL, 0, 0}};

#define FLD(T, k, t, req, m)                                                                       \
    {                                                                                              \
        k, t, req, offsetof(T, m), 0, NULL, 0, 0                                                   \
    }
#define FLD_E(T, k, t, m, e)                                                                       \
    {                                                                                              \
        k, t, 0, offsetof(T, m), 0, e, 0, 0                                                        \
    }
#define FLD_I(T, k, m, lo, hi)                                                                     \
    {                                                                                              \
        k, F_INT, 0, offsetof(T, m), 0, NULL, lo, hi                                               \
    }
#define FLD_L(T, k, m, c)                                                                          \
    {                                                                                              \
        k, F_LIST, 0, offsetof(T, m), offsetof(T, c), NULL, 0, 0                                   \
    }
#define FLD_M(T, k, m, c)                                                                          \
    {                                                                                              \
        k, F_STRMAP, 0, offsetof(T, m), offsetof(T, c), NULL, 0, 0                                 \
    }

enum {
    T_NAME,
    T_CRS,
    T_DATABASE,
    T_LEVELS,
    T_TABLES,
    T_INDICATORS,
    T_OBJECTS,
    T_INDICES,
    T_TRENDS,
    T_SPATIAL,
    T_CORRELATIONS,
    T_COVERAGE,
    T_MEASURES,
    T_ACTION,
    T_COMPARABLE,
    T_DISCLOSURE,
    T_OUTPUTS,
    T_N
};
static const field top_fields[] = {
    FLD(kz_project, "name", F_STR, 1, name),
    FLD(kz_project, "crs", F_STR, 1, crs),
    FLD(kz_project, "database", F_STR, 0, database),
    FLD(kz_project, "levels", F_SECTION, 1, levels),
    FLD(kz_project, "tables", F_SECTION, 0, tables),
    FLD(kz_project, "indicators", F_SECTION, 0, indicators),
    FLD(kz_project, "objects", F_SECTION, 0, objects),
    FLD(kz_project, "indices", F_SECTION, 0, indices),
    FLD(kz_project, "trends", F_SECTION, 0, trends),
    FLD(kz_project, "spatial", F_SECTION, 0, spatial),
    FLD(kz_project, "correlations", F_SECTION, 0, correlations),
    FLD(kz_project, "coverage", F_SECTION, 0, coverage),
    FLD(kz_project, "measures", F_SECTION, 0, measures),
    FLD(kz_project, "action", F_SECTION, 0, actions),
    FLD(kz_project, "comparable", F_SECTION, 0, comparables),
    FLD(kz_project, "disclosure", F_SECTION, 0, disclosure),
    FLD(kz_project, "outputs", F_SECTION, 0, outputs),
};

enum {
    L_NAME,
    L_TITLE,
    L_SOURCE,
    L_KEY,
    L_LABEL,
    L_KEY_WIDTH,
    L_PARENT,
    L_PARENT_MATCH,
    L_DISSOLVE,
    L_KEY_PREFIX,
    L_AREA_KEY,
    L_AREA_NAME,
    L_DUPLICATES,
    L_INVALID,
    L_FIX_KEYS,
    L_N
};
static const field level_fields[] = {
    FLD(kz_level_def, "name", F_IDENT, 1, name),
    FLD(kz_level_def, "title", F_STR, 0, title),
    FLD(kz_level_def, "source", F_STR, 0, source),
    FLD(kz_level_def, "key", F_STR, 0, key),
    FLD(kz_level_def, "label", F_STR, 0, label),
    FLD_I(kz_level_def, "key_width", key_width, 0, MAX_WIDTH),
    FLD(kz_level_def, "parent", F_STR, 0, parent),
    FLD_E(kz_level_def, "parent_match", F_ENUM, parent_match, ev_parent_match),
    FLD(kz_level_def, "dissolve", F_STR, 0, dissolve),
    FLD_I(kz_level_def, "key_prefix", key_prefix, 0, MAX_WIDTH),
    FLD(kz_level_def, "area_key", F_STR, 0, area_key),
    FLD(kz_level_def, "area_name", F_STR, 0, area_name),
    FLD_E(kz_level_def, "duplicates", F_ENUM, duplicates, ev_duplicates),
    FLD_E(kz_level_def, "invalid", F_ENUM, invalid, ev_invalid),
    FLD_M(kz_level_def, "fix_keys", fix_keys, n_fix_keys),
};

enum {
    B_SOURCE,
    B_LEVEL,
    B_KEY,
    B_KEY_BY_NAME,
    B_PERIOD,
    B_PERIOD_COLUMN,
    B_PERIOD_PATH,
    B_PERIOD_AS,
    B_FORMAT,
    B_VARIABLE_COLUMN,
    B_VALUE_COLUMN,
    B_VARIABLES,
    B_IGNORE,
    B_MISSING,
    B_DELIMITER,
    B_DECIMAL,
    B_THOUSANDS,
    B_ENCODING,
    B_UNMATCHED,
    B_LINES,
    B_N
};
static const field table_fields[] = {
    FLD(kz_table_def, "source", F_STR, 1, source),
    FLD(kz_table_def, "level", F_STR, 1, level),
    FLD(kz_table_def, "key", F_STR, 1, key),
    FLD(kz_table_def, "key_by_name", F_BOOL, 0, key_by_name),
    FLD(kz_table_def, "period", F_STR, 0, period),
    FLD(kz_table_def, "period_column", F_STR, 0, period_column),
    FLD(kz_table_def, "period_path", F_STR, 0, period_path),
    FLD_E(kz_table_def, "period_as", F_ENUM, period_as, ev_period_as),
    FLD_E(kz_table_def, "format", F_ENUM, long_format, ev_format),
    FLD(kz_table_def, "variable_column", F_STR, 0, variable_column),
    FLD(kz_table_def, "value_column", F_STR, 0, value_column),
    FLD_L(kz_table_def, "variables", variables, n_variables),
    FLD_L(kz_table_def, "ignore", ignore, n_ignore),
    FLD_L(kz_table_def, "missing", missing, n_missing),
    FLD(kz_table_def, "delimiter", F_DELIM, 0, delimiter),
    FLD_E(kz_table_def, "decimal", F_CHARENUM, decimal, ev_decimal),
    FLD_E(kz_table_def, "thousands", F_CHARENUM, thousands, ev_thousands),
    FLD_E(kz_table_def, "encoding", F_ENUM, encoding, ev_encoding),
    FLD_E(kz_table_def, "unmatched", F_ENUM, unmatched, ev_unmatched),
    FLD(kz_table_def, "lines", F_STR, 0, lines),
};

enum {
    I_NAME,
    I_LABEL,
    I_NUMERATOR,
    I_DENOMINATOR,
    I_SCALE,
    I_UNIT,
    I_POLARITY,
    I_DESCRIPTION,
    I_SOURCE,
    I_N
};
static const field indicator_fields[] = {
    FLD(kz_indicator_def, "name", F_IDENT, 1, name),
    FLD(kz_indicator_def, "label", F_STR, 0, label),
    FLD(kz_indicator_def, "numerator", F_STR, 1, numerator),
    FLD(kz_indicator_def, "denominator", F_STR, 0, denominator),
    FLD(kz_indicator_def, "scale", F_NUM, 0, scale),
    FLD(kz_indicator_def, "unit", F_STR, 0, unit),
    FLD_E(kz_indicator_def, "polarity", F_ENUM, polarity, ev_polarity),
    FLD(kz_indicator_def, "description", F_STR, 0, description),
    FLD(kz_indicator_def, "source", F_STR, 0, source),
};

enum { O_NAME, O_TITLE, O_SOURCE, O_ID, O_LABEL, O_CATEGORY, O_CAPACITY, O_X, O_Y, O_CRS, O_N };
static const field object_fields[] = {
    FLD(kz_object_def, "name", F_IDENT, 1, name),
    FLD(kz_object_def, "title", F_STR, 0, title),
    FLD(kz_object_def, "source", F_STR, 1, source),
    FLD(kz_object_def, "id", F_STR, 0, id),
    FLD(kz_object_def, "label", F_STR, 0, label),
    FLD(kz_object_def, "category", F_STR, 0, category),
    FLD(kz_object_def, "capacity", F_STR, 0, capacity),
    FLD(kz_object_def, "x", F_STR, 0, x),
    FLD(kz_object_def, "y", F_STR, 0, y),
    FLD(kz_object_def, "crs", F_STR, 0, crs),
};

enum {
    X_NAME,
    X_LABEL,
    X_LEVEL,
    X_PERIOD,
    X_INPUTS,
    X_CUTS,
    X_POPULATION,
    X_MIN_POPULATION,
    X_OUTLIERS,
    X_SAMPLE_SD,
    X_CLASS_LABELS,
    X_N
};
static const field index_fields[] = {
    FLD(kz_index_def, "name", F_IDENT, 1, name),
    FLD(kz_index_def, "label", F_STR, 0, label),
    FLD(kz_index_def, "level", F_STR, 1, level),
    FLD(kz_index_def, "period", F_STR, 0, period),
    FLD_L(kz_index_def, "inputs", inputs, n_inputs),
    FLD_L(kz_index_def, "cuts", cuts, n_cuts),
    FLD(kz_index_def, "population", F_STR, 0, population),
    FLD(kz_index_def, "min_population", F_NUM, 0, min_population),
    FLD_L(kz_index_def, "outliers", outliers, n_outliers),
    FLD(kz_index_def, "sample_sd", F_BOOL, 0, sample_sd),
    FLD_L(kz_index_def, "class_labels", class_labels, n_class_labels),
};

enum { R_INDICATORS, R_FROM, R_TO, R_N };
static const field trend_fields[] = {
    FLD_L(kz_trend_def, "indicators", indicators, n_indicators),
    FLD(kz_trend_def, "from", F_STR, 1, from),
    FLD(kz_trend_def, "to", F_STR, 1, to),
};

enum {
    SP_LEVEL,
    SP_INDICATORS,
    SP_WEIGHTS,
    SP_TOLERANCE,
    SP_STYLE,
    SP_PERMUTATIONS,
    SP_SEED,
    SP_ALPHA,
    SP_FDR,
    SP_PERIOD,
    SP_N
};
static const field spatial_fields[] = {
    FLD(kz_spatial_def, "level", F_STR, 1, level),
    FLD_L(kz_spatial_def, "indicators", indicators, n_indicators),
    FLD(kz_spatial_def, "weights", F_STR, 0, weights),
    FLD(kz_spatial_def, "tolerance", F_NUM, 0, tolerance),
    FLD_E(kz_spatial_def, "style", F_ENUM, style, ev_weights_style),
    FLD_I(kz_spatial_def, "permutations", permutations, 0, 1000000),
    FLD_I(kz_spatial_def, "seed", seed, 0, 2147483647),
    FLD(kz_spatial_def, "alpha", F_NUM, 0, alpha),
    FLD(kz_spatial_def, "fdr", F_BOOL, 0, fdr),
    FLD(kz_spatial_def, "period", F_STR, 0, period),
};

enum { C_LEVEL, C_INDICATORS, C_METHOD, C_PERIOD, C_N };
static const field correlation_fields[] = {
    FLD(kz_correlation_def, "level", F_STR, 1, level),
    FLD_L(kz_correlation_def, "indicators", indicators, n_indicators),
    FLD_E(kz_correlation_def, "method", F_ENUM, methods, ev_corr_method),
    FLD(kz_correlation_def, "period", F_STR, 0, period),
};

static const enum_val ev_supply[] = {
    {"count", KZ_SUPPLY_COUNT, 0}, {"capacity", KZ_SUPPLY_CAPACITY, 0}, {NULL, 0, 0}};

enum {
    V_NAME,
    V_LABEL,
    V_OBJECTS,
    V_CATEGORY,
    V_CATEGORIES,
    V_LEVEL,
    V_SUPPLY,
    V_DEMAND,
    V_PER,
    V_NEED_FACTOR,
    V_RADIUS,
    V_ACCESS_RADIUS,
    V_DEMAND_POINTS,
    V_N
};
/* category (one) and categories (several) fill the same list; check_coverage
 * merges them. */
typedef struct coverage_raw {
    kz_coverage_def def;
    char *category;
} coverage_raw;
static const field coverage_fields[] = {
    FLD(coverage_raw, "name", F_IDENT, 1, def.name),
    FLD(coverage_raw, "label", F_STR, 0, def.label),
    FLD(coverage_raw, "objects", F_STR, 1, def.objects),
    FLD(coverage_raw, "category", F_STR, 0, category),
    FLD_L(coverage_raw, "categories", def.categories, def.n_categories),
    FLD(coverage_raw, "level", F_STR, 1, def.level),
    FLD_E(coverage_raw, "supply", F_ENUM, def.supply, ev_supply),
    FLD(coverage_raw, "demand", F_STR, 1, def.demand),
    FLD(coverage_raw, "per", F_NUM, 0, def.per),
    FLD(coverage_raw, "need_factor", F_NUM, 0, def.need_factor),
    FLD(coverage_raw, "radius", F_NUM, 0, def.radius),
    FLD(coverage_raw, "access_radius", F_NUM, 0, def.access_radius),
    FLD_M(coverage_raw, "demand_points", def.demand_points, def.n_demand_points),
};

enum {
    M_ID,
    M_NAME,
    M_KIND,
    M_LEVEL,
    M_AREAS,
    M_AREAS_FILE,
    M_AREAS_KEY,
    M_START,
    M_END,
    M_BUDGET,
    M_INDICATORS,
    M_COMPARISON,
    M_ILLUSTRATIVE,
    M_N
};
static const field measure_fields[] = {
    FLD(kz_measure_def, "id", F_IDENT, 1, id),
    FLD(kz_measure_def, "name", F_STR, 1, name),
    FLD(kz_measure_def, "kind", F_STR, 0, kind),
    FLD(kz_measure_def, "level", F_STR, 1, level),
    FLD_L(kz_measure_def, "areas", areas, n_areas),
    FLD(kz_measure_def, "areas_file", F_STR, 0, areas_file),
    FLD(kz_measure_def, "areas_key", F_STR, 0, areas_key),
    FLD(kz_measure_def, "start", F_STR, 1, start),
    FLD(kz_measure_def, "end", F_STR, 0, end),
    FLD(kz_measure_def, "budget", F_NUM, 0, budget),
    FLD_L(kz_measure_def, "indicators", indicators, n_indicators),
    FLD(kz_measure_def, "comparison", F_SECTION, 0, comparison),
    FLD(kz_measure_def, "illustrative", F_BOOL, 0, illustrative),
};
static const enum_val ev_comparison[] = {
    {"all", KZ_MEASURE_COMPARE_ALL, 0}, {"nearest", KZ_MEASURE_COMPARE_NEAREST, 0}, {NULL, 0, 0}};
enum { MC_METHOD, MC_K, MC_MATCH_ON, MC_N };
static const field comparison_fields[] = {
    FLD_E(kz_measure_def, "method", F_ENUM, comparison, ev_comparison),
    FLD_I(kz_measure_def, "k", k, 1, MAX_ITEMS),
    FLD_L(kz_measure_def, "match_on", match_on, n_match_on),
};

/* enum kz_action_unit (action.h) */
static const enum_val ev_action_unit[] = {
    {"abs", 0, 0}, {"absolute", 0, 1}, {"sd", 1, 0}, {NULL, 0, 0}};

enum { A_INDICATOR, A_LEVEL, A_PERIOD, A_THRESHOLDS, A_UNIT, A_N };
static const field action_fields[] = {
    FLD(kz_action_def, "indicator", F_IDENT, 1, indicator),
    FLD(kz_action_def, "level", F_STR, 0, level),
    FLD(kz_action_def, "period", F_STR, 0, period),
    FLD_L(kz_action_def, "thresholds", thresholds, n_thresholds),
    FLD_E(kz_action_def, "unit", F_ENUM, unit, ev_action_unit),
};

enum { P_LEVEL, P_REFERENCES, P_INDICATORS, P_TOLERANCE, P_UNIT, P_PERIOD, P_N };
static const field comparable_fields[] = {
    FLD(kz_comparable_def, "level", F_STR, 1, level),
    FLD_L(kz_comparable_def, "references", references, n_references),
    FLD_L(kz_comparable_def, "indicators", indicators, n_indicators),
    FLD(kz_comparable_def, "tolerance", F_NUM, 0, tolerance),
    FLD_E(kz_comparable_def, "unit", F_ENUM, unit, ev_action_unit),
    FLD(kz_comparable_def, "period", F_STR, 0, period),
};

enum { D_MIN_COUNT, D_POPULATION, D_MIN_POPULATION, D_VARIABLES, D_NOT_COUNTS, D_N };
static const field disclosure_fields[] = {
    FLD(kz_disclosure_def, "min_count", F_NUM, 0, min_count),
    FLD(kz_disclosure_def, "population", F_STR, 0, population),
    FLD(kz_disclosure_def, "min_population", F_NUM, 0, min_population),
    FLD_L(kz_disclosure_def, "variables", variables, n_variables),
    FLD_L(kz_disclosure_def, "not_counts", not_counts, n_not_counts),
};

enum { U_DIR, U_GPKG, U_GEOJSON, U_REPORT, U_N };
static const field output_fields[] = {
    FLD(kz_output_def, "dir", F_STR, 0, dir),
    FLD(kz_output_def, "gpkg", F_STR, 0, gpkg),
    FLD(kz_output_def, "geojson", F_BOOL, 0, geojson),
    FLD(kz_output_def, "report", F_BOOL, 0, report),
};

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- schema walk --------------------------------------------------------- */

static void key_path(char *buf, size_t size, const char *prefix, const char *key)
{
    if (prefix[0] == '\0')
        snprintf(buf, size, "%s", key);
    else if (key[0] == '\0')
        snprintf(buf, size, "%s", prefix);
    else
        snprintf(buf, size, "%s.%s", prefix, key);
}

static void enum_list(char *buf, size_t size, const enum_val *ev)
{
    size_t o = 0;
    buf[0] = '\0';
    for (; ev->name != NULL; ev++) {
        int w;
        if (ev->alias)
            continue;
        w = snprintf(buf + o, size - o, "%s%s%s%s", o ? ", " : "",
                     strchr(ev->name, ' ') || strlen(ev->name) == 1 ? "\"" : "", ev->name,
                     strchr(ev->name, ' ') || strlen(ev->name) == 1 ? "\"" : "");
        if (w < 0 || (size_t)w >= size - o)
            return;
        o += (size_t)w;
    }
}

static int unknown_key(pstate *s, const node *k, const char *kp, const field *fs, size_t nf)
{
    size_t i, best = 1000, bi = 0, o = 0;
    char known[512];
    for (i = 0; i < nf; i++) {
        size_t d = edit_distance(k->text, fs[i].key);
        if (d < best) {
            best = d;
            bi = i;
        }
    }
    if (best <= (strlen(fs[bi].key) <= 4 ? 1u : 2u))
        return err_at(s, k, kp, "unknown key; did you mean \"%s\"?", fs[bi].key);
    known[0] = '\0';
    for (i = 0; i < nf; i++) {
        int w = snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "", fs[i].key);
        if (w < 0 || (size_t)w >= sizeof(known) - o)
            break;
        o += (size_t)w;
    }
    return err_at(s, k, kp, "unknown key; the keys allowed here are %s", known);
}

static int want_scalar(pstate *s, const node *v, const char *kp, const char *what)
{
    if (v->kind != N_SCALAR)
        return err_at(s, v, kp, "expected %s, got %s", what, kind_name(v));
    return KZ_OK;
}

static int set_field(pstate *s, const node *v, const char *kp, const field *f, void *obj)
{
    char *base = (char *)obj + f->off;
    int rc;
    long l;
    const enum_val *e;
    char list[256];

    if (f->type == F_SECTION || is_null(v))
        return KZ_OK; /* null = not given: the default applies */
    if (f->type == F_STRMAP) {
        char ***items = (char ***)(void *)base;
        size_t *count = (size_t *)(void *)((char *)obj + f->count_off);
        size_t i;
        if (v->kind != N_MAP)
            return err_at(s, v, kp, "expected a mapping such as {\"12\": \"0101\"}, got %s",
                          kind_name(v));
        if (v->n / 2 > MAX_ITEMS)
            return err_at(s, v, kp, "more than %d items", MAX_ITEMS);
        if (v->n == 0)
            return KZ_OK;
        *items = xcalloc(v->n, sizeof(char *));
        if (*items == NULL)
            return nomem(s);
        *count = v->n / 2;
        for (i = 0; i < v->n; i++) {
            const node *it = v->kids[i];
            if (it->kind != N_SCALAR || is_null(it) || it->text[0] == '\0')
                return err_at(s, it, kp, "expected text keys and values");
            if (((*items)[i] = xstrdup(it->text)) == NULL)
                return nomem(s);
        }
        return KZ_OK;
    }
    if (f->type == F_LIST) {
        char ***items = (char ***)(void *)base;
        size_t *count = (size_t *)(void *)((char *)obj + f->count_off);
        size_t i;
        if (v->kind != N_SEQ)
            return err_at(s, v, kp, "expected a list such as [a, b], got %s", kind_name(v));
        if (v->n > MAX_ITEMS)
            return err_at(s, v, kp, "more than %d items", MAX_ITEMS);
        if (v->n == 0)
            return KZ_OK;
        *items = xcalloc(v->n, sizeof(char *));
        if (*items == NULL)
            return nomem(s);
        *count = v->n;
        for (i = 0; i < v->n; i++) {
            const node *it = v->kids[i];
            if (it->kind != N_SCALAR || is_null(it))
                return err_at(s, it, kp, "item %zu: expected a text value, got %s", i + 1,
                              it->kind == N_SCALAR ? "nothing" : kind_name(it));
            if (((*items)[i] = xstrdup(it->text)) == NULL)
                return nomem(s);
        }
        return KZ_OK;
    }

    switch (f->type) {
    case F_STR:
    case F_IDENT:
        if ((rc = want_scalar(s, v, kp, "a text value")) != KZ_OK)
            return rc;
        if (v->text[0] == '\0')
            return err_at(s, v, kp, "must not be empty; remove the key to use the default");
        if (f->type == F_IDENT && !is_ident(v->text))
            return err_at(s, v, kp,
                          "\"%.100s\" is not a valid name: use letters, digits "
                          "and _, starting with a letter, at most %d characters (e.g. plr); "
                          "it becomes a table or column name",
                          v->text, MAX_NAME);
        *(char **)(void *)base = xstrdup(v->text);
        return *(char **)(void *)base ? KZ_OK : nomem(s);
    case F_INT:
        if ((rc = want_scalar(s, v, kp, "a whole number")) != KZ_OK)
            return rc;
        if (parse_long(v->text, &l) != 0)
            return err_at(s, v, kp, "expected a whole number, got \"%.100s\"", v->text);
        if (l < f->min || l > f->max)
            return err_at(s, v, kp, "%ld is out of range; use a number from %d to %d", l, f->min,
                          f->max);
        *(int *)(void *)base = (int)l;
        return KZ_OK;
    case F_BOOL:
        if ((rc = want_scalar(s, v, kp, "true or false")) != KZ_OK)
            return rc;
        if (parse_bool(v->text, (int *)(void *)base) != 0)
            return err_at(s, v, kp, "expected true or false, got \"%.100s\"", v->text);
        return KZ_OK;
    case F_NUM:
        if ((rc = want_scalar(s, v, kp, "a number")) != KZ_OK)
            return rc;
        if (parse_number(v->text, (double *)(void *)base) != 0)
            return err_at(s, v, kp, "expected a finite number such as 100 or 0.5, got \"%.100s\"",
                          v->text);
        return KZ_OK;
    case F_ENUM:
    case F_CHARENUM:
        if ((rc = want_scalar(s, v, kp, "a text value")) != KZ_OK)
            return rc;
        for (e = f->ev; e->name != NULL; e++) {
            if (strcasecmp(e->name, v->text) == 0) {
                if (f->type == F_ENUM)
                    *(int *)(void *)base = e->value;
                else
                    *base = (char)e->value;
                return KZ_OK;
            }
        }
        enum_list(list, sizeof(list), f->ev);
        return err_at(s, v, kp, "\"%.100s\" is not one of %s", v->text, list);
    case F_DELIM:
        if ((rc = want_scalar(s, v, kp, "one character")) != KZ_OK)
            return rc;
        if (strcmp(v->text, "\t") == 0 || strcmp(v->text, "\\t") == 0 ||
            strcasecmp(v->text, "tab") == 0) {
            *base = '\t';
            return KZ_OK;
        }
        if (strlen(v->text) == 1 && isprint((unsigned char)v->text[0]) &&
            !isalnum((unsigned char)v->text[0]) && v->text[0] != '"') {
            *base = v->text[0];
            return KZ_OK;
        }
        return err_at(s, v, kp,
                      "\"%.100s\" is not a delimiter: give one character such as \";\" or "
                      "\",\" (quoted), or \"tab\"",
                      v->text);
    default:
        return KZ_OK;
    }
}

/* Walk a mapping against a schema, filling `obj` and `at`. */
static int parse_fields(pstate *s, const node *map, const char *prefix, const field *fs, size_t nf,
                        void *obj, const node **at)
{
    char kp[160];
    size_t i, j;
    int rc;

    if (map->kind != N_MAP)
        return err_at(s, map, prefix, "expected a mapping of keys to values (key: value), got %s",
                      kind_name(map));
    for (i = 0; i + 1 < map->n; i += 2) {
        const node *k = map->kids[i], *v = map->kids[i + 1];
        if (k->kind != N_SCALAR) {
            key_path(kp, sizeof(kp), prefix, "");
            return err_at(s, k, kp, "a key must be plain text, got %s", kind_name(k));
        }
        key_path(kp, sizeof(kp), prefix, k->text);
        for (j = 0; j < nf; j++)
            if (strcmp(fs[j].key, k->text) == 0)
                break;
        if (j == nf)
            return unknown_key(s, k, kp, fs, nf);
        if (at[j] != NULL)
            return err_at(s, k, kp, "given twice (first on line %d); keep one", at[j]->line);
        at[j] = v;
        if ((rc = set_field(s, v, kp, &fs[j], obj)) != KZ_OK)
            return rc;
    }
    for (j = 0; j < nf; j++) {
        if (!fs[j].required)
            continue;
        key_path(kp, sizeof(kp), prefix, fs[j].key);
        if (at[j] == NULL)
            return err_at(s, map, kp, "required key is missing; add \"%s: ...\"", fs[j].key);
        if (is_null(at[j]))
            return err_at(s, at[j], kp, "required key has no value");
    }
    return KZ_OK;
}

/* Allocate `*items` for a list section and its locations. */
static int section_items(pstate *s, const node *v, const char *name, size_t max, size_t elem,
                         void **items, size_t *n, item_loc **loc)
{
    *items = NULL;
    if (v == NULL || is_null(v))
        return KZ_OK;
    if (v->kind != N_SEQ)
        return err_at(s, v, name, "expected a list (items starting with \"- \"), got %s",
                      kind_name(v));
    if (v->n > max)
        return err_at(s, v, name, "more than %zu items; split the project", max);
    if (v->n == 0)
        return KZ_OK;
    *loc = xcalloc(v->n, sizeof(**loc));
    if (*loc == NULL)
        return nomem(s);
    *items = xcalloc(v->n, elem);
    if (*items == NULL)
        return nomem(s);
    *n = v->n;
    return KZ_OK;
}

static int parse_items(pstate *s, const node *v, const char *name, const field *fs, size_t nf,
                       char *items, size_t elem, size_t n, item_loc *loc)
{
    char prefix[64];
    size_t i;
    int rc;
    for (i = 0; i < n; i++) {
        snprintf(prefix, sizeof(prefix), "%s[%zu]", name, i);
        loc[i].map = v->kids[i];
        if ((rc = parse_fields(s, v->kids[i], prefix, fs, nf, items + i * elem, loc[i].at)) !=
            KZ_OK)
            return rc;
    }
    return KZ_OK;
}

/* ---- sources --------------------------------------------------------------- */

static int has_glob(const char *t)
{
    return strpbrk(t, "*?[") != NULL;
}

/* 1 if `path` exists (a glob: matches at least one file), 0 if not,
 * -1 when out of memory. */
static int path_exists(const char *path, int glob_it)
{
    struct stat st;
    if (glob_it) {
        glob_t g;
        int r;
        memset(&g, 0, sizeof(g));
        r = glob(path, 0, NULL, &g);
        globfree(&g);
        if (r == GLOB_NOSPACE)
            return -1;
        return r == 0;
    }
    return stat(path, &st) == 0;
}

/*
 * Resolve a source in place: relative paths against the project folder,
 * then $KIEZ_GEODATA. With `layer`, only the part before '|' is a path.
 * With `globs`, a pattern must match at least one file.
 */
static int resolve_source(pstate *s, const node *at, const char *kp, char **src, int layer,
                          int globs)
{
    const char *orig = *src, *bar = layer ? strchr(orig, '|') : NULL;
    size_t blen = bar ? (size_t)(bar - orig) : strlen(orig);
    char *base = NULL, *cand[2] = {NULL, NULL}, *resolved = NULL;
    int rc = KZ_OK, is_glob, k, nc, found = -1, e;

    if (s->flags & KZ_PROJECT__NO_FS)
        return KZ_OK;
    if (blen == 0)
        return err_at(s, at, kp, "no file name before \"|\"; write \"path|layername=NAME\"");
    if ((base = xstrndup(orig, blen)) == NULL)
        return nomem(s);
    is_glob = globs && has_glob(base);
    if (base[0] == '/') {
        cand[0] = base;
        base = NULL;
        nc = 1;
    } else {
        cand[0] = s->dir ? xjoin(s->dir, "/", base) : xstrdup(base);
        cand[1] = xjoin(s->geodata, "/", base);
        nc = 2;
        if (cand[0] == NULL || cand[1] == NULL) {
            rc = nomem(s);
            goto done;
        }
    }
    for (k = 0; k < nc && found < 0; k++) {
        e = path_exists(cand[k], is_glob);
        if (e < 0) {
            rc = nomem(s);
            goto done;
        }
        if (e)
            found = k;
    }
    if (found < 0) {
        const char *verb = is_glob ? "matches no file" : "not found";
        if (nc == 1)
            rc = err_at(s, at, kp, "%s %s; check the path", cand[0], verb);
        else
            rc = err_at(s, at, kp,
                        "%s %s next to the project file (%s) or in $KIEZ_GEODATA (%s); check "
                        "the path, or set KIEZ_GEODATA to the folder that holds the data",
                        base, verb, cand[0], cand[1]);
        goto done;
    }
    if ((resolved = xjoin(cand[found], "", orig + blen)) == NULL) {
        rc = nomem(s);
        goto done;
    }
    free(*src);
    *src = resolved;
done:
    free(base);
    free(cand[0]);
    free(cand[1]);
    return rc;
}

/* ---- regular expressions ----------------------------------------------- */

/*
 * An upper bound of the size of the tree glibc's regcomp() builds for an
 * extended regular expression. It copies the operand of '+' once and of
 * {m,n} n times, so "(a{99}){99}" or "a+++++..." grow exponentially and a
 * 300-byte pattern can take gigabytes and seconds (found by fuzz_project).
 * Sums over alternatives and sequences, multiplies for repetitions; stops
 * early once the bound is exceeded; stacked repetitions exceed it.
 */
static double re_size(const char **pp, int depth)
{
    const char *p = *pp;
    double total = 0, atom;
    char *e;
    while (*p != '\0' && *p != ')' && total <= MAX_REGEX_NODES) {
        if (*p == '|') {
            p++;
            continue;
        }
        if (*p == '(') {
            if (depth >= 16)
                return MAX_REGEX_NODES + 1.0;
            p++;
            atom = re_size(&p, depth + 1) + 1;
            if (*p == ')')
                p++;
        } else if (*p == '[') {
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p != '\0' && *p != ']') {
                if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                    char c = p[1];
                    p += 2;
                    while (*p != '\0' && !(*p == c && p[1] == ']'))
                        p++;
                    if (*p != '\0')
                        p += 2;
                } else {
                    p++;
                }
            }
            if (*p != '\0')
                p++;
            atom = 1;
        } else {
            if (*p == '\\' && p[1] != '\0')
                p++;
            p++;
            atom = 1;
        }
        /* One repetition per operand: stacked ones ("a+*", "a{2}{3}") are
         * undefined in POSIX and made glibc's regcomp() take seconds. */
        if (*p == '*' || *p == '?') {
            p++;
            atom += 1;
        } else if (*p == '+') {
            p++;
            atom = atom * 2 + 1;
        } else if (*p == '{' && isdigit((unsigned char)p[1])) {
            double n = strtod(p + 1, &e);
            if (*e == ',') {
                e++;
                if (isdigit((unsigned char)*e))
                    n = strtod(e, &e);
                else
                    n += 1;
            }
            if (*e == '}') {
                p = e + 1;
                atom = atom * (n + 1) + 1;
            }
        }
        if (*p == '*' || *p == '?' || *p == '+' || (*p == '{' && isdigit((unsigned char)p[1])))
            return MAX_REGEX_NODES + 1.0;
        total += atom;
    }
    *pp = p;
    return total;
}

static int regex_too_complex(const char *re)
{
    const char *p = re;
    double total = 0;
    while (total <= MAX_REGEX_NODES) {
        total += re_size(&p, 0);
        if (*p == '\0')
            break;
        p++; /* an unbalanced ')' */
    }
    return total > MAX_REGEX_NODES;
}

/* ---- checks per section ---------------------------------------------------- */

static int level_index(const kz_project *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->n_levels; i++)
        if (p->levels[i].name != NULL && strcmp(p->levels[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void level_list(const kz_project *p, char *buf, size_t size)
{
    size_t i, o = 0;
    buf[0] = '\0';
    for (i = 0; i < p->n_levels; i++) {
        int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", p->levels[i].name);
        if (w < 0 || (size_t)w >= size - o)
            return;
        o += (size_t)w;
    }
}

/* `name` must be a level; `kp` names the key. */
static int check_level_ref(pstate *s, const node *at, const char *kp, const char *name)
{
    char known[512];
    if (level_index(s->p, name) >= 0)
        return KZ_OK;
    level_list(s->p, known, sizeof(known));
    return err_at(s, at, kp, "no level is called \"%.100s\"; the levels are %s", name, known);
}

static const char *const reserved_layers[] = {"indicator_catalogue", "layer_styles", NULL};
static const char *const reserved_prefixes[] = {"gpkg_", "rtree_", "sqlite_", NULL};
/* What the GeoPackage holds per level besides its layer (export_ogr.c). */
static const char *const level_tables[] = {"_series", "_periods", "_time", NULL};

/* Levels and objects become layers and tables in one GeoPackage. */
static int check_layer_name(pstate *s, const node *at, const char *kp, const char *name)
{
    size_t i, ln = strlen(name);
    for (i = 0; reserved_layers[i] != NULL; i++)
        if (strcmp(name, reserved_layers[i]) == 0)
            return err_at(s, at, kp,
                          "\"%s\" is reserved for a table kiez writes; choose another name", name);
    for (i = 0; reserved_prefixes[i] != NULL; i++)
        if (strncmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
            return err_at(s, at, kp,
                          "names starting with \"%s\" are reserved by GeoPackage/SQLite; "
                          "choose another name",
                          reserved_prefixes[i]);
    for (i = 0; i < s->p->n_levels; i++) {
        size_t l = strlen(s->p->levels[i].name), k;
        if (ln <= l || strncmp(name, s->p->levels[i].name, l) != 0)
            continue;
        for (k = 0; level_tables[k] != NULL; k++)
            if (strcmp(name + l, level_tables[k]) == 0)
                return err_at(s, at, kp,
                              "\"%s\" is the name of the %s table of level \"%s\"; choose "
                              "another name",
                              name, level_tables[k] + 1, s->p->levels[i].name);
    }
    return KZ_OK;
}

static int check_level(pstate *s, size_t i)
{
    kz_level_def *L = &s->p->levels[i];
    const item_loc *lc = &s->lv[i];
    char pre[64], kp[96];
    int rc;

    snprintf(pre, sizeof(pre), "levels[%zu]", i);
#define KP(k) (key_path(kp, sizeof(kp), pre, k), kp)
    if ((rc = check_layer_name(s, lc->at[L_NAME], KP("name"), L->name)) != KZ_OK)
        return rc;
    if (L->source != NULL && L->dissolve != NULL)
        return err_at(s, lc->at[L_DISSOLVE], KP("dissolve"),
                      "a level has either source (a geometry file) or dissolve (a finer level "
                      "to merge), not both; remove one");
    if (L->source == NULL && L->dissolve == NULL)
        return err_at(s, lc->map, pre,
                      "level \"%s\" needs either source (a geometry file) or dissolve (the "
                      "name of a finer level whose areas are merged)",
                      L->name);
    if (L->source != NULL) {
        static const int only_dissolve[] = {L_KEY_PREFIX, L_AREA_KEY, L_AREA_NAME};
        size_t k;
        if (L->key == NULL)
            return err_at(s, lc->map, KP("key"),
                          "required with source: name the field that holds the area key, "
                          "e.g. key: PLR_ID");
        for (k = 0; k < 3; k++)
            if (lc->at[only_dissolve[k]] != NULL && !is_null(lc->at[only_dissolve[k]]))
                return err_at(s, lc->at[only_dissolve[k]], KP(level_fields[only_dissolve[k]].key),
                              "only applies to a level built with dissolve; remove it");
        if ((rc = resolve_source(s, lc->at[L_SOURCE], KP("source"), &L->source, 1, 0)) != KZ_OK)
            return rc;
    } else {
        if (L->key != NULL)
            return err_at(s, lc->at[L_KEY], KP("key"),
                          "only applies to a level with source; a dissolved level takes its "
                          "keys from key_prefix or area_key");
        if (L->label != NULL)
            return err_at(s, lc->at[L_LABEL], KP("label"),
                          "only applies to a level with source; use area_name for a "
                          "dissolved level that is one area");
        if (L->key_prefix == 0 && L->area_key == NULL)
            return err_at(s, lc->map, KP("area_key"),
                          "required when key_prefix is 0 or missing (the whole level is one "
                          "area): give its key, e.g. area_key: \"11\"; or set key_prefix to "
                          "group areas by the first N characters of their keys");
        if (L->key_prefix > 0 && L->area_key != NULL)
            return err_at(s, lc->at[L_AREA_KEY], KP("area_key"),
                          "only applies with key_prefix: 0 (one area); remove it");
        if (L->key_prefix > 0 && L->area_name != NULL)
            return err_at(s, lc->at[L_AREA_NAME], KP("area_name"),
                          "only applies with key_prefix: 0 (one area); remove it");
    }
#undef KP
    return KZ_OK;
}

/*
 * The levels form a hierarchy from fine to coarse: an edge u -> v says v
 * is coarser than u, because u names v as parent, or v dissolves u. A
 * cycle has no finest level, so neither import order nor hierarchy exists.
 */
static int check_cycles(pstate *s)
{
    const kz_project *p = s->p;
    int n = (int)p->n_levels, par[MAX_LEVELS], dis[MAX_LEVELS], alive[MAX_LEVELS];
    int path[MAX_LEVELS + 1], pos[MAX_LEVELS];
    int u, v, changed = 1, len = 0, start, first;
    char msg[1024], kp[64];
    size_t o = 0;

    for (u = 0; u < n; u++) {
        par[u] = p->levels[u].parent ? level_index(p, p->levels[u].parent) : -1;
        dis[u] = p->levels[u].dissolve ? level_index(p, p->levels[u].dissolve) : -1;
        alive[u] = 1;
        pos[u] = -1;
    }
#define EDGE(a, b) (par[a] == (b) || dis[b] == (a))
    /* Peel levels with no coarser level left; what remains lies on or
     * leads into a cycle. */
    while (changed) {
        changed = 0;
        for (u = 0; u < n; u++) {
            int out = 0;
            if (!alive[u])
                continue;
            for (v = 0; v < n && !out; v++)
                out = alive[v] && EDGE(u, v);
            if (!out) {
                alive[u] = 0;
                changed = 1;
            }
        }
    }
    for (first = 0; first < n && !alive[first]; first++)
        ;
    if (first == n)
        return KZ_OK;
    /* Walk coarser edges among the remaining levels until one repeats. */
    u = first;
    while (pos[u] < 0) {
        pos[u] = len;
        path[len++] = u;
        for (v = 0; v < n; v++)
            if (alive[v] && EDGE(u, v))
                break;
        u = v;
    }
    start = pos[u];
    path[len++] = u;
    for (v = start; v < len; v++) {
        int w = snprintf(msg + o, sizeof(msg) - o, "%s%s", v > start ? " -> " : "",
                         p->levels[path[v]].name);
        if (w < 0 || (size_t)w >= sizeof(msg) - o)
            break;
        o += (size_t)w;
    }
    u = path[start];
    v = path[start + 1];
    if (par[u] == v) {
        snprintf(kp, sizeof(kp), "levels[%d].parent", u);
        return err_at(s, s->lv[u].at[L_PARENT], kp,
                      "the levels form a cycle: %s (a -> b: b is coarser than a, as a's "
                      "parent or built by dissolving a); remove one parent or dissolve",
                      msg);
    }
    snprintf(kp, sizeof(kp), "levels[%d].dissolve", v);
    return err_at(s, s->lv[v].at[L_DISSOLVE], kp,
                  "the levels form a cycle: %s (a -> b: b is coarser than a, as a's parent "
                  "or built by dissolving a); remove one parent or dissolve",
                  msg);
#undef EDGE
}

static int check_levels(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64];
    int rc;

    for (i = 0; i < p->n_levels; i++) {
        for (j = 0; j < i; j++) {
            if (strcmp(p->levels[i].name, p->levels[j].name) == 0) {
                snprintf(kp, sizeof(kp), "levels[%zu].name", i);
                return err_at(s, s->lv[i].at[L_NAME], kp,
                              "\"%s\" is already the name of levels[%zu] (line %d); level "
                              "names must be unique",
                              p->levels[i].name, j, s->lv[j].at[L_NAME]->line);
            }
        }
    }
    for (i = 0; i < p->n_levels; i++)
        if ((rc = check_level(s, i)) != KZ_OK)
            return rc;
    for (i = 0; i < p->n_levels; i++) {
        kz_level_def *L = &p->levels[i];
        if (L->parent != NULL) {
            snprintf(kp, sizeof(kp), "levels[%zu].parent", i);
            if ((rc = check_level_ref(s, s->lv[i].at[L_PARENT], kp, L->parent)) != KZ_OK)
                return rc;
        }
        if (L->dissolve != NULL) {
            snprintf(kp, sizeof(kp), "levels[%zu].dissolve", i);
            if ((rc = check_level_ref(s, s->lv[i].at[L_DISSOLVE], kp, L->dissolve)) != KZ_OK)
                return rc;
        }
    }
    return check_cycles(s);
}

static int check_table(pstate *s, size_t i)
{
    kz_table_def *T = &s->p->tables[i];
    const item_loc *lc = &s->tb[i];
    char pre[64], kp[96];
    const int modes[3] = {B_PERIOD, B_PERIOD_COLUMN, B_PERIOD_PATH};
    int rc, k, given = 0;

    snprintf(pre, sizeof(pre), "tables[%zu]", i);
#define KP(k) (key_path(kp, sizeof(kp), pre, k), kp)
    if ((rc = check_level_ref(s, lc->at[B_LEVEL], KP("level"), T->level)) != KZ_OK)
        return rc;
    for (k = 0; k < 3; k++) {
        if (lc->at[modes[k]] == NULL || is_null(lc->at[modes[k]]))
            continue;
        if (given++)
            return err_at(s, lc->at[modes[k]], KP(table_fields[modes[k]].key),
                          "give only one of period, period_column and period_path");
    }
    if (!given)
        return err_at(s, lc->map, pre,
                      "needs one of period (a fixed date such as 2023-12-31), period_column "
                      "(the column holding the date) or period_path (a regular expression "
                      "on the file path)");
    if (lc->at[B_PERIOD_AS] != NULL && !is_null(lc->at[B_PERIOD_AS]) && T->period_path == NULL)
        return err_at(s, lc->at[B_PERIOD_AS], KP("period_as"),
                      "only applies with period_path; remove it");
    if (T->period_path != NULL) {
        regex_t re;
        size_t need =
            (T->period_as == KZ_PERIOD_YEAR_HALF || T->period_as == KZ_PERIOD_YEAR_MONTH) ? 2 : 1;
        int r;
        if (strlen(T->period_path) > MAX_REGEX)
            return err_at(s, lc->at[B_PERIOD_PATH], KP("period_path"), "longer than %d characters",
                          MAX_REGEX);
        if (regex_too_complex(T->period_path))
            return err_at(s, lc->at[B_PERIOD_PATH], KP("period_path"),
                          "the regular expression repeats too much (nested or stacked +, *, "
                          "{m,n}); simplify it, e.g. \"-([0-9]{4})-0([12])-\"");
        r = regcomp(&re, T->period_path, REG_EXTENDED);
        if (r == REG_ESPACE)
            return nomem(s);
        if (r != 0) {
            char why[256];
            regerror(r, &re, why, sizeof(why));
            return err_at(s, lc->at[B_PERIOD_PATH], KP("period_path"),
                          "not a valid POSIX extended regular expression: %s", why);
        }
        r = re.re_nsub < need;
        regfree(&re);
        if (r)
            return err_at(s, lc->at[B_PERIOD_PATH], KP("period_path"),
                          "needs %zu capture group%s (...) for period_as: %s, e.g. %s", need,
                          need > 1 ? "s" : "", ev_period_as[T->period_as].name,
                          need > 1 ? "\"-([0-9]{4})-0([12])-\"" : "\"-([0-9]{4})-\"");
    }
    if (T->long_format) {
        if (T->variable_column == NULL)
            return err_at(s, lc->map, KP("variable_column"),
                          "required with format: long: name the column that holds the "
                          "variable names");
        if (T->value_column == NULL)
            return err_at(s, lc->map, KP("value_column"),
                          "required with format: long: name the column that holds the values");
        if (lc->at[B_VARIABLES] != NULL && !is_null(lc->at[B_VARIABLES]))
            return err_at(s, lc->at[B_VARIABLES], KP("variables"),
                          "only applies with format: wide; remove it");
        if (lc->at[B_IGNORE] != NULL && !is_null(lc->at[B_IGNORE]))
            return err_at(s, lc->at[B_IGNORE], KP("ignore"),
                          "only applies with format: wide; remove it");
    } else {
        if (T->variable_column != NULL)
            return err_at(s, lc->at[B_VARIABLE_COLUMN], KP("variable_column"),
                          "only applies with format: long; add format: long or remove it");
        if (T->value_column != NULL)
            return err_at(s, lc->at[B_VALUE_COLUMN], KP("value_column"),
                          "only applies with format: long; add format: long or remove it");
    }
    if (T->decimal != 0 && T->thousands == T->decimal)
        return err_at(s, lc->at[B_THOUSANDS], KP("thousands"),
                      "is the same as decimal; numbers could not be read");
    if (T->delimiter != 0 && T->delimiter == T->decimal)
        return err_at(s, lc->at[B_DELIMITER], KP("delimiter"),
                      "is the same as decimal; use \";\" as delimiter with decimal \",\"");
    if ((rc = resolve_source(s, lc->at[B_SOURCE], KP("source"), &T->source, 0, 1)) != KZ_OK)
        return rc;
#undef KP
    return KZ_OK;
}

static int check_indicators(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64];
    /* Columns of the layers and tables an export writes (export_ogr.c). */
    static const char *const columns[] = {"fid",        "geom",         "key",        "name",
                                          "parent_key", "period_start", "period_end", NULL};

    for (i = 0; i < p->n_indicators; i++) {
        kz_indicator_def *I = &p->indicators[i];
        const item_loc *lc = &s->in[i];
        snprintf(kp, sizeof(kp), "indicators[%zu].name", i);
        for (j = 0; columns[j] != NULL; j++)
            if (strcmp(I->name, columns[j]) == 0)
                return err_at(s, lc->at[I_NAME], kp,
                              "\"%s\" is a column the layers already have (fid, geom, key, "
                              "name, parent_key, period_start, period_end); choose another name",
                              I->name);
        for (j = 0; j < i; j++)
            if (strcmp(I->name, p->indicators[j].name) == 0)
                return err_at(s, lc->at[I_NAME], kp,
                              "\"%s\" is already the name of indicators[%zu] (line %d); "
                              "indicator names must be unique",
                              I->name, j, s->in[j].at[I_NAME]->line);
        if (lc->at[I_SCALE] != NULL && !is_null(lc->at[I_SCALE]) && I->scale == 0) {
            snprintf(kp, sizeof(kp), "indicators[%zu].scale", i);
            return err_at(s, lc->at[I_SCALE], kp,
                          "must not be 0; use 1 for a plain ratio, 100 for percent");
        }
    }
    return KZ_OK;
}

static int indicator_index(const kz_project *p, const char *name)
{
    size_t i;
    for (i = 0; i < p->n_indicators; i++)
        if (strcmp(p->indicators[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int check_indices(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64];
    for (i = 0; i < p->n_indices; i++) {
        kz_index_def *X = &p->indices[i];
        const item_loc *lc = &s->ix[i];
        double prev = -1e308;
        snprintf(kp, sizeof(kp), "indices[%zu]", i);
        if (kz_project_level_index(p, X->level) < 0)
            return err_at(s, lc->at[X_LEVEL], kp, "level \"%s\" is not defined under levels",
                          X->level);
        if (X->n_inputs == 0)
            return err_at(s, lc->at[X_NAME], kp, "needs inputs: a list of indicator names");
        for (j = 0; j < X->n_inputs; j++)
            if (indicator_index(p, X->inputs[j]) < 0)
                return err_at(s, lc->at[X_INPUTS], kp,
                              "input \"%s\" is not defined under indicators", X->inputs[j]);
        if (X->population != NULL && indicator_index(p, X->population) < 0)
            return err_at(s, lc->at[X_POPULATION], kp,
                          "population \"%s\" is not defined under indicators", X->population);
        if (lc->at[X_MIN_POPULATION] != NULL && !is_null(lc->at[X_MIN_POPULATION]) &&
            X->population == NULL)
            return err_at(s, lc->at[X_MIN_POPULATION], kp,
                          "min_population needs population: the indicator that counts people");
        for (j = 0; j < X->n_cuts; j++) {
            double c;
            if (parse_number(X->cuts[j], &c) != 0 || !(c > prev))
                return err_at(s, lc->at[X_CUTS], kp,
                              "cuts must be increasing numbers, e.g. [-1, 1, 1.5]; \"%s\" is not",
                              X->cuts[j]);
            prev = c;
        }
        if (X->n_class_labels > 0 && X->n_class_labels != X->n_cuts + 1)
            return err_at(s, lc->at[X_CLASS_LABELS], kp,
                          "class_labels needs one label per class: %zu cuts give %zu classes, "
                          "%zu labels given",
                          X->n_cuts, X->n_cuts + 1, X->n_class_labels);
        if (X->period != NULL) {
            char iso[11];
            if (kz_period_parse(iso, X->period) != KZ_OK)
                return err_at(s, lc->at[X_PERIOD], kp, "\"%s\" is not a date", X->period);
        }
        for (j = 0; j < i; j++)
            if (strcmp(X->name, p->indices[j].name) == 0)
                return err_at(s, lc->at[X_NAME], kp, "\"%s\" is already the name of indices[%zu]",
                              X->name, j);
    }
    return KZ_OK;
}

static int check_trends(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64], a[11], b[11];
    for (i = 0; i < p->n_trends; i++) {
        kz_trend_def *R = &p->trends[i];
        const item_loc *lc = &s->tr[i];
        snprintf(kp, sizeof(kp), "trends[%zu]", i);
        if (kz_period_parse(a, R->from) != KZ_OK || kz_period_parse(b, R->to) != KZ_OK ||
            strcmp(a, b) >= 0)
            return err_at(s, lc->at[R_FROM], kp, "from and to must be dates with from before to");
        if (R->n_indicators == 0)
            return err_at(s, lc->at[R_INDICATORS], kp, "needs indicators: a list of names");
        for (j = 0; j < R->n_indicators; j++)
            if (indicator_index(p, R->indicators[j]) < 0)
                return err_at(s, lc->at[R_INDICATORS], kp,
                              "indicator \"%s\" is not defined under indicators", R->indicators[j]);
    }
    return KZ_OK;
}

static int check_objects(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64];
    int rc;

    for (i = 0; i < p->n_objects; i++) {
        kz_object_def *O = &p->objects[i];
        const item_loc *lc = &s->ob[i];
        int nxy = (O->x != NULL) + (O->y != NULL) + (O->crs != NULL);
        snprintf(kp, sizeof(kp), "objects[%zu].name", i);
        if ((rc = check_layer_name(s, lc->at[O_NAME], kp, O->name)) != KZ_OK)
            return rc;
        if (level_index(p, O->name) >= 0)
            return err_at(s, lc->at[O_NAME], kp,
                          "\"%s\" is already the name of a level; objects and levels become "
                          "layers of one GeoPackage, so their names must differ",
                          O->name);
        for (j = 0; j < i; j++)
            if (strcmp(O->name, p->objects[j].name) == 0)
                return err_at(s, lc->at[O_NAME], kp,
                              "\"%s\" is already the name of objects[%zu] (line %d); object "
                              "names must be unique",
                              O->name, j, s->ob[j].at[O_NAME]->line);
        if (nxy != 0 && nxy != 3) {
            snprintf(kp, sizeof(kp), "objects[%zu]", i);
            return err_at(s, lc->map, kp,
                          "x, y and crs go together (a CSV file with coordinate columns); "
                          "give all three or none");
        }
        snprintf(kp, sizeof(kp), "objects[%zu].source", i);
        if ((rc = resolve_source(s, lc->at[O_SOURCE], kp, &O->source, 1, 0)) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

/* ---- spatial statistics and correlations ---------------------------------- */

/* Is `name` a column the project has before the spatial statistics run:
 * an indicator, or a column of an index (z_<input>, <name>_sum, _index,
 * _class with cuts), of a trend (<indicator>_chg, _slope) or of a
 * coverage item (<name>_...)? */
static int is_column(const kz_project *p, const char *name)
{
    static const char *const index_tails[] = {"_sum", "_index", "_class"};
    static const char *const trend_tails[] = {"_chg", "_slope"};
    char buf[2 * MAX_NAME + 16];
    size_t i, j, t;
    if (indicator_index(p, name) >= 0)
        return 1;
    for (i = 0; i < p->n_indices; i++) {
        const kz_index_def *X = &p->indices[i];
        for (t = 0; t < 3; t++) {
            snprintf(buf, sizeof(buf), "%s%s", X->name, index_tails[t]);
            if (strcmp(buf, name) == 0 && (t < 2 || X->n_cuts > 0))
                return 1;
        }
        for (j = 0; j < X->n_inputs; j++) {
            snprintf(buf, sizeof(buf), "z_%s", X->inputs[j]);
            if (strcmp(buf, name) == 0)
                return 1;
        }
    }
    for (i = 0; i < p->n_coverage; i++) {
        size_t len = strlen(p->coverage[i].name);
        if (strncmp(name, p->coverage[i].name, len) == 0 && name[len] == '_')
            return 1;
    }
    for (i = 0; i < p->n_trends; i++)
        for (j = 0; j < p->trends[i].n_indicators; j++)
            for (t = 0; t < 2; t++) {
                snprintf(buf, sizeof(buf), "%s%s", p->trends[i].indicators[j], trend_tails[t]);
                if (strcmp(buf, name) == 0)
                    return 1;
            }
    return 0;
}

/* weights: "queen" | "rook" | "knn:K" (1 <= K <= 1000) | "dist:M" (M > 0). */
static int parse_weights_spec(kz_spatial_def *S)
{
    const char *w = S->weights != NULL ? S->weights : "queen";
    long k;
    if (strcasecmp(w, "queen") == 0) {
        S->weights_kind = KZ_WEIGHTS_QUEEN;
        return 0;
    }
    if (strcasecmp(w, "rook") == 0) {
        S->weights_kind = KZ_WEIGHTS_ROOK;
        return 0;
    }
    if (strncasecmp(w, "knn:", 4) == 0 && parse_long(w + 4, &k) == 0 && k >= 1 && k <= 1000) {
        S->weights_kind = KZ_WEIGHTS_KNN;
        S->k = (int)k;
        return 0;
    }
    if (strncasecmp(w, "dist:", 5) == 0 && parse_number(w + 5, &S->distance) == 0 &&
        S->distance > 0) {
        S->weights_kind = KZ_WEIGHTS_DIST;
        return 0;
    }
    return -1;
}

/* Indicators of a spatial or correlations item: known columns, no repeats. */
static int check_columns(pstate *s, const node *at, const char *kp, char **names, size_t n)
{
    size_t j, k;
    for (j = 0; j < n; j++) {
        if (!is_column(s->p, names[j]))
            return err_at(s, at, kp,
                          "\"%s\" is neither an indicator nor a column computed by indices, "
                          "trends or coverage (z_<input>, <index>_sum, _index, _class, "
                          "<indicator>_chg, _slope, <coverage>_...)",
                          names[j]);
        for (k = 0; k < j; k++)
            if (strcmp(names[j], names[k]) == 0)
                return err_at(s, at, kp, "\"%s\" is listed twice", names[j]);
    }
    return KZ_OK;
}

static int check_spatial(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j, a, b;
    char kp[64], iso[11];
    int rc;
    for (i = 0; i < p->n_spatial; i++) {
        kz_spatial_def *S = &p->spatial[i];
        const item_loc *lc = &s->sp[i];
        snprintf(kp, sizeof(kp), "spatial[%zu]", i);
        if (kz_project_level_index(p, S->level) < 0)
            return err_at(s, lc->at[SP_LEVEL], kp, "level \"%s\" is not defined under levels",
                          S->level);
        if (S->n_indicators == 0)
            return err_at(s, lc->at[SP_INDICATORS] ? lc->at[SP_INDICATORS] : lc->map, kp,
                          "needs indicators: a list of indicator or index column names");
        if ((rc = check_columns(s, lc->at[SP_INDICATORS], kp, S->indicators, S->n_indicators)) !=
            KZ_OK)
            return rc;
        if (parse_weights_spec(S) != 0)
            return err_at(s, lc->at[SP_WEIGHTS], kp,
                          "weights \"%s\" is not one of queen, rook, knn:K (K nearest "
                          "neighbours, 1..1000) or dist:M (distance band in CRS units, M > 0)",
                          S->weights);
        if (lc->at[SP_TOLERANCE] != NULL && !is_null(lc->at[SP_TOLERANCE]) &&
            (!(S->tolerance >= 0) || S->weights_kind > KZ_WEIGHTS_ROOK))
            return err_at(s, lc->at[SP_TOLERANCE], kp,
                          "tolerance is a snapping distance >= 0 in CRS units for queen or rook "
                          "weights; leave it out for the automatic one");
        if (!(S->alpha > 0 && S->alpha < 1))
            return err_at(s, lc->at[SP_ALPHA], kp, "alpha must lie between 0 and 1, e.g. 0.05");
        if (S->period != NULL && kz_period_parse(iso, S->period) != KZ_OK)
            return err_at(s, lc->at[SP_PERIOD], kp, "\"%s\" is not a date", S->period);
        /* One set of LISA columns per level and indicator. */
        for (j = 0; j < i; j++)
            for (a = 0; a < S->n_indicators; a++)
                for (b = 0; b < p->spatial[j].n_indicators; b++)
                    if (strcmp(S->level, p->spatial[j].level) == 0 &&
                        strcmp(S->indicators[a], p->spatial[j].indicators[b]) == 0)
                        return err_at(s, lc->at[SP_INDICATORS], kp,
                                      "\"%s\" on level %s is already in spatial[%zu]; both "
                                      "would write the columns lisa_%s_*",
                                      S->indicators[a], S->level, j, S->indicators[a]);
    }
    for (i = 0; i < p->n_correlations; i++) {
        kz_correlation_def *C = &p->correlations[i];
        const item_loc *lc = &s->co[i];
        snprintf(kp, sizeof(kp), "correlations[%zu]", i);
        if (kz_project_level_index(p, C->level) < 0)
            return err_at(s, lc->at[C_LEVEL], kp, "level \"%s\" is not defined under levels",
                          C->level);
        if (C->n_indicators < 2)
            return err_at(s, lc->at[C_INDICATORS] ? lc->at[C_INDICATORS] : lc->map, kp,
                          "needs at least two indicators to correlate");
        if ((rc = check_columns(s, lc->at[C_INDICATORS], kp, C->indicators, C->n_indicators)) !=
            KZ_OK)
            return rc;
        if (C->period != NULL && kz_period_parse(iso, C->period) != KZ_OK)
            return err_at(s, lc->at[C_PERIOD], kp, "\"%s\" is not a date", C->period);
    }
    return KZ_OK;
}

/* ---- coverage ------------------------------------------------------------ */

static int is_number_ok(const node *at, double v, int positive)
{
    return at == NULL || is_null(at) || (positive ? v > 0 : v >= 0);
}

/* demand_points: {method: grid|centroid|surface|zensus|points, cell: M,
 * source: S, count: F, layer: true|false}. */
static int check_demand_points(pstate *s, kz_coverage_def *C, const item_loc *lc, const char *pre)
{
    static const char *const methods[] = {"grid", "centroid", "surface", "zensus", "points"};
    const node *at = lc->at[V_DEMAND_POINTS];
    char kp[96];
    size_t i;
    int m, rc, cell_given = 0;

    snprintf(kp, sizeof(kp), "%s.demand_points", pre);
    C->demand_method = 0; /* KZ_DEMAND_GRID */
    C->demand_cell = 100;
    for (i = 0; i < C->n_demand_points; i++) {
        const char *k = C->demand_points[2 * i], *v = C->demand_points[2 * i + 1];
        if (strcmp(k, "method") == 0) {
            for (m = 0; m < 5 && strcasecmp(v, methods[m]) != 0; m++)
                ;
            if (m == 5)
                return err_at(s, at, kp,
                              "method \"%.60s\" is not one of grid, centroid, surface, zensus, "
                              "points",
                              v);
            C->demand_method = m; /* the order of enum kz_demand_method */
        } else if (strcmp(k, "cell") == 0) {
            if (parse_number(v, &C->demand_cell) != 0 || !(C->demand_cell > 0))
                return err_at(s, at, kp,
                              "cell must be a positive distance such as 100, not "
                              "\"%.60s\"",
                              v);
            cell_given = 1;
        } else if (strcmp(k, "source") == 0 || strcmp(k, "count") == 0) {
            char **dst = k[0] == 's' ? &C->demand_source : &C->demand_count;
            if (*dst == NULL && (*dst = xstrdup(v)) == NULL)
                return nomem(s);
        } else if (strcmp(k, "layer") == 0) {
            if (parse_bool(v, &C->demand_layer) != 0)
                return err_at(s, at, kp, "layer must be true or false, not \"%.60s\"", v);
        } else {
            return err_at(s, at, kp,
                          "unknown key \"%.60s\"; the keys allowed here are method, cell, "
                          "source, count, layer",
                          k);
        }
    }
    if (cell_given && C->demand_method != 0)
        return err_at(s, at, kp, "cell only applies with method: grid");
    if (C->demand_method >= 3) {
        if (C->demand_source == NULL)
            return err_at(s, at, kp, "method %s needs source: the %s", methods[C->demand_method],
                          C->demand_method == 3 ? "Zensus grid CSV file"
                                                : "point layer with the counts");
        if (C->demand_method == 4 && C->demand_count == NULL)
            return err_at(s, at, kp, "method points needs count: the field with the counts");
        snprintf(kp, sizeof(kp), "%s.demand_points.source", pre);
        if ((rc = resolve_source(s, at, kp, &C->demand_source, C->demand_method == 4, 0)) != KZ_OK)
            return rc;
    } else if (C->demand_source != NULL || C->demand_count != NULL) {
        return err_at(s, at, kp, "source and count only apply with method: zensus or points");
    }
    return KZ_OK;
}

static int check_coverage(pstate *s, coverage_raw *raw)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[96], pre[48], layer[MAX_NAME + 16];
    int rc;

    for (i = 0; i < p->n_coverage; i++) {
        kz_coverage_def *C = &p->coverage[i];
        const item_loc *lc = &s->cv[i];
        const char *d;
        int obj = -1;
        snprintf(pre, sizeof(pre), "coverage[%zu]", i);
#define KP(k) (key_path(kp, sizeof(kp), pre, k), kp)
        *C = raw[i].def;
        memset(&raw[i].def, 0, sizeof(raw[i].def));
        if (raw[i].category != NULL) {
            if (C->n_categories > 0)
                return err_at(s, lc->at[V_CATEGORY], KP("category"),
                              "give category (one) or categories (a list), not both");
            if ((C->categories = xcalloc(1, sizeof(char *))) == NULL)
                return nomem(s);
            C->categories[0] = raw[i].category;
            C->n_categories = 1;
            raw[i].category = NULL;
        }
        for (j = 0; j < i; j++)
            if (strcmp(C->name, p->coverage[j].name) == 0)
                return err_at(s, lc->at[V_NAME], KP("name"),
                              "\"%s\" is already the name of coverage[%zu]", C->name, j);
        if (level_index(p, C->level) < 0)
            return err_at(s, lc->at[V_LEVEL], KP("level"),
                          "level \"%s\" is not defined under levels", C->level);
        for (j = 0; j < p->n_objects; j++)
            if (strcmp(p->objects[j].name, C->objects) == 0)
                obj = (int)j;
        if (obj < 0)
            return err_at(s, lc->at[V_OBJECTS], KP("objects"),
                          "object layer \"%s\" is not defined under objects", C->objects);
        if (C->supply == KZ_SUPPLY_CAPACITY && p->objects[obj].capacity == NULL)
            return err_at(s, lc->at[V_SUPPLY], KP("supply"),
                          "supply: capacity needs a capacity field on objects \"%s\"; add "
                          "capacity: FIELD there or use supply: count",
                          C->objects);
        /* demand: "a" or "a + b + ..." */
        for (d = C->demand;;) {
            const char *plus = strchr(d, '+'), *e = plus ? plus : d + strlen(d);
            while (d < e && isspace((unsigned char)*d))
                d++;
            while (e > d && isspace((unsigned char)e[-1]))
                e--;
            if (e == d)
                return err_at(s, lc->at[V_DEMAND], KP("demand"),
                              "expected a variable name, or names joined by + to add them up");
            if (plus == NULL)
                break;
            d = plus + 1;
        }
        if (lc->at[V_PER] == NULL || is_null(lc->at[V_PER]))
            C->per = 100;
        else if (!(C->per >= 1 && C->per <= 1e9 && C->per == floor(C->per)))
            return err_at(s, lc->at[V_PER], KP("per"),
                          "must be a whole number of people such as 100 or 1000 (it becomes "
                          "part of the column name)");
        if (!is_number_ok(lc->at[V_NEED_FACTOR], C->need_factor, 1))
            return err_at(s, lc->at[V_NEED_FACTOR], KP("need_factor"),
                          "must be positive (need = factor x demand)");
        if (!is_number_ok(lc->at[V_RADIUS], C->radius, 1))
            return err_at(s, lc->at[V_RADIUS], KP("radius"), "must be a positive distance");
        if (!is_number_ok(lc->at[V_ACCESS_RADIUS], C->access_radius, 1))
            return err_at(s, lc->at[V_ACCESS_RADIUS], KP("access_radius"),
                          "must be a positive distance");
        if ((rc = check_demand_points(s, C, lc, pre)) != KZ_OK)
            return rc;
        if (C->n_demand_points > 0 && C->radius == 0 && C->access_radius == 0)
            return err_at(s, lc->at[V_DEMAND_POINTS], KP("demand_points"),
                          "demand points serve radius and access_radius; give one of them or "
                          "remove demand_points");
        if (C->demand_layer) {
            snprintf(layer, sizeof(layer), "%s_demand", C->name);
            if ((rc = check_layer_name(s, lc->at[V_NAME], KP("name"), layer)) != KZ_OK)
                return rc;
            for (j = 0; j < p->n_objects; j++)
                if (strcmp(p->objects[j].name, layer) == 0)
                    return err_at(s, lc->at[V_NAME], KP("name"),
                                  "the demand point layer \"%s\" would have the name of an "
                                  "object layer; rename one of them",
                                  layer);
            if (level_index(p, layer) >= 0)
                return err_at(s, lc->at[V_NAME], KP("name"),
                              "the demand point layer \"%s\" would have the name of a level; "
                              "rename one of them",
                              layer);
        }
#undef KP
    }
    return KZ_OK;
}

static void free_coverage_raw(coverage_raw *raw, size_t n);

static int check_measures(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64], a[11], b[11];
    int rc;
    for (i = 0; i < p->n_measures; i++) {
        kz_measure_def *M = &p->measures[i];
        const item_loc *lc = &s->ms[i];
        const node *cmp = lc->at[M_COMPARISON];
        snprintf(kp, sizeof(kp), "measures[%zu]", i);
        for (j = 0; j < i; j++)
            if (strcmp(M->id, p->measures[j].id) == 0)
                return err_at(s, lc->at[M_ID], kp, "\"%s\" is already the id of measures[%zu]",
                              M->id, j);
        if (kz_project_level_index(p, M->level) < 0)
            return err_at(s, lc->at[M_LEVEL], kp, "level \"%s\" is not defined under levels",
                          M->level);
        if (kz_period_parse(a, M->start) != KZ_OK)
            return err_at(s, lc->at[M_START], kp, "start \"%s\" is not a date", M->start);
        if (M->end != NULL && (kz_period_parse(b, M->end) != KZ_OK || strcmp(b, a) < 0))
            return err_at(s, lc->at[M_END], kp, "end must be a date on or after start");
        if (M->n_areas == 0 && M->areas_file == NULL)
            return err_at(s, lc->map, kp,
                          "needs areas (a list of keys of the level) or areas_file (a CSV with "
                          "a key column)");
        if (M->areas_key != NULL && M->areas_file == NULL)
            return err_at(s, lc->at[M_AREAS_KEY], kp, "areas_key needs areas_file");
        if (M->areas_file != NULL) {
            snprintf(kp, sizeof(kp), "measures[%zu].areas_file", i);
            if ((rc = resolve_source(s, lc->at[M_AREAS_FILE], kp, &M->areas_file, 0, 0)) != KZ_OK)
                return rc;
            snprintf(kp, sizeof(kp), "measures[%zu]", i);
        }
        if (M->n_indicators == 0)
            return err_at(s, lc->map, kp, "needs indicators: the target indicators to evaluate");
        for (j = 0; j < M->n_indicators; j++)
            if (indicator_index(p, M->indicators[j]) < 0)
                return err_at(s, lc->at[M_INDICATORS], kp,
                              "indicator \"%s\" is not defined under indicators", M->indicators[j]);
        snprintf(kp, sizeof(kp), "measures[%zu].comparison", i);
        if (cmp != NULL && !is_null(cmp) &&
            (rc = parse_fields(s, cmp, kp, comparison_fields, NFIELDS(comparison_fields), M,
                               s->mc[i].at)) != KZ_OK)
            return rc;
        for (j = 0; j < M->n_match_on; j++)
            if (indicator_index(p, M->match_on[j]) < 0)
                return err_at(s, s->mc[i].at[MC_MATCH_ON], kp,
                              "match_on indicator \"%s\" is not defined under indicators",
                              M->match_on[j]);
        if (M->comparison == KZ_MEASURE_COMPARE_NEAREST && M->n_match_on == 0)
            return err_at(s, cmp, kp,
                          "method nearest needs match_on: the indicators on which comparison "
                          "areas should resemble the treated ones at baseline");
    }
    return KZ_OK;
}

static int check_actions(pstate *s)
{
    kz_project *p = s->p;
    size_t i, j;
    char kp[64], iso[11];
    for (i = 0; i < p->n_actions; i++) {
        kz_action_def *A = &p->actions[i];
        const item_loc *lc = &s->ac[i];
        double t0, t1;
        snprintf(kp, sizeof(kp), "action[%zu]", i);
        if (A->level != NULL && kz_project_level_index(p, A->level) < 0)
            return err_at(s, lc->at[A_LEVEL], kp, "level \"%s\" is not defined under levels",
                          A->level);
        if (A->n_thresholds != 2 || parse_number(A->thresholds[0], &t0) != 0 ||
            parse_number(A->thresholds[1], &t1) != 0 || !(t0 >= 0) || !(t1 >= t0))
            return err_at(s, lc->at[A_THRESHOLDS] ? lc->at[A_THRESHOLDS] : lc->map, kp,
                          "thresholds must be two numbers 0 <= yellow <= red, e.g. "
                          "[0.5, 1.0] (with unit: sd)");
        if (A->period != NULL && kz_period_parse(iso, A->period) != KZ_OK)
            return err_at(s, lc->at[A_PERIOD], kp, "\"%s\" is not a date", A->period);
        for (j = 0; j < i; j++)
            if (strcmp(A->indicator, p->actions[j].indicator) == 0)
                return err_at(s, lc->at[A_INDICATOR], kp,
                              "\"%s\" already has an entry (action[%zu]); one entry per "
                              "indicator, without level for every level",
                              A->indicator, j);
    }
    return KZ_OK;
}

static int check_comparables(pstate *s)
{
    kz_project *p = s->p;
    size_t i;
    char kp[64], iso[11];
    for (i = 0; i < p->n_comparables; i++) {
        kz_comparable_def *C = &p->comparables[i];
        const item_loc *lc = &s->cp[i];
        snprintf(kp, sizeof(kp), "comparable[%zu]", i);
        if (kz_project_level_index(p, C->level) < 0)
            return err_at(s, lc->at[P_LEVEL], kp, "level \"%s\" is not defined under levels",
                          C->level);
        if (C->n_references == 0 || C->n_indicators == 0)
            return err_at(s, lc->map, kp,
                          "needs references (area keys) and indicators (names), e.g. "
                          "{level: plr, references: [\"01100101\"], indicators: [a, b]}");
        if (!(C->tolerance >= 0))
            return err_at(s, lc->at[P_TOLERANCE], kp, "the tolerance must be >= 0");
        if (C->period != NULL && kz_period_parse(iso, C->period) != KZ_OK)
            return err_at(s, lc->at[P_PERIOD], kp, "\"%s\" is not a date", C->period);
    }
    return KZ_OK;
}

static int check_disclosure(pstate *s)
{
    const kz_disclosure_def *D = &s->p->disclosure;
    const node *const *at = s->disc.at;
    if (!(D->min_count > 0))
        return err_at(s, at[D_MIN_COUNT], "disclosure.min_count",
                      "must be a positive number (3: counts 1 and 2 are suppressed)");
    if (!(D->min_population >= 0))
        return err_at(s, at[D_MIN_POPULATION], "disclosure.min_population", "must be >= 0");
    if (D->min_population > 0 && D->population == NULL)
        return err_at(s, at[D_MIN_POPULATION], "disclosure.min_population",
                      "needs population: the variable that counts the inhabitants");
    if (D->n_variables > 0 && D->n_not_counts > 0)
        return err_at(s, at[D_NOT_COUNTS], "disclosure.not_counts",
                      "give either variables (the counts) or not_counts (every other variable "
                      "is a count), not both");
    return KZ_OK;
}

/* ---- the document ----------------------------------------------------------- */

static int parse_document(pstate *s, const node *root)
{
    kz_project *p = s->p;
    const node *top[T_N] = {NULL};
    void *items;
    size_t i;
    int rc;

    if (root == NULL || is_null(root))
        return err_at(s, root, NULL,
                      "the project file is empty; it needs at least name, crs and levels "
                      "(see docs/project-file.md)");
    if (root->kind != N_MAP)
        return err_at(s, root, NULL,
                      "the top level must be a mapping (name: ..., crs: ..., levels: ...), "
                      "got %s",
                      kind_name(root));
    if ((rc = parse_fields(s, root, "", top_fields, NFIELDS(top_fields), p, top)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_LEVELS], "levels", MAX_LEVELS, sizeof(kz_level_def), &items,
                            &p->n_levels, &s->lv)) != KZ_OK)
        return rc;
    p->levels = items;
    if (p->n_levels == 0)
        return err_at(s, top[T_LEVELS], "levels",
                      "needs at least one level, e.g. - {name: plr, source: areas.shp, key: ID}");
    if ((rc = parse_items(s, top[T_LEVELS], "levels", level_fields, NFIELDS(level_fields),
                          (char *)p->levels, sizeof(kz_level_def), p->n_levels, s->lv)) != KZ_OK)
        return rc;
    if ((rc = check_levels(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_TABLES], "tables", MAX_ITEMS, sizeof(kz_table_def), &items,
                            &p->n_tables, &s->tb)) != KZ_OK)
        return rc;
    p->tables = items;
    if ((rc = parse_items(s, top[T_TABLES], "tables", table_fields, NFIELDS(table_fields),
                          (char *)p->tables, sizeof(kz_table_def), p->n_tables, s->tb)) != KZ_OK)
        return rc;
    for (i = 0; i < p->n_tables; i++)
        if ((rc = check_table(s, i)) != KZ_OK)
            return rc;

    if ((rc = section_items(s, top[T_INDICATORS], "indicators", MAX_ITEMS, sizeof(kz_indicator_def),
                            &items, &p->n_indicators, &s->in)) != KZ_OK)
        return rc;
    p->indicators = items;
    for (i = 0; i < p->n_indicators; i++)
        p->indicators[i].scale = 1.0;
    if ((rc = parse_items(s, top[T_INDICATORS], "indicators", indicator_fields,
                          NFIELDS(indicator_fields), (char *)p->indicators,
                          sizeof(kz_indicator_def), p->n_indicators, s->in)) != KZ_OK)
        return rc;
    if ((rc = check_indicators(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_OBJECTS], "objects", MAX_ITEMS, sizeof(kz_object_def), &items,
                            &p->n_objects, &s->ob)) != KZ_OK)
        return rc;
    p->objects = items;
    if ((rc = parse_items(s, top[T_OBJECTS], "objects", object_fields, NFIELDS(object_fields),
                          (char *)p->objects, sizeof(kz_object_def), p->n_objects, s->ob)) != KZ_OK)
        return rc;
    if ((rc = check_objects(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_INDICES], "indices", MAX_ITEMS, sizeof(kz_index_def), &items,
                            &p->n_indices, &s->ix)) != KZ_OK)
        return rc;
    p->indices = items;
    if ((rc = parse_items(s, top[T_INDICES], "indices", index_fields, NFIELDS(index_fields),
                          (char *)p->indices, sizeof(kz_index_def), p->n_indices, s->ix)) != KZ_OK)
        return rc;
    if ((rc = check_indices(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_TRENDS], "trends", MAX_ITEMS, sizeof(kz_trend_def), &items,
                            &p->n_trends, &s->tr)) != KZ_OK)
        return rc;
    p->trends = items;
    if ((rc = parse_items(s, top[T_TRENDS], "trends", trend_fields, NFIELDS(trend_fields),
                          (char *)p->trends, sizeof(kz_trend_def), p->n_trends, s->tr)) != KZ_OK)
        return rc;
    if ((rc = check_trends(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_SPATIAL], "spatial", MAX_ITEMS, sizeof(kz_spatial_def), &items,
                            &p->n_spatial, &s->sp)) != KZ_OK)
        return rc;
    p->spatial = items;
    for (i = 0; i < p->n_spatial; i++) {
        p->spatial[i].tolerance = -1.0;
        p->spatial[i].style = KZ_STYLE_W;
        p->spatial[i].permutations = 999;
        p->spatial[i].seed = 12345;
        p->spatial[i].alpha = 0.05;
    }
    if ((rc = parse_items(s, top[T_SPATIAL], "spatial", spatial_fields, NFIELDS(spatial_fields),
                          (char *)p->spatial, sizeof(kz_spatial_def), p->n_spatial, s->sp)) !=
        KZ_OK)
        return rc;
    if ((rc = section_items(s, top[T_CORRELATIONS], "correlations", MAX_ITEMS,
                            sizeof(kz_correlation_def), &items, &p->n_correlations, &s->co)) !=
        KZ_OK)
        return rc;
    p->correlations = items;
    for (i = 0; i < p->n_correlations; i++)
        p->correlations[i].methods = KZ_CORRELATION_BOTH;
    if ((rc = parse_items(s, top[T_CORRELATIONS], "correlations", correlation_fields,
                          NFIELDS(correlation_fields), (char *)p->correlations,
                          sizeof(kz_correlation_def), p->n_correlations, s->co)) != KZ_OK)
        return rc;

    {
        coverage_raw *raw = NULL;
        size_t n_raw = 0;
        if ((rc = section_items(s, top[T_COVERAGE], "coverage", MAX_ITEMS, sizeof(coverage_raw),
                                &items, &n_raw, &s->cv)) != KZ_OK)
            return rc;
        raw = items;
        if (n_raw > 0 && (p->coverage = xcalloc(n_raw, sizeof(kz_coverage_def))) == NULL) {
            free_coverage_raw(raw, n_raw);
            return nomem(s);
        }
        p->n_coverage = n_raw;
        rc = parse_items(s, top[T_COVERAGE], "coverage", coverage_fields, NFIELDS(coverage_fields),
                         (char *)raw, sizeof(coverage_raw), n_raw, s->cv);
        if (rc == KZ_OK)
            rc = check_coverage(s, raw);
        free_coverage_raw(raw, n_raw);
        if (rc != KZ_OK)
            return rc;
    }
    /* After coverage: its columns may be analysed too. */
    if ((rc = check_spatial(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_MEASURES], "measures", MAX_ITEMS, sizeof(kz_measure_def),
                            &items, &p->n_measures, &s->ms)) != KZ_OK)
        return rc;
    p->measures = items;
    if (p->n_measures > 0 && (s->mc = xcalloc(p->n_measures, sizeof(item_loc))) == NULL)
        return nomem(s);
    for (i = 0; i < p->n_measures; i++) {
        p->measures[i].budget = NAN;
        p->measures[i].k = 10;
    }
    if ((rc = parse_items(s, top[T_MEASURES], "measures", measure_fields, NFIELDS(measure_fields),
                          (char *)p->measures, sizeof(kz_measure_def), p->n_measures, s->ms)) !=
            KZ_OK ||
        (rc = check_measures(s)) != KZ_OK)
        return rc;

    if ((rc = section_items(s, top[T_ACTION], "action", MAX_ITEMS, sizeof(kz_action_def), &items,
                            &p->n_actions, &s->ac)) != KZ_OK)
        return rc;
    p->actions = items;
    if ((rc = parse_items(s, top[T_ACTION], "action", action_fields, NFIELDS(action_fields),
                          (char *)p->actions, sizeof(kz_action_def), p->n_actions, s->ac)) !=
            KZ_OK ||
        (rc = check_actions(s)) != KZ_OK)
        return rc;
    if ((rc = section_items(s, top[T_COMPARABLE], "comparable", MAX_ITEMS,
                            sizeof(kz_comparable_def), &items, &p->n_comparables, &s->cp)) != KZ_OK)
        return rc;
    p->comparables = items;
    for (i = 0; i < p->n_comparables; i++) {
        p->comparables[i].tolerance = 0.5;
        p->comparables[i].unit = 1; /* sd */
    }
    if ((rc = parse_items(s, top[T_COMPARABLE], "comparable", comparable_fields,
                          NFIELDS(comparable_fields), (char *)p->comparables,
                          sizeof(kz_comparable_def), p->n_comparables, s->cp)) != KZ_OK ||
        (rc = check_comparables(s)) != KZ_OK)
        return rc;
    p->disclosure.min_count = 3; /* KZ_SDC_MIN_COUNT */
    if (top[T_DISCLOSURE] != NULL && !is_null(top[T_DISCLOSURE])) {
        p->disclosure.enabled = 1;
        if ((rc = parse_fields(s, top[T_DISCLOSURE], "disclosure", disclosure_fields,
                               NFIELDS(disclosure_fields), &p->disclosure, s->disc.at)) != KZ_OK ||
            (rc = check_disclosure(s)) != KZ_OK)
            return rc;
    }

    if (top[T_OUTPUTS] != NULL && !is_null(top[T_OUTPUTS])) {
        if ((rc = parse_fields(s, top[T_OUTPUTS], "outputs", output_fields, NFIELDS(output_fields),
                               &p->outputs, s->out.at)) != KZ_OK)
            return rc;
        if (p->outputs.gpkg != NULL && strchr(p->outputs.gpkg, '/') != NULL)
            return err_at(s, s->out.at[U_GPKG], "outputs.gpkg",
                          "a file name inside outputs.dir, without folders (e.g. berlin.gpkg)");
    }
    if (p->outputs.dir == NULL && (p->outputs.dir = xstrdup(DEFAULT_OUT_DIR)) == NULL)
        return nomem(s);
    return KZ_OK;
}

int kz_project__parse_buffer(kz_project **out, kz_ctx *ctx, const char *buf, size_t len,
                             const char *path_for_messages, unsigned flags)
{
    pstate s;
    node *root = NULL;
    const char *slash, *env;
    int rc;

    *out = NULL;
    memset(&s, 0, sizeof(s));
    s.ctx = ctx;
    s.file = path_for_messages;
    s.buf = buf;
    s.len = len;
    s.flags = flags;
    env = getenv("KIEZ_GEODATA");
    s.geodata = env != NULL && env[0] != '\0' ? env : DEFAULT_GEODATA;

    if ((s.p = xcalloc(1, sizeof(*s.p))) == NULL)
        return nomem(&s);
    if ((s.p->path = xstrdup(path_for_messages)) == NULL) {
        rc = nomem(&s);
        goto done;
    }
    slash = strrchr(path_for_messages, '/');
    if (slash != NULL) {
        s.dir = xstrndup(path_for_messages,
                         slash == path_for_messages ? 1 : (size_t)(slash - path_for_messages));
        if (s.dir == NULL) {
            rc = nomem(&s);
            goto done;
        }
    }
    if (len > (size_t)MAX_FILE) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE,
                           "%s: larger than %ld bytes; a project file is a short description, "
                           "not data",
                           s.file, MAX_FILE);
        goto done;
    }
    if ((rc = build_tree(&s, &root)) != KZ_OK)
        goto done;
    rc = parse_document(&s, root);
done:
    node_free(root);
    free(s.dir);
    free(s.lv);
    free(s.tb);
    free(s.in);
    free(s.ob);
    free(s.ix);
    free(s.tr);
    free(s.cv);
    free(s.sp);
    free(s.co);
    free(s.ms);
    free(s.mc);
    free(s.ac);
    free(s.cp);
    if (rc != KZ_OK) {
        kz_project_free(s.p);
        return rc;
    }
    *out = s.p;
    return KZ_OK;
}

int kz_project_load(kz_project **out, kz_ctx *ctx, const char *path)
{
    FILE *f;
    char *buf = NULL, *nb;
    size_t len = 0, cap = 0, got;
    int rc;

    *out = NULL;
    f = fopen(path, "rb");
    if (f == NULL)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot open the project file: %s", path,
                             strerror(errno));
    for (;;) {
        if (len == cap) {
            if (cap > (size_t)MAX_FILE) {
                fclose(f);
                free(buf);
                return kz_ctx__error(ctx, KZ_E_USAGE,
                                     "%s: larger than %ld bytes; a project file is a short "
                                     "description, not data",
                                     path, MAX_FILE);
            }
            cap = cap ? cap * 2 : 4096;
            if ((nb = xrealloc(buf, cap)) == NULL) {
                fclose(f);
                free(buf);
                return kz_ctx__error(ctx, KZ_E_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot read the project file: %s", path,
                             strerror(e));
    }
    fclose(f);
    rc = kz_project__parse_buffer(out, ctx, buf, len, path, 0);
    free(buf);
    return rc;
}

static void free_list(char **v, size_t n)
{
    size_t i;
    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_coverage(kz_coverage_def *C)
{
    free(C->name);
    free(C->label);
    free(C->objects);
    free_list(C->categories, C->n_categories);
    free(C->level);
    free(C->demand);
    free_list(C->demand_points, 2 * C->n_demand_points);
    free(C->demand_source);
    free(C->demand_count);
}

/* Items not yet moved into the project (after an error, or the merged
 * category). */
static void free_coverage_raw(coverage_raw *raw, size_t n)
{
    size_t i;
    for (i = 0; raw != NULL && i < n; i++) {
        free_coverage(&raw[i].def);
        free(raw[i].category);
    }
    free(raw);
}

void kz_project_free(kz_project *p)
{
    size_t i;
    if (p == NULL)
        return;
    for (i = 0; i < p->n_levels; i++) {
        kz_level_def *L = &p->levels[i];
        free(L->name);
        free(L->title);
        free(L->source);
        free(L->key);
        free(L->label);
        free(L->parent);
        free(L->dissolve);
        free(L->area_key);
        free(L->area_name);
        free_list(L->fix_keys, 2 * L->n_fix_keys);
    }
    free(p->levels);
    for (i = 0; i < p->n_tables; i++) {
        kz_table_def *T = &p->tables[i];
        free(T->source);
        free(T->level);
        free(T->key);
        free(T->period);
        free(T->period_column);
        free(T->period_path);
        free(T->variable_column);
        free(T->value_column);
        free_list(T->variables, T->n_variables);
        free_list(T->ignore, T->n_ignore);
        free_list(T->missing, T->n_missing);
        free(T->lines);
    }
    free(p->tables);
    for (i = 0; i < p->n_indicators; i++) {
        kz_indicator_def *I = &p->indicators[i];
        free(I->name);
        free(I->label);
        free(I->numerator);
        free(I->denominator);
        free(I->unit);
        free(I->description);
        free(I->source);
    }
    free(p->indicators);
    for (i = 0; i < p->n_objects; i++) {
        kz_object_def *O = &p->objects[i];
        free(O->name);
        free(O->title);
        free(O->source);
        free(O->id);
        free(O->label);
        free(O->category);
        free(O->capacity);
        free(O->x);
        free(O->y);
        free(O->crs);
    }
    free(p->objects);
    for (i = 0; i < p->n_indices; i++) {
        kz_index_def *X = &p->indices[i];
        free(X->name);
        free(X->label);
        free(X->level);
        free(X->period);
        free_list(X->inputs, X->n_inputs);
        free_list(X->cuts, X->n_cuts);
        free(X->population);
        free_list(X->outliers, X->n_outliers);
        free_list(X->class_labels, X->n_class_labels);
    }
    free(p->indices);
    for (i = 0; i < p->n_trends; i++) {
        kz_trend_def *R = &p->trends[i];
        free_list(R->indicators, R->n_indicators);
        free(R->from);
        free(R->to);
    }
    free(p->trends);
    for (i = 0; i < p->n_spatial; i++) {
        kz_spatial_def *S = &p->spatial[i];
        free(S->level);
        free_list(S->indicators, S->n_indicators);
        free(S->weights);
        free(S->period);
    }
    free(p->spatial);
    for (i = 0; i < p->n_correlations; i++) {
        kz_correlation_def *C = &p->correlations[i];
        free(C->level);
        free_list(C->indicators, C->n_indicators);
        free(C->period);
    }
    free(p->correlations);
    for (i = 0; i < p->n_coverage; i++)
        free_coverage(&p->coverage[i]);
    free(p->coverage);
    for (i = 0; i < p->n_measures; i++) {
        kz_measure_def *M = &p->measures[i];
        free(M->id);
        free(M->name);
        free(M->kind);
        free(M->level);
        free_list(M->areas, M->n_areas);
        free(M->areas_file);
        free(M->areas_key);
        free(M->start);
        free(M->end);
        free_list(M->indicators, M->n_indicators);
        free_list(M->match_on, M->n_match_on);
    }
    free(p->measures);
    for (i = 0; i < p->n_actions; i++) {
        kz_action_def *A = &p->actions[i];
        free(A->indicator);
        free(A->level);
        free(A->period);
        free_list(A->thresholds, A->n_thresholds);
    }
    free(p->actions);
    for (i = 0; i < p->n_comparables; i++) {
        kz_comparable_def *C = &p->comparables[i];
        free(C->level);
        free_list(C->references, C->n_references);
        free_list(C->indicators, C->n_indicators);
        free(C->period);
    }
    free(p->comparables);
    free(p->disclosure.population);
    free_list(p->disclosure.variables, p->disclosure.n_variables);
    free_list(p->disclosure.not_counts, p->disclosure.n_not_counts);
    free(p->outputs.dir);
    free(p->outputs.gpkg);
    free(p->path);
    free(p->name);
    free(p->crs);
    free(p->database);
    free(p);
}

int kz_project_level_index(const kz_project *project, const char *name)
{
    if (project == NULL || name == NULL)
        return -1;
    return level_index(project, name);
}
