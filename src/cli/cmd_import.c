/* kiez import DB PROJECT.yml: import a project's sources into a database. */
#include "cli.h"

static const char usage[] =
    "usage: kiez import DB.sqlite PROJECT.yml\n"
    "\n"
    "Import the levels, tables, objects and indicator catalogue of a project\n"
    "into an existing database (see kiez init). Each import is one\n"
    "transaction: a failing one leaves the database as it was.\n";

int kz_cmd_import(int argc, char **argv, kz_cli *cli)
{
    kz_db *db = NULL;
    kz_project *project = NULL;
    int rc;
    if (argc >= 2 && kz_cli_is_help(argv[1])) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc != 3)
        return kz_cli_usage_error("import", "give a database and a project file");
    if ((rc = kz_project_load(&project, cli->ctx, argv[2])) != KZ_OK)
        return kz_cli_fail(cli, "import", rc);
    if ((rc = kz_db_open(&db, cli->ctx, argv[1])) == KZ_OK)
        rc = kz_import_project(db, cli->ctx, project);
    kz_db_close(db);
    kz_project_free(project);
    return rc == KZ_OK ? 0 : kz_cli_fail(cli, "import", rc);
}
