/*
 * libFuzzer target: the Kafka Connect and Schema Registry collectors' pure
 * parsers. The first byte picks the parser (Connect: the listing, a
 * status, a config, GET /; Schema Registry: subjects, versions, latest,
 * config under a few statuses); the rest is the body, not NUL-terminated,
 * as a response would be. Every parse is followed by kc_finish and the
 * JSON report, and the body also goes through the HTTP error texts and
 * kc_trace_head (whose output must never be longer than asked for).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "collectors/kafka_connect.h"
#include "collectors/schema_registry.h"
#include "core/util.h"

#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const long statuses[] = { 200, 404, 401, 500 };
        struct kc_data *d;
        struct sr_subject sj = { 0 };
        struct err err;
        char *copy, *lvl, **names, *head, *z;
        size_t len, n;
        int64_t cnt;
        bool inh;
        cJSON *o;

        if (size == 0)
                return 0;
        len = size - 1;
        copy = xmalloc(len ? len : 1);
        memcpy(copy, data + 1, len);
        d = kc_data_new();
        switch (data[0] % 8) {
        case 0:
                kc_parse_list(copy, len, d, &err);
                break;
        case 1:
                kc_parse_list("[\"c\"]", 5, d, &err);
                kc_parse_status(copy, len, &d->conns[0], &err);
                break;
        case 2:
                kc_parse_list("[\"c\"]", 5, d, &err);
                kc_parse_config(copy, len, &d->conns[0], &err);
                break;
        case 3:
                kc_parse_root(copy, len, d, &err);
                break;
        case 4:
                if (sr_parse_subjects(copy, len, &names, &n, &err) == 0) {
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        free(names);
                }
                break;
        case 5:
                sr_parse_versions(copy, len, &cnt, &err);
                break;
        case 6:
                sr_parse_latest(copy, len, &sj, &err);
                free(sj.type);
                break;
        default:
                for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
                        if (sr_parse_config(statuses[i], copy, len, &lvl, &inh, &err) == 0)
                                free(lvl);
                }
                break;
        }
        kc_finish(d, NULL);
        o = cJSON_CreateObject();
        coll_kafka_connect_ops.to_json(d, o);
        cJSON_Delete(o);
        kc_data_free(d);
        kc_http_error(502, copy, len, NULL, "GET /", &err);
        sr_http_error(404, copy, len, "text/html", "GET /", &err);
        z = xstrndup(copy, len);
        head = kc_trace_head(z, 3, 40);
        FZ_CHECK(strlen(head) <= 40);
        free(head);
        free(z);
        free(copy);
        return 0;
}
