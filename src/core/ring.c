/*
 * ring: fixed-size sample history. See ring.h.
 */
#include "core/ring.h"

#include <math.h>
#include <string.h>

void ring_init(struct ring *r)
{
        memset(r, 0, sizeof *r);
}

void ring_push(struct ring *r, int64_t t_ms, double v)
{
        r->t[r->head] = t_ms;
        r->v[r->head] = v;
        r->head = (r->head + 1) % RING_CAP;
        if (r->n < RING_CAP)
                r->n++;
}

static size_t ring_index(const struct ring *r, size_t i)
{
        return (r->head + RING_CAP - r->n + i) % RING_CAP;
}

double ring_value(const struct ring *r, size_t i)
{
        return r->v[ring_index(r, i)];
}

int64_t ring_time(const struct ring *r, size_t i)
{
        return r->t[ring_index(r, i)];
}

double ring_last(const struct ring *r)
{
        return r->n ? ring_value(r, r->n - 1) : NAN;
}

double ring_rate(const struct ring *r, int64_t window_ms)
{
        double st = 0, sv = 0, stt = 0, stv = 0, k = 0;
        int64_t newest, t0;
        size_t first;

        if (r->n < 2)
                return 0;
        newest = ring_time(r, r->n - 1);
        first = r->n;
        while (first > 0 && newest - ring_time(r, first - 1) <= window_ms)
                first--;
        if (r->n - first < 2)
                return 0;
        t0 = ring_time(r, first);
        for (size_t i = first; i < r->n; i++) {
                double t = (double)(ring_time(r, i) - t0) / 1000.0;
                double v = ring_value(r, i);
                st += t;
                sv += v;
                stt += t * t;
                stv += t * v;
                k++;
        }
        if (k * stt - st * st == 0)
                return 0;
        return (k * stv - st * sv) / (k * stt - st * st);
}

size_t ring_values(const struct ring *r, double *out, size_t max)
{
        size_t n = r->n < max ? r->n : max;

        for (size_t i = 0; i < n; i++)
                out[i] = ring_value(r, r->n - n + i);
        return n;
}
