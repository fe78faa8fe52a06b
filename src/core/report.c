/*
 * report: `lambdaops status [--json]` and `lambdaops check`.
 *
 * Both start every collector in once mode (one thread per source, so the
 * sources are polled in parallel), wait for each first publish bounded by
 * that source's timeout plus REPORT_MARGIN_MS from a common start, take the
 * snapshots, stop the collectors, evaluate the health rules and print. A
 * source that has not answered by then is reported as "unknown"; we never
 * wait longer, and stopping is bounded because polls watch the stop pipe.
 *
 * Everything after the snapshots are taken is pure (report.h) so that the
 * JSON document and the check line are tested on hand-built snapshots.
 * Runs on the main thread. Secrets never reach this module: we print source
 * names, kinds and the collectors' own (masked) texts, never a DSN.
 */
#include "core/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/jsonout.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/util.h"

/* ---- pure part ---------------------------------------------------------- */

void report_no_answer(const struct source_cfg *src, char *buf, size_t n)
{
        int64_t ms = src->timeout_ms + REPORT_MARGIN_MS;

        /* Seconds, with a decimal only when needed: "4s", "3.5s". */
        if (ms % 1000 == 0)
                snprintf(buf, n, "no answer within %llds", (long long)(ms / 1000));
        else
                snprintf(buf, n, "no answer within %.1fs", (double)ms / 1000.0);
}

/* Copies s into buf as one line: newlines, tabs and CR become spaces, runs
 * of blanks collapse, and leading/trailing blanks go (libpq messages end
 * with a newline, some span lines). Other control characters stay: JSON
 * keeps the real value and escapes it, text output passes through termsafe.
 * `bar` replaces '|' (Nagios perfdata separator). */
static void report_flatten(const char *s, char *buf, size_t n, char bar)
{
        size_t o = 0;
        bool blank = false;

        if (n == 0)
                return;
        for (; s && *s && o + 1 < n; s++) {
                unsigned char ch = (unsigned char)*s;

                if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' ||
                    ch == '\f') {
                        blank = o > 0;
                        continue;
                }
                if (blank && o + 2 < n)
                        buf[o++] = ' ';
                blank = false;
                buf[o++] = (ch == '|' && bar) ? bar : (char)ch;
        }
        buf[o] = '\0';
}

/* True when msg starts with the source name ("db2 is down: ..."), so that
 * we do not print "db2: db2 is down". */
static bool report_names_source(const char *msg, const char *source)
{
        size_t n = strlen(source);

        return n && strncmp(msg, source, n) == 0 && msg[n] == ' ';
}

enum severity report_eval(const struct snapshot *const *snaps, size_t n,
                          struct alert_list *out)
{
        for (size_t i = 0; i < n; i++)
                health_eval(snaps[i], out);
        return health_overall(snaps, n, out);
}

static void report_add_time(cJSON *o, const char *key, int64_t wall_ms)
{
        char ts[40];

        if (wall_ms <= 0) {
                cJSON_AddNullToObject(o, key);
                return;
        }
        fmt_rfc3339(wall_ms, ts, sizeof ts);
        cJSON_AddStringToObject(o, key, ts);
}

static void report_add_num(cJSON *o, const char *key, double v)
{
        if (isnan(v) || isinf(v))
                cJSON_AddNullToObject(o, key);
        else
                cJSON_AddNumberToObject(o, key, v);
}

cJSON *report_json_source(const struct snapshot *s, const struct source_cfg *src)
{
        cJSON *o = cJSON_CreateObject();
        char msg[256];

        cJSON_AddStringToObject(o, "kind", src->kind);
        if (!s) {
                report_no_answer(src, msg, sizeof msg);
                cJSON_AddStringToObject(o, "status", coll_status_name(COLL_UNKNOWN));
                cJSON_AddStringToObject(o, "error", msg);
                cJSON_AddNullToObject(o, "collected_at");
                cJSON_AddNullToObject(o, "poll_ms");
                return o;
        }
        cJSON_AddStringToObject(o, "status", coll_status_name(s->status));
        report_flatten(s->error, msg, sizeof msg, 0);
        if (msg[0])
                cJSON_AddStringToObject(o, "error", msg);
        else
                cJSON_AddNullToObject(o, "error");
        report_add_time(o, "collected_at", s->collected_at);
        if (s->collected_at > 0)
                cJSON_AddNumberToObject(o, "poll_ms", (double)s->poll_ms);
        else
                cJSON_AddNullToObject(o, "poll_ms");
        if (s->data && src->ops && src->ops->to_json)
                src->ops->to_json(s->data, o);
        return o;
}

