/*
 * A server answer nested deeper than cJSON's limit (2000 levels of [[...]])
 * gets an error naming the nesting, not "truncated" or "not Prometheus",
 * at every collector's parse site.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/clickhouse/clickhouse.h"
#include "collectors/kafka_connect.h"
#include "collectors/prometheus.h"
#include "core/util.h"

static char *deep;
static size_t deep_len;

static int setup(void **state)
{
        (void)state;
        deep_len = 4000;
        deep = xmalloc(deep_len + 1);
        memset(deep, '[', deep_len / 2);
        memset(deep + deep_len / 2, ']', deep_len / 2);
        deep[deep_len] = '\0';
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        free(deep);
        return 0;
}

static void test_prometheus(void **state)
{
        struct prom_sample *s;
        size_t n;
        struct err err;

        (void)state;
        assert_int_equal(prometheus_parse(deep, deep_len, &s, &n, &err), -1);
        assert_string_equal(err.msg, "not a Prometheus API answer: JSON nested deeper than "
                            "1000 levels");
}

static void test_clickhouse(void **state)
{
        struct ch_data *d = xcalloc(1, sizeof *d);
        struct err err;

        (void)state;
        assert_int_equal(clickhouse_parse_slow(deep, deep_len, d, &err), -1);
        assert_string_equal(err.msg, "slow queries query: JSON nested deeper than 1000 levels");
        clickhouse_data_free(d);
}

static void test_kafka_connect(void **state)
{
        struct kc_data *d = kafka_connect_data_new();
        struct err err;

        (void)state;
        assert_int_equal(kafka_connect_parse_list(deep, deep_len, d, &err), -1);
        assert_string_equal(err.msg, "GET /connectors: JSON nested deeper than 1000 levels");
        kafka_connect_data_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prometheus),
                cmocka_unit_test(test_clickhouse),
                cmocka_unit_test(test_kafka_connect),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
