/*
 * libFuzzer target for the expression language (src/bringup/expr.h): any byte
 * string is parsed; when it parses, it is evaluated against a fixed status
 * document and explained. Either works or sets an error message -- never
 * a crash, a leak, unbounded recursion or a read out of bounds. The input
 * is copied to a NUL-terminated string (expressions are C strings; an
 * embedded NUL ends the expression).
 *
 *   cmake -S . -B build-fuzz -DLO_FUZZ=ON -DCMAKE_C_COMPILER=clang -DLO_UNIT_TESTING=OFF
 *   cmake --build build-fuzz --target fuzz_expr
 *   build-fuzz/fuzz/fuzz_expr -max_total_time=60 fuzz/corpus/expr
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bringup/expr.h"
#include "core/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_doc[] =
        "{\"name\":\"kafka\",\"kind\":\"kafka\",\"status\":\"ok\",\"error\":null,"
        "\"quorum\":{\"leader_id\":1,\"voters\":[1,2,3]},"
        "\"nodes\":[{\"name\":\"a\",\"ready\":true,\"cpu\":1.5},{\"name\":\"b\",\"ready\":false,"
        "\"cpu\":null}],\"groups\":[{\"lag\":10},{\"lag\":25}],\"x-y\":\"d\",\"e\":[],"
        "\"nested\":[[1,2],[3]],\"s\":\"h\\u00e9\",\"zero\":0}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static cJSON *doc;
        char *src = xmalloc(size + 1);
        struct expr *e;
        struct err err;

        if (!doc)
                doc = cJSON_Parse(fuzz_doc);
        memcpy(src, data, size);
        src[size] = '\0';
        err_clear(&err);
        e = expr_parse(src, &err);
        if (!e) {
                if (err.msg[0] == '\0')
                        __builtin_trap();       /* failure without a message */
        } else {
                cJSON *v;
                char *s;

                err_clear(&err);
                v = expr_eval(e, doc, &err);
                if (!v && err.msg[0] == '\0')
                        __builtin_trap();
                s = expr_value_text(v);
                free(s);
                cJSON_Delete(v);
                s = expr_explain(e, doc);
                free(s);
                if (strcmp(expr_text(e), src) != 0)
                        __builtin_trap();
                expr_free(e);
        }
        free(src);
        return 0;
}
