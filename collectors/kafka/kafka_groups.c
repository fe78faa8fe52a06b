/*
 * Kafka collector: consumer groups on the admin API (see kafka.c).
 */
#include "collectors/kafka/kafka_int.h"

/* ------------------------------------------------------------------------
 * Consumer groups on the admin API
 */

struct kafka_gstate *kafka_gstate_find(struct kafka_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_groups; i++)
                if (strcmp(st->groups[i].name, name) == 0)
                        return &st->groups[i];
        return NULL;
}

struct kafka_gstate *kafka_gstate_add(struct kafka_state *st, const char *name,
                                      bool configured)
{
        struct kafka_gstate *gs;

        st->groups = xrealloc(st->groups, (st->n_groups + 1) * sizeof *st->groups);
        gs = &st->groups[st->n_groups++];
        memset(gs, 0, sizeof *gs);
        gs->name = xstrdup(name);
        gs->configured = configured;
        gs->members = -1;
        return gs;
}

void kafka_gstate_commits_free(struct kafka_gstate *gs)
{
        for (size_t i = 0; i < gs->n_topics; i++)
                free(gs->topics[i]);
        free(gs->topics);
        free(gs->commits);
        gs->topics = NULL;
        gs->commits = NULL;
        gs->n_topics = gs->n_commits = 0;
}

void kafka_acc_reset(struct kafka_gstate *gs)
{
        free(gs->acc);
        gs->acc = NULL;
        gs->n_acc = gs->cap_acc = 0;
        kafka_map_done(&gs->acc_names, NULL);   /* values are the keys */
        gs->chunk_failed = false;
}

/* Forgets requests in flight (the handle that carried them is gone). */
void kafka_gstate_abort(struct kafka_gstate *gs)
{
        gs->inflight = false;
        gs->pending = 0;
        kafka_acc_reset(gs);
}

void kafka_gstate_describe_reset(struct kafka_gstate *gs)
{
        gs->described = false;
        free(gs->desc_state);
        gs->desc_state = NULL;
        gs->members = -1;
        if (gs->assigned)
                rd_kafka_topic_partition_list_destroy(gs->assigned);
        gs->assigned = NULL;
}

void kafka_gstate_done(struct kafka_gstate *gs)
{
        free(gs->name);
        free(gs->list_state);
        kafka_gstate_commits_free(gs);
        kafka_acc_reset(gs);
        kafka_gstate_describe_reset(gs);
}

static struct kafka_req *kafka_req_new(struct kafka_state *st, enum kafka_req_kind kind,
                                       const char *group, bool expl)
{
        struct kafka_req *rq = xcalloc(1, sizeof *rq);

        rq->kind = kind;
        rq->group = xstrdup(group);
        rq->explicit_parts = expl;
        rq->issued = clock_mono_ms();
        rq->next = st->reqs;
        if (st->reqs)
                st->reqs->prev = rq;
        st->reqs = rq;
        return rq;
}

static rd_kafka_AdminOptions_t *kafka_admin_opts(struct kafka_state *st, rd_kafka_admin_op_t op,
                                                 struct kafka_req *rq)
{
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(st->rk, op);
        char es[256];

        rd_kafka_AdminOptions_set_request_timeout(o, KAFKA_ADMIN_TIMEOUT_MS, es, sizeof es);
        rd_kafka_AdminOptions_set_opaque(o, rq);
        return o;
}

void kafka_issue_list(struct kafka_state *st)
{
        struct kafka_req *rq;
        rd_kafka_AdminOptions_t *o;

        if (st->list_inflight || clock_mono_ms() < st->list_next)
                return;
        rq = kafka_req_new(st, KAFKA_REQ_LIST, NULL, false);
        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, rq);
        rd_kafka_ListConsumerGroups(st->rk, o, st->adminq);
        rd_kafka_AdminOptions_destroy(o);
        st->list_inflight = true;
}

