/*
 * ClickHouse collector: exceptions and response checks, and query text
 * for display (pure; see clickhouse.c).
 */
#include "collectors/clickhouse/clickhouse_int.h"

#include "core/redact.h"

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

static const char *clickhouse_code_name(int code)
{
        for (size_t i = 0; i < LO_ARRAY_LEN(ch_code_names); i++)
                if (ch_code_names[i].code == code)
                        return ch_code_names[i].name;
        return "";
}

static bool clickhouse_is_auth_code(int code)
{
        return code == 192 || code == 193 || code == 194 || code == 195 || code == 516;
}

/* memmem for possibly NUL-containing bodies: the last match, or NULL. */
static const char *clickhouse_memrstr(const char *s, size_t len, const char *needle)
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
static bool clickhouse_code_at(const char *body, const char *c)
{
        return c == body || strchr("}]\n\r\t ,", c[-1]) != NULL;
}

/* Cuts the text after the code to the bare message and the NAME of the new
 * form ("... (UNKNOWN_TABLE) (version 23.8.2.7 (official build))"). */
static void clickhouse_exception_text(const char *p, const char *end, struct ch_exception *ex)
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

int clickhouse_exception_parse(const char *body, size_t len, struct ch_exception *ex)
{
        const char *p = NULL, *end = body ? body + len : NULL, *q;
        long code = 0;

        memset(ex, 0, sizeof *ex);
        if (!body)
                return -1;
        /* The last "Code: N" followed by '.' or ',' (the exception is what
         * ends the body). */
        for (size_t left = len; left > 0; ) {
                const char *c = clickhouse_memrstr(body, left, "Code: ");

                if (!c)
                        break;
                q = c + 6;
                code = 0;
                while (q < end && isdigit((unsigned char)*q) && code < 1000000)
                        code = code * 10 + (*q++ - '0');
                if (q > c + 6 && q < end && (*q == '.' || *q == ',') && code > 0 &&
                    clickhouse_code_at(body, c)) {
                        p = q;
                        break;
                }
                left = (size_t)(c - body);
        }
        if (!p)
                return -1;
        ex->code = (int)code;
        clickhouse_exception_text(p + 1, end, ex);
        if (!ex->name[0])
                str_copy(ex->name, clickhouse_code_name(ex->code), sizeof ex->name);
        return 0;
}

/* The core redaction (redact_text): the password, its base64 forms and
 * credentials by shape become "***". */
void clickhouse_redact(char *msg, size_t n, const char *secret)
{
        struct redact_keys k = { .password = secret };

        redact_text(msg, n, &k);
}

void clickhouse_exception_err(const struct ch_exception *ex, long status, const char *password,
                              struct err *err)
{
        char msg[256], *masked;

        masked = clickhouse_query_display(ex->msg, 180);
        snprintf(msg, sizeof msg, "ClickHouse error %d%s%s%s: %s%s", ex->code,
                 ex->name[0] ? " (" : "", ex->name, ex->name[0] ? ")" : "", masked,
                 clickhouse_is_auth_code(ex->code) ? " (check user and password_env/password_file)"
                 : ex->code == 159 ? " (the source timeout cut the query)" : "");
        free(masked);
        (void)status;
        clickhouse_redact(msg, sizeof msg, password);
        err_set(err, ex->code, "%s", msg);
}

int clickhouse_response_check(long status, const char *body, size_t len, const char *password,
                              struct err *err)
{
        struct ch_exception ex;
        size_t n = len;

