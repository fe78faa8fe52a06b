/*
 * Unit tests for collectors/kubernetes/kubeact.c: the exact argv of every built-in kubectl
 * and helm action and of user-defined templates (a pod named with shell
 * metacharacters reaches kubectl as one unchanged word), ${...}
 * substitution per word (values are never re-split or re-expanded), the
 * config errors of `actions:` (unknown variable, scope, key, name), the
 * scale/rollback argument checks, scopes, targets, danger_contexts
 * matching and the config-aware action lookup. Nothing runs: the plans are
 * only built (prepare), with dry_run for the spark actions that would
 * otherwise read the object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/action.h"
#include "core/config.h"
#include "collectors/kubernetes/kubeact.h"
#include "core/util.h"

static const char cfg_yaml[] =
        "environment: test\n"
        "kubectl: /opt/k/kubectl\n"
        "helm: /opt/h/helm\n"
        "kubectl_cache_dir: /tmp/lo-cache\n"
        "danger_contexts: [\"prod-*\", live]\n"
        "actions:\n"
        "  - name: describe\n"
        "    scope: pod\n"
        "    key: d\n"
        "    mutating: false\n"
        "    confirm: false\n"
        "    argv: [kubectl, --context, \"${context}\", -n, \"${namespace}\", describe,\n"
        "           \"pod/${name}\"]\n"
        "  - name: annotate\n"
        "    title: annotate with a note\n"
        "    scope: deployment\n"
        "    key: A\n"
        "    dangerous: true\n"
        "    argv: [/usr/local/bin/kctl, annotate, \"${kind}/${name}\", \"note=${arg}\",\n"
        "           \"--context=${context}\", \"${kubeconfig}\"]\n"
        "  - name: tag\n"
        "    scope: deployment\n"
        "    argv: [kubectl, --context, \"${context}\", -n, \"${namespace}\", label,\n"
        "           \"${kind}/${name}\", \"${arg}\"]\n"
        "  - name: tag-safe\n"
        "    scope: deployment\n"
        "    argv: [kubectl, --context, \"${context}\", -n, \"${namespace}\", label,\n"
        "           \"${kind}/${name}\", --, \"${arg}\"]\n"
        "  - name: app-info\n"
        "    scope: sparkapplication\n"
        "    key: i\n"
        "    argv: [helm, \"${source}\", \"${namespace}/${name}\", \"${kind}\"]\n"
        "sources:\n"
        "  - name: k8s\n"
        "    kind: kubernetes\n"
        "    kubeconfig: /etc/kc.yaml\n"
        "    context: prod-eu\n"
        "  - name: spk\n"
        "    kind: spark\n"
        "    kubernetes: k8s\n";

struct fx {
        struct config *cfg;
        const struct source_cfg *k8s, *spk;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof *f);
        struct err e;

        err_clear(&e);
        f->cfg = config_load_string(cfg_yaml, strlen(cfg_yaml), "t.yaml", &e);
        if (!f->cfg) {
                fprintf(stderr, "config: %s\n", e.msg);
                free(f);
                return -1;
        }
        f->k8s = config_source(f->cfg, "k8s");
        f->spk = config_source(f->cfg, "spk");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fx *f = *state;

        config_free(f->cfg);
        free(f);
        return 0;
}

/* Prepares `name` on target with arg; asserts success; the plan is owned
 * by the caller. */
static void prep(const struct fx *f, const struct source_cfg *src, const char *name,
                 const char *target, const char *arg, bool dry, struct action_plan *p)
{
        const struct action_def *d = action_lookup(f->cfg, src, name);
        struct err e;
        int rc;

        assert_non_null(d);
        err_clear(&e);
        rc = action_prepare(d, src, target, arg, dry, p, &e);
        if (rc != 0)
                fprintf(stderr, "prepare %s %s: %s\n", name, target, e.msg);
        assert_int_equal(rc, 0);
}

/* The prepare of `name` fails with a message containing `want`. */
static void prep_fails(const struct fx *f, const struct source_cfg *src, const char *name,
                       const char *target, const char *arg, const char *want)
{
        const struct action_def *d = action_lookup(f->cfg, src, name);
        struct action_plan p;
        struct err e;

        assert_non_null(d);
        err_clear(&e);
        assert_int_equal(action_prepare(d, src, target, arg, true, &p, &e), -1);
        if (!strstr(e.msg, want))
                fprintf(stderr, "got \"%s\", want \"%s\"\n", e.msg, want);
        assert_non_null(strstr(e.msg, want));
}

