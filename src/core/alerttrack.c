/*
 * alerttrack: the alert lifecycle. See alerttrack.h. Pure data structure
 * code; the caller supplies the clocks, so tests drive time.
 */
#include "core/alerttrack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/util.h"

void alerttrack_init(struct alert_tracker *t)
{
        memset(t, 0, sizeof *t);
}

void alerttrack_done(struct alert_tracker *t)
{
        free(t->v);
        free(t->q);
        memset(t, 0, sizeof *t);
}

void alerttrack_record(struct alert_tracker *t, bool on)
{
        t->record = on;
}

const char *alert_state_name(enum alert_state s)
{
        switch (s) {
        case ALERT_PENDING:
                return "pending";
        case ALERT_FIRING:
                return "firing";
        case ALERT_RESOLVED:
                return "resolved";
        case ALERT_UNKNOWN:
        default:
                return "unknown";
        }
}

const char *alert_tr_kind_name(enum alert_tr_kind k)
{
        switch (k) {
        case ALERT_TR_FIRED:
                return "fired";
        case ALERT_TR_SEVERITY:
                return "severity";
        case ALERT_TR_UNKNOWN:
                return "unknown";
        case ALERT_TR_KNOWN:
                return "known";
        case ALERT_TR_RESOLVED:
        default:
                return "resolved";
        }
}

/* 64-bit FNV-1a: tiny, public, and the same on every platform and run. */
static uint64_t alerttrack_fnv(uint64_t h, const char *s)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");

        for (;; p++) {
                h ^= *p;
                h *= 0x100000001b3ULL;
                if (!*p)
                        return h;       /* the NUL is hashed too: "a","bc" != "ab","c" */
        }
}

void alerttrack_fingerprint(const char *environment, const char *source, const char *metric,
                            const char *subject, char out[ALERT_FP_LEN])
{
        uint64_t h = 0xcbf29ce484222325ULL;
        static const char hex[] = "0123456789abcdef";

        h = alerttrack_fnv(h, environment);
        h = alerttrack_fnv(h, source);
        h = alerttrack_fnv(h, metric);
        h = alerttrack_fnv(h, subject);
        for (int i = 15; i >= 0; i--) {
                out[i] = hex[h & 0xf];
                h >>= 4;
        }
        out[16] = '\0';
}

static const char *alerttrack_env(const struct alert *a)
{
        return a->src && a->src->cfg && a->src->cfg->environment ? a->src->cfg->environment : "";
}

static bool alerttrack_same(const struct alert *a, const struct alert *b)
{
        return strcmp(a->source, b->source) == 0 && strcmp(a->metric, b->metric) == 0 &&
               strcmp(a->subject, b->subject) == 0;
}

static int alerttrack_cmp(const void *pa, const void *pb)
{
        const struct alert_track *a = pa, *b = pb;
        bool ra = a->resolved_mono != 0, rb = b->resolved_mono != 0;

        if (ra != rb)
                return ra ? 1 : -1;
        if (ra)         /* resolved: newest first */
                return a->resolved_mono < b->resolved_mono ? 1 :
                       a->resolved_mono > b->resolved_mono ? -1 : 0;
        if (a->a.sev != b->a.sev)
                return a->a.sev == SEV_CRIT ? -1 : b->a.sev == SEV_CRIT ? 1 : 0;
        if (a->since_mono != b->since_mono)
                return a->since_mono < b->since_mono ? -1 : 1;
        return strcmp(a->a.source, b->a.source);
}

static void alerttrack_emit(struct alert_tracker *t, const struct alert_track *tr,
                            enum alert_tr_kind kind, enum severity prev, int64_t now_mono,
                            int64_t now_wall)
{
        struct alert_transition *r;

        if (!t->record)
                return;
        if (t->q_n == ALERTTRACK_QUEUE_MAX) {
                /* Nobody drained: the oldest goes, and the loss is counted. */
                t->q_head = (t->q_head + 1) % t->q_cap;
                t->q_n--;
                t->dropped++;
        }
        if (t->q_n == t->q_cap) {
                size_t cap = t->q_cap ? 2 * t->q_cap : 32;
                struct alert_transition *q;

                if (cap > ALERTTRACK_QUEUE_MAX)
                        cap = ALERTTRACK_QUEUE_MAX;
                q = xcalloc(cap, sizeof *q);
                for (size_t i = 0; i < t->q_n; i++)
                        q[i] = t->q[(t->q_head + i) % t->q_cap];
                free(t->q);
                t->q = q;
                t->q_cap = cap;
                t->q_head = 0;
        }
        r = &t->q[(t->q_head + t->q_n) % t->q_cap];
        t->q_n++;
        memset(r, 0, sizeof *r);
        r->seq = ++t->seq;
        r->kind = kind;
        r->state = tr->state;
        r->sev = tr->a.sev;
        r->prev_sev = kind == ALERT_TR_SEVERITY ? prev : tr->a.sev;
        memcpy(r->fingerprint, tr->fingerprint, sizeof r->fingerprint);
        str_copy(r->environment, alerttrack_env(&tr->a), sizeof r->environment);
        r->a = tr->a;
        r->at_mono = now_mono;
        r->at_wall = now_wall;
        r->starts_at_wall = tr->fired_wall;
        r->ends_at_wall = tr->state == ALERT_RESOLVED ? tr->resolved_wall : 0;
}

