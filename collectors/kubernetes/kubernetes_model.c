/*
 * Kubernetes collector, the pure half: JSON access, packing of the compact
 * models, label selectors and the model builders (kubernetes_*_make) that
 * the informers of kubernetes.c call for every object. No I/O, no state.
 */
#include "collectors/kubernetes/kubernetes.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/util.h"

#define KS_MAX_CONT       32            /* containers kept per pod */
#define KS_MAX_COND       12            /* conditions kept per pod */
#define KS_SEL_MAX        16            /* requirements per selector */

/* ------------------------------------------------------------------------
 * JSON access (pure)
 */

static const cJSON *kubernetes_get(const cJSON *o, const char *k)
{
        return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static const cJSON *kubernetes_arr(const cJSON *a)
{
        return cJSON_IsArray(a) ? a : NULL;
}

static const char *kubernetes_s(const cJSON *o, const char *k)
{
        const cJSON *v = kubernetes_get(o, k);

        return cJSON_IsString(v) && v->valuestring && v->valuestring[0] ? v->valuestring : NULL;
}

/* An integer field in [0, INT32_MAX]; `def` when missing or not one. */
static int kubernetes_int(const cJSON *o, const char *k, int def)
{
        const cJSON *v = kubernetes_get(o, k);

        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
            v->valuedouble > 2147483647.0)
                return def;
        return (int)v->valuedouble;
}

static bool kubernetes_true(const cJSON *o, const char *k)
{
        return cJSON_IsTrue(kubernetes_get(o, k));
}

static int64_t kubernetes_time(const cJSON *o, const char *k)
{
        const char *s = kubernetes_s(o, k);

        return s ? kube_time_ms(s) : -1;
}

static double kubernetes_qty(const cJSON *o, const char *k)
{
        const char *s = kubernetes_s(o, k);
        double v;

        if (!s || kube_quantity(s, &v) != 0 || !isfinite(v))
                return NAN;
        return v;
}

/* ------------------------------------------------------------------------
 * Packing: a model is one allocation -- the struct, its arrays, then its
 * strings. Builders run twice: once measuring (buf NULL), once copying.
 */

struct ks_pack {
        char  *buf;             /* NULL while measuring */
        size_t need, used;
};

#define KS_ALIGN(n) (((n) + 15) & ~(size_t)15)

/* Copies s (cut to max bytes on a UTF-8 boundary); NULL for NULL or "". */
static const char *kubernetes_pstr(struct ks_pack *p, const char *s, size_t max)
{
        size_t n;
        char *o;

        if (!s || !*s)
                return NULL;
        n = strlen(s);
        if (n > max) {
                n = max;
                while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                        n--;
        }
        if (!p->buf) {
                p->need += n + 1;
                return NULL;
        }
        o = p->buf + p->used;
        memcpy(o, s, n);
        o[n] = '\0';
        p->used += n + 1;
        return o;
}

/* "a/b" ("?" for a missing half); NULL when both are missing. */
static const char *kubernetes_pfmt2(struct ks_pack *p, const char *a, const char *b)
{
        char tmp[320];

        if (!a && !b)
                return NULL;
        snprintf(tmp, sizeof tmp, "%s/%s", a ? a : "?", b ? b : "?");
        return kubernetes_pstr(p, tmp, sizeof tmp);
}

/* Allocates the model: `head` bytes of struct and arrays, then strings. */
static void *kubernetes_palloc(struct ks_pack *p, size_t head)
{
        char *m = xcalloc(1, KS_ALIGN(head) + p->need + 1);

        p->buf = m + KS_ALIGN(head);
        p->used = 0;
        return m;
}

void kubernetes_model_unref(void *model)
{
        atomic_int *refs = model;

        if (model && atomic_fetch_sub(refs, 1) == 1)
                free(model);
}

void kubernetes_model_ref(void *model)
{
        atomic_fetch_add((atomic_int *)model, 1);
}

/* ------------------------------------------------------------------------
 * Label selectors (equality-based): a=b, a==b, a!=b, a (exists), !a
 */

enum ks_op { KS_EQ, KS_NE, KS_EXISTS, KS_ABSENT };

