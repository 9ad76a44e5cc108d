/*
 * The context: error state, logging and progress. No dependency.
 */
#include "ctx_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kz_exit_code(int result)
{
    switch (result) {
    case KZ_OK:
        return 0;
    case KZ_E_USAGE:
        return 1;
    case KZ_E_INPUT:
        return 2;
    case KZ_E_IO:
        return 3;
    default:
        return 4;
    }
}

const char *kz_version(void)
{
    return KZ_VERSION;
}

int kz_ctx_new(kz_ctx **out)
{
    kz_ctx *ctx = calloc(1, sizeof(*ctx));
    *out = NULL;
    if (ctx == NULL)
        return KZ_E_NOMEM;
    ctx->log_max = KZ_LOG_WARN;
    *out = ctx;
    return KZ_OK;
}

void kz_ctx_free(kz_ctx *ctx)
{
    if (ctx == NULL)
        return;
    kz_geom__finish(ctx);
    free(ctx);
}

const char *kz_ctx_errmsg(const kz_ctx *ctx)
{
    return ctx->errmsg;
}

void kz_ctx_set_log(kz_ctx *ctx, int max_level, kz_log_fn fn, void *payload)
{
    ctx->log_max = max_level;
    ctx->log_fn = fn;
    ctx->log_payload = payload;
}

void kz_ctx_set_progress(kz_ctx *ctx, kz_progress_fn fn, void *payload)
{
    ctx->progress_fn = fn;
    ctx->progress_payload = payload;
}

long long kz_ctx_warning_count(const kz_ctx *ctx)
{
    return ctx->warnings;
}

int kz_ctx__error(kz_ctx *ctx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
    va_end(ap);
    ctx->errcode = code;
    return code;
}

void kz_ctx__error_prefix(kz_ctx *ctx, const char *fmt, ...)
{
    char old[KZ_ERRMSG_MAX];
    size_t n;
    va_list ap;
    memcpy(old, ctx->errmsg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
    va_end(ap);
    n = strlen(ctx->errmsg);
    /* Messages longer than the buffer are cut, never overrun. */
    if (n + 2 < sizeof(ctx->errmsg)) {
        memcpy(ctx->errmsg + n, ": ", 2);
        n += 2;
        memcpy(ctx->errmsg + n, old, sizeof(ctx->errmsg) - n - 1);
        ctx->errmsg[sizeof(ctx->errmsg) - 1] = '\0';
    }
}

void kz_ctx__clear(kz_ctx *ctx)
{
    ctx->errmsg[0] = '\0';
    ctx->errcode = KZ_OK;
}

void kz_ctx__log(kz_ctx *ctx, int level, const char *fmt, ...)
{
    char line[KZ_ERRMSG_MAX];
    va_list ap;
    if (level == KZ_LOG_WARN)
        ctx->warnings++;
    if (ctx->log_fn == NULL || level > ctx->log_max)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ctx->log_fn(level, line, ctx->log_payload);
}

void kz_ctx__progress(kz_ctx *ctx, const char *what, long long done, long long total)
{
    if (ctx->progress_fn != NULL)
        ctx->progress_fn(what, done, total, ctx->progress_payload);
}
