"""Importers: every real corpus file, our .tabs samples, upgrades, persistence, error reporting."""

from __future__ import annotations

import json
from pathlib import Path

from aiguillage.nomenclatures import systems
from aiguillage.nomenclatures.importer import detect_format, import_paths
from aiguillage.nomenclatures.model import CodeSystemVersion
from aiguillage.nomenclatures.registry import Registry

from .conftest import SAMPLES

# file -> (concepts, current/active, version) from nos/full/MANIFEST.md
FULL = {
    "TRE_R211_ActiviteOperationnelle.json": (533, 458, "20230802150000"),
    "TRE_R210_ActeSpecifique.json": (1355, 1029, "20230802120000"),
    "TRE_R213_ModePriseEnCharge.json": (59, 37, "20230802120000"),
    "TRE_R227_ChampActivite.json": (5, 5, "20230802150000"),
    "TRE_R244_CategorieOrganisation.json": (115, 114, "20230802120000"),
    "TRE_R329_NatureCapacite.json": (2, 2, "20230718120000"),
    "TRE_R330_TypeStatutCapacite.json": (6, 6, "20230718120000"),
    "TRE_R331_TemporaliteCapacite.json": (5, 5, "20230718120000"),
    "TRE_R332_GenreCapacite.json": (4, 4, "20230718120000"),
    "TRE_R333_TypeFermetureCapacite.json": (3, 3, "20230718120000"),
    "TRE_R336_TypeCrise.json": (2, 2, "20230718120000"),
}


def test_import_whole_corpus(corpus_nos: Path, tmp_path: Path) -> None:
    reg = Registry.builtin()
    seen: list[tuple[int, int]] = []
    report = import_paths(reg, [corpus_nos], tmp_path, lambda d, t: seen.append((d, t)))
    assert report.ok, [i.as_dict() for i in report.errors]
    by_name = {Path(f.path).name: f for f in report.files}
    n_files = len(list((corpus_nos / "full").glob("*.json"))) - 0
    n_files += len(list((corpus_nos / "svs").glob("*.xml"))) + len(list((corpus_nos / "fhir").glob("*.json")))
    assert len(report.files) == n_files and seen[0] == (0, n_files) and seen[-1] == (n_files, n_files)
    for name, (count, active, version) in FULL.items():
        f = by_name[name]
        assert (f.format, f.kind, f.concept_count, f.version) == ("fhir-json", "CodeSystem", count, version)
        cs = reg.get(f.system or "")
        assert isinstance(cs, CodeSystemVersion) and cs.active_count == active and not cs.builtin
    # known codes, as the files say
    assert (
        reg.display("TRE_R211", "063") == "Hygiène, prévention, contrôle des infections associées aux soins"
    )
    assert reg.display("TRE_R211", "064") == "Hygiène hospitalière"
    assert reg.validate("TRE_R211", "061").issues[0].code == "NOM-0003"  # dateFin 2021-03-26
    assert reg.validate("TRE_R211", "001").valid  # full table now loaded
    assert reg.get("TRE_R211").content == "complete"
    assert (
        by_name["TRE_R211_ActiviteOperationnelle.json"].action == "replaced"
        or by_name["TRE_R211_ActiviteOperationnelle.json"].action == "updated"
    )
    # SVS value sets
    j07 = by_name["JDV_J07_XdsTypeCode_CISIS.xml"]
    assert (j07.format, j07.kind, j07.concept_count) == ("svs-xml", "ValueSet", 114)
    assert reg.validate(systems.JDV_J07_OID, "11490-0", code_system=systems.LOINC_URL).valid
    assert reg.get("JDV_J07").content == "complete" and reg.get("JDV_J07").version == "20240927120000"
    j19 = reg.expand("JDV_J19")
    assert len(j19) == 37 and {m.system for m in j19} == {systems.TRE_R213_URL}
    assert reg.validate("JDV_J19", "39").display == "Réunion de Concertation Pluridisciplinaire (RCP)"
    # FHIR value sets
    assert by_name["JDV_J220_FonctionContact_ROR.json"].concept_count == 24
    assert by_name["JDV_J221_NatureContact_ROR.json"].concept_count == 15
    # persisted: a fresh registry loaded from the store sees the same
    again = Registry.load(tmp_path)
    assert again.load_issues == []
    assert len(again.get("TRE_R210").concepts) == 1355  # type: ignore[union-attr]
    assert again.get("JDV_J34").version == reg.get("JDV_J34").version
    # re-importing the same files changes nothing
    second = import_paths(again, [corpus_nos], tmp_path)
    assert {f.action for f in second.files} == {"unchanged"}


