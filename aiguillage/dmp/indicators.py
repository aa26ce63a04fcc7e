"""HOP'EN 2 indicators P1.02 (LDL, ODS) to P1.06 for one month, from stays, documents and traces.

Traces are consumed in one pass (an iterator is fine); stays and documents are indexed first.
Rules (seed 002): stays closed in the month (séjour rules of ``sejours``), consultations with ACE
of the month, biology/imaging reports produced in the month; exclusions (deceased, NIA, non
insured, ASE minors, newborns) leave the denominator; denominator = count x 0.93; numerator =
units with at least one document of the indicator's type sent with status SUCCESS.
"""

from __future__ import annotations

from calendar import monthrange
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime

from . import results as r
from .crosscheck import CODE_FAMILY, code_family
from .definitions import DEFINITIONS, NATIONAL_RATE, IndicatorDef
from .errors import DmpInputError
from .records import Decision, DmpStatus, Document, Stay, StayKind, Trace
from .report import ImportReport
from .sejours import build_sejours

_STAY_FAMILIES = {"LDL": "stay", "ODS": "stay", "CRO": "stay", "CRC": "consultation"}
_DOC_FAMILIES = ("BIO", "IMG")
_NOT_HOSPITAL = (StayKind.CONSULTATION, StayKind.EMERGENCY)
_InsOf = Callable[[str | None, bool | None], bool | None]
_Candidate = tuple[date | None, date | None, date, str]


def month_bounds(month: str) -> tuple[date, date]:
    try:
        year, mon = (int(x) for x in month.split("-"))
        return date(year, mon, 1), date(year, mon, monthrange(year, mon)[1])
    except (ValueError, TypeError):
        raise DmpInputError(f"month must be YYYY-MM, got {month!r}", "DMP-0003") from None


class _State:
    """What the traces say about one unit (stay, consultation or document) for one family."""

    __slots__ = ("deleted_at", "filtered", "ins_absent", "last_at", "last_status", "success_at", "traces")

    def __init__(self) -> None:
        self.traces = 0
        self.success_at: datetime | None = None
        self.deleted_at: datetime | None = None
        self.last_at: datetime | None = None
        self.last_status: str | None = None
        self.filtered = False
        self.ins_absent = False

    def add(self, t: Trace) -> None:
        self.traces += 1
        at = t.requested_at or (datetime(t.sent_on.year, t.sent_on.month, t.sent_on.day) if t.sent_on else None)
        if t.ins_present is False:
            self.ins_absent = True
        if t.status is DmpStatus.SUCCESS:
            if t.action == "Suppression":
                if self.deleted_at is None or (at and at >= self.deleted_at):
                    self.deleted_at = at or datetime.min
            elif self.success_at is None or (at and at >= self.success_at):
                self.success_at = at or datetime.min
            return
        if t.status is DmpStatus.DOCUMENTS_TOUS or t.decision is Decision.FILTERED:
            self.filtered = True
        if self.last_at is None or (at is not None and at >= self.last_at):
            self.last_at = at or datetime.min
            self.last_status = t.status.value if t.status is not DmpStatus.UNKNOWN else (t.status_raw or t.status.value)

    @property
    def success(self) -> bool:
        return self.success_at is not None and not (self.deleted_at is not None and self.deleted_at >= self.success_at)


class _Population:
    """The units of the month: closed hospital stays, ACE consultations, and their IPP index."""

    def __init__(self, stays: list[Stay], first: date, last: date) -> None:
        self.hospital: dict[str, Stay] = {}
        self.consult: dict[str, Stay] = {}
        self.by_ipp: dict[str, list[Stay]] = defaultdict(list)
        for s in stays:
            if s.kind not in _NOT_HOSPITAL and _closed_in(s, first, last):
                self.hospital[s.id] = s
                self.by_ipp[s.ipp].append(s)
            if s.ace and _consulted_in(s, first, last):
                self.consult[s.id] = s
                if s.id not in self.hospital:
                    self.by_ipp[s.ipp].append(s)
        # per IPP, the units a hospital or a consultation trace may belong to, and (filled by the
        # trace pass) whether any trace of the patient said the INS was present
        self.patients: dict[str, _Patient] = {}
        for ipp, units in self.by_ipp.items():
            patient = self.patients[ipp] = _Patient()
            hospital: list[_Candidate] = []
            consultation: list[_Candidate] = []
            for s in units:
                in_consult = s.id in self.consult
                cand = (s.admission or s.discharge, s.discharge or s.admission, s.admission or date.min, s.id)
                if not in_consult:
                    hospital.append(cand)
                if in_consult or s.ace:
                    consultation.append(cand)
            patient.hospital, patient.consultation = tuple(hospital), tuple(consultation)

    def find(self, ipp: str | None, when: date | None, consultation: bool, lag_days: int) -> str | None:
        """The unit of this patient the trace belongs to: latest one started on or before ``when``."""
        patient = self.patients.get(ipp) if ipp else None
        if patient is None:
            return None
        return _latest(patient.consultation if consultation else patient.hospital, when, lag_days)


