/*
 * test_kube: the pure parts of src/clients/kube/kube.h. kubeconfig files from
 * tests/fixtures/kube/config/ merged in order (first definition wins,
 * current-context from the first file that sets it, $KUBECONFIG skips
 * missing files), context selection, every credential form (token,
 * tokenFile, client certificate by file and by *-data, basic, exec),
 * relative paths against each file's own directory, and every error
 * message exactly; ExecCredential parsing; subproc_run_env's environment
 * and split stderr; quantities, RFC 3339 times and query escaping.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "clients/kube/kube.h"
#include "core/subproc.h"
#include "tu.h"
#include "core/util.h"

static char fixdir[4096];

static char *fix_read(const char *rel)
{
        char path[4200];
        char *s;

        snprintf(path, sizeof path, "%s/%s", fixdir, rel);
        s = tu_read_file(path, NULL);
        if (!s)
                fail_msg("cannot read fixture %s", path);
        return s;
}

/* Parses inline YAML named "k.yaml" with relative paths against fixdir. */
static struct kube_config *parse(const char *yaml, const char *context, struct err *e)
{
        err_clear(e);
        return kube_config_parse(yaml, strlen(yaml), "k.yaml", fixdir, context, e);
}

static void parse_err(const char *yaml, const char *context, const char *want)
{
        struct err e;
        struct kube_config *kc = parse(yaml, context, &e);

        if (kc)
                fail_msg("should fail: %s", want);
        assert_string_equal(e.msg, want);
}

static struct kube_config *load(const char *list, const char *context, struct err *e)
{
        struct kube_opts o = { .kubeconfig = list, .context = context };

        err_clear(e);
        return kube_config_load(&o, e);
}

static int setup(void **state)
{
        (void)state;
        snprintf(fixdir, sizeof fixdir, "%s", tu_src_path("tests/fixtures/kube/config"));
        /* Relative kubeconfig paths in these tests are relative to here. */
        return chdir(fixdir);
}

/* --- merging and selection ------------------------------------------------- */

static void test_merge_current_context(void **state)
{
        struct err e;
        struct kube_config *kc = load("a.yaml:b.yaml:nested/c.yaml", NULL, &e);
        char *ca = fix_read("pki/ca.crt");

        (void)state;
        if (!kc)
                fail_msg("%s", e.msg);
        /* a.yaml sets current-context first; b.yaml's "dev" is shadowed. */
        assert_string_equal(kc->context, "dev");
        assert_string_equal(kc->cluster, "dev");
        assert_string_equal(kc->user, "tok");
        assert_string_equal(kc->server, "https://dev.example:6443");
        assert_string_equal(kc->namespace_, "data");
        assert_string_equal(kc->path, "a.yaml");
        assert_string_equal(kc->token, "fixture-token-abc");
        assert_string_equal(kc->tls_server_name, "api.dev.internal");
        assert_string_equal(kc->tls.ca_pem, ca);
        assert_string_equal(kc->ca_source, "certificate-authority ./pki/ca.crt");
        assert_false(kc->tls.insecure);
        assert_null(kc->tls.cert_pem);
        assert_null(kc->token_file);
        assert_null(kc->exec_command);
        assert_int_equal(kc->exec_timeout_ms, 10000);
        kube_config_free(kc);
        free(ca);
}

