/*
 * test_coll_kubernetes: the pure parts of the `kind: kubernetes` collector
 * -- model builders fed the fixture objects of tests/fixtures/kube/cluster
 * (shapes from the Kubernetes API reference (Pod status): a CrashLoopBackOff pod whose lastState is
 * OOMKilled, omitempty workload status, events whose lastTimestamp is null,
 * Helm release Secrets), label selector matching, quantities, the status
 * JSON exactly (tests/fixtures/kube/cluster/expected.json, nulls included),
 * the alerts at their default thresholds, reference counting, config
 * validation, and bad objects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/snapshot.h"
#include "core/promtext.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubernetes.h"
#include "tu.h"
#include "core/util.h"
#include "tu_promtool.h"

/* The clock of these tests: the fixtures' relative times ({{now-30m}},
 * tests/lib/fixture_time.py) are expanded at it and ages are taken against it. */
#define REF_TIME "2024-05-01T10:30:00Z"

/* A fixture file (path under the source tree) with its times expanded at
 * REF_TIME; owned. */
static char *read_fixture_at_ref(const char *rel)
{
        char *raw = tu_read_file(tu_src_path(rel), NULL), *s;

        if (!raw)
                fail_msg("missing %s", rel);
        s = tu_fixture_expand(raw, kube_time_ms(REF_TIME) / 1000);
        free(raw);
        return s;
}

static const char *const fixture_files[] = {
        "nodes.json", "workloads.json", "pods.json", "storage.json", "events.json",
        "secrets.json", "namespaces.json",
};

static const char cfg_yaml[] =
        "environment: test\n"
        "sources:\n"
        "  - name: k8s\n"
        "    kind: kubernetes\n"
        "    kubeconfig: /nonexistent/kubeconfig\n"
        "    components:\n"
        "      kafka: app.kubernetes.io/name=kafka\n"
        "      connect: app=kafka-connect\n"
        "      spark: app.kubernetes.io/name=spark,spark-role!=executor\n"
        "      airflow: app=airflow\n";

static struct config *load_cfg(const char *yaml)
{
        struct err e;
        struct config *c = config_load_string(yaml, strlen(yaml), "<test>", &e);

        if (!c)
                fail_msg("config: %s", e.msg);
        return c;
}

static cJSON *fixture(const char *name)
{
        char rel[128];
        char *s;
        cJSON *j;

        snprintf(rel, sizeof rel, "tests/fixtures/kube/cluster/objects/%s", name);
        s = read_fixture_at_ref(rel);
        j = cJSON_Parse(s);
        free(s);
        assert_non_null(j);
        return j;
}

/* The object named ns/name of any fixture file (owned copy). */
static cJSON *object(const char *kind, const char *ns, const char *name)
{
        for (size_t f = 0; f < LO_ARRAY_LEN(fixture_files); f++) {
                cJSON *arr = fixture(fixture_files[f]), *o;

                cJSON_ArrayForEach(o, arr) {
                        cJSON *m = cJSON_GetObjectItem(o, "metadata");
                        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));
                        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(m, "name"));
                        const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, "namespace"));

                        if (k && n && !strcmp(k, kind) && !strcmp(n, name) &&
                            (!ns || (s && !strcmp(s, ns)))) {
                                cJSON *copy = cJSON_Duplicate(o, 1);
                                cJSON_Delete(arr);
                                return copy;
                        }
                }
                cJSON_Delete(arr);
        }
        fail_msg("no %s %s/%s in the fixtures", kind, ns ? ns : "", name);
        return NULL;
}

/* Every fixture object through the builders, as the informers would. */
static struct kubernetes_data *build(const struct kubernetes_components *comps)
{
        struct kubernetes_data *d = kubernetes_data_new();

        d->context = xstrdup("fake");
        d->server = xstrdup("https://127.0.0.1:6443");
        d->collected_ms = kube_time_ms(REF_TIME);
        for (size_t f = 0; f < LO_ARRAY_LEN(fixture_files); f++) {
                cJSON *arr = fixture(fixture_files[f]), *o;

                cJSON_ArrayForEach(o, arr) {
                        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));

