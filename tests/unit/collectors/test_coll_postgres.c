/*
 * Unit tests for the PostgreSQL collector's pure parts: LSNs, DSN masking,
 * connection parameters, libpq error messages, row parsing from
 * the TSV fixtures in tests/fixtures/postgres (PG12/13/15 shapes, NULLs), history-derived
 * rates, alert rules, JSON output, summary and config validation. No server.
 *
 * Fixture format: tab-separated, first non-comment line holds the column
 * names, `\N` is SQL NULL, lines starting with '#' are comments (what
 * `psql -A -F $'\t' --pset null='\N' -P footer=off` prints, plus a comment).
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
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/promtext.h"
#include "core/snapshot.h"
#include "collectors/postgres.h"
#include "tu.h"
#include "tu_promtool.h"
#include "core/util.h"

/* ---- fixture rows ------------------------------------------------------ */

struct tsv {
        int    nrows, ncols;
        char **names;           /* [ncols] */
        char **cells;           /* [nrows * ncols], NULL = SQL NULL */
        char  *buf;
};

static const char *tsv_name(const void *p, int col)
{
        const struct tsv *t = p;

        return t->names[col];
}

static const char *tsv_value(const void *p, int row, int col)
{
        const struct tsv *t = p;

        return t->cells[row * t->ncols + col];
}

static int tsv_split(char *line, char **out, int max)
{
        int n = 0;

        for (char *p = line;; ) {
                char *tab = strchr(p, '\t');

                if (n < max)
                        out[n] = p;
                n++;
                if (!tab)
                        break;
                *tab = '\0';
                p = tab + 1;
        }
        return n;
}

static struct tsv *tsv_load(const char *name)
{
        char rel[256], *line, *save = NULL;
        struct tsv *t = xcalloc(1, sizeof *t);
        char *fields[64];

        snprintf(rel, sizeof rel, "tests/fixtures/postgres/%s", name);
        t->buf = tu_read_file(tu_src_path(rel), NULL);
        assert_non_null(t->buf);
        for (line = strtok_r(t->buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                int n;

                if (line[0] == '#' || !line[0])
                        continue;
                n = tsv_split(line, fields, 64);
                assert_true(n <= 64);
                if (!t->names) {
                        t->ncols = n;
                        t->names = xcalloc((size_t)n, sizeof *t->names);
                        memcpy(t->names, fields, (size_t)n * sizeof *fields);
                        continue;
                }
                assert_int_equal(n, t->ncols);
                t->cells = xrealloc(t->cells,
                                    (size_t)(t->nrows + 1) * (size_t)n * sizeof *t->cells);
                for (int i = 0; i < n; i++)
                        t->cells[t->nrows * n + i] = strcmp(fields[i],
                                                            "\\N") == 0 ? NULL : fields[i];
                t->nrows++;
        }
        return t;
}

static struct pg_rows tsv_rows(const struct tsv *t)
{
        return (struct pg_rows){ .nrows = t->nrows, .ncols = t->ncols, .name = tsv_name,
                                 .value = tsv_value, .src = t };
}

static void tsv_free(struct tsv *t)
{
        free(t->names);
        free(t->cells);
        free(t->buf);
        free(t);
}

/* Parses one fixture into d with the given parser. */
static int load_into(const char *file, int (*parse)(const struct pg_rows *, struct pg_data *,
                                                     struct err *),
                     struct pg_data *d, struct err *err)
{
        struct tsv *t = tsv_load(file);
        struct pg_rows r = tsv_rows(t);
        int rc = parse(&r, d, err);

        tsv_free(t);
        return rc;
}

static struct pg_data *data_new(void)
{
        struct pg_data *d = xcalloc(1, sizeof *d);

        d->wal_bytes_per_sec = NAN;
        d->max_replication_slots = d->max_wal_senders = -1;
        d->max_slot_wal_keep_size = -1;
        return d;
}

static const struct pg_slot *find_slot(const struct pg_data *d, const char *name)
{
        for (size_t i = 0; i < d->n_slots; i++)
                if (strcmp(d->slots[i].name, name) == 0)
                        return &d->slots[i];
        return NULL;
}

/* ---- a hand-built source ---------------------------------------------- */

static struct threshold thr[8];
static struct pg_cfg pcfg;
static struct source_cfg psrc;

static void src_reset(void)
{
        size_t n = 0;

        memset(&pcfg, 0, sizeof pcfg);
        memset(&psrc, 0, sizeof psrc);
        for (; coll_postgres_ops.thresholds[n].name; n++) {
                thr[n].def = &coll_postgres_ops.thresholds[n];
                thr[n].warn = thr[n].def->warn;
                thr[n].crit = thr[n].def->crit;
        }
        psrc.name = "orders-db";
        psrc.kind = "postgres";
        psrc.ops = &coll_postgres_ops;
        psrc.interval_ms = 1000;
        psrc.timeout_ms = 2000;
        psrc.thresholds = thr;
        psrc.n_thresholds = n;
        psrc.kind_cfg = &pcfg;
}

static struct threshold *thr_get(const char *name)
{
        for (size_t i = 0; i < psrc.n_thresholds; i++)
                if (strcmp(thr[i].def->name, name) == 0)
                        return &thr[i];
        fail_msg("no threshold %s", name);
        return NULL;
}

static int setup(void **state)
{
        (void)state;
        src_reset();
        return 0;
}

/* ---- LSN ----------------------------------------------------------------- */

static void test_lsn_parse(void **state)
{
        static const struct { const char *s; uint64_t v; } ok[] = {
                { "0/0", 0 },
                { "0/152B720", 0x152B720 },
                { "3/4C0012A8", (3ULL << 32) | 0x4C0012A8 },
                { "a/b", (10ULL << 32) | 11 },
                { "00000001/00000000", 1ULL << 32 },
                { "FFFFFFFF/FFFFFFFF", UINT64_MAX },
        };
        static const char *const bad[] = {
                "", "/", "1/", "/1", "0", "123456789/0", "0/123456789", "G/0", "0/G",
                " 0/0", "0/0 ", "0x1/0", "-1/0", "+1/0", "0//0", "0/0/0", "1/-1",
        };
        uint64_t v;

        for (size_t i = 0; i < LO_ARRAY_LEN(ok); i++) {
                v = 12345;
                assert_int_equal(postgres_lsn_parse(ok[i].s, &v), 0);
                assert_true(v == ok[i].v);
        }
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                v = 12345;
                if (postgres_lsn_parse(bad[i], &v) != -1)
                        fail_msg("accepted bad LSN \"%s\"", bad[i]);
                assert_true(v == 12345);
        }
        assert_int_equal(postgres_lsn_parse(NULL, &v), -1);
        assert_int_equal(postgres_lsn_parse("1/2", NULL), 0);
}

