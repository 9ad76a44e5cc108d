/*
 * Statistical tables, cell side: values with the symbols of official
 * statistics, periods, area keys. No dependency.
 *
 * The symbols follow the "Zeichenerklärung" printed in every publication of
 * the Statistisches Bundesamt and the Länder offices (e.g. Destatis,
 * Statistisches Jahrbuch, "Zeichenerklärung"): "-" nothing (exactly zero),
 * "." unknown or secret, "x" no sensible value, "..." not yet available,
 * "/" not reliable enough, "p" provisional, "r" revised, "s" estimated.
 */
#include "kiez/table.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Longest number text handed to strtod(); longer cells are not numbers. */
#define NUM_MAX 128

/* Length of a blank at s (space, tab, CR, LF, U+00A0, U+202F), or 0. */
static size_t blank_len(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 1 && (u[0] == ' ' || u[0] == '\t' || u[0] == '\r' || u[0] == '\n'))
        return 1;
    if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (n >= 3 && u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xAF)
        return 3;
    return 0;
}

/* Length of a blank ending at s[n-1], or 0. */
static size_t blank_len_back(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n >= 1 && (u[n - 1] == ' ' || u[n - 1] == '\t' || u[n - 1] == '\r' || u[n - 1] == '\n'))
        return 1;
    if (n >= 2 && u[n - 2] == 0xC2 && u[n - 1] == 0xA0)
        return 2;
    if (n >= 3 && u[n - 3] == 0xE2 && u[n - 2] == 0x80 && u[n - 1] == 0xAF)
        return 3;
    return 0;
}

/* Trim blanks from both ends of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    size_t k;
    while ((k = blank_len(*s, *n)) > 0) {
        *s += k;
        *n -= k;
    }
    while ((k = blank_len_back(*s, *n)) > 0)
        *n -= k;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int equals(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Length of a thousands separator at s, or 0. */
static size_t sep_len(const char *s, size_t n, char thousands)
{
    const unsigned char *u = (const unsigned char *)s;
    switch (thousands) {
    case ' ':
    case KZ_THOUSANDS_NBSP:
        return n >= 1 && u[0] == ' ' ? 1 : blank_len(s, n) > 1 ? blank_len(s, n) : 0;
    case '\'':
        if (n >= 1 && u[0] == '\'')
            return 1;
        return n >= 3 && u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0x99 ? 3 : 0; /* U+2019 */
    case '.':
    case ',':
        return n >= 1 && s[0] == thousands ? 1 : 0;
    default:
        return 0;
    }
}

/*
 * The common case fast: an optional '-', digits, optionally `decimal` and
 * digits, at most 15 digits in all ("1234", "-12,5"). The digits as an
 * integer and the power of ten are then exact doubles, so the one rounding
 * of their quotient is the correctly rounded value that strtod() returns
 * (W. D. Clinger, "How to read floating point numbers accurately", PLDI
 * 1990: the fast path). 0 when the text is not of this form.
 */
static int parse_plain(double *out, const char *s, size_t n, char decimal)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    uint64_t m = 0;
    size_t i = 0, digits = 0, frac = 0;
    int negative = 0, in_frac = 0;
    if (n > 0 && s[0] == '-') {
        negative = 1;
        i = 1;
    }
    for (; i < n; i++) {
        if (is_digit(s[i])) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits++;
            frac += (size_t)in_frac;
        } else if (s[i] == decimal && !in_frac && digits > 0) {
            in_frac = 1;
        } else {
            return 0;
        }
    }
    if (digits == 0 || digits > 15 || (in_frac && frac == 0))
        return 0;
    *out = (double)m / pow10[frac];
    if (negative && *out != 0.0) /* no negative zero */
        *out = -*out;
    return 1;
}

/*
 * Parse [s, s + n) as a number: sign, blanks, digits grouped by `thousands`,
 * decimal part, exponent; into the plain C form for strtod().
 */
