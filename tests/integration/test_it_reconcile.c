/*
 * Reconciliation against a REAL PostgreSQL 15 (batch, tests/lib/tu_pg.c) and a
 * REAL ClickHouse 18.16 (speed, tests/lib/tu_ch.c), both started on free
 * loopback ports, with seeded data whose answer is known:
 *
 *   ClickHouse orders_rt(ts DateTime('UTC'), amount Nullable(Decimal(12,2)))
 *   holds raw events; the speed query groups them by hour and returns the
 *   bucket as DateTime('Asia/Kolkata') (+05:30: a half-hour zone, so a
 *   wrong conversion cannot align by accident). PostgreSQL
 *   marts_orders_hourly(bucket timestamptz, n bigint, amount numeric) is the
 *   batch mart. Tolerances: n exact, amount 0.5%; settle 2h.
 *
 *   2024-05-01 10:00  3 events 10+20+30   | 3, 60.00      match
 *              11:00  2 events 100+101    | 2, 200.00     within (0.5% exactly)
 *              12:00  1 event 50          | 2, 100.00     mismatch
 *              13:00  -                   | 4, 40.00      missing_in_speed
 *              14:00  1 event 5           | -             missing_in_batch
 *              15:00  1 event NULL        | 1, NULL       match (NULL = NULL)
 *              16:00  1 event NULL        | 1, 7.00       mismatch (NULL vs value)
 *              17:00  1 event 1           | twice         duplicated: not compared
 *   current hour      1 event 1           | -             in_flight
 *
 * The same truth is checked through the collector directly (two polls on
 * one state: connections are reused and the mismatch history grows), and
 * through the real binary: `lambdaops status --json` must print exactly the
 * expected document for the check. PostgreSQL vs PostgreSQL runs too.
 * Bad input, each its own check in one config, polled in parallel by
 * `status`: a syntax error on either side, wrong columns, a non-numeric
 * measure, a 10-minute query cut by a 2 s timeout (pg_sleep) -- each is a
 * clear error on that check alone while the good checks still report the
 * seeded truth, and the whole command ends long before the ten-minute
 * query would (the report's own deadline is test_report's).
 * Last, quit during a check's ten-minute query returns long before it.
 *
 * Times: the seeded buckets are fixed instants in 2024 (settled whatever
 * today is); the in-flight row is in the current UTC hour, read from the
 * clock the engine judges by, so it stays in flight (settle 2h) even when
 * the test crosses an hour, a midnight or a month end. Bounds on elapsed
 * time only tell "ended" from "hung", with room for a loaded machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/reconcile/reconcile.h"
#include "clients/sql.h"
#include "tu.h"
#include "tu_ch.h"
#include "tu_pg.h"
#include "core/util.h"

extern char **environ;

static struct tu_pg pg;
static struct tu_ch ch;
static char now_bucket[32];     /* the current hour, "YYYY-MM-DD HH:00:00" UTC */
static char now_bucket_json[40];/* same as RFC 3339 */
static int stop_pipe[2];

#define SPEED_SQL "SELECT toTimeZone(toStartOfHour(ts), 'Asia/Kolkata') AS bucket, " \
                  "count() AS n, sum(amount) AS amount FROM orders_rt GROUP BY bucket"
#define BATCH_SQL "SELECT bucket, n, amount FROM marts_orders_hourly"

