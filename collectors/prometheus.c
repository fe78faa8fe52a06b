/*
 * Prometheus collector: user-defined PromQL instant queries and the KRaft
 * quorum from the raft metrics, over the HTTP API (/api/v1/query,
 * /api/v1/query_range) through the shared libcurl client (src/clients/http.h).
 *
 * One collector thread per source owns a `struct prom_state`: the HTTP
 * client and one history ring per series name. The first poll (and the
 * first after a failed one) also asks /api/v1/query_range for the last
 * RING_CAP intervals of each query, so sparklines start full. Queries go as
 * POST application/x-www-form-urlencoded (long PromQL fits).
 *
 * A query that fails (status "error": bad_data for a syntax error,
 * execution, timeout, ...) marks its own row with "<errorType>: <error>"
 * and the source DEGRADED; the other queries go on. No answer at all, or
 * something that is not Prometheus' JSON envelope, is DOWN.
 *
 * Quorum: one query for every raft metric under both names in use
 * (`kafka_server_raft_metrics_*` from jmx_exporter's default naming and
 * Strimzi's `kafka_server_raftmetrics_*`, Strimzi's raft metrics). Series are grouped
 * per scrape target (job/instance): current_leader and current_epoch give
 * the leader and epoch (the highest epoch wins), high_watermark the high
 * watermark (the leader's, else the highest), current_state{state|
 * current_state} the role (observer → observers, the rest voters), and
 * log_end_offset the lag behind the leader's. A member's id is its
 * node_id/broker_id label when the target has one (or the leader id for the
 * leader). No raft series: quorum unavailable with the reason.
 *
 * Alerts: per series, value >= crit → crit, >= warn → warn (metric
 * "query", subject the series name); a failed query → warn.
 */
#include "collectors/prometheus.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/jsonparse.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/secret.h"
#include "clients/http.h"
#include "core/ring.h"
#include "core/util.h"

#define PROM_E_TRANSPORT 2001
#define PROM_E_NOTPROM   2002
#define PROM_E_QUERY     2003

const char prom_raft_query[] =
        "{__name__=~\"kafka_server_raft_?metrics_(current_leader|current_epoch|"
        "high_watermark|log_end_offset|current_state)\"}";

