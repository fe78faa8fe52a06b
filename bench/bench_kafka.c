/*
 * bench_kafka: one full Kafka collector poll at scale, against librdkafka's
 * mock cluster, and the naive per-partition watermark way for comparison.
 * Prints figures; asserts nothing.
 *
 *   ./build/bench/bench_kafka [-t topics] [-p partitions-per-topic] [-g groups]
 *                             [-n polls] [-s naive-sample] [-a]
 *   ./build/bench/bench_kafka --serve [--control FILE] [-t ..] [-p ..] [-g ..]
 *   ./build/bench/bench_kafka -b BOOTSTRAP [-t ..] [-p ..] [-g ..] [-n ..] [-s ..]
 *
 * Defaults: 100 topics x 100 partitions (10,000) on 3 brokers, 20 groups,
 * each with committed offsets on every partition of 5 topics (500
 * partitions, 10,000 commits in all), 10 polls. The mock cluster runs in a
 * forked child process, so the figures (CPU, RSS) are the collector's own:
 * its thread, its high watermark workers and librdkafka's threads, not the
 * mock brokers'.
 *
 * Reported:
 *   - every poll's wall and CPU time (process CPU from getrusage, so all of
 *     our threads), the first one cold (connections, ApiVersions), then the
 *     median and worst of the warm ones;
 *   - RSS before the collector state exists and after the polls;
 *   - the naive way: rd_kafka_query_watermark_offsets() per partition,
 *     timed on a sample (-s, default 200; 0 skips this part) and extrapolated to all
 *     partitions, and one rd_kafka_offsets_for_times() over everything for
 *     reference.
 *
 * -a fetches committed offsets through librdkafka's admin API
 * (ListConsumerGroupOffsets), as the collector does for SASL sources,
 * instead of its own OffsetFetch over kafka_wire.
 *
 * BENCH_TRIM=1 calls malloc_trim(0) after every poll, to tell memory the
 * collector holds from memory glibc keeps in its arenas.
 *
 * --serve starts the same cluster in the foreground, prints the bootstrap
 * list on stdout and a config snippet on stderr, and runs until SIGINT or
 * SIGTERM: handy for `lambdaops status --json` against a mock cluster.
 * -b uses such a cluster (same -t/-p/-g) instead of forking one: repeated
 * runs skip the fill, and a profiler attached to this process sees only
 * the collector. Every run starts with a new collector state, so the first
 * poll is cold each time.
 *
 * -b BOOTSTRAP --catch-up N (same -t/-p as the --serve) commits, for group
 * bench-gNN, the head of every partition of its topics, as a consumer that
 * caught up would, and exits: for tests that need a group's lag to fall.
 *
 * --serve --control FILE also lets a test break the cluster and mend it:
 * every 100 ms the cluster reads FILE (when it exists) and, when its text
 * changed since the last read, applies each line in order:
 *   down ID                  rd_kafka_mock_broker_set_down (its connections
 *                            close, new ones are refused)
 *   up ID                    rd_kafka_mock_broker_set_up
 *   leader TOPIC PART ID     rd_kafka_mock_partition_set_leader (ID -1: no
 *                            leader, the partition is offline in the metadata)
 * then writes the text it applied to FILE.done (write and rename, so a
 * reader never sees half of it), or "error LINE" for the first line it could
 * not apply. A test writes FILE (also by rename) and waits for FILE.done to
 * hold the same text. Without --control --serve only waits for a signal.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "core/collector.h"
#include "core/config.h"
#include "collectors/kafka/kafka.h"
#include "core/util.h"

struct bench_opts {
        int topics, parts, groups, polls, sample, per_group_topics;
        bool serve;
        const char *control;    /* --control: a file of cluster changes (--serve) */
        bool admin;             /* -a: committed offsets through librdkafka's admin API */
        int catch_up;           /* --catch-up: this group commits the head; -1 none */
        const char *bootstrap;  /* -b: a cluster already running (--serve), else forked */
};

static volatile sig_atomic_t bench_stop;

static void bench_on_signal(int sig)
{
        (void)sig;
        bench_stop = 1;
}

static void bench_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

