/*
 * views/connect.h: the Connect pane: Kafka Connect and Schema Registry (views/connect.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_CONNECT_H
#define LO_VIEWS_CONNECT_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_connect_ops;

/* Table columns: connectors, and the Schema Registry sub-view. */
enum { CONV_SOURCE, CONV_NAME, CONV_TYPE, CONV_STATE, CONV_TASKS, CONV_FAILED, CONV_WORKER,
       CONV_SLOT, CONV__COUNT };
enum { SRV_SOURCE, SRV_SUBJECT, SRV_VERSIONS, SRV_LATEST, SRV_ID, SRV_TYPE, SRV_COMPAT,
       SRV__COUNT };

/* Pane toggle (view_data.flags): `s` switches to Schema Registry subjects. */
#define VIEW_CONNECT_F_SR 0x1u

/* Pure (see views/view.h). Connector row ids are "SOURCE\tCONNECTOR",
 * subject row ids "SOURCE\tSUBJECT"; rows are worst first. */
void view_connect_rows(const struct view_data *d, struct table_rows *out);
void view_connect_preamble(const struct view_data *d, struct tlines *out);
void view_connect_detail(const struct view_data *d, const char *id, struct tlines *out);

#endif
