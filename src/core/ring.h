/*
 * ring: a bounded history of (time, value) samples for sparklines and
 * rates. Fixed capacity, no allocation; a ring is plain data, so copying the
 * struct copies the history (that is how snapshots carry it). Not locked:
 * the owner (one collector thread) writes it, readers get copies.
 */
#ifndef LO_SRC_RING_H
#define LO_SRC_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_CAP 120

struct ring {
        int64_t t[RING_CAP];    /* monotonic ms of each sample */
        double  v[RING_CAP];
        size_t  head;           /* index of the next write */
        size_t  n;              /* samples held, <= RING_CAP */
};

void   ring_init(struct ring *r);
void   ring_push(struct ring *r, int64_t t_ms, double v);
/* i = 0 is the oldest sample held. Caller keeps i < r->n. */
double ring_value(const struct ring *r, size_t i);
int64_t ring_time(const struct ring *r, size_t i);
double ring_last(const struct ring *r);         /* NAN when empty */
/* Rate of change per second over samples no older than window_ms before the
 * newest: least-squares slope. Returns 0 when fewer than 2 samples fall in
 * the window or they all share one timestamp. */
double ring_rate(const struct ring *r, int64_t window_ms);
/* Copies the newest min(n, max) values, oldest first, into out; returns how
 * many were written. */
size_t ring_values(const struct ring *r, double *out, size_t max);

#endif
