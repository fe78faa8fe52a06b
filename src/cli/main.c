/*
 * main: the command line. Parses options and the command word, finds and
 * loads the config, sets up process-wide state that must exist before any
 * thread starts (libcurl, SIGPIPE, locale, the wake pipe), then hands over
 * to the TUI (tui.c) or to the one-shot reports (report.c).
 *
 * Runs on the main thread only. Exit codes: 0 ok, 64 usage error, 78 config
 * error; `check` returns the Nagios code 0..3; the TUI returns its own code.
 * This is the only place allowed to end the process on a startup problem.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "core/app.h"
#include "bringup/bringup_cli.h"
#include "cli/watch.h"
#include "core/config.h"
#include "core/opt.h"
#include "core/termsafe.h"
#include "core/util.h"
#include "runbook/runbook_cli.h"
#include "tui/tui.h"

#define LO_EXIT_USAGE 64        /* sysexits EX_USAGE */

enum main_cmd { CMD_TUI, CMD_STATUS, CMD_CHECK, CMD_CONFIG_CHECK, CMD_HELP, CMD_VERSION,
                CMD_ACT };

struct main_opts {
        const char   *config;
        const char   *view;
        const char   *theme;
        bool          read_only, ascii, no_color, json;
        enum main_cmd cmd;
        /* act SOURCE ACTION TARGET [ARG] [--conf JSON] [--yes] [--dry-run] */
        const char   *act_source, *act_action, *act_target, *act_conf, *act_arg;
        bool          yes, dry_run;
        char * const *raw;              /* argv[1..] as typed (getopt permutes argv) */
        int           n_raw;
};

enum { OPT_VIEW = 256, OPT_READ_ONLY, OPT_THEME, OPT_ASCII, OPT_NO_COLOR, OPT_JSON, OPT_YES,
       OPT_DRY_RUN, OPT_CONF };

static const struct opt_def main_optdefs[] = {
        { "config",    'c', true,  'c' },
        { "view",      0,   true,  OPT_VIEW },
        { "read-only", 0,   false, OPT_READ_ONLY },
        { "theme",     0,   true,  OPT_THEME },
        { "ascii",     0,   false, OPT_ASCII },
        { "no-color",  0,   false, OPT_NO_COLOR },
        { "json",      0,   false, OPT_JSON },
        { "yes",       0,   false, OPT_YES },
        { "dry-run",   0,   false, OPT_DRY_RUN },
        { "conf",      0,   true,  OPT_CONF },
        { "help",      'h', false, 'h' },
        { "version",   'V', false, 'V' },
        { NULL, 0, false, 0 },
};

