/*
 * Kafka collector: the pure pieces (statistics, batches, topics, filter, quorum)
 * and the history that turns successive polls into rates, commit windows
 * and lag in seconds (see kafka.c).
 */
#include "collectors/kafka/kafka_int.h"
#include "core/jsonparse.h"

/* ------------------------------------------------------------------------
 * Pure pieces
 */

const char *kafka_broker_up_name(int8_t up)
{
        return up == KAFKA_UP_YES ? "up" : up == KAFKA_UP_NO ? "down" : "unknown";
}

int kafka_hostport_parse(const char *s, char *host, size_t hn, int *port, struct err *err)
{
        const char *colon, *h = s;
        size_t hl;
        char *end;
        long p;

        while (s && isspace((unsigned char)*h))
                h++;
        if (!s || !*h) {
                err_set(err, EINVAL, "empty broker address (expected host:port)");
                return -1;
        }
        if (*h == '[') {
                const char *rb = strchr(h, ']');

                if (!rb || rb[1] != ':') {
                        err_set(err, EINVAL, "\"%.64s\": expected [address]:port", h);
                        return -1;
                }
                hl = (size_t)(rb - h - 1);
                h++;
                colon = rb + 1;
        } else {
                colon = strrchr(h, ':');
                if (!colon || colon == h) {
                        err_set(err, EINVAL, "\"%.64s\": expected host:port", h);
                        return -1;
                }
                hl = (size_t)(colon - h);
                if (memchr(h, ':', hl)) {
                        err_set(err, EINVAL, "\"%.64s\": write IPv6 addresses as [address]:port",
                                h);
                        return -1;
                }
        }
        errno = 0;
        p = strtol(colon + 1, &end, 10);
        while (isspace((unsigned char)*end))
                end++;
        if (errno || end == colon + 1 || *end || p < 1 || p > 65535) {
                err_set(err, EINVAL, "\"%.64s\": port must be 1..65535", h);
                return -1;
        }
        if (hl == 0 || hl >= hn) {
                err_set(err, EINVAL, "\"%.64s\": bad host name", h);
                return -1;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        *port = (int)p;
        return 0;
}

static double kafka_json_num(const cJSON *o, const char *k, double dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int kafka_bstat_cmp(const void *a, const void *b)
{
        const struct kafka_bstat *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

int kafka_stats_parse(const char *json, size_t len, struct kafka_bstat **out, size_t *n,
                      struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        const cJSON *brokers, *b;
        struct kafka_bstat *v = NULL;
        size_t cnt = 0, cap = 0;

        *out = NULL;
        *n = 0;
        if (!root) {
                err_set(err, EPROTO, "statistics: %s", json_parse_why(json, len, "not JSON"));
                return -1;
        }
        brokers = cJSON_GetObjectItemCaseSensitive(root, "brokers");
        if (!cJSON_IsObject(brokers)) {
                cJSON_Delete(root);
                err_set(err, EPROTO, "statistics: no \"brokers\" object");
                return -1;
        }
        cJSON_ArrayForEach(b, brokers) {
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(b, "state");
                const cJSON *rtt = cJSON_GetObjectItemCaseSensitive(b, "rtt");
                double id = kafka_json_num(b, "nodeid", -1);
                struct kafka_bstat *s;

                if (!cJSON_IsObject(b) || id < 0 || id > INT32_MAX)
                        continue;       /* bootstrap-only and internal entries */
                if (cnt == cap) {
                        cap = cap ? 2 * cap : 8;
                        v = xrealloc(v, cap * sizeof *v);
                }
                s = &v[cnt++];
                memset(s, 0, sizeof *s);
                s->id = (int32_t)id;
                str_copy(s->state, cJSON_IsString(st) ? st->valuestring : "", sizeof s->state);
                s->rtt_ms = NAN;
                if (cJSON_IsObject(rtt) && kafka_json_num(rtt, "cnt", 0) > 0)
                        s->rtt_ms = kafka_json_num(rtt, "avg", NAN) / 1000.0;
                s->connects = (int64_t)kafka_json_num(b, "connects", 0);
                s->disconnects = (int64_t)kafka_json_num(b, "disconnects", 0);
        }
        cJSON_Delete(root);
        if (cnt)
                qsort(v, cnt, sizeof *v, kafka_bstat_cmp);
        *out = v;
        *n = cnt;
        return 0;
}

static int kafka_i32_cmp(const void *a, const void *b)
{
        int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

        return (x > y) - (x < y);
}

size_t kafka_batches(const struct kafka_topic *topics, size_t n, struct kafka_batch **out)
{
        int32_t *leaders = NULL;
        size_t nl = 0, cap = 0, nb = 0;
        struct kafka_batch *b;

        for (size_t t = 0; t < n; t++)
                for (int p = 0; p < topics[t].partitions; p++) {
                        if (topics[t].parts[p].leader < 0)
                                continue;
                        if (nl == cap) {
                                cap = cap ? 2 * cap : 64;
                                leaders = xrealloc(leaders, cap * sizeof *leaders);
                        }
                        leaders[nl++] = topics[t].parts[p].leader;
                }
        if (nl)
                qsort(leaders, nl, sizeof *leaders, kafka_i32_cmp);
        for (size_t i = 0; i < nl; i++)
                if (i == 0 || leaders[i] != leaders[i - 1])
                        leaders[nb++] = leaders[i];
        b = xcalloc(nb ? nb : 1, sizeof *b);
        for (size_t i = 0; i < nb; i++)
                b[i].leader = leaders[i];
        /* Two passes: count, then fill (sizes known, one allocation each). */
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < nb; i++) {
                        if (pass == 1) {
                                b[i].topic = xmalloc((b[i].n ? b[i].n : 1) * sizeof *b[i].topic);
                                b[i].part = xmalloc((b[i].n ? b[i].n : 1) * sizeof *b[i].part);
                        }
                        b[i].n = 0;
                }
                for (size_t t = 0; t < n; t++)
                        for (int p = 0; p < topics[t].partitions; p++) {
                                int32_t l = topics[t].parts[p].leader;
                                int32_t *hit;
                                struct kafka_batch *x;

                                if (l < 0)
                                        continue;
                                hit = bsearch(&l, leaders, nb, sizeof *leaders, kafka_i32_cmp);
                                x = &b[hit - leaders];
                                if (pass == 1) {
                                        x->topic[x->n] = (uint32_t)t;
                                        x->part[x->n] = p;
                                }
                                x->n++;
                        }
        }
        free(leaders);
        if (!nb) {
                free(b);
                b = NULL;
        }
        *out = b;
        return nb;
}

void kafka_batches_free(struct kafka_batch *b, size_t n)
{
        for (size_t i = 0; b && i < n; i++) {
                free(b[i].topic);
                free(b[i].part);
        }
        free(b);
}

void kafka_topic_done(struct kafka_topic *t)
{
        if (t) {
                free(t->parts);
                t->parts = NULL;
        }
}

static int kafka_mdtopic_cmp(const void *a, const void *b)
{
        const rd_kafka_metadata_topic_t *x = *(const rd_kafka_metadata_topic_t *const *)a;
        const rd_kafka_metadata_topic_t *y = *(const rd_kafka_metadata_topic_t *const *)b;

        return strcmp(x->topic, y->topic);
}

static int kafka_part_cmp(const void *a, const void *b)
{
        const struct kafka_partition *x = a, *y = b;

        return (x->id > y->id) - (x->id < y->id);
}

void kafka_topics_from_metadata(const struct rd_kafka_metadata *md, struct kafka_topic **topics,
                                size_t *n, char ***names, size_t *n_names)
{
        const rd_kafka_metadata_topic_t **order;
        struct kafka_topic *ts;
        char **nm;
        size_t cnt = md && md->topic_cnt > 0 ? (size_t)md->topic_cnt : 0;

        order = xcalloc(cnt ? cnt : 1, sizeof *order);
        for (size_t i = 0; i < cnt; i++)
                order[i] = &md->topics[i];
        if (cnt)
                qsort(order, cnt, sizeof *order, kafka_mdtopic_cmp);
        ts = xcalloc(cnt ? cnt : 1, sizeof *ts);
        nm = xcalloc(cnt ? cnt : 1, sizeof *nm);
        for (size_t i = 0; i < cnt; i++) {
                const rd_kafka_metadata_topic_t *mt = order[i];
                struct kafka_topic *t = &ts[i];
                int np = mt->partition_cnt > 0 ? mt->partition_cnt : 0;

                nm[i] = xstrdup(mt->topic);
                t->name = nm[i];
                t->partitions = np;
                t->messages_per_sec = NAN;
                t->parts = xcalloc(np ? (size_t)np : 1, sizeof *t->parts);
                for (int j = 0; j < np; j++) {
                        const rd_kafka_metadata_partition_t *mp = &mt->partitions[j];
                        struct kafka_partition *p = &t->parts[j];

                        p->id = mp->id;
                        p->leader = mp->leader >= 0 ? mp->leader : -1;
                        p->replicas = (int16_t)(mp->replica_cnt > INT16_MAX
                                                ? INT16_MAX : mp->replica_cnt);
                        p->isr = (int16_t)(mp->isr_cnt > INT16_MAX ? INT16_MAX : mp->isr_cnt);
                        p->high_watermark = -1;
                        if (p->replicas > t->replication_factor)
                                t->replication_factor = p->replicas;
                        if (p->isr < p->replicas)
                                t->under_replicated++;
                        if (p->leader < 0)
                                t->offline++;
                }
                if (np > 1)
                        qsort(t->parts, (size_t)np, sizeof *t->parts, kafka_part_cmp);
        }
        free(order);
        *topics = ts;
        *n = cnt;
        *names = nm;
        *n_names = cnt;
}

/* Index of partition `id` in t->parts, or -1. */
int kafka_part_index(const struct kafka_topic *t, int32_t id)
{
        struct kafka_partition key = { .id = id };
        const struct kafka_partition *p;

        if (id >= 0 && id < t->partitions && t->parts[id].id == id)
                return id;
        p = bsearch(&key, t->parts, (size_t)t->partitions, sizeof *t->parts, kafka_part_cmp);
        return p ? (int)(p - t->parts) : -1;
}

static int kafka_topic_name_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct kafka_topic *)elem)->name);
}

