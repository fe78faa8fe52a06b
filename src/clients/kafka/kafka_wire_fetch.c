/*
 * kafka_wire_fetch: committed offsets (FindCoordinator, then OffsetFetch
 * from every coordinator at once) and cluster metadata, with requests
 * pipelined over several non-blocking connections. See kafka_wire.h.
 */
#include "clients/kafka/kafka_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kafka/kafka_wire_internal.h"
#include "core/collector.h"
#include "core/util.h"

/* ---- Pipelined requests over several connections ----------------------------- */

/* Requests in flight per connection. One: a Kafka broker serves the
 * requests of one connection one at a time anyway (it stops reading a
 * connection until it has answered), so pipelining saves little, and
 * librdkafka's mock brokers answer pipelined requests slowly: 20
 * FindCoordinator requests on one connection took ~45 ms pipelined and
 * ~3 ms one at a time, 20 OffsetFetch requests over 3 coordinators ~44 ms
 * against ~4 ms (bench_kafka, docs/performance.md). Concurrency comes from
 * serving all coordinators at once. */
#define KWIRE_PIPE_WINDOW       1

struct kafka_wire_pipe_req {                 /* one request sent on a pipe */
        int32_t  corr;
        size_t   first, n;              /* the caller's request indexes it carries */
        size_t   end;                   /* its frame ends at this offset of pipe.out */
};

struct kafka_wire_pipe {                     /* one connection with requests in flight */
        struct kafka_wire_io io;
        bool     live;                  /* connected, not failed */
        const char *what;               /* API name, for messages */
        struct kafka_wire_wr out;            /* frames to send: [sent, len) still to go */
        size_t   sent;
        short    swant, rwant;
        uint8_t  hdr[4];
        size_t   hgot;
        uint8_t *body;                  /* owned; the frame being read */
        size_t   blen, bgot;
        size_t   window;                /* requests in flight at most */
        struct kafka_wire_pipe_req *q;       /* owned; answered in order */
        size_t   nq, capq, head;
        struct err err;                 /* why it failed */
};

typedef int (*kafka_wire_pipe_frame_fn)(struct kafka_wire_pipe *p,
                                        const struct kafka_wire_pipe_req *rq,
                                        const uint8_t *buf, size_t len, void *arg);

