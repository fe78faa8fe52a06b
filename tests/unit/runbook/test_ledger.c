/*
 * test_ledger: the run ledger (src/runbook/ledger.h), each test in its own
 * temp XDG_STATE_HOME: the directory and ids; exact records written and
 * read back (redacted, bounded, "at" added, 0600/0700); a line cut by a
 * crash (skipped and counted, the next append on a fresh line); the lock
 * (the exact refusal naming the holder's run and pid, another target free,
 * released by ledger_close and by the death of a killed child); the resume
 * rule over hand-written record sequences; the run list's order and
 * fields; hostile files (garbage, huge lines, NUL bytes, bad ids).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "runbook/ledger.h"

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
        snprintf(tmpdir, sizeof tmpdir, "/tmp/lo-test-ledger.XXXXXX");
        if (!mkdtemp(tmpdir))
                return -1;
        setenv("XDG_STATE_HOME", tmpdir, 1);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *runs_path(const char *name)
{
        return xasprintf("%s/lambdaops/runs/%s", tmpdir, name);
}

static void write_file(const char *name, const char *data, size_t n)
{
        char *p = runs_path(name), *d = runs_path(""), *top = xasprintf("%s/lambdaops", tmpdir);
        FILE *f;

        mkdir(top, 0700);
        mkdir(d, 0700);
        free(top);
        f = fopen(p, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, n, f), n);
        fclose(f);
        free(p);
        free(d);
}

static void write_str(const char *name, const char *s)
{
        write_file(name, s, strlen(s));
}

static char *file_text(const char *name, size_t *len)
{
        char *p = runs_path(name), *buf;
        FILE *f = fopen(p, "rb");
        size_t n = 0;

        assert_non_null(f);
        buf = xmalloc(LEDGER_LINE_MAX * 2);
        n = fread(buf, 1, LEDGER_LINE_MAX * 2 - 1, f);
        buf[n] = '\0';
        fclose(f);
        free(p);
        if (len)
                *len = n;
        return buf;
}

static void append_text(struct ledger *l, const char *json)
{
        struct err err;
        cJSON *j = cJSON_Parse(json);

        assert_non_null(j);
        err_clear(&err);
        if (ledger_append(l, j, &err) != 0)
                fail_msg("%s", err.msg);
        cJSON_Delete(j);
}

static char *print_record(const cJSON *arr, int i)
{
        return cJSON_PrintUnformatted(cJSON_GetArrayItem(arr, i));
}

static void test_dir_and_ids(void **state)
{
        char *d, *id, *want;

        (void)state;
        d = ledger_dir();
        want = xasprintf("%s/lambdaops/runs", tmpdir);
        assert_string_equal(d, want);
        free(d);
        free(want);
        /* a relative XDG_STATE_HOME is ignored, as the XDG spec says */
        setenv("XDG_STATE_HOME", "rel/state", 1);
        setenv("HOME", "/home/op", 1);
        d = ledger_dir();
        assert_string_equal(d, "/home/op/.local/state/lambdaops/runs");
        free(d);
        setenv("XDG_STATE_HOME", tmpdir, 1);

        id = ledger_new_id("cdc-slot-inactive");
        /* YYYYMMDDTHHMMSSZ-cdc-slot-inactive-XXXX */
        assert_int_equal(strlen(id), 16 + 1 + 17 + 1 + 4);
        assert_int_equal(id[8], 'T');
        assert_int_equal(id[15], 'Z');
        assert_memory_equal(id + 16, "-cdc-slot-inactive-", 19);
        for (int i = 0; i < 8; i++)
                assert_true(id[i] >= '0' && id[i] <= '9');
        for (int i = 35; i < 39; i++)
                assert_non_null(strchr("0123456789abcdef", id[i]));
        assert_true(ledger_id_valid(id));
        free(id);

        assert_false(ledger_id_valid(NULL));
        assert_false(ledger_id_valid(""));
        assert_false(ledger_id_valid("../etc/passwd"));
        assert_false(ledger_id_valid("a/b"));
        assert_false(ledger_id_valid(".hidden"));
        assert_false(ledger_id_valid("a b"));
        assert_true(ledger_id_valid("20260101T000000Z-x-00ff"));
}

