"""hypothesis property tests: escaping, message round trip, MLLP framing with arbitrary chunking."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aiguillage.connectors.mllp_framing import Frame, MLLPDecoder, encode_frame
from aiguillage.hl7v2 import NULL, Delimiters, escape, parse, unescape
from aiguillage.hl7v2.message import Message, Segment

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
DELIMS = st.sampled_from([Delimiters(), Delimiters("#", "$", "*", "@", "%"), Delimiters("|", "^", "~", "\\", "&")])


@given(TEXT, DELIMS)
def test_escape_unescape_round_trip(text: str, d: Delimiters) -> None:
    escaped = escape(text, d)
    for ch in (d.fs, d.cs, d.rs, d.ss, "\r", "\n"):
        assert ch not in escaped
    assert unescape(escaped, d, "utf-8") == text


@given(st.text(alphabet="|^~\\&ab\"", max_size=20))
def test_escape_delimiter_heavy_text(text: str) -> None:
    assert unescape(escape(text)) == text


LEAF = st.one_of(TEXT, st.just(NULL))
FIELD = st.lists(st.lists(st.lists(LEAF, min_size=1, max_size=3), min_size=1, max_size=3), min_size=1, max_size=2)
SEG_ID = st.sampled_from(["PID", "PV1", "ZBE", "ZFA", "OBX", "NK1", "Z01"])


def _field_raw(reps: list[list[list[str]]], d: Delimiters) -> str:
    def leaf(v: str) -> str:
        return '""' if v is NULL else escape(v, d)

    return d.rs.join(d.cs.join(d.ss.join(leaf(s) for s in comp) for comp in rep) for rep in reps)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(SEG_ID, st.lists(FIELD, max_size=5)), max_size=5), DELIMS,
       st.sampled_from(["utf-8", "latin-1"]))
def test_encode_parse_round_trip(segs: list, d: Delimiters, codec: str) -> None:
    charset = "UNICODE UTF-8" if codec == "utf-8" else "8859/1"
    msh = ["MSH", d.fs, d.encoding_characters, "APP", "FAC", "R", "F", "20250101", "", f"ADT{d.cs}A28", "X1",
           "P", "2.5", "", "", "", "", "FRA", charset]
    segments = [Segment(msh, d, codec)]
    for name, fields in segs:
        segments.append(Segment([name, *(_field_raw(f, d) for f in fields)], d, codec))
    msg = Message(segments, d, charset=charset, codec=codec)
    try:
        raw = msg.to_bytes()
    except UnicodeEncodeError:
        return  # text not representable in latin-1: not a valid message in that charset
    again = parse(raw)
    assert again.encode() == msg.encode()
    for (_name, fields), seg in zip(segs, again.segments()[1:], strict=True):
        for n, reps in enumerate(fields, start=1):
            for r, rep in enumerate(reps, start=1):
                for c, comp in enumerate(rep, start=1):
                    for s, value in enumerate(comp, start=1):
                        got = seg.get(n, r, c, s)
                        assert got == value
                        assert (got is NULL) == (value is NULL)


PAYLOAD = st.binary(max_size=200).map(lambda b: b.replace(b"\x0b", b"").replace(b"\x1c", b""))


@settings(max_examples=80, deadline=None)
@given(st.lists(PAYLOAD, min_size=1, max_size=5), st.lists(st.integers(min_value=1, max_value=50), max_size=30))
def test_framing_round_trip_any_chunking(payloads: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    dec = MLLPDecoder(max_frame_bytes=1000)
    out = []
    pos = 0
    for c in cuts:
        out += dec.feed(stream[pos : pos + c])
        pos += c
    out += dec.feed(stream[pos:])
    assert out == [Frame(p) for p in payloads]
    assert not dec.pending()
