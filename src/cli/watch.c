/*
 * watch: `lambdaops watch`. See watch.h and docs/watch.md.
 *
 * Threads. One collector thread per source (src/core/collector.c), as in
 * the console. The main thread owns everything else: it waits on the wake
 * pipe (a collector published), the signal pipe (SIGTERM/SIGINT) and a
 * tick of `refresh` (so `for` and `keep_firing_for` elapse between
 * polls), then takes the latest snapshots, logs source state changes,
 * runs the health rules, moves the alert lifecycle along, hands every
 * transition to the sinks (the log first) and publishes the alert states
 * for the /metrics server (app.alerts). Nothing on the main thread waits
 * on the network: a sink must not block.
 *
 * Stop: the signal handler writes one byte to the signal pipe; the loop
 * sees it at once, stops the services (the /metrics server), then the
 * collectors (collector_stop_all: about a second at most, even with polls
 * stuck on hung services), closes the sinks and exits 0.
 */
#include "cli/watch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alerttrack.h"
#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/logline.h"
#include "core/redact.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/util.h"
#include "export/metrics.h"

#define WATCH_EXIT_OK     0
#define WATCH_EXIT_FAIL   1
#define WATCH_EXIT_USAGE  64
#define WATCH_SINKS_MAX   32
#define WATCH_DRAIN       64    /* transitions taken from the tracker at a time */

/* --- hooks: what plugs into watch ----------------------------------------
 *
 * Services started after the collectors and stopped before them, each
 * with the app (config, collectors, app.alerts) and the listen address
 * (--listen, else `listen:`; NULL when neither). */
struct watch_service {
        const char *name;
        int  (*start)(const struct app *a, const char *listen, struct err *err);
        void (*stop)(const struct app *a);
        int  (*port)(void);     /* the port bound (listen port 0: any free one) */
        bool needs_listen;      /* started only when a listen address is set */
};

/* The /metrics server (src/export/metrics.h): one per process. */
static struct metrics_server *watch_metrics;

static int watch_metrics_start(const struct app *a, const char *listen, struct err *err)
{
        return metrics_server_start(a, listen, &watch_metrics, err);
}

static void watch_metrics_stop(const struct app *a)
{
        (void)a;
        metrics_server_stop(watch_metrics);
        watch_metrics = NULL;
}

static int watch_metrics_port(void)
{
        return metrics_server_port(watch_metrics);
}

static const struct watch_service watch_services[] = {
        { "metrics", watch_metrics_start, watch_metrics_stop, watch_metrics_port, true },
};

/* Sinks of alert transitions (struct alert_sink, src/core/alerttrack.h):
 * each opener fills out[0..max) and returns how many sinks it made, or -1
 * with err (watch then exits 78: a notifier is configuration). The log is
 * the first; the notifiers add their opener as one row. */
struct watch_sinks_src {
        const char *name;
        int (*open)(const struct app *a, struct alert_sink *out, size_t max, struct err *err);
};

/* --- state ----------------------------------------------------------------- */

struct watch {
        struct app      a;
        enum log_format fmt;
        const char     *listen;         /* normalised; NULL = none */
        char            listen_buf[320];
        char           *config_path;
        int             sig_pipe[2];
        struct alert_tracker track;
        struct alert_board   board;
        struct alert_sink    sinks[WATCH_SINKS_MAX];
        size_t          n_sinks;
        bool           *started;        /* per watch_services row */
        enum coll_status *status;       /* per source: last status logged */
        uint64_t        dropped_logged;
};

static volatile sig_atomic_t watch_signo;
static int watch_sig_fd = -1;

static void watch_on_signal(int sig)
{
        int saved = errno;
        char b = 1;

        watch_signo = sig;
        if (watch_sig_fd >= 0 && write(watch_sig_fd, &b, 1) < 0) {
                /* full pipe: a stop is already pending */
        }
        errno = saved;
}

/* --- logging ---------------------------------------------------------------- */

static void watch_emit(struct logline *l)
{
        char *s = logline_end(l);

        fputs(s, stderr);
        fflush(stderr);
        free(s);
}

static void watch_log_level(const struct watch *w, const char *level, const char *msg,
                            const char *error);

static void watch_log_error(const struct watch *w, const char *msg, const char *error)
{
        watch_log_level(w, "error", msg, error);
}

