/*
 * Folders and file names for outputs (run.c, report_html.c, export_ogr.c,
 * store.c).
 */
#ifndef KZ_DIRS_H
#define KZ_DIRS_H

#include "kiez/ctx.h"

/* mkdir -p `dir` and check that it is writable; `what` names it in
 * messages ("output folder", "atlas folder"). */
int kz_dirs__make(kz_ctx *ctx, const char *dir, const char *what);

/* "./" for a relative path that does not start with "./" or "../", else
 * "": the prefix under which SQLite, also inside GDAL, opens `path` as a
 * file name. This SQLite reads names that begin with "file:" as URIs
 * (SQLITE_USE_URI); "./file:x" it takes as a file. Use as
 * "%s%s", kz_dirs__dot(path), path. */
const char *kz_dirs__dot(const char *path);

#endif
