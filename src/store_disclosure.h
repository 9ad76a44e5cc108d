/*
 * The store functions of needs for action and disclosure control
 * (store_disclosure.c). Internal to the library.
 */
#ifndef KZ_STORE_DISCLOSURE_H
#define KZ_STORE_DISCLOSURE_H

#include "store.h"

#include <stddef.h>

/* The parent level of `level` (*parent_level NULL for a top level; caller
 * frees) and the parent key of each of keys[0..n) (NULL without parent;
 * free with kz_store__free_strings(*parent_keys, n)). */
int kz_store__parents(kz_db *db, kz_ctx *ctx, const char *level, char *const *keys, size_t n,
                      char **parent_level, char ***parent_keys);

/* Every area of every level, finest level first: level[i], key[i] and the
 * index of its parent area parent[i] (-1: none), group[i] a number per
 * level; map "level\x1fkey" -> i. Free with kz_store__free_tree(). */
typedef struct kz_store_tree {
    char **level, **key;
    long *parent;
    int *group;
    size_t n;
    struct kz_strmap *map;
} kz_store_tree;
int kz_store__area_tree(kz_db *db, kz_ctx *ctx, kz_store_tree *out);
void kz_store__free_tree(kz_store_tree *tree);

/* The distinct variables of the value blocks, sorted. */
int kz_store__variable_names(kz_db *db, kz_ctx *ctx, char ***out, size_t *n);

/* Every value of a variable on every level, ordered by period (NaN = null). */
typedef int (*kz_store_cell_fn)(const char *level, const char *key, const char *period,
                                double value, void *payload);
int kz_store__each_cell(kz_db *db, kz_ctx *ctx, const char *variable, kz_store_cell_fn fn,
                        void *payload);

/* Create (if missing) and empty disclosure_cell and disclosure_area. */
int kz_store__disclosure_reset(kz_db *db, kz_ctx *ctx);

/* Record the cells of tree areas with status[i] != 0 (disclosure.h). */
int kz_store__put_suppressed(kz_db *db, kz_ctx *ctx, const char *variable, const char *period,
                             const kz_store_tree *tree, const unsigned char *status);

/* Record the (area, period)s whose variable `population` is below min;
 * *n receives their number. */
int kz_store__small_areas(kz_db *db, kz_ctx *ctx, const char *population, double min, long *n);

/* Withhold (value NULL, flag 2) the indicator values built on recorded
 * cells, with the suppressed numerator/denominator, and every indicator
 * value of a recorded small area; *n receives the rows changed. */
int kz_store__apply_disclosure(kz_db *db, kz_ctx *ctx, long *n);

#endif
