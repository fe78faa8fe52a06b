/*
 * subproc: posix_spawnp with argv, output into a bounded buffer, a deadline.
 * See subproc.h. One pipe carries stdout and stderr; we poll it with the
 * remaining time, keep at most max_out bytes and drain the rest so the
 * child never blocks on a full pipe. On timeout (or stop_fd) the child gets
 * SIGTERM, 500 ms later SIGKILL, and is always reaped.
 */
/* pipe2 (an atomic O_CLOEXEC: action workers may spawn concurrently, and a
 * pipe end must never leak into another child) is a GNU/BSD extension. */
#define _GNU_SOURCE
#include "subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

#define SUBPROC_DEFAULT_MAX (1024 * 1024)
#define SUBPROC_KILL_GRACE_MS 500

void subproc_result_done(struct subproc_result *r)
{
        if (!r)
                return;
        free(r->out);
        memset(r, 0, sizeof *r);
        r->exit_code = -1;
}

static void subproc_keep(struct subproc_result *r, size_t max, const char *buf, size_t n)
{
        size_t room = max - r->len;

        if (n > room) {
                r->truncated = true;
                n = room;
        }
        if (n == 0)
                return;
        r->out = xrealloc(r->out, r->len + n + 1);
        memcpy(r->out + r->len, buf, n);
        r->len += n;
        r->out[r->len] = '\0';
}

/* Waits for pid with a bound; returns true when reaped (status set). */
static bool subproc_reap(pid_t pid, int64_t wait_ms, int *status)
{
        int64_t end = clock_mono_ms() + wait_ms;

        for (;;) {
                pid_t w = waitpid(pid, status, WNOHANG);

                if (w == pid)
                        return true;
                if (w < 0 && errno != EINTR)
                        return false;
                if (clock_mono_ms() >= end)
                        return false;
                usleep(10 * 1000);
        }
}

/* environ with o->env's NAME=value entries added (replacing the same
 * names). Owned array of borrowed strings. */
static char **subproc_env(char *const *add)
{
        size_t n = 0, k = 0, m = 0;
        char **env;

        while (environ && environ[n])
                n++;
        while (add[m])
                m++;
        env = xcalloc(n + m + 1, sizeof *env);
        for (size_t i = 0; i < n; i++) {
                bool replaced = false;

                for (size_t j = 0; j < m && !replaced; j++) {
                        size_t len = strcspn(add[j], "=");

                        replaced = strncmp(environ[i], add[j], len) == 0 &&
                                   environ[i][len] == '=';
                }
                if (!replaced)
                        env[k++] = environ[i];
        }
        for (size_t j = 0; j < m; j++)
                env[k++] = add[j];
        return env;
}

int subproc_run(char *const argv[], size_t max_out, int64_t timeout_ms, int stop_fd,
              struct subproc_result *res, struct err *err)
{
        return subproc_run_ex(argv, NULL, max_out, timeout_ms, stop_fd, res, err);
}

int subproc_run_ex(char *const argv[], const struct subproc_opts *o, size_t max_out,
                   int64_t timeout_ms, int stop_fd, struct subproc_result *res, struct err *err)
{
        char **env = NULL;
        posix_spawn_file_actions_t fa;
        int p[2], status = 0, rc;
        int64_t t0 = clock_mono_ms(), end = timeout_ms > 0 ? t0 + timeout_ms : INT64_MAX;
        bool eof = false, kill_it = false;
        pid_t pid;

        memset(res, 0, sizeof *res);
        res->exit_code = -1;
        res->out = xstrdup("");
        if (!max_out)
                max_out = SUBPROC_DEFAULT_MAX;
        if (!argv || !argv[0]) {
                err_set(err, EINVAL, "spawn: empty argv");
                return -1;
        }
        if (pipe2(p, O_CLOEXEC) != 0) {
                err_set(err, errno, "spawn: pipe: %s", strerror(errno));
                return -1;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
        if (o && o->env)
                env = subproc_env(o->env);
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env ? env : environ);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        close(p[1]);
        if (rc != 0) {
                close(p[0]);
                err_set(err, rc, "cannot run %s: %s", argv[0], strerror(rc));
                return -1;
        }
        fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
        while (!eof) {
                struct pollfd pf[2] = { { .fd = p[0], .events = POLLIN },
                                        { .fd = stop_fd, .events = POLLIN } };
                int64_t left = end == INT64_MAX ? 1000 : end - clock_mono_ms();
                char buf[4096];
                int n;

                if (left <= 0) {
                        res->timed_out = true;
                        kill_it = true;
                        break;
                }
                n = poll(pf, stop_fd >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0 && stop_fd >= 0 && (pf[1].revents & POLLIN)) {
                        kill_it = true;
                        break;
                }
                if (n > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                        for (;;) {
                                ssize_t r = read(p[0], buf, sizeof buf);

                                if (r > 0) {
                                        if (o && o->on_output)
                                                o->on_output(o->arg, buf, (size_t)r);
                                        subproc_keep(res, max_out, buf, (size_t)r);
                                        continue;
                                }
                                if (r == 0)
                                        eof = true;
                                else if (errno == EINTR)
                                        continue;
                                break;
                        }
                }
        }
        close(p[0]);
        if (kill_it) {
                kill(pid, SIGTERM);
                if (!subproc_reap(pid, SUBPROC_KILL_GRACE_MS, &status)) {
                        kill(pid, SIGKILL);
                        subproc_reap(pid, 5000, &status);
                }
        } else if (!subproc_reap(pid, end == INT64_MAX ? INT64_MAX / 4
                                                     : (end - clock_mono_ms() > 0
                                                        ? end - clock_mono_ms() : 0),
                               &status)) {
                /* Closed its output but still running past the deadline. */
                res->timed_out = true;
                kill(pid, SIGKILL);
                subproc_reap(pid, 5000, &status);
        }
        if (WIFEXITED(status))
                res->exit_code = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                res->exit_code = 128 + WTERMSIG(status);
        res->duration_ms = clock_mono_ms() - t0;
        if (res->timed_out)
                err_set(err, ETIMEDOUT, "%s: killed after %lld ms (timeout)", argv[0],
                        (long long)timeout_ms);
        return 0;
}
