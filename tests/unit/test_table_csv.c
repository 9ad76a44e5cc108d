/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ctx_internal.h"
#include "kiez/kiez.h"
#include "kiez/table.h"
#include "table_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                              */

/* Rows serialised as "line:f1|f2|...\n". */
struct collect {
    char out[16384];
    size_t len;
    long rows;
    long stop_at; /* return KZ_E_USAGE at this row (1-based, header = 1); 0 = never */
};

static int collect_row(const kz_csv_row *row, void *payload)
{
    struct collect *c = payload;
    size_t i;
    int n;
    c->rows++;
    if (c->stop_at != 0 && c->rows == c->stop_at)
        return KZ_E_USAGE;
    n = snprintf(c->out + c->len, sizeof(c->out) - c->len, "%ld:", row->line);
    if (n > 0)
        c->len += (size_t)n;
    for (i = 0; i < row->n_fields && c->len < sizeof(c->out); i++) {
        n = snprintf(c->out + c->len, sizeof(c->out) - c->len, "%s%s", i ? "|" : "",
                     row->fields[i]);
        if (n > 0)
            c->len += (size_t)n;
    }
    if (c->len + 1 < sizeof(c->out))
        c->out[c->len++] = '\n';
    if (c->len >= sizeof(c->out))
        c->len = sizeof(c->out) - 1;
    c->out[c->len] = '\0';
    return KZ_OK;
}

static int count_row(const kz_csv_row *row, void *payload)
{
    (void)row;
    (*(long *)payload)++;
    return KZ_OK;
}

static char *slurp(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    n = ftell(fp);
    assert_true(n >= 0);
    rewind(fp);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *size = (size_t)n;
    return buf;
}

static void expect_dialect(const kz_csv_dialect *d, char delim, char dec, char th, int enc)
{
    assert_int_equal(d->delimiter, delim);
    assert_int_equal(d->decimal, dec);
    assert_int_equal(d->thousands, th);
    assert_int_equal(d->encoding, enc);
}

/*
 * Read `data` at every chunk size 1..size+1 (from memory) and a few from a
 * stream; every run must give `expected` and the same dialect, returned in
 * *out.
 */
static void read_all_chunks(const char *data, size_t size, const kz_csv_dialect *in,
                            const char *expected, kz_csv_dialect *out)
{
    kz_ctx *ctx = NULL;
    size_t chunk;
    struct collect *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (chunk = 1; chunk <= size + 1; chunk++) {
        kz_csv_dialect d = {0, 0, 0, 0};
        int rc;
        if (in != NULL)
            d = *in;
        c->len = 0;
        c->out[0] = '\0';
        rc = kz_csv__read_buffer(ctx, data, size, "t.csv", chunk, &d, collect_row, c);
        if (rc != KZ_OK)
            fail_msg("chunk %zu: %s", chunk, kz_ctx_errmsg(ctx));
        if (strcmp(c->out, expected) != 0)
            fail_msg("chunk %zu:\n%s\nexpected:\n%s", chunk, c->out, expected);
        if (chunk == 1)
            *out = d;
        else
            assert_memory_equal(&d, out, sizeof(d));
    }
    /* The stream path, at a few chunk sizes. */
    for (chunk = 1; chunk <= 7; chunk += 3) {
        kz_csv_dialect d = {0, 0, 0, 0};
        FILE *fp = tmpfile();
        assert_non_null(fp);
        assert_int_equal(fwrite(data, 1, size, fp), size);
        rewind(fp);
        if (in != NULL)
            d = *in;
        c->len = 0;
        c->out[0] = '\0';
        assert_int_equal(kz_csv__read_stream(ctx, fp, "t.csv", chunk, &d, collect_row, c), KZ_OK);
        assert_string_equal(c->out, expected);
        fclose(fp);
    }
    kz_ctx_free(ctx);
    free(c);
}

/* Reading `data` fails at every chunk size with `rc` and message `msg`,
 * after handing the same rows to the callback. */
