/*
 * test_kafka_offsets: FindCoordinator, OffsetFetch and Metadata in
 * kafka_wire, the committed-offsets client (kafka_wire_fetch_offsets) and the
 * Metadata client (kafka_wire_fetch_metadata, for broker racks).
 *
 * Encoders are compared byte for byte with requests written out here from
 * the public schemas (each byte group commented); decoders read responses
 * written out the same way, and must fail cleanly on every truncation and
 * on a trailing byte. The client runs against librdkafka's mock cluster
 * (tests/lib/tu_kafka.c): exact committed offsets for groups on different
 * coordinators, a coordinator that is down, no bootstrap broker; and
 * DescribeQuorum against the mock, which has none (the collector's
 * mock-cluster tests meet that answer). The mock's threads need the real
 * clock, so every mock test lives here (label real-clock), not in
 * test_kafka_wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/collector.h"
#include "clients/kafka/kafka_wire.h"
#include "tu_kafka.h"
#include "core/util.h"

#define assert_contains(hay, needle)                                            \
        do {                                                                    \
                if (!strstr((hay), (needle)))                                   \
                        fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } while (0)

/* "lambdaops" */
#define LO_BYTES 0x6c, 0x61, 0x6d, 0x62, 0x64, 0x61, 0x6f, 0x70, 0x73
/* "127.0.0.1" */
#define IP_BYTES '1', '2', '7', '.', '0', '.', '0', '.', '1'
#define I64(v) 0, 0, 0, 0, 0, 0, 0, (v)
#define I64_NEG1 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

static void enc_check(const struct kafka_wire_wr *w, const uint8_t *want, size_t n)
{
        assert_int_equal(w->len, n);
        assert_memory_equal(w->buf, want, n);
}

/* ---- FindCoordinator requests ------------------------------------------- */

static void test_enc_find_coordinator(void **state)
{
        uint8_t v0[] = {
                0x00, 0x00, 0x00, 0x17, /* size 23 */
                0x00, 0x0a,             /* api_key 10 */
                0x00, 0x00,             /* api_version 0 */
                0x00, 0x00, 0x00, 0x07, /* correlation_id 7 */
                0x00, 0x09, LO_BYTES,   /* client_id "lambdaops" */
                0x00, 0x02, 'g', '1',   /* key "g1" */
        };
        uint8_t v1[] = {
                0x00, 0x00, 0x00, 0x18, /* size 24 */
                0x00, 0x0a,             /* api_key 10 */
                0x00, 0x01,             /* api_version (1, then 2) */
                0x00, 0x00, 0x00, 0x07, /* correlation_id 7 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x02, 'g', '1',   /* key "g1" */
                0x00,                   /* key_type 0: group */
        };
        static const uint8_t v3[] = {
                0x00, 0x00, 0x00, 0x19, /* size 25 */
                0x00, 0x0a, 0x00, 0x03, /* api_key 10, api_version 3 */
                0x00, 0x00, 0x00, 0x07, /* correlation_id 7 */
                0x00, 0x09, LO_BYTES,   /* client_id (int16 length in header v2 too) */
                0x00,                   /* header tagged fields: none */
                0x03, 'g', '1',         /* key: compact "g1" */
                0x00,                   /* key_type 0 */
                0x00,                   /* tagged fields */
        };
        static const uint8_t v4[] = {
                0x00, 0x00, 0x00, 0x1d, /* size 29 */
                0x00, 0x0a, 0x00, 0x04, /* api_key 10, api_version 4 */
                0x00, 0x00, 0x00, 0x07, /* correlation_id 7 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x00,                   /* key_type 0 */
                0x03,                   /* coordinator_keys: compact, 2 */
                0x03, 'g', '1',         /*   "g1" */
                0x03, 'g', '2',         /*   "g2" */
                0x00,                   /* tagged fields */
        };
        const char *keys[] = { "g1", "g2" };
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        kafka_wire_enc_find_coordinator(&w, 0, 7, "lambdaops", keys, 1);
        enc_check(&w, v0, sizeof v0);
        for (int v = 1; v <= 2; v++) {
                w.len = 0;
                v1[7] = (uint8_t)v;
                kafka_wire_enc_find_coordinator(&w, (int16_t)v, 7, "lambdaops", keys, 1);
                enc_check(&w, v1, sizeof v1);
        }
        w.len = 0;
        kafka_wire_enc_find_coordinator(&w, 3, 7, "lambdaops", keys, 1);
        enc_check(&w, v3, sizeof v3);
        w.len = 0;
        kafka_wire_enc_find_coordinator(&w, 4, 7, "lambdaops", keys, 2);
        enc_check(&w, v4, sizeof v4);
        kafka_wire_wr_done(&w);
}

/* ---- OffsetFetch requests ------------------------------------------------ */

static const int32_t parts_0_2[] = { 0, 2 };
static const int32_t parts_5[] = { 5 };

