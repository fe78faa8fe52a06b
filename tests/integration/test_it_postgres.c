/*
 * Integration tests for the PostgreSQL collector against a real
 * PostgreSQL 15 started by tests/lib/tu_pg.c on a free loopback port.
 *
 * Setup: tables orders and customers, publication lo_pub (both tables) and
 * lo_all (FOR ALL TABLES), logical slots lo_active (kept active by
 * pg_recvlogical) and lo_inactive (left alone, so its lag grows with every
 * insert). The tests run in order and share one collector state, so they
 * also cover reconnecting with the same state object:
 *   1. slots, publications, sender join; the session is read-only with
 *      statement_timeout and application_name set;
 *   2. lag agrees with pg_wal_lsn_diff() queried right after, and grows;
 *   3. a hung backend (SIGSTOP) times out at the source timeout, then the
 *      next poll reconnects;
 *   4. a hung postmaster: connect times out; quit interrupts at once;
 *   5. server stopped mid-run: DOWN within the timeout; restarted: OK again;
 *   6. the real runtime (collector_start, 200 ms interval), and
 *      collector_stop_all within 1 s while the server is SIGSTOPped;
 *   7. wrong password (scram role): DOWN with "password authentication
 *      failed", and the password appears nowhere; right password from env
 *      or file: OK; a revoked catalog view: DEGRADED with the rest.
 * Set LO_TEST_KEEP=1 to keep the server's temp dir for a post-mortem.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/postgres.h"
#include "tu.h"
#include "tu_pg.h"
#include "core/util.h"

#define IT_TIMEOUT_MS 1500
/* Slack over a timeout for a loaded machine: tells "ended at its timeout"
 * from "hung" (the runs it bounds would otherwise not end). */
#define IT_MARGIN_MS  30000

static struct tu_pg pg;
static pid_t recv_pid = -1;
static struct config *cfg;      /* source "it-pg": timeout IT_TIMEOUT_MS */
static void *state;             /* shared across tests 1-5 */

static void pause_ms(int ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* A config with one postgres source named `name`. Owned. */
static struct config *it_config(const char *name, const char *dsn, const char *extra,
                                const char *interval, const char *timeout)
{
        struct err err;
        char *yaml = xasprintf("environment: test\n"
                               "sources:\n"
                               "  - name: %s\n"
                               "    kind: postgres\n"
                               "    dsn: \"%s\"\n"
                               "    interval: %s\n"
                               "    timeout: %s\n"
                               "%s",
                               name, dsn, interval, timeout, extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<it>", &err);

        if (!c)
                fail_msg("config: %s\n%s", err.msg, yaml);
        free(yaml);
        assert_int_equal(c->n_sources, 1);
        assert_ptr_equal(c->sources[0].ops, &coll_postgres_ops);
        return c;
}

/* One poll through the ops, as the runtime does it. */
static enum coll_status it_poll(void *st, const struct source_cfg *src, int stop_fd,
                                struct pg_data **d, struct err *err, int64_t *elapsed)
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
        s = coll_postgres_ops.poll(st, &ctx, &data, err);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        *d = data;
        return s;
}

static const struct pg_slot *slot_named(const struct pg_data *d, const char *name)
{
        for (size_t i = 0; d && i < d->n_slots; i++)
                if (strcmp(d->slots[i].name, name) == 0)
                        return &d->slots[i];
        return NULL;
}

static int64_t server_lag(const char *slot)
{
        char *v = tu_pg_query1(&pg, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), "
                               "confirmed_flush_lsn)::bigint FROM pg_replication_slots "
                               "WHERE slot_name = '%s'", slot);
        int64_t x;

        assert_non_null(v);
        x = strtoll(v, NULL, 10);
        free(v);
        return x;
}

static pid_t backend_pid(const char *app)
{
        char *v = tu_pg_query1(&pg, "SELECT pid FROM pg_stat_activity WHERE application_name = "
                               "'%s' ORDER BY backend_start DESC LIMIT 1", app);
        pid_t p;

        assert_non_null(v);
        p = (pid_t)atoi(v);
        free(v);
        return p;
}

static void insert_rows(int n)
{
        assert_int_equal(tu_pg_exec(&pg, "INSERT INTO orders (customer, amount) "
                                    "SELECT g %% 1000, g * 1.5 FROM generate_series(1, %d) g", n), 0);
}

