/*
 * sql: typed, streamed query results and the per-kind runners (see sql.h).
 *
 * Design. A runner turns one verbatim SQL statement into begin() + row()
 * calls on a sink, decoding every value from the backend's text form into
 * a typed cell as it arrives: libpq's single-row mode for PostgreSQL, and
 * a small streaming JSON scanner over the HTTP body for ClickHouse (rows are
 * decoded one at a time, never as one big cJSON tree) and Snowflake (per
 * partition, in collectors/snowflake.c). So a consumer's memory does not
 * depend on how a backend ships its rows.
 *
 * Time zones are resolved here without touching the process's TZ: a small
 * reader for the tz database's TZif files turns ClickHouse DateTime text in
 * the server's (or the column's) zone into UTC.
 *
 * A struct sql_conn and its runner handle belong to the thread that made
 * them; everything else in this file is pure and thread-agnostic.
 */
#include "clients/sql.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "clients/pgconn.h"
#include "clients/sql_internal.h"
#include "core/fsfile.h"
#include "core/jsonparse.h"

#define SQL_KINDS_MAX  32               /* kinds with a runner */
#define SQL_TZ_MAX     (1u << 20)       /* bytes in a TZif file */

const char *sql_type_name(enum sql_type t)
{
        switch (t) {
        case SQL_T_INT:  return "int";
        case SQL_T_NUM:  return "number";
        case SQL_T_TEXT: return "text";
        case SQL_T_TIME: return "timestamp";
        case SQL_T_BOOL: return "bool";
        }
        return "?";
}

/* ------------------------------------------------------------------------
 * The materialising sink
 */

static int sql_result_begin(void *ud, const struct sql_col *cols, size_t ncols, struct err *err)
{
        struct sql_result *r = ud;

        (void)err;
        r->cols = xcalloc(ncols ? ncols : 1, sizeof *r->cols);
        r->ncols = ncols;
        for (size_t i = 0; i < ncols; i++) {
                r->cols[i].name = xstrdup(cols[i].name);
                r->cols[i].type = cols[i].type;
                r->cols[i].db_type = xstrdup(cols[i].db_type ? cols[i].db_type : "");
        }
        return 0;
}

static int sql_result_row(void *ud, const struct sql_cell *cells, size_t ncols, struct err *err)
{
        struct sql_result *r = ud;
        struct sql_cell *dst;

        if (ncols != r->ncols) {
                err_set(err, EPROTO, "row has %zu values for %zu columns", ncols, r->ncols);
                return -1;
        }
        /* Grow by doubling: cells has room for a power of two of rows. */
        if ((r->nrows & (r->nrows - 1)) == 0)
                r->cells = xrealloc(r->cells, (r->nrows ? 2 * r->nrows : 1) *
                                              (ncols ? ncols : 1) * sizeof *r->cells);
        dst = r->cells + r->nrows * ncols;
        for (size_t i = 0; i < ncols; i++) {
                dst[i] = cells[i];
                dst[i].text = cells[i].text ? xstrdup(cells[i].text) : NULL;
        }
        r->nrows++;
        return 0;
}

struct sql_sink sql_result_sink(struct sql_result *r)
{
        return (struct sql_sink){ .begin = sql_result_begin, .row = sql_result_row, .ud = r };
}

void sql_result_done(struct sql_result *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->ncols; i++) {
                free(r->cols[i].name);
                free(r->cols[i].db_type);
        }
        for (size_t i = 0; i < r->nrows * r->ncols; i++)
                free((char *)r->cells[i].text);
        free(r->cols);
        free(r->cells);
        memset(r, 0, sizeof *r);
}

const struct sql_cell *sql_result_cell(const struct sql_result *r, size_t row, size_t col)
{
        if (!r || row >= r->nrows || col >= r->ncols)
                return NULL;
        return &r->cells[row * r->ncols + col];
}

/* ------------------------------------------------------------------------
 * Numbers and times (pure)
 */

int sql_parse_int(const char *s, int64_t *out)
{
        const char *c = s;
        bool neg = false;
        uint64_t v = 0, lim;

        if (!s)
                return -1;
        if (*c == '-' || *c == '+')
                neg = *c++ == '-';
        if (*c < '0' || *c > '9')
                return -1;
        lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; *c >= '0' && *c <= '9'; c++) {
                unsigned dgt = (unsigned)(*c - '0');

                if (v > (lim - dgt) / 10)
                        return -1;
                v = v * 10 + dgt;
        }
        if (*c)
                return -1;
        *out = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
}

static bool sql_ieq(const char *a, const char *b)
{
        for (; *a && *b; a++, b++)
                if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
                        return false;
        return !*a && !*b;
}

