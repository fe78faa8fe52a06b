/*
 * Spark collector: the compact models of SparkApplication objects and the
 * parsers of the driver's REST answers (pure; see spark.c).
 */
#include "collectors/spark/spark_int.h"

#include "core/jsonparse.h"

/* ------------------------------------------------------------------------
 * compact models
 */

/* A copy of at most max bytes of s (util's xstrndup copies exactly n). */
static char *spark_strndup(const char *s, size_t max)
{
        return s ? xstrndup(s, strnlen(s, max)) : NULL;
}

const char *spark_get_str(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *spark_get_dup(const cJSON *o, const char *k, size_t max)
{
        const char *s = spark_get_str(o, k);

        return s ? spark_strndup(s, max) : NULL;
}

/* A JSON number that fits an int (or -1 / dflt). */
static int64_t spark_get_int(const cJSON *o, const char *k, int64_t dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < -9e15 ||
            v->valuedouble > 9e15)
                return dflt;
        return (int64_t)v->valuedouble;
}

static int spark_get_count(const cJSON *o, const char *k, int dflt)
{
        int64_t v = spark_get_int(o, k, dflt);

        return v < 0 || v > 1000000000 ? dflt : (int)v;
}

static int64_t spark_get_time(const cJSON *o, const char *k)
{
        const char *s = spark_get_str(o, k);

        return s ? kube_time_ms(s) : -1;
}

void spark_rest_init(struct spark_rest *r)
{
        memset(r, 0, sizeof *r);
        r->failed_jobs = r->failed_stages = -1;
        r->exec_active = r->exec_dead = -1;
        r->tasks_active = r->tasks_failed = r->tasks_completed = -1;
}

void spark_rest_jobs_done(struct spark_rest *r)
{
        for (size_t i = 0; i < r->n_jobs; i++)
                free(r->jobs[i].name);
        free(r->jobs);
        r->jobs = NULL;
        r->n_jobs = 0;
}

void spark_rest_stages_done(struct spark_rest *r)
{
        for (size_t i = 0; i < r->n_stages; i++) {
                free(r->stages[i].name);
                free(r->stages[i].failure);
        }
        free(r->stages);
        r->stages = NULL;
        r->n_stages = 0;
}

void spark_rest_execs_done(struct spark_rest *r)
{
        for (size_t i = 0; i < r->n_execs; i++) {
                free(r->execs[i].id);
                free(r->execs[i].host);
        }
        free(r->execs);
        r->execs = NULL;
        r->n_execs = 0;
}

void spark_rest_done(struct spark_rest *r)
{
        free(r->error);
        spark_rest_jobs_done(r);
        spark_rest_stages_done(r);
        spark_rest_execs_done(r);
        spark_rest_init(r);
}

static void spark_app_done(struct spark_app *a)
{
        free(a->namespace_);
        free(a->name);
        free(a->state_text);
        free(a->error);
        free(a->driver_pod);
        free(a->app_id);
        free(a->ui_service);
        free(a->type);
        spark_rest_done(&a->rest);
}

void spark_app_free(struct spark_app *a)
{
        if (!a)
                return;
        spark_app_done(a);
        free(a);
}

static void spark_sched_done(struct spark_sched *s)
{
        free(s->namespace_);
        free(s->name);
        free(s->schedule);
        free(s->schedule_state);
        free(s->last_run_name);
        free(s->reason);
}

void spark_sched_free(struct spark_sched *s)
{
        if (!s)
                return;
        spark_sched_done(s);
        free(s);
}

static int spark_exec_slot(const char *st)
{
        if (!st)
                return SPARK_EX_UNKNOWN;
        if (strcmp(st, "PENDING") == 0)
                return SPARK_EX_PENDING;
        if (strcmp(st, "RUNNING") == 0)
                return SPARK_EX_RUNNING;
        if (strcmp(st, "COMPLETED") == 0)
                return SPARK_EX_COMPLETED;
        if (strcmp(st, "FAILED") == 0)
                return SPARK_EX_FAILED;
        return SPARK_EX_UNKNOWN;
}