/* ---- DSN masking --------------------------------------------------------- */

static void check_mask(const char *in, const char *want)
{
        char *got = pgconn_dsn_mask(in);

        if (strcmp(got, want) != 0)
                fail_msg("mask(%s) = %s, want %s", in, got, want);
        free(got);
}

static void test_dsn_mask(void **state)
{
        (void)state;
        assert_null(pgconn_dsn_mask(NULL));
        check_mask("", "");
        check_mask("host=127.0.0.1 port=5432 dbname=orders user=lambdaops",
                   "host=127.0.0.1 port=5432 dbname=orders user=lambdaops");
        check_mask("host=db password=s3cret dbname=x", "host=db password=*** dbname=x");
        check_mask("password=s3cret", "password=***");
        check_mask("host=db password = s3cret", "host=db password = ***");
        check_mask("host=db password='se cr\\'et x' user=u", "host=db password=*** user=u");
        check_mask("host=db password=se\\ cret user=u", "host=db password=*** user=u");
        check_mask("PASSWORD=x host=h", "PASSWORD=*** host=h");
        check_mask("password=a password=b", "password=*** password=***");
        check_mask("passfile=/etc/pgpass host=h", "passfile=/etc/pgpass host=h");
        check_mask("user=password host=h", "user=password host=h");
        check_mask("host=h password='unterminated rest", "host=h password=***");
        check_mask("host=h password", "host=h password");
        check_mask("host=h password secret", "host=h password ***");
        /* Found by fuzz/fuzz_postgres: more keys after a malformed password. */
        check_mask("password secret host=h password=x", "password ***");
        check_mask("a=b password s password t", "a=b password ***");
        /* URI forms. */
        check_mask("postgresql://u:pw@host/db", "postgresql://u:***@host/db");
        check_mask("postgres://u:p%40ss@h:5432,h2:5433/db?sslmode=require",
                   "postgres://u:***@h:5432,h2:5433/db?sslmode=require");
        check_mask("postgresql://u@host/db", "postgresql://u@host/db");
        check_mask("postgresql://host:5432/db", "postgresql://host:5432/db");
        check_mask("postgresql://u@h/db?password=x&sslmode=require",
                   "postgresql://u@h/db?password=***&sslmode=require");
        check_mask("postgresql://u:a@b@h/db?application_name=x&password=y",
                   "postgresql://u:***@h/db?application_name=x&password=***");
        check_mask("POSTGRESQL://u:pw@h", "POSTGRESQL://u:***@h");
}

/* ---- connection parameters ---------------------------------------------- */

static const char *kv(char **k, char **v, const char *key)
{
        for (size_t i = 0; k[i]; i++)
                if (strcmp(k[i], key) == 0)
                        return v[i];
        return NULL;
}

static void test_conn_params(void **state)
{
        char **k, **v;
        struct err err;

        (void)state;
        pcfg.dsn = "host=127.0.0.1 port=5432 dbname=orders user=lambdaops password=indsn";
        assert_int_equal(pgconn_conn_params(&pcfg, NULL, 3000, &k, &v, &err), 0);
        assert_string_equal(kv(k, v, "host"), "127.0.0.1");
        assert_string_equal(kv(k, v, "port"), "5432");
        assert_string_equal(kv(k, v, "dbname"), "orders");
        assert_string_equal(kv(k, v, "user"), "lambdaops");
        assert_string_equal(kv(k, v, "password"), "indsn");
        assert_string_equal(kv(k, v, "fallback_application_name"), "lambdaops");
        assert_string_equal(kv(k, v, "options"),
                            "-c default_transaction_read_only=on -c statement_timeout=3000");
        assert_null(kv(k, v, "sslmode"));
        pgconn_conn_params_free(k, v);

        /* password_env wins over the dsn; sslmode override; options merged;
         * an explicit application_name is kept. */
        pcfg.sslmode = "require";
        pcfg.dsn = "postgresql://u:indsn@db.internal:6432/orders?options=-c%20work_mem%3D4MB"
                   "&application_name=etl";
        assert_int_equal(pgconn_conn_params(&pcfg, "fromenv", 1500, &k, &v, &err), 0);
        assert_string_equal(kv(k, v, "host"), "db.internal");
        assert_string_equal(kv(k, v, "port"), "6432");
        assert_string_equal(kv(k, v, "user"), "u");
        assert_string_equal(kv(k, v, "password"), "fromenv");
        assert_string_equal(kv(k, v, "sslmode"), "require");
        assert_string_equal(kv(k, v, "application_name"), "etl");
        assert_string_equal(kv(k, v, "options"),
                            "-c work_mem=4MB -c default_transaction_read_only=on "
                            "-c statement_timeout=1500");
        pgconn_conn_params_free(k, v);

        /* Invalid: the message names the problem but never the password. */
        pcfg.sslmode = NULL;
        pcfg.dsn = "postgresql://u:p%zzsecret@h/db";
        assert_int_equal(pgconn_conn_params(&pcfg, NULL, 1000, &k, &v, &err), -1);
        assert_null(k);
        assert_non_null(strstr(err.msg, "dsn is not a valid libpq connection string"));
        assert_non_null(strstr(err.msg, "percent-encoded"));
        assert_null(strstr(err.msg, "zzsecret"));
        pcfg.dsn = "host=h passwrd=x";
        assert_int_equal(pgconn_conn_params(&pcfg, NULL, 1000, &k, &v, &err), -1);
        assert_string_equal(err.msg, "dsn is not a valid libpq connection string: "
                            "invalid connection option \"passwrd\"");
        /* A password that occurs in "***" itself must not loop (fuzz find).
         * A secret shorter than 3 bytes is masked only as the whole text
         * (core/redact.h): masking every '*' would garble the message. */
        pcfg.dsn = "host=h pass*wrd=x";
        assert_int_equal(pgconn_conn_params(&pcfg, "*", 1000, &k, &v, &err), -1);
        assert_string_equal(err.msg, "dsn is not a valid libpq connection string: "
                            "invalid connection option \"pass*wrd\"");
        pcfg.dsn = "host=h password='abc";
        assert_int_equal(pgconn_conn_params(&pcfg, NULL, 1000, &k, &v, &err), -1);
        assert_null(strstr(err.msg, "abc"));
}

/* ---- libpq error messages ----------------------------------------------- */

