/*
 * test_kafka_wire: the Kafka wire codec and the DescribeQuorum client.
 *
 * Primitives are checked on byte strings written out here; encoders are
 * compared byte for byte with requests built by hand from the public
 * schemas (each byte group commented); decoders read the annotated hex
 * fixtures in tests/fixtures/kafka (v0, v1, v2, tagged fields present) and
 * must fail cleanly, without leaks, on every truncation and on hostile
 * lengths. A responder thread on 127.0.0.1 plays real exchanges with the
 * client: success at each version, the ApiVersions fallback, truncated,
 * garbage and silent brokers, early close, no DescribeQuorum, broker errors.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/collector.h"
#include "clients/kafka/kafka_wire.h"
#include "tu.h"
#include "tu_tls.h"
#include "core/util.h"

#define assert_contains(hay, needle)                                            \
        do {                                                                    \
                if (!strstr((hay), (needle)))                                   \
                        fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
        } while (0)

/* ---- fixtures ------------------------------------------------------------ */

/* Annotated hex: '#' to end of line is a comment, the rest hex pairs. */
static uint8_t *hex_parse(const char *text, size_t *len)
{
        uint8_t *out = xmalloc(strlen(text) / 2 + 1);
        size_t n = 0;
        int hi = -1;

        for (const char *p = text; *p; p++) {
                int v;

                if (*p == '#') {
                        while (p[1] && p[1] != '\n')
                                p++;
                        continue;
                }
                if (isspace((unsigned char)*p))
                        continue;
                if (!isxdigit((unsigned char)*p))
                        fail_msg("bad hex character '%c'", *p);
                v = isdigit((unsigned char)*p) ? *p - '0' : tolower((unsigned char)*p) - 'a' + 10;
                if (hi < 0) {
                        hi = v;
                } else {
                        out[n++] = (uint8_t)(hi << 4 | v);
                        hi = -1;
                }
        }
        assert_true(hi < 0);
        *len = n;
        return out;
}

static uint8_t *fixture(const char *name, size_t *len)
{
        char rel[128];
        char *text;
        uint8_t *b;

        snprintf(rel, sizeof rel, "tests/fixtures/kafka/%s", name);
        text = tu_read_file(tu_src_path(rel), NULL);
        if (!text)
                fail_msg("cannot read fixture %s", rel);
        b = hex_parse(text, len);
        free(text);
        return b;
}

static void put_be32(uint8_t *p, int32_t v)
{
        uint32_t u = (uint32_t)v;

        p[0] = (uint8_t)(u >> 24);
        p[1] = (uint8_t)(u >> 16);
        p[2] = (uint8_t)(u >> 8);
        p[3] = (uint8_t)u;
}

/* ---- primitives ------------------------------------------------------------ */

static void test_rd_ints(void **state)
{
        static const uint8_t b[] = {
                0xfe,                                           /* i8 -2 */
                0x80, 0x01,                                     /* i16 -32767 */
                0xff, 0xfe,                                     /* u16 65534 */
                0x12, 0x34, 0x56, 0x78,                         /* i32 0x12345678 */
                0xff, 0xff, 0xff, 0xfe, 0xdc, 0xba, 0x98, 0x76, /* i64 */
                0x00, 0x01,                                     /* 2 bytes left */
        };
        struct kafka_wire_rd r;

        (void)state;
        kafka_wire_rd_init(&r, b, sizeof b);
        assert_int_equal(kafka_wire_rd_i8(&r, "a"), -2);
        assert_int_equal(kafka_wire_rd_i16(&r, "b"), -32767);
        assert_int_equal(kafka_wire_rd_u16(&r, "c"), 65534);
        assert_int_equal(kafka_wire_rd_i32(&r, "d"), 0x12345678);
        assert_true(kafka_wire_rd_i64(&r, "e") == (int64_t)0xfffffffedcba9876ULL);
        assert_false(r.bad);
        assert_int_equal(r.off, 17);
        /* Reading past the end fails at the field's offset and sticks. */
        assert_int_equal(kafka_wire_rd_i32(&r, "leader_id"), 0);
        assert_true(r.bad);
        assert_string_equal(r.msg, "leader_id at offset 17: needs 4 bytes, 2 left");
        assert_int_equal(r.off, 17);
        assert_int_equal(kafka_wire_rd_i8(&r, "later"), 0);
        assert_string_equal(r.msg, "leader_id at offset 17: needs 4 bytes, 2 left");
        /* Empty and NULL buffers. */
        kafka_wire_rd_init(&r, NULL, 5);
        assert_int_equal(kafka_wire_rd_i8(&r, "x"), 0);
        assert_string_equal(r.msg, "x at offset 0: needs 1 bytes, 0 left");
}

static void test_wr_ints(void **state)
{
        static const uint8_t want[] = {
                0xfe,                                           /* i8 -2 */
                0x80, 0x01,                                     /* i16 -32767 */
                0xff, 0xfe,                                     /* u16 65534 */
                0x12, 0x34, 0x56, 0x78,                         /* i32 */
                0xff, 0xff, 0xff, 0xfe, 0xdc, 0xba, 0x98, 0x76, /* i64 */
                0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, /* uuid */
                0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
        };
        static const uint8_t uuid[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                          0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
        struct kafka_wire_wr w;
        struct kafka_wire_rd r;
        uint8_t back[16];

        (void)state;
        kafka_wire_wr_init(&w);
        kafka_wire_wr_i8(&w, -2);
        kafka_wire_wr_i16(&w, -32767);
        kafka_wire_wr_u16(&w, 65534);
        kafka_wire_wr_i32(&w, 0x12345678);
        kafka_wire_wr_i64(&w, (int64_t)0xfffffffedcba9876ULL);
        kafka_wire_wr_uuid(&w, uuid);
        assert_int_equal(w.len, sizeof want);
        assert_memory_equal(w.buf, want, sizeof want);
        kafka_wire_rd_init(&r, w.buf, w.len);
        kafka_wire_rd_skip(&r, "ints", 17);
        kafka_wire_rd_uuid(&r, "uuid", back);
        assert_memory_equal(back, uuid, 16);
        assert_false(r.bad);
        /* A short UUID fails and zeroes the output. */
        kafka_wire_rd_init(&r, w.buf, 20);
        kafka_wire_rd_skip(&r, "ints", 17);
        kafka_wire_rd_uuid(&r, "replica_directory_id", back);
        assert_true(r.bad);
        assert_string_equal(r.msg, "replica_directory_id at offset 17: needs 16 bytes, 3 left");
        for (int i = 0; i < 16; i++)
                assert_int_equal(back[i], 0);
        kafka_wire_wr_done(&w);
        assert_null(w.buf);
}

static void test_varint(void **state)
{
        static const struct {
                uint8_t b[5];
                size_t n;
                uint32_t u;
        } uv[] = {
                { { 0x00 }, 1, 0 },
                { { 0x01 }, 1, 1 },
                { { 0x7f }, 1, 127 },
                { { 0x80, 0x01 }, 2, 128 },
                { { 0xac, 0x02 }, 2, 300 },
                { { 0xff, 0xff, 0x03 }, 3, 65535 },
                { { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5, UINT32_MAX },
        };
        static const struct {
                uint8_t b[5];
                size_t n;
                int32_t v;
        } sv[] = {
                { { 0x00 }, 1, 0 },
                { { 0x01 }, 1, -1 },
                { { 0x02 }, 1, 1 },
                { { 0x03 }, 1, -2 },
                { { 0x7f }, 1, -64 },
                { { 0x80, 0x01 }, 2, 64 },
                { { 0xfe, 0xff, 0xff, 0xff, 0x0f }, 5, INT32_MAX },
                { { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5, INT32_MIN },
        };
        struct kafka_wire_rd r;
        struct kafka_wire_wr w;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(uv); i++) {
                kafka_wire_wr_init(&w);
                kafka_wire_wr_uvarint(&w, uv[i].u);
                assert_int_equal(w.len, uv[i].n);
                assert_memory_equal(w.buf, uv[i].b, uv[i].n);
                kafka_wire_rd_init(&r, uv[i].b, uv[i].n);
                assert_true(kafka_wire_rd_uvarint(&r, "u") == uv[i].u);
                assert_false(r.bad);
                assert_int_equal(r.off, uv[i].n);
                /* Every strict prefix is truncated. */
                for (size_t k = 0; k < uv[i].n; k++) {
                        kafka_wire_rd_init(&r, uv[i].b, k);
                        kafka_wire_rd_uvarint(&r, "u");
                        assert_true(r.bad);
                }
                kafka_wire_wr_done(&w);
        }
        for (size_t i = 0; i < LO_ARRAY_LEN(sv); i++) {
                kafka_wire_wr_init(&w);
                kafka_wire_wr_varint(&w, sv[i].v);
                assert_int_equal(w.len, sv[i].n);
                assert_memory_equal(w.buf, sv[i].b, sv[i].n);
                kafka_wire_rd_init(&r, sv[i].b, sv[i].n);
                assert_int_equal(kafka_wire_rd_varint(&r, "v"), sv[i].v);
                assert_false(r.bad);
                kafka_wire_wr_done(&w);
        }
}

static void test_varint_overflow(void **state)
{
        static const uint8_t over33[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };      /* 33 bits */
        static const uint8_t six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };   /* 6 bytes */
        static const uint8_t lead[] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
        struct kafka_wire_rd r;

        (void)state;
        kafka_wire_rd_init(&r, over33, sizeof over33);
        assert_int_equal(kafka_wire_rd_uvarint(&r, "count"), 0);
        assert_true(r.bad);
        assert_string_equal(r.msg, "count at offset 0: varint overflows 32 bits");
        kafka_wire_rd_init(&r, six, sizeof six);
        kafka_wire_rd_uvarint(&r, "count");
        assert_true(r.bad);
        assert_contains(r.msg, "overflows");
        /* The reported offset is where the varint starts. */
        kafka_wire_rd_init(&r, lead, sizeof lead);
        kafka_wire_rd_i16(&r, "error_code");
        kafka_wire_rd_varint(&r, "size");
        assert_string_equal(r.msg, "size at offset 2: varint overflows 32 bits");
}

static void test_strings(void **state)
{
        static const uint8_t b[] = {
                0x00, 0x03, 'a', 'b', 'c',      /* string "abc" */
                0xff, 0xff,                     /* null */
                0x00, 0x00,                     /* "" */
                0x04, 'x', 'y', 'z',            /* compact "xyz" */
                0x00,                           /* compact null */
                0x01,                           /* compact "" */
        };
        static const uint8_t neg[] = { 0xff, 0xfe, 'a', 'b' };                 /* length -2 */
        static const uint8_t past[] = { 0x00, 0x05, 'a', 'b' };               /* 5 > 2 left */
        static const uint8_t cpast[] = { 0xff, 0xff, 0xff, 0xff, 0x07, 'a' }; /* 2^31 - 2 */
        struct kafka_wire_rd r;
        struct kafka_wire_str s;
        struct kafka_wire_wr w;
        char *d;

        (void)state;
        kafka_wire_rd_init(&r, b, sizeof b);
        assert_true(kafka_wire_rd_string(&r, "s1", false, false, &s));
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.p, "abc", 3);
        d = kafka_wire_str_dup(s);
        assert_string_equal(d, "abc");
        free(d);
        assert_true(kafka_wire_rd_string(&r, "s2", false, true, &s));
        assert_null(s.p);
        assert_int_equal(s.len, -1);
        assert_null(kafka_wire_str_dup(s));
        assert_true(kafka_wire_rd_string(&r, "s3", false, false, &s));
        assert_int_equal(s.len, 0);
        assert_true(kafka_wire_rd_string(&r, "c1", true, false, &s));
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.p, "xyz", 3);
        assert_true(kafka_wire_rd_string(&r, "c2", true, true, &s));
        assert_null(s.p);
        assert_true(kafka_wire_rd_string(&r, "c3", true, false, &s));
        assert_int_equal(s.len, 0);
        assert_int_equal(r.off, sizeof b);
        assert_false(r.bad);

        /* Null where not nullable. */
        kafka_wire_rd_init(&r, b + 5, 2);
        assert_false(kafka_wire_rd_string(&r, "topic_name", false, false, &s));
        assert_string_equal(r.msg, "topic_name at offset 0: null where a string is required");
        kafka_wire_rd_init(&r, b + 13, 1);
        assert_false(kafka_wire_rd_string(&r, "host", true, false, &s));
        assert_contains(r.msg, "null where a string is required");
        /* Negative lengths other than -1 fail even when nullable. */
        kafka_wire_rd_init(&r, neg, sizeof neg);
        assert_false(kafka_wire_rd_string(&r, "error_message", false, true, &s));
        assert_string_equal(r.msg, "error_message at offset 0: invalid string length -2");
        assert_null(s.p);
        /* Lengths past the end. */
        kafka_wire_rd_init(&r, past, sizeof past);
        assert_false(kafka_wire_rd_string(&r, "name", false, false, &s));
        assert_string_equal(r.msg, "name at offset 0: string length 5 exceeds the 2 bytes left");
        kafka_wire_rd_init(&r, cpast, sizeof cpast);
        assert_false(kafka_wire_rd_string(&r, "name", true, false, &s));
        assert_string_equal(r.msg,
                            "name at offset 0: string length 2147483646 exceeds the 1 bytes left");

        /* Writer, both forms and null. */
        kafka_wire_wr_init(&w);
        kafka_wire_wr_string(&w, "abc", false);
        kafka_wire_wr_string(&w, NULL, false);
        kafka_wire_wr_string(&w, "", false);
        kafka_wire_wr_string(&w, "xyz", true);
        kafka_wire_wr_string(&w, NULL, true);
        kafka_wire_wr_string(&w, "", true);
        assert_int_equal(w.len, sizeof b);
        assert_memory_equal(w.buf, b, sizeof b);
        kafka_wire_wr_done(&w);
}

