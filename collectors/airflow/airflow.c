/*
 * Airflow collector: DAGs and their runs over the stable REST API, v1
 * (Airflow 2.x, HTTP Basic) or v2 (Airflow 3.x, a JWT from POST
 * /auth/token), through the shared libcurl client (src/clients/http.h). Read side
 * only; trigger/clear/pause come with the shared confirmation and audit
 * machinery.
 *
 * One collector thread per source owns a `struct af_state`: the HTTP client,
 * the detected API version, the cached token, a cache of failed task
 * instances per (dag, failed run), and the per-DAG duration history. Only
 * the published `struct af_data` is shared.
 *
 * A poll:
 *   1. API detection when `api: auto` and not yet known: GET /api/v2/version
 *      (200/401/403 → v2), else GET /api/v1/version (→ v1). The version
 *      text is kept. Detection is redone after a poll that failed.
 *   2. Auth. v1: Basic user:password. v2: POST /auth/token with
 *      {"username","password"} → 201 {"access_token"}, cached; any 401
 *      drops it, fetches a new one and retries that request once. A failing
 *      token endpoint makes the poll DOWN ("check user and password").
 *      Without `user` neither: requests go without credentials and no
 *      token is asked for (a password alone is not sent anywhere).
 *   3. GET /dags?limit=100&offset=N until total_entries (pagination), the
 *      `dags` globs (fnmatch) applied to the ids.
 *   4. Per selected DAG, GET /dags/{id}/dagRuns?limit=100&offset=N&
 *      order_by=-execution_date (v1) or -run_after (v2): newest first, pages
 *      followed only while they are still inside the last 24 h. From it:
 *      the last run, up to 10 recent runs, runs started in 24 h by state,
 *      running/queued counts and the most recent failed run.
 *   5. For that failed run, GET .../taskInstances (paged) once: the failed
 *      and upstream_failed task instances, cached while the run stays the
 *      last failed one.
 * Every request counts against a per-poll budget (max_requests, default
 * 60). When it runs out, the DAGs not reached keep no run data and a note
 * says how many; the poll is DEGRADED (narrow `dags` or raise the budget).
 * The batch endpoint POST /dags/~/dagRuns/list could fold step 4 into one
 * request per 100 runs, but it cannot bound runs per DAG, so one busy DAG
 * would starve the others: we keep the per-DAG reads and the budget.
 *
 * Lateness: an unpaused DAG with a schedule is overdue by now minus the
 * time its next run is due (v2 next_dagrun_run_after, v1
 * next_dagrun_create_after, else next_dagrun_data_interval_end, else v1
 * next_dagrun); the scheduler moves that forward once it creates the run,
 * so a value in the past means the run was not created.
 *
 * Errors: Airflow 2 problem+json ({"title","detail","status"}), Airflow 3
 * FastAPI ({"detail": "..." | [...]}), HTML pages from proxies or a wrong
 * url, truncated bodies: the DAG list failing is DOWN, one DAG's runs or
 * tasks failing is DEGRADED with a note. Parsers are pure (af_parse_*()).
 *
 * Alerts (thresholds configurable, defaults in af_thresholds):
 *   last_run_failed   crit: the last run of an unpaused DAG failed
 *   failed_runs_24h   failed runs started in the last 24 h, per DAG
 *   overdue_s         per DAG, see above
 *   import_errors     warn: the DAG file has import errors
 */
#include "collectors/airflow/airflow.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "core/jsonout.h"
#include "core/secret.h"
#include "core/ring.h"
#include "core/util.h"
#include "collectors/airflow/airflow_int.h"

