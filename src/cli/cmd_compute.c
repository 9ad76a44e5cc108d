/* kiez compute DB [PROJECT.yml]: aggregates, indicators, indices, trends. */
#include "cli.h"

static const char usage[] =
    "usage: kiez compute DB.sqlite [PROJECT.yml]\n"
    "\n"
    "Sum the variables up the area hierarchy and compute every indicator of\n"
    "the catalogue for every level and period; with the project file also its\n"
    "composite indices and trends.\n";

int kz_cmd_compute(int argc, char **argv, kz_cli *cli)
{
    kz_db *db = NULL;
    kz_project *project = NULL;
    int rc;
    if (argc >= 2 && kz_cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2 && argc != 3)
        return kz_cli_usage_error("compute", "give a database and optionally the project file");
    if (argc == 3 && (rc = kz_project_load(&project, cli->ctx, argv[2])) != KZ_OK)
        return kz_cli_fail(cli, "compute", rc);
    if ((rc = kz_db_open(&db, cli->ctx, argv[1])) == KZ_OK)
        rc = kz_compute(db, cli->ctx, project);
    kz_db_close(db);
    kz_project_free(project);
    return rc == KZ_OK ? 0 : kz_cli_fail(cli, "compute", rc);
}
