/*
 * runbook_cli: `lambdaops runbook VERB` (runbook_cli.h). One function per
 * verb (rb_cmd_*), all behind the same start: the options, the config and
 * the runbook set loaded and checked against the config. A new verb is an
 * entry of rb_verbs and its function.
 *
 * Everything printed as text goes through termsafe (titles, descriptions
 * and alert messages come from files and servers); JSON through cJSON.
 */
#include "runbook/runbook_cli.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bringup/expr.h"
#include "core/app.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "core/opt.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/util.h"
#include "runbook/runbook.h"
#include "runbook/runbook_run_cli.h"

enum { RB_OPT_JSON = 256 };

static const struct opt_def rb_optdefs[] = {
        { "config", 'c', true,  'c' },
        { "json",   0,   false, RB_OPT_JSON },
        { "help",   'h', false, 'h' },
        { NULL, 0, false, 0 },
};

struct rb_opts {
        const char  *config;
        bool         json, help;
        char       **args;              /* the words after `runbook VERB` */
        int          nargs;
};

/* What every verb gets: its options and the loaded config and set. */
struct rb_ctx {
        const struct rb_opts *o;
        struct config        *cfg;
        struct runbook_set    set;
};

static int rb_cmd_list(struct rb_ctx *x);
static int rb_cmd_show(struct rb_ctx *x);

static const struct rb_verb {
        const char *name;
        int         min_args, max_args;         /* words after the verb */
        const char *usage;
        int (*fn)(struct rb_ctx *x);
} rb_verbs[] = {
        { "list", 0, 0, "runbook list [--json]", rb_cmd_list },
        { "show", 1, 1, "runbook show ID", rb_cmd_show },
};

bool runbook_is_command(int argc, char **argv, const struct opt_def *main_defs)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        return false;
                if (argv[i][0] == '-') {
                        if (opt_takes_value(rb_optdefs, argv[i]) ||
                            (main_defs && opt_takes_value(main_defs, argv[i])))
                                i++;
                        continue;
                }
                return !strcmp(argv[i], "runbook");
        }
        return false;
}

static void rb_help(FILE *f)
{
        fputs("Usage: lambdaops [-c CONFIG] runbook VERB ...\n"
              "\n", f);
        for (size_t i = 0; i < LO_ARRAY_LEN(rb_verbs); i++)
                fprintf(f, "       lambdaops %s\n", rb_verbs[i].usage);
        fputs("       lambdaops runbook run ID [--input NAME=VALUE]... [--yes] [--dry-run]\n"
              "       lambdaops runbook resume RUN [--yes]\n"
              "       lambdaops runbook log RUN [--json]\n", f);
        fputs("\n"
              "list shows the runbooks of the config's `runbooks:` (polling every source\n"
              "once: a runbook whose `when:` matches a live alert is suggested); show\n"
              "prints one runbook's inputs and steps.\n"
              "\n"
              "Exit status: 0 ok, 64 usage, 66 unknown runbook, 78 invalid config or\n"
              "runbook.\n", f);
}

