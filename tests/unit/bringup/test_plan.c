/*
 * test_plan: the plan loader (src/bringup/plan.h) on tests/fixtures/plan/: the good
 * plan's every field; each bad plan's exact FILE:LINE:COL message; ${var}
 * substitution per word; the exact `lambdaops plan` text; which stages `up`
 * runs given a progress file (resume, --from, --only, skipped, unknown);
 * the progress file's atomic write and read back. Pure apart from a temp
 * dir.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bringup/expr.h"
#include "bringup/plan.h"
#include "tu.h"
#include "core/util.h"

/* Loads tests/fixtures/plan/NAME from memory under the name `as`. */
static struct plan *load_as(const char *name, const char *as, struct err *err)
{
        char rel[128];
        size_t len;
        char *text;
        struct plan *p;

        snprintf(rel, sizeof rel, "tests/fixtures/plan/%s", name);
        text = tu_read_file(tu_src_path(rel), &len);
        assert_non_null(text);
        err_clear(err);
        p = plan_load_string(text, len, as, err);
        free(text);
        return p;
}

static void test_good(void **state)
{
        struct err err;
        struct plan *p = load_as("good.yaml", "/deploy/plan.yaml", &err);
        const struct plan_stage *s;

        (void)state;
        if (!p)
                fail_msg("%s", err.msg);
        assert_string_equal(p->name, "plan");
        assert_string_equal(p->dir, "/deploy");
        assert_string_equal(p->config, "/deploy/lambdaops.yaml");
        assert_int_equal(p->n_vars, 4);
        assert_string_equal(plan_var(p, "context"), "kind-lambdaops");
        assert_string_equal(plan_var(p, "ns"), "data ns");
        assert_string_equal(plan_var(p, "deploy"), "/deploy");
        assert_null(plan_var(p, "nope"));
        assert_int_equal(p->step_timeout_ms, 120000);
        assert_int_equal(p->gate_timeout_ms, 180000);
        assert_int_equal(p->n_stages, 2);
        assert_int_equal(plan_stage_index(p, "kafka"), 1);
        assert_int_equal(plan_stage_index(p, "nope"), -1);

        s = &p->stages[0];
        assert_string_equal(s->name, "cluster");
        assert_string_equal(s->title, "kind cluster");
        assert_int_equal(s->line, 11);
        assert_int_equal(s->n_steps, 2);
        assert_int_equal(s->steps[0].run.n, 7);
        assert_string_equal(s->steps[0].run.v[4], "${cluster}");     /* raw until run */
        assert_null(s->steps[0].run.v[7]);
        assert_int_equal(s->steps[0].timeout_ms, 300000);
        assert_int_equal(s->steps[0].skip_if_exit0.n, 5);
        assert_true(s->steps[0].mutating);
        assert_false(s->steps[0].dangerous);
        assert_int_equal(s->steps[1].timeout_ms, 120000);           /* the default */
        assert_int_equal(s->steps[1].n_env, 1);
        assert_string_equal(s->steps[1].env[0], "KUBECONFIG=/deploy/kubeconfig");
        assert_int_equal(s->n_gates, 1);
        assert_string_equal(s->gates[0].name, "nodes ready");
        assert_string_equal(s->gates[0].source, "k8s");
        assert_string_equal(expr_text(s->gates[0].expr), "len(nodes) == 4 and all(nodes, .ready)");
        assert_int_equal(s->gates[0].timeout_ms, 300000);
        assert_int_equal(s->gates[0].interval_ms, 2000);
        assert_int_equal(s->n_down, 1);
        assert_true(s->down[0].dangerous);

        s = &p->stages[1];
        assert_null(s->title);
        assert_false(s->steps[0].mutating);
        assert_int_equal(s->gates[0].timeout_ms, 180000);            /* defaults.gate_timeout */
        assert_int_equal(s->gates[0].interval_ms, 1000);
        assert_int_equal(s->n_down, 0);
        plan_free(p);
}

static void bad(const char *name, const char *want)
{
        struct err err;
        struct plan *p = load_as(name, name, &err);

        if (p)
                fail_msg("%s: loaded, want %s", name, want);
        if (strcmp(err.msg, want) != 0)
                fail_msg("%s:\n got  %s\n want %s", name, err.msg, want);
}