static void error_all_chunks(const char *data, size_t size, const kz_csv_dialect *in, int rc,
                             const char *msg)
{
    kz_ctx *ctx = NULL;
    size_t chunk, step = size > 4096 ? size / 7 : 1;
    struct collect *c = calloc(1, sizeof(*c));
    char *first = calloc(1, sizeof(c->out));
    assert_non_null(c);
    assert_non_null(first);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (chunk = 1; chunk <= size + 1; chunk += step) {
        kz_csv_dialect d = {0, 0, 0, 0};
        int got;
        if (in != NULL)
            d = *in;
        c->len = 0;
        kz_ctx__clear(ctx);
        got = kz_csv__read_buffer(ctx, data, size, "t.csv", chunk, &d, collect_row, c);
        if (got != rc || strcmp(kz_ctx_errmsg(ctx), msg) != 0)
            fail_msg("chunk %zu: rc %d, message \"%s\"; expected %d \"%s\"", chunk, got,
                     kz_ctx_errmsg(ctx), rc, msg);
        c->out[c->len] = '\0';
        if (chunk == 1)
            memcpy(first, c->out, sizeof(c->out));
        else if (strcmp(first, c->out) != 0)
            fail_msg("chunk %zu: rows before the error differ:\n%s\nat chunk 1:\n%s", chunk, c->out,
                     first);
    }
    kz_ctx_free(ctx);
    free(c);
    free(first);
}

#define ERR(lit, rc, msg) error_all_chunks(lit, sizeof(lit) - 1, NULL, rc, msg)
#define READ(lit, expected) read_all_chunks(lit, sizeof(lit) - 1, NULL, expected, &d)

static void fixture_all_chunks(const char *name, const char *expected, kz_csv_dialect *out)
{
    char path[512];
    size_t size;
    char *data;
    snprintf(path, sizeof(path), "%s/csv/%s", KZ_TEST_DATA, name);
    data = slurp(path, &size);
    read_all_chunks(data, size, NULL, expected, out);
    free(data);
}

/* ------------------------------------------------------------------ */
/* Formats                                                              */

static void test_semicolon_decimal_comma(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("semicolon_comma.csv",
                       "1:Stadtgebiet|Bevölkerung|Anteil in %|Fläche in km²|Saldo\n"
                       "2:Hamburg-Altstadt|1 675|9,7|1,3|-  23\n"
                       "3:St. Pauli|22 172|17,5|2,2|.\n"
                       "4:Hamburg|1 788 994|15,7|755,3|11 959\n",
                       &d);
    expect_dialect(&d, ';', ',', ' ', KZ_ENC_UTF8);
}

static void test_comma_point_crlf(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("comma_point.csv",
                       "1:id|district_id|inhabitants|inhabitants_percentage\n"
                       "2:01100101|01|3680|3.804347826086957\n"
                       "3:01100102|01|2040|4.5588235294117645\n",
                       &d);
    expect_dialect(&d, ',', '.', KZ_THOUSANDS_NONE, KZ_ENC_UTF8);
}

static void test_cp1252(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("cp1252.csv",
                       "1:Gemeinde|Einwohner|Quote\n"
                       "2:München|1.512.491|12,5\n"
                       "3:Köln|1.084.831|9,1\n"
                       "4:\xE2\x80\x9EStra\xC3\x9F"
                       "e\xE2\x80\x9C \xE2\x82\xAC|1.000|0,5\n",
                       &d);
    expect_dialect(&d, ';', ',', '.', KZ_ENC_CP1252);
}

static void test_bom_tab(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("bom_tab.csv", "1:name|value\n2:A|1,234.5\n3:B|12.25\n", &d);
    expect_dialect(&d, '\t', '.', ',', KZ_ENC_UTF8);
}

static void test_pipe_apostrophe(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("pipe_apostrophe.csv", "1:Gemeinde|Wert\n2:Zürich|1'234.5\n3:Bern|134'591\n",
                       &d);
    expect_dialect(&d, '|', '.', '\'', KZ_ENC_UTF8);
}

static void test_nbsp_thousands(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("nbsp.csv",
                       "1:key|value\n2:01001|1\xC2\xA0"
                       "234,5\n3:01002|12\xC2\xA0"
                       "345\n",
                       &d);
    expect_dialect(&d, ';', ',', KZ_THOUSANDS_NBSP, KZ_ENC_UTF8);
}

