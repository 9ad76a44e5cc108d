/*
 * kiez: the command line. Dispatches to one function per command
 * (src/cli/cmd_*.c) after handling the options every command shares.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct command {
    const char *name;
    kz_cmd_fn fn;
    const char *summary;
} commands[] = {
    {"run", kz_cmd_run, "run a project file: import, compute, export"},
    {"init", kz_cmd_init, "create an empty monitoring database"},
    {"import", kz_cmd_import, "import a project's sources into a database"},
    {"compute", kz_cmd_compute, "compute indicators and aggregates in a database"},
    {"export", kz_cmd_export, "write GeoPackage and GeoJSON layers from a database"},
    {"report", kz_cmd_report, "write the HTML atlas from a database"},
    {"count", kz_cmd_count, "count points (and sum capacities) per area"},
    {"nearest", kz_cmd_nearest, "distance from demand points to the nearest facility"},
    {"access", kz_cmd_access, "two-step floating catchment area accessibility"},
    {"moran", kz_cmd_moran, "global Moran's I of a field"},
    {"lisa", kz_cmd_lisa, "local Moran (LISA) clusters of a field"},
    {"classify", kz_cmd_classify, "class breaks of a field"},
    {"correlate", kz_cmd_correlate, "correlation matrix of fields"},
    {"effect", kz_cmd_effect, "difference-in-differences of a registered measure"},
};

static void usage(FILE *to)
{
    size_t i;
    fprintf(to, "usage: kiez COMMAND [options]\n\n"
                "kiez is a small-area monitoring engine.\n\ncommands:\n");
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(to, "\ncommon options: --json, -q, -v, --help, --version\n"
                "exit codes: 0 ok, 1 usage, 2 bad input data, 3 I/O, 4 internal\n"
                "Run 'kiez COMMAND --help' for the options of a command.\n");
}

static void log_to_stderr(int level, const char *message, void *payload)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)payload;
    fprintf(stderr, "kiez: %s: %s\n", names[level < 0 || level > 3 ? 0 : level], message);
}

static void progress_to_stderr(const char *what, long long done, long long total, void *payload)
{
    (void)payload;
    if (total > 0)
        fprintf(stderr, "\r%s: %lld/%lld%s", what, done, total, done >= total ? "\n" : "");
    else
        fprintf(stderr, "\r%s: %lld", what, done);
    fflush(stderr);
}

/* Remove the common options from argv, in place; returns the new argc. */
static int take_common_options(int argc, char **argv, kz_cli *cli)
{
    int i, kept = 0;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            cli->json = 1;
        else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            cli->verbosity = 0;
        else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
            cli->verbosity++;
        else if (strcmp(argv[i], "-vv") == 0)
            cli->verbosity += 2;
        else
            argv[kept++] = argv[i];
    }
    argv[kept] = NULL;
    return kept;
}

int main(int argc, char **argv)
{
    kz_cli cli = {0, 1, NULL};
    size_t i;
    int rc;

    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("kiez %s\n", kz_version());
        return 0;
    }
    if (kz_cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        argc = take_common_options(argc - 1, argv + 1, &cli);
        if (kz_ctx_new(&cli.ctx) != KZ_OK) {
            fprintf(stderr, "kiez: out of memory\n");
            return 4;
        }
        kz_ctx_set_log(cli.ctx, cli.verbosity == 0 ? KZ_LOG_ERROR : cli.verbosity, log_to_stderr,
                       NULL);
        if (cli.verbosity > 0 && isatty(STDERR_FILENO))
            kz_ctx_set_progress(cli.ctx, progress_to_stderr, NULL);
        rc = commands[i].fn(argc, argv + 1, &cli);
        kz_ctx_free(cli.ctx);
        return rc;
    }
    fprintf(stderr, "kiez: unknown command '%s'; run 'kiez --help' for the list\n", argv[1]);
    return 1;
}

int kz_cli_fail(const kz_cli *cli, const char *cmd, int rc)
{
    fprintf(stderr, "kiez %s: %s\n", cmd, kz_ctx_errmsg(cli->ctx));
    return kz_exit_code(rc);
}

int kz_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "kiez %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see 'kiez %s --help'\n", cmd);
    return 1;
}

int kz_cli_db_args(const char **db, const char *cmd, const char *usage, int argc, char **argv,
                   const kz_cli_opt *opts, size_t n_opts)
{
    int i;
    size_t k;
    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        for (k = 0; k < n_opts; k++)
            if (strcmp(argv[i], opts[k].name) == 0 && i + 1 < argc)
                break;
        if (k < n_opts)
            *opts[k].value = argv[++i];
        else if (argv[i][0] == '-')
            return kz_cli_usage_error(cmd, "unknown option or missing value: %s", argv[i]);
        else if (*db == NULL)
            *db = argv[i];
        else
            return kz_cli_usage_error(cmd, "one database only");
    }
    return -1;
}

int kz_cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int kz_cli_parse_double(double *out, const char *text)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || v != v || v > 1e300 || v < -1e300)
        return -1;
    *out = v;
    return 0;
}

int kz_cli_parse_long(long *out, const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0)
        return -1;
    *out = v;
    return 0;
}
