/*
 * kafka_wire_codec: the bounded reader and the growable writer of the
 * protocol's primitive types (kafka_wire.h, layer 1). Every read goes
 * through rd_take(), which checks the bytes left; the reader's error is
 * sticky and names the field and offset.
 */
#include "clients/kafka/kafka_wire.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- Reader ----------------------------------------------------------------- */

void kafka_wire_rd_init(struct kafka_wire_rd *r, const void *buf, size_t len)
{
        r->p = buf;
        r->len = buf ? len : 0;
        r->off = 0;
        r->bad = false;
        r->msg[0] = '\0';
}

void kafka_wire_rd_fail(struct kafka_wire_rd *r, const char *field, const char *fmt, ...)
{
        char why[112];
        va_list ap;

        if (r->bad)
                return;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        r->bad = true;
        snprintf(r->msg, sizeof r->msg, "%s at offset %zu: %s", field, r->off, why);
}

/* The next n bytes, or NULL (reader bad) when fewer are left. */
static const uint8_t *rd_take(struct kafka_wire_rd *r, const char *field, size_t n)
{
        const uint8_t *p;

        if (r->bad)
                return NULL;
        if (r->len - r->off < n) {
                kafka_wire_rd_fail(r, field, "needs %zu bytes, %zu left", n, r->len - r->off);
                return NULL;
        }
        p = r->p + r->off;
        r->off += n;
        return p;
}

static size_t rd_left(const struct kafka_wire_rd *r)
{
        return r->bad ? 0 : r->len - r->off;
}

int8_t kafka_wire_rd_i8(struct kafka_wire_rd *r, const char *field)
{
        const uint8_t *p = rd_take(r, field, 1);

        return p ? (int8_t)p[0] : 0;
}

uint16_t kafka_wire_rd_u16(struct kafka_wire_rd *r, const char *field)
{
        const uint8_t *p = rd_take(r, field, 2);

        return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

int16_t kafka_wire_rd_i16(struct kafka_wire_rd *r, const char *field)
{
        return (int16_t)kafka_wire_rd_u16(r, field);
}

int32_t kafka_wire_rd_i32(struct kafka_wire_rd *r, const char *field)
{
        const uint8_t *p = rd_take(r, field, 4);

        if (!p)
                return 0;
        return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                         (uint32_t)p[2] << 8 | (uint32_t)p[3]);
}

int64_t kafka_wire_rd_i64(struct kafka_wire_rd *r, const char *field)
{
        const uint8_t *p = rd_take(r, field, 8);
        uint64_t v = 0;

        if (!p)
                return 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return (int64_t)v;
}

uint32_t kafka_wire_rd_uvarint(struct kafka_wire_rd *r, const char *field)
{
        size_t start = r->off;
        uint32_t v = 0;

        for (int i = 0; i < 5; i++) {
                const uint8_t *p = rd_take(r, field, 1);

                if (!p)
                        return 0;
                /* The fifth byte may carry only the top 4 of 32 bits and
                 * must end the number. */
                if (i == 4 && (p[0] & 0xf0)) {
                        r->off = start;
                        kafka_wire_rd_fail(r, field, "varint overflows 32 bits");
                        return 0;
                }
                v |= (uint32_t)(p[0] & 0x7f) << (7 * i);
                if (!(p[0] & 0x80))
                        return v;
        }
        return v;       /* not reached: the fifth byte check ends the loop */
}

int32_t kafka_wire_rd_varint(struct kafka_wire_rd *r, const char *field)
{
        uint32_t u = kafka_wire_rd_uvarint(r, field);

        /* zigzag: 0, -1, 1, -2, ... */
        return (u & 1) ? (int32_t)~(u >> 1) : (int32_t)(u >> 1);
}

void kafka_wire_rd_uuid(struct kafka_wire_rd *r, const char *field, uint8_t out[16])
{
        const uint8_t *p = rd_take(r, field, 16);

        if (p)
                memcpy(out, p, 16);
        else
                memset(out, 0, 16);
}