static const struct cfg_key af_keys[] = {
        { "url",           CFG_STR,        offsetof(struct af_cfg, url),           true,
          "Airflow webserver / API server base, e.g. http://127.0.0.1:8080" },
        { "api",           CFG_STR,        offsetof(struct af_cfg, api),           false,
          "v1 (Airflow 2, Basic auth), v2 (Airflow 3, JWT) or auto (default: detect)" },
        { "user",          CFG_STR,        offsetof(struct af_cfg, user),          false,
          "API user (Basic auth on v1, POST /auth/token on v2); none: no credentials sent" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct af_cfg, password_env),  false,
          "name of an environment variable holding the password" },
        { "password_file", CFG_SECRET_REF, offsetof(struct af_cfg, password_file), false,
          "path of a file holding the password (one trailing newline stripped)" },
        { "dags",          CFG_STRLIST,    offsetof(struct af_cfg, dags),          false,
          "DAG ids or globs (fnmatch) to watch; default all" },
        { "max_requests",  CFG_INT,        offsetof(struct af_cfg, max_requests),  false,
          "HTTP requests per poll at most (default 60); DAGs beyond it are noted" },
        { "ca_file",       CFG_PATH,       offsetof(struct af_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct af_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def af_thresholds[] = {
        { "failed_runs_24h", THR_COUNT, 1.0,   3.0,
          "failed runs of one DAG started in the last 24 hours" },
        { "overdue_s",       THR_COUNT, 900.0, 3600.0,
          "seconds an unpaused scheduled DAG's next run is overdue" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * States (pure)
 */

static const char *const af_run_names[AF_RUN__COUNT] = {
        "queued", "running", "success", "failed", "other",
};

const char *airflow_run_state_name(enum af_run_state s)
{
        return (unsigned)s < AF_RUN__COUNT ? af_run_names[s] : "other";
}

enum af_run_state airflow_run_state_parse(const char *s)
{
        for (int i = 0; s && i < AF_RUN_OTHER; i++)
                if (strcmp(s, af_run_names[i]) == 0)
                        return (enum af_run_state)i;
        return AF_RUN_OTHER;
}

static const struct {
        const char *state;
        enum severity sev;
        enum theme_role role;
} af_states[] = {
        { "failed",             SEV_CRIT, ROLE_CRIT },
        { "upstream_failed",    SEV_WARN, ROLE_WARN },
        { "up_for_retry",       SEV_WARN, ROLE_WARN },
        { "restarting",         SEV_WARN, ROLE_WARN },
        { "shutdown",           SEV_WARN, ROLE_WARN },
        { "running",            SEV_OK,   ROLE_OK },
        { "success",            SEV_OK,   ROLE_OK },
        { "queued",             SEV_OK,   ROLE_DIM },
        { "scheduled",          SEV_OK,   ROLE_DIM },
        { "deferred",           SEV_OK,   ROLE_DIM },
        { "up_for_reschedule",  SEV_OK,   ROLE_DIM },
        { "skipped",            SEV_OK,   ROLE_DIM },
        { "removed",            SEV_OK,   ROLE_DIM },
        { "sensing",            SEV_OK,   ROLE_OK },
        { "none",               SEV_OK,   ROLE_DIM },
};

enum severity airflow_state_sev(const char *state)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(af_states); i++)
                if (strcmp(state ? state : "none", af_states[i].state) == 0)
                        return af_states[i].sev;
        return SEV_OK;
}

enum theme_role airflow_state_role(const char *state)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(af_states); i++)
                if (strcmp(state ? state : "none", af_states[i].state) == 0)
                        return af_states[i].role;
        return ROLE_DEFAULT;
}

/* ------------------------------------------------------------------------
 * Data
 */

struct af_data *airflow_data_new(void)
{
        return xcalloc(1, sizeof(struct af_data));
}

void airflow_data_free(struct af_data *d)
{
        if (!d)
                return;
        free(d->version);
        for (size_t i = 0; i < d->n_dags; i++)
                airflow_dag_done(&d->dags[i]);
        free(d->dags);
        for (size_t i = 0; i < d->n_notes; i++)
                free(d->notes[i]);
        free(d->notes);
        free(d);
}

static int airflow_dag_cmp(const void *a, const void *b)
{
        return strcmp(((const struct af_dag *)a)->dag_id, ((const struct af_dag *)b)->dag_id);
}

/* ------------------------------------------------------------------------
 * I/O: the poll (collector thread)
 */

const char *airflow_prefix(enum af_api api)
{
        return api == AF_API_V2 ? "/api/v2" : "/api/v1";
}

char *airflow_password(const struct af_cfg *c, struct err *err)
{
        struct err perr;
        char *pw;

        err_clear(&perr);
        pw = config_secret_resolve(c->password_env, c->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, AF_E_AUTH, "cannot read the password: %s", perr.msg);
                return NULL;
        }
        return pw ? pw : xstrdup("");
}

/* One request, counted against the budget. Returns 0 with a response, -1
 * with err (AF_E_TRANSPORT or AF_E_BUDGET). */
