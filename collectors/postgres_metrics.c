/*
 * postgres_metrics: the PostgreSQL source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them). One sample per
 * known value: a slot without a confirmed_flush_lsn has no lag sample, a
 * server before 13 no wal_status or safe_wal_size, a rate needs two polls.
 */
#include "collectors/postgres.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/promtext.h"
#include "core/snapshot.h"

static const char *const pg_wal_statuses[] = { "reserved", "extended", "unreserved", "lost" };

static void postgres_metrics_declare(struct promtext *p)
{
        promtext_declare(p, "lambdaops_postgres_info", PROMTEXT_GAUGE,
                         "Always 1; labels: the server version and wal_level.");
        promtext_declare(p, "lambdaops_postgres_in_recovery", PROMTEXT_GAUGE,
                         "1 when the server is a standby (pg_is_in_recovery()).");
        promtext_declare(p, "lambdaops_postgres_wal_bytes_per_second", PROMTEXT_GAUGE,
                         "WAL written per second between the last two polls.");
        promtext_declare(p, "lambdaops_postgres_max_slot_wal_keep_size_bytes", PROMTEXT_GAUGE,
                         "max_slot_wal_keep_size; absent when unlimited or before PostgreSQL 13.");
        promtext_declare(p, "lambdaops_postgres_slot_info", PROMTEXT_GAUGE,
                         "Always 1 per replication slot; labels: type, plugin, database, "
                         "temporary.");
        promtext_declare(p, "lambdaops_postgres_slot_active", PROMTEXT_GAUGE,
                         "1 when a consumer is connected to the slot.");
        promtext_declare(p, "lambdaops_postgres_slot_lag_bytes", PROMTEXT_GAUGE,
                         "Current WAL position minus the slot's confirmed_flush_lsn.");
        promtext_declare(p, "lambdaops_postgres_slot_retained_wal_bytes", PROMTEXT_GAUGE,
                         "WAL the slot keeps on disk: current position minus restart_lsn.");
        promtext_declare(p, "lambdaops_postgres_slot_safe_wal_size_bytes", PROMTEXT_GAUGE,
                         "WAL that can still be written before the slot is lost (PostgreSQL 13+; "
                         "absent when unlimited).");
        promtext_declare(p, "lambdaops_postgres_slot_wal_status", PROMTEXT_GAUGE,
                         "1 for the slot's wal_status (reserved, extended, unreserved, lost), 0 "
                         "for the others (PostgreSQL 13+).");
        promtext_declare(p, "lambdaops_postgres_slot_lag_growth_bytes_per_second", PROMTEXT_GAUGE,
                         "Slope of the slot's lag over the last 5 minutes (negative: catching "
                         "up).");
        promtext_declare(p, "lambdaops_postgres_slot_retained_growth_bytes_per_second",
                         PROMTEXT_GAUGE,
                         "Slope of the slot's retained WAL over the last 5 minutes.");
        promtext_declare(p, "lambdaops_postgres_slot_wal_lost_eta_seconds", PROMTEXT_GAUGE,
                         "Seconds until safe_wal_size is used up at the current growth; absent "
                         "when not growing or not limited.");
        promtext_declare(p, "lambdaops_postgres_slot_inactive_seconds", PROMTEXT_GAUGE,
                         "How long the slot has had no consumer; absent while active.");
        promtext_declare(p, "lambdaops_postgres_sender_lag_seconds", PROMTEXT_GAUGE,
                         "A WAL sender's write, flush and replay lag (pg_stat_replication; "
                         "stage label).");
}

void postgres_metrics(const struct snapshot *snap, const struct source_cfg *src,
                      struct promtext *p)
{
        const struct pg_data *d = snap->data;
        const char *s = src->name;