static void test_quoting_blank_lines_no_final_newline(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("quoted.csv",
                       "1:Bezirk|Name|Wert\n"
                       "2:01|Mitte, \"Zentrum\"|1,5\n"
                       "4:02|Friedrichshain-\nKreuzberg|2,5\n"
                       "8:03|Pankow|3\n",
                       &d);
    expect_dialect(&d, ';', ',', KZ_THOUSANDS_NONE, KZ_ENC_UTF8);
}

static void test_cr_only(void **state)
{
    kz_csv_dialect d;
    (void)state;
    fixture_all_chunks("cr_only.csv", "1:a|b\n2:1|2\n3:3|4\n", &d);
    expect_dialect(&d, ',', '.', KZ_THOUSANDS_NONE, KZ_ENC_UTF8);
}

static void test_number_formats_detected(void **state)
{
    static const struct {
        const char *data;
        char delim, dec, th;
    } cases[] = {
        {"a;b\nx;1 234,5\ny;2\n", ';', ',', ' '},
        {"a;b\nx;1.234,5\ny;2\n", ';', ',', '.'},
        {"a,b\nx,\"1,234.5\"\ny,2\n", ',', '.', ','},
        {"a;b\nx;12,5\n", ';', ',', KZ_THOUSANDS_NONE},
        {"a,b\nx,12.5\n", ',', '.', KZ_THOUSANDS_NONE},
        {"a;b\nx;1.234.567\n", ';', ',', '.'},
        {"a,b\nx,\"1,234,567\"\n", ',', '.', ','},
        {"a;b\nx;0,125\n", ';', ',', KZ_THOUSANDS_NONE},
        {"a|b\nx|1'234\n", '|', '.', '\''},
        /* ambiguous "1,234": ',' is the decimal in a ';' file */
        {"a;b\nx;1,234\n", ';', ',', KZ_THOUSANDS_NONE},
        /* ...and the thousands separator where '.' is the decimal */
        {"a,b\nx,\"1,234\"\ny,1.5\n", ',', '.', ','},
        /* no numbers at all */
        {"name,city\nAnna,Berlin\n", ',', '.', KZ_THOUSANDS_NONE},
        {"name;city\nAnna;Berlin\n", ';', ',', KZ_THOUSANDS_NONE},
        /* a comma inside a header name does not fool the delimiter */
        {"Name;Fl\xC3\xA4"
         "che, km2;Wert\nA;1,5;2\nB;2,5;3\n",
         ';', ',', KZ_THOUSANDS_NONE},
        /* single column */
        {"value\n1\n2\n", ',', '.', KZ_THOUSANDS_NONE},
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kz_ctx *ctx = NULL;
        kz_csv_dialect d = {0, 0, 0, 0};
        long rows = 0;
        assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
        if (kz_csv__read_buffer(ctx, cases[i].data, strlen(cases[i].data), "t.csv", 0, &d,
                                count_row, &rows) != KZ_OK)
            fail_msg("case %zu: %s", i, kz_ctx_errmsg(ctx));
        if (d.delimiter != cases[i].delim || d.decimal != cases[i].dec ||
            d.thousands != cases[i].th)
            fail_msg("case %zu: got '%c' '%c' %d", i, d.delimiter, d.decimal, d.thousands);
        kz_ctx_free(ctx);
    }
}

static void test_overrides(void **state)
{
    kz_csv_dialect in = {';', '.', KZ_THOUSANDS_NONE, KZ_ENC_UTF8}, d;
    kz_csv_dialect latin1 = {0, 0, 0, KZ_ENC_LATIN1};
    (void)state;
    /* Overrides are kept as given. */
    read_all_chunks("a,b;c\n1,2;3\n", 12, &in, "1:a,b|c\n2:1,2|3\n", &d);
    expect_dialect(&d, ';', '.', KZ_THOUSANDS_NONE, KZ_ENC_UTF8);
    /* Latin-1: 0x80..0x9F are the C1 controls, 0xA4 is the currency sign. */
    read_all_chunks("a\n\xA4\x85\n", 5, &latin1, "1:a\n2:\xC2\xA4\xC2\x85\n", &d);
    assert_int_equal(d.encoding, KZ_ENC_LATIN1);
}