/* A text that came from a server or the config, masked by shape once more
 * before it is logged (it was redacted with the source's secrets when
 * stored; this catches a credential a kind did not know about). */
static void watch_log_text(struct logline *l, const char *key, const char *s)
{
        char *r = redact_dup(s ? s : "", NULL);

        logline_str(l, key, r);
        free(r);
}

static void watch_log_level(const struct watch *w, const char *level, const char *msg,
                            const char *error)
{
        struct logline l;

        logline_begin(&l, w->fmt, clock_wall_ms(), level, msg);
        watch_log_text(&l, "error", error);
        watch_emit(&l);
}

static void watch_log_transition(void *ctx, const struct alert_transition *tr)
{
        const struct watch *w = ctx;
        struct logline l;
        char ts[40], msg[32];
        const char *level = tr->kind == ALERT_TR_RESOLVED || tr->kind == ALERT_TR_KNOWN ?
                            "info" : "warn";

        snprintf(msg, sizeof msg, "alert %s", alert_tr_kind_name(tr->kind));
        logline_begin(&l, w->fmt, tr->at_wall, level, msg);
        logline_str(&l, "fingerprint", tr->fingerprint);
        logline_str(&l, "state", alert_state_name(tr->state));
        logline_str(&l, "severity", severity_name(tr->sev));
        if (tr->kind == ALERT_TR_SEVERITY)
                logline_str(&l, "previous_severity", severity_name(tr->prev_sev));
        logline_str(&l, "environment", tr->environment);
        logline_str(&l, "source", tr->a.source);
        logline_str(&l, "kind", tr->a.src ? tr->a.src->kind : NULL);
        logline_str(&l, "metric", tr->a.metric);
        logline_str(&l, "subject", tr->a.subject);
        logline_num(&l, "value", tr->a.value);
        logline_num(&l, "threshold", tr->a.threshold);
        watch_log_text(&l, "message", tr->a.message);
        if (tr->starts_at_wall) {
                fmt_rfc3339(tr->starts_at_wall, ts, sizeof ts);
                logline_str(&l, "startsAt", ts);
        }
        if (tr->ends_at_wall) {
                fmt_rfc3339(tr->ends_at_wall, ts, sizeof ts);
                logline_str(&l, "endsAt", ts);
        }
        watch_emit(&l);
}

static int watch_log_sinks(const struct app *a, struct alert_sink *out, size_t max,
                           struct err *err)
{
        (void)a;
        (void)err;
        if (max < 1)
                return 0;
        out[0].name = "log";
        out[0].transition = watch_log_transition;
        out[0].close = NULL;
        out[0].ctx = NULL;      /* set to the watch by watch_sinks_open */
        return 1;
}

static const struct watch_sinks_src watch_sinks_srcs[] = {
        { "log", watch_log_sinks },
        /* notifiers: { "notify", notify_sinks_open }, */
};

static void watch_log_start(const struct watch *w)
{
        const struct config *c = w->a.cfg;
        struct logline l;
        size_t len = 1;
        char *names;

        for (size_t i = 0; i < c->n_sources; i++)
                len += strlen(c->sources[i].name) + 1;
        names = xcalloc(1, len);
        for (size_t i = 0; i < c->n_sources; i++) {
                if (i)
                        strcat(names, ",");
                strcat(names, c->sources[i].name);
        }
        logline_begin(&l, w->fmt, clock_wall_ms(), "info", "watch started");
        logline_str(&l, "version", LO_VERSION);
        logline_str(&l, "config", w->config_path);
        logline_str(&l, "environment", c->environment);
        logline_int(&l, "n_sources", (int64_t)c->n_sources);
        logline_str(&l, "sources", names);
        logline_str(&l, "listen", w->listen);
        logline_int(&l, "pid", (int64_t)getpid());
        watch_emit(&l);
        free(names);
}

static void watch_log_source(const struct watch *w, const struct snapshot *s,
                             enum coll_status prev)
{
        struct logline l;
        char msg[48];

        snprintf(msg, sizeof msg, "source %s", s->status == COLL_OK ? "up" :
                 coll_status_name(s->status));
        logline_begin(&l, w->fmt, clock_wall_ms(), s->status == COLL_OK ? "info" : "warn", msg);
        logline_str(&l, "source", s->src->name);
        logline_str(&l, "kind", s->src->kind);
        logline_str(&l, "state", coll_status_name(s->status));
        logline_str(&l, "previous", coll_status_name(prev));
        if (s->error[0])
                watch_log_text(&l, "error", s->error);
        watch_emit(&l);
}

