/*
 * Test utilities shared by the cmocka suites (tests/tu_*.c). Test-only.
 */
#ifndef LO_TESTS_TU_H
#define LO_TESTS_TU_H

#include <stddef.h>

/* Absolute path of a file under the source tree (uses $LO_SOURCE_DIR, else
 * the compile-time source dir). Returns a static buffer; copy it. */
const char *tu_src_path(const char *rel);
/* Reads a whole file; owned; NULL on error. *len may be NULL. */
char *tu_read_file(const char *path, size_t *len);

#endif
