/*
 * test_collector: the per-source thread runtime (src/core/collector.c) driven by
 * a fake kind defined here. The fake's behaviour is switched through
 * atomics in a control block that the source's kind_cfg points at.
 *
 * What we assert: publishes carry increasing gen/seq and one wake-pipe byte
 * each; failures back off (next_poll_ms doubles up to the cap) and recover;
 * collector_refresh polls before the interval; once mode polls exactly once;
 * a poll blocked on a service that never answers times out at its deadline
 * and, on quit, lets collector_stop_all return long before that deadline
 * (a ten-minute poll timeout, a one-minute bound: the gap survives a loaded
 * machine); a hung source blocks neither readers nor other collectors.
 *
 * No assertion depends on a sleep or on the machine's speed: we wait with
 * generous deadlines (WAIT_MS) through collector_wait_gen or poll(), and a
 * pass returns as soon as the condition holds. This file runs under TSan in CI, so every
 * field shared with a collector thread is atomic or passes through the
 * runtime's mutex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/snapshot.h"
#include "core/util.h"

/* FAKE_BLOCK waits through coll_wait_fd (honours quit); FAKE_STUCK blocks in
 * read(2) and ignores the stop pipe, like open(2) on a stalled mount. */
enum fake_mode { FAKE_OK, FAKE_FAIL, FAKE_DEGRADED, FAKE_BLOCK, FAKE_STUCK };

struct fake_ctl {
        atomic_int mode;
        atomic_int fail_first;  /* FAKE_OK polls fail while polls <= this */
        atomic_int polls;
        atomic_int creates, destroys, frees;
        int block_fd;           /* read end of a pipe nobody writes */
        int started_fd;         /* write end: one byte when a poll starts blocking */
};

static void *fake_create(const struct source_cfg *src)
{
        struct fake_ctl *ctl = src->kind_cfg;

        atomic_fetch_add(&ctl->creates, 1);
        return ctl;
}

static void fake_destroy(void *state)
{
        struct fake_ctl *ctl = state;

        atomic_fetch_add(&ctl->destroys, 1);
}

/* Kind data: the poll number, as a double (also the key metric). */
struct fake_data {
        struct fake_ctl *ctl;
        double v;
};

static enum coll_status fake_poll(void *state, const struct coll_ctx *ctx, void **data,
                                  struct err *err)
{
        struct fake_ctl *ctl = state;
        int n = atomic_fetch_add(&ctl->polls, 1) + 1;
        struct fake_data *d;
        char b = 1;
        int r;

        switch (atomic_load(&ctl->mode)) {
        case FAKE_FAIL:
                err_set(err, 1, "fake failure %d\n", n);
                return COLL_DOWN;
        case FAKE_BLOCK:
                if (ctl->started_fd >= 0) {
                        ssize_t w = write(ctl->started_fd, &b, 1);
                        (void)w;
                }
                r = coll_wait_fd(ctx, ctl->block_fd, POLLIN, err);
                return r == 1 ? COLL_OK : COLL_DOWN;
        case FAKE_STUCK: {
                ssize_t w = write(ctl->started_fd, &b, 1);

                (void)w;
                w = read(ctl->block_fd, &b, 1);
                /* A second byte: the blocking call returned. */
                w = write(ctl->started_fd, &b, 1);
                (void)w;
                err_set(err, 1, "stuck");
                return COLL_DOWN;
        }
        case FAKE_DEGRADED:
        case FAKE_OK:
        default:
                if (n <= atomic_load(&ctl->fail_first)) {
                        err_set(err, 1, "not yet");
                        return COLL_DOWN;
                }
                d = xmalloc(sizeof *d);
                d->ctl = ctl;
                d->v = n;
                *data = d;
                if (atomic_load(&ctl->mode) == FAKE_DEGRADED) {
                        err_set(err, 2, "partially there");
                        return COLL_DEGRADED;
                }
                return COLL_OK;
        }
}

static void fake_data_free(void *data)
{
        struct fake_data *d = data;

        atomic_fetch_add(&d->ctl->frees, 1);
        free(d);
}

static double fake_key(const void *data)
{
        return ((const struct fake_data *)data)->v;
}

static const struct collector_ops fake_ops = {
        .name = "fake",
        .title = "Fake",
        .default_interval_ms = 1000,
        .default_timeout_ms = 1000,
        .create = fake_create,
        .destroy = fake_destroy,
        .poll = fake_poll,
        .data_free = fake_data_free,
        .key_metric = fake_key,
};

