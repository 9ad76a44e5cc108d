/*
 * Statistical tables, file side: the libcsv adapter. A streaming CSV reader
 * for the files German offices export from Excel: detects delimiter,
 * encoding and number format from a sample, converts Windows-1252 to UTF-8,
 * and reports malformed input by file and line.
 *
 * Pipeline, chunk by chunk in constant memory:
 *   source -> sample (first KZ_CSV__SAMPLE bytes, kept for detection)
 *          -> decode (UTF-8 check or Windows-1252/Latin-1 conversion,
 *             NUL and stray BOM checks)
 *          -> libcsv, fed one physical line at a time so that every
 *             callback knows its line number
 *          -> record (trimmed fields, caps) -> caller's callback.
 */
#include "table_csv.h"

#include "ctx_internal.h"

#include <csv.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bytes libcsv may hold for one field: the cap, one more to see it
 * exceeded, and the NUL of CSV_APPEND_NULL. */
#define FIELD_LIMIT ((size_t)KZ_CSV_MAX_FIELD + 2)

/* libcsv grows its field buffer by this much (its default, 128, makes a
 * 1 MiB field cost 8192 reallocations). */
#define LIBCSV_BLOCK ((size_t)16 * 1024)

/* Windows-1252 0x80..0x9F; 0 = undefined byte. 0xA0..0xFF equal Latin-1. */
static const unsigned short cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

/* ------------------------------------------------------------------ */
/* Small pieces                                                         */

/* Line counting: LF, CRLF and a lone CR each end a line. */
struct lines {
    long line;
    int prev_cr;
};

static void lines_byte(struct lines *l, unsigned char c)
{
    if (c == '\r') {
        l->line++;
        l->prev_cr = 1;
        return;
    }
    if (c == '\n' && !l->prev_cr)
        l->line++;
    l->prev_cr = 0;
}

/* Incremental UTF-8 decoder: rejects overlong forms, surrogates and code
 * points past U+10FFFF. */
struct u8 {
    unsigned need;
    unsigned long cp, min;
    unsigned char lead; /* first byte of the current sequence, for messages */
};

/* 1: a code point is complete in s->cp; 0: more bytes needed; -1: invalid. */
static int u8_step(struct u8 *s, unsigned char b)
{
    if (s->need == 0) {
        s->lead = b;
        if (b < 0x80) {
            s->cp = b;
            return 1;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            s->need = 1, s->cp = b & 0x1Fu, s->min = 0x80;
        } else if (b >= 0xE0 && b <= 0xEF) {
            s->need = 2, s->cp = b & 0x0Fu, s->min = 0x800;
        } else if (b >= 0xF0 && b <= 0xF4) {
            s->need = 3, s->cp = b & 0x07u, s->min = 0x10000;
        } else {
            return -1;
        }
        return 0;
    }
    if ((b & 0xC0) != 0x80)
        return -1;
    s->cp = (s->cp << 6) | (b & 0x3Fu);
    if (--s->need > 0)
        return 0;
    if (s->cp < s->min || s->cp > 0x10FFFF || (s->cp >= 0xD800 && s->cp <= 0xDFFF))
        return -1;
    return 1;
}

