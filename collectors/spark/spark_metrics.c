/*
 * spark_metrics: the Spark source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): per
 * SparkApplication its state, attempts and executors by state, the
 * streaming rates and delays read from the driver, failed jobs, stages and
 * tasks; per ScheduledSparkApplication whether it is suspended and its
 * last and next run. Unknown values (-1, NAN) have no sample.
 */
#include "collectors/spark/spark.h"

#include <math.h>

#include "core/promtext.h"
#include "core/snapshot.h"

/* spark_app.exec_by_state, in its order. */
static const char *const spark_exec_states[5] = {
        "pending", "running", "completed", "failed", "unknown",
};

static void spark_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_spark_app_state", PROMTEXT_GAUGE,
                         "1 with the SparkApplication's state label as the operator reports it "
                         "(RUNNING, COMPLETED, FAILED...; NEW when it has none yet).");
        promtext_declare(p, "lambdaops_spark_app_submission_attempts", PROMTEXT_GAUGE,
                         "Submission attempts of the application.");
        promtext_declare(p, "lambdaops_spark_app_executors", PROMTEXT_GAUGE,
                         "The application's executors by state (pending, running, completed, "
                         "failed, unknown) from the operator's status.");
        promtext_declare(p, "lambdaops_spark_app_input_records_per_second", PROMTEXT_GAUGE,
                         "Streaming input rate read from the driver.");
        promtext_declare(p, "lambdaops_spark_app_processed_records_per_second", PROMTEXT_GAUGE,
                         "Streaming processing rate read from the driver.");
        promtext_declare(p, "lambdaops_spark_app_batch_duration_seconds", PROMTEXT_GAUGE,
                         "Structured Streaming trigger latency, or the DStream batch duration.");
        promtext_declare(p, "lambdaops_spark_app_scheduling_delay_seconds", PROMTEXT_GAUGE,
                         "DStream average scheduling delay.");
        promtext_declare(p, "lambdaops_spark_app_falling_behind_seconds", PROMTEXT_GAUGE,
                         "How long the processing rate has stayed below the input rate (0: it "
                         "keeps up).");
        promtext_declare(p, "lambdaops_spark_app_failed_jobs", PROMTEXT_GAUGE,
                         "Failed jobs the driver lists.");
        promtext_declare(p, "lambdaops_spark_app_failed_stages", PROMTEXT_GAUGE,
                         "Failed stages the driver lists.");
        promtext_declare(p, "lambdaops_spark_app_failed_tasks", PROMTEXT_GAUGE,
                         "Failed tasks over the application's executors since it started.");
        promtext_declare(p, "lambdaops_spark_app_active_tasks", PROMTEXT_GAUGE,
                         "Tasks running on the application's executors.");
        promtext_declare(p, "lambdaops_spark_scheduled_suspended", PROMTEXT_GAUGE,
                         "1 when the ScheduledSparkApplication is suspended.");
        promtext_declare(p, "lambdaops_spark_scheduled_last_run_timestamp_seconds",
                         PROMTEXT_GAUGE, "Unix time of the scheduled application's last run.");
        promtext_declare(p, "lambdaops_spark_scheduled_next_run_timestamp_seconds",
                         PROMTEXT_GAUGE, "Unix time of the scheduled application's next run.");
}

static void spark_metrics_app(struct promtext *p, const char *s, const struct spark_app *a)
{
        const char *ns = a->namespace_, *n = a->name;
        const struct spark_rest *r = &a->rest;

        promtext_add(p, "lambdaops_spark_app_state", 1, "source", s, "namespace", ns, "app", n,
                     "state", a->state_text && a->state_text[0] ? a->state_text : "NEW", NULL);
        promtext_add(p, "lambdaops_spark_app_submission_attempts", a->submission_attempts,
                     "source", s, "namespace", ns, "app", n, NULL);
        for (int i = 0; i < 5; i++)
                promtext_add(p, "lambdaops_spark_app_executors", a->exec_by_state[i],
                             "source", s, "namespace", ns, "app", n,
                             "state", spark_exec_states[i], NULL);
        if (r->have_streaming) {
                const struct spark_streaming *st = &r->streaming;

                promtext_add(p, "lambdaops_spark_app_input_records_per_second", st->input_rate,
                             "source", s, "namespace", ns, "app", n, NULL);
                promtext_add(p, "lambdaops_spark_app_processed_records_per_second",
                             st->processing_rate, "source", s, "namespace", ns, "app", n, NULL);
                promtext_add(p, "lambdaops_spark_app_batch_duration_seconds",
                             st->batch_ms / 1000.0, "source", s, "namespace", ns, "app", n, NULL);
                promtext_add(p, "lambdaops_spark_app_scheduling_delay_seconds",
                             st->sched_delay_ms / 1000.0, "source", s, "namespace", ns, "app", n,
                             NULL);
        }
        if (a->behind_ms >= 0)
                promtext_add(p, "lambdaops_spark_app_falling_behind_seconds",
                             (double)a->behind_ms / 1000.0, "source", s, "namespace", ns,
                             "app", n, NULL);
        if (r->failed_jobs >= 0)
                promtext_add(p, "lambdaops_spark_app_failed_jobs", r->failed_jobs, "source", s,
                             "namespace", ns, "app", n, NULL);
        if (r->failed_stages >= 0)
                promtext_add(p, "lambdaops_spark_app_failed_stages", r->failed_stages,
                             "source", s, "namespace", ns, "app", n, NULL);
        if (r->tasks_failed >= 0)
                promtext_add(p, "lambdaops_spark_app_failed_tasks", r->tasks_failed,
                             "source", s, "namespace", ns, "app", n, NULL);
        if (r->tasks_active >= 0)
                promtext_add(p, "lambdaops_spark_app_active_tasks", r->tasks_active,
                             "source", s, "namespace", ns, "app", n, NULL);
}

void spark_metrics(const struct snapshot *snap, const struct source_cfg *src, struct promtext *p)
{
        const struct spark_data *d = snap->data;
        const char *s = src->name;

        spark_metrics_declare(p);
        for (size_t i = 0; i < d->n_apps; i++)
                spark_metrics_app(p, s, &d->apps[i]);
        for (size_t i = 0; i < d->n_scheds; i++) {
                const struct spark_sched *c = &d->scheds[i];

                promtext_add(p, "lambdaops_spark_scheduled_suspended", c->suspend ? 1 : 0,
                             "source", s, "namespace", c->namespace_, "app", c->name, NULL);
                if (c->last_run_ms > 0)
                        promtext_add(p, "lambdaops_spark_scheduled_last_run_timestamp_seconds",
                                     (double)c->last_run_ms / 1000.0, "source", s,
                                     "namespace", c->namespace_, "app", c->name, NULL);
                if (c->next_run_ms > 0)
                        promtext_add(p, "lambdaops_spark_scheduled_next_run_timestamp_seconds",
                                     (double)c->next_run_ms / 1000.0, "source", s,
                                     "namespace", c->namespace_, "app", c->name, NULL);
        }
}
