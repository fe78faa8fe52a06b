/*
 * action: the machinery every operator action goes through -- the REST
 * actions of Kafka Connect and Airflow, and the kubectl/helm actions that
 * the Kubernetes collector plugs in (collector_ops.action_kind).
 *
 * An action is a `const struct action_def` in its collector's table
 * (collector_ops.actions). It runs in two phases, both OFF the UI thread:
 *   prepare  builds the plan: the exact requests it would send (method, URL
 *            with credentials masked, body) and preview lines. It may send
 *            read-only requests (API detection, a token, Airflow's own
 *            dry_run clear) but never one that changes anything.
 *   run      sends the plan's requests and fills a result (outcome, HTTP
 *            status or exit code, output for the pager).
 * Between them the caller confirms: the TUI dialog, or the CLI prompt.
 *
 * Safety. action_allowed() refuses mutating actions in read-only mode.
 * Every decision -- refused, cancelled, dry run, ok, failed -- is written
 * to the audit log (action_audit), one JSON line each (docs/actions.md).
 *
 * Threads. action_prepare/action_run/action_audit may run on any thread;
 * the TUI uses action_job_* to run them on a worker thread that writes one
 * byte to the app's wake pipe when done, like a collector publish.
 */
#ifndef LO_SRC_ACTION_H
#define LO_SRC_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/util.h"

/* Exit codes of `lambdaops act` (docs/actions.md). */
#define ACT_EXIT_OK       0
#define ACT_EXIT_FAILED   1     /* the action ran and failed (HTTP error, transport) */
#define ACT_EXIT_CANCELLED 2    /* the prompt was answered no */
#define ACT_EXIT_USAGE    64
#define ACT_EXIT_NOINPUT  66    /* unknown source, action or target */
#define ACT_EXIT_NOTTY    75    /* no --yes and stdin is not a terminal */
#define ACT_EXIT_READONLY 77    /* refused: read-only mode (EX_NOPERM) */

enum action_outcome { ACT_OK, ACT_FAILED, ACT_REFUSED, ACT_CANCELLED };
const char *action_outcome_name(enum action_outcome o);   /* "ok", "failed", ... */

/* Flags of an action_def. */
#define ACTION_F_MUTATING  0x1u /* changes something: hidden/refused when read-only */
#define ACTION_F_DANGEROUS 0x2u /* confirmation by typing the source name */
#define ACTION_F_CONF      0x4u /* takes an optional JSON argument (--conf) */
#define ACTION_F_ARG       0x8u /* takes an argument (ARG on the command line, a
                                   one-line editor labelled arg_label in the TUI);
                                   required unless ACTION_F_ARG_OPT */
#define ACTION_F_ARG_OPT   0x10u /* the argument may be empty */
#define ACTION_F_NOCONFIRM 0x20u /* runs without the y/N question (logs); never
                                    with MUTATING unless the config says so */
#define ACTION_F_TAIL      0x40u /* the result page opens at its end (logs) */

/* One request of a plan. url is already masked (no userinfo). */
struct action_http {
        char *method;           /* owned */
        char *url;              /* owned, credentials masked */
        char *path;             /* owned: path + query, for the audit log */
        char *body;             /* owned, or NULL */
};

/* One external program of a plan (kubectl, helm): an argv run through
 * src/core/subproc.h with posix_spawnp, never a shell, so no argument is ever
 * interpreted. */
struct action_ctx;

struct action_cmd {
        char  **argv;           /* owned, NULL-terminated */
        size_t  argc;
        int64_t timeout_ms;     /* how long it may run; 0 = ACTION_CMD_TIMEOUT_MS */
};

#define ACTION_CMD_TIMEOUT_MS 120000