static size_t u8_put(unsigned char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Allocation with failure injection for the tests (table_csv.h). */
static long fail_after = -1;
static int fail_done;

void kz_csv__set_alloc_fail_after(long n)
{
    fail_after = n;
    fail_done = 0;
}

int kz_csv__alloc_failed(void)
{
    return fail_done;
}

/* Unlike project.c's, the failure sticks: libcsv retries a failed growth
 * with smaller sizes, which would absorb a single failure. */
static int inject_failure(void)
{
    if (fail_after < 0 || fail_done)
        return fail_done;
    if (fail_after-- == 0) {
        fail_done = 1;
        return 1;
    }
    return 0;
}

static void *xmalloc(size_t n)
{
    return inject_failure() ? NULL : malloc(n);
}

static void *xrealloc(void *p, size_t n)
{
    return inject_failure() ? NULL : realloc(p, n);
}

/* libcsv's allocator: refuses to grow a field past the cap, so a 10 MB
 * field costs at most FIELD_LIMIT bytes. */
static void *capped_realloc(void *p, size_t n)
{
    return n > FIELD_LIMIT ? NULL : xrealloc(p, n);
}

static const char *delim_name(char d)
{
    switch (d) {
    case ',':
        return "','";
    case ';':
        return "';'";
    case '\t':
        return "tab";
    default:
        return "'|'";
    }
}

/* ------------------------------------------------------------------ */
/* The reader                                                           */

struct rd {
    kz_ctx *ctx;
    const char *name;
    kz_csv_row_fn fn;
    void *payload;
    int rc; /* first error or the callback's stop code; stops everything */

    /* source */
    FILE *fp;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    size_t chunk;

    /* decoding */
    int enc;
    struct u8 u8;
    int bom_match;       /* bytes of EF BB BF seen in a single-byte file */
    struct lines dec;    /* line of the byte being decoded */
    unsigned char *conv; /* 3 * chunk: converted bytes */

    /* parsing */
    struct csv_parser p;
    int p_init;
    char delim;
    struct lines lines; /* line of the segment being parsed */
    long rec_line;      /* line where the current record started */
    int in_rec;

    /* the record being collected */
    char *buf;
    size_t buf_len, buf_cap;
    size_t *offs;
    const char **ptrs;
    size_t n_fields, fields_cap;
    int nonempty;
    size_t header_fields;
    int have_header;
};

static int src_read(struct rd *r, unsigned char *buf, size_t want, size_t *got)
{
    if (r->fp != NULL) {
        *got = fread(buf, 1, want, r->fp);
        if (*got < want && ferror(r->fp))
            return kz_ctx__error(r->ctx, KZ_E_IO, "%s: read error: %s", r->name, strerror(errno));
        return KZ_OK;
    }
    *got = r->mem_len - r->mem_pos < want ? r->mem_len - r->mem_pos : want;
    if (*got > 0)
        memcpy(buf, r->mem + r->mem_pos, *got);
    r->mem_pos += *got;
    return KZ_OK;
}

/* Trim blanks (space, tab, CR, LF, U+00A0, U+202F) around [*s, *s + *n). */
static void trim_field(const unsigned char **s, size_t *n)
{
    const unsigned char *p = *s;
    size_t len = *n;
    for (;;) {
        if (len >= 1 && (p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\n'))
            p++, len--;
        else if (len >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
            p += 2, len -= 2;
        else if (len >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0xAF)
            p += 3, len -= 3;
        else
            break;
    }
    for (;;) {
        if (len >= 1 &&
            (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' || p[len - 1] == '\n'))
            len--;
        else if (len >= 2 && p[len - 2] == 0xC2 && p[len - 1] == 0xA0)
            len -= 2;
        else if (len >= 3 && p[len - 3] == 0xE2 && p[len - 2] == 0x80 && p[len - 1] == 0xAF)
            len -= 3;
        else
            break;
    }
    *s = p;
    *n = len;
}

static int field_too_long(struct rd *r)
{
    return kz_ctx__error(r->ctx, KZ_E_INPUT,
                         "%s:%ld: a field is longer than %d bytes (an unclosed quote?); "
                         "check the quoting of this record",
                         r->name, r->rec_line, KZ_CSV_MAX_FIELD);
}

/* libcsv field callback: keep the trimmed field. */
static void on_field(void *s, size_t len, void *data)
{
    struct rd *r = data;
    const unsigned char *f = s != NULL ? s : (const unsigned char *)"";
    size_t n = s != NULL ? len : 0;

    if (!r->in_rec) { /* a record of blanks and delimiters only */
        r->in_rec = 1;
        r->rec_line = r->lines.line;
    }
    if (r->rc != KZ_OK)
        return;
    if (len > KZ_CSV_MAX_FIELD) {
        r->rc = field_too_long(r);
        return;
    }
    if (r->n_fields >= KZ_CSV_MAX_FIELDS) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:%ld: record has more than %d fields; check the delimiter",
                              r->name, r->rec_line, KZ_CSV_MAX_FIELDS);
        return;
    }
    trim_field(&f, &n);
    if (r->buf_len + n + 1 > KZ_CSV_MAX_RECORD) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:%ld: record is longer than %d bytes; check the quoting", r->name,
                              r->rec_line, KZ_CSV_MAX_RECORD);
        return;
    }
    if (r->buf_len + n + 1 > r->buf_cap) {
        size_t cap = r->buf_cap * 2;
        char *nb;
        if (cap < r->buf_len + n + 1)
            cap = r->buf_len + n + 1;
        if (cap > KZ_CSV_MAX_RECORD)
            cap = KZ_CSV_MAX_RECORD;
        if ((nb = xrealloc(r->buf, cap)) == NULL) {
            r->rc = kz_ctx__error(r->ctx, KZ_E_NOMEM, "%s: out of memory", r->name);
            return;
        }
        r->buf = nb;
        r->buf_cap = cap;
    }
    if (r->n_fields == r->fields_cap) {
        size_t cap = r->fields_cap * 2;
        size_t *no;
        const char **np;
        if (cap > KZ_CSV_MAX_FIELDS)
            cap = KZ_CSV_MAX_FIELDS;
        no = xrealloc(r->offs, cap * sizeof(*no));
        if (no != NULL)
            r->offs = no;
        np = no != NULL ? xrealloc(r->ptrs, cap * sizeof(*np)) : NULL;
        if (np == NULL) {
            r->rc = kz_ctx__error(r->ctx, KZ_E_NOMEM, "%s: out of memory", r->name);
            return;
        }
        r->ptrs = np;
        r->fields_cap = cap;
    }
    if (n > 0)
        memcpy(r->buf + r->buf_len, f, n);
    r->buf[r->buf_len + n] = '\0';
    r->offs[r->n_fields++] = r->buf_len;
    r->buf_len += n + 1;
    if (n > 0)
        r->nonempty = 1;
}

/* libcsv row callback: check the record and hand it to the caller. */
static void on_row(int c, void *data)
{
    struct rd *r = data;
    size_t i, n = r->n_fields;
    kz_csv_row row;
    long line = r->in_rec ? r->rec_line : r->lines.line;

    int nonempty = r->nonempty;
    (void)c;

    r->in_rec = 0;
    r->n_fields = 0;
    r->buf_len = 0;
    r->nonempty = 0;
    if (r->rc != KZ_OK || !nonempty)
        return; /* all fields empty: a blank line or a ";;;" filler row */
    if (!r->have_header) {
        r->have_header = 1;
        r->header_fields = n;
    } else if (n != r->header_fields) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:%ld: row has %zu fields, the header has %zu (delimiter %s); "
                              "quote fields that contain the delimiter",
                              r->name, line, n, r->header_fields, delim_name(r->delim));
        return;
    }
    for (i = 0; i < n; i++)
        r->ptrs[i] = r->buf + r->offs[i];
    row.line = line;
    row.n_fields = n;
    row.fields = r->ptrs;
    r->rc = r->fn(&row, r->payload);
}

