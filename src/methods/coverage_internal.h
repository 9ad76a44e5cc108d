/*
 * Shared pieces of the coverage kernels (coverage_*.c): a parallel loop
 * over index ranges and a uniform grid over points. Not API.
 */
#ifndef KZ_COVERAGE_INTERNAL_H
#define KZ_COVERAGE_INTERNAL_H

#include "kiez/coverage.h"

#include <stddef.h>

/* Number of threads for `requested` (0 = one per core), at most one per
 * `min_chunk` items of work and at most 64. */
int kz_coverage__threads(int requested, size_t n, size_t min_chunk);

/*
 * Run fn(begin, end, thread, arg) over [0, n) in chunks of `chunk` items on
 * `threads` threads (dynamic scheduling; each item is handled exactly once,
 * so results written per item do not depend on the thread count). `thread`
 * is 0 .. threads-1, for per-thread scratch. Runs inline when threads <= 1
 * or a thread cannot be started.
 */
void kz_coverage__parallel(int threads, size_t n, size_t chunk,
                           void (*fn)(size_t begin, size_t end, int thread, void *arg), void *arg);

/* A uniform grid over n points (CSR layout: the points of cell c are
 * idx[start[c] .. start[c+1]), in ascending point order). */
typedef struct kz_pgrid {
    const double *x, *y;
    size_t n;
    double x0, y0, cell;
    long nx, ny;
    size_t *start; /* nx*ny + 1 */
    size_t *idx;   /* points with finite coordinates, by cell */
} kz_pgrid;

/* Build a grid with cells of about `cell` units (<= 0: chosen for about two
 * points per cell); at most about 4M cells. Points with non-finite
 * coordinates are left out. Returns KZ_OK or KZ_E_NOMEM. */
int kz_pgrid__build(kz_pgrid *g, const double *x, const double *y, const unsigned char *skip,
                    size_t n, double cell);
void kz_pgrid__dispose(kz_pgrid *g);

/* Cell column / row of a coordinate, clamped to the grid. */
long kz_pgrid__col(const kz_pgrid *g, double x);
long kz_pgrid__row(const kz_pgrid *g, double y);

#endif
