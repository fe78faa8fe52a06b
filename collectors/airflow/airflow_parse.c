/*
 * Airflow collector: small pure helpers and the parsers of the REST API's
 * answers (pure; see airflow.c).
 */
#include "collectors/airflow/airflow_int.h"

#include "core/jsonparse.h"

/* ------------------------------------------------------------------------
 * Small pure helpers
 */

int64_t airflow_time_parse(const char *s)
{
        struct tm tm;
        int y, mo, d, h, mi, se, n = 0, oh = 0, om = 0;
        double frac = 0;
        const char *p;
        int64_t t;

        if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 ||
            n != 19)
                return -1;
        p = s + n;
        if (*p == '.') {
                double scale = 0.1;

                for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                        frac += (*p - '0') * scale;
        }
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int sign = *p == '-' ? -1 : 1;

                if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
                        return -1;
                oh = (p[1] - '0') * 10 + (p[2] - '0');
                p += 3;
                if (*p == ':')
                        p++;
                if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
                        om = (p[0] - '0') * 10 + (p[1] - '0');
                        p += 2;
                }
                oh *= sign;
                om *= sign;
        } else if (*p != '\0') {
                return -1;
        }
        if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
                return -1;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        t = (int64_t)timegm(&tm);
        t -= (int64_t)oh * 3600 + (int64_t)om * 60;
        return t * 1000 + (int64_t)llround(frac * 1000.0);
}

char *airflow_dag_path(const char *dag_id, const char *run_id, const char *tail,
                       struct err *err)
{
        char *dag = http_path_segment(dag_id, "DAG", err), *run = NULL, *path;

        if (!dag)
                return NULL;
        if (run_id && !(run = http_path_segment(run_id, "DAG run", err))) {
                free(dag);
                return NULL;
        }
        path = xasprintf("/dags/%s%s%s%s", dag, run ? "/dagRuns/" : "", run ? run : "",
                         tail ? tail : "");
        free(run);
        free(dag);
        return path;
}

int64_t airflow_overdue_s(const struct af_dag *g, int64_t now)
{
        if (g->paused || !g->schedule || g->next_due < 0)
                return -1;
        return now > g->next_due ? (now - g->next_due) / 1000 : 0;
}