static void test_bad_overrides(void **state)
{
    kz_csv_dialect same = {0, ',', ',', 0}, bad_delim = {':', 0, 0, 0}, bad_enc = {0, 0, 0, 9};
    (void)state;
    error_all_chunks("a\n", 2, &same, KZ_E_USAGE,
                     "t.csv: decimal and thousands separator are both ','");
    error_all_chunks("a\n", 2, &bad_delim, KZ_E_USAGE,
                     "t.csv: delimiter must be ',', ';', tab or '|'");
    error_all_chunks("a\n", 2, &bad_enc, KZ_E_USAGE, "t.csv: unknown encoding 9");
}

static void test_blank_rows_skipped(void **state)
{
    kz_csv_dialect d;
    (void)state;
    READ("\n\n  \na;b\r\n\r\n1;2\r\n;\r\n \t \r\n\r\n", "4:a|b\n6:1|2\n");
    /* trimming of blanks, NBSP and quoted padding */
    READ("a;b\n  x  ;\" y \xC2\xA0\"\n", "1:a|b\n2:x|y\n");
}

static void test_header_only(void **state)
{
    kz_csv_dialect d;
    (void)state;
    read_all_chunks("a;b;c", 5, NULL, "1:a|b|c\n", &d);
    assert_int_equal(d.delimiter, ';');
}

/* ------------------------------------------------------------------ */
/* Errors                                                               */

static void test_errors(void **state)
{
    kz_csv_dialect cp = {0, 0, 0, KZ_ENC_CP1252}, utf8 = {0, 0, 0, KZ_ENC_UTF8};
    kz_csv_dialect semi = {';', 0, 0, 0};
    (void)state;
    ERR("a;b;c\n1;2;3\n4;5\n", KZ_E_INPUT,
        "t.csv:3: row has 2 fields, the header has 3 (delimiter ';'); quote fields that contain "
        "the delimiter");
    ERR("a,b\n1,2,3\n", KZ_E_INPUT,
        "t.csv:2: row has 3 fields, the header has 2 (delimiter ','); quote fields that contain "
        "the delimiter");
    ERR("a,b\n1,\"x\ny\n", KZ_E_INPUT,
        "t.csv:2: the quoted field that starts in this record is never closed; add the closing "
        "'\"'");
    ERR("a,b\n1,2\n3,x\"y\n", KZ_E_INPUT,
        "t.csv:3: misplaced '\"': quote the whole field and double the quotes inside it");
    ERR("a,b\n1,\"x\"y\n", KZ_E_INPUT,
        "t.csv:2: misplaced '\"': quote the whole field and double the quotes inside it");
    ERR("a,b\n1,2\n3,\0\n", KZ_E_INPUT,
        "t.csv:3: NUL byte: not a text file (UTF-16?); save it as CSV in UTF-8");
    /* Found by fuzz_csv: rows before a decode error, and which of two errors
     * wins, must not depend on the chunk size. */
    ERR("k;v\n1;1\xF0"
        "234,5.\0\0 `\0\0"
        "0\n",
        KZ_E_INPUT, "t.csv:2: NUL byte: not a text file (UTF-16?); save it as CSV in UTF-8");
    ERR("a;b\n1\n\0\n", KZ_E_INPUT,
        "t.csv:2: row has 1 fields, the header has 2 (delimiter ';'); quote fields that contain "
        "the delimiter");
    ERR("\xFF\xFE"
        "a\0",
        KZ_E_INPUT, "t.csv:1: the file is UTF-16; save it as CSV in UTF-8");
    ERR("a,b\n1,2\n\xEF\xBB\xBF"
        "3,4\n",
        KZ_E_INPUT, "t.csv:3: byte order mark inside the file (files concatenated?); remove it");
    ERR("", KZ_E_INPUT, "t.csv: the file is empty: no header row");
    ERR("\n\n  \n", KZ_E_INPUT, "t.csv: the file is empty: no header row");
    error_all_chunks("\n;;\n", 4, &semi, KZ_E_INPUT, "t.csv: the file is empty: no header row");
    ERR("\xEF\xBB\xBF", KZ_E_INPUT, "t.csv: the file is empty: no header row");
    /* Invalid UTF-8 when UTF-8 is set; an undefined Windows-1252 byte. */
    error_all_chunks("a\nb\n\xE4\n", 6, &utf8, KZ_E_INPUT,
                     "t.csv:3: invalid UTF-8 (byte 0xE4); if the file is in another encoding, "
                     "set it (e.g. Windows-1252)");
    error_all_chunks("a\n\x81\n", 4, &cp, KZ_E_INPUT,
                     "t.csv:2: byte 0x81 is neither UTF-8 nor Windows-1252; set the encoding "
                     "of the file");
    /* A UTF-8 BOM inside a single-byte file; a BOM with a single-byte override. */
    error_all_chunks("a\n\xE4\n\xEF\xBB\xBF\n", 8, NULL, KZ_E_INPUT,
                     "t.csv:3: UTF-8 byte order mark inside a file read as Windows-1252 (files "
                     "concatenated?); remove it");
    error_all_chunks("\xEF\xBB\xBF"
                     "a\n",
                     5, &cp, KZ_E_INPUT,
                     "t.csv:1: the file starts with a UTF-8 byte order mark but its encoding "
                     "is set to Windows-1252; drop that setting");
    /* Cut inside a UTF-8 sequence; overlong and surrogate forms. */
    error_all_chunks("a\nb\xC3", 4, &utf8, KZ_E_INPUT,
                     "t.csv:2: the file ends inside a UTF-8 character; it is cut off or not "
                     "UTF-8");
    error_all_chunks("a\n\xC0\xAF\n", 5, &utf8, KZ_E_INPUT,
                     "t.csv:2: invalid UTF-8 (byte 0xC0); if the file is in another encoding, "
                     "set it (e.g. Windows-1252)");
    error_all_chunks("a\n\xED\xA0\x80\n", 6, &utf8, KZ_E_INPUT,
                     "t.csv:2: invalid UTF-8 (byte 0xED); if the file is in another encoding, "
                     "set it (e.g. Windows-1252)");
}

