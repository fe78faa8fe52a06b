/*
 * Integration tests of the kubectl/helm actions: the real lambdaops binary
 * runs `act` with the REAL kubectl installed here (/usr/bin/kubectl, or
 * $LO_KUBECTL) against tests/lib/fake_kube.py over TLS with a client
 * certificate (tests/lib/tu_kube.h). kubectl gets --kubeconfig, --context and
 * --cache-dir in the temp dir, and HOME is the temp dir, so ~/.kube is
 * never touched. The fake server logs every request kubectl makes; each
 * case asserts those requests:
 *   - restart: the PATCH of the StatefulSet with the restartedAt annotation
 *   - scale: the PATCH of the scale subresource, and the new replica count
 *   - delete: the DELETE of the pod; a pod named with shell metacharacters
 *     is deleted by its exact name and no shell ever runs it
 *   - resubmit: GET, DELETE, then POST of the SparkApplication without
 *     status, resourceVersion, uid, creationTimestamp; the private copy is
 *     gone afterwards
 *   - logs: the log subresource with tailLines; output on stdout
 *   - read-only: exit 77 and not a single request
 *   - a failing kubectl (NotFound): exit 1, its exit code audited
 *   - --dry-run: the argv printed, no request
 *   - the context resolved from the kubeconfig's current-context
 * and every case leaves exactly one audit line with context, argv, exit
 * code and duration. helm is not packaged for Debian: a recording fake
 * `helm` script in the temp dir writes its argv one word per line, for
 * rollback/upgrade and --dry-run.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/subproc.h"
#include "tu.h"
#include "tu_kube.h"
#include "core/util.h"

struct fx {
        struct tu_kube k;
        char dir[128];          /* our temp dir: config, audit, cache, helm */
        char cfg[200], audit[200], helm_argv[200], tmp[200];
        const char *bin, *kubectl;
};

static struct fx F;

static void write_file(const char *path, const char *text, mode_t mode)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        fclose(f);
        chmod(path, mode);
}

static int setup(void **state)
{
        const char *dirs[] = { tu_src_path("tests/fixtures/kube/base"), NULL };
        char *dirs0 = xstrdup(dirs[0]), path[256], *text;
        const char *d0[] = { dirs0, NULL };
        const char *kc = getenv("LO_KUBECTL");

        (void)state;
        F.bin = getenv("LO_BINARY");
        F.kubectl = kc && *kc ? kc : "/usr/bin/kubectl";
        if (!F.bin || access(F.kubectl, X_OK) != 0) {
                fprintf(stderr, "need LO_BINARY and %s\n", F.kubectl);
                free(dirs0);
                return -1;
        }
        if (tu_kube_start(&F.k, d0, TU_KUBE_TLS) != 0) {
                free(dirs0);
                return -1;
        }
        free(dirs0);
        snprintf(F.dir, sizeof F.dir, "/tmp/lo-it-kubectl.XXXXXX");
        if (!mkdtemp(F.dir))
                return -1;
        /* kubectl's defaults (~/.kube/cache, ~/.kube/config) stay out of
         * reach; resubmit's private copy goes to our tmp. */
        setenv("HOME", F.dir, 1);
        unsetenv("KUBECONFIG");
        snprintf(F.tmp, sizeof F.tmp, "%s/tmp", F.dir);
        mkdir(F.tmp, 0700);
        setenv("TMPDIR", F.tmp, 1);
        snprintf(F.cfg, sizeof F.cfg, "%s/lambdaops.yaml", F.dir);
        snprintf(F.audit, sizeof F.audit, "%s/audit.jsonl", F.dir);
        snprintf(F.helm_argv, sizeof F.helm_argv, "%s/helm.argv", F.dir);
        snprintf(path, sizeof path, "%s/helm", F.dir);
        text = xasprintf("#!/bin/sh\n"
                         "# records its argv, one word per line\n"
                         "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done > '%s'\n"
                         "echo 'Rollback was a success! Happy Helming!'\n", F.helm_argv);
        write_file(path, text, 0755);
        free(text);
        text = xasprintf("environment: it\n"
                         "audit_log: %s\n"
                         "kubectl: %s\n"
                         "helm: %s/helm\n"
                         "kubectl_cache_dir: %s/cache\n"
                         "danger_contexts: [\"fa*\"]\n"
                         "actions:\n"
                         "  - name: label\n"
                         "    scope: pod\n"
                         "    argv: [kubectl, --kubeconfig, \"${kubeconfig}\", --context,\n"
                         "           \"${context}\", -n, \"${namespace}\", label, --overwrite,\n"
                         "           \"${kind}/${name}\", \"note=${arg}\"]\n"
                         "sources:\n"
                         "  - name: k8s\n"
                         "    kind: kubernetes\n"
                         "    kubeconfig: %s\n"
                         "    context: fake\n"
                         "  - name: k8s-current\n"
                         "    kind: kubernetes\n"
                         "    kubeconfig: %s\n"
                         "  - name: spk\n"
                         "    kind: spark\n"
                         "    kubernetes: k8s\n",
                         F.audit, F.kubectl, F.dir, F.dir, F.k.kubeconfig_cert,
                         F.k.kubeconfig_cert);
        write_file(F.cfg, text, 0644);
        free(text);
        return 0;
}

