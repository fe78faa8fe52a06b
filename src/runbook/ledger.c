/*
 * ledger: the durable JSON-lines run ledger and the per-target lock (see
 * ledger.h).
 */
#include "runbook/ledger.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fsdir.h"
#include "core/fsfile.h"
#include "core/redact.h"

#define LEDGER_ID_MAX   200
#define LEDGER_LOCK_MAX 4096

char *ledger_dir(void)
{
        const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

        if (x && *x == '/')
                return xasprintf("%s/lambdaops/runs", x);
        if (!home || !*home) {
                const struct passwd *pw = getpwuid(getuid());

                home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
        }
        return xasprintf("%s/.local/state/lambdaops/runs", home);
}

bool ledger_id_valid(const char *s)
{
        size_t n;

        if (!s || !*s || *s == '.')
                return false;
        n = strlen(s);
        if (n > LEDGER_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

static char *run_path(const char *run_id)
{
        char *d = ledger_dir(), *p = xasprintf("%s/%s.jsonl", d, run_id);

        free(d);
        return p;
}

/* 16 random bits; getrandom, else something that differs per process and call. */
static unsigned rand16(void)
{
        unsigned short v;

        if (getrandom(&v, sizeof v, GRND_NONBLOCK) == (ssize_t)sizeof v)
                return v;
        return (unsigned)((clock_mono_ms() * 2654435761u) ^ (unsigned)getpid()) & 0xffffu;
}

char *ledger_new_id(const char *runbook_id)
{
        int64_t ms = clock_wall_ms();
        time_t t = (time_t)(ms / 1000);
        struct tm tm;
        char ts[32], *id = NULL;

        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
        /* 64 tries of 65536 ids in one second: a collision after that is left
         * to ledger_create's O_EXCL. */
        for (int i = 0; i < 64; i++) {
                struct stat st;
                char *p;

                free(id);
                id = xasprintf("%s-%.150s-%04x", ts, runbook_id ? runbook_id : "run", rand16());
                p = run_path(id);
                if (lstat(p, &st) != 0 && errno == ENOENT) {
                        free(p);
                        break;
                }
                free(p);
        }
        return id;
}

/* Bytes outside [A-Za-z0-9._-] as %XX, so any target is one file name
 * component (no '/', no "..", no '@' that would make the key ambiguous). */
static void escape_into(char **out, size_t *len, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";

        for (; s && *s; s++) {
                unsigned char c = (unsigned char)*s;
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                             (c == '.' && *len > 0);

                *out = xrealloc(*out, *len + 4);
                if (plain) {
                        (*out)[(*len)++] = (char)c;
                } else {
                        (*out)[(*len)++] = '%';
                        (*out)[(*len)++] = hex[c >> 4];
                        (*out)[(*len)++] = hex[c & 15];
                }
                (*out)[*len] = '\0';
        }
}

/* runs/<runbook>@<target>.lock; a name longer than a file name may be is
 * cut and completed by a hash of the whole key. */
static char *lock_path(const char *runbook_id, const char *target)
{
        char *name = NULL, *d, *p;
        size_t len = 0;

        escape_into(&name, &len, runbook_id);
        name = xrealloc(name, len + 2);
        name[len++] = '@';
        name[len] = '\0';
        escape_into(&name, &len, target);
        if (len > 200) {
                uint64_t h = 1469598103934665603ull;    /* FNV-1a */

                for (size_t i = 0; i < len; i++)
                        h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
                snprintf(name + 180, len + 1 - 180, "~%016llx", (unsigned long long)h);
        }
        d = ledger_dir();
        p = xasprintf("%s/%s.lock", d, name);
        free(d);
        free(name);
        return p;
}

static int mkdirs_for(const char *path, struct err *err)
{
        char *d;

        if (fsdir_make_parents(path, 0700, &d) != 0) {
                int e = errno;

                err_set(err, e, "mkdir %s: %s", d, strerror(e));
                free(d);
                return -1;
        }
        return 0;
}

static int write_all(int fd, const char *buf, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, buf, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += w;
                n -= (size_t)w;
        }
        return 0;
}

/* Takes the run lock for runbook@target and writes "PID RUN\n" into it.
 * The fd, or -1 with err (EWOULDBLOCK naming the holder). */
static int lock_take(const char *runbook_id, const char *target, const char *run_id,
                     struct err *err)
{
        char *path = lock_path(runbook_id, target), line[LEDGER_ID_MAX + 32];
        int fd, n;

        if (mkdirs_for(path, err) != 0) {
                free(path);
                return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0) {
                int e = errno;

                err_set(err, e, "cannot open the run lock %s: %s", path, strerror(e));
                free(path);
                return -1;
        }
        while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                struct err fe;
                char *text, holder[LEDGER_ID_MAX + 1] = "";
                long pid = 0;
                int e = errno;

                if (e == EINTR)
                        continue;
                close(fd);
                if (e != EWOULDBLOCK) {
                        err_set(err, e, "cannot lock %s: %s", path, strerror(e));
                        free(path);
                        return -1;
                }
                /* The holder writes its line right after locking: an empty
                 * file here is a run that is just starting. */
                text = fsfile_read(path, LEDGER_LOCK_MAX, "run lock", NULL, &fe);
                /* A holder that is gone left a stale line (the new holder has
                 * not written its own yet): do not name it. */
                if (text && sscanf(text, "%ld %200s", &pid, holder) == 2 &&
                    ledger_id_valid(holder) && pid > 0 && (kill((pid_t)pid, 0) == 0 ||
                                                            errno == EPERM))
                        err_set(err, EWOULDBLOCK,
                                "run %s of %s on %s is in progress (pid %ld); wait for it to "
                                "end, or resume that run when its process is gone",
                                holder, runbook_id, target && *target ? target : "-", pid);
                else
                        err_set(err, EWOULDBLOCK,
                                "another run of %s on %s is in progress (lock %s held); wait "
                                "for it to end", runbook_id,
                                target && *target ? target : "-", path);
                free(text);
                free(path);
                return -1;
        }
        /* Written over the old line, then cut to length: a refused run never
         * reads an empty file from a live holder. */
        n = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), run_id);
        if (pwrite(fd, line, (size_t)n, 0) != n || ftruncate(fd, n) != 0) {
                int e = errno;

                err_set(err, e, "cannot write the run lock %s: %s", path, strerror(e));
                close(fd);
                free(path);
                return -1;
        }
        free(path);
        return fd;
}

