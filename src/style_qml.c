/*
 * Indicator map styles: classes, palettes, legend labels and QGIS QML
 * documents. Pure C, no dependency; the rules are in include/kiez/style.h.
 *
 * The QML follows what QGIS 3.22 writes itself (QgsVectorLayer
 * exportNamedStyle of a graduated renderer); elements QGIS does not find
 * take its defaults, so only what matters is written.
 */
#include "ctx_internal.h"
#include "kiez/classify.h"
#include "kiez/style.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ColorBrewer 5-class palettes (Cynthia Brewer, colorbrewer2.org; all
 * four are marked colour-blind safe there), from low to high values. */
static const unsigned char pal_ylgnbu[5][3] = {{0xff, 0xff, 0xcc},
                                               {0xa1, 0xda, 0xb4},
                                               {0x41, 0xb6, 0xc4},
                                               {0x2c, 0x7f, 0xb8},
                                               {0x25, 0x34, 0x94}};
static const unsigned char pal_ylorrd[5][3] = {{0xff, 0xff, 0xb2},
                                               {0xfe, 0xcc, 0x5c},
                                               {0xfd, 0x8d, 0x3c},
                                               {0xf0, 0x3b, 0x20},
                                               {0xbd, 0x00, 0x26}};
static const unsigned char pal_puor[5][3] = {{0xe6, 0x61, 0x01},
                                             {0xfd, 0xb8, 0x63},
                                             {0xf7, 0xf7, 0xf7},
                                             {0xb2, 0xab, 0xd2},
                                             {0x5e, 0x3c, 0x99}};
static const unsigned char pal_rdbu[5][3] = {{0xca, 0x00, 0x20},
                                             {0xf4, 0xa5, 0x82},
                                             {0xf7, 0xf7, 0xf7},
                                             {0x92, 0xc5, 0xde},
                                             {0x05, 0x71, 0xb0}};

/* Longest QML document kz_style_qml() builds. */
#define QML_MAX (16u * 1024u * 1024u)

static int has(const char *s, const char *part)
{
    return s != NULL && strstr(s, part) != NULL;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

int kz_style_scheme_of(const kz_style_indicator *ind)
{
    static const char *const units[] = {"z",       "sd", "SD", "Index", "pp", "Prozentpunkte",
                                        "%-Punkte"};
    static const char *const parts[] = {"zscore", "index", "status", "dynamic", "change", "_chg",
                                        "_dev",   "diff",  "delta",  "trend",   "slope",  "cagr"};
    const char *name = ind->name ? ind->name : "";
    size_t i;
    /* A unit matches exactly or as the start of a rate ("Prozentpunkte/Jahr"). */
    if (ind->unit != NULL)
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i]);
            if (strncmp(ind->unit, units[i], n) == 0 &&
                (ind->unit[n] == '\0' || ind->unit[n] == '/' || ind->unit[n] == ' '))
                return KZ_STYLE_DIVERGING;
        }
    if (strncmp(name, "z_", 2) == 0 || ends_with(name, "_z") || ends_with(name, "_pp"))
        return KZ_STYLE_DIVERGING;
    for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        if (has(name, parts[i]))
            return KZ_STYLE_DIVERGING;
    return KZ_STYLE_SEQUENTIAL;
}

static int polarity_of(const kz_style_indicator *ind)
{
    if (ind->polarity != NULL && strcmp(ind->polarity, "positive") == 0)
        return 1;
    if (ind->polarity != NULL && strcmp(ind->polarity, "negative") == 0)
        return -1;
    return 0;
}

