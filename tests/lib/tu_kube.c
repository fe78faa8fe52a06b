/*
 * Fake kube-apiserver harness. Generates TLS material with the openssl CLI
 * (posix_spawn, no shell), writes kubeconfig files, spawns python3
 * tests/lib/fake_kube.py with tu_proc_spawn (its own process group, output in
 * DIR/server.log), waits for its port file with a deadline, and stops it by
 * its process group (tu_proc.h: also when a test fails or dies). Test-only.
 */
#include "tu_kube.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tu.h"
#include "core/util.h"
#include "tu_proc.h"

extern char **environ;

/* Runs argv to completion with stdout/stderr sent to /dev/null. */
static int tu_kube_run(char *const argv[])
{
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int st, rc;

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0)
                return -1;
        if (waitpid(pid, &st, 0) < 0)
                return -1;
        return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int tu_kube_write(const char *path, const char *text)
{
        char tmp[512];
        FILE *f;

        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "w");
        if (!f)
                return -1;
        fputs(text, f);
        if (fclose(f) != 0)
                return -1;
        return rename(tmp, path);
}

/* base64 of a file's contents, owned, or NULL. */
static char *tu_kube_b64_file(const char *path)
{
        size_t n;
        char *pem = tu_read_file(path, &n);
        char *out;

        if (!pem)
                return NULL;
        out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)pem, (int)n);
        free(pem);
        return out;
}

static int tu_kube_certs(struct tu_kube *k)
{
        char cakey[300], skey[300], scert[300];

        snprintf(k->ca_pem, sizeof k->ca_pem, "%s/ca.pem", k->dir);
        snprintf(cakey, sizeof cakey, "%s/ca.key", k->dir);
        snprintf(scert, sizeof scert, "%s/server.pem", k->dir);
        snprintf(skey, sizeof skey, "%s/server.key", k->dir);
        snprintf(k->client_cert, sizeof k->client_cert, "%s/client.pem", k->dir);
        snprintf(k->client_key, sizeof k->client_key, "%s/client.key", k->dir);
        char *const ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=lo-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", cakey, "-out", k->ca_pem, NULL };
        char *const srv[] = { "openssl", "req", "-x509", "-CA", k->ca_pem, "-CAkey", cakey,
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "extendedKeyUsage=serverAuth",
                "-keyout", skey, "-out", scert, NULL };
        char *const cli[] = { "openssl", "req", "-x509", "-CA", k->ca_pem, "-CAkey", cakey,
                "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/O=system:masters/CN=lo-tester",
                "-addext", "basicConstraints=critical,CA:FALSE",
                "-addext", "extendedKeyUsage=clientAuth",
                "-keyout", k->client_key, "-out", k->client_cert, NULL };
        if (tu_kube_run(ca) != 0 || tu_kube_run(srv) != 0 || tu_kube_run(cli) != 0) {
                fprintf(stderr, "tu_kube: openssl req failed\n");
                return -1;
        }
        return 0;
}

static int tu_kube_token(struct tu_kube *k)
{
        unsigned char rnd[24];
        int fd = open("/dev/urandom", O_RDONLY);
        size_t i;

        if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(fd);
        for (i = 0; i < sizeof rnd; i++)
                snprintf(k->token + 2 * i, 3, "%02x", rnd[i]);
        return 0;
}

/* Writes one kubeconfig; user_yaml is the indented body of "user:". */
static int tu_kube_kubeconfig(struct tu_kube *k, const char *path, const char *user_yaml)
{
        char *ca = NULL, *text;
        size_t cap;
        int rc;

        if (k->flags & TU_KUBE_TLS) {
                ca = tu_kube_b64_file(k->ca_pem);
                if (!ca)
                        return -1;
        }
        cap = strlen(user_yaml) + (ca ? strlen(ca) : 0) + 1024;
        text = xmalloc(cap);
        snprintf(text, cap,
                 "apiVersion: v1\n"
                 "kind: Config\n"
                 "preferences: {}\n"
                 "current-context: fake\n"
                 "clusters:\n"
                 "- name: fake\n"
                 "  cluster:\n"
                 "    server: %s\n"
                 "%s%s%s"
                 "contexts:\n"
                 "- name: fake\n"
                 "  context:\n"
                 "    cluster: fake\n"
                 "    user: tester\n"
                 "    namespace: ingestion\n"
                 "users:\n"
                 "- name: tester\n"
                 "  user:%s",
                 k->base_url, ca ? "    certificate-authority-data: " : "", ca ? ca : "",
                 ca ? "\n" : "", user_yaml);
        rc = tu_kube_write(path, text);
        free(text);
        free(ca);
        return rc;
}

