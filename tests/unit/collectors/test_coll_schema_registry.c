/*
 * Schema Registry collector, pure parts, on fixtures shaped after the Schema Registry REST API reference
 * (tests/fixtures/schema_registry/): subjects, versions, latest (AVRO
 * when schemaType is omitted, PROTOBUF), global/subject config incl. 404
 * 40408 (inherits) and 40401 (subject not found), error texts, bad bodies,
 * and config validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "collectors/schema_registry.h"
#include "tu.h"
#include "core/util.h"

static char *fixture(const char *name, size_t *len)
{
        char rel[256];
        char *s;

        snprintf(rel, sizeof rel, "tests/fixtures/schema_registry/%s", name);
        s = tu_read_file(tu_src_path(rel), len);
        if (!s)
                fail_msg("missing fixture %s", rel);
        return s;
}

static void test_subjects_versions_latest(void **state)
{
        struct sr_subject s = { 0 };
        struct err e;
        char **names, *j;
        size_t n, len;
        int64_t cnt;

        (void)state;
        j = fixture("subjects.json", &len);
        assert_int_equal(schema_registry_parse_subjects(j, len, &names, &n, &e), 0);
        free(j);
        assert_int_equal(n, 5);
        assert_string_equal(names[0], "deleted-value");         /* sorted */
        assert_string_equal(names[1], "orders-key");
        assert_string_equal(names[4], "shop.public.customers-value");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        assert_int_equal(schema_registry_parse_subjects("{\"a\":1}", 7, &names, &n, &e), -1);
        assert_string_equal(e.msg, "GET /subjects: expected a list of names");
        assert_int_equal(schema_registry_parse_subjects("[\"a\",", 5, &names, &n, &e), -1);
        assert_string_equal(e.msg, "GET /subjects: the answer is not JSON (truncated?)");

        j = fixture("versions.json", &len);
        assert_int_equal(schema_registry_parse_versions(j, len, &cnt, &e), 0);
        assert_int_equal(cnt, 3);
        free(j);

        j = fixture("latest_avro.json", &len);
        assert_int_equal(schema_registry_parse_latest(j, len, &s, &e), 0);
        assert_int_equal(s.latest_version, 3);
        assert_int_equal(s.latest_id, 42);
        assert_string_equal(s.type, "AVRO");
        free(j);
        j = fixture("latest_protobuf.json", &len);
        assert_int_equal(schema_registry_parse_latest(j, len, &s, &e), 0);
        assert_int_equal(s.latest_id, 57);
        assert_string_equal(s.type, "PROTOBUF");
        free(j);
        free(s.type);
        assert_int_equal(schema_registry_parse_latest("{\"version\":1}", 13, &s, &e), -1);
        assert_string_equal(e.msg, "latest version: expected an object with version and id");
}

static void test_config_levels(void **state)
{
        struct err e;
        char *lvl, *j;
        bool inh;
        size_t len;

        (void)state;
        j = fixture("config_global.json", &len);
        assert_int_equal(schema_registry_parse_config(200, j, len, &lvl, &inh, &e), 0);
        assert_string_equal(lvl, "BACKWARD");
        assert_false(inh);
        free(lvl);
        free(j);
        assert_int_equal(schema_registry_parse_config(200, "{\"compatibility\":\"FULL\"}", 24,
                                                      &lvl, &inh,
                                                      &e), 0);
        assert_string_equal(lvl, "FULL");
        free(lvl);
        j = fixture("config_40408.json", &len);
        assert_int_equal(schema_registry_parse_config(404, j, len, &lvl, &inh, &e), 0);
        assert_null(lvl);
        assert_true(inh);
        free(j);
        j = fixture("error_40401.json", &len);
        assert_int_equal(schema_registry_parse_config(404, j, len, &lvl, &inh, &e), 1);
        free(j);
        assert_int_equal(schema_registry_parse_config(200, "{}", 2, &lvl, &inh, &e), -1);
        assert_string_equal(e.msg, "config: expected {\"compatibilityLevel\"}");
        assert_int_equal(schema_registry_parse_config(401,
                                                      "{\"error_code\":40101,\"message\":\"Unauthorized\"}",
                                                      46, &lvl, &inh, &e), -1);
        assert_string_equal(e.msg, "config: HTTP 401 Unauthorized: check user and "
                            "password_env/password_file -- Unauthorized");
        schema_registry_http_error(500,
                                   "{\"error_code\":50002,\"message\":\"Operation timed out\"}", 52,
                                   NULL, "GET /subjects", &e);
        assert_string_equal(e.msg, "GET /subjects: HTTP 500 Internal Server Error: error 50002: "
                            "Operation timed out");
        assert_int_equal(e.code, SR_ERR_HTTP);
        schema_registry_http_error(502, "<html><body>Bad Gateway</body></html>", 38, "text/html",
                                   "GET /subjects", &e);
        assert_string_equal(e.msg, "GET /subjects: HTTP 502 Bad Gateway (an HTML page, not "
                            "Schema Registry's JSON: a proxy in the way, or is url the registry "
                            "port?)");
}

static void test_validate(void **state)
{
        static const char *const bad[] = {
                "environment: t\nsources:\n  - {name: s, kind: schema_registry, "
                "url: \"http://k:s@h:8081\"}\n",
                "environment: t\nsources:\n  - {name: s, kind: schema_registry, "
                "url: \"http://h:8081\", max_requests: 3}\n",
                "environment: t\nsources:\n  - {name: s, kind: schema_registry, "
                "url: \"http://h:8081\", password_file: /x}\n",
        };
        const char *okc = "environment: t\nsources:\n  - {name: s, kind: schema_registry, "
                          "url: \"https://h:8081\", user: key, password_env: SR_SECRET}\n";
        struct config *c;
        struct err e;

        (void)state;
        for (size_t i = 0; i < LO_ARRAY_LEN(bad); i++) {
                c = config_load_string(bad[i], strlen(bad[i]), "<t>", &e);
                if (c)
                        fail_msg("accepted %s", bad[i]);
        }
        c = config_load_string(okc, strlen(okc), "<t>", &e);
        assert_non_null(c);
        assert_int_equal(c->sources[0].interval_ms, 30000);
        config_free(c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_subjects_versions_latest),
                cmocka_unit_test(test_config_levels),
                cmocka_unit_test(test_validate),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