int kz_style_format_number(char *out, size_t size, double value, int decimals)
{
    char digits[64], buf[96];
    const char *dot;
    size_t int_len, i, o = 0;
    int n;
    if (isnan(value))
        return snprintf(out, size, "\xe2\x80\x93");
    if (decimals < 0)
        decimals = 0;
    if (decimals > 6)
        decimals = 6;
    if (fabs(value) >= 1e15)
        return snprintf(out, size, "%.3g", value);
    n = snprintf(digits, sizeof(digits), "%.*f", decimals, fabs(value));
    if (n < 0 || (size_t)n >= sizeof(digits))
        return snprintf(out, size, "%g", value);
    /* A minus only when the rounded number is not zero. */
    if (value < 0 && strspn(digits, "0.") != strlen(digits)) {
        memcpy(buf, "\xe2\x88\x92", 3); /* U+2212 minus sign */
        o = 3;
    }
    dot = strchr(digits, '.');
    int_len = dot ? (size_t)(dot - digits) : strlen(digits);
    for (i = 0; i < int_len; i++) {
        /* Group thousands from five digits on (DIN 5008), U+202F. */
        if (int_len > 4 && i > 0 && (int_len - i) % 3 == 0) {
            memcpy(buf + o, "\xe2\x80\xaf", 3);
            o += 3;
        }
        buf[o++] = digits[i];
    }
    if (dot != NULL) {
        buf[o++] = ',';
        for (i = int_len + 1; digits[i] != '\0'; i++)
            buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return snprintf(out, size, "%s", buf);
}

/* Digits after the comma that tell classes of this width apart. */
static int pick_decimals(const double *values, size_t n, double lo, double hi, int k)
{
    double w = k > 0 ? (hi - lo) / k : 0;
    size_t i;
    int integers = n > 0;
    for (i = 0; i < n && integers; i++)
        if (isfinite(values[i]) && values[i] != floor(values[i]))
            integers = 0;
    if (integers && w >= 1)
        return 0;
    if (w >= 10)
        return 0;
    if (w >= 1)
        return 1;
    if (w >= 0.1)
        return 2;
    return 3;
}

static void class_label(kz_style_class *c, const char *unit, int decimals)
{
    char lo[48], hi[48];
    kz_style_format_number(lo, sizeof(lo), c->lower, decimals);
    kz_style_format_number(hi, sizeof(hi), c->upper, decimals);
    snprintf(c->label, sizeof(c->label), "%s \xe2\x80\x93 %s%s%s (%zu)", lo, hi,
             unit && unit[0] ? " " : "", unit && unit[0] ? unit : "", c->count);
}

int kz_style_classify(kz_style_map *out, kz_ctx *ctx, const kz_style_indicator *ind,
                      const double *values, size_t n)
{
    kz_classify_options opts;
    double breaks[KZ_STYLE_CLASSES + 1], inner[KZ_STYLE_CLASSES - 1], outer[KZ_STYLE_CLASSES + 1];
    size_t counts[KZ_STYLE_CLASSES], i, finite = 0;
    const unsigned char(*pal)[3];
    int *cls = NULL, k = 0, rc, polarity = polarity_of(ind);

    memset(out, 0, sizeof(*out));
    out->scheme = kz_style_scheme_of(ind);
    for (i = 0; i < n; i++)
        if (isfinite(values[i]))
            finite++;
    out->n_missing = n - finite;
    if (ind->unit != NULL && strcmp(ind->unit, "Ampel") == 0) {
        /* Traffic lights (action.h: 1 green, 2 yellow, 3 red): three fixed
         * classes, never classified from the data; ColorBrewer RdYlGn ends
         * and orange, which also differ in lightness. */
        static const unsigned char rgb[3][3] = {
            {0x1a, 0x96, 0x41}, {0xfd, 0xae, 0x61}, {0xd7, 0x19, 0x1c}};
        static const char *const word[3] = {"gr\xc3\xbcn", "gelb", "rot"};
        out->palette = "Ampel";
        out->n_classes = 3;
        for (i = 0; i < 3; i++) {
            kz_style_class *c = &out->classes[i];
            size_t j;
            c->lower = i == 0 ? 1 : (double)i + 0.5;
            c->upper = i == 2 ? 3 : (double)i + 1.5;
            for (j = 0; j < n; j++)
                c->count += isfinite(values[j]) && kz_style_class_of(out, values[j]) == (int)i;
            memcpy(c->rgb, rgb[i], 3);
            snprintf(c->label, sizeof(c->label), "%s (%zu)", word[i], c->count);
        }
        return KZ_OK;
    }
    if (out->scheme == KZ_STYLE_DIVERGING) {
        out->palette = polarity == 0 ? "PuOr" : "RdBu";
        out->reversed = polarity < 0; /* higher is worse: red above zero */
        pal = polarity == 0 ? pal_puor : pal_rdbu;
    } else {
        out->palette = polarity == 0 ? "YlGnBu" : "YlOrRd";
        out->reversed = polarity > 0; /* higher is better: red for low values */
        pal = polarity == 0 ? pal_ylgnbu : pal_ylorrd;
    }
    if (finite == 0)
        return KZ_OK;

    memset(&opts, 0, sizeof(opts));
    opts.classes = KZ_STYLE_CLASSES;
    if (out->scheme == KZ_STYLE_DIVERGING) {
        /* Breaks at ±0.5 s and ±1.5 s around zero, s the RMS of the values. */
        double ss = 0, s;
        for (i = 0; i < n; i++)
            if (isfinite(values[i]))
                ss += values[i] * values[i];
        s = sqrt(ss / (double)finite);
        if (!(s > 0) || !isfinite(s))
            s = 1;
        double lo = INFINITY, hi = -INFINITY;
        for (i = 0; i < n; i++)
            if (isfinite(values[i])) {
                lo = fmin(lo, values[i]);
                hi = fmax(hi, values[i]);
            }
        inner[0] = -1.5 * s;
        inner[1] = -0.5 * s;
        inner[2] = 0.5 * s;
        inner[3] = 1.5 * s;
        /* Outer classes reach at least ±2.5 s, so they are never degenerate
         * (an empty "1,5 – 2,5" class still reads right). */
        outer[0] = fmin(lo, -2.5 * s);
        memcpy(outer + 1, inner, sizeof(inner));
        outer[KZ_STYLE_CLASSES] = fmax(hi, 2.5 * s);
        opts.method = KZ_CLASSIFY_MANUAL;
        opts.breaks = outer;
        opts.n_breaks = KZ_STYLE_CLASSES + 1;
    } else {
        opts.method = KZ_CLASSIFY_QUANTILE;
    }
    if ((rc = kz_classify_breaks(breaks, &k, ctx, values, n, &opts)) != KZ_OK)
        return rc == KZ_E_NOMEM ? rc
                                : kz_ctx__error(ctx, KZ_E_INTERNAL, "classifying %s: %s", ind->name,
                                                kz_ctx_errmsg(ctx));
    if ((cls = malloc((n ? n : 1) * sizeof(int))) == NULL)
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory");
    kz_classify_assign(cls, counts, breaks, k, values, n);
    free(cls);
    out->n_classes = k;
    /* Diverging: digits that tell the inner breaks (±0.5 s, ±1.5 s) apart. */
    out->decimals = out->scheme == KZ_STYLE_DIVERGING
                        ? pick_decimals(NULL, 0, inner[1], inner[2], 1)
                        : pick_decimals(values, n, breaks[0], breaks[k], k);
    for (i = 0; i < (size_t)k; i++) {
        kz_style_class *c = &out->classes[i];
        /* Spread fewer classes over the whole palette; one class takes the middle. */
        size_t idx = k == 1 ? 2 : (size_t)lround((double)i * 4.0 / (double)(k - 1));
        if (out->reversed)
            idx = 4 - idx;
        c->lower = breaks[i];
        c->upper = breaks[i + 1];
        c->count = counts[i];
        memcpy(c->rgb, pal[idx], 3);
        class_label(c, ind->unit, out->decimals);
    }
    return KZ_OK;
}

int kz_style_class_of(const kz_style_map *map, double value)
{
    int i;
    if (!isfinite(value) || map->n_classes == 0)
        return -1;
    if (value == map->classes[0].lower)
        return 0;
    for (i = 0; i < map->n_classes; i++)
        if (map->classes[i].lower < value && value <= map->classes[i].upper)
            return i;
    return -1;
}

/* ---- QML ---- */

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int failed;
} sbuf;

