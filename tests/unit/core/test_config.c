/*
 * Tests for src/core/config.c: malformed files (exact message and location),
 * good files (every parsed value, defaults and overrides), the search order
 * of config_find, and secret resolution.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/fsfile.h"
#include "collectors/postgres.h"
#include "collectors/prometheus.h"
#include "tu.h"
#include "core/util.h"

#define FIXDIR "tests/fixtures/config/"
#define MiB (1024.0 * 1024)
#define GiB (1024.0 * 1024 * 1024)

/* --- malformed files ------------------------------------------------------ */

/* Copies `in` with "%KINDS%" replaced by the registry's kinds, in order
 * ("postgres, reconcile, ..."), so that a new collector kind does not
 * change these expectations. */
static const char *expand_kinds(const char *in, char *out, size_t n)
{
        const char *at = strstr(in, "%KINDS%");
        char list[512] = "";

        if (!at) {
                snprintf(out, n, "%s", in);
                return out;
        }
        for (size_t i = 0; collector_registry[i]; i++) {
                if (i)
                        strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, collector_registry[i]->name, sizeof list - strlen(list) - 1);
        }
        snprintf(out, n, "%.*s%s%s", (int)(at - in), in, list, at + 7);
        return out;
}

struct bad_case {
        const char *file;       /* under tests/fixtures/config/ */
        const char *msg;        /* expected message after "PATH:" */
};

static const struct bad_case bad_cases[] = {
        /* file-level */
        { "bad_empty.yaml", "1:1: configuration is empty" },
        { "bad_comments_only.yaml", "1:1: configuration is empty" },
        { "bad_top_list.yaml",
          "1:1: top level must be a mapping (environment, refresh, theme, read_only, sources), got a list" },
        { "bad_top_scalar.yaml",
          "1:1: top level must be a mapping (environment, refresh, theme, read_only, sources), got a scalar" },
        { "bad_syntax_indent.yaml",
          "2:10: YAML syntax error: mapping values are not allowed in this context" },
        { "bad_syntax_quote.yaml",
          "3:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at 1:14)" },
        { "bad_syntax_flow.yaml",
          "4:1: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at 3:3)" },
        { "bad_syntax_tab.yaml",
          "2:1: YAML syntax error: found character that cannot start any token (tabs are not allowed for indentation)" },
        { "bad_utf8.yaml", "2:11: invalid input: incomplete UTF-8 octet sequence" },
        { "bad_nul.yaml", "1:14: NUL characters are not allowed" },
        { "bad_multi_doc.yaml", "2:1: multiple YAML documents are not supported" },
        { "bad_anchor.yaml", "1:14: anchors and aliases are not supported" },
        { "bad_alias.yaml", "2:8: anchors and aliases are not supported" },
        { "bad_tag.yaml", "2:10: tags are not supported" },
        { "bad_nesting_deep.yaml", "1:77: nesting deeper than 64 levels is not supported" },
        /* top-level keys */
        { "bad_key_typo.yaml", "2:1: unknown key \"refesh\" (did you mean \"refresh\"?)" },
        { "bad_key_unknown.yaml",
          "2:1: unknown key \"colour\" (valid keys: environment, refresh, theme, read_only, "
          "audit_log, listen, kubectl, helm, kubectl_cache_dir, actions, danger_contexts, runbooks, sources)" },
        { "bad_key_dup.yaml", "4:1: duplicate key \"refresh\" (first at line 2, column 1)" },
        { "bad_key_not_scalar.yaml", "2:3: keys must be strings, not a list" },
        { "bad_refresh_no_unit.yaml",
          "1:10: refresh: invalid duration \"5\": missing unit (ms, s, m, h or d)" },
        { "bad_refresh_unit.yaml",
          "1:10: refresh: invalid duration \"5sec\": unknown unit \"sec\" (use ms, s, m, h or d)" },
        { "bad_refresh_negative.yaml",
          "2:10: refresh: invalid duration \"-1s\": negative values are not allowed" },
        { "bad_refresh_range.yaml", "1:10: refresh: must be between 100ms and 1h (got \"10ms\")" },
        { "bad_refresh_map.yaml", "2:3: refresh: expected a duration, got a mapping" },
        { "bad_read_only_yes.yaml", "1:12: read_only: expected true or false, got \"yes\"" },
        { "bad_read_only_quoted.yaml", "1:12: read_only: expected true or false without quotes" },
        { "bad_environment_list.yaml", "1:14: environment: expected a string, got a list" },
        { "bad_environment_null.yaml", "1:13: environment: missing value" },
        { "bad_theme_empty.yaml", "1:8: theme: must not be empty" },
        /* sources */
        { "bad_sources_map.yaml", "2:3: sources: expected a list, got a mapping" },
        { "bad_source_scalar.yaml", "2:5: each source must be a mapping (name, kind, ...), got a scalar" },
        { "bad_source_no_name.yaml", "2:5: source is missing required key \"name\"" },
        { "bad_source_empty_name.yaml", "2:11: name: must not be empty" },
        { "bad_source_name_chars.yaml",
          "2:11: name: invalid source name \"orders db\" (use letters, digits, '.', '_' and '-')" },
        { "bad_source_dup_name.yaml",
          "8:11: duplicate source name \"orders-db\" (first defined at line 2)" },
        { "bad_source_no_kind.yaml",
          "2:5: source \"orders-db\" is missing required key \"kind\" (known kinds: %KINDS%)" },
        { "bad_kind_typo.yaml",
          "3:11: unknown kind \"postgress\" (did you mean \"postgres\"?); known kinds: %KINDS%" },
        { "bad_kind_unknown.yaml", "3:11: unknown kind \"mysql\"; known kinds: %KINDS%" },
        { "bad_kind_list.yaml", "3:11: kind: expected a string, got a list" },
        { "bad_source_key_typo.yaml",
          "4:5: unknown key \"dns\" for kind postgres (did you mean \"dsn\"?)" },
        { "bad_source_key_unknown.yaml",
          "5:5: unknown key \"replicas\" for kind postgres (valid keys: name, kind, interval, "
          "timeout, thresholds, for, keep_firing_for, dsn, password_env, password_file, sslmode)" },
        { "bad_source_dup_key.yaml", "6:5: duplicate key \"dsn\" (first at line 4, column 5)" },
        { "bad_dsn_missing.yaml",
          "2:5: source \"orders-db\" is missing required key \"dsn\" (kind postgres)" },
        { "bad_dsn_map.yaml", "5:7: dsn: expected a string, got a mapping" },
        { "bad_password_both.yaml", "6:5: password_env and password_file are exclusive" },
        { "bad_password_env_value.yaml",
          "5:19: password_env: expected the name of an environment variable (letters, digits "
          "and _), not the secret itself" },
        { "bad_interval_space.yaml",
          "5:15: interval: invalid duration \"5 s\": spaces are not allowed" },
        { "bad_interval_frac_ms.yaml",
          "5:15: interval: invalid duration \"1.5ms\": finer than a millisecond" },
        { "bad_timeout_zero.yaml", "5:14: timeout: must be between 1ms and 10m (got \"0s\")" },
        { "bad_timeout_huge.yaml", "5:14: timeout: must be between 1ms and 10m (got \"2h\")" },
        /* thresholds */
        { "bad_thresholds_list.yaml",
          "6:7: thresholds: expected a mapping of metric: {warn: X, crit: Y}, got a list" },
        { "bad_threshold_typo.yaml",
          "6:7: unknown threshold \"slot_lag\" for kind postgres (did you mean \"slot_lag_bytes\"?)" },
        { "bad_threshold_unknown.yaml",
          "6:7: unknown threshold \"cpu_percent\" for kind postgres (known: slot_lag_bytes, "
          "retained_bytes, slot_inactive_ms, sender_lag_ms)" },
        { "bad_threshold_scalar.yaml",
          "6:23: slot_lag_bytes: expected {warn: X, crit: Y, for: D, keep_firing_for: D} or off, got a single value" },
        { "bad_threshold_key_typo.yaml",
          "6:24: slot_lag_bytes: unknown key \"warning\" (did you mean \"warn\"?)" },
        { "bad_threshold_order.yaml",
          "6:23: slot_lag_bytes: warn (2.0 GiB) is above crit (256.0 MiB)" },
        { "bad_threshold_order_default.yaml",
          "6:23: retained_bytes: warn (10.0 GiB) is above crit (8.0 GiB, the default)" },
        { "bad_threshold_size.yaml",
          "8:15: slot_lag_bytes.crit: invalid size \"1.5.2GB\": malformed number" },
        { "bad_threshold_unit_case.yaml",
          "6:30: slot_lag_bytes.warn: invalid size \"256mib\": unknown unit \"mib\" (did you mean \"MiB\"?)" },
        { "bad_threshold_ms_unit.yaml",
          "6:29: sender_lag_ms.warn: invalid duration \"5MiB\": unknown unit \"MiB\" (use ms, s, m, h or d)" },
        { "bad_threshold_exponent.yaml",
          "6:32: slot_inactive_ms.crit: invalid duration \"1e3s\": exponents are not allowed" },
        /* lists of mappings */
        { "bad_maplist_expr_empty.yaml", "8:27: queries[2].expr: must not be empty" },
};

