/*
 * Unit tests for the ClickHouse collector's pure parts, on the fixtures in
 * tests/fixtures/clickhouse: bodies captured from a real 18.16 server
 * (UInt8 query_log.type, old error texts, a real exception after a 200)
 * and hand-written ones for a current server (Enum8 types, quoted 64-bit
 * integers, new error texts). Covers error-body parsing, response checks,
 * masking of secrets in query texts, every parser, the SQL chosen per
 * capabilities, counter history, the JSON output (exact), alert rules
 * (exact), summary, key metric, config keys and validation. No server,
 * no curses. The ClickHouse pane is tested in
 * tests/unit/views/test_view_clickhouse.c.
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

#include "collectors/clickhouse/clickhouse.h"
#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_samples.h"
#include "core/util.h"
#include "tu_promtool.h"

static char *fixture(const char *name, size_t *len)
{
        return tu_fixture_file("clickhouse", name, len);
}

typedef tu_ch_parse_fn parse_fn;

static struct config *load_config(const char *extra)
{
        struct err err;
        char *yaml = xasprintf("sources:\n"
                               "  - name: speed-ch\n"
                               "    kind: clickhouse\n"
                               "    url: http://127.0.0.1:8123\n"
                               "%s", extra ? extra : "");
        struct config *c = config_load_string(yaml, strlen(yaml), "<t>", &err);

        if (!c)
                fail_msg("config: %s", err.msg);
        free(yaml);
        return c;
}

/* ---- errors ------------------------------------------------------------- */

struct want_ex {
        const char *file;
        int code;
        const char *name;
        const char *msg;
};

static void test_exception_parse(void **state)
{
        static const struct want_ex want[] = {
                { "error_unknown_table_v18.txt", 60, "UNKNOWN_TABLE",
                  "Table default.nosuch doesn't exist." },
                { "error_wrong_password_v18.txt", 193, "WRONG_PASSWORD",
                  "Wrong password for user sec" },
                { "error_after_200_v18.txt", 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO",
                  "Value passed to 'throwIf' function is non zero" },
                { "error_auth_v20.txt", 516, "AUTHENTICATION_FAILED",
                  "default: Authentication failed: password is incorrect or there is no user "
                  "with such name" },
                { "error_unknown_table_v23.txt", 60, "UNKNOWN_TABLE",
                  "Table default.foo does not exist." },
                { "error_auth_v23.txt", 516, "AUTHENTICATION_FAILED",
                  "default: Authentication failed: password is incorrect, or there is no user "
                  "with such name." },
                { "error_timeout_v23.txt", 159, "TIMEOUT_EXCEEDED",
                  "Timeout exceeded: elapsed 3.000921 seconds, maximum: 3." },
                { "error_after_200_v23.txt", 241, "MEMORY_LIMIT_EXCEEDED",
                  "Memory limit (for query) exceeded: would use 9.31 GiB (attempt to allocate "
                  "chunk of 4194304 bytes), maximum: 9.31 GiB: While executing "
                  "AggregatingTransform." },
        };
        struct ch_exception ex;
        size_t len;
        char *b;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(want); i++) {
                b = fixture(want[i].file, &len);
                assert_int_equal(clickhouse_exception_parse(b, len, &ex), 0);
                assert_int_equal(ex.code, want[i].code);
                assert_string_equal(ex.name, want[i].name);
                assert_string_equal(ex.msg, want[i].msg);
                free(b);
        }
        /* The syntax error's message is long; it starts right. */
        b = fixture("error_syntax_v18.txt", &len);
        assert_int_equal(clickhouse_exception_parse(b, len, &ex), 0);
        assert_int_equal(ex.code, 62);
        assert_string_equal(ex.name, "SYNTAX_ERROR");
        assert_true(strncmp(ex.msg, "Syntax error: failed at position 1: SELEC 1. Expected one of:",
                            61) == 0);
        free(b);

        /* Not exceptions. */
        b = fixture("http_502.html", &len);
        assert_int_equal(clickhouse_exception_parse(b, len, &ex), -1);
        assert_int_equal(ex.code, 0);
        free(b);
        assert_int_equal(clickhouse_exception_parse("", 0, &ex), -1);
        assert_int_equal(clickhouse_exception_parse(NULL, 0, &ex), -1);
        assert_int_equal(clickhouse_exception_parse("Code: x. nope", 13, &ex), -1);
        assert_int_equal(clickhouse_exception_parse("Code: 12", 8, &ex), -1);
        /* "Code: " inside data, then the real exception: the last wins. */
        {
                static const char body[] = "{\"data\":[{\"s\":\"Code: 1. fake\"}\n"
                                           "Code: 241. DB::Exception: real one (MEMORY_LIMIT_EXCEEDED)\n";

                assert_int_equal(clickhouse_exception_parse(body, sizeof body - 1, &ex), 0);
                assert_int_equal(ex.code, 241);
                assert_string_equal(ex.msg, "real one");
        }
        /* "Code: " inside a JSON string of a complete answer is data. */
        {
                static const char body[] = "{\"data\":[{\"s\":\"Code: 1. fake\"}]}";

                assert_int_equal(clickhouse_exception_parse(body, sizeof body - 1, &ex), -1);
        }
        /* A NUL inside the body does not hide the tail. */
        {
                static const char body[] = "{\"d\":\0\"x\"}Code: 60, e.displayText() = "
                                           "DB::Exception: gone, e.what() = DB::Exception";

                assert_int_equal(clickhouse_exception_parse(body, sizeof body - 1, &ex), 0);
                assert_int_equal(ex.code, 60);
                assert_string_equal(ex.msg, "gone");
        }
        /* An unknown code without a name in the text. */
        assert_int_equal(clickhouse_exception_parse("Code: 9999, e.displayText() = DB::Exception: odd",
                                                    48, &ex), 0);
        assert_int_equal(ex.code, 9999);
        assert_string_equal(ex.name, "");
        assert_string_equal(ex.msg, "odd");
}

