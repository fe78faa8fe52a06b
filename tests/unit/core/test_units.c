/*
 * Tests for the strict unit parsers config_parse_duration() and
 * config_parse_size(): exact values for valid input, exact messages for
 * invalid input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

struct ok_case {
        const char *in;
        int64_t     want;
};

struct bad_case {
        const char *in;
        const char *msg;
};

static const struct ok_case dur_ok[] = {
        { "0ms", 0 },
        { "0s", 0 },
        { "1ms", 1 },
        { "250ms", 250 },
        { "5s", 5000 },
        { "1.5s", 1500 },
        { "0.25s", 250 },
        { "0.001s", 1 },
        { "1.000000s", 1000 },
        { "2m", 120000 },
        { "1.5m", 90000 },
        { "1h", 3600000 },
        { "1.25h", 4500000 },
        { "1d", 86400000 },
        { "0.5d", 43200000 },
        { "007s", 7000 },
        { "90s", 90000 },
        { "3600000ms", 3600000 },
        { "9223372036854775807ms", INT64_MAX },
        { "106751991167d", 106751991167LL * 86400000 },
};

static const struct bad_case dur_bad[] = {
        { "", "empty duration; expected a number and a unit (ms, s, m, h or d)" },
        { "5", "invalid duration \"5\": missing unit (ms, s, m, h or d)" },
        { "1.5", "invalid duration \"1.5\": missing unit (ms, s, m, h or d)" },
        { "-1s", "invalid duration \"-1s\": negative values are not allowed" },
        { "5 s", "invalid duration \"5 s\": spaces are not allowed" },
        { " 5s", "invalid duration \" 5s\": spaces are not allowed" },
        { "5s ", "invalid duration \"5s \": spaces are not allowed" },
        { "5sec", "invalid duration \"5sec\": unknown unit \"sec\" (use ms, s, m, h or d)" },
        { "5S", "invalid duration \"5S\": unknown unit \"S\" (did you mean \"s\"?)" },
        { "5MS", "invalid duration \"5MS\": unknown unit \"MS\" (did you mean \"ms\"?)" },
        { "5us", "invalid duration \"5us\": unknown unit \"us\" (use ms, s, m, h or d)" },
        { "1m30s", "invalid duration \"1m30s\": unknown unit \"m30s\" (use ms, s, m, h or d)" },
        { "1e3s", "invalid duration \"1e3s\": exponents are not allowed" },
        { "1.5.2s", "invalid duration \"1.5.2s\": malformed number" },
        { "1.s", "invalid duration \"1.s\": malformed number" },
        { ".5s", "invalid duration \".5s\": expected a number and a unit (ms, s, m, h or d)" },
        { "+5s", "invalid duration \"+5s\": expected a number and a unit (ms, s, m, h or d)" },
        { "s", "invalid duration \"s\": expected a number and a unit (ms, s, m, h or d)" },
        { "five s", "invalid duration \"five s\": spaces are not allowed" },
        { "0x10s", "invalid duration \"0x10s\": unknown unit \"x10s\" (use ms, s, m, h or d)" },
        { "1.5ms", "invalid duration \"1.5ms\": finer than a millisecond" },
        { "0.0001s", "invalid duration \"0.0001s\": finer than a millisecond" },
        { "1.0000001s", "invalid duration \"1.0000001s\": too many decimal places (at most 6)" },
        { "9223372036854775808ms", "invalid duration \"9223372036854775808ms\": too large" },
        { "9223372036854775807s", "invalid duration \"9223372036854775807s\": too large" },
        { "106751991168d", "invalid duration \"106751991168d\": too large" },
        { "99999999999999999999999999s",
          "invalid duration \"99999999999999999999999999s\": too large" },
        { "inf", "invalid duration \"inf\": expected a number and a unit (ms, s, m, h or d)" },
        { "NaNs", "invalid duration \"NaNs\": expected a number and a unit (ms, s, m, h or d)" },
};

static const struct ok_case size_ok[] = {
        { "0", 0 },
        { "1024", 1024 },
        { "100B", 100 },
        { "1KB", 1000 },
        { "1.5KB", 1500 },
        { "512KiB", 512 * 1024 },
        { "1MB", 1000000 },
        { "256MiB", 256LL << 20 },
        { "1.5GB", 1500000000 },
        { "2GiB", 2LL << 30 },
        { "0.5GiB", 1LL << 29 },
        { "1.3KiB", 1331 },             /* 1331.2 rounds to the nearest byte */
        { "1.9B", 2 },
        { "3TB", 3000000000000LL },
        { "8TiB", 8LL << 40 },
        { "1.000001TiB", 1099512727288LL },
        { "9223372036854775807", INT64_MAX },
        { "9223372036854775807B", INT64_MAX },
        { "8388607TiB", 8388607LL << 40 },
};

