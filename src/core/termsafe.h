/*
 * termsafe: the one step every string from a server or a config passes
 * before it is written to a terminal (status text, act output, the pager,
 * error messages, the TUI's cells). Control characters are shown escaped,
 * never written raw: C0 and DEL as \xNN (ESC is \x1b), C1 (U+0080-U+009F)
 * and the bidirectional overrides (U+202A-U+202E, U+2066-U+2069) as \uNNNN,
 * and bytes that are not UTF-8 as \xNN. Printable UTF-8 passes unchanged.
 * JSON output does not use this: JSON escapes the real value itself.
 * Pure and thread-safe.
 */
#ifndef LO_SRC_TERMSAFE_H
#define LO_SRC_TERMSAFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
        TERMSAFE_LINE  = 0,        /* one line: \n and \t are escaped too */
        TERMSAFE_LINES = 1 << 0,   /* text: \n and \t pass (the pager, messages) */
};

/* True when s (NULL is fine) would be changed by termsafe_*. */
bool termsafe_needed(const char *s, int flags);
/* Escaped copy of s into buf (n > 0 bytes, always terminated; an escape is
 * never cut in half). Returns the length the whole result needs (without
 * the NUL), like snprintf. NULL s gives "". */
size_t termsafe_copy(const char *s, int flags, char *buf, size_t n);
/* Escaped copy, owned. NULL s gives NULL. */
char *termsafe_dup(const char *s, int flags);
/* Writes s escaped to f. */
void termsafe_fputs(const char *s, int flags, FILE *f);
/* printf to f with the result escaped (TERMSAFE_LINES): for messages that
 * quote config or server text. */
void termsafe_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
