/*
 * bringup_cli: `lambdaops plan|up|down`. See bringup_cli.h for the contract and
 * plan.h for the plan and the progress file.
 *
 * One runner at a time per plan: the progress file records our PID and
 * "running": true while we work, and a second `up` refuses while that PID
 * is alive. SIGINT/SIGTERM write to a self-pipe that subproc and the gate
 * wait both watch, so the current child is stopped and the stage recorded
 * "failed: interrupted".
 */
/* POSIX_SPAWN_SETSID is a GNU extension (glibc 2.26). */
#define _GNU_SOURCE
#include "bringup/bringup_cli.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "bringup/expr.h"
#include "bringup/plan.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "core/subproc.h"
#include "core/termsafe.h"
#include "core/util.h"

/* How many lines of the current step's output the progress file keeps. */
#define BRINGUP_TAIL_LINES 50
#define BRINGUP_TAIL_BYTES 16384
/* How often the progress file is rewritten while output streams. */
#define BRINGUP_WRITE_EVERY_MS 250

enum bu_cmd { BU_PLAN, BU_UP, BU_DOWN };

struct bu_opts {
        enum bu_cmd  cmd;
        const char  *plan, *from, *only;
        const char  *config;            /* -c/--config: instead of the plan's config */
        bool         dry_run, yes, read_only;
};

struct runner {
        const struct bu_opts *o;
        struct plan   *plan;
        struct config *cfg;             /* owned or NULL (no config in the plan) */
        char          *prog_path;
        cJSON         *prog;
        char          *audit_path;
        const char    *context;         /* plan var "context", or NULL */
        int            wake[2];         /* gate collectors publish here */
        cJSON         *cur_stage;       /* borrowed from prog: the stage running */
        char           tail[BRINGUP_TAIL_BYTES];
        size_t         tail_len;
        int64_t        last_write;
        char           carry[4];        /* a UTF-8 sequence cut between two reads */
        size_t         carry_len;
};

/* Messages quote plan names, gate texts, server answers and errors: every
 * one passes termsafe on its way to the terminal (newlines kept). */
static void bringup_vsay(FILE *f, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
static void bringup_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bringup_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void bringup_vsay(FILE *f, const char *fmt, va_list ap)
{
        char small[512], *s = small;
        va_list copy;
        int n;

        va_copy(copy, ap);
        n = vsnprintf(small, sizeof small, fmt, ap);
        if (n >= 0 && (size_t)n >= sizeof small) {
                s = xmalloc((size_t)n + 1);
                vsnprintf(s, (size_t)n + 1, fmt, copy);
        }
        va_end(copy);
        if (n >= 0)
                termsafe_fputs(s, TERMSAFE_LINES, f);
        if (s != small)
                free(s);
}

static void bringup_out(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        bringup_vsay(stdout, fmt, ap);
        va_end(ap);
}

static void bringup_err(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        bringup_vsay(stderr, fmt, ap);
        va_end(ap);
}

static volatile sig_atomic_t bu_interrupted;
static int bu_stop_pipe[2] = { -1, -1 };

static void bringup_on_signal(int sig)
{
        char b = 1;
        ssize_t w;

        (void)sig;
        bu_interrupted = 1;
        w = write(bu_stop_pipe[1], &b, 1);
        (void)w;
}

/* --- the command line -------------------------------------------------------- */

enum { OPT_PLAN = 300, OPT_FROM, OPT_ONLY, OPT_DRY, OPT_YES, OPT_RO, OPT_CONFIG };

static const struct opt_def bu_optdefs[] = {
        { "plan",      0,   true,  OPT_PLAN },
        { "from",      0,   true,  OPT_FROM },
        { "only",      0,   true,  OPT_ONLY },
        { "dry-run",   0,   false, OPT_DRY },
        { "yes",       0,   false, OPT_YES },
        { "read-only", 0,   false, OPT_RO },
        { "config",    'c', true,  OPT_CONFIG },
        { "help",      'h', false, 'h' },
        { NULL, 0, false, 0 },
};

bool bringup_is_command(int argc, char **argv, const struct opt_def *main_defs)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--"))
                        return false;
                if (argv[i][0] == '-') {
                        if (opt_takes_value(bu_optdefs, argv[i]) ||
                            (main_defs && opt_takes_value(main_defs, argv[i])))
                                i++;
                        continue;
                }
                return !strcmp(argv[i], "plan") || !strcmp(argv[i], "up") ||
                       !strcmp(argv[i], "down");
        }
        return false;
}

static void bringup_help(FILE *f)
{
        fputs("Usage: lambdaops plan [--plan FILE]\n"
              "       lambdaops up   [--plan FILE] [--from STAGE | --only STAGE] [--dry-run] "
              "[--yes] [--read-only] [-c CONFIG]\n"
              "       lambdaops down [--plan FILE] [--from STAGE | --only STAGE] [--dry-run] "
              "[--yes] [--read-only]\n"
              "\n"
              "plan prints every stage with its exact commands, gates and down steps.\n"
              "up runs the stages in order, waits for each stage's gates, records progress\n"
              "and resumes from the first stage not done; down runs the down steps in\n"
              "reverse order. The plan defaults to " BRINGUP_DEFAULT_PLAN "; -c CONFIG\n"
              "replaces the plan's config (the sources its gates read).\n"
              "\n"
              "Exit status: 0 done, 1 failed, 2 cancelled or interrupted, 64 usage,\n"
              "66 no plan file, 75 no terminal and no --yes, 77 read-only, 78 invalid\n"
              "plan or config.\n", f);
}

