/*
 * The Runbooks pane (views/runbooks.c): the exact cells for a set of
 * runbooks, live alerts and ledger runs; suggested first; the filter of the
 * alert the pane was opened from; the prefilled command line; the detail
 * pages. Time is driven by the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "core/alerttrack.h"
#include "core/config.h"
#include "core/util.h"
#include "runbook/runbook.h"
#include "views/view.h"
#include "views/runbooks.h"

static const char *cfg_yaml =
        "sources:\n"
        "  - name: orders-db\n"
        "    kind: postgres\n"
        "    dsn: \"host=127.0.0.1 port=1 dbname=postgres\"\n";

static const char *rb_slot =
        "id: cdc-slot-inactive\n"
        "title: An inactive slot is retaining WAL\n"
        "description: |\n"
        "  Find the consumer.\n"
        "  Restart it.\n"
        "when:\n"
        "  - kind: postgres\n"
        "    metric: slot_*\n"
        "inputs:\n"
        "  - name: source\n"
        "    type: source\n"
        "    kind: postgres\n"
        "    from_alert: source\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "    from_alert: subject\n"
        "  - name: mode\n"
        "    type: enum\n"
        "    values: [restart, drop]\n"
        "    default: restart\n"
        "  - name: note\n"
        "    type: string\n"
        "steps:\n"
        "  - id: slot-exists\n"
        "    check:\n"
        "      source: ${source}\n"
        "      expr: 'any(slots, .name == inputs.slot)'\n"
        "  - id: confirm\n"
        "    manual: Check that the consumer is gone.\n";

static const char *rb_generic =
        "id: a-generic\n"
        "title: Generic checks\n"
        "steps:\n"
        "  - id: look\n"
        "    manual: Look around.\n";

static const char *rb_kafka =
        "id: kafka-down\n"
        "title: Kafka is down\n"
        "when:\n"
        "  - kind: kafka\n"
        "steps:\n"
        "  - id: look\n"
        "    manual: Look at the brokers.\n";

static const char *runs_json =
        "[{\"run\":\"20261201T100000Z-kafka-down-beef\",\"runbook\":\"kafka-down\","
        "\"target\":\"\",\"user\":\"ops\",\"started\":\"2026-12-01T10:00:00Z\","
        "\"ended\":null,\"result\":null,\"step\":\"look\"},"
        "{\"run\":\"20261130T100000Z-cdc-slot-inactive-0a1b\",\"runbook\":\"cdc-slot-inactive\","
        "\"target\":\"orders-db/debezium\",\"user\":\"alice\","
        "\"started\":\"2026-11-30T10:00:00Z\",\"ended\":\"2026-11-30T10:05:00Z\","
        "\"result\":\"ok\",\"step\":\"confirm\"}]";

struct fx {
        struct config *cfg;
        struct alert_tracker track;
        struct alert_list alerts;
        struct view_runbooks st;
        struct view_data d;
};

static struct alert mk(const char *src, const char *metric, const char *subject)
{
        struct alert a;

        memset(&a, 0, sizeof a);
        a.sev = SEV_WARN;
        str_copy(a.source, src, sizeof a.source);
        str_copy(a.metric, metric, sizeof a.metric);
        str_copy(a.subject, subject, sizeof a.subject);
        a.value = 400000;
        a.threshold = 300000;
        str_copy(a.message, "slot debezium orders has no consumer", sizeof a.message);
        return a;
}

static struct runbook *load(const char *y)
{
        struct err e;
        struct runbook *rb = runbook_load_string(y, strlen(y), "t.yaml", &e);

        if (!rb)
                fail_msg("%s", e.msg);
        return rb;
}

static void fx_init(struct fx *f)
{
        struct err e;
        struct alert a = mk("orders-db", "slot_inactive_ms", "debezium orders");

        memset(f, 0, sizeof *f);
        f->cfg = config_load_string(cfg_yaml, strlen(cfg_yaml), "t.yaml", &e);
        assert_non_null(f->cfg);
        alerttrack_init(&f->track);
        alert_list_init(&f->alerts);
        alert_list_add(&f->alerts, &a);
        alerttrack_update(&f->track, &f->alerts, 10000, 0);
        /* The set as runbook_set_load leaves it: sorted by id. */
        f->st.set.v = xcalloc(3, sizeof *f->st.set.v);
        f->st.set.v[0] = load(rb_generic);
        f->st.set.v[1] = load(rb_slot);
        f->st.set.v[2] = load(rb_kafka);
        f->st.set.n = 3;
        f->st.runs = cJSON_Parse(runs_json);
        assert_non_null(f->st.runs);
        f->d.srcs = f->cfg->sources;
        f->d.n = f->cfg->n_sources;
        f->d.track = &f->track;
        f->d.alerts = &f->alerts;
        f->d.now_mono = 20000;
        f->d.ascii = true;
        f->d.runbooks = &f->st;
}

