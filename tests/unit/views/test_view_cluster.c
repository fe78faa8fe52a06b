/*
 * test_view_cluster: the Cluster pane's pure functions (rows of every
 * sub-view and sort, preamble, detail pages, row ids for the kubectl
 * actions) over models built from tests/fixtures/kube/cluster. No curses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/config.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/snapshot.h"
#include "tu.h"
#include "core/util.h"
#include "views/view.h"
#include "views/cluster.h"

#define NOW 1000000
/* The wall clock of these tests: the fixtures' relative times
 * ({{now-30m}}, tests/lib/fixture_time.py) are expanded at it. */
#define REF_TIME "2024-05-01T10:30:00Z"

static const char *const files[] = {
        "nodes.json", "workloads.json", "pods.json", "storage.json", "events.json",
        "secrets.json",
};

static struct config *cfg;
static struct snapshot *snaps[2];       /* [0] the fixture cluster, [1] down */

static struct kubernetes_data *build(const struct kubernetes_components *comps)
{
        struct kubernetes_data *d = kubernetes_data_new();

        d->context = xstrdup("fake");
        d->server = xstrdup("https://127.0.0.1:6443");
        d->collected_ms = kube_time_ms(REF_TIME);
        for (size_t f = 0; f < LO_ARRAY_LEN(files); f++) {
                char rel[128], *s, *x;
                cJSON *arr, *o;

                snprintf(rel, sizeof rel, "tests/fixtures/kube/cluster/objects/%s", files[f]);
                s = tu_read_file(tu_src_path(rel), NULL);
                assert_non_null(s);
                x = tu_fixture_expand(s, kube_time_ms(REF_TIME) / 1000);
                free(s);
                arr = cJSON_Parse(x);
                free(x);
                cJSON_ArrayForEach(o, arr) {
                        const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(o, "kind"));

                        if (!strcmp(k, "Node"))
                                kubernetes_data_add_node(d, kubernetes_node_make(o));
                        else if (!strcmp(k, "Pod"))
                                kubernetes_data_add_pod(d, kubernetes_pod_make(o, comps));
                        else if (!strcmp(k, "StatefulSet") || !strcmp(k, "Deployment"))
                                kubernetes_data_add_workload(
                                        d, kubernetes_workload_make(o, k, comps));
                        else if (!strcmp(k, "PersistentVolumeClaim"))
                                kubernetes_data_add_pvc(d, kubernetes_pvc_make(o, comps));
                        else if (!strcmp(k, "Event"))
                                kubernetes_data_add_event(d, kubernetes_event_make(o));
                        else if (!strcmp(k, "Secret"))
                                kubernetes_data_add_release(d, kubernetes_release_make(o));
                }
                cJSON_Delete(arr);
        }
        kubernetes_data_finish(d);
        return d;
}

static int setup(void **state)
{
        static const char y[] =
                "sources:\n"
                "  - name: prod\n"
                "    kind: kubernetes\n"
                "    components:\n"
                "      kafka: app.kubernetes.io/name=kafka\n"
                "      connect: app=kafka-connect\n"
                "      spark: app.kubernetes.io/name=spark,spark-role!=executor\n"
                "      airflow: app=airflow\n"
                "  - name: stage\n"
                "    kind: kubernetes\n";
        struct err e;
        struct kubernetes_components *comps;

        (void)state;
        cfg = config_load_string(y, strlen(y), "<t>", &e);
        assert_non_null(cfg);
        comps = kubernetes_components_new(
                &((struct kubernetes_cfg *)cfg->sources[0].kind_cfg)->components, &e);
        for (int i = 0; i < 2; i++) {
                snaps[i] = snapshot_new(&cfg->sources[i]);
                snaps[i]->collected_at = kube_time_ms(REF_TIME);
                snaps[i]->collected_mono = NOW - 2000;
                snaps[i]->seq = 1;
        }
        snaps[0]->status = COLL_OK;
        snaps[0]->data = build(comps);
        snaps[1]->status = COLL_DOWN;
        str_copy(snaps[1]->error, "GET /api/v1/nodes: connection refused (is the API server "
                 "up? check server)", sizeof snaps[1]->error);
        kubernetes_components_free(comps);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        for (int i = 0; i < 2; i++)
                snapshot_unref(snaps[i]);
        config_free(cfg);
        return 0;
}

static struct view_data vd(unsigned flags)
{
        struct view_data d;

        memset(&d, 0, sizeof d);
        d.srcs = cfg->sources;
        d.snaps = (const struct snapshot *const *)snaps;
        d.n = 2;
        d.now_mono = NOW;
        d.width = 160;
        d.flags = flags;
        return d;
}

