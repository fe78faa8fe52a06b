/*
 * Kafka Connect collector: every connector of one Connect cluster over its
 * REST API (port 8083), through the shared libcurl client (src/clients/http.h).
 * Actions (src/actions/action.h; confirmation, read-only and audit live there):
 * restart, pause, resume of one connector -- see "actions" below.
 *
 * One collector thread per source owns a `struct kc_state` (one HTTP client,
 * keep-alive). A poll is
 *   GET /connectors?expand=status&expand=info   (Connect 2.3+, KIP-465: an
 *        object keyed by connector name with its ConnectorStateInfo and
 *        ConnectorInfo; a connector deleted mid-request is simply absent)
 *   GET /                                       (the worker's version; best
 *        effort, a failure here changes nothing)
 * Older Connect ignores unknown query parameters and answers the same URL
 * with a plain array of names; we then read /connectors/{name}/status and
 * /connectors/{name}/config per connector (a 404 there means the connector
 * was deleted between the two requests: it is left out). The whole poll
 * shares one deadline (coll_ctx), so a slow worker makes the source DOWN at
 * its timeout, never a hung thread.
 *
 * Errors. A non-2xx answer says what it was: Connect's own
 * {"error_code","message"} text, "check user and password_env" for 401/403,
 * and a note when the body is an HTML page (a proxy or the wrong port). A
 * 2xx body that is not the expected JSON (truncated, say) is DOWN too. In
 * fallback mode a connector whose status cannot be read keeps its name with
 * an error, and the poll is DEGRADED.
 *
 * Debezium. A connector of class KC_DEBEZIUM_PG_CLASS reads a PostgreSQL
 * logical slot: `slot.name` (default "debezium"), `publication.name`
 * (default "dbz_publication"), topic.prefix (database.server.name before
 * Debezium 2.0). The cfg `slot` map overrides the slot per connector. We
 * publish the slot name and the cfg `postgres` source name; collectors
 * never read each other's snapshots, so the Connect pane joins the slot's
 * lag from that source's snapshot at draw time.
 *
 * Alerts (thresholds in kc_thresholds, documented in docs/config.md):
 *   failed_tasks           FAILED tasks of a connector; a RUNNING connector
 *                          with FAILED tasks says it is the classic silent
 *                          outage (Connect never restarts tasks by itself)
 *   connector_not_running  a connector PAUSED, STOPPED, UNASSIGNED or
 *                          RESTARTING (value 1)
 *   unassigned_tasks       tasks UNASSIGNED (no worker runs them)
 *   a FAILED connector instance is always crit.
 */
#include "collectors/kafka_connect.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/jsonparse.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "core/jsonout.h"
#include "core/secret.h"
#include "core/util.h"

#define KC_TRACE_MAX       (64 * 1024)  /* bytes of a trace we keep */
#define KC_JSON_TRACE_LINES 5           /* lines of a trace in the JSON report */
#define KC_JSON_TRACE_BYTES 2048
#define KC_DEFAULT_SLOT    "debezium"
#define KC_DEFAULT_PUB     "dbz_publication"

