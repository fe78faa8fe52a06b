/*
 * ClickHouse collector: the speed layer's serving store over the HTTP
 * interface (port 8123/8443), through the shared libcurl client (src/http.h).
 *
 * One collector thread per source owns a `struct ch_state`: one HTTP client
 * (keep-alive), the server's capabilities (struct ch_caps) and the history
 * that turns polls into sparklines and counter rates. Nothing is shared with
 * other threads except the published `struct ch_data`.
 *
 * Requests. Every statement is a POST of "<sql> FORMAT JSON" with the
 * X-ClickHouse-User / X-ClickHouse-Key headers (never credentials in the
 * URL), query_id "lambdaops-<random>" and the settings readonly=2 and
 * max_execution_time = what is left of the poll's deadline, so the server
 * stops when we stop waiting. A profile with readonly=1 refuses any setting
 * (Code 164); we then send none, per call in coll_clickhouse_query() and
 * once per source in the collector. The whole poll shares one deadline
 * (coll_ctx) and quit aborts a transfer at once (http.c).
 *
 * Errors are plain text in two generations ("Code: 60, e.displayText() =
 * DB::Exception: ..., e.what() = DB::Exception" up to 21.x, "Code: 60.
 * DB::Exception: ... (UNKNOWN_TABLE) (version 23.8...)" since) with any
 * HTTP status (400/401/403/404/408/500/503), and an exception that happens
 * after the first block was sent arrives appended to a 200 body. A 200 is
 * accepted only when the body is one complete JSON document.
 *
 * Capabilities. At connect (first poll, after any failed poll, and when
 * uptime() goes backwards, i.e. the server restarted) we read version() and
 * system.columns for the system tables we use, and parts_to_delay_insert
 * from system.merge_tree_settings (150, the old default, when unreadable).
 * The queries follow: query_log.type is UInt8 up to 19.12 (1 start, 2
 * finish, 3 exception before start, 4 exception while processing) and an
 * Enum8 later, so type tests use numbers or names by the discovered type;
 * slow queries are deduplicated by normalized_query_hash when it exists
 * (by text otherwise); inserted rows count only query_kind = 'Insert' where
 * that column exists. While query_log is missing (it appears at its first
 * flush, and only with log_queries=1) we look again every poll.
 *
 * A poll runs up to eight small queries:
 *   overview   version(), uptime(), the server's now() (the windows' end E);
 *   counters   system.metrics MemoryTracking, system.events Query,
 *              FailedQuery, InsertedRows, InsertedBytes;
 *   latency    per window w in 1, 5, 15 min: count() and
 *              quantiles(0.5, 0.95, 0.99)(query_duration_ms) of finished
 *              initial queries with E - w < event_time <= E, our own
 *              (query_id 'lambdaops-%') left out;
 *   rates      the same filter over 1 min: queries (each query's end row),
 *              failed (types 3 and 4), written rows/bytes of inserts, / 60;
 *   slow       the 10 slowest finished queries of 15 min;
 *   tables     active parts per table and the most in one partition;
 *   merges     system.merges;
 *   replicas   system.replicas (cheap columns only: no ZooKeeper reads).
 * Without query_log the rates come from the system.events deltas between
 * polls (our own queries subtracted; FailedQuery only exists from 20.x on
 * here, so failed/s is unknown before), latency is unknown and the poll is
 * DEGRADED saying so. A failing overview is DOWN; a failing later query is
 * DEGRADED with what was read. Parsing is pure (ch_parse_*() over JSON
 * text), so tests feed it fixtures of both generations.
 *
 * Alerts (thresholds configurable, defaults in ch_thresholds):
 *   latency_p95_ms, latency_p99_ms   5-minute window
 *   failed_per_sec
 *   max_parts_per_partition          per table; at or above the server's
 *                                    parts_to_delay_insert it is crit
 *                                    whatever the threshold ("INSERTs are
 *                                    being delayed")
 *   replica_queue, replica_delay_s   per replicated table
 *   is_readonly, is_session_expired  crit per replicated table
 */
#include "collectors/clickhouse/clickhouse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "clients/sql.h"
#include "core/jsonout.h"
#include "core/ring.h"
#include "core/util.h"

#define CH_DEFAULT_DELAY_PARTS 150      /* parts_to_delay_insert before 23.6 */
#define CH_SLOW_N              10
#define CH_QUERY_DISPLAY       200      /* bytes of query text we keep */
#define CH_QUERY_FETCH         4096     /* characters of query text we fetch */
#define CH_OWN_PREFIX          "lambdaops-"

static const struct cfg_key ch_keys[] = {
        { "url",           CFG_STR,        offsetof(struct ch_cfg, url),           true,
          "HTTP(S) interface, e.g. http://127.0.0.1:8123 (no credentials in it)" },
        { "user",          CFG_STR,        offsetof(struct ch_cfg, user),          false,
          "ClickHouse user, sent as X-ClickHouse-User (default \"default\")" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct ch_cfg, password_env),  false,
          "name of an environment variable holding the password (sent as X-ClickHouse-Key)" },
        { "password_file", CFG_SECRET_REF, offsetof(struct ch_cfg, password_file), false,
          "path of a file holding the password (one trailing newline stripped)" },
        { "ca_file",       CFG_STR,        offsetof(struct ch_cfg, ca_file),       false,
          "PEM CA bundle to verify an https url (default: the system store)" },
        { "insecure",      CFG_BOOL,       offsetof(struct ch_cfg, insecure),      false,
          "skip TLS certificate and host name verification (test servers only)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def ch_thresholds[] = {
        { "latency_p95_ms",          THR_MS,    1000.0, 5000.0,
          "95th percentile of finished query durations over 5 minutes" },
        { "latency_p99_ms",          THR_MS,    3000.0, 10000.0,
          "99th percentile of finished query durations over 5 minutes" },
        { "failed_per_sec",          THR_RATE,  0.1,    1.0,
          "failed queries per second (last minute from query_log, else system.events)" },
        { "max_parts_per_partition", THR_COUNT, 100.0,  300.0,
          "active parts in the fullest partition of a table (crit anyway at parts_to_delay_insert)" },
        { "replica_queue",           THR_COUNT, 20.0,   100.0,
          "replication queue size of a replicated table" },
        { "replica_delay_s",         THR_COUNT, 60.0,   300.0,
          "absolute_delay of a replicated table, seconds" },
        { NULL, 0, 0, 0, NULL },
};

/* ------------------------------------------------------------------------
 * Exceptions and response checks (pure)
 */

static const struct {
        int code;
        const char *name;
} ch_code_names[] = {
        { 6, "CANNOT_PARSE_TEXT" }, { 16, "NO_SUCH_COLUMN_IN_TABLE" },
        { 27, "CANNOT_PARSE_INPUT_ASSERTION_FAILED" }, { 36, "BAD_ARGUMENTS" },
        { 43, "ILLEGAL_TYPE_OF_ARGUMENT" }, { 46, "UNKNOWN_FUNCTION" },
        { 47, "UNKNOWN_IDENTIFIER" }, { 53, "TYPE_MISMATCH" }, { 60, "UNKNOWN_TABLE" },
        { 62, "SYNTAX_ERROR" }, { 81, "UNKNOWN_DATABASE" }, { 115, "UNKNOWN_SETTING" },
        { 158, "TOO_MANY_ROWS" }, { 159, "TIMEOUT_EXCEEDED" }, { 160, "TOO_SLOW" },
        { 164, "READONLY" }, { 192, "UNKNOWN_USER" }, { 193, "WRONG_PASSWORD" },
        { 194, "REQUIRED_PASSWORD" }, { 195, "IP_ADDRESS_NOT_ALLOWED" },
        { 202, "TOO_MANY_SIMULTANEOUS_QUERIES" }, { 209, "SOCKET_TIMEOUT" },
        { 210, "NETWORK_ERROR" }, { 241, "MEMORY_LIMIT_EXCEEDED" }, { 252, "TOO_MANY_PARTS" },
        { 394, "QUERY_WAS_CANCELLED" }, { 395, "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO" },
        { 396, "TOO_MANY_ROWS_OR_BYTES" }, { 497, "ACCESS_DENIED" },
        { 516, "AUTHENTICATION_FAILED" },
};

static const char *ch_code_name(int code)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(ch_code_names); i++)
                if (ch_code_names[i].code == code)
                        return ch_code_names[i].name;
        return "";
}

static bool ch_is_auth_code(int code)
{
        return code == 192 || code == 193 || code == 194 || code == 195 || code == 516;
}

/* memmem for possibly NUL-containing bodies: the last match, or NULL. */
static const char *ch_memrstr(const char *s, size_t len, const char *needle)
{
        size_t nl = strlen(needle);

        if (nl == 0 || len < nl)
                return NULL;
        for (size_t i = len - nl + 1; i-- > 0; )
                if (memcmp(s + i, needle, nl) == 0)
                        return s + i;
        return NULL;
}

/* Where a "Code: " can start an exception: the body's start, a new line,
 * or right after the JSON that was streamed before it ("...}Code: 395").
 * Not inside a string value ("\"Code: 1\""). */
static bool ch_code_at(const char *body, const char *c)
{
        return c == body || strchr("}]\n\r\t ,", c[-1]) != NULL;
}

/* Cuts the text after the code to the bare message and the NAME of the new
 * form ("... (UNKNOWN_TABLE) (version 23.8.2.7 (official build))"). */
