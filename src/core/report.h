/*
 * report: the one-shot `status` and `check` commands (entry points are
 * declared in app.h). The pieces below are pure functions over snapshots so
 * that tests and benchmarks can drive them without threads or services.
 * Any thread may call them; they only read their arguments.
 */
#ifndef LO_SRC_REPORT_H
#define LO_SRC_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/health.h"

struct cJSON;
struct snapshot;
struct source_cfg;

/* How long `status`/`check` wait for a source beyond its own timeout. */
#define REPORT_MARGIN_MS 1000

/* Version of the JSON document (docs/status-json.md says when it changes). */
#define REPORT_SCHEMA 1

/* Alerts for every snapshot (health_eval, in source order) into `out`
 * (initialised by the caller), and the overall state (health_overall).
 * snaps[i] may be NULL: source i never answered. */
enum severity report_eval(const struct snapshot *const *snaps, size_t n,
                          struct alert_list *out);

/* The `status --json` document for sources srcs[0..n) and their snapshots
 * snaps[0..n) (NULL = never answered). now_wall_ms becomes generated_at.
 * Returns an owned cJSON object (cJSON_Delete it). */
struct cJSON *report_json(const struct snapshot *const *snaps,
                          const struct source_cfg *srcs, size_t n,
                          int64_t now_wall_ms);

/* One source's object of that document ("kind", "status", "error",
 * "collected_at", "poll_ms" and the kind's keys; no "name"); s NULL = never
 * answered. Owned (cJSON_Delete it). Gates of `lambdaops up` evaluate
 * their expressions against it. */
struct cJSON *report_json_source(const struct snapshot *s, const struct source_cfg *src);

/* The `check` line without its newline, e.g.
 * "LAMBDAOPS WARNING - 2 sources, 1 warn: ... | 'orders-db'=1234B".
 * Returns an owned string; *exit_code (may be NULL) gets 0..3. */
char *report_check_line(const struct snapshot *const *snaps,
                        const struct source_cfg *srcs, size_t n,
                        int *exit_code);

/* The message used for a source that never answered: "no answer within 4s". */
void report_no_answer(const struct source_cfg *src, char *buf, size_t n);

#endif
