/*
 * Airflow collector: the operator actions (see airflow.c).
 */
#include "collectors/airflow/airflow_int.h"

/* ------------------------------------------------------------------------
 * actions (worker thread of src/action.c, or the `act` command)
 *
 * trigger  POST {api}/dags/{d}/dagRuns. v1 body {"conf":{...}}; v2's
 *          TriggerDAGRunPostBody is strict (unknown keys are a 422) and
 *          requires the key logical_date, so {"logical_date":null[,"conf"]}.
 *          --conf must be a JSON object (checked with cJSON before sending).
 * clear    the FAILED task instances of the DAG's last failed run: prepare
 *          finds the run (GET dagRuns?state=failed, newest first) and asks
 *          Airflow itself what would be cleared (clearTaskInstances with
 *          dry_run true); the plan is the same request with dry_run false
 *          and exactly those task ids.
 * pause / unpause  PATCH {api}/dags/{d} {"is_paused":true|false} (v1 with
 *          ?update_mask=is_paused).
 * Prepare detects the API version (a read-only GET) because the URL
 * depends on it; run reuses it from the plan and the JWT logic of airflow_get.
 */

struct af_act_priv {
        enum af_api api;
        char *rel;              /* request path relative to cfg url, with the API prefix */
};

static void airflow_act_priv_free(void *p)
{
        struct af_act_priv *x = p;

        free(x->rel);
        free(x);
}

static struct af_state *airflow_act_state(const struct source_cfg *src)
{
        struct af_state *st = airflow_create(src);

        st->budget = 1000;
        return st;
}

static void airflow_act_http_error(const struct http_response *resp, const char *what,
                                   struct err *err)
{
        struct err e;

        err_clear(&e);
        cJSON_Delete(airflow_json(resp->body, resp->len, what, &e));
        err_set(err, AF_E_HTTP, "%s: HTTP %ld %s%s%.200s", what, resp->status,
                http_status_text(resp->status), e.msg[0] ? " -- " : "",
                e.msg[0] ? e.msg + strlen(what) + 2 : "");
}

/* Detects the API and adds the one request to the plan. Takes `rel_tail`
 * (after the prefix) and `body` as given. */
static int airflow_act_plan(const struct action_ctx *x, struct af_state *st,
                            struct action_plan *plan,
                            const char *method, const char *rel_tail, const char *body,
                            struct err *err)
{
        const struct af_cfg *c = x->src->kind_cfg;
        struct af_act_priv *pv;
        char *url;

        if (!st->api && airflow_detect(st, x->cc, err) != 0)
                return -1;
        pv = xcalloc(1, sizeof *pv);
        pv->api = st->api;
        pv->rel = xasprintf("%s%s", airflow_prefix(st->api), rel_tail);
        url = http_url_join(c->url, pv->rel);
        action_plan_add(plan, method, url, body);
        free(url);
        plan->priv = pv;
        plan->priv_free = airflow_act_priv_free;
        return 0;
}

/* The DAG's path with `tail`, checked before any request (API detection
 * included): NULL with err for no DAG or a DAG id that is ".", ".." (which
 * would address another resource once dot segments are removed). Owned. */
static char *airflow_act_dag_path(const struct action_ctx *x, const char *tail, struct err *err)
{
        if (!x->target || !*x->target) {
                err_set(err, EINVAL, "no DAG named");
                return NULL;
        }
        return airflow_dag_path(x->target, NULL, tail, err);
}

static int airflow_act_prepare_trigger(const struct action_ctx *x, struct action_plan *plan,
                                       struct err *err)
{
        struct af_state *st;
        cJSON *conf = NULL, *o;
        char *tail, *body;
        int rc;

        if (!(tail = airflow_act_dag_path(x, "/dagRuns", err)))
                return -1;
        if (x->arg && *x->arg) {
                conf = cJSON_Parse(x->arg);
                if (!cJSON_IsObject(conf)) {
                        cJSON_Delete(conf);
                        free(tail);
                        err_set(err, EINVAL, "conf must be a JSON object, e.g. "
                                "{\"date\":\"2024-05-01\"}");
                        return -1;
                }
        }
        st = airflow_act_state(x->src);
        if (!st->api && airflow_detect(st, x->cc, err) != 0) {
                cJSON_Delete(conf);
                free(tail);
                airflow_destroy(st);
                return -1;
        }
        o = cJSON_CreateObject();
        if (st->api == AF_API_V2)
                cJSON_AddNullToObject(o, "logical_date");
        if (conf)
                cJSON_AddItemToObject(o, "conf", conf);
        else if (st->api != AF_API_V2)
                cJSON_AddObjectToObject(o, "conf");
        body = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        rc = airflow_act_plan(x, st, plan, "POST", tail, body, err);
        free(tail);
        free(body);
        airflow_destroy(st);
        return rc;
}

