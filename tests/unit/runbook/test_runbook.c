/*
 * test_runbook: the runbook model and loader (src/runbook/runbook.h): the
 * good fixture's every field (every step kind); each kind of bad input's
 * exact "FILE:LINE:COL: message"; the set of a config's `runbooks:` (a
 * directory, sorted, *.yaml and *.yml only, unique ids); the checks
 * against the config; alert and status matching; inputs (set, prefill,
 * check, JSON) and ${name} substitution. Pure apart from reading fixtures.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bringup/expr.h"
#include "core/config.h"
#include "core/health.h"
#include "core/util.h"
#include "runbook/runbook.h"
#include "tu.h"

#define GOOD "tests/fixtures/runbooks/good/cdc-slot-inactive.yaml"

static const char cfg_text[] =
        "runbooks: [good, good/*.yml]\n"
        "sources:\n"
        "  - name: orders-db\n"
        "    kind: postgres\n"
        "    dsn: \"host=127.0.0.1 port=1 dbname=postgres\"\n"
        "  - name: connect\n"
        "    kind: kafka_connect\n"
        "    url: http://127.0.0.1:1\n"
        "  - name: k8s\n"
        "    kind: kubernetes\n";

/* The test config, named as if it sat in tests/fixtures/runbooks/. */
static struct config *test_cfg(void)
{
        char *name = xstrdup(tu_src_path("tests/fixtures/runbooks/lambdaops.yaml"));
        struct err err;
        struct config *c = config_load_string(cfg_text, strlen(cfg_text), name, &err);

        free(name);
        if (!c)
                fail_msg("%s", err.msg);
        return c;
}

static struct runbook *load_good(void)
{
        struct err err;
        struct runbook *rb = runbook_load_file(tu_src_path(GOOD), &err);

        if (!rb)
                fail_msg("%s", err.msg);
        return rb;
}

