/*
 * tu_proc: server processes of the test harnesses and their cleanup on
 * every exit path. See tu_proc.h.
 */
/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34) */
#define _GNU_SOURCE
#include "tu_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tu.h"
#include "core/util.h"

extern char **environ;

#define TU_PROC_MAX_GROUPS 64
#define TU_PROC_MAX_DIRS   32

static int   guard_fd = -1;             /* our end of the guard's socket */
static pid_t owner;                     /* the process that registered (not forks of it) */
static pid_t groups[TU_PROC_MAX_GROUPS];
static char  dirs[TU_PROC_MAX_DIRS][256];

static void tu_proc_nap(void)
{
        struct timespec ts = { 0, 10 * 1000000L };

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

/* One command line to the guard; silently nothing when it is not there. */
static void guard_send(char op, const char *arg)
{
        char line[320];
        int n;

        if (guard_fd < 0)
                return;
        n = snprintf(line, sizeof line, "%c %s\n", op, arg);
        if (n <= 0 || (size_t)n >= sizeof line)
                return;
        while (send(guard_fd, line, (size_t)n, MSG_NOSIGNAL) < 0 && errno == EINTR)
                ;
}

static void guard_send_pid(char op, pid_t pid)
{
        char num[24];

        snprintf(num, sizeof num, "%d", (int)pid);
        guard_send(op, num);
}

static void tu_proc_atexit(void);

/* Starts the guard once per test process (and installs the atexit handler). */
static void guard_init(void)
{
        static bool done;
        posix_spawn_file_actions_t fa;
        char script[512], pgrp[24];
        const char *argv[] = { "python3", script, "--protect", pgrp, NULL };
        int sv[2], st;
        pid_t pid;

        if (done && owner == getpid())
                return;
        if (done) {             /* a fork of the test: not ours to guard */
                guard_fd = -1;
                return;
        }
        done = true;
        owner = getpid();
        atexit(tu_proc_atexit);
        snprintf(script, sizeof script, "%s", tu_src_path("tests/proc_guard.py"));
        snprintf(pgrp, sizeof pgrp, "%d", (int)getpgrp());
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
                fprintf(stderr, "tu_proc: socketpair: %s\n", strerror(errno));
                return;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        st = posix_spawnp(&pid, "python3", &fa, NULL, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(sv[1]);
        if (st != 0) {
                fprintf(stderr, "tu_proc: cannot start %s: %s\n", script, strerror(st));
                close(sv[0]);
                return;
        }
        /* The guard detaches by forking; its first process exits at once. */
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        guard_fd = sv[0];
}

static void registry_add_group(pid_t pid)
{
        for (int i = 0; i < TU_PROC_MAX_GROUPS; i++) {
                if (groups[i] == 0) {
                        groups[i] = pid;
                        break;
                }
        }
        guard_send_pid('g', pid);
}

void tu_proc_forget(pid_t pid)
{
        if (pid <= 0)
                return;
        for (int i = 0; i < TU_PROC_MAX_GROUPS; i++)
                if (groups[i] == pid)
                        groups[i] = 0;
        guard_send_pid('u', pid);
}

/* argv0 resolved in PATH into buf; argv0 itself when it holds a '/'. */
static const char *tu_proc_which(const char *argv0, char *buf, size_t len)
{
        const char *path = getenv("PATH");

        if (strchr(argv0, '/') || !path)
                return argv0;
        while (*path) {
                size_t n = strcspn(path, ":");

                snprintf(buf, len, "%.*s/%s", (int)n, n ? path : ".", argv0);
                if (access(buf, X_OK) == 0)
                        return buf;
                path += n + (path[n] == ':');
        }
        return argv0;
}

pid_t tu_proc_spawn(const char *const argv[], const char *log, bool search)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t none, dfl;
        char found[1024];
        const char *prog = search ? tu_proc_which(argv[0], found, sizeof found) : argv[0];
        pid_t pid;
        int rc;

        guard_init();
        sigemptyset(&none);
        sigemptyset(&dfl);
        sigaddset(&dfl, SIGPIPE);
        sigaddset(&dfl, SIGTERM);
        sigaddset(&dfl, SIGINT);
        sigaddset(&dfl, SIGHUP);
        posix_spawnattr_init(&at);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                 POSIX_SPAWN_SETSIGDEF);
        posix_spawnattr_setpgroup(&at, 0);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &dfl);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, log ? log : "/dev/null",
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        posix_spawn_file_actions_addclosefrom_np(&fa, 3);
        rc = posix_spawn(&pid, prog, &fa, &at, (char *const *)argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (rc != 0) {
                fprintf(stderr, "tu_proc: spawn %s: %s\n", argv[0], strerror(rc));
                return -1;
        }
        registry_add_group(pid);
        return pid;
}

/* waitpid(pid) until deadline; the status, or -1. */
static int tu_proc_reap(pid_t pid, int64_t until)
{
        int st;

        for (;;) {
                pid_t r = waitpid(pid, &st, WNOHANG);

                if (r == pid)
                        return st;
                if (r < 0 && errno != EINTR)
                        return -1;
                if (clock_mono_ms() >= until)
                        return -1;
                tu_proc_nap();
        }
}