static int bringup_usage(const char *msg, const char *arg)
{
        bringup_err("lambdaops: %s%s%s%s\nTry 'lambdaops plan --help'.\n", msg,
                    arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
        return BRINGUP_EXIT_USAGE;
}

/* Returns -1 when parsed, else the exit code. */
static int bringup_parse(int argc, char **argv, struct bu_opts *o)
{
        struct opt_parser op;
        const char *word = NULL;
        int ch;

        memset(o, 0, sizeof *o);
        o->plan = BRINGUP_DEFAULT_PLAN;
        opt_init(&op, argc, argv, bu_optdefs);
        while ((ch = opt_next(&op)) != OPT_END) {
                switch (ch) {
                case OPT_PLAN: o->plan = op.arg; break;
                case OPT_FROM: o->from = op.arg; break;
                case OPT_ONLY: o->only = op.arg; break;
                case OPT_DRY: o->dry_run = true; break;
                case OPT_YES: o->yes = true; break;
                case OPT_RO: o->read_only = true; break;
                case OPT_CONFIG: o->config = op.arg; break;
                case 'h':
                        opt_done(&op);
                        bringup_help(stdout);
                        return 0;
                case OPT_ERR_VALUE:
                        opt_done(&op);
                        return bringup_usage("option needs a value:", op.bad);
                default:
                        opt_done(&op);
                        return bringup_usage("unknown option", op.bad);
                }
        }
        for (int i = opt_operands(&op); i < argc; i++) {
                if (word) {
                        opt_done(&op);
                        return bringup_usage("unexpected argument", argv[i]);
                }
                word = argv[i];
        }
        opt_done(&op);
        if (!word)
                return bringup_usage("expected plan, up or down", NULL);
        if (!strcmp(word, "plan"))
                o->cmd = BU_PLAN;
        else if (!strcmp(word, "up"))
                o->cmd = BU_UP;
        else if (!strcmp(word, "down"))
                o->cmd = BU_DOWN;
        else
                return bringup_usage("unknown command", word);
        if (o->cmd == BU_PLAN && (o->from || o->only || o->dry_run || o->yes || o->config))
                return bringup_usage("plan takes only --plan", NULL);
        if (o->from && o->only)
                return bringup_usage("--from and --only exclude each other", NULL);
        return -1;
}

/* --- progress ------------------------------------------------------------------ */

static void bringup_j_set(cJSON *o, const char *k, cJSON *v)
{
        if (cJSON_GetObjectItemCaseSensitive(o, k))
                cJSON_ReplaceItemInObjectCaseSensitive(o, k, v);
        else
                cJSON_AddItemToObject(o, k, v);
}

static void bringup_j_set_str(cJSON *o, const char *k, const char *v)
{
        bringup_j_set(o, k, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

/* Sets k ("started_at") to the RFC 3339 time and its "_ms" twin
 * ("started_ms") to the wall-clock milliseconds, or both to null. */
static void bringup_j_set_time(cJSON *o, const char *k, int64_t wall)
{
        char ts[40], kms[40];
        size_t n = strlen(k);

        snprintf(kms, sizeof kms, "%.*s_ms", (int)(n > 3 ? n - 3 : n), k);
        if (wall <= 0) {
                bringup_j_set(o, k, cJSON_CreateNull());
                bringup_j_set(o, kms, cJSON_CreateNull());
                return;
        }
        fmt_rfc3339(wall, ts, sizeof ts);
        bringup_j_set_str(o, k, ts);
        bringup_j_set(o, kms, cJSON_CreateNumber((double)wall));
}

static void bringup_write(struct runner *r)
{
        struct err e;

        if (r->o->dry_run)
                return;
        err_clear(&e);
        bringup_j_set_time(r->prog, "updated_at", clock_wall_ms());
        if (plan_progress_write(r->prog_path, r->prog, &e) != 0)
                bringup_err("lambdaops: progress: %s\n", e.msg);
        r->last_write = clock_mono_ms();
}

/* The stages array in plan order, keeping what an earlier run recorded. */
static void bringup_prog_init(struct runner *r)
{
        cJSON *old = r->prog, *stages = cJSON_CreateArray();
        struct err e;
        bool missing;

        err_clear(&e);
        if (!old)
                old = plan_progress_read(r->prog_path, &missing, &e);
        if (!old) {
                if (!missing)
                        bringup_err("lambdaops: %s; starting afresh\n", e.msg);
                old = cJSON_CreateObject();
        }
        for (size_t i = 0; i < r->plan->n_stages; i++) {
                const char *name = r->plan->stages[i].name;
                cJSON *s = plan_progress_stage(old, name);

                s = s ? cJSON_Duplicate(s, true) : cJSON_CreateObject();
                bringup_j_set_str(s, "name", name);
                if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "state")))
                        bringup_j_set_str(s, "state", "pending");
                cJSON_AddItemToArray(stages, s);
        }
        bringup_j_set(old, "stages", stages);
        bringup_j_set_str(old, "plan", r->plan->path);
        bringup_j_set_str(old, "name", r->plan->name);
        r->prog = old;
}

