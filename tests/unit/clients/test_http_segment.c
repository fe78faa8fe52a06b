/*
 * test_http_segment: http_path_segment, the one way a name enters a URL
 * path. Dot segments and empty names are refused (libcurl would remove
 * "/.." and send the request to another resource); everything but the
 * unreserved characters is percent-encoded, "/" included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clients/http.h"
#include "core/util.h"

static void check_seg(const char *name, const char *want)
{
        struct err e;
        char *s = http_path_segment(name, "connector", &e);

        assert_non_null(s);
        assert_string_equal(s, want);
        assert_int_equal(e.code, 0);
        free(s);
}

static void check_refused(const char *name, const char *msg)
{
        struct err e;

        assert_null(http_path_segment(name, "connector", &e));
        assert_int_equal(e.code, EINVAL);
        assert_string_equal(e.msg, msg);
}

static void test_encoded(void **state)
{
        (void)state;
        check_seg("orders-cdc", "orders-cdc");
        check_seg("a.b_c~d", "a.b_c~d");
        check_seg("...", "...");
        check_seg("../x", "..%2Fx");
        check_seg("a/b", "a%2Fb");
        check_seg("a b?c#d%e", "a%20b%3Fc%23d%25e");
        check_seg("caf\xc3\xa9", "caf%C3%A9");
        check_seg("%2e%2e", "%252e%252e");
        check_seg("\x1b[2J", "%1B%5B2J");
}

static void test_refused(void **state)
{
        char *big = xmalloc(1100);

        (void)state;
        check_refused("", "connector name is empty");
        check_refused(NULL, "connector name is empty");
        check_refused(".", "connector name \".\" is refused: in a URL path it would name "
                           "another resource");
        check_refused("..", "connector name \"..\" is refused: in a URL path it would name "
                            "another resource");
        memset(big, 'a', 1025);
        big[1025] = '\0';
        assert_null(http_path_segment(big, "DAG", &(struct err){ 0 }));
        big[1024] = '\0';
        check_seg(big, big);
        free(big);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_encoded),
                cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