static void test_merge_other_files(void **state)
{
        struct err e;
        struct kube_config *kc;
        char *ca = fix_read("pki/ca.crt");

        (void)state;
        /* A context only the second file defines. */
        kc = load("a.yaml:b.yaml:nested/c.yaml", "stage", &e);
        if (!kc)
                fail_msg("%s", e.msg);
        assert_string_equal(kc->path, "b.yaml");
        assert_string_equal(kc->server, "https://stage.example:443");
        assert_string_equal(kc->namespace_, "staging");
        assert_string_equal(kc->token, "stage-token");
        assert_true(kc->tls.insecure);
        assert_null(kc->tls.ca_pem);
        kube_config_free(kc);

        /* Relative paths resolve against the defining file's directory. */
        kc = load("a.yaml:b.yaml:nested/c.yaml", "nested", &e);
        if (!kc)
                fail_msg("%s", e.msg);
        assert_string_equal(kc->path, "nested/c.yaml");
        assert_string_equal(kc->token_file, "nested/token");
        assert_null(kc->token);
        assert_string_equal(kc->tls.ca_pem, ca);
        assert_string_equal(kc->ca_source, "certificate-authority nested/../pki/ca.crt");
        kube_config_free(kc);

        /* The other order: b.yaml now wins current-context and "dev". */
        kc = load("b.yaml:a.yaml", NULL, &e);
        if (!kc)
                fail_msg("%s", e.msg);
        assert_string_equal(kc->context, "stage");
        kube_config_free(kc);
        kc = load("b.yaml:a.yaml", "dev", &e);
        if (!kc)
                fail_msg("%s", e.msg);
        assert_string_equal(kc->cluster, "stage");
        assert_string_equal(kc->user, "stage-user");
        assert_null(kc->namespace_);
        kube_config_free(kc);
        /* The cluster "dev" of b.yaml shadows a.yaml's for a.yaml's contexts
         * too, and user "tok" is b.yaml's. */
        kc = load("b.yaml:a.yaml", "files", &e);
        if (!kc)
                fail_msg("%s", e.msg);
        assert_string_equal(kc->server, "https://shadowed.example:1");
        kube_config_free(kc);

        /* The server override. */
        {
                struct kube_opts o = { .kubeconfig = "a.yaml", .context = "dev",
                                       .server = "https://127.0.0.1:9443/",
                                       .exec_timeout_ms = 2500 };
                kc = kube_config_load(&o, &e);
                if (!kc)
                        fail_msg("%s", e.msg);
                assert_string_equal(kc->server, "https://127.0.0.1:9443");
                assert_int_equal(kc->exec_timeout_ms, 2500);
                kube_config_free(kc);
        }
        free(ca);
}

static void test_load_errors(void **state)
{
        struct err e;

        (void)state;
        assert_null(load("a.yaml:b.yaml:nested/c.yaml", "nope", &e));
        assert_string_equal(e.msg, "kubeconfig a.yaml:b.yaml:nested/c.yaml: context \"nope\" "
                            "not found (have: dev, prod, prod-exec, lab, files, tokfile, anon, "
                            "stage, nested)");
        assert_null(load("nested/c.yaml", NULL, &e));
        assert_string_equal(e.msg, "kubeconfig nested/c.yaml: no current-context: choose a "
                            "context (have: nested)");
        assert_null(load("empty.yaml", NULL, &e));
        assert_string_equal(e.msg, "kubeconfig empty.yaml: no current-context: choose a "
                            "context (have: none)");
        /* An explicit list must exist entirely. */
        assert_null(load("a.yaml:missing.yaml", NULL, &e));
        assert_string_equal(e.msg, "kubeconfig missing.yaml: cannot read: No such file or "
                            "directory");
        /* $KUBECONFIG skips missing files, as kubectl does. */
        setenv("KUBECONFIG", "missing.yaml:b.yaml", 1);
        {
                struct kube_config *kc = load(NULL, NULL, &e);
                if (!kc)
                        fail_msg("%s", e.msg);
                assert_string_equal(kc->context, "stage");
                kube_config_free(kc);
        }
        setenv("KUBECONFIG", "missing.yaml:gone.yaml", 1);
        assert_null(load(NULL, NULL, &e));
        assert_string_equal(e.msg, "kubeconfig missing.yaml:gone.yaml: none of these files "
                            "exists");
        unsetenv("KUBECONFIG");
        setenv("HOME", fixdir, 1);      /* no .kube/config there */
        assert_null(load(NULL, NULL, &e));
        assert_true(strstr(e.msg, "/.kube/config: cannot read: No such file or directory "
                           "(set kubeconfig or KUBECONFIG)") != NULL);
}

