/*
 * Integration tests for the ClickHouse collector against a real
 * clickhouse-server 18.16 started by tests/lib/tu_ch.c on free loopback ports.
 * The tests run in order and share one collector state (so they also cover
 * rediscovery after a restart with the same state object):
 *   1. a known workload (sleeps of known lengths, quick queries, two failing
 *      queries, inserts into a MergeTree table with merges stopped), then
 *      SYSTEM FLUSH LOGS until the server's log shows every workload
 *      query, and one poll: p50/p95/p99 and counts of the 1, 5 and 15
 *      minute windows equal ClickHouse's own
 *      quantiles(0.5, 0.95, 0.99)(query_duration_ms) over exactly the
 *      workload's rows (tagged query_id 'it-...') that ended in that window
 *      by the server's clock (all 42 unless the machine took a minute
 *      between the workload and the poll: the expectation follows the
 *      server's own event times, never the test's speed), and over the
 *      same SQL window ending at the poll's window_end; queries/s,
 *      failed/s, inserted rows/s and bytes/s equal the workload's counts in
 *      the last minute / 60; active parts and the max parts per partition
 *      are exact; the slowest query is first with its URL password masked;
 *      the JSON carries it all and no secret;
 *   2. the collector's own queries never show up in the figures;
 *   3. a hung server (SIGSTOP): DOWN at the source timeout, not before;
 *      quit interrupts a poll blocked on it, with a ten-minute timeout, long
 *      before that timeout and with the error "stopping";
 *   4. server killed (SIGKILL) mid-run under the real runtime: DOWN with
 *      "connection refused"; restarted: OK again, same state, rediscovered,
 *      uptime reset;
 *   5. wrong password: DOWN with a clear message, the password nowhere;
 *      right password from env and from a file: OK; a readonly=1 profile:
 *      OK without settings;
 *   6. coll_clickhouse_query: a syntax error, a missing table, a failure
 *      after the 200 went out (mid-body), a query longer than the timeout
 *      (cut, the server stops too), and the request shape (headers, no
 *      credentials in the URL) seen by a fixture HTTP server; TLS on by
 *      default;
 *   7. a server without query_log: query_log false, DEGRADED, rates from
 *      system.events deltas, latency null.
 * No assertion depends on the machine's speed: waits poll a condition with
 * a generous deadline (IT_WAIT_MS), and bounds on elapsed time only tell
 * "ended at its timeout / on quit" from "hung", with a wide gap between.
 * Set LO_TEST_KEEP=1 to keep the servers' temp dirs.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "collectors/clickhouse/clickhouse.h"
#include "core/collector.h"
#include "core/config.h"
#include "clients/http.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_ch.h"
#include "tu_http.h"
#include "core/util.h"

#define IT_TIMEOUT_MS 2000
/* Slack over a timeout for a loaded machine: the runs it bounds would
 * otherwise never end (a stopped server, an endless query). */
#define IT_SLACK_MS   30000
/* Deadline of the polls that wait for a condition (many times the normal
 * time: a pass returns as soon as the condition holds). */
#define IT_WAIT_MS    60000

static struct tu_ch ch;
static struct config *cfg;      /* source "it-ch" */
static void *state;             /* shared across tests 1-4 */
static int64_t uptime_before;   /* from test 1, for the restart check */
static int64_t workload_t0;     /* the server's clock (s) before the workload */

