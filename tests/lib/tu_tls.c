/*
 * tu_tls: see tu_tls.h.
 */
#include "tu_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/subproc.h"
#include "core/util.h"

static int tls_run(char *const argv[])
{
        struct subproc_result r;
        struct err e;

        err_clear(&e);
        if (subproc_run(argv, 0, 30000, -1, &r, &e) != 0) {
                fprintf(stderr, "tu_tls: cannot run %s: %s\n", argv[0], e.msg);
                subproc_result_done(&r);
                return -1;
        }
        if (r.exit_code != 0) {
                fprintf(stderr, "tu_tls: %s %s failed (%d): %s\n", argv[0], argv[1],
                        r.exit_code, r.out ? r.out : "");
                subproc_result_done(&r);
                return -1;
        }
        subproc_result_done(&r);
        return 0;
}

int tu_tls_certs_make(struct tu_tls_certs *c)
{
        char ca_key[128], other_key[128];

        memset(c, 0, sizeof *c);
        str_copy(c->dir, "/tmp/lo-tls.XXXXXX", sizeof c->dir);
        if (!mkdtemp(c->dir)) {
                fprintf(stderr, "tu_tls: mkdtemp: %s\n", strerror(errno));
                return -1;
        }
        snprintf(c->ca, sizeof c->ca, "%s/ca.pem", c->dir);
        snprintf(ca_key, sizeof ca_key, "%s/ca.key", c->dir);
        snprintf(c->other_ca, sizeof c->other_ca, "%s/other-ca.pem", c->dir);
        snprintf(other_key, sizeof other_key, "%s/other-ca.key", c->dir);
        snprintf(c->cert, sizeof c->cert, "%s/server.pem", c->dir);
        snprintf(c->key, sizeof c->key, "%s/server.key", c->dir);
        snprintf(c->other_cert, sizeof c->other_cert, "%s/other.pem", c->dir);
        snprintf(c->other_key, sizeof c->other_key, "%s/other.key", c->dir);
        snprintf(c->enc_key, sizeof c->enc_key, "%s/server-enc.key", c->dir);
        str_copy(c->enc_password, "test-key-pass", sizeof c->enc_password);
        {
                char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
                               "-out", c->ca, "-days", "2", "-subj", "/CN=lambdaops test CA",
                               NULL };
                char *other[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", other_key,
                                  "-out", c->other_ca, "-days", "2", "-subj",
                                  "/CN=lambdaops other CA", NULL };
                /* OpenSSL 3: req -x509 -CA signs with the CA directly. */
                char *srv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c->key,
                                "-out", c->cert, "-days", "2", "-subj", "/CN=localhost",
                                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                                "-addext", "basicConstraints=critical,CA:FALSE",
                                "-CA", c->ca, "-CAkey", ca_key, NULL };

                char *wrong[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                  "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                                  c->other_key, "-out", c->other_cert, "-days", "2", "-subj",
                                  "/CN=other.example", "-addext",
                                  "subjectAltName=DNS:other.example", "-addext",
                                  "basicConstraints=critical,CA:FALSE", "-CA", c->ca,
                                  "-CAkey", ca_key, NULL };

                char passout[64];
                char *enc[] = { "openssl", "pkey", "-in", c->key, "-aes256", "-passout",
                                passout, "-out", c->enc_key, NULL };

                snprintf(passout, sizeof passout, "pass:%s", c->enc_password);
                if (tls_run(ca) || tls_run(other) || tls_run(srv) || tls_run(wrong) ||
                    tls_run(enc))
                        return -1;
        }
        return 0;
}

void tu_tls_certs_remove(struct tu_tls_certs *c)
{
        static const char *const names[] = {
                "ca.pem", "ca.key", "other-ca.pem", "other-ca.key", "server.pem", "server.key",
                "ca.srl", "other.pem", "other.key", "server-enc.key",
        };
        char p[160];

        if (!c->dir[0])
                return;
        for (size_t i = 0; i < LO_ARRAY_LEN(names); i++) {
                snprintf(p, sizeof p, "%s/%s", c->dir, names[i]);
                (void)unlink(p);
        }
        (void)rmdir(c->dir);
        c->dir[0] = '\0';
}