static int group_setup(void **st)
{
        char *dsn;

        (void)st;
        if (tu_pg_start(&pg) != 0)
                return -1;
        if (tu_pg_exec(&pg, "CREATE TABLE orders (id bigserial PRIMARY KEY, customer int, "
                       "amount numeric, created_at timestamptz DEFAULT now())") ||
            tu_pg_exec(&pg, "CREATE TABLE customers (id int PRIMARY KEY, name text)") ||
            tu_pg_exec(&pg, "CREATE PUBLICATION lo_pub FOR TABLE orders, customers") ||
            tu_pg_exec(&pg, "CREATE PUBLICATION lo_all FOR ALL TABLES") ||
            tu_pg_exec(&pg, "SELECT pg_create_logical_replication_slot('lo_active', 'pgoutput')") ||
            tu_pg_exec(&pg, "SELECT pg_create_logical_replication_slot('lo_inactive', 'pgoutput')"))
                return -1;
        recv_pid = tu_pg_recvlogical(&pg, "lo_active", "lo_pub");
        if (recv_pid < 0)
                return -1;
        dsn = tu_pg_dsn(&pg, NULL);
        cfg = it_config("it-pg", dsn, NULL, "200ms", "1500ms");
        free(dsn);
        state = coll_postgres_ops.create(&cfg->sources[0]);
        return 0;
}

static int group_teardown(void **st)
{
        (void)st;
        coll_postgres_ops.destroy(state);
        config_free(cfg);
        tu_kill(recv_pid);
        tu_pg_destroy(&pg);
        return 0;
}

/* 1 ------------------------------------------------------------------------ */

static void test_slots_publications_senders(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        int64_t deadline = clock_mono_ms() + 60000;
        struct pg_data *d = NULL;
        const struct pg_slot *a, *i;
        struct err err;
        uint64_t lsn;
        char *v;

        (void)st;
        /* pg_recvlogical needs a moment to attach to its slot, and its
         * walsender passes through "catchup" before "streaming". */
        for (;;) {
                assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
                a = slot_named(d, "lo_active");
                if (a && a->active && d->n_senders == 1 && d->senders[0].slot_name &&
                    d->senders[0].state && strcmp(d->senders[0].state, "streaming") == 0)
                        break;
                coll_postgres_ops.data_free(d);
                if (clock_mono_ms() > deadline)
                        fail_msg("pg_recvlogical never became active on lo_active");
                pause_ms(50);
        }
        assert_string_equal(err.msg, "");
        assert_non_null(d->server_version);
        assert_true(d->server_version_num >= 150000 && d->server_version_num < 160000);
        assert_false(d->in_recovery);
        assert_string_equal(d->wal_level, "logical");
        assert_int_equal(d->max_replication_slots, 10);
        assert_int_equal(d->max_wal_senders, 10);
        assert_int_equal(d->max_slot_wal_keep_size, -1);
        assert_int_equal(postgres_lsn_parse(d->current_lsn, &lsn), 0);

        assert_int_equal(d->n_slots, 2);
        i = slot_named(d, "lo_inactive");
        assert_non_null(i);
        assert_string_equal(a->plugin, "pgoutput");
        assert_string_equal(a->type, "logical");
        assert_string_equal(a->database, "postgres");
        assert_false(a->temporary);
        assert_true(a->active);
        assert_true(a->active_pid > 0);
        assert_string_equal(a->wal_status, "reserved");
        assert_false(a->has_safe_wal_size);
        assert_string_equal(i->plugin, "pgoutput");
        assert_string_equal(i->type, "logical");
        assert_string_equal(i->database, "postgres");
        assert_false(i->temporary);
        assert_false(i->active);
        assert_int_equal(i->active_pid, 0);
        assert_true(i->has_lag && i->has_retained);
        assert_true(i->retained_bytes >= i->lag_bytes);

        assert_int_equal(d->n_pubs, 2);
        assert_string_equal(d->pubs[0].name, "lo_all");
        assert_true(d->pubs[0].all_tables);
        assert_int_equal(d->pubs[0].n_tables, 0);
        assert_string_equal(d->pubs[1].name, "lo_pub");
        assert_false(d->pubs[1].all_tables);
        assert_true(d->pubs[1].ins && d->pubs[1].upd && d->pubs[1].del && d->pubs[1].trunc);
        assert_int_equal(d->pubs[1].n_tables, 2);
        assert_string_equal(d->pubs[1].tables[0], "public.customers");
        assert_string_equal(d->pubs[1].tables[1], "public.orders");

        assert_int_equal(d->n_senders, 1);
        assert_int_equal(d->senders[0].pid, a->active_pid);
        assert_string_equal(d->senders[0].slot_name, "lo_active");
        assert_string_equal(d->senders[0].application_name, "pg_recvlogical");
        assert_string_equal(d->senders[0].user, "postgres");
        assert_string_equal(d->senders[0].client_addr, "127.0.0.1");
        assert_string_equal(d->senders[0].state, "streaming");
        assert_int_equal(postgres_lsn_parse(d->senders[0].sent_lsn, NULL), 0);
        coll_postgres_ops.data_free(d);

        /* Our session: application_name lambdaops, one connection reused. */
        v = tu_pg_query1(&pg, "SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name = 'lambdaops'");
        assert_string_equal(v, "1");
        free(v);
        assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
        coll_postgres_ops.data_free(d);
        v = tu_pg_query1(&pg, "SELECT count(*) FROM pg_stat_activity "
                         "WHERE application_name = 'lambdaops'");
        assert_string_equal(v, "1");
        free(v);
}