/* Hand UTF-8 bytes to libcsv, one physical line at a time. */
static void feed(struct rd *r, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && r->rc == KZ_OK) {
        size_t j = i, len;
        int content = 0;
        long seg_line = r->lines.line;
        while (j < n && s[j] != '\n' && s[j] != '\r') {
            if ((s[j] != ' ' && s[j] != '\t') || s[j] == (unsigned char)r->delim)
                content = 1;
            j++;
        }
        if (j < n)
            j++; /* the line end belongs to this segment */
        len = j - i;
        if (content && !r->in_rec) {
            r->in_rec = 1;
            r->rec_line = seg_line;
        }
        if (csv_parse(&r->p, s + i, len, on_field, on_row, r) != len && r->rc == KZ_OK) {
            if (csv_error(&r->p) == CSV_EPARSE)
                r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                                      "%s:%ld: misplaced '\"': quote the whole field and "
                                      "double the quotes inside it",
                                      r->name, seg_line);
            else if (csv_get_buffer_size(&r->p) >= KZ_CSV_MAX_FIELD)
                r->rc = field_too_long(r);
            else
                r->rc = kz_ctx__error(r->ctx, KZ_E_NOMEM, "%s: out of memory", r->name);
        }
        /* Line count: only the segment's last byte can end a line. */
        if (len > 1 || (s[j - 1] != '\n' && s[j - 1] != '\r'))
            r->lines.prev_cr = 0;
        if (s[j - 1] == '\n' || s[j - 1] == '\r')
            lines_byte(&r->lines, s[j - 1]);
        i = j;
    }
}

