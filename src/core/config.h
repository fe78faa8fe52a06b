/*
 * config: loads lambdaops.yaml with libyaml into an immutable struct config.
 *
 * Common keys (environment, refresh, theme, read_only, sources[].name/kind/
 * interval/timeout/thresholds) are handled here. Each collector kind declares
 * its own keys in a `struct cfg_key` table (collector_ops.keys) and its
 * thresholds in a `struct threshold_def` table; this module validates both
 * generically, so every error carries FILE:LINE:COL and a "did you mean".
 *
 * Loaded once by the main thread before any other thread starts; read-only
 * afterwards, so any thread may read it without locks.
 */
#ifndef LO_SRC_CONFIG_H
#define LO_SRC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct collector_ops;

/* Exit code for configuration errors (sysexits EX_CONFIG). */
#define LO_EXIT_CONFIG 78

/* --- kind-specific keys, declared by each collector --------------------- */

enum cfg_type {
        CFG_STR,        /* char *            (owned by the kind cfg struct)      */
        CFG_SECRET_REF, /* char *: name of an env var or a path; see note below  */
        CFG_DURATION,   /* int64_t ms        ("250ms", "5s", "2m", "1h")         */
        CFG_SIZE,       /* int64_t bytes     ("512KiB", "2GiB", "1.5GB", "1024") */
        CFG_BOOL,       /* bool              (true/false)                        */
        CFG_INT,        /* int64_t                                               */
        CFG_STRLIST,    /* struct cfg_strlist (a YAML sequence of scalars)       */
        CFG_MAP,        /* a nested mapping; stores nothing itself, see below    */
        CFG_STRMAP,     /* struct cfg_strmap (a mapping of names to scalars)     */
        CFG_SOURCE,     /* struct cfg_source_ref (the name of another source)    */
        CFG_MAPLIST,    /* struct cfg_maplist (a YAML sequence of mappings)      */
        CFG_ELEM,       /* "<list>[]": the element size of a CFG_MAPLIST, in off */
        CFG_UNIQUE,     /* char *: a CFG_STR that differs between list elements  */
        CFG_PATH,       /* char *: a CFG_STR naming a file that a library opens
                           (a CA bundle, a key): when it exists it must be a
                           regular file or a directory, checked at load (a
                           FIFO or a device would block the library) */
};

struct cfg_strlist {
        char  **v;      /* owned */
        size_t  n;
};

/* Free-form `name: scalar` pairs in file order, values kept as text for the
 * kind to interpret in validate() (e.g. tolerances such as "0.5%"). */
struct cfg_strmap {
        char  **keys;   /* owned */
        char  **vals;   /* owned, parallel to keys */
        size_t  n;
};

/* A list of mappings, each parsed into one element of a kind-defined
 * struct (see "Lists of mappings" below). */
struct cfg_maplist {
        void   *v;      /* owned: n elements of the "<key>[]" entry's size */
        size_t  n;
};

/* A reference to another source of the same file. After a successful load
 * `src` points at that source (the config owns it and outlives every
 * reader), so a kind can use another source's connection settings. */
struct cfg_source_ref {
        char *name;                     /* owned */
        const struct source_cfg *src;   /* resolved at load; never NULL after it */
        int   line, col;                /* where the name was written */
};

