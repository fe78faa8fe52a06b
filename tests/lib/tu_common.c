/*
 * Common test helpers. See tu.h.
 */
#include "tu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"

const char *tu_src_path(const char *rel)
{
        static char buf[4096];
        const char *root = getenv("LO_SOURCE_DIR");

        if (!root || !*root)
                root = LO_SOURCE_DIR;
        snprintf(buf, sizeof buf, "%s/%s", root, rel);
        return buf;
}

char *tu_read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t n = 0, cap = 0, r;

        if (!f)
                return NULL;
        do {
                if (cap - n < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = xrealloc(buf, cap + 1);
                }
                r = fread(buf + n, 1, cap - n, f);
                n += r;
        } while (r > 0);
        fclose(f);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}

int64_t tu_fixture_now(void)
{
        static int64_t anchor = -1;
        const char *env;

        if (anchor >= 0)
                return anchor;
        env = getenv("LO_FIXTURE_NOW");
        if (env && *env) {
                char *end;
                long long v = strtoll(env, &end, 10);

                if (*end == '\0' && v >= 0) {
                        anchor = v;
                        return anchor;
                }
        }
        anchor = (int64_t)time(NULL);
        {
                char buf[32];

                snprintf(buf, sizeof buf, "%lld", (long long)anchor);
                setenv("LO_FIXTURE_NOW", buf, 1);
        }
        return anchor;
}

/* "-11d3h" at s (after "now"): the offset in seconds and the length read,
 * or -1 when s is not an offset. */
static int fixture_offset(const char *s, int64_t *off)
{
        int sign, i = 1;
        int64_t total = 0;

        *off = 0;
        if (*s != '+' && *s != '-')
                return 0;
        sign = *s == '-' ? -1 : 1;
        while (s[i] >= '0' && s[i] <= '9') {
                int64_t n = 0;

                while (s[i] >= '0' && s[i] <= '9')
                        n = n * 10 + (s[i++] - '0');
                switch (s[i]) {
                case 'w': n *= 604800; break;
                case 'd': n *= 86400; break;
                case 'h': n *= 3600; break;
                case 'm': n *= 60; break;
                case 's': break;
                default: return -1;
                }
                i++;
                total += n;
        }
        if (i == 1)
                return -1;
        *off = sign * total;
        return i;
}

char *tu_fixture_expand(const char *text, int64_t now_s)
{
        size_t cap = strlen(text) + 1, n = 0;
        char *out = xmalloc(cap);
        const char *p = text;

        while (*p) {
                const char *tok = strstr(p, "{{now"), *q, *end;
                char fmt[128] = "%Y-%m-%dT%H:%M:%SZ", val[160];
                int64_t off = 0, t;
                int used;

                if (!tok)
                        tok = p + strlen(p);
                /* the text before the token */
                if (n + (size_t)(tok - p) + 1 > cap) {
                        cap = (n + (size_t)(tok - p) + 1) * 2;
                        out = xrealloc(out, cap);
                }
                memcpy(out + n, p, (size_t)(tok - p));
                n += (size_t)(tok - p);
                if (!*tok)
                        break;
                q = tok + 5;
                used = fixture_offset(q, &off);
                end = used >= 0 ? strstr(q + used, "}}") : NULL;
                if (used < 0 || !end || (q[used] != '|' && q + used != end) ||
                    (q[used] == '|' && (size_t)(end - (q + used + 1)) >= sizeof fmt)) {
                        /* not a token: copy "{{" and go on */
                        val[0] = '{'; val[1] = '{'; val[2] = '\0';
                        p = tok + 2;
                } else {
                        struct tm tm;
                        time_t tt;

                        if (q[used] == '|') {
                                memcpy(fmt, q + used + 1, (size_t)(end - (q + used + 1)));
                                fmt[end - (q + used + 1)] = '\0';
                        }
                        t = now_s + off;
                        if (strcmp(fmt, "s") == 0) {
                                snprintf(val, sizeof val, "%lld", (long long)t);
                        } else if (strcmp(fmt, "ms") == 0) {
                                snprintf(val, sizeof val, "%lld", (long long)t * 1000);
                        } else {
                                tt = (time_t)t;
                                gmtime_r(&tt, &tm);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                                /* the fixture's own format, test-only */
                                if (strftime(val, sizeof val, fmt, &tm) == 0)
                                        val[0] = '\0';
#pragma GCC diagnostic pop
                        }
                        p = end + 2;
                }
                if (n + strlen(val) + 1 > cap) {
                        cap = (n + strlen(val) + 1) * 2;
                        out = xrealloc(out, cap);
                }
                memcpy(out + n, val, strlen(val));
                n += strlen(val);
        }
        out[n] = '\0';
        return out;
}

char *tu_read_fixture(const char *path, size_t *len)
{
        char *raw = tu_read_file(path, NULL), *out;

        if (!raw)
                return NULL;
        out = tu_fixture_expand(raw, tu_fixture_now());
        free(raw);
        if (len)
                *len = strlen(out);
        return out;
}
