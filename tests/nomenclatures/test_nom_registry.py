"""Registry: built-in data, identifier normalisation, validate/lookup/search/expand."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from aiguillage.nomenclatures import systems
from aiguillage.nomenclatures.errors import NomenclatureNotFound
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept, ConceptStatus, Member, ValueSetVersion
from aiguillage.nomenclatures.registry import Registry
from aiguillage.nomenclatures.textfold import fold


def test_builtin_matches_verified_codes_csv(builtin: Registry, corpus_nos: Path) -> None:
    with (corpus_nos / "verified-codes-subset.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 20
    for row in rows:
        j07 = row["terminology"].startswith("JDV_J07")  # LOINC codes; canonical_url column holds the JDV OID
        system = row["oid"] if j07 else row["canonical_url"]
        if j07:
            assert builtin.validate(systems.JDV_J07_URL, row["code"]).valid
        concept = builtin.lookup(system, row["code"])
        assert concept is not None, (system, row["code"])
        assert concept.display == row["display"], row["code"]
        # the OID names the same system as the canonical URL
        assert builtin.resolve(row["oid"]) == builtin.resolve(system)


def test_builtin_mission_codes(builtin: Registry) -> None:
    assert builtin.display(systems.TRE_R211_URL, "063") == (
        "Hygiène, prévention, contrôle des infections associées aux soins"
    )
    assert builtin.display(systems.TRE_R211_URL, "022") == "Chirurgie gynécologique"  # ROR example
    for code in ("0909", "0910", "0911"):
        assert builtin.validate(systems.TRE_R210_URL, code).valid
    for code in ("23", "24", "25", "26"):
        assert builtin.validate(systems.TRE_R251_URL, code).valid
        assert builtin.validate(systems.JDV_J220_URL, code).valid
    assert builtin.display(systems.TRE_R287_URL, "07") == "Secrétariat"
    assert builtin.validate(systems.TRE_R213_URL, "39").display == (
        "Réunion de Concertation Pluridisciplinaire (RCP)"
    )
    assert len(builtin.get(systems.TRE_R227_URL).concepts) == 5  # type: ignore[union-attr]
    for code in (
        "11490-0",
        "34874-8",
        "11488-4",
        "11502-2",
        "18748-4",
        "57828-6",
        "57832-8",
        "57833-6",
        "34794-8",
    ):
        assert builtin.validate(systems.LOINC_URL, code).valid, code
        assert builtin.validate(systems.JDV_J07_URL, code, code_system=systems.LOINC_OID).valid, code
    assert builtin.display("AIG-INS-OID", systems.INS_NIR_OID) == "Autorité d'affectation des INS-NIR"


@pytest.mark.parametrize(
    "ident",
    [
        systems.TRE_R211_URL,
        systems.TRE_R211_URL + "?vs",
        "urn:oid:1.2.250.1.213.3.3.12",
        "URN:OID:1.2.250.1.213.3.3.12",
        "1.2.250.1.213.3.3.12",
        "TRE_R211-ActiviteOperationnelle",
        "TRE-R211-ActiviteOperationnelle",
        "TRE_R211",
        "tre_r211",
        "TRE-R211",
        "TRE_R211_ActiviteOperationnelle",
    ],
)
def test_identifier_forms_resolve(builtin: Registry, ident: str) -> None:
    assert builtin.resolve(ident) == systems.TRE_R211_URL
    assert builtin.validate(ident, "063").valid


def test_loinc_by_url_and_oid(builtin: Registry) -> None:
    assert builtin.resolve("urn:oid:2.16.840.1.113883.6.1") == "http://loinc.org"
    assert builtin.resolve(systems.LOINC_OID) == systems.LOINC_URL


def test_unknown_system_and_code(builtin: Registry) -> None:
    r = builtin.validate("urn:oid:1.2.3.4", "063")
    assert not r.valid and [i.code for i in r.issues] == ["NOM-0001"]
    r = builtin.validate(systems.TRE_R227_URL, "99")
    assert not r.valid and [i.code for i in r.issues] == ["NOM-0002"]
    # a curated subset says so
    r = builtin.validate(systems.TRE_R211_URL, "001")
    assert not r.valid and [i.code for i in r.issues] == ["NOM-0002", "NOM-0005"]
    with pytest.raises(NomenclatureNotFound) as exc:
        builtin.get("TRE_R999")
    assert exc.value.code == "NOM-0001" and exc.value.http_status == 404
    with pytest.raises(NomenclatureNotFound):
        builtin.get("TRE_R211", version="1999")
    r = builtin.validate("TRE_R211", "063", version="1999")
    assert not r.valid and r.issues[0].code == "NOM-0001"
    assert builtin.lookup("nope", "1") is None and builtin.display("TRE_R211", "999") is None


def _system(concepts: list[Concept], version: str = "1", builtin: bool = False) -> CodeSystemVersion:
    return CodeSystemVersion(
        url="urn:test:cs",
        id="TEST_CS",
        version=version,
        oid="1.2.3.99",
        concepts={c.code: c for c in concepts},
        builtin=builtin,
    )


def test_inactive_code_is_a_warning_and_display_mismatch() -> None:
    reg = Registry()
    reg.add(
        _system([Concept("A", "Hygiène"), Concept("B", "Ancien", ConceptStatus.INACTIVE, None, "2020-01-01")])
    )
    r = reg.validate("urn:test:cs", "B")
    assert r.valid and r.display == "Ancien"
    assert [(i.severity, i.code) for i in r.issues] == [("warning", "NOM-0003")]
    assert "2020-01-01" in (r.message or "")
    r = reg.validate("urn:test:cs", "A", display="HYGIENE")  # accent/case-insensitive match
    assert r.valid and r.issues == ()
    r = reg.validate("urn:test:cs", "A", display="Autre chose")
    assert r.valid and [i.code for i in r.issues] == ["NOM-0004"]


def test_validate_cache_is_invalidated_by_new_version() -> None:
    reg = Registry()
    reg.add(_system([Concept("A", "Un")], "1"))
    assert reg.validate("urn:test:cs", "A").display == "Un"
    assert reg.validate("TEST_CS", "A").display == "Un"
    outcome = reg.add(_system([Concept("A", "Un bis"), Concept("B", "Deux")], "2"))
    assert outcome.action == "updated" and outcome.previous_version == "1"
    assert outcome.changes["added"] == 1 and outcome.changes["relabelled"] == 1
    assert reg.validate("urn:test:cs", "A").display == "Un bis"
    assert reg.validate("TEST_CS", "A").display == "Un bis"
    assert reg.validate("urn:test:cs", "A", version="1").display == "Un"
    assert reg.versions("urn:test:cs") == ["1", "2"]
    older = reg.add(_system([Concept("A", "Zéro")], "0"))
    assert older.action == "added" and reg.get("urn:test:cs").version == "2"
    same = reg.add(_system([Concept("A", "Un bis"), Concept("B", "Deux")], "2"))
    assert same.action == "unchanged"


def test_imported_version_beats_builtin_subset() -> None:
    reg = Registry()
    reg.add(_system([Concept("A", "Un")], "9", builtin=True))
    out = reg.add(_system([Concept("A", "Un"), Concept("B", "Deux")], "1"))
    assert out.action == "updated" and reg.get("1.2.3.99").version == "1"


def test_kind_clash_is_refused() -> None:
    reg = Registry()
    reg.add(_system([Concept("A", "Un")]))
    vs = ValueSetVersion(url="urn:test:cs", id="X", version="1", members=[])
    with pytest.raises(Exception) as exc:
        reg.add(vs)
    assert getattr(exc.value, "code", "") == "NOM-0105"


def test_search_accent_and_case_insensitive(builtin: Registry) -> None:
    hits = builtin.search("TRE_R211", "HYGIENE")
    assert [c.code for c in hits] == ["063", "064"] or [c.code for c in hits] == ["064", "063"]
    # word-prefix matches rank before plain substrings
    assert [c.code for c in builtin.search("TRE_R211", "hygiène hosp")] == ["064"]
    assert [c.code for c in builtin.search("TRE_R227", "0")][:2] == ["01", "02"]  # code prefix
    assert len(builtin.search("TRE_R251", "", limit=3)) == 3
    assert [c.code for c in builtin.search("JDV_J221", "secretariat")] == ["07"]
    assert fold("Ête ÉLÈVE") == "ete eleve"


def test_expand_value_sets_and_systems(builtin: Registry) -> None:
    j07 = builtin.expand("JDV_J07")
    assert (
        Member(systems.LOINC_URL, "11490-0", "Lettre de liaison à la sortie d'un établissement de soins")
        in j07
    )
    j220 = builtin.expand(systems.JDV_J220_OID)
    assert {m.system for m in j220} == {systems.TRE_R251_URL} and len(j220) == 24
    assert [m.code for m in builtin.expand("TRE_R227")] == ["01", "02", "03", "04", "05"]
    reg = Registry()
    reg.add(
        _system([Concept("A", "Un"), Concept("B", "Deux", ConceptStatus.DEPRECATED, explicit_status=True)])
    )
    reg.add(
        ValueSetVersion(
            url="urn:test:vs", id="TEST_VS", version="1", members=[], include_systems=["urn:oid:1.2.3.99"]
        )
    )
    assert [m.code for m in reg.expand("urn:test:vs")] == ["A", "B"]
    assert [m.code for m in reg.expand("urn:test:vs", active_only=True)] == ["A"]
    r = reg.validate("TEST_VS", "B")
    assert r.valid and r.issues[0].code == "NOM-0003"
    assert not reg.validate("TEST_VS", "C").valid


def test_systems_summary(builtin: Registry) -> None:
    summary = {s.short_id or s.id: s for s in builtin.systems()}
    r211 = summary["TRE_R211"]
    assert r211.oid == systems.TRE_R211_OID and r211.builtin and r211.content == "fragment"
    assert summary["JDV_J07"].kind == "ValueSet"
    assert summary["TRE_R227"].concept_count == 5 and summary["TRE_R227"].content == "complete"