static int parse_number(double *out, const char *s, size_t n, char decimal, char thousands)
{
    char buf[NUM_MAX + 8];
    size_t i = 0, o = 0, k;
    size_t group = 0; /* digits in the current integer group */
    int grouped = 0;  /* a thousands separator was seen */
    size_t int_digits = 0, frac_digits = 0;
    const struct lconv *lc;
    char *end = NULL;
    double v;

    if (parse_plain(out, s, n, decimal))
        return KZ_OK;
    if (n > NUM_MAX)
        return KZ_E_INPUT;
    /* Sign, then optional blanks: Hamburg writes "-  23". */
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        buf[o++] = s[i];
        i++;
    } else if (n - i >= 3 && memcmp(s + i, "\xE2\x88\x92", 3) == 0) { /* U+2212 */
        buf[o++] = '-';
        i += 3;
    }
    while ((k = blank_len(s + i, n - i)) > 0)
        i += k;
    /* Integer part. */
    while (i < n) {
        if (is_digit(s[i])) {
            buf[o++] = s[i++];
            group++;
            int_digits++;
        } else if ((k = sep_len(s + i, n - i, thousands)) > 0) {
            /* Groups: first 1..3 digits, then exactly 3. */
            if (group == 0 || group > 3 || (grouped && group != 3))
                return KZ_E_INPUT;
            grouped = 1;
            group = 0;
            i += k;
        } else {
            break;
        }
    }
    if (grouped && group != 3)
        return KZ_E_INPUT;
    /* Decimal part. */
    if (i < n && s[i] == decimal) {
        i++;
        lc = localeconv();
        buf[o++] = (lc != NULL && lc->decimal_point != NULL && lc->decimal_point[0] != '\0')
                       ? lc->decimal_point[0]
                       : '.';
        while (i < n && is_digit(s[i])) {
            buf[o++] = s[i++];
            frac_digits++;
        }
        if (frac_digits == 0)
            return KZ_E_INPUT;
    }
    if (int_digits + frac_digits == 0)
        return KZ_E_INPUT;
    /* Exponent. */
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;
        buf[o++] = 'e';
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            buf[o++] = s[i++];
        while (i < n && is_digit(s[i])) {
            buf[o++] = s[i++];
            exp_digits++;
        }
        if (exp_digits == 0)
            return KZ_E_INPUT;
    }
    if (i != n)
        return KZ_E_INPUT;
    buf[o] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (end == NULL || *end != '\0' || !isfinite(v))
        return KZ_E_INPUT;
    if (errno == ERANGE && fabs(v) > 1.0)
        return KZ_E_INPUT;     /* overflow; underflow yields a tiny value or 0 */
    *out = v == 0.0 ? 0.0 : v; /* no negative zero */
    return KZ_OK;
}

int kz_value_parse(double *value, int *flag, const char *text, char decimal, char thousands)
{
    const char *s = text;
    size_t n;
    int estimated = 0;
    double v = 0.0;

    *value = 0.0;
    *flag = KZ_FLAG_MISSING;
    if (text == NULL)
        return KZ_OK;
    if (decimal == 0)
        decimal = '.';
    if (decimal != '.' && decimal != ',')
        return KZ_E_INPUT;
    if (thousands == decimal)
        return KZ_E_INPUT;
    n = strlen(s);
    trim(&s, &n);

    if (n == 0 || equals(s, n, "...") || equals(s, n, "\xE2\x80\xA6") || equals(s, n, "/"))
        return KZ_OK; /* missing */
    if (equals(s, n, ".") || equals(s, n, "x") || equals(s, n, "X")) {
        *flag = KZ_FLAG_SUPPRESSED;
        return KZ_OK;
    }
    if (equals(s, n, "-") || equals(s, n, "\xE2\x80\x93")) { /* "-" or en dash */
        *flag = KZ_FLAG_OK;
        return KZ_OK;
    }
    /* Trailing marker, attached or after a blank: "12,5 p", "1234p". */
    if (n >= 2 && (s[n - 1] == 'p' || s[n - 1] == 'r' || s[n - 1] == 's')) {
        size_t m = n - 1;
        if (is_digit(s[m - 1]) || blank_len_back(s, m) > 0) {
            n = m;
            trim(&s, &n);
            estimated = 1;
        }
    }
    if (parse_number(&v, s, n, decimal, thousands) != KZ_OK)
        return KZ_E_INPUT;
    *value = v;
    *flag = estimated ? KZ_FLAG_ESTIMATED : KZ_FLAG_OK;
    return KZ_OK;
}