static void test_response_check(void **state)
{
        struct err err;
        size_t len;
        char *b;

        (void)state;
        /* 200 with a complete document (trailing newline) is fine. */
        b = fixture("latency_v18.json", &len);
        assert_int_equal(clickhouse_response_check(200, b, len, NULL, &err), 0);
        free(b);

        /* Real 18.16 bodies under their real statuses. */
        b = fixture("error_unknown_table_v18.txt", &len);
        assert_int_equal(clickhouse_response_check(404, b, len, NULL, &err), -1);
        assert_int_equal(err.code, 60);
        assert_string_equal(err.msg, "ClickHouse error 60 (UNKNOWN_TABLE): Table default.nosuch "
                            "doesn't exist.");
        free(b);
        b = fixture("error_wrong_password_v18.txt", &len);
        assert_int_equal(clickhouse_response_check(401, b, len, "sec", &err), -1);
        assert_int_equal(err.code, 193);
        /* The password is redacted wherever it shows (here it equals the
         * user name, so the name goes too: we never echo a secret). */
        assert_string_equal(err.msg, "ClickHouse error 193 (WRONG_PASSWORD): Wrong password for "
                            "user *** (check user and password_env/password_file)");
        free(b);
        b = fixture("error_auth_v23.txt", &len);
        assert_int_equal(clickhouse_response_check(403, b, len, "pw-1", &err), -1);
        assert_int_equal(err.code, 516);
        assert_string_equal(err.msg, "ClickHouse error 516 (AUTHENTICATION_FAILED): default: "
                            "Authentication failed: password is incorrect, or there is no user "
                            "with such name. (check user and password_env/password_file)");
        free(b);
        b = fixture("error_timeout_v23.txt", &len);
        assert_int_equal(clickhouse_response_check(408, b, len, NULL, &err), -1);
        assert_int_equal(err.code, 159);
        assert_string_equal(err.msg, "ClickHouse error 159 (TIMEOUT_EXCEEDED): Timeout exceeded: "
                            "elapsed 3.000921 seconds, maximum: 3. (the source timeout cut the "
                            "query)");
        free(b);

        /* Errors after a 200, old and new. */
        b = fixture("error_after_200_v18.txt", &len);
        assert_int_equal(clickhouse_response_check(200, b, len, NULL, &err), -1);
        assert_int_equal(err.code, 395);
        assert_string_equal(err.msg, "ClickHouse error 395 (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO): "
                            "Value passed to 'throwIf' function is non zero");
        free(b);
        b = fixture("error_after_200_v23.txt", &len);
        assert_int_equal(clickhouse_response_check(200, b, len, NULL, &err), -1);
        assert_int_equal(err.code, 241);
        assert_non_null(strstr(err.msg,
                               "ClickHouse error 241 (MEMORY_LIMIT_EXCEEDED): Memory limit"));
        free(b);

        /* Not ClickHouse. */
        b = fixture("http_502.html", &len);
        assert_int_equal(clickhouse_response_check(502, b, len, NULL, &err), -1);
        assert_int_equal(err.code, CH_ERR_HTTP);
        assert_string_equal(err.msg, "HTTP 502 Bad Gateway (no ClickHouse error text): is the url "
                            "a ClickHouse HTTP port?");
        assert_int_equal(clickhouse_response_check(200, b, len, NULL, &err), -1);
        assert_int_equal(err.code, CH_ERR_BADJSON);
        free(b);
        assert_int_equal(clickhouse_response_check(200, "{\"data\":[", 9, NULL, &err), -1);
        assert_int_equal(err.code, CH_ERR_BADJSON);
        assert_string_equal(err.msg, "ClickHouse sent an incomplete or non-JSON answer (9 bytes): "
                            "is the url a ClickHouse HTTP port?");
        assert_int_equal(clickhouse_response_check(200, "", 0, NULL, &err), -1);
        assert_int_equal(clickhouse_response_check(599, "", 0, NULL, &err), -1);
        assert_string_equal(err.msg, "HTTP 599 (no ClickHouse error text): is the url a "
                            "ClickHouse HTTP port?");
        /* A password inside a server message is redacted. */
        assert_int_equal(clickhouse_response_check(500, "Code: 36. DB::Exception: bad value "
                                                   "'Hunter2x' (BAD_ARGUMENTS)", 62, "Hunter2x", &err), -1);
        assert_null(strstr(err.msg, "Hunter2x"));
}

/* ---- masking ------------------------------------------------------------ */

struct mask_case {
        const char *in, *out;
};

