"""The studio's key table: bindings, the help screen and the command palette are all made from
it, so no action can be missing from any of them."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from drumfont.tui.session import BANK_SLOTS


@dataclass(frozen=True)
class Key:
    """One row of the key table: binding, action, what it does, help group, footer or not."""

    keys: str
    action: str
    description: str
    group: str
    show: bool = False
    shown_as: str = ""   # how help prints the keys, where the binding names are unfriendly
    short: str = ""      # the footer's label


KEYS: tuple[Key, ...] = (
    Key("s", "sample", "sample a new phrase of the genre into the slot", "Sound", True, short="sample"),
    Key("r", "reroll('variation')", "re-roll the bar's variation (keep the style)", "Sound"),
    Key("R", "reroll('style')", "re-roll the bar's style (keep the variation)", "Sound"),
    Key("g", "genre(1)", "next genre", "Sound", True, short="genre"),
    Key("G", "genre(-1)", "previous genre", "Sound"),
    Key("t", "temperature(0.1)", "temperature up", "Sound"),
    Key("T", "temperature(-0.1)", "temperature down", "Sound"),
    Key("f", "transfer", "transfer the phrase to a genre (a fill stays a fill)", "Sound"),
    Key("less_than_sign", "bar(-1)", "previous bar of the phrase", "Phrase", shown_as="<"),
    Key("greater_than_sign", "bar(1)", "next bar of the phrase", "Phrase", shown_as=">"),
    Key("w", "phrase_bars", "bars a sample draws: 1 / 2 / 4 / 8", "Phrase"),
    Key("o", "continue_phrase", "continue the phrase after this bar (last bar: grow it)", "Phrase"),
    Key("z", "reroll_fill", "re-roll only the phrase's fill (its last bar)", "Phrase"),
    Key("H", "humanize", "humanise the phrase: a drummer's feel, same hits", "Groove"),
    Key("W", "humanize_bank", "humanise every bar of the bank", "Groove"),
    Key("i", "tap", "tap mode: count-in, tap one bar (space or i), drumify fills the slot", "Groove"),
    Key("I", "choose_tap_input", "choose a MIDI input (a pad) whose notes tap in tap mode", "Groove"),
    Key("left,h", "move(-1,0)", "cursor left", "Edit", shown_as="← h"),
    Key("right,l", "move(1,0)", "cursor right", "Edit", shown_as="→ l"),
    Key("up,k", "move(0,-1)", "cursor up (voice)", "Edit", shown_as="↑ k"),
    Key("down,j", "move(0,1)", "cursor down (voice)", "Edit", shown_as="↓ j"),
    Key("enter,x", "toggle", "toggle the step", "Edit", True, "enter x", "toggle"),
    Key("plus,equals_sign", "velocity(12)", "velocity up (X = accent)", "Edit", shown_as="+ ="),
    Key("minus", "velocity(-12)", "velocity down (o = ghost)", "Edit", shown_as="-"),
    Key("c", "clear_voice", "clear the voice under the cursor", "Edit"),
    Key("Q", "straighten", "straighten (quantise) the bar's timing", "Edit"),
    Key("m", "mute", "mute / unmute the voice", "Edit"),
    Key("S", "solo", "solo / unsolo the voice", "Edit"),
    Key("u", "undo", "undo", "Edit", True, short="undo"),
    Key("U,ctrl+y", "redo", "redo", "Edit", shown_as="U ctrl+y"),
    Key("1,2,3,4,5,6,7,8", "noop", "select bank slot 1-8", "Bank", shown_as="1..8"),
    Key("d", "duplicate", "copy the phrase to the next empty slot", "Bank"),
    Key("D", "clear_slot", "empty the slot", "Bank"),
    Key("a", "set_ab('a')", "put the bar in slot A", "Morph"),
    Key("b", "set_ab('b')", "put the bar in slot B", "Morph"),
    Key("M", "morph", "morph A -> B (shows the morph view)", "Morph", True, short="morph"),
    Key("L", "morph_level", "morph level: high / low / both", "Morph"),
    Key("n", "morph_steps(1)", "more morph steps", "Morph"),
    Key("N", "morph_steps(-1)", "fewer morph steps", "Morph"),
    Key("P", "play_morph", "play the morph as a chain", "Morph"),
    Key("p", "play_bank", "play the bank as a chain", "Transport"),
    Key("space", "play", "play / stop (the slot's phrase, looped)", "Transport", True, short="play"),
    Key("right_square_bracket", "tempo(1)", "tempo +1 BPM", "Transport", shown_as="]"),
    Key("left_square_bracket", "tempo(-1)", "tempo -1 BPM", "Transport", shown_as="["),
    Key("right_curly_bracket", "tempo(10)", "tempo +10 BPM", "Transport", shown_as="}"),
    Key("left_curly_bracket", "tempo(-10)", "tempo -10 BPM", "Transport", shown_as="{"),
    Key("full_stop", "swing(2)", "more swing (bars without their own timing)", "Transport", shown_as="."),
    Key("comma", "swing(-2)", "less swing", "Transport", shown_as=","),
    Key("B", "bars", "times a phrase plays in a chain or file: 1 / 2 / 4 / 8", "Transport"),
    Key("A", "output", "play to: both / built-in kit / MIDI / none", "Transport"),
    Key("v", "audition", "audition the voice under the cursor (built-in kit)", "Transport"),
    Key("O", "choose_port", "choose the MIDI output port", "Transport"),
    Key("C", "clock_out", "MIDI clock out on / off", "Transport"),
    Key("F", "choose_follow", "follow an external clock (or not)", "Transport"),
    Key("K", "link", "Ableton Link on / off: the session's tempo, bar lines, start/stop", "Transport"),
    Key("Y", "notemap", "output note map: gm / tr8s / drumrack / ...", "Transport"),
    Key("e", "export", "export the phrase (the morph in the morph view)", "Files", True, short="export"),
    Key("E", "export_bank", "export the bank as one .mid", "Files"),
    Key("ctrl+e", "export_morph", "export the morph as one .mid", "Files"),
    Key("ctrl+n", "letters_reroll", "letters: re-roll the typeface", "Letters"),
    Key("ctrl+f", "letters_cycle('fg')", "letters: next text colour", "Letters"),
    Key("ctrl+b", "letters_cycle('bg')", "letters: next background (black / white / transparent)", "Letters"),
    Key("ctrl+up", "letters_size(1.25)", "letters: larger PNG text", "Letters", shown_as="ctrl+↑"),
    Key("ctrl+down", "letters_size(0.8)", "letters: smaller PNG text", "Letters", shown_as="ctrl+↓"),
    Key("ctrl+g", "letters_svg", "letters: also write SVG (vector) on / off", "Letters"),
    Key("ctrl+s", "save_font", "letters: save the typeface as an installable .otf font", "Letters"),
    Key("tab", "next_view", "next view: grid / morph / letters / song", "Views", True, short="view"),
    Key("shift+tab", "prev_view", "previous view", "Views"),
    Key("escape", "view('grid-view')", "back to the grid", "Views"),
    Key("question_mark", "help", "this help", "Views", True, "?", "keys"),
    Key("ctrl+p", "command_palette", "command palette: every action by name", "Views", shown_as="ctrl+p"),
    Key("q", "quit", "quit (the session is saved)", "Views", True, short="quit"),
)
# The song view's own keys: bindings of its table (widgets/song.py), so they act there only, and
# run the app's actions; help and the palette list them with the rest.
SONG_KEYS: tuple[Key, ...] = (
    Key("up,k", "song_select(-1)", "song: previous section", "Song view", shown_as="↑ k"),
    Key("down,j", "song_select(1)", "song: next section", "Song view", shown_as="↓ j"),
    Key("a", "song_add", "song: add a section playing the slot (1-8 pick it)", "Song view", True,
        short="add"),
    Key("x,delete", "song_remove", "song: remove the section", "Song view", shown_as="x del"),
    Key("left,h", "song_slot(-1)", "song: the section plays the previous filled slot", "Song view", shown_as="← h"),
    Key("right,l", "song_slot(1)", "song: the section plays the next filled slot", "Song view", shown_as="→ l"),
    Key("plus,equals_sign", "song_repeats(1)", "song: play the section's phrase once more", "Song view",
        shown_as="+ ="),
    Key("minus", "song_repeats(-1)", "song: play the section's phrase once less", "Song view", shown_as="-"),
    Key("K", "song_reorder(-1)", "song: move the section up", "Song view"),
    Key("J", "song_reorder(1)", "song: move the section down", "Song view"),
    Key("r", "song_rename", "song: rename the section", "Song view"),
    Key("s", "song_draw", "song: draw its slots afresh as one song, fills and all", "Song view",
        True, short="draw"),
    Key("space", "play_song", "song: play / stop the song", "Song view", True, short="play song"),
    Key("e", "export_song", "song: export the song as one .mid", "Song view", True, short="export"),
)

# The palette runs these by name; 'noop' stands for the slot keys, offered one by one instead.
PALETTE_EXTRA = tuple((f"select_slot({i})", f"select bank slot {i + 1}") for i in range(BANK_SLOTS)) + (
    ("view('morph-view')", "show the morph view"), ("view('song-view')", "show the song view"),
    ("view('letters-view')", "show the letters pane"), ("letters_render", "letters: render the text"))


# What the grid's characters mean (widgets/grid.py draws them), shown at the top of the help.
GRID_LEGEND = (
    ("· o x X", "rest, ghost, hit, accent"),
    ("x‹  x«", "hit played early: 0.1-0.3 / 0.3-0.5 of a sixteenth"),
    ("x›  x»", "hit played late: 0.1-0.3 / 0.3-0.5 of a sixteenth"),
    ("M S", "voice muted / soloed"),
)


def bindings() -> list[Binding]:
    """Textual bindings for the table (the slot keys expand to one binding each)."""
    out = []
    for k in KEYS:
        if k.action == "noop":
            out += [Binding(str(i + 1), f"select_slot({i})", f"slot {i + 1}", show=False)
                    for i in range(BANK_SLOTS)]
            continue
        if k.action == "command_palette":
            continue  # App's own binding
        # the letters keys must reach the app while the text input has focus (it binds ctrl+f, ...)
        priority = k.keys in ("tab", "shift+tab", "ctrl+n", "ctrl+e") or k.group == "Letters"
        out.append(Binding(k.keys, k.action, k.short or k.description.split(" (")[0], show=k.show,
                           priority=priority))
    return out


def song_bindings() -> list[Binding]:
    """The song table's bindings: its keys run the app's actions."""
    return [Binding(k.keys, f"app.{k.action}", k.short or k.description.split(": ", 1)[-1].split(" (")[0],
                    show=k.show) for k in SONG_KEYS]


def help_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The key table grouped for the help screen."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for k in KEYS + SONG_KEYS:
        groups.setdefault(k.group, []).append((k.shown_as or k.keys.replace(",", " "), k.description))
    groups["Letters"][:0] = [("type, enter", "in the letters pane: render the text, write its PNG (and SVG)")]
    return [("Grid", list(GRID_LEGEND))] + list(groups.items())

