/*
 * collector: the per-source thread runtime. See collector.h for the model.
 *
 * Each struct collector is shared by exactly two parties: its own thread
 * (writes `latest`, `gen`) and readers (UI or status command), which take
 * `mu` to read them. stop/refresh requests also go through `mu` + `cv`.
 * The stop pipe exists so that blocking I/O inside a poll (which cannot wait
 * on a condition variable) wakes at once on quit.
 *
 * A poll can still be stuck in a call that watches no stop pipe (open(2) on a
 * stalled network mount, a library's blocking call). Shutdown therefore waits
 * for the threads up to one overall deadline (COLLECTOR_STOP_MS) and then
 * abandons the stragglers: each is detached, and frees its own struct when
 * its blocking call returns, touching nothing else (see collector_abandoned).
 */
#include "core/collector.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/redact.h"

/* How long collector_stop_all waits, in all, for the collector threads to
 * end: `q` must quit within a second whatever a collector is doing. */
#define COLLECTOR_STOP_MS 800

struct collector {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        pthread_t        th;
        pthread_mutex_t  mu;
        pthread_cond_t   cv;
        bool             stop;          /* under mu */
        bool             refresh;       /* under mu */
        bool             once;
        bool             done;          /* under mu: the thread is leaving */
        bool             abandoned;     /* under mu: shutdown gave up on it */
        int              stop_pipe[2];  /* [0] watched by polls, [1] written on stop */
        int              wake_fd;       /* app's wake pipe, not owned */
        struct snapshot *latest;        /* under mu; owned reference */
        uint64_t         gen;           /* under mu */
        /* Thread-private from here on. */
        struct ring      key_hist;
        int              failures;
        int64_t          last_ok_at;
};

const struct action_kind *collector_user_actions(void)
{
        for (size_t i = 0; collector_registry[i]; i++) {
                const struct action_kind *k = collector_registry[i]->action_kind;

                if (k && k->user_defs)
                        return k;
        }
        return NULL;
}

const struct collector_ops *collector_find(const char *kind)
{
        for (size_t i = 0; collector_registry[i]; i++)
                if (strcmp(collector_registry[i]->name, kind) == 0)
                        return collector_registry[i];
        return NULL;
}

bool coll_stopping(const struct coll_ctx *ctx)
{
        struct pollfd p = { .fd = ctx->stop_fd, .events = POLLIN };

        return ctx->stop_fd >= 0 && poll(&p, 1, 0) > 0;
}

int coll_wait_fd(const struct coll_ctx *ctx, int fd, short events, struct err *err)
{
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = fd, .events = events },
                        { .fd = ctx->stop_fd, .events = POLLIN },
                };
                int64_t left = ctx->deadline_mono - clock_mono_ms();
                int r;

                if (left <= 0) {
                        err_set(err, ETIMEDOUT, "timed out after %lld ms",
                                (long long)ctx->timeout_ms);
                        return 0;
                }
                r = poll(p, ctx->stop_fd >= 0 ? 2 : 1, left > 1000 ? 1000 : (int)left);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        err_set(err, errno, "poll: %s", strerror(errno));
                        return -1;
                }
                if (r == 0)
                        continue;
                if (ctx->stop_fd >= 0 && (p[1].revents & POLLIN)) {
                        err_set(err, ECANCELED, "stopping");
                        return -1;
                }
                if (p[0].revents)
                        return 1;
        }
}

static int64_t collector_backoff_ms(const struct collector *c)
{
        int64_t base = c->src->interval_ms, cap = 60000, d = base;

        if (8 * base > cap)
                cap = 8 * base;
        for (int i = 0; i < c->failures && d < cap; i++)
                d *= 2;
        return d < cap ? d : cap;
}

static void collector_publish(struct collector *c, struct snapshot *s)
{
        struct snapshot *old;
        char b = 1;

        pthread_mutex_lock(&c->mu);
        old = c->latest;
        c->latest = s;
        c->gen++;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        snapshot_unref(old);
        if (c->wake_fd >= 0) {
                /* Non-blocking: a full pipe already means "wake up". */
                ssize_t w = write(c->wake_fd, &b, 1);
                (void)w;
        }
}

/* Frees what the collector owns. Either the main thread after the join, or
 * the thread itself when shutdown abandoned it. */
static void collector_free(struct collector *c)
{
        snapshot_unref(c->latest);
        if (c->stop_pipe[0] >= 0) {
                close(c->stop_pipe[0]);
                close(c->stop_pipe[1]);
        }
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        free(c);
}

