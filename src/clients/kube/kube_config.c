/*
 * kube_config: kubeconfig loading (libyaml), merging and context
 * resolution; ExecCredential parsing. See kube.h (its pure helpers,
 * quantities, RFC 3339 times and query escaping, are in kube.c).
 *
 * Merging follows kubectl: the files of a ':'-separated list are read in
 * order, the first file to define a cluster, user or context name wins,
 * and current-context comes from the first file that sets it. Relative
 * paths inside an entry resolve against the directory of the file that
 * defined the entry. TLS material (files and *-data) is read and checked
 * as PEM here, so a broken certificate is reported with its field name
 * rather than as a failed handshake later.
 */
#include "clients/kube/kube.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml.h>

#include "core/fsfile.h"
#include "core/jsonparse.h"

#define KUBE_CONFIG_MAX_FILE (16u << 20)      /* a kubeconfig or PEM file */

/* --- small helpers ------------------------------------------------------- */

/* True when an fsfile error is about the file's kind or size (a FIFO such
 * as /dev/stdin, a directory, too large) rather than the system's error. */
static bool kube_config_refused(int code)
{
        return code == EISDIR || code == EINVAL || code == EFBIG;
}

static char *kube_config_dirname(const char *path)
{
        const char *s = strrchr(path, '/');

        if (!s)
                return xstrdup(".");
        if (s == path)
                return xstrdup("/");
        return xstrndup(path, (size_t)(s - path));
}

/* path as is when absolute, else dir/path. Owned. */
static char *kube_config_resolve(const char *dir, const char *path)
{
        if (path[0] == '/' || !dir || !dir[0])
                return xstrdup(path);
        return xasprintf("%s/%s", dir, path);
}

/* Decodes standard base64 (whitespace ignored, padding required). Owned,
 * NUL-terminated; NULL when not base64. */
static char *kube_config_base64(const char *s, size_t *outlen)
{
        size_t n = strlen(s), k = 0, pad = 0;
        char *clean = xmalloc(n + 1), *out;
        int r;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];

                if (isspace(c))
                        continue;
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=') ||
                    (pad && c != '=')) {
                        free(clean);
                        return NULL;
                }
                if (c == '=')
                        pad++;
                clean[k++] = (char)c;
        }
        clean[k] = '\0';
        if (k == 0 || k % 4 != 0 || pad > 2) {
                free(clean);
                return NULL;
        }
        out = xmalloc(k / 4 * 3 + 1);
        r = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)clean, (int)k);
        free(clean);
        if (r < 0 || (size_t)r < pad) {
                free(out);
                return NULL;
        }
        r -= (int)pad;
        out[r] = '\0';
        if (outlen)
                *outlen = (size_t)r;
        return out;
}

enum kube_config_pem { KUBE_CONFIG_PEM_CA, KUBE_CONFIG_PEM_CERT, KUBE_CONFIG_PEM_KEY };

/* True when pem holds what `kind` needs, as OpenSSL reads it. */
static bool kube_config_pem_ok(const char *pem, size_t len, enum kube_config_pem kind)
{
        BIO *b = BIO_new_mem_buf(pem, (int)len);
        bool ok = false;

        if (!b)
                return false;
        if (kind == KUBE_CONFIG_PEM_KEY) {
                EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
                ok = k != NULL;
                EVP_PKEY_free(k);
        } else {
                X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
                ok = x != NULL;
                X509_free(x);
        }
        BIO_free(b);
        ERR_clear_error();
        return ok;
}

static const char *kube_config_pem_what(enum kube_config_pem kind)
{
        return kind == KUBE_CONFIG_PEM_KEY ? "a PEM private key" : "a PEM certificate";
}

/* --- YAML access ------------------------------------------------------------ */

struct kube_config_file {
        yaml_document_t doc;
        bool   loaded;
        char  *path;
        char  *dir;
};

struct kube_config_named {
        const char  *name;      /* borrowed from the document */
        yaml_node_t *node;      /* the cluster/user/context mapping, or NULL */
        size_t       file;
};

struct kube_config_list {
        struct kube_config_named *v;
        size_t n;
};

struct kube_config_set {
        struct kube_config_file *files;
        size_t nfiles;
        struct kube_config_list clusters, users, contexts;
        const char *current;    /* borrowed */
        const char *label;      /* the list, for messages */
};

static yaml_node_t *kube_config_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
        if (!map || map->type != YAML_MAPPING_NODE)
                return NULL;
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
             p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(d, p->key);

                if (k && k->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)k->data.scalar.value, key) == 0)
                        return yaml_document_get_node(d, p->value);
        }
        return NULL;
}

