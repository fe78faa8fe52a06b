/*
 * views/overview.h: the Overview pane (views/overview.c): what the pane exposes to the pane
 * registry, the TUI, other panes and tests.
 */
#ifndef LO_VIEWS_OVERVIEW_H
#define LO_VIEWS_OVERVIEW_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_overview_ops;

/* Column indexes, for tests and for the pane's own code. */
enum { OV_SOURCE, OV_KIND, OV_STATUS, OV_METRIC, OV_TREND, OV_AGE, OV_POLL, OV_SUMMARY,
       OV_ERROR, OV__COUNT };

void view_overview_rows(const struct view_data *d, struct table_rows *out);
void view_overview_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