const struct kafka_topic *kafka_topic_find(const struct kafka_topic *ts, size_t n,
                                           const char *name)
{
        return name ? bsearch(name, ts, n, sizeof *ts, kafka_topic_name_cmp) : NULL;
}

struct kafka_filter {
        bool    has_inc;
        regex_t inc;
        regex_t exc;
};

struct kafka_filter *kafka_filter_new(const char *include, const char *exclude, struct err *err)
{
        struct kafka_filter *f = xcalloc(1, sizeof *f);
        char msg[128];
        int r;

        if (include) {
                if ((r = regcomp(&f->inc, include, REG_EXTENDED | REG_NOSUB)) != 0) {
                        regerror(r, &f->inc, msg, sizeof msg);
                        err_set(err, EINVAL, "topics_include: bad regular expression: %s", msg);
                        free(f);
                        return NULL;
                }
                f->has_inc = true;
        }
        if ((r = regcomp(&f->exc, exclude ? exclude : KAFKA_DEFAULT_EXCLUDE,
                         REG_EXTENDED | REG_NOSUB)) != 0) {
                regerror(r, &f->exc, msg, sizeof msg);
                err_set(err, EINVAL, "topics_exclude: bad regular expression: %s", msg);
                if (f->has_inc)
                        regfree(&f->inc);
                free(f);
                return NULL;
        }
        return f;
}

