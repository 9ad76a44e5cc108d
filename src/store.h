/*
 * The SpatiaLite store adapter (store*.c): the only files that include
 * sqlite3.h and spatialite.h. This header itself includes neither. Everything SQL lives behind
 * these functions, with bound parameters and quoted identifiers only.
 */
#ifndef KZ_STORE_H
#define KZ_STORE_H

#include "kiez/db.h"

#include <stddef.h>

/* Forward declarations, so modules that call the store need no SQLite
 * header (C11 allows repeating these typedefs in sqlite3.h). */
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

struct kz_db {
    sqlite3 *sql;
    void *splite;    /* SpatiaLite connection cache */
    char *path;      /* as given, for messages */
    char *open_path; /* as opened: relative paths as "./path" (never a URI) */
    char *crs;
    int srid;
    int in_tx;
    /* Prepared statements reused across calls (store_write.c). */
    sqlite3_stmt *st_area, *st_area_merge, *st_object, *st_finding;
    /* Values added but not yet written (store_values.c). */
    struct kz_value_buffer *values;
};

/* Run SQL without results; on failure sets KZ_E_IO with the SQLite message. */
int kz_store__exec(kz_db *db, kz_ctx *ctx, const char *sql);

/* Prepare a statement; on failure sets KZ_E_INTERNAL. */
int kz_store__prepare(kz_db *db, kz_ctx *ctx, sqlite3_stmt **out, const char *sql);

/* Record the SQLite error of the database as the context error. */
int kz_store__fail(kz_db *db, kz_ctx *ctx, int code, const char *what);

/* Transactions: one per import. rollback is safe to call without one. */
int kz_store__begin(kz_db *db, kz_ctx *ctx);
int kz_store__commit(kz_db *db, kz_ctx *ctx);
void kz_store__rollback(kz_db *db);

/* Bind a string or NULL. */
int kz_store__bind_text(sqlite3_stmt *st, int i, const char *s);

/* A copy of a text column of the current row (caller frees), or NULL for
 * NULL or out of memory. */
char *kz_store__column_dup(sqlite3_stmt *st, int i);

/* The first column of every row of `sql` (?1 bound to `param` unless NULL)
 * as strings; caller frees with kz_store__free_strings(). */
int kz_store__strings(kz_db *db, kz_ctx *ctx, const char *sql, const char *param, char ***out,
                      size_t *n);

/* Step a statement expected to finish (SQLITE_DONE) and reset it. */
int kz_store__step_done(kz_db *db, kz_ctx *ctx, sqlite3_stmt *st, const char *what);

/* For a database built from scratch under a temporary name (kz_run): no
 * fsync, rollback journal in memory (store.c says why this is safe there
 * and only there). */
int kz_store__fast_build(kz_db *db, kz_ctx *ctx);

/* Parse "EPSG:n" into n; returns 0 if the CRS is not of that form. */
int kz_store__srid(const char *crs);

#endif

/* ---- writing (store_write.c) ---- */

struct kz_level_def;

/* Register a level (replacing an earlier import of it with its areas,
 * values and indicator values). rank orders levels finest first. */
int kz_store__put_level(kz_db *db, kz_ctx *ctx, const char *name, const char *title,
                        const char *parent, const char *parent_match, const char *source, int rank);

/* Insert one area. Returns KZ_E_INPUT (with a message naming the key) when
 * the key exists in the level, unless `merge` is set: then the polygons
 * are united. */
int kz_store__insert_area(kz_db *db, kz_ctx *ctx, const char *level, const char *key,
                          const char *name, const unsigned char *wkb, size_t wkb_size, int merge);

/* Build level `level` by dissolving the areas of `child`, grouped by the
 * first `prefix` characters of their keys (0: one area with key/name). */
int kz_store__dissolve(kz_db *db, kz_ctx *ctx, const char *level, const char *child, int prefix,
                       const char *key, const char *name);

/* Set parent_key of every area of `level` from `parent` by key prefix or
 * largest overlap. *orphans receives the number of areas without parent;
 * each is recorded as a finding. */
int kz_store__link_parents(kz_db *db, kz_ctx *ctx, const char *level, const char *parent,
                           int match_overlap, long *orphans);

/* Record an input file; *id receives its source id. */
int kz_store__add_source(kz_db *db, kz_ctx *ctx, const char *kind, const char *path, long long *id);

/* Set the number of records of a source. */
int kz_store__source_records(kz_db *db, kz_ctx *ctx, long long id, long long records);

/* Record a finding of the completeness report (line <= 0: none). */
int kz_store__add_finding(kz_db *db, kz_ctx *ctx, const char *kind, const char *source, long line,
                          const char *level, const char *key, const char *message);

