/*
 * tu_promtool: runs the real `promtool check metrics` (Debian's
 * prometheus package) on an exposition text, for the tests of the
 * /metrics writer and server. Test-only.
 */
#ifndef LO_TESTS_TU_PROMTOOL_H
#define LO_TESTS_TU_PROMTOOL_H

#include <stdbool.h>
#include <stddef.h>

/* True when /usr/bin/promtool exists (tests skip otherwise). */
bool tu_promtool_available(void);
/* Feeds text to `promtool check metrics` on its stdin (a temp file; argv,
 * no shell; 30 s deadline). Returns its exit status (0: valid and lint-
 * clean), or -1 when it could not run; its output (stdout and stderr) goes
 * to out (n bytes, NUL-terminated). */
int tu_promtool_check(const char *text, char *out, size_t n);

/* Compares an exposition text with the fixture file rel (a path under the
 * source tree, e.g. "tests/fixtures/postgres/metrics_pg15.prom"); on a
 * difference fails the cmocka test, naming the first differing line and
 * leaving the text in /tmp/lo-metrics-got.XXXXXX for a diff. Then runs
 * promtool check metrics on it when promtool is installed: every fixture
 * is valid and lint-clean. */
void tu_metrics_expect(const char *got, const char *rel);

#endif
