/*
 * Fixture HTTP server harness. Spawns python3 tests/lib/fixture_httpd.py with
 * tu_proc_spawn (no shell, its own process group, output in DIR/server.log),
 * waits for its port file with a deadline, and stops it by its process group
 * (tu_proc.h: also when a test fails or dies). Test-only.
 */
#include "tu_http.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tu.h"
#include "core/util.h"
#include "tu_proc.h"

extern char **environ;

static int tu_http_write(const char *path, const char *text)
{
        char tmp[512];
        FILE *f;

        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "w");
        if (!f)
                return -1;
        fputs(text, f);
        fclose(f);
        return rename(tmp, path);
}

static int tu_http_run(char *const argv[])
{
        pid_t pid;
        int st;

        if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
                return -1;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int tu_httpd_start(struct tu_httpd *h, const char *routes_json, bool tls)
{
        char portfile[300], script[512], cert[300], key[300], srvlog[300];
        int64_t deadline;

        tu_fixture_now();       /* the server expands fixtures at this test's anchor */
        memset(h, 0, sizeof *h);
        snprintf(h->dir, sizeof h->dir, "/tmp/lo-httpd.XXXXXX");
        if (!mkdtemp(h->dir)) {
                h->dir[0] = '\0';
                return -1;
        }
        tu_proc_track_dir(h->dir);
        snprintf(h->routes, sizeof h->routes, "%s/routes.json", h->dir);
        snprintf(h->log, sizeof h->log, "%s/requests.log", h->dir);
        snprintf(portfile, sizeof portfile, "%s/port", h->dir);
        snprintf(cert, sizeof cert, "%s/cert.pem", h->dir);
        snprintf(key, sizeof key, "%s/key.pem", h->dir);
        snprintf(srvlog, sizeof srvlog, "%s/server.log", h->dir);
        snprintf(script, sizeof script, "%s", tu_src_path("tests/lib/fixture_httpd.py"));
        if (tu_http_write(h->routes, routes_json) != 0 || tu_http_write(h->log, "") != 0)
                return -1;
        if (tls) {
                char *const gen[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert, NULL };
                if (tu_http_run(gen) != 0) {
                        fprintf(stderr, "tu_httpd: openssl req failed\n");
                        return -1;
                }
                const char *argv[] = { "python3", script, "--routes", h->routes, "--log", h->log,
                        "--port-file", portfile, "--cert", cert, "--key", key, NULL };
                h->pid = tu_proc_spawn(argv, srvlog, true);
        } else {
                const char *argv[] = { "python3", script, "--routes", h->routes, "--log", h->log,
                        "--port-file", portfile, NULL };
                h->pid = tu_proc_spawn(argv, srvlog, true);
        }
        if (h->pid < 0) {
                h->pid = 0;
                tu_httpd_stop(h);
                return -1;
        }
        deadline = clock_mono_ms() + 10000;
        while (clock_mono_ms() < deadline) {
                char *p = tu_read_file(portfile, NULL);
                if (p) {
                        h->port = atoi(p);
                        free(p);
                        snprintf(h->base_url, sizeof h->base_url, "%s://127.0.0.1:%d",
                                 tls ? "https" : "http", h->port);
                        tu_proc_fault("httpd", h->pid, h->dir);
                        return 0;
                }
                if (waitpid(h->pid, NULL, WNOHANG) == h->pid) {
                        kill(-h->pid, SIGKILL);
                        tu_proc_forget(h->pid);
                        h->pid = 0;
                        break;
                }
                usleep(10 * 1000);      /* polling for the port file, bounded by deadline */
        }
        fprintf(stderr, "tu_httpd: server did not start\n");
        tu_httpd_stop(h);
        return -1;
}

int tu_httpd_set_routes(struct tu_httpd *h, const char *routes_json)
{
        return tu_http_write(h->routes, routes_json);
}

char *tu_httpd_requests(struct tu_httpd *h)
{
        return tu_read_file(h->log, NULL);
}

void tu_httpd_stop(struct tu_httpd *h)
{
        if (h->pid > 0) {
                tu_proc_stop(h->pid, SIGTERM, 5000);
                h->pid = 0;
        }
        if (h->dir[0]) {
                tu_proc_remove_dir(h->dir);
                h->dir[0] = '\0';
        }
}
