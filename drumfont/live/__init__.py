"""Live MIDI: the drift-free player (its own process), ports, MIDI clock out and follow mode.

Only this package and drumfont/drums/midifile.py import mido/rtmidi, and only when a port opens.
"""

from drumfont.live.player import Player
from drumfont.live.ports import PortSpec, RecordingPort, list_ports

__all__ = ["Player", "PortSpec", "RecordingPort", "list_ports"]