static void kafka_wire_pipe_fail(struct kafka_wire_pipe *p, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void kafka_wire_pipe_fail(struct kafka_wire_pipe *p, int code, const char *fmt, ...)
{
        va_list ap;

        if (!p->live)
                return;
        p->live = false;
        va_start(ap, fmt);
        vsnprintf(p->err.msg, sizeof p->err.msg, fmt, ap);
        va_end(ap);
        p->err.code = code;
}

static void kafka_wire_pipe_add(struct kafka_wire_pipe *p, int32_t corr, size_t first, size_t n)
{
        if (p->nq == p->capq) {
                p->capq = p->capq ? 2 * p->capq : 8;
                p->q = xrealloc(p->q, p->capq * sizeof *p->q);
        }
        p->q[p->nq++] = (struct kafka_wire_pipe_req){ .corr = corr, .first = first, .n = n };
}

/* The request added last ends here (call after encoding it). */
static void kafka_wire_pipe_sealed(struct kafka_wire_pipe *p)
{
        p->q[p->nq - 1].end = p->out.len;
}

static bool kafka_wire_pipe_busy(const struct kafka_wire_pipe *p)
{
        return p->live && p->head < p->nq;
}

/* Where sending stops for now: the end of the last request in the window. */
static size_t kafka_wire_pipe_limit(const struct kafka_wire_pipe *p)
{
        return p->head + p->window - 1 < p->nq ? p->q[p->head + p->window - 1].end : p->out.len;
}

/* Sends what it can and reads what has come, handing every complete frame
 * to fn, without blocking. */
static void kafka_wire_pipe_progress(struct kafka_wire_pipe *p, kafka_wire_pipe_frame_fn fn,
                                     void *arg)
{
        size_t limit = kafka_wire_pipe_limit(p);

        while (p->live && p->sent < limit) {
                ssize_t k = p->io.send(&p->io, p->out.buf + p->sent, limit - p->sent,
                                       &p->swant);

                if (k > 0) {
                        p->sent += (size_t)k;
                } else if (k < 0 && errno == EINTR) {
                        continue;
                } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        break;
                } else if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                        kafka_wire_pipe_fail(p, KWIRE_E_NET,
                                             "sending %s to %s: the broker closed the "
                                             "connection", p->what, p->io.peer);
                } else {
                        kafka_wire_pipe_fail(p, KWIRE_E_NET, "sending %s to %s: %s", p->what,
                                             p->io.peer,
                                             k < 0 ? strerror(errno) : "no progress");
                }
        }
        while (kafka_wire_pipe_busy(p)) {
                uint8_t *dst = p->hgot < 4 ? p->hdr + p->hgot : p->body + p->bgot;
                size_t want = p->hgot < 4 ? 4 - p->hgot : p->blen - p->bgot;
                ssize_t k = p->io.recv(&p->io, dst, want, &p->rwant);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        break;
                if (k == 0 || (k < 0 && errno == ECONNRESET)) {
                        if (p->hgot == 0)
                                kafka_wire_pipe_fail(p, KWIRE_E_NET,
                                                     "%s closed the connection without "
                                                     "answering %s (%s)", p->io.peer, p->what,
                                                     p->io.impl ? "SASL listener?"
                                                     : "TLS or SASL listener?");
                        else
                                kafka_wire_pipe_fail(p, KWIRE_E_PROTO,
                                                     "truncated %s response from %s: "
                                                     "the broker closed the connection", p->what,
                                                     p->io.peer);
                        break;
                }
                if (k < 0) {
                        kafka_wire_pipe_fail(p, KWIRE_E_NET, "reading the %s response from %s: %s",
                                             p->what, p->io.peer, strerror(errno));
                        break;
                }
                if (p->hgot < 4) {
                        int64_t size;

                        p->hgot += (size_t)k;
                        if (p->hgot < 4)
                                continue;
                        size = (int64_t)(int32_t)((uint32_t)p->hdr[0] << 24 |
                                                  (uint32_t)p->hdr[1] << 16 |
                                                  (uint32_t)p->hdr[2] << 8 | (uint32_t)p->hdr[3]);
                        if (size < 4 || size > KWIRE_MAX_RESPONSE) {
                                kafka_wire_pipe_fail(p, KWIRE_E_PROTO,
                                                     "%s response from %s announces "
                                                     "%lld bytes (valid 4..%d): garbage, or not a Kafka "
                                                     "listener of this protocol", p->what, p->io.peer,
                                                     (long long)size, KWIRE_MAX_RESPONSE);
                                break;
                        }
                        p->blen = (size_t)size;
                        p->bgot = 0;
                        p->body = xmalloc(p->blen);
                        continue;
                }
                p->bgot += (size_t)k;
                if (p->bgot < p->blen)
                        continue;
                if (fn(p, &p->q[p->head], p->body, p->blen, arg) == 0)
                        p->head++;
                else
                        p->live = false;        /* fn set p->err */
                free(p->body);
                p->body = NULL;
                p->hgot = 0;
        }
}

/* Runs the pipes until every request is answered, a pipe fails, the
 * deadline passes or quit is requested (those fail the pipes still busy). */
