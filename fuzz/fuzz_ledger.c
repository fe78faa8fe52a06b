/*
 * libFuzzer target for the run ledger's reader (src/runbook/ledger.h): any
 * byte string goes through ledger_parse() as a run's file, and the records
 * it keeps through ledger_resume_point() and ledger_step_interrupted(). The
 * reader keeps only JSON objects and counts every other non-blank line; the
 * resume point is -1 or within 0..n_steps -- never a crash, a leak or a
 * read out of bounds. The input is not NUL-terminated, which also checks
 * that the reader honours `len`.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_ledger
 *   build-fuzz/fuzz/fuzz_ledger -max_total_time=60 fuzz/corpus/ledger
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runbook/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        size_t cut = 0, lines = 0;
        cJSON *recs = ledger_parse((const char *)data, size, &cut), *r;
        bool done[8];

        if (!cJSON_IsArray(recs))
                __builtin_trap();
        cJSON_ArrayForEach(r, recs) {
                if (!cJSON_IsObject(r))
                        __builtin_trap();
                lines++;
        }
        if (lines + cut > size)
                __builtin_trap();       /* more records than there are bytes */
        for (size_t n = 0; n <= 8; n += 4) {
                long p = ledger_resume_point(recs, n, n ? done : NULL);

                if (p < -1 || p > (long)n)
                        __builtin_trap();
        }
        (void)ledger_step_interrupted(recs);
        cJSON_Delete(recs);
        return 0;
}
