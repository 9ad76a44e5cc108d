/* kiez report DB --out DIR [--level L]: write the HTML atlas. */
#include "cli.h"
#include "kiez/report.h"

#include <string.h>

static const char usage[] =
    "usage: kiez report DB.sqlite --out DIR [--level LEVEL]\n"
    "\n"
    "Write the HTML atlas of a monitoring database into DIR: index.html with a\n"
    "map per indicator and a table of the areas, and one page per area\n"
    "(gebiet-<key>.html) with its position, its indicators against the parent\n"
    "area and the city, traffic lights, trends and the facilities inside it.\n"
    "A static site: open DIR/index.html in any browser, no server or network.\n"
    "\n"
    "  --out DIR      folder of the atlas (created if missing)\n"
    "  --level LEVEL  level of the area pages (default: the finest level)\n";

int kz_cmd_report(int argc, char **argv, kz_cli *cli)
{
    const char *path = NULL, *out = NULL, *level = NULL;
    kz_db *db = NULL;
    int i, rc;
    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--level") == 0 && i + 1 < argc) {
            level = argv[++i];
        } else if (argv[i][0] == '-') {
            return kz_cli_usage_error("report", "unknown option or missing value: %s", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return kz_cli_usage_error("report", "one database only");
        }
    }
    if (path == NULL || out == NULL)
        return kz_cli_usage_error("report", "give a database and --out DIR");
    if ((rc = kz_db_open(&db, cli->ctx, path)) != KZ_OK)
        return kz_cli_fail(cli, "report", rc);
    rc = kz_report_write(db, cli->ctx, out, level);
    kz_db_close(db);
    if (rc != KZ_OK)
        return kz_cli_fail(cli, "report", rc);
    if (cli->verbosity > 0)
        fprintf(stderr, "kiez report: %s/index.html\n", out);
    return 0;
}