static void test_good(void **state)
{
        struct runbook *rb = load_good();
        const struct runbook_step *s;
        const struct runbook_input *in;

        (void)state;
        assert_string_equal(rb->path, tu_src_path(GOOD));
        assert_string_equal(rb->id, "cdc-slot-inactive");
        assert_string_equal(rb->title, "An inactive slot is retaining WAL");
        assert_string_equal(rb->description, "A replication slot with no consumer keeps WAL on "
                            "the primary.\nRestart its connector first; drop the slot only when "
                            "the consumer is gone.\n");
        assert_int_equal(rb->n_when, 2);
        assert_string_equal(rb->when[0].kind, "postgres");
        assert_string_equal(rb->when[0].metric, "slot_retained_wal");
        assert_string_equal(rb->when[0].source, "orders-*");
        assert_null(rb->when[0].subject);
        assert_int_equal(rb->when[0].severity, SEV_WARN);
        assert_null(rb->when[0].expr);
        assert_int_equal(rb->when[0].line, 7);
        assert_int_equal(rb->when[0].col, 5);
        assert_string_equal(rb->when[1].source, "orders-db");
        assert_null(rb->when[1].kind);
        assert_int_equal(rb->when[1].severity, SEV_OK);
        assert_string_equal(expr_text(rb->when[1].expr), "any(slots, not .active)");

        assert_int_equal(rb->n_inputs, 7);
        in = &rb->inputs[0];
        assert_string_equal(in->name, "source");
        assert_int_equal(in->type, RB_IN_SOURCE);
        assert_string_equal(in->kind, "postgres");
        assert_int_equal(in->from_alert, RB_FROM_SOURCE);
        assert_null(in->def);
        assert_int_equal(in->line, 14);
        assert_int_equal(in->col, 5);
        in = &rb->inputs[1];
        assert_int_equal(in->type, RB_IN_TARGET);
        assert_int_equal(in->target, RB_T_SLOT);
        assert_int_equal(in->from_alert, RB_FROM_SUBJECT);
        in = &rb->inputs[2];
        assert_string_equal(in->kind, "kafka_connect");
        assert_string_equal(in->def, "connect");
        assert_int_equal(rb->inputs[3].target, RB_T_CONNECTOR);
        in = &rb->inputs[4];
        assert_int_equal(in->type, RB_IN_ENUM);
        assert_int_equal(in->n_values, 2);
        assert_string_equal(in->values[0], "restart");
        assert_string_equal(in->values[1], "drop");
        assert_null(in->values[2]);
        assert_string_equal(in->def, "restart");
        in = &rb->inputs[5];
        assert_int_equal(in->type, RB_IN_INTEGER);
        assert_true(in->has_min && in->has_max);
        assert_int_equal(in->min, 1);
        assert_int_equal(in->max, 5);
        assert_string_equal(in->def, "3");
        assert_int_equal(rb->inputs[6].type, RB_IN_DURATION);
        assert_string_equal(rb->inputs[6].def, "30s");

        assert_int_equal(rb->n_steps, 6);
        s = &rb->steps[0];
        assert_string_equal(s->id, "slot-exists");
        assert_string_equal(s->title, "The slot exists");
        assert_int_equal(s->kind, RB_STEP_CHECK);
        assert_string_equal(s->cond.source, "${source}");
        assert_string_equal(expr_text(s->cond.expr), "any(slots, .name == inputs.slot)");
        assert_int_equal(s->cond.for_ms, 0);
        assert_false(s->mutating);
        assert_int_equal(s->timeout_ms, RUNBOOK_STEP_TIMEOUT_MS);
        assert_int_equal(s->retries, 0);
        assert_int_equal(s->on_fail, RB_FAIL_STOP);
        assert_int_equal(s->line, 42);
        assert_int_equal(s->col, 5);
        s = &rb->steps[1];
        assert_int_equal(s->kind, RB_STEP_CHOOSE);
        assert_null(s->title);
        assert_int_equal(s->n_choices, 2);
        assert_string_equal(s->choices[0].label, "The consumer is alive");
        assert_string_equal(s->choices[0].go, "restart");
        assert_int_equal(s->choices[0].go_index, 2);
        assert_string_equal(s->choices[1].go, "confirm-drop");
        assert_int_equal(s->choices[1].go_index, 4);
        s = &rb->steps[2];
        assert_int_equal(s->kind, RB_STEP_ACTION);
        assert_string_equal(s->act_source, "${connect}");
        assert_string_equal(s->act_action, "restart");
        assert_string_equal(s->act_target, "${connector}");
        assert_null(s->act_arg);
        assert_true(s->mutating);
        assert_int_equal(s->timeout_ms, 120000);
        assert_int_equal(s->retries, 1);
        assert_int_equal(s->on_fail, RB_FAIL_GOTO);
        assert_string_equal(s->on_fail_goto, "confirm-drop");
        assert_int_equal(s->on_fail_index, 4);
        s = &rb->steps[3];
        assert_int_equal(s->kind, RB_STEP_WAIT);
        assert_int_equal(s->cond.for_ms, 30000);
        assert_int_equal(s->on_fail, RB_FAIL_CONTINUE);
        s = &rb->steps[4];
        assert_int_equal(s->kind, RB_STEP_MANUAL);
        assert_string_equal(s->manual, "Check that no pod consumes slot ${slot} (cost: $$0).");
        assert_false(s->mutating);
        s = &rb->steps[5];
        assert_int_equal(s->kind, RB_STEP_RUN);
        assert_int_equal(s->n_argv, 3);
        assert_string_equal(s->argv[0], "pg_dump");
        assert_string_equal(s->argv[2], "--slot=${slot}");
        assert_null(s->argv[3]);
        assert_false(s->mutating);
        assert_int_equal(s->on_fail, RB_FAIL_STOP);

        assert_int_equal(rb->n_verify, 1);
        assert_string_equal(rb->verify[0].source, "${source}");
        assert_int_equal(rb->verify[0].for_ms, 60000);
        assert_int_equal(rb->verify[0].timeout_ms, 600000);
        assert_string_equal(runbook_step_kind_name(RB_STEP_CHOOSE), "choose");
        assert_string_equal(runbook_input_type_name(RB_IN_DURATION), "duration");
        assert_string_equal(runbook_target_name(RB_T_DAG), "dag");
        runbook_free(rb);
}

/* A minimal runbook around `steps` (and `head` before it). */
#define HEAD "id: t\ntitle: T\n"

