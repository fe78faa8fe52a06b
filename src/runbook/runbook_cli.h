/*
 * runbook_cli: the `lambdaops runbook` commands. `list [--json]` shows the
 * runbooks of the config's `runbooks:` (each with its file, and whether a
 * live alert or a source's status matches its `when:`: every source is
 * polled once, as `status` does); `show ID` prints one runbook: its inputs
 * and every step as it will run (${name} words as written).
 *
 * Exit codes, as `lambdaops up`: 0 ok, 64 usage, 66 unknown runbook, 78
 * config or runbook invalid (FILE:LINE:COL: message on stderr).
 *
 * Main thread only; `list` starts collector threads for one poll.
 */
#ifndef LO_SRC_RUNBOOK_CLI_H
#define LO_SRC_RUNBOOK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "core/opt.h"
#include "core/util.h"

struct config;

#define RUNBOOK_EXIT_OK        0
#define RUNBOOK_EXIT_FAILED    1
#define RUNBOOK_EXIT_ABORTED   2
#define RUNBOOK_EXIT_USAGE     64
#define RUNBOOK_EXIT_UNKNOWN   66
#define RUNBOOK_EXIT_LOCKED    73
#define RUNBOOK_EXIT_NOTTY     75
#define RUNBOOK_EXIT_READONLY  77
#define RUNBOOK_EXIT_CONFIG    78

/* True when the command word of argv (the first word that is not an
 * option or an option's value) is `runbook`. main_defs (may be NULL): the
 * caller's options whose values are skipped too. */
bool runbook_is_command(int argc, char **argv, const struct opt_def *main_defs);
/* Runs `lambdaops [opts] runbook VERB ...`; returns the exit code. */
int runbook_main(int argc, char **argv);

/* For `lambdaops config check`: loads the config's runbooks and checks each
 * against it. 0 with *n the number loaded, or -1 with err
 * ("FILE:LINE:COL: message"). */
int runbook_cli_config_check(const struct config *cfg, size_t *n, struct err *err);

#endif
