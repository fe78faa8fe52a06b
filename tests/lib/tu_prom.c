/*
 * Real Prometheus harness. Spawns /usr/bin/prometheus with tu_proc_spawn (no
 * shell, its own process group, output in DIR/log) on a free 127.0.0.1 port
 * with its TSDB in a temp dir, waits for /-/ready and for query results
 * through the project's own HTTP client, each against a deadline, and stops
 * it by its process group (tu_proc.h: also when a test fails or dies).
 * Test-only.
 */
#include "tu_prom.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "clients/http.h"
#include "core/util.h"
#include "tu_proc.h"

#define TU_PROM_BIN "/usr/bin/prometheus"

bool tu_prom_available(void)
{
        return access(TU_PROM_BIN, X_OK) == 0;
}

static int tu_prom_free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t l = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &l) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

/* application/x-www-form-urlencoded value. Owned. */
static char *tu_prom_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        char *o = xmalloc(strlen(s) * 3 + 1), *q = o;

        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;

                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_') {
                        *q++ = (char)ch;
                } else {
                        *q++ = '%';
                        *q++ = hex[ch >> 4];
                        *q++ = hex[ch & 15];
                }
        }
        *q = '\0';
        return o;
}

static void tu_prom_nap(void)
{
        struct timespec ts = { 0, 100 * 1000000L };

        nanosleep(&ts, NULL);
}

/* GET url; returns the owned body of a 200, else NULL. */
static char *tu_prom_get(const char *url)
{
        struct http_client *c = http_client_new(NULL);
        struct http_request rq = { .url = url };
        struct http_response r;
        struct coll_ctx ctx = { .stop_fd = -1 };
        struct err err;
        char *body = NULL;

        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = 2000;
        ctx.deadline_mono = ctx.now_mono + 2000;
        if (http_do(c, &ctx, &rq, &r, &err) == 0 && r.status == 200) {
                body = r.body;
                r.body = NULL;
        }
        http_response_done(&r);
        http_client_free(c);
        return body;
}

int tu_prom_start(struct tu_prom *p, const char *scrape_configs)
{
        char cfg[300], data[300], log[300], a1[340], a2[340], a3[64];
        const char *argv[] = { TU_PROM_BIN, a1, a2, a3, "--log.level=warn", NULL };
        int64_t deadline;
        FILE *f;

        memset(p, 0, sizeof *p);
        snprintf(p->dir, sizeof p->dir, "/tmp/lo-prom.XXXXXX");
        if (!mkdtemp(p->dir)) {
                p->dir[0] = '\0';
                return -1;
        }
        tu_proc_track_dir(p->dir);
        snprintf(cfg, sizeof cfg, "%s/prometheus.yml", p->dir);
        snprintf(data, sizeof data, "%s/data", p->dir);
        snprintf(log, sizeof log, "%s/log", p->dir);
        f = fopen(cfg, "w");
        if (!f)
                return -1;
        fprintf(f, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n%s", scrape_configs);
        fclose(f);
        p->port = tu_prom_free_port();
        snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
        snprintf(a1, sizeof a1, "--config.file=%s", cfg);
        snprintf(a2, sizeof a2, "--storage.tsdb.path=%s", data);
        snprintf(a3, sizeof a3, "--web.listen-address=127.0.0.1:%d", p->port);
        p->pid = tu_proc_spawn(argv, log, false);
        if (p->pid < 0) {
                fprintf(stderr, "tu_prom: cannot spawn %s\n", TU_PROM_BIN);
                p->pid = 0;
                return -1;
        }
        deadline = clock_mono_ms() + 20000;
        for (;;) {
                char *u = xasprintf("%s/-/ready", p->url), *b = tu_prom_get(u);

                free(u);
                if (b) {
                        free(b);
                        tu_proc_fault("prom", p->pid, p->dir);
                        return 0;
                }
                if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
                        kill(-p->pid, SIGKILL);
                        tu_proc_forget(p->pid);
                        p->pid = 0;
                        fprintf(stderr, "tu_prom: prometheus exited (see %s)\n", log);
                        return -1;
                }
                if (clock_mono_ms() > deadline) {
                        fprintf(stderr, "tu_prom: prometheus not ready (see %s)\n", log);
                        return -1;
                }
                tu_prom_nap();
        }
}

int tu_prom_wait(struct tu_prom *p, const char *query, int64_t deadline_mono)
{
        struct http_client *c = http_client_new(NULL);
        int rc = -1;

        while (clock_mono_ms() < deadline_mono) {
                struct http_request rq = { .method = "POST", .url = NULL,
                                           .content_type = "application/x-www-form-urlencoded" };
                struct http_response r;
                struct coll_ctx ctx = { .stop_fd = -1 };
                struct err err;
                char *url = xasprintf("%s/api/v1/query", p->url), *esc, *form;
                cJSON *root, *res;

                esc = tu_prom_escape(query);
                form = xasprintf("query=%s", esc);
                free(esc);
                rq.url = url;
                rq.body = form;
                ctx.now_mono = clock_mono_ms();
                ctx.timeout_ms = 2000;
                ctx.deadline_mono = ctx.now_mono + 2000;
                if (http_do(c, &ctx, &rq, &r, &err) == 0 && r.status == 200) {
                        root = cJSON_ParseWithLength(r.body, r.len);
                        res = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "data"), "result");
                        if (cJSON_GetArraySize(res) > 0)
                                rc = 0;
                        cJSON_Delete(root);
                }
                http_response_done(&r);
                free(url);
                free(form);
                if (rc == 0)
                        break;
                tu_prom_nap();
        }
        http_client_free(c);
        return rc;
}

void tu_prom_stop(struct tu_prom *p)
{
        if (p->pid > 0) {
                tu_proc_stop(p->pid, SIGTERM, 5000);
                p->pid = 0;
        }
        if (p->dir[0]) {
                tu_proc_remove_dir(p->dir);
                p->dir[0] = '\0';
        }
}
