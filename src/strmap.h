/*
 * A string → index hash map (open addressing, FNV-1a) for key lookups
 * during imports. Keys are copied. Not thread-safe.
 */
#ifndef KZ_STRMAP_H
#define KZ_STRMAP_H

#include <stddef.h>

typedef struct kz_strmap kz_strmap;

/* NULL on allocation failure. */
kz_strmap *kz_strmap__new(void);
void kz_strmap__free(kz_strmap *map);

/* Insert key → value; returns 0, 1 if the key was present (value kept,
 * *existing receives it when not NULL), or -1 on allocation failure. */
int kz_strmap__put(kz_strmap *map, const char *key, long value, long *existing);

/* Overwrite the value of a present key (no-op when absent). */
void kz_strmap__set(kz_strmap *map, const char *key, long value);

/* Value of key, or -1 when absent. */
long kz_strmap__get(const kz_strmap *map, const char *key);

size_t kz_strmap__count(const kz_strmap *map);

#endif
