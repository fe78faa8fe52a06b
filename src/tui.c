/* tui (STUB: being implemented). */
#include "app.h"

#include <stdio.h>

int tui_run(struct app *a, const char *view)
{
        fprintf(stderr, "lambdaops: the console is not implemented yet\n");
        return 1;
}