static void bringup_stage_reset(cJSON *s, enum stage_state st)
{
        bringup_j_set_str(s, "state", stage_state_name(st));
        bringup_j_set_time(s, "started_at", 0);
        bringup_j_set_time(s, "finished_at", 0);
        bringup_j_set(s, "error", cJSON_CreateNull());
        bringup_j_set(s, "current_step", cJSON_CreateNull());
        bringup_j_set(s, "steps", cJSON_CreateArray());
        bringup_j_set(s, "gates", cJSON_CreateArray());
        bringup_j_set(s, "output_tail", cJSON_CreateArray());
}

/* The last BRINGUP_TAIL_LINES lines of the output so far, as an array. */
static cJSON *bringup_tail_json(const struct runner *r)
{
        cJSON *a = cJSON_CreateArray();
        size_t n = r->tail_len, start = 0, lines = 0;

        if (n && r->tail[n - 1] == '\n')
                n--;
        for (size_t i = n; i > 0; i--)
                if (r->tail[i - 1] == '\n' && ++lines == BRINGUP_TAIL_LINES) {
                        start = i;
                        break;
                }
        if (!n)
                return a;
        while (start <= n) {
                const char *nl = memchr(r->tail + start, '\n', n - start);
                size_t end = nl ? (size_t)(nl - r->tail) : n;
                char *line = xstrndup(r->tail + start, end - start);

                for (char *q = line; *q; q++)
                        if ((unsigned char)*q < 0x20 && *q != '\t')
                                *q = ' ';
                cJSON_AddItemToArray(a, cJSON_CreateString(line));
                free(line);
                start = end + 1;
        }
        return a;
}

/* Length of the UTF-8 sequence a lead byte starts, 0 for anything else. */
static size_t bringup_utf8_len(unsigned char c)
{
        if (c >= 0xc2 && c <= 0xdf)
                return 2;
        if (c >= 0xe0 && c <= 0xef)
                return 3;
        if (c >= 0xf0 && c <= 0xf4)
                return 4;
        return 0;
}

/* Echoes a step's output escaped (termsafe, lines kept): the program may
 * relay a server's text. A sequence cut at the end of a read waits in
 * r->carry for the next one; NUL bytes are shown as \x00. */
static void bringup_echo(struct runner *r, const char *buf, size_t n, bool last)
{
        size_t len = r->carry_len + n, cut = len;
        char *t = xmalloc(len + 1);

        memcpy(t, r->carry, r->carry_len);
        memcpy(t + r->carry_len, buf, n);
        r->carry_len = 0;
        if (!last) {
                /* Look back at most three bytes for an unfinished lead byte. */
                for (size_t k = 1; k <= 3 && k <= len; k++) {
                        unsigned char c = (unsigned char)t[len - k];
                        size_t need = bringup_utf8_len(c);

                        if ((c & 0xc0) == 0x80)
                                continue;
                        if (need > k)
                                cut = len - k;
                        break;
                }
                r->carry_len = len - cut;
                memcpy(r->carry, t + cut, r->carry_len);
        }
        t[cut] = '\0';
        for (size_t i = 0; i < cut;) {
                termsafe_fputs(t + i, TERMSAFE_LINES, stdout);
                i += strlen(t + i);
                if (i < cut) {
                        fputs("\\x00", stdout);
                        i++;
                }
        }
        free(t);
}

static void bringup_on_output(void *arg, const char *buf, size_t n)
{
        struct runner *r = arg;
        size_t keep;

        bringup_echo(r, buf, n, false);
        fflush(stdout);
        if (n >= BRINGUP_TAIL_BYTES) {
                memcpy(r->tail, buf + n - BRINGUP_TAIL_BYTES, BRINGUP_TAIL_BYTES);
                r->tail_len = BRINGUP_TAIL_BYTES;
        } else {
                keep = r->tail_len + n > BRINGUP_TAIL_BYTES ? BRINGUP_TAIL_BYTES - n : r->tail_len;
                memmove(r->tail, r->tail + r->tail_len - keep, keep);
                memcpy(r->tail + keep, buf, n);
                r->tail_len = keep + n;
        }
        if (r->cur_stage && clock_mono_ms() - r->last_write >= BRINGUP_WRITE_EVERY_MS) {
                bringup_j_set(r->cur_stage, "output_tail", bringup_tail_json(r));
                bringup_write(r);
        }
}

/* --- steps ------------------------------------------------------------------------ */