static void test_enc_offset_fetch(void **state)
{
        uint8_t v1[] = {
                0x00, 0x00, 0x00, 0x2a, /* size 42 */
                0x00, 0x09,             /* api_key 9 */
                0x00, 0x01,             /* api_version (1, then 2-5: same body) */
                0x00, 0x00, 0x00, 0x03, /* correlation_id 3 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x02, 'g', '1',   /* group_id "g1" */
                0x00, 0x00, 0x00, 0x01, /* topics: 1 */
                0x00, 0x01, 't',        /*   name "t" */
                0x00, 0x00, 0x00, 0x02, /*   partition_indexes: 2 */
                0x00, 0x00, 0x00, 0x00, /*     0 */
                0x00, 0x00, 0x00, 0x02, /*     2 */
        };
        uint8_t v2_all[] = {
                0x00, 0x00, 0x00, 0x1b, /* size 27 */
                0x00, 0x09, 0x00, 0x02, /* api_key 9, api_version (2-5) */
                0x00, 0x00, 0x00, 0x03, /* correlation_id 3 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x02, 'g', '1',   /* group_id */
                0xff, 0xff, 0xff, 0xff, /* topics: null = every partition with a commit */
        };
        static const uint8_t v6[] = {
                0x00, 0x00, 0x00, 0x25, /* size 37 */
                0x00, 0x09, 0x00, 0x06, /* api_key 9, api_version 6 */
                0x00, 0x00, 0x00, 0x03, /* correlation_id 3 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x03, 'g', '1',         /* group_id: compact */
                0x02,                   /* topics: compact, 1 */
                0x02, 't',              /*   name: compact "t" */
                0x03,                   /*   partition_indexes: compact, 2 */
                0x00, 0x00, 0x00, 0x00, /*     0 */
                0x00, 0x00, 0x00, 0x02, /*     2 */
                0x00,                   /*   topic tagged fields */
                0x00,                   /* tagged fields */
        };
        static const uint8_t v7_all[] = {
                0x00, 0x00, 0x00, 0x1a, /* size 26 */
                0x00, 0x09, 0x00, 0x07, /* api_key 9, api_version 7 */
                0x00, 0x00, 0x00, 0x03, /* correlation_id 3 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x03, 'g', '1',         /* group_id */
                0x00,                   /* topics: compact null */
                0x00,                   /* require_stable: false */
                0x00,                   /* tagged fields */
        };
        static const uint8_t v8[] = {
                0x00, 0x00, 0x00, 0x29, /* size 41 */
                0x00, 0x09, 0x00, 0x08, /* api_key 9, api_version 8 */
                0x00, 0x00, 0x00, 0x03, /* correlation_id 3 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x03,                   /* groups: compact, 2 */
                0x03, 'g', '1',         /*   group_id "g1" */
                0x00,                   /*   topics: null (all) */
                0x00,                   /*   group tagged fields */
                0x03, 'g', '2',         /*   group_id "g2" */
                0x02,                   /*   topics: 1 */
                0x02, 't',              /*     name "t" */
                0x02,                   /*     partition_indexes: 1 */
                0x00, 0x00, 0x00, 0x05, /*       5 */
                0x00,                   /*     topic tagged fields */
                0x00,                   /*   group tagged fields */
                0x00,                   /* require_stable: false */
                0x00,                   /* tagged fields */
        };
        const struct kafka_wire_of_topic_req t02 = { "t", parts_0_2, 2 }, t5 = { "t", parts_5, 1 };
        const struct kafka_wire_of_group_req g1 = { .group = "g1", .topics = &t02, .n_topics = 1 };
        const struct kafka_wire_of_group_req g1_all = { .group = "g1", .all = true };
        const struct kafka_wire_of_group_req two[] = {
                { .group = "g1", .all = true },
                { .group = "g2", .topics = &t5, .n_topics = 1 },
        };
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        for (int v = 1; v <= 5; v++) {
                w.len = 0;
                v1[7] = (uint8_t)v;
                kafka_wire_enc_offset_fetch(&w, (int16_t)v, 3, "lambdaops", &g1, 1);
                enc_check(&w, v1, sizeof v1);
        }
        for (int v = 2; v <= 5; v++) {
                w.len = 0;
                v2_all[7] = (uint8_t)v;
                kafka_wire_enc_offset_fetch(&w, (int16_t)v, 3, "lambdaops", &g1_all, 1);
                enc_check(&w, v2_all, sizeof v2_all);
        }
        w.len = 0;
        kafka_wire_enc_offset_fetch(&w, 6, 3, "lambdaops", &g1, 1);
        enc_check(&w, v6, sizeof v6);
        w.len = 0;
        kafka_wire_enc_offset_fetch(&w, 7, 3, "lambdaops", &g1_all, 1);
        enc_check(&w, v7_all, sizeof v7_all);
        w.len = 0;
        kafka_wire_enc_offset_fetch(&w, 8, 3, "lambdaops", two, 2);
        enc_check(&w, v8, sizeof v8);
        kafka_wire_wr_done(&w);
}

/* ---- responses ---------------------------------------------------------------- */

/* Response frames without their size prefix. */
static const uint8_t fc_v0[] = {
        0x00, 0x00, 0x00, 0x07,         /* correlation_id 7 */
        0x00, 0x00,                     /* error_code 0 */
        0x00, 0x00, 0x00, 0x02,         /* node_id 2 */
        0x00, 0x09, IP_BYTES,           /* host "127.0.0.1" */
        0x00, 0x00, 0x23, 0x84,         /* port 9092 */
};
static const uint8_t fc_v2[] = {
        0x00, 0x00, 0x00, 0x07,         /* correlation_id 7 */
        0x00, 0x00, 0x00, 0x0a,         /* throttle_time_ms 10 */
        0x00, 0x00,                     /* error_code 0 */
        0xff, 0xff,                     /* error_message null */
        0x00, 0x00, 0x00, 0x02,         /* node_id 2 */
        0x00, 0x09, IP_BYTES,           /* host */
        0x00, 0x00, 0x23, 0x84,         /* port 9092 */
};
static const uint8_t fc_v3_err[] = {
        0x00, 0x00, 0x00, 0x07,         /* correlation_id 7 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms 0 */
        0x00, 0x0f,                     /* error_code 15 COORDINATOR_NOT_AVAILABLE */
        0x02, 'x',                      /* error_message: compact "x" */
        0xff, 0xff, 0xff, 0xff,         /* node_id -1 */
        0x01,                           /* host: compact "" */
        0xff, 0xff, 0xff, 0xff,         /* port -1 */
        0x00,                           /* tagged fields */
};
static const uint8_t fc_v4[] = {
        0x00, 0x00, 0x00, 0x07,         /* correlation_id 7 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms */
        0x03,                           /* coordinators: compact, 2 */
        0x03, 'g', '1',                 /*   key "g1" */
        0x00, 0x00, 0x00, 0x01,         /*   node_id 1 */
        0x0a, IP_BYTES,                 /*   host: compact */
        0x00, 0x00, 0x23, 0x84,         /*   port 9092 */
        0x00, 0x00,                     /*   error_code 0 */
        0x00,                           /*   error_message: null */
        0x00,                           /*   tagged fields */
        0x03, 'g', '2',                 /*   key "g2" */
        0x00, 0x00, 0x00, 0x03,         /*   node_id 3 */
        0x0a, IP_BYTES,                 /*   host */
        0x00, 0x00, 0x23, 0x86,         /*   port 9094 */
        0x00, 0x00,                     /*   error_code 0 */
        0x00,                           /*   error_message: null */
        0x01,                           /*   tagged fields: one (tag 0, 0 bytes) */
        0x00, 0x00,
        0x00,                           /* tagged fields */
};