static void put_n(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *more;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > QML_MAX || (more = realloc(b->s, cap)) == NULL) {
            b->failed = 1;
            return;
        }
        b->s = more;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void put(sbuf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

static void putf(sbuf *b, const char *fmt, ...) KZ_PRINTF(2, 3);
static void putf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->failed = 1;
        return;
    }
    put_n(b, tmp, (size_t)n);
}

/* Text escaped for an XML attribute value. */
static void put_xml(sbuf *b, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&':
            put(b, "&amp;");
            break;
        case '<':
            put(b, "&lt;");
            break;
        case '>':
            put(b, "&gt;");
            break;
        case '"':
            put(b, "&quot;");
            break;
        case '\'':
            put(b, "&apos;");
            break;
        case '\n':
            put(b, "&#10;");
            break;
        default:
            put_n(b, s, 1);
        }
    }
}

/* A fill symbol: colour, thin grey outline. */
static void put_fill_symbol(sbuf *b, const char *name, const unsigned char *rgb, int fill)
{
    static const char *const keys[] = {"color",         "outline_color",      "outline_style",
                                       "outline_width", "outline_width_unit", "style",
                                       "joinstyle"};
    char vals[7][32];
    size_t i;
    snprintf(vals[0], sizeof(vals[0]), "%u,%u,%u,255", rgb[0], rgb[1], rgb[2]);
    snprintf(vals[1], sizeof(vals[1]), "%s", fill ? "110,110,110,255" : "60,60,60,255");
    snprintf(vals[2], sizeof(vals[2]), "solid");
    snprintf(vals[3], sizeof(vals[3]), "%s", fill ? "0.1" : "0.3");
    snprintf(vals[4], sizeof(vals[4]), "MM");
    snprintf(vals[5], sizeof(vals[5]), "%s", fill ? "solid" : "no");
    snprintf(vals[6], sizeof(vals[6]), "bevel");
    put(b, "   <symbol type=\"fill\" name=\"");
    put_xml(b, name);
    put(b, "\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n"
           "    <layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">\n"
           "     <Option type=\"Map\">\n");
    for (i = 0; i < 7; i++)
        putf(b, "      <Option type=\"QString\" name=\"%s\" value=\"%s\"/>\n", keys[i], vals[i]);
    put(b, "     </Option>\n");
    for (i = 0; i < 7; i++)
        putf(b, "     <prop k=\"%s\" v=\"%s\"/>\n", keys[i], vals[i]);
    put(b, "    </layer>\n   </symbol>\n");
}

