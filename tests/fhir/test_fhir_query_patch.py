"""Pure FHIR-layer units: search parsing, date ranges, near, patches, capability/registry agreement."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiguillage.fhir.capability import capability_statement
from aiguillage.fhir.errors import FhirInputError
from aiguillage.fhir.patch import fhirpath_patch, json_patch
from aiguillage.fhir.query import parse_date_range, parse_near, parse_search, split_values
from aiguillage.fhir.searchparams import PARAMS, parse_reference
from aiguillage.ror.indexer import index
from tests.ror.builders import dataset


def test_parse_search_criteria_includes_and_controls() -> None:
    req = parse_search("HealthcareService", [
        ("specialty", "sys|063,064"), ("name:contains", "Hygiène  HOSP"), ("location.address-city", "Tours"),
        ("_include", "HealthcareService:*"), ("_include:iterate", "Organization:partof"),
        ("_revinclude", "PractitionerRole:service"), ("_count", "5000"), ("_sort", "-_lastUpdated"),
        ("_federate", "true"),
    ])
    spec, name, chain = req.criteria
    assert [(v.system, v.code) for v in spec.values] == [("sys", "063"), (None, "064")]
    assert name.modifier == "contains" and name.values[0].text == "hygiene hosp"
    assert chain.chain is not None and chain.chain.name == "location" and chain.param.resource == "Location"
    assert {i.param for i in req.includes if not i.iterate} == {"organization", "location"}
    assert [(i.source, i.iterate) for i in req.includes if i.iterate] == [("Organization", True)]
    assert req.count == 1000 and req.sort == "-_lastUpdated" and req.federate == "true"
    assert ("_federate", "true") not in req.echo


def test_parse_search_collects_every_error_and_lenient_ignores_unknown() -> None:
    with pytest.raises(FhirInputError) as exc:
        parse_search("HealthcareService", [("nope", "1"), ("_count", "x"), ("name:fuzzy", "a")])
    assert [i.code for i in exc.value.issues] == ["FHIR-0201", "FHIR-0206", "FHIR-0203"]
    req = parse_search("HealthcareService", [("nope", "1"), ("location.nope", "2")], lenient=True)
    assert req.ignored == ["nope", "location.nope"] and req.criteria == []


def test_date_ranges_follow_precision_and_timezone() -> None:
    assert parse_date_range("2024") == (datetime(2024, 1, 1), datetime(2025, 1, 1))
    assert parse_date_range("2024-12") == (datetime(2024, 12, 1), datetime(2025, 1, 1))
    assert parse_date_range("2024-02-28")[1] == datetime(2024, 2, 29)
    lo, hi = parse_date_range("2024-06-01T10:00:00+02:00")
    assert lo == datetime(2024, 6, 1, 8, 0, 0) and (hi - lo).total_seconds() == 1
    with pytest.raises(FhirInputError):
        parse_date_range("2024-02-30")


def test_near_and_references_and_value_splitting() -> None:
    assert parse_near("47.39|0.69") == (47.39, 0.69, 20.0)
    assert parse_near("47.39|0.69|500|m")[2] == 0.5
    with pytest.raises(FhirInputError):
        parse_near("47|0|5|furlongs")
    assert parse_reference("https://ror.example/fhir/Organization/12/_history/3") == ("Organization", "12")
    assert parse_reference("urn:uuid:1") is None
    assert split_values(r"a\,b,c") == ["a,b", "c"]


@given(st.lists(st.text(alphabet="ab,\\|", max_size=5), min_size=1, max_size=4))
def test_split_values_round_trips_escaped_commas(values: list[str]) -> None:
    if any(v.endswith("\\") for v in values):
        return
    joined = ",".join(v.replace(",", "\\,") for v in values)
    assert split_values(joined) == values


def test_json_patch_operations_and_failures() -> None:
    doc = {"resourceType": "Organization", "id": "1", "alias": ["a", "b"], "name": "n"}
    out = json_patch(doc, [{"op": "add", "path": "/alias/-", "value": "c"}, {"op": "remove", "path": "/alias/0"},
                           {"op": "move", "from": "/name", "path": "/alias/0"},
                           {"op": "copy", "from": "/id", "path": "/language"}])
    assert out["alias"] == ["n", "b", "c"] and "name" not in out and out["language"] == "1"
    assert doc["alias"] == ["a", "b"]  # input untouched
    for bad in ([{"op": "remove", "path": "/missing"}], [{"op": "jump", "path": "/id"}], {"op": "add"}):
        with pytest.raises(FhirInputError):
            json_patch(doc, bad)


def _op(kind: str, path: str, **parts: object) -> dict[str, object]:
    ps: list[dict[str, object]] = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for k, v in parts.items():
        key = {"name": "valueString", "index": "valueInteger", "source": "valueInteger",
               "destination": "valueInteger"}.get(k, "valueString")
        ps.append({"name": k, key: v} if k != "value" else {"name": "value", "valueString": v})
    return {"name": "operation", "part": ps}


def test_fhirpath_patch_add_insert_move_replace_delete() -> None:
    doc = {"resourceType": "Organization", "id": "1", "alias": ["a", "b"]}
    params = {"resourceType": "Parameters", "parameter": [
        _op("insert", "Organization.alias", value="z", index=0),
        _op("move", "Organization.alias", source=0, destination=2),
        _op("replace", "Organization.alias[0]", value="A"),
        _op("add", "Organization", name="name", value="Nom"),
        _op("delete", "Organization.alias[1]"),
        _op("delete", "Organization.telecom"),  # absent: no-op
    ]}
    out = fhirpath_patch(doc, params)
    assert out["alias"] == ["A", "z"] and out["name"] == "Nom"
    with pytest.raises(FhirInputError):
        fhirpath_patch(doc, {"resourceType": "Parameters", "parameter": [
            _op("replace", "Organization.alias.where(true)", value="x")]})
    with pytest.raises(FhirInputError):
        fhirpath_patch(doc, {"resourceType": "Parameters", "parameter": [_op("add", "Organization", name="id",
                                                                             value="2")]})


def test_capability_lists_exactly_the_registry_and_indexer_uses_it() -> None:
    cap = capability_statement("http://x/fhir")
    for res in cap["rest"][0]["resource"]:
        plain = {p["name"] for p in res["searchParam"] if "." not in p["name"]}
        assert plain == set(PARAMS[res["type"]])
    rows = index(dataset()[9])  # hs1
    params = {p for p, _, _ in rows.tokens} | {p for p, _, _ in rows.refs} | {p for p, _, _ in rows.strings}
    assert params <= set(PARAMS["HealthcareService"]) and {"specialty", "characteristic", "location"} <= params