static const struct {
        const char *yaml;
        const char *msg;        /* exact, or NULL: loads */
} bad[] = {
        { HEAD "steps:\n  - id: a\n    manual: x\n", NULL },
        { "", "t.yaml: empty file; a runbook needs id, title and steps" },
        { "id: [\n", "t.yaml:2:1: YAML: did not find expected node content while parsing a flow "
          "node" },
        { "- a\n", "t.yaml:1:1: runbook: expected a mapping, got a list" },
        { HEAD "step:\n  - id: a\n", "t.yaml:3:1: runbook: unknown key \"step\" "
          "(did you mean \"steps\"?)" },
        { "title: T\nsteps: []\n", "t.yaml:1:1: missing \"id\"" },
        { "id: Bad_Id\ntitle: T\n", "t.yaml:1:5: id: \"Bad_Id\" is not a valid runbook id "
          "(lowercase letters, digits and -)" },
        { "id: t\ntitle: [a]\n", "t.yaml:2:8: title: expected a non-empty string, got a list" },
        { HEAD, "t.yaml:1:1: missing \"steps\"" },
        { HEAD "steps: []\n", "t.yaml:3:8: steps: expected at least one step" },
        { HEAD "steps: {a: 1}\n", "t.yaml:3:8: steps: expected a list, got a mapping" },
        /* Unknown step kinds, none, two. */
        { HEAD "steps:\n  - id: a\n    shell: ls\n", "t.yaml:5:5: steps[0]: unknown key "
          "\"shell\" (a step is one of check, wait, action, run, manual, choose)" },
        { HEAD "steps:\n  - id: a\n    manul: x\n", "t.yaml:5:5: steps[0]: unknown key "
          "\"manul\" (did you mean \"manual\"?)" },
        { HEAD "steps:\n  - id: a\n    title: x\n", "t.yaml:4:5: step a: expected one of "
          "check, wait, action, run, manual, choose" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    run: [ls]\n", "t.yaml:6:5: step a: has "
          "both \"manual\" and \"run\"; a step does one thing" },
        { HEAD "steps:\n  - manual: x\n", "t.yaml:4:5: steps[0]: missing \"id\"" },
        /* Wrong types. */
        { HEAD "steps:\n  - id: a\n    manual: x\n    retries: many\n", "t.yaml:6:14: "
          "retries: expected an integer, got \"many\"" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    retries: 11\n", "t.yaml:6:14: retries: "
          "expected 0 to 10" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    timeout: 5\n", "t.yaml:6:14: timeout: "
          "invalid duration \"5\": missing unit (ms, s, m, h or d)" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    mutating: true\n", "t.yaml:6:15: "
          "mutating: only for action and run steps" },
        { HEAD "steps:\n  - id: a\n    run: [ls]\n    mutating: yes\n", "t.yaml:6:15: mutating: "
          "expected true or false" },
        { HEAD "steps:\n  - id: a\n    run: ls -l\n", "t.yaml:5:10: run: expected a non-empty "
          "list of words, e.g. [kubectl, get, pods] (never a shell line)" },
        { HEAD "steps:\n  - id: a\n    run: [\"ls -l\"]\n", "t.yaml:5:10: run: \"ls -l\" is one "
          "word; write the argv as a list" },
        { HEAD "steps:\n  - id: a\n    run: [ls, [x]]\n", "t.yaml:5:15: run: every word must "
          "be a string, got a list" },
        /* Duplicate ids and references. */
        { HEAD "steps:\n  - id: a\n    manual: x\n  - id: a\n    manual: y\n", "t.yaml:6:9: "
          "id: step \"a\" is already defined at line 4" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    on_fail: nowhere\n", "t.yaml:6:14: step "
          "a: on_fail: no step \"nowhere\" (expected stop, continue or a step id)" },
        { HEAD "steps:\n  - id: a\n    choose:\n      - label: x\n        goto: a\n"
          "      - label: y\n        goto: b\n", "t.yaml:9:15: step a: goto: no step \"b\"" },
        { HEAD "steps:\n  - id: a\n    choose:\n      - label: x\n        goto: a\n",
          "t.yaml:6:7: choose: expected at least two choices" },
        /* Expressions. */
        { HEAD "steps:\n  - id: a\n    check:\n      source: s\n      expr: 'len(x) =='\n",
          "t.yaml:7:23: expr: col 10: expected an expression, found end of input" },
        { HEAD "steps:\n  - id: a\n    check:\n      source: s\n      expr: len(x) ==\n",
          "t.yaml:7:22: expr: col 10: expected an expression, found end of input" },
        { HEAD "steps:\n  - id: a\n    check:\n      source: s\n      expr: \"a == \\\"b\"\n",
          "t.yaml:7:13: expr: col 6: unterminated string" },
        { HEAD "steps:\n  - id: a\n    check:\n      source: s\n      expr: |\n        a ==\n",
          "t.yaml:7:13: expr: col 6: expected an expression, found end of input" },
        { HEAD "steps:\n  - id: a\n    check:\n      expr: 'true'\n", "t.yaml:6:7: check: "
          "missing \"source\" (whose status the expression reads)" },
        { HEAD "steps:\n  - id: a\n    wait:\n      source: s\n      expr: 'true'\n"
          "      timeout: 1m\n", "t.yaml:8:7: wait: unknown key \"timeout\"" },
        { HEAD "when:\n  - expr: 'true'\nsteps:\n  - id: a\n    manual: x\n", "t.yaml:4:5: "
          "when[0]: an expr entry needs the source (or kind) whose status it reads" },
        { HEAD "when:\n  - source: s\n    severity: high\nsteps:\n  - id: a\n    manual: x\n",
          "t.yaml:5:15: severity: expected warning or critical" },
        { HEAD "when:\n  - {}\nsteps:\n  - id: a\n    manual: x\n", "t.yaml:4:5: when[0]: empty; "
          "give kind, source, metric, subject, severity or expr" },
        /* Inputs. */
        { HEAD "inputs:\n  - name: n\n    type: float\nsteps:\n  - id: a\n    manual: x\n",
          "t.yaml:5:11: input n: type: expected string, integer, duration, enum, source or "
          "target" },
        { HEAD "inputs:\n  - name: n\n    type: integer\n    default: \"x\"\nsteps:\n  - id: a\n"
          "    manual: x\n", "t.yaml:6:14: input n: default: \"x\" is not an integer" },
        { HEAD "inputs:\n  - name: n\n    type: integer\n    max: 3\n    default: \"4\"\nsteps:\n"
          "  - id: a\n    manual: x\n", "t.yaml:7:14: input n: default: 4 is more than the "
          "maximum 3" },
        { HEAD "inputs:\n  - name: d\n    type: duration\n    default: soon\nsteps:\n  - id: a\n"
          "    manual: x\n", "t.yaml:6:14: input d: default: invalid duration \"soon\": "
          "expected a number and a unit (ms, s, m, h or d)" },
        { HEAD "inputs:\n  - name: m\n    type: enum\n    values: [a, b]\n    default: c\n"
          "steps:\n  - id: a\n    manual: x\n", "t.yaml:7:14: input m: default: \"c\" is not "
          "one of a, b" },
        { HEAD "inputs:\n  - name: m\n    type: enum\nsteps:\n  - id: a\n    manual: x\n",
          "t.yaml:4:5: input m: missing \"values\" (the list of choices)" },
        { HEAD "inputs:\n  - name: t\n    type: target\n    target: table\nsteps:\n  - id: a\n"
          "    manual: x\n", "t.yaml:6:13: input t: target: expected slot, group, connector, "
          "pod, application, dag or bucket" },
        { HEAD "inputs:\n  - name: t\n    type: string\n    min: 1\nsteps:\n  - id: a\n"
          "    manual: x\n", "t.yaml:6:10: input t: min: only for type integer" },
        { HEAD "inputs:\n  - name: Slot\n    type: string\nsteps:\n  - id: a\n    manual: x\n",
          "t.yaml:4:11: name: \"Slot\" is not a valid input name (lowercase letters, digits "
          "and _, not starting with a digit)" },
        { HEAD "inputs:\n  - name: a\n    type: string\n  - name: a\n    type: string\n"
          "steps:\n  - id: a\n    manual: x\n", "t.yaml:6:11: name: input \"a\" is already "
          "defined at line 4" },
        /* ${name} in words. */
        { HEAD "steps:\n  - id: a\n    run: [echo, \"${nope}\"]\n", "t.yaml:5:17: run: unknown "
          "input ${nope} (the runbook has no inputs)" },
        { HEAD "inputs:\n  - name: a\n    type: string\nsteps:\n  - id: a\n"
          "    manual: see ${b}\n", "t.yaml:8:13: manual: unknown input ${b}" },
        { HEAD "inputs:\n  - name: a\n    type: string\nsteps:\n  - id: a\n"
          "    manual: pay ${a\n", "t.yaml:8:13: manual: unterminated ${ in \"pay ${a\" (write "
          "$$ for a literal $)" },
        { HEAD "steps:\n  - id: a\n    action:\n      source: s\n      action: restart\n",
          "t.yaml:6:7: action: missing \"target\"" },
        /* next: a step id or verify, as on_fail's goto; not on choose. */
        { HEAD "steps:\n  - id: a\n    manual: x\n    next: nowhere\n", "t.yaml:6:11: step "
          "a: next: no step \"nowhere\" (expected a step id or verify)" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    next: [b]\n", "t.yaml:6:11: next: "
          "expected a non-empty string, got a list" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    nxt: b\n", "t.yaml:6:5: steps[0]: "
          "unknown key \"nxt\" (did you mean \"next\"?)" },
        { HEAD "steps:\n  - id: a\n    choose:\n      - label: x\n        goto: a\n"
          "      - label: y\n        goto: a\n    next: a\n", "t.yaml:10:11: next: not for "
          "choose steps (each choice has its goto)" },
        { HEAD "steps:\n  - id: verify\n    manual: x\n", "t.yaml:4:9: id: \"verify\" is "
          "reserved (next: verify goes to the verify block); name the step otherwise" },
        { HEAD "steps:\n  - id: a\n    manual: x\n    next: verify\n", NULL },
        /* dangerous: only on action and run steps, a boolean, never with
         * mutating: false. */
        { HEAD "steps:\n  - id: a\n    manual: x\n    dangerous: true\n", "t.yaml:6:16: "
          "dangerous: only for action and run steps" },
        { HEAD "steps:\n  - id: a\n    run: [ls]\n    dangerous: yes\n", "t.yaml:6:16: "
          "dangerous: expected true or false" },
        { HEAD "steps:\n  - id: a\n    run: [ls]\n    dangerous: true\n    mutating: false\n",
          "t.yaml:6:16: dangerous: a dangerous step changes something; drop mutating: "
          "false" },
        { HEAD "steps:\n  - id: a\n    run: [ls]\n    dangerous: false\n    mutating: false\n",
          NULL },
        /* choose labels: ${name} checked as in every word. */
        { HEAD "steps:\n  - id: a\n    choose:\n      - label: drop ${slot}\n        goto: a\n"
          "      - label: y\n        goto: a\n", "t.yaml:6:16: label: unknown input ${slot} "
          "(the runbook has no inputs)" },
        { HEAD "inputs:\n  - name: slot\n    type: string\nsteps:\n  - id: a\n    choose:\n"
          "      - label: pay $${slot\n        goto: a\n      - label: keep ${slot\n"
          "        goto: a\n", "t.yaml:11:16: label: unterminated ${ in \"keep ${slot\" "
          "(write $$ for a literal $)" },
        /* Limits. */
        { HEAD "steps:\n  - id: a\n    manual: x\n---\nid: u\n", "t.yaml:7:1: a second YAML "
          "document; one runbook per file" },
        { HEAD "x: &a {}\nsteps:\n  - id: a\n    manual: x\n", "t.yaml:3:4: anchors and "
          "aliases are not supported in runbooks" },
        { HEAD "steps: [[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]\n", "t.yaml:3:23: nested deeper "
          "than 16 levels" },
        { HEAD "steps:\n  - id: a\n    retries: 1\n    manual: x\n    retries: 2\n",
          "t.yaml:7:5: steps[0]: duplicate key \"retries\"" },
};

