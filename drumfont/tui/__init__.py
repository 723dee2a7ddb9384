"""The studio (`drumfont tui`): a Textual app; the only part of drumfont that imports textual."""