/* A scalar's text, NULL when absent or null; *bad when not a scalar. */
static const char *kube_config_str(yaml_document_t *d, yaml_node_t *map, const char *key, bool *bad)
{
        yaml_node_t *v = kube_config_get(d, map, key);

        if (!v)
                return NULL;
        if (v->type != YAML_SCALAR_NODE) {
                *bad = true;
                return NULL;
        }
        if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (strcmp((const char *)v->data.scalar.value, "null") == 0 ||
             strcmp((const char *)v->data.scalar.value, "~") == 0 ||
             v->data.scalar.length == 0))
                return NULL;
        return (const char *)v->data.scalar.value;
}

/* 1 true, 0 false or absent, -1 not a boolean. */
static int kube_config_bool(yaml_document_t *d, yaml_node_t *map, const char *key)
{
        bool bad = false;
        const char *s = kube_config_str(d, map, key, &bad);

        if (bad)
                return -1;
        if (!s)
                return 0;
        if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
                return 1;
        if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
                return 0;
        return -1;
}

static const struct kube_config_named *kube_config_find(const struct kube_config_list *l,
                                                        const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].name, name) == 0)
                        return &l->v[i];
        return NULL;
}

/* "a, b, c" (at most ~150 characters, then "..."), or "none". Owned. */
static char *kube_config_names(const struct kube_config_list *l)
{
        char buf[160];
        size_t o = 0;

        if (l->n == 0)
                return xstrdup("none");
        buf[0] = '\0';
        for (size_t i = 0; i < l->n; i++) {
                size_t w = strlen(l->v[i].name) + (i ? 2 : 0);

                if (o + w + 5 >= sizeof buf) {
                        memcpy(buf + o, ", ...", 6);
                        break;
                }
                o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "",
                                      l->v[i].name);
        }
        return xstrdup(buf);
}

/* Adds the entries of one top-level list (clusters/users/contexts) of file
 * fi; the first definition of a name wins. */
static int kube_config_collect(struct kube_config_set *s, size_t fi, const char *key,
                               const char *inner, struct kube_config_list *l,
                               struct err *err)
{
        struct kube_config_file *f = &s->files[fi];
        yaml_document_t *d = &f->doc;
        yaml_node_t *seq = kube_config_get(d, yaml_document_get_root_node(d), key);
        size_t idx = 0;

        if (!seq || (seq->type == YAML_SCALAR_NODE && seq->data.scalar.length == 0))
                return 0;
        if (seq->type == YAML_SCALAR_NODE &&
            strcmp((const char *)seq->data.scalar.value, "null") == 0)
                return 0;
        if (seq->type != YAML_SEQUENCE_NODE) {
                err_set(err, EINVAL, "kubeconfig %s:%zu: %s: must be a list", f->path,
                        seq->start_mark.line + 1, key);
                return -1;
        }
        for (yaml_node_item_t *it = seq->data.sequence.items.start;
             it < seq->data.sequence.items.top; it++, idx++) {
                yaml_node_t *e = yaml_document_get_node(d, *it);
                bool bad = false;
                const char *name;
                yaml_node_t *body;

                if (!e || e->type != YAML_MAPPING_NODE) {
                        err_set(err, EINVAL, "kubeconfig %s: %s[%zu]: must be a mapping "
                                "with name and %s", f->path, key, idx, inner);
                        return -1;
                }
                name = kube_config_str(d, e, "name", &bad);
                if (!name || bad) {
                        err_set(err, EINVAL, "kubeconfig %s:%zu: %s[%zu]: missing name",
                                f->path, e->start_mark.line + 1, key, idx);
                        return -1;
                }
                body = kube_config_get(d, e, inner);
                if (body && body->type != YAML_MAPPING_NODE &&
                    !(body->type == YAML_SCALAR_NODE && body->data.scalar.length == 0)) {
                        err_set(err, EINVAL, "kubeconfig %s:%zu: %s \"%s\": %s must be a "
                                "mapping", f->path, body->start_mark.line + 1, key, name,
                                inner);
                        return -1;
                }
                if (body && body->type != YAML_MAPPING_NODE)
                        body = NULL;
                if (kube_config_find(l, name))
                        continue;
                l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
                l->v[l->n++] = (struct kube_config_named){ .name = name, .node = body, .file = fi };
        }
        return 0;
}

/* kubectl refuses a mapping that repeats a key; so do we, rather than
 * silently using one of them. */