static void test_arrays(void **state)
{
        static const uint8_t ok[] = { 0x00, 0x00, 0x00, 0x02, 1, 2, 3, 4 };
        static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4 };
        static const uint8_t null[] = { 0xff, 0xff, 0xff, 0xff };
        static const uint8_t neg[] = { 0xff, 0xff, 0xff, 0xfb };               /* -5 */
        static const uint8_t cok[] = { 0x03, 1, 2, 3, 4 };                     /* 2 entries */
        static const uint8_t cnull[] = { 0x00 };
        static const uint8_t chuge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2 };
        struct kafka_wire_rd r;
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_rd_init(&r, ok, sizeof ok);
        assert_int_equal(kafka_wire_rd_array(&r, "a", false, 2), 2);
        kafka_wire_rd_init(&r, ok, sizeof ok);
        assert_int_equal(kafka_wire_rd_array(&r, "a", false, 3), -1);  /* 2 x 3 > 4 */
        assert_string_equal(r.msg, "a at offset 0: array count 2 cannot fit in the 4 bytes left");
        kafka_wire_rd_init(&r, huge, sizeof huge);
        assert_int_equal(kafka_wire_rd_array(&r, "api_keys", false, 6), -1);
        assert_string_equal(r.msg,
                            "api_keys at offset 0: array count 2147483647 cannot fit in the 4 bytes left");
        kafka_wire_rd_init(&r, null, sizeof null);
        assert_int_equal(kafka_wire_rd_array(&r, "api_keys", false, 1), -1);
        assert_string_equal(r.msg, "api_keys at offset 0: null array");
        kafka_wire_rd_init(&r, neg, sizeof neg);
        assert_int_equal(kafka_wire_rd_array(&r, "api_keys", false, 1), -1);
        assert_string_equal(r.msg, "api_keys at offset 0: invalid array count -5");
        kafka_wire_rd_init(&r, cok, sizeof cok);
        assert_int_equal(kafka_wire_rd_array(&r, "v", true, 2), 2);
        assert_int_equal(r.off, 1);
        kafka_wire_rd_init(&r, cnull, sizeof cnull);
        assert_int_equal(kafka_wire_rd_array(&r, "voters", true, 1), -1);
        assert_string_equal(r.msg, "voters at offset 0: null array");
        kafka_wire_rd_init(&r, chuge, sizeof chuge);
        assert_int_equal(kafka_wire_rd_array(&r, "voters", true, 13), -1);
        assert_string_equal(r.msg,
                            "voters at offset 0: array count 4294967294 cannot fit in the 2 bytes left");

        kafka_wire_wr_init(&w);
        kafka_wire_wr_array_len(&w, 2, false);
        kafka_wire_wr_array_len(&w, 2, true);
        kafka_wire_wr_array_len(&w, 0, true);
        assert_int_equal(w.len, 6);
        assert_memory_equal(w.buf, ((const uint8_t[]){ 0, 0, 0, 2, 0x03, 0x01 }), 6);
        kafka_wire_wr_done(&w);
}

static void test_tags(void **state)
{
        static const uint8_t none[] = { 0x00 };
        static const uint8_t two[] = {
                0x02,                   /* 2 fields */
                0x00, 0x01, 0xaa,       /* tag 0, 1 byte */
                0x03, 0x02, 0xbb, 0xcc, /* tag 3, 2 bytes */
                0x7e,                   /* next field */
        };
        static const uint8_t past[] = { 0x01, 0x00, 0x05, 0xaa };      /* 5 > 1 */
        static const uint8_t many[] = { 0x7f, 0x00, 0x00 };            /* 127 fields */
        static const uint8_t order[] = { 0x02, 0x05, 0x00, 0x03, 0x00 };
        struct kafka_wire_rd r;

        (void)state;
        kafka_wire_rd_init(&r, none, sizeof none);
        kafka_wire_rd_tags(&r, "t");
        assert_false(r.bad);
        assert_int_equal(r.off, 1);
        kafka_wire_rd_init(&r, two, sizeof two);
        kafka_wire_rd_tags(&r, "t");
        assert_false(r.bad);
        assert_int_equal(r.off, 8);
        assert_int_equal(kafka_wire_rd_i8(&r, "next"), 0x7e);
        kafka_wire_rd_init(&r, past, sizeof past);
        kafka_wire_rd_tags(&r, "tagged fields");
        assert_string_equal(r.msg, "tagged fields at offset 3: needs 5 bytes, 1 left");
        kafka_wire_rd_init(&r, many, sizeof many);
        kafka_wire_rd_tags(&r, "tagged fields");
        assert_string_equal(r.msg,
                            "tagged fields at offset 0: tagged field count 127 cannot fit in the 2 bytes left");
        kafka_wire_rd_init(&r, order, sizeof order);
        kafka_wire_rd_tags(&r, "tagged fields");
        assert_string_equal(r.msg, "tagged fields at offset 3: tag 3 after tag 5 (must increase)");
}

/* ---- encoders ---------------------------------------------------------------- */

/* "lambdaops" */
#define LO_BYTES 0x6c, 0x61, 0x6d, 0x62, 0x64, 0x61, 0x6f, 0x70, 0x73
/* "__cluster_metadata" */
#define CM_BYTES 0x5f, 0x5f, 0x63, 0x6c, 0x75, 0x73, 0x74, 0x65, 0x72, 0x5f, \
                 0x6d, 0x65, 0x74, 0x61, 0x64, 0x61, 0x74, 0x61

/* DescribeQuorum v2 request, correlation id 2, client id "lambdaops". */
static const uint8_t dq_req_v2[] = {
        0x00, 0x00, 0x00, 0x30,         /* size 48 */
        0x00, 0x37,                     /* api_key 55 */
        0x00, 0x02,                     /* api_version 2 */
        0x00, 0x00, 0x00, 0x02,         /* correlation_id 2 */
        0x00, 0x09, LO_BYTES,           /* client_id: int16 length even in header v2 */
        0x00,                           /* header tagged fields: none */
        0x02,                           /* topics: compact, 1 */
        0x13, CM_BYTES,                 /*   topic_name: compact, 18 bytes */
        0x02,                           /*   partitions: compact, 1 */
        0x00, 0x00, 0x00, 0x00,         /*     partition_index 0 */
        0x00,                           /*     partition tags */
        0x00,                           /*   topic tags */
        0x00,                           /* request tags */
};

static void test_enc_header(void **state)
{
        static const uint8_t v1[] = {
                0x00, 0x12,             /* api_key 18 */
                0x00, 0x01,             /* api_version 1 */
                0x00, 0x00, 0x00, 0x05, /* correlation_id 5 */
                0xff, 0xff,             /* client_id null */
        };
        static const uint8_t v2[] = {
                0x00, 0x37,             /* api_key 55 */
                0x00, 0x00,             /* api_version 0 */
                0x7f, 0xff, 0xff, 0xff, /* correlation_id INT32_MAX */
                0x00, 0x02, 'i', 'd',   /* client_id "id" (int16 length) */
                0x00,                   /* tagged fields: none */
        };
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        kafka_wire_enc_req_header(&w, 1, 18, 1, 5, NULL);
        assert_int_equal(w.len, sizeof v1);
        assert_memory_equal(w.buf, v1, sizeof v1);
        w.len = 0;
        kafka_wire_enc_req_header(&w, 2, 55, 0, INT32_MAX, "id");
        assert_int_equal(w.len, sizeof v2);
        assert_memory_equal(w.buf, v2, sizeof v2);
        kafka_wire_wr_done(&w);
}

