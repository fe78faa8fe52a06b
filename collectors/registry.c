/*
 * The collector registry: one line per service kind. Config `kind:` values
 * are looked up here by collector_find().
 */
#include "collectors/airflow/airflow.h"
#include "collectors/bringup.h"
#include "collectors/clickhouse/clickhouse.h"
#include "core/collector.h"
#include "collectors/kafka/kafka.h"
#include "collectors/kafka_connect.h"
#include "collectors/kubernetes/kubernetes.h"
#include "collectors/postgres.h"
#include "collectors/prometheus.h"
#include "collectors/reconcile/reconcile.h"
#include "collectors/schema_registry.h"
#include "collectors/snowflake.h"
#include "collectors/spark/spark.h"

const struct collector_ops *const collector_registry[] = {
        &coll_postgres_ops,
        &coll_kafka_ops,
        &coll_clickhouse_ops,
        &coll_snowflake_ops,
        &coll_reconcile_ops,
        &coll_kafka_connect_ops,
        &coll_schema_registry_ops,
        &coll_airflow_ops,
        &coll_prometheus_ops,
        &coll_kubernetes_ops,
        &coll_spark_ops,
        &coll_bringup_ops,
        NULL,
};
