/*
 * runbook: executable runbooks. One YAML file holds one runbook; the
 * directories (or globs) of the config's top-level `runbooks:` key are
 * loaded into a runbook_set. This header is the model and the loader; the
 * run ledger is ledger.h, the engine runbook_run.h.
 *
 * The format (docs/runbooks.md is the reference):
 *
 *   id: cdc-slot-inactive              # [a-z0-9][a-z0-9-]*, unique in the set
 *   title: An inactive slot is retaining WAL
 *   description: |                     # markdown-ish text for the pane
 *     ...
 *   when:                              # the alerts it answers: any entry matches
 *     - kind: postgres                 # every field given must match; a
 *       metric: slot_retained_wal      # field is an exact name or a glob
 *       severity: warning              # (fnmatch); severity: warning|critical
 *       source: orders-*               # (warning matches critical too)
 *     - source: orders-db              # or an expression over a source's
 *       expr: 'any(slots, not .active)'  # status JSON (src/bringup/expr.h)
 *   inputs:
 *     - name: source                   # [a-z_][a-z0-9_]*
 *       type: source                   # string integer duration enum source target
 *       kind: postgres                 # type source: the kind it must be
 *       from_alert: source             # prefill: source | subject | metric
 *     - name: slot
 *       type: target
 *       target: slot                   # slot group connector pod application dag bucket
 *       from_alert: subject
 *     - name: mode
 *       type: enum
 *       values: [restart, drop]
 *       default: restart               # any type may have a default
 *       min: 0, max: 10                # integer bounds (optional)
 *   steps:                             # run in order; each has a unique id
 *     - id: slot-exists
 *       title: The slot exists         # optional; shown in lists and the ledger
 *       check:                         # must hold now
 *         source: ${source}
 *         expr: 'any(slots, .name == inputs.slot)'
 *     - id: restart
 *       action:                        # any lambdaops action (docs/actions.md)
 *         source: ${connect}
 *         action: restart
 *         target: ${connector}
 *         arg: ...                     # optional
 *       timeout: 2m                    # every step: default 10m
 *       retries: 1                     # every step: default 0
 *       on_fail: stop                  # stop (default) | continue | <step id>
 *       next: wait-active              # every step but choose: where the run
 *                                      # goes on after it succeeds: a step id,
 *                                      # or verify (skip the remaining steps);
 *                                      # default: the next step in the list
 *       dangerous: false               # run/action: true asks for a typed word
 *     - id: wait-active
 *       wait:                          # must become true (and hold `for`)
 *         source: ${source}
 *         expr: 'all(slots, .active)'
 *         for: 30s                     # optional
 *     - id: dump
 *       run: [pg_dump, --schema-only, "${dsn_name}"]   # argv, no shell
 *       mutating: false                # run/action: default true
 *       dangerous: true                # run: confirmed by typing the runbook's
 *                                      # id (--yes confirms, as for actions)
 *     - id: confirm-consumer
 *       manual: Check that the consumer pod is gone.   # the operator confirms
 *     - id: pick
 *       choose:                        # the operator picks a branch
 *         - label: The consumer is alive
 *           goto: restart
 *         - label: The consumer is gone
 *           goto: drop
 *   verify:                            # must hold for `for` before success
 *     - source: ${source}
 *       expr: 'all(slots, .active)'
 *       for: 1m
 *       timeout: 10m
 *
 * ${name} substitutes an input inside the words of `source`, `target`,
 * `arg`, `run`, `manual` and a choice's `label` (a word never splits; "$$"
 * is a literal '$').
 *
 * `dangerous: true` on a run step makes its confirmation ask for the
 * runbook's id typed (a run step has no context to type, and the id names
 * what the operator is running). On an action step it can only add care:
 * the action's own ACTION_F_DANGEROUS applies whatever the step says, and
 * `dangerous: true` on a safe action asks for its context typed. A
 * dangerous step is mutating (`dangerous: true` with `mutating: false` is
 * refused). `next:` and a choose step's branches are the only jumps on
 * success; `on_fail` the only one on failure.
 * Expressions never see ${...}: they read the inputs as the JSON object
 * `inputs` next to the source's status document, so an input's value can
 * never change an expression's meaning. A run is refused while an input is
 * unbound, and no step ever runs with a literal "${name}".
 *
 * Everything here is pure apart from reading the files; a loaded set is
 * immutable, so any thread may read it.
 */