static void test_enc_api_versions(void **state)
{
        uint8_t v0[] = {
                0x00, 0x00, 0x00, 0x13, /* size 19 */
                0x00, 0x12,             /* api_key 18 */
                0x00, 0x00,             /* api_version (patched below: 0, 1, 2) */
                0x00, 0x00, 0x00, 0x01, /* correlation_id 1 */
                0x00, 0x09, LO_BYTES,   /* client_id "lambdaops" */
                                        /* body: empty in v0-v2 */
        };
        static const uint8_t v3[] = {
                0x00, 0x00, 0x00, 0x25, /* size 37 */
                0x00, 0x12,             /* api_key 18 */
                0x00, 0x03,             /* api_version 3 */
                0x00, 0x00, 0x00, 0x01, /* correlation_id 1 */
                0x00, 0x09, LO_BYTES,   /* client_id "lambdaops" */
                0x00,                   /* header v2 tagged fields: none */
                0x0a, LO_BYTES,         /* client_software_name: compact, 9 bytes */
                0x06, '0', '.', '1', '.', '0',  /* client_software_version "0.1.0" */
                0x00,                   /* tagged fields: none */
        };
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        for (int v = 0; v <= 2; v++) {
                w.len = 0;
                v0[7] = (uint8_t)v;
                kafka_wire_enc_api_versions(&w, (int16_t)v, 1, "lambdaops", "x", "y");
                assert_int_equal(w.len, sizeof v0);
                assert_memory_equal(w.buf, v0, sizeof v0);
        }
        w.len = 0;
        kafka_wire_enc_api_versions(&w, 3, 1, "lambdaops", "lambdaops", "0.1.0");
        assert_int_equal(w.len, sizeof v3);
        assert_memory_equal(w.buf, v3, sizeof v3);
        kafka_wire_wr_done(&w);
}

static void test_enc_describe_quorum(void **state)
{
        uint8_t want[sizeof dq_req_v2];
        struct kafka_wire_wr w;

        (void)state;
        kafka_wire_wr_init(&w);
        /* The body is identical in v0, v1 and v2; only api_version moves. */
        for (int v = 0; v <= 2; v++) {
                memcpy(want, dq_req_v2, sizeof want);
                want[7] = (uint8_t)v;
                w.len = 0;
                kafka_wire_enc_describe_quorum(&w, (int16_t)v, 2, "lambdaops");
                assert_int_equal(w.len, sizeof want);
                assert_memory_equal(w.buf, want, sizeof want);
        }
        /* Two frames back to back in one writer. */
        w.len = 0;
        kafka_wire_enc_api_versions(&w, 0, 1, "lambdaops", NULL, NULL);
        kafka_wire_enc_describe_quorum(&w, 2, 2, "lambdaops");
        assert_int_equal(w.len, 23 + sizeof dq_req_v2);
        assert_memory_equal(w.buf + 23, dq_req_v2, sizeof dq_req_v2);
        kafka_wire_wr_done(&w);
}

static void test_sanitize_sw(void **state)
{
        static const struct {
                const char *in, *out;
        } c[] = {
                { "0.1.0", "0.1.0" },
                { "0.1.0+git.abc", "0.1.0-git.abc" },
                { "-x-", "x" },
                { ".1.", "1" },
                { "a b", "a-b" },
                { "", "unknown" },
                { "++", "unknown" },
                { NULL, "unknown" },
        };
        char buf[32], small[4];

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(c); i++) {
                kafka_wire_sanitize_sw(c[i].in, buf, sizeof buf);
                assert_string_equal(buf, c[i].out);
        }
        kafka_wire_sanitize_sw("1.2.3.4", small, sizeof small);
        assert_string_equal(small, "1.2");
        kafka_wire_sanitize_sw("1.-x", small, sizeof small);
        assert_string_equal(small, "1");
}

/* ---- decoders ---------------------------------------------------------------- */

static void test_dec_api_versions(void **state)
{
        struct kafka_wire_api_versions av;
        struct err e;
        size_t n;
        uint8_t *b;

        (void)state;
        b = fixture("api_versions_v0.hex", &n);
        assert_int_equal(kafka_wire_dec_api_versions(b, n, 0, &av, &e), 0);
        assert_int_equal(av.version, 0);
        assert_int_equal(av.correlation_id, 7);
        assert_int_equal(av.error_code, 0);
        assert_int_equal(av.throttle_ms, 0);
        assert_int_equal(av.n_keys, 2);
        assert_int_equal(av.keys[0].key, 18);
        assert_int_equal(av.keys[0].min, 0);
        assert_int_equal(av.keys[0].max, 2);
        assert_int_equal(av.keys[1].key, 55);
        assert_int_equal(av.keys[1].max, 1);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), 1);
        kafka_wire_api_versions_done(&av);
        /* The same body is not a v1 response (no throttle time). */
        assert_int_equal(kafka_wire_dec_api_versions(b, n, 1, &av, &e), -1);
        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_string_equal(e.msg, "malformed ApiVersions v1 response: "
                            "throttle_time_ms at offset 22: needs 4 bytes, 0 left");
        assert_null(av.keys);
        free(b);

        b = fixture("api_versions_v3.hex", &n);
        assert_int_equal(kafka_wire_dec_api_versions(b, n, 3, &av, &e), 0);
        assert_int_equal(av.version, 3);
        assert_int_equal(av.correlation_id, 1);
        assert_int_equal(av.n_keys, 3);
        assert_int_equal(av.keys[2].key, 3);
        assert_int_equal(av.keys[2].max, 12);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), 2);
        assert_int_equal(kafka_wire_pick_version(&av, 3, 0, 2), 2);
        assert_int_equal(kafka_wire_pick_version(&av, 60, 0, 1), -1);
        kafka_wire_api_versions_done(&av);
        free(b);
}

static void test_dec_api_versions_v1_v2(void **state)
{
        uint8_t b[] = {
                0x00, 0x00, 0x00, 0x09, /* correlation_id 9 */
                0x00, 0x00,             /* error_code 0 */
                0x00, 0x00, 0x00, 0x01, /* api_keys: 1 */
                0x00, 0x37, 0x00, 0x00, 0x00, 0x01,     /* 55: 0..1 */
                0x00, 0x00, 0x00, 0x64, /* throttle_time_ms 100 */
        };
        struct kafka_wire_api_versions av;
        struct err e;

        (void)state;
        for (int v = 1; v <= 2; v++) {
                assert_int_equal(kafka_wire_dec_api_versions(b, sizeof b, (int16_t)v, &av, &e), 0);
                assert_int_equal(av.version, v);
                assert_int_equal(av.throttle_ms, 100);
                assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), 1);
                assert_int_equal(kafka_wire_pick_version(&av, 55, 2, 2), -1);
                kafka_wire_api_versions_done(&av);
                /* One byte short of the throttle time. */
                assert_int_equal(kafka_wire_dec_api_versions(b, sizeof b - 1, (int16_t)v, &av, &e),
                                 -1);
                assert_contains(e.msg, "throttle_time_ms at offset 16: needs 4 bytes, 3 left");
        }
        /* Trailing garbage after a complete v0 message. */
        assert_int_equal(kafka_wire_dec_api_versions(b, sizeof b, 0, &av, &e), -1);
        assert_string_equal(e.msg, "malformed ApiVersions v0 response: "
                            "end of message at offset 16: 4 unexpected trailing bytes");
}

static void test_dec_api_versions_unsupported(void **state)
{
        struct kafka_wire_api_versions av;
        struct err e;
        size_t n;
        uint8_t *b = fixture("api_versions_unsupported.hex", &n);

        (void)state;
        /* Asked v3, got the v0 layout with UNSUPPORTED_VERSION. */
        assert_int_equal(kafka_wire_dec_api_versions(b, n, 3, &av, &e), 0);
        assert_int_equal(av.version, 0);
        assert_int_equal(av.error_code, KWIRE_ERR_UNSUPPORTED_VERSION);
        assert_int_equal(av.n_keys, 1);
        assert_int_equal(kafka_wire_pick_version(&av, 18, 0, 2), 2);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), -1);
        kafka_wire_api_versions_done(&av);
        free(b);

        /* librdkafka's mock refuses in a layout of its own: unreadable,
         * and refused cleanly (the client then falls back to v0). */
        b = fixture("api_versions_mock_unsupported.hex", &n);
        assert_int_equal(kafka_wire_dec_api_versions(b, n, 3, &av, &e), -1);
        assert_string_equal(e.msg, "malformed ApiVersions v0 response: api_keys at offset 6: "
                            "array count 16781824 cannot fit in the 7 bytes left");
        assert_null(av.keys);
        free(b);
}

static void test_pick_version(void **state)
{
        struct kafka_wire_api_range keys[] = {
                { 55, 0, 2 }, { 18, 0, 3 }, { 1, 3, 5 }, { 60, 1, 1 },
        };
        struct kafka_wire_api_versions av = { .keys = keys, .n_keys = LO_ARRAY_LEN(keys) };

        (void)state;
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), 2);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 1), 1);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 2, 9), 2);
        assert_int_equal(kafka_wire_pick_version(&av, 55, 3, 9), -1);
        assert_int_equal(kafka_wire_pick_version(&av, 1, 0, 2), -1);        /* broker 3..5 */
        assert_int_equal(kafka_wire_pick_version(&av, 1, 0, 4), 4);
        assert_int_equal(kafka_wire_pick_version(&av, 60, 0, 0), -1);
        assert_int_equal(kafka_wire_pick_version(&av, 99, 0, 9), -1);       /* absent */
        av.n_keys = 0;
        assert_int_equal(kafka_wire_pick_version(&av, 55, 0, 2), -1);
}

static void check_quorum_common(const struct kafka_wire_quorum *q, int v)
{
        assert_int_equal(q->version, v);
        assert_int_equal(q->error_code, 0);
        assert_null(q->error_message);
        assert_true(q->has_partition);
        assert_string_equal(q->topic, "__cluster_metadata");
        assert_int_equal(q->partition, 0);
        assert_int_equal(q->part_error_code, 0);
        assert_null(q->part_error_message);
        assert_int_equal(q->leader_id, 3000);
        assert_int_equal(q->leader_epoch, 12);
        assert_true(q->high_watermark == 482113);
        assert_int_equal(q->n_voters, 3);
        assert_int_equal(q->voters[0].id, 3000);
        assert_int_equal(q->voters[1].id, 3001);
        assert_int_equal(q->voters[2].id, 3002);
        assert_true(q->voters[0].log_end_offset == 482113);
        assert_true(q->voters[1].log_end_offset == 482113);
        assert_true(q->voters[2].log_end_offset == 481990);
        assert_int_equal(q->n_observers, 1);
        assert_int_equal(q->observers[0].id, 0);
        assert_true(q->observers[0].log_end_offset == 482113);
        if (v == 0) {
                for (size_t i = 0; i < 3; i++) {
                        assert_true(q->voters[i].last_fetch_ms == -1);
                        assert_true(q->voters[i].last_caught_up_ms == -1);
                }
                assert_true(q->observers[0].last_fetch_ms == -1);
        } else {
                assert_true(q->voters[0].last_fetch_ms == -1);
                assert_true(q->voters[0].last_caught_up_ms == 1714557600123LL);
                assert_true(q->voters[1].last_fetch_ms == 1714557600050LL);
                assert_true(q->voters[1].last_caught_up_ms == 1714557600050LL);
                assert_true(q->voters[2].last_fetch_ms == 1714557598000LL);
                assert_true(q->voters[2].last_caught_up_ms == 1714557590000LL);
                assert_true(q->observers[0].last_fetch_ms == 1714557600070LL);
                assert_true(q->observers[0].last_caught_up_ms == 1714557600070LL);
        }
}

