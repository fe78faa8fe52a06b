/*
 * bench_clickhouse: one ClickHouse collector poll, timed, against a real
 * server. Prints figures; asserts nothing. bench/bench_clickhouse.sh starts
 * a seeded ClickHouse 18.16 and runs this; or point it at any server:
 *
 *   ./build/bench/bench_clickhouse -u http://127.0.0.1:8123 [-n polls] [-t timeout_ms]
 *
 * Reported: every poll's wall and CPU time (getrusage of the process), the
 * first one cold (capability discovery: version, system.columns,
 * merge_tree_settings), then min/median/p95/max of the warm ones; what a
 * poll read (tables, slow queries, query_log rows in the windows); RSS
 * after the polls; and the time of one `SELECT 1` round trip through the
 * same client for reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "collectors/clickhouse/clickhouse.h"
#include "core/collector.h"
#include "core/config.h"
#include "clients/http.h"
#include "core/util.h"

static double bench_cpu_ms(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static long bench_rss_kb(void)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long kb = -1;

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        kb = atol(line + 6);
        if (f)
                fclose(f);
        return kb;
}

static int bench_cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void bench_ctx(struct coll_ctx *ctx, int64_t timeout_ms)
{
        ctx->stop_fd = -1;
        ctx->now_mono = clock_mono_ms();
        ctx->timeout_ms = timeout_ms;
        ctx->deadline_mono = ctx->now_mono + timeout_ms;
}

static double bench_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
        const char *url = NULL;
        int polls = 50, opt;
        long timeout_ms = 10000;
        double *wall, *cpu, t0, c0;
        struct config *cfg;
        struct err err;
        char *yaml;
        void *st;

        while ((opt = getopt(argc, argv, "u:n:t:")) != -1) {
                if (opt == 'u')
                        url = optarg;
                else if (opt == 'n')
                        polls = atoi(optarg);
                else if (opt == 't')
                        timeout_ms = atol(optarg);
                else
                        return 64;
        }
        if (!url || polls < 2) {
                fprintf(stderr, "usage: bench_clickhouse -u URL [-n polls >= 2] [-t timeout_ms]\n");
                return 64;
        }
        yaml = xasprintf("sources:\n  - name: bench-ch\n    kind: clickhouse\n    url: \"%s\"\n"
                         "    timeout: %ldms\n", url, timeout_ms);
        cfg = config_load_string(yaml, strlen(yaml), "<bench>", &err);
        free(yaml);
        if (!cfg) {
                fprintf(stderr, "bench_clickhouse: %s\n", err.msg);
                return 78;
        }
        wall = xcalloc((size_t)polls, sizeof *wall);
        cpu = xcalloc((size_t)polls, sizeof *cpu);
        st = coll_clickhouse_ops.create(&cfg->sources[0]);
        printf("# url: %s, %d polls, timeout %ld ms, RSS before %ld kB\n", url, polls,
               timeout_ms, bench_rss_kb());
        for (int i = 0; i < polls; i++) {
                struct coll_ctx ctx;
                enum coll_status s;
                void *data = NULL;

                bench_ctx(&ctx, timeout_ms);
                err_clear(&err);
                t0 = bench_now_ms();
                c0 = bench_cpu_ms();
                s = coll_clickhouse_ops.poll(st, &ctx, &data, &err);
                wall[i] = bench_now_ms() - t0;
                cpu[i] = bench_cpu_ms() - c0;
                if (s == COLL_DOWN) {
                        fprintf(stderr, "bench_clickhouse: poll %d: %s\n", i, err.msg);
                        return 1;
                }
                if (i == 0 || i == polls - 1) {
                        const struct ch_data *d = data;
                        char sum[256];

                        coll_clickhouse_ops.summary(d, sum, sizeof sum);
                        printf("# poll %d: %s; %zu tables, %zu slow queries, %lld queries in "
                               "15m%s%s\n", i, sum, d->n_tables, d->n_slow,
                               (long long)d->lat[CH_W15M].count, err.msg[0] ? "; " : "",
                               err.msg);
                }
                coll_clickhouse_ops.data_free(data);
        }
        printf("cold poll (discovery): wall %.1f ms, cpu %.1f ms\n", wall[0], cpu[0]);
        qsort(wall + 1, (size_t)polls - 1, sizeof *wall, bench_cmp);
        qsort(cpu + 1, (size_t)polls - 1, sizeof *cpu, bench_cmp);
        {
                int n = polls - 1;
                double *w = wall + 1, *c = cpu + 1;

                printf("warm poll wall ms: min %.1f  median %.1f  p95 %.1f  max %.1f  (n=%d)\n",
                       w[0], w[n / 2], w[(int)((n - 1) * 0.95)], w[n - 1], n);
                printf("warm poll cpu ms:  min %.1f  median %.1f  p95 %.1f  max %.1f\n",
                       c[0], c[n / 2], c[(int)((n - 1) * 0.95)], c[n - 1]);
        }
        printf("RSS after: %ld kB\n", bench_rss_kb());
        {
                const struct ch_cfg *kc = cfg->sources[0].kind_cfg;
                struct http_client *hc = coll_clickhouse_client(kc);
                struct http_response r;
                struct coll_ctx ctx;
                double best = 1e9;

                for (int i = 0; i < 20; i++) {
                        bench_ctx(&ctx, timeout_ms);
                        t0 = bench_now_ms();
                        if (coll_clickhouse_query(hc, kc, &ctx, "SELECT 1", &r, &err) == 0)
                                http_response_done(&r);
                        if (bench_now_ms() - t0 < best)
                                best = bench_now_ms() - t0;
                }
                printf("one SELECT 1 round trip (best of 20): %.2f ms\n", best);
                http_client_free(hc);
        }
        coll_clickhouse_ops.destroy(st);
        config_free(cfg);
        free(wall);
        free(cpu);
        return 0;
}