static void fx_done(struct fx *f)
{
        view_runbooks_done(&f->st);
        alerttrack_done(&f->track);
        alert_list_done(&f->alerts);
        config_free(f->cfg);
}

static bool has_line(const struct tlines *l, const char *want)
{
        char line[1024];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], line, sizeof line);
                if (strcmp(line, want) == 0)
                        return true;
        }
        return false;
}

static void dump(const struct tlines *l)
{
        char line[1024];

        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], line, sizeof line);
                fprintf(stderr, "[%s]\n", line);
        }
}

static void test_rows_suggested_first(void **state)
{
        struct fx f;
        struct table_rows rows;

        (void)state;
        fx_init(&f);
        table_rows_init(&rows);
        view_runbooks_rows(&f.d, &rows);
        assert_int_equal(rows.n, 5);
        assert_string_equal(rows.v[0].id, "rb:cdc-slot-inactive");
        assert_string_equal(rows.v[0].cell[RB_COL_MARK].text, "suggested");
        assert_int_equal(rows.v[0].cell[RB_COL_MARK].role, ROLE_WARN);
        assert_string_equal(rows.v[0].cell[RB_COL_ID].text, "cdc-slot-inactive");
        assert_string_equal(rows.v[0].cell[RB_COL_TITLE].text,
                            "An inactive slot is retaining WAL");
        assert_int_equal(rows.v[0].sev, SEV_WARN);
        assert_string_equal(rows.v[1].id, "rb:a-generic");
        assert_string_equal(rows.v[1].cell[RB_COL_MARK].text, "runbook");
        assert_string_equal(rows.v[1].cell[RB_COL_TITLE].text, "Generic checks");
        assert_int_equal(rows.v[1].sev, SEV_OK);
        assert_string_equal(rows.v[2].id, "rb:kafka-down");
        assert_string_equal(rows.v[2].cell[RB_COL_MARK].text, "runbook");
        /* The runs, newest first as ledger_list gives them. */
        assert_string_equal(rows.v[3].id, "run:20261201T100000Z-kafka-down-beef");
        assert_string_equal(rows.v[3].cell[RB_COL_MARK].text, "run");
        assert_string_equal(rows.v[3].cell[RB_COL_ID].text, "20261201T100000Z-kafka-down-beef");
        assert_string_equal(rows.v[3].cell[RB_COL_TITLE].text, "kafka-down");
        assert_string_equal(rows.v[3].cell[RB_COL_USER].text, "ops");
        assert_string_equal(rows.v[3].cell[RB_COL_STARTED].text, "2026-12-01T10:00:00Z");
        assert_string_equal(rows.v[3].cell[RB_COL_RESULT].text, "in progress/interrupted");
        assert_int_equal(rows.v[3].cell[RB_COL_RESULT].role, ROLE_WARN);
        assert_string_equal(rows.v[4].cell[RB_COL_TITLE].text,
                            "cdc-slot-inactive on orders-db/debezium");
        assert_string_equal(rows.v[4].cell[RB_COL_USER].text, "alice");
        assert_string_equal(rows.v[4].cell[RB_COL_RESULT].text, "ok");
        assert_int_equal(rows.v[4].cell[RB_COL_RESULT].role, ROLE_OK);

        /* The alert clears: nothing is suggested, the order is by id. */
        f.alerts.n = 0;
        alerttrack_update(&f.track, &f.alerts, 15000, 0);
        table_rows_clear(&rows);
        view_runbooks_rows(&f.d, &rows);
        assert_string_equal(rows.v[0].id, "rb:a-generic");
        assert_string_equal(rows.v[1].id, "rb:cdc-slot-inactive");
        assert_string_equal(rows.v[1].cell[RB_COL_MARK].text, "runbook");
        table_rows_done(&rows);
        fx_done(&f);
}

static void test_command(void **state)
{
        struct fx f;
        char cmd[1024];

        (void)state;
        fx_init(&f);
        view_runbooks_command(f.st.set.v[1], &f.track.v[0].a, NULL, cmd, sizeof cmd);
        assert_string_equal(cmd, "lambdaops runbook run cdc-slot-inactive --input source=orders-db"
                            " --input 'slot=debezium orders' --input mode=restart --input note=?");
        view_runbooks_command(f.st.set.v[1], NULL, "/etc/lambda ops/it's.yaml", cmd, sizeof cmd);
        assert_string_equal(cmd, "lambdaops runbook run cdc-slot-inactive --input source=?"
                            " --input slot=? --input mode=restart --input note=?"
                            " --config '/etc/lambda ops/it'\\''s.yaml'");
        view_runbooks_command(f.st.set.v[0], NULL, "/tmp/c.yaml", cmd, sizeof cmd);
        assert_string_equal(cmd, "lambdaops runbook run a-generic --config /tmp/c.yaml");
        assert_ptr_equal(view_runbooks_alert_for(&f.d, f.st.set.v[1]), &f.track.v[0].a);
        assert_null(view_runbooks_alert_for(&f.d, f.st.set.v[2]));
        fx_done(&f);
}