static char *config_text(void)
{
        char *pgdsn = tu_pg_dsn(&pg, "postgres");
        char *y = xasprintf(
                "sources:\n"
                "  - {name: speed-ch, kind: clickhouse, url: \"%s\"}\n"
                "  - {name: warehouse, kind: postgres, dsn: \"%s\"}\n"
                "  - name: orders-hourly\n"
                "    kind: reconcile\n"
                "    timeout: 10s\n"
                "    speed: {source: speed-ch, query: \"%s\"}\n"
                "    batch: {source: warehouse, query: \"%s\"}\n"
                "    key: [bucket]\n"
                "    measures: [n, amount]\n"
                "    tolerance: {n: 0, amount: 0.5%%}\n"
                "    settle: 2h\n"
                "  - name: pg-vs-pg\n"
                "    kind: reconcile\n"
                "    timeout: 10s\n"
                "    speed: {source: warehouse, query: \"SELECT date_trunc('hour', ts) AS bucket, "
                "count(*) AS n, sum(amount) AS amount FROM events GROUP BY 1\"}\n"
                "    batch: {source: warehouse, query: \"SELECT bucket, n, amount FROM "
                "marts_orders_hourly WHERE bucket < '2024-05-01 12:00+00'\"}\n"
                "    key: [bucket]\n"
                "    measures: [n, amount]\n"
                "  - {name: bad-syntax-pg, kind: reconcile, timeout: 10s, key: [bucket], "
                "measures: [n, amount],\n"
                "     speed: {source: speed-ch, query: \"%s\"},\n"
                "     batch: {source: warehouse, query: \"SELEC bucket, n, amount FROM marts_orders_hourly\"}}\n"
                "  - {name: bad-syntax-ch, kind: reconcile, timeout: 10s, key: [bucket], "
                "measures: [n, amount],\n"
                "     speed: {source: speed-ch, query: \"SELECT bucket FROM FROM orders_rt\"},\n"
                "     batch: {source: warehouse, query: \"%s\"}}\n"
                "  - {name: bad-columns, kind: reconcile, timeout: 10s, key: [bucket], "
                "measures: [n, amount],\n"
                "     speed: {source: speed-ch, query: \"%s\"},\n"
                "     batch: {source: warehouse, query: \"SELECT bucket, n, amount AS total FROM "
                "marts_orders_hourly\"}}\n"
                "  - {name: bad-measure, kind: reconcile, timeout: 10s, key: [bucket], "
                "measures: [n, amount],\n"
                "     speed: {source: speed-ch, query: \"%s\"},\n"
                "     batch: {source: warehouse, query: \"SELECT bucket, n, amount::text AS amount "
                "FROM marts_orders_hourly\"}}\n"
                "  - {name: bad-timeout, kind: reconcile, timeout: 2s, key: [bucket], "
                "measures: [n, amount],\n"
                "     speed: {source: speed-ch, query: \"%s\"},\n"
                "     batch: {source: warehouse, query: \"SELECT bucket, n, amount FROM "
                "marts_orders_hourly, pg_sleep(600)\"}}\n",
                ch.url, pgdsn, SPEED_SQL, BATCH_SQL, SPEED_SQL, BATCH_SQL, SPEED_SQL, SPEED_SQL,
                SPEED_SQL);

        free(pgdsn);
        return y;
}

static struct config *load_config(void)
{
        char *y = config_text();
        struct err e;
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        free(y);
        if (!c)
                fail_msg("config: %s", e.msg);
        return c;
}

static struct coll_ctx ctx_for(const struct source_cfg *src)
{
        struct coll_ctx ctx;

        ctx.stop_fd = stop_pipe[0];
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = ctx.now_mono + src->timeout_ms;
        return ctx;
}

/* The expected JSON keys of orders-hourly (after the common ones). */
static char *expected_json(void)
{
        return xasprintf(
                "\"compared\":5,\"mismatched\":2,\"missing_in_speed\":1,\"missing_in_batch\":1,"
                "\"in_flight\":1,"
                "\"worst\":{\"key\":{\"bucket\":\"2024-05-01T16:00:00.000Z\"},\"measure\":\"amount\","
                "\"speed\":null,\"batch\":7,\"delta\":null,\"delta_pct\":null},"
                "\"buckets\":["
                "{\"key\":{\"bucket\":\"2024-05-01T10:00:00.000Z\"},\"speed\":{\"n\":3,\"amount\":60},"
                "\"batch\":{\"n\":3,\"amount\":60},\"class\":\"match\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T11:00:00.000Z\"},\"speed\":{\"n\":2,\"amount\":201},"
                "\"batch\":{\"n\":2,\"amount\":200},\"class\":\"within\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T12:00:00.000Z\"},\"speed\":{\"n\":1,\"amount\":50},"
                "\"batch\":{\"n\":2,\"amount\":100},\"class\":\"mismatch\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T13:00:00.000Z\"},\"speed\":null,"
                "\"batch\":{\"n\":4,\"amount\":40},\"class\":\"missing_in_speed\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T14:00:00.000Z\"},\"speed\":{\"n\":1,\"amount\":5},"
                "\"batch\":null,\"class\":\"missing_in_batch\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T15:00:00.000Z\"},\"speed\":{\"n\":1,\"amount\":null},"
                "\"batch\":{\"n\":1,\"amount\":null},\"class\":\"match\"},"
                "{\"key\":{\"bucket\":\"2024-05-01T16:00:00.000Z\"},\"speed\":{\"n\":1,\"amount\":null},"
                "\"batch\":{\"n\":1,\"amount\":7},\"class\":\"mismatch\"},"
                "{\"key\":{\"bucket\":\"%s\"},\"speed\":{\"n\":1,\"amount\":1},\"batch\":null,"
                "\"class\":\"in_flight\"}]", now_bucket_json);
}

