/*
 * watch: `lambdaops watch`, the headless side of the console: the same
 * collectors, health rules and alert lifecycle (src/core/alerttrack.h)
 * with no terminal, logging to stderr until SIGTERM or SIGINT. See
 * docs/watch.md.
 */
#ifndef LO_SRC_CLI_WATCH_H
#define LO_SRC_CLI_WATCH_H

#include <stdbool.h>

#include "core/opt.h"

/* True when the command word of argv is "watch" (main_defs: the main
 * options that take a value, so their values are skipped). */
bool watch_is_command(int argc, char **argv, const struct opt_def *main_defs);
/* Runs it: 0 after a clean stop on SIGTERM/SIGINT, 64 usage, 78 config
 * error, 1 when it cannot start. */
int watch_main(int argc, char **argv);

#endif