static void test_records_round_trip(void **state)
{
        struct ledger l;
        struct err err;
        struct stat st;
        cJSON *recs, *r;
        size_t cut = 99, len;
        char *s, *p, *big, *text, *json;
#define ID1 "20260101T000000Z-rb-0001"
        const char *id = ID1;

        (void)state;
        err_clear(&err);
        assert_int_equal(ledger_create(&l, id, "rb", "orders-db/slot_1", &err), 0);
        assert_non_null(l.path);
        append_text(&l, "{\"ev\":\"start\",\"run\":\"20260101T000000Z-rb-0001\",\"runbook\":"
                    "\"rb\",\"user\":\"op\",\"inputs\":{\"slot\":\"slot_1\",\"n\":3},"
                    "\"at\":\"A0\",\"target\":\"orders-db/slot_1\"}");
        append_text(&l, "{\"ev\":\"step\",\"step\":\"s0\",\"index\":0,\"phase\":\"end\","
                    "\"result\":\"failed\",\"error\":\"401: Authorization: Bearer "
                    "eyJhbGciOiJSUzI1NiJ9.e30.sig\",\"argv\":[\"psql\","
                    "\"password=hunter2 host=x\"],\"at\":\"A1\"}");
        /* "at" added when missing */
        append_text(&l, "{\"ev\":\"verify\"}");
        /* bounds: output_tail keeps its end, other strings their start */
        big = xmalloc(10001);
        memset(big, 'a', 10000);
        big[10000] = '\0';
        memcpy(big + 10000 - 3, "END", 3);
        memcpy(big, "BEG", 3);
        r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "ev", "step");
        cJSON_AddStringToObject(r, "output_tail", big);
        cJSON_AddStringToObject(r, "values", big);
        cJSON_AddStringToObject(r, "at", "A3");
        assert_int_equal(ledger_append(&l, r, &err), 0);
        cJSON_Delete(r);
        free(big);

        assert_int_equal(stat(l.path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        p = runs_path("");
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        free(p);
        ledger_close(&l);
        assert_int_equal(l.fd, -1);
        assert_int_equal(l.lock_fd, -1);
        ledger_close(&l);               /* idempotent */

        recs = ledger_read(id, &cut, &err);
        assert_non_null(recs);
        assert_int_equal(cut, 0);
        assert_int_equal(cJSON_GetArraySize(recs), 4);
        s = print_record(recs, 0);
        assert_string_equal(s, "{\"ev\":\"start\",\"run\":\"20260101T000000Z-rb-0001\","
                            "\"runbook\":\"rb\",\"user\":\"op\",\"inputs\":{\"slot\":\"slot_1\","
                            "\"n\":3},\"at\":\"A0\",\"target\":\"orders-db/slot_1\"}");
        cJSON_free(s);
        s = print_record(recs, 1);
        assert_string_equal(s, "{\"ev\":\"step\",\"step\":\"s0\",\"index\":0,\"phase\":\"end\","
                            "\"result\":\"failed\",\"error\":\"401: Authorization: Bearer ***\","
                            "\"argv\":[\"psql\",\"password=*** host=x\"],\"at\":\"A1\"}");
        cJSON_free(s);
        r = cJSON_GetArrayItem(recs, 2);
        s = cJSON_GetObjectItem(r, "at")->valuestring;
        /* RFC3339 UTC with milliseconds: 2026-11-26T14:01:02.123Z */
        assert_int_equal(strlen(s), 24);
        assert_int_equal(s[10], 'T');
        assert_int_equal(s[23], 'Z');
        r = cJSON_GetArrayItem(recs, 3);
        s = cJSON_GetObjectItem(r, "output_tail")->valuestring;
        assert_int_equal(strlen(s), LEDGER_TEXT_MAX);
        assert_string_equal(s + LEDGER_TEXT_MAX - 3, "END");
        s = cJSON_GetObjectItem(r, "values")->valuestring;
        assert_int_equal(strlen(s), LEDGER_TEXT_MAX);
        assert_memory_equal(s, "BEG", 3);
        cJSON_Delete(recs);

        /* the file is exactly one line per record, no secret in it */
        text = file_text(ID1 ".jsonl", &len);
        assert_null(strstr(text, "hunter2"));
        assert_null(strstr(text, "e30.sig"));
        json = strchr(text, '\n');
        assert_non_null(json);
        assert_int_equal(text[len - 1], '\n');
        {
                int lines = 0;

                for (size_t i = 0; i < len; i++)
                        lines += text[i] == '\n';
                assert_int_equal(lines, 4);
        }
        free(text);

        /* the id exists now: a second create with it is EEXIST (lock is free) */
        assert_int_equal(ledger_create(&l, id, "rb", "other", &err), -1);
        assert_int_equal(err.code, EEXIST);
        ledger_close(&l);
        /* and ledger_new_id never hands out an existing id */
        s = ledger_new_id("rb");
        assert_string_not_equal(s, id);
        free(s);
}

static void test_cut_line(void **state)
{
        static const char data[] =
                "{\"ev\":\"start\",\"runbook\":\"rb\",\"target\":\"t\",\"at\":\"A0\"}\n"
                "{\"ev\":\"step\",\"step\":\"a\",\"index\":0,\"phase\":\"start\",\"at\":\"A1\"}\n"
                "{\"ev\":\"step\",\"step\":\"a\",\"ind";
        const char *id = "20260101T000000Z-rb-cccc";
        struct ledger l;
        struct err err;
        cJSON *recs;
        size_t cut = 0, len;
        char *text, *want;

        (void)state;
        write_file("20260101T000000Z-rb-cccc.jsonl", data, sizeof data - 1);
        recs = ledger_read(id, &cut, &err);
        assert_non_null(recs);
        assert_int_equal(cJSON_GetArraySize(recs), 2);
        assert_int_equal(cut, 1);
        assert_int_equal(ledger_resume_point(recs, 3, NULL), 0);
        assert_true(ledger_step_interrupted(recs));
        cJSON_Delete(recs);

        err_clear(&err);
        if (ledger_open(&l, id, &err) != 0)
                fail_msg("%s", err.msg);
        append_text(&l, "{\"ev\":\"resume\",\"at\":\"A2\"}");
        append_text(&l, "{\"ev\":\"end\",\"result\":\"aborted\",\"at\":\"A3\"}");
        ledger_close(&l);
        text = file_text("20260101T000000Z-rb-cccc.jsonl", &len);
        want = xasprintf("%s\n{\"ev\":\"resume\",\"at\":\"A2\"}\n"
                         "{\"ev\":\"end\",\"result\":\"aborted\",\"at\":\"A3\"}\n", data);
        assert_string_equal(text, want);
        free(text);
        free(want);
        recs = ledger_read(id, &cut, &err);
        assert_int_equal(cJSON_GetArraySize(recs), 4);
        assert_int_equal(cut, 1);
        assert_int_equal(ledger_resume_point(recs, 3, NULL), -1);
        cJSON_Delete(recs);

        /* a last line cut just before its '\n' is whole: it counts */
        write_str("20260101T000000Z-rb-dddd.jsonl", "{\"ev\":\"start\",\"runbook\":\"rb\"}");
        recs = ledger_read("20260101T000000Z-rb-dddd", &cut, &err);
        assert_int_equal(cJSON_GetArraySize(recs), 1);
        assert_int_equal(cut, 0);
        cJSON_Delete(recs);

        /* no start record: nothing to resume */
        write_str("20260101T000000Z-rb-eeee.jsonl", "{\"ev\":\"ste");
        assert_int_equal(ledger_open(&l, "20260101T000000Z-rb-eeee", &err), -1);
        assert_int_equal(err.code, EINVAL);
        assert_string_equal(err.msg, "run 20260101T000000Z-rb-eeee has no start record: it "
                            "never began, there is nothing to resume");
        ledger_close(&l);
        assert_int_equal(ledger_open(&l, "20260101T000000Z-rb-ffff", &err), -1);
        assert_int_equal(err.code, ENOENT);
        ledger_close(&l);
}

static void test_lock(void **state)
{
        struct ledger a, b, c;
        struct err err;
        char *want;

        (void)state;
        err_clear(&err);
        assert_int_equal(ledger_create(&a, "20260101T000000Z-rb-000a", "rb", "db/slot 1", &err),
                         0);
        append_text(&a, "{\"ev\":\"start\",\"runbook\":\"rb\",\"target\":\"db/slot 1\"}");
        assert_int_equal(ledger_create(&b, "20260101T000000Z-rb-000b", "rb", "db/slot 1", &err),
                         -1);
        assert_int_equal(err.code, EWOULDBLOCK);
        want = xasprintf("run 20260101T000000Z-rb-000a of rb on db/slot 1 is in progress "
                         "(pid %ld); wait for it to end, or resume that run when its process "
                         "is gone", (long)getpid());
        assert_string_equal(err.msg, want);
        free(want);
        ledger_close(&b);
        /* the refused run left no file */
        assert_int_equal(ledger_read("20260101T000000Z-rb-000b", NULL, &err), NULL);
        assert_int_equal(err.code, ENOENT);
        /* resuming the run that holds the lock is refused too */
        assert_int_equal(ledger_open(&b, "20260101T000000Z-rb-000a", &err), -1);
        assert_int_equal(err.code, EWOULDBLOCK);
        ledger_close(&b);
        /* another target, another runbook: free */
        assert_int_equal(ledger_create(&b, "20260101T000000Z-rb-000c", "rb", "db/slot 2", &err),
                         0);
        assert_int_equal(ledger_create(&c, "20260101T000000Z-rb2-000d", "rb2", "db/slot 1",
                                       &err), 0);
        ledger_close(&c);
        ledger_close(&b);
        /* a target too long for a file name: cut and hashed, still exclusive */
        {
                char longt[400];
                struct ledger d;

                memset(longt, 'x', sizeof longt - 1);
                longt[sizeof longt - 1] = '\0';
                assert_int_equal(ledger_create(&c, "20260101T000000Z-rb-0010", "rb", longt,
                                               &err), 0);
                longt[sizeof longt - 2] = 'y';  /* same first 180 bytes, another hash */
                assert_int_equal(ledger_create(&d, "20260101T000000Z-rb-0011", "rb", longt,
                                               &err), 0);
                longt[sizeof longt - 2] = 'x';
                assert_int_equal(ledger_create(&b, "20260101T000000Z-rb-0012", "rb", longt,
                                               &err), -1);
                assert_int_equal(err.code, EWOULDBLOCK);
                ledger_close(&b);
                ledger_close(&d);
                ledger_close(&c);
        }
        /* the escaped lock file name */
        want = runs_path("rb@db%2Fslot%201.lock");
        assert_int_equal(access(want, F_OK), 0);
        free(want);
        ledger_close(&a);
        assert_int_equal(ledger_create(&b, "20260101T000000Z-rb-000e", "rb", "db/slot 1", &err),
                         0);
        ledger_close(&b);
        /* a closed run is resumable: ledger_open recovers the key from its start */
        if (ledger_open(&a, "20260101T000000Z-rb-000a", &err) != 0)
                fail_msg("%s", err.msg);
        assert_int_equal(ledger_create(&b, "20260101T000000Z-rb-000f", "rb", "db/slot 1", &err),
                         -1);
        assert_non_null(strstr(err.msg, "run 20260101T000000Z-rb-000a of rb"));
        ledger_close(&a);
}

static void test_lock_dies_with_process(void **state)
{
        struct ledger l;
        struct err err;
        int pfd[2], status;
        char c = 0, *want;
        pid_t pid;

        (void)state;
        assert_int_equal(pipe(pfd), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct ledger cl;

                close(pfd[0]);
                if (ledger_create(&cl, "20260101T000000Z-rb-0c01", "rb", "t", NULL) != 0)
                        _exit(3);
                (void)!write(pfd[1], "x", 1);
                for (;;)
                        pause();
        }
        close(pfd[1]);
        assert_int_equal(read(pfd[0], &c, 1), 1);
        close(pfd[0]);
        err_clear(&err);
        assert_int_equal(ledger_create(&l, "20260101T000000Z-rb-0p01", "rb", "t", &err), -1);
        want = xasprintf("run 20260101T000000Z-rb-0c01 of rb on t is in progress (pid %ld); "
                         "wait for it to end, or resume that run when its process is gone",
                         (long)pid);
        assert_string_equal(err.msg, want);
        free(want);
        ledger_close(&l);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        if (ledger_create(&l, "20260101T000000Z-rb-0p02", "rb", "t", &err) != 0)
                fail_msg("%s", err.msg);
        ledger_close(&l);

        /* A lock held by someone whose line still names a dead process (a new
         * holder that has not written yet): the dead one is not named. */
        {
                char *lp = runs_path("rb@t.lock"), *line;
                int fd = open(lp, O_RDWR);

                assert_true(fd >= 0);
                assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
                line = xasprintf("%ld 20260101T000000Z-rb-dead\n", (long)pid);
                assert_int_equal(pwrite(fd, line, strlen(line), 0), (ssize_t)strlen(line));
                assert_int_equal(ftruncate(fd, (off_t)strlen(line)), 0);
                free(line);
                assert_int_equal(ledger_create(&l, "20260101T000000Z-rb-0p03", "rb", "t", &err),
                                 -1);
                assert_int_equal(err.code, EWOULDBLOCK);
                want = xasprintf("another run of rb on t is in progress (lock %s held); wait for "
                                 "it to end", lp);
                assert_string_equal(err.msg, want);
                free(want);
                close(fd);
                free(lp);
        }
}

/* ledger_resume_point over records given one JSON object a line. */
static long resume(const char *lines, size_t n_steps, bool *done)
{
        size_t cut = 0;
        cJSON *recs = ledger_parse(lines, strlen(lines), &cut);
        long r;

        assert_int_equal(cut, 0);
        r = ledger_resume_point(recs, n_steps, done);
        cJSON_Delete(recs);
        return r;
}

#define START "{\"ev\":\"start\",\"runbook\":\"rb\"}\n"
#define S(i) "{\"ev\":\"step\",\"index\":" #i ",\"phase\":\"start\"}\n"
#define E(i, res) "{\"ev\":\"step\",\"index\":" #i ",\"phase\":\"end\",\"result\":\"" res "\"}\n"
#define EN(i, res, nx) "{\"ev\":\"step\",\"index\":" #i ",\"phase\":\"end\",\"result\":\"" \
        res "\",\"next\":" #nx "}\n"
#define SM(i) "{\"ev\":\"step\",\"index\":" #i ",\"phase\":\"start\",\"mutating\":true}\n"
#define EM(i, res) "{\"ev\":\"step\",\"index\":" #i ",\"phase\":\"end\",\"mutating\":true," \
        "\"result\":\"" res "\"}\n"

static void test_resume_point(void **state)
{
        bool done[5];

        (void)state;
        /* nothing run yet */
        assert_int_equal(resume("", 3, NULL), 0);
        assert_int_equal(resume(START, 3, NULL), 0);
        /* plain: interrupted in step 2 / between steps */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "ok") S(2), 3, NULL), 2);
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "ok"), 3, NULL), 2);
        /* skipped by the operator counts as done */
        assert_int_equal(resume(START S(0) E(0, "skipped"), 3, NULL), 1);
        /* all steps done: verify remains */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "ok") S(2) E(2, "ok")
                                "{\"ev\":\"verify\",\"result\":\"failed\"}\n", 3, NULL), 3);
        /* a failed step that stopped the run (no end record: killed) runs again */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "failed"), 3, NULL), 1);
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "cancelled"), 3, NULL), 1);
        /* on_fail: continue records next = i+1 */
        assert_int_equal(resume(START S(0) EN(0, "failed", 1), 3, NULL), 1);
        /* a retry: failed attempt 1, ok attempt 2; and a crash between them */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "failed") S(1) E(1, "ok"), 3,
                                NULL), 2);
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) E(1, "failed") S(1), 3, NULL), 1);
        /* a choice at 1 jumps to 3 over 2: continue at 3, never at 2 */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1)
                                "{\"ev\":\"choice\",\"index\":1,\"goto_index\":3}\n"
                                E(1, "ok"), 5, NULL), 3);
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) EN(1, "ok", 3), 5, NULL), 3);
        assert_int_equal(resume(START S(0) E(0, "ok") S(1) EN(1, "ok", 3) S(3) E(3, "ok"), 5,
                                NULL), 4);
        /* a choice recorded but the step not ended: ask again */
        assert_int_equal(resume(START S(0) E(0, "ok") S(1)
                                "{\"ev\":\"choice\",\"index\":1,\"goto_index\":3}\n", 5, NULL),
                         1);
        /* a choice of an earlier visit does not steer a later one */
        assert_int_equal(resume(START S(1) "{\"ev\":\"choice\",\"index\":1,\"goto_index\":3}\n"
                                E(1, "ok") S(3) EN(3, "ok", 1) S(1) E(1, "ok"), 5, NULL), 2);
        /* on_fail goto 0 from 2: the recorded flow went back to 0 */
        assert_int_equal(resume(START SM(0) EM(0, "ok") S(1) E(1, "ok") S(2)
                                EN(2, "failed", 0), 3, done), 0);
        assert_true(done[0]);
        assert_false(done[1]);
        /* a completed mutating step is never the resume point */
        assert_int_equal(resume(START S(0) E(0, "ok") SM(1) EM(1, "ok"), 3, done), 2);
        assert_false(done[0]);
        assert_true(done[1]);
        assert_false(done[2]);
        assert_int_equal(resume(START S(0) E(0, "ok") SM(1) EM(1, "ok") S(2), 3, done), 2);
        assert_true(done[1]);
        /* a mutating step that failed is not done; one interrupted neither */
        assert_int_equal(resume(START SM(0) EM(0, "failed"), 3, done), 0);
        assert_false(done[0]);
        assert_int_equal(resume(START SM(0), 3, done), 0);
        assert_false(done[0]);
        /* an ended run: nothing to resume */
        assert_int_equal(resume(START S(0) E(0, "ok") "{\"ev\":\"end\",\"result\":\"ok\"}\n", 3,
                                NULL), -1);
        assert_int_equal(resume(START S(0) E(0, "failed")
                                "{\"ev\":\"end\",\"result\":\"failed\"}\n", 3, NULL), -1);
        assert_int_equal(resume(START "{\"ev\":\"end\",\"result\":\"aborted\"}\n", 3, NULL), -1);
        /* out-of-range or malformed records change nothing */
        assert_int_equal(resume(START S(0) E(0, "ok") S(7) E(7, "ok") EN(1, "ok", 99)
                                "{\"ev\":\"step\",\"index\":1.5,\"phase\":\"start\"}\n"
                                "{\"ev\":\"step\",\"index\":\"1\",\"phase\":\"start\"}\n"
                                "{\"ev\":\"step\",\"index\":-1,\"phase\":\"start\"}\n"
                                "{\"ev\":\"step\",\"index\":1}\n"
                                "{\"index\":2,\"phase\":\"start\"}\n", 3, NULL), 2);
        assert_int_equal(ledger_resume_point(NULL, 3, NULL), -1);
        assert_int_equal(resume(START S(0), 0, NULL), 0);

        {
                cJSON *recs = ledger_parse(START S(0) E(0, "ok"), strlen(START S(0) E(0, "ok")),
                                           NULL);

                assert_false(ledger_step_interrupted(recs));
                cJSON_Delete(recs);
        }
}

