/*
 * libFuzzer target: the `kind: kubernetes` collector's model builders and
 * readers. The first byte picks the input's meaning: 0 -- a label selector
 * (matched against fixed labels and parsed as a component set); otherwise
 * -- JSON: one object or an array of objects, each fed to every builder
 * (pod, node, workload, PVC, event, Helm release) as an informer would,
 * then the published data is finished and read: the status JSON, alerts at
 * the default thresholds, the summary, and the Cluster pane's rows,
 * preamble and the detail page of every row. Objects may be anything.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/config.h"
#include "core/health.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/snapshot.h"
#include "core/util.h"
#include "views/view.h"
#include "views/cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *fz_cfg;
static struct kubernetes_components *fz_comps;

static void fz_init(void)
{
        static const char y[] =
                "sources:\n"
                "  - name: k\n"
                "    kind: kubernetes\n"
                "    components:\n"
                "      kafka: app.kubernetes.io/name=kafka\n"
                "      connect: app=kafka-connect,tier!=test\n"
                "      spark: spark-role,!skip\n";
        struct err e;

        if (fz_cfg)
                return;
        fz_cfg = config_load_string(y, strlen(y), "<fuzz>", &e);
        if (!fz_cfg)
                abort();
        fz_comps = kubernetes_components_new(
                &((struct kubernetes_cfg *)fz_cfg->sources[0].kind_cfg)->components, &e);
        if (!fz_comps)
                abort();
}

static void fz_selector(const char *s)
{
        cJSON *l = cJSON_Parse("{\"app\":\"kafka\",\"tier\":\"data\",\"a.b/c\":\"\"}");
        char *k = xstrdup("x"), *v = xstrdup(s);
        struct cfg_strmap m = { &k, &v, 1 };
        struct kubernetes_components *c;
        struct err e;

        (void)kubernetes_selector_match(s, l);
        c = kubernetes_components_new(&m, &e);
        if (c) {
                (void)kubernetes_component_of(c, l);
                kubernetes_components_free(c);
        }
        cJSON_Delete(l);
        free(k);
        free(v);
}

static void fz_object(struct kubernetes_data *d, const cJSON *o)
{
        static const char *const kinds[] = { "StatefulSet", "Deployment", NULL };

        kubernetes_data_add_pod(d, kubernetes_pod_make(o, fz_comps));
        kubernetes_data_add_node(d, kubernetes_node_make(o));
        for (size_t i = 0; i < 3; i++)
                kubernetes_data_add_workload(d, kubernetes_workload_make(o, kinds[i], fz_comps));
        kubernetes_data_add_pvc(d, kubernetes_pvc_make(o, fz_comps));
        kubernetes_data_add_event(d, kubernetes_event_make(o));
        kubernetes_data_add_release(d, kubernetes_release_make(o));
}

static void fz_views(struct kubernetes_data *d)
{
        const struct source_cfg *src = &fz_cfg->sources[0];
        struct snapshot *s = snapshot_new(src);
        const struct snapshot *snaps[1] = { s };
        struct view_data vd;
        struct table_rows r;
        struct tlines l;

        s->status = COLL_OK;
        s->collected_at = d->collected_ms;
        s->collected_mono = 1000;
        s->data = d;
        memset(&vd, 0, sizeof vd);
        vd.srcs = src;
        vd.snaps = snaps;
        vd.n = 1;
        vd.now_mono = 5000;
        vd.width = 120;
        for (unsigned show = 0; show < VIEW_CLUSTER__SHOWS; show++) {
                vd.flags = show | (show % 4u) << VIEW_CLUSTER_SORT_SHIFT;
                table_rows_init(&r);
                view_cluster_rows(&vd, &r);
                for (size_t i = 0; i < r.n && i < 16; i++) {
                        tlines_init(&l);
                        view_cluster_detail(&vd, r.v[i].id, &l);
                        tlines_done(&l);
                }
                table_rows_done(&r);
        }
        tlines_init(&l);
        view_cluster_preamble(&vd, &l);
        tlines_done(&l);
        s->data = NULL;         /* the caller frees d */
        snapshot_unref(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kubernetes_data *d;
        struct alert_list al;
        char *text, buf[512];
        cJSON *root, *o, *out;

        if (size == 0)
                return 0;
        fz_init();
        text = xstrndup((const char *)data + 1, size - 1);
        if (data[0] == 0) {
                fz_selector(text);
                free(text);
                return 0;
        }
        root = cJSON_Parse(text);
        free(text);
        if (!root)
                return 0;
        d = kubernetes_data_new();
        d->context = xstrdup("fuzz");
        d->collected_ms = 1714559400000;
        if (cJSON_IsArray(root)) {
                cJSON_ArrayForEach(o, root)
                        fz_object(d, o);
        } else {
                fz_object(d, root);
        }
        cJSON_Delete(root);
        kubernetes_data_finish(d);
        out = cJSON_CreateObject();
        fz_cfg->sources[0].ops->to_json(d, out);
        text = cJSON_PrintUnformatted(out);
        free(text);
        cJSON_Delete(out);
        alert_list_init(&al);
        fz_cfg->sources[0].ops->alerts(&fz_cfg->sources[0], d, &al);
        alert_list_done(&al);
        fz_cfg->sources[0].ops->summary(d, buf, sizeof buf);
        fz_views(d);
        kubernetes_data_free(d);
        return 0;
}
