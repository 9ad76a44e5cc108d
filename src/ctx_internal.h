/*
 * Internal side of kz_ctx, shared by every module of the library.
 * Not installed; not API.
 */
#ifndef KZ_CTX_INTERNAL_H
#define KZ_CTX_INTERNAL_H

#include "kiez/ctx.h"

#include <stddef.h>

#if defined(__GNUC__)
#define KZ_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KZ_PRINTF(f, a)
#endif

/* Longest error message kept on a context; longer ones are cut. */
#define KZ_ERRMSG_MAX 2048

struct GEOSContextHandle_HS;

struct kz_ctx {
    char errmsg[KZ_ERRMSG_MAX];
    int errcode;
    kz_log_fn log_fn;
    void *log_payload;
    int log_max;
    kz_progress_fn progress_fn;
    void *progress_payload;
    long long warnings;
    /* GEOS handle, created on first use by the GEOS adapter (geom.c). */
    struct GEOSContextHandle_HS *geos;
    /* Last message GEOS reported through its handler, for error texts. */
    char geos_msg[512];
};

/*
 * Record an error on the context and return `code`, so callers can write
 * `return kz_ctx__error(ctx, KZ_E_INPUT, "%s:%ld: ...", path, line);`.
 */
int kz_ctx__error(kz_ctx *ctx, int code, const char *fmt, ...) KZ_PRINTF(3, 4);

/* Prefix the current error message with "<prefix>: ", keeping the code. */
void kz_ctx__error_prefix(kz_ctx *ctx, const char *fmt, ...) KZ_PRINTF(2, 3);

/* Clear the error state. */
void kz_ctx__clear(kz_ctx *ctx);

/* Log a message at `level`; warnings are counted even without a callback. */
void kz_ctx__log(kz_ctx *ctx, int level, const char *fmt, ...) KZ_PRINTF(3, 4);

/* Report progress of a long step (no-op without a callback). */
void kz_ctx__progress(kz_ctx *ctx, const char *what, long long done, long long total);

/* Release the GEOS handle (geom.c); called by kz_ctx_free(). */
void kz_geom__finish(kz_ctx *ctx);

#endif