/*
 * LISA cluster columns lisa_<indicator>_class (compute_spatial.c; 0 not
 * significant, 1 HH, 2 LH, 3 LL, 4 HL) get a categorical renderer in
 * GeoDa's cluster map colours: HH red, LL blue, LH light blue, HL light
 * red, not significant light grey; areas without a value (left out) white.
 */
static int is_lisa_class(const char *name)
{
    return name != NULL && strncmp(name, "lisa_", 5) == 0 && ends_with(name, "_class");
}

static void put_lisa_renderer(sbuf *b, const kz_style_indicator *ind)
{
    static const struct {
        const char *value, *label;
        unsigned char rgb[3];
    } cats[] = {{"1", "HH: hoch, Nachbarn hoch", {0xff, 0x00, 0x00}},
                {"3", "LL: niedrig, Nachbarn niedrig", {0x00, 0x00, 0xff}},
                {"2", "LH: niedrig, Nachbarn hoch", {0xa7, 0xad, 0xf9}},
                {"4", "HL: hoch, Nachbarn niedrig", {0xf4, 0xad, 0xa8}},
                {"0", "nicht signifikant", {0xee, 0xee, 0xee}},
                {"", "keine Werte", {0xff, 0xff, 0xff}}};
    size_t i;
    put(b, " <renderer-v2 type=\"categorizedSymbol\" attr=\"");
    put_xml(b, ind->name);
    put(b, "\" symbollevels=\"0\" forceraster=\"0\" enableorderby=\"0\""
           " referencescale=\"-1\">\n  <categories>\n");
    for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
        putf(b, "   <category render=\"true\" symbol=\"%zu\" value=\"%s\" label=\"", i,
             cats[i].value);
        put_xml(b, cats[i].label);
        put(b, "\"/>\n");
    }
    put(b, "  </categories>\n  <symbols>\n");
    for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "%zu", i);
        put_fill_symbol(b, name, cats[i].rgb, 1);
    }
    put(b, "  </symbols>\n </renderer-v2>\n");
}