static const char *dup_error =
        "1 duplicated key not compared (batch: bucket=2024-05-01T17:00:00.000Z): a query "
        "returns more than one row per key";

/* ---- the collector -------------------------------------------------------- */

static void test_seeded_truth(void **state)
{
        struct config *c = load_config();
        const struct source_cfg *src = config_source(c, "orders-hourly");
        void *st = coll_reconcile_ops.create(src);
        struct reconcile_data *d = NULL;
        struct coll_ctx ctx;
        struct err e;
        cJSON *o;
        char *js, *want, *full;

        (void)state;
        for (int poll = 0; poll < 2; poll++) {
                ctx = ctx_for(src);
                err_clear(&e);
                assert_int_equal(coll_reconcile_ops.poll(st, &ctx, (void **)&d, &e), COLL_DEGRADED);
                assert_string_equal(e.msg, dup_error);
                assert_non_null(d);
                assert_int_equal(d->duplicated, 1);
                assert_int_equal(d->rows[REC_SPEED], 8);
                assert_int_equal(d->rows[REC_BATCH], 8);
                assert_int_equal(d->hist.n, (size_t)poll + 1);
                o = cJSON_CreateObject();
                coll_reconcile_ops.to_json(d, o);
                js = cJSON_PrintUnformatted(o);
                want = expected_json();
                full = xasprintf("{%s}", want);
                assert_string_equal(js, full);
                free(full);
                free(want);
                cJSON_free(js);
                cJSON_Delete(o);
                coll_reconcile_ops.data_free(d);
                d = NULL;
        }
        coll_reconcile_ops.destroy(st);

        /* PostgreSQL on both sides: 10:00 and 11:00 from raw events. */
        src = config_source(c, "pg-vs-pg");
        st = coll_reconcile_ops.create(src);
        ctx = ctx_for(src);
        assert_int_equal(coll_reconcile_ops.poll(st, &ctx, (void **)&d, &e), COLL_OK);
        assert_int_equal(d->compared, 2);
        assert_int_equal(d->matched, 1);
        assert_int_equal(d->mismatched, 1);     /* 11:00: 201 vs 200, no tolerance */
        assert_int_equal(d->missing_in_speed, 0);
        coll_reconcile_ops.data_free(d);
        coll_reconcile_ops.destroy(st);
        config_free(c);
}

/* ---- the real binary -------------------------------------------------------- */

