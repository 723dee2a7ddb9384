"""User-facing failures. The CLI prints their message as one line and exits with code 2."""


class DrumfontError(Exception):
    """A failure the user can act on; the message says what was wrong and what to do."""


class PatternError(DrumfontError):
    """A pattern (text form, array, velocity) is malformed."""


class MidiFileError(DrumfontError):
    """A .mid file cannot be read or written."""


class DatasetError(DrumfontError):
    """A dataset file is missing, corrupt or of the wrong kind."""


class CheckpointError(DrumfontError):
    """A checkpoint is missing, corrupt or of the wrong kind."""


class FileExistsNoForce(DrumfontError):
    """Refused to overwrite an existing file without --force."""


class LiveMidiError(DrumfontError):
    """No MIDI system, a missing port, or a port that went away."""


class AudioError(DrumfontError):
    """No synthesiser library, an unreadable SoundFont, or no audio device."""
