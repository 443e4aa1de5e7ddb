#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Prints `nft list table` or `nft --debug=netlink list table` output in an order that depends
only on content: objects sorted by name (nft lists them in the order they were created) and each
set's elements sorted (the kernel dumps a concatenation's elements in insertion order). A rule's
expressions and a chain's rules keep their order; handles are dropped.

Usage: nft_norm.py list|netlink < output
"""
import re
import sys


def norm_list(text):
    """Top-level blocks of the table, each with its element list flattened and sorted."""
    lines = text.splitlines()
    head, blocks, cur = [], [], None
    for line in lines[1:-1]:
        if re.match(r"^\t\S", line) and cur is None:
            cur = [line]
        elif cur is not None:
            cur.append(line)
            if line == "\t}":
                blocks.append(cur)
                cur = None
        elif line.strip():
            head.append(line)
    out = [lines[0]] + head
    for b in sorted(blocks, key=lambda b: b[0]):
        body = "\n".join(b)
        m = re.search(r"elements = \{(.*?)\}", body, re.S)
        if m:
            elems = sorted(e.strip() for e in m.group(1).split(","))
            body = body[: m.start()] + "elements = { " + ", ".join(elems) + " }" + body[m.end():]
        out.append(body)
    return "\n".join(out + [lines[-1]])


def norm_netlink(text):
    """Blocks headed "<family> wardwall @set" (element lines, sorted) or "<family> wardwall
    CHAIN handle [previous]" (a rule's expressions), grouped by object name."""
    groups = {}
    cur = None
    for line in text.splitlines():
        if line.startswith("table "):
            break  # the listing nft prints after its debug output
        m = re.match(r"^(inet|bridge) wardwall (\S+)", line)
        if m:
            cur = [m.group(0)]
            groups.setdefault(m.group(2), []).append(cur)
        elif cur is not None and line.strip():
            cur.append(line)
    out = []
    for name in sorted(groups):
        for block in groups[name]:
            body = block[1:]
            if name.startswith("@"):
                body = sorted(body)
            out.append("\n".join([block[0]] + body))
    return "\n\n".join(out)


if __name__ == "__main__":
    data = sys.stdin.read()
    print(norm_list(data) if sys.argv[1:] == ["list"] else norm_netlink(data))
