/*
 * theme: role table, style-string parser, YAML theme loader and the curses
 * apply step. See theme.h.
 *
 * Everything above theme_apply() is pure and thread-agnostic; the tests call
 * it without a terminal. A theme is always complete: loading starts from the
 * compiled-in default and each role a file sets correctly replaces it, so a
 * bad entry costs one role, never the whole theme.
 */
#include "core/theme.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "core/fsfile.h"
#include "core/util.h"

struct theme_role_def {
        const char *name;
        const char *def;        /* compiled-in style string */
        const char *mono;       /* attributes used without colour */
        const char *help;
};

static const struct theme_role_def theme_roles[ROLE__COUNT] = {
#define THEME_X_DEF(e, name, def, mono, help) [ROLE_##e] = { name, def, mono, help },
        THEME_ROLES(THEME_X_DEF)
#undef THEME_X_DEF
};

/* --- warnings ----------------------------------------------------------- */

void theme_warnings_init(struct theme_warnings *w)
{
        w->v = NULL;
        w->n = 0;
}

void theme_warnings_done(struct theme_warnings *w)
{
        for (size_t i = 0; i < w->n; i++)
                free(w->v[i]);
        free(w->v);
        theme_warnings_init(w);
}

void theme_warn(struct theme_warnings *w, const char *fmt, ...)
{
        va_list ap;
        char buf[512];

        if (!w)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        w->v = xrealloc(w->v, (w->n + 1) * sizeof *w->v);
        w->v[w->n++] = xstrdup(buf);
}

/* --- roles -------------------------------------------------------------- */

const char *theme_role_name(enum theme_role r)
{
        return (unsigned)r < ROLE__COUNT ? theme_roles[r].name : NULL;
}

const char *theme_role_help(enum theme_role r)
{
        return (unsigned)r < ROLE__COUNT ? theme_roles[r].help : NULL;
}

int theme_role_find(const char *name)
{
        for (int i = 0; i < ROLE__COUNT; i++)
                if (strcmp(theme_roles[i].name, name) == 0)
                        return i;
        return -1;
}

/* The closest role name within edit distance 3, or NULL. */
static const char *theme_role_suggest(const char *name)
{
        const char *best = NULL;
        int bestd = 4;

        for (int i = 0; i < ROLE__COUNT; i++) {
                int d = str_edit_distance(name, theme_roles[i].name);
                if (d < bestd) {
                        bestd = d;
                        best = theme_roles[i].name;
                }
        }
        return best;
}

/* --- style strings ------------------------------------------------------ */