static const uint8_t of_v1[] = {
        0x00, 0x00, 0x00, 0x03,         /* correlation_id 3 */
        0x00, 0x00, 0x00, 0x01,         /* topics: 1 */
        0x00, 0x01, 't',                /*   name "t" */
        0x00, 0x00, 0x00, 0x02,         /*   partitions: 2 */
        0x00, 0x00, 0x00, 0x00,         /*     partition_index 0 */
        I64(10),                        /*     committed_offset 10 */
        0x00, 0x02, 'm', 'd',           /*     metadata "md" */
        0x00, 0x00,                     /*     error_code 0 */
        0x00, 0x00, 0x00, 0x02,         /*     partition_index 2 */
        I64_NEG1,                       /*     committed_offset -1: none */
        0xff, 0xff,                     /*     metadata null */
        0x00, 0x00,                     /*     error_code 0 */
};
static const uint8_t of_v5[] = {
        0x00, 0x00, 0x00, 0x03,         /* correlation_id 3 */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms 0 */
        0x00, 0x00, 0x00, 0x01,         /* topics: 1 */
        0x00, 0x01, 't',                /*   name "t" */
        0x00, 0x00, 0x00, 0x01,         /*   partitions: 1 */
        0x00, 0x00, 0x00, 0x00,         /*     partition_index 0 */
        I64(10),                        /*     committed_offset 10 */
        0x00, 0x00, 0x00, 0x07,         /*     committed_leader_epoch 7 */
        0x00, 0x00,                     /*     metadata "" */
        0x00, 0x00,                     /*     error_code 0 */
        0x00, 0x00,                     /* error_code 0 */
};
/* librdkafka's mock answers "all partitions" with a null topic array. */
static const uint8_t of_v5_mock_all[] = {
        0x00, 0x00, 0x00, 0x03,         /* correlation_id 3 */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms 0 */
        0xff, 0xff, 0xff, 0xff,         /* topics: null */
        0x00, 0x00,                     /* error_code 0 */
};
static const uint8_t of_v6[] = {
        0x00, 0x00, 0x00, 0x03,         /* correlation_id 3 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms 0 */
        0x02,                           /* topics: compact, 1 */
        0x02, 't',                      /*   name */
        0x02,                           /*   partitions: 1 */
        0x00, 0x00, 0x00, 0x00,         /*     partition_index 0 */
        I64(10),                        /*     committed_offset 10 */
        0xff, 0xff, 0xff, 0xff,         /*     committed_leader_epoch -1 */
        0x00,                           /*     metadata: null */
        0x00, 0x00,                     /*     error_code 0 */
        0x00,                           /*     tagged fields */
        0x00,                           /*   tagged fields */
        0x00, 0x10,                     /* error_code 16 NOT_COORDINATOR */
        0x00,                           /* tagged fields */
};
static const uint8_t of_v8[] = {
        0x00, 0x00, 0x00, 0x03,         /* correlation_id 3 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms 0 */
        0x03,                           /* groups: compact, 2 */
        0x03, 'g', '1',                 /*   group_id "g1" */
        0x01,                           /*   topics: compact, 0 */
        0x00, 0x10,                     /*   error_code 16 */
        0x00,                           /*   tagged fields */
        0x03, 'g', '2',                 /*   group_id "g2" */
        0x02,                           /*   topics: 1 */
        0x02, 't',                      /*     name */
        0x02,                           /*     partitions: 1 */
        0x00, 0x00, 0x00, 0x05,         /*       partition_index 5 */
        I64(42),                        /*       committed_offset 42 */
        0x00, 0x00, 0x00, 0x01,         /*       committed_leader_epoch 1 */
        0x03, 'h', 'i',                 /*       metadata "hi" */
        0x00, 0x00,                     /*       error_code 0 */
        0x00,                           /*       tagged fields */
        0x00,                           /*     tagged fields */
        0x00, 0x00,                     /*   error_code 0 */
        0x00,                           /*   tagged fields */
        0x00,                           /* tagged fields */
};

static bool str_is(struct kafka_wire_str s, const char *want)
{
        if (!want)
                return s.p == NULL && s.len == -1;
        return s.p && (size_t)s.len == strlen(want) && memcmp(s.p, want, (size_t)s.len) == 0;
}

