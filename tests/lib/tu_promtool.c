/*
 * tu_promtool: `promtool check metrics` on a text (tu_promtool.h). The
 * text goes through a temp file opened as the child's stdin (promtool reads
 * the exposition there), its output to another temp file; posix_spawn with
 * an argv, polled for exit against a deadline, killed by PID past it.
 */
#include "tu_promtool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TU_PROMTOOL "/usr/bin/promtool"

extern char **environ;

bool tu_promtool_available(void)
{
        return access(TU_PROMTOOL, X_OK) == 0;
}

static int tu_promtool_tmp(char *path, size_t n, const char *what)
{
        snprintf(path, n, "/tmp/lo-promtool-%s.XXXXXX", what);
        return mkstemp(path);
}

int tu_promtool_check(const char *text, char *out, size_t n)
{
        char in_path[64], out_path[64];
        int in_fd = tu_promtool_tmp(in_path, sizeof in_path, "in");
        int out_fd = tu_promtool_tmp(out_path, sizeof out_path, "out");
        char *const argv[] = { TU_PROMTOOL, "check", "metrics", NULL };
        posix_spawn_file_actions_t fa;
        int status = -1, rc = -1;
        size_t len = strlen(text);
        pid_t pid;

        if (n)
                out[0] = '\0';
        if (in_fd < 0 || out_fd < 0 || write(in_fd, text, len) != (ssize_t)len ||
            lseek(in_fd, 0, SEEK_SET) != 0) {
                snprintf(out, n, "temp files: %s", strerror(errno));
                goto done;
        }
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
        if (posix_spawn(&pid, TU_PROMTOOL, &fa, NULL, argv, environ) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                snprintf(out, n, "could not run %s", TU_PROMTOOL);
                goto done;
        }
        posix_spawn_file_actions_destroy(&fa);
        for (int i = 0; i < 3000; i++) {        /* 30 s in 10 ms steps */
                struct timespec ts = { 0, 10 * 1000 * 1000 };

                if (waitpid(pid, &status, WNOHANG) == pid)
                        break;
                nanosleep(&ts, NULL);
        }
        if (waitpid(pid, &status, WNOHANG) == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                snprintf(out, n, "promtool did not finish within 30 s");
                goto done;
        }
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (n) {
                ssize_t r = pread(out_fd, out, n - 1, 0);

                out[r > 0 ? r : 0] = '\0';
        }
done:
        if (in_fd >= 0) {
                close(in_fd);
                unlink(in_path);
        }
        if (out_fd >= 0) {
                close(out_fd);
                unlink(out_path);
        }
        return rc;
}

void tu_metrics_expect(const char *got, const char *rel)
{
        char *want = tu_read_file(tu_src_path(rel), NULL);
        char out[4096];
        int rc;

        if (!want || strcmp(want, got) != 0) {
                char path[64] = "/tmp/lo-metrics-got.XXXXXX";
                int fd = mkstemp(path);
                size_t line = 1, i = 0;

                if (fd >= 0) {
                        if (write(fd, got, strlen(got)) < 0)
                                path[0] = '\0';
                        close(fd);
                }
                for (; want && want[i] && want[i] == got[i]; i++)
                        line += want[i] == '\n';
                free(want);
                fail_msg("%s differs from the text rendered, first at line %zu; the text is "
                         "in %s", rel, line, path);
        }
        free(want);
        if (!tu_promtool_available())
                return;
        rc = tu_promtool_check(got, out, sizeof out);
        if (rc != 0)
                fail_msg("promtool check metrics exited %d on %s:\n%s", rc, rel, out);
}