int airflow_send(struct af_state *st, const struct coll_ctx *ctx, const char *method,
                 const char *path, const char *body, const char *bearer, const char *user,
                 const char *pw, struct http_response *resp, struct err *err)
{
        const struct af_cfg *c = st->src->kind_cfg;
        struct http_request rq = { 0 };
        char *url;
        int rc;

        memset(resp, 0, sizeof *resp);
        if (st->requests >= st->budget) {
                err_set(err, AF_E_BUDGET, "request budget %d used up", st->budget);
                return -1;
        }
        st->requests++;
        url = http_url_join(c->url, path);
        rq.method = method;
        rq.url = url;
        rq.body = body;
        rq.bearer = bearer;
        rq.user = user;
        rq.password = user ? pw : NULL;
        rc = http_do(st->http, ctx, &rq, resp, err);
        free(url);
        if (rc != 0)
                err->code = AF_E_TRANSPORT;
        return rc;
}

/* POST /auth/token. Returns 0 with st->token set, or -1 with err. */
int airflow_token(struct af_state *st, const struct coll_ctx *ctx, struct err *err)
{
        const struct af_cfg *c = st->src->kind_cfg;
        struct http_response resp;
        cJSON *o = cJSON_CreateObject();
        char *pw = airflow_password(c, err), *body;
        int rc = -1;

        if (!pw) {
                cJSON_Delete(o);
                return -1;
        }
        cJSON_AddStringToObject(o, "username", c->user ? c->user : "");
        cJSON_AddStringToObject(o, "password", pw);
        body = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (airflow_send(st, ctx, "POST", "/auth/token", body, NULL, NULL, NULL, &resp, err) == 0) {
                if (resp.status == 200 || resp.status == 201) {
                        free(st->token);
                        st->token = airflow_parse_token(resp.body, resp.len, err);
                        rc = st->token ? 0 : -1;
                } else {
                        err_set(err, AF_E_AUTH, "POST /auth/token: HTTP %ld %s: check user "
                                "and password_env/password_file (Airflow 3 wants a JWT from "
                                "its auth manager)", resp.status, http_status_text(resp.status));
                }
                http_response_done(&resp);
        }
        secret_free(body);
        secret_free(pw);
        return rc;
}

bool airflow_has_user(const struct af_cfg *c)
{
        return c->user && *c->user;
}

/* An authenticated request (JWT refresh once on 401 for v2). Returns 0 with
 * an HTTP answer in resp, -1 with err on transport or auth failure. */
int airflow_request(struct af_state *st, const struct coll_ctx *ctx, const char *method,
                    const char *rel, const char *body, struct http_response *resp,
                    struct err *err)
{
        const struct af_cfg *c = st->src->kind_cfg;
        bool v1 = st->api == AF_API_V1, v2 = st->api == AF_API_V2;
        char *pw = NULL;
        int rc = -1;

        /* No user: plain requests (an API server with auth disabled, or a
         * proxy in front that authenticates), never POST /auth/token. */
        if (!airflow_has_user(c))
                v1 = v2 = false;
        for (int attempt = 0; attempt < 2; attempt++) {
                if (v2 && !st->token && airflow_token(st, ctx, err) != 0)
                        break;
                if (v1 && !pw && !(pw = airflow_password(c, err)))
                        break;
                if (airflow_send(st, ctx, method, rel, body, v2 ? st->token : NULL,
                                 v1 ? c->user : NULL, pw, resp, err) != 0)
                        break;
                if (resp->status == 401 && v2 && attempt == 0) {
                        /* Expired or revoked: a new token, and this request again. */
                        free(st->token);
                        st->token = NULL;
                        http_response_done(resp);
                        continue;
                }
                rc = 0;
                break;
        }
        secret_free(pw);
        return rc;
}

/* An authenticated GET of path (under the API prefix when `api`), with one
 * token refresh on 401 (v2). Returns 0 with a 200 response, or -1 with err
 * (transport, budget, auth, or HTTP with the Airflow error text). */
