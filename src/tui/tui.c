/*
 * tui: the interactive console's shell -- terminal setup and teardown,
 * signals, the event loop, and the key and command tables. Drawing lives in
 * tui_draw.c, panes in views/.
 *
 * Thread model. tui_run() runs on the main thread, which is the only one
 * that touches curses. Collector threads publish snapshots and write a byte
 * to app->wake_pipe; the loop poll()s stdin, that pipe and a signal
 * self-pipe with a timeout that lands on the next refresh tick (the header
 * clock and data ages move then). It redraws on input, when a collector's
 * publish generation changed, and on each tick. It never blocks on the
 * network: a frame takes snapshot references with collector_latest(),
 * draws, and drops them (tui_draw.c). Operator actions (the dialog) run
 * their prepare and run phases on an action_job worker that writes to the
 * same wake pipe; the loop collects a finished phase with tui_act_poll()
 * (the dialog is in tui_act.c).
 *
 * Terminal restore. Every way out goes through endwin(): q and :q end the
 * loop; SIGINT, SIGTERM and SIGHUP set a flag and write to the self-pipe,
 * so the loop ends cleanly; an exit() anywhere else while curses is up runs
 * the atexit guard. Our handlers are installed before newterm(), so ncurses
 * keeps them instead of its own. Resizes arrive as KEY_RESIZE (ncurses'
 * SIGWINCH handler) and are handled in one place, tui_on_key().
 *
 * Exit codes: 0 after q or :q; 128 + N after signal N (130 SIGINT, 143
 * SIGTERM, 129 SIGHUP), as a shell reports it; 64 for an unknown --view
 * name (stderr lists the valid ones, before the screen is touched); 1 when
 * no terminal can be opened or the event loop fails.
 *
 * Globals: the signal flag and self-pipe fd (written by the handler) and
 * the "curses is up" flag for the atexit guard. Nothing else.
 */
/* strcasestr for the pager search. */
#define _GNU_SOURCE
#include "core/app.h"
#include "tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/snapshot.h"
#include "core/termsafe.h"
#include "core/theme.h"
#include "core/util.h"
#include "views/view.h"
#include "views/alerts.h"
#include "views/runbooks.h"

#define TUI_EXIT_USAGE 64       /* sysexits EX_USAGE */
#define TUI_FLASH_MS   4000
#define TUI_FIRST      (-1000000000L)   /* tui_move: jump to the first row */
#define TUI_LAST       1000000000L      /* tui_move: jump to the last row */

static volatile sig_atomic_t tui_signal;
static int tui_signal_fd = -1;
static bool tui_curses_up;

static void tui_on_signal(int sig)
{
        int saved = errno;
        char b = 's';
        ssize_t w;

        tui_signal = sig;
        if (tui_signal_fd >= 0)
                w = write(tui_signal_fd, &b, 1);
        (void)w;
        errno = saved;
}

static void tui_atexit(void)
{
        if (tui_curses_up) {
                tui_curses_up = false;
                endwin();
        }
}

void tui_flash(struct tui *t, enum theme_role role, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(t->flash, sizeof t->flash, fmt, ap);
        va_end(ap);
        t->flash_role = role;
        t->flash_until = clock_mono_ms() + TUI_FLASH_MS;
}

struct view *tui_view(struct tui *t)
{
        return &t->views[t->cur];
}

static void tui_switch(struct tui *t, size_t i)
{
        if (i < t->n_views)
                t->cur = i;
}

/* --- key handlers ------------------------------------------------------- */

static void tui_key_quit(struct tui *t, int ch)
{
        /* A runbook run in progress: ask first (it stays resumable). */
        if (ch == 'q' && tui_rb_active(t)) {
                t->ask = TUI_ASK_QUIT;
                return;
        }
        t->quit = true;
        t->rc = 0;
}

static void tui_key_help(struct tui *t, int ch)
{
        t->mode = TUI_HELP;
        t->help_top = 0;
}

static void tui_key_digit(struct tui *t, int ch)
{
        size_t i = (size_t)(ch - '1');

        if (i < t->n_views)
                tui_switch(t, i);
        else
                tui_flash(t, ROLE_ERROR, "no pane %c (there are %zu)", ch, t->n_views);
}

static void tui_key_next(struct tui *t, int ch)
{
        tui_switch(t, (t->cur + 1) % t->n_views);
}

static void tui_key_prev(struct tui *t, int ch)
{
        tui_switch(t, (t->cur + t->n_views - 1) % t->n_views);
}

static void tui_key_command(struct tui *t, int ch)
{
        t->mode = TUI_COMMAND;
        t->line[0] = '\0';
}

