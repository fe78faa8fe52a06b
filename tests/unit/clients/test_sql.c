/*
 * Unit tests for src/clients/sql.c and the Snowflake decoders: how each backend's
 * text becomes typed cells, from fixtures captured or shaped after the real
 * servers (tests/fixtures/reconcile/pg_types.tsv, ch_types_18.json -- the
 * output of Debian's ClickHouse 18.16 with timezone Asia/Tokyo --,
 * ch_types_modern.json, ch_error_mid_body.json, and the JSON files in
 * tests/fixtures/snowflake); time and number parsing; time zones
 * from the tz database; the streaming JSON scanner; the runner registry.
 * No server.
 *
 * pg_types.tsv: first line "name:oid" per column, `\N` is SQL NULL.
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
#include "collectors/snowflake.h"
#include "clients/sql.h"
#include "tu.h"
#include "core/util.h"

/* 2024-05-01T10:00:00Z */
#define T10 1714557600000LL
#define DAY 86400000LL

/* Fixture text with its {{now...}} tokens expanded at tu_fixture_now(). */
static char *fixture(const char *rel, size_t *len)
{
        char *s = tu_read_fixture(tu_src_path(rel), len);

        if (!s)
                fail_msg("cannot read %s", rel);
        return s;
}

static const struct sql_cell *cell(const struct sql_result *r, size_t row, const char *col)
{
        for (size_t i = 0; i < r->ncols; i++)
                if (strcmp(r->cols[i].name, col) == 0)
                        return sql_result_cell(r, row, i);
        fail_msg("no column %s", col);
        return NULL;
}

static enum sql_type coltype(const struct sql_result *r, const char *col)
{
        for (size_t i = 0; i < r->ncols; i++)
                if (strcmp(r->cols[i].name, col) == 0)
                        return r->cols[i].type;
        fail_msg("no column %s", col);
        return SQL_T_TEXT;
}

/* ---- PostgreSQL ------------------------------------------------------- */

static void test_pg_fixture(void **state)
{
        char *buf = fixture("tests/fixtures/reconcile/pg_types.tsv", NULL), *line, *save = NULL;
        struct sql_col cols[16];
        char dbt[16][24], *names[16];
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        size_t ncols = 0;
        struct err e;

        (void)state;
        line = strtok_r(buf, "\n", &save);
        for (char *f = line, *tab; f; f = tab ? tab + 1 : NULL) {
                char *colon;

                tab = strchr(f, '\t');
                if (tab)
                        *tab = '\0';
                colon = strchr(f, ':');
                assert_non_null(colon);
                *colon = '\0';
                names[ncols] = f;
                cols[ncols].name = f;
                cols[ncols].type = sql_pg_type((unsigned)atoi(colon + 1), dbt[ncols],
                                               sizeof dbt[ncols]);
                cols[ncols].db_type = dbt[ncols];
                ncols++;
        }
        assert_int_equal(sink.begin(sink.ud, cols, ncols, &e), 0);
        while ((line = strtok_r(NULL, "\n", &save))) {
                struct sql_cell cells[16];
                size_t i = 0;

                for (char *f = line, *tab; f && i < ncols; f = tab ? tab + 1 : NULL, i++) {
                        tab = strchr(f, '\t');
                        if (tab)
                                *tab = '\0';
                        assert_int_equal(sql_pg_cell(cols[i].type, strcmp(f, "\\N") ? f : NULL,
                                                     &cells[i], &e), 0);
                }
                assert_int_equal(i, ncols);
                assert_int_equal(sink.row(sink.ud, cells, ncols, &e), 0);
        }
        (void)names;
        assert_int_equal(r.nrows, 3);

        assert_int_equal(coltype(&r, "bucket"), SQL_T_TIME);
        assert_string_equal(r.cols[0].db_type, "timestamptz");
        assert_int_equal(coltype(&r, "day"), SQL_T_TIME);
        assert_int_equal(coltype(&r, "ts"), SQL_T_TIME);
        assert_int_equal(coltype(&r, "n"), SQL_T_INT);
        assert_int_equal(coltype(&r, "small"), SQL_T_INT);
        assert_int_equal(coltype(&r, "amount"), SQL_T_NUM);
        assert_int_equal(coltype(&r, "f4"), SQL_T_NUM);
        assert_int_equal(coltype(&r, "ok"), SQL_T_BOOL);
        assert_int_equal(coltype(&r, "vc"), SQL_T_TEXT);
        assert_int_equal(coltype(&r, "addr"), SQL_T_TEXT);
        assert_string_equal(r.cols[12].db_type, "oid 869");

        /* One instant in three zones, offsets with minutes and seconds. */
        assert_int_equal(cell(&r, 0, "bucket")->i, T10);
        assert_int_equal(cell(&r, 1, "bucket")->i, T10);
        assert_int_equal(cell(&r, 2, "bucket")->i, T10);
        assert_int_equal(cell(&r, 0, "day")->i, T10 - 10 * 3600000LL);
        assert_int_equal(cell(&r, 1, "day")->i, -DAY);
        assert_int_equal(cell(&r, 0, "ts")->i, T10 + 123);
        assert_int_equal(cell(&r, 1, "ts")->i, -1);
        assert_int_equal(cell(&r, 0, "n")->i, 9007199254740993LL);
        assert_int_equal(cell(&r, 1, "n")->i, INT64_MIN);
        assert_int_equal(cell(&r, 0, "small")->i, -3);
        assert_string_equal(cell(&r, 0, "amount")->text, "1234.50");
        assert_true(cell(&r, 0, "amount")->d == 1234.5);
        assert_true(cell(&r, 1, "amount")->d == -0.001);
        assert_true(cell(&r, 0, "f8")->d == 0.1);
        assert_true(cell(&r, 1, "f8")->d == -1e-05);
        assert_true(isnan(cell(&r, 1, "f4")->d));
        assert_int_equal(cell(&r, 0, "ok")->i, 1);
        assert_int_equal(cell(&r, 1, "ok")->i, 0);
        assert_string_equal(cell(&r, 0, "name")->text, "orders");
        /* Empty text is not NULL. */
        assert_false(cell(&r, 1, "name")->null);
        assert_string_equal(cell(&r, 1, "name")->text, "");
        assert_string_equal(cell(&r, 1, "vc")->text, "x y");
        assert_string_equal(cell(&r, 0, "addr")->text, "192.168.0.1");
        for (size_t i = 1; i < ncols; i++)
                assert_true(sql_result_cell(&r, 2, i)->null);

        /* Bad values say what they are. */
        {
                struct sql_cell c;

                assert_int_equal(sql_pg_cell(SQL_T_INT, "12x", &c, &e), -1);
                assert_string_equal(e.msg, "cannot read int value \"12x\"");
                assert_int_equal(sql_pg_cell(SQL_T_TIME, "infinity", &c, &e), -1);
                assert_string_equal(e.msg, "cannot read timestamp value \"infinity\"");
                assert_int_equal(sql_pg_cell(SQL_T_BOOL, "yes", &c, &e), -1);
        }
        sql_result_done(&r);
        free(buf);
}

