/*
 * test_report: the `status --json` document and the `check` line, built
 * from hand-made snapshots of a fake kind (with to_json, alerts, key metric)
 * at a fixed time, compared as exact strings. Covers nulls (error,
 * collected_at, poll_ms, subject, value, threshold), a source that never
 * answered, the overall state and the Nagios exit code. Pure; no threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "tu.h"
#include "core/util.h"

#define NOW 1700000000123LL     /* 2023-11-14T22:13:20.123Z */

struct fake_data {
        double      lag;
        const char *slot;
        double      rate;       /* alerted by a state rule when > 0 */
};

static void fake_to_json(const void *data, cJSON *obj)
{
        const struct fake_data *d = data;
        cJSON *slots = cJSON_AddArrayToObject(obj, "slots");

        cJSON_AddNumberToObject(obj, "lag_bytes", d->lag);
        cJSON_AddItemToArray(slots, cJSON_CreateString(d->slot));
}

static void fake_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct fake_data *d = data;

        health_check(out, src, "lag_bytes", d->slot, d->lag, NULL);
        if (d->rate > 0)
                health_add(out, SEV_WARN, src, "rate", "", d->rate, NAN,
                           "rate %.2f/s | line\ntwo", d->rate);
}

static double fake_key(const void *data)
{
        return ((const struct fake_data *)data)->lag;
}

static const struct threshold_def fake_defs[] = {
        { "lag_bytes", THR_BYTES, 1024, 4096, "lag" },
        { NULL, 0, 0, 0, NULL },
};

static struct threshold fake_thr[] = { { &fake_defs[0], 1024, 4096 } };

static const struct collector_ops fake_ops = {
        .name = "fake",
        .thresholds = fake_defs,
        .to_json = fake_to_json,
        .alerts = fake_alerts,
        .key_metric = fake_key,
        .key_metric_name = "max lag",
        .key_metric_unit = THR_BYTES,
};

/* A kind without to_json or a key metric. */
static const struct collector_ops bare_ops = { .name = "bare" };

static char secret_dsn[] = "host=x password=hunter2";

static struct source_cfg srcs[] = {
        { .name = (char *)"db1", .kind = (char *)"fake", .ops = &fake_ops,
          .interval_ms = 5000, .timeout_ms = 3000,
          .thresholds = fake_thr, .n_thresholds = 1, .kind_cfg = secret_dsn },
        { .name = (char *)"db2", .kind = (char *)"fake", .ops = &fake_ops,
          .interval_ms = 5000, .timeout_ms = 3000,
          .thresholds = fake_thr, .n_thresholds = 1, .kind_cfg = secret_dsn },
        { .name = (char *)"db3", .kind = (char *)"bare", .ops = &bare_ops,
          .interval_ms = 5000, .timeout_ms = 2500 },
};

static struct snapshot *mk(const struct source_cfg *src, enum coll_status st, const char *err,
                           int64_t at, int64_t poll_ms, struct fake_data *d)
{
        struct snapshot *s = snapshot_new(src);

        s->status = st;
        strcpy(s->error, err);
        s->collected_at = at;
        s->poll_ms = poll_ms;
        s->data = d;            /* static data: the fake has no data_free */
        if (d)
                s->key_value = d->lag;
        return s;
}

static char *json_of(struct snapshot **v, size_t n)
{
        cJSON *doc = report_json((const struct snapshot *const *)v, srcs, n, NOW);
        char *txt = cJSON_PrintUnformatted(doc);

        cJSON_Delete(doc);
        return txt;
}

static void unref_all(struct snapshot **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                snapshot_unref(v[i]);
}