#ifndef LO_SRC_RUNBOOK_H
#define LO_SRC_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "core/util.h"

struct cJSON;
struct config;
struct expr;

#define RUNBOOK_STEP_TIMEOUT_MS (10 * 60 * 1000)
#define RUNBOOK_FILE_MAX        (1024 * 1024)

enum runbook_input_type {
        RB_IN_STRING, RB_IN_INTEGER, RB_IN_DURATION, RB_IN_ENUM, RB_IN_SOURCE, RB_IN_TARGET,
};

/* What a target input names (type: target). */
enum runbook_target {
        RB_T_NONE, RB_T_SLOT, RB_T_GROUP, RB_T_CONNECTOR, RB_T_POD, RB_T_APPLICATION,
        RB_T_DAG, RB_T_BUCKET,
};

enum runbook_from_alert { RB_FROM_NONE, RB_FROM_SOURCE, RB_FROM_SUBJECT, RB_FROM_METRIC };

struct runbook_input {
        char   *name;
        enum runbook_input_type type;
        char   *kind;                   /* type source: required kind, or NULL */
        enum runbook_target target;     /* type target */
        char  **values;                 /* type enum: owned, NULL-terminated */
        size_t  n_values;
        char   *def;                    /* default as text, or NULL */
        bool    has_min, has_max;
        int64_t min, max;               /* type integer */
        enum runbook_from_alert from_alert;
        int     line, col;
};

enum runbook_step_kind {
        RB_STEP_CHECK, RB_STEP_WAIT, RB_STEP_ACTION, RB_STEP_RUN, RB_STEP_MANUAL,
        RB_STEP_CHOOSE,
};

/* on_fail: stop, continue, or go to the step at goto_index. */
enum runbook_on_fail { RB_FAIL_STOP, RB_FAIL_CONTINUE, RB_FAIL_GOTO };

struct runbook_choice {
        char  *label;
        char  *go;                      /* a step id */
        size_t go_index;                /* resolved */
};

struct runbook_cond {                   /* a check, a wait, a verify entry */
        char        *source;            /* may hold ${input} */
        struct expr *expr;              /* owned, parsed */
        int64_t      for_ms;            /* wait/verify: how long it must hold (0: once) */
        int64_t      timeout_ms;        /* verify only (steps use the step's timeout) */
        int          line, col;
};

struct runbook_step {
        char  *id;                      /* [a-z0-9][a-z0-9-]*, unique in the runbook */
        char  *title;                   /* or NULL */
        enum runbook_step_kind kind;
        struct runbook_cond cond;       /* check, wait */
        char  *act_source, *act_action, *act_target, *act_arg;  /* action; may hold ${} */
        char **argv;                    /* run: owned, NULL-terminated, ${} unsubstituted */
        size_t n_argv;
        char  *manual;                  /* manual: the instruction */
        struct runbook_choice *choices; /* choose */
        size_t n_choices;
        bool   mutating;                /* action, run: default true; others false */
        bool   dangerous;               /* action, run: typed confirmation (default false) */
        bool   has_next;                /* `next:` given (on success, go to next_index) */
        char  *next;                    /* the step id, or "verify" */
        size_t next_index;              /* resolved: a step, or n_steps for verify */
        int64_t timeout_ms;
        int     retries;
        enum runbook_on_fail on_fail;
        char   *on_fail_goto;           /* RB_FAIL_GOTO: the step id */
        size_t  on_fail_index;          /* resolved */
        int     line, col;
};