/* ---- ClickHouse ------------------------------------------------------- */

static int ch_decode(const char *rel, const char *tz, struct sql_result *r, struct err *e)
{
        size_t len;
        char *body = fixture(rel, &len);
        struct sql_sink sink = sql_result_sink(r);
        int rc = sql_ch_decode(body, len, tz, &sink, e);

        free(body);
        return rc;
}

static void test_ch_18(void **state)
{
        struct sql_result r = { 0 };
        struct err e;

        (void)state;
        /* The fixture's server ran with <timezone>Asia/Tokyo</timezone>. */
        assert_int_equal(ch_decode("tests/fixtures/reconcile/ch_types_18.json", "Asia/Tokyo", &r,
                                   &e), 0);
        assert_int_equal(r.nrows, 1);
        assert_int_equal(r.ncols, 16);
        assert_int_equal(coltype(&r, "n"), SQL_T_INT);
        assert_string_equal(r.cols[0].db_type, "UInt64");
        assert_int_equal(cell(&r, 0, "n")->i, 3);             /* "3": quoted UInt64 */
        assert_int_equal(cell(&r, 0, "i")->i, -5);            /* Int32 as a number */
        assert_int_equal(cell(&r, 0, "big")->i, -9007199254740993LL);
        assert_int_equal(coltype(&r, "amount"), SQL_T_NUM);
        assert_string_equal(cell(&r, 0, "amount")->text, "1234.50");
        assert_true(cell(&r, 0, "amount")->d == 1234.5);
        assert_true(cell(&r, 0, "f")->d == 0.1);
        assert_true(cell(&r, 0, "fnan")->null);               /* nan prints as null */
        assert_int_equal(coltype(&r, "t_tokyo"), SQL_T_TIME);
        assert_int_equal(cell(&r, 0, "t_tokyo")->i, T10);     /* 19:00 +09:00 */
        assert_int_equal(cell(&r, 0, "t_kolkata")->i, T10);   /* 15:30 +05:30 */
        assert_int_equal(cell(&r, 0, "t_server")->i, T10);    /* server zone Tokyo */
        assert_int_equal(cell(&r, 0, "d")->i, T10 - 10 * 3600000LL);   /* dates have no zone */
        assert_true(cell(&r, 0, "nn")->null);
        assert_int_equal(cell(&r, 0, "nv")->i, 7);
        assert_string_equal(cell(&r, 0, "s")->text, "a\"b\\c\t\xc3\xbc");
        assert_string_equal(cell(&r, 0, "fs")->text, "ab");
        assert_int_equal(coltype(&r, "arr"), SQL_T_TEXT);
        assert_string_equal(cell(&r, 0, "arr")->text, "[1,2]");
        assert_int_equal(cell(&r, 0, "flag")->i, 1);
        sql_result_done(&r);

        /* The same body read as a UTC server: only the zone-less column moves. */
        assert_int_equal(ch_decode("tests/fixtures/reconcile/ch_types_18.json", NULL, &r, &e), 0);
        assert_int_equal(cell(&r, 0, "t_server")->i, T10 + 9 * 3600000LL);
        assert_int_equal(cell(&r, 0, "t_tokyo")->i, T10);
        sql_result_done(&r);
}