static void kafka_wire_pipes_run(struct kafka_wire_pipe **ps, size_t n, const struct coll_ctx *ctx,
                                 kafka_wire_pipe_frame_fn fn, void *arg)
{
        struct pollfd *pf = xcalloc(n + 1, sizeof *pf);

        for (;;) {
                size_t k = 0;
                int64_t left;
                int r;

                for (size_t i = 0; i < n; i++)
                        kafka_wire_pipe_progress(ps[i], fn, arg);
                for (size_t i = 0; i < n; i++) {
                        if (!kafka_wire_pipe_busy(ps[i]))
                                continue;
                        pf[k].fd = ps[i]->io.fd;
                        pf[k].events = (short)(POLLIN | ps[i]->rwant |
                                               (ps[i]->sent < kafka_wire_pipe_limit(ps[i])
                                                ? ps[i]->swant : 0));
                        pf[k].revents = 0;
                        k++;
                }
                if (k == 0)
                        break;
                left = ctx->deadline_mono - clock_mono_ms();
                if (left <= 0 || coll_stopping(ctx)) {
                        for (size_t i = 0; i < n; i++)
                                if (kafka_wire_pipe_busy(ps[i])) {
                                        if (left <= 0)
                                                kafka_wire_pipe_fail(ps[i], KWIRE_E_TIMEOUT,
                                                                     "%s on %s: timed out after "
                                                                     "%lld ms", ps[i]->what,
                                                                     ps[i]->io.peer,
                                                                     (long long)ctx->timeout_ms);
                                        else
                                                kafka_wire_pipe_fail(ps[i], KWIRE_E_STOPPING,
                                                                     "stopping");
                                }
                        break;
                }
                pf[k].fd = ctx->stop_fd;
                pf[k].events = POLLIN;
                pf[k].revents = 0;
                r = poll(pf, ctx->stop_fd >= 0 ? k + 1 : k, left > 1000 ? 1000 : (int)left);
                if (r < 0 && errno != EINTR) {
                        for (size_t i = 0; i < n; i++)
                                if (kafka_wire_pipe_busy(ps[i]))
                                        kafka_wire_pipe_fail(ps[i], KWIRE_E_NET, "poll: %s",
                                                             strerror(errno));
                        break;
                }
        }
        free(pf);
}

static void kafka_wire_pipe_init(struct kafka_wire_pipe *p, const char *what)
{
        memset(p, 0, sizeof *p);
        p->io.fd = -1;
        p->what = what;
        p->swant = POLLOUT;
        p->rwant = POLLIN;
        p->window = KWIRE_PIPE_WINDOW;
        kafka_wire_wr_init(&p->out);
}

/* Prepares p for another API over the same connection. */
static void kafka_wire_pipe_reuse(struct kafka_wire_pipe *p, const char *what)
{
        p->what = what;
        p->out.len = 0;
        p->sent = 0;
        p->nq = p->head = 0;
}

/* Decodes the frame answering rq into out (see kafka_wire_dec_response); on
 * failure p fails with the reason and out is released. */
static int kafka_wire_pipe_response(struct kafka_wire_pipe *p,
                                    const struct kafka_wire_pipe_req *rq, int16_t key,
                                    int16_t version, const uint8_t *buf, size_t len, void *out)
{
        struct err e;

        err_clear(&e);
        if (kafka_wire_dec_response(key, version, buf, len, rq->corr, p->io.peer, out, &e) == 0)
                return 0;
        kafka_wire_pipe_fail(p, e.code, "%s", e.msg);
        return -1;
}

static void kafka_wire_pipe_done(struct kafka_wire_pipe *p)
{
        if (p->io.close && p->io.fd >= 0)
                p->io.close(&p->io);
        kafka_wire_wr_done(&p->out);
        free(p->body);
        free(p->q);
        p->body = NULL;
        p->q = NULL;
}

/* ---- Committed offsets ---------------------------------------------------------- */

#define FO_V8_GROUPS    16              /* groups per v8 OffsetFetch request */

struct fo_coord {                       /* one coordinator and its connection */
        char    *host;                  /* owned */
        int32_t  port;
        struct kafka_wire_pipe *pipe;        /* the bootstrap pipe, or owned */
};

