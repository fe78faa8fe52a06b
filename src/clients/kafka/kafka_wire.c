/*
 * kafka_wire: a small, strict Kafka wire-protocol codec and a one-shot
 * DescribeQuorum client. See kafka_wire.h for the layers.
 *
 * Design. Decoding never trusts a length: every read goes through
 * rd_take(), which checks the bytes left, and every count is checked
 * against the bytes left (times the smallest possible element) before
 * anything is allocated, so the largest allocation a hostile peer can cause
 * is bounded by the frame it actually sent (itself capped at
 * KWIRE_MAX_RESPONSE). The reader's error is sticky and names the field and
 * offset, so one check at the end of a message is enough and loops stop at
 * the first failure. We decode exactly the version we asked for and reject
 * trailing bytes: a response that does not parse to its end is garbage.
 *
 * The client speaks only what it needs: ApiVersions v3 (falling back once
 * to the broker's own ApiVersions range when it answers
 * UNSUPPORTED_VERSION, which Kafka does in the v0 layout, or to v0 when the
 * answer cannot be read, as with librdkafka's mock), then DescribeQuorum
 * at the highest version both sides speak. All waits go through
 * coll_wait_fd(), so a hung or silent broker costs at most the source
 * timeout and quit interrupts it.
 *
 * This file: the encoders and decoders (layer 2) and the broker's error
 * codes. The reader and writer are in kafka_wire_codec.c, the client of one
 * connection in kafka_wire_io.c, offsets and metadata over several
 * connections in kafka_wire_fetch.c.
 */
#include "clients/kafka/kafka_wire.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kafka/kafka_wire_internal.h"
#include "core/util.h"

/* ---- Encoders --------------------------------------------------------------- */

void kafka_wire_enc_req_header(struct kafka_wire_wr *w, int hdr_version, int16_t api_key,
                               int16_t api_version, int32_t corr, const char *client_id)
{
        assert(hdr_version == 1 || hdr_version == 2);
        kafka_wire_wr_i16(w, api_key);
        kafka_wire_wr_i16(w, api_version);
        kafka_wire_wr_i32(w, corr);
        kafka_wire_wr_string(w, client_id, false);   /* int16 length even in v2 */
        if (hdr_version == 2)
                kafka_wire_wr_tags_empty(w);
}

void kafka_wire_enc_api_versions(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                 const char *client_id, const char *sw_name,
                                 const char *sw_version)
{
        size_t at;

        assert(version >= 0 && version <= 3);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, version >= 3 ? 2 : 1, KWIRE_API_VERSIONS, version,
                                  corr, client_id);
        if (version >= 3) {
                assert(sw_name && sw_version);
                kafka_wire_wr_string(w, sw_name, true);
                kafka_wire_wr_string(w, sw_version, true);
                kafka_wire_wr_tags_empty(w);
        }
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_enc_describe_quorum(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                    const char *client_id)
{
        size_t at;

        assert(version >= 0 && version <= 2);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, 2, KWIRE_DESCRIBE_QUORUM, version, corr, client_id);
        kafka_wire_wr_array_len(w, 1, true);                 /* topics */
        kafka_wire_wr_string(w, KWIRE_METADATA_TOPIC, true);
        kafka_wire_wr_array_len(w, 1, true);                 /* partitions */
        kafka_wire_wr_i32(w, 0);
        kafka_wire_wr_tags_empty(w);                         /* partition */
        kafka_wire_wr_tags_empty(w);                         /* topic */
        kafka_wire_wr_tags_empty(w);                         /* request */
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_enc_find_coordinator(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                     const char *client_id, const char *const *keys,
                                     size_t n_keys)
{
        bool flex = version >= 3;
        size_t at;

        assert(version >= 0 && version <= 4);
        assert(version >= 4 ? n_keys >= 1 : n_keys == 1);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, flex ? 2 : 1, KWIRE_FIND_COORDINATOR, version, corr,
                                  client_id);
        if (version >= 4) {
                kafka_wire_wr_i8(w, 0);                      /* key_type: group */
                kafka_wire_wr_array_len(w, n_keys, true);
                for (size_t i = 0; i < n_keys; i++)
                        kafka_wire_wr_string(w, keys[i], true);
        } else {
                kafka_wire_wr_string(w, keys[0], flex);
                if (version >= 1)
                        kafka_wire_wr_i8(w, 0);              /* key_type: group */
        }
        if (flex)
                kafka_wire_wr_tags_empty(w);
        kafka_wire_wr_frame_end(w, at);
}

static void of_enc_topics(struct kafka_wire_wr *w, const struct kafka_wire_of_group_req *g,
                          bool flex)
{
        if (g->all) {
                if (flex)
                        kafka_wire_wr_uvarint(w, 0);         /* null compact array */
                else
                        kafka_wire_wr_i32(w, -1);            /* null array */
                return;
        }
        kafka_wire_wr_array_len(w, g->n_topics, flex);
        for (size_t t = 0; t < g->n_topics; t++) {
                const struct kafka_wire_of_topic_req *tp = &g->topics[t];

                kafka_wire_wr_string(w, tp->name, flex);
                kafka_wire_wr_array_len(w, tp->n_parts, flex);
                for (size_t p = 0; p < tp->n_parts; p++)
                        kafka_wire_wr_i32(w, tp->parts[p]);
                if (flex)
                        kafka_wire_wr_tags_empty(w);
        }
}

