/*
 * runbook_run_cli: `lambdaops runbook run|resume|log`, the engine
 * (runbook_run.h) with a terminal driver.
 *
 *   runbook run ID [--input NAME=VALUE]... [--yes] [--dry-run]
 *   runbook resume RUN [--yes]
 *   runbook log RUN [--json]
 *
 * Conditions read a source's status as `lambdaops status --json` does: the
 * source's collector is started on first use and refreshed before each
 * read. Prompts (confirmations, manual steps, choices) go to stderr and are
 * answered on stdin when it is a terminal; without one, a run that would
 * need to ask is refused before it starts (75; --yes answers the
 * confirmations, never a manual step or a choice). Every text from a
 * runbook, a server or a program passes termsafe. Exit codes: runbook_run.h
 * (75 as above; `log` 0, or 66 for an unknown run).
 */
#ifndef LO_SRC_RUNBOOK_RUN_CLI_H
#define LO_SRC_RUNBOOK_RUN_CLI_H

#include <stdbool.h>

/* True when argv is `lambdaops [opts] runbook run|resume|log ...` (the
 * word after the first "runbook"). runbook_main (runbook_cli.c) hands
 * these to runbook_run_main. */
bool runbook_run_cli_is(int argc, char **argv);

/* Runs `lambdaops [-c CONFIG] [--read-only] runbook VERB ARGS...` for the
 * verbs above: -c/--config and --read-only may also come after the verb.
 * The config and its runbooks are loaded and checked as for `runbook
 * list` (78). Returns the exit code. */
int runbook_run_main(int argc, char **argv);

#endif
