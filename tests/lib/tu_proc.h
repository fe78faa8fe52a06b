/*
 * tu_proc: how the test harnesses start and end server processes, so that
 * no server outlives its test, however the test ends. Test-only.
 *
 *  - tu_proc_spawn runs each server in its own process group (posix_spawn,
 *    POSIX_SPAWN_SETPGROUP; no shell), stdin from /dev/null, stdout and
 *    stderr appended to a log file in the test's temp dir (never the test's
 *    own output, which ctest reads through a pipe), no other descriptor
 *    inherited;
 *  - tu_proc_stop signals the whole group, polls for the leader's exit with
 *    a deadline, then SIGKILLs the group (children a server left behind,
 *    e.g. PostgreSQL backends, go with it);
 *  - a registry of live groups and temp dirs: an atexit handler stops the
 *    ones a test left (a failed cmocka assert longjmps past the test's own
 *    teardown) and removes the dirs;
 *  - a guard process (tests/lib/proc_guard.py, detached: not in the test's
 *    process tree, stdio on /dev/null) learns every group and dir over a
 *    socket and, when the test process is gone (exit, abort, SIGKILL: the
 *    socket reaches end of file), SIGKILLs what is still registered and
 *    every process whose command line mentions a registered dir or whose
 *    working directory is in one.
 * Groups are ended by their ID, never by a program name.
 *
 * Fault hook for tests/selftest/cleanup.sh: with LO_TU_FAULT=KIND:MODE, the harness
 * of KIND (pg, ch, prom, httpd, kube) calls tu_proc_fault after a server
 * has started, which prints "LO_TU_FAULT KIND pgid=N dir=DIR" on stderr and
 * then: assert  fails the running cmocka test (fail_msg),
 *       abort   abort(),
 *       hang    blocks until the process is killed.
 */
#ifndef LO_TESTS_TU_PROC_H
#define LO_TESTS_TU_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Starts argv[0] (a path; with search, looked up in PATH) in a new process
 * group with stdio as above (log NULL: /dev/null), registers the group.
 * Returns the PID (== its group ID) or -1 (message on stderr). */
pid_t tu_proc_spawn(const char *const argv[], const char *log, bool search);
/* Sends sig to the group of pid (a tu_proc_spawn PID), waits up to grace_ms
 * for pid to exit, then SIGKILLs the group and waits for the group to be
 * empty (bounded); reaps pid; unregisters it. Returns pid's wait status
 * when it was reaped, else -1. No-op (-1) for pid <= 0. */
int tu_proc_stop(pid_t pid, int sig, int64_t grace_ms);
/* Forgets a group (e.g. the server was found dead and reaped). */
void tu_proc_forget(pid_t pid);
/* Sends sig to every other process whose working directory is dir or in
 * it, or whose command line mentions dir (by PID; e.g. PostgreSQL backends,
 * each in its own session, in the data dir). Returns how many. */
int tu_proc_signal_dir(const char *dir, int sig);

/* Registers a temp dir: removed at exit if the test did not (unless
 * LO_TEST_KEEP), and any process mentioning it is killed once the test
 * process is gone. */
void tu_proc_track_dir(const char *dir);
/* The dir was removed by the harness: forget it. */
void tu_proc_untrack_dir(const char *dir);
/* SIGKILL to what still runs in dir (tu_proc_signal_dir), rm -rf of dir
 * unless LO_TEST_KEEP is set, then tu_proc_untrack_dir. */
void tu_proc_remove_dir(const char *dir);

/* The fault hook (see above); a no-op without LO_TU_FAULT for kind. */
void tu_proc_fault(const char *kind, pid_t pgid, const char *dir);

#endif