static void test_dec_dq_v0_v1(void **state)
{
        static const uint8_t zero[16];
        struct kafka_wire_quorum q;
        struct err e;
        size_t n;
        uint8_t *b;

        (void)state;
        b = fixture("describe_quorum_v0.hex", &n);
        assert_int_equal(kafka_wire_dec_describe_quorum(b, n, 0, &q, &e), 0);
        assert_int_equal(q.correlation_id, 2);
        check_quorum_common(&q, 0);
        assert_memory_equal(q.voters[0].directory_id, zero, 16);
        assert_int_equal(q.n_nodes, 0);
        kafka_wire_quorum_done(&q);
        assert_null(q.voters);
        free(b);

        /* v1 carries a partition tagged field (HighWatermarkUpdateTimeMs,
         * from an unreleased revision): skipped. */
        b = fixture("describe_quorum_v1.hex", &n);
        assert_int_equal(kafka_wire_dec_describe_quorum(b, n, 1, &q, &e), 0);
        check_quorum_common(&q, 1);
        assert_int_equal(q.n_nodes, 0);
        kafka_wire_quorum_done(&q);
        free(b);
}

static void test_dec_dq_v2(void **state)
{
        static const uint8_t d0[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        static const uint8_t zero[16];
        struct kafka_wire_quorum q;
        struct err e;
        size_t n;
        uint8_t *b = fixture("describe_quorum_v2.hex", &n);

        (void)state;
        assert_int_equal(kafka_wire_dec_describe_quorum(b, n, 2, &q, &e), 0);
        check_quorum_common(&q, 2);
        assert_memory_equal(q.voters[0].directory_id, d0, 16);
        assert_memory_equal(q.voters[1].directory_id, zero, 16);
        assert_int_equal(q.voters[2].directory_id[0], 0xff);
        assert_int_equal(q.voters[2].directory_id[15], 0x00);
        assert_int_equal(q.observers[0].directory_id[0], 0x10);
        assert_int_equal(q.n_nodes, 3);
        assert_int_equal(q.nodes[0].id, 3000);
        assert_int_equal(q.nodes[0].n_listeners, 1);
        assert_string_equal(q.nodes[0].listeners[0].name, "CONTROLLER");
        assert_string_equal(q.nodes[0].listeners[0].host, "ctrl-0.kafka");
        assert_int_equal(q.nodes[0].listeners[0].port, 9093);
        assert_int_equal(q.nodes[1].id, 3001);
        assert_string_equal(q.nodes[1].listeners[0].host, "ctrl-1.kafka");
        assert_int_equal(q.nodes[2].id, 3002);
        assert_int_equal(q.nodes[2].n_listeners, 0);
        assert_null(q.nodes[2].listeners);
        kafka_wire_quorum_done(&q);
        /* Not a v1 response: the first byte after error_code is read as a
         * topics count and the rest no longer lines up. */
        assert_int_equal(kafka_wire_dec_describe_quorum(b, n, 1, &q, &e), -1);
        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "malformed DescribeQuorum v1 response: ");
        assert_null(q.voters);
        free(b);
}

/* A v2 response with errors and two partitions, built with the writer
 * (checked byte for byte above). */
static void build_dq_v2_errors(struct kafka_wire_wr *w, int32_t corr, bool frame)
{
        size_t at = 0;

        if (frame)
                at = kafka_wire_wr_frame_begin(w);
        kafka_wire_wr_i32(w, corr);          /* correlation_id */
        kafka_wire_wr_tags_empty(w);         /* header tags */
        kafka_wire_wr_i16(w, 0);             /* error_code */
        kafka_wire_wr_string(w, NULL, true); /* error_message */
        kafka_wire_wr_array_len(w, 1, true); /* topics */
        kafka_wire_wr_string(w, KWIRE_METADATA_TOPIC, true);
        kafka_wire_wr_array_len(w, 2, true); /* partitions: 2 */
        for (int p = 0; p < 2; p++) {
                kafka_wire_wr_i32(w, p);                             /* partition_index */
                kafka_wire_wr_i16(w, KWIRE_ERR_NOT_LEADER_OR_FOLLOWER);
                kafka_wire_wr_string(w, p == 0 ? "not leader" : "other", true);
                kafka_wire_wr_i32(w, -1);                            /* leader_id unknown */
                kafka_wire_wr_i32(w, 7);                             /* leader_epoch */
                kafka_wire_wr_i64(w, -1);                            /* high_watermark */
                kafka_wire_wr_array_len(w, 1, true);                 /* voters: 1 */
                kafka_wire_wr_i32(w, 3001);
                kafka_wire_wr_uuid(w, (const uint8_t[16]){ 0 });
                kafka_wire_wr_i64(w, -1);
                kafka_wire_wr_i64(w, -1);
                kafka_wire_wr_i64(w, -1);
                kafka_wire_wr_tags_empty(w);
                kafka_wire_wr_array_len(w, 0, true);                 /* observers: none */
                kafka_wire_wr_tags_empty(w);
        }
        kafka_wire_wr_tags_empty(w);         /* topic tags */
        kafka_wire_wr_array_len(w, 0, true); /* nodes: none */
        kafka_wire_wr_tags_empty(w);
        if (frame)
                kafka_wire_wr_frame_end(w, at);
}

static void test_dec_dq_errors(void **state)
{
        static const uint8_t top_err[] = {
                0x00, 0x00, 0x00, 0x02,         /* correlation_id */
                0x00,                           /* header tags */
                0x00, 0x1f,                     /* error_code 31 */
                0x0d, 'n', 'o', 't', ' ', 'a', 'l', 'l', 'o', 'w', 'e', 'd', '!',
                                                /* error_message "not allowed!" */
                0x01,                           /* topics: none */
                0x01,                           /* nodes: none */
                0x00,                           /* tags */
        };
        struct kafka_wire_quorum q;
        struct kafka_wire_wr w;
        struct err e;

        (void)state;
        kafka_wire_wr_init(&w);
        build_dq_v2_errors(&w, 2, false);
        assert_int_equal(kafka_wire_dec_describe_quorum(w.buf, w.len, 2, &q, &e), 0);
        assert_true(q.has_partition);
        assert_int_equal(q.part_error_code, 6);
        assert_string_equal(q.part_error_message, "not leader");   /* the first partition */
        assert_int_equal(q.leader_id, -1);
        assert_true(q.high_watermark == -1);
        assert_int_equal(q.n_voters, 1);
        assert_true(q.voters[0].log_end_offset == -1);
        kafka_wire_quorum_done(&q);
        kafka_wire_wr_done(&w);

        assert_int_equal(kafka_wire_dec_describe_quorum(top_err, sizeof top_err, 2, &q, &e), 0);
        assert_int_equal(q.error_code, 31);
        assert_string_equal(q.error_message, "not allowed!");
        assert_false(q.has_partition);
        assert_null(q.topic);
        kafka_wire_quorum_done(&q);

        assert_string_equal(kafka_wire_error_name(35), "UNSUPPORTED_VERSION");
        assert_string_equal(kafka_wire_error_name(31), "CLUSTER_AUTHORIZATION_FAILED");
        assert_string_equal(kafka_wire_error_name(6), "NOT_LEADER_OR_FOLLOWER");
        assert_string_equal(kafka_wire_error_name(42), "INVALID_REQUEST");
        assert_string_equal(kafka_wire_error_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
        assert_null(kafka_wire_error_name(12345));
}

/* Every strict prefix of a valid message must fail with a message, and
 * every byte appended must fail too. Leaks show under ASan. */
static void truncate_all(const uint8_t *b, size_t n, bool dq, int16_t v)
{
        uint8_t *copy;

        for (size_t k = 0; k < n; k++) {
                struct err e;
                int rc;

                /* A fresh heap copy of exactly k bytes, so ASan catches
                 * any read past the end. */
                copy = xmalloc(k ? k : 1);
                memcpy(copy, b, k);
                err_clear(&e);
                if (dq) {
                        struct kafka_wire_quorum q;

                        rc = kafka_wire_dec_describe_quorum(copy, k, v, &q, &e);
                        assert_null(q.voters);
                        assert_null(q.topic);
                        kafka_wire_quorum_done(&q);
                } else {
                        struct kafka_wire_api_versions av;

                        rc = kafka_wire_dec_api_versions(copy, k, v, &av, &e);
                        assert_null(av.keys);
                        kafka_wire_api_versions_done(&av);
                }
                free(copy);
                if (rc != -1)
                        fail_msg("prefix of %zu/%zu bytes decoded (v%d)", k, n, v);
                assert_int_equal(e.code, KWIRE_E_PROTO);
                assert_contains(e.msg, "malformed ");
                assert_contains(e.msg, " at offset ");
        }
        copy = xmalloc(n + 1);
        memcpy(copy, b, n);
        copy[n] = 0;
        {
                struct err e;
                struct kafka_wire_quorum q;
                struct kafka_wire_api_versions av;
                int rc = dq ? kafka_wire_dec_describe_quorum(copy, n + 1, v, &q, &e)
                            : kafka_wire_dec_api_versions(copy, n + 1, v, &av, &e);

                assert_int_equal(rc, -1);
                assert_contains(e.msg, "1 unexpected trailing bytes");
        }
        free(copy);
}

static void test_dec_truncated_everywhere(void **state)
{
        static const struct {
                const char *file;
                bool dq;
                int16_t v;
        } f[] = {
                { "api_versions_v0.hex", false, 0 },
                { "api_versions_v3.hex", false, 3 },
                { "api_versions_unsupported.hex", false, 3 },
                { "describe_quorum_v0.hex", true, 0 },
                { "describe_quorum_v1.hex", true, 1 },
                { "describe_quorum_v2.hex", true, 2 },
        };
        struct kafka_wire_wr w;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(f); i++) {
                size_t n;
                uint8_t *b = fixture(f[i].file, &n);

                truncate_all(b, n, f[i].dq, f[i].v);
                free(b);
        }
        kafka_wire_wr_init(&w);
        build_dq_v2_errors(&w, 2, false);
        truncate_all(w.buf, w.len, true, 2);
        kafka_wire_wr_done(&w);
}

