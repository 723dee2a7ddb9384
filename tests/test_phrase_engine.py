"""Phrases behind the one drum engine, without a phrase model: the honest fallback (bar 1 played
again, the genre's rule fill in the last bar, said as the reason), songs laid out by a form (a
fill before each change of section, a crash after it), the form and phrase ranges in
validate.RANGES, the rule fill itself, and the player keeping its place when an edited phrase
replaces the one playing."""

from __future__ import annotations

import numpy as np
import pytest

from drumfont.drums import engine as eng
from drumfont.drums import rules
from drumfont.errors import DrumfontError
from drumfont.live import schedule as sch
from drumfont.score.pattern import CRASH, STEPS, TOM_HIGH, TOM_LOW, Pattern, from_text
from drumfont.score.phrase import CRASH_VELOCITY, Phrase, song_bars, with_crash
from drumfont.validate import PHRASE_LENGTHS, RANGES, parse_form

GROOVE = from_text("KK x.......x.x.....\nSN ....x.......x...\nCH x.x.x.x.x.x.x.x.")


def jaccard(a: Pattern, b: Pattern, steps=slice(None)) -> float:
    x, y = a.hits[steps], b.hits[steps]
    union = (x | y).sum()
    return 1.0 - (x & y).sum() / union if union else 0.0


# --- the form and the ranges -------------------------------------------------------------------

def test_a_form_reads_as_named_sections():
    assert parse_form("intro:4, verse : 8,chorus:8,outro:4") == [("intro", 4), ("verse", 8), ("chorus", 8),
                                                                ("outro", 4)]
    assert parse_form("Verse 2 (half time):64") == [("Verse 2 (half time)", 64)]   # names are free text
    assert sum(b for _, b in parse_form(",".join(["a:64"] * 8))) == RANGES["song_bars"].hi


@pytest.mark.parametrize("form, why", [
    ("verse:x", "not a whole number"), (":4", "no section name"), ("verse:0", "1-64 bars"),
    ("verse:65", "1-64 bars"), ("", "empty"), ("verse", "NAME:BARS"), ("a:1:2", "NAME:BARS"),
    ("a:4,,b:4", "empty item"), ("a:4,", "empty item"), ("a:+4", "not a whole number"),
    ("a:٣", "not a whole number"), (",".join(["a:64"] * 9), "576 bars"), ("x" * 20_000, "characters long"),
])
def test_a_malformed_form_is_one_line(form, why):
    with pytest.raises(DrumfontError, match=why) as exc:
        parse_form(form)
    assert "\n" not in str(exc.value)


def test_phrase_ranges_are_written_once():
    assert (RANGES["phrase"].lo, RANGES["phrase"].hi) == (1, 8) and PHRASE_LENGTHS == (1, 2, 4, 8)
    assert (RANGES["continue_bars"].lo, RANGES["continue_bars"].hi) == (1, 32)
    assert (RANGES["section_bars"].hi, RANGES["song_bars"].hi) == (64, 512)


# --- the rule fill ------------------------------------------------------------------------------

@pytest.mark.parametrize("genre", [*rules.RULE_GENRES, "funk"])
def test_the_rule_fill_keeps_the_groove_then_leaves_it(genre):
    groove = rules.generate(genre if genre in rules.RULE_GENRES else "rock", 1, np.random.default_rng(3),
                            groove_only=True)[0]
    for seed in range(8):
        fill = rules.fill(groove, genre, np.random.default_rng(seed))
        assert jaccard(fill, groove, slice(0, 8)) == 0.0          # the first half is the groove's
        assert jaccard(fill, groove, slice(8, STEPS)) > 0.3       # the second half leaves it
        kept = fill.hits & groove.hits
        assert np.array_equal(fill.offsets[kept], groove.offsets[kept])


def test_groove_only_bars_hold_no_fill_and_no_crash_and_the_corpus_is_unchanged():
    rng = np.random.default_rng(0)
    for genre in rules.RULE_GENRES:
        bars = rules.generate(genre, 40, rng, groove_only=True)
        assert not any(b.hits[0, CRASH] for b in bars)
        if genre == "rock":  # rock's tom fills (30 % of its bars) are gone
            assert not any(b.hits[:, [TOM_HIGH, TOM_LOW]].any() for b in bars)
    # the draw for a fill is still made, so the default bars are what they always were
    plain = rules.generate("rock", 60, np.random.default_rng(1))
    assert sum(b.hits[:, [TOM_HIGH, TOM_LOW]].any() for b in plain) > 5


# --- phrases from the rules -------------------------------------------------------------------

def test_rules_phrases_are_bar_one_again_with_a_rule_fill_and_say_so():
    e = eng.RulesEngine()
    phrases = e.phrases("rock", 3, 4, "end", seed=5)
    assert [len(p) for p in phrases] == [4, 4, 4]
    for p in phrases:
        assert p.fills == (False, False, False, True)
        assert p.bars[0] == p.bars[1] == p.bars[2] != p.bars[3]
        assert jaccard(p.bars[3], p.bars[0], slice(8, STEPS)) > 0.3
    assert len({p.bars[0] for p in phrases}) == 3                     # n different grooves
    assert phrases == e.phrases("rock", 3, 4, "end", seed=5)          # seeded
    assert "rule fill" in e.phrase_reason and "no phrase model" in e.phrase_reason
    plain = e.phrase("jazz", 2, "none", seed=1)
    assert plain.fills == (False, False) and plain.bars[0] == plain.bars[1]
    fill_only = e.phrase("latin", 1, "end", seed=1)
    assert fill_only.fills == (True,)


