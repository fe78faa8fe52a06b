/*
 * ledger: the durable record of runbook runs. Each run is one JSON-lines
 * file, $XDG_STATE_HOME/lambdaops/runs/<run-id>.jsonl (XDG_STATE_HOME only
 * when absolute; else ~/.local/state/lambdaops/runs/), directories 0700,
 * files 0600. Every record is one line appended with write(2) and fsync(2)
 * before the step it describes goes on, so after a crash, a quit or a kill
 * the file says what happened up to the last completed line. A line that is
 * not one whole JSON object (cut by a crash, garbage, a NUL byte, longer
 * than LEDGER_LINE_MAX) is skipped and counted on reading, and the next
 * append starts on a fresh line, so a cut line stays isolated.
 *
 * Records ("ev" field; "at" is added by ledger_append when missing):
 *   {"ev":"start","run":ID,"runbook":ID,"file":PATH,"user":$USER,
 *    "inputs":{...},"at":RFC3339,"target":KEY}
 *       The first record. ledger_open recovers the lock key from its
 *       "runbook" and "target" (a missing target is ""), so both must be
 *       exactly the strings given to ledger_create.
 *   {"ev":"step","step":ID,"index":N,"kind":"action","mutating":true,
 *    "phase":"start"|"end","result":"ok"|"failed"|"skipped"|"cancelled",
 *    "attempt":N,"next":M,"request":TEXT,"argv":[...],"output_tail":TEXT,
 *    "values":TEXT,"error":TEXT,"user":$USER,"at":RFC3339,"duration_ms":N}
 *       index: the step's position in runbook->steps (0-based). It is the
 *       same on every visit: when a goto comes back to a step, its records
 *       carry the same index again. attempt: 1, 2, ... within one visit
 *       (retries). result and next: end records only. next: the index the
 *       engine goes to after this step (index+1, a choice's or an on_fail
 *       goto's step, index+1 for on_fail: continue, n_steps after the last
 *       step); absent on a failed end when the run stops there or retries.
 *       "mutating" must be on the start and end records of mutating steps.
 *   {"ev":"choice","step":ID,"index":N,"label":TEXT,"goto":ID,"goto_index":M}
 *       Written before the choose step's end record.
 *   {"ev":"verify",...}, {"ev":"resume","user":...}: free form, not read
 *       by ledger_resume_point.
 *   {"ev":"end","result":"ok"|"failed"|"aborted","at":...}
 *       The last record; a run with an end record is never resumed (an
 *       operator's abort writes it; a quit, a crash or a kill does not).
 * Every string in a record (at any depth) is passed through redact_patterns
 * and then bounded: "output_tail" keeps its last LEDGER_TEXT_MAX bytes, any
 * other string its first LEDGER_TEXT_MAX bytes (cut on a UTF-8 boundary).
 * Secrets the engine knows (a source's password) must still be removed by
 * the caller with redact_secrets before the record is built.
 *
 * Locks: a run holds an exclusive flock(2) on runs/<runbook>@<target>.lock
 * (target: the run's key, e.g. "orders-db/debezium_orders"; both are
 * escaped: any byte outside [A-Za-z0-9._-] becomes %XX) from ledger_create
 * or ledger_open to ledger_close, so two runs of one runbook on the same
 * target cannot overlap. The lock file holds "PID RUN-ID\n" of its holder
 * for the refusal message. The lock goes when the process dies (a stale
 * lock file is harmless); lock files are never removed. The descriptors are
 * O_CLOEXEC, so a spawned step does not inherit the lock.
 *
 * Not thread-safe per struct ledger (one engine thread writes a run).
 */
#ifndef LO_SRC_LEDGER_H
#define LO_SRC_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct cJSON;

#define LEDGER_TEXT_MAX 4096                    /* bytes of one string in a record */
#define LEDGER_LINE_MAX (1024 * 1024)           /* bytes of one record's line */
#define LEDGER_FILE_MAX (64 * 1024 * 1024)      /* bytes of one run's file */

/* The runs directory (see above). Owned. Not created here: ledger_create
 * makes it (0700) when missing. */
char *ledger_dir(void);
/* A new run id: "YYYYMMDDTHHMMSSZ-<runbook>-<4 hex>" (UTC, clock_wall_ms;
 * the hex from getrandom). One not present in the directory is returned;
 * ledger_create's O_EXCL still settles a race (EEXIST: take a new id). Owned. */
char *ledger_new_id(const char *runbook_id);
/* True when s can name a run: 1..200 bytes of [A-Za-z0-9._-], not starting
 * with '.' (a run id from a command line never leaves the directory). */
bool ledger_id_valid(const char *s);

