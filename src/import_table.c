/*
 * Import of statistical tables (CSV): wide (one column per variable) or
 * long (variable and value columns), period from a column, a constant or
 * the file path. Keys must match the areas of the table's level.
 */
#include "ctx_internal.h"
#include "kiez/import.h"
#include "kiez/table.h"
#include "store.h"
#include "strmap.h"

#include <fnmatch.h>
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How many unmatched keys a message lists before "...". */
#define LIST_MAX 5
#define KEY_MAX 256

typedef struct table_state {
    kz_db *db;
    kz_ctx *ctx;
    const kz_table_def *def;
    const char *path;
    int key_width;
    kz_level_keys *keys;
    kz_csv_dialect dialect;
    long long source_id;
    char period[11]; /* constant or from the path; "" when from a column */
    int key_col, period_col, variable_col, value_col;
    size_t n_cols;
    char **names; /* header names */
    unsigned char *is_var;
    long long values, rows;
    long unmatched;
    char unmatched_list[512];
    long first_line, last_line; /* data rows outside are skipped (lines:) */
} table_state;

static int is_missing_marker(const kz_table_def *def, const char *text)
{
    size_t i;
    for (i = 0; i < def->n_missing; i++)
        if (strcmp(def->missing[i], text) == 0)
            return 1;
    return 0;
}

static int ignored(const kz_table_def *def, const char *name)
{
    size_t i;
    for (i = 0; i < def->n_ignore; i++)
        if (fnmatch(def->ignore[i], name, 0) == 0)
            return 1;
    return 0;
}

static int column_index(table_state *s, const char *name, const char *role)
{
    size_t i;
    for (i = 0; i < s->n_cols; i++)
        if (strcmp(s->names[i], name) == 0)
            return (int)i;
    kz_ctx__error(s->ctx, KZ_E_INPUT, "%s:1: no %s column \"%s\" in the header", s->path, role,
                  name);
    return -1;
}

static int take_header(table_state *s, const kz_csv_row *row)
{
    size_t i;
    s->n_cols = row->n_fields;
    s->names = calloc(row->n_fields, sizeof(char *));
    s->is_var = calloc(row->n_fields, 1);
    if (s->names == NULL || s->is_var == NULL)
        return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
    for (i = 0; i < row->n_fields; i++) {
        size_t len = strlen(row->fields[i]) + 1;
        if ((s->names[i] = malloc(len)) == NULL)
            return kz_ctx__error(s->ctx, KZ_E_NOMEM, "out of memory");
        memcpy(s->names[i], row->fields[i], len);
    }
    if ((s->key_col = column_index(s, s->def->key, "key")) < 0)
        return KZ_E_INPUT;
    s->period_col = -1;
    if (s->def->period_column &&
        (s->period_col = column_index(s, s->def->period_column, "period")) < 0)
        return KZ_E_INPUT;
    if (s->def->long_format) {
        if ((s->variable_col = column_index(s, s->def->variable_column, "variable")) < 0 ||
            (s->value_col = column_index(s, s->def->value_column, "value")) < 0)
            return KZ_E_INPUT;
        return KZ_OK;
    }
    if (s->def->n_variables > 0) {
        for (i = 0; i < s->def->n_variables; i++) {
            int c = column_index(s, s->def->variables[i], "variable");
            if (c < 0)
                return KZ_E_INPUT;
            s->is_var[c] = 1;
        }
    } else {
        for (i = 0; i < s->n_cols; i++)
            s->is_var[i] = (int)i != s->key_col && (int)i != s->period_col &&
                           s->names[i][0] != '\0' && !ignored(s->def, s->names[i]);
    }
    for (i = 0; i < s->n_cols; i++)
        if (s->is_var[i])
            return KZ_OK;
    return kz_ctx__error(s->ctx, KZ_E_INPUT, "%s:1: no variable columns left to import", s->path);
}

static int put_value(table_state *s, long line, const char *key, const char *period,
                     const char *variable, const char *text)
{
    double v = 0.0;
    int flag = KZ_FLAG_OK, rc;
    if (is_missing_marker(s->def, text)) {
        flag = KZ_FLAG_MISSING;
    } else if (kz_value_parse(&v, &flag, text, s->dialect.decimal, s->dialect.thousands) != KZ_OK) {
        return kz_ctx__error(s->ctx, KZ_E_INPUT,
                             "%s:%ld: column \"%s\": \"%s\" is not a number (decimal '%c'); "
                             "fix the cell or list the text under missing:",
                             s->path, line, variable, text,
                             s->dialect.decimal ? s->dialect.decimal : '.');
    }
    /* A repeated value is reported with its file and line by the store. */
    rc = kz_store__insert_value(s->db, s->ctx, s->def->level, key, period, variable, v, flag,
                                s->path, line);
    s->values++;
    return rc;
}

