/*
 * kubeact: the kubectl/helm actions of `kind: kubernetes` and `kind: spark`
 * sources, and the user-defined actions of the config's `actions:` list
 * (docs/actions.md).
 *
 * Every action is a plan of argv steps (action_plan_add_argv) run by
 * action_run_cmds through src/core/subproc.h -- never a shell: each word of a
 * target, an argument or a template reaches the program unchanged. Every
 * kubectl argv carries --kubeconfig (when the source sets one) and
 * --context (the source's, or the kubeconfig's current-context), and helm
 * --kube-context, so nothing depends on ambient state. The plan's context
 * is what a dangerous action asks to be typed.
 *
 * Targets (the row ids of the panes): kubernetes "NAMESPACE/KIND/NAME"
 * (KIND pod, statefulset, deployment, pvc, release) or "node/NAME"; spark
 * "NAMESPACE/NAME" of a SparkApplication.
 *
 * Pure apart from prepare (which may read the kubeconfig and, for resubmit
 * and driver-logs, run `kubectl get -o json`). Any thread but the UI's for
 * prepare/run; the rest any thread.
 */
#ifndef LO_SRC_KUBEACT_H
#define LO_SRC_KUBEACT_H

#include <stdbool.h>
#include <stddef.h>

#include "actions/action.h"
#include "core/config.h"
#include "core/util.h"

/* NULL-name-terminated tables for collector_ops.actions. */
extern const struct action_def kube_actions[];
extern const struct action_def spark_actions[];

/* The action plug-ins of the two kinds (collector_ops.action_kind):
 * Kubernetes owns the config's `actions:` list and reads its connection's
 * context for the TUI's danger warning; Spark's actions work through its
 * `kubernetes:` source. */
extern const struct action_kind kubeact_kube_kind;
extern const struct action_kind kubeact_spark_kind;

/* Lines of `kubectl logs --tail=N`. */
#define KUBEACT_LOG_TAIL 2000

/* A parsed row target. */
struct kubeact_target {
        char ns[254];           /* "" for nodes */
        char kind[32];          /* pod, statefulset, ..., node, sparkapplication */
        char name[254];
};

/* Parses target for an action of `scope` ("sparkapplication" reads
 * "NAMESPACE/NAME"; otherwise "NAMESPACE/KIND/NAME" or "node/NAME").
 * 0, or -1 with err. Pure. */
int kubeact_target_parse(const char *scope, const char *target, struct kubeact_target *t,
                         struct err *err);
/* True when d is a kubectl/helm or user-defined action and the target's
 * kind is in its scope, or d is any other action (REST actions have no
 * kinds); false with "restart applies to statefulset, deployment (this is
 * a pod)". Pure. */
bool kubeact_target_ok(const struct action_def *d, const char *target, struct err *err);

/* The kubeconfig (NULL = kubectl's default) and context of a kubernetes
 * source, or of a spark source through its `kubernetes:` source. The
 * context is the configured one, else the kubeconfig's current-context
 * (read with kube_config_load). Owned strings; 0 or -1 with err. */
int kubeact_source_conn(const struct source_cfg *src, char **kubeconfig, char **context,
                        struct err *err);
/* Only the configured context of a kubernetes or spark source (no file
 * read), or NULL. Borrowed. */
const char *kubeact_source_context_cfg(const struct source_cfg *src);

/* True when `context` matches one of cfg->danger_contexts (fnmatch); the
 * same as action_context_dangerous. */
bool kubeact_context_dangerous(const struct config *cfg, const char *context);

/* The variables of a user-defined argv template. */
struct kubeact_vars {
        const char *namespace_, *name, *kind, *context, *kubeconfig, *source, *arg;
};
/* One word with every ${namespace} ${name} ${kind} ${context}
 * ${kubeconfig} ${source} ${arg} replaced by its value -- the result is
 * still ONE word, whatever the values contain. Owned, or NULL with err
 * ("unknown variable ${x}", "unterminated ${"). vars may be NULL to only
 * check the word. Pure. */
char *kubeact_subst(const char *word, const struct kubeact_vars *vars, struct err *err);

/* Checks a config `actions:` entry: name (letters, digits, '-', '_', not a
 * built-in), scope, key (one character), argv (not empty, known
 * variables). -1 with err and *key set to the offending key name. */
int kubeact_user_check(const struct cfg_action *a, const char **key, struct err *err);
/* The action table of cfg's `actions:` (owned; free()), NULL when none.
 * Called by the config loader. */
const struct action_def *kubeact_user_defs(const struct config *cfg);
/* True when d is a user-defined action for sources of kind src_kind. */
bool kubeact_user_applies(const struct action_def *d, const char *src_kind);

/* `scale`'s argument: a replica count 0..1000000. */
int kubeact_check_replicas(const struct action_def *d, const char *arg, struct err *err);

#endif