struct spark_app *spark_app_from_json(const cJSON *obj)
{
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
        const cJSON *as, *di, *es, *e;
        struct spark_app *a;
        const char *name = spark_get_str(md, "name");

        if (!cJSON_IsObject(obj) || !name || !*name)
                return NULL;
        a = xcalloc(1, sizeof *a);
        a->name = spark_strndup(name, SPARK_NAME_MAX);
        a->namespace_ = spark_strndup(spark_get_str(md, "namespace")
                                      ? spark_get_str(md, "namespace") : "", SPARK_NAME_MAX);
        a->created_ms = spark_get_time(md, "creationTimestamp");
        a->type = spark_get_dup(spec, "type", 32);
        as = cJSON_GetObjectItemCaseSensitive(st, "applicationState");
        a->state_text = spark_strndup(spark_get_str(as, "state") ? spark_get_str(as, "state") : "",
                                      64);
        a->state = spark_state_parse(a->state_text);
        a->error = spark_get_dup(as, "errorMessage", SPARK_ERR_MAX);
        if (a->error && !*a->error) {
                free(a->error);
                a->error = NULL;
        }
        a->submission_attempts = spark_get_count(st, "submissionAttempts", 0);
        a->execution_attempts = spark_get_count(st, "executionAttempts", 0);
        a->app_id = spark_get_dup(st, "sparkApplicationId", 128);
        a->submitted_ms = spark_get_time(st, "lastSubmissionAttemptTime");
        a->terminated_ms = spark_get_time(st, "terminationTime");
        di = cJSON_GetObjectItemCaseSensitive(st, "driverInfo");
        a->driver_pod = spark_get_dup(di, "podName", SPARK_NAME_MAX);
        a->ui_service = spark_get_dup(di, "webUIServiceName", SPARK_NAME_MAX);
        a->ui_port = (int)spark_get_int(di, "webUIPort", -1);
        if (a->ui_port <= 0 || a->ui_port > 65535)
                a->ui_port = -1;
        es = cJSON_GetObjectItemCaseSensitive(st, "executorState");
        cJSON_ArrayForEach(e, es)
                a->exec_by_state[spark_exec_slot(cJSON_IsString(e) ? e->valuestring
                                                                    : NULL)]++;
        spark_rest_init(&a->rest);
        ring_init(&a->in_hist);
        ring_init(&a->proc_hist);
        a->behind_ms = -1;
        return a;
}

struct spark_sched *spark_sched_from_json(const cJSON *obj)
{
        const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(obj, "spec");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(obj, "status");
        const char *name = spark_get_str(md, "name");
        struct spark_sched *s;

        if (!cJSON_IsObject(obj) || !name || !*name)
                return NULL;
        s = xcalloc(1, sizeof *s);
        s->name = spark_strndup(name, SPARK_NAME_MAX);
        s->namespace_ = spark_strndup(spark_get_str(md, "namespace")
                                      ? spark_get_str(md, "namespace") : "", SPARK_NAME_MAX);
        s->created_ms = spark_get_time(md, "creationTimestamp");
        s->schedule = spark_get_dup(spec, "schedule", 128);
        s->suspend = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "suspend"));
        s->last_run_ms = spark_get_time(st, "lastRun");
        s->next_run_ms = spark_get_time(st, "nextRun");
        s->schedule_state = spark_get_dup(st, "scheduleState", 64);
        s->last_run_name = spark_get_dup(st, "lastRunName", SPARK_NAME_MAX);
        s->reason = spark_get_dup(st, "reason", SPARK_ERR_MAX);
        return s;
}