static void check_errmsg(const char *in, const char *host, const char *port, const char *want)
{
        char out[256];

        pgconn_errmsg_clean(in, host, port, out, sizeof out);
        if (strcmp(out, want) != 0)
                fail_msg("clean(%s) = \"%s\", want \"%s\"", in, out, want);
}

static void test_errmsg(void **state)
{
        (void)state;
        check_errmsg("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n"
                     "\tIs the server running on that host and accepting TCP/IP connections?\n",
                     "127.0.0.1", "5432",
                     "connection refused: is PostgreSQL running at 127.0.0.1:5432?");
        check_errmsg("connection to server at \"127.0.0.1\", port 45121 failed: FATAL:  password "
                     "authentication failed for user \"lo_pw\"\n", "127.0.0.1", "45121",
                     "password authentication failed for user \"lo_pw\" at 127.0.0.1:45121 "
                     "(check password_env/password_file)");
        check_errmsg("connection to server at \"127.0.0.1\", port 45121 failed: fe_sendauth: no "
                     "password supplied\n", "127.0.0.1", "45121",
                     "127.0.0.1:45121 asks for a password but none is configured "
                     "(set password_env or password_file)");
        check_errmsg("connection to server at \"127.0.0.1\", port 45121 failed: FATAL:  database "
                     "\"nope\" does not exist\n", "127.0.0.1", "45121",
                     "127.0.0.1:45121: database \"nope\" does not exist");
        check_errmsg("could not translate host name \"nonexistent.invalid\" to address: Name or "
                     "service not known\n", "nonexistent.invalid", "5432",
                     "could not translate host name \"nonexistent.invalid\" to address: Name or "
                     "service not known");
        check_errmsg("server closed the connection unexpectedly\n\tThis probably means the server "
                     "terminated abnormally\n", "db", NULL,
                     "db:5432 closed the connection unexpectedly (server restarted or crashed?)");
        check_errmsg("ERROR:  permission denied for table pg_authid\n", "db", "5433",
                     "db:5433: permission denied for table pg_authid");
        check_errmsg("", NULL, NULL, "the server: unknown libpq error");
        check_errmsg(NULL, "h", "1", "h:1: unknown libpq error");
}

/* ---- row parsing --------------------------------------------------------- */

static void test_parse_overview(void **state)
{
        struct pg_data *d = data_new();
        struct err err;

        (void)state;
        assert_int_equal(load_into("overview_pg15.tsv", postgres_parse_overview, d, &err), 0);
        assert_string_equal(d->server_version, "15.18 (Debian 15.18-0+deb12u1)");
        assert_int_equal(d->server_version_num, 150018);
        assert_false(d->in_recovery);
        assert_string_equal(d->wal_level, "logical");
        assert_int_equal(d->max_replication_slots, 10);
        assert_int_equal(d->max_wal_senders, 10);
        assert_string_equal(d->current_lsn, "0/2055F08");
        assert_int_equal(d->max_slot_wal_keep_size, -1);

        /* Parsing again replaces the strings (no leak under ASan). */
        assert_int_equal(load_into("overview_pg13_standby.tsv", postgres_parse_overview, d, &err),
                         0);
        assert_string_equal(d->server_version, "13.14");
        assert_int_equal(d->server_version_num, 130014);
        assert_true(d->in_recovery);
        assert_string_equal(d->wal_level, "replica");
        assert_int_equal(d->max_replication_slots, 16);
        assert_int_equal(d->max_wal_senders, 12);
        assert_string_equal(d->current_lsn, "3/4C1F0000");
        assert_true(d->max_slot_wal_keep_size == 10737418240LL);

        assert_int_equal(load_into("overview_pg12.tsv", postgres_parse_overview, d, &err), 0);
        assert_int_equal(d->server_version_num, 120018);
        assert_string_equal(d->current_lsn, "");
        assert_int_equal(d->max_slot_wal_keep_size, -1);

        /* Wrong shapes. */
        assert_int_equal(load_into("slots_pg15.tsv", postgres_parse_overview, d, &err), -1);
        assert_string_equal(err.msg, "overview query: no server_version/server_version_num column");
        postgres_data_free(d);
}

static void test_parse_slots_pg15(void **state)
{
        struct pg_data *d = data_new();
        const struct pg_slot *s;
        struct err err;

        (void)state;
        str_copy(d->current_lsn, "0/2055D78", sizeof d->current_lsn);
        assert_int_equal(load_into("slots_pg15.tsv", postgres_parse_slots, d, &err), 0);
        assert_int_equal(d->n_slots, 5);
        /* Sorted by lag, largest first; slots without a lag last, by name. */
        assert_string_equal(d->slots[0].name, "old_consumer");
        assert_string_equal(d->slots[1].name, "analytics_stale");
        assert_string_equal(d->slots[2].name, "debezium_orders");
        assert_string_equal(d->slots[3].name, "tmp_snapshot");
        assert_string_equal(d->slots[4].name, "standby_1");

        s = &d->slots[1];
        assert_string_equal(s->plugin, "pgoutput");
        assert_string_equal(s->type, "logical");
        assert_string_equal(s->database, "postgres");
        assert_false(s->temporary);
        assert_false(s->active);
        assert_int_equal(s->active_pid, 0);
        assert_string_equal(s->restart_lsn, "0/152B720");
        assert_string_equal(s->confirmed_flush_lsn, "0/152B758");
        assert_true(s->has_lag);
        assert_int_equal(s->lag_bytes, 11707936);
        /* The server's pg_wal_lsn_diff agrees with the LSN arithmetic. */
        assert_int_equal(s->lag_bytes, 0x2055D78 - 0x152B758);
        assert_int_equal(s->retained_bytes, 0x2055D78 - 0x152B720);
        assert_true(s->has_retained);
        assert_int_equal(s->retained_bytes, 11707992);
        assert_string_equal(s->wal_status, "reserved");
        assert_false(s->has_safe_wal_size);
        assert_true(s->eta_lost_s < 0);
        assert_int_equal(s->inactive_for_ms, 0);

        s = &d->slots[2];
        assert_true(s->active);
        assert_int_equal(s->active_pid, 5788);
        assert_int_equal(s->lag_bytes, 13232);
        assert_int_equal(s->retained_bytes, 188640);

        s = find_slot(d, "standby_1");
        assert_null(s->plugin);
        assert_string_equal(s->type, "physical");
        assert_null(s->database);
        assert_string_equal(s->confirmed_flush_lsn, "");
        assert_false(s->has_lag);
        assert_true(s->has_retained);
        assert_int_equal(s->retained_bytes, 0x2055D78 - 0x2000000);
        assert_string_equal(s->wal_status, "extended");
        assert_true(s->has_safe_wal_size);
        assert_int_equal(s->safe_wal_size, 1073741824);

        s = find_slot(d, "tmp_snapshot");
        assert_true(s->temporary);
        assert_string_equal(s->plugin, "wal2json");
        assert_string_equal(s->database, "shop");
        assert_true(s->has_lag);
        assert_int_equal(s->lag_bytes, 0);

        s = find_slot(d, "old_consumer");
        assert_string_equal(s->restart_lsn, "");
        assert_true(s->has_lag);
        assert_int_equal(s->lag_bytes, 0x2055D78 - 0x10000);
        assert_false(s->has_retained);
        assert_string_equal(s->wal_status, "lost");
        postgres_data_free(d);
}