static void test_ch_modern(void **state)
{
        struct sql_result r = { 0 };
        struct err e;

        (void)state;
        assert_int_equal(ch_decode("tests/fixtures/reconcile/ch_types_modern.json", "UTC", &r,
                                   &e), 0);
        assert_int_equal(r.nrows, 2);
        assert_int_equal(coltype(&r, "bucket"), SQL_T_TIME);
        assert_int_equal(cell(&r, 0, "bucket")->i, T10 + 250);
        assert_int_equal(cell(&r, 1, "bucket")->i, 0);
        assert_int_equal(cell(&r, 0, "kolkata")->i, T10);
        assert_int_equal(cell(&r, 1, "kolkata")->i, 0);
        assert_int_equal(cell(&r, 0, "n")->i, 18446744073709LL);
        assert_int_equal(cell(&r, 1, "total")->i, INT64_MAX);
        assert_int_equal(cell(&r, 0, "total")->i, -42);
        assert_int_equal(coltype(&r, "amount"), SQL_T_NUM);     /* quoted Decimal */
        assert_string_equal(cell(&r, 0, "amount")->text, "1234.50");
        assert_true(cell(&r, 1, "amount")->d == -0.01);
        assert_int_equal(coltype(&r, "ratio"), SQL_T_NUM);      /* Nullable(Float64) */
        assert_true(cell(&r, 0, "ratio")->d == 0.25);
        assert_true(cell(&r, 1, "ratio")->null);
        assert_int_equal(coltype(&r, "kind"), SQL_T_TEXT);      /* Enum8 */
        assert_string_equal(cell(&r, 0, "kind")->text, "QueryFinish");
        assert_int_equal(coltype(&r, "region"), SQL_T_TEXT);    /* LowCardinality(String) */
        assert_string_equal(cell(&r, 1, "region")->text, "");
        assert_int_equal(coltype(&r, "ok"), SQL_T_BOOL);
        assert_int_equal(cell(&r, 0, "ok")->i, 1);
        assert_int_equal(cell(&r, 1, "ok")->i, 0);
        assert_int_equal(cell(&r, 0, "day")->i, -DAY);          /* Date32 before 1970 */
        assert_int_equal(cell(&r, 1, "day")->i, sql_days_from_civil(2024, 2, 29) * DAY);
        assert_int_equal(coltype(&r, "huge"), SQL_T_NUM);       /* UInt128: exact text */
        assert_string_equal(cell(&r, 0, "huge")->text, "340282366920938463463374607431768211455");
        sql_result_done(&r);
}

static void test_ch_types(void **state)
{
        char tz[64];

        (void)state;
        assert_int_equal(sql_ch_type("Nullable(UInt64)", tz, sizeof tz), SQL_T_INT);
        assert_int_equal(sql_ch_type("LowCardinality(Nullable(String))", tz, sizeof tz), SQL_T_TEXT);
        assert_int_equal(sql_ch_type("DateTime64(3, 'Europe/Berlin')", tz, sizeof tz), SQL_T_TIME);
        assert_string_equal(tz, "Europe/Berlin");
        assert_int_equal(sql_ch_type("Nullable(DateTime('UTC'))", tz, sizeof tz), SQL_T_TIME);
        assert_string_equal(tz, "UTC");
        assert_int_equal(sql_ch_type("DateTime", tz, sizeof tz), SQL_T_TIME);
        assert_string_equal(tz, "");
        assert_int_equal(sql_ch_type("Decimal128(4)", tz, sizeof tz), SQL_T_NUM);
        assert_int_equal(sql_ch_type("Float32", tz, sizeof tz), SQL_T_NUM);
        assert_int_equal(sql_ch_type("Int8", tz, sizeof tz), SQL_T_INT);
        assert_int_equal(sql_ch_type("Int256", tz, sizeof tz), SQL_T_NUM);
        assert_int_equal(sql_ch_type("IntervalSecond", tz, sizeof tz), SQL_T_TEXT);
        assert_int_equal(sql_ch_type("Array(UInt8)", tz, sizeof tz), SQL_T_TEXT);
        assert_int_equal(sql_ch_type("UUID", tz, sizeof tz), SQL_T_TEXT);
}

