/*
 * Spark collector against the fake API server (tests/lib/fake_kube.py via
 * tests/lib/tu_kube.h) with the fixture set tests/fixtures/kube/spark/:
 * SparkApplications in every state of applicationState.state and two
 * ScheduledSparkApplications in namespace processing, and the Spark REST
 * answers of the running drivers through the service proxy -- one
 * Structured Streaming app, one DStream app, one batch app and one driver
 * whose proxy path answers 503 (its streaming is null, the others exact).
 * Then: watch updates, the 404/DStream memo on the second poll, ui_urls,
 * namespaces, an HTML-answering server and an unreachable one.
 */
#include <math.h>
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
#include "collectors/spark/spark.h"
#include "tu.h"
#include "tu_kube.h"
#include "core/util.h"

#define PROXY(svc) "/api/v1/namespaces/processing/services/" svc ":4040/proxy"
#define SPEED_ID "spark-9f1c2a7e4b3d4e8fa1b2c3d4e5f60718"
#define CDC_ID "spark-1a2b3c4d5e6f708192a3b4c5d6e7f801"
#define BATCH_ID "spark-cccccccccccccccccccccccccccccccc"

static struct tu_kube k;
static int stop_pipe[2];
static char dir_base[512], dir_spark[512];

static int group_setup(void **state)
{
        const char *dirs[3];

        (void)state;
        if (pipe(stop_pipe) != 0)
                return -1;
        str_copy(dir_base, tu_src_path("tests/fixtures/kube/base"), sizeof dir_base);
        str_copy(dir_spark, tu_src_path("tests/fixtures/kube/spark"), sizeof dir_spark);
        dirs[0] = dir_base;
        dirs[1] = dir_spark;
        dirs[2] = NULL;
        return tu_kube_start(&k, dirs, 0);
}

static int group_teardown(void **state)
{
        (void)state;
        tu_kube_stop(&k);
        close(stop_pipe[0]);
        close(stop_pipe[1]);
        return 0;
}

static struct config *load(const char *kubeconfig, const char *extra)
{
        struct err e;
        char *y = xasprintf("environment: it\n"
                            "sources:\n"
                            "  - name: k8s\n"
                            "    kind: kubernetes\n"
                            "    kubeconfig: %s\n"
                            "  - name: spark\n"
                            "    kind: spark\n"
                            "    kubernetes: k8s\n"
                            "    timeout: 5s\n"
                            "%s", kubeconfig, extra ? extra : "");
        struct config *c = config_load_string(y, strlen(y), "<it>", &e);

        if (!c)
                fail_msg("config: %s\n%s", e.msg, y);
        free(y);
        return c;
}

static const struct source_cfg *spark_src(const struct config *c)
{
        return config_source(c, "spark");
}

static enum coll_status poll_once(const struct source_cfg *src, void *st, void **data,
                                  struct err *err)
{
        struct coll_ctx ctx;
        int64_t t0 = clock_mono_ms();

        err_clear(err);
        ctx.stop_fd = stop_pipe[0];
        ctx.now_mono = t0;
        ctx.timeout_ms = src->timeout_ms;
        ctx.deadline_mono = t0 + src->timeout_ms;
        *data = NULL;
        return src->ops->poll(st, &ctx, data, err);
}

/* The app's JSON object (owned), by name. */
static char *app_json(const struct spark_data *d, const char *name, const char *key)
{
        cJSON *o = cJSON_CreateObject(), *a;
        char *s = NULL;

        coll_spark_ops.to_json(d, o);
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "applications")) {
                const cJSON *n = cJSON_GetObjectItem(a, "name");

                if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
                        s = cJSON_PrintUnformatted(cJSON_GetObjectItem(a, key));
        }
        cJSON_Delete(o);
        if (!s)
                fail_msg("no application %s / key %s", name, key);
        return s;
}

static void assert_app_json(const struct spark_data *d, const char *name, const char *key,
                            const char *want)
{
        char *s = app_json(d, name, key);

        assert_string_equal(s, want);
        free(s);
}

static int req_count(const char *path)
{
        return tu_kube_count(&k, "GET", path);
}

/* 1: the fixture, exactly; the second poll; watch events -------------------- */

