/*
 * test_runbooks_shipped: the runbooks of deploy/runbooks with the real
 * loader and the real config (deploy/lambdaops.yaml): the set loads, holds
 * exactly the expected ids, each file is named after its id, and each one
 * passes runbook_check_config (its sources, actions and input defaults
 * exist in the shipped config). Plus what the shipped ones promise: every
 * runbook that acts checks before acting and has a verify, and the slot
 * drop is the dangerous user action, behind a choice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "actions/action.h"
#include "bringup/expr.h"
#include "core/config.h"
#include "core/util.h"
#include "runbook/runbook.h"
#include "tu.h"

static const char *const want_ids[] = {
        "airflow-run-failed", "cdc-slot-inactive", "clickhouse-latency-high",
        "clickhouse-too-many-parts", "connector-failed", "consumer-lag-stalled",
        "kafka-under-replicated", "kraft-quorum-degraded", "postgres-restore-drill",
        "reconcile-mismatch", "spark-app-failed",
};
#define N_WANT (sizeof want_ids / sizeof want_ids[0])

struct fx {
        struct config *cfg;
        struct runbook_set set;
};

static int setup(void **state)
{
        static struct fx fx;
        struct err err;

        memset(&fx, 0, sizeof fx);
        err_clear(&err);
        fx.cfg = config_load_file(tu_src_path("deploy/lambdaops.yaml"), &err);
        if (!fx.cfg) {
                fprintf(stderr, "deploy/lambdaops.yaml: %s\n", err.msg);
                return -1;
        }
        if (runbook_set_load(&fx.set, fx.cfg, &err) != 0) {
                fprintf(stderr, "runbooks: %s\n", err.msg);
                config_free(fx.cfg);
                return -1;
        }
        *state = &fx;
        return 0;
}

static int teardown(void **state)
{
        struct fx *fx = *state;

        runbook_set_done(&fx->set);
        config_free(fx->cfg);
        return 0;
}

static void test_exact_ids_and_files(void **state)
{
        struct fx *fx = *state;

        assert_int_equal(fx->set.n, N_WANT);
        for (size_t i = 0; i < N_WANT; i++) {
                const struct runbook *rb = fx->set.v[i];
                char tail[96];

                assert_string_equal(rb->id, want_ids[i]);
                snprintf(tail, sizeof tail, "/runbooks/%s.yaml", rb->id);
                assert_true(strlen(rb->path) > strlen(tail));
                assert_string_equal(rb->path + strlen(rb->path) - strlen(tail), tail);
                assert_non_null(rb->title);
                assert_non_null(rb->description);
        }
}

static void test_each_checks_against_config(void **state)
{
        struct fx *fx = *state;

        for (size_t i = 0; i < fx->set.n; i++) {
                struct err err;

                err_clear(&err);
                if (runbook_check_config(fx->set.v[i], fx->cfg, &err) != 0)
                        fail_msg("%s", err.msg);
        }
}

/* Every runbook that acts has a check before its first action or run, and
 * a verify; every one but the drill answers some alert. */
static void test_checks_before_and_verify(void **state)
{
        struct fx *fx = *state;

        for (size_t i = 0; i < fx->set.n; i++) {
                const struct runbook *rb = fx->set.v[i];
                bool checked = false, acts = false;

                for (size_t j = 0; j < rb->n_steps; j++) {
                        enum runbook_step_kind k = rb->steps[j].kind;

                        if (k == RB_STEP_CHECK && !acts)
                                checked = true;
                        if (k == RB_STEP_ACTION || k == RB_STEP_RUN) {
                                if (!checked)
                                        fail_msg("%s: step %s acts before any check", rb->id,
                                                 rb->steps[j].id);
                                acts = true;
                        }
                }
                assert_true(acts);
                if (rb->n_verify == 0)
                        fail_msg("%s: no verify", rb->id);
                if (strcmp(rb->id, "postgres-restore-drill") != 0 && rb->n_when == 0)
                        fail_msg("%s: answers no alert", rb->id);
        }
}

static const struct runbook_step *step(const struct runbook *rb, const char *id)
{
        for (size_t i = 0; i < rb->n_steps; i++)
                if (!strcmp(rb->steps[i].id, id))
                        return &rb->steps[i];
        fail_msg("%s: no step %s", rb->id, id);
        return NULL;
}

/* cdc-slot-inactive: the drop is only reached through the choice, after a
 * check of the WAL headroom, and is a dangerous action of the config. */
