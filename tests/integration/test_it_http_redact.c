/*
 * http_do against tests/lib/fixture_httpd.py: a 401/403 answer whose body
 * quotes the request's credentials (as some proxies do) comes back with
 * the password, the bearer token, a secret custom header's value and their
 * base64 forms masked; a 2xx body is data and left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clients/http.h"
#include "tu.h"
#include "tu_http.h"

/* The 401 body quotes: the Basic header, the password, the base64 of the
 * password alone; 403 quotes the bearer token and the ClickHouse key. */
static const char *routes =
        "{\"routes\": ["
        "{\"path\": \"/basic\", \"status\": 401, \"body\": \"denied: Authorization: Basic "
        "YWxpY2U6UHctNGU4YTFjOWI= (user alice, password Pw-4e8a1c9b, UHctNGU4YTFjOWI=)\"},"
        "{\"path\": \"/bearer\", \"status\": 403, \"body\": \"token Tok-77aa0b1c2d "
        "(VG9rLTc3YWEwYjFjMmQ=) refused; key Ck-Key-5d6e7f, user ro\"},"
        "{\"path\": \"/ok\", \"body\": \"password Pw-4e8a1c9b\"}"
        "]}";

struct fx {
        struct tu_httpd srv;
        struct http_client *c;
        int stop[2];
        struct coll_ctx ctx;
};

static int setup(void **state)
{
        struct fx *f = xcalloc(1, sizeof *f);

        if (tu_httpd_start(&f->srv, routes, false) != 0)
                return -1;
        f->c = http_client_new(NULL);
        if (pipe(f->stop) != 0)
                return -1;
        f->ctx.stop_fd = f->stop[0];
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        http_client_free(f->c);
        tu_httpd_stop(&f->srv);
        close(f->stop[0]);
        close(f->stop[1]);
        free(f);
        return 0;
}

static int get(struct fx *f, struct http_request *req, const char *path,
               struct http_response *r)
{
        struct err e;
        char *u = xasprintf("%s%s", f->srv.base_url, path);
        int rc;

        f->ctx.now_mono = clock_mono_ms();
        f->ctx.timeout_ms = 10000;
        f->ctx.deadline_mono = f->ctx.now_mono + f->ctx.timeout_ms;
        req->url = u;
        rc = http_do(f->c, &f->ctx, req, r, &e);
        free(u);
        return rc;
}

static void test_basic_echoed(void **state)
{
        struct fx *f = *state;
        struct http_request req = { .user = "alice", .password = "Pw-4e8a1c9b" };
        struct http_response r;

        assert_int_equal(get(f, &req, "/basic", &r), 0);
        assert_int_equal(r.status, 401);
        assert_string_equal(r.body, "denied: Authorization: Basic *** (user alice, "
                            "password ***, ***)");
        assert_int_equal(r.len, strlen(r.body));
        http_response_done(&r);
}

static void test_bearer_and_key_echoed(void **state)
{
        struct fx *f = *state;
        const char *hdrs[] = { "X-ClickHouse-User: ro", "X-ClickHouse-Key: Ck-Key-5d6e7f", NULL };
        struct http_request req = { .bearer = "Tok-77aa0b1c2d", .headers = hdrs };
        struct http_response r;

        assert_int_equal(get(f, &req, "/bearer", &r), 0);
        assert_int_equal(r.status, 403);
        assert_string_equal(r.body, "token *** (***) refused; key ***, user ro");
        http_response_done(&r);
}

static void test_success_body_untouched(void **state)
{
        struct fx *f = *state;
        struct http_request req = { .user = "alice", .password = "Pw-4e8a1c9b" };
        struct http_response r;

        assert_int_equal(get(f, &req, "/ok", &r), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "password Pw-4e8a1c9b");
        http_response_done(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic_echoed),
                cmocka_unit_test(test_bearer_and_key_echoed),
                cmocka_unit_test(test_success_body_untouched),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