/* One key of a kind's section. `off` is offsetof() into the kind's cfg
 * struct (collector_ops.cfg_size bytes, zeroed before parsing). Missing
 * optional keys keep zero/NULL. CFG_SECRET_REF values are stored as given
 * (the env var name or the file path), never the secret itself; collectors
 * resolve them with config_secret_resolve() at connect time.
 *
 * Nested mappings. A CFG_MAP key `speed` accepts a mapping whose keys are
 * the table's entries named "speed.<key>" (any type, CFG_MAP included, so
 * nesting goes deeper with more dots); their `off` is into the same kind
 * cfg struct, typically offsetof(struct x_cfg, speed.query). Unknown
 * sub-keys, missing required ones and wrong types get the usual messages
 * ("speed.query: must not be empty"). Dotted entries are never matched at
 * the top level of the source.
 *
 * Lists of mappings. A CFG_MAPLIST key `queries` accepts a sequence of
 * mappings; each becomes one zeroed element of v, whose size is the `off`
 * of the table's CFG_ELEM entry "queries[]". The element's keys are the
 * entries "queries[].<key>", with `off` into the element struct
 * (offsetof(struct x_query, expr)); any type but CFG_SOURCE, and CFG_MAP
 * and CFG_MAPLIST nest as usual ("queries[].a.b", "queries[].b[].c").
 * Messages name the element by its 0-based index: "queries[2].expr: must
 * not be empty", "queries[1]: unknown key \"exp\" (did you mean
 * \"expr\"?)". A CFG_UNIQUE sub-key is a string that no two elements may
 * share (a query's name, say); elsewhere it is a plain CFG_STR.
 * config_free() frees every element through the same entries.
 *
 * CFG_SOURCE names another source of the file; the loader checks that it
 * exists and is not the source itself, and resolves it. The kind's
 * validate() of a source with such keys runs after every source is loaded
 * and resolved, so it may look at the referenced source (its kind, say). */
struct cfg_key {
        const char    *name;
        enum cfg_type  type;
        size_t         off;
        bool           required;
        const char    *help;    /* one line, for docs and "did you mean" */
};

/* --- thresholds --------------------------------------------------------- */

enum thr_unit { THR_BYTES, THR_MS, THR_COUNT, THR_RATE };

/* A metric that can alert, with documented defaults. A default of a NAN
 * warn/crit means "off unless configured". */
struct threshold_def {
        const char    *name;    /* e.g. "slot_lag_bytes" */
        enum thr_unit  unit;    /* how YAML values are parsed and shown */
        double         warn;    /* default */
        double         crit;    /* default */
        const char    *help;
};

struct threshold {
        const struct threshold_def *def;  /* borrowed from the collector table */
        double warn;    /* NAN = disabled */
        double crit;    /* NAN = disabled */
};

/* The alert lifecycle timing (src/core/alerttrack.h): how long a condition
 * must hold before its alert fires, and stay clear before it resolves. */
struct alert_timing {
        int64_t for_ms;
        int64_t keep_firing_for_ms;
};

/* --- loaded config ------------------------------------------------------ */

struct source_cfg {
        const struct config *cfg;         /* the config it belongs to (top-level
                                             keys, config_kind_cfg()); NULL when
                                             built by hand */
        char    *name;
        char    *kind;
        const struct collector_ops *ops;  /* resolved from the registry */
        int64_t  interval_ms;
        int64_t  timeout_ms;
        struct threshold *thresholds;     /* one per ops->thresholds entry, in order */
        size_t   n_thresholds;
        void    *kind_cfg;                /* owned; layout per ops->cfg_size / ops->keys */
        int      line, col;               /* where the source starts in the file */
        /* `for` and `keep_firing_for` of the source: the default of its
         * thresholds and the timing of its other alerts (down, degraded,
         * state rules). Default 0. */
        struct alert_timing timing;
        /* Owned, parallel to thresholds: each threshold's own timing or else
         * the source's (after a load). NULL when built by hand: the
         * source's timing applies. */
        struct alert_timing *thr_timing;
};

/* One user-defined action (top-level `actions:`, docs/actions.md). */
struct cfg_action {
        char   *name;           /* the CLI word; unique */
        char   *title;          /* NULL = name */
        char   *scope;          /* a scope of the action plug-in
                                   (collector_ops.action_kind) */
        char   *key;            /* one character, or NULL = CLI only */
        struct cfg_strlist argv;/* the template; ${...} substituted per word */
        bool    confirm;        /* default true */
        bool    dangerous;      /* default false */
        bool    mutating;       /* default true */
        int     line, col;
};

struct action_def;

/* The top-level keys one kind owns (collector_ops.config_keys), parsed. */
struct config_kind_top {
        const struct collector_ops *ops;
        void    *cfg;           /* owned: ops->config_size bytes, zeroed when
                                   none of its keys is given */
};

