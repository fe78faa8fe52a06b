/*
 * libFuzzer target: redact. The input's first line is the password, the
 * second the token, the rest the server's text; after redaction neither
 * secret (3 bytes or longer) is left in the text, which stays terminated
 * within its buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *s = xstrndup((const char *)data, size), *pw, *tok, *text, *nl, *d;
        size_t n;

        pw = s;
        nl = strchr(pw, '\n');
        if (!nl)
                goto out;
        *nl = '\0';
        tok = nl + 1;
        nl = strchr(tok, '\n');
        if (!nl)
                goto out;
        *nl = '\0';
        text = nl + 1;
        {
                const struct redact_keys k = { .user = "lo", .password = pw, .token = tok };

                n = strlen(text) + 8;
                d = xmalloc(n);
                memcpy(d, text, strlen(text) + 1);
                redact_text(d, n, &k);
                if (strlen(d) >= n)
                        abort();
                /* A secret may be rebuilt from the mask and what is around it
                 * ("**" + "*" ...); only secrets without '*' must be gone. */
                if (strlen(pw) >= 3 && !strchr(pw, '*') && strstr(d, pw))
                        abort();
                if (strlen(tok) >= 3 && !strchr(tok, '*') && strstr(d, tok))
                        abort();
                free(d);
                free(redact_dup(text, &k));
        }
out:
        free(s);
        return 0;
}
