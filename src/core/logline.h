/*
 * logline: one structured log line, as logfmt or as a JSON object, for
 * `lambdaops watch` (and whatever else logs to a journal). The caller adds
 * fields in order; the line always starts with ts, level and msg.
 *
 * Safe for a terminal and a journal: no raw control character ever leaves.
 * logfmt values go through termsafe (TERMSAFE_LINE: C0, DEL, C1, bidi
 * overrides and bytes that are not UTF-8 become \xNN / \uNNNN text), then
 * are quoted ("...", with \" and \\) when they are empty or hold a space,
 * '=', '"' or '\'. JSON values are the real text (bytes that are not UTF-8
 * become U+FFFD), escaped by cJSON, with DEL, C1 and the bidi overrides
 * also written as \uNNNN escapes (the same value, nothing raw). Keys are
 * the caller's constants. Nothing here redacts: callers pass texts that
 * are already redacted (src/core/redact.h). Pure and thread-safe.
 */
#ifndef LO_SRC_LOGLINE_H
#define LO_SRC_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

enum log_format { LOG_LOGFMT = 0, LOG_JSON };

struct logline {
        enum log_format fmt;
        char   *buf;            /* logfmt: the line so far (owned) */
        size_t  n, cap;
        struct cJSON *obj;      /* JSON: the object so far (owned) */
};

/* Parses "logfmt" or "json"; -1 for anything else. */
int log_format_parse(const char *s, enum log_format *out);

/* Starts a line: ts (RFC 3339 UTC with milliseconds of wall_ms), level
 * ("info", "warn", "error"), msg. */
void logline_begin(struct logline *l, enum log_format fmt, int64_t wall_ms, const char *level,
                   const char *msg);
/* A string field; NULL is skipped. */
void logline_str(struct logline *l, const char *key, const char *val);
/* A number (shortest exact form, %.17g trimmed: 15, 0.5, 1e+21); NAN and
 * infinities are skipped. */
void logline_num(struct logline *l, const char *key, double v);
void logline_int(struct logline *l, const char *key, int64_t v);
void logline_bool(struct logline *l, const char *key, bool v);
/* Ends the line: owned text with a trailing newline; l is reset. */
char *logline_end(struct logline *l);

#endif