static void test_query_display(void **state)
{
        static const struct mask_case cases[] = {
                { "SELECT 1", "SELECT 1" },
                { "  SELECT\n\t a,\r\n  b  FROM t  ", "SELECT a, b FROM t" },
                { "CREATE USER u IDENTIFIED BY 'pw1'", "CREATE USER u IDENTIFIED BY '***'" },
                { "create user u identified with sha256_password by 'p''w' host any",
                  "create user u identified with sha256_password by '***' host any" },
                { "ALTER USER u IDENTIFIED WITH plaintext_password BY 'a\\'b', x = 'keep'",
                  "ALTER USER u IDENTIFIED WITH plaintext_password BY '***', x = 'keep'" },
                { "SOURCE(CLICKHOUSE(HOST 'h' USER 'u' PASSWORD 'p1' DB 'd'))",
                  "SOURCE(CLICKHOUSE(HOST 'h' USER 'u' PASSWORD '***' DB 'd'))" },
                { "SETTINGS password = 'x9', other = 'y'", "SETTINGS password = '***', other = 'y'" },
                { "SELECT password FROM users WHERE name = 'bob'",
                  "SELECT password FROM users WHERE name = 'bob'" },
                { "SELECT * FROM mysql('h:3306', 'db', 't', 'user', 'pw')",
                  "SELECT * FROM mysql('h:3306', 'db', 't', '***', '***')" },
                { "SELECT * FROM postgresql ( 'h:5432', 'db', 't', 'u', 'p', 'schema') WHERE x = 'k'",
                  "SELECT * FROM postgresql ( 'h:5432', 'db', 't', '***', '***', '***') WHERE x = 'k'" },
                { "SELECT * FROM remote('h:9000', db.t, 'u', 'p') ",
                  "SELECT * FROM remote('h:9000', db.t, 'u', '***')" },
                { "SELECT * FROM s3('https://b/x.csv', 'AKIA', 'SECRET', 'CSV', concat('a', 'b'))",
                  "SELECT * FROM s3('https://b/x.csv', '***', '***', '***', concat('a', 'b'))" },
                { "SELECT * FROM url('http://u:p@h/x', CSV)", "SELECT * FROM url('http://u:***@h/x', CSV)" },
                { "SELECT 'postgres://app:Hunter2@db:5432/x?sslmode=require'",
                  "SELECT 'postgres://app:***@db:5432/x?sslmode=require'" },
                { "SELECT 'https://user@host/p', 'http://h:8123/a@b'",
                  "SELECT 'https://user@host/p', 'http://h:8123/a@b'" },
                { "SELECT * FROM jdbc('jdbc:mysql://h/db?user=u&password=pw&ssl=1', 't')",
                  "SELECT * FROM jdbc('jdbc:mysql://h/db?user=u&password=***&ssl=1', 't')" },
                { "SELECT * FROM odbc('DSN=x;Uid=u;Pwd=secret;', 'db', 't')",
                  "SELECT * FROM odbc('DSN=x;Uid=u;Pwd=***;', 'db', 't')" },
                { "ENGINE = MySQL('h', 'd', 't', 'u', 'p')", "ENGINE = MySQL('h', 'd', 't', '***', '***')" },
                /* Unterminated: masked to the end. */
                { "CREATE USER u IDENTIFIED BY 'cut-by-substr", "CREATE USER u IDENTIFIED BY '***" },
                /* Identifiers and comments are not literals. */
                { "SELECT \"password\", `identified` FROM t -- PASSWORD 'c1'",
                  "SELECT \"password\", `identified` FROM t -- PASSWORD '***'" },
                { "SELECT 'Ω — ünïcode'", "SELECT 'Ω — ünïcode'" },
        };
        char *s, big[600];

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                s = clickhouse_query_display(cases[i].in, 200);
                if (strcmp(s, cases[i].out) != 0)
                        fail_msg("case %zu:\n  in   %s\n  got  %s\n  want %s", i, cases[i].in, s,
                                 cases[i].out);
                free(s);
        }
        /* Clipped to 200 bytes on a UTF-8 boundary, with "...". */
        memset(big, 'a', sizeof big);
        memcpy(big, "SELECT '", 8);
        for (int i = 8; i + 2 < 400; i += 2)
                memcpy(big + i, "\xc3\xa9", 2);         /* é */
        big[sizeof big - 1] = '\0';
        s = clickhouse_query_display(big, 200);
        assert_true(strlen(s) <= 200);
        assert_string_equal(s + strlen(s) - 3, "...");
        assert_true(((unsigned char)s[strlen(s) - 4] & 0xC0) != 0xC0);    /* no cut lead byte */
        assert_true(strncmp(s, "SELECT '\xc3\xa9\xc3\xa9", 12) == 0);
        free(s);
        /* An incomplete UTF-8 tail (the server cut by bytes) is dropped. */
        s = clickhouse_query_display("SELECT '\xc3", 200);
        assert_string_equal(s, "SELECT '");
        free(s);
        s = clickhouse_query_display(NULL, 200);
        assert_string_equal(s, "");
        free(s);
}

/* ---- parsers ------------------------------------------------------------ */

static void test_caps(void **state)
{
        struct ch_caps c;
        struct ch_data *d;

        (void)state;
        d = tu_ch_sample("v18", &c);
        assert_int_equal(c.major, 18);
        assert_int_equal(c.minor, 16);
        assert_true(c.query_log);
        assert_false(c.type_enum);
        assert_true(c.has_is_initial);
        assert_false(c.has_query_kind);
        assert_false(c.has_norm_hash);
        assert_false(c.has_exception_code);
        assert_true(c.parts_bytes_on_disk);
        assert_true(c.has_merges && c.has_replicas && c.has_mt_settings);
        assert_true(c.has_absolute_delay && c.has_session_expired);
        clickhouse_data_free(d);

        d = tu_ch_sample("v23", &c);
        assert_int_equal(c.major, 23);
        assert_int_equal(c.minor, 8);
        assert_true(c.query_log && c.type_enum && c.has_is_initial && c.has_query_kind);
        assert_true(c.has_norm_hash && c.has_exception_code && c.parts_bytes_on_disk);
        assert_true(c.has_merges && c.has_replicas && c.has_absolute_delay && c.has_mt_settings);
        clickhouse_data_free(d);

        /* No query_log in the listing: it does not exist yet. */
        {
                static const char j[] = "{\"meta\":[],\"data\":[{\"table\":\"parts\",\"name\":"
                                        "\"bytes\",\"type\":\"UInt64\"}],\"rows\":1}";
                struct err err;

                memset(&c, 0, sizeof c);
                c.query_log = true;
                assert_int_equal(clickhouse_parse_caps(j, sizeof j - 1, &c, &err), 0);
                assert_false(c.query_log);
                assert_false(c.parts_bytes_on_disk);
                assert_false(c.has_merges);
        }
}

static void test_parse_v18(void **state)
{
        struct ch_caps c;
        struct ch_data *d = tu_ch_sample("v18", &c);

        (void)state;
        assert_string_equal(d->version, "18.16.1");
        assert_int_equal(d->uptime_s, 319);
        assert_int_equal(d->window_end, 1795704301);
        assert_int_equal(d->parts_to_delay_insert, 150);
        assert_int_equal(d->lat[CH_W1M].count, 11);
        assert_true(d->lat[CH_W1M].p50 == 1 && d->lat[CH_W1M].p95 == 55 && d->lat[CH_W1M].p99 == 59);
        assert_int_equal(d->lat[CH_W15M].count, 31);
        assert_true(d->lat[CH_W15M].p99 == 56.99999999999999);
        assert_true(d->queries_per_sec == 20.0 / 60 && d->failed_per_sec == 8.0 / 60);
        assert_true(d->inserted_rows_per_sec == 5.0 / 60 && d->inserted_bytes_per_sec == 1.5);
        assert_int_equal(d->n_slow, 10);
        assert_string_equal(d->slow[0].query, "SELECT sleep(0.06) AS s");
        assert_int_equal(d->slow[0].duration_ms, 60);
        assert_int_equal(d->slow[0].at, 1795704292000LL);
        assert_string_equal(d->slow[0].user, "default");
        assert_string_equal(d->slow[1].query, "SELECT sleep(0.05), 'postgres://app:***@db:5432/x' "
                            "AS dsn");
        assert_int_equal(d->n_tables, 4);
        assert_string_equal(d->tables[2].database, "default");
        assert_string_equal(d->tables[2].table, "events");
        assert_int_equal(d->tables[2].active_parts, 5);
        assert_int_equal(d->tables[2].max_parts_per_partition, 4);
        assert_string_equal(d->tables[2].max_partition, "202611");
        assert_int_equal(d->tables[2].rows, 5);
        assert_int_equal(d->tables[2].bytes, 3375);
        assert_int_equal(d->merges, 0);
        assert_int_equal(d->n_replicas, 0);
        assert_int_equal(d->memory_bytes, 31488);
        clickhouse_data_free(d);
}