static void test_dec_find_coordinator(void **state)
{
        struct kafka_wire_coordinators c;
        struct err e;

        (void)state;
        assert_int_equal(kafka_wire_dec_find_coordinator(fc_v0, sizeof fc_v0, 0, &c, &e), 0);
        assert_int_equal(c.correlation_id, 7);
        assert_int_equal(c.n, 1);
        assert_int_equal(c.c[0].error_code, 0);
        assert_int_equal(c.c[0].node_id, 2);
        assert_string_equal(c.c[0].host, "127.0.0.1");
        assert_int_equal(c.c[0].port, 9092);
        assert_null(c.c[0].key);
        assert_null(c.c[0].error_message);
        kafka_wire_coordinators_done(&c);

        for (int v = 1; v <= 2; v++) {
                assert_int_equal(kafka_wire_dec_find_coordinator(fc_v2, sizeof fc_v2, (int16_t)v,
                                                                 &c, &e), 0);
                assert_int_equal(c.throttle_ms, 10);
                assert_int_equal(c.n, 1);
                assert_int_equal(c.c[0].node_id, 2);
                assert_string_equal(c.c[0].host, "127.0.0.1");
                assert_int_equal(c.c[0].port, 9092);
                assert_null(c.c[0].error_message);
                kafka_wire_coordinators_done(&c);
        }

        assert_int_equal(kafka_wire_dec_find_coordinator(fc_v3_err, sizeof fc_v3_err, 3, &c, &e),
                         0);
        assert_int_equal(c.c[0].error_code, KWIRE_ERR_COORDINATOR_NOT_AVAILABLE);
        assert_string_equal(c.c[0].error_message, "x");
        assert_int_equal(c.c[0].node_id, -1);
        assert_string_equal(c.c[0].host, "");
        assert_int_equal(c.c[0].port, -1);
        kafka_wire_coordinators_done(&c);

        assert_int_equal(kafka_wire_dec_find_coordinator(fc_v4, sizeof fc_v4, 4, &c, &e), 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.c[0].key, "g1");
        assert_int_equal(c.c[0].node_id, 1);
        assert_int_equal(c.c[0].port, 9092);
        assert_string_equal(c.c[1].key, "g2");
        assert_int_equal(c.c[1].node_id, 3);
        assert_string_equal(c.c[1].host, "127.0.0.1");
        assert_int_equal(c.c[1].port, 9094);
        assert_null(c.c[1].error_message);
        kafka_wire_coordinators_done(&c);

        /* A v0 answer read as v1 runs out of bytes: a clear error. */
        assert_int_equal(kafka_wire_dec_find_coordinator(fc_v0, sizeof fc_v0, 1, &c, &e), -1);
        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "malformed FindCoordinator v1 response: ");
        assert_null(c.c);
}

static void test_dec_offset_fetch(void **state)
{
        struct kafka_wire_offsets o;
        struct err e;

        (void)state;
        assert_int_equal(kafka_wire_dec_offset_fetch(of_v1, sizeof of_v1, 1, &o, &e), 0);
        assert_int_equal(o.correlation_id, 3);
        assert_int_equal(o.n_groups, 1);
        assert_true(str_is(o.groups[0].group, NULL));
        assert_int_equal(o.groups[0].error_code, 0);
        assert_int_equal(o.groups[0].n_topics, 1);
        assert_int_equal(o.groups[0].n_parts, 2);
        assert_true(str_is(o.topics[0].name, "t"));
        assert_int_equal(o.parts[0].topic, 0);
        assert_int_equal(o.parts[0].partition, 0);
        assert_int_equal(o.parts[0].offset, 10);
        assert_int_equal(o.parts[0].leader_epoch, -1);
        assert_true(str_is(o.parts[0].metadata, "md"));
        assert_int_equal(o.parts[1].partition, 2);
        assert_int_equal(o.parts[1].offset, -1);
        assert_true(str_is(o.parts[1].metadata, NULL));
        kafka_wire_offsets_done(&o);

        assert_int_equal(kafka_wire_dec_offset_fetch(of_v5, sizeof of_v5, 5, &o, &e), 0);
        assert_int_equal(o.n_parts, 1);
        assert_int_equal(o.parts[0].offset, 10);
        assert_int_equal(o.parts[0].leader_epoch, 7);
        assert_true(str_is(o.parts[0].metadata, ""));
        kafka_wire_offsets_done(&o);

        assert_int_equal(kafka_wire_dec_offset_fetch(of_v5_mock_all, sizeof of_v5_mock_all, 5, &o,
                                                     &e), 0);
        assert_int_equal(o.n_groups, 1);
        assert_int_equal(o.groups[0].n_parts, 0);
        assert_int_equal(o.n_topics, 0);
        kafka_wire_offsets_done(&o);

        for (int v = 6; v <= 7; v++) {
                assert_int_equal(kafka_wire_dec_offset_fetch(of_v6, sizeof of_v6, (int16_t)v, &o,
                                                             &e), 0);
                assert_int_equal(o.groups[0].error_code, KWIRE_ERR_NOT_COORDINATOR);
                assert_int_equal(o.parts[0].offset, 10);
                assert_int_equal(o.parts[0].leader_epoch, -1);
                assert_true(str_is(o.parts[0].metadata, NULL));
                kafka_wire_offsets_done(&o);
        }

        assert_int_equal(kafka_wire_dec_offset_fetch(of_v8, sizeof of_v8, 8, &o, &e), 0);
        assert_int_equal(o.n_groups, 2);
        assert_true(str_is(o.groups[0].group, "g1"));
        assert_int_equal(o.groups[0].error_code, KWIRE_ERR_NOT_COORDINATOR);
        assert_int_equal(o.groups[0].n_parts, 0);
        assert_true(str_is(o.groups[1].group, "g2"));
        assert_int_equal(o.groups[1].error_code, 0);
        assert_int_equal(o.groups[1].first_topic, 0);
        assert_int_equal(o.groups[1].n_topics, 1);
        assert_int_equal(o.groups[1].first_part, 0);
        assert_int_equal(o.groups[1].n_parts, 1);
        assert_int_equal(o.parts[0].partition, 5);
        assert_int_equal(o.parts[0].offset, 42);
        assert_int_equal(o.parts[0].leader_epoch, 1);
        assert_true(str_is(o.parts[0].metadata, "hi"));
        kafka_wire_offsets_done(&o);

        /* The v5 answer read as v4 (no leader epoch) misaligns: error. */
        assert_int_equal(kafka_wire_dec_offset_fetch(of_v5, sizeof of_v5, 4, &o, &e), -1);
        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "malformed OffsetFetch v4 response: ");
        assert_null(o.parts);
}