static void test_ch_errors(void **state)
{
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        struct err e;
        const char *s;

        (void)state;
        /* 18.16 appends the exception after rows it already sent, HTTP 200. */
        assert_int_equal(ch_decode("tests/fixtures/reconcile/ch_error_mid_body.json", "UTC", &r,
                                   &e), -1);
        assert_string_equal(e.msg, "ClickHouse error: Code: 395, e.displayText() = DB::Exception: "
                            "Value passed to 'throwIf' function is non zero, e.what() = "
                            "DB::Exception");
        sql_result_done(&r);

        s = "Code: 60. DB::Exception: Table default.foo does not exist. (UNKNOWN_TABLE) "
            "(version 23.8.2.7 (official build))\n";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_string_equal(e.msg, "ClickHouse error: Code: 60. DB::Exception: Table default.foo "
                            "does not exist. (UNKNOWN_TABLE) (version 23.8.2.7 (official build))");
        sql_result_done(&r);

        /* Newer servers put it inside the JSON document. */
        s = "{\"meta\":[{\"name\":\"x\",\"type\":\"UInt8\"}],\"data\":[{\"x\":1}],"
            "\"exception\":\"Code: 241. DB::Exception: Memory limit exceeded\\nstack\"}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_string_equal(e.msg, "ClickHouse error: Code: 241. DB::Exception: Memory limit exceeded");
        sql_result_done(&r);

        s = "<html>proxy error</html>";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_string_equal(e.msg, "ClickHouse answered with something other than FORMAT JSON "
                            "(malformed JSON: expected an object)");

        s = "{\"meta\":[{\"name\":\"x\",\"type\":\"UInt8\"}],\"data\":[{\"x\":\"nope\"}]}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_string_equal(e.msg, "column x: cannot read int value \"nope\"");
        sql_result_done(&r);

        s = "{\"meta\":[{\"name\":\"x\",\"type\":\"UInt8\"}],\"data\":[{\"x\":1,\"y\":2}]}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_string_equal(e.msg, "ClickHouse row 0 has more than 1 values");
        sql_result_done(&r);

        s = "{\"meta\":[{\"name\":\"t\",\"type\":\"DateTime('Mars/Olympus')\"}],\"data\":[]}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), -1);
        assert_non_null(strstr(e.msg, "unknown time zone \"Mars/Olympus\""));
        sql_result_done(&r);

        /* JSONCompact rows (arrays) work too; an empty result still begins. */
        s = "{\"meta\":[{\"name\":\"x\",\"type\":\"UInt8\"}],\"data\":[[5]]}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), 0);
        assert_int_equal(sql_result_cell(&r, 0, 0)->i, 5);
        sql_result_done(&r);
        s = "{\"meta\":[{\"name\":\"x\",\"type\":\"UInt8\"}],\"data\":[]}";
        sink = sql_result_sink(&r);
        assert_int_equal(sql_ch_decode(s, strlen(s), NULL, &sink, &e), 0);
        assert_int_equal(r.ncols, 1);
        assert_int_equal(r.nrows, 0);
        sql_result_done(&r);
}

/* ---- Snowflake -------------------------------------------------------- */