/* Runs `lambdaops status --json -c cfg`, stdout into a string (owned). */
static char *run_status(const char *cfgpath, int64_t *elapsed_ms)
{
        const char *bin = getenv("LO_BINARY");
        char outpath[320];
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int st;
        int64_t t0;
        char *out;

        if (!bin || !*bin)
                fail_msg("LO_BINARY is not set (run through ctest)");
        snprintf(outpath, sizeof outpath, "%s.out", cfgpath);
        char *const argv[] = { (char *)bin, "-c", (char *)cfgpath, "status", "--json", NULL };
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        t0 = clock_mono_ms();
        assert_int_equal(posix_spawn(&pid, bin, &fa, NULL, argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        st = tu_wait(pid, 60000);
        *elapsed_ms = clock_mono_ms() - t0;
        assert_true(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        out = tu_read_file(outpath, NULL);
        unlink(outpath);
        assert_non_null(out);
        return out;
}

/* The error of a check that must be down. */
static const char *source_error(const cJSON *root, const char *name)
{
        const cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sources"), name);
        const cJSON *e = cJSON_GetObjectItem(s, "error");

        assert_non_null(s);
        assert_string_equal(cJSON_GetObjectItem(s, "status")->valuestring, "down");
        return cJSON_IsString(e) ? e->valuestring : "";
}

static void test_status_json_and_bad_input(void **state)
{
        char cfgpath[300], want_pg[160], *y = config_text(), *out, *js, *want, *full;
        cJSON *root, *s;
        int64_t elapsed;
        FILE *f;
        const char *msg;

        (void)state;
        snprintf(cfgpath, sizeof cfgpath, "%s/reconcile.yaml", pg.dir);
        f = fopen(cfgpath, "w");
        assert_non_null(f);
        fputs(y, f);
        fclose(f);
        free(y);
        out = run_status(cfgpath, &elapsed);
        /* Every check in parallel: bounded by the largest timeout (10 s)
         * plus the report margin, although one query sleeps 10 minutes. The
         * bound leaves a loaded machine a minute on top. */
        print_message("status --json: %lld ms\n", (long long)elapsed);
        assert_true(elapsed < 10000 + 60000);
        root = cJSON_Parse(out);
        if (!root)
                fail_msg("not JSON: %s", out);

        /* The good check: exactly the seeded truth. */
        s = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sources"), "orders-hourly");
        assert_non_null(s);
        assert_string_equal(cJSON_GetObjectItem(s, "kind")->valuestring, "reconcile");
        assert_string_equal(cJSON_GetObjectItem(s, "status")->valuestring, "degraded");
        assert_string_equal(cJSON_GetObjectItem(s, "error")->valuestring, dup_error);
        cJSON_DeleteItemFromObject(s, "kind");
        cJSON_DeleteItemFromObject(s, "status");
        cJSON_DeleteItemFromObject(s, "error");
        cJSON_DeleteItemFromObject(s, "collected_at");
        cJSON_DeleteItemFromObject(s, "poll_ms");
        js = cJSON_PrintUnformatted(s);
        want = expected_json();
        full = xasprintf("{%s}", want);
        assert_string_equal(js, full);
        free(full);
        free(want);
        cJSON_free(js);
        s = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "sources"), "pg-vs-pg");
        assert_string_equal(cJSON_GetObjectItem(s, "status")->valuestring, "ok");
        assert_int_equal(cJSON_GetObjectItem(s, "mismatched")->valueint, 1);

        /* Each bad check fails alone, saying why. */
        for (const char *const *n = (const char *const[]){ "bad-syntax-pg", "bad-syntax-ch",
                                                           "bad-columns", "bad-measure",
                                                           "bad-timeout", NULL }; *n; n++)
                print_message("%s: %s\n", *n, source_error(root, *n));
        msg = source_error(root, "bad-syntax-pg");
        snprintf(want_pg, sizeof want_pg, "batch query on warehouse: 127.0.0.1:%d: syntax error "
                 "at or near \"SELEC\"", pg.port);
        assert_string_equal(msg, want_pg);
        msg = source_error(root, "bad-syntax-ch");
        assert_memory_equal(msg, "speed query on speed-ch: ClickHouse error 62", 44);
        assert_non_null(strstr(msg, "Syntax error"));
        msg = source_error(root, "bad-columns");
        assert_string_equal(msg, "batch query on warehouse: the result has no column \"amount\" "
                            "(it has: bucket, n, total)");
        msg = source_error(root, "bad-measure");
        assert_string_equal(msg, "batch query on warehouse: measure \"amount\" is text (text), "
                            "not a number: cast it to a numeric type");
        msg = source_error(root, "bad-timeout");
        if (!strstr(msg, "timed out after 2000 ms") && !strstr(msg, "statement timeout"))
                fail_msg("bad-timeout: %s", msg);
        assert_memory_equal(msg, "batch query on warehouse: ", 26);

        /* The alerts: the duplicated key (degraded), the counts, the downs. */
        {
                const cJSON *al = cJSON_GetObjectItem(root, "alerts"), *a;
                int mism = 0, miss = 0;

                cJSON_ArrayForEach(a, al) {
                        const char *src = cJSON_GetObjectItem(a, "source")->valuestring;
                        const char *met = cJSON_GetObjectItem(a, "metric")->valuestring;

                        if (strcmp(src, "orders-hourly") != 0)
                                continue;
                        if (strcmp(met, "mismatched") == 0) {
                                mism++;
                                assert_int_equal(cJSON_GetObjectItem(a, "value")->valueint, 2);
                        }
                        if (strcmp(met, "missing") == 0) {
                                miss++;
                                assert_int_equal(cJSON_GetObjectItem(a, "value")->valueint, 2);
                        }
                }
                assert_int_equal(mism, 1);
                assert_int_equal(miss, 1);
        }
        cJSON_Delete(root);
        free(out);
        unlink(cfgpath);
}

/* Quit while a check's query runs: the runtime stops at once although the
 * query would take ten minutes (a one-minute bound: room for a loaded
 * machine). */
static void test_quit_during_query(void **state)
{
        char *pgdsn = tu_pg_dsn(&pg, "postgres");
        char *y = xasprintf("sources:\n"
                            "  - {name: warehouse, kind: postgres, dsn: \"%s\"}\n"
                            "  - {name: slow, kind: reconcile, timeout: 10m, key: [b], "
                            "measures: [n],\n"
                            "     speed: {source: warehouse, query: \"SELECT 1 AS b, 1 AS n\"},\n"
                            "     batch: {source: warehouse, query: \"SELECT 1 AS b, 1 AS n "
                            "FROM pg_sleep(600)\"}}\n", pgdsn);
        struct err e;
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);
        struct collector *col;
        char *n;
        int64_t t0;

        (void)state;
        free(y);
        free(pgdsn);
        if (!c)
                fail_msg("config: %s", e.msg);
        col = collector_start(config_source(c, "slow"), -1, true);
        /* Wait until the batch query is running on the server. */
        t0 = clock_mono_ms();
        for (;;) {
                n = tu_pg_query1(&pg, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                                      "'%%pg_sleep(600)%%' AND pid <> pg_backend_pid()");
                if (n && strcmp(n, "1") == 0)
                        break;
                free(n);
                n = NULL;
                if (clock_mono_ms() - t0 > 60000)
                        fail_msg("the slow query never started");
                {
                        struct timespec ts = { 0, 20 * 1000000L };

                        nanosleep(&ts, NULL);
                }
        }
        free(n);
        assert_int_equal(collector_gen(col), 0);        /* still polling */
        t0 = clock_mono_ms();
        collector_stop_all(&col, 1);
        print_message("stop during the ten-minute query: %lld ms\n",
                      (long long)(clock_mono_ms() - t0));
        assert_true(clock_mono_ms() - t0 < 60000);
        config_free(c);
}