size_t alerttrack_drain(struct alert_tracker *t, struct alert_transition *out, size_t max)
{
        size_t n = 0;

        while (n < max && t->q_n) {
                out[n++] = t->q[t->q_head];
                t->q_head = (t->q_head + 1) % t->q_cap;
                t->q_n--;
        }
        return n;
}

static bool alerttrack_down(const struct alert_list *now, const char *source)
{
        for (size_t i = 0; now && i < now->n; i++)
                if (health_alert_down(&now->v[i]) && strcmp(now->v[i].source, source) == 0)
                        return true;
        return false;
}

/* A tracked alert seen in this frame: holds (again). */
static void alerttrack_seen(struct alert_tracker *t, struct alert_track *tr,
                            const struct alert *a, int64_t now_mono, int64_t now_wall)
{
        if (tr->state == ALERT_UNKNOWN) {
                /* Back from a down source, still holding: the same episode. */
                tr->state = tr->fired_mono ? ALERT_FIRING : ALERT_PENDING;
                tr->a = *a;
                if (tr->fired_mono)
                        alerttrack_emit(t, tr, ALERT_TR_KNOWN, tr->a.sev, now_mono, now_wall);
        }
        tr->a = *a;
        tr->clear_mono = 0;
        if (a->sev == SEV_CRIT)
                tr->peak = SEV_CRIT;
        /* Frames come at every key press; sample at most every
         * ALERTTRACK_SAMPLE_MS so the ring spans minutes. */
        if (!isnan(a->value) &&
            (tr->values.n == 0 ||
             now_mono - ring_time(&tr->values, tr->values.n - 1) >= ALERTTRACK_SAMPLE_MS))
                ring_push(&tr->values, now_mono, a->value);
        if (tr->state == ALERT_PENDING && now_mono - tr->since_mono >= tr->for_ms) {
                tr->state = ALERT_FIRING;
                tr->fired_mono = now_mono;
                tr->fired_wall = now_wall;
                tr->notified = a->sev;
                alerttrack_emit(t, tr, ALERT_TR_FIRED, a->sev, now_mono, now_wall);
        } else if (tr->state == ALERT_FIRING && a->sev != tr->notified) {
                enum severity prev = tr->notified;

                tr->notified = a->sev;
                alerttrack_emit(t, tr, ALERT_TR_SEVERITY, prev, now_mono, now_wall);
        }
}

/* A tracked active alert missing from this frame. Returns false when it
 * is to be dropped (a pending alert that cleared never existed outside). */
static bool alerttrack_missing(struct alert_tracker *t, struct alert_track *tr, bool down,
                               int64_t now_mono, int64_t now_wall)
{
        if (down) {
                /* Its source is down: we do not know. Never resolved. */
                if (tr->state != ALERT_UNKNOWN) {
                        tr->state = ALERT_UNKNOWN;
                        tr->clear_mono = 0;
                        if (tr->fired_mono)
                                alerttrack_emit(t, tr, ALERT_TR_UNKNOWN, tr->a.sev, now_mono,
                                                now_wall);
                }
                return true;
        }
        if (!tr->fired_mono)
                return false;
        if (tr->state == ALERT_UNKNOWN) {
                tr->state = ALERT_FIRING;
                alerttrack_emit(t, tr, ALERT_TR_KNOWN, tr->a.sev, now_mono, now_wall);
        }
        if (!tr->clear_mono)
                tr->clear_mono = now_mono;
        if (now_mono - tr->clear_mono >= tr->keep_ms) {
                tr->state = ALERT_RESOLVED;
                tr->resolved_mono = now_mono;
                tr->resolved_wall = now_wall;
                alerttrack_emit(t, tr, ALERT_TR_RESOLVED, tr->a.sev, now_mono, now_wall);
        }
        return true;
}

