/* Disclosure control: primary suppression by the threshold rule and
 * secondary suppression in a hierarchy, on hand-built area trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first */
#include <cmocka.h>

#include "kiez/disclosure.h"
#include "kiez/kiez.h"

#include <math.h>
#include <string.h>

static kz_ctx *new_ctx(void)
{
    kz_ctx *ctx = NULL;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    return ctx;
}

static void assert_status(const unsigned char *got, const unsigned char *want, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("cell %zu: status %d, expected %d", i, got[i], want[i]);
}

static void test_primary(void **state)
{
    /* 0 is published (no contributor), 1 and 2 are below 3, 3 is not
     * (strictly below), NaN has no value, negative values are no counts. */
    const double v[] = {0, 1, 2, 3, NAN, 2.5, -1, 100};
    const unsigned char want[] = {0, 1, 1, 0, 0, 1, 0, 0};
    unsigned char st[8];
    (void)state;
    memset(st, 0, sizeof(st));
    assert_int_equal(kz_disclosure_primary(st, v, 8, KZ_SDC_MIN_COUNT), 3);
    assert_status(st, want, 8);
    /* A higher minimum adds 3; cells already marked are not counted again. */
    assert_int_equal(kz_disclosure_primary(st, v, 8, 5), 1);
    assert_int_equal(st[3], KZ_SDC_PRIMARY);
}

/*
 * Areas 0..4 (finest), districts 5 and 6, city 7:
 *   district 5 = a0 + a1 + a2,  district 6 = a3 + a4,  city = d5 + d6.
 */
static const long tree1[] = {5, 5, 5, 6, 6, 7, 7, -1};

static void test_one_suppressed_child(void **state)
{
    /* a0 = 2 is primary; district 5 = 19 and a1 = 10 are published, so
     * a0 = 19 − 10 − a2 unless one more cell goes: the smallest sibling,
     * a2 = 7 (not a1 = 10). Nothing else changes: the city relation has no
     * suppressed cell. */
    const double v[] = {2, 10, 7, 20, 30, 19, 50, 69};
    const unsigned char want[] = {1, 0, 2, 0, 0, 0, 0, 0};
    unsigned char st[8] = {0};
    size_t added = 99;
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_disclosure_primary(st, v, 8, 3), 1);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, st, v, tree1, NULL, 8), KZ_OK);
    assert_int_equal(added, 1);
    assert_status(st, want, 8);
    kz_ctx_free(ctx);
}

static void test_two_suppressed_children(void **state)
{
    /* a0 = 2 and a1 = 1: district 5 − a2 = a0 + a1 = 3 reveals neither. */
    const double v[] = {2, 1, 7, 20, 30, 10, 50, 60};
    const unsigned char want[] = {1, 1, 0, 0, 0, 0, 0, 0};
    unsigned char st[8] = {0};
    size_t added = 99;
    kz_ctx *ctx = new_ctx();
    (void)state;
    kz_disclosure_primary(st, v, 8, 3);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, st, v, tree1, NULL, 8), KZ_OK);
    assert_int_equal(added, 0);
    assert_status(st, want, 8);
    kz_ctx_free(ctx);
}

static void test_ties_take_lowest_index(void **state)
{
    /* a1 = a2 = 7: the lower index goes. */
    const double v[] = {1, 7, 7, 20, 30, 15, 50, 65};
    const unsigned char want[] = {1, 2, 0, 0, 0, 0, 0, 0};
    unsigned char st[8] = {0};
    kz_ctx *ctx = new_ctx();
    (void)state;
    kz_disclosure_primary(st, v, 8, 3);
    assert_int_equal(kz_disclosure_secondary(NULL, ctx, st, v, tree1, NULL, 8), KZ_OK);
    assert_status(st, want, 8);
    kz_ctx_free(ctx);
}

static void test_parent_checked_one_level_up(void **state)
{
    /*
     * Areas 0..5, districts 6, 7, 8, city 9:
     *   d6 = a0 + a1 = 1 + 1 = 2    (all three primary)
     *   d7 = a2 + a3 = 4 + 30 = 34
     *   d8 = a4 + a5 = 5 + 6 = 11
     *   city = d6 + d7 + d8 = 47
     * The relation of d6 has three unknowns: fine. But d6 is the only
     * unknown of the city relation (47 − 34 − 11 = 2): the smallest
     * sibling district d8 = 11 goes. Now d8 is the only unknown of its own
     * relation (a4 + a5 = 11): its smallest child a4 = 5 goes. A reader
     * then knows only d6 + a4 = 47 − 34 − 6 = 7.
     */
    const long parent[] = {6, 6, 7, 7, 8, 8, 9, 9, 9, -1};
    const double v[] = {1, 1, 4, 30, 5, 6, 2, 34, 11, 47};
    const unsigned char want[] = {1, 1, 0, 0, 2, 0, 1, 0, 2, 0};
    unsigned char st[10] = {0};
    size_t added = 0;
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_disclosure_primary(st, v, 10, 3), 3);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, st, v, parent, NULL, 10), KZ_OK);
    assert_int_equal(added, 2);
    assert_status(st, want, 10);
    kz_ctx_free(ctx);
}

