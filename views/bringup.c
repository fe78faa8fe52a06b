/*
 * Bring-up pane: the stages of every source of kind "bringup" (one plan
 * each).
 *
 * Above the table, a line per plan: its path, how many stages are done,
 * the runner (pid, running or not), and the live output tail of the step
 * that is running (its last lines). The table has one row per stage: its
 * state in colour (done ok, running/waiting info, failed crit, skipped
 * dim), elapsed time, steps done of all, the gates (each gate's current
 * value while waiting, "2/2 ok" when they held), and the error or title.
 * Enter opens the stage: every step with its exact argv, exit code and
 * duration, every gate with its expression, current value and error, and
 * the output tail. The keys S, R, K, X are the kind's actions
 * (collectors/bringup.c); the TUI runs them through the action dialog.
 *
 * rows(), preamble() and detail() are pure (see view.h).
 */
#include "views/view.h"
#include "views/bringup.h"
#include "views/common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/bringup.h"
#include "core/util.h"

/* Lines of the running step's output shown above the table. */
#define BUV_TAIL_PREAMBLE 6

/* A number of the bring-up document as an int; out-of-range values (a
 * hand-edited progress file) and non-numbers are -1, never a cast's
 * undefined behaviour. */
static int view_bringup_int(const cJSON *v)
{
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= -2147483648.0 &&
                                    v->valuedouble <= 2147483647.0))
                return -1;
        return (int)v->valuedouble;
}

static const struct column view_bringup_columns[] = {
        [BUV_STAGE]   = { "STAGE",    -2, 10, COL_LEFT },
        [BUV_STATE]   = { "STATE",     8,  0, COL_LEFT },
        [BUV_ELAPSED] = { "ELAPSED",   8,  0, COL_RIGHT },
        [BUV_STEPS]   = { "STEPS",     6,  0, COL_RIGHT },
        [BUV_GATES]   = { "GATES",    -4, 16, COL_LEFT },
        [BUV_NOTE]    = { "ERROR / TITLE", -4, 16, COL_LEFT },
        [BUV__COUNT]  = { NULL, 0, 0, COL_LEFT },
};

static bool view_bringup_is_bu(const struct source_cfg *src)
{
        return src->ops && src->ops->name && strcmp(src->ops->name, "bringup") == 0;
}

static const cJSON *view_bringup_doc(const struct snapshot *s)
{
        const struct bringup_data *bd = s ? s->data : NULL;

        return bd ? bd->doc : NULL;
}