/* What decoding found wrong, reported after the bytes before it are parsed. */
enum { BAD_NONE, BAD_NUL, BAD_UTF8, BAD_BOM, BAD_BOM_SINGLE, BAD_CP1252 };

static int decode_error(struct rd *r, int bad, long line, unsigned char byte)
{
    switch (bad) {
    case BAD_NUL:
        return kz_ctx__error(r->ctx, KZ_E_INPUT,
                             "%s:%ld: NUL byte: not a text file (UTF-16?); save it as CSV in "
                             "UTF-8",
                             r->name, line);
    case BAD_UTF8:
        return kz_ctx__error(r->ctx, KZ_E_INPUT,
                             "%s:%ld: invalid UTF-8 (byte 0x%02X); if the file is in another "
                             "encoding, set it (e.g. Windows-1252)",
                             r->name, line, byte);
    case BAD_BOM:
        return kz_ctx__error(r->ctx, KZ_E_INPUT,
                             "%s:%ld: byte order mark inside the file (files concatenated?); "
                             "remove it",
                             r->name, line);
    case BAD_BOM_SINGLE:
        return kz_ctx__error(r->ctx, KZ_E_INPUT,
                             "%s:%ld: UTF-8 byte order mark inside a file read as %s (files "
                             "concatenated?); remove it",
                             r->name, line, r->enc == KZ_ENC_LATIN1 ? "Latin-1" : "Windows-1252");
    default:
        return kz_ctx__error(r->ctx, KZ_E_INPUT,
                             "%s:%ld: byte 0x%02X is neither UTF-8 nor Windows-1252; set the "
                             "encoding of the file",
                             r->name, line, byte);
    }
}

/*
 * Check (UTF-8) or convert (single-byte encodings) raw bytes, then parse.
 * On bad input, the bytes before it are parsed first: what the callback
 * sees and which error wins do not depend on the chunk size.
 */
static void process(struct rd *r, const unsigned char *s, size_t n)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    size_t i, o = 0;
    int bad = BAD_NONE;
    long bad_line = 0;
    unsigned char bad_byte = 0;

    for (i = 0; i < n && bad == BAD_NONE; i++) {
        unsigned char b = s[i];
        bad_line = r->dec.line;
        if (b == 0) {
            bad = BAD_NUL;
            break;
        }
        if (r->enc == KZ_ENC_UTF8) {
            int st = u8_step(&r->u8, b);
            if (st < 0) {
                bad = BAD_UTF8, bad_byte = r->u8.lead;
                break;
            }
            if (st == 1 && r->u8.cp == 0xFEFF) {
                bad = BAD_BOM;
                break;
            }
        } else {
            unsigned long cp = b;
            r->bom_match = b == bom[r->bom_match] ? r->bom_match + 1 : b == bom[0] ? 1 : 0;
            if (r->bom_match == 3) {
                bad = BAD_BOM_SINGLE;
                break;
            }
            if (b >= 0x80 && b < 0xA0 && r->enc == KZ_ENC_CP1252) {
                cp = cp1252_high[b - 0x80];
                if (cp == 0) {
                    bad = BAD_CP1252, bad_byte = b;
                    break;
                }
            }
            o += u8_put(r->conv + o, cp);
        }
        lines_byte(&r->dec, b);
    }
    if (r->enc == KZ_ENC_UTF8)
        feed(r, s, i);
    else
        feed(r, r->conv, o);
    if (bad != BAD_NONE && r->rc == KZ_OK)
        r->rc = decode_error(r, bad, bad_line, bad_byte);
}

/* ------------------------------------------------------------------ */
/* Detection on the sample                                              */

/* A field tokenizer good enough to count fields and look at numbers: the
 * same quoting as libcsv, without unescaping. */
struct tk {
    const unsigned char *p;
    size_t n, pos;
    int eof;
    unsigned char delim;
    int open; /* the last field ended at a delimiter */
};