static void ch_exception_text(const char *p, const char *end, struct ch_exception *ex)
{
        char tmp[512], *m, *cut;
        size_t n = 0;

        for (; p < end && *p != '\n' && n + 1 < sizeof tmp; p++)
                tmp[n++] = *p == '\0' || *p == '\r' || *p == '\t' ? ' ' : *p;
        tmp[n] = '\0';
        m = tmp;
        while (*m == ' ')
                m++;
        if (strncmp(m, "e.displayText() = ", 18) == 0)
                m += 18;
        if (strncmp(m, "DB::Exception: ", 15) == 0)
                m += 15;
        else if (strncmp(m, "DB::NetException: ", 18) == 0)
                m += 18;
        /* Old tail ", e.what() = DB::Exception"; version tail. */
        if ((cut = strstr(m, ", e.what() = ")) != NULL)
                *cut = '\0';
        if ((cut = strstr(m, " (version ")) != NULL)
                *cut = '\0';
        n = strlen(m);
        while (n > 0 && m[n - 1] == ' ')
                m[--n] = '\0';
        /* The new form ends with " (NAME)". */
        if (n > 3 && m[n - 1] == ')') {
                char *open = strrchr(m, '(');
                bool name = open && open > m && open[-1] == ' ' && open + 1 < m + n - 1;

                for (char *c = open ? open + 1 : NULL; name && c < m + n - 1; c++)
                        if (!isupper((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_')
                                name = false;
                if (name) {
                        size_t nl = (size_t)(m + n - 1 - (open + 1));

                        if (nl >= sizeof ex->name)
                                nl = sizeof ex->name - 1;
                        memcpy(ex->name, open + 1, nl);
                        ex->name[nl] = '\0';
                        open[-1] = '\0';
                }
        }
        str_copy(ex->msg, m, sizeof ex->msg);
}

int ch_exception_parse(const char *body, size_t len, struct ch_exception *ex)
{
        const char *p = NULL, *end = body ? body + len : NULL, *q;
        long code = 0;

        memset(ex, 0, sizeof *ex);
        if (!body)
                return -1;
        /* The last "Code: N" followed by '.' or ',' (the exception is what
         * ends the body). */
        for (size_t left = len; left > 0; ) {
                const char *c = ch_memrstr(body, left, "Code: ");

                if (!c)
                        break;
                q = c + 6;
                code = 0;
                while (q < end && isdigit((unsigned char)*q) && code < 1000000)
                        code = code * 10 + (*q++ - '0');
                if (q > c + 6 && q < end && (*q == '.' || *q == ',') && code > 0 &&
                    ch_code_at(body, c)) {
                        p = q;
                        break;
                }
                left = (size_t)(c - body);
        }
        if (!p)
                return -1;
        ex->code = (int)code;
        ch_exception_text(p + 1, end, ex);
        if (!ex->name[0])
                str_copy(ex->name, ch_code_name(ex->code), sizeof ex->name);
        return 0;
}

/* Replaces every occurrence of secret (when non-empty) in msg with "***". */
static void ch_redact(char *msg, size_t n, const char *secret)
{
        size_t slen = secret ? strlen(secret) : 0;
        char *p;

        if (slen == 0)
                return;
        while ((p = strstr(msg, secret)) != NULL) {
                char *tmp = xasprintf("%.*s***%s", (int)(p - msg), msg, p + slen);

                str_copy(msg, tmp, n);
                free(tmp);
        }
}

static void ch_exception_err(const struct ch_exception *ex, long status, const char *password,
                             struct err *err)
{
        char msg[256], *masked;

        masked = ch_query_display(ex->msg, 180);
        snprintf(msg, sizeof msg, "ClickHouse error %d%s%s%s: %s%s", ex->code,
                 ex->name[0] ? " (" : "", ex->name, ex->name[0] ? ")" : "", masked,
                 ch_is_auth_code(ex->code) ? " (check user and password_env/password_file)"
                 : ex->code == 159 ? " (the source timeout cut the query)" : "");
        free(masked);
        (void)status;
        ch_redact(msg, sizeof msg, password);
        err_set(err, ex->code, "%s", msg);
}

int ch_response_check(long status, const char *body, size_t len, const char *password,
                      struct err *err)
{
        struct ch_exception ex;
        size_t n = len;

        if (status == 200) {
                while (n > 0 && isspace((unsigned char)body[n - 1]))
                        n--;
                if (n > 0 && body[n - 1] == '}' && body[0] == '{')
                        return 0;
                if (ch_exception_parse(body, len, &ex) == 0) {
                        ch_exception_err(&ex, status, password, err);
                        return -1;
                }
                err_set(err, CH_ERR_BADJSON, "ClickHouse sent an incomplete or non-JSON answer "
                        "(%zu bytes): is the url a ClickHouse HTTP port?", len);
                return -1;
        }
        if (ch_exception_parse(body, len, &ex) == 0) {
                ch_exception_err(&ex, status, password, err);
                return -1;
        }
        err_set(err, CH_ERR_HTTP, "HTTP %ld %s%s(no ClickHouse error text): is the url a "
                "ClickHouse HTTP port?", status, http_status_text(status),
                http_status_text(status)[0] ? " " : "");
        return -1;
}

/* ------------------------------------------------------------------------
 * Query text for display (pure)
 */

struct ch_buf {
        char  *s;
        size_t n, cap;
};

static void ch_buf_put(struct ch_buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = '\0';
}

static bool ch_word_is(const char *w, size_t n, const char *kw)
{
        return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* Table functions and engines whose string arguments from `from` on carry
 * credentials: mysql('host', 'db', 'table', 'user', 'pw'), s3(url, key,
 * secret), remote(addr, db, table, user, pw), ... Returns the index of the
 * first secret argument, or -1. */
static int ch_cred_func(const char *w, size_t n)
{
        static const struct {
                const char *name;
                int from;
        } f[] = {
                { "mysql", 3 }, { "postgresql", 3 }, { "remote", 3 }, { "remoteSecure", 3 },
                { "MaterializedMySQL", 3 }, { "MaterializedPostgreSQL", 3 }, { "mongodb", 3 },
                { "redis", 3 }, { "azureBlobStorage", 3 }, { "azureBlobStorageCluster", 4 },
                { "s3", 1 }, { "s3Cluster", 2 }, { "cosn", 1 }, { "oss", 1 }, { "gcs", 1 },
                { "S3", 1 }, { "deltaLake", 1 }, { "hudi", 1 }, { "iceberg", 1 },
        };

        for (size_t i = 0; i < LO_ARRAY_LEN(f); i++)
                if (ch_word_is(w, n, f[i].name))
                        return f[i].from;
        return -1;
}

/* Masks the value after key= for secret-looking keys inside one string
 * literal's text (connection strings: "...;Password=x;", "pwd=x&",
 * "AccountKey=..."). Appends to b. */
static void ch_put_literal(struct ch_buf *b, const char *s, size_t n)
{
        static const char *const keys[] = {
                "password=", "pwd=", "passwd=", "accountkey=", "sharedaccesssignature=",
                "secret=", "token=", "sig=",
        };
        size_t i = 0, from = 0;

        while (i < n) {
                size_t klen = 0;

                for (size_t k = 0; k < LO_ARRAY_LEN(keys) && !klen; k++) {
                        size_t l = strlen(keys[k]);

                        if (i + l <= n && strncasecmp(s + i, keys[k], l) == 0 &&
                            (i == 0 || !isalnum((unsigned char)s[i - 1])))
                                klen = l;
                }
                if (!klen) {
                        i++;
                        continue;
                }
                ch_buf_put(b, s + from, i + klen - from);
                ch_buf_put(b, "***", 3);
                i += klen;
                while (i < n && s[i] != ';' && s[i] != '&' && s[i] != ' ' && s[i] != '\'')
                        i++;
                from = i;
        }
        ch_buf_put(b, s + from, n - from);
}

/* Masks "scheme://user:password@" password parts in place (into a copy). */
static char *ch_mask_urls(const char *s)
{
        struct ch_buf b = { 0 };
        const char *p = s;

        ch_buf_put(&b, "", 0);
        for (;;) {
                const char *sch = strstr(p, "://"), *q, *colon = NULL, *at = NULL;

                if (!sch) {
                        ch_buf_put(&b, p, strlen(p));
                        break;
                }
                q = sch + 3;
                for (; *q && *q != '/' && *q != '\'' && *q != '"' && *q != ' ' && *q != '?' &&
                       *q != '#' && *q != '\\'; q++) {
                        if (*q == ':' && !colon)
                                colon = q;
                        if (*q == '@')
                                at = q;
                }
                if (colon && at && colon < at) {
                        ch_buf_put(&b, p, (size_t)(colon + 1 - p));
                        ch_buf_put(&b, "***", 3);
                        p = at;
                } else {
                        ch_buf_put(&b, p, (size_t)(sch + 3 - p));
                        p = sch + 3;
                }
        }
        return b.s;
}

char *ch_query_display(const char *query, size_t max)
{
        struct ch_buf b = { 0 };
        const char *p = query ? query : "";
        int depth = 0, cred_depth = -1, cred_from = 0, cred_arg = 0;
        enum { PEND_NONE, PEND_IDENT, PEND_LIT } pend = PEND_NONE;
        char *masked, *out;
        size_t o = 0, len;
        bool space = true;

        ch_buf_put(&b, "", 0);
        while (*p) {
                unsigned char c = (unsigned char)*p;

                if (c == '\'') {
                        const char *q = p + 1;
                        bool mask = pend != PEND_NONE ||
                                    (cred_depth == depth && cred_arg >= cred_from);

                        while (*q) {
                                if (*q == '\\' && q[1]) {
                                        q += 2;
                                        continue;
                                }
                                if (*q == '\'' && q[1] == '\'') {
                                        q += 2;
                                        continue;
                                }
                                if (*q == '\'')
                                        break;
                                q++;
                        }
                        if (mask)
                                ch_buf_put(&b, *q ? "'***'" : "'***", *q ? 5 : 4);
                        else
                                ch_put_literal(&b, p, (size_t)(q - p) + (*q ? 1 : 0));
                        if (mask && pend != PEND_NONE)
                                pend = PEND_NONE;
                        p = *q ? q + 1 : q;
                        continue;
                }
                if (c == '"' || c == '`') {
                        const char *q = p + 1;

                        while (*q && *q != (char)c) {
                                if (*q == '\\' && q[1])
                                        q++;
                                q++;
                        }
                        ch_buf_put(&b, p, (size_t)(q - p) + (*q ? 1 : 0));
                        p = *q ? q + 1 : q;
                        continue;
                }
                if (isalpha(c) || c == '_') {
                        const char *q = p;
                        size_t n;
                        int from;

                        while (isalnum((unsigned char)*q) || *q == '_')
                                q++;
                        n = (size_t)(q - p);
                        if (ch_word_is(p, n, "IDENTIFIED")) {
                                pend = PEND_IDENT;
                        } else if (ch_word_is(p, n, "PASSWORD") || ch_word_is(p, n, "SECRET") ||
                                   ch_word_is(p, n, "SECRET_ACCESS_KEY") ||
                                   ch_word_is(p, n, "AWS_SECRET_ACCESS_KEY") ||
                                   ch_word_is(p, n, "ACCOUNT_KEY") ||
                                   ch_word_is(p, n, "KEY_SECRET")) {
                                pend = PEND_LIT;
                        } else if (pend == PEND_LIT) {
                                pend = PEND_NONE;
                        } else if ((from = ch_cred_func(p, n)) >= 0 && cred_depth < 0) {
                                const char *r = q;

                                while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
                                        r++;
                                if (*r == '(') {
                                        cred_depth = depth + 1;
                                        cred_from = from;
                                        cred_arg = 0;
                                }
                        }
                        ch_buf_put(&b, p, n);
                        p = q;
                        continue;
                }
                if (c == '(') {
                        depth++;
                } else if (c == ')') {
                        if (depth == cred_depth)
                                cred_depth = -1;
                        if (depth > 0)
                                depth--;
                        if (pend == PEND_LIT)
                                pend = PEND_NONE;
                } else if (c == ',') {
                        if (depth == cred_depth)
                                cred_arg++;
                        if (pend == PEND_LIT)
                                pend = PEND_NONE;
                } else if (c == ';') {
                        pend = PEND_NONE;
                }
                ch_buf_put(&b, p, 1);
                p++;
        }

        masked = ch_mask_urls(b.s);
        free(b.s);
        /* Collapse whitespace and control characters; clip on a UTF-8
         * boundary. */
        len = strlen(masked);
        out = xmalloc(len + 4);
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)masked[i];

                if (c < 0x20 || c == 0x7f || c == ' ') {
                        if (!space)
                                out[o++] = ' ';
                        space = true;
                        continue;
                }
                out[o++] = (char)c;
                space = false;
        }
        while (o > 0 && out[o - 1] == ' ')
                o--;
        out[o] = '\0';
        free(masked);
        if (max >= 4 && o > max) {
                size_t cut = max - 3;

                while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
                        cut--;
                while (cut > 0 && out[cut - 1] == ' ')
                        cut--;
                memcpy(out + cut, "...", 4);
        } else {
                /* Drop an incomplete UTF-8 sequence at the end (the server
                 * cut the text by bytes). */
                size_t k = o, cont = 0;

                while (k > 0 && ((unsigned char)out[k - 1] & 0xC0) == 0x80 && cont < 3) {
                        k--;
                        cont++;
                }
                if (k > 0 && ((unsigned char)out[k - 1] & 0x80)) {
                        unsigned char lead = (unsigned char)out[k - 1];
                        size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;

                        if (need != cont)
                                out[k - 1] = '\0';
                }
        }
        return out;
}

/* ------------------------------------------------------------------------
 * Running a statement
 */

static void ch_query_id(char *buf, size_t n)
{
        unsigned char r[8] = { 0 };
        uint64_t x = 0;

        if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
                x = (uint64_t)clock_mono_ms() ^ ((uint64_t)getpid() << 32);
        } else {
                for (size_t i = 0; i < sizeof r; i++)
                        x = x << 8 | r[i];
        }
        snprintf(buf, n, CH_OWN_PREFIX "%016" PRIx64, x);
}

/* "<sql> FORMAT JSON" without a trailing ';'. Owned. */
static char *ch_sql_json(const char *sql)
{
        size_t n = strlen(sql);

        while (n > 0 && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
                n--;
        return xasprintf("%.*s\nFORMAT JSON", (int)n, sql);
}

/* The url with our parameters: "http://h:8123" gets "/?...", a url with a
 * path "?...", one with a query string "&...". Owned. */
static char *ch_url(const char *base, const struct coll_ctx *ctx, bool settings)
{
        const char *host = strstr(base, "://"), *sep;
        int64_t left = ctx->deadline_mono - clock_mono_ms();
        /* Whole seconds, rounded down: the server gives up no later than we
         * do, and tells us why (TIMEOUT_EXCEEDED) rather than a bare
         * transport timeout. */
        int64_t secs = left >= 2000 ? left / 1000 : 1;
        char qid[40];

        host = host ? host + 3 : base;
        if (strchr(base, '?'))
                sep = "&";
        else if (strchr(host, '/'))
                sep = "?";
        else
                sep = "/?";
        ch_query_id(qid, sizeof qid);
        if (!settings)
                return xasprintf("%s%squery_id=%s", base, sep, qid);
        return xasprintf("%s%squery_id=%s&readonly=2&max_execution_time=%lld", base, sep, qid,
                         (long long)secs);
}

/* Puts the configured url in place of the request url in transport
 * messages (ours carries query_id and settings). */
static void ch_fix_url_msg(struct err *err, const char *req_url, const char *base)
{
        char *rm = http_url_mask(req_url), *bm = http_url_mask(base), *p;

        if ((p = strstr(err->msg, rm)) != NULL) {
                char *tmp = xasprintf("%.*s%s%s", (int)(p - err->msg), err->msg, bm,
                                      p + strlen(rm));

                str_copy(err->msg, tmp, sizeof err->msg);
                free(tmp);
        }
        free(rm);
        free(bm);
}

/* One request. *settings_refused is set when the server refused our
 * settings (readonly=1 profile). Returns 0 or -1 with err set. */
static int ch_request(struct http_client *client, const struct ch_cfg *cfg,
                      const struct coll_ctx *ctx, const char *sql_json, const char *password,
                      bool settings, struct http_response *out, bool *settings_refused,
                      struct err *err)
{
        char *user_hdr, *key_hdr = NULL, *url;
        const char *hdrs[3] = { NULL, NULL, NULL };
        struct http_request req = { 0 };
        int rc;

        *settings_refused = false;
        if (password && strpbrk(password, "\r\n")) {
                err_set(err, CH_ERR_TRANSPORT, "the password contains a line break: check "
                        "password_env/password_file");
                return -1;
        }
        user_hdr = xasprintf("X-ClickHouse-User: %s", cfg->user && *cfg->user ? cfg->user
                                                                              : "default");
        hdrs[0] = user_hdr;
        if (password && *password) {
                key_hdr = xasprintf("X-ClickHouse-Key: %s", password);
                hdrs[1] = key_hdr;
        }
        url = ch_url(cfg->url, ctx, settings);
        req.method = "POST";
        req.url = url;
        req.body = sql_json;
        req.content_type = "text/plain; charset=utf-8";
        req.headers = hdrs;
        rc = http_do(client, ctx, &req, out, err);
        if (key_hdr) {
                explicit_bzero(key_hdr, strlen(key_hdr));
                free(key_hdr);
        }
        free(user_hdr);
        if (rc != 0) {
                ch_fix_url_msg(err, url, cfg->url);
                ch_redact(err->msg, sizeof err->msg, password);
                err->code = CH_ERR_TRANSPORT;
                free(url);
                http_response_done(out);
                return -1;
        }
        free(url);
        if (ch_response_check(out->status, out->body, out->len, password, err) != 0) {
                if (settings && err->code == 164)
                        *settings_refused = true;
                http_response_done(out);
                return -1;
        }
        return 0;
}

static char *ch_password(const struct ch_cfg *cfg, struct err *err)
{
        struct err perr;
        char *pw;

        err_clear(&perr);
        pw = config_secret_resolve(cfg->password_env, cfg->password_file, &perr);
        if (!pw && perr.msg[0]) {
                err_set(err, CH_ERR_TRANSPORT, "cannot read the password: %s", perr.msg);
                return NULL;
        }
        return pw ? pw : xstrdup("");
}

static void ch_password_free(char *pw)
{
        if (pw) {
                explicit_bzero(pw, strlen(pw));
                free(pw);
        }
}

struct http_client *coll_clickhouse_client(const struct ch_cfg *cfg)
{
        struct http_tls tls = { .ca_file = cfg->ca_file, .insecure = cfg->insecure };

        return http_client_new(&tls);
}

int coll_clickhouse_query(struct http_client *client, const struct ch_cfg *cfg,
                          const struct coll_ctx *ctx, const char *sql,
                          struct http_response *out_json, struct err *err)
{
        char *pw, *body;
        bool refused;
        int rc;

        memset(out_json, 0, sizeof *out_json);
        if (!client || !cfg || !cfg->url) {
                err_set(err, CH_ERR_TRANSPORT, "no ClickHouse client or url");
                return -1;
        }
        pw = ch_password(cfg, err);
        if (!pw)
                return -1;
        body = ch_sql_json(sql);
        rc = ch_request(client, cfg, ctx, body, pw, true, out_json, &refused, err);
        if (rc != 0 && refused) {
                err_clear(err);
                rc = ch_request(client, cfg, ctx, body, pw, false, out_json, &refused, err);
        }
        free(body);
        ch_password_free(pw);
        return rc;
}

/* ------------------------------------------------------------------------
 * JSON helpers (pure)
 */

/* Parses a FORMAT JSON body; *data is its "data" array. */
static int ch_json_open(const char *json, size_t len, const char *what, cJSON **root,
                        cJSON **data, struct err *err)
{
        struct ch_exception ex;

        *root = cJSON_ParseWithLength(json, len);
        if (!*root) {
                if (ch_exception_parse(json, len, &ex) == 0)
                        ch_exception_err(&ex, 200, NULL, err);
                else
                        err_set(err, CH_ERR_BADJSON, "%s query: the answer is not JSON", what);
                return -1;
        }
        *data = cJSON_GetObjectItemCaseSensitive(*root, "data");
        if (!cJSON_IsArray(*data)) {
                err_set(err, CH_ERR_BADJSON, "%s query: no \"data\" array in the answer", what);
                cJSON_Delete(*root);
                *root = NULL;
                return -1;
        }
        return 0;
}

static const cJSON *ch_get(const cJSON *row, const char *name)
{
        return cJSON_GetObjectItemCaseSensitive(row, name);
}

/* A JSON number, or a string holding an integer (64-bit values come
 * quoted). False for null, anything else, or overflow. */
static bool ch_i64(const cJSON *v, int64_t *out)
{
        if (cJSON_IsNumber(v)) {
                double d = v->valuedouble;

                if (!isfinite(d) || d > 9.2e18 || d < -9.2e18)
                        return false;
                *out = (int64_t)d;
                return true;
        }
        if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
                const char *s = v->valuestring;
                char *end;

                errno = 0;
                if (*s == '-') {
                        long long x = strtoll(s, &end, 10);

                        if (errno || *end || end == s)
                                return false;
                        *out = x;
                } else {
                        unsigned long long x;

                        if (!isdigit((unsigned char)*s))
                                return false;
                        x = strtoull(s, &end, 10);
                        if (errno || *end)
                                return false;
                        *out = x > (unsigned long long)INT64_MAX ? INT64_MAX : (int64_t)x;
                }
                return true;
        }
        return false;
}

static bool ch_f64(const cJSON *v, double *out)
{
        if (cJSON_IsNumber(v)) {
                *out = v->valuedouble;
                return isfinite(*out);
        }
        if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
                char *end;
                double d;

                errno = 0;
                d = strtod(v->valuestring, &end);
                if (errno || *end || !isfinite(d))
                        return false;
                *out = d;
                return true;
        }
        return false;
}

