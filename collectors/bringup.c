/*
 * Bring-up collector: see bringup.h. A poll is two local file reads (the
 * plan and the progress file) and a kill(pid, 0); no network, so it never
 * blocks past its timeout.
 *
 * Actions. S and R start `lambdaops up` as a separate process: we
 * posix_spawn ourselves (/proc/self/exe) with LAMBDAOPS_DETACH=1, output to
 * the state dir's <plan>.log, and wait only for that short-lived first
 * process, which starts the real runner in a new session and exits (see
 * src/bringup_cli.c), so the TUI never waits on the bring-up and leaves no
 * zombie. K rewrites the progress file (atomically) with the stage
 * skipped; X sends SIGTERM to the runner PID recorded there. K and R refuse
 * while a runner is alive, S refuses a second runner.
 */
#include "collectors/bringup.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/action.h"
#include "bringup/bringup_cli.h"
#include "core/config.h"
#include "bringup/expr.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "bringup/plan.h"
#include "core/util.h"

extern char **environ;

static const struct cfg_key bringup_keys[] = {
        { "plan", CFG_STR, offsetof(struct bringup_cfg, plan), true,
          "path of the plan file; a relative one is relative to this config file's directory" },
        { NULL, 0, 0, false, NULL },
};

/* --- the document ------------------------------------------------------------ */

static const cJSON *bringup_get(const cJSON *o, const char *k)
{
        return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static void bringup_copy(cJSON *dst, const char *k, const cJSON *src_obj)
{
        const cJSON *v = bringup_get(src_obj, k);

        cJSON_AddItemToObject(dst, k, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
}

/* The progress record with n == idx + 1 in arr, or NULL. */
static const cJSON *bringup_nth(const cJSON *arr, size_t idx)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, arr) {
                const cJSON *n = bringup_get(it, "n");

                if (cJSON_IsNumber(n) && n->valuedouble == (double)(idx + 1))
                        return it;
        }
        return NULL;
}

static const cJSON *bringup_named(const cJSON *arr, const char *name)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, arr) {
                const cJSON *n = bringup_get(it, "name");

                if (cJSON_IsString(n) && !strcmp(n->valuestring, name))
                        return it;
        }
        return NULL;
}

static cJSON *bringup_stage_doc(const struct plan *p, const struct plan_stage *st, const cJSON *ps,
                                int64_t now, bool alive)
{
        cJSON *o = cJSON_CreateObject(), *steps, *gates;
        const cJSON *state = bringup_get(ps, "state"), *sm = bringup_get(ps, "started_ms");
        const cJSON *fm = bringup_get(ps, "finished_ms"), *err = bringup_get(ps, "error");
        enum stage_state s = cJSON_IsString(state) ? stage_state_parse(state->valuestring)
                                                   : ST_PENDING;
        bool stopped = (s == ST_RUNNING || s == ST_WAITING) && !alive;

        json_add_str(o, "name", st->name);
        json_add_str(o, "title", st->title);
        json_add_str(o, "state", stage_state_name(stopped ? ST_FAILED : s));
        bringup_copy(o, "started_at", ps);
        bringup_copy(o, "finished_at", ps);
        if (cJSON_IsNumber(sm) && cJSON_IsNumber(fm))
                cJSON_AddNumberToObject(o, "elapsed_ms", fm->valuedouble - sm->valuedouble);
        else if (cJSON_IsNumber(sm) && (s == ST_RUNNING || s == ST_WAITING) && alive)
                cJSON_AddNumberToObject(o, "elapsed_ms", (double)now - sm->valuedouble);
        else
                cJSON_AddNullToObject(o, "elapsed_ms");
        if (stopped)
                cJSON_AddStringToObject(o, "error", "the runner stopped (its process is gone)");
        else
                json_add_text(o, "error", cJSON_IsString(err) ? err->valuestring : NULL);
        bringup_copy(o, "current_step", ps);
        steps = cJSON_AddArrayToObject(o, "steps");
        for (size_t i = 0; i < st->n_steps; i++) {
                const cJSON *rec = bringup_nth(bringup_get(ps, "steps"), i);
                cJSON *so = cJSON_CreateObject();
                struct err e;
                char **argv, *t;

                err_clear(&e);
                argv = plan_subst(p, st->steps[i].run.v, &e);
                t = argv ? action_argv_text(argv) : xstrdup(e.msg);
                cJSON_AddNumberToObject(so, "n", (double)(i + 1));
                cJSON_AddStringToObject(so, "argv", t);
                free(t);
                plan_argv_free(argv);
                bringup_copy(so, "exit_code", rec);
                bringup_copy(so, "duration_ms", rec);
                cJSON_AddBoolToObject(so, "skipped", cJSON_IsTrue(bringup_get(rec, "skipped")));
                cJSON_AddItemToArray(steps, so);
        }
        gates = cJSON_AddArrayToObject(o, "gates");
        for (size_t i = 0; i < st->n_gates; i++) {
                const struct plan_gate *g = &st->gates[i];
                const cJSON *rec = bringup_named(bringup_get(ps, "gates"), g->name);
                cJSON *go = cJSON_CreateObject();

                cJSON_AddStringToObject(go, "name", g->name);
                cJSON_AddStringToObject(go, "source", g->source);
                cJSON_AddStringToObject(go, "expr", expr_text(g->expr));
                cJSON_AddNumberToObject(go, "timeout_ms", (double)g->timeout_ms);
                bringup_copy(go, "value", rec);
                bringup_copy(go, "error", rec);
                cJSON_AddBoolToObject(go, "ok", cJSON_IsTrue(bringup_get(rec, "ok")));
                cJSON_AddItemToArray(gates, go);
        }
        cJSON_AddNumberToObject(o, "down_steps", (double)st->n_down);
        {
                const cJSON *tail = bringup_get(ps, "output_tail");

                cJSON_AddItemToObject(o, "output_tail", cJSON_IsArray(tail)
                                      ? cJSON_Duplicate(tail, true) : cJSON_CreateArray());
        }
        return o;
}