static void tui_key_filter(struct tui *t, int ch)
{
        t->mode = TUI_FILTER;
        str_copy(t->line, tui_view(t)->filter, sizeof t->line);
}

/* Moves the selection (or scrolls the detail page) by `delta` rows;
 * TUI_FIRST / TUI_LAST jump to the first / last. */
static void tui_move(struct tui *t, long delta)
{
        struct view *v = tui_view(t);

        if (v->detail) {
                long top = (long)v->detail_top + delta;
                if (top < 0)
                        top = 0;
                if (top > 1L << 30)
                        top = 1L << 30;
                v->detail_top = (int)top;       /* clamped to the page when drawn */
                return;
        }
        if (!v->rows.n)
                return;
        if (delta <= TUI_FIRST) {
                v->sel = 0;
        } else if (delta >= TUI_LAST) {
                v->sel = v->rows.n - 1;
        } else {
                long s = (long)v->sel + delta;
                if (s < 0)
                        s = 0;
                if (s >= (long)v->rows.n)
                        s = (long)v->rows.n - 1;
                v->sel = (size_t)s;
        }
        memcpy(v->sel_id, v->rows.v[v->sel].id, sizeof v->sel_id);
}

static long tui_page(const struct tui *t)
{
        const struct view *v = &t->views[t->cur];
        int h = v->detail ? v->detail_h : v->rows_h;

        return h > 1 ? h - 1 : 1;
}

static void tui_key_down(struct tui *t, int ch)
{
        tui_move(t, 1);
}

static void tui_key_up(struct tui *t, int ch)
{
        tui_move(t, -1);
}

static void tui_key_pgdn(struct tui *t, int ch)
{
        tui_move(t, tui_page(t));
}

static void tui_key_pgup(struct tui *t, int ch)
{
        tui_move(t, -tui_page(t));
}

static void tui_key_home(struct tui *t, int ch)
{
        tui_move(t, TUI_FIRST);
}

static void tui_key_end(struct tui *t, int ch)
{
        tui_move(t, TUI_LAST);
}

static void tui_key_enter(struct tui *t, int ch)
{
        struct view *v = tui_view(t);

        if (v->detail || !v->ops->detail)
                return;
        if (!v->rows.n) {
                tui_flash(t, ROLE_INFO, "nothing selected");
                return;
        }
        v->detail = true;
        v->detail_top = 0;
        memcpy(v->detail_id, v->rows.v[v->sel].id, sizeof v->detail_id);
}

static void tui_key_back(struct tui *t, int ch)
{
        struct view *v = tui_view(t);

        if (v->detail)
                v->detail = false;
        else if (v->filter[0] && (ch == TUI_KEY_ESC))
                v->filter[0] = '\0';
}

/* The active alert a row (or a detail page) is about. Row ids: the Alerts
 * pane's view_alerts_id; the Overview's the source name (its worst alert);
 * other panes' "SOURCE\tKEY" or "SOURCE\tKIND\tKEY" (the alert of that
 * source whose subject is KEY, else NULL: the row has no alert). */
static const struct alert *tui_row_alert(struct tui *t, const struct view *v, const char *id)
{
        const struct alert *best = NULL;
        char tid[TABLE_ID_MAX], source[TABLE_ID_MAX];
        const char *tab = strchr(id, '\t'), *key = NULL;

        if (v->ops == &view_alerts_ops) {
                for (size_t i = 0; i < t->track.n; i++) {
                        view_alerts_id(&t->track.v[i].a, tid, sizeof tid);
                        if (strcmp(tid, id) == 0)
                                return &t->track.v[i].a;
                }
                return NULL;
        }
        if (tab) {
                snprintf(source, sizeof source, "%.*s", (int)(tab - id), id);
                key = strrchr(id, '\t') + 1;
        } else {
                str_copy(source, id, sizeof source);
        }
        for (size_t i = 0; i < t->track.n; i++) {
                const struct alert *a = &t->track.v[i].a;

                if (t->track.v[i].resolved_mono || strcmp(a->source, source) != 0)
                        continue;
                if (key && strcmp(a->subject, key) != 0 &&
                    strcmp(a->subject, tab + 1) != 0)
                        continue;
                if (!best || a->sev > best->sev)
                        best = a;
        }
        return best;
}

/* From an alert (the Alerts pane, an Overview row, any pane's row or
 * detail page that has one): the Runbooks pane on the runbooks answering
 * it; Enter there starts one with its inputs prefilled. */