const char *airflow_jstr(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool airflow_jbool(const cJSON *o, const char *k, bool def)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static double airflow_jnum(const cJSON *o, const char *k, double def)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* A number clamped to [lo, hi] (def when absent or NaN), safe to cast. */
static double airflow_jint(const cJSON *o, const char *k, double def, double lo, double hi)
{
        double v = airflow_jnum(o, k, def);

        if (isnan(v))
                return def;
        return v < lo ? lo : v > hi ? hi : v;
}

/* Parses an Airflow JSON answer; an object carrying an error (2.x problem
 * JSON or 3.x "detail") is an error. Returns the root or NULL with err. */
cJSON *airflow_json(const char *body, size_t len, const char *what, struct err *err)
{
        const char *p = body;
        size_t n = len;
        cJSON *root, *detail;

        while (n > 0 && isspace((unsigned char)*p)) {
                p++;
                n--;
        }
        if (n == 0) {
                err_set(err, EPROTO, "%s: empty answer from Airflow", what);
                return NULL;
        }
        if (*p == '<') {
                err_set(err, EPROTO, "%s: Airflow sent an HTML page, not JSON: is the url the "
                        "Airflow webserver/API server base (no /api/... path)?", what);
                return NULL;
        }
        root = cJSON_ParseWithLength(p, n);
        if (!root || !cJSON_IsObject(root)) {
                if (!root && json_too_deep(p, n))
                        err_set(err, EPROTO, "%s: %s from Airflow", what,
                                json_parse_why(p, n, ""));
                else
                        err_set(err, EPROTO, "%s: invalid or truncated JSON from Airflow "
                                "(%zu bytes)", what, len);
                cJSON_Delete(root);
                return NULL;
        }
        detail = cJSON_GetObjectItemCaseSensitive(root, "detail");
        if (detail && (cJSON_GetObjectItemCaseSensitive(root, "title") ||
                       !cJSON_GetObjectItemCaseSensitive(root, "total_entries"))) {
                const char *title = airflow_jstr(root, "title");
                const cJSON *d0 = cJSON_IsArray(detail) ? cJSON_GetArrayItem(detail, 0) : NULL;
                const char *msg = cJSON_IsString(detail) ? detail->valuestring
                                  : d0 ? airflow_jstr(d0, "msg") : NULL;

                err_set(err, EPROTO, "%s: Airflow error: %s%s%s", what, title ? title : "",
                        title && msg ? ": " : "", msg ? msg : title ? "" : "(no detail)");
                cJSON_Delete(root);
                return NULL;
        }
        return root;
}

/* Parses a list answer: its array `key` (root, to cJSON_Delete, in *root)
 * and the total count in *total, or NULL with err (and *root NULL). */
static const cJSON *airflow_list(const char *body, size_t len, const char *key, const char *what,
                                 size_t *total, cJSON **root, struct err *err)
{
        const cJSON *a;

        if (!(*root = airflow_json(body, len, what, err)))
                return NULL;
        a = cJSON_GetObjectItemCaseSensitive(*root, key);
        if (!cJSON_IsArray(a)) {
                err_set(err, EPROTO, "%s: the answer has no \"%s\" list: is this the Airflow "
                        "stable REST API?", what, key);
                cJSON_Delete(*root);
                *root = NULL;
                return NULL;
        }
        *total = (size_t)airflow_jint(*root, "total_entries", cJSON_GetArraySize(a), 0, 1e9);
        return a;
}

/* ------------------------------------------------------------------------
 * Parsers (pure)
 */

static bool airflow_glob_match(const char *const *globs, size_t n, const char *id)
{
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (fnmatch(globs[i], id, 0) == 0)
                        return true;
        return false;
}

/* The schedule as text: a cron expression, "every 3600s", or a summary. */
static char *airflow_schedule(const cJSON *dag, enum af_api api)
{
        const cJSON *si = cJSON_GetObjectItemCaseSensitive(dag, "schedule_interval");
        const char *s;

        if (cJSON_IsObject(si)) {
                const char *type = airflow_jstr(si, "__type");

                if ((s = airflow_jstr(si, "value")) != NULL)
                        return xstrdup(s);
                if (type && strcmp(type, "TimeDelta") == 0)
                        return xasprintf("every %.0fs", airflow_jnum(si, "days", 0) * 86400 +
                                         airflow_jnum(si, "seconds", 0));
                if (type)
                        return xstrdup(type);
        } else if (cJSON_IsString(si)) {
                return xstrdup(si->valuestring);
        }
        s = airflow_jstr(dag, "timetable_summary");
        if (!s && api == AF_API_V1 && !cJSON_IsNull(si))
                s = airflow_jstr(dag, "timetable_description");
        if (s && *s && strcmp(s, "None") != 0 && strcmp(s, "null") != 0)
                return xstrdup(s);
        return NULL;
}

static void airflow_run_done(struct af_run *r)
{
        free(r->run_id);
        free(r->state);
        free(r->run_type);
        memset(r, 0, sizeof *r);
}

void airflow_task_done(struct af_task *t)
{
        free(t->task_id);
        free(t->state);
}

void airflow_dag_done(struct af_dag *g)
{
        free(g->dag_id);
        free(g->schedule);
        airflow_run_done(&g->last_run);
        for (size_t i = 0; i < g->n_recent; i++)
                airflow_run_done(&g->recent[i]);
        free(g->recent);
        free(g->failed_run_id);
        for (size_t i = 0; i < g->n_failed_tasks; i++)
                airflow_task_done(&g->failed_tasks[i]);
        free(g->failed_tasks);
}

int airflow_parse_dags(const char *body, size_t len, enum af_api api, const char *const *globs,
                       size_t n_globs, struct af_data *d, size_t *page_n, size_t *total,
                       struct err *err)
{
        cJSON *root;
        const cJSON *a = airflow_list(body, len, "dags", "DAG list", total, &root, err), *it;

        *page_n = 0;
        if (!a)
                return -1;
        cJSON_ArrayForEach(it, a) {
                const char *id = airflow_jstr(it, "dag_id");
                struct af_dag *g;
                const char *due = NULL;
                const char *const keys_v2[] = { "next_dagrun_run_after",
                                                "next_dagrun_data_interval_end" };
                const char *const keys_v1[] = { "next_dagrun_create_after",
                                                "next_dagrun_data_interval_end",
                                                "next_dagrun" };

                (*page_n)++;
                if (!id || !airflow_glob_match(globs, n_globs, id))
                        continue;
                d->dags = xrealloc(d->dags, (d->n_dags + 1) * sizeof *d->dags);
                g = &d->dags[d->n_dags++];
                memset(g, 0, sizeof *g);
                g->dag_id = xstrdup(id);
                g->paused = airflow_jbool(it, "is_paused", false);
                g->active = cJSON_GetObjectItemCaseSensitive(it, "is_stale")
                            ? !airflow_jbool(it, "is_stale", false)
                            : airflow_jbool(it, "is_active", true);
                g->import_errors = airflow_jbool(it, "has_import_errors", false);
                g->schedule = airflow_schedule(it, api);
                if (api == AF_API_V2) {
                        for (size_t k = 0; k < LO_ARRAY_LEN(keys_v2) && !due; k++)
                                due = airflow_jstr(it, keys_v2[k]);
                } else {
                        for (size_t k = 0; k < LO_ARRAY_LEN(keys_v1) && !due; k++)
                                due = airflow_jstr(it, keys_v1[k]);
                }
                g->next_due = airflow_time_parse(due);
                g->overdue_s = -1;
                ring_init(&g->dur_hist);
        }
        cJSON_Delete(root);
        return 0;
}

static void airflow_run_from_json(const cJSON *o, struct af_run *r)
{
        const char *ld = airflow_jstr(o, "logical_date");
        double dur = airflow_jnum(o, "duration", NAN);

        memset(r, 0, sizeof *r);
        r->run_id = xstrdup(airflow_jstr(o, "dag_run_id"));
        r->state = xstrdup(airflow_jstr(o, "state"));
        r->run_type = xstrdup(airflow_jstr(o, "run_type"));
        if (!ld)
                ld = airflow_jstr(o, "execution_date");
        if (!ld)
                ld = airflow_jstr(o, "run_after");
        r->logical_date = airflow_time_parse(ld);
        r->start = airflow_time_parse(airflow_jstr(o, "start_date"));
        r->end = airflow_time_parse(airflow_jstr(o, "end_date"));
        if (r->start >= 0 && r->end >= r->start)
                r->duration_s = (double)(r->end - r->start) / 1000.0;
        else if (isfinite(dur) && r->end >= 0)
                r->duration_s = dur;
        else
                r->duration_s = NAN;
}

static void airflow_run_copy(struct af_run *dst, const struct af_run *src)
{
        *dst = *src;
        dst->run_id = xstrdup(src->run_id);
        dst->state = xstrdup(src->state);
        dst->run_type = xstrdup(src->run_type);
}

int airflow_parse_runs(const char *body, size_t len, int64_t now, bool first, struct af_dag *g,
                       size_t *page_n, size_t *total, bool *older, struct err *err)
{
        cJSON *root;
        const cJSON *a = airflow_list(body, len, "dag_runs", "DAG runs", total, &root, err), *it;

        *page_n = 0;
        *older = false;
        if (!a)
                return -1;
        if (first) {
                airflow_run_done(&g->last_run);
                for (size_t i = 0; i < g->n_recent; i++)
                        airflow_run_done(&g->recent[i]);
                free(g->recent);
                g->recent = NULL;
                g->n_recent = 0;
                g->have_last = false;
                memset(g->runs_24h, 0, sizeof g->runs_24h);
                g->running = g->queued = 0;
                free(g->failed_run_id);
                g->failed_run_id = NULL;
        }
        cJSON_ArrayForEach(it, a) {
                struct af_run r;
                enum af_run_state s;
                int64_t at;

                if (!cJSON_IsObject(it))
                        continue;
                (*page_n)++;
                airflow_run_from_json(it, &r);
                if (!r.run_id) {
                        airflow_run_done(&r);
                        continue;
                }
                s = airflow_run_state_parse(r.state);
                at = r.start >= 0 ? r.start : r.logical_date;
                if (!g->have_last) {
                        airflow_run_copy(&g->last_run, &r);
                        g->have_last = true;
                }
                if (g->n_recent < AF_RECENT) {
                        if (!g->recent)
                                g->recent = xcalloc(AF_RECENT, sizeof *g->recent);
                        airflow_run_copy(&g->recent[g->n_recent++], &r);
                }
                if (at >= 0 && at >= now - AF_DAY_MS)
                        g->runs_24h[s]++;
                else if (at >= 0)
                        *older = true;
                if (s == AF_RUN_RUNNING)
                        g->running++;
                else if (s == AF_RUN_QUEUED)
                        g->queued++;
                if (s == AF_RUN_FAILED && !g->failed_run_id)
                        g->failed_run_id = xstrdup(r.run_id);
                airflow_run_done(&r);
        }
        cJSON_Delete(root);
        return 0;
}

int airflow_parse_tasks(const char *body, size_t len, struct af_dag *g, size_t *page_n,
                        size_t *total, struct err *err)
{
        cJSON *root;
        const cJSON *a = airflow_list(body, len, "task_instances", "task instances", total, &root,
                                      err), *it;

        *page_n = 0;
        if (!a)
                return -1;
        cJSON_ArrayForEach(it, a) {
                const char *st = airflow_jstr(it, "state"), *id = airflow_jstr(it, "task_id");
                struct af_task *t;

                (*page_n)++;
                if (!id || !st || (strcmp(st, "failed") != 0 && strcmp(st, "upstream_failed") != 0))
                        continue;
                g->failed_tasks = xrealloc(g->failed_tasks,
                                           (g->n_failed_tasks + 1) * sizeof *g->failed_tasks);
                t = &g->failed_tasks[g->n_failed_tasks++];
                t->task_id = xstrdup(id);
                t->state = xstrdup(st);
                t->map_index = (int)airflow_jint(it, "map_index", -1, -1, 1e9);
                t->try_number = (int)airflow_jint(it, "try_number", 0, 0, 1e9);
                t->duration_s = airflow_jnum(it, "duration", NAN);
        }
        g->tasks_read = true;
        cJSON_Delete(root);
        return 0;
}

char *airflow_parse_token(const char *body, size_t len, struct err *err)
{
        cJSON *root = airflow_json(body, len, "token", err);
        const char *t;
        char *tok;

        if (!root)
                return NULL;
        t = airflow_jstr(root, "access_token");
        if (!t || !*t || strpbrk(t, "\r\n")) {
                err_set(err, EPROTO, "token: the answer of POST /auth/token has no access_token");
                cJSON_Delete(root);
                return NULL;
        }
        tok = xstrdup(t);
        cJSON_Delete(root);
        return tok;
}
