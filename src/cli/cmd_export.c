/* kiez export DB [--gpkg FILE] [--geojson DIR]: write the outputs. */
#include "cli.h"

static const char usage[] =
    "usage: kiez export DB.sqlite [--gpkg FILE.gpkg] [--geojson DIR]\n"
    "\n"
    "Write a GeoPackage (one layer per level with the latest indicators,\n"
    "<level>_series, object layers, indicator_catalogue, findings) and/or one\n"
    "RFC 7946 GeoJSON per level into DIR.\n";

int kz_cmd_export(int argc, char **argv, kz_cli *cli)
{
    const char *path = NULL, *gpkg = NULL, *geojson = NULL;
    const kz_cli_opt opts[] = {{"--gpkg", &gpkg}, {"--geojson", &geojson}};
    kz_db *db = NULL;
    int rc;
    if ((rc = kz_cli_db_args(&path, "export", usage, argc, argv, opts,
                             sizeof(opts) / sizeof(opts[0]))) >= 0)
        return rc;
    if (path == NULL || (gpkg == NULL && geojson == NULL))
        return kz_cli_usage_error("export", "give a database and --gpkg and/or --geojson");
    if ((rc = kz_db_open(&db, cli->ctx, path)) != KZ_OK)
        return kz_cli_fail(cli, "export", rc);
    if (gpkg != NULL)
        rc = kz_export_gpkg(db, cli->ctx, gpkg);
    if (rc == KZ_OK && geojson != NULL)
        rc = kz_export_geojson(db, cli->ctx, geojson);
    kz_db_close(db);
    return rc == KZ_OK ? 0 : kz_cli_fail(cli, "export", rc);
}
