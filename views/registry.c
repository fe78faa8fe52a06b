/*
 * The pane registry, in tab order: one line per pane. The TUI numbers tabs
 * from this array (1 = first), `:name` and `--view NAME` look names up here.
 */
#include "views/view.h"
#include "views/airflow.h"
#include "views/clickhouse.h"
#include "views/kafka.h"
#include "views/connect.h"
#include "views/metrics.h"
#include "views/reconcile.h"
#include "views/spark.h"
#include "views/cluster.h"
#include "views/bringup.h"
#include "views/overview.h"
#include "views/cdc.h"
#include "views/alerts.h"
#include "views/runbooks.h"

#include <string.h>

#include "collectors/airflow/airflow.h"
#include "collectors/bringup.h"
#include "collectors/clickhouse/clickhouse.h"
#include "collectors/kafka/kafka.h"
#include "collectors/kafka_connect.h"
#include "collectors/kubernetes/kubernetes.h"
#include "collectors/prometheus.h"
#include "collectors/reconcile/reconcile.h"
#include "collectors/spark/spark.h"

const struct view_ops *const view_registry[] = {
        &view_overview_ops,
        &view_cdc_ops,
        &view_alerts_ops,
        &view_clickhouse_ops,
        &view_reconcile_ops,
        &view_airflow_ops,
        &view_metrics_ops,
        &view_connect_ops,
        &view_kafka_ops,
        &view_cluster_ops,
        &view_spark_ops,
        &view_bringup_ops,
        &view_runbooks_ops,
        NULL,
};

const struct view_ops *view_find(const char *name)
{
        for (size_t i = 0; name && view_registry[i]; i++)
                if (strcmp(view_registry[i]->name, name) == 0)
                        return view_registry[i];
        return NULL;
}