/* Every proper prefix fails cleanly, and so does one byte too many. */
static void truncate_all(const uint8_t *b, size_t n, bool fc, int16_t v)
{
        for (size_t k = 0; k <= n + 1; k++) {
                uint8_t *copy = xmalloc(k ? k : 1);
                struct err e;
                int rc;

                if (k == n) {
                        free(copy);
                        continue;
                }
                memcpy(copy, b, k < n ? k : n);
                if (k > n)
                        copy[n] = 0;
                err_clear(&e);
                if (fc) {
                        struct kafka_wire_coordinators c;

                        rc = kafka_wire_dec_find_coordinator(copy, k, v, &c, &e);
                        assert_null(c.c);
                        kafka_wire_coordinators_done(&c);
                } else {
                        struct kafka_wire_offsets o;

                        rc = kafka_wire_dec_offset_fetch(copy, k, v, &o, &e);
                        assert_null(o.parts);
                        assert_null(o.groups);
                        kafka_wire_offsets_done(&o);
                }
                free(copy);
                if (rc != -1)
                        fail_msg("%zu of %zu bytes decoded (%s v%d)", k, n, fc ? "fc" : "of", v);
                assert_int_equal(e.code, KWIRE_E_PROTO);
                assert_contains(e.msg, " at offset ");
                if (k > n)
                        assert_contains(e.msg, "1 unexpected trailing bytes");
        }
}

static void test_dec_truncated_everywhere(void **state)
{
        (void)state;
        truncate_all(fc_v0, sizeof fc_v0, true, 0);
        truncate_all(fc_v2, sizeof fc_v2, true, 2);
        truncate_all(fc_v3_err, sizeof fc_v3_err, true, 3);
        truncate_all(fc_v4, sizeof fc_v4, true, 4);
        truncate_all(of_v1, sizeof of_v1, false, 1);
        truncate_all(of_v5, sizeof of_v5, false, 5);
        truncate_all(of_v5_mock_all, sizeof of_v5_mock_all, false, 5);
        truncate_all(of_v6, sizeof of_v6, false, 6);
        truncate_all(of_v8, sizeof of_v8, false, 8);
}

static void test_dec_hostile_counts(void **state)
{
        /* v8 with a group count far beyond the bytes: refused before any
         * allocation grows with it. */
        static const uint8_t many[] = {
                0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                0xff, 0xff, 0xff, 0xff, 0x07,   /* groups: compact count 2^31 - 2 */
        };
        /* v1 with a negative partition count. */
        static const uint8_t neg[] = {
                0x00, 0x00, 0x00, 0x03,
                0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',
                0xff, 0xff, 0xff, 0xfe,         /* partitions: -2 */
        };
        struct kafka_wire_offsets o;
        struct err e;

        (void)state;
        assert_int_equal(kafka_wire_dec_offset_fetch(many, sizeof many, 8, &o, &e), -1);
        assert_contains(e.msg, "groups at offset 9: array count");
        assert_int_equal(kafka_wire_dec_offset_fetch(neg, sizeof neg, 1, &o, &e), -1);
        assert_contains(e.msg, "invalid array count -2");
}

/* ---- Metadata (racks) ------------------------------------------------------ */

static void test_enc_metadata(void **state)
{
        uint8_t v1[] = {
                0x00, 0x00, 0x00, 0x17, /* size 23 */
                0x00, 0x03,             /* api_key 3 */
                0x00, 0x01,             /* api_version (1-3) */
                0x00, 0x00, 0x00, 0x04, /* correlation_id 4 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x00, 0x00, 0x00, /* topics: none (not null: null is all) */
        };
        uint8_t v4[] = {
                0x00, 0x00, 0x00, 0x18, /* size 24 */
                0x00, 0x03, 0x00, 0x04, /* api_key 3, api_version (4-7) */
                0x00, 0x00, 0x00, 0x04, /* correlation_id 4 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x00, 0x00, 0x00, /* topics: none */
                0x00,                   /* allow_auto_topic_creation: false */
        };
        static const uint8_t v8[] = {
                0x00, 0x00, 0x00, 0x1a, /* size 26 */
                0x00, 0x03, 0x00, 0x08, /* api_key 3, api_version 8 */
                0x00, 0x00, 0x00, 0x04, /* correlation_id 4 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00, 0x00, 0x00, 0x00, /* topics: none */
                0x00,                   /* allow_auto_topic_creation */
                0x00,                   /* include_cluster_authorized_operations */
                0x00,                   /* include_topic_authorized_operations */
        };
        uint8_t v9[] = {
                0x00, 0x00, 0x00, 0x19, /* size 25 */
                0x00, 0x03, 0x00, 0x09, /* api_key 3, api_version (9-10) */
                0x00, 0x00, 0x00, 0x04, /* correlation_id 4 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x01,                   /* topics: compact, none */
                0x00,                   /* allow_auto_topic_creation */
                0x00,                   /* include_cluster_authorized_operations */
                0x00,                   /* include_topic_authorized_operations */
                0x00,                   /* tagged fields */
        };
        uint8_t v11[] = {
                0x00, 0x00, 0x00, 0x18, /* size 24 */
                0x00, 0x03, 0x00, 0x0b, /* api_key 3, api_version (11-12) */
                0x00, 0x00, 0x00, 0x04, /* correlation_id 4 */
                0x00, 0x09, LO_BYTES,   /* client_id */
                0x00,                   /* header tagged fields */
                0x01,                   /* topics: none */
                0x00,                   /* allow_auto_topic_creation */
                0x00,                   /* include_topic_authorized_operations */
                0x00,                   /* tagged fields */
        };
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        for (int v = 1; v <= 12; v++) {
                uint8_t *want;
                size_t n;

                w.len = 0;
                kafka_wire_enc_metadata(&w, (int16_t)v, 4, "lambdaops");
                if (v <= 3) {
                        want = v1;
                        n = sizeof v1;
                } else if (v <= 7) {
                        want = v4;
                        n = sizeof v4;
                } else if (v == 8) {
                        enc_check(&w, v8, sizeof v8);
                        continue;
                } else if (v <= 10) {
                        want = v9;
                        n = sizeof v9;
                } else {
                        want = v11;
                        n = sizeof v11;
                }
                want[7] = (uint8_t)v;
                enc_check(&w, want, n);
        }
        kafka_wire_wr_done(&w);
}

