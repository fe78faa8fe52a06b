/*
 * theme: semantic colour roles for the TUI, a compiled-in default, and YAML
 * overrides (themes/NAME.yaml) parsed with libyaml.
 *
 * A theme maps each role (ok, warn, selected, ...) to a tmux-style string
 * such as "fg=yellow,bg=default,bold". Roles come from one X-macro, so the
 * enum, the YAML key names, the compiled-in default and the monochrome
 * fallback cannot drift apart. Panes never pick colours: they ask for
 * theme_attr(ROLE_WARN).
 *
 * Parsing is pure (no curses) and may run on any thread; theme_apply() and
 * theme_attr() are for the UI thread only, after initscr().
 *
 * The one global: theme_apply() fills a table of curses attributes that
 * theme_attr() reads. It is written and read by the UI thread only.
 */
#ifndef LO_SRC_THEME_H
#define LO_SRC_THEME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

/* X(ENUM, "yaml name", "compiled-in default", "monochrome attributes",
 *   "help") -- the monochrome column is what a role looks like when colours
 * are off (NO_COLOR, --no-color, or a terminal without colours). */
#define THEME_ROLES(X)                                                                  \
        X(DEFAULT,    "default",    "fg=default,bg=default",       "none",              \
          "everything without a more specific role")                                   \
        X(HEADER,     "header",     "fg=black,bg=cyan",            "reverse",           \
          "top line: app name, environment, clock")                                    \
        X(TAB,        "tab",        "fg=default,bg=default",       "none",              \
          "inactive pane titles in the tab bar")                                       \
        X(TAB_ACTIVE, "tab_active", "fg=black,bg=cyan,bold",       "reverse,bold",      \
          "the active pane title")                                                     \
        X(COLUMN,     "column",     "fg=cyan,bold",                "bold,underline",    \
          "table column titles")                                                       \
        X(SELECTED,   "selected",   "fg=black,bg=white",           "reverse",           \
          "the selected table row")                                                    \
        X(OK,         "ok",         "fg=green",                    "none",              \
          "healthy status and values")                                                 \
        X(WARN,       "warn",       "fg=yellow,bold",              "bold",              \
          "values past a warn threshold, degraded sources")                            \
        X(CRIT,       "crit",       "fg=red,bold",                 "bold,underline",    \
          "values past a crit threshold, down sources")                                \
        X(UNKNOWN,    "unknown",    "fg=magenta",                  "dim",               \
          "sources not polled yet")                                                    \
        X(STALE,      "stale",      "fg=black,bg=yellow",          "reverse",           \
          "data older than twice its poll interval")                                   \
        X(DIM,        "dim",        "fg=brightblack",              "dim",               \
          "secondary text: units, placeholders, help text")                            \
        X(BORDER,     "border",     "fg=blue",                     "none",              \
          "separators and rules")                                                      \
        X(TITLE,      "title",      "fg=cyan,bold",                "bold",              \
          "section titles in detail and help pages")                                   \
        X(SPARK,      "spark",      "fg=cyan",                     "none",              \
          "sparklines and history charts")                                             \
        X(FOOTER,     "footer",     "fg=default,bg=default",       "none",              \
          "key hint line")                                                             \
        X(KEY,        "key",        "fg=cyan,bold",                "bold",              \
          "key names in hints and help")                                               \
        X(STATUS_BAR, "status_bar", "fg=default,bg=default",       "none",              \
          "bottom status line")                                                        \
        X(PROMPT,     "prompt",     "fg=default,bold",             "bold",              \
          "the : command line and the / filter")                                       \
        X(INFO,       "info",       "fg=green",                    "none",              \
          "informational flash messages")                                              \
        X(ERROR,      "error",      "fg=white,bg=red,bold",        "reverse,bold",      \
          "error flash messages")                                                      \
        X(READONLY,   "readonly",   "fg=black,bg=yellow,bold",     "reverse,bold",      \
          "the READ-ONLY badge in the header")

