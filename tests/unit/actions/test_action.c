/*
 * Unit tests for src/actions/action.c and src/core/subproc.c: the audit line (every
 * field, parsed back with cJSON), the audit file (created 0600 with its
 * directories, appended to, one line per call), the read-only policy, the
 * audit path rules, plan text and masking, the action tables of the REST
 * kinds, and the subprocess helper (argv reaches the program verbatim --
 * shell metacharacters included --, output captured and bounded, a hung
 * program killed at its deadline).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka_connect.h"
#include "core/subproc.h"
#include "tu.h"
#include "core/util.h"

static char tmpdir[128];

static const struct action_audit sample = {
        .environment = "prod", .source = "connect-1", .kind = "kafka_connect",
        .action = "restart", .target = "pg-cdc", .via = "cli",
        .request = "POST /connectors/pg-cdc/restart?includeTasks=true&onlyFailed=true",
        .dry_run = false, .outcome = ACT_OK, .status = 202, .duration_ms = 37, .error = NULL,
};

static void test_audit_line(void **state)
{
        static const char *const order[] = { "time", "user", "host", "environment", "via",
                                             "source", "kind", "action", "target", "context",
                                             "request", "argv",
                                             "dry_run", "outcome", "status", "duration_ms",
                                             "error", "reason", "args" };
        char *s = action_audit_line(&sample, 1764165662123LL);
        cJSON *o = cJSON_Parse(s), *it;
        size_t i = 0;

        (void)state;
        assert_non_null(o);
        assert_null(strchr(s, '\n'));
        cJSON_ArrayForEach(it, o) {
                assert_true(i < LO_ARRAY_LEN(order));
                assert_string_equal(it->string, order[i]);
                i++;
        }
        assert_int_equal(i, LO_ARRAY_LEN(order));
        assert_string_equal(cJSON_GetObjectItem(o, "time")->valuestring,
                            "2025-11-26T14:01:02.123Z");
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "user")));
        assert_true(strlen(cJSON_GetObjectItem(o, "user")->valuestring) > 0);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "host")));
        assert_string_equal(cJSON_GetObjectItem(o, "environment")->valuestring, "prod");
        assert_string_equal(cJSON_GetObjectItem(o, "source")->valuestring, "connect-1");
        assert_string_equal(cJSON_GetObjectItem(o, "request")->valuestring, sample.request);
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "dry_run")));
        assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring, "ok");
        assert_int_equal(cJSON_GetObjectItem(o, "status")->valueint, 202);
        assert_int_equal(cJSON_GetObjectItem(o, "duration_ms")->valueint, 37);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "error")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "context")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "argv")));
        cJSON_Delete(o);
        free(s);

        /* A kubectl action: the context and each program's argv. */
        {
                struct action_audit a = sample;
                struct action_plan p;
                char *const a1[] = { "kubectl", "delete", "pod", "x; rm -rf /", NULL };
                char *const a2[] = { "kubectl", "get", "pods", NULL };
                cJSON *argv;

                action_plan_init(&p);
                action_plan_add_argv(&p, a1, 0);
                action_plan_add_argv(&p, a2, 5000);
                assert_int_equal(p.cmds[0].timeout_ms, ACTION_CMD_TIMEOUT_MS);
                assert_int_equal(p.cmds[1].timeout_ms, 5000);
                a.context = "prod-eu";
                a.cmds = p.cmds;
                a.n_cmds = p.n_cmds;
                s = action_audit_line(&a, 1764165662123LL);
                o = cJSON_Parse(s);
                assert_non_null(o);
                assert_string_equal(cJSON_GetObjectItem(o, "context")->valuestring, "prod-eu");
                argv = cJSON_GetObjectItem(o, "argv");
                assert_int_equal(cJSON_GetArraySize(argv), 2);
                assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(argv, 0)), 4);
                assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(argv, 0), 3)->valuestring,
                                    "x; rm -rf /");
                assert_string_equal(cJSON_GetArrayItem(cJSON_GetArrayItem(argv, 1), 2)->valuestring,
                                    "pods");
                cJSON_Delete(o);
                free(s);
                action_plan_done(&p);
        }

        /* Nulls where unknown. */
        {
                struct action_audit a = sample;

                a.status = 0;
                a.duration_ms = -1;
                a.request = NULL;
                a.outcome = ACT_REFUSED;
                a.error = "read-only: actions are disabled";
                s = action_audit_line(&a, 0);
                o = cJSON_Parse(s);
                assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "status")));
                assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "duration_ms")));
                assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "request")));
                assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring, "refused");
                assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring,
                                    "read-only: actions are disabled");
                cJSON_Delete(o);
                free(s);
        }
}

