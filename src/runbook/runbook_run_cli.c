/*
 * runbook_run_cli: `lambdaops runbook run|resume|log` (runbook_run_cli.h).
 */
#include "runbook/runbook_run_cli.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/jsonout.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/util.h"
#include "runbook/ledger.h"
#include "runbook/runbook.h"
#include "runbook/runbook_cli.h"
#include "runbook/runbook_run.h"

/* How long a status read waits for the collector's next poll, on top of the
 * source's own timeout. */
#define RRC_STATUS_SLACK_MS 5000

struct rrc_src {
        const struct source_cfg *src;
        struct collector *c;
};

struct rrc {
        const struct config *cfg;
        struct rrc_src *srcs;
        size_t n_srcs;
};

static void rrc_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void rrc_err(const char *fmt, ...)
{
        va_list ap;
        char buf[1024];

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        fputs("lambdaops: runbook: ", stderr);
        termsafe_fputs(buf, TERMSAFE_LINES, stderr);
        fputc('\n', stderr);
}

/* --- the driver ------------------------------------------------------------- */

/* The source's status now: its collector is started on first use, and
 * later reads ask for a fresh poll and wait for it. */
static cJSON *rrc_status(void *arg, const char *name, struct err *err)
{
        struct rrc *d = arg;
        const struct source_cfg *src = config_source(d->cfg, name);
        struct rrc_src *s = NULL;
        struct snapshot *snap;
        uint64_t want;
        int64_t deadline;
        cJSON *doc;

        if (!src) {
                err_set(err, ENOENT, "no source named '%s' (check the config's sources)", name);
                return NULL;
        }
        for (size_t i = 0; i < d->n_srcs; i++)
                if (d->srcs[i].src == src)
                        s = &d->srcs[i];
        deadline = clock_mono_ms() + src->timeout_ms + RRC_STATUS_SLACK_MS;
        if (!s) {
                d->srcs = xrealloc(d->srcs, (d->n_srcs + 1) * sizeof *d->srcs);
                s = &d->srcs[d->n_srcs++];
                s->src = src;
                s->c = collector_start(src, -1, false);
                want = 1;
        } else {
                want = collector_gen(s->c) + 1;
                collector_refresh(s->c);
        }
        if (!collector_wait_gen(s->c, want, deadline)) {
                err_set(err, ETIMEDOUT, "no answer from %s in time", src->name);
                return NULL;
        }
        snap = collector_latest(s->c, NULL);
        if (!snap || snap->status == COLL_DOWN || snap->status == COLL_UNKNOWN) {
                err_set(err, EIO, "source down: %s",
                        snap && snap->error[0] ? snap->error : "no answer");
                snapshot_unref(snap);
                return NULL;
        }
        doc = report_json_source(snap, src);
        if (!cJSON_GetObjectItemCaseSensitive(doc, "name"))
                cJSON_AddStringToObject(doc, "name", src->name);
        snapshot_unref(snap);
        return doc;
}

static void rrc_show(void *arg, const char *text)
{
        (void)arg;
        termsafe_fputs(text, TERMSAFE_LINES, stdout);
        fputc('\n', stdout);
        fflush(stdout);
}