                        /* List items carry no kind: drop it like a list does. */
                        cJSON *item = cJSON_Duplicate(o, 1);
                        cJSON_DeleteItemFromObject(item, "kind");
                        if (!strcmp(k, "Node"))
                                kubernetes_data_add_node(d, kubernetes_node_make(item));
                        else if (!strcmp(k, "Pod"))
                                kubernetes_data_add_pod(d, kubernetes_pod_make(item, comps));
                        else if (!strcmp(k, "StatefulSet") || !strcmp(k, "Deployment"))
                                kubernetes_data_add_workload(
                                        d, kubernetes_workload_make(item, k, comps));
                        else if (!strcmp(k, "PersistentVolumeClaim"))
                                kubernetes_data_add_pvc(d, kubernetes_pvc_make(item, comps));
                        else if (!strcmp(k, "Event"))
                                kubernetes_data_add_event(d, kubernetes_event_make(item));
                        else if (!strcmp(k, "Secret"))
                                kubernetes_data_add_release(d, kubernetes_release_make(item));
                        cJSON_Delete(item);
                }
                cJSON_Delete(arr);
        }
        kubernetes_data_finish(d);
        return d;
}

static struct kubernetes_components *comps_of(const struct config *c)
{
        const struct kubernetes_cfg *kc = c->sources[0].kind_cfg;
        struct err e;
        struct kubernetes_components *k = kubernetes_components_new(&kc->components, &e);

        assert_non_null(k);
        return k;
}

static void test_crashloop_pod(void **state)
{
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_components *comps = comps_of(c);
        cJSON *o = object("Pod", "pipeline", "kafka-2");
        struct kubernetes_pod *p = kubernetes_pod_make(o, comps);

        (void)state;
        assert_non_null(p);
        assert_string_equal(p->ns, "pipeline");
        assert_string_equal(p->name, "kafka-2");
        assert_string_equal(p->component, "kafka");
        assert_string_equal(p->phase, "Running");
        assert_string_equal(p->reason, "CrashLoopBackOff");
        assert_string_equal(p->last_reason, "OOMKilled");
        assert_true(p->failing);
        assert_false(p->terminating);
        assert_int_equal(p->ready_containers, 0);
        assert_int_equal(p->containers, 1);
        assert_int_equal(p->restarts, 12);
        assert_string_equal(p->node, "node-b");
        assert_string_equal(p->owner_kind, "StatefulSet");
        assert_string_equal(p->owner_name, "kafka");
        assert_int_equal(p->start_ms, kube_time_ms("2024-05-01T10:00:00Z"));
        assert_int_equal(p->n_cont, 1);
        assert_string_equal(p->cont[0].name, "kafka");
        assert_string_equal(p->cont[0].state, "waiting");
        assert_string_equal(p->cont[0].reason, "CrashLoopBackOff");
        assert_string_equal(p->cont[0].last_reason, "OOMKilled");
        assert_int_equal(p->cont[0].last_exit, 137);
        assert_false(p->cont[0].ready);
        assert_int_equal(p->n_cond, 2);
        assert_string_equal(p->cond[1].type, "Ready");
        assert_string_equal(p->cond[1].status, "False");
        assert_string_equal(p->cond[1].reason, "ContainersNotReady");
        assert_true(kubernetes_pod_not_ready(p));
        kubernetes_model_unref(p);
        cJSON_Delete(o);

        /* Two containers, one pulling: 1/2 ready, ImagePullBackOff, Pending. */
        o = object("Pod", "pipeline", "connect-7d9f5c6b8-abcde");
        p = kubernetes_pod_make(o, comps);
        assert_string_equal(p->reason, "ImagePullBackOff");
        assert_int_equal(p->ready_containers, 1);
        assert_int_equal(p->containers, 2);
        assert_null(p->last_reason);
        assert_string_equal(p->owner_kind, "ReplicaSet");
        kubernetes_model_unref(p);
        cJSON_Delete(o);

        /* Terminating wins over a healthy Running; Unschedulable has no
         * reason of its own and no node. */
        o = object("Pod", "batch", "speed-driver");
        p = kubernetes_pod_make(o, comps);
        assert_string_equal(p->reason, "Terminating");
        assert_true(p->terminating);
        assert_false(p->failing);
        assert_true(kubernetes_pod_not_ready(p));
        kubernetes_model_unref(p);
        cJSON_Delete(o);
        o = object("Pod", "batch", "backfill-x7k2");
        p = kubernetes_pod_make(o, comps);
        assert_null(p->reason);
        assert_null(p->node);
        assert_null(p->component);      /* spark-role!=executor */
        assert_int_equal(p->containers, 1);
        assert_int_equal(p->n_cont, 0);
        assert_null(p->cont);
        assert_int_equal(p->start_ms, kube_time_ms("2024-05-01T10:28:00Z"));
        kubernetes_model_unref(p);
        cJSON_Delete(o);

        kubernetes_components_free(comps);
        config_free(c);
}

