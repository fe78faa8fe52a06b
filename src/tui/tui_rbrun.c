/*
 * tui_rbrun: runbook runs in the console -- the input form, the run's
 * worker thread and its driver, and the run view.
 *
 * Threads. The engine (runbook_run, src/runbook/runbook_run.h) runs on one
 * worker thread per run; the UI thread never waits on it, the network or
 * the ledger. They share struct tui_rbrun, guarded by its mutex:
 *   - the worker's driver callbacks write what the run did (show texts,
 *     ledger records: step states, values, output) into it, bump `gen` and
 *     write a byte to the wake pipe; the loop's tui_rb_poll sees the new
 *     gen and redraws, copying what it draws under the mutex;
 *   - a callback that needs the operator (confirm, manual, choose, failed)
 *     posts the prompt the same way and waits on the condition variable
 *     until the UI thread stores the answer (or the operator aborts or
 *     leaves); wait() sleeps on the same condition variable with a
 *     deadline, so an abort ends it at once;
 *   - status() reads the console's own collector of the source: it asks
 *     for a poll now and waits (in slices, so an abort or a quit is seen)
 *     for the next generation, then takes a snapshot reference with
 *     collector_latest and builds report_json_source from it, as a frame
 *     does; no second collector is started.
 * At quit the UI thread sets `leaving` (every prompt answers abort, the
 * driver's left() says so, and the engine writes no end record: the run
 * stays resumable, its lock released by ledger_close) and joins the worker
 * for a bounded time (tui_rb_done).
 */
#include "tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/report.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/util.h"
#include "runbook/ledger.h"
#include "runbook/runbook.h"
#include "runbook/runbook_run.h"
#include "views/runbooks.h"

#define RBR_LOG_MAX      200    /* output lines the view keeps */
#define RBR_SLICE_MS     200    /* status(): how often a wait for a poll looks up */
#define RBR_STATUS_SLACK 5000   /* status(): on top of the source's timeout */
#define RBR_QUIT_MS      5000   /* tui_rb_done: how long a quit waits for the worker */
#define RBR_VAL_MAX      256

enum rbr_prompt { RBR_P_NONE, RBR_P_CONFIRM, RBR_P_MANUAL, RBR_P_CHOOSE, RBR_P_FAILED };

/* The UI's own sub-step of a prompt (UI thread only). */
enum rbr_sub { RBR_S_NONE, RBR_S_TYPING, RBR_S_SKIP, RBR_S_ABORT };

struct tui_rbrun {
        pthread_t th;
        bool started, joined, detached;
        pthread_mutex_t mu;
        pthread_cond_t cv;              /* the worker waits on it (prompts, wait()) */

        /* Set before the worker starts, then read-only. */
        const struct runbook *rb;       /* in t->runbooks->set, which outlives the run */
        struct runbook_inputs in;
        struct runbook_run_opts opts;
        char resume_id[TABLE_ID_MAX];
        const struct config *cfg;
        struct collector **colls;       /* app->colls (one per cfg->sources[i]) */
        size_t n_colls;
        int wake_fd;

        /* Shared: under mu. */
        uint64_t gen;                   /* bumped on every change */
        char run_id[TABLE_ID_MAX];
        char **state;                   /* per step: "pending", "running", a result */
        char **values;                  /* per step: the last values, or NULL */
        int *attempt;                   /* per step: the last attempt */
        long cur;                       /* the step running, n_steps: verify, -1 none */
        char verify[32];                /* the verify's state */
        char *verify_values;
        char *log[RBR_LOG_MAX];         /* the last lines shown, oldest first */
        size_t n_log;
        enum rbr_prompt prompt;
        char *ptext;                    /* the plan, the instruction, the error */
        char pword[128];                /* what a dangerous step needs typed, or "" */
        char **labels;                  /* choose */
        size_t n_labels;
        bool answered;
        int answer;                     /* an RB_ANS_*, or a choose index (-1 abort) */
        bool abort_req, leaving;
        bool done;
        int rc;
        char result[32];                /* from the end record, or "" */
        char err[512];

        /* UI thread only. */
        uint64_t seen;
        enum rbr_sub sub;
        char typed[128];
        char msg[256];
        size_t choice;
};

struct tui_rbform {
        const struct runbook *rb;
        char (*vals)[RBR_VAL_MAX];      /* one per input */
        size_t sel;
        char msg[512];
        char alert[256];                /* the alert it was prefilled from, or "" */
};

/* --- the worker's side: the driver ---------------------------------------- */

/* Under mu: the UI should look again. */
static void rbr_post(struct tui_rbrun *w)
{
        char b = 'r';
        ssize_t n;

        w->gen++;
        n = write(w->wake_fd, &b, 1);   /* non-blocking: a full pipe already wakes */
        (void)n;
}

static bool rbr_stopping(struct tui_rbrun *w)
{
        bool s;

        pthread_mutex_lock(&w->mu);
        s = w->abort_req || w->leaving;
        pthread_mutex_unlock(&w->mu);
        return s;
}

/* Under mu: one line into the log ring. */
static void rbr_log_line(struct tui_rbrun *w, const char *s, size_t len)
{
        if (w->n_log == RBR_LOG_MAX) {
                free(w->log[0]);
                memmove(w->log, w->log + 1, (RBR_LOG_MAX - 1) * sizeof *w->log);
                w->n_log--;
        }
        w->log[w->n_log++] = xstrndup(s, len);
}

static void rbr_show(void *arg, const char *text)
{
        struct tui_rbrun *w = arg;
        /* Server and program output reaches the screen escaped. */
        char *safe = termsafe_dup(text, TERMSAFE_LINES);
        const char *p = safe;

        pthread_mutex_lock(&w->mu);
        while (*p) {
                size_t len = strcspn(p, "\n");

                rbr_log_line(w, p, len);
                p += len;
                if (*p)
                        p++;
        }
        /* A wait's or a verify's values as they change: the live values. */
        if (w->cur >= 0 && (strncmp(safe, "  waiting: ", 11) == 0 ||
                            strncmp(safe, "  verify: ", 10) == 0)) {
                const char *v = strchr(safe + 2, ':') + 2;

                if ((size_t)w->cur < w->rb->n_steps) {
                        free(w->values[w->cur]);
                        w->values[w->cur] = xstrdup(v);
                } else {
                        free(w->verify_values);
                        w->verify_values = xstrdup(v);
                }
        }
        rbr_post(w);
        pthread_mutex_unlock(&w->mu);
        free(safe);
}