static const char *const theme_colour_names[] = {
        "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

static int theme_parse_colour(const char *s, short *out)
{
        char *end;
        long n;

        if (strcmp(s, "default") == 0) {
                *out = THEME_COLOR_DEFAULT;
                return 0;
        }
        for (int i = 0; i < 8; i++) {
                if (strcmp(s, theme_colour_names[i]) == 0) {
                        *out = (short)i;
                        return 0;
                }
                if (strncmp(s, "bright", 6) == 0 && strcmp(s + 6, theme_colour_names[i]) == 0) {
                        *out = (short)(8 + i);
                        return 0;
                }
        }
        if (strncmp(s, "colour", 6) == 0)
                s += 6;
        else if (strncmp(s, "color", 5) == 0)
                s += 5;
        else
                return -1;
        if (!isdigit((unsigned char)*s))
                return -1;
        n = strtol(s, &end, 10);
        if (*end || n < 0 || n > 255)
                return -1;
        *out = (short)n;
        return 0;
}

static const struct {
        const char *name;
        unsigned    bit;
} theme_attr_names[] = {
        { "bold", THEME_A_BOLD },           { "dim", THEME_A_DIM },
        { "underline", THEME_A_UNDERLINE }, { "underscore", THEME_A_UNDERLINE },
        { "reverse", THEME_A_REVERSE },     { "blink", THEME_A_BLINK },
        { "italics", THEME_A_ITALIC },      { "italic", THEME_A_ITALIC },
        { "standout", THEME_A_STANDOUT },
};

int theme_parse_attr(const char *s, struct theme_style *out, struct err *err)
{
        struct theme_style st = { THEME_COLOR_DEFAULT, THEME_COLOR_DEFAULT, 0 };
        char tok[64];
        const char *p = s;

        if (!s) {
                err_set(err, 1, "missing style");
                return -1;
        }
        while (*p) {
                size_t len = strcspn(p, ", \t");
                bool found = false;

                if (len == 0) {
                        p++;
                        continue;
                }
                if (len >= sizeof tok) {
                        err_set(err, 1, "token too long in '%s'", s);
                        return -1;
                }
                memcpy(tok, p, len);
                tok[len] = '\0';
                p += len;
                for (char *c = tok; *c; c++)
                        *c = (char)tolower((unsigned char)*c);

                if (strncmp(tok, "fg=", 3) == 0 || strncmp(tok, "bg=", 3) == 0) {
                        short *dst = tok[0] == 'f' ? &st.fg : &st.bg;
                        if (tok[3] == '#') {
                                err_set(err, 1, "RGB colour '%s' is not supported (use colour0-255)",
                                        tok + 3);
                                return -1;
                        }
                        if (theme_parse_colour(tok + 3, dst) < 0) {
                                err_set(err, 1, "bad colour '%s' (use default, black..white, "
                                        "brightblack..brightwhite or colour0-255)", tok + 3);
                                return -1;
                        }
                        continue;
                }
                if (strcmp(tok, "none") == 0 || strcmp(tok, "default") == 0) {
                        st.attrs = 0;
                        continue;
                }
                for (size_t i = 0; i < LO_ARRAY_LEN(theme_attr_names); i++) {
                        if (strcmp(tok, theme_attr_names[i].name) == 0) {
                                st.attrs |= theme_attr_names[i].bit;
                                found = true;
                                break;
                        }
                }
                if (!found) {
                        err_set(err, 1, "unknown attribute '%s' (use fg=, bg=, bold, dim, "
                                "underline, reverse, blink, italics, standout, none)", tok);
                        return -1;
                }
        }
        *out = st;
        return 0;
}

void theme_default(struct theme *t)
{
        for (int i = 0; i < ROLE__COUNT; i++) {
                int r = theme_parse_attr(theme_roles[i].def, &t->role[i], NULL);

                assert(r == 0);         /* the X-macro defaults are ours */
                (void)r;
        }
}

/* --- YAML --------------------------------------------------------------- */

int theme_parse_string(const char *yaml, size_t len, const char *name, struct theme *t,
                       struct theme_warnings *w)
{
        yaml_parser_t p;
        yaml_document_t doc;
        yaml_node_t *root;
        bool seen[ROLE__COUNT] = { false };
        int set = 0;

        theme_default(t);
        if (!name)
                name = "<theme>";
        if (!yaml_parser_initialize(&p)) {
                theme_warn(w, "%s: cannot initialise the YAML parser; using the default theme",
                           name);
                return -1;
        }
        yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
        if (!yaml_parser_load(&p, &doc)) {
                theme_warn(w, "%s:%zu:%zu: %s; using the default theme", name,
                           p.problem_mark.line + 1, p.problem_mark.column + 1,
                           p.problem ? p.problem : "YAML error");
                yaml_parser_delete(&p);
                return -1;
        }
        root = yaml_document_get_root_node(&doc);
        if (!root) {
                /* An empty file is a theme that changes nothing. */
                yaml_document_delete(&doc);
                yaml_parser_delete(&p);
                return 0;
        }
        if (root->type != YAML_MAPPING_NODE) {
                theme_warn(w, "%s:%zu:%zu: a theme is a mapping of role: style; "
                           "using the default theme", name, root->start_mark.line + 1,
                           root->start_mark.column + 1);
                yaml_document_delete(&doc);
                yaml_parser_delete(&p);
                return -1;
        }
        for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
             pr < root->data.mapping.pairs.top; pr++) {
                yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
                yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
                const char *key, *val;
                struct theme_style st;
                struct err e;
                int role;

                if (!k || !v)
                        continue;
                if (k->type != YAML_SCALAR_NODE) {
                        theme_warn(w, "%s:%zu:%zu: role names are strings", name,
                                   k->start_mark.line + 1, k->start_mark.column + 1);
                        continue;
                }
                key = (const char *)k->data.scalar.value;
                /* Metadata a theme may carry for people; not roles. */
                if (strcmp(key, "name") == 0 || strcmp(key, "description") == 0)
                        continue;
                role = theme_role_find(key);
                if (role < 0) {
                        const char *hint = theme_role_suggest(key);
                        theme_warn(w, "%s:%zu:%zu: unknown role '%s'%s%s%s", name,
                                   k->start_mark.line + 1, k->start_mark.column + 1, key,
                                   hint ? " (did you mean '" : "", hint ? hint : "",
                                   hint ? "'?)" : "");
                        continue;
                }
                if (v->type != YAML_SCALAR_NODE) {
                        theme_warn(w, "%s:%zu:%zu: role '%s' needs a style string such as "
                                   "\"fg=yellow,bold\"; using the default", name,
                                   v->start_mark.line + 1, v->start_mark.column + 1, key);
                        continue;
                }
                if (seen[role])
                        theme_warn(w, "%s:%zu:%zu: role '%s' is set twice; the last one wins",
                                   name, k->start_mark.line + 1, k->start_mark.column + 1, key);
                val = (const char *)v->data.scalar.value;
                err_clear(&e);
                if (theme_parse_attr(val, &st, &e) < 0) {
                        theme_warn(w, "%s:%zu:%zu: role '%s': %s; using the default", name,
                                   v->start_mark.line + 1, v->start_mark.column + 1, key,
                                   e.msg);
                        continue;
                }
                if (!seen[role])
                        set++;
                seen[role] = true;
                t->role[role] = st;
        }
        yaml_document_delete(&doc);
        yaml_parser_delete(&p);
        return set;
}