int sql_parse_num(const char *s, double *out)
{
        const char *c = s;
        char *end;
        bool digits = false;

        if (!s || !*s)
                return -1;
        if (*c == '-' || *c == '+')
                c++;
        if (sql_ieq(c, "nan")) {
                *out = NAN;
                return 0;
        }
        if (sql_ieq(c, "inf") || sql_ieq(c, "infinity")) {
                *out = *s == '-' ? -INFINITY : INFINITY;
                return 0;
        }
        /* [digits][.digits][e[+-]digits]: strtod alone takes hex and spaces. */
        while (*c >= '0' && *c <= '9') {
                c++;
                digits = true;
        }
        if (*c == '.')
                for (c++; *c >= '0' && *c <= '9'; c++)
                        digits = true;
        if (!digits)
                return -1;
        if (*c == 'e' || *c == 'E') {
                c++;
                if (*c == '-' || *c == '+')
                        c++;
                if (*c < '0' || *c > '9')
                        return -1;
                while (*c >= '0' && *c <= '9')
                        c++;
        }
        if (*c)
                return -1;
        errno = 0;
        *out = strtod(s, &end);
        return *end ? -1 : 0;
}

int64_t sql_days_from_civil(int64_t y, unsigned m, unsigned d)
{
        /* Howard Hinnant's days_from_civil. */
        int64_t era;
        unsigned yoe, doy, doe;

        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = (unsigned)(y - era * 400);
        doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

/* Exactly `n` digits at *s into *v; advances. */
static bool sql_digits(const char **s, int n, int *v)
{
        int x = 0;

        for (int i = 0; i < n; i++) {
                if ((*s)[i] < '0' || (*s)[i] > '9')
                        return false;
                x = x * 10 + ((*s)[i] - '0');
        }
        *s += n;
        *v = x;
        return true;
}

static const unsigned char sql_mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

int sql_parse_time(const char *s, int64_t *ms)
{
        int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, os = 0, sign = 0;
        int64_t t;

        if (!s || !sql_digits(&s, 4, &y) || *s++ != '-' || !sql_digits(&s, 2, &mo) ||
            *s++ != '-' || !sql_digits(&s, 2, &d))
                return -1;
        if (mo < 1 || mo > 12 || d < 1 || d > sql_mdays[mo - 1] ||
            (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
                return -1;
        if (*s == ' ' || *s == 'T') {
                s++;
                if (!sql_digits(&s, 2, &h) || *s++ != ':' || !sql_digits(&s, 2, &mi))
                        return -1;
                if (*s == ':') {
                        s++;
                        if (!sql_digits(&s, 2, &sec))
                                return -1;
                        if (*s == '.') {
                                int nd = 0;

                                for (s++; *s >= '0' && *s <= '9'; s++, nd++)
                                        if (nd < 3)
                                                frac = frac * 10 + (*s - '0');
                                if (nd == 0)
                                        return -1;
                                for (; nd < 3; nd++)
                                        frac *= 10;
                        }
                }
                if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec || frac)))
                        return -1;
                if (*s == 'Z' || *s == 'z') {
                        s++;
                } else if (*s == '+' || *s == '-') {
                        sign = *s++ == '-' ? -1 : 1;
                        if (!sql_digits(&s, 2, &oh))
                                return -1;
                        if (*s == ':')
                                s++;
                        if (*s >= '0' && *s <= '9') {
                                if (!sql_digits(&s, 2, &om))
                                        return -1;
                                if (*s == ':')
                                        s++;
                                if (*s >= '0' && *s <= '9' && !sql_digits(&s, 2, &os))
                                        return -1;
                        }
                        if (oh > 15 || om > 59 || os > 59)
                                return -1;
                }
        }
        if (*s)
                return -1;
        t = sql_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000LL +
            (int64_t)h * 3600000 + (int64_t)mi * 60000 + (int64_t)sec * 1000 + frac;
        t -= (int64_t)sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000 + (int64_t)os * 1000);
        *ms = t;
        return 0;
}

int sql_parse_epoch(const char *s, int64_t *ms)
{
        const char *c = s;
        bool neg = false;
        int64_t sec = 0, frac = 0;
        int nd = 0;

        if (!s)
                return -1;
        if (*c == '-')
                neg = true, c++;
        if (*c < '0' || *c > '9')
                return -1;
        for (; *c >= '0' && *c <= '9'; c++) {
                if (sec > (INT64_MAX / 1000 - 9) / 10)
                        return -1;
                sec = sec * 10 + (*c - '0');
        }
        if (*c == '.') {
                for (c++; *c >= '0' && *c <= '9'; c++, nd++)
                        if (nd < 3)
                                frac = frac * 10 + (*c - '0');
                if (nd == 0)
                        return -1;
                for (; nd < 3; nd++)
                        frac *= 10;
        }
        if (*c)
                return -1;
        *ms = (neg ? -1 : 1) * (sec * 1000 + frac);
        return 0;
}