static void main_usage(FILE *f)
{
        fputs("Usage: lambdaops [options] [command]\n"
              "\n"
              "An operations console for the Lambda data pipeline.\n"
              "\n"
              "Commands:\n"
              "  (none)            open the interactive console (TUI)\n"
              "  status [--json]   poll every source once, in parallel, and print the\n"
              "                    result as a table, or as JSON (docs/status-json.md)\n"
              "  check             poll once and print one Nagios-style line; the exit\n"
              "                    code is the overall state (0 ok, 1 warn, 2 crit, 3 unknown)\n"
              "  config check      validate the config file and exit\n"
              "  act SOURCE ACTION TARGET [ARG] [--conf JSON] [--yes] [--dry-run]\n"
              "                    run one action (restart, pause, trigger, scale, logs,\n"
              "                    ...) on one connector, DAG, workload, pod, release or\n"
              "                    SparkApplication of SOURCE, after showing the exact\n"
              "                    request or command; ARG is the action's argument (scale:\n"
              "                    replicas, upgrade: chart, rollback: revision, logs:\n"
              "                    container); audited (docs/actions.md)\n"
              "  plan [--plan FILE] print the bring-up plan: stages, exact commands, gates\n"
              "  up [--plan FILE] [--from STAGE|--only STAGE] [--dry-run] [--yes]\n"
              "                    run the plan's stages in order, waiting on each stage's\n"
              "                    gates; resumes from the first stage not done\n"
              "  down [--plan FILE] [--from STAGE|--only STAGE] [--dry-run] [--yes]\n"
              "                    run the stages' down steps in reverse order\n"
              "  runbook list [--json]\n"
              "                    the runbooks of the config's `runbooks:`; those whose\n"
              "                    `when:` matches a live alert are marked suggested\n"
              "  runbook show ID   a runbook's inputs and every step\n"
              "  runbook run ID [--input NAME=VALUE]... [--yes] [--dry-run]\n"
              "                    run a runbook: checks, actions (confirmed, audited),\n"
              "                    waits; every step in a ledger (exit codes as `up`)\n"
              "  runbook resume RUN [--yes]\n"
              "                    continue a run at its first unfinished step\n"
              "  runbook log RUN [--json]\n"
              "                    the records of a run\n"
              "  watch [--log-format logfmt|json] [--listen ADDR]\n"
              "                    no terminal: poll, evaluate the alerts and their\n"
              "                    lifecycle, log each transition to stderr until SIGTERM\n"
              "                    (docs/watch.md)\n"
              "  help              show this help\n"
              "  version           show the version\n"
              "\n"
              "Options:\n"
              "  -c, --config FILE  use this config file\n"
              "      --view NAME    open the console on this pane (overview, cdc, ...)\n"
              "      --read-only    never run actions that change anything\n"
              "      --theme NAME   theme name in themes/, or a path to a YAML theme\n"
              "      --ascii        draw with ASCII only (no UTF-8 box or block glyphs)\n"
              "      --no-color     no colours (also when NO_COLOR is set)\n"
              "      --json         with `status`: print JSON\n"
              "      --yes          with `act`: do not prompt (needed without a terminal)\n"
              "      --dry-run      with `act`: print the request or argv, run nothing\n"
              "      --conf JSON    with `act trigger`: the DAG run's conf object\n"
              "  -h, --help         show this help\n"
              "  -V, --version      show the version\n"
              "\n"
              "Config search order (the first that exists wins):\n"
              "  1. -c/--config FILE\n"
              "  2. $LAMBDAOPS_CONFIG\n"
              "  3. ./lambdaops.yaml\n"
              "  4. $XDG_CONFIG_HOME/lambdaops/config.yaml (default ~/.config/lambdaops/config.yaml)\n"
              "\n"
              "Exit status:\n"
              "  0   success (`status` returns 0 whenever it ran, whatever the health)\n"
              "  1   `check`: warning (a warn alert, nothing crit, every source answered)\n"
              "  2   `check`: critical (a crit alert; a source that is down is crit)\n"
              "  3   `check`: unknown (nothing crit, some source did not answer in time)\n"
              "  1   `act`: the action failed; 2: answered no at the prompt\n"
              "  66  `act`: unknown source, action or target\n"
              "  75  `act`: no --yes and stdin is not a terminal\n"
              "  77  `act`: refused, read-only mode (--read-only or read_only: true)\n"
              "  0   `watch`: stopped by SIGTERM or SIGINT; 1: could not start\n"
              "  64  usage error (unknown option or command)\n"
              "  78  configuration error (no config, or FILE:LINE:COL: message on stderr)\n"
              "\n"
              "See lambdaops(1), docs/config.md and docs/status-json.md.\n", f);
}

static int main_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last usage error, for the audit line of a refused `act`. */
static char main_usage_msg[256];
/* argv as typed (main copies it before parsing). */
static char **main_raw;

static int main_usage_error(const char *fmt, ...)
{
        va_list ap;
        char msg[512];

        /* The message quotes the command line; escaped like any text. */
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        str_copy(main_usage_msg, msg, sizeof main_usage_msg);
        fputs("lambdaops: ", stderr);
        termsafe_fputs(msg, TERMSAFE_LINES, stderr);
        fputs("\nTry 'lambdaops --help'.\n", stderr);
        return LO_EXIT_USAGE;
}

