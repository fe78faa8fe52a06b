/*
 * libFuzzer target for the config loader: any byte string goes through
 * config_load_string(), which must either return a config or set an error
 * message, never crash, leak or read out of bounds. The input is not
 * NUL-terminated, which also checks that the loader honours `len`.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_config
 *   build-fuzz/fuzz/fuzz_config -max_total_time=60 fuzz/corpus/config
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct err e;
        struct config *c = config_load_string((const char *)data, size, "fuzz.yaml", &e);

        if (c) {
                /* Touch what callers read, so a half-built config shows up. */
                for (size_t i = 0; i < c->n_sources; i++) {
                        const struct source_cfg *s = &c->sources[i];

                        if (config_source(c, s->name) == NULL || !s->ops || !s->kind_cfg)
                                __builtin_trap();
                        for (size_t j = 0; j < s->n_thresholds; j++)
                                if (config_threshold(s, s->thresholds[j].def->name) == NULL)
                                        __builtin_trap();
                }
                config_free(c);
        } else if (e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof e.msg) == NULL) {
                __builtin_trap();       /* failure without a message */
        }
        return 0;
}