static int kube_config_dup_keys(struct kube_config_file *f, struct err *err)
{
        yaml_document_t *d = &f->doc;

        for (yaml_node_t *n = d->nodes.start; n < d->nodes.top; n++) {
                if (n->type != YAML_MAPPING_NODE)
                        continue;
                for (yaml_node_pair_t *a = n->data.mapping.pairs.start;
                     a < n->data.mapping.pairs.top; a++) {
                        yaml_node_t *ka = yaml_document_get_node(d, a->key);

                        if (!ka || ka->type != YAML_SCALAR_NODE)
                                continue;
                        for (yaml_node_pair_t *b = n->data.mapping.pairs.start; b < a; b++) {
                                yaml_node_t *kb = yaml_document_get_node(d, b->key);

                                if (kb && kb->type == YAML_SCALAR_NODE &&
                                    strcmp((const char *)ka->data.scalar.value,
                                           (const char *)kb->data.scalar.value) == 0) {
                                        err_set(err, EINVAL, "kubeconfig %s:%zu: key \"%.60s\" "
                                                "appears twice in this mapping", f->path,
                                                ka->start_mark.line + 1,
                                                (const char *)ka->data.scalar.value);
                                        return -1;
                                }
                        }
                }
        }
        return 0;
}

/* Parses one file's text into s->files[fi] and merges its entries. */
static int kube_config_add(struct kube_config_set *s, const char *yaml, size_t len,
                           const char *path, const char *dir, struct err *err)
{
        struct kube_config_file *f;
        yaml_parser_t p;
        yaml_node_t *root;
        size_t fi = s->nfiles;
        bool bad = false;
        const char *cur;

        s->files = xrealloc(s->files, (s->nfiles + 1) * sizeof *s->files);
        f = &s->files[s->nfiles++];
        memset(f, 0, sizeof *f);
        f->path = xstrdup(path);
        f->dir = dir ? xstrdup(dir) : kube_config_dirname(path);
        if (!yaml_parser_initialize(&p)) {
                err_set(err, ENOMEM, "kubeconfig %s: cannot initialise the YAML parser", path);
                return -1;
        }
        yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
        if (!yaml_parser_load(&p, &f->doc)) {
                err_set(err, EINVAL, "kubeconfig %s:%zu:%zu: %s", path,
                        p.problem_mark.line + 1, p.problem_mark.column + 1,
                        p.problem ? p.problem : "YAML error");
                yaml_parser_delete(&p);
                return -1;
        }
        yaml_parser_delete(&p);
        f->loaded = true;
        root = yaml_document_get_root_node(&f->doc);
        if (!root)
                return 0;       /* an empty file defines nothing */
        if (root->type != YAML_MAPPING_NODE) {
                err_set(err, EINVAL, "kubeconfig %s: not a kubeconfig (the top level must "
                        "be a mapping with clusters, users and contexts)", path);
                return -1;
        }
        if (kube_config_dup_keys(f, err))
                return -1;
        if (kube_config_collect(s, fi, "clusters", "cluster", &s->clusters, err) ||
            kube_config_collect(s, fi, "users", "user", &s->users, err) ||
            kube_config_collect(s, fi, "contexts", "context", &s->contexts, err))
                return -1;
        cur = kube_config_str(&f->doc, root, "current-context", &bad);
        if (bad) {
                err_set(err, EINVAL, "kubeconfig %s: current-context must be a string", path);
                return -1;
        }
        if (cur && !s->current)
                s->current = cur;
        return 0;
}

static void kube_config_set_done(struct kube_config_set *s)
{
        for (size_t i = 0; i < s->nfiles; i++) {
                if (s->files[i].loaded)
                        yaml_document_delete(&s->files[i].doc);
                free(s->files[i].path);
                free(s->files[i].dir);
        }
        free(s->files);
        free(s->clusters.v);
        free(s->users.v);
        free(s->contexts.v);
}

/* --- resolution ------------------------------------------------------------ */

void kube_config_free(struct kube_config *kc)
{
        if (!kc)
                return;
        free(kc->context);
        free(kc->cluster);
        free(kc->user);
        free(kc->server);
        free(kc->namespace_);
        free(kc->path);
        free((char *)kc->tls.ca_file);
        free((char *)kc->tls.ca_pem);
        free((char *)kc->tls.cert_pem);
        if (kc->tls.key_pem) {
                memset((char *)kc->tls.key_pem, 0, strlen(kc->tls.key_pem));
                free((char *)kc->tls.key_pem);
        }
        free((char *)kc->tls.cert_file);
        free((char *)kc->tls.key_file);
        free(kc->tls_server_name);
        if (kc->token) {
                memset(kc->token, 0, strlen(kc->token));
                free(kc->token);
        }
        free(kc->token_file);
        free(kc->username);
        if (kc->password) {
                memset(kc->password, 0, strlen(kc->password));
                free(kc->password);
        }
        free(kc->exec_command);
        for (size_t i = 0; kc->exec_args && kc->exec_args[i]; i++)
                free(kc->exec_args[i]);
        free(kc->exec_args);
        for (size_t i = 0; kc->exec_env && kc->exec_env[i]; i++)
                free(kc->exec_env[i]);
        free(kc->exec_env);
        free(kc->exec_api_version);
        free(kc->exec_install_hint);
        free(kc->ca_source);
        free(kc->cert_source);
        free(kc->key_source);
        free(kc);
}