/* True when shutdown gave up waiting for this thread. The caller may have
 * freed the configuration (c->src and everything the kind's state borrows
 * from it) and closed the wake pipe since, so the thread must touch none of
 * it: it leaves the poll's data and the kind's state unfreed (a deliberate
 * leak: the process is quitting) and only frees its own struct. */
static bool collector_abandoned(struct collector *c)
{
        bool a;

        pthread_mutex_lock(&c->mu);
        a = c->abandoned;
        pthread_mutex_unlock(&c->mu);
        return a;
}

/* Polls once and publishes; false when the thread was abandoned meanwhile. */
static bool collector_poll_once(struct collector *c, void *state, uint64_t seq)
{
        const struct collector_ops *ops = c->src->ops;
        struct snapshot *s = snapshot_new(c->src);
        struct coll_ctx ctx;
        struct err err;
        void *data = NULL;
        enum coll_status st;
        int64_t t0 = clock_mono_ms();

        err_clear(&err);
        ctx.stop_fd = c->stop_pipe[0];
        ctx.now_mono = t0;
        ctx.timeout_ms = c->src->timeout_ms;
        ctx.deadline_mono = t0 + c->src->timeout_ms;
        st = ops->poll(state, &ctx, &data, &err);
        if (collector_abandoned(c)) {
                snapshot_unref(s);      /* no data attached: reads nothing of src */
                return false;
        }
        if (st != COLL_OK && st != COLL_DEGRADED && st != COLL_DOWN)
                st = COLL_DOWN;
        if (st == COLL_DOWN && !err.msg[0])
                str_copy(err.msg, "poll failed", sizeof err.msg);

        s->status = st;
        str_copy(s->error, err.msg, sizeof s->error);
        /* Library messages (libpq's) end with a newline; every reader wants
         * one line. */
        for (size_t k = strlen(s->error); k > 0 && isspace((unsigned char)s->error[k - 1]); k--)
                s->error[k - 1] = '\0';
        /* A belt over the kinds' own redaction (the source's secrets are
         * masked where they are known): credentials by shape never reach
         * status, JSON, the screen or the audit log. */
        redact_patterns(s->error, sizeof s->error);
        s->poll_ms = clock_mono_ms() - t0;
        s->collected_mono = clock_mono_ms();
        s->collected_at = clock_wall_ms();
        s->seq = seq;
        s->data = data;
        if (st == COLL_DOWN) {
                c->failures++;
        } else {
                c->failures = 0;
                c->last_ok_at = s->collected_at;
        }
        s->failures = c->failures;
        s->last_ok_at = c->last_ok_at;
        s->next_poll_ms = c->failures ? collector_backoff_ms(c) : c->src->interval_ms;
        if (data && ops->key_metric) {
                s->key_value = ops->key_metric(data);
                if (!isnan(s->key_value))
                        ring_push(&c->key_hist, s->collected_mono, s->key_value);
        }
        s->key_hist = c->key_hist;
        collector_publish(c, s);
        return true;
}

static void *collector_main(void *arg)
{
        struct collector *c = arg;
        const struct collector_ops *ops = c->src->ops;
        void *state = ops->create ? ops->create(c->src) : NULL;
        uint64_t seq = 0;
        bool polled = false;

        for (;;) {
                struct timespec until;
                int64_t delay;

                pthread_mutex_lock(&c->mu);
                if (c->stop) {
                        pthread_mutex_unlock(&c->mu);
                        break;
                }
                c->refresh = false;
                pthread_mutex_unlock(&c->mu);

                if (!c->once || !polled) {
                        if (!collector_poll_once(c, state, ++seq))
                                goto abandoned;
                        polled = true;
                }

                delay = c->failures ? collector_backoff_ms(c) : c->src->interval_ms;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += delay / 1000;
                until.tv_nsec += (delay % 1000) * 1000000L;
                if (until.tv_nsec >= 1000000000L) {
                        until.tv_sec++;
                        until.tv_nsec -= 1000000000L;
                }
                pthread_mutex_lock(&c->mu);
                while (!c->stop && (c->once || !c->refresh)) {
                        if (pthread_cond_timedwait(&c->cv, &c->mu, &until) == ETIMEDOUT)
                                break;
                }
                pthread_mutex_unlock(&c->mu);
        }
        if (collector_abandoned(c))
                goto abandoned;
        if (ops->destroy)
                ops->destroy(state);
        pthread_mutex_lock(&c->mu);
        if (!c->abandoned) {
                c->done = true;
                pthread_cond_broadcast(&c->cv);
                pthread_mutex_unlock(&c->mu);
                return NULL;
        }
        pthread_mutex_unlock(&c->mu);
abandoned:
        /* Detached by collector_stop_all, which no longer knows this struct. */
        collector_free(c);
        return NULL;
}