int airflow_get(struct af_state *st, const struct coll_ctx *ctx, const char *path,
                const char *what, struct http_response *resp, struct err *err)
{
        char *full = xasprintf("%s%s", airflow_prefix(st->api), path);
        int rc = airflow_request(st, ctx, "GET", full, NULL, resp, err);

        free(full);
        if (rc != 0)
                return -1;
        if (resp->status == 200)
                return 0;
        if ((resp->status == 401 || resp->status == 403) &&
            !airflow_has_user(st->src->kind_cfg)) {
                err_set(err, AF_E_AUTH, "%s: HTTP %ld %s: no user is set, so requests carry no "
                        "credentials: set user and password_env/password_file", what,
                        resp->status, http_status_text(resp->status));
        } else if (resp->status == 401 || resp->status == 403) {
                err_set(err, AF_E_AUTH, "%s: HTTP %ld %s: check user and "
                        "password_env/password_file%s", what, resp->status,
                        http_status_text(resp->status),
                        st->api == AF_API_V1 ? " (and that [api] auth_backends allows "
                        "basic_auth)" : "");
        } else {
                struct err e;

                err_clear(&e);
                cJSON_Delete(airflow_json(resp->body, resp->len, what, &e));
                err_set(err, AF_E_HTTP, "%s: HTTP %ld %s%s%s", what, resp->status,
                        http_status_text(resp->status), e.msg[0] ? " -- " : "",
                        e.msg[0] ? e.msg + strlen(what) + 2 : "");
        }
        http_response_done(resp);
        return -1;
}

/* Finds the API version (api: auto) and the version text. */
int airflow_detect(struct af_state *st, const struct coll_ctx *ctx, struct err *err)
{
        const struct af_cfg *c = st->src->kind_cfg;
        static const enum af_api order[] = { AF_API_V2, AF_API_V1 };
        struct http_response resp;

        for (size_t i = 0; i < LO_ARRAY_LEN(order); i++) {
                enum af_api want = order[i];
                char *path = xasprintf("%s/version", airflow_prefix(want));
                bool fixed = c->api && strcmp(c->api, "auto") != 0;
                int rc;

                if (fixed && strcmp(c->api, want == AF_API_V2 ? "v2" : "v1") != 0) {
                        free(path);
                        continue;
                }
                rc = airflow_send(st, ctx, "GET", path, NULL, NULL, NULL, NULL, &resp, err);
                free(path);
                if (rc != 0)
                        return -1;
                if (resp.status == 200 || resp.status == 401 || resp.status == 403 || fixed) {
                        cJSON *root = resp.status == 200
                                      ? cJSON_ParseWithLength(resp.body, resp.len) : NULL;

                        st->api = want;
                        free(st->version);
                        st->version = xstrdup(root ? airflow_jstr(root, "version") : NULL);
                        cJSON_Delete(root);
                        http_response_done(&resp);
                        return 0;
                }
                http_response_done(&resp);
        }
        err_set(err, AF_E_HTTP, "neither /api/v2/version nor /api/v1/version answered: is the "
                "url the Airflow webserver/API server, with the REST API enabled?");
        return -1;
}

static struct af_hist *airflow_hist_get(struct af_state *st, const char *dag_id)
{
        for (size_t i = 0; i < st->n_hist; i++)
                if (strcmp(st->hist[i].dag_id, dag_id) == 0)
                        return &st->hist[i];
        st->hist = xrealloc(st->hist, (st->n_hist + 1) * sizeof *st->hist);
        st->hist[st->n_hist].dag_id = xstrdup(dag_id);
        ring_init(&st->hist[st->n_hist].dur);
        st->hist[st->n_hist].last_end = -1;
        return &st->hist[st->n_hist++];
}

/* Pushes the finished recent runs newer than what the ring holds (oldest
 * first), so the first poll already has a history. */
static void airflow_hist_apply(struct af_state *st, struct af_dag *g)
{
        struct af_hist *h = airflow_hist_get(st, g->dag_id);

        for (size_t i = g->n_recent; i-- > 0; ) {
                const struct af_run *r = &g->recent[i];

                if (r->end > h->last_end && isfinite(r->duration_s)) {
                        ring_push(&h->dur, r->end, r->duration_s);
                        h->last_end = r->end;
                }
        }
        g->dur_hist = h->dur;
}

static struct af_tcache *airflow_tc_find(struct af_state *st, const char *dag_id)
{
        for (size_t i = 0; i < st->n_tc; i++)
                if (strcmp(st->tc[i].dag_id, dag_id) == 0)
                        return &st->tc[i];
        return NULL;
}

static void airflow_tc_clear(struct af_tcache *t)
{
        for (size_t i = 0; i < t->n; i++)
                airflow_task_done(&t->tasks[i]);
        free(t->tasks);
        free(t->run_id);
        t->tasks = NULL;
        t->run_id = NULL;
        t->n = 0;
}