/* Loads one piece of TLS material: `key` (a path) or `key`-data (base64),
 * the data winning as in kubectl. *pem and *source set (owned) when
 * present. what = "cluster" or "user", name its name. */
static int kube_config_tls(struct kube_config_set *s, const struct kube_config_named *e,
                           const char *what, const char *key, enum kube_config_pem kind,
                           char **pem, char **source, struct err *err)
{
        struct kube_config_file *f = &s->files[e->file];
        char datakey[64];
        bool bad = false;
        const char *path, *data;
        size_t len = 0;
        char *buf, *label;

        snprintf(datakey, sizeof datakey, "%s-data", key);
        path = kube_config_str(&f->doc, e->node, key, &bad);
        data = kube_config_str(&f->doc, e->node, datakey, &bad);
        if (bad) {
                err_set(err, EINVAL, "kubeconfig %s: %s \"%s\": %s and %s must be strings",
                        f->path, what, e->name, key, datakey);
                return -1;
        }
        if (data) {
                buf = kube_config_base64(data, &len);
                if (!buf) {
                        err_set(err, EINVAL, "kubeconfig %s: %s \"%s\": %s: not base64",
                                f->path, what, e->name, datakey);
                        return -1;
                }
                label = xstrdup(datakey);
                *source = xasprintf("%s of %s \"%s\"", datakey, what, e->name);
        } else if (path) {
                char *full = kube_config_resolve(f->dir, path);

                struct err fe;

                buf = fsfile_read(full, KUBE_CONFIG_MAX_FILE, key, &len, &fe);
                if (!buf && kube_config_refused(fe.code)) {
                        err_set(err, fe.code, "kubeconfig %s: %s \"%s\": %s", f->path, what,
                                e->name, fe.msg);
                        free(full);
                        return -1;
                }
                if (!buf) {
                        err_set(err, fe.code, "kubeconfig %s: %s \"%s\": %s %s: cannot read: %s",
                                f->path, what, e->name, key, full, strerror(fe.code));
                        free(full);
                        return -1;
                }
                label = xasprintf("%s %s", key, full);
                *source = xstrdup(label);
                free(full);
        } else {
                return 0;
        }
        if (!kube_config_pem_ok(buf, len, kind)) {
                err_set(err, EINVAL, "kubeconfig %s: %s \"%s\": %s: not %s", f->path, what,
                        e->name, label, kube_config_pem_what(kind));
                memset(buf, 0, len);
                free(buf);
                free(label);
                free(*source);
                *source = NULL;
                return -1;
        }
        free(label);
        *pem = buf;
        return 0;
}

static int kube_config_server(const char *url, const char *file, const char *cluster, char **out,
                              struct err *err)
{
        size_t n;

        if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": server \"%.80s\" must "
                        "start with https:// (or http://)", file, cluster, url);
                return -1;
        }
        if (strchr(strstr(url, "://") + 3, '@')) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": server must not carry "
                        "credentials (user:password@)", file, cluster);
                return -1;
        }
        n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
                n--;
        *out = xstrndup(url, n);
        return 0;
}