struct fo {
        const struct kafka_wire_of_group_req *reqs;
        size_t   n;
        kafka_wire_offsets_cb cb;
        void    *arg;
        bool    *done;                  /* owned; per request */
        size_t   answered;
        int16_t  fcv, ofv;
        int32_t *coord;                 /* owned; per request: index into coords, -1 none */
        struct fo_coord *coords;        /* owned */
        size_t   n_coords;
        size_t  *order;                 /* owned; request indexes grouped by coordinator */
};

static void fo_fail(struct fo *f, size_t i, const struct err *e)
{
        if (f->done[i])
                return;
        f->done[i] = true;
        f->cb(f->arg, i, NULL, NULL, e);
}

static void fo_fail_all(struct fo *f, const struct err *e)
{
        for (size_t i = 0; i < f->n; i++)
                fo_fail(f, i, e);
}

static size_t fo_coord_add(struct fo *f, const char *host, int32_t port)
{
        for (size_t i = 0; i < f->n_coords; i++)
                if (f->coords[i].port == port && strcmp(f->coords[i].host, host) == 0)
                        return i;
        f->coords = xrealloc(f->coords, (f->n_coords + 1) * sizeof *f->coords);
        f->coords[f->n_coords] = (struct fo_coord){ .host = xstrdup(host), .port = port };
        return f->n_coords++;
}

static void fo_coordinator(struct fo *f, size_t i, const struct kafka_wire_coordinator *c,
                           const char *peer)
{
        struct err e;

        if (f->done[i])
                return;
        err_clear(&e);
        if (c->error_code != KWIRE_ERR_NONE) {
                char what[128];

                snprintf(what, sizeof what, "FindCoordinator for group %.64s", f->reqs[i].group);
                kafka_wire_err_broker(&e, what, peer, c->error_code, c->error_message);
                fo_fail(f, i, &e);
                return;
        }
        if (!c->host || !*c->host || c->port <= 0 || c->port > 65535) {
                err_set(&e, KWIRE_E_PROTO, "FindCoordinator for group %.64s on %s: invalid "
                        "coordinator address %.64s:%d", f->reqs[i].group, peer,
                        c->host ? c->host : "", c->port);
                fo_fail(f, i, &e);
                return;
        }
        f->coord[i] = (int32_t)fo_coord_add(f, c->host, c->port);
}

static int fo_on_coordinator(struct kafka_wire_pipe *p, const struct kafka_wire_pipe_req *rq,
                             const uint8_t *buf, size_t len, void *arg)
{
        struct fo *f = arg;
        struct kafka_wire_coordinators cs;

        if (kafka_wire_pipe_response(p, rq, KWIRE_FIND_COORDINATOR, f->fcv, buf, len, &cs))
                return -1;
        if (f->fcv < 4) {
                fo_coordinator(f, f->order[rq->first], &cs.c[0], p->io.peer);
        } else {
                for (size_t k = 0; k < cs.n; k++)
                        for (size_t j = rq->first; j < rq->first + rq->n; j++) {
                                size_t i = f->order[j];

                                if (cs.c[k].key && f->coord[i] < 0 &&
                                    strcmp(cs.c[k].key, f->reqs[i].group) == 0)
                                        fo_coordinator(f, i, &cs.c[k], p->io.peer);
                        }
        }
        kafka_wire_coordinators_done(&cs);
        return 0;
}

