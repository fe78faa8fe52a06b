/*
 * test_runbook_run: the engine (src/runbook/runbook_run.h) with a scripted
 * driver: status documents from a table (the last one repeats; a NULL entry
 * is a source that is down), answers from a list, and a fake clock that
 * wait() advances, so nothing sleeps. Each test has its own temp
 * XDG_STATE_HOME (the ledger) and asserts the ledger's exact records (less
 * "at"). Mutating steps are `run` steps with /bin/true, /bin/false,
 * /bin/echo and /bin/mkdir (argv, no shell).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/util.h"
#include "runbook/ledger.h"
#include "runbook/runbook.h"
#include "runbook/runbook_run.h"

static char tmpdir[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)flag;
        (void)f;
        return remove(p);
}

static int setup(void **state)
{
        (void)state;
        snprintf(tmpdir, sizeof tmpdir, "/tmp/lo-test-rbrun.XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        setenv("XDG_STATE_HOME", tmpdir, 1);
        setenv("USER", "tester", 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- the scripted driver ----------------------------------------------------- */

struct sdrv {
        const char *docs[16];           /* status documents in turn; NULL = down */
        size_t n_docs, next_doc;
        int answers[16];                /* confirm/manual: RB_ANS_*; choose: an index */
        size_t n_ans, next_ans;
        int64_t now;                    /* the fake clock */
        int waits;
        int abort_at_wait;              /* wait() number that aborts (1-based), 0 never */
        int status_calls;
        char shown[16384];
        size_t shown_len;
        char typed[16][64];             /* confirm's typed word in turn; "-" for none */
        size_t n_typed;
        char labels[512];               /* choose's labels, each followed by '|' */
        int fail_answers[8];            /* failed(): RB_ANS_* in turn */
        size_t n_fail, next_fail;
        char failed[512];               /* failed()'s "step: error", each followed by '|' */
        bool left;                      /* left() */
};

static cJSON *s_status(void *arg, const char *source, struct err *err)
{
        struct sdrv *d = arg;
        const char *doc;

        d->status_calls++;
        assert_string_equal(source, "db");
        assert_true(d->n_docs > 0);
        doc = d->docs[d->next_doc < d->n_docs ? d->next_doc : d->n_docs - 1];
        d->next_doc++;
        if (!doc) {
                err_set(err, 5, "source down: connection refused");
                return NULL;
        }
        return cJSON_Parse(doc);
}

static void s_show(void *arg, const char *text)
{
        struct sdrv *d = arg;
        int n = snprintf(d->shown + d->shown_len, sizeof d->shown - d->shown_len, "%s\n", text);

        if (n > 0 && d->shown_len + (size_t)n < sizeof d->shown)
                d->shown_len += (size_t)n;
}

static int s_answer(struct sdrv *d)
{
        assert_true(d->next_ans < d->n_ans);    /* an unexpected question */
        return d->answers[d->next_ans++];
}

static enum runbook_answer s_confirm(void *arg, const char *plan, const char *typed)
{
        struct sdrv *d = arg;

        (void)plan;
        if (d->n_typed < 16)
                snprintf(d->typed[d->n_typed++], sizeof d->typed[0], "%s", typed ? typed : "-");
        return (enum runbook_answer)s_answer(arg);
}

static enum runbook_answer s_manual(void *arg, const char *text)
{
        (void)text;
        return (enum runbook_answer)s_answer(arg);
}

static int s_choose(void *arg, const char *const *labels, size_t n)
{
        struct sdrv *d = arg;

        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(d->labels);

                snprintf(d->labels + len, sizeof d->labels - len, "%s|", labels[i]);
        }
        assert_null(labels[n]);
        return s_answer(arg);
}

static bool s_wait(void *arg, int64_t ms)
{
        struct sdrv *d = arg;

        if (ms == 0)
                return false;   /* the engine's "aborted?" before each step */
        d->waits++;
        if (d->abort_at_wait && d->waits == d->abort_at_wait)
                return true;
        d->now += ms;
        return false;
}

static int64_t s_now(void *arg)
{
        return ((struct sdrv *)arg)->now;
}

static enum runbook_answer s_failed(void *arg, const char *step, const char *error)
{
        struct sdrv *d = arg;
        size_t len = strlen(d->failed);

        snprintf(d->failed + len, sizeof d->failed - len, "%s: %s|", step, error);
        assert_true(d->next_fail < d->n_fail);  /* an unexpected question */
        return (enum runbook_answer)d->fail_answers[d->next_fail++];
}

static bool s_left(void *arg)
{
        return ((struct sdrv *)arg)->left;
}

static struct runbook_driver driver(struct sdrv *d)
{
        struct runbook_driver drv = {
                .arg = d, .status = s_status, .show = s_show, .confirm = s_confirm,
                .manual = s_manual, .choose = s_choose, .wait = s_wait, .now_ms = s_now,
        };

        d->now = 1000000;
        return drv;
}

/* --- helpers ------------------------------------------------------------------ */

static struct runbook *load(const char *yaml)
{
        struct err err;
        struct runbook *rb;

        err_clear(&err);
        rb = runbook_load_string(yaml, strlen(yaml), "test.yaml", &err);
        if (!rb)
                fail_msg("load: %s", err.msg);
        return rb;
}

static void bind(const struct runbook *rb, struct runbook_inputs *in, const char *kv)
{
        struct err err;

        err_clear(&err);
        if (runbook_inputs_set(rb, in, kv, &err) != 0)
                fail_msg("input: %s", err.msg);
}

/* The run's records as compact JSON lines without "at"; "run" of the start
 * record becomes "RUN". Owned. */
