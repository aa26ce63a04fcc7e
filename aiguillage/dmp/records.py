"""Record types of the DMP reconciliation: venues/stays, documents produced, DMP traces.

Importers build them from files (SARA sheets, PFI infocentre export); the engine will later build
them from its store. Plain slotted dataclasses: a million traces must fit in memory cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class StayKind(StrEnum):
    """Activity of a venue, which decides how venues group into indicator séjours."""

    MCO = "MCO"
    SMR = "SMR"
    PSY = "PSY"
    HAD = "HAD"
    RADIOTHERAPY = "RADIOTHERAPIE"
    CHEMOTHERAPY = "CHIMIOTHERAPIE"
    DIALYSIS = "DIALYSE"
    CONSULTATION = "ACE"  # external consultation billed as an ACE
    EMERGENCY = "URGENCES"  # emergency passage without admission: never a séjour


class Exclusion(StrEnum):
    """Cases the seed removes from every P1.02–P1.06 denominator."""

    NOT_INSURED = "non_assure"  # not covered by French social insurance
    NIA = "ins_nia"  # INS matricule of type NIA
    ASE_MINOR = "mineur_ase"  # minor placed with the Aide sociale à l'enfance
    NEWBORN = "nouveau_ne"  # newborn in maternity
    DECEASED = "decede"


class DmpStatus(StrEnum):
    """``retourDMP.Statut`` values (PFI) and the SARA sheet's ``Statut traitement DMP``."""

    SUCCESS = "SUCCESS"
    ERREUR = "ERREUR"  # SARA consolidated sheet: any error
    ERREUR_DMP_CLOS = "ERREUR_DMP_CLOS"
    ERREUR_VERIFICATION = "ERREUR_VERIFICATION"
    DOCUMENTS_TOUS = "DOCUMENTS_TOUS"  # filtered by the PFI (decision "Filtere"): not sent
    UNKNOWN = "INCONNU"  # unreadable status: kept, reported, never counted as success


class Action(StrEnum):
    CREATION = "Creation"
    MODIFICATION = "Modification"
    SUPPRESSION = "Suppression"
    UNKNOWN = "Inconnue"


class Decision(StrEnum):
    AUTHORISED = "Autorise"
    FILTERED = "Filtere"
    UNKNOWN = "Inconnue"


@dataclass(slots=True)
class Stay:
    """One venue as extracted from the GAP/PMSI, or one séjour built from venues by ``sejours``.

    ``discharged_in_month``/``ace_in_month`` carry the SARA sheet's pre-computed flags when the
    source gives no dates; ``ins_qualified`` is None when the source does not say.
    """

    id: str
    ipp: str
    kind: StayKind = StayKind.MCO
    admission: date | None = None
    discharge: date | None = None
    unit: str | None = None  # UF
    legal_entity: str | None = None  # FINESS juridique (dialysis: "same legal structure")
    group_id: str | None = None  # PSY: venues sharing a séjour id
    ins_qualified: bool | None = None
    surgical: bool = False  # at least one surgical act
    ace: bool = False  # consultation billed as ACE
    adult: bool | None = None
    discharged_in_month: bool | None = None
    exclusions: frozenset[Exclusion] = frozenset()
    venue_ids: tuple[str, ...] = ()  # venues grouped into this séjour (sejours.build_sejours)
    source: str | None = None  # "file:line" for reports


@dataclass(slots=True)
class Document:
    """A document produced by the DPI/SGL/RIS (extraction "documents produits")."""

    local_id: str
    loinc: str | None
    ipp: str | None = None
    stay_id: str | None = None
    produced_on: date | None = None
    sara_type: str | None = None
    label: str | None = None
    ins_qualified: bool | None = None
    no_transmission: bool = False  # medical decision not to send (biology, imaging)
    subcontracted: bool = False  # made outside the establishment: not counted
    source: str | None = None


@dataclass(slots=True)
class Trace:
    """One DMP request and its answer (PFI "Infocentre DMPv2" row, or SARA consolidated trace)."""

    document_id: str | None
    loinc: str | None
    status: DmpStatus
    status_raw: str = ""
    ipp: str | None = None
    stay_id: str | None = None  # SARA consolidated sheet only
    sara_type: str | None = None
    masking: str | None = None
    ins_present: bool | None = None  # PFI source.patient.insq "Présent"/"Absent"
    domain: str | None = None
    source_author_id: str | None = None
    author_id: str | None = None
    share_id: str | None = None
    action: Action = Action.CREATION
    decision: Decision = Decision.AUTHORISED
    requested_at: datetime | None = None
    answered_at: datetime | None = None
    sent_on: date | None = None  # SARA "Date émission"
    source: str | None = None

    @property
    def when(self) -> date | None:
        if self.requested_at is not None:
            return self.requested_at.date()
        return self.sent_on


@dataclass
class Dataset:
    """What an import produced; feed it to ``indicators.compute_indicators``."""

    stays: list[Stay] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
