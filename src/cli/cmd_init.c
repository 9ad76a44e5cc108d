/* kiez init DB --crs EPSG:n: create an empty monitoring database. */
#include "cli.h"

#include <string.h>

static const char usage[] = "usage: kiez init DB.sqlite --crs EPSG:n\n"
                            "\n"
                            "Create an empty monitoring database whose geometries are in the\n"
                            "given CRS. Fails if DB exists.\n";

int kz_cmd_init(int argc, char **argv, kz_cli *cli)
{
    const char *path = NULL, *crs = NULL;
    kz_db *db = NULL;
    int i, rc;
    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--crs") == 0) {
            if (++i == argc)
                return kz_cli_usage_error("init", "--crs needs a value such as EPSG:25833");
            crs = argv[i];
        } else if (argv[i][0] == '-') {
            return kz_cli_usage_error("init", "unknown option %s", argv[i]);
        } else if (path == NULL) {
            path = argv[i];
        } else {
            return kz_cli_usage_error("init", "one database only");
        }
    }
    if (path == NULL || crs == NULL)
        return kz_cli_usage_error("init", "give a database file and --crs");
    if ((rc = kz_db_create(&db, cli->ctx, path, crs)) != KZ_OK)
        return kz_cli_fail(cli, "init", rc);
    kz_db_close(db);
    return 0;
}
