/*
 * Allocation failure in the parsers of untrusted input (issue 8): the CSV
 * reader (src/table_csv.c) and the project-file parser (src/project.c).
 *
 * For every n = 0, 1, 2, ... the n-th allocation the parser makes itself
 * fails (kz_csv__set_alloc_fail_after / kz_project__set_alloc_fail_after),
 * until a run gets through without reaching n. Every failed run must return
 * KZ_E_NOMEM with an "out of memory" message, hand out no project, and leak
 * nothing (the ASan build of `make check` runs this test with LeakSanitizer);
 * the run without failure must give the reference result (same result code,
 * same rows).
 */
/* cmocka.h needs these first. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include "kiez/ctx.h"
#include "kiez/project.h"
#include "kiez/table.h"
#include "project_internal.h"
#include "table_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT KZ_TEST_DATA "/../.."
#define MAX_N 200000L

static int setup(void **state)
{
    kz_ctx *ctx = NULL;
    if (kz_ctx_new(&ctx) != KZ_OK)
        return -1;
    *state = ctx;
    return 0;
}

static int teardown(void **state)
{
    kz_ctx_free(*state);
    kz_csv__set_alloc_fail_after(-1);
    kz_project__set_alloc_fail_after(-1);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- CSV reader ------------------------------------------------------------ */

/* FNV-1a over lines and fields of every row the reader hands out. */
struct acc {
    uint64_t hash;
    long rows;
};

static void fnv(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *u = p;
    size_t i;
    for (i = 0; i < n; i++)
        *h = (*h ^ u[i]) * 1099511628211ull;
}

static int on_row(const kz_csv_row *row, void *payload)
{
    struct acc *a = payload;
    size_t i;
    fnv(&a->hash, &row->line, sizeof(row->line));
    for (i = 0; i < row->n_fields; i++)
        fnv(&a->hash, row->fields[i], strlen(row->fields[i]) + 1);
    a->rows++;
    return KZ_OK;
}

/* Fail every allocation in turn; returns the number of allocations the
 * reader made in the run that succeeded. */
static long csv_loop(kz_ctx *ctx, const char *data, size_t len, size_t chunk, int want_rc,
                     long want_rows)
{
    struct acc ref = {14695981039346656037ull, 0};
    kz_csv_dialect d;
    long n;
    int rc;

    memset(&d, 0, sizeof(d));
    kz_csv__set_alloc_fail_after(-1);
    rc = kz_csv__read_buffer(ctx, data, len, "alloc.csv", chunk, &d, on_row, &ref);
    assert_int_equal(rc, want_rc);
    if (want_rows >= 0)
        assert_int_equal(ref.rows, want_rows);

    for (n = 0; n < MAX_N; n++) {
        struct acc a = {14695981039346656037ull, 0};
        memset(&d, 0, sizeof(d));
        kz_csv__set_alloc_fail_after(n);
        rc = kz_csv__read_buffer(ctx, data, len, "alloc.csv", chunk, &d, on_row, &a);
        if (!kz_csv__alloc_failed()) {
            kz_csv__set_alloc_fail_after(-1);
            assert_int_equal(rc, want_rc);
            assert_int_equal(a.rows, ref.rows);
            assert_true(a.hash == ref.hash);
            return n;
        }
        if (rc != KZ_E_NOMEM || strstr(kz_ctx_errmsg(ctx), "out of memory") == NULL) {
            print_error("CSV: allocation %ld failed, but rc %d: %s\n", n, rc, kz_ctx_errmsg(ctx));
            fail();
        }
    }
    fail_msg("CSV: more than %ld allocations", MAX_N);
    return -1;
}

/* A file that makes every buffer grow: 40 columns (the field table starts
 * at 16), a 40 000-byte field (libcsv's buffer grows by 16 KiB), a long
 * record, Windows-1252 text (the conversion buffer), CRLF. */
static char *wide_csv(size_t *len)
{
    size_t cap = 200000, n = 0;
    char *s = malloc(cap);
    int r, c;
    assert_non_null(s);
    for (c = 0; c < 40; c++)
        n += (size_t)snprintf(s + n, cap - n, "%sSp\xe4lte %d", c ? ";" : "", c);
    n += (size_t)snprintf(s + n, cap - n, "\r\n");
    for (r = 0; r < 30; r++) {
        for (c = 0; c < 40; c++) {
            if (r == 7 && c == 3) {
                s[n++] = ';';
                memset(s + n, 'x', 40000);
                n += 40000;
                continue;
            }
            n += (size_t)snprintf(s + n, cap - n, "%s\"%d,%d\"", c ? ";" : "", r, c);
        }
        n += (size_t)snprintf(s + n, cap - n, "\r\n");
    }
    *len = n;
    return s;
}