def test_upgrade_keeps_old_version_and_reports_changes(corpus_nos: Path, tmp_path: Path) -> None:
    src = json.loads((corpus_nos / "full" / "TRE_R211_ActiviteOperationnelle.json").read_bytes())
    reg = Registry()
    first = import_paths(reg, [corpus_nos / "full" / "TRE_R211_ActiviteOperationnelle.json"], tmp_path)
    assert first.files[0].action == "new"
    src["version"] = "20260730120000"
    for c in src["concept"]:
        if c["code"] == "007":
            c["display"] = "Anesthésie (libellé changé)"
        if c["code"] == "062":
            c["property"].append({"code": "dateFin", "valueDateTime": "2024-01-01T00:00:00+01:00"})
    src["concept"].append({"code": "534", "display": "Nouvelle activité"})
    newer = tmp_path / "in" / "R211-2026.json"
    newer.parent.mkdir()
    newer.write_text(json.dumps(src), encoding="utf-8")
    rep = import_paths(reg, [newer], tmp_path / "store")
    f = rep.files[0]
    assert (f.action, f.previous_version, f.version) == ("updated", "20230802150000", "20260730120000")
    assert f.changes == {"added": 1, "removed": 0, "relabelled": 1, "deactivated": 1, "reactivated": 0}
    assert reg.versions("TRE_R211") == ["20230802150000", "20260730120000"]
    assert reg.display("TRE_R211", "007") == "Anesthésie (libellé changé)"
    assert reg.validate("TRE_R211", "007", version="20230802150000").display == "Anesthésie"
    reloaded = Registry.load(tmp_path / "store")
    assert reloaded.get("TRE_R211").version == "20260730120000"


def test_tabs_samples(tmp_path: Path) -> None:
    reg = Registry.builtin()
    rep = import_paths(
        reg,
        [SAMPLES / "TRE_R227-ChampActivite-sample.tabs", SAMPLES / "JDV_J221-NatureContact-sample.tabs"],
        tmp_path,
    )
    assert rep.ok
    cs_rep, vs_rep = rep.files
    assert (cs_rep.format, cs_rep.kind, cs_rep.id, cs_rep.version, cs_rep.concept_count) == (
        "tabs",
        "CodeSystem",
        "TRE_R227-ChampActivite",
        "20990101120000",
        6,
    )
    assert cs_rep.system == systems.TRE_R227_URL and cs_rep.action == "updated"
    assert cs_rep.changes["added"] == 1 and cs_rep.changes["deactivated"] == 1
    assert reg.validate(systems.TRE_R227_OID, "04").issues[0].code == "NOM-0003"
    assert reg.lookup("TRE_R227", "04").valid_to == "2024-01-01"  # type: ignore[union-attr]
    assert reg.display("TRE_R227", "05") == "Ville (libellé modifié, échantillon)"
    assert (vs_rep.kind, vs_rep.concept_count, vs_rep.version) == ("ValueSet", 3, "20990101120000")
    assert [m.system for m in reg.expand("JDV_J221")] == [systems.TRE_R287_URL] * 3


def test_tabs_cp1252_and_tab_separated(tmp_path: Path) -> None:
    text = (SAMPLES / "TRE_R227-ChampActivite-sample.tabs").read_text(encoding="utf-8")
    legacy = tmp_path / "legacy.tabs"
    legacy.write_bytes(text.replace(";", "\t").encode("cp1252"))
    reg = Registry()
    rep = import_paths(reg, [legacy], None)
    assert rep.ok and rep.files[0].concept_count == 6
    assert reg.display("TRE_R227", "01") == "Médecine Chirurgie Obstétrique (MCO)"


def test_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"resourceType": "CodeSystem",\n "url": }', encoding="utf-8")
    doctype = tmp_path / "evil.xml"
    doctype.write_bytes(
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1.2"/>'
        b"</RetrieveValueSetResponse>"
    )
    svs_bad = tmp_path / "bad-svs.xml"
    svs_bad.write_bytes(
        b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">\n'
        b'<ValueSet id="1.2.3" displayName="X" version="1"><ConceptList>\n'
        b'<Concept code="A" displayName="a"/>\n</ConceptList></ValueSet></RetrieveValueSetResponse>'
    )
    no_url = tmp_path / "nourl.json"
    no_url.write_text(json.dumps({"resourceType": "CodeSystem", "version": "1", "concept": [{"code": "A"}]}))
    other = tmp_path / "patient.json"
    other.write_text(json.dumps({"resourceType": "Patient"}))
    unknown = tmp_path / "notes.xml"
    unknown.write_text("<html/>")
    missing = tmp_path / "missing.tabs"
    reg = Registry()
    paths = [
        bad_json,
        doctype,
        svs_bad,
        no_url,
        other,
        unknown,
        SAMPLES / "TRE_R227-ChampActivite-broken.tabs",
        missing,
    ]
    rep = import_paths(reg, paths, tmp_path / "store")
    assert not rep.ok and all(not f.ok for f in rep.files)
    issues = {Path(f.path).name: f.issues for f in rep.files}
    assert issues["bad.json"][0].code == "NOM-0102" and issues["bad.json"][0].location == "bad.json:2"
    assert issues["evil.xml"][0].code == "NOM-0106"
    assert issues["bad-svs.xml"][0].code == "NOM-0103"
    assert issues["bad-svs.xml"][0].location == "bad-svs.xml:3 Concept/@codeSystem"
    assert issues["nourl.json"][0].location == "nourl.json url"
    assert issues["patient.json"][0].code == "NOM-0101"
    assert issues["notes.xml"][0].code == "NOM-0101"
    broken = issues["TRE_R227-ChampActivite-broken.tabs"]
    assert [(i.code, i.location) for i in broken] == [
        ("NOM-0104", "TRE_R227-ChampActivite-broken.tabs:4 <Date valid>"),
        ("NOM-0103", "TRE_R227-ChampActivite-broken.tabs:5 <Code>"),
    ]
    assert issues["missing.tabs"][0].code == "NOM-0107"
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").glob("*.json"))
    assert reg.systems() == []