static void test_parse_slots_pg12(void **state)
{
        struct pg_data *d = data_new();
        struct err err;

        (void)state;
        assert_int_equal(load_into("slots_pg12.tsv", postgres_parse_slots, d, &err), 0);
        assert_int_equal(d->n_slots, 2);
        assert_string_equal(d->slots[0].name, "stale");
        assert_int_equal(d->slots[0].lag_bytes, 1278148592);
        assert_int_equal(d->slots[0].retained_bytes, 1278148608);
        assert_null(d->slots[0].wal_status);
        assert_false(d->slots[0].has_safe_wal_size);
        assert_string_equal(d->slots[1].name, "debezium");
        assert_int_equal(d->slots[1].active_pid, 48213);
        assert_int_equal(d->slots[1].lag_bytes, 1048576);
        assert_int_equal(d->slots[1].retained_bytes, 3075416);
        assert_null(d->slots[1].wal_status);
        postgres_data_free(d);
}

/* In-code rows: a query without lag columns falls back to LSN arithmetic
 * against current_lsn; numeric text ("12.000") parses; garbage is NULL. */
static const char *const inline_names[] = {
        "slot_name", "active", "restart_lsn", "confirmed_flush_lsn", "safe_wal_size", "inactive_ms",
};
static const char *const inline_cells[][6] = {
        { "a", "f", "3/0", "3/10", "12.000", "90000" },
        { "b", "t", "3/4C2F0000", "bogus", "x", "90000" },
        { NULL, "t", "0/0", "0/0", NULL, NULL },
};

static const char *inline_name(const void *rows, int col)
{
        (void)rows;
        return inline_names[col];
}

static const char *inline_value(const void *rows, int row, int col)
{
        (void)rows;
        return inline_cells[row][col];
}

static void test_parse_slots_inline(void **state)
{
        struct pg_rows r = { .nrows = 3, .ncols = 6, .name = inline_name, .value = inline_value };
        struct pg_data *d = data_new();
        struct err err;

        (void)state;
        str_copy(d->current_lsn, "3/4C2F0000", sizeof d->current_lsn);
        assert_int_equal(postgres_parse_slots(&r, d, &err), 0);
        assert_int_equal(d->n_slots, 2);        /* the NULL-named row is skipped */
        assert_string_equal(d->slots[0].name, "a");
        assert_true(d->slots[0].has_lag);
        assert_int_equal(d->slots[0].lag_bytes, 0x4C2F0000 - 0x10);
        assert_int_equal(d->slots[0].retained_bytes, 0x4C2F0000);
        assert_true(d->slots[0].has_safe_wal_size);
        assert_int_equal(d->slots[0].safe_wal_size, 12);
        assert_int_equal(d->slots[0].inactive_for_ms, 90000);   /* PG17 inactive_since */
        assert_null(d->slots[0].plugin);
        assert_null(d->slots[0].type);
        assert_string_equal(d->slots[1].name, "b");
        assert_false(d->slots[1].has_lag);
        assert_true(d->slots[1].has_retained);
        assert_int_equal(d->slots[1].retained_bytes, 0);
        assert_false(d->slots[1].has_safe_wal_size);
        assert_int_equal(d->slots[1].inactive_for_ms, 0);       /* active */
        postgres_data_free(d);

        /* Missing the one required column. */
        d = data_new();
        assert_int_equal(load_into("pubs_pg15.tsv", postgres_parse_slots, d, &err), -1);
        assert_string_equal(err.msg, "slots query: no slot_name column");
        postgres_data_free(d);
}

static void test_parse_publications(void **state)
{
        struct pg_data *d = data_new();
        struct err err;

        (void)state;
        assert_int_equal(load_into("pubs_pg15.tsv", postgres_parse_publications, d, &err), 0);
        assert_int_equal(d->n_pubs, 3);
        assert_string_equal(d->pubs[0].name, "dbz_publication");
        assert_false(d->pubs[0].all_tables);
        assert_true(d->pubs[0].ins && d->pubs[0].upd && d->pubs[0].del && d->pubs[0].trunc);
        assert_false(d->pubs[0].via_root);
        assert_int_equal(d->pubs[0].n_tables, 2);
        assert_string_equal(d->pubs[0].tables[0], "public.customers");
        assert_string_equal(d->pubs[0].tables[1], "public.orders");
        assert_string_equal(d->pubs[1].name, "empty_pub");
        assert_int_equal(d->pubs[1].n_tables, 0);
        assert_true(d->pubs[1].ins);
        assert_false(d->pubs[1].upd || d->pubs[1].del || d->pubs[1].trunc);
        assert_string_equal(d->pubs[2].name, "everything");
        assert_true(d->pubs[2].all_tables);
        assert_true(d->pubs[2].via_root);
        assert_int_equal(d->pubs[2].n_tables, 0);
        postgres_data_free(d);

        d = data_new();
        assert_int_equal(load_into("senders_pg15.tsv", postgres_parse_publications, d, &err), -1);
        assert_string_equal(err.msg, "publications query: no pubname column");
        postgres_data_free(d);
}

static void test_parse_senders(void **state)
{
        struct pg_data *d = data_new();
        const struct pg_sender *s;
        struct err err;

        (void)state;
        assert_int_equal(load_into("senders_pg15.tsv", postgres_parse_senders, d, &err), 0);
        assert_int_equal(d->n_senders, 2);
        s = &d->senders[0];
        assert_int_equal(s->pid, 5788);
        assert_string_equal(s->user, "postgres");
        assert_string_equal(s->application_name, "pg_recvlogical");
        assert_string_equal(s->client_addr, "127.0.0.1");
        assert_string_equal(s->state, "streaming");
        assert_string_equal(s->sync_state, "async");
        assert_string_equal(s->sent_lsn, "0/2056A78");
        assert_string_equal(s->write_lsn, "0/20529C8");
        assert_string_equal(s->flush_lsn, "0/20529C8");
        assert_string_equal(s->replay_lsn, "");
        assert_int_equal(s->write_lag_ms, 6);
        assert_int_equal(s->flush_lag_ms, 6);
        assert_int_equal(s->replay_lag_ms, 275568);
        assert_string_equal(s->slot_name, "debezium_orders");
        s = &d->senders[1];
        assert_int_equal(s->pid, 6001);
        assert_null(s->client_addr);
        assert_string_equal(s->replay_lsn, "0/1F00000");
        assert_int_equal(s->write_lag_ms, -1);
        assert_int_equal(s->flush_lag_ms, -1);
        assert_int_equal(s->replay_lag_ms, -1);
        assert_string_equal(s->slot_name, "standby_1");
        postgres_data_free(d);
}

