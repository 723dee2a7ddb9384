"""Shared pytest fixtures. This file holds only the live fixtures (a JACK server with the dummy
driver, a JACK MIDI monitor that records what arrives, and the check that PortAudio can play
into that server); other fixtures belong in their own test modules.

The server runs with 1024-frame periods: with 64 frames the dummy driver xruns on a busy box
(other test jobs, training) and MIDI events of a late cycle are lost; the tests assert content,
not timing, so a long period costs nothing. benchmarks/bench_player.py measures at 64 frames.
It also runs in sync mode (`--sync`): in JACK2's default async mode a cycle goes on without a
client that is late, and under load the recorder lost a cycle's messages (two clock pulses and a
note in one run of four, at load ~5); in sync mode the server waits for its clients (a late cycle
delays what follows, which the timing bounds already allow for).

The recorder is `jack_midi_dump` (shipped with jackd2), a C JACK client: python-rtmidi's JACK
MidiIn was measured here to drop, repeat and reorder messages when several arrive in one JACK
period (and to crash at interpreter exit with a callback set), so it cannot be the witness.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from jack_dump import parse_dump

JACK_TOOLS = ("jackd", "jack_lsp", "jack_connect", "jack_midi_dump")


def _jack_ports(env: dict) -> list[str] | None:
    try:
        res = subprocess.run(["jack_lsp"], env=env, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if res.returncode != 0:
        return None
    return [line.strip() for line in res.stdout.splitlines() if line.strip()]


def _wait_for_port(env: dict, port: str, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ports = _jack_ports(env)
        if ports and port in ports:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def jack_server():
    """A private JACK server (dummy driver, no sound card). Sets JACK_DEFAULT_SERVER for this
    process and the clock processes it starts; skips, saying why, where jackd is missing."""
    missing = [t for t in JACK_TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"JACK tools not installed ({', '.join(missing)}); install jackd2")
    try:
        import rtmidi  # noqa: F401
    except ImportError:
        pytest.skip("python-rtmidi is not installed")
    name = f"drumfont-test-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, JACK_DEFAULT_SERVER=name, JACK_NO_AUDIO_RESERVATION="1")
    log = tempfile.NamedTemporaryFile(prefix="jackd-", suffix=".log", delete=False)
    cmd = ["jackd", "--no-realtime", "--sync", "-n", name, "-d", "dummy", "-r", "48000", "-p", "1024"]
    proc = subprocess.Popen(cmd,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if not _wait_for_port(env, "system:capture_1", 15.0):
        proc.kill()
        proc.wait()
        text = Path(log.name).read_text(errors="replace")[-800:]
        pytest.fail(f"jackd did not start: {text}")
    saved = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        yield env
    finally:
        if saved is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = saved
        # The studio's tests play the kit in this process, so PortAudio's JACK host API may hold a
        # client on this server; stopped under it, PortAudio's own exit handler fails an assertion
        # (pa_jack.c: Terminate) and aborts pytest with code 134 after every test passed. Let it go
        # first (the session is over: nothing plays after this).
        sd = sys.modules.get("sounddevice")
        if sd is not None:
            with contextlib.suppress(Exception):
                sd._terminate()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if os.environ.get("DRUMFONT_KEEP_JACK_LOG"):
            print(f"jackd log: {log.name}")
        else:
            os.unlink(log.name)


class JackMonitor:
    """A JACK MIDI input client (jack_midi_dump) connected to one output port; `stop()` returns
    the (frame, message bytes) that arrived, in order."""

    def __init__(self, env: dict, source: str | None, name: str | None = None) -> None:
        self.env = env
        self.name = name or f"rec{uuid.uuid4().hex[:6]}"
        self._out = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(["jack_midi_dump", "-a", self.name], env=env, stdout=self._out,
                                     stderr=subprocess.DEVNULL)
        if not _wait_for_port(env, f"{self.name}:input"):
            self.proc.kill()
            raise RuntimeError("jack_midi_dump did not register its port")
        if source is None:  # a bare input for a player to open by name
            return
        res = subprocess.run(["jack_connect", source, f"{self.name}:input"], env=env,
                             capture_output=True, text=True, timeout=5)
        if res.returncode != 0:
            self.proc.kill()
            raise RuntimeError(f"jack_connect {source}: {res.stdout}{res.stderr}")

    def stop(self, settle: float = 0.1, until: tuple[int, ...] | None = None,
             timeout: float = 10.0) -> list[tuple[int, tuple[int, ...]]]:
        """End the monitor (after `settle` s for the last period to arrive, or once the message
        `until` has been logged, waiting at most `timeout` s) and parse its log."""
        time.sleep(settle)
        deadline = time.monotonic() + timeout
        while until is not None and time.monotonic() < deadline:
            fd = self._out.fileno()  # what the dump has written so far, without moving the file
            if any(m == until for _, m in parse_dump(os.pread(fd, os.fstat(fd).st_size, 0))):
                break
            time.sleep(0.05)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.seek(0)
        events = parse_dump(self._out.read())
        self._out.close()
        return events


@pytest.fixture
def jack_monitor(jack_server):
    """Factory: `jack_monitor("drumfont:out")` starts a recorder on that port;
    `jack_monitor(None, name)` a bare input client called `name` (port `name:input`)."""
    monitors: list[JackMonitor] = []

    def start(source: str | None, name: str | None = None) -> JackMonitor:
        mon = JackMonitor(jack_server, source, name)
        monitors.append(mon)
        return mon

    yield start
    for mon in monitors:
        if mon.proc.poll() is None:
            mon.proc.kill()
            mon.proc.wait()


@pytest.fixture
def jack_audio(jack_server):
    """The test JACK server, where PortAudio has its JACK host API (asked in a child process, as
    the player's own process will); skips, saying why, where it has none."""
    pytest.importorskip("jack", reason="JACK-Client (pip install JACK-Client) records the output")
    probe = ("import os; os.environ['JACK_NO_START_SERVER'] = '1'; import sounddevice as sd; "
             "print(any('JACK' in a['name'] for a in sd.query_hostapis()))")
    res = subprocess.run([sys.executable, "-c", probe], env=jack_server, capture_output=True, text=True,
                         timeout=60)
    if res.returncode != 0:
        pytest.skip(f"PortAudio/sounddevice do not start: {res.stderr.strip()[-200:]}")
    if res.stdout.strip() != "True":
        pytest.skip("this PortAudio has no JACK host API (libportaudio2 built without JACK?)")
    return jack_server


@pytest.fixture(scope="session")
def vae():
    """A tiny drum VAE engine (untrained weights, the real genre table) for the studio's tests."""
    pytest.importorskip("torch")
    from tui_helpers import tiny_vae_engine

    return tiny_vae_engine()