static void names(const struct table_rows *r, int col, char *buf, size_t n)
{
        buf[0] = '\0';
        for (size_t i = 0; i < r->n; i++)
                snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? "," : "",
                         r->v[i].cell[col].text);
}

static void test_pods(void **state)
{
        struct view_data d = vd(0);
        struct table_rows r;
        char buf[512];
        const struct table_row *k2;

        (void)state;
        table_rows_init(&r);
        view_cluster_rows(&d, &r);
        assert_int_equal(r.n, 7);
        /* Grouped by component (none last), then namespace and name. */
        names(&r, KCP_NAME, buf, sizeof buf);
        assert_string_equal(buf, "connect-7d9f5c6b8-abcde,kafka-0,kafka-1,kafka-2,speed-driver,"
                            "backfill-x7k2,dbt-run-28471234-xk2p9");
        names(&r, KCP_COMPONENT, buf, sizeof buf);
        assert_string_equal(buf, "connect,kafka,kafka,kafka,spark,-,-");
        k2 = &r.v[3];
        assert_string_equal(k2->id, "prod\tpipeline/pod/kafka-2");
        assert_string_equal(k2->cell[KCP_READY].text, "0/1");
        assert_int_equal(k2->cell[KCP_READY].role, ROLE_WARN);
        assert_string_equal(k2->cell[KCP_STATUS].text, "CrashLoopBackOff");
        assert_int_equal(k2->cell[KCP_STATUS].role, ROLE_CRIT);
        assert_string_equal(k2->cell[KCP_RESTARTS].text, "12");
        assert_int_equal(k2->cell[KCP_RESTARTS].role, ROLE_WARN);      /* >= 10 */
        assert_string_equal(k2->cell[KCP_LAST].text, "OOMKilled");
        assert_string_equal(k2->cell[KCP_NODE].text, "node-b");
        /* 30 min at collection + 2 s since. */
        assert_string_equal(k2->cell[KCP_AGE].text, "30m02s");
        assert_int_equal(k2->sev, SEV_WARN);
        assert_string_equal(r.v[1].cell[KCP_STATUS].text, "Running");
        assert_int_equal(r.v[1].cell[KCP_STATUS].role, ROLE_OK);
        assert_int_equal(r.v[1].sev, SEV_OK);
        assert_string_equal(r.v[1].cell[KCP_LAST].text, "-");
        assert_string_equal(r.v[4].cell[KCP_STATUS].text, "Terminating");
        assert_string_equal(r.v[5].cell[KCP_STATUS].text, "Pending");
        assert_string_equal(r.v[5].cell[KCP_NODE].text, "-");
        assert_string_equal(r.v[6].cell[KCP_STATUS].text, "Completed");
        assert_string_equal(r.v[6].cell[KCP_AGE].text, "4h30m");
        assert_int_equal(r.v[6].sev, SEV_OK);

        /* Sorts: restarts, age (youngest first), severity. */
        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_SORT_RESTARTS << VIEW_CLUSTER_SORT_SHIFT;
        view_cluster_rows(&d, &r);
        assert_string_equal(r.v[0].cell[KCP_NAME].text, "kafka-2");
        assert_string_equal(r.v[1].cell[KCP_NAME].text, "kafka-1");
        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_SORT_AGE << VIEW_CLUSTER_SORT_SHIFT;
        view_cluster_rows(&d, &r);
        names(&r, KCP_NAME, buf, sizeof buf);
        assert_string_equal(buf, "backfill-x7k2,connect-7d9f5c6b8-abcde,kafka-0,kafka-1,kafka-2,"
                            "dbt-run-28471234-xk2p9,speed-driver");
        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_SORT_SEVERITY << VIEW_CLUSTER_SORT_SHIFT;
        view_cluster_rows(&d, &r);
        names(&r, KCP_NAME, buf, sizeof buf);
        assert_string_equal(buf, "kafka-2,connect-7d9f5c6b8-abcde,backfill-x7k2,speed-driver,"
                            "kafka-1,dbt-run-28471234-xk2p9,kafka-0");
        table_rows_done(&r);
}

