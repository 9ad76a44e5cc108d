/* Map styles: scheme rules, classes and palettes by polarity, German
 * number format, legend labels, and the QML document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/kiez.h"
#include "kiez/style.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s:%d: %.17g, expected %.17g", __FILE__, __LINE__, a_, b_);                  \
    } while (0)

#define NDASH "\xe2\x80\x93"
#define MINUS "\xe2\x88\x92"

static kz_ctx *new_ctx(void)
{
    kz_ctx *ctx = NULL;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    return ctx;
}

static void assert_rgb(const unsigned char *rgb, unsigned hex)
{
    unsigned got = (unsigned)rgb[0] << 16 | (unsigned)rgb[1] << 8 | rgb[2];
    if (got != hex)
        fail_msg("colour #%06x, expected #%06x", got, hex);
}

static void test_scheme(void **state)
{
    kz_style_indicator a = {"u6_share", "Anteil unter 6-Jährige", "%", "neutral", NULL};
    kz_style_indicator b = {"u6_share_slope", NULL, "Prozentpunkte/Jahr", "negative", NULL};
    kz_style_indicator c = {"inhabitants", NULL, "Personen", NULL, NULL};
    kz_style_indicator d = {"z_u6", NULL, NULL, NULL, NULL};
    kz_style_indicator e = {"status_index", NULL, NULL, NULL, NULL};
    kz_style_indicator f = {"foreigners_share_chg", NULL, "Prozentpunkte", NULL, NULL};
    kz_style_indicator g = {"kita_places", NULL, "Plätze je 100", NULL, NULL};
    kz_style_indicator h = {"x", NULL, "ppm", NULL, NULL}; /* "pp" must match whole */
    (void)state;
    assert_int_equal(kz_style_scheme_of(&a), KZ_STYLE_SEQUENTIAL);
    assert_int_equal(kz_style_scheme_of(&b), KZ_STYLE_DIVERGING);
    assert_int_equal(kz_style_scheme_of(&c), KZ_STYLE_SEQUENTIAL);
    assert_int_equal(kz_style_scheme_of(&d), KZ_STYLE_DIVERGING);
    assert_int_equal(kz_style_scheme_of(&e), KZ_STYLE_DIVERGING);
    assert_int_equal(kz_style_scheme_of(&f), KZ_STYLE_DIVERGING);
    assert_int_equal(kz_style_scheme_of(&g), KZ_STYLE_SEQUENTIAL);
    assert_int_equal(kz_style_scheme_of(&h), KZ_STYLE_SEQUENTIAL);
}

static void test_format(void **state)
{
    char buf[64];
    (void)state;
    kz_style_format_number(buf, sizeof(buf), 12345.67, 1);
    assert_string_equal(buf, "12\xe2\x80\xaf"
                             "345,7");
    kz_style_format_number(buf, sizeof(buf), 1234567, 0);
    assert_string_equal(buf, "1\xe2\x80\xaf"
                             "234\xe2\x80\xaf"
                             "567");
    kz_style_format_number(buf, sizeof(buf), 1234, 0);
    assert_string_equal(buf, "1234");
    kz_style_format_number(buf, sizeof(buf), -1.5, 1);
    assert_string_equal(buf, MINUS "1,5");
    kz_style_format_number(buf, sizeof(buf), -0.04, 1);
    assert_string_equal(buf, "0,0"); /* no minus on a rounded zero */
    kz_style_format_number(buf, sizeof(buf), NAN, 1);
    assert_string_equal(buf, NDASH);
    /* snprintf semantics: the needed length, cut to fit. */
    assert_int_equal(kz_style_format_number(buf, 4, 123456.0, 2), 12);
    assert_int_equal(strlen(buf), 3);
}