static void test_dec_hostile(void **state)
{
        static const uint8_t voters_huge[] = {
                0x00, 0x00, 0x00, 0x02, 0x00,   /* correlation_id, header tags */
                0x00, 0x00,                     /* error_code */
                0x02, 0x01,                     /* topics: 1, topic_name "" */
                0x02,                           /* partitions: 1 */
                0, 0, 0, 0, 0, 0,               /* partition_index, error_code */
                0, 0, 0, 1, 0, 0, 0, 1,         /* leader_id, leader_epoch */
                0, 0, 0, 0, 0, 0, 0, 1,         /* high_watermark */
                0xff, 0xff, 0xff, 0xff, 0x0f,   /* current_voters: 4294967294 */
                0x01, 0x00, 0x00, 0x00, 0x00,
        };
        static const uint8_t name_huge[] = {
                0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
                0x02,                           /* topics: 1 */
                0xf0, 0xff, 0xff, 0xff, 0x07,   /* topic_name: 2 GiB */
                0x00,
        };
        static const uint8_t tags_overflow[] = {
                0x00, 0x00, 0x00, 0x02,
                0x80, 0x80, 0x80, 0x80, 0x80, 0x01,     /* header tags: 6-byte varint */
        };
        static const uint8_t av_huge[] = {
                0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                0x7f, 0xff, 0xff, 0xff,         /* api_keys: INT32_MAX */
                0x00, 0x12, 0x00, 0x00, 0x00, 0x03,
        };
        static const uint8_t av_neg[] = {
                0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                0x80, 0x00, 0x00, 0x00,         /* api_keys: INT32_MIN */
        };
        static const uint8_t av3_huge[] = {
                0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
                0xff, 0xff, 0xff, 0xff, 0x0f,   /* compact api_keys: 4294967294 */
                0x00, 0x00, 0x00, 0x00, 0x00,
        };
        struct kafka_wire_quorum q;
        struct kafka_wire_api_versions av;
        struct err e;

        (void)state;
        assert_int_equal(kafka_wire_dec_describe_quorum(voters_huge, sizeof voters_huge, 0, &q,
                                                        &e), -1);
        assert_string_equal(e.msg, "malformed DescribeQuorum v0 response: current_voters at "
                            "offset 32: array count 4294967294 cannot fit in the 5 bytes left");
        assert_int_equal(kafka_wire_dec_describe_quorum(name_huge, sizeof name_huge, 1, &q, &e),
                         -1);
        assert_contains(e.msg, "topics[].topic_name at offset 8: string length");
        assert_int_equal(kafka_wire_dec_describe_quorum(tags_overflow, sizeof tags_overflow, 2, &q,
                                                        &e), -1);
        assert_string_equal(e.msg, "malformed DescribeQuorum v2 response: header tagged fields "
                            "at offset 4: varint overflows 32 bits");
        assert_int_equal(kafka_wire_dec_api_versions(av_huge, sizeof av_huge, 0, &av, &e), -1);
        assert_contains(e.msg, "api_keys at offset 6: array count 2147483647 cannot fit");
        assert_int_equal(kafka_wire_dec_api_versions(av_neg, sizeof av_neg, 2, &av, &e), -1);
        assert_contains(e.msg, "api_keys at offset 6: invalid array count -2147483648");
        assert_int_equal(kafka_wire_dec_api_versions(av3_huge, sizeof av3_huge, 3, &av, &e), -1);
        assert_contains(e.msg, "api_keys at offset 6: array count 4294967294 cannot fit");
        /* Empty input. */
        assert_int_equal(kafka_wire_dec_api_versions(NULL, 0, 0, &av, &e), -1);
        assert_int_equal(kafka_wire_dec_describe_quorum("", 0, 0, &q, &e), -1);
        assert_contains(e.msg, "correlation_id at offset 0: needs 4 bytes, 0 left");
}

/* ---- responder ---------------------------------------------------------------- */

enum rmode {
        RM_OK,                  /* a normal exchange */
        RM_TRUNCATED,           /* DescribeQuorum answer cut in half, then close */
        RM_GARBAGE,             /* HTTP text instead of an ApiVersions answer */
        RM_TLS,                 /* a TLS alert record, as a TLS listener sends */
        RM_GARBAGE_FRAME,       /* well-framed DescribeQuorum answer with a junk body */
        RM_SILENT,              /* reads ApiVersions, never answers */
        RM_CLOSE,               /* closes at once */
        RM_NO_DQ,               /* ApiVersions without key 55 */
        RM_AV_UNSUPPORTED,      /* refuses ApiVersions v3 (answers v0), accepts v2 */
        RM_AV_MOCK,             /* refuses v3 as librdkafka's mock does, accepts v0 */
        RM_BROKER_ERR,          /* partition error NOT_LEADER_OR_FOLLOWER */
        RM_WRONG_CORR,          /* DescribeQuorum answer with another correlation id */
        RM_CLOSE_AFTER_AV,      /* closes instead of answering DescribeQuorum */
        RM_SASL,                /* SASL PLAIN (user "lo", password "pw-secret"), then DQ */
        RM_SASL_NO_PLAIN,       /* SaslHandshake: UNSUPPORTED_SASL_MECHANISM */
        RM_SASL_BAD,            /* SaslAuthenticate: SASL_AUTHENTICATION_FAILED */
};

struct responder {
        int lfd;
        int port;
        enum rmode mode;
        int dq_max;                     /* DescribeQuorum max version advertised */
        const uint8_t *dq_fix[3];       /* response fixtures by version */
        size_t dq_len[3];
        const uint8_t *mock_av;         /* api_versions_mock_unsupported.hex */
        size_t mock_av_len;
        pthread_t th;
        /* Results, read after join. */
        char fail[256];                 /* first failed check, "" if none */
        int av_versions[4];
        int n_av;
        int dq_version;                 /* -1 if no DescribeQuorum came */
};

static void rfail(struct responder *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void rfail(struct responder *r, const char *fmt, ...)
{
        va_list ap;

        if (r->fail[0])
                return;
        va_start(ap, fmt);
        vsnprintf(r->fail, sizeof r->fail, fmt, ap);
        va_end(ap);
}

/* Blocking helpers with a 5 s ceiling so a broken client cannot hang us. */
static int r_read(int fd, uint8_t *buf, size_t n)
{
        size_t got = 0;

        while (got < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                if (poll(&p, 1, 5000) <= 0)
                        return -1;
                k = recv(fd, buf + got, n - got, 0);
                if (k <= 0)
                        return -1;
                got += (size_t)k;
        }
        return 0;
}

static void r_write(int fd, const void *buf, size_t n)
{
        const uint8_t *p = buf;

        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k <= 0)
                        return;
                p += k;
                n -= (size_t)k;
        }
}

/* Reads one request frame; returns the body (owned) or NULL. */
static uint8_t *r_frame(int fd, size_t *len)
{
        uint8_t h[4], *b;
        uint32_t n;

        if (r_read(fd, h, 4))
                return NULL;
        n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
        if (n == 0 || n > 4096)
                return NULL;
        b = xmalloc(n);
        if (r_read(fd, b, n)) {
                free(b);
                return NULL;
        }
        *len = n;
        return b;
}

static bool sw_ok(struct kafka_wire_str s)
{
        /* [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? */
        if (s.len <= 0 || !isalnum((unsigned char)s.p[0]) || !isalnum((unsigned char)s.p[s.len - 1]))
                return false;
        for (int32_t i = 0; i < s.len; i++)
                if (!isalnum((unsigned char)s.p[i]) && s.p[i] != '.' && s.p[i] != '-')
                        return false;
        return true;
}

/* Checks an ApiVersions request; returns its version and correlation id. */
static int r_check_av(struct responder *r, const uint8_t *b, size_t n, int32_t *corr)
{
        struct kafka_wire_rd rd;
        struct kafka_wire_str s;
        int16_t key, v;

        kafka_wire_rd_init(&rd, b, n);
        key = kafka_wire_rd_i16(&rd, "api_key");
        v = kafka_wire_rd_i16(&rd, "api_version");
        *corr = kafka_wire_rd_i32(&rd, "correlation_id");
        kafka_wire_rd_string(&rd, "client_id", false, true, &s);
        if (key != 18)
                rfail(r, "expected ApiVersions, got api key %d", key);
        if (s.len != 9 || memcmp(s.p, "lambdaops", 9) != 0)
                rfail(r, "client id not lambdaops");
        if (v >= 3) {
                kafka_wire_rd_tags(&rd, "header tags");
                kafka_wire_rd_string(&rd, "sw name", true, false, &s);
                if (!rd.bad && !sw_ok(s))
                        rfail(r, "bad client software name");
                kafka_wire_rd_string(&rd, "sw version", true, false, &s);
                if (!rd.bad && !sw_ok(s))
                        rfail(r, "bad client software version '%.*s'", (int)s.len, s.p);
                kafka_wire_rd_tags(&rd, "tags");
        }
        if (rd.bad || rd.off != rd.len)
                rfail(r, "bad ApiVersions request: %s", rd.bad ? rd.msg : "trailing bytes");
        if (r->n_av < 4)
                r->av_versions[r->n_av++] = v;
        return v;
}

/* An ApiVersions answer in layout `v`. */
static void r_send_av(struct responder *r, int fd, int v, int32_t corr)
{
        struct kafka_wire_wr w;
        size_t at;
        bool flex = v >= 3;
        bool sasl = r->mode >= RM_SASL;
        int n = (r->mode == RM_NO_DQ ? 2 : 3) + (sasl ? 2 : 0);

        kafka_wire_wr_init(&w);
        at = kafka_wire_wr_frame_begin(&w);
        kafka_wire_wr_i32(&w, corr);
        kafka_wire_wr_i16(&w, 0);
        kafka_wire_wr_array_len(&w, (size_t)n, flex);
        kafka_wire_wr_i16(&w, 18);
        kafka_wire_wr_i16(&w, 0);
        kafka_wire_wr_i16(&w, r->mode == RM_AV_UNSUPPORTED ? 2 : 3);
        if (flex)
                kafka_wire_wr_tags_empty(&w);
        kafka_wire_wr_i16(&w, 3);
        kafka_wire_wr_i16(&w, 0);
        kafka_wire_wr_i16(&w, 12);
        if (flex)
                kafka_wire_wr_tags_empty(&w);
        if (sasl) {
                kafka_wire_wr_i16(&w, 17);
                kafka_wire_wr_i16(&w, 0);
                kafka_wire_wr_i16(&w, 1);
                if (flex)
                        kafka_wire_wr_tags_empty(&w);
                kafka_wire_wr_i16(&w, 36);
                kafka_wire_wr_i16(&w, 0);
                kafka_wire_wr_i16(&w, 2);
                if (flex)
                        kafka_wire_wr_tags_empty(&w);
        }
        if (r->mode != RM_NO_DQ) {
                kafka_wire_wr_i16(&w, 55);
                kafka_wire_wr_i16(&w, 0);
                kafka_wire_wr_i16(&w, (int16_t)r->dq_max);
                if (flex)
                        kafka_wire_wr_tags_empty(&w);
        }
        if (v >= 1)
                kafka_wire_wr_i32(&w, 0);
        if (flex)
                kafka_wire_wr_tags_empty(&w);
        kafka_wire_wr_frame_end(&w, at);
        r_write(fd, w.buf, w.len);
        kafka_wire_wr_done(&w);
}

static void r_send_unsupported(int fd, int32_t corr)
{
        uint8_t b[] = {
                0x00, 0x00, 0x00, 0x10,         /* size 16 */
                0, 0, 0, 0,                     /* correlation_id (patched) */
                0x00, 0x23,                     /* UNSUPPORTED_VERSION */
                0x00, 0x00, 0x00, 0x01,         /* api_keys: 1 */
                0x00, 0x12, 0x00, 0x00, 0x00, 0x02,     /* 18: 0..2 */
        };

        put_be32(b + 4, corr);
        r_write(fd, b, sizeof b);
}

/* Waits until the client closes (or 5 s). */
static void r_wait_close(int fd)
{
        uint8_t sink[256];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, 5000) <= 0 || recv(fd, sink, sizeof sink, 0) <= 0)
                        return;
        }
}