/* One fake source with its control block and pipes. */
struct fixture {
        struct fake_ctl   ctl;
        struct source_cfg src;
        int wake[2];            /* the app's wake pipe, non-blocking */
        int block[2];
        int started[2];
};

static void fx_init(struct fixture *fx, const char *name, int64_t interval, int64_t timeout)
{
        memset(fx, 0, sizeof *fx);
        atomic_init(&fx->ctl.mode, FAKE_OK);
        atomic_init(&fx->ctl.fail_first, 0);
        atomic_init(&fx->ctl.polls, 0);
        atomic_init(&fx->ctl.creates, 0);
        atomic_init(&fx->ctl.destroys, 0);
        atomic_init(&fx->ctl.frees, 0);
        assert_int_equal(pipe(fx->wake), 0);
        assert_int_equal(pipe(fx->block), 0);
        assert_int_equal(pipe(fx->started), 0);
        for (int i = 0; i < 2; i++) {
                fcntl(fx->wake[i], F_SETFL, O_NONBLOCK);
                fcntl(fx->started[i], F_SETFL, O_NONBLOCK);
        }
        fx->ctl.block_fd = fx->block[0];
        fx->ctl.started_fd = fx->started[1];
        fx->src.name = (char *)name;
        fx->src.kind = (char *)"fake";
        fx->src.ops = &fake_ops;
        fx->src.interval_ms = interval;
        fx->src.timeout_ms = timeout;
        fx->src.kind_cfg = &fx->ctl;
}

static void fx_done(struct fixture *fx)
{
        for (int i = 0; i < 2; i++) {
                close(fx->wake[i]);
                close(fx->block[i]);
                close(fx->started[i]);
        }
}

/* Bytes waiting in the wake pipe (drains it). */
static int fx_wake_bytes(struct fixture *fx)
{
        char buf[64];
        int total = 0;
        ssize_t r;

        while ((r = read(fx->wake[0], buf, sizeof buf)) > 0)
                total += (int)r;
        return total;
}

#define WAIT_MS 60000

static bool wait_gen(struct collector *c, uint64_t gen)
{
        return collector_wait_gen(c, gen, clock_mono_ms() + WAIT_MS);
}

static void test_publishes_in_order(void **state)
{
        struct fixture fx;
        struct collector *c;
        uint64_t last = 0;

        (void)state;
        fx_init(&fx, "db1", 10, 1000);
        c = collector_start(&fx.src, fx.wake[1], false);
        assert_ptr_equal(collector_source(c), &fx.src);
        for (uint64_t g = 1; g <= 5; g++) {
                struct snapshot *s;
                uint64_t gen;

                assert_true(wait_gen(c, g));
                s = collector_latest(c, &gen);
                assert_non_null(s);
                assert_true(gen >= g && gen >= last);
                /* One publish per poll: seq and gen move together. */
                assert_int_equal(s->seq, gen);
                assert_int_equal(s->status, COLL_OK);
                assert_string_equal(s->error, "");
                assert_ptr_equal(s->src, &fx.src);
                assert_true(s->collected_at > 0 && s->collected_mono > 0);
                assert_int_equal(s->last_ok_at, s->collected_at);
                assert_int_equal(s->failures, 0);
                assert_int_equal(s->next_poll_ms, 10);
                assert_true(s->poll_ms >= 0);
                assert_true(s->key_value == (double)gen);
                /* The key-metric history has one sample per poll so far. */
                assert_int_equal(s->key_hist.n, gen < RING_CAP ? gen : RING_CAP);
                assert_true(ring_last(&s->key_hist) == (double)gen);
                last = gen;
                snapshot_unref(s);
        }
        collector_stop_all(&c, 1);
        assert_null(c);
        assert_int_equal(atomic_load(&fx.ctl.creates), 1);
        assert_int_equal(atomic_load(&fx.ctl.destroys), 1);
        /* Every published data was freed with its snapshot. */
        assert_int_equal(atomic_load(&fx.ctl.frees), atomic_load(&fx.ctl.polls));
        assert_true(fx_wake_bytes(&fx) >= 5);
        fx_done(&fx);
}

