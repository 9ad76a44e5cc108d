/*
 * Shared pieces of the kiez command line. The command line uses only the
 * public API of the library (include/kiez).
 */
#ifndef KZ_CLI_H
#define KZ_CLI_H

#include "kiez/kiez.h"

#include <stdio.h>

/* Options every command accepts. */
typedef struct kz_cli {
    int json;      /* --json: one JSON document on stdout */
    int verbosity; /* -q: 0, default 1, -v: 2, -vv: 3 */
    kz_ctx *ctx;   /* with log and progress wired to stderr */
} kz_cli;

/* Every command: argv[0] is the command name. Returns a process exit code. */
typedef int (*kz_cmd_fn)(int argc, char **argv, kz_cli *cli);

int kz_cmd_run(int argc, char **argv, kz_cli *cli);
int kz_cmd_init(int argc, char **argv, kz_cli *cli);
int kz_cmd_import(int argc, char **argv, kz_cli *cli);
int kz_cmd_compute(int argc, char **argv, kz_cli *cli);
int kz_cmd_export(int argc, char **argv, kz_cli *cli);
int kz_cmd_report(int argc, char **argv, kz_cli *cli);
int kz_cmd_count(int argc, char **argv, kz_cli *cli);
int kz_cmd_nearest(int argc, char **argv, kz_cli *cli);
int kz_cmd_access(int argc, char **argv, kz_cli *cli);
int kz_cmd_moran(int argc, char **argv, kz_cli *cli);
int kz_cmd_lisa(int argc, char **argv, kz_cli *cli);
int kz_cmd_classify(int argc, char **argv, kz_cli *cli);
int kz_cmd_correlate(int argc, char **argv, kz_cli *cli);
int kz_cmd_effect(int argc, char **argv, kz_cli *cli);

/*
 * Report a failed library call: prints "kiez <cmd>: <message>" to stderr
 * and returns the exit code for `rc`.
 */
int kz_cli_fail(const kz_cli *cli, const char *cmd, int rc);

/* Print a usage error ("kiez <cmd>: <msg>; see kiez <cmd> --help") and
 * return exit code 1. */
int kz_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A command's "--name VALUE" option: the value goes to *value. */
typedef struct kz_cli_opt {
    const char *name;
    const char **value;
} kz_cli_opt;

/*
 * Parse "DB [--name VALUE]..." (argv[0] is the command): --help prints
 * `usage` to stdout. Returns -1 to go on, else the exit code: 0 after
 * --help, 1 after a usage error (an unknown option or one without its
 * value, a second database).
 */
int kz_cli_db_args(const char **db, const char *cmd, const char *usage, int argc, char **argv,
                   const kz_cli_opt *opts, size_t n_opts);

/* True if `arg` is --help or -h. */
int kz_cli_is_help(const char *arg);

/* Parse a finite number / a non-negative integer from an option value;
 * returns 0 on success. */
int kz_cli_parse_double(double *out, const char *text);
int kz_cli_parse_long(long *out, const char *text);

#endif