/* The session options the collector connects with are accepted by a real
 * server and do what they say: read-only, statement_timeout = the source
 * timeout, application_name lambdaops. */
static void test_session_settings(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        char **k, **v;
        struct err err;
        PGconn *c;
        PGresult *r;

        (void)st;
        assert_int_equal(pgconn_conn_params(src->kind_cfg, NULL, src->timeout_ms, &k, &v, &err), 0);
        c = PQconnectdbParams((const char *const *)k, (const char *const *)v, 0);
        pgconn_conn_params_free(k, v);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        r = PQexec(c, "SELECT current_setting('default_transaction_read_only'), "
                   "current_setting('statement_timeout'), current_setting('application_name')");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "on");
        assert_string_equal(PQgetvalue(r, 0, 1), "1500ms");
        assert_string_equal(PQgetvalue(r, 0, 2), "lambdaops");
        PQclear(r);
        r = PQexec(c, "CREATE TABLE lo_must_fail (x int)");
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        assert_non_null(strstr(PQresultErrorMessage(r), "read-only transaction"));
        PQclear(r);
        r = PQexec(c, "SELECT pg_sleep(3)");
        assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
        assert_non_null(strstr(PQresultErrorMessage(r), "statement timeout"));
        PQclear(r);
        PQfinish(c);
}

/* 2 ------------------------------------------------------------------------ */

static void test_lag_agrees_and_grows(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        struct pg_data *d1, *d2;
        const struct pg_slot *s1, *s2;
        int64_t srv1, srv2;
        struct err err;
        cJSON *o;
        char *json;

        (void)st;
        insert_rows(2000);
        assert_int_equal(it_poll(state, src, -1, &d1, &err, NULL), COLL_OK);
        srv1 = server_lag("lo_inactive");
        s1 = slot_named(d1, "lo_inactive");
        assert_non_null(s1);
        print_message("lag: collector %lld, server %lld bytes (%.3f%% apart)\n",
                      (long long)s1->lag_bytes, (long long)srv1,
                      100.0 * fabs((double)(s1->lag_bytes - srv1)) / (double)srv1);
        assert_true(srv1 > 100000);
        assert_true(fabs((double)(s1->lag_bytes - srv1)) <= 0.02 * (double)srv1);
        /* Slots are sorted by lag, largest first. */
        assert_true(d1->slots[0].lag_bytes >= d1->slots[1].lag_bytes);

        insert_rows(2000);
        assert_int_equal(it_poll(state, src, -1, &d2, &err, NULL), COLL_OK);
        srv2 = server_lag("lo_inactive");
        s2 = slot_named(d2, "lo_inactive");
        print_message("lag after 2000 more rows: collector %lld, server %lld bytes\n",
                      (long long)s2->lag_bytes, (long long)srv2);
        assert_true(fabs((double)(s2->lag_bytes - srv2)) <= 0.02 * (double)srv2);
        assert_true(s2->lag_bytes > s1->lag_bytes);
        assert_true(srv2 > srv1);
        /* Both grew by about the same amount. */
        assert_true(fabs((double)((s2->lag_bytes - s1->lag_bytes) - (srv2 - srv1))) <=
                    0.02 * (double)(srv2 - srv1));
        assert_true(s2->retained_bytes > s1->retained_bytes);
        assert_true(s2->lag_rate > 0);
        assert_true(s2->lag_hist.n >= 2);
        assert_true(s2->inactive_for_ms > s1->inactive_for_ms);
        assert_true(s2->eta_lost_s < 0);        /* unlimited max_slot_wal_keep_size */
        assert_true(d2->wal_bytes_per_sec > 0);
        assert_true(coll_postgres_ops.key_metric(d2) == (double)d2->slots[0].lag_bytes);

        /* JSON of real data. */
        o = cJSON_CreateObject();
        coll_postgres_ops.to_json(d2, o);
        json = cJSON_PrintUnformatted(o);
        assert_non_null(strstr(json, "\"name\":\"lo_inactive\""));
        assert_non_null(strstr(json, "\"wal_level\":\"logical\""));
        assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "slots")) == 2);
        free(json);
        cJSON_Delete(o);
        coll_postgres_ops.data_free(d1);
        coll_postgres_ops.data_free(d2);
}

