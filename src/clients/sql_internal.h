/*
 * sql_internal: what the parts of the sql module (sql.c, sql_json.c)
 * share and nobody else uses.
 */
#ifndef LO_CLIENTS_SQL_INTERNAL_H
#define LO_CLIENTS_SQL_INTERNAL_H

#include <stddef.h>

#include "clients/sql.h"

/* Next element of an array or member of an object (key set for objects):
 * 1 with *elem (and *key), 0 at the end, -1 with err on malformed JSON. */
int sql_json_iter(const struct sql_jval *v, size_t *pos, struct sql_jval *key,
                  struct sql_jval *elem, struct err *err);
/* Decodes the string token [p, p+n) (with quotes), appending to *buf
 * (*len used, *cap allocated). 0, or -1 on a bad escape. */
int sql_unescape(const char *p, size_t n, char **buf, size_t *len, size_t *cap);

#endif