/* ---- values of the variables, as column blocks (store_values.c) ---- */

/* A flag byte of a block: KZ_CELL_ABSENT, or an enum kz_flag with
 * KZ_CELL_COMPUTED set for sums of the child level. */
#define KZ_CELL_ABSENT 0xFF
#define KZ_CELL_COMPUTED 0x40
#define KZ_CELL_FLAG(byte) ((byte)&0x3F)

/* One variable of one level and period: cell i is the level's area keys[i]
 * (key order). value[i] is NaN where there is no number. */
typedef struct kz_store_block {
    const char *level, *period, *variable;
    const char *const *keys; /* set by kz_store__each_block() only */
    size_t n;
    double *value;
    unsigned char *flag;
} kz_store_block;
typedef struct kz_value_buffer kz_value_buffer;

/* Add one value (enum kz_flag) read from source:line. Buffered: KZ_E_INPUT
 * "source:line: key ... has a value ... already" when the area has an
 * imported value for the period and variable already comes from this call
 * or from a later one, kz_store__flush_values() or kz_store__commit(). */
int kz_store__insert_value(kz_db *db, kz_ctx *ctx, const char *level, const char *key,
                           const char *period, const char *variable, double value, int flag,
                           const char *source, long line);
/* Write the buffered values (kz_store__commit does); drop them (rollback). */
int kz_store__flush_values(kz_db *db, kz_ctx *ctx);
void kz_store__drop_values(kz_db *db);
/* Remove every value of a level (before its areas are replaced). */
int kz_store__clear_level_values(kz_db *db, kz_ctx *ctx, const char *level);

/* Blocks of n cells, all absent; free with kz_store__block_free(). */
int kz_store__block_alloc(kz_ctx *ctx, kz_store_block *b, size_t n);
void kz_store__block_free(kz_store_block *b);
/* Read one block into b (b->n must be the level's number of areas; all
 * absent and *found = 0 when there is none); write one (deleted when no
 * cell is present). */
int kz_store__read_block(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                         const char *variable, kz_store_block *b, int *found);
int kz_store__write_block(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                          const char *variable, const kz_store_block *b);
/* Call fn for every block (of level and variable where not NULL; only
 * blocks with computed cells if computed_only), ordered by period, level,
 * variable. The block is valid during the call; fn must not write blocks. */
typedef int (*kz_store_block_fn)(const kz_store_block *b, void *payload);
int kz_store__each_block(kz_db *db, kz_ctx *ctx, const char *level, const char *variable,
                         int computed_only, kz_store_block_fn fn, void *payload);
/* (period, variable) of every block of a level, in that order. Free both
 * with kz_store__free_strings(). */
int kz_store__block_names(kz_db *db, kz_ctx *ctx, const char *level, char ***periods,
                          char ***variables, size_t *n);

/* Indicator values as column blocks (store_indicators.c): one indicator of
 * every area of a level in one period, cell i for the level's i-th key. */
#define KZ_IND_NONE 0xFF /* flag of a cell without a value row */
typedef struct kz_store_ind_block {
    size_t n;
    double *value, *numerator, *denominator; /* NaN = null */
    unsigned char *flag;                     /* enum kz_flag, or KZ_IND_NONE */
} kz_store_ind_block;
/* n cells, all KZ_IND_NONE (clear sets them so again); free with ind_free. */
int kz_store__ind_alloc(kz_ctx *ctx, kz_store_ind_block *b, size_t n);
void kz_store__ind_clear(kz_store_ind_block *b);
void kz_store__ind_free(kz_store_ind_block *b);
/* Read one block into b (b->n = the level's areas; cleared and *found = 0
 * when there is none); write one (deleted when no cell has a row). */
int kz_store__ind_read(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                       const char *indicator, kz_store_ind_block *b, int *found);
int kz_store__ind_write(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        const char *indicator, const kz_store_ind_block *b);
/* Every block of one indicator of a level, periods ascending. */
typedef struct kz_store_ind_history {
    char **period;
    kz_store_ind_block *block;
    size_t n;
} kz_store_ind_history;
int kz_store__ind_history(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                          kz_store_ind_history *h);
void kz_store__free_history(kz_store_ind_history *h);
/* Whether some cell of b has a number. */
int kz_store__ind_any_number(const kz_store_ind_block *b);
/* All blocks of a level in one period, indicators ascending by name. */
typedef struct kz_store_ind_frame {
    const char *level, *period;
    const char *const *keys; /* of the cells, in key order */
    size_t n_cells;
    char **indicator; /* names of the blocks */
    kz_store_ind_block *block;
    size_t n;
} kz_store_ind_frame;
/* fn for the frame of `period`, or of every period of the level in order
 * (period NULL). No statement is open during fn: it may write blocks. */
