"""Ableton Link: how close drumfont's downbeats fall to a Link peer's bar lines, over a long run.

A private JACK server (dummy driver, --period frames at 48 kHz; real-time where allowed) is the MIDI
receiver; a Link peer (aalink) runs in this process at --bpm with quantum 4 and a head start, so
that drumfont joins its session; drumfont plays `play --link`'s player (its own clock process) for
--seconds. Each downbeat (a crash struck only there) is compared with the peer's phase 0:
- as sent: the player's own record of when it sent the note (perf_counter), the peer's beat
  sampled on the same clock every 2 ms;
- as arrived: the JACK receiver's stamp less half a period (rtmidi delivers a message at the
  start of the first cycle after it was sent: tests/link_helpers.py has the details); a cycle that
  JACK itself delivered late (more than a period + 1 ms after the send) is counted apart.
Also the note-on / note-off / All Notes Off counts the receiver got, and whether every note-on
was ended. `--change 130` moves the peer to 130 BPM halfway (downbeats in the bar after the change
are left out of the figures and counted).

    python benchmarks/bench_link.py [--seconds 60] [--bpm 100] [--period 256] [--change BPM]
    python benchmarks/bench_link.py --api    # the measurements behind live/link.py's design

`--api` measures, in this process: the cost of aalink's synchronous reads and of link.Session.read,
and how late aalink's own asyncio `sync()` futures resolve after their beat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import link_helpers as lh  # noqa: E402

from drumfont.live import Player, PortSpec  # noqa: E402
from drumfont.live import link as lk  # noqa: E402
from drumfont.live import schedule as sch  # noqa: E402
from drumfont.score.pattern import from_text  # noqa: E402

PATTERN = from_text("CR X...............\nKK x.......x.......\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


def fmt(err_ms: np.ndarray) -> str:
    a = np.abs(err_ms)
    return f"median {np.median(a):.3f} ms, max {a.max():.3f} ms (signed median {np.median(err_ms):+.3f})"


def run(args: argparse.Namespace) -> None:
    with lh.jack_server(period=args.period, realtime=not args.no_rt_jack) as _env:
        print(f"JACK: dummy driver, {args.period} frames at {lh.RATE} Hz "
              f"({args.period / lh.RATE * 1e3:.2f} ms), {'real-time' if not args.no_rt_jack else 'normal'} "
              f"priority; load average {os.getloadavg()[0]:.2f}")
        peer = lh.Peer(args.bpm)
        time.sleep(1.0)     # the peer's session is the older one: drumfont joins it (link_helpers)
        tag = uuid.uuid4().hex[:6]
        spec = PortSpec(virtual=f"out{tag}", backend="jack", client_name=f"bench{tag}")
        with Player(port=spec, link=4, record_timing=True) as player:
            peers, _ = player.link_state()
            print(f"drumfont's clock: {player.priority}; Link peers seen: {peers}; session at {peer.link.tempo:g} BPM")
            rx = lh.Receiver(f"bench{tag}:out{tag}")
            player.set_pattern(PATTERN)
            player.start()
            t_change = None
            end = time.monotonic() + args.seconds
            if args.change:
                time.sleep(args.seconds / 2)
                t_change = time.perf_counter_ns()
                peer.link.tempo = args.change
            time.sleep(max(0.0, end - time.monotonic()))
            timing = player.timing()
            player.stop()
            time.sleep(0.3)
        rows = rx.stop()
        peer.close()
        print(f"load average after: {os.getloadavg()[0]:.2f}")

    n = len(timing)
    paired = rows[:n]
    if len(rows) < n or not np.array_equal(paired[:, 1], timing[:, 2]):
        print(f"!! the receiver's stream differs from the sent one ({len(rows)} received, {n} sent)")
        return
    crash = (paired[:, 1] == sch.NOTE_ON) & (paired[:, 2] == lh.CRASH)
    skipped = 0
    if t_change is not None:
        bar_after = 4 * 60e9 / args.change
        around = (timing[:, 1] > t_change) & (timing[:, 1] <= t_change + bar_after)
        skipped = int((crash & around).sum())
        crash &= ~around
    sent = timing[crash, 1].astype(float)
    arrived = paired[crash, 0].astype(float)
    period_ns = args.period * 1e9 / lh.RATE
    late = arrived - sent > period_ns + 1e6
    err_sent = peer.phase_error_ms(sent)
    err_arrived = peer.phase_error_ms(lh.sent_estimate(arrived, args.period))[~late]
    bars = np.flatnonzero(crash)
    if args.verbose:
        for k, (ts, es) in enumerate(zip(sent, err_sent)):
            rel = f"{(ts - t_change) / 1e9:+7.2f} s from the change" if t_change is not None else ""
            print(f"  downbeat {k:3d}: {es:+.3f} ms as sent {rel}")
    secs = (sent[-1] - sent[0]) / 1e9
    print(f"\n{len(sent)} downbeats over {secs:.1f} s" + (f" ({skipped} in the bar after the change left out)"
                                                          if skipped else ""))
    print(f"  phase error as sent    (player's record):    {fmt(err_sent)}")
    print(f"  phase error as arrived (JACK, - period/2):   {fmt(err_arrived)} over {len(err_arrived)}; "
          f"{int(late.sum())} delivered late by JACK")
    if len(bars) > 2 and t_change is None:
        slope = np.polyfit(np.arange(len(sent)), sent, 1)[0]
        print(f"  tempo from the downbeats: {4 * 60e9 / slope:.4f} BPM (session {args.bpm:g})")
    ons = int((rows[:, 1] == sch.NOTE_ON).sum())
    offs = int((rows[:, 1] == sch.NOTE_OFF).sum())
    anos = int(sum(tuple(r[1:4]) == sch.ALL_NOTES_OFF for r in rows))
    sounding: set[int] = set()
    early_ano = 0
    for status, note, _ in rows[:, 1:4]:
        if status == sch.NOTE_ON:
            sounding.add(int(note))
        elif status == sch.NOTE_OFF:
            sounding.discard(int(note))
        elif (status, note, _) == sch.ALL_NOTES_OFF:
            early_ano += bool(sounding)
            sounding.clear()
    print(f"  received: {ons} note-ons, {offs} note-offs, {anos} All Notes Off; "
          f"left sounding at an All Notes Off: {early_ano}; at the end: {len(sounding)}")


def api() -> None:
    """The measurements live/link.py's docstring quotes."""
    loop = asyncio.new_event_loop()
    import aalink

    async def make():
        return aalink.Link(120.0)

    link = loop.run_until_complete(make())
    link.quantum = 4
    link.enabled = True
    n = 200_000
    for name in ("beat", "tempo", "playing", "num_peers"):
        t = time.perf_counter_ns()
        for _ in range(n):
            getattr(link, name)
        print(f"aalink Link.{name}: {(time.perf_counter_ns() - t) / n / 1e3:.3f} us per read")
    session = lk.Session(120.0)
    t = time.perf_counter_ns()
    for _ in range(n // 10):
        session.read()
    print(f"link.Session.read (time, beat, time, tempo, playing, peers): "
          f"{(time.perf_counter_ns() - t) / (n // 10) / 1e3:.3f} us")
    session.close()

    async def lateness(beats: int = 40, step: float = 0.5) -> list[float]:
        out = []
        for _ in range(beats):
            target = await link.sync(step)
            out.append((link.beat - target) * 60e3 / link.tempo)
        return out

    link.enabled = False
    link2 = loop.run_until_complete(make())
    link2.quantum, link2.enabled, link = 4, True, link2
    late = loop.run_until_complete(lateness())
    print(f"aalink sync({0.5}) futures resolve after their beat: median {statistics.median(late):.3f} ms, "
          f"max {max(late):.3f} ms over {len(late)} (an idle asyncio loop; load {os.getloadavg()[0]:.2f})")
    link2.enabled = False
    loop.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--bpm", type=float, default=100.0)
    ap.add_argument("--period", type=int, default=lh.PERIOD, help="JACK period in frames (256 or more)")
    ap.add_argument("--change", type=float, default=None, metavar="BPM", help="the peer changes tempo halfway")
    ap.add_argument("--no-rt-jack", action="store_true", help="run JACK at normal priority")
    ap.add_argument("--verbose", action="store_true", help="print each downbeat's error")
    ap.add_argument("--api", action="store_true", help="measure aalink's API instead (live/link.py's docstring)")
    args = ap.parse_args()
    if lk.missing():
        raise SystemExit(lk.missing())
    if args.api:
        api()
    else:
        run(args)


if __name__ == "__main__":
    main()