static void test_bad(void **state)
{
        int failures = 0;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                struct err err;
                struct runbook *rb = runbook_load_string(bad[i].yaml, strlen(bad[i].yaml),
                                                         "t.yaml", &err);

                if (bad[i].msg ? rb != NULL || strcmp(err.msg, bad[i].msg) != 0 : rb == NULL) {
                        printf("case %zu:\n  got  %s\n  want %s\n", i, rb ? "(loaded)" : err.msg,
                               bad[i].msg ? bad[i].msg : "(loaded)");
                        failures++;
                }
                runbook_free(rb);
        }
        assert_int_equal(failures, 0);
}

/* next:, dangerous and choose labels as loaded: next resolves to a step's
 * index or to n_steps for verify; dangerous defaults to false; a label
 * keeps its ${name} for the engine to substitute. */
static void test_next_dangerous_labels(void **state)
{
        static const char y[] =
                HEAD
                "inputs:\n"
                "  - name: slot\n"
                "    type: string\n"
                "steps:\n"
                "  - id: a\n"
                "    run: [echo, a]\n"
                "    dangerous: true\n"
                "    next: c\n"
                "  - id: b\n"
                "    run: [echo, b]\n"
                "  - id: c\n"
                "    choose:\n"
                "      - label: Drop ${slot} ($$5)\n"
                "        goto: b\n"
                "      - label: Keep it\n"
                "        goto: d\n"
                "  - id: d\n"
                "    action:\n"
                "      source: connect\n"
                "      action: restart\n"
                "      target: x\n"
                "    dangerous: true\n"
                "    next: verify\n"
                "  - id: e\n"
                "    manual: never reached\n";
        struct err err;
        struct runbook *rb = runbook_load_string(y, strlen(y), "t.yaml", &err);

        (void)state;
        if (!rb)
                fail_msg("%s", err.msg);
        assert_int_equal(rb->n_steps, 5);
        assert_true(rb->steps[0].has_next);
        assert_string_equal(rb->steps[0].next, "c");
        assert_int_equal(rb->steps[0].next_index, 2);
        assert_true(rb->steps[0].dangerous);
        assert_true(rb->steps[0].mutating);
        assert_false(rb->steps[1].has_next);
        assert_null(rb->steps[1].next);
        assert_false(rb->steps[1].dangerous);
        assert_true(rb->steps[1].mutating);
        assert_false(rb->steps[2].has_next);
        assert_string_equal(rb->steps[2].choices[0].label, "Drop ${slot} ($$5)");
        assert_string_equal(rb->steps[2].choices[1].label, "Keep it");
        assert_true(rb->steps[3].dangerous);
        assert_true(rb->steps[3].has_next);
        assert_string_equal(rb->steps[3].next, "verify");
        assert_int_equal(rb->steps[3].next_index, 5);
        assert_false(rb->steps[4].dangerous);
        runbook_free(rb);
}

