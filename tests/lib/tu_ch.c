/*
 * tu_ch: throwaway ClickHouse 18.16 for integration tests. See tu_ch.h.
 */
#include "tu_ch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/collector.h"
#include "clients/http.h"
#include "tu_pg.h"
#include "core/util.h"
#include "tu_proc.h"

#define TU_CH_SERVER  "/usr/sbin/clickhouse-server"
#define TU_CH_SETPRIV "/usr/bin/setpriv"

static void tu_ch_sleep_ms(int ms)
{
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
}

static int tu_ch_free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(fd, (struct sockaddr *)&a, &len) == 0)
                port = ntohs(a.sin_port);
        if (fd >= 0)
                close(fd);
        return port;
}

static int tu_ch_write(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f)
                return -1;
        fputs(text, f);
        fclose(f);
        chmod(path, 0644);
        return 0;
}

static int tu_ch_write_config(struct tu_ch *ch)
{
        char users[400];
        char *xml;
        int rc;

        xml = xasprintf(
                "<yandex>\n"
                "  <logger><console>1</console><level>warning</level></logger>\n"
                "  <mark_cache_size>268435456</mark_cache_size>\n"
                "  <listen_host>127.0.0.1</listen_host>\n"
                "  <http_port>%d</http_port>\n"
                "  <tcp_port>%d</tcp_port>\n"
                "  <path>%s/</path>\n"
                "  <tmp_path>%s/tmp/</tmp_path>\n"
                "  <user_files_path>%s/user_files/</user_files_path>\n"
                "  <format_schema_path>%s/format_schemas/</format_schema_path>\n"
                "  <users_config>users.xml</users_config>\n"
                "  <default_profile>default</default_profile>\n"
                "%s"
                "</yandex>\n",
                ch->http_port, ch->tcp_port, ch->datadir, ch->datadir, ch->datadir,
                ch->datadir, ch->flags & TU_CH_NO_QUERY_LOG ? "" :
                "  <query_log><database>system</database><table>query_log</table>\n"
                "    <flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>\n");
        rc = tu_ch_write(ch->conf, xml);
        free(xml);
        if (rc != 0)
                return -1;
        snprintf(users, sizeof users, "%s/users.xml", ch->dir);
        xml = xasprintf(
                "<yandex>\n"
                "  <profiles>\n"
                "    <default><log_queries>1</log_queries></default>\n"
                "    <ro><log_queries>1</log_queries><readonly>1</readonly></ro>\n"
                "  </profiles>\n"
                "  <users>\n"
                "    <default><password></password><networks><ip>127.0.0.1</ip></networks>"
                "<profile>default</profile><quota>default</quota></default>\n"
                "    <lo_pw><password>%s</password><networks><ip>127.0.0.1</ip></networks>"
                "<profile>default</profile><quota>default</quota></lo_pw>\n"
                "    <lo_ro><password></password><networks><ip>127.0.0.1</ip></networks>"
                "<profile>ro</profile><quota>default</quota></lo_ro>\n"
                "  </users>\n"
                "  <quotas><default></default></quotas>\n"
                "</yandex>\n", TU_CH_PASSWORD);
        rc = tu_ch_write(users, xml);
        free(xml);
        return rc;
}

/* A blocking request through the product client (30 s). */
static long tu_ch_http_q(struct tu_ch *ch, const char *query_id, const char *sql, char **body,
                         bool quiet)
{
        static unsigned seq;
        struct coll_ctx ctx = { .stop_fd = -1 };
        struct http_client *c = http_client_new(NULL);
        struct http_request req = { .method = "POST", .body = sql,
                                    .content_type = "text/plain" };
        struct http_response resp;
        struct err err;
        char url[160], qid[64];
        long status = 0;

        if (body)
                *body = NULL;
        if (!c)
                return 0;
        if (!query_id) {
                snprintf(qid, sizeof qid, "lambdaops-tu-%d-%u", (int)getpid(), ++seq);
                query_id = qid;
        }
        snprintf(url, sizeof url, "%s/?query_id=%s", ch->url, query_id);
        req.url = url;
        ctx.now_mono = clock_mono_ms();
        ctx.timeout_ms = 30000;
        ctx.deadline_mono = ctx.now_mono + ctx.timeout_ms;
        if (http_do(c, &ctx, &req, &resp, &err) == 0) {
                status = resp.status;
                if (body) {
                        *body = resp.body;
                        resp.body = NULL;
                }
        } else if (!quiet) {
                fprintf(stderr, "tu_ch: %s\n", err.msg);
        }
        http_response_done(&resp);
        http_client_free(c);
        return status;
}