static const struct cfg_key prom_keys[] = {
        { "url",           CFG_STR,        offsetof(struct prom_cfg, url),           true,
          "Prometheus base, e.g. http://127.0.0.1:9090 (no credentials in it)" },
        { "token_env",     CFG_SECRET_REF, offsetof(struct prom_cfg, token_env),     false,
          "environment variable holding a bearer token (auth proxy)" },
        { "token_file",    CFG_SECRET_REF, offsetof(struct prom_cfg, token_file),    false,
          "file holding a bearer token" },
        { "user",          CFG_STR,        offsetof(struct prom_cfg, user),          false,
          "HTTP Basic user (auth proxy)" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct prom_cfg, password_env),  false,
          "environment variable holding the Basic password" },
        { "password_file", CFG_SECRET_REF, offsetof(struct prom_cfg, password_file), false,
          "file holding the Basic password" },
        { "queries",       CFG_MAPLIST,    offsetof(struct prom_cfg, queries),       false,
          "list of {name, expr, unit, warn, crit}: one row each on the Metrics pane" },
        { "queries[]",     CFG_ELEM,       sizeof(struct prom_query),                false,
          NULL },
        { "queries[].name", CFG_UNIQUE,    offsetof(struct prom_query, name),        true,
          "the row's name, unique in the source" },
        { "queries[].expr", CFG_STR,       offsetof(struct prom_query, expr),        true,
          "PromQL instant query" },
        { "queries[].unit", CFG_STR,       offsetof(struct prom_query, unit),        false,
          "bytes|ms|s|count|rate (default count)" },
        { "queries[].warn", CFG_STR,       offsetof(struct prom_query, warn),        false,
          "warn at or above this, in the unit (1GiB, 250ms, 100)" },
        { "queries[].crit", CFG_STR,       offsetof(struct prom_query, crit),        false,
          "crit at or above this, in the unit" },
        { "quorum",        CFG_STR,        offsetof(struct prom_cfg, quorum),        false,
          "auto (default): read the KRaft quorum from raft metrics; off" },
        { "ca_file",       CFG_PATH,       offsetof(struct prom_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct prom_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def prom_thresholds[] = {
        { NULL, 0, 0, 0, NULL },
};

static const char *const prom_units[] = { "count", "bytes", "ms", "s", "rate" };

/* ------------------------------------------------------------------------
 * Parsing (pure)
 */

double prometheus_value(const char *s)
{
        char *end;
        double v;

        if (!s)
                return NAN;
        if (strcasecmp(s, "+Inf") == 0 || strcasecmp(s, "Inf") == 0)
                return INFINITY;
        if (strcasecmp(s, "-Inf") == 0)
                return -INFINITY;
        errno = 0;
        v = strtod(s, &end);
        if (end == s || *end)
                return NAN;
        return v;
}

int prometheus_limit_parse(const char *unit, const char *text, double *out, struct err *err)
{
        int64_t q;
        char *end;

        if (unit && strcmp(unit, "bytes") == 0) {
                if (config_parse_size(text, &q, err) < 0)
                        return -1;
                *out = (double)q;
                return 0;
        }
        if (unit && (strcmp(unit, "ms") == 0 || strcmp(unit, "s") == 0)) {
                if (config_parse_duration(text, &q, err) < 0)
                        return -1;
                *out = unit[0] == 's' ? (double)q / 1000.0 : (double)q;
                return 0;
        }
        /* Strict: digits with an optional sign and point; no inf, nan, hex
         * or exponents, which strtod alone would take. */
        errno = 0;
        *out = strtod(text, &end);
        if (!*text || *end || strspn(text, "-0123456789.") != strlen(text) || !isfinite(*out) ||
            errno == ERANGE) {
                err_set(err, EINVAL, "expected a number for unit %s, got \"%.40s\"",
                        unit ? unit : "count", text);
                return -1;
        }
        return 0;
}

void prometheus_samples_free(struct prom_sample *s, size_t n)
{
        for (size_t i = 0; s && i < n; i++) {
                free(s[i].metric);
                free(s[i].labels);
        }
        free(s);
}

static int prometheus_label_cmp(const void *a, const void *b)
{
        return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* {a="b",c="d"} of a metric object without __name__, sorted. Owned. */
static char *prometheus_labels(const cJSON *m)
{
        const cJSON *l, *v[64];
        size_t n = 0, cap = 2, len = 1;
        char *o;

        cJSON_ArrayForEach(l, m)
                if (n < LO_ARRAY_LEN(v) && cJSON_IsString(l) && strcmp(l->string, "__name__"))
                        v[n++] = l;
        if (!n)
                return xstrdup("");
        qsort(v, n, sizeof *v, prometheus_label_cmp);
        for (size_t i = 0; i < n; i++)
                cap += strlen(v[i]->string) + strlen(v[i]->valuestring) + 4;
        o = xmalloc(cap + 1);
        o[0] = '{';
        for (size_t i = 0; i < n; i++)
                len += (size_t)snprintf(o + len, cap + 1 - len, "%s%s=\"%s\"", i ? "," : "",
                                        v[i]->string, v[i]->valuestring);
        snprintf(o + len, cap + 1 - len, "}");
        return o;
}

static void prometheus_push(struct prom_sample **out, size_t *n, const cJSON *metric,
                            const cJSON *pt)
{
        const cJSON *t = cJSON_GetArrayItem(pt, 0), *v = cJSON_GetArrayItem(pt, 1);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(metric, "__name__");
        struct prom_sample *s;

        if (!cJSON_IsNumber(t) || !cJSON_IsString(v))
                return;
        *out = xrealloc(*out, (*n + 1) * sizeof **out);
        s = &(*out)[(*n)++];
        s->metric = xstrdup(cJSON_IsString(name) ? name->valuestring : NULL);
        s->labels = metric ? prometheus_labels(metric) : xstrdup("");
        s->metric_obj = NULL;
        s->t = t->valuedouble;
        s->v = prometheus_value(v->valuestring);
}

int prometheus_parse(const char *body, size_t len, struct prom_sample **out, size_t *n,
                     struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(body, len);
        const char *status, *rt;
        const cJSON *data, *res, *it;

        *out = NULL;
        *n = 0;
        if (!root || !cJSON_IsObject(root) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "status"))) {
                if (!root && json_too_deep(body, len))
                        err_set(err, PROM_E_NOTPROM, "not a Prometheus API answer: %s",
                                json_parse_why(body, len, ""));
                else
                        err_set(err, PROM_E_NOTPROM, "not a Prometheus API answer (%zu bytes%s): "
                                "is the url the Prometheus server?", len,
                                len && body[0] == '<' ? ", HTML" : "");
                cJSON_Delete(root);
                return -1;
        }
        status = cJSON_GetObjectItemCaseSensitive(root, "status")->valuestring;
        if (strcmp(status, "success") != 0) {
                const cJSON *et = cJSON_GetObjectItemCaseSensitive(root, "errorType");
                const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");

                err_set(err, PROM_E_QUERY, "%s: %s", cJSON_IsString(et) ? et->valuestring : "error",
                        cJSON_IsString(e) ? e->valuestring : "(no message)");
                cJSON_Delete(root);
                return -1;
        }
        data = cJSON_GetObjectItemCaseSensitive(root, "data");
        res = cJSON_GetObjectItemCaseSensitive(data, "result");
        rt = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(data, "resultType"))
             ? cJSON_GetObjectItemCaseSensitive(data, "resultType")->valuestring : "";
        if (strcmp(rt, "scalar") == 0) {
                prometheus_push(out, n, NULL, res);
        } else if (strcmp(rt, "vector") == 0 || strcmp(rt, "matrix") == 0) {
                cJSON_ArrayForEach(it, res) {
                        const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "metric");
                        const cJSON *pts = cJSON_GetObjectItemCaseSensitive(it, "values"), *pt;

                        if (rt[0] == 'v')
                                prometheus_push(out, n, m,
                                                cJSON_GetObjectItemCaseSensitive(it, "value"));
                        else
                                cJSON_ArrayForEach(pt, pts)
                                        prometheus_push(out, n, m, pt);
                }
        } else {
                err_set(err, PROM_E_NOTPROM, "unexpected resultType \"%s\"", rt);
                cJSON_Delete(root);
                return -1;
        }
        cJSON_Delete(root);
        return 0;
}