static const uint8_t md_v1[] = {
        0x00, 0x00, 0x00, 0x04,         /* correlation_id 4 */
        0x00, 0x00, 0x00, 0x02,         /* brokers: 2 */
        0x00, 0x00, 0x00, 0x01,         /*   node_id 1 */
        0x00, 0x09, IP_BYTES,           /*   host */
        0x00, 0x00, 0x23, 0x84,         /*   port 9092 */
        0x00, 0x06, 'r', 'a', 'c', 'k', '-', 'a',       /* rack "rack-a" */
        0x00, 0x00, 0x00, 0x02,         /*   node_id 2 */
        0x00, 0x09, IP_BYTES,           /*   host */
        0x00, 0x00, 0x23, 0x85,         /*   port 9093 */
        0xff, 0xff,                     /*   rack: null */
        0x00, 0x00, 0x00, 0x01,         /* controller_id 1 */
        0x00, 0x00, 0x00, 0x00,         /* topics: none */
};
static const uint8_t md_v2[] = {
        0x00, 0x00, 0x00, 0x04,         /* correlation_id 4 */
        0x00, 0x00, 0x00, 0x01,         /* brokers: 1 */
        0x00, 0x00, 0x00, 0x07,         /*   node_id 7 */
        0x00, 0x09, IP_BYTES,           /*   host */
        0x00, 0x00, 0x23, 0x84,         /*   port */
        0x00, 0x01, 'z',                /*   rack "z" */
        0x00, 0x04, 'c', 'l', 'i', 'd', /* cluster_id "clid" */
        0x00, 0x00, 0x00, 0x07,         /* controller_id 7 */
        0x00, 0x00, 0x00, 0x00,         /* topics: none */
};
static const uint8_t md_v8[] = {
        0x00, 0x00, 0x00, 0x04,         /* correlation_id 4 */
        0x00, 0x00, 0x00, 0x05,         /* throttle_time_ms 5 */
        0x00, 0x00, 0x00, 0x01,         /* brokers: 1 */
        0x00, 0x00, 0x00, 0x01,         /*   node_id 1 */
        0x00, 0x09, IP_BYTES,           /*   host */
        0x00, 0x00, 0x23, 0x84,         /*   port */
        0xff, 0xff,                     /*   rack: null */
        0xff, 0xff,                     /* cluster_id: null */
        0xff, 0xff, 0xff, 0xff,         /* controller_id -1 */
        0x00, 0x00, 0x00, 0x00,         /* topics: none */
        0x80, 0x00, 0x00, 0x00,         /* cluster_authorized_operations: INT32_MIN */
};
static const uint8_t md_v9[] = {
        0x00, 0x00, 0x00, 0x04,         /* correlation_id 4 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms */
        0x02,                           /* brokers: compact, 1 */
        0x00, 0x00, 0x00, 0x01,         /*   node_id 1 */
        0x0a, IP_BYTES,                 /*   host: compact */
        0x00, 0x00, 0x23, 0x84,         /*   port */
        0x07, 'r', 'a', 'c', 'k', '-', 'a',     /* rack: compact "rack-a" */
        0x00,                           /*   tagged fields */
        0x05, 'c', 'l', 'i', 'd',       /* cluster_id: compact "clid" */
        0x00, 0x00, 0x00, 0x01,         /* controller_id 1 */
        0x01,                           /* topics: compact, none */
        0x00, 0x00, 0x00, 0x00,         /* cluster_authorized_operations (v8-v10) */
        0x00,                           /* tagged fields */
};
static const uint8_t md_v12[] = {
        0x00, 0x00, 0x00, 0x04,         /* correlation_id 4 */
        0x00,                           /* header tagged fields */
        0x00, 0x00, 0x00, 0x00,         /* throttle_time_ms */
        0x02,                           /* brokers: 1 */
        0x00, 0x00, 0x00, 0x01,         /*   node_id 1 */
        0x0a, IP_BYTES,                 /*   host */
        0x00, 0x00, 0x23, 0x84,         /*   port */
        0x00,                           /*   rack: compact null */
        0x00,                           /*   tagged fields */
        0x00,                           /* cluster_id: null */
        0x00, 0x00, 0x00, 0x01,         /* controller_id 1 */
        0x01,                           /* topics: none */
        0x00,                           /* tagged fields */
};