static const char *rbr_jstr(const cJSON *o, const char *k)
{
        const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

        return s ? s : "";
}

/* Under mu (or before the worker starts): one ledger record into the
 * steps' states. */
static void rbr_apply(struct tui_rbrun *w, const cJSON *rec)
{
        const char *ev = rbr_jstr(rec, "ev");
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(rec, "index");
        long i = cJSON_IsNumber(ix) ? (long)ix->valuedouble : -1;
        size_t n = w->rb->n_steps;

        if (!strcmp(ev, "start") || !strcmp(ev, "resume")) {
                if (!strcmp(ev, "start"))
                        str_copy(w->run_id, rbr_jstr(rec, "run"), sizeof w->run_id);
        } else if (!strcmp(ev, "step") && i >= 0 && (size_t)i < n) {
                const cJSON *att = cJSON_GetObjectItemCaseSensitive(rec, "attempt");
                const char *vals = cJSON_GetStringValue(
                        cJSON_GetObjectItemCaseSensitive(rec, "values"));

                w->cur = i;
                if (cJSON_IsNumber(att) && att->valuedouble > 0)
                        w->attempt[i] = (int)att->valuedouble;
                free(w->state[i]);
                if (!strcmp(rbr_jstr(rec, "phase"), "start")) {
                        w->state[i] = xstrdup("running");
                        free(w->values[i]);
                        w->values[i] = NULL;
                } else {
                        w->state[i] = xstrdup(rbr_jstr(rec, "result"));
                        if (vals) {
                                free(w->values[i]);
                                w->values[i] = termsafe_dup(vals, TERMSAFE_LINE);
                        }
                }
        } else if (!strcmp(ev, "verify")) {
                const char *vals = rbr_jstr(rec, "values");

                w->cur = (long)n;
                str_copy(w->verify, rbr_jstr(rec, "result"), sizeof w->verify);
                if (*vals) {
                        free(w->verify_values);
                        w->verify_values = termsafe_dup(vals, TERMSAFE_LINE);
                }
        } else if (!strcmp(ev, "end")) {
                str_copy(w->result, rbr_jstr(rec, "result"), sizeof w->result);
                w->cur = -1;
        }
}

/* Every ledger record, after it went to the ledger: the steps' states. */
static void rbr_record(void *arg, const cJSON *rec)
{
        struct tui_rbrun *w = arg;

        pthread_mutex_lock(&w->mu);
        rbr_apply(w, rec);
        rbr_post(w);
        pthread_mutex_unlock(&w->mu);
}

/* Posts a prompt and waits for the answer; under no lock on entry. The
 * answer, or `stop` when the operator aborted or left. */
static int rbr_ask(struct tui_rbrun *w, enum rbr_prompt p, const char *text, const char *word,
                   char **labels, size_t n_labels, int stop)
{
        int a;

        pthread_mutex_lock(&w->mu);
        if (w->abort_req || w->leaving) {
                pthread_mutex_unlock(&w->mu);
                for (size_t i = 0; i < n_labels; i++)
                        free(labels[i]);
                free(labels);
                return stop;
        }
        w->prompt = p;
        free(w->ptext);
        w->ptext = termsafe_dup(text ? text : "", TERMSAFE_LINES);
        str_copy(w->pword, word ? word : "", sizeof w->pword);
        w->labels = labels;
        w->n_labels = n_labels;
        w->answered = false;
        rbr_post(w);
        while (!w->answered && !w->abort_req && !w->leaving)
                pthread_cond_wait(&w->cv, &w->mu);
        a = w->answered ? w->answer : stop;
        w->prompt = RBR_P_NONE;
        for (size_t i = 0; i < w->n_labels; i++)
                free(w->labels[i]);
        free(w->labels);
        w->labels = NULL;
        w->n_labels = 0;
        rbr_post(w);
        pthread_mutex_unlock(&w->mu);
        return a;
}

static enum runbook_answer rbr_confirm(void *arg, const char *plan, const char *typed)
{
        return (enum runbook_answer)rbr_ask(arg, RBR_P_CONFIRM, plan, typed, NULL, 0,
                                            RB_ANS_ABORT);
}

static enum runbook_answer rbr_manual(void *arg, const char *text)
{
        return (enum runbook_answer)rbr_ask(arg, RBR_P_MANUAL, text, NULL, NULL, 0,
                                            RB_ANS_ABORT);
}

static int rbr_choose(void *arg, const char *const *labels, size_t n)
{
        char **l = xcalloc(n + 1, sizeof *l);

        for (size_t i = 0; i < n; i++)
                l[i] = termsafe_dup(labels[i], TERMSAFE_LINE);
        return rbr_ask(arg, RBR_P_CHOOSE, NULL, NULL, l, n, -1);
}

static enum runbook_answer rbr_failed(void *arg, const char *step, const char *error)
{
        char *text = xasprintf("step %s failed: %s", step, error);
        int a = rbr_ask(arg, RBR_P_FAILED, text, NULL, NULL, 0, RB_ANS_ABORT);

        free(text);
        return (enum runbook_answer)a;
}

static bool rbr_left(void *arg)
{
        struct tui_rbrun *w = arg;
        bool l;

        pthread_mutex_lock(&w->mu);
        l = w->leaving;
        pthread_mutex_unlock(&w->mu);
        return l;
}

