/*
 * Schema Registry collector: subjects, their version counts, latest schema
 * id/type/version, and global and per-subject compatibility of one
 * Confluent Schema Registry (port 8081) over REST, through the shared
 * libcurl client (src/clients/http.h). Read-only.
 *
 * One collector thread per source owns a `struct sr_state`: the HTTP client
 * and a cache of subject details. A poll reads GET /subjects and GET
 * /config (global level), then, per subject, GET /subjects/{s}/versions,
 * /subjects/{s}/versions/latest and /config/{s} (404 with error_code 40408
 * means the subject inherits the global level; 40401 means it was deleted
 * since the list). A registry may hold thousands of subjects, so a poll
 * sends at most `max_requests` requests (default 62: the two above and 20
 * subjects): the details are refreshed round-robin from where the previous
 * poll stopped, the others keep what an earlier poll read, and the data
 * carries a note saying how many were refreshed and how many were never
 * read yet. the Schema Registry API reference documents no bulk "latest of every subject" endpoint we
 * could rely on across versions, so we do not use one.
 *
 * A failing /subjects or /config is DOWN; a failing subject request keeps
 * its previous details and makes the poll DEGRADED. No alerts beyond the
 * common status ones: compatibility is policy, not health.
 */
#include "collectors/schema_registry.h"

#include <errno.h>
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
#include "clients/http.h"
#include "core/jsonout.h"
#include "core/secret.h"
#include "collectors/kafka_connect.h"
#include "core/util.h"

static const struct cfg_key sr_keys[] = {
        { "url",           CFG_STR,        offsetof(struct sr_cfg, url),           true,
          "Schema Registry URL, e.g. http://registry:8081 (no credentials in it)" },
        { "user",          CFG_STR,        offsetof(struct sr_cfg, user),          false,
          "HTTP Basic user (Confluent Cloud: the API key); default none" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct sr_cfg, password_env),  false,
          "name of an environment variable holding the Basic password (API secret)" },
        { "password_file", CFG_SECRET_REF, offsetof(struct sr_cfg, password_file), false,
          "path of a file holding the Basic password (one trailing newline stripped)" },
        { "ca_file",       CFG_PATH,       offsetof(struct sr_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct sr_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { "max_requests",  CFG_INT,        offsetof(struct sr_cfg, max_requests),  false,
          "requests per poll (>= 5; default 62: /subjects, /config and 20 subjects)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def sr_thresholds[] = {
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Data
 */

struct sr_data *schema_registry_data_new(void)
{
        return xcalloc(1, sizeof(struct sr_data));
}

static void schema_registry_subject_done(struct sr_subject *s)
{
        free(s->name);
        free(s->type);
        free(s->compatibility);
        memset(s, 0, sizeof *s);
}

static void schema_registry_subject_copy(struct sr_subject *dst, const struct sr_subject *src)
{
        *dst = *src;
        dst->name = xstrdup(src->name);
        dst->type = xstrdup(src->type);
        dst->compatibility = xstrdup(src->compatibility);
}

void schema_registry_data_free(struct sr_data *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n_subjects; i++)
                schema_registry_subject_done(&d->subjects[i]);
        free(d->subjects);
        free(d->compatibility);
        free(d);
}

/* ------------------------------------------------------------------------
 * Parsers (pure)
 */

static int schema_registry_strcmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int schema_registry_parse_subjects(const char *json, size_t len, char ***names, size_t *n,
                                   struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len), *it;
        size_t k = 0;

        *names = NULL;
        *n = 0;
        if (!cJSON_IsArray(root)) {
                err_set(err, SR_ERR_BADJSON, "GET /subjects: %s", root ? "expected a list of "
                        "names" : json_parse_why(json, len, "the answer is not JSON (truncated?)"));
                cJSON_Delete(root);
                return -1;
        }
        *names = xcalloc((size_t)cJSON_GetArraySize(root) + 1, sizeof **names);
        cJSON_ArrayForEach(it, root) {
                if (!cJSON_IsString(it) || !it->valuestring || !*it->valuestring)
                        continue;
                (*names)[k++] = xstrdup(it->valuestring);
        }
        cJSON_Delete(root);
        qsort(*names, k, sizeof **names, schema_registry_strcmp);
        *n = k;
        return 0;
}

int schema_registry_parse_versions(const char *json, size_t len, int64_t *count, struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);

        if (!cJSON_IsArray(root)) {
                err_set(err, SR_ERR_BADJSON, "versions: expected a list of numbers");
                cJSON_Delete(root);
                return -1;
        }
        *count = cJSON_GetArraySize(root);
        cJSON_Delete(root);
        return 0;
}