static struct alert_track *alerttrack_new(struct alert_tracker *t, const struct alert *a,
                                          int64_t now_mono, int64_t now_wall)
{
        struct alert_track *tr;

        if (t->n == t->cap) {
                t->cap = t->cap ? 2 * t->cap : 16;
                t->v = xrealloc(t->v, t->cap * sizeof *t->v);
        }
        tr = &t->v[t->n++];
        memset(tr, 0, sizeof *tr);
        ring_init(&tr->values);
        tr->a = *a;
        tr->state = ALERT_PENDING;
        tr->since_mono = now_mono;
        tr->since_wall = now_wall;
        tr->peak = a->sev;
        tr->notified = a->sev;
        config_alert_timing(a->src, a->metric, &tr->for_ms, &tr->keep_ms);
        alerttrack_fingerprint(alerttrack_env(a), a->source, a->metric, a->subject,
                               tr->fingerprint);
        return tr;
}

void alerttrack_update(struct alert_tracker *t, const struct alert_list *now,
                       int64_t now_mono, int64_t now_wall)
{
        bool *seen = xcalloc(t->n + 1, sizeof *seen);
        bool *keep;
        size_t old_n = t->n, w = 0;

        for (size_t i = 0; now && i < now->n; i++) {
                const struct alert *a = &now->v[i];
                struct alert_track *tr = NULL;

                for (size_t j = 0; j < old_n; j++) {
                        if (!seen[j] && t->v[j].state != ALERT_RESOLVED &&
                            alerttrack_same(&t->v[j].a, a)) {
                                tr = &t->v[j];
                                seen[j] = true;
                                break;
                        }
                }
                if (!tr)
                        tr = alerttrack_new(t, a, now_mono, now_wall);
                alerttrack_seen(t, tr, a, now_mono, now_wall);
        }
        keep = xcalloc(t->n + 1, sizeof *keep);
        for (size_t j = 0; j < t->n; j++) {
                struct alert_track *tr = &t->v[j];

                keep[j] = true;
                if (j < old_n && !seen[j] && tr->state != ALERT_RESOLVED)
                        keep[j] = alerttrack_missing(t, tr, alerttrack_down(now, tr->a.source),
                                                     now_mono, now_wall);
                if (tr->state == ALERT_RESOLVED &&
                    now_mono - tr->resolved_mono > ALERTTRACK_KEEP_MS)
                        keep[j] = false;
        }
        free(seen);
        for (size_t j = 0; j < t->n; j++) {
                if (!keep[j])
                        continue;
                if (w != j)
                        t->v[w] = t->v[j];
                w++;
        }
        free(keep);
        t->n = w;
        if (t->n > 1)
                qsort(t->v, t->n, sizeof *t->v, alerttrack_cmp);
}

enum alert_trend alerttrack_trend(const struct alert_track *a, int64_t window_ms)
{
        double rate, last;

        if (a->values.n < 3)
                return TREND_UNKNOWN;
        rate = ring_rate(&a->values, window_ms);
        last = ring_last(&a->values);
        /* Under 1% of the value per minute counts as steady. */
        if (fabs(rate) * 60.0 < fabs(last) * 0.01 || rate == 0)
                return TREND_STEADY;
        return rate > 0 ? TREND_WORSE : TREND_BETTER;
}

const char *alerttrack_trend_name(enum alert_trend tr)
{
        switch (tr) {
        case TREND_WORSE:
                return "worse";
        case TREND_BETTER:
                return "better";
        case TREND_STEADY:
                return "steady";
        case TREND_UNKNOWN:
        default:
                return "";
        }
}

void alert_board_init(struct alert_board *b)
{
        memset(b, 0, sizeof *b);
        pthread_mutex_init(&b->mu, NULL);
}

void alert_board_done(struct alert_board *b)
{
        free(b->v);
        pthread_mutex_destroy(&b->mu);
        memset(b, 0, sizeof *b);
}

void alert_board_publish(struct alert_board *b, const struct alert_tracker *t)
{
        struct alert_track *v = t->n ? xmalloc(t->n * sizeof *v) : NULL, *old;

        if (t->n)
                memcpy(v, t->v, t->n * sizeof *v);
        pthread_mutex_lock(&b->mu);
        old = b->v;
        b->v = v;
        b->n = t->n;
        b->gen++;
        pthread_mutex_unlock(&b->mu);
        free(old);      /* outside the lock: a reader never waits on free */
}

size_t alert_board_copy(struct alert_board *b, struct alert_track **out)
{
        size_t n;

        pthread_mutex_lock(&b->mu);
        n = b->n;
        *out = n ? xmalloc(n * sizeof **out) : NULL;
        if (n)
                memcpy(*out, b->v, n * sizeof **out);
        pthread_mutex_unlock(&b->mu);
        return n;
}

size_t alerttrack_active(const struct alert_tracker *t)
{
        size_t n = 0;

        for (size_t i = 0; i < t->n; i++)
                if (!t->v[i].resolved_mono)
                        n++;
        return n;
}