static void test_ragged_fixture_by_path(void **state)
{
    kz_ctx *ctx = NULL;
    struct collect *c = calloc(1, sizeof(*c));
    char path[512], msg[1024];
    (void)state;
    assert_non_null(c);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    snprintf(path, sizeof(path), "%s/csv/ragged.csv", KZ_TEST_DATA);
    assert_int_equal(kz_csv_read(ctx, path, NULL, collect_row, c), KZ_E_INPUT);
    snprintf(msg, sizeof(msg),
             "%s:3: row has 2 fields, the header has 3 (delimiter ';'); quote fields that "
             "contain the delimiter",
             path);
    assert_string_equal(kz_ctx_errmsg(ctx), msg);
    assert_string_equal(c->out, "1:a|b|c\n2:1|2|3\n");
    assert_int_equal(kz_csv_read(ctx, KZ_TEST_DATA "/csv/no-such-file.csv", NULL, collect_row, c),
                     KZ_E_IO);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "no-such-file.csv: cannot open"));
    kz_ctx_free(ctx);
    free(c);
}

static void test_callback_stops(void **state)
{
    kz_ctx *ctx = NULL;
    struct collect *c = calloc(1, sizeof(*c));
    (void)state;
    assert_non_null(c);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    c->stop_at = 2;
    assert_int_equal(kz_csv__read_buffer(ctx, "a\n1\n2\n3\n", 8, "t.csv", 1, NULL, collect_row, c),
                     KZ_E_USAGE);
    assert_int_equal(c->rows, 2);
    assert_string_equal(c->out, "1:a\n");
    kz_ctx_free(ctx);
    free(c);
}

/* ------------------------------------------------------------------ */
/* Caps and the end of the sample                                       */

static char *big(size_t n, const char *head, char fill, const char *tail, size_t *size)
{
    size_t h = strlen(head), t = strlen(tail);
    char *buf = malloc(h + n + t + 1);
    assert_non_null(buf);
    memcpy(buf, head, h);
    memset(buf + h, fill, n);
    memcpy(buf + h + n, tail, t + 1);
    *size = h + n + t;
    return buf;
}