static void test_bad_fixtures(void **state)
{
        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad_cases); i++) {
                char path[PATH_MAX], want[PATH_MAX + 512];
                struct err e;
                struct config *c;

                snprintf(path, sizeof path, "%s", tu_src_path(FIXDIR));
                strncat(path, bad_cases[i].file, sizeof path - strlen(path) - 1);
                c = config_load_file(path, &e);
                if (c)
                        fail_msg("%s: loaded, expected \"%s\"", bad_cases[i].file, bad_cases[i].msg);
                char msg[512];

                snprintf(want, sizeof want, "%s:%s", path,
                         expand_kinds(bad_cases[i].msg, msg, sizeof msg));
                assert_string_equal(e.msg, want);
                assert_int_not_equal(e.code, 0);
        }
}

/* Every bad_*.yaml in the fixture folder has a row above, and there are
 * plenty of them. */
static void test_bad_fixtures_all_listed(void **state)
{
        DIR *d = opendir(tu_src_path(FIXDIR));
        struct dirent *de;
        size_t n = 0;

        (void)state;
        assert_non_null(d);
        while ((de = readdir(d))) {
                bool found = false;

                if (strncmp(de->d_name, "bad_", 4) != 0)
                        continue;
                n++;
                for (size_t i = 0; i < LO_ARRAY_LEN(bad_cases); i++)
                        if (strcmp(bad_cases[i].file, de->d_name) == 0)
                                found = true;
                if (!found)
                        fail_msg("fixture %s has no expected message", de->d_name);
        }
        closedir(d);
        assert_int_equal(n, LO_ARRAY_LEN(bad_cases));
        assert_true(n >= 30);
}

/* Same checks on in-memory text, for cases that want no fixture file. */
struct str_case {
        const char *yaml;
        const char *msg;        /* full message; name is "t.yaml" */
};

