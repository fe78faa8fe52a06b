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

#include "collector.h"
#include "ring.h"

extern const struct collector_ops coll_postgres_ops;

/* Kind-specific config (collector_ops.keys fill it). */
struct pg_cfg {
        char *dsn;              /* libpq conninfo; may contain a password (masked everywhere) */
        char *password_env;     /* env var holding the password */
        char *password_file;    /* file holding the password */
        char *sslmode;          /* optional override, default from dsn/libpq */
};

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
        int64_t inactive_for_ms;        /* how long the collector has seen it inactive; 0 if active */
        struct ring lag_hist;           /* lag_bytes history */
};

struct pg_publication {
        char   *name;
        bool    all_tables;
        bool    ins, upd, del, trunc;
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
        char    current_lsn[24];
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
int pg_lsn_parse(const char *s, uint64_t *out);
/* Copies a conninfo string with any password value replaced by "***". Owned. */
char *pg_dsn_mask(const char *dsn);
void pg_data_free(struct pg_data *d);

#endif