/* ------------------------------------------------------------------------
 * Time zones: a TZif reader (RFC 8536), no process-wide TZ
 */

struct sql_tz {
        size_t   n;             /* transitions */
        int64_t *at;            /* UTC ms of each transition, ascending */
        int32_t *off;           /* offset in s after each transition */
        int32_t  off0;          /* offset before the first */
};

static bool sql_tz_name_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 64 || s[0] == '/' || s[0] == '.' || strstr(s, ".."))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && !strchr("_+-/", *s))
                        return false;
        return true;
}

static int64_t sql_be(const unsigned char *p, int n)
{
        uint64_t v = 0;

        for (int i = 0; i < n; i++)
                v = v << 8 | p[i];
        if (n == 4)
                return (int32_t)(uint32_t)v;
        return (int64_t)v;
}

/* Parses a TZif image. 0 or -1. */
static int sql_tz_parse(struct sql_tz *tz, const unsigned char *b, size_t len)
{
        size_t o = 0, cnt[6], tsz = 4, need;
        const unsigned char *times, *idx, *types;

        for (int pass = 0; pass < 2; pass++) {
                if (len - o < 44 || memcmp(b + o, "TZif", 4) != 0)
                        return -1;
                for (int i = 0; i < 6; i++)
                        cnt[i] = (size_t)(uint32_t)sql_be(b + o + 20 + 4 * i, 4);
                /* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
                if (cnt[3] > 100000 || cnt[4] == 0 || cnt[4] > 256 || cnt[5] > 100000 ||
                    cnt[2] > 100000 || cnt[0] > 256 || cnt[1] > 256)
                        return -1;
                need = cnt[3] * tsz + cnt[3] + cnt[4] * 6 + cnt[5] + cnt[2] * (tsz + 4) + cnt[1] +
                       cnt[0];
                if (len - o - 44 < need)
                        return -1;
                if (pass == 0 && b[o + 4] >= '2') {
                        o += 44 + need;         /* skip the 32-bit block */
                        tsz = 8;
                        continue;
                }
                times = b + o + 44;
                idx = times + cnt[3] * tsz;
                types = idx + cnt[3];
                tz->n = cnt[3];
                tz->at = xcalloc(tz->n ? tz->n : 1, sizeof *tz->at);
                tz->off = xcalloc(tz->n ? tz->n : 1, sizeof *tz->off);
                tz->off0 = (int32_t)sql_be(types, 4);
                for (size_t i = 0; i < tz->n; i++) {
                        if (idx[i] >= cnt[4])
                                return -1;
                        tz->at[i] = sql_be(times + i * tsz, (int)tsz) * 1000;
                        tz->off[i] = (int32_t)sql_be(types + 6 * idx[i], 4);
                        if (i && tz->at[i] < tz->at[i - 1])
                                return -1;
                }
                return 0;
        }
        return -1;
}

struct sql_tz *sql_tz_load(const char *name, struct err *err)
{
        struct sql_tz *tz;
        const char *dir = getenv("LO_ZONEINFO");
        char path[512];
        unsigned char *buf;
        size_t len = 0;
        struct err fe;

        if (!name || !*name || strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 ||
            strcmp(name, "GMT") == 0 || strcmp(name, "Etc/GMT") == 0)
                return xcalloc(1, sizeof *tz);
        if (!sql_tz_name_ok(name)) {
                err_set(err, EINVAL, "time zone name \"%.64s\" is not valid", name);
                return NULL;
        }
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
        /* fsfile: a FIFO or device under LO_ZONEINFO is refused, not read. */
        buf = (unsigned char *)fsfile_read(path, SQL_TZ_MAX - 1, "time zone file", &len, &fe);
        if (!buf && (fe.code == EISDIR || fe.code == EINVAL)) {
                err_set(err, fe.code, "%s", fe.msg);
                return NULL;
        }
        if (!buf && fe.code != EFBIG) {
                err_set(err, fe.code, "unknown time zone \"%s\" (%s: %s; is tzdata installed?)",
                        name, path, strerror(fe.code));
                return NULL;
        }
        tz = xcalloc(1, sizeof *tz);
        if (!buf || sql_tz_parse(tz, buf, len) < 0) {
                err_set(err, EINVAL, "time zone file %s is not a TZif file", path);
                free(buf);
                sql_tz_free(tz);
                return NULL;
        }
        free(buf);
        return tz;
}