static bool ch_bool(const cJSON *v)
{
        int64_t x;

        if (cJSON_IsBool(v))
                return cJSON_IsTrue(v);
        return ch_i64(v, &x) && x != 0;
}

static char *ch_dup(const cJSON *v)
{
        return cJSON_IsString(v) && v->valuestring ? xstrdup(v->valuestring) : NULL;
}

static const char *ch_s(const cJSON *v)
{
        return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* ------------------------------------------------------------------------
 * Parsers (pure)
 */

int ch_parse_caps(const char *json, size_t len, struct ch_caps *c, struct err *err)
{
        cJSON *root, *data, *row;
        bool mt = false;

        if (ch_json_open(json, len, "system.columns", &root, &data, err) != 0)
                return -1;
        c->query_log = c->type_enum = c->has_is_initial = c->has_query_kind = false;
        c->has_norm_hash = c->has_exception_code = c->parts_bytes_on_disk = false;
        c->has_merges = c->has_replicas = c->has_absolute_delay = false;
        c->has_session_expired = c->has_mt_settings = false;
        cJSON_ArrayForEach(row, data) {
                const char *t = ch_s(ch_get(row, "table")), *n = ch_s(ch_get(row, "name"));
                const char *ty = ch_s(ch_get(row, "type"));

                if (!t || !n)
                        continue;
                if (strcmp(t, "query_log") == 0) {
                        c->query_log = true;
                        if (strcmp(n, "type") == 0)
                                c->type_enum = ty && strncmp(ty, "Enum", 4) == 0;
                        else if (strcmp(n, "is_initial_query") == 0)
                                c->has_is_initial = true;
                        else if (strcmp(n, "query_kind") == 0)
                                c->has_query_kind = true;
                        else if (strcmp(n, "normalized_query_hash") == 0)
                                c->has_norm_hash = true;
                        else if (strcmp(n, "exception_code") == 0)
                                c->has_exception_code = true;
                } else if (strcmp(t, "parts") == 0) {
                        if (strcmp(n, "bytes_on_disk") == 0)
                                c->parts_bytes_on_disk = true;
                } else if (strcmp(t, "merges") == 0) {
                        c->has_merges = true;
                } else if (strcmp(t, "replicas") == 0) {
                        c->has_replicas = true;
                        if (strcmp(n, "absolute_delay") == 0)
                                c->has_absolute_delay = true;
                        else if (strcmp(n, "is_session_expired") == 0)
                                c->has_session_expired = true;
                } else if (strcmp(t, "merge_tree_settings") == 0) {
                        mt = true;
                }
        }
        c->has_mt_settings = mt;
        cJSON_Delete(root);
        return 0;
}

int ch_parse_overview(const char *json, size_t len, struct ch_data *d, struct ch_caps *c,
                      struct err *err)
{
        cJSON *root, *data, *row;
        const char *v;
        int64_t x;

        if (ch_json_open(json, len, "overview", &root, &data, err) != 0)
                return -1;
        row = cJSON_GetArrayItem(data, 0);
        v = ch_s(ch_get(row, "version"));
        if (!row || !v) {
                err_set(err, CH_ERR_BADJSON, "overview query: no version in the answer");
                cJSON_Delete(root);
                return -1;
        }
        free(d->version);
        d->version = xstrdup(v);
        if (c) {
                c->major = atoi(v);
                c->minor = strchr(v, '.') ? atoi(strchr(v, '.') + 1) : 0;
        }
        d->uptime_s = ch_i64(ch_get(row, "uptime"), &x) ? x : -1;
        d->window_end = ch_i64(ch_get(row, "now"), &x) ? x : 0;
        cJSON_Delete(root);
        return 0;
}

int ch_parse_latency(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        static const int64_t wins[CH_NWIN] = { 60, 300, 900 };
        cJSON *root, *data, *row;

        if (ch_json_open(json, len, "latency", &root, &data, err) != 0)
                return -1;
        for (int i = 0; i < CH_NWIN; i++)
                d->lat[i] = (struct ch_latency){ 0, NAN, NAN, NAN };
        cJSON_ArrayForEach(row, data) {
                const cJSON *q = ch_get(row, "q");
                int64_t w, n;
                int k = -1;

                if (!ch_i64(ch_get(row, "window_s"), &w) || !ch_i64(ch_get(row, "count"), &n))
                        continue;
                for (int i = 0; i < CH_NWIN; i++)
                        if (wins[i] == w)
                                k = i;
                if (k < 0)
                        continue;
                d->lat[k].count = n;
                if (n > 0 && cJSON_IsArray(q) && cJSON_GetArraySize(q) == 3) {
                        double p[3];

                        for (int j = 0; j < 3; j++)
                                if (!ch_f64(cJSON_GetArrayItem(q, j), &p[j]))
                                        p[j] = NAN;
                        d->lat[k].p50 = p[0];
                        d->lat[k].p95 = p[1];
                        d->lat[k].p99 = p[2];
                }
        }
        cJSON_Delete(root);
        return 0;
}

int ch_parse_rates(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int64_t q, f, r, b, span = 60;

        if (ch_json_open(json, len, "rates", &root, &data, err) != 0)
                return -1;
        row = cJSON_GetArrayItem(data, 0);
        if (!row || !ch_i64(ch_get(row, "queries"), &q) || !ch_i64(ch_get(row, "failed"), &f)) {
                err_set(err, CH_ERR_BADJSON, "rates query: no queries/failed columns");
                cJSON_Delete(root);
                return -1;
        }
        if (ch_i64(ch_get(row, "span_s"), &span) && span <= 0)
                span = 60;
        d->queries_per_sec = (double)q / (double)span;
        d->failed_per_sec = (double)f / (double)span;
        d->inserted_rows_per_sec = ch_i64(ch_get(row, "written_rows"), &r)
                ? (double)r / (double)span : NAN;
        d->inserted_bytes_per_sec = ch_i64(ch_get(row, "written_bytes"), &b)
                ? (double)b / (double)span : NAN;
        cJSON_Delete(root);
        return 0;
}

static void ch_slow_done(struct ch_slow_query *s)
{
        free(s->query);
        free(s->user);
}

int ch_parse_slow(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (ch_json_open(json, len, "slow queries", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->slow = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->slow);
        d->n_slow = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_slow_query *s = &d->slow[d->n_slow];
                const char *q = ch_s(ch_get(row, "query"));
                int64_t x;

                if (!q || !ch_i64(ch_get(row, "duration_ms"), &s->duration_ms))
                        continue;
                s->query = ch_query_display(q, CH_QUERY_DISPLAY);
                s->at = ch_i64(ch_get(row, "at"), &x) ? x * 1000 : 0;
                s->user = ch_dup(ch_get(row, "user"));
                d->n_slow++;
        }
        cJSON_Delete(root);
        return 0;
}

static void ch_table_done(struct ch_table *t)
{
        free(t->database);
        free(t->table);
        free(t->max_partition);
}

int ch_parse_tables(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (ch_json_open(json, len, "tables", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->tables = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->tables);
        d->n_tables = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_table *t = &d->tables[d->n_tables];
                const char *db = ch_s(ch_get(row, "database")), *tb = ch_s(ch_get(row, "table"));

                if (!db || !tb || !ch_i64(ch_get(row, "active_parts"), &t->active_parts) ||
                    !ch_i64(ch_get(row, "max_parts_per_partition"), &t->max_parts_per_partition))
                        continue;
                t->database = xstrdup(db);
                t->table = xstrdup(tb);
                t->max_partition = ch_dup(ch_get(row, "max_partition"));
                if (!ch_i64(ch_get(row, "rows"), &t->rows))
                        t->rows = -1;
                if (!ch_i64(ch_get(row, "bytes"), &t->bytes))
                        t->bytes = -1;
                d->n_tables++;
        }
        cJSON_Delete(root);
        return 0;
}

static void ch_merge_done(struct ch_merge *m)
{
        free(m->database);
        free(m->table);
        free(m->result_part);
}

int ch_parse_merges(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (ch_json_open(json, len, "merges", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->merge_list = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->merge_list);
        d->n_merge_list = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_merge *m = &d->merge_list[d->n_merge_list];
                const char *db = ch_s(ch_get(row, "database")), *tb = ch_s(ch_get(row, "table"));

                if (!db || !tb)
                        continue;
                m->database = xstrdup(db);
                m->table = xstrdup(tb);
                m->result_part = ch_dup(ch_get(row, "result_part_name"));
                if (!ch_f64(ch_get(row, "elapsed"), &m->elapsed_s))
                        m->elapsed_s = NAN;
                if (!ch_f64(ch_get(row, "progress"), &m->progress))
                        m->progress = NAN;
                if (!ch_i64(ch_get(row, "num_parts"), &m->num_parts))
                        m->num_parts = -1;
                if (!ch_i64(ch_get(row, "total_size_bytes_compressed"), &m->bytes))
                        m->bytes = -1;
                d->n_merge_list++;
        }
        d->merges = (int)d->n_merge_list;
        /* Per-table counts for the tables list. */
        for (size_t i = 0; i < d->n_tables; i++) {
                d->tables[i].merges = 0;
                for (size_t j = 0; j < d->n_merge_list; j++)
                        if (strcmp(d->tables[i].database, d->merge_list[j].database) == 0 &&
                            strcmp(d->tables[i].table, d->merge_list[j].table) == 0)
                                d->tables[i].merges++;
        }
        cJSON_Delete(root);
        return 0;
}

static void ch_replica_done(struct ch_replica *r)
{
        free(r->database);
        free(r->table);
}

int ch_parse_replicas(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (ch_json_open(json, len, "replicas", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->replicas = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->replicas);
        d->n_replicas = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_replica *r = &d->replicas[d->n_replicas];
                const char *db = ch_s(ch_get(row, "database")), *tb = ch_s(ch_get(row, "table"));

                if (!db || !tb)
                        continue;
                r->database = xstrdup(db);
                r->table = xstrdup(tb);
                r->is_readonly = ch_bool(ch_get(row, "is_readonly"));
                r->is_session_expired = ch_bool(ch_get(row, "is_session_expired"));
                if (!ch_i64(ch_get(row, "queue_size"), &r->queue_size))
                        r->queue_size = -1;
                if (!ch_i64(ch_get(row, "inserts_in_queue"), &r->inserts_in_queue))
                        r->inserts_in_queue = -1;
                if (!ch_i64(ch_get(row, "merges_in_queue"), &r->merges_in_queue))
                        r->merges_in_queue = -1;
                if (!ch_i64(ch_get(row, "absolute_delay"), &r->absolute_delay_s))
                        r->absolute_delay_s = -1;
                d->n_replicas++;
        }
        cJSON_Delete(root);
        return 0;
}

int ch_parse_mt_settings(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;

        if (ch_json_open(json, len, "merge_tree_settings", &root, &data, err) != 0)
                return -1;
        cJSON_ArrayForEach(row, data) {
                const char *n = ch_s(ch_get(row, "name"));
                int64_t v;

                if (n && strcmp(n, "parts_to_delay_insert") == 0 &&
                    ch_i64(ch_get(row, "value"), &v) && v > 0)
                        d->parts_to_delay_insert = v;
        }
        cJSON_Delete(root);
        return 0;
}

int ch_parse_counters(const char *json, size_t len, struct ch_counters *k, struct err *err)
{
        cJSON *root, *data, *row;
        bool events = false;

        k->memory = k->query = k->failed = k->ins_rows = k->ins_bytes = -1;
        if (ch_json_open(json, len, "counters", &root, &data, err) != 0)
                return -1;
        cJSON_ArrayForEach(row, data) {
                const char *kind = ch_s(ch_get(row, "kind")), *n = ch_s(ch_get(row, "name"));
                int64_t v;

                if (!kind || !n || !ch_i64(ch_get(row, "value"), &v))
                        continue;
                if (strcmp(kind, "metric") == 0) {
                        if (strcmp(n, "MemoryTracking") == 0)
                                k->memory = v;
                        continue;
                }
                events = true;
                if (strcmp(n, "Query") == 0)
                        k->query = v;
                else if (strcmp(n, "FailedQuery") == 0)
                        k->failed = v;
                else if (strcmp(n, "InsertedRows") == 0)
                        k->ins_rows = v;
                else if (strcmp(n, "InsertedBytes") == 0)
                        k->ins_bytes = v;
        }
        /* system.events lists only counters that are not zero. */
        if (events) {
                if (k->ins_rows < 0)
                        k->ins_rows = 0;
                if (k->ins_bytes < 0)
                        k->ins_bytes = 0;
        }
        cJSON_Delete(root);
        return 0;
}

/* ------------------------------------------------------------------------
 * SQL by capabilities (pure)
 */

/* Common filter over query_log rows within `span_expr` seconds before E
 * (end_s): initial queries that are not ours. span_s is the widest window,
 * for the event_date (partition key) bound. */
static char *ch_where(const struct ch_caps *c, int64_t end_s, int64_t span_s,
                      const char *span_expr)
{
        return xasprintf("event_date >= toDate(toDateTime(%lld)) AND "
                         "event_time > toDateTime(%lld) - %s AND event_time <= toDateTime(%lld)"
                         "%s AND query_id NOT LIKE '" CH_OWN_PREFIX "%%'",
                         (long long)(end_s - span_s), (long long)end_s,
                         span_expr, (long long)end_s,
                         c->has_is_initial ? " AND is_initial_query = 1" : "");
}

static const char *ch_t_finish(const struct ch_caps *c)
{
        return c->type_enum ? "type = 'QueryFinish'" : "type = 2";
}

static const char *ch_t_failed(const struct ch_caps *c)
{
        return c->type_enum ? "type IN ('ExceptionBeforeStart', 'ExceptionWhileProcessing')"
                            : "type IN (3, 4)";
}

static const char *ch_t_end(const struct ch_caps *c)
{
        return c->type_enum ? "type != 'QueryStart'" : "type != 1";
}

char *ch_sql_latency(const struct ch_caps *c, int64_t end_s)
{
        char *w = ch_where(c, end_s, 900, "w"), *s;

        s = xasprintf("SELECT w AS window_s, count() AS count, "
                      "quantiles(0.5, 0.95, 0.99)(query_duration_ms) AS q "
                      "FROM system.query_log ARRAY JOIN [60, 300, 900] AS w "
                      "WHERE %s AND %s GROUP BY w ORDER BY w", w, ch_t_finish(c));
        free(w);
        return s;
}

char *ch_sql_rates(const struct ch_caps *c, int64_t end_s)
{
        char *w = ch_where(c, end_s, 60, "60"), *s, ins[128];

        snprintf(ins, sizeof ins, "%s%s", ch_t_finish(c),
                 c->has_query_kind ? " AND query_kind = 'Insert'" : "");
        s = xasprintf("SELECT 60 AS span_s, countIf(%s) AS queries, countIf(%s) AS failed, "
                      "sumIf(written_rows, %s) AS written_rows, "
                      "sumIf(written_bytes, %s) AS written_bytes "
                      "FROM system.query_log WHERE %s",
                      ch_t_end(c), ch_t_failed(c), ins, ins, w);
        free(w);
        return s;
}

char *ch_sql_slow(const struct ch_caps *c, int64_t end_s)
{
        char *w = ch_where(c, end_s, 900, "900"), *s;

        s = xasprintf("SELECT substringUTF8(query, 1, %d) AS query, "
                      "query_duration_ms AS duration_ms, toUnixTimestamp(event_time) AS at, user "
                      "FROM system.query_log WHERE %s AND %s "
                      "ORDER BY query_duration_ms DESC, event_time DESC "
                      "LIMIT 1 BY %s LIMIT %d",
                      CH_QUERY_FETCH, w, ch_t_finish(c),
                      c->has_norm_hash ? "normalized_query_hash" : "query", CH_SLOW_N);
        free(w);
        return s;
}

char *ch_sql_tables(const struct ch_caps *c)
{
        return xasprintf("SELECT database, table, sum(c) AS active_parts, "
                         "max(c) AS max_parts_per_partition, argMax(partition, c) AS max_partition, "
                         "sum(r) AS rows, sum(b) AS bytes FROM ("
                         "SELECT database, table, partition, count() AS c, sum(rows) AS r, "
                         "sum(%s) AS b FROM system.parts WHERE active "
                         "GROUP BY database, table, partition) "
                         "GROUP BY database, table "
                         "ORDER BY max_parts_per_partition DESC, database, table LIMIT 500",
                         c->parts_bytes_on_disk ? "bytes_on_disk" : "bytes");
}

char *ch_sql_merges(const struct ch_caps *c)
{
        (void)c;
        return xstrdup("SELECT database, table, elapsed, progress, num_parts, result_part_name, "
                       "total_size_bytes_compressed FROM system.merges ORDER BY elapsed DESC");
}

char *ch_sql_replicas(const struct ch_caps *c)
{
        return xasprintf("SELECT database, table, is_readonly, %squeue_size, inserts_in_queue, "
                         "merges_in_queue%s FROM system.replicas ORDER BY database, table",
                         c->has_session_expired ? "is_session_expired, " : "",
                         c->has_absolute_delay ? ", absolute_delay" : "");
}

char *ch_sql_counters(const struct ch_caps *c)
{
        (void)c;
        return xstrdup("SELECT 'metric' AS kind, metric AS name, toString(value) AS value "
                       "FROM system.metrics WHERE metric = 'MemoryTracking' "
                       "UNION ALL SELECT 'event' AS kind, event AS name, toString(value) AS value "
                       "FROM system.events WHERE event IN "
                       "('Query', 'FailedQuery', 'InsertedRows', 'InsertedBytes')");
}

static const char ch_sql_columns[] =
        "SELECT table, name, type FROM system.columns WHERE database = 'system' AND table IN "
        "('query_log', 'parts', 'merges', 'replicas', 'merge_tree_settings')";

static const char ch_sql_overview[] =
        "SELECT version() AS version, uptime() AS uptime, toUnixTimestamp(now()) AS now";

static const char ch_sql_mt_settings[] =
        "SELECT name, value FROM system.merge_tree_settings WHERE name = 'parts_to_delay_insert'";

/* ------------------------------------------------------------------------
 * Data and history
 */

struct ch_data *ch_data_new(void)
{
        struct ch_data *d = xcalloc(1, sizeof *d);

        d->uptime_s = -1;
        for (int i = 0; i < CH_NWIN; i++)
                d->lat[i] = (struct ch_latency){ -1, NAN, NAN, NAN };
        d->queries_per_sec = d->failed_per_sec = NAN;
        d->inserted_rows_per_sec = d->inserted_bytes_per_sec = NAN;
        d->memory_bytes = -1;
        d->parts_to_delay_insert = CH_DEFAULT_DELAY_PARTS;
        d->merges = -1;
        ring_init(&d->p50_hist);
        ring_init(&d->p95_hist);
        ring_init(&d->p99_hist);
        ring_init(&d->qps_hist);
        ring_init(&d->failed_hist);
        ring_init(&d->rows_hist);
        ring_init(&d->bytes_hist);
        ring_init(&d->mem_hist);
        return d;
}

void ch_data_free(struct ch_data *d)
{
        if (!d)
                return;
        free(d->version);
        for (size_t i = 0; i < d->n_slow; i++)
                ch_slow_done(&d->slow[i]);
        free(d->slow);
        for (size_t i = 0; i < d->n_tables; i++)
                ch_table_done(&d->tables[i]);
        free(d->tables);
        for (size_t i = 0; i < d->n_merge_list; i++)
                ch_merge_done(&d->merge_list[i]);
        free(d->merge_list);
        for (size_t i = 0; i < d->n_replicas; i++)
                ch_replica_done(&d->replicas[i]);
        free(d->replicas);
        free(d);
}

struct ch_history {
        bool    have;                   /* prev holds a sample */
        struct ch_counters prev;
        int64_t prev_t;                 /* monotonic ms */
        struct ring p50, p95, p99, qps, failed, rows, bytes, mem;
};

struct ch_history *ch_history_new(void)
{
        struct ch_history *h = xcalloc(1, sizeof *h);

        ring_init(&h->p50);
        ring_init(&h->p95);
        ring_init(&h->p99);
        ring_init(&h->qps);
        ring_init(&h->failed);
        ring_init(&h->rows);
        ring_init(&h->bytes);
        ring_init(&h->mem);
        return h;
}

void ch_history_free(struct ch_history *h)
{
        free(h);
}

/* (cur - prev) / dt, or NAN when either is absent or it went backwards. */
static double ch_delta_rate(int64_t cur, int64_t prev, int64_t minus, double dt_s)
{
        double v;

        if (cur < 0 || prev < 0 || cur < prev || dt_s <= 0)
                return NAN;
        v = (double)(cur - prev - minus) / dt_s;
        return v < 0 ? 0 : v;
}

void ch_history_apply(struct ch_history *h, struct ch_data *d, const struct ch_counters *k,
                      const struct ch_caps *c, int64_t own_queries, int64_t now_ms)
{
        if (k && k->memory >= 0)
                d->memory_bytes = k->memory;
        if (k && k->query >= 0) {
                bool restarted = h->have && k->query < h->prev.query;

                if (h->have && !restarted && now_ms > h->prev_t && !d->query_log) {
                        double dt = (double)(now_ms - h->prev_t) / 1000.0;

                        d->queries_per_sec = ch_delta_rate(k->query, h->prev.query, own_queries,
                                                           dt);
                        if (k->failed >= 0 || (c && c->major >= 20))
                                d->failed_per_sec = ch_delta_rate(k->failed < 0 ? 0 : k->failed,
                                                                  h->prev.failed < 0 ? 0
                                                                  : h->prev.failed, 0, dt);
                        d->inserted_rows_per_sec = ch_delta_rate(k->ins_rows, h->prev.ins_rows,
                                                                 0, dt);
                        d->inserted_bytes_per_sec = ch_delta_rate(k->ins_bytes,
                                                                  h->prev.ins_bytes, 0, dt);
                }
                h->have = true;
                h->prev = *k;
                h->prev_t = now_ms;
        }
        ring_push(&h->p50, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p50 : NAN);
        ring_push(&h->p95, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p95 : NAN);
        ring_push(&h->p99, now_ms, d->lat[CH_W1M].count > 0 ? d->lat[CH_W1M].p99 : NAN);
        ring_push(&h->qps, now_ms, d->queries_per_sec);
        ring_push(&h->failed, now_ms, d->failed_per_sec);
        ring_push(&h->rows, now_ms, d->inserted_rows_per_sec);
        ring_push(&h->bytes, now_ms, d->inserted_bytes_per_sec);
        ring_push(&h->mem, now_ms, d->memory_bytes >= 0 ? (double)d->memory_bytes : NAN);
        d->p50_hist = h->p50;
        d->p95_hist = h->p95;
        d->p99_hist = h->p99;
        d->qps_hist = h->qps;
        d->failed_hist = h->failed;
        d->rows_hist = h->rows;
        d->bytes_hist = h->bytes;
        d->mem_hist = h->mem;
}

/* ------------------------------------------------------------------------
 * I/O: the poll (collector thread)
 */

struct ch_state {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        struct http_client *http;
        struct ch_caps caps;            /* valid until a failed poll or a restart */
        int64_t parts_limit;            /* parts_to_delay_insert, read at connect */
        int64_t last_uptime;            /* -1 before the first answer */
        int64_t sent;                   /* requests sent (own queries in system.events) */
        int64_t sent_at_counters;       /* `sent` at the last counters sample */
        bool    no_settings;            /* the profile is readonly=1: send no settings */
        struct ch_history *hist;
};

/* Runs sql (borrowed) into resp. Returns 0 or -1 with err set. */
static int ch_run(struct ch_state *st, const struct coll_ctx *ctx, const char *what,
                  const char *sql, const char *password, struct http_response *resp,
                  struct err *err)
{
        const struct ch_cfg *cfg = st->src->kind_cfg;
        char *body = ch_sql_json(sql);
        bool refused;
        int rc;

        st->sent++;
        rc = ch_request(st->http, cfg, ctx, body, password, !st->no_settings, resp, &refused,
                        err);
        if (rc != 0 && refused) {
                st->no_settings = true;
                st->sent++;
                err_clear(err);
                rc = ch_request(st->http, cfg, ctx, body, password, false, resp, &refused, err);
        }
        free(body);
        if (rc != 0 && err->code != CH_ERR_TRANSPORT) {
                char tmp[sizeof err->msg + 64];

                snprintf(tmp, sizeof tmp, "%s query: %s", what, err->msg);
                str_copy(err->msg, tmp, sizeof err->msg);
        }
        return rc;
}

typedef int (*ch_parse_fn)(const char *, size_t, struct ch_data *, struct err *);

/* One query (takes ownership of sql) + parse. */
static int ch_step(struct ch_state *st, const struct coll_ctx *ctx, const char *what, char *sql,
                   const char *password, ch_parse_fn parse, struct ch_data *d, struct err *err)
{
        struct http_response resp;
        int rc = ch_run(st, ctx, what, sql, password, &resp, err);

        free(sql);
        if (rc != 0)
                return -1;
        rc = parse(resp.body, resp.len, d, err);
        http_response_done(&resp);
        return rc;
}

static void ch_degrade(struct err *err, const struct err *e)
{
        if (!err->msg[0])
                err_set(err, e->code, "%s", e->msg);
        else if (strlen(err->msg) + strlen(e->msg) + 3 < sizeof err->msg)
                err_set(err, err->code, "%s; %s", err->msg, e->msg);
}

static int ch_discover(struct ch_state *st, const struct coll_ctx *ctx, const char *pw,
                       struct err *err)
{
        struct http_response resp;
        struct ch_caps caps = st->caps;
        struct ch_data *tmp;

        if (ch_run(st, ctx, "system.columns", ch_sql_columns, pw, &resp, err) != 0)
                return -1;
        if (ch_parse_caps(resp.body, resp.len, &caps, err) != 0) {
                http_response_done(&resp);
                return -1;
        }
        http_response_done(&resp);
        st->parts_limit = CH_DEFAULT_DELAY_PARTS;
        if (caps.has_mt_settings &&
            ch_run(st, ctx, "merge_tree_settings", ch_sql_mt_settings, pw, &resp, err) == 0) {
                tmp = ch_data_new();
                if (ch_parse_mt_settings(resp.body, resp.len, tmp, err) == 0)
                        st->parts_limit = tmp->parts_to_delay_insert;
                ch_data_free(tmp);
                http_response_done(&resp);
        }
        err_clear(err);
        caps.valid = true;
        st->caps = caps;
        return 0;
}

/* system.metrics/system.events into *k; *own gets the requests we sent
 * since the previous counters sample (the Query event counts every one of
 * them, this one included). Returns 0 or -1 with err set. */
static int ch_counters_step(struct ch_state *st, const struct coll_ctx *ctx, const char *pw,
                            struct ch_counters *k, int64_t *own, struct err *err)
{
        struct http_response resp;
        char *sql = ch_sql_counters(&st->caps);
        int rc = ch_run(st, ctx, "counters", sql, pw, &resp, err);

        free(sql);
        if (rc != 0)
                return -1;
        rc = ch_parse_counters(resp.body, resp.len, k, err);
        http_response_done(&resp);
        if (rc == 0) {
                *own = st->sent - st->sent_at_counters;
                st->sent_at_counters = st->sent;
        }
        return rc;
}

static enum coll_status ch_collect(struct ch_state *st, const struct coll_ctx *ctx,
                                   const char *pw, struct ch_data **out, struct err *err)
{
        struct ch_data *d = ch_data_new();
        struct ch_counters k = { -1, -1, -1, -1, -1 }, *kp = NULL;
        enum coll_status status = COLL_OK;
        struct http_response resp;
        int64_t own = 0;
        struct err e;
        bool restarted;

        *out = NULL;
        if (ch_run(st, ctx, "overview", ch_sql_overview, pw, &resp, err) != 0)
                goto down;
        if (ch_parse_overview(resp.body, resp.len, d, &st->caps, err) != 0) {
                http_response_done(&resp);
                goto down;
        }
        http_response_done(&resp);
        restarted = st->last_uptime >= 0 && d->uptime_s >= 0 && d->uptime_s < st->last_uptime;
        st->last_uptime = d->uptime_s;
        if (!st->caps.valid || restarted || !st->caps.query_log) {
                if (ch_discover(st, ctx, pw, err) != 0) {
                        if (err->code == CH_ERR_TRANSPORT)
                                goto down;
                        /* Without system.columns we know nothing: say so. */
                        ch_data_free(d);
                        return COLL_DOWN;
                }
        }
        d->parts_to_delay_insert = st->parts_limit;
        d->query_log = st->caps.query_log;

        err_clear(&e);
        if (ch_counters_step(st, ctx, pw, &k, &own, &e) == 0) {
                kp = &k;
        } else {
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                ch_degrade(err, &e);
                status = COLL_DEGRADED;
        }

        if (st->caps.query_log) {
                bool gone = false;

                err_clear(&e);
                if (ch_step(st, ctx, "latency", ch_sql_latency(&st->caps, d->window_end), pw,
                            ch_parse_latency, d, &e) == 0) {
                        err_clear(&e);
                        if (ch_step(st, ctx, "rates", ch_sql_rates(&st->caps, d->window_end), pw,
                                    ch_parse_rates, d, &e) == 0) {
                                err_clear(&e);
                                ch_step(st, ctx, "slow queries",
                                        ch_sql_slow(&st->caps, d->window_end), pw,
                                        ch_parse_slow, d, &e);
                        }
                }
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                if (e.code == 60) {             /* query_log dropped under us */
                        st->caps.query_log = false;
                        d->query_log = false;
                        gone = true;
                } else if (e.code) {
                        ch_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
                if (gone)
                        for (int i = 0; i < CH_NWIN; i++)
                                d->lat[i] = (struct ch_latency){ -1, NAN, NAN, NAN };
        }

        err_clear(&e);
        if (ch_step(st, ctx, "tables", ch_sql_tables(&st->caps), pw, ch_parse_tables, d, &e) != 0) {
                if (e.code == CH_ERR_TRANSPORT)
                        goto down_e;
                ch_degrade(err, &e);
                status = COLL_DEGRADED;
        }
        if (st->caps.has_merges) {
                err_clear(&e);
                if (ch_step(st, ctx, "merges", ch_sql_merges(&st->caps), pw, ch_parse_merges, d,
                            &e) != 0) {
                        if (e.code == CH_ERR_TRANSPORT)
                                goto down_e;
                        ch_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
        }
        if (st->caps.has_replicas) {
                err_clear(&e);
                if (ch_step(st, ctx, "replicas", ch_sql_replicas(&st->caps), pw,
                            ch_parse_replicas, d, &e) != 0) {
                        if (e.code == CH_ERR_TRANSPORT)
                                goto down_e;
                        ch_degrade(err, &e);
                        status = COLL_DEGRADED;
                }
        }

        if (!d->query_log) {
                struct err q;

                err_set(&q, ENOENT, "system.query_log does not exist (log_queries=0, or nothing "
                        "logged yet): latency unknown, rates from system.events");
                ch_degrade(err, &q);
                status = COLL_DEGRADED;
        }
        ch_history_apply(st->hist, d, kp, &st->caps, own, clock_mono_ms());
        *out = d;
        return status;

down_e:
        err_set(err, e.code, "%s", e.msg);
down:
        st->caps.valid = false;
        ch_data_free(d);
        return COLL_DOWN;
}

/* ------------------------------------------------------------------------
 * collector_ops
 */

static int ch_validate(const struct source_cfg *src, struct err *err)
{
        const struct ch_cfg *c = src->kind_cfg;
        const char *h;

        if (c->password_env && c->password_file) {
                err_set(err, EINVAL, "password_env and password_file are exclusive: set only one");
                return -1;
        }
        if (!(h = http_url_check(c->url, "http://127.0.0.1:8123", err)))
                return -1;
        if (strstr(c->url, "password=") || strstr(c->url, "user=")) {
                err_set(err, EINVAL, "url must not carry user or password parameters: set user "
                        "and password_env/password_file instead");
                return -1;
        }
        if (c->user && (!*c->user || strpbrk(c->user, "\r\n\t"))) {
                err_set(err, EINVAL, "user must be a plain name (no line breaks or tabs)");
                return -1;
        }
        if (!*h || *h == '/' || *h == '?') {
                err_set(err, EINVAL, "url has no host: give e.g. \"http://127.0.0.1:8123\"");
                return -1;
        }
        return 0;
}

static void *ch_create(const struct source_cfg *src)
{
        struct ch_state *st = xcalloc(1, sizeof *st);

        st->src = src;
        st->http = coll_clickhouse_client(src->kind_cfg);
        st->hist = ch_history_new();
        st->last_uptime = -1;
        st->parts_limit = CH_DEFAULT_DELAY_PARTS;
        return st;
}

static void ch_destroy(void *state)
{
        struct ch_state *st = state;

        if (!st)
                return;
        http_client_free(st->http);
        ch_history_free(st->hist);
        free(st);
}

static enum coll_status ch_poll(void *state, const struct coll_ctx *ctx, void **data,
                                struct err *err)
{
        struct ch_state *st = state;
        struct ch_data *d = NULL;
        enum coll_status status;
        char *pw;

        *data = NULL;
        if (!st->http) {
                st->http = coll_clickhouse_client(st->src->kind_cfg);
                if (!st->http) {
                        err_set(err, ENOMEM, "libcurl could not create a handle");
                        return COLL_DOWN;
                }
        }
        pw = ch_password(st->src->kind_cfg, err);
        if (!pw) {
                st->caps.valid = false;
                return COLL_DOWN;
        }
        status = ch_collect(st, ctx, pw, &d, err);
        ch_password_free(pw);
        *data = d;
        return status;
}

static void ch_data_free_op(void *data)
{
        ch_data_free(data);
}

/* Rates and quantiles to 0.001 so the JSON carries no float noise. */
static double ch_round3(double v)
{
        return round(v * 1000.0) / 1000.0;
}

static void ch_to_json(const void *data, struct cJSON *obj)
{
        static const char *const wname[CH_NWIN] = { "1m", "5m", "15m" };
        const struct ch_data *d = data;
        cJSON *lat, *arr;
        char at[40];

        json_add_str(obj, "version", d->version);
        json_add_num(obj, "uptime_s", d->uptime_s >= 0, (double)d->uptime_s);
        cJSON_AddBoolToObject(obj, "query_log", d->query_log);
        lat = cJSON_AddObjectToObject(obj, "latency_ms");
        for (int i = 0; i < CH_NWIN; i++) {
                const struct ch_latency *l = &d->lat[i];
                cJSON *w = cJSON_AddObjectToObject(lat, wname[i]);
                bool have = l->count > 0;

                json_add_num(w, "count", l->count >= 0, (double)l->count);
                json_add_num(w, "p50", have, ch_round3(l->p50));
                json_add_num(w, "p95", have, ch_round3(l->p95));
                json_add_num(w, "p99", have, ch_round3(l->p99));
        }
        json_add_num(obj, "queries_per_sec", true, ch_round3(d->queries_per_sec));
        json_add_num(obj, "failed_per_sec", true, ch_round3(d->failed_per_sec));
        json_add_num(obj, "inserted_rows_per_sec", true, ch_round3(d->inserted_rows_per_sec));
        json_add_num(obj, "inserted_bytes_per_sec", true, ch_round3(d->inserted_bytes_per_sec));

        arr = cJSON_AddArrayToObject(obj, "slow_queries");
        for (size_t i = 0; i < d->n_slow; i++) {
                const struct ch_slow_query *s = &d->slow[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "query", s->query);
                cJSON_AddNumberToObject(o, "duration_ms", (double)s->duration_ms);
                if (s->at > 0) {
                        fmt_rfc3339(s->at, at, sizeof at);
                        cJSON_AddStringToObject(o, "at", at);
                } else {
                        cJSON_AddNullToObject(o, "at");
                }
                cJSON_AddItemToArray(arr, o);
        }

        arr = cJSON_AddArrayToObject(obj, "tables");
        for (size_t i = 0; i < d->n_tables; i++) {
                const struct ch_table *t = &d->tables[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "database", t->database);
                json_add_str(o, "table", t->table);
                cJSON_AddNumberToObject(o, "active_parts", (double)t->active_parts);
                cJSON_AddNumberToObject(o, "max_parts_per_partition",
                                        (double)t->max_parts_per_partition);
                cJSON_AddItemToArray(arr, o);
        }
        json_add_num(obj, "merges", d->merges >= 0, d->merges);

        arr = cJSON_AddArrayToObject(obj, "replicas");
        for (size_t i = 0; i < d->n_replicas; i++) {
                const struct ch_replica *r = &d->replicas[i];
                cJSON *o = cJSON_CreateObject();

                json_add_str(o, "database", r->database);
                json_add_str(o, "table", r->table);
                cJSON_AddBoolToObject(o, "is_readonly", r->is_readonly);
                json_add_num(o, "queue_size", r->queue_size >= 0, (double)r->queue_size);
                json_add_num(o, "absolute_delay_s", r->absolute_delay_s >= 0,
                            (double)r->absolute_delay_s);
                cJSON_AddItemToArray(arr, o);
        }
        json_add_num(obj, "memory_bytes", d->memory_bytes >= 0, (double)d->memory_bytes);
}

static void ch_alerts(const struct source_cfg *src, const void *data, struct alert_list *out)
{
        const struct ch_data *d = data;
        const struct ch_latency *l5 = &d->lat[CH_W5M];
        char what[192], subj[128];

        if (l5->count > 0) {
                health_check(out, src, "latency_p95_ms", "", l5->p95, "query latency p95 (5m)");
                health_check(out, src, "latency_p99_ms", "", l5->p99, "query latency p99 (5m)");
        }
        health_check(out, src, "failed_per_sec", "", d->failed_per_sec, "failed queries");
        for (size_t i = 0; i < d->n_tables; i++) {
                const struct ch_table *t = &d->tables[i];
                double v = (double)t->max_parts_per_partition;

                snprintf(subj, sizeof subj, "%s.%s", t->database, t->table);
                if (d->parts_to_delay_insert > 0 && t->max_parts_per_partition >=
                    d->parts_to_delay_insert) {
                        health_add(out, SEV_CRIT, src, "max_parts_per_partition", subj, v,
                                   (double)d->parts_to_delay_insert,
                                   "%s has %lld active parts in partition %s >= "
                                   "parts_to_delay_insert %lld: INSERTs are being delayed "
                                   "(merges behind?)", subj,
                                   (long long)t->max_parts_per_partition,
                                   t->max_partition ? t->max_partition : "?",
                                   (long long)d->parts_to_delay_insert);
                        continue;
                }
                snprintf(what, sizeof what, "%s parts in one partition", subj);
                health_check(out, src, "max_parts_per_partition", subj, v, what);
        }
        for (size_t i = 0; i < d->n_replicas; i++) {
                const struct ch_replica *r = &d->replicas[i];

                snprintf(subj, sizeof subj, "%s.%s", r->database, r->table);
                if (r->is_readonly)
                        health_add(out, SEV_CRIT, src, "is_readonly", subj, NAN, NAN,
                                   "replica %s is read-only (ZooKeeper/Keeper session lost?): "
                                   "INSERTs fail", subj);
                if (r->is_session_expired)
                        health_add(out, SEV_CRIT, src, "is_session_expired", subj, NAN, NAN,
                                   "replica %s lost its ZooKeeper/Keeper session", subj);
                if (r->queue_size >= 0) {
                        snprintf(what, sizeof what, "replica %s queue", subj);
                        health_check(out, src, "replica_queue", subj, (double)r->queue_size, what);
                }
                if (r->absolute_delay_s >= 0) {
                        snprintf(what, sizeof what, "replica %s delay (s)", subj);
                        health_check(out, src, "replica_delay_s", subj,
                                     (double)r->absolute_delay_s, what);
                }
        }
}

static double ch_key_metric(const void *data)
{
        const struct ch_data *d = data;

        return d->lat[CH_W5M].count > 0 ? d->lat[CH_W5M].p95 : NAN;
}

/* "3.2", "0", "0.05", "120"; "-" when unknown. */
static void ch_fmt_rate(double v, char *buf, size_t n)
{
        if (!isfinite(v))
                snprintf(buf, n, "-");
        else if (v == 0)
                snprintf(buf, n, "0");
        else if (v < 0.1)
                snprintf(buf, n, "%.2f", v);
        else if (v < 10)
                snprintf(buf, n, "%.1f", v);
        else
                snprintf(buf, n, "%.0f", v);
}

static void ch_summary(const void *data, char *buf, size_t n)
{
        const struct ch_data *d = data;
        int64_t maxp = -1;
        char p95[32], q[32], f[32];
        size_t o;

        for (size_t i = 0; i < d->n_tables; i++)
                if (d->tables[i].max_parts_per_partition > maxp)
                        maxp = d->tables[i].max_parts_per_partition;
        if (d->lat[CH_W5M].count > 0 && isfinite(d->lat[CH_W5M].p95))
                snprintf(p95, sizeof p95, "%.0fms", d->lat[CH_W5M].p95);
        else
                snprintf(p95, sizeof p95, "-");
        ch_fmt_rate(d->queries_per_sec, q, sizeof q);
        ch_fmt_rate(d->failed_per_sec, f, sizeof f);
        o = (size_t)snprintf(buf, n, "v%s, p95 %s, %s q/s, %s failed", d->version ? d->version
                                                                                  : "?",
                             p95, q, f);
        if (o < n && maxp >= 0)
                snprintf(buf + o, n - o, ", max parts %lld/%lld", (long long)maxp,
                         (long long)d->parts_to_delay_insert);
}

/* The SQL runner of reconciliation (collector_ops.sql): coll_clickhouse_query()
 * does the HTTP, auth, settings and error parsing; we ask the server's time zone
 * once per runner (DateTime text is wall time in that zone) and decode. */
struct sql_ch {
        const struct ch_cfg *cfg;       /* borrowed */
        struct http_client *http;
        char *tz;                       /* server time zone; NULL until known */
};

static void *sql_ch_open(const struct source_cfg *src, int64_t timeout_ms)
{
        struct sql_ch *h = xcalloc(1, sizeof *h);

        (void)timeout_ms;       /* the client sets max_execution_time from the deadline */
        h->cfg = src->kind_cfg;
        h->http = coll_clickhouse_client(h->cfg);
        return h;
}

static int sql_ch_run(void *hv, const struct coll_ctx *ctx, const char *sql,
                      const struct sql_sink *sink, struct err *err)
{
        struct sql_ch *h = hv;
        struct http_response resp;
        int rc;

        if (!h->http) {
                err_set(err, ENOMEM, "cannot create an HTTP client");
                return -1;
        }
        if (!h->tz) {
                struct sql_result r = { 0 };
                struct sql_sink rs = sql_result_sink(&r);
                const struct sql_cell *c;

                if (coll_clickhouse_query(h->http, h->cfg, ctx, "SELECT timezone() AS tz", &resp,
                                          err) < 0)
                        return -1;
                rc = sql_ch_decode(resp.body, resp.len, NULL, &rs, err);
                http_response_done(&resp);
                c = sql_result_cell(&r, 0, 0);
                if (rc == 0 && c && !c->null && c->text)
                        h->tz = xstrdup(c->text);
                sql_result_done(&r);
                if (!h->tz) {
                        if (rc == 0)
                                err_set(err, EPROTO, "ClickHouse did not say its time zone");
                        return -1;
                }
        }
        if (coll_clickhouse_query(h->http, h->cfg, ctx, sql, &resp, err) < 0)
                return -1;
        rc = sql_ch_decode(resp.body, resp.len, h->tz, sink, err);
        http_response_done(&resp);
        return rc;
}

static void sql_ch_close(void *hv)
{
        struct sql_ch *h = hv;

        if (!h)
                return;
        http_client_free(h->http);
        free(h->tz);
        free(h);
}

static const struct sql_runner ch_sql_runner = { sql_ch_open, sql_ch_run, sql_ch_close };

const struct collector_ops coll_clickhouse_ops = {
        .name = "clickhouse",
        .title = "ClickHouse",
        .default_interval_ms = 5000,
        .default_timeout_ms = 3000,
        .keys = ch_keys,
        .cfg_size = sizeof(struct ch_cfg),
        .thresholds = ch_thresholds,
        .validate = ch_validate,
        .create = ch_create,
        .destroy = ch_destroy,
        .poll = ch_poll,
        .data_free = ch_data_free_op,
        .to_json = ch_to_json,
        .alerts = ch_alerts,
        .key_metric = ch_key_metric,
        .summary = ch_summary,
        .key_metric_name = "query p95 (5m)",
        .key_metric_unit = THR_MS,
        .sql = &ch_sql_runner,
};
