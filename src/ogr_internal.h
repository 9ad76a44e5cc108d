/*
 * Internal helpers shared by the GDAL/OGR adapter files (layer_*.c,
 * export_*.c). Includes GDAL headers: only for adapter files.
 */
#ifndef KZ_OGR_INTERNAL_H
#define KZ_OGR_INTERNAL_H

#include "kiez/ctx.h"

#include <gdal.h>

/* GDALAllRegister() once per process (pthread_once): GDAL does not
 * promise that two threads may register drivers at the same time, and
 * kz_run() exports from two threads. */
void kz_ogr__register(void);

/* Open a vector source read-only with GDAL open options (may be NULL);
 * sets the context error (KZ_E_IO) and returns NULL on failure. */
GDALDatasetH kz_layer__open(kz_ctx *ctx, const char *path, char **open_options);

#endif
