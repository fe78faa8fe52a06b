/* clickhouse_int.h: private to the parts of clickhouse (shared types and functions). */
#ifndef LO_COLLECTORS_CLICKHOUSE_INT_H
#define LO_COLLECTORS_CLICKHOUSE_INT_H

#include "collectors/clickhouse/clickhouse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "clients/sql.h"
#include "core/jsonout.h"
#include "core/ring.h"
#include "core/util.h"

#define CH_DEFAULT_DELAY_PARTS 150      /* parts_to_delay_insert before 23.6 */
#define CH_SLOW_N              10
#define CH_QUERY_DISPLAY       200      /* bytes of query text we keep */
#define CH_QUERY_FETCH         4096     /* characters of query text we fetch */
#define CH_OWN_PREFIX          "lambdaops-"

/* clickhouse_text.c */
void clickhouse_redact(char *msg, size_t n, const char *secret);
void clickhouse_exception_err(const struct ch_exception *ex, long status, const char *password,
                              struct err *err);

/* clickhouse_parse.c */
void clickhouse_slow_done(struct ch_slow_query *s);
void clickhouse_table_done(struct ch_table *t);
void clickhouse_merge_done(struct ch_merge *m);
void clickhouse_replica_done(struct ch_replica *r);

#endif