static bool schema_registry_int(const cJSON *o, const char *k, int64_t *out)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15)
                return false;
        *out = (int64_t)v->valuedouble;
        return true;
}

int schema_registry_parse_latest(const char *json, size_t len, struct sr_subject *s,
                                 struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        const cJSON *t;
        int64_t v, id;

        if (!cJSON_IsObject(root) || !schema_registry_int(root, "version", &v) ||
            !schema_registry_int(root, "id", &id)) {
                err_set(err, SR_ERR_BADJSON, "latest version: expected an object with "
                        "version and id");
                cJSON_Delete(root);
                return -1;
        }
        s->latest_version = v;
        s->latest_id = id;
        t = cJSON_GetObjectItemCaseSensitive(root, "schemaType");
        free(s->type);
        s->type = xstrdup(cJSON_IsString(t) && t->valuestring && *t->valuestring
                          ? t->valuestring : "AVRO");
        cJSON_Delete(root);
        return 0;
}

static long schema_registry_error_code(const cJSON *j)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "error_code");

        /* In range before the cast: a huge value is undefined behaviour
         * (fuzz_connect found 4e65). */
        return cJSON_IsNumber(c) && c->valuedouble >= 0 && c->valuedouble <= 1e9
               ? (long)c->valuedouble : 0;
}

void schema_registry_http_error(long status, const char *body, size_t len, const char *content_type,
                                const char *what, struct err *err)
{
        cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        long code = schema_registry_error_code(j);

        if (cJSON_IsString(m) && m->valuestring && status != 401 && status != 403) {
                err_set(err, SR_ERR_HTTP, "%s: HTTP %ld %s: error %ld: %s", what, status,
                        http_status_text(status), code, m->valuestring);
                cJSON_Delete(j);
                return;
        }
        cJSON_Delete(j);
        if (status != 401 && status != 403 && body && len &&
            ((content_type && strncasecmp(content_type, "text/html", 9) == 0) || body[0] == '<')) {
                err_set(err, SR_ERR_HTTP, "%s: HTTP %ld %s (an HTML page, not Schema Registry's "
                        "JSON: a proxy in the way, or is url the registry port?)", what, status,
                        http_status_text(status));
                return;
        }
        /* Same wording as the Connect collector for 401/403. */
        kafka_connect_http_error(status, body, len, content_type, what, err);
        err->code = SR_ERR_HTTP;
}

int schema_registry_parse_config(long status, const char *json, size_t len, char **level,
                                 bool *inherited,
                                 struct err *err)
{
        cJSON *root = cJSON_ParseWithLength(json, len);
        const cJSON *l;
        int rc = -1;

        *level = NULL;
        *inherited = false;
        if (status == 404 && root) {
                long code = schema_registry_error_code(root);

                if (code == 40408) {
                        *inherited = true;
                        rc = 0;
                } else if (code == 40401) {
                        rc = 1;
                }
        } else if (status >= 200 && status <= 299 && cJSON_IsObject(root)) {
                l = cJSON_GetObjectItemCaseSensitive(root, "compatibilityLevel");
                if (!cJSON_IsString(l))
                        l = cJSON_GetObjectItemCaseSensitive(root, "compatibility");
                if (cJSON_IsString(l) && l->valuestring && *l->valuestring) {
                        *level = xstrdup(l->valuestring);
                        rc = 0;
                }
        }
        cJSON_Delete(root);
        if (rc < 0) {
                if (status >= 200 && status <= 299)
                        err_set(err, SR_ERR_BADJSON, "config: expected {\"compatibilityLevel\"}");
                else
                        schema_registry_http_error(status, json, len, NULL, "config", err);
        }
        return rc;
}

/* ------------------------------------------------------------------------
 * I/O: the poll (collector thread)
 */