bool kafka_filter_match(const struct kafka_filter *f, const char *name)
{
        if (!f)
                return true;
        if (f->has_inc && regexec(&f->inc, name, 0, NULL, 0) != 0)
                return false;
        return regexec(&f->exc, name, 0, NULL, 0) != 0;
}

void kafka_filter_free(struct kafka_filter *f)
{
        if (!f)
                return;
        if (f->has_inc)
                regfree(&f->inc);
        regfree(&f->exc);
        free(f);
}

void kafka_quorum_done(struct kafka_quorum *q)
{
        if (!q)
                return;
        free(q->voters);
        free(q->observers);
        q->voters = q->observers = NULL;
        q->n_voters = q->n_observers = 0;
}

void kafka_quorum_unknown(struct kafka_quorum *q, const char *reason)
{
        kafka_quorum_done(q);
        q->available = false;
        str_copy(q->reason, reason ? reason : "", sizeof q->reason);
        q->leader_id = -1;
        q->leader_epoch = -1;
        q->high_watermark = -1;
}

static int64_t kafka_age(int64_t now, int64_t ts)
{
        if (ts < 0)
                return -1;
        return now > ts ? now - ts : 0;
}

static void kafka_replicas_from_wire(const struct kafka_wire_replica *w, size_t n,
                                     int64_t leader_leo,
                                     int64_t now, struct kafka_replica **out, size_t *nout)
{
        struct kafka_replica *r = xcalloc(n ? n : 1, sizeof *r);

        for (size_t i = 0; i < n; i++) {
                r[i].id = w[i].id;
                r[i].log_end_offset = w[i].log_end_offset >= 0 ? w[i].log_end_offset : -1;
                r[i].lag = -1;
                if (leader_leo >= 0 && r[i].log_end_offset >= 0)
                        r[i].lag = leader_leo > r[i].log_end_offset
                                   ? leader_leo - r[i].log_end_offset : 0;
                r[i].last_fetch_age_ms = kafka_age(now, w[i].last_fetch_ms);
                r[i].last_caught_up_age_ms = kafka_age(now, w[i].last_caught_up_ms);
        }
        *out = r;
        *nout = n;
}