/* ---- history ------------------------------------------------------------- */

/* A pg_data with one slot per name given, all at the given lag/retained. */
static struct pg_data *hist_data(const char *lsn, const char *name, bool active, int64_t lag,
                                 int64_t retained, int64_t safe)
{
        struct pg_data *d = data_new();

        str_copy(d->current_lsn, lsn, sizeof d->current_lsn);
        if (name) {
                d->slots = xcalloc(1, sizeof *d->slots);
                d->n_slots = 1;
                d->slots[0].name = xstrdup(name);
                d->slots[0].active = active;
                d->slots[0].has_lag = true;
                d->slots[0].lag_bytes = lag;
                d->slots[0].has_retained = true;
                d->slots[0].retained_bytes = retained;
                d->slots[0].has_safe_wal_size = safe >= 0;
                d->slots[0].safe_wal_size = safe;
                d->slots[0].eta_lost_s = -1;
        }
        return d;
}

static void test_history(void **state)
{
        struct pg_history *h = postgres_history_new();
        struct pg_data *d;

        (void)state;
        /* First poll: no rate yet. */
        d = hist_data("0/1000000", "s", false, 1000, 2000, 100000000);
        postgres_history_apply(h, d, 10000);
        assert_true(isnan(d->wal_bytes_per_sec));
        assert_int_equal(d->wal_hist.n, 0);
        assert_true(d->slots[0].lag_rate == 0);
        assert_true(d->slots[0].eta_lost_s < 0);
        assert_int_equal(d->slots[0].inactive_for_ms, 0);
        assert_int_equal(d->slots[0].lag_hist.n, 1);
        postgres_data_free(d);

        /* 2 s later, 0x200000 bytes of WAL: 1 MiB/s; lag +2 MiB, retained
         * +2 MiB, so safe_wal_size 100 MB lasts 100e6 / 1048576 s. */
        d = hist_data("0/1200000", "s", false, 1000 + 2097152, 2000 + 2097152, 100000000);
        postgres_history_apply(h, d, 12000);
        assert_true(d->wal_bytes_per_sec == 1048576.0);
        assert_int_equal(d->wal_hist.n, 1);
        assert_true(fabs(d->slots[0].lag_rate - 1048576.0) < 1e-6);
        assert_true(fabs(d->slots[0].retained_rate - 1048576.0) < 1e-6);
        assert_true(fabs(d->slots[0].eta_lost_s - 100000000.0 / 1048576.0) < 1e-6);
        assert_int_equal(d->slots[0].inactive_for_ms, 2000);
        assert_int_equal(d->slots[0].lag_hist.n, 2);
        assert_int_equal(d->slots[0].retained_hist.n, 2);
        postgres_data_free(d);

        /* Slot becomes active: inactive time resets; lag shrinking. */
        d = hist_data("0/1200000", "s", true, 0, 2000, -1);
        postgres_history_apply(h, d, 14000);
        assert_true(d->wal_bytes_per_sec == 0.0);
        assert_int_equal(d->slots[0].inactive_for_ms, 0);
        assert_true(d->slots[0].eta_lost_s < 0);        /* no safe_wal_size */
        assert_int_equal(d->slots[0].lag_hist.n, 3);
        postgres_data_free(d);

        /* Inactive again: counts from this poll. */
        d = hist_data("0/1200000", "s", false, 0, 2000, -1);
        postgres_history_apply(h, d, 15000);
        assert_int_equal(d->slots[0].inactive_for_ms, 0);
        postgres_data_free(d);
        d = hist_data("0/1200000", "s", false, 0, 2000, -1);
        postgres_history_apply(h, d, 15500);
        assert_int_equal(d->slots[0].inactive_for_ms, 500);
        postgres_data_free(d);

        /* The slot disappears: its history is forgotten; a new slot with
         * the same name starts from scratch. */
        d = hist_data("0/1200000", NULL, false, 0, 0, -1);
        postgres_history_apply(h, d, 16000);
        postgres_data_free(d);
        d = hist_data("0/1200000", "s", false, 5, 5, -1);
        postgres_history_apply(h, d, 17000);
        assert_int_equal(d->slots[0].lag_hist.n, 1);
        assert_int_equal(d->slots[0].inactive_for_ms, 0);
        postgres_data_free(d);

        /* LSN going backwards (another server) resets the WAL rate; the
         * same timestamp twice gives no rate. */
        d = hist_data("0/100", NULL, false, 0, 0, -1);
        postgres_history_apply(h, d, 18000);
        assert_true(isnan(d->wal_bytes_per_sec));
        assert_int_equal(d->wal_hist.n, 0);
        postgres_data_free(d);
        d = hist_data("0/200", NULL, false, 0, 0, -1);
        postgres_history_apply(h, d, 18000);
        assert_true(isnan(d->wal_bytes_per_sec));
        postgres_data_free(d);
        d = hist_data("0/500", NULL, false, 0, 0, -1);
        postgres_history_apply(h, d, 19000);
        assert_true(d->wal_bytes_per_sec == (double)(0x500 - 0x100));
        postgres_data_free(d);
        /* Unknown current LSN (standby before streaming): no rate. */
        d = hist_data("", NULL, false, 0, 0, -1);
        postgres_history_apply(h, d, 20000);
        assert_true(isnan(d->wal_bytes_per_sec));
        postgres_data_free(d);
        postgres_history_free(h);
        postgres_history_free(NULL);
}

/* ---- alerts, JSON, summary ------------------------------------------------ */

static struct pg_slot *add_slot(struct pg_data *d, const char *name, bool active)
{
        struct pg_slot *s;

        d->slots = xrealloc(d->slots, (d->n_slots + 1) * sizeof *d->slots);
        s = &d->slots[d->n_slots++];
        memset(s, 0, sizeof *s);
        s->name = xstrdup(name);
        s->plugin = xstrdup("pgoutput");
        s->type = xstrdup("logical");
        s->database = xstrdup("orders");
        s->active = active;
        s->eta_lost_s = -1;
        ring_init(&s->lag_hist);
        ring_init(&s->retained_hist);
        return s;
}