static int airflow_act_prepare_pause(const struct action_ctx *x, struct action_plan *plan,
                                     bool pause, struct err *err)
{
        struct af_state *st;
        char *tail;
        int rc = -1;

        if (!(tail = airflow_act_dag_path(x, NULL, err)))
                return -1;
        free(tail);
        st = airflow_act_state(x->src);
        if (airflow_detect(st, x->cc, err) == 0) {
                tail = airflow_act_dag_path(x, st->api == AF_API_V1 ? "?update_mask=is_paused"
                                                                    : NULL, err);
                rc = tail ? airflow_act_plan(x, st, plan, "PATCH", tail,
                                             pause ? "{\"is_paused\":true}"
                                                   : "{\"is_paused\":false}", err) : -1;
                free(tail);
        }
        airflow_destroy(st);
        return rc;
}

static int airflow_act_prepare_pause_on(const struct action_ctx *x, struct action_plan *plan,
                                        struct err *err)
{
        return airflow_act_prepare_pause(x, plan, true, err);
}

static int airflow_act_prepare_unpause(const struct action_ctx *x, struct action_plan *plan,
                                       struct err *err)
{
        return airflow_act_prepare_pause(x, plan, false, err);
}

/* The newest failed run of the DAG: owned run id, or NULL with err. */
static char *airflow_act_last_failed(struct af_state *st, const struct action_ctx *x,
                                     struct err *err)
{
        struct http_response resp;
        char *path = airflow_act_dag_path(x, st->api == AF_API_V2
                                             ? "/dagRuns?state=failed&order_by=-run_after&limit=1"
                                             : "/dagRuns?state=failed&order_by=-execution_date"
                                               "&limit=1", err);
        char *run = NULL;
        cJSON *root;

        if (!path)
                return NULL;
        if (airflow_get(st, x->cc, path, "GET dagRuns?state=failed", &resp, err) != 0) {
                free(path);
                return NULL;
        }
        free(path);
        root = airflow_json(resp.body, resp.len, "GET dagRuns", err);
        if (root) {
                const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "dag_runs");
                const cJSON *r0 = cJSON_GetArrayItem(runs, 0);

                run = xstrdup(airflow_jstr(r0, "dag_run_id"));
                if (!run)
                        err_set(err, ENOENT, "DAG has no failed run: nothing to clear");
        }
        cJSON_Delete(root);
        http_response_done(&resp);
        return run;
}

static char *airflow_act_clear_body(const char *run, const cJSON *task_ids, bool dry)
{
        cJSON *o = cJSON_CreateObject();
        char *s;

        cJSON_AddBoolToObject(o, "dry_run", dry);
        cJSON_AddStringToObject(o, "dag_run_id", run);
        if (task_ids)
                cJSON_AddItemToObject(o, "task_ids", cJSON_Duplicate(task_ids, true));
        cJSON_AddBoolToObject(o, "only_failed", true);
        cJSON_AddBoolToObject(o, "reset_dag_runs", true);
        s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        return s;
}

static int airflow_act_prepare_clear(const struct action_ctx *x, struct action_plan *plan,
                                     struct err *err)
{
        struct af_state *st;
        struct http_response resp;
        char *tail, *run = NULL, *body = NULL, *rel = NULL;
        cJSON *root = NULL, *ids = NULL;
        const cJSON *tis, *ti;
        int rc = -1;

        if (!(tail = airflow_act_dag_path(x, "/clearTaskInstances", err)))
                return -1;
        st = airflow_act_state(x->src);
        if (airflow_detect(st, x->cc, err) != 0)
                goto out;
        if (!(run = airflow_act_last_failed(st, x, err)))
                goto out;
        /* Airflow's own dry run: what would be cleared. */
        body = airflow_act_clear_body(run, NULL, true);
        rel = xasprintf("%s%s", airflow_prefix(st->api), tail);
        if (airflow_request(st, x->cc, "POST", rel, body, &resp, err) != 0)
                goto out;
        if (resp.status != 200) {
                airflow_act_http_error(&resp, "clearTaskInstances (dry run)", err);
                http_response_done(&resp);
                goto out;
        }
        root = airflow_json(resp.body, resp.len, "clearTaskInstances (dry run)", err);
        http_response_done(&resp);
        if (!root)
                goto out;
        tis = cJSON_GetObjectItemCaseSensitive(root, "task_instances");
        ids = cJSON_CreateArray();
        cJSON_ArrayForEach(ti, tis) {
                const char *id = airflow_jstr(ti, "task_id");
                bool dup = false;
                const cJSON *e;

                if (!id)
                        continue;
                cJSON_ArrayForEach(e, ids)
                        if (strcmp(e->valuestring, id) == 0)
                                dup = true;
                if (!dup)
                        cJSON_AddItemToArray(ids, cJSON_CreateString(id));
                action_plan_preview(plan, "  would clear %s (run %s%s%s)", id, run,
                                    airflow_jstr(ti, "state") ? ", " : "",
                                    airflow_jstr(ti, "state") ? airflow_jstr(ti, "state") : "");
        }
        if (cJSON_GetArraySize(ids) == 0) {
                err_set(err, ENOENT, "Airflow's dry run clears nothing in run %s", run);
                goto out;
        }
        free(body);
        body = airflow_act_clear_body(run, ids, false);
        rc = airflow_act_plan(x, st, plan, "POST", tail, body, err);
        if (rc == 0)
                plan->note = xasprintf("run %s: %d task instance(s), from Airflow's dry run:",
                                       run, cJSON_GetArraySize(ids));
out:
        cJSON_Delete(ids);
        cJSON_Delete(root);
        free(rel);
        free(body);
        free(run);
        free(tail);
        airflow_destroy(st);
        return rc;
}

