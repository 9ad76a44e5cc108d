/*
 * Folders for outputs (run.c, report_html.c).
 */
#ifndef KZ_DIRS_H
#define KZ_DIRS_H

#include "kiez/ctx.h"

/* mkdir -p `dir` and check that it is writable; `what` names it in
 * messages ("output folder", "atlas folder"). */
int kz_dirs__make(kz_ctx *ctx, const char *dir, const char *what);

#endif