struct ledger {
        char *path;             /* the run's file, owned */
        int   fd;               /* O_RDWR | O_APPEND (read: the last byte); -1 when closed */
        int   lock_fd;          /* -1 when not locked */
};

/* Takes the lock for runbook@target (target may be NULL: ""), then creates
 * the run file (O_EXCL, 0600; the directory 0700 when missing). On failure
 * -1 with err, and l is left closed (ledger_close is still safe):
 *   err.code EWOULDBLOCK when another run holds the lock:
 *     "run ID of RUNBOOK on TARGET is in progress (pid N); wait for it to
 *      end, or resume that run when its process is gone"
 *   err.code EEXIST when the run file exists (take a new id);
 *   another errno for a system error (the message names the path). */
int ledger_create(struct ledger *l, const char *run_id, const char *runbook_id,
                  const char *target, struct err *err);
/* Opens an existing run for resuming: reads its start record for the lock
 * key, takes the lock (refused as ledger_create), reopens the file
 * O_APPEND. ENOENT: no such run; EINVAL: an invalid id or no start record. */
int ledger_open(struct ledger *l, const char *run_id, struct err *err);
/* Appends one record (a copy: "at" added when missing, strings redacted
 * and bounded, see above) as one line in a single write(2) loop, then
 * fsync(2). When the file's last byte is not '\n' (a line cut by a crash)
 * a '\n' goes first. -1 with err when rec is not an object, the line would
 * exceed LEDGER_LINE_MAX (EMSGSIZE), or write/fsync failed: the record is
 * then not durable and the engine must not go on. */
int ledger_append(struct ledger *l, const struct cJSON *rec, struct err *err);
void ledger_close(struct ledger *l);    /* releases the lock; NULL-safe, idempotent */

/* Every record of a run, in order: each line that is one whole JSON object
 * (trailing blanks allowed; a last line without '\n' counts when it is
 * whole). Lines that are not (cut, garbage, a NUL byte, longer than
 * LEDGER_LINE_MAX) are skipped and counted in *cut (may be NULL); empty
 * lines are skipped silently. Owned array, or NULL with err (ENOENT: no
 * such run; EFBIG beyond LEDGER_FILE_MAX; EINVAL: an invalid id). */
struct cJSON *ledger_read(const char *run_id, size_t *cut, struct err *err);
/* The same on bytes in memory (not NUL-terminated). Never NULL. */
struct cJSON *ledger_parse(const char *buf, size_t len, size_t *cut);

/* Where a resumed run continues. The records are replayed in order, keeping
 * the position the engine had reached (pos starts at 0):
 *   - an "end" record anywhere: the run is over, -1;
 *   - a step start record of index i: pos = i (if nothing follows, step i
 *     was interrupted and runs again);
 *   - a step end record of index i with result ok or skipped: pos = its
 *     "next" when present (0..n_steps), else the "goto_index" of a choice
 *     record for i since i's last start, else i+1;
 *   - a step end record with another result (failed, cancelled): pos = its
 *     "next" when present (on_fail: continue or a goto), else i (a failed
 *     step that stopped the run, or that was going to be retried, runs
 *     again);
 *   - records with an index outside 0..n_steps-1, a "next" outside
 *     0..n_steps, or of another kind change nothing.
 * The result is pos: a step index, or n_steps when every step is done and
 * only `verify` remains (or was interrupted). So the point is never a step
 * whose visit ended ok, gotos and choices are followed as recorded (a step
 * a choice went around is not run), and a completed step is not repeated
 * unless the recorded flow had already gone back to it (a goto loop).
 *
 * done_mutating (array of n_steps, may be NULL) gets, per index, whether
 * a step recorded with "mutating":true ended ok in any visit. The engine
 * never runs such a step again on its own after a resume (a goto loop that
 * reaches it asks the operator first, even with --yes). -1 also when
 * records is not an array. */
long ledger_resume_point(const struct cJSON *records, size_t n_steps, bool *done_mutating);
/* True when the last step record is a start (its step was interrupted: for
 * a mutating step the change may or may not have happened, so the engine
 * says so and asks before running it again). */
bool ledger_step_interrupted(const struct cJSON *records);

/* Runs in the directory, newest first ("started" descending, then run id
 * descending): an owned JSON array of {"run","runbook","target","user",
 * "started","ended","result","step"}: strings from the start record, the
 * end record ("ended", "result": null while the run has no end: in
 * progress or interrupted) and the last step record ("step": its id, or
 * null). Files that are not runs or cannot be read are left out; a missing
 * directory is an empty list. NULL with err when the directory cannot be
 * read. */
struct cJSON *ledger_list(struct err *err);

#endif
