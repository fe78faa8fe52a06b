/*
 * tui: the TUI's entry point (tui_run), and the internal interface between
 * the TUI shell's event loop (src/tui/tui.c), its action dialog
 * (src/tui/tui_act.c), its runbook runs (src/tui/tui_rbrun.c) and its screen
 * drawing (src/tui/tui_draw.c). Everything here belongs to the UI thread,
 * the only thread that touches curses (a runbook run's worker only touches
 * the run's own state, under its mutex: see tui_rbrun.c).
 */
#ifndef LO_SRC_TUI_H
#define LO_SRC_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/action.h"
#include "core/app.h"
#include "core/alerttrack.h"
#include "core/health.h"
#include "core/theme.h"
#include "views/view.h"

#define TUI_MAX_VIEWS 16
#define TUI_MIN_W 40            /* below this, only the "too small" message */
#define TUI_MIN_H 10
#define TUI_KEY_ESC 27

enum tui_mode {
        TUI_NORMAL,             /* keys go to the key tables */
        TUI_COMMAND,            /* editing a ":" command */
        TUI_FILTER,             /* editing a "/" filter */
        TUI_HELP,               /* the help page is open */
        TUI_ACTION,             /* the action dialog is open (struct tui_act) */
        TUI_PAGER,              /* an action's result page is open */
        TUI_RBFORM,             /* a runbook's input form (struct tui_rbform) */
        TUI_RBRUN,              /* the run view of the console's runbook run */
};

/* The steps of the action dialog. Keys go to the dialog in all of them;
 * the phases run on an action_job worker and the loop polls it. */
enum tui_act_step {
        TUI_ACT_CONF,           /* editing the conf JSON (ACTION_F_CONF) or the
                                   argument (ACTION_F_ARG, def->arg_label) */
        TUI_ACT_PREPARE,        /* the prepare phase runs */
        TUI_ACT_CONFIRM,        /* the plan is shown: y / n, or the context (else the
                                   source name) typed; skipped for ACTION_F_NOCONFIRM */
        TUI_ACT_RUN,            /* the run phase runs */
};

/* One action in progress (there is at most one). */
struct tui_act {
        enum tui_act_step step;
        const struct action_def *def;           /* NULL: none */
        const struct source_cfg *src;           /* borrowed from the config */
        char    target[160];                    /* connector, DAG id */
        char    conf[256];                      /* the conf/argument line ("" = none) */
        char    typed[128];                     /* what was typed, for dangerous ones */
        char    word[128];                      /* what must be typed: the plan's
                                                   context, else the source name */
        char    msg[256];                       /* why the input was not accepted */
        struct action_job *job;                 /* the phase running, or NULL */
        struct action_plan plan;                /* after prepare, until run takes it */
        char   *text;                           /* owned: the plan as dialog lines */
        char   *summary;                        /* owned: the plan for the audit log */
        struct action_plan shown;               /* the plan's programs and context, kept
                                                   for the audit line after run */
        int64_t t0;                             /* monotonic ms the dialog opened */
};

/* Where a key's footer hint shows (struct tui_key.where). */
#define TUI_IN_TABLE  0x1u
#define TUI_IN_DETAIL 0x2u
#define TUI_IN_HELP   0x4u

struct tui;
struct tui_rbform;
struct tui_rbrun;

/* One global key binding; the help page and the footer are generated from
 * the table of these in tui.c. */
struct tui_key {
        int         keys[10];   /* 0-terminated */
        const char *label;      /* "j/Down" */
        const char *help;       /* help page text */
        void      (*fn)(struct tui *t, int ch);
        const char *hint;       /* footer text, NULL = help page only */
        unsigned    where;      /* TUI_IN_*: where the footer shows the hint */
};

/* One ":" command (view names are commands too, from the view registry). */
struct tui_cmd {
        const char *name;
        const char *help;
        void      (*fn)(struct tui *t);
};

struct tui {
        struct app *a;
        bool        ascii;              /* ASCII glyphs (non-UTF-8 locale or --ascii) */
        bool        color;              /* colours wanted (NO_COLOR/--no-color unset) */
        const char *theme_name;
        struct theme theme;
        struct theme_warnings warnings;

        struct view views[TUI_MAX_VIEWS];
        size_t      n_views, cur;

        enum tui_mode mode;
        char        line[128];          /* the command or filter being edited */
        char        flash[256];         /* transient status message */
        enum theme_role flash_role;
        int64_t     flash_until;        /* monotonic ms */
        int         help_top;           /* first help line shown */
        int         help_h;             /* help lines visible last draw */
        size_t      help_n;
        struct tui_act act;             /* the action dialog (mode TUI_ACTION) */
        struct tlines pager;            /* the result page (mode TUI_PAGER) */
        char        pager_title[256];
        int         pager_top, pager_h; /* first line shown, lines visible last draw */
        bool        pager_edit;         /* editing the pager's "/" search */
        char        pager_pat[128];     /* the search pattern ("" = none) */
        int         pager_match;        /* line of the current match, -1 none */
        char        danger_ctx[128];    /* a kubernetes source's context matching
                                           danger_contexts, or "" */
        int         tab_x0[TUI_MAX_VIEWS], tab_x1[TUI_MAX_VIEWS]; /* tab bar hit boxes */

