/*
 * Redaction in the ClickHouse collector: slow query texts get credentials
 * by shape masked (a Bearer token in a headers() literal or a comment, a
 * double-quoted IDENTIFIED BY) before they are stored, and an error answer
 * that quotes the password or its base64 forms is masked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/clickhouse/clickhouse.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"

static void test_slow_query_credentials(void **state)
{
        struct ch_data *d = xcalloc(1, sizeof *d);
        struct err err;
        size_t len;
        char *b = tu_fixture_file("clickhouse", "slow_secrets_v23.json", &len);

        (void)state;
        assert_int_equal(clickhouse_parse_slow(b, len, d, &err), 0);
        assert_int_equal(d->n_slow, 3);
        assert_string_equal(d->slow[0].query, "SELECT * FROM url('https://api.example.com/x.json', "
                            "JSONEachRow, headers('Authorization'='Bearer ***'))");
        assert_string_equal(d->slow[1].query, "SELECT 1 /* Bearer *** */");
        assert_string_equal(d->slow[2].query, "ALTER USER etl IDENTIFIED BY \"***\"");
        for (size_t i = 0; i < d->n_slow; i++) {
                assert_null(strstr(d->slow[i].query, "abc123XYZ"));
                assert_null(strstr(d->slow[i].query, "Tk-9f8e7d6c5b"));
                assert_null(strstr(d->slow[i].query, "Dq-Pw-91x"));
        }
        clickhouse_data_free(d);
        free(b);
}

static void test_error_quotes_password(void **state)
{
        static const char body[] =
                "Code: 516. DB::Exception: default: Authentication failed: key s3cr3t-Key-1 "
                "(Basic ZGVmYXVsdDpzM2NyM3QtS2V5LTE=, czNjcjN0LUtleS0x). "
                "(AUTHENTICATION_FAILED) (version 23.8.2.7 (official build))\n";
        struct err err;

        (void)state;
        assert_int_equal(clickhouse_response_check(401, body, strlen(body), "s3cr3t-Key-1", &err),
                         -1);
        assert_string_equal(err.msg, "ClickHouse error 516 (AUTHENTICATION_FAILED): default: "
                            "Authentication failed: key *** (Basic ***, ***). "
                            "(check user and password_env/password_file)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slow_query_credentials),
                cmocka_unit_test(test_error_quotes_password),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
