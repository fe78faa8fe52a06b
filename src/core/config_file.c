/*
 * config: finding the config file and reading secrets (config.h). Secret
 * values are never logged and are wiped from temporary buffers.
 */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsfile.h"
#include "core/util.h"

#define SECRET_MAX      (64 * 1024)     /* bytes in a secret file */
/* A secret is read on a collector thread, which quit waits for: a file on a
 * stalled network mount is given up after this long rather than blocking
 * the thread (fsfile_read_within reads it on a detached thread). */
#define SECRET_READ_MS  2000

/* --- finding the file ----------------------------------------------------------------- */

/* 0 when path names something that is not a directory; else -1 with errno. */
static int config_usable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -1;
        if (S_ISDIR(st.st_mode)) {
                errno = EISDIR;
                return -1;
        }
        return 0;
}

char *config_find(const char *explicit_path, struct err *err)
{
        const char *env = getenv("LAMBDAOPS_CONFIG");
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        char *user = NULL;

        err_clear(err);
        if (explicit_path) {
                if (config_usable(explicit_path) < 0) {
                        err_set(err, errno, "config file %s: %s", explicit_path, strerror(errno));
                        return NULL;
                }
                return xstrdup(explicit_path);
        }
        if (env && *env) {
                if (config_usable(env) < 0) {
                        err_set(err, errno, "config file %s (from $LAMBDAOPS_CONFIG): %s", env,
                                strerror(errno));
                        return NULL;
                }
                return xstrdup(env);
        }
        if (config_usable("lambdaops.yaml") == 0)
                return xstrdup("lambdaops.yaml");
        if (xdg && *xdg)
                user = xasprintf("%s/lambdaops/config.yaml", xdg);
        else if (home && *home)
                user = xasprintf("%s/.config/lambdaops/config.yaml", home);
        if (user && config_usable(user) == 0)
                return user;
        err_set(err, ENOENT, "no config file found; searched $LAMBDAOPS_CONFIG (unset), "
                "./lambdaops.yaml%s%s (use -c FILE or set LAMBDAOPS_CONFIG)",
                user ? ", " : "", user ? user : "");
        free(user);
        return NULL;
}

/* --- secrets ------------------------------------------------------------------------------- */

/* Frees a buffer that held secret bytes after wiping it. */
static void config_secret_drop(char *p, size_t n)
{
        if (p) {
                explicit_bzero(p, n);
                free(p);
        }
}

char *config_secret_resolve(const char *env_name, const char *file_path, struct err *err)
{
        struct err fe;
        char *buf, *out;
        size_t n = 0, cap;

        err_clear(err);
        if (env_name && file_path) {
                err_set(err, EINVAL, "a secret is configured both as an environment variable (%s) "
                        "and as a file (%s); use one", env_name, file_path);
                return NULL;
        }
        if (env_name) {
                const char *v = getenv(env_name);

                if (!v) {
                        err_set(err, ENOENT, "environment variable %s is not set", env_name);
                        return NULL;
                }
                if (!*v) {
                        err_set(err, ENOENT, "environment variable %s is empty", env_name);
                        return NULL;
                }
                return xstrdup(v);
        }
        if (!file_path)
                return NULL;

        /* Group/world-readable files are accepted; the docs advise 0600. A
         * FIFO, device or directory is refused rather than read. */
        buf = fsfile_read_within(file_path, SECRET_MAX, "secret file", SECRET_READ_MS, true, &n,
                                 &fe);
        if (!buf) {
                if (fe.code == EFBIG)
                        err_set(err, EFBIG, "secret file %s is larger than %d KiB", file_path,
                                SECRET_MAX / 1024);
                else
                        err_set(err, fe.code, "%s", fe.msg);
                return NULL;
        }
        cap = n + 1;
        if (n > 0 && buf[n - 1] == '\n') {
                n--;
                if (n > 0 && buf[n - 1] == '\r')
                        n--;
        }
        if (n == 0) {
                err_set(err, EINVAL, "secret file %s is empty", file_path);
                config_secret_drop(buf, cap);
                return NULL;
        }
        if (memchr(buf, '\0', n)) {
                err_set(err, EINVAL, "secret file %s contains a NUL byte", file_path);
                config_secret_drop(buf, cap);
                return NULL;
        }
        out = xstrndup(buf, n);
        config_secret_drop(buf, cap);
        return out;
}