static const struct str_case str_cases[] = {
        { "read-only: true\n", "t.yaml:1:1: unknown key \"read-only\" (did you mean \"read_only\"?)" },
        { "Refresh: 1s\n", "t.yaml:1:1: unknown key \"Refresh\" (did you mean \"refresh\"?)" },
        { "source:\n  - name: a\n", "t.yaml:1:1: unknown key \"source\" (did you mean \"sources\"?)" },
        { "x: 1\n", "t.yaml:1:1: unknown key \"x\" (valid keys: environment, refresh, theme, "
          "read_only, audit_log, listen, kubectl, helm, kubectl_cache_dir, actions, danger_contexts, "
          "runbooks, sources)" },
        { "{}\n", NULL },       /* an empty mapping is a valid, empty config */
        { "---\n", "t.yaml:1:1: configuration is empty" },
        { "\n\n# just a comment\n", "t.yaml:1:1: configuration is empty" },
        { "~\n", "t.yaml:1:1: configuration is empty" },
        { "a: 1\n...\n---\nb: 2\n", "t.yaml:3:1: multiple YAML documents are not supported" },
        { "environment: !!str prod\n", "t.yaml:1:14: tags are not supported" },
        { "base: &b {x: 1}\n", "t.yaml:1:7: anchors and aliases are not supported" },
        { "\"\": 1\n", "t.yaml:1:1: empty key" },
        { "{a: 1}: 2\n", "t.yaml:1:1: keys must be strings, not a mapping" },
        { "refresh: 1s\nrefresh: 1s\nrefresh: 1s\n",
          "t.yaml:2:1: duplicate key \"refresh\" (first at line 1, column 1)" },
        { "theme: a\nread_only: true\nenvironment: x\nread_only: false\ntheme: b\n",
          "t.yaml:4:1: duplicate key \"read_only\" (first at line 2, column 1)" },
        { "refresh: 2d\n", "t.yaml:1:10: refresh: must be between 100ms and 1h (got \"2d\")" },
        { "refresh: \"\"\n", "t.yaml:1:10: refresh: empty duration; expected a number and a unit (ms, s, m, h or d)" },
        { "read_only: True\n", "t.yaml:1:12: read_only: expected true or false, got \"True\"" },
        { "read_only: [true]\n", "t.yaml:1:12: read_only: expected true or false, got a list" },
        { "read_only:\n", "t.yaml:1:11: read_only: missing value" },
        { "sources: 3\n", "t.yaml:1:10: sources: expected a list, got a scalar" },
        { "sources:\n  - null\n", "t.yaml:2:5: each source must be a mapping (name, kind, ...), got nothing" },
        { "sources:\n  - {name: [a], kind: postgres}\n", "t.yaml:2:12: name: expected a string, got a list" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, interval: 50ms}\n",
          "t.yaml:2:54: interval: must be between 100ms and 1d (got \"50ms\")" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, interval: 2d}\n",
          "t.yaml:2:54: interval: must be between 100ms and 1d (got \"2d\")" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, timeout: 5}\n",
          "t.yaml:2:53: timeout: invalid duration \"5\": missing unit (ms, s, m, h or d)" },
        { "sources:\n  - {name: a, kind: postgres, dsn: \"\"}\n", "t.yaml:2:36: dsn: must not be empty" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, sslmode: ~}\n",
          "t.yaml:2:53: sslmode: missing value" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, password_file: [a]}\n",
          "t.yaml:2:59: password_file: expected a string, got a list" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, password_file: f, password_env: E}\n",
          "t.yaml:2:62: password_env and password_file are exclusive" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, password_env: 1PW}\n",
          "t.yaml:2:58: password_env: expected the name of an environment variable (letters, "
          "digits and _), not the secret itself" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, thresholds: 5}\n",
          "t.yaml:2:56: thresholds: expected a mapping of metric: {warn: X, crit: Y}, got a scalar" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, thresholds: {slot_lag_bytes: [1]}}\n",
          "t.yaml:2:73: slot_lag_bytes: expected {warn: X, crit: Y, for: D, keep_firing_for: D} or off, got a list" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, thresholds: {slot_lag_bytes: {crit: -1}}}\n",
          "t.yaml:2:80: slot_lag_bytes.crit: invalid size \"-1\": negative values are not allowed" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, thresholds: {slot_lag_bytes: {crit: {}}}}\n",
          "t.yaml:2:80: slot_lag_bytes.crit: expected a size, got a mapping" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, thresholds: {sender_lag_ms: {warn: 10m}}}\n",
          "t.yaml:2:72: sender_lag_ms: warn (10m00s) is above crit (5m00s, the default)" },
        { "sources:\n  - {name: a, kind: postgres}\n  - {name: b, kind: postgres, dsn: host=x}\n",
          "t.yaml:2:5: source \"a\" is missing required key \"dsn\" (kind postgres)" },
        { "sources:\n  - {name: a, kind: pg, dsn: host=x}\n",
          "t.yaml:2:21: unknown kind \"pg\"; known kinds: %KINDS%" },
        { "sources:\n  - {name: a, kind: Postgres, dsn: host=x}\n",
          "t.yaml:2:21: unknown kind \"Postgres\" (did you mean \"postgres\"?); known kinds: %KINDS%" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, intervall: 1s}\n",
          "t.yaml:2:44: unknown key \"intervall\" for kind postgres (did you mean \"interval\"?)" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x, pasword_env: X}\n",
          "t.yaml:2:44: unknown key \"pasword_env\" for kind postgres (did you mean \"password_env\"?)" },
        { "sources:\n  - {name: \"a/b\", kind: postgres, dsn: host=x}\n",
          "t.yaml:2:12: name: invalid source name \"a/b\" (use letters, digits, '.', '_' and '-')" },
        { "sources:\n  - {name: a, kind: postgres, dsn: host=x}\n  - {kind: postgres, name: a, dsn: host=y}\n",
          "t.yaml:3:28: duplicate source name \"a\" (first defined at line 2)" },
        /* Columns count characters, not bytes. */
        { "{environment: caf\xc3\xa9, refesh: 1s}\n",
          "t.yaml:1:21: unknown key \"refesh\" (did you mean \"refresh\"?)" },
        { "environment: caf\xc3\xa9\nsources:\n\t- a\n",
          "t.yaml:3:1: YAML syntax error: found character that cannot start any token (tabs are "
          "not allowed for indentation)" },
        { "\xef\xbb\xbf" "environment: \xc3\xa9\xc3\xa9\nsources:\n\t- a\n",
          "t.yaml:3:1: YAML syntax error: found character that cannot start any token (tabs are "
          "not allowed for indentation)" },
        /* Long user text is shortened in messages. */
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
          "t.yaml:1:1: unknown key \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" (valid keys: "
          "environment, refresh, theme, read_only, audit_log, listen, kubectl, helm, "
          "kubectl_cache_dir, actions, danger_contexts, runbooks, sources)" },
        /* Control characters never reach the terminal raw. */
        { "\"ref\\tresh\": 1s\n", "t.yaml:1:1: unknown key \"ref?resh\" (did you mean \"refresh\"?)" },
        /* Nested mappings (CFG_MAP), name maps (CFG_STRMAP) and references
         * to other sources (CFG_SOURCE), through the reconcile kind. */
#define RC_P "sources:\n  - {name: p, kind: postgres, dsn: host=h}\n"
#define RC_C "  - {name: c, kind: reconcile, key: [k], measures: [m], "
        { RC_P RC_C "speed: {source: pp, query: q}, batch: {source: p, query: q}}\n",
          "t.yaml:3:73: speed.source: no source named \"pp\" (sources: p, c)" },
        { RC_P RC_C "speed: {source: wharehouse, query: q}, batch: {source: p, query: q}}\n"
          "  - {name: warehouse, kind: postgres, dsn: host=h}\n",
          "t.yaml:3:73: speed.source: no source named \"wharehouse\" (did you mean \"warehouse\"?)" },
        { RC_P RC_C "speed: {source: c, query: q}, batch: {source: p, query: q}}\n",
          "t.yaml:3:73: speed.source: source \"c\" cannot refer to itself" },
        { RC_P RC_C "speed: {source: p, qeury: q}, batch: {source: p, query: q}}\n",
          "t.yaml:3:76: speed: unknown key \"qeury\" (did you mean \"query\"?)" },
        { RC_P RC_C "speed: {source: p, sql: q}, batch: {source: p, query: q}}\n",
          "t.yaml:3:76: speed: unknown key \"sql\" (valid keys: source, query)" },
        { RC_P RC_C "speed: {source: p}, batch: {source: p, query: q}}\n",
          "t.yaml:3:64: speed: missing required key \"query\"" },
        { RC_P RC_C "speed: \"SELECT 1\", batch: {source: p, query: q}}\n",
          "t.yaml:3:64: speed: expected a mapping, got a scalar" },
        { RC_P RC_C "speed: ~, batch: {source: p, query: q}}\n", "t.yaml:3:64: speed: missing value" },
        { RC_P RC_C "speed: {source: [p], query: q}, batch: {source: p, query: q}}\n",
          "t.yaml:3:73: speed.source: expected a string, got a list" },
        { RC_P RC_C "speed: {source: p, query: \"\"}, batch: {source: p, query: q}}\n",
          "t.yaml:3:83: speed.query: must not be empty" },
        { RC_P RC_C "speed: {source: p, query: q}, batch: {source: p, query: q}, tolerance: [1]}\n",
          "t.yaml:3:128: tolerance: expected a mapping, got a list" },
        { RC_P RC_C "speed: {source: p, query: q}, batch: {source: p, query: q}, tolerance: {m: [1]}}\n",
          "t.yaml:3:132: tolerance.m: expected a string, got a list" },
        /* Dotted table entries are not keys at the source's top level. */
        { RC_P RC_C "speed: {source: p, query: q}, batch: {source: p, query: q}, speed.query: x}\n",
          "t.yaml:3:117: unknown key \"speed.query\" for kind reconcile (did you mean \"speed\"?)" },
        /* A reference may point forward; the kind's validate() runs after
         * resolution. */
        { "sources:\n" RC_C "speed: {source: p, query: q}, batch: {source: p, query: q}}\n"
          "  - {name: p, kind: postgres, dsn: host=h}\n", NULL },
#undef RC_P
#undef RC_C
        /* Lists of mappings (CFG_MAPLIST), through the prometheus kind's
         * queries: [{name, expr, unit, warn, crit}]. */
