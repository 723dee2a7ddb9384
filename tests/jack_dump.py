"""Reading what `jack_midi_dump` (jackd2's C MIDI recorder) wrote: shared by the live tests
(tests/conftest.py) and the player benchmarks (benchmarks/bench_player.py)."""

from __future__ import annotations


def parse_dump(raw: bytes) -> list[tuple[int, tuple[int, ...]]]:
    """(JACK frame, message bytes) of each line `jack_midi_dump` wrote."""
    events = []
    for line in raw.decode(errors="replace").splitlines():
        head, sep, rest = line.partition(":")
        if not sep or not head.strip().isdigit():
            continue
        data = []
        for tok in rest.split():  # the bytes, then jack_midi_dump's description of them
            if len(tok) != 2:
                break
            try:
                data.append(int(tok, 16))
            except ValueError:
                break
        if data:
            events.append((int(head), tuple(data)))
    return events