static int kube_config_cluster(struct kube_config_set *s, struct kube_config *kc,
                               const char *server, struct err *err)
{
        const struct kube_config_named *e = kube_config_find(&s->clusters, kc->cluster);
        struct kube_config_file *f;
        const char *srv, *sni;
        bool bad = false;
        int ins;
        char *ca = NULL;

        if (!e) {
                char *have = kube_config_names(&s->clusters);
                err_set(err, ENOENT, "kubeconfig %s: context \"%s\": cluster \"%s\" not found "
                        "(have: %s)", kc->path, kc->context, kc->cluster, have);
                free(have);
                return -1;
        }
        f = &s->files[e->file];
        srv = kube_config_str(&f->doc, e->node, "server", &bad);
        sni = kube_config_str(&f->doc, e->node, "tls-server-name", &bad);
        if (bad) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": server and "
                        "tls-server-name must be strings", f->path, e->name);
                return -1;
        }
        if (kube_config_get(&f->doc, e->node, "proxy-url")) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": proxy-url is not "
                        "supported: set HTTPS_PROXY in the environment instead", f->path,
                        e->name);
                return -1;
        }
        if (!server || !server[0]) {
                if (!srv) {
                        err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": no server",
                                f->path, e->name);
                        return -1;
                }
                server = srv;
        }
        if (kube_config_server(server, f->path, e->name, &kc->server, err))
                return -1;
        kc->tls_server_name = xstrdup(sni);
        ins = kube_config_bool(&f->doc, e->node, "insecure-skip-tls-verify");
        if (ins < 0) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": "
                        "insecure-skip-tls-verify must be true or false", f->path, e->name);
                return -1;
        }
        kc->tls.insecure = ins == 1;
        if (kube_config_tls(s, e, "cluster", "certificate-authority", KUBE_CONFIG_PEM_CA, &ca,
                            &kc->ca_source, err))
                return -1;
        kc->tls.ca_pem = ca;
        if (ca && kc->tls.insecure) {
                err_set(err, EINVAL, "kubeconfig %s: cluster \"%s\": certificate-authority "
                        "and insecure-skip-tls-verify together are not allowed (drop one)",
                        f->path, e->name);
                return -1;
        }
        return 0;
}

static char **kube_config_strv_push(char **v, size_t *n, char *s)
{
        v = xrealloc(v, (*n + 2) * sizeof *v);
        v[(*n)++] = s;
        v[*n] = NULL;
        return v;
}

static int kube_config_exec(struct kube_config_set *s, const struct kube_config_named *e,
                            yaml_node_t *ex, struct kube_config *kc, struct err *err)
{
        struct kube_config_file *f = &s->files[e->file];
        yaml_document_t *d = &f->doc;
        const char *cmd, *api, *mode, *hint;
        yaml_node_t *args, *env;
        bool bad = false;
        size_t n = 0;
        int pci;

        if (ex->type != YAML_MAPPING_NODE) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec must be a mapping",
                        f->path, e->name);
                return -1;
        }
        cmd = kube_config_str(d, ex, "command", &bad);
        api = kube_config_str(d, ex, "apiVersion", &bad);
        mode = kube_config_str(d, ex, "interactiveMode", &bad);
        hint = kube_config_str(d, ex, "installHint", &bad);
        if (bad || !cmd) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec needs a command "
                        "(a string)", f->path, e->name);
                return -1;
        }
        if (!api) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec needs an apiVersion "
                        "(e.g. client.authentication.k8s.io/v1)", f->path, e->name);
                return -1;
        }
        if (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
            strcmp(api, "client.authentication.k8s.io/v1beta1") != 0) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec apiVersion \"%.60s\" "
                        "is not supported (client.authentication.k8s.io/v1 or v1beta1)",
                        f->path, e->name, api);
                return -1;
        }
        if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0) {
                if (strcmp(mode, "Always") == 0)
                        err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec "
                                "interactiveMode Always needs a terminal; lambdaops runs "
                                "plugins without one (use Never or IfAvailable)",
                                f->path, e->name);
                else
                        err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec "
                                "interactiveMode \"%.30s\" is not Never, IfAvailable or "
                                "Always", f->path, e->name, mode);
                return -1;
        }
        pci = kube_config_bool(d, ex, "provideClusterInfo");
        if (pci < 0) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec provideClusterInfo "
                        "must be true or false", f->path, e->name);
                return -1;
        }
        kc->exec_provide_cluster_info = pci == 1;
        /* kubectl: a command with a '/' is relative to the kubeconfig's
         * directory; a bare name is looked up in PATH. */
        kc->exec_command = strchr(cmd, '/') ? kube_config_resolve(f->dir, cmd) : xstrdup(cmd);
        kc->exec_api_version = xstrdup(api);
        kc->exec_install_hint = xstrdup(hint);
        kc->exec_args = kube_config_strv_push(NULL, &n, xstrdup(kc->exec_command));
        args = kube_config_get(d, ex, "args");
        if (args && args->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = args->data.sequence.items.start;
                     it < args->data.sequence.items.top; it++) {
                        yaml_node_t *a = yaml_document_get_node(d, *it);

                        if (!a || a->type != YAML_SCALAR_NODE) {
                                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec args "
                                        "must be strings", f->path, e->name);
                                return -1;
                        }
                        kc->exec_args = kube_config_strv_push(
                                kc->exec_args, &n, xstrdup((const char *)a->data.scalar.value));
                }
        } else if (args && !(args->type == YAML_SCALAR_NODE && args->data.scalar.length == 0)) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec args must be a list",
                        f->path, e->name);
                return -1;
        }
        n = 0;
        env = kube_config_get(d, ex, "env");
        if (env && env->type == YAML_SEQUENCE_NODE) {
                for (yaml_node_item_t *it = env->data.sequence.items.start;
                     it < env->data.sequence.items.top; it++) {
                        yaml_node_t *v = yaml_document_get_node(d, *it);
                        const char *nm = kube_config_str(d, v, "name", &bad);
                        const char *val = kube_config_str(d, v, "value", &bad);

                        if (!v || v->type != YAML_MAPPING_NODE || bad || !nm || !nm[0] ||
                            strchr(nm, '=')) {
                                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec env "
                                        "entries need a name and a value", f->path, e->name);
                                return -1;
                        }
                        kc->exec_env = kube_config_strv_push(
                                kc->exec_env, &n, xasprintf("%s=%s", nm, val ? val : ""));
                }
        } else if (env && !(env->type == YAML_SCALAR_NODE && env->data.scalar.length == 0)) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": exec env must be a list",
                        f->path, e->name);
                return -1;
        }
        if (!kc->exec_env)
                kc->exec_env = xcalloc(1, sizeof *kc->exec_env);
        return 0;
}

