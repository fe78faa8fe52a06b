/*
 * bringup_cli: the `lambdaops plan`, `up` and `down` commands (src/bringup/plan.h has
 * the plan and the progress file). `up` runs the plan's stages in order:
 * every step through the action machinery (read-only refusal, typed
 * confirmation of dangerous steps, one audit line per step), then waits on
 * the stage's gates by running the gate's source collector and evaluating
 * the gate's expression (src/bringup/expr.h) against that source's status JSON.
 *
 * Exit codes (docs): 0 done, 1 a step or gate failed, 2 cancelled at a
 * prompt or interrupted (SIGINT/SIGTERM), 64 usage, 66 no plan file, 75 no
 * terminal and no --yes, 77 read-only, 78 plan or config invalid.
 *
 * Main thread only; it starts collector threads for the gates.
 */
#ifndef LO_SRC_BRINGUP_CLI_H
#define LO_SRC_BRINGUP_CLI_H

#include <stdbool.h>

#include "core/opt.h"

#define BRINGUP_EXIT_OK        0
#define BRINGUP_EXIT_FAILED    1
#define BRINGUP_EXIT_CANCELLED 2
#define BRINGUP_EXIT_USAGE     64
#define BRINGUP_EXIT_NOPLAN    66
#define BRINGUP_EXIT_NOTTY     75
#define BRINGUP_EXIT_READONLY  77
#define BRINGUP_EXIT_CONFIG    78

/* The default plan file, relative to the current directory. */
#define BRINGUP_DEFAULT_PLAN "deploy/plan.yaml"

/* Set in the environment: `up`/`down` start the runner detached (a new
 * session, re-parented) and exit 0 at once; the Bring-up pane uses it. */
#define BRINGUP_DETACH_ENV "LAMBDAOPS_DETACH"

/* True when the command word of argv (the first word that is not an
 * option or an option's value) is plan, up or down. `main_defs` (may be
 * NULL) are the caller's own options: theirs and plan/up/down's that take
 * a value skip it. */
bool bringup_is_command(int argc, char **argv, const struct opt_def *main_defs);
/* Runs `lambdaops [opts] plan|up|down [opts]`; returns the exit code. */
int bringup_main(int argc, char **argv);

#endif