void kafka_wire_enc_offset_fetch(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                 const char *client_id, const struct kafka_wire_of_group_req *groups,
                                 size_t n_groups)
{
        bool flex = version >= 6;
        size_t at;

        assert(version >= 1 && version <= 8);
        assert(version >= 8 ? n_groups >= 1 : n_groups == 1);
        for (size_t i = 0; i < n_groups; i++)
                assert(!groups[i].all || version >= 2);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, flex ? 2 : 1, KWIRE_OFFSET_FETCH, version, corr, client_id);
        if (version >= 8) {
                kafka_wire_wr_array_len(w, n_groups, true);
                for (size_t i = 0; i < n_groups; i++) {
                        kafka_wire_wr_string(w, groups[i].group, true);
                        of_enc_topics(w, &groups[i], true);
                        kafka_wire_wr_tags_empty(w);
                }
        } else {
                kafka_wire_wr_string(w, groups[0].group, flex);
                of_enc_topics(w, &groups[0], flex);
        }
        if (version >= 7)
                kafka_wire_wr_i8(w, 0);                      /* require_stable: false */
        if (flex)
                kafka_wire_wr_tags_empty(w);
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_enc_metadata(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                             const char *client_id)
{
        bool flex = version >= 9;
        size_t at;

        assert(version >= 1 && version <= 12);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, flex ? 2 : 1, KWIRE_METADATA, version, corr, client_id);
        kafka_wire_wr_array_len(w, 0, flex);                 /* topics: none (null = all) */
        if (version >= 4)
                kafka_wire_wr_i8(w, 0);                      /* allow_auto_topic_creation */
        if (version >= 8 && version <= 10)
                kafka_wire_wr_i8(w,
                                 0);                      /* include_cluster_authorized_operations */
        if (version >= 8)
                kafka_wire_wr_i8(w,
                                 0);                      /* include_topic_authorized_operations */
        if (flex)
                kafka_wire_wr_tags_empty(w);
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_enc_sasl_handshake(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                   const char *client_id, const char *mechanism)
{
        size_t at;

        assert(version >= 0 && version <= 1);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, 1, KWIRE_SASL_HANDSHAKE, version, corr, client_id);
        kafka_wire_wr_string(w, mechanism, false);
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_enc_sasl_authenticate(struct kafka_wire_wr *w, int16_t version, int32_t corr,
                                      const char *client_id, const void *auth, size_t n)
{
        bool flex = version >= 2;
        size_t at;

        assert(version >= 0 && version <= 2 && n < INT32_MAX);
        at = kafka_wire_wr_frame_begin(w);
        kafka_wire_enc_req_header(w, flex ? 2 : 1, KWIRE_SASL_AUTHENTICATE, version, corr,
                                  client_id);
        if (flex)
                kafka_wire_wr_uvarint(w, (uint32_t)n + 1);
        else
                kafka_wire_wr_i32(w, (int32_t)n);
        kafka_wire_wr_bytes(w, auth, n);
        if (flex)
                kafka_wire_wr_tags_empty(w);
        kafka_wire_wr_frame_end(w, at);
}

void kafka_wire_sanitize_sw(const char *s, char *buf, size_t n)
{
        size_t k = 0;

        assert(n > 1);
        for (; s && *s && k + 1 < n; s++) {
                unsigned char c = (unsigned char)*s;

                if (isalnum(c) || c == '.' || c == '-')
                        buf[k++] = (char)c;
                else if (k > 0)
                        buf[k++] = '-';
                /* Must start with an alphanumeric: drop leading others. */
                if (k == 1 && !isalnum((unsigned char)buf[0]))
                        k = 0;
        }
        while (k > 0 && !isalnum((unsigned char)buf[k - 1]))
                k--;
        if (k == 0)
                str_copy(buf, "unknown", n);
        else
                buf[k] = '\0';
}

/* ---- Decoders --------------------------------------------------------------- */

static int rd_finish(struct kafka_wire_rd *r, const char *what, int version, struct err *err)
{
        if (!r->bad && r->off != r->len)
                kafka_wire_rd_fail(r, "end of message", "%zu unexpected trailing bytes",
                                   r->len - r->off);
        if (!r->bad)
                return 0;
        err_set(err, KWIRE_E_PROTO, "malformed %s v%d response: %s", what, version, r->msg);
        return -1;
}

/* Starts reading a response: the header's correlation id (returned) and,
 * in a flexible version (header v1), its tagged fields. */
static int32_t kafka_wire_rd_resp_header(struct kafka_wire_rd *r, const void *buf, size_t len,
                                         bool flex)
{
        int32_t corr;

        kafka_wire_rd_init(r, buf, len);
        corr = kafka_wire_rd_i32(r, "correlation_id");
        if (flex)
                kafka_wire_rd_tags(r, "header tagged fields");
        return corr;
}