static int take_row(const kz_csv_row *row, void *payload)
{
    table_state *s = payload;
    char key[KEY_MAX], period_buf[11];
    const char *period = s->period;
    long idx;
    size_t i;
    int rc;

    if (s->names == NULL)
        return take_header(s, row);
    if (row->line < s->first_line || row->line > s->last_line)
        return KZ_OK;
    s->rows++;
    if (kz_key_normalise(key, sizeof(key), row->fields[s->key_col],
                         s->def->key_by_name ? 0 : s->key_width) != KZ_OK)
        return kz_ctx__error(s->ctx, KZ_E_INPUT,
                             "%s:%ld: key \"%s\" is empty or does not fit the level's key width %d",
                             s->path, row->line, row->fields[s->key_col], s->key_width);
    idx = kz_strmap__get(s->keys->map, key);
    if (idx == -2)
        return kz_ctx__error(s->ctx, KZ_E_INPUT,
                             "%s:%ld: the name \"%s\" belongs to several areas of level %s; "
                             "use keys instead of names",
                             s->path, row->line, key, s->def->level);
    if (idx < 0) {
        size_t used = strlen(s->unmatched_list);
        char msg[KEY_MAX + 128];
        if (s->unmatched < LIST_MAX)
            snprintf(s->unmatched_list + used, sizeof(s->unmatched_list) - used,
                     "%s\"%s\" (line %ld)", used ? ", " : "", key, row->line);
        s->unmatched++;
        snprintf(msg, sizeof(msg), "key \"%s\" matches no area of level %s", key, s->def->level);
        return kz_store__add_finding(s->db, s->ctx, "unmatched", s->path, row->line, s->def->level,
                                     key, msg);
    }
    if (s->period_col >= 0) {
        if (kz_period_parse(period_buf, row->fields[s->period_col]) != KZ_OK)
            return kz_ctx__error(s->ctx, KZ_E_INPUT,
                                 "%s:%ld: \"%s\" is not a period (use e.g. 2023-12-31, 31.12.2023, "
                                 "2023 or 202312)",
                                 s->path, row->line, row->fields[s->period_col]);
        period = period_buf;
    }
    if (s->def->long_format)
        return put_value(s, row->line, s->keys->keys[idx], period, row->fields[s->variable_col],
                         row->fields[s->value_col]);
    for (i = 0; i < row->n_fields && i < s->n_cols; i++) {
        if (!s->is_var[i])
            continue;
        if ((rc = put_value(s, row->line, s->keys->keys[idx], period, s->names[i],
                            row->fields[i])) != KZ_OK)
            return rc;
    }
    return KZ_OK;
}

/* The period of a file from its path, by the table's regex. */
static int period_from_path(char out[11], kz_ctx *ctx, const kz_table_def *def, const char *path)
{
    regex_t re;
    regmatch_t m[3];
    char g1[16] = "", g2[16] = "", text[24];
    int year, sub, ok;
    static const int month_end[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (regcomp(&re, def->period_path, REG_EXTENDED) != 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "period_path \"%s\" is not a valid regex",
                             def->period_path);
    ok = regexec(&re, path, 3, m, 0) == 0 && m[1].rm_so >= 0;
    if (ok) {
        snprintf(g1, sizeof(g1), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), path + m[1].rm_so);
        if (m[2].rm_so >= 0)
            snprintf(g2, sizeof(g2), "%.*s", (int)(m[2].rm_eo - m[2].rm_so), path + m[2].rm_so);
    }
    regfree(&re);
    if (!ok)
        return kz_ctx__error(ctx, KZ_E_INPUT, "%s: the path does not match period_path \"%s\"",
                             path, def->period_path);
    year = (int)strtol(g1, NULL, 10);
    sub = (int)strtol(g2, NULL, 10);
    switch (def->period_as) {
    case KZ_PERIOD_YEAR:
        snprintf(text, sizeof(text), "%.4s", g1);
        break;
    case KZ_PERIOD_YEAR_HALF:
        if (sub != 1 && sub != 2)
            return kz_ctx__error(ctx, KZ_E_INPUT, "%s: half year \"%s\" is not 1 or 2", path, g2);
        snprintf(text, sizeof(text), "%04d-%s", year, sub == 1 ? "06-30" : "12-31");
        break;
    case KZ_PERIOD_YEAR_MONTH:
        if (sub < 1 || sub > 12)
            return kz_ctx__error(ctx, KZ_E_INPUT, "%s: month \"%s\" is not 1..12", path, g2);
        snprintf(text, sizeof(text), "%04d-%02d-%02d", year, sub,
                 month_end[sub - 1] +
                     (sub == 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))));
        break;
    default:
        snprintf(text, sizeof(text), "%s", g1);
        break;
    }
    if (kz_period_parse(out, text) != KZ_OK)
        return kz_ctx__error(ctx, KZ_E_INPUT, "%s: \"%s\" taken from the path is not a period",
                             path, text);
    return KZ_OK;
}

static void free_state(table_state *s)
{
    size_t i;
    if (s->names)
        for (i = 0; i < s->n_cols; i++)
            free(s->names[i]);
    free(s->names);
    free(s->is_var);
    s->names = NULL;
    s->is_var = NULL;
}