static void test_sf_types(void **state)
{
        size_t len;
        char *body = fixture("tests/fixtures/snowflake/result_types.json", &len);
        struct sf_result res = { 0 };
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        struct err e;

        (void)state;
        assert_int_equal(coll_snowflake_decode(body, len, &res, &sink, &e), 0);
        assert_string_equal(res.handle, "01b3c6e2-0605-7a1f-0000-4a2100d3b1f2");
        assert_int_equal(res.nparts, 1);
        assert_int_equal(res.num_rows, 2);
        assert_int_equal(r.nrows, 2);
        assert_int_equal(coltype(&r, "BUCKET"), SQL_T_TIME);
        assert_int_equal(coltype(&r, "N"), SQL_T_INT);
        assert_int_equal(coltype(&r, "AMOUNT"), SQL_T_NUM);
        assert_int_equal(coltype(&r, "BIG"), SQL_T_NUM);        /* NUMBER(38,0) */
        assert_int_equal(coltype(&r, "RATIO"), SQL_T_NUM);
        assert_int_equal(coltype(&r, "REGION"), SQL_T_TEXT);
        assert_int_equal(coltype(&r, "OK"), SQL_T_BOOL);
        assert_int_equal(coltype(&r, "DAY"), SQL_T_TIME);
        assert_int_equal(coltype(&r, "AT"), SQL_T_TIME);
        assert_int_equal(coltype(&r, "V"), SQL_T_TEXT);

        assert_int_equal(cell(&r, 0, "BUCKET")->i, T10);
        assert_true(cell(&r, 1, "BUCKET")->null);
        assert_int_equal(cell(&r, 0, "N")->i, 42);
        assert_int_equal(cell(&r, 1, "N")->i, -7);
        assert_string_equal(cell(&r, 0, "AMOUNT")->text, "1234.50");  /* not rescaled */
        assert_true(cell(&r, 1, "AMOUNT")->d == -0.01);
        assert_string_equal(cell(&r, 0, "BIG")->text, "123456789012345678901234567890");
        assert_true(cell(&r, 1, "RATIO")->d == 0.0015);
        assert_string_equal(cell(&r, 1, "REGION")->text, "caf\xc3\xa9 \"x\"");
        assert_int_equal(cell(&r, 0, "OK")->i, 1);
        assert_int_equal(cell(&r, 1, "OK")->i, 0);
        assert_int_equal(cell(&r, 0, "DAY")->i, 19844 * DAY);
        assert_int_equal(cell(&r, 1, "DAY")->i, -DAY);
        assert_int_equal(cell(&r, 0, "AT")->i, 36000500);      /* 10:00:00.5 */
        assert_int_equal(cell(&r, 0, "LTZ")->i, T10 + 123);
        assert_int_equal(cell(&r, 1, "LTZ")->i, -1500);
        /* timestamp_tz: the epoch part is UTC already; 1980 = +09:00. */
        assert_int_equal(cell(&r, 0, "TZ")->i, T10);
        assert_int_equal(cell(&r, 1, "TZ")->i, -500);
        assert_string_equal(cell(&r, 0, "V")->text, "{\n  \"a\": 1\n}");
        assert_true(cell(&r, 1, "V")->null);
        sql_result_done(&r);
        coll_snowflake_result_done(&res);
        free(body);
}

static void test_sf_partitions(void **state)
{
        size_t l0, l1;
        char *p0 = fixture("tests/fixtures/snowflake/result_p0.json", &l0);
        char *p1 = fixture("tests/fixtures/snowflake/result_p1.json", &l1);
        struct sf_result res = { 0 };
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        struct err e;

        (void)state;
        assert_int_equal(coll_snowflake_decode(p0, l0, &res, &sink, &e), 0);
        assert_int_equal(res.nparts, 2);
        assert_int_equal(res.part_rows[0], 2);
        assert_int_equal(res.part_rows[1], 3);
        assert_int_equal(r.nrows, 2);
        assert_int_equal(coll_snowflake_decode_partition(p1, l1, &res, 1, &sink, &e), 0);
        assert_int_equal(r.nrows, 5);
        /* The buckets are {{now-4h30m|s}} .. {{now-30m|s}} tokens. */
        assert_int_equal(sql_result_cell(&r, 4, 0)->i, (tu_fixture_now() - 1800) * 1000);
        assert_int_equal(sql_result_cell(&r, 4, 1)->i, 50);
        assert_true(sql_result_cell(&r, 3, 2)->null);
        /* A partition whose size disagrees with partitionInfo is an error. */
        assert_int_equal(coll_snowflake_decode_partition(p1, l1, &res, 0, &sink, &e), -1);
        assert_string_equal(e.msg, "Snowflake partition 0 has 3 rows, partitionInfo says 2");
        sql_result_done(&r);
        coll_snowflake_result_done(&res);
        free(p0);
        free(p1);
}

