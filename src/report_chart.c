/*
 * Time-series charts of the HTML atlas as inline SVG (report_chart.h).
 *
 * Layout: the value axis on the left with ticks at "nice" steps (1, 2 or 5
 * times a power of ten, about four to six of them; Heckbert, "Nice numbers
 * for graph labels", Graphics Gems, 1990), its title above the plot; the
 * time axis in decimal years (kz_date_to_years) with a thin line at each
 * 1 January and the year written in the middle of its span, so half-yearly
 * periods fall under their year; the legend below.
 */
#include "report_chart.h"
#include "ctx_internal.h"
#include "kiez/style.h"
#include "kiez/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void kz_report__esc(FILE *f, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

void kz_report__date(char *out, size_t size, const char *iso)
{
    int y, m, d;
    if (iso != NULL && sscanf(iso, "%4d-%2d-%2d", &y, &m, &d) == 3)
        snprintf(out, size, "%02d.%02d.%04d", d, m, y);
    else
        snprintf(out, size, "%s", iso ? iso : "");
}

void kz_report__value(char *out, size_t size, double v, int decimals, const char *unit)
{
    int n = kz_style_format_number(out, size, v, decimals);
    if (!isnan(v) && unit != NULL && unit[0] != '\0' && n >= 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, " %s", unit);
}

/* Margins of the plot in viewBox units. */
#define M_LEFT 60.0
#define M_RIGHT 16.0
#define M_TOP 34.0
#define M_BOTTOM 56.0
#define FONT "font-size=\"13\" fill=\"#52606d\""

typedef struct frame {
    double x0, x1, y0, y1; /* plot box */
    double t0, t1;         /* years at x0, x1 */
    double lo, hi;         /* values at y1, y0 */
} frame;

static double px(const frame *fr, double t)
{
    return fr->x0 + (t - fr->t0) / (fr->t1 - fr->t0) * (fr->x1 - fr->x0);
}

static double py(const frame *fr, double v)
{
    return fr->y1 - (v - fr->lo) / (fr->hi - fr->lo) * (fr->y1 - fr->y0);
}

/* A step of 1, 2 or 5 × 10^e giving about four intervals over `range`. */
static double nice_step(double range)
{
    double raw = range / 4, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1.5 ? 1 : f <= 3 ? 2 : f <= 7 ? 5 : 10) * mag;
}

/* Characters (UTF-8 code points) of a legend text, for its width. */
static size_t text_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void put_marker(FILE *f, const kz_chart_series *s, double x, double y)
{
    if (s->square)
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"%s\"", x - 4.5,
                y - 4.5, s->colour);
    else
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.8\" fill=\"%s\"", x, y, s->colour);
}

static void put_value_axis(FILE *f, const kz_chart *c, const frame *fr, double step)
{
    char buf[64];
    double v;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6)
        dec = 6;
    long i, n = lround((fr->hi - fr->lo) / step);
    fputs("<g stroke=\"#e4e8ec\">", f);
    for (i = 0; i <= n; i++)
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", fr->x0, fr->x1,
                py(fr, fr->lo + (double)i * step), py(fr, fr->lo + (double)i * step));
    fputs("</g>\n<g " FONT " text-anchor=\"end\">", f);
    for (i = 0; i <= n; i++) {
        v = fr->lo + (double)i * step;
        kz_style_format_number(buf, sizeof(buf), fabs(v) < step / 1e6 ? 0 : v, dec);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", fr->x0 - 7, py(fr, v) + 4.5);
        kz_report__esc(f, buf);
        fputs("</text>", f);
    }
    fprintf(f, "</g>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#1f2933\">", 4.0,
            fr->y0 - 14);
    kz_report__esc(f, c->y_label);
    fputs("</text>\n", f);
    if (c->zero && fr->lo < 0 && fr->hi > 0)
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#52606d\""
                " stroke-width=\"1.2\"/>\n",
                fr->x0, fr->x1, py(fr, 0), py(fr, 0));
}