/* One line from stdin without its newline; false at EOF. */
static bool rrc_read(char *line, size_t n)
{
        fflush(stdout);
        fflush(stderr);
        if (!fgets(line, (int)n, stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return true;
}

static bool rrc_yes(const char *line)
{
        return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
}

/* As `lambdaops act`: a dangerous step needs the word typed. */
static enum runbook_answer rrc_confirm(void *arg, const char *plan, const char *typed)
{
        char line[256];

        (void)arg;
        /* Without a terminal nothing is answered from stdin: the engine
         * only asks then when --yes cannot (a step to run again on resume). */
        if (!isatty(STDIN_FILENO))
                return RB_ANS_ABORT;
        (void)plan;     /* the engine showed it */
        if (typed)
                termsafe_fprintf(stderr, "This is dangerous. Type %s to run it: ", typed);
        else
                fputs("Run it? [y/N] ", stderr);
        if (!rrc_read(line, sizeof line))
                return RB_ANS_ABORT;
        if (typed)
                return strcmp(line, typed) == 0 ? RB_ANS_YES : RB_ANS_NO;
        return rrc_yes(line) ? RB_ANS_YES : RB_ANS_NO;
}

static enum runbook_answer rrc_manual(void *arg, const char *text)
{
        char line[256];

        (void)arg;
        fputs("  ", stderr);
        termsafe_fputs(text, TERMSAFE_LINES, stderr);
        fputs("\nDone? [y/N] ", stderr);
        if (!rrc_read(line, sizeof line))
                return RB_ANS_ABORT;
        return rrc_yes(line) ? RB_ANS_YES : RB_ANS_NO;
}

static int rrc_choose(void *arg, const char *const *labels, size_t n)
{
        char line[64], *end;
        long k;

        (void)arg;
        for (size_t i = 0; i < n; i++)
                termsafe_fprintf(stderr, "  %zu. %s\n", i + 1, labels[i]);
        fprintf(stderr, "Choose 1-%zu (empty to abort): ", n);
        if (!rrc_read(line, sizeof line) || !line[0])
                return -1;
        errno = 0;
        k = strtol(line, &end, 10);
        if (errno || *end || k < 1 || (size_t)k > n)
                return -1;
        return (int)(k - 1);
}

/* A plain sleep: Ctrl-C ends the process, and the ledger keeps the run
 * resumable from its last record. */
static bool rrc_wait(void *arg, int64_t ms)
{
        (void)arg;
        if (ms > 0)
                poll(NULL, 0, ms > 60000 ? 60000 : (int)ms);
        return false;
}

static void rrc_done(struct rrc *d)
{
        for (size_t i = 0; i < d->n_srcs; i++)
                collector_stop_all(&d->srcs[i].c, 1);
        free(d->srcs);
}

/* --- run, resume ------------------------------------------------------------ */

/* Whether running rb would ask the operator (so needs a terminal). */
static const char *rrc_needs_tty(const struct runbook *rb, bool yes)
{
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];

                if (s->kind == RB_STEP_MANUAL || s->kind == RB_STEP_CHOOSE)
                        return s->id;
                if (!yes && s->mutating && (s->kind == RB_STEP_RUN || s->kind == RB_STEP_ACTION))
                        return s->id;
        }
        return NULL;
}

static void rrc_help(FILE *f)
{
        fputs("usage: lambdaops runbook run ID [--input NAME=VALUE]... [--yes] [--dry-run]\n"
              "       lambdaops runbook resume RUN [--yes]\n"
              "       lambdaops runbook log RUN [--json]\n", f);
}

static int rrc_usage(const char *msg)
{
        rrc_err("%s", msg);
        rrc_help(stderr);
        return RUNBOOK_EXIT_USAGE;
}

static int rrc_help_exit(void)
{
        rrc_help(stdout);
        fputs("\n"
              "run runs a runbook's steps in order: checks and waits on the sources'\n"
              "status, actions (shown, confirmed, audited with the run id), programs,\n"
              "manual steps and choices; then its verify conditions. Every step is\n"
              "recorded in $XDG_STATE_HOME/lambdaops/runs/RUN.jsonl. --dry-run prints\n"
              "every step resolved and the checks' current values, and changes nothing.\n"
              "resume continues a run that was interrupted (a crash, a kill) at its\n"
              "first unfinished step; a completed change is never made again unasked.\n"
              "log prints a run's records (--json: as a JSON array).\n"
              "\n"
              "Exit status: 0 ok, 1 a step or verify failed, 2 aborted, 64 usage, 66\n"
              "unknown runbook or run, 73 another run holds the lock, 75 no terminal\n"
              "and no --yes, 77 read-only, 78 invalid config or runbook.\n", stdout);
        return RUNBOOK_EXIT_OK;
}