static void test_json_mixed(void **state)
{
        static struct fake_data d1 = { 5000, "slot_a", 0 };
        struct snapshot *v[3];
        char *txt;

        (void)state;
        v[0] = mk(&srcs[0], COLL_OK, "", NOW - 123, 4, &d1);
        v[1] = mk(&srcs[1], COLL_DOWN, "connection refused\n\tIs the server running?", NOW - 623,
                  3000, NULL);
        v[2] = NULL;    /* never answered */
        txt = json_of(v, 3);
        assert_string_equal(txt,
                "{\"schema\":1,\"generated_at\":\"2023-11-14T22:13:20.123Z\",\"overall\":\"crit\","
                "\"sources\":{"
                "\"db1\":{\"kind\":\"fake\",\"status\":\"ok\",\"error\":null,"
                "\"collected_at\":\"2023-11-14T22:13:20.000Z\",\"poll_ms\":4,"
                "\"slots\":[\"slot_a\"],\"lag_bytes\":5000},"
                "\"db2\":{\"kind\":\"fake\",\"status\":\"down\","
                "\"error\":\"connection refused Is the server running?\","
                "\"collected_at\":\"2023-11-14T22:13:19.500Z\",\"poll_ms\":3000},"
                "\"db3\":{\"kind\":\"bare\",\"status\":\"unknown\","
                "\"error\":\"no answer within 3.5s\",\"collected_at\":null,\"poll_ms\":null}},"
                "\"alerts\":["
                "{\"severity\":\"crit\",\"source\":\"db1\",\"metric\":\"lag_bytes\","
                "\"subject\":\"slot_a\",\"value\":5000,\"threshold\":4096,"
                "\"message\":\"slot_a lag_bytes 4.9 KiB >= crit 4.0 KiB\"},"
                "{\"severity\":\"crit\",\"source\":\"db2\",\"metric\":\"status\","
                "\"subject\":null,\"value\":null,\"threshold\":null,"
                "\"message\":\"db2 is down: connection refused Is the server running?\"}]}");
        /* Secrets in the kind config never travel into the report. */
        assert_null(strstr(txt, "hunter2"));
        cJSON_free(txt);
        unref_all(v, 3);
}

static void test_json_all_ok(void **state)
{
        static struct fake_data d1 = { 10, "s", 0 };
        struct snapshot *v[1];
        char *txt;

        (void)state;
        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 0, &d1);
        txt = json_of(v, 1);
        assert_string_equal(txt,
                "{\"schema\":1,\"generated_at\":\"2023-11-14T22:13:20.123Z\",\"overall\":\"ok\","
                "\"sources\":{\"db1\":{\"kind\":\"fake\",\"status\":\"ok\",\"error\":null,"
                "\"collected_at\":\"2023-11-14T22:13:20.123Z\",\"poll_ms\":0,"
                "\"slots\":[\"s\"],\"lag_bytes\":10}},\"alerts\":[]}");
        cJSON_free(txt);
        unref_all(v, 1);
        /* No sources at all. */
        txt = json_of(NULL, 0);
        assert_string_equal(txt,
                "{\"schema\":1,\"generated_at\":\"2023-11-14T22:13:20.123Z\",\"overall\":\"ok\","
                "\"sources\":{},\"alerts\":[]}");
        cJSON_free(txt);
}

static void test_json_warn_and_unknown(void **state)
{
        static struct fake_data d1 = { 1024, "s", 0.25 };
        struct snapshot *v[3];
        cJSON *doc, *a;

        (void)state;
        /* A warn alert plus a source that never answered: overall unknown
         * (unknown outranks warn; crit outranks unknown). */
        v[0] = mk(&srcs[0], COLL_DEGRADED, "wal_level is replica", NOW, 7, &d1);
        v[1] = NULL;
        v[2] = mk(&srcs[2], COLL_OK, "", NOW, 1, NULL);
        doc = report_json((const struct snapshot *const *)v, srcs, 3, NOW);
        assert_string_equal(cJSON_GetObjectItem(doc, "overall")->valuestring, "unknown");
        a = cJSON_GetObjectItem(doc, "alerts");
        assert_int_equal(cJSON_GetArraySize(a), 3);
        /* degraded -> warn status alert first, then the kind's own. */
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "metric")->valuestring,
                            "status");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 0), "severity")->valuestring,
                            "warn");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "message")->valuestring,
                            "s lag_bytes 1.0 KiB >= warn 1.0 KiB");
        /* A numeric value with no threshold: value is a number, threshold
         * null; the message is one line. */
        assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 2), "value")->valuedouble == 0.25);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 2), "threshold")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 2), "subject")));
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 2), "message")->valuestring,
                            "rate 0.25/s | line two");
        /* A kind without to_json still gets the common keys, and a never-
         * answered source names its wait (timeout 3 s + 1 s margin). */
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
                            "sources"), "db2"), "error")->valuestring, "no answer within 4s");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
                         "sources"), "db3")), 5);
        cJSON_Delete(doc);
        v[1] = mk(&srcs[1], COLL_DOWN, "x", NOW, 1, NULL);
        doc = report_json((const struct snapshot *const *)v, srcs, 3, NOW);
        assert_string_equal(cJSON_GetObjectItem(doc, "overall")->valuestring, "crit");
        cJSON_Delete(doc);
        unref_all(v, 3);
}

