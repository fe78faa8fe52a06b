/*
 * Kafka collector: JSON, alerts, key metric and summary of the published
 * kafka_data (pure readers; any thread).
 */
#include "collectors/kafka/kafka_int.h"

/* --- JSON ------------------------------------------------------------------- */

static void kafka_json_add_str(cJSON *o, const char *k, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}

static void kafka_json_add_i64(cJSON *o, const char *k, int64_t v)
{
        if (v >= 0)
                cJSON_AddNumberToObject(o, k, (double)v);
        else
                cJSON_AddNullToObject(o, k);
}

/* Rounded to 1/scale so the JSON carries no float noise. */
static void kafka_json_add_num(cJSON *o, const char *k, double v, double scale)
{
        if (isnan(v) || isinf(v))
                cJSON_AddNullToObject(o, k);
        else
                cJSON_AddNumberToObject(o, k, round(v * scale) / scale);
}

static void kafka_json_add_status(cJSON *o, const char *k, enum lag_status s)
{
        kafka_json_add_str(o, k, s == LAG_UNKNOWN ? NULL : lag_status_name(s));
}

static cJSON *kafka_json_replicas(const struct kafka_replica *r, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject();

                cJSON_AddNumberToObject(o, "id", r[i].id);
                kafka_json_add_i64(o, "log_end_offset", r[i].log_end_offset);
                kafka_json_add_i64(o, "lag", r[i].lag);
                kafka_json_add_i64(o, "last_fetch_age_ms", r[i].last_fetch_age_ms);
                kafka_json_add_i64(o, "last_caught_up_age_ms", r[i].last_caught_up_age_ms);
                cJSON_AddItemToArray(a, o);
        }
        return a;
}

static const char *kafka_dir_name(enum lag_dir d)
{
        return d == LAG_DIR_CATCHING_UP ? "catching_up"
               : d == LAG_DIR_FALLING_BEHIND ? "falling_behind" : "steady";
}

