/*
 * Integration tests for the `kind: kubernetes` collector against the fake
 * API server (tests/lib/fake_kube.py through tests/lib/tu_kube.h) over https with a
 * bearer token, serving tests/fixtures/kube/cluster:
 *   1. the status JSON exactly (tests/fixtures/kube/cluster/expected.json,
 *      the same truth as the unit test), and the lists it asked for;
 *   2. a watch change: kafka-0 goes CrashLoopBackOff through /_fake/objects
 *      and shows after the next syncs (polled with a deadline), without a
 *      second list; the watch dropped, then expired (ERROR 410): still OK,
 *      nothing lost, later changes seen;
 *   3. namespaces: only the configured namespace's paths are read;
 *   4. RBAC: secrets forbidden -> DEGRADED naming the resource, the rest
 *      still there (watch: false, so every poll lists);
 *   5. an HTML answer -> DOWN saying so, then recovers;
 *   6. a kubeconfig naming a missing context, an exec credential plugin
 *      that hangs (killed at exec_timeout) or fails, a server that never
 *      answers: DOWN, clearly, within the timeout;
 *   7. the server stopped -> DOWN with a clear error within the timeout;
 *      a new server behind the same kubeconfig path -> OK again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tu_kube.h"
#include "core/util.h"

static struct tu_kube k;
static int stop_pipe[2];
static char fixdir[512];
static char tmpdir[64];
static char kcpath[512];        /* a copy of the server's token kubeconfig */

static int copy_file(const char *from, const char *to)
{
        size_t n;
        char *s = tu_read_file(from, &n);
        FILE *f;

        if (!s)
                return -1;
        f = fopen(to, "w");
        if (!f || fwrite(s, 1, n, f) != n) {
                free(s);
                if (f)
                        fclose(f);
                return -1;
        }
        free(s);
        return fclose(f);
}

static int start_server(void)
{
        const char *dirs[] = { fixdir, NULL };

        if (tu_kube_start(&k, dirs, TU_KUBE_TLS | TU_KUBE_TOKEN) != 0)
                return -1;
        return copy_file(k.kubeconfig_token, kcpath);
}

static int group_setup(void **state)
{
        (void)state;
        if (pipe(stop_pipe) != 0)
                return -1;
        str_copy(fixdir, tu_src_path("tests/fixtures/kube/cluster"), sizeof fixdir);
        str_copy(tmpdir, "/tmp/lo-it-k8s-XXXXXX", sizeof tmpdir);
        if (!mkdtemp(tmpdir))
                return -1;
        snprintf(kcpath, sizeof kcpath, "%s/kubeconfig", tmpdir);
        return start_server();
}

static int group_teardown(void **state)
{
        (void)state;
        tu_kube_stop(&k);
        unlink(kcpath);
        rmdir(tmpdir);
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        return 0;
}

static struct config *load(const char *extra, const char *timeout)
{
        struct err e;
        char *y = xasprintf("sources:\n"
                            "  - name: k8s\n"
                            "    kind: kubernetes\n"
                            "    kubeconfig: %s\n"
                            "    context: fake\n"
                            "    timeout: %s\n"
                            "    components:\n"
                            "      kafka: app.kubernetes.io/name=kafka\n"
                            "      connect: app=kafka-connect\n"
                            "      spark: app.kubernetes.io/name=spark,spark-role!=executor\n"
                            "      airflow: app=airflow\n"
                            "%s", kcpath, timeout, extra ? extra : "");
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        if (!c)
                fail_msg("config: %s\n%s", e.msg, y);
        free(y);
        return c;
}

static enum coll_status poll_once(const struct source_cfg *src, void *st, void **data,
                                  struct err *err, int64_t *elapsed)
{
        struct coll_ctx ctx;
        enum coll_status s;
        int64_t t0 = clock_mono_ms();

        err_clear(err);
        ctx.stop_fd = stop_pipe[0];
        ctx.now_mono = t0;
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = t0 + src->timeout_ms;
        *data = NULL;
        s = src->ops->poll(st, &ctx, data, err);
        if (elapsed)
                *elapsed = clock_mono_ms() - t0;
        return s;
}

