/*
 * src/clients/http.c against a real HTTP(S) server (tests/lib/fixture_httpd.py): status
 * codes, headers and auth as the server saw them, deadlines, quit, the body
 * cap, TLS verification, and URL masking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/http.h"
#include "tu.h"
#include "tu_http.h"

static const char *routes =
        "{\"routes\": ["
        "{\"path\": \"/ok\", \"json\": {\"a\": 1}},"
        "{\"method\": \"POST\", \"path\": \"/post\", \"status\": 201, \"body\": \"made\"},"
        "{\"path\": \"/boom\", \"status\": 500, \"body\": \"Code: 60, e.displayText() = DB::Exception\"},"
        "{\"path\": \"/slow\", \"delay_ms\": 600000, \"body\": \"late\"},"
        "{\"path\": \"/big\", \"body\": \"0123456789012345678901234567890123456789\"},"
        "{\"path\": \"/seq\", \"times\": 1, \"body\": \"first\"},"
        "{\"path\": \"/seq\", \"body\": \"steady\"}"
        "]}";

struct fx {
        struct tu_httpd srv;
        struct http_client *c;
        int stop[2];
        struct coll_ctx ctx;
};

static void fx_ctx(struct fx *f, int64_t timeout_ms)
{
        f->ctx.stop_fd = f->stop[0];
        f->ctx.now_mono = clock_mono_ms();
        f->ctx.timeout_ms = timeout_ms;
        f->ctx.deadline_mono = f->ctx.now_mono + timeout_ms;
}

static int setup(void **state)
{
        struct fx *f = xcalloc(1, sizeof *f);

        if (tu_httpd_start(&f->srv, routes, false) != 0)
                return -1;
        f->c = http_client_new(NULL);
        if (pipe(f->stop) != 0)
                return -1;
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

static char *url(struct fx *f, const char *path)
{
        return xasprintf("%s%s", f->srv.base_url, path);
}

static void test_get_ok(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/ok?limit=5");
        struct http_request req = { .url = u };
        char *log;

        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"a\": 1}");
        assert_int_equal(r.len, 8);
        assert_string_equal(r.content_type, "application/json");
        http_response_done(&r);
        log = tu_httpd_requests(&f->srv);
        assert_non_null(strstr(log, "\"method\": \"GET\", \"path\": \"/ok\", \"query\": \"limit=5\""));
        assert_non_null(strstr(log, "\"user-agent\": \"lambdaops/" LO_VERSION "\""));
        free(log);
        free(u);
}

static void test_post_bearer_and_basic(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/post");
        const char *hdrs[] = { "X-ClickHouse-User: ro", NULL };
        struct http_request req = { .method = "POST", .url = u, .body = "{\"x\":2}",
                                    .bearer = "tok3n", .headers = hdrs };
        struct http_request basic = { .method = "POST", .url = u, .body = "q",
                                      .content_type = "text/plain",
                                      .user = "alice", .password = "s3cret" };
        char *log;

        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 201);
        assert_string_equal(r.body, "made");
        http_response_done(&r);
        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &basic, &r, &e), 0);
        assert_int_equal(r.status, 201);
        http_response_done(&r);
        log = tu_httpd_requests(&f->srv);
        assert_non_null(strstr(log, "\"authorization\": \"Bearer tok3n\""));
        assert_non_null(strstr(log, "\"x-clickhouse-user\": \"ro\""));
        assert_non_null(strstr(log, "\"content-type\": \"application/json\""));
        assert_non_null(strstr(log, "\"body\": \"{\\\"x\\\":2}\""));
        /* base64("alice:s3cret") */
        assert_non_null(strstr(log, "\"authorization\": \"Basic YWxpY2U6czNjcmV0\""));
        assert_non_null(strstr(log, "\"content-type\": \"text/plain\""));
        free(log);
        free(u);
}

static void test_error_status_is_a_response(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/boom");
        struct http_request req = { .url = u };

        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 500);
        assert_string_equal(r.body, "Code: 60, e.displayText() = DB::Exception");
        assert_string_equal(http_status_text(r.status), "Internal Server Error");
        http_response_done(&r);
        free(u);
}

static void test_sequence(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/seq");
        struct http_request req = { .url = u };
        const char *want[] = { "first", "steady", "steady" };

        for (size_t i = 0; i < 3; i++) {
                fx_ctx(f, 2000);
                assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), 0);
                assert_string_equal(r.body, want[i]);
                http_response_done(&r);
        }
        free(u);
}

static void test_deadline(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/slow");
        struct http_request req = { .url = u };
        int64_t t0 = clock_mono_ms(), took;

        fx_ctx(f, 300);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), -1);
        took = clock_mono_ms() - t0;
        assert_null(r.body);
        assert_int_equal(r.status, 0);
        char want[256];
        snprintf(want, sizeof want, "%s: timed out after 300 ms", u);
        assert_string_equal(e.msg, want);
        /* At the deadline, not before; the upper bound leaves room for a
         * loaded machine (the server would answer after ten minutes). */
        assert_true(took >= 290 && took < 60000);
        free(u);
}

/* Requests for /slow in the server's log so far. */
static int slow_requests(struct fx *f)
{
        char *log = tu_httpd_requests(&f->srv), *p = log;
        int n = 0;

        while (p && (p = strstr(p, "\"path\": \"/slow\"")) != NULL) {
                n++;
                p++;
        }
        free(log);
        return n;
}

/* A request that starts when the poll's deadline has already passed (an
 * earlier request used it up) fails at once, sends nothing, and its error
 * names the URL like a timeout inside the transfer. */