#define PQ "sources:\n  - name: m\n    kind: prometheus\n    url: http://h:9090\n    queries:"
        { PQ " 5\n", "t.yaml:5:14: queries: expected a list of mappings, got a scalar" },
        { PQ " {lag: up}\n", "t.yaml:5:14: queries: expected a list of mappings, got a mapping" },
        { PQ "\n", "t.yaml:5:13: queries: missing value" },
        { PQ " []\n", NULL },
        { PQ "\n      - up\n", "t.yaml:6:9: queries[0]: expected a mapping, got a scalar" },
        { PQ "\n      - {name: a, expr: up}\n      -\n      - {name: c, expr: up}\n",
          "t.yaml:7:8: queries[1]: expected a mapping, got nothing" },
        { PQ "\n      - [a, up]\n", "t.yaml:6:9: queries[0]: expected a mapping, got a list" },
        { PQ "\n      - {name: a, exp: up}\n",
          "t.yaml:6:19: queries[0]: unknown key \"exp\" (did you mean \"expr\"?)" },
        { PQ "\n      - {name: a, expr: up, labels: x}\n",
          "t.yaml:6:29: queries[0]: unknown key \"labels\" (valid keys: name, expr, unit, warn, "
          "crit)" },
        { PQ "\n      - {name: a, expr: up}\n      - {name: b}\n",
          "t.yaml:7:9: queries[1]: missing required key \"expr\"" },
        { PQ "\n      - {name: a, expr: up}\n      - name: b\n        expr: up\n"
          "      - name: c\n        expr: \"\"\n",
          "t.yaml:10:15: queries[2].expr: must not be empty" },
        { PQ "\n      - {name: a, expr: [up]}\n", "t.yaml:6:25: queries[0].expr: expected a string, got a list" },
        { PQ "\n      - {name: a, expr: up, unit: ~}\n", "t.yaml:6:35: queries[0].unit: missing value" },
        /* CFG_UNIQUE: no two elements share a name. */
        { PQ "\n      - {name: lag, expr: up}\n      - {name: urp, expr: up}\n"
          "      - {name: lag, expr: down}\n",
          "t.yaml:8:16: queries[2].name: duplicate \"lag\" (first defined at line 6)" },
        /* Entries for list elements are not keys of the source. */
        { PQ " []\n    queries[]: x\n",
          "t.yaml:6:5: unknown key \"queries[]\" for kind prometheus (did you mean \"queries\"?)" },
        { PQ " []\n    queries[].name: x\n",
          "t.yaml:6:5: unknown key \"queries[].name\" for kind prometheus (did you mean \"queries\"?)" },
#undef PQ
        /* The alert lifecycle: for / keep_firing_for per threshold and per
         * source (0 to 7 days), and the top-level listen address. */
#define PG "sources:\n  - {name: p, kind: postgres, dsn: host=h, "
        { PG "for: 5}\n", "t.yaml:2:49: for: invalid duration \"5\": missing unit "
          "(ms, s, m, h or d)" },
        { PG "keep_firing_for: 8d}\n",
          "t.yaml:2:61: keep_firing_for: must be at most 7d (got \"8d\")" },
        { PG "keep_firing_for: -1s}\n", "t.yaml:2:61: keep_firing_for: invalid duration "
          "\"-1s\": negative values are not allowed" },
        { PG "fro: 1m}\n", "t.yaml:2:44: unknown key \"fro\" for kind postgres (did you mean "
          "\"for\"?)" },
        { PG "thresholds: {slot_lag_bytes: {warn: 1, for: [1m]}}}\n",
          "t.yaml:2:88: slot_lag_bytes.for: expected a duration, got a list" },
        { PG "thresholds: {slot_lag_bytes: {keep_firing: 1m}}}\n",
          "t.yaml:2:74: slot_lag_bytes: unknown key \"keep_firing\" (did you mean "
          "\"keep_firing_for\"?)" },
        { PG "thresholds: {slot_lag_bytes: {for: 1w}}}\n",
          "t.yaml:2:79: slot_lag_bytes.for: invalid duration \"1w\": unknown unit \"w\" "
          "(use ms, s, m, h or d)" },
#undef PG
        { "listen: x9\n", "t.yaml:1:9: listen: the port must be a number from 0 to 65535 (0: "
          "any free port)" },
        { "listen: \"127.0.0.1:65536\"\n",
          "t.yaml:1:9: listen: the port must be a number from 0 to 65535 (0: any free port)" },
        { "listen: \"::1:9464\"\n",
          "t.yaml:1:9: listen: an IPv6 address goes in brackets: [::1]:9464" },
        { "listen: \"a b:1\"\n", "t.yaml:1:9: listen: \"a b\" is not an IP address or host name" },
        { "listen: \"[::1]9464\"\n", "t.yaml:1:9: listen: expected [IPV6]:PORT" },
        { "listen: [9464]\n", "t.yaml:1:9: listen: expected HOST:PORT, got a list" },
        /* kafka quorum_prometheus: must name a prometheus source. */
        { "sources:\n  - {name: pg, kind: postgres, dsn: host=x}\n"
          "  - {name: k, kind: kafka, bootstrap: \"b1:9092\", quorum_prometheus: pg}\n",
          "t.yaml:3:5: source \"k\": quorum_prometheus: source \"pg\" is of kind postgres, "
          "not prometheus" },
};

static void test_bad_strings(void **state)
{
        char want[512];
        int bad = 0;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(str_cases); i++) {
                struct err e;
                struct config *c = config_load_string(str_cases[i].yaml, strlen(str_cases[i].yaml),
                                                      "t.yaml", &e);

                if (!str_cases[i].msg) {
                        if (!c)
                                fail_msg("case %zu: %s", i, e.msg);
                        config_free(c);
                        continue;
                }
                if (c) {
                        print_error("case %zu loaded, expected \"%s\"\n", i, str_cases[i].msg);
                        config_free(c);
                        bad++;
                } else if (strcmp(e.msg, expand_kinds(str_cases[i].msg, want, sizeof want)) != 0) {
                        print_error("case %zu:\n  got  %s\n  want %s\n", i, e.msg, want);
                        bad++;
                }
        }
        assert_int_equal(bad, 0);
}

/* The secret-looking value of a bad password_env is not echoed. */
static void test_bad_secret_not_echoed(void **state)
{
        const char *y = "sources:\n  - {name: a, kind: postgres, dsn: \"password=s3cr3t\","
                        " password_env: \"hunter2 pw\"}\n";
        struct err e;

        (void)state;
        assert_null(config_load_string(y, strlen(y), "t.yaml", &e));
        assert_null(strstr(e.msg, "hunter2"));
        assert_null(strstr(e.msg, "s3cr3t"));
}

/* The kind's own validate() runs after the generic checks; its message
 * gets the source's location and name. Its wording belongs to the
 * collector, so only the frame is checked here. */
static void test_kind_validate(void **state)
{
        const char *y = "environment: x\nsources:\n  - name: a\n    kind: postgres\n"
                        "    dsn: \"host=x\"\n    sslmode: bogus\n";
        const char *pre = "t.yaml:3:5: source \"a\": ";
        struct err e;

        (void)state;
        assert_null(config_load_string(y, strlen(y), "t.yaml", &e));
        assert_memory_equal(e.msg, pre, strlen(pre));
        assert_non_null(strstr(e.msg, "sslmode"));
}