static void tui_key_runbooks(struct tui *t, int ch)
{
        struct view *v = tui_view(t);
        const struct alert *a;
        const char *id = NULL;

        if (v->ops == &view_runbooks_ops)
                return;
        if (v->detail)
                id = v->detail_id;
        else if (v->rows.n)
                id = v->rows.v[v->sel].id;
        if (!id) {
                tui_flash(t, ROLE_INFO, "nothing selected");
                return;
        }
        a = tui_row_alert(t, v, id);
        if (!a) {
                tui_flash(t, ROLE_INFO, "b: this row has no active alert (the Alerts pane "
                          "lists them)");
                return;
        }
        view_runbooks_set_alert(t->runbooks, a);
        for (size_t k = 0; k < t->n_views; k++) {
                struct view *rv = &t->views[k];

                if (rv->ops != &view_runbooks_ops)
                        continue;
                rv->flags |= VIEW_RB_F_ALERT;
                rv->detail = false;
                rv->filter[0] = '\0';
                rv->sel = rv->top = 0;
                rv->sel_id[0] = '\0';
                tui_switch(t, k);
        }
}

static void tui_key_refresh(struct tui *t, int ch)
{
        const char *kind = tui_view(t)->ops->collector;
        size_t n = 0;

        for (size_t i = 0; i < t->a->n_colls; i++) {
                const struct source_cfg *src;
                if (!t->a->colls[i])
                        continue;
                src = collector_source(t->a->colls[i]);
                if (kind && (!src->ops || strcmp(src->ops->name, kind) != 0))
                        continue;
                collector_refresh(t->a->colls[i]);
                n++;
        }
        tui_flash(t, ROLE_INFO, "refreshing %zu source%s", n, n == 1 ? "" : "s");
}

const struct tui_key tui_keys[] = {
        { { 'q' }, "q", "quit (also :q)", tui_key_quit, "quit",
          TUI_IN_TABLE | TUI_IN_DETAIL },
        { { '?' }, "?", "this help page", tui_key_help, "help", TUI_IN_TABLE | TUI_IN_DETAIL },
        { { '1', '2', '3', '4', '5', '6', '7', '8', '9' }, "1-9", "switch to pane N",
          tui_key_digit, NULL, 0 },
        { { '\t' }, "Tab", "next pane", tui_key_next, "pane", TUI_IN_TABLE },
        { { KEY_BTAB }, "S-Tab", "previous pane", tui_key_prev, NULL, 0 },
        { { ':' }, ":", "command line: :overview, :cdc, :q, :help (Esc cancels)",
          tui_key_command, "command", TUI_IN_TABLE },
        { { '/' }, "/", "filter rows: substring, any case (Enter keeps, Esc clears)",
          tui_key_filter, "filter", TUI_IN_TABLE },
        { { 'j', KEY_DOWN }, "j/Down", "next row; scroll a detail page", tui_key_down, NULL, 0 },
        { { 'k', KEY_UP }, "k/Up", "previous row", tui_key_up, NULL, 0 },
        { { KEY_NPAGE, ' ' }, "PgDn", "next page", tui_key_pgdn, NULL, 0 },
        { { KEY_PPAGE }, "PgUp", "previous page", tui_key_pgup, NULL, 0 },
        { { 'g', KEY_HOME }, "g/Home", "first row", tui_key_home, NULL, 0 },
        { { 'G', KEY_END }, "G/End", "last row", tui_key_end, NULL, 0 },
        { { '\r', '\n', KEY_ENTER }, "Enter", "open the selected row's detail page",
          tui_key_enter, "detail", TUI_IN_TABLE },
        { { TUI_KEY_ESC, KEY_BACKSPACE, 127, 8, KEY_LEFT, 'h' }, "Esc/BS",
          "leave the detail page; Esc also clears the filter", tui_key_back, "back",
          TUI_IN_DETAIL },
        { { 'r' }, "r", "refresh now: poll the sources this pane shows", tui_key_refresh,
          "refresh", TUI_IN_TABLE | TUI_IN_DETAIL },
        { { 'b' }, "b", "the runbooks that answer the selected row's alert (Alerts, Overview, "
          "any row or detail page with an alert); Enter there runs one",
          tui_key_runbooks, "runbooks", TUI_IN_DETAIL },
        { { 0 }, NULL, NULL, NULL, NULL, 0 },
};

/* --- commands ----------------------------------------------------------- */

static void tui_cmd_quit(struct tui *t)
{
        tui_key_quit(t, 'q');
}

static void tui_cmd_help(struct tui *t)
{
        tui_key_help(t, '?');
}

static void tui_cmd_refresh(struct tui *t)
{
        tui_key_refresh(t, 'r');
}

