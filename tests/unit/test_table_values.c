/* cmocka.h needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "kiez/kiez.h"
#include "kiez/table.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE KZ_THOUSANDS_NONE
#define NBSP KZ_THOUSANDS_NBSP
#define IN KZ_E_INPUT

static const struct value_case {
    const char *text;
    char decimal, thousands;
    int rc;
    double value;
    int flag;
} value_cases[] = {
    /* the Zeichenerklärung */
    {"", ',', ' ', KZ_OK, 0, KZ_FLAG_MISSING},
    {"   ", ',', ' ', KZ_OK, 0, KZ_FLAG_MISSING},
    {".", ',', ' ', KZ_OK, 0, KZ_FLAG_SUPPRESSED},
    {" . ", ',', '.', KZ_OK, 0, KZ_FLAG_SUPPRESSED},
    {"x", ',', ' ', KZ_OK, 0, KZ_FLAG_SUPPRESSED},
    {"X", '.', NONE, KZ_OK, 0, KZ_FLAG_SUPPRESSED},
    {"-", ',', ' ', KZ_OK, 0, KZ_FLAG_OK},
    {"\xE2\x80\x93", ',', ' ', KZ_OK, 0, KZ_FLAG_OK},
    {"...", ',', ' ', KZ_OK, 0, KZ_FLAG_MISSING},
    {"\xE2\x80\xA6", ',', ' ', KZ_OK, 0, KZ_FLAG_MISSING},
    {"/", ',', ' ', KZ_OK, 0, KZ_FLAG_MISSING},
    {"12,5 p", ',', ' ', KZ_OK, 12.5, KZ_FLAG_ESTIMATED},
    {"12,5p", ',', ' ', KZ_OK, 12.5, KZ_FLAG_ESTIMATED},
    {"1 234 r", ',', ' ', KZ_OK, 1234, KZ_FLAG_ESTIMATED},
    {"7 s", ',', ' ', KZ_OK, 7, KZ_FLAG_ESTIMATED},
    {"ps", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"p", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {". p", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    /* German formats */
    {"1 234,5", ',', ' ', KZ_OK, 1234.5, KZ_FLAG_OK},
    {"  1 234 ", ',', ' ', KZ_OK, 1234, KZ_FLAG_OK},
    {"1.234,5", ',', '.', KZ_OK, 1234.5, KZ_FLAG_OK},
    {"1.234.567", ',', '.', KZ_OK, 1234567, KZ_FLAG_OK},
    {"12,5", ',', ' ', KZ_OK, 12.5, KZ_FLAG_OK},
    {"12,5", ',', NONE, KZ_OK, 12.5, KZ_FLAG_OK},
    {",5", ',', NONE, KZ_OK, 0.5, KZ_FLAG_OK},
    {"1 788 994    ", ',', ' ', KZ_OK, 1788994, KZ_FLAG_OK},
    {"-  23    ", ',', ' ', KZ_OK, -23, KZ_FLAG_OK},
    {"- 1 234,5", ',', ' ', KZ_OK, -1234.5, KZ_FLAG_OK},
    {"+7", ',', ' ', KZ_OK, 7, KZ_FLAG_OK},
    {"\xE2\x88\x92"
     "3",
     ',', ' ', KZ_OK, -3, KZ_FLAG_OK},
    {"-0", ',', ' ', KZ_OK, 0, KZ_FLAG_OK},
    {"1\xC2\xA0"
     "234,5",
     ',', ' ', KZ_OK, 1234.5, KZ_FLAG_OK},
    {"1\xC2\xA0"
     "234,5",
     ',', NBSP, KZ_OK, 1234.5, KZ_FLAG_OK},
    {"1\xE2\x80\xAF"
     "234",
     ',', NBSP, KZ_OK, 1234, KZ_FLAG_OK},
    {"1 234", ',', NBSP, KZ_OK, 1234, KZ_FLAG_OK},
    /* English and Swiss formats */
    {"1,234.5", '.', ',', KZ_OK, 1234.5, KZ_FLAG_OK},
    {"3.804347826086957", '.', NONE, KZ_OK, 3.804347826086957, KZ_FLAG_OK},
    {"3.804347826086957", 0, 0, KZ_OK, 3.804347826086957, KZ_FLAG_OK},
    {"1'234.5", '.', '\'', KZ_OK, 1234.5, KZ_FLAG_OK},
    {"1\xE2\x80\x99"
     "234",
     '.', '\'', KZ_OK, 1234, KZ_FLAG_OK},
    {"1.5e3", '.', NONE, KZ_OK, 1500, KZ_FLAG_OK},
    {"1,5E-3", ',', '.', KZ_OK, 0.0015, KZ_FLAG_OK},
    {"01100101", '.', NONE, KZ_OK, 1100101, KZ_FLAG_OK},
    /* not numbers */
    {"12 %", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"12%", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"5 km", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"inf", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"-inf", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"nan", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"NaN", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"0x1A", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"0x1p3", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"1e999", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"1e", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"1.", '.', NONE, IN, 0, KZ_FLAG_MISSING},
    {"1,", ',', NONE, IN, 0, KZ_FLAG_MISSING},
    {"+", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"--1", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1.5", ',', NONE, IN, 0, KZ_FLAG_MISSING}, /* '.' is not the decimal */
    {"1.5", ',', '.', IN, 0, KZ_FLAG_MISSING},  /* groups of three */
    {"1 23", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1234 567", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1  234", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1 234", ',', NONE, IN, 0, KZ_FLAG_MISSING},
    {"1,234,5", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1,234.5", ',', '.', IN, 0, KZ_FLAG_MISSING},
    {" 1,5 2", ',', NONE, IN, 0, KZ_FLAG_MISSING},
    {"abc", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"..", ',', ' ', IN, 0, KZ_FLAG_MISSING},
    {"1,5", ',', ',', IN, 0, KZ_FLAG_MISSING},  /* decimal == thousands */
    {"1;5", ';', NONE, IN, 0, KZ_FLAG_MISSING}, /* no such decimal */
    {"1111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
     "1111111111111111111111111111111111111111111111111111",
     '.', NONE, IN, 0, KZ_FLAG_MISSING},
};

static void test_values(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *c = &value_cases[i];
        double v = -99;
        int flag = -99;
        int rc = kz_value_parse(&v, &flag, c->text, c->decimal, c->thousands);
        if (rc != c->rc || flag != c->flag || v != c->value || (c->value == 0 && signbit(v)))
            fail_msg("case %zu \"%s\": rc %d value %.17g flag %d; expected %d %.17g %d", i, c->text,
                     rc, v, flag, c->rc, c->value, c->flag);
    }
}

/* Plain numbers take a fast path (table_values.c: parse_plain): it must
 * give strtod()'s double, bit for bit, for every length and position of
 * the decimal sign, with a decimal comma as with a point. */
static void test_values_plain_as_strtod(void **state)
{
    uint64_t x = 88172645463325252ULL; /* xorshift64, fixed seed */
    char text[32], c_form[32];
    size_t i;
    (void)state;
    for (i = 0; i < 200000; i++) {
        size_t digits, point, k, o = 0;
        double v = -1, expected;
        int flag = -1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        digits = 1 + (size_t)(x % 17);             /* 16 and 17 digits: the slow path */
        point = (size_t)((x >> 8) % (digits + 1)); /* digits before the sign */
        if ((x >> 16) & 1)
            text[o++] = '-';
        for (k = 0; k < digits; k++) {
            if (k == point && k > 0)
                text[o++] = ',';
            text[o++] = (char)('0' + (x >> (20 + 2 * k % 40)) % 10);
        }
        text[o] = '\0';
        memcpy(c_form, text, o + 1);
        if (strchr(c_form, ',') != NULL)
            *strchr(c_form, ',') = '.';
        expected = strtod(c_form, NULL);
        if (expected == 0.0)
            expected = 0.0;
        if (kz_value_parse(&v, &flag, text, ',', '.') != KZ_OK || memcmp(&v, &expected, 8) != 0)
            fail_msg("\"%s\": %.17g, strtod %.17g", text, v, expected);
        if (kz_value_parse(&v, &flag, c_form, '.', NONE) != KZ_OK || memcmp(&v, &expected, 8) != 0)
            fail_msg("\"%s\": %.17g, strtod %.17g", c_form, v, expected);
    }
}

/* strtod() follows the C locale; kz_value_parse() must not. */
static void test_values_locale_independent(void **state)
{
    double v = 0;
    int flag = 0;
    (void)state;
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL && setlocale(LC_NUMERIC, "de_DE") == NULL)
        skip();
    assert_int_equal(kz_value_parse(&v, &flag, "1.234,5", ',', '.'), KZ_OK);
    assert_true(v == 1234.5);
    assert_int_equal(kz_value_parse(&v, &flag, "3.25", '.', NONE), KZ_OK);
    assert_true(v == 3.25);
    setlocale(LC_NUMERIC, "C");
}

static void test_value_null(void **state)
{
    double v = 1;
    int flag = 0;
    (void)state;
    assert_int_equal(kz_value_parse(&v, &flag, NULL, ',', ' '), KZ_OK);
    assert_int_equal(flag, KZ_FLAG_MISSING);
    assert_true(v == 0);
}

static const struct period_case {
    const char *text;
    const char *out; /* NULL = error */
} period_cases[] = {
    {"2023-12-31", "2023-12-31"},
    {" 2023-12-31 ", "2023-12-31"},
    {"31.12.2023", "2023-12-31"},
    {"1.2.2023", "2023-02-01"},
    {"01.02.2023", "2023-02-01"},
    {"2023", "2023-12-31"},
    {"202012", "2020-12-31"},
    {"202002", "2020-02-29"},
    {"202102", "2021-02-28"},
    {"2020-12", "2020-12-31"},
    {"2023-06", "2023-06-30"},
    {"2023-06-30T12:00:00Z", "2023-06-30"},
    {"2023-06-30 12:00", "2023-06-30"},
    {"20231231", "2023-12-31"},
    {"2024-02-29", "2024-02-29"},
    {"2000-02-29", "2000-02-29"},
    {"0001-01-01", "0001-01-01"},
    {"2023-02-30", NULL},
    {"2023-02-29", NULL},
    {"1900-02-29", NULL},
    {"2023-13-01", NULL},
    {"2023-00-10", NULL},
    {"2023-01-00", NULL},
    {"2023-04-31", NULL},
    {"32.01.2023", NULL},
    {"31.12.23", NULL},
    {"202013", NULL},
    {"2023-1", NULL},
    {"2023-06-30X", NULL},
    {"0000", NULL},
    {"abcd", NULL},
    {"", NULL},
    {"2023-12-3", NULL},
    {"2023/12/31", NULL},
    {"20231232", NULL},
    {"-2023", NULL},
    {"1.1.2023.", NULL},
    {"..2023", NULL},
};

static void test_periods(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(period_cases) / sizeof(period_cases[0]); i++) {
        const struct period_case *c = &period_cases[i];
        char out[11] = "garbage";
        int rc = kz_period_parse(out, c->text);
        if (c->out == NULL) {
            if (rc != KZ_E_INPUT || out[0] != '\0')
                fail_msg("case %zu \"%s\": expected an error, got %d \"%s\"", i, c->text, rc, out);
        } else if (rc != KZ_OK || strcmp(out, c->out) != 0) {
            fail_msg("case %zu \"%s\": got %d \"%s\", expected \"%s\"", i, c->text, rc, out,
                     c->out);
        }
    }
    assert_int_equal(kz_period_parse((char[11]){0}, NULL), KZ_E_INPUT);
}

static const struct key_case {
    const char *key;
    int width;
    size_t size;
    const char *out; /* NULL = error */
} key_cases[] = {
    {"1001", 5, 16, "01001"},
    {"01001", 5, 16, "01001"},
    {"012", 2, 16, "12"},
    {"0012", 2, 16, "12"},
    {"123", 2, 16, NULL},
    {"0123", 2, 16, NULL},
    {"  01100101 ", 8, 16, "01100101"},
    {"\"01100101\"", 0, 16, "01100101"},
    {"' 7 '", 3, 16, "007"},
    {"1100101", 8, 16, "01100101"},
    {"1100101", 0, 16, "1100101"},
    {"A12", 5, 16, "A12"},
    {"1001.0", 5, 16, "1001.0"},
    {"0", 3, 16, "000"},
    {"000", 1, 16, "0"},
    {"", 5, 16, NULL},
    {"   ", 0, 16, NULL},
    {"\"\"", 0, 16, NULL},
    {"\"12", 0, 16, "\"12"},
    {"12345", 0, 5, NULL},
    {"12345", 0, 6, "12345"},
    {"1", 5, 5, NULL},
    {"1", 5, 6, "00001"},
    {"Hamburg-Altstadt", 0, 32, "Hamburg-Altstadt"},
    {"\xC2\xA0"
     "42\xC2\xA0",
     4, 16, "0042"},
};

static void test_keys(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
        const struct key_case *c = &key_cases[i];
        char out[64];
        int rc;
        memset(out, 'Z', sizeof(out));
        rc = kz_key_normalise(out, c->size, c->key, c->width);
        if (c->out == NULL) {
            if (rc != KZ_E_INPUT || out[0] != '\0')
                fail_msg("case %zu \"%s\": expected an error, got %d", i, c->key, rc);
        } else if (rc != KZ_OK || strcmp(out, c->out) != 0) {
            fail_msg("case %zu \"%s\": got %d \"%s\", expected \"%s\"", i, c->key, rc,
                     rc == KZ_OK ? out : "", c->out);
        }
        /* never writes past size */
        assert_true(out[c->size] == 'Z');
    }
    assert_int_equal(kz_key_normalise(NULL, 0, "1", 0), KZ_E_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_values_plain_as_strtod),
        cmocka_unit_test(test_values_locale_independent),
        cmocka_unit_test(test_value_null),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
