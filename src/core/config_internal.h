/*
 * config_internal: what the parts of the config module share (config.c
 * walks the tree against the tables; config_yaml.c builds the tree;
 * config_units.c parses durations and sizes) and nobody else uses.
 */
#ifndef LO_CORE_CONFIG_INTERNAL_H
#define LO_CORE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

#define CFG_MAX_DEPTH   64              /* nested collections */
#define CFG_MAX_BYTES   (1024 * 1024)   /* a config larger than this is a mistake */
#define SHOW_MAX        40              /* bytes of user text quoted in a message */

enum ynode_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
        enum ynode_type  type;
        int              line, col;     /* 1-based start mark */
        char            *str;           /* scalar text, owned, no NUL inside */
        size_t           len;
        bool             plain;         /* unquoted scalar */
        struct ynode   **kids;          /* seq: items; map: key, value, key, value... */
        size_t           n, cap;
};

/* One load: where messages go and what they are prefixed with. */
struct pctx {
        const char *file;
        struct err *err;
};

/* Frees a tree. NULL-safe. */
void config_ynode_free(struct ynode *y);
/* Copies user text for a message: at most SHOW_MAX bytes, cut on a UTF-8
 * boundary, control characters replaced, "..." when shortened. */
const char *config_show(const char *s, char *buf, size_t n);
/* Sets err to "FILE:LINE:COL: message". Always returns -1. */
int config_perr_at(struct pctx *p, int line, int col, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
#define perr(p, node, ...) config_perr_at((p), (node)->line, (node)->col, __VA_ARGS__)
/* A plain null scalar (empty, ~, null). */
bool config_ynode_null(const struct ynode *y);
/* `off` (unquoted) or null: a disabled threshold. */
bool config_ynode_off(const struct ynode *y);
/* "a mapping", "a list", "nothing" or "a scalar", for messages. */
const char *config_ynode_what(const struct ynode *y);
/* Pass one: the tree of buf[0, len), or NULL with p->err set. */
struct ynode *config_tree_build(struct pctx *p, const char *buf, size_t len);

/* A unit of durations or sizes. */
struct config_unit {
        const char *name;
        int64_t     mult;
};

#define CONFIG_DUR_UNITS 6
/* ms, s, m, h, d, then a NULL name. */
extern const struct config_unit config_dur_units[CONFIG_DUR_UNITS];
/* A duration (is_size false) or size into *out: 0, or -1 with err. */
int config_parse_quantity(const char *s, bool is_size, int64_t *out, struct err *err);
/* A plain decimal number: 0, or -1. */
int config_parse_number(const char *s, double *out);

#endif