static const struct cfg_key kc_keys[] = {
        { "url",           CFG_STR,        offsetof(struct kc_cfg, url),           true,
          "Connect REST URL, e.g. http://connect-1:8083 (no credentials in it)" },
        { "user",          CFG_STR,        offsetof(struct kc_cfg, user),          false,
          "HTTP Basic user (Connect's BASIC rest extension); default none" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct kc_cfg, password_env),  false,
          "name of an environment variable holding the Basic password" },
        { "password_file", CFG_SECRET_REF, offsetof(struct kc_cfg, password_file), false,
          "path of a file holding the Basic password (one trailing newline stripped)" },
        { "ca_file",       CFG_PATH,       offsetof(struct kc_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct kc_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { "postgres",      CFG_SOURCE,     offsetof(struct kc_cfg, postgres),      false,
          "name of the postgres source Debezium connectors read (links slot lag)" },
        { "slot",          CFG_STRMAP,     offsetof(struct kc_cfg, slot),          false,
          "connector name -> replication slot, when slot.name is not in its config" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def kc_thresholds[] = {
        { "failed_tasks",          THR_COUNT, 1.0, 1.0,
          "FAILED tasks of a connector (Connect never restarts them by itself)" },
        { "connector_not_running", THR_COUNT, 1.0, NAN,
          "a connector PAUSED, STOPPED, UNASSIGNED or RESTARTING (value 1)" },
        { "unassigned_tasks",      THR_COUNT, 1.0, NAN,
          "UNASSIGNED tasks of a connector (no worker runs them)" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Data
 */

struct kc_data *kafka_connect_data_new(void)
{
        return xcalloc(1, sizeof(struct kc_data));
}

static void kafka_connect_conn_done(struct kc_connector *c)
{
        free(c->name);
        free(c->type);
        free(c->klass);
        free(c->state);
        free(c->worker);
        free(c->trace);
        for (size_t i = 0; i < c->n_tasks; i++) {
                free(c->tasks[i].state);
                free(c->tasks[i].worker);
                free(c->tasks[i].trace);
        }
        free(c->tasks);
        free(c->slot);
        free(c->publication);
        free(c->topic_prefix);
        free(c->error);
        memset(c, 0, sizeof *c);
}

void kafka_connect_data_free(struct kc_data *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n_conns; i++)
                kafka_connect_conn_done(&d->conns[i]);
        free(d->conns);
        free(d->version);
        free(d->postgres_source);
        free(d);
}

const struct kc_connector *kafka_connect_find(const struct kc_data *d, const char *name)
{
        for (size_t i = 0; d && name && i < d->n_conns; i++)
                if (d->conns[i].name && strcmp(d->conns[i].name, name) == 0)
                        return &d->conns[i];
        return NULL;
}

static struct kc_connector *kafka_connect_add(struct kc_data *d, const char *name)
{
        struct kc_connector *c;

        d->conns = xrealloc(d->conns, (d->n_conns + 1) * sizeof *d->conns);
        c = &d->conns[d->n_conns++];
        memset(c, 0, sizeof *c);
        c->name = xstrdup(name);
        return c;
}

/* ------------------------------------------------------------------------
 * Helpers (pure)
 */

char *kafka_connect_trace_head(const char *trace, int max_lines, size_t max_bytes)
{
        const char *p = trace;
        size_t n;
        int lines = 0;

        if (!trace)
                return NULL;
        while (*p && lines < max_lines) {
                const char *nl = strchr(p, '\n');

                if (!nl) {
                        p += strlen(p);
                        break;
                }
                lines++;
                p = lines < max_lines ? nl + 1 : nl;
        }
        n = (size_t)(p - trace);
        if (n > max_bytes) {
                n = max_bytes;
                while (n > 0 && ((unsigned char)trace[n] & 0xC0) == 0x80)
                        n--;
        }
        return xstrndup(trace, n);
}

char *kafka_connect_path(const char *connector, const char *suffix, struct err *err)
{
        char *seg = http_path_segment(connector, "connector", err), *path;

        if (!seg)
                return NULL;
        path = xasprintf("/connectors/%s%s", seg, suffix ? suffix : "");
        free(seg);
        return path;
}

static const char *kafka_connect_s(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* A copy of a string field, cut to `max` bytes; NULL when absent or "". */
static char *kafka_connect_dup(const cJSON *o, const char *k, size_t max)
{
        const char *s = kafka_connect_s(o, k);

        if (!s || !*s)
                return NULL;
        return strlen(s) > max ? kafka_connect_trace_head(s, 1 << 30, max) : xstrdup(s);
}

static bool kafka_connect_html(const char *body, size_t len, const char *ctype)
{
        size_t i = 0;

        if (ctype && strncasecmp(ctype, "text/html", 9) == 0)
                return true;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' ||
                           body[i] == '\t'))
                i++;
        return i < len && body[i] == '<';
}

void kafka_connect_http_error(long status, const char *body, size_t len, const char *content_type,
                              const char *what, struct err *err)
{
        cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
        const char *m = j ? kafka_connect_s(j, "message") : NULL;

        if (status == 401 || status == 403)
                err_set(err, KC_ERR_HTTP, "%s: HTTP %ld %s: check user and "
                        "password_env/password_file%s%s", what, status,
                        http_status_text(status), m ? " -- " : "", m ? m : "");
        else if (m)
                err_set(err, KC_ERR_HTTP, "%s: HTTP %ld %s: %s", what, status,
                        http_status_text(status), m);
        else if (body && kafka_connect_html(body, len, content_type))
                err_set(err, KC_ERR_HTTP, "%s: HTTP %ld %s (an HTML page, not Connect's JSON: "
                        "a proxy in the way, or is url the Connect REST port?)", what, status,
                        http_status_text(status));
        else
                err_set(err, KC_ERR_HTTP, "%s: HTTP %ld %s", what, status,
                        http_status_text(status));
        cJSON_Delete(j);
}

/* ------------------------------------------------------------------------
 * Parsers (pure)
 */

static int kafka_connect_task_cmp(const void *pa, const void *pb)
{
        const struct kc_task *a = pa, *b = pb;

        return (a->id > b->id) - (a->id < b->id);
}

static int kafka_connect_conn_cmp(const void *pa, const void *pb)
{
        const struct kc_connector *a = pa, *b = pb;

        return strcmp(a->name, b->name);
}

/* ConnectorStateInfo (object) into c. */
static int kafka_connect_status_obj(const cJSON *st, struct kc_connector *c, struct err *err)
{
        const cJSON *conn, *tasks, *t;

        if (!cJSON_IsObject(st)) {
                err_set(err, KC_ERR_BADJSON, "connector %s: status is not an object", c->name);
                return -1;
        }
        conn = cJSON_GetObjectItemCaseSensitive(st, "connector");
        free(c->state);
        free(c->worker);
        free(c->trace);
        c->state = kafka_connect_dup(conn, "state", 32);
        c->worker = kafka_connect_dup(conn, "worker_id", 256);
        c->trace = kafka_connect_dup(conn, "trace", KC_TRACE_MAX);
        if (kafka_connect_s(st, "type")) {
                free(c->type);
                c->type = kafka_connect_dup(st, "type", 32);
        }
        tasks = cJSON_GetObjectItemCaseSensitive(st, "tasks");
        cJSON_ArrayForEach(t, tasks) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
                struct kc_task *k;

                if (!cJSON_IsObject(t) || !cJSON_IsNumber(id) || !isfinite(id->valuedouble) ||
                    id->valuedouble < 0 || id->valuedouble > 1e6)
                        continue;
                c->tasks = xrealloc(c->tasks, (c->n_tasks + 1) * sizeof *c->tasks);
                k = &c->tasks[c->n_tasks++];
                k->id = (int)id->valuedouble;
                k->state = kafka_connect_dup(t, "state", 32);
                k->worker = kafka_connect_dup(t, "worker_id", 256);
                k->trace = kafka_connect_dup(t, "trace", KC_TRACE_MAX);
        }
        return 0;
}

/* A connector config map into c. */
static void kafka_connect_config_obj(const cJSON *cfg, struct kc_connector *c)
{
        const char *prefix;

        free(c->klass);
        c->klass = kafka_connect_dup(cfg, "connector.class", 512);
        c->debezium_pg = c->klass && strcmp(c->klass, KC_DEBEZIUM_PG_CLASS) == 0;
        if (!c->debezium_pg)
                return;
        free(c->slot);
        free(c->publication);
        free(c->topic_prefix);
        c->slot = kafka_connect_dup(cfg, "slot.name", 256);
        c->publication = kafka_connect_dup(cfg, "publication.name", 256);
        prefix = kafka_connect_s(cfg, "topic.prefix") ? "topic.prefix" : "database.server.name";
        c->topic_prefix = kafka_connect_dup(cfg, prefix, 256);
}

int kafka_connect_parse_list(const char *json, size_t len, struct kc_data *d, struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len), *it;
        int rc = 0;

        if (!root) {
                err_set(err, KC_ERR_BADJSON, "GET /connectors: %s",
                        json_parse_why(json, len, "the answer is not JSON (truncated?)"));
                return -1;
        }
        if (cJSON_IsArray(root)) {
                cJSON_ArrayForEach(it, root) {
                        if (!cJSON_IsString(it) || !it->valuestring || !*it->valuestring) {
                                err_set(err, KC_ERR_BADJSON, "GET /connectors: the list holds "
                                        "something other than names");
                                rc = -1;
                                goto out;
                        }
                        if (!kafka_connect_find(d, it->valuestring))
                                kafka_connect_add(d, it->valuestring);
                }
                d->expanded = false;
                rc = 1;
                goto out;
        }
        if (!cJSON_IsObject(root)) {
                err_set(err, KC_ERR_BADJSON, "GET /connectors: expected an object or a list");
                rc = -1;
                goto out;
        }
        d->expanded = true;
        cJSON_ArrayForEach(it, root) {
                const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
                const cJSON *info = cJSON_GetObjectItemCaseSensitive(it, "info");
                struct kc_connector *c;

                if (!it->string || !*it->string || !cJSON_IsObject(it) ||
                    kafka_connect_find(d, it->string))
                        continue;
                c = kafka_connect_add(d, it->string);
                if (cJSON_IsObject(info)) {
                        c->type = kafka_connect_dup(info, "type", 32);
                        kafka_connect_config_obj(cJSON_GetObjectItemCaseSensitive(info, "config"),
                                                 c);
                }
                if (st && kafka_connect_status_obj(st, c, err) != 0) {
                        rc = -1;
                        goto out;
                }
        }
out:
        cJSON_Delete(root);
        return rc;
}

int kafka_connect_parse_status(const char *json, size_t len, struct kc_connector *c,
                               struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        int rc;

        if (!root) {
                err_set(err, KC_ERR_BADJSON, "connector %s: status %s", c->name,
                        json_parse_why(json, len, "is not JSON (truncated?)"));
                return -1;
        }
        for (size_t i = 0; i < c->n_tasks; i++) {
                free(c->tasks[i].state);
                free(c->tasks[i].worker);
                free(c->tasks[i].trace);
        }
        c->n_tasks = 0;
        rc = kafka_connect_status_obj(root, c, err);
        cJSON_Delete(root);
        return rc;
}

int kafka_connect_parse_config(const char *json, size_t len, struct kc_connector *c,
                               struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);

        if (!cJSON_IsObject(root)) {
                err_set(err, KC_ERR_BADJSON, "connector %s: config is not a JSON object",
                        c->name);
                cJSON_Delete(root);
                return -1;
        }
        kafka_connect_config_obj(root, c);
        cJSON_Delete(root);
        return 0;
}