void kafka_quorum_from_wire(const struct kafka_wire_quorum *w, int64_t now_ms,
                            struct kafka_quorum *q)
{
        int64_t leo = -1;

        kafka_quorum_done(q);
        q->available = true;
        q->reason[0] = '\0';
        q->leader_id = w->leader_id >= 0 ? w->leader_id : -1;
        q->leader_epoch = w->leader_epoch >= 0 ? w->leader_epoch : -1;
        q->high_watermark = w->high_watermark >= 0 ? w->high_watermark : -1;
        for (size_t i = 0; i < w->n_voters; i++)
                if (w->voters[i].id == w->leader_id)
                        leo = w->voters[i].log_end_offset;
        kafka_replicas_from_wire(w->voters, w->n_voters, leo, now_ms, &q->voters, &q->n_voters);
        kafka_replicas_from_wire(w->observers, w->n_observers, leo, now_ms, &q->observers,
                                 &q->n_observers);
}

void kafka_quorum_copy(struct kafka_quorum *dst, const struct kafka_quorum *src)
{
        *dst = *src;
        dst->voters = xcalloc(src->n_voters ? src->n_voters : 1, sizeof *dst->voters);
        if (src->n_voters)
                memcpy(dst->voters, src->voters, src->n_voters * sizeof *dst->voters);
        dst->observers = xcalloc(src->n_observers ? src->n_observers : 1, sizeof *dst->observers);
        if (src->n_observers)
                memcpy(dst->observers, src->observers, src->n_observers * sizeof *dst->observers);
}

static void kafka_group_done(struct kafka_group *g)
{
        free(g->name);
        free(g->state);
        free(g->parts);
}

void kafka_data_free(struct kafka_data *d)
{
        if (!d)
                return;
        free(d->cluster_id);
        for (size_t i = 0; i < d->n_brokers; i++) {
                free(d->brokers[i].host);
                free(d->brokers[i].rack);
        }
        free(d->brokers);
        kafka_quorum_done(&d->quorum);
        for (size_t i = 0; i < d->n_topics; i++)
                kafka_topic_done(&d->topics[i]);
        free(d->topics);
        for (size_t i = 0; i < d->n_groups; i++)
                kafka_group_done(&d->groups[i]);
        free(d->groups);
        for (size_t i = 0; i < d->n_names; i++)
                free(d->names[i]);
        free(d->names);
        for (size_t i = 0; i < d->n_notes; i++)
                free(d->notes[i]);
        free(d->notes);
        free(d);
}

/* ------------------------------------------------------------------------
 * History (pure given the clock values passed in)
 */