void kafka_issue_describe(struct kafka_state *st)
{
        const char **names;
        struct kafka_req *rq;
        rd_kafka_AdminOptions_t *o;

        if (st->desc_inflight || st->n_groups == 0)
                return;
        names = xcalloc(st->n_groups, sizeof *names);
        for (size_t i = 0; i < st->n_groups; i++)
                names[i] = st->groups[i].name;
        rq = kafka_req_new(st, KAFKA_REQ_DESCRIBE, NULL, false);
        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, rq);
        rd_kafka_DescribeConsumerGroups(st->rk, names, st->n_groups, o, st->adminq);
        rd_kafka_AdminOptions_destroy(o);
        free(names);
        st->desc_inflight = true;
}

/* Sends queued offsets requests while fewer than KAFKA_OFFSETS_INFLIGHT
 * are in flight. Chunks of a group that is gone are dropped. */
static void kafka_offsets_pump(struct kafka_state *st)
{
        while (st->backlog && st->n_offsets_inflight < KAFKA_OFFSETS_INFLIGHT) {
                struct kafka_chunk *c = st->backlog;
                rd_kafka_ListConsumerGroupOffsets_t *req;
                rd_kafka_AdminOptions_t *o;
                struct kafka_req *rq;

                st->backlog = c->next;
                if (!st->backlog)
                        st->backlog_tail = NULL;
                if (kafka_gstate_find(st, c->group)) {
                        rq = kafka_req_new(st, KAFKA_REQ_OFFSETS, c->group, c->parts != NULL);
                        req = rd_kafka_ListConsumerGroupOffsets_new(c->group, c->parts);
                        o = kafka_admin_opts(st, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, rq);
                        rd_kafka_ListConsumerGroupOffsets(st->rk, &req, 1, o, st->adminq);
                        rd_kafka_AdminOptions_destroy(o);
                        rd_kafka_ListConsumerGroupOffsets_destroy(req);
                        st->n_offsets_inflight++;
                }
                kafka_chunk_free(c);
        }
}

/* One offsets request of gs: all partitions (parts NULL) or a chunk, which
 * this takes ownership of. Queued, and sent as slots free up (see
 * KAFKA_OFFSETS_INFLIGHT); it counts as pending for the group at once. */
static void kafka_issue_one(struct kafka_state *st, struct kafka_gstate *gs,
                            rd_kafka_topic_partition_list_t *parts)
{
        struct kafka_chunk *c = xcalloc(1, sizeof *c);

        c->group = xstrdup(gs->name);
        c->parts = parts;
        if (st->backlog_tail)
                st->backlog_tail->next = c;
        else
                st->backlog = c;
        st->backlog_tail = c;
        gs->pending++;
        gs->inflight = true;
        kafka_offsets_pump(st);
}

static void kafka_chunk_add(struct kafka_state *st, struct kafka_gstate *gs,
                            rd_kafka_topic_partition_list_t **l, const struct kafka_topic *t)
{
        for (int p = 0; p < t->partitions; p++) {
                if (!*l)
                        *l = rd_kafka_topic_partition_list_new(KAFKA_CHUNK);
                rd_kafka_topic_partition_list_add(*l, t->name, t->parts[p].id);
                if ((*l)->cnt >= KAFKA_CHUNK) {
                        kafka_issue_one(st, gs, *l);
                        *l = NULL;
                }
        }
}

/* Explicit partitions: every partition of the cluster (scan) or of the
 * topics the group has commits in, in chunks of KAFKA_CHUNK. librdkafka
 * 2.0.2 matches each partition of an OffsetFetch answer against the
 * answer list built so far, linearly, so one request for n partitions
 * costs O(n^2) on its main thread (20 groups x 10,000 partitions took
 * 3.7 s); chunks keep that linear in n. Each request in turn has a fixed
 * cost that grows with the number in flight (its timeout timer goes into
 * a sorted list), so the chunks of all groups share KAFKA_OFFSETS_INFLIGHT
 * slots (kafka_offsets_pump). On the 10,000-partition bench (20 groups
 * scanning every partition, ~1,600 requests) 128 x 32, with O(1) request
 * bookkeeping (kafka_on_event), took ~20% less CPU than 256 unbounded;
 * 32- and 64-partition chunks were no better, 512 and 1024 worse.
 * Returns the number of requests queued. */