static void pause_ms(int ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* A config with one clickhouse source. Owned. */
static struct config *it_config(const char *name, const char *url, const char *extra,
                                const char *interval, const char *timeout)
{
        struct err err;
        char *yaml = xasprintf("environment: test\n"
                               "sources:\n"
                               "  - name: %s\n"
                               "    kind: clickhouse\n"
                               "    url: \"%s\"\n"
                               "    interval: %s\n"
                               "    timeout: %s\n"
                               "%s",
                               name, url, interval, timeout, extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<it>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        assert_int_equal(c->n_sources, 1);
        assert_ptr_equal(c->sources[0].ops, &coll_clickhouse_ops);
        return c;
}

static enum coll_status it_poll(void *st, const struct source_cfg *src, int stop_fd,
                                struct ch_data **d, struct err *err, int64_t *elapsed)
{
        struct coll_ctx ctx;
        enum coll_status s;
        void *data = NULL;
        int64_t t0 = clock_mono_ms();

        err_clear(err);
        ctx.stop_fd = stop_fd;
        ctx.now_mono = t0;
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = t0 + src->timeout_ms;
        s = coll_clickhouse_ops.poll(st, &ctx, &data, err);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        *d = data;
        return s;
}

/* ClickHouse's answer to `sql` (FORMAT JSON added) as parsed JSON, data[0]. */
static cJSON *it_row(const char *sql, cJSON **root)
{
        char *body = tu_ch_query(&ch, NULL, "%s FORMAT JSON", sql);
        cJSON *data;

        assert_non_null(body);
        *root = cJSON_Parse(body);
        free(body);
        assert_non_null(*root);
        data = cJSON_GetObjectItem(*root, "data");
        assert_true(cJSON_GetArraySize(data) >= 1);
        return cJSON_GetArrayItem(data, 0);
}

static int64_t it_i64(const cJSON *v)
{
        if (cJSON_IsString(v))
                return strtoll(v->valuestring, NULL, 10);
        assert_true(cJSON_IsNumber(v));
        return (int64_t)v->valuedouble;
}

static double it_q(const cJSON *row, int i)
{
        const cJSON *q = cJSON_GetArrayItem(cJSON_GetObjectItem(row, "q"), i);

        assert_true(cJSON_IsNumber(q));
        return q->valuedouble;
}

static const struct ch_table *table_named(const struct ch_data *d, const char *db,
                                          const char *t)
{
        for (size_t i = 0; d && i < d->n_tables; i++)
                if (strcmp(d->tables[i].database, db) == 0 && strcmp(d->tables[i].table, t) == 0)
                        return &d->tables[i];
        return NULL;
}

static int group_setup(void **st)
{
        (void)st;
        if (tu_ch_start(&ch, 0) != 0)
                return -1;
        /* Polls that must succeed get a timeout a loaded machine cannot
         * miss; test 3 times out on a source of its own. */
        cfg = it_config("it-ch", ch.url, NULL, "200ms", "60s");
        state = coll_clickhouse_ops.create(&cfg->sources[0]);
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        coll_clickhouse_ops.destroy(state);
        config_free(cfg);
        tu_ch_destroy(&ch);
        return 0;
}

/* 1 ------------------------------------------------------------------------ */

static const char *const it_secret_url = "https://loader:Hunter2-Pw@files.example.com/x.csv";

static void run_workload(void)
{
        static const int sleeps_ms[] = { 5, 10, 10, 20, 35, 50, 80, 120, 150, 200 };
        char id[64], *body = NULL;
        long status;
        int64_t t0;

        body = tu_ch_scalar(&ch, "SELECT toUnixTimestamp(now())");
        assert_non_null(body);
        workload_t0 = strtoll(body, NULL, 10);
        free(body);
        body = NULL;
        assert_int_equal(tu_ch_exec(&ch, "CREATE DATABASE it"), 0);
        assert_int_equal(tu_ch_exec(&ch, "CREATE TABLE it.events (d Date, ts DateTime, k UInt32, "
                                    "v Float64) ENGINE = MergeTree PARTITION BY toYYYYMM(d) "
                                    "ORDER BY (k, ts)"), 0);
        assert_int_equal(tu_ch_exec(&ch, "SYSTEM STOP MERGES"), 0);

        for (size_t i = 0; i < LO_ARRAY_LEN(sleeps_ms); i++) {
                snprintf(id, sizeof id, "it-lat-sleep-%zu", i);
                assert_int_equal(tu_ch_exec_id(&ch, id, "SELECT sleep(%g)",
                                               sleeps_ms[i] / 1000.0), 0);
        }
        for (int i = 0; i < 20; i++) {
                snprintf(id, sizeof id, "it-lat-quick-%d", i);
                assert_int_equal(tu_ch_exec_id(&ch, id, "SELECT count() FROM numbers(%d)",
                                               1000 * (i + 1)), 0);
        }
        /* The slowest query of all, with a credential in a URL literal: 2 s,
         * far above the rest even when a loaded machine slows them down. */
        assert_int_equal(tu_ch_exec_id(&ch, "it-lat-secret",
                                       "SELECT sleep(2), '%s' AS u", it_secret_url), 0);
        /* Two failures: before start (type 3) and while processing (type 4,
         * after rows went out). */
        status = tu_ch_fail(&ch, "it-fail-1", "SELECT nosuchfunction(1)", &body);
        assert_int_equal(status, 404);
        free(body);
        status = tu_ch_fail(&ch, "it-fail-2", "SELECT number, throwIf(number = 200000) "
                            "FROM system.numbers LIMIT 300000 FORMAT JSON", &body);
        assert_int_equal(status, 200);
        assert_non_null(strstr(body, "Code: 395"));
        free(body);

        /* Known inserts: 7 single-row inserts into 2026-11, 3 into 2026-10 and
         * one 100-row insert into 2026-11: 11 parts, 8 in the fullest
         * partition, 110 rows. */
        for (int i = 0; i < 7; i++) {
                snprintf(id, sizeof id, "it-ins-a%d", i);
                assert_int_equal(tu_ch_exec_id(&ch, id, "INSERT INTO it.events VALUES "
                                               "('2026-11-0%d', now(), %d, 1.5)", i + 1, i), 0);
        }
        for (int i = 0; i < 3; i++) {
                snprintf(id, sizeof id, "it-ins-b%d", i);
                assert_int_equal(tu_ch_exec_id(&ch, id, "INSERT INTO it.events VALUES "
                                               "('2026-10-1%d', now(), %d, 2.5)", i, 100 + i), 0);
        }
        assert_int_equal(tu_ch_exec_id(&ch, "it-ins-c", "INSERT INTO it.events SELECT "
                                       "toDate('2026-11-20'), now(), number, number / 2 "
                                       "FROM numbers(100)"), 0);
        /* Until the server's log shows all 44 ends (42 finished, 2 failed). */
        for (t0 = clock_mono_ms();; pause_ms(50)) {
                char *n;

                assert_int_equal(tu_ch_exec(&ch, "SYSTEM FLUSH LOGS"), 0);
                n = tu_ch_scalar(&ch, "SELECT count() FROM system.query_log WHERE type != 1 "
                                 "AND query_id LIKE 'it-%%'");
                assert_non_null(n);
                if (strcmp(n, "44") == 0) {
                        free(n);
                        break;
                }
                if (clock_mono_ms() - t0 > IT_WAIT_MS)
                        fail_msg("query_log shows %s of the workload's 44 query ends", n);
                free(n);
        }
}

/* The workload's rows (query_id 'it-...') that ended in the w-second window
 * ending at e, by the server's clock: the count and ClickHouse's quantiles
 * of those that finished, their ends and failures, and the rows (known per
 * insert: 100 for it-ins-c, 1 for the others) and bytes inserted. */
static cJSON *workload_window(int64_t e, int w, cJSON **root)
{
        char sql[1024];

        snprintf(sql, sizeof sql, "SELECT countIf(type = 2) AS count, "
                 "quantilesIf(0.5, 0.95, 0.99)(query_duration_ms, type = 2) AS q, "
                 "countIf(type != 1) AS ended, countIf(type IN (3, 4)) AS failed, "
                 "sumIf(if(query_id = 'it-ins-c', 100, 1), type = 2 AND "
                 "query_id LIKE 'it-ins-%%') AS ins_rows, "
                 "sumIf(written_bytes, type = 2 AND query_id LIKE 'it-ins-%%') AS ins_bytes "
                 "FROM system.query_log WHERE query_id LIKE 'it-%%' AND "
                 "event_time > toDateTime(%lld) - %d AND event_time <= toDateTime(%lld)",
                 (long long)e, w, (long long)e);
        return it_row(sql, root);
}

static void test_known_workload(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        struct ch_data *d = NULL;
        const struct ch_table *t;
        struct err err;
        cJSON *root, *row, *o, *w;
        char sql[1024], *json;
        int64_t e, ms, q_ended, q_failed;

        (void)st;
        run_workload();
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_OK);
        print_message("first poll (with discovery): %lld ms\n", (long long)ms);
        assert_string_equal(err.msg, "");
        assert_string_equal(d->version, "18.16.1");
        assert_true(d->uptime_s >= 0);
        uptime_before = d->uptime_s;
        assert_true(d->query_log);
        assert_int_equal(d->parts_to_delay_insert, 150);
        assert_true(d->memory_bytes >= 0);
        e = d->window_end;
        /* The windows end at the server's clock, after the workload. */
        assert_true(e >= workload_t0);

        /* (a) ClickHouse's quantiles over exactly the workload's rows in each
         * window. The test runs for less than its 300 s ctest timeout, so
         * the 5 and 15 minute windows hold all 42; the 1-minute one does
         * unless a minute passed between the workload's start and the poll
         * (printed when it happens). */
        for (int k = 0; k < CH_NWIN; k++) {
                static const int wins[CH_NWIN] = { 60, 300, 900 };
                int64_t n;

                row = workload_window(e, wins[k], &root);
                n = it_i64(cJSON_GetObjectItem(row, "count"));
                print_message("window %d s ending %lld (workload from %lld): %lld finished, "
                              "collector %lld\n", wins[k], (long long)e, (long long)workload_t0,
                              (long long)n, (long long)d->lat[k].count);
                if (wins[k] >= 300 || e - 60 < workload_t0)
                        assert_int_equal(n, 10 + 20 + 1 + 11);
                assert_int_equal(d->lat[k].count, n);
                if (n > 0) {
                        assert_true(d->lat[k].p50 == it_q(row, 0));
                        assert_true(d->lat[k].p95 == it_q(row, 1));
                        assert_true(d->lat[k].p99 == it_q(row, 2));
                }
                cJSON_Delete(root);
        }
        assert_true(d->lat[CH_W15M].p99 >= 150);  /* sleeps of 150 ms to 2 s are in the tail */

        /* (b) the same SQL window, ending where the collector's ended. */
        snprintf(sql, sizeof sql, "SELECT count() AS count, "
                 "quantiles(0.5, 0.95, 0.99)(query_duration_ms) AS q FROM system.query_log "
                 "WHERE event_time > toDateTime(%lld) - 60 AND event_time <= toDateTime(%lld) "
                 "AND type = 2 AND is_initial_query = 1 AND query_id NOT LIKE 'lambdaops-%%'",
                 (long long)e, (long long)e);
        row = it_row(sql, &root);
        assert_int_equal(it_i64(cJSON_GetObjectItem(row, "count")), d->lat[CH_W1M].count);
        assert_true(d->lat[CH_W1M].p50 == it_q(row, 0));
        assert_true(d->lat[CH_W1M].p95 == it_q(row, 1));
        assert_true(d->lat[CH_W1M].p99 == it_q(row, 2));
        cJSON_Delete(root);

        /* Rates: the workload's counts in the last minute over 60 s. All
         * of it in the window: 44 queries ended (42 + 2 failed), 2 failed,
         * 110 rows inserted. */
        row = workload_window(e, 60, &root);
        q_ended = it_i64(cJSON_GetObjectItem(row, "ended"));
        q_failed = it_i64(cJSON_GetObjectItem(row, "failed"));
        print_message("last minute: %lld ended, %lld failed, %lld rows and %lld bytes inserted "
                      "(collector %.3f bytes/s)\n", (long long)q_ended, (long long)q_failed,
                      (long long)it_i64(cJSON_GetObjectItem(row, "ins_rows")),
                      (long long)it_i64(cJSON_GetObjectItem(row, "ins_bytes")),
                      d->inserted_bytes_per_sec);
        if (e - 60 < workload_t0) {
                assert_int_equal(q_ended, 44);
                assert_int_equal(q_failed, 2);
                assert_int_equal(it_i64(cJSON_GetObjectItem(row, "ins_rows")), 110);
                assert_true(it_i64(cJSON_GetObjectItem(row, "ins_bytes")) > 0);
        }
        assert_true(d->queries_per_sec == (double)q_ended / 60.0);
        assert_true(d->failed_per_sec == (double)q_failed / 60.0);
        assert_true(d->inserted_rows_per_sec ==
                    (double)it_i64(cJSON_GetObjectItem(row, "ins_rows")) / 60.0);
        assert_true(d->inserted_bytes_per_sec ==
                    (double)it_i64(cJSON_GetObjectItem(row, "ins_bytes")) / 60.0);
        cJSON_Delete(root);

        /* Parts, with merges stopped. */
        t = table_named(d, "it", "events");
        assert_non_null(t);
        assert_int_equal(t->active_parts, 11);
        assert_int_equal(t->max_parts_per_partition, 8);
        assert_string_equal(t->max_partition, "202611");
        assert_int_equal(t->rows, 110);
        assert_true(t->bytes > 0);
        assert_int_equal(d->merges, 0);
        assert_int_equal(d->n_replicas, 0);
        /* Sorted by max parts per partition, largest first. */
        for (size_t i = 1; i < d->n_tables; i++)
                assert_true(d->tables[i - 1].max_parts_per_partition >=
                            d->tables[i].max_parts_per_partition);

        /* Slow queries, slowest first: the first is the slowest in the
         * server's log (the 2 s one, unless a loaded machine made another
         * slower still), and the 2 s one is listed with its URL password
         * masked. All ended during the workload, by the server's clock (the
         * list spans the 15-minute window). */
        assert_true(d->n_slow >= 5);
        row = it_row("SELECT query_duration_ms AS ms FROM system.query_log WHERE type = 2 "
                     "AND query_id LIKE 'it-%' ORDER BY query_duration_ms DESC LIMIT 1", &root);
        assert_int_equal(d->slow[0].duration_ms, it_i64(cJSON_GetObjectItem(row, "ms")));
        cJSON_Delete(root);
        {
                const struct ch_slow_query *sq = NULL;

                for (size_t i = 0; i < d->n_slow; i++) {
                        assert_null(strstr(d->slow[i].query, "Hunter2"));
                        assert_true(d->slow[i].at / 1000 <= e &&
                                    d->slow[i].at / 1000 >= workload_t0);
                        if (i > 0)
                                assert_true(d->slow[i - 1].duration_ms >= d->slow[i].duration_ms);
                        if (strstr(d->slow[i].query, "sleep(2)"))
                                sq = &d->slow[i];
                }
                assert_non_null(sq);
                if (sq != &d->slow[0])
                        print_message("slowest: %lld ms: %.80s\n",
                                      (long long)d->slow[0].duration_ms, d->slow[0].query);
                assert_non_null(strstr(sq->query, "https://loader:***@files.example.com"));
                assert_true(sq->duration_ms >= 2000);
        }

        /* JSON of real data. */
        o = cJSON_CreateObject();
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        print_message("json: %.400s...\n", json);
        assert_null(strstr(json, "Hunter2"));
        assert_string_equal(cJSON_GetObjectItem(o, "version")->valuestring, "18.16.1");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "query_log")));
        w = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "latency_ms"), "5m");
        assert_int_equal((int)cJSON_GetObjectItem(w, "count")->valuedouble, 42);
        assert_true(fabs(cJSON_GetObjectItem(w, "p95")->valuedouble - d->lat[CH_W5M].p95) < 0.001);
        /* Three decimals: 0.033 for the whole workload's 2 / 60. */
        assert_true(fabs(cJSON_GetObjectItem(o, "failed_per_sec")->valuedouble -
                         round((double)q_failed / 60.0 * 1000.0) / 1000.0) < 1e-9);
        assert_int_equal((int)cJSON_GetObjectItem(o, "merges")->valuedouble, 0);
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "replicas")) == 0);
        assert_true(coll_clickhouse_ops.key_metric(d) == d->lat[CH_W5M].p95);
        free(json);
        cJSON_Delete(o);
        coll_clickhouse_ops.data_free(d);
}