int kafka_connect_parse_root(const char *json, size_t len, struct kc_data *d, struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);

        if (!cJSON_IsObject(root)) {
                err_set(err, KC_ERR_BADJSON, "GET /: not a JSON object");
                cJSON_Delete(root);
                return -1;
        }
        free(d->version);
        d->version = kafka_connect_dup(root, "version", 64);
        cJSON_Delete(root);
        return 0;
}

void kafka_connect_finish(struct kc_data *d, const struct cfg_strmap *slot_override)
{
        for (size_t i = 0; i < d->n_conns; i++) {
                struct kc_connector *c = &d->conns[i];

                c->failed_tasks = c->running_tasks = 0;
                for (size_t j = 0; j < c->n_tasks; j++) {
                        if (!c->tasks[j].state)
                                continue;
                        c->failed_tasks += strcmp(c->tasks[j].state, "FAILED") == 0;
                        c->running_tasks += strcmp(c->tasks[j].state, "RUNNING") == 0;
                }
                if (c->n_tasks > 1)
                        qsort(c->tasks, c->n_tasks, sizeof *c->tasks, kafka_connect_task_cmp);
                for (size_t k = 0; slot_override && k < slot_override->n; k++) {
                        if (strcmp(slot_override->keys[k], c->name) != 0)
                                continue;
                        free(c->slot);
                        c->slot = xstrdup(slot_override->vals[k]);
                        if (!c->debezium_pg && !c->klass)
                                c->debezium_pg = true;  /* config unreadable: trust the user */
                }
                if (c->debezium_pg) {
                        if (!c->slot)
                                c->slot = xstrdup(KC_DEFAULT_SLOT);
                        if (!c->publication)
                                c->publication = xstrdup(KC_DEFAULT_PUB);
                }
        }
        if (d->n_conns > 1)
                qsort(d->conns, d->n_conns, sizeof *d->conns, kafka_connect_conn_cmp);
}