static const struct kubernetes_pod *find_pod(const struct kubernetes_data *d, const char *ns,
                                             const char *name)
{
        for (size_t i = 0; i < d->n_pods; i++)
                if (!strcmp(d->pods[i]->ns, ns) && !strcmp(d->pods[i]->name, name))
                        return d->pods[i];
        return NULL;
}

/* 1 ------------------------------------------------------------------------ */

static void test_status_exact(void **state)
{
        struct config *c = load(NULL, "10s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct kubernetes_data *d;
        struct err e;
        char *exp, *g, *w;
        cJSON *want, *got;

        (void)state;
        if (poll_once(src, st, &data, &e, NULL) != COLL_OK)
                fail_msg("poll: %s", e.msg);
        d = data;
        assert_string_equal(d->context, "fake");
        assert_string_equal(d->server, k.base_url);
        /* Ages against the clock the fixtures' relative times ({{now-30m}})
         * were expanded at, on both sides. */
        d->collected_ms = tu_fixture_now() * 1000;
        kubernetes_data_finish(d);
        exp = tu_read_fixture(tu_src_path("tests/fixtures/kube/cluster/expected.json"), NULL);
        want = cJSON_Parse(exp);
        cJSON_ReplaceItemInObject(want, "server", cJSON_CreateString(k.base_url));
        got = cJSON_CreateObject();
        src->ops->to_json(d, got);
        g = cJSON_Print(got);
        w = cJSON_Print(want);
        if (!cJSON_Compare(want, got, 1))
                fail_msg("JSON differs.\nwant: %s\ngot:  %s", w, g);
        free(g);
        free(w);
        free(exp);
        cJSON_Delete(want);
        cJSON_Delete(got);
        /* One list per resource, all namespaces; the Warning and Helm
         * selectors went to the server. */
        assert_int_equal(tu_kube_count(&k, "GET", "/api/v1/pods") >= 1, 1);
        assert_true(tu_kube_count(&k, "GET", "/apis/apps/v1/statefulsets") >= 1);
        assert_true(tu_kube_count(&k, "GET", "/api/v1/persistentvolumeclaims") >= 1);
        {
                char *log = tu_kube_requests(&k);

                assert_non_null(strstr(log, "fieldSelector=type%3DWarning"));
                assert_non_null(strstr(log, "labelSelector=owner%3Dhelm"));
                assert_null(strstr(log, "/namespaces/pipeline/pods"));
                free(log);
        }
        src->ops->data_free(data);
        src->ops->destroy(st);
        config_free(c);
}

/* 2 ------------------------------------------------------------------------ */

static const char crashing_kafka0[] =
        "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"kafka-0\","
        "\"namespace\":\"pipeline\",\"creationTimestamp\":\"{{now-30m10s}}\","
        "\"labels\":{\"app.kubernetes.io/name\":\"kafka\"}},"
        "\"spec\":{\"nodeName\":\"node-a\",\"containers\":[{\"name\":\"kafka\"}]},"
        "\"status\":{\"phase\":\"Running\",\"startTime\":\"{{now-30m}}\","
        "\"containerStatuses\":[{\"name\":\"kafka\",\"ready\":false,\"restartCount\":3,"
        "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}},"
        "\"lastState\":{\"terminated\":{\"exitCode\":137,\"reason\":\"OOMKilled\"}}}]}}]";

static void test_watch_change(void **state)
{
        struct config *c = load(NULL, "5s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data = NULL;
        const struct kubernetes_pod *p = NULL;
        int lists;
        struct err e;
        int64_t deadline;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        p = find_pod(data, "pipeline", "kafka-0");
        assert_null(p->reason);
        src->ops->data_free(data);
        lists = tu_kube_count(&k, "GET", "/api/v1/pods");
        {
                char *obj = tu_fixture_expand(crashing_kafka0, tu_fixture_now());

                assert_int_equal(tu_kube_post(&k, "/_fake/objects", obj), 0);
                free(obj);
        }
        deadline = clock_mono_ms() + 10000;
        for (;;) {
                enum coll_status s = poll_once(src, st, &data, &e, NULL);

                if (s != COLL_OK)
                        fail_msg("poll: %s", e.msg);
                p = find_pod(data, "pipeline", "kafka-0");
                if (p && p->reason && !strcmp(p->reason, "CrashLoopBackOff"))
                        break;
                src->ops->data_free(data);
                if (clock_mono_ms() > deadline)
                        fail_msg("the change never showed");
                usleep(50 * 1000);
        }
        assert_string_equal(p->last_reason, "OOMKilled");
        assert_int_equal(p->restarts, 3);
        assert_true(p->failing);
        assert_int_equal(((struct kubernetes_data *)data)->pods_failing, 3);
        src->ops->data_free(data);
        /* The change came over the watch: the pod path was only watched, not
         * listed again (a watch request is logged on the same path). */
        {
                char *log = tu_kube_requests(&k);

                assert_non_null(strstr(log, "watch="));
                free(log);
        }
        assert_true(tu_kube_count(&k, "GET", "/api/v1/pods") - lists <= 2);
        src->ops->destroy(st);
        config_free(c);
        /* Put kafka-0 back for the next tests. */
        {
                char *s = tu_read_fixture(tu_src_path("tests/fixtures/kube/cluster/objects/"
                                                      "pods.json"), NULL);
                assert_int_equal(tu_kube_post(&k, "/_fake/objects", s), 0);
                free(s);
        }
}

/* 2b ----------------------------------------------------------------------- */

/* Polls until pipeline/kafka-0 has `restarts` restarts (deadline 10 s). */
static void wait_restarts(const struct source_cfg *src, void *st, int restarts)
{
        int64_t deadline = clock_mono_ms() + 10000;
        void *data;
        struct err e;

        for (;;) {
                const struct kubernetes_pod *p;
                enum coll_status s = poll_once(src, st, &data, &e, NULL);

                if (s != COLL_OK)
                        fail_msg("poll: %s", e.msg);
                p = find_pod(data, "pipeline", "kafka-0");
                assert_int_equal(((struct kubernetes_data *)data)->n_pods, 7);
                if (p && p->restarts == restarts) {
                        src->ops->data_free(data);
                        return;
                }
                src->ops->data_free(data);
                if (clock_mono_ms() > deadline)
                        fail_msg("kafka-0 never showed %d restarts", restarts);
                usleep(50 * 1000);
        }
}

static char *kafka0_with(int restarts)
{
        char *s = tu_fixture_expand(crashing_kafka0, tu_fixture_now());
        char *p = strstr(s, "\"restartCount\":3");

        assert_non_null(p);
        p[strlen("\"restartCount\":")] = (char)('0' + restarts);
        return s;
}

/* The watch stream dropped, then expired (ERROR 410): the collector stays
 * OK, keeps every object, and still sees changes. */
static void test_watch_drop_expire(void **state)
{
        struct config *c = load(NULL, "5s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct err e;
        char *obj;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        src->ops->data_free(data);
        assert_int_equal(tu_kube_post(&k, "/_fake/drop", NULL), 0);
        obj = kafka0_with(5);
        assert_int_equal(tu_kube_post(&k, "/_fake/objects", obj), 0);
        free(obj);
        wait_restarts(src, st, 5);
        assert_int_equal(tu_kube_post(&k, "/_fake/expire", NULL), 0);
        obj = kafka0_with(6);
        assert_int_equal(tu_kube_post(&k, "/_fake/objects", obj), 0);
        free(obj);
        wait_restarts(src, st, 6);
        src->ops->destroy(st);
        config_free(c);
        obj = tu_read_fixture(tu_src_path("tests/fixtures/kube/cluster/objects/pods.json"), NULL);
        assert_int_equal(tu_kube_post(&k, "/_fake/objects", obj), 0);
        free(obj);
}

/* 3 ------------------------------------------------------------------------ */

static void test_namespaces(void **state)
{
        struct config *c = load("    namespaces: [pipeline]\n", "5s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct kubernetes_data *d;
        struct err e;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        d = data;
        assert_int_equal(d->n_pods, 3 + 1);
        for (size_t i = 0; i < d->n_pods; i++)
                assert_string_equal(d->pods[i]->ns, "pipeline");
        assert_int_equal(d->n_nodes, 3);        /* cluster-scoped */
        assert_int_equal(d->n_releases, 1);
        assert_int_equal(d->n_pvcs, 2);
        assert_true(tu_kube_count(&k, "GET", "/api/v1/namespaces/pipeline/pods") >= 1);
        assert_true(tu_kube_count(&k, "GET", "/apis/apps/v1/namespaces/pipeline/deployments")
                    >= 1);
        src->ops->data_free(data);
        src->ops->destroy(st);
        config_free(c);
}

/* 4 ------------------------------------------------------------------------ */

static void test_forbidden(void **state)
{
        struct config *c = load("    watch: false\n", "5s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct kubernetes_data *d;
        struct err e;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        src->ops->data_free(data);
        assert_int_equal(tu_kube_post(&k, "/_fake/forbid", "{\"resources\":[\"secrets\"]}"), 0);
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_DEGRADED);
        assert_non_null(strstr(e.msg, "1 of 7 lists failed"));
        assert_non_null(strstr(e.msg, "helm releases: "));
        assert_non_null(strstr(e.msg, "403"));
        d = data;
        assert_int_equal(d->n_pods, 7);
        assert_int_equal(d->n_releases, 2);     /* the last good state */
        src->ops->data_free(data);
        src->ops->destroy(st);

        /* Never readable: unknown (null), not empty; the summary says so. */
        assert_int_equal(tu_kube_post(&k, "/_fake/forbid", "{\"resources\":[\"nodes\"]}"), 0);
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_DEGRADED);
        assert_non_null(strstr(e.msg, "nodes: "));
        {
                cJSON *o = cJSON_CreateObject();
                char buf[256];

                src->ops->to_json(data, o);
                assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "nodes")));
                assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "pods")));
                assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "releases")), 2);
                cJSON_Delete(o);
                src->ops->summary(data, buf, sizeof buf);
                assert_non_null(strstr(buf, "nodes unknown, 7 pods"));
        }
        src->ops->data_free(data);
        assert_int_equal(tu_kube_post(&k, "/_fake/forbid", "{\"resources\":[]}"), 0);
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        assert_true(((struct kubernetes_data *)data)->have_nodes);
        src->ops->data_free(data);
        src->ops->destroy(st);
        config_free(c);
}