void kafka_to_json(const void *data, struct cJSON *obj)
{
        const struct kafka_data *d = data;
        const struct kafka_quorum *q = &d->quorum;
        cJSON *arr, *qo, *h;

        kafka_json_add_str(obj, "cluster_id", d->cluster_id);
        arr = cJSON_AddArrayToObject(obj, "brokers");
        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddNumberToObject(o, "id", b->id);
                kafka_json_add_str(o, "host", b->host);
                cJSON_AddNumberToObject(o, "port", b->port);
                kafka_json_add_str(o, "rack", b->rack);
                if (b->up < 0)
                        cJSON_AddNullToObject(o, "up");
                else
                        cJSON_AddBoolToObject(o, "up", b->up == KAFKA_UP_YES);
                kafka_json_add_num(o, "rtt_ms", b->rtt_ms, 100);
                cJSON_AddBoolToObject(o, "in_metadata", b->in_metadata);
                cJSON_AddNumberToObject(o, "leader_partitions", b->leader_for);
                cJSON_AddItemToArray(arr, o);
        }

        qo = cJSON_AddObjectToObject(obj, "quorum");
        cJSON_AddBoolToObject(qo, "available", q->available);
        kafka_json_add_str(qo, "reason", q->available ? NULL : q->reason);
        kafka_json_add_i64(qo, "leader_id", q->available ? q->leader_id : -1);
        kafka_json_add_i64(qo, "leader_epoch", q->available ? q->leader_epoch : -1);
        kafka_json_add_i64(qo, "high_watermark", q->available ? q->high_watermark : -1);
        if (q->available) {
                cJSON_AddItemToObject(qo, "voters", kafka_json_replicas(q->voters, q->n_voters));
                cJSON_AddItemToObject(qo, "observers",
                                      kafka_json_replicas(q->observers, q->n_observers));
        } else {
                cJSON_AddNullToObject(qo, "voters");
                cJSON_AddNullToObject(qo, "observers");
        }
        h = cJSON_AddArrayToObject(qo, "epoch_changes");
        for (size_t i = 0; i < q->n_history; i++) {
                cJSON *o = cJSON_CreateObject();
                char ts[40];

                fmt_rfc3339(q->history[i].at, ts, sizeof ts);
                cJSON_AddStringToObject(o, "at", ts);
                kafka_json_add_i64(o, "leader_id", q->history[i].leader_id);
                kafka_json_add_i64(o, "leader_epoch", q->history[i].epoch);
                cJSON_AddItemToArray(h, o);
        }

        arr = cJSON_AddArrayToObject(obj, "topics");
        for (size_t i = 0; i < d->n_topics; i++) {
                const struct kafka_topic *t = &d->topics[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "name", t->name);
                cJSON_AddNumberToObject(o, "partitions", t->partitions);
                kafka_json_add_i64(o, "replication_factor",
                                   t->partitions ? t->replication_factor : -1);
                cJSON_AddNumberToObject(o, "under_replicated", t->under_replicated);
                cJSON_AddNumberToObject(o, "offline", t->offline);
                kafka_json_add_num(o, "messages_per_sec", t->messages_per_sec, 10);
                cJSON_AddNumberToObject(o, "isr_shrinks", t->isr_shrinks);
                cJSON_AddNumberToObject(o, "high_watermarks_unknown", t->hwm_unknown);
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "groups");
        for (size_t i = 0; i < d->n_groups; i++) {
                const struct kafka_group *g = &d->groups[i];
                cJSON *o = cJSON_CreateObject(), *pa;
                bool trend = g->lag_hist.n >= 2;

                cJSON_AddStringToObject(o, "name", g->name);
                kafka_json_add_str(o, "state", g->state);
                kafka_json_add_status(o, "status", g->status);
                kafka_json_add_i64(o, "lag", g->lag);
                kafka_json_add_num(o, "lag_seconds", g->lag_seconds, 1000);
                kafka_json_add_status(o, "worst_partition_status", g->worst);
                kafka_json_add_i64(o, "members", g->members);
                cJSON_AddBoolToObject(o, "configured", g->configured);
                cJSON_AddBoolToObject(o, "offsets_known", g->offsets_known);
                kafka_json_add_str(o, "trend", trend ? kafka_dir_name(g->trend.dir) : NULL);
                kafka_json_add_num(o, "lag_rate", trend ? g->trend.rate : NAN, 10);
                kafka_json_add_num(o, "eta_s", trend ? g->trend.eta_s : NAN, 1);
                pa = cJSON_AddArrayToObject(o, "partitions");
                for (size_t j = 0; j < g->n_parts; j++) {
                        const struct kafka_group_part *p = &g->parts[j];
                        cJSON *po = cJSON_CreateObject();

                        cJSON_AddStringToObject(po, "topic", p->topic);
                        cJSON_AddNumberToObject(po, "partition", p->partition);
                        kafka_json_add_i64(po, "committed", p->committed);
                        kafka_json_add_i64(po, "high_watermark", p->high_watermark);
                        kafka_json_add_i64(po, "lag", p->lag);
                        kafka_json_add_num(po, "lag_seconds", p->lag_seconds, 1000);
                        kafka_json_add_status(po, "status", p->status);
                        cJSON_AddItemToArray(pa, po);
                }
                cJSON_AddItemToArray(arr, o);
        }
        cJSON_AddBoolToObject(obj, "groups_listed", d->groups_listed);

        arr = cJSON_AddArrayToObject(obj, "notes");
        for (size_t i = 0; i < d->n_notes; i++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(d->notes[i]));
}

/* --- alerts, key metric, summary ----------------------------------------- */

static const char *kafka_status_why(enum lag_status s)
{
        switch (s) {
        case LAG_STOP:
                return "no commits for longer than its window spans while lag stays";
        case LAG_STALL:
                return "commits the same offset while lag stays or grows";
        case LAG_REWIND:
                return "its committed offset went backwards";
        case LAG_WARN:
                return "lag grew across the whole window";
        default:
                return "";
        }
}