/* Command i of the plan equals the NULL-terminated words. */
static void argv_is(const struct action_plan *p, size_t i, const char *const *want)
{
        size_t n = 0;

        assert_true(i < p->n_cmds);
        while (want[n])
                n++;
        for (size_t k = 0; k < n && k < p->cmds[i].argc; k++)
                assert_string_equal(p->cmds[i].argv[k], want[k]);
        assert_int_equal(p->cmds[i].argc, n);
        assert_null(p->cmds[i].argv[n]);
}

#define KPRE "/opt/k/kubectl", "--kubeconfig", "/etc/kc.yaml", "--context", "prod-eu", \
             "--cache-dir", "/tmp/lo-cache"

static void test_restart(void **state)
{
        const struct fx *f = *state;
        struct action_plan p;
        static const char *const want[] = { KPRE, "-n", "ingestion", "rollout", "restart",
                                            "statefulset/kafka", NULL };
        static const char *const want2[] = { KPRE, "-n", "web", "rollout", "restart",
                                             "deployment/connect", NULL };

        prep(f, f->k8s, "restart", "ingestion/statefulset/kafka", NULL, false, &p);
        assert_int_equal(p.n_cmds, 1);
        argv_is(&p, 0, want);
        assert_string_equal(p.context, "prod-eu");
        assert_int_equal(p.cmds[0].timeout_ms, ACTION_CMD_TIMEOUT_MS);
        action_plan_done(&p);
        prep(f, f->k8s, "restart", "web/deployment/connect", NULL, false, &p);
        argv_is(&p, 0, want2);
        action_plan_done(&p);
        /* Scope: not on a pod, a PVC or a node. */
        prep_fails(f, f->k8s, "restart", "ingestion/pod/kafka-0", NULL,
                   "restart applies to statefulset/deployment (this is a pod)");
        prep_fails(f, f->k8s, "restart", "node/node-1", NULL, "(this is a node)");
        prep_fails(f, f->k8s, "restart", "kafka", NULL, "expected NAMESPACE/KIND/NAME");
        prep_fails(f, f->k8s, "restart", "ingestion/statefulset/-kafka", NULL,
                   "may not start with '-'");
}

static void test_scale(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d = action_lookup(f->cfg, f->k8s, "scale");
        struct action_plan p;
        struct err e;
        static const char *const want[] = { KPRE, "-n", "ingestion", "scale",
                                            "statefulset/kafka", "--replicas=5", NULL };
        static const char *const bad[] = { "", "-1", "3x", " 3", "1e3", "+2", "0x10",
                                           "1000001", "99999999999999999999" };

        assert_non_null(d);
        assert_true(d->flags & ACTION_F_ARG);
        assert_false(d->flags & ACTION_F_ARG_OPT);
        assert_string_equal(d->arg_label, "replicas");
        prep(f, f->k8s, "scale", "ingestion/statefulset/kafka", "5", false, &p);
        argv_is(&p, 0, want);
        action_plan_done(&p);
        prep(f, f->k8s, "scale", "ingestion/statefulset/kafka", "0", false, &p);
        assert_string_equal(p.cmds[0].argv[p.cmds[0].argc - 1], "--replicas=0");
        action_plan_done(&p);
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                err_clear(&e);
                assert_int_equal(kubeact_check_replicas(d, bad[i], &e), -1);
                assert_non_null(strstr(e.msg, "replicas"));
        }
        err_clear(&e);
        assert_int_equal(kubeact_check_replicas(d, "1000000", &e), 0);
        prep_fails(f, f->k8s, "scale", "ingestion/statefulset/kafka", "-1",
                   "is not a non-negative integer");
        prep_fails(f, f->k8s, "scale", "ingestion/statefulset/kafka", NULL,
                   "scale needs an argument: replicas");
}