/* Sleeps on the condition variable: an abort or a quit ends it at once. */
static bool rbr_wait(void *arg, int64_t ms)
{
        struct tui_rbrun *w = arg;
        int64_t deadline = clock_mono_ms() + (ms > 0 ? ms : 0);
        bool stop;

        pthread_mutex_lock(&w->mu);
        while (!w->abort_req && !w->leaving) {
                int64_t now = clock_mono_ms();
                struct timespec ts;

                if (now >= deadline)
                        break;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += (deadline - now) / 1000;
                ts.tv_nsec += ((deadline - now) % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
        stop = w->abort_req || w->leaving;
        pthread_mutex_unlock(&w->mu);
        return stop;
}

/* The source's status from the console's own collector: a poll now, then
 * its snapshot (a reference taken and dropped here, as a frame does). */
static cJSON *rbr_status(void *arg, const char *name, struct err *err)
{
        struct tui_rbrun *w = arg;
        const struct source_cfg *src = NULL;
        struct collector *c = NULL;
        struct snapshot *snap;
        uint64_t want;
        int64_t deadline;
        cJSON *doc;

        for (size_t i = 0; i < w->cfg->n_sources; i++) {
                if (strcmp(w->cfg->sources[i].name, name) == 0) {
                        src = &w->cfg->sources[i];
                        c = i < w->n_colls ? w->colls[i] : NULL;
                }
        }
        if (!src) {
                err_set(err, ENOENT, "no source named '%s' (check the config's sources)", name);
                return NULL;
        }
        if (!c) {
                err_set(err, ENOENT, "%s is not collected by this console", name);
                return NULL;
        }
        want = collector_gen(c) + 1;
        collector_refresh(c);
        deadline = clock_mono_ms() + src->timeout_ms + RBR_STATUS_SLACK;
        for (;;) {
                int64_t now = clock_mono_ms();

                if (rbr_stopping(w)) {
                        err_set(err, ECANCELED, "aborted by the operator");
                        return NULL;
                }
                if (now >= deadline) {
                        err_set(err, ETIMEDOUT, "no answer from %s in time", src->name);
                        return NULL;
                }
                if (collector_wait_gen(c, want, now + RBR_SLICE_MS < deadline
                                                ? now + RBR_SLICE_MS : deadline))
                        break;
        }
        snap = collector_latest(c, NULL);
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

static void *rbr_main(void *arg)
{
        struct tui_rbrun *w = arg;
        struct runbook_driver drv = {
                .arg = w, .status = rbr_status, .show = rbr_show, .confirm = rbr_confirm,
                .manual = rbr_manual, .choose = rbr_choose, .wait = rbr_wait,
                .record = rbr_record, .failed = rbr_failed, .left = rbr_left,
        };
        char *id = NULL;
        struct err err;
        int rc;

        err_clear(&err);
        rc = runbook_run(w->rb, &w->in, w->cfg, &drv, &w->opts, &id, &err);
        pthread_mutex_lock(&w->mu);
        w->rc = rc;
        w->done = true;
        w->cur = -1;
        if (id && !w->run_id[0])
                str_copy(w->run_id, id, sizeof w->run_id);
        if (rc != 0) {
                char *safe = termsafe_dup(err.msg, TERMSAFE_LINE);

                str_copy(w->err, safe, sizeof w->err);
                free(safe);
        }
        rbr_post(w);
        pthread_mutex_unlock(&w->mu);
        free(id);
        return NULL;
}

/* --- the UI thread's side ---------------------------------------------------- */

static void rbr_free(struct tui_rbrun *w)
{
        if (!w)
                return;
        for (size_t i = 0; w->rb && i < w->rb->n_steps; i++) {
                free(w->state[i]);
                free(w->values[i]);
        }
        free(w->state);
        free(w->values);
        free(w->attempt);
        free(w->verify_values);
        for (size_t i = 0; i < w->n_log; i++)
                free(w->log[i]);
        free(w->ptext);
        runbook_inputs_done(&w->in);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
}

bool tui_rb_active(struct tui *t)
{
        struct tui_rbrun *w = t->rbrun;
        bool a;

        if (!w)
                return false;
        pthread_mutex_lock(&w->mu);
        a = !w->done;
        pthread_mutex_unlock(&w->mu);
        return a;
}

/* Stores an answer for the waiting worker. */
static void rbr_answer(struct tui_rbrun *w, int a)
{
        pthread_mutex_lock(&w->mu);
        if (w->prompt != RBR_P_NONE) {
                w->answer = a;
                w->answered = true;
                pthread_cond_broadcast(&w->cv);
        }
        pthread_mutex_unlock(&w->mu);
        w->sub = RBR_S_NONE;
        w->typed[0] = '\0';
        w->msg[0] = '\0';
        w->choice = 0;
}

/* Starts the worker on rb with `in` (taken over). */
static void rbr_start(struct tui *t, const struct runbook *rb, struct runbook_inputs *in,
                      const char *resume)
{
        struct tui_rbrun *w;
        pthread_condattr_t ca;

        if (t->rbrun) {
                if (tui_rb_active(t)) {
                        runbook_inputs_done(in);
                        tui_flash(t, ROLE_ERROR, "a run is in progress: finish or abort it "
                                  "first");
                        return;
                }
                if (t->rbrun->started && !t->rbrun->joined)
                        pthread_join(t->rbrun->th, NULL);
                rbr_free(t->rbrun);
                t->rbrun = NULL;
        }
        w = xcalloc(1, sizeof *w);
        pthread_mutex_init(&w->mu, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cv, &ca);
        pthread_condattr_destroy(&ca);
        w->rb = rb;
        w->in = *in;
        memset(in, 0, sizeof *in);
        w->cfg = t->a->cfg;
        w->colls = t->a->colls;
        w->n_colls = t->a->n_colls;
        w->wake_fd = t->a->wake_pipe[1];
        w->opts.read_only = t->a->read_only;
        w->opts.via = "tui";
        w->state = xcalloc(rb->n_steps + 1, sizeof *w->state);
        w->values = xcalloc(rb->n_steps + 1, sizeof *w->values);
        w->attempt = xcalloc(rb->n_steps + 1, sizeof *w->attempt);
        for (size_t i = 0; i < rb->n_steps; i++)
                w->state[i] = xstrdup("pending");
        str_copy(w->verify, rb->n_verify ? "pending" : "", sizeof w->verify);
        w->cur = -1;
        if (resume) {
                cJSON *recs, *r;
                struct err err;

                str_copy(w->resume_id, resume, sizeof w->resume_id);
                str_copy(w->run_id, resume, sizeof w->run_id);
                w->opts.resume = w->resume_id;
                /* The states so far, from the ledger (a local file, as the
                 * pane reads it). */
                err_clear(&err);
                recs = ledger_read(resume, NULL, &err);
                cJSON_ArrayForEach(r, recs)
                        rbr_apply(w, r);
                cJSON_Delete(recs);
                w->cur = -1;
        }
        t->rbrun = w;
        if (pthread_create(&w->th, NULL, rbr_main, w) != 0) {
                w->done = true;
                w->rc = 1;
                str_copy(w->err, "cannot start a thread", sizeof w->err);
        } else {
                w->started = true;
        }
        t->mode = TUI_RBRUN;
}

/* --- the input form ------------------------------------------------------------ */

static void rbf_close(struct tui *t)
{
        if (t->rbform) {
                free(t->rbform->vals);
                free(t->rbform);
                t->rbform = NULL;
        }
        if (t->mode == TUI_RBFORM)
                t->mode = TUI_NORMAL;
}

/* The alert rb is for, as the pane shows it (the pane's alert, else the
 * first active alert rb answers). */
static const struct alert *rbf_alert(struct tui *t, const struct runbook *rb)
{
        struct view_data d;

        memset(&d, 0, sizeof d);
        d.srcs = t->a->cfg->sources;
        d.n = t->a->cfg->n_sources;
        d.track = &t->track;
        d.runbooks = t->runbooks;
        for (size_t i = 0; i < t->n_views; i++)
                if (t->views[i].ops == &view_runbooks_ops)
                        d.flags = t->views[i].flags;
        return view_runbooks_alert_for(&d, rb);
}

static void rbf_open(struct tui *t, const struct runbook *rb)
{
        struct tui_rbform *f;
        struct runbook_inputs in = { 0 };
        const struct alert *a = rbf_alert(t, rb);

        if (tui_rb_active(t)) {
                tui_flash(t, ROLE_ERROR, "a run is in progress (%s): one run at a time; Enter "
                          "on its row returns to it", t->rbrun->rb->id);
                return;
        }
        rbf_close(t);
        f = xcalloc(1, sizeof *f);
        f->rb = rb;
        f->vals = xcalloc(rb->n_inputs ? rb->n_inputs : 1, sizeof *f->vals);
        runbook_inputs_prefill(rb, &in, a);
        for (size_t i = 0; i < rb->n_inputs; i++)
                for (size_t j = 0; j < in.n; j++)
                        if (strcmp(in.names[j], rb->inputs[i].name) == 0)
                                str_copy(f->vals[i], in.values[j], sizeof f->vals[i]);
        runbook_inputs_done(&in);
        if (a)
                snprintf(f->alert, sizeof f->alert, "%s %s%s%s", a->source, a->metric,
                         a->subject[0] ? " " : "", a->subject);
        t->rbform = f;
        t->mode = TUI_RBFORM;
        /* Nothing to type: the run can start at once, but the operator
         * still sees what it will do and presses Enter. */
}

/* Enter in the form: the inputs checked by the loader's own rules, then the
 * run. */
static void rbf_submit(struct tui *t)
{
        struct tui_rbform *f = t->rbform;
        struct runbook_inputs in = { 0 };
        struct err err;

        for (size_t i = 0; i < f->rb->n_inputs; i++) {
                char *kv;

                if (!f->vals[i][0])
                        continue;
                kv = xasprintf("%s=%s", f->rb->inputs[i].name, f->vals[i]);
                err_clear(&err);
                runbook_inputs_set(f->rb, &in, kv, &err);
                free(kv);
        }
        err_clear(&err);
        if (runbook_inputs_check(f->rb, &in, t->a->cfg, &err) != 0) {
                char *safe = termsafe_dup(err.msg, TERMSAFE_LINE);

                str_copy(f->msg, safe, sizeof f->msg);
                free(safe);
                runbook_inputs_done(&in);
                return;
        }
        {
                const struct runbook *rb = f->rb;

                rbf_close(t);
                rbr_start(t, rb, &in, NULL);
        }
}

void tui_on_rbform_key(struct tui *t, int ch)
{
        struct tui_rbform *f = t->rbform;
        size_t n = f ? f->rb->n_inputs : 0;

        if (!f) {
                t->mode = TUI_NORMAL;
                return;
        }
        if (ch == TUI_KEY_ESC) {
                rbf_close(t);
                return;
        }
        if (tui_is_enter(ch)) {
                rbf_submit(t);
                return;
        }
        if (ch == KEY_DOWN || ch == '\t') {
                if (n)
                        f->sel = (f->sel + 1) % n;
                return;
        }
        if (ch == KEY_UP || ch == KEY_BTAB) {
                if (n)
                        f->sel = (f->sel + n - 1) % n;
                return;
        }
        if (!n)
                return;
        {
                char *v = f->vals[f->sel];
                size_t len = strlen(v);

                if (tui_is_backspace(ch)) {
                        if (len)
                                v[len - 1] = '\0';
                } else if (ch == 21) {          /* ^U */
                        v[0] = '\0';
                } else if (ch >= 32 && ch < 127 && len + 1 < RBR_VAL_MAX) {
                        v[len] = (char)ch;
                        v[len + 1] = '\0';
                } else {
                        return;
                }
                f->msg[0] = '\0';
        }
}

static void rbf_lines(struct tui *t, int w, struct tlines *out)
{
        struct tui_rbform *f = t->rbform;
        const struct runbook *rb = f->rb;

        (void)w;
        tlines_add(out, ROLE_TITLE, "Run %s", rb->id);
        tlines_seg(out, ROLE_DEFAULT, ": %s", rb->title);
        if (f->alert[0])
                tlines_add(out, ROLE_DIM, "  inputs prefilled from the alert %s", f->alert);
        if (t->a->read_only)
                tlines_add(out, ROLE_WARN, "  read-only: steps that change something will "
                           "be refused");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Inputs");
        if (!rb->n_inputs)
                tlines_add(out, ROLE_DIM, "  none");
        for (size_t i = 0; i < rb->n_inputs; i++) {
                const struct runbook_input *in = &rb->inputs[i];
                bool sel = i == f->sel;

                tlines_add(out, sel ? ROLE_PROMPT : ROLE_DEFAULT, "%s %-14s ", sel ? ">" : " ",
                           in->name);
                tlines_seg(out, sel ? ROLE_PROMPT : ROLE_DEFAULT, "%s%s",
                           f->vals[i][0] ? f->vals[i] : "", sel ? "_" : "");
                if (!f->vals[i][0])
                        tlines_seg(out, ROLE_WARN, "%s(unbound)", sel ? " " : "");
                tlines_seg(out, ROLE_DIM, "  %s", runbook_input_type_name(in->type));
                if (in->type == RB_IN_TARGET)
                        tlines_seg(out, ROLE_DIM, " %s", runbook_target_name(in->target));
                if (in->type == RB_IN_SOURCE && in->kind)
                        tlines_seg(out, ROLE_DIM, " %s", in->kind);
                if (in->type == RB_IN_ENUM) {
                        char vals[TSEG_MAX] = "";

                        for (size_t k = 0; k < in->n_values; k++) {
                                size_t l = strlen(vals);

                                snprintf(vals + l, sizeof vals - l, "%s%s", k ? "|" : "",
                                         in->values[k]);
                        }
                        tlines_seg(out, ROLE_DIM, " %s", vals);
                }
        }
        if (f->msg[0]) {
                tlines_add(out, ROLE_DEFAULT, "%s", "");
                tlines_add(out, ROLE_ERROR, "%s", f->msg);
        }
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Steps");
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];

                tlines_add(out, ROLE_DEFAULT, "  %zu. %s", i + 1, s->id);
                tlines_seg(out, ROLE_DIM, "  %s", runbook_step_kind_name(s->kind));
                if (s->title)
                        tlines_seg(out, ROLE_DEFAULT, "  %s", s->title);
        }
        if (rb->n_verify)
                tlines_add(out, ROLE_DIM, "  then %zu verify condition%s", rb->n_verify,
                           rb->n_verify == 1 ? "" : "s");
}

/* --- the Runbooks pane's keys ---------------------------------------------------- */

static const char *rbr_sel_id(struct tui *t)
{
        struct view *v = tui_view(t);

        if (v->detail)
                return v->detail_id;
        if (!v->rows.n || v->sel >= v->rows.n)
                return NULL;
        return v->rows.v[v->sel].id;
}

/* Whether run `id` of the ledger has an end record, as the pane read it. */
static bool rbr_run_unfinished(struct tui *t, const char *id)
{
        const cJSON *r;

        cJSON_ArrayForEach(r, t->runbooks->runs) {
                if (strcmp(rbr_jstr(r, "run"), id) == 0)
                        return !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "result"));
        }
        return false;
}

