/*
 * test_view_bringup: the Bring-up collector's document (bringup_doc) and
 * pane (rows, detail) from a plan and a hand-written progress object:
 * states, elapsed times (finished and live), steps merged with their
 * recorded exit codes, gates with their values, a runner that is gone
 * turning a running stage into failed, and the exact table cells and
 * detail lines. Pure: no files, no threads.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/bringup.h"
#include "bringup/plan.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/bringup.h"

static const char *const plan_yaml =
        "version: 1\n"
        "config: lo.yaml\n"
        "vars: {context: kind-x}\n"
        "stages:\n"
        "  - name: cluster\n"
        "    title: the cluster\n"
        "    steps:\n"
        "      - run: [kind, create, cluster, --name, x]\n"
        "      - run: [kubectl, --context, \"${context}\", apply, -f, \"${deploy}/ns.yaml\"]\n"
        "  - name: kafka\n"
        "    steps:\n"
        "      - run: [helm, install, kafka]\n"
        "    gates:\n"
        "      - {name: quorum, source: kafka, expr: 'len(quorum.voters) == 3'}\n"
        "      - {name: topics, source: kafka, expr: 'len(topics) > 0'}\n"
        "  - name: apps\n"
        "    steps:\n"
        "      - run: [kubectl, apply, -f, apps.yaml]\n";

/* cluster done in 75 s; kafka waiting since 30 s before `now`, its first
 * gate at 2 voters; apps pending. */
static const char *const prog_json =
        "{\"pid\": 4242, \"running\": true, \"command\": \"up\","
        " \"updated_at\": \"2026-11-26T10:00:00.000Z\", \"stages\": ["
        "{\"name\": \"cluster\", \"state\": \"done\", \"started_ms\": 1000000,"
        " \"finished_ms\": 1075000, \"started_at\": \"s\", \"finished_at\": \"f\", \"error\": null,"
        " \"steps\": [{\"n\": 1, \"exit_code\": 0, \"duration_ms\": 70000, \"skipped\": false},"
        "            {\"n\": 2, \"exit_code\": 0, \"duration_ms\": 5000, \"skipped\": false}]},"
        "{\"name\": \"kafka\", \"state\": \"waiting\", \"started_ms\": 1075000, \"error\": null,"
        " \"steps\": [{\"n\": 1, \"exit_code\": 0, \"duration_ms\": 1500, \"skipped\": true}],"
        " \"gates\": [{\"name\": \"quorum\", \"value\": \"len(quorum.voters) = 2\","
        "              \"error\": null, \"ok\": false}],"
        " \"output_tail\": [\"line 1\", \"line 2\"]}]}";

static struct plan *load(void)
{
        struct err err;
        struct plan *p;

        err_clear(&err);
        p = plan_load_string(plan_yaml, strlen(plan_yaml), "/d/plan.yaml", &err);
        if (!p)
                fail_msg("%s", err.msg);
        return p;
}

static char *text(const cJSON *v)
{
        char *s = cJSON_PrintUnformatted(v), *r = xstrdup(s);

        cJSON_free(s);
        return r;
}

static void test_doc(void **state)
{
        struct plan *p = load();
        cJSON *prog = cJSON_Parse(prog_json), *d;
        const cJSON *st;
        char *s;

        (void)state;
        d = bringup_doc(p, prog, 1105000, true);
        s = text(cJSON_GetObjectItem(d, "runner"));
        assert_string_equal(s, "{\"pid\":4242,\"alive\":true,\"command\":\"up\"}");
        free(s);
        assert_int_equal(cJSON_GetObjectItem(d, "stages_total")->valueint, 3);
        assert_int_equal(cJSON_GetObjectItem(d, "stages_done")->valueint, 1);
        st = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "stages"), 0);
        assert_int_equal(cJSON_GetObjectItem(st, "elapsed_ms")->valueint, 75000);
        s = text(cJSON_GetObjectItem(st, "steps"));
        assert_string_equal(s, "[{\"n\":1,\"argv\":\"kind create cluster --name x\",\"exit_code\":0,"
                               "\"duration_ms\":70000,\"skipped\":false},"
                               "{\"n\":2,\"argv\":\"kubectl --context kind-x apply -f /d/ns.yaml\","
                               "\"exit_code\":0,\"duration_ms\":5000,\"skipped\":false}]");
        free(s);
        st = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "stages"), 1);
        assert_string_equal(cJSON_GetObjectItem(st, "state")->valuestring, "waiting");
        assert_int_equal(cJSON_GetObjectItem(st, "elapsed_ms")->valueint, 30000);      /* live */
        s = text(cJSON_GetObjectItem(st, "gates"));
        assert_string_equal(s, "[{\"name\":\"quorum\",\"source\":\"kafka\","
                               "\"expr\":\"len(quorum.voters) == 3\",\"timeout_ms\":600000,"
                               "\"value\":\"len(quorum.voters) = 2\",\"error\":null,\"ok\":false},"
                               "{\"name\":\"topics\",\"source\":\"kafka\",\"expr\":\"len(topics) > 0\","
                               "\"timeout_ms\":600000,\"value\":null,\"error\":null,\"ok\":false}]");
        free(s);
        st = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "stages"), 2);
        s = text(st);
        assert_string_equal(s, "{\"name\":\"apps\",\"title\":null,\"state\":\"pending\","
                               "\"started_at\":null,\"finished_at\":null,\"elapsed_ms\":null,"
                               "\"error\":null,\"current_step\":null,\"steps\":[{\"n\":1,"
                               "\"argv\":\"kubectl apply -f apps.yaml\",\"exit_code\":null,"
                               "\"duration_ms\":null,\"skipped\":false}],\"gates\":[],"
                               "\"down_steps\":0,\"output_tail\":[]}");
        free(s);
        cJSON_Delete(d);

        /* The runner is gone: the waiting stage is failed, no live elapsed. */
        d = bringup_doc(p, prog, 1105000, false);
        st = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "stages"), 1);
        assert_string_equal(cJSON_GetObjectItem(st, "state")->valuestring, "failed");
        assert_string_equal(cJSON_GetObjectItem(st, "error")->valuestring,
                            "the runner stopped (its process is gone)");
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "elapsed_ms")));
        cJSON_Delete(d);

        /* Nothing ran yet. */
        d = bringup_doc(p, NULL, 1105000, false);
        s = text(cJSON_GetObjectItem(d, "runner"));
        assert_string_equal(s, "{\"pid\":null,\"alive\":false,\"command\":null}");
        free(s);
        assert_int_equal(cJSON_GetObjectItem(d, "stages_done")->valueint, 0);
        cJSON_Delete(d);
        cJSON_Delete(prog);
        plan_free(p);
}

