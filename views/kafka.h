/*
 * views/kafka.h: the Kafka pane (views/kafka.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_KAFKA_H
#define LO_VIEWS_KAFKA_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_kafka_ops;

/* Pane toggles (view_data.flags): the sub-view (`v` cycles groups,
 * brokers + quorum, topics) and the group sort (`s` cycles lag, lag
 * seconds, status). */
#define VIEW_KAFKA_SHOW_MASK    0x3u
#define VIEW_KAFKA_SHOW_GROUPS  0x0u
#define VIEW_KAFKA_SHOW_BROKERS 0x1u
#define VIEW_KAFKA_SHOW_TOPICS  0x2u
#define VIEW_KAFKA_SORT_MASK    0xCu
#define VIEW_KAFKA_SORT_LAG     0x0u
#define VIEW_KAFKA_SORT_SECONDS 0x4u
#define VIEW_KAFKA_SORT_STATUS  0x8u

/* Table columns of each sub-view. */
enum { KVG_SOURCE, KVG_GROUP, KVG_STATE, KVG_STATUS, KVG_LAG, KVG_SECONDS, KVG_TREND,
       KVG_PARTS, KVG_HIST, KVG__COUNT };
enum { KVB_SOURCE, KVB_ID, KVB_ADDR, KVB_RACK, KVB_UP, KVB_RTT, KVB_LEADS, KVB_QUORUM,
       KVB_LEO, KVB_QLAG, KVB_FETCH, KVB_CAUGHT, KVB__COUNT };
enum { KVT_SOURCE, KVT_TOPIC, KVT_PARTS, KVT_RF, KVT_UNDER, KVT_OFFLINE, KVT_SHRINK,
       KVT_RATE, KVT_HIST, KVT__COUNT };

/* The column table of the sub-view in `flags`. */
const struct column *view_kafka_columns(unsigned flags);

/* Pure (see views/view.h). Row ids are "SOURCE\tKIND\tKEY" with KIND one
 * of group, node (a broker and/or quorum replica, KEY its id), topic. */
void view_kafka_rows(const struct view_data *d, struct table_rows *out);
void view_kafka_preamble(const struct view_data *d, struct tlines *out);
void view_kafka_detail(const struct view_data *d, const char *id, struct tlines *out);
/* The detail page's lines [from, from + count) only (the partition lines
 * outside it are not formatted); returns the page's total line count.
 * view_kafka_detail is view_kafka_detail_window(d, id, 0, SIZE_MAX, out). */
size_t view_kafka_detail_window(const struct view_data *d, const char *id, size_t from,
                                size_t count, struct tlines *out);

#endif
