/*
 * In-process mock Kafka cluster helpers. See tu_kafka.h.
 */
#include "tu_kafka.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "core/util.h"

/* ThreadSanitizer and librdkafka. Debian's librdkafka uses C11 threads
 * (thrd_create, mtx_lock, cnd_wait, call_once), which glibc implements on
 * its internal pthread functions, so TSan's pthread interceptors never see
 * them: it crashes in the first malloc of a thread it did not see start,
 * and it cannot see librdkafka's locks, so every hand-over through a
 * librdkafka queue looks like a race. Under TSan we interpose the C11
 * calls with pthread-based versions (the executable's definitions win over
 * libc's for librdkafka too), after which test_it_kafka runs with no report
 * and no suppression. Any binary that links tu_kafka.o gets this; nothing
 * changes in other builds. */
#if defined(__SANITIZE_THREAD__)
#define TU_KAFKA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TU_KAFKA_TSAN 1
#endif
#endif

#ifdef TU_KAFKA_TSAN
struct tu_thrd_start {
        thrd_start_t fn;
        void *arg;
};

static void *tu_thrd_trampoline(void *p)
{
        struct tu_thrd_start s = *(struct tu_thrd_start *)p;

        free(p);
        return (void *)(intptr_t)s.fn(s.arg);
}

static int tu_thrd_ret(int r)
{
        return r == 0 ? thrd_success : r == ETIMEDOUT ? thrd_timedout : r == EBUSY ? thrd_busy
               : r == ENOMEM || r == EAGAIN ? thrd_nomem : thrd_error;
}

int thrd_create(thrd_t *thr, thrd_start_t func, void *arg)
{
        struct tu_thrd_start *s = malloc(sizeof *s);
        int r;

        if (!s)
                return thrd_nomem;
        s->fn = func;
        s->arg = arg;
        r = pthread_create((pthread_t *)thr, NULL, tu_thrd_trampoline, s);
        if (r != 0)
                free(s);
        return tu_thrd_ret(r);
}

int thrd_join(thrd_t thr, int *res)
{
        void *ret;

        if (pthread_join((pthread_t)thr, &ret) != 0)
                return thrd_error;
        if (res)
                *res = (int)(intptr_t)ret;
        return thrd_success;
}

int thrd_detach(thrd_t thr)
{
        return tu_thrd_ret(pthread_detach((pthread_t)thr));
}

int mtx_init(mtx_t *m, int type)
{
        pthread_mutexattr_t a;
        int r;

        pthread_mutexattr_init(&a);
        if (type & mtx_recursive)
                pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        r = pthread_mutex_init((pthread_mutex_t *)m, &a);
        pthread_mutexattr_destroy(&a);
        return tu_thrd_ret(r);
}

int mtx_lock(mtx_t *m)
{
        return tu_thrd_ret(pthread_mutex_lock((pthread_mutex_t *)m));
}

int mtx_trylock(mtx_t *m)
{
        return tu_thrd_ret(pthread_mutex_trylock((pthread_mutex_t *)m));
}

