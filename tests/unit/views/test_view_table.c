/*
 * test_view_table: the pure half of the generic table pane -- column layout
 * (fixed, flexible with weights and minimums, clipping), text fitting
 * (padding, alignment, ellipsis, UTF-8 width, control characters),
 * sparklines and multi-row charts in UTF-8 and ASCII, scrolling, filtering,
 * row lookup, styled lines, the shared value formatting, the pane
 * registry, and docs/keys.md against the key/command tables. No curses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/health.h"
#include "core/ring.h"
#include "core/snapshot.h"
#include "tu.h"
#include "tui/tui.h"
#include "core/util.h"
#include "views/view.h"
#include "views/overview.h"
#include "views/cdc.h"

static const struct column cols[] = {
        { "A", 5, 0, COL_LEFT },
        { "B", -1, 4, COL_LEFT },
        { "C", 3, 0, COL_RIGHT },
        { "D", -2, 6, COL_LEFT },
        { NULL, 0, 0, COL_LEFT },
};

static void test_layout(void **state)
{
        int w[TABLE_MAX_COLS];

        (void)state;
        assert_int_equal(table_ncols(cols), 4);
        /* Need 5+4+3+6 + 3 separators = 21. At 30, 9 extra: 1/3 and 2/3. */
        assert_int_equal(table_layout(cols, 30, w), 4);
        assert_int_equal(w[0], 5);
        assert_int_equal(w[1], 7);
        assert_int_equal(w[2], 3);
        assert_int_equal(w[3], 12);
        assert_int_equal(w[0] + w[1] + w[2] + w[3] + 3, 30);
        /* Exactly the minimum. */
        table_layout(cols, 21, w);
        assert_int_equal(w[1], 4);
        assert_int_equal(w[3], 6);
        /* Too narrow: clipped from the right. */
        table_layout(cols, 12, w);
        assert_int_equal(w[0], 5);
        assert_int_equal(w[1], 4);
        assert_int_equal(w[2], 1);
        assert_int_equal(w[3], 0);
        table_layout(cols, 3, w);
        assert_int_equal(w[0], 3);
        assert_int_equal(w[1], 0);
}

static void test_text_fit(void **state)
{
        char out[256];

        (void)state;
        assert_int_equal(text_width("abc"), 3);
        assert_int_equal(text_width("\u2581\u2582x"), 3);
        assert_int_equal(text_width(""), 0);

        text_fit("abc", 6, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "abc   ");
        text_fit("abc", 6, COL_RIGHT, "~", out, sizeof out);
        assert_string_equal(out, "   abc");
        text_fit("abcdefgh", 5, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "abcd~");
        text_fit("abcdefgh", 5, COL_RIGHT, "\u2026", out, sizeof out);
        assert_string_equal(out, "abcd\u2026");
        assert_int_equal(text_width(out), 5);
        /* UTF-8 is cut on code points, never inside one. */
        text_fit("\u2581\u2582\u2583\u2584", 3, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "\u2581\u2582~");
        /* Control characters (newlines in an error message) become spaces. */
        text_fit("a\nb\tc", 5, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "a b c");
        text_fit("abc", 0, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "");
        text_fit("abc", 1, COL_LEFT, "\u2026", out, sizeof out);
        assert_string_equal(out, "a");          /* no room for text and ellipsis */
        text_fit(NULL, 2, COL_LEFT, NULL, out, sizeof out);
        assert_string_equal(out, "  ");
        /* A tiny output buffer is never overrun. */
        text_fit("abcdef", 6, COL_LEFT, "~", out, 4);
        assert_string_equal(out, "abc");
}

/* A connector name or a config value with ESC, BEL and C1 (U+009B): what
 * reaches curses is the escaped text, cells and segments store it so, and
 * widths count what is drawn. */