int kafka_issue_explicit(struct kafka_state *st, struct kafka_gstate *gs, bool scan)
{
        rd_kafka_topic_partition_list_t *l = NULL;
        int before = gs->pending;

        if (scan) {
                for (size_t t = 0; t < st->n_all; t++)
                        kafka_chunk_add(st, gs, &l, &st->all[t]);
                gs->scanned = st->poll_seq;
        } else {
                for (size_t i = 0; i < gs->n_topics; i++) {
                        const struct kafka_topic *t = kafka_topic_find(st->all, st->n_all,
                                                                       gs->topics[i]);

                        if (t)
                                kafka_chunk_add(st, gs, &l, t);
                }
        }
        if (l)
                kafka_issue_one(st, gs, l);
        return gs->pending - before;
}

/* The offsets of one group for this poll: "all partitions" (one request),
 * or for a group known to need it explicit partitions: the topics it has
 * commits in, every partition now and then (KAFKA_RESCAN_POLLS, one group
 * per poll) and whenever it has none. */
void kafka_issue_offsets(struct kafka_state *st, struct kafka_gstate *gs)
{
        bool scan;

        kafka_acc_reset(gs);
        gs->pending = 0;
        if (!gs->explicit_mode) {
                kafka_issue_one(st, gs, NULL);
                return;
        }
        scan = gs->n_topics == 0;
        if (!scan && !st->rescan_used && st->poll_seq - gs->scanned >= KAFKA_RESCAN_POLLS) {
                scan = true;
                st->rescan_used = true;
        }
        if (kafka_issue_explicit(st, gs, scan) == 0 &&
            (scan || kafka_issue_explicit(st, gs, true) == 0)) {
                /* No partitions to ask about: nothing can be committed. */
                kafka_gstate_commits_free(gs);
                gs->answered = true;
        }
}

static void kafka_on_list(struct kafka_state *st, rd_kafka_event_t *ev)
{
        const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupListing_t **valid;
        const rd_kafka_error_t **errs;
        size_t nv = 0, ne = 0, unsupported = 0, k = 0;

        if (rd_kafka_event_error(ev) || !res) {
                snprintf(st->list_note, sizeof st->list_note, "group listing failed: %s",
                         rd_kafka_event_error_string(ev));
                return;
        }
        valid = rd_kafka_ListConsumerGroups_result_valid(res, &nv);
        errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
        for (size_t i = 0; i < ne; i++)
                unsupported += rd_kafka_error_code(errs[i]) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
        if (nv == 0 && ne > 0 && unsupported == ne) {
                st->list_support = 0;
                st->list_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                str_copy(st->list_note, "group listing not supported by the brokers (no ListGroups "
                         "API): watching only the configured groups", sizeof st->list_note);
                return;
        }
        st->list_support = 1;
        if (ne)
                snprintf(st->list_note, sizeof st->list_note,
                         "group listing incomplete: %zu broker%s failed (%s)", ne, ne == 1 ? "" : "s",
                         rd_kafka_error_string(errs[0]));
        else
                st->list_note[0] = '\0';
        if (ne == 0)
                for (size_t i = 0; i < st->n_groups; i++)
                        st->groups[i].listed = false;
        for (size_t i = 0; i < nv; i++) {
                const char *id = rd_kafka_ConsumerGroupListing_group_id(valid[i]);
                struct kafka_gstate *gs;

                if (!id)
                        continue;
                gs = kafka_gstate_find(st, id);
                if (!gs)
                        gs = kafka_gstate_add(st, id, false);
                gs->listed = true;
                free(gs->list_state);
                gs->list_state = xstrdup(rd_kafka_consumer_group_state_name(
                        rd_kafka_ConsumerGroupListing_state(valid[i])));
        }
        if (ne)
                return;
        /* A complete listing: discovered groups that are gone are dropped
         * (their in-flight request, if any, finds no group and is ignored). */
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                if (gs->configured || gs->listed)
                        st->groups[k++] = *gs;
                else
                        kafka_gstate_done(gs);
        }
        st->n_groups = k;
}

