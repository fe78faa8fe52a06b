/*
 * The collector registry: one line per service kind. Config `kind:` values
 * are looked up here by collector_find().
 */
#include "airflow.h"
#include "bringup.h"
#include "clickhouse.h"
#include "collector.h"
#include "kafka.h"
#include "kafka_connect.h"
#include "kubernetes.h"
#include "postgres.h"
#include "prometheus.h"
#include "reconcile.h"
#include "schema_registry.h"
#include "snowflake.h"
#include "spark.h"

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