/* Too many steps, and a file over the size limit. */
static void test_limits(void **state)
{
        size_t cap = 300 * 40 + 64, n;
        char *y = xmalloc(cap);
        struct err err;

        (void)state;
        n = (size_t)snprintf(y, cap, HEAD "steps:\n");
        for (int i = 0; i < 201; i++)
                n += (size_t)snprintf(y + n, cap - n, "  - {id: s%d, manual: x}\n", i);
        assert_null(runbook_load_string(y, n, "t.yaml", &err));
        assert_string_equal(err.msg, "t.yaml:4:3: steps: more than 200 entries");
        free(y);
        assert_null(runbook_load_string("", RUNBOOK_FILE_MAX + 1, "t.yaml", &err));
        assert_string_equal(err.msg, "t.yaml: larger than 1048576 bytes");
}

static void test_set(void **state)
{
        struct config *cfg = test_cfg();
        struct runbook_set set;
        struct err err;

        (void)state;
        if (runbook_set_load(&set, cfg, &err) != 0)
                fail_msg("%s", err.msg);
        assert_int_equal(set.n, 2);
        assert_string_equal(set.v[0]->id, "cdc-slot-inactive");
        assert_string_equal(set.v[1]->id, "connector-failed");
        assert_string_equal(set.v[1]->path,
                            tu_src_path("tests/fixtures/runbooks/good/connector-failed.yml"));
        assert_ptr_equal(runbook_set_find(&set, "connector-failed"), set.v[1]);
        assert_null(runbook_set_find(&set, "nope"));
        for (size_t i = 0; i < set.n; i++)
                if (runbook_check_config(set.v[i], cfg, &err) != 0)
                        fail_msg("%s", err.msg);
        runbook_set_done(&set);
        assert_int_equal(set.n, 0);
        config_free(cfg);
}

