/*
 * libFuzzer target: http_path_segment. Any name is refused (empty, ".",
 * "..", too long) or encoded into unreserved bytes and %XX only, which
 * decode back to the name; "." and ".." never come out.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/http.h"
#include "core/util.h"

static int hexval(char c)
{
        return isdigit((unsigned char)c) ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *)data, size), *seg, *dec, *q;
        struct err e;

        seg = http_path_segment(s, "connector", &e);
        if (!seg) {
                if (*s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && strlen(s) <= 1024)
                        abort();
                free(s);
                return 0;
        }
        if (strcmp(seg, ".") == 0 || strcmp(seg, "..") == 0 || !*seg)
                abort();
        dec = xmalloc(strlen(seg) + 1);
        q = dec;
        for (const char *p = seg; *p; p++) {
                if (*p == '%') {
                        int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

                        if (lo < 0)
                                abort();
                        *q++ = (char)(hi * 16 + lo);
                        p += 2;
                } else if (isalnum((unsigned char)*p) || strchr("-._~", *p)) {
                        *q++ = *p;
                } else {
                        abort();
                }
        }
        *q = '\0';
        if (strcmp(dec, s) != 0)
                abort();
        free(dec);
        free(seg);
        free(s);
        return 0;
}