static void test_dec_metadata(void **state)
{
        struct kafka_wire_metadata m;
        struct err e;
        uint8_t *bad;

        (void)state;
        {
                assert_int_equal(kafka_wire_dec_metadata(md_v1, sizeof md_v1, 1, &m, &e), 0);
                assert_int_equal(m.correlation_id, 4);
                assert_int_equal(m.n_brokers, 2);
                assert_int_equal(m.brokers[0].node_id, 1);
                assert_string_equal(m.brokers[0].host, "127.0.0.1");
                assert_int_equal(m.brokers[0].port, 9092);
                assert_string_equal(m.brokers[0].rack, "rack-a");
                assert_int_equal(m.brokers[1].port, 9093);
                assert_null(m.brokers[1].rack);
                assert_int_equal(m.controller_id, 1);
                assert_null(m.cluster_id);
                kafka_wire_metadata_done(&m);
        }
        assert_int_equal(kafka_wire_dec_metadata(md_v2, sizeof md_v2, 2, &m, &e), 0);
        assert_string_equal(m.brokers[0].rack, "z");
        assert_string_equal(m.cluster_id, "clid");
        assert_int_equal(m.controller_id, 7);
        kafka_wire_metadata_done(&m);
        assert_int_equal(kafka_wire_dec_metadata(md_v8, sizeof md_v8, 8, &m, &e), 0);
        assert_int_equal(m.throttle_ms, 5);
        assert_null(m.brokers[0].rack);
        assert_null(m.cluster_id);
        assert_int_equal(m.controller_id, -1);
        kafka_wire_metadata_done(&m);
        for (int v = 9; v <= 10; v++) {
                assert_int_equal(kafka_wire_dec_metadata(md_v9, sizeof md_v9, (int16_t)v, &m, &e),
                                 0);
                assert_string_equal(m.brokers[0].rack, "rack-a");
                assert_string_equal(m.cluster_id, "clid");
                kafka_wire_metadata_done(&m);
        }
        for (int v = 11; v <= 12; v++) {
                assert_int_equal(kafka_wire_dec_metadata(md_v12, sizeof md_v12, (int16_t)v, &m, &e),
                                 0);
                assert_int_equal(m.n_brokers, 1);
                assert_null(m.brokers[0].rack);
                kafka_wire_metadata_done(&m);
        }
        /* Topics we did not ask for: an error, not silently skipped. */
        bad = xcalloc(1, sizeof md_v1 + 16);    /* room for a topic entry */
        memcpy(bad, md_v1, sizeof md_v1);
        bad[sizeof md_v1 - 1] = 1;
        assert_int_equal(kafka_wire_dec_metadata(bad, sizeof md_v1 + 16, 1, &m, &e), -1);
        assert_contains(e.msg, "1 topics in the answer, asked for none");
        assert_null(m.brokers);
        free(bad);
        /* Every truncation and one byte too many. */
        {
                static const struct { const uint8_t *b; size_t n; int16_t v; } f[] = {
                        { md_v1, sizeof md_v1, 1 }, { md_v2, sizeof md_v2, 2 },
                        { md_v8, sizeof md_v8, 8 }, { md_v9, sizeof md_v9, 9 },
                        { md_v12, sizeof md_v12, 12 },
                };

                for (size_t i = 0; i < LO_ARRAY_LEN(f); i++)
                        for (size_t k = 0; k <= f[i].n + 1; k++) {
                                uint8_t *c = xmalloc(k ? k : 1);

                                if (k == f[i].n) {
                                        free(c);
                                        continue;
                                }
                                memcpy(c, f[i].b, k < f[i].n ? k : f[i].n);
                                if (k > f[i].n)
                                        c[f[i].n] = 0;
                                if (kafka_wire_dec_metadata(c, k, f[i].v, &m, &e) != -1)
                                        fail_msg("md v%d: %zu of %zu bytes decoded", f[i].v, k,
                                                 f[i].n);
                                assert_null(m.brokers);
                                assert_int_equal(e.code, KWIRE_E_PROTO);
                                assert_contains(e.msg, "malformed Metadata v");
                                free(c);
                        }
        }
}

/* ---- the client against librdkafka's mock cluster ----------------------------- */

struct got {
        int     calls;
        bool    ok;
        int16_t error_code;
        char    err[256];
        int64_t off[4];                 /* t/0..3, -1 none */
        char    meta0[16];
};

static void got_cb(void *arg, size_t i, const struct kafka_wire_offsets *res,
                   const struct kafka_wire_of_group *g, const struct err *e)
{
        struct got *gv = &((struct got *)arg)[i];

        gv->calls++;
        if (e) {
                str_copy(gv->err, e->msg, sizeof gv->err);
                return;
        }
        gv->ok = true;
        gv->error_code = g->error_code;
        for (size_t k = g->first_part; k < g->first_part + g->n_parts; k++) {
                const struct kafka_wire_of_part *p = &res->parts[k];

                assert_true(str_is(res->topics[p->topic].name, "t"));
                assert_in_range(p->partition, 0, 3);
                gv->off[p->partition] = p->offset;
                if (p->partition == 0 && p->metadata.p)
                        snprintf(gv->meta0, sizeof gv->meta0, "%.*s", (int)p->metadata.len,
                                 p->metadata.p);
        }
}

static void got_reset(struct got *g, size_t n)
{
        memset(g, 0, n * sizeof *g);
        for (size_t i = 0; i < n; i++)
                for (int p = 0; p < 4; p++)
                        g[i].off[p] = -2;       /* not in the answer */
}