static void test_parse_v23(void **state)
{
        struct ch_caps c;
        struct ch_data *d = tu_ch_sample("v23", &c);
        struct ch_counters k;
        struct err err;
        size_t len;
        char *b;

        (void)state;
        assert_string_equal(d->version, "23.8.2.7");
        assert_int_equal(d->uptime_s, 86400);
        assert_int_equal(d->parts_to_delay_insert, 1000);
        assert_int_equal(d->lat[CH_W5M].count, 910);
        assert_true(d->lat[CH_W5M].p95 == 14 && d->lat[CH_W5M].p99 == 96.5);
        assert_true(d->lat[CH_W1M].p99 == 48.01);
        assert_true(d->queries_per_sec == 3.2 && d->failed_per_sec == 0.05);
        assert_true(d->inserted_rows_per_sec == 2000 && d->inserted_bytes_per_sec == 160000);
        assert_int_equal(d->n_slow, 6);
        assert_string_equal(d->slow[0].query, "SELECT toStartOfHour(ts) AS bucket, count() AS n, "
                            "sum(amount) AS amount FROM orders_rt WHERE ts >= now() - INTERVAL 2 "
                            "DAY GROUP BY bucket ORDER BY bucket");
        assert_string_equal(d->slow[1].query, "CREATE USER etl IDENTIFIED WITH sha256_password BY "
                            "'***' HOST ANY");
        assert_string_equal(d->slow[2].query,
                            "INSERT INTO orders_rt SELECT * FROM mysql('db1:3306', "
                            "'shop', 'orders', '***', '***')");
        for (size_t i = 0; i < d->n_slow; i++) {
                assert_null(strstr(d->slow[i].query, "S3cret"));
                assert_null(strstr(d->slow[i].query, "MyPw"));
                assert_null(strstr(d->slow[i].query, "T0ken"));
                assert_null(strstr(d->slow[i].query, "wJalr"));
                assert_null(strstr(d->slow[i].query, "pw9"));
        }
        assert_int_equal(d->n_tables, 3);
        assert_int_equal(d->tables[0].active_parts, 1210);
        assert_int_equal(d->tables[0].max_parts_per_partition, 1005);
        assert_int_equal(d->tables[0].rows, 9200000000LL);
        assert_int_equal(d->tables[0].merges, 2);
        assert_int_equal(d->tables[1].merges, 0);
        assert_int_equal(d->merges, 2);
        assert_int_equal(d->n_merge_list, 2);
        assert_true(d->merge_list[0].elapsed_s == 312.5 && d->merge_list[0].progress == 0.42);
        assert_int_equal(d->merge_list[0].num_parts, 6);
        assert_int_equal(d->merge_list[0].bytes, 2147483648LL);
        assert_string_equal(d->merge_list[0].result_part, "202611_1_906_5");
        assert_int_equal(d->n_replicas, 2);
        assert_true(d->replicas[0].is_readonly && d->replicas[0].is_session_expired);
        assert_int_equal(d->replicas[1].queue_size, 150);
        assert_int_equal(d->replicas[1].inserts_in_queue, 120);
        assert_int_equal(d->replicas[1].absolute_delay_s, 75);
        assert_int_equal(d->memory_bytes, 734003200);
        clickhouse_data_free(d);

        /* Counters: UInt64 beyond INT64_MAX is clamped, not wrapped. */
        b = fixture("counters_v23.json", &len);
        assert_int_equal(clickhouse_parse_counters(b, len, &k, &err), 0);
        assert_int_equal(k.query, 1200000);
        assert_int_equal(k.failed, 42);
        assert_int_equal(k.ins_rows, 98000000000LL);
        assert_int_equal(k.ins_bytes, INT64_MAX);
        free(b);
        /* 18.16 lists only non-zero events and has no FailedQuery. */
        b = fixture("counters_v18.json", &len);
        assert_int_equal(clickhouse_parse_counters(b, len, &k, &err), 0);
        assert_int_equal(k.memory, 31488);
        assert_int_equal(k.query, 56);
        assert_int_equal(k.failed, -1);
        free(b);
        assert_int_equal(clickhouse_parse_counters("{\"data\":[{\"kind\":\"event\",\"name\":\"Query\","
                                                   "\"value\":\"3\"}]}", 54, &k, &err), 0);
        assert_int_equal(k.ins_rows, 0);
        assert_int_equal(k.memory, -1);

        /* A quiet server: windows without queries have no percentiles. */
        d = clickhouse_data_new();
        tu_ch_parse_ok(clickhouse_parse_latency, "latency_v23_quiet.json", d);
        assert_int_equal(d->lat[CH_W1M].count, 0);
        assert_true(isnan(d->lat[CH_W1M].p95));
        assert_int_equal(d->lat[CH_W5M].count, 0);
        assert_int_equal(d->lat[CH_W15M].count, 2);
        assert_true(d->lat[CH_W15M].p95 == 9.8);
        clickhouse_data_free(d);
}