typedef int (*kz_store_ind_frame_fn)(kz_store_ind_frame *f, void *payload);
int kz_store__each_ind_frame(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                             kz_store_ind_frame_fn fn, void *payload);
/* Index of the block of `indicator` in the frame, or -1. */
long kz_store__ind_find(const kz_store_ind_frame *f, const char *indicator);
/* n doubles to and from 8n little-endian bytes (store_values.c). */
void kz_store__encode_doubles(unsigned char *out, const double *v, size_t n);
void kz_store__decode_doubles(double *v, const unsigned char *in, size_t n);

/* Register an object layer (replacing its objects). */
int kz_store__put_object_layer(kz_db *db, kz_ctx *ctx, const char *name, const char *title,
                               const char *source, const char *category_field,
                               const char *capacity_field);

/* Insert one object (point). capacity_flag: enum kz_flag. */
int kz_store__insert_object(kz_db *db, kz_ctx *ctx, const char *layer, const char *id,
                            const char *name, const char *category, double capacity,
                            int capacity_flag, double x, double y);

/* The keys of a level: keys[i] for i < n, and map from key (or, with
 * by_name, from area name) to i; names shared by several areas map to -2.
 * Free with kz_store__free_keys(). */
struct kz_strmap;
typedef struct kz_level_keys {
    struct kz_strmap *map;
    char **keys;
    size_t n;
} kz_level_keys;
int kz_store__level_keys(kz_db *db, kz_ctx *ctx, const char *level, int by_name,
                         kz_level_keys *out);
void kz_store__free_keys(kz_level_keys *keys);

/* Finish all cached statements (before commit of DDL or close). */
void kz_store__finalize_cache(kz_db *db);

/* Indicator catalogue. */
struct kz_indicator_def;
int kz_store__clear_catalogue(kz_db *db, kz_ctx *ctx);
int kz_store__put_indicator(kz_db *db, kz_ctx *ctx, const struct kz_indicator_def *def, int ord);

/* ---- reading for exports (store_read.c) ---- */

/* Names of the levels, coarsest first (rank ascending). Caller frees the
 * array and strings with kz_store__free_strings(). */
int kz_store__level_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n);
int kz_store__object_layer_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n);
void kz_store__free_strings(char **strings, size_t n);

/* The catalogue, in its order. */
typedef struct kz_store_indicator {
    char *name, *label, *numerator, *denominator, *unit, *polarity, *description, *source;
    char *kind;       /* ratio, zscore, sum, index, class, change, slope */
    char *categories; /* class columns: "1=label;2=label;..." or NULL */
    double scale;
} kz_store_indicator;
int kz_store__catalogue(kz_db *db, kz_ctx *ctx, kz_store_indicator **out, size_t *n);
void kz_store__free_catalogue(kz_store_indicator *rows, size_t n);

/* Latest period with an indicator value on the level; "" when none. */
int kz_store__latest_period(kz_db *db, kz_ctx *ctx, const char *level, char out[11]);

/* One area with the values of the catalogue's indicators (NaN = null). */
typedef struct kz_store_area {
    const char *key, *name, *parent_key;
    const unsigned char *wkb;
    size_t wkb_size;
    const double *values; /* one per catalogue indicator */
} kz_store_area;
typedef int (*kz_store_area_fn)(const kz_store_area *area, void *payload);
int kz_store__each_area(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                        size_t n_indicators, kz_store_area_fn fn, void *payload);

/* Rows of the long series of a level: period by period, area by area,
 * indicators by name; the strings are valid during the call. */
typedef struct kz_store_series {
    const char *key, *period, *indicator;
    double value, numerator, denominator; /* NaN = null */
    int flag;
} kz_store_series;
typedef int (*kz_store_series_fn)(const kz_store_series *row, void *payload);
int kz_store__each_series(kz_db *db, kz_ctx *ctx, const char *level, kz_store_series_fn fn,
                          void *payload);
/* The rows of a level's long and wide GeoPackage tables: the series into
 * "<level>_series" (key, period, indicator, value, numerator, denominator,
 * flag); for each of the n_periods periods one row per area into
 * "<level>_periods" (key, period_start, period_end = ends[i], then the
 * catalogue's columns). */
typedef struct kz_store_level_tables {
    const char *level;
    char **periods, **ends; /* ascending; none when n_periods is 0 */
    size_t n_periods;
} kz_store_level_tables;
/* Fill those tables, created empty, of the GeoPackage at gpkg_path (which
 * no other connection has open), period by period, area by area. One
 * transaction: all rows or none. */