/* The next raw field in [*f, *f + *len); *end_rec when it ends a record.
 * 0 when the sample is used up; a record cut off by the end of a sample
 * that is not the whole file never ends. */
static int tk_next(struct tk *t, const unsigned char **f, size_t *len, int *end_rec)
{
    size_t i, start = t->pos;
    int q = 0;
    if (start >= t->n) {
        if (t->eof && t->open) {
            t->open = 0;
            *f = t->p + t->n, *len = 0, *end_rec = 1;
            return 1;
        }
        return 0;
    }
    for (i = start; i < t->n; i++) {
        unsigned char c = t->p[i];
        if (c == '"') {
            q = !q;
        } else if (!q && c == t->delim) {
            *f = t->p + start, *len = i - start, *end_rec = 0;
            t->pos = i + 1;
            t->open = 1;
            return 1;
        } else if (!q && (c == '\n' || c == '\r')) {
            *f = t->p + start, *len = i - start, *end_rec = 1;
            if (c == '\r' && i + 1 < t->n && t->p[i + 1] == '\n')
                i++;
            t->pos = i + 1;
            t->open = 0;
            return 1;
        }
    }
    t->pos = t->n;
    t->open = 0;
    if (!t->eof)
        return 0;
    *f = t->p + start, *len = i - start, *end_rec = 1;
    return 1;
}

static int raw_blank(const unsigned char *f, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (f[i] != ' ' && f[i] != '\t')
            return 0;
    return 1;
}

struct dscore {
    size_t header; /* fields in the header, 0 = none yet */
    long rows, same;
};

static void score_delim(const unsigned char *p, size_t n, int eof, char d, struct dscore *sc)
{
    struct tk t = {p, n, 0, eof, (unsigned char)d, 0};
    const unsigned char *f;
    size_t len, count = 0;
    int end, blank = 1;
    memset(sc, 0, sizeof(*sc));
    while (tk_next(&t, &f, &len, &end)) {
        count++;
        if (!raw_blank(f, len))
            blank = 0;
        if (!end)
            continue;
        if (!blank) {
            if (sc->header == 0) {
                sc->header = count;
            } else {
                sc->rows++;
                sc->same += count == sc->header;
            }
        }
        count = 0;
        blank = 1;
    }
}

/* The candidate that splits the header into 2+ fields and most rows into
 * as many; ties go to more fields, then to the order below. */
static char detect_delimiter(const unsigned char *p, size_t n, int eof)
{
    static const char cands[] = {';', ',', '\t', '|'};
    char best = ',';
    struct dscore b = {0, 0, 0};
    int have = 0;
    size_t i;
    for (i = 0; i < sizeof(cands); i++) {
        struct dscore s;
        long s_same, s_rows, b_same, b_rows;
        int s_all, b_all;
        score_delim(p, n, eof, cands[i], &s);
        if (s.header < 2)
            continue;
        if (have) {
            s_rows = s.rows > 0 ? s.rows : 1, s_same = s.rows > 0 ? s.same : 1;
            b_rows = b.rows > 0 ? b.rows : 1, b_same = b.rows > 0 ? b.same : 1;
            s_all = s_same == s_rows, b_all = b_same == b_rows;
            if (s_all < b_all)
                continue;
            if (s_all == b_all) {
                /* compare s_same/s_rows with b_same/b_rows */
                double ls = (double)s_same * (double)b_rows, lb = (double)b_same * (double)s_rows;
                if (ls < lb || (ls == lb && s.header <= b.header))
                    continue;
            }
        }
        best = cands[i];
        b = s;
        have = 1;
    }
    return best;
}

/* Separator kinds in numbers. */
enum { S_SPACE, S_DOT, S_COMMA, S_APOS, S_NBSP, S_KINDS };

struct votes {
    long dec[S_KINDS];   /* cells where the kind is certainly the decimal */
    long ambig[S_KINDS]; /* "1,234": decimal or thousands */
    long th[S_KINDS];    /* cells where the kind is certainly a thousands separator */
};

#define MAX_GROUPS 32

