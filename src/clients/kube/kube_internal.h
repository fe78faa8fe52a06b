/*
 * kube_internal.h: what kube.c (the client, its credentials and requests)
 * and kube_informer.c (list+watch informers) share. Nobody else includes
 * it.
 */
#ifndef LO_SRC_KUBE_INTERNAL_H
#define LO_SRC_KUBE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "clients/http.h"
#include "clients/kube/kube.h"

#define KUBE_PAGE_DEFAULT       500
#define KUBE_ERRBODY_MAX        65536

struct kube_client {
        const struct kube_config *kc;   /* borrowed */
        struct http_client *http;
        struct http_tls tls;            /* kc's, with an exec certificate if any */
        char   *base;                   /* URL prefix for requests */
        char   *connect_to;             /* with tls-server-name, or NULL */
        /* exec plugin credential, cached until its expiry */
        struct kube_exec_cred cred;
        bool    have_cred;
        int64_t cred_at_ms;             /* wall clock when obtained */
        /* tokenFile, re-read when the file changes */
        char   *file_token;
        dev_t   tf_dev;
        ino_t   tf_ino;
        off_t   tf_size;
        struct timespec tf_mtime;
};

/* Frees a secret after overwriting it. NULL-safe. */
void kube_wipe_free(char *s);
/* The bearer token to send now (borrowed), or NULL; -1 on failure. */
int kube_bearer(struct kube_client *c, const struct coll_ctx *ctx, const char **out,
                struct err *err);
/* Appends where the TLS material came from to a handshake error. */
void kube_tls_hint(const struct kube_config *kc, struct err *err);
/* kube_list with a page counter. */
int kube_list_pages(struct kube_client *c, const struct coll_ctx *ctx,
                    const char *path, const char *query, int limit, kube_item_fn fn,
                    void *user, char **rv, uint64_t *pages, struct err *err);

#endif