static void test_hostile_text(void **state)
{
        static const char evil[] = "e\x1b[2J\x1b]0;t\x07\xc2\x9b" "1m";
        const char *shown = "e\\x1b[2J\\x1b]0;t\\x07\\u009b1m";
        struct table_rows r;
        struct table_row *row;
        struct tlines l;
        char out[256];

        (void)state;
        assert_int_equal(text_width(evil), (int)strlen(shown));
        text_fit(evil, 40, COL_LEFT, "~", out, sizeof out);
        assert_int_equal(text_width(out), 40);
        assert_memory_equal(out, shown, strlen(shown));
        assert_null(strchr(out, 0x1b));
        /* Clipped on the escaped text; newlines and tabs still spaces. */
        text_fit(evil, 6, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "e\\x1b~");
        text_fit("a\r\nb\x7f", 8, COL_LEFT, "~", out, sizeof out);
        assert_string_equal(out, "a  b\\x7f");

        table_rows_init(&r);
        row = table_rows_add(&r);
        table_cell_set(row, 0, ROLE_DEFAULT, "%s", evil);
        assert_string_equal(row->cell[0].text, shown);
        /* The "/" filter finds what the screen shows. */
        assert_int_equal(table_filter(&r, "\\u009b"), 1);
        table_rows_done(&r);

        tlines_init(&l);
        tlines_add(&l, ROLE_DEFAULT, "name %s", evil);
        tlines_kv(&l, "error", ROLE_ERROR, "%s", evil);
        assert_string_equal(l.v[0].seg[0].text, "name e\\x1b[2J\\x1b]0;t\\x07\\u009b1m");
        assert_string_equal(l.v[1].seg[1].text, shown);
        tlines_done(&l);
}

