/*
 * plan: the bring-up plan (deploy/plan.yaml; format in the plan reference
 * and /work/notes/plan-format.md) loaded with libyaml into an immutable
 * struct plan, ${var} substitution per argv word, and the progress record
 * that `lambdaops up` writes and the Bring-up pane reads.
 *
 * Progress lives in the state dir: $XDG_STATE_HOME/lambdaops/bringup/
 * <plan-name>.json when XDG_STATE_HOME is an absolute path, else
 * ~/.local/state/lambdaops/bringup/<plan-name>.json, where <plan-name> is
 * the plan file's name without .yaml/.yml. The runner's output (when the
 * pane starts it) goes next to it as <plan-name>.log. Written atomically
 * (tmp file + rename), so a reader sees the old or the new file, whole.
 *
 * Everything here is pure apart from file I/O; any thread may call it on
 * its own objects.
 */
#ifndef LO_SRC_PLAN_H
#define LO_SRC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct cJSON;
struct config;
struct expr;

#define PLAN_STEP_TIMEOUT_MS (10 * 60 * 1000)
#define PLAN_GATE_TIMEOUT_MS (10 * 60 * 1000)
#define PLAN_GATE_INTERVAL_MS 2000

struct plan_argv {
        char  **v;              /* owned, NULL-terminated, ${vars} not yet substituted */
        size_t  n;
        int     line, col;      /* where the list starts */
        int    *lines, *cols;   /* owned: where each word is */
};

struct plan_step {
        struct plan_argv run;
        struct plan_argv skip_if_exit0;         /* n == 0: none */
        int64_t timeout_ms;
        bool    dangerous;
        bool    mutating;                       /* default true */
        char  **env;                            /* owned "NAME=value" words, ${vars} substituted */
        size_t  n_env;
        int     line, col;
};

struct plan_gate {
        char        *name;
        char        *source;
        struct expr *expr;      /* owned, parsed */
        int64_t      timeout_ms;
        int64_t      interval_ms;
        int          line, col;
};

struct plan_stage {
        char              *name;        /* [a-z0-9-]+, unique */
        char              *title;       /* or NULL */
        struct plan_step  *steps;
        size_t             n_steps;
        struct plan_gate  *gates;
        size_t             n_gates;
        struct plan_step  *down;
        size_t             n_down;
        int                line, col;
};

struct plan {
        char    *path;          /* as given */
        char    *dir;           /* the plan's directory, absolute */
        char    *name;          /* file name without .yaml/.yml: the progress file's name */
        char    *config;        /* absolute path of the lambdaops config, or NULL */
        char   **var_names;     /* owned; "deploy" is always the last */
        char   **var_vals;
        size_t   n_vars;
        int64_t  step_timeout_ms;
        int64_t  gate_timeout_ms;
        struct plan_stage *stages;
        size_t   n_stages;
};

/* Loads and validates a plan. NULL with err "FILE:LINE:COL: message" (or
 * "FILE: message") on failure; *missing (may be NULL) is set when the file
 * does not exist or cannot be read. */
struct plan *plan_load_file(const char *path, bool *missing, struct err *err);
/* Same from memory; `path` names it in messages and gives its directory. */
struct plan *plan_load_string(const char *yaml, size_t len, const char *path, struct err *err);
void plan_free(struct plan *p);         /* NULL-safe */

/* Index of the stage called name, or -1. */
int plan_stage_index(const struct plan *p, const char *name);
/* The value of var `name`, or NULL. */
const char *plan_var(const struct plan *p, const char *name);
/* Every gate's source exists in cfg; else err "FILE:LINE:COL: gate ...". */
int plan_check_sources(const struct plan *p, const struct config *cfg, struct err *err);

/* Substitutes ${name} in each word ("$$" is a literal '$'); a word never
 * splits. Owned NULL-terminated copy, or NULL with err on an unknown
 * variable or an unterminated ${. */
char **plan_subst(const struct plan *p, char *const argv[], struct err *err);
void plan_argv_free(char **argv);       /* NULL-safe */

/* What `lambdaops plan` prints (every stage, exact argv lines, gates,
 * down steps). Owned. */
char *plan_text(const struct plan *p);

/* --- progress ------------------------------------------------------------ */

/* "pending", "running", "waiting", "done", "failed", "skipped" */
enum stage_state { ST_PENDING, ST_RUNNING, ST_WAITING, ST_DONE, ST_FAILED, ST_SKIPPED };
const char *stage_state_name(enum stage_state s);
/* The state of a name; ST_PENDING for anything unknown. */
enum stage_state stage_state_parse(const char *s);

/* The progress file of a plan (see the top of this file). Owned. */
char *plan_progress_path(const char *plan_name);
/* The runner's log file next to it. Owned. */
char *plan_log_path(const char *plan_name);
/* The plan name of a plan file path (file name without .yaml/.yml). Owned. */
char *plan_name_of(const char *path);

/* Reads a progress file: an owned cJSON object, or NULL (err set, *missing
 * true when there is none yet). */
struct cJSON *plan_progress_read(const char *path, bool *missing, struct err *err);
/* Writes it atomically (PATH.tmp.PID + rename; parent dirs 0700). 0 or -1. */
int plan_progress_write(const char *path, const struct cJSON *prog, struct err *err);
/* The stage object called name in prog ("stages" array), or NULL. */
struct cJSON *plan_progress_stage(const struct cJSON *prog, const char *name);
/* The state recorded for a stage (pending when absent). */
enum stage_state plan_progress_state(const struct cJSON *prog, const char *name);

/* Which stages `up` runs: [*first, *last] (indexes into p->stages).
 * only / from: the options (NULL = not given). Without them: from the first
 * stage whose recorded state is neither done nor skipped, to the end.
 * Returns 1 with a range, 0 when everything is done already, -1 with err
 * for an unknown stage name. prog may be NULL (nothing ran yet). */
int plan_select(const struct plan *p, const struct cJSON *prog, const char *only,
                const char *from, size_t *first, size_t *last, struct err *err);

#endif