static void test_list(void **state)
{
        struct err err;
        cJSON *list;
        char *s;

        (void)state;
        err_clear(&err);
        list = ledger_list(&err);               /* no directory yet */
        assert_non_null(list);
        assert_int_equal(cJSON_GetArraySize(list), 0);
        cJSON_Delete(list);

#define REC_START(rb, t, at) "{\"ev\":\"start\",\"runbook\":\"" rb "\",\"target\":\"" t \
        "\",\"user\":\"op\",\"at\":\"" at "\"}\n"
        write_str("20260101T000000Z-a-0001.jsonl",
                  REC_START("a", "t1", "2026-01-01T00:00:00.000Z")
                  "{\"ev\":\"step\",\"step\":\"s0\",\"index\":0,\"phase\":\"start\"}\n"
                  "{\"ev\":\"step\",\"step\":\"s0\",\"index\":0,\"phase\":\"end\","
                  "\"result\":\"ok\"}\n"
                  "{\"ev\":\"end\",\"result\":\"ok\",\"at\":\"2026-01-01T00:01:00.000Z\"}\n");
        write_str("20260102T000000Z-b-0002.jsonl",
                  REC_START("b", "t2", "2026-01-02T00:00:00.000Z")
                  "{\"ev\":\"step\",\"step\":\"restart\",\"index\":1,\"phase\":\"start\"}\n"
                  "garbage\n");
        /* same start as the one above: then the run id decides */
        write_str("20260102T000000Z-b-0003.jsonl",
                  REC_START("b", "t3", "2026-01-02T00:00:00.000Z"));
        /* not runs: no start, a bad name, another extension, a directory */
        write_str("20260103T000000Z-c-0004.jsonl", "{\"ev\":\"step\"}\n");
        write_str(".hidden.jsonl", REC_START("x", "t", "2027"));
        write_str("20260104T000000Z-x-0005.json", REC_START("x", "t", "2027"));
        s = runs_path("dir.jsonl");
        assert_int_equal(mkdir(s, 0700), 0);
        free(s);

        list = ledger_list(&err);
        assert_non_null(list);
        s = cJSON_PrintUnformatted(list);
        assert_string_equal(s,
                "[{\"run\":\"20260102T000000Z-b-0003\",\"runbook\":\"b\",\"target\":\"t3\","
                "\"user\":\"op\",\"started\":\"2026-01-02T00:00:00.000Z\",\"ended\":null,"
                "\"result\":null,\"step\":null},"
                "{\"run\":\"20260102T000000Z-b-0002\",\"runbook\":\"b\",\"target\":\"t2\","
                "\"user\":\"op\",\"started\":\"2026-01-02T00:00:00.000Z\",\"ended\":null,"
                "\"result\":null,\"step\":\"restart\"},"
                "{\"run\":\"20260101T000000Z-a-0001\",\"runbook\":\"a\",\"target\":\"t1\","
                "\"user\":\"op\",\"started\":\"2026-01-01T00:00:00.000Z\","
                "\"ended\":\"2026-01-01T00:01:00.000Z\",\"result\":\"ok\",\"step\":\"s0\"}]");
        cJSON_free(s);
        cJSON_Delete(list);
}