static int fo_on_offsets(struct kafka_wire_pipe *p, const struct kafka_wire_pipe_req *rq,
                         const uint8_t *buf, size_t len, void *arg)
{
        struct fo *f = arg;
        struct kafka_wire_offsets res;
        struct err e;

        if (kafka_wire_pipe_response(p, rq, KWIRE_OFFSET_FETCH, f->ofv, buf, len, &res))
                return -1;
        for (size_t j = rq->first; j < rq->first + rq->n; j++) {
                size_t i = f->order[j];
                const struct kafka_wire_of_group *g = NULL;

                if (f->ofv < 8) {
                        g = &res.groups[0];
                } else {
                        const char *name = f->reqs[i].group;
                        size_t nl = strlen(name);

                        for (size_t k = 0; k < res.n_groups && !g; k++)
                                if (res.groups[k].group.len == (int32_t)nl &&
                                    memcmp(res.groups[k].group.p, name, nl) == 0)
                                        g = &res.groups[k];
                }
                if (f->done[i])
                        continue;
                if (!g) {
                        err_set(&e, KWIRE_E_PROTO, "OffsetFetch response from %s does not "
                                "mention group %.64s", p->io.peer, f->reqs[i].group);
                        fo_fail(f, i, &e);
                        continue;
                }
                f->done[i] = true;
                f->answered++;
                f->cb(f->arg, i, &res, g, NULL);
        }
        kafka_wire_offsets_done(&res);
        return 0;
}

/* Connects to the first bootstrap broker that answers ApiVersions. */
static int fo_bootstrap(struct kafka_wire_pipe *bp, const struct kafka_wire_endpoint *boot,
                        size_t n_boot,
                        const struct kafka_wire_sec *sec, const struct coll_ctx *ctx,
                        struct kafka_wire_api_versions *av,
                        size_t *bi, struct err *err)
{
        err_set(err, KWIRE_E_NET, "no bootstrap broker to ask");
        for (size_t i = 0; i < n_boot; i++) {
                struct coll_ctx qc = *ctx;
                int64_t left = ctx->deadline_mono - clock_mono_ms();

                if (left <= 0) {
                        err_set(err, KWIRE_E_TIMEOUT, "no time left in this poll");
                        return -1;
                }
                qc.deadline_mono = clock_mono_ms() + left / (int64_t)(n_boot - i);
                err_clear(err);
                if (kafka_wire_open(&bp->io, boot[i].host, boot[i].port, sec, &qc, err) == 0) {
                        if (kafka_wire_negotiate(&bp->io, &qc, av, err) == 0) {
                                bp->live = true;
                                *bi = i;
                                return 0;
                        }
                        bp->io.close(&bp->io);
                }
                if (err->code != KWIRE_E_NET && err->code != KWIRE_E_TIMEOUT)
                        return -1;
        }
        return -1;
}

