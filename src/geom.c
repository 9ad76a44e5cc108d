/*
 * GEOS adapter: the only file of the library that includes geos_c.h
 * besides the kernels that need STRtrees (they go through geom.h).
 * Only the reentrant _r API is used (GEOS_USE_ONLY_R_API).
 */
#include "ctx_internal.h"
#include "geom.h"

#include <stdarg.h>
#include <stdio.h>

static void geos_message(const char *message, void *userdata)
{
    kz_ctx *ctx = userdata;
    snprintf(ctx->geos_msg, sizeof(ctx->geos_msg), "%s", message);
}

GEOSContextHandle_t kz_geom__handle(kz_ctx *ctx)
{
    if (ctx->geos == NULL) {
        ctx->geos = GEOS_init_r();
        if (ctx->geos == NULL)
            return NULL;
        GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message, ctx);
        GEOSContext_setNoticeMessageHandler_r(ctx->geos, NULL, NULL);
    }
    return ctx->geos;
}

void kz_geom__finish(kz_ctx *ctx)
{
    if (ctx->geos != NULL) {
        GEOS_finish_r(ctx->geos);
        ctx->geos = NULL;
    }
}
