/*
 * subproc: posix_spawnp with argv, output into a bounded buffer, a deadline.
 * See subproc.h. One pipe carries stdout and stderr (or two with
 * split_stderr); we poll them with the
 * remaining time, keep at most max_out bytes and drain the rest so the
 * child never blocks on a full pipe. On timeout (or stop_fd) the child gets
 * SIGTERM, 500 ms later SIGKILL, and is always reaped.
 */
/* pipe2 (an atomic O_CLOEXEC: action workers may spawn concurrently, and a
 * pipe end must never leak into another child) is a GNU/BSD extension. */
#define _GNU_SOURCE
#include "core/subproc.h"

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

#include "core/util.h"

extern char **environ;

#define SUBPROC_DEFAULT_MAX (1024 * 1024)
#define SUBPROC_KILL_GRACE_MS 500

void subproc_result_done(struct subproc_result *r)
{
        if (!r)
                return;
        free(r->out);
        free(r->err_out);
        memset(r, 0, sizeof *r);
        r->exit_code = -1;
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

/* environ plus extra ("NAME=value"; an extra replaces an inherited
 * variable of the same name). The array is owned, its strings borrowed. */
static char **subproc_env(char *const extra[])
{
        size_t ne = 0, nx = 0, k = 0;
        char **env;

        while (environ && environ[ne])
                ne++;
        while (extra && extra[nx])
                nx++;
        env = xcalloc(ne + nx + 1, sizeof *env);
        for (size_t i = 0; i < ne; i++) {
                const char *eq = strchr(environ[i], '=');
                size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
                bool replaced = false;

                for (size_t j = 0; j < nx && !replaced; j++)
                        replaced = strncmp(extra[j], environ[i], nl) == 0 &&
                                   extra[j][nl] == '=';
                if (!replaced)
                        env[k++] = environ[i];
        }
        for (size_t j = 0; j < nx; j++)
                env[k++] = extra[j];
        env[k] = NULL;
        return env;
}

/* Reads what is there from a non-blocking fd into out/len; sets *eof. */
static void subproc_drain(int fd, char **out, size_t *len, size_t max, bool *truncated,
                          bool *eof, const struct subproc_opts *o)
{
        char buf[4096];

        for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);

                if (r > 0) {
                        size_t n = (size_t)r, room = max - *len;

                        if (o && o->on_output)
                                o->on_output(o->arg, buf, n);

                        if (n > room) {
                                *truncated = true;
                                n = room;
                        }
                        if (n) {
                                *out = xrealloc(*out, *len + n + 1);
                                memcpy(*out + *len, buf, n);
                                *len += n;
                                (*out)[*len] = '\0';
                        }
                        continue;
                }
                if (r == 0)
                        *eof = true;
                else if (errno == EINTR)
                        continue;
                break;
        }
}

int subproc_run(char *const argv[], size_t max_out, int64_t timeout_ms, int stop_fd,
              struct subproc_result *res, struct err *err)
{
        return subproc_run_env(argv, NULL, false, max_out, timeout_ms, stop_fd, res, err);
}

static int subproc_run_core(char *const argv[], char *const env_extra[], bool split_stderr,
                            const struct subproc_opts *o, size_t max_out, int64_t timeout_ms,
                            int stop_fd, struct subproc_result *res, struct err *err);

int subproc_run_env(char *const argv[], char *const env_extra[], bool split_stderr,
                    size_t max_out, int64_t timeout_ms, int stop_fd,
                    struct subproc_result *res, struct err *err)
{
        return subproc_run_core(argv, env_extra, split_stderr, NULL, max_out, timeout_ms,
                                stop_fd, res, err);
}

int subproc_run_ex(char *const argv[], const struct subproc_opts *o, size_t max_out,
                   int64_t timeout_ms, int stop_fd, struct subproc_result *res, struct err *err)
{
        return subproc_run_core(argv, o ? o->env : NULL, false, o, max_out, timeout_ms, stop_fd,
                                res, err);
}

static int subproc_run_core(char *const argv[], char *const env_extra[], bool split_stderr,
                            const struct subproc_opts *o, size_t max_out, int64_t timeout_ms,
                            int stop_fd, struct subproc_result *res, struct err *err)
{
        posix_spawn_file_actions_t fa;
        int p[2], q[2] = { -1, -1 }, status = 0, rc;
        int64_t t0 = clock_mono_ms(), end = timeout_ms > 0 ? t0 + timeout_ms : INT64_MAX;
        bool eof = false, eof2 = !split_stderr, kill_it = false;
        char **env = NULL;
        pid_t pid;

        memset(res, 0, sizeof *res);
        res->exit_code = -1;
        res->out = xstrdup("");
        if (split_stderr)
                res->err_out = xstrdup("");
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
        if (split_stderr && pipe2(q, O_CLOEXEC) != 0) {
                err_set(err, errno, "spawn: pipe: %s", strerror(errno));
                close(p[0]);
                close(p[1]);
                return -1;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, split_stderr ? q[1] : p[1], STDERR_FILENO);
        if (env_extra)
                env = subproc_env(env_extra);
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, env ? env : environ);
        posix_spawn_file_actions_destroy(&fa);
        free(env);
        close(p[1]);
        if (split_stderr)
                close(q[1]);
        if (rc != 0) {
                close(p[0]);
                if (split_stderr)
                        close(q[0]);
                err_set(err, rc, "cannot run %s: %s", argv[0], strerror(rc));
                return -1;
        }
        fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
        if (split_stderr)
                fcntl(q[0], F_SETFL, fcntl(q[0], F_GETFL) | O_NONBLOCK);
        while (!eof || !eof2) {
                struct pollfd pf[3] = { { .fd = eof ? -1 : p[0], .events = POLLIN },
                                        { .fd = eof2 ? -1 : q[0], .events = POLLIN },
                                        { .fd = stop_fd, .events = POLLIN } };
                int64_t left = end == INT64_MAX ? 1000 : end - clock_mono_ms();
                int n;

                if (left <= 0) {
                        res->timed_out = true;
                        kill_it = true;
                        break;
                }
                n = poll(pf, 3, (int)(left > 1000 ? 1000 : left));
                if (n < 0 && errno != EINTR)
                        break;
                if (n > 0 && stop_fd >= 0 && (pf[2].revents & POLLIN)) {
                        kill_it = true;
                        break;
                }
                if (n > 0 && !eof && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        subproc_drain(p[0], &res->out, &res->len, max_out, &res->truncated,
                                      &eof, o);
                if (n > 0 && !eof2 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        subproc_drain(q[0], &res->err_out, &res->err_len, max_out,
                                      &res->truncated, &eof2, o);
        }
        close(p[0]);
        if (split_stderr)
                close(q[0]);
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
