/*
 * bench_report: how long the `status --json` document and the `check` line
 * take to build from snapshots, for growing numbers of PostgreSQL sources
 * and replication slots. Uses the real postgres kind (its to_json and
 * alerts) on hand-built data, so it measures report.c + cJSON + the kind's
 * readers, without any I/O. Prints one line per case; asserts nothing.
 *
 *   ./build/bench/bench_report [seconds-per-case]     (default 0.3)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "collectors/postgres.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "core/util.h"

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One PostgreSQL source's data with n slots; every 10th slot is inactive
 * and far behind, so alerts are produced too. */
static struct pg_data *bench_pg_data(size_t n)
{
        struct pg_data *d = xcalloc(1, sizeof *d);

        d->server_version = xstrdup("15.18 (Debian 15.18-0+deb12u1)");
        d->server_version_num = 150018;
        d->wal_level = xstrdup("logical");
        d->max_replication_slots = 10;
        d->max_wal_senders = 10;
        d->max_slot_wal_keep_size = -1;
        str_copy(d->current_lsn, "0/5A3B2C10", sizeof d->current_lsn);
        d->wal_bytes_per_sec = 123456.0;
        d->slots = xcalloc(n ? n : 1, sizeof *d->slots);
        d->n_slots = n;
        for (size_t i = 0; i < n; i++) {
                struct pg_slot *s = &d->slots[i];
                bool stale = i % 10 == 0;

                s->name = xasprintf("slot_%05zu", i);
                s->plugin = xstrdup("pgoutput");
                s->type = xstrdup("logical");
                s->database = xstrdup("orders");
                s->active = !stale;
                s->active_pid = stale ? 0 : 1000 + (int)i;
                str_copy(s->restart_lsn, "0/1A000000", sizeof s->restart_lsn);
                str_copy(s->confirmed_flush_lsn, "0/1A0000F0", sizeof s->confirmed_flush_lsn);
                s->has_lag = true;
                s->lag_bytes = stale ? 3LL << 30 : (int64_t)(i * 1000);
                s->has_retained = true;
                s->retained_bytes = s->lag_bytes + 4096;
                s->wal_status = xstrdup("reserved");
                s->lag_rate = stale ? 2048.0 : 0.0;
                s->retained_rate = s->lag_rate;
                s->eta_lost_s = -1;
                s->inactive_for_ms = stale ? 600000 : 0;
                ring_init(&s->lag_hist);
                ring_init(&s->retained_hist);
                for (int k = 0; k < RING_CAP; k++) {
                        ring_push(&s->lag_hist, 1000 * k, (double)s->lag_bytes);
                        ring_push(&s->retained_hist, 1000 * k, (double)s->retained_bytes);
                }
        }
        return d;
}

/* Frees what bench_pg_data made (we do not rely on postgres_data_free, so the
 * bench works against any collector version). */
static void bench_pg_free(struct pg_data *d)
{
        for (size_t i = 0; i < d->n_slots; i++) {
                free(d->slots[i].name);
                free(d->slots[i].plugin);
                free(d->slots[i].type);
                free(d->slots[i].database);
                free(d->slots[i].wal_status);
        }
        free(d->slots);
        free(d->server_version);
        free(d->wal_level);
        free(d);
}

static void bench_case(size_t n_src, size_t n_slots, double budget)
{
        const struct collector_ops *ops = &coll_postgres_ops;
        struct source_cfg *srcs = xcalloc(n_src, sizeof *srcs);
        struct snapshot **snaps = xcalloc(n_src, sizeof *snaps);
        struct threshold *thr;
        size_t n_thr = 0, bytes = 0, iters = 0, n_alerts = 0;
        double t0, t_json = 0, t_check = 0;

        while (ops->thresholds && ops->thresholds[n_thr].name)
                n_thr++;
        thr = xcalloc(n_thr ? n_thr : 1, sizeof *thr);
        for (size_t k = 0; k < n_thr; k++) {
                thr[k].def = &ops->thresholds[k];
                thr[k].warn = ops->thresholds[k].warn;
                thr[k].crit = ops->thresholds[k].crit;
        }
        for (size_t i = 0; i < n_src; i++) {
                srcs[i].name = xasprintf("orders-db-%zu", i);
                srcs[i].kind = xstrdup("postgres");
                srcs[i].ops = ops;
                srcs[i].interval_ms = 5000;
                srcs[i].timeout_ms = 3000;
                srcs[i].thresholds = thr;
                srcs[i].n_thresholds = n_thr;
                snaps[i] = snapshot_new(&srcs[i]);
                snaps[i]->status = COLL_OK;
                snaps[i]->collected_at = clock_wall_ms();
                snaps[i]->collected_mono = clock_mono_ms();
                snaps[i]->poll_ms = 4;
                snaps[i]->data = bench_pg_data(n_slots);
                snaps[i]->key_value = 3.0 * (1 << 30);
        }

        t0 = now_s();
        do {
                double a = now_s(), b, c;
                cJSON *doc = report_json((const struct snapshot *const *)snaps, srcs, n_src,
                                         clock_wall_ms());
                char *txt = cJSON_PrintUnformatted(doc);
                char *line;
                int rc;

                b = now_s();
                line = report_check_line((const struct snapshot *const *)snaps, srcs, n_src, &rc);
                c = now_s();
                t_json += b - a;
                t_check += c - b;
                bytes = strlen(txt);
                n_alerts = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(doc, "alerts"));
                cJSON_free(txt);
                cJSON_Delete(doc);
                free(line);
                iters++;
        } while (now_s() - t0 < budget);

        printf("%3zu source(s) x %5zu slots: json %9.1f us (%8zu bytes, %5zu alerts), "
               "check line %8.1f us  [%zu iterations]\n",
               n_src, n_slots, 1e6 * t_json / (double)iters, bytes, n_alerts,
               1e6 * t_check / (double)iters, iters);

        for (size_t i = 0; i < n_src; i++) {
                bench_pg_free(snaps[i]->data);
                snaps[i]->data = NULL;
                snapshot_unref(snaps[i]);
                free(srcs[i].name);
                free(srcs[i].kind);
        }
        free(thr);
        free(snaps);
        free(srcs);
}

int main(int argc, char **argv)
{
        static const size_t cases[][2] = {
                { 1, 2 }, { 1, 20 }, { 1, 100 }, { 10, 100 }, { 1, 1000 }, { 10, 1000 },
        };
        double budget = argc > 1 ? atof(argv[1]) : 0.3;

        if (!(budget > 0))
                budget = 0.3;
        if (!coll_postgres_ops.to_json)
                printf("note: the postgres kind has no to_json yet; timing the common keys only\n");
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++)
                bench_case(cases[i][0], cases[i][1], budget);
        return 0;
}