/* ------------------------------------------------------------------------
 * I/O: the poll (collector thread)
 */

struct kc_state {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        struct http_client *http;
};

/* GET base+path. Returns 0 with a 2xx response in resp, 1 with any other
 * HTTP answer (resp kept, err set), -1 on transport failure (err set). */
static int kafka_connect_get(struct kc_state *st, const struct coll_ctx *ctx, const char *path,
                             const char *what, const char *password, struct http_response *resp,
                             struct err *err)
{
        const struct kc_cfg *c = st->src->kind_cfg;
        const struct http_api api = {
                .base = c->url, .accept = "Accept: application/json",
                .user = c->user, .password = password,
                .transport_code = KC_ERR_TRANSPORT, .status_error = kafka_connect_http_error,
        };

        return http_get_json_api(st->http, ctx, &api, path, what, resp, err);
}

/* Pre-2.3 path: status and config of every connector. Returns 0 (maybe
 * with per-connector errors: *degraded set) or -1 (transport, err set). */
static int kafka_connect_fallback(struct kc_state *st, const struct coll_ctx *ctx, const char *pw,
                                  struct kc_data *d, bool *degraded, struct err *err)
{
        size_t keep = 0;

        for (size_t i = 0; i < d->n_conns; i++) {
                struct kc_connector *c = &d->conns[i];
                char *path, what[192];
                struct http_response resp;
                struct err e;
                bool gone = false;
                int rc;

                for (int step = 0; step < 2 && !gone; step++) {
                        err_clear(&e);
                        path = kafka_connect_path(c->name, step ? "/config" : "/status", &e);
                        if (!path) {
                                /* A name the server listed that would address
                                 * another resource: never requested. */
                                if (!c->error)
                                        c->error = xstrdup(e.msg);
                                *degraded = true;
                                break;
                        }
                        snprintf(what, sizeof what, "GET /connectors/%.96s/%s", c->name,
                                 step ? "config" : "status");
                        rc = kafka_connect_get(st, ctx, path, what, pw, &resp, &e);
                        free(path);
                        if (rc < 0) {
                                err_set(err, e.code, "%s", e.msg);
                                return -1;
                        }
                        if (rc == 1 && resp.status == 404) {
                                gone = true;    /* deleted since the list */
                        } else if (rc == 0) {
                                rc = step ? kafka_connect_parse_config(resp.body, resp.len, c, &e)
                                          : kafka_connect_parse_status(resp.body, resp.len, c, &e);
                        }
                        if (rc != 0 && !gone && !c->error) {
                                c->error = xstrdup(e.msg);
                                *degraded = true;
                        }
                        http_response_done(&resp);
                }
                if (gone) {
                        kafka_connect_conn_done(c);
                        continue;
                }
                if (keep != i)
                        d->conns[keep] = *c;
                keep++;
        }
        d->n_conns = keep;
        return 0;
}

