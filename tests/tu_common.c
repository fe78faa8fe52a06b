/*
 * Common test helpers. See tu.h.
 */
#include "tu.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

const char *tu_src_path(const char *rel)
{
        static char buf[4096];
        const char *root = getenv("LO_SOURCE_DIR");

        if (!root || !*root)
                root = LO_SOURCE_DIR;
        snprintf(buf, sizeof buf, "%s/%s", root, rel);
        return buf;
}

char *tu_read_file(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        size_t n = 0, cap = 0, r;

        if (!f)
                return NULL;
        do {
                if (cap - n < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        buf = xrealloc(buf, cap + 1);
                }
                r = fread(buf + n, 1, cap - n, f);
                n += r;
        } while (r > 0);
        fclose(f);
        buf[n] = '\0';
        if (len)
                *len = n;
        return buf;
}