static void test_refresh_and_wake_pipe(void **state)
{
        struct fixture fx;
        struct collector *c;
        int64_t t0;

        (void)state;
        fx_init(&fx, "db1", 3600000, 1000);
        c = collector_start(&fx.src, fx.wake[1], false);
        assert_true(wait_gen(c, 1));            /* the first poll is immediate */
        /* Nothing else happens for an hour unless asked. */
        assert_false(collector_wait_gen(c, 2, clock_mono_ms() + 100));
        t0 = clock_mono_ms();
        collector_refresh(c);
        assert_true(wait_gen(c, 2));
        /* The refresh, not the interval, polled (WAIT_MS is far below it). */
        assert_true(clock_mono_ms() - t0 < 3600000 / 2);
        collector_refresh(c);
        assert_true(wait_gen(c, 3));
        assert_int_equal(collector_gen(c), 3);
        collector_stop_all(&c, 1);
        /* Exactly one wake byte per publish. */
        assert_int_equal(atomic_load(&fx.ctl.polls), 3);
        assert_int_equal(fx_wake_bytes(&fx), 3);
        fx_done(&fx);
}

/* Drives failing polls with refresh and checks next_poll_ms each time. */
static void check_backoff(int64_t interval, const int64_t *want, size_t n_want)
{
        struct fixture fx;
        struct collector *c;
        struct snapshot *s;
        int64_t ok_at;

        fx_init(&fx, "db1", interval, 1000);
        atomic_store(&fx.ctl.mode, FAKE_FAIL);
        c = collector_start(&fx.src, fx.wake[1], false);
        for (size_t i = 0; i < n_want; i++) {
                if (i > 0)
                        collector_refresh(c);
                assert_true(wait_gen(c, i + 1));
                s = collector_latest(c, NULL);
                assert_int_equal(s->seq, i + 1);
                assert_int_equal(s->status, COLL_DOWN);
                assert_int_equal(s->failures, (int)i + 1);
                assert_int_equal(s->next_poll_ms, want[i]);
                assert_int_equal(s->last_ok_at, 0);
                assert_null(s->data);
                assert_true(isnan(s->key_value));
                /* The trailing newline of the poll's message is trimmed. */
                assert_true(strncmp(s->error, "fake failure ", 13) == 0);
                assert_null(strchr(s->error, '\n'));
                snapshot_unref(s);
        }
        /* Recovery: back to ok, the interval, and failures reset. */
        atomic_store(&fx.ctl.mode, FAKE_OK);
        collector_refresh(c);
        assert_true(wait_gen(c, n_want + 1));
        s = collector_latest(c, NULL);
        assert_int_equal(s->status, COLL_OK);
        assert_int_equal(s->failures, 0);
        assert_int_equal(s->next_poll_ms, interval);
        assert_string_equal(s->error, "");
        assert_int_equal(s->last_ok_at, s->collected_at);
        ok_at = s->last_ok_at;
        snapshot_unref(s);
        /* Failing again remembers when it was last ok. */
        atomic_store(&fx.ctl.mode, FAKE_FAIL);
        collector_refresh(c);
        assert_true(wait_gen(c, n_want + 2));
        s = collector_latest(c, NULL);
        assert_int_equal(s->failures, 1);
        assert_int_equal(s->next_poll_ms, 2 * interval);
        assert_int_equal(s->last_ok_at, ok_at);
        snapshot_unref(s);
        collector_stop_all(&c, 1);
        fx_done(&fx);
}

