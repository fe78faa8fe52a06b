/*
 * tu_pg: a throwaway PostgreSQL server for integration tests. Test-only.
 *
 * tu_pg_start() makes a temp dir, runs initdb and starts the postmaster
 * directly on 127.0.0.1 on a free port with wal_level=logical, fsync=off
 * and autovacuum=off (so WAL positions move only when a test writes). As
 * root, initdb and postgres run as the `postgres` user through setpriv
 * (which execs them: pg.pid is the postmaster). Every child is started with
 * tu_proc_spawn (no shell, its own process group, output in the temp dir)
 * and ended by its group (tu_proc.h: also when a test fails or dies).
 * Helpers run SQL over libpq as user postgres, database postgres.
 * Call from one thread (the test's main thread).
 */
#ifndef LO_TESTS_TU_PG_H
#define LO_TESTS_TU_PG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

struct tu_pg {
        char  dir[256];         /* temp root, removed by tu_pg_destroy */
        char  pgdir[320];       /* dir/pg: socket dir and server log */
        char  datadir[340];     /* dir/pg/db */
        int   port;             /* 127.0.0.1 port; kept across restarts */
        pid_t pid;              /* postmaster PID while running, else 0 */
        const char *extra;      /* optional extra postgres options ("-c x=y ...") */
};

/* Creates the cluster and starts it. Returns 0 or -1 (with a message on
 * stderr). pg->extra may be set before the call. */
int tu_pg_start(struct tu_pg *pg);
/* Fast shutdown (SIGINT), SIGKILL to the process group after 10 s and to
 * whatever the postmaster left in it. 0 or -1. */
int tu_pg_stop(struct tu_pg *pg);
/* Starts the stopped server again on the same data dir and port. */
int tu_pg_restart(struct tu_pg *pg);
/* Stops the server if running and removes the temp dir. NULL-safe. */
void tu_pg_destroy(struct tu_pg *pg);

/* "host=127.0.0.1 port=N dbname=postgres user=USER" (owned). */
char *tu_pg_dsn(const struct tu_pg *pg, const char *user);
/* A blocking connection as postgres, or NULL (message on stderr). */
PGconn *tu_pg_connect(const struct tu_pg *pg);
/* Runs one SQL command on a fresh connection. 0 or -1 (message on stderr). */
int tu_pg_exec(const struct tu_pg *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* First column of the first row, owned; NULL on error, no rows or SQL NULL. */
char *tu_pg_query1(const struct tu_pg *pg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds a line at the top of pg_hba.conf and reloads. 0 or -1. */
int tu_pg_hba_prepend(const struct tu_pg *pg, const char *line);

/* Starts pg_recvlogical on `slot` (pgoutput, publication `pub`, status
 * every second). Returns its PID or -1. Stop it with tu_kill(). */
pid_t tu_pg_recvlogical(const struct tu_pg *pg, const char *slot, const char *pub);

/* tu_proc_spawn of argv[0] (a path): its own process group, stdin from
 * /dev/null, stdout and stderr appended to `log` (NULL: /dev/null).
 * Returns the PID or -1. */
pid_t tu_spawn(const char *const argv[], const char *log);
/* Waits for a child to exit, up to timeout_ms. Returns its wait status,
 * or -1 on timeout or error. */
int tu_wait(pid_t pid, int64_t timeout_ms);
/* SIGTERM, then SIGKILL to its group after 3 s; reaps. No-op for pid <= 0. */
void tu_kill(pid_t pid);

#endif
