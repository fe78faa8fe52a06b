/*
 * kafka_wire_internal.h: what the parts of kafka_wire share and nobody
 * else uses. kafka_wire_codec.c (the reader and writer), kafka_wire.c (the
 * encoders and decoders), kafka_wire_io.c (connect, TLS, SASL, ApiVersions
 * and DescribeQuorum over one connection) and kafka_wire_fetch.c (offsets
 * and metadata, pipelined over several connections).
 */
#ifndef LO_SRC_KAFKA_WIRE_INTERNAL_H
#define LO_SRC_KAFKA_WIRE_INTERNAL_H

#include "clients/kafka/kafka_wire.h"

#define KWIRE_CLIENT_ID "lambdaops"

/* Appends " (from peer)" context to a decoder message. */
void kafka_wire_err_from(struct err *err, const char *peer);

/* A broker's error code for `what` on `peer`: KWIRE_E_BROKER with the
 * code's name, the broker's message and a hint when we have one. */
void kafka_wire_err_broker(struct err *err, const char *what, const char *peer,
                           int16_t code, const char *message);

/* Decodes the response to the request of API `key` (KWIRE_API_VERSIONS,
 * KWIRE_DESCRIBE_QUORUM, KWIRE_SASL_HANDSHAKE, KWIRE_SASL_AUTHENTICATE,
 * KWIRE_FIND_COORDINATOR, KWIRE_OFFSET_FETCH or KWIRE_METADATA) sent at
 * `version` with correlation id `sent`, from `peer`, into out: the struct
 * that API's decoder fills. -1 with err set when it is malformed (the
 * decoder's message, from peer) or answers another request (the
 * correlation ids); out is then released. */
int kafka_wire_dec_response(int16_t key, int16_t version, const uint8_t *buf, size_t len,
                            int32_t sent, const char *peer, void *out, struct err *err);

/* Sends one request from w and reads its response frame. */
int kafka_wire_io_roundtrip(struct kafka_wire_io *io, const struct coll_ctx *ctx, const char *what,
                            const struct kafka_wire_wr *w, uint8_t **resp, size_t *len,
                            struct err *err);

#endif
