/*
 * yamldoc: the shared part of the loaders that read a file into libyaml's
 * document tree (the bring-up plan, the runbooks): one document parsed
 * with anchors, aliases and deep nesting refused before the tree is built,
 * and typed getters whose errors all read "FILE:LINE:COL: KEY: ...".
 *
 * The config loader reads events instead (it keeps its own tree with the
 * marks it needs), so it does not use this.
 *
 * Every getter returns 0, or -1 with the error set in y->err; they never
 * exit and never read past the document.
 */
#ifndef LO_CORE_YAMLDOC_H
#define LO_CORE_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "core/util.h"

struct ydoc {
        yaml_document_t doc;
        bool            loaded;         /* doc holds a tree (ydoc_done frees it) */
        const char     *file;           /* for messages */
        const char     *text;           /* the input, for source spans */
        size_t          len;
        size_t          max_text;       /* longest string ydoc_str accepts (0: any) */
        struct err     *err;
};

/* Parses text as exactly one YAML document. `what` names the file's kind
 * for the messages ("runbook": "anchors and aliases are not supported in
 * a runbook", "a second YAML document; one runbook per file"); nesting
 * deeper than max_depth levels is refused. An empty input is a document
 * without a root (ydoc_root returns NULL). 0, or -1 with err (y needs no
 * ydoc_done then). */
int ydoc_load(struct ydoc *y, const char *text, size_t len, const char *file, const char *what,
              int max_depth, struct err *err);
void ydoc_done(struct ydoc *y);
yaml_node_t *ydoc_root(struct ydoc *y);

/* Sets "FILE:LINE:COL: message" (the node's start; "FILE: message" when n
 * is NULL); returns -1. */
int ydoc_err(struct ydoc *y, const yaml_node_t *n, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

yaml_node_t *ydoc_node(struct ydoc *y, int id);
/* The value of a scalar node, else NULL. */
const char *ydoc_scalar(const yaml_node_t *n);
/* True for a plain (unquoted) scalar: only those can be null or booleans. */
bool ydoc_plain(const yaml_node_t *n);
/* "a mapping", "a list", "a scalar" or "nothing", for messages. */
const char *ydoc_what(const yaml_node_t *n);
size_t ydoc_seq_len(const yaml_node_t *n);
yaml_node_t *ydoc_seq_item(struct ydoc *y, const yaml_node_t *n, size_t i);

/* A string: any scalar but a plain null (~, null or nothing); an empty
 * quoted string only when empty_ok. NUL bytes and strings longer than
 * y->max_text are refused. Replaces (frees) *out. */
int ydoc_str(struct ydoc *y, const yaml_node_t *n, const char *key, bool empty_ok, char **out);
/* true or false, unquoted. */
int ydoc_bool(struct ydoc *y, const yaml_node_t *n, const char *key, bool *out);
/* A duration of more than 0 (config_parse_duration's units). */
int ydoc_duration(struct ydoc *y, const yaml_node_t *n, const char *key, int64_t *ms);

/* m is a mapping whose keys are scalars out of `known` (NULL-terminated),
 * each at most once. An unknown key's message suggests the nearest known
 * one, else ends with `hint` when not NULL. */
int ydoc_check_map(struct ydoc *y, const yaml_node_t *m, const char *where,
                   const char *const *known, const char *hint);
/* The value of `key` in mapping m, or NULL. */
yaml_node_t *ydoc_map_get(struct ydoc *y, const yaml_node_t *m, const char *key);
/* n is a list of at most max items (an empty list is allowed). */
int ydoc_check_seq(struct ydoc *y, const yaml_node_t *n, const char *key, size_t max);

#endif