static void test_backoff_doubles_and_caps(void **state)
{
        /* Cap is max(60 s, 8 x interval). */
        static const int64_t small[] = { 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
        static const int64_t large[] = { 20000, 40000, 80000, 80000 };

        (void)state;
        check_backoff(1000, small, LO_ARRAY_LEN(small));
        check_backoff(10000, large, LO_ARRAY_LEN(large));
}

static void test_recovers_by_itself(void **state)
{
        struct fixture fx;
        struct collector *c;
        struct snapshot *s;

        (void)state;
        /* Three failures (backoff 20, 40, 80 ms), then ok, with no help. */
        fx_init(&fx, "db1", 10, 1000);
        atomic_store(&fx.ctl.fail_first, 3);
        c = collector_start(&fx.src, fx.wake[1], false);
        assert_true(wait_gen(c, 4));
        s = collector_latest(c, NULL);
        assert_true(s->seq >= 4);
        assert_int_equal(s->status, COLL_OK);
        assert_int_equal(s->failures, 0);
        assert_true(s->last_ok_at > 0);
        snapshot_unref(s);
        collector_stop_all(&c, 1);
        fx_done(&fx);
}

static void test_degraded_is_not_a_failure(void **state)
{
        struct fixture fx;
        struct collector *c;
        struct snapshot *s;

        (void)state;
        fx_init(&fx, "db1", 60000, 1000);
        atomic_store(&fx.ctl.mode, FAKE_DEGRADED);
        c = collector_start(&fx.src, -1, false);        /* no wake pipe is fine */
        assert_true(wait_gen(c, 1));
        s = collector_latest(c, NULL);
        assert_int_equal(s->status, COLL_DEGRADED);
        assert_string_equal(s->error, "partially there");
        assert_int_equal(s->failures, 0);
        assert_int_equal(s->next_poll_ms, 60000);
        assert_non_null(s->data);
        assert_int_equal(s->last_ok_at, s->collected_at);
        snapshot_unref(s);
        collector_stop_all(&c, 1);
        fx_done(&fx);
}

static void test_once_polls_once(void **state)
{
        struct fixture fx;
        struct collector *c;
        struct snapshot *s;

        (void)state;
        fx_init(&fx, "db1", 10, 1000);
        c = collector_start(&fx.src, fx.wake[1], true);
        assert_true(wait_gen(c, 1));
        /* Neither the (short) interval nor a refresh polls again. */
        collector_refresh(c);
        assert_false(collector_wait_gen(c, 2, clock_mono_ms() + 300));
        assert_int_equal(atomic_load(&fx.ctl.polls), 1);
        s = collector_latest(c, NULL);
        assert_int_equal(s->seq, 1);
        snapshot_unref(s);
        collector_stop_all(&c, 1);
        assert_int_equal(atomic_load(&fx.ctl.polls), 1);
        assert_int_equal(fx_wake_bytes(&fx), 1);
        fx_done(&fx);
}

static void test_poll_times_out(void **state)
{
        struct fixture fx;
        struct collector *c;
        struct snapshot *s;

        (void)state;
        fx_init(&fx, "db1", 60000, 100);
        atomic_store(&fx.ctl.mode, FAKE_BLOCK);
        c = collector_start(&fx.src, fx.wake[1], false);
        assert_true(wait_gen(c, 1));
        s = collector_latest(c, NULL);
        assert_int_equal(s->status, COLL_DOWN);
        assert_string_equal(s->error, "timed out after 100 ms");
        assert_true(s->poll_ms >= 100);
        assert_int_equal(s->failures, 1);
        snapshot_unref(s);
        collector_stop_all(&c, 1);
        fx_done(&fx);
}

static void test_stop_while_hung(void **state)
{
        struct fixture hung, live;
        struct collector *cs[2];
        struct pollfd p;
        int64_t t0, took;
        uint64_t gen = 99;
        char b;

        (void)state;
        fx_init(&hung, "hung", 1000, 600000);  /* a ten-minute poll timeout */
        fx_init(&live, "live", 10, 1000);
        atomic_store(&hung.ctl.mode, FAKE_BLOCK);
        cs[0] = collector_start(&hung.src, hung.wake[1], false);
        cs[1] = collector_start(&live.src, live.wake[1], false);
        /* Wait until the hung poll is really inside coll_wait_fd. */
        p.fd = hung.started[0];
        p.events = POLLIN;
        assert_int_equal(poll(&p, 1, WAIT_MS), 1);
        assert_int_equal(read(hung.started[0], &b, 1), 1);
        /* Readers are not blocked by it ... */
        assert_null(collector_latest(cs[0], &gen));
        assert_int_equal(gen, 0);
        assert_false(collector_wait_gen(cs[0], 1, clock_mono_ms() + 50));
        /* ... nor is another collector. */
        assert_true(wait_gen(cs[1], 3));
        /* Quit: both join at once (the issue asks for 1 s), not at the hung
         * poll's ten-minute timeout; the one-minute bound leaves room for a
         * loaded machine. */
        t0 = clock_mono_ms();
        collector_stop_all(cs, 2);
        took = clock_mono_ms() - t0;
        print_message("collector_stop_all with a hung poll: %lld ms\n", (long long)took);
        assert_true(took < WAIT_MS);
        assert_null(cs[0]);
        assert_null(cs[1]);
        assert_int_equal(atomic_load(&hung.ctl.destroys), 1);
        assert_int_equal(atomic_load(&live.ctl.destroys), 1);
        fx_done(&hung);
        fx_done(&live);
}

/* A poll stuck in a call that ignores the stop pipe: collector_stop_all gives
 * up on it at its deadline and returns (no timing assertion; the ctest
 * timeout bounds a hang). Released later, the thread frees its own struct
 * and touches nothing else (ASan and TSan check that). */
static void test_stop_while_stuck(void **state)
{
        static struct fixture stuck;    /* outlives the abandoned thread */
        struct fixture live;
        struct collector *cs[2];
        struct pollfd p;
        char b = 1;

        (void)state;
        fx_init(&stuck, "stuck", 1000, 600000);
        fx_init(&live, "live", 10, 1000);
        atomic_store(&stuck.ctl.mode, FAKE_STUCK);
        cs[0] = collector_start(&stuck.src, stuck.wake[1], false);
        cs[1] = collector_start(&live.src, live.wake[1], false);
        p.fd = stuck.started[0];
        p.events = POLLIN;
        assert_int_equal(poll(&p, 1, WAIT_MS), 1);
        assert_int_equal(read(stuck.started[0], &b, 1), 1);
        assert_true(wait_gen(cs[1], 2));
        collector_stop_all(cs, 2);
        assert_null(cs[0]);
        assert_null(cs[1]);
        /* The live one was joined and destroyed; the stuck one was not. */
        assert_int_equal(atomic_load(&live.ctl.destroys), 1);
        assert_int_equal(atomic_load(&stuck.ctl.destroys), 0);
        fx_done(&live);
        /* Release it, and wait until its read has returned. */
        assert_int_equal(write(stuck.block[1], &b, 1), 1);
        assert_int_equal(poll(&p, 1, WAIT_MS), 1);
        assert_int_equal(read(stuck.started[0], &b, 1), 1);
}

static void test_stop_handles_null(void **state)
{
        struct collector *cs[2] = { NULL, NULL };

        (void)state;
        collector_stop_all(cs, 2);
        collector_stop_all(NULL, 0);
}

static void test_wait_fd(void **state)
{
        int stop[2], fd[2];
        struct coll_ctx ctx;
        struct err err;
        char b = 1;

        (void)state;
        assert_int_equal(pipe(stop), 0);
        assert_int_equal(pipe(fd), 0);
        ctx.stop_fd = stop[0];
        ctx.timeout_ms = 50;
        ctx.now_mono = clock_mono_ms();
        ctx.deadline_mono = ctx.now_mono + 50;
        /* Not ready: times out at the deadline, not before. */
        err_clear(&err);
        assert_int_equal(coll_wait_fd(&ctx, fd[0], POLLIN, &err), 0);
        assert_true(clock_mono_ms() >= ctx.deadline_mono);
        assert_int_equal(err.code, ETIMEDOUT);
        assert_string_equal(err.msg, "timed out after 50 ms");
        assert_false(coll_stopping(&ctx));
        /* Ready. */
        ctx.deadline_mono = clock_mono_ms() + 10000;
        assert_int_equal(write(fd[1], &b, 1), 1);
        assert_int_equal(coll_wait_fd(&ctx, fd[0], POLLIN, &err), 1);
        assert_int_equal(coll_wait_fd(&ctx, fd[1], POLLOUT, &err), 1);
        /* Stop requested wins even over a ready fd. */
        assert_int_equal(write(stop[1], &b, 1), 1);
        assert_true(coll_stopping(&ctx));
        err_clear(&err);
        assert_int_equal(coll_wait_fd(&ctx, fd[0], POLLIN, &err), -1);
        assert_int_equal(err.code, ECANCELED);
        assert_string_equal(err.msg, "stopping");
        /* No stop fd: still honours the deadline. */
        ctx.stop_fd = -1;
        assert_false(coll_stopping(&ctx));
        ctx.deadline_mono = clock_mono_ms() - 1;
        assert_int_equal(coll_wait_fd(&ctx, stop[0], POLLIN, &err), 0);
        close(stop[0]);
        close(stop[1]);
        close(fd[0]);
        close(fd[1]);
}

static void test_find(void **state)
{
        (void)state;
        assert_non_null(collector_find("postgres"));
        assert_string_equal(collector_find("postgres")->name, "postgres");
        assert_null(collector_find("nope"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_publishes_in_order),
                cmocka_unit_test(test_refresh_and_wake_pipe),
                cmocka_unit_test(test_backoff_doubles_and_caps),
                cmocka_unit_test(test_recovers_by_itself),
                cmocka_unit_test(test_degraded_is_not_a_failure),
                cmocka_unit_test(test_once_polls_once),
                cmocka_unit_test(test_poll_times_out),
                cmocka_unit_test(test_stop_while_hung),
                cmocka_unit_test(test_stop_while_stuck),
                cmocka_unit_test(test_stop_handles_null),
                cmocka_unit_test(test_wait_fd),
                cmocka_unit_test(test_find),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