class _Patient:
    __slots__ = ("consultation", "hospital", "ins")

    def __init__(self) -> None:
        self.hospital: Sequence[_Candidate] = ()  # (start, end, admission for ordering, unit id)
        self.consultation: Sequence[_Candidate] = ()
        self.ins: bool | None = None  # True once a trace says the INS was present


def _latest(candidates: Sequence[_Candidate], when: date | None, lag_days: int) -> str | None:
    best: str | None = None
    best_admission = date.min
    for start, end, admission, sid in candidates:
        if when is not None:
            if start and when < start:
                continue
            if end and (when - end).days > lag_days:
                continue
        if best is None or admission > best_admission:
            best, best_admission = sid, admission
    return best


def _closed_in(s: Stay, first: date, last: date) -> bool:
    if s.discharged_in_month is False:
        return False
    if s.discharge is not None:
        return first <= s.discharge <= last
    return bool(s.discharged_in_month)


def _consulted_in(s: Stay, first: date, last: date) -> bool:
    d = s.admission or s.discharge
    return first <= d <= last if d is not None else True


def compute_indicators(
    month: str,
    stays: Iterable[Stay],
    documents: Iterable[Document],
    traces: Iterable[Trace],
    *,
    sunes_certified: bool = False,
    national_rate: float = NATIONAL_RATE,
    apply_sejour_rules: bool = True,
    lag_days: int = 31,
    import_report: ImportReport | None = None,
) -> r.IndicatorReport:
    """P1.02-LDL, P1.02-ODS, P1.03, P1.04, P1.05, P1.06 for ``month`` (YYYY-MM)."""
    first, last = month_bounds(month)
    venues = list(stays)
    notes: list[str] = []
    if apply_sejour_rules:
        build = build_sejours(venues)
        units, venue_map = build.sejours, build.venue_to_sejour
        for reason, n in Counter(reason.split(":")[0] for _, reason in build.not_sejours).items():
            notes.append(f"{n} venue(s) not counted as séjours: {reason}")
    else:
        units, venue_map = venues, {s.id: s.id for s in venues}
    excluded_ipps = {s.ipp for s in venues if s.exclusions and s.ipp}
    pop = _Population(units, first, last)
    docs = list(documents)
    docs_by_id = {d.local_id: d for d in docs}
    have_docs = bool(docs)

    states: dict[str, dict[str, _State]] = {f: {} for f in ("LDL", "ODS", "CRO", "CRC", *_DOC_FAMILIES)}
    produced: dict[str, dict[str, list[str]]] = {f: defaultdict(list) for f in _STAY_FAMILIES}
    doc_units: dict[str, dict[str, Document]] = {f: {} for f in _DOC_FAMILIES}
    undated = Counter[str]()
    for d in docs:
        fam = code_family(d.loinc)
        if fam in _STAY_FAMILIES and d.stay_id:
            produced[fam][venue_map.get(d.stay_id, d.stay_id)].append(d.local_id)
        elif fam in _DOC_FAMILIES and not d.subcontracted:
            if d.produced_on is None:
                undated[fam] += 1
            elif first <= d.produced_on <= last:
                doc_units[fam][d.local_id] = d

    unlinked = Counter[str]()
    family_of = CODE_FAMILY.get
    patients = pop.patients
    for t in traces:
        ipp = t.ipp
        patient = patients.get(ipp) if ipp else None
        if ipp and patient is None:
            patient = patients[ipp] = _Patient()
        if patient is not None and t.ins_present is not None and not patient.ins:
            patient.ins = t.ins_present
        fam = family_of(t.loinc)
        if fam is None:
            continue
        doc = docs_by_id.get(t.document_id) if have_docs and t.document_id else None
        if doc is not None and (doc.loinc != t.loinc or (ipp and doc.ipp and doc.ipp != ipp)):
            doc = None
        at = t.requested_at
        when = at.date() if at is not None else t.sent_on  # Trace.when
        key: str | None
        if fam in _DOC_FAMILIES:
            if doc is not None:
                key = doc.local_id
            elif not have_docs and t.document_id and when and first <= when <= last:
                key = t.document_id
                if key not in doc_units[fam]:
                    doc_units[fam][key] = Document(key, t.loinc, ipp, None, when)
            else:
                key = None
        else:
            vid = t.stay_id or (doc.stay_id if doc is not None else None)
            key = venue_map.get(vid, vid) if vid else None
            if key is None and patient is not None:
                key = _latest(patient.consultation if fam == "CRC" else patient.hospital, when, lag_days)
        if key is None:
            unlinked[fam] += 1
            continue
        fam_states = states[fam]
        st = fam_states.get(key)
        if st is None:
            st = fam_states[key] = _State()
        st.add(t)

    venue_ins = {s.ipp: s.ins_qualified for s in venues if s.ipp and s.ins_qualified is not None}

    def ins_of(ipp: str | None, own: bool | None) -> bool | None:
        if own is not None or not ipp:
            return own
        found = venue_ins.get(ipp)
        if found is not None:
            return found
        patient = patients.get(ipp)
        return patient.ins if patient is not None else None

    out: list[r.IndicatorResult] = []
    for defn in DEFINITIONS:
        fam = defn.family
        if fam in _DOC_FAMILIES:
            res = _document_indicator(defn, doc_units[fam], states[fam], excluded_ipps, ins_of)
            if undated[fam]:
                res.notes.append(f"{undated[fam]} document(s) without production date not counted")
        else:
            population = pop.consult if fam == "CRC" else pop.hospital
            res = _stay_indicator(defn, population, produced[fam], states[fam], excluded_ipps, ins_of)
        if unlinked[fam]:
            res.notes.append(f"{unlinked[fam]} trace(s) of this type linked to no unit of the month")
        _finish(res, defn, national_rate, sunes_certified)
        out.append(res)
    return r.IndicatorReport(month, sunes_certified, national_rate, out, import_report, notes)