/*
 * Class columns with labels ("1=hoch;2=mittel;3=niedrig;4=sehr niedrig",
 * e.g. the MSS status classes) get a categorical renderer: classes in
 * their order on a diverging ColorBrewer RdYlBu ramp from blue (class 1)
 * to red (last class), reversed when the column's polarity is "positive"
 * (higher class = better); areas without a class grey.
 */
static void put_class_renderer(sbuf *b, const kz_style_indicator *ind)
{
    static const unsigned char ramp[7][3] = {
        {0x45, 0x75, 0xb4}, {0x91, 0xbf, 0xdb}, {0xe0, 0xf3, 0xf8}, {0xff, 0xff, 0xbf},
        {0xfe, 0xe0, 0x90}, {0xfc, 0x8d, 0x59}, {0xd7, 0x30, 0x27}};
    static const unsigned char grey[3] = {0xd9, 0xd9, 0xd9};
    char values[16][16], labels[16][160];
    const char *p = ind->categories;
    size_t n = 0, i;
    int reverse = ind->polarity != NULL && strcmp(ind->polarity, "positive") == 0;
    while (*p != '\0' && n < 16) {
        const char *eq = strchr(p, '='), *end = strchr(p, ';');
        if (end == NULL)
            end = p + strlen(p);
        if (eq == NULL || eq > end)
            break;
        snprintf(values[n], sizeof(values[n]), "%.*s", (int)(eq - p), p);
        snprintf(labels[n], sizeof(labels[n]), "%s %.*s", values[n], (int)(end - eq - 1), eq + 1);
        n++;
        p = *end ? end + 1 : end;
    }
    put(b, " <renderer-v2 type=\"categorizedSymbol\" attr=\"");
    put_xml(b, ind->name);
    put(b, "\" symbollevels=\"0\" forceraster=\"0\" enableorderby=\"0\""
           " referencescale=\"-1\">\n  <categories>\n");
    for (i = 0; i < n; i++) {
        putf(b, "   <category render=\"true\" symbol=\"%zu\" value=\"", i);
        put_xml(b, values[i]);
        put(b, "\" label=\"");
        put_xml(b, labels[i]);
        put(b, "\"/>\n");
    }
    putf(b, "   <category render=\"true\" symbol=\"%zu\" value=\"\" label=\"ohne Klasse\"/>\n", n);
    put(b, "  </categories>\n  <symbols>\n");
    for (i = 0; i <= n; i++) {
        char name[16];
        size_t at = n > 1 ? i * 6 / (n - 1) : 0;
        snprintf(name, sizeof(name), "%zu", i);
        if (i == n)
            put_fill_symbol(b, name, grey, 1);
        else
            put_fill_symbol(b, name, ramp[reverse ? 6 - at : at], 1);
    }
    put(b, "  </symbols>\n </renderer-v2>\n");
}