static struct pg_sender *add_sender(struct pg_data *d, int pid, const char *app)
{
        struct pg_sender *s;

        d->senders = xrealloc(d->senders, (d->n_senders + 1) * sizeof *d->senders);
        s = &d->senders[d->n_senders++];
        memset(s, 0, sizeof *s);
        s->pid = pid;
        s->application_name = xstrdup(app);
        s->write_lag_ms = s->flush_lag_ms = s->replay_lag_ms = -1;
        return s;
}

static struct pg_data *alert_data(void)
{
        struct pg_data *d = data_new();
        struct pg_slot *s;
        struct pg_sender *w;

        d->wal_level = xstrdup("replica");
        s = add_slot(d, "analytics_stale", false);
        s->has_lag = true;
        s->lag_bytes = 12 * 1048576;
        s->has_retained = true;
        s->retained_bytes = 12 * 1048576 + 56;
        s->inactive_for_ms = 400000;
        s->wal_status = xstrdup("extended");
        s->has_safe_wal_size = true;
        s->safe_wal_size = 1073741824;
        s->retained_rate = 1048576;
        s->eta_lost_s = 1024;
        s = add_slot(d, "debezium_orders", true);
        s->active_pid = 4242;
        s->has_lag = true;
        s->lag_bytes = 1000;
        s->wal_status = xstrdup("reserved");
        s = add_slot(d, "gone", false);
        s->wal_status = xstrdup("lost");
        s->eta_lost_s = 10;                     /* ignored: already lost */
        s = add_slot(d, "unres", false);
        s->has_retained = true;
        s->retained_bytes = 9LL * 1024 * 1048576;
        s->inactive_for_ms = 2000000;
        s->wal_status = xstrdup("unreserved");
        w = add_sender(d, 5788, "pg_recvlogical");
        w->flush_lag_ms = 400000;               /* no replay position: flush lag counts */
        w->replay_lag_ms = 999999999;
        w = add_sender(d, 6001, "walreceiver");
        str_copy(w->replay_lsn, "0/1", sizeof w->replay_lsn);
        w->replay_lag_ms = 45000;
        w = add_sender(d, 77, "");
        str_copy(w->replay_lsn, "0/1", sizeof w->replay_lsn);
        w->replay_lag_ms = 10;
        return d;
}

struct want_alert {
        enum severity sev;
        const char *metric, *subject;
        double value, threshold;
        const char *message;
};

static void test_alerts(void **state)
{
        static const struct want_alert want[] = {
                { SEV_WARN, "wal_level", "", NAN, NAN,
                  "wal_level is replica; logical decoding (CDC) needs wal_level=logical "
                  "(server restart required)" },
                { SEV_WARN, "slot_lag_bytes", "analytics_stale", 12 * 1048576.0, 4 * 1048576.0,
                  "slot analytics_stale lag 12.0 MiB >= warn 4.0 MiB" },
                { SEV_WARN, "slot_inactive_ms", "analytics_stale", 400000, 300000,
                  "slot analytics_stale inactive for 6m40s >= warn 5m00s" },
                { SEV_WARN, "wal_status", "analytics_stale", NAN, NAN,
                  "slot analytics_stale wal_status extended: it retains WAL beyond max_wal_size" },
                { SEV_CRIT, "eta_lost_s", "analytics_stale", 1024, 3600,
                  "slot analytics_stale will lose its WAL in about 17m04s (safe_wal_size 1.0 GiB, "
                  "retained WAL growing 1.0 MiB/s)" },
                { SEV_CRIT, "wal_status", "gone", NAN, NAN,
                  "slot gone wal_status lost: required WAL was removed; the consumer must "
                  "re-snapshot" },
                { SEV_CRIT, "retained_bytes", "unres", 9.0 * 1024 * 1048576, 8.0 * 1024 * 1048576,
                  "slot unres retained WAL 9.0 GiB >= crit 8.0 GiB" },
                { SEV_CRIT, "slot_inactive_ms", "unres", 2000000, 1800000,
                  "slot unres inactive for 33m20s >= crit 30m00s" },
                { SEV_CRIT, "wal_status", "unres", NAN, NAN,
                  "slot unres wal_status unreserved: its WAL will be removed at the next "
                  "checkpoint" },
                { SEV_CRIT, "sender_lag_ms", "pg_recvlogical", 400000, 300000,
                  "sender pg_recvlogical (pid 5788) flush lag 6m40s >= crit 5m00s" },
                { SEV_WARN, "sender_lag_ms", "walreceiver", 45000, 30000,
                  "sender walreceiver (pid 6001) replay lag 45s >= warn 30s" },
        };
        struct pg_data *d = alert_data();
        struct alert_list l;

        (void)state;
        thr_get("slot_lag_bytes")->warn = 4 * 1048576.0;
        thr_get("slot_lag_bytes")->crit = 64 * 1048576.0;
        alert_list_init(&l);
        coll_postgres_ops.alerts(&psrc, d, &l);
        for (size_t i = 0; i < l.n; i++)
                print_message("alert %zu: %s %s %s %s\n", i, severity_name(l.v[i].sev),
                              l.v[i].metric, l.v[i].subject, l.v[i].message);
        assert_int_equal(l.n, LO_ARRAY_LEN(want));
        for (size_t i = 0; i < l.n; i++) {
                const struct alert *a = &l.v[i];

                assert_int_equal(a->sev, want[i].sev);
                assert_string_equal(a->source, "orders-db");
                assert_string_equal(a->metric, want[i].metric);
                assert_string_equal(a->subject, want[i].subject);
                if (isnan(want[i].value))
                        assert_true(isnan(a->value));
                else
                        assert_true(a->value == want[i].value);
                if (isnan(want[i].threshold))
                        assert_true(isnan(a->threshold));
                else
                        assert_true(a->threshold == want[i].threshold);
                assert_string_equal(a->message, want[i].message);
        }
        alert_list_done(&l);

        /* A healthy source: logical, no slots over any limit. */
        free(d->wal_level);
        d->wal_level = xstrdup("logical");
        thr_get("slot_lag_bytes")->warn = NAN;
        thr_get("slot_lag_bytes")->crit = NAN;
        alert_list_init(&l);
        for (size_t i = 0; i < d->n_slots; i++) {
                d->slots[i].inactive_for_ms = 0;
                d->slots[i].retained_bytes = 0;
                d->slots[i].eta_lost_s = -1;
                free(d->slots[i].wal_status);
                d->slots[i].wal_status = NULL;
        }
        for (size_t i = 0; i < d->n_senders; i++)
                d->senders[i].flush_lag_ms = d->senders[i].replay_lag_ms = -1;
        coll_postgres_ops.alerts(&psrc, d, &l);
        assert_int_equal(l.n, 0);
        alert_list_done(&l);
        postgres_data_free(d);
}

