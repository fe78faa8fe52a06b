/*
 * runbook_run: the engine that runs a runbook's steps, for the CLI
 * (`lambdaops runbook run|resume`) and the console's run view alike.
 *
 * The engine is one loop over the steps; everything that touches the world
 * goes through the driver, so the CLI (prompts on a terminal, --yes), the
 * console (dialogs on the UI thread, via the wake pipe) and the tests
 * (scripted answers) differ only in their driver:
 *   - conditions (check, wait, verify) are evaluated on a source's status
 *     document, which the driver supplies (the CLI and the console start
 *     or reuse the source's collector, as bring-up gates do; tests hand in
 *     fixed documents), with the run's inputs as the object `inputs`;
 *   - actions go through the action machinery (action_prepare, the
 *     driver's confirm, action_run, action_audit with the run id), so they
 *     are shown, confirmed (typed name when dangerous), refused in read-only
 *     mode and audited exactly as `lambdaops act`;
 *   - run steps spawn their argv (subproc, no shell) with captured output,
 *     after the driver confirms when mutating;
 *   - manual steps and choose steps ask the driver.
 * Every step's start and end go to the ledger (fsync) before the engine
 * moves on; a resumed run never repeats a completed mutating step.
 */
#ifndef LO_SRC_RUNBOOK_RUN_H
#define LO_SRC_RUNBOOK_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "runbook/ledger.h"
#include "runbook/runbook.h"

struct cJSON;
struct config;

enum runbook_answer { RB_ANS_YES, RB_ANS_NO, RB_ANS_ABORT };

struct runbook_driver {
        void *arg;
        /* The status document of a source now (owned), or NULL with err
         * (the source is down or unknown). */
        struct cJSON *(*status)(void *arg, const char *source, struct err *err);
        /* Shows text (a plan, a step header, values, output) to the operator. */
        void (*show)(void *arg, const char *text);
        /* Confirms a mutating step: `plan` is what will be done; `typed`, when
         * not NULL, is the word a dangerous step needs typed. */
        enum runbook_answer (*confirm)(void *arg, const char *plan, const char *typed);
        /* A manual step: the instruction; yes = done. */
        enum runbook_answer (*manual)(void *arg, const char *text);
        /* A choose step: returns the index of the chosen label, or -1 to abort. */
        int (*choose)(void *arg, const char *const *labels, size_t n);
        /* Sleeps up to ms or until the operator aborts; true when aborted. */
        bool (*wait)(void *arg, int64_t ms);
};

struct runbook_run_opts {
        bool dry_run;           /* print every step resolved, change nothing */
        bool yes;               /* confirm mutating steps without asking */
        bool read_only;         /* refuse mutating steps */
        const char *resume;     /* a run id to continue, or NULL */
};

/* Exit codes, as `lambdaops up`: 0 ok, 1 a step or verify failed, 2
 * aborted by the operator, 64 usage, 66 unknown runbook or run, 73 another
 * run holds the lock, 77 read-only, 78 config. */
int runbook_run(const struct runbook *rb, const struct runbook_inputs *in,
                const struct config *cfg, const struct runbook_driver *drv,
                const struct runbook_run_opts *opts, char **run_id, struct err *err);

#endif
