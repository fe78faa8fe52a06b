/* spark_int.h: private to the parts of spark (shared types and functions). */
#ifndef LO_COLLECTORS_SPARK_INT_H
#define LO_COLLECTORS_SPARK_INT_H

#include "collectors/spark/spark.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/collector.h"
#include "core/config.h"
#include "core/health.h"
#include "clients/http.h"
#include "core/jsonout.h"
#include "clients/kube/kube.h"
#include "collectors/kubernetes/kubeact.h"
#include "collectors/kubernetes/kubernetes.h"
#include "core/util.h"

#define SPARK_API "/apis/sparkoperator.k8s.io/v1beta2"
#define SPARK_MIN_SLICE_MS 200  /* a driver gets at least this much of the poll */
#define SPARK_NAME_MAX 253

/* spark_parse.c */
const char *spark_get_str(const cJSON *o, const char *k);
void spark_rest_jobs_done(struct spark_rest *r);
void spark_rest_stages_done(struct spark_rest *r);
void spark_rest_execs_done(struct spark_rest *r);
void spark_sched_copy(struct spark_sched *dst, const struct spark_sched *src);
void spark_streaming_init(struct spark_streaming *s, enum spark_stream_kind k);

#endif