int kz_store__fill_tables(kz_db *db, kz_ctx *ctx, const char *gpkg_path,
                          const kz_store_level_tables *levels, size_t n_levels,
                          const kz_store_indicator *cat, size_t n_cat);
/* Free SQL text from sqlite3_mprintf(). */
void kz_store__free_sql(char *sql);

/* Objects of a layer. */
typedef struct kz_store_object {
    const char *id, *name, *category;
    double capacity; /* NaN = null */
    double x, y;
} kz_store_object;
typedef int (*kz_store_object_fn)(const kz_store_object *obj, void *payload);
int kz_store__each_object(kz_db *db, kz_ctx *ctx, const char *layer, kz_store_object_fn fn,
                          void *payload);

/* Findings (completeness report). */
typedef struct kz_store_finding {
    const char *kind, *source, *level, *key, *message;
    long line;
} kz_store_finding;
typedef int (*kz_store_finding_fn)(const kz_store_finding *f, void *payload);
int kz_store__each_finding(kz_db *db, kz_ctx *ctx, kz_store_finding_fn fn, void *payload);

/* Record a finished run (provenance): the project file, the library
 * version, start time, and the inputs (paths, sizes, records) as JSON. */
int kz_store__record_run(kz_db *db, kz_ctx *ctx, const char *project, const char *started);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void kz_store__now(char out[21]);

/* ---- derived values: indices and trends (store_derived.c) ---- */

/* Remove every derived catalogue entry (kind other than ratio) and its values. */
int kz_store__clear_derived(kz_db *db, kz_ctx *ctx);

/* Add a derived catalogue entry after the existing ones. */
int kz_store__put_derived(kz_db *db, kz_ctx *ctx, const char *name, const char *label,
                          const char *unit, const char *polarity, const char *kind,
                          const char *description);

/* Set the class labels of a derived class column ("1=hoch;2=mittel;..."). */
int kz_store__set_categories(kz_db *db, kz_ctx *ctx, const char *name, const char *categories);
/* The variables a derived column divides by, ';'-separated: disclosure
 * withholds its value wherever one of them is withheld. */
int kz_store__set_inputs(kz_db *db, kz_ctx *ctx, const char *name, const char *inputs);

/* Latest period with a value of `indicator` on `level`; "" if none. */
int kz_store__latest_period_of(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                               char out[11]);

/* Values of `indicator` at `period` for the areas keys[0..n) (NaN when
 * missing or suppressed). */
int kz_store__indicator_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                               const char *indicator, char *const *keys, size_t n, double *values);

/* Store values of a derived indicator (NaN = missing, flag 1). */
int kz_store__put_values(kz_db *db, kz_ctx *ctx, const char *level, const char *period,
                         const char *indicator, char *const *keys, size_t n, const double *values);

/* One area's series of an indicator between two periods, for trends. */
typedef int (*kz_store_point_fn)(const char *key, const char *period, double value, int flag,
                                 void *payload);
int kz_store__each_point(kz_db *db, kz_ctx *ctx, const char *level, const char *indicator,
                         const char *from, const char *to, kz_store_point_fn fn, void *payload);

/* ---- statistics that are not per area (store_derived.c) ---- */

/* Remove the statistics of one analysis kind (e.g. "moran") or, with
 * NULL, all. */
int kz_store__clear_statistics(kz_db *db, kz_ctx *ctx, const char *analysis);

/* Add one statistic: e.g. ("moran", "plr", "2020-12-31", "S1", "I", 0.52,
 * NULL) or ("correlation:pearson", "plr", period, "S1|S3", "r", 0.8, NULL).
 * NaN values are stored as NULL. Exported as the table `statistics`. */
int kz_store__put_statistic(kz_db *db, kz_ctx *ctx, const char *analysis, const char *level,
                            const char *period, const char *subject, const char *measure,
                            double value, const char *note);

typedef struct kz_store_statistic {
    const char *analysis, *level, *period, *subject, *measure, *note;
    double value; /* NaN = null */
} kz_store_statistic;
typedef int (*kz_store_statistic_fn)(const kz_store_statistic *s, void *payload);
int kz_store__each_statistic(kz_db *db, kz_ctx *ctx, kz_store_statistic_fn fn, void *payload);

/* The periods of a level that have indicator values, ascending. Caller
 * frees with kz_store__free_strings(). */
int kz_store__level_periods(kz_db *db, kz_ctx *ctx, const char *level, char ***out, size_t *n);

/* The latest recorded run (provenance); fields are "" when there is none.
 * Caller frees *inputs (JSON text) with free(). */
typedef struct kz_store_run {
    char started[32], finished[32], version[32];
    char project[1024];
    char *inputs;
} kz_store_run;
int kz_store__last_run(kz_db *db, kz_ctx *ctx, kz_store_run *out);