/* 2 ------------------------------------------------------------------------ */

/* How often collectors (not this harness) have read system.columns: each
 * is one capability discovery. Flushes the logs first. */
static int discoveries(void)
{
        char *n;
        int x;

        assert_int_equal(tu_ch_exec(&ch, "SYSTEM FLUSH LOGS"), 0);
        n = tu_ch_scalar(&ch, "SELECT count() FROM system.query_log WHERE type = 2 AND "
                         "query LIKE 'SELECT table, name, type FROM system.columns%%' AND "
                         "query_id LIKE 'lambdaops-%%' AND query_id NOT LIKE 'lambdaops-tu-%%'");
        assert_non_null(n);
        x = atoi(n);
        free(n);
        return x;
}

static void test_own_queries_excluded(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        struct ch_data *d;
        struct err err;
        char *n;

        (void)st;
        /* Several polls log their own queries; flush, and the figures do not
         * move. */
        for (int i = 0; i < 3; i++) {
                assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
                coll_clickhouse_ops.data_free(d);
        }
        assert_int_equal(tu_ch_exec(&ch, "SYSTEM FLUSH LOGS"), 0);
        n = tu_ch_scalar(&ch, "SELECT count() FROM system.query_log WHERE type = 2 AND "
                         "query_id LIKE 'lambdaops-%%' AND query_id NOT LIKE 'lambdaops-tu-%%'");
        assert_non_null(n);
        print_message("the collector's own finished queries in query_log: %s\n", n);
        assert_true(atoi(n) >= 20);
        free(n);
        assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(d->lat[CH_W15M].count, 42);
        assert_true(d->queries_per_sec <= 44.0 / 60.0);
        /* Capabilities were discovered once, at the first poll, and cached. */
        assert_int_equal(discoveries(), 1);
        assert_true(d->qps_hist.n >= 5);
        assert_true(d->p95_hist.n >= 5);
        for (size_t i = 0; i < d->n_slow; i++)
                assert_null(strstr(d->slow[i].query, "system.query_log"));
        coll_clickhouse_ops.data_free(d);
}

