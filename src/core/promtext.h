/*
 * promtext: a writer of the Prometheus text exposition format (version
 * 0.0.4), used by the /metrics endpoint (src/export/metrics_server.c) and by
 * each kind's collector_ops.metrics hook. Pure: no I/O, no threads, no
 * clock; one writer per render, owned by its caller.
 *
 * The format wants every sample of a family together under one HELP and
 * one TYPE line, while lambdaops produces samples source by source (two
 * PostgreSQL sources both add lambdaops_pg_slot_lag_bytes). So samples are
 * buffered per family and promtext_finish() writes the families sorted by
 * name, each family's samples in the order they were added: the same
 * snapshots always give the same bytes.
 *
 * What it guarantees about its output, whatever the callers pass:
 *   - names: a family name must match [a-zA-Z_:][a-zA-Z0-9_:]* and a label
 *     name [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" (reserved to
 *     Prometheus); a counter's name ends in "_total" and a gauge's does not
 *     (the naming conventions). A family or sample that breaks a rule is
 *     dropped and counted (promtext_errors), never written half-valid;
 *   - label values are escaped (backslash, double quote, newline) and
 *     invalid UTF-8 becomes U+FFFD (Prometheus rejects a whole scrape over
 *     one bad byte, and label values come from servers: slot, topic and
 *     connector names);
 *   - a value that is NaN or infinite is omitted: unknown is no sample,
 *     never a made-up 0;
 *   - values are written in the shortest form that reads back exactly.
 * Callers keep label sets distinct within a family (the writer does not
 * look for duplicates: that would cost a search per sample).
 */
#ifndef LO_SRC_PROMTEXT_H
#define LO_SRC_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* The Content-Type of what promtext_finish() returns. */
#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum promtext_type { PROMTEXT_GAUGE, PROMTEXT_COUNTER };

struct promtext;

struct promtext *promtext_new(void);
void promtext_free(struct promtext *p);                 /* NULL-safe */

/* Declares the family `name` with its HELP text and TYPE. Declaring it again
 * with the same type is a no-op (every source of a kind declares what it
 * adds); with another type, or an invalid name, it is an error (counted)
 * and the family stays as first declared, or undeclared. */
void promtext_declare(struct promtext *p, const char *name, enum promtext_type type,
                      const char *help);

/* Adds one sample of the declared family `name`: labels is an array of
 * name/value pairs of n_pairs pairs (labels[2i] the name, labels[2i+1] the
 * value; a NULL value is written as ""). Skipped when v is NaN or infinite;
 * dropped and counted when the family is undeclared or a label name is
 * invalid. */
void promtext_sample(struct promtext *p, const char *name, const char *const *labels,
                     size_t n_pairs, double v);

/* promtext_sample with the pairs as arguments, ending with NULL:
 * promtext_add(p, "lambdaops_pg_slot_lag_bytes", 42.0, "source", "db",
 * "slot", "debezium", NULL). At most 8 pairs (more is an error). */
void promtext_add(struct promtext *p, const char *name, double v, ...)
        __attribute__((sentinel));

/* How many declarations and samples were dropped as invalid, and the first
 * reason ("" when none). For tests and the server's log. */
size_t promtext_errors(const struct promtext *p);
const char *promtext_first_error(const struct promtext *p);

/* The exposition text (owned, NUL-terminated; *len may be NULL): the
 * families sorted by name, each with "# HELP", "# TYPE" and its samples;
 * a family without samples is left out. The writer may be used again after,
 * and the text then holds everything added so far. */
char *promtext_finish(struct promtext *p, size_t *len);

/* Appends label value v escaped as in the text format (without the quotes)
 * to buf, growing it with xrealloc: *buf (may start NULL), *len, *cap.
 * Exposed for the fuzz target and tests. */
void promtext_escape_value(const char *v, char **buf, size_t *len, size_t *cap);

/* True when s is a valid metric name / label name (rules above). */
bool promtext_metric_name_ok(const char *s);
bool promtext_label_name_ok(const char *s);

/* Formats v as the text format writes it (shortest round-trip form,
 * "+Inf"/"-Inf"/"NaN" for the specials). */
void promtext_fmt_value(double v, char *buf, size_t n);

#endif
