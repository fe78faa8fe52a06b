/*
 * kafka_wire: just enough of the Kafka wire protocol to ask a KRaft cluster
 * for its metadata quorum (DescribeQuorum, API key 55), which librdkafka
 * 2.0.2 cannot send, and for committed offsets (FindCoordinator 10 +
 * OffsetFetch 9), which librdkafka's admin API handles too slowly at
 * 10,000 partitions. Three layers, each usable alone:
 *
 *   1. a bounded reader and a growable writer for the primitive types;
 *   2. pure encoders and decoders for ApiVersions (18) v0-v3,
 *      DescribeQuorum (55) v0-v2 (KIP-595 and KIP-836), FindCoordinator v0-v4 and
 *      OffsetFetch v1-v8;
 *   3. a small client that connects, negotiates and asks, every wait going
 *      through coll_wait_fd() so it honours the source timeout and quit.
 *
 * Layers 1 and 2 are pure and thread-agnostic. Layer 3 runs on the calling
 * (collector) thread and keeps no state between calls. Plaintext or TLS:
 * the byte stream sits behind struct kafka_wire_io, so a TLS session replaces
 * the two plain socket calls without touching the protocol code. SASL:
 * PLAIN only.
 */
#ifndef LO_SRC_KAFKA_WIRE_H
#define LO_SRC_KAFKA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/util.h"

struct coll_ctx;

#define KWIRE_METADATA          3
#define KWIRE_OFFSET_FETCH      9
#define KWIRE_FIND_COORDINATOR  10
#define KWIRE_SASL_HANDSHAKE    17
#define KWIRE_API_VERSIONS      18
#define KWIRE_SASL_AUTHENTICATE 36
#define KWIRE_DESCRIBE_QUORUM   55
#define KWIRE_METADATA_TOPIC    "__cluster_metadata"
#define KWIRE_MAX_RESPONSE      (16 * 1024 * 1024)      /* bytes; larger is garbage */

/* Kafka error codes we name in messages (the protocol's ErrorCode values). */
#define KWIRE_ERR_NONE                          0
#define KWIRE_ERR_UNKNOWN_TOPIC_OR_PARTITION    3
#define KWIRE_ERR_NOT_LEADER_OR_FOLLOWER        6
#define KWIRE_ERR_COORDINATOR_LOAD_IN_PROGRESS  14
#define KWIRE_ERR_COORDINATOR_NOT_AVAILABLE     15
#define KWIRE_ERR_NOT_COORDINATOR               16
#define KWIRE_ERR_CLUSTER_AUTHORIZATION_FAILED  31
#define KWIRE_ERR_UNSUPPORTED_VERSION           35
#define KWIRE_ERR_INVALID_REQUEST               42

/* struct err.code values set by this module. */
enum kafka_wire_errc {
        KWIRE_E_NET = 1,        /* resolve, connect, send or receive failed; peer closed */
        KWIRE_E_TIMEOUT,        /* the ctx deadline passed */
        KWIRE_E_STOPPING,       /* quit was requested */
        KWIRE_E_PROTO,          /* malformed, truncated or garbage response */
        KWIRE_E_UNSUPPORTED,    /* broker has no DescribeQuorum (ZooKeeper mode, Kafka < 3.3) */
        KWIRE_E_BROKER,         /* broker answered with an error code */
        KWIRE_E_TLS,            /* TLS setup, handshake or verification failed */
        KWIRE_E_AUTH,           /* SASL: mechanism not offered, or authentication failed */
};

/* ---- 1. Primitives ------------------------------------------------------ */

/* Bounded reader over borrowed bytes. Every read checks the bounds; the
 * first failure makes the reader "bad" (sticky), later reads return 0 and
 * leave the message alone. `field` names what is being read, for the error
 * ("leader_id at offset 37: needs 4 bytes, 2 left"). Offsets count from the
 * start of the buffer given to kafka_wire_rd_init. */
struct kafka_wire_rd {
        const uint8_t *p;
        size_t  len;
        size_t  off;            /* next byte to read */
        bool    bad;
        char    msg[160];       /* first failure; "" while good */
};

/* A string inside the reader's buffer: not NUL-terminated, borrowed. */
struct kafka_wire_str {
        const char *p;          /* NULL when null */
        int32_t len;            /* bytes; -1 when null */
};

