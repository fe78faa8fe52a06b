/*
 * The Connect pane (views/connect.c) over the Kafka Connect collector's
 * data parsed from tests/fixtures/connect/: its rows joined with a
 * postgres snapshot's slot lag, the detail with the task trace, and the
 * Schema Registry toggle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "collectors/kafka_connect.h"
#include "collectors/postgres.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "views/view.h"
#include "views/connect.h"

/* The pane joins a Debezium connector with its slot in the postgres
 * source's snapshot. */
static void test_view_rows_join(void **state)
{
        struct config *c = tu_kc_config(NULL);
        struct kc_data *d = tu_kc_sample_expanded();
        struct pg_data *pd = xcalloc(1, sizeof *pd);
        struct snapshot *sp = snapshot_new(&c->sources[0]), *sk = snapshot_new(&c->sources[1]);
        const struct snapshot *snaps[2];
        struct view_data vd = { 0 };
        struct table_rows rows;
        struct tlines tl;
        char line[512];
        bool saw_trace = false, saw_lag = false;

        (void)state;
        d->postgres_source = xstrdup("shop-db");
        pd->slots = xcalloc(1, sizeof *pd->slots);
        pd->n_slots = 1;
        pd->slots[0].name = xstrdup("debezium_shop");
        pd->slots[0].has_lag = true;
        pd->slots[0].lag_bytes = 3 * 1024 * 1024;
        pd->slots[0].active = true;
        sp->data = pd;
        sp->status = COLL_OK;
        sp->collected_mono = 1000000;      /* a fixed monotonic frame: fresh data */
        sk->data = d;
        sk->status = COLL_OK;
        sk->collected_mono = 1000000;
        snaps[0] = sp;
        snaps[1] = sk;
        vd.srcs = c->sources;
        vd.snaps = snaps;
        vd.n = 2;
        vd.now_mono = 1000000;
        vd.width = 120;
        table_rows_init(&rows);
        view_connect_ops.rows(&vd, &rows);
        assert_int_equal(rows.n, 7);
        /* worst first: the FAILED connector, then the silent outage */
        assert_string_equal(rows.v[0].cell[CONV_NAME].text, "orders-cdc");
        assert_int_equal(rows.v[0].sev, SEV_CRIT);
        assert_string_equal(rows.v[1].cell[CONV_NAME].text, "pg-cdc");
        assert_string_equal(rows.v[1].cell[CONV_STATE].text, "RUNNING");
        assert_string_equal(rows.v[1].cell[CONV_TASKS].text, "1/2");
        assert_string_equal(rows.v[1].cell[CONV_FAILED].text, "1");
        assert_int_equal(rows.v[1].cell[CONV_FAILED].role, ROLE_CRIT);
        assert_int_equal(rows.v[1].sev, SEV_CRIT);
        assert_string_equal(rows.v[1].cell[CONV_SLOT].text, "debezium_shop 3.0 MiB");
        assert_string_equal(rows.v[0].cell[CONV_SLOT].text, "debezium: not in shop-db");
        assert_string_equal(rows.v[6].cell[CONV_NAME].text, "s3-sink");
        assert_string_equal(rows.v[6].cell[CONV_SLOT].text, "-");

        tlines_init(&tl);
        view_connect_ops.detail(&vd, rows.v[1].id, &tl);
        for (size_t i = 0; i < tl.n; i++) {
                tline_text(&tl.v[i], line, sizeof line);
                if (strstr(line, "Caused by: org.postgresql.util.PSQLException"))
                        saw_trace = true;
                if (strstr(line, "slot debezium_shop on shop-db") && strstr(line, "3.0 MiB"))
                        saw_lag = true;
        }
        assert_true(saw_trace);
        assert_true(saw_lag);
        tlines_done(&tl);
        table_rows_done(&rows);

        /* the Schema Registry sub-view is a toggle of the same pane */
        vd.flags = VIEW_CONNECT_F_SR;
        table_rows_init(&rows);
        view_connect_ops.rows(&vd, &rows);
        assert_int_equal(rows.n, 0);
        table_rows_done(&rows);

        snapshot_unref(sp);
        snapshot_unref(sk);
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_view_rows_join),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