static int kube_config_user(struct kube_config_set *s, struct kube_config *kc, struct err *err)
{
        const struct kube_config_named *e;
        struct kube_config_file *f;
        yaml_document_t *d;
        const char *tok, *tokf, *un, *pw;
        yaml_node_t *ex;
        bool bad = false;
        char *cert = NULL, *key = NULL;

        if (!kc->user)
                return 0;       /* anonymous */
        e = kube_config_find(&s->users, kc->user);
        if (!e) {
                char *have = kube_config_names(&s->users);
                err_set(err, ENOENT, "kubeconfig %s: context \"%s\": user \"%s\" not found "
                        "(have: %s)", kc->path, kc->context, kc->user, have);
                free(have);
                return -1;
        }
        f = &s->files[e->file];
        d = &f->doc;
        if (kube_config_get(d, e->node, "auth-provider")) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": auth-provider is not "
                        "supported (it was removed from kubectl): use an exec plugin",
                        f->path, e->name);
                return -1;
        }
        if (kube_config_get(d, e->node, "as") || kube_config_get(d, e->node, "as-groups") ||
            kube_config_get(d, e->node, "as-uid")) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": impersonation (as, "
                        "as-groups) is not supported", f->path, e->name);
                return -1;
        }
        tok = kube_config_str(d, e->node, "token", &bad);
        tokf = kube_config_str(d, e->node, "tokenFile", &bad);
        un = kube_config_str(d, e->node, "username", &bad);
        pw = kube_config_str(d, e->node, "password", &bad);
        if (bad) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": token, tokenFile, username "
                        "and password must be strings", f->path, e->name);
                return -1;
        }
        ex = kube_config_get(d, e->node, "exec");
        if (ex && ex->type == YAML_SCALAR_NODE && ex->data.scalar.length == 0)
                ex = NULL;
        if ((tok || tokf) + (un || pw) + (ex != NULL) > 1) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": more than one "
                        "authentication method (%s%s%s): keep one", f->path, e->name,
                        tok || tokf ? "token" : "username/password",
                        ex ? ", " : "", ex ? "exec" : (tok || tokf) && (un || pw) ?
                        ", username/password" : "");
                return -1;
        }
        if (tok)
                kc->token = xstrdup(tok);       /* token wins over tokenFile */
        else if (tokf)
                kc->token_file = kube_config_resolve(f->dir, tokf);
        if (un || pw) {
                kc->username = xstrdup(un ? un : "");
                kc->password = xstrdup(pw ? pw : "");
        }
        if (ex && kube_config_exec(s, e, ex, kc, err))
                return -1;
        if (kube_config_tls(s, e, "user", "client-certificate", KUBE_CONFIG_PEM_CERT, &cert,
                            &kc->cert_source, err))
                return -1;
        kc->tls.cert_pem = cert;
        if (kube_config_tls(s, e, "user", "client-key", KUBE_CONFIG_PEM_KEY, &key, &kc->key_source,
                            err))
                return -1;
        kc->tls.key_pem = key;
        if (!cert != !key) {
                err_set(err, EINVAL, "kubeconfig %s: user \"%s\": %s without %s", f->path,
                        e->name, cert ? "client-certificate" : "client-key",
                        cert ? "client-key" : "client-certificate");
                return -1;
        }
        return 0;
}