struct kafka_phist {                    /* one topic partition */
        int64_t hwm;                    /* last known head; -1 */
        int64_t hwm_at;                 /* when it was read */
        int16_t isr;                    /* ISR size at the last poll; -1 unknown */
        struct lag_table *tab;          /* owned; only while some group reads it */
        uint64_t tab_seen;              /* history round that last used tab */
};

struct kafka_thist {                    /* one topic */
        uint64_t seen;
        uint8_t  n_rate;                /* values in rate */
        float    rate[KAFKA_SPARK_N];   /* messages/s per poll, oldest first */
        int32_t  n;                     /* entries in p */
        struct kafka_phist *p;          /* by partition id */
};

struct kafka_gphist {                   /* one group, one partition */
        uint64_t seen;
        bool     have;                  /* a commit is in the window */
        int64_t  committed;             /* the newest commit pushed */
        uint64_t meta_hash;
        struct lag_window w;
        uint8_t  n_hist;
        int64_t  hist[KAFKA_SPARK_N];
};

struct kafka_gthist {                   /* one group, one topic */
        uint64_t seen;
        int32_t  n;
        struct kafka_gphist *p;         /* by partition id */
};

struct kafka_ghist {                    /* one group */
        uint64_t seen;
        struct kafka_map topics;        /* topic name -> struct kafka_gthist */
        struct ring lag_hist;
};

struct kafka_history {
        struct lag_cfg lcfg;
        uint64_t round_t;               /* kafka_history_topics calls */
        uint64_t round_g;               /* kafka_history_groups calls */
        struct kafka_map topics;        /* name -> struct kafka_thist */
        struct kafka_map groups;        /* name -> struct kafka_ghist */
};

struct kafka_history *kafka_history_new(int lag_window)
{
        struct kafka_history *h = xcalloc(1, sizeof *h);

        lag_cfg_default(&h->lcfg);
        if (lag_window > 0)
                h->lcfg.intervals = lag_window;
        return h;
}

static void kafka_thist_free(void *v)
{
        struct kafka_thist *th = v;

        for (int32_t i = 0; i < th->n; i++)
                free(th->p[i].tab);
        free(th->p);
        free(th);
}

static void kafka_gthist_free(void *v)
{
        struct kafka_gthist *gt = v;

        free(gt->p);
        free(gt);
}

static void kafka_ghist_free(void *v)
{
        struct kafka_ghist *gh = v;

        kafka_map_done(&gh->topics, kafka_gthist_free);
        free(gh);
}

void kafka_history_free(struct kafka_history *h)
{
        if (!h)
                return;
        kafka_map_done(&h->topics, kafka_thist_free);
        kafka_map_done(&h->groups, kafka_ghist_free);
        free(h);
}

static bool kafka_keep_round(void *val, void *arg)
{
        /* Every history struct starts with its `seen` round. */
        return *(const uint64_t *)val == *(const uint64_t *)arg;
}

/* Grows th->p to hold partition id; new entries unknown. */
static struct kafka_phist *kafka_thist_at(struct kafka_thist *th, int32_t id)
{
        if (id < 0)
                return NULL;
        if (id >= th->n) {
                th->p = xrealloc(th->p, (size_t)(id + 1) * sizeof *th->p);
                for (int32_t i = th->n; i <= id; i++) {
                        memset(&th->p[i], 0, sizeof th->p[i]);
                        th->p[i].hwm = -1;
                        th->p[i].isr = -1;
                }
                th->n = id + 1;
        }
        return &th->p[id];
}