void kafka_wire_api_versions_done(struct kafka_wire_api_versions *av)
{
        if (!av)
                return;
        free(av->keys);
        memset(av, 0, sizeof *av);
}

int kafka_wire_dec_api_versions(const void *buf, size_t len, int16_t version,
                                struct kafka_wire_api_versions *out, struct err *err)
{
        struct kafka_wire_rd r;
        bool flex;
        int32_t n;

        assert(version >= 0 && version <= 3);
        memset(out, 0, sizeof *out);
        /* The response header is v0 (correlation id only) in every version,
         * so that a client can always read it. */
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, false);
        out->error_code = kafka_wire_rd_i16(&r, "error_code");
        /* A broker that does not speak our version answers in v0. */
        if (!r.bad && out->error_code == KWIRE_ERR_UNSUPPORTED_VERSION)
                version = 0;
        out->version = version;
        flex = version >= 3;
        n = kafka_wire_rd_array(&r, "api_keys", flex, flex ? 7 : 6);
        if (n > 0)
                out->keys = xcalloc((size_t)n, sizeof *out->keys);
        for (int32_t i = 0; i < n && !r.bad; i++) {
                struct kafka_wire_api_range *k = &out->keys[i];

                k->key = kafka_wire_rd_i16(&r, "api_keys[].api_key");
                k->min = kafka_wire_rd_i16(&r, "api_keys[].min_version");
                k->max = kafka_wire_rd_i16(&r, "api_keys[].max_version");
                if (flex)
                        kafka_wire_rd_tags(&r, "api_keys[] tagged fields");
                out->n_keys = (size_t)i + 1;
        }
        if (version >= 1)
                out->throttle_ms = kafka_wire_rd_i32(&r, "throttle_time_ms");
        if (flex)
                kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "ApiVersions", version, err) == 0)
                return 0;
        kafka_wire_api_versions_done(out);
        return -1;
}

void kafka_wire_quorum_done(struct kafka_wire_quorum *q)
{
        if (!q)
                return;
        free(q->error_message);
        free(q->topic);
        free(q->part_error_message);
        free(q->voters);
        free(q->observers);
        for (size_t i = 0; i < q->n_nodes; i++) {
                for (size_t j = 0; j < q->nodes[i].n_listeners; j++) {
                        free(q->nodes[i].listeners[j].name);
                        free(q->nodes[i].listeners[j].host);
                }
                free(q->nodes[i].listeners);
        }
        free(q->nodes);
        memset(q, 0, sizeof *q);
}

/* Field names per replica list, so an error says which list it was in. */
struct dq_names {
        const char *list, *id, *dir, *leo, *fetch, *caught, *tags;
};

static const struct dq_names dq_voters = {
        "current_voters", "current_voters[].replica_id",
        "current_voters[].replica_directory_id", "current_voters[].log_end_offset",
        "current_voters[].last_fetch_timestamp",
        "current_voters[].last_caught_up_timestamp", "current_voters[] tagged fields",
};

static const struct dq_names dq_observers = {
        "observers", "observers[].replica_id",
        "observers[].replica_directory_id", "observers[].log_end_offset",
        "observers[].last_fetch_timestamp",
        "observers[].last_caught_up_timestamp", "observers[] tagged fields",
};

/* Smallest encoding of one ReplicaState at version v. */
static size_t dq_replica_min(int v)
{
        return 4 + (v >= 2 ? 16 : 0) + 8 + (v >= 1 ? 16 : 0) + 1;
}

static void dq_replicas(struct kafka_wire_rd *r, int v, const struct dq_names *nm,
                        struct kafka_wire_replica **out, size_t *n_out)
{
        int32_t n = kafka_wire_rd_array(r, nm->list, true, dq_replica_min(v));

        if (n <= 0)
                return;
        *out = xcalloc((size_t)n, sizeof **out);
        for (int32_t i = 0; i < n && !r->bad; i++) {
                struct kafka_wire_replica *rep = &(*out)[i];

                rep->id = kafka_wire_rd_i32(r, nm->id);
                if (v >= 2)
                        kafka_wire_rd_uuid(r, nm->dir, rep->directory_id);
                rep->log_end_offset = kafka_wire_rd_i64(r, nm->leo);
                if (v >= 1) {
                        rep->last_fetch_ms = kafka_wire_rd_i64(r, nm->fetch);
                        rep->last_caught_up_ms = kafka_wire_rd_i64(r, nm->caught);
                } else {
                        rep->last_fetch_ms = -1;
                        rep->last_caught_up_ms = -1;
                }
                kafka_wire_rd_tags(r, nm->tags);
                *n_out = (size_t)i + 1;
        }
}

