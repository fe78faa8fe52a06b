/*
 * libFuzzer target for the Kafka wire decoders: every input goes through
 * kafka_wire_dec_api_versions() at v0-v3, kafka_wire_dec_describe_quorum() at v0-v2,
 * kafka_wire_dec_find_coordinator() at v0-v4, kafka_wire_dec_offset_fetch() at v1-v8
 * kafka_wire_dec_metadata() at v1-v12, kafka_wire_dec_sasl_handshake() at v0-v1 and
 * kafka_wire_dec_sasl_authenticate() at v0-v2, as one response frame without its size prefix (what the client
 * hands them). Each call must either decode or fail with a message, never
 * crash, leak, read out of bounds or allocate beyond what the input can
 * hold; a failure must leave the output empty.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_kafka_wire
 *   build-fuzz/fuzz/fuzz_kafka_wire -max_total_time=60 fuzz/corpus/kafka_wire
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "clients/kafka/kafka_wire.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_err(const struct err *e)
{
        if (e->code != KWIRE_E_PROTO || e->msg[0] == '\0' ||
            memchr(e->msg, '\0', sizeof e->msg) == NULL)
                __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        for (int16_t v = 0; v <= 3; v++) {
                struct kafka_wire_api_versions av;
                struct err e;

                err_clear(&e);
                if (kafka_wire_dec_api_versions(data, size, v, &av, &e) == 0) {
                        /* Each entry takes at least 6 bytes of input. */
                        if (av.n_keys > size / 6 || (av.n_keys && !av.keys))
                                __builtin_trap();
                        for (size_t i = 0; i < av.n_keys; i++)
                                (void)kafka_wire_pick_version(&av, av.keys[i].key, 0, 3);
                } else {
                        check_err(&e);
                        if (av.keys || av.n_keys)
                                __builtin_trap();
                }
                kafka_wire_api_versions_done(&av);
        }
        for (int16_t v = 0; v <= 2; v++) {
                struct kafka_wire_quorum q;
                struct err e;

                err_clear(&e);
                if (kafka_wire_dec_describe_quorum(data, size, v, &q, &e) == 0) {
                        if (q.n_voters + q.n_observers > size / 13 ||
                            (q.has_partition && !q.topic) ||
                            (v < 2 && (q.n_nodes || q.error_message)))
                                __builtin_trap();
                        for (size_t i = 0; i < q.n_nodes; i++)
                                for (size_t j = 0; j < q.nodes[i].n_listeners; j++)
                                        if (!q.nodes[i].listeners[j].name ||
                                            !q.nodes[i].listeners[j].host)
                                                __builtin_trap();
                } else {
                        check_err(&e);
                        if (q.voters || q.observers || q.nodes || q.topic)
                                __builtin_trap();
                }
                kafka_wire_quorum_done(&q);
        }
        for (int16_t v = 0; v <= 4; v++) {
                struct kafka_wire_coordinators c;
                struct err e;

                err_clear(&e);
                if (kafka_wire_dec_find_coordinator(data, size, v, &c, &e) == 0) {
                        if ((v < 4 && c.n != 1) || c.n > size / 4 || (c.n && !c.c))
                                __builtin_trap();
                        for (size_t i = 0; i < c.n; i++)
                                if (!c.c[i].host || (v >= 4) != (c.c[i].key != NULL))
                                        __builtin_trap();
                } else {
                        check_err(&e);
                        if (c.c || c.n)
                                __builtin_trap();
                }
                kafka_wire_coordinators_done(&c);
        }
        for (int16_t v = 1; v <= 8; v++) {
                struct kafka_wire_offsets o;
                struct err e;

                err_clear(&e);
                if (kafka_wire_dec_offset_fetch(data, size, v, &o, &e) == 0) {
                        /* A partition takes at least 15 bytes of input. */
                        if (o.n_parts > size / 15 || (v < 8 && o.n_groups != 1))
                                __builtin_trap();
                        for (size_t g = 0; g < o.n_groups; g++)
                                if (o.groups[g].first_part + o.groups[g].n_parts > o.n_parts ||
                                    o.groups[g].first_topic + o.groups[g].n_topics > o.n_topics)
                                        __builtin_trap();
                        for (size_t i = 0; i < o.n_parts; i++) {
                                const struct kafka_wire_of_part *x = &o.parts[i];

                                if (x->topic >= o.n_topics ||
                                    (x->metadata.p && (x->metadata.p < (const char *)data ||
                                                       x->metadata.p + x->metadata.len >
                                                       (const char *)data + size)))
                                        __builtin_trap();
                        }
                } else {
                        check_err(&e);
                        if (o.groups || o.topics || o.parts)
                                __builtin_trap();
                }
                kafka_wire_offsets_done(&o);
        }
        for (int16_t v = 1; v <= 12; v++) {
                struct kafka_wire_metadata m;
                struct err e;

                err_clear(&e);
                if (kafka_wire_dec_metadata(data, size, v, &m, &e) == 0) {
                        /* A broker takes at least 11 bytes of input. */
                        if (m.n_brokers > size / 11 || (m.n_brokers && !m.brokers) ||
                            (v < 2 && m.cluster_id))
                                __builtin_trap();
                        for (size_t i = 0; i < m.n_brokers; i++)
                                if (!m.brokers[i].host)
                                        __builtin_trap();
                } else {
                        check_err(&e);
                        if (m.brokers || m.n_brokers || m.cluster_id)
                                __builtin_trap();
                }
                kafka_wire_metadata_done(&m);
        }
        for (int16_t v = 0; v <= 2; v++) {
                struct kafka_wire_sasl_reply r;
                struct err e;
                int rc;

                err_clear(&e);
                rc = v <= 1 ? kafka_wire_dec_sasl_handshake(data, size, v, &r, &e)
                            : kafka_wire_dec_sasl_authenticate(data, size, v, &r, &e);
                if (rc == 0) {
                        if (v <= 1 && !r.mechanisms)
                                __builtin_trap();
                } else {
                        check_err(&e);
                        if (r.mechanisms || r.error_message)
                                __builtin_trap();
                }
                kafka_wire_sasl_reply_done(&r);
                if (v <= 1) {
                        err_clear(&e);
                        if (kafka_wire_dec_sasl_authenticate(data, size, v, &r, &e) != 0) {
                                check_err(&e);
                                if (r.error_message)
                                        __builtin_trap();
                        }
                        kafka_wire_sasl_reply_done(&r);
                }
        }
        return 0;
}