static struct kube_config *kube_config_resolve_ctx(struct kube_config_set *s, const char *context,
                                                   const struct kube_opts *o, struct err *err)
{
        struct kube_config *kc;
        const struct kube_config_named *c;
        struct kube_config_file *f;
        const char *cl, *us, *ns;
        bool bad = false;

        if (!context || !context[0])
                context = s->current;
        if (!context) {
                char *have = kube_config_names(&s->contexts);
                err_set(err, ENOENT, "kubeconfig %s: no current-context: choose a context "
                        "(have: %s)", s->label, have);
                free(have);
                return NULL;
        }
        c = kube_config_find(&s->contexts, context);
        if (!c) {
                char *have = kube_config_names(&s->contexts);
                err_set(err, ENOENT, "kubeconfig %s: context \"%s\" not found (have: %s)",
                        s->label, context, have);
                free(have);
                return NULL;
        }
        f = &s->files[c->file];
        cl = kube_config_str(&f->doc, c->node, "cluster", &bad);
        us = kube_config_str(&f->doc, c->node, "user", &bad);
        ns = kube_config_str(&f->doc, c->node, "namespace", &bad);
        if (bad || !cl) {
                err_set(err, EINVAL, "kubeconfig %s: context \"%s\" needs a cluster (and "
                        "user, namespace as strings)", f->path, c->name);
                return NULL;
        }
        kc = xcalloc(1, sizeof *kc);
        kc->context = xstrdup(c->name);
        kc->cluster = xstrdup(cl);
        kc->user = us && us[0] ? xstrdup(us) : NULL;
        kc->namespace_ = ns && ns[0] ? xstrdup(ns) : NULL;
        kc->path = xstrdup(f->path);
        kc->exec_timeout_ms = o && o->exec_timeout_ms > 0 ? o->exec_timeout_ms : 10000;
        if (kube_config_cluster(s, kc, o ? o->server : NULL, err) || kube_config_user(s, kc, err)) {
                kube_config_free(kc);
                return NULL;
        }
        return kc;
}

struct kube_config *kube_config_parse(const char *yaml, size_t len, const char *name,
                                      const char *dir, const char *context,
                                      struct err *err)
{
        struct kube_config_set s = { .label = name ? name : "<kubeconfig>" };
        struct kube_config *kc = NULL;

        if (kube_config_add(&s, yaml ? yaml : "", yaml ? len : 0, s.label, dir ? dir : ".",
                            err) == 0)
                kc = kube_config_resolve_ctx(&s, context, NULL, err);
        kube_config_set_done(&s);
        return kc;
}

struct kube_config *kube_config_load(const struct kube_opts *o, struct err *err)
{
        struct kube_config_set s = { 0 };
        struct kube_config *kc = NULL;
        const char *list = o ? o->kubeconfig : NULL;
        bool from_env = false;
        char *dflt = NULL, *copy, *save = NULL;
        size_t tried = 0;

        if (!list || !list[0]) {
                list = getenv("KUBECONFIG");
                from_env = list && list[0];
        }
        if (!list || !list[0]) {
                const char *home = getenv("HOME");

                if (!home || !home[0]) {
                        err_set(err, ENOENT, "no kubeconfig: set kubeconfig, or KUBECONFIG, "
                                "or HOME for ~/.kube/config");
                        return NULL;
                }
                list = dflt = xasprintf("%s/.kube/config", home);
        }
        s.label = list;
        copy = xstrdup(list);
        for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
                size_t len = 0;
                struct err fe;
                char *text;

                tried++;
                text = fsfile_read(p, KUBE_CONFIG_MAX_FILE, "kubeconfig", &len, &fe);
                if (!text) {
                        /* kubectl skips missing files of $KUBECONFIG. */
                        if (from_env && fe.code == ENOENT)
                                continue;
                        if (kube_config_refused(fe.code))
                                err_set(err, fe.code, "%s", fe.msg);
                        else
                                err_set(err, fe.code, "kubeconfig %s: cannot read: %s%s", p,
                                        strerror(fe.code),
                                        dflt ? " (set kubeconfig or KUBECONFIG)" : "");
                        goto out;
                }
                if (kube_config_add(&s, text, len, p, NULL, err)) {
                        free(text);
                        goto out;
                }
                free(text);
        }
        if (s.nfiles == 0) {
                err_set(err, ENOENT, "kubeconfig %s: %s", list,
                        tried ? "none of these files exists" : "empty path");
                goto out;
        }
        kc = kube_config_resolve_ctx(&s, o ? o->context : NULL, o, err);
out:
        kube_config_set_done(&s);
        free(copy);
        free(dflt);
        return kc;
}

