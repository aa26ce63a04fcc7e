"""translate() and MappingContext against the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from aiguillage.engine import Engine
from aiguillage.mappings import MappingContext, normalize_key, translate
from aiguillage.mappings import unmapped as um
from aiguillage.mappings.install import get_service
from aiguillage.mappings.translate import table_snapshot
from aiguillage.nomenclatures.systems import LOINC_URL
from aiguillage.store.messages import MessageStatus


def test_normalize_key_folds_case_accents_and_blanks() -> None:
    assert normalize_key("  Hygiène   HOSPITALIÈRE ") == "hygiene hospitaliere"
    assert normalize_key("S.aureus") == "s.aureus"
    assert normalize_key("84") == "84"
    assert len(normalize_key("x" * 400)) == 255


async def test_translate_hit_miss_and_cache_follows_the_table_version(engine: Engine) -> None:
    svc = get_service(engine)
    saved = svc.save("CHU-X", "document-type", "Lettre de sortie", "LOINC", "11490-0", "tester")
    assert saved["action"] == "created" and saved["version"] == 1 and saved["target"]["system"] == LOINC_URL
    with engine.db.begin() as conn:
        hit = translate(conn, "CHU-X", "document-type", "  LETTRE de SORTIE ", message_id="m1")
        assert hit is not None and (hit.system, hit.code, hit.version) == (LOINC_URL, "11490-0", 1)
        assert hit.display.startswith("Lettre de liaison")
        assert translate(conn, "CHU-X", "document-type", "CR op", message_id="m1") is None
        assert translate(conn, "CHU-X", "document-type", "cr  OP", message_id="m2") is None
        assert translate(conn, "CHU-X", "document-type", "cr op", message_id="m2") is None  # same message again
        assert translate(conn, "CHU-X", "document-type", "   ", message_id="m3") is None  # blank: not recorded
        assert translate(conn, "OTHER", "document-type", "Lettre de sortie", record_miss=False) is None
    with engine.db.connect() as conn:
        total, rows = um.queue(conn)
        assert total == 1
        assert rows[0]["value"] == "CR op" and rows[0]["count"] == 2 and rows[0]["held"] == 2
        assert rows[0]["example_message_id"] == "m1"
        links = {m for (m,) in conn.execute(select(um.LINKS.c.message_id))}
        assert links == {"m1", "m2"}
        v1, snap1 = table_snapshot(conn, "CHU-X", "document-type")
    # a change bumps the version and the cached copy is replaced
    svc.save("CHU-X", "document-type", "Lettre de sortie", "LOINC", "34874-8", "tester")
    with engine.db.connect() as conn:
        v2, snap2 = table_snapshot(conn, "CHU-X", "document-type")
        hit = translate(conn, "CHU-X", "document-type", "lettre de sortie")
    assert (v1, v2) == (1, 2) and snap1 is not snap2
    assert hit is not None and hit.code == "34874-8"


async def test_mapping_context_lists_every_missing_value(engine: Engine) -> None:
    get_service(engine).save("CHU-X", "UF", "3030", "TRE_R211", "064", "tester")
    with engine.db.begin() as conn:
        ctx = MappingContext(conn, "msg-1")
        assert ctx.translate("CHU-X", "UF", "3030") is not None
        assert ctx.outcome_if_missing() is None
        assert ctx.translate("CHU-X", "UF", "9999") is None
        assert ctx.translate("CHU-X", "document-type", "84", target_system="JDV_J07") is None
        assert ctx.translate("CHU-X", "UF", " 9999 ") is None  # same value: listed once
        out = ctx.outcome_if_missing()
    assert out is not None and out.status is MessageStatus.HELD and out.error_codes == ["MAP-0001"]
    assert "2 unmapped" in out.error_text and "'9999'" in out.error_text and "'84'" in out.error_text
    assert [m.as_dict() for m in ctx.missing] == [
        {"source": "CHU-X", "field": "UF", "value": "9999"},
        {"source": "CHU-X", "field": "document-type", "value": "84"},
    ]
    tables = {(t["source"], t["field"]): t for t in get_service(engine).list_tables()}
    assert tables[("CHU-X", "document-type")]["target_system"] is not None  # created on first miss
    assert tables[("CHU-X", "document-type")]["unmapped"] == 1 and tables[("CHU-X", "UF")]["entries"] == 1