static void dq_partition(struct kafka_wire_rd *r, int v, struct kafka_wire_quorum *q)
{
        struct kafka_wire_str s;

        q->partition = kafka_wire_rd_i32(r, "partitions[].partition_index");
        q->part_error_code = kafka_wire_rd_i16(r, "partitions[].error_code");
        if (v >= 2 && kafka_wire_rd_string(r, "partitions[].error_message", true, true, &s))
                q->part_error_message = kafka_wire_str_dup(s);
        q->leader_id = kafka_wire_rd_i32(r, "partitions[].leader_id");
        q->leader_epoch = kafka_wire_rd_i32(r, "partitions[].leader_epoch");
        q->high_watermark = kafka_wire_rd_i64(r, "partitions[].high_watermark");
        dq_replicas(r, v, &dq_voters, &q->voters, &q->n_voters);
        dq_replicas(r, v, &dq_observers, &q->observers, &q->n_observers);
        kafka_wire_rd_tags(r, "partitions[] tagged fields");
}

static void dq_nodes(struct kafka_wire_rd *r, struct kafka_wire_quorum *q)
{
        int32_t n = kafka_wire_rd_array(r, "nodes", true, 4 + 1 + 1);

        if (n <= 0)
                return;
        q->nodes = xcalloc((size_t)n, sizeof *q->nodes);
        for (int32_t i = 0; i < n && !r->bad; i++) {
                struct kafka_wire_node *nd = &q->nodes[i];
                int32_t nl;

                q->n_nodes = (size_t)i + 1;
                nd->id = kafka_wire_rd_i32(r, "nodes[].node_id");
                nl = kafka_wire_rd_array(r, "nodes[].listeners", true, 1 + 1 + 2 + 1);
                if (nl > 0)
                        nd->listeners = xcalloc((size_t)nl, sizeof *nd->listeners);
                for (int32_t j = 0; j < nl && !r->bad; j++) {
                        struct kafka_wire_listener *l = &nd->listeners[j];
                        struct kafka_wire_str s;

                        nd->n_listeners = (size_t)j + 1;
                        if (kafka_wire_rd_string(r, "nodes[].listeners[].name", true, false, &s))
                                l->name = kafka_wire_str_dup(s);
                        if (kafka_wire_rd_string(r, "nodes[].listeners[].host", true, false, &s))
                                l->host = kafka_wire_str_dup(s);
                        l->port = kafka_wire_rd_u16(r, "nodes[].listeners[].port");
                        kafka_wire_rd_tags(r, "nodes[].listeners[] tagged fields");
                }
                kafka_wire_rd_tags(r, "nodes[] tagged fields");
        }
}

int kafka_wire_dec_describe_quorum(const void *buf, size_t len, int16_t version,
                                   struct kafka_wire_quorum *out, struct err *err)
{
        struct kafka_wire_rd r;
        struct kafka_wire_str s;
        int32_t nt;
        /* Smallest partition: index, error, [message], leader, epoch, hwm,
         * two empty arrays and empty tags. */
        size_t part_min = 4 + 2 + (version >= 2 ? 1 : 0) + 4 + 4 + 8 + 1 + 1 + 1;

        assert(version >= 0 && version <= 2);
        memset(out, 0, sizeof *out);
        out->version = version;
        out->leader_id = -1;
        /* Response header v1: correlation id and tagged fields. */
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, true);
        out->error_code = kafka_wire_rd_i16(&r, "error_code");
        if (version >= 2 && kafka_wire_rd_string(&r, "error_message", true, true, &s))
                out->error_message = kafka_wire_str_dup(s);
        nt = kafka_wire_rd_array(&r, "topics", true, 1 + 1 + 1);
        for (int32_t t = 0; t < nt && !r.bad; t++) {
                struct kafka_wire_str name = { NULL, -1 };
                int32_t np;

                kafka_wire_rd_string(&r, "topics[].topic_name", true, false, &name);
                np = kafka_wire_rd_array(&r, "topics[].partitions", true, part_min);
                for (int32_t p = 0; p < np && !r.bad; p++) {
                        struct kafka_wire_quorum extra;

                        /* We asked for one partition; keep the first and
                         * parse (then drop) any others. */
                        if (!out->has_partition) {
                                out->has_partition = true;
                                out->topic = kafka_wire_str_dup(name);
                                dq_partition(&r, version, out);
                        } else {
                                memset(&extra, 0, sizeof extra);
                                dq_partition(&r, version, &extra);
                                kafka_wire_quorum_done(&extra);
                        }
                }
                kafka_wire_rd_tags(&r, "topics[] tagged fields");
        }
        if (version >= 2)
                dq_nodes(&r, out);
        kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "DescribeQuorum", version, err) == 0)
                return 0;
        kafka_wire_quorum_done(out);
        return -1;
}

void kafka_wire_coordinators_done(struct kafka_wire_coordinators *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++) {
                free(c->c[i].key);
                free(c->c[i].host);
                free(c->c[i].error_message);
        }
        free(c->c);
        memset(c, 0, sizeof *c);
}