static void test_set_errors(void **state)
{
        static const char dup[] = "runbooks: [good, good/../good/*.yaml, dup]\n";
        static const char missing[] = "runbooks: [nowhere]\n";
        char *name = xstrdup(tu_src_path("tests/fixtures/runbooks/lambdaops.yaml"));
        char *dir = xstrdup(tu_src_path("tests/fixtures/runbooks"));
        char want[512];
        struct runbook_set set;
        struct config *cfg;
        struct err err;

        (void)state;
        cfg = config_load_string(missing, strlen(missing), name, &err);
        assert_non_null(cfg);
        assert_int_equal(runbook_set_load(&set, cfg, &err), -1);
        snprintf(want, sizeof want, "%s: runbooks: %s: No such file or directory (a directory, "
                 "a file or a glob, relative to the config file)", name,
                 tu_src_path("tests/fixtures/runbooks/nowhere"));
        assert_string_equal(err.msg, want);
        config_free(cfg);
        /* The same file twice is loaded once; another file with a known id
         * is an error naming both files. */
        cfg = config_load_string(dup, strlen(dup), name, &err);
        assert_non_null(cfg);
        assert_int_equal(runbook_set_load(&set, cfg, &err), -1);
        snprintf(want, sizeof want, "%s/good/connector-failed.yml: id \"connector-failed\" is "
                 "already the id of %s/dup/connector-failed-again.yaml", dir, dir);
        assert_string_equal(err.msg, want);
        config_free(cfg);
        free(name);
        free(dir);
}

