/*
 * views/spark.h: the Spark pane (views/spark.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_SPARK_H
#define LO_VIEWS_SPARK_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_spark_ops;

enum { SPV_NS, SPV_NAME, SPV_STATE, SPV_ATT, SPV_DRIVER, SPV_EXEC, SPV_IN, SPV_IN_H, SPV_PROC,
       SPV_PROC_H, SPV_BATCH, SPV_DELAY, SPV_AGE, SPV_ERROR, SPV__COUNT };
enum { SPS_NS, SPS_NAME, SPS_SCHEDULE, SPS_STATE, SPS_SUSPEND, SPS_LAST, SPS_NEXT, SPS_LASTNAME,
       SPS_REASON, SPS__COUNT };

#define VIEW_SPARK_F_SCHEDULED 0x1u     /* the table shows the scheduled applications */

/* Pure (see views/view.h). Application row ids are "SOURCE\tNS/NAME";
 * scheduled ones "SOURCE\tscheduled:NS/NAME". */
void view_spark_rows(const struct view_data *d, struct table_rows *out);
void view_spark_preamble(const struct view_data *d, struct tlines *out);
void view_spark_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