/* Vote with one cell of the sample. */
static void vote_cell(struct votes *v, const unsigned char *s, size_t n, int single_byte)
{
    size_t groups[MAX_GROUPS + 1], glen = 0, i = 0;
    int seps[MAX_GROUPS], count[S_KINDS] = {0}, kinds = 0, m = 0, k, j, ok;
    int lead_zero;

    while (n > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == '"'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '"'))
        n--;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        s++, n--;
        while (n > 0 && s[0] == ' ')
            s++, n--;
    }
    if (n == 0 || s[0] < '0' || s[0] > '9')
        return;
    lead_zero = s[0] == '0';
    while (i < n) {
        size_t kl = 1;
        if (s[i] >= '0' && s[i] <= '9') {
            glen++;
            i++;
            continue;
        }
        if (s[i] == ' ')
            k = S_SPACE;
        else if (s[i] == '.')
            k = S_DOT;
        else if (s[i] == ',')
            k = S_COMMA;
        else if (s[i] == '\'')
            k = S_APOS;
        else if (s[i] == 0xA0 && single_byte)
            k = S_NBSP;
        else if (s[i] == 0xC2 && i + 1 < n && s[i + 1] == 0xA0 && !single_byte)
            k = S_NBSP, kl = 2;
        else
            return; /* not a number */
        if (glen == 0 || m == MAX_GROUPS)
            return;
        groups[m] = glen;
        seps[m] = k;
        if (count[k]++ == 0)
            kinds++;
        m++;
        glen = 0;
        i += kl;
    }
    if (glen == 0 || m == 0 || kinds > 2)
        return;
    groups[m] = glen; /* groups[j] precedes seps[j]; groups[m] is the last */

    if (kinds == 2) {
        int dec = seps[m - 1], th = -1;
        if ((dec != S_DOT && dec != S_COMMA) || count[dec] != 1)
            return;
        for (j = 0; j < m - 1; j++)
            th = seps[j];
        ok = groups[0] <= 3;
        for (j = 1; j < m; j++)
            ok = ok && groups[j] == 3;
        if (ok) {
            v->dec[dec]++;
            v->th[th]++;
        }
        return;
    }
    k = seps[0];
    ok = groups[0] <= 3;
    for (j = 1; j <= m; j++)
        ok = ok && groups[j] == 3;
    if (k == S_DOT || k == S_COMMA) {
        if (m == 1 && (groups[1] != 3 || groups[0] > 3 || lead_zero))
            v->dec[k]++;
        else if (m == 1 && ok)
            v->ambig[k]++;
        else if (ok)
            v->th[k]++;
    } else if (ok) {
        v->th[k]++;
    }
}

static const char kind_char[S_KINDS] = {' ', '.', ',', '\'', KZ_THOUSANDS_NBSP};

/* Fill in d->decimal and d->thousands (those left at 0) from the sample. */
static void detect_numbers(kz_csv_dialect *d, const unsigned char *p, size_t n, int eof)
{
    struct tk t = {p, n, 0, eof, (unsigned char)d->delimiter, 0};
    struct votes v;
    const unsigned char *f;
    size_t len;
    int end, header_done = 0, blank = 1, dec, k, best;
    long best_votes = 0;

    memset(&v, 0, sizeof(v));
    while (tk_next(&t, &f, &len, &end)) {
        if (header_done) {
            vote_cell(&v, f, len, d->encoding != KZ_ENC_UTF8);
            continue;
        }
        /* The header is the first record that is not blank. */
        if (!raw_blank(f, len))
            blank = 0;
        if (end) {
            header_done = !blank;
            blank = 1;
        }
    }

    if (d->decimal == 0) {
        if (d->thousands == '.')
            d->decimal = ',';
        else if (d->thousands == ',')
            d->decimal = '.';
        else if (v.dec[S_COMMA] != v.dec[S_DOT])
            d->decimal = v.dec[S_COMMA] > v.dec[S_DOT] ? ',' : '.';
        else if (v.th[S_DOT] != v.th[S_COMMA])
            d->decimal = v.th[S_DOT] > v.th[S_COMMA] ? ',' : '.';
        else
            d->decimal = d->delimiter == ';' ? ',' : '.';
    }
    if (d->thousands != 0)
        return;
    dec = d->decimal == ',' ? S_COMMA : S_DOT;
    best = -1;
    for (k = 0; k < S_KINDS; k++) {
        long votes = v.th[k];
        if (k == dec)
            continue;
        if (k == S_DOT || k == S_COMMA)
            votes += v.ambig[k]; /* "1,234" when ',' is not the decimal */
        if (votes > best_votes)
            best = k, best_votes = votes;
    }
    d->thousands = best < 0 ? KZ_THOUSANDS_NONE : kind_char[best];
}

