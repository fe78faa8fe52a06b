/*
 * libFuzzer target for kafka_stats_parse(), the parser of librdkafka's
 * statistics JSON (brokers' state and round trip). Every input must either
 * parse or fail with a message, never crash, leak or read out of bounds.
 * On success the brokers come back sorted by id with NUL-terminated
 * states; on failure the output is empty.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_kafka_stats
 *   build-fuzz/fuzz/fuzz_kafka_stats -max_total_time=60 fuzz/corpus/kafka_stats
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/kafka/kafka.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kafka_bstat *b = NULL;
        size_t n = 0;
        struct err e;

        err_clear(&e);
        if (kafka_stats_parse((const char *)data, size, &b, &n, &e) != 0) {
                if (e.msg[0] == '\0' || memchr(e.msg, '\0', sizeof e.msg) == NULL)
                        __builtin_trap();
                if (n != 0)
                        __builtin_trap();
                free(b);
                return 0;
        }
        if (n && !b)
                __builtin_trap();
        for (size_t i = 0; i < n; i++) {
                if (memchr(b[i].state, '\0', sizeof b[i].state) == NULL)
                        __builtin_trap();
                if (i && b[i - 1].id > b[i].id)
                        __builtin_trap();
        }
        free(b);
        return 0;
}