/* 3 ------------------------------------------------------------------------ */

struct quit_when_blocked {
        pid_t tid;              /* the polling thread */
        int fd;                 /* the stop pipe's write end */
        long blocked_nr;        /* the syscall it was in when quit was sent, or -1 */
};

/* Waits until the polling thread sleeps in poll(2) (blocked on the hung
 * server; /proc/self/task/TID/syscall), then asks it to quit. Should it
 * never block there, quit is sent after IT_WAIT_MS anyway: the outcome the
 * test asserts is the same, blocked_nr says what happened. */
static void *quit_when_blocked(void *arg)
{
        struct quit_when_blocked *q = arg;
        char path[64];
        int64_t end = clock_mono_ms() + IT_WAIT_MS;
        char b = 1;

        snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)q->tid);
        q->blocked_nr = -1;
        while (clock_mono_ms() < end) {
                FILE *f = fopen(path, "r");
                long nr = -1;

                if (f) {
                        if (fscanf(f, "%ld", &nr) != 1)
                                nr = -1;
                        fclose(f);
                }
#ifdef SYS_poll
                if (nr == SYS_poll)
                        q->blocked_nr = nr;
#endif
                if (nr == SYS_ppoll)
                        q->blocked_nr = nr;
                if (q->blocked_nr >= 0)
                        break;
                pause_ms(2);
        }
        if (write(q->fd, &b, 1) != 1)
                q->blocked_nr = -2;
        return NULL;
}

