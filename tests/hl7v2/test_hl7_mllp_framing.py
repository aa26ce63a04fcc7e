from __future__ import annotations

from aiguillage.connectors.mllp_framing import (
    GARBAGE,
    OVERSIZED,
    UNTERMINATED,
    Frame,
    FramingError,
    MLLPDecoder,
    encode_frame,
)


def test_encode_frame() -> None:
    assert encode_frame(b"MSH|x") == b"\x0bMSH|x\x1c\r"


def test_several_frames_in_one_read_and_split_frames() -> None:
    dec = MLLPDecoder()
    data = encode_frame(b"one") + encode_frame(b"two") + encode_frame(b"three")[:4]
    assert dec.feed(data) == [Frame(b"one"), Frame(b"two")]
    assert dec.pending()
    assert dec.feed(b"ee\x1c") == []
    assert dec.pending()
    assert dec.feed(b"\r") == [Frame(b"three")]
    assert not dec.pending()


def test_garbage_before_start_is_reported_and_skipped() -> None:
    dec = MLLPDecoder()
    out = dec.feed(b"noise" + encode_frame(b"ok"))
    assert out == [FramingError(GARBAGE, "bytes before a start block skipped", 5), Frame(b"ok")]
    out = dec.feed(b"\n")
    assert len(out) == 1 and isinstance(out[0], FramingError) and out[0].code == GARBAGE


def test_oversized_frame_is_dropped_and_decoder_resyncs() -> None:
    dec = MLLPDecoder(max_frame_bytes=10)
    out = dec.feed(b"\x0b" + b"x" * 25)
    assert out == [] and dec.pending()
    out = dec.feed(b"y" * 10 + b"\x1c\r" + encode_frame(b"small"))
    assert isinstance(out[0], FramingError) and out[0].code == OVERSIZED and out[0].skipped_bytes == 35
    assert out[1:] == [Frame(b"small")]
    assert not dec.pending()


def test_oversized_complete_frame_in_one_read() -> None:
    dec = MLLPDecoder(max_frame_bytes=3)
    out = dec.feed(encode_frame(b"abcd") + encode_frame(b"abc"))
    assert [type(x) for x in out] == [FramingError, Frame]
    assert out[0].code == OVERSIZED  # type: ignore[union-attr]
    assert out[1] == Frame(b"abc")


def test_oversized_then_new_start_without_end() -> None:
    dec = MLLPDecoder(max_frame_bytes=4)
    assert dec.feed(b"\x0b123456789") == []
    out = dec.feed(b"\x0bok\x1c\r")
    assert isinstance(out[0], FramingError) and out[0].code == OVERSIZED
    assert out[1] == Frame(b"ok")


def test_start_inside_frame_drops_partial() -> None:
    dec = MLLPDecoder()
    out = dec.feed(b"\x0bpartial\x0bfull\x1c\r")
    assert isinstance(out[0], FramingError) and out[0].code == UNTERMINATED
    assert out[1] == Frame(b"full")


def test_end_block_split_between_reads_at_limit() -> None:
    dec = MLLPDecoder(max_frame_bytes=3)
    assert dec.feed(b"\x0babc\x1c") == []
    assert dec.feed(b"\r") == [Frame(b"abc")]