static void kafka_on_describe(struct kafka_state *st, rd_kafka_event_t *ev)
{
        const rd_kafka_DescribeConsumerGroups_result_t *res =
                rd_kafka_event_DescribeConsumerGroups_result(ev);
        const rd_kafka_ConsumerGroupDescription_t **gds;
        size_t n = 0;

        if (rd_kafka_event_error(ev) || !res)
                return;
        gds = rd_kafka_DescribeConsumerGroups_result_groups(res, &n);
        for (size_t i = 0; i < n; i++) {
                const rd_kafka_ConsumerGroupDescription_t *gd = gds[i];
                struct kafka_gstate *gs;
                size_t nm;

                gs = kafka_gstate_find(st, rd_kafka_ConsumerGroupDescription_group_id(gd));
                if (!gs || rd_kafka_ConsumerGroupDescription_error(gd))
                        continue;
                kafka_gstate_describe_reset(gs);
                gs->described = true;
                gs->desc_state = xstrdup(rd_kafka_consumer_group_state_name(
                        rd_kafka_ConsumerGroupDescription_state(gd)));
                nm = rd_kafka_ConsumerGroupDescription_member_count(gd);
                gs->members = nm > INT32_MAX ? INT32_MAX : (int)nm;
                gs->assigned = rd_kafka_topic_partition_list_new(0);
                for (size_t m = 0; m < nm; m++) {
                        const rd_kafka_MemberDescription_t *md;
                        const rd_kafka_MemberAssignment_t *ma = NULL;
                        const rd_kafka_topic_partition_list_t *pl = NULL;

                        md = rd_kafka_ConsumerGroupDescription_member(gd, m);
                        if (md)
                                ma = rd_kafka_MemberDescription_assignment(md);
                        if (ma)
                                pl = rd_kafka_MemberAssignment_partitions(ma);

                        for (int k = 0; pl && k < pl->cnt; k++)
                                rd_kafka_topic_partition_list_add(gs->assigned, pl->elems[k].topic,
                                                                  pl->elems[k].partition);
                }
                rd_kafka_topic_partition_list_sort(gs->assigned, NULL, NULL);
        }
}

/* The accumulator's copy of topic name `topic` (interned: one per name). */
const char *kafka_acc_name(struct kafka_gstate *gs, const char *topic)
{
        char *name = kafka_map_get(&gs->acc_names, topic);

        if (!name) {
                name = xstrdup(topic);
                kafka_map_put(&gs->acc_names, name, name);
        }
        return name;
}

/* Appends one committed offset to the group's accumulator. */
void kafka_acc_push(struct kafka_gstate *gs, const char *name, int32_t partition,
                    int64_t offset, const void *meta, size_t meta_len)
{
        struct kafka_commit *c;

        if (gs->n_acc == gs->cap_acc) {
                gs->cap_acc = gs->cap_acc ? 2 * gs->cap_acc : 64;
                gs->acc = xrealloc(gs->acc, gs->cap_acc * sizeof *gs->acc);
        }
        c = &gs->acc[gs->n_acc++];
        c->topic = name;
        c->partition = partition;
        c->offset = offset;
        c->meta_hash = meta && meta_len ? kafka_hash(meta, meta_len) | 1 : 0;
}

/* Adds the committed offsets (offset >= 0) of one answer (or chunk) to the
 * group's accumulator, topic names interned. Returns how many. */
static size_t kafka_acc_add(struct kafka_gstate *gs, const rd_kafka_topic_partition_list_t *pl)
{
        size_t n = 0;

        for (int i = 0; pl && i < pl->cnt; i++) {
                const rd_kafka_topic_partition_t *x = &pl->elems[i];

                if (x->err != RD_KAFKA_RESP_ERR_NO_ERROR || x->offset < 0 || !x->topic)
                        continue;
                kafka_acc_push(gs, kafka_acc_name(gs, x->topic), x->partition, x->offset,
                               x->metadata, x->metadata_size);
                n++;
        }
        return n;
}