void spark_app_copy(struct spark_app *dst, const struct spark_app *src)
{
        memset(dst, 0, sizeof *dst);
        dst->namespace_ = xstrdup(src->namespace_);
        dst->name = xstrdup(src->name);
        dst->state_text = xstrdup(src->state_text);
        dst->state = src->state;
        dst->error = xstrdup(src->error);
        dst->submission_attempts = src->submission_attempts;
        dst->execution_attempts = src->execution_attempts;
        dst->driver_pod = xstrdup(src->driver_pod);
        dst->app_id = xstrdup(src->app_id);
        dst->ui_service = xstrdup(src->ui_service);
        dst->ui_port = src->ui_port;
        memcpy(dst->exec_by_state, src->exec_by_state, sizeof dst->exec_by_state);
        dst->created_ms = src->created_ms;
        dst->submitted_ms = src->submitted_ms;
        dst->terminated_ms = src->terminated_ms;
        dst->type = xstrdup(src->type);
        spark_rest_init(&dst->rest);
        ring_init(&dst->in_hist);
        ring_init(&dst->proc_hist);
        dst->behind_ms = -1;
}

void spark_sched_copy(struct spark_sched *dst, const struct spark_sched *src)
{
        *dst = *src;
        dst->namespace_ = xstrdup(src->namespace_);
        dst->name = xstrdup(src->name);
        dst->schedule = xstrdup(src->schedule);
        dst->schedule_state = xstrdup(src->schedule_state);
        dst->last_run_name = xstrdup(src->last_run_name);
        dst->reason = xstrdup(src->reason);
}

struct spark_data *spark_data_new(void)
{
        return xcalloc(1, sizeof(struct spark_data));
}

void spark_data_free(struct spark_data *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n_apps; i++)
                spark_app_done(&d->apps[i]);
        free(d->apps);
        for (size_t i = 0; i < d->n_scheds; i++)
                spark_sched_done(&d->scheds[i]);
        free(d->scheds);
        for (size_t i = 0; i < d->n_notes; i++)
                free(d->notes[i]);
        free(d->notes);
        free(d);
}

const struct spark_app *spark_find(const struct spark_data *d, const char *ns, const char *name)
{
        for (size_t i = 0; d && i < d->n_apps; i++)
                if (strcmp(d->apps[i].namespace_, ns) == 0 && strcmp(d->apps[i].name, name) == 0)
                        return &d->apps[i];
        return NULL;
}

void spark_row_id(const char *source, const char *ns, const char *name, char *buf, size_t n)
{
        snprintf(buf, n, "%.63s\t%.63s/%s", source, ns, name);
}

/* ------------------------------------------------------------------------
 * driver REST parsers (pure)
 */

int64_t spark_time_parse(const char *s)
{
        struct tm tm;
        int y, mo, dd, h, mi, sec, ms = 0, used = 0;
        const char *p;
        time_t t;

        if (!s)
                return -1;
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &dd, &h, &mi, &sec, &used) != 6 ||
            used != 19)
                return -1;
        p = s + used;
        if (*p == '.') {
                int k = 0;

                p++;
                while (isdigit((unsigned char)*p)) {
                        if (k < 3) {
                                ms = ms * 10 + (*p - '0');
                                k++;
                        }
                        p++;
                }
                if (!k)
                        return -1;
                while (k++ < 3)
                        ms *= 10;
        }
        if (strcmp(p, "GMT") != 0 && strcmp(p, "Z") != 0)
                return -1;
        if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
                return -1;
        memset(&tm, 0, sizeof tm);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = dd;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        t = timegm(&tm);
        if (t == (time_t)-1)
                return -1;
        return (int64_t)t * 1000 + ms;
}

static cJSON *spark_parse_array(const char *body, size_t len, const char *what, struct err *err)
{
        cJSON *doc = cJSON_ParseWithLength(body, len);

        if (!doc) {
                err_set(err, EPROTO, "%s: not JSON (%s)", what,
                        len && body[0] == '<' ? "an HTML page: is this the Spark UI?"
                        : json_parse_why(body, len, "truncated or garbled"));
                return NULL;
        }
        if (!cJSON_IsArray(doc)) {
                err_set(err, EPROTO, "%s: expected a JSON array", what);
                cJSON_Delete(doc);
                return NULL;
        }
        return doc;
}

