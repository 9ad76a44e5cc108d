/*
 * Internal side of the project-file parser (project.c), for the unit tests
 * and the fuzz harness. Not installed; not API.
 */
#ifndef KZ_PROJECT_INTERNAL_H
#define KZ_PROJECT_INTERNAL_H

#include "kiez/project.h"

#include <stddef.h>

/* Flags of kz_project__parse_buffer(). */
#define KZ_PROJECT__NO_FS                                                                          \
    1u /* do not touch the file system: sources are                                                \
          kept as written, neither resolved nor checked                                            \
          (for the fuzzer: glob() on hostile patterns                                              \
          can walk the whole disk) */

/**
 * Parse and validate a project held in memory, exactly as kz_project_load()
 * does with the contents of a file.
 *
 * \param buf, len the YAML text; need not be NUL-terminated; may contain NULs
 *        (they are a syntax error).
 * \param path_for_messages named in every error message; its folder is the
 *        project folder that relative sources resolve against. Must not be NULL.
 * \param flags 0 or KZ_PROJECT__NO_FS.
 * \param out receives the project; caller frees with kz_project_free().
 *        Set to NULL on failure.
 * \return KZ_OK, KZ_E_USAGE (invalid project), KZ_E_NOMEM.
 */
int kz_project__parse_buffer(kz_project **out, kz_ctx *ctx, const char *buf, size_t len,
                             const char *path_for_messages, unsigned flags);

/*
 * Allocation-failure injection, for tests only. After this call, the first
 * `n` allocations that project.c makes itself (malloc, calloc, realloc,
 * strdup; libyaml's, glob's and regcomp's own allocations are not counted)
 * succeed and the next one fails; later ones succeed again. n < 0 switches
 * injection off (the default). The state is process-wide and not
 * thread-safe: the one exception to "no globals", acceptable for a test hook.
 */
void kz_project__set_alloc_fail_after(long n);

/* 1 if the injected failure has happened since the last
 * kz_project__set_alloc_fail_after(), else 0. */
int kz_project__alloc_failed(void);

#endif