static void test_load_edges(void **state)
{
        struct err e;
        char want[512];
        char *big;
        size_t n;

        (void)state;
        /* NULL name and NULL text. */
        assert_null(config_load_string(NULL, 0, NULL, &e));
        assert_string_equal(e.msg, "<string>:1:1: configuration is empty");

        /* Missing file. */
        assert_null(config_load_file("/nonexistent/lambdaops.yaml", &e));
        snprintf(want, sizeof want, "cannot open config file /nonexistent/lambdaops.yaml: %s",
                 strerror(ENOENT));
        assert_string_equal(e.msg, want);

        /* A directory. */
        assert_null(config_load_file(tu_src_path("tests/fixtures/config"), &e));
        snprintf(want, sizeof want, "config file %s is a directory; only a regular file is read",
                 tu_src_path("tests/fixtures/config"));
        assert_string_equal(e.msg, want);

        /* More than 1 MiB. */
        n = 1024 * 1024 + 10;
        big = xmalloc(n);
        memset(big, '#', n);
        assert_null(config_load_string(big, n, "big.yaml", &e));
        assert_string_equal(e.msg, "big.yaml:1:1: configuration is larger than 1024 KiB");
        free(big);

        /* Deep block nesting: 200 levels of mappings. */
        {
                size_t cap = 200 * 220, o = 0;
                char *y = xmalloc(cap);

                for (int i = 0; i < 200; i++)
                        o += (size_t)snprintf(y + o, cap - o, "%*sk%d:\n", i, "", i);
                assert_null(config_load_string(y, o, "deep.yaml", &e));
                assert_string_equal(e.msg, "deep.yaml:65:65: nesting deeper than 64 levels is not supported");
                free(y);
        }

        /* Many keys in one mapping: duplicate found without quadratic work. */
        {
                size_t cap = 60000 * 16, o = 0;
                char *y = xmalloc(cap);

                for (int i = 0; i < 60000; i++)
                        o += (size_t)snprintf(y + o, cap - o, "k%d: 1\n", i % 59999);
                assert_null(config_load_string(y, o, "wide.yaml", &e));
                assert_string_equal(e.msg, "wide.yaml:60000:1: duplicate key \"k0\" (first at line 1, column 1)");
                free(y);
        }
}

/* --- good files --------------------------------------------------------------- */

static struct config *load_fixture(const char *name)
{
        char path[PATH_MAX];
        struct err e;
        struct config *c;

        snprintf(path, sizeof path, "%s", tu_src_path(FIXDIR));
        strncat(path, name, sizeof path - strlen(path) - 1);
        c = config_load_file(path, &e);
        if (!c)
                fail_msg("%s: %s", name, e.msg);
        assert_int_equal(e.code, 0);
        assert_string_equal(c->path, path);
        return c;
}

static void assert_thr(const struct source_cfg *s, size_t i, const char *name, double warn, double crit)
{
        assert_true(i < s->n_thresholds);
        assert_string_equal(s->thresholds[i].def->name, name);
        assert_ptr_equal(config_threshold(s, name), &s->thresholds[i]);
        if (isnan(warn))
                assert_true(isnan(s->thresholds[i].warn));
        else
                assert_true(s->thresholds[i].warn == warn);
        if (isnan(crit))
                assert_true(isnan(s->thresholds[i].crit));
        else
                assert_true(s->thresholds[i].crit == crit);
}

static void test_good_minimal(void **state)
{
        struct config *c = load_fixture("good_minimal.yaml");
        const struct source_cfg *s;
        const struct pg_cfg *pg;

        (void)state;
        assert_string_equal(c->environment, "default");
        assert_int_equal(c->refresh_ms, 1000);
        assert_string_equal(c->theme, "default");
        assert_false(c->read_only);
        assert_int_equal(c->n_sources, 1);

        s = &c->sources[0];
        assert_ptr_equal(config_source(c, "orders-db"), s);
        assert_null(config_source(c, "nope"));
        assert_string_equal(s->name, "orders-db");
        assert_string_equal(s->kind, "postgres");
        assert_ptr_equal(s->ops, &coll_postgres_ops);
        assert_int_equal(s->interval_ms, coll_postgres_ops.default_interval_ms);
        assert_int_equal(s->interval_ms, 5000);
        assert_int_equal(s->timeout_ms, 3000);
        assert_int_equal(s->line, 3);
        assert_int_equal(s->col, 5);
        assert_int_equal(s->n_thresholds, 4);
        assert_thr(s, 0, "slot_lag_bytes", 256 * MiB, 2 * GiB);
        assert_thr(s, 1, "retained_bytes", 1 * GiB, 8 * GiB);
        assert_thr(s, 2, "slot_inactive_ms", 5 * 60 * 1000, 30 * 60 * 1000);
        assert_thr(s, 3, "sender_lag_ms", 30 * 1000, 5 * 60 * 1000);
        for (size_t i = 0; i < s->n_thresholds; i++)
                assert_ptr_equal(s->thresholds[i].def, &coll_postgres_ops.thresholds[i]);
        assert_null(config_threshold(s, "nope"));

        pg = s->kind_cfg;
        assert_non_null(pg);
        assert_string_equal(pg->dsn, "host=127.0.0.1 dbname=orders");
        assert_null(pg->password_env);
        assert_null(pg->password_file);
        assert_null(pg->sslmode);
        config_free(c);
}

/* for / keep_firing_for: a threshold's own, else its source's, else 0;
 * the source's own alerts (down, degraded) take the source's. */
static void test_alert_timing(void **state)
{
        static const char y[] =
                "listen: 9464\n"
                "sources:\n"
                "  - name: p\n"
                "    kind: postgres\n"
                "    dsn: host=h\n"
                "    thresholds:\n"
                "      slot_lag_bytes: {warn: 1MiB, for: 2m, keep_firing_for: 0s}\n"
                "      retained_bytes: {for: 30s}\n"
                "    keep_firing_for: 5m\n"
                "  - {name: q, kind: postgres, dsn: host=h}\n";
        struct err e;
        struct config *c = config_load_string(y, sizeof y - 1, "t.yaml", &e);
        const struct source_cfg *p, *q;
        int64_t f, k;

        (void)state;
        if (!c)
                fail_msg("%s", e.msg);
        assert_string_equal(c->listen, "127.0.0.1:9464");
        p = config_source(c, "p");
        q = config_source(c, "q");
        assert_int_equal(p->timing.for_ms, 0);
        assert_int_equal(p->timing.keep_firing_for_ms, 5 * 60000);
        config_alert_timing(p, "slot_lag_bytes", &f, &k);
        assert_int_equal(f, 2 * 60000);
        assert_int_equal(k, 0);
        config_alert_timing(p, "retained_bytes", &f, &k);
        assert_int_equal(f, 30000);
        assert_int_equal(k, 5 * 60000);         /* the source's */
        config_alert_timing(p, "sender_lag_ms", &f, &k);
        assert_int_equal(f, 0);
        assert_int_equal(k, 5 * 60000);
        config_alert_timing(p, "status", &f, &k);
        assert_int_equal(f, 0);
        assert_int_equal(k, 5 * 60000);
        config_alert_timing(q, "slot_lag_bytes", &f, &k);
        assert_int_equal(f, 0);
        assert_int_equal(k, 0);
        config_alert_timing(NULL, "slot_lag_bytes", &f, &k);
        assert_int_equal(f, 0);
        assert_int_equal(k, 0);
        config_free(c);
}

