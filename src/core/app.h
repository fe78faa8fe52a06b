/*
 * app: the running console's top-level state, passed explicitly (no
 * globals). Created by main() on the main thread.
 */
#ifndef LO_SRC_APP_H
#define LO_SRC_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/alerttrack.h"
#include "core/collector.h"
#include "core/config.h"

struct app {
        struct config     *cfg;         /* owned; immutable after load */
        struct collector **colls;       /* one per cfg->sources[i], same order */
        size_t             n_colls;
        int                wake_pipe[2];/* [0] read by the UI loop, [1] given to collectors */
        bool               read_only;   /* cfg->read_only or --read-only */
        bool               ascii;       /* --ascii or a non-UTF-8 locale */
        bool               no_color;    /* NO_COLOR set or --no-color */
        const char        *theme_override; /* --theme, or NULL */
        struct alert_board *alerts;     /* `watch`: the alert states it publishes
                                           (src/core/alerttrack.h) for the /metrics
                                           server; NULL elsewhere */
};

/* Starts one collector thread per source; `once` as in collector_start. */
void app_start_collectors(struct app *a, bool once);
/* Stops and joins every collector (bounded, see collector_stop_all). */
void app_stop_collectors(struct app *a);

/* `status` and `check`: poll every source once in parallel, then print.
 * Return the process exit code. Defined in src/core/report.c. */
int report_status(struct app *a, bool json);
int report_check(struct app *a);

#endif
