/*
 * The collector registry: one line per service kind. Config `kind:` values
 * are looked up here by collector_find().
 */
#include "clickhouse.h"
#include "collector.h"
#include "postgres.h"

const struct collector_ops *const collector_registry[] = {
        &coll_postgres_ops,
        &coll_clickhouse_ops,
        NULL,
};
