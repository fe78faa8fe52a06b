/*
 * views/cdc.h: the CDC pane: PostgreSQL replication slots (views/cdc.c): what the pane exposes to the pane
 * registry, the TUI, other panes and tests.
 */
#ifndef LO_VIEWS_CDC_H
#define LO_VIEWS_CDC_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_cdc_ops;

/* Column indexes, for tests and for the pane's own code. */
enum { CDC_SOURCE, CDC_SLOT, CDC_PLUGIN, CDC_ACTIVE, CDC_LAG, CDC_TREND, CDC_RETAINED,
       CDC_WAL, CDC_SAFE, CDC_HIST, CDC__COUNT };

/* CDC pane toggles (view_data.flags). */
#define VIEW_CDC_F_INACTIVE 0x1u        /* only slots without a consumer */

void view_cdc_rows(const struct view_data *d, struct table_rows *out);
void view_cdc_preamble(const struct view_data *d, struct tlines *out);
void view_cdc_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