static void ledger_init(struct ledger *l)
{
        l->path = NULL;
        l->fd = -1;
        l->lock_fd = -1;
}

void ledger_close(struct ledger *l)
{
        if (!l)
                return;
        if (l->fd >= 0)
                close(l->fd);
        if (l->lock_fd >= 0)
                close(l->lock_fd);      /* the last close of the description drops the flock */
        free(l->path);
        ledger_init(l);
}

/* A new directory entry is durable only once its directory is synced. */
static void sync_dir_of(const char *path)
{
        char *d = xstrdup(path), *slash = strrchr(d, '/');
        int fd;

        if (slash && slash != d) {
                *slash = '\0';
                fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        (void)fsync(fd);
                        close(fd);
                }
        }
        free(d);
}

int ledger_create(struct ledger *l, const char *run_id, const char *runbook_id,
                  const char *target, struct err *err)
{
        ledger_init(l);
        if (!ledger_id_valid(run_id) || !runbook_id || !*runbook_id) {
                err_set(err, EINVAL, "run id \"%s\" is not valid", run_id ? run_id : "");
                return -1;
        }
        l->lock_fd = lock_take(runbook_id, target, run_id, err);
        if (l->lock_fd < 0)
                return -1;
        l->path = run_path(run_id);
        l->fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                     0600);
        if (l->fd < 0) {
                int e = errno;

                if (e == EEXIST)
                        err_set(err, e, "run %s already exists (%s); take a new run id",
                                run_id, l->path);
                else
                        err_set(err, e, "cannot create the run ledger %s: %s", l->path,
                                strerror(e));
                ledger_close(l);
                return -1;
        }
        sync_dir_of(l->path);
        return 0;
}

