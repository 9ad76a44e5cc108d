/*
 * Internal helpers shared by the GDAL/OGR adapter files (layer_ogr.c,
 * export_gpkg.c). Includes GDAL headers: only for adapter files.
 */
#ifndef KZ_OGR_INTERNAL_H
#define KZ_OGR_INTERNAL_H

#include "kiez/ctx.h"

#include <gdal.h>

/* Open a vector source read-only with GDAL open options (may be NULL);
 * sets the context error (KZ_E_IO) and returns NULL on failure. */
GDALDatasetH kz_layer__open(kz_ctx *ctx, const char *path, char **open_options);

#endif
