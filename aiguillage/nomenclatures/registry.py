"""The nomenclature registry: every loaded version of every code system and value set, in memory.

Lookups are dict-based. ``validate`` without version/display is served from a per-system cache of
prebuilt (immutable) results, so the hot path is two dict lookups.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiguillage.errors import Issue
from aiguillage.nomenclatures import storage
from aiguillage.nomenclatures.errors import (
    DISPLAY_MISMATCH,
    FRAGMENT_SYSTEM,
    INACTIVE_CODE,
    UNKNOWN_CODE,
    UNKNOWN_SYSTEM,
    ImportFormatError,
    NomenclatureNotFound,
)
from aiguillage.nomenclatures.model import (
    CodeSystemVersion,
    Concept,
    ConceptStatus,
    Member,
    Resource,
    SystemSummary,
    ValidationResult,
    ValueSetVersion,
    version_key,
)
from aiguillage.nomenclatures.systems import KNOWN_OID_URLS, nos_id_from_url, short_id
from aiguillage.nomenclatures.textfold import fold
from aiguillage.nomenclatures.versioning import AddOutcome, current_key, diff_versions, same_content

BUILTIN_DIR = Path(__file__).resolve().parent / "data"


@dataclass(slots=True)
class _Entry:
    kind: str
    versions: dict[str, Resource]
    current: Resource


class Registry:
    """All known code systems and value sets, every version kept; ``current`` = latest."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._alias: dict[str, str] = {}
        self._alias_ci: dict[str, str] = {}
        self._vcache: dict[str, dict[str, ValidationResult]] = {}  # alias -> code -> result
        self._url_vcache: dict[str, dict[str, ValidationResult]] = {}  # url -> code -> result
        self._search_cache: dict[tuple[str, str], list[tuple[Concept, str, str]]] = {}
        self._vs_index: dict[tuple[str, str], dict[str, list[Member]]] = {}
        self.load_issues: list[Issue] = []

    # --- construction ---------------------------------------------------------------------------

    @classmethod
    def builtin(cls) -> Registry:
        """The registry with the curated data packaged in ``aiguillage/nomenclatures/data``."""
        reg = cls()
        for path in sorted(BUILTIN_DIR.glob("*.json")):
            reg.add(storage.load_file(path, builtin=True))
        return reg

    @classmethod
    def load(cls, directory: Path | None) -> Registry:
        """Built-in data plus every version imported and persisted under ``directory``."""
        reg = cls.builtin()
        if directory is not None:
            resources, issues = storage.load_dir(directory)
            reg.load_issues.extend(issues)
            for res in resources:
                try:
                    reg.add(res)
                except ImportFormatError as exc:
                    reg.load_issues.append(Issue("error", exc.code, exc.message, res.source))
        return reg

    def add(self, res: Resource) -> AddOutcome:
        """Register one version; older versions are kept. Raises on a kind clash (CodeSystem vs ValueSet)."""
        url = self._alias.get(res.url) or (self._alias.get("urn:oid:" + res.oid) if res.oid else None)
        if url is not None and url != res.url:
            res.url = url  # same OID/alias as a known system: attach to its canonical URL
        entry = self._entries.get(res.url)
        if entry is not None and entry.kind != res.kind:
            raise ImportFormatError(
                f"{res.id} {res.version}: {res.kind} clashes with the {entry.kind} {res.url}", "NOM-0105"
            )
        if entry is None:
            self._entries[res.url] = _Entry(res.kind, {res.version: res}, res)
            outcome = AddOutcome("new", res.url, res.id, res.version, None, diff_versions(None, res))
        else:
            previous = entry.current
            existing = entry.versions.get(res.version)
            if existing is not None and existing.builtin == res.builtin and same_content(existing, res):
                return AddOutcome("unchanged", res.url, res.id, res.version, previous.version, {})
            entry.versions[res.version] = res
            if existing is not None and not (existing.builtin and not res.builtin):
                action = "replaced"
            else:
                action = "updated" if current_key(res) > current_key(previous) else "added"
            entry.current = max(entry.versions.values(), key=current_key)
            outcome = AddOutcome(
                action,
                res.url,
                res.id,
                res.version,
                previous.version,
                diff_versions(previous, res) if action != "added" else {},
            )
        self._register_aliases(res)
        self._invalidate(res.url)
        return outcome

    def _register_aliases(self, res: Resource) -> None:
        forms = {res.url, res.id, res.id.replace("_", "-"), res.id.replace("-", "_")}
        if res.oid:
            forms |= {res.oid, "urn:oid:" + res.oid}
        if res.name:
            forms.add(res.name)
        nos = nos_id_from_url(res.url)
        for ident in filter(None, (nos, res.id)):
            forms.add(ident)
            sid = short_id(ident)
            if sid:
                forms |= {sid, sid.replace("_", "-")}
        for form in forms:
            self._alias.setdefault(form, res.url)
            self._alias_ci.setdefault(form.casefold(), res.url)

    def _invalidate(self, url: str) -> None:
        self._url_vcache.pop(url, None)
        for alias in [a for a, u in self._alias.items() if u == url]:
            self._vcache.pop(alias, None)
        for key in [k for k in self._search_cache if k[0] == url]:
            del self._search_cache[key]
        self._vs_index.clear()  # value sets may include this system

    # --- resolution -----------------------------------------------------------------------------

    def resolve(self, system: str) -> str | None:
        """Canonical URL for a canonical URL, ``urn:oid:``, bare OID, NOS id or short id; None if unknown."""
        url = self._alias.get(system)
        if url is not None:
            return url
        s = system.strip()
        if s.endswith("?vs"):
            s = s[:-3]
        if s[:8].lower() == "urn:oid:":
            s = s[8:]
        return self._alias.get(s) or self._alias_ci.get(s.casefold())

    def canonical_system(self, system: str) -> str:
        """Best canonical form of a system reference: known URL, else well-known OID URL, else as given."""
        url = self.resolve(system)
        if url is not None:
            return url
        bare = system[8:] if system.startswith("urn:oid:") else system
        return KNOWN_OID_URLS.get(bare, system)

    def _entry(self, system: str) -> _Entry:
        url = self.resolve(system)
        if url is None:
            raise NomenclatureNotFound(f"unknown code system or value set: {system}", UNKNOWN_SYSTEM)
        return self._entries[url]

    def get(self, system: str, version: str | None = None) -> Resource:
        """A version (current by default). Raises ``NomenclatureNotFound`` (NOM-0001) if unknown."""
        entry = self._entry(system)
        if version is None:
            return entry.current
        res = entry.versions.get(version)
        if res is None:
            raise NomenclatureNotFound(f"unknown version {version} of {entry.current.id}", UNKNOWN_SYSTEM)
        return res

    def versions(self, system: str) -> list[str]:
        return sorted(self._entry(system).versions, key=version_key)

    def __contains__(self, system: object) -> bool:
        return isinstance(system, str) and self.resolve(system) is not None

    def systems(self) -> list[SystemSummary]:
        out = []
        for entry in self._entries.values():
            cur = entry.current
            if isinstance(cur, CodeSystemVersion):
                count, active = len(cur.concepts), cur.active_count
            else:
                count = active = len(cur.members)
            nos = nos_id_from_url(cur.url) or cur.id
            out.append(
                SystemSummary(
                    cur.kind,
                    cur.id,
                    short_id(nos),
                    cur.url,
                    cur.oid,
                    cur.title or cur.name,
                    cur.version,
                    tuple(sorted(entry.versions, key=version_key)),
                    cur.content,
                    count,
                    active,
                    cur.builtin,
                )
            )
        return sorted(out, key=lambda s: (s.kind, s.id))

    # --- lookups --------------------------------------------------------------------------------

    def lookup(self, system: str, code: str, version: str | None = None) -> Concept | None:
        """The concept for ``code`` (value sets: the concept of the member's code system), or None."""
        try:
            res = self.get(system, version)
        except NomenclatureNotFound:
            return None
        if isinstance(res, CodeSystemVersion):
            return res.concepts.get(code)
        members = self._members_index(res).get(code)
        if not members:
            return None
        m = members[0]
        concept = self.lookup(m.system, code) if m.system in self else None
        return concept or Concept(code, m.display or "")

    def display(self, system: str, code: str) -> str | None:
        concept = self.lookup(system, code)
        return concept.display if concept is not None else None

    def validate(
        self,
        system: str,
        code: str,
        version: str | None = None,
        display: str | None = None,
        code_system: str | None = None,
    ) -> ValidationResult:
        """Validate ``code`` in a code system or value set (``code_system`` narrows value set members).

        Unknown system: NOM-0001; unknown code: NOM-0002; inactive: valid with a NOM-0003 warning;
        wrong display: valid with a NOM-0004 warning.
        """
        if version is None and display is None and code_system is None:
            cache = self._vcache.get(system)
            if cache is not None:
                hit = cache.get(code)
                if hit is not None:
                    return hit
        return self._validate_slow(system, code, version, display, code_system)

    def _validate_slow(
        self, system: str, code: str, version: str | None, display: str | None, code_system: str | None
    ) -> ValidationResult:
        url = self.resolve(system)
        if url is None:
            msg = f"unknown code system or value set: {system}"
            return ValidationResult(False, None, msg, (Issue("error", UNKNOWN_SYSTEM, msg, "system"),))
        entry = self._entries[url]
        res = entry.current if version is None else entry.versions.get(version)
        if res is None:
            msg = f"unknown version {version} of {entry.current.id}"
            return ValidationResult(False, None, msg, (Issue("error", UNKNOWN_SYSTEM, msg, "version"),), url)
        if isinstance(res, CodeSystemVersion):
            result = self._validate_in_system(res, code)
        else:
            result = self._validate_in_valueset(res, code, code_system)
        cacheable = version is None and code_system is None and result.display is not None
        if cacheable:
            per_url = self._url_vcache.setdefault(url, {})
            per_url[code] = result
            if system in self._alias:
                self._vcache[system] = per_url
        if (
            display is not None
            and result.valid
            and result.display is not None
            and fold(display).strip() != fold(result.display).strip()
        ):
            msg = f"display {display!r} differs from {result.display!r} for code {code}"
            issue = Issue("warning", DISPLAY_MISMATCH, msg, "display")
            result = ValidationResult(True, result.display, msg, (*result.issues, issue), url, res.version)
        return result

    def _validate_in_system(self, res: CodeSystemVersion, code: str) -> ValidationResult:
        concept = res.concepts.get(code)
        if concept is None:
            msg = f"code {code!r} is not in {res.id} version {res.version}"
            issues = [Issue("error", UNKNOWN_CODE, msg, "code")]
            if res.content == "fragment":
                note = (
                    f"{res.id} is loaded as a curated subset ({len(res.concepts)} codes); "
                    "import the full table to validate every code"
                )
                issues.append(Issue("information", FRAGMENT_SYSTEM, note, "system"))
                msg = f"{msg} ({note})"
            return ValidationResult(False, None, msg, tuple(issues), res.url, res.version)
        if concept.status is ConceptStatus.ACTIVE:
            return ValidationResult(True, concept.display, None, (), res.url, res.version)
        since = f" since {concept.valid_to}" if concept.valid_to else ""
        msg = f"code {code!r} of {res.id} is {concept.status.value}{since}"
        return ValidationResult(
            True, concept.display, msg, (Issue("warning", INACTIVE_CODE, msg, "code"),), res.url, res.version
        )

    def _validate_in_valueset(
        self, res: ValueSetVersion, code: str, code_system: str | None
    ) -> ValidationResult:
        members = self._members_index(res).get(code, [])
        if code_system is not None:
            wanted = self.canonical_system(code_system)
            members = [m for m in members if m.system == wanted]
        if not members:
            msg = f"code {code!r} is not in value set {res.id} version {res.version}"
            return ValidationResult(
                False, None, msg, (Issue("error", UNKNOWN_CODE, msg, "code"),), res.url, res.version
            )
        m = members[0]
        concept = self.lookup(m.system, code) if m.system in self else None
        disp = concept.display if concept is not None else (m.display or "")
        if concept is not None and not concept.active:
            msg = f"code {code!r} of {m.system} is {concept.status.value}"
            return ValidationResult(
                True, disp, msg, (Issue("warning", INACTIVE_CODE, msg, "code"),), res.url, res.version
            )
        return ValidationResult(True, m.display or disp, None, (), res.url, res.version)

    # --- value sets -----------------------------------------------------------------------------

    def _members_index(self, res: ValueSetVersion) -> dict[str, list[Member]]:
        key = (res.url, res.version)
        index = self._vs_index.get(key)
        if index is None:
            index = {}
            for m in self._expand(res, active_only=False):
                index.setdefault(m.code, []).append(m)
            self._vs_index[key] = index
        return index

    def _expand(self, res: ValueSetVersion, active_only: bool) -> list[Member]:
        out: list[Member] = []
        seen: set[tuple[str, str]] = set()
        for m in res.members:
            sys_url = self.canonical_system(m.system)
            if (sys_url, m.code) in seen:
                continue
            seen.add((sys_url, m.code))
            if active_only:
                concept = self.lookup(sys_url, m.code) if sys_url in self else None
                if concept is not None and not concept.active:
                    continue
            out.append(Member(sys_url, m.code, m.display))
        for included in res.include_systems:
            sys_url = self.canonical_system(included)
            try:
                cs = self.get(sys_url)
            except NomenclatureNotFound:
                continue
            if isinstance(cs, CodeSystemVersion):
                for c in cs.concepts.values():
                    if (sys_url, c.code) not in seen and (c.active or not active_only):
                        seen.add((sys_url, c.code))
                        out.append(Member(sys_url, c.code, c.display))
        return out

    def expand(self, valueset: str, version: str | None = None, active_only: bool = False) -> list[Member]:
        """Every (system, code, display) of a value set; a code system expands to all its concepts."""
        res = self.get(valueset, version)
        if isinstance(res, CodeSystemVersion):
            return [
                Member(res.url, c.code, c.display)
                for c in res.concepts.values()
                if c.active or not active_only
            ]
        return self._expand(res, active_only)

    # --- search ---------------------------------------------------------------------------------

    def _folded(self, res: Resource) -> list[tuple[Concept, str, str]]:
        key = (res.url, res.version)
        rows = self._search_cache.get(key)
        if rows is None:
            if isinstance(res, CodeSystemVersion):
                concepts = list(res.concepts.values())
            else:
                concepts = [
                    self.lookup(res.url, m.code) or Concept(m.code, m.display or "")
                    for m in self._expand(res, active_only=False)
                ]
            rows = [(c, fold(c.display), c.code.casefold()) for c in concepts]
            self._search_cache[key] = rows
        return rows

    def search(
        self,
        system: str,
        text: str = "",
        limit: int | None = 20,
        version: str | None = None,
        active_only: bool = False,
    ) -> list[Concept]:
        """Concepts whose code starts with, or whose display contains, ``text`` (accent/case-insensitive).

        Code-prefix and display word-prefix matches come first, then substring matches; source order
        within each group.
        """
        res = self.get(system, version)
        needle = fold(text).strip()
        ranked: list[list[Concept]] = [[], [], []]
        for concept, folded, code in self._folded(res):
            if active_only and not concept.active:
                continue
            if not needle or code.startswith(needle):
                ranked[0].append(concept)
            elif folded.startswith(needle) or f" {needle}" in folded:
                ranked[1].append(concept)
            elif needle in folded:
                ranked[2].append(concept)
        out = ranked[0] + ranked[1] + ranked[2]
        return out if limit is None else out[:limit]