static void test_check_config(void **state)
{
        static const struct {
                const char *yaml, *msg;
        } cases[] = {
                { HEAD "steps:\n  - id: a\n    check:\n      source: nope\n      expr: 'true'\n",
                  "t.yaml:6:7: step a: no source \"nope\" in CFG" },
                { HEAD "steps:\n  - id: a\n    action:\n      source: connect\n"
                  "      action: explode\n      target: x\n",
                  "t.yaml:4:5: step a: no action \"explode\" for kafka_connect sources "
                  "(docs/actions.md lists them)" },
                { HEAD "inputs:\n  - name: c\n    type: source\n    kind: kafka_connect\nsteps:\n"
                  "  - id: a\n    action:\n      source: ${c}\n      action: explode\n"
                  "      target: x\n", "t.yaml:8:5: step a: no action \"explode\" for "
                  "kafka_connect sources (docs/actions.md lists them)" },
                { HEAD "inputs:\n  - name: c\n    type: source\n    kind: postgres\n"
                  "    default: connect\nsteps:\n  - id: a\n    manual: x\n", "t.yaml:4:5: input "
                  "c: default: source \"connect\" is a kafka_connect source, not postgres" },
                { HEAD "inputs:\n  - name: c\n    type: source\n    kind: postgress\nsteps:\n"
                  "  - id: a\n    manual: x\n", "t.yaml:4:5: input c: no source kind "
                  "\"postgress\"" },
                { HEAD "when:\n  - kind: kafka-connect\nsteps:\n  - id: a\n    manual: x\n",
                  "t.yaml:4:5: when[0]: no source kind \"kafka-connect\"" },
                { HEAD "steps:\n  - id: a\n    action:\n      source: k8s\n"
                  "      action: restart\n      target: ingestion/pod/x\n",
                  "t.yaml:4:5: step a: restart applies to statefulset/deployment (this is a pod)" },
                { HEAD "verify:\n  - source: gone\n    expr: 'true'\nsteps:\n  - id: a\n"
                  "    manual: x\n", "t.yaml:4:5: verify[0]: no source \"gone\" in CFG" },
        };
        struct config *cfg = test_cfg();
        int failures = 0;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                struct err err;
                struct runbook *rb = runbook_load_string(cases[i].yaml, strlen(cases[i].yaml),
                                                         "t.yaml", &err);
                char want[512];
                const char *at;

                if (!rb)
                        fail_msg("case %zu: %s", i, err.msg);
                at = strstr(cases[i].msg, "CFG");
                if (at)
                        snprintf(want, sizeof want, "%.*s%s%s", (int)(at - cases[i].msg),
                                 cases[i].msg, cfg->path, at + 3);
                else
                        snprintf(want, sizeof want, "%s", cases[i].msg);
                if (runbook_check_config(rb, cfg, &err) != -1 || strcmp(err.msg, want) != 0) {
                        printf("case %zu:\n  got  %s\n  want %s\n", i, err.msg, want);
                        failures++;
                }
                runbook_free(rb);
        }
        assert_int_equal(failures, 0);
        config_free(cfg);
}

static struct alert mk_alert(enum severity sev, const char *src, const char *metric,
                             const char *subject)
{
        struct alert a;

        memset(&a, 0, sizeof a);
        a.sev = sev;
        str_copy(a.source, src, sizeof a.source);
        str_copy(a.metric, metric, sizeof a.metric);
        str_copy(a.subject, subject, sizeof a.subject);
        a.value = NAN;
        a.threshold = NAN;
        return a;
}

static void test_matches(void **state)
{
        struct runbook *rb = load_good();
        struct alert a;
        cJSON *doc;

        (void)state;
        a = mk_alert(SEV_WARN, "orders-db", "slot_retained_wal", "debezium");
        assert_true(runbook_matches_alert(rb, &a, "postgres"));
        a.sev = SEV_CRIT;       /* warning matches critical too */
        assert_true(runbook_matches_alert(rb, &a, "postgres"));
        assert_false(runbook_matches_alert(rb, &a, "kafka"));
        a = mk_alert(SEV_WARN, "billing-db", "slot_retained_wal", "debezium");
        assert_false(runbook_matches_alert(rb, &a, "postgres"));       /* source glob */
        a = mk_alert(SEV_WARN, "orders-db", "slot_lag_bytes", "debezium");
        assert_false(runbook_matches_alert(rb, &a, "postgres"));
        /* The expr entry is not an alert match. */
        a = mk_alert(SEV_WARN, "orders-db", "status", "");
        assert_false(runbook_matches_alert(rb, &a, "postgres"));
        assert_false(runbook_matches_alert(rb, NULL, "postgres"));

        doc = cJSON_Parse("{\"slots\":[{\"name\":\"a\",\"active\":true},"
                          "{\"name\":\"b\",\"active\":false}]}");
        assert_true(runbook_matches_status(rb, "orders-db", "postgres", doc));
        assert_false(runbook_matches_status(rb, "other-db", "postgres", doc));
        cJSON_Delete(doc);
        doc = cJSON_Parse("{\"slots\":[{\"name\":\"a\",\"active\":true}]}");
        assert_false(runbook_matches_status(rb, "orders-db", "postgres", doc));
        cJSON_Delete(doc);
        assert_false(runbook_matches_status(rb, "orders-db", "postgres", NULL));
        runbook_free(rb);

        {
                static const char crit[] = HEAD "when:\n  - severity: critical\n    subject: "
                                           "'debezium*'\nsteps:\n  - id: a\n    manual: x\n";
                struct err err;

                rb = runbook_load_string(crit, strlen(crit), "t.yaml", &err);
                assert_non_null(rb);
                a = mk_alert(SEV_WARN, "x", "m", "debezium_orders");
                assert_false(runbook_matches_alert(rb, &a, "postgres"));
                a.sev = SEV_CRIT;
                assert_true(runbook_matches_alert(rb, &a, "postgres"));
                a = mk_alert(SEV_CRIT, "x", "m", "other");
                assert_false(runbook_matches_alert(rb, &a, "postgres"));
                runbook_free(rb);
        }
}

