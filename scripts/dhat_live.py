#!/usr/bin/env python3
"""Sums a dhat heap profile's live blocks at `t-end` by allocation site.

Usage: dhat_live.py PROFILE.json N [FRAMES]

N is what the live bytes are divided by (the number of subscriptions, say); sites with fewer
than N/2 live blocks are summed into "other". FRAMES (default 14) is how many frames of each
site to print, skipping the allocator's and dhat's own.
"""
import json
import sys

SKIP = ("dhat::", "alloc::alloc", "alloc::raw_vec", "__rust", "<dhat::Alloc", "alloc::boxed::Box<T>::new",
        "core::ptr", "alloc::sync::Arc<T>::new", "std::alloc", "alloc::vec::Vec", "alloc::string",
        "<alloc::", "alloc::slice", "alloc::str", "alloc::fmt", "core::", "std::panicking", "std::rt")

def main():
    path, n = sys.argv[1], int(sys.argv[2])
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 14
    d = json.load(open(path))
    ftbl = d["ftbl"]
    sites = []
    other = 0
    for pp in d["pps"]:
        eb, ebk = pp.get("eb", 0), pp.get("ebk", 0)
        if ebk * 2 < n:
            other += eb
            continue
        frames = [ftbl[i] for i in pp["fs"]]
        frames = [f for f in frames if not any(s in f for s in SKIP)] or frames
        sites.append((eb, ebk, frames))
    sites.sort(key=lambda s: -s[0])
    total = sum(s[0] for s in sites)
    print(f"per unit (N={n}): {total / n:.0f} B in sites with >= N/2 live blocks; {other / n:.0f} B elsewhere")
    for eb, ebk, frames in sites:
        print(f"\n{eb / n:8.1f} B  {ebk / n:5.2f} blocks  (avg {eb / max(ebk, 1):.0f} B)")
        for f in frames[:depth]:
            # "0x...: name (file:line)"
            f = f.split(": ", 1)[-1]
            print("      ", f[:200])

main()