static void test_parse_bad(void **state)
{
        static const char *const bad[] = {
                "", "not json", "{\"meta\":[]}", "{\"data\":{}}", "[1,2]", "{\"data\":[",
        };
        parse_fn fns[] = { clickhouse_parse_latency, clickhouse_parse_slow, clickhouse_parse_tables,
                           clickhouse_parse_merges, clickhouse_parse_replicas,
                           clickhouse_parse_mt_settings };
        struct ch_data *d;
        struct ch_caps c = { 0 };
        struct ch_counters k;
        struct err err;
        size_t len;
        char *b;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                for (size_t f = 0; f < LO_ARRAY_LEN(fns); f++) {
                        d = clickhouse_data_new();
                        assert_int_equal(fns[f](bad[i], strlen(bad[i]), d, &err), -1);
                        assert_int_equal(err.code, CH_ERR_BADJSON);
                        clickhouse_data_free(d);
                }
                d = clickhouse_data_new();
                assert_int_equal(clickhouse_parse_overview(bad[i], strlen(bad[i]), d, &c, &err),
                                 -1);
                assert_int_equal(clickhouse_parse_rates(bad[i], strlen(bad[i]), d, &err), -1);
                assert_int_equal(clickhouse_parse_caps(bad[i], strlen(bad[i]), &c, &err), -1);
                assert_int_equal(clickhouse_parse_counters(bad[i], strlen(bad[i]), &k, &err), -1);
                clickhouse_data_free(d);
        }
        /* An exception after the 200 reaches the parser: its code, not "bad JSON". */
        b = fixture("error_after_200_v18.txt", &len);
        d = clickhouse_data_new();
        assert_int_equal(clickhouse_parse_tables(b, len, d, &err), -1);
        assert_int_equal(err.code, 395);
        assert_string_equal(err.msg, "ClickHouse error 395 (FUNCTION_THROW_IF_VALUE_IS_NON_ZERO): "
                            "Value passed to 'throwIf' function is non zero");
        clickhouse_data_free(d);
        free(b);
        /* Wrong shapes: rows without what we need are skipped, not fatal. */
        d = clickhouse_data_new();
        assert_int_equal(clickhouse_parse_tables("{\"data\":[{\"database\":\"d\"},{\"database\":\"d\","
                                                 "\"table\":\"t\",\"active_parts\":\"x\","
                                                 "\"max_parts_per_partition\":1}]}", 117, d, &err), 0);
        assert_int_equal(d->n_tables, 0);
        assert_int_equal(clickhouse_parse_overview("{\"data\":[{\"uptime\":1}]}", 24, d, &c, &err),
                         -1);
        assert_string_equal(err.msg, "overview query: no version in the answer");
        assert_int_equal(clickhouse_parse_rates("{\"data\":[{\"queries\":\"-\"}]}", 27, d, &err),
                         -1);
        clickhouse_data_free(d);
}

/* ---- SQL by capabilities ------------------------------------------------- */

static void test_sql(void **state)
{
        struct ch_caps c;
        struct ch_data *d;
        char *s;

        (void)state;
        d = tu_ch_sample("v18", &c);
        s = clickhouse_sql_latency(&c, 1795704301);
        assert_string_equal(s, "SELECT w AS window_s, count() AS count, "
                            "quantiles(0.5, 0.95, 0.99)(query_duration_ms) AS q "
                            "FROM system.query_log ARRAY JOIN [60, 300, 900] AS w "
                            "WHERE event_date >= toDate(toDateTime(1795703401)) AND "
                            "event_time > toDateTime(1795704301) - w AND "
                            "event_time <= toDateTime(1795704301) AND is_initial_query = 1 AND "
                            "query_id NOT LIKE 'lambdaops-%' AND type = 2 GROUP BY w ORDER BY w");
        free(s);
        s = clickhouse_sql_rates(&c, 1795704301);
        assert_non_null(strstr(s,
                               "countIf(type != 1) AS queries, countIf(type IN (3, 4)) AS failed, "
                               "sumIf(written_rows, type = 2) AS written_rows"));
        assert_non_null(strstr(s, "event_time > toDateTime(1795704301) - 60 AND"));
        free(s);
        s = clickhouse_sql_slow(&c, 1795704301);
        assert_non_null(strstr(s, "LIMIT 1 BY query LIMIT 10"));
        assert_non_null(strstr(s, "substringUTF8(query, 1, 4096)"));
        free(s);
        s = clickhouse_sql_replicas(&c);
        assert_string_equal(s,
                            "SELECT database, table, is_readonly, is_session_expired, queue_size, "
                            "inserts_in_queue, merges_in_queue, absolute_delay FROM system.replicas "
                            "ORDER BY database, table");
        free(s);
        clickhouse_data_free(d);

        d = tu_ch_sample("v23", &c);
        s = clickhouse_sql_latency(&c, 100000);
        assert_non_null(strstr(s, "AND type = 'QueryFinish' GROUP BY w"));
        free(s);
        s = clickhouse_sql_rates(&c, 100000);
        assert_non_null(strstr(s, "countIf(type != 'QueryStart') AS queries, countIf(type IN "
                               "('ExceptionBeforeStart', 'ExceptionWhileProcessing')) AS failed, "
                               "sumIf(written_rows, type = 'QueryFinish' AND query_kind = 'Insert')"));
        free(s);
        s = clickhouse_sql_slow(&c, 100000);
        assert_non_null(strstr(s, "LIMIT 1 BY normalized_query_hash LIMIT 10"));
        free(s);
        clickhouse_data_free(d);

        /* An old server without is_initial_query, bytes_on_disk, absolute_delay. */
        memset(&c, 0, sizeof c);
        c.query_log = true;
        s = clickhouse_sql_latency(&c, 1000);
        assert_null(strstr(s, "is_initial_query"));
        free(s);
        s = clickhouse_sql_tables(&c);
        assert_non_null(strstr(s, "sum(bytes) AS b"));
        free(s);
        s = clickhouse_sql_replicas(&c);
        assert_string_equal(s, "SELECT database, table, is_readonly, queue_size, inserts_in_queue, "
                            "merges_in_queue FROM system.replicas ORDER BY database, table");
        free(s);
}

/* ---- history ------------------------------------------------------------ */