/* --- the loop ---------------------------------------------------------------- */

static int watch_pipe(int fds[2])
{
        if (pipe(fds) != 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                int fl = fcntl(fds[i], F_GETFL);

                if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
                    fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
                        close(fds[0]);
                        close(fds[1]);
                        return -1;
                }
        }
        return 0;
}

static void watch_drain_fd(int fd)
{
        char buf[256];

        while (read(fd, buf, sizeof buf) > 0)
                ;
}

/* One evaluation: snapshots -> source lines, alerts -> lifecycle -> sinks. */
static void watch_eval(struct watch *w)
{
        const struct config *c = w->a.cfg;
        struct alert_transition tr[WATCH_DRAIN];
        struct alert_list alerts;
        size_t n;

        alert_list_init(&alerts);
        for (size_t i = 0; i < c->n_sources && i < w->a.n_colls; i++) {
                struct snapshot *s = collector_latest(w->a.colls[i], NULL);

                if (s && s->seq > 0 && s->status != w->status[i]) {
                        watch_log_source(w, s, w->status[i]);
                        w->status[i] = s->status;
                }
                health_eval(s, &alerts);
                snapshot_unref(s);      /* the alerts are copies */
        }
        alerttrack_update(&w->track, &alerts, clock_mono_ms(), clock_wall_ms());
        alert_list_done(&alerts);
        while ((n = alerttrack_drain(&w->track, tr, LO_ARRAY_LEN(tr))) > 0)
                for (size_t i = 0; i < n; i++)
                        for (size_t k = 0; k < w->n_sinks; k++)
                                w->sinks[k].transition(w->sinks[k].ctx, &tr[i]);
        if (w->track.dropped != w->dropped_logged) {
                char m[96];

                snprintf(m, sizeof m, "%llu alert transitions were dropped",
                         (unsigned long long)(w->track.dropped - w->dropped_logged));
                watch_log_error(w, "alert queue overflow", m);
                w->dropped_logged = w->track.dropped;
        }
        alert_board_publish(&w->board, &w->track);
}

/* Until a signal (0), or a poll error (WATCH_EXIT_FAIL, logged). */
static int watch_loop(struct watch *w)
{
        int64_t tick = w->a.cfg->refresh_ms > 0 ? w->a.cfg->refresh_ms : 1000;

        while (!watch_signo) {
                struct pollfd p[2] = {
                        { .fd = w->a.wake_pipe[0], .events = POLLIN },
                        { .fd = w->sig_pipe[0], .events = POLLIN },
                };
                int r = poll(p, 2, (int)tick);

                if (r < 0 && errno != EINTR) {
                        watch_log_error(w, "poll failed", strerror(errno));
                        return WATCH_EXIT_FAIL;
                }
                if (watch_signo || (r > 0 && (p[1].revents & POLLIN)))
                        break;
                if (r > 0 && (p[0].revents & POLLIN))
                        watch_drain_fd(w->a.wake_pipe[0]);
                watch_eval(w);
        }
        return WATCH_EXIT_OK;
}

/* --- start and stop ------------------------------------------------------------- */

static int watch_sinks_open(struct watch *w, struct err *err)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(watch_sinks_srcs); i++) {
                size_t first = w->n_sinks;
                int n = watch_sinks_srcs[i].open(&w->a, w->sinks + w->n_sinks,
                                                 WATCH_SINKS_MAX - w->n_sinks, err);

                if (n < 0)
                        return -1;
                w->n_sinks += (size_t)n;
                if (watch_sinks_srcs[i].open == watch_log_sinks)
                        for (size_t k = first; k < w->n_sinks; k++)
                                w->sinks[k].ctx = w;
        }
        return 0;
}

static void watch_sinks_close(struct watch *w)
{
        for (size_t k = 0; k < w->n_sinks; k++)
                if (w->sinks[k].close)
                        w->sinks[k].close(w->sinks[k].ctx);
        w->n_sinks = 0;
}

