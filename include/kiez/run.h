/*
 * The whole pipeline of a project file: import, compute, export.
 */
#ifndef KIEZ_RUN_H
#define KIEZ_RUN_H

#include "kiez/common.h"
#include "kiez/ctx.h"
#include "kiez/project.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Run a project: build its monitoring database from scratch, compute, and
 * write the outputs into `out_dir` (NULL: the project's outputs.dir).
 *
 * All-or-nothing: the database is built under a temporary name and the
 * outputs in a staging folder; only when everything succeeded are they
 * moved into place. A failed or killed run leaves the previous database and
 * outputs as they were.
 * \return KZ_OK or the code of the first failure (message on the context).
 */
KZ_API int kz_run(kz_ctx *ctx, const kz_project *project, const char *out_dir);

#ifdef __cplusplus
}
#endif
#endif
