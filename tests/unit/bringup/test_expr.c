/*
 * test_expr: the expression language of src/bringup/expr.h against one fixed JSON
 * document. Every operator, function and literal with its exact result as
 * compact JSON; precedence; null semantics; paths with indexes (negative
 * too) and quoted keys; predicates with relative paths; and the exact
 * error messages with their columns, for syntax and for evaluation.
 * Pure.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bringup/expr.h"
#include "core/util.h"

static const char *const doc_text =
        "{\"name\":\"kafka\",\"kind\":\"kafka\",\"status\":\"ok\",\"error\":null,"
        "\"quorum\":{\"leader_id\":1,\"voters\":[1,2,3],\"epoch\":7},"
        "\"nodes\":[{\"name\":\"a\",\"ready\":true,\"cpu\":1.5},"
        "{\"name\":\"b\",\"ready\":true,\"cpu\":0.5},"
        "{\"name\":\"c\",\"ready\":false,\"cpu\":null}],"
        "\"groups\":[{\"id\":\"g1\",\"lag\":10},{\"id\":\"g2\",\"lag\":25}],"
        "\"x-y\":\"dash\",\"empty\":[],\"nested\":[[1,2],[3]],"
        "\"words\":[\"a\",\"b\"],\"uni\":\"h\\u00e9llo\",\"n\":4,\"zero\":0,"
        "\"tasks\":[{\"state\":\"RUNNING\"},{\"state\":\"FAILED\"}]}";

static cJSON *doc;

static int setup(void **state)
{
        (void)state;
        doc = cJSON_Parse(doc_text);
        return doc ? 0 : -1;
}

static int teardown(void **state)
{
        (void)state;
        cJSON_Delete(doc);
        return 0;
}

/* Parses and evaluates src; asserts the result's compact JSON. */
static void ok(const char *src, const char *want)
{
        struct err err;
        struct expr *e;
        cJSON *v;
        char *got;

        err_clear(&err);
        e = expr_parse(src, &err);
        if (!e)
                fail_msg("%s: parse error: %s", src, err.msg);
        v = expr_eval(e, doc, &err);
        if (!v)
                fail_msg("%s: eval error: %s", src, err.msg);
        got = expr_value_text(v);
        if (strcmp(got, want) != 0)
                fail_msg("%s: got %s, want %s", src, got, want);
        free(got);
        cJSON_Delete(v);
        expr_free(e);
}

static void parse_err(const char *src, const char *want)
{
        struct err err;
        struct expr *e;

        err_clear(&err);
        e = expr_parse(src, &err);
        if (e)
                fail_msg("%s: parsed, want error %s", src, want);
        if (strcmp(err.msg, want) != 0)
                fail_msg("%s: error \"%s\", want \"%s\"", src, err.msg, want);
}

static void eval_err(const char *src, const char *want)
{
        struct err err;
        struct expr *e;
        cJSON *v;

        err_clear(&err);
        e = expr_parse(src, &err);
        if (!e)
                fail_msg("%s: parse error: %s", src, err.msg);
        v = expr_eval(e, doc, &err);
        if (v)
                fail_msg("%s: evaluated, want error %s", src, want);
        if (strcmp(err.msg, want) != 0)
                fail_msg("%s: error \"%s\", want \"%s\"", src, err.msg, want);
        expr_free(e);
}

static void test_literals(void **state)
{
        (void)state;
        ok("12", "12");
        ok("1.5", "1.5");
        ok("2e3", "2000");
        ok("\"text\"", "\"text\"");
        ok("'text'", "\"text\"");
        ok("'it\\'s'", "\"it's\"");
        ok("\"a\\\"b\\\\c\\n\\t\"", "\"a\\\"b\\\\c\\n\\t\"");
        ok("true", "true");
        ok("false", "false");
        ok("null", "null");
        ok("[1, 'a', null, [true]]", "[1,\"a\",null,[true]]");
        ok("[]", "[]");
}

static void test_paths(void **state)
{
        (void)state;
        ok("name", "\"kafka\"");
        ok("quorum.leader_id", "1");
        ok("quorum.voters", "[1,2,3]");
        ok("quorum.voters[0]", "1");
        ok("quorum.voters[-1]", "3");
        ok("quorum.voters[3]", "null");
        ok("quorum.voters[-4]", "null");
        ok("groups[1].lag", "25");
        ok("groups[1][\"id\"]", "\"g2\"");
        ok("[\"x\"][0]", "\"x\"");
        ok("nested[0][1]", "2");
        ok(".[\"x-y\"]", "\"dash\"");
        ok("quorum[\"epoch\"]", "7");
        ok(".quorum.epoch", "7");
        ok("missing", "null");
        ok("missing.deeper[3].x", "null");
        ok("name.length", "null");      /* a key of a string is null */
        ok("quorum[0]", "null");        /* an index into an object is null */
        ok("error", "null");
        ok("quorum.voters[1 + 1]", "3");
        ok("(quorum).epoch", "7");
}