@pytest.mark.parametrize("bars, fill", [(0, "end"), (9, "end"), (4, "middle")])
def test_a_bad_phrase_is_refused(bars, fill):
    with pytest.raises(DrumfontError):
        eng.RulesEngine().phrases("rock", 1, bars, fill)


def test_rerolling_the_fill_keeps_the_bars_before_it():
    e = eng.RulesEngine()
    p = e.phrase("rock", 4, "end", seed=2)
    fills = {e.reroll_fill(p, "rock", seed=s).bars[3] for s in range(6)}
    for s in range(3):
        q = e.reroll_fill(p, "rock", seed=s)
        assert q.bars[:3] == p.bars[:3] and q.fills == p.fills
    assert len(fills) > 1
    with pytest.raises(DrumfontError, match="at least 2 bars"):
        e.reroll_fill(e.phrase("rock", 1, "none", seed=1), "rock")


def test_continue_needs_the_phrase_model():
    with pytest.raises(DrumfontError, match="continue needs the phrase model: the genre rules have none"):
        eng.RulesEngine().continue_phrase([GROOVE], 4)
    with pytest.raises(DrumfontError, match="outside 1..32"):
        eng.RulesEngine().continue_phrase([GROOVE], 33)


def test_a_song_has_its_form_a_fill_before_each_change_and_a_crash_after():
    e = eng.RulesEngine()
    form = "intro:2,verse:4,chorus:4,verse:4,outro:1"
    song = e.song("rock", form, seed=3)
    assert [(s.name, len(s)) for s in song] == parse_form(form)
    for i, sec in enumerate(song):
        last = i == len(song) - 1
        assert sec.fills == tuple(j == len(sec) - 1 and not last for j in range(len(sec)))
        assert (sec.bars[0].velocities[0, CRASH] >= CRASH_VELOCITY) == (i > 0)
    # verse 2 plays verse 1's groove; each section its own otherwise
    assert song[1].bars[1] == song[3].bars[1] != song[2].bars[1]
    bars, fills = song_bars(song)
    assert len(bars) == 15 and sum(fills) == 4
    assert song == e.song("rock", parse_form(form), seed=3)   # a form as pairs draws the same
    named = e.song("rock", [("verse, part 1: loud", 2), ("b", 2)], seed=3)   # the studio's names
    assert [s.name for s in named] == ["verse, part 1: loud", "b"]
    for bad in ([], [("a", 0)], [("", 2)], [("a", 64)] * 9, [("a", 2.5)]):
        with pytest.raises(DrumfontError):
            e.song("rock", bad)


def test_interpolating_phrases_needs_phrases_of_one_length_and_a_morph():
    e = eng.RulesEngine()
    with pytest.raises(DrumfontError, match="as many bars"):
        e.interpolate_phrases(e.phrase("rock", 2, seed=1), e.phrase("rock", 4, seed=1), 3, "both")
    with pytest.raises(DrumfontError, match="morph is not available"):
        e.interpolate_phrases(e.phrase("rock", 2, seed=1), e.phrase("jazz", 2, seed=1), 3, "both")


def test_phrase_type():
    p = Phrase.of([GROOVE, GROOVE], fill_last=True, name="verse")
    assert len(p) == 2 and p.fills == (False, True) and p.has_fill
    assert Phrase((GROOVE,)).fills == (False,)
    with pytest.raises(DrumfontError):
        Phrase(())
    with pytest.raises(DrumfontError):
        Phrase((GROOVE,), (True, False))
    crashed = with_crash(GROOVE)
    assert crashed.velocities[0, CRASH] == CRASH_VELOCITY and with_crash(crashed) == crashed


# --- the player keeps its place ---------------------------------------------------------------

def _bars_played(seq: sch.Sequencer, bars: int, edit_at: int | None = None, new=None) -> list[int]:
    """Which chain entry plays in each bar; at bar `edit_at` a new chain arrives (keep_place)."""
    out = []
    for bar in range(bars):
        if bar == edit_at:
            seq.set_chain(new, loop=True, at="bar", keep_place=True)
        seq.step_events(bar * STEPS)
        out.append(seq.chain_position[0])
        for s in range(1, STEPS):
            seq.step_events(bar * STEPS + s)
    return out


def test_an_edited_phrase_goes_on_from_the_bar_it_was_at():
    bars = [GROOVE.with_velocity(i, 0, 100) for i in range(4)]
    seq = sch.Sequencer(pattern=bars[0])
    seq.set_chain([(b, 1) for b in bars], loop=True, at="now")
    edited = [(b.with_velocity(15, 1, 90), 1) for b in bars]
    assert _bars_played(seq, 6, edit_at=2, new=edited) == [0, 1, 2, 3, 0, 1]
    assert seq.pattern == edited[1][0]                        # the edit is what plays
    plain = sch.Sequencer(pattern=bars[0])
    plain.set_chain([(b, 1) for b in bars], loop=True, at="now")
    plain.step_events(0)
    for s in range(1, 2 * STEPS):
        if s == STEPS:
            plain.set_chain(edited, loop=True, at="bar")      # without keep_place: from the top
        plain.step_events(s)
    assert plain.chain_position[0] == 0