/* The reason of a refusal; the command line escaped and bounded; no
 * credential by shape in any free-text field. */
static void test_audit_refusal(void **state)
{
        char *long_word = xmalloc(1001), big[16];
        char *args[40] = { "act", "k8s", "tag", "ns/deployment/web", "--kubeconfig=/x",
                           "a\x1b[31mb\n\xff", NULL, "password=hunter2" };
        struct action_audit a = sample;
        cJSON *o, *arr;
        char *s, want[300];
        int n;

        (void)state;
        memset(long_word, 'x', 1000);
        long_word[1000] = '\0';
        args[6] = long_word;
        for (n = 8; n < 40; n++) {
                snprintf(big, sizeof big, "w%d", n);
                args[n] = xstrdup(big);
        }
        a.outcome = ACT_REFUSED;
        a.status = 64;
        a.reason = ACT_REASON_USAGE;
        a.error = "unknown option '--x': Authorization: Bearer abcdefgh12345678";
        a.request = "GET /x?password=hunter2";
        a.args = args;
        a.n_args = 40;
        s = action_audit_line(&a, 0);
        o = cJSON_Parse(s);
        assert_non_null(o);
        assert_null(strstr(s, "hunter2"));
        assert_null(strstr(s, "abcdefgh12345678"));
        assert_string_equal(cJSON_GetObjectItem(o, "reason")->valuestring, "usage");
        assert_string_equal(cJSON_GetObjectItem(o, "request")->valuestring,
                            "GET /x?password=***");
        arr = cJSON_GetObjectItem(o, "args");
        assert_int_equal(cJSON_GetArraySize(arr), ACTION_AUDIT_ARGS_MAX + 1);
        assert_string_equal(cJSON_GetArrayItem(arr, 4)->valuestring, "--kubeconfig=/x");
        assert_string_equal(cJSON_GetArrayItem(arr, 5)->valuestring, "a\\x1b[31mb\\x0a\\xff");
        memset(want, 'x', ACTION_AUDIT_ARG_BYTES);
        str_copy(want + ACTION_AUDIT_ARG_BYTES, "...", 4);
        assert_string_equal(cJSON_GetArrayItem(arr, 6)->valuestring, want);
        assert_string_equal(cJSON_GetArrayItem(arr, 7)->valuestring, "password=***");
        assert_string_equal(cJSON_GetArrayItem(arr, ACTION_AUDIT_ARGS_MAX)->valuestring,
                            "... (8 more)");
        cJSON_Delete(o);
        free(s);

        /* Not a refusal, no command line (the console): both null. */
        s = action_audit_line(&sample, 0);
        o = cJSON_Parse(s);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "reason")));
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "args")));
        cJSON_Delete(o);
        free(s);
        for (n = 8; n < 40; n++)
                free(args[n]);
        free(long_word);
}

