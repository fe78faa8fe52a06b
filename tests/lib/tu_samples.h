/*
 * Sample data shared by the tests of a collector and of its pane
 * (tests/unit/collectors/test_coll_X.c and tests/unit/views/test_view_X.c):
 * the parsed fixtures a poll would have left, and a SQL row feeder for the
 * reconciliation engine. Each fails the calling cmocka test on bad input.
 * Test-only.
 */
#ifndef LO_TESTS_TU_SAMPLES_H
#define LO_TESTS_TU_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "collectors/airflow/airflow.h"
#include "collectors/clickhouse/clickhouse.h"
#include "collectors/kafka_connect.h"
#include "collectors/reconcile/reconcile.h"
#include "core/config.h"
#include "core/util.h"

/* tests/fixtures/AREA/NAME, read whole; owned. Fails the test when missing. */
char *tu_fixture_file(const char *area, const char *name, size_t *len);

/* ClickHouse: one parser over one fixture of tests/fixtures/clickhouse. */
typedef int (*tu_ch_parse_fn)(const char *, size_t, struct ch_data *, struct err *);
void tu_ch_parse_ok(tu_ch_parse_fn fn, const char *name, struct ch_data *d);
/* Everything a poll of version `v` ("v18", "v23") parses, as the collector
 * would have it (no history). Owned. */
struct ch_data *tu_ch_sample(const char *v, struct ch_caps *caps);

/* Airflow: a config with one airflow source `af` plus `extra` YAML lines. */
struct config *tu_af_config(const char *extra);
/* The v1 DAG list with nightly_compact's runs and tasks, as a poll at
 * `now` (Unix ms) would leave it (no history). Owned. */
struct af_data *tu_af_sample_v1(int64_t now);

/* Kafka Connect: expanded_all_states.json parsed and finished (no
 * postgres join), and a config with a postgres source `shop-db` and a
 * kafka_connect source `connect` joined to it, plus `extra` YAML lines. */
struct kc_data *tu_kc_sample_expanded(void);
struct config *tu_kc_config(const char *extra);

/* Reconciliation: "2024-05-01 10:00:00"-style time -> Unix ms. */
int64_t tu_time(const char *s);
/* Streams rows into one side of the engine. header: "name:type ..." with
 * type time|int|num|bool|text; rows: lines of |-separated values, NULL for
 * null. 0, or -1 with err set. */
int tu_reconcile_feed_rc(struct reconcile_engine *e, enum reconcile_side side,
                         const char *header, const char *rows, struct err *err);
/* The same; fails the test on an error. */
void tu_reconcile_feed(struct reconcile_engine *e, enum reconcile_side side,
                       const char *header, const char *rows);

#endif
