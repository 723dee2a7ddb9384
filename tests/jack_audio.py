"""A JACK audio recorder for the live-audio tests and benchmarks: a JACK client (JACK-Client, in
this process) whose inputs are connected to the ports under test. Each frame it records is placed
on `time.perf_counter_ns()`'s clock (the player's) through the earliest process callback seen in
the second before it: a callback that wakes late only ever looks later, so the minimum is the
cycle's true start; the window follows the dummy driver's frame clock, which falls behind the
wall clock each time its timer wakes late (an xrun)."""

from __future__ import annotations

import time

import numpy as np


class JackRecorder:
    """Record `sources` (JACK output port names, one per channel) until `stop()`."""

    def __init__(self, sources: list[str], seconds: float = 30.0, name: str = "drumfont-rec") -> None:
        import jack

        self.client = jack.Client(name, no_start_server=True)
        self.rate = self.client.samplerate
        self.buf = np.zeros((int(seconds * self.rate), len(sources)), np.float32)
        self.pos = 0
        self.first_frame: int | None = None
        self.cycles: list[tuple[int, float]] = []   # (first frame of the cycle, perf ns of frame 0 as seen)
        self.xruns = 0
        self.ins = [self.client.inports.register(f"in_{i}") for i in range(len(sources))]
        self.client.set_process_callback(self._process)
        self.client.set_xrun_callback(self._xrun)
        self.client.activate()
        for port, src in zip(self.ins, sources):
            self.client.connect(src, port)

    def _xrun(self, delay: float) -> None:
        self.xruns += 1

    def _process(self, frames: int) -> None:
        now = time.perf_counter_ns()
        f0 = self.client.last_frame_time
        if self.first_frame is None:
            self.first_frame = f0
        at = (f0 - self.first_frame) & 0xFFFFFFFF
        self.cycles.append((at, now - at * 1e9 / self.rate))
        n = min(frames, len(self.buf) - at)
        if n > 0:
            for c, port in enumerate(self.ins):
                self.buf[at:at + n, c] = port.get_array()[:n]
            self.pos = max(self.pos, at + n)

    def stop(self) -> np.ndarray:
        """End recording; the audio, (frames, channels) float32, frame 0 = the first cycle."""
        self.client.deactivate()
        self.client.close()
        return self.buf[:self.pos]

    def perf_ns(self, seconds: np.ndarray, window_s: float = 1.0) -> np.ndarray:
        """perf_counter_ns() time of positions in the recording (seconds from its start)."""
        cyc = np.array(self.cycles, np.float64).reshape(-1, 2)
        frames = np.asarray(seconds, np.float64) * self.rate
        out = np.empty(len(frames))
        for i, f in enumerate(frames):
            k = max(0, int(np.searchsorted(cyc[:, 0], f, side="right")) - 1)
            lo = int(np.searchsorted(cyc[:, 0], cyc[k, 0] - window_s * self.rate))
            out[i] = cyc[lo:k + 1, 1].min() + f * 1e9 / self.rate
        return out


def kit_ports(timeout: float = 5.0) -> list[str]:
    """The ports that PortAudio connected to the server's playback ports ("the speakers"): the
    built-in kit's output, whatever PortAudio named its client."""
    import jack

    client = jack.Client("drumfont-probe", no_start_server=True)
    try:
        end = time.monotonic() + timeout
        while True:
            found = [[p.name for p in client.get_all_connections(f"system:playback_{i}")] for i in (1, 2)]
            if all(found) or time.monotonic() > end:
                break
            time.sleep(0.05)
    finally:
        client.close()
    if not all(found):
        raise RuntimeError("nothing is connected to system:playback_1/2")
    return [found[0][0], found[1][0]]