size_t kafka_wire_fetch_offsets(const struct kafka_wire_endpoint *boot, size_t n_boot,
                                const struct kafka_wire_sec *sec, const struct kafka_wire_of_group_req *reqs,
                                size_t n,
                                const struct coll_ctx *ctx, kafka_wire_offsets_cb cb, void *arg)
{
        struct fo f = { .reqs = reqs, .n = n, .cb = cb, .arg = arg };
        struct kafka_wire_api_versions av;
        struct kafka_wire_pipe bp, **ps = NULL;
        struct err e;
        size_t k, n_ps = 0, bi = 0;
        bool bp_used = false;

        if (n == 0)
                return 0;
        f.done = xcalloc(n, sizeof *f.done);
        f.coord = xmalloc(n * sizeof *f.coord);
        f.order = xmalloc(n * sizeof *f.order);
        for (size_t i = 0; i < n; i++)
                f.coord[i] = -1;
        kafka_wire_pipe_init(&bp, "FindCoordinator");
        memset(&av, 0, sizeof av);
        err_clear(&e);
        if (fo_bootstrap(&bp, boot, n_boot, sec, ctx, &av, &bi, &e)) {
                fo_fail_all(&f, &e);
                goto done;
        }
        f.fcv = (int16_t)kafka_wire_pick_version(&av, KWIRE_FIND_COORDINATOR, 0, 4);
        f.ofv = (int16_t)kafka_wire_pick_version(&av, KWIRE_OFFSET_FETCH, 1, 8);
        if (f.fcv < 0 || f.ofv < 0) {
                err_set(&e, KWIRE_E_UNSUPPORTED, "%s does not support %s", bp.io.peer,
                        f.fcv < 0 ? "FindCoordinator v0-v4" : "OffsetFetch v1-v8");
                fo_fail_all(&f, &e);
                goto done;
        }
        for (size_t i = 0; i < n; i++)
                if (reqs[i].all && f.ofv < 2) {
                        err_set(&e, KWIRE_E_UNSUPPORTED, "%s speaks OffsetFetch v1 only, which "
                                "cannot ask for all partitions", bp.io.peer);
                        fo_fail(&f, i, &e);
                }

        /* FindCoordinator for every group still asked about. */
        k = 0;
        for (size_t i = 0; i < n; i++)
                if (!f.done[i])
                        f.order[k++] = i;
        if (f.fcv >= 4 && k > 0) {
                const char **keys = xcalloc(k, sizeof *keys);

                for (size_t j = 0; j < k; j++)
                        keys[j] = reqs[f.order[j]].group;
                kafka_wire_pipe_add(&bp, bp.io.next_corr, 0, k);
                kafka_wire_enc_find_coordinator(&bp.out, f.fcv, bp.io.next_corr++, KWIRE_CLIENT_ID,
                                                keys, k);
                kafka_wire_pipe_sealed(&bp);
                free(keys);
        } else {
                for (size_t j = 0; j < k; j++) {
                        const char *key = reqs[f.order[j]].group;

                        kafka_wire_pipe_add(&bp, bp.io.next_corr, j, 1);
                        kafka_wire_enc_find_coordinator(&bp.out, f.fcv, bp.io.next_corr++,
                                                        KWIRE_CLIENT_ID, &key, 1);
                        kafka_wire_pipe_sealed(&bp);
                }
        }
        {
                struct kafka_wire_pipe *one = &bp;

                kafka_wire_pipes_run(&one, 1, ctx, fo_on_coordinator, &f);
        }
        for (size_t i = 0; i < n; i++)
                if (!f.done[i] && f.coord[i] < 0) {
                        if (!bp.live)
                                fo_fail(&f, i, &bp.err);
                        else {
                                err_set(&e, KWIRE_E_PROTO, "FindCoordinator response from %s "
                                        "does not mention group %.64s", bp.io.peer,
                                        reqs[i].group);
                                fo_fail(&f, i, &e);
                        }
                }

        /* One pipe per coordinator; the bootstrap connection where it is one. */
        ps = xcalloc(f.n_coords ? f.n_coords : 1, sizeof *ps);
        for (size_t c = 0; c < f.n_coords; c++) {
                struct fo_coord *co = &f.coords[c];
                struct coll_ctx qc = *ctx;
                int64_t left = ctx->deadline_mono - clock_mono_ms();

                if (bp.live && !bp_used && co->port == boot[bi].port &&
                    strcmp(co->host, boot[bi].host) == 0) {
                        co->pipe = &bp;
                        bp_used = true;
                        kafka_wire_pipe_reuse(&bp, "OffsetFetch");
                        continue;
                }
                co->pipe = xmalloc(sizeof *co->pipe);
                kafka_wire_pipe_init(co->pipe, "OffsetFetch");
                if (left <= 0) {
                        err_set(&co->pipe->err, KWIRE_E_TIMEOUT, "connect to %s:%d: no time "
                                "left in this poll", co->host, (int)co->port);
                        continue;
                }
                qc.deadline_mono = clock_mono_ms() + left / (int64_t)(f.n_coords - c);
                if (kafka_wire_open(&co->pipe->io, co->host, co->port, sec, &qc,
                                    &co->pipe->err) == 0)
                        co->pipe->live = true;
        }
        if (bp.live && !bp_used) {
                bp.io.close(&bp.io);
                bp.live = false;
        }

        /* OffsetFetch: requests grouped by coordinator in f.order. */
        k = 0;
        for (size_t c = 0; c < f.n_coords; c++) {
                struct kafka_wire_pipe *p = f.coords[c].pipe;
                size_t from = k;

                for (size_t i = 0; i < n; i++)
                        if (!f.done[i] && f.coord[i] == (int32_t)c)
                                f.order[k++] = i;
                if (!p->live) {
                        for (size_t j = from; j < k; j++)
                                fo_fail(&f, f.order[j], &p->err);
                        continue;
                }
                for (size_t j = from; j < k;) {
                        size_t m = f.ofv >= 8 ? k - j : 1;
                        struct kafka_wire_of_group_req *g;

                        if (m > FO_V8_GROUPS)
                                m = FO_V8_GROUPS;
                        g = xcalloc(m, sizeof *g);
                        for (size_t x = 0; x < m; x++)
                                g[x] = reqs[f.order[j + x]];
                        kafka_wire_pipe_add(p, p->io.next_corr, j, m);
                        kafka_wire_enc_offset_fetch(&p->out, f.ofv, p->io.next_corr++,
                                                    KWIRE_CLIENT_ID, g, m);
                        kafka_wire_pipe_sealed(p);
                        free(g);
                        j += m;
                }
                ps[n_ps++] = p;
        }
        kafka_wire_pipes_run(ps, n_ps, ctx, fo_on_offsets, &f);
        for (size_t x = 0; x < n_ps; x++)
                for (size_t q = ps[x]->head; q < ps[x]->nq; q++)
                        for (size_t j = ps[x]->q[q].first; j < ps[x]->q[q].first + ps[x]->q[q].n; j++)
                                fo_fail(&f, f.order[j], &ps[x]->err);
done:
        for (size_t c = 0; c < f.n_coords; c++) {
                if (f.coords[c].pipe && f.coords[c].pipe != &bp) {
                        kafka_wire_pipe_done(f.coords[c].pipe);
                        free(f.coords[c].pipe);
                }
                free(f.coords[c].host);
        }
        free(f.coords);
        free(ps);
        kafka_wire_pipe_done(&bp);
        kafka_wire_api_versions_done(&av);
        free(f.done);
        free(f.coord);
        free(f.order);
        return f.answered;
}