static void fc_node(struct kafka_wire_rd *r, bool flex, const char *fid, const char *fhost,
                    const char *fport, struct kafka_wire_coordinator *c)
{
        struct kafka_wire_str s;

        c->node_id = kafka_wire_rd_i32(r, fid);
        if (kafka_wire_rd_string(r, fhost, flex, false, &s))
                c->host = kafka_wire_str_dup(s);
        c->port = kafka_wire_rd_i32(r, fport);
}

int kafka_wire_dec_find_coordinator(const void *buf, size_t len, int16_t version,
                                    struct kafka_wire_coordinators *out, struct err *err)
{
        struct kafka_wire_rd r;
        struct kafka_wire_str s;
        bool flex = version >= 3;

        assert(version >= 0 && version <= 4);
        memset(out, 0, sizeof *out);
        out->version = version;
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, flex);
        if (version >= 1)
                out->throttle_ms = kafka_wire_rd_i32(&r, "throttle_time_ms");
        if (version >= 4) {
                /* key, node, host, port, error, message, tags */
                int32_t n = kafka_wire_rd_array(&r, "coordinators", true,
                                                1 + 4 + 1 + 4 + 2 + 1 + 1);

                if (n > 0)
                        out->c = xcalloc((size_t)n, sizeof *out->c);
                for (int32_t i = 0; i < n && !r.bad; i++) {
                        struct kafka_wire_coordinator *c = &out->c[i];

                        out->n = (size_t)i + 1;
                        if (kafka_wire_rd_string(&r, "coordinators[].key", true, false, &s))
                                c->key = kafka_wire_str_dup(s);
                        fc_node(&r, true, "coordinators[].node_id", "coordinators[].host",
                                "coordinators[].port", c);
                        c->error_code = kafka_wire_rd_i16(&r, "coordinators[].error_code");
                        if (kafka_wire_rd_string(&r, "coordinators[].error_message", true, true,
                                                 &s))
                                c->error_message = kafka_wire_str_dup(s);
                        kafka_wire_rd_tags(&r, "coordinators[] tagged fields");
                }
        } else {
                struct kafka_wire_coordinator *c = out->c = xcalloc(1, sizeof *out->c);

                out->n = 1;
                c->error_code = kafka_wire_rd_i16(&r, "error_code");
                if (version >= 1 && kafka_wire_rd_string(&r, "error_message", flex, true, &s))
                        c->error_message = kafka_wire_str_dup(s);
                fc_node(&r, flex, "node_id", "host", "port", c);
        }
        if (flex)
                kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "FindCoordinator", version, err) == 0)
                return 0;
        kafka_wire_coordinators_done(out);
        return -1;
}

void kafka_wire_offsets_done(struct kafka_wire_offsets *o)
{
        if (!o)
                return;
        free(o->groups);
        free(o->topics);
        free(o->parts);
        memset(o, 0, sizeof *o);
}

/* Appends one element to a growable array of *n (capacity *cap). */
#define OF_PUSH(arr, n, cap) do {                                               \
        if ((n) == (cap)) {                                                     \
                (cap) = (cap) ? 2 * (cap) : 16;                                 \
                (arr) = xrealloc((arr), (cap) * sizeof *(arr));                 \
        }                                                                       \
        (n)++;                                                                  \
} while (0)

/* The topics of one group (of the group's last element in o->groups). */
static void of_dec_topics(struct kafka_wire_rd *r, int v, struct kafka_wire_offsets *o,
                          size_t *cap_t, size_t *cap_p)
{
        bool flex = v >= 6;
        /* Smallest partition: index, offset, [epoch], metadata, error, [tags]. */
        size_t pmin = 4 + 8 + (v >= 5 ? 4 : 0) + (flex ? 1 : 2) + 2 + (flex ? 1 : 0);
        struct kafka_wire_of_group *g = &o->groups[o->n_groups - 1];
        int32_t nt = 0;

        /* librdkafka's mock answers a null topic array ("all partitions")
         * with a null array; read it as none. */
        if (!r->bad && r->len - r->off >= (flex ? 1u : 4u) &&
            (flex ? r->p[r->off] == 0
                  : memcmp(r->p + r->off, "\xff\xff\xff\xff", 4) == 0))
                r->off += flex ? 1 : 4;
        else
                nt = kafka_wire_rd_array(r, "topics", flex, (flex ? 1 : 2) + (flex ? 1 : 4) +
                                         (flex ? 1 : 0));
        g->first_topic = o->n_topics;
        g->first_part = o->n_parts;
        for (int32_t t = 0; t < nt && !r->bad; t++) {
                struct kafka_wire_of_topic *tp;
                int32_t np;

                OF_PUSH(o->topics, o->n_topics, *cap_t);
                tp = &o->topics[o->n_topics - 1];
                kafka_wire_rd_string(r, "topics[].name", flex, false, &tp->name);
                np = kafka_wire_rd_array(r, "topics[].partitions", flex, pmin);
                for (int32_t p = 0; p < np && !r->bad; p++) {
                        struct kafka_wire_of_part *x;

                        OF_PUSH(o->parts, o->n_parts, *cap_p);
                        x = &o->parts[o->n_parts - 1];
                        x->topic = (uint32_t)(o->n_topics - 1);
                        x->partition = kafka_wire_rd_i32(r, "partitions[].partition_index");
                        x->offset = kafka_wire_rd_i64(r, "partitions[].committed_offset");
                        x->leader_epoch = v >= 5
                                ? kafka_wire_rd_i32(r, "partitions[].committed_leader_epoch") : -1;
                        kafka_wire_rd_string(r, "partitions[].metadata", flex, true, &x->metadata);
                        x->error_code = kafka_wire_rd_i16(r, "partitions[].error_code");
                        if (flex)
                                kafka_wire_rd_tags(r, "partitions[] tagged fields");
                }
                if (flex)
                        kafka_wire_rd_tags(r, "topics[] tagged fields");
        }
        g->n_topics = o->n_topics - g->first_topic;
        g->n_parts = o->n_parts - g->first_part;
}

