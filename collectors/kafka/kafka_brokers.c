/*
 * Kafka collector: cluster metadata, brokers and the high watermarks (one
 * offsets_for_times per leader broker, concurrently; see kafka.c).
 */
#include "collectors/kafka/kafka_int.h"

/* ------------------------------------------------------------------------
 * Metadata and brokers
 */

const struct rd_kafka_metadata *kafka_metadata(struct kafka_state *st,
                                               const struct coll_ctx *ctx, int64_t end,
                                               struct err *err)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;

        for (;;) {
                int64_t t0 = clock_mono_ms(), left = end - t0;

                if (coll_stopping(ctx)) {
                        err_set(err, ECANCELED, "stopping");
                        return NULL;
                }
                if (left <= 0 || st->fatal)
                        break;
                e = rd_kafka_metadata(st->rk, 1, NULL, &md,
                                      (int)kafka_min64(left, KAFKA_SLICE_MS));
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                        return md;
                rd_kafka_poll(st->rk, 0);       /* error_cb says why */
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && clock_mono_ms() - t0 < 50)
                        kafka_pause_ms(kafka_min64(50, end - clock_mono_ms()));
        }
        if (st->last_error[0])
                err_set(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ETIMEDOUT : EIO,
                        "no broker answered within %lld ms (bootstrap %s): %s",
                        (long long)ctx->timeout_ms, st->cfg->bootstrap, st->last_error);
        else
                err_set(err, e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ETIMEDOUT : EIO,
                        "no broker answered within %lld ms (bootstrap %s): %s; are the "
                        "brokers reachable?", (long long)ctx->timeout_ms, st->cfg->bootstrap,
                        rd_kafka_err2str(e));
        return NULL;
}

static int kafka_broker_cmp(const void *a, const void *b)
{
        const struct kafka_broker *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

static struct kafka_broker *kafka_broker_find(struct kafka_broker *v, size_t n, int32_t id)
{
        struct kafka_broker key = { .id = id };

        return v && n ? bsearch(&key, v, n, sizeof *v, kafka_broker_cmp) : NULL;
}

/* Brokers from the metadata, sorted by id, plus brokers seen in the last
 * hour that the metadata no longer lists (a dead broker leaves it). */
void kafka_brokers_build(struct kafka_state *st, const struct rd_kafka_metadata *md,
                         const struct kafka_topic *all, size_t n_all,
                         struct kafka_data *d)
{
        int64_t now = clock_mono_ms();
        size_t n = md->broker_cnt > 0 ? (size_t)md->broker_cnt : 0, k = 0;

        d->brokers = xcalloc(n + st->n_known + 1, sizeof *d->brokers);
        for (size_t i = 0; i < n; i++) {
                struct kafka_broker *b = &d->brokers[k++];

                b->id = md->brokers[i].id;
                b->host = xstrdup(md->brokers[i].host ? md->brokers[i].host : "");
                b->port = md->brokers[i].port;
                b->up = KAFKA_UP_UNKNOWN;
                b->in_metadata = true;
                b->rtt_ms = NAN;
        }
        qsort(d->brokers, k, sizeof *d->brokers, kafka_broker_cmp);
        /* Remember them. */
        for (size_t i = 0; i < k; i++) {
                struct kafka_broker *kb = kafka_broker_find(st->known, st->n_known, d->brokers[i].id);

                if (!kb) {
                        st->known = xrealloc(st->known, (st->n_known + 1) * sizeof *st->known);
                        st->known_at = xrealloc(st->known_at, (st->n_known + 1) * sizeof *st->known_at);
                        kb = &st->known[st->n_known++];
                        memset(kb, 0, sizeof *kb);
                        kb->id = d->brokers[i].id;
                } else {
                        free(kb->host);
                }
                kb->host = xstrdup(d->brokers[i].host);
                kb->port = d->brokers[i].port;
                st->known_at[kb - st->known] = now;
                /* Keep st->known sorted (insertion at the end). */
                for (size_t j = (size_t)(kb - st->known);
                     j > 0 && st->known[j - 1].id > st->known[j].id; j--) {
                        struct kafka_broker tb = st->known[j];
                        int64_t ta = st->known_at[j];

                        st->known[j] = st->known[j - 1];
                        st->known_at[j] = st->known_at[j - 1];
                        st->known[j - 1] = tb;
                        st->known_at[j - 1] = ta;
                }
        }
        for (size_t i = 0; i < st->n_known; i++) {
                struct kafka_broker *b;

                if (kafka_broker_find(d->brokers, k, st->known[i].id) ||
                    now - st->known_at[i] > KAFKA_KNOWN_BROKER_MS)
                        continue;
                b = &d->brokers[n + (d->n_brokers++)];
                b->id = st->known[i].id;
                b->host = xstrdup(st->known[i].host);
                b->port = st->known[i].port;
                b->up = KAFKA_UP_NO;
                b->rtt_ms = NAN;
        }
        d->n_brokers += k;
        if (d->n_brokers > k) {
                memmove(&d->brokers[k], &d->brokers[n], (d->n_brokers - k) * sizeof *d->brokers);
                qsort(d->brokers, d->n_brokers, sizeof *d->brokers, kafka_broker_cmp);
        }
        for (size_t t = 0; t < n_all; t++)
                for (int p = 0; p < all[t].partitions; p++) {
                        struct kafka_broker *b;

                        if (all[t].parts[p].leader >= 0 &&
                            (b = kafka_broker_find(d->brokers, d->n_brokers, all[t].parts[p].leader)))
                                b->leader_for++;
                }
}

/* ------------------------------------------------------------------------
 * High watermarks: one offsets_for_times per leader broker, concurrently
 */

/* Retries in slices of <= 1 s (so quit is seen) until end; a non-timeout
 * error is retried once. Returns the last error, 0 on success. */
static rd_kafka_resp_err_t kafka_oft(struct kafka_job *j, rd_kafka_topic_partition_list_t *l,
                                     double *took)
{
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        int tries = 0;

        for (;;) {
                int64_t left = j->end - clock_mono_ms();
                double t0 = kafka_mono_msf();

                if (left <= 0 || coll_stopping(j->ctx))
                        return e;
                for (int i = 0; i < l->cnt; i++)
                        l->elems[i].offset = RD_KAFKA_OFFSET_END;
                e = rd_kafka_offsets_for_times(j->rk, l, (int)kafka_min64(left, KAFKA_SLICE_MS));
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        *took = kafka_mono_msf() - t0;
                        return e;
                }
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
                        if (++tries >= 2)
                                return e;
                        kafka_pause_ms(kafka_min64(100, j->end - clock_mono_ms()));
                }
        }
}