static void test_field_caps(void **state)
{
    kz_ctx *ctx = NULL;
    size_t size;
    long rows = 0;
    char *buf;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);

    /* 10 MB unquoted and quoted fields fail cleanly. */
    buf = big(10u << 20, "a,b\n1,", 'x', ",2\n", &size);
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 0, NULL, count_row, &rows),
                     KZ_E_INPUT);
    assert_string_equal(kz_ctx_errmsg(ctx),
                        "t.csv:2: a field is longer than 1048576 bytes (an unclosed quote?); "
                        "check the quoting of this record");
    free(buf);
    buf = big(10u << 20, "a,b\n1,\"", 'x', "\"\n", &size);
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 0, NULL, count_row, &rows),
                     KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "t.csv:2: a field is longer than"));
    free(buf);

    /* Exactly at the cap is fine, one byte more is not. */
    buf = big(KZ_CSV_MAX_FIELD, "a,b\n1,", 'x', "\n", &size);
    rows = 0;
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 4096, NULL, count_row, &rows),
                     KZ_OK);
    assert_int_equal(rows, 2);
    free(buf);
    buf = big(KZ_CSV_MAX_FIELD + 1, "a,b\n1,", 'x', "\n", &size);
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 4096, NULL, count_row, &rows),
                     KZ_E_INPUT);
    free(buf);

    /* Too many fields. */
    buf = big(KZ_CSV_MAX_FIELDS + 5, "a;b\n", ';', "\n", &size);
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 0, NULL, count_row, &rows),
                     KZ_E_INPUT);
    assert_string_equal(kz_ctx_errmsg(ctx),
                        "t.csv:2: record has more than 10000 fields; check the delimiter");
    free(buf);
    kz_ctx_free(ctx);
}

static void test_record_cap(void **state)
{
    kz_ctx *ctx = NULL;
    size_t field = KZ_CSV_MAX_FIELD, n = KZ_CSV_MAX_RECORD / KZ_CSV_MAX_FIELD + 1, i, size;
    char *buf = malloc(n * (field + 1) + 8);
    long rows = 0;
    (void)state;
    assert_non_null(buf);
    memcpy(buf, "a;b\n", 4);
    size = 4;
    for (i = 0; i < n; i++) {
        memset(buf + size, 'y', field);
        size += field;
        buf[size++] = i + 1 < n ? ';' : '\n';
    }
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", 0, NULL, count_row, &rows),
                     KZ_E_INPUT);
    assert_string_equal(kz_ctx_errmsg(ctx),
                        "t.csv:2: record is longer than 16777216 bytes; check the quoting");
    free(buf);
    kz_ctx_free(ctx);
}

/* Past the 64 KiB sample: what was detected holds, and errors still name
 * the line. */
static void test_past_the_sample(void **state)
{
    kz_ctx *ctx = NULL;
    size_t rows_n = KZ_CSV__SAMPLE / 7 + 100, i, size = 0, chunk;
    char *buf = malloc(rows_n * 16 + 64);
    long rows;
    kz_csv_dialect d;
    (void)state;
    assert_non_null(buf);
    memcpy(buf, "k;v\n", 4);
    size = 4;
    for (i = 0; i < rows_n; i++) {
        memcpy(buf + size, "01;1,5\n", 7);
        size += 7;
    }
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (chunk = 1000; chunk <= 70000; chunk += 23000) {
        memset(&d, 0, sizeof(d));
        rows = 0;
        assert_int_equal(kz_csv__read_buffer(ctx, buf, size, "t.csv", chunk, &d, count_row, &rows),
                         KZ_OK);
        assert_int_equal(rows, (long)rows_n + 1);
    }
    /* Invalid UTF-8 after a valid sample; a BOM after the sample. */
    memcpy(buf + size, "\xE4;1\n", 4);
    memset(&d, 0, sizeof(d));
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size + 4, "t.csv", 0, &d, count_row, &rows),
                     KZ_E_INPUT);
    {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "t.csv:%zu: invalid UTF-8 (byte 0xE4); if the file is in another encoding, "
                 "set it (e.g. Windows-1252)",
                 rows_n + 2);
        assert_string_equal(kz_ctx_errmsg(ctx), msg);
    }
    memcpy(buf + size, "\xEF\xBB\xBF\n", 4);
    memset(&d, 0, sizeof(d));
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size + 4, "t.csv", 3, &d, count_row, &rows),
                     KZ_E_INPUT);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "byte order mark inside the file"));
    /* A ragged row far down. */
    memcpy(buf + size, "1;2;3\n", 6);
    memset(&d, 0, sizeof(d));
    assert_int_equal(kz_csv__read_buffer(ctx, buf, size + 6, "t.csv", 0, &d, count_row, &rows),
                     KZ_E_INPUT);
    {
        char msg[256];
        snprintf(msg, sizeof(msg),
                 "t.csv:%zu: row has 3 fields, the header has 2 (delimiter ';'); quote fields "
                 "that contain the delimiter",
                 rows_n + 2);
        assert_string_equal(kz_ctx_errmsg(ctx), msg);
    }
    free(buf);
    kz_ctx_free(ctx);
}

