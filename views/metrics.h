/*
 * views/metrics.h: the Metrics pane (views/metrics.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_METRICS_H
#define LO_VIEWS_METRICS_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_metrics_ops;

enum { MV_SOURCE, MV_NAME, MV_VALUE, MV_UNIT, MV_HIST, MV_STATE, MV__COUNT };

void view_metrics_rows(const struct view_data *d, struct table_rows *out);
void view_metrics_preamble(const struct view_data *d, struct tlines *out);

#endif
