/*
 * Fuzzer for the CSV reader (src/table_csv.c): the input is a whole file.
 *
 * Oracles besides the sanitizers: the same input read at the default chunk
 * size and at a small one (1..16 bytes) gives the same result code, message,
 * dialect and rows; every row has the header's field count; fields are valid
 * UTF-8 without surrounding blanks. Every field also goes through the value,
 * period and key parsers.
 */
#include "kiez/kiez.h"
#include "kiez/table.h"
#include "table_csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
    kz_csv_dialect d;
    uint64_t hash;
    long rows;
    size_t header;
};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_csv: %s\n", what);
        abort();
    }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *u = p;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ u[i]) * 1099511628211ull;
    return h;
}

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        size_t n, i;
        unsigned long cp;
        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xC2 && *s <= 0xDF)
            n = 1, cp = *s & 0x1Fu;
        else if (*s >= 0xE0 && *s <= 0xEF)
            n = 2, cp = *s & 0x0Fu;
        else if (*s >= 0xF0 && *s <= 0xF4)
            n = 3, cp = *s & 0x07u;
        else
            return 0;
        for (i = 1; i <= n; i++) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3Fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFEFF)
            return 0;
        s += n + 1;
    }
    return 1;
}

static int on_row(const kz_csv_row *row, void *payload)
{
    struct acc *a = payload;
    size_t i;
    check(row->n_fields >= 1 && row->line >= 1, "empty row or bad line");
    if (a->rows++ == 0)
        a->header = row->n_fields;
    check(row->n_fields == a->header, "row width differs from the header");
    a->hash = fnv(a->hash, &row->line, sizeof(row->line));
    for (i = 0; i < row->n_fields; i++) {
        const char *f = row->fields[i];
        size_t n = strlen(f);
        double v;
        int flag;
        char period[11], key[24];
        check(valid_utf8((const unsigned char *)f), "field is not UTF-8");
        check(n == 0 || (f[0] != ' ' && f[0] != '\t' && f[n - 1] != ' ' && f[n - 1] != '\t'),
              "field not trimmed");
        a->hash = fnv(a->hash, f, n + 1);
        if (i < 16) {
            if (kz_value_parse(&v, &flag, f, a->d.decimal, a->d.thousands) == KZ_OK)
                check(v == v, "value is NaN");
            (void)kz_period_parse(period, f);
            (void)kz_key_normalise(key, sizeof(key), f, 8);
        }
    }
    return KZ_OK;
}

static int run(kz_ctx *ctx, const uint8_t *data, size_t size, size_t chunk, struct acc *a,
               char *msg, size_t msg_size)
{
    int rc;
    memset(a, 0, sizeof(*a));
    a->hash = 14695981039346656037ull;
    rc = kz_csv__read_buffer(ctx, data, size, "fuzz.csv", chunk, &a->d, on_row, a);
    snprintf(msg, msg_size, "%s", rc == KZ_OK ? "" : kz_ctx_errmsg(ctx));
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char m1[2048], m2[2048];
    struct acc a1, a2;
    kz_ctx *ctx = NULL;
    int rc1, rc2;
    size_t small = size > 0 ? 1 + data[size - 1] % 16 : 1;

    if (kz_ctx_new(&ctx) != KZ_OK)
        return 0;
    rc1 = run(ctx, data, size, 0, &a1, m1, sizeof(m1));
    rc2 = run(ctx, data, size, small, &a2, m2, sizeof(m2));
    check(rc1 == KZ_OK || rc1 == KZ_E_INPUT, "unexpected result code");
    check(rc1 == rc2, "result depends on the chunk size");
    check(strcmp(m1, m2) == 0, "message depends on the chunk size");
    check(a1.rows == a2.rows && a1.hash == a2.hash, "rows depend on the chunk size");
    check(memcmp(&a1.d, &a2.d, sizeof(a1.d)) == 0, "dialect depends on the chunk size");
    check(rc1 != KZ_OK || a1.rows >= 1, "success without a header");
    kz_ctx_free(ctx);
    return 0;
}