static void bringup_audit(struct runner *r, const char *action, const char *stage,
                          const char *request, char **argv, enum action_outcome out, long status,
                          int64_t dur, const char *error)
{
        struct action_cmd cmd = { .argv = argv, .argc = 0 };
        struct action_audit au = {
                .environment = r->cfg ? r->cfg->environment : "default",
                .source = r->plan->name, .kind = "bringup", .action = action, .target = stage,
                .via = "cli", .context = r->context, .request = request,
                .cmds = argv ? &cmd : NULL, .n_cmds = argv ? 1 : 0, .dry_run = false,
                .outcome = out, .status = status, .duration_ms = dur, .error = error,
        };
        struct err e;

        while (argv && argv[cmd.argc])
                cmd.argc++;
        err_clear(&e);
        if (action_audit(r->audit_path, &au, &e) != 0)
                bringup_err("lambdaops: audit: %s\n", e.msg);
}

static bool bringup_confirm_typed(const char *what, const char *word)
{
        char line[256];

        bringup_err("%s\nThis step is dangerous. Type %s to run it: ", what, word);
        fflush(stderr);
        if (!fgets(line, sizeof line, stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return strcmp(line, word) == 0;
}

enum step_rc { STEP_OK, STEP_FAILED, STEP_CANCELLED };

/* Runs step idx (0-based) of stage st; `verb` is "up" or "down". Records it
 * in the stage's progress object s; err says what failed. */
static enum step_rc bringup_run_step(struct runner *r, const struct plan_stage *st, cJSON *s,
                                     const struct plan_step *step, size_t idx, const char *verb,
                                     struct err *err)
{
        struct subproc_opts so = { .env = step->env, .on_output = bringup_on_output, .arg = r };
        struct subproc_result sr;
        char **argv, *text, action[160];
        cJSON *rec = cJSON_CreateObject();
        struct err e;
        int64_t t0;
        enum step_rc rc = STEP_OK;
        int sub;

        snprintf(action, sizeof action, "%s:%s:step %zu", verb, st->name, idx + 1);
        err_clear(&e);
        cJSON_AddNumberToObject(rec, "n", (double)(idx + 1));
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s, "steps"), rec);
        argv = plan_subst(r->plan, step->run.v, &e);
        if (!argv) {
                err_set(err, e.code, "step %zu: %s", idx + 1, e.msg);
                return STEP_FAILED;
        }
        text = action_argv_text(argv);
        bringup_j_set_str(rec, "argv", text);
        bringup_j_set(rec, "exit_code", cJSON_CreateNull());
        bringup_j_set(rec, "duration_ms", cJSON_CreateNull());
        bringup_j_set(rec, "skipped", cJSON_CreateFalse());
        bringup_j_set(s, "current_step", cJSON_CreateNumber((double)(idx + 1)));
        r->tail_len = 0;
        bringup_j_set(s, "output_tail", cJSON_CreateArray());
        if (step->skip_if_exit0.n) {
                char **probe = plan_subst(r->plan, step->skip_if_exit0.v, &e);

                if (probe && subproc_run_ex(probe, &(struct subproc_opts){ .env = step->env },
                                            0, step->timeout_ms, bu_stop_pipe[0], &sr, &e) == 0 &&
                    sr.exit_code == 0 && !sr.timed_out) {
                        char *pt = action_argv_text(probe);

                        bringup_out("step %zu: skipped, already done (%s exited 0)\n", idx + 1, pt);
                        free(pt);
                        bringup_j_set(rec, "skipped", cJSON_CreateTrue());
                        bringup_j_set(rec, "exit_code", cJSON_CreateNumber(0));
                        subproc_result_done(&sr);
                        plan_argv_free(probe);
                        free(text);
                        plan_argv_free(argv);
                        bringup_write(r);
                        return STEP_OK;
                }
                if (probe)
                        subproc_result_done(&sr);
                plan_argv_free(probe);
                err_clear(&e);
        }
        if (step->dangerous && !r->o->yes) {
                const char *word = r->context ? r->context : st->name;
                char *what = xasprintf("%s: %s", action, text);

                if (!bringup_confirm_typed(what, word)) {
                        free(what);
                        bringup_audit(r, action, st->name, text, argv, ACT_CANCELLED, 0, -1, NULL);
                        err_set(err, ECANCELED, "step %zu: cancelled at the prompt", idx + 1);
                        free(text);
                        plan_argv_free(argv);
                        return STEP_CANCELLED;
                }
                free(what);
        }
        bringup_out("$ %s\n", text);
        fflush(stdout);
        bringup_write(r);
        t0 = clock_mono_ms();
        sub = subproc_run_ex(argv, &so, 0, step->timeout_ms, bu_stop_pipe[0], &sr, &e);
        if (r->carry_len)
                bringup_echo(r, "", 0, true);   /* a sequence the program never finished */
        if (sub != 0) {
                err_set(err, e.code, "step %zu (%s): %s", idx + 1, argv[0], e.msg);
                bringup_audit(r, action, st->name, text, argv, ACT_FAILED, 127,
                              clock_mono_ms() - t0, e.msg);
                bringup_j_set(rec, "exit_code", cJSON_CreateNumber(127));
                rc = STEP_FAILED;
        } else {
                if (sr.len && sr.out[sr.len - 1] != '\n')
                        putchar('\n');
                bringup_j_set(rec, "exit_code", cJSON_CreateNumber(sr.exit_code));
                bringup_j_set(rec, "duration_ms", cJSON_CreateNumber((double)sr.duration_ms));
                if (bu_interrupted) {
                        err_set(err, EINTR, "interrupted");
                        rc = STEP_CANCELLED;
                } else if (sr.timed_out) {
                        char d[32];

                        fmt_duration_ms(step->timeout_ms, d, sizeof d);
                        err_set(err, ETIMEDOUT, "step %zu (%s) timed out after %s", idx + 1,
                                argv[0], d);
                        rc = STEP_FAILED;
                } else if (sr.exit_code != 0) {
                        err_set(err, EIO, "step %zu (%s) exited with status %d", idx + 1,
                                argv[0], sr.exit_code);
                        rc = STEP_FAILED;
                }
                bringup_audit(r, action, st->name, text, argv,
                              rc == STEP_OK ? ACT_OK : ACT_FAILED, sr.exit_code, sr.duration_ms,
                              rc == STEP_OK ? NULL : err->msg);
                subproc_result_done(&sr);
        }
        bringup_j_set(s, "output_tail", bringup_tail_json(r));
        bringup_write(r);
        free(text);
        plan_argv_free(argv);
        return rc;
}