/* The sample is valid UTF-8 (a sequence cut off at its end is fine when
 * the sample is not the whole file). */
static int sample_is_utf8(const unsigned char *p, size_t n, int eof)
{
    struct u8 s = {0, 0, 0, 0};
    size_t i;
    for (i = 0; i < n; i++)
        if (u8_step(&s, p[i]) < 0)
            return 0;
    return s.need == 0 || !eof;
}

static int check_dialect(kz_ctx *ctx, const char *name, const kz_csv_dialect *d)
{
    if (d->delimiter != 0 && d->delimiter != ',' && d->delimiter != ';' && d->delimiter != '\t' &&
        d->delimiter != '|')
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: delimiter must be ',', ';', tab or '|'", name);
    if (d->decimal != 0 && d->decimal != '.' && d->decimal != ',')
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: decimal separator must be '.' or ','", name);
    if (d->thousands != 0 && d->thousands != '.' && d->thousands != ',' && d->thousands != ' ' &&
        d->thousands != '\'' && d->thousands != KZ_THOUSANDS_NONE &&
        d->thousands != KZ_THOUSANDS_NBSP)
        return kz_ctx__error(ctx, KZ_E_USAGE,
                             "%s: thousands separator must be '.', ',', ' ', '\\'', no-break "
                             "space or none",
                             name);
    if (d->decimal != 0 && d->decimal == d->thousands)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: decimal and thousands separator are both '%c'",
                             name, d->decimal);
    if (d->encoding < KZ_ENC_DETECT || d->encoding > KZ_ENC_CP1252)
        return kz_ctx__error(ctx, KZ_E_USAGE, "%s: unknown encoding %d", name, d->encoding);
    return KZ_OK;
}

/* ------------------------------------------------------------------ */
/* Driver                                                               */