/* The accumulated answer becomes the group's commits. */
void kafka_acc_commit(struct kafka_gstate *gs)
{
        struct kafka_map *m = &gs->acc_names;

        kafka_gstate_commits_free(gs);
        gs->commits = gs->acc;
        gs->n_commits = gs->n_acc;
        gs->topics = xcalloc(m->n ? m->n : 1, sizeof *gs->topics);
        for (size_t i = 0; i < m->cap; i++)
                if (m->v[i].key)
                        gs->topics[gs->n_topics++] = m->v[i].key;      /* ownership moves */
        free(m->v);
        memset(m, 0, sizeof *m);
        gs->acc = NULL;
        gs->n_acc = gs->cap_acc = 0;
}

void kafka_on_offsets(struct kafka_state *st, rd_kafka_event_t *ev, const struct kafka_req *rq)
{
        struct kafka_gstate *gs = kafka_gstate_find(st, rq->group);
        const rd_kafka_ListConsumerGroupOffsets_result_t *res;
        const rd_kafka_group_result_t **grs;
        const rd_kafka_error_t *ge;
        const char *why = NULL;
        size_t n = 0, got = 0;

        if (!gs || gs->pending <= 0)
                return;
        gs->pending--;
        res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
        if (rd_kafka_event_error(ev) || !res)
                why = rd_kafka_event_error_string(ev);
        else if ((grs = rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n)) == NULL || n < 1)
                why = "empty answer";
        else if ((ge = rd_kafka_group_result_error(grs[0])) != NULL)
                why = rd_kafka_error_string(ge);
        else
                got = kafka_acc_add(gs, rd_kafka_group_result_partitions(grs[0]));
        if (why) {
                gs->chunk_failed = true;
                str_copy(gs->errmsg, why, sizeof gs->errmsg);
        }
        if (gs->pending > 0)
                return;
        gs->inflight = false;
        if (gs->chunk_failed) {
                kafka_acc_reset(gs);
                return;
        }
        if (!rq->explicit_parts && got > 0)
                st->all_works = true;
        if (!rq->explicit_parts && got == 0 && st->n_all > 0 && !st->all_works) {
                /* "All partitions" came back empty: the mock cluster answers
                 * so, and so does a group without commits. Until some group's
                 * "all" answer shows the brokers implement it, ask
                 * explicitly. */
                kafka_acc_reset(gs);
                if (kafka_issue_explicit(st, gs, true) > 0)
                        return;
        }
        if (rq->explicit_parts && gs->n_acc > 0)
                gs->explicit_mode = true;
        kafka_acc_commit(gs);
        gs->answered = true;
        gs->errmsg[0] = '\0';
}

/* Every event on adminq carries one of our requests as its opaque: adminq
 * and the requests go together in kafka_drop, so the pointer is live.
 * Unlinking is O(1) because hundreds of requests can be in flight. */
void kafka_on_event(struct kafka_state *st, rd_kafka_event_t *ev)
{
        struct kafka_req *rq = rd_kafka_event_opaque(ev);

        if (!rq) {
                rd_kafka_event_destroy(ev);
                return;
        }
        if (rq->prev)
                rq->prev->next = rq->next;
        else
                st->reqs = rq->next;
        if (rq->next)
                rq->next->prev = rq->prev;
        switch (rq->kind) {
        case KAFKA_REQ_LIST:
                st->list_inflight = false;
                kafka_on_list(st, ev);
                break;
        case KAFKA_REQ_DESCRIBE:
                st->desc_inflight = false;
                kafka_on_describe(st, ev);
                break;
        case KAFKA_REQ_OFFSETS:
                st->n_offsets_inflight--;
                kafka_on_offsets(st, ev, rq);
                kafka_offsets_pump(st);
                break;
        }
        free(rq->group);
        free(rq);
        rd_kafka_event_destroy(ev);
}