static long tu_ch_http(struct tu_ch *ch, const char *query_id, const char *sql, char **body)
{
        return tu_ch_http_q(ch, query_id, sql, body, false);
}

static char *tu_ch_vquery(struct tu_ch *ch, const char *query_id, const char *fmt, va_list ap)
{
        char *sql, *body = NULL;
        long st;
        va_list cp;
        int n;

        va_copy(cp, ap);
        n = vsnprintf(NULL, 0, fmt, cp);
        va_end(cp);
        sql = xmalloc((size_t)n + 1);
        vsnprintf(sql, (size_t)n + 1, fmt, ap);
        st = tu_ch_http(ch, query_id, sql, &body);
        if (st != 200) {
                fprintf(stderr, "tu_ch: %.200s: HTTP %ld: %s", sql, st, body ? body : "\n");
                free(body);
                body = NULL;
        }
        free(sql);
        return body;
}

char *tu_ch_query(struct tu_ch *ch, const char *query_id, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = tu_ch_vquery(ch, query_id, fmt, ap);
        va_end(ap);
        return r;
}

int tu_ch_exec(struct tu_ch *ch, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = tu_ch_vquery(ch, NULL, fmt, ap);
        va_end(ap);
        free(r);
        return r ? 0 : -1;
}

int tu_ch_exec_id(struct tu_ch *ch, const char *query_id, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = tu_ch_vquery(ch, query_id, fmt, ap);
        va_end(ap);
        free(r);
        return r ? 0 : -1;
}

char *tu_ch_scalar(struct tu_ch *ch, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = tu_ch_vquery(ch, NULL, fmt, ap);
        va_end(ap);
        if (r)
                r[strcspn(r, "\r\n")] = '\0';
        return r;
}

long tu_ch_fail(struct tu_ch *ch, const char *query_id, const char *sql, char **body)
{
        return tu_ch_http(ch, query_id, sql, body);
}

/* Spawns the server and waits for /ping. 0, or -1 when it exited or did
 * not answer in 30 s. */
static int tu_ch_spawn(struct tu_ch *ch)
{
        char confarg[400];
        const char *argv[] = { TU_CH_SETPRIV, "--reuid=clickhouse", "--regid=clickhouse",
                               "--init-groups", TU_CH_SERVER, confarg, NULL };
        const char *root_argv[] = { TU_CH_SERVER, confarg, NULL };
        int64_t until = clock_mono_ms() + 30000;

        snprintf(confarg, sizeof confarg, "--config-file=%s", ch->conf);
        ch->pid = tu_spawn(geteuid() == 0 ? argv : root_argv, ch->log);
        if (ch->pid < 0) {
                ch->pid = 0;
                return -1;
        }
        while (clock_mono_ms() < until) {
                char *body = NULL;
                int st;

                if (waitpid(ch->pid, &st, WNOHANG) == ch->pid) {
                        kill(-ch->pid, SIGKILL);
                        tu_proc_forget(ch->pid);
                        ch->pid = 0;
                        return -1;
                }
                if (tu_ch_http_q(ch, NULL, "SELECT 1", &body, true) == 200) {
                        free(body);
                        return 0;
                }
                free(body);
                tu_ch_sleep_ms(50);
        }
        tu_kill(ch->pid);
        ch->pid = 0;
        return -1;
}

