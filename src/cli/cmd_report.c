/* kiez report DB --out DIR [--level L]: write the HTML atlas. */
#include "cli.h"
#include "kiez/report.h"

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
    const kz_cli_opt opts[] = {{"--out", &out}, {"--level", &level}};
    kz_db *db = NULL;
    int rc;
    if ((rc = kz_cli_db_args(&path, "report", usage, argc, argv, opts,
                             sizeof(opts) / sizeof(opts[0]))) >= 0)
        return rc;
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
