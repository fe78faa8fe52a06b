/*
 * test_hostile: the three guards every hostile input passes (docs/security.md):
 * termsafe (text on its way to a terminal), redact (server texts before they
 * are stored) and fsfile (files lambdaops is pointed at: only regular files,
 * non-blocking, bounded, and a reader a stalled mount cannot hang). Exact
 * strings throughout.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsfile.h"
#include "core/redact.h"
#include "core/termsafe.h"
#include "core/util.h"

#define assert_contains(hay, needle)                                            \
        do {                                                                    \
                if (!strstr((hay), (needle)))                                   \
                        fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } while (0)

/* --- termsafe ------------------------------------------------------------ */

static void check_safe(const char *in, int flags, const char *want)
{
        char buf[256];
        char *d = termsafe_dup(in, flags);

        assert_int_equal(termsafe_copy(in, flags, buf, sizeof buf), strlen(want));
        assert_string_equal(buf, want);
        assert_string_equal(d, want);
        assert_int_equal(termsafe_needed(in, flags), strcmp(in, want) != 0);
        free(d);
}

static void test_termsafe_controls(void **state)
{
        (void)state;
        check_safe("orders-cdc", TERMSAFE_LINE, "orders-cdc");
        check_safe("\x1b[2Jprod", TERMSAFE_LINE, "\\x1b[2Jprod");
        check_safe("\x1b]0;owned\x07", TERMSAFE_LINE, "\\x1b]0;owned\\x07");
        check_safe("a\rb", TERMSAFE_LINE, "a\\x0db");
        check_safe("del\x7f", TERMSAFE_LINE, "del\\x7f");
        check_safe("one\ntwo\tx", TERMSAFE_LINE, "one\\x0atwo\\x09x");
        check_safe("one\ntwo\tx", TERMSAFE_LINES, "one\ntwo\tx");
        check_safe("a\rb\n", TERMSAFE_LINES, "a\\x0db\n");
        /* C1 as UTF-8 (U+009B CSI, U+0085 NEL) and as a raw byte. */
        check_safe("x\xc2\x9b" "31mred", TERMSAFE_LINE, "x\\u009b31mred");
        check_safe("\xc2\x85", TERMSAFE_LINE, "\\u0085");
        check_safe("raw\x9b" "2J", TERMSAFE_LINE, "raw\\x9b2J");
        /* Bidirectional overrides (U+202E, U+2066). */
        check_safe("ab\xe2\x80\xae" "cd", TERMSAFE_LINE, "ab\\u202ecd");
        check_safe("\xe2\x81\xa6x", TERMSAFE_LINE, "\\u2066x");
        /* Printable UTF-8 passes; broken UTF-8 is escaped byte by byte. */
        check_safe("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\xa5", TERMSAFE_LINE,
                   "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\xa5");
        check_safe("\xc3", TERMSAFE_LINE, "\\xc3");
        check_safe("\xc0\xaf", TERMSAFE_LINE, "\\xc0\\xaf");            /* overlong '/' */
        check_safe("\xed\xa0\x80", TERMSAFE_LINE, "\\xed\\xa0\\x80");   /* a surrogate */
        check_safe("", TERMSAFE_LINE, "");
        assert_null(termsafe_dup(NULL, 0));
        assert_false(termsafe_needed(NULL, 0));
}

static void test_termsafe_cut(void **state)
{
        char buf[8];

        (void)state;
        /* An escape is never cut in half; UTF-8 is never split. */
        assert_int_equal(termsafe_copy("abcd\x1b[2J", 0, buf, sizeof buf), 11);
        assert_string_equal(buf, "abcd");
        assert_int_equal(termsafe_copy("abcde\xc3\xa9z", 0, buf, 7), 8);
        assert_string_equal(buf, "abcde");
        assert_int_equal(termsafe_copy("abcdefghijk", 0, buf, sizeof buf), 11);
        assert_string_equal(buf, "abcdefg");
        assert_int_equal(termsafe_copy(NULL, 0, buf, sizeof buf), 0);
        assert_string_equal(buf, "");
}

static void test_termsafe_file(void **state)
{
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);

        (void)state;
        termsafe_fputs("env \x1b[2J\n", TERMSAFE_LINE, f);
        termsafe_fprintf(f, "[%s]\n", "\x1b]0;t\x07");
        fclose(f);
        assert_string_equal(out, "env \\x1b[2J\\x0a[\\x1b]0;t\\x07]\n");
        free(out);
}

/* --- redact -------------------------------------------------------------- */

static void check_redact(const char *in, const struct redact_keys *k, const char *want)
{
        char buf[512];
        char *d = redact_dup(in, k);

        snprintf(buf, sizeof buf, "%s", in);
        redact_text(buf, sizeof buf, k);
        assert_string_equal(buf, want);
        assert_string_equal(d, want);
        free(d);
}

static void test_redact_secrets(void **state)
{
        const struct redact_keys k = { .user = "lo", .password = "pw-Secret9", .token = "tok.ABC123" };

        (void)state;
        /* base64("lo:pw-Secret9") = bG86cHctU2VjcmV0OQ== */
        check_redact("401: header was 'Authorization: Basic bG86cHctU2VjcmV0OQ=='", &k,
                     "401: header was 'Authorization: Basic ***'");
        check_redact("bad password pw-Secret9 for lo (pw-Secret9)", &k,
                     "bad password *** for lo (***)");
        check_redact("token tok.ABC123 expired", &k, "token *** expired");
        /* base64("tok.ABC123") = dG9rLkFCQzEyMw== and base64("pw-Secret9"). */
        check_redact("x dG9rLkFCQzEyMw== y cHctU2VjcmV0OQ== z", &k, "x *** y *** z");
        check_redact("nothing here", &k, "nothing here");
        check_redact("nothing here", NULL, "nothing here");
}

