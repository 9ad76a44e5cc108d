/* kiez compute DB: aggregates and indicators. */
#include "cli.h"

static const char usage[] = "usage: kiez compute DB.sqlite\n"
                            "\n"
                            "Sum the variables up the area hierarchy and compute every\n"
                            "indicator of the catalogue for every level and period.\n";

int kz_cmd_compute(int argc, char **argv, kz_cli *cli)
{
    kz_db *db = NULL;
    int rc;
    if (argc >= 2 && kz_cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 2)
        return kz_cli_usage_error("compute", "give one database");
    if ((rc = kz_db_open(&db, cli->ctx, argv[1])) == KZ_OK)
        rc = kz_compute(db, cli->ctx);
    kz_db_close(db);
    return rc == KZ_OK ? 0 : kz_cli_fail(cli, "compute", rc);
}
