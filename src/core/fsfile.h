/*
 * fsfile: the one way lambdaops reads a file it was pointed at (the config,
 * a secret, a theme, a plan, a token file). Only a regular file is read: a
 * FIFO, a device or a directory is refused with a clear error instead of
 * blocking, the file is opened non-blocking and read with a size limit.
 *
 * A stalled network mount can still block open(2) itself; fsfile_read_within
 * reads on a detached thread and gives up at a deadline, so the caller (a
 * collector thread that shutdown waits for) never blocks longer than that.
 * Thread-safe.
 */
#ifndef LO_SRC_FSFILE_H
#define LO_SRC_FSFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* The whole file at path (owned, NUL-terminated; it may hold NULs inside,
 * *len says how many bytes) or NULL with err naming `what` ("config file",
 * "secret file") and the path: not a regular file, larger than max bytes,
 * or the system's error. len may be NULL. */
char *fsfile_read(const char *path, size_t max, const char *what, size_t *len, struct err *err);

/* fsfile_read on a detached thread, waiting at most timeout_ms for it. On
 * time out: NULL, err says the file did not answer (a stalled mount), and
 * the reader frees whatever it reads later. secret: the bytes are wiped
 * before they are freed (in every buffer this module owned). */
char *fsfile_read_within(const char *path, size_t max, const char *what, int timeout_ms,
                         bool secret, size_t *len, struct err *err);

/* Tests only: each read sleeps this long first (a stalled mount). */
extern int fsfile_test_stall_ms;

#endif