static cJSON *report_json_alert(const struct alert *a)
{
        cJSON *o = cJSON_CreateObject();
        char msg[sizeof a->message];

        cJSON_AddStringToObject(o, "severity", severity_name(a->sev));
        cJSON_AddStringToObject(o, "source", a->source);
        cJSON_AddStringToObject(o, "metric", a->metric);
        if (a->subject[0])
                cJSON_AddStringToObject(o, "subject", a->subject);
        else
                cJSON_AddNullToObject(o, "subject");
        report_add_num(o, "value", a->value);
        report_add_num(o, "threshold", a->threshold);
        report_flatten(a->message, msg, sizeof msg, 0);
        cJSON_AddStringToObject(o, "message", msg);
        return o;
}

cJSON *report_json(const struct snapshot *const *snaps, const struct source_cfg *srcs,
                   size_t n, int64_t now_wall_ms)
{
        struct alert_list al;
        enum severity overall;
        cJSON *root = cJSON_CreateObject(), *sources, *alerts;
        char ts[40];

        alert_list_init(&al);
        overall = report_eval(snaps, n, &al);
        fmt_rfc3339(now_wall_ms, ts, sizeof ts);
        cJSON_AddNumberToObject(root, "schema", REPORT_SCHEMA);
        cJSON_AddStringToObject(root, "generated_at", ts);
        cJSON_AddStringToObject(root, "overall", severity_name(overall));
        sources = cJSON_AddObjectToObject(root, "sources");
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToObject(sources, srcs[i].name, report_json_source(snaps[i], &srcs[i]));
        alerts = cJSON_AddArrayToObject(root, "alerts");
        for (size_t i = 0; i < al.n; i++)
                cJSON_AddItemToArray(alerts, report_json_alert(&al.v[i]));
        alert_list_done(&al);
        return root;
}

/* A growing string for the check line. */
struct report_buf {
        char  *s;
        size_t n, cap;
};