static int tu_kube_kubeconfigs(struct tu_kube *k)
{
        char user[16384];

        snprintf(k->kubeconfig_noauth, sizeof k->kubeconfig_noauth, "%s/kubeconfig-noauth",
                 k->dir);
        if (tu_kube_kubeconfig(k, k->kubeconfig_noauth, " {}\n") != 0)
                return -1;
        if (k->flags & TU_KUBE_TOKEN) {
                snprintf(k->kubeconfig_token, sizeof k->kubeconfig_token,
                         "%s/kubeconfig-token", k->dir);
                snprintf(user, sizeof user, "\n    token: %s\n", k->token);
                if (tu_kube_kubeconfig(k, k->kubeconfig_token, user) != 0)
                        return -1;
        }
        if (k->flags & TU_KUBE_TLS) {
                char *cert = tu_kube_b64_file(k->client_cert);
                char *key = tu_kube_b64_file(k->client_key);
                int rc = -1;

                snprintf(k->kubeconfig_cert, sizeof k->kubeconfig_cert,
                         "%s/kubeconfig-cert", k->dir);
                if (cert && key && strlen(cert) + strlen(key) + 100 < sizeof user) {
                        snprintf(user, sizeof user,
                                 "\n    client-certificate-data: %s\n"
                                 "    client-key-data: %s\n", cert, key);
                        rc = tu_kube_kubeconfig(k, k->kubeconfig_cert, user);
                }
                free(cert);
                free(key);
                if (rc != 0)
                        return -1;
        }
        return 0;
}

int tu_kube_start_args(struct tu_kube *k, const char *const *fixture_dirs, unsigned flags,
                       const char *const *extra_args)
{
        char portfile[300], script[512], scert[300], skey[300], srvlog[300];
        const char *argv[128];
        int argc = 0, i;
        int64_t deadline;

        tu_fixture_now();       /* the server expands fixtures at this test's anchor */
        memset(k, 0, sizeof *k);
        k->flags = flags;
        snprintf(k->dir, sizeof k->dir, "/tmp/lo-kube.XXXXXX");
        if (!mkdtemp(k->dir)) {
                k->dir[0] = '\0';
                fprintf(stderr, "tu_kube: mkdtemp failed\n");
                return -1;
        }
        tu_proc_track_dir(k->dir);
        snprintf(k->log, sizeof k->log, "%s/requests.log", k->dir);
        snprintf(portfile, sizeof portfile, "%s/port", k->dir);
        snprintf(scert, sizeof scert, "%s/server.pem", k->dir);
        snprintf(skey, sizeof skey, "%s/server.key", k->dir);
        snprintf(srvlog, sizeof srvlog, "%s/server.log", k->dir);
        snprintf(script, sizeof script, "%s", tu_src_path("tests/lib/fake_kube.py"));
        if (tu_kube_write(k->log, "") != 0)
                goto fail;
        if ((flags & TU_KUBE_TLS) && tu_kube_certs(k) != 0)
                goto fail;
        if ((flags & TU_KUBE_TOKEN) && tu_kube_token(k) != 0)
                goto fail;

        argv[argc++] = "python3";
        argv[argc++] = script;
        argv[argc++] = "--port-file";
        argv[argc++] = portfile;
        argv[argc++] = "--log";
        argv[argc++] = k->log;
        argv[argc++] = "--exit-with-parent";     /* no orphan if the test is killed */
        for (i = 0; fixture_dirs && fixture_dirs[i] && argc < 100; i++) {
                argv[argc++] = "--fixtures";
                argv[argc++] = fixture_dirs[i];
        }
        if (flags & TU_KUBE_TLS) {
                argv[argc++] = "--tls";
                argv[argc++] = "--cert";
                argv[argc++] = scert;
                argv[argc++] = "--key";
                argv[argc++] = skey;
                argv[argc++] = "--client-ca";
                argv[argc++] = k->ca_pem;
        }
        if (flags & TU_KUBE_TOKEN) {
                argv[argc++] = "--token";
                argv[argc++] = k->token;
        }
        for (i = 0; extra_args && extra_args[i] && argc < 126; i++)
                argv[argc++] = extra_args[i];
        argv[argc] = NULL;
        k->pid = tu_proc_spawn(argv, srvlog, true);
        if (k->pid < 0) {
                k->pid = 0;
                fprintf(stderr, "tu_kube: cannot spawn python3\n");
                goto fail;
        }
        deadline = clock_mono_ms() + 30000;     /* --pods 5000 takes a few seconds */
        while (clock_mono_ms() < deadline) {
                char *p = tu_read_file(portfile, NULL);
                if (p) {
                        k->port = atoi(p);
                        free(p);
                        snprintf(k->base_url, sizeof k->base_url, "%s://127.0.0.1:%d",
                                 (flags & TU_KUBE_TLS) ? "https" : "http", k->port);
                        if (tu_kube_kubeconfigs(k) != 0) {
                                fprintf(stderr, "tu_kube: cannot write kubeconfigs\n");
                                goto fail;
                        }
                        tu_proc_fault("kube", k->pid, k->dir);
                        return 0;
                }
                if (waitpid(k->pid, NULL, WNOHANG) == k->pid) {
                        kill(-k->pid, SIGKILL);
                        tu_proc_forget(k->pid);
                        k->pid = 0;
                        break;
                }
                usleep(10 * 1000);      /* polling for the port file, bounded by deadline */
        }
        fprintf(stderr, "tu_kube: server did not start\n");
fail:
        tu_kube_stop(k);
        return -1;
}