static void test_other_views(void **state)
{
        struct view_data d = vd(VIEW_CLUSTER_WORKLOADS);
        struct table_rows r;
        char buf[512];

        (void)state;
        table_rows_init(&r);
        view_cluster_rows(&d, &r);
        names(&r, KCW_NAME, buf, sizeof buf);
        assert_string_equal(buf, "airflow-web,connect,kafka");
        assert_string_equal(r.v[1].id, "prod\tpipeline/deployment/connect");
        assert_string_equal(r.v[2].id, "prod\tpipeline/statefulset/kafka");
        assert_string_equal(r.v[1].cell[KCW_READY].text, "0/1");
        assert_int_equal(r.v[1].sev, SEV_CRIT);
        assert_string_equal(r.v[2].cell[KCW_READY].text, "2/3");
        assert_int_equal(r.v[2].sev, SEV_WARN);
        assert_string_equal(r.v[0].cell[KCW_READY].text, "0/0");
        assert_int_equal(r.v[0].sev, SEV_OK);

        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_NODES;
        view_cluster_rows(&d, &r);
        assert_int_equal(r.n, 3);
        assert_string_equal(r.v[0].id, "prod\tnode/node-a");
        assert_string_equal(r.v[0].cell[KCN_MEMORY].text, "32.0 GiB");
        assert_string_equal(r.v[1].cell[KCN_CONDITIONS].text, "MemoryPressure");
        assert_string_equal(r.v[1].cell[KCN_CPU].text, "3.50");
        assert_int_equal(r.v[1].sev, SEV_WARN);
        assert_string_equal(r.v[2].cell[KCN_READY].text, "Unknown");
        assert_int_equal(r.v[2].cell[KCN_READY].role, ROLE_CRIT);
        assert_string_equal(r.v[2].cell[KCN_SCHED].text, "cordoned");
        assert_int_equal(r.v[2].sev, SEV_CRIT);

        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_PVCS;
        view_cluster_rows(&d, &r);
        names(&r, KCV_NAME, buf, sizeof buf);
        assert_string_equal(buf, "data-kafka-0,data-kafka-1,scratch");      /* kafka, then none */
        assert_string_equal(r.v[0].cell[KCV_CAPACITY].text, "100.0 GiB");
        assert_string_equal(r.v[2].cell[KCV_CAPACITY].text, "10.0 GiB");   /* requested */
        assert_int_equal(r.v[2].cell[KCV_CAPACITY].role, ROLE_DIM);
        assert_string_equal(r.v[2].cell[KCV_PHASE].text, "Pending");
        assert_int_equal(r.v[2].sev, SEV_WARN);
        assert_string_equal(r.v[2].id, "prod\tbatch/pvc/scratch");

        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_EVENTS;
        view_cluster_rows(&d, &r);
        names(&r, KCE_REASON, buf, sizeof buf);
        assert_string_equal(buf, "BackOff,ProvisioningFailed,Failed");
        assert_string_equal(r.v[0].cell[KCE_LAST].text, "2s");
        assert_string_equal(r.v[1].cell[KCE_LAST].text, "5m02s");
        assert_string_equal(r.v[1].cell[KCE_COUNT].text, "4");
        assert_string_equal(r.v[0].cell[KCE_OBJECT].text, "Pod/kafka-2");

        table_rows_clear(&r);
        d.flags = VIEW_CLUSTER_RELEASES;
        view_cluster_rows(&d, &r);
        assert_int_equal(r.n, 2);
        assert_string_equal(r.v[0].id, "prod\tbatch/release/airflow");
        assert_string_equal(r.v[0].cell[KCR_REVISION].text, "10");
        assert_int_equal(r.v[0].cell[KCR_STATUS].role, ROLE_CRIT);
        assert_string_equal(r.v[1].cell[KCR_STATUS].text, "deployed");
        assert_int_equal(r.v[1].cell[KCR_STATUS].role, ROLE_OK);

        /* The filter the generic table applies finds pods by reason. */
        table_rows_clear(&r);
        d.flags = 0;
        view_cluster_rows(&d, &r);
        assert_int_equal(table_filter(&r, "oomkilled"), 1);
        assert_string_equal(r.v[0].cell[KCP_NAME].text, "kafka-2");
        table_rows_done(&r);
}

/* The whole text of lines, one per line. */
static char *text_of(const struct tlines *l)
{
        size_t cap = 8192, n = 0;
        char *s = xmalloc(cap), line[1024];

        s[0] = '\0';
        for (size_t i = 0; i < l->n; i++) {
                tline_text(&l->v[i], line, sizeof line);
                if (n + strlen(line) + 2 > cap) {
                        cap *= 2;
                        s = xrealloc(s, cap);
                }
                n += (size_t)snprintf(s + n, cap - n, "%s\n", line);
        }
        return s;
}

static void test_preamble(void **state)
{
        struct view_data d = vd(0);
        struct tlines l;
        char *t;

        (void)state;
        tlines_init(&l);
        view_cluster_preamble(&d, &l);
        t = text_of(&l);
        assert_int_equal(l.n, 4);
        /* Per component: pods ready of those not finished (the Succeeded
         * dbt pod and the executor match no component). */
        assert_non_null(strstr(t, "\n  components  kafka 2/3 failing 1  connect 0/1 failing 1  spark 0/1  "
                               "airflow 0/0\n"));
        assert_non_null(strstr(t, "prod  context fake  https://127.0.0.1:6443  nodes ready 2/3  "
                               "pods 7, not ready 4, failing 2  workloads short 2  "
                               "warnings 3/15m  age 2s\n"));
        assert_non_null(strstr(t, "stage  GET /api/v1/nodes: connection refused"));
        assert_non_null(strstr(t, "pods by component (v: workloads"));
        free(t);
        tlines_done(&l);

        d.flags = VIEW_CLUSTER_EVENTS;
        tlines_init(&l);
        view_cluster_preamble(&d, &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "Warning events (v cycles"));
        free(t);
        tlines_done(&l);
}