static enum coll_status kafka_connect_collect(struct kc_state *st, const struct coll_ctx *ctx,
                                              const char *pw, struct kc_data **out, struct err *err)
{
        const struct kc_cfg *cfg = st->src->kind_cfg;
        struct kc_data *d = kafka_connect_data_new();
        struct http_response resp;
        bool degraded = false;
        struct err e;
        int rc;

        *out = NULL;
        rc = kafka_connect_get(st, ctx, "/connectors?expand=status&expand=info", "GET /connectors",
                               pw,
                               &resp, err);
        if (rc != 0) {
                if (rc > 0)
                        http_response_done(&resp);
                kafka_connect_data_free(d);
                return COLL_DOWN;
        }
        rc = kafka_connect_parse_list(resp.body, resp.len, d, err);
        http_response_done(&resp);
        if (rc < 0) {
                kafka_connect_data_free(d);
                return COLL_DOWN;
        }
        if (rc == 1 && kafka_connect_fallback(st, ctx, pw, d, &degraded, err) != 0) {
                kafka_connect_data_free(d);
                return COLL_DOWN;
        }
        err_clear(&e);
        rc = kafka_connect_get(st, ctx, "/", "GET /", pw, &resp, &e);
        if (rc == 0)
                kafka_connect_parse_root(resp.body, resp.len, d, &e);
        if (rc >= 0)
                http_response_done(&resp);
        kafka_connect_finish(d, &cfg->slot);
        d->postgres_source = xstrdup(cfg->postgres.name);
        if (degraded) {
                size_t bad = 0;
                const char *first = NULL;

                for (size_t i = 0; i < d->n_conns; i++)
                        if (d->conns[i].error) {
                                bad++;
                                if (!first)
                                        first = d->conns[i].error;
                        }
                err_set(err, KC_ERR_HTTP, "%zu connector(s) unreadable: %s", bad,
                        first ? first : "?");
        }
        *out = d;
        return degraded ? COLL_DEGRADED : COLL_OK;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int kafka_connect_validate(const struct source_cfg *src, struct err *err)
{
        const struct kc_cfg *c = src->kind_cfg;
        const char *h;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if ((c->password_env || c->password_file) && !c->user) {
                err_set(err, EINVAL, "a password needs user (HTTP Basic)");
                return -1;
        }
        if (!(h = http_url_check(c->url, "http://127.0.0.1:8083", err)))
                return -1;
        if (!*h || *h == '/' || *h == '?' || strchr(c->url, '?')) {
                err_set(err, EINVAL, "url needs a host and no query string, e.g. "
                        "\"http://127.0.0.1:8083\"");
                return -1;
        }
        if (c->user && strpbrk(c->user, "\r\n:")) {
                err_set(err, EINVAL, "user must be a plain name (no ':' or line breaks)");
                return -1;
        }
        if (c->postgres.name && c->postgres.src && c->postgres.src->kind &&
            strcmp(c->postgres.src->kind, "postgres") != 0) {
                err_set(err, EINVAL, "postgres: source \"%s\" is of kind %s, not postgres",
                        c->postgres.name, c->postgres.src->kind);
                return -1;
        }
        for (size_t i = 0; i < c->slot.n; i++)
                if (!c->slot.vals[i] || !*c->slot.vals[i]) {
                        err_set(err, EINVAL, "slot: %s: the slot name must not be empty",
                                c->slot.keys[i]);
                        return -1;
                }
        return 0;
}

static struct http_client *kafka_connect_client(const struct kc_cfg *cfg)
{
        struct http_tls tls = { .ca_file = cfg->ca_file, .insecure = cfg->insecure };

        return http_client_new(&tls);
}

static void *kafka_connect_create(const struct source_cfg *src)
{
        struct kc_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        st->http = kafka_connect_client(src->kind_cfg);
        return st;
}

static void kafka_connect_destroy(void *state)
{
        struct kc_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        free(st);
}

static enum coll_status kafka_connect_poll(void *state, const struct coll_ctx *ctx, void **data,
                                           struct err *err)
{
        struct kc_state *st = state;
        const struct kc_cfg *cfg = st->src->kind_cfg;
        struct kc_data *d = NULL;
        enum coll_status status;
        struct err perr;
        char *pw;

        *data = NULL;
        if (!st->http && !(st->http = kafka_connect_client(cfg))) {
                err_set(err, ENOMEM, "libcurl could not create a handle");
                return COLL_DOWN;
        }
        err_clear(&perr);
        pw = config_secret_resolve(cfg->password_env, cfg->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, KC_ERR_TRANSPORT, "cannot read the password: %s", perr.msg);
                return COLL_DOWN;
        }
        status = kafka_connect_collect(st, ctx, pw, &d, err);
        secret_free(pw);
        *data = d;
        return status;
}

static void kafka_connect_data_free_op(void *data)
{
        kafka_connect_data_free(data);
}

static void kafka_connect_json_trace(cJSON *o, const char *trace)
{
        char *h = kafka_connect_trace_head(trace, KC_JSON_TRACE_LINES, KC_JSON_TRACE_BYTES);

        json_add_str(o, "trace", h);
        free(h);
}

static void kafka_connect_to_json(const void *data, struct cJSON *obj)
{
        const struct kc_data *d = data;
        cJSON *arr;

        json_add_str(obj, "version", d->version);
        cJSON_AddBoolToObject(obj, "expand", d->expanded);
        arr = cJSON_AddArrayToObject(obj, "connectors");
        for (size_t i = 0; i < d->n_conns; i++) {
                const struct kc_connector *c = &d->conns[i];
                cJSON *o = cJSON_CreateObject(), *ta;

                json_add_str(o, "name", c->name);
                json_add_str(o, "type", c->type);
                json_add_str(o, "class", c->klass);
                json_add_str(o, "state", c->state);
                json_add_str(o, "worker", c->worker);
                kafka_connect_json_trace(o, c->trace);
                cJSON_AddNumberToObject(o, "failed_tasks", c->failed_tasks);
                ta = cJSON_AddArrayToObject(o, "tasks");
                for (size_t j = 0; j < c->n_tasks; j++) {
                        const struct kc_task *t = &c->tasks[j];
                        cJSON *to = cJSON_CreateObject();

                        cJSON_AddNumberToObject(to, "id", t->id);
                        json_add_str(to, "state", t->state);
                        json_add_str(to, "worker", t->worker);
                        kafka_connect_json_trace(to, t->trace);
                        cJSON_AddItemToArray(ta, to);
                }
                json_add_str(o, "slot", c->debezium_pg ? c->slot : NULL);
                json_add_str(o, "publication", c->debezium_pg ? c->publication : NULL);
                json_add_str(o, "topic_prefix", c->debezium_pg ? c->topic_prefix : NULL);
                json_add_str(o, "postgres_source", c->debezium_pg ? d->postgres_source : NULL);
                json_add_str(o, "error", c->error);
                cJSON_AddItemToArray(arr, o);
        }
}

