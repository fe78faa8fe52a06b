/*
 * tu_tls: test certificates made with the openssl CLI (argv through
 * subproc, no shell) and a small TLS front on 127.0.0.1 that terminates TLS
 * and relays the bytes to a plaintext test responder, or misbehaves on
 * purpose. Test-only.
 */
#ifndef LO_TESTS_TU_TLS_H
#define LO_TESTS_TU_TLS_H

#include <pthread.h>
#include <stdbool.h>

struct tu_tls_certs {
        char dir[64];           /* temp dir holding everything below */
        char ca[128];           /* CA certificate (PEM) that signed server.pem */
        char other_ca[128];     /* an unrelated CA */
        char cert[128];         /* server certificate: CN localhost, SAN DNS:localhost, IP:127.0.0.1 */
        char key[128];          /* its key (PEM, unencrypted) */
        char other_cert[128];   /* signed by ca, but only for DNS:other.example */
        char other_key[128];
        char enc_key[128];      /* server.key encrypted (AES-256) with enc_password */
        char enc_password[32];
};

/* Makes the files in a new temp dir. 0, or -1 (message on stderr, e.g. no
 * openssl binary). */
int tu_tls_certs_make(struct tu_tls_certs *c);
/* Removes the files and the dir. */
void tu_tls_certs_remove(struct tu_tls_certs *c);

enum tu_tls_mode {
        TU_TLS_RELAY,           /* handshake, then relay to backend_port */
        TU_TLS_STALL,           /* accepts TCP, never answers the handshake */
        TU_TLS_PLAIN_CLOSE,     /* a plaintext listener: reads what comes, closes */
};

struct tu_tls_front {
        int     lfd, port;
        int     backend_port;
        enum tu_tls_mode mode;
        const struct tu_tls_certs *certs;
        pthread_t th;
        /* results, read after tu_tls_front_stop */
        bool    handshake_ok;
        char    sni[64];        /* server name the client sent; "" none */
        char    fail[200];      /* the handshake error, "" none */
};

/* Listens on 127.0.0.1 (f->port) and serves one connection in a thread.
 * 0 or -1. */
int tu_tls_front_start(struct tu_tls_front *f, const struct tu_tls_certs *c,
                       enum tu_tls_mode mode, int backend_port);
/* Joins the thread (it ends when the client closes, or after 5 s) and
 * closes the listener. */
void tu_tls_front_stop(struct tu_tls_front *f);

#endif