static void test_sparkline(void **state)
{
        double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
        double flat[] = { 5, 5, 5 };
        double zero[] = { 0, 0 };
        double gap[] = { 1, NAN, 2 };
        char out[256];
        struct ring r;

        (void)state;
        sparkline_values(v, 8, 8, false, out, sizeof out);
        assert_string_equal(out, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
        sparkline_values(v, 8, 8, true, out, sizeof out);
        assert_string_equal(out, " .:-=+*#");
        /* Newest at the right, padded on the left. */
        sparkline_values(v, 8, 10, true, out, sizeof out);
        assert_string_equal(out, "   .:-=+*#");
        /* Only the newest `width` samples, rescaled: 4..7 over 0..7. */
        sparkline_values(v, 8, 4, true, out, sizeof out);
        assert_string_equal(out, "=+*#");
        /* A flat non-zero series sits at the top, zeros at the bottom. */
        sparkline_values(flat, 3, 3, false, out, sizeof out);
        assert_string_equal(out, "\u2588\u2588\u2588");
        sparkline_values(zero, 2, 2, false, out, sizeof out);
        assert_string_equal(out, "\u2581\u2581");
        sparkline_values(gap, 3, 3, true, out, sizeof out);
        assert_string_equal(out, "= #");
        sparkline_values(v, 0, 3, false, out, sizeof out);
        assert_string_equal(out, "   ");

        ring_init(&r);
        for (int i = 0; i < 8; i++)
                ring_push(&r, i * 1000, i);
        sparkline_ring(&r, 8, true, out, sizeof out);
        assert_string_equal(out, " .:-=+*#");
}

static void test_chart(void **state)
{
        double v[] = { 0, 2, 4, 8 };
        char a[64], b[64], *lines[2] = { a, b };

        (void)state;
        /* Two rows = 16 eighths: 0, 4, 8, 16 eighths. */
        sparkline_chart(v, 4, 5, 2, false, lines, sizeof a);
        assert_string_equal(a, "    \u2588");
        assert_string_equal(b, "  \u2584\u2588\u2588");
        sparkline_chart(v, 4, 4, 2, true, lines, sizeof a);
        assert_string_equal(a, "   #");
        assert_string_equal(b, " -##");
}

static void test_scroll(void **state)
{
        size_t sel = 0, top = 0;

        (void)state;
        table_scroll(0, 5, &sel, &top);
        assert_int_equal(sel, 0);
        assert_int_equal(top, 0);
        sel = 7;
        table_scroll(10, 5, &sel, &top);
        assert_int_equal(top, 3);
        sel = 1;
        table_scroll(10, 5, &sel, &top);
        assert_int_equal(top, 1);
        sel = 42;                       /* rows went away */
        table_scroll(4, 5, &sel, &top);
        assert_int_equal(sel, 3);
        assert_int_equal(top, 0);
        sel = 2;
        top = 9;
        table_scroll(10, 0, &sel, &top);        /* no room: still sane */
        assert_int_equal(top, 2);
}

static void test_rows_filter_find(void **state)
{
        struct table_rows r;
        struct table_row *row;

        (void)state;
        table_rows_init(&r);
        for (int i = 0; i < 40; i++) {
                row = table_rows_add(&r);
                snprintf(row->id, sizeof row->id, "id%d", i);
                table_cell_set(row, 0, ROLE_DEFAULT, "Row-%d", i);
                table_cell_set(row, 3, ROLE_WARN, "%s", i % 2 ? "odd" : "EVEN");
        }
        assert_int_equal(r.n, 40);
        assert_int_equal(r.v[5].cell[1].role, ROLE_DEFAULT);
        assert_string_equal(r.v[5].cell[1].text, "");
        assert_int_equal(r.v[5].cell[3].role, ROLE_WARN);
        assert_int_equal(table_find(&r, "id39"), 39);
        assert_int_equal(table_find(&r, "nope"), -1);
        assert_int_equal(table_find(&r, ""), -1);
        assert_int_equal(table_filter(&r, NULL), 40);
        assert_int_equal(table_filter(&r, ""), 40);
        /* Any cell, any case. */
        assert_int_equal(table_filter(&r, "even"), 20);
        assert_string_equal(r.v[1].id, "id2");
        assert_int_equal(table_filter(&r, "ROW-1"), 5);  /* 10 12 14 16 18 */
        assert_string_equal(r.v[0].id, "id10");
        assert_int_equal(table_filter(&r, "zzz"), 0);
        table_rows_clear(&r);
        assert_int_equal(r.n, 0);
        table_rows_done(&r);
}

static void test_tlines(void **state)
{
        struct tlines l;
        char buf[512];

        (void)state;
        tlines_init(&l);
        tlines_seg(&l, ROLE_TITLE, "Title");     /* starts a line */
        tlines_seg(&l, ROLE_DIM, " more");
        tlines_kv(&l, "key", ROLE_OK, "value %d", 1);
        tlines_add(&l, ROLE_DEFAULT, "%s", "");
        for (int i = 0; i < TLINE_SEGS + 3; i++)
                tlines_seg(&l, ROLE_DEFAULT, "%d", i % 10);
        assert_int_equal(l.n, 3);
        tline_text(&l.v[0], buf, sizeof buf);
        assert_string_equal(buf, "Title more");
        tline_text(&l.v[1], buf, sizeof buf);
        assert_string_equal(buf, "  key                  value 1");
        assert_int_equal(l.v[1].seg[1].role, ROLE_OK);
        assert_int_equal(l.v[2].n, TLINE_SEGS);
        tline_text(&l.v[2], buf, sizeof buf);
        assert_string_equal(buf, "012345678");
        tlines_done(&l);
}

static void test_formatting(void **state)
{
        struct source_cfg src = { .name = (char *)"s", .interval_ms = 5000 };
        struct snapshot *s = snapshot_new(&src);
        struct alert_list al;
        enum theme_role role;
        char buf[64];

        (void)state;
        view_fmt_age(NULL, 1000, buf, sizeof buf, &role);
        assert_string_equal(buf, "never");
        assert_int_equal(role, ROLE_UNKNOWN);
        s->collected_at = 1;
        s->collected_mono = 100000;
        view_fmt_age(s, 100400, buf, sizeof buf, &role);
        assert_string_equal(buf, "0s");
        assert_int_equal(role, ROLE_DEFAULT);
        view_fmt_age(s, 110000, buf, sizeof buf, &role);
        assert_string_equal(buf, "10s");
        assert_int_equal(role, ROLE_DEFAULT);
        view_fmt_age(s, 142000, buf, sizeof buf, &role);
        assert_string_equal(buf, "stale 42s");
        assert_int_equal(role, ROLE_STALE);
        snapshot_unref(s);

        view_fmt_metric(THR_BYTES, 1536, buf, sizeof buf);
        assert_string_equal(buf, "1.5 KiB");
        view_fmt_metric(THR_MS, 184000, buf, sizeof buf);
        assert_string_equal(buf, "3m04s");
        view_fmt_metric(THR_COUNT, 12, buf, sizeof buf);
        assert_string_equal(buf, "12");
        view_fmt_metric(THR_RATE, 1.5, buf, sizeof buf);
        assert_string_equal(buf, "1.50/s");
        view_fmt_metric(THR_BYTES, NAN, buf, sizeof buf);
        assert_string_equal(buf, "-");

        assert_int_equal(view_worst(SEV_OK, SEV_WARN), SEV_WARN);
        assert_int_equal(view_worst(SEV_UNKNOWN, SEV_WARN), SEV_UNKNOWN);
        assert_int_equal(view_worst(SEV_UNKNOWN, SEV_CRIT), SEV_CRIT);
        assert_int_equal(view_sev_role(SEV_CRIT), ROLE_CRIT);
        assert_int_equal(view_status_role(COLL_DEGRADED), ROLE_WARN);
        assert_int_equal(view_status_role(COLL_UNKNOWN), ROLE_UNKNOWN);

        alert_list_init(&al);
        health_add(&al, SEV_WARN, &src, "m", "a", NAN, NAN, "x");
        health_add(&al, SEV_CRIT, &src, "m", "b", NAN, NAN, "y");
        assert_int_equal(view_alert_sev(&al, "s", "a"), SEV_WARN);
        assert_int_equal(view_alert_sev(&al, "s", NULL), SEV_CRIT);
        assert_int_equal(view_alert_sev(&al, "s", "c"), SEV_OK);
        assert_int_equal(view_alert_sev(&al, "t", NULL), SEV_OK);
        assert_int_equal(view_alert_sev(NULL, "s", NULL), SEV_OK);
        alert_list_done(&al);

        assert_string_equal(view_glyphs(true)->ellipsis, "~");
        assert_string_equal(view_glyphs(false)->up, "\u2191");
}

static void test_registry(void **state)
{
        (void)state;
        assert_ptr_equal(view_registry[0], &view_overview_ops);
        assert_ptr_equal(view_find("overview"), &view_overview_ops);
        assert_ptr_equal(view_find("cdc"), &view_cdc_ops);
        assert_null(view_find("nope"));
        assert_null(view_find(NULL));
        for (size_t i = 0; view_registry[i]; i++) {
                const struct view_ops *o = view_registry[i];
                assert_non_null(o->name);
                assert_non_null(o->title);
                assert_non_null(o->columns);
                assert_non_null(o->rows);
                assert_true(table_ncols(o->columns) <= TABLE_MAX_COLS);
        }
}

/* docs/keys.md documents every key, pane key, command and pane the help
 * page is generated from. */
static void test_docs_match_tables(void **state)
{
        char *doc = tu_read_file(tu_src_path("docs/keys.md"), NULL);
        char want[128];

        (void)state;
        assert_non_null(doc);
        for (size_t i = 0; tui_keys[i].label; i++) {
                snprintf(want, sizeof want, "| `%s` |", tui_keys[i].label);
                if (!strstr(doc, want))
                        fail_msg("docs/keys.md misses key %s", want);
        }
        for (size_t i = 0; tui_cmds[i].name; i++) {
                snprintf(want, sizeof want, "`:%s`", tui_cmds[i].name);
                if (!strstr(doc, want))
                        fail_msg("docs/keys.md misses command %s", want);
        }
        for (size_t i = 0; view_registry[i]; i++) {
                const struct view_ops *o = view_registry[i];
                snprintf(want, sizeof want, "| `:%s` |", o->name);
                if (!strstr(doc, want))
                        fail_msg("docs/keys.md misses command %s", want);
                snprintf(want, sizeof want, "**%s** (`%s`)", o->title, o->name);
                if (!strstr(doc, want))
                        fail_msg("docs/keys.md misses pane %s", want);
                for (size_t k = 0; o->keys && o->keys[k].label; k++) {
                        snprintf(want, sizeof want, "| %s | `%s` |", o->title, o->keys[k].label);
                        if (!strstr(doc, want))
                                fail_msg("docs/keys.md misses pane key %s", want);
                }
        }
        free(doc);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_text_fit),
                cmocka_unit_test(test_sparkline),
                cmocka_unit_test(test_chart),
                cmocka_unit_test(test_scroll),
                cmocka_unit_test(test_rows_filter_find),
                cmocka_unit_test(test_tlines),
                cmocka_unit_test(test_formatting),
                cmocka_unit_test(test_hostile_text),
                cmocka_unit_test(test_registry),
                cmocka_unit_test(test_docs_match_tables),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