/* Returns 0, or -1 after logging why. */
static int watch_services_start(struct watch *w)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(watch_services); i++) {
                const struct watch_service *s = &watch_services[i];
                struct err err;
                char m[160];

                if (s->needs_listen && !w->listen)
                        continue;
                err_clear(&err);
                if (s->start(&w->a, w->listen, &err) != 0) {
                        snprintf(m, sizeof m, "%s on %s: ", s->name, w->listen ? w->listen : "-");
                        str_copy(m + strlen(m), err.msg, sizeof m - strlen(m));
                        watch_log_error(w, "service failed to start", m);
                        return -1;
                }
                w->started[i] = true;
                {
                        struct logline l;

                        logline_begin(&l, w->fmt, clock_wall_ms(), "info", "service started");
                        logline_str(&l, "service", s->name);
                        logline_str(&l, "listen", w->listen);
                        if (s->port)
                                logline_int(&l, "port", s->port());
                        watch_emit(&l);
                }
        }
        return 0;
}

static void watch_services_stop(struct watch *w)
{
        for (size_t i = LO_ARRAY_LEN(watch_services); i-- > 0;)
                if (w->started[i] && watch_services[i].stop) {
                        watch_services[i].stop(&w->a);
                        w->started[i] = false;
                }
}

static void watch_signals(bool on)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof sa);
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on ? watch_on_signal : SIG_DFL;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

/* Numbers in the log always with a '.', whatever the locale. */
static void setlocale_numeric_c(void)
{
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
}

/* --- options ---------------------------------------------------------------------- */

enum { W_OPT_LOG_FORMAT = 300, W_OPT_LISTEN };

static const struct opt_def watch_optdefs[] = {
        { "config",     'c', true,  'c' },
        { "log-format", 0,   true,  W_OPT_LOG_FORMAT },
        { "listen",     0,   true,  W_OPT_LISTEN },
        { "help",       'h', false, 'h' },
        { NULL, 0, false, 0 },
};

bool watch_is_command(int argc, char **argv, const struct opt_def *main_defs)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        return false;
                if (argv[i][0] == '-') {
                        if (opt_takes_value(watch_optdefs, argv[i]) ||
                            (main_defs && opt_takes_value(main_defs, argv[i])))
                                i++;
                        continue;
                }
                return !strcmp(argv[i], "watch");
        }
        return false;
}

static void watch_help(FILE *f)
{
        fputs("Usage: lambdaops [-c CONFIG] watch [--log-format logfmt|json] [--listen ADDR]\n"
              "\n"
              "Polls every source of the config, evaluates the alert rules and their\n"
              "lifecycle (for, keep_firing_for: docs/alerts.md) with no terminal, and logs\n"
              "to stderr, one line per event: the start, every alert transition (fired,\n"
              "severity, unknown, known, resolved), every change of a source's state, and\n"
              "errors. Runs until SIGTERM or SIGINT. See docs/watch.md.\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE        the config file (search order as the console)\n"
              "      --log-format FORMAT  logfmt (default) or json (one object per line)\n"
              "      --listen ADDR        serve /metrics on HOST:PORT, [V6]:PORT or PORT\n"
              "                           (127.0.0.1); overrides the config's listen:\n"
              "  -h, --help               this help\n"
              "\n"
              "Exit status: 0 stopped by SIGTERM/SIGINT, 1 could not start, 64 usage,\n"
              "78 configuration error.\n", f);
}