static void check_line(struct snapshot **v, size_t n, const char *want, int want_rc)
{
        int rc = -1;
        char *line = report_check_line((const struct snapshot *const *)v, srcs, n, &rc);

        assert_string_equal(line, want);
        assert_int_equal(rc, want_rc);
        free(line);
}

static void test_check_line(void **state)
{
        static struct fake_data ok = { 100, "s", 0 };
        static struct fake_data warn = { 2048, "slot_b", 0 };
        static struct fake_data crit = { 5000, "slot_a", 0 };
        static struct fake_data many = { 2048, "slot_c", 1.5 };
        struct snapshot *v[3];

        (void)state;
        check_line(NULL, 0, "LAMBDAOPS OK - 0 sources: none configured", 0);

        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 1, &ok);
        v[1] = mk(&srcs[1], COLL_OK, "", NOW, 1, NULL);
        v[2] = mk(&srcs[2], COLL_OK, "", NOW, 1, NULL);
        check_line(v, 1, "LAMBDAOPS OK - 1 source: all ok | 'db1 max lag'=100B", 0);
        check_line(v, 3, "LAMBDAOPS OK - 3 sources: all ok | 'db1 max lag'=100B", 0);
        unref_all(v, 3);

        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 1, &warn);
        check_line(v, 1, "LAMBDAOPS WARNING - 1 source: db1: slot_b lag_bytes 2.0 KiB >= warn 1.0 KiB"
                   " [0 crit, 1 warn, 0 unknown] | 'db1 max lag'=2048B", 1);
        /* Worst first: crit, then no answer, then warn; the name is not
         * repeated when the message starts with it. */
        v[1] = mk(&srcs[1], COLL_DOWN, "refused\n", NOW, 1, NULL);
        v[2] = NULL;
        check_line(v, 3, "LAMBDAOPS CRITICAL - 3 sources: db2 is down: refused;"
                   " db3: no answer within 3.5s; db1: slot_b lag_bytes 2.0 KiB >= warn 1.0 KiB"
                   " [1 crit, 1 warn, 1 unknown] | 'db1 max lag'=2048B", 2);
        unref_all(v, 3);

        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 1, &ok);
        v[1] = mk(&srcs[1], COLL_OK, "", NOW, 1, &crit);
        check_line(v, 2, "LAMBDAOPS CRITICAL - 2 sources: db2: slot_a lag_bytes 4.9 KiB >= crit 4.0 KiB"
                   " [1 crit, 0 warn, 0 unknown] | 'db1 max lag'=100B 'db2 max lag'=5000B", 2);
        v[2] = NULL;
        check_line(v, 3, "LAMBDAOPS CRITICAL - 3 sources: db2: slot_a lag_bytes 4.9 KiB >= crit 4.0 KiB;"
                   " db3: no answer within 3.5s"
                   " [1 crit, 0 warn, 1 unknown] | 'db1 max lag'=100B 'db2 max lag'=5000B", 2);
        unref_all(v, 3);

        /* Unknown without crit: exit 3; '|' in a message cannot start perfdata. */
        v[0] = mk(&srcs[0], COLL_DEGRADED, "partial", NOW, 1, &many);
        v[1] = NULL;
        check_line(v, 2, "LAMBDAOPS UNKNOWN - 2 sources: db2: no answer within 4s;"
                   " db1 is degraded: partial; db1: slot_c lag_bytes 2.0 KiB >= warn 1.0 KiB"
                   " (+1 more) [0 crit, 3 warn, 1 unknown] | 'db1 max lag'=2048B", 3);
        unref_all(v, 2);
        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 1, &many);
        check_line(v, 1, "LAMBDAOPS WARNING - 1 source: db1: slot_c lag_bytes 2.0 KiB >= warn 1.0 KiB;"
                   " db1: rate 1.50/s / line two"
                   " [0 crit, 2 warn, 0 unknown] | 'db1 max lag'=2048B", 1);
        unref_all(v, 1);
}