static void test_sequential(void **state)
{
    kz_ctx *ctx = new_ctx();
    double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    kz_style_indicator ind = {"u6_share", "Anteil", "%", "neutral", NULL};
    kz_style_map m;
    int i;
    (void)state;
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 10), KZ_OK);
    assert_int_equal(m.scheme, KZ_STYLE_SEQUENTIAL);
    assert_string_equal(m.palette, "YlGnBu");
    assert_int_equal(m.n_classes, 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(m.classes[i].count, 2);
    /* Hyndman-Fan 7 quantiles of 1..10: 1, 2.8, 4.6, 6.4, 8.2, 10. */
    assert_near(m.classes[0].lower, 1, 1e-12);
    assert_near(m.classes[0].upper, 2.8, 1e-12);
    assert_near(m.classes[4].upper, 10, 1e-12);
    assert_rgb(m.classes[0].rgb, 0xffffcc);
    assert_rgb(m.classes[4].rgb, 0x253494);
    assert_int_equal(m.decimals, 0); /* integer data, classes wider than 1 */
    assert_string_equal(m.classes[0].label, "1 " NDASH " 3 % (2)");
    assert_int_equal(m.n_missing, 0);
    /* Boundaries: upper-inclusive, the first class includes its lower end. */
    assert_int_equal(kz_style_class_of(&m, 1), 0);
    assert_int_equal(kz_style_class_of(&m, 2.8), 0);
    assert_int_equal(kz_style_class_of(&m, 2.8000001), 1);
    assert_int_equal(kz_style_class_of(&m, 10), 4);
    assert_int_equal(kz_style_class_of(&m, 10.5), -1);
    assert_int_equal(kz_style_class_of(&m, NAN), -1);

    /* Higher is worse: YlOrRd ascending, red for the highest class. */
    ind.polarity = "negative";
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 10), KZ_OK);
    assert_string_equal(m.palette, "YlOrRd");
    assert_int_equal(m.reversed, 0);
    assert_rgb(m.classes[4].rgb, 0xbd0026);
    /* Higher is better: reversed, red for the lowest class. */
    ind.polarity = "positive";
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 10), KZ_OK);
    assert_int_equal(m.reversed, 1);
    assert_rgb(m.classes[0].rgb, 0xbd0026);
    assert_rgb(m.classes[4].rgb, 0xffffb2);
    kz_ctx_free(ctx);
}

static void test_ties_and_missing(void **state)
{
    kz_ctx *ctx = new_ctx();
    double v[6] = {3.5, 3.5, 3.5, NAN, 3.5, NAN};
    double none[3] = {NAN, NAN, NAN};
    kz_style_indicator ind = {"share", NULL, NULL, NULL, NULL};
    kz_style_map m;
    (void)state;
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 6), KZ_OK);
    assert_int_equal(m.n_classes, 1);
    assert_int_equal(m.classes[0].count, 4);
    assert_int_equal(m.n_missing, 2);
    assert_rgb(m.classes[0].rgb, 0x41b6c4); /* one class: the middle colour */
    assert_int_equal(kz_style_classify(&m, ctx, &ind, none, 3), KZ_OK);
    assert_int_equal(m.n_classes, 0);
    assert_int_equal(m.n_missing, 3);
    kz_ctx_free(ctx);
}

