/*
 * test_theme: style-string parsing (colours, attributes, case, separators,
 * every kind of bad input), the role table, YAML themes over the compiled-in
 * default (unknown roles with "did you mean", bad colours, wrong value types,
 * duplicates, broken YAML -> per-role fallback with NAME:LINE:COL warnings),
 * every shipped themes/NAME.yaml loading cleanly and completely, theme
 * lookup ($LAMBDAOPS_THEMES, paths, missing and unreadable files),
 * NO_COLOR, and docs/keys.md listing every role. Pure: no terminal is
 * involved.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/theme.h"
#include "tu.h"
#include "core/util.h"

static struct theme_style parse_ok(const char *s)
{
        struct theme_style st;
        struct err e;

        err_clear(&e);
        if (theme_parse_attr(s, &st, &e) != 0)
                fail_msg("'%s' should parse: %s", s, e.msg);
        return st;
}

static const char *parse_bad(const char *s)
{
        static struct err e;
        struct theme_style st = { 42, 42, 42 };

        err_clear(&e);
        assert_int_equal(theme_parse_attr(s, &st, &e), -1);
        /* Untouched on error. */
        assert_int_equal(st.fg, 42);
        assert_int_equal(st.attrs, 42);
        return e.msg;
}

static void test_attr_colours(void **state)
{
        struct theme_style st;

        (void)state;
        st = parse_ok("fg=yellow,bg=default,bold");
        assert_int_equal(st.fg, 3);
        assert_int_equal(st.bg, THEME_COLOR_DEFAULT);
        assert_int_equal(st.attrs, THEME_A_BOLD);

        st = parse_ok("fg=black,bg=white");
        assert_int_equal(st.fg, 0);
        assert_int_equal(st.bg, 7);
        assert_int_equal(st.attrs, 0);

        st = parse_ok("fg=brightred,bg=brightblack");
        assert_int_equal(st.fg, 9);
        assert_int_equal(st.bg, 8);

        st = parse_ok("fg=colour0,bg=colour255");
        assert_int_equal(st.fg, 0);
        assert_int_equal(st.bg, 255);
        st = parse_ok("fg=color123");
        assert_int_equal(st.fg, 123);
        assert_int_equal(st.bg, THEME_COLOR_DEFAULT);

        /* Case and separators are forgiving, like tmux. */
        st = parse_ok("FG=Red BG=Blue,  Bold");
        assert_int_equal(st.fg, 1);
        assert_int_equal(st.bg, 4);
        assert_int_equal(st.attrs, THEME_A_BOLD);

        /* Nothing at all is the terminal's default. */
        st = parse_ok("");
        assert_int_equal(st.fg, THEME_COLOR_DEFAULT);
        assert_int_equal(st.bg, THEME_COLOR_DEFAULT);
        assert_int_equal(st.attrs, 0);
}

static void test_attr_attributes(void **state)
{
        struct theme_style st;

        (void)state;
        st = parse_ok("bold,dim,underline,reverse,blink,italics,standout");
        assert_int_equal(st.attrs, THEME_A_BOLD | THEME_A_DIM | THEME_A_UNDERLINE |
                                   THEME_A_REVERSE | THEME_A_BLINK | THEME_A_ITALIC |
                                   THEME_A_STANDOUT);
        st = parse_ok("underscore");
        assert_int_equal(st.attrs, THEME_A_UNDERLINE);
        /* "none" clears what came before it. */
        st = parse_ok("bold,reverse,none,underline");
        assert_int_equal(st.attrs, THEME_A_UNDERLINE);
        st = parse_ok("none");
        assert_int_equal(st.attrs, 0);
}