bool tui_rb_key(struct tui *t, int ch)
{
        struct view *v = tui_view(t);
        const char *id;

        if (v->ops != &view_runbooks_ops || (!tui_is_enter(ch) && ch != 'r' && ch != 'd'))
                return false;
        id = rbr_sel_id(t);
        if (!id)
                return false;
        if (ch == 'd') {
                /* The page of a runbook or a run, as Enter opened it before
                 * Enter ran runbooks. */
                if (v->detail)
                        return false;
                v->detail = true;
                v->detail_top = 0;
                str_copy(v->detail_id, id, sizeof v->detail_id);
                return true;
        }
        if (strncmp(id, "rb:", 3) == 0) {
                const struct runbook *rb = runbook_set_find(&t->runbooks->set, id + 3);

                if (!rb)
                        return false;
                rbf_open(t, rb);
                return true;
        }
        if (strncmp(id, "run:", 4) != 0 || !tui_is_enter(ch) || v->detail)
                return false;
        id += 4;
        if (t->rbrun) {
                bool mine;

                pthread_mutex_lock(&t->rbrun->mu);
                mine = strcmp(t->rbrun->run_id, id) == 0;
                pthread_mutex_unlock(&t->rbrun->mu);
                if (mine) {
                        t->mode = TUI_RBRUN;
                        return true;
                }
        }
        if (rbr_run_unfinished(t, id)) {
                t->ask = TUI_ASK_RESUME;
                str_copy(t->ask_run, id, sizeof t->ask_run);
                return true;
        }
        return false;
}