static void airflow_tasks_copy(struct af_dag *g, const struct af_tcache *t)
{
        g->failed_tasks = xcalloc(t->n ? t->n : 1, sizeof *g->failed_tasks);
        for (size_t i = 0; i < t->n; i++) {
                g->failed_tasks[i] = t->tasks[i];
                g->failed_tasks[i].task_id = xstrdup(t->tasks[i].task_id);
                g->failed_tasks[i].state = xstrdup(t->tasks[i].state);
        }
        g->n_failed_tasks = t->n;
        g->tasks_read = true;
}

/* Failed TIs of g's last failed run, from the cache or the server. */
static int airflow_tasks(struct af_state *st, const struct coll_ctx *ctx, struct af_dag *g,
                         struct err *err)
{
        struct af_tcache *t = airflow_tc_find(st, g->dag_id);
        size_t off = 0, page_n, total = 0;
        int rc = 0;

        if (t && t->run_id && strcmp(t->run_id, g->failed_run_id) == 0) {
                airflow_tasks_copy(g, t);
                return 0;
        }
        for (int page = 0; page < AF_MAX_TASK_PAGES; page++) {
                struct http_response resp;
                char tail[96], *path;

                snprintf(tail, sizeof tail, "/taskInstances?limit=%d&offset=%zu", AF_PAGE, off);
                if (!(path = airflow_dag_path(g->dag_id, g->failed_run_id, tail, err))) {
                        rc = -1;
                        break;
                }
                rc = airflow_get(st, ctx, path, "task instances", &resp, err);
                free(path);
                if (rc == 0) {
                        rc = airflow_parse_tasks(resp.body, resp.len, g, &page_n, &total, err);
                        http_response_done(&resp);
                }
                if (rc != 0)
                        break;
                off += page_n;
                if (page_n == 0 || off >= total)
                        break;
        }
        if (rc != 0) {
                g->tasks_read = false;
                return -1;
        }
        if (!t) {
                st->tc = xrealloc(st->tc, (st->n_tc + 1) * sizeof *st->tc);
                t = &st->tc[st->n_tc++];
                memset(t, 0, sizeof *t);
                t->dag_id = xstrdup(g->dag_id);
        }
        airflow_tc_clear(t);
        t->run_id = xstrdup(g->failed_run_id);
        t->tasks = xcalloc(g->n_failed_tasks ? g->n_failed_tasks : 1, sizeof *t->tasks);
        for (size_t i = 0; i < g->n_failed_tasks; i++) {
                t->tasks[i] = g->failed_tasks[i];
                t->tasks[i].task_id = xstrdup(g->failed_tasks[i].task_id);
                t->tasks[i].state = xstrdup(g->failed_tasks[i].state);
        }
        t->n = g->n_failed_tasks;
        return 0;
}

static int airflow_runs(struct af_state *st, const struct coll_ctx *ctx, struct af_data *d,
                        struct af_dag *g, struct err *err)
{
        size_t off = 0, page_n, total = 0;
        bool older;
        int rc = 0;

        for (int page = 0; page < AF_MAX_RUN_PAGES; page++) {
                struct http_response resp;
                char tail[128], *path;

                snprintf(tail, sizeof tail, "/dagRuns?limit=%d&offset=%zu&order_by=%s", AF_PAGE,
                         off, st->api == AF_API_V2 ? "-run_after" : "-execution_date");
                if (!(path = airflow_dag_path(g->dag_id, NULL, tail, err))) {
                        rc = -1;
                        break;
                }
                rc = airflow_get(st, ctx, path, "DAG runs", &resp, err);
                free(path);
                if (rc == 0) {
                        rc = airflow_parse_runs(resp.body, resp.len, d->now, page == 0, g, &page_n,
                                                &total, &older, err);
                        http_response_done(&resp);
                }
                if (rc != 0)
                        break;
                off += page_n;
                if (page_n == 0 || off >= total || older)
                        break;
        }
        if (rc != 0)
                return -1;
        g->runs_read = true;
        return 0;
}

static enum coll_status airflow_collect(struct af_state *st, const struct coll_ctx *ctx,
                                        struct af_data *d, struct err *err)
{
        const struct af_cfg *c = st->src->kind_cfg;
        enum coll_status status = COLL_OK;
        size_t off = 0, page_n, total = 0, skipped = 0;
        struct err e;