static void test_listen(void **state)
{
        static const struct { const char *in, *out; } ok[] = {
                { "9464", "127.0.0.1:9464" }, { ":9464", "127.0.0.1:9464" },
                { "0.0.0.0:80", "0.0.0.0:80" }, { "[::1]:9464", "[::1]:9464" },
                { "metrics.example-1.net:65535", "metrics.example-1.net:65535" },
                { "0", "127.0.0.1:0" },         /* any free port (tests) */
        };
        static const char *const bad[] = { "", ":", "-1", "65536", "x:", "[::1]", "[]:1",
                                           "h:p", "h:+1", "::1:80", "h\t:1", "h:000001" };
        char out[320];
        struct err e;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(ok); i++) {
                assert_int_equal(config_parse_listen(ok[i].in, out, sizeof out, &e), 0);
                assert_string_equal(out, ok[i].out);
        }
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++)
                if (config_parse_listen(bad[i], out, sizeof out, &e) == 0)
                        fail_msg("\"%s\" accepted as %s", bad[i], out);
}

static void test_good_full(void **state)
{
        struct config *c = load_fixture("good_full.yaml");
        const struct source_cfg *s;
        const struct pg_cfg *pg;

        (void)state;
        assert_string_equal(c->environment, "prod-eu");
        assert_int_equal(c->refresh_ms, 250);
        assert_string_equal(c->theme, "themes/high-contrast.yaml");
        assert_true(c->read_only);
        assert_int_equal(c->n_sources, 3);

        /* Overrides of everything, thresholds in several units and forms. */
        s = &c->sources[0];
        assert_string_equal(s->name, "orders-db");
        assert_string_equal(s->kind, "postgres");
        assert_int_equal(s->interval_ms, 1500);
        assert_int_equal(s->timeout_ms, 120000);
        assert_int_equal(s->line, 8);
        assert_int_equal(s->col, 5);
        assert_thr(s, 0, "slot_lag_bytes", 512 * 1024, 1.5e9);
        assert_thr(s, 1, "retained_bytes", 100, 1024);
        assert_thr(s, 2, "slot_inactive_ms", 90000, 3600000);
        assert_thr(s, 3, "sender_lag_ms", NAN, NAN);
        pg = s->kind_cfg;
        assert_string_equal(pg->dsn, "host=10.0.0.5 port=5433 dbname=orders user=lambdaops");
        assert_string_equal(pg->password_env, "ORDERS_DB_PASSWORD");
        assert_null(pg->password_file);
        assert_string_equal(pg->sslmode, "require");

        /* Keys in another order; partial and disabled thresholds; defaults. */
        s = &c->sources[1];
        assert_string_equal(s->name, "billing_db.v2");
        assert_int_equal(s->interval_ms, 5000);
        assert_int_equal(s->timeout_ms, 3000);
        assert_int_equal(s->line, 23);
        assert_thr(s, 0, "slot_lag_bytes", NAN, 2.0 * 1024 * 1024 * 1024 * 1024);
        assert_thr(s, 1, "retained_bytes", 1 * GiB, NAN);
        assert_thr(s, 2, "slot_inactive_ms", 5 * 60 * 1000, 30 * 60 * 1000);
        assert_thr(s, 3, "sender_lag_ms", NAN, NAN);
        pg = s->kind_cfg;
        assert_string_equal(pg->dsn, "host=billing dbname=billing");
        assert_null(pg->password_env);
        assert_string_equal(pg->password_file, "/run/secrets/billing");
        assert_null(pg->sslmode);

        /* Flow style, bounds of interval and timeout. */
        s = &c->sources[2];
        assert_string_equal(s->name, "replica-3");
        assert_int_equal(s->interval_ms, 86400000);
        assert_int_equal(s->timeout_ms, 1);
        assert_int_equal(s->line, 33);
        assert_int_equal(s->col, 5);
        assert_thr(s, 0, "slot_lag_bytes", 256 * MiB, 2 * GiB);
        assert_string_equal(((const struct pg_cfg *)s->kind_cfg)->dsn, "host=r3");

        assert_ptr_equal(config_source(c, "billing_db.v2"), &c->sources[1]);
        config_free(c);
}

/* CFG_MAPLIST: every element parsed in order, optional keys NULL, an
 * empty list; config_free() frees the elements (ASan checks). */
static void test_good_maplist(void **state)
{
        struct config *c = load_fixture("good_maplist.yaml");
        const struct prom_cfg *pc;
        const struct prom_query *q;

        (void)state;
        assert_int_equal(c->n_sources, 2);
        pc = c->sources[0].kind_cfg;
        assert_string_equal(pc->url, "http://127.0.0.1:9090");
        assert_int_equal(pc->queries.n, 3);
        q = pc->queries.v;
        assert_string_equal(q[0].name, "consumer_lag");
        assert_string_equal(q[0].expr, "sum(kafka_consumergroup_lag)");
        assert_null(q[0].unit);
        assert_string_equal(q[0].warn, "10000");
        assert_string_equal(q[0].crit, "1000000");
        assert_string_equal(q[1].name, "urp");
        assert_string_equal(q[1].expr, "sum(kafka_server_replicamanager_underreplicatedpartitions)");
        assert_null(q[1].unit);
        assert_null(q[1].warn);
        assert_null(q[1].crit);
        assert_string_equal(q[2].name, "p99");
        assert_string_equal(q[2].unit, "ms");
        assert_string_equal(q[2].expr,
                            "histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) * 1000");
        assert_null(q[2].warn);
        assert_string_equal(q[2].crit, "500ms");
        pc = c->sources[1].kind_cfg;
        assert_int_equal(pc->queries.n, 0);
        assert_non_null(pc->queries.v);
        config_free(c);
}

static void test_good_no_sources(void **state)
{
        struct config *c = load_fixture("good_no_sources.yaml");

        (void)state;
        assert_string_equal(c->environment, "dev");
        assert_int_equal(c->n_sources, 0);
        assert_null(config_source(c, "x"));
        config_free(c);

        c = load_fixture("good_empty_list.yaml");
        assert_int_equal(c->n_sources, 0);
        assert_false(c->read_only);
        assert_string_equal(c->environment, "default");
        config_free(c);
}

