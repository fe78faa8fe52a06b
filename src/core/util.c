/*
 * util: small helpers shared by every module. Nothing here keeps state.
 */
#include "core/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void err_clear(struct err *e)
{
        if (e) {
                e->code = 0;
                e->msg[0] = '\0';
        }
}

void err_set(struct err *e, int code, const char *fmt, ...)
{
        va_list ap;

        if (!e)
                return;
        e->code = code ? code : -1;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
}

static void oom(size_t n)
{
        fprintf(stderr, "lambdaops: out of memory (%zu bytes)\n", n);
        abort();
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                oom(n);
        return p;
}

void *xcalloc(size_t n, size_t sz)
{
        void *p = calloc(n ? n : 1, sz ? sz : 1);
        if (!p)
                oom(n * sz);
        return p;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                oom(n);
        return q;
}

char *xstrdup(const char *s)
{
        return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
        char *p;

        if (!s)
                return NULL;
        n = strnlen(s, n);      /* like strndup: never past the NUL */
        p = xmalloc(n + 1);
        memcpy(p, s, n);
        p[n] = '\0';
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap, ap2;
        int n;
        char *p;

        va_start(ap, fmt);
        va_copy(ap2, ap);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        p = xmalloc((size_t)n + 1);
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
        va_end(ap2);
        return p;
}

static int64_t clock_ms(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
        return clock_ms(CLOCK_MONOTONIC);
}

int64_t clock_wall_ms(void)
{
        return clock_ms(CLOCK_REALTIME);
}

void fmt_rfc3339(int64_t wall_ms, char *buf, size_t n)
{
        time_t t = (time_t)(wall_ms / 1000);
        struct tm tm;
        char tmp[32];

        gmtime_r(&t, &tm);
        strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, n, "%s.%03dZ", tmp, (int)(wall_ms % 1000));
}

void fmt_bytes(double bytes, char *buf, size_t n)
{
        static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = fabs(bytes);
        size_t u = 0;
        const char *sign = bytes < 0 ? "-" : "";

        /* Move up a unit also when the printed value would round to 1024
         * ("1024 B", "1024.0 KiB"): 1048575 B is "1.0 MiB". */
        while (v >= (u == 0 ? 1023.5 : 1023.95) && u + 1 < LO_ARRAY_LEN(unit)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, n, "%s%.0f B", sign, v);
        else
                snprintf(buf, n, "%s%.1f %s", sign, v, unit[u]);
}

void fmt_duration_ms(int64_t ms, char *buf, size_t n)
{
        int64_t s;
        const char *sign = "";

        if (ms < 0) {
                sign = "-";
                ms = -ms;
        }
        s = ms / 1000;
        if (ms < 1000)
                snprintf(buf, n, "%s%lldms", sign, (long long)ms);
        else if (s < 60)
                snprintf(buf, n, "%s%llds", sign, (long long)s);
        else if (s < 3600)
                snprintf(buf, n, "%s%lldm%02llds", sign, (long long)(s / 60), (long long)(s % 60));
        else if (s < 86400)
                snprintf(buf, n, "%s%lldh%02lldm", sign, (long long)(s / 3600), (long long)(s % 3600 / 60));
        else
                snprintf(buf, n, "%s%lldd%02lldh", sign, (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void fmt_duration_or_dash(int64_t ms, char *buf, size_t n)
{
        if (ms < 0)
                str_copy(buf, "-", n);
        else
                fmt_duration_ms(ms, buf, n);
}

void fmt_seconds_or_dash(double s, char *buf, size_t n)
{
        if (!isfinite(s))
                str_copy(buf, "-", n);
        else
                fmt_duration_ms((int64_t)llround(s * 1000.0), buf, n);
}

void fmt_bytes_or_dash(double bytes, char *buf, size_t n)
{
        if (!isfinite(bytes))
                str_copy(buf, "-", n);
        else
                fmt_bytes(bytes, buf, n);
}

void fmt_count_or_dash(int64_t v, char *buf, size_t n)
{
        if (v < 0)
                str_copy(buf, "-", n);
        else
                snprintf(buf, n, "%lld", (long long)v);
}

void fmt_rfc3339_or_dash(int64_t wall_ms, char *buf, size_t n)
{
        if (wall_ms < 0)
                str_copy(buf, "-", n);
        else
                fmt_rfc3339(wall_ms, buf, n);
}

void str_copy(char *dst, const char *src, size_t n)
{
        size_t len;

        if (n == 0)
                return;
        if (!src)
                src = "";
        len = strlen(src);
        if (len >= n)
                len = n - 1;
        memcpy(dst, src, len);
        dst[len] = '\0';
}

int str_edit_distance(const char *a, const char *b)
{
        int row[65], la = (int)strlen(a), lb = (int)strlen(b);

        if (la > 64 || lb > 64)
                return 1000;
        for (int j = 0; j <= lb; j++)
                row[j] = j;
        for (int i = 1; i <= la; i++) {
                int prev = row[0];
                row[0] = i;
                for (int j = 1; j <= lb; j++) {
                        int cur = row[j];
                        int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        int best = prev + cost;
                        if (row[j] + 1 < best)
                                best = row[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        prev = cur;
                }
        }
        return row[lb];
}
