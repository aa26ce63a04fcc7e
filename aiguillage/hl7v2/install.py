"""Plugs the HL7 v2 area into an Engine: the ADT handler and the admin viewer.

Options live in ``engine.services["hl7v2"]`` (an :class:`AdtOptions`), read by the handler at each
message. To have a channel's UF codes translated through the mapping tables (and its messages held
while a UF is unmapped)::

    engine.services["hl7v2"].uf_mapping_channels.add("gam-chu")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiguillage.hl7v2.handler import AdtOptions, make_handler
from aiguillage.hl7v2.mask import mask, to_view
from aiguillage.hl7v2.parser import parse
from aiguillage.router.handlers import ContentType

if TYPE_CHECKING:
    from aiguillage.engine import Engine


def viewer(raw: bytes, unmask: bool) -> dict[str, Any]:
    """Admin view of a stored message: parsed fields and raw text, masked unless ``unmask``. Never raises."""
    masked = not unmask
    try:
        msg = parse(raw, strict=False)
        text = mask(msg) if masked else raw.decode(msg.codec, errors="replace")
        return {"parsed": to_view(msg, masked=masked), "raw": text, "masked": masked}
    except Exception:  # unparseable (or anything else): still show what can be shown safely
        fallback = None if masked else raw.decode("utf-8", errors="replace")
        return {"parsed": None, "raw": fallback, "masked": masked}


def install(engine: Engine) -> None:
    options = engine.services.setdefault("hl7v2", AdtOptions())
    engine.handlers.register(ContentType.HL7V2.value, make_handler(options))
    engine.services["viewers"][ContentType.HL7V2.value] = viewer