static void test_example_file(void **state)
{
        struct err e;
        struct config *c = config_load_file(tu_src_path("lambdaops.example.yaml"), &e);
        const struct pg_cfg *pg;

        (void)state;
        if (!c)
                fail_msg("%s", e.msg);
        assert_string_equal(c->environment, "staging");
        assert_int_equal(c->refresh_ms, 1000);
        assert_string_equal(c->theme, "default");
        assert_false(c->read_only);
        assert_int_equal(c->n_sources, 7);
        assert_string_equal(c->sources[0].name, "orders-db");
        assert_int_equal(c->sources[0].interval_ms, 5000);
        assert_int_equal(c->sources[0].timeout_ms, 3000);
        assert_thr(&c->sources[0], 3, "sender_lag_ms", 30000, 120000);
        pg = c->sources[0].kind_cfg;
        assert_string_equal(pg->password_env, "ORDERS_DB_PASSWORD");
        assert_null(pg->password_file);
        assert_string_equal(c->sources[1].name, "billing-db");
        assert_int_equal(c->sources[1].interval_ms, 10000);
        assert_thr(&c->sources[1], 0, "slot_lag_bytes", 1e9, 1e10);
        assert_thr(&c->sources[1], 2, "slot_inactive_ms", NAN, 30 * 60 * 1000);
        pg = c->sources[1].kind_cfg;
        assert_null(pg->password_env);
        assert_string_equal(pg->password_file, "/run/secrets/billing-db-password");
        /* One source of every other kind, in file order. */
        static const char *const names[] = { "events", "speed-ch", "warehouse", "orders-hourly",
                                             "metrics" };
        static const char *const kinds[] = { "kafka", "clickhouse", "snowflake", "reconcile",
                                             "prometheus" };
        for (size_t i = 0; i < LO_ARRAY_LEN(names); i++) {
                assert_string_equal(c->sources[2 + i].name, names[i]);
                assert_string_equal(c->sources[2 + i].kind, kinds[i]);
                assert_ptr_equal(c->sources[2 + i].ops, collector_find(kinds[i]));
        }
        assert_int_equal(c->sources[5].interval_ms, 5 * 60 * 1000);
        assert_int_equal(c->sources[5].timeout_ms, 60 * 1000);
        {
                const struct prom_cfg *pc = c->sources[6].kind_cfg;
                const struct prom_query *q = pc->queries.v;

                assert_int_equal(pc->queries.n, 2);
                assert_string_equal(q[0].name, "consumer_lag");
                assert_string_equal(q[0].warn, "50000");
                assert_string_equal(q[1].name, "ingest_p99");
                assert_string_equal(q[1].unit, "s");
                assert_string_equal(q[1].crit, "2s");
        }
        config_free(c);
}

/* --- config_find ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void mkdir_p(const char *dir)
{
        char *cmd = xasprintf("mkdir -p '%s'", dir);

        assert_int_equal(system(cmd), 0);
        free(cmd);
}

static void rm_rf(const char *dir)
{
        char *cmd = xasprintf("rm -rf '%s'", dir);

        assert_int_equal(system(cmd), 0);
        free(cmd);
}

static void test_find_order(void **state)
{
        char tmpl[] = "/tmp/lo-cfg-XXXXXX", cwd[PATH_MAX], want[1024];
        char *dir, *p, *home, *xdg, *envf, *expl, *old_home;
        struct err e;

        (void)state;
        old_home = xstrdup(getenv("HOME"));
        dir = mkdtemp(tmpl);
        assert_non_null(dir);
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(dir), 0);
        home = xasprintf("%s/home", dir);
        xdg = xasprintf("%s/xdg", dir);
        envf = xasprintf("%s/env.yaml", dir);
        expl = xasprintf("%s/explicit.yaml", dir);
        setenv("HOME", home, 1);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("LAMBDAOPS_CONFIG");

        /* Nothing anywhere: the message lists every place. */
        assert_null(config_find(NULL, &e));
        snprintf(want, sizeof want, "no config file found; searched $LAMBDAOPS_CONFIG (unset), "
                 "./lambdaops.yaml, %s/.config/lambdaops/config.yaml (use -c FILE or set "
                 "LAMBDAOPS_CONFIG)", home);
        assert_string_equal(e.msg, want);

        /* ~/.config when XDG_CONFIG_HOME is unset. */
        p = xasprintf("%s/.config/lambdaops", home);
        mkdir_p(p);
        free(p);
        p = xasprintf("%s/.config/lambdaops/config.yaml", home);
        write_file(p, "{}\n");
        free(p);
        p = config_find(NULL, &e);
        assert_non_null(p);
        assert_int_equal(e.code, 0);
        snprintf(want, sizeof want, "%s/.config/lambdaops/config.yaml", home);
        assert_string_equal(p, want);
        free(p);

        /* XDG_CONFIG_HOME replaces ~/.config, even when its file is missing. */
        setenv("XDG_CONFIG_HOME", xdg, 1);
        assert_null(config_find(NULL, &e));
        snprintf(want, sizeof want, "no config file found; searched $LAMBDAOPS_CONFIG (unset), "
                 "./lambdaops.yaml, %s/lambdaops/config.yaml (use -c FILE or set "
                 "LAMBDAOPS_CONFIG)", xdg);
        assert_string_equal(e.msg, want);
        p = xasprintf("%s/lambdaops", xdg);
        mkdir_p(p);
        free(p);
        p = xasprintf("%s/lambdaops/config.yaml", xdg);
        write_file(p, "{}\n");
        free(p);
        p = config_find(NULL, &e);
        snprintf(want, sizeof want, "%s/lambdaops/config.yaml", xdg);
        assert_non_null(p);
        assert_string_equal(p, want);
        free(p);

        /* ./lambdaops.yaml beats the user config. */
        write_file("lambdaops.yaml", "{}\n");
        p = config_find(NULL, &e);
        assert_non_null(p);
        assert_string_equal(p, "lambdaops.yaml");
        free(p);

        /* $LAMBDAOPS_CONFIG beats ./lambdaops.yaml; a missing one is an error. */
        write_file(envf, "{}\n");
        setenv("LAMBDAOPS_CONFIG", envf, 1);
        p = config_find(NULL, &e);
        assert_non_null(p);
        assert_string_equal(p, envf);
        free(p);
        setenv("LAMBDAOPS_CONFIG", "/nonexistent/lo.yaml", 1);
        assert_null(config_find(NULL, &e));
        snprintf(want, sizeof want, "config file /nonexistent/lo.yaml (from $LAMBDAOPS_CONFIG): %s",
                 strerror(ENOENT));
        assert_string_equal(e.msg, want);
        /* An empty variable counts as unset. */
        setenv("LAMBDAOPS_CONFIG", "", 1);
        p = config_find(NULL, &e);
        assert_non_null(p);
        assert_string_equal(p, "lambdaops.yaml");
        free(p);
        setenv("LAMBDAOPS_CONFIG", envf, 1);

        /* An explicit path beats everything; a missing one names it. */
        write_file(expl, "{}\n");
        p = config_find(expl, &e);
        assert_non_null(p);
        assert_string_equal(p, expl);
        free(p);
        assert_null(config_find("/nonexistent/explicit.yaml", &e));
        snprintf(want, sizeof want, "config file /nonexistent/explicit.yaml: %s", strerror(ENOENT));
        assert_string_equal(e.msg, want);
        assert_null(config_find(dir, &e));
        snprintf(want, sizeof want, "config file %s: %s", dir, strerror(EISDIR));
        assert_string_equal(e.msg, want);

        unsetenv("LAMBDAOPS_CONFIG");
        unsetenv("XDG_CONFIG_HOME");
        if (old_home)
                setenv("HOME", old_home, 1);
        else
                unsetenv("HOME");
        free(old_home);
        assert_int_equal(chdir(cwd), 0);
        rm_rf(dir);
        free(home);
        free(xdg);
        free(envf);
        free(expl);
}

/* --- secrets ---------------------------------------------------------------------- */

