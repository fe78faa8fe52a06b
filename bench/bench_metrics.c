/*
 * bench_metrics: the cost of /metrics on a real config. Loads CONFIG,
 * starts its collectors (continuous, as `watch` runs them), waits for each
 * source's first poll (bounded by its timeout + 5 s), then:
 *   1. renders the document N times in-process on the latest snapshots
 *      (references taken as a scrape takes them) and prints the median,
 *      p95 and worst render time, the document's size and sample lines;
 *   2. serves it with metrics_server_start on LISTEN (default
 *      127.0.0.1:0) and prints "LISTEN=HOST:PORT", then serves for SECONDS
 *      (default 30) or until SIGTERM/SIGINT, and prints how many scrapes
 *      it served. bench/metrics.sh drives a curl loop against it.
 * Prints figures; asserts nothing.
 *
 *   bench_metrics -c CONFIG [-n N] [-l LISTEN] [-t SECONDS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"
#include "export/metrics.h"

static volatile sig_atomic_t bench_stop;

static void bench_on_signal(int sig)
{
        (void)sig;
        bench_stop = 1;
}

static int64_t bench_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int bench_cmp(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        const char *cfg_path = NULL, *listen = "127.0.0.1:0";
        int n = 200, secs = 30, opt;
        struct app a = { .wake_pipe = { -1, -1 } };
        struct metrics_server *srv = NULL;
        struct err err;
        int64_t *t;
        size_t len = 0, lines = 0;

        while ((opt = getopt(argc, argv, "c:n:l:t:")) != -1) {
                switch (opt) {
                case 'c': cfg_path = optarg; break;
                case 'n': n = atoi(optarg); break;
                case 'l': listen = optarg; break;
                case 't': secs = atoi(optarg); break;
                default:
                        fprintf(stderr, "usage: bench_metrics -c CONFIG [-n N] [-l LISTEN] "
                                "[-t SECONDS]\n");
                        return 2;
                }
        }
        if (!cfg_path || n < 1) {
                fprintf(stderr, "bench_metrics: -c CONFIG is required\n");
                return 2;
        }
        a.cfg = config_load_file(cfg_path, &err);
        if (!a.cfg) {
                fprintf(stderr, "bench_metrics: %s\n", err.msg);
                return 1;
        }
        app_start_collectors(&a, false);
        for (size_t i = 0; i < a.n_colls; i++)
                collector_wait_gen(a.colls[i], 1,
                                   clock_mono_ms() + a.cfg->sources[i].timeout_ms + 5000);

        t = xcalloc((size_t)n, sizeof *t);
        for (int i = 0; i < n; i++) {
                struct snapshot **s = xcalloc(a.n_colls ? a.n_colls : 1, sizeof *s);
                int64_t t0 = bench_now_us();
                char *text;

                for (size_t j = 0; j < a.n_colls; j++)
                        s[j] = collector_latest(a.colls[j], NULL);
                text = metrics_render((const struct snapshot *const *)s, a.cfg->sources,
                                      a.n_colls, clock_mono_ms(), NULL, &len);
                for (size_t j = 0; j < a.n_colls; j++)
                        snapshot_unref(s[j]);
                t[i] = bench_now_us() - t0;
                if (i == n - 1) {
                        lines = 0;
                        for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
                                lines += *l != '#';
                                if (!strchr(l, '\n'))
                                        break;
                        }
                }
                free(text);
                free(s);
        }
        qsort(t, (size_t)n, sizeof *t, bench_cmp);
        printf("sources=%zu document_bytes=%zu samples=%zu\n", a.n_colls, len, lines);
        printf("render_us median=%lld p95=%lld worst=%lld (n=%d)\n", (long long)t[n / 2],
               (long long)t[(n * 95) / 100 < n ? (n * 95) / 100 : n - 1], (long long)t[n - 1], n);
        free(t);

        if (metrics_server_start(&a, listen, &srv, &err) != 0) {
                fprintf(stderr, "bench_metrics: %s\n", err.msg);
                app_stop_collectors(&a);
                config_free(a.cfg);
                return 1;
        }
        printf("LISTEN=127.0.0.1:%d\n", metrics_server_port(srv));
        fflush(stdout);
        signal(SIGTERM, bench_on_signal);
        signal(SIGINT, bench_on_signal);
        for (int i = 0; i < secs * 10 && !bench_stop; i++) {
                struct timespec ts = { 0, 100 * 1000 * 1000 };

                nanosleep(&ts, NULL);
        }
        printf("scrapes=%llu\n", (unsigned long long)metrics_server_scrapes(srv));
        metrics_server_stop(srv);
        app_stop_collectors(&a);
        config_free(a.cfg);
        return 0;
}