static void kafka_connect_alerts(const struct source_cfg *src, const void *data,
                                 struct alert_list *out)
{
        const struct kc_data *d = data;
        char what[192];

        for (size_t i = 0; i < d->n_conns; i++) {
                const struct kc_connector *c = &d->conns[i];
                const char *state = c->state ? c->state : "";
                const struct kc_task *ft = NULL;
                enum severity sev;
                double lim;
                int unassigned = 0;

                if (strcmp(state, "FAILED") == 0)
                        health_add(out, SEV_CRIT, src, "connector_failed", c->name, NAN, NAN,
                                   "connector %s FAILED%s%s: restart it after fixing the cause "
                                   "(see its trace)", c->name, c->worker ? " on " : "",
                                   c->worker ? c->worker : "");
                else if (strcmp(state, "PAUSED") == 0 || strcmp(state, "STOPPED") == 0 ||
                         strcmp(state, "UNASSIGNED") == 0 || strcmp(state, "RESTARTING") == 0) {
                        snprintf(what, sizeof what, "connector %s is %s (not RUNNING)%s", c->name,
                                 state, c->debezium_pg ? ": its slot retains WAL meanwhile" : "");
                        sev = health_threshold_sev(src, "connector_not_running", 1, &lim);
                        if (sev != SEV_OK)
                                health_add(out, sev, src, "connector_not_running", c->name, 1,
                                           lim, "%s", what);
                }
                for (size_t j = 0; j < c->n_tasks; j++) {
                        if (c->tasks[j].state && strcmp(c->tasks[j].state, "FAILED") == 0 && !ft)
                                ft = &c->tasks[j];
                        if (c->tasks[j].state && strcmp(c->tasks[j].state, "UNASSIGNED") == 0)
                                unassigned++;
                }
                if (c->failed_tasks > 0) {
                        sev = health_threshold_sev(src, "failed_tasks", c->failed_tasks, &lim);
                        if (sev != SEV_OK && strcmp(state, "RUNNING") == 0)
                                health_add(out, sev, src, "failed_tasks", c->name,
                                           c->failed_tasks, lim,
                                           "connector %s is RUNNING but %d of %zu tasks FAILED "
                                           "(task %d on %s): the classic silent outage -- "
                                           "Connect never restarts tasks by itself",
                                           c->name, c->failed_tasks, c->n_tasks, ft->id,
                                           ft->worker ? ft->worker : "?");
                        else if (sev != SEV_OK)
                                health_add(out, sev, src, "failed_tasks", c->name,
                                           c->failed_tasks, lim,
                                           "connector %s (%s) has %d of %zu tasks FAILED",
                                           c->name, c->state ? c->state : "state unknown",
                                           c->failed_tasks, c->n_tasks);
                }
                if (unassigned > 0) {
                        sev = health_threshold_sev(src, "unassigned_tasks", unassigned, &lim);
                        if (sev != SEV_OK)
                                health_add(out, sev, src, "unassigned_tasks", c->name,
                                           unassigned, lim,
                                           "connector %s has %d UNASSIGNED task(s): no worker "
                                           "runs them", c->name, unassigned);
                }
        }
}

static double kafka_connect_key_metric(const void *data)
{
        const struct kc_data *d = data;
        int n = 0;

        for (size_t i = 0; i < d->n_conns; i++)
                n += d->conns[i].failed_tasks;
        return n;
}

static void kafka_connect_summary(const void *data, char *buf, size_t n)
{
        const struct kc_data *d = data;
        size_t running = 0, failed = 0, other = 0;
        int ft = 0;

        for (size_t i = 0; i < d->n_conns; i++) {
                const char *s = d->conns[i].state ? d->conns[i].state : "";

                if (strcmp(s, "RUNNING") == 0)
                        running++;
                else if (strcmp(s, "FAILED") == 0)
                        failed++;
                else
                        other++;
                ft += d->conns[i].failed_tasks;
        }
        snprintf(buf, n, "%zu connectors: %zu running, %zu failed, %zu other; %d failed tasks",
                 d->n_conns, running, failed, other, ft);
}