void kafka_history_topics(struct kafka_history *h, struct kafka_topic *topics, size_t n,
                          int64_t now_ms)
{
        uint64_t round = ++h->round_t;

        for (size_t i = 0; i < n; i++) {
                struct kafka_topic *t = &topics[i];
                struct kafka_thist *th = kafka_map_get(&h->topics, t->name);
                double rate = 0;
                bool have = false;

                if (!th) {
                        th = xcalloc(1, sizeof *th);
                        kafka_map_put(&h->topics, xstrdup(t->name), th);
                }
                th->seen = round;
                t->isr_shrinks = 0;
                t->hwm_unknown = 0;
                for (int j = 0; j < t->partitions; j++) {
                        struct kafka_partition *p = &t->parts[j];
                        struct kafka_phist *ph = kafka_thist_at(th, p->id);

                        if (!ph)
                                continue;
                        p->isr_shrunk = ph->isr >= 0 && p->isr < ph->isr;
                        t->isr_shrinks += p->isr_shrunk;
                        ph->isr = p->isr;
                        if (p->high_watermark < 0) {
                                t->hwm_unknown++;
                                continue;
                        }
                        if (ph->hwm >= 0 && now_ms > ph->hwm_at && p->high_watermark >= ph->hwm) {
                                rate += (double)(p->high_watermark - ph->hwm) * 1000.0 /
                                        (double)(now_ms - ph->hwm_at);
                                have = true;
                        }
                        ph->hwm = p->high_watermark;
                        ph->hwm_at = now_ms;
                        if (ph->tab)
                                lag_table_add(ph->tab, p->high_watermark, now_ms);
                }
                t->messages_per_sec = have ? rate : NAN;
                if (th->n_rate == KAFKA_SPARK_N) {
                        memmove(th->rate, th->rate + 1, (KAFKA_SPARK_N - 1) * sizeof *th->rate);
                        th->n_rate--;
                }
                th->rate[th->n_rate++] = (float)t->messages_per_sec;
                t->n_rate_hist = th->n_rate;
                memcpy(t->rate_hist, th->rate, th->n_rate * sizeof *th->rate);
                /* Lag tables nobody read for a while go (a group that left). */
                for (int32_t j = 0; j < th->n; j++)
                        if (th->p[j].tab && th->p[j].tab_seen + 3 < h->round_g) {
                                free(th->p[j].tab);
                                th->p[j].tab = NULL;
                        }
        }
        kafka_map_filter(&h->topics, kafka_keep_round, &round, kafka_thist_free);
}

static struct kafka_gphist *kafka_gthist_at(struct kafka_gthist *gt, int32_t id,
                                            const struct lag_cfg *lcfg)
{
        if (id < 0)
                return NULL;
        if (id >= gt->n) {
                gt->p = xrealloc(gt->p, (size_t)(id + 1) * sizeof *gt->p);
                for (int32_t i = gt->n; i <= id; i++) {
                        memset(&gt->p[i], 0, sizeof gt->p[i]);
                        gt->p[i].committed = -1;
                        lag_window_init(&gt->p[i].w, lcfg);
                }
                gt->n = id + 1;
        }
        return &gt->p[id];
}

bool kafka_status_is_err(enum lag_status s)
{
        return s == LAG_STOP || s == LAG_STALL || s == LAG_REWIND;
}

