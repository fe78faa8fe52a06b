/*
 * views/reconcile.h: the Reconcile pane (views/reconcile.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_RECONCILE_H
#define LO_VIEWS_RECONCILE_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_reconcile_ops;

/* Table columns of the pane: one row per check. */
enum { RECV_CHECK, RECV_STATUS, RECV_COMPARED, RECV_MISMATCHED, RECV_MISS_SPEED,
       RECV_MISS_BATCH, RECV_IN_FLIGHT, RECV_WORST, RECV_HIST, RECV__COUNT };

#define RECV_DETAIL_MAX 400     /* buckets listed on the detail page */

/* Pure (see views/view.h). Row ids are the check's source name; the detail
 * page is the check's bucket table, newest first (past RECV_DETAIL_MAX
 * buckets, the ones that are not `match` come first). */
void view_reconcile_rows(const struct view_data *d, struct table_rows *out);
void view_reconcile_preamble(const struct view_data *d, struct tlines *out);
void view_reconcile_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