static void airflow_act_run(const struct action_ctx *x, const struct action_plan *plan,
                            struct action_result *res)
{
        const struct af_act_priv *pv = plan->priv;
        struct af_state *st;
        struct http_response resp;

        res->outcome = ACT_FAILED;
        if (!pv || plan->n != 1) {
                err_set(&res->err, EINVAL, "no plan to run");
                return;
        }
        st = airflow_act_state(x->src);
        st->api = pv->api;
        action_result_sent(res, plan->reqs[0].method, pv->rel);
        if (airflow_request(st, x->cc, plan->reqs[0].method, pv->rel, plan->reqs[0].body, &resp,
                           &res->err) == 0) {
                res->status = resp.status;
                if (resp.status >= 200 && resp.status <= 299) {
                        cJSON *root = cJSON_ParseWithLength(resp.body, resp.len);
                        const char *rid = airflow_jstr(root, "dag_run_id");
                        const cJSON *tis =
                                cJSON_GetObjectItemCaseSensitive(root, "task_instances");
                        const cJSON *ti;

                        action_result_out(res, "HTTP %ld %s", resp.status,
                                          http_status_text(resp.status));
                        if (rid)
                                action_result_out(res, "run %s: %s", rid,
                                                  airflow_jstr(root, "state")
                                                  ? airflow_jstr(root, "state") : "?");
                        cJSON_ArrayForEach(ti, tis)
                                action_result_out(res, "cleared %s",
                                                  airflow_jstr(ti, "task_id")
                                                  ? airflow_jstr(ti, "task_id") : "?");
                        if (cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(root, "is_paused")))
                                action_result_out(res, "is_paused: %s",
                                                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                                          root, "is_paused")) ? "true" : "false");
                        cJSON_Delete(root);
                        res->outcome = ACT_OK;
                } else {
                        airflow_act_http_error(&resp, pv->rel, &res->err);
                }
                http_response_done(&resp);
        }
        airflow_destroy(st);
}

const struct action_def af_actions[] = {
        { .name = "trigger", .title = "trigger a DAG run", .scope = "dag", .key = 'T',
          .flags = ACTION_F_MUTATING | ACTION_F_CONF, .prepare = airflow_act_prepare_trigger,
          .run = airflow_act_run },
        { .name = "clear", .title = "clear the failed tasks of the last failed run",
          .scope = "dag", .key = 'C', .flags = ACTION_F_MUTATING,
          .prepare = airflow_act_prepare_clear, .run = airflow_act_run },
        { .name = "pause", .title = "pause a DAG", .scope = "dag", .key = 'P',
          .flags = ACTION_F_MUTATING, .prepare = airflow_act_prepare_pause_on,
          .run = airflow_act_run },
        { .name = "unpause", .title = "unpause a DAG", .scope = "dag", .key = 'U',
          .flags = ACTION_F_MUTATING, .prepare = airflow_act_prepare_unpause,
          .run = airflow_act_run },
        { 0 }
};

/* A DAG id that cannot be one URL path segment ("..", ".", empty) is
 * refused before any request: the CLI exits 66, the console flashes. */
static bool airflow_act_target_ok(const struct action_def *d, const char *target,
                                  struct err *err)
{
        char *seg;

        for (const struct action_def *a = af_actions; a->name; a++) {
                if (a != d)
                        continue;
                if (!(seg = http_path_segment(target, "DAG", err)))
                        return false;
                free(seg);
                return true;
        }
        return true;
}

const struct action_kind af_action_kind = {
        .target_ok = airflow_act_target_ok,
};
