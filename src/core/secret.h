/*
 * secret: the life of a secret in memory (a password, a token, a header
 * carrying a key) once config_secret_resolve() or a login has produced it.
 */
#ifndef LO_SRC_SECRET_H
#define LO_SRC_SECRET_H

/* Overwrites the NUL-terminated secret s with zeros and frees it. NULL-safe. */
void secret_free(char *s);

#endif
