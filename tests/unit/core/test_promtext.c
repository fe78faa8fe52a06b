/*
 * test_promtext: the exposition writer on exact text. Families sorted by
 * name with HELP and TYPE once, samples in the order added across
 * "sources", label values escaped (backslash, quote, newline) and invalid
 * UTF-8 replaced, NaN and infinities omitted, values in their shortest
 * exact form, invalid names and type/suffix mismatches dropped and
 * counted. Then the real `promtool check metrics` accepts a text with every
 * hard case in it (skipped when promtool is not installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/promtext.h"
#include "tu_promtool.h"

static char *finish_free(struct promtext *p)
{
        char *s = promtext_finish(p, NULL);

        promtext_free(p);
        return s;
}

static void test_families_sorted_help_type_once(void **state)
{
        struct promtext *p = promtext_new();
        char *s;

        (void)state;
        /* Two "sources" declare the same families, as two PostgreSQL
         * sources do; the second source's samples follow the first's. */
        promtext_declare(p, "lambdaops_up", PROMTEXT_GAUGE, "1 when the source answered.");
        promtext_declare(p, "lambdaops_b_polls_total", PROMTEXT_COUNTER, "Polls.");
        promtext_add(p, "lambdaops_up", 1, "source", "db1", NULL);
        promtext_add(p, "lambdaops_b_polls_total", 3, "source", "db1", NULL);
        promtext_declare(p, "lambdaops_up", PROMTEXT_GAUGE, "1 when the source answered.");
        promtext_add(p, "lambdaops_up", 0, "source", "db2", NULL);
        promtext_declare(p, "lambdaops_empty", PROMTEXT_GAUGE, "No samples: not written.");
        promtext_declare(p, "lambdaops_a", PROMTEXT_GAUGE, "No labels.");
        promtext_add(p, "lambdaops_a", 2.5, NULL);
        assert_int_equal(promtext_errors(p), 0);
        s = finish_free(p);
        assert_string_equal(s,
                "# HELP lambdaops_a No labels.\n"
                "# TYPE lambdaops_a gauge\n"
                "lambdaops_a 2.5\n"
                "# HELP lambdaops_b_polls_total Polls.\n"
                "# TYPE lambdaops_b_polls_total counter\n"
                "lambdaops_b_polls_total{source=\"db1\"} 3\n"
                "# HELP lambdaops_up 1 when the source answered.\n"
                "# TYPE lambdaops_up gauge\n"
                "lambdaops_up{source=\"db1\"} 1\n"
                "lambdaops_up{source=\"db2\"} 0\n");
        free(s);
}

static void test_escaping(void **state)
{
        struct promtext *p = promtext_new();
        char *s;

        (void)state;
        promtext_declare(p, "m", PROMTEXT_GAUGE, "back\\slash and\nnewline \"quoted\"");
        promtext_add(p, "m", 1, "a", "x\\y", "b", "say \"hi\"", "c", "two\nlines", NULL);
        /* A lone continuation byte, a truncated sequence, an overlong '/',
         * a surrogate; then valid 2-, 3- and 4-byte sequences kept. */
        promtext_add(p, "m", 2,
                     "a", "\x80|\xC3|\xC0\xAF|\xED\xA0\x80|"
                          "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", NULL);
        promtext_add(p, "m", 3, "a", NULL, NULL);
        s = finish_free(p);
        assert_string_equal(s,
                "# HELP m back\\\\slash and\\nnewline \"quoted\"\n"
                "# TYPE m gauge\n"
                "m{a=\"x\\\\y\",b=\"say \\\"hi\\\"\",c=\"two\\nlines\"} 1\n"
                "m{a=\"\xEF\xBF\xBD|\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD|"
                "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"} 2\n"
                "m{a=\"\"} 3\n");
        free(s);
}

static void test_values(void **state)
{
        struct promtext *p = promtext_new();
        char buf[40], *s;

        (void)state;
        promtext_fmt_value(0.1, buf, sizeof buf);
        assert_string_equal(buf, "0.1");
        promtext_fmt_value(1234567890123.0, buf, sizeof buf);
        assert_string_equal(buf, "1234567890123");
        promtext_fmt_value(1.0 / 3.0, buf, sizeof buf);
        assert_string_equal(buf, "0.3333333333333333");
        promtext_fmt_value(-0.25, buf, sizeof buf);
        assert_string_equal(buf, "-0.25");
        promtext_fmt_value(1e-9, buf, sizeof buf);
        assert_string_equal(buf, "1e-09");
        promtext_fmt_value(INFINITY, buf, sizeof buf);
        assert_string_equal(buf, "+Inf");
        promtext_fmt_value(NAN, buf, sizeof buf);
        assert_string_equal(buf, "NaN");

        /* Unknown is no sample: NaN and infinities are left out, and a
         * family left with no sample is not written at all. */
        promtext_declare(p, "lambdaops_x", PROMTEXT_GAUGE, "x");
        promtext_declare(p, "lambdaops_y", PROMTEXT_GAUGE, "y");
        promtext_add(p, "lambdaops_x", NAN, "k", "nan", NULL);
        promtext_add(p, "lambdaops_x", INFINITY, "k", "inf", NULL);
        promtext_add(p, "lambdaops_x", -INFINITY, "k", "-inf", NULL);
        promtext_add(p, "lambdaops_x", 0, "k", "zero", NULL);
        promtext_add(p, "lambdaops_y", NAN, NULL);
        assert_int_equal(promtext_errors(p), 0);
        s = finish_free(p);
        assert_string_equal(s,
                "# HELP lambdaops_x x\n"
                "# TYPE lambdaops_x gauge\n"
                "lambdaops_x{k=\"zero\"} 0\n");
        free(s);
}

