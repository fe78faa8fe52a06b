/*
 * jsonparse: a document nested deeper than cJSON's limit is told apart
 * from a truncated one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/jsonparse.h"
#include "core/util.h"

/* depth '[' then depth ']' (owned). */
static char *nested(size_t depth)
{
        char *s = xmalloc(2 * depth + 1);

        memset(s, '[', depth);
        memset(s + depth, ']', depth);
        s[2 * depth] = '\0';
        return s;
}

static void test_depth(void **state)
{
        char *deep = nested(2000), *ok = nested(1000), *over = nested(1001);
        cJSON *j;

        (void)state;
        assert_null(cJSON_ParseWithLength(deep, strlen(deep)));
        assert_true(json_too_deep(deep, strlen(deep)));
        assert_string_equal(json_parse_why(deep, strlen(deep), "not JSON"),
                            "JSON nested deeper than 1000 levels");
        /* The limit itself parses; one more does not, and is told so. */
        j = cJSON_ParseWithLength(ok, strlen(ok));
        assert_non_null(j);
        cJSON_Delete(j);
        assert_false(json_too_deep(ok, strlen(ok)));
        assert_null(cJSON_ParseWithLength(over, strlen(over)));
        assert_true(json_too_deep(over, strlen(over)));
        /* Truncated: the site's own words. */
        assert_string_equal(json_parse_why("{\"a\": [1, 2", 11, "not JSON (truncated?)"),
                            "not JSON (truncated?)");
        free(deep);
        free(ok);
        free(over);
}

static void test_brackets_in_strings(void **state)
{
        char *s = xmalloc(3000 + 3);

        (void)state;
        s[0] = '"';
        memset(s + 1, '[', 3000);
        s[3001] = '"';
        s[3002] = '\0';
        assert_false(json_too_deep(s, strlen(s)));
        /* An escaped quote does not end the string. */
        assert_false(json_too_deep("\"\\\"[[[[\"", 8));
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_brackets_in_strings),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