static int watch_usage(const char *msg, const char *arg)
{
        termsafe_fprintf(stderr, "lambdaops: watch: %s%s%s%s\nTry 'lambdaops watch --help'.\n",
                         msg, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
        return WATCH_EXIT_USAGE;
}

struct watch_opts {
        const char *config, *log_format, *listen;
        bool help;
};

/* -1 when parsed, else the exit code. */
static int watch_parse(int argc, char **argv, struct watch_opts *o)
{
        struct opt_parser op;
        int ch, first;

        memset(o, 0, sizeof *o);
        opt_init(&op, argc, argv, watch_optdefs);
        while ((ch = opt_next(&op)) != OPT_END) {
                switch (ch) {
                case 'c':
                        o->config = op.arg;
                        break;
                case W_OPT_LOG_FORMAT:
                        o->log_format = op.arg;
                        break;
                case W_OPT_LISTEN:
                        o->listen = op.arg;
                        break;
                case 'h':
                        o->help = true;
                        break;
                case OPT_ERR_VALUE:
                        opt_done(&op);
                        return watch_usage("option needs a value:", op.bad);
                default:
                        opt_done(&op);
                        if (op.bad_short) {
                                char s[3] = { '-', (char)op.bad_short, '\0' };

                                return watch_usage("unknown option", s);
                        }
                        return watch_usage("unknown option", op.bad);
                }
        }
        first = opt_operands(&op);
        opt_done(&op);
        /* argv[first] is "watch". */
        if (argc - first > 1)
                return watch_usage("unexpected argument", argv[first + 1]);
        return -1;
}

int watch_main(int argc, char **argv)
{
        struct watch_opts o;
        struct watch w;
        struct err err;
        int rc;

        rc = watch_parse(argc, argv, &o);
        if (rc >= 0)
                return rc;
        if (o.help) {
                watch_help(stdout);
                return WATCH_EXIT_OK;
        }
        memset(&w, 0, sizeof w);
        w.a.wake_pipe[0] = w.a.wake_pipe[1] = -1;
        w.sig_pipe[0] = w.sig_pipe[1] = -1;
        if (o.log_format && log_format_parse(o.log_format, &w.fmt) != 0)
                return watch_usage("--log-format must be logfmt or json, not", o.log_format);
        if (o.listen && config_parse_listen(o.listen, w.listen_buf, sizeof w.listen_buf,
                                            &err) != 0) {
                char m[600];

                snprintf(m, sizeof m, "--listen: %s:", err.msg);
                return watch_usage(m, o.listen);
        }
        setlocale_numeric_c();

        err_clear(&err);
        w.config_path = config_find(o.config, &err);
        if (w.config_path)
                w.a.cfg = config_load_file(w.config_path, &err);
        if (!w.a.cfg) {
                watch_log_error(&w, "configuration error",
                                err.msg[0] ? err.msg : "no config file found");
                free(w.config_path);
                return LO_EXIT_CONFIG;
        }
        if (o.listen)
                w.listen = w.listen_buf;
        else if (w.a.cfg->listen)
                w.listen = w.a.cfg->listen;
        w.a.read_only = true;   /* watch never runs an action */
        w.a.alerts = &w.board;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                watch_log_error(&w, "cannot start", "libcurl initialisation failed");
                config_free(w.a.cfg);
                free(w.config_path);
                return WATCH_EXIT_FAIL;
        }
        if (watch_pipe(w.a.wake_pipe) != 0 || watch_pipe(w.sig_pipe) != 0) {
                watch_log_error(&w, "cannot start", strerror(errno));
                curl_global_cleanup();
                config_free(w.a.cfg);
                free(w.config_path);
                return WATCH_EXIT_FAIL;
        }
        watch_sig_fd = w.sig_pipe[1];
        watch_signals(true);
        alerttrack_init(&w.track);
        alerttrack_record(&w.track, true);
        alert_board_init(&w.board);
        w.started = xcalloc(LO_ARRAY_LEN(watch_services) + 1, sizeof *w.started);
        w.status = xcalloc(w.a.cfg->n_sources + 1, sizeof *w.status);

        rc = WATCH_EXIT_OK;
        if (watch_sinks_open(&w, &err) != 0) {
                watch_log_error(&w, "configuration error", err.msg);
                rc = LO_EXIT_CONFIG;
                goto out;
        }
        watch_log_start(&w);
        app_start_collectors(&w.a, false);
        if (watch_services_start(&w) == 0)
                rc = watch_loop(&w);
        else
                rc = WATCH_EXIT_FAIL;
        if (watch_signo) {
                struct logline l;

                logline_begin(&l, w.fmt, clock_wall_ms(), "info", "watch stopping");
                logline_str(&l, "signal", watch_signo == SIGTERM ? "SIGTERM" : "SIGINT");
                watch_emit(&l);
        }
        watch_services_stop(&w);
        app_stop_collectors(&w.a);
        {
                struct logline l;

                logline_begin(&l, w.fmt, clock_wall_ms(), "info", "watch stopped");
                logline_int(&l, "exit", rc);
                watch_emit(&l);
        }
out:
        watch_sinks_close(&w);
        watch_signals(false);
        watch_sig_fd = -1;
        alert_board_done(&w.board);
        alerttrack_done(&w.track);
        free(w.started);
        free(w.status);
        for (int i = 0; i < 2; i++) {
                close(w.a.wake_pipe[i]);
                close(w.sig_pipe[i]);
        }
        config_free(w.a.cfg);
        free(w.config_path);
        curl_global_cleanup();
        return rc;
}