void kafka_wire_rd_skip(struct kafka_wire_rd *r, const char *field, size_t n)
{
        (void)rd_take(r, field, n);
}

bool kafka_wire_rd_string(struct kafka_wire_rd *r, const char *field, bool compact,
                          bool nullable, struct kafka_wire_str *out)
{
        size_t start = r->off;
        int64_t n;

        out->p = NULL;
        out->len = -1;
        n = compact ? (int64_t)kafka_wire_rd_uvarint(r, field) - 1 : kafka_wire_rd_i16(r, field);
        if (r->bad)
                return false;
        if (n == -1) {
                if (nullable)
                        return true;
                r->off = start;
                kafka_wire_rd_fail(r, field, "null where a string is required");
                return false;
        }
        if (n < 0) {
                r->off = start;
                kafka_wire_rd_fail(r, field, "invalid string length %lld", (long long)n);
                return false;
        }
        if ((uint64_t)n > r->len - r->off || n > INT32_MAX) {
                size_t left = r->len - r->off;

                r->off = start;
                kafka_wire_rd_fail(r, field, "string length %lld exceeds the %zu bytes left",
                                   (long long)n, left);
                return false;
        }
        out->p = (const char *)r->p + r->off;
        out->len = (int32_t)n;
        r->off += (size_t)n;
        return true;
}

int32_t kafka_wire_rd_array(struct kafka_wire_rd *r, const char *field, bool compact,
                            size_t min_elem)
{
        size_t start = r->off, left;
        int64_t n;

        assert(min_elem > 0);
        n = compact ? (int64_t)kafka_wire_rd_uvarint(r, field) - 1 : kafka_wire_rd_i32(r, field);
        if (r->bad)
                return -1;
        left = r->len - r->off;
        if (n < 0) {
                r->off = start;
                if (n == -1)
                        kafka_wire_rd_fail(r, field, "null array");
                else
                        kafka_wire_rd_fail(r, field, "invalid array count %lld", (long long)n);
                return -1;
        }
        if ((uint64_t)n > left / min_elem) {
                r->off = start;
                kafka_wire_rd_fail(r, field, "array count %lld cannot fit in the %zu bytes left",
                                   (long long)n, left);
                return -1;
        }
        return (int32_t)n;
}

void kafka_wire_rd_tags(struct kafka_wire_rd *r, const char *field)
{
        size_t start = r->off;
        uint32_t n = kafka_wire_rd_uvarint(r, field), prev = 0;

        if (r->bad)
                return;
        /* Each tagged field takes at least two bytes (tag and size). */
        if (n > rd_left(r) / 2) {
                size_t left = rd_left(r);

                r->off = start;
                kafka_wire_rd_fail(r, field,
                                   "tagged field count %u cannot fit in the %zu bytes left",
                                   n, left);
                return;
        }
        for (uint32_t i = 0; i < n && !r->bad; i++) {
                size_t at = r->off;
                uint32_t tag = kafka_wire_rd_uvarint(r, field);
                uint32_t size = kafka_wire_rd_uvarint(r, field);

                if (r->bad)
                        return;
                if (i > 0 && tag <= prev) {
                        r->off = at;
                        kafka_wire_rd_fail(r, field, "tag %u after tag %u (must increase)", tag,
                                           prev);
                        return;
                }
                prev = tag;
                kafka_wire_rd_skip(r, field, size);
        }
}

char *kafka_wire_str_dup(struct kafka_wire_str s)
{
        return s.p ? xstrndup(s.p, (size_t)s.len) : NULL;
}

/* ---- Writer ----------------------------------------------------------------- */

void kafka_wire_wr_init(struct kafka_wire_wr *w)
{
        w->buf = NULL;
        w->len = 0;
        w->cap = 0;
}

void kafka_wire_wr_done(struct kafka_wire_wr *w)
{
        free(w->buf);
        kafka_wire_wr_init(w);
}

