/*
 * Bring-up collector (kind "bringup"): watches one plan of `lambdaops up`.
 * Its poll reads the plan file and the progress file the runner writes
 * (src/bringup/plan.h) -- no network -- and publishes the stages with their states,
 * elapsed times, steps, gates (expression, current value, error) and the
 * running step's output tail, plus whether the runner is alive.
 *
 * Its actions (the Bring-up pane's keys) start or resume the runner (S),
 * retry a stage (R), skip a stage (K) and abort the runner (X); they go
 * through src/actions/action.h like every action: dialog, read-only, audit.
 *
 * A bu_data is immutable once published; any thread may read it.
 */
#ifndef LO_COLLECTORS_BRINGUP_H
#define LO_COLLECTORS_BRINGUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/collector.h"

struct cJSON;
struct plan;

extern const struct collector_ops coll_bringup_ops;

struct bringup_cfg {
        char *plan;             /* path of the plan file */
};

/* Published data: the merged plan + progress document, exactly what
 * to_json adds under the source (docs/status-json.md, kind bringup). */
struct bringup_data {
        struct cJSON *doc;      /* owned */
};

/* Builds the document from a loaded plan and its progress object (NULL =
 * nothing ran yet) at wall time now_ms; runner_alive says whether the
 * recorded runner PID is alive. Owned. Pure. */
struct cJSON *bringup_doc(const struct plan *p, const struct cJSON *prog, int64_t now_ms,
                          bool runner_alive);


#endif
