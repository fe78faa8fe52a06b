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

/* RB_ANS_SKIP (the console's skip key; confirm, manual and failed only):
 * the step is not run (again); its end is recorded "skipped" and the run
 * goes on at the step's success `next`. */
enum runbook_answer { RB_ANS_YES, RB_ANS_NO, RB_ANS_ABORT, RB_ANS_SKIP };

struct runbook_driver {
        void *arg;
        /* The status document of a source now (owned), or NULL with err
         * (the source is down or unknown). The engine adds the run's inputs
         * to it as the object `inputs` (replacing one the document had). */
        struct cJSON *(*status)(void *arg, const char *source, struct err *err);
        /* Shows text (a plan, a step header, values, output) to the operator. */
        void (*show)(void *arg, const char *text);
        /* Confirms a mutating step: `plan` is what will be done; `typed`, when
         * not NULL, is the word a dangerous step needs typed. Not called
         * with opts->yes. */
        enum runbook_answer (*confirm)(void *arg, const char *plan, const char *typed);
        /* A manual step: the instruction; yes = done (no or abort: the run
         * ends "aborted", exit 2). */
        enum runbook_answer (*manual)(void *arg, const char *text);
        /* A choose step: returns the index of the chosen label, or -1 to abort. */
        int (*choose)(void *arg, const char *const *labels, size_t n);
        /* Sleeps up to ms or until the operator aborts; true when aborted.
         * Waits poll every RUNBOOK_POLL_MS through it; retries pause
         * RUNBOOK_RETRY_MS; wait(0) before each step asks whether the
         * operator aborted meanwhile (the run then ends "aborted"). */
        bool (*wait)(void *arg, int64_t ms);
        /* Optional: a monotonic clock in ms (NULL: clock_mono_ms). Waits,
         * timeouts and durations read it, so a test's wait() can advance a
         * fake clock instead of sleeping. */
        int64_t (*now_ms)(void *arg);
        /* Optional: called with every record after it went to the ledger
         * (the console's run view follows a run with it). */
        void (*record)(void *arg, const struct cJSON *rec);
        /* Optional: a step failed for good (its retries used up, and its
         * on_fail is stop). YES: another attempt now (no pause); SKIP: a
         * second end record "skipped" (see below) and the run goes on at the
         * step's success `next`; NO or ABORT: the run stops, as with no
         * callback (end "failed"). NULL: the run stops (the CLI). */
        enum runbook_answer (*failed)(void *arg, const char *step, const char *error);
        /* Optional: true once the operator has left the run (the console
         * quits while it runs). From then on, a run that would end
         * "aborted" or "failed" (a prompt answered ABORT, a wait cut short by
         * wait()) writes no end record: runbook_run returns 2 and the run
         * stays resumable; the lock is released as always. */
        bool (*left)(void *arg);
};

struct runbook_run_opts {
        bool dry_run;           /* print every step resolved, change nothing */
        bool yes;               /* confirm mutating steps without asking */
        bool read_only;         /* refuse mutating steps */
        const char *resume;     /* a run id to continue, or NULL */
        const char *via;        /* the audit log's `via`: "cli" (NULL) or "tui" */
};

#define RUNBOOK_POLL_MS       2000      /* how often a wait or verify re-reads the status */
#define RUNBOOK_RETRY_MS      2000      /* the pause before a step's next attempt */
#define RUNBOOK_TAIL_BYTES    2048      /* the output tail a ledger record keeps */
#define RUNBOOK_MAX_STEP_RUNS 1000      /* steps run in one run (a goto loop ends there) */

/* Exit codes, as `lambdaops up`: 0 ok, 1 a step or verify failed, 2
 * aborted by the operator, 64 usage (an unbound or invalid input), 66
 * unknown runbook or run (or a run that has ended: nothing to resume), 73
 * another run holds the lock (or the ledger cannot be written), 77
 * read-only, 78 config.
 *
 * The ledger records (ledger.h) the engine writes, in order:
 *   start    {"ev":"start","run","runbook","file","user","inputs":{NAME:TEXT},
 *             "target"}          inputs as given (texts), so resume rebinds them
 *   resume   {"ev":"resume","from":INDEX,"user"}           on each resume
 *   step     per attempt: {"ev":"step","step","index","kind","mutating",
 *             "phase":"start","attempt","user"}, then {..."phase":"end",
 *             "result":"ok"|"failed"|"cancelled"|"refused"|"skipped",
 *             "attempt", ["request"], ["argv"], ["output_tail"], ["values"],
 *             ["error"], "user", "duration_ms", ["next":INDEX]} where `next` is
 *             the step that runs next (n_steps: the verify) when the run goes
 *             on. "skipped" (RB_ANS_SKIP to confirm or manual) has "error":
 *             "skipped by the operator" and "next": the step's success next.
 *             After a failed end without "next", the failed() callback may
 *             add a second end record of the same attempt: {..."phase":"end",
 *             "result":"skipped","attempt","error":"skipped by the operator
 *             after it failed: ...","user","duration_ms":0,"next"}; or
 *             retry: a new start record with attempt + 1
 *   choice   {"ev":"choice","step","index","label","goto","goto_index"} before
 *             the choose step's end
 *   verify   {"ev":"verify","index","source","expr","result","values",
 *             ["error"],"duration_ms"}
 *   end      {"ev":"end","result":"ok"|"failed"|"aborted"|"refused"}; none
 *             when the driver's left() says the operator left (resumable)
 * ledger_append adds "at".
 *
 * Resume (ledger_resume_point): the run continues at the first unfinished
 * step. A mutating step that completed before the resume (a goto loop
 * reaching it again) or whose start has no end (interrupted: its change may
 * or may not have happened) runs again only when confirm() says yes, even
 * with opts->yes: no records it "skipped" (attempt 0) and goes on; abort
 * stops the run with exit 2 and no end record, so it stays resumable. A run
 * whose recorded steps do not match the runbook as loaded now is refused
 * (66).
 *
 * A real run sets *run_id (owned; may be NULL) as soon as the ledger exists.
 * opts->resume continues that run: in must hold its inputs
 * (runbook_run_load), rb its runbook. */
int runbook_run(const struct runbook *rb, const struct runbook_inputs *in,
                const struct config *cfg, const struct runbook_driver *drv,
                const struct runbook_run_opts *opts, char **run_id, struct err *err);

/* For resume: the runbook id (owned) and the inputs (texts) of a run, from
 * its start record. 0, or -1 with err (unknown run: err->code ENOENT). */
int runbook_run_load(const char *run_id, char **runbook_id, struct runbook_inputs *in,
                     struct err *err);

/* The key a run locks: the values of the source- and target-typed inputs,
 * in their order, joined with '/' ("orders-db/debezium_orders"); "-" when
 * there is none. Owned. */
char *runbook_run_target(const struct runbook *rb, const struct runbook_inputs *in);

#endif