static const cJSON *view_bringup_get(const cJSON *o, const char *k)
{
        return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const char *view_bringup_str(const cJSON *o, const char *k)
{
        const cJSON *v = view_bringup_get(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Same, "?" when absent (for printing). */
static const char *view_bringup_txt(const cJSON *o, const char *k)
{
        const char *v = view_bringup_str(o, k);

        return v ? v : "?";
}

static enum theme_role view_bringup_state_role(const char *s)
{
        if (!s)
                return ROLE_UNKNOWN;
        if (!strcmp(s, "done"))
                return ROLE_OK;
        if (!strcmp(s, "failed"))
                return ROLE_CRIT;
        if (!strcmp(s, "running") || !strcmp(s, "waiting"))
                return ROLE_INFO;
        return ROLE_DIM;
}

static enum severity view_bringup_state_sev(const char *s)
{
        return s && !strcmp(s, "failed") ? SEV_CRIT : SEV_OK;
}

static void view_bringup_ms(const cJSON *v, char *buf, size_t n)
{
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 9e15)
                fmt_duration_ms((int64_t)v->valuedouble, buf, n);
        else
                str_copy(buf, "-", n);
}

/* "2/3": steps with exit code 0 (or skipped) of all. */
static void view_bringup_steps(const cJSON *st, char *buf, size_t n)
{
        const cJSON *it;
        int all = 0, ok = 0;

        cJSON_ArrayForEach(it, view_bringup_get(st, "steps")) {
                const cJSON *ec = view_bringup_get(it, "exit_code");

                all++;
                ok += cJSON_IsNumber(ec) && ec->valuedouble == 0;
        }
        if (all)
                snprintf(buf, n, "%d/%d", ok, all);
        else
                str_copy(buf, "-", n);
}

/* The gates column: the first gate not holding with its value (or error),
 * else "N/N ok", else "-". */
static void view_bringup_gates(const cJSON *st, char *buf, size_t n, enum theme_role *role)
{
        const cJSON *it;
        int all = 0, ok = 0;

        *role = ROLE_DIM;
        cJSON_ArrayForEach(it, view_bringup_get(st, "gates")) {
                all++;
                ok += cJSON_IsTrue(view_bringup_get(it, "ok"));
        }
        if (!all) {
                str_copy(buf, "-", n);
                return;
        }
        if (ok == all) {
                snprintf(buf, n, "%d/%d ok", ok, all);
                *role = ROLE_OK;
                return;
        }
        cJSON_ArrayForEach(it, view_bringup_get(st, "gates")) {
                const char *v = view_bringup_str(it, "value"), *e = view_bringup_str(it, "error");

                if (cJSON_IsTrue(view_bringup_get(it, "ok")))
                        continue;
                if (!v && !e) {
                        snprintf(buf, n, "%d/%d ok", ok, all);
                        return;
                }
                snprintf(buf, n, "%s: %s", view_bringup_txt(it, "name"), e ? e : v);
                *role = e ? ROLE_WARN : ROLE_DEFAULT;
                return;
        }
}

static void view_bringup_rows(const struct view_data *d, struct table_rows *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const cJSON *doc, *st;

                if (!view_bringup_is_bu(src))
                        continue;
                doc = view_bringup_doc(d->snaps[i]);
                cJSON_ArrayForEach(st, view_bringup_get(doc, "stages")) {
                        struct table_row *row = table_rows_add(out);
                        const char *state = view_bringup_str(st, "state");
                        const char *err = view_bringup_str(st, "error");
                        const char *title = view_bringup_str(st, "title");
                        enum theme_role gr;
                        char buf[TABLE_CELL_MAX];

                        common_row_id(row, src->name, view_bringup_txt(st, "name"));
                        row->sev = view_bringup_state_sev(state);
                        table_cell_set(row, BUV_STAGE, ROLE_DEFAULT, "%s",
                                       view_bringup_txt(st, "name"));
                        table_cell_set(row, BUV_STATE, view_bringup_state_role(state), "%s",
                                       state ? state : "?");
                        view_bringup_ms(view_bringup_get(st, "elapsed_ms"), buf, sizeof buf);
                        table_cell_set(row, BUV_ELAPSED, ROLE_DEFAULT, "%s", buf);
                        view_bringup_steps(st, buf, sizeof buf);
                        table_cell_set(row, BUV_STEPS, ROLE_DEFAULT, "%s", buf);
                        view_bringup_gates(st, buf, sizeof buf, &gr);
                        table_cell_set(row, BUV_GATES, gr, "%s", buf);
                        if (err)
                                table_cell_set(row, BUV_NOTE, ROLE_CRIT, "%s", err);
                        else
                                table_cell_set(row, BUV_NOTE, ROLE_DIM, "%s", title ? title : "");
                }
        }
}

static void view_bringup_preamble(const struct view_data *d, struct tlines *out)
{
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const struct snapshot *s = d->snaps[i];
                const cJSON *doc, *runner, *st, *pid, *running = NULL;
                char age[32];
                enum theme_role role;

                if (!view_bringup_is_bu(src))
                        continue;
                tlines_add(out, ROLE_TITLE, "%s", src->name);
                if (!s) {
                        tlines_seg(out, ROLE_UNKNOWN, "  waiting for the first poll");
                        continue;
                }
                if (s->status == COLL_DOWN) {
                        tlines_seg(out, ROLE_CRIT, "  %s", s->error);
                        continue;
                }
                doc = view_bringup_doc(s);
                runner = view_bringup_get(doc, "runner");
                pid = view_bringup_get(runner, "pid");
                tlines_seg(out, ROLE_DEFAULT, "  %s: %d/%d stages done",
                           view_bringup_txt(doc, "plan"),
                           view_bringup_int(view_bringup_get(doc, "stages_done")),
                           view_bringup_int(view_bringup_get(doc, "stages_total")));
                if (cJSON_IsTrue(view_bringup_get(runner, "alive")))
                        tlines_seg(out, ROLE_INFO, "  runner pid %d running",
                                   view_bringup_int(pid));
                else
                        tlines_seg(out, ROLE_DIM, "  no runner (S starts one)");
                view_fmt_age(s, d->now_mono, age, sizeof age, &role);
                tlines_seg(out, role == ROLE_DEFAULT ? ROLE_DIM : role, "  %s", age);
                if (s->error[0])
                        tlines_add(out, ROLE_WARN, "  %s", s->error);
                cJSON_ArrayForEach(st, view_bringup_get(doc, "stages")) {
                        const char *state = view_bringup_str(st, "state");

                        if (state && (!strcmp(state, "running") || !strcmp(state, "waiting"))) {
                                running = st;
                                break;
                        }
                }
                if (running) {
                        const cJSON *tail = view_bringup_get(running, "output_tail"), *l;
                        int n = cJSON_GetArraySize(tail), k = 0;
                        const cJSON *cs = view_bringup_get(running, "current_step");

                        if (cJSON_IsNumber(cs))
                                tlines_add(out, ROLE_DIM, "  %s step %d output:",
                                           view_bringup_txt(running, "name"), view_bringup_int(cs));
                        else
                                tlines_add(out, ROLE_DIM, "  %s: waiting on gates",
                                           view_bringup_txt(running, "name"));
                        cJSON_ArrayForEach(l, tail)
                                if (k++ >= n - BUV_TAIL_PREAMBLE && cJSON_IsString(l))
                                        tlines_add(out, ROLE_DEFAULT, "  | %s", l->valuestring);
                }
        }
}

