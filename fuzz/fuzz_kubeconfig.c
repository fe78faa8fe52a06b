/*
 * libFuzzer target: kubeconfig documents (kube_config_parse, every
 * context the input names plus the current one) and ExecCredential JSON
 * (kube_exec_cred_parse), plus the pure quantity/time parsers on the same
 * bytes. Any input must give a config or an error, never a crash, a leak
 * or a hang (TLS material paths in the input are read only when they are
 * regular files).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients/kube/kube.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const contexts[] = { NULL, "dev", "prod", "x", "e", "" };
        struct kube_exec_cred cred;
        struct err e;
        char *s = xstrndup((const char *)data, size);
        double q;

        for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
                struct kube_config *kc = kube_config_parse((const char *)data, size,
                                                           "fuzz.yaml", "/nonexistent",
                                                           contexts[i], &e);
                kube_config_free(kc);
        }
        if (kube_exec_cred_parse((const char *)data, size, "fuzz",
                                 "client.authentication.k8s.io/v1", &cred, &e) == 0)
                kube_exec_cred_done(&cred);
        kube_quantity(s, &q);
        kube_time_ms(s);
        free(kube_escape(s));
        free(s);
        return 0;
}