enum theme_role {
#define THEME_X_ENUM(e, name, def, mono, help) ROLE_##e,
        THEME_ROLES(THEME_X_ENUM)
#undef THEME_X_ENUM
        ROLE__COUNT
};

/* Attribute bits of a style (mapped to A_* in theme_apply). */
#define THEME_A_BOLD      (1u << 0)
#define THEME_A_DIM       (1u << 1)
#define THEME_A_UNDERLINE (1u << 2)
#define THEME_A_REVERSE   (1u << 3)
#define THEME_A_BLINK     (1u << 4)
#define THEME_A_ITALIC    (1u << 5)
#define THEME_A_STANDOUT  (1u << 6)

#define THEME_COLOR_DEFAULT (-1)   /* the terminal's own foreground/background */

struct theme_style {
        short    fg, bg;        /* THEME_COLOR_DEFAULT or 0..255 (8..15 = brightX) */
        unsigned attrs;         /* THEME_A_* */
};

struct theme {
        struct theme_style role[ROLE__COUNT];
};

/* Problems found while loading a theme; the TUI shows them in the status
 * line and on the help page. */
struct theme_warnings {
        char  **v;      /* owned strings */
        size_t  n;
};

void theme_warnings_init(struct theme_warnings *w);
void theme_warnings_done(struct theme_warnings *w);      /* frees; reusable after */
void theme_warn(struct theme_warnings *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Role names as used in YAML; NULL for an out-of-range role. */
const char *theme_role_name(enum theme_role r);
const char *theme_role_help(enum theme_role r);
/* The role called `name`, or -1. */
int theme_role_find(const char *name);

/* Parses a tmux-style style string: comma- or space-separated tokens
 * fg=COLOUR, bg=COLOUR, bold, dim, underline (underscore), reverse, blink,
 * italics, standout, none. Colours: default, black, red, green, yellow,
 * blue, magenta, cyan, white, brightblack..brightwhite, colour0..colour255
 * (also "color"). Returns 0, or -1 with a reason in err (out untouched).
 * Missing fg/bg mean default. Pure. */
int theme_parse_attr(const char *s, struct theme_style *out, struct err *err);

/* Fills t with the compiled-in default theme. Pure. */
void theme_default(struct theme *t);

/* Parses a theme document (a YAML mapping of role name -> style string)
 * over the compiled-in default. Unknown roles, non-string values and bad
 * style strings add a "NAME:LINE:COL: ..." warning and leave that role at
 * its default. Returns the number of roles set, or -1 when the document is
 * not a mapping or not YAML (t is then the default, with a warning). Pure. */
int theme_parse_string(const char *yaml, size_t len, const char *name, struct theme *t,
                       struct theme_warnings *w);

/* Resolves a theme name to a file: a value containing '/' is a path used
 * as is; otherwise NAME.yaml is looked up in $LAMBDAOPS_THEMES, the source
 * tree's themes/, /usr/local/share/lambdaops/themes and
 * /usr/share/lambdaops/themes, in that order. Returns an owned path, or
 * NULL when none exists. */
char *theme_find(const char *name);

/* Loads theme `name` (see theme_find) over the default. A missing or
 * unreadable file adds a warning and leaves the compiled-in default. NULL
 * or "" or "default" with no file found silently means the default. */
void theme_load(const char *name, struct theme *t, struct theme_warnings *w);

/* True when colours should be used: not `no_color_flag`, and NO_COLOR is
 * unset or empty (https://no-color.org). */
bool theme_want_color(bool no_color_flag);

/* The effective style of a role: with colour, the theme's style; without,
 * colours dropped and the role's monochrome attributes added, so states
 * stay distinguishable. Pure. */
struct theme_style theme_resolve(const struct theme *t, enum theme_role r, bool color);

/* Installs the theme into curses (colour pairs and attributes). UI thread,
 * after initscr(). `color` false (or a terminal without colours) applies
 * attributes only. */
void theme_apply(const struct theme *t, bool color);
/* The curses attribute (colour pair | A_* bits) for a role, for wattron().
 * A_NORMAL before theme_apply(). UI thread only. */
int theme_attr(enum theme_role r);

#endif