static void view_bringup_detail(const struct view_data *d, const char *id, struct tlines *out)
{
        const char *tab = strchr(id, '\t');

        if (!tab)
                return;
        for (size_t i = 0; i < d->n; i++) {
                const struct source_cfg *src = &d->srcs[i];
                const cJSON *st;

                if (!view_bringup_is_bu(src) || strncmp(src->name, id, (size_t)(tab - id)) != 0 ||
                    src->name[tab - id] != '\0')
                        continue;
                cJSON_ArrayForEach(st, view_bringup_get(view_bringup_doc(d->snaps[i]), "stages")) {
                        const char *name = view_bringup_str(st, "name");
                        const char *state = view_bringup_str(st, "state"), *at;
                        const cJSON *it, *tail;
                        char buf[64];

                        if (!name || strcmp(name, tab + 1) != 0)
                                continue;
                        tlines_add(out, ROLE_TITLE, "stage %s", name);
                        if (view_bringup_str(st, "title"))
                                tlines_seg(out, ROLE_DIM, "  %s", view_bringup_str(st, "title"));
                        tlines_kv(out, "state", view_bringup_state_role(state), "%s",
                                  state ? state : "?");
                        at = view_bringup_str(st, "started_at");
                        tlines_kv(out, "started", ROLE_DEFAULT, "%s", at ? at : "-");
                        at = view_bringup_str(st, "finished_at");
                        tlines_kv(out, "finished", ROLE_DEFAULT, "%s", at ? at : "-");
                        view_bringup_ms(view_bringup_get(st, "elapsed_ms"), buf, sizeof buf);
                        tlines_kv(out, "elapsed", ROLE_DEFAULT, "%s", buf);
                        if (view_bringup_str(st, "error"))
                                tlines_kv(out, "error", ROLE_CRIT, "%s",
                                          view_bringup_str(st, "error"));
                        tlines_add(out, ROLE_DEFAULT, "%s", "");
                        tlines_add(out, ROLE_TITLE, "steps");
                        cJSON_ArrayForEach(it, view_bringup_get(st, "steps")) {
                                const cJSON *ec = view_bringup_get(it, "exit_code");
                                char dur[32];

                                view_bringup_ms(view_bringup_get(it, "duration_ms"), dur,
                                                sizeof dur);
                                tlines_add(out, ROLE_DEFAULT, "  %d. %s",
                                           view_bringup_int(view_bringup_get(it, "n")),
                                           view_bringup_txt(it, "argv"));
                                if (cJSON_IsTrue(view_bringup_get(it, "skipped")))
                                        tlines_seg(out, ROLE_DIM, "  skipped (already done)");
                                else if (cJSON_IsNumber(ec))
                                        tlines_seg(out, ec->valuedouble == 0 ? ROLE_OK : ROLE_CRIT,
                                                   "  exit %d, %s", view_bringup_int(ec), dur);
                                else
                                        tlines_seg(out, ROLE_DIM, "  not run");
                        }
                        if (cJSON_GetArraySize(view_bringup_get(st, "gates")) > 0) {
                                tlines_add(out, ROLE_DEFAULT, "%s", "");
                                tlines_add(out, ROLE_TITLE, "gates");
                        }
                        cJSON_ArrayForEach(it, view_bringup_get(st, "gates")) {
                                const char *v = view_bringup_str(it, "value");
                                const char *e = view_bringup_str(it, "error");
                                bool ok = cJSON_IsTrue(view_bringup_get(it, "ok"));

                                tlines_add(out, ok ? ROLE_OK : ROLE_DEFAULT, "  %s",
                                           view_bringup_txt(it, "name"));
                                tlines_seg(out, ROLE_DIM, "  (%s)", view_bringup_txt(it, "source"));
                                tlines_seg(out, ok ? ROLE_OK : ROLE_DIM, "  %s",
                                           ok ? "ok" : "not yet");
                                tlines_kv(out, "  expr", ROLE_DEFAULT, "%s",
                                          view_bringup_txt(it, "expr"));
                                tlines_kv(out, "  value", ROLE_DEFAULT, "%s", v ? v : "-");
                                if (e)
                                        tlines_kv(out, "  error", ROLE_WARN, "%s", e);
                        }
                        tail = view_bringup_get(st, "output_tail");
                        if (cJSON_GetArraySize(tail) > 0) {
                                tlines_add(out, ROLE_DEFAULT, "%s", "");
                                tlines_add(out, ROLE_TITLE, "output (last %d lines)",
                                           cJSON_GetArraySize(tail));
                        }
                        cJSON_ArrayForEach(it, tail)
                                if (cJSON_IsString(it))
                                        tlines_add(out, ROLE_DEFAULT, "  | %s", it->valuestring);
                        return;
                }
        }
}

static const struct view_key view_bringup_keys[] = {
        { 'S', "S", "start or resume the bring-up: lambdaops up --yes as its own process "
          "(plan, then y)", "start" },
        { 'R', "R", "retry the selected stage: lambdaops up --from STAGE (plan, then y)",
          "retry" },
        { 'K', "K", "skip the selected stage: mark it skipped in the progress file "
          "(confirmation, audited)", "skip" },
        { 'X', "X", "abort the running bring-up: SIGTERM to the runner (confirmation)",
          "abort" },
        { 0, NULL, NULL, NULL },
};

const struct view_ops view_bringup_ops = {
        .name = "bringup",
        .title = "Bring-up",
        .collector = "bringup",
        .columns = view_bringup_columns,
        .rows = view_bringup_rows,
        .preamble = view_bringup_preamble,
        .detail = view_bringup_detail,
        .detail_help = "stage detail",
        .keys = view_bringup_keys,
        .empty = "no bring-up plan: add a source of kind bringup with plan: deploy/plan.yaml",
};