int tu_kube_start(struct tu_kube *k, const char *const *fixture_dirs, unsigned flags)
{
        return tu_kube_start_args(k, fixture_dirs, flags, NULL);
}

struct tu_kube_buf {
        char  *p;
        size_t n;
};

static size_t tu_kube_sink(char *ptr, size_t size, size_t nmemb, void *user)
{
        struct tu_kube_buf *b = user;
        size_t len = size * nmemb;

        b->p = xrealloc(b->p, b->n + len + 1);
        memcpy(b->p + b->n, ptr, len);
        b->n += len;
        b->p[b->n] = '\0';
        return len;
}

/* One request to the server (no auth: only for /_fake/). */
static long tu_kube_http(struct tu_kube *k, const char *method, const char *path,
                         const char *body, char **out)
{
        struct tu_kube_buf b = { NULL, 0 };
        struct curl_slist *hdr = NULL;
        char url[512];
        long code = -1;
        CURL *c = curl_easy_init();

        if (!c)
                return -1;
        snprintf(url, sizeof url, "%s%s", k->base_url, path);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tu_kube_sink);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        if (k->flags & TU_KUBE_TLS)
                curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_pem);
        if (body) {
                hdr = curl_slist_append(hdr, "Content-Type: application/json");
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        } else if (strcmp(method, "POST") == 0) {
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        }
        if (curl_easy_perform(c) == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        if (out)
                *out = b.p;
        else
                free(b.p);
        return code;
}

int tu_kube_post(struct tu_kube *k, const char *path, const char *json)
{
        char *out = NULL;
        long code = tu_kube_http(k, "POST", path, json, &out);

        if (code != 200) {
                fprintf(stderr, "tu_kube: POST %s: %ld %s\n", path, code, out ? out : "");
                free(out);
                return -1;
        }
        free(out);
        return 0;
}

char *tu_kube_get(struct tu_kube *k, const char *path)
{
        char *out = NULL;

        if (tu_kube_http(k, "GET", path, NULL, &out) != 200) {
                free(out);
                return NULL;
        }
        return out;
}

char *tu_kube_requests(struct tu_kube *k)
{
        return tu_read_file(k->log, NULL);
}

int tu_kube_count(struct tu_kube *k, const char *method, const char *path)
{
        char *log = tu_kube_requests(k), *line, *save = NULL;
        int n = 0;

        if (!log)
                return -1;
        for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *e = cJSON_Parse(line);
                const char *m, *p;

                m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "method"));
                p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "path"));

                if (m && p && strcmp(m, method) == 0 && strcmp(p, path) == 0)
                        n++;
                cJSON_Delete(e);
        }
        free(log);
        return n;
}

void tu_kube_stop(struct tu_kube *k)
{
        if (k->pid > 0) {
                tu_proc_stop(k->pid, SIGTERM, 5000);
                k->pid = 0;
        }
        if (k->dir[0]) {
                tu_proc_remove_dir(k->dir);
                k->dir[0] = '\0';
        }
}