/* 5 ------------------------------------------------------------------------ */

static void test_html(void **state)
{
        struct config *c = load("    watch: false\n", "5s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct err e;

        (void)state;
        assert_int_equal(tu_kube_post(&k, "/_fake/html", "{\"enabled\":true}"), 0);
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_DOWN);
        assert_null(data);
        if (!strstr(e.msg, "HTML"))
                fail_msg("unclear error: %s", e.msg);
        assert_non_null(strstr(e.msg, "nodes: "));
        assert_int_equal(tu_kube_post(&k, "/_fake/html", "{\"enabled\":false}"), 0);
        if (poll_once(src, st, &data, &e, NULL) != COLL_OK)
                fail_msg("did not recover: %s", e.msg);
        assert_int_equal(((struct kubernetes_data *)data)->n_nodes, 3);
        src->ops->data_free(data);
        src->ops->destroy(st);
        config_free(c);
}

/* 6 ------------------------------------------------------------------------ */

static void test_down_recovers(void **state)
{
        struct config *c = load(NULL, "2s");
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;
        struct err e;
        int64_t ms;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_OK);
        src->ops->data_free(data);
        tu_kube_stop(&k);
        assert_int_equal(poll_once(src, st, &data, &e, &ms), COLL_DOWN);
        assert_null(data);
        assert_non_null(strstr(e.msg, "nodes: "));
        if (!strstr(e.msg, "onnect") && !strstr(e.msg, "refused"))
                fail_msg("unclear error: %s", e.msg);
        assert_true(ms < 2000 + 1000);
        /* A new server (new port, new token) behind the same kubeconfig path:
         * the kubeconfig is read again and everything listed afresh. */
        assert_int_equal(start_server(), 0);
        if (poll_once(src, st, &data, &e, NULL) != COLL_OK)
                fail_msg("did not recover: %s", e.msg);
        assert_int_equal(((struct kubernetes_data *)data)->n_pods, 7);
        assert_string_equal(((struct kubernetes_data *)data)->server, k.base_url);
        src->ops->data_free(data);
        src->ops->destroy(st);
        config_free(c);
}