/* Plays SaslHandshake v1 + SaslAuthenticate v2 by hand (request bytes
 * checked against the schema), then the client's second ApiVersions.
 * Returns 0 to go on with DescribeQuorum, -1 to stop. */
static int r_sasl(struct responder *r, int fd, int32_t *corr)
{
        static const uint8_t hs_req[] = {
                0x00, 0x11, 0x00, 0x01,         /* api_key 17, api_version 1 */
                0, 0, 0, 0,                     /* correlation_id (checked apart) */
                0x00, 0x09, 'l', 'a', 'm', 'b', 'd', 'a', 'o', 'p', 's',
                0x00, 0x05, 'P', 'L', 'A', 'I', 'N',    /* mechanism */
        };
        static const uint8_t au_req[] = {
                0x00, 0x24, 0x00, 0x02,         /* api_key 36, api_version 2 */
                0, 0, 0, 0,                     /* correlation_id */
                0x00, 0x09, 'l', 'a', 'm', 'b', 'd', 'a', 'o', 'p', 's',
                0x00,                           /* header tagged fields */
                0x0e,                           /* auth_bytes: compact, 13 */
                0x00, 'l', 'o', 0x00, 'p', 'w', '-', 's', 'e', 'c', 'r', 'e', 't',
                0x00,                           /* tagged fields */
        };
        uint8_t *req;
        size_t n;
        struct kafka_wire_wr w;
        size_t at;
        int32_t c;

        if (!(req = r_frame(fd, &n)))
                return rfail(r, "no SaslHandshake request"), -1;
        c = n >= 8 ? (int32_t)((uint32_t)req[4] << 24 | (uint32_t)req[5] << 16 |
                               (uint32_t)req[6] << 8 | req[7]) : -1;
        if (n != sizeof hs_req || memcmp(req, hs_req, 4) != 0 ||
            memcmp(req + 8, hs_req + 8, n - 8) != 0 || c != *corr + 1)
                rfail(r, "SaslHandshake request differs from the hand-built one");
        free(req);
        kafka_wire_wr_init(&w);
        at = kafka_wire_wr_frame_begin(&w);
        kafka_wire_wr_i32(&w, c);
        kafka_wire_wr_i16(&w, r->mode == RM_SASL_NO_PLAIN ? 33 : 0);
        kafka_wire_wr_array_len(&w, 1, false);
        kafka_wire_wr_string(&w, r->mode == RM_SASL_NO_PLAIN ? "SCRAM-SHA-512" : "PLAIN", false);
        kafka_wire_wr_frame_end(&w, at);
        r_write(fd, w.buf, w.len);
        if (r->mode == RM_SASL_NO_PLAIN) {
                kafka_wire_wr_done(&w);
                r_wait_close(fd);
                return -1;
        }
        if (!(req = r_frame(fd, &n))) {
                kafka_wire_wr_done(&w);
                return rfail(r, "no SaslAuthenticate request"), -1;
        }
        c = n >= 8 ? (int32_t)((uint32_t)req[4] << 24 | (uint32_t)req[5] << 16 |
                               (uint32_t)req[6] << 8 | req[7]) : -1;
        if (n != sizeof au_req || memcmp(req, au_req, 4) != 0 ||
            memcmp(req + 8, au_req + 8, n - 8) != 0 || c != *corr + 2)
                rfail(r, "SaslAuthenticate request differs from the hand-built one");
        free(req);
        w.len = 0;
        at = kafka_wire_wr_frame_begin(&w);
        kafka_wire_wr_i32(&w, c);
        kafka_wire_wr_tags_empty(&w);
        if (r->mode == RM_SASL_BAD) {
                kafka_wire_wr_i16(&w, 58);
                kafka_wire_wr_string(&w, "Authentication failed: Invalid username or password",
                                     true);
        } else {
                kafka_wire_wr_i16(&w, 0);
                kafka_wire_wr_string(&w, NULL, true);
        }
        kafka_wire_wr_uvarint(&w, 1);                /* auth_bytes: empty */
        kafka_wire_wr_i64(&w, 3600000);              /* session_lifetime_ms */
        kafka_wire_wr_tags_empty(&w);
        kafka_wire_wr_frame_end(&w, at);
        r_write(fd, w.buf, w.len);
        kafka_wire_wr_done(&w);
        if (r->mode == RM_SASL_BAD) {
                r_wait_close(fd);
                return -1;
        }
        if (!(req = r_frame(fd, &n)))
                return rfail(r, "no ApiVersions request after SASL"), -1;
        (void)r_check_av(r, req, n, corr);
        free(req);
        r_send_av(r, fd, 3, *corr);
        return 0;
}

static void *responder_main(void *arg)
{
        struct responder *r = arg;
        struct pollfd p = { .fd = r->lfd, .events = POLLIN };
        uint8_t *req = NULL;
        size_t n;
        int fd, v;
        int32_t corr;

        r->dq_version = -1;
        if (poll(&p, 1, 5000) <= 0) {
                rfail(r, "no connection");
                return NULL;
        }
        fd = accept(r->lfd, NULL, NULL);
        if (fd < 0) {
                rfail(r, "accept: %s", strerror(errno));
                return NULL;
        }
        if (r->mode == RM_CLOSE)
                goto out;
        if (r->mode == RM_SILENT) {
                /* Reads whatever comes (the client may be stopped before it
                 * sends anything), never answers. */
                r_wait_close(fd);
                goto out;
        }
        if (!(req = r_frame(fd, &n))) {
                rfail(r, "no ApiVersions request");
                goto out;
        }
        v = r_check_av(r, req, n, &corr);
        free(req);
        req = NULL;
        switch (r->mode) {
        case RM_GARBAGE: {
                static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

                r_write(fd, http, sizeof http - 1);
                goto out;
        }
        case RM_TLS: {
                /* alert record, TLS 1.2, 2 bytes: fatal, protocol_version */
                static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46 };

                r_write(fd, alert, sizeof alert);
                goto out;
        }
        case RM_AV_UNSUPPORTED:
        case RM_AV_MOCK:
                if (v != 3)
                        rfail(r, "first ApiVersions should be v3, was v%d", v);
                if (r->mode == RM_AV_UNSUPPORTED) {
                        r_send_unsupported(fd, corr);
                } else {
                        uint8_t *b = xmalloc(r->mock_av_len + 4);

                        put_be32(b, (int32_t)r->mock_av_len);
                        memcpy(b + 4, r->mock_av, r->mock_av_len);
                        put_be32(b + 4, corr);
                        r_write(fd, b, r->mock_av_len + 4);
                        free(b);
                }
                if (!(req = r_frame(fd, &n))) {
                        rfail(r, "no second ApiVersions request");
                        goto out;
                }
                v = r_check_av(r, req, n, &corr);
                free(req);
                req = NULL;
                break;
        default:
                break;
        }
        r_send_av(r, fd, v, corr);
        if (r->mode >= RM_SASL && r_sasl(r, fd, &corr))
                goto out;
        if (r->mode == RM_NO_DQ) {
                r_wait_close(fd);
                goto out;
        }
        if (!(req = r_frame(fd, &n))) {
                rfail(r, "no DescribeQuorum request");
                goto out;
        }
        {
                /* The request must be the hand-built one, at the expected
                 * version, with the next correlation id. */
                uint8_t want[sizeof dq_req_v2];
                int32_t dcorr = corr + 1;

                memcpy(want, dq_req_v2, sizeof want);
                want[7] = (uint8_t)r->dq_max;
                put_be32(want + 8, dcorr);
                r->dq_version = n > 3 ? req[3] : -1;
                if (n != sizeof want - 4 || memcmp(req, want + 4, n) != 0)
                        rfail(r, "DescribeQuorum request differs from the hand-built v%d one "
                              "(correlation id %d expected)", r->dq_max, dcorr);
                if (r->mode == RM_CLOSE_AFTER_AV)
                        goto out;
                if (r->mode == RM_BROKER_ERR) {
                        struct kafka_wire_wr w;

                        kafka_wire_wr_init(&w);
                        build_dq_v2_errors(&w, dcorr, true);
                        r_write(fd, w.buf, w.len);
                        kafka_wire_wr_done(&w);
                } else {
                        const uint8_t *fx = r->dq_fix[r->dq_max];
                        size_t fl = r->dq_len[r->dq_max];
                        uint8_t *resp = xmalloc(fl + 4);

                        put_be32(resp, (int32_t)fl);
                        memcpy(resp + 4, fx, fl);
                        put_be32(resp + 4, r->mode == RM_WRONG_CORR ? dcorr + 1 : dcorr);
                        if (r->mode == RM_GARBAGE_FRAME)
                                memset(resp + 10, 0xee, fl - 6);
                        r_write(fd, resp, r->mode == RM_TRUNCATED ? 4 + fl / 2 : fl + 4);
                        free(resp);
                        if (r->mode == RM_TRUNCATED)
                                goto out;
                }
        }
        r_wait_close(fd);
out:
        free(req);
        close(fd);
        return NULL;
}

struct net_fix {
        uint8_t *dq[3];
        size_t len[3];
        uint8_t *mock_av;
        size_t mock_av_len;
};

static int net_setup(void **state)
{
        struct net_fix *f = xcalloc(1, sizeof *f);
        static const char *names[3] = {
                "describe_quorum_v0.hex", "describe_quorum_v1.hex", "describe_quorum_v2.hex",
        };

        for (int i = 0; i < 3; i++)
                f->dq[i] = fixture(names[i], &f->len[i]);
        f->mock_av = fixture("api_versions_mock_unsupported.hex", &f->mock_av_len);
        *state = f;
        return 0;
}

static int tls_group_teardown(void **state);

static int net_teardown(void **state)
{
        struct net_fix *f = *state;

        tls_group_teardown(state);
        for (int i = 0; i < 3; i++)
                free(f->dq[i]);
        free(f->mock_av);
        free(f);
        return 0;
}