static void test_redact_short_secret(void **state)
{
        const struct redact_keys k = { .password = "pw" };
        char buf[8] = "pw";

        (void)state;
        /* Two bytes: masked only as the whole text, not every "pw" in words. */
        check_redact("a pwned pw", &k, "a pwned pw");
        redact_secrets(buf, sizeof buf, &k);
        assert_string_equal(buf, "***");
        /* No room to grow: the mask is cut, never the buffer overrun. */
        char tiny[3] = "pw";
        redact_secrets(tiny, sizeof tiny, &k);
        assert_string_equal(tiny, "**");
}

static void test_redact_patterns(void **state)
{
        (void)state;
        check_redact("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig", NULL,
                     "Authorization: Bearer ***");
        check_redact("SELECT 1 -- Bearer abcDEF1234567", NULL, "SELECT 1 -- Bearer ***");
        check_redact("X-ClickHouse-Key: s3cr3tkey", NULL, "X-ClickHouse-Key: ***");
        check_redact("host=db password=hunter2 user=x", NULL, "host=db password=*** user=x");
        check_redact("host=db password='a b c' user=x", NULL, "host=db password='***' user=x");
        check_redact("CREATE ROLE r PASSWORD 'Sup3r' LOGIN", NULL, "CREATE ROLE r PASSWORD '***' LOGIN");
        check_redact("CREATE USER u IDENTIFIED BY 'Sup3r'", NULL, "CREATE USER u IDENTIFIED BY '***'");
        /* What must stay: ordinary words after the keywords. */
        check_redact("password authentication failed for user \"lo\"", NULL,
                     "password authentication failed for user \"lo\"");
        check_redact("Basic authentication required", NULL, "Basic authentication required");
        check_redact("WWW-Authenticate: Bearer realm=\"kubernetes\"", NULL,
                     "WWW-Authenticate: Bearer realm=\"kubernetes\"");
        check_redact("pw=1", NULL, "pw=1");
}

/* --- fsfile -------------------------------------------------------------- */

static char tmpdir[64];

static int fs_setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof tmpdir, "/tmp/lo-hostile-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int fs_teardown(void **state)
{
        char cmd[128];

        (void)state;
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_fsfile_regular(void **state)
{
        char path[128], *b;
        size_t n;
        struct err e;

        (void)state;
        snprintf(path, sizeof path, "%s/ok", tmpdir);
        write_file(path, "hello\n");
        b = fsfile_read(path, 64, "theme", &n, &e);
        assert_non_null(b);
        assert_int_equal(n, 6);
        assert_string_equal(b, "hello\n");
        free(b);
        b = fsfile_read(path, 5, "theme", &n, &e);
        assert_null(b);
        assert_int_equal(e.code, EFBIG);
        snprintf(path, sizeof path, "%s/missing", tmpdir);
        assert_null(fsfile_read(path, 64, "secret file", NULL, &e));
        assert_int_equal(e.code, ENOENT);
        assert_contains(e.msg, "cannot read secret file /tmp/lo-hostile-");
        assert_null(fsfile_read(tmpdir, 64, "config file", NULL, &e));
        assert_int_equal(e.code, EISDIR);
        assert_contains(e.msg, "is a directory; only a regular file is read");
        assert_null(fsfile_read("/dev/null", 64, "config file", NULL, &e));
        assert_string_equal(e.msg, "config file /dev/null is a character device; only a "
                                   "regular file is read");
}

static void test_fsfile_fifo(void **state)
{
        char path[128];
        struct err e;

        (void)state;
        /* A FIFO with no writer: refused at once, never waited on. */
        snprintf(path, sizeof path, "%s/fifo", tmpdir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_null(fsfile_read(path, 64, "secret file", NULL, &e));
        assert_int_equal(e.code, EINVAL);
        assert_contains(e.msg, "/fifo is a FIFO; only a regular file is read");
        assert_null(fsfile_read_within(path, 64, "secret file", 60000, true, NULL, &e));
        assert_contains(e.msg, "/fifo is a FIFO; only a regular file is read");
}

static void test_fsfile_within(void **state)
{
        char path[128], *b;
        size_t n = 99;
        struct err e;

        (void)state;
        snprintf(path, sizeof path, "%s/secret", tmpdir);
        write_file(path, "pw-1\n");
        b = fsfile_read_within(path, 64, "secret file", 60000, true, &n, &e);
        assert_non_null(b);
        assert_string_equal(b, "pw-1\n");
        assert_int_equal(n, 5);
        free(b);
        /* A stalled mount: the reader sleeps 3 s, the caller gives up after
         * 50 ms and the reader cleans up after itself later. */
        fsfile_test_stall_ms = 3000;
        b = fsfile_read_within(path, 64, "secret file", 50, true, &n, &e);
        fsfile_test_stall_ms = 0;
        assert_null(b);
        assert_int_equal(n, 0);
        assert_int_equal(e.code, ETIMEDOUT);
        assert_contains(e.msg, "/secret: no answer within 50 ms (a stalled mount?)");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_termsafe_controls),
                cmocka_unit_test(test_termsafe_cut),
                cmocka_unit_test(test_termsafe_file),
                cmocka_unit_test(test_redact_secrets),
                cmocka_unit_test(test_redact_short_secret),
                cmocka_unit_test(test_redact_patterns),
                cmocka_unit_test_setup_teardown(test_fsfile_regular, fs_setup, fs_teardown),
                cmocka_unit_test_setup_teardown(test_fsfile_fifo, fs_setup, fs_teardown),
                cmocka_unit_test_setup_teardown(test_fsfile_within, fs_setup, fs_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
