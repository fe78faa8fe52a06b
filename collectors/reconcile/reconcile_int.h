/* reconcile_int.h: private to the parts of reconcile (shared types and functions). */
#ifndef LO_COLLECTORS_RECONCILE_INT_H
#define LO_COLLECTORS_RECONCILE_INT_H

#include "collectors/reconcile/reconcile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/health.h"
#include "core/jsonout.h"
#include "clients/sql.h"
#include "core/util.h"

#define REC_MAX_ROWS_DEFAULT 1000000
#define REC_SLACK            1e-12

enum { REC_TAG_NULL = 0, REC_TAG_TIME, REC_TAG_NUM, REC_TAG_TEXT, REC_TAG_BOOL };

/* One decoded key component. */
struct rec_comp {
        int         tag;
        int64_t     t;          /* TIME */
        double      d;          /* NUM */
        const char *s;          /* NUM canonical text, TEXT bytes */
        size_t      n;
        bool        b;          /* BOOL */
};

/* reconcile_keys.c */
size_t reconcile_put_varint(char *p, size_t v);
void reconcile_put_i64(char *p, int64_t v);
void reconcile_put_f64(char *p, double d);
void reconcile_canon_num(const struct sql_cell *c, enum sql_type t, char *buf, size_t n);
void reconcile_fmt_time(int64_t ms, char *buf, size_t n);
size_t reconcile_comp_read(const char *p, struct rec_comp *c);
int reconcile_key_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
