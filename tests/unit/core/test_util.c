/*
 * test_util: the human formatters (exact strings), the Levenshtein distance
 * behind "did you mean", and the small string/error helpers. Pure; no
 * threads, no I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"

static void check_bytes(double v, const char *want)
{
        char buf[32];

        fmt_bytes(v, buf, sizeof buf);
        assert_string_equal(buf, want);
}

static void test_fmt_bytes(void **state)
{
        (void)state;
        check_bytes(0, "0 B");
        check_bytes(1, "1 B");
        check_bytes(1023, "1023 B");
        check_bytes(1024, "1.0 KiB");
        check_bytes(1536, "1.5 KiB");
        check_bytes(250980, "245.1 KiB");
        check_bytes(1024.0 * 1024, "1.0 MiB");
        check_bytes(2.0 * 1024 * 1024 * 1024, "2.0 GiB");
        check_bytes(1.5 * 1024 * 1024 * 1024 * 1024, "1.5 TiB");
        check_bytes(3.0 * 1024 * 1024 * 1024 * 1024 * 1024, "3.0 PiB");
        /* Beyond the largest unit the number just grows. */
        check_bytes(2048.0 * 1024 * 1024 * 1024 * 1024 * 1024, "2048.0 PiB");
        check_bytes(-2048, "-2.0 KiB");
        check_bytes(-5, "-5 B");
        /* Values that would round up to "1024" move to the next unit. */
        check_bytes(1048575, "1.0 MiB");
        check_bytes(1024.0 * 1024 * 1024 - 1, "1.0 GiB");
        check_bytes(1023.4 * 1024, "1023.4 KiB");
}

static void test_fmt_bytes_truncates(void **state)
{
        char buf[4];

        (void)state;
        fmt_bytes(1536, buf, sizeof buf);
        assert_string_equal(buf, "1.5");
}

static void check_dur(int64_t ms, const char *want)
{
        char buf[32];

        fmt_duration_ms(ms, buf, sizeof buf);
        assert_string_equal(buf, want);
}

static void test_fmt_duration(void **state)
{
        (void)state;
        check_dur(0, "0ms");
        check_dur(850, "850ms");
        check_dur(999, "999ms");
        check_dur(1000, "1s");
        check_dur(1999, "1s");
        check_dur(12000, "12s");
        check_dur(59999, "59s");
        check_dur(60000, "1m00s");
        check_dur(184000, "3m04s");
        check_dur(3599999, "59m59s");
        check_dur(3600000, "1h00m");
        check_dur(7500000, "2h05m");
        check_dur(86399999, "23h59m");
        check_dur(86400000, "1d00h");
        check_dur(3 * 86400000LL + 4 * 3600000LL, "3d04h");
        check_dur(-850, "-850ms");
        check_dur(-184000, "-3m04s");
}

static void check_rfc(int64_t ms, const char *want)
{
        char buf[40];

        fmt_rfc3339(ms, buf, sizeof buf);
        assert_string_equal(buf, want);
}

static void test_fmt_rfc3339(void **state)
{
        (void)state;
        check_rfc(0, "1970-01-01T00:00:00.000Z");
        check_rfc(1700000000123LL, "2023-11-14T22:13:20.123Z");
        check_rfc(1700000000999LL, "2023-11-14T22:13:20.999Z");
        check_rfc(1709164800000LL, "2024-02-29T00:00:00.000Z");  /* leap day */
        check_rfc(4102444799001LL, "2099-12-31T23:59:59.001Z");
}

static void test_edit_distance(void **state)
{
        char a[80], b[80];

        (void)state;
        assert_int_equal(str_edit_distance("", ""), 0);
        assert_int_equal(str_edit_distance("abc", "abc"), 0);
        assert_int_equal(str_edit_distance("", "abc"), 3);
        assert_int_equal(str_edit_distance("abc", ""), 3);
        assert_int_equal(str_edit_distance("kitten", "sitting"), 3);
        assert_int_equal(str_edit_distance("flaw", "lawn"), 2);
        assert_int_equal(str_edit_distance("intervl", "interval"), 1);
        assert_int_equal(str_edit_distance("thershold", "threshold"), 2);
        assert_int_equal(str_edit_distance("dsn", "dns"), 2);
        /* 64 characters is still computed; 65 is "far". */
        memset(a, 'x', 64);
        a[64] = '\0';
        memcpy(b, a, 65);
        b[63] = 'y';
        assert_int_equal(str_edit_distance(a, b), 1);
        a[64] = 'x';
        a[65] = '\0';
        assert_int_equal(str_edit_distance(a, b), 1000);
}

static void test_str_copy(void **state)
{
        char buf[4];

        (void)state;
        str_copy(buf, "abcdef", sizeof buf);
        assert_string_equal(buf, "abc");
        str_copy(buf, "ab", sizeof buf);
        assert_string_equal(buf, "ab");
        str_copy(buf, NULL, sizeof buf);
        assert_string_equal(buf, "");
}

static void test_err(void **state)
{
        struct err e;
        char *s;

        (void)state;
        err_clear(&e);
        assert_int_equal(e.code, 0);
        assert_string_equal(e.msg, "");
        err_set(&e, 0, "x %d", 5);      /* code 0 still means "an error" */
        assert_int_equal(e.code, -1);
        assert_string_equal(e.msg, "x 5");
        err_set(&e, 42, "%s", "y");
        assert_int_equal(e.code, 42);
        err_set(NULL, 1, "ignored");
        s = xasprintf("%s-%03d", "a", 7);
        assert_string_equal(s, "a-007");
        free(s);
        assert_null(xstrdup(NULL));
        s = xstrndup("hello", 2);
        assert_string_equal(s, "he");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fmt_bytes),
                cmocka_unit_test(test_fmt_bytes_truncates),
                cmocka_unit_test(test_fmt_duration),
                cmocka_unit_test(test_fmt_rfc3339),
                cmocka_unit_test(test_edit_distance),
                cmocka_unit_test(test_str_copy),
                cmocka_unit_test(test_err),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