static double bench_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double bench_cpu_ms(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* Bytes malloc has handed out and not got back, in MB (all arenas). */
static double bench_heap_mb(void)
{
        struct mallinfo2 mi = mallinfo2();

        return (double)(mi.uordblks + mi.hblkhd) / (1024.0 * 1024.0);
}

/* VmRSS or VmHWM in MB. */
static double bench_rss_mb(const char *key)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        double kb = -1;
        size_t kl = strlen(key);

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, key, kl) == 0 && line[kl] == ':')
                        kb = strtod(line + kl + 1, NULL);
        if (f)
                fclose(f);
        return kb / 1024.0;
}

static rd_kafka_t *bench_client(const char *bs, rd_kafka_type_t type, const char *group)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char es[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set_log_cb(c, bench_log);
        if ((bs && rd_kafka_conf_set(c, "bootstrap.servers", bs, es, sizeof es)) ||
            (group && rd_kafka_conf_set(c, "group.id", group, es, sizeof es)) ||
            (type == RD_KAFKA_CONSUMER &&
             rd_kafka_conf_set(c, "isolation.level", "read_uncommitted", es, sizeof es)) ||
            (type == RD_KAFKA_PRODUCER && rd_kafka_conf_set(c, "linger.ms", "5", es, sizeof es))) {
                fprintf(stderr, "bench_kafka: conf: %s\n", es);
                exit(1);
        }
        if (!(rk = rd_kafka_new(type, c, es, sizeof es))) {
                fprintf(stderr, "bench_kafka: rd_kafka_new: %s\n", es);
                exit(1);
        }
        return rk;
}

static void bench_topic_name(char *buf, size_t n, int t)
{
        snprintf(buf, n, "bench-%03d", t);
}

/* The cluster: topics, (p % 7) + 1 messages per partition, and for group g
 * commits at half the high watermark on topics g*5 .. g*5+4 (mod topics).
 * Returns the handle that owns the mock cluster. */
static rd_kafka_t *bench_cluster(const struct bench_opts *o, rd_kafka_mock_cluster_t **mcp,
                                 char *bs, size_t bn)
{
        rd_kafka_t *mrk = bench_client(NULL, RD_KAFKA_PRODUCER, NULL), *pr, *cons;
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
        char name[64];
        double t0 = bench_now_ms();

        if (!mc) {
                fprintf(stderr, "bench_kafka: cannot start the mock cluster\n");
                exit(1);
        }
        str_copy(bs, rd_kafka_mock_cluster_bootstraps(mc), bn);
        for (int t = 0; t < o->topics; t++) {
                bench_topic_name(name, sizeof name, t);
                if (rd_kafka_mock_topic_create(mc, name, o->parts, 3)) {
                        fprintf(stderr, "bench_kafka: topic %s failed\n", name);
                        exit(1);
                }
        }
        pr = bench_client(bs, RD_KAFKA_PRODUCER, NULL);
        for (int t = 0; t < o->topics; t++) {
                bench_topic_name(name, sizeof name, t);
                for (int p = 0; p < o->parts; p++)
                        for (int m = 0; m < p % 7 + 1; m++)
                                while (rd_kafka_producev(pr, RD_KAFKA_V_TOPIC(name),
                                                         RD_KAFKA_V_PARTITION(p),
                                                         RD_KAFKA_V_VALUE("x", 1),
                                                         RD_KAFKA_V_END) ==
                                       RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                        rd_kafka_poll(pr, 10);
        }
        if (rd_kafka_flush(pr, 60000)) {
                fprintf(stderr, "bench_kafka: produce did not finish\n");
                exit(1);
        }
        rd_kafka_destroy(pr);
        for (int g = 0; g < o->groups; g++) {
                rd_kafka_topic_partition_list_t *l =
                        rd_kafka_topic_partition_list_new(o->parts * o->per_group_topics);
                char group[32];

                snprintf(group, sizeof group, "bench-g%02d", g);
                cons = bench_client(bs, RD_KAFKA_CONSUMER, group);
                for (int k = 0; k < o->per_group_topics; k++) {
                        bench_topic_name(name, sizeof name, (g * o->per_group_topics + k) % o->topics);
                        for (int p = 0; p < o->parts; p++)
                                rd_kafka_topic_partition_list_add(l, name, p)->offset = (p % 7 + 1) / 2;
                }
                if (rd_kafka_commit(cons, l, 0)) {
                        fprintf(stderr, "bench_kafka: commit for %s failed\n", group);
                        exit(1);
                }
                rd_kafka_topic_partition_list_destroy(l);
                rd_kafka_destroy(cons);
        }
        fprintf(stderr, "# mock cluster: 3 brokers, %d topics x %d partitions, %d groups; "
                "ready in %.0f ms\n",
                o->topics, o->parts, o->groups, bench_now_ms() - t0);
        *mcp = mc;
        return mrk;
}

/* Applies one line of the control file; false when it is not a known
 * command or the mock cluster refused it. */
static bool bench_control_line(rd_kafka_mock_cluster_t *mc, const char *line)
{
        char topic[256];
        int id, part;

        if (sscanf(line, "down %d", &id) == 1)
                return rd_kafka_mock_broker_set_down(mc, id) == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (sscanf(line, "up %d", &id) == 1)
                return rd_kafka_mock_broker_set_up(mc, id) == RD_KAFKA_RESP_ERR_NO_ERROR;
        if (sscanf(line, "leader %255s %d %d", topic, &part, &id) == 3)
                return rd_kafka_mock_partition_set_leader(mc, topic, part, id) ==
                       RD_KAFKA_RESP_ERR_NO_ERROR;
        return false;
}

/* One look at the control file: applies its text when it changed since
 * `last` (owned, updated) and acknowledges it in FILE.done. */
static void bench_control(rd_kafka_mock_cluster_t *mc, const char *path, char **last)
{
        char text[4096], done[4096], *line, *save = NULL, *tmp, *ack;
        size_t n;
        FILE *f = fopen(path, "r");

        if (!f)
                return;
        n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        if (*last && strcmp(*last, text) == 0)
                return;
        free(*last);
        *last = xstrdup(text);
        str_copy(done, text, sizeof done);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (!bench_control_line(mc, line)) {
                        snprintf(done, sizeof done, "error %s\n", line);
                        break;
                }
        }
        tmp = xasprintf("%s.done.tmp", path);
        ack = xasprintf("%s.done", path);
        f = fopen(tmp, "w");
        if (f) {
                fputs(done, f);
                if (fclose(f) == 0)
                        rename(tmp, ack);
        }
        free(tmp);
        free(ack);
}