        if (st->api == AF_API_UNKNOWN && airflow_detect(st, ctx, err) != 0)
                return COLL_DOWN;
        d->api = st->api;
        d->version = xstrdup(st->version);
        for (;;) {
                struct http_response resp;
                char *path = xasprintf("/dags?limit=%d&offset=%zu", AF_PAGE, off);
                int rc = airflow_get(st, ctx, path, "DAG list", &resp, err);

                free(path);
                if (rc != 0)
                        return COLL_DOWN;
                rc = airflow_parse_dags(resp.body, resp.len, st->api,
                                        (const char *const *)c->dags.v, c->dags.n, d, &page_n,
                                        &total, err);
                http_response_done(&resp);
                if (rc != 0)
                        return COLL_DOWN;
                off += page_n;
                if (page_n == 0 || off >= total)
                        break;
        }
        d->total_dags = total;
        if (d->n_dags > 1)
                qsort(d->dags, d->n_dags, sizeof *d->dags, airflow_dag_cmp);

        for (size_t i = 0; i < d->n_dags; i++) {
                struct af_dag *g = &d->dags[i];

                g->overdue_s = airflow_overdue_s(g, d->now);
                err_clear(&e);
                if (airflow_runs(st, ctx, d, g, &e) != 0) {
                        if (e.code == AF_E_TRANSPORT) {
                                err_set(err, e.code, "%s", e.msg);
                                return COLL_DOWN;
                        }
                        if (e.code == AF_E_BUDGET) {
                                skipped = d->n_dags - i;
                                break;
                        }
                        health_note(&d->notes, &d->n_notes, 0, 256,
                                    "%s: %s", g->dag_id, e.msg);
                        status = COLL_DEGRADED;
                        continue;
                }
                airflow_hist_apply(st, g);
                if (g->failed_run_id) {
                        err_clear(&e);
                        if (airflow_tasks(st, ctx, g, &e) != 0) {
                                if (e.code == AF_E_TRANSPORT) {
                                        err_set(err, e.code, "%s", e.msg);
                                        return COLL_DOWN;
                                }
                                if (e.code != AF_E_BUDGET) {
                                        health_note(&d->notes, &d->n_notes, 0, 256,
                                                    "%s: failed tasks of %s: %s", g->dag_id,
                                                    g->failed_run_id, e.msg);
                                        status = COLL_DEGRADED;
                                }
                        }
                }
        }
        if (skipped) {
                health_note(&d->notes, &d->n_notes, 0, 256,
                            "request budget (%d per poll) reached: runs of %zu of %zu DAGs not "
                            "read; narrow `dags` or raise max_requests", st->budget, skipped,
                            d->n_dags);
                status = COLL_DEGRADED;
        }
        if (status == COLL_DEGRADED && d->n_notes)
                err_set(err, EPROTO, "%s%s", d->notes[0],
                        d->n_notes > 1 ? " (and more: see the notes)" : "");
        return status;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int airflow_validate(const struct source_cfg *src, struct err *err)
{
        const struct af_cfg *c = src->kind_cfg;
        const char *h;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if (!c->url || (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://",
                                                                      8) != 0)) {
                err_set(err, EINVAL, "url must start with http:// or https://, e.g. "
                        "\"http://127.0.0.1:8080\"");
                return -1;
        }
        h = strstr(c->url, "://") + 3;
        if (!*h || *h == '/') {
                err_set(err, EINVAL, "url has no host: give e.g. \"http://127.0.0.1:8080\"");
                return -1;
        }
        if (strchr(h, '@')) {
                err_set(err, EINVAL, "url must not carry credentials: set user and "
                        "password_env/password_file instead");
                return -1;
        }
        if (strstr(c->url, "/api/")) {
                err_set(err, EINVAL, "url is the server base, without /api/v1 or /api/v2 "
                        "(set api: v1|v2 to choose)");
                return -1;
        }
        if (c->api && strcmp(c->api, "v1") != 0 && strcmp(c->api, "v2") != 0 &&
            strcmp(c->api, "auto") != 0) {
                err_set(err, EINVAL, "api must be v1 (Airflow 2), v2 (Airflow 3) or auto, not "
                        "\"%s\"", c->api);
                return -1;
        }
        if (c->user && strpbrk(c->user, "\r\n:")) {
                err_set(err, EINVAL, "user must be a plain name (no ':' or line breaks)");
                return -1;
        }
        if (c->max_requests < 0 || c->max_requests == 1 || c->max_requests > 10000) {
                err_set(err, EINVAL, "max_requests must be between 2 and 10000");
                return -1;
        }
        for (size_t i = 0; i < c->dags.n; i++)
                if (!c->dags.v[i][0]) {
                        err_set(err, EINVAL, "dags: entry %zu is empty", i + 1);
                        return -1;
                }
        return 0;
}