struct config {
        char    *path;          /* file it came from, or "<string>" */
        char    *environment;   /* default "default" */
        int64_t  refresh_ms;    /* default 1000 */
        char    *theme;         /* default "default" */
        bool     read_only;     /* default false */
        char    *audit_log;     /* audit file path; NULL = the state dir default
                                   (src/actions/action.h action_audit_path) */
        struct config_kind_top *kind_tops;      /* owned: one per registered kind
                                                   with config_keys */
        size_t   n_kind_tops;
        struct cfg_maplist actions;     /* struct cfg_action elements */
        struct cfg_strlist danger_contexts;     /* fnmatch globs */
        char    *listen;        /* `listen:` as "HOST:PORT" (normalised: a bare port or
                                   ":PORT" gets 127.0.0.1, an IPv6 host is bracketed),
                                   where `watch` serves /metrics; NULL = not set */
        struct cfg_strlist runbooks;    /* runbook directories or globs, as written
                                           (relative to the file's directory) */
        const struct action_def *user_actions;  /* owned: one per actions[] entry
                                                   (action_kind.user_defs), NULL-name-
                                                   terminated; NULL when none */
        struct source_cfg *sources;
        size_t   n_sources;
};

/* Finds the config file: explicit path, then $LAMBDAOPS_CONFIG, then
 * ./lambdaops.yaml, then $XDG_CONFIG_HOME/lambdaops/config.yaml (or
 * ~/.config/...). Returns an owned path, or NULL with err set when none
 * exists (the message lists the places searched). */
char *config_find(const char *explicit_path, struct err *err);

/* Parses and validates. On success returns an owned config. On failure
 * returns NULL and sets err->msg to "FILE:LINE:COL: message". Only a
 * regular file of at most 1 MiB is read (a FIFO or device is refused). */
struct config *config_load_file(const char *path, struct err *err);
/* Same, from memory; `name` stands for FILE in messages. */
struct config *config_load_string(const char *yaml, size_t len, const char *name, struct err *err);
void config_free(struct config *c);      /* NULL-safe */

const struct source_cfg *config_source(const struct config *c, const char *name);
/* The struct of the top-level keys `ops` owns (collector_ops.config_keys),
 * or NULL when c is NULL, built by hand, or ops owns none. Borrowed. */
const void *config_kind_cfg(const struct config *c, const struct collector_ops *ops);
/* The configured threshold for `metric` on this source, or NULL. */
const struct threshold *config_threshold(const struct source_cfg *s, const char *metric);

/* The lifecycle timing of the alert `metric` of source s: the threshold's
 * when the source has one by that name, else the source's; zeros for a
 * NULL source. */
void config_alert_timing(const struct source_cfg *s, const char *metric, int64_t *for_ms,
                         int64_t *keep_firing_for_ms);

/* Parses a listen address: "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT"
 * (host 127.0.0.1). The host is an IPv4 or IPv6 literal or a DNS name
 * (letters, digits, '-', '.'); the port 1..65535. Writes the normalised
 * "HOST:PORT" ("[V6]:PORT") into out (at least 300 bytes). 0, or -1 with
 * a reason in err. Pure. */
int config_parse_listen(const char *s, char *out, size_t n, struct err *err);

/* Reads a secret given by a *_env (env var name) or *_file (path) key, whichever
 * is set (both set is a load-time error). Returns an owned string with one
 * trailing newline stripped, NULL with err set when it cannot be read, or
 * NULL with err clear when neither is configured. Never logs the value.
 * A file must be a regular file of at most 64 KiB, and is given up after
 * 2 s when it does not answer (a stalled mount), so a collector thread
 * calling this never blocks longer. */
char *config_secret_resolve(const char *env_name, const char *file_path, struct err *err);

/* Strict unit parsers (also used for thresholds). Return 0 or -1 with a
 * reason in err. Durations: integer or decimal number followed by ms, s, m,
 * h or d ("1.5s"); no bare numbers. Sizes: number with optional B, KB, MB,
 * GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); a bare
 * integer is bytes. Negative values, empty strings, spaces inside, trailing
 * garbage and overflow are errors. */
int config_parse_duration(const char *s, int64_t *ms, struct err *err);
int config_parse_size(const char *s, int64_t *bytes, struct err *err);

#endif