static char *records(const char *run_id)
{
        struct err err;
        cJSON *recs, *r;
        char *out = xstrdup("");

        err_clear(&err);
        recs = ledger_read(run_id, NULL, &err);
        if (!recs)
                fail_msg("ledger_read: %s", err.msg);
        cJSON_ArrayForEach(r, recs) {
                char *line, *t;

                cJSON_DeleteItemFromObjectCaseSensitive(r, "at");
                if (cJSON_GetObjectItemCaseSensitive(r, "run"))
                        cJSON_ReplaceItemInObjectCaseSensitive(r, "run",
                                                               cJSON_CreateString("RUN"));
                line = cJSON_PrintUnformatted(r);
                t = xasprintf("%s%s\n", out, line);
                free(out);
                free(line);
                out = t;
        }
        cJSON_Delete(recs);
        return out;
}

static void assert_records(const char *run_id, const char *want)
{
        char *got = records(run_id);

        if (strcmp(got, want) != 0)
                fail_msg("records:\n%s\nwant:\n%s", got, want);
        free(got);
}

static int run(const struct runbook *rb, const struct runbook_inputs *in, struct sdrv *d,
               struct runbook_run_opts *o, char **run_id, struct err *err)
{
        struct runbook_driver drv = driver(d);

        err_clear(err);
        return runbook_run(rb, in, NULL, &drv, o, run_id, err);
}

/* The same with the console's hooks: failed() and left(). */
static int run_hooks(const struct runbook *rb, const struct runbook_inputs *in, struct sdrv *d,
                     struct runbook_run_opts *o, char **run_id, struct err *err)
{
        struct runbook_driver drv = driver(d);

        drv.failed = s_failed;
        drv.left = s_left;
        err_clear(err);
        return runbook_run(rb, in, NULL, &drv, o, run_id, err);
}

/* Where a run would resume (ledger_resume_point), -1 when it has ended. */
static long resume_point(const char *run_id, size_t n_steps)
{
        struct err err;
        cJSON *recs;
        long pt;

        err_clear(&err);
        recs = ledger_read(run_id, NULL, &err);
        assert_non_null(recs);
        pt = ledger_resume_point(recs, n_steps, NULL);
        cJSON_Delete(recs);
        return pt;
}

#define START_REC(rb) "{\"ev\":\"start\",\"run\":\"RUN\",\"runbook\":\"" rb "\",\"file\":" \
        "\"test.yaml\",\"user\":\"tester\",\"inputs\":{\"slot\":\"s1\"},\"target\":\"s1\"}\n"
#define STEP_START(id, i, kind, mut, att) "{\"ev\":\"step\",\"step\":\"" id "\",\"index\":" \
        #i ",\"kind\":\"" kind "\",\"mutating\":" mut ",\"phase\":\"start\",\"attempt\":" \
        #att ",\"user\":\"tester\"}\n"
#define STEP_END(id, i, kind, mut) "{\"ev\":\"step\",\"step\":\"" id "\",\"index\":" #i \
        ",\"kind\":\"" kind "\",\"mutating\":" mut ",\"phase\":\"end\","

/* --- tests ------------------------------------------------------------------- */

static const char plain_yaml[] =
        "id: plain\n"
        "title: A plain run\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: ready\n"
        "    check:\n"
        "      source: db\n"
        "      expr: 'ready == true and inputs.slot == \"s1\"'\n"
        "  - id: echo\n"
        "    run: [/bin/echo, 'hello ${slot}']\n"
        "  - id: look\n"
        "    manual: Look at ${slot}.\n"
        "verify:\n"
        "  - source: db\n"
        "    expr: 'lag < 10'\n"
        "    for: 4s\n"
        "    timeout: 1m\n";