void *airflow_create(const struct source_cfg *src)
{
        const struct af_cfg *c = src->kind_cfg;
        struct af_state *st = xcalloc(1, sizeof *st);
        struct http_tls tls = { .ca_file = c->ca_file, .insecure = c->insecure };

        st->src = src;
        st->http = http_client_new(&tls);
        st->budget = c->max_requests > 0 ? (int)c->max_requests : AF_DEFAULT_BUDGET;
        return st;
}

void airflow_destroy(void *state)
{
        struct af_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        free(st->version);
        secret_free(st->token);
        for (size_t i = 0; i < st->n_hist; i++)
                free(st->hist[i].dag_id);
        free(st->hist);
        for (size_t i = 0; i < st->n_tc; i++) {
                airflow_tc_clear(&st->tc[i]);
                free(st->tc[i].dag_id);
        }
        free(st->tc);
        free(st);
}

static enum coll_status airflow_poll(void *state, const struct coll_ctx *ctx, void **data,
                                     struct err *err)
{
        struct af_state *st = state;
        struct af_data *d;
        enum coll_status s;

        *data = NULL;
        if (!st->http) {
                err_set(err, ENOMEM, "libcurl could not create a handle");
                return COLL_DOWN;
        }
        d = airflow_data_new();
        d->now = clock_wall_ms();
        st->requests = 0;
        s = airflow_collect(st, ctx, d, err);
        d->requests = st->requests;
        if (s == COLL_DOWN) {
                /* Detect again next time: the server may have been upgraded. */
                st->api = AF_API_UNKNOWN;
                airflow_data_free(d);
                return s;
        }
        *data = d;
        return s;
}

static void airflow_data_free_op(void *data)
{
        airflow_data_free(data);
}

static void airflow_json_num(cJSON *o, const char *k, double v)
{
        if (isfinite(v))
                cJSON_AddNumberToObject(o, k, round(v * 1000.0) / 1000.0);
        else
                cJSON_AddNullToObject(o, k);
}

static cJSON *airflow_run_json(const struct af_run *r)
{
        cJSON *o = cJSON_CreateObject();

        json_add_str(o, "run_id", r->run_id);
        json_add_str(o, "state", r->state);
        json_add_str(o, "run_type", r->run_type);
        json_add_time(o, "logical_date", r->logical_date);
        json_add_time(o, "start", r->start);
        json_add_time(o, "end", r->end);
        airflow_json_num(o, "duration_s", r->duration_s);
        return o;
}

static void airflow_to_json(const void *data, struct cJSON *obj)
{
        const struct af_data *d = data;
        cJSON *arr, *notes;

        json_add_str(obj, "api", d->api == AF_API_V2 ? "v2" : d->api == AF_API_V1 ? "v1" : NULL);
        json_add_str(obj, "version", d->version);
        arr = cJSON_AddArrayToObject(obj, "dags");
        for (size_t i = 0; i < d->n_dags; i++) {
                const struct af_dag *g = &d->dags[i];
                cJSON *o = cJSON_CreateObject(), *r, *t;

                cJSON_AddStringToObject(o, "dag_id", g->dag_id);
                cJSON_AddBoolToObject(o, "paused", g->paused);
                json_add_str(o, "schedule", g->schedule);
                if (g->have_last)
                        cJSON_AddItemToObject(o, "last_run", airflow_run_json(&g->last_run));
                else
                        cJSON_AddNullToObject(o, "last_run");
                if (g->runs_read) {
                        r = cJSON_AddObjectToObject(o, "runs_24h");
                        for (int s = 0; s < AF_RUN__COUNT; s++)
                                if (s != AF_RUN_OTHER || g->runs_24h[s])
                                        cJSON_AddNumberToObject(r, af_run_names[s],
                                                                g->runs_24h[s]);
                        cJSON_AddNumberToObject(o, "running", g->running);
                        cJSON_AddNumberToObject(o, "queued", g->queued);
                } else {
                        cJSON_AddNullToObject(o, "runs_24h");
                        cJSON_AddNullToObject(o, "running");
                        cJSON_AddNullToObject(o, "queued");
                }
                if (g->overdue_s >= 0)
                        cJSON_AddNumberToObject(o, "overdue_s", (double)g->overdue_s);
                else
                        cJSON_AddNullToObject(o, "overdue_s");
                json_add_str(o, "failed_run_id", g->failed_run_id);
                if (g->failed_run_id && !g->tasks_read) {
                        cJSON_AddNullToObject(o, "failed_tasks");
                } else {
                        t = cJSON_AddArrayToObject(o, "failed_tasks");
                        for (size_t k = 0; k < g->n_failed_tasks; k++) {
                                const struct af_task *ft = &g->failed_tasks[k];
                                cJSON *to = cJSON_CreateObject();

                                cJSON_AddStringToObject(to, "task_id", ft->task_id);
                                json_add_str(to, "state", ft->state);
                                cJSON_AddNumberToObject(to, "map_index", ft->map_index);
                                cJSON_AddNumberToObject(to, "try_number", ft->try_number);
                                airflow_json_num(to, "duration_s", ft->duration_s);
                                cJSON_AddItemToArray(t, to);
                        }
                }
                cJSON_AddItemToArray(arr, o);
        }
        notes = cJSON_AddArrayToObject(obj, "notes");
        for (size_t i = 0; i < d->n_notes; i++)
                cJSON_AddItemToArray(notes, cJSON_CreateString(d->notes[i]));
}

