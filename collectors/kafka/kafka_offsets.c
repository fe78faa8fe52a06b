/*
 * Kafka collector: committed offsets over the wire protocol (see kafka.c).
 */
#include "collectors/kafka/kafka_int.h"

/* ------------------------------------------------------------------------
 * Committed offsets over the wire protocol
 *
 * librdkafka 2.0.2's admin path costs O(n) per partition on its main thread
 * with several copies and O(n^2) matching (see kafka_issue_explicit), which
 * made the first poll of 20 groups x 10,000 partitions take 250-400 ms
 * against the mock cluster (it answers "all partitions" with nothing). Where
 * kafka_wire can reach the brokers (plaintext, ssl, SASL PLAIN) the collector
 * asks itself: FindCoordinator, then one OffsetFetch per group (or per 16 groups
 * at v8) with every partition, pipelined on one connection per coordinator,
 * decoded in one pass. The rules are those of the admin path: "all
 * partitions" first; an empty answer while no group's "all" answer has shown
 * commits means an explicit scan of every partition; a group found so keeps
 * asking explicitly about the topics it has commits in, with the rotating
 * full rescan (KAFKA_RESCAN_POLLS).
 */

struct kafka_wctx {
        struct kafka_state *st;
        size_t  *gi;                    /* request -> index into st->groups */
        bool    *all;                   /* request asked for all partitions */
};

/* Adds the committed offsets of one group's answer to its accumulator. */
static size_t kafka_acc_add_wire(struct kafka_gstate *gs, const struct kafka_wire_offsets *res,
                                 const struct kafka_wire_of_group *g)
{
        const char *name = NULL;
        uint32_t cur = UINT32_MAX;
        size_t n = 0;

        for (size_t i = g->first_part; i < g->first_part + g->n_parts; i++) {
                const struct kafka_wire_of_part *x = &res->parts[i];

                if (x->error_code != KWIRE_ERR_NONE || x->offset < 0)
                        continue;
                if (x->topic != cur) {
                        const struct kafka_wire_str *t = &res->topics[x->topic].name;
                        char buf[256];

                        cur = x->topic;
                        name = NULL;
                        if (!t->p || (size_t)t->len >= sizeof buf)
                                continue;       /* Kafka topic names are <= 249 bytes */
                        memcpy(buf, t->p, (size_t)t->len);
                        buf[t->len] = '\0';
                        name = kafka_acc_name(gs, buf);
                }
                if (!name)
                        continue;
                kafka_acc_push(gs, name, x->partition, x->offset, x->metadata.p,
                               x->metadata.len > 0 ? (size_t)x->metadata.len : 0);
                n++;
        }
        return n;
}

static void kafka_wire_cb(void *arg, size_t i, const struct kafka_wire_offsets *res,
                          const struct kafka_wire_of_group *g, const struct err *e)
{
        struct kafka_wctx *w = arg;
        struct kafka_state *st = w->st;
        struct kafka_gstate *gs = &st->groups[w->gi[i]];
        size_t got;

        if (e) {
                str_copy(gs->errmsg, e->msg, sizeof gs->errmsg);
                return;
        }
        if (g->error_code != KWIRE_ERR_NONE) {
                const char *nm = kafka_wire_error_name(g->error_code);

                snprintf(gs->errmsg, sizeof gs->errmsg, "OffsetFetch: broker error code %d%s%s%s",
                         g->error_code, nm ? " (" : "", nm ? nm : "", nm ? ")" : "");
                return;
        }
        kafka_acc_reset(gs);
        got = kafka_acc_add_wire(gs, res, g);
        if (w->all[i] && got > 0)
                st->all_works = true;
        if (w->all[i] && got == 0 && st->n_all > 0 && !st->all_works) {
                /* As in kafka_on_offsets: ask about every partition. */
                kafka_acc_reset(gs);
                gs->wire_want = true;
                gs->wire_scan = true;
                return;
        }
        if (!w->all[i] && gs->n_acc > 0)
                gs->explicit_mode = true;
        kafka_acc_commit(gs);
        gs->answered = true;
        gs->errmsg[0] = '\0';
}

/* Asks about every group with wire_want, twice at most (the second time
 * for groups whose "all partitions" answer came back empty). */