/* --- gates ------------------------------------------------------------------------ */

static void bringup_drain(int fd)
{
        char buf[64];

        while (read(fd, buf, sizeof buf) > 0)
                ;
}

/* Waits until gate g holds or its timeout. Returns STEP_OK, STEP_FAILED
 * (timed out, err says with the last value) or STEP_CANCELLED. */
static enum step_rc bringup_wait_gate(struct runner *r, cJSON *s, const struct plan_gate *g,
                                      struct err *err)
{
        const struct source_cfg *src = config_source(r->cfg, g->source);
        cJSON *rec = cJSON_CreateObject();
        struct collector *c;
        int64_t t0 = clock_mono_ms(), deadline = t0 + g->timeout_ms;
        int64_t next_refresh = t0 + g->interval_ms, last_print = 0;
        char *shown = NULL, *text = NULL;
        enum step_rc rc = STEP_FAILED;
        uint64_t seen = 0;

        cJSON_AddStringToObject(rec, "name", g->name);
        cJSON_AddStringToObject(rec, "source", g->source);
        cJSON_AddStringToObject(rec, "expr", expr_text(g->expr));
        cJSON_AddNullToObject(rec, "value");
        cJSON_AddNullToObject(rec, "error");
        cJSON_AddFalseToObject(rec, "ok");
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s, "gates"), rec);
        bringup_out("gate %s: waiting for %s: %s\n", g->name, g->source, expr_text(g->expr));
        fflush(stdout);
        bringup_write(r);
        c = collector_start(src, r->wake[1], false);
        for (;;) {
                uint64_t gen = 0;
                struct snapshot *snap = collector_latest(c, &gen);
                int64_t now = clock_mono_ms(), wait;
                bool ok = false;
                struct pollfd pf[2] = { { .fd = r->wake[0], .events = POLLIN },
                                        { .fd = bu_stop_pipe[0], .events = POLLIN } };

                if (snap && gen != seen) {
                        seen = gen;
                        free(text);
                        if (snap->status == COLL_DOWN || snap->status == COLL_UNKNOWN) {
                                text = xasprintf("source down: %s",
                                                 snap->error[0] ? snap->error : "no answer");
                                bringup_j_set(rec, "value", cJSON_CreateNull());
                                bringup_j_set_str(rec, "error", text);
                        } else {
                                cJSON *doc = report_json_source(snap, src), *v;
                                struct err e;

                                cJSON_AddStringToObject(doc, "name", src->name);
                                err_clear(&e);
                                v = expr_eval(g->expr, doc, &e);
                                ok = expr_true(v);
                                text = expr_explain(g->expr, doc);
                                bringup_j_set_str(rec, "value", text);
                                if (v)
                                        bringup_j_set(rec, "error", cJSON_CreateNull());
                                else
                                        bringup_j_set_str(rec, "error", e.msg);
                                cJSON_Delete(v);
                                cJSON_Delete(doc);
                        }
                        bringup_j_set(rec, "ok", cJSON_CreateBool(ok));
                        bringup_write(r);
                }
                snapshot_unref(snap);
                if (ok) {
                        bringup_out("gate %s: ok (%s)\n", g->name, text);
                        rc = STEP_OK;
                        break;
                }
                if (text && (!shown || strcmp(shown, text)) && now - last_print >= 1000) {
                        bringup_out("gate %s: %s\n", g->name, text);
                        fflush(stdout);
                        free(shown);
                        shown = xstrdup(text);
                        last_print = now;
                }
                if (bu_interrupted) {
                        err_set(err, EINTR, "interrupted");
                        rc = STEP_CANCELLED;
                        break;
                }
                if (now >= deadline) {
                        char d[32];

                        fmt_duration_ms(g->timeout_ms, d, sizeof d);
                        err_set(err, ETIMEDOUT, "gate \"%s\" timed out after %s (%s: %s)",
                                g->name, d, g->source, text ? text : "no answer yet");
                        break;
                }
                if (now >= next_refresh) {
                        collector_refresh(c);
                        next_refresh = now + g->interval_ms;
                }
                wait = deadline - now;
                if (next_refresh - now < wait)
                        wait = next_refresh - now;
                if (text && shown && strcmp(shown, text) && last_print + 1000 - now < wait)
                        wait = last_print + 1000 - now;
                if (wait < 1)
                        wait = 1;
                if (poll(pf, 2, (int)wait) > 0 && (pf[0].revents & POLLIN))
                        bringup_drain(r->wake[0]);
        }
        collector_stop_all(&c, 1);
        fflush(stdout);
        free(shown);
        free(text);
        return rc;
}

