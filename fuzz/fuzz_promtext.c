/*
 * libFuzzer target: promtext's label escaping. For any input (cut at its
 * first NUL, as a C string label value is): the written sample line is
 * valid UTF-8; inside the quotes every backslash starts one of \\ \" \n and
 * no double quote or newline is bare; unescaping gives the input back
 * exactly when the input is valid UTF-8 (else with U+FFFD for the bad
 * bytes, so never longer than 3 bytes per input byte); and the line ends
 * with the value. The HELP text, from the same input, is one line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/promtext.h"
#include "core/util.h"

static size_t utf8_len(const unsigned char *s)
{
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                return (s[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
                unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;

                return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
        }
        if (c >= 0xF0 && c <= 0xF4) {
                unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;

                return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 &&
                       (s[3] & 0xC0) == 0x80 ? 4 : 0;
        }
        return 0;
}

static int valid_utf8(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                size_t n = utf8_len(p);

                if (!n)
                        return 0;
                p += n;
        }
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *in = xstrndup((const char *)data, size);
        struct promtext *p = promtext_new();
        const char *prefix = "# HELP lambdaops_f ";
        char *text, *q, *un, *line;
        size_t n = 0, in_len = strlen(in);

        promtext_declare(p, "lambdaops_f", PROMTEXT_GAUGE, in);
        promtext_add(p, "lambdaops_f", 1.5, "v", in, NULL);
        if (promtext_errors(p) != 0)
                abort();
        text = promtext_finish(p, NULL);
        if (!valid_utf8(text))
                abort();
        /* Line 1: HELP (one line), 2: TYPE, 3: the sample. */
        if (in_len && strncmp(text, prefix, strlen(prefix)) != 0)
                abort();
        line = strchr(text, '\n');
        if (!line || strncmp(line + 1, "# TYPE lambdaops_f gauge\n", 25) != 0)
                abort();
        line += 1 + 25;
        if (strncmp(line, "lambdaops_f{v=\"", 15) != 0)
                abort();
        q = line + 15;
        un = xmalloc(strlen(q) + 1);
        for (;;) {
                if (*q == '\0' || *q == '\n')
                        abort();
                if (*q == '"')
                        break;
                if (*q == '\\') {
                        if (q[1] == '\\' || q[1] == '"')
                                un[n++] = q[1];
                        else if (q[1] == 'n')
                                un[n++] = '\n';
                        else
                                abort();
                        q += 2;
                        continue;
                }
                un[n++] = *q++;
        }
        un[n] = '\0';
        if (strcmp(q, "\"} 1.5\n") != 0)
                abort();
        if (valid_utf8(in) ? strcmp(un, in) != 0 : n > 3 * in_len)
                abort();
        free(un);
        free(text);
        promtext_free(p);
        free(in);
        return 0;
}
