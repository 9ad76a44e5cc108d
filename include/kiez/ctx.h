/*
 * kz_ctx: the per-thread context. It owns the error state and the log and
 * progress callbacks; adapters hang their library handles (GEOS, PROJ) off
 * it. There are no globals: two contexts in two threads never interfere.
 */
#ifndef KIEZ_CTX_H
#define KIEZ_CTX_H

#include "kiez/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kz_ctx kz_ctx;

enum kz_log_level { KZ_LOG_ERROR = 0, KZ_LOG_WARN = 1, KZ_LOG_INFO = 2, KZ_LOG_DEBUG = 3 };

/* Receives every log line (without trailing newline). */
typedef void (*kz_log_fn)(int level, const char *message, void *payload);
/* Receives progress of long steps: `done` of `total` units of `what`. */
typedef void (*kz_progress_fn)(const char *what, long long done, long long total,
                               void *payload);

/**
 * Create a context.
 * \param out receives the context; caller frees with kz_ctx_free().
 * \return KZ_OK or KZ_E_NOMEM.
 */
KZ_API int kz_ctx_new(kz_ctx **out);

/* Free a context and every library handle it owns. NULL is a no-op. */
KZ_API void kz_ctx_free(kz_ctx *ctx);

/* The message of the last error, or "" when there is none. Borrowed: valid
 * until the next call that fails on this context. */
KZ_API const char *kz_ctx_errmsg(const kz_ctx *ctx);

/* Install a log callback; messages below `max_level` severity are dropped.
 * Without a callback nothing is logged. */
KZ_API void kz_ctx_set_log(kz_ctx *ctx, int max_level, kz_log_fn fn, void *payload);

/* Install a progress callback (NULL removes it). */
KZ_API void kz_ctx_set_progress(kz_ctx *ctx, kz_progress_fn fn, void *payload);

/* Number of warnings logged since the context was created. */
KZ_API long long kz_ctx_warning_count(const kz_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