/* --- credential forms --------------------------------------------------------- */

static struct kube_config *ctx_of_a(const char *context)
{
        struct err e;
        char *yaml = fix_read("a.yaml");
        struct kube_config *kc = kube_config_parse(yaml, strlen(yaml), "a.yaml", fixdir,
                                                   context, &e);

        free(yaml);
        if (!kc)
                fail_msg("context %s: %s", context, e.msg);
        return kc;
}

static void test_credentials(void **state)
{
        char *ca = fix_read("pki/ca.crt"), *crt = fix_read("pki/client.crt");
        char *key = fix_read("pki/client.key");
        struct kube_config *kc;
        char buf[4200];

        (void)state;
        /* *-data: base64 of the PEM. */
        kc = ctx_of_a("prod");
        assert_string_equal(kc->server, "https://10.0.0.1:6443");
        assert_string_equal(kc->tls.ca_pem, ca);
        assert_string_equal(kc->tls.cert_pem, crt);
        assert_string_equal(kc->tls.key_pem, key);
        assert_string_equal(kc->ca_source, "certificate-authority-data of cluster \"prod\"");
        assert_string_equal(kc->cert_source, "client-certificate-data of user \"certdata\"");
        assert_string_equal(kc->key_source, "client-key-data of user \"certdata\"");
        assert_null(kc->namespace_);
        assert_null(kc->token);
        kube_config_free(kc);

        /* Files, relative to the kubeconfig's directory. */
        kc = ctx_of_a("files");
        assert_string_equal(kc->tls.cert_pem, crt);
        assert_string_equal(kc->tls.key_pem, key);
        snprintf(buf, sizeof buf, "client-certificate %s/pki/client.crt", fixdir);
        assert_string_equal(kc->cert_source, buf);
        kube_config_free(kc);

        /* Basic auth over http with insecure. */
        kc = ctx_of_a("lab");
        assert_string_equal(kc->server, "http://127.0.0.1:8001");
        assert_true(kc->tls.insecure);
        assert_string_equal(kc->username, "admin");
        assert_string_equal(kc->password, "fixture-pw");
        assert_null(kc->token);
        kube_config_free(kc);

        kc = ctx_of_a("tokfile");
        snprintf(buf, sizeof buf, "%s/secrets/token", fixdir);
        assert_string_equal(kc->token_file, buf);
        kube_config_free(kc);

        kc = ctx_of_a("anon");
        assert_null(kc->user);
        assert_null(kc->token);
        assert_null(kc->username);
        assert_null(kc->exec_command);
        kube_config_free(kc);

        /* exec: a command with a '/' is relative to the file's directory. */
        kc = ctx_of_a("prod-exec");
        snprintf(buf, sizeof buf, "%s/./bin/get-token", fixdir);
        assert_string_equal(kc->exec_command, buf);
        assert_string_equal(kc->exec_args[0], buf);
        assert_string_equal(kc->exec_args[1], "eks");
        assert_string_equal(kc->exec_args[2], "get-token");
        assert_string_equal(kc->exec_args[3], "--cluster-name");
        assert_string_equal(kc->exec_args[4], "prod");
        assert_null(kc->exec_args[5]);
        assert_string_equal(kc->exec_env[0], "AWS_PROFILE=sre");
        assert_null(kc->exec_env[1]);
        assert_string_equal(kc->exec_api_version, "client.authentication.k8s.io/v1");
        assert_true(kc->exec_provide_cluster_info);
        assert_null(kc->exec_install_hint);
        assert_string_equal(kc->namespace_, "pipeline");
        kube_config_free(kc);

        /* A bare command name stays for the PATH lookup. */
        {
                struct err e;
                kc = parse("current-context: x\n"
                           "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
                           "users: [{name: u, user: {exec: {command: kubelogin, "
                           "installHint: 'apt install kubelogin', "
                           "apiVersion: client.authentication.k8s.io/v1beta1}}}]\n"
                           "contexts: [{name: x, context: {cluster: c, user: u}}]\n", NULL, &e);
                if (!kc)
                        fail_msg("%s", e.msg);
                assert_string_equal(kc->exec_command, "kubelogin");
                assert_string_equal(kc->exec_install_hint, "apt install kubelogin");
                assert_null(kc->exec_args[1]);
                assert_null(kc->exec_env[0]);
                assert_false(kc->exec_provide_cluster_info);
                kube_config_free(kc);
        }
        /* token wins over tokenFile. */
        {
                struct err e;
                kc = parse("current-context: x\n"
                           "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
                           "users: [{name: u, user: {token: t1, tokenFile: /nope}}]\n"
                           "contexts: [{name: x, context: {cluster: c, user: u}}]\n", NULL, &e);
                if (!kc)
                        fail_msg("%s", e.msg);
                assert_string_equal(kc->token, "t1");
                assert_null(kc->token_file);
                kube_config_free(kc);
        }
        free(ca);
        free(crt);
        free(key);
}

