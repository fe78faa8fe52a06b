/*
 * runbook_internal: what the loader (runbook_load.c) and the rest of the
 * model (runbook.c) share; nobody else includes it.
 */
#ifndef LO_SRC_RUNBOOK_INTERNAL_H
#define LO_SRC_RUNBOOK_INTERNAL_H

#include <stdint.h>

#include "core/util.h"
#include "runbook/runbook.h"

/* The input called name, or NULL. */
const struct runbook_input *rb_input_find(const struct runbook *rb, const char *name);
/* A decimal integer (optional '-'), whole string, no overflow: 0 or -1. */
int rb_parse_int(const char *s, int64_t *out, struct err *err);
/* "string", "integer", ... into *t: 0, or -1 for an unknown name. */
int rb_input_type_parse(const char *s, enum runbook_input_type *t);
/* "slot", "group", ... into *t: 0, or -1 for an unknown name. */
int rb_target_parse(const char *s, enum runbook_target *t);
/* Whether value is valid for the input's type (cfg NULL: a source's
 * existence and kind are not checked). 0, or -1 with err saying why
 * (without the input's name). */
int rb_input_valid(const struct runbook_input *in, const char *value, const struct config *cfg,
                   struct err *err);

#endif