int kafka_wire_dec_offset_fetch(const void *buf, size_t len, int16_t version,
                                struct kafka_wire_offsets *out, struct err *err)
{
        struct kafka_wire_rd r;
        bool flex = version >= 6;
        size_t cap_g = 0, cap_t = 0, cap_p = 0;

        assert(version >= 1 && version <= 8);
        memset(out, 0, sizeof *out);
        out->version = version;
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, flex);
        if (version >= 3)
                out->throttle_ms = kafka_wire_rd_i32(&r, "throttle_time_ms");
        if (version >= 8) {
                /* group id, topics, error, tags */
                int32_t ng = kafka_wire_rd_array(&r, "groups", true, 1 + 1 + 2 + 1);

                for (int32_t i = 0; i < ng && !r.bad; i++) {
                        struct kafka_wire_of_group *g;

                        OF_PUSH(out->groups, out->n_groups, cap_g);
                        g = &out->groups[out->n_groups - 1];
                        memset(g, 0, sizeof *g);
                        kafka_wire_rd_string(&r, "groups[].group_id", true, false, &g->group);
                        of_dec_topics(&r, version, out, &cap_t, &cap_p);
                        g = &out->groups[out->n_groups - 1];
                        g->error_code = kafka_wire_rd_i16(&r, "groups[].error_code");
                        kafka_wire_rd_tags(&r, "groups[] tagged fields");
                }
        } else {
                struct kafka_wire_of_group *g;

                OF_PUSH(out->groups, out->n_groups, cap_g);
                g = &out->groups[0];
                memset(g, 0, sizeof *g);
                g->group.len = -1;
                of_dec_topics(&r, version, out, &cap_t, &cap_p);
                if (version >= 2)
                        out->groups[0].error_code = kafka_wire_rd_i16(&r, "error_code");
        }
        if (flex)
                kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "OffsetFetch", version, err) == 0)
                return 0;
        kafka_wire_offsets_done(out);
        return -1;
}

void kafka_wire_metadata_done(struct kafka_wire_metadata *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_brokers; i++) {
                free(m->brokers[i].host);
                free(m->brokers[i].rack);
        }
        free(m->brokers);
        free(m->cluster_id);
        memset(m, 0, sizeof *m);
}

int kafka_wire_dec_metadata(const void *buf, size_t len, int16_t version,
                            struct kafka_wire_metadata *out, struct err *err)
{
        struct kafka_wire_rd r;
        struct kafka_wire_str s;
        bool flex = version >= 9;
        int32_t nb, nt;

        assert(version >= 1 && version <= 12);
        memset(out, 0, sizeof *out);
        out->version = version;
        out->controller_id = -1;
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, flex);
        if (version >= 3)
                out->throttle_ms = kafka_wire_rd_i32(&r, "throttle_time_ms");
        /* node, host, port, rack, [tags] */
        nb = kafka_wire_rd_array(&r, "brokers", flex, flex ? 4 + 1 + 4 + 1 + 1 : 4 + 2 + 4 + 2);
        if (nb > 0)
                out->brokers = xcalloc((size_t)nb, sizeof *out->brokers);
        for (int32_t i = 0; i < nb && !r.bad; i++) {
                struct kafka_wire_md_broker *b = &out->brokers[i];

                out->n_brokers = (size_t)i + 1;
                b->node_id = kafka_wire_rd_i32(&r, "brokers[].node_id");
                if (kafka_wire_rd_string(&r, "brokers[].host", flex, false, &s))
                        b->host = kafka_wire_str_dup(s);
                b->port = kafka_wire_rd_i32(&r, "brokers[].port");
                if (kafka_wire_rd_string(&r, "brokers[].rack", flex, true, &s))
                        b->rack = kafka_wire_str_dup(s);
                if (flex)
                        kafka_wire_rd_tags(&r, "brokers[] tagged fields");
        }
        if (version >= 2 && kafka_wire_rd_string(&r, "cluster_id", flex, true, &s))
                out->cluster_id = kafka_wire_str_dup(s);
        out->controller_id = kafka_wire_rd_i32(&r, "controller_id");
        nt = kafka_wire_rd_array(&r, "topics", flex, 1);
        if (nt > 0)
                kafka_wire_rd_fail(&r, "topics", "%d topics in the answer, asked for none", nt);
        if (version >= 8 && version <= 10)
                (void)kafka_wire_rd_i32(&r, "cluster_authorized_operations");
        if (flex)
                kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "Metadata", version, err) == 0)
                return 0;
        kafka_wire_metadata_done(out);
        return -1;
}

