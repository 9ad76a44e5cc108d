/*
 * Fuzzer for key matching: what the importers do with an area key from a
 * geometry file or a CSV cell before looking it up (kz_key_normalise in
 * src/table_values.c) and the lookup itself (the string map of
 * src/strmap.c).
 *
 * Input: byte 0 is the level's key width (% 12); the rest is a list of keys,
 * one per line ('\n'). Every key is normalised and put into a map (first one
 * wins, as for duplicate checks); then every key is looked up again.
 * Oracles besides ASan/UBSan:
 *   - the map agrees with a linear search over the normalised keys
 *     (same index for every key, count = number of distinct keys);
 *   - normalising a normalised key gives it back unchanged, unless it is
 *     still wrapped in a pair of quotes (only one pair is stripped);
 *   - with a width, a numeric key with one more leading zero, or with
 *     blanks around it, normalises to the same key ("lost zeros" repaired).
 */
#include "kiez/kiez.h"
#include "kiez/table.h"
#include "strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_KEYS 256
#define KEY_SIZE 64

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_keys: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char norm[MAX_KEYS][KEY_SIZE];
    static int ok[MAX_KEYS];
    char *text, *line, again[KEY_SIZE], variant[KEY_SIZE + 3];
    size_t n = 0, i, j, distinct = 0, len;
    int width;
    kz_strmap *map;

    if (size < 1)
        return 0;
    width = data[0] % 12;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    map = kz_strmap__new();
    if (map == NULL) {
        free(text);
        return 0;
    }

    /* Split into lines (a NUL ends the text, as it ends a C string). */
    line = text;
    while (line != NULL && n < MAX_KEYS) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        ok[n] = kz_key_normalise(norm[n], sizeof(norm[n]), line, width) == KZ_OK;
        if (!ok[n])
            check(norm[n][0] == '\0', "normalise: error leaves a key");
        n++;
        line = nl != NULL ? nl + 1 : NULL;
    }

    for (i = 0; i < n; i++) {
        long existing = -1;
        int r;
        if (!ok[i])
            continue;
        r = kz_strmap__put(map, norm[i], (long)i, &existing);
        check(r == 0 || r == 1, "map: put failed");
        if (r == 0)
            distinct++;
        else
            check(existing >= 0 && (size_t)existing < i && strcmp(norm[existing], norm[i]) == 0,
                  "map: wrong existing entry");
    }
    check(kz_strmap__count(map) == distinct, "map: count");

    for (i = 0; i < n; i++) {
        long got, want = -1;
        if (!ok[i])
            continue;
        for (j = 0; j < n && want < 0; j++)
            if (ok[j] && strcmp(norm[j], norm[i]) == 0)
                want = (long)j;
        got = kz_strmap__get(map, norm[i]);
        check(got == want, "map: lookup disagrees with linear search");

        /* Idempotence. */
        len = strlen(norm[i]);
        if (!(len >= 2 && (norm[i][0] == '"' || norm[i][0] == '\'') &&
              norm[i][len - 1] == norm[i][0]))
            check(kz_key_normalise(again, sizeof(again), norm[i], width) == KZ_OK &&
                      strcmp(again, norm[i]) == 0,
                  "normalise: not idempotent");

        /* Lost leading zeros and blanks are repaired. */
        if (width > 0 && len + 2 < sizeof(variant) && strspn(norm[i], "0123456789") == len) {
            check(len == (size_t)width, "normalise: numeric key not at width");
            variant[0] = '0';
            memcpy(variant + 1, norm[i], len + 1);
            check(kz_key_normalise(again, sizeof(again), variant, width) == KZ_OK &&
                      strcmp(again, norm[i]) == 0,
                  "normalise: extra leading zero changes the key");
            variant[0] = ' ';
            memcpy(variant + 1, norm[i], len);
            variant[len + 1] = '\t';
            variant[len + 2] = '\0';
            check(kz_key_normalise(again, sizeof(again), variant, width) == KZ_OK &&
                      strcmp(again, norm[i]) == 0,
                  "normalise: blanks change the key");
            /* Strip every leading zero: padding must bring them back. */
            j = strspn(norm[i], "0");
            if (j < len) {
                check(kz_key_normalise(again, sizeof(again), norm[i] + j, width) == KZ_OK &&
                          strcmp(again, norm[i]) == 0,
                      "normalise: lost zeros not repaired");
                check(kz_strmap__get(map, again) >= 0, "map: repaired key not found");
            }
        }
    }
    kz_strmap__free(map);
    free(text);
    return 0;
}