static void test_to_json(void **state)
{
        static const char want[] =
                "{\"server_version\":\"15.18\",\"server_version_num\":150018,\"in_recovery\":false,"
                "\"wal_level\":\"logical\",\"max_replication_slots\":10,\"max_wal_senders\":10,"
                "\"max_slot_wal_keep_size\":null,\"current_lsn\":\"1/0\","
                "\"wal_bytes_per_sec\":250880.5,"
                "\"slots\":["
                "{\"name\":\"analytics_stale\",\"plugin\":\"pgoutput\",\"type\":\"logical\","
                "\"database\":\"orders\",\"temporary\":false,\"active\":false,\"active_pid\":null,"
                "\"restart_lsn\":\"0/FFFFFF00\",\"confirmed_flush_lsn\":\"0/FFFFFF10\","
                "\"lag_bytes\":240,\"retained_bytes\":256,\"wal_status\":\"reserved\","
                "\"safe_wal_size\":12884901888,\"lag_rate_bytes_per_sec\":512.3,"
                "\"retained_rate_bytes_per_sec\":-2,\"eta_lost_s\":1801,\"inactive_for_ms\":65000},"
                "{\"name\":\"debezium_orders\",\"plugin\":\"pgoutput\",\"type\":\"logical\","
                "\"database\":\"orders\",\"temporary\":true,\"active\":true,\"active_pid\":4242,"
                "\"restart_lsn\":null,\"confirmed_flush_lsn\":null,\"lag_bytes\":null,"
                "\"retained_bytes\":null,\"wal_status\":null,\"safe_wal_size\":null,"
                "\"lag_rate_bytes_per_sec\":null,\"retained_rate_bytes_per_sec\":null,"
                "\"eta_lost_s\":null,\"inactive_for_ms\":null}],"
                "\"publications\":["
                "{\"name\":\"dbz_publication\",\"all_tables\":false,\"tables\":[\"public.orders\","
                "\"public.customers\"]},"
                "{\"name\":\"everything\",\"all_tables\":true,\"tables\":[]}],"
                "\"senders\":["
                "{\"pid\":5788,\"user\":\"postgres\",\"application_name\":\"pg_recvlogical\","
                "\"client_addr\":\"127.0.0.1\",\"state\":\"streaming\",\"sync_state\":\"async\","
                "\"sent_lsn\":\"1/0\",\"write_lsn\":\"0/FFFFFF10\",\"flush_lsn\":\"0/FFFFFF10\","
                "\"replay_lsn\":null,\"write_lag_ms\":6,\"flush_lag_ms\":7,\"replay_lag_ms\":null,"
                "\"slot\":\"debezium_orders\"}]}";
        struct pg_data *d = data_new();
        struct pg_slot *s;
        struct pg_sender *w;
        cJSON *o = cJSON_CreateObject();
        char *got;

        (void)state;
        d->server_version = xstrdup("15.18");
        d->server_version_num = 150018;
        d->wal_level = xstrdup("logical");
        d->max_replication_slots = 10;
        d->max_wal_senders = 10;
        str_copy(d->current_lsn, "1/0", sizeof d->current_lsn);
        d->wal_bytes_per_sec = 250880.4567;
        s = add_slot(d, "analytics_stale", false);
        str_copy(s->restart_lsn, "0/FFFFFF00", sizeof s->restart_lsn);
        str_copy(s->confirmed_flush_lsn, "0/FFFFFF10", sizeof s->confirmed_flush_lsn);
        s->has_lag = s->has_retained = true;
        s->lag_bytes = 240;
        s->retained_bytes = 256;
        s->wal_status = xstrdup("reserved");
        s->has_safe_wal_size = true;
        s->safe_wal_size = 12884901888LL;
        s->lag_rate = 512.26;
        s->retained_rate = -2.0;
        s->eta_lost_s = 1800.6;
        s->inactive_for_ms = 65000;
        ring_push(&s->lag_hist, 1, 1);
        ring_push(&s->lag_hist, 2, 2);
        s->retained_hist = s->lag_hist;
        s = add_slot(d, "debezium_orders", true);
        s->temporary = true;
        s->active_pid = 4242;
        ring_push(&s->lag_hist, 1, 1);          /* one sample: no rate yet */
        d->pubs = xcalloc(2, sizeof *d->pubs);
        d->n_pubs = 2;
        d->pubs[0].name = xstrdup("dbz_publication");
        d->pubs[0].tables = xcalloc(2, sizeof(char *));
        d->pubs[0].tables[0] = xstrdup("public.orders");
        d->pubs[0].tables[1] = xstrdup("public.customers");
        d->pubs[0].n_tables = 2;
        d->pubs[1].name = xstrdup("everything");
        d->pubs[1].all_tables = true;
        w = add_sender(d, 5788, "pg_recvlogical");
        w->user = xstrdup("postgres");
        w->client_addr = xstrdup("127.0.0.1");
        w->state = xstrdup("streaming");
        w->sync_state = xstrdup("async");
        str_copy(w->sent_lsn, "1/0", sizeof w->sent_lsn);
        str_copy(w->write_lsn, "0/FFFFFF10", sizeof w->write_lsn);
        str_copy(w->flush_lsn, "0/FFFFFF10", sizeof w->flush_lsn);
        w->write_lag_ms = 6;
        w->flush_lag_ms = 7;
        w->slot_name = xstrdup("debezium_orders");

        coll_postgres_ops.to_json(d, o);
        got = cJSON_PrintUnformatted(o);
        if (strcmp(got, want) != 0)
                fail_msg("json:\n got %s\nwant %s", got, want);
        free(got);
        cJSON_Delete(o);

        /* Unknown values are null, empty lists are []. */
        postgres_data_free(d);
        d = data_new();
        o = cJSON_CreateObject();
        coll_postgres_ops.to_json(d, o);
        got = cJSON_PrintUnformatted(o);
        assert_string_equal(got,
                "{\"server_version\":null,\"server_version_num\":0,\"in_recovery\":false,"
                "\"wal_level\":null,\"max_replication_slots\":null,\"max_wal_senders\":null,"
                "\"max_slot_wal_keep_size\":null,\"current_lsn\":null,\"wal_bytes_per_sec\":null,"
                "\"slots\":[],\"publications\":[],\"senders\":[]}");
        free(got);
        cJSON_Delete(o);
        postgres_data_free(d);
}