/* Fills *o from argv. Returns -1 on success, otherwise the exit code. */
static int main_parse(int argc, char **argv, struct main_opts *o)
{
        struct opt_parser op;
        int ch, nargs;
        char **args;

        memset(o, 0, sizeof *o);
        opt_init(&op, argc, argv, main_optdefs);
        while ((ch = opt_next(&op)) != OPT_END) {
                switch (ch) {
                case 'c':
                        o->config = op.arg;
                        break;
                case OPT_VIEW:
                        o->view = op.arg;
                        break;
                case OPT_READ_ONLY:
                        o->read_only = true;
                        break;
                case OPT_THEME:
                        o->theme = op.arg;
                        break;
                case OPT_ASCII:
                        o->ascii = true;
                        break;
                case OPT_NO_COLOR:
                        o->no_color = true;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_YES:
                        o->yes = true;
                        break;
                case OPT_DRY_RUN:
                        o->dry_run = true;
                        break;
                case OPT_CONF:
                        o->act_conf = op.arg;
                        break;
                case 'h':
                        o->cmd = CMD_HELP;
                        opt_done(&op);
                        return -1;
                case 'V':
                        o->cmd = CMD_VERSION;
                        opt_done(&op);
                        return -1;
                case OPT_ERR_VALUE:
                        opt_done(&op);
                        return main_usage_error("option '%s' needs a value", op.bad);
                case OPT_ERR_UNKNOWN:
                default:
                        opt_done(&op);
                        if (op.bad_short) {
                                char s[3] = { '-', (char)op.bad_short, '\0' };
                                return main_usage_error("unknown option '%s'", s);
                        }
                        return main_usage_error("unknown option '%s'", op.bad);
                }
        }
        args = argv + opt_operands(&op);
        nargs = argc - opt_operands(&op);
        opt_done(&op);
        if (nargs == 0)
                o->cmd = CMD_TUI;
        else if (strcmp(args[0], "status") == 0 && nargs == 1)
                o->cmd = CMD_STATUS;
        else if (strcmp(args[0], "check") == 0 && nargs == 1)
                o->cmd = CMD_CHECK;
        else if (strcmp(args[0], "act") == 0 && (nargs == 4 || nargs == 5)) {
                o->cmd = CMD_ACT;
                o->act_source = args[1];
                o->act_action = args[2];
                o->act_target = args[3];
                o->act_arg = nargs == 5 ? args[4] : NULL;
        } else if (strcmp(args[0], "act") == 0)
                return main_usage_error("act: expected 'act SOURCE ACTION TARGET [ARG]'");
        else if (strcmp(args[0], "config") == 0 && nargs == 2 && strcmp(args[1], "check") == 0)
                o->cmd = CMD_CONFIG_CHECK;
        else if (strcmp(args[0], "help") == 0 && nargs == 1)
                o->cmd = CMD_HELP;
        else if (strcmp(args[0], "version") == 0 && nargs == 1)
                o->cmd = CMD_VERSION;
        else if (strcmp(args[0], "config") == 0)
                return main_usage_error("%s: expected 'config check'", nargs > 1 ? args[1] : "config");
        else if (nargs > 1 && (!strcmp(args[0], "status") || !strcmp(args[0], "check") ||
                               !strcmp(args[0], "help") || !strcmp(args[0], "version")))
                return main_usage_error("unexpected argument '%s'", args[1]);
        else
                return main_usage_error("unknown command '%s'", args[0]);
        if (o->json && o->cmd != CMD_STATUS)
                return main_usage_error("--json only applies to 'status'");
        if ((o->yes || o->dry_run || o->act_conf) && o->cmd != CMD_ACT)
                return main_usage_error("--yes, --dry-run and --conf only apply to 'act'");
        return -1;
}

/* The wake pipe: non-blocking on both ends (a full pipe already means "wake
 * up", and the UI drains it without blocking) and close-on-exec. */
static int main_wake_pipe(int fds[2])
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

