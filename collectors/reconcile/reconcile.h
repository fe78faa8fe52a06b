/*
 * Speed-vs-batch reconciliation (`kind: reconcile`): config, published
 * data and the pure engine. One source is one check: a query on a speed
 * source and one on a batch source, aligned by key and compared measure by
 * measure. A `struct reconcile_data` is immutable once inside a snapshot;
 * the Reconcile pane and the JSON report read it from any thread.
 */
#ifndef LO_COLLECTORS_RECONCILE_H
#define LO_COLLECTORS_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/ring.h"
#include "clients/sql.h"

extern const struct collector_ops coll_reconcile_ops;

/* --- config ------------------------------------------------------------------ */

struct reconcile_side_cfg {
        struct cfg_source_ref source;   /* a postgres, clickhouse or snowflake source */
        char *query;                    /* sent verbatim */
};

struct reconcile_cfg {
        struct reconcile_side_cfg speed, batch;
        struct cfg_strlist key;         /* key columns, compared after normalising */
        struct cfg_strlist measures;    /* numeric columns compared per key */
        struct cfg_strmap  tolerance;   /* measure → "0", "2.5" (absolute) or "0.5%" */
        int64_t settle_ms;              /* buckets younger than this are in flight; 0 = none */
        int64_t max_rows;               /* per side; 0 = the default (1,000,000) */
};

/* --- the engine (pure) ----------------------------------------------------- */

enum reconcile_class {
        REC_MATCH = 0,          /* every measure equal */
        REC_WITHIN,             /* some differ, all inside their tolerance */
        REC_MISMATCH,           /* some measure outside tolerance, or NULL vs a value */
        REC_MISSING_IN_SPEED,   /* settled, only the batch side has the key */
        REC_MISSING_IN_BATCH,   /* settled, only the speed side has the key */
        REC_IN_FLIGHT,          /* younger than settle: not judged yet */
        REC__CLASSES
};

/* "match", "within", "mismatch", "missing_in_speed", "missing_in_batch",
 * "in_flight". */
const char *coll_reconcile_class_name(enum reconcile_class c);

enum reconcile_side { REC_SPEED = 0, REC_BATCH = 1 };

enum reconcile_tol_kind { REC_TOL_ABS = 0, REC_TOL_PCT };

struct reconcile_tol {
        enum reconcile_tol_kind kind;
        double v;               /* absolute units, or percent of the batch value */
};

/* A tolerance as written in the config: "0", "2.5" (absolute) or "0.5%"
 * (of the batch value). Returns 0, or -1 with err set. */
int coll_reconcile_tol_parse(const char *s, struct reconcile_tol *t, struct err *err);

/* What the engine compares; names are borrowed. */
struct reconcile_spec {
        const char *const *keys;
        size_t n_keys;
        const char *const *measures;
        size_t n_measures;
        const struct reconcile_tol *tol;        /* n_measures; NULL = all absolute 0 */
        int64_t settle_ms;
        size_t  max_rows;                       /* per side; 0 = unlimited */
};

/* Key column kinds: number keys align across INT and NUM columns ("5" =
 * "5.0"), timestamps by their UTC instant. */
enum reconcile_key_kind { REC_KEY_TIME, REC_KEY_NUMBER, REC_KEY_TEXT, REC_KEY_BOOL };

struct reconcile_bucket {
        uint32_t key_off, key_len;      /* canonical key bytes in data->keys */
        int64_t  t_ms;                  /* first timestamp key column (UTC ms), INT64_MIN if none */
        uint32_t vi;                    /* values at vals[vi + side * n_measures + m] */
        uint8_t  cls;                   /* enum reconcile_class */
        uint8_t  seen;                  /* bit 1 << side */
};

#define REC_DUP_SHOW 5                  /* duplicated keys named in messages */

struct reconcile_data {
        size_t   compared;              /* settled buckets on both sides (match+within+mismatch) */
        size_t   matched, within, mismatched;
        size_t   missing_in_speed, missing_in_batch, in_flight;
        size_t   duplicated;            /* keys with more than one row on a side (not compared) */
        char   **key_names;             /* owned; config names */
        enum reconcile_key_kind *key_kinds;
        size_t   n_keys;
        char   **measures;              /* owned */
        size_t   n_measures;
        struct reconcile_bucket *buckets;       /* sorted by key, ascending; no duplicated keys */
        size_t   n_buckets;
        char    *keys;                  /* canonical key bytes */
        double  *vals;                  /* see reconcile_bucket.vi */
        uint8_t *nulls;                 /* parallel to vals: 1 = SQL NULL */
        bool     has_worst;
        size_t   worst_bucket, worst_measure;   /* index into buckets / measures */
        char     dup_keys[REC_DUP_SHOW][128];   /* "speed: bucket=...(3 rows)" */
        size_t   n_dup_keys;
        int64_t  now_ms;                /* wall clock the buckets were judged at */
        int64_t  settle_ms;
        size_t   rows[2];               /* rows read per side */
        struct ring hist;               /* mismatched count per poll */
};

struct reconcile_engine;

/* A new engine for one comparison. The spec is borrowed for its life. */
struct reconcile_engine *coll_reconcile_engine_new(const struct reconcile_spec *spec);
void coll_reconcile_engine_free(struct reconcile_engine *e);   /* NULL-safe */
/* The sink one side's query streams into. begin() checks that every key
 * and measure column is there (names compared without case), measures are
 * numeric and key kinds agree with the other side; row() hashes the key
 * into the join table. Memory: one entry per distinct key (its canonical
 * bytes and 2 x n_measures values), never the rows themselves. */
struct sql_sink coll_reconcile_sink(struct reconcile_engine *e, enum reconcile_side side);
/* Classifies every bucket at wall time now_ms and returns the data
 * (owned; the engine is left empty). NULL with err set when a side never
 * began (no result). */
struct reconcile_data *coll_reconcile_finish(struct reconcile_engine *e, int64_t now_ms,
                                             struct err *err);
void reconcile_data_free(struct reconcile_data *d);    /* NULL-safe */
/* collector_ops.metrics (collectors/reconcile/reconcile_metrics.c). */
struct promtext;
void reconcile_metrics(const struct snapshot *s, const struct source_cfg *src,
                       struct promtext *out);

/* --- readers of published data (pure, any thread) ---------------------------- */

/* The key as text: "2024-05-01T10:00:00.000Z", several columns joined
 * with " | ", NULL as "NULL". */
void coll_reconcile_key_text(const struct reconcile_data *d, const struct reconcile_bucket *b,
                             char *buf, size_t n);
/* The value of measure m on a side; false when absent or NULL (*is_null
 * tells which; may be NULL). */
bool coll_reconcile_value(const struct reconcile_data *d, const struct reconcile_bucket *b,
                          enum reconcile_side side, size_t m, double *v, bool *is_null);
/* speed - batch for measure m, and the percent of |batch| (has_pct false
 * when batch is 0 or a side lacks a value). False when there is no delta. */
bool coll_reconcile_delta(const struct reconcile_data *d, const struct reconcile_bucket *b,
                          size_t m, double *delta, double *pct, bool *has_pct);

/* --- the Reconcile pane (views/reconcile.c) ------------------------------- */

struct view_ops;

#endif