cJSON *bringup_doc(const struct plan *p, const cJSON *prog, int64_t now_ms, bool runner_alive)
{
        cJSON *d = cJSON_CreateObject(), *stages, *runner;
        const cJSON *pid = bringup_get(prog, "pid");
        size_t done = 0;

        cJSON_AddStringToObject(d, "plan", p->path);
        cJSON_AddStringToObject(d, "plan_name", p->name);
        runner = cJSON_AddObjectToObject(d, "runner");
        if (cJSON_IsNumber(pid))
                cJSON_AddNumberToObject(runner, "pid", pid->valuedouble);
        else
                cJSON_AddNullToObject(runner, "pid");
        cJSON_AddBoolToObject(runner, "alive", runner_alive);
        bringup_copy(runner, "command", prog);
        bringup_copy(d, "updated_at", prog);
        stages = cJSON_AddArrayToObject(d, "stages");
        for (size_t i = 0; i < p->n_stages; i++) {
                cJSON *so = bringup_stage_doc(p, &p->stages[i],
                                              plan_progress_stage(prog, p->stages[i].name), now_ms,
                                              runner_alive);
                const cJSON *st = bringup_get(so, "state");

                if (!strcmp(st->valuestring, "done") || !strcmp(st->valuestring, "skipped"))
                        done++;
                cJSON_AddItemToArray(stages, so);
        }
        cJSON_AddNumberToObject(d, "stages_total", (double)p->n_stages);
        cJSON_AddNumberToObject(d, "stages_done", (double)done);
        return d;
}

/* The runner recorded in prog, when it is alive (0 otherwise). */
static pid_t bringup_runner(const cJSON *prog)
{
        const cJSON *pid = bringup_get(prog, "pid"), *run = bringup_get(prog, "running");
        pid_t p;

        if (!cJSON_IsNumber(pid) || !cJSON_IsTrue(run) || pid->valuedouble <= 1 ||
            pid->valuedouble > (double)INT_MAX)
                return 0;
        p = (pid_t)pid->valuedouble;
        return kill(p, 0) == 0 || errno == EPERM ? p : 0;
}

/* --- the collector ------------------------------------------------------------ */

struct bu_state {
        const struct source_cfg *src;   /* borrowed; the config outlives us */
};

