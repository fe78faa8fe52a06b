/*
 * sql: the streaming JSON scanner (see sql.h): locates values in a JSON
 * text without building a tree, for the ClickHouse decoder in sql.c and
 * the Snowflake collector. Pure and thread-agnostic.
 */
#include "clients/sql.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/sql_internal.h"

#define SQL_JSON_DEPTH 64               /* nesting the scanner follows */

/* ------------------------------------------------------------------------
 * Streaming JSON scanner: locate values without building trees
 */

static const char *sql_ws(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

/* End of the string starting at p ('"'), or NULL. */
static const char *sql_skip_string(const char *p, const char *end)
{
        for (p++; p < end; p++) {
                if (*p == '\\') {
                        p++;
                        continue;
                }
                if (*p == '"')
                        return p + 1;
                if ((unsigned char)*p < 0x20)
                        return NULL;
        }
        return NULL;
}

/* End of the value starting at p, or NULL when malformed. Nested values
 * are checked for bracket balance, not fully validated (cJSON or our own
 * decoding checks what we use). */
static const char *sql_skip_value(const char *p, const char *end)
{
        char stack[SQL_JSON_DEPTH];
        int depth = 0;

        if (p >= end)
                return NULL;
        if (*p == '"')
                return sql_skip_string(p, end);
        if (*p != '[' && *p != '{') {
                const char *q = p;

                while (q < end && (isalnum((unsigned char)*q) || *q == '-' || *q == '+' ||
                                   *q == '.'))
                        q++;
                return q > p ? q : NULL;
        }
        while (p < end) {
                char c = *p;

                if (c == '"') {
                        if (!(p = sql_skip_string(p, end)))
                                return NULL;
                        continue;
                }
                if (c == '[' || c == '{') {
                        if (depth == SQL_JSON_DEPTH)
                                return NULL;
                        stack[depth++] = c == '[' ? ']' : '}';
                } else if (c == ']' || c == '}') {
                        if (depth == 0 || stack[depth - 1] != c)
                                return NULL;
                        if (--depth == 0)
                                return p + 1;
                }
                p++;
        }
        return NULL;
}

/* Next element of an array or member of an object (key set for objects). */
int sql_json_iter(const struct sql_jval *v, size_t *pos, struct sql_jval *key,
                  struct sql_jval *elem, struct err *err)
{
        const char *end = v->p + v->n, *p, *q;
        char close;

        if (v->n < 2 || (v->p[0] != '[' && v->p[0] != '{'))
                goto bad;
        close = v->p[0] == '[' ? ']' : '}';
        if (*pos == 0) {
                p = sql_ws(v->p + 1, end);
                if (p < end && *p == close) {
                        *pos = v->n;
                        return 0;
                }
        } else {
                if (*pos >= v->n)
                        return 0;
                p = sql_ws(v->p + *pos, end);
                if (p < end && *p == close) {
                        *pos = v->n;
                        return 0;
                }
                if (p >= end || *p != ',')
                        goto bad;
                p = sql_ws(p + 1, end);
        }
        if (close == '}') {
                if (p >= end || *p != '"' || !(q = sql_skip_string(p, end)))
                        goto bad;
                if (key)
                        *key = (struct sql_jval){ p, (size_t)(q - p) };
                p = sql_ws(q, end);
                if (p >= end || *p != ':')
                        goto bad;
                p = sql_ws(p + 1, end);
        }
        if (!(q = sql_skip_value(p, end)))
                goto bad;
        *elem = (struct sql_jval){ p, (size_t)(q - p) };
        *pos = (size_t)(q - v->p);
        return 1;
bad:
        err_set(err, EPROTO, "malformed JSON");
        return -1;
}

int sql_json_next(const struct sql_jval *arr, size_t *pos, struct sql_jval *elem,
                  struct err *err)
{
        if (!arr->n || arr->p[0] != '[') {
                err_set(err, EPROTO, "malformed JSON: expected an array");
                return -1;
        }
        return sql_json_iter(arr, pos, NULL, elem, err);
}

/* True when the raw string token `k` ("...") equals `want` (no escapes). */
static bool sql_json_key_is(const struct sql_jval *k, const char *want)
{
        size_t n = strlen(want);

        return k->n == n + 2 && memcmp(k->p + 1, want, n) == 0;
}

int sql_json_member(const char *buf, size_t len, const char *key, struct sql_jval *out,
                    struct err *err)
{
        const char *end = buf + len, *p = sql_ws(buf, end), *q;
        struct sql_jval obj, k, v;
        size_t pos = 0;
        int r;

        if (p >= end || *p != '{' || !(q = sql_skip_value(p, end))) {
                err_set(err, EPROTO, "malformed JSON: expected an object");
                return -1;
        }
        obj = (struct sql_jval){ p, (size_t)(q - p) };
        while ((r = sql_json_iter(&obj, &pos, &k, &v, err)) == 1)
                if (sql_json_key_is(&k, key)) {
                        *out = v;
                        return 1;
                }
        return r;
}

static int sql_hex4(const char *p)
{
        int v = 0;

        for (int i = 0; i < 4; i++) {
                int c = p[i], d;

                if (c >= '0' && c <= '9')
                        d = c - '0';
                else if (c >= 'a' && c <= 'f')
                        d = c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        d = c - 'A' + 10;
                else
                        return -1;
                v = v << 4 | d;
        }
        return v;
}

/* Decodes the string token [p, p+n) (with quotes) appending to *buf. */
int sql_unescape(const char *p, size_t n, char **buf, size_t *len, size_t *cap)
{
        const char *end = p + n - 1;

        if (n < 2 || p[0] != '"' || p[n - 1] != '"')
                return -1;
        if (*cap < *len + n + 1) {
                *cap = (*len + n + 1) * 2;
                *buf = xrealloc(*buf, *cap);
        }
        for (p++; p < end; p++) {
                unsigned cp;
                char *o;

                if (*p != '\\') {
                        (*buf)[(*len)++] = *p;
                        continue;
                }
                if (++p >= end)
                        return -1;
                switch (*p) {
                case '"': case '\\': case '/':
                        (*buf)[(*len)++] = *p;
                        continue;
                case 'b': (*buf)[(*len)++] = '\b'; continue;
                case 'f': (*buf)[(*len)++] = '\f'; continue;
                case 'n': (*buf)[(*len)++] = '\n'; continue;
                case 'r': (*buf)[(*len)++] = '\r'; continue;
                case 't': (*buf)[(*len)++] = '\t'; continue;
                case 'u':
                        break;
                default:
                        return -1;
                }
                if (end - p < 5 || sql_hex4(p + 1) < 0)
                        return -1;
                cp = (unsigned)sql_hex4(p + 1);
                p += 4;
                if (cp >= 0xD800 && cp < 0xDC00) {
                        int lo;

                        if (end - p < 7 || p[1] != '\\' || p[2] != 'u' ||
                            (lo = sql_hex4(p + 3)) < 0xDC00 || lo > 0xDFFF)
                                return -1;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                        p += 6;
                } else if (cp >= 0xDC00 && cp < 0xE000) {
                        return -1;
                }
                if (cp == 0)
                        return -1;      /* no NULs inside our strings */
                /* An escape is at least 6 bytes and encodes to at most 4. */
                o = *buf + *len;
                if (cp < 0x80) {
                        *o++ = (char)cp;
                } else if (cp < 0x800) {
                        *o++ = (char)(0xC0 | cp >> 6);
                        *o++ = (char)(0x80 | (cp & 0x3F));
                } else if (cp < 0x10000) {
                        *o++ = (char)(0xE0 | cp >> 12);
                        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
                        *o++ = (char)(0x80 | (cp & 0x3F));
                } else {
                        *o++ = (char)(0xF0 | cp >> 18);
                        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
                        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
                        *o++ = (char)(0x80 | (cp & 0x3F));
                }
                *len = (size_t)(o - *buf);
        }
        (*buf)[*len] = '\0';
        return 0;
}

int sql_json_string(const struct sql_jval *v, char **out, bool *is_null)
{
        char *buf = NULL;
        size_t len = 0, cap = 0;

        *out = NULL;
        if (is_null)
                *is_null = false;
        if (v->n == 4 && memcmp(v->p, "null", 4) == 0) {
                if (is_null)
                        *is_null = true;
                return 0;
        }
        if (sql_unescape(v->p, v->n, &buf, &len, &cap) < 0) {
                free(buf);
                return -1;
        }
        *out = buf;
        return 0;
}