static void test_diverging(void **state)
{
    kz_ctx *ctx = new_ctx();
    double v[5] = {-2, -1, 0, 1, 2};
    kz_style_indicator ind = {"z_status", "Status", "z", "neutral", NULL};
    kz_style_map m;
    double s = sqrt(2.0); /* RMS of the values */
    (void)state;
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 5), KZ_OK);
    assert_int_equal(m.scheme, KZ_STYLE_DIVERGING);
    assert_string_equal(m.palette, "PuOr");
    assert_int_equal(m.n_classes, 5);
    assert_near(m.classes[0].lower, -2.5 * s, 1e-12);
    assert_near(m.classes[1].lower, -1.5 * s, 1e-12);
    assert_near(m.classes[2].lower, -0.5 * s, 1e-12);
    assert_near(m.classes[2].upper, 0.5 * s, 1e-12);
    assert_near(m.classes[4].upper, 2.5 * s, 1e-12);
    assert_int_equal(m.classes[0].count, 0);
    assert_int_equal(m.classes[1].count, 2);
    assert_int_equal(m.classes[2].count, 1);
    assert_int_equal(m.classes[3].count, 2);
    assert_int_equal(m.classes[4].count, 0);
    assert_rgb(m.classes[2].rgb, 0xf7f7f7); /* zero is neutral */
    assert_int_equal(m.decimals, 1);        /* inner class width s = 1.41 */
    assert_string_equal(m.classes[2].label, MINUS "0,7 " NDASH " 0,7 z (1)");
    /* Higher is worse: RdBu reversed, red above zero. */
    ind.polarity = "negative";
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 5), KZ_OK);
    assert_string_equal(m.palette, "RdBu");
    assert_rgb(m.classes[4].rgb, 0xca0020);
    assert_rgb(m.classes[0].rgb, 0x0571b0);
    /* Higher is better: red below zero. */
    ind.polarity = "positive";
    assert_int_equal(kz_style_classify(&m, ctx, &ind, v, 5), KZ_OK);
    assert_rgb(m.classes[0].rgb, 0xca0020);
    /* Data beyond 2.5 s widens the outer classes. */
    {
        double w[20] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10};
        /* RMS sqrt(110 / 20) = 2.35: 2.5 s = 5.9 < 10 */
        assert_int_equal(kz_style_classify(&m, ctx, &ind, w, 20), KZ_OK);
        assert_near(m.classes[4].upper, 10, 1e-12);
        assert_int_equal(kz_style_class_of(&m, 10), 4);
    }
    kz_ctx_free(ctx);
}

static void test_qml(void **state)
{
    kz_ctx *ctx = new_ctx();
    double v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    kz_style_indicator inds[2] = {{"u6_share", "Anteil <6 & \"Kinder\"", "%", "neutral", NULL},
                                  {"inhabitants", "Einwohner", "Personen", NULL, NULL}};
    kz_style_layer layer = {inds, 2, "name", 25000};
    kz_style_map m, empty;
    char *qml = NULL, *p;
    int ranges = 0;
    (void)state;
    assert_int_equal(kz_style_classify(&m, ctx, &inds[0], v, 10), KZ_OK);
    assert_int_equal(kz_style_qml(&qml, ctx, &layer, 0, &m), KZ_OK);
    assert_non_null(strstr(qml, "<!DOCTYPE qgis"));
    assert_non_null(strstr(qml, "type=\"graduatedSymbol\" attr=\"u6_share\""));
    for (p = qml; (p = strstr(p, "<range ")) != NULL; p++)
        ranges++;
    assert_int_equal(ranges, 5);
    assert_non_null(strstr(qml, "lower=\"2.7999999999999998\""));
    assert_non_null(strstr(qml, "label=\"1 " NDASH " 3 % (2)\""));
    assert_non_null(strstr(qml, "name=\"color\" value=\"255,255,204,255\""));
    /* Aliases, escaped, with the unit. */
    assert_non_null(strstr(qml, "<alias field=\"u6_share\" name=\"Anteil &lt;6 &amp; "
                                "&quot;Kinder&quot; (%)\"/>"));
    assert_non_null(strstr(qml, "<alias field=\"inhabitants\" name=\"Einwohner (Personen)\"/>"));
    /* Scale-dependent name labels. */
    assert_non_null(strstr(qml, "fieldName=\"name\""));
    assert_non_null(strstr(qml, "scaleVisibility=\"1\" scaleMin=\"1\" scaleMax=\"25000\""));
    kz_style_qml_free(qml);

    /* No values: an outline style, still valid. */
    memset(&empty, 0, sizeof(empty));
    assert_int_equal(kz_style_qml(&qml, ctx, &layer, 1, &empty), KZ_OK);
    assert_non_null(strstr(qml, "type=\"singleSymbol\""));
    kz_style_qml_free(qml);
    assert_int_equal(kz_style_qml(&qml, ctx, &layer, 2, &m), KZ_E_USAGE);
    assert_null(qml);
    kz_style_qml_free(NULL);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scheme),     cmocka_unit_test(test_format),
        cmocka_unit_test(test_sequential), cmocka_unit_test(test_ties_and_missing),
        cmocka_unit_test(test_diverging),  cmocka_unit_test(test_qml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