static int rb_usage(const char *msg, const char *arg)
{
        termsafe_fprintf(stderr, "lambdaops: %s%s%s%s\nTry 'lambdaops runbook --help'.\n", msg,
                         arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
        return RUNBOOK_EXIT_USAGE;
}

/* Fills *o; returns the verb, or NULL with *rc the exit code. */
static const struct rb_verb *rb_parse(int argc, char **argv, struct rb_opts *o, int *rc)
{
        struct opt_parser op;
        const struct rb_verb *v = NULL;
        int ch, first;

        memset(o, 0, sizeof *o);
        opt_init(&op, argc, argv, rb_optdefs);
        while ((ch = opt_next(&op)) != OPT_END) {
                switch (ch) {
                case 'c':
                        o->config = op.arg;
                        break;
                case RB_OPT_JSON:
                        o->json = true;
                        break;
                case 'h':
                        o->help = true;
                        break;
                case OPT_ERR_VALUE:
                        opt_done(&op);
                        *rc = rb_usage("option needs a value:", op.bad);
                        return NULL;
                default:
                        opt_done(&op);
                        if (op.bad_short) {
                                char s[3] = { '-', (char)op.bad_short, '\0' };

                                *rc = rb_usage("unknown option", s);
                        } else {
                                *rc = rb_usage("unknown option", op.bad);
                        }
                        return NULL;
                }
        }
        first = opt_operands(&op);
        opt_done(&op);
        /* argv[first] is "runbook". */
        if (o->help) {
                rb_help(stdout);
                *rc = RUNBOOK_EXIT_OK;
                return NULL;
        }
        if (argc - first < 2) {
                *rc = rb_usage("runbook: expected a verb (list, show, run, resume, log)", NULL);
                return NULL;
        }
        for (size_t i = 0; i < LO_ARRAY_LEN(rb_verbs); i++)
                if (!strcmp(argv[first + 1], rb_verbs[i].name))
                        v = &rb_verbs[i];
        if (!v) {
                *rc = rb_usage("runbook: unknown verb", argv[first + 1]);
                return NULL;
        }
        o->args = argv + first + 2;
        o->nargs = argc - first - 2;
        if (o->nargs < v->min_args || o->nargs > v->max_args) {
                char msg[128];

                snprintf(msg, sizeof msg, "expected '%s'", v->usage);
                *rc = rb_usage(msg, NULL);
                return NULL;
        }
        if (o->json && v->fn != rb_cmd_list) {
                *rc = rb_usage("--json only applies to 'runbook list'", NULL);
                return NULL;
        }
        return v;
}

int runbook_cli_config_check(const struct config *cfg, size_t *n, struct err *err)
{
        struct runbook_set set;

        *n = 0;
        if (runbook_set_load(&set, cfg, err) != 0)
                return -1;
        for (size_t i = 0; i < set.n; i++)
                if (runbook_check_config(set.v[i], cfg, err) != 0) {
                        runbook_set_done(&set);
                        return -1;
                }
        *n = set.n;
        runbook_set_done(&set);
        return 0;
}

int runbook_main(int argc, char **argv)
{
        const struct rb_verb *v;
        struct rb_opts o;
        struct rb_ctx x;
        struct err err;
        char *path;
        size_t n;
        int rc = 0;

        /* run, resume and log: runbook_run_cli.c */
        if (runbook_run_cli_is(argc, argv))
                return runbook_run_main(argc, argv);
        v = rb_parse(argc, argv, &o, &rc);
        if (!v)
                return rc;
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
        memset(&x, 0, sizeof x);
        x.o = &o;
        err_clear(&err);
        path = config_find(o.config, &err);
        if (!path) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg[0] ? err.msg :
                                 "no config file found");
                return RUNBOOK_EXIT_CONFIG;
        }
        x.cfg = config_load_file(path, &err);
        free(path);
        if (!x.cfg || runbook_cli_config_check(x.cfg, &n, &err) != 0 ||
            runbook_set_load(&x.set, x.cfg, &err) != 0) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg);
                config_free(x.cfg);
                return RUNBOOK_EXIT_CONFIG;
        }
        rc = v->fn(&x);
        runbook_set_done(&x.set);
        config_free(x.cfg);
        return rc;
}

/* --- list ------------------------------------------------------------------ */

/* Polls every source once in parallel, as `status` does: snaps[i] gets an
 * owned reference (NULL when the source did not answer in time). */
static int rb_poll(struct config *cfg, struct snapshot **snaps)
{
        struct app a;
        struct sigaction sa;
        int64_t t0;

        memset(&a, 0, sizeof a);
        a.cfg = cfg;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "lambdaops: libcurl initialisation failed\n");
                return -1;
        }
        if (pipe(a.wake_pipe) != 0) {
                fprintf(stderr, "lambdaops: pipe: %s\n", strerror(errno));
                curl_global_cleanup();
                return -1;
        }
        for (int i = 0; i < 2; i++) {
                fcntl(a.wake_pipe[i], F_SETFD, FD_CLOEXEC);
                fcntl(a.wake_pipe[i], F_SETFL, fcntl(a.wake_pipe[i], F_GETFL) | O_NONBLOCK);
        }
        app_start_collectors(&a, true);
        t0 = clock_mono_ms();
        for (size_t i = 0; i < a.n_colls; i++) {
                const struct source_cfg *src = collector_source(a.colls[i]);

                collector_wait_gen(a.colls[i], 1, t0 + src->timeout_ms + REPORT_MARGIN_MS);
                snaps[i] = collector_latest(a.colls[i], NULL);
        }
        app_stop_collectors(&a);
        close(a.wake_pipe[0]);
        close(a.wake_pipe[1]);
        curl_global_cleanup();
        return 0;
}

static bool rb_any_when(const struct runbook_set *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (set->v[i]->n_when)
                        return true;
        return false;
}

static const char *rb_sev_word(enum severity s)
{
        return s == SEV_CRIT ? "critical" : s == SEV_WARN ? "warning" : severity_name(s);
}

