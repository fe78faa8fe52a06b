/*
 * libFuzzer target: decoding of query results from their wire form --
 * Snowflake SQL API ResultSets and partitions (coll_snowflake_decode*,
 * every cell decoded by rowType), error bodies (coll_snowflake_errmsg), and
 * through the same streaming JSON scanner (src/clients/sql.c), ClickHouse FORMAT
 * JSON bodies (sql_ch_decode, in UTC and in a zone with DST). Rows go into
 * a sink that checks the cell invariants. Corpus: fuzz/corpus/snowflake
 * (the test fixtures).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/snowflake.h"
#include "clients/sql.h"
#include "core/util.h"

struct fz_count {
        size_t ncols, rows;
};

static int fz_begin(void *ud, const struct sql_col *cols, size_t ncols, struct err *err)
{
        struct fz_count *c = ud;

        (void)err;
        for (size_t i = 0; i < ncols; i++)
                assert(cols[i].name && cols[i].db_type);
        c->ncols = ncols;
        return 0;
}

static int fz_row(void *ud, const struct sql_cell *cells, size_t ncols, struct err *err)
{
        struct fz_count *c = ud;

        (void)err;
        assert(ncols == c->ncols);
        for (size_t i = 0; i < ncols; i++)
                if (cells[i].text)
                        (void)strlen(cells[i].text);
        c->rows++;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = xmalloc(size + 1);
        struct fz_count cnt = { 0 };
        struct sql_sink sink = { fz_begin, fz_row, &cnt };
        struct sf_result res = { 0 };
        struct err err;

        memcpy(buf, data, size);
        buf[size] = '\0';
        if (coll_snowflake_decode(buf, size, &res, &sink, &err) == 0) {
                for (size_t p = 1; p < res.nparts && p < 4; p++)
                        coll_snowflake_decode_partition(buf, size, &res, p, &sink, &err);
        }
        coll_snowflake_result_done(&res);
        coll_snowflake_errmsg(422, buf, size, "SHA256:x", &err);
        cnt = (struct fz_count){ 0 };
        sql_ch_decode(buf, size, NULL, &sink, &err);
        cnt = (struct fz_count){ 0 };
        sql_ch_decode(buf, size, "America/New_York", &sink, &err);
        free(buf);
        return 0;
}