void kafka_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct kafka_data *d = data;
        char what[192], subj[64];

        for (size_t i = 0; i < d->n_brokers; i++) {
                const struct kafka_broker *b = &d->brokers[i];

                if (b->up != KAFKA_UP_NO)
                        continue;
                snprintf(subj, sizeof subj, "broker %d", (int)b->id);
                health_add(out, SEV_CRIT, src, "broker", subj, NAN, NAN,
                           b->in_metadata ? "broker %d (%s:%d) is not answering"
                                          : "broker %d (%s:%d) left the cluster metadata",
                           (int)b->id, b->host, b->port);
        }
        for (size_t i = 0; i < d->n_topics; i++) {
                const struct kafka_topic *t = &d->topics[i];

                if (t->under_replicated) {
                        snprintf(what, sizeof what, "topic %s under-replicated partitions", t->name);
                        health_check(out, src, "under_replicated", t->name, t->under_replicated, what);
                }
                if (t->offline) {
                        snprintf(what, sizeof what, "topic %s offline partitions", t->name);
                        health_check(out, src, "offline", t->name, t->offline, what);
                }
        }
        for (size_t i = 0; i < d->n_groups; i++) {
                const struct kafka_group *g = &d->groups[i];

                if (g->lag >= 0) {
                        snprintf(what, sizeof what, "group %s lag", g->name);
                        health_check(out, src, "group_lag", g->name, (double)g->lag, what);
                }
                if (!isnan(g->lag_seconds)) {
                        snprintf(what, sizeof what, "group %s lag seconds", g->name);
                        health_check(out, src, "group_lag_seconds", g->name, g->lag_seconds, what);
                }
                if (kafka_status_is_err(g->worst) || g->worst == LAG_WARN) {
                        const struct kafka_group_part *w = NULL;

                        for (size_t j = 0; j < g->n_parts && !w; j++)
                                if (g->parts[j].status == g->worst)
                                        w = &g->parts[j];
                        health_add(out, g->worst == LAG_WARN ? SEV_WARN : SEV_CRIT, src,
                                   "group_status", g->name, NAN, NAN,
                                   "group %s %s: %s[%d] %s (lag %lld)", g->name,
                                   lag_status_name(g->worst), w ? w->topic : "?",
                                   w ? (int)w->partition : -1, kafka_status_why(g->worst),
                                   w ? (long long)w->lag : -1LL);
                }
        }
        if (d->quorum.available) {
                const struct kafka_quorum *q = &d->quorum;

                for (int pass = 0; pass < 2; pass++) {
                        const struct kafka_replica *r = pass ? q->observers : q->voters;
                        size_t n = pass ? q->n_observers : q->n_voters;

                        for (size_t i = 0; i < n; i++) {
                                if (r[i].lag < 0 || r[i].id == q->leader_id)
                                        continue;
                                snprintf(subj, sizeof subj, "%s %d", pass ? "observer" : "voter",
                                         (int)r[i].id);
                                snprintf(what, sizeof what, "quorum %s lag", subj);
                                health_check(out, src, "quorum_follower_lag", subj,
                                             (double)r[i].lag, what);
                        }
                }
        }
}

double kafka_key_metric(const void *data)
{
        const struct kafka_data *d = data;
        double m = NAN;

        for (size_t i = 0; i < d->n_groups; i++)
                if (d->groups[i].lag >= 0 && (isnan(m) || (double)d->groups[i].lag > m))
                        m = (double)d->groups[i].lag;
        return m;
}

void kafka_summary(const void *data, char *buf, size_t n)
{
        static const enum lag_status order[] = { LAG_STOP, LAG_STALL, LAG_REWIND, LAG_WARN };
        const struct kafka_data *d = data;
        size_t o, down = 0, cnt[LO_ARRAY_LEN(order)] = { 0 };
        bool first = true;

        for (size_t i = 0; i < d->n_brokers; i++)
                down += d->brokers[i].up == KAFKA_UP_NO;
        for (size_t i = 0; i < d->n_groups; i++)
                for (size_t k = 0; k < LO_ARRAY_LEN(order); k++)
                        cnt[k] += d->groups[i].worst == order[k];
        o = (size_t)snprintf(buf, n, "%zu broker%s", d->n_brokers, d->n_brokers == 1 ? "" : "s");
        if (down && o < n)
                o += (size_t)snprintf(buf + o, n - o, " (%zu down)", down);
        if (o < n)
                o += (size_t)snprintf(buf + o, n - o, ", %zu topic%s, %zu group%s", d->n_topics,
                                      d->n_topics == 1 ? "" : "s", d->n_groups,
                                      d->n_groups == 1 ? "" : "s");
        for (size_t k = 0; k < LO_ARRAY_LEN(order) && o < n; k++) {
                if (!cnt[k])
                        continue;
                o += (size_t)snprintf(buf + o, n - o, "%s%zu %s", first ? " (" : ", ", cnt[k],
                                      lag_status_name(order[k]));
                first = false;
        }
        if (!first && o < n)
                o += (size_t)snprintf(buf + o, n - o, ")");
        if (o < n) {
                if (d->quorum.available)
                        snprintf(buf + o, n - o, ", quorum leader %d epoch %d",
                                 (int)d->quorum.leader_id, (int)d->quorum.leader_epoch);
                else
                        snprintf(buf + o, n - o, ", quorum n/a");
        }
}