struct sr_state {
        const struct source_cfg *src;
        struct http_client *http;
        struct sr_subject *cache;       /* sorted by name; details from earlier polls */
        size_t n_cache;
        char  *cursor;                  /* first subject to refresh next poll; NULL = start */
};

static int schema_registry_get(struct sr_state *st, const struct coll_ctx *ctx, const char *path,
                               const char *what, const char *pw, struct http_response *resp,
                               struct err *err)
{
        const struct sr_cfg *c = st->src->kind_cfg;
        const struct http_api api = {
                .base = c->url,
                .accept = "Accept: application/vnd.schemaregistry.v1+json, application/json",
                .user = c->user, .password = pw,
                .transport_code = SR_ERR_TRANSPORT, .status_error = schema_registry_http_error,
        };

        return http_get_json_api(st->http, ctx, &api, path, what, resp, err);
}

static const struct sr_subject *schema_registry_cached(const struct sr_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_cache; i++)
                if (strcmp(st->cache[i].name, name) == 0)
                        return &st->cache[i];
        return NULL;
}

/* Reads one subject's details into s (up to 3 requests, counted in *sent).
 * 0 ok, 1 deleted, -1 failed (err), -2 transport (err). */
static int schema_registry_subject_read(struct sr_state *st, const struct coll_ctx *ctx,
                                        const char *pw,
                                        struct sr_subject *s, int64_t *sent, struct err *err)
{
        char *seg = http_path_segment(s->name, "subject", err), *path, what[160];
        struct http_response resp;
        struct sr_subject tmp = { 0 };
        int rc, out = 0;

        if (!seg)
                return -1;      /* a listed name that would address another resource */
        tmp.name = s->name;
        for (int step = 0; step < 3 && out == 0; step++) {
                static const char *const pre[] = { "/subjects/", "/subjects/", "/config/" };
                static const char *const post[] = { "/versions", "/versions/latest", "" };

                path = xasprintf("%s%s%s", pre[step], seg, post[step]);
                snprintf(what, sizeof what, "GET %.140s", path);
                rc = schema_registry_get(st, ctx, path, what, pw, &resp, err);
                free(path);
                (*sent)++;
                if (rc < 0) {
                        out = -2;
                        break;
                }
                if (step == 2) {
                        char *lvl;
                        bool inh;

                        rc = schema_registry_parse_config(resp.status, resp.body, resp.len, &lvl,
                                                          &inh, err);
                        if (rc == 0) {
                                tmp.compatibility = lvl;
                                tmp.inherited = inh;
                        }
                        out = rc == 1 ? 1 : rc < 0 ? -1 : 0;
                } else if (rc == 1) {
                        cJSON *j = cJSON_ParseWithLength(resp.body, resp.len);

                        out = resp.status == 404 && schema_registry_error_code(j) == 40401 ? 1 : -1;
                        cJSON_Delete(j);
                } else if (step == 0) {
                        out = schema_registry_parse_versions(resp.body, resp.len, &tmp.versions,
                                                             err);
                } else {
                        out = schema_registry_parse_latest(resp.body, resp.len, &tmp, err);
                }
                http_response_done(&resp);
        }
        free(seg);
        if (out == 0) {
                free(s->type);
                free(s->compatibility);
                s->known = true;
                s->versions = tmp.versions;
                s->latest_version = tmp.latest_version;
                s->latest_id = tmp.latest_id;
                s->type = tmp.type;
                s->compatibility = tmp.compatibility;
                s->inherited = tmp.inherited;
                s->read_at = clock_wall_ms();
        } else {
                free(tmp.type);
                free(tmp.compatibility);
        }
        return out;
}

static enum coll_status schema_registry_collect(struct sr_state *st, const struct coll_ctx *ctx,
                                                const char *pw, struct sr_data **out,
                                                struct err *err)
{
        const struct sr_cfg *cfg = st->src->kind_cfg;
        int64_t budget = cfg->max_requests > 0 ? cfg->max_requests : SR_DEFAULT_MAX_REQUESTS;
        struct sr_data *d = schema_registry_data_new();
        struct http_response resp;
        char **names = NULL, *lvl;
        size_t n = 0, start = 0, never = 0, keep = 0;
        bool inh, degraded = false;
        struct err e;
        int rc;