static void test_history(void **state)
{
        struct ch_history *h = clickhouse_history_new();
        struct ch_caps c18 = { .valid = true, .major = 18, .minor = 16 };
        struct ch_caps c23 = { .valid = true, .major = 23, .minor = 8 };
        struct ch_counters k1 = { 1000, 100, -1, 500, 50000 };
        struct ch_counters k2 = { 2000, 130, -1, 1500, 150000 };
        struct ch_counters k3 = { 3000, 5, -1, 0, 0 };          /* restarted */
        struct ch_data *d;

        (void)state;
        /* No query_log: deltas, own queries subtracted. */
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, &k1, &c18, 8, 10000);
        assert_true(isnan(d->queries_per_sec));
        assert_int_equal(d->memory_bytes, 1000);
        assert_int_equal(d->qps_hist.n, 1);
        clickhouse_data_free(d);
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, &k2, &c18, 10, 12000);  /* 2 s later, 30 queries, 10 ours */
        assert_true(d->queries_per_sec == 10.0);
        assert_true(isnan(d->failed_per_sec));          /* 18.16: no FailedQuery counter */
        assert_true(d->inserted_rows_per_sec == 500.0);
        assert_true(d->inserted_bytes_per_sec == 50000.0);
        assert_int_equal(d->qps_hist.n, 2);
        assert_true(ring_last(&d->qps_hist) == 10.0);
        assert_true(ring_last(&d->mem_hist) == 2000.0);
        assert_true(isnan(ring_last(&d->p95_hist)));    /* latency unknown */
        clickhouse_data_free(d);
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, &k3, &c18, 5, 14000);   /* counters went backwards */
        assert_true(isnan(d->queries_per_sec));
        assert_true(isnan(d->inserted_rows_per_sec));
        clickhouse_data_free(d);
        /* Our own queries exceed the delta: 0, not negative. */
        d = clickhouse_data_new();
        k3.query = 9;
        clickhouse_history_apply(h, d, &k3, &c18, 50, 15000);
        assert_true(d->queries_per_sec == 0);
        clickhouse_data_free(d);
        clickhouse_history_free(h);

        /* 20.x+: a missing FailedQuery means zero. */
        h = clickhouse_history_new();
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, &k1, &c23, 0, 1000);
        clickhouse_data_free(d);
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, &k2, &c23, 0, 2000);
        assert_true(d->failed_per_sec == 0);
        clickhouse_data_free(d);

        /* With query_log the rates come from the parser; history keeps
         * them and the 1-minute percentiles. */
        d = clickhouse_data_new();
        d->query_log = true;
        d->queries_per_sec = 3.5;
        d->lat[CH_W1M] = (struct ch_latency){ 10, 1, 20, 30 };
        clickhouse_history_apply(h, d, &k2, &c23, 0, 3000);
        assert_true(d->queries_per_sec == 3.5);
        assert_true(ring_last(&d->p95_hist) == 20 && ring_last(&d->p99_hist) == 30);
        assert_true(ring_last(&d->p50_hist) == 1);
        clickhouse_data_free(d);
        /* No counters at all (that query failed). */
        d = clickhouse_data_new();
        clickhouse_history_apply(h, d, NULL, &c23, 0, 4000);
        assert_int_equal(d->memory_bytes, -1);
        assert_int_equal(d->mem_hist.n, 4);
        clickhouse_data_free(d);
        clickhouse_history_free(h);
        clickhouse_history_free(NULL);
}

/* ---- readers ------------------------------------------------------------ */

static void test_to_json(void **state)
{
        static const char want23[] =
                "{\"version\":\"23.8.2.7\",\"uptime_s\":86400,\"query_log\":true,"
                "\"latency_ms\":{\"1m\":{\"count\":180,\"p50\":4,\"p95\":12.5,\"p99\":48.01},"
                "\"5m\":{\"count\":910,\"p50\":5,\"p95\":14,\"p99\":96.5},"
                "\"15m\":{\"count\":2700,\"p50\":5,\"p95\":13,\"p99\":120}},"
                "\"queries_per_sec\":3.2,\"failed_per_sec\":0.05,\"inserted_rows_per_sec\":2000,"
                "\"inserted_bytes_per_sec\":160000,"
                "\"slow_queries\":["
                "{\"query\":\"SELECT toStartOfHour(ts) AS bucket, count() AS n, sum(amount) AS amount "
                "FROM orders_rt WHERE ts >= now() - INTERVAL 2 DAY GROUP BY bucket ORDER BY bucket\","
                "\"duration_ms\":4210,\"at\":\"2026-11-26T14:44:50.000Z\"},"
                "{\"query\":\"CREATE USER etl IDENTIFIED WITH sha256_password BY '***' HOST ANY\","
                "\"duration_ms\":1800,\"at\":\"2026-11-26T14:41:40.000Z\"},"
                "{\"query\":\"INSERT INTO orders_rt SELECT * FROM mysql('db1:3306', 'shop', 'orders', "
                "'***', '***')\",\"duration_ms\":1500,\"at\":\"2026-11-26T14:40:00.000Z\"},"
                "{\"query\":\"SELECT * FROM url('https://loader:***@files.example.com/o.csv', CSV) "
                "LIMIT 1\",\"duration_ms\":900,\"at\":\"2026-11-26T14:38:20.000Z\"},"
                "{\"query\":\"SELECT count() FROM s3('https://bucket.s3.amazonaws.com/a/*.parquet', "
                "'***', '***', '***')\",\"duration_ms\":800,\"at\":\"2026-11-26T14:36:40.000Z\"},"
                "{\"query\":\"SELECT 'Ω — ünïcode', x FROM t WHERE s = 'a\\\\'b' AND password = '***'\","
                "\"duration_ms\":500,\"at\":\"2026-11-26T14:35:00.000Z\"}],"
                "\"tables\":["
                "{\"database\":\"cdc\",\"table\":\"orders_local\",\"active_parts\":1210,"
                "\"max_parts_per_partition\":1005},"
                "{\"database\":\"cdc\",\"table\":\"customers\",\"active_parts\":140,"
                "\"max_parts_per_partition\":120},"
                "{\"database\":\"system\",\"table\":\"query_log\",\"active_parts\":12,"
                "\"max_parts_per_partition\":9}],"
                "\"merges\":2,"
                "\"replicas\":["
                "{\"database\":\"cdc\",\"table\":\"customers\",\"is_readonly\":true,\"queue_size\":0,"
                "\"absolute_delay_s\":0},"
                "{\"database\":\"cdc\",\"table\":\"orders_local\",\"is_readonly\":false,"
                "\"queue_size\":150,\"absolute_delay_s\":75}],"
                "\"memory_bytes\":734003200}";
        static const char want_unknown[] =
                "{\"version\":null,\"uptime_s\":null,\"query_log\":false,"
                "\"latency_ms\":{\"1m\":{\"count\":null,\"p50\":null,\"p95\":null,\"p99\":null},"
                "\"5m\":{\"count\":null,\"p50\":null,\"p95\":null,\"p99\":null},"
                "\"15m\":{\"count\":null,\"p50\":null,\"p95\":null,\"p99\":null}},"
                "\"queries_per_sec\":null,\"failed_per_sec\":null,\"inserted_rows_per_sec\":null,"
                "\"inserted_bytes_per_sec\":null,\"slow_queries\":[],\"tables\":[],\"merges\":null,"
                "\"replicas\":[],\"memory_bytes\":null}";
        struct ch_caps c;
        struct ch_data *d = tu_ch_sample("v23", &c);
        cJSON *o = cJSON_CreateObject();
        char *json;

        (void)state;
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_string_equal(json, want23);
        free(json);
        cJSON_Delete(o);
        clickhouse_data_free(d);

        /* Nothing known: nulls, never zeros. */
        d = clickhouse_data_new();
        o = cJSON_CreateObject();
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_string_equal(json, want_unknown);
        free(json);
        cJSON_Delete(o);

        /* Windows with no queries: count 0, percentiles null; 1/60 rounds. */
        tu_ch_parse_ok(clickhouse_parse_latency, "latency_v23_quiet.json", d);
        d->failed_per_sec = 1.0 / 60.0;
        d->merges = 0;
        o = cJSON_CreateObject();
        coll_clickhouse_ops.to_json(d, o);
        json = cJSON_PrintUnformatted(o);
        assert_non_null(strstr(json,
                               "\"1m\":{\"count\":0,\"p50\":null,\"p95\":null,\"p99\":null}"));
        assert_non_null(strstr(json, "\"15m\":{\"count\":2,\"p50\":7,\"p95\":9.8,\"p99\":9.96}"));
        assert_non_null(strstr(json, "\"failed_per_sec\":0.017"));
        assert_non_null(strstr(json, "\"merges\":0"));
        free(json);
        cJSON_Delete(o);
        clickhouse_data_free(d);
}