/* A kubeconfig that names a missing context: DOWN with the kubeconfig's
 * own message, no request made. */
static void test_bad_context(void **state)
{
        struct err e;
        char *y = xasprintf("sources:\n  - name: k8s\n    kind: kubernetes\n"
                            "    kubeconfig: %s\n    context: prod\n", kcpath);
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);
        const struct source_cfg *src = &c->sources[0];
        void *st = src->ops->create(src), *data;

        (void)state;
        assert_int_equal(poll_once(src, st, &data, &e, NULL), COLL_DOWN);
        assert_non_null(strstr(e.msg, "prod"));
        src->ops->destroy(st);
        config_free(c);
        free(y);
}

/* An exec credential plugin that hangs: DOWN at exec_timeout with a
 * message naming the plugin, never a hung thread; one that fails: DOWN
 * with its exit. */
static void test_exec_plugin(void **state)
{
        static const char *const cases[][2] = {
                { "/bin/sleep", "30" },
                { "/bin/false", "x" },
        };

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                char path[600], *y, *kc;
                struct config *c;
                const struct source_cfg *src;
                void *st, *data;
                struct err e;
                int64_t ms;
                FILE *f;

                snprintf(path, sizeof path, "%s/exec-%zu.kubeconfig", tmpdir, i);
                kc = xasprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n"
                               "  cluster:\n    server: %s\n    insecure-skip-tls-verify: true\n"
                               "users:\n- name: plugin\n  user:\n    exec:\n"
                               "      apiVersion: client.authentication.k8s.io/v1\n"
                               "      command: %s\n      args: [\"%s\"]\n"
                               "      interactiveMode: Never\n"
                               "contexts:\n- name: fake\n  context: {cluster: fake, user: plugin}\n"
                               "current-context: fake\n", k.base_url, cases[i][0], cases[i][1]);
                f = fopen(path, "w");
                assert_non_null(f);
                fputs(kc, f);
                fclose(f);
                free(kc);
                y = xasprintf("sources:\n  - name: k8s\n    kind: kubernetes\n"
                              "    kubeconfig: %s\n    exec_timeout: 1s\n    timeout: 5s\n",
                              path);
                c = config_load_string(y, strlen(y), "<it>", &e);
                assert_non_null(c);
                src = &c->sources[0];
                st = src->ops->create(src);
                assert_int_equal(poll_once(src, st, &data, &e, &ms), COLL_DOWN);
                assert_null(data);
                if (!strstr(e.msg, cases[i][0]) && !strstr(e.msg, "exec"))
                        fail_msg("unclear error: %s", e.msg);
                assert_true(ms < 5000);
                src->ops->destroy(st);
                config_free(c);
                free(y);
                unlink(path);
        }
}

/* A listener that never answers (`server` overrides the kubeconfig's):
 * DOWN at the source timeout, not seven timeouts. */
static void test_hung_server(void **state)
{
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        char extra[128];
        struct config *c;
        const struct source_cfg *src;
        void *st, *data;
        struct err e;
        int64_t ms;

        (void)state;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        snprintf(extra, sizeof extra, "    server: http://127.0.0.1:%d\n", ntohs(a.sin_port));
        c = load(extra, "1s");
        src = &c->sources[0];
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e, &ms), COLL_DOWN);
        assert_null(data);
        if (!strstr(e.msg, "timed out") && !strstr(e.msg, "time"))
                fail_msg("unclear error: %s", e.msg);
        assert_true(ms < 1000 + 1000);
        src->ops->destroy(st);
        config_free(c);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_exact),
                cmocka_unit_test(test_watch_change),
                cmocka_unit_test(test_watch_drop_expire),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_forbidden),
                cmocka_unit_test(test_html),
                cmocka_unit_test(test_bad_context),
                cmocka_unit_test(test_exec_plugin),
                cmocka_unit_test(test_hung_server),
                cmocka_unit_test(test_down_recovers),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
