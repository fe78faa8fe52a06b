/*
 * bench_kube: the Kubernetes client (src/clients/kube/kube.h) listing, modelling and
 * watching every pod of a cluster. Prints figures; asserts nothing.
 * bench/bench_kube.sh starts tests/lib/fake_kube.py with 5,000 synthetic pods
 * and runs this next to `kubectl get pods -A -o json`; or point it at any
 * cluster:
 *
 *   ./build/bench/bench_kube -k KUBECONFIG [-x CONTEXT] [-r runs] [-w watch_s] [-i interval_ms]
 *
 * Reported: for each of `runs` fresh informers on /api/v1/pods, the first
 * sync (paged list, limit 500, every item turned into a compact pod model
 * as the Cluster pane needs it): wall and CPU time, pages, and RSS before
 * and after the first run (VmRSS and VmHWM of /proc/self/status). Then the
 * last informer is kept and synced every `interval_ms` for `watch_s`
 * seconds (the collector's steady state): CPU time of the process over
 * that span as a percentage of one core, and the watch events applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "clients/kube/kube.h"
#include "core/util.h"

/* What the Cluster pane keeps per pod. */
struct bench_pod {
        char *ns, *name, *node, *phase, *reason;
        int   ready, total, restarts;
};

static const char *bench_str(const cJSON *o, const char *a, const char *b)
{
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);

        if (b)
                x = cJSON_GetObjectItemCaseSensitive(x, b);
        return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void *bench_pod_make(const cJSON *obj, void *user)
{
        struct bench_pod *p = xcalloc(1, sizeof *p);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
        const cJSON *cs;

        (void)user;
        p->ns = xstrdup(bench_str(obj, "metadata", "namespace"));
        p->name = xstrdup(bench_str(obj, "metadata", "name"));
        p->node = xstrdup(bench_str(obj, "spec", "nodeName"));
        p->phase = xstrdup(bench_str(obj, "status", "phase"));
        cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(st, "containerStatuses")) {
                const cJSON *w = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(cs, "state"), "waiting");
                const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cs, "restartCount");
                const char *reason = bench_str(w, "reason", NULL);

                p->total++;
                p->ready += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cs, "ready"));
                if (cJSON_IsNumber(rc))
                        p->restarts += rc->valueint;
                if (reason && !p->reason)
                        p->reason = xstrdup(reason);
        }
        return p;
}

static void bench_pod_free(void *m)
{
        struct bench_pod *p = m;

        if (!p)
                return;
        free(p->ns);
        free(p->name);
        free(p->node);
        free(p->phase);
        free(p->reason);
        free(p);
}

static const struct kube_model_ops bench_pod_ops = {
        .make = bench_pod_make,
        .free = bench_pod_free,
};

static double bench_cpu_ms(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

/* VmRSS or VmHWM in kB, -1 when unknown. */
static long bench_status_kb(const char *key)
{
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        size_t n = strlen(key);
        long kb = -1;

        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, key, n) == 0 && line[n] == ':')
                        kb = atol(line + n + 1);
        if (f)
                fclose(f);
        return kb;
}

static double bench_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void bench_ctx(struct coll_ctx *ctx, int64_t timeout_ms)
{
        ctx->stop_fd = -1;
        ctx->now_mono = clock_mono_ms();
        ctx->timeout_ms = timeout_ms;
        ctx->deadline_mono = ctx->now_mono + timeout_ms;
}

static void bench_usage(void)
{
        fprintf(stderr, "usage: bench_kube -k KUBECONFIG [-x CONTEXT] [-r runs] [-w watch_s] "
                        "[-i interval_ms]\n");
        exit(64);
}