static void test_bad(void **state)
{
        (void)state;
        bad("bad_version.yaml", "bad_version.yaml:1:10: version: only version 1 is known");
        bad("bad_unknown_key.yaml",
            "bad_unknown_key.yaml:4:5: stages[0]: unknown key \"stepz\" (did you mean \"steps\"?)");
        bad("bad_var.yaml", "bad_var.yaml:7:46: stage a: steps[0]: unknown variable ${clustr}");
        bad("bad_expr.yaml",
            "bad_expr.yaml:8:15: expr: col 15: expected an expression, found end of input");
        bad("bad_shell.yaml", "bad_shell.yaml:5:14: stage a: steps[0]: expected a non-empty list "
                              "of words, e.g. [kubectl, apply, -f, file.yaml] (never a shell line)");
        bad("bad_one_word.yaml", "bad_one_word.yaml:5:14: stage a: steps[0]: \"kubectl apply -f "
                                 "x.yaml\" is one word; write the argv as a list");
        bad("bad_dup.yaml", "bad_dup.yaml:6:11: duplicate stage name \"a\" (first at line 3)");
        bad("bad_stage_name.yaml", "bad_stage_name.yaml:3:11: stage name \"Kafka_1\": use "
                                   "lowercase letters, digits and '-'");
        bad("bad_duration.yaml", "bad_duration.yaml:6:18: timeout: invalid duration \"5\": "
                                 "missing unit (ms, s, m, h or d)");
        bad("bad_anchor.yaml", "bad_anchor.yaml:5:14: anchors and aliases are not supported in "
                               "plans");
        bad("bad_two_docs.yaml", "bad_two_docs.yaml:7:1: a second YAML document; one plan per "
                                 "file");
        bad("bad_yaml.yaml", "bad_yaml.yaml:5:1: YAML: did not find expected node content "
                             "while parsing a flow node");
        bad("bad_no_config.yaml", "bad_no_config.yaml:5:9: gate \"g\": gates need \"config\" "
                                  "(the lambdaops config whose sources they read)");
        bad("bad_missing_run.yaml", "bad_missing_run.yaml:5:9: stage a: steps[0]: missing \"run\"");
        bad("bad_gate_key.yaml", "bad_gate_key.yaml:6:32: stage a: gates[0]: unknown key \"exp\" "
                                 "(did you mean \"expr\"?)");
        bad("bad_empty_stage.yaml", "bad_empty_stage.yaml:3:5: stage a: has neither steps nor gates");
}

static void test_load_file(void **state)
{
        struct err err;
        bool missing = false;
        struct plan *p;

        (void)state;
        err_clear(&err);
        p = plan_load_file("/nonexistent/plan.yaml", &missing, &err);
        assert_null(p);
        assert_true(missing);
        assert_string_equal(err.msg, "/nonexistent/plan.yaml: No such file or directory");
        p = plan_load_file(tu_src_path("tests/fixtures/plan/minimal.yaml"), &missing, &err);
        assert_non_null(p);
        assert_false(missing);
        assert_string_equal(p->name, "minimal");
        assert_null(p->config);
        plan_free(p);
}

static void test_subst(void **state)
{
        struct err err;
        struct plan *p = load_as("good.yaml", "/deploy/plan.yaml", &err);
        char *in[] = { "${cluster}", "-n", "${ns}", "x${cluster}-${context}y", "$${HOME}",
                       "$5 and $", "${deploy}/k.yaml", NULL };
        char *unknown[] = { "ok", "${nope}", NULL };
        char *open_[] = { "${cluster", NULL };
        char **out;

        (void)state;
        assert_non_null(p);
        out = plan_subst(p, in, &err);
        assert_non_null(out);
        assert_string_equal(out[0], "lambdaops");
        assert_string_equal(out[1], "-n");
        assert_string_equal(out[2], "data ns");         /* one word, never re-split */
        assert_string_equal(out[3], "xlambdaops-kind-lambdaopsy");
        assert_string_equal(out[4], "${HOME}");
        assert_string_equal(out[5], "$5 and $");
        assert_string_equal(out[6], "/deploy/k.yaml");
        assert_null(out[7]);
        plan_argv_free(out);
        err_clear(&err);
        assert_null(plan_subst(p, unknown, &err));
        assert_string_equal(err.msg, "unknown variable ${nope}");
        assert_null(plan_subst(p, open_, &err));
        assert_string_equal(err.msg, "bad ${...} in \"${cluster\"");
        plan_free(p);
}