/* Teardown of test 3: the server runs again even when the test failed with
 * it stopped (the later tests need it). */
static int resume_server(void **st)
{
        (void)st;
        if (ch.pid > 0)
                kill(ch.pid, SIGCONT);
        return 0;
}

static void test_hung_server(void **st)
{
        struct config *hc = it_config("hung-ch", ch.url, NULL, "200ms", "2s");
        const struct source_cfg *src = &hc->sources[0];
        void *fresh = coll_clickhouse_ops.create(src);
        struct config *qc = it_config("quit-ch", ch.url, NULL, "1s", "10m");
        void *qst = coll_clickhouse_ops.create(&qc->sources[0]);
        struct quit_when_blocked q;
        pthread_t th;
        struct ch_data *d;
        struct err err;
        int64_t ms;
        int stop[2];

        (void)st;
        assert_int_equal(kill(ch.pid, SIGSTOP), 0);
        assert_int_equal(it_poll(fresh, src, -1, &d, &err, &ms), COLL_DOWN);
        print_message("hung server: DOWN after %lld ms (timeout %d): %s\n", (long long)ms,
                      IT_TIMEOUT_MS, err.msg);
        assert_null(d);
        /* At the timeout, never before; the bound above it is slack for a
         * loaded machine (without the timeout the poll would never end). */
        assert_true(ms >= IT_TIMEOUT_MS - 50 && ms <= IT_TIMEOUT_MS + IT_SLACK_MS);
        assert_non_null(strstr(err.msg, "timed out after 2000 ms"));
        assert_non_null(strstr(err.msg, ch.url));
        assert_null(strstr(err.msg, "query_id"));

        /* Quit while a poll with a ten-minute timeout is blocked on the hung
         * server: it ends with "stopping", long before that timeout. */
        assert_int_equal(pipe(stop), 0);
        q.tid = (pid_t)syscall(SYS_gettid);
        q.fd = stop[1];
        assert_int_equal(pthread_create(&th, NULL, quit_when_blocked, &q), 0);
        assert_int_equal(it_poll(qst, &qc->sources[0], stop[0], &d, &err, &ms), COLL_DOWN);
        assert_int_equal(pthread_join(th, NULL), 0);
        print_message("hung server + quit: returned after %lld ms (quit sent in syscall %ld)\n",
                      (long long)ms, q.blocked_nr);
        assert_null(d);
        assert_string_equal(err.msg, "stopping");
        assert_true(q.blocked_nr >= 0);         /* it really was blocked */
        assert_true(ms < IT_WAIT_MS + IT_SLACK_MS);     /* vs the 600000 ms timeout */
        close(stop[0]);
        close(stop[1]);
        coll_clickhouse_ops.destroy(qst);
        config_free(qc);

        /* Resumed: OK again (on the group's source, whose timeout a loaded
         * machine cannot miss). */
        assert_int_equal(kill(ch.pid, SIGCONT), 0);
        coll_clickhouse_ops.destroy(fresh);
        fresh = coll_clickhouse_ops.create(&cfg->sources[0]);
        assert_int_equal(it_poll(fresh, &cfg->sources[0], -1, &d, &err, NULL), COLL_OK);
        assert_non_null(table_named(d, "it", "events"));
        coll_clickhouse_ops.data_free(d);
        coll_clickhouse_ops.destroy(fresh);
        config_free(hc);
}

/* 4 ------------------------------------------------------------------------ */