static void test_arithmetic(void **state)
{
        (void)state;
        ok("1 + 2", "3");
        ok("7 - 10", "-3");
        ok("3 * 4", "12");
        ok("7 / 2", "3.5");
        ok("-n", "-4");
        ok("--n", "4");
        ok("'ab' + 'cd'", "\"abcd\"");
        ok("null + 1", "null");
        ok("missing * 2", "null");
        ok("1 + 2 * 3", "7");
        ok("(1 + 2) * 3", "9");
        ok("10 - 4 - 3", "3");          /* left associative */
        ok("24 / 4 / 3", "2");
        ok("-2 * 3", "-6");
}

static void test_comparisons(void **state)
{
        (void)state;
        ok("1 == 1", "true");
        ok("1 == 1.0", "true");
        ok("1 == '1'", "false");
        ok("1 != 2", "true");
        ok("'a' != 'a'", "false");
        ok("quorum.voters == [1, 2, 3]", "true");
        ok("groups[0] == groups[1]", "false");
        ok("1 < 2", "true");
        ok("2 <= 2", "true");
        ok("3 > 2", "true");
        ok("2 >= 3", "false");
        ok("'abc' < 'abd'", "true");
        ok("'b' > 'a'", "true");
        ok("'RUNNING' in ['RUNNING', 'PAUSED']", "true");
        ok("'FAILED' in ['RUNNING', 'PAUSED']", "false");
        ok("2 in quorum.voters", "true");
        ok("null in [1, null]", "true");
        ok("'leader_id' in quorum", "true");
        ok("'ell' in 'hello'", "true");
        ok("1 in missing", "false");
}

static void test_null_semantics(void **state)
{
        (void)state;
        ok("missing == null", "true");
        ok("error == null", "true");
        ok("quorum.leader_id != null", "true");
        ok("null == null", "true");
        ok("missing != null", "false");
        ok("missing < 1", "false");
        ok("missing > 1", "false");
        ok("missing <= 1", "false");
        ok("1 >= null", "false");
        ok("not missing", "true");
        ok("missing and true", "false");
        ok("missing or true", "true");
        ok("null or null", "false");
}

static void test_logic_precedence(void **state)
{
        (void)state;
        ok("true and false", "false");
        ok("true or false", "true");
        ok("not true", "false");
        ok("not not true", "true");
        /* and binds tighter than or; not tighter than and; comparisons tighter than not */
        ok("true or false and false", "true");
        ok("(true or false) and false", "false");
        ok("not false and false", "false");
        ok("not 1 == 2", "true");
        ok("1 + 1 == 2 and 2 * 2 == 4", "true");
        /* short circuit: the right side's type error never runs */
        ok("false and 1 + 'a' == 2", "false");
        ok("true or len(5) == 1", "true");
        ok("quorum.leader_id != null and len(quorum.voters) == 3", "true");
}

static void test_functions(void **state)
{
        (void)state;
        ok("len(nodes)", "3");
        ok("len('abc')", "3");
        ok("len(uni)", "5");            /* characters, not bytes */
        ok("len(quorum)", "3");
        ok("len(missing)", "null");
        ok("len(empty)", "0");
        ok("all(nodes, .ready)", "false");
        ok("any(nodes, .ready)", "true");
        ok("count(nodes, .ready)", "2");
        ok("count(nodes, not .ready)", "1");
        ok("all(empty, .ready)", "true");
        ok("any(empty, .ready)", "false");
        ok("all(missing, .ready)", "null");
        ok("all(tasks, .state == 'RUNNING')", "false");
        ok("any(tasks, .state == 'FAILED')", "true");
        ok("count(quorum.voters, . > 1)", "2");
        ok("all(nested, len(.) > 0)", "true");
        ok("all(nested, all(., . > 0))", "true");
        ok("any(nodes, .name == name)", "false");    /* bare names are the document's */
        ok("max(groups, .lag)", "25");
        ok("min(groups, .lag)", "10");
        ok("sum(groups, .lag)", "35");
        ok("max(quorum.voters)", "3");
        ok("min(quorum.voters)", "1");
        ok("sum(quorum.voters)", "6");
        ok("sum(nodes, .cpu)", "2");                   /* null skipped */
        ok("max(nodes, .cpu)", "1.5");
        ok("max(empty)", "null");
        ok("sum(empty)", "0");
        ok("max(missing, .x)", "null");
        ok("max(groups, .lag * 2) - 1", "49");
}

