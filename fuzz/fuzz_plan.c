/*
 * libFuzzer target for the plan loader (src/bringup/plan.h): any byte string goes
 * through plan_load_string(); a plan that loads is printed (plan_text, so
 * every argv is substituted) and its progress selection run against an
 * empty progress object. Either it loads or it sets a FILE:LINE:COL
 * message -- never a crash, a leak or a read out of bounds. The input is
 * not NUL-terminated, which also checks that the loader honours `len`.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_plan
 *   build-fuzz/fuzz/fuzz_plan -max_total_time=60 fuzz/corpus/plan
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bringup/plan.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct err e;
        struct plan *p;

        err_clear(&e);
        p = plan_load_string((const char *)data, size, "/fuzz/plan.yaml", &e);
        if (p) {
                char *t = plan_text(p);
                size_t first, last;

                if (!p->n_stages || !t)
                        __builtin_trap();
                free(t);
                if (plan_select(p, NULL, NULL, NULL, &first, &last, &e) != 1 || first != 0 ||
                    last != p->n_stages - 1)
                        __builtin_trap();
                plan_free(p);
        } else if (e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof e.msg) == NULL) {
                __builtin_trap();       /* failure without a message */
        }
        return 0;
}