static void test_cdc_slot_drop_path(void **state)
{
        struct fx *fx = *state;
        const struct runbook *rb = runbook_set_find(&fx->set, "cdc-slot-inactive");
        const struct runbook_step *s, *drop, *pick;
        const struct source_cfg *k8s;
        const struct action_def *a;
        size_t drop_at, pick_at;

        assert_non_null(rb);
        drop = step(rb, "drop-slot");
        assert_int_equal(drop->kind, RB_STEP_ACTION);
        assert_string_equal(drop->act_source, "${k8s}");
        assert_string_equal(drop->act_action, "drop-slot");
        assert_string_equal(drop->act_target, "data/statefulset/postgres");
        assert_string_equal(drop->act_arg, "${slot}");
        drop_at = (size_t)(drop - rb->steps);

        pick = step(rb, "consumer-gone");
        assert_int_equal(pick->kind, RB_STEP_CHOOSE);
        assert_int_equal(pick->n_choices, 2);
        pick_at = (size_t)(pick - rb->steps);
        assert_true(pick_at < drop_at);
        assert_string_equal(pick->choices[1].go, "no-consumer");
        /* the consumer check leads to the choice when it does not hold */
        s = step(rb, "consumer-there");
        assert_int_equal(s->on_fail, RB_FAIL_GOTO);
        assert_int_equal(s->on_fail_index, pick_at);
        /* after a restart that worked, the drop branch is skipped by a jump
         * on success (no check that fails on purpose), from the step right
         * before the choice */
        s = step(rb, "lag-falls");
        assert_int_equal(s->kind, RB_STEP_WAIT);
        assert_int_equal(s->on_fail, RB_FAIL_STOP);
        assert_true(s->has_next);
        assert_string_equal(s->next, "done");
        assert_string_equal(rb->steps[s->next_index].id, "done");
        assert_true(s->next_index > drop_at);
        assert_int_equal((size_t)(s - rb->steps) + 1, pick_at);
        for (size_t i = 0; i < rb->n_steps; i++)
                assert_string_not_equal(rb->steps[i].id, "still-inactive");
        /* the headroom is shown right before the drop */
        s = step(rb, "headroom-before-drop");
        assert_int_equal(s->kind, RB_STEP_CHECK);
        assert_non_null(strstr(expr_text(s->cond.expr), "safe_wal_size"));
        assert_true((size_t)(s - rb->steps) < drop_at);

        k8s = config_source(fx->cfg, "k8s");
        assert_non_null(k8s);
        a = action_lookup(fx->cfg, k8s, "drop-slot");
        assert_non_null(a);
        assert_true(a->flags & ACTION_F_DANGEROUS);
        assert_true(a->flags & ACTION_F_MUTATING);
}

/* reconcile-mismatch: the trigger is skipped while a run is in progress
 * (dag-idle's on_fail), and after the trigger the run jumps over the check
 * that only explains that branch. */
static void test_reconcile_branch(void **state)
{
        struct fx *fx = *state;
        const struct runbook *rb = runbook_set_find(&fx->set, "reconcile-mismatch");
        const struct runbook_step *idle, *trig, *busy, *started;

        assert_non_null(rb);
        idle = step(rb, "dag-idle");
        trig = step(rb, "trigger");
        busy = step(rb, "run-in-progress");
        started = step(rb, "run-started");
        assert_int_equal(idle->on_fail, RB_FAIL_GOTO);
        assert_int_equal(idle->on_fail_index, (size_t)(busy - rb->steps));
        assert_false(idle->has_next);
        assert_int_equal((size_t)(trig - rb->steps), (size_t)(idle - rb->steps) + 1);
        assert_int_equal(trig->kind, RB_STEP_ACTION);
        assert_true(trig->has_next);
        assert_int_equal(trig->next_index, (size_t)(started - rb->steps));
        assert_int_equal((size_t)(busy - rb->steps) + 1, (size_t)(started - rb->steps));
        assert_int_equal(busy->kind, RB_STEP_CHECK);
        assert_int_equal(busy->on_fail, RB_FAIL_STOP);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exact_ids_and_files),
                cmocka_unit_test(test_each_checks_against_config),
                cmocka_unit_test(test_checks_before_and_verify),
                cmocka_unit_test(test_cdc_slot_drop_path),
                cmocka_unit_test(test_reconcile_branch),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