static void test_fixture(void **state)
{
        struct config *c = load(k.kubeconfig_noauth, "    namespaces: [processing]\n");
        const struct source_cfg *src = spark_src(c);
        struct spark_data *d;
        const struct spark_app *a;
        void *st, *data;
        struct err e;
        static const char *const order[] = {
                "bad-submit", "batch-report", "broken-driver", "cdc-enricher", "daily-agg",
                "failed-job", "failing-app", "invalidating-app", "new-app", "rerun-app",
                "speed-layer", "submitted-app", "succeeding-app", "unknown-app",
        };

        (void)state;
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        assert_string_equal(e.msg, "1 driver UI(s) unreadable: processing/broken-driver: GET "
                            "jobs: HTTP 503 Service Unavailable: no endpoints available for "
                            "service \"broken-driver-ui-svc\"");
        d = data;
        assert_int_equal(d->n_apps, LO_ARRAY_LEN(order));
        for (size_t i = 0; i < d->n_apps; i++)
                assert_string_equal(d->apps[i].name, order[i]);
        assert_int_equal(d->n_scheds, 2);
        assert_string_equal(d->scheds[0].name, "nightly-compact");
        assert_string_equal(d->scheds[1].schedule_state, "FailedValidation");
        assert_int_equal(d->n_notes, 0);
        /* 4 running drivers: speed 4 requests (jobs, stages, executors,
         * metrics/json), cdc 5 (+ statistics), batch 5, broken 1 */
        assert_int_equal(d->requests, 15);

        assert_app_json(d, "speed-layer", "streaming",
                        "{\"kind\":\"structured\",\"input_rate\":1500.5,\"processing_rate\":1380,"
                        "\"batch_duration_ms\":1250,\"scheduling_delay_ms\":null,"
                        "\"behind_ms\":0}");
        assert_app_json(d, "speed-layer", "failed_jobs", "2");
        assert_app_json(d, "speed-layer", "failed_stages", "1");
        assert_app_json(d, "speed-layer", "executors_failed", "1");
        assert_app_json(d, "cdc-enricher", "streaming",
                        "{\"kind\":\"dstream\",\"input_rate\":400,\"processing_rate\":320,"
                        "\"batch_duration_ms\":5000,\"scheduling_delay_ms\":2500,"
                        "\"behind_ms\":0}");
        assert_app_json(d, "cdc-enricher", "failed_jobs", "0");
        assert_app_json(d, "broken-driver", "streaming", "null");
        assert_app_json(d, "broken-driver", "failed_jobs", "null");
        assert_app_json(d, "broken-driver", "failed_stages", "null");
        assert_app_json(d, "batch-report", "streaming", "null");
        assert_app_json(d, "batch-report", "failed_jobs", "0");
        assert_app_json(d, "daily-agg", "failed_jobs", "null");
        assert_app_json(d, "failed-job", "attempts", "3");
        assert_app_json(d, "new-app", "state", "\"\"");

        a = spark_find(d, "processing", "speed-layer");
        assert_int_equal(a->rest.exec_active, 2);
        assert_int_equal(a->rest.exec_dead, 1);
        assert_int_equal(a->in_hist.n, 1);
        a = spark_find(d, "processing", "daily-agg");
        assert_false(a->rest.asked);
        /* cdc-enricher: speed-layer behind 0 (1380 >= 1500.5 is false...)
         * is checked below once there are two samples */
        coll_spark_ops.data_free(d);

        /* second poll: the DStream app skips metrics/json, the batch app
         * (404 statistics) is not asked for statistics again */
        assert_int_equal(req_count(PROXY("cdc-enricher-ui-svc") "/metrics/json"), 1);
        assert_int_equal(req_count(PROXY("batch-report-ui-svc") "/api/v1/applications/"
                                   BATCH_ID "/streaming/statistics"), 1);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        d = data;
        assert_int_equal(d->requests, 13);
        assert_int_equal(req_count(PROXY("cdc-enricher-ui-svc") "/metrics/json"), 1);
        assert_int_equal(req_count(PROXY("cdc-enricher-ui-svc") "/api/v1/applications/"
                                   CDC_ID "/streaming/statistics"), 2);
        assert_int_equal(req_count(PROXY("batch-report-ui-svc") "/api/v1/applications/"
                                   BATCH_ID "/streaming/statistics"), 1);
        assert_int_equal(req_count(PROXY("speed-layer-ui-svc") "/metrics/json"), 2);
        /* processing below input for two polls: a window, not a sample */
        a = spark_find(d, "processing", "speed-layer");
        assert_int_equal(a->in_hist.n, 2);
        assert_true(a->behind_ms > 0);
        assert_true(ring_last(&a->in_hist) == 1500.5);
        a = spark_find(d, "processing", "cdc-enricher");
        assert_true(a->behind_ms > 0);          /* 320 < 400 */
        coll_spark_ops.data_free(d);

        /* watch: a state change and a deletion arrive as events */
        assert_int_equal(tu_kube_post(&k, "/_fake/objects",
                "[{\"apiVersion\":\"sparkoperator.k8s.io/v1beta2\",\"kind\":\"SparkApplication\","
                "\"metadata\":{\"name\":\"submitted-app\",\"namespace\":\"processing\"},"
                "\"spec\":{\"type\":\"Java\"},\"status\":{\"applicationState\":{\"state\":"
                "\"SUBMISSION_FAILED\",\"errorMessage\":\"image pull failed\"},"
                "\"submissionAttempts\":2}}]"), 0);
        assert_int_equal(tu_kube_post(&k, "/_fake/delete",
                "[{\"kind\":\"SparkApplication\",\"namespace\":\"processing\","
                "\"name\":\"rerun-app\"}]"), 0);
        {
                int64_t until = clock_mono_ms() + 5000;
                bool seen = false;

                while (!seen && clock_mono_ms() < until) {
                        assert_int_not_equal(poll_once(src, st, &data, &e), COLL_DOWN);
                        d = data;
                        a = spark_find(d, "processing", "submitted-app");
                        seen = a && a->state == SPARK_ST_SUBMISSION_FAILED &&
                               !spark_find(d, "processing", "rerun-app");
                        if (seen) {
                                assert_string_equal(a->error, "image pull failed");
                                assert_int_equal(a->submission_attempts, 2);
                                assert_int_equal(d->n_apps, 13);
                        }
                        coll_spark_ops.data_free(d);
                }
                assert_true(seen);
        }
        src->ops->destroy(st);
        /* put the fixture back for the other tests */
        {
                char *s;
                size_t len;
                cJSON *arr, *o;

                s = tu_read_fixture(tu_src_path("tests/fixtures/kube/spark/objects/"
                                                "sparkapplications.json"), &len);
                arr = cJSON_ParseWithLength(s, len);
                free(s);
                cJSON_ArrayForEach(o, arr) {
                        const char *n = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"),
                                                            "name")->valuestring;

                        if (strcmp(n, "submitted-app") == 0 || strcmp(n, "rerun-app") == 0) {
                                char *one = xasprintf("[%s]", s = cJSON_PrintUnformatted(o));

                                free(s);
                                assert_int_equal(tu_kube_post(&k, "/_fake/objects", one), 0);
                                free(one);
                        }
                }
                cJSON_Delete(arr);
        }
        config_free(c);
}

