/*
 * tu_ch: a throwaway ClickHouse server (Debian's clickhouse-server 18.16)
 * for integration tests. Test-only.
 *
 * tu_ch_start() writes a minimal config (console logger, mark cache,
 * 127.0.0.1, free HTTP and TCP ports, query_log flushed every second) and a
 * users.xml with log_queries=1 for the `default` user (empty password) and
 * a user `lo_pw` whose password is TU_CH_PASSWORD, in a temp dir whose data
 * dir belongs to the clickhouse user; then starts the server through
 * setpriv (tu_proc_spawn: no shell, its own process group, output in
 * server.log) and waits for /ping. The server is ended by its process group
 * (tu_proc.h: also when a test fails or dies). Helpers send SQL over the product's HTTP client (src/clients/http.h)
 * as `default`, with query_id "lambdaops-tu-N" so that the collector leaves
 * them out of its latency figures as it does its own queries.
 * Call from one thread (the test's main thread).
 */
#ifndef LO_TESTS_TU_CH_H
#define LO_TESTS_TU_CH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TU_CH_PASSWORD "ch-Right-Pw-4e1b"

struct tu_ch {
        char  dir[256];         /* temp root, removed by tu_ch_destroy */
        char  datadir[320];     /* dir/data (owned by clickhouse) */
        char  conf[320];        /* dir/config.xml */
        char  log[320];         /* dir/server.log (console output) */
        char  url[64];          /* "http://127.0.0.1:PORT" */
        int   http_port, tcp_port;      /* kept across restarts */
        pid_t pid;              /* server PID while running, else 0 */
        unsigned flags;         /* TU_CH_* given to tu_ch_start */
};

/* tu_ch_start flags. */
#define TU_CH_NO_QUERY_LOG 0x1u /* no <query_log> section: system.query_log never exists */

/* Writes the config and starts the server. Returns 0 or -1 (with a message
 * on stderr). */
int tu_ch_start(struct tu_ch *ch, unsigned flags);
/* SIGTERM and wait (SIGKILL to its process group after 10 s). 0 or -1. */
int tu_ch_stop(struct tu_ch *ch);
/* SIGKILL to its process group and wait: a crash. */
int tu_ch_kill(struct tu_ch *ch);
/* Starts the stopped server again on the same data dir and ports. */
int tu_ch_restart(struct tu_ch *ch);
/* Stops the server if running and removes the temp dir. NULL-safe. */
void tu_ch_destroy(struct tu_ch *ch);

/* Runs one statement (POST) and returns the body, owned; NULL on any
 * error (message on stderr). query_id NULL: "lambdaops-tu-<n>". */
char *tu_ch_query(struct tu_ch *ch, const char *query_id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Same, discarding the body: 0 or -1. */
int tu_ch_exec(struct tu_ch *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same with an explicit query_id (a test's workload): 0 or -1. */
int tu_ch_exec_id(struct tu_ch *ch, const char *query_id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The answer's trimmed first line (a TSV scalar: add no FORMAT). Owned. */
char *tu_ch_scalar(struct tu_ch *ch, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends a statement expected to fail; returns the HTTP status (0 on
 * transport error) and the body in *body (owned, may be NULL). */
long tu_ch_fail(struct tu_ch *ch, const char *query_id, const char *sql, char **body);

#endif