/* Elements [from, from + n) of j->list. One partition's error fails a whole
 * ListOffsets answer, so on a broker error (not a timeout: the broker is
 * then gone for all of them) we split in halves to keep the good ones. */
static void kafka_job_range(struct kafka_job *j, int from, int n, int depth)
{
        rd_kafka_topic_partition_list_t *l = j->list;
        rd_kafka_resp_err_t e;
        double took = -1;

        if (n <= 0)
                return;
        if (n != j->list->cnt) {
                l = rd_kafka_topic_partition_list_new(n);
                for (int i = 0; i < n; i++)
                        rd_kafka_topic_partition_list_add(l, j->list->elems[from + i].topic,
                                                          j->list->elems[from + i].partition);
        }
        e = kafka_oft(j, l, &took);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                for (int i = 0; i < n; i++) {
                        rd_kafka_topic_partition_t *x = &j->list->elems[from + i];

                        if (l != j->list) {
                                x->offset = l->elems[i].offset;
                                x->err = l->elems[i].err;
                        }
                        if (x->err == RD_KAFKA_RESP_ERR_NO_ERROR && x->offset >= 0)
                                j->answered++;
                }
                if (j->took_ms < 0)
                        j->took_ms = took;
        } else {
                j->err = e;
                for (int i = 0; i < n; i++)
                        j->list->elems[from + i].err = e;
                if (e != RD_KAFKA_RESP_ERR__TIMED_OUT && n > 1 && depth < 20 &&
                    clock_mono_ms() < j->end && !coll_stopping(j->ctx)) {
                        kafka_job_range(j, from, n / 2, depth + 1);
                        kafka_job_range(j, from + n / 2, n - n / 2, depth + 1);
                }
        }
        if (l != j->list)
                rd_kafka_topic_partition_list_destroy(l);
}

static void *kafka_worker(void *arg)
{
        struct kafka_pool *p = arg;
        size_t k;

        while ((k = atomic_fetch_add(&p->next, 1)) < p->n) {
                struct kafka_job *j = &p->jobs[k];

                /* librdkafka 2.0.2 copies each answer into the caller's
                 * list with a linear search per partition: O(n^2) per call,
                 * 3,300 partitions cost ~20 ms of CPU. Calls of at most
                 * KAFKA_HWM_CHUNK, one after the other against the same
                 * leader and deadline, keep it linear. */
                for (int from = 0; from < j->list->cnt; from += KAFKA_HWM_CHUNK) {
                        int n = j->list->cnt - from;

                        kafka_job_range(j, from, n < KAFKA_HWM_CHUNK ? n : KAFKA_HWM_CHUNK, 0);
                }
        }
        return NULL;
}