/* Newest first: by completion time, then id, both descending. */
static int spark_job_cmp(const void *pa, const void *pb)
{
        const struct spark_job *a = pa, *b = pb;

        if (a->completed_ms != b->completed_ms)
                return a->completed_ms > b->completed_ms ? -1 : 1;
        return a->id > b->id ? -1 : a->id < b->id;
}

static int spark_stage_cmp(const void *pa, const void *pb)
{
        const struct spark_stage *a = pa, *b = pb;

        if (a->completed_ms != b->completed_ms)
                return a->completed_ms > b->completed_ms ? -1 : 1;
        if (a->id != b->id)
                return a->id > b->id ? -1 : 1;
        return a->attempt > b->attempt ? -1 : a->attempt < b->attempt;
}

/* The FAILED entries of a jobs or stages array (`what`), each filled by
 * fill() into an element of `size` bytes, newest first by cmp; elements
 * past SPARK_LIST_MAX are released by drop(). *out gets the array, *n the
 * entries kept. Returns the number of failed entries, or -1 with err. */
static int spark_parse_failed(const char *body, size_t len, const char *what, size_t size,
                              void (*fill)(void *elem, const cJSON *j),
                              int (*cmp)(const void *, const void *), void (*drop)(void *elem),
                              void **out, size_t *n_out, struct err *err)
{
        cJSON *doc = spark_parse_array(body, len, what, err), *j;
        char *v = NULL;
        size_t n = 0;
        int failed = 0;

        if (!doc)
                return -1;
        cJSON_ArrayForEach(j, doc) {
                const char *st = spark_get_str(j, "status");

                if (!cJSON_IsObject(j) || (st && strcmp(st, "FAILED") != 0))
                        continue;
                failed++;
                v = xrealloc(v, (n + 1) * size);
                fill(v + n * size, j);
                n++;
        }
        cJSON_Delete(doc);
        if (n)
                qsort(v, n, size, cmp);
        for (size_t i = SPARK_LIST_MAX; i < n; i++)
                drop(v + i * size);
        *out = v;
        *n_out = n < SPARK_LIST_MAX ? n : SPARK_LIST_MAX;
        return failed;
}

static void spark_job_fill(void *elem, const cJSON *j)
{
        struct spark_job *v = elem;

        v->id = spark_get_int(j, "jobId", -1);
        v->name = spark_get_dup(j, "name", 256);
        v->completed_ms = spark_time_parse(spark_get_str(j, "completionTime"));
        v->failed_tasks = spark_get_count(j, "numFailedTasks", 0);
}

static void spark_job_drop(void *elem)
{
        free(((struct spark_job *)elem)->name);
}

static void spark_stage_fill(void *elem, const cJSON *j)
{
        struct spark_stage *v = elem;

        v->id = spark_get_int(j, "stageId", -1);
        v->attempt = spark_get_int(j, "attemptId", 0);
        v->name = spark_get_dup(j, "name", 256);
        v->failure = spark_get_dup(j, "failureReason", SPARK_ERR_MAX);
        v->completed_ms = spark_time_parse(spark_get_str(j, "completionTime"));
}

static void spark_stage_drop(void *elem)
{
        struct spark_stage *v = elem;

        free(v->name);
        free(v->failure);
}

int spark_parse_jobs(const char *body, size_t len, struct spark_rest *r, struct err *err)
{
        void *v;
        size_t n;
        int failed = spark_parse_failed(body, len, "jobs", sizeof(struct spark_job),
                                        spark_job_fill, spark_job_cmp, spark_job_drop,
                                        &v, &n, err);

        if (failed < 0)
                return -1;
        spark_rest_jobs_done(r);
        r->jobs = v;
        r->n_jobs = n;
        r->failed_jobs = failed;
        return 0;
}

