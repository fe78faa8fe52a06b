/*
 * views/alerts.h: the Alerts pane (views/alerts.c): what the pane exposes to the pane
 * registry, the TUI, other panes and tests.
 */
#ifndef LO_VIEWS_ALERTS_H
#define LO_VIEWS_ALERTS_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_alerts_ops;

/* Column indexes, for tests and for the pane's own code. */
enum { AL_SEV, AL_SINCE, AL_SOURCE, AL_SUBJECT, AL_METRIC, AL_VALUE, AL_TREND, AL_MESSAGE,
       AL__COUNT };

void view_alerts_rows(const struct view_data *d, struct table_rows *out);
void view_alerts_detail(const struct view_data *d, const char *id, struct tlines *out);
/* The row id of an alert (its detail_id too), for the TUI's `b` key. */
void view_alerts_id(const struct alert *a, char *buf, size_t n);
/* Up to `max` lines naming the worst active alerts, for other panes. */
void view_alerts_brief(const struct view_data *d, size_t max, struct tlines *out);

#endif