static void test_delete_metachars(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d = action_lookup(f->cfg, f->k8s, "delete");
        struct action_plan p;
        static const char *const want[] = { KPRE, "-n", "ingestion", "delete",
                                            "pod/x; rm -rf ~ $(id) `id` 'q' \"d\" | cat &",
                                            "--wait=false", NULL };
        char *text;

        assert_true(d->flags & ACTION_F_DANGEROUS);
        assert_true(d->flags & ACTION_F_MUTATING);
        prep(f, f->k8s, "delete", "ingestion/pod/x; rm -rf ~ $(id) `id` 'q' \"d\" | cat &",
             NULL, false, &p);
        argv_is(&p, 0, want);
        /* The display quotes it as one word. */
        text = action_plan_text(&p);
        assert_non_null(strstr(text, "'pod/x; rm -rf ~ $(id) `id` '\\''q'\\'' \"d\" | cat &'"));
        assert_non_null(strstr(text, "context: prod-eu"));
        free(text);
        action_plan_done(&p);
        prep_fails(f, f->k8s, "delete", "ingestion/statefulset/kafka", NULL,
                   "delete applies to pod");
}

static void test_logs(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d = action_lookup(f->cfg, f->k8s, "logs");
        struct action_plan p;
        static const char *const want[] = { KPRE, "-n", "ingestion", "logs", "pod/kafka-2",
                                            "--tail=2000", NULL };
        static const char *const want_prev[] = { KPRE, "-n", "ingestion", "logs",
                                                 "pod/kafka-2", "--tail=2000", "--previous",
                                                 "-c", "broker", NULL };

        assert_false(d->flags & ACTION_F_MUTATING);
        assert_true(d->flags & ACTION_F_NOCONFIRM);
        assert_true(d->flags & ACTION_F_TAIL);
        prep(f, f->k8s, "logs", "ingestion/pod/kafka-2", NULL, false, &p);
        argv_is(&p, 0, want);
        assert_int_equal(p.cmds[0].timeout_ms, 30000);
        action_plan_done(&p);
        prep(f, f->k8s, "logs-previous", "ingestion/pod/kafka-2", "broker", false, &p);
        argv_is(&p, 0, want_prev);
        action_plan_done(&p);
        prep_fails(f, f->k8s, "logs", "ingestion/pod/kafka-2", "--all", "looks like an option");
}

static void test_helm(void **state)
{
        const struct fx *f = *state;
        struct action_plan p;
        static const char *const rb[] = { "/opt/h/helm", "rollback", "airflow", "-n",
                                          "processing", "--kube-context", "prod-eu",
                                          "--kubeconfig", "/etc/kc.yaml", "--wait", NULL };
        static const char *const rb3[] = { "/opt/h/helm", "rollback", "airflow", "3", "-n",
                                           "processing", "--kube-context", "prod-eu",
                                           "--kubeconfig", "/etc/kc.yaml", "--wait", NULL };
        static const char *const up[] = { "/opt/h/helm", "upgrade", "airflow",
                                          "apache-airflow/airflow", "--reuse-values", "-n",
                                          "processing", "--kube-context", "prod-eu",
                                          "--kubeconfig", "/etc/kc.yaml", NULL };

        assert_true(action_lookup(f->cfg, f->k8s, "rollback")->flags & ACTION_F_DANGEROUS);
        assert_true(action_lookup(f->cfg, f->k8s, "upgrade")->flags & ACTION_F_DANGEROUS);
        prep(f, f->k8s, "rollback", "processing/release/airflow", NULL, false, &p);
        argv_is(&p, 0, rb);
        action_plan_done(&p);
        prep(f, f->k8s, "rollback", "processing/release/airflow", "3", false, &p);
        argv_is(&p, 0, rb3);
        action_plan_done(&p);
        prep(f, f->k8s, "upgrade", "processing/release/airflow", "apache-airflow/airflow",
             false, &p);
        argv_is(&p, 0, up);
        assert_string_equal(p.context, "prod-eu");
        action_plan_done(&p);
        prep_fails(f, f->k8s, "rollback", "processing/release/airflow", "x1",
                   "is not a revision number");
        prep_fails(f, f->k8s, "rollback", "processing/release/airflow", "0", "1 or more");
        prep_fails(f, f->k8s, "upgrade", "processing/release/airflow", NULL,
                   "upgrade needs an argument: chart");
        prep_fails(f, f->k8s, "upgrade", "processing/release/airflow", "--set=x",
                   "looks like an option");
        prep_fails(f, f->k8s, "upgrade", "processing/deployment/airflow", "c",
                   "upgrade applies to release");
}