static bool main_locale_is_utf8(void)
{
        const char *cs = nl_langinfo(CODESET);

        return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* --- act ---------------------------------------------------------------- */

/* The command line for the audit `args`: the value of --conf, and ARG when
 * it may be a conf (the action takes one, or is not known), become "***";
 * the rest as typed (action_audit_line escapes and bounds it). Owned. */
static char **main_act_args(char *const *raw, int n, const struct action_def *d)
{
        bool arg_plain = d && !(d->flags & ACTION_F_CONF);
        bool operands = false;          /* after "--" */
        char **v = xcalloc((size_t)n + 1, sizeof *v);
        int nop = 0;

        for (int i = 0; i < n; i++) {
                const char *w = raw[i];

                if (!operands && strcmp(w, "--") == 0) {
                        operands = true;
                        v[i] = xstrdup(w);
                } else if (!operands && w[0] == '-' && w[1]) {
                        if (strncmp(w, "--conf=", 7) == 0) {
                                v[i] = xstrdup("--conf=***");
                                continue;
                        }
                        v[i] = xstrdup(w);
                        if (opt_takes_value(main_optdefs, w) && i + 1 < n) {
                                i++;
                                v[i] = xstrdup(strcmp(w, "--conf") == 0 ? "***" : raw[i]);
                        }
                } else {
                        /* act SOURCE ACTION TARGET ARG: ARG is operand 4. */
                        v[i] = xstrdup(nop >= 4 && !arg_plain ? "***" : w);
                        nop++;
                }
        }
        return v;
}

static void main_act_audit(const struct config *cfg, const struct main_opts *o,
                           const char *path, const struct source_cfg *src,
                           const struct action_def *d, const struct action_plan *plan,
                           const char *request, enum action_outcome out, long status,
                           int64_t dur, const char *error, const char *reason)
{
        char **args = main_act_args(o->raw, o->n_raw, d);
        struct action_audit au = {
                .environment = cfg ? cfg->environment : NULL, .source = o->act_source,
                .kind = src ? src->kind : NULL, .action = o->act_action,
                .target = o->act_target, .via = "cli", .request = request,
                .context = plan && plan->context ? plan->context
                                                 : action_source_context(src),
                .cmds = plan ? plan->cmds : NULL, .n_cmds = plan ? plan->n_cmds : 0,
                .dry_run = o->dry_run, .outcome = out, .status = status,
                .duration_ms = dur, .error = error, .reason = reason,
                .args = args, .n_args = (size_t)o->n_raw,
        };
        struct err e;

        err_clear(&e);
        if (action_audit(path, &au, &e) != 0)
                termsafe_fprintf(stderr, "lambdaops: %s\n", e.msg);
        for (int i = 0; i < o->n_raw; i++)
                free(args[i]);
        free(args);
}

/* A usage error of `act` (an unknown option, a wrong number of operands, an
 * option of another command) is a refusal like the others and is audited
 * with what can be known: the operands, the words as typed, and the audit
 * file of the config (the default one when no config loads). Other
 * commands' usage errors are not actions: nothing is written. */
static void main_act_usage_audit(char *const *raw, int n_raw, const char *reason,
                                 const char *error)
{
        char **words = xcalloc((size_t)n_raw + 2, sizeof *words);
        const struct source_cfg *src = NULL;
        const struct action_def *d = NULL;
        struct config *cfg = NULL;
        struct opt_parser op;
        struct main_opts o;
        const char *config = NULL;
        char *path, **ops;
        struct err err;
        int ch, first, nops;

        words[0] = "lambdaops";
        memcpy(words + 1, raw, (size_t)n_raw * sizeof *words);
        opt_init(&op, n_raw + 1, words, main_optdefs);
        optind = 0;     /* glibc: restart from scratch after the parse that failed */
        memset(&o, 0, sizeof o);
        while ((ch = opt_next(&op)) != OPT_END) {
                if (ch == 'c')
                        config = op.arg;
                else if (ch == OPT_DRY_RUN)
                        o.dry_run = true;
        }
        first = opt_operands(&op);
        opt_done(&op);
        if (first > n_raw || strcmp(words[first], "act") != 0) {
                free(words);
                return;
        }
        ops = words + first + 1;
        nops = n_raw - first;
        o.act_source = nops > 0 ? ops[0] : NULL;
        o.act_action = nops > 1 ? ops[1] : NULL;
        o.act_target = nops > 2 ? ops[2] : NULL;
        o.raw = raw;
        o.n_raw = n_raw;
        err_clear(&err);
        path = config_find(config, &err);
        if (path)
                cfg = config_load_file(path, &err);
        free(path);
        src = cfg && o.act_source ? config_source(cfg, o.act_source) : NULL;
        d = src && o.act_action ? action_lookup(cfg, src, o.act_action) : NULL;
        path = action_audit_path(cfg);
        main_act_audit(cfg, &o, path, src, d, NULL, NULL, ACT_REFUSED,
                       reason ? LO_EXIT_CONFIG : LO_EXIT_USAGE, -1,
                       error ? error : main_usage_msg, reason ? reason : ACT_REASON_USAGE);
        free(path);
        config_free(cfg);
        free(words);
}

/* Asks on the terminal. Dangerous actions need the word typed: the plan's
 * Kubernetes context when it has one, else the source name. */
static bool main_act_confirm(const struct action_def *d, const char *source)
{
        char line[256];

        if (d->flags & ACTION_F_DANGEROUS)
                termsafe_fprintf(stderr, "This is dangerous. Type %s to run it: ", source);
        else
                fprintf(stderr, "Run it? [y/N] ");
        fflush(stderr);
        if (!fgets(line, sizeof line, stdin))
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        if (d->flags & ACTION_F_DANGEROUS)
                return strcmp(line, source) == 0;
        return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0;
}

/* Prints the names of the source's actions after "; its actions:". */
static void main_act_name(const struct action_def *d, void *user)
{
        int *n = user;

        termsafe_fprintf(stderr, "%s %s", (*n)++ ? "" : "; its actions:", d->name);
}

/* `lambdaops act SOURCE ACTION TARGET [ARG]`: exit codes in main_usage and
 * docs/actions.md. Every way out is audited, refusals included. */
static int main_act(struct app *a, const struct main_opts *o)
{
        const struct source_cfg *src = config_source(a->cfg, o->act_source);
        const struct action_def *d = NULL;
        char *path = action_audit_path(a->cfg), *text, *summary, word[256];
        const char *arg = o->act_arg ? o->act_arg : o->act_conf;
        struct action_plan plan;
        struct action_result res;
        struct err err;
        int64_t t0 = clock_mono_ms();
        int rc, n = 0;

        err_clear(&err);
        if (!src) {
                termsafe_fprintf(stderr, "lambdaops: act: no source named '%s'\n", o->act_source);
                main_act_audit(a->cfg, o, path, NULL, NULL, NULL, NULL, ACT_REFUSED,
                               ACT_EXIT_NOINPUT, -1, "unknown source",
                               ACT_REASON_UNKNOWN_SOURCE);
                free(path);
                return ACT_EXIT_NOINPUT;
        }
        d = action_lookup(a->cfg, src, o->act_action);
        if (!d) {
                termsafe_fprintf(stderr, "lambdaops: act: %s (%s) has no action '%s'",
                                 src->name, src->kind, o->act_action);
                action_each(a->cfg, src, main_act_name, &n);
                fputc('\n', stderr);
                main_act_audit(a->cfg, o, path, src, NULL, NULL, NULL, ACT_REFUSED,
                               ACT_EXIT_NOINPUT, -1, "unknown action",
                               ACT_REASON_UNKNOWN_ACTION);
                free(path);
                return ACT_EXIT_NOINPUT;
        }
        if ((o->act_conf && !(d->flags & ACTION_F_CONF)) ||
            (o->act_arg && (d->flags & ACTION_F_CONF) && o->act_conf) ||
            (o->act_arg && !(d->flags & (ACTION_F_ARG | ACTION_F_CONF)))) {
                if (o->act_conf && !(d->flags & ACTION_F_CONF))
                        rc = main_usage_error("act: --conf does not apply to '%s'", d->name);
                else if (o->act_conf)
                        rc = main_usage_error("act: give the conf as ARG or --conf, not both");
                else
                        rc = main_usage_error("act: '%s' takes no argument", d->name);
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_REFUSED, rc, -1,
                               main_usage_msg, ACT_REASON_USAGE);
                free(path);
                return rc;
        }
        if (!action_target_ok(d, o->act_target, &err)) {
                termsafe_fprintf(stderr, "lambdaops: act: %s\n", err.msg);
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_REFUSED,
                               ACT_EXIT_NOINPUT, -1, err.msg, ACT_REASON_TARGET);
                free(path);
                return ACT_EXIT_NOINPUT;
        }
        if ((d->flags & ACTION_F_ARG) && !(d->flags & ACTION_F_ARG_OPT) && (!arg || !*arg)) {
                err_set(&err, EINVAL, "%s needs an argument: %s", d->name,
                        d->arg_label ? d->arg_label : "ARG");
        } else if (d->check_arg && arg && *arg) {
                d->check_arg(d, arg, &err);
        }
        if (err.msg[0]) {
                termsafe_fprintf(stderr, "lambdaops: act: %s\nTry 'lambdaops --help'.\n", err.msg);
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_REFUSED,
                               ACT_EXIT_USAGE, -1, err.msg, ACT_REASON_ARGUMENT);
                free(path);
                return ACT_EXIT_USAGE;
        }
        if (a->read_only && !action_allowed(d, true, &err)) {
                termsafe_fprintf(stderr, "lambdaops: act: %s (--read-only or read_only: true)\n",
                        err.msg);
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_REFUSED,
                               ACT_EXIT_READONLY, -1, err.msg, ACT_REASON_READ_ONLY);
                free(path);
                return ACT_EXIT_READONLY;
        }
        if (!o->dry_run && !o->yes && !(d->flags & ACTION_F_NOCONFIRM) &&
            !isatty(STDIN_FILENO)) {
                fprintf(stderr, "lambdaops: act: stdin is not a terminal: pass --yes to run "
                        "without a prompt (or --dry-run)\n");
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_REFUSED, ACT_EXIT_NOTTY,
                               -1, "no --yes and stdin is not a terminal",
                               ACT_REASON_NO_TERMINAL);
                free(path);
                return ACT_EXIT_NOTTY;
        }
        if (action_prepare(d, src, o->act_target, arg, o->dry_run, &plan, &err) != 0) {
                termsafe_fprintf(stderr, "lambdaops: act: %s %s %s: %s\n", src->name, d->name,
                        o->act_target, err.msg);
                main_act_audit(a->cfg, o, path, src, d, NULL, NULL, ACT_FAILED, 0,
                               clock_mono_ms() - t0, err.msg, NULL);
                free(path);
                return ACT_EXIT_FAILED;
        }
        text = action_plan_text(&plan);
        summary = action_plan_summary(&plan);
        if (o->dry_run || !(d->flags & ACTION_F_NOCONFIRM)) {
                termsafe_fprintf(stdout, "%s%s on %s %s:\n%s\n",
                                 o->dry_run ? "dry run: " : "", d->title, src->name,
                                 o->act_target, text);
                fflush(stdout);
        }
        free(text);
        if (o->dry_run) {
                main_act_audit(a->cfg, o, path, src, d, &plan, summary, ACT_OK, 0,
                               clock_mono_ms() - t0, NULL, NULL);
                rc = ACT_EXIT_OK;
                goto out;
        }
        str_copy(word, plan.context ? plan.context : src->name, sizeof word);
        if (!o->yes && !(d->flags & ACTION_F_NOCONFIRM) && !main_act_confirm(d, word)) {
                fprintf(stderr, "lambdaops: act: cancelled\n");
                main_act_audit(a->cfg, o, path, src, d, &plan, summary, ACT_CANCELLED, 0,
                               clock_mono_ms() - t0, NULL, ACT_REASON_DECLINED);
                rc = ACT_EXIT_CANCELLED;
                goto out;
        }
        t0 = clock_mono_ms();
        action_run(d, src, o->act_target, arg, &plan, &res);
        if (res.output) {
                /* A server's or a program's answer: escaped, lines kept. */
                termsafe_fputs(res.output, TERMSAFE_LINES, stdout);
                putchar('\n');
        }
        if (res.outcome == ACT_OK)
                printf("%s: ok\n", d->name);
        else
                termsafe_fprintf(stderr, "lambdaops: act: %s failed: %s\n", d->name,
                        res.err.msg[0] ? res.err.msg : "unknown error");
        main_act_audit(a->cfg, o, path, src, d, &plan,
                       res.requests ? res.requests : summary, res.outcome, res.status,
                       clock_mono_ms() - t0, res.outcome == ACT_OK ? NULL : res.err.msg, NULL);
        rc = res.outcome == ACT_OK ? ACT_EXIT_OK : ACT_EXIT_FAILED;
        action_result_done(&res);
