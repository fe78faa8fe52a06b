/*
 * reconcile_metrics: the reconciliation source's figures for /metrics
 * (collector_ops.metrics; docs/metrics.md lists them): buckets per class
 * (match, within tolerance, mismatch, missing on either side, in flight),
 * keys duplicated on a side, and the rows read per side.
 */
#include "collectors/reconcile/reconcile.h"

#include "core/promtext.h"
#include "core/snapshot.h"

void reconcile_metrics(const struct snapshot *snap, const struct source_cfg *src,
                       struct promtext *p)
{
        const struct reconcile_data *d = snap->data;
        const char *s = src->name;
        const size_t by_class[REC__CLASSES] = {
                [REC_MATCH] = d->matched,
                [REC_WITHIN] = d->within,
                [REC_MISMATCH] = d->mismatched,
                [REC_MISSING_IN_SPEED] = d->missing_in_speed,
                [REC_MISSING_IN_BATCH] = d->missing_in_batch,
                [REC_IN_FLIGHT] = d->in_flight,
        };

        promtext_declare(p, "lambdaops_reconcile_buckets", PROMTEXT_GAUGE,
                         "Buckets of the last comparison by class: match, within (tolerance), "
                         "mismatch, missing_in_speed, missing_in_batch, in_flight (younger than "
                         "settle).");
        promtext_declare(p, "lambdaops_reconcile_duplicated_keys", PROMTEXT_GAUGE,
                         "Keys with more than one row on a side (not compared).");
        promtext_declare(p, "lambdaops_reconcile_rows", PROMTEXT_GAUGE,
                         "Rows read from each side (speed, batch) at the last comparison.");
        for (int c = 0; c < REC__CLASSES; c++)
                promtext_add(p, "lambdaops_reconcile_buckets", (double)by_class[c], "source", s,
                             "class", coll_reconcile_class_name(c), NULL);
        promtext_add(p, "lambdaops_reconcile_duplicated_keys", (double)d->duplicated,
                     "source", s, NULL);
        promtext_add(p, "lambdaops_reconcile_rows", (double)d->rows[REC_SPEED], "source", s,
                     "side", "speed", NULL);
        promtext_add(p, "lambdaops_reconcile_rows", (double)d->rows[REC_BATCH], "source", s,
                     "side", "batch", NULL);
}