int tu_ch_start(struct tu_ch *ch, unsigned flags)
{
        char sub[400];
        struct passwd *pw = geteuid() == 0 ? getpwnam("clickhouse") : NULL;

        memset(ch, 0, sizeof *ch);
        ch->flags = flags;
        if (access(TU_CH_SERVER, X_OK) != 0) {
                fprintf(stderr, "tu_ch: %s missing: apt-get install -y clickhouse-server "
                        "clickhouse-client (or scripts/deps.sh)\n", TU_CH_SERVER);
                return -1;
        }
        snprintf(ch->dir, sizeof ch->dir, "/tmp/lo-ch-XXXXXX");
        if (!mkdtemp(ch->dir)) {
                fprintf(stderr, "tu_ch: mkdtemp: %s\n", strerror(errno));
                return -1;
        }
        tu_proc_track_dir(ch->dir);
        chmod(ch->dir, 0755);
        snprintf(ch->datadir, sizeof ch->datadir, "%s/data", ch->dir);
        snprintf(ch->conf, sizeof ch->conf, "%s/config.xml", ch->dir);
        snprintf(ch->log, sizeof ch->log, "%s/server.log", ch->dir);
        if (mkdir(ch->datadir, 0755) != 0) {
                fprintf(stderr, "tu_ch: mkdir %s: %s\n", ch->datadir, strerror(errno));
                return -1;
        }
        for (int i = 0; i < 3; i++) {
                const char *subs[] = { "tmp", "user_files", "format_schemas" };

                snprintf(sub, sizeof sub, "%s/%s", ch->datadir, subs[i]);
                mkdir(sub, 0755);
                if (pw && chown(sub, pw->pw_uid, pw->pw_gid) != 0)
                        return -1;
        }
        if (geteuid() == 0 && (!pw || chown(ch->datadir, pw->pw_uid, pw->pw_gid) != 0)) {
                fprintf(stderr, "tu_ch: cannot give %s to user clickhouse\n", ch->datadir);
                return -1;
        }
        for (int i = 0; i < 3; i++) {
                ch->http_port = tu_ch_free_port();
                ch->tcp_port = tu_ch_free_port();
                if (ch->http_port <= 0 || ch->tcp_port <= 0 || ch->http_port == ch->tcp_port)
                        continue;
                snprintf(ch->url, sizeof ch->url, "http://127.0.0.1:%d", ch->http_port);
                if (tu_ch_write_config(ch) != 0) {
                        fprintf(stderr, "tu_ch: cannot write %s\n", ch->conf);
                        return -1;
                }
                if (tu_ch_spawn(ch) == 0) {
                        tu_proc_fault("ch", ch->pid, ch->dir);
                        return 0;
                }
        }
        fprintf(stderr, "tu_ch: server did not start, see %s\n", ch->log);
        return -1;
}

/* sig to the server, SIGKILL to its process group after 10 s. */
static int tu_ch_end(struct tu_ch *ch, int sig)
{
        if (ch->pid <= 0)
                return 0;
        tu_proc_stop(ch->pid, sig, 10000);
        ch->pid = 0;
        return 0;
}

int tu_ch_stop(struct tu_ch *ch)
{
        return tu_ch_end(ch, SIGTERM);
}

int tu_ch_kill(struct tu_ch *ch)
{
        return tu_ch_end(ch, SIGKILL);
}

int tu_ch_restart(struct tu_ch *ch)
{
        if (ch->pid > 0)
                tu_ch_stop(ch);
        /* The listening socket may linger for a moment after SIGKILL. */
        for (int i = 0; i < 5; i++) {
                if (tu_ch_spawn(ch) == 0)
                        return 0;
                tu_ch_sleep_ms(500);
        }
        fprintf(stderr, "tu_ch: restart failed, see %s\n", ch->log);
        return -1;
}

void tu_ch_destroy(struct tu_ch *ch)
{
        if (!ch || !ch->dir[0])
                return;
        tu_ch_stop(ch);
        tu_proc_remove_dir(ch->dir);
        ch->dir[0] = '\0';
}
