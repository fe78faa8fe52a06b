/*
 * subproc: runs an external program (kubectl, helm) for an action with
 * posix_spawnp and an argv -- never through a shell, so no argument is ever
 * interpreted. stdout and stderr are captured together into a bounded
 * buffer; a deadline kills the child (SIGTERM, then SIGKILL).
 *
 * Any thread may call it (action workers do); it touches no globals. The
 * child gets stdin from /dev/null and inherits no other descriptors of ours
 * (they are close-on-exec).
 */
#ifndef LO_SRC_SUBPROC_H
#define LO_SRC_SUBPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct subproc_result {
        int    exit_code;       /* exit status; 128 + signal when killed; -1 not run */
        bool   timed_out;       /* the deadline passed and we killed it */
        bool   truncated;       /* output went past max_out (the rest was read and dropped) */
        char  *out;             /* owned, NUL-terminated: stdout and stderr interleaved
                                   (stdout only with subproc_run_env's split_stderr) */
        size_t len;
        char  *err_out;         /* owned: stderr when split_stderr, else NULL */
        size_t err_len;
        int64_t duration_ms;
};

/* Runs argv[0] (looked up in PATH when it has no '/') with argv, NULL-
 * terminated. max_out caps the kept output (0 = 1 MiB); timeout_ms > 0
 * bounds the run. stop_fd (-1 = none) readable also kills the child.
 * Returns 0 when the program ran (check exit_code), -1 with err when it
 * could not start. res is always initialised; free it with subproc_result_done. */
int subproc_run(char *const argv[], size_t max_out, int64_t timeout_ms, int stop_fd,
              struct subproc_result *res, struct err *err);
void subproc_result_done(struct subproc_result *r);

/* subproc_run with an environment: the child gets ours plus env_extra
 * ("NAME=value", NULL-terminated, may be NULL), where an env_extra entry
 * replaces an inherited variable of the same name. split_stderr captures
 * stderr separately into res->err_out (same cap) so that stdout stays
 * parseable (exec credential plugins print JSON there). */
int subproc_run_env(char *const argv[], char *const env_extra[], bool split_stderr,
                    size_t max_out, int64_t timeout_ms, int stop_fd,
                    struct subproc_result *res, struct err *err);

/* Extras of subproc_run_ex. */
struct subproc_opts {
        char *const *env;       /* as subproc_run_env's env_extra, or NULL */
        /* Called with each chunk of output as it arrives (stdout and stderr
         * interleaved), before it is kept in res->out; NULL = none. Runs on
         * the calling thread. */
        void (*on_output)(void *arg, const char *buf, size_t n);
        void *arg;
};

/* subproc_run with options (o may be NULL: exactly subproc_run), e.g. for
 * `lambdaops up`, which shows a step's output while it runs. */
int subproc_run_ex(char *const argv[], const struct subproc_opts *o, size_t max_out,
                   int64_t timeout_ms, int stop_fd, struct subproc_result *res,
                   struct err *err);

#endif
