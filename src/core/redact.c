/*
 * redact: masking secrets in server texts (redact.h).
 */
#define _GNU_SOURCE     /* memmem */
#include "core/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "core/secret.h"
#include "core/util.h"

#define REDACT_MASK "***"

/* Replaces every occurrence of needle (m bytes) in buf by the mask. */
static void redact_one(char *buf, size_t n, const char *needle, size_t m)
{
        size_t len = strlen(buf), ml = strlen(REDACT_MASK);
        char *p = buf;

        if (m == 0)
                return;
        while ((p = memmem(p, len - (size_t)(p - buf), needle, m)) != NULL) {
                if (m >= ml) {
                        memcpy(p, REDACT_MASK, ml);
                        memmove(p + ml, p + m, len - (size_t)(p - buf) - m + 1);
                        len -= m - ml;
                        p += ml;
                } else {
                        /* Growing: make room within the buffer, or cut the tail. */
                        size_t grow = ml - m, tail = len - (size_t)(p - buf) - m;

                        if (len + grow + 1 > n) {
                                size_t keep = n - 1 - (size_t)(p - buf);

                                if (keep > ml)
                                        keep = ml;
                                memcpy(p, REDACT_MASK, keep);
                                p[keep] = '\0';
                                return;
                        }
                        memmove(p + ml, p + m, tail + 1);
                        memcpy(p, REDACT_MASK, ml);
                        len += grow;
                        p += ml;
                }
        }
}

static void redact_secret(char *buf, size_t n, const char *s)
{
        size_t m;

        if (!s || !*s)
                return;
        m = strlen(s);
        if (m < 3) {
                if (strcmp(buf, s) == 0)
                        redact_one(buf, n, s, m);
                return;
        }
        redact_one(buf, n, s, m);
}

static void redact_base64_of(char *buf, size_t n, const char *a, const char *b)
{
        size_t la = strlen(a), lb = b ? strlen(b) : 0, m = la + (b ? 1 + lb : 0);
        unsigned char *in = xmalloc(m + 1);
        char *out = xmalloc(4 * ((m + 2) / 3) + 1);

        memcpy(in, a, la);
        if (b) {
                in[la] = ':';
                memcpy(in + la + 1, b, lb);
        }
        EVP_EncodeBlock((unsigned char *)out, in, (int)m);
        if (strlen(out) >= 4)
                redact_one(buf, n, out, strlen(out));
        explicit_bzero(in, m + 1);
        free(in);
        secret_free(out);
}

void redact_secrets(char *buf, size_t n, const struct redact_keys *k)
{
        if (!buf || !n || !k)
                return;
        if (k->password && *k->password) {
                redact_base64_of(buf, n, k->user ? k->user : "", k->password);
                redact_base64_of(buf, n, k->password, NULL);
        }
        if (k->token && *k->token)
                redact_base64_of(buf, n, k->token, NULL);
        redact_secret(buf, n, k->password);
        redact_secret(buf, n, k->token);
        redact_secret(buf, n, k->extra);
}

/* --- by shape ---------------------------------------------------------- */

static bool redact_cred_char(unsigned char c)
{
        return isalnum(c) || strchr("-._~+/=:%", c) != NULL;
}

enum {
        R_QUOTED      = 1 << 0, /* a quoted value is masked to its closing quote */
        R_QUOTED_ONLY = 1 << 1, /* only a quoted value ("password authentication failed") */
        R_CRED_SHAPE  = 1 << 2, /* 8+ bytes with a digit or a capital, not realm="..." */
};

static bool redact_shape_ok(const char *v, const char *e)
{
        bool mixed = false;

        if (e - v < 8 || *e == '"')
                return false;
        for (const char *q = v; q < e; q++)
                if (isdigit((unsigned char)*q) || isupper((unsigned char)*q))
                        mixed = true;
        return mixed;
}

/* Masks the value that follows each case-insensitive occurrence of `key`
 * at a word start (after optional spaces and, when seps is set, one of
 * them), up to a byte outside a credential's alphabet or, quoted, up to the
 * closing quote. */
static void redact_after(char *buf, const char *key, const char *seps, int how)
{
        size_t kl = strlen(key), ml = strlen(REDACT_MASK);
        char *p = buf;

        while (*p) {
                char *v, *e;
                bool quoted = false;

                if (strncasecmp(p, key, kl) != 0 ||
                    (isalnum((unsigned char)key[0]) && p > buf &&
                     (isalnum((unsigned char)p[-1]) || p[-1] == '_'))) {
                        p++;
                        continue;
                }
                v = p + kl;
                while (*v == ' ' || *v == '\t')
                        v++;
                if (seps) {
                        if (!*v || !strchr(seps, *v)) {
                                p += kl;
                                continue;
                        }
                        v++;
                        while (*v == ' ' || *v == '\t')
                                v++;
                }
                if ((how & (R_QUOTED | R_QUOTED_ONLY)) && (*v == '\'' || *v == '"')) {
                        char q = *v++;

                        quoted = true;
                        e = v;
                        while (*e && *e != q)
                                e++;
                } else {
                        e = v;
                        while (*e && redact_cred_char((unsigned char)*e))
                                e++;
                }
                if (e == v || ((how & R_QUOTED_ONLY) && !quoted) ||
                    ((how & R_CRED_SHAPE) && !redact_shape_ok(v, e)) ||
                    ((size_t)(e - v) == ml && strncmp(v, REDACT_MASK, ml) == 0)) {
                        p = e > p + kl ? e : p + kl;
                        continue;
                }
                if ((size_t)(e - v) >= ml) {
                        memcpy(v, REDACT_MASK, ml);
                        memmove(v + ml, e, strlen(e) + 1);
                        e = v + ml;
                } else {
                        memset(v, '*', (size_t)(e - v));
                }
                p = e;
        }
}

void redact_patterns(char *buf, size_t n)
{
        if (!buf || !n)
                return;
        redact_after(buf, "Bearer ", NULL, R_CRED_SHAPE);
        redact_after(buf, "Basic ", NULL, R_CRED_SHAPE);
        redact_after(buf, "-Key", ":", R_QUOTED);      /* X-...-Key: headers */
        redact_after(buf, "Authorization", ":", R_QUOTED | R_CRED_SHAPE);
        redact_after(buf, "password", "=", R_QUOTED);
        redact_after(buf, "PASSWORD ", NULL, R_QUOTED_ONLY);
        redact_after(buf, "IDENTIFIED BY ", NULL, R_QUOTED_ONLY);
}

void redact_text(char *buf, size_t n, const struct redact_keys *k)
{
        redact_secrets(buf, n, k);
        redact_patterns(buf, n);
}

char *redact_dup(const char *s, const struct redact_keys *k)
{
        size_t n;
        char *o;

        if (!s)
                return NULL;
        n = strlen(s) + 64;     /* masks of short secrets may grow the text a little */
        o = xmalloc(n);
        memcpy(o, s, strlen(s) + 1);
        redact_text(o, n, k);
        return o;
}
