/*
 * jsonout: null-aware cJSON adders. See jsonout.h.
 */
#include "core/jsonout.h"
#include "core/util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The code point of the escape-worthy character cJSON leaves raw at p, and
 * its length in *len; 0 for anything else. Outside strings JSON is ASCII
 * without DEL, so these only ever occur inside strings. */
static unsigned json_raw_control(const unsigned char *p, size_t *len)
{
        if (p[0] == 0x7f) {
                *len = 1;
                return 0x7f;
        }
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                *len = 2;
                return p[1];
        }
        if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) {
                *len = 3;
                return 0x2000u + (p[2] & 0x3fu);
        }
        if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9) {
                *len = 3;
                return 0x2040u + (p[2] & 0x3fu);
        }
        return 0;
}

char *json_print_safe(const struct cJSON *doc)
{
        char *raw = cJSON_PrintUnformatted(doc), *out;
        size_t n = 0, len, o = 0;

        if (!raw)
                return NULL;
        for (const unsigned char *p = (const unsigned char *)raw; *p; p += len, n++)
                if (!json_raw_control(p, &len))
                        len = 1;
        out = xmalloc(n * 6 + 1);
        for (const unsigned char *p = (const unsigned char *)raw; *p; p += len) {
                unsigned cp = json_raw_control(p, &len);

                if (cp) {
                        snprintf(out + o, 7, "\\u%04x", cp & 0xffffu);
                        o += 6;
                } else {
                        len = 1;
                        out[o++] = (char)*p;
                }
        }
        out[o] = '\0';
        cJSON_free(raw);
        return out;
}