/* --- ExecCredential ---------------------------------------------------------- */

void kube_exec_cred_done(struct kube_exec_cred *c)
{
        if (!c)
                return;
        if (c->token) {
                memset(c->token, 0, strlen(c->token));
                free(c->token);
        }
        free(c->cert_pem);
        if (c->key_pem) {
                memset(c->key_pem, 0, strlen(c->key_pem));
                free(c->key_pem);
        }
        memset(c, 0, sizeof *c);
        c->expiry_ms = -1;
}

int kube_exec_cred_parse(const char *json, size_t len, const char *command,
                         const char *api_version, struct kube_exec_cred *out,
                         struct err *err)
{
        cJSON *doc, *st, *it;
        const char *av, *kind;

        memset(out, 0, sizeof *out);
        out->expiry_ms = -1;
        if (!command)
                command = "?";
        doc = json ? cJSON_ParseWithLength(json, len) : NULL;
        if (!cJSON_IsObject(doc)) {
                err_set(err, EINVAL, "exec plugin %s: output is not an ExecCredential (%s)",
                        command, !doc && json ? json_parse_why(json, len, "not a JSON object")
                                              : "not a JSON object");
                cJSON_Delete(doc);
                return -1;
        }
        kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "kind"));
        av = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "apiVersion"));
        if (!kind || strcmp(kind, "ExecCredential") != 0) {
                err_set(err, EINVAL, "exec plugin %s: output is not an ExecCredential "
                        "(kind \"%.40s\")", command, kind ? kind : "");
                goto bad;
        }
        if (!av || !api_version || strcmp(av, api_version) != 0) {
                err_set(err, EINVAL, "exec plugin %s: apiVersion \"%.60s\" does not match the "
                        "kubeconfig's \"%.60s\"", command, av ? av : "",
                        api_version ? api_version : "");
                goto bad;
        }
        st = cJSON_GetObjectItemCaseSensitive(doc, "status");
        if (!cJSON_IsObject(st)) {
                err_set(err, EINVAL, "exec plugin %s: ExecCredential has no status", command);
                goto bad;
        }
        it = cJSON_GetObjectItemCaseSensitive(st, "token");
        if (it && !cJSON_IsNull(it) && !cJSON_IsString(it)) {
                err_set(err, EINVAL, "exec plugin %s: status.token is not a string", command);
                goto bad;
        }
        if (cJSON_IsString(it) && it->valuestring[0])
                out->token = xstrdup(it->valuestring);
        it = cJSON_GetObjectItemCaseSensitive(st, "clientCertificateData");
        if (cJSON_IsString(it) && it->valuestring[0])
                out->cert_pem = xstrdup(it->valuestring);
        it = cJSON_GetObjectItemCaseSensitive(st, "clientKeyData");
        if (cJSON_IsString(it) && it->valuestring[0])
                out->key_pem = xstrdup(it->valuestring);
        if (!out->cert_pem != !out->key_pem) {
                err_set(err, EINVAL, "exec plugin %s: status has %s without %s", command,
                        out->cert_pem ? "clientCertificateData" : "clientKeyData",
                        out->cert_pem ? "clientKeyData" : "clientCertificateData");
                goto bad;
        }
        if (out->cert_pem &&
            !kube_config_pem_ok(out->cert_pem, strlen(out->cert_pem), KUBE_CONFIG_PEM_CERT)) {
                err_set(err, EINVAL, "exec plugin %s: status.clientCertificateData: not a PEM "
                        "certificate", command);
                goto bad;
        }
        if (out->key_pem &&
            !kube_config_pem_ok(out->key_pem, strlen(out->key_pem), KUBE_CONFIG_PEM_KEY)) {
                err_set(err, EINVAL, "exec plugin %s: status.clientKeyData: not a PEM private "
                        "key", command);
                goto bad;
        }
        if (!out->token && !out->cert_pem) {
                err_set(err, EINVAL, "exec plugin %s: status has neither a token nor a client "
                        "certificate", command);
                goto bad;
        }
        it = cJSON_GetObjectItemCaseSensitive(st, "expirationTimestamp");
        if (it && !cJSON_IsNull(it)) {
                out->expiry_ms = cJSON_IsString(it) ? kube_time_ms(it->valuestring) : -1;
                if (out->expiry_ms < 0) {
                        err_set(err, EINVAL, "exec plugin %s: status.expirationTimestamp is not "
                                "an RFC 3339 time", command);
                        goto bad;
                }
        }
        cJSON_Delete(doc);
        return 0;
bad:
        kube_exec_cred_done(out);
        cJSON_Delete(doc);
        return -1;
}
