/*
 * metrics_server: GET /metrics over HTTP with libmicrohttpd (metrics.h).
 *
 * One MHD internal polling thread serves every connection; a scrape
 * renders there. The collectors never wait for it: collector_latest()
 * holds a collector's mutex only to copy a pointer and take a reference,
 * and the render reads immutable snapshots. Limits against a slow or
 * hostile client: METRICS_MAX_CONNECTIONS connections in all, 4 per
 * address, METRICS_CONN_TIMEOUT_S idle seconds, MHD's bounded per-
 * connection memory; requests with a body are refused (405) before it is
 * read. The address is numeric (AI_NUMERICHOST), so start never waits on
 * a name lookup; the default host is loopback: exposing the figures is the
 * operator's choice ("0.0.0.0:9464").
 */
#include "export/metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/collector.h"
#include "core/promtext.h"

struct metrics_server {
        const struct app *app;
        struct MHD_Daemon *d;
        int port;
        atomic_uint_fast64_t scrapes;
};

/* Splits listen into host and port; host "" means the default. */
static int metrics_parse_listen(const char *listen, char *host, size_t hn, char *port,
                                size_t pn, struct err *err)
{
        const char *colon, *p = listen ? listen : "";

        host[0] = '\0';
        if (p[0] == '[') {
                const char *end = strchr(p, ']');

                if (!end || end[1] != ':' || (size_t)(end - p - 1) >= hn)
                        goto bad;
                memcpy(host, p + 1, (size_t)(end - p - 1));
                host[end - p - 1] = '\0';
                p = end + 2;
        } else if ((colon = strrchr(p, ':')) != NULL) {
                if ((size_t)(colon - p) >= hn || memchr(p, ':', (size_t)(colon - p)))
                        goto bad;
                memcpy(host, p, (size_t)(colon - p));
                host[colon - p] = '\0';
                p = colon + 1;
        }
        if (!*p || strlen(p) >= pn || strspn(p, "0123456789") != strlen(p) ||
            strtol(p, NULL, 10) > 65535)
                goto bad;
        snprintf(port, pn, "%s", p);
        return 0;
bad:
        err_set(err, 1, "listen address \"%s\" is not PORT, HOST:PORT or [IPV6]:PORT with a "
                "numeric HOST and a port 0-65535 (for example 127.0.0.1:9464)",
                listen ? listen : "");
        return -1;
}

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned code, const char *body,
                                     const char *ctype, bool owned, const char *allow)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(
                strlen(body), (void *)body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ret;

        if (!r) {
                if (owned)
                        free((void *)body);
                return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        if (allow)
                MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
        ret = MHD_queue_response(c, code, r);
        MHD_destroy_response(r);
        return ret;
}

static char *metrics_server_render(struct metrics_server *m)
{
        const struct app *a = m->app;
        size_t n = a->n_colls;
        struct snapshot **snaps = xcalloc(n ? n : 1, sizeof *snaps);
        char *text;

        for (size_t i = 0; i < n; i++)
                snaps[i] = a->colls[i] ? collector_latest(a->colls[i], NULL) : NULL;
        text = metrics_render((const struct snapshot *const *)snaps, a->cfg->sources, n,
                              clock_mono_ms(), NULL, NULL);
        for (size_t i = 0; i < n; i++)
                snapshot_unref(snaps[i]);
        free(snaps);
        return text;
}

static enum MHD_Result metrics_handler(void *cls, struct MHD_Connection *c, const char *url,
                                       const char *method, const char *version,
                                       const char *upload, size_t *upload_size, void **con_cls)
{
        struct metrics_server *m = cls;
        bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
        bool head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

        (void)version;
        (void)upload;
        (void)upload_size;
        (void)con_cls;
        if (!get && !head)
                return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                     "only GET and HEAD are served here\n",
                                     "text/plain; charset=utf-8", false, "GET, HEAD");
        if (strcmp(url, "/metrics") != 0)
                return metrics_reply(c, MHD_HTTP_NOT_FOUND,
                                     "not found: lambdaops serves /metrics\n",
                                     "text/plain; charset=utf-8", false, NULL);
        atomic_fetch_add(&m->scrapes, 1);
        return metrics_reply(c, MHD_HTTP_OK, metrics_server_render(m), PROMTEXT_CONTENT_TYPE,
                             true, NULL);
}

/* MHD's own messages (a client that went away...) are not ours to print:
 * the console owns the terminal and watch logs in its own format. */
static void metrics_mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void)cls;
        (void)fmt;
        (void)ap;
}

int metrics_server_start(const struct app *a, const char *listen, struct metrics_server **out,
                         struct err *err)
{
        char host[64], port[8];
        struct addrinfo hints = { 0 }, *ai = NULL;
        struct metrics_server *m;
        const union MHD_DaemonInfo *info;
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;
        int rc;

        *out = NULL;
        if (metrics_parse_listen(listen, host, sizeof host, port, sizeof port, err) < 0)
                return -1;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
        rc = getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &ai);
        if (rc != 0 || !ai) {
                err_set(err, 1, "listen address \"%s\": %s (the host must be a numeric IPv4 "
                        "or IPv6 address)", listen, gai_strerror(rc));
                return -1;
        }
        if (ai->ai_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        m = xcalloc(1, sizeof *m);
        m->app = a;
        m->d = MHD_start_daemon(flags, 0, NULL, NULL, metrics_handler, m,
                                MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONNECTIONS,
                                MHD_OPTION_PER_IP_CONNECTION_LIMIT, 4U,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_CONN_TIMEOUT_S,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                                MHD_OPTION_EXTERNAL_LOGGER, metrics_mhd_log, NULL,
                                MHD_OPTION_END);
        freeaddrinfo(ai);
        if (!m->d) {
                err_set(err, 1, "could not listen on %s (is the port in use, or the address "
                        "not one of this host's?)", listen);
                free(m);
                return -1;
        }
        info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
        m->port = info ? (int)info->port : 0;
        *out = m;
        return 0;
}

int metrics_server_port(const struct metrics_server *m)
{
        return m->port;
}

uint64_t metrics_server_scrapes(const struct metrics_server *m)
{
        return atomic_load(&((struct metrics_server *)m)->scrapes);
}

void metrics_server_stop(struct metrics_server *m)
{
        if (!m)
                return;
        MHD_stop_daemon(m->d);
        free(m);
}