struct ks_req {
        char *key, *val;        /* owned; val NULL for exists/absent */
        enum ks_op op;
};

struct ks_sel {
        const char *name;       /* borrowed from the config */
        struct ks_req req[KS_SEL_MAX];
        int n;
};

struct kubernetes_components {
        struct ks_sel *v;
        size_t n;
};

static bool kubernetes_label_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '/';
}

static char *kubernetes_trim(const char *s, size_t n)
{
        while (n && (*s == ' ' || *s == '\t')) {
                s++;
                n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return xstrndup(s, n);
}

static bool kubernetes_token_ok(const char *s, bool empty_ok)
{
        if (!*s)
                return empty_ok;
        for (; *s; s++)
                if (!kubernetes_label_char(*s))
                        return false;
        return true;
}

static void kubernetes_sel_done(struct ks_sel *s)
{
        for (int i = 0; i < s->n; i++) {
                free(s->req[i].key);
                free(s->req[i].val);
        }
        s->n = 0;
}

/* Parses text into s. 0, or -1 with a reason in why. */
static int kubernetes_sel_parse(const char *text, struct ks_sel *s, char *why, size_t wn)
{
        const char *p = text;

        s->n = 0;
        if (!text || !*text) {
                snprintf(why, wn, "empty selector");
                return -1;
        }
        while (*p) {
                const char *end = strchr(p, ','), *op;
                size_t len = end ? (size_t)(end - p) : strlen(p);
                char *part = kubernetes_trim(p, len), *k, *v = NULL;
                struct ks_req *r;
                enum ks_op o;

                if (s->n == KS_SEL_MAX) {
                        free(part);
                        snprintf(why, wn, "more than %d requirements", KS_SEL_MAX);
                        goto bad;
                }
                if ((op = strstr(part, "!=")) != NULL) {
                        o = KS_NE;
                        k = kubernetes_trim(part, (size_t)(op - part));
                        v = kubernetes_trim(op + 2, strlen(op + 2));
                } else if ((op = strstr(part, "==")) != NULL) {
                        o = KS_EQ;
                        k = kubernetes_trim(part, (size_t)(op - part));
                        v = kubernetes_trim(op + 2, strlen(op + 2));
                } else if ((op = strchr(part, '=')) != NULL) {
                        o = KS_EQ;
                        k = kubernetes_trim(part, (size_t)(op - part));
                        v = kubernetes_trim(op + 1, strlen(op + 1));
                } else if (part[0] == '!') {
                        o = KS_ABSENT;
                        k = kubernetes_trim(part + 1, strlen(part + 1));
                } else {
                        o = KS_EXISTS;
                        k = xstrdup(part);
                }
                if (!kubernetes_token_ok(k, false) || (v && !kubernetes_token_ok(v, true))) {
                        snprintf(why, wn, "\"%.64s\" is not a=b, a!=b, a or !a (set-based "
                                 "selectors such as \"in (...)\" are not supported)", part);
                        free(part);
                        free(k);
                        free(v);
                        goto bad;
                }
                free(part);
                r = &s->req[s->n++];
                r->key = k;
                r->val = v;
                r->op = o;
                if (!end)
                        break;
                p = end + 1;
                if (!*p) {
                        snprintf(why, wn, "trailing ','");
                        goto bad;
                }
        }
        return 0;
bad:
        kubernetes_sel_done(s);
        return -1;
}

static bool kubernetes_sel_match(const struct ks_sel *s, const cJSON *labels)
{
        for (int i = 0; i < s->n; i++) {
                const struct ks_req *r = &s->req[i];
                const cJSON *l = cJSON_IsObject(labels)
                                 ? cJSON_GetObjectItemCaseSensitive(labels, r->key) : NULL;
                const char *v = cJSON_IsString(l) ? l->valuestring : NULL;

                switch (r->op) {
                case KS_EQ:
                        if (!v || strcmp(v, r->val) != 0)
                                return false;
                        break;
                case KS_NE:
                        if (v && strcmp(v, r->val) == 0)
                                return false;
                        break;
                case KS_EXISTS:
                        if (!v)
                                return false;
                        break;
                case KS_ABSENT:
                        if (v)
                                return false;
                        break;
                }
        }
        return s->n > 0;
}

bool kubernetes_selector_match(const char *selector, const cJSON *labels)
{
        struct ks_sel s = { 0 };
        char why[160];
        bool m;

        if (kubernetes_sel_parse(selector, &s, why, sizeof why) != 0)
                return false;
        m = kubernetes_sel_match(&s, labels);
        kubernetes_sel_done(&s);
        return m;
}

struct kubernetes_components *kubernetes_components_new(const struct cfg_strmap *m,
                                                        struct err *err)
{
        struct kubernetes_components *c = xcalloc(1, sizeof *c);
        char why[200];

        if (!m || !m->n)
                return c;
        c->v = xcalloc(m->n, sizeof *c->v);
        for (size_t i = 0; i < m->n; i++) {
                if (kubernetes_sel_parse(m->vals[i], &c->v[i], why, sizeof why) != 0) {
                        err_set(err, EINVAL, "components.%s: %s", m->keys[i], why);
                        kubernetes_components_free(c);
                        return NULL;
                }
                c->v[i].name = m->keys[i];
                c->n++;
        }
        return c;
}

void kubernetes_components_free(struct kubernetes_components *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                kubernetes_sel_done(&c->v[i]);
        free(c->v);
        free(c);
}

const char *kubernetes_component_of(const struct kubernetes_components *c, const cJSON *labels)
{
        for (size_t i = 0; c && labels && i < c->n; i++)
                if (kubernetes_sel_match(&c->v[i], labels))
                        return c->v[i].name;
        return NULL;
}

/* ------------------------------------------------------------------------
 * Model builders (pure)
 */

static const char *const ks_failing_reasons[] = {
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
        "CreateContainerError", "InvalidImageName", "RunContainerError", "ErrImageNeverPull",
        "PreCreateHookError", "PostStartHookError",
};

static bool kubernetes_failing(const char *reason)
{
        for (size_t i = 0; reason && i < LO_ARRAY_LEN(ks_failing_reasons); i++)
                if (strcmp(reason, ks_failing_reasons[i]) == 0)
                        return true;
        return false;
}

static const cJSON *kubernetes_meta(const cJSON *obj)
{
        const cJSON *m = kubernetes_get(obj, "metadata");

        return kubernetes_s(m, "name") ? m : NULL;
}

/* The state object of a container status: sets *name and returns it. */
static const cJSON *kubernetes_state(const cJSON *st, const char **name)
{
        static const char *const names[] = { "waiting", "running", "terminated" };

        for (size_t i = 0; i < LO_ARRAY_LEN(names); i++) {
                const cJSON *s = kubernetes_get(st, names[i]);

                if (cJSON_IsObject(s)) {
                        *name = names[i];
                        return s;
                }
        }
        *name = NULL;
        return NULL;
}

/* Fills the pod (both passes); cont/cond arrays are written only when set. */
static void kubernetes_pod_fill(struct ks_pack *p, const cJSON *obj, const cJSON *meta,
                                const struct kubernetes_components *comps,
                                struct kubernetes_pod *pod)
{
        const cJSON *spec = kubernetes_get(obj, "spec"), *status = kubernetes_get(obj, "status");
        const cJSON *owners = kubernetes_get(meta, "ownerReferences"), *o, *owner = NULL;
        const cJSON *conds = kubernetes_get(status, "conditions"), *c;
        static const char *const lists[] = { "initContainerStatuses", "containerStatuses" };
        const char *failing = NULL, *waiting = NULL, *term = NULL, *init_bad = NULL;
        const char *last = NULL, *last_failing = NULL;
        const cJSON *speccont = kubernetes_get(spec, "containers");

        pod->ns = kubernetes_pstr(p, kubernetes_s(meta, "namespace"), 253);
        pod->name = kubernetes_pstr(p, kubernetes_s(meta, "name"), 253);
        pod->component = kubernetes_component_of(comps, kubernetes_get(meta, "labels"));
        pod->phase = kubernetes_pstr(p, kubernetes_s(status, "phase"), 32);
        pod->node = kubernetes_pstr(p, kubernetes_s(spec, "nodeName"), 253);
        pod->message = kubernetes_pstr(p, kubernetes_s(status, "message"), 256);
        pod->terminating = kubernetes_s(meta, "deletionTimestamp") != NULL;
        pod->start_ms = kubernetes_time(status, "startTime");
        if (pod->start_ms < 0)
                pod->start_ms = kubernetes_time(meta, "creationTimestamp");
        cJSON_ArrayForEach(o, kubernetes_arr(owners)) {
                if (!owner || kubernetes_true(o, "controller"))
                        owner = o;
                if (kubernetes_true(o, "controller"))
                        break;
        }
        pod->owner_kind = kubernetes_pstr(p, kubernetes_s(owner, "kind"), 64);
        pod->owner_name = kubernetes_pstr(p, kubernetes_s(owner, "name"), 253);

        pod->n_cont = 0;
        pod->containers = 0;
        pod->ready_containers = 0;
        pod->restarts = 0;
        for (size_t l = 0; l < LO_ARRAY_LEN(lists); l++) {
                const cJSON *arr = kubernetes_get(status, lists[l]), *cs;

                cJSON_ArrayForEach(cs, kubernetes_arr(arr)) {
                        const char *sname, *reason;
                        const cJSON *st = kubernetes_state(kubernetes_get(cs, "state"), &sname);
                        const cJSON *lt = kubernetes_get(kubernetes_get(cs, "lastState"),
                                                         "terminated");
                        bool init = l == 0, ready = kubernetes_true(cs, "ready");
                        int restarts = kubernetes_int(cs, "restartCount", 0);

                        if (!cJSON_IsObject(cs))
                                continue;
                        reason = kubernetes_s(st, "reason");
                        if (!init) {
                                pod->containers++;
                                pod->ready_containers += ready;
                                pod->restarts += restarts;
                                if (kubernetes_s(lt, "reason") &&
                                    (!last || (kubernetes_failing(reason) && !last_failing))) {
                                        last = kubernetes_s(lt, "reason");
                                        if (kubernetes_failing(reason))
                                                last_failing = last;
                                }
                        }
                        if (sname && strcmp(sname, "waiting") == 0 && reason) {
                                if (kubernetes_failing(reason) && !failing)
                                        failing = reason;
                                else if (init && strcmp(reason, "PodInitializing") != 0 &&
                                         !init_bad)
                                        init_bad = reason;
                                else if (!init && !waiting)
                                        waiting = reason;
                        } else if (sname && strcmp(sname, "terminated") == 0 && reason) {
                                if (init && kubernetes_int(st, "exitCode", 0) != 0 && !init_bad)
                                        init_bad = reason;
                                else if (!init && !term)
                                        term = reason;
                        }
                        if (pod->n_cont < KS_MAX_CONT) {
                                if (pod->cont) {
                                        struct kubernetes_container *k = &pod->cont[pod->n_cont];

                                        k->init = init;
                                        k->ready = ready;
                                        k->restarts = restarts;
                                        k->state = sname;
                                        k->last_exit = kubernetes_int(lt, "exitCode", -1);
                                }
                                {
                                        const char *nm =
                                                kubernetes_pstr(p, kubernetes_s(cs, "name"), 63);
                                        const char *rs = kubernetes_pstr(p, reason, 64);
                                        const char *lr =
                                                kubernetes_pstr(p, kubernetes_s(lt, "reason"), 64);

                                        if (pod->cont) {
                                                pod->cont[pod->n_cont].name = nm;
                                                pod->cont[pod->n_cont].reason = rs;
                                                pod->cont[pod->n_cont].last_reason = lr;
                                        }
                                }
                                pod->n_cont++;
                        }
                }
        }
        if (cJSON_IsArray(speccont) && cJSON_GetArraySize(speccont) > pod->containers)
                pod->containers = cJSON_GetArraySize(speccont);

        /* The one reason a console shows, most telling first. */
        {
                const char *r = NULL;

                if (pod->terminating)
                        r = "Terminating";
                else if (failing)
                        r = failing;
                else if (kubernetes_s(status, "reason"))
                        r = kubernetes_s(status, "reason");
                else if (init_bad)
                        r = init_bad;
                else if (waiting)
                        r = waiting;
                else if (term)
                        r = term;
                pod->failing = failing != NULL && !pod->terminating;
                pod->reason = kubernetes_pstr(p, r, 64);
                pod->last_reason = kubernetes_pstr(p, last, 64);
        }

        pod->n_cond = 0;
        cJSON_ArrayForEach(c, kubernetes_arr(conds)) {
                const char *t = kubernetes_pstr(p, kubernetes_s(c, "type"), 48);
                const char *s = kubernetes_pstr(p, kubernetes_s(c, "status"), 16);
                const char *r = kubernetes_pstr(p, kubernetes_s(c, "reason"), 64);

                if (pod->n_cond >= KS_MAX_COND || !kubernetes_s(c, "type"))
                        continue;
                if (pod->cond) {
                        pod->cond[pod->n_cond].type = t;
                        pod->cond[pod->n_cond].status = s;
                        pod->cond[pod->n_cond].reason = r;
                }
                pod->n_cond++;
        }
}

struct kubernetes_pod *kubernetes_pod_make(const cJSON *obj,
                                           const struct kubernetes_components *comps)
{
        const cJSON *meta = kubernetes_meta(obj);
        struct kubernetes_pod tmp, *pod;
        struct ks_pack p = { 0 };
        size_t head;

        if (!meta)
                return NULL;
        memset(&tmp, 0, sizeof tmp);
        kubernetes_pod_fill(&p, obj, meta, comps, &tmp);
        head = KS_ALIGN(sizeof *pod) + KS_ALIGN(tmp.n_cont * sizeof *pod->cont) +
               tmp.n_cond * sizeof *pod->cond;
        pod = kubernetes_palloc(&p, head);
        pod->cont = (void *)((char *)pod + KS_ALIGN(sizeof *pod));
        pod->cond = (void *)((char *)pod->cont + KS_ALIGN(tmp.n_cont * sizeof *pod->cont));
        kubernetes_pod_fill(&p, obj, meta, comps, pod);
        if (!pod->n_cont)
                pod->cont = NULL;
        if (!pod->n_cond)
                pod->cond = NULL;
        atomic_init(&pod->refs, 1);
        return pod;
}

static void kubernetes_node_fill(struct ks_pack *p, const cJSON *obj, const cJSON *meta,
                                 struct kubernetes_node *n)
{
        const cJSON *status = kubernetes_get(obj, "status"), *c;
        const cJSON *alloc = kubernetes_get(status, "allocatable");

        n->name = kubernetes_pstr(p, kubernetes_s(meta, "name"), 253);
        n->version = kubernetes_pstr(p, kubernetes_s(kubernetes_get(status, "nodeInfo"),
                                                     "kubeletVersion"), 64);
        n->created_ms = kubernetes_time(meta, "creationTimestamp");
        n->unschedulable = kubernetes_true(kubernetes_get(obj, "spec"), "unschedulable");
        n->cpu = kubernetes_qty(alloc, "cpu");
        n->memory = kubernetes_qty(alloc, "memory");
        n->ready = -1;
        n->pressure = 0;
        cJSON_ArrayForEach(c, kubernetes_arr(kubernetes_get(status, "conditions"))) {
                const char *t = kubernetes_s(c, "type"), *s = kubernetes_s(c, "status");

                if (!t || !s)
                        continue;
                if (strcmp(t, "Ready") == 0) {
                        n->ready = strcmp(s, "True") == 0 ? 1 : strcmp(s, "False") == 0 ? 0 : -1;
                        continue;
                }
                for (size_t i = 0; i < LO_ARRAY_LEN(kubernetes_node_conds); i++)
                        if (strcmp(t, kubernetes_node_conds[i]) == 0 && strcmp(s, "True") == 0)
                                n->pressure |= 1u << i;
        }
}

struct kubernetes_node *kubernetes_node_make(const cJSON *obj)
{
        const cJSON *meta = kubernetes_meta(obj);
        struct kubernetes_node tmp, *n;
        struct ks_pack p = { 0 };

        if (!meta)
                return NULL;
        memset(&tmp, 0, sizeof tmp);
        kubernetes_node_fill(&p, obj, meta, &tmp);
        n = kubernetes_palloc(&p, sizeof *n);
        kubernetes_node_fill(&p, obj, meta, n);
        atomic_init(&n->refs, 1);
        return n;
}

static void kubernetes_wl_fill(struct ks_pack *p, const cJSON *obj, const cJSON *meta,
                               const char *kind, const struct kubernetes_components *comps,
                               struct kubernetes_workload *w)
{
        const cJSON *spec = kubernetes_get(obj, "spec"), *status = kubernetes_get(obj, "status");
        const char *comp;

        w->kind = kind;
        w->ns = kubernetes_pstr(p, kubernetes_s(meta, "namespace"), 253);
        w->name = kubernetes_pstr(p, kubernetes_s(meta, "name"), 253);
        comp = kubernetes_component_of(comps, kubernetes_get(meta, "labels"));
        if (!comp)
                comp = kubernetes_component_of(
                        comps, kubernetes_get(kubernetes_get(kubernetes_get(spec, "template"),
                                                             "metadata"), "labels"));
        w->component = comp;
        /* Zero-valued fields are omitted (omitempty): missing is 0. */
        w->desired = kubernetes_int(spec, "replicas", 0);
        w->ready = kubernetes_int(status, "readyReplicas", 0);
        w->updated = kubernetes_int(status, "updatedReplicas", 0);
        w->available = kubernetes_int(status, "availableReplicas", 0);
        w->created_ms = kubernetes_time(meta, "creationTimestamp");
}

struct kubernetes_workload *kubernetes_workload_make(const cJSON *obj, const char *kind,
                                                     const struct kubernetes_components *comps)
{
        const cJSON *meta = kubernetes_meta(obj);
        struct kubernetes_workload tmp, *w;
        struct ks_pack p = { 0 };
        const char *k = kubernetes_s(obj, "kind");

        if (!meta)
                return NULL;
        /* List items carry no kind; watch objects do. */
        if (k && strcmp(k, "StatefulSet") == 0)
                kind = "StatefulSet";
        else if (k && strcmp(k, "Deployment") == 0)
                kind = "Deployment";
        if (!kind)
                return NULL;
        kind = strcmp(kind, "StatefulSet") == 0 ? "StatefulSet" : "Deployment";
        memset(&tmp, 0, sizeof tmp);
        kubernetes_wl_fill(&p, obj, meta, kind, comps, &tmp);
        w = kubernetes_palloc(&p, sizeof *w);
        kubernetes_wl_fill(&p, obj, meta, kind, comps, w);
        atomic_init(&w->refs, 1);
        return w;
}

static void kubernetes_pvc_fill(struct ks_pack *p, const cJSON *obj, const cJSON *meta,
                                const struct kubernetes_components *comps, struct kubernetes_pvc *v)
{
        const cJSON *spec = kubernetes_get(obj, "spec"), *status = kubernetes_get(obj, "status");

        v->ns = kubernetes_pstr(p, kubernetes_s(meta, "namespace"), 253);
        v->name = kubernetes_pstr(p, kubernetes_s(meta, "name"), 253);
        v->component = kubernetes_component_of(comps, kubernetes_get(meta, "labels"));
        v->phase = kubernetes_pstr(p, kubernetes_s(status, "phase"), 32);
        v->capacity = kubernetes_qty(kubernetes_get(status, "capacity"), "storage");
        v->requested = kubernetes_qty(kubernetes_get(kubernetes_get(spec, "resources"), "requests"),
                                      "storage");
        v->storage_class = kubernetes_pstr(p, kubernetes_s(spec, "storageClassName"), 253);
        v->volume = kubernetes_pstr(p, kubernetes_s(spec, "volumeName"), 253);
        v->created_ms = kubernetes_time(meta, "creationTimestamp");
}

struct kubernetes_pvc *kubernetes_pvc_make(const cJSON *obj,
                                           const struct kubernetes_components *comps)
{
        const cJSON *meta = kubernetes_meta(obj);
        struct kubernetes_pvc tmp, *v;
        struct ks_pack p = { 0 };

        if (!meta)
                return NULL;
        memset(&tmp, 0, sizeof tmp);
        kubernetes_pvc_fill(&p, obj, meta, comps, &tmp);
        v = kubernetes_palloc(&p, sizeof *v);
        kubernetes_pvc_fill(&p, obj, meta, comps, v);
        atomic_init(&v->refs, 1);
        return v;
}

static void kubernetes_event_fill(struct ks_pack *p, const cJSON *obj, const cJSON *meta,
                                  struct kubernetes_event *e)
{
        const cJSON *inv = kubernetes_get(obj, "involvedObject");
        const cJSON *series = kubernetes_get(obj, "series");
        int c;

        if (!cJSON_IsObject(inv))
                inv = kubernetes_get(obj, "regarding");         /* events.k8s.io/v1 shape */
        e->ns = kubernetes_pstr(p, kubernetes_s(meta, "namespace"), 253);
        e->name = kubernetes_pstr(p, kubernetes_s(meta, "name"), 253);
        e->object = kubernetes_pfmt2(p, kubernetes_s(inv, "kind"), kubernetes_s(inv, "name"));
        e->reason = kubernetes_pstr(p, kubernetes_s(obj, "reason"), 128);
        e->message = kubernetes_pstr(p, kubernetes_s(obj, "message") ? kubernetes_s(obj, "message")
                                                     : kubernetes_s(obj, "note"), 512);
        c = kubernetes_int(obj, "count", -1);
        if (c < 0)
                c = kubernetes_int(series, "count", -1);
        if (c < 0)
                c = kubernetes_int(obj, "deprecatedCount", -1);
        e->count = c;
        /* lastTimestamp is null for new-style events: then the series' last
         * observation, then the event's own time. */
        e->last_seen_ms = kubernetes_time(obj, "lastTimestamp");
        if (e->last_seen_ms < 0)
                e->last_seen_ms = kubernetes_time(series, "lastObservedTime");
        if (e->last_seen_ms < 0)
                e->last_seen_ms = kubernetes_time(obj, "eventTime");
        if (e->last_seen_ms < 0)
                e->last_seen_ms = kubernetes_time(obj, "deprecatedLastTimestamp");
}

struct kubernetes_event *kubernetes_event_make(const cJSON *obj)
{
        const cJSON *meta = kubernetes_meta(obj);
        struct kubernetes_event tmp, *e;
        struct ks_pack p = { 0 };
        const char *type = kubernetes_s(obj, "type");

        /* The fieldSelector asks for Warnings; a server ignoring it must not
         * fill the list with Normal events. */
        if (!meta || (type && strcmp(type, "Warning") != 0))
                return NULL;
        memset(&tmp, 0, sizeof tmp);
        kubernetes_event_fill(&p, obj, meta, &tmp);
        e = kubernetes_palloc(&p, sizeof *e);
        kubernetes_event_fill(&p, obj, meta, e);
        atomic_init(&e->refs, 1);
        return e;
}

static void kubernetes_rel_fill(struct ks_pack *p, const cJSON *meta, const cJSON *labels,
                                struct kubernetes_release *r)
{
        const char *v = kubernetes_s(labels, "version");
        char *end = NULL;
        long n = v ? strtol(v, &end, 10) : -1;

        r->ns = kubernetes_pstr(p, kubernetes_s(meta, "namespace"), 253);
        r->name = kubernetes_pstr(p, kubernetes_s(labels, "name"), 253);
        r->status = kubernetes_pstr(p, kubernetes_s(labels, "status"), 32);
        r->revision = v && end && !*end && n >= 0 && n <= 1000000000 ? (int)n : -1;
        r->created_ms = kubernetes_time(meta, "creationTimestamp");
}

struct kubernetes_release *kubernetes_release_make(const cJSON *obj)
{
        const cJSON *meta = kubernetes_meta(obj), *labels = kubernetes_get(meta, "labels");
        struct kubernetes_release tmp, *r;
        struct ks_pack p = { 0 };
        const char *owner = kubernetes_s(labels, "owner");

        if (!meta || !owner || strcmp(owner, "helm") != 0 || !kubernetes_s(labels, "name"))
                return NULL;
        memset(&tmp, 0, sizeof tmp);
        kubernetes_rel_fill(&p, meta, labels, &tmp);
        r = kubernetes_palloc(&p, sizeof *r);
        kubernetes_rel_fill(&p, meta, labels, r);
        atomic_init(&r->refs, 1);
        return r;
}