/* ------------------------------------------------------------------ */
/* Real files                                                           */

struct real {
    kz_csv_dialect d;
    long rows;
    long bad;
    long missing, suppressed, ok;
    int first_col_text; /* column 0 is a name, not a number */
    char first_key[32];
    double sum_col1;
    char bad_cell[256];
};

static int real_row(const kz_csv_row *row, void *payload)
{
    struct real *r = payload;
    size_t i;
    r->rows++;
    if (r->rows == 1)
        return KZ_OK; /* header */
    if (r->rows == 2)
        snprintf(r->first_key, sizeof(r->first_key), "%s", row->fields[0]);
    for (i = r->first_col_text ? 1 : 0; i < row->n_fields; i++) {
        double v;
        int flag;
        if (kz_value_parse(&v, &flag, row->fields[i], r->d.decimal, r->d.thousands) != KZ_OK) {
            if (r->bad++ == 0)
                snprintf(r->bad_cell, sizeof(r->bad_cell), "line %ld field %zu: \"%s\"", row->line,
                         i, row->fields[i]);
            continue;
        }
        if (flag == KZ_FLAG_MISSING)
            r->missing++;
        else if (flag == KZ_FLAG_SUPPRESSED)
            r->suppressed++;
        else
            r->ok++;
        if (i == 1)
            r->sum_col1 += v;
    }
    return KZ_OK;
}

static void test_real_hamburg(void **state)
{
    const char *path = KZ_GEODATA "/hamburg/Daten_fuer_die_Stadtteilprofile_2014.csv";
    kz_ctx *ctx = NULL;
    struct real r;
    (void)state;
    if (access(path, R_OK) != 0)
        skip();
    memset(&r, 0, sizeof(r));
    r.first_col_text = 1;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    if (kz_csv_read(ctx, path, &r.d, real_row, &r) != KZ_OK)
        fail_msg("%s", kz_ctx_errmsg(ctx));
    expect_dialect(&r.d, ';', ',', ' ', KZ_ENC_UTF8);
    assert_int_equal(r.rows, 108); /* header + 107 areas */
    if (r.bad != 0)
        fail_msg("%ld cells do not parse, first %s", r.bad, r.bad_cell);
    assert_int_equal(r.ok + r.suppressed + r.missing, 107 * 68);
    assert_int_equal(r.suppressed, 84);
    assert_string_equal(r.first_key, "Hamburg-Altstadt");
    kz_ctx_free(ctx);
}

static int hamburg_values(const kz_csv_row *row, void *payload)
{
    const kz_csv_dialect *d = payload;
    double v;
    int flag;
    if (strcmp(row->fields[0], "Hamburg-Altstadt") == 0) {
        assert_int_equal(kz_value_parse(&v, &flag, row->fields[1], d->decimal, d->thousands),
                         KZ_OK);
        assert_true(v == 1675.0 && flag == KZ_FLAG_OK);
        assert_int_equal(kz_value_parse(&v, &flag, row->fields[28], d->decimal, d->thousands),
                         KZ_OK);
        assert_true(v == -23.0 && flag == KZ_FLAG_OK);
        assert_int_equal(kz_value_parse(&v, &flag, row->fields[55], d->decimal, d->thousands),
                         KZ_OK);
        assert_int_equal(flag, KZ_FLAG_SUPPRESSED);
    }
    if (strcmp(row->fields[0], "Hamburg") == 0) {
        assert_int_equal(kz_value_parse(&v, &flag, row->fields[1], d->decimal, d->thousands),
                         KZ_OK);
        assert_true(v == 1788994.0);
        assert_int_equal(kz_value_parse(&v, &flag, row->fields[20], d->decimal, d->thousands),
                         KZ_OK);
        assert_true(v == 755.3);
    }
    return KZ_OK;
}