static void test_sf_cells_and_errors(void **state)
{
        struct sql_cell c;
        struct err e;
        size_t len;
        char *body;

        (void)state;
        assert_int_equal(coll_snowflake_type("fixed", 0, 18), SQL_T_INT);
        assert_int_equal(coll_snowflake_type("fixed", 0, 38), SQL_T_NUM);
        assert_int_equal(coll_snowflake_type("fixed", 2, 10), SQL_T_NUM);
        assert_int_equal(coll_snowflake_type("timestamp_tz", 9, 0), SQL_T_TIME);
        assert_int_equal(coll_snowflake_type("binary", -1, 0), SQL_T_TEXT);
        assert_int_equal(coll_snowflake_cell(SQL_T_TIME, "timestamp_tz", "1.5 3000", &c, &e), -1);
        assert_string_equal(e.msg, "cannot read timestamp_tz value \"1.5 3000\"");
        assert_int_equal(coll_snowflake_cell(SQL_T_TIME, "date", "x", &c, &e), -1);
        assert_int_equal(coll_snowflake_cell(SQL_T_INT, "fixed", "1.5", &c, &e), -1);

        body = fixture("tests/fixtures/snowflake/error_422.json", &len);
        coll_snowflake_errmsg(422, body, len, NULL, &e);
        assert_string_equal(e.msg, "Snowflake error 002003 (sqlState 02000) (HTTP 422): SQL "
                            "compilation error: Object 'MARTS.PUBLIC.NOPE' does not exist or "
                            "not authorized.");
        free(body);
        body = fixture("tests/fixtures/snowflake/error_401.json", &len);
        coll_snowflake_errmsg(401, body, len, "SHA256:abc=", &e);
        assert_string_equal(e.msg, "Snowflake rejected the token (HTTP 401, code 390144: JWT "
                            "token is invalid.): check account and user, and that the user's "
                            "RSA_PUBLIC_KEY_FP is SHA256:abc=");
        coll_snowflake_errmsg(401, body, len, NULL, &e);
        assert_string_equal(e.msg, "Snowflake rejected the token (HTTP 401, code 390144: JWT "
                            "token is invalid.): check account and user and the OAuth token");
        free(body);
        coll_snowflake_errmsg(503, "<html/>", 7, NULL, &e);
        assert_string_equal(e.msg, "Snowflake answered HTTP 503 Service Unavailable");

        /* Not a ResultSet. */
        {
                struct sf_result res = { 0 };
                struct sql_result r = { 0 };
                struct sql_sink sink = sql_result_sink(&r);
                const char *s = "{\"code\":\"090001\"}";

                assert_int_equal(coll_snowflake_decode(s, strlen(s), &res, &sink, &e), -1);
                assert_string_equal(e.msg, "Snowflake answered 200 without a ResultSet (no "
                                    "resultSetMetaData)");
                coll_snowflake_result_done(&res);
                sql_result_done(&r);
        }
}

static void test_sf_account(void **state)
{
        char b[64];

        (void)state;
        coll_snowflake_jwt_account("xy12345.us-east-2.aws", b, sizeof b);
        assert_string_equal(b, "XY12345");
        coll_snowflake_jwt_account("myorg-myaccount", b, sizeof b);
        assert_string_equal(b, "MYORG-MYACCOUNT");
}

/* ---- times, numbers, zones -------------------------------------------- */

static void test_parse(void **state)
{
        int64_t ms, i;
        double d;

        (void)state;
        assert_int_equal(sql_parse_time("2024-05-01T10:00:00Z", &ms), 0);
        assert_int_equal(ms, T10);
        assert_int_equal(sql_parse_time("2024-05-01 10:00", &ms), 0);
        assert_int_equal(ms, T10);
        assert_int_equal(sql_parse_time("2024-05-01 12:00:00+0200", &ms), 0);
        assert_int_equal(ms, T10);
        assert_int_equal(sql_parse_time("2024-05-01 10:00:00.1-00", &ms), 0);
        assert_int_equal(ms, T10 + 100);
        assert_int_equal(sql_parse_time("2024-02-29", &ms), 0);
        assert_int_equal(sql_parse_time("1900-01-01", &ms), 0);
        assert_int_equal(ms, -2208988800000LL);
        assert_int_equal(sql_parse_time("2023-02-29", &ms), -1);
        assert_int_equal(sql_parse_time("2024-04-31", &ms), -1);
        assert_int_equal(sql_parse_time("2024-05-01 25:00:00", &ms), -1);
        assert_int_equal(sql_parse_time("2024-05-01 10:00:00 BC", &ms), -1);
        assert_int_equal(sql_parse_time("2024-05-01x", &ms), -1);
        assert_int_equal(sql_parse_time("24-05-01", &ms), -1);
        assert_int_equal(sql_parse_time("", &ms), -1);

        assert_int_equal(sql_parse_epoch("1.5", &ms), 0);
        assert_int_equal(ms, 1500);
        assert_int_equal(sql_parse_epoch("-1.5", &ms), 0);
        assert_int_equal(ms, -1500);
        assert_int_equal(sql_parse_epoch("1714557600.123456789", &ms), 0);
        assert_int_equal(ms, T10 + 123);
        assert_int_equal(sql_parse_epoch("1714557600", &ms), 0);
        assert_int_equal(ms, T10);
        assert_int_equal(sql_parse_epoch("1e3", &ms), -1);
        assert_int_equal(sql_parse_epoch("1.", &ms), -1);
        assert_int_equal(sql_parse_epoch("", &ms), -1);

        assert_int_equal(sql_parse_int("-9223372036854775808", &i), 0);
        assert_int_equal(i, INT64_MIN);
        assert_int_equal(sql_parse_int("9223372036854775808", &i), -1);
        assert_int_equal(sql_parse_int("+7", &i), 0);
        assert_int_equal(sql_parse_int("7 ", &i), -1);
        assert_int_equal(sql_parse_int("", &i), -1);

        assert_int_equal(sql_parse_num("1e3", &d), 0);
        assert_true(d == 1000);
        assert_int_equal(sql_parse_num("-.5", &d), 0);
        assert_true(d == -0.5);
        assert_int_equal(sql_parse_num("-Infinity", &d), 0);
        assert_true(isinf(d) && d < 0);
        assert_int_equal(sql_parse_num("NaN", &d), 0);
        assert_true(isnan(d));
        assert_int_equal(sql_parse_num("0x10", &d), -1);
        assert_int_equal(sql_parse_num(" 1", &d), -1);
        assert_int_equal(sql_parse_num("1e", &d), -1);
        assert_int_equal(sql_parse_num(".", &d), -1);
}