static void *bringup_create(const struct source_cfg *src)
{
        struct bu_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        return st;
}

static void bringup_destroy(void *state)
{
        free(state);
}

/* The plan's path: as written when absolute, else relative to the
 * directory of the config file that names it (so `plan: plan.yaml` next
 * to the config works from any working directory). Owned. */
static char *bringup_plan_path(const struct source_cfg *src)
{
        const struct bringup_cfg *cfg = src->kind_cfg;
        const char *cpath = src->cfg ? src->cfg->path : NULL;
        const char *slash = cpath ? strrchr(cpath, '/') : NULL;

        if (cfg->plan[0] == '/' || !cpath || strcmp(cpath, "<string>") == 0)
                return xstrdup(cfg->plan);
        if (!slash)
                return xstrdup(cfg->plan);
        return xasprintf("%.*s/%s", (int)(slash - cpath), cpath, cfg->plan);
}

static enum coll_status bringup_poll(void *state, const struct coll_ctx *ctx, void **data,
                                     struct err *err)
{
        const struct source_cfg *src = ((const struct bu_state *)state)->src;
        char *ppath = bringup_plan_path(src);
        struct bringup_data *bd;
        struct plan *p;
        cJSON *prog;
        char *path;
        bool missing;
        struct err e;

        (void)ctx;
        err_clear(&e);
        p = plan_load_file(ppath, &missing, &e);
        free(ppath);
        if (!p) {
                err_set(err, e.code ? e.code : EINVAL, "%s", e.msg);
                return COLL_DOWN;
        }
        path = plan_progress_path(p->name);
        prog = plan_progress_read(path, &missing, &e);
        bd = xcalloc(1, sizeof *bd);
        bd->doc = bringup_doc(p, prog, clock_wall_ms(), bringup_runner(prog));
        cJSON_AddStringToObject(bd->doc, "progress_file", path);
        *data = bd;
        free(path);
        plan_free(p);
        cJSON_Delete(prog);
        if (!prog && !missing) {
                err_set(err, EINVAL, "%s", e.msg);
                return COLL_DEGRADED;
        }
        return COLL_OK;
}

static void bringup_data_free(void *data)
{
        struct bringup_data *bd = data;

        if (!bd)
                return;
        cJSON_Delete(bd->doc);
        free(bd);
}

static void bringup_to_json(const void *data, cJSON *obj)
{
        const struct bringup_data *bd = data;
        const cJSON *it;

        cJSON_ArrayForEach(it, bd->doc)
                cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, true));
}

static void bringup_summary(const void *data, char *buf, size_t n)
{
        const struct bringup_data *bd = data;
        const cJSON *it, *cur = NULL, *failed = NULL;

        cJSON_ArrayForEach(it, bringup_get(bd->doc, "stages")) {
                const char *s = bringup_get(it, "state")->valuestring;

                if (!cur && (!strcmp(s, "running") || !strcmp(s, "waiting")))
                        cur = it;
                if (!failed && !strcmp(s, "failed"))
                        failed = it;
        }
        snprintf(buf, n, "%d/%d stages done%s%s%s%s",
                 (int)bringup_get(bd->doc, "stages_done")->valuedouble,
                 (int)bringup_get(bd->doc, "stages_total")->valuedouble,
                 cur ? ", at " : "", cur ? bringup_get(cur, "name")->valuestring : "",
                 failed ? ", failed: " : "",
                 failed ? bringup_get(failed, "name")->valuestring : "");
}

static double bringup_key_metric(const void *data)
{
        const struct bringup_data *bd = data;

        return bringup_get(bd->doc, "stages_done")->valuedouble;
}

/* A failed stage is a warning: the bring-up stopped there. */
static void bringup_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct bringup_data *bd = data;
        const cJSON *it;

        cJSON_ArrayForEach(it, bringup_get(bd->doc, "stages")) {
                const cJSON *err = bringup_get(it, "error");
                struct alert a;

                if (strcmp(bringup_get(it, "state")->valuestring, "failed") != 0)
                        continue;
                memset(&a, 0, sizeof a);
                a.sev = SEV_WARN;
                str_copy(a.source, src->name, sizeof a.source);
                str_copy(a.metric, "stage_failed", sizeof a.metric);
                str_copy(a.subject, bringup_get(it, "name")->valuestring, sizeof a.subject);
                a.value = NAN;
                a.threshold = NAN;
                snprintf(a.message, sizeof a.message, "bring-up stage %s failed: %s",
                         a.subject, cJSON_IsString(err) ? err->valuestring : "unknown error");
                alert_list_add(out, &a);
        }
}

