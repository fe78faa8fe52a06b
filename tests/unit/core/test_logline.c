/*
 * Log lines (src/core/logline.c): logfmt quoting and escaping, JSON with
 * every control character escaped and bytes that are not UTF-8 replaced,
 * numbers in their shortest exact form, NAN skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/logline.h"

/* 2023-11-14T22:13:20.123Z */
#define T0 1700000000123LL

static char *line(enum log_format f, const char *val)
{
        struct logline l;

        logline_begin(&l, f, T0, "warn", "alert fired");
        logline_str(&l, "v", val);
        return logline_end(&l);
}

static void expect(enum log_format f, const char *val, const char *want)
{
        char *s = line(f, val);

        assert_string_equal(s, want);
        free(s);
}

static void test_logfmt(void **state)
{
        struct logline l;
        char *s;

        (void)state;
        expect(LOG_LOGFMT, "plain", "ts=2023-11-14T22:13:20.123Z level=warn msg=\"alert fired\" "
               "v=plain\n");
        expect(LOG_LOGFMT, "", "ts=2023-11-14T22:13:20.123Z level=warn msg=\"alert fired\" "
               "v=\"\"\n");
        expect(LOG_LOGFMT, "a=b \"q\" c\\d", "ts=2023-11-14T22:13:20.123Z level=warn "
               "msg=\"alert fired\" v=\"a=b \\\"q\\\" c\\\\d\"\n");
        /* Control characters as termsafe text (then quoted: they hold '\'). */
        expect(LOG_LOGFMT, "x\x1b[31my\nz\x7f\xc2\x9b\xff", "ts=2023-11-14T22:13:20.123Z "
               "level=warn msg=\"alert fired\" "
               "v=\"x\\\\x1b[31my\\\\x0az\\\\x7f\\\\u009b\\\\xff\"\n");
        expect(LOG_LOGFMT, "é✓", "ts=2023-11-14T22:13:20.123Z level=warn msg=\"alert fired\" "
               "v=é✓\n");

        logline_begin(&l, LOG_LOGFMT, T0, "info", "n");
        logline_num(&l, "a", 15);
        logline_num(&l, "b", 0.1);
        logline_num(&l, "c", NAN);
        logline_num(&l, "d", 1e21);
        logline_int(&l, "e", -1700000000000LL);
        logline_bool(&l, "f", true);
        logline_str(&l, "g", NULL);
        s = logline_end(&l);
        assert_string_equal(s, "ts=2023-11-14T22:13:20.123Z level=info msg=n a=15 b=0.1 d=1e+21 "
                            "e=-1700000000000 f=true\n");
        free(s);
}

static void test_json(void **state)
{
        struct logline l;
        enum log_format f;
        char *s;

        (void)state;
        expect(LOG_JSON, "a \"q\" \\", "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"warn\","
               "\"msg\":\"alert fired\",\"v\":\"a \\\"q\\\" \\\\\"}\n");
        /* C0 by cJSON, DEL, C1 and bidi overrides by us, bad bytes U+FFFD. */
        expect(LOG_JSON, "x\x1b\n\x7f\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xff",
               "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"warn\",\"msg\":\"alert fired\","
               "\"v\":\"x\\u001b\\n\\u007f\\u009b\\u202e\\u2066\xef\xbf\xbd\"}\n");
        logline_begin(&l, LOG_JSON, T0, "info", "n");
        logline_num(&l, "a", 15);
        logline_num(&l, "c", NAN);
        logline_int(&l, "e", 1700000000000LL);
        logline_bool(&l, "f", false);
        s = logline_end(&l);
        assert_string_equal(s, "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\","
                            "\"msg\":\"n\",\"a\":15,\"e\":1700000000000,\"f\":false}\n");
        free(s);
        assert_int_equal(log_format_parse("json", &f), 0);
        assert_int_equal(f, LOG_JSON);
        assert_int_equal(log_format_parse("logfmt", &f), 0);
        assert_int_equal(f, LOG_LOGFMT);
        assert_int_equal(log_format_parse("JSON", &f), -1);
        assert_int_equal(log_format_parse(NULL, &f), -1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_logfmt),
                cmocka_unit_test(test_json),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