static void test_names(void **state)
{
        struct promtext *p = promtext_new();
        char *s;

        (void)state;
        assert_true(promtext_metric_name_ok("lambdaops_a:b_1"));
        assert_true(promtext_metric_name_ok(":x"));
        assert_false(promtext_metric_name_ok("1x"));
        assert_false(promtext_metric_name_ok("a-b"));
        assert_false(promtext_metric_name_ok(""));
        assert_true(promtext_label_name_ok("_x1"));
        assert_false(promtext_label_name_ok("__name__"));
        assert_false(promtext_label_name_ok("a:b"));
        assert_false(promtext_label_name_ok("0a"));
        assert_false(promtext_label_name_ok(""));

        promtext_declare(p, "bad-name", PROMTEXT_GAUGE, "x");
        assert_int_equal(promtext_errors(p), 1);
        assert_string_equal(promtext_first_error(p), "invalid metric name \"bad-name\"");
        promtext_declare(p, "lambdaops_things", PROMTEXT_COUNTER, "no _total");
        promtext_declare(p, "lambdaops_things_total", PROMTEXT_GAUGE, "a gauge with _total");
        assert_int_equal(promtext_errors(p), 3);
        promtext_declare(p, "lambdaops_ok", PROMTEXT_GAUGE, "ok");
        promtext_declare(p, "lambdaops_ok", PROMTEXT_COUNTER, "again, as a counter");
        assert_int_equal(promtext_errors(p), 4);
        promtext_add(p, "lambdaops_ok", 1, "good", "1", "bad-label", "2", NULL);
        promtext_add(p, "lambdaops_ok", 1, "__reserved", "2", NULL);
        promtext_add(p, "lambdaops_undeclared", 1, NULL);
        promtext_add(p, "lambdaops_ok", 1, "a", "", "b", "", "c", "", "d", "", "e", "",
                     "f", "", "g", "", "h", "", "i", "", NULL);
        assert_int_equal(promtext_errors(p), 8);
        promtext_add(p, "lambdaops_ok", 7, "good", "1", NULL);
        assert_int_equal(promtext_errors(p), 8);
        assert_string_equal(promtext_first_error(p), "invalid metric name \"bad-name\"");
        s = finish_free(p);
        /* Nothing half-valid: the only line is the good sample. */
        assert_string_equal(s,
                "# HELP lambdaops_ok ok\n"
                "# TYPE lambdaops_ok gauge\n"
                "lambdaops_ok{good=\"1\"} 7\n");
        free(s);
}

static void test_empty_and_reuse(void **state)
{
        struct promtext *p = promtext_new();
        size_t len = 99;
        char *s = promtext_finish(p, &len);

        (void)state;
        assert_string_equal(s, "");
        assert_int_equal(len, 0);
        free(s);
        promtext_declare(p, "a", PROMTEXT_GAUGE, "");
        promtext_add(p, "a", 1, NULL);
        s = promtext_finish(p, &len);
        assert_string_equal(s, "# HELP a\n# TYPE a gauge\na 1\n");
        assert_int_equal(len, strlen(s));
        free(s);
        promtext_free(p);
        promtext_free(NULL);
}

static void test_promtool_accepts(void **state)
{
        struct promtext *p = promtext_new();
        char out[4096], *s;
        int rc;

        (void)state;
        if (!tu_promtool_available()) {
                skip();
                return;
        }
        /* The check is not vacuous: the raw bytes the writer replaces fail it. */
        assert_int_not_equal(tu_promtool_check("# HELP a x\n# TYPE a gauge\na{b=\"\xC3\x28\"} 1\n",
                                               out, sizeof out), 0);
        promtext_declare(p, "lambdaops_source_up", PROMTEXT_GAUGE, "1 when the source answered.");
        promtext_declare(p, "lambdaops_polls_total", PROMTEXT_COUNTER, "Polls \\ done\nso far.");
        promtext_declare(p, "lambdaops_lag_bytes", PROMTEXT_GAUGE, "Lag in bytes.");
        promtext_add(p, "lambdaops_source_up", 1, "source", "db \"one\"", NULL);
        promtext_add(p, "lambdaops_source_up", 0, "source", "db\\two\nthree", NULL);
        promtext_add(p, "lambdaops_polls_total", 12, "source", "\xC3\x28 bad utf-8", NULL);
        promtext_add(p, "lambdaops_lag_bytes", 1.5e12, "source", "db", "slot", "s\xE2\x82\xAC",
                     NULL);
        promtext_add(p, "lambdaops_lag_bytes", NAN, "source", "db", "slot", "unknown", NULL);
        promtext_add(p, "lambdaops_lag_bytes", 0.1, "source", "db", "slot", "", NULL);
        s = finish_free(p);
        rc = tu_promtool_check(s, out, sizeof out);
        if (rc != 0)
                fail_msg("promtool check metrics exited %d:\n%s\non:\n%s", rc, out, s);
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_families_sorted_help_type_once),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_empty_and_reuse),
                cmocka_unit_test(test_promtool_accepts),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
