/*
 * tui_draw: one frame of the console. Takes a reference to every source's
 * latest snapshot, evaluates health over them, draws header, tab bar, the
 * active pane (views/), footer and status line, then drops the references.
 * Layout, top to bottom:
 *
 *   header   app, environment, overall health, READ-ONLY badge, clock
 *   tabs     "1 Overview  2 CDC", the active one highlighted
 *   pane     rows 2 .. LINES-3
 *   footer   key hints generated from the key tables
 *   status   command/filter line, flash messages, stale notices
 *
 * Below TUI_MIN_W x TUI_MIN_H only a centred "terminal too small" message
 * is drawn. UI thread only.
 */
/* strcasestr for the pager search highlight. */
#define _GNU_SOURCE
#include "tui/tui.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/snapshot.h"
#include "core/theme.h"
#include "core/util.h"
#include "views/common.h"
#include "views/view.h"

/* Prints s at (y, x) clipped to w cells; returns the cells used. */
static int draw_str(int y, int x, int w, const char *s, int attr, bool ascii)
{
        char buf[1024];
        int tw = text_width(s);

        if (w <= 0 || x >= COLS)
                return 0;
        if (tw > w)
                tw = w;
        text_fit(s, tw, COL_LEFT, view_glyphs(ascii)->ellipsis, buf, sizeof buf);
        attrset(attr);
        mvaddstr(y, x, buf);
        return tw;
}

static void draw_fill(int y, int attr)
{
        attrset(attr);
        move(y, 0);
        for (int i = 0; i < COLS; i++)
                addch(' ');
}

static void draw_too_small(void)
{
        char msg[96], line[96];
        const char *words[16];
        char *save = NULL, *w;
        int nw = 0, nl = 0, y;
        char lines[16][96];

        snprintf(msg, sizeof msg, "terminal too small (%dx%d, need %dx%d)", COLS, LINES,
                 TUI_MIN_W, TUI_MIN_H);
        for (w = strtok_r(msg, " ", &save); w && nw < 16; w = strtok_r(NULL, " ", &save))
                words[nw++] = w;
        /* Greedy word wrap to the screen width. */
        line[0] = '\0';
        for (int i = 0; i < nw && nl < 16; i++) {
                if (line[0] && (int)(strlen(line) + 1 + strlen(words[i])) > COLS) {
                        str_copy(lines[nl++], line, sizeof lines[0]);
                        line[0] = '\0';
                }
                if (line[0])
                        strncat(line, " ", sizeof line - strlen(line) - 1);
                strncat(line, words[i], sizeof line - strlen(line) - 1);
        }
        if (line[0] && nl < 16)
                str_copy(lines[nl++], line, sizeof lines[0]);
        y = (LINES - nl) / 2;
        if (y < 0)
                y = 0;
        attrset(theme_attr(ROLE_WARN));
        for (int i = 0; i < nl && y + i < LINES; i++) {
                int len = (int)strlen(lines[i]);
                int x = (COLS - len) / 2;
                if (x < 0)
                        x = 0;
                mvaddnstr(y + i, x, lines[i], COLS - x);
        }
        attrset(A_NORMAL);
}

