/*
 * airflow_metrics: the Airflow source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): per DAG whether it
 * is paused or has import errors, its runs of the last 24 hours by state
 * (failures included), runs running and queued now, how overdue its next
 * run is, its last run's state and duration, and the failed tasks of its
 * latest failed run. Unknown values have no sample.
 */
#include "collectors/airflow/airflow.h"

#include <math.h>

#include "core/promtext.h"
#include "core/snapshot.h"

static void airflow_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_airflow_dags", PROMTEXT_GAUGE,
                         "DAGs the server lists (before the source's filter).");
        promtext_declare(p, "lambdaops_airflow_dag_paused", PROMTEXT_GAUGE,
                         "1 when the DAG is paused.");
        promtext_declare(p, "lambdaops_airflow_dag_import_errors", PROMTEXT_GAUGE,
                         "1 when the DAG's file has import errors.");
        promtext_declare(p, "lambdaops_airflow_dag_runs_24h", PROMTEXT_GAUGE,
                         "The DAG's runs started in the last 24 hours, by state (queued, running, "
                         "success, failed, other).");
        promtext_declare(p, "lambdaops_airflow_dag_running_runs", PROMTEXT_GAUGE,
                         "The DAG's runs running now.");
        promtext_declare(p, "lambdaops_airflow_dag_queued_runs", PROMTEXT_GAUGE,
                         "The DAG's runs queued now.");
        promtext_declare(p, "lambdaops_airflow_dag_overdue_seconds", PROMTEXT_GAUGE,
                         "How long past due the DAG's next run is (0: on time); absent for "
                         "paused or unscheduled DAGs.");
        promtext_declare(p, "lambdaops_airflow_dag_last_run_state", PROMTEXT_GAUGE,
                         "1 with the state label of the DAG's latest run.");
        promtext_declare(p, "lambdaops_airflow_dag_last_run_duration_seconds", PROMTEXT_GAUGE,
                         "Duration of the DAG's latest run (so far, while it runs).");
        promtext_declare(p, "lambdaops_airflow_dag_failed_tasks", PROMTEXT_GAUGE,
                         "Failed and upstream_failed task instances of the DAG's latest failed "
                         "run.");
}

void airflow_metrics(const struct snapshot *snap, const struct source_cfg *src,
                     struct promtext *p)
{
        const struct af_data *d = snap->data;
        const char *s = src->name;

        airflow_metrics_declare(p);
        promtext_add(p, "lambdaops_airflow_dags", (double)d->total_dags, "source", s, NULL);
        for (size_t i = 0; i < d->n_dags; i++) {
                const struct af_dag *g = &d->dags[i];
                const char *id = g->dag_id;

                promtext_add(p, "lambdaops_airflow_dag_paused", g->paused ? 1 : 0, "source", s,
                             "dag", id, NULL);
                promtext_add(p, "lambdaops_airflow_dag_import_errors", g->import_errors ? 1 : 0,
                             "source", s, "dag", id, NULL);
                if (g->runs_read) {
                        for (int st = 0; st < AF_RUN__COUNT; st++)
                                promtext_add(p, "lambdaops_airflow_dag_runs_24h", g->runs_24h[st],
                                             "source", s, "dag", id,
                                             "state", airflow_run_state_name(st), NULL);
                        promtext_add(p, "lambdaops_airflow_dag_running_runs", g->running,
                                     "source", s, "dag", id, NULL);
                        promtext_add(p, "lambdaops_airflow_dag_queued_runs", g->queued,
                                     "source", s, "dag", id, NULL);
                }
                if (g->overdue_s >= 0)
                        promtext_add(p, "lambdaops_airflow_dag_overdue_seconds",
                                     (double)g->overdue_s, "source", s, "dag", id, NULL);
                if (g->have_last) {
                        promtext_add(p, "lambdaops_airflow_dag_last_run_state", 1, "source", s,
                                     "dag", id, "state",
                                     g->last_run.state ? g->last_run.state : "", NULL);
                        promtext_add(p, "lambdaops_airflow_dag_last_run_duration_seconds",
                                     g->last_run.duration_s, "source", s, "dag", id, NULL);
                }
                if (g->tasks_read)
                        promtext_add(p, "lambdaops_airflow_dag_failed_tasks",
                                     (double)g->n_failed_tasks, "source", s, "dag", id, NULL);
        }
}