int spark_parse_stages(const char *body, size_t len, struct spark_rest *r, struct err *err)
{
        void *v;
        size_t n;
        int failed = spark_parse_failed(body, len, "stages", sizeof(struct spark_stage),
                                        spark_stage_fill, spark_stage_cmp, spark_stage_drop,
                                        &v, &n, err);

        if (failed < 0)
                return -1;
        spark_rest_stages_done(r);
        r->stages = v;
        r->n_stages = n;
        r->failed_stages = failed;
        return 0;
}

int spark_parse_executors(const char *body, size_t len, struct spark_rest *r,
                          struct err *err)
{
        cJSON *doc = spark_parse_array(body, len, "executors", err), *j;
        int active = 0, dead = 0, ta = 0, tf = 0, tc = 0;

        if (!doc)
                return -1;
        spark_rest_execs_done(r);
        cJSON_ArrayForEach(j, doc) {
                const char *id = spark_get_str(j, "id");
                const cJSON *ia = cJSON_GetObjectItemCaseSensitive(j, "isActive");
                struct spark_exec *e;
                bool is_active = !cJSON_IsFalse(ia);

                if (!cJSON_IsObject(j) || !id)
                        continue;
                if (strcmp(id, "driver") != 0) {
                        if (is_active)
                                active++;
                        else
                                dead++;
                }
                ta += spark_get_count(j, "activeTasks", 0);
                tf += spark_get_count(j, "failedTasks", 0);
                tc += spark_get_count(j, "completedTasks", 0);
                if (r->n_execs >= SPARK_EXEC_MAX)
                        continue;
                r->execs = xrealloc(r->execs, (r->n_execs + 1) * sizeof *r->execs);
                e = &r->execs[r->n_execs++];
                e->id = spark_strndup(id, 64);
                e->host = spark_get_dup(j, "hostPort", 256);
                e->active = is_active;
                e->active_tasks = spark_get_count(j, "activeTasks", 0);
                e->failed_tasks = spark_get_count(j, "failedTasks", 0);
                e->completed_tasks = spark_get_count(j, "completedTasks", 0);
        }
        cJSON_Delete(doc);
        r->exec_active = active;
        r->exec_dead = dead;
        r->tasks_active = ta;
        r->tasks_failed = tf;
        r->tasks_completed = tc;
        return 0;
}

void spark_streaming_init(struct spark_streaming *s, enum spark_stream_kind k)
{
        s->kind = k;
        s->input_rate = s->processing_rate = s->batch_ms = NAN;
        s->sched_delay_ms = s->proc_time_ms = NAN;
        s->queries = 0;
}

/* A gauge's value: a number, or Jackson's "NaN"/"Infinity" strings (NAN). */
static double spark_gauge(const cJSON *g)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, "value");

        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
                return v->valuedouble;
        return NAN;
}

static void spark_add(double *acc, double v)
{
        if (isnan(v))
                return;
        *acc = isnan(*acc) ? v : *acc + v;
}

int spark_parse_metrics(const char *body, size_t len, struct spark_streaming *s,
                        struct err *err)
{
        cJSON *doc = cJSON_ParseWithLength(body, len), *gauges, *g;
        /* Per query (the text between "spark.streaming." and the metric
         * name): input, processing, latency; a handful at most. */
        struct { char name[128]; double in, proc, lat; } q[16];
        int nq = 0;

