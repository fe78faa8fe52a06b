/*
 * bench_reconcile: two 200,000-row results through the reconciliation
 * engine (collectors/reconcile/reconcile.c): hash join, classification, sort and
 * the worst bucket. Rows are generated on the fly into the engine's sinks
 * the way a runner streams them (typed cells: a timestamp key, an integer
 * and an exact-decimal measure), so what is measured is the engine and
 * nothing else; the JSON document for all buckets is timed separately.
 *
 * Data: hourly buckets; the batch side holds buckets 0..N-1, the speed
 * side 1000..N+999 (1,000 missing on each side); every 100th common bucket
 * differs within tolerance, every 1,000th beyond it; the newest 48 are in
 * flight. Speed rows arrive in shuffled order. Peak RSS is the process's
 * (getrusage ru_maxrss) and includes the binary and libraries.
 *
 *   ./build/bench/bench_reconcile [rows-per-side]     (default 200000)
 *
 * Prints figures; asserts nothing except that the counts are what the
 * data implies (a wrong engine should not produce a fast number).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "collectors/reconcile/reconcile.h"
#include "clients/sql.h"
#include "core/util.h"

#define H 3600000LL
#define T0 1577836800000LL      /* 2020-01-01T00:00:00Z */

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

static void side(struct reconcile_engine *e, enum reconcile_side s, size_t n, size_t off,
                 bool shuffle)
{
        static const struct sql_col cols[3] = {
                { "bucket", SQL_T_TIME, "timestamptz" },
                { "n", SQL_T_INT, "int8" },
                { "amount", SQL_T_NUM, "numeric" },
        };
        struct sql_sink sink = coll_reconcile_sink(e, s);
        struct err err;
        char text[32];

        if (sink.begin(sink.ud, cols, 3, &err) < 0) {
                fprintf(stderr, "begin: %s\n", err.msg);
                exit(1);
        }
        for (size_t k = 0; k < n; k++) {
                /* A fixed permutation of 0..n-1 for the shuffled side. */
                size_t i = shuffle ? (k * 7919) % n : k, b = i + off;
                double amount = (double)(b % 997) * 10.25;
                struct sql_cell c[3] = { { .i = T0 + (int64_t)b * H }, { .i = (int64_t)(b % 50) },
                                         { .text = text } };

                if (s == REC_SPEED && b % 100 == 0)
                        amount += 0.01;         /* within 0.5% (or 0 vs 0.01: mismatch) */
                if (s == REC_SPEED && b % 1000 == 0)
                        amount += 1000;         /* beyond */
                c[2].d = amount;
                snprintf(text, sizeof text, "%.2f", amount);
                if (sink.row(sink.ud, c, 3, &err) < 0) {
                        fprintf(stderr, "row: %s\n", err.msg);
                        exit(1);
                }
        }
}

int main(int argc, char **argv)
{
        static const char *const keys[] = { "bucket" };
        static const char *const meas[] = { "n", "amount" };
        struct reconcile_tol tol[2] = { { REC_TOL_ABS, 0 }, { REC_TOL_PCT, 0.5 } };
        size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 200000;
        struct reconcile_spec sp = { keys, 1, meas, 2, tol, 48 * H, 0 };
        struct reconcile_engine *e;
        struct reconcile_data *d;
        struct err err;
        long rss0 = rss_kb(), rss1;
        double t0, t1, t2;
        int64_t now = T0 + (int64_t)(n + 999) * H + 1;
        cJSON *o;
        char *js;

        t0 = now_s();
        e = coll_reconcile_engine_new(&sp);
        side(e, REC_BATCH, n, 0, false);
        side(e, REC_SPEED, n, 1000, true);
        d = coll_reconcile_finish(e, now, &err);
        coll_reconcile_engine_free(e);
        t1 = now_s();
        rss1 = rss_kb();
        if (!d) {
                fprintf(stderr, "finish: %s\n", err.msg);
                return 1;
        }
        o = cJSON_CreateObject();
        coll_reconcile_ops.to_json(d, o);
        js = cJSON_PrintUnformatted(o);
        t2 = now_s();

        printf("rows per side:       %zu (speed shuffled)\n", n);
        printf("buckets:             %zu: compared %zu (match %zu, within %zu, mismatch %zu), "
               "missing in speed %zu, in batch %zu, in flight %zu\n",
               d->n_buckets, d->compared, d->matched, d->within, d->mismatched,
               d->missing_in_speed, d->missing_in_batch, d->in_flight);
        printf("engine time:         %.3f s (hash join, classify, sort, worst)\n", t1 - t0);
        printf("peak RSS:            %.1f MB after the engine (%.1f MB at start)\n",
               (double)rss1 / 1024.0, (double)rss0 / 1024.0);
        printf("JSON of all buckets: %.3f s, %.1f MB of text (status --json only)\n", t2 - t1,
               (double)strlen(js) / (1024.0 * 1024.0));
        printf("peak RSS with JSON:  %.1f MB\n", (double)rss_kb() / 1024.0);
        if (n == 200000 && (d->missing_in_speed != 1000 || d->missing_in_batch != 952 ||
                            d->in_flight != 48 || d->compared != n - 1000)) {
                fprintf(stderr, "unexpected counts\n");
                return 1;
        }
        cJSON_free(js);
        cJSON_Delete(o);
        reconcile_data_free(d);
        return 0;
}