static void test_secret_env(void **state)
{
        struct err e;
        char *v;

        (void)state;
        setenv("LO_TEST_PW", "s3cr3t value", 1);
        v = config_secret_resolve("LO_TEST_PW", NULL, &e);
        assert_non_null(v);
        assert_string_equal(v, "s3cr3t value");
        assert_int_equal(e.code, 0);
        free(v);

        setenv("LO_TEST_PW", "", 1);
        assert_null(config_secret_resolve("LO_TEST_PW", NULL, &e));
        assert_string_equal(e.msg, "environment variable LO_TEST_PW is empty");

        unsetenv("LO_TEST_PW");
        assert_null(config_secret_resolve("LO_TEST_PW", NULL, &e));
        assert_string_equal(e.msg, "environment variable LO_TEST_PW is not set");
        assert_int_not_equal(e.code, 0);

        /* Neither configured: NULL and no error. */
        e.code = 5;
        assert_null(config_secret_resolve(NULL, NULL, &e));
        assert_int_equal(e.code, 0);
        assert_string_equal(e.msg, "");

        /* Both: refused without reading either. */
        setenv("LO_TEST_PW", "x", 1);
        assert_null(config_secret_resolve("LO_TEST_PW", "/etc/hostname", &e));
        assert_string_equal(e.msg, "a secret is configured both as an environment variable "
                            "(LO_TEST_PW) and as a file (/etc/hostname); use one");
        unsetenv("LO_TEST_PW");
}

static void test_secret_file(void **state)
{
        char tmpl[] = "/tmp/lo-sec-XXXXXX", want[512];
        char *dir, *f;
        struct err e;
        char *v;

        (void)state;
        dir = mkdtemp(tmpl);
        assert_non_null(dir);
        f = xasprintf("%s/pw", dir);

        /* One trailing newline is stripped, and only one. */
        write_file(f, "hunter2\n");
        v = config_secret_resolve(NULL, f, &e);
        assert_non_null(v);
        assert_string_equal(v, "hunter2");
        free(v);
        write_file(f, "hunter2\n\n");
        v = config_secret_resolve(NULL, f, &e);
        assert_string_equal(v, "hunter2\n");
        free(v);
        write_file(f, "hunter2\r\n");
        v = config_secret_resolve(NULL, f, &e);
        assert_string_equal(v, "hunter2");
        free(v);
        write_file(f, "  spaces kept  ");
        v = config_secret_resolve(NULL, f, &e);
        assert_string_equal(v, "  spaces kept  ");
        free(v);

        /* Group/world-readable files are accepted. */
        assert_int_equal(chmod(f, 0644), 0);
        v = config_secret_resolve(NULL, f, &e);
        assert_non_null(v);
        free(v);

        write_file(f, "\n");
        assert_null(config_secret_resolve(NULL, f, &e));
        snprintf(want, sizeof want, "secret file %s is empty", f);
        assert_string_equal(e.msg, want);

        unlink(f);
        assert_null(config_secret_resolve(NULL, f, &e));
        snprintf(want, sizeof want, "cannot read secret file %s: %s", f, strerror(ENOENT));
        assert_string_equal(e.msg, want);

        /* Unreadable (skipped as root, who reads anything). */
        if (geteuid() != 0) {
                write_file(f, "x\n");
                assert_int_equal(chmod(f, 0), 0);
                assert_null(config_secret_resolve(NULL, f, &e));
                snprintf(want, sizeof want, "cannot read secret file %s: %s", f, strerror(EACCES));
                assert_string_equal(e.msg, want);
                unlink(f);
        }

        /* Too big. */
        {
                FILE *fp = fopen(f, "w");

                assert_non_null(fp);
                for (int i = 0; i < 70 * 1024; i++)
                        fputc('a', fp);
                fclose(fp);
                assert_null(config_secret_resolve(NULL, f, &e));
                snprintf(want, sizeof want, "secret file %s is larger than 64 KiB", f);
                assert_string_equal(e.msg, want);
        }

        free(f);
        rm_rf(dir);
}

/* A FIFO (or a stalled mount) as the config file or a secret file must not
 * block: it is refused with a message naming the file. */
static void test_fifo_refused(void **state)
{
        char tmpl[] = "/tmp/lo-fifo-XXXXXX", want[512];
        char *dir, *fifo;
        struct err e;

        (void)state;
        dir = mkdtemp(tmpl);
        assert_non_null(dir);
        fifo = xasprintf("%s/fifo", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);

        assert_null(config_load_file(fifo, &e));
        snprintf(want, sizeof want, "config file %s is a FIFO; only a regular file is read", fifo);
        assert_string_equal(e.msg, want);

        assert_null(config_secret_resolve(NULL, fifo, &e));
        snprintf(want, sizeof want, "secret file %s is a FIFO; only a regular file is read", fifo);
        assert_string_equal(e.msg, want);

        /* A directory as a secret file. */
        assert_null(config_secret_resolve(NULL, dir, &e));
        snprintf(want, sizeof want, "secret file %s is a directory; only a regular file is read",
                 dir);
        assert_string_equal(e.msg, want);

        /* A NUL byte is still refused. */
        {
                char *f = xasprintf("%s/nul", dir);
                FILE *fp = fopen(f, "w");

                assert_non_null(fp);
                fwrite("ab\0cd\n", 1, 6, fp);
                fclose(fp);
                assert_null(config_secret_resolve(NULL, f, &e));
                snprintf(want, sizeof want, "secret file %s contains a NUL byte", f);
                assert_string_equal(e.msg, want);
                unlink(f);
                free(f);
        }
        free(fifo);
        rm_rf(dir);
}

/* A secret file that does not answer (a stalled network mount, simulated by
 * fsfile's test hook) is given up after the secret deadline instead of
 * blocking the collector thread. Registered last: the hook stays set, as
 * the abandoned reader reads it (no data race). */
static void test_secret_stalled(void **state)
{
        char tmpl[] = "/tmp/lo-stall-XXXXXX", want[512];
        char *dir, *f;
        struct err e;

        (void)state;
        dir = mkdtemp(tmpl);
        assert_non_null(dir);
        f = xasprintf("%s/pw", dir);
        write_file(f, "hunter2\n");
        fsfile_test_stall_ms = 600000;
        assert_null(config_secret_resolve(NULL, f, &e));
        snprintf(want, sizeof want, "cannot read secret file %s: no answer within 2000 ms (a "
                 "stalled mount?)", f);
        assert_string_equal(e.msg, want);
        assert_int_equal(e.code, ETIMEDOUT);
        free(f);
        rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_fixtures),
                cmocka_unit_test(test_bad_fixtures_all_listed),
                cmocka_unit_test(test_bad_strings),
                cmocka_unit_test(test_bad_secret_not_echoed),
                cmocka_unit_test(test_kind_validate),
                cmocka_unit_test(test_load_edges),
                cmocka_unit_test(test_good_minimal),
                cmocka_unit_test(test_good_full),
                cmocka_unit_test(test_alert_timing),
                cmocka_unit_test(test_listen),
                cmocka_unit_test(test_good_maplist),
                cmocka_unit_test(test_good_no_sources),
                cmocka_unit_test(test_example_file),
                cmocka_unit_test(test_find_order),
                cmocka_unit_test(test_secret_env),
                cmocka_unit_test(test_secret_file),
                cmocka_unit_test(test_fifo_refused),
                cmocka_unit_test(test_secret_stalled),     /* last: see there */
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