static void test_killed_and_restarted(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        struct config *c = it_config("rt-ch", ch.url, NULL, "200ms", "2s");
        struct collector *cs[1];
        struct snapshot *s;
        struct ch_data *d;
        struct err err;
        uint64_t gen;
        int64_t t0, ms, hist_n, restart_begun;
        int n_disc;
        char where[64];

        (void)st;
        /* The real runtime, polling every 200 ms. */
        cs[0] = collector_start(&c->sources[0], -1, false);
        assert_true(collector_wait_gen(cs[0], 2, clock_mono_ms() + IT_WAIT_MS));
        s = collector_latest(cs[0], &gen);
        assert_int_equal(s->status, COLL_OK);
        snapshot_unref(s);

        assert_int_equal(tu_ch_kill(&ch), 0);
        t0 = clock_mono_ms();
        for (;;) {
                s = collector_latest(cs[0], NULL);
                if (s && s->status == COLL_DOWN)
                        break;
                snapshot_unref(s);
                assert_true(clock_mono_ms() - t0 < IT_WAIT_MS);
                pause_ms(20);
        }
        ms = clock_mono_ms() - t0;
        print_message("server killed: runtime DOWN after %lld ms: %s\n", (long long)ms, s->error);
        snprintf(where, sizeof where, "127.0.0.1:%d", ch.http_port);
        assert_non_null(strstr(s->error, "connection refused"));
        assert_non_null(strstr(s->error, where));
        assert_null(s->data);
        snapshot_unref(s);

        /* The shared state too: DOWN, refused (not a timeout). */
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_DOWN);
        print_message("server killed: poll DOWN after %lld ms: %s\n", (long long)ms, err.msg);
        assert_non_null(strstr(err.msg, "connection refused"));
        assert_true(ms <= IT_TIMEOUT_MS + IT_SLACK_MS);
        assert_null(d);

        restart_begun = clock_mono_ms();
        assert_int_equal(tu_ch_restart(&ch), 0);
        collector_refresh(cs[0]);
        t0 = clock_mono_ms();
        for (;;) {
                s = collector_latest(cs[0], NULL);
                if (s && s->status == COLL_OK)
                        break;
                snapshot_unref(s);
                /* Backoff after failures is at most 8 x 200 ms here. */
                assert_true(clock_mono_ms() - t0 < IT_WAIT_MS);
                pause_ms(20);
        }
        print_message("server restarted: runtime OK after %lld ms\n",
                      (long long)(clock_mono_ms() - t0));
        snapshot_unref(s);
        t0 = clock_mono_ms();
        collector_stop_all(cs, 1);
        print_message("collector_stop_all: %lld ms\n", (long long)(clock_mono_ms() - t0));
        config_free(c);

        /* Same state object: OK, capabilities rediscovered, history kept. */
        n_disc = discoveries();
        assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(discoveries(), n_disc + 1);
        assert_string_equal(err.msg, "");
        print_message("uptime before %lld s, after the restart %lld s\n",
                      (long long)uptime_before, (long long)d->uptime_s);
        /* A new server: up for no longer than since the restart began
         * (+1 s for whole seconds), not uptime_before and more. */
        assert_true(d->uptime_s <= (clock_mono_ms() - restart_begun) / 1000 + 1);
        assert_true(d->query_log);
        assert_true(table_named(d, "it", "events") != NULL);
        assert_int_equal(table_named(d, "it", "events")->rows, 110);
        hist_n = (int64_t)d->p95_hist.n;
        assert_true(hist_n >= 6);
        assert_int_equal(d->lat[CH_W15M].count, 42);
        coll_clickhouse_ops.data_free(d);
}

/* 5 ------------------------------------------------------------------------ */