void prometheus_quorum_done(struct prom_quorum *q)
{
        for (size_t i = 0; i < q->n_voters; i++) {
                free(q->voters[i].instance);
                free(q->voters[i].state);
        }
        for (size_t i = 0; i < q->n_observers; i++) {
                free(q->observers[i].instance);
                free(q->observers[i].state);
        }
        free(q->voters);
        free(q->observers);
        q->voters = q->observers = NULL;
        q->n_voters = q->n_observers = 0;
}

struct prom_target {            /* raft metrics of one scrape target */
        char   *key;            /* job/instance */
        int64_t id, leader, epoch, hwm, leo;
        char   *state;
};

static int prometheus_target_cmp(const void *a, const void *b)
{
        return strcmp(((const struct prom_target *)a)->key, ((const struct prom_target *)b)->key);
}

static int64_t prometheus_i64(double v)
{
        return isfinite(v) && v >= 0 && v < 9e18 ? (int64_t)llround(v) : -1;
}

static void prometheus_member_add(struct prom_member **v, size_t *n, const struct prom_target *t)
{
        struct prom_member *m;

        *v = xrealloc(*v, (*n + 1) * sizeof **v);
        m = &(*v)[(*n)++];
        m->instance = xstrdup(t->key);
        m->id = t->id;
        m->state = xstrdup(t->state);
        m->log_end_offset = t->leo;
        m->lag = -1;
}

