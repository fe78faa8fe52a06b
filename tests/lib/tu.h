/*
 * Test utilities shared by the cmocka suites (tests/lib/tu_*.c). Test-only.
 */
#ifndef LO_TESTS_TU_H
#define LO_TESTS_TU_H

#include <stddef.h>
#include <stdint.h>

/* Absolute path of a file under the source tree (uses $LO_SOURCE_DIR, else
 * the compile-time source dir). Returns a static buffer; copy it. */
const char *tu_src_path(const char *rel);
/* Reads a whole file; owned; NULL on error. *len may be NULL. */
char *tu_read_file(const char *path, size_t *len);

/* Relative times in fixtures (the syntax is in tests/lib/fixture_time.py):
 * {{now}}, {{now-11d3h}}, {{now+90s}}, {{now-5m|FORMAT}} with FORMAT a
 * strftime format in UTC, or s / ms for Unix seconds / milliseconds.
 *
 * tu_fixture_now() is the anchor in Unix seconds: $LO_FIXTURE_NOW when set,
 * else the first call's time, which it then exports as LO_FIXTURE_NOW so
 * that the fixture servers this test starts expand to the same moment.
 * Call it (the server harnesses do) before starting a fixture server. */
int64_t tu_fixture_now(void);
/* text with every token expanded at anchor now_s; owned. */
char *tu_fixture_expand(const char *text, int64_t now_s);
/* tu_read_file + tu_fixture_expand at tu_fixture_now(); owned; NULL on error. */
char *tu_read_fixture(const char *path, size_t *len);

#endif
