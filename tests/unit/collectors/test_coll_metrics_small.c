/*
 * test_coll_metrics_small: the metrics hooks of the kinds whose data is a
 * few fields (Snowflake, Schema Registry), on hand-built data: exact text,
 * unknown versions without a sample, promtool check metrics clean. The
 * larger kinds are tested next to their JSON tests (test_coll_<kind>.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/schema_registry.h"
#include "collectors/snowflake.h"
#include "core/promtext.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "tu_promtool.h"

static char *render(const struct collector_ops *ops, void *data, const char *name)
{
        struct source_cfg src = { .name = (char *)name, .kind = (char *)ops->name, .ops = ops };
        struct snapshot snap = { .src = &src, .data = data };
        struct promtext *p = promtext_new();
        char *text;

        assert_non_null(ops->metrics);
        ops->metrics(&snap, &src, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        promtext_free(p);
        return text;
}

static void test_snowflake(void **state)
{
        struct sf_data d = { .version = "8.21.1", .latency_ms = 1234 };
        char *t = render(&coll_snowflake_ops, &d, "warehouse");

        (void)state;
        assert_string_equal(t,
                "# HELP lambdaops_snowflake_probe_latency_seconds Round trip of the SELECT "
                "CURRENT_VERSION() probe, polls included.\n"
                "# TYPE lambdaops_snowflake_probe_latency_seconds gauge\n"
                "lambdaops_snowflake_probe_latency_seconds{source=\"warehouse\"} 1.234\n");
        free(t);
}

static void test_schema_registry(void **state)
{
        struct sr_subject subj[2] = {
                { .name = "orders-value", .known = true, .versions = 3, .latest_version = 5,
                  .latest_id = 42 },
                { .name = "payments-value", .versions = -1, .latest_version = -1,
                  .latest_id = -1 },
        };
        struct sr_data d = { .subjects = subj, .n_subjects = 2 };
        char *t = render(&coll_schema_registry_ops, &d, "registry");

        (void)state;
        tu_metrics_expect(t, "tests/fixtures/schema_registry/metrics.prom");
        assert_null(strstr(t, "payments-value\"} "));    /* unknown: no sample */
        free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snowflake),
                cmocka_unit_test(test_schema_registry),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