void prometheus_quorum_from(const char *body, size_t len, struct prom_quorum *q)
{
        cJSON *root = cJSON_ParseWithLength(body, len);
        const cJSON *res = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(root, "data"), "result"), *it;
        struct prom_target *t = NULL;
        size_t nt = 0;
        int64_t leader_leo = -1;

        prometheus_quorum_done(q);
        memset(q, 0, sizeof *q);
        q->leader_id = q->leader_epoch = q->high_watermark = -1;
        cJSON_ArrayForEach(it, res) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(it, "metric");
                const cJSON *val = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(it, "value"),
                                                      1);
                const char *name = NULL, *job = NULL, *inst = NULL, *attr;
                const cJSON *x;
                double v = cJSON_IsString(val) ? prometheus_value(val->valuestring) : NAN;
                struct prom_target *tg = NULL;
                char key[256];

                if ((x = cJSON_GetObjectItemCaseSensitive(m, "__name__")) && cJSON_IsString(x))
                        name = x->valuestring;
                if ((x = cJSON_GetObjectItemCaseSensitive(m, "job")) && cJSON_IsString(x))
                        job = x->valuestring;
                if ((x = cJSON_GetObjectItemCaseSensitive(m, "instance")) && cJSON_IsString(x))
                        inst = x->valuestring;
                if (!name)
                        continue;
                if (strncmp(name, "kafka_server_raft_metrics_", 26) == 0)
                        attr = name + 26;
                else if (strncmp(name, "kafka_server_raftmetrics_", 25) == 0)
                        attr = name + 25;
                else
                        continue;
                snprintf(key, sizeof key, "%s/%s", job ? job : "", inst ? inst : "");
                for (size_t i = 0; i < nt && !tg; i++)
                        if (strcmp(t[i].key, key) == 0)
                                tg = &t[i];
                if (!tg) {
                        t = xrealloc(t, (nt + 1) * sizeof *t);
                        tg = &t[nt++];
                        memset(tg, 0, sizeof *tg);
                        tg->key = xstrdup(key);
                        tg->id = tg->leader = tg->epoch = tg->hwm = tg->leo = -1;
                }
                if (((x = cJSON_GetObjectItemCaseSensitive(m, "node_id")) ||
                     (x = cJSON_GetObjectItemCaseSensitive(m, "broker_id"))) && cJSON_IsString(x))
                        tg->id = prometheus_i64(prometheus_value(x->valuestring));
                if (strcmp(attr, "current_leader") == 0)
                        tg->leader = prometheus_i64(v);
                else if (strcmp(attr, "current_epoch") == 0)
                        tg->epoch = prometheus_i64(v);
                else if (strcmp(attr, "high_watermark") == 0)
                        tg->hwm = prometheus_i64(v);
                else if (strcmp(attr, "log_end_offset") == 0)
                        tg->leo = prometheus_i64(v);
                else if (strcmp(attr, "current_state") == 0 && v == 1.0 &&
                         (((x = cJSON_GetObjectItemCaseSensitive(m, "state")) ||
                           (x = cJSON_GetObjectItemCaseSensitive(m, "current_state"))) &&
                          cJSON_IsString(x))) {
                        free(tg->state);
                        tg->state = xstrdup(x->valuestring);
                }
        }
        cJSON_Delete(root);
        if (!nt) {
                str_copy(q->reason, "no raft metrics in Prometheus (kafka_server_raft_metrics_* "
                         "or kafka_server_raftmetrics_*): are the controllers scraped?",
                         sizeof q->reason);
                free(t);
                return;
        }
        qsort(t, nt, sizeof *t, prometheus_target_cmp);
        /* The highest epoch's view of the leader wins. */
        for (size_t i = 0; i < nt; i++) {
                if (t[i].epoch > q->leader_epoch ||
                    (t[i].epoch == q->leader_epoch && q->leader_id < 0)) {
                        if (t[i].leader >= 0 || t[i].epoch > q->leader_epoch)
                                q->leader_id = t[i].leader;
                        q->leader_epoch = t[i].epoch;
                }
        }
        for (size_t i = 0; i < nt; i++) {
                bool is_leader = t[i].state ? strcmp(t[i].state, "leader") == 0
                                            : t[i].id >= 0 && t[i].id == q->leader_id;

                if (is_leader) {
                        if (t[i].id < 0)
                                t[i].id = q->leader_id;
                        leader_leo = t[i].leo;
                        if (t[i].hwm >= 0)
                                q->high_watermark = t[i].hwm;
                }
        }
        for (size_t i = 0; i < nt; i++) {
                if (q->high_watermark < 0 || (t[i].hwm > q->high_watermark && leader_leo < 0))
                        q->high_watermark = t[i].hwm > q->high_watermark ? t[i].hwm
                                                                         : q->high_watermark;
                if (t[i].state && strcmp(t[i].state, "observer") == 0)
                        prometheus_member_add(&q->observers, &q->n_observers, &t[i]);
                else
                        prometheus_member_add(&q->voters, &q->n_voters, &t[i]);
        }
        for (size_t i = 0; i < q->n_voters + q->n_observers; i++) {
                struct prom_member *m = i < q->n_voters ? &q->voters[i]
                                                        : &q->observers[i - q->n_voters];

                if (leader_leo >= 0 && m->log_end_offset >= 0)
                        m->lag = leader_leo > m->log_end_offset ? leader_leo - m->log_end_offset
                                                                : 0;
        }
        q->available = q->leader_id >= 0 || q->leader_epoch >= 0;
        if (!q->available)
                str_copy(q->reason, "raft metrics present but no current_leader/current_epoch",
                         sizeof q->reason);
        for (size_t i = 0; i < nt; i++) {
                free(t[i].key);
                free(t[i].state);
        }
        free(t);
}

void prometheus_data_free(struct prom_data *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n_series; i++) {
                free(d->series[i].query);
                free(d->series[i].name);
                free(d->series[i].error);
        }
        free(d->series);
        prometheus_quorum_done(&d->quorum);
        free(d);
}

