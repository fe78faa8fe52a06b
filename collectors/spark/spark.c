/*
 * Spark collector (`kind: spark`), see spark.h.
 *
 * Per poll:
 *   1. kube informers (src/clients/kube/kube.h) over sparkapplications and
 *      scheduledsparkapplications, one pair per configured namespace (or
 *      one for all), keep compact models; with `watch` the steady state
 *      costs only the watch events.
 *   2. for each RUNNING application, the driver's REST API within a slice
 *      of what is left of the poll deadline (remaining time / drivers left),
 *      so one slow driver cannot blank the others: failed jobs, failed
 *      stages, executors, /metrics/json (Structured Streaming gauges) and
 *      /streaming/statistics (DStreams; a 404 is remembered per app id).
 *      The default route is the API server's service proxy
 *      /api/v1/namespaces/NS/services/SVC:PORT/proxy with the kubernetes
 *      source's credentials; `ui_urls` overrides it per application.
 *   3. input and processing rates go into per-application history rings
 *      (in the state, copied into the data) for sparklines and for the
 *      processing-below-input window (spark_behind_ms).
 */
#include "collectors/spark/spark.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "core/jsonout.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubeact.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/util.h"
#include "collectors/spark/spark_int.h"

static const struct cfg_key spark_keys[] = {
        { "kubernetes", CFG_SOURCE,  offsetof(struct spark_cfg, kubernetes), true,
          "the `kind: kubernetes` source whose connection (kubeconfig, context) to use" },
        { "namespaces", CFG_STRLIST, offsetof(struct spark_cfg, namespaces), false,
          "namespaces to read SparkApplications from; empty = all namespaces" },
        { "ui_urls",    CFG_STRMAP,  offsetof(struct spark_cfg, ui_urls),    false,
          "application name (or namespace/name) -> driver UI base URL, instead of the "
          "API server's service proxy" },
        { "watch",      CFG_STR,     offsetof(struct spark_cfg, watch),      false,
          "true (default): list once, then watch; false: re-list every poll" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def spark_thresholds[] = {
        { "app_failed", THR_COUNT, NAN, 1,
          "an application in FAILED, SUBMISSION_FAILED or FAILING (value 1)" },
        { "executors_failed", THR_COUNT, 1, NAN,
          "FAILED executors (executorState) of a RUNNING application" },
        { "failed_jobs", THR_COUNT, NAN, NAN,
          "failed jobs a RUNNING driver reports (its UI keeps spark.ui.retainedJobs)" },
        { "scheduling_delay_ms", THR_MS, 10000, 60000,
          "DStream average scheduling delay" },
        { "streaming_behind_ms", THR_MS, 60000, NAN,
          "how long a streaming application's processing rate has stayed below its input "
          "rate (consecutive polls)" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * states
 */

static const char *const spark_state_names[SPARK_ST__COUNT] = {
        [SPARK_ST_NEW] = "", [SPARK_ST_SUBMITTED] = "SUBMITTED", [SPARK_ST_RUNNING] = "RUNNING",
        [SPARK_ST_COMPLETED] = "COMPLETED", [SPARK_ST_FAILED] = "FAILED",
        [SPARK_ST_SUBMISSION_FAILED] = "SUBMISSION_FAILED",
        [SPARK_ST_PENDING_RERUN] = "PENDING_RERUN", [SPARK_ST_INVALIDATING] = "INVALIDATING",
        [SPARK_ST_SUCCEEDING] = "SUCCEEDING", [SPARK_ST_FAILING] = "FAILING",
        [SPARK_ST_UNKNOWN] = "UNKNOWN", [SPARK_ST_OTHER] = NULL,
};

enum spark_state spark_state_parse(const char *s)
{
        if (!s || !*s)
                return SPARK_ST_NEW;
        for (int i = 1; i < SPARK_ST_OTHER; i++)
                if (strcmp(s, spark_state_names[i]) == 0)
                        return (enum spark_state)i;
        return SPARK_ST_OTHER;
}

enum severity spark_state_sev(enum spark_state s)
{
        switch (s) {
        case SPARK_ST_FAILED:
        case SPARK_ST_SUBMISSION_FAILED:
        case SPARK_ST_FAILING:
                return SEV_CRIT;
        case SPARK_ST_PENDING_RERUN:
        case SPARK_ST_UNKNOWN:
        case SPARK_ST_INVALIDATING:
                return SEV_WARN;
        default:
                return SEV_OK;
        }
}

enum theme_role spark_state_role(enum spark_state s)
{
        switch (s) {
        case SPARK_ST_FAILED:
        case SPARK_ST_SUBMISSION_FAILED:
        case SPARK_ST_FAILING:
                return ROLE_CRIT;
        case SPARK_ST_PENDING_RERUN:
        case SPARK_ST_UNKNOWN:
        case SPARK_ST_INVALIDATING:
                return ROLE_WARN;
        case SPARK_ST_RUNNING:
        case SPARK_ST_COMPLETED:
        case SPARK_ST_SUCCEEDING:
                return ROLE_OK;
        default:
                return ROLE_DEFAULT;
        }
}

/* ------------------------------------------------------------------------
 * state
 */

struct spark_hist {
        char   *key;            /* "ns/name", owned */
        char   *app_id;         /* the run the history belongs to, owned */
        struct ring in, proc;
        int     dstream;        /* -1 unknown, 0 no StreamingContext (404), 1 yes */
        bool    seen;
};

struct spark_inf {
        struct kube_informer *inf;
        char   *ns;             /* owned, NULL = all namespaces */
        bool    synced;         /* listed at least once */
};

struct spark_st {
        const struct source_cfg *src;
        struct kube_config *kc;
        struct kube_client *client;
        struct http_client *http;       /* for ui_urls, created on first use */
        struct spark_inf *apps, *scheds;
        size_t n_inf;
        struct spark_hist *hist;
        size_t n_hist;
};

static void *spark_make_app(const cJSON *obj, void *user)
{
        (void)user;
        return spark_app_from_json(obj);
}

static void spark_free_app(void *m)
{
        spark_app_free(m);
}

static void *spark_make_sched(const cJSON *obj, void *user)
{
        (void)user;
        return spark_sched_from_json(obj);
}

static void spark_free_sched(void *m)
{
        spark_sched_free(m);
}

static const struct kube_model_ops spark_app_model = { spark_make_app, spark_free_app };
static const struct kube_model_ops spark_sched_model = { spark_make_sched, spark_free_sched };

static bool spark_watch(const struct spark_cfg *c)
{
        return !c->watch || strcmp(c->watch, "false") != 0;
}

static void spark_drop_client(struct spark_st *st)
{
        for (size_t i = 0; i < st->n_inf; i++) {
                kube_informer_free(st->apps[i].inf);
                kube_informer_free(st->scheds[i].inf);
                free(st->apps[i].ns);
                free(st->scheds[i].ns);
        }
        free(st->apps);
        free(st->scheds);
        st->apps = st->scheds = NULL;
        st->n_inf = 0;
        kube_client_free(st->client);
        st->client = NULL;
        kube_config_free(st->kc);
        st->kc = NULL;
}

/* Loads the kubernetes source's kubeconfig and makes the informers. */
static int spark_connect(struct spark_st *st, struct err *err)
{
        const struct spark_cfg *c = st->src->kind_cfg;
        struct kube_opts o;
        bool watch = spark_watch(c);
        size_t n = c->namespaces.n ? c->namespaces.n : 1;

        memset(&o, 0, sizeof o);
        kubernetes_source_opts(c->kubernetes.src, &o);
        if (!(st->kc = kube_config_load(&o, err)))
                return -1;
        if (!(st->client = kube_client_new(st->kc, err))) {
                kube_config_free(st->kc);
                st->kc = NULL;
                return -1;
        }
        st->apps = xcalloc(n, sizeof *st->apps);
        st->scheds = xcalloc(n, sizeof *st->scheds);
        st->n_inf = n;
        for (size_t i = 0; i < n; i++) {
                const char *ns = c->namespaces.n ? c->namespaces.v[i] : NULL;
                char *pa, *ps;

                if (ns) {
                        /* (validate allows DNS labels only: no refusal here) */
                        char *seg = http_path_segment(ns, "namespace", err);

                        if (!seg)
                                return -1;      /* the caller drops what was made */
                        pa = xasprintf(SPARK_API "/namespaces/%s/sparkapplications", seg);
                        ps = xasprintf(SPARK_API "/namespaces/%s/scheduledsparkapplications",
                                       seg);
                        free(seg);
                } else {
                        pa = xstrdup(SPARK_API "/sparkapplications");
                        ps = xstrdup(SPARK_API "/scheduledsparkapplications");
                }
                st->apps[i].ns = xstrdup(ns);
                st->scheds[i].ns = xstrdup(ns);
                st->apps[i].inf = kube_informer_new(st->client, pa, NULL, watch,
                                                    &spark_app_model, NULL);
                st->scheds[i].inf = kube_informer_new(st->client, ps, NULL, watch,
                                                      &spark_sched_model, NULL);
                free(pa);
                free(ps);
        }
        return 0;
}

static struct spark_hist *spark_hist_get(struct spark_st *st, const struct spark_app *a)
{
        char key[2 * SPARK_NAME_MAX + 2];
        struct spark_hist *h;

        snprintf(key, sizeof key, "%s/%s", a->namespace_, a->name);
        for (size_t i = 0; i < st->n_hist; i++) {
                h = &st->hist[i];
                if (strcmp(h->key, key) != 0)
                        continue;
                if ((h->app_id || a->app_id) &&
                    (!h->app_id || !a->app_id || strcmp(h->app_id, a->app_id) != 0)) {
                        /* resubmitted: a new run, a new history */
                        free(h->app_id);
                        h->app_id = xstrdup(a->app_id);
                        ring_init(&h->in);
                        ring_init(&h->proc);
                        h->dstream = -1;
                }
                h->seen = true;
                return h;
        }
        st->hist = xrealloc(st->hist, (st->n_hist + 1) * sizeof *st->hist);
        h = &st->hist[st->n_hist++];
        memset(h, 0, sizeof *h);
        h->key = xstrdup(key);
        h->app_id = xstrdup(a->app_id);
        ring_init(&h->in);
        ring_init(&h->proc);
        h->dstream = -1;
        h->seen = true;
        return h;
}

/* Forgets applications that were not seen this poll. */
static void spark_hist_prune(struct spark_st *st)
{
        size_t j = 0;

        for (size_t i = 0; i < st->n_hist; i++) {
                if (!st->hist[i].seen) {
                        free(st->hist[i].key);
                        free(st->hist[i].app_id);
                        continue;
                }
                st->hist[i].seen = false;
                st->hist[j++] = st->hist[i];
        }
        st->n_hist = j;
}

static void spark_hist_free(struct spark_st *st)
{
        for (size_t i = 0; i < st->n_hist; i++) {
                free(st->hist[i].key);
                free(st->hist[i].app_id);
        }
        free(st->hist);
        st->hist = NULL;
        st->n_hist = 0;
}

/* ------------------------------------------------------------------------
 * driver REST I/O
 */

/* The configured driver UI URL of this app (ns/name first, then name). */
static const char *spark_ui_url(const struct spark_cfg *c, const struct spark_app *a)
{
        char key[2 * SPARK_NAME_MAX + 2];

        snprintf(key, sizeof key, "%s/%s", a->namespace_, a->name);
        for (size_t i = 0; i < c->ui_urls.n; i++)
                if (strcmp(c->ui_urls.keys[i], key) == 0)
                        return c->ui_urls.vals[i];
        for (size_t i = 0; i < c->ui_urls.n; i++)
                if (strcmp(c->ui_urls.keys[i], a->name) == 0)
                        return c->ui_urls.vals[i];
        return NULL;
}

struct spark_route {
        char *base;             /* owned: URL (direct) or API path (proxy), no trailing '/' */
        bool  direct;           /* http_do on base, else kube_request */
};

static int spark_route(const struct spark_st *st, const struct spark_app *a,
                       struct spark_route *r, struct err *err)
{
        const char *url = spark_ui_url(st->src->kind_cfg, a);
        char *ns, *svc;
        size_t n;

        memset(r, 0, sizeof *r);
        if (url) {
                r->base = xstrdup(url);
                n = strlen(r->base);
                while (n && r->base[n - 1] == '/')
                        r->base[--n] = '\0';
                r->direct = true;
                return 0;
        }
        if (!a->ui_service || !*a->ui_service || a->ui_port < 0) {
                err_set(err, ENOENT, "no driver UI service in the status yet "
                        "(driverInfo.webUIServiceName/webUIPort); set ui_urls to reach it");
                return -1;
        }
        /* Both names come from the SparkApplication's status: one path
         * segment each, ".." refused (it would reach another API path). */
        if (!(ns = http_path_segment(a->namespace_, "namespace", err)))
                return -1;
        if (!(svc = http_path_segment(a->ui_service, "driver UI service", err))) {
                free(ns);
                return -1;
        }
        r->base = xasprintf("/api/v1/namespaces/%s/services/%s:%d/proxy", ns, svc, a->ui_port);
        free(svc);
        free(ns);
        return 0;
}

/* GET base+rel. 0 with any HTTP answer in resp, -1 on transport failure. */
static int spark_get(struct spark_st *st, const struct coll_ctx *ctx,
                     const struct spark_route *rt, const char *rel, struct http_response *resp,
                     struct err *err)
{
        char *u = xasprintf("%s%s", rt->base, rel);
        int rc;

        memset(resp, 0, sizeof *resp);
        if (rt->direct) {
                struct http_request rq = { .method = "GET", .url = u, .max_body = 16u << 20 };

                if (!st->http)
                        st->http = http_client_new(NULL);
                rc = st->http ? http_do(st->http, ctx, &rq, resp, err) : -1;
                if (!st->http)
                        err_set(err, ENOMEM, "libcurl could not create a handle");
        } else {
                rc = kube_request(st->client, ctx, "GET", u, NULL, NULL, resp, err);
        }
        free(u);
        return rc;
}

static void spark_http_error(const char *what, const struct http_response *resp,
                             struct err *err)
{
        cJSON *doc = resp->body ? cJSON_ParseWithLength(resp->body, resp->len) : NULL;
        const char *msg = spark_get_str(doc, "message");

        /* the API server's Status (proxy errors) or Spark's error object */
        if (msg && *msg)
                err_set(err, EPROTO, "GET %s: HTTP %ld %s: %.160s", what, resp->status,
                        http_status_text(resp->status), msg);
        else
                err_set(err, EPROTO, "GET %s: HTTP %ld %s%s", what, resp->status,
                        http_status_text(resp->status),
                        resp->status == 503 || resp->status == 502
                        ? " (driver not reachable through the service proxy)" : "");
        cJSON_Delete(doc);
}

/* Reads one running driver within ctx. The app's rest part is filled;
 * rest.error says why it is not. Counts requests in *nreq. */
static void spark_read_driver(struct spark_st *st, const struct coll_ctx *ctx,
                              struct spark_app *a, struct spark_hist *h, int *nreq)
{
        struct spark_rest *r = &a->rest;
        struct spark_route rt;
        struct http_response resp;
        struct err e;
        char rel[512], *app;

        r->asked = true;
        err_clear(&e);
        if (!a->app_id || !*a->app_id) {
                r->error = xstrdup("no sparkApplicationId in the status yet");
                return;
        }
        /* app_id (at most 128 bytes, so the encoded path fits rel) */
        if (!(app = http_path_segment(a->app_id, "sparkApplicationId", &e))) {
                r->error = xstrdup(e.msg);
                return;
        }
        if (spark_route(st, a, &rt, &e) < 0) {
                r->error = xstrdup(e.msg);
                free(app);
                return;
        }

        /* failed jobs: also proves the driver answers */
        snprintf(rel, sizeof rel, "/api/v1/applications/%s/jobs?status=failed", app);
        (*nreq)++;
        if (spark_get(st, ctx, &rt, rel, &resp, &e) < 0)
                goto fail;
        if (resp.status != 200) {
                spark_http_error("jobs", &resp, &e);
                http_response_done(&resp);
                goto fail;
        }
        if (spark_parse_jobs(resp.body, resp.len, r, &e) < 0) {
                http_response_done(&resp);
                goto fail;
        }
        http_response_done(&resp);

        snprintf(rel, sizeof rel, "/api/v1/applications/%s/stages?status=failed", app);
        (*nreq)++;
        if (spark_get(st, ctx, &rt, rel, &resp, &e) < 0)
                goto fail;
        if (resp.status == 200)
                spark_parse_stages(resp.body, resp.len, r, &e);
        http_response_done(&resp);

        snprintf(rel, sizeof rel, "/api/v1/applications/%s/executors", app);
        (*nreq)++;
        if (spark_get(st, ctx, &rt, rel, &resp, &e) < 0)
                goto fail;
        if (resp.status == 200)
                spark_parse_executors(resp.body, resp.len, r, &e);
        http_response_done(&resp);

        if (h->dstream != 1) {
                (*nreq)++;
                if (spark_get(st, ctx, &rt, "/metrics/json", &resp, &e) < 0)
                        goto fail;
                if (resp.status == 200 &&
                    spark_parse_metrics(resp.body, resp.len, &r->streaming, &e) == 1)
                        r->have_streaming = true;
                http_response_done(&resp);
        }
        if (!r->have_streaming && h->dstream != 0) {
                snprintf(rel, sizeof rel, "/api/v1/applications/%s/streaming/statistics",
                         app);
                (*nreq)++;
                if (spark_get(st, ctx, &rt, rel, &resp, &e) < 0)
                        goto fail;
                if (resp.status == 200 &&
                    spark_parse_dstream(resp.body, resp.len, &r->streaming, &e) == 0) {
                        r->have_streaming = true;
                        h->dstream = 1;
                } else if (resp.status == 404) {
                        h->dstream = 0;         /* no StreamingContext: stop asking */
                }
                http_response_done(&resp);
        }
        free(rt.base);
        free(app);
        return;
fail:
        free(rt.base);
        free(app);
        r->error = xstrdup(e.msg[0] ? e.msg : "driver not readable");
        r->failed_jobs = r->failed_stages = -1;
        spark_rest_jobs_done(r);
        spark_rest_stages_done(r);
        spark_rest_execs_done(r);
        r->exec_active = r->exec_dead = -1;
        r->tasks_active = r->tasks_failed = r->tasks_completed = -1;
        r->have_streaming = false;
        spark_streaming_init(&r->streaming, SPARK_STREAM_NONE);
}

/* ------------------------------------------------------------------------
 * poll
 */

static int spark_app_cmp(const void *pa, const void *pb)
{
        const struct spark_app *a = pa, *b = pb;
        int c = strcmp(a->namespace_, b->namespace_);

        return c ? c : strcmp(a->name, b->name);
}

static int spark_sched_cmp(const void *pa, const void *pb)
{
        const struct spark_sched *a = pa, *b = pb;
        int c = strcmp(a->namespace_, b->namespace_);

        return c ? c : strcmp(a->name, b->name);
}

static void spark_sync(const struct coll_ctx *ctx, struct spark_inf *si,
                       const char *what, struct spark_data *d, int *down, struct err *first)
{
        struct err e;

        err_clear(&e);
        if (kube_informer_sync(si->inf, ctx, &e) == 0) {
                si->synced = true;
                return;
        }
        if (!si->synced)
                (*down)++;
        if (!first->msg[0])
                *first = e;
        health_note(&d->notes, &d->n_notes, 32, 512,
                    "%s%s%s: %s%s", what, si->ns ? " in " : "", si->ns ? si->ns : "",
                    e.msg, si->synced ? " (showing the last good list)" : "");
}

static enum coll_status spark_poll(void *state, const struct coll_ctx *ctx, void **data,
                                   struct err *err)
{
        struct spark_st *st = state;
        struct spark_data *d;
        struct err first;
        int down = 0, nrun = 0, done = 0;
        bool driver_err = false;

        *data = NULL;
        if (!st->client && spark_connect(st, err) < 0) {
                spark_drop_client(st);
                return COLL_DOWN;
        }
        d = spark_data_new();
        d->now = clock_wall_ms();
        err_clear(&first);
        for (size_t i = 0; i < st->n_inf; i++) {
                spark_sync(ctx, &st->apps[i], "SparkApplications", d, &down, &first);
                spark_sync(ctx, &st->scheds[i], "ScheduledSparkApplications", d, &down,
                           &first);
        }
        for (size_t i = 0; i < st->n_inf; i++) {
                size_t na = kube_informer_count(st->apps[i].inf);
                size_t ns = kube_informer_count(st->scheds[i].inf);

                d->apps = xrealloc(d->apps, (d->n_apps + na + 1) * sizeof *d->apps);
                for (size_t j = 0; j < na; j++) {
                        const struct spark_app *m = kube_informer_at(st->apps[i].inf, j, NULL);

                        if (m)
                                spark_app_copy(&d->apps[d->n_apps++], m);
                }
                d->scheds = xrealloc(d->scheds, (d->n_scheds + ns + 1) * sizeof *d->scheds);
                for (size_t j = 0; j < ns; j++) {
                        const struct spark_sched *m = kube_informer_at(st->scheds[i].inf, j,
                                                                       NULL);

                        if (m)
                                spark_sched_copy(&d->scheds[d->n_scheds++], m);
                }
        }
        if (d->n_apps > 1)
                qsort(d->apps, d->n_apps, sizeof *d->apps, spark_app_cmp);
        if (d->n_scheds > 1)
                qsort(d->scheds, d->n_scheds, sizeof *d->scheds, spark_sched_cmp);

        for (size_t i = 0; i < d->n_apps; i++)
                nrun += d->apps[i].state == SPARK_ST_RUNNING;
        for (size_t i = 0; i < d->n_apps; i++) {
                struct spark_app *a = &d->apps[i];
                struct spark_hist *h = spark_hist_get(st, a);

                if (a->state == SPARK_ST_RUNNING && !coll_stopping(ctx)) {
                        struct coll_ctx sub = *ctx;
                        int64_t now = clock_mono_ms(), left = ctx->deadline_mono - now;
                        int64_t slice = left / (nrun - done);

                        if (slice < SPARK_MIN_SLICE_MS)
                                slice = SPARK_MIN_SLICE_MS;
                        if (now + slice < sub.deadline_mono)
                                sub.deadline_mono = now + slice;
                        sub.now_mono = now;
                        sub.timeout_ms = slice;
                        done++;
                        if (left > 0)
                                spark_read_driver(st, &sub, a, h, &d->requests);
                        else {
                                a->rest.asked = true;
                                a->rest.error = xstrdup("poll deadline reached before this "
                                                        "driver's turn");
                        }
                        if (a->rest.error)
                                driver_err = true;
                        if (a->rest.have_streaming) {
                                int64_t t = clock_mono_ms();

                                ring_push(&h->in, t, a->rest.streaming.input_rate);
                                ring_push(&h->proc, t, a->rest.streaming.processing_rate);
                                a->behind_ms = spark_behind_ms(&h->in, &h->proc);
                        }
                }
                a->in_hist = h->in;
                a->proc_hist = h->proc;
        }
        spark_hist_prune(st);

        *data = d;
        if (down && down == (int)(2 * st->n_inf)) {
                err_set(err, first.code ? first.code : EIO, "%s", first.msg);
                return COLL_DOWN;
        }
        if (down || first.msg[0]) {
                err_set(err, first.code ? first.code : EIO, "%s", first.msg);
                return COLL_DEGRADED;
        }
        if (driver_err) {
                size_t bad = 0;
                const struct spark_app *fa = NULL;

                for (size_t i = 0; i < d->n_apps; i++)
                        if (d->apps[i].rest.error) {
                                bad++;
                                if (!fa)
                                        fa = &d->apps[i];
                        }
                err_set(err, EIO, "%zu driver UI(s) unreadable: %s/%s: %s", bad,
                        fa->namespace_, fa->name, fa->rest.error);
                return COLL_DEGRADED;
        }
        return COLL_OK;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static bool spark_dns_label(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (; *s; s++)
                if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
                        return false;
        return true;
}

static int spark_validate(const struct source_cfg *src, struct err *err)
{
        const struct spark_cfg *c = src->kind_cfg;

        if (c->kubernetes.src && (!c->kubernetes.src->kind ||
                                  strcmp(c->kubernetes.src->kind, "kubernetes") != 0)) {
                err_set(err, EINVAL, "kubernetes: source \"%s\" is of kind %s, not kubernetes",
                        c->kubernetes.name, c->kubernetes.src->kind ? c->kubernetes.src->kind
                                                                     : "?");
                return -1;
        }
        for (size_t i = 0; i < c->namespaces.n; i++)
                if (!spark_dns_label(c->namespaces.v[i])) {
                        err_set(err, EINVAL, "namespaces: \"%s\" is not a namespace name "
                                "(lowercase letters, digits and '-', at most 63)",
                                c->namespaces.v[i]);
                        return -1;
                }
        for (size_t i = 0; i < c->ui_urls.n; i++) {
                struct err e;

                err_clear(&e);
                if (!c->ui_urls.vals[i] || !http_url_check(c->ui_urls.vals[i],
                                                           "http://10.96.14.7:4040", &e)) {
                        err_set(err, EINVAL, "ui_urls: %s: %s", c->ui_urls.keys[i],
                                e.msg[0] ? e.msg : "needs a URL");
                        return -1;
                }
        }
        if (c->watch && strcmp(c->watch, "true") != 0 && strcmp(c->watch, "false") != 0) {
                err_set(err, EINVAL, "watch: expected true or false, got \"%.40s\"", c->watch);
                return -1;
        }
        return 0;
}

static void *spark_create(const struct source_cfg *src)
{
        struct spark_st *st = xcalloc(1, sizeof *st);

        st->src = src;
        return st;
}

static void spark_destroy(void *state)
{
        struct spark_st *st = state;

        if (!st)
                return;
        spark_drop_client(st);
        http_client_free(st->http);
        spark_hist_free(st);
        free(st);
}

static void spark_data_free_op(void *data)
{
        spark_data_free(data);
}

static void spark_json_count(cJSON *o, const char *k, int v)
{
        json_add_num(o, k, v >= 0, v);
}

static void spark_to_json(const void *data, struct cJSON *obj)
{
        const struct spark_data *d = data;
        cJSON *arr = cJSON_AddArrayToObject(obj, "applications"), *sa, *notes;

        for (size_t i = 0; i < d->n_apps; i++) {
                const struct spark_app *a = &d->apps[i];
                const struct spark_rest *r = &a->rest;
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "namespace", a->namespace_);
                json_add_str(o, "name", a->name);
                json_add_str(o, "state", a->state_text);
                cJSON_AddNumberToObject(o, "attempts", a->submission_attempts);
                cJSON_AddNumberToObject(o, "execution_attempts", a->execution_attempts);
                json_add_str(o, "driver_pod", a->driver_pod);
                cJSON_AddNumberToObject(o, "executors_running",
                                        a->exec_by_state[SPARK_EX_RUNNING]);
                cJSON_AddNumberToObject(o, "executors_failed", a->exec_by_state[SPARK_EX_FAILED]);
                json_add_str(o, "error", a->error);
                json_add_str(o, "app_id", a->app_id);
                json_add_str(o, "type", a->type);
                json_add_time(o, "submitted_at", a->submitted_ms);
                json_add_time(o, "terminated_at", a->terminated_ms);
                if (r->have_streaming) {
                        cJSON *s = cJSON_AddObjectToObject(o, "streaming");

                        cJSON_AddStringToObject(s, "kind", r->streaming.kind ==
                                                SPARK_STREAM_DSTREAM ? "dstream" : "structured");
                        json_add_num(s, "input_rate", true, r->streaming.input_rate);
                        json_add_num(s, "processing_rate", true, r->streaming.processing_rate);
                        json_add_num(s, "batch_duration_ms", true, r->streaming.batch_ms);
                        json_add_num(s, "scheduling_delay_ms", true,
                                     r->streaming.sched_delay_ms);
                        json_add_num(s, "behind_ms", a->behind_ms >= 0, (double)a->behind_ms);
                } else {
                        cJSON_AddNullToObject(o, "streaming");
                }
                spark_json_count(o, "failed_jobs", r->failed_jobs);
                spark_json_count(o, "failed_stages", r->failed_stages);
                json_add_str(o, "driver_error", r->error);
                cJSON_AddItemToArray(arr, o);
        }
        sa = cJSON_AddArrayToObject(obj, "scheduled");
        for (size_t i = 0; i < d->n_scheds; i++) {
                const struct spark_sched *s = &d->scheds[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "namespace", s->namespace_);
                json_add_str(o, "name", s->name);
                json_add_str(o, "schedule", s->schedule);
                cJSON_AddBoolToObject(o, "suspend", s->suspend);
                json_add_time(o, "last_run", s->last_run_ms);
                json_add_time(o, "next_run", s->next_run_ms);
                json_add_text(o, "schedule_state", s->schedule_state);
                json_add_text(o, "last_run_name", s->last_run_name);
                cJSON_AddItemToArray(sa, o);
        }
        notes = cJSON_AddArrayToObject(obj, "notes");
        for (size_t i = 0; i < d->n_notes; i++)
                cJSON_AddItemToArray(notes, cJSON_CreateString(d->notes[i]));
}

static void spark_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct spark_data *d = data;
        char subj[128], ms[32], ms2[32], what[160];
        enum severity sev;
        double lim;

        for (size_t i = 0; i < d->n_apps; i++) {
                const struct spark_app *a = &d->apps[i];
                const struct spark_rest *r = &a->rest;
                int xf = a->exec_by_state[SPARK_EX_FAILED];

                snprintf(subj, sizeof subj, "%.63s/%.63s", a->namespace_, a->name);
                if (spark_state_sev(a->state) == SEV_CRIT) {
                        /* the first line: errors can carry a whole stack trace */
                        int el = a->error ? (int)strcspn(a->error, "\r\n") : 0;

                        sev = health_threshold_sev(src, "app_failed", 1, &lim);
                        if (sev != SEV_OK)
                                health_add(out, sev, src, "app_failed", subj, 1, lim,
                                           "application %s is %s: %.*s", subj, a->state_text,
                                           a->error ? (el < 160 ? el : 160) : 16,
                                           a->error ? a->error : "no error message");
                } else if (spark_state_sev(a->state) == SEV_WARN) {
                        health_add(out, SEV_WARN, src, "app_state", subj, NAN, NAN,
                                   "application %s is %s", subj, a->state_text);
                }
                if (a->state != SPARK_ST_RUNNING)
                        continue;
                if (xf > 0) {
                        sev = health_threshold_sev(src, "executors_failed", xf, &lim);
                        if (sev != SEV_OK)
                                health_add(out, sev, src, "executors_failed", subj, xf, lim,
                                           "application %s has %d FAILED executor(s) "
                                           "(%d running)", subj, xf,
                                           a->exec_by_state[SPARK_EX_RUNNING]);
                }
                if (r->error)
                        health_add(out, SEV_WARN, src, "driver_ui", subj, NAN, NAN,
                                   "driver UI of %s unreadable: %.180s", subj, r->error);
                if (r->failed_jobs > 0)
                        health_check(out, src, "failed_jobs", subj, r->failed_jobs, NULL);
                if (r->have_streaming && !isnan(r->streaming.sched_delay_ms)) {
                        snprintf(what, sizeof what, "%s scheduling delay", subj);
                        health_check(out, src, "scheduling_delay_ms", subj,
                                     r->streaming.sched_delay_ms, what);
                }
                if (r->have_streaming && a->behind_ms > 0) {
                        sev = health_threshold_sev(src, "streaming_behind_ms",
                                                   (double)a->behind_ms, &lim);
                        if (sev != SEV_OK) {
                                fmt_duration_ms(a->behind_ms, ms, sizeof ms);
                                snprintf(ms2, sizeof ms2, "%.1f", r->streaming.processing_rate);
                                health_add(out, sev, src, "streaming_behind_ms", subj,
                                           (double)a->behind_ms, lim,
                                           "streaming application %s processes %s rec/s, below "
                                           "its input %.1f rec/s, for %s", subj, ms2,
                                           r->streaming.input_rate, ms);
                        }
                }
        }
        for (size_t i = 0; i < d->n_scheds; i++) {
                const struct spark_sched *s = &d->scheds[i];

                if (s->schedule_state && strcmp(s->schedule_state, "FailedValidation") == 0) {
                        snprintf(subj, sizeof subj, "%.63s/%.63s", s->namespace_, s->name);
                        health_add(out, SEV_CRIT, src, "schedule_state", subj, NAN, NAN,
                                   "scheduled application %s failed validation: %.160s", subj,
                                   s->reason ? s->reason : "no reason given");
                }
        }
}

static double spark_key_metric(const void *data)
{
        const struct spark_data *d = data;
        int n = 0;

        for (size_t i = 0; i < d->n_apps; i++)
                n += spark_state_sev(d->apps[i].state) == SEV_CRIT;
        return n;
}

static void spark_summary(const void *data, char *buf, size_t n)
{
        const struct spark_data *d = data;
        size_t running = 0, failed = 0, streaming = 0;

        for (size_t i = 0; i < d->n_apps; i++) {
                running += d->apps[i].state == SPARK_ST_RUNNING;
                failed += spark_state_sev(d->apps[i].state) == SEV_CRIT;
                streaming += d->apps[i].rest.have_streaming;
        }
        snprintf(buf, n, "%zu apps: %zu running (%zu streaming), %zu failed; %zu scheduled",
                 d->n_apps, running, streaming, failed, d->n_scheds);
}

const struct collector_ops coll_spark_ops = {
        .name = "spark",
        .title = "Spark",
        .default_interval_ms = 10000,
        .default_timeout_ms = 8000,
        .keys = spark_keys,
        .cfg_size = sizeof(struct spark_cfg),
        .thresholds = spark_thresholds,
        .validate = spark_validate,
        .create = spark_create,
        .destroy = spark_destroy,
        .poll = spark_poll,
        .data_free = spark_data_free_op,
        .to_json = spark_to_json,
        .alerts = spark_alerts,
        .key_metric = spark_key_metric,
        .summary = spark_summary,
        .key_metric_name = "failed applications",
        .key_metric_unit = THR_COUNT,
        .actions = spark_actions,
        .action_kind = &kubeact_spark_kind,
        .metrics = spark_metrics,
};