static void put_time_axis(FILE *f, const frame *fr)
{
    int y;
    fputs("<g stroke=\"#d3d9de\">", f);
    for (y = (int)ceil(fr->t0); y <= fr->t1; y++)
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", px(fr, y), px(fr, y),
                fr->y0, fr->y1 + 6);
    fputs("</g>\n<g " FONT " text-anchor=\"middle\">", f);
    for (y = (int)floor(fr->t0); y <= fr->t1; y++) {
        double a = fmax(y, fr->t0), b = fmin(y + 1, fr->t1);
        if (b - a >= 0.5) /* at least half of the year in view */
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%d</text>", (px(fr, a) + px(fr, b)) / 2,
                    fr->y1 + 19, y);
    }
    fprintf(f,
            "</g>\n<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"#7b8794\""
            " stroke-width=\"1\"/>\n",
            fr->x0, fr->y0, fr->y1, fr->x1);
}

static void put_series(FILE *f, const kz_chart *c, const frame *fr, const kz_chart_series *s,
                       const double *t)
{
    char val[64], err[64], date[16];
    size_t j;
    int open = 0;
    if (!s->no_line) {
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\"%s d=\"", s->colour,
                s->dashed ? " stroke-dasharray=\"7 4\"" : "");
        for (j = 0; j < c->n_periods; j++) {
            if (!isfinite(s->y[j])) {
                open = 0;
                continue;
            }
            fprintf(f, "%s%.1f %.1f", open ? " L" : "M", px(fr, t[j]), py(fr, s->y[j]));
            open = 1;
        }
        fputs("\"/>\n", f);
    }
    for (j = 0; j < c->n_periods; j++) {
        double x = px(fr, t[j]), e = s->err ? s->err[j] : NAN;
        if (!isfinite(s->y[j]))
            continue;
        if (isfinite(e) && e > 0)
            fprintf(f,
                    "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"M%.1f %.1fV%.1f"
                    "M%.1f %.1fH%.1fM%.1f %.1fH%.1f\"/>",
                    s->colour, x, py(fr, s->y[j] - e), py(fr, s->y[j] + e), x - 5,
                    py(fr, s->y[j] - e), x + 5, x - 5, py(fr, s->y[j] + e), x + 5);
        put_marker(f, s, x, py(fr, s->y[j]));
        fputs(" stroke=\"#ffffff\" stroke-width=\"1.2\" data-series=\"", f);
        kz_report__esc(f, s->key);
        fputs("\" data-period=\"", f);
        kz_report__esc(f, c->periods[j]);
        fprintf(f, "\" data-value=\"%.17g\"", s->y[j]);
        if (s->err)
            fprintf(f, " data-err=\"%.17g\"", e);
        fputs("><title>", f);
        kz_report__date(date, sizeof(date), c->periods[j]);
        kz_report__value(val, sizeof(val), s->y[j], c->decimals, c->unit);
        kz_report__esc(f, s->name);
        fputs(", ", f);
        kz_report__esc(f, date);
        fputs(": ", f);
        kz_report__esc(f, val);
        if (isfinite(e) && e > 0) {
            kz_style_format_number(err, sizeof(err), e, c->decimals);
            fputs(" \xc2\xb1 ", f);
            kz_report__esc(f, err);
        }
        fputs(s->square ? "</title></rect>\n" : "</title></circle>\n", f);
    }
}

static void put_legend(FILE *f, const kz_chart *c)
{
    double x = M_LEFT, y = c->height - 14;
    size_t i;
    for (i = 0; i < c->n_series; i++) {
        const kz_chart_series *s = &c->series[i];
        if (!s->no_line)
            fprintf(f,
                    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                    " stroke-width=\"2.2\"%s/>",
                    x, x + 26, y - 4.5, y - 4.5, s->colour,
                    s->dashed ? " stroke-dasharray=\"7 4\"" : "");
        put_marker(f, s, x + 13, y - 4.5);
        fprintf(f, "/><text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#1f2933\">", x + 34, y);
        kz_report__esc(f, s->name);
        fputs("</text>\n", f);
        x += 34 + 7.2 * (double)text_len(s->name) + 24;
    }
}

