/*
 * fsdir: directories on the local file system (see fsdir.h).
 */
#include "core/fsdir.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/util.h"

int fsdir_make_parents(const char *path, mode_t mode, char **failed)
{
        char *d = xstrdup(path);

        *failed = NULL;
        for (char *q = d + 1; *q; q++) {
                if (*q != '/')
                        continue;
                *q = '\0';
                if (mkdir(d, mode) != 0 && errno != EEXIST) {
                        int e = errno;

                        *failed = d;
                        errno = e;
                        return -1;
                }
                *q = '/';
        }
        free(d);
        return 0;
}