static void test_attr_errors(void **state)
{
        const char *m;

        (void)state;
        m = parse_bad("fg=purple");
        assert_non_null(strstr(m, "bad colour 'purple'"));
        assert_non_null(strstr(m, "colour0-255"));
        assert_non_null(strstr(parse_bad("bg=colour256"), "bad colour 'colour256'"));
        assert_non_null(strstr(parse_bad("fg=colour-1"), "bad colour"));
        assert_non_null(strstr(parse_bad("fg=colour"), "bad colour"));
        assert_non_null(strstr(parse_bad("fg=colour12x"), "bad colour"));
        assert_non_null(strstr(parse_bad("fg="), "bad colour ''"));
        assert_non_null(strstr(parse_bad("fg=brightpink"), "bad colour"));
        m = parse_bad("fg=#ff0000");
        assert_non_null(strstr(m, "RGB colour '#ff0000' is not supported"));
        m = parse_bad("bold,sparkly");
        assert_non_null(strstr(m, "unknown attribute 'sparkly'"));
        assert_non_null(strstr(parse_bad("fg:red"), "unknown attribute 'fg:red'"));
        assert_non_null(strstr(parse_bad(
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                "token too long"));
        assert_non_null(strstr(parse_bad(NULL), "missing"));
}

static void test_roles(void **state)
{
        (void)state;
        for (int i = 0; i < ROLE__COUNT; i++) {
                const char *n = theme_role_name((enum theme_role)i);
                assert_non_null(n);
                assert_non_null(theme_role_help((enum theme_role)i));
                assert_int_equal(theme_role_find(n), i);
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(n, theme_role_name((enum theme_role)j));
        }
        assert_string_equal(theme_role_name(ROLE_WARN), "warn");
        assert_string_equal(theme_role_name(ROLE_TAB_ACTIVE), "tab_active");
        assert_string_equal(theme_role_name(ROLE_STATUS_BAR), "status_bar");
        assert_int_equal(theme_role_find("selected"), ROLE_SELECTED);
        assert_int_equal(theme_role_find("stale"), ROLE_STALE);
        assert_int_equal(theme_role_find("nope"), -1);
        assert_int_equal(theme_role_find("WARN"), -1);
        assert_null(theme_role_name(ROLE__COUNT));
}

static void test_default_theme(void **state)
{
        struct theme t;

        (void)state;
        theme_default(&t);
        assert_int_equal(t.role[ROLE_WARN].fg, 3);             /* yellow */
        assert_int_equal(t.role[ROLE_WARN].attrs, THEME_A_BOLD);
        assert_int_equal(t.role[ROLE_CRIT].fg, 1);             /* red */
        assert_int_equal(t.role[ROLE_OK].fg, 2);               /* green */
        assert_int_equal(t.role[ROLE_DEFAULT].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.role[ROLE_DEFAULT].bg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.role[ROLE_HEADER].bg, 6);           /* cyan */
        assert_int_equal(t.role[ROLE_STALE].bg, 3);
        assert_int_equal(t.role[ROLE_DIM].fg, 8);              /* brightblack */
}

static void test_parse_string_overrides(void **state)
{
        static const char y[] =
                "name: mine\n"
                "description: for the test\n"
                "warn: \"fg=colour208,bold\"\n"
                "ok: fg=brightgreen\n"
                "selected: reverse\n";
        struct theme t, def;
        struct theme_warnings w;

        (void)state;
        theme_warnings_init(&w);
        theme_default(&def);
        assert_int_equal(theme_parse_string(y, strlen(y), "mine.yaml", &t, &w), 3);
        assert_int_equal(w.n, 0);
        assert_int_equal(t.role[ROLE_WARN].fg, 208);
        assert_int_equal(t.role[ROLE_WARN].attrs, THEME_A_BOLD);
        assert_int_equal(t.role[ROLE_OK].fg, 10);
        assert_int_equal(t.role[ROLE_SELECTED].fg, THEME_COLOR_DEFAULT);
        assert_int_equal(t.role[ROLE_SELECTED].attrs, THEME_A_REVERSE);
        /* Roles the file leaves out keep the compiled-in default. */
        assert_memory_equal(&t.role[ROLE_CRIT], &def.role[ROLE_CRIT], sizeof def.role[0]);
        assert_memory_equal(&t.role[ROLE_HEADER], &def.role[ROLE_HEADER], sizeof def.role[0]);
        theme_warnings_done(&w);
}

static void test_parse_string_bad_roles(void **state)
{
        static const char y[] =
                "wran: fg=red\n"                 /* line 1: typo of warn */
                "ok: fg=purple\n"                /* line 2: bad colour */
                "crit: [fg=red]\n"               /* line 3: not a string */
                "zzzzzzzz: bold\n"               /* line 4: nothing close */
                "dim: bold\n"                    /* line 5: fine */
                "dim: underline\n"               /* line 6: duplicate; last wins */
                "header: \"bg=#123456\"\n";      /* line 7: RGB */
        struct theme t, def;
        struct theme_warnings w;

        (void)state;
        theme_warnings_init(&w);
        theme_default(&def);
        assert_int_equal(theme_parse_string(y, strlen(y), "bad.yaml", &t, &w), 1);
        assert_int_equal(w.n, 6);
        assert_string_equal(w.v[0], "bad.yaml:1:1: unknown role 'wran' (did you mean 'warn'?)");
        assert_string_equal(w.v[1], "bad.yaml:2:5: role 'ok': bad colour 'purple' (use default, "
                            "black..white, brightblack..brightwhite or colour0-255); using the "
                            "default");
        assert_string_equal(w.v[2], "bad.yaml:3:7: role 'crit' needs a style string such as "
                            "\"fg=yellow,bold\"; using the default");
        assert_string_equal(w.v[3], "bad.yaml:4:1: unknown role 'zzzzzzzz'");
        assert_string_equal(w.v[4], "bad.yaml:6:1: role 'dim' is set twice; the last one wins");
        assert_non_null(strstr(w.v[5], "bad.yaml:7:9: role 'header': RGB colour"));
        /* Each bad role falls back to its default; the rest still apply. */
        assert_memory_equal(&t.role[ROLE_OK], &def.role[ROLE_OK], sizeof def.role[0]);
        assert_memory_equal(&t.role[ROLE_CRIT], &def.role[ROLE_CRIT], sizeof def.role[0]);
        assert_memory_equal(&t.role[ROLE_WARN], &def.role[ROLE_WARN], sizeof def.role[0]);
        assert_memory_equal(&t.role[ROLE_HEADER], &def.role[ROLE_HEADER], sizeof def.role[0]);
        assert_int_equal(t.role[ROLE_DIM].attrs, THEME_A_UNDERLINE);
        assert_int_equal(t.role[ROLE_DIM].fg, THEME_COLOR_DEFAULT);
        theme_warnings_done(&w);
        assert_int_equal(w.n, 0);
}

static void test_parse_string_bad_documents(void **state)
{
        static const char broken[] = "ok: \"fg=red\n";   /* unterminated quote */
        static const char list[] = "- ok\n- warn\n";
        static const char scalar[] = "just a string\n";
        static const char empty[] = "";
        struct theme t, def;
        struct theme_warnings w;

        (void)state;
        theme_default(&def);
        theme_warnings_init(&w);
        assert_int_equal(theme_parse_string(broken, strlen(broken), "b.yaml", &t, &w), -1);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.v[0], "b.yaml:"));
        assert_non_null(strstr(w.v[0], "using the default theme"));
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);

        assert_int_equal(theme_parse_string(list, strlen(list), "l.yaml", &t, &w), -1);
        assert_int_equal(w.n, 1);
        assert_string_equal(w.v[0], "l.yaml:1:1: a theme is a mapping of role: style; "
                            "using the default theme");
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);

        assert_int_equal(theme_parse_string(scalar, strlen(scalar), "s.yaml", &t, &w), -1);
        assert_int_equal(w.n, 1);
        theme_warnings_done(&w);

        assert_int_equal(theme_parse_string(empty, 0, "e.yaml", &t, &w), 0);
        assert_int_equal(w.n, 0);
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);
}