void kafka_wire_sasl_reply_done(struct kafka_wire_sasl_reply *r)
{
        if (!r)
                return;
        free(r->error_message);
        free(r->mechanisms);
        memset(r, 0, sizeof *r);
}

int kafka_wire_dec_sasl_handshake(const void *buf, size_t len, int16_t version,
                                  struct kafka_wire_sasl_reply *out, struct err *err)
{
        struct kafka_wire_rd r;
        struct kafka_wire_wr list;
        int32_t n;

        assert(version >= 0 && version <= 1);
        memset(out, 0, sizeof *out);
        kafka_wire_wr_init(&list);
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, false);
        out->error_code = kafka_wire_rd_i16(&r, "error_code");
        n = kafka_wire_rd_array(&r, "mechanisms", false, 2);
        for (int32_t i = 0; i < n && !r.bad; i++) {
                struct kafka_wire_str s;

                if (!kafka_wire_rd_string(&r, "mechanisms[]", false, false, &s))
                        break;
                if (list.len)
                        kafka_wire_wr_bytes(&list, ", ", 2);
                kafka_wire_wr_bytes(&list, s.p, (size_t)s.len);
        }
        if (rd_finish(&r, "SaslHandshake", version, err) == 0) {
                kafka_wire_wr_bytes(&list, "", 1);
                out->mechanisms = (char *)list.buf;
                return 0;
        }
        kafka_wire_wr_done(&list);
        kafka_wire_sasl_reply_done(out);
        return -1;
}

int kafka_wire_dec_sasl_authenticate(const void *buf, size_t len, int16_t version,
                                     struct kafka_wire_sasl_reply *out, struct err *err)
{
        struct kafka_wire_rd r;
        struct kafka_wire_str s;
        bool flex = version >= 2;
        int64_t n;

        assert(version >= 0 && version <= 2);
        memset(out, 0, sizeof *out);
        out->correlation_id = kafka_wire_rd_resp_header(&r, buf, len, flex);
        out->error_code = kafka_wire_rd_i16(&r, "error_code");
        if (kafka_wire_rd_string(&r, "error_message", flex, true, &s))
                out->error_message = kafka_wire_str_dup(s);
        /* auth_bytes: PLAIN's final answer is empty; skipped. */
        n = flex ? (int64_t)kafka_wire_rd_uvarint(&r, "auth_bytes") - 1
                 : kafka_wire_rd_i32(&r, "auth_bytes");
        if (!r.bad && (n < 0 || (uint64_t)n > r.len - r.off))
                kafka_wire_rd_fail(&r, "auth_bytes", "invalid length %lld", (long long)n);
        else
                kafka_wire_rd_skip(&r, "auth_bytes", (size_t)(n < 0 ? 0 : n));
        if (version >= 1)
                out->session_lifetime_ms = kafka_wire_rd_i64(&r, "session_lifetime_ms");
        if (flex)
                kafka_wire_rd_tags(&r, "tagged fields");
        if (rd_finish(&r, "SaslAuthenticate", version, err) == 0)
                return 0;
        kafka_wire_sasl_reply_done(out);
        return -1;
}

int kafka_wire_pick_version(const struct kafka_wire_api_versions *av, int16_t key,
                            int16_t our_min, int16_t our_max)
{
        for (size_t i = 0; i < av->n_keys; i++) {
                const struct kafka_wire_api_range *k = &av->keys[i];
                int lo, hi;

                if (k->key != key)
                        continue;
                lo = k->min > our_min ? k->min : our_min;
                hi = k->max < our_max ? k->max : our_max;
                return lo <= hi ? hi : -1;
        }
        return -1;
}

static const struct {
        int16_t code;
        const char *name;
        const char *hint;       /* what to check; may be NULL */
} kafka_wire_errors[] = {
        { -1, "UNKNOWN_SERVER_ERROR", "see the broker log" },
        { 3, "UNKNOWN_TOPIC_OR_PARTITION",
          "no KRaft metadata partition here (ZooKeeper mode?)" },
        { 5, "LEADER_NOT_AVAILABLE", "the quorum is electing a leader; retry" },
        { 6, "NOT_LEADER_OR_FOLLOWER",
          "this controller is not the quorum leader; ask a broker (it forwards) or the active controller" },
        { 7, "REQUEST_TIMED_OUT", "the controller did not answer the broker in time" },
        { 8, "BROKER_NOT_AVAILABLE", NULL },
        { 15, "COORDINATOR_NOT_AVAILABLE", NULL },
        { 31, "CLUSTER_AUTHORIZATION_FAILED",
          "the client principal needs DESCRIBE on the CLUSTER resource" },
        { 33, "UNSUPPORTED_SASL_MECHANISM", NULL },
        { 34, "ILLEGAL_SASL_STATE", "the listener requires SASL authentication" },
        { 35, "UNSUPPORTED_VERSION", "the broker refused our request version" },
        { 41, "NOT_CONTROLLER", "the active controller moved; retry" },
        { 42, "INVALID_REQUEST", "the broker rejected the request as malformed" },
        { 58, "SASL_AUTHENTICATION_FAILED", "check the SASL credentials" },
};

