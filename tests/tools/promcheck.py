#!/usr/bin/env python3
"""Strict checker for the Prometheus text exposition format 0.0.4.

Usage: promcheck.py FILE   (exit 0 and "ok: N families, M samples", or
exit 1 with "FILE:LINE: what").  Stricter than the Go parser where the
format leaves room: no trailing comma in label sets, no duplicate series,
each family's samples contiguous and after its TYPE line, counters >= 0.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
HELP_RE = re.compile(r"# HELP (%s) ((?:[^\\\n]|\\\\|\\n)*)$" % NAME)
TYPE_RE = re.compile(r"# TYPE (%s) (\S+)$" % NAME)
SAMPLE_RE = re.compile(r"(%s)(\{.*\})? (\S+)(?: (-?[0-9]+))?$" % NAME)
LABEL_RE = re.compile(r'(%s)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"' % LABEL)
FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


class Bad(Exception):
    pass


def parse_labels(text):
    """'{a="x",b="y"}' -> (('a','x'), ('b','y')), strictly."""
    inner, pos, out = text[1:-1], 0, []
    while pos < len(inner):
        m = LABEL_RE.match(inner, pos)
        if not m:
            raise Bad("bad label set %r" % text)
        out.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(inner):
            if inner[pos] != "," or pos + 1 == len(inner):
                raise Bad("bad label separator in %r" % text)
            pos += 1
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise Bad("duplicate label name in %r" % text)
    if any(n.startswith("__") for n in names):
        raise Bad("reserved label name in %r" % text)
    return tuple(out)


def parse_value(text):
    if text in ("NaN", "+Inf", "-Inf"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not FLOAT_RE.match(text):
        raise Bad("bad value %r" % text)
    return float(text)


class Checker:
    def __init__(self):
        self.types, self.helps = {}, set()
        self.done, self.current = set(), None
        self.series, self.samples = set(), 0

    def family_of(self, name):
        for fam, typ in self.types.items():
            if name == fam or name in (fam + s for s in SUFFIXES.get(typ, ())):
                return fam
        return name

    def enter(self, fam):
        if fam != self.current:
            if fam in self.done:
                raise Bad("samples of %s are not contiguous" % fam)
            if self.current:
                self.done.add(self.current)
            self.current = fam

    def comment(self, line):
        if line.startswith("# HELP "):
            m = HELP_RE.match(line)
            if not m:
                raise Bad("bad HELP line")
            if m.group(1) in self.helps:
                raise Bad("second HELP for %s" % m.group(1))
            self.helps.add(m.group(1))
            self.enter(m.group(1))
        elif line.startswith("# TYPE "):
            m = TYPE_RE.match(line)
            if not m or m.group(2) not in TYPES:
                raise Bad("bad TYPE line")
            fam = m.group(1)
            if fam in self.types:
                raise Bad("second TYPE for %s" % fam)
            if fam == self.current and any(s[0] == fam for s in self.series):
                raise Bad("TYPE for %s after its samples" % fam)
            self.types[fam] = m.group(2)
            self.enter(fam)

    def sample(self, line):
        m = SAMPLE_RE.match(line)
        if not m:
            raise Bad("bad sample line")
        name, labels = m.group(1), parse_labels(m.group(2)) if m.group(2) else ()
        value = parse_value(m.group(3))
        fam = self.family_of(name)
        self.enter(fam)
        if self.types.get(fam) == "counter" and not (value >= 0 or math.isnan(value)):
            raise Bad("negative counter %s" % name)
        key = (name, tuple(sorted(labels)))
        if key in self.series:
            raise Bad("duplicate series %s%s" % (name, m.group(2) or ""))
        self.series.add(key)
        self.samples += 1

    def line(self, line):
        if line == "":
            return
        if line.startswith("#"):
            self.comment(line)
        else:
            self.sample(line)


def check(data):
    text = data.decode("utf-8")  # UnicodeDecodeError: not UTF-8
    if text and not text.endswith("\n"):
        raise Bad("last line does not end with a newline")
    c = Checker()
    for no, line in enumerate(text.split("\n")[:-1], 1):
        try:
            c.line(line)
        except Bad as e:
            raise Bad("%d: %s: %r" % (no, e, line))
    if c.samples == 0:
        raise Bad("no samples")
    return len(c.types), c.samples


def main():
    path = sys.argv[1]
    try:
        fams, samples = check(open(path, "rb").read())
    except (Bad, UnicodeDecodeError) as e:
        print("%s:%s" % (path, e))
        return 1
    print("ok: %d families, %d samples" % (fams, samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
