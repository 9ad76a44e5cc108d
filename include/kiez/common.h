/*
 * Definitions shared by every public header: export macro, result codes,
 * version.
 */
#ifndef KIEZ_COMMON_H
#define KIEZ_COMMON_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KZ_BUILDING_SHARED)
#define KZ_API __attribute__((visibility("default")))
#else
#define KZ_API
#endif

#define KZ_VERSION_MAJOR 0
#define KZ_VERSION_MINOR 1
#define KZ_VERSION_PATCH 0
#define KZ_VERSION "0.1.0"

/*
 * Result codes of every fallible function. Append only: scripts depend on
 * the process exit codes derived from them (see kz_exit_code()).
 */
enum kz_result {
    KZ_OK = 0,
    KZ_E_USAGE = 1,    /* wrong arguments or project settings */
    KZ_E_INPUT = 2,    /* bad input data: names file, line or feature */
    KZ_E_IO = 3,       /* cannot read or write a file or database */
    KZ_E_INTERNAL = 4, /* a bug or an unexpected library failure */
    KZ_E_NOMEM = 5     /* allocation failed (exit code 4) */
};

/* The process exit code for a result code: 0 ok, 1 usage, 2 bad input,
 * 3 I/O, 4 internal. */
KZ_API int kz_exit_code(int result);

/* The library version string, e.g. "0.1.0". Borrowed, static. */
KZ_API const char *kz_version(void);

#ifdef __cplusplus
}
#endif
#endif
