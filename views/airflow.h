/*
 * views/airflow.h: the Airflow pane (views/airflow.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_AIRFLOW_H
#define LO_VIEWS_AIRFLOW_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_airflow_ops;

enum { AFV_SOURCE, AFV_DAG, AFV_SCHED, AFV_STATE, AFV_LAST, AFV_DUR, AFV_TREND, AFV_FAIL24,
       AFV_RUNNING, AFV_OVERDUE, AFV__COUNT };

/* Pure (see views/view.h). Row ids are "SOURCE\tDAG_ID". */
void view_airflow_rows(const struct view_data *d, struct table_rows *out);
void view_airflow_preamble(const struct view_data *d, struct tlines *out);
void view_airflow_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