struct collector *collector_start(const struct source_cfg *src, int wake_fd, bool once)
{
        struct collector *c = xcalloc(1, sizeof *c);
        pthread_condattr_t ca;

        c->src = src;
        c->wake_fd = wake_fd;
        c->once = once;
        ring_init(&c->key_hist);
        pthread_mutex_init(&c->mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
        if (pipe(c->stop_pipe) != 0) {
                c->stop_pipe[0] = c->stop_pipe[1] = -1;
        } else {
                fcntl(c->stop_pipe[0], F_SETFD, FD_CLOEXEC);
                fcntl(c->stop_pipe[1], F_SETFD, FD_CLOEXEC);
        }
        if (pthread_create(&c->th, NULL, collector_main, c) != 0) {
                /* Cannot run this source; treat as fatal OOM-class. */
                abort();
        }
        return c;
}

struct snapshot *collector_latest(struct collector *c, uint64_t *gen)
{
        struct snapshot *s;

        pthread_mutex_lock(&c->mu);
        s = snapshot_ref(c->latest);
        if (gen)
                *gen = c->gen;
        pthread_mutex_unlock(&c->mu);
        return s;
}

uint64_t collector_gen(struct collector *c)
{
        uint64_t g;

        pthread_mutex_lock(&c->mu);
        g = c->gen;
        pthread_mutex_unlock(&c->mu);
        return g;
}

const struct source_cfg *collector_source(const struct collector *c)
{
        return c->src;
}

void collector_refresh(struct collector *c)
{
        pthread_mutex_lock(&c->mu);
        c->refresh = true;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
}

bool collector_wait_gen(struct collector *c, uint64_t gen, int64_t deadline_mono)
{
        bool ok;

        pthread_mutex_lock(&c->mu);
        while (c->gen < gen) {
                struct timespec until;
                int64_t d = deadline_mono;

                if (clock_mono_ms() >= deadline_mono)
                        break;
                until.tv_sec = d / 1000;
                until.tv_nsec = (d % 1000) * 1000000L;
                pthread_cond_timedwait(&c->cv, &c->mu, &until);
        }
        ok = c->gen >= gen;
        pthread_mutex_unlock(&c->mu);
        return ok;
}

void collector_stop_all(struct collector **cs, size_t n)
{
        int64_t deadline = clock_mono_ms() + COLLECTOR_STOP_MS;

        for (size_t i = 0; i < n; i++) {
                struct collector *c = cs[i];
                char b = 1;

                if (!c)
                        continue;
                pthread_mutex_lock(&c->mu);
                c->stop = true;
                pthread_cond_broadcast(&c->cv);
                pthread_mutex_unlock(&c->mu);
                if (c->stop_pipe[1] >= 0) {
                        ssize_t w = write(c->stop_pipe[1], &b, 1);
                        (void)w;
                }
        }
        /* One deadline for all: waiting on the condition variable (monotonic,
         * as elsewhere here) rather than pthread_timedjoin_np, whose deadline
         * is on the wall clock. */
        for (size_t i = 0; i < n; i++) {
                struct collector *c = cs[i];
                pthread_t th;
                bool done;

                if (!c)
                        continue;
                pthread_mutex_lock(&c->mu);
                while (!c->done && clock_mono_ms() < deadline) {
                        struct timespec until = { deadline / 1000, (deadline % 1000) * 1000000L };

                        pthread_cond_timedwait(&c->cv, &c->mu, &until);
                }
                done = c->done;
                th = c->th;     /* an abandoned thread may free c once we unlock */
                if (!done)
                        c->abandoned = true;
                pthread_mutex_unlock(&c->mu);
                cs[i] = NULL;
                if (!done) {
                        /* Stuck in a call that watches no stop pipe (a stalled
                         * mount, a library's blocking call): leave it running,
                         * detached; it frees its struct when the call returns. */
                        pthread_detach(th);
                        continue;
                }
                pthread_join(th, NULL);
                collector_free(c);
        }
}