static void put_renderer(sbuf *b, const kz_style_indicator *ind, const kz_style_map *map)
{
    static const unsigned char grey[3] = {0xd9, 0xd9, 0xd9};
    int i;
    if (is_lisa_class(ind->name)) {
        put_lisa_renderer(b, ind);
        return;
    }
    if (ind->categories != NULL && ind->categories[0] != '\0') {
        put_class_renderer(b, ind);
        return;
    }
    if (map->n_classes == 0) {
        /* No values: outlines only, so the layer still shows. */
        put(b, " <renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" forceraster=\"0\""
               " enableorderby=\"0\" referencescale=\"-1\">\n  <symbols>\n");
        put_fill_symbol(b, "0", grey, 0);
        put(b, "  </symbols>\n </renderer-v2>\n");
        return;
    }
    put(b, " <renderer-v2 type=\"graduatedSymbol\" attr=\"");
    put_xml(b, ind->name);
    put(b, "\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" forceraster=\"0\""
           " enableorderby=\"0\" referencescale=\"-1\">\n  <ranges>\n");
    for (i = 0; i < map->n_classes; i++) {
        /* %.17g round-trips the doubles, so boundary values fall as in classify.h. */
        putf(b, "   <range symbol=\"%d\" lower=\"%.17g\" upper=\"%.17g\" render=\"true\" label=\"",
             i, map->classes[i].lower, map->classes[i].upper);
        put_xml(b, map->classes[i].label);
        put(b, "\"/>\n");
    }
    put(b, "  </ranges>\n  <symbols>\n");
    for (i = 0; i < map->n_classes; i++) {
        char name[16];
        snprintf(name, sizeof(name), "%d", i);
        put_fill_symbol(b, name, map->classes[i].rgb, 1);
    }
    put(b, "  </symbols>\n");
    if (map->scheme == KZ_STYLE_DIVERGING)
        put(b, "  <classificationMethod id=\"StdDev\">\n"
               "   <symmetricMode enabled=\"1\" symmetrypoint=\"0\" astride=\"0\"/>\n");
    else
        put(b, "  <classificationMethod id=\"Quantile\">\n"
               "   <symmetricMode enabled=\"0\" symmetrypoint=\"0\" astride=\"0\"/>\n");
    putf(b,
         "   <labelFormat format=\"%%1 \xe2\x80\x93 %%2\" labelprecision=\"%d\""
         " trimtrailingzeroes=\"0\"/>\n"
         "  </classificationMethod>\n",
         map->decimals);
    put(b, " </renderer-v2>\n");
}

