/*
 * logline: structured log lines. See logline.h.
 */
#include "core/logline.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/termsafe.h"
#include "core/util.h"

int log_format_parse(const char *s, enum log_format *out)
{
        if (s && strcmp(s, "logfmt") == 0)
                *out = LOG_LOGFMT;
        else if (s && strcmp(s, "json") == 0)
                *out = LOG_JSON;
        else
                return -1;
        return 0;
}

static void logline_put(struct logline *l, const char *s, size_t n)
{
        if (l->n + n + 1 > l->cap) {
                while (l->n + n + 1 > l->cap)
                        l->cap = l->cap ? 2 * l->cap : 256;
                l->buf = xrealloc(l->buf, l->cap);
        }
        memcpy(l->buf + l->n, s, n);
        l->n += n;
        l->buf[l->n] = '\0';
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t logline_utf8_len(const unsigned char *s)
{
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
                        return 0;       /* overlong, surrogate */
                return 3;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
                        return 0;
                return 4;
        }
        return 0;
}

/* s with every byte that is not UTF-8 replaced by U+FFFD. Owned. */
static char *logline_utf8_clean(const char *s)
{
        size_t n = strlen(s), o = 0;
        char *out = xmalloc(3 * n + 1);

        for (size_t i = 0; i < n;) {
                size_t k = logline_utf8_len((const unsigned char *)s + i);

                if (k == 0) {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(out + o, s + i, k);
                        o += k;
                        i += k;
                }
        }
        out[o] = '\0';
        return out;
}

void logline_begin(struct logline *l, enum log_format fmt, int64_t wall_ms, const char *level,
                   const char *msg)
{
        char ts[40];

        memset(l, 0, sizeof *l);
        l->fmt = fmt;
        if (fmt == LOG_JSON)
                l->obj = cJSON_CreateObject();
        fmt_rfc3339(wall_ms, ts, sizeof ts);
        logline_str(l, "ts", ts);
        logline_str(l, "level", level);
        logline_str(l, "msg", msg);
}

static void logline_key(struct logline *l, const char *key)
{
        if (l->n)
                logline_put(l, " ", 1);
        logline_put(l, key, strlen(key));
        logline_put(l, "=", 1);
}

void logline_str(struct logline *l, const char *key, const char *val)
{
        char *safe;
        bool quote;

        if (!val)
                return;
        if (l->fmt == LOG_JSON) {
                char *clean = logline_utf8_clean(val);

                cJSON_AddStringToObject(l->obj, key, clean);
                free(clean);
                return;
        }
        safe = termsafe_dup(val, TERMSAFE_LINE);
        quote = !*safe || strpbrk(safe, " =\"\\") != NULL;
        logline_key(l, key);
        if (!quote) {
                logline_put(l, safe, strlen(safe));
        } else {
                logline_put(l, "\"", 1);
                for (const char *p = safe; *p; p++) {
                        if (*p == '"' || *p == '\\')
                                logline_put(l, "\\", 1);
                        logline_put(l, p, 1);
                }
                logline_put(l, "\"", 1);
        }
        free(safe);
}

void logline_num(struct logline *l, const char *key, double v)
{
        char b[40];

        if (!isfinite(v))
                return;
        if (l->fmt == LOG_JSON) {
                cJSON_AddNumberToObject(l->obj, key, v);
                return;
        }
        /* The shortest form that reads back as the same double. */
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(b, sizeof b, "%.*g", prec, v);
                if (strtod(b, NULL) == v)
                        break;
        }
        logline_key(l, key);
        logline_put(l, b, strlen(b));
}

void logline_int(struct logline *l, const char *key, int64_t v)
{
        char b[32];

        if (l->fmt == LOG_JSON) {
                cJSON_AddNumberToObject(l->obj, key, (double)v);
                return;
        }
        snprintf(b, sizeof b, "%" PRId64, v);
        logline_key(l, key);
        logline_put(l, b, strlen(b));
}

void logline_bool(struct logline *l, const char *key, bool v)
{
        if (l->fmt == LOG_JSON) {
                cJSON_AddBoolToObject(l->obj, key, v);
                return;
        }
        logline_key(l, key);
        logline_put(l, v ? "true" : "false", v ? 4 : 5);
}

/* cJSON writes DEL, C1 and the bidi overrides raw (valid JSON); a journal
 * shown on a terminal must not get them, so they become \uNNNN (they can
 * only occur inside strings). */
static char *logline_json_escape(const char *s)
{
        size_t n = strlen(s), o = 0;
        char *out = xmalloc(6 * n + 1);

        for (size_t i = 0; i < n;) {
                const unsigned char *p = (const unsigned char *)s + i;
                unsigned cp = 0;
                size_t k = 1;

                if (p[0] == 0x7f) {
                        cp = 0x7f;
                } else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        cp = p[1];
                        k = 2;
                } else if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) {
                        cp = 0x2000 | (p[2] & 0x3f);
                        k = 3;
                } else if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) {
                        cp = 0x2040 | (p[2] & 0x3f);
                        k = 3;
                }
                if (cp) {
                        o += (size_t)snprintf(out + o, 7, "\\u%04x", cp);
                } else {
                        memcpy(out + o, p, k);
                        o += k;
                }
                i += k;
        }
        out[o] = '\0';
        return out;
}

char *logline_end(struct logline *l)
{
        char *out;

        if (l->fmt == LOG_JSON) {
                char *j = cJSON_PrintUnformatted(l->obj);

                out = logline_json_escape(j ? j : "{}");
                free(j);
                cJSON_Delete(l->obj);
                out = xrealloc(out, strlen(out) + 2);
                strcat(out, "\n");
        } else {
                logline_put(l, "\n", 1);
                out = l->buf;
                l->buf = NULL;
        }
        free(l->buf);
        memset(l, 0, sizeof *l);
        return out;
}