static int rrc_run(const struct config *cfg, const struct runbook_set *set, bool read_only,
                   int argc, char **argv, bool resume)
{
        struct runbook_inputs in = { 0 };
        struct runbook_run_opts o = { .read_only = read_only, .via = "cli" };
        struct rrc d = { .cfg = cfg };
        struct runbook_driver drv = {
                .arg = &d, .status = rrc_status, .show = rrc_show, .confirm = rrc_confirm,
                .manual = rrc_manual, .choose = rrc_choose, .wait = rrc_wait,
        };
        const struct runbook *rb = NULL;
        const char *operand = NULL, *step;
        char *rb_id = NULL, *run_id = NULL;
        struct err err;
        int rc = 0, n_kv = 0;
        char **kv = xcalloc((size_t)argc + 1, sizeof *kv);

        err_clear(&err);
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
                        o.yes = true;
                } else if (!resume && strcmp(a, "--dry-run") == 0) {
                        o.dry_run = true;
                } else if (!resume && strcmp(a, "--input") == 0 && i + 1 < argc) {
                        kv[n_kv++] = argv[++i];
                } else if (!resume && strncmp(a, "--input=", 8) == 0) {
                        kv[n_kv++] = argv[i] + 8;
                } else if (a[0] == '-' && a[1]) {
                        char *m = xasprintf("%s: unknown option or missing value: %s",
                                            argv[0], a);

                        rc = rrc_usage(m);
                        free(m);
                        goto out;
                } else if (!operand) {
                        operand = a;
                } else {
                        rc = rrc_usage("too many operands");
                        goto out;
                }
        }
        if (!operand) {
                rc = rrc_usage(resume ? "resume: which run?" : "run: which runbook?");
                goto out;
        }
        if (resume) {
                if (runbook_run_load(operand, &rb_id, &in, &err) != 0) {
                        rrc_err("resume: %s", err.msg);
                        rc = RUNBOOK_EXIT_UNKNOWN;
                        goto out;
                }
                o.resume = operand;
        }
        rb = runbook_set_find(set, resume ? rb_id : operand);
        if (!rb) {
                rrc_err("no runbook '%s' (see `lambdaops runbook list`)", resume ? rb_id : operand);
                rc = RUNBOOK_EXIT_UNKNOWN;
                goto out;
        }
        for (int i = 0; i < n_kv; i++) {
                if (runbook_inputs_set(rb, &in, kv[i], &err) != 0) {
                        rrc_err("run: %s", err.msg);
                        rc = RUNBOOK_EXIT_USAGE;
                        goto out;
                }
        }
        if (!resume)
                runbook_inputs_prefill(rb, &in, NULL);
        if (!o.dry_run && !isatty(STDIN_FILENO) && (step = rrc_needs_tty(rb, o.yes))) {
                rrc_err("%s: stdin is not a terminal and step %s needs an answer: pass --yes "
                        "to confirm its steps without a prompt (manual and choose steps "
                        "need a terminal), or --dry-run", rb->id, step);
                rc = RUNBOOK_EXIT_NOTTY;
                goto out;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = runbook_run(rb, &in, cfg, &drv, &o, &run_id, &err);
        rrc_done(&d);
        curl_global_cleanup();
        if (rc != 0)
                rrc_err("%s%s%s: %s", rb->id, run_id ? " run " : "", run_id ? run_id : "",
                        err.msg[0] ? err.msg : "failed");
        if (run_id)
                termsafe_fprintf(stdout, "run %s: %s\n", run_id,
                                 rc == 0 ? "ok" : rc == 2 ? "aborted" : rc == 77 ? "refused"
                                 : "failed");
out:
        free(kv);
        free(rb_id);
        free(run_id);
        runbook_inputs_done(&in);
        return rc;
}

/* --- log ---------------------------------------------------------------------- */

static const char *rrc_str(const cJSON *o, const char *k)
{
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

        return s ? s : "";
}

/* One record for people: "AT  what". */
static void rrc_log_line(const cJSON *r)
{
        const char *ev = rrc_str(r, "ev");
        const cJSON *n;
        char *s = NULL;

        if (strcmp(ev, "start") == 0) {
                char *ins = json_print_safe(cJSON_GetObjectItemCaseSensitive(r, "inputs"));

                s = xasprintf("start %s on %s by %s, inputs %s", rrc_str(r, "runbook"),
                              rrc_str(r, "target"), rrc_str(r, "user"), ins ? ins : "{}");
                free(ins);
        } else if (strcmp(ev, "step") == 0 && strcmp(rrc_str(r, "phase"), "start") == 0) {
                n = cJSON_GetObjectItemCaseSensitive(r, "attempt");
                s = xasprintf("step %s (%s) start, attempt %d", rrc_str(r, "step"),
                              rrc_str(r, "kind"), cJSON_IsNumber(n) ? n->valueint : 1);
        } else if (strcmp(ev, "step") == 0) {
                const char *req = rrc_str(r, "request"), *val = rrc_str(r, "values");
                const char *e = rrc_str(r, "error");
                char *argv = NULL;

                n = cJSON_GetObjectItemCaseSensitive(r, "argv");
                if (cJSON_IsArray(n))
                        argv = json_print_safe(n);
                s = xasprintf("step %s %s%s%s%s%s%s%s%s%s", rrc_str(r, "step"),
                              rrc_str(r, "result"), *req ? "; request " : "", req,
                              argv ? "; argv " : "", argv ? argv : "",
                              *val ? "; values " : "", val, *e ? "; error: " : "", e);
                free(argv);
                if (*rrc_str(r, "output_tail")) {
                        char *t = xasprintf("%s\n%s", s, rrc_str(r, "output_tail"));

                        free(s);
                        s = t;
                }
        } else if (strcmp(ev, "choice") == 0) {
                s = xasprintf("choice %s: %s -> %s", rrc_str(r, "step"), rrc_str(r, "label"),
                              rrc_str(r, "goto"));
        } else if (strcmp(ev, "verify") == 0) {
                s = xasprintf("verify %s: %s %s (%s)%s%s", rrc_str(r, "source"),
                              rrc_str(r, "expr"), rrc_str(r, "result"), rrc_str(r, "values"),
                              *rrc_str(r, "error") ? " error: " : "", rrc_str(r, "error"));
        } else if (strcmp(ev, "resume") == 0) {
                n = cJSON_GetObjectItemCaseSensitive(r, "from");
                s = xasprintf("resume by %s at step %d", rrc_str(r, "user"),
                              cJSON_IsNumber(n) ? n->valueint + 1 : 0);
        } else if (strcmp(ev, "end") == 0) {
                s = xasprintf("end %s", rrc_str(r, "result"));
        } else {
                s = json_print_safe(r);
        }
        termsafe_fprintf(stdout, "%s  %s\n", rrc_str(r, "at"), s ? s : "");
        free(s);
}