int kafka_wire_fetch_metadata(const struct kafka_wire_endpoint *boot, size_t n_boot,
                              const struct kafka_wire_sec *sec,
                              const struct coll_ctx *ctx, struct kafka_wire_metadata *out,
                              struct err *err)
{
        struct kafka_wire_api_versions av;
        struct kafka_wire_pipe bp;
        struct kafka_wire_wr w;
        uint8_t *resp = NULL;
        size_t len, bi = 0;
        int mv, rc = -1;
        int32_t corr;

        memset(out, 0, sizeof *out);
        memset(&av, 0, sizeof av);
        kafka_wire_wr_init(&w);
        kafka_wire_pipe_init(&bp, "Metadata");
        if (fo_bootstrap(&bp, boot, n_boot, sec, ctx, &av, &bi, err))
                goto done;
        mv = kafka_wire_pick_version(&av, KWIRE_METADATA, 1, 12);
        if (mv < 0) {
                err_set(err, KWIRE_E_UNSUPPORTED, "%s does not support Metadata v1-v12",
                        bp.io.peer);
                goto done;
        }
        corr = bp.io.next_corr++;
        kafka_wire_enc_metadata(&w, (int16_t)mv, corr, KWIRE_CLIENT_ID);
        if (kafka_wire_io_roundtrip(&bp.io, ctx, "Metadata", &w, &resp, &len, err))
                goto done;
        if (kafka_wire_dec_response(KWIRE_METADATA, (int16_t)mv, resp, len, corr, bp.io.peer, out,
                                    err))
                goto done;
        rc = 0;
done:
        free(resp);
        kafka_wire_wr_done(&w);
        kafka_wire_pipe_done(&bp);
        kafka_wire_api_versions_done(&av);
        return rc;
}