static void test_workloads_omitempty(void **state)
{
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_components *comps = comps_of(c);
        cJSON *o = object("Deployment", "batch", "airflow-web");
        struct kubernetes_workload *w = kubernetes_workload_make(o, "Deployment", comps);

        (void)state;
        assert_non_null(w);
        assert_string_equal(w->kind, "Deployment");
        assert_string_equal(w->component, "airflow");   /* from the pod template */
        assert_int_equal(w->desired, 0);
        assert_int_equal(w->ready, 0);
        assert_int_equal(w->updated, 0);
        assert_int_equal(w->available, 0);
        kubernetes_model_unref(w);
        cJSON_Delete(o);

        /* No readyReplicas at all: 0 ready of 1. The object's own kind wins
         * over the informer's. */
        o = object("Deployment", "pipeline", "connect");
        w = kubernetes_workload_make(o, "StatefulSet", comps);
        assert_string_equal(w->kind, "Deployment");
        assert_int_equal(w->desired, 1);
        assert_int_equal(w->ready, 0);
        assert_int_equal(w->updated, 1);
        kubernetes_model_unref(w);
        cJSON_Delete(o);

        o = object("StatefulSet", "pipeline", "kafka");
        cJSON_DeleteItemFromObject(o, "kind");
        w = kubernetes_workload_make(o, "StatefulSet", comps);
        assert_string_equal(w->kind, "StatefulSet");
        assert_int_equal(w->desired, 3);
        assert_int_equal(w->ready, 2);
        assert_int_equal(w->available, 2);
        kubernetes_model_unref(w);
        assert_null(kubernetes_workload_make(o, NULL, comps));
        cJSON_Delete(o);
        kubernetes_components_free(comps);
        config_free(c);
}

static void test_nodes_quantities(void **state)
{
        cJSON *o = object("Node", NULL, "node-b");
        struct kubernetes_node *n = kubernetes_node_make(o);

        (void)state;
        assert_int_equal(n->ready, 1);
        assert_int_equal(n->pressure, K8S_MEM_PRESSURE);
        assert_true(n->cpu == 3.5);
        assert_true(n->memory == 16331964.0 * 1024);
        assert_false(n->unschedulable);
        assert_string_equal(n->version, "v1.29.4");
        kubernetes_model_unref(n);
        cJSON_Delete(o);

        o = object("Node", NULL, "node-c");
        n = kubernetes_node_make(o);
        assert_int_equal(n->ready, -1);         /* Unknown */
        assert_int_equal(n->pressure, 0);       /* Unknown pressure is not True */
        assert_true(n->unschedulable);
        assert_true(n->memory == 8.0 * 1024 * 1024 * 1024);
        assert_true(n->cpu == 4);
        kubernetes_model_unref(n);
        cJSON_Delete(o);

        /* A node without allocatable: unknown, not 0. */
        o = cJSON_Parse("{\"metadata\":{\"name\":\"x\"},\"status\":{\"allocatable\":"
                        "{\"cpu\":\"lots\"}}}");
        n = kubernetes_node_make(o);
        assert_true(isnan(n->cpu));
        assert_true(isnan(n->memory));
        assert_int_equal(n->ready, -1);
        kubernetes_model_unref(n);
        cJSON_Delete(o);
}