static void test_csv_real_excerpt(void **state)
{
    kz_ctx *ctx = *state;
    size_t len;
    char *data = slurp(KZ_TEST_DATA "/../fuzz/corpus/csv/berlin_excerpt.csv", &len);
    long allocs;
    assert_non_null(data);
    allocs = csv_loop(ctx, data, len, 0, KZ_OK, -1);
    assert_true(allocs >= 5); /* the five buffers at least */
    csv_loop(ctx, data, len, 5, KZ_OK, -1);
    free(data);
}

static void test_csv_growing_buffers(void **state)
{
    kz_ctx *ctx = *state;
    size_t len;
    char *data = wide_csv(&len);
    long allocs = csv_loop(ctx, data, len, 0, KZ_OK, 31);
    /* 5 buffers + field table + record buffer + libcsv growing to 40 KB. */
    assert_true(allocs >= 9);
    csv_loop(ctx, data, len, 4096, KZ_OK, 31);
    free(data);
}

static void test_csv_bad_input(void **state)
{
    kz_ctx *ctx = *state;
    static const char ragged[] = "Gebiet;Einwohner\n0101;1000\n0102;2000;7\n";
    static const char quote[] = "Gebiet;Einwohner\n0101;1000\n\"0102;2000\n";
    static const char bom[] = "a;b\n1;2\n\xef\xbb\xbf"
                              "a;b\n";
    csv_loop(ctx, ragged, sizeof(ragged) - 1, 0, KZ_E_INPUT, 2);
    csv_loop(ctx, quote, sizeof(quote) - 1, 3, KZ_E_INPUT, 2);
    csv_loop(ctx, bom, sizeof(bom) - 1, 0, KZ_E_INPUT, 2);
    csv_loop(ctx, "", 0, 0, KZ_E_INPUT, 0);
}

/* ---- project-file parser --------------------------------------------------------- */

static long project_loop(kz_ctx *ctx, const char *path, int want_rc)
{
    size_t len;
    char *buf = slurp(path, &len);
    kz_project *p = NULL;
    long n;
    int rc;

    if (buf == NULL) {
        print_message("skipped: %s not found\n", path);
        return 0;
    }
    kz_project__set_alloc_fail_after(-1);
    rc = kz_project__parse_buffer(&p, ctx, buf, len, path, KZ_PROJECT__NO_FS);
    if (rc != want_rc)
        print_error("%s: %s\n", path, kz_ctx_errmsg(ctx));
    assert_int_equal(rc, want_rc);
    kz_project_free(p);
    for (n = 0; n < MAX_N; n++) {
        p = NULL;
        kz_project__set_alloc_fail_after(n);
        rc = kz_project__parse_buffer(&p, ctx, buf, len, path, KZ_PROJECT__NO_FS);
        if (!kz_project__alloc_failed()) {
            kz_project__set_alloc_fail_after(-1);
            assert_int_equal(rc, want_rc);
            assert_true((p != NULL) == (rc == KZ_OK));
            kz_project_free(p);
            free(buf);
            return n;
        }
        if (rc != KZ_E_NOMEM || strstr(kz_ctx_errmsg(ctx), "out of memory") == NULL) {
            print_error("%s: allocation %ld failed, but rc %d: %s\n", path, n, rc,
                        kz_ctx_errmsg(ctx));
            fail();
        }
        assert_null(p);
    }
    fail_msg("%s: more than %ld allocations", path, MAX_N);
    return -1;
}

static void test_project_files(void **state)
{
    kz_ctx *ctx = *state;
    /* The demo projects use every section (levels with fix_keys, globbed
     * tables, indicators, trends, indices, objects, outputs). */
    assert_true(project_loop(ctx, ROOT "/geodata/berlin/berlin.yml", KZ_OK) > 200);
    project_loop(ctx, ROOT "/geodata/berlin/mss2021.yml", KZ_OK);
    assert_true(project_loop(ctx, ROOT "/tests/data/tiny/tiny.yml", KZ_OK) > 20);
}

static void test_project_invalid(void **state)
{
    kz_ctx *ctx = *state;
    /* Invalid projects: the error paths free what they built. */
    project_loop(ctx, ROOT "/tests/fuzz/corpus/project/cycle.yml", KZ_E_USAGE);
    project_loop(ctx, ROOT "/tests/fuzz/corpus/project/alias.yml", KZ_E_USAGE);
    project_loop(ctx, ROOT "/tests/fuzz/corpus/project/deep.yml", KZ_E_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_real_excerpt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_growing_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csv_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_invalid, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