/* ------------------------------------------------------------------------
 * I/O (collector thread)
 */

struct prom_hist {
        char   *name;
        struct ring r;
};

struct prom_state {
        const struct source_cfg *src;
        struct http_client *http;
        bool    backfilled;             /* query_range done since the last failure */
        struct prom_hist *hist;
        size_t  n_hist;
};

static struct ring *prometheus_hist_get(struct prom_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_hist; i++)
                if (strcmp(st->hist[i].name, name) == 0)
                        return &st->hist[i].r;
        st->hist = xrealloc(st->hist, (st->n_hist + 1) * sizeof *st->hist);
        st->hist[st->n_hist].name = xstrdup(name);
        ring_init(&st->hist[st->n_hist].r);
        return &st->hist[st->n_hist++].r;
}

static char *prometheus_form_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        char *o = xmalloc(strlen(s) * 3 + 1), *p = o;

        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                        *p++ = (char)c;
                } else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = '\0';
        return o;
}

/* POSTs form to path. Returns 0 with the body parsed into samples, -1 with
 * err (PROM_E_TRANSPORT, PROM_E_NOTPROM, PROM_E_QUERY). */
static int prometheus_ask(struct prom_state *st, const struct coll_ctx *ctx, const char *path,
                          const char *form, struct prom_sample **out, size_t *n, char **raw,
                          size_t *rawlen, struct err *err)
{
        const struct prom_cfg *c = st->src->kind_cfg;
        struct http_request rq = { 0 };
        struct http_response resp;
        struct err se;
        char *url, *tok = NULL, *pw = NULL;
        size_t ul = strlen(c->url);
        int rc;

        *out = NULL;
        *n = 0;
        while (ul > 0 && c->url[ul - 1] == '/')
                ul--;
        err_clear(&se);
        tok = config_secret_resolve(c->token_env, c->token_file, &se);
        if (!tok && se.msg[0]) {
                err_set(err, PROM_E_TRANSPORT, "cannot read the token: %s", se.msg);
                return -1;
        }
        if (c->user) {
                pw = config_secret_resolve(c->password_env, c->password_file, &se);
                if (!pw && se.msg[0]) {
                        free(tok);
                        err_set(err, PROM_E_TRANSPORT, "cannot read the password: %s", se.msg);
                        return -1;
                }
        }
        url = xasprintf("%.*s%s", (int)ul, c->url, path);
        rq.method = "POST";
        rq.url = url;
        rq.body = form;
        rq.content_type = "application/x-www-form-urlencoded";
        rq.bearer = tok;
        rq.user = c->user;
        rq.password = c->user ? (pw ? pw : "") : NULL;
        rc = http_do(st->http, ctx, &rq, &resp, err);
        free(url);
        secret_free(tok);
        secret_free(pw);
        if (rc != 0) {
                err->code = PROM_E_TRANSPORT;
                http_response_done(&resp);
                return -1;
        }
        rc = prometheus_parse(resp.body, resp.len, out, n, err);
        if (rc != 0 && err->code == PROM_E_NOTPROM && resp.status != 200) {
                char m[sizeof err->msg + 64];

                snprintf(m, sizeof m, "HTTP %ld %s: %s", resp.status,
                         http_status_text(resp.status), err->msg);
                str_copy(err->msg, m, sizeof err->msg);
        }
        if (raw && rc == 0) {
                *raw = resp.body;
                *rawlen = resp.len;
                resp.body = NULL;
        }
        http_response_done(&resp);
        return rc;
}

/* The static spelling of a query's unit ("count" when unset). */
static const char *prometheus_unit_of(const struct prom_query *q)
{
        for (size_t i = 0; q->unit && i < LO_ARRAY_LEN(prom_units); i++)
                if (strcmp(q->unit, prom_units[i]) == 0)
                        return prom_units[i];
        return "count";
}

/* A validated warn/crit, or NAN when off. */
static double prometheus_limit(const struct prom_query *q, const char *text)
{
        struct err e;
        double v;

        return text && prometheus_limit_parse(q->unit, text, &v, &e) == 0 ? v : NAN;
}