        spark_streaming_init(s, SPARK_STREAM_NONE);
        if (!doc || !cJSON_IsObject(doc)) {
                err_set(err, EPROTO, "metrics/json: %s", doc ? "expected a JSON object"
                        : "not JSON (is the MetricsServlet sink disabled?)");
                cJSON_Delete(doc);
                return -1;
        }
        gauges = cJSON_GetObjectItemCaseSensitive(doc, "gauges");
        cJSON_ArrayForEach(g, gauges) {
                const char *k = g->string, *qs = NULL, *dot, *p;
                char name[128];
                double v;
                int i;

                if (!k)
                        continue;
                /* PREFIX.spark.streaming.QUERY.METRIC (PREFIX = appId.driver
                 * by default); the metric has no dot, the query may. */
                for (p = strstr(k, "spark.streaming."); p; p = strstr(p + 1, "spark.streaming."))
                        if (p == k || p[-1] == '.') {
                                qs = p + strlen("spark.streaming.");
                                break;
                        }
                if (!qs || !(dot = strrchr(qs, '.')) || dot == qs)
                        continue;
                dot++;
                if (strcmp(dot, "inputRate-total") != 0 &&
                    strcmp(dot, "processingRate-total") != 0 && strcmp(dot, "latency") != 0)
                        continue;
                snprintf(name, sizeof name, "%.*s", (int)(dot - 1 - qs), qs);
                for (i = 0; i < nq; i++)
                        if (strcmp(q[i].name, name) == 0)
                                break;
                if (i == nq) {
                        if (nq == (int)LO_ARRAY_LEN(q))
                                continue;
                        str_copy(q[nq].name, name, sizeof q[nq].name);
                        q[nq].in = q[nq].proc = q[nq].lat = NAN;
                        nq++;
                }
                v = spark_gauge(g);
                if (strcmp(dot, "inputRate-total") == 0)
                        q[i].in = v;
                else if (strcmp(dot, "processingRate-total") == 0)
                        q[i].proc = v;
                else
                        q[i].lat = v;
        }
        cJSON_Delete(doc);
        if (!nq)
                return 0;
        /* Totals over the queries. A query with an input rate but no
         * processing rate (NaN before its first batch) makes the processing
         * total unknown rather than wrongly low. */
        s->kind = SPARK_STREAM_STRUCTURED;
        s->queries = nq;
        s->processing_rate = 0;
        for (int i = 0; i < nq; i++) {
                spark_add(&s->input_rate, q[i].in);
                if (isnan(q[i].proc) && !isnan(q[i].in))
                        s->processing_rate = NAN;
                else if (!isnan(q[i].proc) && !isnan(s->processing_rate))
                        s->processing_rate += q[i].proc;
                if (!isnan(q[i].lat) && (isnan(s->batch_ms) || q[i].lat > s->batch_ms))
                        s->batch_ms = q[i].lat;
        }
        if (isnan(s->input_rate) && s->processing_rate == 0)
                s->processing_rate = NAN;
        return 1;
}

static double spark_get_num(const cJSON *o, const char *k)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

        return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

int spark_parse_dstream(const char *body, size_t len, struct spark_streaming *s,
                        struct err *err)
{
        cJSON *doc = cJSON_ParseWithLength(body, len);
        double in, pt, bd;

        spark_streaming_init(s, SPARK_STREAM_DSTREAM);
        if (!doc || !cJSON_IsObject(doc) ||
            !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(doc, "batchDuration"))) {
                err_set(err, EPROTO, "streaming/statistics: %s",
                        doc ? "not a StreamingStatistics object" : "not JSON");
                cJSON_Delete(doc);
                return -1;
        }
        in = spark_get_num(doc, "avgInputRate");
        pt = spark_get_num(doc, "avgProcessingTime");
        bd = spark_get_num(doc, "batchDuration");
        s->input_rate = in;
        s->batch_ms = bd;
        s->sched_delay_ms = spark_get_num(doc, "avgSchedulingDelay");
        s->proc_time_ms = pt;
        if (!isnan(in) && !isnan(pt) && !isnan(bd) && pt > 0)
                s->processing_rate = in * bd / pt;
        cJSON_Delete(doc);
        return 0;
}

int64_t spark_behind_ms(const struct ring *in, const struct ring *proc)
{
        size_t n = in->n < proc->n ? in->n : proc->n;
        int64_t newest, oldest = -1;

        if (!n)
                return -1;
        newest = ring_time(in, in->n - 1);
        for (size_t k = 0; k < n; k++) {
                double i = ring_value(in, in->n - 1 - k);
                double p = ring_value(proc, proc->n - 1 - k);

                if (isnan(i) || isnan(p) || !(p < i))
                        break;
                oldest = ring_time(in, in->n - 1 - k);
        }
        return oldest < 0 ? 0 : newest - oldest;
}