static void test_passwords(void **st)
{
        static const char bad[] = "wrong-Pw-7c1d";
        char *json, path[400], *extra;
        struct config *c;
        void *pst;
        struct ch_data *d;
        struct err err;
        cJSON *o;
        FILE *f;

        (void)st;
        setenv("LO_IT_CH_PW", bad, 1);
        c = it_config("pw-ch", ch.url, "    user: lo_pw\n    password_env: LO_IT_CH_PW\n",
                      "1s", "2s");
        pst = coll_clickhouse_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DOWN);
        print_message("wrong password: %s\n", err.msg);
        assert_null(d);
        assert_string_equal(err.msg, "overview query: ClickHouse error 193 (WRONG_PASSWORD): "
                            "Wrong password for user lo_pw (check user and "
                            "password_env/password_file)");
        assert_null(strstr(err.msg, bad));

        /* Right password from the environment. */
        setenv("LO_IT_CH_PW", TU_CH_PASSWORD, 1);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        o = cJSON_CreateObject();
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_null(strstr(json, TU_CH_PASSWORD));
        free(json);
        cJSON_Delete(o);
        coll_clickhouse_ops.data_free(d);
        coll_clickhouse_ops.destroy(pst);
        config_free(c);
        unsetenv("LO_IT_CH_PW");

        /* No password for a user that has one. */
        c = it_config("pw-ch", ch.url, "    user: lo_pw\n", "1s", "2s");
        pst = coll_clickhouse_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DOWN);
        print_message("no password: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "(check user and password_env/password_file)"));
        coll_clickhouse_ops.destroy(pst);
        config_free(c);

        /* The right password from a file. */
        snprintf(path, sizeof path, "%s/pw", ch.dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", TU_CH_PASSWORD);
        fclose(f);
        extra = xasprintf("    user: lo_pw\n    password_file: %s\n", path);
        c = it_config("pw-ch", ch.url, extra, "1s", "2s");
        pst = coll_clickhouse_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        coll_clickhouse_ops.data_free(d);
        coll_clickhouse_ops.destroy(pst);
        config_free(c);
        free(extra);

        /* A readonly=1 profile refuses our settings: we go on without. */
        c = it_config("ro-ch", ch.url, "    user: lo_ro\n", "1s", "2s");
        pst = coll_clickhouse_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        assert_string_equal(err.msg, "");
        assert_true(d->query_log);
        assert_non_null(table_named(d, "it", "events"));
        coll_clickhouse_ops.data_free(d);
        coll_clickhouse_ops.destroy(pst);
        config_free(c);
}

/* 6 ------------------------------------------------------------------------ */

static void q_ctx(struct coll_ctx *ctx, int64_t timeout_ms)
{
        ctx->stop_fd = -1;
        ctx->now_mono = clock_mono_ms();
        ctx->timeout_ms = timeout_ms;
        ctx->deadline_mono = ctx->now_mono + timeout_ms;
}

static void test_query_runner(void **st)
{
        struct ch_cfg qc = { .url = ch.url };
        struct http_client *hc = coll_clickhouse_client(&qc);
        struct http_response r;
        struct coll_ctx ctx;
        struct err err;
        struct tu_httpd h;
        cJSON *root;
        char *log, *routes;
        int64_t t0, ms;

        (void)st;
        /* OK: a FORMAT JSON body with quoted 64-bit integers; a trailing ';'
         * is fine. */
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT toUInt64(18446744073709551615) "
                                               "AS big, 'x' AS s ;  ", &r, &err), 0);
        assert_int_equal(r.status, 200);
        root = cJSON_Parse(r.body);
        assert_non_null(root);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "data"),
                                                                     0), "big")->valuestring,
                            "18446744073709551615");
        cJSON_Delete(root);
        http_response_done(&r);

        /* Syntax error (HTTP 400), unknown table (404). */
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELEC 1", &r, &err), -1);
        print_message("syntax: %s\n", err.msg);
        assert_int_equal(err.code, 62);
        assert_true(strncmp(err.msg, "ClickHouse error 62 (SYNTAX_ERROR): Syntax error: failed at "
                            "position 1", 63) == 0);
        assert_null(r.body);
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT * FROM it.nosuch", &r, &err),
                         -1);
        assert_int_equal(err.code, 60);
        assert_string_equal(err.msg, "ClickHouse error 60 (UNKNOWN_TABLE): Table it.nosuch "
                            "doesn't exist.");

        /* An exception after the 200 and the first megabyte went out. */
        q_ctx(&ctx, 10000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT number, throwIf(number = "
                                               "200000) AS t FROM system.numbers LIMIT 300000",
                                               &r, &err), -1);
        print_message("mid-body: %s\n", err.msg);
        assert_int_equal(err.code, 395);
        assert_non_null(strstr(err.msg, "Value passed to 'throwIf' function is non zero"));

        /* A query that would run forever: cut at the timeout, and the server
         * gives up too (max_execution_time). */
        q_ctx(&ctx, 1500);
        t0 = clock_mono_ms();
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT count() FROM "
                                               "system.numbers", &r, &err), -1);
        ms = clock_mono_ms() - t0;
        print_message("endless query: -1 after %lld ms: %s\n", (long long)ms, err.msg);
        assert_true(ms <= 1500 + IT_SLACK_MS);     /* the query itself never ends */
        assert_true(err.code == 159 || err.code == CH_ERR_TRANSPORT);
        /* The server's own limit is whole seconds, never later than ours. */
        for (t0 = clock_mono_ms();; pause_ms(50)) {
                char *n = tu_ch_scalar(&ch, "SELECT count() FROM system.processes WHERE "
                                       "query LIKE 'SELECT count() FROM system.numbers%%'");

                assert_non_null(n);
                if (strcmp(n, "0") == 0) {
                        free(n);
                        break;
                }
                free(n);
                assert_true(clock_mono_ms() - t0 < IT_WAIT_MS);
        }
        http_client_free(hc);

        /* The request as a server sees it: POST, headers, no credentials in
         * the URL, our query_id and settings. */
        routes = xasprintf("{\"routes\": [{\"method\": \"POST\", \"path\": \"/\", \"status\": 200, "
                           "\"body\": \"{\\\"meta\\\":[],\\\"data\\\":[],\\\"rows\\\":0}\\n\"}]}");
        assert_int_equal(tu_httpd_start(&h, routes, false), 0);
        free(routes);
        setenv("LO_IT_CH_PW2", "Hdr-Secret-11", 1);
        qc.url = h.base_url;
        qc.user = "reader";
        qc.password_env = "LO_IT_CH_PW2";
        hc = coll_clickhouse_client(&qc);
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT 1", &r, &err), 0);
        http_response_done(&r);
        /* A password with a line break would split the header: refused. */
        setenv("LO_IT_CH_PW2", "bad\nX-Injected: 1", 1);
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT 2", &r, &err), -1);
        assert_string_equal(err.msg, "the password contains a line break: check "
                            "password_env/password_file");
        setenv("LO_IT_CH_PW2", "Hdr-Secret-11", 1);
        http_client_free(hc);
        log = tu_httpd_requests(&h);
        print_message("request: %.300s\n", log);
        assert_non_null(strstr(log, "\"method\": \"POST\""));
        assert_non_null(strstr(log, "\"x-clickhouse-user\": \"reader\""));
        assert_non_null(strstr(log, "\"x-clickhouse-key\": \"Hdr-Secret-11\""));
        assert_non_null(strstr(log, "query_id=lambdaops-"));
        /* max_execution_time is the whole seconds left of the 3 s deadline
         * when the request left: 3, or 2 (or 1) on a slow machine; never
         * more than the deadline, never 0. */
        {
                const char *m = strstr(log, "readonly=2&max_execution_time=");
                long secs;

                assert_non_null(m);
                secs = strtol(m + strlen("readonly=2&max_execution_time="), NULL, 10);
                assert_in_range(secs, 1, 3);
        }
        assert_non_null(strstr(log, "\"body\": \"SELECT 1\\nFORMAT JSON\""));
        assert_null(strstr(log, "password"));
        assert_null(strstr(log, "authorization"));
        assert_null(strstr(log, "x-injected"));
        assert_null(strstr(log, "SELECT 2"));
        free(log);
        tu_httpd_stop(&h);

        /* TLS: verification on by default; insecure or ca_file make it work. */
        routes = xasprintf("{\"routes\": [{\"method\": \"POST\", \"path\": \"/\", \"status\": 200, "
                           "\"body\": \"{\\\"data\\\":[]}\"}]}");
        assert_int_equal(tu_httpd_start(&h, routes, true), 0);
        free(routes);
        qc = (struct ch_cfg){ .url = h.base_url };
        hc = coll_clickhouse_client(&qc);
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT 1", &r, &err), -1);
        print_message("self-signed: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "TLS verification failed"));
        assert_int_equal(err.code, CH_ERR_TRANSPORT);
        http_client_free(hc);
        qc.insecure = true;
        hc = coll_clickhouse_client(&qc);
        q_ctx(&ctx, 3000);
        assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT 1", &r, &err), 0);
        http_response_done(&r);
        http_client_free(hc);
        {
                char ca[400];

                snprintf(ca, sizeof ca, "%s/cert.pem", h.dir);
                qc.insecure = false;
                qc.ca_file = ca;
                hc = coll_clickhouse_client(&qc);
                q_ctx(&ctx, 3000);
                assert_int_equal(coll_clickhouse_query(hc, &qc, &ctx, "SELECT 1", &r, &err), 0);
                http_response_done(&r);
                http_client_free(hc);
        }
        tu_httpd_stop(&h);
        unsetenv("LO_IT_CH_PW2");
}