static void test_summary_key_metric(void **state)
{
        struct pg_data *d = data_new();
        struct pg_slot *s;
        char buf[128];

        (void)state;
        assert_true(isnan(coll_postgres_ops.key_metric(d)));
        coll_postgres_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "no slots");
        d->wal_bytes_per_sec = 250880;
        coll_postgres_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "no slots, WAL 245.0 KiB/s");

        s = add_slot(d, "a", true);
        coll_postgres_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "1 slot, WAL 245.0 KiB/s");
        assert_true(isnan(coll_postgres_ops.key_metric(d)));    /* no lag known */
        s->has_lag = true;
        s->lag_bytes = 1000;
        s = add_slot(d, "b", false);
        s->has_lag = true;
        s->lag_bytes = (int64_t)(12.3 * 1048576);
        assert_true(coll_postgres_ops.key_metric(d) == (double)s->lag_bytes);
        coll_postgres_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "2 slots (1 inactive), max lag 12.3 MiB, WAL 245.0 KiB/s");
        d->wal_bytes_per_sec = NAN;
        coll_postgres_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "2 slots (1 inactive), max lag 12.3 MiB");
        postgres_data_free(d);
        postgres_data_free(NULL);
}

/* ---- validate ------------------------------------------------------------- */

static void test_validate(void **state)
{
        struct err err;

        (void)state;
        pcfg.dsn = "host=127.0.0.1 port=5432 dbname=orders user=lambdaops";
        err_clear(&err);
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), 0);
        pcfg.dsn = "postgresql://lambdaops@127.0.0.1:5432/orders";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), 0);

        pcfg.password_env = "PGPW";
        pcfg.password_file = "/run/secrets/pg";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), -1);
        assert_string_equal(err.msg, "password_env and password_file are exclusive: set only one");
        pcfg.password_file = NULL;
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), 0);

        pcfg.dsn = "";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), -1);
        assert_non_null(strstr(err.msg, "dsn is empty"));
        pcfg.dsn = "host=db password='hunter2";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), -1);
        assert_string_equal(err.msg, "dsn is not a valid libpq connection string: unterminated "
                            "quoted string in connection info string");
        pcfg.dsn = "host=db";
        pcfg.sslmode = "requir";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), -1);
        assert_string_equal(err.msg, "sslmode \"requir\" is not one of disable, allow, prefer, "
                            "require, verify-ca, verify-full");
        pcfg.sslmode = "verify-full";
        assert_int_equal(coll_postgres_ops.validate(&psrc, &err), 0);
}

static void test_ops_table(void **state)
{
        const struct collector_ops *o = collector_find("postgres");

        (void)state;
        assert_ptr_equal(o, &coll_postgres_ops);
        assert_non_null(o->validate);
        assert_non_null(o->create);
        assert_non_null(o->destroy);
        assert_non_null(o->poll);
        assert_non_null(o->data_free);
        assert_non_null(o->to_json);
        assert_non_null(o->alerts);
        assert_non_null(o->key_metric);
        assert_non_null(o->summary);
        assert_int_equal(o->cfg_size, sizeof(struct pg_cfg));
        assert_string_equal(o->keys[0].name, "dsn");
        assert_true(o->keys[0].required);
        assert_string_equal(o->thresholds[0].name, "slot_lag_bytes");
        assert_string_equal(o->thresholds[1].name, "retained_bytes");
        assert_string_equal(o->thresholds[2].name, "slot_inactive_ms");
        assert_string_equal(o->thresholds[3].name, "sender_lag_ms");
        assert_null(o->thresholds[4].name);
}

/* ---- /metrics ------------------------------------------------------------ */

/* The PG15 fixtures (overview, 5 slots, 2 senders) and derived figures set
 * by hand, rendered by the kind's metrics hook: exact text. Unknowns have
 * no sample: old_consumer has no retained WAL (restart_lsn NULL),
 * standby_1 no lag, only standby_1 a safe_wal_size, and the second sender
 * no lag at all. */
static void test_metrics(void **state)
{
        struct pg_data *d = data_new();
        struct snapshot snap = { .data = d };
        struct promtext *p = promtext_new();
        struct pg_slot *s;
        struct err err;
        char *text;

        (void)state;
        assert_int_equal(load_into("overview_pg15.tsv", postgres_parse_overview, d, &err), 0);
        assert_int_equal(load_into("slots_pg15.tsv", postgres_parse_slots, d, &err), 0);
        assert_int_equal(load_into("senders_pg15.tsv", postgres_parse_senders, d, &err), 0);
        d->wal_bytes_per_sec = 1536.5;
        s = (struct pg_slot *)find_slot(d, "analytics_stale");
        s->inactive_for_ms = 400500;
        s->eta_lost_s = 1024;
        ring_push(&s->lag_hist, 1000, 1);
        ring_push(&s->lag_hist, 2000, 2);
        s->lag_rate = -12.25;
        ring_push(&s->retained_hist, 1000, 1);
        ring_push(&s->retained_hist, 2000, 2);
        s->retained_rate = 1048576;
        assert_non_null(coll_postgres_ops.metrics);
        coll_postgres_ops.metrics(&snap, &psrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/postgres/metrics_pg15.prom");
        free(text);
        promtext_free(p);
        postgres_data_free(d);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_lsn_parse, setup),
                cmocka_unit_test_setup(test_dsn_mask, setup),
                cmocka_unit_test_setup(test_conn_params, setup),
                cmocka_unit_test_setup(test_errmsg, setup),
                cmocka_unit_test_setup(test_parse_overview, setup),
                cmocka_unit_test_setup(test_parse_slots_pg15, setup),
                cmocka_unit_test_setup(test_parse_slots_pg12, setup),
                cmocka_unit_test_setup(test_parse_slots_inline, setup),
                cmocka_unit_test_setup(test_parse_publications, setup),
                cmocka_unit_test_setup(test_parse_senders, setup),
                cmocka_unit_test_setup(test_history, setup),
                cmocka_unit_test_setup(test_alerts, setup),
                cmocka_unit_test_setup(test_to_json, setup),
                cmocka_unit_test_setup(test_summary_key_metric, setup),
                cmocka_unit_test_setup(test_validate, setup),
                cmocka_unit_test_setup(test_ops_table, setup),
                cmocka_unit_test_setup(test_metrics, setup),
        };

        return cmocka_run_group_tests_name("coll_postgres", tests, NULL, NULL);
}
