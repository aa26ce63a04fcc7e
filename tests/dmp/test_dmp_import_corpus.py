"""Import every corpus file (real excerpts, defects included) and check each defect is reported."""

from __future__ import annotations

from aiguillage.dmp.crosscheck import TraceLinker, check_documents
from aiguillage.dmp.importer import iter_traces, read_documents, read_venues
from aiguillage.dmp.records import Action, Decision, DmpStatus
from aiguillage.dmp.report import ImportReport

from .conftest import corpus_file


def _nothing_dropped(rep: ImportReport, name: str) -> None:
    rejected = sum(1 for e in rep.events if e.file == name and e.kind == "rejection")
    assert rep.rows_read[name] == rep.rows_kept[name] + rejected


def test_pfi_export_defects_are_repaired_and_reported() -> None:
    path = corpus_file("pfi-infocentre-dmpv2-export.tsv")
    rep = ImportReport()
    traces = list(iter_traces(path, rep))
    assert len(traces) == 21
    _nothing_dropped(rep, path.name)
    # mojibake: PrA@sent -> Présent, and the trace says the INS was present
    moj = rep.by_code("DMP-0101")
    assert moj and moj[0].original == "PrA@sent" and moj[0].new_value == "Présent"
    assert moj[0].column == "source.patient.insq" and moj[0].line == 2
    assert traces[0].ins_present is True and traces[4].ins_present is False
    # 8,1E+11: cannot be recovered, reported, set to unknown
    mangled = rep.by_code("DMP-0102")
    assert len(mangled) == 15 and all(e.original == "8,1E+11" for e in mangled)
    assert traces[0].author_id is None and traces[4].author_id == "3690780C"
    # ##### in DateReponse: every row
    overflow = rep.by_code("DMP-0103")
    assert len(overflow) == 21 and {e.column for e in overflow} == {"PFI.DateReponse"}
    assert all(t.answered_at is None for t in traces)
    # truncated status completed from the vocabulary
    (trunc,) = rep.by_code("DMP-0108")
    assert trunc.original == "ERREUR_VERIFICATI" and traces[4].status is DmpStatus.ERREUR_VERIFICATION
    # truncated ids are flagged, not altered
    assert any(e.original == "3e86a1c-01b0-410f-80db-a5eb2ad" for e in rep.by_code("DMP-0112"))
    statuses = {t.status for t in traces}
    assert {DmpStatus.SUCCESS, DmpStatus.ERREUR_DMP_CLOS, DmpStatus.DOCUMENTS_TOUS} <= statuses
    filtered = [t for t in traces if t.status is DmpStatus.DOCUMENTS_TOUS]
    assert filtered and all(t.decision is Decision.FILTERED for t in filtered)
    assert {t.action for t in traces} == {Action.CREATION, Action.MODIFICATION}


def test_sara_traces_ocr_codes_and_duplicate_row() -> None:
    path = corpus_file("sara-extraction-traces-dmp.tsv")
    rep = ImportReport()
    traces = list(iter_traces(path, rep))
    repaired = {(e.line, e.original, e.new_value) for e in rep.by_code("DMP-0104")}
    assert (10, "34874-B", "34874-8") in repaired and (12, "57833-B", "57833-6") in repaired
    (dup,) = rep.by_code("DMP-0106")
    assert dup.line == 11 and "line 10" in dup.action
    assert len(traces) == 12 and rep.rows_read[path.name] == 13
    _nothing_dropped(rep, path.name)
    assert sum(1 for t in traces if t.document_id == "DOC_188888") == 1
    assert all(t.status in (DmpStatus.SUCCESS, DmpStatus.ERREUR) for t in traces)


def test_sara_sheets_cross_check_ids_that_do_not_match() -> None:
    venues_p = corpus_file("sara-extraction-venues.tsv")
    docs_p = corpus_file("sara-extraction-documents.tsv")
    traces_p = corpus_file("sara-extraction-traces-dmp.tsv")
    rep = ImportReport()
    stays = read_venues(venues_p, rep)
    assert len(stays) == 8 and all(s.ace for s in stays)
    docs = read_documents(docs_p, rep, {s.ipp for s in stays})
    assert len(docs) == 12
    assert any(e.line == 13 and e.new_value == "34874-8" for e in rep.by_code("DMP-0104"))
    check_documents(stays, docs, rep)
    linker = TraceLinker(docs, stays, rep)
    traces = list(linker(iter_traces(traces_p, rep)))
    unknown_venues = {e.original for e in rep.by_code("DMP-0107") if e.file == docs_p.name}
    assert {"19000", "19040", "36767", "18888"} <= unknown_venues
    # DOC_188907 is used for two different documents; DOC_189002 does not exist in the documents sheet
    assert any(e.original == "DOC_188907" for e in rep.by_code("DMP-0114"))
    relinked = {(e.original, e.new_value) for e in rep.by_code("DMP-0113")}
    assert ("DOC_188907", "DOC_190014") in relinked and ("DOC_189002", "DOC_190404") in relinked
    assert ("DOC_188888", "DOC_1888888") in relinked
    assert any(e.original == "DOC_1888827" for e in rep.by_code("DMP-0107"))
    # the label says "Lettre de liaison" while the code is a consultation report
    (label,) = rep.by_code("DMP-0115")
    assert label.line == 12
    assert [t.document_id for t in traces][:3] == ["DOC_188907", "DOC_190014", "DOC_190404"]


def test_mangled_id_is_rematched_when_unique(tmp_path) -> None:  # type: ignore[no-untyped-def]
    venues = tmp_path / "venues.tsv"
    venues.write_text("IPP Patient\tN° venue\n810012345678\tV1\n123\tV2\n", encoding="utf-8")
    docs = tmp_path / "docs.tsv"
    docs.write_text(
        "IPP Patient\tN° venue\tDate production du document\tId local du document\t"
        "Type de document (code LOINC)\n8,1E+11\tV1\t01/03/2025\tD1\t11490-0\n9,9E+11\tV2\t01/03/2025\tD2\t11490-0\n",
        encoding="utf-8",
    )
    rep = ImportReport()
    stays = read_venues(venues, rep)
    got = read_documents(docs, rep, {s.ipp for s in stays})
    assert got[0].ipp == "810012345678" and got[1].ipp is None
    (fixed,) = rep.by_code("DMP-0113")
    assert fixed.original == "8,1E+11" and fixed.line == 2
    (lost,) = rep.by_code("DMP-0102")
    assert lost.original == "9,9E+11" and lost.line == 3