/* The alerts and status matches of one runbook, as a JSON array. */
static cJSON *rb_matches(const struct runbook *rb, const struct config *cfg,
                         const struct alert_list *alerts, cJSON *const *docs)
{
        cJSON *arr = cJSON_CreateArray();

        for (size_t i = 0; i < alerts->n; i++) {
                const struct alert *a = &alerts->v[i];
                const struct source_cfg *src = config_source(cfg, a->source);
                cJSON *m;

                if (!runbook_matches_alert(rb, a, src ? src->kind : ""))
                        continue;
                /* The keys and words of `status --json`'s alerts. */
                m = cJSON_CreateObject();
                cJSON_AddStringToObject(m, "source", a->source);
                cJSON_AddStringToObject(m, "metric", a->metric);
                json_add_str(m, "subject", a->subject[0] ? a->subject : NULL);
                cJSON_AddStringToObject(m, "severity", severity_name(a->sev));
                cJSON_AddStringToObject(m, "message", a->message);
                cJSON_AddNullToObject(m, "expr");
                cJSON_AddItemToArray(arr, m);
        }
        /* A source whose status an expression entry holds on: the entry's
         * expression in "expr", no alert fields. */
        for (size_t i = 0; docs && i < cfg->n_sources; i++) {
                const struct source_cfg *src = &cfg->sources[i];

                for (size_t j = 0; j < rb->n_when; j++) {
                        const struct runbook_when *w = &rb->when[j];
                        struct runbook one = { .when = (struct runbook_when *)w, .n_when = 1 };
                        cJSON *m;
                        char *msg;

                        if (!w->expr || !runbook_matches_status(&one, src->name, src->kind,
                                                                docs[i]))
                                continue;
                        m = cJSON_CreateObject();
                        cJSON_AddStringToObject(m, "source", src->name);
                        cJSON_AddNullToObject(m, "metric");
                        cJSON_AddNullToObject(m, "subject");
                        cJSON_AddNullToObject(m, "severity");
                        msg = xasprintf("%s: %s holds", src->name, expr_text(w->expr));
                        cJSON_AddStringToObject(m, "message", msg);
                        free(msg);
                        cJSON_AddStringToObject(m, "expr", expr_text(w->expr));
                        cJSON_AddItemToArray(arr, m);
                }
        }
        return arr;
}

static void rb_list_text(const cJSON *doc)
{
        const cJSON *rbs = cJSON_GetObjectItemCaseSensitive(doc, "runbooks"), *r;
        int w = 2;

        cJSON_ArrayForEach(r, rbs) {
                int l = (int)strlen(cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring);

                w = l > w ? l : w;
        }
        if (!cJSON_GetArraySize(rbs)) {
                printf("no runbooks (see the config's `runbooks:` key)\n");
                return;
        }
        termsafe_fprintf(stdout, "  %-*s  %s\n", w, "ID", "TITLE");
        cJSON_ArrayForEach(r, rbs) {
                const cJSON *m, *ms = cJSON_GetObjectItemCaseSensitive(r, "matched_alerts");
                bool sug = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "suggested"));

                termsafe_fprintf(stdout, "%s %-*s  %s\n", sug ? "*" : " ", w,
                                 cJSON_GetObjectItemCaseSensitive(r, "id")->valuestring,
                                 cJSON_GetObjectItemCaseSensitive(r, "title")->valuestring);
                cJSON_ArrayForEach(m, ms) {
                        const char *sev = cJSON_GetStringValue(
                                cJSON_GetObjectItemCaseSensitive(m, "severity"));
                        char line[600];

                        snprintf(line, sizeof line, "    %s: %s", sev ? sev : "status",
                                 cJSON_GetObjectItemCaseSensitive(m, "message")->valuestring);
                        termsafe_fputs(line, TERMSAFE_LINE, stdout);
                        putchar('\n');
                }
        }
        printf("(* suggested: a live alert or status matches its `when:`)\n");
}