static void test_fetch_mock(void **state)
{
        static const int32_t all4[] = { 0, 1, 2, 3 };
        const struct kafka_wire_of_topic_req t = { "t", all4, 4 };
        const struct kafka_wire_of_group_req reqs[] = {
                { .group = "ga", .topics = &t, .n_topics = 1 },
                { .group = "gb", .topics = &t, .n_topics = 1 },
                { .group = "gc", .all = true },
        };
        struct kafka_wire_endpoint eps[3];
        char hosts[3][64];
        struct tu_kafka k;
        struct coll_ctx ctx = { .stop_fd = -1, .timeout_ms = 5000 };
        struct got g[3];

        (void)state;
#ifdef LO_TSAN
        skip();         /* librdkafka's own races; see tests/lib/tsan.supp */
#endif
        assert_int_equal(tu_kafka_start(&k, 3), 0);
        assert_int_equal(tu_kafka_topic(&k, "t", 4, 1, NULL), 0);
        for (int p = 0; p < 4; p++)
                assert_int_equal(tu_kafka_produce(&k, "t", p, 10), 0);
        assert_int_equal(tu_kafka_coordinator(&k, "ga", 1), 0);
        assert_int_equal(tu_kafka_coordinator(&k, "gb", 2), 0);
        assert_int_equal(tu_kafka_coordinator(&k, "gc", 3), 0);
        assert_int_equal(tu_kafka_commit(&k, "ga", "t", 0, 3, "m0"), 0);
        assert_int_equal(tu_kafka_commit(&k, "ga", "t", 2, 5, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "gb", "t", 1, 7, NULL), 0);
        assert_int_equal(tu_kafka_commit(&k, "gc", "t", 3, 9, NULL), 0);
        for (int i = 0; i < 3; i++) {
                snprintf(hosts[i], sizeof hosts[i], "127.0.0.1");
                eps[i].host = hosts[i];
                eps[i].port = tu_kafka_port(&k, i + 1);
        }

        /* Metadata: racks as the mock was told. */
        assert_int_equal(rd_kafka_mock_broker_set_rack(k.mc, 2, "rack-b"), 0);
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
        {
                struct kafka_wire_metadata md;
                struct err e;

                if (kafka_wire_fetch_metadata(eps, 3, NULL, &ctx, &md, &e) != 0)
                        fail_msg("metadata: %s", e.msg);
                assert_int_equal(md.n_brokers, 3);
                for (size_t i = 0; i < md.n_brokers; i++) {
                        assert_int_equal(md.brokers[i].port,
                                         tu_kafka_port(&k, md.brokers[i].node_id));
                        if (md.brokers[i].node_id == 2)
                                assert_string_equal(md.brokers[i].rack, "rack-b");
                        else
                                assert_null(md.brokers[i].rack);
                }
                assert_non_null(md.cluster_id);
                kafka_wire_metadata_done(&md);
        }

        got_reset(g, 3);
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
        assert_int_equal(kafka_wire_fetch_offsets(eps, 3, NULL, reqs, 3, &ctx, got_cb, g), 3);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(g[i].calls, 1);
                assert_true(g[i].ok);
                assert_int_equal(g[i].error_code, 0);
        }
        assert_int_equal(g[0].off[0], 3);
        assert_string_equal(g[0].meta0, "m0");
        assert_int_equal(g[0].off[1], -1);
        assert_int_equal(g[0].off[2], 5);
        assert_int_equal(g[0].off[3], -1);
        assert_int_equal(g[1].off[0], -1);
        assert_int_equal(g[1].off[1], 7);
        assert_int_equal(g[1].off[2], -1);
        /* The mock answers "all partitions" with nothing (that is why the
         * collector scans explicitly when no group's "all" shows commits). */
        for (int p = 0; p < 4; p++)
                assert_int_equal(g[2].off[p], -2);

        /* gb's coordinator down: gb fails with a reason, the others exact. */
        assert_int_equal(tu_kafka_broker_down(&k, 2), 0);
        got_reset(g, 3);
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + 2000;
        ctx.timeout_ms = 2000;
        assert_int_equal(kafka_wire_fetch_offsets(eps, 3, NULL, reqs, 2, &ctx, got_cb, g), 1);
        assert_int_equal(g[0].calls, 1);
        assert_true(g[0].ok);
        assert_int_equal(g[0].off[2], 5);
        assert_int_equal(g[1].calls, 1);
        assert_false(g[1].ok);
        assert_contains(g[1].err, "127.0.0.1:");
        assert_int_equal(g[2].calls, 0);
        assert_int_equal(tu_kafka_broker_up(&k, 2), 0);
        tu_kafka_stop(&k);
}

static void test_fetch_no_bootstrap(void **state)
{
        const struct kafka_wire_of_group_req reqs[] = {
                { .group = "ga", .all = true },
                { .group = "gb", .all = true },
        };
        struct kafka_wire_endpoint eps[1] = { { "127.0.0.1", 1 } };  /* nothing listens on port 1 */
        struct coll_ctx ctx = { .stop_fd = -1, .timeout_ms = 1000 };
        struct got g[2];

        (void)state;
        got_reset(g, 2);
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
        assert_int_equal(kafka_wire_fetch_offsets(eps, 1, NULL, reqs, 2, &ctx, got_cb, g), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(g[i].calls, 1);
                assert_false(g[i].ok);
                assert_contains(g[i].err, "connect to 127.0.0.1:1: connection refused");
        }
        got_reset(g, 2);
        assert_int_equal(kafka_wire_fetch_offsets(eps, 0, NULL, reqs, 2, &ctx, got_cb, g), 0);
        assert_contains(g[0].err, "no bootstrap broker to ask");
}

static void test_describe_quorum_mock(void **state)
{
        char errstr[256], host[64];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;
        int port;

        (void)state;
        /* A real (if small) broker implementation: librdkafka's mock speaks
         * ApiVersions 0-2 and has no DescribeQuorum, which is what the
         * collector's mock-cluster tests will meet. */
        rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        assert_non_null(rk);
        mc = rd_kafka_mock_cluster_new(rk, 1);
        assert_non_null(mc);
        assert_int_equal(sscanf(rd_kafka_mock_cluster_bootstraps(mc), "%63[^:]:%d", host, &port),
                         2);
        ctx.stop_fd = -1;
        ctx.timeout_ms = 5000;
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
        assert_int_equal(kafka_wire_describe_quorum(host, port, NULL, &ctx, &q, &e), -1);
        assert_int_equal(e.code, KWIRE_E_UNSUPPORTED);
        assert_contains(e.msg, "does not support DescribeQuorum (ZooKeeper mode or Kafka < 3.3)");
        kafka_wire_quorum_done(&q);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_enc_find_coordinator),
                cmocka_unit_test(test_enc_offset_fetch),
                cmocka_unit_test(test_dec_find_coordinator),
                cmocka_unit_test(test_dec_offset_fetch),
                cmocka_unit_test(test_dec_truncated_everywhere),
                cmocka_unit_test(test_dec_hostile_counts),
                cmocka_unit_test(test_enc_metadata),
                cmocka_unit_test(test_dec_metadata),
                cmocka_unit_test(test_fetch_mock),
                cmocka_unit_test(test_fetch_no_bootstrap),
                cmocka_unit_test(test_describe_quorum_mock),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
