/*
 * The Metrics pane (views/metrics.c) over the Prometheus collector's data:
 * a value under warn, one over crit with a unit, and a failed query, with
 * the collector's alerts; each row's value, colour and state. No server,
 * no curses.
 */
#include <math.h>
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
#include "collectors/prometheus.h"
#include "core/snapshot.h"
#include "tu.h"
#include "core/util.h"
#include "views/view.h"
#include "views/metrics.h"

static struct config *load(const char *extra, struct err *err)
{
        char *yaml = xasprintf("sources:\n  - name: prom\n    kind: prometheus\n"
                               "    url: http://127.0.0.1:9090\n%s", extra);
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", err);

        free(yaml);
        return c;
}

static void test_view_rows(void **state)
{
        struct err err = { 0 };
        struct config *c = load("    queries:\n      - {name: lag, expr: sum(x), warn: 100}\n"
                                "      - {name: p99, expr: y, unit: ms, crit: 250ms}\n"
                                "      - {name: bad, expr: \"sum(\"}\n", &err);
        struct prom_data *d = xcalloc(1, sizeof *d);
        struct snapshot *snap;
        const struct snapshot *snaps[1];
        struct alert_list al;
        struct view_data vd = { 0 };
        struct table_rows rows;

        (void)state;
        assert_non_null(c);
        d->series = xcalloc(3, sizeof *d->series);
        d->n_series = 3;
        d->series[0] = (struct prom_series){ xstrdup("lag"), xstrdup("lag"), "count", 150, NULL,
                                             100, NAN, { { 0 }, { 0 }, 0, 0 } };
        d->series[1] = (struct prom_series){ xstrdup("p99"), xstrdup("p99"), "ms", 300, NULL,
                                             NAN, 250, { { 0 }, { 0 }, 0, 0 } };
        d->series[2] = (struct prom_series){ xstrdup("bad"), xstrdup("bad"), "count", NAN,
                                             xstrdup("bad_data: parse error"), NAN, NAN,
                                             { { 0 }, { 0 }, 0, 0 } };
        d->n_errors = 1;
        d->quorum_asked = true;
        d->quorum.leader_id = d->quorum.leader_epoch = d->quorum.high_watermark = -1;
        str_copy(d->quorum.reason, "no raft metrics", sizeof d->quorum.reason);

        alert_list_init(&al);
        coll_prometheus_ops.alerts(&c->sources[0], d, &al);

        snap = snapshot_new(&c->sources[0]);
        snap->status = COLL_DEGRADED;
        snap->collected_mono = clock_mono_ms();
        snap->data = d;
        snaps[0] = snap;
        vd.srcs = c->sources;
        vd.snaps = snaps;
        vd.n = 1;
        vd.alerts = &al;
        vd.now_mono = clock_mono_ms();
        vd.ascii = true;
        table_rows_init(&rows);
        view_metrics_rows(&vd, &rows);
        assert_int_equal(rows.n, 3);
        assert_string_equal(rows.v[0].cell[MV_VALUE].text, "150");
        assert_int_equal(rows.v[0].cell[MV_VALUE].role, ROLE_WARN);
        assert_string_equal(rows.v[1].cell[MV_VALUE].text, "300ms");
        assert_int_equal(rows.v[1].cell[MV_VALUE].role, ROLE_CRIT);
        assert_int_equal(rows.v[1].sev, SEV_CRIT);
        assert_string_equal(rows.v[2].cell[MV_STATE].text, "bad_data: parse error");
        assert_string_equal(rows.v[2].cell[MV_VALUE].text, "-");
        table_rows_done(&rows);
        alert_list_done(&al);
        snapshot_unref(snap);
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_view_rows),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