/* A slot name and an error from a server with ESC and C1 (U+009B, the
 * 8-bit CSI): JSON keeps the real characters (written \u001b, \u009b by
 * json_print_safe), the check line shows them escaped, never raw. */
static void test_hostile_text(void **state)
{
        static struct fake_data evil = { 5000, "slot\x1b[2J\xc2\x9b" "1m", 0 };
        struct snapshot *v[2];
        cJSON *doc, *a;
        char *txt;

        (void)state;
        v[0] = mk(&srcs[0], COLL_OK, "", NOW, 1, &evil);
        v[1] = mk(&srcs[1], COLL_DOWN, "refused\x1b]0;pwned\x07 now\n", NOW, 1, NULL);
        doc = report_json((const struct snapshot *const *)v, srcs, 2, NOW);
        a = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "alerts"), 0);
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(a, "subject")),
                            "slot\x1b[2J\xc2\x9b" "1m");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sources"), "db2"), "error")),
                "refused\x1b]0;pwned\x07 now");
        txt = json_print_safe(doc);
        assert_non_null(strstr(txt, "\"subject\":\"slot\\u001b[2J\\u009b1m\""));
        assert_non_null(strstr(txt, "\"error\":\"refused\\u001b]0;pwned\\u0007 now\""));
        assert_null(strchr(txt, 0x1b));
        assert_null(strstr(txt, "\xc2\x9b"));
        free(txt);
        cJSON_Delete(doc);

        check_line(v, 2, "LAMBDAOPS CRITICAL - 2 sources: db1: slot\\x1b[2J\\u009b1m lag_bytes"
                   " 4.9 KiB >= crit 4.0 KiB; db2 is down: refused\\x1b]0;pwned\\x07 now"
                   " [2 crit, 0 warn, 0 unknown] | 'db1 max lag'=5000B", 2);
        unref_all(v, 2);
}

static void test_no_answer_text(void **state)
{
        char buf[64];

        (void)state;
        report_no_answer(&srcs[0], buf, sizeof buf);
        assert_string_equal(buf, "no answer within 4s");
        report_no_answer(&srcs[2], buf, sizeof buf);
        assert_string_equal(buf, "no answer within 3.5s");
}

/* ---- report_status / report_check end to end, with threads ------------- */

static struct fake_data live_data = { 10, "s", 0 };

static enum coll_status live_poll(void *state, const struct coll_ctx *ctx, void **data,
                                  struct err *err)
{
        *data = &live_data;     /* static: no data_free */
        return COLL_OK;
}

/* Never answers and ignores its own deadline (a badly written kind): only
 * quit ends it. The report must still finish on time and call it unknown. */
static enum coll_status mute_poll(void *state, const struct coll_ctx *ctx, void **data,
                                  struct err *err)
{
        struct coll_ctx forever = *ctx;
        int fds[2];

        if (pipe(fds) != 0)
                return COLL_DOWN;
        forever.deadline_mono = ctx->now_mono + 3600 * 1000;
        coll_wait_fd(&forever, fds[0], POLLIN, err);
        close(fds[0]);
        close(fds[1]);
        return COLL_DOWN;
}

static const struct collector_ops live_ops = {
        .name = "fake", .poll = live_poll, .to_json = fake_to_json, .alerts = fake_alerts,
        .key_metric = fake_key, .key_metric_name = "max lag", .key_metric_unit = THR_BYTES,
        .thresholds = fake_defs,
};
static const struct collector_ops mute_ops = { .name = "mute", .poll = mute_poll };

