/*
 * test_ring: the history ring on known sequences: order after wrap-around,
 * ring_values windows, and ring_rate (least-squares slope) exactly, including
 * which samples fall inside the window at its edges. Pure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "core/ring.h"

static void test_empty(void **state)
{
        struct ring r;
        double out[4];

        (void)state;
        ring_init(&r);
        assert_int_equal(r.n, 0);
        assert_true(isnan(ring_last(&r)));
        assert_true(ring_rate(&r, 60000) == 0);
        assert_int_equal(ring_values(&r, out, 4), 0);
        ring_push(&r, 5, 7.5);
        assert_true(ring_last(&r) == 7.5);
        assert_true(ring_rate(&r, 60000) == 0);     /* one sample: no rate */
}

static void test_push_order(void **state)
{
        struct ring r;

        (void)state;
        ring_init(&r);
        for (int i = 0; i < 5; i++)
                ring_push(&r, 1000 * i, 10.0 * i);
        assert_int_equal(r.n, 5);
        for (size_t i = 0; i < 5; i++) {
                assert_true(ring_value(&r, i) == 10.0 * (double)i);
                assert_int_equal(ring_time(&r, i), 1000 * (int64_t)i);
        }
        assert_true(ring_last(&r) == 40.0);
}

static void test_wrap(void **state)
{
        struct ring r;
        double out[RING_CAP];

        (void)state;
        ring_init(&r);
        /* Fill exactly, then 5 more: the 5 oldest are gone. */
        for (int i = 0; i < RING_CAP; i++)
                ring_push(&r, i, (double)i);
        assert_int_equal(r.n, RING_CAP);
        assert_true(ring_value(&r, 0) == 0);
        assert_true(ring_last(&r) == RING_CAP - 1);
        for (int i = RING_CAP; i < RING_CAP + 5; i++)
                ring_push(&r, i, (double)i);
        assert_int_equal(r.n, RING_CAP);
        assert_true(ring_value(&r, 0) == 5);
        assert_int_equal(ring_time(&r, 0), 5);
        assert_true(ring_value(&r, RING_CAP - 1) == RING_CAP + 4);
        assert_true(ring_last(&r) == RING_CAP + 4);
        for (size_t i = 0; i < RING_CAP; i++)
                assert_true(ring_value(&r, i) == (double)(i + 5));
        /* ring_values: all of them, oldest first. */
        assert_int_equal(ring_values(&r, out, RING_CAP), RING_CAP);
        for (size_t i = 0; i < RING_CAP; i++)
                assert_true(out[i] == (double)(i + 5));
}

static void test_values_newest(void **state)
{
        struct ring r;
        double out[8];

        (void)state;
        ring_init(&r);
        for (int i = 1; i <= 6; i++)
                ring_push(&r, i, (double)i);
        /* max < n: the newest `max`, oldest first. */
        memset(out, 0, sizeof out);
        assert_int_equal(ring_values(&r, out, 3), 3);
        assert_true(out[0] == 4 && out[1] == 5 && out[2] == 6);
        /* max > n: everything, rest untouched. */
        out[6] = -1;
        assert_int_equal(ring_values(&r, out, 8), 6);
        for (int i = 0; i < 6; i++)
                assert_true(out[i] == i + 1);
        assert_true(out[6] == -1);
        assert_int_equal(ring_values(&r, out, 0), 0);
}

static void test_rate_linear(void **state)
{
        struct ring r;

        (void)state;
        ring_init(&r);
        /* +10 per second, sampled every 500 ms. */
        for (int i = 0; i <= 10; i++)
                ring_push(&r, 100000 + 500 * i, 1000 + 5.0 * i);
        assert_true(ring_rate(&r, 60000) == 10.0);
        assert_true(ring_rate(&r, 500) == 10.0);   /* just the last two */
        /* Falling values give a negative rate. */
        ring_init(&r);
        for (int i = 0; i < 4; i++)
                ring_push(&r, 1000 * i, 300 - 100.0 * i);
        assert_true(ring_rate(&r, 60000) == -100.0);
}

static void test_rate_window_edges(void **state)
{
        struct ring r;

        (void)state;
        /* t = 0,1,2,3 s; v = 100,10,20,30. Over all four samples the
         * least-squares slope is exactly -20/s; over the last three (or two)
         * it is +10/s. */
        ring_init(&r);
        ring_push(&r, 0, 100);
        ring_push(&r, 1000, 10);
        ring_push(&r, 2000, 20);
        ring_push(&r, 3000, 30);
        assert_true(ring_rate(&r, 3000) == -20.0);  /* newest - t0 == window: inside */
        assert_true(ring_rate(&r, 3001) == -20.0);
        assert_true(ring_rate(&r, 2999) == 10.0);   /* t0 just outside */
        assert_true(ring_rate(&r, 2000) == 10.0);
        assert_true(ring_rate(&r, 1999) == 10.0);   /* two samples left */
        assert_true(ring_rate(&r, 1000) == 10.0);
        assert_true(ring_rate(&r, 999) == 0.0);     /* only the newest: no rate */
        assert_true(ring_rate(&r, 0) == 0.0);
}

static void test_rate_same_time(void **state)
{
        struct ring r;

        (void)state;
        ring_init(&r);
        ring_push(&r, 42, 1);
        ring_push(&r, 42, 5);
        ring_push(&r, 42, 9);
        assert_true(ring_rate(&r, 1000) == 0.0);
}

static void test_rate_after_wrap(void **state)
{
        struct ring r;

        (void)state;
        /* Old steep samples are pushed out; the rate reflects what is held. */
        ring_init(&r);
        for (int i = 0; i < 50; i++)
                ring_push(&r, 1000 * i, 1e6 * i);
        for (int i = 50; i < 50 + RING_CAP; i++)
                ring_push(&r, 1000 * i, 7.0 * i);
        assert_int_equal(r.n, RING_CAP);
        assert_true(fabs(ring_rate(&r, INT64_MAX / 2) - 7.0) < 1e-9);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty),
                cmocka_unit_test(test_push_order),
                cmocka_unit_test(test_wrap),
                cmocka_unit_test(test_values_newest),
                cmocka_unit_test(test_rate_linear),
                cmocka_unit_test(test_rate_window_edges),
                cmocka_unit_test(test_rate_same_time),
                cmocka_unit_test(test_rate_after_wrap),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
