/*
 * views/bringup.h: the Bring-up pane (views/bringup.c): what the pane exposes to the pane
 * registry, the TUI and tests.
 */
#ifndef LO_VIEWS_BRINGUP_H
#define LO_VIEWS_BRINGUP_H

#include <stddef.h>

#include "views/view.h"

extern const struct view_ops view_bringup_ops;

/* Column indexes of the pane. */
enum { BUV_STAGE, BUV_STATE, BUV_ELAPSED, BUV_STEPS, BUV_GATES, BUV_NOTE, BUV__COUNT };

#endif