void kafka_offsets_from_wire(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end)
{
        struct kafka_wire_of_topic_req *tops = NULL;         /* one per topic of st->all */
        struct kafka_wire_endpoint *eps = NULL;
        char (*hosts)[256] = NULL;
        size_t n_eps = kafka_endpoints(st, &eps, &hosts);
        int32_t *ids = NULL;
        struct coll_ctx wc = *ctx;

        wc.deadline_mono = end;
        if (st->n_all) {
                size_t total = 0, k = 0;

                for (size_t t = 0; t < st->n_all; t++)
                        total += (size_t)st->all[t].partitions;
                ids = xmalloc((total ? total : 1) * sizeof *ids);
                tops = xcalloc(st->n_all, sizeof *tops);
                for (size_t t = 0; t < st->n_all; t++) {
                        tops[t].name = st->all[t].name;
                        tops[t].parts = ids + k;
                        tops[t].n_parts = (size_t)st->all[t].partitions;
                        for (int p = 0; p < st->all[t].partitions; p++)
                                ids[k++] = st->all[t].parts[p].id;
                }
        }
        for (int pass = 0; pass < 2 && !coll_stopping(ctx); pass++) {
                struct kafka_wire_of_group_req *reqs = xcalloc(st->n_groups + 1, sizeof *reqs);
                struct kafka_wire_of_topic_req **own = xcalloc(st->n_groups + 1, sizeof *own);
                struct kafka_wctx w = { .st = st };
                size_t n = 0;

                w.gi = xcalloc(st->n_groups + 1, sizeof *w.gi);
                w.all = xcalloc(st->n_groups + 1, sizeof *w.all);
                for (size_t i = 0; i < st->n_groups; i++) {
                        struct kafka_gstate *gs = &st->groups[i];
                        bool scan = gs->wire_scan;
                        struct kafka_wire_of_group_req *r = &reqs[n];

                        if (!gs->wire_want)
                                continue;
                        gs->wire_want = false;
                        gs->wire_scan = false;
                        kafka_acc_reset(gs);
                        r->group = gs->name;
                        if (!scan && !gs->explicit_mode) {
                                r->all = true;
                        } else {
                                if (!scan)
                                        scan = gs->n_topics == 0;
                                if (!scan && !st->rescan_used &&
                                    st->poll_seq - gs->scanned >= KAFKA_RESCAN_POLLS) {
                                        scan = true;
                                        st->rescan_used = true;
                                }
                                if (scan) {
                                        r->topics = tops;
                                        r->n_topics = st->n_all;
                                        gs->scanned = st->poll_seq;
                                } else {
                                        struct kafka_wire_of_topic_req *o;

                                        o = own[n] = xcalloc(gs->n_topics + 1, sizeof *o);
                                        for (size_t t = 0; t < gs->n_topics; t++) {
                                                const struct kafka_topic *kt =
                                                        kafka_topic_find(st->all, st->n_all,
                                                                         gs->topics[t]);

                                                if (kt)
                                                        o[r->n_topics++] =
                                                                tops[kt - st->all];
                                        }
                                        r->topics = o;
                                        if (r->n_topics == 0) {
                                                /* Its topics are gone: scan. */
                                                r->topics = tops;
                                                r->n_topics = st->n_all;
                                                gs->scanned = st->poll_seq;
                                        }
                                }
                                if (r->n_topics == 0) {
                                        /* No partitions to ask about: nothing can be
                                         * committed. */
                                        kafka_gstate_commits_free(gs);
                                        gs->answered = true;
                                        free(own[n]);
                                        own[n] = NULL;
                                        memset(r, 0, sizeof *r);
                                        continue;
                                }
                        }
                        w.gi[n] = i;
                        w.all[n] = r->all;
                        n++;
                }
                if (n > 0)
                        (void)kafka_wire_fetch_offsets(eps, n_eps, &st->sec, reqs, n, &wc,
                                                       kafka_wire_cb, &w);
                for (size_t i = 0; i < n; i++)
                        free(own[i]);
                free(own);
                free(reqs);
                free(w.gi);
                free(w.all);
                if (n == 0)
                        break;
        }
        /* A group still wanting (no time for the second pass) stays unanswered. */
        for (size_t i = 0; i < st->n_groups; i++)
                st->groups[i].wire_want = false;
        free(ids);
        free(tops);
        free(eps);
        free(hosts);
}

static void kafka_groups_issue(struct kafka_state *st)
{
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                if (!gs->inflight && !gs->issued) {
                        gs->issued = true;
                        if (st->wire)
                                gs->wire_want = true;
                        else
                                kafka_issue_offsets(st, gs);
                }
        }
        if (st->list_support == 1 && !st->desc_issued && !st->desc_inflight) {
                st->desc_issued = true;
                kafka_issue_describe(st);
        }
}

/* Per-poll reset, late answers, new requests. */
void kafka_groups_begin(struct kafka_state *st)
{
        rd_kafka_event_t *ev;

        st->desc_issued = false;
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];

                gs->issued = false;
                gs->answered = false;
                gs->wire_want = false;
                gs->wire_scan = false;
                gs->errmsg[0] = '\0';
                kafka_gstate_describe_reset(gs);
        }
        while ((ev = rd_kafka_queue_poll(st->adminq, 0)) != NULL)
                kafka_on_event(st, ev);
        kafka_issue_list(st);
        kafka_groups_issue(st);
}

