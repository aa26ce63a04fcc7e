"""End to end: CDA posted -> worker -> ClinicalDocument event -> DMP push (simulator) -> trace -> indicator."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from aiguillage.cda.header import InstanceId
from aiguillage.dmp.importer import iter_traces
from aiguillage.dmp.install import get_service
from aiguillage.dmp.records import DmpStatus, Stay
from aiguillage.dmp.report import ImportReport
from aiguillage.dmp.results import DELETED

from .conftest import INS, DmpHarness, make_cda


def _indicator(body: dict[str, object], ident: str) -> dict[str, object]:
    items = body["indicators"]
    assert isinstance(items, list)
    return next(i for i in items if i["id"] == ident)


async def test_round_trip_from_cda_posted_to_trace_counted(dmp: DmpHarness, tmp_path: Path) -> None:
    mid = await dmp.post_cda(make_cda())
    doc = await dmp.pushed(mid)
    assert doc["push_state"] == "DONE" and doc["last_status"] == "SUCCESS"
    [trace] = await dmp.traces(mid)
    assert trace["status"] == "SUCCESS" and trace["action"] == "Creation" and trace["decision"] == "Autorise"
    assert trace["loinc"] == "11490-0" and trace["sara_type"] == "84" and trace["ins_present"] is True
    assert trace["ipp"] == "IPP0001" and trace["stay_id"] == "SEJ0001" and trace["share_id"]
    assert trace["author_id"] == "801234567897" and trace["requested_at"] and trace["answered_at"]
    assert dmp.sim.counts == {"SUCCESS": 1}

    # the stay (as the ADT projection would give it) closed in March: the LDL counts in P1.02-LDL
    stays = [Stay("SEJ0001", "IPP0001", admission=date(2025, 3, 8), discharge=date(2025, 3, 11), ins_qualified=True),
             Stay("SEJ0002", "IPP0002", admission=date(2025, 3, 9), discharge=date(2025, 3, 12), ins_qualified=True)]
    get_service(dmp.engine).stay_source = lambda first, last: stays
    r = await dmp.client.get("/dmp/indicators", params={"month": "2025-03"}, headers=dmp.auth)
    assert r.status_code == 200, r.text
    ldl = _indicator(r.json(), "P1.02-LDL")
    assert ldl["base_count"] == 2 and ldl["numerator"] == 1
    assert ldl["rate"] == round(1 / (2 * 0.93) * 100, 1)
    r = await dmp.client.get("/dmp/indicators", params={"month": "2025-04"}, headers=dmp.auth)
    assert _indicator(r.json(), "P1.02-LDL")["numerator"] == 0

    # CSV export with the PFI headers reads back through the PFI importer
    r = await dmp.client.get("/dmp/traces", params={"format": "csv"}, headers=dmp.auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text), delimiter=";"))
    assert rows[0][0] == "source.document[0].idLocal" and "retourDMP.Statut" in rows[0] and len(rows) == 2
    path = tmp_path / "export.csv"
    path.write_text(r.text, encoding="utf-8")
    [back] = list(iter_traces(path, ImportReport()))
    assert back.status is DmpStatus.SUCCESS and back.loinc == "11490-0" and back.ins_present is True
    assert back.document_id == trace["document_id"]


async def test_closed_dmp(dmp: DmpHarness) -> None:
    dmp.sim.script.closed.add(INS)
    mid = await dmp.post_cda(make_cda())
    doc = await dmp.pushed(mid)
    [trace] = await dmp.traces(mid)
    assert trace["status"] == "ERREUR_DMP_CLOS" and doc["push_state"] == "DONE" and trace["share_id"] is None


async def test_invalid_ins_is_a_verification_error(dmp: DmpHarness) -> None:
    mid = await dmp.post_cda(make_cda(patient_ins="279035121518900"))  # wrong key: the DMP cannot verify it
    await dmp.pushed(mid)
    [trace] = await dmp.traces(mid)
    assert trace["status"] == "ERREUR_VERIFICATION" and trace["attempt"] == 1
    assert dmp.sim.counts == {"ERREUR_VERIFICATION": 1}


async def test_outage_is_retried_then_succeeds(dmp: DmpHarness) -> None:
    dmp.sim.script.outage = 2
    mid = await dmp.post_cda(make_cda())
    doc = await dmp.pushed(mid)
    traces = await dmp.traces(mid)
    assert [(t["attempt"], t["status"], t["reason"]) for t in traces] == [
        (1, "ERREUR_TECHNIQUE", "http-503"), (2, "ERREUR_TECHNIQUE", "http-503"), (3, "SUCCESS", "")]
    assert doc["last_status"] == "SUCCESS"


async def test_outage_longer_than_the_retries_then_explicit_push(dmp: DmpHarness) -> None:
    dmp.sim.script.outage = 10
    mid = await dmp.post_cda(make_cda())
    doc = await dmp.pushed(mid)
    assert doc["push_state"] == "FAILED" and len(await dmp.traces(mid)) == 3  # bounded attempts
    dmp.sim.script.outage = 0
    r = await dmp.client.post(f"/dmp/push/{mid}", headers=dmp.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "DONE" and body["status"] == "SUCCESS" and body["traces"][0]["attempt"] == 4


async def test_timeout_is_retried_and_the_replay_succeeds(dmp: DmpHarness) -> None:
    dmp.sim.script.slow, dmp.sim.script.slow_s = 1, 1.0  # client timeout is 0.5 s
    mid = await dmp.post_cda(make_cda())
    await dmp.pushed(mid)
    traces = await dmp.traces(mid)
    assert (traces[0]["status"], traces[0]["reason"]) == ("ERREUR_TECHNIQUE", "timeout")
    assert traces[-1]["status"] == "SUCCESS"


async def test_filtered_document(dmp: DmpHarness) -> None:
    dmp.sim.script.filtered.add("11490-0")
    mid = await dmp.post_cda(make_cda())
    await dmp.pushed(mid)
    [trace] = await dmp.traces(mid)
    assert trace["status"] == DmpStatus.DOCUMENTS_TOUS.value and trace["decision"] == "Filtere"


async def test_document_without_ins_is_not_sent(dmp: DmpHarness) -> None:
    mid = await dmp.post_cda(make_cda(ins_oid="1.2.3.4.567.8.9.99"))  # a local id, not an INS
    doc = await dmp.pushed(mid)
    [trace] = await dmp.traces(mid)
    assert doc["push_state"] == "NOT_SENT" and trace["status"] == "NON_ENVOYE"
    assert trace["ins_present"] is False and "INS" in trace["reason"]
    assert dmp.sim.counts == {}  # nothing reached the DMP


async def test_new_version_is_a_modification_then_suppression(dmp: DmpHarness) -> None:
    set_id = InstanceId("1.2.3.4.567.8.9.12.2", "SET-V")
    v1 = InstanceId("1.2.3.4.567.8.9.12.1", "DOC-V1")
    m1 = await dmp.post_cda(make_cda(document_id=v1, set_id=set_id))
    await dmp.pushed(m1)
    m2 = await dmp.post_cda(make_cda(document_id=InstanceId("1.2.3.4.567.8.9.12.1", "DOC-V2"), set_id=set_id,
                                     version_number=2, replaces=v1))
    await dmp.pushed(m2)
    [t2] = await dmp.traces(m2)
    assert (t2["action"], t2["status"], t2["set_id"]) == ("Modification", "SUCCESS", "SET-V")
    r = await dmp.client.post(f"/dmp/push/{m2}", params={"action": "Suppression"}, headers=dmp.auth)
    assert r.status_code == 200 and r.json()["status"] == "SUCCESS"
    assert r.json()["traces"][0]["action"] == "Suppression"
    # a second deletion of the same setId is refused by the DMP
    r = await dmp.client.post(f"/dmp/push/{m2}", params={"action": "Suppression"}, headers=dmp.auth)
    assert r.json()["status"] == "ERREUR_VERIFICATION"
    # sent then deleted: the stay is not counted
    get_service(dmp.engine).stay_source = lambda first, last: [
        Stay("SEJ0001", "IPP0001", admission=date(2025, 3, 8), discharge=date(2025, 3, 11))]
    report = get_service(dmp.engine).indicators("2025-03")
    ldl = report.get("P1.02-LDL")
    assert ldl.numerator == 0 and [m.reason for m in ldl.misses] == [DELETED]