static void kafka_history_group(struct kafka_history *h, struct kafka_group *g, uint64_t round,
                                int64_t now, int64_t max_gap)
{
        struct kafka_ghist *gh = kafka_map_get(&h->groups, g->name);
        const char *last_topic = NULL;
        struct kafka_gthist *gt = NULL;
        struct kafka_thist *th = NULL;
        enum lag_status worst = LAG_UNKNOWN;
        int64_t sum = 0;
        bool any = false;

        if (!gh) {
                gh = xcalloc(1, sizeof *gh);
                ring_init(&gh->lag_hist);
                kafka_map_put(&h->groups, xstrdup(g->name), gh);
        }
        gh->seen = round;
        g->n_unknown = 0;
        g->lag_seconds = NAN;
        g->lag_seconds_min = NAN;
        for (size_t i = 0; i < g->n_parts; i++) {
                struct kafka_group_part *gp = &g->parts[i];
                struct kafka_gphist *ph;
                struct kafka_phist *tp = NULL;
                bool known = gp->committed >= 0 && gp->high_watermark >= 0;

                if (gp->topic != last_topic) {
                        last_topic = gp->topic;
                        gt = kafka_map_get(&gh->topics, gp->topic);
                        if (!gt) {
                                gt = xcalloc(1, sizeof *gt);
                                kafka_map_put(&gh->topics, xstrdup(gp->topic), gt);
                        }
                        gt->seen = round;
                        th = kafka_map_get(&h->topics, gp->topic);
                }
                ph = kafka_gthist_at(gt, gp->partition, &h->lcfg);
                if (th && gp->partition >= 0 && gp->partition < th->n)
                        tp = &th->p[gp->partition];
                gp->lag = known ? (gp->high_watermark > gp->committed
                                   ? gp->high_watermark - gp->committed : 0) : -1;
                gp->lag_seconds = NAN;
                gp->lag_seconds_min = NAN;
                gp->status = LAG_UNKNOWN;
                if (!ph)
                        continue;
                ph->seen = round;
                if (known) {
                        bool evidence = !ph->have || gp->committed != ph->committed ||
                                        gp->meta_hash != ph->meta_hash || gp->assigned;

                        if (evidence && lag_window_push(&ph->w, now, gp->committed,
                                                        gp->high_watermark)) {
                                ph->have = true;
                                ph->committed = gp->committed;
                                ph->meta_hash = gp->meta_hash;
                        } else {
                                lag_window_head(&ph->w, gp->high_watermark);
                        }
                        gp->status = gp->lag <= ph->w.cfg.allowed_lag
                                     ? LAG_OK : lag_eval_partition(&ph->w, now);
                } else if (gp->high_watermark >= 0) {
                        lag_window_head(&ph->w, gp->high_watermark);
                }
                if (tp) {
                        if (!tp->tab && tp->hwm >= 0) {
                                tp->tab = xmalloc(sizeof *tp->tab);
                                lag_table_init(tp->tab);
                                lag_table_add(tp->tab, tp->hwm, tp->hwm_at);
                        }
                        tp->tab_seen = round;
                }
                if (known && tp && tp->tab) {
                        struct lag_seconds ls = lag_seconds_eval(tp->tab, gp->committed, now,
                                                                 max_gap);

                        if (ls.known)
                                gp->lag_seconds = ls.seconds;
                        else
                                gp->lag_seconds_min = ls.at_least;
                }
                if (ph->n_hist == KAFKA_SPARK_N) {
                        memmove(ph->hist, ph->hist + 1, (KAFKA_SPARK_N - 1) * sizeof *ph->hist);
                        ph->n_hist--;
                }
                ph->hist[ph->n_hist++] = gp->lag;
                gp->n_hist = ph->n_hist;
                memcpy(gp->lag_hist, ph->hist, ph->n_hist * sizeof *ph->hist);

                if (gp->status > worst)
                        worst = gp->status;
                if (gp->lag >= 0) {
                        sum += gp->lag;
                        any = true;
                } else {
                        g->n_unknown++;
                }
                if (!isnan(gp->lag_seconds) &&
                    (isnan(g->lag_seconds) || gp->lag_seconds > g->lag_seconds))
                        g->lag_seconds = gp->lag_seconds;
                if (!isnan(gp->lag_seconds_min) &&
                    (isnan(g->lag_seconds_min) || gp->lag_seconds_min > g->lag_seconds_min))
                        g->lag_seconds_min = gp->lag_seconds_min;
        }
        g->worst = worst;
        g->status = kafka_status_is_err(worst) ? LAG_ERR : worst;
        g->lag = any ? sum : -1;
        if (any && g->n_unknown == 0)
                ring_push(&gh->lag_hist, now, (double)sum);
        g->lag_hist = gh->lag_hist;
        g->trend = lag_trend_ring(&gh->lag_hist, KAFKA_TREND_WINDOW_MS);
        if (g->offsets_known) {
                /* Forget topics and partitions the group no longer has. */
                kafka_map_filter(&gh->topics, kafka_keep_round, &round, kafka_gthist_free);
        }
}

void kafka_history_groups(struct kafka_history *h, struct kafka_group *groups, size_t n,
                          int64_t now_ms, int64_t max_gap_ms)
{
        uint64_t round = ++h->round_g;

        for (size_t i = 0; i < n; i++)
                kafka_history_group(h, &groups[i], round, now_ms, max_gap_ms);
        kafka_map_filter(&h->groups, kafka_keep_round, &round, kafka_ghist_free);
}