static int import_file(table_state *s, const char *path)
{
    int rc;
    s->path = path;
    s->values = s->rows = 0;
    s->unmatched = 0;
    s->unmatched_list[0] = '\0';
    s->period[0] = '\0';
    s->dialect.delimiter = s->def->delimiter;
    s->dialect.decimal = s->def->decimal;
    s->dialect.thousands = s->def->thousands;
    s->dialect.encoding = s->def->encoding;
    if (s->def->period != NULL && kz_period_parse(s->period, s->def->period) != KZ_OK)
        return kz_ctx__error(s->ctx, KZ_E_USAGE, "period \"%s\" is not a date", s->def->period);
    if (s->def->period_path != NULL &&
        (rc = period_from_path(s->period, s->ctx, s->def, path)) != KZ_OK)
        return rc;
    if ((rc = kz_store__add_source(s->db, s->ctx, "table", path, &s->source_id)) != KZ_OK)
        return rc;
    rc = kz_csv_read(s->ctx, path, &s->dialect, take_row, s);
    if (rc == KZ_OK && s->names == NULL)
        rc = kz_ctx__error(s->ctx, KZ_E_INPUT, "%s: the file is empty", path);
    if (rc == KZ_OK && s->rows == 0)
        rc = kz_ctx__error(s->ctx, KZ_E_INPUT, "%s: the file has a header but no rows", path);
    free_state(s);
    if (rc != KZ_OK)
        return rc;
    if (s->unmatched > 0) {
        if (s->def->unmatched == KZ_UNMATCHED_ERROR)
            return kz_ctx__error(s->ctx, KZ_E_INPUT,
                                 "%s: %ld key(s) match no area of level %s: %s%s; fix the keys, "
                                 "import the matching geometry, or set unmatched: warn",
                                 path, s->unmatched, s->def->level, s->unmatched_list,
                                 s->unmatched > LIST_MAX ? ", ..." : "");
        kz_ctx__log(s->ctx, KZ_LOG_WARN, "%s: %ld key(s) match no area of level %s: %s%s", path,
                    s->unmatched, s->def->level, s->unmatched_list,
                    s->unmatched > LIST_MAX ? ", ..." : "");
    }
    kz_ctx__log(s->ctx, KZ_LOG_INFO, "%s: %lld rows, %lld values", path, s->rows, s->values);
    return kz_store__source_records(s->db, s->ctx, s->source_id, s->rows);
}

int kz_import_table(kz_db *db, kz_ctx *ctx, const kz_project *p, size_t index)
{
    const kz_table_def *def = &p->tables[index];
    int level = kz_project_level_index(p, def->level);
    kz_level_keys keys = {NULL, NULL, 0};
    table_state s;
    glob_t g;
    size_t i;
    int rc;

    memset(&s, 0, sizeof(s));
    memset(&g, 0, sizeof(g));
    if (level < 0)
        return kz_ctx__error(ctx, KZ_E_USAGE, "table %s: unknown level %s", def->source,
                             def->level);
    if (glob(def->source, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        globfree(&g);
        return kz_ctx__error(ctx, KZ_E_IO, "table source %s: no such file", def->source);
    }
    if ((rc = kz_store__begin(db, ctx)) != KZ_OK) {
        globfree(&g);
        return rc;
    }
    if ((rc = kz_store__level_keys(db, ctx, def->level, def->key_by_name, &keys)) != KZ_OK)
        goto out;
    if (keys.n == 0) {
        rc = kz_ctx__error(ctx, KZ_E_USAGE, "table %s: level %s has no areas; import it first",
                           def->source, def->level);
        goto out;
    }
    s.db = db;
    s.ctx = ctx;
    s.def = def;
    s.keys = &keys;
    s.key_width = p->levels[level].key_width;
    s.first_line = 2;
    s.last_line = 0x7fffffffL;
    if (def->lines != NULL) {
        char *end = NULL;
        s.first_line = strtol(def->lines, &end, 10);
        if (end == def->lines || *end != '-' || s.first_line < 2 ||
            (s.last_line = strtol(end + 1, &end, 10)) < s.first_line || *end != '\0') {
            rc = kz_ctx__error(ctx, KZ_E_USAGE,
                               "table %s: lines \"%s\" is not a range FIRST-LAST of data lines "
                               "(the header is line 1), e.g. 2-100",
                               def->source, def->lines);
            goto out;
        }
    }
    for (i = 0; i < g.gl_pathc; i++) {
        if ((rc = import_file(&s, g.gl_pathv[i])) != KZ_OK)
            goto out;
        kz_ctx__progress(ctx, "tables", (long long)i + 1, (long long)g.gl_pathc);
    }
    rc = kz_store__commit(db, ctx);
out:
    if (rc != KZ_OK)
        kz_store__rollback(db);
    free_state(&s);
    kz_store__free_keys(&keys);
    globfree(&g);
    return rc;
}
