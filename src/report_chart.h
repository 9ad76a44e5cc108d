/*
 * Time-series charts of the HTML atlas as inline SVG (report_chart.c):
 * series of values over periods on a year axis, with labelled axes, an
 * optional vertical mark (a measure's start), an optional zero line and
 * error bars. No script, no network. Series differ by line style and
 * marker shape as well as colour. Every point carries its exact value in
 * data attributes (data-series, data-period, data-value, data-err), so the
 * drawing can be checked against the numbers it shows.
 *
 * Also the atlas's text helpers that the charts share with report_html.c.
 */
#ifndef KZ_REPORT_CHART_H
#define KZ_REPORT_CHART_H

#include "kiez/ctx.h"

#include <stddef.h>
#include <stdio.h>

/* HTML/XML text and attribute escaping (& < > " '). */
void kz_report__esc(FILE *f, const char *s);

/* "2022-12-31" as "31.12.2022" (other text unchanged). */
void kz_report__date(char *out, size_t size, const char *iso);

/* A number the German way with `decimals` digits and " unit" when a unit
 * is given ("12,3 %"); NaN gives "–" without unit. */
void kz_report__value(char *out, size_t size, double v, int decimals, const char *unit);

/* One series of a chart. */
typedef struct kz_chart_series {
    const char *key;    /* data-series attribute of its points */
    const char *name;   /* legend and tooltip text */
    const char *colour; /* "#rrggbb" of line, markers and bars */
    const double *y;    /* one value per period of the chart; NaN = no point (a gap) */
    const double *err;  /* half-widths of bars around y, or NULL; 0 or NaN = no bar */
    int dashed;         /* dashed line */
    int no_line;        /* markers (and bars) only */
    int square;         /* square markers instead of circles */
} kz_chart_series;

typedef struct kz_chart {
    const char *id;            /* unique on the page: element ids <id>-t and <id>-d */
    const char *title;         /* accessible name (<title>) */
    const char *desc;          /* longer text alternative (<desc>), or NULL */
    const char *y_label;       /* title of the value axis, with its unit */
    const char *unit;          /* unit in the tooltips, or NULL */
    int decimals;              /* digits of the tooltips */
    const char (*periods)[11]; /* ISO dates, ascending */
    size_t n_periods;
    const kz_chart_series *series;
    size_t n_series;
    const char *mark;       /* ISO date of a vertical line, or NULL */
    const char *mark_label; /* its label */
    int zero;               /* the value axis includes 0, drawn as a line */
    double width, height;   /* of the viewBox */
} kz_chart;

/* Write `c` as an <svg class="chart"> element.
 * \return KZ_OK, or KZ_E_INPUT when a period or the mark is not a date. */
int kz_chart__svg(FILE *f, kz_ctx *ctx, const kz_chart *c);

#endif
