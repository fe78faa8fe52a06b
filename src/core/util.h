/*
 * util: allocation that aborts on OOM, the operational error struct, clocks
 * and human formatting. Thread-safe; any thread may call any function here.
 */
#ifndef LO_SRC_UTIL_H
#define LO_SRC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LO_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Operational error (tier 3): filled by the callee, owned by the caller. */
struct err {
        int  code;      /* 0 = none; otherwise a module-specific code */
        char msg[512];  /* what happened and what to check; never a secret */
};

void err_clear(struct err *e);
/* Formats into e->msg (truncated to fit). NULL e is a no-op. */
void err_set(struct err *e, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Tier 1: abort with a message when memory runs out. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);           /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Clocks in milliseconds. */
int64_t clock_mono_ms(void);            /* CLOCK_MONOTONIC */
int64_t clock_wall_ms(void);            /* CLOCK_REALTIME, Unix epoch */

/* "2026-11-26T14:01:02.123Z" (UTC, milliseconds). buf >= 32 bytes. */
void fmt_rfc3339(int64_t wall_ms, char *buf, size_t n);
/* "0 B", "245.1 KiB", "2.0 GiB"; negative values get a leading '-'. */
void fmt_bytes(double bytes, char *buf, size_t n);
/* "850ms", "12s", "3m04s", "2h05m", "3d04h". */
void fmt_duration_ms(int64_t ms, char *buf, size_t n);
/* The same with "-" for an unknown value: a duration or age in ms < 0, a
 * count < 0, a non-finite number of bytes or seconds. */
void fmt_duration_or_dash(int64_t ms, char *buf, size_t n);
void fmt_seconds_or_dash(double s, char *buf, size_t n);
void fmt_bytes_or_dash(double bytes, char *buf, size_t n);
void fmt_count_or_dash(int64_t v, char *buf, size_t n);
/* fmt_rfc3339, or "-" for a time < 0 (unknown). */
void fmt_rfc3339_or_dash(int64_t wall_ms, char *buf, size_t n);

/* Copies at most n-1 bytes and always terminates (n > 0). */
void str_copy(char *dst, const char *src, size_t n);

/* Levenshtein distance, capped at 64-character inputs (longer: large). */
int str_edit_distance(const char *a, const char *b);

#endif
