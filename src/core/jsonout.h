/*
 * jsonout: the small cJSON helpers every kind's to_json() uses, so that
 * "unknown is null, never 0" is spelled once. Pure; any thread.
 */
#ifndef LO_SRC_JSONOUT_H
#define LO_SRC_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>

struct cJSON;

/* Adds v as a string, or null when v is NULL. */
void json_add_str(struct cJSON *o, const char *k, const char *v);
/* Adds v as a string, or null when v is NULL or empty. */
void json_add_text(struct cJSON *o, const char *k, const char *v);
/* Adds v as a number, or null when !have or v is NaN or infinite. */
void json_add_num(struct cJSON *o, const char *k, bool have, double v);
/* cJSON_PrintUnformatted, with the characters cJSON leaves raw but a
 * terminal obeys -- DEL, C1 (U+0080-U+009F) and the bidirectional overrides
 * -- written as \u escapes too (C0 is escaped by cJSON already). The value
 * is the same JSON; `cat` or `tail` of it cannot drive a terminal. Owned
 * (free it); NULL when cJSON fails. */
char *json_print_safe(const struct cJSON *doc);
/* Adds wall-clock ms as an RFC 3339 string, or null when ms < 0 (unknown). */
void json_add_time(struct cJSON *o, const char *k, int64_t ms);

#endif
