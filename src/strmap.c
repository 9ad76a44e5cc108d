/* String → index hash map: open addressing with linear probing, FNV-1a. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct kz_strmap {
    char **keys;
    long *values;
    size_t cap, count; /* cap is a power of two, kept at most half full */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

kz_strmap *kz_strmap__new(void)
{
    kz_strmap *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->cap = 64;
    m->keys = calloc(m->cap, sizeof(char *));
    m->values = calloc(m->cap, sizeof(long));
    if (m->keys == NULL || m->values == NULL) {
        kz_strmap__free(m);
        return NULL;
    }
    return m;
}

void kz_strmap__free(kz_strmap *m)
{
    size_t i;
    if (m == NULL)
        return;
    if (m->keys)
        for (i = 0; i < m->cap; i++)
            free(m->keys[i]);
    free(m->keys);
    free(m->values);
    free(m);
}

static size_t slot(const kz_strmap *m, const char *key)
{
    size_t i = (size_t)hash(key) & (m->cap - 1);
    while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int grow(kz_strmap *m)
{
    kz_strmap bigger = {NULL, NULL, m->cap * 2, m->count};
    size_t i;
    bigger.keys = calloc(bigger.cap, sizeof(char *));
    bigger.values = calloc(bigger.cap, sizeof(long));
    if (bigger.keys == NULL || bigger.values == NULL) {
        free(bigger.keys);
        free(bigger.values);
        return -1;
    }
    for (i = 0; i < m->cap; i++) {
        if (m->keys[i] != NULL) {
            size_t j = slot(&bigger, m->keys[i]);
            bigger.keys[j] = m->keys[i];
            bigger.values[j] = m->values[i];
        }
    }
    free(m->keys);
    free(m->values);
    m->keys = bigger.keys;
    m->values = bigger.values;
    m->cap = bigger.cap;
    return 0;
}

int kz_strmap__put(kz_strmap *m, const char *key, long value, long *existing)
{
    size_t i, n;
    if ((m->count + 1) * 2 > m->cap && grow(m) != 0)
        return -1;
    i = slot(m, key);
    if (m->keys[i] != NULL) {
        if (existing)
            *existing = m->values[i];
        return 1;
    }
    n = strlen(key) + 1;
    m->keys[i] = malloc(n);
    if (m->keys[i] == NULL)
        return -1;
    memcpy(m->keys[i], key, n);
    m->values[i] = value;
    m->count++;
    return 0;
}

long kz_strmap__get(const kz_strmap *m, const char *key)
{
    size_t i = slot(m, key);
    return m->keys[i] ? m->values[i] : -1;
}

size_t kz_strmap__count(const kz_strmap *m)
{
    return m->count;
}

void kz_strmap__set(kz_strmap *m, const char *key, long value)
{
    size_t i = slot(m, key);
    if (m->keys[i] != NULL)
        m->values[i] = value;
}