static const struct bad_case size_bad[] = {
        { "", "empty size; expected a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
        { "1.5", "invalid size \"1.5\": a number without a unit is whole bytes; add a unit "
                 "(B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
        { "-1", "invalid size \"-1\": negative values are not allowed" },
        { "-1GiB", "invalid size \"-1GiB\": negative values are not allowed" },
        { "5 GiB", "invalid size \"5 GiB\": spaces are not allowed" },
        { "1.5.2GB", "invalid size \"1.5.2GB\": malformed number" },
        { "1..5GB", "invalid size \"1..5GB\": malformed number" },
        { "1e3", "invalid size \"1e3\": exponents are not allowed" },
        { "1E+3KB", "invalid size \"1E+3KB\": exponents are not allowed" },
        { "2gib", "invalid size \"2gib\": unknown unit \"gib\" (did you mean \"GiB\"?)" },
        { "2Gb", "invalid size \"2Gb\": unknown unit \"Gb\" (did you mean \"GB\"?)" },
        { "2G", "invalid size \"2G\": unknown unit \"G\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
        { "2PiB", "invalid size \"2PiB\": unknown unit \"PiB\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
        { "2 ", "invalid size \"2 \": spaces are not allowed" },
        { "GiB", "invalid size \"GiB\": expected a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
        { "9223372036854775808", "invalid size \"9223372036854775808\": too large" },
        { "8388608TiB", "invalid size \"8388608TiB\": too large" },
        { "1.0000001GB", "invalid size \"1.0000001GB\": too many decimal places (at most 6)" },
        { "1,5GB", "invalid size \"1,5GB\": unknown unit \",5GB\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)" },
};

static void test_duration_ok(void **state)
{
        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(dur_ok); i++) {
                struct err e;
                int64_t v = -42;

                err_clear(&e);
                if (config_parse_duration(dur_ok[i].in, &v, &e) != 0)
                        fail_msg("\"%s\": %s", dur_ok[i].in, e.msg);
                if (v != dur_ok[i].want)
                        fail_msg("\"%s\": got %lld, want %lld", dur_ok[i].in, (long long)v,
                                 (long long)dur_ok[i].want);
        }
}

static void test_duration_bad(void **state)
{
        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(dur_bad); i++) {
                struct err e;
                int64_t v = -42;

                err_clear(&e);
                if (config_parse_duration(dur_bad[i].in, &v, &e) != -1)
                        fail_msg("\"%s\": accepted as %lld", dur_bad[i].in, (long long)v);
                assert_int_equal(v, -42);       /* output untouched on error */
                assert_int_not_equal(e.code, 0);
                assert_string_equal(e.msg, dur_bad[i].msg);
        }
}

static void test_size_ok(void **state)
{
        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(size_ok); i++) {
                struct err e;
                int64_t v = -42;

                err_clear(&e);
                if (config_parse_size(size_ok[i].in, &v, &e) != 0)
                        fail_msg("\"%s\": %s", size_ok[i].in, e.msg);
                if (v != size_ok[i].want)
                        fail_msg("\"%s\": got %lld, want %lld", size_ok[i].in, (long long)v,
                                 (long long)size_ok[i].want);
        }
}

static void test_size_bad(void **state)
{
        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(size_bad); i++) {
                struct err e;
                int64_t v = -42;

                err_clear(&e);
                if (config_parse_size(size_bad[i].in, &v, &e) != -1)
                        fail_msg("\"%s\": accepted as %lld", size_bad[i].in, (long long)v);
                assert_int_equal(v, -42);
                assert_int_not_equal(e.code, 0);
                assert_string_equal(e.msg, size_bad[i].msg);
        }
}

static void test_edges(void **state)
{
        struct err e;
        int64_t v;
        char big[200];

        (void)state;
        /* NULL input is an empty value, and a NULL err is allowed. */
        assert_int_equal(config_parse_duration(NULL, &v, &e), -1);
        assert_string_equal(e.msg, "empty duration; expected a number and a unit (ms, s, m, h or d)");
        assert_int_equal(config_parse_size("x", &v, NULL), -1);

        /* Long garbage is quoted shortened. */
        memset(big, '9', sizeof big - 2);
        big[sizeof big - 2] = 'x';
        big[sizeof big - 1] = '\0';
        assert_int_equal(config_parse_size(big, &v, &e), -1);
        assert_string_equal(e.msg, "invalid size \"9999999999999999999999999999999999999999...\": "
                            "too large");
        /* Control characters are not echoed raw. */
        assert_int_equal(config_parse_duration("5\x1b[2Js", &v, &e), -1);
        assert_string_equal(e.msg, "invalid duration \"5?[2Js\": unknown unit \"?[2Js\" "
                            "(use ms, s, m, h or d)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_duration_ok),
                cmocka_unit_test(test_duration_bad),
                cmocka_unit_test(test_size_ok),
                cmocka_unit_test(test_size_bad),
                cmocka_unit_test(test_edges),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