static int rb_cmd_list(struct rb_ctx *x)
{
        size_t n = x->cfg->n_sources;
        struct snapshot **snaps = xcalloc(n ? n : 1, sizeof *snaps);
        cJSON **docs = xcalloc(n ? n : 1, sizeof *docs);
        struct alert_list alerts;
        cJSON *doc, *arr;

        alert_list_init(&alerts);
        /* No `when:` anywhere: nothing to poll for. */
        if (n && rb_any_when(&x->set)) {
                if (rb_poll(x->cfg, snaps) != 0) {
                        free(snaps);
                        free(docs);
                        return RUNBOOK_EXIT_FAILED;
                }
                report_eval((const struct snapshot *const *)snaps, n, &alerts);
                for (size_t i = 0; i < n; i++)
                        docs[i] = report_json_source(snaps[i], &x->cfg->sources[i]);
        }
        doc = cJSON_CreateObject();
        arr = cJSON_AddArrayToObject(doc, "runbooks");
        for (size_t i = 0; i < x->set.n; i++) {
                const struct runbook *rb = x->set.v[i];
                cJSON *r = cJSON_CreateObject(), *m = rb_matches(rb, x->cfg, &alerts, docs);

                cJSON_AddStringToObject(r, "id", rb->id);
                cJSON_AddStringToObject(r, "title", rb->title);
                cJSON_AddStringToObject(r, "file", rb->path);
                cJSON_AddBoolToObject(r, "suggested", cJSON_GetArraySize(m) > 0);
                cJSON_AddItemToObject(r, "matched_alerts", m);
                cJSON_AddItemToArray(arr, r);
        }
        if (x->o->json) {
                char *t = json_print_safe(doc);

                if (t)
                        printf("%s\n", t);
                free(t);
        } else {
                rb_list_text(doc);
        }
        fflush(stdout);
        cJSON_Delete(doc);
        for (size_t i = 0; i < n; i++) {
                cJSON_Delete(docs[i]);
                snapshot_unref(snaps[i]);
        }
        free(docs);
        free(snaps);
        alert_list_done(&alerts);
        return RUNBOOK_EXIT_OK;
}

/* --- show ------------------------------------------------------------------ */

/* A duration as written in runbooks: "10m", "30s", "1h", "1500ms". */
static void rb_dur(int64_t ms, char *buf, size_t n)
{
        if (ms > 0 && ms % 3600000 == 0)
                snprintf(buf, n, "%lldh", (long long)(ms / 3600000));
        else if (ms > 0 && ms % 60000 == 0)
                snprintf(buf, n, "%lldm", (long long)(ms / 60000));
        else if (ms > 0 && ms % 1000 == 0)
                snprintf(buf, n, "%llds", (long long)(ms / 1000));
        else
                snprintf(buf, n, "%lldms", (long long)ms);
}

/* One growing text, printed through termsafe at the end. */
struct rb_buf {
        char  *s;
        size_t n, cap;
};