/* 2: ui_urls takes a driver off the service proxy ----------------------------- */

static void test_ui_urls(void **state)
{
        char *extra = xasprintf("    watch: false\n"
                                "    ui_urls:\n"
                                "      processing/broken-driver: %s/driver-ui/broken-driver/\n",
                                k.base_url);
        struct config *c = load(k.kubeconfig_noauth, extra);
        const struct source_cfg *src = spark_src(c);
        struct spark_data *d;
        void *st, *data;
        struct err e;

        (void)state;
        free(extra);
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_OK);
        assert_string_equal(e.msg, "");
        d = data;
        assert_app_json(d, "broken-driver", "streaming",
                        "{\"kind\":\"structured\",\"input_rate\":50,\"processing_rate\":75.5,"
                        "\"batch_duration_ms\":400,\"scheduling_delay_ms\":null,"
                        "\"behind_ms\":0}");
        assert_app_json(d, "broken-driver", "failed_jobs", "0");
        assert_app_json(d, "broken-driver", "driver_error", "null");
        assert_int_equal(req_count("/driver-ui/broken-driver/metrics/json"), 1);
        coll_spark_ops.data_free(d);
        src->ops->destroy(st);
        config_free(c);
}

/* 3: namespaces: all of them, and one without applications -------------------- */

static void test_namespaces(void **state)
{
        struct config *c = load(k.kubeconfig_noauth, NULL);
        const struct source_cfg *src = spark_src(c);
        struct spark_data *d;
        void *st, *data;
        struct err e;

        (void)state;
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        d = data;
        assert_int_equal(d->n_apps, 14);
        assert_int_equal(d->n_scheds, 2);
        coll_spark_ops.data_free(d);
        src->ops->destroy(st);
        config_free(c);

        c = load(k.kubeconfig_noauth, "    namespaces: [ingestion]\n");
        src = spark_src(c);
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_OK);
        d = data;
        assert_int_equal(d->n_apps, 0);
        assert_int_equal(d->n_scheds, 0);
        assert_int_equal(d->requests, 0);
        coll_spark_ops.data_free(d);
        src->ops->destroy(st);
        config_free(c);
}

