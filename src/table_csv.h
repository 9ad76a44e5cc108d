/*
 * Internal entry points of the CSV reader (table_csv.c), for tests and
 * fuzzers: the same reader as kz_csv_read() on a stream or a buffer, with
 * the chunk size as a parameter so that tests can run at every chunk size.
 * Not installed; not API.
 */
#ifndef KZ_TABLE_CSV_H
#define KZ_TABLE_CSV_H

#include "kiez/table.h"

#include <stddef.h>
#include <stdio.h>

/* Bytes read and parsed per step by kz_csv_read(). */
#define KZ_CSV__CHUNK (64 * 1024)

/* Bytes at the start of a file that dialect detection looks at. */
#define KZ_CSV__SAMPLE (64 * 1024)

/*
 * kz_csv_read() on an open stream, read `chunk` bytes at a time (0 =
 * KZ_CSV__CHUNK). `name` names the input in messages. Does not close `fp`.
 */
int kz_csv__read_stream(kz_ctx *ctx, FILE *fp, const char *name, size_t chunk,
                        kz_csv_dialect *dialect, kz_csv_row_fn fn, void *payload);

/*
 * kz_csv_read() on `size` bytes at `data` (borrowed), fed `chunk` bytes at a
 * time (0 = KZ_CSV__CHUNK). `name` names the input in messages.
 */
int kz_csv__read_buffer(kz_ctx *ctx, const void *data, size_t size, const char *name, size_t chunk,
                        kz_csv_dialect *dialect, kz_csv_row_fn fn, void *payload);

/*
 * Allocation-failure injection, for tests only (as in project_internal.h).
 * After this call, the first `n` allocations the reader makes itself
 * (its buffers and libcsv's field buffer, which grows through the reader's
 * allocator) succeed, the next one and all later ones fail (libcsv retries a
 * failed growth with smaller sizes). n < 0 switches injection off (the
 * default). Process-wide, not thread-safe.
 */
void kz_csv__set_alloc_fail_after(long n);

/* 1 if the injected failure has happened since the last
 * kz_csv__set_alloc_fail_after(), else 0. */
int kz_csv__alloc_failed(void);

#endif