void kafka_pool_start(struct kafka_pool *p, struct kafka_state *st,
                      const struct coll_ctx *ctx, int64_t end,
                      const struct kafka_topic *all, const struct kafka_batch *b, size_t nb)
{
        memset(p, 0, sizeof *p);
        p->jobs = xcalloc(nb ? nb : 1, sizeof *p->jobs);
        p->n = nb;
        atomic_init(&p->next, 0);
        for (size_t i = 0; i < nb; i++) {
                struct kafka_job *j = &p->jobs[i];

                j->rk = st->rk;
                j->ctx = ctx;
                j->end = end;
                j->leader = b[i].leader;
                j->batch = &b[i];
                j->took_ms = -1;
                j->list = rd_kafka_topic_partition_list_new((int)b[i].n);
                for (size_t k = 0; k < b[i].n; k++) {
                        const struct kafka_topic *t = &all[b[i].topic[k]];
                        rd_kafka_topic_partition_t *x = rd_kafka_topic_partition_list_add(
                                j->list, t->name, t->parts[b[i].part[k]].id);

                        x->err = RD_KAFKA_RESP_ERR__TIMED_OUT;  /* "no answer" until one */
                }
        }
        for (size_t i = 0; i < nb && i < KAFKA_MAX_WORKERS; i++)
                if (pthread_create(&p->th[p->n_th], NULL, kafka_worker, p) == 0)
                        p->n_th++;
}

/* Runs whatever no worker took yet (all of it if no thread could start),
 * then joins. */
void kafka_pool_finish(struct kafka_pool *p)
{
        kafka_worker(p);
        for (size_t i = 0; i < p->n_th; i++)
                pthread_join(p->th[i], NULL);
}

void kafka_pool_free(struct kafka_pool *p)
{
        for (size_t i = 0; i < p->n; i++)
                rd_kafka_topic_partition_list_destroy(p->jobs[i].list);
        free(p->jobs);
}

void kafka_pool_apply(const struct kafka_pool *p, struct kafka_topic *all)
{
        for (size_t i = 0; i < p->n; i++) {
                const struct kafka_job *j = &p->jobs[i];

                for (int k = 0; k < j->list->cnt; k++) {
                        const rd_kafka_topic_partition_t *x = &j->list->elems[k];
                        struct kafka_topic *t = &all[j->batch->topic[k]];

                        if (x->err == RD_KAFKA_RESP_ERR_NO_ERROR && x->offset >= 0)
                                t->parts[j->batch->part[k]].high_watermark = x->offset;
                }
        }
}

const struct kafka_job *kafka_pool_job(const struct kafka_pool *p, int32_t leader)
{
        for (size_t i = 0; i < p->n; i++)
                if (p->jobs[i].leader == leader)
                        return &p->jobs[i];
        return NULL;
}

void kafka_brokers_state(struct kafka_state *st, const struct kafka_pool *p,
                         int32_t orig_id, struct kafka_data *d)
{
        bool fresh = st->bstats && clock_mono_ms() - st->bstats_at <= 3 * st->stats_interval_ms;

        d->brokers_up = 0;
        for (size_t i = 0; i < d->n_brokers; i++) {
                struct kafka_broker *b = &d->brokers[i];
                const struct kafka_job *j = kafka_pool_job(p, b->id);
                const struct kafka_bstat *s = NULL;
                struct kafka_bstat key = { .id = b->id };

                if (!b->in_metadata)
                        continue;
                if (fresh)
                        s = bsearch(&key, st->bstats, st->n_bstats, sizeof key, kafka_bstat_cmp);
                if (j) {
                        bool gone = j->err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                                    j->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                                    j->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN;

                        b->up = j->answered > 0 || !gone ? KAFKA_UP_YES : KAFKA_UP_NO;
                }
                if (b->up == KAFKA_UP_UNKNOWN &&
                    (b->id == orig_id || (s && strcmp(s->state, "UP") == 0)))
                        b->up = KAFKA_UP_YES;
                if (s && !isnan(s->rtt_ms) && b->up == KAFKA_UP_YES)
                        b->rtt_ms = s->rtt_ms;
                else if (j && j->took_ms >= 0)
                        b->rtt_ms = j->took_ms;
                d->brokers_up += b->up == KAFKA_UP_YES;
        }
}