static void test_spark_dry(void **state)
{
        const struct fx *f = *state;
        struct action_plan p;
        static const char *const del[] = { KPRE, "-n", "processing", "delete",
                                           "sparkapplication/speed-layer", "--wait=true",
                                           NULL };
        static const char *const create[] = { KPRE, "-n", "processing", "create", "-f",
                                              "<private temp dir>/sparkapplication.json",
                                              NULL };
        static const char *const logs[] = { KPRE, "-n", "processing", "logs",
                                            "pod/speed-layer-driver", "--tail=2000", NULL };

        assert_non_null(f->spk);
        assert_true(action_lookup(f->cfg, f->spk, "resubmit")->flags & ACTION_F_DANGEROUS);
        /* The spark source acts through its kubernetes source's connection. */
        prep(f, f->spk, "resubmit", "processing/speed-layer", NULL, true, &p);
        assert_int_equal(p.n_cmds, 2);
        argv_is(&p, 0, del);
        argv_is(&p, 1, create);
        assert_string_equal(p.context, "prod-eu");
        assert_null(p.priv);            /* nothing written in a dry run */
        action_plan_done(&p);
        prep(f, f->spk, "driver-logs", "processing/speed-layer", NULL, true, &p);
        argv_is(&p, 0, logs);
        action_plan_done(&p);
        prep_fails(f, f->spk, "resubmit", "processing/x/speed-layer", NULL,
                   "expected NAMESPACE/NAME");
}

static void test_user_actions(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d;
        struct action_plan p;
        static const char *const desc[] = { "/opt/k/kubectl", "--context", "prod-eu", "-n",
                                            "ingestion", "describe",
                                            "pod/a b;$(rm -rf x)${name}", NULL };
        static const char *const ann[] = { "/usr/local/bin/kctl", "annotate",
                                           "deployment/connect",
                                           "note=two words; `id` ${context}",
                                           "--context=prod-eu", "/etc/kc.yaml", NULL };
        static const char *const info[] = { "/opt/h/helm", "spk", "processing/speed-layer",
                                            "sparkapplication", NULL };

        d = action_lookup(f->cfg, f->k8s, "describe");
        assert_non_null(d);
        assert_int_equal(d->key, 'd');
        assert_false(d->flags & ACTION_F_MUTATING);
        assert_true(d->flags & ACTION_F_NOCONFIRM);
        assert_false(d->flags & ACTION_F_ARG);
        /* A value that looks like a variable is not expanded again. */
        prep(f, f->k8s, "describe", "ingestion/pod/a b;$(rm -rf x)${name}", NULL, false, &p);
        argv_is(&p, 0, desc);
        assert_string_equal(p.context, "prod-eu");
        action_plan_done(&p);

        d = action_lookup(f->cfg, f->k8s, "annotate");
        assert_string_equal(d->title, "annotate with a note");
        assert_true(d->flags & ACTION_F_MUTATING);      /* the default */
        assert_true(d->flags & ACTION_F_DANGEROUS);
        assert_false(d->flags & ACTION_F_NOCONFIRM);    /* confirm defaults to true */
        assert_true(d->flags & ACTION_F_ARG);           /* it uses ${arg} */
        prep(f, f->k8s, "annotate", "web/deployment/connect", "two words; `id` ${context}",
             false, &p);
        argv_is(&p, 0, ann);
        action_plan_done(&p);
        prep_fails(f, f->k8s, "annotate", "web/deployment/connect", NULL,
                   "needs an argument");
        prep_fails(f, f->k8s, "annotate", "web/pod/connect", "x",
                   "annotate applies to deployment (this is a pod)");

        /* Scopes pick the kind: pod actions on kubernetes, sparkapplication
         * ones on spark sources. */
        assert_null(action_lookup(f->cfg, f->spk, "describe"));
        assert_null(action_lookup(f->cfg, f->k8s, "app-info"));
        prep(f, f->spk, "app-info", "processing/speed-layer", NULL, false, &p);
        argv_is(&p, 0, info);
        action_plan_done(&p);
}

