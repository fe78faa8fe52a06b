/*
 * ClickHouse collector: JSON helpers, the parsers of system tables and
 * the SQL chosen by server capabilities (pure; see clickhouse.c).
 */
#include "collectors/clickhouse/clickhouse_int.h"

#include "core/jsonparse.h"

/* ------------------------------------------------------------------------
 * JSON helpers (pure)
 */

/* Parses a FORMAT JSON body; *data is its "data" array. */
static int clickhouse_json_open(const char *json, size_t len, const char *what, cJSON **root,
                                cJSON **data, struct err *err)
{
        struct ch_exception ex;

        *root = cJSON_ParseWithLength(json, len);
        if (!*root) {
                if (clickhouse_exception_parse(json, len, &ex) == 0)
                        clickhouse_exception_err(&ex, 200, NULL, err);
                else
                        err_set(err, CH_ERR_BADJSON, "%s query: %s", what,
                                json_parse_why(json, len, "the answer is not JSON"));
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

static const cJSON *clickhouse_get(const cJSON *row, const char *name)
{
        return cJSON_GetObjectItemCaseSensitive(row, name);
}

/* A JSON number, or a string holding an integer (64-bit values come
 * quoted). False for null, anything else, or overflow. */
static bool clickhouse_i64(const cJSON *v, int64_t *out)
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

static bool clickhouse_f64(const cJSON *v, double *out)
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

static bool clickhouse_bool(const cJSON *v)
{
        int64_t x;

        if (cJSON_IsBool(v))
                return cJSON_IsTrue(v);
        return clickhouse_i64(v, &x) && x != 0;
}

static char *clickhouse_dup(const cJSON *v)
{
        return cJSON_IsString(v) && v->valuestring ? xstrdup(v->valuestring) : NULL;
}

static const char *clickhouse_s(const cJSON *v)
{
        return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* ------------------------------------------------------------------------
 * Parsers (pure)
 */

int clickhouse_parse_caps(const char *json, size_t len, struct ch_caps *c, struct err *err)
{
        cJSON *root, *data, *row;
        bool mt = false;

        if (clickhouse_json_open(json, len, "system.columns", &root, &data, err) != 0)
                return -1;
        c->query_log = c->type_enum = c->has_is_initial = c->has_query_kind = false;
        c->has_norm_hash = c->has_exception_code = c->parts_bytes_on_disk = false;
        c->has_merges = c->has_replicas = c->has_absolute_delay = false;
        c->has_session_expired = c->has_mt_settings = false;
        cJSON_ArrayForEach(row, data) {
                const char *t = clickhouse_s(clickhouse_get(row, "table")),
                           *n = clickhouse_s(clickhouse_get(row, "name"));
                const char *ty = clickhouse_s(clickhouse_get(row, "type"));

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

int clickhouse_parse_overview(const char *json, size_t len, struct ch_data *d, struct ch_caps *c,
                              struct err *err)
{
        cJSON *root, *data, *row;
        const char *v;
        int64_t x;

        if (clickhouse_json_open(json, len, "overview", &root, &data, err) != 0)
                return -1;
        row = cJSON_GetArrayItem(data, 0);
        v = clickhouse_s(clickhouse_get(row, "version"));
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
        d->uptime_s = clickhouse_i64(clickhouse_get(row, "uptime"), &x) ? x : -1;
        d->window_end = clickhouse_i64(clickhouse_get(row, "now"), &x) ? x : 0;
        cJSON_Delete(root);
        return 0;
}

int clickhouse_parse_latency(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        static const int64_t wins[CH_NWIN] = { 60, 300, 900 };
        cJSON *root, *data, *row;

        if (clickhouse_json_open(json, len, "latency", &root, &data, err) != 0)
                return -1;
        for (int i = 0; i < CH_NWIN; i++)
                d->lat[i] = (struct ch_latency){ 0, NAN, NAN, NAN };
        cJSON_ArrayForEach(row, data) {
                const cJSON *q = clickhouse_get(row, "q");
                int64_t w, n;
                int k = -1;

                if (!clickhouse_i64(clickhouse_get(row, "window_s"),
                                    &w) || !clickhouse_i64(clickhouse_get(row, "count"), &n))
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
                                if (!clickhouse_f64(cJSON_GetArrayItem(q, j), &p[j]))
                                        p[j] = NAN;
                        d->lat[k].p50 = p[0];
                        d->lat[k].p95 = p[1];
                        d->lat[k].p99 = p[2];
                }
        }
        cJSON_Delete(root);
        return 0;
}

int clickhouse_parse_rates(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int64_t q, f, r, b, span = 60;

        if (clickhouse_json_open(json, len, "rates", &root, &data, err) != 0)
                return -1;
        row = cJSON_GetArrayItem(data, 0);
        if (!row || !clickhouse_i64(clickhouse_get(row, "queries"),
                                    &q) || !clickhouse_i64(clickhouse_get(row, "failed"), &f)) {
                err_set(err, CH_ERR_BADJSON, "rates query: no queries/failed columns");
                cJSON_Delete(root);
                return -1;
        }
        if (clickhouse_i64(clickhouse_get(row, "span_s"), &span) && span <= 0)
                span = 60;
        d->queries_per_sec = (double)q / (double)span;
        d->failed_per_sec = (double)f / (double)span;
        d->inserted_rows_per_sec = clickhouse_i64(clickhouse_get(row, "written_rows"), &r)
                ? (double)r / (double)span : NAN;
        d->inserted_bytes_per_sec = clickhouse_i64(clickhouse_get(row, "written_bytes"), &b)
                ? (double)b / (double)span : NAN;
        cJSON_Delete(root);
        return 0;
}

void clickhouse_slow_done(struct ch_slow_query *s)
{
        free(s->query);
        free(s->user);
}

int clickhouse_parse_slow(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (clickhouse_json_open(json, len, "slow queries", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->slow = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->slow);
        d->n_slow = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_slow_query *s = &d->slow[d->n_slow];
                const char *q = clickhouse_s(clickhouse_get(row, "query"));
                int64_t x;

                if (!q || !clickhouse_i64(clickhouse_get(row, "duration_ms"), &s->duration_ms))
                        continue;
                s->query = clickhouse_query_display(q, CH_QUERY_DISPLAY);
                s->at = clickhouse_i64(clickhouse_get(row, "at"), &x) ? x * 1000 : 0;
                s->user = clickhouse_dup(clickhouse_get(row, "user"));
                d->n_slow++;
        }
        cJSON_Delete(root);
        return 0;
}

void clickhouse_table_done(struct ch_table *t)
{
        free(t->database);
        free(t->table);
        free(t->max_partition);
}

int clickhouse_parse_tables(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (clickhouse_json_open(json, len, "tables", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->tables = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->tables);
        d->n_tables = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_table *t = &d->tables[d->n_tables];
                const char *db = clickhouse_s(clickhouse_get(row, "database")),
                           *tb = clickhouse_s(clickhouse_get(row, "table"));

                if (!db || !tb || !clickhouse_i64(clickhouse_get(row, "active_parts"),
                                                  &t->active_parts) ||
                    !clickhouse_i64(clickhouse_get(row, "max_parts_per_partition"),
                                    &t->max_parts_per_partition))
                        continue;
                t->database = xstrdup(db);
                t->table = xstrdup(tb);
                t->max_partition = clickhouse_dup(clickhouse_get(row, "max_partition"));
                if (!clickhouse_i64(clickhouse_get(row, "rows"), &t->rows))
                        t->rows = -1;
                if (!clickhouse_i64(clickhouse_get(row, "bytes"), &t->bytes))
                        t->bytes = -1;
                d->n_tables++;
        }
        cJSON_Delete(root);
        return 0;
}

void clickhouse_merge_done(struct ch_merge *m)
{
        free(m->database);
        free(m->table);
        free(m->result_part);
}

int clickhouse_parse_merges(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (clickhouse_json_open(json, len, "merges", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->merge_list = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->merge_list);
        d->n_merge_list = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_merge *m = &d->merge_list[d->n_merge_list];
                const char *db = clickhouse_s(clickhouse_get(row, "database")),
                           *tb = clickhouse_s(clickhouse_get(row, "table"));

                if (!db || !tb)
                        continue;
                m->database = xstrdup(db);
                m->table = xstrdup(tb);
                m->result_part = clickhouse_dup(clickhouse_get(row, "result_part_name"));
                if (!clickhouse_f64(clickhouse_get(row, "elapsed"), &m->elapsed_s))
                        m->elapsed_s = NAN;
                if (!clickhouse_f64(clickhouse_get(row, "progress"), &m->progress))
                        m->progress = NAN;
                if (!clickhouse_i64(clickhouse_get(row, "num_parts"), &m->num_parts))
                        m->num_parts = -1;
                if (!clickhouse_i64(clickhouse_get(row, "total_size_bytes_compressed"), &m->bytes))
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

void clickhouse_replica_done(struct ch_replica *r)
{
        free(r->database);
        free(r->table);
}

int clickhouse_parse_replicas(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;
        int n;

        if (clickhouse_json_open(json, len, "replicas", &root, &data, err) != 0)
                return -1;
        n = cJSON_GetArraySize(data);
        d->replicas = xcalloc(n > 0 ? (size_t)n : 1, sizeof *d->replicas);
        d->n_replicas = 0;
        cJSON_ArrayForEach(row, data) {
                struct ch_replica *r = &d->replicas[d->n_replicas];
                const char *db = clickhouse_s(clickhouse_get(row, "database")),
                           *tb = clickhouse_s(clickhouse_get(row, "table"));

                if (!db || !tb)
                        continue;
                r->database = xstrdup(db);
                r->table = xstrdup(tb);
                r->is_readonly = clickhouse_bool(clickhouse_get(row, "is_readonly"));
                r->is_session_expired = clickhouse_bool(clickhouse_get(row, "is_session_expired"));
                if (!clickhouse_i64(clickhouse_get(row, "queue_size"), &r->queue_size))
                        r->queue_size = -1;
                if (!clickhouse_i64(clickhouse_get(row, "inserts_in_queue"), &r->inserts_in_queue))
                        r->inserts_in_queue = -1;
                if (!clickhouse_i64(clickhouse_get(row, "merges_in_queue"), &r->merges_in_queue))
                        r->merges_in_queue = -1;
                if (!clickhouse_i64(clickhouse_get(row, "absolute_delay"), &r->absolute_delay_s))
                        r->absolute_delay_s = -1;
                d->n_replicas++;
        }
        cJSON_Delete(root);
        return 0;
}

int clickhouse_parse_mt_settings(const char *json, size_t len, struct ch_data *d, struct err *err)
{
        cJSON *root, *data, *row;

        if (clickhouse_json_open(json, len, "merge_tree_settings", &root, &data, err) != 0)
                return -1;
        cJSON_ArrayForEach(row, data) {
                const char *n = clickhouse_s(clickhouse_get(row, "name"));
                int64_t v;

                if (n && strcmp(n, "parts_to_delay_insert") == 0 &&
                    clickhouse_i64(clickhouse_get(row, "value"), &v) && v > 0)
                        d->parts_to_delay_insert = v;
        }
        cJSON_Delete(root);
        return 0;
}

int clickhouse_parse_counters(const char *json, size_t len, struct ch_counters *k, struct err *err)
{
        cJSON *root, *data, *row;
        bool events = false;

        k->memory = k->query = k->failed = k->ins_rows = k->ins_bytes = -1;
        if (clickhouse_json_open(json, len, "counters", &root, &data, err) != 0)
                return -1;
        cJSON_ArrayForEach(row, data) {
                const char *kind = clickhouse_s(clickhouse_get(row, "kind")),
                           *n = clickhouse_s(clickhouse_get(row, "name"));
                int64_t v;

                if (!kind || !n || !clickhouse_i64(clickhouse_get(row, "value"), &v))
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
static char *clickhouse_where(const struct ch_caps *c, int64_t end_s, int64_t span_s,
                              const char *span_expr)
{
        return xasprintf("event_date >= toDate(toDateTime(%lld)) AND "
                         "event_time > toDateTime(%lld) - %s AND event_time <= toDateTime(%lld)"
                         "%s AND query_id NOT LIKE '" CH_OWN_PREFIX "%%'",
                         (long long)(end_s - span_s), (long long)end_s,
                         span_expr, (long long)end_s,
                         c->has_is_initial ? " AND is_initial_query = 1" : "");
}

static const char *clickhouse_t_finish(const struct ch_caps *c)
{
        return c->type_enum ? "type = 'QueryFinish'" : "type = 2";
}

static const char *clickhouse_t_failed(const struct ch_caps *c)
{
        return c->type_enum ? "type IN ('ExceptionBeforeStart', 'ExceptionWhileProcessing')"
                            : "type IN (3, 4)";
}

static const char *clickhouse_t_end(const struct ch_caps *c)
{
        return c->type_enum ? "type != 'QueryStart'" : "type != 1";
}

char *clickhouse_sql_latency(const struct ch_caps *c, int64_t end_s)
{
        char *w = clickhouse_where(c, end_s, 900, "w"), *s;

        s = xasprintf("SELECT w AS window_s, count() AS count, "
                      "quantiles(0.5, 0.95, 0.99)(query_duration_ms) AS q "
                      "FROM system.query_log ARRAY JOIN [60, 300, 900] AS w "
                      "WHERE %s AND %s GROUP BY w ORDER BY w", w, clickhouse_t_finish(c));
        free(w);
        return s;
}

char *clickhouse_sql_rates(const struct ch_caps *c, int64_t end_s)
{
        char *w = clickhouse_where(c, end_s, 60, "60"), *s, ins[128];

        snprintf(ins, sizeof ins, "%s%s", clickhouse_t_finish(c),
                 c->has_query_kind ? " AND query_kind = 'Insert'" : "");
        s = xasprintf("SELECT 60 AS span_s, countIf(%s) AS queries, countIf(%s) AS failed, "
                      "sumIf(written_rows, %s) AS written_rows, "
                      "sumIf(written_bytes, %s) AS written_bytes "
                      "FROM system.query_log WHERE %s",
                      clickhouse_t_end(c), clickhouse_t_failed(c), ins, ins, w);
        free(w);
        return s;
}

char *clickhouse_sql_slow(const struct ch_caps *c, int64_t end_s)
{
        char *w = clickhouse_where(c, end_s, 900, "900"), *s;

        s = xasprintf("SELECT substringUTF8(query, 1, %d) AS query, "
                      "query_duration_ms AS duration_ms, toUnixTimestamp(event_time) AS at, user "
                      "FROM system.query_log WHERE %s AND %s "
                      "ORDER BY query_duration_ms DESC, event_time DESC "
                      "LIMIT 1 BY %s LIMIT %d",
                      CH_QUERY_FETCH, w, clickhouse_t_finish(c),
                      c->has_norm_hash ? "normalized_query_hash" : "query", CH_SLOW_N);
        free(w);
        return s;
}

char *clickhouse_sql_tables(const struct ch_caps *c)
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

char *clickhouse_sql_merges(const struct ch_caps *c)
{
        (void)c;
        return xstrdup("SELECT database, table, elapsed, progress, num_parts, result_part_name, "
                       "total_size_bytes_compressed FROM system.merges ORDER BY elapsed DESC");
}

char *clickhouse_sql_replicas(const struct ch_caps *c)
{
        return xasprintf("SELECT database, table, is_readonly, %squeue_size, inserts_in_queue, "
                         "merges_in_queue%s FROM system.replicas ORDER BY database, table",
                         c->has_session_expired ? "is_session_expired, " : "",
                         c->has_absolute_delay ? ", absolute_delay" : "");
}

char *clickhouse_sql_counters(const struct ch_caps *c)
{
        (void)c;
        return xstrdup("SELECT 'metric' AS kind, metric AS name, toString(value) AS value "
                       "FROM system.metrics WHERE metric = 'MemoryTracking' "
                       "UNION ALL SELECT 'event' AS kind, event AS name, toString(value) AS value "
                       "FROM system.events WHERE event IN "
                       "('Query', 'FailedQuery', 'InsertedRows', 'InsertedBytes')");
}
