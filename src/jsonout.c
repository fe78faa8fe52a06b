/*
 * jsonout: null-aware cJSON adders. See jsonout.h.
 */
#include "jsonout.h"

#include <cjson/cJSON.h>
#include <math.h>

void json_add_str(cJSON *o, const char *k, const char *v)
{
        if (v)
                cJSON_AddStringToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}

void json_add_text(cJSON *o, const char *k, const char *v)
{
        json_add_str(o, k, v && *v ? v : NULL);
}

void json_add_num(cJSON *o, const char *k, bool have, double v)
{
        if (have && isfinite(v))
                cJSON_AddNumberToObject(o, k, v);
        else
                cJSON_AddNullToObject(o, k);
}
