/*
 * libFuzzer target: theme documents (theme_parse_string) and style strings
 * (theme_parse_attr). Any input must give a theme and warnings, never a
 * crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/theme.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct theme t;
        struct theme_warnings w;
        struct theme_style st;
        struct err e;
        char *s = xstrndup((const char *)data, size);

        theme_warnings_init(&w);
        theme_parse_string((const char *)data, size, "fuzz.yaml", &t, &w);
        theme_warnings_done(&w);
        theme_parse_attr(s, &st, &e);
        free(s);
        return 0;
}
