/*
 * Statistical tables: a streaming CSV reader (libcsv) that detects the
 * dialect of files exported from Excel by German offices, plus the parsers
 * for cell values, periods and area keys.
 */
#ifndef KIEZ_TABLE_H
#define KIEZ_TABLE_H

#include "kiez/common.h"
#include "kiez/ctx.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum kz_encoding {
    KZ_ENC_DETECT = 0,
    KZ_ENC_UTF8 = 1,   /* with or without BOM */
    KZ_ENC_LATIN1 = 2, /* ISO 8859-1 */
    KZ_ENC_CP1252 = 3  /* Windows-1252 */
};

/* Values of kz_csv_dialect.thousands besides '.', ',', ' ' and '\''. */
#define KZ_THOUSANDS_NONE 1 /* no thousands separator */
#define KZ_THOUSANDS_NBSP 2 /* U+00A0 no-break space */

/* The dialect of a CSV file. Zero fields are detected by kz_csv_read(),
 * which fills them in. */
typedef struct kz_csv_dialect {
    char delimiter; /* ',' ';' '\t' '|'; 0 = detect */
    char decimal;   /* '.' or ','; 0 = detect */
    char thousands; /* '.' ',' ' ' '\'' KZ_THOUSANDS_NBSP, KZ_THOUSANDS_NONE; 0 = detect */
    int encoding;   /* enum kz_encoding; KZ_ENC_DETECT = detect */
} kz_csv_dialect;

/* One record. Fields are UTF-8, NUL-terminated, with surrounding blanks
 * removed. Borrowed: valid during the callback only. */
typedef struct kz_csv_row {
    long line; /* 1-based line where the record starts */
    size_t n_fields;
    const char *const *fields;
} kz_csv_row;

/* Called for every record, the header first. Return KZ_OK to go on; any
 * other value stops reading and is returned by kz_csv_read() (set the
 * context error first). */
typedef int (*kz_csv_row_fn)(const kz_csv_row *row, void *payload);

/* Caps on untrusted input; exceeding one is an error, never a truncation. */
#define KZ_CSV_MAX_FIELD (1 << 20)  /* bytes in one field */
#define KZ_CSV_MAX_FIELDS 10000     /* fields in one record */
#define KZ_CSV_MAX_RECORD (1 << 24) /* bytes in one record (trimmed fields) */

/**
 * Read a CSV file record by record, in constant memory.
 *
 * Detects what `dialect` leaves at 0 from the first 64 KiB, converts to
 * UTF-8, strips a BOM; rows with another number of fields than the header,
 * unterminated quotes, NUL bytes, invalid UTF-8 (when UTF-8), a BOM later in
 * the file and fields over the caps are errors naming file and line.
 *
 * Detection: the delimiter is the candidate (';' ',' tab '|') that splits the
 * header into two or more fields and the rows into as many; the encoding is
 * UTF-8 when the sample is valid UTF-8, else Windows-1252 (a file that is
 * UTF-8 in its first 64 KiB and not later is an error: set the encoding);
 * decimal and thousands separators are voted on by the numeric-looking cells
 * ("1 234,5", "1.234,5", "1,234.5", "12,5"); without evidence the decimal
 * is ',' in ';'-separated files and '.' otherwise, and there is no
 * thousands separator. Memory is bounded by the caps and the sample.
 *
 * Records whose fields are all empty (blank lines, Excel's ";;;" filler rows)
 * are skipped; the first other record is the header. Quotes are '"', doubled
 * inside quoted fields; a quote inside an unquoted field is an error. Line
 * ends may be LF, CRLF or CR. A file without a header is an error.
 *
 * \param dialect in: overrides (NULL = detect everything); out: the dialect
 *        used, thousands KZ_THOUSANDS_NONE when there is none; filled in
 *        before the first callback, so the callback may read it (pass it in
 *        `payload`) to parse values.
 * \return KZ_OK, KZ_E_IO (cannot open/read), KZ_E_INPUT (malformed),
 *         KZ_E_USAGE (impossible dialect override), KZ_E_NOMEM, or the
 *         callback's result.
 */
KZ_API int kz_csv_read(kz_ctx *ctx, const char *path, kz_csv_dialect *dialect, kz_csv_row_fn fn,
                       void *payload);

/* Flags of a value. Append only: stored in databases. */
enum kz_flag {
    KZ_FLAG_OK = 0,         /* a value */
    KZ_FLAG_MISSING = 1,    /* no value (empty, "...", "/", configured markers) */
    KZ_FLAG_SUPPRESSED = 2, /* withheld for confidentiality ("." or "x") */
    KZ_FLAG_ESTIMATED = 3,  /* estimated value (trailing "p"/"r"/"s" markers, e.g. "12,5 p") */
    KZ_FLAG_AGGREGATED = 4  /* computed by kiez from finer areas */
};

/**
 * Parse one cell into a value and a flag, after the German "Zeichenerklärung"
 * of official statistics: "." and "x"/"X" suppressed, "-" (or "\u2013")
 * nothing (0, flag OK), "...", "\u2026" and "/" missing, "" missing. A
 * trailing "p" (provisional), "r" (revised) or "s" (estimated), with or
 * without a blank before it, gives KZ_FLAG_ESTIMATED.
 *
 * Numbers: surrounding blanks (also U+00A0) are ignored; an optional sign
 * ('+', '-', U+2212) may be followed by blanks ("-  23"); digits with
 * thousands separators must group by three ("1 234 567"); a decimal part
 * needs digits after the separator; an exponent ("1.5E3") is allowed. A
 * thousands separator ' ' or KZ_THOUSANDS_NBSP accepts U+0020, U+00A0 and
 * U+202F; '\'' also accepts U+2019. Units ("12 %"), inf, nan and hex are
 * not numbers. Independent of the C locale.
 *
 * \param decimal '.' or ','; 0 = '.'.
 * \param thousands as in kz_csv_dialect; 0 or KZ_THOUSANDS_NONE = none.
 * \return KZ_OK (value and flag set; value is 0 unless flag is OK or
 *         ESTIMATED) or KZ_E_INPUT when the text is not a number (then
 *         value 0 and flag MISSING); the caller names the cell in its message.
 */
KZ_API int kz_value_parse(double *value, int *flag, const char *text, char decimal, char thousands);

/**
 * Parse a period into an ISO date "YYYY-MM-DD" (the reference date):
 * "2023-12-31", "31.12.2023", "2023" (-> 2023-12-31), "202012" and "2020-12"
 * (-> 2020-12-31), "2023-06-30T..." (time ignored).
 * Also "20231231" and "2023-06-30 12:00" (time ignored); days and months of
 * "31.12.2023" may have one digit. Surrounding blanks are ignored; dates are
 * validated (2023-02-30 is an error, 2024-02-29 is not); years 1..9999.
 * \param out receives 11 bytes ("" on error).
 * \return KZ_OK or KZ_E_INPUT.
 */
KZ_API int kz_period_parse(char out[11], const char *text);

/**
 * Normalise an area key: trims blanks and surrounding quotes; with width > 0
 * left-pads numeric keys with zeros to `width` ("1001" -> "01001" for width 5)
 * and strips surplus leading zeros ("012" -> "12" for width 2). Keys with
 * anything but ASCII digits are only trimmed ("1001.0" stays as it is).
 * \return KZ_OK, or KZ_E_INPUT if the key is empty or longer than width
 *         without surplus leading zeros, or does not fit `size` (then out
 *         is "" when size > 0).
 */
KZ_API int kz_key_normalise(char *out, size_t size, const char *key, int width);

#ifdef __cplusplus
}
#endif
#endif
