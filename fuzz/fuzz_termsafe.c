/*
 * libFuzzer target: termsafe. For any input, the escaped text holds no
 * control character (C0, DEL, C1), no bidirectional override and no byte
 * that is not UTF-8; the three entry points agree; a cut copy is a prefix.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/termsafe.h"
#include "core/util.h"

/* Aborts unless p is valid UTF-8 without the characters termsafe escapes. */
static void check_clean(const unsigned char *p, int flags)
{
        while (*p) {
                unsigned char c = *p;
                uint32_t cp;
                int len, i;

                if (c < 0x80) {
                        if (c < 0x20 && !((flags & TERMSAFE_LINES) && (c == '\n' || c == '\t')))
                                abort();
                        if (c == 0x7f)
                                abort();
                        p++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        len = 2, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        len = 3, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        len = 4, cp = c & 0x07;
                else
                        abort();
                for (i = 1; i < len; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                abort();
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
                    (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0xd800 && cp <= 0xdfff) ||
                    cp > 0x10ffff || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
                        abort();
                p += len;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *)data, size), small[16];

        for (int flags = 0; flags <= TERMSAFE_LINES; flags++) {
                char *d = termsafe_dup(s, flags);
                size_t need = termsafe_copy(s, flags, small, sizeof small);

                if (strlen(d) != need)
                        abort();
                check_clean((const unsigned char *)d, flags);
                if (strncmp(d, small, strlen(small)) != 0)
                        abort();
                if (!termsafe_needed(s, flags) && strcmp(d, s) != 0)
                        abort();
                free(d);
        }
        free(s);
        return 0;
}