        *out = NULL;
        rc = schema_registry_get(st, ctx, "/subjects", "GET /subjects", pw, &resp, err);
        if (rc != 0)
                goto down_resp;
        rc = schema_registry_parse_subjects(resp.body, resp.len, &names, &n, err);
        http_response_done(&resp);
        if (rc != 0)
                goto down;
        rc = schema_registry_get(st, ctx, "/config", "GET /config", pw, &resp, err);
        if (rc < 0)
                goto down;
        rc = schema_registry_parse_config(resp.status, resp.body, resp.len, &lvl, &inh, err);
        http_response_done(&resp);
        if (rc != 0 || !lvl) {
                if (rc == 0)
                        err_set(err, SR_ERR_BADJSON, "GET /config: no global level");
                goto down;
        }
        d->compatibility = lvl;
        budget -= 2;

        d->subjects = xcalloc(n + 1, sizeof *d->subjects);
        d->n_subjects = n;
        for (size_t i = 0; i < n; i++) {
                const struct sr_subject *c = schema_registry_cached(st, names[i]);

                if (c) {
                        schema_registry_subject_copy(&d->subjects[i], c);
                } else {
                        d->subjects[i].name = xstrdup(names[i]);
                        d->subjects[i].versions = d->subjects[i].latest_version = -1;
                        d->subjects[i].latest_id = -1;
                }
                if (st->cursor && strcmp(names[i], st->cursor) < 0)
                        start = i + 1;
        }
        if (start >= n)
                start = 0;
        for (size_t k = 0; k < n && budget >= 3; k++) {
                struct sr_subject *s = &d->subjects[(start + k) % n];

                int64_t sent = 0;

                err_clear(&e);
                rc = schema_registry_subject_read(st, ctx, pw, s, &sent, &e);
                budget -= sent;
                if (rc == -2) {
                        err_set(err, e.code, "%s", e.msg);
                        goto down;
                }
                if (rc == 1) {
                        s->known = false;
                        free(s->name);
                        s->name = NULL;         /* deleted since the list */
                } else if (rc < 0 && !degraded) {
                        err_set(err, e.code, "%s", e.msg);
                        degraded = true;
                }
                d->refreshed++;
                free(st->cursor);
                st->cursor = xstrdup(names[(start + k + 1) % n]);
        }
        d->capped = d->refreshed < n;
        /* Drop deleted subjects, then remember everything for next time. */
        for (size_t i = 0; i < d->n_subjects; i++) {
                if (!d->subjects[i].name) {
                        schema_registry_subject_done(&d->subjects[i]);
                        continue;
                }
                never += !d->subjects[i].known;
                d->subjects[keep++] = d->subjects[i];
        }
        d->n_subjects = keep;
        for (size_t i = 0; i < st->n_cache; i++)
                schema_registry_subject_done(&st->cache[i]);
        st->cache = xrealloc(st->cache, (keep + 1) * sizeof *st->cache);
        st->n_cache = keep;
        for (size_t i = 0; i < keep; i++)
                schema_registry_subject_copy(&st->cache[i], &d->subjects[i]);
        if (d->capped)
                snprintf(d->note, sizeof d->note, "details of %zu of %zu subjects refreshed "
                         "this poll (max_requests %lld); %zu not read yet, later polls "
                         "continue", d->refreshed, n,
                         (long long)(cfg->max_requests > 0 ? cfg->max_requests
                                                            : SR_DEFAULT_MAX_REQUESTS), never);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        *out = d;
        return degraded ? COLL_DEGRADED : COLL_OK;

down_resp:
        if (rc > 0)
                http_response_done(&resp);
down:
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        schema_registry_data_free(d);
        return COLL_DOWN;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int schema_registry_validate(const struct source_cfg *src, struct err *err)
{
        const struct sr_cfg *c = src->kind_cfg;
        const char *h;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if ((c->password_env || c->password_file) && !c->user) {
                err_set(err, EINVAL, "a password needs user (HTTP Basic)");
                return -1;
        }
        if (!(h = http_url_check(c->url, "http://127.0.0.1:8081", err)))
                return -1;
        if (!*h || *h == '/' || strchr(c->url, '?')) {
                err_set(err, EINVAL, "url needs a host and no query string");
                return -1;
        }
        if (c->max_requests != 0 && c->max_requests < 5) {
                err_set(err, EINVAL, "max_requests must be at least 5 (/subjects, /config and "
                        "one subject)");
                return -1;
        }
        return 0;
}

static void *schema_registry_create(const struct source_cfg *src)
{
        const struct sr_cfg *c = src->kind_cfg;
        struct http_tls tls = { .ca_file = c->ca_file, .insecure = c->insecure };
        struct sr_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        st->http = http_client_new(&tls);
        return st;
}

static void schema_registry_destroy(void *state)
{
        struct sr_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        for (size_t i = 0; i < st->n_cache; i++)
                schema_registry_subject_done(&st->cache[i]);
        free(st->cache);
        free(st->cursor);
        free(st);
}

static enum coll_status schema_registry_poll(void *state, const struct coll_ctx *ctx, void **data,
                                             struct err *err)
{
        struct sr_state *st = state;
        const struct sr_cfg *cfg = st->src->kind_cfg;
        struct sr_data *d = NULL;
        enum coll_status status;
        struct err perr;
        char *pw;

