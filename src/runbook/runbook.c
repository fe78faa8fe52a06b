/*
 * runbook: the model and the loader (runbook.h).
 */
#include "runbook/runbook.h"

const char *runbook_step_kind_name(enum runbook_step_kind k)
{
        switch (k) {
        case RB_STEP_CHECK:  return "check";
        case RB_STEP_WAIT:   return "wait";
        case RB_STEP_ACTION: return "action";
        case RB_STEP_RUN:    return "run";
        case RB_STEP_MANUAL: return "manual";
        case RB_STEP_CHOOSE: return "choose";
        }
        return "?";
}