static void test_deadline_already_passed(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/slow");
        struct http_request req = { .url = u };
        char want[256];
        int before = slow_requests(f);

        fx_ctx(f, 300);
        f->ctx.deadline_mono = clock_mono_ms() - 1;
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), -1);
        assert_null(r.body);
        assert_int_equal(r.status, 0);
        snprintf(want, sizeof want, "%s: timed out after 300 ms", u);
        assert_string_equal(e.msg, want);
        assert_int_equal(slow_requests(f), before);
        free(u);
}

struct stopper_arg {
        struct fx *f;
        int before;             /* slow_requests() before the request */
        bool mid;               /* the server had the request when quit went */
};

/* Quit once the server has the request (mid-transfer: it answers after ten
 * minutes); after a minute without it, quit anyway (mid says which). */
static void *stopper(void *arg)
{
        struct stopper_arg *a = arg;
        int64_t end = clock_mono_ms() + 60000;
        char b = 1;

        while (!(a->mid = slow_requests(a->f) > a->before) && clock_mono_ms() < end)
                usleep(10 * 1000);
        assert_int_equal(write(a->f->stop[1], &b, 1), 1);
        return NULL;
}

static void test_quit_aborts(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/slow");
        struct http_request req = { .url = u };
        pthread_t th;
        struct stopper_arg sa = { .f = f, .before = slow_requests(f) };
        int64_t t0 = clock_mono_ms(), took;
        char b;

        /* A ten-minute timeout and a server that answers after ten minutes:
         * only quit ends the request within the one-minute bound. */
        fx_ctx(f, 600000);
        pthread_create(&th, NULL, stopper, &sa);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), -1);
        took = clock_mono_ms() - t0;
        pthread_join(th, NULL);
        assert_string_equal(e.msg, "stopping");
        assert_true(sa.mid);
        assert_true(took < 60000 + 60000);
        assert_int_equal(read(f->stop[0], &b, 1), 1);   /* re-arm for other tests */
        free(u);
}

static void test_body_cap(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        char *u = url(f, "/big");
        struct http_request req = { .url = u, .max_body = 16 };
        char want[256];

        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), -1);
        snprintf(want, sizeof want, "%s: response larger than 16 bytes", u);
        assert_string_equal(e.msg, want);
        assert_null(r.body);
        free(u);
}

static void test_refused(void **state)
{
        struct fx *f = *state;
        struct http_response r;
        struct err e;
        struct http_request req = { .url = "http://bob:pw@127.0.0.1:1/x" };

        fx_ctx(f, 2000);
        assert_int_equal(http_do(f->c, &f->ctx, &req, &r, &e), -1);
        assert_string_equal(e.msg,
                "http://***@127.0.0.1:1/x: connection refused: is the service running there?");
        assert_null(strstr(e.msg, "pw"));
}

static void test_tls(void **state)
{
        struct tu_httpd s;
        struct http_response r;
        struct err e;
        struct coll_ctx ctx = { .stop_fd = -1, .timeout_ms = 3000 };
        char *u, ca[320];

        (void)state;
        assert_int_equal(tu_httpd_start(&s, routes, true), 0);
        u = xasprintf("%s/ok", s.base_url);
        snprintf(ca, sizeof ca, "%s/cert.pem", s.dir);
        struct http_request req = { .url = u };

        /* Verification is on by default: a self-signed server is refused. */
        struct http_client *strict = http_client_new(NULL);
        ctx.deadline_mono = clock_mono_ms() + ctx.timeout_ms;
        assert_int_equal(http_do(strict, &ctx, &req, &r, &e), -1);
        assert_non_null(strstr(e.msg, "TLS verification failed"));
        http_client_free(strict);

        struct http_tls with_ca = { .ca_file = ca };
        struct http_client *good = http_client_new(&with_ca);
        ctx.deadline_mono = clock_mono_ms() + ctx.timeout_ms;
        assert_int_equal(http_do(good, &ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"a\": 1}");
        http_response_done(&r);
        http_client_free(good);

        char *pem = tu_read_file(ca, NULL);
        struct http_tls with_blob = { .ca_pem = pem };
        struct http_client *blob = http_client_new(&with_blob);
        ctx.deadline_mono = clock_mono_ms() + ctx.timeout_ms;
        assert_int_equal(http_do(blob, &ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 200);
        http_response_done(&r);
        http_client_free(blob);
        free(pem);

        struct http_tls insecure = { .insecure = true };
        struct http_client *ins = http_client_new(&insecure);
        ctx.deadline_mono = clock_mono_ms() + ctx.timeout_ms;
        assert_int_equal(http_do(ins, &ctx, &req, &r, &e), 0);
        assert_int_equal(r.status, 200);
        http_response_done(&r);
        http_client_free(ins);

        free(u);
        tu_httpd_stop(&s);
}

static void test_url_mask(void **state)
{
        static const struct { const char *in, *out; } cases[] = {
                { "http://127.0.0.1:8123/", "http://127.0.0.1:8123/" },
                { "https://u:p@h/x", "https://***@h/x" },
                { "https://u@h:1", "https://***@h:1" },
                { "http://h/path@x", "http://h/path@x" },
                { "no-scheme", "no-scheme" },
                { "", "" },
        };

        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *m = http_url_mask(cases[i].in);
                assert_string_equal(m, cases[i].out);
                free(m);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get_ok),
                cmocka_unit_test(test_deadline_already_passed),
                cmocka_unit_test(test_post_bearer_and_basic),
                cmocka_unit_test(test_error_status_is_a_response),
                cmocka_unit_test(test_sequence),
                cmocka_unit_test(test_deadline),
                cmocka_unit_test(test_quit_aborts),
                cmocka_unit_test(test_body_cap),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_tls),
                cmocka_unit_test(test_url_mask),
        };
        int rc;

        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = cmocka_run_group_tests(tests, setup, teardown);
        curl_global_cleanup();
        return rc;
}
