/*
 * libFuzzer target: the Prometheus collector's pure parsers. The first
 * byte picks what the rest (the body, not NUL-terminated, as a response
 * would be) goes through:
 *   0  prometheus_parse (query / query_range answers), then the samples as
 *      series in the JSON report, the summary and the alerts;
 *   1  prometheus_quorum_from (the raft metrics), then the quorum's JSON;
 *   2  both on the same body, as the collector does for the raft query;
 *   3  prometheus_value and prometheus_limit_parse in every unit, on the body as a
 *      string.
 * Results must stay consistent: a failed parse leaves no samples and a
 * message, lags are -1 or >= 0, an available quorum has a leader or epoch
 * and an unavailable one says why.
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   build-fuzz/fuzz/fuzz_prometheus -max_total_time=60 fuzz/corpus/prometheus
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/health.h"
#include "collectors/prometheus.h"
#include "core/util.h"

/* Checked in every build type (NDEBUG must not hide a finding). */
#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_members(const struct prom_member *m, size_t n)
{
        FZ_CHECK(n == 0 || m);
        for (size_t i = 0; i < n; i++) {
                FZ_CHECK(m[i].instance);
                FZ_CHECK(m[i].lag == -1 || m[i].lag >= 0);
                FZ_CHECK(m[i].id >= -1);
                FZ_CHECK(m[i].log_end_offset >= -1);
        }
}

static void fz_quorum(const struct prom_quorum *q)
{
        FZ_CHECK(memchr(q->reason, '\0', sizeof q->reason));
        if (q->available) {
                FZ_CHECK(q->leader_id >= 0 || q->leader_epoch >= 0);
                FZ_CHECK(!q->reason[0]);
        } else {
                FZ_CHECK(q->reason[0]);
        }
        fz_members(q->voters, q->n_voters);
        fz_members(q->observers, q->n_observers);
}

/* The samples as series, the way the collector shows them. */
static void fz_report(const struct prom_sample *s, size_t n, struct prom_data *d)
{
        struct source_cfg src = { .name = "fz", .kind = "prometheus",
                                  .ops = &coll_prometheus_ops };
        struct alert_list al;
        char sum[256];
        cJSON *o;
        char *js;

        for (size_t i = 0; i < n && i < PROM_MAX_SERIES; i++) {
                struct prom_series *ps;

                d->series = xrealloc(d->series, (d->n_series + 1) * sizeof *d->series);
                ps = &d->series[d->n_series++];
                memset(ps, 0, sizeof *ps);
                ps->query = xstrdup("q");
                ps->name = xasprintf("q%s", s[i].labels);
                ps->unit = i % 2 ? "bytes" : "count";
                ps->value = s[i].v;
                ps->warn = 1;
                ps->crit = i % 3 ? NAN : 100;
                ps->error = i % 5 == 4 ? xstrdup("bad_data: x") : NULL;
        }
        o = cJSON_CreateObject();
        coll_prometheus_ops.to_json(d, o);
        js = cJSON_PrintUnformatted(o);
        FZ_CHECK(js);
        free(js);
        cJSON_Delete(o);
        coll_prometheus_ops.summary(d, sum, sizeof sum);
        FZ_CHECK(strlen(sum) < sizeof sum);
        alert_list_init(&al);
        coll_prometheus_ops.alerts(&src, d, &al);
        FZ_CHECK(al.n <= d->n_series);
        alert_list_done(&al);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const units[] = { NULL, "count", "rate", "bytes", "ms", "s" };
        struct prom_data *d;
        struct prom_sample *s;
        struct err err;
        size_t len, n;
        char *copy;
        double v;

        if (size == 0)
                return 0;
        len = size - 1;
        copy = xmalloc(len ? len : 1);
        memcpy(copy, data + 1, len);
        d = xcalloc(1, sizeof *d);
        d->quorum.leader_id = d->quorum.leader_epoch = d->quorum.high_watermark = -1;
        switch (data[0] % 4) {
        case 0:
        case 2:
                err_clear(&err);
                if (prometheus_parse(copy, len, &s, &n, &err) == 0) {
                        FZ_CHECK(n == 0 || s);
                        for (size_t i = 0; i < n; i++)
                                FZ_CHECK(s[i].labels && (!s[i].labels[0] ||
                                                         s[i].labels[0] == '{'));
                        fz_report(s, n, d);
                        prometheus_samples_free(s, n);
                } else {
                        FZ_CHECK(!s && n == 0 && err.msg[0]);
                }
                if (data[0] % 4 == 0)
                        break;
                /* fall through */
        case 1:
                prometheus_quorum_from(copy, len, &d->quorum);
                fz_quorum(&d->quorum);
                d->quorum_asked = true;
                fz_report(NULL, 0, d);
                break;
        case 3: {
                char *str = xstrndup(copy, len);

                v = prometheus_value(str);
                (void)v;
                for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
                        err_clear(&err);
                        if (prometheus_limit_parse(units[i], str, &v, &err) == 0)
                                FZ_CHECK(isfinite(v));
                        else
                                FZ_CHECK(err.msg[0]);
                }
                free(str);
                break;
        }
        }
        prometheus_data_free(d);
        free(copy);
        return 0;
}
