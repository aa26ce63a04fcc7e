"""The per-row fast paths (PFI traces, venues, plain-line reading) change nothing but the speed.

Oracle: the same files imported with the ``Cells.clean_*`` tables disabled, so that every row and
cell goes through the full per-cell cleaning. Traces, stays, every report event (file, line,
column, original, action, in order) and the counts must be identical.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import pytest

from aiguillage.dmp import cells as cells_mod
from aiguillage.dmp.importer import iter_traces, read_venues
from aiguillage.dmp.pipeline import reconcile_files
from aiguillage.dmp.readers import open_table, row_key
from aiguillage.dmp.report import ImportReport

PFI_HEADERS = [
    "source.document[0].idLocal",
    "source.document.idTypePieceSara",
    "source.document.CodeLoinc",
    "source.document.Masquage",
    "source.patient.insq",
    "source.patient.domaine",
    "source.patient.iPPL",
    "source.teurs.IdNat",
    "PFI.autors.IdNat",
    "PFI.IdPartage",
    "PFI.Action",
    "PFI.docment[0].Decisi",
    "PFI.DateRequete",
    "PFI.DateReponse",
    "retourDMP.Statut",
]
# per column: clean values first, then defective ones (every defect class of the PFI export)
PFI_VALUES: list[tuple[list[str], list[str]]] = [
    (["a1b2c3d4e5f60718-1", "DOC_1", ""], ["3e86a1c-01b0-410f-80db-a5eb2ad", "#####", "1,2E+5"]),
    (["84", "40", ""], ["##"]),
    (["11490-0", "57833-6", "34874-8", "11488-4", "11502-2", "18748-4"], ["34874-B", "99999-9", "#####", "xyz"]),
    (["false,false"], [""]),
    (["Présent", "Absent", ""], ["PrA@sent", "PrÃ©sent", "peut-être", "###"]),
    (["51"], [""]),
    (["{p}", "{p}", "810012345678"], ["8,1E+11", "##", "9,9E+11"]),
    (["R1010125"], ["1E+5"]),
    (["810012345678", "3690780C"], ["8,1E+11", "###"]),
    (["59cd0f4a-13aa-4b1c-9d2e-0123456789ab", "S1f", ""], ["dcd5e2e3-fci", "#####"]),
    (["Creation", "Creation", "Modification", "Suppression", ""], ["Creatio", "xyz", "creation"]),
    (["Autorise", "Filtere", ""], ["Filt", "bad"]),
    (["10/03/2025 11:54", "11/03/2025 09:05", ""], ["#####", "garbage", "31/02/2025 10:00", "45730"]),
    (["10/03/2025 11:54", "12/03/2025 08:00", ""], ["#####", "10/03/2025 25:99"]),
    (["SUCCESS", "ERREUR_DMP_CLOS", "DOCUMENTS_TOUS", "ERREUR_VERIFICATION", ""], ["SUCCES", "ERREUR_VERIFICATI", "?"]),
]
VENUE_HEADERS = [
    "IPP Patient",
    "N° venue",
    "UF",
    "Date Entrée",
    "Date Sortie",
    "Hospitalisé sortant",
    "Au moins un acte chirurgical ?",
    "Consultation sur le mois (avec ACE)",
    "Type activité",
    "INS qualifiée",
    "Exclusion",
    "Adulte",
]
VENUE_VALUES: list[tuple[list[str], list[str]]] = [
    (["{p}"], ["8,1E+11", "##"]),
    (["V{n}", "V{n}", "V1"], ["", "#####"]),
    (["2001", "2002", ""], ["PrA@sent", "###"]),
    (["01/03/2025", "28/02/2025", ""], ["bad", "###"]),
    (["05/03/2025", "31/03/2025", ""], ["45730", "32/01/2025"]),
    (["oui", "non", ""], ["peut-être", "NÃ©"]),
    (["oui", "non"], ["?"]),
    (["oui", "non", ""], ["Ã©"]),
    (["MCO", "ACE", "PSY", ""], ["radio", "RADIOTH", "xyz"]),
    (["oui", "non", ""], ["##"]),
    (["", "", "", "", "", "", "décédé"], ["nia;ase", "foo"]),
    (["oui", "non", ""], ["x?"]),
]


def _write(path: Path, headers: list[str], values: list[tuple[list[str], list[str]]], n: int, seed: int) -> Path:
    rnd = random.Random(seed)
    lines = ["\t".join(headers)]
    for i in range(n):
        defect = rnd.random() < 0.2
        cells = []
        for clean, bad in values:
            pool = bad if defect and rnd.random() < 0.3 else clean
            cells.append(rnd.choice(pool).replace("{n}", str(i)).replace("{p}", str(100000 + rnd.randrange(40))))
        if rnd.random() < 0.05:
            cells[rnd.randrange(len(cells))] = " " + cells[0] + " "  # stray spaces
        if rnd.random() < 0.03:
            cells = cells[: rnd.randrange(1, len(cells))]  # short row
        lines.append("\t".join(cells))
        if lines[1:] and rnd.random() < 0.04:
            lines.append(rnd.choice(lines[1:]))  # exact duplicate
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _NeverKept(dict):  # type: ignore[type-arg]
    """A clean_* table that keeps nothing: every row and cell takes the full per-cell cleaning."""

    def __setitem__(self, key: object, value: object) -> None:
        return None

    def setdefault(self, key: object, default: Any = None) -> Any:
        return _NeverKept() if isinstance(default, dict) else default


@contextmanager
def _full_cleaning() -> Iterator[None]:
    """Within: Cells keep no clean value, so every row takes the full per-cell cleaning."""
    init = cells_mod.Cells.__init__

    def no_fast_path(self: cells_mod.Cells, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        for name in ("clean_loinc", "clean_status", "clean_bool", "clean_when", "clean_day", "clean_vocab"):
            setattr(self, name, _NeverKept())

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cells_mod.Cells, "__init__", no_fast_path)
        yield


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, (list, tuple, frozenset)):
        return type(value)(_plain(v) for v in value)
    return value


def _state(rep: ImportReport) -> tuple[Any, ...]:
    return ([e.as_dict() for e in rep.events], dict(rep.counts), dict(rep.rows_read), dict(rep.rows_kept))


def _import_all(pfi: Path, venues: Path) -> tuple[Any, ...]:
    rep = ImportReport()
    stays = read_venues(venues, rep)
    traces = list(iter_traces(pfi, rep, {s.ipp for s in stays}))
    return _plain(stays), _plain(traces), _state(rep)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_equals_full_cleaning(tmp_path: Path, seed: int) -> None:
    pfi = _write(tmp_path / "pfi.tsv", PFI_HEADERS, PFI_VALUES, 600, seed)
    venues = _write(tmp_path / "venues.tsv", VENUE_HEADERS, VENUE_VALUES, 300, seed)
    fast = _import_all(pfi, venues)
    with _full_cleaning():
        slow = _import_all(pfi, venues)
    assert fast[0] == slow[0]  # stays
    assert fast[1] == slow[1]  # traces
    assert fast[2] == slow[2]  # events in order, counts, rows read and kept
    events, counts = fast[2][0], fast[2][1]
    # the sample carries every defect class, each reported more than once (memoised values too)
    for code in ("DMP-0101", "DMP-0102", "DMP-0103", "DMP-0104", "DMP-0106", "DMP-0108", "DMP-0109", "DMP-0112"):
        assert counts[code] >= 2, code
    assert all(e["file"] and e["line"] and e["action"] for e in events if e["code"] != "DMP-0116")


def test_indicators_do_not_depend_on_the_fast_path(tmp_path: Path) -> None:
    pfi = _write(tmp_path / "pfi.tsv", PFI_HEADERS, PFI_VALUES, 400, 9)
    venues = _write(tmp_path / "venues.tsv", VENUE_HEADERS, VENUE_VALUES, 200, 9)
    runs = []
    for full in (False, True):
        rep = ImportReport()
        if full:
            with _full_cleaning():
                got = reconcile_files("2025-03", venues=venues, pfi=pfi, report=rep)
        else:
            got = reconcile_files("2025-03", venues=venues, pfi=pfi, report=rep)
        runs.append((_plain(got.indicators), got.sejour_notes, _state(rep)))
    assert runs[0] == runs[1]
    assert sum(i[7] for i in runs[0][0]) > 0 and sum(i[8] for i in runs[0][0]) > 0  # not vacuous


def test_unknown_vocabulary_value_is_reported_at_every_occurrence(tmp_path: Path) -> None:
    pfi = tmp_path / "pfi.tsv"
    row = ["D1", "84", "11490-0", "false,false", "Présent", "51", "100001", "R1", "8100", "S1", "xyz", "Autorise"]
    lines = ["\t".join(PFI_HEADERS)]
    for n in range(3):
        lines.append("\t".join([f"D{n}", *row[1:], "10/03/2025 11:54", "10/03/2025 11:54", "SUCCESS"]))
    pfi.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = ImportReport()
    traces = list(iter_traces(pfi, rep))
    unknown = [e for e in rep.by_code("DMP-0109") if e.column == "PFI.Action"]
    assert [e.line for e in unknown] == [2, 3, 4] and all(e.original == "xyz" for e in unknown)
    assert len(traces) == 3 and traces[2].answered_at == traces[2].requested_at is not None


def test_plain_lines_read_as_the_csv_module_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    text = 'a\tb\tc\n1\t2\t3\r\n\n\t\t\n x \t\ty\n"q\tuoted"\t"multi\nline"\t4\n1\t2\t3\nlast\trow\tno-eol'
    path.write_text(text, encoding="utf-8")
    table = open_table(path)
    got = list(table.rows)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        expected = [(reader.line_num, row) for row in reader if row and any(row)]
    assert [(line, row) for line, row, _ in got] == expected
    keys = [key for _, _, key in got]
    assert keys[0] == keys[3] and len(set(keys)) == 4  # "1 2 3" twice, whatever the line ending
    assert row_key(["1", "2", "3"]) == keys[0]  # a quoted copy would have the same key
    assert row_key(["q\tuoted", "multi\nline", "4"]) == keys[2]


def test_duplicate_reported_with_first_line_across_quoting(tmp_path: Path) -> None:
    path = tmp_path / "venues.tsv"
    path.write_text(
        'IPP Patient\tN° venue\n100001\tV1\n100002\tV2\n"100001"\tV1\n100003\tV3\n100002\tV2\n', encoding="utf-8"
    )
    rep = ImportReport()
    stays = read_venues(path, rep)
    assert [s.id for s in stays] == ["V1", "V2", "V3"]
    dups = rep.by_code("DMP-0106")
    assert [(e.line, e.action) for e in dups] == [
        (4, "same row as line 2: counted once"),
        (6, "same row as line 3: counted once"),
    ]
    assert dups[0].original == "100001\tV1" and dups[0].kind == "rejection"
    assert rep.rows_read[path.name] == 5 and rep.rows_kept[path.name] == 3


def test_collector_is_switched_back_on(tmp_path: Path) -> None:
    venues = _write(tmp_path / "venues.tsv", VENUE_HEADERS, VENUE_VALUES, 20, 4)
    assert gc.isenabled()
    reconcile_files("2025-03", venues=venues)
    assert gc.isenabled()
    gc.disable()
    try:
        reconcile_files("2025-03", venues=venues)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_duplicates_past_the_event_cap_are_still_counted(tmp_path: Path) -> None:
    path = tmp_path / "venues.tsv"
    rows = [f"1000{n}\tV{n}" for n in range(5)]
    path.write_text("IPP Patient\tN° venue\n" + "\n".join(rows + rows + rows) + "\n", encoding="utf-8")
    rep = ImportReport(max_events=4)
    stays = read_venues(path, rep)
    assert len(stays) == 5 and rep.counts["DMP-0106"] == 10
    kept = rep.by_code("DMP-0106")
    assert kept and all(e.action == f"same row as line {e.line - 5}: counted once" for e in kept if e.line < 12)


def test_duplicate_still_reported_when_the_file_cannot_be_read_again(tmp_path: Path) -> None:
    path = tmp_path / "pfi.tsv"
    row = "D1\t84\t11490-0\tfalse,false\tPrésent\t51\t100001\tR1\t8100\tS1\tCreation\tAutorise\t\t\tSUCCESS"
    path.write_text("\t".join(PFI_HEADERS) + "\n" + row + "\n" + row + "\n", encoding="utf-8")
    rep = ImportReport()
    traces = iter_traces(path, rep)
    first = next(traces)
    assert first.document_id == "D1"
    path.unlink()  # gone before the duplicate's first line can be looked up
    assert list(traces) == []
    (dup,) = rep.by_code("DMP-0106")
    assert dup.line == 3 and dup.kind == "rejection" and "counted once" in dup.action
    assert rep.rows_read[path.name] == 2 and rep.rows_kept[path.name] == 1