const struct tui_cmd tui_cmds[] = {
        { "q", "quit", tui_cmd_quit },
        { "quit", "quit", tui_cmd_quit },
        { "help", "the help page", tui_cmd_help },
        { "refresh", "poll the sources this pane shows now", tui_cmd_refresh },
        { NULL, NULL, NULL },
};

static void tui_command(struct tui *t, const char *line)
{
        const char *best = NULL;
        int bestd = 3;
        char cmd[128];
        size_t len;

        while (*line == ' ' || *line == ':')
                line++;
        str_copy(cmd, line, sizeof cmd);
        len = strlen(cmd);
        while (len && cmd[len - 1] == ' ')
                cmd[--len] = '\0';
        if (!*cmd)
                return;
        for (size_t i = 0; tui_cmds[i].name; i++) {
                if (strcmp(cmd, tui_cmds[i].name) == 0) {
                        tui_cmds[i].fn(t);
                        return;
                }
        }
        for (size_t i = 0; i < t->n_views; i++) {
                if (strcmp(cmd, t->views[i].ops->name) == 0) {
                        tui_switch(t, i);
                        return;
                }
        }
        /* A "did you mean" over commands and pane names. */
        for (size_t i = 0; tui_cmds[i].name; i++) {
                int d = str_edit_distance(cmd, tui_cmds[i].name);
                if (d < bestd) {
                        bestd = d;
                        best = tui_cmds[i].name;
                }
        }
        for (size_t i = 0; i < t->n_views; i++) {
                int d = str_edit_distance(cmd, t->views[i].ops->name);
                if (d < bestd) {
                        bestd = d;
                        best = t->views[i].ops->name;
                }
        }
        if (best)
                tui_flash(t, ROLE_ERROR, "unknown command :%s (did you mean :%s?)", cmd, best);
        else
                tui_flash(t, ROLE_ERROR, "unknown command :%s (:help lists them)", cmd);
}

/* --- input -------------------------------------------------------------- */

bool tui_is_backspace(int ch)
{
        return ch == KEY_BACKSPACE || ch == 127 || ch == 8;
}

bool tui_is_enter(int ch)
{
        return ch == '\r' || ch == '\n' || ch == KEY_ENTER;
}

/* Line editing for ":" and "/". */
static void tui_on_line_key(struct tui *t, int ch)
{
        size_t len = strlen(t->line);
        bool filter = t->mode == TUI_FILTER;
        struct view *v = tui_view(t);

        if (ch == TUI_KEY_ESC) {
                if (filter)
                        v->filter[0] = '\0';
                t->mode = TUI_NORMAL;
                return;
        }
        if (tui_is_enter(ch)) {
                t->mode = TUI_NORMAL;
                if (!filter) {
                        char line[sizeof t->line];
                        str_copy(line, t->line, sizeof line);
                        tui_command(t, line);
                }
                return;
        }
        if (tui_is_backspace(ch)) {
                if (len == 0) {
                        t->mode = TUI_NORMAL;   /* backspace on empty cancels */
                        return;
                }
                t->line[len - 1] = '\0';
        } else if (ch == 21) {                  /* ^U */
                t->line[0] = '\0';
        } else if (ch >= 32 && ch < 127 && len + 1 < sizeof t->line) {
                t->line[len] = (char)ch;
                t->line[len + 1] = '\0';
        } else {
                return;
        }
        if (filter)
                str_copy(v->filter, t->line, sizeof v->filter);
}

/* Scrolling keys shared by the help page and the result page. Returns
 * false for a key that is not one. */
static bool tui_scroll_key(int *top, int h, int ch)
{
        switch (ch) {
        case 'j':
        case KEY_DOWN:
                (*top)++;
                break;
        case 'k':
        case KEY_UP:
                (*top)--;
                break;
        case KEY_NPAGE:
        case ' ':
                *top += h > 1 ? h - 1 : 1;
                break;
        case KEY_PPAGE:
                *top -= h > 1 ? h - 1 : 1;
                break;
        case 'g':
        case KEY_HOME:
                *top = 0;
                break;
        case 'G':
        case KEY_END:
                *top = 1 << 20;
                break;
        default:
                return false;
        }
        if (*top < 0)
                *top = 0;
        return true;
}

int tui_pager_find(const struct tlines *l, const char *pat, int from, int dir)
{
        int n = (int)l->n;

        if (!pat || !*pat || n == 0)
                return -1;
        if (from < 0)
                from = n - 1;
        if (from >= n)
                from = 0;
        for (int k = 0; k < n; k++) {
                int i = ((from + dir * k) % n + n) % n;
                char buf[TLINE_SEGS * TSEG_MAX];

                tline_text(&l->v[i], buf, sizeof buf);
                if (strcasestr(buf, pat))
                        return i;
        }
        return -1;
}