static void prometheus_backfill(struct prom_state *st, const struct coll_ctx *ctx, const char *name,
                                const char *expr, bool many)
{
        int64_t step = st->src->interval_ms / 1000 > 0 ? st->src->interval_ms / 1000 : 1;
        int64_t end = clock_wall_ms() / 1000, start = end - step * (RING_CAP - 1);
        struct prom_sample *s;
        struct err e;
        size_t n;
        char *q = prometheus_form_escape(expr), *form;

        form = xasprintf("query=%s&start=%lld&end=%lld&step=%lld", q, (long long)start,
                         (long long)end, (long long)step);
        free(q);
        err_clear(&e);
        if (prometheus_ask(st, ctx, "/api/v1/query_range", form, &s, &n, NULL, NULL, &e) == 0) {
                for (size_t i = 0; i < n; i++) {
                        char *sn = many ? xasprintf("%s%s", name, s[i].labels) : xstrdup(name);

                        ring_push(prometheus_hist_get(st, sn), (int64_t)(s[i].t * 1000), s[i].v);
                        free(sn);
                }
                prometheus_samples_free(s, n);
        }
        free(form);
}

static enum coll_status prometheus_collect(struct prom_state *st, const struct coll_ctx *ctx,
                                           struct prom_data *d, struct err *err)
{
        const struct prom_cfg *c = st->src->kind_cfg;
        enum coll_status status = COLL_OK;
        bool any_ok = false;

        for (size_t qi = 0; qi < c->queries.n; qi++) {
                const struct prom_query *pq = (const struct prom_query *)c->queries.v + qi;
                const char *name = pq->name, *expr = pq->expr;
                struct prom_sample *s;
                struct err e;
                size_t n;
                char *q = prometheus_form_escape(expr), *form = xasprintf("query=%s", q);
                int rc;

                free(q);
                err_clear(&e);
                rc = prometheus_ask(st, ctx, "/api/v1/query", form, &s, &n, NULL, NULL, &e);
                free(form);
                if (rc != 0 && e.code != PROM_E_QUERY) {
                        err_set(err, e.code, "query %s: %s", name, e.msg);
                        return COLL_DOWN;
                }
                any_ok = true;
                if (rc == 0 && !st->backfilled)
                        prometheus_backfill(st, ctx, name, expr, n > 1);
                for (size_t i = 0; i < (rc == 0 ? (n ? n : 1) : 1) && i < PROM_MAX_SERIES; i++) {
                        struct prom_series *ps;

                        d->series = xrealloc(d->series, (d->n_series + 1) * sizeof *d->series);
                        ps = &d->series[d->n_series++];
                        memset(ps, 0, sizeof *ps);
                        ps->query = xstrdup(name);
                        ps->name = rc == 0 && n > 1 ? xasprintf("%s%s", name, s[i].labels)
                                                    : xstrdup(name);
                        ps->unit = prometheus_unit_of(pq);
                        ps->warn = prometheus_limit(pq, pq->warn);
                        ps->crit = prometheus_limit(pq, pq->crit);
                        ps->value = rc == 0 && n ? s[i].v : NAN;
                        if (rc != 0) {
                                ps->error = xstrdup(e.msg);
                                d->n_errors++;
                                if (status == COLL_OK)
                                        err_set(err, e.code, "query %s: %s", name, e.msg);
                                status = COLL_DEGRADED;
                        } else if (n) {
                                struct ring *r = prometheus_hist_get(st, ps->name);

                                ring_push(r, (int64_t)(s[i].t * 1000), s[i].v);
                                ps->hist = *r;
                        } else {
                                ps->hist = *prometheus_hist_get(st, ps->name);
                        }
                }
                if (rc == 0)
                        prometheus_samples_free(s, n);
        }
        if (!c->quorum || strcmp(c->quorum, "off") != 0) {
                struct prom_sample *s;
                struct err e;
                char *q = prometheus_form_escape(prom_raft_query), *form = xasprintf("query=%s", q);
                char *raw = NULL;
                size_t n, rl = 0;

                free(q);
                err_clear(&e);
                d->quorum_asked = true;
                if (prometheus_ask(st, ctx, "/api/v1/query", form, &s, &n, &raw, &rl, &e) == 0) {
                        prometheus_samples_free(s, n);
                        prometheus_quorum_from(raw, rl, &d->quorum);
                        any_ok = true;
                } else if (e.code == PROM_E_TRANSPORT || (!any_ok && e.code == PROM_E_NOTPROM)) {
                        free(form);
                        err_set(err, e.code, "%s", e.msg);
                        return COLL_DOWN;
                } else {
                        snprintf(d->quorum.reason, sizeof d->quorum.reason, "raft query: %.170s",
                                 e.msg);
                        d->quorum.leader_id = d->quorum.leader_epoch = -1;
                        d->quorum.high_watermark = -1;
                }
                free(raw);
                free(form);
        }
        st->backfilled = true;
        return status;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int prometheus_validate(const struct source_cfg *src, struct err *err)
{
        const struct prom_cfg *c = src->kind_cfg;

        if ((c->token_env && c->token_file) || (c->password_env && c->password_file)) {
                err_set(err, EINVAL, "token_env/token_file and password_env/password_file are "
                        "exclusive pairs: set one of each at most");
                return -1;
        }
        if (!c->url || (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://",
                                                                      8) != 0)) {
                err_set(err, EINVAL, "url must start with http:// or https://, e.g. "
                        "\"http://127.0.0.1:9090\"");
                return -1;
        }
        if (strchr(c->url + 8, '@')) {
                err_set(err, EINVAL, "url must not carry credentials: use token_env or user and "
                        "password_env");
                return -1;
        }
        if (c->quorum && strcmp(c->quorum, "auto") != 0 && strcmp(c->quorum, "off") != 0) {
                err_set(err, EINVAL, "quorum must be auto or off");
                return -1;
        }
        for (size_t i = 0; i < c->queries.n; i++) {
                const struct prom_query *q = (const struct prom_query *)c->queries.v + i;
                const char *which[] = { "warn", "crit" }, *text[] = { q->warn, q->crit };
                double lim[2] = { NAN, NAN };
                bool unit_ok = !q->unit;
                struct err e;

                for (size_t u = 0; q->unit && u < LO_ARRAY_LEN(prom_units); u++)
                        unit_ok |= strcmp(q->unit, prom_units[u]) == 0;
                if (!unit_ok) {
                        err_set(err, EINVAL, "queries[%zu].unit: \"%.40s\" is not one of bytes, "
                                "ms, s, count, rate", i, q->unit);
                        return -1;
                }
                for (size_t w = 0; w < 2; w++)
                        if (text[w] && prometheus_limit_parse(q->unit, text[w], &lim[w], &e) < 0) {
                                err_set(err, EINVAL, "queries[%zu].%s: %s", i, which[w], e.msg);
                                return -1;
                        }
                if (lim[0] > lim[1]) {
                        err_set(err, EINVAL, "queries[%zu]: warn (%.40s) is above crit (%.40s)",
                                i, q->warn, q->crit);
                        return -1;
                }
        }
        if (!c->queries.n && c->quorum && strcmp(c->quorum, "off") == 0) {
                err_set(err, EINVAL, "nothing to do: no queries and quorum: off");
                return -1;
        }
        return 0;
}