static int rrc_log(int argc, char **argv)
{
        const char *run = NULL;
        bool json = false;
        size_t cut = 0;
        struct err err;
        cJSON *recs, *r;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (argv[i][0] == '-' && argv[i][1])
                        return rrc_usage("log: unknown option");
                else if (!run)
                        run = argv[i];
                else
                        return rrc_usage("log: too many operands");
        }
        if (!run)
                return rrc_usage("log: which run?");
        err_clear(&err);
        recs = ledger_read(run, &cut, &err);
        if (!recs) {
                rrc_err("log: %s", err.msg);
                return RUNBOOK_EXIT_UNKNOWN;
        }
        if (json) {
                char *s = json_print_safe(recs);

                puts(s ? s : "[]");
                free(s);
        } else {
                cJSON_ArrayForEach(r, recs)
                        rrc_log_line(r);
                if (cut)
                        printf("(%zu cut line%s skipped: the run was interrupted while "
                               "writing)\n", cut, cut == 1 ? "" : "s");
        }
        cJSON_Delete(recs);
        return 0;
}

/* The index of the verb (the word after the first "runbook"), or -1. */
static int rrc_verb_index(int argc, char **argv)
{
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], "runbook") == 0)
                        return i + 1;
        return -1;
}

bool runbook_run_cli_is(int argc, char **argv)
{
        int v = rrc_verb_index(argc, argv);

        return v > 0 && (strcmp(argv[v], "run") == 0 || strcmp(argv[v], "resume") == 0 ||
                         strcmp(argv[v], "log") == 0);
}

int runbook_run_main(int argc, char **argv)
{
        int v = rrc_verb_index(argc, argv), n = 0, rc;
        char **args = xcalloc((size_t)argc + 1, sizeof *args), *path;
        const char *config = NULL;
        bool read_only = false;
        struct runbook_set set;
        struct config *cfg;
        struct err err;
        size_t n_rb;

        if (v < 0) {
                free(args);
                return rrc_usage("expected run, resume or log");
        }
        /* The verb and its words, less the options of the whole command. */
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];

                if (i == v - 1)
                        continue;       /* "runbook" */
                if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
                        if (i + 1 >= argc) {
                                free(args);
                                return rrc_usage("-c/--config needs a value");
                        }
                        config = argv[++i];
                } else if (strncmp(a, "--config=", 9) == 0) {
                        config = a + 9;
                } else if (strcmp(a, "--read-only") == 0) {
                        read_only = true;
                } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        free(args);
                        return rrc_help_exit();
                } else if (i >= v) {
                        args[n++] = argv[i];
                } else {
                        char *m = xasprintf("unknown option before 'runbook': %s", a);

                        rc = rrc_usage(m);
                        free(m);
                        free(args);
                        return rc;
                }
        }
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
        /* A program of a run step or a server closing early: an error, not death. */
        signal(SIGPIPE, SIG_IGN);
        if (strcmp(args[0], "log") == 0) {
                /* The ledger needs no config. */
                rc = rrc_log(n, args);
                free(args);
                return rc;
        }
        err_clear(&err);
        path = config_find(config, &err);
        if (!path) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg[0] ? err.msg :
                                 "no config file found");
                free(args);
                return RUNBOOK_EXIT_CONFIG;
        }
        cfg = config_load_file(path, &err);
        free(path);
        if (!cfg || runbook_cli_config_check(cfg, &n_rb, &err) != 0 ||
            runbook_set_load(&set, cfg, &err) != 0) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg);
                config_free(cfg);
                free(args);
                return RUNBOOK_EXIT_CONFIG;
        }
        rc = rrc_run(cfg, &set, read_only || cfg->read_only, n, args,
                     strcmp(args[0], "resume") == 0);
        runbook_set_done(&set);
        config_free(cfg);
        free(args);
        return rc;
}