static int listen_local(int *port)
{
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        assert_true(fd >= 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

static void r_start(struct responder *r, void **state, enum rmode mode, int dq_max)
{
        struct net_fix *f = *state;

        memset(r, 0, sizeof *r);
        r->mode = mode;
        r->dq_max = dq_max;
        for (int i = 0; i < 3; i++) {
                r->dq_fix[i] = f->dq[i];
                r->dq_len[i] = f->len[i];
        }
        r->mock_av = f->mock_av;
        r->mock_av_len = f->mock_av_len;
        r->lfd = listen_local(&r->port);
        assert_int_equal(pthread_create(&r->th, NULL, responder_main, r), 0);
}

static void r_join(struct responder *r)
{
        pthread_join(r->th, NULL);
        close(r->lfd);
        if (r->fail[0])
                fail_msg("responder: %s", r->fail);
}

static void ctx_init(struct coll_ctx *ctx, int64_t timeout_ms, int stop_fd)
{
        ctx->stop_fd = stop_fd;
        ctx->now_mono = clock_mono_ms();
        ctx->timeout_ms = timeout_ms;
        ctx->deadline_mono = ctx->now_mono + timeout_ms;
}

static void test_net_ok_each_version(void **state)
{
        for (int v = 0; v <= 2; v++) {
                struct responder r;
                struct coll_ctx ctx;
                struct kafka_wire_quorum q;
                struct err e;

                r_start(&r, state, RM_OK, v);
                ctx_init(&ctx, 5000, -1);
                err_clear(&e);
                if (kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e) != 0)
                        fail_msg("v%d: %s", v, e.msg);
                r_join(&r);
                assert_int_equal(r.n_av, 1);
                assert_int_equal(r.av_versions[0], 3);
                assert_int_equal(r.dq_version, v);
                check_quorum_common(&q, v);
                assert_int_equal(q.n_nodes, v == 2 ? 3 : 0);
                kafka_wire_quorum_done(&q);
        }
}

static void test_net_localhost_name(void **state)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        /* "localhost" may resolve to ::1 first: the client must try each
         * address until one answers. */
        r_start(&r, state, RM_OK, 1);
        ctx_init(&ctx, 5000, -1);
        if (kafka_wire_describe_quorum("localhost", r.port, NULL, &ctx, &q, &e) != 0)
                fail_msg("%s", e.msg);
        r_join(&r);
        assert_int_equal(q.leader_id, 3000);
        kafka_wire_quorum_done(&q);
}

static void test_net_av_fallback(void **state)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        r_start(&r, state, RM_AV_UNSUPPORTED, 2);
        ctx_init(&ctx, 5000, -1);
        if (kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e) != 0)
                fail_msg("%s", e.msg);
        r_join(&r);
        assert_int_equal(r.n_av, 2);
        assert_int_equal(r.av_versions[0], 3);
        assert_int_equal(r.av_versions[1], 2);
        assert_int_equal(r.dq_version, 2);
        assert_int_equal(q.correlation_id, 3);
        check_quorum_common(&q, 2);
        kafka_wire_quorum_done(&q);
}

static void test_net_av_fallback_mock_layout(void **state)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        /* The refusal cannot be decoded: the client asks v0 instead. */
        r_start(&r, state, RM_AV_MOCK, 1);
        ctx_init(&ctx, 5000, -1);
        if (kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e) != 0)
                fail_msg("%s", e.msg);
        r_join(&r);
        assert_int_equal(r.n_av, 2);
        assert_int_equal(r.av_versions[0], 3);
        assert_int_equal(r.av_versions[1], 0);
        assert_int_equal(r.dq_version, 1);
        check_quorum_common(&q, 1);
        kafka_wire_quorum_done(&q);
}

/* Runs one failing exchange and returns the error. */
static struct err net_fail(void **state, enum rmode mode, int dq_max, int64_t timeout_ms,
                           int64_t *elapsed)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;
        int64_t t0;

        r_start(&r, state, mode, dq_max);
        ctx_init(&ctx, timeout_ms, -1);
        err_clear(&e);
        t0 = clock_mono_ms();
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e), -1);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        kafka_wire_quorum_done(&q);
        r_join(&r);
        assert_true(e.msg[0] != '\0');
        return e;
}

static void test_net_truncated(void **state)
{
        struct net_fix *f = *state;
        struct err e = net_fail(state, RM_TRUNCATED, 2, 5000, NULL);
        char want[160];

        assert_int_equal(e.code, KWIRE_E_PROTO);
        snprintf(want, sizeof want, "truncated DescribeQuorum response from 127.0.0.1:");
        assert_contains(e.msg, want);
        snprintf(want, sizeof want, "(got %zu of %zu bytes)", f->len[2] / 2, f->len[2]);
        assert_contains(e.msg, want);
}

static void test_net_garbage(void **state)
{
        struct err e = net_fail(state, RM_GARBAGE, 2, 5000, NULL);

        /* "HTTP" read as a size is 1213486160 bytes. */
        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "ApiVersions response from 127.0.0.1:");
        assert_contains(e.msg, "announces 1213486160 bytes");
        assert_contains(e.msg, "not a plaintext Kafka listener (it looks like HTTP)");
}

static void test_net_tls_listener(void **state)
{
        struct err e = net_fail(state, RM_TLS, 2, 5000, NULL);

        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "announces 352518912 bytes");
        assert_contains(e.msg, "(it looks like TLS: is this a TLS listener?)");
}

static void test_net_garbage_frame(void **state)
{
        struct err e = net_fail(state, RM_GARBAGE_FRAME, 2, 5000, NULL);

        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "malformed DescribeQuorum v2 response: ");
        assert_contains(e.msg, " at offset ");
        assert_contains(e.msg, "(from 127.0.0.1:");
}

static void test_net_silent_times_out(void **state)
{
        int64_t elapsed;
        struct err e = net_fail(state, RM_SILENT, 2, 300, &elapsed);

        assert_int_equal(e.code, KWIRE_E_TIMEOUT);
        assert_contains(e.msg, "reading the ApiVersions response from 127.0.0.1:");
        assert_contains(e.msg, "timed out after 300 ms");
        /* Within the timeout, with a generous bound for a loaded machine. */
        if (elapsed < 250 || elapsed > 300 + 1500)
                fail_msg("timed out after %lld ms, want about 300", (long long)elapsed);
}

static void test_net_close_at_once(void **state)
{
        struct err e = net_fail(state, RM_CLOSE, 2, 5000, NULL);

        assert_int_equal(e.code, KWIRE_E_NET);
        assert_contains(e.msg, "closed the connection");
}

static void test_net_close_after_av(void **state)
{
        struct err e = net_fail(state, RM_CLOSE_AFTER_AV, 1, 5000, NULL);

        assert_int_equal(e.code, KWIRE_E_NET);
        assert_contains(e.msg, "closed the connection without answering DescribeQuorum");
}

static void test_net_no_describe_quorum(void **state)
{
        struct err e = net_fail(state, RM_NO_DQ, 2, 5000, NULL);
        char want[128];

        assert_int_equal(e.code, KWIRE_E_UNSUPPORTED);
        assert_contains(e.msg, "does not support DescribeQuorum (ZooKeeper mode or Kafka < 3.3)");
        snprintf(want, sizeof want, "127.0.0.1:");
        assert_contains(e.msg, want);
}

static void test_net_broker_error(void **state)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        r_start(&r, state, RM_BROKER_ERR, 2);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e), -1);
        r_join(&r);
        assert_int_equal(e.code, KWIRE_E_BROKER);
        assert_contains(e.msg, "DescribeQuorum on 127.0.0.1:");
        assert_contains(e.msg, "broker error code 6 (NOT_LEADER_OR_FOLLOWER): not leader; "
                        "this controller is not the quorum leader");
        /* The decoded response stays available to the caller. */
        assert_int_equal(q.part_error_code, 6);
        kafka_wire_quorum_done(&q);
}

static void test_net_wrong_corr(void **state)
{
        struct err e = net_fail(state, RM_WRONG_CORR, 1, 5000, NULL);

        assert_int_equal(e.code, KWIRE_E_PROTO);
        assert_contains(e.msg, "has correlation id 3, sent 2");
}

static void test_net_refused(void **state)
{
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;
        int port, fd = listen_local(&port);

        (void)state;
        close(fd);              /* nobody listens there now */
        ctx_init(&ctx, 2000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", port, NULL, &ctx, &q, &e), -1);
        assert_int_equal(e.code, KWIRE_E_NET);
        assert_contains(e.msg, "connection refused");
        assert_null(q.topic);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", 0, NULL, &ctx, &q, &e), -1);
        assert_string_equal(e.msg, "invalid broker address 127.0.0.1:0");
        assert_int_equal(kafka_wire_describe_quorum("", 9092, NULL, &ctx, &q, &e), -1);
        assert_int_equal(e.code, KWIRE_E_NET);
}

static void test_net_stop(void **state)
{
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;
        int pfd[2];
        int64_t t0, took;

        /* Quit requested while the broker is silent: back at once. */
        assert_int_equal(pipe(pfd), 0);
        r_start(&r, state, RM_SILENT, 2);
        assert_int_equal(write(pfd[1], "x", 1), 1);
        ctx_init(&ctx, 10000, pfd[0]);
        t0 = clock_mono_ms();
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", r.port, NULL, &ctx, &q, &e), -1);
        took = clock_mono_ms() - t0;
        r_join(&r);
        assert_int_equal(e.code, KWIRE_E_STOPPING);
        assert_true(took < 1000);
        close(pfd[0]);
        close(pfd[1]);
}

static void test_sasl_plain(void **state)
{
        const struct kafka_wire_sec sec = {
                .sasl_mechanism = "PLAIN", .sasl_username = "lo", .sasl_password = "pw-secret",
        };
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        r_start(&r, state, RM_SASL, 2);
        ctx_init(&ctx, 5000, -1);
        if (kafka_wire_describe_quorum("127.0.0.1", r.port, &sec, &ctx, &q, &e) != 0)
                fail_msg("%s", e.msg);
        r_join(&r);
        /* ApiVersions before SASL, and again on the authenticated stream. */
        assert_int_equal(r.n_av, 2);
        assert_int_equal(r.dq_version, 2);
        check_quorum_common(&q, 2);
        kafka_wire_quorum_done(&q);

        r_start(&r, state, RM_SASL_BAD, 2);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", r.port, &sec, &ctx, &q, &e), -1);
        r_join(&r);
        assert_int_equal(e.code, KWIRE_E_AUTH);
        assert_contains(e.msg, "SASL PLAIN authentication on 127.0.0.1:");
        assert_contains(e.msg, "failed: Authentication failed: Invalid username or password");
        assert_null(strstr(e.msg, "pw-secret"));
        kafka_wire_quorum_done(&q);

        r_start(&r, state, RM_SASL_NO_PLAIN, 2);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", r.port, &sec, &ctx, &q, &e), -1);
        r_join(&r);
        assert_int_equal(e.code, KWIRE_E_AUTH);
        assert_contains(e.msg, "SASL mechanism PLAIN is not enabled on 127.0.0.1:");
        assert_contains(e.msg, "(it offers: SCRAM-SHA-512)");
        kafka_wire_quorum_done(&q);
}

static void test_sasl_other_mechanism(void **state)
{
        const struct kafka_wire_sec sec = {
                .sasl_mechanism = "SCRAM-SHA-512", .sasl_username = "lo", .sasl_password = "x",
        };
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;
        int lfd, port;

        (void)state;
        lfd = listen_local(&port);
        ctx_init(&ctx, 2000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", port, &sec, &ctx, &q, &e), -1);
        assert_int_equal(e.code, KWIRE_E_AUTH);
        assert_contains(e.msg, "SASL mechanism SCRAM-SHA-512 is not supported by lambdaops's "
                        "wire client (PLAIN only)");
        kafka_wire_quorum_done(&q);
        close(lfd);
}

/* ---- TLS ------------------------------------------------------------------- */

#define SEC(t) (&(struct kafka_wire_sec){ .tls = (t) })

/* Certificates made once by the openssl CLI for the TLS tests. */
static struct tu_tls_certs tls_certs;
static bool tls_ready;

static struct kafka_wire_tls *tls_client(const char *ca, bool verify)
{
        struct kafka_wire_tls_cfg c = { .ca_location = ca, .verify = verify };
        struct err e;
        struct kafka_wire_tls *t;

        err_clear(&e);
        t = kafka_wire_tls_new(&c, &e);
        if (!t)
                fail_msg("kafka_wire_tls_new: %s", e.msg);
        return t;
}

static void tls_need(void)
{
        if (!tls_ready) {
                assert_int_equal(tu_tls_certs_make(&tls_certs), 0);
                tls_ready = true;
        }
}

/* ApiVersions + DescribeQuorum through TLS, verified against the right CA,
 * by IP address and by name (SNI and name verification). */
static void test_tls_ok(void **state)
{
        static const char *const hosts[] = { "127.0.0.1", "localhost" };

        tls_need();
        for (size_t i = 0; i < LO_ARRAY_LEN(hosts); i++) {
                struct kafka_wire_tls *t = tls_client(tls_certs.ca, true);
                struct tu_tls_front f;
                struct responder r;
                struct coll_ctx ctx;
                struct kafka_wire_quorum q;
                struct err e;

                r_start(&r, state, RM_OK, 2);
                assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_RELAY, r.port), 0);
                ctx_init(&ctx, 5000, -1);
                err_clear(&e);
                if (kafka_wire_describe_quorum(hosts[i], f.port, SEC(t), &ctx, &q, &e) != 0)
                        fail_msg("%s: %s", hosts[i], e.msg);
                tu_tls_front_stop(&f);
                r_join(&r);
                assert_true(f.handshake_ok);
                /* SNI carries names, never IP addresses. */
                assert_string_equal(f.sni, i == 0 ? "" : "localhost");
                assert_int_equal(r.dq_version, 2);
                check_quorum_common(&q, 2);
                kafka_wire_quorum_done(&q);
                kafka_wire_tls_free(t);
        }
}