static void test_text(void **state)
{
        struct err err;
        struct plan *p = load_as("good.yaml", "/deploy/plan.yaml", &err);
        char *t;

        (void)state;
        assert_non_null(p);
        t = plan_text(p);
        assert_string_equal(t,
                "plan /deploy/plan.yaml: 2 stages\n"
                "config /deploy/lambdaops.yaml\n"
                "var context = kind-lambdaops\n"
                "var cluster = lambdaops\n"
                "var ns = data ns\n"
                "var deploy = /deploy\n"
                "\n"
                "stage 1/2 cluster: kind cluster\n"
                "  step 1: kind create cluster --name lambdaops --config /deploy/kind/kind-config.yaml\n"
                "      timeout 5m00s\n"
                "      skipped when this exits 0: kind get kubeconfig --name lambdaops\n"
                "  step 2: kubectl --context kind-lambdaops apply -f /deploy/base/namespaces.yaml\n"
                "      timeout 2m00s\n"
                "      env KUBECONFIG\n"
                "  gate nodes ready: k8s: len(nodes) == 4 and all(nodes, .ready)\n"
                "      timeout 5m00s, every 2s\n"
                "  down 1: kind delete cluster --name lambdaops\n"
                "      timeout 2m00s, dangerous\n"
                "\n"
                "stage 2/2 kafka\n"
                "  step 1: helm --kube-context kind-lambdaops upgrade --install kafka xlambdaopsy "
                "--set 'a=${HOME}' -n 'data ns'\n"
                "      timeout 2m00s, read-only\n"
                "  gate quorum: kafka: quorum.leader_id != null and len(quorum.voters) == 3\n"
                "      timeout 3m00s, every 1s\n");
        free(t);
        plan_free(p);
}

/* A progress object with the given "name=state" pairs. */
static cJSON *prog_of(const char *const *pairs)
{
        cJSON *prog = cJSON_CreateObject(), *stages = cJSON_AddArrayToObject(prog, "stages");

        for (; *pairs; pairs++) {
                const char *eq = strchr(*pairs, '=');
                cJSON *s = cJSON_CreateObject();
                char *name = xstrndup(*pairs, (size_t)(eq - *pairs));

                cJSON_AddStringToObject(s, "name", name);
                cJSON_AddStringToObject(s, "state", eq + 1);
                cJSON_AddItemToArray(stages, s);
                free(name);
        }
        return prog;
}

static void sel(const struct plan *p, const char *const *pairs, const char *only,
                const char *from, int want_rc, size_t want_first, size_t want_last)
{
        cJSON *prog = pairs ? prog_of(pairs) : NULL;
        size_t first = 99, last = 99;
        struct err err;
        int rc;

        err_clear(&err);
        rc = plan_select(p, prog, only, from, &first, &last, &err);
        assert_int_equal(rc, want_rc);
        if (rc == 1) {
                assert_int_equal(first, want_first);
                assert_int_equal(last, want_last);
        }
        cJSON_Delete(prog);
}

static void test_select(void **state)
{
        static const char *yaml =
                "version: 1\nstages:\n"
                "  - {name: a, steps: [{run: [x]}]}\n"
                "  - {name: b, steps: [{run: [x]}]}\n"
                "  - {name: c, steps: [{run: [x]}]}\n"
                "  - {name: d, steps: [{run: [x]}]}\n";
        static const char *const none[] = { NULL };
        static const char *const a_done[] = { "a=done", NULL };
        static const char *const b_failed[] = { "a=done", "b=failed", "c=pending", NULL };
        static const char *const skipped[] = { "a=done", "b=skipped", "c=running", NULL };
        static const char *const waiting[] = { "a=done", "b=done", "c=waiting", NULL };
        static const char *const all[] = { "a=done", "b=skipped", "c=done", "d=done", NULL };
        static const char *const odd[] = { "b=done", "a=bogus", NULL };
        struct err err;
        struct plan *p;

        (void)state;
        err_clear(&err);
        p = plan_load_string(yaml, strlen(yaml), "p.yaml", &err);
        assert_non_null(p);
        sel(p, NULL, NULL, NULL, 1, 0, 3);              /* no progress file yet */
        sel(p, none, NULL, NULL, 1, 0, 3);
        sel(p, a_done, NULL, NULL, 1, 1, 3);
        sel(p, b_failed, NULL, NULL, 1, 1, 3);          /* resume at the failed stage */
        sel(p, skipped, NULL, NULL, 1, 2, 3);           /* skipped counts as finished */
        sel(p, waiting, NULL, NULL, 1, 2, 3);           /* a crashed runner's stage again */
        sel(p, all, NULL, NULL, 0, 0, 0);               /* everything done */
        sel(p, odd, NULL, NULL, 1, 0, 3);               /* unknown state: pending */
        sel(p, all, NULL, "b", 1, 1, 3);                /* --from runs done stages again */
        sel(p, all, "c", NULL, 1, 2, 2);                /* --only */
        sel(p, none, NULL, "zz", -1, 0, 0);
        err_clear(&err);
        {
                size_t f, l;

                assert_int_equal(plan_select(p, NULL, "zz", NULL, &f, &l, &err), -1);
                assert_string_equal(err.msg, "no stage \"zz\" in p.yaml");
                assert_int_equal(plan_select(p, NULL, "a", "b", &f, &l, &err), -1);
                assert_string_equal(err.msg, "--only and --from exclude each other");
        }
        plan_free(p);
}

