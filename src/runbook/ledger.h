/*
 * ledger: the durable record of runbook runs. Each run is one JSON-lines
 * file, $XDG_STATE_HOME/lambdaops/runs/<run-id>.jsonl (else
 * ~/.local/state/lambdaops/runs/), directories 0700, files 0600. Every
 * record is one line appended with write(2) and fsync(2) before the step it
 * describes goes on, so after a crash, a quit or a kill the file says what
 * happened up to the last completed line. A line cut by a crash (no
 * trailing newline, or not JSON) is ignored on reading, and the next append
 * starts on a fresh line.
 *
 * Records ("ev" field):
 *   {"ev":"start","run":ID,"runbook":ID,"file":PATH,"user":$USER,
 *    "inputs":{...},"at":RFC3339,"target":KEY}
 *   {"ev":"step","step":ID,"index":N,"kind":"action","mutating":true,
 *    "phase":"start"|"end","result":"ok"|"failed"|"skipped"|"cancelled",
 *    "attempt":N,"request":TEXT,"argv":[...],"output_tail":TEXT,
 *    "values":TEXT,"error":TEXT,"user":$USER,"at":RFC3339,"duration_ms":N}
 *   {"ev":"choice","step":ID,"label":TEXT,"goto":ID,...}
 *   {"ev":"verify",...}
 *   {"ev":"end","result":"ok"|"failed"|"aborted","at":...}
 * Texts are redacted (redact_patterns) and bounded before they are written.
 *
 * Locks: a run holds an exclusive flock(2) on runs/<runbook>@<target>.lock
 * (target: the run's key, e.g. "orders-db/debezium_orders"; the lock file
 * name is escaped) from start to end, so two runs of one runbook on the same
 * target cannot overlap; the lock goes when the process dies.
 */
#ifndef LO_SRC_LEDGER_H
#define LO_SRC_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct cJSON;

/* The runs directory (see above). Owned. */
char *ledger_dir(void);
/* A new run id: "YYYYMMDDTHHMMSSZ-<runbook>-<4 hex>" (UTC; unique in dir). Owned. */
char *ledger_new_id(const char *runbook_id);

struct ledger {
        char *path;
        int   fd;               /* O_APPEND */
        int   lock_fd;          /* -1 when not locked */
};

/* Creates the run file (exclusive) and takes the lock for runbook@target.
 * -1 with err when another run holds it ("run ID of RUNBOOK on TARGET is in
 * progress (pid N)"). */
int ledger_create(struct ledger *l, const char *run_id, const char *runbook_id,
                  const char *target, struct err *err);
/* Opens an existing run for resuming and takes its lock. */
int ledger_open(struct ledger *l, const char *run_id, struct err *err);
/* Appends one record (adds "at" when missing) and fsyncs. */
int ledger_append(struct ledger *l, const struct cJSON *rec, struct err *err);
void ledger_close(struct ledger *l);    /* releases the lock */

/* Every complete record of a run, in order (a cut last line is skipped and
 * counted in *cut, may be NULL). Owned array. */
struct cJSON *ledger_read(const char *run_id, size_t *cut, struct err *err);

/* Where a resumed run continues: the index of the first step without an
 * "end" record with result ok/skipped, following gotos and choices as
 * recorded. *done_mutating gets, per step index (array of n_steps, may be
 * NULL), whether a mutating step completed (never to be repeated). -1 when
 * the run has ended (nothing to resume). */
long ledger_resume_point(const struct cJSON *records, size_t n_steps, bool *done_mutating);

/* Runs in the directory, newest first: an owned JSON array of
 * {"run","runbook","target","user","started","ended","result","step"}. */
struct cJSON *ledger_list(struct err *err);

#endif