void tui_rb_resume(struct tui *t, const char *id)
{
        struct runbook_inputs in = { 0 };
        const struct runbook *rb;
        char *rb_id = NULL;
        struct err err;

        if (tui_rb_active(t)) {
                tui_flash(t, ROLE_ERROR, "a run is in progress: one run at a time");
                return;
        }
        err_clear(&err);
        if (runbook_run_load(id, &rb_id, &in, &err) != 0) {
                tui_flash(t, ROLE_ERROR, "resume: %s", err.msg);
                return;
        }
        rb = runbook_set_find(&t->runbooks->set, rb_id);
        if (!rb) {
                tui_flash(t, ROLE_ERROR, "resume: run %s is of runbook %s, which is not loaded",
                          id, rb_id);
                free(rb_id);
                runbook_inputs_done(&in);
                return;
        }
        free(rb_id);
        rbr_start(t, rb, &in, id);
}

/* --- the run view: keys ---------------------------------------------------------- */

void tui_on_rbrun_key(struct tui *t, int ch)
{
        struct tui_rbrun *w = t->rbrun;
        enum rbr_prompt p;
        char word[sizeof w->pword];
        size_t n_labels;
        bool done;

        if (!w) {
                t->mode = TUI_NORMAL;
                return;
        }
        pthread_mutex_lock(&w->mu);
        p = w->prompt;
        done = w->done;
        str_copy(word, w->pword, sizeof word);
        n_labels = w->n_labels;
        pthread_mutex_unlock(&w->mu);
        if (p == RBR_P_NONE && (w->sub == RBR_S_TYPING || w->sub == RBR_S_SKIP))
                w->sub = RBR_S_NONE;    /* the prompt went (the run moved on) */

        switch (w->sub) {
        case RBR_S_TYPING:
                if (ch == TUI_KEY_ESC) {
                        w->sub = RBR_S_NONE;
                        w->typed[0] = '\0';
                        w->msg[0] = '\0';
                } else if (tui_is_enter(ch)) {
                        if (strcmp(w->typed, word) == 0) {
                                rbr_answer(w, RB_ANS_YES);
                        } else {
                                snprintf(w->msg, sizeof w->msg, "type %s exactly to run it "
                                         "(Esc goes back)", word);
                                w->typed[0] = '\0';
                        }
                } else {
                        size_t len = strlen(w->typed);

                        if (tui_is_backspace(ch)) {
                                if (len)
                                        w->typed[len - 1] = '\0';
                        } else if (ch == 21) {
                                w->typed[0] = '\0';
                        } else if (ch >= 32 && ch < 127 && len + 1 < sizeof w->typed) {
                                w->typed[len] = (char)ch;
                                w->typed[len + 1] = '\0';
                        }
                        w->msg[0] = '\0';
                }
                return;
        case RBR_S_SKIP:
        case RBR_S_ABORT:
                if (ch == 'y' || ch == 'Y') {
                        if (w->sub == RBR_S_SKIP) {
                                rbr_answer(w, RB_ANS_SKIP);
                        } else if (p == RBR_P_NONE) {
                                pthread_mutex_lock(&w->mu);
                                w->abort_req = true;
                                pthread_cond_broadcast(&w->cv);
                                pthread_mutex_unlock(&w->mu);
                                w->sub = RBR_S_NONE;
                                tui_flash(t, ROLE_INFO, "aborting: the run stops before its "
                                          "next step");
                        } else {
                                rbr_answer(w, p == RBR_P_CHOOSE ? -1 : RB_ANS_ABORT);
                        }
                } else {
                        w->sub = RBR_S_NONE;
                }
                return;
        case RBR_S_NONE:
        default:
                break;
        }
        if (ch == TUI_KEY_ESC) {
                t->mode = TUI_NORMAL;
                if (!done)
                        tui_flash(t, ROLE_INFO, "the run goes on; Enter on its row in the "
                                  "Runbooks pane returns to it");
                return;
        }
        if (ch == 'q') {
                if (done) {
                        t->quit = true;
                        t->rc = 0;
                } else {
                        t->ask = TUI_ASK_QUIT;
                }
                return;
        }
        if (done) {
                if (tui_is_enter(ch))
                        t->mode = TUI_NORMAL;
                return;
        }
        if (ch == 'a') {
                w->sub = RBR_S_ABORT;
                return;
        }
        switch (p) {
        case RBR_P_CONFIRM:
        case RBR_P_MANUAL:
                if (ch == 'y' || ch == 'Y' || tui_is_enter(ch)) {
                        if (p == RBR_P_CONFIRM && word[0]) {
                                w->sub = RBR_S_TYPING;
                                w->typed[0] = '\0';
                        } else {
                                rbr_answer(w, RB_ANS_YES);
                        }
                } else if (ch == 's') {
                        w->sub = RBR_S_SKIP;
                }
                break;
        case RBR_P_FAILED:
                if (ch == 'r')
                        rbr_answer(w, RB_ANS_YES);
                else if (ch == 's')
                        w->sub = RBR_S_SKIP;
                break;
        case RBR_P_CHOOSE:
                if (ch >= '1' && ch <= '9' && (size_t)(ch - '1') < n_labels) {
                        rbr_answer(w, ch - '1');
                } else if ((ch == 'j' || ch == KEY_DOWN) && n_labels) {
                        w->choice = (w->choice + 1) % n_labels;
                } else if ((ch == 'k' || ch == KEY_UP) && n_labels) {
                        w->choice = (w->choice + n_labels - 1) % n_labels;
                } else if (tui_is_enter(ch) && w->choice < n_labels) {
                        rbr_answer(w, (int)w->choice);
                }
                break;
        case RBR_P_NONE:
        default:
                break;
        }
}

