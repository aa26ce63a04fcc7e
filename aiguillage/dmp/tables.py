"""Store tables of the DMP push: documents received (from ClinicalDocument events) and push traces.

``dmp_documents``: one row per processed CDA message (the inbound message id is the key), with
the header values the push and the indicators need (local document id, setId, version, national
LOINC type code, IPP, stay id, INS kind) and its push state. ``dmp_traces``: one row per push
attempt, with the columns of the PFI "Infocentre DMPv2" export plus our own (message id, attempt,
reason). Alembic revision ``0005_dmp`` creates the same tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Index, Integer, MetaData, String, Table

metadata = MetaData()

PK = BigInteger().with_variant(Integer(), "sqlite")

documents = Table(
    "dmp_documents",
    metadata,
    Column("message_id", String(32), primary_key=True),
    Column("document_id", String(255), nullable=False),  # local id: id/@extension, else id/@root
    Column("set_id", String(255), nullable=False),
    Column("version", Integer, nullable=False),
    Column("loinc", String(64), nullable=True),  # national type code (after translation)
    Column("local_type_code", String(64), nullable=True),
    Column("ipp", String(64), nullable=True),
    Column("stay_id", String(64), nullable=True),
    Column("ins_kind", String(16), nullable=True),  # NIR, NIA, NIR_TEST, NIR_DEMO or None
    Column("produced_on", Date, nullable=True),
    Column("masking", String(64), nullable=False, default=""),
    Column("push_state", String(16), nullable=False),  # PENDING, DONE, FAILED, NOT_SENT
    Column("last_status", String(32), nullable=True),
    Column("received_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_dmp_documents_set", "set_id"),
    Index("ix_dmp_documents_produced", "produced_on"),
)

traces = Table(
    "dmp_traces",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("message_id", String(32), nullable=False),
    Column("attempt", Integer, nullable=False),
    # -- the PFI export columns --
    Column("document_id", String(255), nullable=True),  # source.document[0].idLocal
    Column("sara_type", String(16), nullable=True),  # source.document.idTypePieceSara
    Column("loinc", String(64), nullable=True),  # source.document.CodeLoinc
    Column("masking", String(64), nullable=False, default=""),  # source.document.Masquage
    Column("ins_present", Boolean, nullable=False),  # source.patient.insq Présent/Absent
    Column("domain", String(64), nullable=True),  # source.patient.domaine
    Column("ipp", String(64), nullable=True),  # source.patient.iPPL
    Column("source_author_id", String(64), nullable=True),  # source.auteurs.IdNat
    Column("author_id", String(64), nullable=True),  # PFI.auteurs.IdNat
    Column("share_id", String(64), nullable=True),  # PFI.IdPartage
    Column("action", String(16), nullable=False),  # PFI.Action
    Column("decision", String(16), nullable=False),  # PFI.document[0].Decision
    Column("requested_at", DateTime, nullable=True),  # PFI.DateRequete
    Column("answered_at", DateTime, nullable=True),  # PFI.DateReponse
    Column("status", String(32), nullable=False),  # retourDMP.Statut
    # -- ours --
    Column("stay_id", String(64), nullable=True),
    Column("set_id", String(255), nullable=True),
    Column("reason", String(255), nullable=False, default=""),  # why not sent / transport error kind
    Index("ix_dmp_traces_message", "message_id"),
    Index("ix_dmp_traces_requested", "requested_at"),
    Index("ix_dmp_traces_status", "status"),
)

__all__ = ["documents", "metadata", "traces"]