static void test_filter_and_preamble(void **state)
{
        struct fx f;
        struct table_rows rows;
        struct tlines l;

        (void)state;
        fx_init(&f);
        view_runbooks_set_alert(&f.st, &f.track.v[0].a);
        f.d.flags = VIEW_RB_F_ALERT;
        table_rows_init(&rows);
        view_runbooks_rows(&f.d, &rows);
        assert_int_equal(rows.n, 2);
        assert_string_equal(rows.v[0].id, "rb:cdc-slot-inactive");
        assert_string_equal(rows.v[1].id, "run:20261130T100000Z-cdc-slot-inactive-0a1b");

        tlines_init(&l);
        view_runbooks_preamble(&f.d, &l);
        if (!has_line(&l, "answering orders-db slot_inactive_ms debezium orders  (a: all runbooks)") ||
            !has_line(&l, "run: lambdaops runbook run cdc-slot-inactive --input source=orders-db"
                      " --input 'slot=debezium orders' --input mode=restart --input note=?") ||
            !has_line(&l, "Enter or r on a runbook runs it here; Enter on an unfinished run "
                      "resumes it; or run the command above in a second terminal")) {
                dump(&l);
                fail();
        }
        /* A run selected: no command line. */
        str_copy(f.st.sel_id, "run:20261130T100000Z-cdc-slot-inactive-0a1b", sizeof f.st.sel_id);
        tlines_done(&l);
        tlines_init(&l);
        view_runbooks_preamble(&f.d, &l);
        assert_int_equal(l.n, 2);

        /* A load error shows in the pane. */
        str_copy(f.st.load_error, "rb/x.yaml:3:1: unknown step kind 'jump'",
                 sizeof f.st.load_error);
        f.d.flags = 0;
        tlines_done(&l);
        tlines_init(&l);
        view_runbooks_preamble(&f.d, &l);
        assert_true(has_line(&l, "runbooks did not load: rb/x.yaml:3:1: unknown step kind 'jump'"));
        tlines_done(&l);
        table_rows_done(&rows);
        fx_done(&f);
}

static void test_detail(void **state)
{
        struct fx f;
        struct tlines l;

        (void)state;
        fx_init(&f);
        tlines_init(&l);
        view_runbooks_detail(&f.d, "rb:cdc-slot-inactive", &l);
        if (!has_line(&l, "An inactive slot is retaining WAL") ||
            !has_line(&l, "  Restart it.") ||
            !has_line(&l, "  lambdaops runbook run cdc-slot-inactive --input source=orders-db"
                      " --input 'slot=debezium orders' --input mode=restart --input note=?") ||
            !has_line(&l, "  slot: target (slot), from the alert's subject") ||
            !has_line(&l, "  mode: enum, default restart") ||
            !has_line(&l, "  1. slot-exists  check") ||
            !has_line(&l, "       on ${source}: any(slots, .name == inputs.slot)") ||
            !has_line(&l, "  2. confirm  manual") ||
            !has_line(&l, "       Check that the consumer is gone.")) {
                dump(&l);
                fail();
        }
        tlines_done(&l);

        /* A run's records (as ledger_read returns them). */
        f.st.records = cJSON_Parse(
                "[{\"ev\":\"start\",\"run\":\"R1\",\"runbook\":\"cdc-slot-inactive\","
                "\"user\":\"alice\",\"target\":\"orders-db/debezium\","
                "\"at\":\"2026-11-30T10:00:00Z\"},"
                "{\"ev\":\"step\",\"step\":\"slot-exists\",\"index\":0,\"kind\":\"check\","
                "\"phase\":\"start\",\"at\":\"2026-11-30T10:00:01Z\"},"
                "{\"ev\":\"step\",\"step\":\"slot-exists\",\"index\":0,\"kind\":\"check\","
                "\"phase\":\"end\",\"result\":\"failed\",\"error\":\"no such slot\","
                "\"at\":\"2026-11-30T10:00:02Z\"}]");
        str_copy(f.st.run_id, "R1", sizeof f.st.run_id);
        tlines_init(&l);
        view_runbooks_detail(&f.d, "run:R1", &l);
        if (!has_line(&l, "run R1") ||
            !has_line(&l, "  slot-exists  check  failed  2026-11-30T10:00:02Z") ||
            !has_line(&l, "      no such slot") ||
            !has_line(&l, "in progress, or interrupted: Enter on its row resumes it here, or lambdaops "
                      "runbook resume R1")) {
                dump(&l);
                fail();
        }
        tlines_done(&l);
        /* Another run than the one read: its records are still coming. */
        tlines_init(&l);
        view_runbooks_detail(&f.d, "run:R2", &l);
        assert_true(has_line(&l, "reading the run..."));
        tlines_done(&l);
        fx_done(&f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rows_suggested_first),
                cmocka_unit_test(test_command),
                cmocka_unit_test(test_filter_and_preamble),
                cmocka_unit_test(test_detail),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