/* --- the run view: lines ----------------------------------------------------------- */

static enum theme_role rbr_role(const char *state)
{
        if (!strcmp(state, "ok"))
                return ROLE_OK;
        if (!strcmp(state, "running"))
                return ROLE_INFO;
        if (!strcmp(state, "failed") || !strcmp(state, "refused") || !strcmp(state, "aborted"))
                return ROLE_CRIT;
        if (!strcmp(state, "pending") || !*state)
                return ROLE_DIM;
        return ROLE_WARN;
}

/* Adds text one line per '\n', long lines wrapped at w cells (a plan's
 * request is shown whole, never clipped). */
static void rbr_text(struct tlines *out, enum theme_role role, const char *indent,
                     const char *s, int w)
{
        int cells = w - (int)strlen(indent) - 1;

        if (cells < 20)
                cells = 20;
        while (s && *s) {
                size_t len = strcspn(s, "\n");
                const char *p = s, *end = s + len;

                do {
                        const char *q = p, *sp = NULL;
                        int n = 0;

                        while (q < end && n < cells && q - p < TSEG_MAX - 16) {
                                q++;
                                while (q < end && ((unsigned char)*q & 0xC0) == 0x80)
                                        q++;
                                n++;
                                if (q < end && *q == ' ' && n > cells / 2)
                                        sp = q;
                        }
                        /* Prose breaks after a word; a long URL where it must. */
                        if (q < end && sp)
                                q = sp + 1;
                        tlines_add(out, role, "%s%.*s", indent, (int)(q - p), p);
                        p = q;
                } while (p < end);
                s = *end ? end + 1 : end;
        }
}

