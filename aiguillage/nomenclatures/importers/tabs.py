"""The NOS ``.tabs`` text export -> registry versions.

Layout (semicolon-separated despite the name; a tab separator is also accepted)::

    <OID>;<Type fichier>;<Nom fichier>;<Description>;<URL fichier>;<Date valid>;<Date fin>;<Date MàJ>
    1.2.250.1.213.3.3.12;TRE;TRE_R211-ActiviteOperationnelle.tabs;...;https://mos.esante.gouv.fr/NOS/TRE_R211-...;20150408000000;;20230802150000
    <OID>;<Code>;<Libellé>;<Libellé court>;<Libellé long>;<Date valid>;<Date fin>;<Date MàJ>
    1.2.250.1.213.3.3.12;001;Accueil et prise en charge...;...;...;20150408000000;;20150408000000

A ``TRE`` file is a code system (dates per concept); a ``JDV`` file is a value set whose first column
is the OID of each code's system (``<OID>;<Code>;<Libellé>``). ``ASS`` tables are not supported.
Files are UTF-8 (older exports are Windows-1252: accepted).
"""

from __future__ import annotations

from typing import Any

from aiguillage.errors import Issue
from aiguillage.nomenclatures.errors import (
    INVALID_VALUE,
    MISSING_FIELD,
    PARSE_ERROR,
    UNSUPPORTED,
    ImportFormatError,
)
from aiguillage.nomenclatures.importers.common import ParseResult, is_oid, iso_date, loc, system_from_oid
from aiguillage.nomenclatures.model import CodeSystemVersion, Concept, Member, ValueSetVersion, derive_status
from aiguillage.nomenclatures.systems import nos_id_from_url, nos_url
from aiguillage.nomenclatures.textfold import fold


def looks_like_tabs(text: str) -> bool:
    return text.lstrip("\ufeff").lstrip().startswith("<OID>")


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _norm_header(cell: str) -> str:
    return fold(cell.strip().strip("<>").strip()).replace(" ", "")


_COLUMNS = {
    "oid": "oid",
    "code": "code",
    "libelle": "display",
    "libelleadapte": "display",
    "libellecourt": "short",
    "libellelong": "long",
    "datevalid": "from",
    "datefin": "to",
    "datemaj": "updated",
}


def parse_tabs(data: bytes, filename: str) -> ParseResult:
    text = decode(data)
    lines = text.splitlines()
    issues: list[Issue] = []
    if len(lines) < 3 or not looks_like_tabs(lines[0]):
        raise ImportFormatError(
            f"{filename}: not a NOS .tabs file",
            PARSE_ERROR,
            [Issue("error", PARSE_ERROR, "expected '<OID>;<Type fichier>;...' header", loc(filename, 1))],
        )
    sep = ";" if lines[0].count(";") >= lines[0].count("\t") else "\t"
    meta = [c.strip() for c in lines[1].split(sep)]
    meta += [""] * (8 - len(meta))
    oid, ftype, fname, descr, url_file, _valid, date_end, date_maj = meta[:8]
    ftype = ftype.upper()
    if ftype == "ASS":
        raise ImportFormatError(
            f"{filename}: ASS association tables are not supported",
            UNSUPPORTED,
            [Issue("error", UNSUPPORTED, "ASS table", loc(filename, 2, "<Type fichier>"))],
        )
    if ftype not in ("TRE", "JDV"):
        issues.append(
            Issue(
                "error",
                INVALID_VALUE,
                f"<Type fichier> {ftype!r} is not TRE or JDV",
                loc(filename, 2, "<Type fichier>"),
            )
        )
    if not is_oid(oid):
        issues.append(
            Issue(
                "error",
                MISSING_FIELD if not oid else INVALID_VALUE,
                f"<OID> {oid!r} is not an OID",
                loc(filename, 2, "<OID>"),
            )
        )
    version = date_maj
    if not version:
        issues.append(
            Issue("error", MISSING_FIELD, "<Date MàJ> (version) is empty", loc(filename, 2, "<Date MàJ>"))
        )
    nos_id = nos_id_from_url(url_file + "/") if url_file else None
    if nos_id is None and fname:
        nos_id = fname.removesuffix(".tabs")
    columns = [_COLUMNS.get(_norm_header(h), "") for h in lines[2].split(sep)]
    for needed in ("oid", "code", "display"):
        if needed not in columns:
            issues.append(
                Issue(
                    "error",
                    MISSING_FIELD,
                    f"column for {needed} missing in the column header",
                    loc(filename, 3),
                )
            )
    if any(i.severity == "error" for i in issues):
        raise ImportFormatError(f"{filename}: bad header", issues[0].code, issues)
    idx = {name: columns.index(name) for name in set(columns) if name}
    concepts: dict[str, Concept] = {}
    members: list[Member] = []
    for lineno, line in enumerate(lines[3:], start=4):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(sep)]

        def cell(name: str, _cells: list[str] = cells) -> str:
            i = idx.get(name)
            return _cells[i] if i is not None and i < len(_cells) else ""

        code = cell("code")
        if not code:
            issues.append(Issue("error", MISSING_FIELD, "empty code", loc(filename, lineno, "<Code>")))
            continue
        display = cell("display") or cell("long") or cell("short")
        if ftype == "JDV":
            sys_oid = cell("oid")
            if not is_oid(sys_oid):
                issues.append(
                    Issue(
                        "error", INVALID_VALUE, f"{sys_oid!r} is not an OID", loc(filename, lineno, "<OID>")
                    )
                )
                continue
            members.append(Member(system_from_oid(sys_oid), code, display or None))
            continue
        try:
            valid_from = iso_date(cell("from"))
        except ValueError as exc:
            issues.append(Issue("error", INVALID_VALUE, str(exc), loc(filename, lineno, "<Date valid>")))
            continue
        try:
            valid_to = iso_date(cell("to"))
        except ValueError as exc:
            issues.append(Issue("error", INVALID_VALUE, str(exc), loc(filename, lineno, "<Date fin>")))
            continue
        try:
            updated = iso_date(cell("updated"))
        except ValueError as exc:
            issues.append(Issue("error", INVALID_VALUE, str(exc), loc(filename, lineno, "<Date MàJ>")))
            continue
        concepts[code] = Concept(code, display, derive_status(valid_to), valid_from, valid_to, updated)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise ImportFormatError(f"{filename}: {len(errors)} error(s)", errors[0].code, issues)
    header: dict[str, Any] = {
        "url": nos_url(nos_id) if nos_id else f"urn:oid:{oid}",
        "id": nos_id or oid,
        "version": version,
        "oid": oid,
        "name": fname or None,
        "title": descr or None,
        "source": filename,
        "status": "retired" if date_end else "active",
    }
    if ftype == "TRE":
        return [CodeSystemVersion(concepts=concepts, **header)], issues
    return [ValueSetVersion(members=members, **header)], issues