static void test_rows_detail(void **state)
{
        struct plan *p = load();
        cJSON *prog = cJSON_Parse(prog_json);
        struct source_cfg src = { .name = (char *)"up", .kind = (char *)"bringup",
                                  .ops = &coll_bringup_ops };
        struct bringup_data *bd = xcalloc(1, sizeof *bd);
        struct snapshot *snap = snapshot_new(&src);
        const struct snapshot *snaps[1];
        struct view_data d;
        struct table_rows rows;
        struct tlines lines;
        char buf[512];

        (void)state;
        bd->doc = bringup_doc(p, prog, 1105000, true);
        snap->status = COLL_OK;
        snap->data = bd;
        snaps[0] = snap;
        memset(&d, 0, sizeof d);
        d.srcs = &src;
        d.snaps = snaps;
        d.n = 1;
        table_rows_init(&rows);
        view_bringup_ops.rows(&d, &rows);
        assert_int_equal(rows.n, 3);
        assert_string_equal(rows.v[0].id, "up\tcluster");
        assert_string_equal(rows.v[0].cell[BUV_STATE].text, "done");
        assert_int_equal(rows.v[0].cell[BUV_STATE].role, ROLE_OK);
        assert_string_equal(rows.v[0].cell[BUV_ELAPSED].text, "1m15s");
        assert_string_equal(rows.v[0].cell[BUV_STEPS].text, "2/2");
        assert_string_equal(rows.v[0].cell[BUV_GATES].text, "-");
        assert_string_equal(rows.v[0].cell[BUV_NOTE].text, "the cluster");
        assert_string_equal(rows.v[1].cell[BUV_STATE].text, "waiting");
        assert_int_equal(rows.v[1].cell[BUV_STATE].role, ROLE_INFO);
        assert_string_equal(rows.v[1].cell[BUV_ELAPSED].text, "30s");
        assert_string_equal(rows.v[1].cell[BUV_GATES].text, "quorum: len(quorum.voters) = 2");
        assert_string_equal(rows.v[2].cell[BUV_STATE].text, "pending");
        assert_string_equal(rows.v[2].cell[BUV_STEPS].text, "0/1");
        table_rows_done(&rows);

        tlines_init(&lines);
        view_bringup_ops.detail(&d, "up\tkafka", &lines);
        {
                bool found_gate = false, found_step = false, found_tail = false;

                tline_text(&lines.v[0], buf, sizeof buf);
                assert_string_equal(buf, "stage kafka");
                for (size_t i = 0; i < lines.n; i++) {
                        tline_text(&lines.v[i], buf, sizeof buf);
                        if (strstr(buf, "1. helm install kafka  skipped (already done)"))
                                found_step = true;
                        if (strstr(buf, "value") && strstr(buf, "len(quorum.voters) = 2"))
                                found_gate = true;
                        if (!strcmp(buf, "  | line 2"))
                                found_tail = true;
                }
                assert_true(found_step);
                assert_true(found_gate);
                assert_true(found_tail);
        }
        tlines_done(&lines);
        tlines_init(&lines);
        view_bringup_ops.detail(&d, "up\tnope", &lines);
        assert_int_equal(lines.n, 0);
        tlines_done(&lines);
        snapshot_unref(snap);
        cJSON_Delete(prog);
        plan_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_doc),
                cmocka_unit_test(test_rows_detail),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
