/*
 * yamldoc: one document or a clear FILE:LINE:COL error (syntax, anchors,
 * aliases, nesting, a second document), and the typed getters' values and
 * messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "core/yamldoc.h"

/* Loads text as "f.yaml"; returns the error message ("" when it loaded,
 * and then y holds the document). */
static const char *load(struct ydoc *y, const char *text, struct err *err)
{
        memset(y, 0, sizeof *y);
        err_clear(err);
        if (ydoc_load(y, text, strlen(text), "f.yaml", "widget", 4, err) != 0)
                return err->msg;
        return "";
}

static void test_load(void **state)
{
        struct ydoc y;
        struct err err;

        (void)state;
        assert_string_equal(load(&y, "a: 1\nb: [x, y]\n", &err), "");
        assert_non_null(ydoc_root(&y));
        assert_int_equal(ydoc_root(&y)->type, YAML_MAPPING_NODE);
        ydoc_done(&y);
        ydoc_done(&y);          /* twice is harmless */

        /* Empty: a document without a root. */
        assert_string_equal(load(&y, "", &err), "");
        assert_null(ydoc_root(&y));
        ydoc_done(&y);

        assert_string_equal(load(&y, "a: [\n", &err),
                            "f.yaml:2:1: YAML: did not find expected node content while parsing "
                            "a flow node");
        assert_null(ydoc_root(&y));
        assert_string_equal(load(&y, "a: &x 1\nb: 2\n", &err),
                            "f.yaml:1:4: anchors and aliases are not supported in widgets");
        assert_string_equal(load(&y, "a: 1\nb: *x\n", &err),
                            "f.yaml:2:4: anchors and aliases are not supported in widgets");
        /* Four levels load; a fifth is refused where it opens. */
        assert_string_equal(load(&y, "a: [[[1]]]\n", &err), "");
        ydoc_done(&y);
        assert_string_equal(load(&y, "a: [[[[1]]]]\n", &err),
                            "f.yaml:1:7: nested deeper than 4 levels");
        assert_string_equal(load(&y, "a: 1\n---\nb: 2\n", &err),
                            "f.yaml:3:1: a second YAML document; one widget per file");
        /* A syntax error in the second document is reported too. */
        assert_string_equal(load(&y, "a: 1\n---\nb: [\n", &err),
                            "f.yaml:4:1: YAML: did not find expected node content while parsing "
                            "a flow node");
        /* An empty second document (a trailing ---) is nothing to refuse. */
        assert_string_equal(load(&y, "a: 1\n---\n", &err), "");
        ydoc_done(&y);
}

/* The value node of key in the root mapping of the loaded y. */
static yaml_node_t *val(struct ydoc *y, const char *key)
{
        return ydoc_map_get(y, ydoc_root(y), key);
}