static void test_events_and_releases(void **state)
{
        cJSON *o = object("Event", "batch", "scratch.17c3d4e5f6010203");
        struct kubernetes_event *e = kubernetes_event_make(o);
        struct kubernetes_release *r;

        (void)state;
        /* lastTimestamp null: the series' last observation, count from it. */
        assert_int_equal(e->last_seen_ms, kube_time_ms("2024-05-01T10:25:00Z"));
        assert_int_equal(e->count, 4);
        assert_string_equal(e->object, "PersistentVolumeClaim/scratch");
        kubernetes_model_unref(e);
        cJSON_Delete(o);

        o = object("Event", "pipeline", "connect-7d9f5c6b8-abcde.17b2c3d4e5f60102");
        e = kubernetes_event_make(o);
        assert_int_equal(e->last_seen_ms, kube_time_ms("2024-05-01T10:20:00Z"));
        kubernetes_model_unref(e);
        cJSON_Delete(o);

        /* Normal events are not kept even if a server ignores the selector. */
        o = object("Event", "pipeline", "kafka-0.17d4e5f601020304");
        assert_null(kubernetes_event_make(o));
        cJSON_Delete(o);

        o = object("Secret", "batch", "sh.helm.release.v1.airflow.v10");
        r = kubernetes_release_make(o);
        assert_string_equal(r->name, "airflow");
        assert_int_equal(r->revision, 10);
        assert_string_equal(r->status, "failed");
        kubernetes_model_unref(r);
        cJSON_Delete(o);
        o = object("Secret", "pipeline", "db-password");
        assert_null(kubernetes_release_make(o));
        cJSON_Delete(o);
}

static void test_selectors(void **state)
{
        cJSON *l = cJSON_Parse("{\"app\":\"kafka\",\"tier\":\"data\",\"role\":\"broker\"}");
        struct cfg_strmap m;
        char *keys[] = { "bad", "ok" }, *vals[] = { "app in (a,b)", "x" };
        struct kubernetes_components *c;
        struct err e;

        (void)state;
        assert_true(kubernetes_selector_match("app=kafka", l));
        assert_true(kubernetes_selector_match("app==kafka", l));
        assert_true(kubernetes_selector_match(" app = kafka , tier ", l));
        assert_true(kubernetes_selector_match("app=kafka,role!=controller", l));
        assert_false(kubernetes_selector_match("app=kafka,role!=broker", l));
        assert_true(kubernetes_selector_match("!zone", l));
        assert_false(kubernetes_selector_match("!tier", l));
        assert_false(kubernetes_selector_match("app=kafka,zone", l));
        assert_false(kubernetes_selector_match("app=postgres", l));
        assert_true(kubernetes_selector_match("zone!=eu", l));  /* absent is not eu */
        assert_false(kubernetes_selector_match("", l));
        assert_false(kubernetes_selector_match("app in (kafka)", l));
        assert_false(kubernetes_selector_match("app=kafka,", l));
        assert_false(kubernetes_selector_match("app=kafka", NULL));
        cJSON_Delete(l);

        m.keys = keys;
        m.vals = vals;
        m.n = 2;
        err_clear(&e);
        c = kubernetes_components_new(&m, &e);
        assert_null(c);
        assert_non_null(strstr(e.msg, "components.bad:"));
        assert_non_null(strstr(e.msg, "not supported"));
        m.n = 0;
        c = kubernetes_components_new(&m, &e);
        assert_non_null(c);
        assert_null(kubernetes_component_of(c, NULL));
        kubernetes_components_free(c);
}