/* Jumps to the next (dir +1) or previous (-1) match of the pattern. */
static void tui_pager_next(struct tui *t, int dir)
{
        int from, i;

        if (!t->pager_pat[0]) {
                tui_flash(t, ROLE_INFO, "no search: / and a pattern first");
                return;
        }
        from = t->pager_match >= 0 ? t->pager_match + dir : (dir > 0 ? t->pager_top
                                                                   : t->pager_top - 1);
        i = tui_pager_find(&t->pager, t->pager_pat, from, dir);
        if (i < 0) {
                t->pager_match = -1;
                tui_flash(t, ROLE_ERROR, "not found: %s", t->pager_pat);
                return;
        }
        if (t->pager_match >= 0 && (dir > 0 ? i <= t->pager_match : i >= t->pager_match))
                tui_flash(t, ROLE_INFO, "search wrapped");
        t->pager_match = i;
        /* Show the match a few lines below the top, like less. */
        t->pager_top = i > 2 ? i - 2 : 0;
}

static void tui_on_pager_key(struct tui *t, int ch)
{
        if (t->pager_edit) {
                size_t len = strlen(t->pager_pat);

                if (ch == TUI_KEY_ESC) {
                        t->pager_edit = false;
                        t->pager_pat[0] = '\0';
                        t->pager_match = -1;
                } else if (tui_is_enter(ch)) {
                        t->pager_edit = false;
                        t->pager_match = -1;
                        tui_pager_next(t, 1);
                } else if (tui_is_backspace(ch)) {
                        if (len)
                                t->pager_pat[len - 1] = '\0';
                        else
                                t->pager_edit = false;
                } else if (ch == 21) {
                        t->pager_pat[0] = '\0';
                } else if (ch >= 32 && ch < 127 && len + 1 < sizeof t->pager_pat) {
                        t->pager_pat[len] = (char)ch;
                        t->pager_pat[len + 1] = '\0';
                }
                return;
        }
        if (ch == '/') {
                t->pager_edit = true;
                t->pager_pat[0] = '\0';
                return;
        }
        if (ch == 'n' || ch == 'N') {
                tui_pager_next(t, ch == 'n' ? 1 : -1);
                return;
        }
        if (tui_scroll_key(&t->pager_top, t->pager_h, ch))
                return;
        if (ch == TUI_KEY_ESC || ch == 'q' || tui_is_enter(ch) || tui_is_backspace(ch)) {
                t->mode = TUI_NORMAL;
                t->pager_pat[0] = '\0';
                t->pager_match = -1;
                tlines_done(&t->pager);
                tlines_init(&t->pager);
        }
}

static void tui_on_help_key(struct tui *t, int ch)
{
        if (tui_scroll_key(&t->help_top, t->help_h, ch))
                return;
        if (ch == TUI_KEY_ESC || ch == 'q' || ch == '?' || tui_is_enter(ch) ||
            tui_is_backspace(ch))
                t->mode = TUI_NORMAL;
}

static void tui_on_mouse(struct tui *t)
{
        MEVENT ev;
        struct view *v = tui_view(t);

        if (getmouse(&ev) != OK)
                return;
        if (t->mode == TUI_ACTION)
                return;                 /* the dialog takes keys only */
        if (t->mode == TUI_PAGER) {
                if (ev.bstate & BUTTON4_PRESSED)
                        t->pager_top = t->pager_top > 3 ? t->pager_top - 3 : 0;
                else if (ev.bstate & BUTTON5_PRESSED)
                        t->pager_top += 3;
                return;
        }
        if (ev.bstate & BUTTON4_PRESSED) {
                if (t->mode == TUI_HELP)
                        t->help_top = t->help_top > 3 ? t->help_top - 3 : 0;
                else
                        tui_move(t, -3);
                return;
        }
        if (ev.bstate & BUTTON5_PRESSED) {
                if (t->mode == TUI_HELP)
                        t->help_top += 3;
                else
                        tui_move(t, 3);
                return;
        }
        if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED)))
                return;
        if (ev.y == 1) {
                for (size_t i = 0; i < t->n_views; i++) {
                        if (ev.x >= t->tab_x0[i] && ev.x < t->tab_x1[i]) {
                                t->mode = TUI_NORMAL;
                                tui_switch(t, i);
                        }
                }
                return;
        }
        if (t->mode != TUI_NORMAL || v->detail)
                return;
        if (ev.y >= v->rows_y && ev.y < v->rows_y + v->rows_h) {
                size_t i = v->top + (size_t)(ev.y - v->rows_y);
                if (i >= v->rows.n)
                        return;
                /* A click on the selected row opens it, like Enter. */
                if (i == v->sel || (ev.bstate & BUTTON1_DOUBLE_CLICKED)) {
                        v->sel = i;
                        tui_key_enter(t, '\r');
                } else {
                        v->sel = i;
                        memcpy(v->sel_id, v->rows.v[i].id, sizeof v->sel_id);
                }
        }
}