/* --- actions ------------------------------------------------------------------- */

struct bu_priv {
        char  *log;             /* S, R: the runner's output file */
        char  *progress;        /* K, X: the progress file */
        pid_t  pid;             /* X: the runner */
};

static void bringup_priv_free(void *v)
{
        struct bu_priv *pv = v;

        if (!pv)
                return;
        free(pv->log);
        free(pv->progress);
        free(pv);
}

/* Loads the plan of x's source and its progress (NULL when none yet). */
static struct plan *bringup_act_load(const struct action_ctx *x, cJSON **prog, char **prog_path,
                                     struct err *err)
{
        char *ppath = bringup_plan_path(x->src);
        struct plan *p = plan_load_file(ppath, NULL, err);
        bool missing;
        struct err e;

        free(ppath);
        if (!p)
                return NULL;
        *prog_path = plan_progress_path(p->name);
        err_clear(&e);
        *prog = plan_progress_read(*prog_path, &missing, &e);
        if (!*prog && !missing) {
                err_set(err, e.code, "%s", e.msg);
                free(*prog_path);
                *prog_path = NULL;
                plan_free(p);
                return NULL;
        }
        return p;
}

/* S and R: the runner's argv. from = NULL: resume. */
static int bringup_prep_up(const struct action_ctx *x, struct action_plan *plan, const char *from,
                           struct err *err)
{
        char exe[PATH_MAX], *ppath = NULL;
        cJSON *prog = NULL;
        struct plan *p = bringup_act_load(x, &prog, &ppath, err);
        struct bu_priv *pv;
        ssize_t n;
        pid_t other;

        if (!p)
                return -1;
        other = bringup_runner(prog);
        if (from && plan_stage_index(p, from) < 0) {
                err_set(err, ENOENT, "no stage \"%s\" in %s", from, p->path);
        } else if (other) {
                err_set(err, EBUSY, "a runner (pid %ld) is already working on %s; X aborts it",
                        (long)other, p->path);
        } else if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0) {
                err_set(err, errno, "cannot find the lambdaops binary: %s", strerror(errno));
        } else {
                char *argv[] = { exe, "up", "--plan", p->path, "--yes", "--from",
                                 (char *)from, NULL };

                exe[n] = '\0';
                if (!from)
                        argv[5] = NULL;
                action_plan_add_argv(plan, argv, 0);
                pv = xcalloc(1, sizeof *pv);
                pv->log = plan_log_path(p->name);
                plan->priv = pv;
                plan->priv_free = bringup_priv_free;
                action_plan_preview(plan, "The runner starts as its own process; its output "
                                    "goes to %s", pv->log);
                plan->note = xasprintf("%s", from ? "runs the stage again, then the ones after it"
                                                  : "resumes at the first stage not done");
        }
        cJSON_Delete(prog);
        free(ppath);
        plan_free(p);
        return err->msg[0] ? -1 : 0;
}

static int bringup_prep_start(const struct action_ctx *x, struct action_plan *plan, struct err *err)
{
        return bringup_prep_up(x, plan, NULL, err);
}

static int bringup_prep_retry(const struct action_ctx *x, struct action_plan *plan, struct err *err)
{
        return bringup_prep_up(x, plan, x->target, err);
}

/* Opens the log for appending, parents created 0700. */
static int bringup_open_log(const char *path, struct err *err)
{
        char *d = xstrdup(path);
        int fd;

        for (char *q = d + 1; *q; q++) {
                if (*q != '/')
                        continue;
                *q = '\0';
                if (mkdir(d, 0700) != 0 && errno != EEXIST) {
                        err_set(err, errno, "mkdir %s: %s", d, strerror(errno));
                        free(d);
                        return -1;
                }
                *q = '/';
        }
        free(d);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                err_set(err, errno, "%s: %s", path, strerror(errno));
        return fd;
}