/* Read exactly `len` ASCII digits at s as a number, or -1. */
static int digits(const char *s, size_t len)
{
    int v = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static int put_date(char out[11], int y, int m, int d)
{
    int v[3];
    int i, k;
    char *p = out;
    if (y < 1 || y > 9999 || m < 1 || m > 12)
        return KZ_E_INPUT;
    if (d == 0)
        d = days_in_month(y, m); /* the reference date: end of the period */
    if (d < 1 || d > days_in_month(y, m))
        return KZ_E_INPUT;
    v[0] = y;
    v[1] = m;
    v[2] = d;
    for (i = 0; i < 3; i++) {
        int width = i == 0 ? 4 : 2, div = i == 0 ? 1000 : 10;
        if (i > 0)
            *p++ = '-';
        for (k = 0; k < width; k++, div /= 10)
            *p++ = (char)('0' + (v[i] / div) % 10);
    }
    *p = '\0';
    return KZ_OK;
}

int kz_period_parse(char out[11], const char *text)
{
    const char *s = text;
    size_t n;
    int y, m, d;
    int rc = KZ_E_INPUT;

    out[0] = '\0';
    if (text == NULL)
        return KZ_E_INPUT;
    n = strlen(s);
    trim(&s, &n);

    if (n >= 10 && s[4] == '-' && s[7] == '-' && (n == 10 || s[10] == 'T' || s[10] == ' ')) {
        y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
        if (y >= 0 && m >= 0 && d > 0)
            rc = put_date(out, y, m, d);
    } else if (n == 4) {
        if ((y = digits(s, 4)) >= 0)
            rc = put_date(out, y, 12, 31);
    } else if (n == 6) {
        y = digits(s, 4), m = digits(s + 4, 2);
        if (y >= 0 && m >= 0)
            rc = put_date(out, y, m, 0);
    } else if (n == 7 && s[4] == '-') {
        y = digits(s, 4), m = digits(s + 5, 2);
        if (y >= 0 && m >= 0)
            rc = put_date(out, y, m, 0);
    } else if (n == 8 && digits(s, 8) >= 0) {
        y = digits(s, 4), m = digits(s + 4, 2), d = digits(s + 6, 2);
        if (y >= 0 && m >= 0 && d > 0)
            rc = put_date(out, y, m, d);
    } else {
        /* D.M.YYYY with one- or two-digit day and month. */
        const char *p1 = memchr(s, '.', n);
        const char *p2 = p1 != NULL ? memchr(p1 + 1, '.', n - (size_t)(p1 + 1 - s)) : NULL;
        if (p1 != NULL && p2 != NULL) {
            size_t ld = (size_t)(p1 - s), lm = (size_t)(p2 - p1 - 1), ly = n - (size_t)(p2 + 1 - s);
            if (ld >= 1 && ld <= 2 && lm >= 1 && lm <= 2 && ly == 4) {
                d = digits(s, ld), m = digits(p1 + 1, lm), y = digits(p2 + 1, 4);
                if (y >= 0 && m >= 0 && d > 0)
                    rc = put_date(out, y, m, d);
            }
        }
    }
    if (rc != KZ_OK)
        out[0] = '\0';
    return rc;
}

int kz_key_normalise(char *out, size_t size, const char *key, int width)
{
    const char *s = key;
    size_t n, i, pad = 0;
    int numeric = 1;

    if (size > 0)
        out[0] = '\0';
    if (key == NULL)
        return KZ_E_INPUT;
    n = strlen(s);
    trim(&s, &n);
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s++;
        n -= 2;
        trim(&s, &n);
    }
    if (n == 0)
        return KZ_E_INPUT;
    for (i = 0; i < n; i++)
        if (!is_digit(s[i]))
            numeric = 0;
    if (numeric && width > 0) {
        size_t w = (size_t)width;
        while (n > w && s[0] == '0') {
            s++;
            n--;
        }
        if (n > w)
            return KZ_E_INPUT;
        pad = w - n;
    }
    if (pad + n + 1 > size)
        return KZ_E_INPUT;
    memset(out, '0', pad);
    memcpy(out + pad, s, n);
    out[pad + n] = '\0';
    return KZ_OK;
}