/* Option injection: a value that begins with '-' at the start of a word
 * before the template's "--" is refused before anything runs, naming the
 * value and the fix; after "--", or behind literal text, it is an operand. */
static void test_option_injection(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d = action_lookup(f->cfg, f->k8s, "tag");
        const char *want = "argument \"--kubeconfig=/x\" begins with '-' and kubectl would "
                           "read it as an option: refused; put \"--\" before ${arg} in the "
                           "argv of action tag to pass it as an operand";
        static const char *const tag[] = { "/opt/k/kubectl", "--context", "prod-eu", "-n",
                                           "ns", "label", "deployment/web", "team=a", NULL };
        static const char *const safe[] = { "/opt/k/kubectl", "--context", "prod-eu", "-n",
                                            "ns", "label", "deployment/web", "--",
                                            "--kubeconfig=/x", NULL };
        static const char *const note[] = { "/usr/local/bin/kctl", "annotate",
                                            "deployment/web", "note=-x",
                                            "--context=prod-eu", "/etc/kc.yaml", NULL };
        static const char yaml[] =
                "actions:\n"
                "  - name: pods\n"
                "    scope: node\n"
                "    argv: [kubectl, --context, \"${context}\", get, pods]\n"
                "  - name: pods-eq\n"
                "    scope: node\n"
                "    argv: [kubectl, \"--context=${context}\", get, pods]\n"
                "sources:\n"
                "  - name: k\n"
                "    kind: kubernetes\n"
                "    context: -ctx\n";
        struct action_plan p;
        struct config *c;
        struct err e;

        assert_non_null(d);
        assert_non_null(d->check_arg);
        err_clear(&e);
        assert_int_equal(d->check_arg(d, "--kubeconfig=/x", &e), -1);
        assert_string_equal(e.msg, want);
        err_clear(&e);
        assert_int_equal(d->check_arg(d, "team=a", &e), 0);
        prep_fails(f, f->k8s, "tag", "ns/deployment/web", "--kubeconfig=/x", want);
        prep_fails(f, f->k8s, "tag", "ns/deployment/web", "-l", "argument \"-l\" begins");
        prep(f, f->k8s, "tag", "ns/deployment/web", "team=a", true, &p);
        argv_is(&p, 0, tag);
        action_plan_done(&p);

        /* After the template's own "--" it is an operand. */
        d = action_lookup(f->cfg, f->k8s, "tag-safe");
        err_clear(&e);
        assert_int_equal(d->check_arg(d, "--kubeconfig=/x", &e), 0);
        prep(f, f->k8s, "tag-safe", "ns/deployment/web", "--kubeconfig=/x", true, &p);
        argv_is(&p, 0, safe);
        action_plan_done(&p);

        /* Behind literal text ("note=${arg}") it cannot be an option. */
        prep(f, f->k8s, "annotate", "ns/deployment/web", "-x", true, &p);
        argv_is(&p, 0, note);
        action_plan_done(&p);

        /* Any variable: a context that begins with '-' as a whole word. */
        err_clear(&e);
        c = config_load_string(yaml, strlen(yaml), "t.yaml", &e);
        assert_non_null(c);
        d = action_lookup(c, config_source(c, "k"), "pods");
        err_clear(&e);
        assert_int_equal(action_prepare(d, config_source(c, "k"), "node/n1", NULL, true, &p,
                                        &e), -1);
        assert_string_equal(e.msg, "${context} is \"-ctx\", which begins with '-', and "
                            "kubectl would read it as an option: refused; put \"--\" before "
                            "it in the argv of action pods");
        d = action_lookup(c, config_source(c, "k"), "pods-eq");
        err_clear(&e);
        assert_int_equal(action_prepare(d, config_source(c, "k"), "node/n1", NULL, true, &p,
                                        &e), 0);
        assert_string_equal(p.cmds[0].argv[1], "--context=-ctx");
        action_plan_done(&p);
        config_free(c);
}