static void test_audit_file(void **state)
{
        char path[256], *s;
        struct stat st;
        struct err e;
        size_t len, lines = 0;

        (void)state;
        snprintf(path, sizeof path, "%s/a/b/audit.jsonl", tmpdir);
        umask(022);
        assert_int_equal(action_audit(path, &sample, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        {
                char dir[256];
                snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
                assert_int_equal(stat(dir, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0700);
        }
        /* Appends, never truncates, even after the file is made wider. */
        chmod(path, 0644);
        assert_int_equal(action_audit(path, &sample, &e), 0);
        assert_int_equal(action_audit(path, &sample, &e), 0);
        s = tu_read_file(path, &len);
        assert_non_null(s);
        for (size_t i = 0; i < len; i++)
                if (s[i] == '\n')
                        lines++;
        assert_int_equal(lines, 3);
        assert_int_equal(s[len - 1], '\n');
        free(s);

        /* An unwritable place: -1 with a message naming the file. */
        assert_int_equal(action_audit("/proc/lambdaops-nope/audit.jsonl", &sample, &e), -1);
        assert_non_null(strstr(e.msg, "audit log"));
}

static void test_audit_path(void **state)
{
        struct config c = { 0 };
        char *p;

        (void)state;
        setenv("HOME", "/home/sre", 1);
        setenv("XDG_STATE_HOME", "/var/state", 1);
        p = action_audit_path(&c);
        assert_string_equal(p, "/var/state/lambdaops/audit.jsonl");
        free(p);
        unsetenv("XDG_STATE_HOME");
        p = action_audit_path(&c);
        assert_string_equal(p, "/home/sre/.local/state/lambdaops/audit.jsonl");
        free(p);
        c.audit_log = "~/ops/audit.jsonl";
        p = action_audit_path(&c);
        assert_string_equal(p, "/home/sre/ops/audit.jsonl");
        free(p);
        c.audit_log = "/srv/audit.jsonl";
        p = action_audit_path(&c);
        assert_string_equal(p, "/srv/audit.jsonl");
        free(p);
}

static void test_config_audit_log(void **state)
{
        const char *y = "audit_log: /srv/lambdaops/audit.jsonl\nsources:\n";
        const char *bad = "audit_log:\nsources:\n";
        const char *typo = "audit_logs: x\n";
        struct config *c;
        struct err e;

        (void)state;
        c = config_load_string(y, strlen(y), "t", &e);
        assert_non_null(c);
        assert_string_equal(c->audit_log, "/srv/lambdaops/audit.jsonl");
        config_free(c);
        c = config_load_string("sources:\n", 9, "t", &e);
        assert_non_null(c);
        assert_null(c->audit_log);
        config_free(c);
        assert_null(config_load_string(bad, strlen(bad), "t", &e));
        assert_null(config_load_string(typo, strlen(typo), "t", &e));
        assert_non_null(strstr(e.msg, "audit_log"));
}

static void test_policy(void **state)
{
        const struct action_def *d = action_find(&coll_kafka_connect_ops, "restart");
        const struct action_def ro = { .name = "logs", .flags = 0 };
        struct err e;

        (void)state;
        assert_non_null(d);
        assert_ptr_equal(action_for_key(&coll_kafka_connect_ops, 'R'), d);
        assert_null(action_find(&coll_kafka_connect_ops, "explode"));
        assert_true(action_allowed(d, false, &e));
        err_clear(&e);
        assert_false(action_allowed(d, true, &e));
        assert_string_equal(e.msg, "read-only: actions are disabled");
        assert_true(action_allowed(&ro, true, &e));
        /* Every action of every kind is complete. */
        for (size_t i = 0; collector_registry[i]; i++) {
                const struct action_def *a = collector_registry[i]->actions;
                for (; a && a->name; a++) {
                        assert_non_null(a->title);
                        assert_non_null(a->scope);
                        assert_non_null(a->prepare);
                        assert_non_null(a->run);
                        assert_true(a->key > 32 && a->key < 127);
                }
        }
}

static void test_plan_text(void **state)
{
        struct action_plan p;
        char *t, *s;

        (void)state;
        action_plan_init(&p);
        action_plan_add(&p, "POST", "http://admin:hunter2@h:8080/api/v1/dags/x/dagRuns",
                        "{\"conf\":{}}");
        action_plan_preview(&p, "would clear: %s", "load");
        p.note = xstrdup("then more");
        t = action_plan_text(&p);
        s = action_plan_summary(&p);
        assert_null(strstr(t, "hunter2"));
        assert_non_null(strstr(t, "POST http://***@h:8080/api/v1/dags/x/dagRuns"));
        assert_non_null(strstr(t, "  body: {\"conf\":{}}"));
        assert_non_null(strstr(t, "then more"));
        assert_non_null(strstr(t, "would clear: load"));
        assert_string_equal(s, "POST /api/v1/dags/x/dagRuns");
        free(t);
        free(s);
        action_plan_done(&p);
}

/* argv shown to people: plain words as they are, anything else single-
 * quoted so the line is unambiguous (it is never given to a shell). */
/* The plan's context is owned; copies of the programs keep it after the
 * plan went to the run phase (the TUI audits from the copy). */
static void test_plan_context_copy(void **state)
{
        struct action_plan p, c;
        char *const a1[] = { "kubectl", "--context", "prod-eu", "delete", "pod/x; y", NULL };
        char *t;

        (void)state;
        action_plan_init(&p);
        action_plan_init(&c);
        action_plan_add_argv(&p, a1, 7000);
        action_plan_set_context(&p, "prod-eu");
        action_plan_copy_cmds(&c, &p);
        action_plan_done(&p);
        assert_string_equal(c.context, "prod-eu");
        assert_int_equal(c.n_cmds, 1);
        assert_int_equal(c.cmds[0].argc, 5);
        assert_string_equal(c.cmds[0].argv[4], "pod/x; y");
        assert_null(c.cmds[0].argv[5]);
        assert_int_equal(c.cmds[0].timeout_ms, 7000);
        t = action_plan_text(&c);
        assert_string_equal(t, "$ kubectl --context prod-eu delete 'pod/x; y'\ncontext: prod-eu");
        free(t);
        action_plan_set_context(&c, NULL);
        assert_null(c.context);
        action_plan_done(&c);
}

static void test_argv_text(void **state)
{
        char *const a[] = { "kubectl", "--context=prod", "scale", "sts/kafka", "--replicas=3",
                            "", "it's", "a b", "$(x)", "x;y", NULL };
        char *t = action_argv_text(a);

        (void)state;
        assert_string_equal(t, "kubectl --context=prod scale sts/kafka --replicas=3 '' "
                               "'it'\\''s' 'a b' '$(x)' 'x;y'");
        free(t);
}

/* The programs of a plan run in order with their argv untouched, output
 * captured; the first failure stops the rest and names the program. */
static void test_run_cmds(void **state)
{
        struct action_plan p;
        struct action_result r;
        struct action_ctx x = { 0 };
        char mark[256];
        char *const ok[] = { "printf", "%s|", "a b", "$(touch /tmp/never)", NULL };
        char *const fail[] = { "sh", "-c", "echo out; exit 3", NULL };
        char *touch[] = { "touch", mark, NULL };

        (void)state;
        snprintf(mark, sizeof mark, "%s/ran", tmpdir);
        action_plan_init(&p);
        action_plan_add_argv(&p, ok, 0);
        action_plan_add_argv(&p, fail, 0);
        action_plan_add_argv(&p, touch, 0);
        action_result_init(&r);
        action_run_cmds(&x, &p, &r);
        assert_int_equal(r.outcome, ACT_FAILED);
        assert_int_equal(r.status, 3);
        /* The last line of its output says why. */
        assert_string_equal(r.err.msg, "sh exited with status 3: out");
        assert_non_null(strstr(r.output, "a b|$(touch /tmp/never)|"));
        assert_non_null(strstr(r.output, "$ sh -c 'echo out; exit 3'\nout"));
        assert_int_equal(access(mark, F_OK), -1);       /* stopped before the third */
        assert_string_equal(r.requests, "printf '%s|' 'a b' '$(touch /tmp/never)'; "
                                        "sh -c 'echo out; exit 3'");
        action_result_done(&r);

        /* All good: ok, status 0, every program ran. */
        action_plan_done(&p);
        action_plan_init(&p);
        action_plan_add_argv(&p, ok, 0);
        action_plan_add_argv(&p, touch, 0);
        action_result_init(&r);
        action_run_cmds(&x, &p, &r);
        assert_int_equal(r.outcome, ACT_OK);
        assert_int_equal(r.status, 0);
        assert_int_equal(access(mark, F_OK), 0);
        action_result_done(&r);

        /* A program that does not exist: failed, 127, named. */
        action_plan_done(&p);
        action_plan_init(&p);
        {
                char *const none[] = { "/nonexistent/kubectl", "get", NULL };
                action_plan_add_argv(&p, none, 0);
        }
        action_result_init(&r);
        action_run_cmds(&x, &p, &r);
        assert_int_equal(r.outcome, ACT_FAILED);
        assert_int_equal(r.status, 127);
        assert_non_null(strstr(r.err.msg, "/nonexistent/kubectl"));
        action_result_done(&r);
        action_plan_done(&p);
}

/* Dry run of a Connect action: a plan, and not a single request. The url
 * points at a listener of ours that never answers: a request would hang the
 * prepare, and its connection would wait in the listener's queue, which
 * must stay empty. */
static void test_dry_run_no_request(void **state)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t alen = sizeof a;
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct config *c;
        struct action_plan p;
        struct err e;
        char *y;

        (void)state;
        assert_true(lfd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(lfd, 16), 0);
        assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
        y = xasprintf("sources:\n  - name: c\n    kind: kafka_connect\n"
                      "    url: http://127.0.0.1:%d/\n", ntohs(a.sin_port));
        c = config_load_string(y, strlen(y), "t", &e);
        free(y);
        assert_non_null(c);
        for (const struct action_def *d = coll_kafka_connect_ops.actions; d->name; d++) {
                assert_int_equal(action_prepare(d, &c->sources[0], "a b/c", NULL, true, &p, &e),
                                 0);
                assert_int_equal(p.n, 1);
                assert_non_null(strstr(p.reqs[0].url, "/connectors/a%20b%2Fc/"));
                action_plan_done(&p);
        }
        /* Nobody connected. */
        assert_int_equal(accept(lfd, NULL, NULL), -1);
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        close(lfd);
        config_free(c);
}

/* --- subproc ------------------------------------------------------------- */

static void test_subproc_argv_verbatim(void **state)
{
        char *const argv[] = { "/bin/sh", "-c", "printf '[%s]' \"$@\"", "sh",
                               "; rm -rf x", "$(id)", "a b", "`echo hi`", "*", NULL };
        struct subproc_result r;
        struct err e;

        (void)state;
        assert_int_equal(subproc_run(argv, 0, 5000, -1, &r, &e), 0);
        assert_int_equal(r.exit_code, 0);
        assert_string_equal(r.out, "[; rm -rf x][$(id)][a b][`echo hi`][*]");
        subproc_result_done(&r);
}

static void test_subproc_echo_and_stderr(void **state)
{
        char *const echo[] = { "echo", "hello", "; ls", NULL };
        char *const both[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
        char *const nope[] = { "/nonexistent/lambdaops-tool", NULL };
        struct subproc_result r;
        struct err e;

        (void)state;
        assert_int_equal(subproc_run(echo, 0, 5000, -1, &r, &e), 0);   /* PATH lookup */
        assert_string_equal(r.out, "hello ; ls\n");
        subproc_result_done(&r);
        assert_int_equal(subproc_run(both, 0, 5000, -1, &r, &e), 0);
        assert_int_equal(r.exit_code, 3);
        assert_non_null(strstr(r.out, "out\n"));
        assert_non_null(strstr(r.out, "err\n"));
        subproc_result_done(&r);
        err_clear(&e);
        assert_int_equal(subproc_run(nope, 0, 5000, -1, &r, &e), -1);
        assert_non_null(strstr(e.msg, "cannot run"));
        subproc_result_done(&r);
}

static void test_subproc_bounded(void **state)
{
        char *const argv[] = { "/bin/sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x", NULL };
        struct subproc_result r;
        struct err e;

        (void)state;
        assert_int_equal(subproc_run(argv, 1000, 5000, -1, &r, &e), 0);
        assert_int_equal(r.exit_code, 0);       /* drained: never blocked on the pipe */
        assert_int_equal(r.len, 1000);
        assert_true(r.truncated);
        assert_int_equal(strlen(r.out), 1000);
        subproc_result_done(&r);
}

/* A child that would sleep for 300 s is ended at the timeout: the bounds
 * (150 s) tell the timeout from the child's own end, with room for a
 * loaded machine. */
static void test_subproc_timeout(void **state)
{
        char *const argv[] = { "/bin/sh", "-c", "echo started; exec sleep 300", NULL };
        char *const sleeper[] = { "sleep", "300", NULL };
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        struct subproc_result r;
        struct err e;
        int64_t t0 = clock_mono_ms();

        (void)state;
        /* 2 s: many times what the shell needs to print "started" (the
         * output before the timeout is kept). */
        assert_int_equal(subproc_run(argv, 0, 2000, -1, &r, &e), 0);
        assert_true(r.timed_out);
        assert_int_equal(r.exit_code, 128 + 15);
        assert_string_equal(r.out, "started\n");
        assert_true(clock_mono_ms() - t0 >= 2000);
        assert_true(clock_mono_ms() - t0 < 150000);
        assert_non_null(strstr(e.msg, "timeout"));
        subproc_result_done(&r);
        /* SIGTERM ignored: SIGKILL after the grace period. The child ignores
         * it from its first instruction (an ignored signal stays ignored
         * across exec), so no race with a shell's trap. */
        assert_int_equal(sigaction(SIGTERM, &ign, &old), 0);
        t0 = clock_mono_ms();
        assert_int_equal(subproc_run(sleeper, 0, 300, -1, &r, &e), 0);
        assert_int_equal(sigaction(SIGTERM, &old, NULL), 0);
        assert_true(r.timed_out);
        assert_int_equal(r.exit_code, 128 + 9);
        assert_true(clock_mono_ms() - t0 < 150000);
        subproc_result_done(&r);
}

static int group_setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof tmpdir, "/tmp/lo-test-action-XXXXXX");
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
        char cmd[256];

        (void)state;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_audit_line),
                cmocka_unit_test(test_audit_refusal),
                cmocka_unit_test(test_audit_file),
                cmocka_unit_test(test_audit_path),
                cmocka_unit_test(test_config_audit_log),
                cmocka_unit_test(test_policy),
                cmocka_unit_test(test_plan_text),
                cmocka_unit_test(test_argv_text),
                cmocka_unit_test(test_plan_context_copy),
                cmocka_unit_test(test_run_cmds),
                cmocka_unit_test(test_dry_run_no_request),
                cmocka_unit_test(test_subproc_argv_verbatim),
                cmocka_unit_test(test_subproc_echo_and_stderr),
                cmocka_unit_test(test_subproc_bounded),
                cmocka_unit_test(test_subproc_timeout),
        };

        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
