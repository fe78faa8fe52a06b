/*
 * Real Prometheus harness (Debian's prometheus 2.42) for the prometheus
 * collector tests: a temp dir, a free loopback port, tu_proc_spawn (own
 * process group, output in DIR/log), stop by process group. Test-only; one
 * server per struct.
 */
#ifndef LO_TESTS_TU_PROM_H
#define LO_TESTS_TU_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct tu_prom {
        char  dir[256];         /* temp dir: prometheus.yml, data/, log */
        char  url[128];         /* "http://127.0.0.1:PORT" */
        int   port;
        pid_t pid;
};

/* True when /usr/bin/prometheus exists (tests skip otherwise; install with
 * apt-get install -y --no-install-recommends prometheus). */
bool tu_prom_available(void);
/* Starts prometheus scraping every second with `scrape_configs` (YAML text
 * of the scrape_configs list, indented two spaces) and waits for /-/ready.
 * Returns 0, or -1 with a message on stderr. */
int tu_prom_start(struct tu_prom *p, const char *scrape_configs);
/* Polls `query` until it returns a non-empty result, or the deadline
 * (monotonic ms) passes. Returns 0 or -1. */
int tu_prom_wait(struct tu_prom *p, const char *query, int64_t deadline_mono);
/* Stops it (TERM, then KILL to its process group after 5 s), waits,
 * removes the temp dir. */
void tu_prom_stop(struct tu_prom *p);

#endif
