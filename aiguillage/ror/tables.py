"""The ROR exposure store: resources as JSON plus extracted search index tables.

``ror_resources`` holds the current version of each resource (JSON text, region, deleted flag);
``ror_history`` every version. Search uses the index tables, never the JSON: ``ror_tokens``,
``ror_strings`` (accent/case folded), ``ror_refs``, ``ror_numbers`` and ``ror_positions`` (Location
latitude/longitude). Alembic revision ``0003_ror`` creates the same tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

PK = BigInteger().with_variant(Integer(), "sqlite")

resources = Table(
    "ror_resources",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("res_type", String(40), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime, nullable=False),
    Column("region", String(8), nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("json", Text, nullable=False),
    Index("ux_ror_resources_type_id", "res_type", "res_id", unique=True),
    Index("ix_ror_resources_type_updated", "res_type", "last_updated", "pk"),
    Index("ix_ror_resources_type_region", "res_type", "region"),
)

history = Table(
    "ror_history",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("res_type", String(40), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime, nullable=False),
    Column("region", String(8), nullable=True),
    Column("deleted", Boolean, nullable=False),
    Column("method", String(8), nullable=False),
    Column("json", Text, nullable=False),
    Index("ux_ror_history_type_id_version", "res_type", "res_id", "version_id", unique=True),
    Index("ix_ror_history_updated", "last_updated"),
)

tokens = Table(
    "ror_tokens",
    metadata,
    Column("res_pk", PK, nullable=False),
    Column("param", String(64), nullable=False),
    Column("system", String(255), nullable=False),
    Column("code", String(255), nullable=False),
    Index("ix_ror_tokens_lookup", "param", "code", "system", "res_pk"),
    Index("ix_ror_tokens_res", "res_pk"),
)

strings = Table(
    "ror_strings",
    metadata,
    Column("res_pk", PK, nullable=False),
    Column("param", String(64), nullable=False),
    Column("value", String(255), nullable=False),  # folded: accents removed, casefolded
    Column("raw", String(255), nullable=False),  # as written, for :exact
    Index("ix_ror_strings_lookup", "param", "value", "res_pk"),
    Index("ix_ror_strings_res", "res_pk"),
)

refs = Table(
    "ror_refs",
    metadata,
    Column("res_pk", PK, nullable=False),
    Column("param", String(64), nullable=False),
    Column("target_type", String(40), nullable=False),
    Column("target_id", String(64), nullable=False),
    Index("ix_ror_refs_target", "param", "target_type", "target_id", "res_pk"),
    Index("ix_ror_refs_res", "res_pk", "param"),
)

numbers = Table(
    "ror_numbers",
    metadata,
    Column("res_pk", PK, nullable=False),
    Column("param", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Index("ix_ror_numbers_lookup", "param", "value", "res_pk"),
    Index("ix_ror_numbers_res", "res_pk"),
)

positions = Table(
    "ror_positions",
    metadata,
    Column("res_pk", PK, primary_key=True, autoincrement=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Index("ix_ror_positions_lat_lon", "lat", "lon"),
)

INDEX_TABLES = (tokens, strings, refs, numbers, positions)