static int teardown(void **state)
{
        char *argv[] = { "rm", "-rf", F.dir, NULL };
        struct subproc_result r;
        struct err e;

        (void)state;
        tu_kube_stop(&F.k);
        if (F.dir[0] && subproc_run(argv, 0, 10000, -1, &r, &e) == 0)
                subproc_result_done(&r);
        return 0;
}

/* Runs `lambdaops -c CFG ARGS...` (stdin /dev/null). Output in r. */
static int lo(struct subproc_result *r, const char *a1, ...)
{
        char *argv[24];
        size_t n = 0;
        va_list ap;
        struct err e;

        argv[n++] = (char *)F.bin;
        argv[n++] = "-c";
        argv[n++] = F.cfg;
        argv[n++] = (char *)a1;
        va_start(ap, a1);
        while (n < LO_ARRAY_LEN(argv) - 1 && (argv[n] = va_arg(ap, char *)) != NULL)
                n++;
        va_end(ap);
        argv[n] = NULL;
        err_clear(&e);
        assert_int_equal(subproc_run(argv, 0, 60000, -1, r, &e), 0);
        return r->exit_code;
}

/* --- the request log ------------------------------------------------------ */

struct req {
        char method[16];
        char path[512];
        char query[512];
        char *body;             /* owned or NULL */
        char auth[16];
};

struct reqs {
        struct req *v;
        size_t n;
};

static void reqs_free(struct reqs *q)
{
        for (size_t i = 0; i < q->n; i++)
                free(q->v[i].body);
        free(q->v);
        memset(q, 0, sizeof *q);
}

/* The API requests (not /_fake/, not discovery) logged after the first
 * `skip` lines. Returns the total line count. */
static size_t reqs_since(size_t skip, struct reqs *out)
{
        char *log = tu_kube_requests(&F.k), *save = NULL, *line;
        size_t n = 0;

        memset(out, 0, sizeof *out);
        assert_non_null(log);
        for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *j;
                const char *m, *p, *qs, *b, *au;
                struct req *r;

                if (n++ < skip)
                        continue;
                j = cJSON_Parse(line);
                assert_non_null(j);
                m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "method"));
                p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "path"));
                qs = cJSON_GetStringValue(cJSON_GetObjectItem(j, "query"));
                b = cJSON_GetStringValue(cJSON_GetObjectItem(j, "body"));
                au = cJSON_GetStringValue(cJSON_GetObjectItem(j, "auth"));
                if (p && (strncmp(p, "/_fake/", 7) == 0 ||
                          (strncmp(p, "/api/v1/namespaces/", 19) != 0 &&
                           strncmp(p, "/apis/", 6) != 0) ||
                          strcmp(p, "/apis/") == 0 || !strstr(p, "/namespaces/"))) {
                        cJSON_Delete(j);
                        continue;
                }
                out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
                r = &out->v[out->n++];
                memset(r, 0, sizeof *r);
                str_copy(r->method, m ? m : "", sizeof r->method);
                str_copy(r->path, p ? p : "", sizeof r->path);
                str_copy(r->query, qs ? qs : "", sizeof r->query);
                str_copy(r->auth, au ? au : "", sizeof r->auth);
                r->body = b && *b ? xstrdup(b) : NULL;
                cJSON_Delete(j);
        }
        free(log);
        return n;
}