static void tui_on_key(struct tui *t, int ch)
{
        struct view *v = tui_view(t);

        if (ch == KEY_RESIZE) {
                /* The one place resizes are handled: the next frame lays out
                 * for the new size; clearok repaints from scratch. */
                clearok(curscr, TRUE);
                return;
        }
        if (ch == KEY_MOUSE) {
                tui_on_mouse(t);
                return;
        }
        if (t->ask != TUI_ASK_NONE) {
                int ask = t->ask;

                t->ask = TUI_ASK_NONE;
                if (ch == 'y' || ch == 'Y') {
                        if (ask == TUI_ASK_QUIT) {
                                t->quit = true;
                                t->rc = 0;
                        } else {
                                tui_rb_resume(t, t->ask_run);
                        }
                } else if (ask == TUI_ASK_RESUME && (ch == 'd' || ch == 'D')) {
                        tui_key_enter(t, '\r');
                }
                return;
        }
        switch (t->mode) {
        case TUI_COMMAND:
        case TUI_FILTER:
                tui_on_line_key(t, ch);
                return;
        case TUI_RBFORM:
                tui_on_rbform_key(t, ch);
                return;
        case TUI_RBRUN:
                tui_on_rbrun_key(t, ch);
                return;
        case TUI_HELP:
                tui_on_help_key(t, ch);
                return;
        case TUI_ACTION:
                tui_on_act_key(t, ch);
                return;
        case TUI_PAGER:
                tui_on_pager_key(t, ch);
                return;
        case TUI_NORMAL:
        default:
                break;
        }
        if (v->ops->key && !v->detail && (v->ops->key(v, ch) & VIEW_HANDLED))
                return;
        if (tui_rb_key(t, ch))
                return;
        if (tui_act_key(t, ch))
                return;
        for (size_t i = 0; tui_keys[i].label; i++)
                for (size_t k = 0; k < LO_ARRAY_LEN(tui_keys[i].keys) && tui_keys[i].keys[k]; k++)
                        if (tui_keys[i].keys[k] == ch) {
                                tui_keys[i].fn(t, ch);
                                return;
                        }
        if (ch >= 32 && ch < 127)
                tui_flash(t, ROLE_DIM, "key %c does nothing here (? lists keys)", ch);
}

/* Reads every pending key. Returns true when something was read. The
 * rows a key acts on are the rows as last drawn, so a key that changes
 * which rows there are (the filter, the pane) is followed by a frame
 * before the next key: "/kafka-2 Enter Enter" typed or pasted in one go
 * opens kafka-2, not the row that was first before the filter. */
static bool tui_read_input(struct tui *t)
{
        bool any = false;
        int ch;

        while (!t->quit && (ch = getch()) != ERR) {
                char filter[sizeof tui_view(t)->filter];
                size_t cur = t->cur;

                str_copy(filter, tui_view(t)->filter, sizeof filter);
                tui_on_key(t, ch);
                any = true;
                if (!t->quit && (t->cur != cur || strcmp(filter, tui_view(t)->filter) != 0))
                        tui_draw_frame(t);
        }
        return any;
}

static void tui_drain(int fd)
{
        char buf[256];

        while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
                ;
}

/* True when any collector published since the last frame. */
static bool tui_gens_changed(struct tui *t)
{
        bool changed = false;

        for (size_t i = 0; i < t->a->n_colls; i++) {
                uint64_t g;
                if (!t->a->colls[i])
                        continue;
                g = collector_gen(t->a->colls[i]);
                if (g != t->gens[i]) {
                        t->gens[i] = g;
                        changed = true;
                }
        }
        return changed;
}

/* --- setup and the loop ------------------------------------------------- */

static const int tui_sigs[] = { SIGINT, SIGTERM, SIGHUP };

static int tui_signals_install(struct sigaction *old, int pipefd[2])
{
        struct sigaction sa;

        if (pipe(pipefd) < 0)
                return -1;
        for (int i = 0; i < 2; i++) {
                fcntl(pipefd[i], F_SETFL, fcntl(pipefd[i], F_GETFL) | O_NONBLOCK);
                fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
        }
        tui_signal = 0;
        tui_signal_fd = pipefd[1];
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = tui_on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < LO_ARRAY_LEN(tui_sigs); i++)
                sigaction(tui_sigs[i], &sa, &old[i]);
        return 0;
}