static const char *jstr(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ledger_open(struct ledger *l, const char *run_id, struct err *err)
{
        cJSON *recs, *r, *start = NULL;
        const char *rb, *target;
        struct stat st;

        ledger_init(l);
        recs = ledger_read(run_id, NULL, err);
        if (!recs)
                return -1;
        cJSON_ArrayForEach(r, recs) {
                const char *ev = jstr(r, "ev");

                if (ev && strcmp(ev, "start") == 0) {
                        start = r;
                        break;
                }
        }
        rb = start ? jstr(start, "runbook") : NULL;
        if (!rb || !*rb) {
                err_set(err, EINVAL, "run %s has no start record: it never began, there is "
                        "nothing to resume", run_id);
                cJSON_Delete(recs);
                return -1;
        }
        target = jstr(start, "target");
        l->lock_fd = lock_take(rb, target ? target : "", run_id, err);
        cJSON_Delete(recs);
        if (l->lock_fd < 0)
                return -1;
        l->path = run_path(run_id);
        l->fd = open(l->path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (l->fd < 0 || fstat(l->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                int e = l->fd < 0 ? errno : EINVAL;

                err_set(err, e, "cannot open the run ledger %s: %s", l->path, strerror(e));
                ledger_close(l);
                return -1;
        }
        return 0;
}

/* Redacts, then bounds (a bound first could cut a credential's prefix off
 * and leave its value to the pattern-blind tail). */
static void scrub(cJSON *j, bool tail)
{
        cJSON *c;

        if (cJSON_IsString(j) && j->valuestring) {
                char *s = redact_dup(j->valuestring, NULL);
                size_t n = strlen(s);

                if (n > LEDGER_TEXT_MAX) {
                        if (tail) {
                                size_t from = n - LEDGER_TEXT_MAX;

                                while (from < n && ((unsigned char)s[from] & 0xC0) == 0x80)
                                        from++;
                                memmove(s, s + from, n - from + 1);
                        } else {
                                size_t to = LEDGER_TEXT_MAX;

                                while (to > 0 && ((unsigned char)s[to] & 0xC0) == 0x80)
                                        to--;
                                s[to] = '\0';
                        }
                }
                cJSON_free(j->valuestring);
                j->valuestring = cJSON_malloc(strlen(s) + 1);
                memcpy(j->valuestring, s, strlen(s) + 1);
                free(s);
                return;
        }
        for (c = j ? j->child : NULL; c; c = c->next)
                scrub(c, tail || (c->string && strcmp(c->string, "output_tail") == 0));
}

/* The file ends with a line cut by a crash: true when its last byte is not '\n'. */
static bool ends_cut(int fd)
{
        struct stat st;
        char c;

        if (fstat(fd, &st) != 0 || st.st_size == 0)
                return false;
        return pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n';
}

int ledger_append(struct ledger *l, const cJSON *rec, struct err *err)
{
        cJSON *copy;
        char *text, *line;
        size_t n;
        int rc = 0;

        if (!l || l->fd < 0 || !cJSON_IsObject(rec)) {
                err_set(err, EINVAL, "ledger: not open, or the record is not an object");
                return -1;
        }
        copy = cJSON_Duplicate(rec, true);
        if (!copy) {
                err_set(err, ENOMEM, "ledger: cannot copy the record");
                return -1;
        }
        scrub(copy, false);
        if (!cJSON_GetObjectItemCaseSensitive(copy, "at")) {
                char at[32];

                fmt_rfc3339(clock_wall_ms(), at, sizeof at);
                cJSON_AddStringToObject(copy, "at", at);
        }
        text = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
        if (!text) {
                err_set(err, ENOMEM, "ledger: cannot format the record");
                return -1;
        }
        n = strlen(text);
        if (n + 2 > LEDGER_LINE_MAX) {
                err_set(err, EMSGSIZE, "ledger %s: a record of %zu bytes is over the %d-byte "
                        "limit", l->path, n, LEDGER_LINE_MAX);
                cJSON_free(text);
                return -1;
        }
        /* One buffer, so the record goes in one write(2) whenever the kernel
         * takes it whole; a leading '\n' isolates a line cut by a crash. */
        line = xmalloc(n + 3);
        {
                size_t k = 0;

                if (ends_cut(l->fd))
                        line[k++] = '\n';
                memcpy(line + k, text, n);
                k += n;
                line[k++] = '\n';
                if (write_all(l->fd, line, k) != 0 || fsync(l->fd) != 0) {
                        int e = errno;

                        err_set(err, e, "cannot write the run ledger %s: %s (the record is "
                                "not saved; check the disk)", l->path, strerror(e));
                        rc = -1;
                }
        }
        free(line);
        cJSON_free(text);
        return rc;
}

/* One line as a record: a whole JSON object, nothing after it but blanks. */
static cJSON *parse_line(const char *s, size_t n)
{
        const char *end = NULL;
        cJSON *j;

        if (n > LEDGER_LINE_MAX || memchr(s, '\0', n))
                return NULL;
        j = cJSON_ParseWithLengthOpts(s, n, &end, false);
        if (!j)
                return NULL;
        while (end && end < s + n && (*end == ' ' || *end == '\t' || *end == '\r'))
                end++;
        if (!cJSON_IsObject(j) || end != s + n) {
                cJSON_Delete(j);
                return NULL;
        }
        return j;
}

cJSON *ledger_parse(const char *buf, size_t len, size_t *cut)
{
        cJSON *arr = cJSON_CreateArray();
        size_t bad = 0, i = 0;

        while (i < len) {
                const char *nl = memchr(buf + i, '\n', len - i);
                size_t n = nl ? (size_t)(nl - (buf + i)) : len - i, k;
                cJSON *j;

                for (k = 0; k < n; k++) {
                        char c = buf[i + k];

                        if (c != ' ' && c != '\t' && c != '\r')
                                break;
                }
                if (k < n) {
                        j = parse_line(buf + i, n);
                        if (j)
                                cJSON_AddItemToArray(arr, j);
                        else
                                bad++;
                }
                i += n + (nl ? 1 : 0);
        }
        if (cut)
                *cut = bad;
        return arr;
}

cJSON *ledger_read(const char *run_id, size_t *cut, struct err *err)
{
        struct err fe;
        char *path, *buf;
        size_t n = 0;
        cJSON *arr;

        if (cut)
                *cut = 0;
        if (!ledger_id_valid(run_id)) {
                err_set(err, EINVAL, "run id \"%s\" is not valid (expected "
                        "YYYYMMDDTHHMMSSZ-RUNBOOK-XXXX, see `lambdaops runbook list`)",
                        run_id ? run_id : "");
                return NULL;
        }
        path = run_path(run_id);
        err_clear(&fe);
        buf = fsfile_read(path, LEDGER_FILE_MAX, "run ledger", &n, &fe);
        if (!buf) {
                if (fe.code == ENOENT)
                        err_set(err, ENOENT, "no run %s (%s does not exist; see `lambdaops "
                                "runbook list`)", run_id, path);
                else
                        err_set(err, fe.code ? fe.code : EIO, "%s", fe.msg);
                free(path);
                return NULL;
        }
        free(path);
        arr = ledger_parse(buf, n, cut);
        free(buf);
        return arr;
}

/* An integer field in [lo, hi], else -1. */
static long jidx(const cJSON *o, const char *key, long lo, long hi)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        double d;

        if (!cJSON_IsNumber(v))
                return -1;
        d = v->valuedouble;
        /* the range first: casting 1e300 or inf to long is undefined */
        if (!(d >= (double)lo && d <= (double)hi) || d != (double)(long)d)
                return -1;
        return (long)d;
}

static bool is_ev(const cJSON *r, const char *ev)
{
        const char *s = jstr(r, "ev");

        return s && strcmp(s, ev) == 0;
}

long ledger_resume_point(const cJSON *records, size_t n_steps, bool *done_mutating)
{
        const cJSON *r;
        long pos = 0, choice_at = -1, choice_to = -1, last = (long)n_steps - 1;

        if (done_mutating)
                for (size_t i = 0; i < n_steps; i++)
                        done_mutating[i] = false;
        if (!cJSON_IsArray(records))
                return -1;
        cJSON_ArrayForEach(r, records) {
                const char *phase, *result;
                long i, next;

                if (is_ev(r, "end"))
                        return -1;
                if (is_ev(r, "choice")) {
                        i = jidx(r, "index", 0, last);
                        next = jidx(r, "goto_index", 0, (long)n_steps);
                        if (i >= 0 && next >= 0) {
                                choice_at = i;
                                choice_to = next;
                        }
                        continue;
                }
                if (!is_ev(r, "step"))
                        continue;
                i = jidx(r, "index", 0, last);
                phase = jstr(r, "phase");
                if (i < 0 || !phase)
                        continue;
                if (strcmp(phase, "start") == 0) {
                        pos = i;
                        if (choice_at == i)
                                choice_at = -1;         /* a new visit chooses again */
                        continue;
                }
                if (strcmp(phase, "end") != 0)
                        continue;
                result = jstr(r, "result");
                next = jidx(r, "next", 0, (long)n_steps);
                if (result && (strcmp(result, "ok") == 0 || strcmp(result, "skipped") == 0)) {
                        if (strcmp(result, "ok") == 0 && done_mutating &&
                            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "mutating")))
                                done_mutating[i] = true;
                        if (next >= 0)
                                pos = next;
                        else if (choice_at == i)
                                pos = choice_to;
                        else
                                pos = i + 1;
                } else {
                        pos = next >= 0 ? next : i;
                }
                if (choice_at == i)
                        choice_at = -1;
        }
        return pos;
}