static void test_progress_file(void **state)
{
        char dir[] = "/tmp/lo-test-plan.XXXXXX";
        static const char *const pairs[] = { "a=done", "b=failed", NULL };
        cJSON *prog, *back;
        struct err err;
        bool missing = false;
        char *path, *p2;

        (void)state;
        assert_non_null(mkdtemp(dir));
        setenv("XDG_STATE_HOME", dir, 1);
        path = plan_progress_path("plan");
        p2 = xasprintf("%s/lambdaops/bringup/plan.json", dir);
        assert_string_equal(path, p2);
        free(p2);
        p2 = plan_log_path("plan");
        assert_string_equal(strrchr(p2, '/'), "/plan.log");
        free(p2);
        err_clear(&err);
        assert_null(plan_progress_read(path, &missing, &err));
        assert_true(missing);
        prog = prog_of(pairs);
        assert_int_equal(plan_progress_write(path, prog, &err), 0);
        back = plan_progress_read(path, &missing, &err);
        assert_non_null(back);
        assert_true(cJSON_Compare(prog, back, true));
        assert_int_equal(plan_progress_state(back, "b"), ST_FAILED);
        assert_int_equal(plan_progress_state(back, "zz"), ST_PENDING);
        assert_non_null(plan_progress_stage(back, "a"));
        /* no tmp file left behind */
        p2 = xasprintf("%s.tmp.%ld", path, (long)getpid());
        assert_int_equal(access(p2, F_OK), -1);
        free(p2);
        cJSON_Delete(back);
        cJSON_Delete(prog);
        /* a broken file is an error, not a crash */
        {
                FILE *f = fopen(path, "w");

                fputs("{\"stages\": [", f);
                fclose(f);
        }
        assert_null(plan_progress_read(path, &missing, &err));
        assert_false(missing);
        p2 = xasprintf("%s: not a progress file (invalid JSON)", path);
        assert_string_equal(err.msg, p2);
        free(p2);
        unlink(path);
        free(path);
        {
                char *d1 = xasprintf("%s/lambdaops/bringup", dir), *d2 = xasprintf("%s/lambdaops", dir);

                rmdir(d1);
                rmdir(d2);
                rmdir(dir);
                free(d1);
                free(d2);
        }
        assert_string_equal(stage_state_name(ST_WAITING), "waiting");
        assert_int_equal(stage_state_parse("skipped"), ST_SKIPPED);
        assert_int_equal(stage_state_parse(NULL), ST_PENDING);
}

static void test_name_of(void **state)
{
        char *n;

        (void)state;
        n = plan_name_of("deploy/plan.yaml");
        assert_string_equal(n, "plan");
        free(n);
        n = plan_name_of("/x/staging.yml");
        assert_string_equal(n, "staging");
        free(n);
        n = plan_name_of("bare");
        assert_string_equal(n, "bare");
        free(n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_load_file),
                cmocka_unit_test(test_subst),
                cmocka_unit_test(test_text),
                cmocka_unit_test(test_select),
                cmocka_unit_test(test_progress_file),
                cmocka_unit_test(test_name_of),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