static void test_json_exact(void **state)
{
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_components *comps = comps_of(c);
        struct kubernetes_data *d = build(comps);
        char *exp = read_fixture_at_ref("tests/fixtures/kube/cluster/expected.json");
        cJSON *want = cJSON_Parse(exp), *got = cJSON_CreateObject();
        char *g, *w;

        (void)state;
        cJSON_ReplaceItemInObject(want, "server", cJSON_CreateString("https://127.0.0.1:6443"));
        c->sources[0].ops->to_json(d, got);
        g = cJSON_Print(got);
        w = cJSON_Print(want);
        if (!cJSON_Compare(want, got, 1))
                fail_msg("JSON differs.\nwant: %s\ngot:  %s", w, g);
        free(g);
        free(w);

        /* Derived counts and the summary. */
        assert_int_equal(d->nodes_ready, 2);
        assert_int_equal(d->pods_not_ready, 4);
        assert_int_equal(d->pods_failing, 2);
        assert_int_equal(d->workloads_short, 2);
        assert_int_equal(d->pvcs_unbound, 1);
        assert_int_equal(d->warnings_recent, 3);
        assert_int_equal(d->events_total, 3);
        {
                char buf[256];

                c->sources[0].ops->summary(d, buf, sizeof buf);
                assert_string_equal(buf, "nodes 2/3 ready, 7 pods (4 not ready, 2 failing), "
                                    "3 workloads (2 short), 3 warnings/15m");
                assert_true(c->sources[0].ops->key_metric(d) == 4);
        }
        cJSON_Delete(got);
        cJSON_Delete(want);
        free(exp);
        kubernetes_data_free(d);
        kubernetes_components_free(comps);
        config_free(c);
}

static const struct alert *find_alert(const struct alert_list *l, const char *metric,
                                      const char *subject)
{
        for (size_t i = 0; i < l->n; i++)
                if (!strcmp(l->v[i].metric, metric) && !strcmp(l->v[i].subject, subject))
                        return &l->v[i];
        return NULL;
}

static void test_alerts(void **state)
{
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_components *comps = comps_of(c);
        struct kubernetes_data *d = build(comps);
        struct alert_list l;
        const struct alert *a;

        (void)state;
        alert_list_init(&l);
        c->sources[0].ops->alerts(&c->sources[0], d, &l);
        assert_int_equal(l.n, 9);
        a = find_alert(&l, "node_not_ready", "node-c");
        assert_non_null(a);
        assert_int_equal(a->sev, SEV_CRIT);
        assert_non_null(strstr(a->message, "Ready=Unknown"));
        a = find_alert(&l, "node_pressure", "node-b");
        assert_int_equal(a->sev, SEV_WARN);
        assert_string_equal(a->message, "node node-b: MemoryPressure");
        a = find_alert(&l, "pod_failing", "pipeline/kafka-2");
        assert_int_equal(a->sev, SEV_WARN);
        assert_string_equal(a->message, "pod pipeline/kafka-2 is CrashLoopBackOff, last exit "
                            "OOMKilled (12 restarts), component kafka");
        assert_non_null(find_alert(&l, "pod_failing", "pipeline/connect-7d9f5c6b8-abcde"));
        a = find_alert(&l, "pod_restarts", "pipeline/kafka-2");
        assert_true(a->value == 12);
        assert_null(find_alert(&l, "pod_restarts", "pipeline/kafka-1"));        /* 1 < 10 */
        a = find_alert(&l, "pods_not_ready", "");
        assert_true(a->value == 4);
        assert_int_equal(a->sev, SEV_WARN);
        a = find_alert(&l, "workload_missing", "pipeline/connect");
        assert_int_equal(a->sev, SEV_CRIT);     /* none ready */
        assert_string_equal(a->message, "Deployment pipeline/connect has 0 of 1 replicas "
                            "ready: none is serving");
        a = find_alert(&l, "workload_missing", "pipeline/kafka");
        assert_int_equal(a->sev, SEV_WARN);
        assert_null(find_alert(&l, "workload_missing", "batch/airflow-web"));    /* 0/0 */
        a = find_alert(&l, "pvc_not_bound", "batch/scratch");
        assert_int_equal(a->sev, SEV_WARN);
        assert_null(find_alert(&l, "warning_events", ""));      /* 3 < 20 */
        alert_list_done(&l);
        kubernetes_data_free(d);
        kubernetes_components_free(comps);
        config_free(c);

        /* Thresholds from the config: crit on one failing pod, warnings at 2. */
        c = load_cfg("sources:\n  - name: k\n    kind: kubernetes\n    thresholds:\n"
                     "      pod_failing: { warn: 1, crit: 1 }\n"
                     "      warning_events: { warn: 2 }\n");
        d = build(NULL);
        alert_list_init(&l);
        c->sources[0].ops->alerts(&c->sources[0], d, &l);
        assert_int_equal(find_alert(&l, "pod_failing", "pipeline/kafka-2")->sev, SEV_CRIT);
        a = find_alert(&l, "warning_events", "");
        assert_non_null(a);
        assert_true(a->value == 3);
        alert_list_done(&l);
        kubernetes_data_free(d);
        config_free(c);
}