static void draw_header(struct tui *t)
{
        const struct glyphs *g = view_glyphs(t->ascii);
        const struct config *cfg = t->a->cfg;
        enum theme_role hr = view_sev_role(t->overall);
        size_t nwarn = 0, ncrit = 0;
        char buf[128], clk[32];
        time_t now = time(NULL);
        struct tm tm;
        int x = 1, hdr = theme_attr(ROLE_HEADER), cw;

        /* A context named in danger_contexts paints the whole header. */
        if (t->danger_ctx[0])
                hdr = theme_attr(ROLE_ERROR);
        draw_fill(0, hdr);
        x += draw_str(0, x, COLS - x, "lambdaops", hdr | A_BOLD, t->ascii);
        snprintf(buf, sizeof buf, " %s %s ", g->vbar, cfg->environment ? cfg->environment
                                                                     : "default");
        x += draw_str(0, x, COLS - x, buf, hdr, t->ascii);
        snprintf(buf, sizeof buf, " %s %s ", g->bullet, severity_name(t->overall));
        for (char *c = buf; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                        *c = (char)(*c - 'a' + 'A');
        x += draw_str(0, x, COLS - x, buf, theme_attr(hr) | A_REVERSE, t->ascii);
        for (size_t i = 0; i < t->alerts.n; i++)
                if (t->alerts.v[i].sev == SEV_CRIT)
                        ncrit++;
                else
                        nwarn++;
        if (ncrit || nwarn) {
                snprintf(buf, sizeof buf, " %zu crit, %zu warn", ncrit, nwarn);
                x += draw_str(0, x, COLS - x, buf, hdr, t->ascii);
        }
        if (t->danger_ctx[0]) {
                snprintf(buf, sizeof buf, " %s CONTEXT %.80s ", g->vbar, t->danger_ctx);
                x += draw_str(0, x, COLS - x, buf, hdr | A_BOLD, t->ascii);
        }
        if (t->a->read_only) {
                x += draw_str(0, x, COLS - x, " ", hdr, t->ascii);
                x += draw_str(0, x, COLS - x, " READ-ONLY ", theme_attr(ROLE_READONLY),
                              t->ascii);
        }
        localtime_r(&now, &tm);
        strftime(clk, sizeof clk, "%Y-%m-%d %H:%M:%S", &tm);
        cw = (int)strlen(clk);
        if (COLS - cw - 1 > x + 1)
                draw_str(0, COLS - cw - 1, cw, clk, hdr, t->ascii);
}

static void draw_tabs(struct tui *t)
{
        int x = 1;

        draw_fill(1, theme_attr(ROLE_TAB));
        for (size_t i = 0; i < t->n_views; i++) {
                char buf[64];
                bool on = i == t->cur;
                int w;

                snprintf(buf, sizeof buf, " %zu %s ", i + 1, t->views[i].ops->title);
                t->tab_x0[i] = x;
                w = draw_str(1, x, COLS - x, buf,
                             theme_attr(on ? ROLE_TAB_ACTIVE : ROLE_TAB), t->ascii);
                x += w;
                t->tab_x1[i] = x;
                x += 1;
        }
}

/* One "key label" pair of the footer. */
static int draw_hint(int y, int x, const char *key, const char *what, bool ascii)
{
        int used = 0;

        if (x >= COLS - 1)
                return 0;
        used += draw_str(y, x, COLS - x, key, theme_attr(ROLE_KEY), ascii);
        used += draw_str(y, x + used, COLS - x - used, " ", theme_attr(ROLE_FOOTER), ascii);
        used += draw_str(y, x + used, COLS - x - used, what, theme_attr(ROLE_FOOTER), ascii);
        used += draw_str(y, x + used, COLS - x - used, "  ", theme_attr(ROLE_FOOTER), ascii);
        return used;
}

/* True when the pane declares `key` itself (view_key). */
static bool view_has_key(const struct view_ops *ops, int key)
{
        for (size_t i = 0; ops->keys && ops->keys[i].label; i++)
                if (ops->keys[i].key == key)
                        return true;
        return false;
}

struct row_hints {
        struct tui *t;
        const struct view_ops *ops;
        const char *target;
        int y, x, used;
};

static void draw_row_action(const struct action_def *d, void *user)
{
        struct row_hints *h = user;
        char k[2] = { (char)d->key, '\0' };

        if (!d->key || view_has_key(h->ops, d->key) ||
            (h->t->a->read_only && (d->flags & ACTION_F_MUTATING)) ||
            !action_target_ok(d, h->target, NULL))
                return;
        h->used += draw_hint(h->y, h->x + h->used, k, d->name, h->t->ascii);
}

/* The actions that apply to the selected row and that the pane does not
 * list itself: a kind's kubectl actions by the row's kind (a StatefulSet
 * offers restart and scale, a pod logs and delete), and the config's
 * user-defined ones. Mutating ones are left out when read-only. */
static int draw_row_actions(struct tui *t, const struct view *v, int y, int x)
{
        char target[160];
        const struct source_cfg *src = tui_act_row(t, target, sizeof target);
        struct row_hints h = { .t = t, .ops = v->ops, .target = target, .y = y, .x = x };

        if (!src || !v->ops->collector || !src->kind ||
            strcmp(src->kind, v->ops->collector) != 0)
                return 0;
        action_each(t->a->cfg, src, draw_row_action, &h);
        return h.used;
}

static void draw_footer(struct tui *t, int y)
{
        const struct view *v = &t->views[t->cur];
        unsigned where = t->mode == TUI_HELP ? TUI_IN_HELP
                       : v->detail           ? TUI_IN_DETAIL
                                             : TUI_IN_TABLE;
        int x = 1;

        draw_fill(y, theme_attr(ROLE_FOOTER));
        if (t->mode == TUI_RBFORM || t->mode == TUI_RBRUN) {
                const char *keys[12], *what[12];
                size_t n = tui_rb_hints(t, keys, what, 12);

                for (size_t i = 0; i < n; i++)
                        x += draw_hint(y, x, keys[i], what[i], t->ascii);
                return;
        }
        if (t->mode == TUI_PAGER) {
                if (t->pager_edit) {
                        x += draw_hint(y, x, "Enter", "search", t->ascii);
                        x += draw_hint(y, x, "Esc", "cancel", t->ascii);
                        return;
                }
                x += draw_hint(y, x, "Esc", "close", t->ascii);
                x += draw_hint(y, x, "j/k", "scroll", t->ascii);
                x += draw_hint(y, x, "PgUp/PgDn", "page", t->ascii);
                x += draw_hint(y, x, "g/G", "top/end", t->ascii);
                x += draw_hint(y, x, "/", "search", t->ascii);
                if (t->pager_pat[0])
                        x += draw_hint(y, x, "n/N", "next/prev", t->ascii);
                return;
        }
        if (t->mode == TUI_ACTION) {
                if (t->act.step == TUI_ACT_CONFIRM &&
                    !(t->act.def->flags & ACTION_F_DANGEROUS))
                        x += draw_hint(y, x, "y", "run", t->ascii);
                if (t->act.step == TUI_ACT_CONF)
                        x += draw_hint(y, x, "Enter", "plan", t->ascii);
                if (t->act.step == TUI_ACT_CONFIRM && (t->act.def->flags & ACTION_F_DANGEROUS))
                        x += draw_hint(y, x, "Enter", "confirm", t->ascii);
                if (t->act.step != TUI_ACT_RUN)
                        x += draw_hint(y, x, "Esc", "cancel", t->ascii);
                return;
        }
        if (where == TUI_IN_HELP) {
                x += draw_hint(y, x, "Esc", "close help", t->ascii);
                x += draw_hint(y, x, "j/k", "scroll", t->ascii);
                return;
        }
        if (where == TUI_IN_DETAIL)
                x += draw_hint(y, x, "j/k", "scroll", t->ascii);
        for (size_t i = 0; tui_keys[i].label; i++) {
                const struct tui_key *k = &tui_keys[i];
                const char *what = k->hint;

                if (!what || !(k->where & where))
                        continue;
                if (k->fn == NULL)
                        continue;
                if (strcmp(k->label, "Enter") == 0) {
                        if (!v->ops->detail)
                                continue;
                        what = v->ops->detail_help ? v->ops->detail_help : what;
                }
                x += draw_hint(y, x, strcmp(k->label, "Esc/BS") == 0 ? "Esc" : k->label, what,
                               t->ascii);
        }
        if (where == TUI_IN_TABLE) {
                char digits[16];
                snprintf(digits, sizeof digits, "1-%zu", t->n_views);
                for (size_t i = 0; v->ops->keys && v->ops->keys[i].label; i++)
                        if (v->ops->keys[i].hint &&
                            !tui_key_hidden(t, v->ops, v->ops->keys[i].key))
                                x += draw_hint(y, x, v->ops->keys[i].label,
                                               v->ops->keys[i].hint, t->ascii);
                x += draw_row_actions(t, v, y, x);
                x += draw_hint(y, x, digits, "panes", t->ascii);
        }
}

static void draw_status(struct tui *t, int y)
{
        const struct view *v = &t->views[t->cur];
        int64_t now = clock_mono_ms();
        int x = 0;
        char buf[512];

        draw_fill(y, theme_attr(ROLE_STATUS_BAR));
        if (t->mode == TUI_PAGER && t->pager_edit) {
                snprintf(buf, sizeof buf, "/%s", t->pager_pat);
                x += draw_str(y, x, COLS - 1, buf, theme_attr(ROLE_PROMPT), t->ascii);
                draw_str(y, x, 1, " ", theme_attr(ROLE_PROMPT) | A_REVERSE, t->ascii);
                return;
        }
        if (t->mode == TUI_COMMAND || t->mode == TUI_FILTER) {
                snprintf(buf, sizeof buf, "%c%s", t->mode == TUI_COMMAND ? ':' : '/', t->line);
                x += draw_str(y, x, COLS - 1, buf, theme_attr(ROLE_PROMPT), t->ascii);
                /* A block cursor (the real one stays hidden). */
                draw_str(y, x, 1, " ", theme_attr(ROLE_PROMPT) | A_REVERSE, t->ascii);
                return;
        }
        if (t->ask == TUI_ASK_QUIT) {
                draw_str(y, 0, COLS, "a runbook run is in progress: quit anyway? It stays "
                         "resumable (y quits, any other key stays)", theme_attr(ROLE_PROMPT),
                         t->ascii);
                return;
        }
        if (t->ask == TUI_ASK_RESUME) {
                snprintf(buf, sizeof buf, "run %s has not ended: resume it here? (y resumes, "
                         "d shows it, any other key cancels)", t->ask_run);
                draw_str(y, 0, COLS, buf, theme_attr(ROLE_PROMPT), t->ascii);
                return;
        }
        if (t->flash[0] && now < t->flash_until) {
                draw_str(y, 0, COLS, t->flash, theme_attr(t->flash_role), t->ascii);
                return;
        }
        tui_rb_marker(t, buf, sizeof buf);
        if (buf[0]) {
                x += draw_str(y, x, COLS - x, buf, theme_attr(ROLE_WARN), t->ascii);
                x += draw_str(y, x, COLS - x, "  ", theme_attr(ROLE_STATUS_BAR), t->ascii);
        }
        if (v->filter[0]) {
                snprintf(buf, sizeof buf, "filter /%s: %zu of %zu rows (Esc clears)  ",
                         v->filter, v->rows.n, v->total);
                x += draw_str(y, x, COLS - x, buf, theme_attr(ROLE_PROMPT), t->ascii);
        }
        /* Stale sources, with their age. */
        for (size_t i = 0; i < t->a->cfg->n_sources; i++) {
                const struct snapshot *s = t->snaps[i];
                char age[32];

                if (!s || !snapshot_is_stale(s, now))
                        continue;
                fmt_duration_ms(snapshot_age_ms(s, now), age, sizeof age);
                snprintf(buf, sizeof buf, "%s stale %s", s->src->name, age);
                x += draw_str(y, x, COLS - x, buf, theme_attr(ROLE_STALE), t->ascii);
                x += draw_str(y, x, COLS - x, "  ", theme_attr(ROLE_STATUS_BAR), t->ascii);
        }
        if (t->warnings.n && x < COLS - 10) {
                snprintf(buf, sizeof buf, "theme: %zu warning%s (see ?)", t->warnings.n,
                         t->warnings.n == 1 ? "" : "s");
                x += draw_str(y, x, COLS - x, buf, theme_attr(ROLE_WARN), t->ascii);
        }
}

static void draw_help(struct tui *t, const struct rect *r)
{
        struct tlines l;

        tlines_init(&l);
        tui_help_lines(t, &l);
        t->help_top = common_clamp_top(t->help_top, l.n, r->h);
        t->help_h = r->h;
        t->help_n = l.n;
        tlines_draw(stdscr, r, &l, t->help_top, t->ascii);
        tlines_done(&l);
}

/* Adds s to l, one line per '\n', lines longer than w cells wrapped (the
 * plan text is shown exactly, never clipped). */
static void dlg_text(struct tlines *l, enum theme_role role, const char *s, int w)
{
        if (w < 8)
                w = 8;
        while (s && *s) {
                size_t len = strcspn(s, "\n");
                const char *p = s, *end = s + len;

                do {
                        const char *q = p;
                        int cells = 0;
                        /* w code points, whole UTF-8 sequences. */
                        const char *sp = NULL;
                        while (q < end && cells < w) {
                                q++;
                                while (q < end && ((unsigned char)*q & 0xC0) == 0x80)
                                        q++;
                                cells++;
                                if (q < end && *q == ' ' && cells > w / 2)
                                        sp = q;
                        }
                        /* Prose breaks after a word; a long URL where it must. */
                        if (q < end && sp)
                                q = sp + 1;
                        tlines_add(l, role, "%.*s", (int)(q - p), p);
                        p = q;
                } while (p < end);
                s = *end ? end + 1 : end;
        }
}

/* The action dialog: a box centred over the pane. */
static void draw_action(struct tui *t, const struct rect *pane)
{
        const struct tui_act *x = &t->act;
        const char *dots = t->ascii ? "..." : "\u2026";
        struct tlines l;
        struct rect in;
        int iw = COLS - 8 > 110 ? 110 : COLS - 8, w = 0, h, y0, x0;
        int battr = theme_attr(ROLE_BORDER), fill = theme_attr(ROLE_DEFAULT);

        if (!x->def || iw < 20)
                return;
        tlines_init(&l);
        tlines_add(&l, ROLE_TITLE, "%s", x->def->title);
        if (strchr(x->target, '/'))     /* "ns/kind/name" says what it is */
                tlines_add(&l, ROLE_DEFAULT, "%s on %s (%s)", x->target, x->src->name,
                           x->src->kind);
        else
                tlines_add(&l, ROLE_DEFAULT, "%s %s on %s (%s)", x->def->scope, x->target,
                           x->src->name, x->src->kind);
        if (x->shown.context || t->danger_ctx[0]) {
                const char *c = x->shown.context ? x->shown.context
                                                 : action_source_context(x->src);
                if (c)
                        tlines_add(&l, action_context_dangerous(t->a->cfg, c) ? ROLE_ERROR
                                                                               : ROLE_INFO,
                                   "context %s%s", c,
                                   action_context_dangerous(t->a->cfg, c)
                                           ? "  (a danger context)" : "");
        }
        tlines_add(&l, ROLE_DEFAULT, "%s", "");
        switch (x->step) {
        case TUI_ACT_CONF:
                if (x->def->flags & ACTION_F_ARG)
                        tlines_add(&l, ROLE_DEFAULT, "%s%s:", x->def->arg_label
                                   ? x->def->arg_label : "argument",
                                   (x->def->flags & ACTION_F_ARG_OPT) ? " (optional)" : "");
                else
                        tlines_add(&l, ROLE_DEFAULT,
                                   "conf: a JSON object for the run, empty for none");
                dlg_text(&l, ROLE_PROMPT, x->conf[0] ? x->conf : " ", iw - 2);
                tlines_seg(&l, ROLE_PROMPT, "_");
                tlines_add(&l, ROLE_DEFAULT, "%s", "");
                tlines_add(&l, ROLE_KEY, "Enter");
                tlines_seg(&l, ROLE_DEFAULT, " show the plan  ");
                tlines_seg(&l, ROLE_KEY, "Esc");
                tlines_seg(&l, ROLE_DEFAULT, " cancel");
                break;
        case TUI_ACT_PREPARE:
                tlines_add(&l, ROLE_INFO, "running%s building the plan", dots);
                tlines_add(&l, ROLE_DEFAULT, "%s", "");
                tlines_add(&l, ROLE_KEY, "Esc");
                tlines_seg(&l, ROLE_DEFAULT, " cancel");
                break;
        case TUI_ACT_CONFIRM:
        case TUI_ACT_RUN:
                dlg_text(&l, ROLE_DEFAULT, x->text, iw);
                tlines_add(&l, ROLE_DEFAULT, "%s", "");
                if (x->step == TUI_ACT_RUN) {
                        tlines_add(&l, ROLE_INFO, "running%s", dots);
                } else if (x->def->flags & ACTION_F_DANGEROUS) {
                        tlines_add(&l, ROLE_WARN, "dangerous: type the %s (%s) and Enter to "
                                   "run it; Esc cancels",
                                   x->shown.context ? "context name" : "source name", x->word);
                        tlines_add(&l, ROLE_PROMPT, "> %s_", x->typed);
                } else {
                        tlines_add(&l, ROLE_DEFAULT, "Run it?  ");
                        tlines_seg(&l, ROLE_KEY, "y");
                        tlines_seg(&l, ROLE_DEFAULT, " run  ");
                        tlines_seg(&l, ROLE_KEY, "n/Esc");
                        tlines_seg(&l, ROLE_DEFAULT, " cancel");
                }
                break;
        }
        if (x->msg[0])
                dlg_text(&l, ROLE_ERROR, x->msg, iw);
        for (size_t i = 0; i < l.n; i++) {
                char buf[TLINE_SEGS * TSEG_MAX];
                int tw;
                tline_text(&l.v[i], buf, sizeof buf);
                tw = text_width(buf);
                if (tw > w)
                        w = tw;
        }
        if (w < 50)
                w = 50;
        if (w > iw)
                w = iw;
        h = (int)l.n;
        if (h > pane->h - 2)
                h = pane->h - 2;        /* the tail (the prompt) matters most */
        x0 = (COLS - (w + 4)) / 2;
        y0 = pane->y + (pane->h - (h + 2)) / 2;
        for (int y = y0; y < y0 + h + 2; y++) {
                bool edge = y == y0 || y == y0 + h + 1;
                attrset(fill);
                mvhline(y, x0, ' ', w + 4);
                attrset(battr);
                if (edge) {
                        if (t->ascii)
                                mvhline(y, x0, '-', w + 4);
                        else
                                mvhline(y, x0, ACS_HLINE, w + 4);
                        mvaddch(y, x0, t->ascii ? '+' : (y == y0 ? ACS_ULCORNER
                                                                  : ACS_LLCORNER));
                        mvaddch(y, x0 + w + 3, t->ascii ? '+' : (y == y0 ? ACS_URCORNER
                                                                          : ACS_LRCORNER));
                } else {
                        mvaddch(y, x0, t->ascii ? '|' : ACS_VLINE);
                        mvaddch(y, x0 + w + 3, t->ascii ? '|' : ACS_VLINE);
                }
        }
        in.y = y0 + 1;
        in.x = x0 + 2;
        in.h = h;
        in.w = w;
        tlines_draw(stdscr, &in, &l, (int)l.n - h, t->ascii);
        tlines_done(&l);
}

/* The runbook form or run view (tui_rbrun.c): the page's top, where the
 * steps and the prompt are; the output tail is cut to fit. */
static void draw_rb(struct tui *t, const struct rect *r)
{
        struct tlines l;

        tlines_init(&l);
        tui_rb_lines(t, r->w, r->h, &l);
        tlines_draw(stdscr, r, &l, 0, t->ascii);
        tlines_done(&l);
}

/* An action's result page, scrolled like the help page. */
static void draw_pager(struct tui *t, const struct rect *r)
{
        t->pager_top = common_clamp_top(t->pager_top, t->pager.n, r->h);
        t->pager_h = r->h;
        tlines_draw(stdscr, r, &t->pager, t->pager_top, t->ascii);
        if (!t->pager_pat[0] || t->pager_edit)
                return;
        /* Search matches in reverse video; the current one also bold. */
        for (int i = 0; i < r->h && t->pager_top + i < (int)t->pager.n; i++) {
                char buf[TLINE_SEGS * TSEG_MAX], pre[TLINE_SEGS * TSEG_MAX];
                size_t pl = strlen(t->pager_pat);
                const char *m;
                int row = t->pager_top + i;

                tline_text(&t->pager.v[row], buf, sizeof buf);
                for (m = strcasestr(buf, t->pager_pat); m; m = strcasestr(m + pl, t->pager_pat)) {
                        int col;

                        snprintf(pre, sizeof pre, "%.*s", (int)(m - buf), buf);
                        col = r->x + text_width(pre);
                        if (col >= r->x + r->w)
                                break;
                        attrset(theme_attr(ROLE_PROMPT) | A_REVERSE |
                                (row == t->pager_match ? A_BOLD : 0));
                        mvaddnstr(r->y + i, col, m, (int)pl < r->x + r->w - col
                                                        ? (int)pl : r->x + r->w - col);
                }
        }
        attrset(A_NORMAL);
}

static void tui_help_key(struct tlines *out, const char *label, const char *help)
{
        tlines_add(out, ROLE_KEY, "  %-14s", label);
        tlines_seg(out, ROLE_DEFAULT, "%s", help);
}

struct help_acts {
        const struct tui *t;
        const struct view_ops *ops;
        struct tlines *out;
};

/* One action of the pane's kind the pane does not list itself. */
static void help_act(const struct action_def *d, struct help_acts *h)
{
        char k[2] = { (char)d->key, '\0' }, help[200], sc[64];

        if (!d->key || view_has_key(h->ops, d->key) ||
            (h->t->a->read_only && (d->flags & ACTION_F_MUTATING)))
                return;
        str_copy(sc, d->scope ? d->scope : "", sizeof sc);
        for (char *c = sc; *c; c++)
                if (*c == ',')
                        *c = '/';
        snprintf(help, sizeof help, "%s: %s on the selected %s%s%s", d->name, d->title, sc,
                 (d->flags & ACTION_F_DANGEROUS) ? " (dangerous: type the context)" : "",
                 d->data ? " (config actions:)" : "");
        tui_help_key(h->out, k, help);
}

void tui_help_lines(const struct tui *t, struct tlines *out)
{
        const struct view_ops *ops = t->views[t->cur].ops;

        tlines_add(out, ROLE_TITLE, "lambdaops %s", LO_VERSION);
        tlines_seg(out, ROLE_DIM, "  keys, commands and panes (Esc closes)");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Global keys");
        for (size_t i = 0; tui_keys[i].label; i++)
                tui_help_key(out, tui_keys[i].label, tui_keys[i].help);
        tui_help_key(out, "mouse", "click a tab or a row; click the selected row to open it; "
                     "wheel scrolls");

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "%s pane", ops->title);
        if (ops->detail)
                tui_help_key(out, "Enter", ops->detail_help ? ops->detail_help : "detail");
        for (size_t i = 0; ops->keys && ops->keys[i].label; i++)
                if (!tui_key_hidden(t, ops, ops->keys[i].key))
                        tui_help_key(out, ops->keys[i].label, ops->keys[i].help);
        if (ops->collector) {
                const struct collector_ops *k = collector_find(ops->collector);
                struct help_acts h = { .t = t, .ops = ops, .out = out };

                for (const struct action_def *d = k ? k->actions : NULL; d && d->name; d++)
                        help_act(d, &h);
                for (const struct action_def *d = t->a->cfg->user_actions; d && d->name; d++)
                        if (action_user_applies(d, ops->collector))
                                help_act(d, &h);
        }

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Actions");
        tlines_add(out, ROLE_DEFAULT, "  an action key works on the selected row's source: "
                   "the plan (exact requests) is shown, y runs it, n/Esc cancels;");
        tlines_add(out, ROLE_DEFAULT, "  the result opens in a page (Esc closes). Every "
                   "decision is written to the audit log.%s",
                   t->a->read_only ? " READ-ONLY: actions that change something are "
                   "hidden and refused." : "");

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Commands");
        for (size_t i = 0; i < t->n_views; i++) {
                char name[64], help[128];
                snprintf(name, sizeof name, ":%s", t->views[i].ops->name);
                snprintf(help, sizeof help, "switch to pane %zu, %s (%s sources)", i + 1,
                         t->views[i].ops->title,
                         t->views[i].ops->collector ? t->views[i].ops->collector : "all");
                tui_help_key(out, name, help);
        }
        for (size_t i = 0; tui_cmds[i].name; i++) {
                char name[64];
                snprintf(name, sizeof name, ":%s", tui_cmds[i].name);
                tui_help_key(out, name, tui_cmds[i].help);
        }

        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Display");
        tlines_add(out, ROLE_DEFAULT, "  theme %s, %s, %s", t->theme_name,
                   t->color ? "colours" : "no colours (NO_COLOR or --no-color)",
                   t->ascii ? "ASCII glyphs" : "UTF-8 glyphs");
        tlines_add(out, ROLE_DEFAULT, "  data older than twice its source's interval is "
                   "marked stale, with its age");
        for (size_t i = 0; i < t->warnings.n; i++)
                tlines_add(out, ROLE_WARN, "  theme warning: %s", t->warnings.v[i]);
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Exit status");
        tlines_add(out, ROLE_DEFAULT, "  0 after q or :q; 128+N after signal N "
                   "(130 SIGINT, 143 SIGTERM, 129 SIGHUP)");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Action result page (pager)");
        tlines_add(out, ROLE_DEFAULT, "  dangerous actions ask for the Kubernetes context "
                   "(else the source name) to be typed; logs open at once, at their end");
        tui_help_key(out, "j/k PgUp/PgDn", "scroll a line / a page");
        tui_help_key(out, "g/G", "first / last line");
        tui_help_key(out, "/", "search (any case; Enter finds, Esc cancels)");
        tui_help_key(out, "n/N", "next / previous match (highlighted; wraps)");
        tui_help_key(out, "Esc/q", "close the page");
        tlines_add(out, ROLE_DEFAULT, "%s", "");
        tlines_add(out, ROLE_TITLE, "Runbook runs (Runbooks pane: Enter or r on a runbook)");
        tui_help_key(out, "form", "Tab/Up/Down pick an input, type to edit (^U clears), "
                     "Enter checks them and runs, Esc cancels");
        tui_help_key(out, "y/Enter", "proceed: run the step, or the manual step is done "
                     "(a dangerous one then wants its word typed)");
        tui_help_key(out, "s", "skip the step asked about or a failed one (y confirms)");
        tui_help_key(out, "r", "a step failed: run it again");
        tui_help_key(out, "1-9", "a choose step: pick a branch (or j/k and Enter)");
        tui_help_key(out, "a", "abort the run (y confirms); on a failed step: stop it");
        tui_help_key(out, "Esc", "leave the run view; the run goes on (Enter on its row "
                     "returns)");
        tui_help_key(out, "q", "quit: asks first; the run stays resumable (Enter on it "
                     "resumes)");
}