int tu_proc_stop(pid_t pid, int sig, int64_t grace_ms)
{
        int64_t until;
        int st = -1;

        if (pid <= 0)
                return -1;
        /* A stopped member (a test SIGSTOPs servers and backends) would not
         * act on the signal. */
        kill(-pid, SIGCONT);
        if (sig != SIGKILL && kill(pid, sig) == 0)
                st = tu_proc_reap(pid, clock_mono_ms() + grace_ms);
        if (st == -1) {
                kill(-pid, SIGKILL);
                st = tu_proc_reap(pid, clock_mono_ms() + 10000);
        }
        /* Whatever the leader left in its group (e.g. backends whose
         * postmaster is gone) goes too; bounded: a zombie child of a parent
         * that does not reap counts until then. */
        until = clock_mono_ms() + 3000;
        while (kill(-pid, SIGKILL) == 0 && clock_mono_ms() < until)
                tu_proc_nap();
        tu_proc_forget(pid);
        return st;
}

int tu_proc_signal_dir(const char *dir, int sig)
{
        DIR *proc = opendir("/proc");
        struct dirent *e;
        size_t dl = strlen(dir);
        int n = 0;

        if (!proc || dl == 0) {
                if (proc)
                        closedir(proc);
                return 0;
        }
        while ((e = readdir(proc)) != NULL) {
                char path[64], cwd[512], cmd[4096];
                long pid = strtol(e->d_name, NULL, 10);
                ssize_t len;
                bool hit = false;
                int fd;

                if (pid <= 1 || pid == (long)getpid())
                        continue;
                snprintf(path, sizeof path, "/proc/%ld/cwd", pid);
                len = readlink(path, cwd, sizeof cwd - 1);
                if (len > 0) {
                        cwd[len] = '\0';
                        hit = strncmp(cwd, dir, dl) == 0 && (cwd[dl] == '\0' || cwd[dl] == '/');
                }
                snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
                if (!hit && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
                        len = read(fd, cmd, sizeof cmd - 1);
                        close(fd);
                        if (len > 0) {
                                for (ssize_t i = 0; i < len; i++)
                                        if (cmd[i] == '\0')
                                                cmd[i] = ' ';
                                cmd[len] = '\0';
                                hit = strstr(cmd, dir) != NULL;
                        }
                }
                if (hit && kill((pid_t)pid, sig) == 0)
                        n++;
        }
        closedir(proc);
        return n;
}

void tu_proc_track_dir(const char *dir)
{
        guard_init();
        for (int i = 0; i < TU_PROC_MAX_DIRS; i++) {
                if (!dirs[i][0]) {
                        snprintf(dirs[i], sizeof dirs[i], "%s", dir);
                        break;
                }
        }
        guard_send('d', dir);
        guard_send('r', dir);
}

void tu_proc_untrack_dir(const char *dir)
{
        for (int i = 0; i < TU_PROC_MAX_DIRS; i++)
                if (strcmp(dirs[i], dir) == 0)
                        dirs[i][0] = '\0';
        guard_send('x', dir);
}

static int tu_proc_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

void tu_proc_remove_dir(const char *dir)
{
        char copy[256];

        if (!dir || !dir[0])
                return;
        snprintf(copy, sizeof copy, "%s", dir);         /* dir may be a registry slot */
        tu_proc_signal_dir(copy, SIGKILL);              /* leftovers running in it */
        if (!getenv("LO_TEST_KEEP"))
                nftw(copy, tu_proc_rm, 16, FTW_DEPTH | FTW_PHYS);
        tu_proc_untrack_dir(copy);
}

/* Normal exit, including after a failed cmocka assert skipped a test's
 * teardown: end what is left. (Death by a signal is the guard's job.) */
static void tu_proc_atexit(void)
{
        if (getpid() != owner)
                return;
        for (int i = 0; i < TU_PROC_MAX_GROUPS; i++)
                if (groups[i] > 0)
                        tu_proc_stop(groups[i], SIGKILL, 0);
        for (int i = 0; i < TU_PROC_MAX_DIRS; i++)
                if (dirs[i][0])
                        tu_proc_remove_dir(dirs[i]);
}

void tu_proc_fault(const char *kind, pid_t pgid, const char *dir)
{
        const char *f = getenv("LO_TU_FAULT");
        size_t n = strlen(kind);

        if (!f || strncmp(f, kind, n) != 0 || f[n] != ':')
                return;
        fprintf(stderr, "LO_TU_FAULT %s pgid=%d dir=%s\n", kind, (int)pgid, dir);
        fflush(stderr);
        f += n + 1;
        if (strcmp(f, "assert") == 0)
                fail_msg("LO_TU_FAULT %s:assert", kind);
        else if (strcmp(f, "abort") == 0)
                abort();
        else if (strcmp(f, "hang") == 0)
                for (;;)
                        pause();
}
