/*
 * jsonparse: why a JSON text did not parse. cJSON refuses a document
 * nested deeper than CJSON_NESTING_LIMIT (1000) levels with the same NULL
 * as a truncated or garbled one, so a parse site's "not JSON (truncated?)"
 * would name the wrong cause for a hostile or broken server. Pure; any
 * thread (cJSON_GetErrorPtr is a global and cannot be used from collector
 * threads).
 */
#ifndef LO_SRC_JSONPARSE_H
#define LO_SRC_JSONPARSE_H

#include <stdbool.h>
#include <stddef.h>

/* True when the text nests arrays and objects (outside strings) deeper
 * than cJSON accepts. */
bool json_too_deep(const char *s, size_t len);
/* After cJSON_ParseWithLength(s, len) returned NULL: "JSON nested deeper
 * than 1000 levels" when that is why, else `otherwise` (the site's own
 * words). */
const char *json_parse_why(const char *s, size_t len, const char *otherwise);

#endif
