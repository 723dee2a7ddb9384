"""Soak test of the live player: minutes at 300 BPM with a pattern, swing or tempo change every
bar while the parent (the UI's process) is kept busy, against a private JACK dummy server.

Prints: bars played, note-on/note-off balance per note at a JACK receiver (jack_midi_dump),
whether All Notes Off arrived after stop, send lateness (sent - deadline, the clock's own
record) p50/p99/max over the whole run and per 5-minute window, and the resident memory of
the clock process and the parent at the start (after 30 s of warm-up) and the end.

    python benchmarks/soak_player.py --minutes 30 [--bpm 300] [--period 256] [--idle]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_player import Load, parse_dump, record_monitor, start_jack, stop_proc  # noqa: E402  (same JACK rig and load)

ALL_NOTES_OFF = (0xB9, 123, 0)


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--bpm", type=float, default=300.0)
    ap.add_argument("--period", type=int, default=1024,
                    help="JACK period in frames (1024: the dummy driver loses no events on a busy box)")
    ap.add_argument("--idle", action="store_true", help="leave the parent idle (no UI-like load)")
    args = ap.parse_args()
    if not shutil.which("jackd") or not shutil.which("jack_midi_dump"):
        raise SystemExit("needs jackd and jack_midi_dump (apt install jackd2)")

    from drumfont.drums import rules
    from drumfont.live import Player, PortSpec

    jack, env = start_jack(args.period, realtime=False)
    tag = uuid.uuid4().hex[:5]
    spec = PortSpec(virtual=f"s{tag}", backend="jack", client_name=f"soak{tag}")
    player = Player(port=spec, bpm=args.bpm, record_timing=True).open()
    mon, out = record_monitor(env, f"{spec.client_name}:{spec.virtual}")
    rng = np.random.default_rng(0)
    bank = [p for g in ("rock", "jazz", "hiphop", "electronic", "latin") for p in rules.generate(g, 8, rng)]
    player.set_pattern(bank[0])
    load = None if args.idle else Load().__enter__()
    la0 = os.getloadavg()[0]
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    changes = {"pattern": 0, "swing": 0, "tempo": 0}
    mem: list[tuple[float, float, float]] = []
    last_bar, next_mem = -1, t0 + 30
    player.start()
    try:
        while time.monotonic() < end:
            head = player.playhead()
            if head is not None and head[0] != last_bar:  # a new bar: change something for the next one
                last_bar = head[0]
                kind = ("pattern", "swing", "tempo")[last_bar % 3]
                if kind == "pattern":
                    player.set_pattern(bank[last_bar % len(bank)])
                elif kind == "swing":
                    player.set_swing(50.0 + (last_bar * 7) % 26)
                else:
                    player.set_tempo(args.bpm if last_bar % 2 else args.bpm - 4)
                changes[kind] += 1
            if time.monotonic() >= next_mem:
                mem.append((time.monotonic() - t0, rss_mb(player._worker.pid), rss_mb(os.getpid())))
                next_mem += 30
            time.sleep(0.01)
    finally:
        if load is not None:
            load.__exit__(None, None, None)
    clock_pid = player._worker.pid
    mem.append((time.monotonic() - t0, rss_mb(clock_pid), rss_mb(os.getpid())))
    player.stop()
    time.sleep(0.5)
    rec = player.timing(timeout=60)
    player.close()
    time.sleep(0.5)
    stop_proc(mon)
    got = [m for _, m in parse_dump(out)]
    stop_proc(jack)
    la1 = os.getloadavg()[0]

    ons: dict[int, int] = {}
    offs: dict[int, int] = {}
    for m in got:
        if len(m) == 3 and m[0] == 0x99 and m[2] > 0:
            ons[m[1]] = ons.get(m[1], 0) + 1
        elif len(m) == 3 and (m[0] == 0x89 or (m[0] == 0x99 and m[2] == 0)):
            offs[m[1]] = offs.get(m[1], 0) + 1
    unbalanced = {n: (ons.get(n, 0), offs.get(n, 0)) for n in set(ons) | set(offs) if ons.get(n, 0) != offs.get(n, 0)}
    anoff = [i for i, m in enumerate(got) if m == ALL_NOTES_OFF]
    # The sender's side, from the clock's own record (scheduled messages; the note-offs the stop
    # sends for what still sounds are not in it, so ons - offs is what the stop released).
    ons_sent, offs_sent = int((rec[:, 2] == 0x99).sum()), int((rec[:, 2] == 0x89).sum())
    released = ons_sent - offs_sent
    lost = len(rec) + released + len(anoff) - len(got)
    late_ms = (rec[:, 1] - rec[:, 0]) / 1e6
    minutes = (time.monotonic() - t0) / 60
    print(f"# soak: {minutes:.1f} min at {args.bpm:g} BPM, JACK dummy period {args.period}, parent "
          f"{'idle' if args.idle else 'busy (' + load.what + ', a pure-Python thread)'}, clock {player.priority}, "
          f"load average {la0:.2f} -> {la1:.2f}, {os.cpu_count()} CPUs")
    print(f"bars played: {last_bar + 1}; changes: {changes}")
    print(f"sent (clock record): note-ons {ons_sent}, scheduled note-offs {offs_sent}; sounding at stop, "
          f"released by the stop's note-offs: {released} "
          f"({'balanced' if 0 <= released <= 9 else 'NOT balanced: more than the 9 voices'})")
    print(f"messages lost between the port and the JACK receiver (dummy driver on a loaded box): {lost}")
    if os.environ.get("SOAK_DEBUG"):
        print("last messages:", got[-12:])
    print(f"messages sent: {len(rec)}; at the receiver: {len(got)}; note-ons {sum(ons.values())}, note-offs {sum(offs.values())}; "
          f"notes unbalanced: {len(unbalanced)} {unbalanced if unbalanced else ''}")
    print(f"All Notes Off after stop: {'yes' if anoff and anoff[-1] >= len(got) - 12 else 'NO'} "
          f"({len(anoff)} in all)")
    print(f"send lateness ms over {len(late_ms)} messages: p50 {np.percentile(late_ms, 50):.3f}  "
          f"p99 {np.percentile(late_ms, 99):.3f}  max {late_ms.max():.3f}")
    t_rel = (rec[:, 0] - rec[0, 0]) / 60e9
    for w in range(int(np.ceil(t_rel[-1] / 5)) if len(t_rel) else 0):
        sel = late_ms[(t_rel >= w * 5) & (t_rel < (w + 1) * 5)]
        if len(sel):
            print(f"  minutes {w * 5:>3}-{(w + 1) * 5:<3} p99 {np.percentile(sel, 99):.3f}  max {sel.max():.3f}")
    if len(mem) >= 2:
        print(f"RSS MB, clock process: {mem[0][1]:.1f} at {mem[0][0]:.0f} s -> {mem[-1][1]:.1f} at {mem[-1][0]:.0f} s; "
              f"parent: {mem[0][2]:.1f} -> {mem[-1][2]:.1f}")


if __name__ == "__main__":
    main()
