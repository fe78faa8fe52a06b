#!/usr/bin/env python3
"""Kills what a test started once the test process is gone, however it ended.

Test-only. Started by the C harness (tests/lib/tu_proc.c) and by the shell tests
(lo_guard in tests/lib/helpers.sh). It detaches at once (double fork, its own
session, stdio on /dev/null, no other inherited descriptor), so it neither
dies with the test's process tree nor holds ctest's output pipe, then waits:

  default      reads commands on stdin until end of file, which comes when
               the test process has exited (it holds the only write end);
  --pid PID    waits for PID to exit (pidfd), then reads the commands from
               every --list FILE that exists; PID's group is protected.

Commands, one per line:
  g PGID   kill process group PGID at the end    u PGID   forget it
  d DIR    at the end kill every process whose command line mentions DIR
           or whose working directory is in DIR (with its process group
           when that group is not a protected one)
  r DIR    remove DIR at the end (not with LO_TEST_KEEP set)
  x DIR    forget d and r of DIR

At the end: SIGKILL to every group, then rounds of /proc scans for the
directories until none is found (10 s at most), then the removals. Groups
<= 1, the guard's own, the test's own (--protect PGID) are never signalled
as groups; a process of such a group is killed alone.
"""
import os
import select
import signal
import sys
import time


def parse(lines, groups, dirs, removals):
    for line in lines:
        op, _, arg = line.rstrip("\n").partition(" ")
        if not arg:
            continue
        if op in ("g", "u"):
            try:
                pg = int(arg)
            except ValueError:
                continue
            if op == "g":
                groups.add(pg)
            else:
                groups.discard(pg)
        elif op == "d":
            dirs.add(arg)
        elif op == "r":
            removals.add(arg)
        elif op == "x":
            dirs.discard(arg)
            removals.discard(arg)


def wait_pid(pid):
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except OSError:
        fd = -1
    if fd >= 0:
        select.select([fd], [], [])
        os.close(fd)
        return
    while True:                 # no pidfd: poll for the PID
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass
        time.sleep(0.2)


def mentions(pid, dirs):
    """Its command line mentions a dir, or it runs in one (PostgreSQL
    backends: their own session each, a title for a command line, the data
    dir for a working directory)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    try:
        cwd = os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        cwd = ""
    return any(d in cmd or cwd == d or cwd.startswith(d + "/") for d in dirs)


def kill_all(groups, dirs, protected):
    me = os.getpid()
    for pg in groups:
        if pg > 1 and pg not in protected:
            try:
                os.killpg(pg, signal.SIGKILL)
            except OSError:
                pass
    if not dirs:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if pid in (me, 1) or not mentions(pid, dirs):
                continue
            try:
                pg = os.getpgid(pid)
                if pg > 1 and pg not in protected:
                    os.killpg(pg, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                found = True
            except OSError:
                pass
        if not found:
            return
        time.sleep(0.05)        # let the killed ones go before the next scan


def main():
    args = sys.argv[1:]
    watch, lists, protected = 0, [], set()
    while args:
        a = args.pop(0)
        if a == "--pid":
            watch = int(args.pop(0))
            try:
                protected.add(os.getpgid(watch))
            except OSError:
                pass
        elif a == "--list":
            lists.append(args.pop(0))
        elif a == "--protect":
            protected.add(int(args.pop(0)))
        elif a in ("d", "r", "g"):      # initial commands: d DIR r DIR ...
            lists.append((a, args.pop(0)))
        else:
            sys.exit("proc_guard: unknown argument %s" % a)

    # Detach: the caller reaps the first child at once.
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(s, signal.SIG_IGN)
    protected.add(os.getpgid(0))
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    os.dup2(null, 2)
    if watch:
        os.dup2(null, 0)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 1024)

    groups, dirs, removals = set(), set(), set()
    initial = ["%s %s\n" % x for x in lists if isinstance(x, tuple)]
    parse(initial, groups, dirs, removals)
    if watch:
        wait_pid(watch)
        for path in lists:
            if isinstance(path, tuple):
                continue
            try:
                with open(path) as f:
                    parse(f.readlines(), groups, dirs, removals)
            except OSError:
                pass
    else:
        buf = b""
        while True:
            try:
                chunk = os.read(0, 4096)
            except InterruptedError:
                continue
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            parse([l.decode("utf-8", "replace") for l in lines], groups, dirs, removals)
    kill_all(groups, dirs, protected)
    if not os.environ.get("LO_TEST_KEEP"):
        for d in removals:
            if d.startswith("/tmp/") and ".." not in d:
                os.spawnvp(os.P_WAIT, "rm", ["rm", "-rf", d])


if __name__ == "__main__":
    main()