static void test_only_child_and_missing(void **state)
{
    /*
     * parent: a0 -> 1, 1 -> 3, a2 -> 3, 3 -> 6, a4 -> 5, 5 -> 6, 6 top.
     * a0 = 2 is the only child of area 1 (5, imported): the relation
     * 1 = a0 has no sibling to take, so the parent 1 goes. Relation 3 then
     * has two unknowns (1 suppressed, a2 missing). Relation 5 has one
     * child a4 and no value in it: no relation for this period.
     * The city relation has no unknown.
     */
    const long parent[] = {1, 3, 3, 6, 5, 6, -1};
    const double v[] = {2, 5, NAN, 40, NAN, 60, 100};
    const unsigned char want[] = {1, 2, 0, 0, 0, 0, 0};
    unsigned char st[7] = {0};
    size_t added = 0;
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_disclosure_primary(st, v, 7, 3), 1);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, st, v, parent, NULL, 7), KZ_OK);
    assert_int_equal(added, 1);
    assert_status(st, want, 7);
    kz_ctx_free(ctx);
}

static void test_two_levels_under_one_parent(void **state)
{
    /*
     * District 4 has children on two levels: a0, a1 (group 0, with values)
     * and b0, b1 (group 1, an older scheme without data this period). The
     * relation of group 0 alone, 4 = a0 + a1, reveals a0 = 2 unless a1
     * goes too; the missing b cells must not count as protection. The
     * relation of group 1 does not exist (no b has a value).
     */
    const long parent[] = {4, 4, 4, 4, -1};
    const int group[] = {0, 0, 1, 1, 2};
    const double v[] = {2, 10, NAN, NAN, 12};
    const unsigned char want[] = {1, 2, 0, 0, 0};
    unsigned char st[5] = {0}, flat[5] = {0};
    size_t added = 0;
    kz_ctx *ctx = new_ctx();
    (void)state;
    kz_disclosure_primary(st, v, 5, 3);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, st, v, parent, group, 5), KZ_OK);
    assert_int_equal(added, 1);
    assert_status(st, want, 5);
    /* Without groups the NaN cells would hide a0: the leak the groups close. */
    kz_disclosure_primary(flat, v, 5, 3);
    assert_int_equal(kz_disclosure_secondary(&added, ctx, flat, v, parent, NULL, 5), KZ_OK);
    assert_int_equal(added, 0);
    kz_ctx_free(ctx);
}

static void test_area_status_is_protected(void **state)
{
    /* a1 (40 people) is withheld with its area (KZ_SDC_AREA, e.g. below a
     * minimum population): district 5 − a0 − a2 would give it, so the
     * smallest sibling a2 = 7 goes. */
    const double v[] = {12, 40, 7, 20, 30, 59, 50, 109};
    const unsigned char want[] = {0, 3, 2, 0, 0, 0, 0, 0};
    unsigned char st[8] = {0, KZ_SDC_AREA, 0, 0, 0, 0, 0, 0};
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_disclosure_primary(st, v, 8, 3), 0);
    assert_int_equal(kz_disclosure_secondary(NULL, ctx, st, v, tree1, NULL, 8), KZ_OK);
    assert_status(st, want, 8);
    kz_ctx_free(ctx);
}

static void test_bad_parent(void **state)
{
    const long parent[] = {1, 5};
    const long self[] = {0, -1};
    const double v[] = {1, 2};
    unsigned char st[2] = {0};
    kz_ctx *ctx = new_ctx();
    (void)state;
    assert_int_equal(kz_disclosure_secondary(NULL, ctx, st, v, parent, NULL, 2), KZ_E_USAGE);
    assert_int_equal(kz_disclosure_secondary(NULL, ctx, st, v, self, NULL, 2), KZ_E_USAGE);
    assert_non_null(strstr(kz_ctx_errmsg(ctx), "invalid parent"));
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primary),
        cmocka_unit_test(test_one_suppressed_child),
        cmocka_unit_test(test_two_suppressed_children),
        cmocka_unit_test(test_ties_take_lowest_index),
        cmocka_unit_test(test_parent_checked_one_level_up),
        cmocka_unit_test(test_only_child_and_missing),
        cmocka_unit_test(test_two_levels_under_one_parent),
        cmocka_unit_test(test_area_status_is_protected),
        cmocka_unit_test(test_bad_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