static void test_lookup(void **state)
{
        const struct fx *f = *state;
        const struct action_def *d;
        struct err e;

        d = action_lookup_key(f->cfg, f->k8s, 'R', "ingestion/statefulset/kafka");
        assert_string_equal(d->name, "restart");
        assert_string_equal(action_lookup_key(f->cfg, f->k8s, 'l', "a/pod/b")->name, "logs");
        assert_string_equal(action_lookup_key(f->cfg, f->k8s, 'd', "a/pod/b")->name,
                            "describe");
        assert_string_equal(action_lookup_key(f->cfg, f->spk, 'R', "a/b")->name, "resubmit");
        assert_string_equal(action_lookup_key(f->cfg, f->spk, 'i', "a/b")->name, "app-info");
        assert_null(action_lookup_key(f->cfg, f->spk, 'd', "a/b"));
        assert_null(action_lookup(f->cfg, f->k8s, "nope"));
        /* Read-only refuses the mutating ones only. */
        err_clear(&e);
        assert_true(action_allowed(action_lookup(f->cfg, f->k8s, "logs"), true, &e));
        assert_true(action_allowed(action_lookup(f->cfg, f->k8s, "describe"), true, &e));
        assert_false(action_allowed(action_lookup(f->cfg, f->k8s, "restart"), true, &e));
        assert_false(action_allowed(action_lookup(f->cfg, f->spk, "resubmit"), true, &e));
        assert_true(action_allowed(action_lookup(f->cfg, f->spk, "driver-logs"), true, &e));
}

static void test_subst(void **state)
{
        struct kubeact_vars v = { .namespace_ = "ns", .name = "a b", .kind = "pod",
                                  .context = "c", .kubeconfig = "/k", .source = "s",
                                  .arg = "${name}" };
        struct err e;
        char *w;

        (void)state;
        err_clear(&e);
        w = kubeact_subst("${namespace}/${name}:${kind}@${context}${kubeconfig}.${source}=${arg}",
                          &v, &e);
        assert_string_equal(w, "ns/a b:pod@c/k.s=${name}");
        free(w);
        w = kubeact_subst("plain $HOME $ {x} $", &v, &e);
        assert_string_equal(w, "plain $HOME $ {x} $");
        free(w);
        assert_null(kubeact_subst("x${nmae}y", &v, &e));
        assert_non_null(strstr(e.msg, "unknown variable ${nmae}"));
        err_clear(&e);
        assert_null(kubeact_subst("x${name", &v, &e));
        assert_non_null(strstr(e.msg, "unterminated ${"));
}

/* Config errors of `actions:` entries carry FILE:LINE:COL. */
static void test_config_errors(void **state)
{
        static const struct {
                const char *entry, *want;
        } cases[] = {
                { "  - {name: x, scope: pod, argv: [kubectl, \"${podname}\"]}\n",
                  "t.yaml:2:43: actions[0].argv[1]: unknown variable ${podname} (known: "
                  "${namespace}, ${name}, ${kind}, ${context}, ${kubeconfig}, ${source}, "
                  "${arg})" },
                { "  - {name: x, scope: service, argv: [kubectl]}\n",
                  "t.yaml:2:22: actions[0].scope: \"service\" is not one of pod, statefulset, "
                  "deployment, release, sparkapplication, node" },
                { "  - {name: restart, scope: pod, argv: [kubectl]}\n",
                  "t.yaml:2:12: actions[0].name: \"restart\" is a built-in action" },
                { "  - {name: x, scope: statefulset, key: R, argv: [kubectl]}\n",
                  "t.yaml:2:40: actions[0].key: 'R' is the built-in action restart on a "
                  "statefulset" },
                { "  - {name: x, scope: pod, key: xy, argv: [kubectl]}\n",
                  "t.yaml:2:32: actions[0].key: \"xy\" must be one printable character" },
                { "  - {name: x, scope: pod, key: q, argv: [kubectl]}\n",
                  "t.yaml:2:32: actions[0].key: 'q' is a global key" },
                { "  - {name: x, scope: pod, argv: []}\n",
                  "t.yaml:2:33: actions[0].argv: must name a program" },
                { "  - {name: x, scope: pod, argv: [\"${arg}\"]}\n",
                  "t.yaml:2:34: actions[0].argv[0]: the program must be written out, not a "
                  "variable" },
                { "  - {name: \"a b\", scope: pod, argv: [k]}\n",
                  "t.yaml:2:12: actions[0].name: \"a b\": use letters, digits, '-' and '_'" },
                { "  - {scope: pod, argv: [k]}\n",
                  "t.yaml:2:5: actions[0]: missing required key \"name\"" },
                { "  - {name: x, scope: pod, argv: [k], confrim: false}\n",
                  "t.yaml:2:38: actions[0]: unknown key \"confrim\" (did you mean "
                  "\"confirm\"?)" },
                { "  - {name: x, scope: pod, argv: [k]}\n  - {name: x, scope: node, "
                  "argv: [k]}\n",
                  "t.yaml:3:12: actions[1].name: duplicate \"x\" (first defined at line 2)" },
        };

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(cases); i++) {
                char *y = xasprintf("actions:\n%s", cases[i].entry);
                struct err e;
                struct config *c;

                err_clear(&e);
                c = config_load_string(y, strlen(y), "t.yaml", &e);
                if (c || strcmp(e.msg, cases[i].want) != 0)
                        fprintf(stderr, "case %zu:\n  got  %s\n  want %s\n", i, e.msg,
                                cases[i].want);
                assert_null(c);
                assert_string_equal(e.msg, cases[i].want);
                free(y);
        }
}