/* --- up / down ----------------------------------------------------------------- */

static void bringup_retry_hint(struct runner *r, const char *verb, const char *stage)
{
        bringup_out("Retry with: lambdaops %s --plan %s --from %s\n", verb, r->plan->path, stage);
}

/* Runs one stage of `up`. */
static enum step_rc bringup_up_stage(struct runner *r, size_t i, struct err *err)
{
        const struct plan_stage *st = &r->plan->stages[i];
        cJSON *s = plan_progress_stage(r->prog, st->name);
        enum step_rc rc = STEP_OK;

        r->cur_stage = s;
        bringup_stage_reset(s, ST_RUNNING);
        bringup_j_set_time(s, "started_at", clock_wall_ms());
        bringup_out("\n== stage %zu/%zu %s%s%s\n", i + 1, r->plan->n_stages, st->name,
                    st->title ? ": " : "", st->title ? st->title : "");
        fflush(stdout);
        bringup_write(r);
        for (size_t k = 0; k < st->n_steps && rc == STEP_OK; k++)
                rc = bringup_run_step(r, st, s, &st->steps[k], k, "up", err);
        bringup_j_set(s, "current_step", cJSON_CreateNull());
        if (rc == STEP_OK && st->n_gates) {
                bringup_j_set_str(s, "state", "waiting");
                bringup_write(r);
                for (size_t k = 0; k < st->n_gates && rc == STEP_OK; k++)
                        rc = bringup_wait_gate(r, s, &st->gates[k], err);
        }
        bringup_j_set_time(s, "finished_at", clock_wall_ms());
        if (rc == STEP_OK) {
                bringup_j_set_str(s, "state", "done");
                bringup_out("stage %s: done\n", st->name);
        } else {
                bringup_j_set_str(s, "state", "failed");
                bringup_j_set_str(s, "error", err->msg);
        }
        r->cur_stage = NULL;
        bringup_write(r);
        return rc;
}

static enum step_rc bringup_down_stage(struct runner *r, size_t i, struct err *err)
{
        const struct plan_stage *st = &r->plan->stages[i];
        cJSON *s = plan_progress_stage(r->prog, st->name);
        enum step_rc rc = STEP_OK;

        bringup_out("\n== down %s\n", st->name);
        fflush(stdout);
        r->cur_stage = s;
        bringup_stage_reset(s, ST_RUNNING);
        bringup_j_set_time(s, "started_at", clock_wall_ms());
        bringup_write(r);
        for (size_t k = 0; k < st->n_down && rc == STEP_OK; k++)
                rc = bringup_run_step(r, st, s, &st->down[k], k, "down", err);
        bringup_j_set(s, "current_step", cJSON_CreateNull());
        if (rc == STEP_OK) {
                /* Torn down: nothing of it runs any more. */
                bringup_stage_reset(s, ST_PENDING);
        } else {
                bringup_j_set_time(s, "finished_at", clock_wall_ms());
                bringup_j_set_str(s, "state", "failed");
                bringup_j_set_str(s, "error", err->msg);
        }
        r->cur_stage = NULL;
        bringup_write(r);
        return rc;
}

static void bringup_dry_run(const struct runner *r, size_t first, size_t last, bool down)
{
        for (size_t n = 0; n <= last - first; n++) {
                size_t i = down ? last - n : first + n;
                const struct plan_stage *st = &r->plan->stages[i];
                const struct plan_step *steps = down ? st->down : st->steps;
                size_t ns = down ? st->n_down : st->n_steps;

                bringup_out("dry run: %s stage %s\n", down ? "down" : "up", st->name);
                for (size_t k = 0; k < ns; k++) {
                        struct err e;
                        char **argv, *t;

                        err_clear(&e);
                        argv = plan_subst(r->plan, steps[k].run.v, &e);
                        t = argv ? action_argv_text(argv) : xstrdup(e.msg);
                        bringup_out("  would run: %s%s\n", t,
                                    steps[k].dangerous ? "  (dangerous)" : "");
                        free(t);
                        plan_argv_free(argv);
                }
                for (size_t k = 0; !down && k < st->n_gates; k++)
                        bringup_out("  would wait for gate %s: %s: %s\n", st->gates[k].name,
                                    st->gates[k].source, expr_text(st->gates[k].expr));
        }
}

