/*
 * libFuzzer target for the runbook loader (src/runbook/runbook.h): any
 * byte string goes through runbook_load_string(); a runbook that loads is
 * walked (every step's references resolved within the runbook, its inputs
 * prefilled from an alert and their defaults, every word substituted when
 * the inputs are bound). Either it loads or it sets a FILE:LINE:COL
 * message -- never a crash, a leak or a read out of bounds. The input is
 * not NUL-terminated, which also checks that the loader honours `len`.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_runbook
 *   build-fuzz/fuzz/fuzz_runbook -max_total_time=60 fuzz/corpus/runbook
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/health.h"
#include "core/util.h"
#include "runbook/runbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_words(const struct runbook_inputs *in, const struct runbook_step *s)
{
        const char *words[] = { s->act_source, s->act_target, s->act_arg, s->manual,
                                s->cond.source };
        struct err e;

        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                if (words[i])
                        free(runbook_subst(in, words[i], &e));
        for (size_t i = 0; i < s->n_argv; i++)
                free(runbook_subst(in, s->argv[i], &e));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct runbook_inputs in = { 0 };
        struct alert a;
        struct runbook *rb;
        struct err e;

        err_clear(&e);
        rb = runbook_load_string((const char *)data, size, "/fuzz/runbook.yaml", &e);
        if (!rb) {
                if (e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof e.msg) == NULL)
                        __builtin_trap();       /* failure without a message */
                return 0;
        }
        if (!rb->id || !rb->title || !rb->n_steps)
                __builtin_trap();
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];

                if (s->on_fail == RB_FAIL_GOTO && s->on_fail_index >= rb->n_steps)
                        __builtin_trap();
                for (size_t j = 0; j < s->n_choices; j++)
                        if (s->choices[j].go_index >= rb->n_steps)
                                __builtin_trap();
        }
        memset(&a, 0, sizeof a);
        a.sev = SEV_CRIT;
        memcpy(a.source, "orders-db", sizeof "orders-db");
        memcpy(a.metric, "status", sizeof "status");
        memcpy(a.subject, "debezium", sizeof "debezium");
        (void)runbook_matches_alert(rb, &a, "postgres");
        (void)runbook_matches_status(rb, "orders-db", "postgres", NULL);
        runbook_inputs_prefill(rb, &in, &a);
        /* Every ${name} names an input (the loader checks): once every
         * input is bound, substitution never fails. */
        for (size_t i = 0; i < rb->n_inputs; i++) {
                char *kv = xasprintf("%s=v", rb->inputs[i].name);

                if (runbook_inputs_set(rb, &in, kv, &e) != 0)
                        __builtin_trap();
                free(kv);
        }
        for (size_t i = 0; i < rb->n_steps; i++)
                fuzz_words(&in, &rb->steps[i]);
        cJSON_Delete(runbook_inputs_json(rb, &in));
        runbook_inputs_done(&in);
        runbook_free(rb);
        return 0;
}