void kafka_groups_wait(struct kafka_state *st, const struct coll_ctx *ctx, int64_t end)
{
        rd_kafka_event_t *ev;

        for (;;) {
                int64_t left = end - clock_mono_ms();

                kafka_groups_issue(st);
                if (st->wire && left > 0 && !coll_stopping(ctx)) {
                        bool want = false;

                        for (size_t i = 0; i < st->n_groups && !want; i++)
                                want = st->groups[i].wire_want;
                        if (want) {
                                kafka_offsets_from_wire(st, ctx, end);
                                continue;
                        }
                }
                if (!st->reqs || left <= 0 || coll_stopping(ctx))
                        break;
                ev = rd_kafka_queue_poll(st->adminq, (int)kafka_min64(left, 100));
                if (ev)
                        kafka_on_event(st, ev);
                rd_kafka_poll(st->rk, 0);
        }
        while ((ev = rd_kafka_queue_poll(st->adminq, 0)) != NULL)
                kafka_on_event(st, ev);
}

static bool kafka_assigned(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t p)
{
        int lo = 0, hi = l ? l->cnt - 1 : -1;

        while (lo <= hi) {
                int mid = lo + (hi - lo) / 2, c = strcmp(l->elems[mid].topic, topic);

                if (c == 0)
                        c = (l->elems[mid].partition > p) - (l->elems[mid].partition < p);
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid - 1;
        }
        return false;
}

/* d->groups from the group states: every partition of each topic the group
 * has a commit in (committed -1 where it has none, or when its coordinator
 * did not answer this poll). */
void kafka_groups_build(struct kafka_state *st, const struct kafka_topic *all, size_t n_all,
                        struct kafka_data *d)
{
        size_t *base = xmalloc((n_all + 1) * sizeof *base), total, *tl;
        int64_t *com;
        uint64_t *meta;
        bool *cons;

        base[0] = 0;
        for (size_t t = 0; t < n_all; t++)
                base[t + 1] = base[t] + (size_t)all[t].partitions;
        total = base[n_all];
        com = xmalloc((total ? total : 1) * sizeof *com);
        meta = xcalloc(total ? total : 1, sizeof *meta);
        cons = xcalloc(n_all ? n_all : 1, sizeof *cons);
        tl = xmalloc((n_all ? n_all : 1) * sizeof *tl);
        for (size_t i = 0; i < total; i++)
                com[i] = -1;
        d->groups = xcalloc(st->n_groups ? st->n_groups : 1, sizeof *d->groups);
        for (size_t i = 0; i < st->n_groups; i++) {
                struct kafka_gstate *gs = &st->groups[i];
                struct kafka_group *g = &d->groups[d->n_groups++];
                const struct kafka_topic *t = NULL;
                const char *last = NULL;
                size_t nt = 0, np = 0, k = 0;

                g->name = xstrdup(gs->name);
                g->configured = gs->configured;
                g->offsets_known = gs->answered;
                g->members = gs->described ? gs->members : -1;
                g->state = xstrdup(gs->described ? gs->desc_state : gs->list_state);
                for (size_t c = 0; c < gs->n_commits; c++) {
                        const struct kafka_commit *cm = &gs->commits[c];
                        size_t ti;
                        int pi;

                        if (cm->topic != last) {
                                last = cm->topic;
                                t = kafka_topic_find(all, n_all, cm->topic);
                        }
                        if (!t || (pi = kafka_part_index(t, cm->partition)) < 0)
                                continue;
                        ti = (size_t)(t - all);
                        if (!cons[ti]) {
                                cons[ti] = true;
                                tl[nt++] = ti;
                                np += (size_t)t->partitions;
                        }
                        if (gs->answered) {
                                com[base[ti] + (size_t)pi] = cm->offset;
                                meta[base[ti] + (size_t)pi] = cm->meta_hash;
                        }
                }
                /* Topic indexes follow name order. */
                for (size_t a = 1; a < nt; a++)
                        for (size_t b = a; b > 0 && tl[b - 1] > tl[b]; b--) {
                                size_t x = tl[b];

                                tl[b] = tl[b - 1];
                                tl[b - 1] = x;
                        }
                g->parts = xcalloc(np ? np : 1, sizeof *g->parts);
                for (size_t a = 0; a < nt; a++) {
                        size_t ti = tl[a];

                        for (int p = 0; p < all[ti].partitions; p++) {
                                struct kafka_group_part *gp = &g->parts[k++];
                                size_t gi = base[ti] + (size_t)p;

                                gp->topic = all[ti].name;
                                gp->partition = all[ti].parts[p].id;
                                gp->committed = com[gi];
                                gp->high_watermark = all[ti].parts[p].high_watermark;
                                gp->meta_hash = meta[gi];
                                gp->assigned = gs->described &&
                                               kafka_assigned(gs->assigned, gp->topic,
                                                              gp->partition);
                                com[gi] = -1;
                                meta[gi] = 0;
                        }
                        cons[ti] = false;
                }
                g->n_parts = k;
        }
        free(base);
        free(com);
        free(meta);
        free(cons);
        free(tl);
}

int kafka_group_cmp(const void *a, const void *b)
{
        const struct kafka_group *x = a, *y = b;

        if ((x->lag >= 0) != (y->lag >= 0))
                return x->lag >= 0 ? -1 : 1;
        if (x->lag != y->lag)
                return x->lag > y->lag ? -1 : 1;
        return strcmp(x->name, y->name);
}