static int run(struct rd *r, kz_csv_dialect *dialect)
{
    kz_csv_dialect d = {0, 0, 0, KZ_ENC_DETECT};
    unsigned char *head = NULL, *chunk = NULL;
    size_t head_n = 0, start = 0, off, got;
    int eof = 0;

    if (dialect != NULL)
        d = *dialect;
    if ((r->rc = check_dialect(r->ctx, r->name, &d)) != KZ_OK)
        return r->rc;
    if (r->chunk == 0)
        r->chunk = KZ_CSV__CHUNK;
    r->dec.line = r->lines.line = r->rec_line = 1;
    r->fields_cap = 16;
    head = xmalloc(KZ_CSV__SAMPLE);
    chunk = xmalloc(r->chunk);
    r->conv = xmalloc(3 * r->chunk);
    r->offs = xmalloc(r->fields_cap * sizeof(*r->offs));
    r->ptrs = xmalloc(r->fields_cap * sizeof(*r->ptrs));
    if (head == NULL || chunk == NULL || r->conv == NULL || r->offs == NULL || r->ptrs == NULL) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_NOMEM, "%s: out of memory", r->name);
        goto done;
    }

    /* The sample, read chunk by chunk like the rest. */
    while (head_n < KZ_CSV__SAMPLE) {
        size_t want = KZ_CSV__SAMPLE - head_n < r->chunk ? KZ_CSV__SAMPLE - head_n : r->chunk;
        if ((r->rc = src_read(r, head + head_n, want, &got)) != KZ_OK)
            goto done;
        head_n += got;
        if (got < want) {
            eof = 1;
            break;
        }
    }

    if (head_n >= 2 &&
        ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF))) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:1: the file is UTF-16; save it as CSV in UTF-8", r->name);
        goto done;
    }
    if (head_n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) {
        if (d.encoding == KZ_ENC_LATIN1 || d.encoding == KZ_ENC_CP1252) {
            r->rc =
                kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:1: the file starts with a UTF-8 byte order mark but its "
                              "encoding is set to %s; drop that setting",
                              r->name, d.encoding == KZ_ENC_LATIN1 ? "Latin-1" : "Windows-1252");
            goto done;
        }
        d.encoding = KZ_ENC_UTF8;
        start = 3;
    }
    if (d.encoding == KZ_ENC_DETECT)
        d.encoding =
            sample_is_utf8(head + start, head_n - start, eof) ? KZ_ENC_UTF8 : KZ_ENC_CP1252;
    if (d.delimiter == 0)
        d.delimiter = detect_delimiter(head + start, head_n - start, eof);
    if (d.decimal == 0 || d.thousands == 0)
        detect_numbers(&d, head + start, head_n - start, eof);
    if (dialect != NULL)
        *dialect = d;
    r->enc = d.encoding;
    r->delim = d.delimiter;

    if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INTERNAL, "%s: cannot set up libcsv", r->name);
        goto done;
    }
    r->p_init = 1;
    csv_set_delim(&r->p, (unsigned char)d.delimiter);
    csv_set_realloc_func(&r->p, capped_realloc);
    csv_set_blk_size(&r->p, LIBCSV_BLOCK);

    for (off = start; off < head_n && r->rc == KZ_OK; off += got) {
        got = head_n - off < r->chunk ? head_n - off : r->chunk;
        process(r, head + off, got);
    }
    while (!eof && r->rc == KZ_OK) {
        if ((r->rc = src_read(r, chunk, r->chunk, &got)) != KZ_OK)
            goto done;
        eof = got < r->chunk;
        if (got > 0)
            process(r, chunk, got);
    }
    if (r->rc != KZ_OK)
        goto done;
    if (r->enc == KZ_ENC_UTF8 && r->u8.need > 0) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:%ld: the file ends inside a UTF-8 character; it is cut off "
                              "or not UTF-8",
                              r->name, r->dec.line);
        goto done;
    }
    if (csv_fini(&r->p, on_field, on_row, r) != 0 && r->rc == KZ_OK) {
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT,
                              "%s:%ld: the quoted field that starts in this record is never "
                              "closed; add the closing '\"'",
                              r->name, r->rec_line);
        goto done;
    }
    if (r->rc == KZ_OK && !r->have_header)
        r->rc = kz_ctx__error(r->ctx, KZ_E_INPUT, "%s: the file is empty: no header row", r->name);

done:
    if (r->p_init)
        csv_free(&r->p);
    free(head);
    free(chunk);
    free(r->conv);
    free(r->buf);
    free(r->offs);
    free(r->ptrs);
    return r->rc;
}

int kz_csv__read_stream(kz_ctx *ctx, FILE *fp, const char *name, size_t chunk,
                        kz_csv_dialect *dialect, kz_csv_row_fn fn, void *payload)
{
    struct rd r;
    memset(&r, 0, sizeof(r));
    r.ctx = ctx;
    r.name = name;
    r.fn = fn;
    r.payload = payload;
    r.fp = fp;
    r.chunk = chunk;
    return run(&r, dialect);
}

int kz_csv__read_buffer(kz_ctx *ctx, const void *data, size_t size, const char *name, size_t chunk,
                        kz_csv_dialect *dialect, kz_csv_row_fn fn, void *payload)
{
    struct rd r;
    memset(&r, 0, sizeof(r));
    r.ctx = ctx;
    r.name = name;
    r.fn = fn;
    r.payload = payload;
    r.mem = data;
    r.mem_len = size;
    r.chunk = chunk;
    return run(&r, dialect);
}

int kz_csv_read(kz_ctx *ctx, const char *path, kz_csv_dialect *dialect, kz_csv_row_fn fn,
                void *payload)
{
    FILE *fp = fopen(path, "rb");
    int rc;
    if (fp == NULL)
        return kz_ctx__error(ctx, KZ_E_IO, "%s: cannot open: %s; check the path", path,
                             strerror(errno));
    rc = kz_csv__read_stream(ctx, fp, path, KZ_CSV__CHUNK, dialect, fn, payload);
    fclose(fp);
    return rc;
}