static void bringup_run_spawn(const struct action_ctx *x, const struct action_plan *plan,
                              struct action_result *r)
{
        const struct bu_priv *pv = plan->priv;
        posix_spawn_file_actions_t fa;
        size_t n = 0;
        char **env, *text;
        int fd, rc, status = 0;
        pid_t pid;
        int64_t end;

        (void)x;
        r->outcome = ACT_FAILED;
        fd = bringup_open_log(pv->log, &r->err);
        if (fd < 0)
                return;
        while (environ[n])
                n++;
        env = xcalloc(n + 2, sizeof *env);
        memcpy(env, environ, n * sizeof *env);
        env[n] = BRINGUP_DETACH_ENV "=1";
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
        text = action_argv_text(plan->cmds[0].argv);
        r->requests = xstrdup(text);
        rc = posix_spawn(&pid, plan->cmds[0].argv[0], &fa, NULL, plan->cmds[0].argv, env);
        posix_spawn_file_actions_destroy(&fa);
        close(fd);
        free(env);
        if (rc != 0) {
                err_set(&r->err, rc, "cannot start %s: %s", plan->cmds[0].argv[0], strerror(rc));
                free(text);
                return;
        }
        /* The first process only starts the runner and exits. */
        end = clock_mono_ms() + 5000;
        while (waitpid(pid, &status, WNOHANG) == 0) {
                if (clock_mono_ms() >= end) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        break;
                }
                usleep(10 * 1000);
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                r->outcome = ACT_OK;
                action_result_out(r, "started: %s\noutput: %s", text, pv->log);
        } else {
                err_set(&r->err, EIO, "the runner did not start (see %s)", pv->log);
                r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
        free(text);
}

static int bringup_prep_skip(const struct action_ctx *x, struct action_plan *plan, struct err *err)
{
        char *ppath = NULL;
        cJSON *prog = NULL;
        struct plan *p = bringup_act_load(x, &prog, &ppath, err);
        pid_t other;

        if (!p)
                return -1;
        other = bringup_runner(prog);
        if (plan_stage_index(p, x->target) < 0) {
                err_set(err, ENOENT, "no stage \"%s\" in %s", x->target, p->path);
        } else if (other) {
                err_set(err, EBUSY, "a runner (pid %ld) is working on %s; abort it (X) first",
                        (long)other, p->path);
        } else {
                struct bu_priv *pv = xcalloc(1, sizeof *pv);

                pv->progress = ppath;
                ppath = NULL;
                plan->priv = pv;
                plan->priv_free = bringup_priv_free;
                action_plan_preview(plan, "mark stage %s skipped in %s", x->target, pv->progress);
                plan->note = xasprintf("up will not run it; up --from %s or R runs it again",
                                       x->target);
        }
        cJSON_Delete(prog);
        free(ppath);
        plan_free(p);
        return err->msg[0] ? -1 : 0;
}

static void bringup_run_skip(const struct action_ctx *x, const struct action_plan *plan,
                             struct action_result *r)
{
        const struct bu_priv *pv = plan->priv;
        struct err e;
        bool missing;
        cJSON *prog, *s, *stages;
        char ts[40];
        int64_t now = clock_wall_ms();