/* ------------------------------------------------------------------------
 * actions (worker thread of src/action.c, or the `act` command)
 *
 * restart  POST /connectors/{c}/restart?includeTasks=true&onlyFailed=true.
 *          Connect 3.0+ (KIP-745) answers 202 with the ConnectorStateInfo,
 *          the restarted instances in RESTARTING: one request does it all.
 *          Older Connect ignores the parameters, restarts the connector
 *          instance only and answers 204; we then read its status and
 *          restart each FAILED task (POST /connectors/{c}/tasks/{t}/restart),
 *          never a healthy one.
 * pause    PUT /connectors/{c}/pause   (202, no body)
 * resume   PUT /connectors/{c}/resume  (202, no body)
 * The plan needs no request; run sends the plan's paths against the
 * configured url (which never carries credentials: kafka_connect_validate).
 */

static int kafka_connect_act_plan(const struct action_ctx *x, struct action_plan *plan,
                                  const char *method, const char *suffix, struct err *err)
{
        const struct kc_cfg *c = x->src->kind_cfg;
        char *path, *url;

        if (!x->target || !*x->target) {
                err_set(err, EINVAL, "no connector named");
                return -1;
        }
        if (!(path = kafka_connect_path(x->target, suffix, err)))
                return -1;
        url = http_url_join(c->url, path);
        action_plan_add(plan, method, url, NULL);
        free(url);
        free(path);
        return 0;
}

static int kafka_connect_act_prepare_restart(const struct action_ctx *x, struct action_plan *plan,
                                             struct err *err)
{
        if (kafka_connect_act_plan(x, plan, "POST", "/restart?includeTasks=true&onlyFailed=true",
                                   err) != 0)
                return -1;
        plan->note = xasprintf("Connect 3.0+ restarts the connector and its FAILED tasks at "
                               "once (202); an older Connect answers 204 after restarting the "
                               "connector only, and then each FAILED task of %s is restarted "
                               "with POST /connectors/%s/tasks/ID/restart.", x->target,
                               x->target);
        return 0;
}

static int kafka_connect_act_prepare_pause(const struct action_ctx *x, struct action_plan *plan,
                                           struct err *err)
{
        return kafka_connect_act_plan(x, plan, "PUT", "/pause", err);
}

static int kafka_connect_act_prepare_resume(const struct action_ctx *x, struct action_plan *plan,
                                            struct err *err)
{
        return kafka_connect_act_plan(x, plan, "PUT", "/resume", err);
}

/* One request of an action. Returns 0 with an HTTP answer in resp, -1 on
 * transport failure (err set). */
static int kafka_connect_act_send(struct http_client *h, const struct action_ctx *x, const char *pw,
                                  const char *method, const char *path, struct action_result *res,
                                  struct http_response *resp, struct err *err)
{
        const struct kc_cfg *c = x->src->kind_cfg;
        const char *hdrs[] = { "Accept: application/json", NULL };
        struct http_request req = { 0 };
        char *url = http_url_join(c->url, path);
        int rc;

        req.method = method;
        req.url = url;
        req.headers = hdrs;
        if (c->user && *c->user) {
                req.user = c->user;
                req.password = pw ? pw : "";
        }
        action_result_sent(res, method, path);
        rc = http_do(h, x->cc, &req, resp, err);
        free(url);
        if (rc == 0)
                res->status = resp->status;
        return rc;
}

/* The states a restart answered with. Connect's restart answer carries the
 * name at its top, which the status parser does not read: the action's
 * target names the connector. */
static void kafka_connect_act_states(struct action_result *res, const struct kc_connector *k,
                                     const char *target)
{
        action_result_out(res, "connector %s: %s", k->name ? k->name : target,
                          k->state ? k->state : "?");
        for (size_t i = 0; i < k->n_tasks; i++)
                action_result_out(res, "  task %d: %s", k->tasks[i].id,
                                  k->tasks[i].state ? k->tasks[i].state : "?");
}

/* The pre-3.0 path after a 204: restart each FAILED task. */
static void kafka_connect_act_restart_tasks(struct http_client *h, const struct action_ctx *x,
                                            const char *pw, struct action_result *res)
{
        struct kc_connector k = { 0 };
        struct http_response resp;
        char *path = kafka_connect_path(x->target, "/status", &res->err);
        int failed = 0, done = 0;

        if (!path)
                return;

        action_result_out(res, "204: this Connect restarted the connector instance only "
                          "(before 3.0); restarting its FAILED tasks one by one");
        if (kafka_connect_act_send(h, x, pw, "GET", path, res, &resp, &res->err) != 0) {
                free(path);
                return;
        }
        free(path);
        if (resp.status != 200) {
                kafka_connect_http_error(resp.status, resp.body, resp.len, resp.content_type,
                                         "GET status", &res->err);
                http_response_done(&resp);
                return;
        }
        if (kafka_connect_parse_status(resp.body, resp.len, &k, &res->err) != 0) {
                http_response_done(&resp);
                kafka_connect_conn_done(&k);
                return;
        }
        http_response_done(&resp);
        for (size_t i = 0; i < k.n_tasks; i++) {
                char what[96];

                if (!k.tasks[i].state || strcmp(k.tasks[i].state, "FAILED") != 0)
                        continue;
                failed++;
                snprintf(what, sizeof what, "/tasks/%d/restart", k.tasks[i].id);
                path = kafka_connect_path(x->target, what, &res->err);
                if (!path) {
                        kafka_connect_conn_done(&k);
                        return;
                }
                if (kafka_connect_act_send(h, x, pw, "POST", path, res, &resp, &res->err) != 0) {
                        free(path);
                        kafka_connect_conn_done(&k);
                        return;
                }
                free(path);
                if (resp.status < 200 || resp.status > 299) {
                        snprintf(what, sizeof what, "restart task %d", k.tasks[i].id);
                        kafka_connect_http_error(resp.status, resp.body, resp.len,
                                                 resp.content_type,
                                                 what, &res->err);
                        http_response_done(&resp);
                        kafka_connect_conn_done(&k);
                        return;
                }
                http_response_done(&resp);
                action_result_out(res, "  task %d: restart requested (HTTP %ld)",
                                  k.tasks[i].id, res->status);
                done++;
        }
        kafka_connect_conn_done(&k);
        if (!failed)
                action_result_out(res, "no FAILED task to restart");
        else
                action_result_out(res, "%d of %d FAILED task(s) restarted", done, failed);
        res->outcome = ACT_OK;
}

