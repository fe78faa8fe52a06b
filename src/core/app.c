/*
 * app: starting and stopping the collector set. Main thread.
 */
#include "core/app.h"

#include <stdlib.h>

void app_start_collectors(struct app *a, bool once)
{
        a->n_colls = a->cfg->n_sources;
        a->colls = xcalloc(a->n_colls ? a->n_colls : 1, sizeof *a->colls);
        for (size_t i = 0; i < a->n_colls; i++)
                a->colls[i] = collector_start(&a->cfg->sources[i], a->wake_pipe[1], once);
}

void app_stop_collectors(struct app *a)
{
        if (!a->colls)
                return;
        collector_stop_all(a->colls, a->n_colls);
        free(a->colls);
        a->colls = NULL;
        a->n_colls = 0;
}