void tui_draw_frame(struct tui *t)
{
        const struct config *cfg = t->a->cfg;
        struct view *v = &t->views[t->cur];
        struct view_data d;
        struct rect pane;
        int64_t now = clock_mono_ms();

        /* Take this frame's references; nothing below blocks. */
        alert_list_done(&t->alerts);
        for (size_t i = 0; i < cfg->n_sources; i++) {
                t->snaps[i] = NULL;
                if (i < t->a->n_colls && t->a->colls[i])
                        t->snaps[i] = collector_latest(t->a->colls[i], NULL);
                health_eval(t->snaps[i], &t->alerts);
        }
        t->overall = health_overall(t->snaps, cfg->n_sources, &t->alerts);
        alerttrack_update(&t->track, &t->alerts, now, clock_wall_ms());

        erase();
        if (COLS < TUI_MIN_W || LINES < TUI_MIN_H) {
                draw_too_small();
        } else {
                pane.y = 2;
                pane.x = 0;
                pane.h = LINES - 4;
                pane.w = COLS;
                memset(&d, 0, sizeof d);
                d.srcs = cfg->sources;
                d.snaps = t->snaps;
                d.n = cfg->n_sources;
                d.alerts = &t->alerts;
                d.track = &t->track;
                d.now_mono = now;
                d.ascii = t->ascii;
                d.width = pane.w;
                d.flags = v->flags;
                d.runbooks = t->runbooks;

                draw_header(t);
                draw_tabs(t);
                if (t->mode == TUI_HELP || t->mode == TUI_PAGER || t->mode == TUI_RBFORM ||
                    t->mode == TUI_RBRUN) {
                        struct rect hr = pane;
                        hr.x = 1;
                        hr.w = COLS - 1;
                        if (t->mode == TUI_HELP)
                                draw_help(t, &hr);
                        else if (t->mode == TUI_PAGER)
                                draw_pager(t, &hr);
                        else
                                draw_rb(t, &hr);
                } else if (v->ops->draw) {
                        v->ops->draw(v, stdscr, &pane, &d);
                } else {
                        view_draw_generic(v, stdscr, &pane, &d);
                }
                /* The dialog over the pane, which keeps redrawing under it. */
                if (t->mode == TUI_ACTION)
                        draw_action(t, &pane);
                draw_footer(t, LINES - 2);
                draw_status(t, LINES - 1);
        }
        attrset(A_NORMAL);
        refresh();

        for (size_t i = 0; i < cfg->n_sources; i++) {
                snapshot_unref((struct snapshot *)t->snaps[i]);
                t->snaps[i] = NULL;
        }
}