static void *prometheus_create(const struct source_cfg *src)
{
        const struct prom_cfg *c = src->kind_cfg;
        struct prom_state *st = xcalloc(1, sizeof *st);
        struct http_tls tls = { .ca_file = c->ca_file, .insecure = c->insecure };

        st->src = src;
        st->http = http_client_new(&tls);
        return st;
}

static void prometheus_destroy(void *state)
{
        struct prom_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        for (size_t i = 0; i < st->n_hist; i++)
                free(st->hist[i].name);
        free(st->hist);
        free(st);
}

static enum coll_status prometheus_poll(void *state, const struct coll_ctx *ctx, void **data,
                                        struct err *err)
{
        struct prom_state *st = state;
        struct prom_data *d;
        enum coll_status s;

        *data = NULL;
        if (!st->http) {
                err_set(err, ENOMEM, "libcurl could not create a handle");
                return COLL_DOWN;
        }
        d = xcalloc(1, sizeof *d);
        d->quorum.leader_id = d->quorum.leader_epoch = d->quorum.high_watermark = -1;
        s = prometheus_collect(st, ctx, d, err);
        if (s == COLL_DOWN) {
                st->backfilled = false;
                prometheus_data_free(d);
                return s;
        }
        *data = d;
        return s;
}

static void prometheus_data_free_op(void *data)
{
        prometheus_data_free(data);
}

static void prometheus_json_i64(cJSON *o, const char *k, int64_t v)
{
        if (v >= 0)
                cJSON_AddNumberToObject(o, k, (double)v);
        else
                cJSON_AddNullToObject(o, k);
}

static cJSON *prometheus_json_members(const struct prom_member *m, size_t n)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; i < n; i++) {
                cJSON *o = cJSON_CreateObject();

                prometheus_json_i64(o, "id", m[i].id);
                cJSON_AddStringToObject(o, "instance", m[i].instance);
                if (m[i].state)
                        cJSON_AddStringToObject(o, "state", m[i].state);
                else
                        cJSON_AddNullToObject(o, "state");
                prometheus_json_i64(o, "log_end_offset", m[i].log_end_offset);
                prometheus_json_i64(o, "lag", m[i].lag);
                cJSON_AddNullToObject(o, "last_fetch_age_ms");
                cJSON_AddNullToObject(o, "last_caught_up_age_ms");
                cJSON_AddItemToArray(a, o);
        }
        return a;
}

