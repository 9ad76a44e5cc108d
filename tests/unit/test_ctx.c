#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctx_internal.h"
#include "kiez/kiez.h"

#include <string.h>

static void test_error_message_and_code(void **state)
{
    kz_ctx *ctx = NULL;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    assert_string_equal(kz_ctx_errmsg(ctx), "");
    assert_int_equal(kz_ctx__error(ctx, KZ_E_INPUT, "%s:%d: bad", "a.csv", 7), KZ_E_INPUT);
    kz_ctx__error_prefix(ctx, "table %s", "t2");
    assert_string_equal(kz_ctx_errmsg(ctx), "table t2: a.csv:7: bad");
    kz_ctx_free(ctx);
    kz_ctx_free(NULL);
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(kz_exit_code(KZ_OK), 0);
    assert_int_equal(kz_exit_code(KZ_E_USAGE), 1);
    assert_int_equal(kz_exit_code(KZ_E_INPUT), 2);
    assert_int_equal(kz_exit_code(KZ_E_IO), 3);
    assert_int_equal(kz_exit_code(KZ_E_INTERNAL), 4);
    assert_int_equal(kz_exit_code(KZ_E_NOMEM), 4);
}

static void count_log(int level, const char *msg, void *payload)
{
    (void)level;
    (void)msg;
    (*(int *)payload)++;
}

static void test_warnings_counted(void **state)
{
    kz_ctx *ctx = NULL;
    int seen = 0;
    (void)state;
    assert_int_equal(kz_ctx_new(&ctx), KZ_OK);
    kz_ctx_set_log(ctx, KZ_LOG_WARN, count_log, &seen);
    kz_ctx__log(ctx, KZ_LOG_WARN, "w");
    kz_ctx__log(ctx, KZ_LOG_INFO, "dropped");
    assert_int_equal(seen, 1);
    assert_int_equal(kz_ctx_warning_count(ctx), 1);
    kz_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_message_and_code),
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_warnings_counted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