static int64_t utc(const char *s)
{
        int64_t ms;

        assert_int_equal(sql_parse_time(s, &ms), 0);
        return ms;
}

static void test_tz(void **state)
{
        struct sql_tz *ny, *kol, *u;
        struct err e;

        (void)state;
        ny = sql_tz_load("America/New_York", &e);
        assert_non_null(ny);
        assert_int_equal(sql_tz_to_utc(ny, utc("2024-07-01 12:00:00")), utc("2024-07-01 16:00:00"));
        assert_int_equal(sql_tz_to_utc(ny, utc("2024-01-15 12:00:00")), utc("2024-01-15 17:00:00"));
        /* Skipped hour (02:30 does not exist): the offset before the jump. */
        assert_int_equal(sql_tz_to_utc(ny, utc("2024-03-10 02:30:00")), utc("2024-03-10 07:30:00"));
        /* Repeated hour: the earlier instant (still EDT). */
        assert_int_equal(sql_tz_to_utc(ny, utc("2024-11-03 01:30:00")), utc("2024-11-03 05:30:00"));
        assert_int_equal(sql_tz_to_utc(ny, utc("2024-11-03 02:30:00")), utc("2024-11-03 07:30:00"));
        sql_tz_free(ny);

        kol = sql_tz_load("Asia/Kolkata", &e);
        assert_non_null(kol);
        assert_int_equal(sql_tz_to_utc(kol, utc("2024-05-01 15:30:00")), T10);
        sql_tz_free(kol);

        u = sql_tz_load("UTC", &e);
        assert_non_null(u);
        assert_int_equal(sql_tz_to_utc(u, T10), T10);
        sql_tz_free(u);

        assert_null(sql_tz_load("../../etc/passwd", &e));
        assert_string_equal(e.msg, "time zone name \"../../etc/passwd\" is not valid");
        assert_null(sql_tz_load("Nope/Zone", &e));
        assert_non_null(strstr(e.msg, "unknown time zone \"Nope/Zone\""));
        /* A file that is not TZif. */
        setenv("LO_ZONEINFO", tu_src_path("tests/fixtures/reconcile/zoneinfo"), 1);
        assert_null(sql_tz_load("Not/TZif", &e));
        assert_non_null(strstr(e.msg, "is not a TZif file"));
        unsetenv("LO_ZONEINFO");
}

/* ---- streaming JSON --------------------------------------------------- */