static void test_inputs(void **state)
{
        struct runbook *rb = load_good();
        struct config *cfg = test_cfg();
        struct runbook_inputs in = { 0 };
        struct alert a = mk_alert(SEV_WARN, "orders-db", "slot_retained_wal", "debezium");
        struct err err;
        cJSON *j;
        char *t;

        (void)state;
        assert_int_equal(runbook_inputs_set(rb, &in, "slot=mine", &err), 0);
        assert_int_equal(runbook_inputs_set(rb, &in, "nope=1", &err), -1);
        assert_string_equal(err.msg, "runbook cdc-slot-inactive has no input \"nope\" (its "
                            "inputs: source, slot, connect, connector, mode, tries, settle)");
        assert_int_equal(runbook_inputs_set(rb, &in, "slot", &err), -1);
        assert_string_equal(err.msg, "--input \"slot\": expected NAME=VALUE");
        runbook_inputs_prefill(rb, &in, &a);
        /* slot was given: the alert's subject does not replace it. */
        assert_int_equal(in.n, 6);
        assert_string_equal(in.names[0], "slot");
        assert_string_equal(in.values[0], "mine");
        assert_string_equal(in.names[1], "source");
        assert_string_equal(in.values[1], "orders-db");
        assert_string_equal(in.names[2], "connect");
        assert_string_equal(in.values[2], "connect");
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input connector is not set; give --input "
                            "connector=VALUE (a target)");
        assert_int_equal(runbook_inputs_set(rb, &in, "connector=-rf", &err), 0);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input connector: \"-rf\" starts with '-' (a connector name "
                            "never does)");
        assert_int_equal(runbook_inputs_set(rb, &in, "connector=orders\ncdc", &err), 0);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input connector: a control character in the value");
        assert_int_equal(runbook_inputs_set(rb, &in, "connector=orders-cdc", &err), 0);
        assert_int_equal(runbook_inputs_set(rb, &in, "tries=9", &err), 0);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input tries: 9 is more than the maximum 5");
        assert_int_equal(runbook_inputs_set(rb, &in, "tries=4", &err), 0);
        assert_int_equal(runbook_inputs_set(rb, &in, "source=connect", &err), 0);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input source: source \"connect\" is a kafka_connect "
                            "source, not postgres");
        assert_int_equal(runbook_inputs_set(rb, &in, "source=orders-db", &err), 0);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), 0);

        j = runbook_inputs_json(rb, &in);
        t = cJSON_PrintUnformatted(j);
        assert_string_equal(t, "{\"source\":\"orders-db\",\"slot\":\"mine\",\"connect\":"
                            "\"connect\",\"connector\":\"orders-cdc\",\"mode\":\"restart\","
                            "\"tries\":4,\"settle\":30000}");
        free(t);
        cJSON_Delete(j);

        t = runbook_subst(&in, rb->steps[4].manual, &err);
        assert_string_equal(t, "Check that no pod consumes slot mine (cost: $0).");
        free(t);
        t = runbook_subst(&in, "$x ${slot}${mode}$", &err);
        assert_string_equal(t, "$x minerestart$");
        free(t);
        assert_null(runbook_subst(&in, "${gone}", &err));
        assert_string_equal(err.msg, "input gone is not set");
        assert_null(runbook_subst(&in, "a ${slot", &err));
        assert_string_equal(err.msg, "bad ${...} in \"a ${slot\"");
        runbook_inputs_done(&in);

        /* Without an alert: defaults only; from_alert inputs stay unset. */
        runbook_inputs_prefill(rb, &in, NULL);
        assert_int_equal(in.n, 4);
        assert_int_equal(runbook_inputs_check(rb, &in, cfg, &err), -1);
        assert_string_equal(err.msg, "input source is not set; give --input source=VALUE "
                            "(a source)");
        runbook_inputs_done(&in);
        runbook_free(rb);
        config_free(cfg);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_next_dangerous_labels),
                cmocka_unit_test(test_set),
                cmocka_unit_test(test_set_errors),
                cmocka_unit_test(test_check_config),
                cmocka_unit_test(test_matches),
                cmocka_unit_test(test_inputs),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