/* A runner recorded in the progress file that is still alive, or 0. */
static pid_t bringup_other_runner(const cJSON *prog)
{
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(prog, "pid");
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(prog, "running");

        if (!cJSON_IsNumber(pid) || !cJSON_IsTrue(run) || pid->valuedouble <= 1 ||
            (pid_t)pid->valuedouble == getpid())
                return 0;
        if (kill((pid_t)pid->valuedouble, 0) == 0 || errno == EPERM)
                return (pid_t)pid->valuedouble;
        return 0;
}

static bool bringup_confirm_yn(const char *q)
{
        char line[64];

        bringup_err("%s [y/N] ", q);
        fflush(stderr);
        if (!fgets(line, sizeof line, stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return !strcmp(line, "y") || !strcmp(line, "Y") || !strcmp(line, "yes");
}

static int bringup_setup_signals(void)
{
        struct sigaction sa;

        if (pipe(bu_stop_pipe) != 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                fcntl(bu_stop_pipe[i], F_SETFD, FD_CLOEXEC);
                fcntl(bu_stop_pipe[i], F_SETFL, fcntl(bu_stop_pipe[i], F_GETFL) | O_NONBLOCK);
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = bringup_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        return 0;
}

static int bringup_run(struct runner *r, size_t first, size_t last)
{
        const struct bu_opts *o = r->o;
        bool down = o->cmd == BU_DOWN;
        const char *verb = down ? "down" : "up";
        enum step_rc rc = STEP_OK;
        struct err err;
        pid_t other;
        size_t failed_at = first;

        if (o->dry_run) {
                bringup_dry_run(r, first, last, down);
                return BRINGUP_EXIT_OK;
        }
        other = bringup_other_runner(r->prog);
        if (other) {
                bringup_err("lambdaops: %s: another runner (pid %ld) is working on %s; "
                            "abort it first\n", verb, (long)other, r->plan->path);
                return BRINGUP_EXIT_FAILED;
        }
        if (!o->yes) {
                char *q;
                bool yes;

                if (!isatty(STDIN_FILENO)) {
                        bringup_err("lambdaops: %s: stdin is not a terminal: pass --yes to "
                                    "run without a prompt (or --dry-run)\n", verb);
                        bringup_audit(r, verb, r->plan->stages[first].name, NULL, NULL,
                                      ACT_REFUSED, BRINGUP_EXIT_NOTTY, -1,
                                      "no --yes and stdin is not a terminal");
                        return BRINGUP_EXIT_NOTTY;
                }
                q = xasprintf("%s: run stages %s..%s of %s%s%s?", verb,
                              r->plan->stages[down ? last : first].name,
                              r->plan->stages[down ? first : last].name, r->plan->path,
                              r->context ? " on context " : "", r->context ? r->context : "");
                yes = bringup_confirm_yn(q);
                free(q);
                if (!yes) {
                        bringup_err("lambdaops: %s: cancelled\n", verb);
                        bringup_audit(r, verb, r->plan->stages[first].name, NULL, NULL,
                                      ACT_CANCELLED, 0, -1, NULL);
                        return BRINGUP_EXIT_CANCELLED;
                }
        }
        if (bringup_setup_signals() != 0 || pipe(r->wake) != 0) {
                bringup_err("lambdaops: %s: pipe: %s\n", verb, strerror(errno));
                return BRINGUP_EXIT_FAILED;
        }
        for (int i = 0; i < 2; i++) {
                fcntl(r->wake[i], F_SETFD, FD_CLOEXEC);
                fcntl(r->wake[i], F_SETFL, fcntl(r->wake[i], F_GETFL) | O_NONBLOCK);
        }
        bringup_j_set(r->prog, "pid", cJSON_CreateNumber((double)getpid()));
        bringup_j_set(r->prog, "running", cJSON_CreateTrue());
        bringup_j_set_str(r->prog, "command", verb);
        bringup_write(r);
        err_clear(&err);
        for (size_t n = 0; n <= last - first && rc == STEP_OK; n++) {
                size_t i = down ? last - n : first + n;

                if (down && !r->plan->stages[i].n_down)
                        continue;
                failed_at = i;
                rc = down ? bringup_down_stage(r, i, &err) : bringup_up_stage(r, i, &err);
        }
        bringup_j_set(r->prog, "running", cJSON_CreateFalse());
        bringup_write(r);
        close(r->wake[0]);
        close(r->wake[1]);
        if (rc == STEP_OK) {
                bringup_out("\n%s: done\n", verb);
                return BRINGUP_EXIT_OK;
        }
        bringup_err("lambdaops: %s: stage %s failed: %s\n", verb,
                    r->plan->stages[failed_at].name, err.msg);
        bringup_retry_hint(r, verb, r->plan->stages[failed_at].name);
        return rc == STEP_CANCELLED ? BRINGUP_EXIT_CANCELLED : BRINGUP_EXIT_FAILED;
}

extern char **environ;

/* BRINGUP_DETACH_ENV set: start ourselves again (without it) in a new
 * session, with the same argv and descriptors, and return at once. The
 * Bring-up pane's start key runs us like this (through a short-lived
 * posix_spawn it waits for), so the runner is re-parented away from the
 * TUI and never becomes its zombie. */
static int bringup_detach(char **argv)
{
        posix_spawnattr_t at;
        pid_t pid;
        int rc;

        unsetenv(BRINGUP_DETACH_ENV);
        posix_spawnattr_init(&at);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
        rc = posix_spawn(&pid, "/proc/self/exe", NULL, &at, argv, environ);
        posix_spawnattr_destroy(&at);
        if (rc != 0) {
                bringup_err("lambdaops: cannot start the runner: %s\n", strerror(rc));
                return BRINGUP_EXIT_FAILED;
        }
        return BRINGUP_EXIT_OK;
}

int bringup_main(int argc, char **argv)
{
        struct bu_opts o;
        struct runner r;
        struct err err;
        bool missing = false;
        size_t first = 0, last = 0;
        int rc, sel;

        rc = bringup_parse(argc, argv, &o);
        if (rc >= 0)
                return rc;
        if (getenv(BRINGUP_DETACH_ENV))
                return bringup_detach(argv);
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
        memset(&r, 0, sizeof r);
        r.o = &o;
        r.wake[0] = r.wake[1] = -1;
        err_clear(&err);
        r.plan = plan_load_file(o.plan, &missing, &err);
        if (!r.plan) {
                bringup_err("lambdaops: %s\n", err.msg);
                if (missing && strcmp(o.plan, BRINGUP_DEFAULT_PLAN) == 0)
                        bringup_err("lambdaops: no plan: run from the repository root or "
                                    "pass --plan FILE\n");
                return missing ? BRINGUP_EXIT_NOPLAN : BRINGUP_EXIT_CONFIG;
        }
        if (o.cmd == BU_PLAN) {
                char *t = plan_text(r.plan);

                termsafe_fputs(t, TERMSAFE_LINES, stdout);
                free(t);
                plan_free(r.plan);
                return BRINGUP_EXIT_OK;
        }
        r.context = plan_var(r.plan, "context");
        if (o.config) {
                free(r.plan->config);
                r.plan->config = xstrdup(o.config);
        }
        /* A dry run needs no config: it only prints. */
        if (r.plan->config && !o.dry_run) {
                r.cfg = config_load_file(r.plan->config, &err);
                if (!r.cfg || plan_check_sources(r.plan, r.cfg, &err) != 0) {
                        bringup_err("lambdaops: %s\n", err.msg);
                        config_free(r.cfg);
                        plan_free(r.plan);
                        return BRINGUP_EXIT_CONFIG;
                }
        }
        r.audit_path = action_audit_path(r.cfg);
        r.prog_path = plan_progress_path(r.plan->name);
        bringup_prog_init(&r);
        sel = 1;
        if (o.cmd == BU_DOWN && !o.only && !o.from) {
                first = 0;
                last = r.plan->n_stages - 1;
        } else if (o.cmd == BU_DOWN) {
                /* down --from S: S and every stage before it, in reverse. */
                sel = plan_select(r.plan, r.prog, o.only, o.from, &first, &last, &err);
                if (sel > 0 && o.from) {
                        last = first;
                        first = 0;
                }
        } else {
                sel = plan_select(r.plan, r.prog, o.only, o.from, &first, &last, &err);
        }
        if (sel < 0) {
                bringup_err("lambdaops: %s\n", err.msg);
                rc = BRINGUP_EXIT_USAGE;
        } else if (sel == 0) {
                bringup_out("up: every stage of %s is done (lambdaops up --from STAGE runs one "
                            "again)\n", r.plan->path);
                rc = BRINGUP_EXIT_OK;
        } else if ((o.read_only || (r.cfg && r.cfg->read_only)) && !o.dry_run) {
                bringup_err("lambdaops: %s: refused: read-only mode (--read-only or "
                            "read_only: true)\n", o.cmd == BU_DOWN ? "down" : "up");
                bringup_audit(&r, o.cmd == BU_DOWN ? "down" : "up", r.plan->stages[first].name,
                              NULL, NULL, ACT_REFUSED, BRINGUP_EXIT_READONLY, -1,
                              "read-only: actions are disabled");
                rc = BRINGUP_EXIT_READONLY;
        } else {
                if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                        bringup_err("lambdaops: libcurl initialisation failed\n");
                        rc = BRINGUP_EXIT_FAILED;
                } else {
                        rc = bringup_run(&r, first, last);
                        curl_global_cleanup();
                }
        }
        cJSON_Delete(r.prog);
        free(r.prog_path);
        free(r.audit_path);
        config_free(r.cfg);
        plan_free(r.plan);
        if (bu_stop_pipe[0] >= 0) {
                close(bu_stop_pipe[0]);
                close(bu_stop_pipe[1]);
        }
        return rc;
}
