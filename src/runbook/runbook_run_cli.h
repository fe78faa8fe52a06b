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

#include "runbook/runbook.h"

struct config;

#define RUNBOOK_EXIT_NOTTY 75

/* True for the verbs this file handles: "run", "resume", "log". */
bool runbook_run_cli_verb(const char *verb);

/* Runs `runbook VERB ARGS...`: argv[0] is the verb. cfg and set are loaded
 * (the config and its runbooks); read_only as --read-only or the config's
 * read_only. Returns the exit code. */
int runbook_run_cli(const struct config *cfg, const struct runbook_set *set, bool read_only,
                    int argc, char **argv);

#endif
