/*
 * libFuzzer target: the Airflow collector's pure parsers. The first byte
 * picks a parser (DAG list v1/v2 with and without globs, runs, task
 * instances, token); the rest is the body, not NUL-terminated, as a
 * response would be. The time parser gets the body as a string too.
 * Results must stay consistent (counts within what was parsed).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/airflow/airflow.h"
#include "core/util.h"

/* Checked in every build type (NDEBUG must not hide a finding). */
#define FZ_CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const globs[] = { "etl_*", "nightly_[a-z]*" };
        struct af_data *d;
        struct err err;
        size_t len, pn = 0, total = 0;
        bool older;
        char *copy, *str, *tok;

        if (size == 0)
                return 0;
        len = size - 1;
        copy = xmalloc(len ? len : 1);
        memcpy(copy, data + 1, len);
        d = airflow_data_new();
        err_clear(&err);
        switch (data[0] % 6) {
        case 0:
        case 1:
                if (airflow_parse_dags(copy, len, data[0] % 2 ? AF_API_V2 : AF_API_V1, NULL, 0, d,
                                       &pn, &total, &err) == 0)
                        FZ_CHECK(d->n_dags <= pn);
                else
                        FZ_CHECK(err.msg[0]);
                break;
        case 2:
                if (airflow_parse_dags(copy, len, AF_API_V1, globs, 2, d, &pn, &total, &err) == 0)
                        FZ_CHECK(d->n_dags <= pn);
                break;
        case 3:
        case 4: {
                struct af_dag *g;

                d->dags = xcalloc(1, sizeof *d->dags);
                d->n_dags = 1;
                g = &d->dags[0];
                g->dag_id = xstrdup("d");
                if (airflow_parse_runs(copy, len, 1714651200000LL, true, g, &pn, &total, &older,
                                       &err) == 0) {
                        FZ_CHECK(g->n_recent <= AF_RECENT && g->n_recent <= pn);
                        FZ_CHECK(!g->have_last || g->last_run.run_id);
                }
                if (airflow_parse_tasks(copy, len, g, &pn, &total, &err) == 0)
                        FZ_CHECK(g->n_failed_tasks <= pn);
                break;
        }
        default:
                tok = airflow_parse_token(copy, len, &err);
                FZ_CHECK(tok || err.msg[0]);
                free(tok);
                break;
        }
        str = xstrndup(copy, len);
        (void)airflow_time_parse(str);
        {
                struct err pe;
                char *path = airflow_dag_path(str, str, "/taskInstances", &pe);

                FZ_CHECK(path || pe.msg[0]);
                free(path);
        }
        free(str);
        airflow_data_free(d);
        free(copy);
        return 0;
}
