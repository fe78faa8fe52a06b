/*
 * The relative-time tokens of test fixtures (tests/lib/fixture_time.py and
 * tu_fixture_expand in tests/lib/tu_common.c): exact expansions at a fixed
 * anchor, and the Python side gives byte-for-byte the same text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tu.h"

/* 2027-01-02T03:04:05Z */
#define ANCHOR 1798859045LL

static const char *const cases[][2] = {
        { "{{now}}", "2027-01-02T03:04:05Z" },
        { "a {{now-1d}} b", "a 2027-01-01T03:04:05Z b" },
        { "{{now-11d3h}}", "2026-12-22T00:04:05Z" },
        { "{{now+2w}}", "2027-01-16T03:04:05Z" },
        { "{{now+90s}}", "2027-01-02T03:05:35Z" },
        { "{{now-1h30m|s}}", "1798853645" },
        { "{{now|ms}}", "1798859045000" },
        { "{{now-5m|%Y-%m-%dT%H:%M:%S.123456+00:00}}", "2027-01-02T02:59:05.123456+00:00" },
        { "{{now-3d|%Y-%m-%d}}", "2026-12-30" },
        { "{{nowhere}} {{now-x}} {{now", "{{nowhere}} {{now-x}} {{now" },
        { "no token", "no token" },
        { "", "" },
};

static void test_expand_exact(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *got = tu_fixture_expand(cases[i][0], ANCHOR);

                assert_string_equal(got, cases[i][1]);
                free(got);
        }
}

static void test_python_agrees(void **state)
{
        char cmd[8192], line[512];
        FILE *p;

        (void)state;
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import fixture_time as f; "
                 "[print(f.expand(l.rstrip(\"\\n\"), %lld)) for l in sys.stdin]' '%s' <<'EOF'\n",
                 ANCHOR, tu_src_path("tests/lib"));
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                strcat(cmd, cases[i][0]);
                strcat(cmd, "\n");
        }
        strcat(cmd, "EOF\n");
        p = popen(cmd, "r");
        assert_non_null(p);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *want = tu_fixture_expand(cases[i][0], ANCHOR);

                assert_non_null(fgets(line, sizeof line, p));
                line[strcspn(line, "\n")] = '\0';
                assert_string_equal(line, want);
                free(want);
        }
        assert_int_equal(pclose(p), 0);
}

static void test_anchor_exported(void **state)
{
        int64_t a;

        (void)state;
        unsetenv("LO_FIXTURE_NOW");
        a = tu_fixture_now();
        assert_true(a > 0);
        assert_non_null(getenv("LO_FIXTURE_NOW"));
        assert_int_equal(strtoll(getenv("LO_FIXTURE_NOW"), NULL, 10), a);
        assert_int_equal(tu_fixture_now(), a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_expand_exact),
                cmocka_unit_test(test_python_agrees),
                cmocka_unit_test(test_anchor_exported),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