def _miss_reason(st: _State | None, produced: bool, ins: bool | None) -> tuple[str, str | None]:
    if st is None:
        if not produced:
            return r.NOT_PRODUCED, None
        return (r.NO_QUALIFIED_INS if ins is False else r.NEVER_SENT), None
    if st.ins_absent or ins is False:
        return r.NO_QUALIFIED_INS, st.last_status
    if st.success_at is not None:  # sent, then deleted
        return r.DELETED, "Suppression"
    if st.filtered:
        return r.FILTERED, st.last_status
    return r.ERROR_STATUS, st.last_status


def _stay_indicator(
    defn: IndicatorDef,
    population: dict[str, Stay],
    produced: dict[str, list[str]],
    states: dict[str, _State],
    excluded_ipps: set[str],
    ins_of: _InsOf,
) -> r.IndicatorResult:
    a = b = c = d = e = excluded = 0
    misses: list[r.Miss] = []
    surgical_gate = defn.family == "CRO"
    for sid, s in population.items():
        if s.exclusions or s.ipp in excluded_ipps:
            excluded += 1
            continue
        a += 1
        ins = ins_of(s.ipp, s.ins_qualified)
        if ins:
            b += 1
        st = states.get(sid)
        made = sid in produced or st is not None
        ok = st is not None and st.success
        if surgical_gate:
            if not s.surgical:
                continue
            c += 1
            d += made
            e += ok
            in_base = True
        else:
            c += made
            d += ok
            in_base = defn.base == "A" or made
        if in_base and not ok:
            reason, status = _miss_reason(st, made, ins)
            misses.append(r.Miss(sid, s.ipp or None, reason, status, tuple(produced.get(sid, ()))))
    counts = {"A": a, "B": b, "C": c, "D": d, "E": e}
    return _result(defn, counts, excluded, misses)


def _document_indicator(
    defn: IndicatorDef,
    units: dict[str, Document],
    states: dict[str, _State],
    excluded_ipps: set[str],
    ins_of: _InsOf,
) -> r.IndicatorResult:
    a = b = c = d = excluded = 0
    misses: list[r.Miss] = []
    for did, doc in units.items():
        if doc.ipp in excluded_ipps:
            excluded += 1
            continue
        a += 1
        st = states.get(did)
        ins = ins_of(doc.ipp, doc.ins_qualified)
        if ins is None and st is not None and st.success:
            ins = True  # the DMP accepted it: the INS was qualified
        if ins:
            b += 1
        if doc.no_transmission:
            c += 1
            continue
        if st is not None and st.success:
            d += 1
        else:
            reason, status = _miss_reason(st, True, ins)
            misses.append(r.Miss(did, doc.ipp, reason, status, (did,)))
    return _result(defn, {"A": a, "B": b, "C": c, "D": d}, excluded, misses)


def _result(defn: IndicatorDef, counts: dict[str, int], excluded: int, misses: list[r.Miss]) -> r.IndicatorResult:
    base = counts[defn.base] - (counts[defn.minus] if defn.minus else 0)
    return r.IndicatorResult(
        id=defn.id,
        label=defn.label,
        unit=defn.unit,
        codes=sorted(defn.codes),
        funnel=[(ltr, lab, counts[ltr]) for ltr, lab in defn.funnel],
        base_letter=f"{defn.base} - {defn.minus}" if defn.minus else defn.base,
        numerator_letter=defn.numerator,
        base_count=base,
        numerator=counts[defn.numerator],
        denominator_exact=0.0,
        rate=None,
        target=0.0,
        met=None,
        excluded=excluded,
        misses=misses,
    )


def _finish(res: r.IndicatorResult, defn: IndicatorDef, national_rate: float, sunes: bool) -> None:
    res.denominator_exact = res.base_count * national_rate
    res.target = defn.target_sunes if sunes else defn.target_other
    if res.denominator_exact > 0:
        res.rate = round(res.numerator / res.denominator_exact * 100, 1)
        res.met = res.rate >= res.target
    else:
        res.notes.append("empty denominator: indicator not computable for this month")
