/* airflow_int.h: private to the parts of airflow (shared types and functions). */
#ifndef LO_COLLECTORS_AIRFLOW_INT_H
#define LO_COLLECTORS_AIRFLOW_INT_H

#include "collectors/airflow/airflow.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "core/jsonout.h"
#include "core/ring.h"
#include "core/util.h"

#define AF_MAX_RUN_PAGES  5     /* per DAG and poll: 500 runs in 24 h is plenty */
#define AF_MAX_TASK_PAGES 5

#define AF_E_TRANSPORT 1001     /* no HTTP answer (err->msg says why) */
#define AF_E_BUDGET    1002     /* request budget used up */
#define AF_E_AUTH      1003
#define AF_E_HTTP      1004

struct af_hist {                /* per DAG, across polls */
        char   *dag_id;
        struct ring dur;        /* last-run durations, s; t = the run's end, wall ms */
        int64_t last_end;       /* end of the newest run pushed */
};

struct af_tcache {              /* failed TIs of a DAG's last failed run */
        char   *dag_id;
        char   *run_id;
        struct af_task *tasks;
        size_t  n;
};

struct af_state {
        const struct source_cfg *src;   /* borrowed; config outlives us */
        struct http_client *http;
        enum af_api api;
        char   *version;
        char   *token;                  /* v2 JWT, cached */
        int     requests;               /* this poll */
        int     budget;
        struct af_hist *hist;
        size_t  n_hist;
        struct af_tcache *tc;
        size_t  n_tc;
};

/* airflow.c */
const char *airflow_prefix(enum af_api api);
char *airflow_password(const struct af_cfg *c, struct err *err);
/* True when `user` is set: only then are credentials sent (Basic on v1,
 * the token of POST /auth/token on v2). */
bool airflow_has_user(const struct af_cfg *c);
int airflow_send(struct af_state *st, const struct coll_ctx *ctx, const char *method,
                 const char *path, const char *body, const char *bearer, const char *user,
                 const char *pw, struct http_response *resp, struct err *err);
int airflow_token(struct af_state *st, const struct coll_ctx *ctx, struct err *err);
int airflow_request(struct af_state *st, const struct coll_ctx *ctx, const char *method,
                    const char *rel, const char *body, struct http_response *resp,
                    struct err *err);
int airflow_get(struct af_state *st, const struct coll_ctx *ctx, const char *path,
                const char *what, struct http_response *resp, struct err *err);
int airflow_detect(struct af_state *st, const struct coll_ctx *ctx, struct err *err);
void *airflow_create(const struct source_cfg *src);
void airflow_destroy(void *state);

/* airflow_parse.c */
const char *airflow_jstr(const cJSON *o, const char *k);
cJSON *airflow_json(const char *body, size_t len, const char *what, struct err *err);
void airflow_task_done(struct af_task *t);
void airflow_dag_done(struct af_dag *g);

/* airflow_actions.c */
extern const struct action_def af_actions[];
extern const struct action_kind af_action_kind;

#endif