static char *theme_try(const char *dir, const char *name)
{
        char *path;

        if (!dir || !*dir)
                return NULL;
        path = xasprintf("%s/%s.yaml", dir, name);
        if (access(path, R_OK) == 0)
                return path;
        free(path);
        return NULL;
}

char *theme_find(const char *name)
{
        const char *dirs[] = {
                getenv("LAMBDAOPS_THEMES"),
                LO_SOURCE_DIR "/themes",
                "/usr/local/share/lambdaops/themes",
                "/usr/share/lambdaops/themes",
        };

        if (!name || !*name)
                return NULL;
        if (strchr(name, '/'))
                return xstrdup(name);
        for (size_t i = 0; i < LO_ARRAY_LEN(dirs); i++) {
                char *p = theme_try(dirs[i], name);
                if (p)
                        return p;
        }
        return NULL;
}

/* A theme is a few hundred bytes; a larger file is not one. */
#define THEME_MAX_BYTES (1 << 20)

void theme_load(const char *name, struct theme *t, struct theme_warnings *w)
{
        struct err e;
        char *path, *text;
        size_t len = 0;

        theme_default(t);
        if (!name || !*name)
                return;
        path = theme_find(name);
        if (!path) {
                if (strcmp(name, "default") != 0)
                        theme_warn(w, "theme '%s' not found (looked in $LAMBDAOPS_THEMES, "
                                   "%s/themes, /usr/local/share/lambdaops/themes, "
                                   "/usr/share/lambdaops/themes); using the default theme",
                                   name, LO_SOURCE_DIR);
                return;
        }
        text = fsfile_read(path, THEME_MAX_BYTES, "theme", &len, &e);
        if (!text) {
                /* A FIFO, device or directory is refused, not read: say so. */
                if (e.code == EISDIR || e.code == EINVAL || e.code == EFBIG)
                        theme_warn(w, "%s; using the default theme", e.msg);
                else
                        theme_warn(w, "cannot read theme %s; using the default theme", path);
                free(path);
                return;
        }
        theme_parse_string(text, len, path, t, w);
        free(text);
        free(path);
}

bool theme_want_color(bool no_color_flag)
{
        const char *e = getenv("NO_COLOR");

        return !no_color_flag && !(e && *e);
}

struct theme_style theme_resolve(const struct theme *t, enum theme_role r, bool color)
{
        struct theme_style st = t->role[r], mono;

        if (color)
                return st;
        if (theme_parse_attr(theme_roles[r].mono, &mono, NULL) < 0)
                mono.attrs = 0;
        st.fg = st.bg = THEME_COLOR_DEFAULT;
        st.attrs |= mono.attrs;
        return st;
}

/* --- curses ------------------------------------------------------------- */

static int theme_attrs[ROLE__COUNT];

static int theme_curses_attrs(unsigned a)
{
        int r = A_NORMAL;

        if (a & THEME_A_BOLD)
                r |= A_BOLD;
        if (a & THEME_A_DIM)
                r |= A_DIM;
        if (a & THEME_A_UNDERLINE)
                r |= A_UNDERLINE;
        if (a & THEME_A_REVERSE)
                r |= A_REVERSE;
        if (a & THEME_A_BLINK)
                r |= A_BLINK;
        if (a & THEME_A_ITALIC)
                r |= A_ITALIC;
        if (a & THEME_A_STANDOUT)
                r |= A_STANDOUT;
        return r;
}

/* Maps a theme colour to what this terminal has. brightX on an 8-colour
 * terminal becomes X plus bold (for foregrounds). */
static short theme_curses_colour(short c, bool fg, bool have_default, int *extra)
{
        if (c == THEME_COLOR_DEFAULT)
                return have_default ? -1 : (fg ? COLOR_WHITE : COLOR_BLACK);
        if (c < COLORS)
                return c;
        if (c >= 8 && c < 16) {
                if (fg)
                        *extra |= A_BOLD;
                return (short)(c - 8);
        }
        return have_default ? -1 : (fg ? COLOR_WHITE : COLOR_BLACK);
}

void theme_apply(const struct theme *t, bool color)
{
        bool have_default = false;

        color = color && has_colors();
        if (color) {
                start_color();
                have_default = use_default_colors() == OK;
        }
        for (int i = 0; i < ROLE__COUNT; i++) {
                struct theme_style st = theme_resolve(t, (enum theme_role)i, color);
                int a = theme_curses_attrs(st.attrs);

                if (color && i + 1 < COLOR_PAIRS) {
                        short fg = theme_curses_colour(st.fg, true, have_default, &a);
                        short bg = theme_curses_colour(st.bg, false, have_default, &a);
                        init_pair((short)(i + 1), fg, bg);
                        a |= (int)COLOR_PAIR(i + 1);
                }
                theme_attrs[i] = a;
        }
}

int theme_attr(enum theme_role r)
{
        return (unsigned)r < ROLE__COUNT ? theme_attrs[r] : (int)A_NORMAL;
}