const char *kafka_wire_error_name(int16_t code)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(kafka_wire_errors); i++)
                if (kafka_wire_errors[i].code == code)
                        return kafka_wire_errors[i].name;
        return NULL;
}

static const char *kafka_wire_error_hint(int16_t code)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(kafka_wire_errors); i++)
                if (kafka_wire_errors[i].code == code)
                        return kafka_wire_errors[i].hint;
        return NULL;
}

/* Appends " (from peer)" context to a decoder message. */
void kafka_wire_err_from(struct err *err, const char *peer)
{
        char msg[sizeof err->msg];

        if (!err)
                return;
        str_copy(msg, err->msg, sizeof msg);
        err_set(err, err->code, "%s (from %s)", msg, peer);
}

void kafka_wire_err_broker(struct err *err, const char *what, const char *peer,
                           int16_t code, const char *message)
{
        const char *name = kafka_wire_error_name(code), *hint = kafka_wire_error_hint(code);

        err_set(err, KWIRE_E_BROKER, "%s on %s: broker error code %d%s%s%s%s%s%s",
                what, peer, code,
                name ? " (" : "", name ? name : "", name ? ")" : "",
                message ? ": " : "", message ? message : "",
                hint ? "; " : "");
        if (hint && err) {
                size_t n = strlen(err->msg);

                str_copy(err->msg + n, hint, sizeof err->msg - n);
        }
}

int kafka_wire_dec_response(int16_t key, int16_t version, const uint8_t *buf, size_t len,
                            int32_t sent, const char *peer, void *out, struct err *err)
{
        const char *what;
        int32_t got;
        int rc;

        switch (key) {
        case KWIRE_API_VERSIONS:
                what = "ApiVersions";
                rc = kafka_wire_dec_api_versions(buf, len, version, out, err);
                got = ((struct kafka_wire_api_versions *)out)->correlation_id;
                break;
        case KWIRE_DESCRIBE_QUORUM:
                what = "DescribeQuorum";
                rc = kafka_wire_dec_describe_quorum(buf, len, version, out, err);
                got = ((struct kafka_wire_quorum *)out)->correlation_id;
                break;
        case KWIRE_SASL_HANDSHAKE:
                what = "SaslHandshake";
                rc = kafka_wire_dec_sasl_handshake(buf, len, version, out, err);
                got = ((struct kafka_wire_sasl_reply *)out)->correlation_id;
                break;
        case KWIRE_SASL_AUTHENTICATE:
                what = "SaslAuthenticate";
                rc = kafka_wire_dec_sasl_authenticate(buf, len, version, out, err);
                got = ((struct kafka_wire_sasl_reply *)out)->correlation_id;
                break;
        case KWIRE_FIND_COORDINATOR:
                what = "FindCoordinator";
                rc = kafka_wire_dec_find_coordinator(buf, len, version, out, err);
                got = ((struct kafka_wire_coordinators *)out)->correlation_id;
                break;
        case KWIRE_OFFSET_FETCH:
                what = "OffsetFetch";
                rc = kafka_wire_dec_offset_fetch(buf, len, version, out, err);
                got = ((struct kafka_wire_offsets *)out)->correlation_id;
                break;
        case KWIRE_METADATA:
                what = "Metadata";
                rc = kafka_wire_dec_metadata(buf, len, version, out, err);
                got = ((struct kafka_wire_metadata *)out)->correlation_id;
                break;
        default:
                assert(!"kafka_wire_dec_response: an API without a decoder");
                return -1;
        }
        if (rc) {
                kafka_wire_err_from(err, peer);
                return -1;
        }
        if (got == sent)
                return 0;
        err_set(err, KWIRE_E_PROTO, "%s response from %s has correlation id %d, sent %d",
                what, peer, got, sent);
        switch (key) {
        case KWIRE_API_VERSIONS:
                kafka_wire_api_versions_done(out);
                break;
        case KWIRE_DESCRIBE_QUORUM:
                kafka_wire_quorum_done(out);
                break;
        case KWIRE_SASL_HANDSHAKE:
        case KWIRE_SASL_AUTHENTICATE:
                kafka_wire_sasl_reply_done(out);
                break;
        case KWIRE_FIND_COORDINATOR:
                kafka_wire_coordinators_done(out);
                break;
        case KWIRE_OFFSET_FETCH:
                kafka_wire_offsets_done(out);
                break;
        default:
                kafka_wire_metadata_done(out);
                break;
        }
        return -1;
}