int main(int argc, char **argv)
{
        struct kube_opts ko = { 0 };
        struct kube_config *kc;
        struct kube_client *c;
        struct kube_informer *inf = NULL;
        struct kube_informer_stats st;
        struct coll_ctx ctx;
        struct err err = { 0 };
        int runs = 3, watch_s = 60, interval_ms = 1000, opt, i;
        long rss0, hwm0;

        while ((opt = getopt(argc, argv, "k:x:r:w:i:")) != -1) {
                switch (opt) {
                case 'k': ko.kubeconfig = optarg; break;
                case 'x': ko.context = optarg; break;
                case 'r': runs = atoi(optarg); break;
                case 'w': watch_s = atoi(optarg); break;
                case 'i': interval_ms = atoi(optarg); break;
                default: bench_usage();
                }
        }
        if (!ko.kubeconfig || runs < 1 || watch_s < 0 || interval_ms < 1)
                bench_usage();
        kc = kube_config_load(&ko, &err);
        if (!kc) {
                fprintf(stderr, "bench_kube: %s\n", err.msg);
                return 1;
        }
        c = kube_client_new(kc, &err);
        if (!c) {
                fprintf(stderr, "bench_kube: %s\n", err.msg);
                kube_config_free(kc);
                return 1;
        }
        rss0 = bench_status_kb("VmRSS");
        hwm0 = bench_status_kb("VmHWM");
        printf("# server %s, RSS before %ld kB (peak %ld kB)\n", kc->server, rss0, hwm0);
        for (i = 0; i < runs; i++) {
                double w0, c0, w1, c1;
                int rc;

                kube_informer_free(inf);
                inf = kube_informer_new(c, "/api/v1/pods", NULL, true, &bench_pod_ops, NULL);
                bench_ctx(&ctx, 60000);
                w0 = bench_now_ms();
                c0 = bench_cpu_ms();
                rc = kube_informer_sync(inf, &ctx, &err);
                w1 = bench_now_ms();
                c1 = bench_cpu_ms();
                if (rc != 0) {
                        fprintf(stderr, "bench_kube: sync: %s\n", err.msg);
                        break;
                }
                kube_informer_stats(inf, &st);
                printf("list+model run %d: %zu pods, %llu pages, %.0f ms wall, %.0f ms cpu, "
                       "RSS %ld kB (+%ld kB), peak %ld kB (+%ld kB)\n",
                       i, kube_informer_count(inf), (unsigned long long)st.pages, w1 - w0,
                       c1 - c0, bench_status_kb("VmRSS"), bench_status_kb("VmRSS") - rss0,
                       bench_status_kb("VmHWM"), bench_status_kb("VmHWM") - hwm0);
                fflush(stdout);
        }
        if (inf && watch_s > 0) {
                double w0 = bench_now_ms(), c0 = bench_cpu_ms(), w1, c1;
                uint64_t ev0, syncs = 0, fails = 0;

                kube_informer_stats(inf, &st);
                ev0 = st.events;
                while (bench_now_ms() - w0 < watch_s * 1000.0) {
                        struct timespec ts = { interval_ms / 1000,
                                               (long)(interval_ms % 1000) * 1000000L };

                        nanosleep(&ts, NULL);
                        bench_ctx(&ctx, interval_ms);
                        if (kube_informer_sync(inf, &ctx, &err) != 0) {
                                fails++;
                                fprintf(stderr, "bench_kube: watch sync: %s\n", err.msg);
                        }
                        syncs++;
                }
                w1 = bench_now_ms();
                c1 = bench_cpu_ms();
                kube_informer_stats(inf, &st);
                printf("watch: %.0f s, %llu syncs (%llu failed), %llu events applied, "
                       "%llu lists, %llu rewatches, %zu pods cached, cpu %.0f ms = %.2f%% "
                       "of one core, RSS %ld kB\n",
                       (w1 - w0) / 1000.0, (unsigned long long)syncs,
                       (unsigned long long)fails, (unsigned long long)(st.events - ev0),
                       (unsigned long long)st.lists, (unsigned long long)st.rewatches,
                       kube_informer_count(inf), c1 - c0, 100.0 * (c1 - c0) / (w1 - w0),
                       bench_status_kb("VmRSS"));
        }
        kube_informer_free(inf);
        kube_client_free(c);
        kube_config_free(kc);
        return 0;
}