static void test_hostile(void **state)
{
        struct err err;
        cJSON *recs;
        size_t cut = 0, n;
        char *buf, *p;
        int fd;

        (void)state;
        /* garbage, a NUL byte inside a line, trailing bytes after an object,
         * not objects, blank lines, a \r\n line */
        static const char g[] =
                "{\"ev\":\"start\",\"runbook\":\"rb\"}\n"
                "not json\n"
                "{\"ev\":\"st\0ep\",\"index\":0}\n"
                "{\"ev\":\"step\"} trailing\n"
                "[1,2]\n"
                "42\n"
                "\"s\"\n"
                "\n   \n"
                "{\"ev\":\"x\"}{\"ev\":\"y\"}\n"
                "{\"ev\":\"ok\"}\r\n"
                "\xff\xfe\n"
                "{\"ev\":\"last\"}";
        write_file("20260101T000000Z-h-0001.jsonl", g, sizeof g - 1);
        err_clear(&err);
        recs = ledger_read("20260101T000000Z-h-0001", &cut, &err);
        assert_non_null(recs);
        assert_int_equal(cJSON_GetArraySize(recs), 3);
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 1), "ev")->valuestring,
                            "ok");
        assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 2), "ev")->valuestring,
                            "last");
        assert_int_equal(cut, 8);
        cJSON_Delete(recs);

        /* a huge line between two records: skipped and counted */
        n = (size_t)LEDGER_LINE_MAX + 100;
        buf = xmalloc(n + 64);
        strcpy(buf, "{\"ev\":\"a\"}\n{\"s\":\"");
        memset(buf + strlen(buf), 'x', n);
        strcpy(buf + n, "\"}\n{\"ev\":\"b\"}\n");
        write_str("20260101T000000Z-h-0002.jsonl", buf);
        free(buf);
        recs = ledger_read("20260101T000000Z-h-0002", &cut, &err);
        assert_non_null(recs);
        assert_int_equal(cJSON_GetArraySize(recs), 2);
        assert_int_equal(cut, 1);
        cJSON_Delete(recs);

        /* a file beyond the limit: an error, not a read of 64 MiB+ */
        p = runs_path("20260101T000000Z-h-0003.jsonl");
        fd = open(p, O_WRONLY | O_CREAT, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)LEDGER_FILE_MAX + 1), 0);
        close(fd);
        free(p);
        assert_null(ledger_read("20260101T000000Z-h-0003", &cut, &err));
        assert_int_equal(err.code, EFBIG);

        /* a FIFO where a run should be: refused, not blocking */
        p = runs_path("20260101T000000Z-h-0004.jsonl");
        assert_int_equal(mkfifo(p, 0600), 0);
        free(p);
        assert_null(ledger_read("20260101T000000Z-h-0004", &cut, &err));

        /* ids that would leave the directory */
        assert_null(ledger_read("../../etc/passwd", &cut, &err));
        assert_int_equal(err.code, EINVAL);
        assert_int_equal(ledger_create(&(struct ledger){ 0 }, "../x", "rb", "t", &err), -1);
        assert_int_equal(err.code, EINVAL);

        /* a record that is not an object, or one too long to write */
        {
                struct ledger l;
                cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();

                assert_int_equal(ledger_create(&l, "20260101T000000Z-h-0005", "h", "t", &err),
                                 0);
                assert_int_equal(ledger_append(&l, arr, &err), -1);
                assert_int_equal(err.code, EINVAL);
                for (int i = 0; i < 300; i++) {
                        char k[16];

                        snprintf(k, sizeof k, "k%d", i);
                        buf = xmalloc(LEDGER_TEXT_MAX + 1);
                        memset(buf, 'v', LEDGER_TEXT_MAX);
                        buf[LEDGER_TEXT_MAX] = '\0';
                        cJSON_AddStringToObject(o, k, buf);
                        free(buf);
                }
                assert_int_equal(ledger_append(&l, o, &err), -1);
                assert_int_equal(err.code, EMSGSIZE);
                ledger_close(&l);
                cJSON_Delete(arr);
                cJSON_Delete(o);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_dir_and_ids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_records_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cut_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lock_dies_with_process, setup, teardown),
                cmocka_unit_test(test_resume_point),
                cmocka_unit_test_setup_teardown(test_list, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
