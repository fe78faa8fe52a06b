/*
 * jsonparse: the cause of a failed cJSON parse (jsonparse.h).
 */
#include "core/jsonparse.h"

#include <cjson/cJSON.h>

#define JSONPARSE_STR2(x) #x
#define JSONPARSE_STR(x) JSONPARSE_STR2(x)

bool json_too_deep(const char *s, size_t len)
{
        size_t depth = 0;
        bool in_str = false;

        for (size_t i = 0; s && i < len; i++) {
                char c = s[i];

                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"') {
                        in_str = true;
                } else if (c == '[' || c == '{') {
                        /* cJSON fails on entering level LIMIT + 1. */
                        if (++depth > CJSON_NESTING_LIMIT)
                                return true;
                } else if ((c == ']' || c == '}') && depth > 0) {
                        depth--;
                }
        }
        return false;
}

const char *json_parse_why(const char *s, size_t len, const char *otherwise)
{
        if (json_too_deep(s, len))
                return "JSON nested deeper than " JSONPARSE_STR(CJSON_NESTING_LIMIT) " levels";
        return otherwise;
}