bool ledger_step_interrupted(const cJSON *records)
{
        const cJSON *r, *last = NULL;

        if (!cJSON_IsArray(records))
                return false;
        cJSON_ArrayForEach(r, records) {
                if (is_ev(r, "step") && jstr(r, "phase"))
                        last = r;
        }
        return last && strcmp(jstr(last, "phase"), "start") == 0;
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, key, v);
        else
                cJSON_AddNullToObject(o, key);
}

/* The list entry of one run, or NULL when the file is not one. */
static cJSON *list_entry(const char *run_id)
{
        cJSON *recs = ledger_read(run_id, NULL, NULL), *r, *start = NULL, *end = NULL;
        cJSON *step = NULL, *e;

        if (!recs)
                return NULL;
        cJSON_ArrayForEach(r, recs) {
                if (!start && is_ev(r, "start"))
                        start = r;
                else if (is_ev(r, "end"))
                        end = r;
                else if (is_ev(r, "step") && jstr(r, "step"))
                        step = r;
        }
        if (!start) {
                cJSON_Delete(recs);
                return NULL;
        }
        e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "run", run_id);
        add_str_or_null(e, "runbook", jstr(start, "runbook"));
        add_str_or_null(e, "target", jstr(start, "target"));
        add_str_or_null(e, "user", jstr(start, "user"));
        add_str_or_null(e, "started", jstr(start, "at"));
        add_str_or_null(e, "ended", end ? jstr(end, "at") : NULL);
        add_str_or_null(e, "result", end ? jstr(end, "result") : NULL);
        add_str_or_null(e, "step", step ? jstr(step, "step") : NULL);
        cJSON_Delete(recs);
        return e;
}