        r->outcome = ACT_FAILED;
        err_clear(&e);
        prog = plan_progress_read(pv->progress, &missing, &e);
        if (!prog && !missing) {
                err_set(&r->err, e.code, "%s", e.msg);
                return;
        }
        if (!prog)
                prog = cJSON_CreateObject();
        stages = cJSON_GetObjectItemCaseSensitive(prog, "stages");
        if (!cJSON_IsArray(stages)) {
                cJSON_DeleteItemFromObjectCaseSensitive(prog, "stages");
                stages = cJSON_AddArrayToObject(prog, "stages");
        }
        s = plan_progress_stage(prog, x->target);
        if (!s) {
                s = cJSON_CreateObject();
                cJSON_AddStringToObject(s, "name", x->target);
                cJSON_AddItemToArray(stages, s);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(s, "state");
        cJSON_AddStringToObject(s, "state", "skipped");
        cJSON_DeleteItemFromObjectCaseSensitive(s, "error");
        cJSON_AddNullToObject(s, "error");
        fmt_rfc3339(now, ts, sizeof ts);
        cJSON_DeleteItemFromObjectCaseSensitive(s, "finished_at");
        cJSON_AddStringToObject(s, "finished_at", ts);
        cJSON_DeleteItemFromObjectCaseSensitive(s, "finished_ms");
        cJSON_AddNumberToObject(s, "finished_ms", (double)now);
        r->requests = xasprintf("skip %s in %s", x->target, pv->progress);
        if (plan_progress_write(pv->progress, prog, &r->err) == 0) {
                r->outcome = ACT_OK;
                action_result_out(r, "stage %s: skipped", x->target);
        }
        cJSON_Delete(prog);
}

static int bringup_prep_abort(const struct action_ctx *x, struct action_plan *plan, struct err *err)
{
        char *ppath = NULL;
        cJSON *prog = NULL;
        struct plan *p = bringup_act_load(x, &prog, &ppath, err);
        pid_t pid;

        if (!p)
                return -1;
        pid = bringup_runner(prog);
        if (!pid) {
                err_set(err, ESRCH, "no runner is working on %s", p->path);
        } else {
                struct bu_priv *pv = xcalloc(1, sizeof *pv);

                pv->pid = pid;
                plan->priv = pv;
                plan->priv_free = bringup_priv_free;
                action_plan_preview(plan, "send SIGTERM to the runner, pid %ld", (long)pid);
                plan->note = xasprintf("the current step's program is stopped and its stage "
                                       "recorded failed: interrupted");
        }
        cJSON_Delete(prog);
        free(ppath);
        plan_free(p);
        return err->msg[0] ? -1 : 0;
}

static void bringup_run_abort(const struct action_ctx *x, const struct action_plan *plan,
                              struct action_result *r)
{
        const struct bu_priv *pv = plan->priv;

        (void)x;
        r->requests = xasprintf("kill -TERM %ld", (long)pv->pid);
        if (kill(pv->pid, SIGTERM) != 0) {
                r->outcome = ACT_FAILED;
                err_set(&r->err, errno, "kill %ld: %s", (long)pv->pid, strerror(errno));
                return;
        }
        r->outcome = ACT_OK;
        action_result_out(r, "SIGTERM sent to pid %ld", (long)pv->pid);
}

static const struct action_def bu_actions[] = {
        { .name = "start", .title = "start or resume the bring-up (lambdaops up)",
          .scope = "stage", .key = 'S', .flags = ACTION_F_MUTATING,
          .prepare = bringup_prep_start, .run = bringup_run_spawn },
        { .name = "retry", .title = "run the stage again, then the ones after it",
          .scope = "stage", .key = 'R', .flags = ACTION_F_MUTATING,
          .prepare = bringup_prep_retry, .run = bringup_run_spawn },
        { .name = "skip", .title = "mark the stage skipped", .scope = "stage", .key = 'K',
          .flags = ACTION_F_MUTATING, .prepare = bringup_prep_skip, .run = bringup_run_skip },
        { .name = "abort", .title = "stop the running bring-up (SIGTERM)", .scope = "stage",
          .key = 'X', .flags = ACTION_F_MUTATING, .prepare = bringup_prep_abort,
          .run = bringup_run_abort },
        { 0 }
};

const struct collector_ops coll_bringup_ops = {
        .name = "bringup",
        .title = "Bring-up",
        .default_interval_ms = 1000,
        .default_timeout_ms = 2000,
        .keys = bringup_keys,
        .cfg_size = sizeof(struct bringup_cfg),
        .create = bringup_create,
        .destroy = bringup_destroy,
        .poll = bringup_poll,
        .data_free = bringup_data_free,
        .to_json = bringup_to_json,
        .alerts = bringup_alerts,
        .key_metric = bringup_key_metric,
        .summary = bringup_summary,
        .key_metric_name = "stages done",
        .key_metric_unit = THR_COUNT,
        .actions = bu_actions,
};