static void test_tls_wrong_ca(void **state)
{
        struct kafka_wire_tls *t = tls_client(NULL, true);
        struct tu_tls_front f;
        struct responder r;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        tls_need();
        kafka_wire_tls_free(t);
        t = tls_client(tls_certs.other_ca, true);
        assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_RELAY, 0), 0);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q, &e), -1);
        tu_tls_front_stop(&f);
        assert_int_equal(e.code, KWIRE_E_TLS);
        assert_contains(e.msg, "TLS handshake with 127.0.0.1:");
        assert_contains(e.msg, "certificate verify failed: unable to get local issuer certificate");
        assert_false(f.handshake_ok);
        kafka_wire_quorum_done(&q);
        kafka_wire_tls_free(t);

        /* The right CA, but a certificate for another name. */
        {
                struct tu_tls_certs alt = tls_certs;

                str_copy(alt.cert, tls_certs.other_cert, sizeof alt.cert);
                str_copy(alt.key, tls_certs.other_key, sizeof alt.key);
                t = tls_client(tls_certs.ca, true);
                assert_int_equal(tu_tls_front_start(&f, &alt, TU_TLS_RELAY, 0), 0);
                ctx_init(&ctx, 5000, -1);
                assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q,
                                                            &e), -1);
                tu_tls_front_stop(&f);
                assert_int_equal(e.code, KWIRE_E_TLS);
                assert_contains(e.msg, "certificate verify failed: IP address mismatch");
                kafka_wire_quorum_done(&q);
                kafka_wire_tls_free(t);
        }

        /* Verification off (ssl_verify: false): the wrong CA is accepted. */
        t = tls_client(tls_certs.other_ca, false);
        r_start(&r, state, RM_OK, 1);
        assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_RELAY, r.port), 0);
        ctx_init(&ctx, 5000, -1);
        if (kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q, &e) != 0)
                fail_msg("verify off: %s", e.msg);
        tu_tls_front_stop(&f);
        r_join(&r);
        check_quorum_common(&q, 1);
        kafka_wire_quorum_done(&q);
        kafka_wire_tls_free(t);
}

static void test_tls_stalled_handshake(void **state)
{
        struct kafka_wire_tls *t;
        struct tu_tls_front f;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        (void)state;
        tls_need();
        t = tls_client(tls_certs.ca, true);
        assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_STALL, 0), 0);
        ctx_init(&ctx, 300, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q, &e), -1);
        tu_tls_front_stop(&f);
        assert_int_equal(e.code, KWIRE_E_TIMEOUT);
        assert_contains(e.msg, "TLS handshake with 127.0.0.1:");
        assert_contains(e.msg, "timed out after 300 ms");
        kafka_wire_quorum_done(&q);

        /* Quit interrupts a stalled handshake too. */
        {
                int sp[2];

                assert_int_equal(pipe(sp), 0);
                assert_int_equal(write(sp[1], "x", 1), 1);
                assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_STALL, 0), 0);
                ctx_init(&ctx, 5000, sp[0]);
                assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q,
                                                            &e),
                                 -1);
                tu_tls_front_stop(&f);
                assert_int_equal(e.code, KWIRE_E_STOPPING);
                kafka_wire_quorum_done(&q);
                close(sp[0]);
                close(sp[1]);
        }
        kafka_wire_tls_free(t);
}

static void test_tls_mismatch(void **state)
{
        struct kafka_wire_tls *t;
        struct tu_tls_front f;
        struct coll_ctx ctx;
        struct kafka_wire_quorum q;
        struct err e;

        (void)state;
        tls_need();
        /* TLS client, plaintext listener. */
        t = tls_client(tls_certs.ca, true);
        assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_PLAIN_CLOSE, 0), 0);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, SEC(t), &ctx, &q, &e), -1);
        tu_tls_front_stop(&f);
        assert_int_equal(e.code, KWIRE_E_TLS);
        assert_contains(e.msg, "TLS handshake with 127.0.0.1:");
        assert_contains(e.msg, "the broker closed the connection (is it a plaintext listener?)");
        kafka_wire_quorum_done(&q);
        kafka_wire_tls_free(t);

        /* Plaintext client, TLS listener. */
        assert_int_equal(tu_tls_front_start(&f, &tls_certs, TU_TLS_RELAY, 0), 0);
        ctx_init(&ctx, 5000, -1);
        assert_int_equal(kafka_wire_describe_quorum("127.0.0.1", f.port, NULL, &ctx, &q, &e), -1);
        tu_tls_front_stop(&f);
        assert_false(f.handshake_ok);
        assert_contains(e.msg, "closed the connection without answering ApiVersions "
                        "(TLS or SASL listener?");
        assert_contains(e.msg, "127.0.0.1:");
        kafka_wire_quorum_done(&q);
}

static void test_tls_bad_files(void **state)
{
        struct kafka_wire_tls_cfg c = { .verify = true };
        struct err e;

        (void)state;
        tls_need();
        c.ca_location = "/nonexistent/ca.pem";
        assert_null(kafka_wire_tls_new(&c, &e));
        assert_int_equal(e.code, KWIRE_E_TLS);
        assert_contains(e.msg, "ssl_ca_location /nonexistent/ca.pem: cannot load");
        c.ca_location = tls_certs.ca;
        c.cert_location = tls_certs.cert;
        c.key_location = tls_certs.ca;          /* a certificate, not a key */
        assert_null(kafka_wire_tls_new(&c, &e));
        assert_contains(e.msg, "ssl_key_location ");
        assert_contains(e.msg, "cannot load");
        c.key_location = tls_certs.key;
        c.cert_location = tls_certs.ca;         /* the CA's certificate: not this key's */
        assert_null(kafka_wire_tls_new(&c, &e));
        assert_contains(e.msg, "does not match ssl_certificate_location");
        c.cert_location = tls_certs.cert;
        kafka_wire_tls_free(kafka_wire_tls_new(&c, &e));

        /* An encrypted key: with its password (ssl_key_password_env/_file
         * resolved by the collector), without, and with a wrong one. */
        c.key_location = tls_certs.enc_key;
        c.key_password = tls_certs.enc_password;
        {
                struct kafka_wire_tls *t = kafka_wire_tls_new(&c, &e);

                if (!t)
                        fail_msg("encrypted key with its password: %s", e.msg);
                kafka_wire_tls_free(t);
        }
        c.key_password = NULL;
        assert_null(kafka_wire_tls_new(&c, &e));
        assert_contains(e.msg, "cannot load (encrypted, and no ssl_key_password_env/_file?)");
        c.key_password = "wrong-pass";
        assert_null(kafka_wire_tls_new(&c, &e));
        assert_contains(e.msg, "ssl_key_location ");
        assert_null(strstr(e.msg, "wrong-pass"));
}

static int tls_group_teardown(void **state)
{
        (void)state;
        if (tls_ready)
                tu_tls_certs_remove(&tls_certs);
        tls_ready = false;
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rd_ints),
                cmocka_unit_test(test_wr_ints),
                cmocka_unit_test(test_varint),
                cmocka_unit_test(test_varint_overflow),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_arrays),
                cmocka_unit_test(test_tags),
                cmocka_unit_test(test_enc_header),
                cmocka_unit_test(test_enc_api_versions),
                cmocka_unit_test(test_enc_describe_quorum),
                cmocka_unit_test(test_sanitize_sw),
                cmocka_unit_test(test_dec_api_versions),
                cmocka_unit_test(test_dec_api_versions_v1_v2),
                cmocka_unit_test(test_dec_api_versions_unsupported),
                cmocka_unit_test(test_pick_version),
                cmocka_unit_test(test_dec_dq_v0_v1),
                cmocka_unit_test(test_dec_dq_v2),
                cmocka_unit_test(test_dec_dq_errors),
                cmocka_unit_test(test_dec_truncated_everywhere),
                cmocka_unit_test(test_dec_hostile),
                cmocka_unit_test(test_net_ok_each_version),
                cmocka_unit_test(test_net_localhost_name),
                cmocka_unit_test(test_net_av_fallback),
                cmocka_unit_test(test_net_av_fallback_mock_layout),
                cmocka_unit_test(test_net_truncated),
                cmocka_unit_test(test_net_garbage),
                cmocka_unit_test(test_net_tls_listener),
                cmocka_unit_test(test_net_garbage_frame),
                cmocka_unit_test(test_net_silent_times_out),
                cmocka_unit_test(test_net_close_at_once),
                cmocka_unit_test(test_net_close_after_av),
                cmocka_unit_test(test_net_no_describe_quorum),
                cmocka_unit_test(test_net_broker_error),
                cmocka_unit_test(test_net_wrong_corr),
                cmocka_unit_test(test_net_refused),
                cmocka_unit_test(test_net_stop),
                cmocka_unit_test(test_sasl_plain),
                cmocka_unit_test(test_sasl_other_mechanism),
                cmocka_unit_test(test_tls_ok),
                cmocka_unit_test(test_tls_wrong_ca),
                cmocka_unit_test(test_tls_stalled_handshake),
                cmocka_unit_test(test_tls_mismatch),
                cmocka_unit_test(test_tls_bad_files),
        };

        return cmocka_run_group_tests(tests, net_setup, net_teardown);
}