/* The bootstrap brokers as kafka_wire endpoints: *eps (owned) point into
 * *hosts (owned). Returns how many. */
size_t kafka_endpoints(const struct kafka_state *st, struct kafka_wire_endpoint **eps,
                       char (**hosts)[256])
{
        char *list = xstrdup(st->cfg->bootstrap), *save = NULL;
        size_t n = 0, cap = 0;

        *eps = NULL;
        *hosts = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                struct err e;
                int port;

                if (n == cap) {
                        cap = cap ? 2 * cap : 4;
                        *eps = xrealloc(*eps, cap * sizeof **eps);
                        *hosts = xrealloc(*hosts, cap * sizeof **hosts);
                }
                err_clear(&e);
                if (kafka_hostport_parse(tok, (*hosts)[n], sizeof (*hosts)[n], &port, &e) != 0)
                        continue;
                (*eps)[n].port = port;
                n++;
        }
        for (size_t i = 0; i < n; i++)
                (*eps)[i].host = (*hosts)[i];
        free(list);
        return n;
}

/* Racks, which librdkafka 2.0.2's metadata lacks, from our own Metadata
 * request: on the first poll, when a broker id appears that the last
 * answer did not have, and every KAFKA_QUORUM_RETRY_MS; after a failure
 * not again for a minute. Not where kafka_wire cannot authenticate (SASL
 * other than PLAIN): there rack stays null. */
void kafka_racks(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end,
                 struct kafka_data *d)
{
        int64_t now = clock_mono_ms();
        bool stale = st->racks_next == 0 || now >= st->racks_next;

        if ((st->sasl && !st->sasl_ok) || (st->use_tls && !st->tls))
                return;
        for (size_t i = 0; i < d->n_brokers && !stale; i++) {
                bool have = false;

                for (size_t j = 0; j < st->n_racks && !have; j++)
                        have = st->racks[j].id == d->brokers[i].id;
                stale = !have && d->brokers[i].in_metadata &&
                        st->racks_retry_at <= now;
        }
        if (stale && !coll_stopping(ctx)) {
                struct kafka_wire_endpoint *eps;
                char (*hosts)[256];
                size_t n = kafka_endpoints(st, &eps, &hosts);
                struct kafka_wire_metadata md;
                struct coll_ctx mc = *ctx;
                struct err e;
                int64_t left = end - now;

                /* At most a quarter of the poll: racks are a nicety. */
                mc.deadline_mono = now + (left > 4 ? left / 4 : left);
                err_clear(&e);
                if (kafka_wire_fetch_metadata(eps, n, &st->sec, &mc, &md,
                                              &e) == 0) {
                        for (size_t j = 0; j < st->n_racks; j++)
                                free(st->racks[j].rack);
                        free(st->racks);
                        st->racks = xcalloc(md.n_brokers ? md.n_brokers : 1,
                                            sizeof *st->racks);
                        st->n_racks = md.n_brokers;
                        for (size_t j = 0; j < md.n_brokers; j++) {
                                st->racks[j].id = md.brokers[j].node_id;
                                st->racks[j].rack = md.brokers[j].rack
                                                    ? xstrdup(md.brokers[j].rack) : NULL;
                        }
                        st->racks_next = clock_mono_ms() + KAFKA_QUORUM_RETRY_MS;
                        st->racks_retry_at = 0;
                } else {
                        st->racks_retry_at = clock_mono_ms() + 60000;
                        if (st->racks_next == 0 || st->racks_next <= now)
                                st->racks_next = st->racks_retry_at;
                }
                kafka_wire_metadata_done(&md);
                free(eps);
                free(hosts);
        }
        for (size_t i = 0; i < d->n_brokers; i++)
                for (size_t j = 0; j < st->n_racks; j++)
                        if (st->racks[j].id == d->brokers[i].id && st->racks[j].rack &&
                            !d->brokers[i].rack)
                                d->brokers[i].rack = xstrdup(st->racks[j].rack);
}
