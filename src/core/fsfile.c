/*
 * fsfile: reading files lambdaops was pointed at (fsfile.h).
 */
#include "core/fsfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fsfile_test_stall_ms;

static const char *fsfile_kind(mode_t m)
{
        if (S_ISDIR(m))
                return "a directory";
        if (S_ISFIFO(m))
                return "a FIFO";
        if (S_ISSOCK(m))
                return "a socket";
        if (S_ISCHR(m))
                return "a character device";
        if (S_ISBLK(m))
                return "a block device";
        return "not a regular file";
}

/* Frees n bytes at p, wiping them first when they held a secret. */
static void fsfile_drop(char *p, size_t n, bool secret)
{
        if (p && secret)
                explicit_bzero(p, n);
        free(p);
}

static char *fsfile_read_impl(const char *path, size_t max, const char *what, bool secret,
                              size_t *len, struct err *err)
{
        struct stat st;
        char *buf = NULL;
        size_t n = 0, cap = 0;
        int fd;

        err_clear(err);
        if (len)
                *len = 0;
        if (fsfile_test_stall_ms > 0) {
                struct timespec ts = { fsfile_test_stall_ms / 1000,
                                       (long)(fsfile_test_stall_ms % 1000) * 1000000L };

                while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                        ;
        }
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                err_set(err, errno, "cannot read %s %s: %s", what, path, strerror(errno));
                return NULL;
        }
        if (fstat(fd, &st) != 0) {
                err_set(err, errno, "cannot read %s %s: %s", what, path, strerror(errno));
                close(fd);
                return NULL;
        }
        if (!S_ISREG(st.st_mode)) {
                err_set(err, S_ISDIR(st.st_mode) ? EISDIR : EINVAL,
                        "%s %s is %s; only a regular file is read", what, path,
                        fsfile_kind(st.st_mode));
                close(fd);
                return NULL;
        }
        if ((uint64_t)st.st_size > (uint64_t)max) {
                err_set(err, EFBIG, "%s %s is larger than %zu KiB; is this the right file?",
                        what, path, max / 1024);
                close(fd);
                return NULL;
        }
        for (;;) {
                ssize_t r;

                if (cap - n < 4096) {
                        size_t ncap = cap ? cap * 2 : (size_t)st.st_size + 4096;
                        char *nb;

                        if (ncap > max + 4096)
                                ncap = max + 4096;
                        if (ncap <= cap)
                                ncap = cap + 4096;
                        nb = xmalloc(ncap + 1);
                        if (n)
                                memcpy(nb, buf, n);
                        fsfile_drop(buf, cap + 1, secret);
                        buf = nb;
                        cap = ncap;
                }
                r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = errno;

                        err_set(err, e, "cannot read %s %s: %s", what, path, strerror(e));
                        close(fd);
                        fsfile_drop(buf, cap + 1, secret);
                        return NULL;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > max) {
                        err_set(err, EFBIG, "%s %s is larger than %zu KiB; is this the right "
                                "file?", what, path, max / 1024);
                        close(fd);
                        fsfile_drop(buf, cap + 1, secret);
                        return NULL;
                }
        }
        close(fd);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}

char *fsfile_read(const char *path, size_t max, const char *what, size_t *len, struct err *err)
{
        return fsfile_read_impl(path, max, what, false, len, err);
}

/* --- reading on a detached thread ----------------------------------------- */

/* Shared by the caller and the reader; the last one out frees it. */
struct fsfile_job {
        pthread_mutex_t mu;
        pthread_cond_t  cv;
        int             refs;
        bool            done;
        bool            secret;
        char           *path, *what;
        size_t          max, len;
        char           *buf;
        struct err      err;
};

static void fsfile_job_unref(struct fsfile_job *j)
{
        bool last;

        pthread_mutex_lock(&j->mu);
        last = --j->refs == 0;
        pthread_mutex_unlock(&j->mu);
        if (!last)
                return;
        fsfile_drop(j->buf, j->len + 1, j->secret);
        free(j->path);
        free(j->what);
        pthread_mutex_destroy(&j->mu);
        pthread_cond_destroy(&j->cv);
        free(j);
}

static void *fsfile_job_run(void *arg)
{
        struct fsfile_job *j = arg;
        struct err e;
        size_t n = 0;
        char *b = fsfile_read_impl(j->path, j->max, j->what, j->secret, &n, &e);

        pthread_mutex_lock(&j->mu);
        j->buf = b;
        j->len = n;
        j->err = e;
        j->done = true;
        pthread_cond_signal(&j->cv);
        pthread_mutex_unlock(&j->mu);
        fsfile_job_unref(j);
        return NULL;
}

char *fsfile_read_within(const char *path, size_t max, const char *what, int timeout_ms,
                         bool secret, size_t *len, struct err *err)
{
        struct fsfile_job *j = xcalloc(1, sizeof *j);
        pthread_condattr_t ca;
        pthread_attr_t at;
        pthread_t th;
        struct timespec dl;
        char *out = NULL;
        int rc;

        err_clear(err);
        if (len)
                *len = 0;
        pthread_mutex_init(&j->mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&j->cv, &ca);
        pthread_condattr_destroy(&ca);
        j->refs = 2;
        j->secret = secret;
        j->path = xstrdup(path);
        j->what = xstrdup(what);
        j->max = max;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&th, &at, fsfile_job_run, j);
        pthread_attr_destroy(&at);
        if (rc != 0) {
                j->refs = 1;
                fsfile_job_unref(j);
                err_set(err, rc, "cannot read %s %s: no thread (%s)", what, path, strerror(rc));
                return NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&j->mu);
        while (!j->done) {
                if (pthread_cond_timedwait(&j->cv, &j->mu, &dl) == ETIMEDOUT && !j->done)
                        break;
        }
        if (j->done) {
                if (j->buf) {
                        out = xmalloc(j->len + 1);
                        memcpy(out, j->buf, j->len + 1);
                        if (len)
                                *len = j->len;
                } else if (err) {
                        *err = j->err;
                }
        } else {
                err_set(err, ETIMEDOUT, "cannot read %s %s: no answer within %d ms (a stalled "
                        "mount?)", what, path, timeout_ms);
        }
        pthread_mutex_unlock(&j->mu);
        fsfile_job_unref(j);
        return out;
}