/* ---- setup -------------------------------------------------------------------- */

static int seed(void)
{
        time_t now = time(NULL);
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(now_bucket, sizeof now_bucket, "%Y-%m-%d %H:00:00", &tm);
        strftime(now_bucket_json, sizeof now_bucket_json, "%Y-%m-%dT%H:00:00.000Z", &tm);

        if (tu_ch_exec(&ch, "CREATE TABLE orders_rt (ts DateTime('UTC'), "
                            "amount Nullable(Decimal(12, 2))) ENGINE = MergeTree ORDER BY ts") ||
            tu_ch_exec(&ch, "INSERT INTO orders_rt VALUES "
                            "('2024-05-01 10:05:00', 10), ('2024-05-01 10:15:00', 20), "
                            "('2024-05-01 10:59:59', 30), "
                            "('2024-05-01 11:00:00', 100), ('2024-05-01 11:30:00', 101), "
                            "('2024-05-01 12:00:00', 50), "
                            "('2024-05-01 14:10:00', 5), "
                            "('2024-05-01 15:10:00', NULL), "
                            "('2024-05-01 16:10:00', NULL), "
                            "('2024-05-01 17:10:00', 1), "
                            "('%s', 1)", now_bucket))
                return -1;
        if (tu_pg_exec(&pg, "CREATE TABLE marts_orders_hourly (bucket timestamptz, n bigint, "
                            "amount numeric(12, 2))") ||
            tu_pg_exec(&pg, "INSERT INTO marts_orders_hourly VALUES "
                            "('2024-05-01 10:00+00', 3, 60.00), "
                            "('2024-05-01 16:30+05:30', 2, 200.00), "  /* 11:00Z */
                            "('2024-05-01 12:00+00', 2, 100.00), "
                            "('2024-05-01 13:00+00', 4, 40.00), "
                            "('2024-05-01 15:00+00', 1, NULL), "
                            "('2024-05-01 16:00+00', 1, 7.00), "
                            "('2024-05-01 17:00+00', 1, 1.00), "
                            "('2024-05-01 17:00+00', 1, 1.00)") ||
            tu_pg_exec(&pg, "CREATE TABLE events (ts timestamptz, amount numeric(12, 2))") ||
            tu_pg_exec(&pg, "INSERT INTO events VALUES ('2024-05-01 10:05+00', 10), "
                            "('2024-05-01 15:15+05:00', 20), ('2024-05-01 10:59:59+00', 30), "
                            "('2024-05-01 11:00+00', 100), ('2024-05-01 06:30-05:00', 101)"))
                return -1;
        return 0;
}

static int setup(void **state)
{
        (void)state;
        if (pipe(stop_pipe) != 0)
                return -1;
        if (tu_pg_start(&pg) != 0)
                return -1;
        if (tu_ch_start(&ch, 0) != 0)
                return -1;
        return seed();
}

static int teardown(void **state)
{
        (void)state;
        if (!getenv("LO_TEST_KEEP")) {
                tu_ch_destroy(&ch);
                tu_pg_destroy(&pg);
        }
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seeded_truth),
                cmocka_unit_test(test_status_json_and_bad_input),
                cmocka_unit_test(test_quit_during_query),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, setup, teardown);
        curl_global_cleanup();
        return rc;
}
