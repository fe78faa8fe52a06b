/*
 * termsafe: escaping text for a terminal (termsafe.h).
 */
#include "core/termsafe.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Length of the valid UTF-8 sequence at s (1-4), its code point in *cp;
 * 0 when the bytes there are not valid UTF-8 (overlong, surrogate, cut). */
static int termsafe_utf8(const unsigned char *s, uint32_t *cp)
{
        unsigned char c = s[0];
        int len, i;
        uint32_t v, min;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                v = c & 0x1f;
                min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                v = c & 0x0f;
                min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                v = c & 0x07;
                min = 0x10000;
        } else {
                return 0;
        }
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                v = (v << 6) | (s[i] & 0x3f);
        }
        if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
                return 0;
        *cp = v;
        return len;
}

static bool termsafe_bad_cp(uint32_t cp, int flags)
{
        if (cp == '\n' || cp == '\t')
                return !(flags & TERMSAFE_LINES);
        if (cp < 0x20 || cp == 0x7f)
                return true;
        if (cp >= 0x80 && cp <= 0x9f)
                return true;
        if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
                return true;
        return false;
}

/* Calls out(piece, len, arg) for each run of s, escaped. */
static void termsafe_walk(const char *s, int flags,
                          void (*out)(const char *p, size_t n, void *arg), void *arg)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                const unsigned char *start = p;
                uint32_t cp = 0;
                int k;

                /* The longest run that needs no escape goes out in one piece. */
                while (*p && (k = termsafe_utf8(p, &cp)) > 0 && !termsafe_bad_cp(cp, flags))
                        p += k;
                if (p > start)
                        out((const char *)start, (size_t)(p - start), arg);
                if (!*p)
                        break;
                k = termsafe_utf8(p, &cp);
                if (k == 0) {
                        char e[5];

                        snprintf(e, sizeof e, "\\x%02x", *p);
                        out(e, 4, arg);
                        p++;
                } else if (cp < 0x80) {
                        char e[5];

                        snprintf(e, sizeof e, "\\x%02x", (unsigned)cp);
                        out(e, 4, arg);
                        p++;
                } else {
                        char e[12];

                        snprintf(e, sizeof e, "\\u%04x", (unsigned)cp);
                        out(e, 6, arg);
                        p += k;
                }
        }
}

bool termsafe_needed(const char *s, int flags)
{
        const unsigned char *p = (const unsigned char *)s;
        uint32_t cp;
        int k;

        if (!s)
                return false;
        while (*p) {
                k = termsafe_utf8(p, &cp);
                if (k == 0 || termsafe_bad_cp(cp, flags))
                        return true;
                p += k;
        }
        return false;
}

struct termsafe_buf {
        char  *buf;
        size_t n, used, need;
        bool   full;
};

static void termsafe_to_buf(const char *p, size_t n, void *arg)
{
        struct termsafe_buf *b = arg;

        b->need += n;
        if (b->full)
                return;
        if (b->used + n < b->n) {
                memcpy(b->buf + b->used, p, n);
                b->used += n;
                return;
        }
        /* Plain text may be cut anywhere but inside a UTF-8 sequence; an
         * escape (starts with '\') is never cut. */
        if (p[0] != '\\' || n == 1) {
                size_t room = b->n - 1 - b->used;

                while (room > 0 && ((unsigned char)p[room] & 0xc0) == 0x80)
                        room--;
                memcpy(b->buf + b->used, p, room);
                b->used += room;
        }
        b->full = true;
}

size_t termsafe_copy(const char *s, int flags, char *buf, size_t n)
{
        struct termsafe_buf b = { buf, n, 0, 0, false };

        if (n == 0)
                return 0;
        if (s)
                termsafe_walk(s, flags, termsafe_to_buf, &b);
        buf[b.used] = '\0';
        return b.need;
}

char *termsafe_dup(const char *s, int flags)
{
        char one[1];
        size_t need;
        char *o;

        if (!s)
                return NULL;
        need = termsafe_copy(s, flags, one, sizeof one);
        o = xmalloc(need + 1);
        termsafe_copy(s, flags, o, need + 1);
        return o;
}

static void termsafe_to_file(const char *p, size_t n, void *arg)
{
        fwrite(p, 1, n, (FILE *)arg);
}

void termsafe_fputs(const char *s, int flags, FILE *f)
{
        if (s)
                termsafe_walk(s, flags, termsafe_to_file, f);
}

void termsafe_fprintf(FILE *f, const char *fmt, ...)
{
        va_list ap;
        char small[512], *s = small;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof small, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n >= sizeof small) {
                s = xmalloc((size_t)n + 1);
                va_start(ap, fmt);
                vsnprintf(s, (size_t)n + 1, fmt, ap);
                va_end(ap);
        }
        termsafe_fputs(s, TERMSAFE_LINES, f);
        if (s != small)
                free(s);
}
