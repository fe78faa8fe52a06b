/*
 * secret: see secret.h.
 */
#include "core/secret.h"

#include <stdlib.h>
#include <string.h>

void secret_free(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}