static size_t reqs_mark(void)
{
        struct reqs q;
        size_t n = reqs_since((size_t)-1 / 2, &q);

        reqs_free(&q);
        return n;
}

/* The index of the first request with method and path, from `from`; -1. */
static int reqs_find(const struct reqs *q, size_t from, const char *method, const char *path)
{
        for (size_t i = from; i < q->n; i++)
                if (strcmp(q->v[i].method, method) == 0 && strcmp(q->v[i].path, path) == 0)
                        return (int)i;
        return -1;
}

static size_t reqs_count_method(const struct reqs *q, const char *method)
{
        size_t n = 0;

        for (size_t i = 0; i < q->n; i++)
                n += strcmp(q->v[i].method, method) == 0;
        return n;
}

/* --- the audit log ---------------------------------------------------------- */

static size_t audit_lines(void)
{
        char *s = tu_read_file(F.audit, NULL);
        size_t n = 0;

        for (char *c = s; c && *c; c++)
                n += *c == '\n';
        free(s);
        return n;
}

/* The audit file has exactly `want` lines; returns the last one, parsed. */
static cJSON *audit_last(size_t want)
{
        char *s = tu_read_file(F.audit, NULL), *last;
        size_t n = 0, len;
        cJSON *j;

        assert_non_null(s);
        for (char *c = s; *c; c++)
                n += *c == '\n';
        assert_int_equal(n, want);
        len = strlen(s);
        assert_true(len > 1 && s[len - 1] == '\n');
        s[len - 1] = '\0';
        last = strrchr(s, '\n');
        j = cJSON_Parse(last ? last + 1 : s);
        free(s);
        assert_non_null(j);
        return j;
}

static const char *jstr(const cJSON *j, const char *k)
{
        const cJSON *v = cJSON_GetObjectItem(j, k);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The fields every kubectl/helm audit line has. */
static void audit_common(const cJSON *a, const char *action, const char *target,
                         const char *outcome, int status, bool dry)
{
        const cJSON *st = cJSON_GetObjectItem(a, "status");
        const cJSON *du = cJSON_GetObjectItem(a, "duration_ms");

        assert_string_equal(jstr(a, "via"), "cli");
        assert_string_equal(jstr(a, "environment"), "it");
        assert_string_equal(jstr(a, "action"), action);
        assert_string_equal(jstr(a, "target"), target);
        assert_string_equal(jstr(a, "outcome"), outcome);
        if (status)
                assert_int_equal((int)cJSON_GetNumberValue(st), status);
        else
                assert_true(cJSON_IsNull(st));
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(a, "dry_run")));
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(a, "dry_run")), dry);
        /* Refusals happen before any plan: no duration. */
        if (strcmp(outcome, "refused") == 0)
                assert_true(cJSON_IsNull(du));
        else
                assert_true(cJSON_IsNumber(du) && du->valuedouble >= 0);
}

/* argv[i] of the audit line is exactly the words. */
static void audit_argv(const cJSON *a, int i, const char *const *want)
{
        const cJSON *all = cJSON_GetObjectItem(a, "argv"), *one = cJSON_GetArrayItem(all, i);
        int n = 0;

        assert_true(cJSON_IsArray(one));
        while (want[n]) {
                assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(one, n)), want[n]);
                n++;
        }
        assert_int_equal(cJSON_GetArraySize(one), n);
}

#define KPRE(kc) F.kubectl, "--kubeconfig", (kc), "--context", "fake", "--cache-dir", cache

/* --- the cases ---------------------------------------------------------------- */

