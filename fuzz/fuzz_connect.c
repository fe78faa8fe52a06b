/*
 * libFuzzer target: the Kafka Connect and Schema Registry collectors' pure
 * parsers. The first byte picks the parser (Connect: the listing, a
 * status, a config, GET /; Schema Registry: subjects, versions, latest,
 * config under a few statuses); the rest is the body, not NUL-terminated,
 * as a response would be. Every parse is followed by kafka_connect_finish and the
 * JSON report, and the body also goes through the HTTP error texts and
 * kafka_connect_trace_head (whose output must never be longer than asked for).
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
        d = kafka_connect_data_new();
        switch (data[0] % 8) {
        case 0:
                kafka_connect_parse_list(copy, len, d, &err);
                break;
        case 1:
                kafka_connect_parse_list("[\"c\"]", 5, d, &err);
                kafka_connect_parse_status(copy, len, &d->conns[0], &err);
                break;
        case 2:
                kafka_connect_parse_list("[\"c\"]", 5, d, &err);
                kafka_connect_parse_config(copy, len, &d->conns[0], &err);
                break;
        case 3:
                kafka_connect_parse_root(copy, len, d, &err);
                break;
        case 4:
                if (schema_registry_parse_subjects(copy, len, &names, &n, &err) == 0) {
                        for (size_t i = 0; i < n; i++)
                                free(names[i]);
                        free(names);
                }
                break;
        case 5:
                schema_registry_parse_versions(copy, len, &cnt, &err);
                break;
        case 6:
                schema_registry_parse_latest(copy, len, &sj, &err);
                free(sj.type);
                break;
        default:
                for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
                        if (schema_registry_parse_config(statuses[i], copy, len, &lvl, &inh,
                                                         &err) == 0)
                                free(lvl);
                }
                break;
        }
        kafka_connect_finish(d, NULL);
        o = cJSON_CreateObject();
        coll_kafka_connect_ops.to_json(d, o);
        cJSON_Delete(o);
        kafka_connect_data_free(d);
        kafka_connect_http_error(502, copy, len, NULL, "GET /", &err);
        schema_registry_http_error(404, copy, len, "text/html", "GET /", &err);
        z = xstrndup(copy, len);
        head = kafka_connect_trace_head(z, 3, 40);
        FZ_CHECK(strlen(head) <= 40);
        free(head);
        free(z);
        free(copy);
        return 0;
}
