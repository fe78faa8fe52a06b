/*
 * bench_view_kafka: how long the Kafka pane takes to build a frame at
 * scale, without curses. Prints figures; asserts nothing.
 *
 *   ./build/bench/bench_view_kafka [-t topics] [-p partitions-per-topic] [-g groups] [-n frames]
 *
 * Defaults: 100 topics x 100 partitions (10,000), 3 brokers, 20 groups of
 * 500 partitions each plus one group reading all 10,000 partitions (the
 * worst case for the partition page). For each sub-view it times what the
 * generic table does per frame -- rows() for every row, the "/" filter
 * pass, table_layout() -- plus the preamble; for the partition page, the
 * windowed detail our draw() uses (40 lines on screen) against building the
 * whole page. Figures are the median and worst of -n frames (default 200).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka/kafka.h"
#include "core/ring.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/kafka.h"

static double bench_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench_cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void bench_group(struct kafka_data *d, struct kafka_group *g, int gi, int topics,
                        int parts, int first, int ntopics)
{
        char name[32];

        snprintf(name, sizeof name, "bench-g%02d", gi);
        g->name = xstrdup(name);
        g->state = xstrdup("Stable");
        g->members = 3;
        g->status = gi % 5 == 0 ? LAG_ERR : LAG_OK;
        g->worst = gi % 5 == 0 ? LAG_STALL : LAG_OK;
        g->lag_seconds = gi % 3 ? 12.0 * gi : NAN;
        g->lag_seconds_min = NAN;
        g->trend.rate = NAN;
        g->trend.eta_s = NAN;
        ring_init(&g->lag_hist);
        for (int k = 0; k < 16; k++)
                ring_push(&g->lag_hist, k * 5000, 1000.0 * gi + 37 * k);
        g->n_parts = (size_t)ntopics * (size_t)parts;
        g->parts = xcalloc(g->n_parts, sizeof *g->parts);
        g->lag = 0;
        for (int t = 0; t < ntopics; t++)
                for (int p = 0; p < parts; p++) {
                        struct kafka_group_part *gp = &g->parts[(size_t)t * parts + p];

                        gp->topic = d->topics[(first + t) % topics].name;
                        gp->partition = p;
                        gp->high_watermark = 100000 + p;
                        gp->committed = 100000 - 7 * p;
                        gp->lag = gp->high_watermark - gp->committed;
                        gp->lag_seconds = p % 11 ? 0.5 * p : NAN;
                        gp->lag_seconds_min = NAN;
                        gp->status = p % 13 ? LAG_OK : LAG_WARN;
                        gp->n_hist = KAFKA_SPARK_N;
                        for (int k = 0; k < KAFKA_SPARK_N; k++)
                                gp->lag_hist[k] = gp->lag + k;
                        g->lag += gp->lag;
                }
}

static struct kafka_data *bench_data(int topics, int parts, int groups)
{
        struct kafka_data *d = xcalloc(1, sizeof *d);
        char name[32];

        d->cluster_id = xstrdup("bench-cluster");
        d->n_brokers = 3;
        d->brokers = xcalloc(3, sizeof *d->brokers);
        for (int i = 0; i < 3; i++) {
                d->brokers[i].id = i + 1;
                d->brokers[i].host = xstrdup("127.0.0.1");
                d->brokers[i].port = 9092 + i;
                d->brokers[i].up = 1;
                d->brokers[i].in_metadata = true;
                d->brokers[i].rtt_ms = 0.3;
        }
        d->brokers_up = 3;
        str_copy(d->quorum.reason, "mock cluster: no DescribeQuorum", sizeof d->quorum.reason);
        d->quorum.leader_id = d->quorum.leader_epoch = -1;
        d->quorum.high_watermark = -1;
        d->names = xcalloc((size_t)topics, sizeof *d->names);
        d->topics = xcalloc((size_t)topics, sizeof *d->topics);
        for (int t = 0; t < topics; t++) {
                struct kafka_topic *tp = &d->topics[t];

                snprintf(name, sizeof name, "bench-%03d", t);
                d->names[t] = xstrdup(name);
                tp->name = d->names[t];
                tp->partitions = parts;
                tp->replication_factor = 3;
                tp->messages_per_sec = 10.0 * t;
                tp->n_rate_hist = KAFKA_SPARK_N;
                for (int k = 0; k < KAFKA_SPARK_N; k++)
                        tp->rate_hist[k] = (float)(t + k);
                tp->parts = xcalloc((size_t)parts, sizeof *tp->parts);
                for (int p = 0; p < parts; p++) {
                        tp->parts[p].id = p;
                        tp->parts[p].leader = 1 + p % 3;
                        tp->parts[p].replicas = tp->parts[p].isr = 3;
                        tp->parts[p].high_watermark = 100000 + p;
                }
        }
        d->n_names = d->n_topics = (size_t)topics;
        d->n_partitions = (size_t)topics * (size_t)parts;
        d->n_groups = (size_t)groups + 1;
        d->groups = xcalloc(d->n_groups, sizeof *d->groups);
        for (int g = 0; g < groups; g++)
                bench_group(d, &d->groups[g], g, topics, parts, g * 5, topics < 5 ? topics : 5);
        bench_group(d, &d->groups[groups], 99, topics, parts, 0, topics);
        return d;
}

struct bench_fig {
        double med, max;
};

static struct bench_fig bench_fig(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, bench_cmp);
        return (struct bench_fig){ v[n / 2], v[n - 1] };
}

int main(int argc, char **argv)
{
        int topics = 100, parts = 100, groups = 20, frames = 200;
        static const char *const names[] = { "groups", "brokers + quorum", "topics" };
        struct source_cfg src;
        struct snapshot *s;
        const struct snapshot *snaps[1];
        struct view_data d;
        double *t = NULL;
        char id[TABLE_ID_MAX];

        for (int i = 1; i < argc; i++) {
                if (i + 1 < argc && strcmp(argv[i], "-t") == 0)
                        topics = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-p") == 0)
                        parts = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-g") == 0)
                        groups = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
                        frames = atoi(argv[++i]);
                else {
                        fprintf(stderr, "usage: bench_view_kafka [-t topics] [-p partitions] "
                                "[-g groups] [-n frames]\n");
                        return 64;
                }
        }
        if (topics < 1 || parts < 1 || groups < 0 || frames < 1)
                return 64;
        t = xcalloc((size_t)frames, sizeof *t);
        memset(&src, 0, sizeof src);
        src.name = (char *)"bench";
        src.kind = (char *)"kafka";
        src.ops = &coll_kafka_ops;
        src.interval_ms = 5000;
        s = snapshot_new(&src);
        s->status = COLL_OK;
        s->collected_mono = clock_mono_ms();
        s->data = bench_data(topics, parts, groups);
        snaps[0] = s;
        memset(&d, 0, sizeof d);
        d.srcs = &src;
        d.snaps = snaps;
        d.n = 1;
        d.width = 160;
        printf("Kafka pane, one frame: %d topics x %d partitions (%d), %d groups + 1 of all "
               "partitions; median / worst of %d frames\n", topics, parts, topics * parts, groups,
               frames);
        for (unsigned show = 0; show < 3; show++) {
                struct table_rows rows;
                size_t n = 0;
                struct bench_fig f;

                table_rows_init(&rows);
                d.flags = show;
                for (int i = 0; i < frames; i++) {
                        struct tlines pre;
                        int w[TABLE_MAX_COLS];
                        double t0 = bench_now_ms();

                        d.now_mono = clock_mono_ms();
                        tlines_init(&pre);
                        view_kafka_preamble(&d, &pre);
                        table_rows_clear(&rows);
                        view_kafka_rows(&d, &rows);
                        n = rows.n;
                        table_filter(&rows, "");
                        table_layout(view_kafka_columns(show), 159, w);
                        tlines_done(&pre);
                        t[i] = bench_now_ms() - t0;
                }
                f = bench_fig(t, frames);
                printf("  %-17s %6zu rows: preamble + rows() + filter + layout %7.3f ms (worst "
                       "%.3f)\n", names[show], n, f.med, f.max);
                table_rows_done(&rows);
        }
        snprintf(id, sizeof id, "bench\tgroup\tbench-g99");
        for (int mode = 0; mode < 2; mode++) {
                /* The slow way: 10 frames are enough. */
                int nf = mode == 0 ? frames : frames < 10 ? frames : 10;
                struct bench_fig f;
                size_t total = 0;

                for (int i = 0; i < nf; i++) {
                        struct tlines l;
                        double t0 = bench_now_ms();

                        tlines_init(&l);
                        if (mode == 0) {
                                /* What draw() does: count, then the 40 lines on screen
                                 * from the middle of the page. */
                                total = view_kafka_detail_window(&d, id, 0, 0, &l);
                                view_kafka_detail_window(&d, id, total / 2, 40, &l);
                        } else {
                                view_kafka_detail(&d, id, &l);
                                total = l.n;
                        }
                        tlines_done(&l);
                        t[i] = bench_now_ms() - t0;
                }
                f = bench_fig(t, nf);
                printf("  partition page of a %d-partition group (%zu lines), %s: %8.3f ms "
                       "(worst %.3f)\n", topics * parts, total,
                       mode == 0 ? "windowed, as drawn" : "whole page        ", f.med, f.max);
        }
        snapshot_unref(s);
        free(t);
        return 0;
}