        bool        quit;
        int         rc;                 /* exit code for tui_run */
        uint64_t   *gens;               /* last seen publish generation per collector */

        /* The frame being drawn: references held only while drawing. */
        const struct snapshot **snaps;  /* one per source */
        struct alert_list alerts;
        struct alert_tracker track;     /* alert episodes across frames */
        enum severity overall;
        struct view_runbooks *runbooks; /* the Runbooks pane's state, owned */
        struct tui_rbform *rbform;      /* the input form (mode TUI_RBFORM), or NULL */
        struct tui_rbrun *rbrun;        /* the console's runbook run (running or
                                           ended), or NULL; tui_rbrun.c */
        /* A question in the status line: y answers it, any other key drops it. */
        enum { TUI_ASK_NONE, TUI_ASK_QUIT, TUI_ASK_RESUME } ask;
        char        ask_run[TABLE_ID_MAX];      /* TUI_ASK_RESUME: the run id */
};

/* Interactive console; returns the process exit code. Main/UI thread only.
 * `view` is the pane to open on (NULL = overview). */
int tui_run(struct app *a, const char *view);

/* Tables defined in tui.c (read by the help page and the footer). */
extern const struct tui_key tui_keys[];
extern const struct tui_cmd tui_cmds[];

/* Shows `msg` in the status line for a few seconds. */
void tui_flash(struct tui *t, enum theme_role role, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Takes snapshot references, evaluates health, draws the whole screen and
 * drops the references again (tui_draw.c). */
void tui_draw_frame(struct tui *t);
/* Builds the help page (pure: no curses). */
void tui_help_lines(const struct tui *t, struct tlines *out);
/* True when the pane's key `key` (a view_key) is a mutating action of the
 * pane's kind and the console is read-only: the footer and help hide it. */
bool tui_key_hidden(const struct tui *t, const struct view_ops *ops, int key);
/* The source and target of the selected row (or the open detail page):
 * row ids are "SOURCE\tTARGET". NULL when none. */
const struct source_cfg *tui_act_row(struct tui *t, char *target, size_t n);
/* Finds pat (any case) in the pager from line `from` going `dir` (+1/-1),
 * wrapping. The line, or -1. Pure. */
int tui_pager_find(const struct tlines *l, const char *pat, int from, int dir);

/* Key helpers of tui.c the dialog uses too. */
struct view *tui_view(struct tui *t);   /* the current pane */
bool tui_is_backspace(int ch);
bool tui_is_enter(int ch);

/* The action dialog (tui_act.c). */
/* Ends the dialog (a job still running is stopped through its stop pipe). */
void tui_act_close(struct tui *t);
/* Collects a finished phase. Returns true when the screen changed. UI
 * thread; never waits. */
bool tui_act_poll(struct tui *t);
/* An action key in the table or detail page. False when the selected row's
 * kind has no action on this key (the global keys get it then). */
bool tui_act_key(struct tui *t, int ch);
/* Keys while the dialog is open (TUI_ACTION). */
void tui_on_act_key(struct tui *t, int ch);

/* Runbook runs in the console (tui_rbrun.c). */
/* The Runbooks pane's Enter and r: Enter or r on a runbook (its row or its
 * page) opens its input form; Enter on the console's run returns to its
 * run view; Enter on another unfinished run asks to resume it. False when
 * the key is not one of these (the pane's page opens as before). */
bool tui_rb_key(struct tui *t, int ch);
/* Resumes run `id` of the ledger in the console (after TUI_ASK_RESUME). */
void tui_rb_resume(struct tui *t, const char *id);
void tui_on_rbform_key(struct tui *t, int ch);
void tui_on_rbrun_key(struct tui *t, int ch);
/* Collects what the run's worker posted; true when the screen changed.
 * UI thread; never waits (the mutex is only held for copies). */
bool tui_rb_poll(struct tui *t);
/* True while the console's run has not ended. */
bool tui_rb_active(struct tui *t);
/* The form or the run view as lines for a page `w` cells wide and `h`
 * lines high. */
void tui_rb_lines(struct tui *t, int w, int h, struct tlines *out);
/* The footer's hints in the form and the run view: pairs key, what, up to
 * max; returns how many. */
size_t tui_rb_hints(struct tui *t, const char **keys, const char **what, size_t max);
/* The status line's marker of an active run ("run cdc-slot-inactive: step
 * 3/5 restart, waiting for you"), "" when none. */
void tui_rb_marker(struct tui *t, char *buf, size_t n);
/* At quit: the operator leaves the run (no end record, it stays
 * resumable); waits a bounded time for the worker. Returns false when the
 * worker is still in a step (a request in flight): it is detached and the
 * runbooks it reads must not be freed. */
bool tui_rb_done(struct tui *t);

#endif