/* 3 ------------------------------------------------------------------------ */

static void test_hung_backend_times_out(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        pid_t be = backend_pid("lambdaops");
        struct pg_data *d;
        struct err err;
        int64_t ms;

        (void)st;
        assert_true(be > 0);
        assert_int_equal(kill(be, SIGSTOP), 0);
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_DOWN);
        kill(be, SIGCONT);
        print_message("hung backend: DOWN after %lld ms (timeout %d): %s\n", (long long)ms,
                      IT_TIMEOUT_MS, err.msg);
        assert_null(d);
        assert_true(ms >= IT_TIMEOUT_MS - 50);
        assert_true(ms <= IT_TIMEOUT_MS + IT_MARGIN_MS);
        assert_non_null(strstr(err.msg, "timed out after 1500 ms"));
        /* Next poll: new connection, same state. */
        assert_int_equal(it_poll(state, src, -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(d->n_slots, 2);
        assert_true(slot_named(d, "lo_inactive")->lag_hist.n >= 3);     /* history kept */
        coll_postgres_ops.data_free(d);
}

/* 4 ------------------------------------------------------------------------ */

static void test_hung_postmaster(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        void *fresh = coll_postgres_ops.create(src);
        struct pg_data *d;
        struct err err;
        int64_t ms;
        int stop[2];
        char b = 1;

        (void)st;
        assert_int_equal(kill(pg.pid, SIGSTOP), 0);
        assert_int_equal(it_poll(fresh, src, -1, &d, &err, &ms), COLL_DOWN);
        print_message("hung postmaster: connect DOWN after %lld ms: %s\n", (long long)ms, err.msg);
        assert_true(ms >= IT_TIMEOUT_MS - 50 && ms <= IT_TIMEOUT_MS + IT_MARGIN_MS);
        assert_non_null(strstr(err.msg, "timed out"));
        assert_non_null(strstr(err.msg, "connecting to 127.0.0.1:"));

        /* Quit interrupts a poll with a ten-minute timeout long before it
         * (the one-minute bound leaves room for a loaded machine). */
        assert_int_equal(pipe(stop), 0);
        assert_int_equal(write(stop[1], &b, 1), 1);
        {
                struct source_cfg slow = *src;

                slow.timeout_ms = 600000;
                assert_int_equal(it_poll(fresh, &slow, stop[0], &d, &err, &ms), COLL_DOWN);
        }
        print_message("hung postmaster + quit: returned after %lld ms: %s\n", (long long)ms,
                      err.msg);
        assert_true(ms < 60000);
        close(stop[0]);
        close(stop[1]);

        assert_int_equal(kill(pg.pid, SIGCONT), 0);
        assert_int_equal(it_poll(fresh, src, -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(d->n_slots, 2);
        coll_postgres_ops.data_free(d);
        coll_postgres_ops.destroy(fresh);
}

/* 5 ------------------------------------------------------------------------ */

static void test_stop_and_restart(void **st)
{
        const struct source_cfg *src = &cfg->sources[0];
        struct pg_data *d;
        struct err err;
        int64_t ms;
        char where[64];

        (void)st;
        assert_int_equal(tu_pg_stop(&pg), 0);
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_DOWN);
        print_message("server stopped: DOWN after %lld ms: %s\n", (long long)ms, err.msg);
        assert_null(d);
        assert_true(ms <= IT_TIMEOUT_MS + IT_MARGIN_MS);
        snprintf(where, sizeof where, "127.0.0.1:%d", pg.port);
        assert_non_null(strstr(err.msg, "connection refused"));
        assert_non_null(strstr(err.msg, where));
        /* Still down, still refused (not a timeout). */
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_DOWN);
        assert_true(ms <= IT_TIMEOUT_MS + IT_MARGIN_MS);
        assert_non_null(strstr(err.msg, "connection refused"));

        assert_int_equal(tu_pg_restart(&pg), 0);
        assert_int_equal(it_poll(state, src, -1, &d, &err, &ms), COLL_OK);
        print_message("server restarted: OK after %lld ms\n", (long long)ms);
        assert_string_equal(err.msg, "");
        assert_int_equal(d->n_slots, 2);
        assert_non_null(slot_named(d, "lo_active"));
        assert_true(slot_named(d, "lo_inactive")->lag_hist.n >= 4);
        coll_postgres_ops.data_free(d);
        /* pg_recvlogical exited with the server; reap it. */
        tu_kill(recv_pid);
        recv_pid = -1;
        /* Free our backend for test 6, which finds its own by name. */
        coll_postgres_ops.destroy(state);
        state = coll_postgres_ops.create(src);
}

/* 6 ------------------------------------------------------------------------ */

static void test_runtime_and_stop_all_while_hung(void **st)
{
        char *dsn = tu_pg_dsn(&pg, NULL);
        struct config *c = it_config("rt-pg", dsn, NULL, "200ms", "10m");
        struct collector *cs[1];
        struct snapshot *s;
        const struct pg_data *d;
        pid_t be;
        uint64_t gen;
        int64_t t0, ms;

        (void)st;
        free(dsn);
        coll_postgres_ops.destroy(state);       /* only the runtime's session remains */
        state = NULL;
        cs[0] = collector_start(&c->sources[0], -1, false);
        assert_true(collector_wait_gen(cs[0], 3, clock_mono_ms() + 60000));
        s = collector_latest(cs[0], &gen);
        assert_non_null(s);
        assert_true(gen >= 3);
        assert_int_equal(s->status, COLL_OK);
        assert_string_equal(s->error, "");
        d = s->data;
        assert_int_equal(d->n_slots, 2);
        assert_true(d->slots[0].lag_bytes >= d->slots[1].lag_bytes);
        assert_true(s->key_value == (double)d->slots[0].lag_bytes);
        assert_true(s->key_hist.n >= 3);
        snapshot_unref(s);

        /* Hang everything the collector can talk to. */
        be = backend_pid("lambdaops");
        assert_int_equal(kill(pg.pid, SIGSTOP), 0);
        assert_int_equal(kill(be, SIGSTOP), 0);
        gen = collector_gen(cs[0]);
        collector_refresh(cs[0]);
        /* The collector is stuck in a poll (timeout is 10 min): at 200 ms
         * intervals it would publish several generations in 700 ms; stuck,
         * at most one poll that had its rows before SIGSTOP gets out. */
        assert_false(collector_wait_gen(cs[0], gen + 2, clock_mono_ms() + 700));
        t0 = clock_mono_ms();
        collector_stop_all(cs, 1);
        ms = clock_mono_ms() - t0;
        kill(be, SIGCONT);
        kill(pg.pid, SIGCONT);
        print_message("collector_stop_all with a hung server: %lld ms\n", (long long)ms);
        assert_null(cs[0]);
        /* Long before the poll's ten-minute timeout (the one-minute bound
         * leaves room for a loaded machine). */
        assert_true(ms < 60000);
        config_free(c);
        state = coll_postgres_ops.create(&cfg->sources[0]);
}

/* 7 ------------------------------------------------------------------------ */

static void test_wrong_password(void **st)
{
        static const char good[] = "right-Pw-9f3e", bad[] = "wrong-Pw-7c1d",
                          inline_bad[] = "inline-Wrong-55";
        char *dsn, *masked, *json, path[400], *extra;
        struct config *c;
        void *pst;
        struct pg_data *d;
        struct err err;
        int64_t ms;
        cJSON *o;
        FILE *f;

        (void)st;
        assert_int_equal(tu_pg_exec(&pg, "CREATE ROLE lo_pw LOGIN PASSWORD '%s'", good), 0);
        assert_int_equal(tu_pg_exec(&pg, "GRANT pg_monitor TO lo_pw"), 0);
        assert_int_equal(tu_pg_hba_prepend(&pg, "host all lo_pw 127.0.0.1/32 scram-sha-256"), 0);
        dsn = tu_pg_dsn(&pg, "lo_pw");

        /* Wrong password from the environment. */
        setenv("LO_IT_PG_PW", bad, 1);
        c = it_config("pw-pg", dsn, "    password_env: LO_IT_PG_PW\n", "1s", "1500ms");
        pst = coll_postgres_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, &ms), COLL_DOWN);
        print_message("wrong password: %s (%lld ms)\n", err.msg, (long long)ms);
        assert_null(d);
        assert_non_null(strstr(err.msg, "password authentication failed for user \"lo_pw\""));
        assert_null(strstr(err.msg, bad));

        /* Right password: OK, and the JSON holds no secret. */
        setenv("LO_IT_PG_PW", good, 1);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(d->n_slots, 2);
        assert_int_equal(d->n_senders, 0);
        o = cJSON_CreateObject();
        coll_postgres_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_null(strstr(json, good));
        free(json);
        cJSON_Delete(o);
        coll_postgres_ops.data_free(d);
        coll_postgres_ops.destroy(pst);
        config_free(c);
        unsetenv("LO_IT_PG_PW");

        /* No password at all. */
        c = it_config("pw-pg", dsn, NULL, "1s", "1500ms");
        pst = coll_postgres_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DOWN);
        assert_non_null(strstr(err.msg, "asks for a password but none is configured"));
        coll_postgres_ops.destroy(pst);
        config_free(c);

        /* A wrong password inside the dsn: masked, never echoed. */
        free(dsn);
        dsn = xasprintf("host=127.0.0.1 port=%d dbname=postgres user=lo_pw password=%s",
                        pg.port, inline_bad);
        c = it_config("pw-pg", dsn, NULL, "1s", "1500ms");
        pst = coll_postgres_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DOWN);
        assert_non_null(strstr(err.msg, "password authentication failed"));
        assert_null(strstr(err.msg, inline_bad));
        masked = pgconn_dsn_mask(dsn);
        assert_null(strstr(masked, inline_bad));
        assert_non_null(strstr(masked, "password=***"));
        free(masked);
        coll_postgres_ops.destroy(pst);
        config_free(c);
        free(dsn);

        /* The right password from a file. */
        snprintf(path, sizeof path, "%s/pw", pg.dir);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", good);
        fclose(f);
        dsn = tu_pg_dsn(&pg, "lo_pw");
        extra = xasprintf("    password_file: %s\n", path);
        c = it_config("pw-pg", dsn, extra, "1s", "1500ms");
        pst = coll_postgres_ops.create(&c->sources[0]);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        coll_postgres_ops.data_free(d);

        /* A hardened server hides a catalog view: DEGRADED, with the rest. */
        assert_int_equal(tu_pg_exec(&pg, "REVOKE SELECT ON pg_catalog.pg_publication_tables "
                                    "FROM PUBLIC"), 0);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_DEGRADED);
        print_message("degraded: %s\n", err.msg);
        assert_non_null(strstr(err.msg, "publications query: "));
        assert_non_null(strstr(err.msg, "permission denied for view pg_publication_tables"));
        assert_non_null(d);
        assert_int_equal(d->n_slots, 2);
        assert_int_equal(d->n_pubs, 0);
        assert_string_equal(d->wal_level, "logical");
        coll_postgres_ops.data_free(d);
        assert_int_equal(tu_pg_exec(&pg, "GRANT SELECT ON pg_catalog.pg_publication_tables "
                                    "TO PUBLIC"), 0);
        assert_int_equal(it_poll(pst, &c->sources[0], -1, &d, &err, NULL), COLL_OK);
        assert_int_equal(d->n_pubs, 2);
        coll_postgres_ops.data_free(d);
        coll_postgres_ops.destroy(pst);
        config_free(c);
        free(extra);
        free(dsn);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slots_publications_senders),
                cmocka_unit_test(test_session_settings),
                cmocka_unit_test(test_lag_agrees_and_grows),
                cmocka_unit_test(test_hung_backend_times_out),
                cmocka_unit_test(test_hung_postmaster),
                cmocka_unit_test(test_stop_and_restart),
                cmocka_unit_test(test_runtime_and_stop_all_while_hung),
                cmocka_unit_test(test_wrong_password),
        };

        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests_name("it_postgres", tests, group_setup, group_teardown);
}