/* One `when:` entry: alert fields (NULL = any; globs), or an expression. */
struct runbook_when {
        char        *kind, *source, *metric, *subject;
        enum severity severity;         /* SEV_OK = any */
        struct expr *expr;              /* with source: over its status JSON */
        int          line, col;
};

struct runbook {
        char   *path;                   /* the file it came from */
        char   *id;
        char   *title;
        char   *description;            /* or NULL */
        struct runbook_when  *when;
        size_t                n_when;
        struct runbook_input *inputs;
        size_t                n_inputs;
        struct runbook_step  *steps;
        size_t                n_steps;
        struct runbook_cond  *verify;
        size_t                n_verify;
};

struct runbook_set {
        struct runbook **v;             /* owned, sorted by id */
        size_t n;
};

/* Loads one runbook file. NULL with err "FILE:LINE:COL: message" (or
 * "FILE: message"). The file is read with fsfile_read. */
struct runbook *runbook_load_file(const char *path, struct err *err);
/* The same from memory; `path` names it in messages. */
struct runbook *runbook_load_string(const char *yaml, size_t len, const char *path,
                                    struct err *err);
void runbook_free(struct runbook *rb);          /* NULL-safe */

/* Loads every *.yaml / *.yml of the config's `runbooks:` entries
 * (directories or globs; relative to the config file's directory). Ids
 * must be unique across files. 0, or -1 with err (the first error). */
int runbook_set_load(struct runbook_set *set, const struct config *cfg, struct err *err);
void runbook_set_done(struct runbook_set *set);
const struct runbook *runbook_set_find(const struct runbook_set *set, const char *id);

/* Checks a runbook against the config: every literal source exists (and is
 * of the input's kind), every action exists for its source's kind, every
 * ${name} names an input. err "FILE:LINE:COL: ...". */
int runbook_check_config(const struct runbook *rb, const struct config *cfg, struct err *err);

/* True when an entry of rb->when matches the alert (kind is the alert's
 * source's kind). Expression entries are matched by runbook_matches_status. */
bool runbook_matches_alert(const struct runbook *rb, const struct alert *a, const char *kind);
/* True when an expression entry of rb->when whose source (and kind) match
 * this source holds on its status document (report_json_source). An
 * evaluation error counts as not matching. */
bool runbook_matches_status(const struct runbook *rb, const char *source, const char *kind,
                            const struct cJSON *status);

/* Input values: names and values, owned. */
struct runbook_inputs {
        char  **names, **values;
        size_t  n;
};
void runbook_inputs_done(struct runbook_inputs *in);
/* Sets a value from "NAME=VALUE" (--input); err on an unknown name. */
int runbook_inputs_set(const struct runbook *rb, struct runbook_inputs *in, const char *kv,
                       struct err *err);
/* Prefills unset inputs from an alert (from_alert) and defaults. */
void runbook_inputs_prefill(const struct runbook *rb, struct runbook_inputs *in,
                            const struct alert *a);
/* Every input bound and valid for its type (cfg for source kinds); else err
 * naming the first unbound or invalid input. */
int runbook_inputs_check(const struct runbook *rb, const struct runbook_inputs *in,
                         const struct config *cfg, struct err *err);
/* The inputs as a JSON object (integers and durations as numbers). Owned. */
struct cJSON *runbook_inputs_json(const struct runbook *rb, const struct runbook_inputs *in);
/* Substitutes ${name} in s ("$$" is '$'). Owned, or NULL with err on an
 * unknown or unbound name. */
char *runbook_subst(const struct runbook_inputs *in, const char *s, struct err *err);

const char *runbook_step_kind_name(enum runbook_step_kind k);   /* "check", ... */
const char *runbook_input_type_name(enum runbook_input_type t); /* "string", ... */
const char *runbook_target_name(enum runbook_target t);         /* "slot", ... */

#endif