def test_detect_format() -> None:
    assert detect_format(b'\xef\xbb\xbf  {"resourceType": "ValueSet"}') == "fhir-json"
    assert detect_format(b"<OID>;<Type fichier>") == "tabs"
    assert detect_format(b'<?xml version="1.0"?><RetrieveValueSetResponse/>') == "svs-xml"
    assert detect_format(b"hello", "x.txt") is None


def test_fhir_valueset_whole_system_and_expansion(tmp_path: Path) -> None:
    vs = {
        "resourceType": "ValueSet",
        "url": "urn:test:vs-all",
        "version": "1",
        "compose": {
            "include": [
                {"system": systems.TRE_R227_URL},
                {"system": systems.TRE_R211_URL, "filter": [{"op": "is-a"}]},
            ]
        },
    }
    exp = {
        "resourceType": "ValueSet",
        "url": "urn:test:vs-exp",
        "version": "2",
        "expansion": {"contains": [{"system": systems.LOINC_URL, "code": "11490-0", "display": "LL"}]},
    }
    bundle = {"resourceType": "Bundle", "entry": [{"resource": vs}, {"resource": exp}]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    reg = Registry.builtin()
    rep = import_paths(reg, [path], None)
    assert rep.ok and [f.kind for f in rep.files] == ["ValueSet", "ValueSet"]
    assert rep.files[0].issues[0].code == "NOM-0105"  # filter not evaluated: warning
    assert len(reg.expand("urn:test:vs-all")) == 5
    assert reg.validate("urn:test:vs-exp", "11490-0").valid


def test_svs_tre_file_is_a_code_system_and_ass_tabs_is_refused(tmp_path: Path) -> None:
    svs = tmp_path / "TRE_R999.xml"
    svs.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">\n'
        b' <ValueSet id="1.2.250.1.213.3.3.999" displayName="TRE_R999_Exemple.tabs" typeFichier="TRE"\n'
        b'   urlFichier="https://mos.esante.gouv.fr/NOS/TRE_R999-Exemple" dateMaj="20990101120000">\n'
        b"  <ConceptList>\n"
        b'   <Concept code="01" codeSystem="1.2.250.1.213.3.3.999" displayName="Un"\n'
        b'     dateValid="20200101000000"/>\n'
        b'   <Concept code="02" codeSystem="1.2.250.1.213.3.3.999" displayName="Deux"\n'
        b'     dateFin="20210101000000"/>\n'
        b"  </ConceptList>\n </ValueSet>\n</RetrieveValueSetResponse>\n"
    )
    ass = tmp_path / "ASS_X99.tabs"
    ass.write_text(
        "<OID>;<Type fichier>;<Nom fichier>;<Description>;<URL fichier>;<Date valid>;<Date fin>;<Date MàJ>\n"
        "1.2.3;ASS;ASS_X99.tabs;Assoc;https://mos.esante.gouv.fr/NOS/ASS_X99;;;20990101120000\n"
        "<OID>;<Code>;<Libellé>\n",
        encoding="utf-8",
    )
    reg = Registry()
    rep = import_paths(reg, [svs, ass], None)
    cs_rep, ass_rep = rep.files
    assert (cs_rep.kind, cs_rep.id, cs_rep.version, cs_rep.concept_count) == (
        "CodeSystem",
        "TRE_R999-Exemple",
        "20990101120000",
        2,
    )
    assert reg.resolve("TRE_R999") == systems.nos_url("TRE_R999-Exemple")
    assert reg.lookup("1.2.250.1.213.3.3.999", "01").valid_from == "2020-01-01"  # type: ignore[union-attr]
    assert reg.validate("TRE_R999", "02").issues[0].code == "NOM-0003"
    assert [i.code for i in ass_rep.issues] == ["NOM-0105"] and ass_rep.issues[
        0
    ].location == "ASS_X99.tabs:2 <Type fichier>"