void     kafka_wire_rd_init(struct kafka_wire_rd *r, const void *buf, size_t len);
/* Marks the reader bad at the current offset with a formatted reason. */
void     kafka_wire_rd_fail(struct kafka_wire_rd *r, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int8_t   kafka_wire_rd_i8(struct kafka_wire_rd *r, const char *field);
int16_t  kafka_wire_rd_i16(struct kafka_wire_rd *r, const char *field);
uint16_t kafka_wire_rd_u16(struct kafka_wire_rd *r, const char *field);
int32_t  kafka_wire_rd_i32(struct kafka_wire_rd *r, const char *field);
int64_t  kafka_wire_rd_i64(struct kafka_wire_rd *r, const char *field);
/* Unsigned LEB128 up to 32 bits (at most 5 bytes; more, or bits beyond 32,
 * is an overflow error) and its zigzag-signed form. */
uint32_t kafka_wire_rd_uvarint(struct kafka_wire_rd *r, const char *field);
int32_t  kafka_wire_rd_varint(struct kafka_wire_rd *r, const char *field);
void     kafka_wire_rd_uuid(struct kafka_wire_rd *r, const char *field, uint8_t out[16]);
void     kafka_wire_rd_skip(struct kafka_wire_rd *r, const char *field, size_t n);
/* Strings. `compact`: unsigned varint length + 1 (0 = null); otherwise an
 * int16 length (-1 = null). A null where `nullable` is false, a negative
 * length other than null's, or a length past the end fails. Returns false on
 * failure. */
bool     kafka_wire_rd_string(struct kafka_wire_rd *r, const char *field, bool compact,
                              bool nullable, struct kafka_wire_str *out);
/* Array element count: compact (uvarint N + 1) or int32. Null arrays fail,
 * and so does a count whose elements could not fit in the bytes left at
 * `min_elem` bytes each, so a hostile count never drives an allocation.
 * Returns the count, or -1 on failure. */
int32_t  kafka_wire_rd_array(struct kafka_wire_rd *r, const char *field, bool compact,
                             size_t min_elem);
/* Skips a tagged-field section (count, then tag + size + bytes each). */
void     kafka_wire_rd_tags(struct kafka_wire_rd *r, const char *field);
/* Owned NUL-terminated copy of s; NULL for a null string. */
char    *kafka_wire_str_dup(struct kafka_wire_str s);

/* Growable writer; buf is owned by the writer until kafka_wire_wr_done. */
struct kafka_wire_wr {
        uint8_t *buf;
        size_t  len;
        size_t  cap;
};

void   kafka_wire_wr_init(struct kafka_wire_wr *w);
void   kafka_wire_wr_done(struct kafka_wire_wr *w);
void   kafka_wire_wr_bytes(struct kafka_wire_wr *w, const void *p, size_t n);
void   kafka_wire_wr_i8(struct kafka_wire_wr *w, int8_t v);
void   kafka_wire_wr_i16(struct kafka_wire_wr *w, int16_t v);
void   kafka_wire_wr_u16(struct kafka_wire_wr *w, uint16_t v);
void   kafka_wire_wr_i32(struct kafka_wire_wr *w, int32_t v);
void   kafka_wire_wr_i64(struct kafka_wire_wr *w, int64_t v);
void   kafka_wire_wr_uvarint(struct kafka_wire_wr *w, uint32_t v);
void   kafka_wire_wr_varint(struct kafka_wire_wr *w, int32_t v);
void   kafka_wire_wr_uuid(struct kafka_wire_wr *w, const uint8_t v[16]);
/* NULL s writes null (nullable forms only: callers pass non-NULL for the
 * non-nullable ones). Lengths must fit int16 (asserted). */
void   kafka_wire_wr_string(struct kafka_wire_wr *w, const char *s, bool compact);
void   kafka_wire_wr_array_len(struct kafka_wire_wr *w, size_t n, bool compact);
void   kafka_wire_wr_tags_empty(struct kafka_wire_wr *w);
/* Size prefix: begin writes a placeholder and returns its position; end
 * fills in the number of bytes written since. */
size_t kafka_wire_wr_frame_begin(struct kafka_wire_wr *w);
void   kafka_wire_wr_frame_end(struct kafka_wire_wr *w, size_t at);

/* ---- 2. Messages ---------------------------------------------------------- */

/* Request header v1 (hdr_version 1: key, version, correlation id, int16
 * client id) or v2 (the same plus an empty tagged-field section). The client
 * id keeps its int16 length in v2 too, as the schema says. */
void kafka_wire_enc_req_header(struct kafka_wire_wr *w, int hdr_version, int16_t api_key,
                               int16_t api_version, int32_t corr, const char *client_id);
/* One complete framed ApiVersions request (size prefix included) appended to
 * w. Versions 0-2 have an empty body and header v1; v3 is flexible (header
 * v2) and carries the client software name and version, which brokers check
 * against [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? (see
 * kafka_wire_sanitize_sw). */
void kafka_wire_enc_api_versions(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                 const char *client_id, const char *sw_name,
                                 const char *sw_version);
/* One complete framed DescribeQuorum request (versions 0-2; all flexible,
 * identical bodies) for __cluster_metadata partition 0. */
void kafka_wire_enc_describe_quorum(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                    const char *client_id);
/* Copies s into buf (n > 1) keeping only characters brokers accept in the
 * ApiVersions v3 software fields; never returns an empty string. */
void kafka_wire_sanitize_sw(const char *s, char *buf, size_t n);

struct kafka_wire_api_range {
        int16_t key;
        int16_t min;
        int16_t max;
};

struct kafka_wire_api_versions {
        int16_t version;        /* layout decoded: the requested one, or 0 when the broker
                                   refused it (UNSUPPORTED_VERSION answers come in v0) */
        int32_t correlation_id;
        int16_t error_code;
        int32_t throttle_ms;    /* v1+; 0 otherwise */
        struct kafka_wire_api_range *keys;   /* owned */
        size_t  n_keys;
};

struct kafka_wire_replica {
        int32_t id;
        uint8_t directory_id[16];       /* v2; all zero before (and when unknown) */
        int64_t log_end_offset;         /* -1 unknown */
        int64_t last_fetch_ms;          /* v1+, ms since epoch; -1 unknown, for the leader, or v0 */
        int64_t last_caught_up_ms;      /* v1+, ms since epoch; -1 unknown or v0 */
};

struct kafka_wire_listener {
        char    *name;                  /* owned */
        char    *host;                  /* owned */
        uint16_t port;
};

struct kafka_wire_node {                     /* v2 */
        int32_t id;
        struct kafka_wire_listener *listeners;       /* owned */
        size_t  n_listeners;
};

struct kafka_wire_quorum {
        int16_t version;                /* of the decoded response */
        int32_t correlation_id;
        int16_t error_code;             /* top level */
        char   *error_message;          /* v2; owned; NULL when null or older */
        bool    has_partition;          /* the response held a partition (the first one is kept) */
        char   *topic;                  /* owned; NULL without a partition */
        int32_t partition;
        int16_t part_error_code;
        char   *part_error_message;     /* v2; owned; NULL when null or older */
        int32_t leader_id;              /* -1 unknown */
        int32_t leader_epoch;
        int64_t high_watermark;
        struct kafka_wire_replica *voters;   /* owned */
        size_t  n_voters;
        struct kafka_wire_replica *observers;/* owned */
        size_t  n_observers;
        struct kafka_wire_node *nodes;       /* v2; owned */
        size_t  n_nodes;
};

/* Decoders take one response frame without its 4-byte size prefix (that is,
 * starting at the response header, offsets in messages count from there)
 * and fill *out, owned by the caller (release with the matching _done()).
 * On failure *out is left empty, so _done() on it is harmless. They check
 * structure only: a broker error code is data (out->error_code), not a
 * failure. Trailing bytes are a failure. Return 0, or -1 with err set
 * (KWIRE_E_PROTO, "malformed ... response: <field> at offset N: ..."). Pure;
 * any thread. */
int  kafka_wire_dec_api_versions(const void *buf, size_t len, int16_t version,
                                 struct kafka_wire_api_versions *out, struct err *err);
void kafka_wire_api_versions_done(struct kafka_wire_api_versions *av);
int  kafka_wire_dec_describe_quorum(const void *buf, size_t len, int16_t version,
                                    struct kafka_wire_quorum *out, struct err *err);
void kafka_wire_quorum_done(struct kafka_wire_quorum *q);

/* FindCoordinator (10) v0-v4 for consumer groups (key type 0). v0-v3 ask
 * for one key (n_keys must be 1), v4 for n_keys >= 1 at once. Flexible
 * from v3. One complete framed request appended to w. */
void kafka_wire_enc_find_coordinator(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                     const char *client_id, const char *const *keys,
                                     size_t n_keys);

struct kafka_wire_coordinator {
        char    *key;                   /* v4: owned; NULL before (the one asked for) */
        int32_t  node_id;
        char    *host;                  /* owned; "" when the broker sent none */
        int32_t  port;
        int16_t  error_code;
        char    *error_message;         /* v1+; owned; NULL when null or v0 */
};

struct kafka_wire_coordinators {
        int16_t  version;
        int32_t  correlation_id;
        int32_t  throttle_ms;           /* v1+; 0 otherwise */
        struct kafka_wire_coordinator *c;    /* owned; exactly one before v4 */
        size_t   n;
};

int  kafka_wire_dec_find_coordinator(const void *buf, size_t len, int16_t version,
                                     struct kafka_wire_coordinators *out, struct err *err);
void kafka_wire_coordinators_done(struct kafka_wire_coordinators *c);

/* OffsetFetch (9) v1-v8: the committed offsets of consumer groups. v1-v7
 * ask about one group (n_groups must be 1), v8 about many. A group asks
 * about the listed partitions of each topic, or with `all` about every
 * partition it has commits in (a null topic array: v2+ only). Flexible from
 * v6; v7+ send require_stable = false. v0 (offsets in ZooKeeper) is not
 * spoken. */
struct kafka_wire_of_topic_req {
        const char    *name;
        const int32_t *parts;
        size_t         n_parts;
};

struct kafka_wire_of_group_req {
        const char    *group;
        bool           all;
        const struct kafka_wire_of_topic_req *topics;        /* ignored with all */
        size_t         n_topics;
};

void kafka_wire_enc_offset_fetch(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                 const char *client_id, const struct kafka_wire_of_group_req *groups,
                                 size_t n_groups);

/* A decoded OffsetFetch response, flattened: every partition of every topic
 * of every group in three arrays. Strings borrow from the decoded buffer:
 * keep it until kafka_wire_offsets_done. */
struct kafka_wire_of_part {
        uint32_t topic;                 /* index into kafka_wire_offsets.topics */
        int32_t  partition;
        int64_t  offset;                /* -1 none committed */
        int32_t  leader_epoch;          /* v5+; -1 unknown or older */
        struct kafka_wire_str metadata;      /* null when null */
        int16_t  error_code;
};

struct kafka_wire_of_topic {
        struct kafka_wire_str name;
};

struct kafka_wire_of_group {
        struct kafka_wire_str group;         /* v8; null before (the one asked for) */
        int16_t  error_code;            /* v2+ (the top-level one before v8); 0 before */
        size_t   first_topic, n_topics;
        size_t   first_part, n_parts;
};

struct kafka_wire_offsets {
        int16_t  version;
        int32_t  correlation_id;
        int32_t  throttle_ms;           /* v3+; 0 otherwise */
        struct kafka_wire_of_group *groups;  /* owned; exactly one before v8 */
        size_t   n_groups;
        struct kafka_wire_of_topic *topics;  /* owned */
        size_t   n_topics;
        struct kafka_wire_of_part *parts;    /* owned */
        size_t   n_parts;
};

int  kafka_wire_dec_offset_fetch(const void *buf, size_t len, int16_t version,
                                 struct kafka_wire_offsets *out, struct err *err);
void kafka_wire_offsets_done(struct kafka_wire_offsets *o);

/* Metadata (3) v1-v12 asking about no topics: the brokers (with their
 * racks, which librdkafka 2.0.2 does not expose), the cluster id (v2+) and
 * the controller. Flexible from v9. One framed request appended to w. */
void kafka_wire_enc_metadata(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                             const char *client_id);

struct kafka_wire_md_broker {
        int32_t  node_id;
        char    *host;                  /* owned */
        int32_t  port;
        char    *rack;                  /* owned; NULL when the broker has none */
};

struct kafka_wire_metadata {
        int16_t  version;
        int32_t  correlation_id;
        int32_t  throttle_ms;           /* v3+ */
        struct kafka_wire_md_broker *brokers;        /* owned */
        size_t   n_brokers;
        char    *cluster_id;            /* v2+; owned; NULL when null or v1 */
        int32_t  controller_id;         /* -1 unknown */
};

/* Decodes a response to kafka_wire_enc_metadata; topics must come back empty
 * (we asked for none), anything else is an error. */
int  kafka_wire_dec_metadata(const void *buf, size_t len, int16_t version,
                             struct kafka_wire_metadata *out, struct err *err);
void kafka_wire_metadata_done(struct kafka_wire_metadata *m);

/* SaslHandshake (17) v1 and SaslAuthenticate (36) v0-v2. */
void kafka_wire_enc_sasl_handshake(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                   const char *client_id, const char *mechanism);
void kafka_wire_enc_sasl_authenticate(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                      const char *client_id, const void *auth, size_t n);

struct kafka_wire_sasl_reply {
        int32_t  correlation_id;
        int16_t  error_code;
        char    *error_message;         /* SaslAuthenticate; owned; NULL none */
        char    *mechanisms;            /* SaslHandshake: "A, B"; owned; NULL none */
        int64_t  session_lifetime_ms;   /* SaslAuthenticate v1+; 0 otherwise */
};

int  kafka_wire_dec_sasl_handshake(const void *buf, size_t len, int16_t version,
                                   struct kafka_wire_sasl_reply *out, struct err *err);
int  kafka_wire_dec_sasl_authenticate(const void *buf, size_t len, int16_t version,
                                      struct kafka_wire_sasl_reply *out, struct err *err);
void kafka_wire_sasl_reply_done(struct kafka_wire_sasl_reply *r);

/* Highest version of api `key` that both the broker (av) and we
 * (our_min..our_max) speak, or -1 when none. */
int kafka_wire_pick_version(const struct kafka_wire_api_versions *av, int16_t key,
                            int16_t our_min, int16_t our_max);
/* "NOT_LEADER_OR_FOLLOWER" for the codes above and a few more, else NULL. */
const char *kafka_wire_error_name(int16_t code);

/* ---- 3. Client ------------------------------------------------------------ */

/* A connected byte stream. send/recv move up to n bytes and return how
 * many, 0 for EOF (recv), or -1 with errno; on EAGAIN they set *want to the
 * poll event to wait for (a TLS session may want POLLOUT to read). */
struct kafka_wire_io {
        int     fd;
        void   *impl;                   /* transport state; NULL for plaintext */
        ssize_t (*send)(struct kafka_wire_io *io, const void *buf, size_t n, short *want);
        ssize_t (*recv)(struct kafka_wire_io *io, void *buf, size_t n, short *want);
        void    (*close)(struct kafka_wire_io *io);  /* closes fd and frees impl */
        int32_t next_corr;              /* correlation id of the next request */
        char    peer[96];               /* "host:port", for messages */
};

/* TLS for the wire client (OpenSSL's libssl), configured like librdkafka:
 * ca_location (ssl.ca.location: a PEM file or a hashed directory; NULL =
 * the system store), cert_location + key_location (+ key_password) for
 * mutual TLS, verify (enable.ssl.certificate.verification, default on:
 * the chain, and the broker's name or IP address against the certificate,
 * as ssl.endpoint.identification.algorithm=https). SNI carries the broker's
 * host name (not for IP literals). */
struct kafka_wire_tls_cfg {
        const char *ca_location;
        const char *cert_location;
        const char *key_location;
        const char *key_password;       /* secret; borrowed, used only in kafka_wire_tls_new */
        bool        verify;
};

struct kafka_wire_tls;                       /* an SSL_CTX; immutable once built */

/* How to reach the brokers: TLS (NULL: plaintext) and SASL (mechanism NULL:
 * none). SASL speaks PLAIN only (SaslHandshake v1 + SaslAuthenticate
 * v0-v2, after ApiVersions, as librdkafka does); the password is a secret,
 * borrowed, never copied into a message. */
struct kafka_wire_sec {
        struct kafka_wire_tls *tls;
        const char *sasl_mechanism;
        const char *sasl_username;
        const char *sasl_password;
};

/* Loads the files (clear errors naming the key: "ssl_ca_location
 * /x.pem: ..."). Returns the context (owned; kafka_wire_tls_free), or NULL with
 * err set (KWIRE_E_TLS). Any thread; the context may then be shared. */
struct kafka_wire_tls *kafka_wire_tls_new(const struct kafka_wire_tls_cfg *cfg, struct err *err);
void kafka_wire_tls_free(struct kafka_wire_tls *t);

/* Opens a TCP connection (kafka_wire_connect); with sec->tls runs the TLS
 * handshake on it without blocking, bounded by the ctx deadline and quit (a
 * failed verification says "certificate verify failed: <why>"), and
 * io->send/recv/close then speak TLS; with sec->sasl_mechanism
 * authenticates (ApiVersions, SaslHandshake, SaslAuthenticate). sec NULL:
 * plaintext. Same contract as kafka_wire_connect, plus KWIRE_E_TLS and
 * KWIRE_E_AUTH. Collector thread. */
int kafka_wire_open(struct kafka_wire_io *io, const char *host, int port,
                    const struct kafka_wire_sec *sec,
                    const struct coll_ctx *ctx, struct err *err);

/* Opens a plaintext TCP connection (non-blocking connect, every address of
 * host in turn until one answers or the ctx deadline passes). Name lookup
 * itself is getaddrinfo and may block for a slow resolver; use numeric
 * addresses where that matters. On success io is ready and owned by the
 * caller (io->close(io)). Returns 0, or -1 with err set (KWIRE_E_NET,
 * KWIRE_E_TIMEOUT, KWIRE_E_STOPPING). Collector thread. */
int kafka_wire_connect(struct kafka_wire_io *io, const char *host, int port,
                       const struct coll_ctx *ctx, struct err *err);

/* Over an open stream: ApiVersions (v3, falling back to what the broker
 * offers), then DescribeQuorum at the best common version. *out is owned by
 * the caller afterwards (kafka_wire_quorum_done in every case). Returns 0 with
 * the quorum, or -1 with err set; on KWIRE_E_BROKER *out holds the decoded
 * response and its error codes. Does not close io. Collector thread. */
int kafka_wire_quorum_query(struct kafka_wire_io *io, const struct coll_ctx *ctx,
                            struct kafka_wire_quorum *out, struct err *err);

/* Over an open stream: ApiVersions v3, falling back once to what the broker
 * offers (see kafka_wire_quorum_query). *av is owned by the caller afterwards
 * (kafka_wire_api_versions_done in every case). Returns 0, or -1 with err set.
 * Collector thread. */
int kafka_wire_negotiate(struct kafka_wire_io *io, const struct coll_ctx *ctx,
                         struct kafka_wire_api_versions *av, struct err *err);

/* A broker address. */
struct kafka_wire_endpoint {
        const char *host;
        int         port;
};

/* The committed offsets of many groups, as a consumer-group admin would
 * fetch them: ApiVersions and FindCoordinator (one request at v4, else one
 * per group, pipelined) on the first bootstrap broker that answers, then
 * OffsetFetch on one connection per coordinator (all of its groups in one
 * request at v8, else one request per group, pipelined), the coordinators
 * served concurrently. The connections close before this returns.
 *
 * cb is called exactly once for every request i, in no particular order:
 * with the decoded answer of its group (res and g, valid during the call
 * only; g->error_code is the broker's verdict on the group) and e NULL; or
 * with res and g NULL and e saying why there is no answer (the bootstrap or
 * coordinator could not be reached, a broker error from FindCoordinator,
 * garbage, the deadline, quit). Returns the number of groups answered.
 * Collector thread. */
typedef void (*kafka_wire_offsets_cb)(void *arg, size_t i, const struct kafka_wire_offsets *res,
                                      const struct kafka_wire_of_group *g, const struct err *e);

size_t kafka_wire_fetch_offsets(const struct kafka_wire_endpoint *boot, size_t n_boot,
                                const struct kafka_wire_sec *sec, const struct kafka_wire_of_group_req *reqs,
                                size_t n,
                                const struct coll_ctx *ctx, kafka_wire_offsets_cb cb, void *arg);

/* Metadata about no topics (see kafka_wire_enc_metadata) from the first of the
 * bootstrap brokers that answers, each given an equal share of the time
 * left. *out owned by the caller (kafka_wire_metadata_done in every case).
 * Returns 0, or -1 with err set. Collector thread. */
int kafka_wire_fetch_metadata(const struct kafka_wire_endpoint *boot, size_t n_boot,
                              const struct kafka_wire_sec *sec,
                              const struct coll_ctx *ctx, struct kafka_wire_metadata *out,
                              struct err *err);

/* kafka_wire_open + kafka_wire_quorum_query + close. Same contract; tls NULL for
 * plaintext. */
int kafka_wire_describe_quorum(const char *host, int port, const struct kafka_wire_sec *sec,
                               const struct coll_ctx *ctx, struct kafka_wire_quorum *out,
                               struct err *err);

#endif