static void test_restart(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        char cache[256];
        int i;
        cJSON *a;

        (void)state;
        snprintf(cache, sizeof cache, "%s/cache", F.dir);
        assert_int_equal(lo(&r, "act", "k8s", "restart", "ingestion/statefulset/kafka",
                            "--yes", NULL), 0);
        assert_non_null(strstr(r.out, "statefulset.apps/kafka restarted"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        i = reqs_find(&q, 0, "PATCH", "/apis/apps/v1/namespaces/ingestion/statefulsets/kafka");
        assert_true(i >= 0);
        assert_non_null(q.v[i].body);
        assert_non_null(strstr(q.v[i].body, "\"kubectl.kubernetes.io/restartedAt\""));
        assert_non_null(strstr(q.v[i].body, "{\"spec\":{\"template\":{\"metadata\":"
                                            "{\"annotations\":"));
        assert_string_equal(q.v[i].auth, "cert");
        assert_int_equal(reqs_count_method(&q, "PATCH"), 1);
        reqs_free(&q);
        /* The cache went where we said, not to ~/.kube. */
        {
                struct stat st;
                char home_kube[256];

                assert_int_equal(stat(cache, &st), 0);
                snprintf(home_kube, sizeof home_kube, "%s/.kube", F.dir);
                assert_int_equal(stat(home_kube, &st), -1);
        }
        a = audit_last(n0 + 1);
        audit_common(a, "restart", "ingestion/statefulset/kafka", "ok", 0, false);
        assert_string_equal(jstr(a, "context"), "fake");
        assert_string_equal(jstr(a, "kind"), "kubernetes");
        {
                const char *want[] = { KPRE(F.k.kubeconfig_cert), "-n", "ingestion",
                                       "rollout", "restart", "statefulset/kafka", NULL };
                audit_argv(a, 0, want);
        }
        cJSON_Delete(a);
}

static void test_scale(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        char cache[256];
        int i;
        cJSON *a;

        (void)state;
        snprintf(cache, sizeof cache, "%s/cache", F.dir);
        /* A bad count is refused before anything runs (usage, audited). */
        assert_int_equal(lo(&r, "act", "--yes", "k8s", "scale", "ingestion/statefulset/kafka",
                            "--", "-2", NULL), 64);
        assert_non_null(strstr(r.out, "replicas: \"-2\" is not a non-negative integer"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        assert_int_equal(q.n, 0);
        reqs_free(&q);
        a = audit_last(n0 + 1);
        audit_common(a, "scale", "ingestion/statefulset/kafka", "refused", 64, false);
        cJSON_Delete(a);

        assert_int_equal(lo(&r, "act", "k8s", "scale", "ingestion/statefulset/kafka", "5",
                            "--yes", NULL), 0);
        assert_non_null(strstr(r.out, "statefulset.apps/kafka scaled"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        i = reqs_find(&q, 0, "PATCH",
                      "/apis/apps/v1/namespaces/ingestion/statefulsets/kafka/scale");
        assert_true(i >= 0);
        assert_string_equal(q.v[i].body, "{\"spec\":{\"replicas\":5}}");
        reqs_free(&q);
        a = audit_last(n0 + 2);
        audit_common(a, "scale", "ingestion/statefulset/kafka", "ok", 0, false);
        {
                const char *want[] = { KPRE(F.k.kubeconfig_cert), "-n", "ingestion", "scale",
                                       "statefulset/kafka", "--replicas=5", NULL };
                audit_argv(a, 0, want);
        }
        cJSON_Delete(a);
        /* The server has the new count. */
        {
                char *argv[] = { (char *)F.kubectl, "--kubeconfig", F.k.kubeconfig_cert,
                                 "--context", "fake", "--cache-dir", cache, "-n",
                                 "ingestion", "get", "statefulset/kafka", "-o",
                                 "jsonpath={.spec.replicas}", NULL };
                struct err e;

                assert_int_equal(subproc_run(argv, 0, 30000, -1, &r, &e), 0);
                assert_int_equal(r.exit_code, 0);
                assert_string_equal(r.out, "5");
                subproc_result_done(&r);
        }
}

static void test_delete_metachars(void **state)
{
        static const char pod[] = "x;touch pwned;$(touch pwned2)`touch pwned3`'q'&";
        struct subproc_result r;
        struct reqs q;
        size_t mark, n0 = audit_lines();
        char *obj, *target, cwd[512], pw[256];
        int i;
        cJSON *a, *o = cJSON_CreateArray(), *p = cJSON_CreateObject(), *m;

        (void)state;
        /* A pod the fake server holds under that exact name. */
        cJSON_AddStringToObject(p, "apiVersion", "v1");
        cJSON_AddStringToObject(p, "kind", "Pod");
        m = cJSON_AddObjectToObject(p, "metadata");
        cJSON_AddStringToObject(m, "name", pod);
        cJSON_AddStringToObject(m, "namespace", "ingestion");
        cJSON_AddItemToArray(o, p);
        obj = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        assert_int_equal(tu_kube_post(&F.k, "/_fake/objects", obj), 0);
        free(obj);
        /* Any shell would create files here. */
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(F.dir), 0);
        mark = reqs_mark();
        target = xasprintf("ingestion/pod/%s", pod);
        assert_int_equal(lo(&r, "act", "k8s", "delete", target, "--yes", NULL), 0);
        subproc_result_done(&r);
        assert_int_equal(chdir(cwd), 0);
        for (int k = 0; k < 3; k++) {
                snprintf(pw, sizeof pw, "%s/pwned%s", F.dir, k ? (k == 1 ? "2" : "3") : "");
                assert_int_equal(access(pw, F_OK), -1);
        }
        reqs_since(mark, &q);
        {
                char *path = xasprintf("/api/v1/namespaces/ingestion/pods/%s", pod);

                i = reqs_find(&q, 0, "DELETE", path);
                assert_true(i >= 0);
                free(path);
        }
        assert_int_equal(reqs_count_method(&q, "DELETE"), 1);
        reqs_free(&q);
        a = audit_last(n0 + 1);
        audit_common(a, "delete", target, "ok", 0, false);
        {
                char cache[256], *word = xasprintf("pod/%s", pod);
                const char *want[] = { KPRE(F.k.kubeconfig_cert), "-n", "ingestion", "delete",
                                       word, "--wait=false", NULL };

                snprintf(cache, sizeof cache, "%s/cache", F.dir);
                audit_argv(a, 0, want);
                free(word);
        }
        cJSON_Delete(a);
        free(target);

        /* The ordinary pod too. */
        mark = reqs_mark();
        assert_int_equal(lo(&r, "act", "k8s", "delete", "ingestion/pod/kafka-0", "--yes", NULL),
                         0);
        assert_non_null(strstr(r.out, "pod \"kafka-0\" deleted"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        assert_true(reqs_find(&q, 0, "DELETE", "/api/v1/namespaces/ingestion/pods/kafka-0") >= 0);
        reqs_free(&q);
        cJSON_Delete(audit_last(n0 + 2));
}

static const char spark_app[] =
        "[{\"apiVersion\":\"sparkoperator.k8s.io/v1beta2\",\"kind\":\"SparkApplication\","
        "\"metadata\":{\"name\":\"speed-layer\",\"namespace\":\"processing\","
        "\"labels\":{\"app\":\"speed\"},"
        "\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Update\"}]},"
        "\"spec\":{\"type\":\"Scala\",\"mode\":\"cluster\",\"image\":\"spark:3.5.1\","
        "\"mainClass\":\"com.example.Speed\",\"mainApplicationFile\":\"local:///app.jar\","
        "\"sparkVersion\":\"3.5.1\",\"driver\":{\"cores\":1,\"memory\":\"1g\"},"
        "\"executor\":{\"instances\":2,\"cores\":1,\"memory\":\"2g\"}},"
        "\"status\":{\"applicationState\":{\"state\":\"FAILED\",\"errorMessage\":\"boom\"},"
        "\"driverInfo\":{\"podName\":\"speed-layer-drv-7\"},\"submissionAttempts\":3}}]";

static void test_resubmit(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark, n0 = audit_lines();
        const char *col = "/apis/sparkoperator.k8s.io/v1beta2/namespaces/processing/"
                          "sparkapplications";
        char *one = xasprintf("%s/speed-layer", col);
        int g, d, c;
        cJSON *a, *body, *meta, *want = cJSON_Parse(spark_app);
        DIR *dir;
        struct dirent *de;
        size_t left = 0;

        (void)state;
        assert_int_equal(tu_kube_post(&F.k, "/_fake/objects", spark_app), 0);
        mark = reqs_mark();
        assert_int_equal(lo(&r, "act", "spk", "resubmit", "processing/speed-layer", "--yes",
                            NULL), 0);
        assert_non_null(strstr(r.out, "sparkapplication.sparkoperator.k8s.io \"speed-layer\" "
                                      "deleted"));
        assert_non_null(strstr(r.out, "sparkapplication.sparkoperator.k8s.io/speed-layer "
                                      "created"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        g = reqs_find(&q, 0, "GET", one);
        d = reqs_find(&q, 0, "DELETE", one);
        c = reqs_find(&q, 0, "POST", col);
        assert_true(g >= 0 && d > g && c > d);
        assert_int_equal(reqs_count_method(&q, "DELETE"), 1);
        assert_int_equal(reqs_count_method(&q, "POST"), 1);
        body = cJSON_Parse(q.v[c].body);
        assert_non_null(body);
        meta = cJSON_GetObjectItem(body, "metadata");
        assert_null(cJSON_GetObjectItem(body, "status"));
        assert_null(cJSON_GetObjectItem(meta, "resourceVersion"));
        assert_null(cJSON_GetObjectItem(meta, "uid"));
        assert_null(cJSON_GetObjectItem(meta, "creationTimestamp"));
        assert_null(cJSON_GetObjectItem(meta, "managedFields"));
        assert_string_equal(jstr(meta, "name"), "speed-layer");
        assert_string_equal(jstr(meta, "namespace"), "processing");
        assert_string_equal(jstr(cJSON_GetObjectItem(meta, "labels"), "app"), "speed");
        assert_true(cJSON_Compare(cJSON_GetObjectItem(body, "spec"),
                                  cJSON_GetObjectItem(cJSON_GetArrayItem(want, 0), "spec"),
                                  true));
        cJSON_Delete(body);
        reqs_free(&q);
        /* The private copy went with the plan. */
        dir = opendir(F.tmp);
        assert_non_null(dir);
        while ((de = readdir(dir)))
                left += de->d_name[0] != '.';
        closedir(dir);
        assert_int_equal(left, 0);
        a = audit_last(n0 + 1);
        audit_common(a, "resubmit", "processing/speed-layer", "ok", 0, false);
        assert_string_equal(jstr(a, "kind"), "spark");
        assert_string_equal(jstr(a, "context"), "fake");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(a, "argv")), 2);
        cJSON_Delete(a);
        cJSON_Delete(want);
        free(one);
}

static void test_logs(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        int i;
        cJSON *a;

        (void)state;
        /* Not mutating: no --yes needed without a terminal, and allowed
         * read-only. */
        assert_int_equal(lo(&r, "--read-only", "act", "k8s", "logs", "ingestion/pod/kafka-2",
                            NULL), 0);
        assert_non_null(strstr(r.out, "kafka-2/kafka line 20\n"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        i = reqs_find(&q, 0, "GET", "/api/v1/namespaces/ingestion/pods/kafka-2/log");
        assert_true(i >= 0);
        assert_non_null(strstr(q.v[i].query, "tailLines=2000"));
        assert_null(strstr(q.v[i].query, "previous"));
        reqs_free(&q);
        a = audit_last(n0 + 1);
        audit_common(a, "logs", "ingestion/pod/kafka-2", "ok", 0, false);
        cJSON_Delete(a);
}

static void test_read_only(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        cJSON *a;

        (void)state;
        assert_int_equal(lo(&r, "--read-only", "act", "k8s", "restart",
                            "ingestion/statefulset/kafka", "--yes", NULL), 77);
        assert_non_null(strstr(r.out, "read-only"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        assert_int_equal(q.n, 0);
        reqs_free(&q);
        a = audit_last(n0 + 1);
        audit_common(a, "restart", "ingestion/statefulset/kafka", "refused", 77, false);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(a, "argv")));
        assert_string_equal(jstr(a, "context"), "fake");        /* the configured one */
        cJSON_Delete(a);
}

static void test_failing_kubectl(void **state)
{
        struct subproc_result r;
        size_t n0 = audit_lines();
        cJSON *a;
        const char *err;

        (void)state;
        assert_int_equal(lo(&r, "act", "k8s", "restart", "ingestion/statefulset/nope", "--yes",
                            NULL), 1);
        assert_non_null(strstr(r.out, "statefulsets.apps \"nope\" not found"));
        subproc_result_done(&r);
        a = audit_last(n0 + 1);
        audit_common(a, "restart", "ingestion/statefulset/nope", "failed", 1, false);
        err = jstr(a, "error");
        assert_non_null(err);
        assert_non_null(strstr(err, "exited with status 1: Error from server (NotFound)"));
        assert_string_equal(jstr(a, "context"), "fake");
        cJSON_Delete(a);
}

static void test_dry_run(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        cJSON *a;

        (void)state;
        assert_int_equal(lo(&r, "act", "k8s", "restart", "ingestion/statefulset/kafka",
                            "--dry-run", NULL), 0);
        assert_non_null(strstr(r.out, "dry run: rollout restart on k8s "
                                      "ingestion/statefulset/kafka:\n$ "));
        assert_non_null(strstr(r.out, " --context fake "));
        assert_non_null(strstr(r.out, " -n ingestion rollout restart statefulset/kafka\n"));
        assert_non_null(strstr(r.out, "context: fake\n"));
        subproc_result_done(&r);
        /* The spark resubmit reads nothing in a dry run either. */
        assert_int_equal(lo(&r, "act", "spk", "resubmit", "processing/speed-layer",
                            "--dry-run", NULL), 0);
        assert_non_null(strstr(r.out, "delete sparkapplication/speed-layer --wait=true\n"));
        subproc_result_done(&r);
        reqs_since(mark, &q);
        assert_int_equal(q.n, 0);
        reqs_free(&q);
        a = audit_last(n0 + 2);
        audit_common(a, "resubmit", "processing/speed-layer", "ok", 0, true);
        cJSON_Delete(a);
}

/* No context in the config: the kubeconfig's current-context, named on the
 * command line. */
static void test_current_context(void **state)
{
        struct subproc_result r;
        size_t n0 = audit_lines();
        cJSON *a;

        (void)state;
        assert_int_equal(lo(&r, "act", "k8s-current", "restart", "ingestion/deployment/connect",
                            "--yes", NULL), 0);
        subproc_result_done(&r);
        a = audit_last(n0 + 1);
        assert_string_equal(jstr(a, "context"), "fake");
        assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(
                cJSON_GetArrayItem(cJSON_GetObjectItem(a, "argv"), 0), 4)), "fake");
        cJSON_Delete(a);
}

/* A user-defined action: the template's words, one each. */
static void test_user_action(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark();
        int i;

        (void)state;
        assert_int_equal(lo(&r, "act", "k8s", "label", "ingestion/pod/kafka-1",
                            "ok; $(id)", "--yes", NULL), 1);
        /* "ok; $(id)" reached kubectl as ONE word (no shell split or ran
         * it) and is refused as an invalid label value. */
        assert_non_null(strstr(r.out, "ok; $(id)"));
        subproc_result_done(&r);
        assert_int_equal(lo(&r, "act", "k8s", "label", "ingestion/pod/kafka-1", "checked",
                            "--yes", NULL), 0);
        subproc_result_done(&r);
        reqs_since(mark, &q);
        i = reqs_find(&q, 0, "PATCH", "/api/v1/namespaces/ingestion/pods/kafka-1");
        assert_true(i >= 0);
        assert_non_null(strstr(q.v[i].body, "\"note\":\"checked\""));
        reqs_free(&q);
}

static char *read_helm(void)
{
        char *s = tu_read_file(F.helm_argv, NULL);

        unlink(F.helm_argv);
        return s;
}

static void test_helm(void **state)
{
        struct subproc_result r;
        size_t n0 = audit_lines();
        char *got, *want;
        cJSON *a;

        (void)state;
        unlink(F.helm_argv);
        assert_int_equal(lo(&r, "act", "k8s", "rollback", "processing/release/airflow", "3",
                            "--yes", NULL), 0);
        assert_non_null(strstr(r.out, "Happy Helming"));
        subproc_result_done(&r);
        got = read_helm();
        want = xasprintf("rollback\nairflow\n3\n-n\nprocessing\n--kube-context\nfake\n"
                         "--kubeconfig\n%s\n--wait\n", F.k.kubeconfig_cert);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
        free(want);
        a = audit_last(n0 + 1);
        audit_common(a, "rollback", "processing/release/airflow", "ok", 0, false);
        cJSON_Delete(a);

        assert_int_equal(lo(&r, "act", "k8s", "upgrade", "processing/release/airflow",
                            "apache-airflow/airflow", "--yes", NULL), 0);
        subproc_result_done(&r);
        got = read_helm();
        want = xasprintf("upgrade\nairflow\napache-airflow/airflow\n--reuse-values\n-n\n"
                         "processing\n--kube-context\nfake\n--kubeconfig\n%s\n",
                         F.k.kubeconfig_cert);
        assert_string_equal(got, want);
        free(got);
        free(want);
        cJSON_Delete(audit_last(n0 + 2));

        /* Dry run: printed, never started. */
        assert_int_equal(lo(&r, "act", "k8s", "upgrade", "processing/release/airflow",
                            "apache-airflow/airflow", "--dry-run", NULL), 0);
        want = xasprintf("$ %s/helm upgrade airflow apache-airflow/airflow --reuse-values "
                         "-n processing --kube-context fake --kubeconfig %s\n", F.dir,
                         F.k.kubeconfig_cert);
        assert_non_null(strstr(r.out, want));
        free(want);
        subproc_result_done(&r);
        assert_int_equal(access(F.helm_argv, F_OK), -1);
        a = audit_last(n0 + 3);
        audit_common(a, "upgrade", "processing/release/airflow", "ok", 0, true);
        cJSON_Delete(a);

        /* Without a chart: usage, nothing started. */
        assert_int_equal(lo(&r, "act", "k8s", "upgrade", "processing/release/airflow",
                            "--yes", NULL), 64);
        subproc_result_done(&r);
        assert_int_equal(access(F.helm_argv, F_OK), -1);
        cJSON_Delete(audit_last(n0 + 4));
}

/* Without --yes and without a terminal a mutating action is refused (75). */
static void test_no_tty(void **state)
{
        struct subproc_result r;
        struct reqs q;
        size_t mark = reqs_mark(), n0 = audit_lines();
        cJSON *a;

        (void)state;
        assert_int_equal(lo(&r, "act", "k8s", "delete", "ingestion/pod/kafka-1", NULL), 75);
        subproc_result_done(&r);
        reqs_since(mark, &q);
        assert_int_equal(q.n, 0);
        reqs_free(&q);
        a = audit_last(n0 + 1);
        audit_common(a, "delete", "ingestion/pod/kafka-1", "refused", 75, false);
        cJSON_Delete(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_restart),
                cmocka_unit_test(test_scale),
                cmocka_unit_test(test_delete_metachars),
                cmocka_unit_test(test_resubmit),
                cmocka_unit_test(test_logs),
                cmocka_unit_test(test_read_only),
                cmocka_unit_test(test_failing_kubectl),
                cmocka_unit_test(test_dry_run),
                cmocka_unit_test(test_current_context),
                cmocka_unit_test(test_user_action),
                cmocka_unit_test(test_helm),
                cmocka_unit_test(test_no_tty),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