static void report_buf_add(struct report_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void report_buf_add(struct report_buf *b, const char *fmt, ...)
{
        va_list ap;
        int k;

        for (;;) {
                va_start(ap, fmt);
                k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
                va_end(ap);
                if (k < 0)
                        return;
                if (b->s && b->n + (size_t)k < b->cap) {
                        b->n += (size_t)k;
                        return;
                }
                b->cap = (b->cap ? b->cap : 128) * 2 + (size_t)k;
                b->s = xrealloc(b->s, b->cap);
                b->s[b->n] = '\0';
        }
}

static const char *report_nagios_word(enum severity s)
{
        switch (s) {
        case SEV_OK:
                return "OK";
        case SEV_WARN:
                return "WARNING";
        case SEV_CRIT:
                return "CRITICAL";
        case SEV_UNKNOWN:
        default:
                return "UNKNOWN";
        }
}

/* How many problems the check line spells out before "(+N more)". */
#define REPORT_CHECK_ITEMS 3

char *report_check_line(const struct snapshot *const *snaps, const struct source_cfg *srcs,
                        size_t n, int *exit_code)
{
        struct report_buf b = { 0 };
        struct alert_list al;
        enum severity overall;
        size_t shown = 0, more = 0, nwarn = 0, ncrit = 0, nunk = 0;
        char msg[300];
        bool perf = false;

        alert_list_init(&al);
        overall = report_eval(snaps, n, &al);
        for (size_t i = 0; i < al.n; i++) {
                if (al.v[i].sev == SEV_CRIT)
                        ncrit++;
                else
                        nwarn++;
        }
        for (size_t i = 0; i < n; i++)
                if (!snaps[i] || snaps[i]->status == COLL_UNKNOWN)
                        nunk++;
        report_buf_add(&b, "LAMBDAOPS %s - %zu source%s", report_nagios_word(overall), n,
                       n == 1 ? "" : "s");
        if (overall == SEV_OK) {
                report_buf_add(&b, ": %s", n ? "all ok" : "none configured");
        } else {
                report_buf_add(&b, ":");
                /* The worst things first: crit alerts, then sources that did
                 * not answer, then warn alerts. */
                for (int pass = 0; pass < 3; pass++) {
                        if (pass == 1) {
                                for (size_t i = 0; i < n; i++) {
                                        char na[64];

                                        if (snaps[i] && snaps[i]->status != COLL_UNKNOWN)
                                                continue;
                                        if (shown == REPORT_CHECK_ITEMS) {
                                                more++;
                                                continue;
                                        }
                                        report_no_answer(&srcs[i], na, sizeof na);
                                        report_buf_add(&b, "%s %s: %s", shown ? ";" : "",
                                                       srcs[i].name, na);
                                        shown++;
                                }
                                continue;
                        }
                        for (size_t i = 0; i < al.n; i++) {
                                const struct alert *a = &al.v[i];

                                if ((pass == 0) != (a->sev == SEV_CRIT))
                                        continue;
                                if (shown == REPORT_CHECK_ITEMS) {
                                        more++;
                                        continue;
                                }
                                report_flatten(a->message, msg, sizeof msg, '/');
                                if (report_names_source(msg, a->source))
                                        report_buf_add(&b, "%s %s", shown ? ";" : "", msg);
                                else
                                        report_buf_add(&b, "%s %s: %s", shown ? ";" : "",
                                                       a->source, msg);
                                shown++;
                        }
                }
                if (more)
                        report_buf_add(&b, " (+%zu more)", more);
                if (ncrit || nwarn || nunk)
                        report_buf_add(&b, " [%zu crit, %zu warn, %zu unknown]", ncrit, nwarn, nunk);
        }
        /* Perfdata: each source's key metric, Nagios 'label'=value[UOM]. */
        for (size_t i = 0; i < n; i++) {
                const struct snapshot *s = snaps[i];
                const struct collector_ops *ops = srcs[i].ops;
                const char *uom = "";
                char label[160];

                if (!s || isnan(s->key_value) || !ops)
                        continue;
                if (ops->key_metric_unit == THR_BYTES)
                        uom = "B";
                else if (ops->key_metric_unit == THR_MS)
                        uom = "ms";
                snprintf(label, sizeof label, "%s %s", srcs[i].name,
                         ops->key_metric_name ? ops->key_metric_name : "key");
                for (char *p = label; *p; p++)
                        if (*p == '\'' || *p == '=' || *p == '|')
                                *p = '_';
                report_buf_add(&b, *uom ? "%s'%s'=%.0f%s" : "%s'%s'=%g%s",
                               perf ? " " : " | ", label, s->key_value, uom);
                perf = true;
        }
        alert_list_done(&al);
        if (exit_code)
                *exit_code = severity_exit_code(overall);
        /* Monitoring systems show this line on a terminal or a web page:
         * a source's message cannot carry control characters there. */
        if (termsafe_needed(b.s, TERMSAFE_LINE)) {
                char *safe = termsafe_dup(b.s, TERMSAFE_LINE);

                free(b.s);
                b.s = safe;
        }
        return b.s;
}

/* ---- the commands --------------------------------------------------------- */

/* Polls every source once in parallel; fills snaps[0..n) with owned
 * references (NULL for a source that did not answer in time). */
static void report_collect(struct app *a, struct snapshot **snaps)
{
        int64_t t0;

        app_start_collectors(a, true);
        t0 = clock_mono_ms();
        for (size_t i = 0; i < a->n_colls; i++) {
                const struct source_cfg *src = collector_source(a->colls[i]);

                collector_wait_gen(a->colls[i], 1, t0 + src->timeout_ms + REPORT_MARGIN_MS);
                snaps[i] = collector_latest(a->colls[i], NULL);
        }
        app_stop_collectors(a);
}

static void report_release(struct snapshot **snaps, size_t n)
{
        for (size_t i = 0; i < n; i++)
                snapshot_unref(snaps[i]);
        free(snaps);
}

/* Width of s in terminal cells, one per UTF-8 code point (s is termsafe
 * output, so every code point is printable). */
static size_t report_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xC0) != 0x80)
                        w++;
        return w;
}

/* Prints cell s padded to w cells (printf pads bytes, not cells), then
 * two spaces or, for the last column, the newline. */
static void report_put_cell(const char *s, size_t w, bool right, bool last)
{
        size_t pad = w > report_width(s) ? w - report_width(s) : 0;

        if (right)
                printf("%*s", (int)pad, "");
        fputs(s, stdout);
        if (last) {
                putchar('\n');
                return;
        }
        printf("%*s  ", right ? 0 : (int)pad, "");
}

/* Column widths for the text table. */
enum { COL_SOURCE, COL_KIND, COL_STATUS, COL_AGE, COL_POLL, COL_SUMMARY, COL_ERROR, COL__N };

