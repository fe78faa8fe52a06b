/*
 * snapshot: refcounted, immutable poll results. See snapshot.h.
 */
#include "core/snapshot.h"

#include <math.h>
#include <stdlib.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"

const char *coll_status_name(enum coll_status s)
{
        switch (s) {
        case COLL_OK:
                return "ok";
        case COLL_DEGRADED:
                return "degraded";
        case COLL_DOWN:
                return "down";
        case COLL_UNKNOWN:
        default:
                return "unknown";
        }
}

struct snapshot *snapshot_new(const struct source_cfg *src)
{
        struct snapshot *s = xcalloc(1, sizeof *s);

        atomic_init(&s->refs, 1);
        s->src = src;
        s->key_value = NAN;
        ring_init(&s->key_hist);
        return s;
}

struct snapshot *snapshot_ref(struct snapshot *s)
{
        if (s)
                atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
        return s;
}

void snapshot_unref(struct snapshot *s)
{
        if (!s)
                return;
        if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
                return;
        if (s->data && s->src && s->src->ops && s->src->ops->data_free)
                s->src->ops->data_free(s->data);
        free(s);
}

int64_t snapshot_age_ms(const struct snapshot *s, int64_t now_mono)
{
        if (!s || !s->collected_at)
                return -1;
        return now_mono - s->collected_mono;
}

int snapshot_is_stale(const struct snapshot *s, int64_t now_mono)
{
        int64_t age = snapshot_age_ms(s, now_mono);

        int64_t expect;

        if (age < 0 || !s->src)
                return 0;
        /* While a source fails, the runtime backs off; the next poll is due
         * after next_poll_ms, not after the interval. */
        expect = s->src->interval_ms;
        if (s->next_poll_ms > expect)
                expect = s->next_poll_ms;
        return age > 2 * expect;
}