/* Every shipped theme parses without a warning and sets every role;
 * default.yaml is exactly the compiled-in default. */
static void test_shipped_themes(void **state)
{
        static const char *const names[] = { "default", "high-contrast", "monochrome" };
        struct theme def;

        (void)state;
        theme_default(&def);
        for (size_t i = 0; i < LO_ARRAY_LEN(names); i++) {
                char rel[64], *text, *path;
                size_t len;
                struct theme t;
                struct theme_warnings w;

                snprintf(rel, sizeof rel, "themes/%s.yaml", names[i]);
                path = xstrdup(tu_src_path(rel));
                text = tu_read_file(path, &len);
                assert_non_null(text);
                theme_warnings_init(&w);
                assert_int_equal(theme_parse_string(text, len, path, &t, &w), ROLE__COUNT);
                if (w.n)
                        fail_msg("%s: %s", names[i], w.v[0]);
                if (i == 0)
                        assert_memory_equal(&t, &def, sizeof t);
                if (strcmp(names[i], "monochrome") == 0)
                        for (int r = 0; r < ROLE__COUNT; r++) {
                                assert_int_equal(t.role[r].fg, THEME_COLOR_DEFAULT);
                                assert_int_equal(t.role[r].bg, THEME_COLOR_DEFAULT);
                        }
                theme_warnings_done(&w);
                free(text);
                free(path);
        }
}