static void test_parse_errors(void **state)
{
        (void)state;
        parse_err("", "col 1: empty expression");
        parse_err("   ", "col 1: empty expression");
        parse_err("1 +", "col 4: expected an expression, found end of input");
        parse_err("(1 + 2", "col 7: expected ')', found end of input");
        parse_err("len(nodes", "col 10: expected ',' or ')', found end of input");
        parse_err("[1, 2", "col 6: expected ',' or ']', found end of input");
        parse_err("a[1", "col 4: expected ']', found end of input");
        parse_err("a.", "col 3: expected a name after '.', found end of input");
        parse_err("a.1", "col 3: expected a name after '.', found a number");
        parse_err("1 2", "col 3: unexpected a number after the expression");
        parse_err("a b", "col 3: unexpected 'b' after the expression");
        parse_err("a = 1", "col 3: unexpected '=' (use '==' to compare)");
        parse_err("!a", "col 1: unexpected '!' (use 'not' or '!=')");
        parse_err("a # b", "col 3: unexpected character '#'");
        parse_err("'abc", "col 1: unterminated string");
        parse_err("x == \"ab\\q\"", "col 9: unknown escape '\\q' in string");
        parse_err("12abc", "col 3: unexpected character 'a' after a number");
        parse_err("foo(1)", "col 1: unknown function 'foo' (functions: len, all, any, count, "
                            "max, min, sum)");
        parse_err("len(1, 2)", "col 1: len() takes 1 argument, got 2");
        parse_err("all(nodes)", "col 1: all() takes 2 arguments, got 1");
        parse_err("max()", "col 1: max() takes 1 or 2 arguments, got 0");
        parse_err("1 < 2 < 3", "col 7: comparisons do not chain; use 'and'");
        parse_err("a and", "col 6: expected an expression, found end of input");
        parse_err(")", "col 1: expected an expression, found ')'");
        parse_err("1 ==", "col 5: expected an expression, found end of input");
        parse_err("1e999", "col 1: number out of range");
}

static void test_depth_limits(void **state)
{
        char buf[4096];
        size_t n = 0;
        struct err err;
        struct expr *e;

        (void)state;
        for (int i = 0; i < EXPR_MAX_DEPTH + 1; i++)
                buf[n++] = '(';
        buf[n++] = '1';
        for (int i = 0; i < EXPR_MAX_DEPTH + 1; i++)
                buf[n++] = ')';
        buf[n] = '\0';
        parse_err(buf, "col 65: expression nested too deeply (more than 64 levels)");
        /* A long flat chain is bounded by the tree height. */
        n = 0;
        for (int i = 0; i < 600; i++) {
                buf[n++] = '1';
                buf[n++] = '+';
        }
        buf[n++] = '1';
        buf[n] = '\0';
        err_clear(&err);
        e = expr_parse(buf, &err);
        assert_null(e);
        assert_string_equal(err.msg,
                            "col 512: expression too long (more than 256 levels of operators)");
        /* 200 is fine. */
        buf[399] = '\0';
        ok(buf, "200");
}

static void test_eval_errors(void **state)
{
        (void)state;
        eval_err("1 + 'a'", "col 3: '+' needs two numbers or two strings, got number and string");
        eval_err("nodes - 1", "col 7: '-' needs two numbers, got list and number");
        eval_err("n / zero", "col 3: division by zero");
        eval_err("1 < 'a'", "col 3: '<' cannot compare number with string");
        eval_err("quorum >= 1", "col 8: '>=' cannot compare object with number");
        eval_err("-name", "col 1: '-' needs a number, got string");
        eval_err("1 and true", "col 1: 'and' needs a boolean, got number");
        eval_err("true and 'x'", "col 10: 'and' needs a boolean, got string");
        eval_err("false or 2", "col 10: 'or' needs a boolean, got number");
        eval_err("not name", "col 5: 'not' needs a boolean, got string");
        eval_err("len(5)", "col 1: len() needs a string, list or object, got number");
        eval_err("all(name, .x)", "col 1: all() needs a list, got string");
        eval_err("count(nodes, .name)", "col 14: count() needs a boolean predicate, got string");
        eval_err("sum(nodes, .name)", "col 12: sum() needs numbers, got string");
        eval_err("max(words)", "col 5: max() needs numbers, got string");
        eval_err("nodes[0.5]", "col 7: index must be a whole number");
        eval_err("nodes[true]", "col 7: index must be a number or a string, got boolean");
        eval_err("1 in 2", "col 3: 'in' needs a list, object or string on the right, got number");
        eval_err("1 in quorum", "col 3: 'in' object needs a string on the left, got number");
        eval_err("1e300 * 1e300", "col 7: number out of range");
}

