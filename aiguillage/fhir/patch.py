"""JSON Patch (RFC 6902) and FHIRPath Patch (a Parameters resource) on FHIR JSON.

FHIRPath Patch supports ``add``, ``insert``, ``replace``, ``delete`` and ``move`` on simple paths:
``Type.element(.element)*`` with optional ``[n]`` indexes (no ``where()``/functions). The value is a
``value[x]`` part (primitive or complex datatype given as JSON). Both functions return a new object;
the input is never modified. Errors are :class:`FhirInputError` (FHIR-0301, test failure FHIR-0302).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from aiguillage.fhir import errors as E
from aiguillage.fhir.ror import JSONObj, as_list

# --- JSON Patch --------------------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise E.FhirInputError(f"JSON pointer must start with '/': {path!r}", E.PATCH)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, parts: list[str], path: str) -> Any:
    for p in parts:
        if isinstance(doc, list):
            if not p.isdigit() or int(p) >= len(doc):
                raise E.FhirInputError(f"no element at {path}", E.PATCH)
            doc = doc[int(p)]
        elif isinstance(doc, dict) and p in doc:
            doc = doc[p]
        else:
            raise E.FhirInputError(f"no element at {path}", E.PATCH)
    return doc


def _jp_add(doc: Any, path: str, value: Any) -> None:
    parts = _pointer(path)
    if not parts:
        raise E.FhirInputError("cannot replace the whole resource with add", E.PATCH)
    parent = _walk(doc, parts[:-1], path)
    key = parts[-1]
    if isinstance(parent, list):
        if key == "-":
            parent.append(value)
        elif key.isdigit() and int(key) <= len(parent):
            parent.insert(int(key), value)
        else:
            raise E.FhirInputError(f"bad array index in {path}", E.PATCH)
    elif isinstance(parent, dict):
        parent[key] = value
    else:
        raise E.FhirInputError(f"cannot add under {path}", E.PATCH)


def _jp_remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise E.FhirInputError("cannot remove the whole resource", E.PATCH)
    parent = _walk(doc, parts[:-1], path)
    key = parts[-1]
    if isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        return parent.pop(int(key))
    if isinstance(parent, dict) and key in parent:
        return parent.pop(key)
    raise E.FhirInputError(f"no element at {path}", E.PATCH)


def json_patch(resource: JSONObj, ops: Any) -> JSONObj:
    if not isinstance(ops, list):
        raise E.FhirInputError("a JSON Patch document is an array of operations", E.PATCH)
    doc = copy.deepcopy(resource)
    for n, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise E.FhirInputError(f"operation {n} needs op and path", E.PATCH)
        kind, path = op.get("op"), op["path"]
        if kind in ("add", "replace", "test") and "value" not in op:
            raise E.FhirInputError(f"operation {n} ({kind}) needs a value", E.PATCH)
        if kind == "add":
            _jp_add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _jp_remove(doc, path)
        elif kind == "replace":
            _jp_remove(doc, path)
            _jp_add(doc, path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            src = op.get("from")
            if not isinstance(src, str):
                raise E.FhirInputError(f"operation {n} ({kind}) needs from", E.PATCH)
            value = _jp_remove(doc, src) if kind == "move" else copy.deepcopy(_walk(doc, _pointer(src), src))
            _jp_add(doc, path, value)
        elif kind == "test":
            if _walk(doc, _pointer(path), path) != op["value"]:
                raise E.FhirInputError(f"test failed at {path}", E.PATCH_TEST, http_status=422)
        else:
            raise E.FhirInputError(f"unknown JSON Patch op {kind!r}", E.PATCH)
    return doc


# --- FHIRPath Patch ----------------------------------------------------------------------------

_SEG = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def _segments(path: str, rtype: str) -> list[tuple[str, int | None]]:
    parts = path.split(".")
    if parts[0] != rtype:
        raise E.FhirInputError(f"path {path!r} must start with {rtype}", E.PATCH)
    out: list[tuple[str, int | None]] = []
    for p in parts[1:]:
        m = _SEG.match(p)
        if not m:
            raise E.FhirInputError(f"unsupported FHIRPath in patch (simple paths only): {path!r}", E.PATCH)
        out.append((m.group(1), int(m.group(2)) if m.group(2) is not None else None))
    return out


def _resolve(doc: JSONObj, segs: list[tuple[str, int | None]], path: str) -> list[tuple[Any, str | int]]:
    """(container, key) pairs the path designates (a list of hits; empty when absent)."""
    nodes: list[Any] = [doc]
    hits: list[tuple[Any, str | int]] = []
    for depth, (name, idx) in enumerate(segs):
        hits = []
        for node in nodes:
            if not isinstance(node, dict) or name not in node:
                continue
            val = node[name]
            if isinstance(val, list):
                if idx is None:
                    hits.extend((val, i) for i in range(len(val)))
                elif idx < len(val):
                    hits.append((val, idx))
            elif idx in (None, 0):
                hits.append((node, name))
        if depth < len(segs) - 1:
            nodes = [c[k] for c, k in hits]
    return hits


def _parts(param: JSONObj) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in as_list(param.get("part")):
        if not isinstance(part, dict):
            continue
        name = part.get("name")
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        out[str(name)] = value
    return out


def fhirpath_patch(resource: JSONObj, parameters: Any) -> JSONObj:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise E.FhirInputError("a FHIRPath Patch is a Parameters resource", E.PATCH)
    doc = copy.deepcopy(resource)
    rtype = str(doc.get("resourceType"))
    for n, param in enumerate(as_list(parameters.get("parameter"))):
        if not isinstance(param, dict) or param.get("name") != "operation":
            raise E.FhirInputError(f"parameter {n} must be named operation", E.PATCH)
        p = _parts(param)
        kind, path = p.get("type"), p.get("path")
        if not isinstance(path, str):
            raise E.FhirInputError(f"operation {n} needs a path", E.PATCH)
        segs = _segments(path, rtype)
        if kind == "add":
            name = p.get("name")
            if not isinstance(name, str) or "value" not in p:
                raise E.FhirInputError(f"operation {n} (add) needs name and value", E.PATCH)
            targets = [c[k] for c, k in _resolve(doc, segs, path)] if segs else [doc]
            if len(targets) != 1 or not isinstance(targets[0], dict):
                raise E.FhirInputError(f"add: {path} must designate one element", E.PATCH)
            node = targets[0]
            if name in node and isinstance(node[name], list):
                node[name].append(copy.deepcopy(p["value"]))
            elif name in node:
                raise E.FhirInputError(f"add: {path}.{name} already has a value (use replace)", E.PATCH)
            else:
                node[name] = copy.deepcopy(p["value"])
        elif kind in ("replace", "delete", "insert", "move"):
            hits = _resolve(doc, segs, path) if segs else []
            if kind == "delete":
                if len(hits) > 1:
                    raise E.FhirInputError(f"delete: {path} designates several elements", E.PATCH)
                for c, k in hits:
                    del c[k]
                    _drop_empty(doc, segs)
                continue
            if kind == "replace":
                if len(hits) != 1 or "value" not in p:
                    raise E.FhirInputError(f"replace: {path} must designate one element and give a value", E.PATCH)
                c, k = hits[0]
                c[k] = copy.deepcopy(p["value"])
                continue
            _list_op(doc, segs, path, kind, p)
        else:
            raise E.FhirInputError(f"unsupported FHIRPath Patch operation type {kind!r}", E.PATCH)
    return doc


def _list_op(doc: JSONObj, segs: list[tuple[str, int | None]], path: str, kind: str, p: dict[str, Any]) -> None:
    parents: list[Any] = [c[k] for c, k in _resolve(doc, segs[:-1], path)] if segs[:-1] else [doc]
    name = segs[-1][0]
    if len(parents) != 1 or not isinstance(parents[0], dict) or not isinstance(parents[0].get(name, []), list):
        raise E.FhirInputError(f"{kind}: {path} must designate one list", E.PATCH)
    lst = parents[0].setdefault(name, [])
    if kind == "insert":
        idx = p.get("index")
        if not isinstance(idx, int) or not 0 <= idx <= len(lst) or "value" not in p:
            raise E.FhirInputError(f"insert: bad index or missing value for {path}", E.PATCH)
        lst.insert(idx, copy.deepcopy(p["value"]))
    else:
        src, dst = p.get("source"), p.get("destination")
        if not isinstance(src, int) or not isinstance(dst, int) or not (0 <= src < len(lst) and 0 <= dst < len(lst)):
            raise E.FhirInputError(f"move: bad source/destination for {path}", E.PATCH)
        lst.insert(dst, lst.pop(src))


def _drop_empty(doc: JSONObj, segs: list[tuple[str, int | None]]) -> None:
    """Remove lists/objects emptied by a delete (FHIR has no empty arrays)."""
    node: Any = doc
    chain: list[tuple[Any, str]] = []
    for name, idx in segs[:-1]:
        if not isinstance(node, dict) or name not in node:
            return
        chain.append((node, name))
        node = node[name]
        if isinstance(node, list):
            if idx is None or idx >= len(node):
                return
            node = node[idx]
    name = segs[-1][0]
    if isinstance(node, dict) and node.get(name) == []:
        del node[name]
    for parent, key in reversed(chain):
        if parent.get(key) in ([], {}):
            del parent[key]