static void test_real_hamburg_values_all_chunks(void **state)
{
    const char *path = KZ_GEODATA "/hamburg/Daten_fuer_die_Stadtteilprofile_2014.csv";
    static const size_t chunks[] = {1, 2, 3, 7, 64, 4093, 65536};
    kz_ctx *ctx = NULL;
    size_t i, size;
    char *data;
    (void)state;
    if (access(path, R_OK) != 0)
        skip();
    data = slurp(path, &size);
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        kz_csv_dialect d = {0, 0, 0, 0};
        long rows = 0;
        assert_int_equal(
            kz_csv__read_buffer(ctx, data, size, "hh.csv", chunks[i], &d, count_row, &rows), KZ_OK);
        assert_int_equal(rows, 108);
        assert_int_equal(
            kz_csv__read_buffer(ctx, data, size, "hh.csv", chunks[i], &d, hamburg_values, &d),
            KZ_OK);
    }
    free(data);
    kz_ctx_free(ctx);
}

static void test_real_berlin(void **state)
{
    const char *path = KZ_GEODATA "/berlin/population/berlin-lor-population-2023-02/"
                                  "berlin-lor-population-2023-02-t2-planning-areas.csv";
    kz_ctx *ctx = NULL;
    struct real r;
    (void)state;
    if (access(path, R_OK) != 0)
        skip();
    memset(&r, 0, sizeof(r));
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    if (kz_csv_read(ctx, path, &r.d, real_row, &r) != KZ_OK)
        fail_msg("%s", kz_ctx_errmsg(ctx));
    expect_dialect(&r.d, ',', '.', KZ_THOUSANDS_NONE, KZ_ENC_UTF8);
    assert_int_equal(r.rows, 543); /* header + 542 planning areas */
    if (r.bad != 0)
        fail_msg("%ld cells do not parse, first %s", r.bad, r.bad_cell);
    assert_int_equal(r.ok, 542 * 27);
    assert_string_equal(r.first_key, "01100101"); /* text, leading zero kept */
    kz_ctx_free(ctx);
}

static int have_geodata(void)
{
    return access(KZ_GEODATA "/hamburg/Daten_fuer_die_Stadtteilprofile_2014.csv", R_OK) == 0 &&
           access(KZ_GEODATA "/berlin/population/berlin-lor-population-2023-02/"
                             "berlin-lor-population-2023-02-t2-planning-areas.csv",
                  R_OK) == 0;
}

/* The real-data group runs only when $KIEZ_GEODATA has the files; without
 * them the program exits 77 (skipped) once the other tests have passed. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semicolon_decimal_comma),
        cmocka_unit_test(test_comma_point_crlf),
        cmocka_unit_test(test_cp1252),
        cmocka_unit_test(test_bom_tab),
        cmocka_unit_test(test_pipe_apostrophe),
        cmocka_unit_test(test_nbsp_thousands),
        cmocka_unit_test(test_quoting_blank_lines_no_final_newline),
        cmocka_unit_test(test_cr_only),
        cmocka_unit_test(test_number_formats_detected),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_bad_overrides),
        cmocka_unit_test(test_blank_rows_skipped),
        cmocka_unit_test(test_header_only),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ragged_fixture_by_path),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_field_caps),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_past_the_sample),
    };
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_real_hamburg),
        cmocka_unit_test(test_real_hamburg_values_all_chunks),
        cmocka_unit_test(test_real_berlin),
    };
    int failed = cmocka_run_group_tests_name("table_csv", tests, NULL, NULL);
    if (failed != 0)
        return failed;
    if (!have_geodata()) {
        fprintf(stderr, "real data not found under %s: skipped\n", KZ_GEODATA);
        return 77;
    }
    return cmocka_run_group_tests_name("table_csv_real", real, NULL, NULL);
}
