"""MLLP framing codec (no I/O, no HL7 parsing): ``<VT> payload <FS><CR>``.

:class:`MLLPDecoder` is fed the bytes read from a socket, in any chunking, and returns the complete
frames and framing errors in stream order:

- bytes before a start block are reported once per run as ``FramingError("MLLP-0001")`` and skipped;
- a frame growing beyond ``max_frame_bytes`` is reported (``MLLP-0002``) and discarded; the decoder
  resynchronises on the next start block;
- a start block inside a frame (a frame never terminated) is reported (``MLLP-0003``): the partial
  frame is dropped and the new one starts.

``pending()`` tells whether a partial frame is buffered (e.g. to apply a read timeout).
"""

from __future__ import annotations

from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"

GARBAGE = "MLLP-0001"
OVERSIZED = "MLLP-0002"
UNTERMINATED = "MLLP-0003"


@dataclass(frozen=True, slots=True)
class Frame:
    payload: bytes


@dataclass(frozen=True, slots=True)
class FramingError:
    code: str
    message: str
    skipped_bytes: int = 0


def encode_frame(payload: bytes) -> bytes:
    return START + payload + END


class MLLPDecoder:
    def __init__(self, max_frame_bytes: int = 16 * 1024 * 1024) -> None:
        if max_frame_bytes < 1:
            raise ValueError("max_frame_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self._buf = bytearray()  # when in a frame, starts at the payload's first byte
        self._in_frame = False
        self._scan = 0  # where to resume searching in the current frame
        self._discarding = False  # inside an oversized frame: drop until its end or a new start
        self._discarded = 0

    def pending(self) -> bool:
        """True when a partial frame (or a discarded oversized one) is in progress."""
        return self._in_frame or self._discarding

    def _oversized(self) -> FramingError:
        err = FramingError(OVERSIZED, "frame larger than the limit discarded", self._discarded)
        self._discarded = 0
        self._discarding = False
        return err

    def feed(self, data: bytes) -> list[Frame | FramingError]:
        out: list[Frame | FramingError] = []
        buf = self._buf
        buf += data
        while buf:
            if self._discarding:
                e = buf.find(END)
                s = buf.find(START)
                if e >= 0 and (s < 0 or e < s):
                    self._discarded += e
                    del buf[: e + 2]
                    out.append(self._oversized())
                    continue
                if s >= 0:
                    self._discarded += s
                    del buf[:s]
                    out.append(self._oversized())
                    continue
                keep = 1 if buf[-1] == 0x1C else 0  # an end block may straddle two reads
                self._discarded += len(buf) - keep
                del buf[: len(buf) - keep]
                break
            if not self._in_frame:
                s = buf.find(START)
                if s < 0:
                    out.append(FramingError(GARBAGE, "bytes outside a frame skipped", len(buf)))
                    buf.clear()
                    break
                if s > 0:
                    out.append(FramingError(GARBAGE, "bytes before a start block skipped", s))
                del buf[: s + 1]
                self._in_frame = True
                self._scan = 0
                continue
            e = buf.find(END, self._scan)
            s = buf.find(START, self._scan)
            if s >= 0 and (e < 0 or s < e):
                out.append(FramingError(UNTERMINATED, "start block inside a frame: partial frame dropped", s))
                del buf[:s]
                self._in_frame = False
                continue
            if e < 0:
                keep = 1 if buf[-1] == 0x1C else 0
                if len(buf) - keep > self.max_frame_bytes:
                    self._in_frame = False
                    self._discarding = True
                    self._discarded = len(buf) - keep
                    del buf[: len(buf) - keep]
                else:
                    self._scan = max(0, len(buf) - 1)
                break
            if e > self.max_frame_bytes:
                self._discarded = e
                out.append(self._oversized())
            else:
                out.append(Frame(bytes(buf[:e])))
            del buf[: e + 2]
            self._in_frame = False
        return out


__all__ = ["END", "GARBAGE", "OVERSIZED", "START", "UNTERMINATED", "Frame", "FramingError", "MLLPDecoder",
           "encode_frame"]