static int bench_serve(const struct bench_opts *o)
{
        rd_kafka_mock_cluster_t *mc;
        char bs[1024], *last = NULL;
        rd_kafka_t *mrk = bench_cluster(o, &mc, bs, sizeof bs);

        signal(SIGINT, bench_on_signal);
        signal(SIGTERM, bench_on_signal);
        printf("%s\n", bs);
        fflush(stdout);
        fprintf(stderr, "# sources:\n#   - name: mock\n#     kind: kafka\n#     bootstrap: \"%s\"\n"
                "#     groups: [bench-g00, bench-g01]\n", bs);
        while (!bench_stop) {
                if (!o->control) {
                        pause();
                        continue;
                }
                bench_control(mc, o->control, &last);
                nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
        free(last);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
        return 0;
}

/* --catch-up: group g commits the head of its partitions, the fill's
 * (p % 7) + 1 messages (the fill commits half of that). */
static int bench_catch_up(const struct bench_opts *o)
{
        rd_kafka_topic_partition_list_t *l =
                rd_kafka_topic_partition_list_new(o->parts * o->per_group_topics);
        rd_kafka_resp_err_t e;
        rd_kafka_t *cons;
        char group[32], name[64];

        snprintf(group, sizeof group, "bench-g%02d", o->catch_up);
        cons = bench_client(o->bootstrap, RD_KAFKA_CONSUMER, group);
        for (int k = 0; k < o->per_group_topics; k++) {
                bench_topic_name(name, sizeof name,
                                 (o->catch_up * o->per_group_topics + k) % o->topics);
                for (int p = 0; p < o->parts; p++)
                        rd_kafka_topic_partition_list_add(l, name, p)->offset = p % 7 + 1;
        }
        e = rd_kafka_commit(cons, l, 0);
        if (e)
                fprintf(stderr, "bench_kafka: commit for %s failed: %s\n", group,
                        rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(cons);
        return e ? 1 : 0;
}

/* Forks the mock cluster; returns its PID, bootstraps in bs. The child runs
 * until its stdin pipe closes. */
static pid_t bench_fork_cluster(const struct bench_opts *o, char *bs, size_t bn, int *ctl)
{
        int up[2], down[2];
        pid_t pid;
        ssize_t r;
        size_t got = 0;

        if (pipe(up) || pipe(down)) {
                perror("pipe");
                exit(1);
        }
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                rd_kafka_mock_cluster_t *mc;
                char b[1024], c;
                rd_kafka_t *mrk;

                close(up[0]);
                close(down[1]);
                mrk = bench_cluster(o, &mc, b, sizeof b);
                if (write(up[1], b, strlen(b) + 1) < 0)
                        _exit(1);
                while (read(down[0], &c, 1) > 0)
                        ;
                rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(mrk);
                _exit(0);
        }
        close(up[1]);
        close(down[0]);
        while (got < bn - 1 && (r = read(up[0], bs + got, bn - 1 - got)) > 0) {
                got += (size_t)r;
                if (memchr(bs, '\0', got))
                        break;
        }
        bs[got] = '\0';
        close(up[0]);
        if (!*bs) {
                fprintf(stderr, "bench_kafka: the mock cluster did not start\n");
                exit(1);
        }
        *ctl = down[1];
        return pid;
}

static int bench_dbl_cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static void bench_naive(const struct bench_opts *o, const char *bs)
{
        rd_kafka_t *rk = bench_client(bs, RD_KAFKA_CONSUMER, NULL);
        rd_kafka_topic_partition_list_t *l;
        const struct rd_kafka_metadata *md;
        int total = o->topics * o->parts, n = o->sample < total ? o->sample : total, ok = 0;
        double t0, wall;
        char name[64];

        /* Warm the connections first, as the collector's warm polls are. */
        if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
                rd_kafka_metadata_destroy(md);
        t0 = bench_now_ms();
        for (int i = 0; i < n; i++) {
                int64_t lo, hi;
                int g = (int)((long long)i * total / n), t = g / o->parts, p = g % o->parts;

                bench_topic_name(name, sizeof name, t);
                if (rd_kafka_query_watermark_offsets(rk, name, p, &lo, &hi, 5000) == 0)
                        ok++;
        }
        wall = bench_now_ms() - t0;
        printf("naive rd_kafka_query_watermark_offsets: %d partitions in %.1f ms (%.3f ms each, %d ok) "
               "-> %.0f ms for all %d partitions (extrapolated)\n",
               n, wall, wall / n, ok, wall / n * total, total);

        l = rd_kafka_topic_partition_list_new(total);
        for (int t = 0; t < o->topics; t++) {
                bench_topic_name(name, sizeof name, t);
                for (int p = 0; p < o->parts; p++)
                        rd_kafka_topic_partition_list_add(l, name, p)->offset = RD_KAFKA_OFFSET_END;
        }
        t0 = bench_now_ms();
        ok = rd_kafka_offsets_for_times(rk, l, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR;
        printf("one rd_kafka_offsets_for_times over all %d partitions: %.1f ms (%s)\n", total,
               bench_now_ms() - t0, ok ? "ok" : "failed");
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(rk);
}

static void bench_usage(void)
{
        fprintf(stderr, "usage: bench_kafka [--serve [--control FILE] | -b bootstrap] "
                "[-t topics] [-p partitions] [-g groups] [-n polls] [-s naive-sample] [-a]\n"
                "       bench_kafka -b bootstrap --catch-up GROUP_NUMBER [-t topics] "
                "[-p partitions]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        struct bench_opts o = { .topics = 100, .parts = 100, .groups = 20, .polls = 10,
                                .sample = 200, .per_group_topics = 5, .catch_up = -1 };
        char bs[1024], *yaml, *groups;
        struct config *cfg;
        struct err err;
        double rss0, walls[256], cpus[256];
        void *st;
        pid_t child = -1;
        int ctl = -1;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--serve") == 0)
                        o.serve = true;
                else if (strcmp(argv[i], "-a") == 0)
                        o.admin = true;
                else if (i + 1 < argc && strcmp(argv[i], "--control") == 0)
                        o.control = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "-b") == 0)
                        o.bootstrap = argv[++i];
                else if (i + 1 < argc && strcmp(argv[i], "--catch-up") == 0)
                        o.catch_up = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-t") == 0)
                        o.topics = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-p") == 0)
                        o.parts = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-g") == 0)
                        o.groups = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
                        o.polls = atoi(argv[++i]);
                else if (i + 1 < argc && strcmp(argv[i], "-s") == 0)
                        o.sample = atoi(argv[++i]);
                else
                        bench_usage();
        }
        if (o.topics < 1 || o.parts < 1 || o.groups < 0 || o.polls < 1 || o.polls > 256 || o.sample < 0)
                bench_usage();
        if (o.control && !o.serve)
                bench_usage();
        if (o.per_group_topics > o.topics)
                o.per_group_topics = o.topics;
        if (o.serve)
                return bench_serve(&o);
        if (o.catch_up >= 0)
                return o.bootstrap ? bench_catch_up(&o) : (bench_usage(), 2);

        if (o.bootstrap)
                str_copy(bs, o.bootstrap, sizeof bs);
        else
                child = bench_fork_cluster(&o, bs, sizeof bs, &ctl);
        groups = xstrdup("");
        for (int g = 0; g < o.groups; g++) {
                char *n = xasprintf("%s%sbench-g%02d", groups, g ? ", " : "", g);

                free(groups);
                groups = n;
        }
        yaml = xasprintf("sources:\n  - name: bench\n    kind: kafka\n    bootstrap: \"%s\"\n"
                         "    interval: 5s\n    timeout: 5s\n    groups: [%s]\n", bs, groups);
        if (!(cfg = config_load_string(yaml, strlen(yaml), "<bench>", &err))) {
                fprintf(stderr, "bench_kafka: config: %s\n", err.msg);
                return 1;
        }
        rss0 = bench_rss_mb("VmRSS");
        printf("before: RSS %.1f MB, heap %.1f MB\n", rss0, bench_heap_mb());
        st = coll_kafka_ops.create(&cfg->sources[0]);
        coll_kafka_set_offsets_admin(st, o.admin);
        for (int i = 0; i < o.polls; i++) {
                struct coll_ctx ctx = { .stop_fd = -1, .timeout_ms = cfg->sources[0].timeout_ms };
                struct kafka_data *d;
                enum coll_status s;
                void *data = NULL;
                double w0 = bench_now_ms(), c0 = bench_cpu_ms();
                size_t parts = 0, gparts = 0;

                ctx.now_mono = clock_mono_ms();
                ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
                err_clear(&err);
                s = coll_kafka_ops.poll(st, &ctx, &data, &err);
                walls[i] = bench_now_ms() - w0;
                cpus[i] = bench_cpu_ms() - c0;
                d = data;
                for (size_t t = 0; d && t < d->n_topics; t++)
                        for (int p = 0; p < d->topics[t].partitions; p++)
                                parts += d->topics[t].parts[p].high_watermark >= 0;
                for (size_t g = 0; d && g < d->n_groups; g++)
                        for (size_t p = 0; p < d->groups[g].n_parts; p++)
                                gparts += d->groups[g].parts[p].lag >= 0;
                printf("poll %2d: %-8s wall %7.1f ms  cpu %7.1f ms  high watermarks %zu/%d  "
                       "group partitions with lag %zu  RSS %.1f MB  heap %.1f MB\n", i + 1,
                       coll_status_name(s), walls[i], cpus[i], parts, o.topics * o.parts, gparts,
                       bench_rss_mb("VmRSS"), bench_heap_mb());
                if (s == COLL_DOWN)
                        printf("  error: %s\n", err.msg);
                coll_kafka_ops.data_free(data);
                if (getenv("BENCH_TRIM"))
                        malloc_trim(0);
        }
        if (o.polls > 1) {
                double w[256], c[256];
                int n = o.polls - 1;

                memcpy(w, walls + 1, (size_t)n * sizeof *w);
                memcpy(c, cpus + 1, (size_t)n * sizeof *c);
                qsort(w, (size_t)n, sizeof *w, bench_dbl_cmp);
                qsort(c, (size_t)n, sizeof *c, bench_dbl_cmp);
                printf("full poll, %d partitions, %d groups: cold %.1f ms wall / %.1f ms cpu; warm "
                       "median %.1f ms wall / %.1f ms cpu, worst %.1f ms wall (n=%d)\n",
                       o.topics * o.parts, o.groups, walls[0], cpus[0], w[n / 2], c[n / 2],
                       w[n - 1], n);
        }
        printf("RSS: %.1f MB before the collector, %.1f MB after %d polls (+%.1f MB), peak %.1f MB\n",
               rss0, bench_rss_mb("VmRSS"), o.polls, bench_rss_mb("VmRSS") - rss0, bench_rss_mb("VmHWM"));
        coll_kafka_ops.destroy(st);
        config_free(cfg);
        free(yaml);
        free(groups);

        if (o.sample > 0)
                bench_naive(&o, bs);

        if (child > 0) {
                close(ctl);
                while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        return 0;
}
