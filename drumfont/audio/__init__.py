"""Sound: the built-in General-MIDI drum kit (a SoundFont through FluidSynth), rendering to
audio files (`render`) and live output through PortAudio driven by the player's clock (`engine`).

A sibling of `live/`: it shares the clock, not the UI. Nothing here imports textual or mido.
"""
