/*
 * schema_registry_metrics: the Schema Registry source's figures for
 * /metrics (collector_ops.metrics; docs/metrics.md): subjects, and per
 * subject whose details were read its version count and latest version.
 */
#include "collectors/schema_registry.h"

#include "core/promtext.h"
#include "core/snapshot.h"

void schema_registry_metrics(const struct snapshot *snap, const struct source_cfg *src,
                             struct promtext *p)
{
        const struct sr_data *d = snap->data;
        const char *s = src->name;

        promtext_declare(p, "lambdaops_schema_registry_subjects", PROMTEXT_GAUGE,
                         "Subjects the registry lists.");
        promtext_declare(p, "lambdaops_schema_registry_subject_versions", PROMTEXT_GAUGE,
                         "Registered versions of the subject.");
        promtext_declare(p, "lambdaops_schema_registry_subject_latest_version", PROMTEXT_GAUGE,
                         "The subject's latest version number.");
        promtext_add(p, "lambdaops_schema_registry_subjects", (double)d->n_subjects, "source", s,
                     NULL);
        for (size_t i = 0; i < d->n_subjects; i++) {
                const struct sr_subject *u = &d->subjects[i];

                if (u->versions >= 0)
                        promtext_add(p, "lambdaops_schema_registry_subject_versions",
                                     (double)u->versions, "source", s, "subject", u->name, NULL);
                if (u->latest_version >= 0)
                        promtext_add(p, "lambdaops_schema_registry_subject_latest_version",
                                     (double)u->latest_version, "source", s,
                                     "subject", u->name, NULL);
        }
}
