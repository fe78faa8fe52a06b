/*
 * jsonout: the small cJSON helpers every kind's to_json() uses, so that
 * "unknown is null, never 0" is spelled once. Pure; any thread.
 */
#ifndef LO_SRC_JSONOUT_H
#define LO_SRC_JSONOUT_H

#include <stdbool.h>

struct cJSON;

/* Adds v as a string, or null when v is NULL. */
void json_add_str(struct cJSON *o, const char *k, const char *v);
/* Adds v as a string, or null when v is NULL or empty. */
void json_add_text(struct cJSON *o, const char *k, const char *v);
/* Adds v as a number, or null when !have or v is NaN or infinite. */
void json_add_num(struct cJSON *o, const char *k, bool have, double v);

#endif