static void kafka_connect_act_run(const struct action_ctx *x, const struct action_plan *plan,
                                  struct action_result *res)
{
        const struct kc_cfg *c = x->src->kind_cfg;
        struct http_client *h = kafka_connect_client(c);
        struct http_response resp;
        struct err perr;
        char *pw;
        bool restart;

        res->outcome = ACT_FAILED;
        if (!h) {
                err_set(&res->err, ENOMEM, "libcurl could not create a handle");
                return;
        }
        err_clear(&perr);
        pw = config_secret_resolve(c->password_env, c->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(&res->err, EACCES, "cannot read the password: %s", perr.msg);
                http_client_free(h);
                return;
        }
        restart = strcmp(plan->reqs[0].method, "POST") == 0;
        if (kafka_connect_act_send(h, x, pw, plan->reqs[0].method, plan->reqs[0].path, res, &resp,
                                   &res->err) != 0)
                goto out;
        if (resp.status == 204 && restart) {
                http_response_done(&resp);
                kafka_connect_act_restart_tasks(h, x, pw, res);
                goto out;
        }
        if (resp.status < 200 || resp.status > 299) {
                kafka_connect_http_error(resp.status, resp.body, resp.len, resp.content_type,
                                         plan->reqs[0].path, &res->err);
                http_response_done(&resp);
                goto out;
        }
        action_result_out(res, "HTTP %ld %s", resp.status, http_status_text(resp.status));
        if (restart && resp.len) {
                struct kc_connector k = { 0 };
                struct err e;

                err_clear(&e);
                if (kafka_connect_parse_status(resp.body, resp.len, &k, &e) == 0)
                        kafka_connect_act_states(res, &k, x->target);
                kafka_connect_conn_done(&k);
        }
        http_response_done(&resp);
        res->outcome = ACT_OK;
out:
        secret_free(pw);
        http_client_free(h);
}

static const struct action_def kc_actions[] = {
        { .name = "restart", .title = "restart connector and its failed tasks",
          .scope = "connector", .key = 'R', .flags = ACTION_F_MUTATING,
          .prepare = kafka_connect_act_prepare_restart, .run = kafka_connect_act_run },
        { .name = "pause", .title = "pause connector", .scope = "connector", .key = 'P',
          .flags = ACTION_F_MUTATING, .prepare = kafka_connect_act_prepare_pause,
          .run = kafka_connect_act_run },
        { .name = "resume", .title = "resume connector", .scope = "connector", .key = 'U',
          .flags = ACTION_F_MUTATING, .prepare = kafka_connect_act_prepare_resume,
          .run = kafka_connect_act_run },
        { 0 }
};

/* A connector name that cannot be one URL path segment ("..", ".", empty)
 * is refused before any request: the CLI exits 66, the console flashes. */
static bool kafka_connect_target_ok(const struct action_def *d, const char *target,
                                    struct err *err)
{
        char *seg;

        for (const struct action_def *a = kc_actions; a->name; a++) {
                if (a != d)
                        continue;
                if (!(seg = http_path_segment(target, "connector", err)))
                        return false;
                free(seg);
                return true;
        }
        return true;
}

static const struct action_kind kc_action_kind = {
        .target_ok = kafka_connect_target_ok,
};

const struct collector_ops coll_kafka_connect_ops = {
        .name = "kafka_connect",
        .title = "Kafka Connect",
        .default_interval_ms = 10000,
        .default_timeout_ms = 5000,
        .keys = kc_keys,
        .cfg_size = sizeof(struct kc_cfg),
        .thresholds = kc_thresholds,
        .validate = kafka_connect_validate,
        .create = kafka_connect_create,
        .destroy = kafka_connect_destroy,
        .poll = kafka_connect_poll,
        .data_free = kafka_connect_data_free_op,
        .to_json = kafka_connect_to_json,
        .alerts = kafka_connect_alerts,
        .key_metric = kafka_connect_key_metric,
        .summary = kafka_connect_summary,
        .key_metric_name = "failed tasks",
        .key_metric_unit = THR_COUNT,
        .actions = kc_actions,
        .action_kind = &kc_action_kind,
        .metrics = kafka_connect_metrics,
};
