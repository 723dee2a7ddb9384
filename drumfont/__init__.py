"""drumfont: one-bar drum patterns from a hierarchical VAE, live MIDI, and GAN-drawn letters."""

__version__ = "0.1.0"