int kz_chart__svg(FILE *f, kz_ctx *ctx, const kz_chart *c)
{
    frame fr;
    double *t, mark = NAN, pad, step;
    size_t i, j;
    int rc = KZ_OK;
    if (c->n_periods == 0)
        return KZ_OK;
    if ((t = malloc(c->n_periods * sizeof(double))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    for (j = 0; j < c->n_periods && rc == KZ_OK; j++)
        rc = kz_date_to_years(&t[j], ctx, c->periods[j]);
    if (rc == KZ_OK && c->mark != NULL)
        rc = kz_date_to_years(&mark, ctx, c->mark);
    if (rc != KZ_OK) {
        free(t);
        return rc;
    }
    fr.x0 = M_LEFT;
    fr.x1 = c->width - M_RIGHT;
    fr.y0 = M_TOP;
    fr.y1 = c->height - M_BOTTOM;
    fr.t0 = fmin(t[0], isfinite(mark) ? mark : t[0]);
    fr.t1 = fmax(t[c->n_periods - 1], isfinite(mark) ? mark : t[0]);
    pad = fmax(0.25, (fr.t1 - fr.t0) * 0.04);
    fr.t0 -= pad;
    fr.t1 += pad;
    fr.lo = c->zero ? 0 : INFINITY;
    fr.hi = c->zero ? 0 : -INFINITY;
    for (i = 0; i < c->n_series; i++)
        for (j = 0; j < c->n_periods; j++) {
            const kz_chart_series *s = &c->series[i];
            double e = s->err && isfinite(s->err[j]) ? s->err[j] : 0;
            if (!isfinite(s->y[j]))
                continue;
            fr.lo = fmin(fr.lo, s->y[j] - e);
            fr.hi = fmax(fr.hi, s->y[j] + e);
        }
    if (!isfinite(fr.lo)) { /* no value at all */
        fr.lo = 0;
        fr.hi = 1;
    } else if (!(fr.hi > fr.lo)) {
        double d = fabs(fr.lo) > 0 ? fabs(fr.lo) * 0.1 : 1;
        fr.lo -= d;
        fr.hi += d;
    }
    step = nice_step(fr.hi - fr.lo);
    fr.lo = floor(fr.lo / step + 1e-9) * step;
    fr.hi = ceil(fr.hi / step - 1e-9) * step;

    fprintf(f,
            "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\""
            " aria-labelledby=\"%s-t\"%s%s%s font-family=\"system-ui,sans-serif\">\n"
            "<title id=\"%s-t\">",
            c->width, c->height, c->id, c->desc ? " aria-describedby=\"" : "", c->desc ? c->id : "",
            c->desc ? "-d\"" : "", c->id);
    kz_report__esc(f, c->title);
    fputs("</title>\n", f);
    if (c->desc) {
        fprintf(f, "<desc id=\"%s-d\">", c->id);
        kz_report__esc(f, c->desc);
        fputs("</desc>\n", f);
    }
    put_value_axis(f, c, &fr, step);
    put_time_axis(f, &fr);
    if (isfinite(mark)) {
        double x = px(&fr, mark);
        int right = x > fr.x1 - 150;
        fprintf(f,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#1f2933\""
                " stroke-width=\"1.5\" stroke-dasharray=\"3 3\" data-mark=\"",
                x, x, fr.y0 - 4, fr.y1);
        kz_report__esc(f, c->mark);
        fprintf(f, "\"/>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#1f2933\"%s>",
                right ? x - 5 : x + 5, fr.y0 + 10, right ? " text-anchor=\"end\"" : "");
        kz_report__esc(f, c->mark_label);
        fputs("</text>\n", f);
    }
    for (i = 0; i < c->n_series; i++)
        put_series(f, c, &fr, &c->series[i], t);
    put_legend(f, c);
    fputs("</svg>\n", f);
    free(t);
    return KZ_OK;
}
