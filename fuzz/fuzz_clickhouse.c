/*
 * libFuzzer target: the ClickHouse collector's pure parsers. The first byte
 * picks a parser (FORMAT JSON bodies: caps, overview, latency, rates, slow
 * queries, tables, merges, replicas, merge_tree_settings, counters); the
 * rest is the body, not NUL-terminated, as a response would be. The whole
 * input also goes through the exception parser, the response check under
 * a few statuses, and the query-text masking (whose output must never be
 * longer than asked for nor contain a control character).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/clickhouse/clickhouse.h"
#include "core/util.h"

/* Checked in every build type (NDEBUG must not hide a finding). */
#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct ch_exception ex;
        struct ch_counters k;
        struct ch_caps caps = { 0 };
        struct ch_data *d;
        struct err err;
        const char *body;
        char *copy, *shown;
        size_t len;

        if (size == 0)
                return 0;
        body = (const char *)data + 1;
        len = size - 1;
        /* Parsers get exactly len bytes, no terminator, like a response. */
        copy = xmalloc(len ? len : 1);
        memcpy(copy, body, len);
        d = clickhouse_data_new();
        switch (data[0] % 10) {
        case 0: clickhouse_parse_caps(copy, len, &caps, &err); break;
        case 1: clickhouse_parse_overview(copy, len, d, &caps, &err); break;
        case 2: clickhouse_parse_latency(copy, len, d, &err); break;
        case 3: clickhouse_parse_rates(copy, len, d, &err); break;
        case 4: clickhouse_parse_slow(copy, len, d, &err); break;
        case 5: clickhouse_parse_tables(copy, len, d, &err); break;
        case 6: clickhouse_parse_merges(copy, len, d, &err); break;
        case 7: clickhouse_parse_replicas(copy, len, d, &err); break;
        case 8: clickhouse_parse_mt_settings(copy, len, d, &err); break;
        default: clickhouse_parse_counters(copy, len, &k, &err); break;
        }
        for (size_t i = 0; i < d->n_slow; i++)
                FZ_CHECK(strlen(d->slow[i].query) <= 200);
        clickhouse_data_free(d);

        if (clickhouse_exception_parse(copy, len, &ex) == 0)
                FZ_CHECK(ex.code > 0 && strlen(ex.msg) < sizeof ex.msg);
        clickhouse_response_check(200, copy, len, "pw", &err);
        clickhouse_response_check(500, copy, len, NULL, &err);
        free(copy);

        /* Masking works on C strings. */
        copy = xmalloc(len + 1);
        memcpy(copy, body, len);
        copy[len] = '\0';
        shown = clickhouse_query_display(copy, 200);
        FZ_CHECK(strlen(shown) <= 200);
        for (const char *p = shown; *p; p++)
                FZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
        free(shown);
        free(copy);
        return 0;
}
