/*
 * Reconciliation: canonical keys, the comparable form of a row's key
 * columns (pure; see reconcile.c).
 */
#include "collectors/reconcile/reconcile_int.h"

/* ------------------------------------------------------------------------
 * Canonical keys
 */

size_t reconcile_put_varint(char *p, size_t v)
{
        size_t n = 0;

        do {
                p[n++] = (char)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
                v >>= 7;
        } while (v);
        return n;
}

static size_t reconcile_get_varint(const char *p, size_t *v)
{
        size_t n = 0, x = 0;
        int shift = 0;

        do {
                x |= (size_t)((unsigned char)p[n] & 0x7F) << shift;
                shift += 7;
        } while ((unsigned char)p[n++] & 0x80);
        *v = x;
        return n;
}

/* 8 bytes that sort like the signed value. */
void reconcile_put_i64(char *p, int64_t v)
{
        uint64_t u = (uint64_t)v ^ (1ULL << 63);

        for (int i = 7; i >= 0; i--, u >>= 8)
                p[i] = (char)(u & 0xFF);
}

static int64_t reconcile_get_i64(const char *p)
{
        uint64_t u = 0;

        for (int i = 0; i < 8; i++)
                u = u << 8 | (unsigned char)p[i];
        return (int64_t)(u ^ (1ULL << 63));
}

/* 8 bytes that sort like the double. */
void reconcile_put_f64(char *p, double d)
{
        uint64_t u;

        memcpy(&u, &d, sizeof u);
        u = (u >> 63) ? ~u : u | (1ULL << 63);
        for (int i = 7; i >= 0; i--, u >>= 8)
                p[i] = (char)(u & 0xFF);
}

static double reconcile_get_f64(const char *p)
{
        uint64_t u = 0;
        double d;

        for (int i = 0; i < 8; i++)
                u = u << 8 | (unsigned char)p[i];
        u = (u >> 63) ? u & ~(1ULL << 63) : ~u;
        memcpy(&d, &u, sizeof d);
        return d;
}

/* Canonical decimal text of a number cell into buf: "-12.5" for "-012.500",
 * "5" for "5.0", "0" for "-0". */
void reconcile_canon_num(const struct sql_cell *c, enum sql_type t, char *buf, size_t n)
{
        const char *s = c->text, *ip, *fp = NULL;
        size_t il, fl = 0;
        bool neg = false;

        if (t == SQL_T_INT || t == SQL_T_BOOL) {
                snprintf(buf, n, "%lld", (long long)c->i);
                return;
        }
        if (!s || strpbrk(s, "eEnNiI") || strlen(s) + 2 > n) {
                if (c->d == floor(c->d) && fabs(c->d) < 9.2e18)
                        snprintf(buf, n, "%lld", (long long)c->d);
                else
                        snprintf(buf, n, "%.17g", c->d);
                return;
        }
        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        while (*s == '0' && s[1] >= '0' && s[1] <= '9')
                s++;
        ip = s;
        il = strcspn(s, ".");
        if (s[il] == '.') {
                fp = s + il + 1;
                fl = strlen(fp);
                while (fl > 0 && fp[fl - 1] == '0')
                        fl--;
        }
        if (il == 0) {
                ip = "0";
                il = 1;
        }
        if (il == 1 && ip[0] == '0' && fl == 0)
                neg = false;
        snprintf(buf, n, "%s%.*s%s%.*s", neg ? "-" : "", (int)il, ip, fl ? "." : "", (int)fl,
                 fl ? fp : "");
}

/* "YYYY-MM-DDThh:mm:ss.mmmZ" for any ms, negative included. */
void reconcile_fmt_time(int64_t ms, char *buf, size_t n)
{
        int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
        int64_t rem = ms - days * 86400000, z = days + 719468, era, y;
        unsigned doe, yoe, doy, mp, d, m;

        era = (z >= 0 ? z : z - 146096) / 146097;
        doe = (unsigned)(z - era * 146097);
        yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        y = (int64_t)yoe + era * 400;
        doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        mp = (5 * doy + 2) / 153;
        d = doy - (153 * mp + 2) / 5 + 1;
        m = mp < 10 ? mp + 3 : mp - 9;
        y += m <= 2;
        snprintf(buf, n, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                 (int)(rem % 1000));
}

size_t reconcile_comp_read(const char *p, struct rec_comp *c)
{
        size_t o = 1, len;

        memset(c, 0, sizeof *c);
        c->tag = (unsigned char)p[0];
        switch (c->tag) {
        case REC_TAG_TIME:
                c->t = reconcile_get_i64(p + 1);
                return 9;
        case REC_TAG_NUM:
                c->d = reconcile_get_f64(p + 1);
                o = 9;
                /* fall through */
        case REC_TAG_TEXT:
                o += reconcile_get_varint(p + o, &len);
                c->s = p + o;
                c->n = len;
                return o + len;
        case REC_TAG_BOOL:
                c->b = p[1] != 0;
                return 2;
        default:
                return 1;
        }
}

int reconcile_key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
        size_t i = 0, j = 0;

        while (i < an && j < bn) {
                struct rec_comp x, y;
                int c = 0;

                i += reconcile_comp_read(a + i, &x);
                j += reconcile_comp_read(b + j, &y);
                if (x.tag != y.tag)
                        return x.tag < y.tag ? -1 : 1;
                switch (x.tag) {
                case REC_TAG_TIME:
                        c = x.t < y.t ? -1 : x.t > y.t;
                        break;
                case REC_TAG_NUM:
                case REC_TAG_TEXT:
                        /* Numbers by value, then (equal doubles) by text. */
                        if (x.tag == REC_TAG_NUM)
                                c = x.d < y.d ? -1 : x.d > y.d;
                        if (!c)
                                c = memcmp(x.s, y.s, x.n < y.n ? x.n : y.n);
                        if (!c)
                                c = x.n < y.n ? -1 : x.n > y.n;
                        break;
                case REC_TAG_BOOL:
                        c = (int)x.b - (int)y.b;
                        break;
                default:
                        break;
                }
                if (c)
                        return c;
        }
        return (i < an) - (j < bn);
}