static void test_explain(void **state)
{
        struct err err;
        struct expr *e;
        char *s;

        (void)state;
        err_clear(&err);
        e = expr_parse("len(nodes) == 4 and all(nodes, .ready)", &err);
        assert_non_null(e);
        s = expr_explain(e, doc);
        assert_string_equal(s, "len(nodes) = 3, all(nodes, .ready) = false");
        free(s);
        assert_string_equal(expr_text(e), "len(nodes) == 4 and all(nodes, .ready)");
        expr_free(e);

        e = expr_parse("quorum.leader_id != null and len(quorum.voters) == 3 and 1 + 'a' == 2",
                       &err);
        assert_non_null(e);
        s = expr_explain(e, doc);
        assert_string_equal(s, "quorum.leader_id = 1, len(quorum.voters) = 3, "
                               "1 + 'a' = error: col 60: '+' needs two numbers or two "
                               "strings, got number and string");
        free(s);
        /* against no document at all: everything is null */
        s = expr_explain(e, NULL);
        assert_string_equal(s, "quorum.leader_id = null, len(quorum.voters) = null, "
                               "1 + 'a' = error: col 60: '+' needs two numbers or two "
                               "strings, got number and string");
        free(s);
        expr_free(e);

        e = expr_parse("(status) == 'ok'", &err);
        s = expr_explain(e, doc);
        assert_string_equal(s, "(status) = \"ok\"");
        free(s);
        expr_free(e);
}

static void test_true(void **state)
{
        cJSON *t = cJSON_CreateTrue(), *one = cJSON_CreateNumber(1), *nul = cJSON_CreateNull();

        (void)state;
        assert_true(expr_true(t));
        assert_false(expr_true(one));
        assert_false(expr_true(nul));
        assert_false(expr_true(NULL));
        cJSON_Delete(t);
        cJSON_Delete(one);
        cJSON_Delete(nul);
}

/* A raw node (JSON text printed ahead of time, as the reconcile status
 * keeps its buckets) reads as the value it holds: paths into it, the
 * current element of a predicate, indexes, `in`, and the functions. */
static void test_raw_nodes(void **state)
{
        cJSON *saved = doc, *arr = cJSON_CreateArray();
        struct err err;
        struct expr *e;
        cJSON *v;

        (void)state;
        doc = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, cJSON_CreateRaw("{\"key\":{\"bucket\":\"b1\"},\"n\":3,"
                                                  "\"class\":\"match\"}"));
        cJSON_AddItemToArray(arr, cJSON_CreateRaw("{\"key\":{\"bucket\":\"b2\"},\"n\":5,"
                                                  "\"class\":\"mismatch\"}"));
        cJSON_AddItemToArray(arr, cJSON_CreateRaw("null"));
        cJSON_AddItemToObject(doc, "buckets", arr);
        cJSON_AddItemToObject(doc, "whole", cJSON_CreateRaw("[1,2,{\"a\":\"x\"}]"));
        ok("buckets[1].key.bucket", "\"b2\"");
        ok("buckets[-3][\"class\"]", "\"match\"");
        ok("buckets[1]", "{\"key\":{\"bucket\":\"b2\"},\"n\":5,\"class\":\"mismatch\"}");
        ok("buckets[2]", "null");
        ok("any(buckets, .key.bucket == 'b2' and .class == 'mismatch')", "true");
        ok("count(buckets, .class == 'match')", "1");
        ok("sum(buckets, .n)", "8");
        ok("max(buckets, .n)", "5");
        ok("len(whole)", "3");
        ok("whole[2].a", "\"x\"");
        ok("2 in whole", "true");
        ok("null in buckets", "true");
        err_clear(&err);
        e = expr_parse("any(buckets, .key.bucket == 'b1')", &err);
        v = expr_eval(e, doc, &err);
        assert_true(expr_true(v));
        cJSON_Delete(v);
        expr_free(e);
        cJSON_Delete(doc);
        doc = saved;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_literals),
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_arithmetic),
                cmocka_unit_test(test_comparisons),
                cmocka_unit_test(test_null_semantics),
                cmocka_unit_test(test_logic_precedence),
                cmocka_unit_test(test_functions),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_depth_limits),
                cmocka_unit_test(test_eval_errors),
                cmocka_unit_test(test_explain),
                cmocka_unit_test(test_true),
                cmocka_unit_test(test_raw_nodes),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
