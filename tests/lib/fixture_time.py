"""Relative times in test fixtures (test-only; imported by the fixture servers).

A fixture never holds an absolute date that the code under test compares
with its own clock: it holds a token that is expanded when the fixture is
loaded, relative to the test's start.

    {{now}}                 the anchor, as 2027-01-02T03:04:05Z
    {{now-11d3h}}           11 days 3 hours before it (units: w d h m s)
    {{now+90s}}             after it
    {{now-5m|FORMAT}}       FORMAT is a strftime format in UTC, or one of
                            s (Unix seconds), ms (Unix milliseconds)

The anchor is LO_FIXTURE_NOW (Unix seconds) when set, so that every fixture
server of one test and the test itself agree on one moment; the C side is
tu_fixture_expand() in tests/lib/tu_common.c, with the same syntax and results.
Without LO_FIXTURE_NOW the anchor is the first call's time.
"""
import datetime
import os
import re
import time

TOKEN = re.compile(r"\{\{now((?:[+-](?:\d+[wdhms])+)?)(?:\|([^}]*))?\}\}")
_UNIT = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_anchor = None


def anchor():
    """The moment fixtures are relative to, in Unix seconds."""
    global _anchor
    if _anchor is None:
        env = os.environ.get("LO_FIXTURE_NOW", "")
        _anchor = int(env) if env.strip().lstrip("-").isdigit() else int(time.time())
    return _anchor


def offset_s(spec):
    """'-11d3h' -> -961200; '' -> 0."""
    if not spec:
        return 0
    sign = -1 if spec[0] == "-" else 1
    total = sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)([wdhms])", spec))
    return sign * total


def render(t, fmt):
    if fmt == "s":
        return str(t)
    if fmt == "ms":
        return str(t * 1000)
    dt = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return dt.strftime(fmt or "%Y-%m-%dT%H:%M:%SZ")


def expand(text, now=None):
    """Replaces every {{now...}} token in text (str or bytes)."""
    base = anchor() if now is None else now
    if isinstance(text, bytes):
        if b"{{now" not in text:
            return text
        return expand(text.decode("utf-8"), base).encode("utf-8")
    if "{{now" not in text:
        return text
    return TOKEN.sub(lambda m: render(base + offset_s(m.group(1)), m.group(2)), text)