static int cmp_str_desc(const char *a, const char *b)
{
        return strcmp(b ? b : "", a ? a : "");
}

static int list_cmp(const void *pa, const void *pb)
{
        const cJSON *a = *(const cJSON *const *)pa, *b = *(const cJSON *const *)pb;
        int c = cmp_str_desc(jstr(a, "started"), jstr(b, "started"));

        return c ? c : cmp_str_desc(jstr(a, "run"), jstr(b, "run"));
}

cJSON *ledger_list(struct err *err)
{
        char *dir = ledger_dir();
        DIR *d = opendir(dir);
        struct dirent *de;
        cJSON **v = NULL, *arr;
        size_t n = 0;

        if (!d) {
                int e = errno;

                if (e == ENOENT) {
                        free(dir);
                        return cJSON_CreateArray();
                }
                err_set(err, e, "cannot read the runs directory %s: %s", dir, strerror(e));
                free(dir);
                return NULL;
        }
        while ((de = readdir(d)) != NULL) {
                size_t len = strlen(de->d_name);
                char *id;
                cJSON *e;

                if (len <= 6 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
                        continue;
                if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
                        continue;
                id = xstrndup(de->d_name, len - 6);
                e = ledger_id_valid(id) ? list_entry(id) : NULL;
                free(id);
                if (!e)
                        continue;
                v = xrealloc(v, (n + 1) * sizeof *v);
                v[n++] = e;
        }
        closedir(d);
        free(dir);
        if (n > 1)
                qsort(v, n, sizeof *v, list_cmp);
        arr = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(arr, v[i]);
        free(v);
        return arr;
}