static void test_find_and_load(void **state)
{
        char dir[] = "/tmp/lo-theme-XXXXXX", *p, file[128];
        struct theme t, def;
        struct theme_warnings w;
        FILE *f;

        (void)state;
        theme_default(&def);
        theme_warnings_init(&w);
        assert_non_null(mkdtemp(dir));
        snprintf(file, sizeof file, "%s/custom.yaml", dir);
        f = fopen(file, "w");
        assert_non_null(f);
        fputs("ok: fg=blue\nbogus: bold\n", f);
        fclose(f);

        /* $LAMBDAOPS_THEMES comes first. */
        setenv("LAMBDAOPS_THEMES", dir, 1);
        p = theme_find("custom");
        assert_non_null(p);
        assert_string_equal(p, file);
        free(p);
        theme_load("custom", &t, &w);
        assert_int_equal(t.role[ROLE_OK].fg, 4);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.v[0], "unknown role 'bogus'"));
        assert_non_null(strstr(w.v[0], file));
        theme_warnings_done(&w);

        /* The source tree's themes/ is searched next. */
        p = theme_find("monochrome");
        assert_non_null(p);
        assert_non_null(strstr(p, "/themes/monochrome.yaml"));
        free(p);
        unsetenv("LAMBDAOPS_THEMES");

        /* A value with '/' is a path. */
        p = theme_find(file);
        assert_string_equal(p, file);
        free(p);
        theme_load(file, &t, &w);
        assert_int_equal(t.role[ROLE_OK].fg, 4);
        theme_warnings_done(&w);

        /* Unknown name: warning, compiled-in default. */
        assert_null(theme_find("no-such-theme"));
        theme_load("no-such-theme", &t, &w);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.v[0], "theme 'no-such-theme' not found"));
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);

        /* Unreadable path: warning, compiled-in default. */
        theme_load("/nonexistent/dir/x.yaml", &t, &w);
        assert_int_equal(w.n, 1);
        assert_string_equal(w.v[0], "cannot read theme /nonexistent/dir/x.yaml; "
                            "using the default theme");
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);

        /* A directory is not a theme either. */
        theme_load(dir, &t, &w);
        assert_int_equal(w.n, 1);
        assert_memory_equal(&t, &def, sizeof t);
        theme_warnings_done(&w);

        /* Nor is a FIFO: refused at once (reading it would block until a
         * writer came), with a warning that says why. */
        {
                char *fifo = xasprintf("%s/fifo.yaml", dir), want[512];

                assert_int_equal(mkfifo(fifo, 0600), 0);
                theme_load(fifo, &t, &w);
                assert_int_equal(w.n, 1);
                snprintf(want, sizeof want, "theme %s is a FIFO; only a regular file is read; "
                         "using the default theme", fifo);
                assert_string_equal(w.v[0], want);
                assert_memory_equal(&t, &def, sizeof t);
                theme_warnings_done(&w);
                unlink(fifo);
                free(fifo);
        }

        /* No name means the default, silently. */
        theme_load(NULL, &t, &w);
        theme_load("", &t, &w);
        assert_int_equal(w.n, 0);

        unlink(file);
        rmdir(dir);
}