static void rb_add(struct rb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rb_add(struct rb_buf *b, const char *fmt, ...)
{
        va_list ap;
        int need;

        va_start(ap, fmt);
        need = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (need < 0)
                return;
        if (b->n + (size_t)need + 1 > b->cap) {
                b->cap = 2 * (b->n + (size_t)need + 1);
                b->s = xrealloc(b->s, b->cap);
        }
        va_start(ap, fmt);
        vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        b->n += (size_t)need;
}

static void rb_show_input(struct rb_buf *b, const struct runbook_input *in)
{
        rb_add(b, "  %s: %s", in->name, runbook_input_type_name(in->type));
        if (in->type == RB_IN_SOURCE && in->kind)
                rb_add(b, " (%s)", in->kind);
        if (in->type == RB_IN_TARGET)
                rb_add(b, " (%s)", runbook_target_name(in->target));
        if (in->type == RB_IN_ENUM) {
                rb_add(b, " (");
                for (size_t i = 0; i < in->n_values; i++)
                        rb_add(b, "%s%s", i ? ", " : "", in->values[i]);
                rb_add(b, ")");
        }
        if (in->has_min || in->has_max) {
                if (in->has_min)
                        rb_add(b, " %lld", (long long)in->min);
                else
                        rb_add(b, " ");
                rb_add(b, "..");
                if (in->has_max)
                        rb_add(b, "%lld", (long long)in->max);
        }
        if (in->def)
                rb_add(b, ", default %s", in->def);
        if (in->from_alert != RB_FROM_NONE)
                rb_add(b, ", from the alert's %s", in->from_alert == RB_FROM_SOURCE ? "source" :
                       in->from_alert == RB_FROM_SUBJECT ? "subject" : "metric");
        rb_add(b, "\n");
}

static void rb_show_step(struct rb_buf *b, const struct runbook *rb, size_t i)
{
        const struct runbook_step *s = &rb->steps[i];
        char d[32];

        rb_add(b, "  %zu. %s [%s%s%s]%s%s\n", i + 1, s->id, runbook_step_kind_name(s->kind),
               s->mutating ? ", mutating" : "", s->dangerous ? ", dangerous" : "",
               s->title ? " " : "", s->title ? s->title : "");
        switch (s->kind) {
        case RB_STEP_CHECK:
        case RB_STEP_WAIT:
                rb_add(b, "     %s on %s: %s", s->kind == RB_STEP_CHECK ? "holds" : "until",
                       s->cond.source, expr_text(s->cond.expr));
                if (s->cond.for_ms) {
                        rb_dur(s->cond.for_ms, d, sizeof d);
                        rb_add(b, " (for %s)", d);
                }
                rb_add(b, "\n");
                break;
        case RB_STEP_ACTION:
                rb_add(b, "     act %s %s %s%s%s\n", s->act_source, s->act_action, s->act_target,
                       s->act_arg ? " " : "", s->act_arg ? s->act_arg : "");
                break;
        case RB_STEP_RUN:
                rb_add(b, "     run");
                for (size_t j = 0; j < s->n_argv; j++)
                        rb_add(b, " %s", s->argv[j]);
                rb_add(b, "\n");
                break;
        case RB_STEP_MANUAL:
                rb_add(b, "     %s\n", s->manual);
                break;
        case RB_STEP_CHOOSE:
                for (size_t j = 0; j < s->n_choices; j++)
                        rb_add(b, "     %zu) %s -> %s\n", j + 1, s->choices[j].label,
                               s->choices[j].go);
                break;
        }
        rb_dur(s->timeout_ms, d, sizeof d);
        rb_add(b, "     timeout %s, retries %d, on_fail %s\n", d, s->retries,
               s->on_fail == RB_FAIL_STOP ? "stop" : s->on_fail == RB_FAIL_CONTINUE ?
               "continue" : s->on_fail_goto);
        if (s->has_next)
                rb_add(b, "     then %s\n", s->next);
}

static int rb_cmd_show(struct rb_ctx *x)
{
        const struct runbook *rb = runbook_set_find(&x->set, x->o->args[0]);
        struct rb_buf b = { 0 };
        char d[32], f[32];

        if (!rb) {
                struct rb_buf known = { 0 };

                for (size_t i = 0; i < x->set.n; i++)
                        rb_add(&known, "%s%s", i ? ", " : "", x->set.v[i]->id);
                termsafe_fprintf(stderr, "lambdaops: runbook: no runbook \"%s\" (%s%s)\n",
                                 x->o->args[0], x->set.n ? "known: " : "the config loads none",
                                 known.s ? known.s : "");
                free(known.s);
                return RUNBOOK_EXIT_UNKNOWN;
        }
        rb_add(&b, "%s: %s\nfile: %s\n", rb->id, rb->title, rb->path);
        if (rb->description)
                rb_add(&b, "\n%s%s", rb->description,
                       rb->description[strlen(rb->description) - 1] == '\n' ? "" : "\n");
        if (rb->n_when) {
                rb_add(&b, "\nwhen:\n");
                for (size_t i = 0; i < rb->n_when; i++) {
                        const struct runbook_when *w = &rb->when[i];

                        rb_add(&b, " ");
                        if (w->kind)
                                rb_add(&b, " kind=%s", w->kind);
                        if (w->source)
                                rb_add(&b, " source=%s", w->source);
                        if (w->metric)
                                rb_add(&b, " metric=%s", w->metric);
                        if (w->subject)
                                rb_add(&b, " subject=%s", w->subject);
                        if (w->severity != SEV_OK)
                                rb_add(&b, " severity=%s", rb_sev_word(w->severity));
                        if (w->expr)
                                rb_add(&b, " expr: %s", expr_text(w->expr));
                        rb_add(&b, "\n");
                }
        }
        if (rb->n_inputs) {
                rb_add(&b, "\ninputs:\n");
                for (size_t i = 0; i < rb->n_inputs; i++)
                        rb_show_input(&b, &rb->inputs[i]);
        }
        rb_add(&b, "\nsteps:\n");
        for (size_t i = 0; i < rb->n_steps; i++)
                rb_show_step(&b, rb, i);
        if (rb->n_verify) {
                rb_add(&b, "\nverify:\n");
                for (size_t i = 0; i < rb->n_verify; i++) {
                        const struct runbook_cond *c = &rb->verify[i];

                        rb_dur(c->timeout_ms, d, sizeof d);
                        rb_dur(c->for_ms, f, sizeof f);
                        rb_add(&b, "  holds on %s: %s", c->source, expr_text(c->expr));
                        if (c->for_ms)
                                rb_add(&b, " (for %s)", f);
                        rb_add(&b, ", timeout %s\n", d);
                }
        }
        termsafe_fputs(b.s, TERMSAFE_LINES, stdout);
        fflush(stdout);
        free(b.s);
        return RUNBOOK_EXIT_OK;
}
