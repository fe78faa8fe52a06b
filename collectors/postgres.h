/*
 * PostgreSQL logical-replication (CDC source) collector: published data.
 * A `struct pg_data` is immutable once inside a snapshot; the CDC view and
 * the JSON report read it from any thread.
 */
#ifndef LO_COLLECTORS_POSTGRES_H
#define LO_COLLECTORS_POSTGRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clients/pgconn.h"
#include "core/collector.h"
#include "core/ring.h"

extern const struct collector_ops coll_postgres_ops;


struct pg_slot {
        char   *name;
        char   *plugin;                 /* NULL for physical slots */
        char   *type;                   /* "logical" | "physical" */
        char   *database;               /* NULL for physical slots */
        bool    temporary;
        bool    active;
        int     active_pid;             /* 0 when inactive */
        char    restart_lsn[24];        /* "" when NULL */
        char    confirmed_flush_lsn[24];/* "" when NULL */
        bool    has_lag;
        int64_t lag_bytes;              /* current LSN - confirmed_flush_lsn */
        bool    has_retained;
        int64_t retained_bytes;         /* current LSN - restart_lsn */
        char   *wal_status;             /* PG13+: reserved|extended|unreserved|lost; else NULL */
        bool    has_safe_wal_size;
        int64_t safe_wal_size;          /* PG13+, NULL when unlimited or lost */
        /* Derived from history kept by the collector thread. */
        double  lag_rate;               /* bytes/s over the last 5 minutes (+ = growing) */
        double  retained_rate;          /* bytes/s */
        double  eta_lost_s;             /* seconds until safe_wal_size is used up at the
                                           current retained growth; < 0 when not projected */
        int64_t inactive_for_ms;        /* how long the collector has seen it inactive; 0 if active
                                           (PG17+: at least the server's inactive_since age) */
        struct ring lag_hist;           /* lag_bytes history */
        struct ring retained_hist;      /* retained_bytes history */
};

struct pg_publication {
        char   *name;
        bool    all_tables;
        bool    ins, upd, del, trunc;
        bool    via_root;               /* PG13+ publish_via_partition_root */
        char  **tables;                 /* "schema.table"; owned */
        size_t  n_tables;
};

struct pg_sender {
        int     pid;
        char   *user;
        char   *application_name;
        char   *client_addr;            /* NULL for unix socket */
        char   *state;                  /* startup|catchup|streaming|backup|stopping */
        char   *sync_state;
        char    sent_lsn[24], write_lsn[24], flush_lsn[24], replay_lsn[24];
        int64_t write_lag_ms;           /* -1 when NULL */
        int64_t flush_lag_ms;
        int64_t replay_lag_ms;
        char   *slot_name;              /* joined on active_pid; NULL if none */
};

struct pg_data {
        char   *server_version;         /* "15.18 (Debian 15.18-0+deb12u1)" */
        int     server_version_num;     /* 150018 */
        bool    in_recovery;
        char   *wal_level;
        int     max_replication_slots;
        int     max_wal_senders;
        int64_t max_slot_wal_keep_size; /* bytes; -1 when unlimited or unknown (PG < 13) */
        char    current_lsn[24];        /* pg_current_wal_lsn(), or on a standby
                                           pg_last_wal_receive_lsn(); "" when NULL */
        double  wal_bytes_per_sec;      /* NAN until two samples exist */
        struct ring wal_hist;           /* bytes/s history */
        struct pg_slot        *slots;   /* sorted by lag, largest first */
        size_t                 n_slots;
        struct pg_publication *pubs;
        size_t                 n_pubs;
        struct pg_sender      *senders;
        size_t                 n_senders;
};

/* Parses "XXXXXXXX/XXXXXXXX" into a 64-bit position. Returns 0 or -1. Pure. */
int postgres_lsn_parse(const char *s, uint64_t *out);
void postgres_data_free(struct pg_data *d);   /* NULL-safe */
/* collector_ops.metrics (collectors/postgres_metrics.c). */
struct promtext;
void postgres_metrics(const struct snapshot *s, const struct source_cfg *src,
                      struct promtext *out);

/* --- for tests: the pure parts of the collector ------------------------ */

/* A read-only table of query results: a PGresult or a test fixture.
 * value() returns NULL for SQL NULL. */
struct pg_rows {
        int nrows, ncols;
        const char *(*name)(const void *src, int col);
        const char *(*value)(const void *src, int row, int col);
        const void *src;
};

/* Fill `d` from one query's rows (columns are found by name; a missing
 * optional column reads as NULL, which is how older servers look). The
 * overview query has exactly one row. Strings are copied. Return 0, or -1
 * with err set when a required column is missing or the shape is wrong. */
int postgres_parse_overview(const struct pg_rows *r, struct pg_data *d, struct err *err);
int postgres_parse_slots(const struct pg_rows *r, struct pg_data *d, struct err *err);
int postgres_parse_publications(const struct pg_rows *r, struct pg_data *d, struct err *err);
int postgres_parse_senders(const struct pg_rows *r, struct pg_data *d, struct err *err);

/* Per-source history the collector thread keeps between polls: the LSN for
 * WAL bytes/s and one lag/retained ring per slot name. postgres_history_apply
 * records d's samples at monotonic time now_ms and fills d's derived
 * fields (wal_bytes_per_sec, wal_hist, lag_rate, retained_rate,
 * eta_lost_s, inactive_for_ms, lag_hist, retained_hist); slots no longer
 * present are forgotten. */
struct pg_history;
struct pg_history *postgres_history_new(void);
void postgres_history_free(struct pg_history *h);             /* NULL-safe */
void postgres_history_apply(struct pg_history *h, struct pg_data *d, int64_t now_ms);


#endif