static void prometheus_to_json(const void *data, struct cJSON *obj)
{
        const struct prom_data *d = data;
        const struct prom_quorum *q = &d->quorum;
        cJSON *arr = cJSON_AddArrayToObject(obj, "series"), *qo;

        for (size_t i = 0; i < d->n_series; i++) {
                const struct prom_series *s = &d->series[i];
                cJSON *o = cJSON_CreateObject();

                cJSON_AddStringToObject(o, "name", s->name);
                cJSON_AddStringToObject(o, "query", s->query);
                if (isfinite(s->value))
                        cJSON_AddNumberToObject(o, "value", s->value);
                else
                        cJSON_AddNullToObject(o, "value");
                cJSON_AddStringToObject(o, "unit", s->unit);
                if (s->error)
                        cJSON_AddStringToObject(o, "error", s->error);
                else
                        cJSON_AddNullToObject(o, "error");
                cJSON_AddItemToArray(arr, o);
        }
        if (!d->quorum_asked) {
                cJSON_AddNullToObject(obj, "quorum");
                return;
        }
        qo = cJSON_AddObjectToObject(obj, "quorum");
        cJSON_AddBoolToObject(qo, "available", q->available);
        if (q->available)
                cJSON_AddNullToObject(qo, "reason");
        else
                cJSON_AddStringToObject(qo, "reason", q->reason);
        prometheus_json_i64(qo, "leader_id", q->leader_id);
        prometheus_json_i64(qo, "leader_epoch", q->leader_epoch);
        prometheus_json_i64(qo, "high_watermark", q->high_watermark);
        if (q->available) {
                cJSON_AddItemToObject(qo, "voters",
                                      prometheus_json_members(q->voters, q->n_voters));
                cJSON_AddItemToObject(qo, "observers",
                                      prometheus_json_members(q->observers, q->n_observers));
        } else {
                cJSON_AddNullToObject(qo, "voters");
                cJSON_AddNullToObject(qo, "observers");
        }
}

static void prometheus_alerts(const struct source_cfg *src, const void *data,
                              struct alert_list *out)
{
        const struct prom_data *d = data;

        for (size_t i = 0; i < d->n_series; i++) {
                const struct prom_series *s = &d->series[i];
                enum severity sev;
                double limit;

                if (s->error) {
                        health_add(out, SEV_WARN, src, "query", s->name, NAN, NAN,
                                   "query %s failed: %s", s->name, s->error);
                        continue;
                }
                if (!isfinite(s->value))
                        continue;
                sev = health_level(s->value, s->warn, s->crit, &limit);
                if (sev != SEV_OK)
                        health_add(out, sev, src, "query", s->name, s->value, limit,
                                   "%s %g %s >= %s %g", s->name, s->value, s->unit,
                                   severity_name(sev), limit);
        }
}

static double prometheus_key_metric(const void *data)
{
        const struct prom_data *d = data;

        return d->n_series ? d->series[0].value : NAN;
}

static void prometheus_summary(const void *data, char *buf, size_t n)
{
        const struct prom_data *d = data;
        size_t o = (size_t)snprintf(buf, n, "%zu series, %zu failed queries", d->n_series,
                                    d->n_errors);

        if (o < n && d->quorum_asked && d->quorum.available)
                snprintf(buf + o, n - o, ", quorum leader %lld epoch %lld",
                         (long long)d->quorum.leader_id, (long long)d->quorum.leader_epoch);
        else if (o < n && d->quorum_asked)
                snprintf(buf + o, n - o, ", quorum n/a");
}

const struct collector_ops coll_prometheus_ops = {
        .name = "prometheus",
        .title = "Prometheus",
        .default_interval_ms = 15000,
        .default_timeout_ms = 5000,
        .keys = prom_keys,
        .cfg_size = sizeof(struct prom_cfg),
        .thresholds = prom_thresholds,
        .validate = prometheus_validate,
        .create = prometheus_create,
        .destroy = prometheus_destroy,
        .poll = prometheus_poll,
        .data_free = prometheus_data_free_op,
        .to_json = prometheus_to_json,
        .alerts = prometheus_alerts,
        .key_metric = prometheus_key_metric,
        .summary = prometheus_summary,
        .key_metric_name = "first query",
        .key_metric_unit = THR_COUNT,
        .metrics = prometheus_metrics,
};
