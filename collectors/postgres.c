/*
 * PostgreSQL logical-replication collector (STUB: being implemented).
 */
#include "postgres.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

static const struct cfg_key pg_keys[] = {
        { "dsn",           CFG_STR,        offsetof(struct pg_cfg, dsn),           true,
          "libpq connection string (a password here is masked everywhere; prefer password_env)" },
        { "password_env",  CFG_SECRET_REF, offsetof(struct pg_cfg, password_env),  false,
          "name of an environment variable holding the password" },
        { "password_file", CFG_SECRET_REF, offsetof(struct pg_cfg, password_file), false,
          "path of a file holding the password (one trailing newline stripped)" },
        { "sslmode",       CFG_STR,        offsetof(struct pg_cfg, sslmode),       false,
          "libpq sslmode override (disable, prefer, require, verify-ca, verify-full)" },
        { NULL, 0, 0, false, NULL },
};

static const struct threshold_def pg_thresholds[] = {
        { "slot_lag_bytes",   THR_BYTES, 256.0 * 1024 * 1024, 2.0 * 1024 * 1024 * 1024,
          "WAL not yet confirmed by the slot's consumer (current LSN - confirmed_flush_lsn)" },
        { "retained_bytes",   THR_BYTES, 1.0 * 1024 * 1024 * 1024, 8.0 * 1024 * 1024 * 1024,
          "WAL kept on disk for the slot (current LSN - restart_lsn)" },
        { "slot_inactive_ms", THR_MS,    5.0 * 60 * 1000, 30.0 * 60 * 1000,
          "how long a slot has been seen inactive (no consumer connected)" },
        { "sender_lag_ms",    THR_MS,    30.0 * 1000, 5.0 * 60 * 1000,
          "pg_stat_replication replay_lag of a WAL sender" },
        { NULL, 0, 0, 0, NULL },
};

static enum coll_status pg_poll(void *state, const struct coll_ctx *ctx, void **data,
                                struct err *err)
{
        err_set(err, 1, "postgres collector not implemented yet");
        return COLL_DOWN;
}

const struct collector_ops coll_postgres_ops = {
        .name = "postgres",
        .title = "PostgreSQL",
        .default_interval_ms = 5000,
        .default_timeout_ms = 3000,
        .keys = pg_keys,
        .cfg_size = sizeof(struct pg_cfg),
        .thresholds = pg_thresholds,
        .poll = pg_poll,
        .key_metric_name = "max slot lag",
        .key_metric_unit = THR_BYTES,
};
