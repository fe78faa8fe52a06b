/*
 * Fixture HTTP server harness (tests/lib/fixture_httpd.py) for REST collector
 * tests. Test-only; one server per struct.
 */
#ifndef LO_TESTS_TU_HTTP_H
#define LO_TESTS_TU_HTTP_H

#include <stdbool.h>
#include <sys/types.h>

struct tu_httpd {
        char  dir[256];         /* temp dir holding routes.json, requests.log, certs */
        char  routes[300];
        char  log[300];
        char  base_url[128];    /* "http://127.0.0.1:PORT" or https */
        int   port;
        pid_t pid;
};

/* Starts the server with routes_json as the routes file (tls: https with a
 * fresh self-signed certificate for 127.0.0.1, written to DIR/cert.pem).
 * Returns 0, or -1 with a message on stderr. */
int tu_httpd_start(struct tu_httpd *h, const char *routes_json, bool tls);
/* Replaces the routes atomically (effective on the next request). */
int tu_httpd_set_routes(struct tu_httpd *h, const char *routes_json);
/* The request log (JSON lines); owned string. */
char *tu_httpd_requests(struct tu_httpd *h);
/* Stops it (SIGTERM, SIGKILL to its process group after 5 s), waits for
 * it, removes the temp dir. */
void tu_httpd_stop(struct tu_httpd *h);

#endif