void kafka_wire_wr_bytes(struct kafka_wire_wr *w, const void *p, size_t n)
{
        if (n == 0)
                return;
        if (w->cap - w->len < n) {
                size_t cap = w->cap ? w->cap : 64;

                while (cap - w->len < n)
                        cap *= 2;
                w->buf = xrealloc(w->buf, cap);
                w->cap = cap;
        }
        memcpy(w->buf + w->len, p, n);
        w->len += n;
}

void kafka_wire_wr_i8(struct kafka_wire_wr *w, int8_t v)
{
        uint8_t b = (uint8_t)v;

        kafka_wire_wr_bytes(w, &b, 1);
}

void kafka_wire_wr_u16(struct kafka_wire_wr *w, uint16_t v)
{
        uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

        kafka_wire_wr_bytes(w, b, 2);
}

void kafka_wire_wr_i16(struct kafka_wire_wr *w, int16_t v)
{
        kafka_wire_wr_u16(w, (uint16_t)v);
}

void kafka_wire_wr_i32(struct kafka_wire_wr *w, int32_t v)
{
        uint32_t u = (uint32_t)v;
        uint8_t b[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };

        kafka_wire_wr_bytes(w, b, 4);
}

void kafka_wire_wr_i64(struct kafka_wire_wr *w, int64_t v)
{
        uint64_t u = (uint64_t)v;
        uint8_t b[8];

        for (int i = 7; i >= 0; i--) {
                b[i] = (uint8_t)u;
                u >>= 8;
        }
        kafka_wire_wr_bytes(w, b, 8);
}

void kafka_wire_wr_uvarint(struct kafka_wire_wr *w, uint32_t v)
{
        uint8_t b[5];
        size_t n = 0;

        while (v >= 0x80) {
                b[n++] = (uint8_t)(v | 0x80);
                v >>= 7;
        }
        b[n++] = (uint8_t)v;
        kafka_wire_wr_bytes(w, b, n);
}

void kafka_wire_wr_varint(struct kafka_wire_wr *w, int32_t v)
{
        uint32_t u = (uint32_t)v << 1;

        kafka_wire_wr_uvarint(w, v < 0 ? ~u : u);
}

void kafka_wire_wr_uuid(struct kafka_wire_wr *w, const uint8_t v[16])
{
        kafka_wire_wr_bytes(w, v, 16);
}

void kafka_wire_wr_string(struct kafka_wire_wr *w, const char *s, bool compact)
{
        size_t n;

        if (!s) {
                if (compact)
                        kafka_wire_wr_uvarint(w, 0);
                else
                        kafka_wire_wr_i16(w, -1);
                return;
        }
        n = strlen(s);
        assert(n <= INT16_MAX);
        if (compact)
                kafka_wire_wr_uvarint(w, (uint32_t)n + 1);
        else
                kafka_wire_wr_i16(w, (int16_t)n);
        kafka_wire_wr_bytes(w, s, n);
}

void kafka_wire_wr_array_len(struct kafka_wire_wr *w, size_t n, bool compact)
{
        assert(n < INT32_MAX);
        if (compact)
                kafka_wire_wr_uvarint(w, (uint32_t)n + 1);
        else
                kafka_wire_wr_i32(w, (int32_t)n);
}

void kafka_wire_wr_tags_empty(struct kafka_wire_wr *w)
{
        kafka_wire_wr_uvarint(w, 0);
}

size_t kafka_wire_wr_frame_begin(struct kafka_wire_wr *w)
{
        size_t at = w->len;

        kafka_wire_wr_i32(w, 0);
        return at;
}

void kafka_wire_wr_frame_end(struct kafka_wire_wr *w, size_t at)
{
        size_t n = w->len - at - 4;

        assert(at + 4 <= w->len && n <= INT32_MAX);
        w->buf[at] = (uint8_t)(n >> 24);
        w->buf[at + 1] = (uint8_t)(n >> 16);
        w->buf[at + 2] = (uint8_t)(n >> 8);
        w->buf[at + 3] = (uint8_t)n;
}