static void test_json_scanner(void **state)
{
        const char *doc = " { \"a\" : [1, {\"b\": \"]}\"}, \"x\\\"y\"], \"data\":[ ] ,\"s\":"
                          "\"\\ud83d\\ude00\\u00e9\\/\"}";
        struct sql_jval v, el;
        struct err e;
        size_t pos = 0;
        char *s;
        bool isnull;
        int n = 0;

        (void)state;
        assert_int_equal(sql_json_member(doc, strlen(doc), "a", &v, &e), 1);
        while (sql_json_next(&v, &pos, &el, &e) == 1)
                n++;
        assert_int_equal(n, 3);
        assert_int_equal(sql_json_member(doc, strlen(doc), "data", &v, &e), 1);
        pos = 0;
        assert_int_equal(sql_json_next(&v, &pos, &el, &e), 0);
        assert_int_equal(sql_json_member(doc, strlen(doc), "nope", &v, &e), 0);
        assert_int_equal(sql_json_member(doc, strlen(doc), "s", &v, &e), 1);
        assert_int_equal(sql_json_string(&v, &s, &isnull), 0);
        assert_string_equal(s, "\xf0\x9f\x98\x80\xc3\xa9/");
        free(s);

        v = (struct sql_jval){ "null", 4 };
        assert_int_equal(sql_json_string(&v, &s, &isnull), 0);
        assert_true(isnull);
        assert_null(s);
        v = (struct sql_jval){ "\"\\ud83d\"", 8 };
        assert_int_equal(sql_json_string(&v, &s, &isnull), -1);
        v = (struct sql_jval){ "\"\\u0000\"", 8 };
        assert_int_equal(sql_json_string(&v, &s, &isnull), -1);
        v = (struct sql_jval){ "12", 2 };
        assert_int_equal(sql_json_string(&v, &s, &isnull), -1);

        /* Malformed documents are errors, never crashes. */
        assert_int_equal(sql_json_member("{\"a\":[1,2}", 10, "b", &v, &e), -1);
        assert_int_equal(sql_json_member("{\"a\" 1}", 7, "a", &v, &e), -1);
        assert_int_equal(sql_json_member("[1]", 3, "a", &v, &e), -1);
        assert_int_equal(sql_json_member("{\"a\":\"x", 7, "a", &v, &e), -1);
        v = (struct sql_jval){ "[1 2]", 5 };
        pos = 0;
        assert_int_equal(sql_json_next(&v, &pos, &el, &e), 1);
        assert_int_equal(sql_json_next(&v, &pos, &el, &e), -1);
}

/* ---- registry and the result sink -------------------------------------- */

static void test_registry(void **state)
{
        const char *y = "sources:\n  - {name: k, kind: kafka, bootstrap: \"127.0.0.1:9\"}\n";
        struct config *c;
        struct err e;

        (void)state;
        assert_true(sql_kind_queryable("postgres"));
        assert_true(sql_kind_queryable("clickhouse"));
        assert_true(sql_kind_queryable("snowflake"));
        assert_false(sql_kind_queryable("kafka"));
        assert_false(sql_kind_queryable("reconcile"));
        assert_false(sql_kind_queryable(NULL));
        for (size_t i = 0; sql_kinds[i]; i++)
                assert_non_null(collector_find(sql_kinds[i]));
        c = config_load_string(y, strlen(y), "t.yaml", &e);
        if (c) {
                assert_null(sql_conn_new(&c->sources[0], 1000));
                config_free(c);
        }
        assert_null(sql_conn_new(NULL, 1000));
}

static void test_result_growth(void **state)
{
        struct sql_result r = { 0 };
        struct sql_sink sink = sql_result_sink(&r);
        struct sql_col cols[2] = { { "a", SQL_T_INT, "int8" }, { "b", SQL_T_TEXT, "text" } };
        struct err e;

        (void)state;
        assert_int_equal(sink.begin(sink.ud, cols, 2, &e), 0);
        for (int i = 0; i < 1000; i++) {
                char t[16];
                struct sql_cell c[2] = { { .i = i }, { .text = t } };

                snprintf(t, sizeof t, "r%d", i);
                assert_int_equal(sink.row(sink.ud, c, 2, &e), 0);
        }
        assert_int_equal(sink.row(sink.ud, NULL, 1, &e), -1);
        assert_string_equal(e.msg, "row has 1 values for 2 columns");
        assert_int_equal(r.nrows, 1000);
        assert_int_equal(sql_result_cell(&r, 999, 0)->i, 999);
        assert_string_equal(sql_result_cell(&r, 512, 1)->text, "r512");
        assert_null(sql_result_cell(&r, 1000, 0));
        assert_string_equal(sql_type_name(SQL_T_TIME), "timestamp");
        sql_result_done(&r);
        sql_result_done(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pg_fixture),
                cmocka_unit_test(test_ch_18),
                cmocka_unit_test(test_ch_modern),
                cmocka_unit_test(test_ch_types),
                cmocka_unit_test(test_ch_errors),
                cmocka_unit_test(test_sf_types),
                cmocka_unit_test(test_sf_partitions),
                cmocka_unit_test(test_sf_cells_and_errors),
                cmocka_unit_test(test_sf_account),
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_tz),
                cmocka_unit_test(test_json_scanner),
                cmocka_unit_test(test_registry),
                cmocka_unit_test(test_result_growth),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