static void put_labeling(sbuf *b, const kz_style_layer *layer)
{
    put(b, " <labeling type=\"simple\">\n  <settings calloutType=\"simple\">\n"
           "   <text-style fieldName=\"");
    put_xml(b, layer->label_field);
    put(b, "\" isExpression=\"0\" fontSize=\"8\" fontSizeUnit=\"Point\" textColor=\"30,30,30,255\""
           " textOpacity=\"1\" fontWeight=\"50\" fontItalic=\"0\" namedStyle=\"\""
           " multilineHeight=\"1\" capitalization=\"0\" allowHtml=\"0\">\n"
           "    <text-buffer bufferDraw=\"1\" bufferSize=\"0.8\" bufferSizeUnits=\"MM\""
           " bufferColor=\"255,255,255,255\" bufferOpacity=\"0.8\" bufferNoFill=\"1\""
           " bufferJoinStyle=\"128\" bufferBlendMode=\"0\"/>\n"
           "   </text-style>\n"
           "   <text-format wrapChar=\"\" autoWrapLength=\"14\" useMaxLineLengthForAutoWrap=\"1\""
           " multilineAlign=\"1\" formatNumbers=\"0\" decimals=\"1\" plussign=\"0\"/>\n"
           "   <placement placement=\"1\" centroidInside=\"1\" centroidWhole=\"0\""
           " fitInPolygonOnly=\"0\" priority=\"5\" layerType=\"PolygonGeometry\""
           " polygonPlacementFlags=\"2\" dist=\"0\" quadOffset=\"4\"/>\n");
    /* Scale-dependent: names only when zoomed in beyond 1:label_max_scale
     * (QGIS calls the larger denominator "scaleMax"). */
    putf(b,
         "   <rendering drawLabels=\"1\" scaleVisibility=\"1\" scaleMin=\"1\" scaleMax=\"%.0f\""
         " obstacle=\"1\" obstacleType=\"1\" obstacleFactor=\"1\" displayAll=\"0\""
         " upsidedownLabels=\"0\" labelPerPart=\"0\" mergeLines=\"0\" minFeatureSize=\"0\""
         " limitNumLabels=\"0\" maxNumLabels=\"2000\" zIndex=\"0\"/>\n",
         layer->label_max_scale > 1 ? layer->label_max_scale : 50000.0);
    put(b, "  </settings>\n </labeling>\n");
}

static void put_alias(sbuf *b, const char *field, const char *label, const char *unit)
{
    put(b, "  <alias field=\"");
    put_xml(b, field);
    put(b, "\" name=\"");
    put_xml(b, label);
    if (unit != NULL && unit[0] != '\0') {
        put(b, " (");
        put_xml(b, unit);
        put(b, ")");
    }
    put(b, "\"/>\n");
}

int kz_style_qml(char **out, kz_ctx *ctx, const kz_style_layer *layer, size_t indicator,
                 const kz_style_map *map)
{
    const kz_style_indicator *ind;
    sbuf b = {NULL, 0, 0, 0};
    size_t i;

    *out = NULL;
    if (indicator >= layer->n_indicators)
        return kz_ctx__error(ctx, KZ_E_USAGE, "style: indicator %zu of %zu", indicator,
                             layer->n_indicators);
    ind = &layer->indicators[indicator];
    put(&b, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            "<qgis version=\"3.22.16-Bia\xc5\x82owie\xc5\xbc"
            "a\" styleCategories=\"AllStyleCategories\""
            " hasScaleBasedVisibilityFlag=\"0\" minScale=\"100000000\" maxScale=\"0\""
            " labelsEnabled=\"1\" readOnly=\"0\">\n");
    put_renderer(&b, ind, map);
    put_labeling(&b, layer);
    put(&b, " <blendMode>0</blendMode>\n <featureBlendMode>0</featureBlendMode>\n"
            " <layerOpacity>1</layerOpacity>\n"
            " <legend type=\"default-vector\" showLabelLegend=\"0\"/>\n <aliases>\n");
    put_alias(&b, "key", "Schl\xc3\xbcssel", NULL);
    put_alias(&b, "name", "Name", NULL);
    put_alias(&b, "parent_key",
              "Schl\xc3\xbcssel der \xc3\xbc"
              "bergeordneten Einheit",
              NULL);
    for (i = 0; i < layer->n_indicators; i++)
        put_alias(&b, layer->indicators[i].name,
                  layer->indicators[i].label ? layer->indicators[i].label
                                             : layer->indicators[i].name,
                  layer->indicators[i].unit);
    put(&b, " </aliases>\n <previewExpression>\"");
    put_xml(&b, layer->label_field);
    put(&b, "\"</previewExpression>\n <layerGeometryType>2</layerGeometryType>\n</qgis>\n");
    if (b.failed) {
        free(b.s);
        return kz_ctx__error(ctx, KZ_E_NOMEM, "out of memory (style of %s)", ind->name);
    }
    *out = b.s;
    return KZ_OK;
}

void kz_style_qml_free(char *qml)
{
    free(qml);
}