int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict ts)
{
        return tu_thrd_ret(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

int mtx_unlock(mtx_t *m)
{
        return tu_thrd_ret(pthread_mutex_unlock((pthread_mutex_t *)m));
}

void mtx_destroy(mtx_t *m)
{
        pthread_mutex_destroy((pthread_mutex_t *)m);
}

int cnd_init(cnd_t *c)
{
        return tu_thrd_ret(pthread_cond_init((pthread_cond_t *)c, NULL));
}

int cnd_signal(cnd_t *c)
{
        return tu_thrd_ret(pthread_cond_signal((pthread_cond_t *)c));
}

int cnd_broadcast(cnd_t *c)
{
        return tu_thrd_ret(pthread_cond_broadcast((pthread_cond_t *)c));
}

int cnd_wait(cnd_t *c, mtx_t *m)
{
        return tu_thrd_ret(pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict ts)
{
        return tu_thrd_ret(pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, ts));
}

void cnd_destroy(cnd_t *c)
{
        pthread_cond_destroy((pthread_cond_t *)c);
}

void call_once(once_flag *flag, void (*func)(void))
{
        pthread_once((pthread_once_t *)flag, func);
}
#endif

/* The helpers' own clients never print either. */
static void tu_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

static rd_kafka_t *tu_kafka_client(const struct tu_kafka *k, rd_kafka_type_t type, const char *group)
{
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        char es[256];
        rd_kafka_t *rk;

        rd_kafka_conf_set_log_cb(c, tu_kafka_log);
        if ((k && rd_kafka_conf_set(c, "bootstrap.servers", k->bootstraps, es, sizeof es)) ||
            (group && (rd_kafka_conf_set(c, "group.id", group, es, sizeof es) ||
                       rd_kafka_conf_set(c, "enable.auto.commit", "false", es, sizeof es))) ||
            (type == RD_KAFKA_PRODUCER &&
             rd_kafka_conf_set(c, "linger.ms", "0", es, sizeof es))) {
                fprintf(stderr, "tu_kafka: conf: %s\n", es);
                rd_kafka_conf_destroy(c);
                return NULL;
        }
        rk = rd_kafka_new(type, c, es, sizeof es);
        if (!rk) {
                fprintf(stderr, "tu_kafka: rd_kafka_new: %s\n", es);
                rd_kafka_conf_destroy(c);
        }
        return rk;
}

int tu_kafka_start(struct tu_kafka *k, int n)
{
        const char *bs;

        memset(k, 0, sizeof *k);
        k->rk = tu_kafka_client(NULL, RD_KAFKA_PRODUCER, NULL);
        if (!k->rk)
                return -1;
        k->mc = rd_kafka_mock_cluster_new(k->rk, n);
        if (!k->mc) {
                fprintf(stderr, "tu_kafka: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(k->rk);
                k->rk = NULL;
                return -1;
        }
        bs = rd_kafka_mock_cluster_bootstraps(k->mc);
        str_copy(k->bootstraps, bs, sizeof k->bootstraps);
        k->n_brokers = n;
        return 0;
}

void tu_kafka_stop(struct tu_kafka *k)
{
        if (!k)
                return;
        for (int i = 0; i < k->n_cs; i++) {
                rd_kafka_destroy(k->cs[i].rk);
                free(k->cs[i].group);
        }
        free(k->cs);
        k->cs = NULL;
        k->n_cs = 0;
        if (k->producer)
                rd_kafka_destroy(k->producer);
        k->producer = NULL;
        if (k->mc)
                rd_kafka_mock_cluster_destroy(k->mc);
        k->mc = NULL;
        if (k->rk)
                rd_kafka_destroy(k->rk);
        k->rk = NULL;
}

int tu_kafka_topic(struct tu_kafka *k, const char *topic, int partitions, int rf,
                   const int *leaders)
{
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(k->mc, topic, partitions, rf);

        for (int i = 0; !e && leaders && i < partitions; i++)
                e = rd_kafka_mock_partition_set_leader(k->mc, topic, i, leaders[i]);
        if (e)
                fprintf(stderr, "tu_kafka: topic %s: %s\n", topic, rd_kafka_err2str(e));
        return e ? -1 : 0;
}

int tu_kafka_produce(struct tu_kafka *k, const char *topic, int partition, int n)
{
        rd_kafka_resp_err_t e;

        if (!k->producer && !(k->producer = tu_kafka_client(k, RD_KAFKA_PRODUCER, NULL)))
                return -1;
        for (int i = 0; i < n; i++) {
                e = rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE("x", 1),
                                      RD_KAFKA_V_END);
                if (e) {
                        fprintf(stderr, "tu_kafka: produce %s[%d]: %s\n", topic, partition,
                                rd_kafka_err2str(e));
                        return -1;
                }
        }
        e = rd_kafka_flush(k->producer, 10000);
        if (e)
                fprintf(stderr, "tu_kafka: flush: %s\n", rd_kafka_err2str(e));
        return e ? -1 : 0;
}

static rd_kafka_t *tu_kafka_committer(struct tu_kafka *k, const char *group)
{
        rd_kafka_t *rk;

        for (int i = 0; i < k->n_cs; i++)
                if (strcmp(k->cs[i].group, group) == 0)
                        return k->cs[i].rk;
        if (!(rk = tu_kafka_client(k, RD_KAFKA_CONSUMER, group)))
                return NULL;
        k->cs = xrealloc(k->cs, (size_t)(k->n_cs + 1) * sizeof *k->cs);
        k->cs[k->n_cs].group = xstrdup(group);
        k->cs[k->n_cs].rk = rk;
        k->n_cs++;
        return rk;
}

int tu_kafka_commit(struct tu_kafka *k, const char *group, const char *topic, int partition,
                    int64_t offset, const char *metadata)
{
        rd_kafka_t *rk = tu_kafka_committer(k, group);
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_topic_partition_t *p;
        rd_kafka_resp_err_t e;

        if (!rk)
                return -1;
        l = rd_kafka_topic_partition_list_new(1);
        p = rd_kafka_topic_partition_list_add(l, topic, partition);
        p->offset = offset;
        if (metadata) {
                /* librdkafka frees it with the list. */
                p->metadata = xstrdup(metadata);
                p->metadata_size = strlen(metadata);
        }
        e = rd_kafka_commit(rk, l, 0);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
                fprintf(stderr, "tu_kafka: commit %s %s[%d]=%lld: %s\n", group, topic, partition,
                        (long long)offset, rd_kafka_err2str(e));
        return e ? -1 : 0;
}

int tu_kafka_coordinator(struct tu_kafka *k, const char *group, int id)
{
        return rd_kafka_mock_coordinator_set(k->mc, "group", group, id) ? -1 : 0;
}

int tu_kafka_broker_down(struct tu_kafka *k, int id)
{
        return rd_kafka_mock_broker_set_down(k->mc, id) ? -1 : 0;
}

int tu_kafka_broker_up(struct tu_kafka *k, int id)
{
        return rd_kafka_mock_broker_set_up(k->mc, id) ? -1 : 0;
}

int tu_kafka_port(const struct tu_kafka *k, int id)
{
        const char *s = k->bootstraps;

        for (int i = 1; s && *s; i++) {
                const char *colon = strchr(s, ':'), *comma = strchr(s, ',');

                if (i == id)
                        return colon ? atoi(colon + 1) : -1;
                s = comma ? comma + 1 : NULL;
        }
        return -1;
}