static void front_drain(int fd)
{
        char sink[512];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, 5000) <= 0 || recv(fd, sink, sizeof sink, 0) <= 0)
                        return;
        }
}

static void front_relay(SSL *ssl, int cfd, int bfd)
{
        char buf[16384];

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = cfd, .events = POLLIN }, { .fd = bfd, .events = POLLIN },
                };

                if (SSL_pending(ssl) == 0 && poll(p, 2, 5000) <= 0)
                        return;
                if (SSL_pending(ssl) > 0 || p[0].revents) {
                        int k = SSL_read(ssl, buf, sizeof buf);

                        if (k <= 0 || send(bfd, buf, (size_t)k, MSG_NOSIGNAL) != k)
                                return;
                }
                if (p[1].revents) {
                        ssize_t k = recv(bfd, buf, sizeof buf, 0);

                        if (k <= 0 || SSL_write(ssl, buf, (int)k) != (int)k)
                                return;
                }
        }
}

static void *front_main(void *arg)
{
        struct tu_tls_front *f = arg;
        struct pollfd p = { .fd = f->lfd, .events = POLLIN };
        struct timeval tv = { .tv_sec = 5 };
        SSL_CTX *ctx = NULL;
        SSL *ssl = NULL;
        int cfd, bfd = -1;

        if (poll(&p, 1, 5000) <= 0 || (cfd = accept(f->lfd, NULL, NULL)) < 0) {
                str_copy(f->fail, "no connection", sizeof f->fail);
                return NULL;
        }
        if (f->mode == TU_TLS_STALL) {
                front_drain(cfd);
                goto out;
        }
        if (f->mode == TU_TLS_PLAIN_CLOSE) {
                /* As a Kafka plaintext listener does with a TLS ClientHello:
                 * the "size" is absurd, so it closes. */
                char sink[512];

                p.fd = cfd;
                if (poll(&p, 1, 5000) > 0)
                        (void)recv(cfd, sink, sizeof sink, 0);
                goto out;
        }
        (void)setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, f->certs->cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, f->certs->key, SSL_FILETYPE_PEM) != 1) {
                str_copy(f->fail, "server certificate", sizeof f->fail);
                goto out;
        }
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, cfd);
        if (SSL_accept(ssl) != 1) {
                unsigned long e = ERR_get_error();

                snprintf(f->fail, sizeof f->fail, "handshake: %s",
                         e ? ERR_error_string(e, NULL) : "closed");
                ERR_clear_error();
                goto out;
        }
        f->handshake_ok = true;
        {
                const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

                str_copy(f->sni, sni ? sni : "", sizeof f->sni);
        }
        if (f->backend_port > 0) {
                struct sockaddr_in a;

                memset(&a, 0, sizeof a);
                a.sin_family = AF_INET;
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                a.sin_port = htons((uint16_t)f->backend_port);
                bfd = socket(AF_INET, SOCK_STREAM, 0);
                if (bfd >= 0 && connect(bfd, (struct sockaddr *)&a, sizeof a) == 0)
                        front_relay(ssl, cfd, bfd);
        }
out:
        if (ssl) {
                SSL_shutdown(ssl);
                SSL_free(ssl);
        }
        SSL_CTX_free(ctx);
        if (bfd >= 0)
                close(bfd);
        close(cfd);
        return NULL;
}

int tu_tls_front_start(struct tu_tls_front *f, const struct tu_tls_certs *c,
                       enum tu_tls_mode mode, int backend_port)
{
        struct sockaddr_in a;
        socklen_t al = sizeof a;

        memset(f, 0, sizeof *f);
        f->mode = mode;
        f->certs = c;
        f->backend_port = backend_port;
        f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (f->lfd < 0)
                return -1;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(f->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(f->lfd, 4) != 0 ||
            getsockname(f->lfd, (struct sockaddr *)&a, &al) != 0) {
                close(f->lfd);
                return -1;
        }
        f->port = ntohs(a.sin_port);
        if (pthread_create(&f->th, NULL, front_main, f) != 0) {
                close(f->lfd);
                return -1;
        }
        return 0;
}

void tu_tls_front_stop(struct tu_tls_front *f)
{
        pthread_join(f->th, NULL);
        close(f->lfd);
}