static void report_print_table(const struct config *cfg, const struct snapshot *const *snaps)
{
        static const char *const head[COL__N] = {
                "SOURCE", "KIND", "STATUS", "AGE", "POLL", "SUMMARY", "ERROR",
        };
        size_t n = cfg->n_sources, w[COL__N];
        char *(*cell)[COL__N] = xcalloc(n ? n : 1, sizeof *cell);
        int64_t now = clock_mono_ms();
        struct alert_list al;
        enum severity overall;
        char ts[40], buf[512];

        for (int c = 0; c < COL__N; c++)
                w[c] = strlen(head[c]);
        for (size_t i = 0; i < n; i++) {
                const struct source_cfg *src = &cfg->sources[i];
                const struct snapshot *s = snaps[i];

                /* Every cell is stored escaped (termsafe): names and
                 * kinds come from the config, summaries and errors from
                 * servers, and widths must count what is printed. */
                cell[i][COL_SOURCE] = termsafe_dup(src->name, TERMSAFE_LINE);
                cell[i][COL_KIND] = termsafe_dup(src->kind, TERMSAFE_LINE);
                cell[i][COL_STATUS] = xstrdup(coll_status_name(s ? s->status : COLL_UNKNOWN));
                if (s) {
                        fmt_duration_ms(snapshot_age_ms(s, now), buf, sizeof buf);
                        cell[i][COL_AGE] = xstrdup(buf);
                        fmt_duration_ms(s->poll_ms, buf, sizeof buf);
                        cell[i][COL_POLL] = xstrdup(buf);
                        buf[0] = '\0';
                        if (s->data && src->ops && src->ops->summary)
                                src->ops->summary(s->data, buf, sizeof buf);
                        cell[i][COL_SUMMARY] = termsafe_dup(buf[0] ? buf : "-", TERMSAFE_LINE);
                        report_flatten(s->error, buf, sizeof buf, 0);
                        cell[i][COL_ERROR] = termsafe_dup(buf[0] ? buf : "-", TERMSAFE_LINE);
                } else {
                        cell[i][COL_AGE] = xstrdup("-");
                        cell[i][COL_POLL] = xstrdup("-");
                        cell[i][COL_SUMMARY] = xstrdup("-");
                        report_no_answer(src, buf, sizeof buf);
                        cell[i][COL_ERROR] = xstrdup(buf);
                }
                for (int c = 0; c < COL__N; c++)
                        if (report_width(cell[i][c]) > w[c])
                                w[c] = report_width(cell[i][c]);
        }

        alert_list_init(&al);
        overall = report_eval(snaps, n, &al);
        fmt_rfc3339(clock_wall_ms(), ts, sizeof ts);
        fputs("environment: ", stdout);
        termsafe_fputs(cfg->environment ? cfg->environment : "default", TERMSAFE_LINE, stdout);
        printf("   overall: %s   at %s\n\n", severity_name(overall), ts);
        for (int c = 0; c < COL__N; c++)
                report_put_cell(head[c], w[c], false, c == COL__N - 1);
        for (size_t i = 0; i < n; i++) {
                for (int c = 0; c < COL__N; c++) {
                        report_put_cell(cell[i][c], w[c], c == COL_AGE || c == COL_POLL,
                                        c == COL__N - 1);
                        free(cell[i][c]);
                }
        }
        free(cell);

        if (al.n == 0) {
                printf("\nno alerts\n");
        } else {
                printf("\nALERTS (%zu)\n", al.n);
                for (size_t i = 0; i < al.n; i++) {
                        const struct alert *x = &al.v[i];

                        report_flatten(x->message, buf, sizeof buf, 0);
                        printf("  %-4s  ", x->sev == SEV_CRIT ? "CRIT" : "WARN");
                        if (!report_names_source(buf, x->source)) {
                                termsafe_fputs(x->source, TERMSAFE_LINE, stdout);
                                fputs(": ", stdout);
                        }
                        termsafe_fputs(buf, TERMSAFE_LINE, stdout);
                        putchar('\n');
                }
        }
        alert_list_done(&al);
}

int report_status(struct app *a, bool json)
{
        size_t n = a->cfg->n_sources;
        struct snapshot **snaps = xcalloc(n ? n : 1, sizeof *snaps);

        report_collect(a, snaps);
        if (json) {
                cJSON *doc = report_json((const struct snapshot *const *)snaps,
                                         a->cfg->sources, n, clock_wall_ms());
                /* Compact, one document per line: stable for scripts and
                 * logs; `| jq .` makes it pretty. */
                char *txt = json_print_safe(doc);

                if (txt)
                        printf("%s\n", txt);
                free(txt);
                cJSON_Delete(doc);
        } else {
                report_print_table(a->cfg, (const struct snapshot *const *)snaps);
        }
        fflush(stdout);
        report_release(snaps, n);
        return 0;
}

int report_check(struct app *a)
{
        size_t n = a->cfg->n_sources;
        struct snapshot **snaps = xcalloc(n ? n : 1, sizeof *snaps);
        char *line;
        int rc = 3;

        report_collect(a, snaps);
        line = report_check_line((const struct snapshot *const *)snaps, a->cfg->sources, n, &rc);
        printf("%s\n", line);
        fflush(stdout);
        free(line);
        report_release(snaps, n);
        return rc;
}