static void airflow_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct af_data *d = data;
        char what[192];

        for (size_t i = 0; i < d->n_dags; i++) {
                const struct af_dag *g = &d->dags[i];

                if (g->import_errors)
                        health_add(out, SEV_WARN, src, "import_errors", g->dag_id, NAN, NAN,
                                   "DAG %s has import errors (see Browse > DAG import errors)",
                                   g->dag_id);
                if (g->paused)
                        continue;
                if (g->have_last && airflow_run_state_parse(g->last_run.state) == AF_RUN_FAILED)
                        health_add(out, SEV_CRIT, src, "last_run_failed", g->dag_id, NAN, NAN,
                                   "DAG %s last run %s failed%s%s", g->dag_id,
                                   g->last_run.run_id,
                                   g->n_failed_tasks ? ": task " : "",
                                   g->n_failed_tasks ? g->failed_tasks[0].task_id : "");
                if (g->runs_read) {
                        snprintf(what, sizeof what, "DAG %s failed runs (24h)", g->dag_id);
                        health_check(out, src, "failed_runs_24h", g->dag_id,
                                     g->runs_24h[AF_RUN_FAILED], what);
                }
                if (g->overdue_s >= 0) {
                        snprintf(what, sizeof what, "DAG %s next run overdue (s)", g->dag_id);
                        health_check(out, src, "overdue_s", g->dag_id, (double)g->overdue_s,
                                     what);
                }
        }
}

static double airflow_key_metric(const void *data)
{
        const struct af_data *d = data;
        double n = 0;

        for (size_t i = 0; i < d->n_dags; i++)
                n += d->dags[i].runs_24h[AF_RUN_FAILED];
        return n;
}

static void airflow_summary(const void *data, char *buf, size_t n)
{
        const struct af_data *d = data;
        int failed = 0, f24 = 0, running = 0, overdue = 0, paused = 0;

        for (size_t i = 0; i < d->n_dags; i++) {
                const struct af_dag *g = &d->dags[i];

                paused += g->paused;
                failed += !g->paused && g->have_last &&
                          airflow_run_state_parse(g->last_run.state) == AF_RUN_FAILED;
                f24 += g->runs_24h[AF_RUN_FAILED];
                running += g->running;
                overdue += g->overdue_s > 0;
        }
        snprintf(buf, n, "%zu DAGs (%d paused), %d last failed, %d failed runs 24h, %d running, "
                 "%d overdue", d->n_dags, paused, failed, f24, running, overdue);
}

const struct collector_ops coll_airflow_ops = {
        .name = "airflow",
        .title = "Airflow",
        .default_interval_ms = 30000,
        .default_timeout_ms = 10000,
        .keys = af_keys,
        .cfg_size = sizeof(struct af_cfg),
        .thresholds = af_thresholds,
        .validate = airflow_validate,
        .create = airflow_create,
        .destroy = airflow_destroy,
        .poll = airflow_poll,
        .data_free = airflow_data_free_op,
        .to_json = airflow_to_json,
        .alerts = airflow_alerts,
        .key_metric = airflow_key_metric,
        .summary = airflow_summary,
        .key_metric_name = "failed runs (24h)",
        .key_metric_unit = THR_COUNT,
        .actions = af_actions,
        .action_kind = &af_action_kind,
        .metrics = airflow_metrics,
};
