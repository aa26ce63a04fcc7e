"""Stays for the indicators from the ADT projection (``aiguillage.store.adt`` flat ``adt_stays`` rows).

Reads only the flat rows (never the JSON state): visit number (the id a CDA's
encompassingEncounter carries), patient IPP, admission/discharge, patient class and whether the
identity is trusted (INS qualified). Inpatient classes become MCO stays, ``O`` consultations
(ACE), ``E`` emergency passages (never séjours). Without the ADT store (module or table absent)
the source answers None and the indicators say so.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from aiguillage.dmp.records import Stay, StayKind

log = logging.getLogger(__name__)

_KINDS = {"E": StayKind.EMERGENCY, "O": StayKind.CONSULTATION}


def _value(key: str) -> str:
    """``IPP:<authority>:<value>`` / ``NDA:<authority>:<value>`` -> value."""
    parts = key.split(":", 2)
    return parts[2] if len(parts) == 3 else key


def _stay(row: dict[str, Any]) -> Stay:
    kind = _KINDS.get(str(row.get("patient_class") or ""), StayKind.MCO)
    admit, discharge = row.get("admit_at"), row.get("discharge_at") if row.get("discharged") else None
    return Stay(
        id=row.get("visit_number") or _value(str(row["stay_key"])),
        ipp=_value(str(row["patient_key"])),
        kind=kind,
        admission=admit.date() if isinstance(admit, datetime) else None,
        discharge=discharge.date() if isinstance(discharge, datetime) else None,
        unit=row.get("uf_medicale") or row.get("uf_hebergement") or None,
        ins_qualified=bool(row.get("ins_trusted")),
        ace=kind is StayKind.CONSULTATION,
        source=f"adt_stays:{row['stay_key']}",
    )


def adt_stay_source(db: Engine) -> Callable[[date, date], list[Stay]] | None:
    """A stay source over ``adt_stays`` when the ADT store is installed, else None."""
    try:
        adt = importlib.import_module("aiguillage.store.adt")
        table = adt.STAYS
    except (ImportError, AttributeError):
        return None

    def stays(first: date, last: date) -> list[Stay]:
        lo = datetime(first.year, first.month, first.day)
        hi = datetime(last.year, last.month, last.day) + timedelta(days=1)
        c = table.c
        q = select(table).where(
            c.cancelled.is_(False),
            or_(and_(c.discharge_at >= lo, c.discharge_at < hi), and_(c.admit_at >= lo, c.admit_at < hi)),
        )
        try:
            with db.connect() as conn:
                return [_stay(dict(r)) for r in conn.execute(q).mappings()]
        except SQLAlchemyError as exc:
            log.warning("dmp: ADT stays unreadable (%s): no stays", exc.__class__.__name__)
            return []

    return stays


__all__ = ["adt_stay_source"]