/* Many failing pods: per-pod alerts stop at 20, one line says the rest. */
static void test_alert_cap(void **state)
{
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_data *d = kubernetes_data_new();
        cJSON *o = object("Pod", "pipeline", "kafka-2");
        struct alert_list l;
        size_t failing = 0;
        const struct alert *a;

        (void)state;
        for (int i = 0; i < 50; i++) {
                char name[32];

                snprintf(name, sizeof name, "kafka-%03d", i);
                cJSON_ReplaceItemInObject(cJSON_GetObjectItem(o, "metadata"), "name",
                                          cJSON_CreateString(name));
                kubernetes_data_add_pod(d, kubernetes_pod_make(o, NULL));
        }
        d->collected_ms = kube_time_ms(REF_TIME);
        kubernetes_data_finish(d);
        alert_list_init(&l);
        c->sources[0].ops->alerts(&c->sources[0], d, &l);
        for (size_t i = 0; i < l.n; i++)
                failing += !strcmp(l.v[i].metric, "pod_failing") &&
                           strcmp(l.v[i].subject, "(more)");
        assert_int_equal(failing, 20);
        a = find_alert(&l, "pod_failing", "(more)");
        assert_non_null(a);
        assert_string_equal(a->message, "30 more pods failing (50 in all; see the Cluster pane)");
        alert_list_done(&l);
        kubernetes_data_free(d);
        cJSON_Delete(o);
        config_free(c);
}

/* A model shared by the informer cache and a published data lives until
 * both let go. */
static void test_refcount(void **state)
{
        cJSON *o = object("Pod", "pipeline", "kafka-0");
        struct kubernetes_pod *p = kubernetes_pod_make(o, NULL);
        struct kubernetes_data *d = kubernetes_data_new();

        (void)state;
        atomic_fetch_add(&p->refs, 1);          /* what the collector does */
        kubernetes_data_add_pod(d, p);
        kubernetes_data_finish(d);
        kubernetes_model_unref(p);              /* the cache replaces it */
        assert_string_equal(d->pods[0]->name, "kafka-0");       /* ASan: still alive */
        kubernetes_data_free(d);
        kubernetes_model_unref(NULL);
        cJSON_Delete(o);
}

static void test_bad_objects(void **state)
{
        static const char *const bad[] = {
                "null", "[]", "{}", "{\"metadata\":null}", "{\"metadata\":{\"name\":\"\"}}",
                "{\"metadata\":{\"name\":7}}", "\"pod\"",
        };
        cJSON *o;
        struct kubernetes_pod *p;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                o = cJSON_Parse(bad[i]);
                assert_null(kubernetes_pod_make(o, NULL));
                assert_null(kubernetes_node_make(o));
                assert_null(kubernetes_workload_make(o, "Deployment", NULL));
                assert_null(kubernetes_pvc_make(o, NULL));
                assert_null(kubernetes_event_make(o));
                assert_null(kubernetes_release_make(o));
                cJSON_Delete(o);
        }
        /* Wrong types everywhere: a pod still, with unknowns. */
        o = cJSON_Parse("{\"metadata\":{\"name\":\"p\",\"labels\":[1]},\"spec\":7,"
                        "\"status\":{\"phase\":3,\"containerStatuses\":{\"a\":1},"
                        "\"conditions\":[null,{\"type\":5}],\"startTime\":\"yesterday\"}}");
        p = kubernetes_pod_make(o, NULL);
        assert_non_null(p);
        assert_null(p->phase);
        assert_null(p->ns);
        assert_int_equal(p->containers, 0);
        assert_int_equal(p->n_cond, 0);
        assert_int_equal(p->start_ms, -1);
        kubernetes_model_unref(p);
        cJSON_Delete(o);
        /* Negative and huge restart counts are not trusted. */
        o = cJSON_Parse("{\"metadata\":{\"name\":\"p\"},\"status\":{\"containerStatuses\":"
                        "[{\"name\":\"c\",\"restartCount\":-5},{\"name\":\"d\","
                        "\"restartCount\":1e300}]}}");
        p = kubernetes_pod_make(o, NULL);
        assert_int_equal(p->restarts, 0);
        assert_int_equal(p->containers, 2);
        kubernetes_model_unref(p);
        cJSON_Delete(o);
}