static void test_no_color(void **state)
{
        struct theme t;
        struct theme_style st;

        (void)state;
        unsetenv("NO_COLOR");
        assert_true(theme_want_color(false));
        assert_false(theme_want_color(true));
        setenv("NO_COLOR", "", 1);              /* empty means unset (no-color.org) */
        assert_true(theme_want_color(false));
        setenv("NO_COLOR", "1", 1);
        assert_false(theme_want_color(false));
        unsetenv("NO_COLOR");

        theme_default(&t);
        /* With colour: the theme as is. */
        st = theme_resolve(&t, ROLE_WARN, true);
        assert_int_equal(st.fg, 3);
        /* Without: no colours; own attributes kept, monochrome ones added so
         * states stay distinguishable. */
        for (int r = 0; r < ROLE__COUNT; r++) {
                st = theme_resolve(&t, (enum theme_role)r, false);
                assert_int_equal(st.fg, THEME_COLOR_DEFAULT);
                assert_int_equal(st.bg, THEME_COLOR_DEFAULT);
        }
        assert_int_equal(theme_resolve(&t, ROLE_WARN, false).attrs, THEME_A_BOLD);
        assert_int_equal(theme_resolve(&t, ROLE_CRIT, false).attrs,
                         THEME_A_BOLD | THEME_A_UNDERLINE);
        assert_int_equal(theme_resolve(&t, ROLE_SELECTED, false).attrs, THEME_A_REVERSE);
        assert_int_equal(theme_resolve(&t, ROLE_STALE, false).attrs, THEME_A_REVERSE);
        assert_int_equal(theme_resolve(&t, ROLE_HEADER, false).attrs, THEME_A_REVERSE);
        assert_int_equal(theme_resolve(&t, ROLE_OK, false).attrs, 0);
        t.role[ROLE_OK].attrs = THEME_A_ITALIC;
        assert_int_equal(theme_resolve(&t, ROLE_OK, false).attrs, THEME_A_ITALIC);
}

/* docs/keys.md documents every role. */
static void test_docs_list_every_role(void **state)
{
        char *doc = tu_read_file(tu_src_path("docs/keys.md"), NULL);

        (void)state;
        assert_non_null(doc);
        for (int r = 0; r < ROLE__COUNT; r++) {
                char want[64];
                snprintf(want, sizeof want, "| `%s` |", theme_role_name((enum theme_role)r));
                if (!strstr(doc, want))
                        fail_msg("docs/keys.md does not document role %s", want);
        }
        free(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_attr_colours),
                cmocka_unit_test(test_attr_attributes),
                cmocka_unit_test(test_attr_errors),
                cmocka_unit_test(test_roles),
                cmocka_unit_test(test_default_theme),
                cmocka_unit_test(test_parse_string_overrides),
                cmocka_unit_test(test_parse_string_bad_roles),
                cmocka_unit_test(test_parse_string_bad_documents),
                cmocka_unit_test(test_shipped_themes),
                cmocka_unit_test(test_find_and_load),
                cmocka_unit_test(test_no_color),
                cmocka_unit_test(test_docs_list_every_role),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