struct action_plan {
        struct action_http *reqs;       /* owned; the requests run will send */
        size_t n;
        struct action_cmd *cmds;        /* owned; the programs run will start, in order */
        size_t n_cmds;
        char  *context;                 /* owned or NULL: the Kubernetes context the
                                           commands act on, for the dialog, the
                                           dangerous-action prompt and the audit log
                                           (action_plan_set_context) */
        char  *note;                    /* owned or NULL: what happens next, e.g. the
                                           per-task restarts of an older Connect */
        char **preview;                 /* owned lines, e.g. the task instances a clear
                                           would reset */
        size_t n_preview;
        void  *priv;                    /* kind data from prepare to run; freed by priv_free */
        void (*priv_free)(void *);
};

void action_plan_init(struct action_plan *p);
void action_plan_done(struct action_plan *p);
/* Appends a request (copies the strings; masks the url). */
void action_plan_add(struct action_plan *p, const char *method, const char *url,
                     const char *body);
void action_plan_preview(struct action_plan *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Sets (copies) the plan's context; NULL clears it. */
void action_plan_set_context(struct action_plan *p, const char *context);
/* Copies src's programs (argv, timeouts) and context into dst (appended),
 * e.g. to audit them after the plan went to the run phase. */
void action_plan_copy_cmds(struct action_plan *dst, const struct action_plan *src);
/* Appends a program run (copies argv, NULL-terminated; timeout_ms 0 =
 * ACTION_CMD_TIMEOUT_MS). */
void action_plan_add_argv(struct action_plan *p, char *const argv[], int64_t timeout_ms);
/* argv as one line for people (dialogs, --dry-run, the audit `request`):
 * words with characters outside [A-Za-z0-9_./:=@%+,-] are single-quoted
 * the POSIX-shell way, so what is shown is unambiguous. Display only;
 * nothing ever passes it to a shell. Owned. */
char *action_argv_text(char *const argv[]);
/* The plan as text lines for a dialog, prompt or --dry-run ("POST URL",
 * "  body: {...}", notes, previews). Owned, '\n'-separated. */
char *action_plan_text(const struct action_plan *p);
/* "POST /connectors/x/restart?...; GET ..." (then each program's argv
 * text) for the audit log. Owned. */
char *action_plan_summary(const struct action_plan *p);

struct action_result {
        enum action_outcome outcome;
        long   status;          /* HTTP status (or exit code) of the decisive step; 0 none */
        char  *output;          /* owned text for the pager, or NULL */
        char  *requests;        /* owned: what was actually sent (method + path, "; "), or NULL */
        struct err err;         /* why, when failed */
};

void action_result_init(struct action_result *r);
void action_result_done(struct action_result *r);
/* Appends a line to r->output. */
void action_result_out(struct action_result *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Appends "METHOD path" to r->requests. */
void action_result_sent(struct action_result *r, const char *method, const char *path);
/* Runs the plan's programs in order (subproc_run, each bounded by its
 * timeout and by x->cc's stop fd), appending "$ argv" and each program's
 * output to r->output and the argv text to r->requests. Stops at the first
 * program that fails to start, exits non-zero or times out: outcome FAILED,
 * status = its exit code, err says which program and why. All ran fine:
 * outcome OK, status 0. The generic `run` of kubectl/helm actions. */
void action_run_cmds(const struct action_ctx *x, const struct action_plan *plan,
                     struct action_result *r);

/* What an action works on: one source and one row of it. */
struct action_ctx {
        const struct source_cfg *src;   /* borrowed */
        const char *target;             /* connector name, dag id */
        const struct action_def *def;   /* the action being prepared or run */
        const char *arg;                /* --conf JSON or the ACTION_F_ARG argument, or NULL */
        const struct coll_ctx *cc;      /* deadline and stop fd for HTTP */
        bool dry_run;                   /* prepare for --dry-run: the plan is printed,
                                           never run */
};

struct action_def {
        const char *name;       /* "restart": the CLI word */
        const char *title;      /* "restart connector and failed tasks" */
        const char *scope;      /* what TARGET names: "connector", "dag" */
        int         key;        /* TUI key on the kind's pane ('R') */
        unsigned    flags;      /* ACTION_F_* */
        const char *arg_label;  /* ACTION_F_ARG: what the argument is ("replicas") */
        /* Optional check of the argument before anything runs (the TUI editor
         * and `act` call it; prepare checks again). 0 or -1 with err. */
        int (*check_arg)(const struct action_def *d, const char *arg, struct err *err);
        const void *data;       /* kind data: a user-defined action's cfg_action */
        /* Builds the plan (see above). Any thread but the UI's. 0 or -1. */
        int (*prepare)(const struct action_ctx *x, struct action_plan *plan, struct err *err);
        /* Sends the plan. Any thread but the UI's. Fills res (outcome OK or
         * FAILED with err). */
        void (*run)(const struct action_ctx *x, const struct action_plan *plan,
                    struct action_result *res);
};

/* The action `name` of a kind (NULL-name-terminated table in
 * collector_ops.actions), or NULL. */
const struct action_def *action_find(const struct collector_ops *ops, const char *name);
/* The action bound to TUI key `key` for this kind, or NULL. */
const struct action_def *action_for_key(const struct collector_ops *ops, int key);
/* The actions a source offers: its kind's table, then the config's
 * user-defined `actions:` that its kind's action plug-in says apply
 * (action_user_applies).
 * By name, or NULL. */
const struct action_def *action_lookup(const struct config *cfg, const struct source_cfg *src,
                                       const char *name);
/* By TUI key for the row `target` (NULL = any): the first action on that
 * key whose scope covers the target, else the first on that key. */
const struct action_def *action_lookup_key(const struct config *cfg,
                                           const struct source_cfg *src, int key,
                                           const char *target);
/* Calls fn for every action of the source (the same order as the lookups). */
void action_each(const struct config *cfg, const struct source_cfg *src,
                 void (*fn)(const struct action_def *d, void *user), void *user);
/* False (and a reason) when the action does not apply to target (a
 * kubectl action's scope: "restart applies to statefulset, deployment"). */
bool action_target_ok(const struct action_def *d, const char *target, struct err *err);
/* The action plug-in of sources of `kind` (collector_ops.action_kind), or
 * NULL. */
const struct action_kind *action_kind_find(const char *kind);
/* True when d, a user-defined action of the config, applies to sources of
 * `kind` (its action plug-in says so). */
bool action_user_applies(const struct action_def *d, const char *kind);
/* The context the source's actions work on as configured (its plug-in's
 * context_cfg; no file read), or NULL. src may be NULL. Borrowed. */
const char *action_source_context(const struct source_cfg *src);
/* True when `context` matches one of cfg->danger_contexts (fnmatch). */
bool action_context_dangerous(const struct config *cfg, const char *context);
/* False (and a reason) when the action may not run: mutating in read-only. */
bool action_allowed(const struct action_def *d, bool read_only, struct err *err);

/* --- the audit log ------------------------------------------------------ */

struct action_audit {
        const char *environment;        /* cfg environment */
        const char *source;
        const char *kind;
        const char *action;
        const char *target;
        const char *via;                /* "tui" or "cli" */
        const char *context;            /* Kubernetes context, or NULL = null */
        const char *request;            /* method + path summary, or the argv text
                                           of each program; never headers */
        const struct action_cmd *cmds;  /* the programs of the plan (argv of
                                           each), or NULL = "argv": null */
        size_t      n_cmds;
        bool        dry_run;
        enum action_outcome outcome;
        long        status;             /* HTTP status or exit code; 0 = null */
        int64_t     duration_ms;        /* -1 = null */
        const char *error;              /* NULL or "" = null */
        const char *reason;             /* refused/cancelled: which way, one word
                                           (ACT_REASON_*); NULL = null */
        char *const *args;              /* the command line after the program name
                                           (`act`; a --conf value already masked), or
                                           NULL = "args": null. Bounded and escaped
                                           by action_audit_line */
        size_t      n_args;
        const char *run;                /* the runbook run it belongs to, or NULL:
                                           then the line has no "run" field */
};

/* The `reason` of a refused or cancelled action (docs/actions.md). */
#define ACT_REASON_USAGE          "usage"           /* bad option or operands (64) */
#define ACT_REASON_ARGUMENT       "argument"        /* missing or invalid ARG (64) */
#define ACT_REASON_UNKNOWN_SOURCE "unknown-source"  /* 66 */
#define ACT_REASON_UNKNOWN_ACTION "unknown-action"  /* 66 */
#define ACT_REASON_TARGET         "target"          /* not of a kind it applies to (66) */
#define ACT_REASON_NO_TERMINAL    "no-terminal"     /* no --yes, no terminal (75) */
#define ACT_REASON_READ_ONLY      "read-only"       /* 77 */
#define ACT_REASON_DECLINED       "declined"        /* answered no, Esc (cancelled) */
#define ACT_REASON_CONFIG         "config"          /* the config does not load (78) */

/* Bounds of the audit `args`: words kept, bytes of each (escaped). */
#define ACTION_AUDIT_ARGS_MAX     32
#define ACTION_AUDIT_ARG_BYTES    256

/* The audit file: cfg audit_log when set, else $XDG_STATE_HOME/lambdaops/
 * audit.jsonl, else ~/.local/state/lambdaops/audit.jsonl. Owned. */
char *action_audit_path(const struct config *cfg);
/* One JSON line (no newline), fields in the documented order. Owned. Pure
 * apart from the clock, user and host name. Free text (request, error, each
 * argv word and arg) passes redact_patterns, so a credential by its shape
 * (password=..., Bearer ...) never lands in the file; args are escaped
 * (termsafe: control characters, non-UTF-8 bytes), each cut at
 * ACTION_AUDIT_ARG_BYTES and at most ACTION_AUDIT_ARGS_MAX of them kept
 * (then "... (N more)"). */
char *action_audit_line(const struct action_audit *a, int64_t wall_ms);
/* Appends the line to `path` (parent dirs created 0700; the file opened
 * O_APPEND|O_CREAT|O_CLOEXEC 0600, one write(), fsync). 0 or -1 with err.
 * Any thread. */
int action_audit(const char *path, const struct action_audit *a, struct err *err);

/* --- one whole action, synchronously ----------------------------------- */

/* Runs the prepare phase with a deadline of the source's timeout. */
int action_prepare(const struct action_def *d, const struct source_cfg *src,
                   const char *target, const char *arg, bool dry_run,
                   struct action_plan *plan, struct err *err);
/* Runs the run phase with a deadline of the source's timeout. */
void action_run(const struct action_def *d, const struct source_cfg *src, const char *target,
                const char *arg, const struct action_plan *plan, struct action_result *res);

/* --- the worker thread (TUI) -------------------------------------------- */

enum action_phase { ACT_PHASE_PREPARE, ACT_PHASE_RUN };

struct action_job;

/* Starts a worker for one phase of d on (src, target, arg). For RUN, `plan`
 * is taken over (the caller's struct is reset). Writes one byte to wake_fd
 * when done. Returns NULL only when no thread can be started. UI thread. */
struct action_job *action_job_start(const struct action_def *d, const struct source_cfg *src,
                                    const char *target, const char *arg,
                                    enum action_phase phase, struct action_plan *plan,
                                    int wake_fd);
/* True once the phase finished (never blocks). Any thread. */
bool action_job_done(struct action_job *j);
/* After done: the plan (PREPARE) or the result (RUN) and the error. The job
 * keeps ownership; move what you need with the *_take calls. */
int action_job_prepare_rc(struct action_job *j, struct action_plan *plan, struct err *err);
void action_job_result(struct action_job *j, struct action_result *res);
int64_t action_job_duration_ms(const struct action_job *j);
/* Joins (after done this does not wait) and frees. NULL-safe. UI thread.
 * Freeing a job not yet done waits for its deadline at most. */
void action_job_free(struct action_job *j);

#endif
