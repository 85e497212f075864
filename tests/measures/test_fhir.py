"""FHIR R4 export validates with fhir.resources and round-trips QuestionnaireResponses."""

import json
from pathlib import Path

import pytest

from attunement.course import load_client_folder
from attunement.errors import MeasureError
from attunement.measures.fhir import build_bundle, import_questionnaire_responses

pytest.importorskip("fhir.resources.R4B")

EXAMPLE = Path(__file__).parents[2] / "src/attunement/examples/clients/forgotten-appointment"


@pytest.fixture(scope="module")
def inputs():  # type: ignore[no-untyped-def]
    return load_client_folder(EXAMPLE, transcripts=False)


def test_bundle_parses_as_r4_and_has_loinc_totals(inputs) -> None:  # type: ignore[no-untyped-def]
    from fhir.resources.R4B.bundle import Bundle

    raw = build_bundle(inputs.administrations, inputs.instruments, inputs.context.client_id)
    parsed = Bundle.model_validate(json.loads(json.dumps(raw)))
    assert parsed.type == "collection"
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert kinds.count("Questionnaire") == 4
    assert kinds.count("QuestionnaireResponse") == len(inputs.administrations)
    obs = [e.resource for e in parsed.entry if e.resource.get_resource_type() == "Observation"]
    codes = {o.code.coding[0].code for o in obs}
    assert codes == {"44261-6", "70274-6"}  # PHQ-9 and GAD-7 totals only
    first_phq = next(o for o in obs if o.code.coding[0].code == "44261-6")
    assert first_phq.valueInteger == 13
    qs = {
        e.resource.name: e.resource
        for e in parsed.entry
        if e.resource.get_resource_type() == "Questionnaire"
    }
    assert qs["phq9"].code[0].code == "44249-1"
    assert qs["gad7"].code[0].code == "69737-5"


def test_subjects_are_pseudonymous(inputs) -> None:  # type: ignore[no-untyped-def]
    raw = build_bundle(inputs.administrations, inputs.instruments, "C-0042")
    subjects = {
        e["resource"]["subject"]["reference"] for e in raw["entry"] if "subject" in e["resource"]
    }
    assert subjects == {"Patient/C-0042"}


def test_round_trip(inputs) -> None:  # type: ignore[no-untyped-def]
    raw = build_bundle(inputs.administrations, inputs.instruments, inputs.context.client_id)
    back = import_questionnaire_responses(json.dumps(raw), inputs.instruments)
    assert back == inputs.administrations


def test_import_rejects_foreign_questionnaire(inputs) -> None:  # type: ignore[no-untyped-def]
    raw = build_bundle(inputs.administrations[:1], inputs.instruments, "c1")
    for e in raw["entry"]:
        if e["resource"]["resourceType"] == "QuestionnaireResponse":
            e["resource"]["questionnaire"] = "http://example.org/Questionnaire/ors"
    with pytest.raises(MeasureError, match="not an Attunement instrument"):
        import_questionnaire_responses(raw, inputs.instruments)
