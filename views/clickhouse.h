/*
 * views/clickhouse.h: the ClickHouse pane (views/clickhouse.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_CLICKHOUSE_H
#define LO_VIEWS_CLICKHOUSE_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_clickhouse_ops;

/* Table columns of the pane. */
enum { CHV_SOURCE, CHV_KIND, CHV_NAME, CHV_PARTS, CHV_MAX, CHV_ROWS, CHV_SIZE, CHV_STATE,
       CHV__COUNT };

/* Pane toggles (view_data.flags): which kind of row the table shows; 0 =
 * all (tables, replicas, merges, slow queries). `s` cycles them. */
#define VIEW_CH_SHOW_MASK     0x7u
#define VIEW_CH_SHOW_TABLES   1u
#define VIEW_CH_SHOW_REPLICAS 2u
#define VIEW_CH_SHOW_MERGES   3u
#define VIEW_CH_SHOW_SLOW     4u

/* Pure (see views/view.h). Row ids are "SOURCE\tKIND\tKEY" with KIND one
 * of table, replica, merge, slow. */
void view_clickhouse_rows(const struct view_data *d, struct table_rows *out);
void view_clickhouse_preamble(const struct view_data *d, struct tlines *out);
void view_clickhouse_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
