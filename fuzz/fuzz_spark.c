/*
 * libFuzzer target: the Spark collector's pure parsers. The first byte
 * picks the parser (driver REST: failed jobs, failed stages, executors,
 * /metrics/json, /streaming/statistics; a SparkApplication or a
 * ScheduledSparkApplication object as the informer hands it over; a Spark
 * date); the rest is the body, not NUL-terminated, as a response would be.
 * Whatever parses goes into a spark_data and through to_json, the alerts,
 * the summary, and the Spark pane's rows and detail page, so every reader
 * sees the odd values too.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/health.h"
#include "core/snapshot.h"
#include "collectors/spark/spark.h"
#include "core/util.h"
#include "views/view.h"
#include "views/spark.h"

#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_readers(struct spark_data *d)
{
        static struct threshold thr[8];
        struct source_cfg src;
        struct snapshot *s;
        struct alert_list al;
        struct view_data vd;
        struct table_rows rows;
        struct tlines l;
        char buf[256];
        size_t n = 0;
        cJSON *o = cJSON_CreateObject();
        char *txt;

        memset(&src, 0, sizeof src);
        src.name = (char *)"spark";
        src.kind = (char *)"spark";
        src.ops = &coll_spark_ops;
        src.interval_ms = 10000;
        for (; coll_spark_ops.thresholds[n].name; n++) {
                thr[n].def = &coll_spark_ops.thresholds[n];
                thr[n].warn = thr[n].def->warn;
                thr[n].crit = thr[n].def->crit;
        }
        src.thresholds = thr;
        src.n_thresholds = n;

        coll_spark_ops.to_json(d, o);
        txt = cJSON_PrintUnformatted(o);
        FZ_CHECK(txt != NULL);
        free(txt);
        cJSON_Delete(o);
        alert_list_init(&al);
        coll_spark_ops.alerts(&src, d, &al);
        alert_list_done(&al);
        coll_spark_ops.summary(d, buf, sizeof buf);
        FZ_CHECK(strlen(buf) < sizeof buf);
        (void)coll_spark_ops.key_metric(d);

        s = snapshot_new(&src);
        s->status = COLL_OK;
        s->collected_mono = 1000;
        s->data = d;
        memset(&vd, 0, sizeof vd);
        vd.srcs = &src;
        vd.snaps = (const struct snapshot *const *)&s;
        vd.n = 1;
        vd.now_mono = 2000;
        vd.width = 80;
        for (unsigned f = 0; f < 2; f++) {
                vd.flags = f;
                table_rows_init(&rows);
                view_spark_rows(&vd, &rows);
                tlines_init(&l);
                view_spark_preamble(&vd, &l);
                tlines_done(&l);
                for (size_t i = 0; i < rows.n; i++) {
                        tlines_init(&l);
                        view_spark_detail(&vd, rows.v[i].id, &l);
                        tlines_done(&l);
                }
                table_rows_done(&rows);
        }
        snapshot_unref(s);      /* frees d through data_free */
}

static struct spark_app *fz_running(struct spark_data *d)
{
        struct spark_app *a;

        d->apps = xcalloc(1, sizeof *d->apps);
        d->n_apps = 1;
        a = &d->apps[0];
        a->namespace_ = xstrdup("ns");
        a->name = xstrdup("app");
        a->state_text = xstrdup("RUNNING");
        a->state = SPARK_ST_RUNNING;
        a->ui_port = -1;
        a->created_ms = a->submitted_ms = a->terminated_ms = -1;
        spark_rest_init(&a->rest);
        ring_init(&a->in_hist);
        ring_init(&a->proc_hist);
        a->rest.asked = true;
        return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spark_data *d;
        struct spark_app *a;
        struct err err;
        char *copy;
        size_t len;
        cJSON *j;
        int rc;

        if (size == 0)
                return 0;
        len = size - 1;
        copy = xmalloc(len + 1);
        memcpy(copy, data + 1, len);
        copy[len] = '\0';
        d = spark_data_new();
        err_clear(&err);
        switch (data[0] % 8) {
        case 0:
                a = fz_running(d);
                if (spark_parse_jobs(copy, len, &a->rest, &err) == 0)
                        FZ_CHECK(a->rest.failed_jobs >= 0 && a->rest.n_jobs <= SPARK_LIST_MAX);
                break;
        case 1:
                a = fz_running(d);
                if (spark_parse_stages(copy, len, &a->rest, &err) == 0)
                        FZ_CHECK(a->rest.n_stages <= SPARK_LIST_MAX);
                break;
        case 2:
                a = fz_running(d);
                if (spark_parse_executors(copy, len, &a->rest, &err) == 0)
                        FZ_CHECK(a->rest.n_execs <= SPARK_EXEC_MAX && a->rest.exec_active >= 0);
                break;
        case 3:
                a = fz_running(d);
                rc = spark_parse_metrics(copy, len, &a->rest.streaming, &err);
                FZ_CHECK(rc >= -1 && rc <= 1);
                if (rc == 1) {
                        a->rest.have_streaming = true;
                        ring_push(&a->in_hist, 0, a->rest.streaming.input_rate);
                        ring_push(&a->proc_hist, 0, a->rest.streaming.processing_rate);
                        a->behind_ms = spark_behind_ms(&a->in_hist, &a->proc_hist);
                        FZ_CHECK(a->behind_ms == 0);
                }
                break;
        case 4:
                a = fz_running(d);
                if (spark_parse_dstream(copy, len, &a->rest.streaming, &err) == 0)
                        a->rest.have_streaming = true;
                break;
        case 5:
                j = cJSON_ParseWithLength(copy, len);
                a = spark_app_from_json(j);
                if (a) {
                        d->apps = xcalloc(1, sizeof *d->apps);
                        spark_app_copy(&d->apps[0], a);
                        d->n_apps = 1;
                        spark_app_free(a);
                }
                cJSON_Delete(j);
                break;
        case 6: {
                struct spark_sched *s;

                j = cJSON_ParseWithLength(copy, len);
                s = spark_sched_from_json(j);
                if (s) {
                        d->scheds = xcalloc(1, sizeof *d->scheds);
                        d->scheds[0] = *s;
                        d->n_scheds = 1;
                        free(s);
                }
                cJSON_Delete(j);
                break;
        }
        default:
                (void)spark_time_parse(copy);
                break;
        }
        fz_readers(d);
        free(copy);
        return 0;
}
