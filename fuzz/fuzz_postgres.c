/*
 * libFuzzer target: the PostgreSQL collector's pure parsers. The first byte
 * picks a parser; the rest is a tab-separated result (first line: column
 * names; "\N" is NULL), as the fixtures in tests/fixtures/postgres are.
 * The whole input is also fed to postgres_lsn_parse and pgconn_dsn_mask.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/postgres.h"
#include "core/util.h"

#define FZ_MAX_COLS 64
#define FZ_MAX_ROWS 256

struct fz_table {
        int nrows, ncols;
        char *names[FZ_MAX_COLS];
        char *cells[FZ_MAX_ROWS][FZ_MAX_COLS];
};

static const char *fz_name(const void *src, int col)
{
        const struct fz_table *t = src;
        return t->names[col];
}

static const char *fz_value(const void *src, int row, int col)
{
        const struct fz_table *t = src;
        const char *v = t->cells[row][col];
        return v && strcmp(v, "\\N") == 0 ? NULL : v;
}

static void fz_split(char *text, struct fz_table *t)
{
        char *line, *save = NULL;
        int r = -1;

        memset(t, 0, sizeof *t);
        for (line = strtok_r(text, "\n", &save); line && r < FZ_MAX_ROWS;
             line = strtok_r(NULL, "\n", &save), r++) {
                int c = 0;
                char *p = line;
                while (c < FZ_MAX_COLS) {
                        char *tab = strchr(p, '\t');
                        if (tab)
                                *tab = '\0';
                        if (r < 0)
                                t->names[c] = p;
                        else
                                t->cells[r][c] = p;
                        c++;
                        if (!tab)
                                break;
                        p = tab + 1;
                }
                if (r < 0)
                        t->ncols = c;
                else
                        t->nrows = r + 1;
        }
        /* Short rows: missing cells read as NULL. */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct fz_table t;
        struct pg_data *d;
        struct pg_rows rows;
        struct err e;
        uint64_t lsn;
        char *text, *masked;

        if (size < 1)
                return 0;
        text = xstrndup((const char *)data + 1, size - 1);
        postgres_lsn_parse(text, &lsn);
        masked = pgconn_dsn_mask(text);
        free(masked);
        fz_split(text, &t);
        if (t.ncols > 0) {
                rows.nrows = t.nrows;
                rows.ncols = t.ncols;
                rows.name = fz_name;
                rows.value = fz_value;
                rows.src = &t;
                d = xcalloc(1, sizeof *d);
                switch (data[0] % 4) {
                case 0:
                        postgres_parse_overview(&rows, d, &e);
                        break;
                case 1:
                        postgres_parse_slots(&rows, d, &e);
                        break;
                case 2:
                        postgres_parse_publications(&rows, d, &e);
                        break;
                default:
                        postgres_parse_senders(&rows, d, &e);
                        break;
                }
                postgres_data_free(d);
        }
        free(text);
        return 0;
}