static void test_detail(void **state)
{
        struct view_data d = vd(0);
        struct tlines l;
        char *t;

        (void)state;
        tlines_init(&l);
        view_cluster_detail(&d, "prod\tpipeline/pod/kafka-2", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "pod pipeline/kafka-2  on prod\n"));
        assert_non_null(strstr(t, "CrashLoopBackOff"));
        assert_non_null(strstr(t, "OOMKilled (exit 137)"));
        assert_non_null(strstr(t, "ContainersNotReady"));
        assert_non_null(strstr(t, "StatefulSet/kafka"));
        assert_non_null(strstr(t, "node-b"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tpipeline/statefulset/kafka", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "2/3"));
        assert_non_null(strstr(t, "  kafka-0 "));
        assert_non_null(strstr(t, "  kafka-1 "));
        assert_non_null(strstr(t, "  kafka-2 "));
        assert_null(strstr(t, "connect-7d9f5c6b8-abcde"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tpipeline/deployment/connect", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "connect-7d9f5c6b8-abcde"));
        assert_non_null(strstr(t, "ImagePullBackOff"));
        assert_null(strstr(t, "kafka-0"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tnode/node-b", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "Node node-b"));
        assert_non_null(strstr(t, "MemoryPressure"));
        assert_non_null(strstr(t, "2  not ready 1  failing 1"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tbatch/event/scratch.17c3d4e5f6010203", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "storageclass.storage.k8s.io \"fast\" not found"));
        assert_non_null(strstr(t, "5m02s ago"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tbatch/release/airflow", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "failed"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "prod\tpipeline/pod/gone", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "this pod is not in the latest data"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "stage\tnode/x", &l);
        t = text_of(&l);
        assert_non_null(strstr(t, "no data from this source: GET /api/v1/nodes"));
        free(t);
        tlines_done(&l);

        tlines_init(&l);
        view_cluster_detail(&d, "garbage", &l);
        assert_int_equal(l.n, 1);
        tlines_done(&l);
}

/* A name too long for a row id: the id is clipped, Enter still finds it. */
static void test_long_name(void **state)
{
        struct kubernetes_data *kd = kubernetes_data_new();
        struct snapshot *s = snapshot_new(&cfg->sources[0]);
        const struct snapshot *one[1] = { s };
        char name[254], *json, *t;
        struct view_data d = vd(0);
        struct table_rows r;
        struct tlines l;
        cJSON *o;

        (void)state;
        memset(name, 'p', 200);
        name[200] = '\0';
        json = xasprintf("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"pipeline\"},"
                         "\"status\":{\"phase\":\"Running\"}}", name);
        o = cJSON_Parse(json);
        kubernetes_data_add_pod(kd, kubernetes_pod_make(o, NULL));
        kubernetes_data_finish(kd);
        s->status = COLL_OK;
        s->data = kd;
        d.snaps = one;
        d.n = 1;
        table_rows_init(&r);
        view_cluster_rows(&d, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(strlen(r.v[0].id), TABLE_ID_MAX - 1);
        tlines_init(&l);
        view_cluster_detail(&d, r.v[0].id, &l);
        t = text_of(&l);
        assert_null(strstr(t, "not in the latest data"));
        assert_non_null(strstr(t, "Running"));
        free(t);
        tlines_done(&l);
        table_rows_done(&r);
        snapshot_unref(s);
        cJSON_Delete(o);
        free(json);
}

static void test_registered(void **state)
{
        const struct view_ops *o = view_find("cluster");

        (void)state;
        assert_ptr_equal(o, &view_cluster_ops);
        assert_string_equal(o->collector, "kubernetes");
        assert_string_equal(view_cluster_columns(VIEW_CLUSTER_NODES)[KCN_NAME].title, "NAME");
        assert_true(table_ncols(view_cluster_columns(0)) == KCP__COUNT);
        assert_true(table_ncols(view_cluster_columns(VIEW_CLUSTER_RELEASES)) == KCR__COUNT);
        assert_true(table_ncols(view_cluster_columns(7)) == KCP__COUNT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pods),
                cmocka_unit_test(test_other_views),
                cmocka_unit_test(test_preamble),
                cmocka_unit_test(test_detail),
                cmocka_unit_test(test_long_name),
                cmocka_unit_test(test_registered),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