out:
        free(summary);
        action_plan_done(&plan);
        free(path);
        return rc;
}

int main(int argc, char **argv)
{
        struct main_opts o;
        struct app a;
        struct err err;
        struct sigaction sa;
        const char *nc;
        char *path;
        int rc;

        /* plan/up/down load their plan (and its config) themselves. */
        if (bringup_is_command(argc, argv, main_optdefs))
                return bringup_main(argc, argv);
        if (runbook_is_command(argc, argv, main_optdefs))
                return runbook_main(argc, argv);
        if (watch_is_command(argc, argv, main_optdefs))
                return watch_main(argc, argv);
        /* The words as typed, for the audit line of `act` (getopt permutes
         * argv while parsing); kept until exit. */
        main_raw = xcalloc((size_t)argc + 1, sizeof *main_raw);
        memcpy(main_raw, argv, (size_t)argc * sizeof *main_raw);
        rc = main_parse(argc, argv, &o);
        if (rc >= 0) {
                main_act_usage_audit(main_raw + 1, argc - 1, NULL, NULL);
                return rc;
        }
        o.raw = main_raw + 1;
        o.n_raw = argc - 1;
        if (o.cmd == CMD_HELP) {
                main_usage(stdout);
                return 0;
        }
        if (o.cmd == CMD_VERSION) {
                printf("lambdaops %s\n", LO_VERSION);
                return 0;
        }

        /* Wide characters for ncursesw, but numbers always with a '.' (our
         * own printf formatting and the JSON must not follow the locale). */
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");

        err_clear(&err);
        path = config_find(o.config, &err);
        if (!path) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg[0] ? err.msg : "no config file found");
                if (o.cmd == CMD_ACT)
                        main_act_usage_audit(o.raw, o.n_raw, ACT_REASON_CONFIG, err.msg);
                return LO_EXIT_CONFIG;
        }
        memset(&a, 0, sizeof a);
        a.wake_pipe[0] = a.wake_pipe[1] = -1;
        a.cfg = config_load_file(path, &err);
        if (!a.cfg) {
                termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg[0] ? err.msg : path);
                if (o.cmd == CMD_ACT)
                        main_act_usage_audit(o.raw, o.n_raw, ACT_REASON_CONFIG, err.msg);
                free(path);
                return LO_EXIT_CONFIG;
        }
        if (o.cmd == CMD_CONFIG_CHECK) {
                size_t n_rb = 0;

                /* The runbooks are part of the config: same errors, same code. */
                if (runbook_cli_config_check(a.cfg, &n_rb, &err) != 0) {
                        termsafe_fprintf(stderr, "lambdaops: %s\n", err.msg);
                        free(path);
                        config_free(a.cfg);
                        return LO_EXIT_CONFIG;
                }
                if (a.cfg->runbooks.n)
                        termsafe_fprintf(stdout, "%s: ok (%zu source%s, %zu runbook%s)\n", path,
                                         a.cfg->n_sources, a.cfg->n_sources == 1 ? "" : "s",
                                         n_rb, n_rb == 1 ? "" : "s");
                else
                        termsafe_fprintf(stdout, "%s: ok (%zu source%s)\n", path,
                                         a.cfg->n_sources, a.cfg->n_sources == 1 ? "" : "s");
                free(path);
                config_free(a.cfg);
                return 0;
        }
        free(path);

        /* Process-wide set-up, before any collector thread exists. */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_IGN;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "lambdaops: libcurl initialisation failed\n");
                config_free(a.cfg);
                return 1;
        }
        if (main_wake_pipe(a.wake_pipe) != 0) {
                fprintf(stderr, "lambdaops: pipe: %s\n", strerror(errno));
                config_free(a.cfg);
                curl_global_cleanup();
                return 1;
        }

        nc = getenv("NO_COLOR");
        a.read_only = a.cfg->read_only || o.read_only;
        a.ascii = o.ascii || !main_locale_is_utf8();
        a.no_color = o.no_color || (nc && *nc);
        a.theme_override = o.theme;

        switch (o.cmd) {
        case CMD_STATUS:
                rc = report_status(&a, o.json);
                break;
        case CMD_CHECK:
                rc = report_check(&a);
                break;
        case CMD_ACT:
                rc = main_act(&a, &o);
                break;
        case CMD_TUI:
        default:
                app_start_collectors(&a, false);
                rc = tui_run(&a, o.view);
                app_stop_collectors(&a);
                break;
        }

        close(a.wake_pipe[0]);
        close(a.wake_pipe[1]);
        config_free(a.cfg);
        curl_global_cleanup();
        return rc;
}
