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

static void check_clean(const unsigned char *p, int flags)
{
        while (*p) {
                unsigned char c = *p;

                if (c < 0x20 && !((flags & TERMSAFE_LINES) && (c == '\n' || c == '\t')))
                        abort();
                if (c == 0x7f || (c >= 0x80 && c < 0xc2) || c > 0xf4)
                        abort();
                if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
                        abort();
                if (c == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
                        abort();
                if (c == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
                        abort();
                p++;
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