static void test_config(void **state)
{
        struct config *c;
        struct kube_opts o;
        struct err e;
        static const char *const bad[] = {
                "    watch: maybe\n",
                "    namespaces: [Pipeline]\n",
                "    server: 127.0.0.1:6443\n",
                "    components:\n      kafka: app in (kafka)\n",
        };

        (void)state;
        c = load_cfg("sources:\n  - name: k\n    kind: kubernetes\n"
                     "    kubeconfig: /a:/b\n    context: prod\n"
                     "    server: https://10.0.0.1:6443\n    exec_timeout: 3s\n"
                     "    namespaces: [pipeline, batch]\n    watch: false\n");
        kubernetes_source_opts(&c->sources[0], &o);
        assert_string_equal(o.kubeconfig, "/a:/b");
        assert_string_equal(o.context, "prod");
        assert_string_equal(o.server, "https://10.0.0.1:6443");
        assert_int_equal(o.exec_timeout_ms, 3000);
        config_free(c);
        c = load_cfg("sources:\n  - name: k\n    kind: kubernetes\n");
        kubernetes_source_opts(&c->sources[0], &o);
        assert_null(o.kubeconfig);
        assert_null(o.context);
        assert_int_equal(o.exec_timeout_ms, 0);
        config_free(c);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                char *y = xasprintf("sources:\n  - name: k\n    kind: kubernetes\n%s", bad[i]);

                err_clear(&e);
                c = config_load_string(y, strlen(y), "<t>", &e);
                if (c)
                        fail_msg("accepted: %s", bad[i]);
                assert_true(e.msg[0] != '\0');
                free(y);
        }
}

/* ---- /metrics ------------------------------------------------------------ */

/* The kind's metrics hook on the same data as the JSON test: exact text
 * (tests/fixtures/kube/cluster/metrics.prom), which promtool check metrics accepts. */
static void test_metrics(void **state)
{
        struct source_cfg msrc = { .name = "k8s", .kind = "kubernetes",
                                   .ops = &coll_kubernetes_ops };
        struct snapshot snap = { .src = &msrc };
        struct promtext *p = promtext_new();
        char *text;

        (void)state;
        struct config *c = load_cfg(cfg_yaml);
        struct kubernetes_components *comps = comps_of(c);
        struct kubernetes_data *d = build(comps);

        snap.data = d;
        assert_non_null(coll_kubernetes_ops.metrics);
        coll_kubernetes_ops.metrics(&snap, &msrc, p);
        assert_int_equal(promtext_errors(p), 0);
        text = promtext_finish(p, NULL);
        tu_metrics_expect(text, "tests/fixtures/kube/cluster/metrics.prom");
        free(text);
        promtext_free(p);
        kubernetes_data_free(d);
        kubernetes_components_free(comps);
        config_free(c);
}


int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crashloop_pod),
                cmocka_unit_test(test_workloads_omitempty),
                cmocka_unit_test(test_nodes_quantities),
                cmocka_unit_test(test_events_and_releases),
                cmocka_unit_test(test_selectors),
                cmocka_unit_test(test_json_exact),
                cmocka_unit_test(test_alerts),
                cmocka_unit_test(test_alert_cap),
                cmocka_unit_test(test_refcount),
                cmocka_unit_test(test_bad_objects),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_metrics),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
