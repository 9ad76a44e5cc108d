/* kiez run PROJECT.yml [--out DIR]: the whole pipeline. */
#include "cli.h"

#include <jansson.h>
#include <string.h>

static const char usage[] =
    "usage: kiez run PROJECT.yml [--out DIR] [--json] [-q|-v]\n"
    "\n"
    "Build the monitoring database of a project from its sources, compute the\n"
    "indicators and aggregates, and write the outputs (GeoPackage, GeoJSON)\n"
    "into DIR (default: outputs.dir of the project). All or nothing: a failed\n"
    "run leaves earlier outputs untouched.\n";

int kz_cmd_run(int argc, char **argv, kz_cli *cli)
{
    const char *project_path = NULL, *out = NULL;
    kz_project *project = NULL;
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (kz_cli_is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "-o") == 0) {
            if (++i == argc)
                return kz_cli_usage_error("run", "%s needs a folder", argv[i - 1]);
            out = argv[i];
        } else if (argv[i][0] == '-') {
            return kz_cli_usage_error("run", "unknown option %s", argv[i]);
        } else if (project_path == NULL) {
            project_path = argv[i];
        } else {
            return kz_cli_usage_error("run", "one project file only");
        }
    }
    if (project_path == NULL)
        return kz_cli_usage_error("run", "no project file given");
    if ((rc = kz_project_load(&project, cli->ctx, project_path)) != KZ_OK)
        return kz_cli_fail(cli, "run", rc);
    rc = kz_run(cli->ctx, project, out);
    if (rc != KZ_OK) {
        kz_project_free(project);
        return kz_cli_fail(cli, "run", rc);
    }
    if (cli->json) {
        json_t *doc = json_pack("{s:s, s:s, s:I}", "project", project->name, "status", "ok",
                                "warnings", (json_int_t)kz_ctx_warning_count(cli->ctx));
        if (doc != NULL)
            json_dumpf(doc, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
        json_decref(doc);
    } else if (cli->verbosity > 0)
        fprintf(stderr, "kiez run: %s done (%lld warning(s))\n", project->name,
                kz_ctx_warning_count(cli->ctx));
    kz_project_free(project);
    return 0;
}