static void tui_signals_restore(struct sigaction *old, int pipefd[2])
{
        for (size_t i = 0; i < LO_ARRAY_LEN(tui_sigs); i++)
                sigaction(tui_sigs[i], &old[i], NULL);
        tui_signal_fd = -1;
        close(pipefd[0]);
        close(pipefd[1]);
}

static bool tui_locale_utf8(void)
{
        const char *cs = nl_langinfo(CODESET);

        return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static void tui_list_views(FILE *f)
{
        for (size_t i = 0; view_registry[i]; i++)
                fprintf(f, "%s%s", i ? ", " : "", view_registry[i]->name);
        fputc('\n', f);
}

/* The first source owning a connection (its action plug-in has
 * context_read: Kubernetes) whose context matches danger_contexts: its
 * configured context, else the one its connection file names (a local file
 * read, once, before the screen opens). */
static void tui_danger_init(struct tui *t)
{
        const struct config *cfg = t->a->cfg;

        if (!cfg->danger_contexts.n)
                return;
        for (size_t i = 0; i < cfg->n_sources && !t->danger_ctx[0]; i++) {
                const struct source_cfg *src = &cfg->sources[i];
                const struct action_kind *k = action_kind_find(src->kind);
                const char *ctx = action_source_context(src);
                char *rctx = NULL;
                struct err e;

                if (!k || !k->context_read)
                        continue;
                err_clear(&e);
                if (!ctx && k->context_read(src, &rctx, &e) == 0)
                        ctx = rctx;
                if (ctx && action_context_dangerous(cfg, ctx))
                        str_copy(t->danger_ctx, ctx, sizeof t->danger_ctx);
                free(rctx);
        }
}

bool tui_key_hidden(const struct tui *t, const struct view_ops *ops, int key)
{
        const struct collector_ops *k;

        if (!t->a->read_only || !ops->collector)
                return false;
        k = collector_find(ops->collector);
        for (const struct action_def *d = k ? k->actions : NULL; d && d->name; d++)
                if (d->key == key && (d->flags & ACTION_F_MUTATING))
                        return true;
        return false;
}

static void tui_init_state(struct tui *t, struct app *a, size_t start)
{
        memset(t, 0, sizeof *t);
        t->a = a;
        for (size_t i = 0; view_registry[i] && i < TUI_MAX_VIEWS; i++) {
                t->views[i].ops = view_registry[i];
                table_rows_init(&t->views[i].rows);
                t->n_views++;
        }
        t->cur = start;
        t->rc = 0;
        t->gens = xcalloc(a->n_colls ? a->n_colls : 1, sizeof *t->gens);
        t->snaps = xcalloc(a->cfg->n_sources ? a->cfg->n_sources : 1, sizeof *t->snaps);
        alert_list_init(&t->alerts);
        alerttrack_init(&t->track);
        theme_warnings_init(&t->warnings);
        action_plan_init(&t->act.plan);
        action_plan_init(&t->act.shown);
        tlines_init(&t->pager);
        t->pager_match = -1;
        tui_danger_init(t);
        /* Loaded once; a broken runbook shows in its pane, the console runs. */
        t->runbooks = xcalloc(1, sizeof *t->runbooks);
        view_runbooks_init(t->runbooks, a->cfg);
}

static void tui_free_state(struct tui *t)
{
        /* A runbook run still in a step past the quit's grace keeps reading
         * the runbooks until the process exits: they are not freed then. */
        bool rb_free = tui_rb_done(t);

        tui_act_close(t);       /* a running phase is stopped through its pipe */
        tlines_done(&t->pager);
        for (size_t i = 0; i < t->n_views; i++)
                table_rows_done(&t->views[i].rows);
        free(t->gens);
        free(t->snaps);
        alert_list_done(&t->alerts);
        alerttrack_done(&t->track);
        theme_warnings_done(&t->warnings);
        if (t->runbooks && rb_free) {
                view_runbooks_done(t->runbooks);
                free(t->runbooks);
        }
}

/* Milliseconds until the next refresh tick, aligned to the wall clock so
 * the header clock moves on the second. */
static int tui_tick_wait(int64_t refresh_ms)
{
        int64_t now = clock_wall_ms();
        int64_t left = refresh_ms - now % refresh_ms;

        return (int)(left + 2);
}

int tui_run(struct app *a, const char *view)
{
        struct tui t;
        struct sigaction old[LO_ARRAY_LEN(tui_sigs)];
        int sigpipe[2] = { -1, -1 };
        size_t start = 0;
        int64_t refresh_ms;
        int poll_errno = 0;
        SCREEN *scr;
        static bool atexit_done;

        if (view) {
                const struct view_ops *ops = view_find(view);
                if (!ops) {
                        termsafe_fprintf(stderr, "lambdaops: unknown view '%s'; valid views: ",
                                         view);
                        tui_list_views(stderr);
                        return TUI_EXIT_USAGE;
                }
                for (size_t i = 0; view_registry[i]; i++)
                        if (view_registry[i] == ops)
                                start = i;
        }
        if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
                fprintf(stderr, "lambdaops: the console needs a terminal "
                        "(for scripts use `lambdaops status` or `lambdaops check`)\n");
                return 1;
        }

        /* Wide characters for ncursesw; numbers stay "1.5" whatever the
         * locale, as in main() (pane text is built with printf). */
        setlocale(LC_ALL, "");
        setlocale(LC_NUMERIC, "C");
        tui_init_state(&t, a, start);
        t.ascii = a->ascii || !tui_locale_utf8();
        t.color = theme_want_color(a->no_color);
        t.theme_name = a->theme_override ? a->theme_override
                                         : (a->cfg->theme ? a->cfg->theme : "default");
        theme_load(t.theme_name, &t.theme, &t.warnings);
        refresh_ms = a->cfg->refresh_ms > 0 ? a->cfg->refresh_ms : 1000;

        if (tui_signals_install(old, sigpipe) < 0) {
                fprintf(stderr, "lambdaops: cannot create a pipe: %s\n", strerror(errno));
                tui_free_state(&t);
                return 1;
        }
        if (!atexit_done) {
                atexit(tui_atexit);
                atexit_done = true;
        }
        scr = newterm(NULL, stdout, stdin);
        if (!scr) {
                const char *term = getenv("TERM");
                tui_signals_restore(old, sigpipe);
                tui_free_state(&t);
                termsafe_fprintf(stderr, "lambdaops: cannot open the terminal (TERM=%s)\n",
                                 term ? term : "unset");
                return 1;
        }
        tui_curses_up = true;
        cbreak();
        noecho();
        nonl();
        intrflush(stdscr, FALSE);
        keypad(stdscr, TRUE);
        nodelay(stdscr, TRUE);
        leaveok(stdscr, TRUE);
        curs_set(0);
        set_escdelay(25);
        mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED |
                  BUTTON5_PRESSED, NULL);
        mouseinterval(0);
        theme_apply(&t.theme, t.color);
        if (t.warnings.n)
                tui_flash(&t, ROLE_WARN, "theme: %s%s", t.warnings.v[0],
                          t.warnings.n > 1 ? " (more on the ? page)" : "");

        tui_gens_changed(&t);
        tui_draw_frame(&t);
        while (!t.quit && !tui_signal) {
                struct pollfd p[3] = {
                        { .fd = STDIN_FILENO, .events = POLLIN },
                        { .fd = sigpipe[0], .events = POLLIN },
                        { .fd = a->wake_pipe[0], .events = POLLIN },
                };
                nfds_t np = a->wake_pipe[0] >= 0 ? 3 : 2;
                int wait = tui_tick_wait(refresh_ms);
                bool redraw = false;
                int r;

                r = poll(p, np, wait);
                if (r < 0 && errno != EINTR) {
                        poll_errno = errno;
                        break;
                }
                if (tui_signal)
                        break;
                /* After EINTR too: SIGWINCH leaves a KEY_RESIZE to read. */
                if (r < 0 || (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
                        redraw |= tui_read_input(&t);
                if (r > 0 && (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
                    !(p[0].revents & POLLIN)) {
                        t.quit = true;          /* the terminal went away */
                        break;
                }
                if (r > 0 && np > 2 && (p[2].revents & POLLIN)) {
                        tui_drain(a->wake_pipe[0]);
                        redraw |= tui_gens_changed(&t);
                }
                redraw |= tui_act_poll(&t);     /* the worker wrote to the wake pipe */
                redraw |= tui_rb_poll(&t);      /* the runbook run's worker too */
                if (r > 0 && (p[1].revents & POLLIN))
                        tui_drain(sigpipe[0]);
                if (r == 0)
                        redraw = true;          /* the tick: clock and ages */
                if (redraw && !t.quit)
                        tui_draw_frame(&t);
        }
        if (tui_signal)
                t.rc = 128 + tui_signal;

        mousemask(0, NULL);
        endwin();
        tui_curses_up = false;
        delscreen(scr);
        tui_signals_restore(old, sigpipe);
        tui_free_state(&t);
        if (poll_errno) {
                fprintf(stderr, "lambdaops: poll: %s\n", strerror(poll_errno));
                return 1;
        }
        return t.rc;
}