/* 4: bad servers: HTML instead of JSON, nobody listening ----------------------- */

static void test_bad_servers(void **state)
{
        struct config *c = load(k.kubeconfig_noauth, "    namespaces: [processing]\n"
                                "    watch: false\n");
        const struct source_cfg *src = spark_src(c);
        struct spark_data *d;
        void *st, *data;
        struct err e;
        char *kc;
        FILE *f;

        (void)state;
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        coll_spark_ops.data_free(data);
        /* the API server turns into a login page: the last good lists stay,
         * with a note; the drivers' answers are HTML too */
        assert_int_equal(tu_kube_post(&k, "/_fake/html", "{\"enabled\":true}"), 0);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        d = data;
        assert_non_null(d);
        assert_int_equal(d->n_apps, 14);
        assert_int_equal(d->n_notes, 2);
        assert_non_null(strstr(d->notes[0], "SparkApplications in processing: "));
        assert_non_null(strstr(d->notes[0], "(showing the last good list)"));
        assert_non_null(strstr(e.msg, "not JSON"));
        coll_spark_ops.data_free(d);
        src->ops->destroy(st);
        /* a fresh collector that never listed: down */
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DOWN);
        assert_non_null(strstr(e.msg, "not JSON"));
        coll_spark_ops.data_free(data);
        src->ops->destroy(st);
        assert_int_equal(tu_kube_post(&k, "/_fake/html", "{\"enabled\":false}"), 0);
        config_free(c);

        /* nobody listening: down within the timeout, with the reason */
        kc = xasprintf("%s/closed.kubeconfig", k.dir);
        f = fopen(kc, "w");
        assert_non_null(f);
        fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: gone\n"
                "clusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:9\n"
                "users:\n- name: u\n  user: {}\n"
                "contexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\n");
        fclose(f);
        c = load(kc, NULL);
        src = spark_src(c);
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DOWN);
        assert_true(e.msg[0] != '\0');
        assert_null(strstr(e.msg, "not implemented"));
        coll_spark_ops.data_free(data);
        src->ops->destroy(st);
        config_free(c);
        unlink(kc);
        free(kc);
}


/* 5: a hung driver gets its slice of the deadline, the others their answers --- */

static void test_slow_driver(void **state)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof sa;
        int lfd = socket(AF_INET, SOCK_STREAM, 0);
        struct config *c;
        const struct source_cfg *src;
        struct spark_data *d;
        void *st, *data;
        struct err e;
        char *extra;
        const struct spark_app *a;

        (void)state;
        /* listens, never accepts: the request hangs until its deadline */
        assert_true(lfd >= 0);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
        assert_int_equal(listen(lfd, 8), 0);
        assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
        /* batch-report is read first (by name): the worst place to hang */
        extra = xasprintf("    namespaces: [processing]\n"
                          "    ui_urls: {batch-report: \"http://127.0.0.1:%d\"}\n",
                          ntohs(sa.sin_port));
        c = load(k.kubeconfig_noauth, extra);
        free(extra);
        src = spark_src(c);
        st = src->ops->create(src);
        assert_int_equal(poll_once(src, st, &data, &e), COLL_DEGRADED);
        assert_non_null(strstr(e.msg, "2 driver UI(s) unreadable: processing/batch-report: "));
        d = data;
        a = spark_find(d, "processing", "batch-report");
        assert_non_null(a->rest.error);
        assert_non_null(strstr(a->rest.error, "timed out"));
        assert_app_json(d, "batch-report", "failed_jobs", "null");
        assert_app_json(d, "speed-layer", "streaming",
                        "{\"kind\":\"structured\",\"input_rate\":1500.5,\"processing_rate\":1380,"
                        "\"batch_duration_ms\":1250,\"scheduling_delay_ms\":null,"
                        "\"behind_ms\":0}");
        assert_app_json(d, "cdc-enricher", "streaming",
                        "{\"kind\":\"dstream\",\"input_rate\":400,\"processing_rate\":320,"
                        "\"batch_duration_ms\":5000,\"scheduling_delay_ms\":2500,"
                        "\"behind_ms\":0}");
        assert_app_json(d, "speed-layer", "failed_jobs", "2");
        coll_spark_ops.data_free(d);
        src->ops->destroy(st);
        config_free(c);
        close(lfd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixture),
                cmocka_unit_test(test_ui_urls),
                cmocka_unit_test(test_namespaces),
                cmocka_unit_test(test_bad_servers),
                cmocka_unit_test(test_slow_driver),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