/* 7 ------------------------------------------------------------------------ */

static void test_no_query_log(void **st)
{
        struct tu_ch nq;
        struct config *c;
        void *pst;
        struct ch_data *d;
        struct err err;
        cJSON *o, *w;
        char *json;

        (void)st;
        assert_int_equal(tu_ch_start(&nq, TU_CH_NO_QUERY_LOG), 0);
        c = it_config("nq-ch", nq.url, NULL, "1s", "2s");
        pst = coll_clickhouse_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DEGRADED);
        print_message("no query_log: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "system.query_log does not exist"));
        assert_false(d->query_log);
        assert_int_equal(d->lat[CH_W1M].count, -1);
        assert_true(isnan(d->queries_per_sec));         /* one sample: no delta yet */
        o = cJSON_CreateObject();
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        print_message("json: %.300s\n", json);
        assert_non_null(strstr(json, "\"query_log\":false"));
        assert_non_null(strstr(json, "\"1m\":{\"count\":null,\"p50\":null,\"p95\":null,"
                               "\"p99\":null}"));
        assert_non_null(strstr(json, "\"queries_per_sec\":null"));
        w = cJSON_GetObjectItem(o, "memory_bytes");
        assert_true(cJSON_IsNumber(w) && w->valuedouble > 0);
        free(json);
        cJSON_Delete(o);
        coll_clickhouse_ops.data_free(d);

        /* Known traffic between two polls: 5 queries and 30 inserted rows
         * on top of our own, which are subtracted. */
        assert_int_equal(tu_ch_exec(&nq, "CREATE TABLE t (x UInt64) ENGINE = MergeTree "
                                    "ORDER BY x"), 0);
        assert_int_equal(tu_ch_exec(&nq, "INSERT INTO t SELECT number FROM numbers(30)"), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(tu_ch_exec(&nq, "SELECT %d", i), 0);
        pause_ms(1000);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DEGRADED);
        print_message("events deltas: %.3f q/s, %.3f rows/s, failed %g\n", d->queries_per_sec,
                      d->inserted_rows_per_sec, d->failed_per_sec);
        assert_true(d->queries_per_sec > 0 && d->queries_per_sec <= 5.0);
        assert_true(d->inserted_rows_per_sec > 0 && d->inserted_rows_per_sec <= 30.0);
        assert_true(isnan(d->failed_per_sec));          /* no FailedQuery on 18.16 */
        coll_clickhouse_ops.data_free(d);
        coll_clickhouse_ops.destroy(pst);
        config_free(c);
        tu_ch_destroy(&nq);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_known_workload),
                cmocka_unit_test(test_own_queries_excluded),
                cmocka_unit_test_teardown(test_hung_server, resume_server),
                cmocka_unit_test(test_killed_and_restarted),
                cmocka_unit_test(test_passwords),
                cmocka_unit_test(test_query_runner),
                cmocka_unit_test(test_no_query_log),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests_name("it_clickhouse", tests, group_setup, group_teardown);
}
