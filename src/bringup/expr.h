/*
 * expr: a small expression language over JSON documents (cJSON), for
 * bring-up gates now and alert rules and runbook checks later. The
 * language is fixed in /work/notes/plan-format.md and documented in the
 * plan reference (docs/bring-up.md, "Plan file and commands"):
 *
 *   literals   12  1.5  "text"  'text'  true  false  null  [1, "a"]
 *   paths      quorum.leader_id   groups[0].lag   a["x-y"]   list[-1]
 *              .x and . are the current element inside a predicate (at the
 *              top level the current element is the document itself)
 *   operators  or < and < not < (== != < <= > >= in) < (+ -) < (* /) < unary -
 *   functions  len(x) all(list, pred) any(list, pred) count(list, pred)
 *              max(list[, .field]) min(list[, .field]) sum(list[, .field])
 *
 * Null semantics: a missing key, an index out of range or a key of a
 * non-object is null; arithmetic with null is null; ordering comparisons
 * with null are false; == and != compare null like any value; `and`, `or`
 * and `not` treat null as false.
 *
 * Parsing is pure (no globals); a parsed expr is immutable, so any thread
 * may evaluate it concurrently. Evaluation never crashes: errors (type
 * errors, division by zero) come back as messages "col N: ...".
 */
#ifndef LO_SRC_EXPR_H
#define LO_SRC_EXPR_H

#include <stdbool.h>

#include "core/util.h"

struct cJSON;
struct expr;

/* How deep parentheses, lists, calls and operators may nest. */
#define EXPR_MAX_DEPTH 64

/* Parses src. Returns an owned expr, or NULL with err->msg "col N: what"
 * (N is the 1-based byte column of the offending token). */
struct expr *expr_parse(const char *src, struct err *err);
void expr_free(struct expr *e);         /* NULL-safe */

/* The source text it was parsed from (borrowed). */
const char *expr_text(const struct expr *e);

/* Evaluates e against doc (may be NULL: everything is null). Returns an
 * owned cJSON value (null, bool, number, string, array or object; never
 * NULL on success), or NULL with err->msg "col N: what". */
struct cJSON *expr_eval(const struct expr *e, const struct cJSON *doc, struct err *err);

/* True when v is JSON true (null, false and every other value: false). The
 * way a gate decides. */
bool expr_true(const struct cJSON *v);

/* A value as compact JSON text ("null", "3", "\"RUNNING\"", "[1,2]"). Owned. */
char *expr_value_text(const struct cJSON *v);

/* What a waiting gate shows: for each part of a top-level `and` chain, the
 * left side of a comparison (or the part itself) and its current value,
 * e.g. "len(nodes) = 3, all(nodes, .ready) = false". An evaluation error
 * shows as the part's "error: col N: ...". Owned. */
char *expr_explain(const struct expr *e, const struct cJSON *doc);

#endif