        *data = NULL;
        if (!st->http) {
                err_set(err, ENOMEM, "libcurl could not create a handle");
                return COLL_DOWN;
        }
        err_clear(&perr);
        pw = config_secret_resolve(cfg->password_env, cfg->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, SR_ERR_TRANSPORT, "cannot read the password: %s", perr.msg);
                return COLL_DOWN;
        }
        status = schema_registry_collect(st, ctx, pw, &d, err);
        secret_free(pw);
        *data = d;
        return status;
}

static void schema_registry_data_free_op(void *data)
{
        schema_registry_data_free(data);
}

static void schema_registry_to_json(const void *data, struct cJSON *obj)
{
        const struct sr_data *d = data;
        cJSON *arr;

        json_add_str(obj, "compatibility", d->compatibility);
        cJSON_AddNumberToObject(obj, "subjects_total", (double)d->n_subjects);
        cJSON_AddNumberToObject(obj, "refreshed", (double)d->refreshed);
        cJSON_AddBoolToObject(obj, "capped", d->capped);
        json_add_str(obj, "note", d->note[0] ? d->note : NULL);
        arr = cJSON_AddArrayToObject(obj, "subjects");
        for (size_t i = 0; i < d->n_subjects; i++) {
                const struct sr_subject *s = &d->subjects[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "name", s->name);
                json_add_num(o, "versions", s->known, s->versions);
                json_add_num(o, "latest_version", s->known, s->latest_version);
                json_add_num(o, "latest_id", s->known, s->latest_id);
                json_add_str(o, "type", s->known ? s->type : NULL);
                json_add_str(o, "compatibility", s->known ? s->compatibility : NULL);
                if (s->known)
                        cJSON_AddBoolToObject(o, "inherits_global", s->inherited);
                else
                        cJSON_AddNullToObject(o, "inherits_global");
                cJSON_AddItemToArray(arr, o);
        }
}

static void schema_registry_alerts(const struct source_cfg *src, const void *data,
                                   struct alert_list *out)
{
        (void)src;
        (void)data;
        (void)out;
}

static double schema_registry_key_metric(const void *data)
{
        return (double)((const struct sr_data *)data)->n_subjects;
}

static void schema_registry_summary(const void *data, char *buf, size_t n)
{
        const struct sr_data *d = data;

        snprintf(buf, n, "%zu subjects, global %s%s", d->n_subjects,
                 d->compatibility ? d->compatibility : "?", d->capped ? ", capped" : "");
}

const struct collector_ops coll_schema_registry_ops = {
        .name = "schema_registry",
        .title = "Schema Registry",
        .default_interval_ms = 30000,
        .default_timeout_ms = 5000,
        .keys = sr_keys,
        .cfg_size = sizeof(struct sr_cfg),
        .thresholds = sr_thresholds,
        .validate = schema_registry_validate,
        .create = schema_registry_create,
        .destroy = schema_registry_destroy,
        .poll = schema_registry_poll,
        .data_free = schema_registry_data_free_op,
        .to_json = schema_registry_to_json,
        .alerts = schema_registry_alerts,
        .key_metric = schema_registry_key_metric,
        .summary = schema_registry_summary,
        .key_metric_name = "subjects",
        .key_metric_unit = THR_COUNT,
        .metrics = schema_registry_metrics,
};