/* check, run (confirmed), manual (done), verify held 4 s: every record. */
static void test_plain_run(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true,\"lag\":3}" }, .n_docs = 1,
                          .answers = { RB_ANS_YES, RB_ANS_YES }, .n_ans = 2 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_non_null(id);
        assert_int_equal(strncmp(id + 17, "plain-", 6), 0);
        assert_records(id,
                START_REC("plain")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"values\":\"ready = true, inputs.slot = \\\"s1\\\"\",\"user\":\"tester\","
                "\"duration_ms\":0,\"next\":1}\n"
                STEP_START("echo", 1, "run", "true", 1)
                STEP_END("echo", 1, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/echo\",\"hello s1\"],\"output_tail\":\"hello s1\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("look", 2, "manual", "false", 1)
                STEP_END("look", 2, "manual", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                "{\"ev\":\"verify\",\"index\":0,\"source\":\"db\",\"expr\":\"lag < 10\","
                "\"result\":\"ok\",\"values\":\"lag = 3\",\"duration_ms\":4000}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        /* verify: read at 0 s, 2 s and 4 s */
        assert_int_equal(d.waits, 2);
        assert_int_equal(d.next_ans, 2);
        assert_non_null(strstr(d.shown, "$ /bin/echo 'hello s1'\n"));
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char fail_yaml_fmt[] =
        "id: failing\n"
        "title: A failing check\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: ready\n"
        "    check:\n"
        "      source: db\n"
        "      expr: 'ready'\n"
        "    on_fail: %s\n"
        "  - id: after\n"
        "    run: [/bin/true]\n"
        "  - id: fix\n"
        "    run: [/bin/true]\n";

static struct runbook *load_fail(const char *on_fail)
{
        char *y = xasprintf(fail_yaml_fmt, on_fail);
        struct runbook *rb = load(y);

        free(y);
        return rb;
}

#define READY_FAILED "\"result\":\"failed\",\"attempt\":1,\"values\":\"ready = false\"," \
        "\"error\":\"does not hold: ready\",\"user\":\"tester\",\"duration_ms\":0"

/* on_fail: stop ends the run failed (1); nothing after the check runs. */
static void test_check_fails_stop(void **state)
{
        struct runbook *rb = load_fail("stop");
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":false}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 1);
        assert_string_equal(err.msg, "step ready failed: does not hold: ready");
        assert_records(id,
                START_REC("failing")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") READY_FAILED "}\n"
                "{\"ev\":\"end\",\"result\":\"failed\"}\n");
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* on_fail: continue goes on with the next step; the run is ok. */
static void test_check_fails_continue(void **state)
{
        struct runbook *rb = load_fail("continue");
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":false}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_records(id,
                START_REC("failing")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") READY_FAILED ",\"next\":1}\n"
                STEP_START("after", 1, "run", "true", 1)
                STEP_END("after", 1, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/true\"],\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("fix", 2, "run", "true", 1)
                STEP_END("fix", 2, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/true\"],\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* on_fail: fix jumps over `after`. */
static void test_check_fails_goto(void **state)
{
        struct runbook *rb = load_fail("fix");
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":false}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_records(id,
                START_REC("failing")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") READY_FAILED ",\"next\":2}\n"
                STEP_START("fix", 2, "run", "true", 1)
                STEP_END("fix", 2, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/true\"],\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* retries: 2 gives three attempts, each with its records, a 2 s pause
 * between them; then the failure stops the run. */
static void test_retries(void **state)
{
        static const char y[] =
                "id: retry\n"
                "title: Retries\n"
                "inputs:\n"
                "  - name: slot\n"
                "    type: target\n"
                "    target: slot\n"
                "steps:\n"
                "  - id: flaky\n"
                "    run: [/bin/false]\n"
                "    retries: 2\n";
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .n_docs = 0 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 1);
        assert_string_equal(err.msg, "step flaky failed: /bin/false: exited with status 1");
#define FLAKY_END "\"result\":\"failed\",\"attempt\":%d,\"argv\":[\"/bin/false\"]," \
        "\"error\":\"/bin/false: exited with status 1\",\"user\":\"tester\",\"duration_ms\":0"
        assert_records(id,
                START_REC("retry")
                STEP_START("flaky", 0, "run", "true", 1)
                STEP_END("flaky", 0, "run", "true") "\"result\":\"failed\",\"attempt\":1,"
                "\"argv\":[\"/bin/false\"],\"error\":\"/bin/false: exited with status 1\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":0}\n"
                STEP_START("flaky", 0, "run", "true", 2)
                STEP_END("flaky", 0, "run", "true") "\"result\":\"failed\",\"attempt\":2,"
                "\"argv\":[\"/bin/false\"],\"error\":\"/bin/false: exited with status 1\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":0}\n"
                STEP_START("flaky", 0, "run", "true", 3)
                STEP_END("flaky", 0, "run", "true") "\"result\":\"failed\",\"attempt\":3,"
                "\"argv\":[\"/bin/false\"],\"error\":\"/bin/false: exited with status 1\","
                "\"user\":\"tester\",\"duration_ms\":0}\n"
                "{\"ev\":\"end\",\"result\":\"failed\"}\n");
#undef FLAKY_END
        assert_int_equal(d.waits, 2);
        assert_int_equal(d.now, 1000000 + 2 * RUNBOOK_RETRY_MS);
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char wait_yaml_fmt[] =
        "id: waiting\n"
        "title: A wait\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: active\n"
        "    wait:\n"
        "      source: db\n"
        "      expr: 'any(slots, .name == inputs.slot and .active)'\n"
        "%s"
        "    timeout: %s\n";

#define SLOT_OFF "{\"slots\":[{\"name\":\"s1\",\"active\":false}]}"
#define SLOT_ON  "{\"slots\":[{\"name\":\"s1\",\"active\":true}]}"

/* The wait polls every 2 s through the driver and is done on the third
 * read, 4 s later by the fake clock. */
static void test_wait_becomes_true(void **state)
{
        char *y = xasprintf(wait_yaml_fmt, "", "1m");
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { SLOT_OFF, SLOT_OFF, SLOT_ON }, .n_docs = 3 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(d.status_calls, 3);
        assert_int_equal(d.waits, 2);
        assert_records(id,
                START_REC("waiting")
                STEP_START("active", 0, "wait", "false", 1)
                STEP_END("active", 0, "wait", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"values\":\"any(slots, .name == inputs.slot and .active) = true\","
                "\"user\":\"tester\",\"duration_ms\":4000,\"next\":1}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        assert_non_null(strstr(d.shown, "waiting: any(slots, .name == inputs.slot and "
                               ".active) = false\n"));
        free(id);
        free(y);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* `for: 4s`: a true value that goes false again starts over; the step
 * ends when it held 4 s. A source down counts as not true. */
static void test_wait_for_holds(void **state)
{
        char *y = xasprintf(wait_yaml_fmt, "      for: 4s\n", "1m");
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { SLOT_ON, NULL, SLOT_ON, SLOT_ON, SLOT_ON }, .n_docs = 5 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        /* true at 0, down at 2, true at 4, 6, 8: held from 4 to 8 */
        assert_int_equal(d.status_calls, 5);
        assert_int_equal(d.now, 1000000 + 8000);
        assert_non_null(strstr(d.shown, "waiting: db: source down: connection refused\n"));
        free(id);
        free(y);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* A wait that never holds fails at its timeout with the last values; an
 * abort in the driver's wait() aborts the run (2). */
static void test_wait_timeout_and_abort(void **state)
{
        char *y = xasprintf(wait_yaml_fmt, "", "5s");
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { SLOT_OFF }, .n_docs = 1 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL, *got;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 1);
        /* reads at 0, 2, 4 and 5 s */
        assert_int_equal(d.status_calls, 4);
        assert_string_equal(err.msg, "step active failed: timed out after 5s (any(slots, "
                            ".name == inputs.slot and .active) = false)");
        free(id);
        id = NULL;

        memset(&d, 0, sizeof d);
        d.docs[0] = SLOT_OFF;
        d.n_docs = 1;
        d.abort_at_wait = 2;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 2);
        got = records(id);
        assert_non_null(strstr(got, "\"result\":\"cancelled\",\"attempt\":1,\"values\":"));
        assert_non_null(strstr(got, "\"error\":\"aborted by the operator while waiting\""));
        assert_non_null(strstr(got, "{\"ev\":\"end\",\"result\":\"aborted\"}\n"));
        free(got);
        free(id);
        free(y);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char choose_yaml[] =
        "id: branches\n"
        "title: Branches\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: pick\n"
        "    choose:\n"
        "      - label: The consumer is alive\n"
        "        goto: restart\n"
        "      - label: The consumer is gone\n"
        "        goto: drop\n"
        "  - id: restart\n"
        "    run: [/bin/echo, restart]\n"
        "    on_fail: stop\n"
        "  - id: restarted\n"
        "    manual: Done restarting.\n"
        "  - id: drop\n"
        "    run: [/bin/echo, drop]\n";

/* The second branch goes to `drop`; the choice is recorded before the
 * choose step's end. */
static void test_choose(void **state)
{
        struct runbook *rb = load(choose_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .answers = { 1 }, .n_ans = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_records(id,
                START_REC("branches")
                STEP_START("pick", 0, "choose", "false", 1)
                "{\"ev\":\"choice\",\"step\":\"pick\",\"index\":0,\"label\":\"The consumer "
                "is gone\",\"goto\":\"drop\",\"goto_index\":3}\n"
                STEP_END("pick", 0, "choose", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                STEP_START("drop", 3, "run", "true", 1)
                STEP_END("drop", 3, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/echo\",\"drop\"],\"output_tail\":\"drop\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":4}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* A manual step answered no aborts the run (2); a choose answered -1 too. */
static void test_manual_declined(void **state)
{
        struct runbook *rb = load(choose_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .answers = { 0, RB_ANS_NO }, .n_ans = 2 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 2);
        assert_string_equal(err.msg, "not confirmed as done");
        assert_records(id,
                START_REC("branches")
                STEP_START("pick", 0, "choose", "false", 1)
                "{\"ev\":\"choice\",\"step\":\"pick\",\"index\":0,\"label\":\"The consumer "
                "is alive\",\"goto\":\"restart\",\"goto_index\":1}\n"
                STEP_END("pick", 0, "choose", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":1}\n"
                STEP_START("restart", 1, "run", "true", 1)
                STEP_END("restart", 1, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/echo\",\"restart\"],\"output_tail\":\"restart\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("restarted", 2, "manual", "false", 1)
                STEP_END("restarted", 2, "manual", "false") "\"result\":\"cancelled\","
                "\"attempt\":1,\"error\":\"not confirmed as done\",\"user\":\"tester\","
                "\"duration_ms\":0}\n"
                "{\"ev\":\"end\",\"result\":\"aborted\"}\n");
        free(id);
        id = NULL;

        memset(&d, 0, sizeof d);
        d.answers[0] = -1;
        d.n_ans = 1;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 2);
        assert_string_equal(err.msg, "no branch chosen");
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* Read-only: the check runs, the mutating run step is refused (77) and
 * recorded; nothing after it. A confirmation answered no aborts (2). */
static void test_read_only_refuses(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true,\"lag\":3}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .read_only = true, .yes = true };
        char *id = NULL, *got;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 77);
        assert_records(id,
                START_REC("plain")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"values\":\"ready = true, inputs.slot = \\\"s1\\\"\",\"user\":\"tester\","
                "\"duration_ms\":0,\"next\":1}\n"
                STEP_START("echo", 1, "run", "true", 1)
                STEP_END("echo", 1, "run", "true") "\"result\":\"refused\",\"attempt\":1,"
                "\"argv\":[\"/bin/echo\",\"hello s1\"],\"error\":\"refused: this step changes "
                "something and the run is read-only (--read-only or read_only: true)\","
                "\"user\":\"tester\",\"duration_ms\":0}\n"
                "{\"ev\":\"end\",\"result\":\"refused\"}\n");
        free(id);
        id = NULL;

        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":true,\"lag\":3}";
        d.n_docs = 1;
        d.answers[0] = RB_ANS_NO;
        d.n_ans = 1;
        o.read_only = false;
        o.yes = false;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 2);
        got = records(id);
        assert_non_null(strstr(got, "\"result\":\"cancelled\",\"attempt\":1,\"argv\":"
                               "[\"/bin/echo\",\"hello s1\"],\"error\":\"not confirmed\""));
        free(got);
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static bool runs_dir_exists(void)
{
        char *p = xasprintf("%s/lambdaops/runs", tmpdir);
        struct stat st;
        bool ok = stat(p, &st) == 0;

        free(p);
        return ok;
}

/* A dry run shows every step resolved and the checks' current values, asks
 * nothing, runs nothing and writes no ledger. */
static void test_dry_run(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true,\"lag\":12}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .dry_run = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_null(id);
        assert_false(runs_dir_exists());
        assert_int_equal(d.waits, 0);
        assert_string_equal(d.shown,
                "dry run: plain: A plain run (3 steps); nothing is changed\n"
                "step 1/3 ready (check)\n"
                "  db: ready == true and inputs.slot == \"s1\"\n"
                "  now: true (ready = true, inputs.slot = \"s1\")\n"
                "step 2/3 echo (run, mutating)\n"
                "  $ /bin/echo 'hello s1'\n"
                "step 3/3 look (manual)\n"
                "  Look at s1.\n"
                "verify 1/1\n"
                "  db: lag < 10\n"
                "  now: false (lag = 12)\n");
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* An unbound input: refused (64) before anything, even a dry run. */
static void test_unbound_input(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 64);
        assert_string_equal(err.msg, "input slot is not set; give --input slot=VALUE (a target)");
        o.dry_run = true;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 64);
        assert_null(id);
        assert_int_equal(d.status_calls, 0);
        assert_int_equal(d.shown_len, 0);
        assert_false(runs_dir_exists());
        runbook_free(rb);
}

/* Another run of the runbook on the same target holds the lock: 73. */
static void test_locked(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        struct ledger other;
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        err_clear(&err);
        assert_int_equal(ledger_create(&other, "other-run", "plain", "s1", &err), 0);
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 73);
        assert_non_null(strstr(err.msg, "run other-run of plain on s1 is in progress"));
        assert_null(id);
        assert_int_equal(d.status_calls, 0);
        ledger_close(&other);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char resume_yaml_fmt[] =
        "id: resumable\n"
        "title: Resume\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: ready\n"
        "    check:\n"
        "      source: db\n"
        "      expr: 'ready'\n"
        "  - id: make\n"
        "    run: [/bin/mkdir, '%s/made-${slot}']\n"
        "  - id: after\n"
        "    run: [/bin/echo, after]\n";

/* Keeps the first `lines` lines of the run's file, then `tail` (a cut line). */
static void cut_ledger(const char *id, int lines, const char *tail)
{
        char *p = xasprintf("%s/lambdaops/runs/%s.jsonl", tmpdir, id), buf[65536];
        FILE *f = fopen(p, "rb");
        size_t n, keep = 0;

        assert_non_null(f);
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (int k = 0; k < lines; k++) {
                char *nl = memchr(buf + keep, '\n', n - keep);

                assert_non_null(nl);
                keep = (size_t)(nl - buf) + 1;
        }
        f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, keep, f), keep);
        fputs(tail, f);
        fclose(f);
        free(p);
}

/* A crash after the mutating step's end record (and a line cut in the
 * middle): resume continues with the next step and never runs mkdir again
 * (it would fail: the directory exists). */
static void test_resume_after_crash(void **state)
{
        char *y = xasprintf(resume_yaml_fmt, tmpdir), *rb_id = NULL;
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 }, in2 = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL, *id2 = NULL, *made = xasprintf("%s/made-s1", tmpdir);
        struct err err;
        struct stat st;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(stat(made, &st), 0);
        /* start, ready start/end, make start/end, then the crash */
        cut_ledger(id, 5, "{\"ev\":\"step\",\"step\":\"after\",\"ind");

        err_clear(&err);
        assert_int_equal(runbook_run_load(id, &rb_id, &in2, &err), 0);
        assert_string_equal(rb_id, "resumable");
        assert_int_equal(in2.n, 1);
        assert_string_equal(in2.names[0], "slot");
        assert_string_equal(in2.values[0], "s1");
        o.resume = id;
        memset(&d, 0, sizeof d);
        assert_int_equal(run(rb, &in2, &d, &o, &id2, &err), 0);
        assert_string_equal(id2, id);
        assert_int_equal(d.status_calls, 0);
        {
                char *got = records(id), *tail = strstr(got, "{\"ev\":\"resume\"");

                assert_non_null(tail);
                assert_string_equal(tail,
                        "{\"ev\":\"resume\",\"from\":2,\"user\":\"tester\"}\n"
                        STEP_START("after", 2, "run", "true", 1)
                        STEP_END("after", 2, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                        "\"argv\":[\"/bin/echo\",\"after\"],\"output_tail\":\"after\","
                        "\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                        "{\"ev\":\"end\",\"result\":\"ok\"}\n");
                assert_null(strstr(tail, "\"step\":\"make\""));
                free(got);
        }
        /* An ended run has nothing to resume. */
        assert_int_equal(run(rb, &in2, &d, &o, NULL, &err), 66);
        free(id);
        free(id2);
        free(rb_id);
        free(made);
        free(y);
        runbook_inputs_done(&in);
        runbook_inputs_done(&in2);
        runbook_free(rb);
}

/* A crash after the mutating step's start record: on resume the engine
 * says so and asks, even with --yes; no (or skip) = skipped (recorded),
 * abort = the run stops and stays resumable. */
static void test_resume_interrupted(void **state)
{
        char *y = xasprintf(resume_yaml_fmt, tmpdir);
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL, *got;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        cut_ledger(id, 4, "");
        o.resume = id;
        memset(&d, 0, sizeof d);
        d.answers[0] = RB_ANS_ABORT;
        d.n_ans = 1;
        assert_int_equal(run(rb, &in, &d, &o, NULL, &err), 2);
        assert_non_null(strstr(d.shown, "Step make was interrupted: its change may or may not "
                               "have happened. Run it again?\n"));
        got = records(id);
        assert_null(strstr(got, "\"ev\":\"end\""));
        free(got);

        memset(&d, 0, sizeof d);
        /* The console's skip answers the question as no does. */
        d.answers[0] = RB_ANS_SKIP;
        d.n_ans = 1;
        assert_int_equal(run(rb, &in, &d, &o, NULL, &err), 0);
        got = records(id);
        assert_non_null(strstr(got,
                "{\"ev\":\"resume\",\"from\":1,\"user\":\"tester\"}\n"
                STEP_END("make", 1, "run", "true") "\"result\":\"skipped\",\"attempt\":0,"
                "\"error\":\"was interrupted: its change may or may not have happened\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("after", 2, "run", "true", 1)));
        assert_non_null(strstr(got, "{\"ev\":\"end\",\"result\":\"ok\"}\n"));
        free(got);
        free(id);
        free(y);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* A runbook edited since the run started (a step renamed): resume refuses
 * (66) rather than map old indices onto new steps. */
static void test_resume_runbook_changed(void **state)
{
        char *y = xasprintf(resume_yaml_fmt, tmpdir), *y2;
        struct runbook *rb = load(y), *rb2;
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL, *p;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        cut_ledger(id, 5, "");
        y2 = xstrdup(y);
        p = strstr(y2, "id: make");
        assert_non_null(p);
        memcpy(p, "id: mak2", 8);
        rb2 = load(y2);
        o.resume = id;
        memset(&d, 0, sizeof d);
        assert_int_equal(run(rb2, &in, &d, &o, NULL, &err), 66);
        assert_non_null(strstr(err.msg, "the runbook changed since the run started"));
        free(id);
        free(y);
        free(y2);
        runbook_inputs_done(&in);
        runbook_free(rb);
        runbook_free(rb2);
}

static const char next_yaml[] =
        "id: jumps\n"
        "title: Jumps on success\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: a\n"
        "    run: [/bin/echo, a]\n"
        "    next: pick\n"
        "  - id: skipped\n"
        "    run: [/bin/false]\n"
        "  - id: pick\n"
        "    choose:\n"
        "      - label: Drop ${slot}\n"
        "        goto: drop\n"
        "      - label: Keep ${slot} ($$5)\n"
        "        goto: keep\n"
        "  - id: drop\n"
        "    run: [/bin/echo, drop]\n"
        "    next: verify\n"
        "  - id: keep\n"
        "    run: [/bin/false]\n"
        "verify:\n"
        "  - source: db\n"
        "    expr: 'ready'\n";

#define NEXT_A \
        STEP_START("a", 0, "run", "true", 1) \
        STEP_END("a", 0, "run", "true") "\"result\":\"ok\",\"attempt\":1," \
        "\"argv\":[\"/bin/echo\",\"a\"],\"output_tail\":\"a\",\"user\":\"tester\"," \
        "\"duration_ms\":0,\"next\":2}\n"
#define NEXT_REST \
        STEP_START("pick", 2, "choose", "false", 1) \
        "{\"ev\":\"choice\",\"step\":\"pick\",\"index\":2,\"label\":\"Drop s1\"," \
        "\"goto\":\"drop\",\"goto_index\":3}\n" \
        STEP_END("pick", 2, "choose", "false") "\"result\":\"ok\",\"attempt\":1," \
        "\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n" \
        STEP_START("drop", 3, "run", "true", 1) \
        STEP_END("drop", 3, "run", "true") "\"result\":\"ok\",\"attempt\":1," \
        "\"argv\":[\"/bin/echo\",\"drop\"],\"output_tail\":\"drop\"," \
        "\"user\":\"tester\",\"duration_ms\":0,\"next\":5}\n" \
        "{\"ev\":\"verify\",\"index\":0,\"source\":\"db\",\"expr\":\"ready\"," \
        "\"result\":\"ok\",\"values\":\"ready = true\",\"duration_ms\":0}\n" \
        "{\"ev\":\"end\",\"result\":\"ok\"}\n"

/* next: skips `skipped` (it would fail) and records "next":2; next: verify
 * after `drop` skips `keep` and records n_steps (5); the choose labels
 * reach the driver, the ledger and the screen with ${slot} substituted
 * ("$$" a literal '$'). */
static void test_next(void **state)
{
        struct runbook *rb = load(next_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1, .answers = { 0 },
                          .n_ans = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_records(id, START_REC("jumps") NEXT_A NEXT_REST);
        assert_string_equal(d.labels, "Drop s1|Keep s1 ($5)|");
        assert_non_null(strstr(d.shown, "  chose: Drop s1\n"));
        assert_null(strstr(d.shown, "skipped"));
        assert_null(strstr(d.shown, "keep"));
        assert_int_equal(d.n_typed, 0);
        free(id);
        id = NULL;

        /* The dry run shows the labels substituted and where next: goes. */
        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":true}";
        d.n_docs = 1;
        o.dry_run = true;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_null(id);
        assert_non_null(strstr(d.shown, "step 1/5 a (run, mutating)\n  $ /bin/echo a\n"
                               "  then: pick\n"));
        assert_non_null(strstr(d.shown, "  1. Drop s1 -> drop\n  2. Keep s1 ($5) -> keep\n"));
        assert_non_null(strstr(d.shown, "  $ /bin/echo drop\n  then: verify\n"));
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* A crash right after the end record of a step that jumped: resume goes on
 * where the jump went (pick), never at the step after it in the list. */
static void test_next_resume(void **state)
{
        struct runbook *rb = load(next_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true}" }, .n_docs = 1, .answers = { 0 },
                          .n_ans = 1 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL, *id2 = NULL, *got, *tail;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        /* start, a start/end, then the crash */
        cut_ledger(id, 3, "{\"ev\":\"step\",\"step\":\"pi");
        o.resume = id;
        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":true}";
        d.n_docs = 1;
        d.answers[0] = 0;
        d.n_ans = 1;
        assert_int_equal(run(rb, &in, &d, &o, &id2, &err), 0);
        assert_string_equal(id2, id);
        got = records(id);
        tail = strstr(got, "{\"ev\":\"resume\"");
        assert_non_null(tail);
        assert_string_equal(tail, "{\"ev\":\"resume\",\"from\":2,\"user\":\"tester\"}\n"
                            NEXT_REST);
        assert_null(strstr(got, "\"step\":\"skipped\""));
        free(got);
        free(id);
        free(id2);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char danger_yaml[] =
        "id: dz\n"
        "title: A dangerous run step\n"
        "inputs:\n"
        "  - name: slot\n"
        "    type: target\n"
        "    target: slot\n"
        "steps:\n"
        "  - id: plain\n"
        "    run: [/bin/echo, plain]\n"
        "  - id: danger\n"
        "    run: [/bin/echo, 'drop ${slot}']\n"
        "    dangerous: true\n";

/* A dangerous run step's confirmation asks for the runbook's id typed; a
 * plain mutating one for none. Declined, the step is cancelled and the run
 * aborted (2); with --yes nothing is asked. */
static void test_dangerous_run(void **state)
{
        struct runbook *rb = load(danger_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .answers = { RB_ANS_YES, RB_ANS_YES }, .n_ans = 2 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL, *got;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(d.n_typed, 2);
        assert_string_equal(d.typed[0], "-");
        assert_string_equal(d.typed[1], "dz");
        got = records(id);
        assert_non_null(strstr(got, STEP_END("danger", 1, "run", "true") "\"result\":\"ok\""));
        free(got);
        free(id);
        id = NULL;

        memset(&d, 0, sizeof d);
        d.answers[0] = RB_ANS_YES;
        d.answers[1] = RB_ANS_NO;
        d.n_ans = 2;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 2);
        assert_string_equal(err.msg, "not confirmed");
        assert_string_equal(d.typed[1], "dz");
        got = records(id);
        assert_non_null(strstr(got, STEP_END("danger", 1, "run", "true")
                               "\"result\":\"cancelled\",\"attempt\":1,"
                               "\"argv\":[\"/bin/echo\",\"drop s1\"],\"error\":\"not confirmed\""));
        assert_non_null(strstr(got, "{\"ev\":\"end\",\"result\":\"aborted\"}\n"));
        free(got);
        free(id);
        id = NULL;

        memset(&d, 0, sizeof d);
        o.yes = true;
        assert_int_equal(run(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(d.n_typed, 0);
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

static const char danger_act_fmt[] =
        "id: da\n"
        "title: A dangerous action step\n"
        "steps:\n"
        "  - id: restart\n"
        "    action:\n"
        "      source: connect\n"
        "      action: restart\n"
        "      target: c1\n"
        "%s";

/* An action step's `dangerous` only adds care: Kafka Connect's restart
 * (not dangerous by itself) asks for a yes; marked dangerous it asks for
 * its context (the source's name) typed, and read-only still refuses it
 * (77) without asking. Declined, nothing is sent. */
static void test_dangerous_action(void **state)
{
        static const char cfg_yaml[] =
                "sources:\n"
                "  - name: connect\n"
                "    kind: kafka_connect\n"
                "    url: http://127.0.0.1:1\n";
        struct runbook_inputs in = { 0 };
        struct runbook_run_opts o = { 0 };
        struct runbook_driver drv;
        struct config *cfg;
        struct sdrv d;
        struct err err;
        char *id = NULL;

        (void)state;
        err_clear(&err);
        cfg = config_load_string(cfg_yaml, strlen(cfg_yaml), "t.yaml", &err);
        if (!cfg)
                fail_msg("%s", err.msg);
        for (int k = 0; k < 3; k++) {
                char *y = xasprintf(danger_act_fmt, k ? "    dangerous: true\n" : "");
                struct runbook *rb = load(y);

                memset(&d, 0, sizeof d);
                d.answers[0] = RB_ANS_NO;
                d.n_ans = 1;
                o.read_only = k == 2;
                drv = driver(&d);
                err_clear(&err);
                assert_int_equal(runbook_run(rb, &in, cfg, &drv, &o, &id, &err),
                                 k == 2 ? 77 : 2);
                if (k == 2) {
                        assert_int_equal(d.n_typed, 0);
                        assert_string_equal(err.msg, "step restart: refused: read-only: "
                                            "actions are disabled (--read-only or read_only: "
                                            "true)");
                } else {
                        assert_int_equal(d.n_typed, 1);
                        assert_string_equal(d.typed[0], k ? "connect" : "-");
                        assert_string_equal(err.msg, "not confirmed");
                }
                free(id);
                id = NULL;
                free(y);
                runbook_free(rb);
        }
        config_free(cfg);
}


/* RB_ANS_SKIP to a run step's confirm and to a manual step: neither runs,
 * each end is "skipped" with the step's success next, and the run goes on
 * to its verify and ends ok. */
static void test_skip_answer(void **state)
{
        struct runbook *rb = load(plain_yaml);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":true,\"lag\":3}" }, .n_docs = 1,
                          .answers = { RB_ANS_SKIP, RB_ANS_SKIP }, .n_ans = 2 };
        struct runbook_run_opts o = { 0 };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 0);
        assert_records(id,
                START_REC("plain")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") "\"result\":\"ok\",\"attempt\":1,"
                "\"values\":\"ready = true, inputs.slot = \\\"s1\\\"\",\"user\":\"tester\","
                "\"duration_ms\":0,\"next\":1}\n"
                STEP_START("echo", 1, "run", "true", 1)
                STEP_END("echo", 1, "run", "true") "\"result\":\"skipped\",\"attempt\":1,"
                "\"argv\":[\"/bin/echo\",\"hello s1\"],\"error\":\"skipped by the operator\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("look", 2, "manual", "false", 1)
                STEP_END("look", 2, "manual", "false") "\"result\":\"skipped\",\"attempt\":1,"
                "\"error\":\"skipped by the operator\",\"user\":\"tester\",\"duration_ms\":0,"
                "\"next\":3}\n"
                "{\"ev\":\"verify\",\"index\":0,\"source\":\"db\",\"expr\":\"lag < 10\","
                "\"result\":\"ok\",\"values\":\"lag = 3\",\"duration_ms\":4000}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        /* the skipped echo printed nothing */
        assert_null(strstr(d.shown, "hello s1\n"));
        assert_non_null(strstr(d.shown, "  skipped: skipped by the operator\n"));
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* failed(): asked once the check has failed for good (on_fail: stop).
 * Retry runs a second attempt at once (no pause); skip adds a "skipped" end
 * with the success next and the run goes on; no stops as without the
 * callback. Not asked for on_fail: continue. */
static void test_failed_hook(void **state)
{
        struct runbook *rb = load_fail("stop");
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { "{\"ready\":false}" }, .n_docs = 1,
                          .fail_answers = { RB_ANS_YES, RB_ANS_SKIP }, .n_fail = 2 };
        struct runbook_run_opts o = { .yes = true };
        char *id = NULL;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 0);
        assert_string_equal(d.failed, "ready: does not hold: ready|ready: does not hold: ready|");
        assert_int_equal(d.waits, 0);
        assert_records(id,
                START_REC("failing")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") READY_FAILED "}\n"
                STEP_START("ready", 0, "check", "false", 2)
                STEP_END("ready", 0, "check", "false") "\"result\":\"failed\",\"attempt\":2,"
                "\"values\":\"ready = false\",\"error\":\"does not hold: ready\","
                "\"user\":\"tester\",\"duration_ms\":0}\n"
                STEP_END("ready", 0, "check", "false") "\"result\":\"skipped\",\"attempt\":2,"
                "\"error\":\"skipped by the operator after it failed: does not hold: ready\","
                "\"user\":\"tester\",\"duration_ms\":0,\"next\":1}\n"
                STEP_START("after", 1, "run", "true", 1)
                STEP_END("after", 1, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/true\"],\"user\":\"tester\",\"duration_ms\":0,\"next\":2}\n"
                STEP_START("fix", 2, "run", "true", 1)
                STEP_END("fix", 2, "run", "true") "\"result\":\"ok\",\"attempt\":1,"
                "\"argv\":[\"/bin/true\"],\"user\":\"tester\",\"duration_ms\":0,\"next\":3}\n"
                "{\"ev\":\"end\",\"result\":\"ok\"}\n");
        free(id);
        id = NULL;

        /* no: the run stops, end "failed" */
        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":false}";
        d.n_docs = 1;
        d.fail_answers[0] = RB_ANS_NO;
        d.n_fail = 1;
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 1);
        assert_string_equal(err.msg, "step ready failed: does not hold: ready");
        assert_records(id,
                START_REC("failing")
                STEP_START("ready", 0, "check", "false", 1)
                STEP_END("ready", 0, "check", "false") READY_FAILED "}\n"
                "{\"ev\":\"end\",\"result\":\"failed\"}\n");
        free(id);
        id = NULL;
        runbook_free(rb);

        /* on_fail: continue: the runbook decides, failed() is not asked */
        rb = load_fail("continue");
        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":false}";
        d.n_docs = 1;
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(d.next_fail, 0);
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

/* left(): the operator left during a wait (wait() aborted): no end
 * record, the wait's end is "cancelled" without next, so the run resumes
 * at the wait; a later resume completes it. A prompt answered ABORT after
 * leaving does the same. */
static void test_left(void **state)
{
        char *y = xasprintf(wait_yaml_fmt, "", "1m");
        struct runbook *rb = load(y);
        struct runbook_inputs in = { 0 };
        struct sdrv d = { .docs = { SLOT_OFF }, .n_docs = 1, .abort_at_wait = 2, .left = true };
        struct runbook_run_opts o = { 0 };
        char *id = NULL, *got, *run_id;
        struct err err;

        (void)state;
        bind(rb, &in, "slot=s1");
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 2);
        got = records(id);
        assert_non_null(strstr(got, "\"result\":\"cancelled\",\"attempt\":1,\"values\":"));
        assert_null(strstr(got, "\"ev\":\"end\""));
        free(got);
        assert_non_null(strstr(err.msg, "stays resumable"));
        assert_int_equal(resume_point(id, rb->n_steps), 0);

        /* resumed: the wait holds now, the run ends ok */
        memset(&d, 0, sizeof d);
        d.docs[0] = SLOT_ON;
        d.n_docs = 1;
        run_id = id;
        o.resume = run_id;
        id = NULL;
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 0);
        assert_int_equal(resume_point(run_id, rb->n_steps), -1);
        free(id);
        free(run_id);
        runbook_free(rb);
        free(y);

        /* a manual step answered ABORT after leaving */
        rb = load(plain_yaml);
        memset(&d, 0, sizeof d);
        d.docs[0] = "{\"ready\":true,\"lag\":3}";
        d.n_docs = 1;
        d.answers[0] = RB_ANS_YES;
        d.answers[1] = RB_ANS_ABORT;
        d.n_ans = 2;
        d.left = true;
        memset(&o, 0, sizeof o);
        id = NULL;
        assert_int_equal(run_hooks(rb, &in, &d, &o, &id, &err), 2);
        got = records(id);
        assert_null(strstr(got, "\"ev\":\"end\""));
        free(got);
        assert_int_equal(resume_point(id, rb->n_steps), 2);
        free(id);
        runbook_inputs_done(&in);
        runbook_free(rb);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_plain_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_fails_stop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_fails_continue, setup, teardown),
                cmocka_unit_test_setup_teardown(test_check_fails_goto, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_becomes_true, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_for_holds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_wait_timeout_and_abort, setup, teardown),
                cmocka_unit_test_setup_teardown(test_choose, setup, teardown),
                cmocka_unit_test_setup_teardown(test_manual_declined, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_only_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unbound_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_after_crash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_resume_runbook_changed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_next, setup, teardown),
                cmocka_unit_test_setup_teardown(test_next_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dangerous_run, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dangerous_action, setup, teardown),
                cmocka_unit_test_setup_teardown(test_skip_answer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_hook, setup, teardown),
                cmocka_unit_test_setup_teardown(test_left, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
