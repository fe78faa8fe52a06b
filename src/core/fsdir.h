/*
 * fsdir: directories on the local file system, for the files lambdaops
 * writes itself (the audit log, the bring-up progress file).
 */
#ifndef LO_CORE_FSDIR_H
#define LO_CORE_FSDIR_H

#include <sys/types.h>

/* mkdir -p of the directories above path's last component, new levels
 * with `mode` (existing ones are left as they are). Returns 0, or -1 with
 * errno set and *failed (owned; the caller frees it) naming the directory
 * that could not be made. Any thread. */
int fsdir_make_parents(const char *path, mode_t mode, char **failed);

#endif