static void test_getters(void **state)
{
        static const char text[] =
                "s: hello\n"            /* 1 */
                "q: ''\n"               /* 2 */
                "n: ~\n"                /* 3 */
                "l: [1]\n"              /* 4 */
                "t: true\n"             /* 5 */
                "tq: 'true'\n"          /* 6 */
                "d: 30s\n"              /* 7 */
                "d0: 0s\n"              /* 8 */
                "dx: soon\n"            /* 9 */
                "long: abcdefghij\n"    /* 10 */
                "nul: \"a\\0b\"\n";     /* 11 */
        struct ydoc y;
        struct err err;
        char *s = NULL;
        bool b = false;
        int64_t ms = 0;

        (void)state;
        assert_string_equal(load(&y, text, &err), "");
        y.max_text = 8;
        assert_int_equal(ydoc_str(&y, val(&y, "s"), "s", false, &s), 0);
        assert_string_equal(s, "hello");
        /* An empty quoted string: allowed only when asked for. */
        assert_int_equal(ydoc_str(&y, val(&y, "q"), "q", true, &s), 0);
        assert_string_equal(s, "");
        assert_int_equal(ydoc_str(&y, val(&y, "q"), "q", false, &s), -1);
        assert_string_equal(err.msg, "f.yaml:2:4: q: expected a non-empty string, got nothing");
        assert_int_equal(ydoc_str(&y, val(&y, "n"), "n", true, &s), -1);
        assert_string_equal(err.msg, "f.yaml:3:4: n: expected a string, got nothing");
        assert_int_equal(ydoc_str(&y, val(&y, "l"), "l", true, &s), -1);
        assert_string_equal(err.msg, "f.yaml:4:4: l: expected a string, got a list");
        assert_int_equal(ydoc_str(&y, val(&y, "missing"), "missing", true, &s), -1);
        assert_string_equal(err.msg, "f.yaml: missing: expected a string, got nothing");
        assert_int_equal(ydoc_str(&y, val(&y, "long"), "long", true, &s), -1);
        assert_string_equal(err.msg, "f.yaml:10:7: long: longer than 8 bytes");
        assert_int_equal(ydoc_str(&y, val(&y, "nul"), "nul", true, &s), -1);
        assert_string_equal(err.msg, "f.yaml:11:6: nul: NUL byte in string");
        assert_string_equal(s, "");     /* kept on error */
        free(s);

        assert_int_equal(ydoc_bool(&y, val(&y, "t"), "t", &b), 0);
        assert_true(b);
        assert_int_equal(ydoc_bool(&y, val(&y, "tq"), "tq", &b), -1);
        assert_string_equal(err.msg, "f.yaml:6:5: tq: expected true or false");

        assert_int_equal(ydoc_duration(&y, val(&y, "d"), "d", &ms), 0);
        assert_int_equal(ms, 30000);
        assert_int_equal(ydoc_duration(&y, val(&y, "d0"), "d0", &ms), -1);
        assert_string_equal(err.msg, "f.yaml:8:5: d0: must be more than 0");
        assert_int_equal(ydoc_duration(&y, val(&y, "l"), "l", &ms), -1);
        assert_string_equal(err.msg, "f.yaml:4:4: l: expected a duration such as 30s or 5m, "
                            "got a list");
        assert_int_equal(ydoc_duration(&y, val(&y, "dx"), "dx", &ms), -1);
        assert_non_null(strstr(err.msg, "f.yaml:9:5: dx: "));

        assert_int_equal(ydoc_check_seq(&y, val(&y, "l"), "l", 1), 0);
        assert_int_equal(ydoc_seq_len(val(&y, "l")), 1);
        assert_string_equal(ydoc_scalar(ydoc_seq_item(&y, val(&y, "l"), 0)), "1");
        assert_int_equal(ydoc_check_seq(&y, val(&y, "l"), "l", 0), -1);
        assert_string_equal(err.msg, "f.yaml:4:4: l: more than 0 entries");
        assert_int_equal(ydoc_check_seq(&y, val(&y, "s"), "s", 9), -1);
        assert_string_equal(err.msg, "f.yaml:1:4: s: expected a list, got a scalar");
        ydoc_done(&y);
}

static void test_check_map(void **state)
{
        static const char *const keys[] = { "name", "timeout", NULL };
        struct ydoc y;
        struct err err;

        (void)state;
        assert_string_equal(load(&y, "name: a\ntimeout: 1s\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, NULL), 0);
        ydoc_done(&y);

        assert_string_equal(load(&y, "name: a\ntimout: 1s\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, "(see the docs)"), -1);
        assert_string_equal(err.msg, "f.yaml:2:1: step: unknown key \"timout\" "
                            "(did you mean \"timeout\"?)");
        ydoc_done(&y);

        assert_string_equal(load(&y, "zzz: 1\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, "(see the docs)"), -1);
        assert_string_equal(err.msg, "f.yaml:1:1: step: unknown key \"zzz\" (see the docs)");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, NULL), -1);
        assert_string_equal(err.msg, "f.yaml:1:1: step: unknown key \"zzz\"");
        ydoc_done(&y);

        assert_string_equal(load(&y, "name: a\nname: b\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, NULL), -1);
        assert_string_equal(err.msg, "f.yaml:2:1: step: duplicate key \"name\"");
        ydoc_done(&y);

        assert_string_equal(load(&y, "[a]: 1\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, NULL), -1);
        assert_string_equal(err.msg, "f.yaml:1:1: step: keys must be strings");
        ydoc_done(&y);

        assert_string_equal(load(&y, "- a\n", &err), "");
        assert_int_equal(ydoc_check_map(&y, ydoc_root(&y), "step", keys, NULL), -1);
        assert_string_equal(err.msg, "f.yaml:1:1: step: expected a mapping, got a list");
        assert_int_equal(ydoc_check_map(&y, NULL, "step", keys, NULL), -1);
        assert_string_equal(err.msg, "f.yaml: step: expected a mapping, got nothing");
        ydoc_done(&y);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_getters),
                cmocka_unit_test(test_check_map),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
