/* kiez export: not implemented yet (placeholder until its issue lands). */
#include "cli.h"

int kz_cmd_export(int argc, char **argv, kz_cli *cli)
{
    (void)argc;
    (void)argv;
    (void)cli;
    fprintf(stderr, "kiez export: not implemented in kiez %s\n", kz_version());
    return 4;
}