static void rbr_prompt_lines(struct tui_rbrun *w, int width, struct tlines *out)
{
        const char *sname = w->cur >= 0 && (size_t)w->cur < w->rb->n_steps
                            ? w->rb->steps[w->cur].id : "";

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        if (w->sub == RBR_S_SKIP) {
                tlines_add(out, ROLE_WARN, "Skip step %s? The run goes on after it.  ", sname);
                tlines_seg(out, ROLE_KEY, "y");
                tlines_seg(out, ROLE_DEFAULT, " skip  ");
                tlines_seg(out, ROLE_KEY, "n");
                tlines_seg(out, ROLE_DEFAULT, " back");
                return;
        }
        if (w->sub == RBR_S_ABORT) {
                tlines_add(out, ROLE_WARN, "%s  ", w->prompt == RBR_P_FAILED
                           ? "Stop the run here? It ends failed."
                           : "Abort the run? It ends aborted.");
                tlines_seg(out, ROLE_KEY, "y");
                tlines_seg(out, ROLE_DEFAULT, " %s  ", w->prompt == RBR_P_FAILED ? "stop"
                                                                               : "abort");
                tlines_seg(out, ROLE_KEY, "n");
                tlines_seg(out, ROLE_DEFAULT, " back");
                return;
        }
        switch (w->prompt) {
        case RBR_P_CONFIRM:
                tlines_add(out, ROLE_TITLE, "Confirm step %s:", sname);
                rbr_text(out, ROLE_DEFAULT, "  ", w->ptext, width);
                if (w->sub == RBR_S_TYPING) {
                        tlines_add(out, ROLE_WARN, "dangerous: type %s and Enter to run it; "
                                   "Esc goes back", w->pword);
                        tlines_add(out, ROLE_PROMPT, "> %s_", w->typed);
                } else {
                        tlines_add(out, ROLE_PROMPT, "%s", w->pword[0]
                                   ? "Run it? (dangerous: y asks for the word typed)  "
                                   : "Run it?  ");
                        tlines_seg(out, ROLE_KEY, "y");
                        tlines_seg(out, ROLE_DEFAULT, " run  ");
                        tlines_seg(out, ROLE_KEY, "s");
                        tlines_seg(out, ROLE_DEFAULT, " skip  ");
                        tlines_seg(out, ROLE_KEY, "a");
                        tlines_seg(out, ROLE_DEFAULT, " abort");
                }
                break;
        case RBR_P_MANUAL:
                tlines_add(out, ROLE_TITLE, "Do this, then confirm (step %s):", sname);
                rbr_text(out, ROLE_DEFAULT, "  ", w->ptext, width);
                tlines_add(out, ROLE_PROMPT, "Done?  ");
                tlines_seg(out, ROLE_KEY, "y");
                tlines_seg(out, ROLE_DEFAULT, " done  ");
                tlines_seg(out, ROLE_KEY, "s");
                tlines_seg(out, ROLE_DEFAULT, " skip  ");
                tlines_seg(out, ROLE_KEY, "a");
                tlines_seg(out, ROLE_DEFAULT, " abort");
                break;
        case RBR_P_CHOOSE:
                tlines_add(out, ROLE_TITLE, "Choose (step %s):", sname);
                for (size_t i = 0; i < w->n_labels; i++)
                        tlines_add(out, i == w->choice ? ROLE_PROMPT : ROLE_DEFAULT,
                                   "%s %zu. %s", i == w->choice ? ">" : " ", i + 1,
                                   w->labels[i]);
                break;
        case RBR_P_FAILED:
                tlines_add(out, ROLE_ERROR, "%s", w->ptext);
                tlines_add(out, ROLE_PROMPT, "Retry it?  ");
                tlines_seg(out, ROLE_KEY, "r");
                tlines_seg(out, ROLE_DEFAULT, " retry  ");
                tlines_seg(out, ROLE_KEY, "s");
                tlines_seg(out, ROLE_DEFAULT, " skip  ");
                tlines_seg(out, ROLE_KEY, "a");
                tlines_seg(out, ROLE_DEFAULT, " stop");
                break;
        case RBR_P_NONE:
        default:
                break;
        }
        if (w->msg[0])
                tlines_add(out, ROLE_ERROR, "%s", w->msg);
}

/* Appends a copy of line l. */
static void rbr_line_copy(struct tlines *out, const struct tline *l)
{
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        out->v[out->n - 1] = *l;
}

static void rbr_lines(struct tui *t, int width, int h, struct tlines *out)
{
        struct tui_rbrun *w = t->rbrun;
        const struct runbook *rb = w->rb;
        struct tlines st, pr;
        size_t first, tail, cur_line = 0, from = 0, avail;
        int room;

        pthread_mutex_lock(&w->mu);
        tlines_add(out, ROLE_TITLE, "Run %s", rb->id);
        tlines_seg(out, ROLE_DIM, "  %s", w->run_id[0] ? w->run_id : "starting");
        if (w->done) {
                const char *res = w->result[0] ? w->result : w->rc == 0 ? "ok" : "stopped";

                tlines_add(out, ROLE_DEFAULT, "result: ");
                tlines_seg(out, rbr_role(res), "%s", res);
                if (w->err[0])
                        tlines_seg(out, ROLE_ERROR, "  %s", w->err);
        } else if (w->prompt != RBR_P_NONE) {
                tlines_add(out, ROLE_WARN, "waiting for you");
        } else if (w->abort_req) {
                tlines_add(out, ROLE_WARN, "aborting after the running step");
        } else {
                tlines_add(out, ROLE_INFO, "running");
        }
        tlines_init(&st);
        tlines_init(&pr);
        for (size_t i = 0; i < rb->n_steps; i++) {
                const struct runbook_step *s = &rb->steps[i];
                const char *state = w->state[i];

                if ((long)i == w->cur)
                        cur_line = st.n;
                tlines_add(&st, ROLE_DEFAULT, "%s%zu. ", (long)i == w->cur ? ">" : " ", i + 1);
                tlines_seg(&st, rbr_role(state), "%-10s", state);
                tlines_seg(&st, ROLE_DEFAULT, "%s", s->id);
                tlines_seg(&st, ROLE_DIM, "  %s", runbook_step_kind_name(s->kind));
                if (w->attempt[i] > 1)
                        tlines_seg(&st, ROLE_DIM, "  attempt %d", w->attempt[i]);
                if (w->values[i])
                        tlines_add(&st, ROLE_DIM, "      %s", w->values[i]);
        }
        if (rb->n_verify) {
                if ((long)rb->n_steps == w->cur)
                        cur_line = st.n;
                tlines_add(&st, ROLE_DEFAULT, "%s", (long)rb->n_steps == w->cur ? ">   "
                                                                                 : "    ");
                tlines_seg(&st, rbr_role(w->verify), "%-10s", w->verify);
                tlines_seg(&st, ROLE_DEFAULT, "verify");
                if (w->verify_values)
                        tlines_add(&st, ROLE_DIM, "      %s", w->verify_values);
        }
        if (!w->done)
                rbr_prompt_lines(w, width, &pr);
        /* On a short screen the prompt must show: the step list becomes a
         * window around the running step. */
        avail = h > (int)(out->n + pr.n + 3) ? (size_t)h - out->n - pr.n - 3 : 1;
        if (st.n > avail) {
                from = cur_line > avail / 3 ? cur_line - avail / 3 : 0;
                if (from + avail > st.n)
                        from = st.n - avail;
        } else {
                avail = st.n;
        }
        for (size_t i = from; i < from + avail; i++)
                rbr_line_copy(out, &st.v[i]);
        for (size_t i = 0; i < pr.n; i++)
                rbr_line_copy(out, &pr.v[i]);
        tlines_done(&st);
        tlines_done(&pr);
        /* The output tail fills what is left of the page. */
        room = h - (int)out->n - 2;
        if (room < 2)
                room = 2;
        tail = w->n_log < (size_t)room ? w->n_log : (size_t)room;
        first = w->n_log - tail;
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Output");
        for (size_t i = first; i < w->n_log; i++)
                tlines_add(out, ROLE_DIM, "  %s", w->log[i]);
        pthread_mutex_unlock(&w->mu);
}