        postgres_metrics_declare(p);
        promtext_add(p, "lambdaops_postgres_info", 1, "source", s,
                     "version", d->server_version ? d->server_version : "",
                     "wal_level", d->wal_level ? d->wal_level : "", NULL);
        promtext_add(p, "lambdaops_postgres_in_recovery", d->in_recovery ? 1 : 0, "source", s,
                     NULL);
        promtext_add(p, "lambdaops_postgres_wal_bytes_per_second", d->wal_bytes_per_sec,
                     "source", s, NULL);
        if (d->max_slot_wal_keep_size >= 0)
                promtext_add(p, "lambdaops_postgres_max_slot_wal_keep_size_bytes",
                             (double)d->max_slot_wal_keep_size, "source", s, NULL);
        for (size_t i = 0; i < d->n_slots; i++) {
                const struct pg_slot *sl = &d->slots[i];
                const char *n = sl->name;

                promtext_add(p, "lambdaops_postgres_slot_info", 1, "source", s, "slot", n,
                             "type", sl->type ? sl->type : "",
                             "plugin", sl->plugin ? sl->plugin : "",
                             "database", sl->database ? sl->database : "",
                             "temporary", sl->temporary ? "true" : "false", NULL);
                promtext_add(p, "lambdaops_postgres_slot_active", sl->active ? 1 : 0,
                             "source", s, "slot", n, NULL);
                if (sl->has_lag)
                        promtext_add(p, "lambdaops_postgres_slot_lag_bytes", (double)sl->lag_bytes,
                                     "source", s, "slot", n, NULL);
                if (sl->has_retained)
                        promtext_add(p, "lambdaops_postgres_slot_retained_wal_bytes",
                                     (double)sl->retained_bytes, "source", s, "slot", n, NULL);
                if (sl->has_safe_wal_size)
                        promtext_add(p, "lambdaops_postgres_slot_safe_wal_size_bytes",
                                     (double)sl->safe_wal_size, "source", s, "slot", n, NULL);
                if (sl->wal_status)
                        for (size_t j = 0; j < sizeof pg_wal_statuses / sizeof *pg_wal_statuses;
                             j++)
                                promtext_add(p, "lambdaops_postgres_slot_wal_status",
                                             strcmp(sl->wal_status, pg_wal_statuses[j]) == 0,
                                             "source", s, "slot", n,
                                             "status", pg_wal_statuses[j], NULL);
                if (sl->lag_hist.n >= 2)
                        promtext_add(p, "lambdaops_postgres_slot_lag_growth_bytes_per_second",
                                     sl->lag_rate, "source", s, "slot", n, NULL);
                if (sl->retained_hist.n >= 2)
                        promtext_add(p, "lambdaops_postgres_slot_retained_growth_bytes_per_second",
                                     sl->retained_rate, "source", s, "slot", n, NULL);
                if (sl->eta_lost_s >= 0)
                        promtext_add(p, "lambdaops_postgres_slot_wal_lost_eta_seconds",
                                     sl->eta_lost_s, "source", s, "slot", n, NULL);
                if (!sl->active)
                        promtext_add(p, "lambdaops_postgres_slot_inactive_seconds",
                                     (double)sl->inactive_for_ms / 1000.0, "source", s, "slot", n,
                                     NULL);
        }
        for (size_t i = 0; i < d->n_senders; i++) {
                const struct pg_sender *w = &d->senders[i];
                const char *app = w->application_name ? w->application_name : "";
                char pid[16];
                static const char *const stages[] = { "write", "flush", "replay" };
                const int64_t lags[] = { w->write_lag_ms, w->flush_lag_ms, w->replay_lag_ms };

                snprintf(pid, sizeof pid, "%d", w->pid);
                for (size_t j = 0; j < 3; j++)
                        if (lags[j] >= 0)
                                promtext_add(p, "lambdaops_postgres_sender_lag_seconds",
                                             (double)lags[j] / 1000.0, "source", s,
                                             "application", app, "pid", pid,
                                             "stage", stages[j], NULL);
        }
}
