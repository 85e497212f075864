"""FHIR export and import: Questionnaire, QuestionnaireResponse, Observation in a Bundle.

``fhir.resources`` 8.x models FHIR R5 at its top level; the R4-compatible models are in
``fhir.resources.R4B`` (R4B changed nothing in Questionnaire, QuestionnaireResponse,
Observation or Bundle that these resources use), so we build and validate with R4B. The
import is lazy (``pip install 'attunement[fhir]'``).

* one ``Questionnaire`` per instrument used (LOINC panel code when the file has one;
  answer options carry their value as the ``ordinalValue`` extension);
* one ``QuestionnaireResponse`` per administration (session number as an extension);
* one ``Observation`` per scored total of an instrument with a LOINC total code
  (PHQ-9 44261-6, GAD-7 70274-6).

Subjects are ``Patient/<client_id>``: the pseudonymous id from ``client.toml``, never a
name. :func:`import_questionnaire_responses` reads the responses back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from attunement.errors import MeasureError, missing_extra
from attunement.measures.instruments import Instrument, Item, Option
from attunement.measures.responses import Administration, build_administrations
from attunement.measures.scoring import score

CANONICAL = "urn:attunement:questionnaire:"
ANSWER_SYSTEM = "urn:attunement:answer:"
SESSION_EXT = "urn:attunement:fhir:session-number"
ORDINAL_EXT = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
NS = uuid.UUID("6f1b5d1e-3a0c-4c55-9f59-5c1c2d7d0a11")


def _require() -> Any:
    try:
        from fhir.resources.R4B import bundle
    except ImportError:
        raise missing_extra("fhir.resources", "fhir") from None
    return bundle


def _coding(inst: Instrument, opt: Option) -> dict[str, Any]:
    if opt.code is not None and inst.codes is not None:
        return {"system": inst.codes.system, "code": opt.code, "display": opt.label}
    return {"system": f"{ANSWER_SYSTEM}{inst.id}", "code": f"{opt.value:g}", "display": opt.label}


def questionnaire(inst: Instrument) -> dict[str, Any]:
    items = []
    for item in inst.items:
        q: dict[str, Any] = {
            "linkId": item.id,
            **({"text": item.text} if item.text else {}),  # shells have no wording
            "type": {"text": "string", "scale": "decimal"}.get(item.type, "choice"),
            "required": not item.optional,
        }
        if item.code and inst.codes:
            q["code"] = [{"system": inst.codes.system, "code": item.code}]
        if item.type == "choice":
            q["answerOption"] = [
                {
                    "valueCoding": {
                        **_coding(inst, o),
                        "extension": [{"url": ORDINAL_EXT, "valueDecimal": o.value}],
                    }
                }
                for o in inst.options_for(item)
            ]
        items.append(q)
    res: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": inst.id.replace("_", "-"),
        "url": f"{CANONICAL}{inst.id}",
        "version": inst.version,
        "name": inst.id,
        "title": inst.title,
        "status": "active",
        "copyright": inst.license,
        "item": items,
    }
    if inst.codes and inst.codes.panel:
        res["code"] = [
            {
                "system": inst.codes.system,
                "code": inst.codes.panel,
                "display": inst.codes.panel_display,
            }
        ]
    return res


def _option(inst: Instrument, item: Item, value: float) -> Option:
    for o in inst.options_for(item):
        if o.value == value:
            return o
    raise MeasureError(f"value {value:g} is not an option of {inst.id}.{item.id}")


def _uid(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(NS, '/'.join(map(str, parts)))}"


def questionnaire_response(adm: Administration, inst: Instrument, client_id: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for item in inst.items:
        if item.id in adm.texts:
            items.append({"linkId": item.id, "answer": [{"valueString": adm.texts[item.id]}]})
        elif item.id in adm.answers and item.type == "scale":  # score-only shells
            items.append({"linkId": item.id, "answer": [{"valueDecimal": adm.answers[item.id]}]})
        elif item.id in adm.answers:
            opt = _option(inst, item, adm.answers[item.id])
            items.append({"linkId": item.id, "answer": [{"valueCoding": _coding(inst, opt)}]})
    res: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{CANONICAL}{inst.id}",
        "status": "completed",
        "subject": {"reference": f"Patient/{client_id}"},
        "extension": [{"url": SESSION_EXT, "valueInteger": adm.session}],
        "item": items,
    }
    if adm.date is not None:
        res["authored"] = adm.date.isoformat()
    return res


def observation(
    adm: Administration, inst: Instrument, client_id: str, qr_url: str
) -> dict[str, Any] | None:
    if inst.codes is None or inst.codes.total is None:
        return None
    s = score(inst, adm.as_answers())
    if s.total is None:
        return None
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": inst.codes.system,
                    "code": inst.codes.total,
                    "display": inst.codes.total_display,
                }
            ]
        },
        "subject": {"reference": f"Patient/{client_id}"},
        "derivedFrom": [{"reference": qr_url}],
    }
    if s.total.is_integer():
        res["valueInteger"] = int(s.total)
    else:
        res["valueQuantity"] = {"value": s.total, "unit": "{score}"}
    if adm.date is not None:
        res["effectiveDateTime"] = adm.date.isoformat()
    notes = [f"band: {s.band}"] if s.band else []
    if s.prorated:
        notes.append(f"prorated: {len(s.missing)} item(s) missing")
    if notes:
        res["note"] = [{"text": "; ".join(notes)}]
    return res


def build_bundle(
    admins: Iterable[Administration], instruments: Mapping[str, Instrument], client_id: str
) -> dict[str, Any]:
    """A validated FHIR R4(B) collection Bundle as a JSON-able dict."""
    bundle_mod = _require()
    admins = list(admins)
    entries: list[dict[str, Any]] = []
    for inst_id in sorted({a.instrument for a in admins}):
        entries.append(
            {
                "fullUrl": _uid("Questionnaire", inst_id),
                "resource": questionnaire(instruments[inst_id]),
            }
        )
    for a in admins:
        inst = instruments[a.instrument]
        qr_url = _uid(client_id, "QR", a.session, a.instrument)
        entries.append({"fullUrl": qr_url, "resource": questionnaire_response(a, inst, client_id)})
        obs = observation(a, inst, client_id, qr_url)
        if obs is not None:
            entries.append(
                {"fullUrl": _uid(client_id, "Obs", a.session, a.instrument), "resource": obs}
            )
    raw = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    validated = bundle_mod.Bundle.model_validate(raw)
    out: dict[str, Any] = json.loads(validated.model_dump_json(exclude_none=True))
    return out


def write_bundle(
    admins: Iterable[Administration],
    instruments: Mapping[str, Instrument],
    client_id: str,
    path: Path,
) -> Path:
    from attunement.report.client.files import atomic_write_text

    return atomic_write_text(
        path, json.dumps(build_bundle(admins, instruments, client_id), indent=2) + "\n"
    )


def import_questionnaire_responses(
    bundle: Mapping[str, Any] | str, instruments: Mapping[str, Instrument]
) -> list[Administration]:
    """Administrations from the QuestionnaireResponses in a Bundle (validated first)."""
    bundle_mod = _require()
    data = json.loads(bundle) if isinstance(bundle, str) else dict(bundle)
    try:
        parsed = bundle_mod.Bundle.model_validate(data)
    except ValueError as exc:
        raise MeasureError(
            f"not a valid FHIR R4 Bundle ({type(exc).__name__})", where="bundle"
        ) from None
    records: list[tuple[str, dict[str, Any]]] = []
    for n, entry in enumerate(parsed.entry or []):
        res = entry.resource
        if res is None or res.get_resource_type() != "QuestionnaireResponse":
            continue
        where = f"bundle entry {n}"
        canonical = str(res.questionnaire or "")
        if not canonical.startswith(CANONICAL):
            raise MeasureError("questionnaire is not an Attunement instrument", where=where)
        inst_id = canonical[len(CANONICAL) :].split("|")[0]
        session = next((e.valueInteger for e in res.extension or [] if e.url == SESSION_EXT), None)
        if session is None:
            raise MeasureError("no session-number extension", where=where)
        date = res.authored.date() if isinstance(res.authored, dt.datetime) else res.authored
        inst = instruments.get(inst_id)
        if inst is None:
            raise MeasureError(f"unknown instrument {inst_id!r}", where=where)
        for item in res.item or []:
            for ans in item.answer or []:
                value: object
                if ans.valueString is not None:
                    value = ans.valueString
                elif ans.valueDecimal is not None:
                    value = float(ans.valueDecimal)
                elif ans.valueCoding is not None:
                    value = _value_of(inst, str(item.linkId), ans.valueCoding.code, where)
                else:
                    raise MeasureError(f"unsupported answer type for {item.linkId}", where=where)
                records.append(
                    (
                        where,
                        {
                            "session": session,
                            "date": date,
                            "instrument": inst_id,
                            "item": item.linkId,
                            "value": value,
                        },
                    )
                )
    return build_administrations(records, instruments)


def _value_of(inst: Instrument, link_id: str, code: str | None, where: str) -> float:
    try:
        item = inst.item(link_id)
    except KeyError:
        raise MeasureError(f"unknown item {link_id!r} for {inst.id}", where=where) from None
    for o in inst.options_for(item):
        if code is not None and (o.code == code or (o.code is None and code == f"{o.value:g}")):
            return o.value
    raise MeasureError(f"answer code not an option of {inst.id}.{link_id}", where=where)
