/*
 * jsonout: null-aware cJSON adders. See jsonout.h.
 */
#include "core/jsonout.h"
#include "core/util.h"

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

void json_add_time(cJSON *o, const char *k, int64_t ms)
{
        char buf[40];

        if (ms < 0) {
                cJSON_AddNullToObject(o, k);
                return;
        }
        fmt_rfc3339(ms, buf, sizeof buf);
        cJSON_AddStringToObject(o, k, buf);
}
