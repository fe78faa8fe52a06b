/*
 * tu_pg: throwaway PostgreSQL for integration tests. See tu_pg.h.
 */
#include "tu_pg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "tu_proc.h"

#define TU_PG_BIN "/usr/lib/postgresql/15/bin"

extern char **environ;

static void tu_sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

pid_t tu_spawn(const char *const argv[], const char *log)
{
        return tu_proc_spawn(argv, log, false);
}

int tu_wait(pid_t pid, int64_t timeout_ms)
{
        int64_t until = clock_mono_ms() + timeout_ms;
        int st;

        for (;;) {
                pid_t r = waitpid(pid, &st, WNOHANG);

                if (r == pid)
                        return st;
                if (r < 0 && errno != EINTR)
                        return -1;
                if (clock_mono_ms() >= until)
                        return -1;
                tu_sleep_ms(10);
        }
}

void tu_kill(pid_t pid)
{
        if (pid > 0)
                tu_proc_stop(pid, SIGTERM, 3000);
}

/* argv of a PostgreSQL binary: as postgres when we are root, through
 * setpriv, which execs it (no process in between: the PID is the binary's). */
static void tu_pg_argv(const char *argv[], size_t cap, const char *const args[])
{
        size_t n = 0;

        if (geteuid() == 0) {
                argv[n++] = "/usr/bin/setpriv";
                argv[n++] = "--reuid=postgres";
                argv[n++] = "--regid=postgres";
                argv[n++] = "--init-groups";
        }
        for (size_t i = 0; args[i] && n + 1 < cap; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
}

/* Runs a PostgreSQL tool in its own process group and waits up to 60 s.
 * Returns its exit code or -1. */
static int tu_pg_run(const struct tu_pg *pg, const char *const args[])
{
        const char *argv[32];
        char log[400];
        int st;
        pid_t pid;

        tu_pg_argv(argv, LO_ARRAY_LEN(argv), args);
        snprintf(log, sizeof log, "%s/tools.log", pg->pgdir);
        pid = tu_spawn(argv, log);
        if (pid < 0)
                return -1;
        st = tu_wait(pid, 60000);
        if (st == -1) {
                tu_proc_stop(pid, SIGKILL, 0);
                return -1;
        }
        kill(-pid, SIGKILL);    /* anything it left in its group */
        tu_proc_forget(pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int tu_free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* Starts the postmaster directly (its own process group, output to
 * pgdir/log) and waits until it accepts connections. 0 or -1. */
static int tu_pg_server_start(struct tu_pg *pg)
{
        char port[16], sock[340], log[400], extra[512], conn[128];
        const char *args[64] = { TU_PG_BIN "/postgres", "-D", pg->datadir, "-p", port, "-k", sock,
                                 "-c", "listen_addresses=127.0.0.1", "-c", "wal_level=logical",
                                 "-c", "max_replication_slots=10", "-c", "max_wal_senders=10",
                                 "-c", "fsync=off", "-c", "autovacuum=off", NULL };
        const char *argv[72];
        size_t n = 0;
        int64_t until;
        char *save = NULL;

        while (args[n])
                n++;
        snprintf(extra, sizeof extra, "%s", pg->extra ? pg->extra : "");
        for (char *t = strtok_r(extra, " \t", &save); t && n + 1 < LO_ARRAY_LEN(args);
             t = strtok_r(NULL, " \t", &save))
                args[n++] = t;
        args[n] = NULL;
        snprintf(port, sizeof port, "%d", pg->port);
        snprintf(sock, sizeof sock, "%s", pg->pgdir);
        snprintf(log, sizeof log, "%s/log", pg->pgdir);
        snprintf(conn, sizeof conn, "host=127.0.0.1 port=%d dbname=postgres user=postgres "
                 "connect_timeout=5", pg->port);
        tu_pg_argv(argv, LO_ARRAY_LEN(argv), args);
        pg->pid = tu_spawn(argv, log);
        if (pg->pid < 0) {
                pg->pid = 0;
                return -1;
        }
        until = clock_mono_ms() + 60000;
        while (clock_mono_ms() < until) {
                int st;

                if (PQping(conn) == PQPING_OK)
                        return 0;
                if (waitpid(pg->pid, &st, WNOHANG) == pg->pid) {       /* e.g. port taken */
                        kill(-pg->pid, SIGKILL);
                        tu_proc_forget(pg->pid);
                        pg->pid = 0;
                        return -1;
                }
                tu_sleep_ms(20);
        }
        tu_proc_stop(pg->pid, SIGKILL, 0);
        pg->pid = 0;
        return -1;
}

int tu_pg_start(struct tu_pg *pg)
{
        const char *initdb[] = { TU_PG_BIN "/initdb", "-D", pg->datadir, "-U", "postgres",
                                 "-A", "trust", "-E", "UTF8", "--no-sync", NULL };

        snprintf(pg->dir, sizeof pg->dir, "/tmp/lo-pg-XXXXXX");
        pg->pid = 0;
        if (!mkdtemp(pg->dir)) {
                fprintf(stderr, "tu_pg: mkdtemp: %s\n", strerror(errno));
                return -1;
        }
        tu_proc_track_dir(pg->dir);
        chmod(pg->dir, 0755);
        snprintf(pg->pgdir, sizeof pg->pgdir, "%s/pg", pg->dir);
        snprintf(pg->datadir, sizeof pg->datadir, "%s/db", pg->pgdir);
        if (mkdir(pg->pgdir, 0755) != 0) {
                fprintf(stderr, "tu_pg: mkdir %s: %s\n", pg->pgdir, strerror(errno));
                return -1;
        }
        if (geteuid() == 0) {
                struct passwd *pw = getpwnam("postgres");

                if (!pw || chown(pg->pgdir, pw->pw_uid, pw->pw_gid) != 0) {
                        fprintf(stderr, "tu_pg: cannot give %s to user postgres\n", pg->pgdir);
                        return -1;
                }
        }
        if (tu_pg_run(pg, initdb) != 0) {
                fprintf(stderr, "tu_pg: initdb failed, see %s/tools.log\n", pg->pgdir);
                return -1;
        }
        for (int i = 0; i < 3; i++) {
                pg->port = tu_free_port();
                if (pg->port > 0 && tu_pg_server_start(pg) == 0) {
                        tu_proc_fault("pg", pg->pid, pg->dir);
                        return 0;
                }
        }
        fprintf(stderr, "tu_pg: server did not start, see %s/log\n", pg->pgdir);
        return -1;
}

int tu_pg_stop(struct tu_pg *pg)
{
        if (pg->pid <= 0)
                return 0;
        /* Backends run in sessions of their own (not the postmaster's
         * group) in the data dir: resume any a test stopped, so they act on
         * the shutdown; SIGINT: fast shutdown, SIGKILL to the postmaster's
         * group after 10 s; then SIGKILL to any process still in the data
         * dir (a backend whose postmaster is gone). */
        tu_proc_signal_dir(pg->datadir, SIGCONT);
        tu_proc_stop(pg->pid, SIGINT, 10000);
        for (int64_t until = clock_mono_ms() + 5000;
             tu_proc_signal_dir(pg->datadir, SIGKILL) > 0 && clock_mono_ms() < until;)
                tu_sleep_ms(10);
        pg->pid = 0;
        return 0;
}

int tu_pg_restart(struct tu_pg *pg)
{
        if (pg->pid > 0)
                tu_pg_stop(pg);
        return tu_pg_server_start(pg);
}

void tu_pg_destroy(struct tu_pg *pg)
{
        if (!pg || !pg->dir[0])
                return;
        tu_pg_stop(pg);
        tu_proc_remove_dir(pg->dir);
        pg->dir[0] = '\0';
}

char *tu_pg_dsn(const struct tu_pg *pg, const char *user)
{
        return xasprintf("host=127.0.0.1 port=%d dbname=postgres user=%s", pg->port,
                         user ? user : "postgres");
}

PGconn *tu_pg_connect(const struct tu_pg *pg)
{
        char *dsn = tu_pg_dsn(pg, NULL);
        PGconn *c = PQconnectdb(dsn);

        free(dsn);
        if (PQstatus(c) != CONNECTION_OK) {
                fprintf(stderr, "tu_pg: connect: %s", PQerrorMessage(c));
                PQfinish(c);
                return NULL;
        }
        return c;
}

static PGresult *tu_pg_vquery(const struct tu_pg *pg, const char *fmt, va_list ap)
{
        char sql[4096];
        PGconn *c = tu_pg_connect(pg);
        PGresult *r;

        vsnprintf(sql, sizeof sql, fmt, ap);
        if (!c)
                return NULL;
        r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "tu_pg: %s: %s", sql, PQresultErrorMessage(r));
                PQclear(r);
                r = NULL;
        }
        PQfinish(c);
        return r;
}

int tu_pg_exec(const struct tu_pg *pg, const char *fmt, ...)
{
        va_list ap;
        PGresult *r;

        va_start(ap, fmt);
        r = tu_pg_vquery(pg, fmt, ap);
        va_end(ap);
        PQclear(r);
        return r ? 0 : -1;
}

char *tu_pg_query1(const struct tu_pg *pg, const char *fmt, ...)
{
        va_list ap;
        PGresult *r;
        char *v = NULL;

        va_start(ap, fmt);
        r = tu_pg_vquery(pg, fmt, ap);
        va_end(ap);
        if (r && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
                v = xstrdup(PQgetvalue(r, 0, 0));
        PQclear(r);
        return v;
}

int tu_pg_hba_prepend(const struct tu_pg *pg, const char *line)
{
        char path[400], *old;
        FILE *f;
        size_t len = 0;

        snprintf(path, sizeof path, "%s/pg_hba.conf", pg->datadir);
        f = fopen(path, "r");
        if (!f)
                return -1;
        old = xmalloc(1 << 16);
        len = fread(old, 1, (1 << 16) - 1, f);
        fclose(f);
        old[len] = '\0';
        f = fopen(path, "w");
        if (!f) {
                free(old);
                return -1;
        }
        fprintf(f, "%s\n%s", line, old);
        fclose(f);
        free(old);
        return tu_pg_exec(pg, "SELECT pg_reload_conf()");
}

pid_t tu_pg_recvlogical(const struct tu_pg *pg, const char *slot, const char *pub)
{
        char port[16], pubopt[160], log[400], out[400];
        const char *argv[] = { TU_PG_BIN "/pg_recvlogical", "-h", "127.0.0.1", "-p", port,
                               "-U", "postgres", "-d", "postgres", "--slot", slot, "--start",
                               "-s", "1", "-F", "0", "-o", "proto_version=1", "-o", pubopt,
                               "-f", out, NULL };

        snprintf(port, sizeof port, "%d", pg->port);
        snprintf(pubopt, sizeof pubopt, "publication_names=%s", pub);
        snprintf(log, sizeof log, "%s/recvlogical-%s.log", pg->dir, slot);
        snprintf(out, sizeof out, "%s/recvlogical-%s.out", pg->dir, slot);
        return tu_spawn(argv, log);
}