static void test_danger_contexts(void **state)
{
        const struct fx *f = *state;

        assert_true(kubeact_context_dangerous(f->cfg, "prod-eu"));
        assert_true(kubeact_context_dangerous(f->cfg, "prod-"));
        assert_true(kubeact_context_dangerous(f->cfg, "live"));
        assert_false(kubeact_context_dangerous(f->cfg, "staging"));
        assert_false(kubeact_context_dangerous(f->cfg, "pre-prod-eu"));
        assert_false(kubeact_context_dangerous(f->cfg, "live-2"));
        assert_false(kubeact_context_dangerous(f->cfg, NULL));
        assert_false(kubeact_context_dangerous(NULL, "prod-eu"));
        assert_string_equal(kubeact_source_context_cfg(f->k8s), "prod-eu");
        assert_string_equal(kubeact_source_context_cfg(f->spk), "prod-eu");
}

static void test_targets(void **state)
{
        struct kubeact_target t;
        struct err e;

        (void)state;
        err_clear(&e);
        assert_int_equal(kubeact_target_parse("pod", "ns/pod/a", &t, &e), 0);
        assert_string_equal(t.ns, "ns");
        assert_string_equal(t.kind, "pod");
        assert_string_equal(t.name, "a");
        assert_int_equal(kubeact_target_parse("node", "node/n1", &t, &e), 0);
        assert_string_equal(t.ns, "");
        assert_string_equal(t.kind, "node");
        assert_string_equal(t.name, "n1");
        assert_int_equal(kubeact_target_parse("sparkapplication", "p/app", &t, &e), 0);
        assert_string_equal(t.ns, "p");
        assert_string_equal(t.kind, "sparkapplication");
        assert_string_equal(t.name, "app");
        assert_int_equal(kubeact_target_parse("pod", "ns//a", &t, &e), -1);
        assert_int_equal(kubeact_target_parse("pod", "/pod/a", &t, &e), -1);
        assert_int_equal(kubeact_target_parse("pod", "ns/pod/", &t, &e), -1);
        assert_int_equal(kubeact_target_parse("pod", "", &t, &e), -1);
        assert_int_equal(kubeact_target_parse("sparkapplication", "app", &t, &e), -1);
        /* The Spark pane's ScheduledSparkApplication rows. */
        assert_int_equal(kubeact_target_parse("sparkapplication", "scheduled:p/nightly", &t,
                                              &e), -1);
        assert_non_null(strstr(e.msg, "a ScheduledSparkApplication"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_scale, setup, teardown),
                cmocka_unit_test_setup_teardown(test_delete_metachars, setup, teardown),
                cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_spark_dry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_user_actions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_option_injection, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
                cmocka_unit_test(test_subst),
                cmocka_unit_test(test_config_errors),
                cmocka_unit_test_setup_teardown(test_danger_contexts, setup, teardown),
                cmocka_unit_test(test_targets),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