void sql_tz_free(struct sql_tz *tz)
{
        if (!tz)
                return;
        free(tz->at);
        free(tz->off);
        free(tz);
}

/* Offset in ms at UTC instant t. */
static int64_t sql_tz_off_at(const struct sql_tz *tz, int64_t t)
{
        size_t lo = 0, hi = tz->n;

        if (!tz->n || t < tz->at[0])
                return (int64_t)tz->off0 * 1000;
        while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;

                if (tz->at[mid] <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        return (int64_t)tz->off[lo] * 1000;
}

int64_t sql_tz_to_utc(const struct sql_tz *tz, int64_t local_ms)
{
        const int64_t day = 86400000;
        int64_t ob, oa, cb, ca;
        bool vb, va;

        if (!tz || !tz->n)
                return local_ms - (tz ? (int64_t)tz->off0 * 1000 : 0);
        /* The offsets a day either side are the only candidates (zones do
         * not change twice within two days). */
        ob = sql_tz_off_at(tz, local_ms - day);
        oa = sql_tz_off_at(tz, local_ms + day);
        cb = local_ms - ob;
        ca = local_ms - oa;
        vb = sql_tz_off_at(tz, cb) == ob;
        va = sql_tz_off_at(tz, ca) == oa;
        if (vb && va)
                return cb < ca ? cb : ca;
        if (va)
                return ca;
        return cb;      /* valid, or in a gap: the offset before the jump */
}

/* ------------------------------------------------------------------------
 * PostgreSQL
 */

enum sql_type sql_pg_type(unsigned oid, char *db_type, size_t n)
{
        static const struct { unsigned oid; const char *name; enum sql_type t; } map[] = {
                { 20, "int8", SQL_T_INT },    { 21, "int2", SQL_T_INT },
                { 23, "int4", SQL_T_INT },    { 26, "oid", SQL_T_INT },
                { 1700, "numeric", SQL_T_NUM }, { 700, "float4", SQL_T_NUM },
                { 701, "float8", SQL_T_NUM }, { 16, "bool", SQL_T_BOOL },
                { 1114, "timestamp", SQL_T_TIME }, { 1184, "timestamptz", SQL_T_TIME },
                { 1082, "date", SQL_T_TIME }, { 25, "text", SQL_T_TEXT },
                { 1043, "varchar", SQL_T_TEXT }, { 1042, "bpchar", SQL_T_TEXT },
                { 19, "name", SQL_T_TEXT },
        };

        for (size_t i = 0; i < LO_ARRAY_LEN(map); i++)
                if (map[i].oid == oid) {
                        if (db_type)
                                snprintf(db_type, n, "%s", map[i].name);
                        return map[i].t;
                }
        if (db_type)
                snprintf(db_type, n, "oid %u", oid);
        return SQL_T_TEXT;
}

int sql_pg_cell(enum sql_type type, const char *text, struct sql_cell *cell, struct err *err)
{
        memset(cell, 0, sizeof *cell);
        if (!text) {
                cell->null = true;
                return 0;
        }
        switch (type) {
        case SQL_T_INT:
                if (sql_parse_int(text, &cell->i) == 0)
                        return 0;
                break;
        case SQL_T_NUM:
                if (sql_parse_num(text, &cell->d) == 0) {
                        cell->text = text;
                        return 0;
                }
                break;
        case SQL_T_BOOL:
                if (strcmp(text, "t") == 0 || strcmp(text, "true") == 0) {
                        cell->i = 1;
                        return 0;
                }
                if (strcmp(text, "f") == 0 || strcmp(text, "false") == 0)
                        return 0;
                break;
        case SQL_T_TIME:
                if (sql_parse_time(text, &cell->i) == 0)
                        return 0;
                break;
        case SQL_T_TEXT:
                cell->text = text;
                return 0;
        }
        err_set(err, EPROTO, "cannot read %s value \"%.40s\"", sql_type_name(type), text);
        return -1;
}

/* One streamed libpq query into a sink. */
struct sql_pg_run {
        const struct sql_sink *sink;
        bool             begun;
        size_t           ncols;
        struct sql_col  *cols;
        struct sql_cell *cells;
        char           (*dbt)[24];
};

static int sql_pg_on_result(void *ud, const PGresult *res, struct err *err)
{
        struct sql_pg_run *r = ud;
        int nt = PQntuples(res);

        if (!r->begun) {
                r->ncols = (size_t)PQnfields(res);
                r->cols = xcalloc(r->ncols ? r->ncols : 1, sizeof *r->cols);
                r->cells = xcalloc(r->ncols ? r->ncols : 1, sizeof *r->cells);
                r->dbt = xcalloc(r->ncols ? r->ncols : 1, sizeof *r->dbt);
                for (size_t i = 0; i < r->ncols; i++) {
                        r->cols[i].name = PQfname(res, (int)i);
                        r->cols[i].type = sql_pg_type(PQftype(res, (int)i), r->dbt[i],
                                                      sizeof r->dbt[i]);
                        r->cols[i].db_type = r->dbt[i];
                }
                r->begun = true;
                if (r->sink->begin && r->sink->begin(r->sink->ud, r->cols, r->ncols, err) < 0)
                        return -1;
        }
        for (int row = 0; row < nt; row++) {
                for (size_t i = 0; i < r->ncols; i++) {
                        const char *v = PQgetisnull(res, row, (int)i) ? NULL
                                                                      : PQgetvalue(res, row, (int)i);
                        struct err e;

                        if (sql_pg_cell(r->cols[i].type, v, &r->cells[i], &e) < 0) {
                                err_set(err, EPROTO, "column %s: %s", r->cols[i].name, e.msg);
                                return -1;
                        }
                }
                if (r->sink->row && r->sink->row(r->sink->ud, r->cells, r->ncols, err) < 0)
                        return -1;
        }
        return 0;
}

/* Column names point into the first PGresult, which libpq frees after the
 * callback: keep copies once begin() has run. */
static void sql_pg_run_done(struct sql_pg_run *r)
{
        free(r->cols);
        free(r->cells);
        free(r->dbt);
}

struct sql_pg {
        const struct source_cfg *src;
        struct pgconn pc;
};

#define SQL_PG_OPTIONS "-c TimeZone=UTC -c DateStyle=ISO,MDY -c IntervalStyle=postgres"

static void *sql_pg_open(const struct source_cfg *src, int64_t timeout_ms)
{
        struct sql_pg *h = xcalloc(1, sizeof *h);

        h->src = src;
        pgconn_init(&h->pc, src->kind_cfg, timeout_ms, SQL_PG_OPTIONS);
        return h;
}

static int sql_pg_run(void *hv, const struct coll_ctx *ctx, const char *sql,
                      const struct sql_sink *sink, struct err *err)
{
        struct sql_pg *h = hv;
        bool fresh = false;
        int rc;

        for (;;) {
                struct sql_pg_run r = { .sink = sink };

                if (!h->pc.conn) {
                        if (pgconn_open(&h->pc, ctx, err) < 0)
                                return -1;
                        fresh = true;
                }
                rc = pgconn_stream(&h->pc, ctx, NULL, sql, sql_pg_on_result, &r, err);
                sql_pg_run_done(&r);
                /* A reused connection that broke before any row (server
                 * restarted, idle timeout): once more on a new one. */
                if (rc < 0 && !fresh && !r.begun && err->code == ECONNRESET &&
                    !coll_stopping(ctx)) {
                        err_clear(err);
                        continue;
                }
                return rc;
        }
}

static void sql_pg_close(void *hv)
{
        struct sql_pg *h = hv;

        if (!h)
                return;
        pgconn_close(&h->pc);
        free(h);
}

/* ------------------------------------------------------------------------
 * ClickHouse
 */

/* Copies the inside of "Name(...)" when s starts with "Name(". */
static bool sql_ch_unwrap(const char *s, const char *name, char *out, size_t n)
{
        size_t l = strlen(name), sl = strlen(s);

        if (strncmp(s, name, l) != 0 || s[l] != '(' || sl < l + 2 || s[sl - 1] != ')')
                return false;
        snprintf(out, n, "%.*s", (int)(sl - l - 2), s + l + 1);
        return true;
}

/* The first single-quoted string in s, into out (n bytes), or "". */
static void sql_ch_quoted(const char *s, char *out, size_t n)
{
        const char *a = strchr(s, '\''), *b = a ? strchr(a + 1, '\'') : NULL;

        if (!a || !b) {
                if (n)
                        out[0] = '\0';
                return;
        }
        snprintf(out, n, "%.*s", (int)(b - a - 1), a + 1);
}

enum sql_type sql_ch_type(const char *ch_type, char *tz, size_t n)
{
        char t[256], in[256];

        if (tz && n)
                tz[0] = '\0';
        snprintf(t, sizeof t, "%s", ch_type ? ch_type : "");
        while (sql_ch_unwrap(t, "Nullable", in, sizeof in) ||
               sql_ch_unwrap(t, "LowCardinality", in, sizeof in))
                memcpy(t, in, sizeof t);
        if (strncmp(t, "DateTime", 8) == 0) {
                if (tz && n)
                        sql_ch_quoted(t, tz, n);
                return SQL_T_TIME;
        }
        if (strcmp(t, "Date") == 0 || strcmp(t, "Date32") == 0)
                return SQL_T_TIME;
        if (strcmp(t, "Bool") == 0 || strcmp(t, "Boolean") == 0)
                return SQL_T_BOOL;
        if (strncmp(t, "Float", 5) == 0 || strncmp(t, "Decimal", 7) == 0 ||
            strcmp(t, "Int128") == 0 || strcmp(t, "Int256") == 0 ||
            strcmp(t, "UInt128") == 0 || strcmp(t, "UInt256") == 0)
                return SQL_T_NUM;
        if (strncmp(t, "UInt", 4) == 0 || strncmp(t, "Int", 3) == 0)
                return isdigit((unsigned char)t[strncmp(t, "UInt", 4) == 0 ? 4 : 3])
                       ? SQL_T_INT : SQL_T_TEXT;
        return SQL_T_TEXT;
}

/* memmem, which glibc hides behind _GNU_SOURCE. */
static const char *sql_memfind(const char *h, size_t hn, const char *n, size_t nn)
{
        for (size_t i = 0; nn <= hn && i <= hn - nn; i++)
                if (h[i] == n[0] && memcmp(h + i, n, nn) == 0)
                        return h + i;
        return NULL;
}

/* Finds "Code: N" followed by '.' or ',' (a ClickHouse exception) in the
 * body and copies its line into err. Returns true when found. */
static bool sql_ch_exception(const char *body, size_t len, struct err *err)
{
        const char *p = body, *end = body + len;

        while (p < end && (p = sql_memfind(p, (size_t)(end - p), "Code: ", 6)) != NULL) {
                const char *q = p + 6, *e;

                while (q < end && isdigit((unsigned char)*q))
                        q++;
                if (q > p + 6 && q < end && (*q == '.' || *q == ',')) {
                        e = memchr(p, '\n', (size_t)(end - p));
                        if (!e)
                                e = end;
                        /* Inside a JSON string the newline is "\n". */
                        for (const char *s = p; s + 1 < e; s++)
                                if (s[0] == '\\' && s[1] == 'n') {
                                        e = s;
                                        break;
                                }
                        err_set(err, EPROTO, "ClickHouse error: %.*s", (int)(e - p > 200 ? 200 : e - p),
                                p);
                        return true;
                }
                p += 6;
        }
        return false;
}

struct sql_ch_col {
        enum sql_type type;
        bool date_only;                 /* Date/Date32: no zone */
        const struct sql_tz *tz;        /* for DateTime; NULL = UTC */
};

/* Decodes one JSON value of a column into cell; text goes to scratch at
 * *off (pointers are fixed up by the caller). */
static int sql_ch_value(const struct sql_ch_col *c, const struct sql_jval *v, struct sql_cell *cell,
                        char **scratch, size_t *len, size_t *cap, size_t *off, struct err *err)
{
        char raw[128];
        const char *s;
        size_t start = *len;

        memset(cell, 0, sizeof *cell);
        *off = (size_t)-1;
        if (v->n == 4 && memcmp(v->p, "null", 4) == 0) {
                cell->null = true;
                return 0;
        }
        if (v->p[0] == '"') {
                if (sql_unescape(v->p, v->n, scratch, len, cap) < 0)
                        goto bad;
                (*len)++;       /* keep the NUL */
        } else {
                if (*cap < *len + v->n + 1) {
                        *cap = (*len + v->n + 1) * 2;
                        *scratch = xrealloc(*scratch, *cap);
                }
                memcpy(*scratch + *len, v->p, v->n);
                (*scratch)[*len + v->n] = '\0';
                *len += v->n + 1;
        }
        s = *scratch + start;
        switch (c->type) {
        case SQL_T_TEXT:
                *off = start;
                return 0;
        case SQL_T_INT:
                if (sql_parse_int(s, &cell->i) < 0)
                        goto bad;
                return 0;
        case SQL_T_NUM:
                if (sql_parse_num(s, &cell->d) < 0)
                        goto bad;
                *off = start;
                return 0;
        case SQL_T_BOOL:
                if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
                        cell->i = 1;
                else if (strcmp(s, "false") != 0 && strcmp(s, "0") != 0)
                        goto bad;
                return 0;
        case SQL_T_TIME:
                if (v->p[0] != '"' || sql_parse_time(s, &cell->i) < 0)
                        goto bad;
                /* A zone in the text would be explicit; ClickHouse prints
                 * wall time in the column's or the server's zone. */
                if (!c->date_only && c->tz)
                        cell->i = sql_tz_to_utc(c->tz, cell->i);
                return 0;
        }
bad:
        snprintf(raw, sizeof raw, "%.*s", (int)(v->n > 40 ? 40 : v->n), v->p);
        err_set(err, EPROTO, "cannot read %s value %s", sql_type_name(c->type), raw);
        return -1;
}

#define SQL_CH_MAX_TZ 8

int sql_ch_decode(const char *body, size_t len, const char *server_tz,
                  const struct sql_sink *sink, struct err *err)
{
        struct sql_jval meta, data, row, v, k;
        struct sql_col *cols = NULL;
        struct sql_ch_col *cc = NULL;
        struct sql_cell *cells = NULL;
        struct sql_tz *tzs[SQL_CH_MAX_TZ] = { 0 };
        char *tznames[SQL_CH_MAX_TZ] = { 0 };
        size_t ntz = 0, ncols = 0, pos = 0, *offs = NULL;
        char *scratch = NULL;
        size_t slen = 0, scap = 0;
        struct err e;
        int rc = -1, r;

        err_clear(&e);
        if (!body || (r = sql_json_member(body, len, "meta", &meta, &e)) < 0) {
                if (!body || !sql_ch_exception(body, len, err))
                        err_set(err, EPROTO, "ClickHouse answered with something other than "
                                "FORMAT JSON (%s)", body ? e.msg : "no body");
                return -1;
        }
        if (r == 0 || sql_json_member(body, len, "data", &data, &e) != 1) {
                if (!sql_ch_exception(body, len, err))
                        err_set(err, EPROTO, "ClickHouse JSON has no \"meta\" or \"data\"");
                return -1;
        }
        if (sql_json_member(body, len, "exception", &v, &e) == 1) {
                char *s = NULL;

                if (sql_json_string(&v, &s, NULL) == 0 && s && sql_ch_exception(s, strlen(s), err)) {
                        free(s);
                        return -1;
                }
                free(s);
        }
        /* Columns. */
        for (size_t i = 0; (r = sql_json_next(&meta, &pos, &v, &e)) == 1; i++) {
                cJSON *m = cJSON_ParseWithLength(v.p, v.n);
                const cJSON *jn = cJSON_GetObjectItemCaseSensitive(m, "name");
                const cJSON *jt = cJSON_GetObjectItemCaseSensitive(m, "type");
                char tz[80];

                if (!m) {
                        err_set(err, EPROTO, "ClickHouse JSON meta[%zu]: %s", i,
                                json_parse_why(v.p, v.n, "not JSON"));
                        goto out;
                }
                if (!cJSON_IsString(jn) || !cJSON_IsString(jt)) {
                        cJSON_Delete(m);
                        err_set(err, EPROTO, "ClickHouse JSON meta[%zu] lacks name or type", i);
                        goto out;
                }
                cols = xrealloc(cols, (ncols + 1) * sizeof *cols);
                cc = xrealloc(cc, (ncols + 1) * sizeof *cc);
                cols[ncols].name = xstrdup(jn->valuestring);
                cols[ncols].db_type = xstrdup(jt->valuestring);
                cols[ncols].type = sql_ch_type(jt->valuestring, tz, sizeof tz);
                cc[ncols].type = cols[ncols].type;
                cc[ncols].tz = NULL;
                cc[ncols].date_only = cc[ncols].type == SQL_T_TIME &&
                                      strncmp(jt->valuestring + (strncmp(jt->valuestring,
                                              "Nullable(", 9) == 0 ? 9 : 0), "DateTime", 8) != 0;
                ncols++;
                cJSON_Delete(m);
                if (cc[ncols - 1].type == SQL_T_TIME && !cc[ncols - 1].date_only) {
                        const char *name = tz[0] ? tz : (server_tz ? server_tz : "");
                        size_t j;

                        for (j = 0; j < ntz; j++)
                                if (strcmp(tznames[j], name) == 0)
                                        break;
                        if (j == ntz) {
                                if (ntz == SQL_CH_MAX_TZ) {
                                        err_set(err, EPROTO, "too many time zones in one result");
                                        goto out;
                                }
                                tzs[ntz] = sql_tz_load(name, err);
                                if (!tzs[ntz])
                                        goto out;
                                tznames[ntz++] = xstrdup(name);
                        }
                        cc[ncols - 1].tz = tzs[j];
                }
        }
        if (r < 0) {
                err_set(err, EPROTO, "ClickHouse JSON meta: %s", e.msg);
                goto out;
        }
        if (sink->begin && sink->begin(sink->ud, cols, ncols, err) < 0)
                goto out;
        cells = xcalloc(ncols ? ncols : 1, sizeof *cells);
        offs = xcalloc(ncols ? ncols : 1, sizeof *offs);
        /* Rows: objects (FORMAT JSON) or arrays (JSONCompact), in column order. */
        pos = 0;
        for (size_t rn = 0; (r = sql_json_next(&data, &pos, &row, &e)) == 1; rn++) {
                size_t rp = 0, i = 0;
                int rr;

                slen = 0;
                if (row.p[0] != '{' && row.p[0] != '[') {
                        err_set(err, EPROTO, "ClickHouse JSON data[%zu] is not a row", rn);
                        goto out;
                }
                while ((rr = sql_json_iter(&row, &rp, &k, &v, &e)) == 1) {
                        struct err ve;

                        if (i >= ncols) {
                                err_set(err, EPROTO, "ClickHouse row %zu has more than %zu values",
                                        rn, ncols);
                                goto out;
                        }
                        if (sql_ch_value(&cc[i], &v, &cells[i], &scratch, &slen, &scap, &offs[i],
                                         &ve) < 0) {
                                err_set(err, EPROTO, "column %s: %s", cols[i].name, ve.msg);
                                goto out;
                        }
                        i++;
                }
                if (rr < 0 || i != ncols) {
                        if (!sql_ch_exception(body, len, err))
                                err_set(err, EPROTO, "ClickHouse row %zu: %s", rn,
                                        rr < 0 ? e.msg : "wrong number of values");
                        goto out;
                }
                for (i = 0; i < ncols; i++)
                        cells[i].text = offs[i] == (size_t)-1 ? NULL : scratch + offs[i];
                if (sink->row && sink->row(sink->ud, cells, ncols, err) < 0)
                        goto out;
        }
        if (r < 0) {
                if (!sql_ch_exception(body, len, err))
                        err_set(err, EPROTO, "ClickHouse JSON data: %s", e.msg);
                goto out;
        }
        rc = 0;
out:
        for (size_t i = 0; i < ncols; i++) {
                free(cols[i].name);
                free(cols[i].db_type);
        }
        for (size_t i = 0; i < ntz; i++) {
                sql_tz_free(tzs[i]);
                free(tznames[i]);
        }
        free(cols);
        free(cc);
        free(cells);
        free(offs);
        free(scratch);
        return rc;
}

/* ------------------------------------------------------------------------
 * Runner registry and connections
 */

/* The PostgreSQL runner (collectors/postgres.c points its collector_ops.sql
 * here); ClickHouse's and Snowflake's are in their collectors. */
const struct sql_runner sql_pg_runner = { sql_pg_open, sql_pg_run, sql_pg_close };

/* The kinds whose collector sets collector_ops.sql, in registry order,
 * found once through the core's registry (clients include no collector). */
static const char *sql_kind_list[SQL_KINDS_MAX + 1];
static pthread_once_t sql_kind_once = PTHREAD_ONCE_INIT;

static void sql_kind_init(void)
{
        const struct collector_ops *ops;
        size_t n = 0;

        for (size_t i = 0; (ops = collector_nth(i)) != NULL; i++)
                if (ops->sql) {
                        assert(n < SQL_KINDS_MAX);
                        sql_kind_list[n++] = ops->name;
                }
}

const char *const *sql_kind_names(void)
{
        pthread_once(&sql_kind_once, sql_kind_init);
        return sql_kind_list;
}

/* A kind's runner: the collector_ops.sql of its collector. */
static const struct sql_runner *sql_runner_find(const char *kind)
{
        const struct collector_ops *ops = kind ? collector_find(kind) : NULL;

        return ops ? ops->sql : NULL;
}

bool sql_kind_queryable(const char *kind)
{
        return sql_runner_find(kind) != NULL;
}

struct sql_conn {
        const struct sql_runner *r;
        void *h;
};

struct sql_conn *sql_conn_new(const struct source_cfg *src, int64_t timeout_ms)
{
        const struct sql_runner *r = src ? sql_runner_find(src->kind) : NULL;
        struct sql_conn *c;

        if (!r)
                return NULL;
        c = xcalloc(1, sizeof *c);
        c->r = r;
        c->h = r->open(src, timeout_ms);
        return c;
}

void sql_conn_free(struct sql_conn *c)
{
        if (!c)
                return;
        c->r->close(c->h);
        free(c);
}

int sql_conn_run(struct sql_conn *c, const struct coll_ctx *ctx, const char *sql,
                 const struct sql_sink *sink, struct err *err)
{
        err_clear(err);
        return c->r->run(c->h, ctx, sql, sink, err);
}
