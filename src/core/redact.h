/*
 * redact: the one step every error text that came from a server passes
 * before it is stored (a snapshot, the audit log, a message on screen).
 *
 * A server, or a proxy in front of it, may quote the request back: the
 * password, the token, or the Authorization header with the Basic form
 * base64("user:password"). redact_secrets replaces each of the source's own
 * secrets, and those base64 forms, by "***" wherever they appear.
 * redact_patterns masks credentials by shape where the value is not known
 * (a Bearer or Basic credential, an X-...-Key or Authorization
 * header, password=... in a connection string, PASSWORD '...' in SQL).
 * Pure and thread-safe; never grows the text beyond its buffer.
 */
#ifndef LO_SRC_REDACT_H
#define LO_SRC_REDACT_H

#include <stddef.h>

/* The secrets of one source; any member may be NULL or empty. */
struct redact_keys {
        const char *user;       /* with password: the Basic form */
        const char *password;
        const char *token;
        const char *extra;      /* any other secret (a key passphrase, a DSN password) */
};

/* In the NUL-terminated text in buf (capacity n): every occurrence of each
 * secret of k, of base64(user ":" password), base64(password) and
 * base64(token), becomes "***". Secrets shorter than 3 bytes are masked
 * only as the whole text (a one-letter password would mask every letter). */
void redact_secrets(char *buf, size_t n, const struct redact_keys *k);
/* Credentials by shape (see above), in place. */
void redact_patterns(char *buf, size_t n);
/* Both. k may be NULL. */
void redact_text(char *buf, size_t n, const struct redact_keys *k);
/* redact_text on an owned heap string (reallocated when needed). */
char *redact_dup(const char *s, const struct redact_keys *k);

#endif
