/*
 * The Kubernetes watch against tests/lib/fixture_httpd.py. The watch builds
 * its own request (libcurl multi, not http_do), so its error texts get the
 * same redaction here: a 401/403 Status answering the watch, or an ERROR
 * event inside the stream, that quotes the bearer token or the Basic
 * credentials sent (as some proxies do) comes back with them as ***. A
 * watch event nested deeper than cJSON's 1000 levels says so.
 *
 * Each test has its own collection path: the list (query limit=500)
 * answers an empty list with resourceVersion 5, the watch (any other
 * query) the hostile answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "clients/kube/kube.h"
#include "tu.h"
#include "tu_http.h"

#define TOKEN   "kTok-3f9a7c1e5b2d-watch"
#define TOKEN64 "a1Rvay0zZjlhN2MxZTViMmQtd2F0Y2g="          /* base64(TOKEN) */
#define PASSWD  "kPw-8e2b6d4a-watch"
#define BASIC64 "c3JlOmtQdy04ZTJiNmQ0YS13YXRjaA=="          /* base64("sre:" PASSWD) */
#define DEPTH   2000

static struct tu_httpd srv;

static void *name_make(const cJSON *obj, void *user)
{
        (void)obj;
        (void)user;
        return xstrdup("x");
}

static const struct kube_model_ops name_ops = { .make = name_make, .free = free };

/* A list route (empty, resourceVersion 5) and a watch route for path. */
static void add_routes(cJSON *routes, const char *path, int status, const char *body)
{
        cJSON *l = cJSON_CreateObject(), *w = cJSON_CreateObject();

        cJSON_AddStringToObject(l, "path", path);
        cJSON_AddStringToObject(l, "query", "limit=500");
        cJSON_AddItemToObject(l, "json", cJSON_Parse("{\"kind\":\"PodList\",\"apiVersion\":"
                                                     "\"v1\",\"metadata\":{\"resourceVersion\":"
                                                     "\"5\"},\"items\":[]}"));
        cJSON_AddItemToArray(routes, l);
        cJSON_AddStringToObject(w, "path", path);
        cJSON_AddNumberToObject(w, "status", status);
        cJSON_AddStringToObject(w, "body", body);
        cJSON_AddItemToObject(w, "headers", cJSON_Parse("{\"Content-Type\":"
                                                        "\"application/json\"}"));
        cJSON_AddItemToArray(routes, w);
}

static int setup(void **state)
{
        cJSON *doc = cJSON_CreateObject(), *routes = cJSON_AddArrayToObject(doc, "routes");
        char *deep = xmalloc(2 * DEPTH + 2), *text;
        int rc;

        (void)state;
        add_routes(routes, "/api/v1/namespaces/bearer/pods", 401,
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                   "\"message\":\"proxy: Authorization: Bearer " TOKEN " refused (token "
                   TOKEN ", " TOKEN64 ")\",\"reason\":\"Unauthorized\",\"code\":401}");
        add_routes(routes, "/api/v1/namespaces/basic/pods", 403,
                   "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                   "\"message\":\"proxy: Authorization: Basic " BASIC64 " (user sre, "
                   "password " PASSWD ")\",\"reason\":\"Forbidden\",\"code\":403}");
        add_routes(routes, "/api/v1/namespaces/event/pods", 200,
                   "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500,"
                   "\"message\":\"token " TOKEN " is not allowed to watch\"}}\n");
        for (int i = 0; i < DEPTH; i++) {
                deep[i] = '[';
                deep[DEPTH + i] = ']';
        }
        deep[2 * DEPTH] = '\n';
        deep[2 * DEPTH + 1] = '\0';
        add_routes(routes, "/api/v1/namespaces/deep/pods", 200, deep);
        text = cJSON_PrintUnformatted(doc);
        rc = tu_httpd_start(&srv, text, false);
        free(text);
        free(deep);
        cJSON_Delete(doc);
        return rc;
}

static int teardown(void **state)
{
        (void)state;
        tu_httpd_stop(&srv);
        return 0;
}

/* A client for the fixture server with the token, or with Basic sre:PASSWD. */
static struct kube_config *config(bool basic)
{
        char yaml[1024];
        struct kube_config *kc;
        struct err e;

        snprintf(yaml, sizeof yaml,
                 "current-context: f\n"
                 "clusters: [{name: f, cluster: {server: '%s'}}]\n"
                 "users: [{name: u, user: {%s}}]\n"
                 "contexts: [{name: f, context: {cluster: f, user: u}}]\n",
                 srv.base_url, basic ? "username: sre, password: '" PASSWD "'"
                                     : "token: '" TOKEN "'");
        err_clear(&e);
        kc = kube_config_parse(yaml, strlen(yaml), "test", "/", NULL, &e);
        if (!kc)
                fail_msg("kubeconfig: %s", e.msg);
        return kc;
}

/* Syncs the informer of path until a sync fails (the watch's answer comes
 * in on its own time; 20 s deadline); that error's text in out. */
static void watch_error(bool basic, const char *path, char *out, size_t n)
{
        struct kube_config *kc = config(basic);
        struct err e;
        struct kube_client *c = kube_client_new(kc, &e);
        struct kube_informer *inf;
        int64_t end = clock_mono_ms() + 20000;

        assert_non_null(c);
        inf = kube_informer_new(c, path, NULL, true, &name_ops, NULL);
        for (;;) {
                int64_t now = clock_mono_ms();
                struct coll_ctx ctx = { .stop_fd = -1, .now_mono = now,
                                        .deadline_mono = now + 5000, .timeout_ms = 5000 };

                err_clear(&e);
                if (kube_informer_sync(inf, &ctx, &e) != 0)
                        break;
                if (clock_mono_ms() > end)
                        fail_msg("%s: the watch never failed", path);
                usleep(20 * 1000);
        }
        str_copy(out, e.msg, n);
        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
}

static void test_watch_401_quotes_the_token(void **state)
{
        char msg[512];

        (void)state;
        watch_error(false, "/api/v1/namespaces/bearer/pods", msg, sizeof msg);
        assert_string_equal(msg, "watch /api/v1/namespaces/bearer/pods: 401 Unauthorized: "
                            "proxy: Authorization: Bearer *** refused (token ***, ***)");
}

static void test_watch_403_quotes_basic(void **state)
{
        char msg[512];

        (void)state;
        watch_error(true, "/api/v1/namespaces/basic/pods", msg, sizeof msg);
        assert_string_equal(msg, "watch /api/v1/namespaces/basic/pods: 403 Forbidden: "
                            "proxy: Authorization: Basic *** (user sre, password ***)");
}

static void test_watch_error_event_quotes_the_token(void **state)
{
        char msg[512];

        (void)state;
        watch_error(false, "/api/v1/namespaces/event/pods", msg, sizeof msg);
        assert_string_equal(msg, "watch /api/v1/namespaces/event/pods: ERROR 500: "
                            "token *** is not allowed to watch");
}

static void test_watch_event_too_deep(void **state)
{
        char msg[512];

        (void)state;
        watch_error(false, "/api/v1/namespaces/deep/pods", msg, sizeof msg);
        assert_string_equal(msg, "watch /api/v1/namespaces/deep/pods: an event is "
                            "JSON nested deeper than 1000 levels");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_watch_401_quotes_the_token),
                cmocka_unit_test(test_watch_403_quotes_basic),
                cmocka_unit_test(test_watch_error_event_quotes_the_token),
                cmocka_unit_test(test_watch_event_too_deep),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