void tui_rb_lines(struct tui *t, int w, int h, struct tlines *out)
{
        if (t->mode == TUI_RBFORM && t->rbform)
                rbf_lines(t, w, out);
        else if (t->rbrun)
                rbr_lines(t, w, h, out);
}

size_t tui_rb_hints(struct tui *t, const char **keys, const char **what, size_t max)
{
        struct tui_rbrun *w = t->rbrun;
        size_t n = 0;
        enum rbr_prompt p;
        bool done;

#define HINT(k, s) do { if (n < max) { keys[n] = (k); what[n] = (s); n++; } } while (0)
        if (t->mode == TUI_RBFORM) {
                HINT("Enter", "run");
                HINT("Tab/Up/Down", "input");
                HINT("^U", "clear");
                HINT("Esc", "cancel");
                return n;
        }
        if (!w)
                return 0;
        pthread_mutex_lock(&w->mu);
        p = w->prompt;
        done = w->done;
        pthread_mutex_unlock(&w->mu);
        if (done) {
                HINT("Esc", "close");
                HINT("q", "quit");
                return n;
        }
        if (w->sub == RBR_S_TYPING) {
                HINT("Enter", "confirm");
                HINT("Esc", "back");
                return n;
        }
        if (w->sub != RBR_S_NONE) {
                HINT("y", "yes");
                HINT("n", "back");
                return n;
        }
        if (p == RBR_P_CONFIRM)
                HINT("y", "run");
        if (p == RBR_P_MANUAL)
                HINT("y", "done");
        if (p == RBR_P_CHOOSE)
                HINT("1-9", "choose");
        if (p == RBR_P_FAILED)
                HINT("r", "retry");
        if (p == RBR_P_CONFIRM || p == RBR_P_MANUAL || p == RBR_P_FAILED)
                HINT("s", "skip");
        HINT("a", p == RBR_P_FAILED ? "stop" : "abort");
        HINT("Esc", "leave (runs on)");
        HINT("q", "quit");
#undef HINT
        return n;
}

void tui_rb_marker(struct tui *t, char *buf, size_t n)
{
        struct tui_rbrun *w = t->rbrun;

        buf[0] = '\0';
        if (!w)
                return;
        pthread_mutex_lock(&w->mu);
        if (!w->done) {
                const char *step = w->cur >= 0 && (size_t)w->cur < w->rb->n_steps
                                   ? w->rb->steps[w->cur].id
                                   : w->cur >= 0 ? "verify" : "starting";

                snprintf(buf, n, "run %s: %s%s", w->rb->id, step,
                         w->prompt != RBR_P_NONE ? ", waiting for you" : "");
        }
        pthread_mutex_unlock(&w->mu);
}

bool tui_rb_poll(struct tui *t)
{
        struct tui_rbrun *w = t->rbrun;
        bool changed = false, done;

        if (!w)
                return false;
        pthread_mutex_lock(&w->mu);
        if (w->gen != w->seen) {
                w->seen = w->gen;
                changed = true;
        }
        done = w->done;
        pthread_mutex_unlock(&w->mu);
        if (done && w->started && !w->joined) {
                /* It has returned: the join does not wait. */
                pthread_join(w->th, NULL);
                w->joined = true;
                view_runbooks_refresh(t->runbooks, NULL, clock_mono_ms(), true);
                tui_flash(t, w->rc == 0 ? ROLE_INFO : ROLE_ERROR, "run %s of %s: %s",
                          w->run_id, w->rb->id, w->result[0] ? w->result
                                                            : w->rc == 2 ? "stopped" : "ended");
        }
        return changed;
}

bool tui_rb_done(struct tui *t)
{
        struct tui_rbrun *w = t->rbrun;
        int64_t deadline = clock_mono_ms() + RBR_QUIT_MS;

        rbf_close(t);
        if (!w)
                return true;
        pthread_mutex_lock(&w->mu);
        w->leaving = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        while (w->started && !w->joined) {
                bool done;

                pthread_mutex_lock(&w->mu);
                done = w->done;
                pthread_mutex_unlock(&w->mu);
                if (done) {
                        pthread_join(w->th, NULL);
                        w->joined = true;
                        break;
                }
                if (clock_mono_ms() >= deadline) {
                        /* A request or a program in flight: its own timeout
                         * ends it; the process exits first. The run has no
                         * end record and its lock goes with the process. */
                        pthread_detach(w->th);
                        w->detached = true;
                        return false;
                }
                poll(NULL, 0, 20);
        }
        rbr_free(w);
        t->rbrun = NULL;
        return true;
}