/* --- every error ------------------------------------------------------------------ */

#define CL(body)  "current-context: x\nclusters:\n- name: c\n  cluster: " body "\n"
#define US(body)  "users:\n- name: u\n  user: " body "\n"
#define CX        "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
#define SRV       "{server: 'https://h:1'}"

static void test_errors(void **state)
{
        char buf[4400];

        (void)state;
        parse_err(CL(SRV) US("{token: t}") CX, "y",
                  "kubeconfig k.yaml: context \"y\" not found (have: x)");
        parse_err("current-context: x\nclusters: []\n" US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: context \"x\": cluster \"c\" not found (have: none)");
        parse_err(CL(SRV) "users:\n- name: v\n  user: {token: t}\n" CX, NULL,
                  "kubeconfig k.yaml: context \"x\": user \"u\" not found (have: v)");
        parse_err(CL("{server: 'ftp://h:1'}") US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": server \"ftp://h:1\" must start with "
                  "https:// (or http://)");
        parse_err(CL("{server: 'https://u:p@h:1'}") US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": server must not carry credentials "
                  "(user:password@)");
        parse_err(CL("{insecure-skip-tls-verify: true}") US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": no server");
        parse_err(CL("{server: 'https://h:1', insecure-skip-tls-verify: maybe}")
                  US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": insecure-skip-tls-verify must be true "
                  "or false");
        parse_err(CL("{server: 'https://h:1', certificate-authority-data: 'not*base64'}")
                  US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": certificate-authority-data: not base64");
        /* base64 of "hello world": decodes, but is no certificate. */
        parse_err(CL("{server: 'https://h:1', certificate-authority-data: aGVsbG8gd29ybGQ=}")
                  US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": certificate-authority-data: not a PEM "
                  "certificate");
        snprintf(buf, sizeof buf, "kubeconfig k.yaml: cluster \"c\": certificate-authority "
                 "%s/pki/broken.crt: not a PEM certificate", fixdir);
        parse_err(CL("{server: 'https://h:1', certificate-authority: pki/broken.crt}")
                  US("{token: t}") CX, NULL, buf);
        snprintf(buf, sizeof buf, "kubeconfig k.yaml: cluster \"c\": certificate-authority "
                 "%s/pki/none.crt: cannot read: No such file or directory", fixdir);
        parse_err(CL("{server: 'https://h:1', certificate-authority: pki/none.crt}")
                  US("{token: t}") CX, NULL, buf);
        parse_err(CL("{server: 'https://h:1', certificate-authority: pki/ca.crt, "
                     "insecure-skip-tls-verify: true}") US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml: cluster \"c\": certificate-authority and "
                  "insecure-skip-tls-verify together are not allowed (drop one)");
        /* A certificate where the key belongs. */
        snprintf(buf, sizeof buf, "kubeconfig k.yaml: user \"u\": client-key "
                 "%s/pki/client.crt: not a PEM private key", fixdir);
        parse_err(CL(SRV) US("{client-certificate: pki/client.crt, client-key: pki/client.crt}")
                  CX, NULL, buf);
        parse_err(CL(SRV) US("{client-certificate: pki/client.crt}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": client-certificate without client-key");
        parse_err(CL(SRV) US("{client-key-data: '!!'}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": client-key-data: not base64");
        parse_err(CL("{server: 'https://h:1', proxy-url: 'http://p:3128'}") US("{token: t}") CX,
                  NULL, "kubeconfig k.yaml: cluster \"c\": proxy-url is not supported: set "
                  "HTTPS_PROXY in the environment instead");
        parse_err(CL(SRV) US("{token: t, username: a, password: b}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": more than one authentication method "
                  "(token, username/password): keep one");
        parse_err(CL(SRV) US("{auth-provider: {name: oidc}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": auth-provider is not supported (it was "
                  "removed from kubectl): use an exec plugin");
        parse_err(CL(SRV) US("{token: t, as: admin}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": impersonation (as, as-groups) is not "
                  "supported");
        parse_err(CL(SRV) US("{exec: {command: x}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec needs an apiVersion (e.g. "
                  "client.authentication.k8s.io/v1)");
        parse_err(CL(SRV) US("{exec: {apiVersion: client.authentication.k8s.io/v1}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec needs a command (a string)");
        parse_err(CL(SRV) US("{exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}")
                  CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec apiVersion "
                  "\"client.authentication.k8s.io/v1alpha1\" is not supported "
                  "(client.authentication.k8s.io/v1 or v1beta1)");
        parse_err(CL(SRV) US("{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, "
                             "interactiveMode: Always}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec interactiveMode Always needs a "
                  "terminal; lambdaops runs plugins without one (use Never or IfAvailable)");
        parse_err(CL(SRV) US("{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, "
                             "args: [a, [b]]}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec args must be strings");
        parse_err(CL(SRV) US("{exec: {command: x, apiVersion: client.authentication.k8s.io/v1, "
                             "env: [{value: v}]}}") CX, NULL,
                  "kubeconfig k.yaml: user \"u\": exec env entries need a name and a value");
        parse_err("clusters: {c: 1}\n", NULL, "kubeconfig k.yaml:1: clusters: must be a list");
        parse_err("clusters:\n- cluster: {server: 'https://h'}\n", NULL,
                  "kubeconfig k.yaml:2: clusters[0]: missing name");
        parse_err("users: [3]\n", NULL,
                  "kubeconfig k.yaml: users[0]: must be a mapping with name and user");
        parse_err("- a\n- b\n", NULL, "kubeconfig k.yaml: not a kubeconfig (the top level "
                  "must be a mapping with clusters, users and contexts)");
        parse_err(CL(SRV) US("{token: t}") CX "clusters: []\n", NULL,
                  "kubeconfig k.yaml:11: key \"clusters\" appears twice in this mapping");
        parse_err(CL("{server: 'https://h:1', server: 'https://g:2'}") US("{token: t}") CX, NULL,
                  "kubeconfig k.yaml:4: key \"server\" appears twice in this mapping");
        parse_err("clusters: [\n", NULL,
                  "kubeconfig k.yaml:2:1: did not find expected node content");
        parse_err(CL(SRV) US("{token: t}") "contexts:\n- name: x\n  context: {user: u}\n", NULL,
                  "kubeconfig k.yaml: context \"x\" needs a cluster (and user, namespace as "
                  "strings)");
}

/* --- ExecCredential ------------------------------------------------------------------ */

#define V1 "client.authentication.k8s.io/v1"

static void exec_err(const char *json, const char *want)
{
        struct kube_exec_cred c;
        struct err e;

        err_clear(&e);
        assert_int_equal(kube_exec_cred_parse(json, strlen(json), "get-token", V1, &c, &e), -1);
        assert_string_equal(e.msg, want);
        assert_null(c.token);
        kube_exec_cred_done(&c);
}

static void test_exec_cred(void **state)
{
        struct kube_exec_cred c;
        struct err e;
        const char *ok = "{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                         "\"status\":{\"token\":\"k8s-aws-v1.abc\","
                         "\"expirationTimestamp\":\"2024-05-01T12:15:00Z\"}}";
        char *crt = fix_read("pki/client.crt"), *key = fix_read("pki/client.key");
        cJSON *o;
        char *js;

        (void)state;
        assert_int_equal(kube_exec_cred_parse(ok, strlen(ok), "get-token", V1, &c, &e), 0);
        assert_string_equal(c.token, "k8s-aws-v1.abc");
        assert_int_equal(c.expiry_ms, 1714565700000LL);
        assert_null(c.cert_pem);
        kube_exec_cred_done(&c);
        assert_null(c.token);

        /* Client certificate as plain PEM, no expiry. */
        o = cJSON_Parse("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}");
        cJSON_AddStringToObject(cJSON_GetObjectItem(o, "status"), "clientCertificateData", crt);
        cJSON_AddStringToObject(cJSON_GetObjectItem(o, "status"), "clientKeyData", key);
        js = cJSON_PrintUnformatted(o);
        assert_int_equal(kube_exec_cred_parse(js, strlen(js), "get-token", V1, &c, &e), 0);
        assert_string_equal(c.cert_pem, crt);
        assert_string_equal(c.key_pem, key);
        assert_null(c.token);
        assert_int_equal(c.expiry_ms, -1);
        kube_exec_cred_done(&c);
        cJSON_free(js);
        cJSON_Delete(o);

        {
                /* Deeper than cJSON's 1000 levels: said so. */
                char deep[4001];

                memset(deep, '[', 2000);
                memset(deep + 2000, ']', 2000);
                deep[4000] = '\0';
                exec_err(deep, "exec plugin get-token: output is not an ExecCredential (JSON "
                         "nested deeper than 1000 levels)");
        }
        exec_err("", "exec plugin get-token: output is not an ExecCredential (not a JSON object)");
        exec_err("Please log in at https://sso", "exec plugin get-token: output is not an "
                 "ExecCredential (not a JSON object)");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"Pod\"}",
                 "exec plugin get-token: output is not an ExecCredential (kind \"Pod\")");
        exec_err("{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
                 "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"secret-xyz\"}}",
                 "exec plugin get-token: apiVersion \"client.authentication.k8s.io/v1beta1\" "
                 "does not match the kubeconfig's \"client.authentication.k8s.io/v1\"");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\"}",
                 "exec plugin get-token: ExecCredential has no status");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\",\"status\":{}}",
                 "exec plugin get-token: status has neither a token nor a client certificate");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":7}}", "exec plugin get-token: status.token is not a "
                 "string");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"secret-xyz\",\"expirationTimestamp\":\"soon\"}}",
                 "exec plugin get-token: status.expirationTimestamp is not an RFC 3339 time");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"clientCertificateData\":\"x\"}}",
                 "exec plugin get-token: status has clientCertificateData without "
                 "clientKeyData");
        exec_err("{\"apiVersion\":\"" V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"clientCertificateData\":\"x\",\"clientKeyData\":\"y\"}}",
                 "exec plugin get-token: status.clientCertificateData: not a PEM certificate");
        free(crt);
        free(key);
}

static void test_subproc_env(void **state)
{
        char *argv[] = { "/bin/sh", "-c", "printf '%s|%s' \"$LO_T1\" \"$HOME\"; echo oops >&2; "
                         "exit 3", NULL };
        char *env[] = { "LO_T1=one two", "HOME=/elsewhere", NULL };
        struct subproc_result r;
        struct err e;

        (void)state;
        err_clear(&e);
        assert_int_equal(subproc_run_env(argv, env, true, 0, 5000, -1, &r, &e), 0);
        assert_int_equal(r.exit_code, 3);
        assert_string_equal(r.out, "one two|/elsewhere");
        assert_string_equal(r.err_out, "oops\n");
        subproc_result_done(&r);
        /* Without split: interleaved as subproc_run does. */
        assert_int_equal(subproc_run_env(argv, NULL, false, 0, 5000, -1, &r, &e), 0);
        assert_null(r.err_out);
        assert_true(strstr(r.out, "oops\n") != NULL);
        subproc_result_done(&r);
}

/* --- pure helpers ----------------------------------------------------------------------- */

static double q(const char *s)
{
        double v = -12345;

        if (kube_quantity(s, &v) != 0)
                fail_msg("'%s' should be a quantity", s);
        return v;
}

static void test_quantity(void **state)
{
        double v;

        (void)state;
        assert_true(q("100Gi") == 107374182400.0);
        assert_true(q("1.5G") == 1.5e9);
        assert_true(q("500M") == 5e8);
        assert_true(q("16331964Ki") == 16723931136.0);
        assert_true(q("250m") == 0.25);
        assert_true(q("1e3") == 1000.0);
        assert_true(q("2E2") == 200.0);
        assert_true(q("1E") == 1e18);
        assert_true(q("4") == 4.0);
        assert_true(q("-2") == -2.0);
        assert_true(q(".5") == 0.5);
        assert_true(q("3Mi") == 3145728.0);
        assert_true(q("7k") == 7000.0);
        assert_true(fabs(q("100n") - 1e-7) < 1e-20);
        const char *bad[] = { "", "Gi", "1Gb", "1 Gi", "abc", "1e", "1.5.5", "1e3x", "K",
                              "1ki", "--1", "1e999", NULL };
        for (int i = 0; bad[i]; i++)
                if (kube_quantity(bad[i], &v) != -1)
                        fail_msg("'%s' should not be a quantity", bad[i]);
        assert_int_equal(kube_quantity(NULL, &v), -1);
}

static void test_time(void **state)
{
        (void)state;
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00Z"), 1714557600000LL);
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00.5Z"), 1714557600500LL);
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00.123456789Z"), 1714557600123LL);
        assert_int_equal(kube_time_ms("2024-05-01T12:00:00+02:00"), 1714557600000LL);
        assert_int_equal(kube_time_ms("2024-05-01T05:30:00-04:30"), 1714557600000LL);
        assert_int_equal(kube_time_ms("1970-01-01T00:00:00Z"), 0);
        assert_int_equal(kube_time_ms("2024-02-29T00:00:00Z"), 1709164800000LL);
        assert_int_equal(kube_time_ms("2023-02-29T00:00:00Z"), -1);
        assert_int_equal(kube_time_ms("2024-13-01T00:00:00Z"), -1);
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00"), -1);
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00.Z"), -1);
        assert_int_equal(kube_time_ms("2024-05-01T10:00:00Zjunk"), -1);
        assert_int_equal(kube_time_ms("2024-05-01T25:00:00Z"), -1);
        assert_int_equal(kube_time_ms("yesterday"), -1);
        assert_int_equal(kube_time_ms(""), -1);
        assert_int_equal(kube_time_ms(NULL), -1);
}

static void test_escape(void **state)
{
        char *s;

        (void)state;
        s = kube_escape("app=kafka,tier in (a,b)");
        assert_string_equal(s, "app%3Dkafka%2Ctier%20in%20%28a%2Cb%29");
        free(s);
        s = kube_escape("a-b_c.d~Z9");
        assert_string_equal(s, "a-b_c.d~Z9");
        free(s);
        s = kube_escape("spec.nodeName=n/1&x\xc3\xa9");
        assert_string_equal(s, "spec.nodeName%3Dn%2F1%26x%C3%A9");
        free(s);
        s = kube_escape("");
        assert_string_equal(s, "");
        free(s);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_merge_current_context),
                cmocka_unit_test(test_merge_other_files),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_credentials),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_exec_cred),
                cmocka_unit_test(test_subproc_env),
                cmocka_unit_test(test_quantity),
                cmocka_unit_test(test_time),
                cmocka_unit_test(test_escape),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
