/*
 * views/runbooks.h: the Runbooks pane (views/runbooks.c): the config's
 * runbooks (suggested first: a `when:` entry matches a live alert or holds
 * on a source's status), then the runs of the ledger, newest first. Enter
 * on a finished run shows its records. The console runs runbooks itself
 * (Enter or r on a runbook: src/tui/tui_rbrun.c, which also owns Enter on
 * an unfinished run: resume); the pane also shows the command line that
 * runs the selected runbook in a second terminal, inputs prefilled.
 *
 * The TUI owns one struct view_runbooks (loaded once at start-up) and
 * passes it in view_data.runbooks. rows(), preamble() and detail() are pure
 * over it; the pane's draw hook (UI thread) refreshes the run list and the
 * open run's records from the disk at most every VIEW_RB_REFRESH_MS.
 */
#ifndef LO_VIEWS_RUNBOOKS_H
#define LO_VIEWS_RUNBOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/health.h"
#include "runbook/runbook.h"
#include "views/view.h"

struct cJSON;

extern const struct view_ops view_runbooks_ops;

/* Column indexes, for tests and for the pane's own code. */
enum { RB_COL_MARK, RB_COL_ID, RB_COL_TITLE, RB_COL_USER, RB_COL_STARTED, RB_COL_RESULT,
       RB_COL__COUNT };

/* view.flags of the Runbooks pane: only the runbooks answering `alert`. */
#define VIEW_RB_F_ALERT 0x1u

#define VIEW_RB_REFRESH_MS 3000

struct view_runbooks {
        struct runbook_set set;         /* loaded once; empty on a load error */
        char   load_error[512];         /* "" or why the set did not load */
        const char *config_path;        /* for the command line; NULL = omitted */
        struct alert alert;             /* the alert the pane was opened from */
        bool   has_alert;
        char   sel_id[TABLE_ID_MAX];    /* the selected row (draw hook), for the preamble */
        struct cJSON *runs;             /* ledger_list, owned; NULL before the first read */
        char   runs_error[256];
        int64_t runs_mono;              /* when runs was read (monotonic ms) */
        char   run_id[TABLE_ID_MAX];    /* the run whose records are in `records` */
        struct cJSON *records;          /* ledger_read of run_id, owned */
        size_t records_cut;
        char   records_error[256];
        int64_t records_mono;
};

/* Loads the config's runbooks (a load error is kept in load_error, never
 * fatal). UI thread at start-up. */
void view_runbooks_init(struct view_runbooks *st, const struct config *cfg);
void view_runbooks_done(struct view_runbooks *st);
/* Rereads the run list (and the records of the run whose detail is open:
 * detail_id "run:ID", or NULL) when older than VIEW_RB_REFRESH_MS, or
 * always when force. UI thread: a directory scan and a file read. */
void view_runbooks_refresh(struct view_runbooks *st, const char *detail_id, int64_t now_mono,
                           bool force);
/* Opens the pane on the runbooks answering `a` (the caller sets
 * VIEW_RB_F_ALERT in the pane's flags). */
void view_runbooks_set_alert(struct view_runbooks *st, const struct alert *a);

void view_runbooks_rows(const struct view_data *d, struct table_rows *out);
void view_runbooks_preamble(const struct view_data *d, struct tlines *out);
void view_runbooks_detail(const struct view_data *d, const char *id, struct tlines *out);

/* The kind of the source named `source`, "" when unknown. */
const char *view_runbooks_kind(const struct view_data *d, const char *source);
/* True when rb is suggested now: a `when:` entry matches an active alert
 * of d->track, or an expression entry holds on a source's latest status. */
bool view_runbooks_suggested(const struct view_data *d, const struct runbook *rb);
/* The first active alert rb answers (the pane's own alert when it was
 * opened from one and rb answers it), or NULL. */
const struct alert *view_runbooks_alert_for(const struct view_data *d, const struct runbook *rb);
/* The command line that runs rb in a second terminal, inputs prefilled
 * from `a` (may be NULL) and defaults; unbound inputs read NAME=? so the
 * operator sees what is missing. A value with other characters than
 * [A-Za-z0-9_./:@%+,=-] is single-quoted. config_path NULL: no --config. */
void view_runbooks_command(const struct runbook *rb, const struct alert *a,
                           const char *config_path, char *buf, size_t n);

#endif
