/*
 * What the coverage commands (kiez count, nearest, access) share: their
 * common options, reading the demand and facility layers, the numeric
 * fields and the per-area output. Internal to the command line.
 *
 * Functions that return an int return 0 to go on, else the process exit
 * code after a message on stderr ("kiez <cmd>: ..."), except
 * kz_cli_cov_parse (-1 to go on: 0 is the exit code after --help).
 */
#ifndef KZ_CLI_COVERAGE_ARGS_H
#define KZ_CLI_COVERAGE_ARGS_H

#include "cli.h"
#include "kiez/coverage.h"
#include "kiez/layer.h"

#include <jansson.h>

/* The options the coverage commands share. */
typedef struct kz_cov_args {
    const char *pos[2]; /* the two sources: AREAS POINTS or DEMAND FACILITIES */
    const char *areas_src, *key, *label, *crs, *outpath, *layer_name, *threads_s;
    long threads; /* --threads, 0 = one per core */
} kz_cov_args;

enum {
    KZ_COV_AREAS = 1,      /* accept --areas AREAS and --crs CRS */
    KZ_COV_THREADS_NOW = 2 /* check --threads as it is read, not in kz_cli_cov_check */
};

/*
 * Parse argv (argv[0] = the command): --help, the command's own options,
 * --key, --label, -o/--output, --layer, --threads (and with KZ_COV_AREAS
 * --areas and --crs), then exactly two sources; "needs" names them in the
 * message when fewer are given (e.g. "DEMAND and FACILITIES").
 */
int kz_cli_cov_parse(kz_cov_args *a, const char *cmd, int argc, char **argv, const kz_cli_opt *own,
                     size_t n_own, int flags, const char *needs, void (*help)(void));

/* After the command's own checks: --threads is a number, --key and --label
 * only with --areas. */
int kz_cli_cov_check(kz_cov_args *a, const char *cmd);

/* WKB arrays of an area layer for the kernels; free with _free(). 0 or -1. */
int kz_cli_cov_area_set(kz_area_set *set, const kz_layer *areas);
void kz_cli_cov_area_set_free(kz_area_set *set);

/*
 * A numeric field of every feature (capacity, population) into a new array
 * *out. Numbers stored as text are parsed with kz_value_parse (decimal
 * point, no thousands separator). Missing or unreadable values count as 0;
 * how many (*bad), and the first feature, are reported on stderr.
 */
int kz_cli_cov_weights(double **out, size_t *bad, const char *cmd, const kz_layer *l, size_t f,
                       const char *field);

/* The layers of kiez nearest and access; zero it before use. */
typedef struct kz_cov_layers {
    kz_layer *areas, *demand, *fac; /* areas only with --areas */
    kz_point_set dem, fpts;         /* x, y, n of demand and facilities */
    kz_area_set set;                /* the areas, after kz_cli_cov_locate */
    int *where;                     /* area of each demand point, ditto */
} kz_cov_layers;

/*
 * Read --areas (if given), DEMAND with `demand_field` and FACILITIES with
 * `fac_field` (each may be NULL), all in --crs, else the CRS of the areas,
 * else of DEMAND, which must be projected.
 */
int kz_cli_cov_load(kz_cov_layers *l, kz_cli *cli, const char *cmd, const kz_cov_args *a,
                    const char *demand_field, const char *fac_field);

/* The area of every demand point (l->where, l->set). */
int kz_cli_cov_locate(kz_cov_layers *l, kz_cli *cli, const char *cmd, int threads);

void kz_cli_cov_layers_free(kz_cov_layers *l);

/* JSON number, or null for NaN / infinity. */
json_t *kz_cli_cov_num(double v);

/* {"fid": ..., "key": ..., "name": ...} of area k (key and name if set). */
json_t *kz_cli_cov_area_json(const kz_layer *areas, size_t k);

/* The first column of a table row: the key of area k with --key, else its fid. */
void kz_cli_cov_print_area(const kz_layer *areas, size_t k, int by_key);

/* Print doc to stdout (indented, 15 digits, a newline) and release it. */
int kz_cli_cov_print_json(const char *cmd, json_t *doc);

/* Print `doc` like kz_cli_cov_print_json() with a last member "results":
 * the n objects row(i, payload) returns (new references), each dumped on
 * its own line as it is made, so a million demand points need no
 * million-node tree (jansson still writes every byte). Frees doc. */
typedef json_t *(*kz_cli_cov_row_fn)(size_t i, void *payload);
int kz_cli_cov_print_json_rows(const char *cmd, json_t *doc, size_t n, kz_cli_cov_row_fn row,
                               void *payload);

/* "kiez <cmd>: out of memory" and exit code 4. */
int kz_cli_cov_nomem(const char *cmd);

#endif