struct want_alert {
        enum severity sev;
        const char *metric, *subject;
        double value, threshold;
        const char *message;
};

static void check_alerts(const struct alert_list *l, const struct want_alert *w, size_t n)
{
        for (size_t i = 0; i < l->n; i++)
                print_message("alert %s|%s|%s|%g|%g|%s\n", severity_name(l->v[i].sev),
                              l->v[i].metric, l->v[i].subject, l->v[i].value,
                              l->v[i].threshold, l->v[i].message);
        assert_int_equal(l->n, n);
        for (size_t i = 0; i < n; i++) {
                const struct alert *a = &l->v[i];

                assert_int_equal(a->sev, w[i].sev);
                assert_string_equal(a->source, "speed-ch");
                assert_string_equal(a->metric, w[i].metric);
                assert_string_equal(a->subject, w[i].subject);
                if (isnan(w[i].value))
                        assert_true(isnan(a->value));
                else
                        assert_true(a->value == w[i].value);
                if (isnan(w[i].threshold))
                        assert_true(isnan(a->threshold));
                else
                        assert_true(a->threshold == w[i].threshold);
                assert_string_equal(a->message, w[i].message);
        }
}

static void test_alerts(void **state)
{
        static const struct want_alert want_default[] = {
                { SEV_CRIT, "max_parts_per_partition", "cdc.orders_local", 1005, 1000,
                  "cdc.orders_local has 1005 active parts in partition 202611 >= "
                  "parts_to_delay_insert 1000: INSERTs are being delayed (merges behind?)" },
                { SEV_WARN, "max_parts_per_partition", "cdc.customers", 120, 100,
                  "cdc.customers parts in one partition 120 >= warn 100" },
                { SEV_CRIT, "is_readonly", "cdc.customers", NAN, NAN,
                  "replica cdc.customers is read-only (ZooKeeper/Keeper session lost?): "
                  "INSERTs fail" },
                { SEV_CRIT, "is_session_expired", "cdc.customers", NAN, NAN,
                  "replica cdc.customers lost its ZooKeeper/Keeper session" },
                { SEV_CRIT, "replica_queue", "cdc.orders_local", 150, 100,
                  "replica cdc.orders_local queue 150 >= crit 100" },
                { SEV_WARN, "replica_delay_s", "cdc.orders_local", 75, 60,
                  "replica cdc.orders_local delay (s) 75 >= warn 60" },
        };
        static const struct want_alert want_tight[] = {
                { SEV_WARN, "latency_p95_ms", "", 14, 10,
                  "query latency p95 (5m) 14ms >= warn 10ms" },
                { SEV_CRIT, "latency_p99_ms", "", 96.5, 50,
                  "query latency p99 (5m) 96ms >= crit 50ms" },
                { SEV_CRIT, "failed_per_sec", "", 0.05, 0.05,
                  "failed queries 0.05/s >= crit 0.05/s" },
                { SEV_CRIT, "max_parts_per_partition", "cdc.orders_local", 1005, 1000,
                  "cdc.orders_local has 1005 active parts in partition 202611 >= "
                  "parts_to_delay_insert 1000: INSERTs are being delayed (merges behind?)" },
                { SEV_CRIT, "max_parts_per_partition", "cdc.customers", 120, 100,
                  "cdc.customers parts in one partition 120 >= crit 100" },
                { SEV_CRIT, "is_readonly", "cdc.customers", NAN, NAN,
                  "replica cdc.customers is read-only (ZooKeeper/Keeper session lost?): "
                  "INSERTs fail" },
                { SEV_CRIT, "is_session_expired", "cdc.customers", NAN, NAN,
                  "replica cdc.customers lost its ZooKeeper/Keeper session" },
                { SEV_WARN, "replica_queue", "cdc.orders_local", 150, 150,
                  "replica cdc.orders_local queue 150 >= warn 150" },
        };
        struct config *cfg = load_config(NULL);
        struct config *tight = load_config(
                "    thresholds:\n"
                "      latency_p95_ms: {warn: 10ms, crit: 15ms}\n"
                "      latency_p99_ms: {warn: 20ms, crit: 50ms}\n"
                "      failed_per_sec: {warn: 0.01, crit: 0.05}\n"
                "      max_parts_per_partition: {warn: 10, crit: 100}\n"
                "      replica_queue: {warn: 150, crit: 151}\n"
                "      replica_delay_s: {warn: off, crit: off}\n");
        struct alert_list l;
        struct ch_caps c;
        struct ch_data *d = tu_ch_sample("v23", &c);

        (void)state;
        alert_list_init(&l);
        coll_clickhouse_ops.alerts(&cfg->sources[0], d, &l);
        check_alerts(&l, want_default, LO_ARRAY_LEN(want_default));
        alert_list_done(&l);

        /* Tight thresholds; p95 14 is over warn 10 but under crit 15. */
        alert_list_init(&l);
        coll_clickhouse_ops.alerts(&tight->sources[0], d, &l);
        check_alerts(&l, want_tight, LO_ARRAY_LEN(want_tight));
        alert_list_done(&l);

        /* 18.16 data: nothing with defaults but failed/s 0.13 >= 0.1. */
        clickhouse_data_free(d);
        d = tu_ch_sample("v18", &c);
        alert_list_init(&l);
        coll_clickhouse_ops.alerts(&cfg->sources[0], d, &l);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].metric, "failed_per_sec");
        assert_string_equal(l.v[0].message, "failed queries 0.13/s >= warn 0.10/s");
        alert_list_done(&l);
        /* Unknown latency and rates raise nothing. */
        clickhouse_data_free(d);
        d = clickhouse_data_new();
        alert_list_init(&l);
        coll_clickhouse_ops.alerts(&tight->sources[0], d, &l);
        assert_int_equal(l.n, 0);
        alert_list_done(&l);
        clickhouse_data_free(d);
        config_free(cfg);
        config_free(tight);
}