        if (status == 200) {
                while (n > 0 && isspace((unsigned char)body[n - 1]))
                        n--;
                if (n > 0 && body[n - 1] == '}' && body[0] == '{')
                        return 0;
                if (clickhouse_exception_parse(body, len, &ex) == 0) {
                        clickhouse_exception_err(&ex, status, password, err);
                        return -1;
                }
                err_set(err, CH_ERR_BADJSON, "ClickHouse sent an incomplete or non-JSON answer "
                        "(%zu bytes): is the url a ClickHouse HTTP port?", len);
                return -1;
        }
        if (clickhouse_exception_parse(body, len, &ex) == 0) {
                clickhouse_exception_err(&ex, status, password, err);
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

static void clickhouse_buf_put(struct ch_buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->n, s, n);
        b->n += n;
        b->s[b->n] = '\0';
}

static bool clickhouse_word_is(const char *w, size_t n, const char *kw)
{
        return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* Table functions and engines whose string arguments from `from` on carry
 * credentials: mysql('host', 'db', 'table', 'user', 'pw'), s3(url, key,
 * secret), remote(addr, db, table, user, pw), ... Returns the index of the
 * first secret argument, or -1. */
static int clickhouse_cred_func(const char *w, size_t n)
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
                if (clickhouse_word_is(w, n, f[i].name))
                        return f[i].from;
        return -1;
}

/* Masks the value after key= for secret-looking keys inside one string
 * literal's text (connection strings: "...;Password=x;", "pwd=x&",
 * "AccountKey=..."). Appends to b. */
static void clickhouse_put_literal(struct ch_buf *b, const char *s, size_t n)
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
                clickhouse_buf_put(b, s + from, i + klen - from);
                clickhouse_buf_put(b, "***", 3);
                i += klen;
                while (i < n && s[i] != ';' && s[i] != '&' && s[i] != ' ' && s[i] != '\'')
                        i++;
                from = i;
        }
        clickhouse_buf_put(b, s + from, n - from);
}

/* Masks "scheme://user:password@" password parts in place (into a copy). */
static char *clickhouse_mask_urls(const char *s)
{
        struct ch_buf b = { 0 };
        const char *p = s;

        clickhouse_buf_put(&b, "", 0);
        for (;;) {
                const char *sch = strstr(p, "://"), *q, *colon = NULL, *at = NULL;

                if (!sch) {
                        clickhouse_buf_put(&b, p, strlen(p));
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
                        clickhouse_buf_put(&b, p, (size_t)(colon + 1 - p));
                        clickhouse_buf_put(&b, "***", 3);
                        p = at;
                } else {
                        clickhouse_buf_put(&b, p, (size_t)(sch + 3 - p));
                        p = sch + 3;
                }
        }
        return b.s;
}

char *clickhouse_query_display(const char *query, size_t max)
{
        struct ch_buf b = { 0 };
        const char *p = query ? query : "";
        int depth = 0, cred_depth = -1, cred_from = 0, cred_arg = 0;
        enum { PEND_NONE, PEND_IDENT, PEND_LIT } pend = PEND_NONE;
        char *masked, *out;
        size_t o = 0, len;
        bool space = true;

        clickhouse_buf_put(&b, "", 0);
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
                                clickhouse_buf_put(&b, *q ? "'***'" : "'***", *q ? 5 : 4);
                        else
                                clickhouse_put_literal(&b, p, (size_t)(q - p) + (*q ? 1 : 0));
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
                        clickhouse_buf_put(&b, p, (size_t)(q - p) + (*q ? 1 : 0));
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
                        if (clickhouse_word_is(p, n, "IDENTIFIED")) {
                                pend = PEND_IDENT;
                        } else if (clickhouse_word_is(p, n, "PASSWORD") ||
                                   clickhouse_word_is(p, n, "SECRET") ||
                                   clickhouse_word_is(p, n, "SECRET_ACCESS_KEY") ||
                                   clickhouse_word_is(p, n, "AWS_SECRET_ACCESS_KEY") ||
                                   clickhouse_word_is(p, n, "ACCOUNT_KEY") ||
                                   clickhouse_word_is(p, n, "KEY_SECRET")) {
                                pend = PEND_LIT;
                        } else if (pend == PEND_LIT) {
                                pend = PEND_NONE;
                        } else if ((from = clickhouse_cred_func(p, n)) >= 0 && cred_depth < 0) {
                                const char *r = q;

                                while (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r')
                                        r++;
                                if (*r == '(') {
                                        cred_depth = depth + 1;
                                        cred_from = from;
                                        cred_arg = 0;
                                }
                        }
                        clickhouse_buf_put(&b, p, n);
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
                clickhouse_buf_put(&b, p, 1);
                p++;
        }

        masked = clickhouse_mask_urls(b.s);
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
        /* What the SQL walk above cannot see: "Bearer ..." in a header
         * argument, password=... in a connection string, PASSWORD '...'.
         * Masks never grow the text, so o stays an upper bound. */
        redact_patterns(out, o + 1);
        o = strlen(out);
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