/* Runs fn(a) with stdout sent to a file; returns the output (owned). */
static char *capture(int (*fn)(struct app *, bool), struct app *a, bool arg, int *rc)
{
        char path[] = "/tmp/lo-test-report.XXXXXX";
        int fd = mkstemp(path), saved;
        char *out;

        assert_true(fd >= 0);
        fflush(stdout);
        saved = dup(STDOUT_FILENO);
        dup2(fd, STDOUT_FILENO);
        *rc = fn(a, arg);
        fflush(stdout);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(fd);
        out = tu_read_file(path, NULL);
        unlink(path);
        return out;
}

static int check_adapter(struct app *a, bool unused)
{
        (void)unused;
        return report_check(a);
}

static void test_report_commands(void **state)
{
        struct source_cfg s2[2] = {
                { .name = (char *)"live", .kind = (char *)"fake", .ops = &live_ops,
                  .interval_ms = 10, .timeout_ms = 1000,
                  .thresholds = fake_thr, .n_thresholds = 1 },
                { .name = (char *)"mute", .kind = (char *)"mute", .ops = &mute_ops,
                  .interval_ms = 10, .timeout_ms = 200 },
        };
        struct config cfg = { .path = (char *)"<test>", .environment = (char *)"test",
                              .refresh_ms = 1000, .sources = s2, .n_sources = 2 };
        struct app a = { .cfg = &cfg, .wake_pipe = { -1, -1 } };
        int64_t t0, took;
        char *out;
        int rc;

        (void)state;
        /* The mute source is waited for 200 ms + 1 s, then stopped. */
        t0 = clock_mono_ms();
        out = capture(report_status, &a, true, &rc);
        took = clock_mono_ms() - t0;
        assert_int_equal(rc, 0);
        /* Waited for the mute source, then not for its hour: the upper
         * bound leaves a loaded machine a minute. */
        assert_true(took >= 1200 && took < 60000);
        assert_non_null(strstr(out, "\"overall\":\"unknown\""));
        assert_non_null(strstr(out, "\"live\":{\"kind\":\"fake\",\"status\":\"ok\",\"error\":null,"));
        assert_non_null(strstr(out, "\"mute\":{\"kind\":\"mute\",\"status\":\"unknown\","
                                    "\"error\":\"no answer within 1.2s\",\"collected_at\":null,"
                                    "\"poll_ms\":null}"));
        assert_null(a.colls);           /* collectors stopped and freed */
        free(out);

        out = capture(check_adapter, &a, false, &rc);
        assert_int_equal(rc, 3);
        assert_string_equal(out, "LAMBDAOPS UNKNOWN - 2 sources: mute: no answer within 1.2s"
                            " [0 crit, 0 warn, 1 unknown] | 'live max lag'=10B\n");
        free(out);

        out = capture(report_status, &a, false, &rc);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "environment: test   overall: unknown"));
        assert_non_null(strstr(out, "\nlive    fake  ok "));
        assert_non_null(strstr(out, "no answer within 1.2s\n"));
        assert_non_null(strstr(out, "\nno alerts\n"));
        free(out);

        /* The config's environment reaches the terminal escaped. */
        cfg.environment = (char *)"\x1b[2Jtest\x1b]0;pwned\x07";
        out = capture(report_status, &a, false, &rc);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(out, "environment: \\x1b[2Jtest\\x1b]0;pwned\\x07   overall:"));
        assert_null(strchr(out, 0x1b));
        assert_null(strchr(out, 0x07));
        free(out);
        cfg.environment = (char *)"test";

        /* Only the live source: ok, exit 0. */
        cfg.n_sources = 1;
        out = capture(check_adapter, &a, false, &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(out, "LAMBDAOPS OK - 1 source: all ok | 'live max lag'=10B\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_mixed),
                cmocka_unit_test(test_json_all_ok),
                cmocka_unit_test(test_json_warn_and_unknown),
                cmocka_unit_test(test_check_line),
                cmocka_unit_test(test_hostile_text),
                cmocka_unit_test(test_no_answer_text),
                cmocka_unit_test(test_report_commands),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