static void test_summary_key_metric(void **state)
{
        struct ch_caps c;
        struct ch_data *d = tu_ch_sample("v23", &c);
        char buf[160];

        (void)state;
        coll_clickhouse_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "v23.8.2.7, p95 14ms, 3.2 q/s, 0.05 failed, max parts 1005/1000");
        assert_true(coll_clickhouse_ops.key_metric(d) == 14);
        clickhouse_data_free(d);
        d = tu_ch_sample("v18", &c);
        d->failed_per_sec = 0;
        coll_clickhouse_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "v18.16.1, p95 55ms, 0.3 q/s, 0 failed, max parts 6/150");
        clickhouse_data_free(d);
        d = clickhouse_data_new();
        coll_clickhouse_ops.summary(d, buf, sizeof buf);
        assert_string_equal(buf, "v?, p95 -, - q/s, - failed");
        assert_true(isnan(coll_clickhouse_ops.key_metric(d)));
        clickhouse_data_free(d);
}

static void test_config(void **state)
{
        static const struct {
                const char *extra;
                const char *msg;
        } bad[] = {
                { "    url: http://u:pw@127.0.0.1:8123\n", "url must not carry credentials" },
                { "    url: \"http://127.0.0.1:8123/?password=x\"\n",
                  "url must not carry user or password parameters" },
                { "    url: ftp://127.0.0.1\n", "url must start with http:// or https://" },
                { "    url: http://\n", "url has no host" },
                { "    url: http://h:8123\n    password_env: A\n    password_file: /b\n",
                  "password_env and password_file are exclusive" },
                { "    url: http://h:8123\n    insecure: yes\n", "insecure" },
                { "    url: http://h:8123\n    passwd_env: X\n", "passwd_env" },
                { "    url: http://h:8123\n    user: \"a\\nb\"\n", "user must be a plain name" },
                { "    url: http://h:8123\n    thresholds: {latency_p95_ms: {warn: 5}}\n",
                  "latency_p95_ms" },
        };
        struct config *c;
        struct err err;
        const struct ch_cfg *kc;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                char *yaml = xasprintf("sources:\n  - name: ch\n    kind: clickhouse\n%s",
                                       bad[i].extra);

                c = config_load_string(yaml, strlen(yaml), "<t>", &err);
                if (c || !strstr(err.msg, bad[i].msg))
                        fail_msg("case %zu: want \"%s\", got \"%s\"", i, bad[i].msg,
                                 c ? "(loaded)" : err.msg);
                free(yaml);
        }
        c = load_config("    user: reader\n    password_env: CH_PW\n    ca_file: /etc/ca.pem\n"
                        "    insecure: false\n");
        kc = c->sources[0].kind_cfg;
        assert_string_equal(kc->url, "http://127.0.0.1:8123");
        assert_string_equal(kc->user, "reader");
        assert_string_equal(kc->password_env, "CH_PW");
        assert_string_equal(kc->ca_file, "/etc/ca.pem");
        assert_false(kc->insecure);
        assert_int_equal(c->sources[0].interval_ms, 5000);
        assert_int_equal(c->sources[0].timeout_ms, 3000);
        /* Documented threshold defaults. */
        assert_true(config_threshold(&c->sources[0], "latency_p95_ms")->warn == 1000);
        assert_true(config_threshold(&c->sources[0], "latency_p95_ms")->crit == 5000);
        assert_true(config_threshold(&c->sources[0], "latency_p99_ms")->warn == 3000);
        assert_true(config_threshold(&c->sources[0], "failed_per_sec")->warn == 0.1);
        assert_true(config_threshold(&c->sources[0], "max_parts_per_partition")->crit == 300);
        assert_true(config_threshold(&c->sources[0], "replica_queue")->warn == 20);
        assert_true(config_threshold(&c->sources[0], "replica_delay_s")->crit == 300);
        config_free(c);
        assert_ptr_equal(collector_find("clickhouse"), &coll_clickhouse_ops);
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/clickhouse/metrics_v23.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "speed-ch", .kind = "clickhouse",
                                   .ops = &coll_clickhouse_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct ch_caps c;

        snap.data = tu_ch_sample("v23", &c);
        assert_non_null(coll_clickhouse_ops.metrics);
        coll_clickhouse_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/clickhouse/metrics_v23.prom");
        free(text);
        promtext_free(p);
        clickhouse_data_free(snap.data);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exception_parse),
                cmocka_unit_test(test_response_check),
                cmocka_unit_test(test_query_display),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_parse_v18),
                cmocka_unit_test(test_parse_v23),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_sql),
                cmocka_unit_test(test_history),
                cmocka_unit_test(test_to_json),
                cmocka_unit_test(test_alerts),
                cmocka_unit_test(test_summary_key_metric),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_metrics),
        };

        return cmocka_run_group_tests_name("coll_clickhouse", tests, NULL, NULL);
}
