"""Regenerate the curated built-in data files (``aiguillage/nomenclatures/data/*.json``).

    python -m aiguillage.nomenclatures.curate --corpus ../shared/corpus/nos

The codes come from ``verified-codes-subset.csv`` (the source of truth: code, display, system URL and
OID), plus the few extra codes the engine needs out of the box (ROR example codes, the tiny capacity
tables, the contact JDVs). Dates and statuses are taken from the official NOS files when present.
Each concept keeps a citation (``src``). Only run by maintainers; the output is committed.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

from aiguillage.nomenclatures import storage, systems
from aiguillage.nomenclatures.importer import import_paths
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept, Member, Resource, ValueSetVersion
from aiguillage.nomenclatures.registry import BUILTIN_DIR, Registry

CSV_NAME = "verified-codes-subset.csv"
IG_NOS = "ansforge/IG-NOS input/NOS"
CISIS_JDV = "ansforge/TestContenuCDA-3-0 jeuxDeValeurs"

# Extra codes beyond the CSV: (system id, codes or None for the whole table, citation)
EXTRA_CODES: list[tuple[str, list[str] | None, str]] = [
    (
        systems.TRE_R211_ID,
        ["022"],
        "ROR example HealthcareService-1234564 (IG ROR); label from IG-NOS TRE_R211",
    ),
    (systems.TRE_R227_ID, None, f"{IG_NOS}/TRE/TRE_R227_ChampActivite.json"),
    (systems.TRE_R329_ID, None, f"{IG_NOS}/TRE/TRE_R329_NatureCapacite.json"),
    (systems.TRE_R330_ID, None, f"{IG_NOS}/TRE/TRE_R330_TypeStatutCapacite.json"),
    (systems.TRE_R331_ID, None, f"{IG_NOS}/TRE/TRE_R331_TemporaliteCapacite.json"),
    (systems.TRE_R332_ID, None, f"{IG_NOS}/TRE/TRE_R332_GenreCapacite.json"),
    (systems.TRE_R333_ID, None, f"{IG_NOS}/TRE/TRE_R333_TypeFermetureCapacite.json"),
    (systems.TRE_R336_ID, None, f"{IG_NOS}/TRE/TRE_R336_TypeCrise.json"),
]
# Value sets copied whole (small) and the code systems they also feed (fragment), with citations
WHOLE_VALUE_SETS: list[tuple[str, str]] = [
    (systems.JDV_J220_ID, f"{IG_NOS}/JDV/JDV_J220_FonctionContact_ROR.json"),
    (systems.JDV_J221_ID, f"{IG_NOS}/JDV/JDV_J221_NatureContact_ROR.json"),
]

INS_SOURCE = "IHE France, contraintes sur les types de données HL7 v1.8.1, annexe N (OID des autorités INS)"
INS_CODES = [
    (systems.INS_NIR_OID, "Autorité d'affectation des INS-NIR"),
    (systems.INS_NIA_OID, "Autorité d'affectation des INS-NIA"),
    (systems.INS_NIR_TEST_OID, "Autorité d'affectation des INS-NIR de test"),
    (systems.INS_NIR_DEMO_OID, "Autorité d'affectation des INS-NIR de démonstration"),
]


@dataclass
class CsvRow:
    terminology: str
    url: str
    oid: str
    code: str
    display: str
    status: str
    source: str


def read_csv(path: Path) -> list[CsvRow]:
    rows: list[CsvRow] = []
    previous_source = ""
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            source = r["source"].strip()
            if source == "same":
                source = previous_source
            previous_source = source
            rows.append(
                CsvRow(
                    r["terminology"].strip(),
                    r["canonical_url"].strip(),
                    r["oid"].strip(),
                    r["code"].strip(),
                    r["display"].strip(),
                    r["status_in_source"].strip(),
                    source,
                )
            )
    return rows


def _fragment(corpus: Registry, url: str, oid: str, rid: str, title: str | None) -> CodeSystemVersion:
    official = corpus.get(url) if url in corpus else None
    version = official.version if official is not None else "curated"
    return CodeSystemVersion(
        url=url,
        id=rid,
        version=version,
        concepts={},
        oid=oid,
        name=official.name if official else None,
        title=(official.title if official else None) or title,
        content="fragment",
        source=f"aiguillage curated subset of {rid} (see concept src)",
        builtin=True,
    )


def _concept(corpus: Registry, url: str, code: str, display: str | None, src: str) -> Concept:
    official = corpus.lookup(url, code) if url in corpus else None
    if official is not None and isinstance(corpus.get(url), CodeSystemVersion):
        return Concept(
            code,
            display or official.display,
            official.status,
            official.valid_from,
            official.valid_to,
            official.updated,
            official.explicit_status,
            src,
        )
    return Concept(code, display or "", source=src)


def build(corpus_dir: Path) -> list[Resource]:
    corpus = Registry()
    import_paths(corpus, [corpus_dir], None)
    out: dict[str, CodeSystemVersion] = {}
    j07_members: list[Member] = []
    for row in read_csv(corpus_dir / CSV_NAME):
        if row.terminology.startswith("JDV_J07"):
            cs = out.setdefault(
                systems.LOINC_URL,
                CodeSystemVersion(
                    url=systems.LOINC_URL,
                    id="LOINC",
                    version="curated",
                    concepts={},
                    oid=systems.LOINC_OID,
                    name="LOINC",
                    title="LOINC (document types used by JDV_J07, French labels from the JDV)",
                    content="fragment",
                    source="aiguillage curated subset of LOINC (see concept src)",
                    builtin=True,
                ),
            )
            src = f"{CISIS_JDV}/JDV_J07_XdsTypeCode_CISIS.xml"
            cs.concepts[row.code] = Concept(row.code, row.display, source=src)
            j07_members.append(Member(systems.LOINC_URL, row.code, row.display))
            continue
        rid = systems.nos_id_from_url(row.url) or row.terminology
        cs = out.setdefault(row.url, _fragment(corpus, row.url, row.oid, rid, None))
        cs.concepts[row.code] = _concept(corpus, row.url, row.code, row.display, row.source)
    for rid, codes, src in EXTRA_CODES:
        url = systems.nos_url(rid)
        official = corpus.get(url)
        assert isinstance(official, CodeSystemVersion)
        cs = out.setdefault(url, _fragment(corpus, url, official.oid or "", rid, None))
        if codes is None:
            cs.content = "complete"
            cs.source = src
        for code in codes or list(official.concepts):
            cs.concepts.setdefault(code, _concept(corpus, url, code, None, src))
    resources: list[Resource] = []
    for vs_id, src in WHOLE_VALUE_SETS:
        vs = corpus.get(systems.nos_url(vs_id))
        assert isinstance(vs, ValueSetVersion)
        resources.append(
            ValueSetVersion(
                url=vs.url,
                id=vs.id,
                version=vs.version,
                members=list(vs.members),
                oid=vs.oid,
                name=vs.name,
                title=vs.title,
                source=src,
                builtin=True,
            )
        )
        for m in vs.members:
            sys_cs = out.get(m.system)
            if sys_cs is None:
                rid = systems.nos_id_from_url(m.system) or m.system
                oid = next((o for o, u in systems.KNOWN_OID_URLS.items() if u == m.system), "")
                sys_cs = out.setdefault(m.system, _fragment(corpus, m.system, oid, rid, None))
            sys_cs.concepts.setdefault(m.code, Concept(m.code, m.display or "", source=src))
    j07 = corpus.get(systems.JDV_J07_URL)
    resources.append(
        ValueSetVersion(
            url=systems.JDV_J07_URL,
            id=systems.JDV_J07_ID,
            version=j07.version,
            members=j07_members,
            oid=systems.JDV_J07_OID,
            name=j07.name,
            title=j07.title,
            content="fragment",
            builtin=True,
            source=f"aiguillage curated subset of {CISIS_JDV}/JDV_J07_XdsTypeCode_CISIS.xml"
            " (LOINC document types)",
        )
    )
    ins = CodeSystemVersion(
        url=systems.INS_OID_SYSTEM_URL,
        id=systems.INS_OID_SYSTEM_ID,
        version="1",
        oid=None,
        name="INS assigning authorities",
        title="Autorités d'affectation de l'INS (OID)",
        builtin=True,
        concepts={oid: Concept(oid, label, source=INS_SOURCE) for oid, label in INS_CODES},
        source=INS_SOURCE,
        publisher="aiguillage",
    )
    resources.append(ins)
    for cs in out.values():
        cs.concepts = dict(sorted(cs.concepts.items()))
    resources.extend(out.values())
    return resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True, help="the nos/ folder of the reference corpus")
    parser.add_argument("--out", type=Path, default=BUILTIN_DIR)
    args = parser.parse_args(argv)
    for old in args.out.glob("*.json"):
        old.unlink()
    for res in build(args.corpus):
        path = storage.save(res, args.out, pretty=True)
        print(f"{path.name}: {res.kind} {res.id} {res.version} ({res.content})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
