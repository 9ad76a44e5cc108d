/*
 * Fuzzer for the cell parsers (src/table_values.c): kz_value_parse,
 * kz_period_parse, kz_key_normalise.
 *
 * Input: byte 0 picks the decimal separator, byte 1 the thousands
 * separator, byte 2 the key width (% 12) and output size (/ 12); the rest is the text
 * (up to the first NUL). Oracles: results stay in their contract (finite
 * values, known flags, 0 unless a value, well-formed valid dates that
 * parse to themselves, keys that fit and never write past `size`).
 */
#include "kiez/kiez.h"
#include "kiez/table.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_values: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char decimals[] = {0, '.', ','};
    static const char thousands[] = {0, KZ_THOUSANDS_NONE, KZ_THOUSANDS_NBSP, ' ', '.', ',', '\''};
    char *text, period[11], again[11], key[48];
    char dec, th;
    int width, flag, rc;
    size_t key_size, i, n;
    double v;

    if (size < 3)
        return 0;
    dec = decimals[data[0] % sizeof(decimals)];
    th = thousands[data[1] % sizeof(thousands)];
    width = data[2] % 12;
    key_size = (size_t)(data[2] / 12); /* 0..21 */
    text = malloc(size - 3 + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data + 3, size - 3);
    text[size - 3] = '\0';

    rc = kz_value_parse(&v, &flag, text, dec, th);
    check(rc == KZ_OK || rc == KZ_E_INPUT, "value: result code");
    check(isfinite(v), "value: not finite");
    if (rc != KZ_OK)
        check(v == 0 && flag == KZ_FLAG_MISSING, "value: error leaves a value");
    else if (flag == KZ_FLAG_MISSING || flag == KZ_FLAG_SUPPRESSED)
        check(v == 0, "value: no value but not 0");
    else
        check(flag == KZ_FLAG_OK || flag == KZ_FLAG_ESTIMATED, "value: unknown flag");

    rc = kz_period_parse(period, text);
    if (rc == KZ_OK) {
        check(strlen(period) == 10 && period[4] == '-' && period[7] == '-', "period: format");
        for (i = 0; i < 10; i++)
            check(i == 4 || i == 7 || (period[i] >= '0' && period[i] <= '9'), "period: digits");
        check(kz_period_parse(again, period) == KZ_OK && strcmp(again, period) == 0,
              "period: not a fixed point");
    } else {
        check(rc == KZ_E_INPUT && period[0] == '\0', "period: error");
    }

    memset(key, 'Z', sizeof(key));
    rc = kz_key_normalise(key, key_size, text, width);
    check(key[key_size] == 'Z', "key: wrote past size");
    if (rc == KZ_OK) {
        n = strlen(key);
        check(n > 0 && n < key_size, "key: length");
        if (width > 0 && strspn(key, "0123456789") == n)
            check(n == (size_t)width, "key: numeric key not padded to width");
    } else {
        check(rc == KZ_E_INPUT && (key_size == 0 || key[0] == '\0'), "key: error");
    }
    free(text);
    return 0;
}
