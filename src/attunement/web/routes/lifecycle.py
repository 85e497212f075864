"""A client's data out and gone: exports (FHIR, CSV, printable report, PDF), deletion,
retention; and the clinic's settings page for the admin.

Exports are for the readers of a client and each is audited (``client.export.<format>``:
``fhir``, ``csv``, ``report``, ``pdf``). Deletion is for the owning
therapist or trainee, behind a confirmation page where the word DELETE is typed; the
audit row ``client.delete`` (identifiers only) outlives the client.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from attunement.errors import AttunementError
from attunement.store import repo, retention
from attunement.web import exports
from attunement.web.deps import (
    Admin,
    Clinician,
    Ctx,
    DeletableClient,
    FormCtx,
    ReadableClient,
    WritableClient,
    Writer,
)
from attunement.web.panels import client_panel
from attunement.web.render import page

router = APIRouter()
CONFIRM_WORD = "DELETE"
MAX_NAME = 120
MAX_CRISIS = 600
IDLE_RANGE = (5, 720)


def _attachment(body: str | bytes, media_type: str, client_id: int, ext: str) -> Response:
    name = exports.filename(client_id, ext)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- exports ------------------------------------------------------------------------


@router.get("/clients/{client_id}/export.fhir.json", include_in_schema=False)
def export_fhir(ctx: Clinician, client: ReadableClient) -> Response:
    body = exports.fhir_bundle(ctx, client)
    ctx.audit("client.export.fhir", "client", client.id)
    return _attachment(body, "application/fhir+json", client.id, "fhir.json")


@router.get("/clients/{client_id}/export.csv", include_in_schema=False)
def export_csv(ctx: Clinician, client: ReadableClient) -> Response:
    body = exports.course_csv(ctx, client)
    ctx.audit("client.export.csv", "client", client.id)
    return _attachment(body, "text/csv; charset=utf-8", client.id, "csv")


@router.get("/clients/{client_id}/report", include_in_schema=False)
def report(request: Request, ctx: Clinician, client: ReadableClient) -> Response:
    values = exports.report_values(ctx, client)
    ctx.audit("client.export.report", "client", client.id)
    return page(request, "client_report.html", ctx, **values)


@router.get("/clients/{client_id}/report.pdf", include_in_schema=False)
def report_pdf(ctx: Clinician, client: ReadableClient) -> Response:
    body = exports.pdf_report(exports.report_values(ctx, client))
    ctx.audit("client.export.pdf", "client", client.id)
    return _attachment(body, "application/pdf", client.id, "pdf")


@router.get(
    "/api/clients/{client_id}/export/fhir",
    tags=["api"],
    response_class=Response,
    responses={200: {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}},
)
def api_export_fhir(ctx: Clinician, client: ReadableClient) -> Response:
    """The client's answers as a FHIR R4 collection Bundle (Questionnaire,
    QuestionnaireResponse, Observation), built by ``attunement.measures.fhir``."""
    return export_fhir(ctx, client)


@client_panel("exports")
def exports_panel(ctx: Ctx, client: repo.ClientView) -> dict[str, Any]:
    return {"base": f"/clients/{client.id}"}


# --- retention ----------------------------------------------------------------------


@client_panel("retention")
def retention_panel(ctx: Ctx, client: repo.ClientView) -> dict[str, Any]:
    from attunement.store.tables import Client

    row = ctx.db.get(Client, client.id)
    own = row.retention if row is not None else None
    clinic = repo.clinic_settings(ctx.db).retention
    return {
        "own": own,
        "clinic": clinic,
        "effective": own or clinic,
        "levels": retention.LABELS,
    }


def _check_tightening(old: str, new: str, confirmed: bool) -> None:
    if retention.rank(new) > retention.rank(old) and not confirmed:
        raise repo.InputError(
            "tick the box to confirm: stored transcripts or words are removed now and "
            "cannot be brought back",
            where="confirm",
        )


@router.post("/clients/{client_id}/retention", include_in_schema=False)
def set_retention(
    ctx: Writer,
    _csrf: FormCtx,
    client: WritableClient,
    level: Annotated[str, Form(max_length=24)] = "",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    new = retention.check_level(level, "retention") if level else None
    old_effective = retention.effective(ctx.db, client.id)
    new_effective = new or repo.clinic_settings(ctx.db).retention
    _check_tightening(old_effective, new_effective, confirm)
    retention.set_client_level(ctx.db, ctx.store.keys, client.id, new)
    ctx.audit("client.retention", "client", client.id)
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


# --- deletion -----------------------------------------------------------------------


@router.get("/clients/{client_id}/delete", include_in_schema=False)
def delete_form(request: Request, ctx: Writer, client: DeletableClient) -> Response:
    return page(request, "client_delete.html", ctx, client=client, error=None, word=CONFIRM_WORD)


@router.post("/clients/{client_id}/delete", include_in_schema=False)
def delete_client(
    request: Request,
    ctx: Writer,
    _csrf: FormCtx,
    client: DeletableClient,
    confirm: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if confirm.strip() != CONFIRM_WORD:
        error = f"confirmation: type {CONFIRM_WORD} in capitals to delete"
        return page(
            request,
            "client_delete.html",
            ctx,
            status=400,
            client=client,
            error=error,
            word=CONFIRM_WORD,
        )
    repo.delete_client(ctx.db, client.id)
    ctx.audit("client.delete", "client", client.id)
    ctx.db.commit()  # before the WAL is truncated; the request's transaction ends here
    repo.flush_deleted(ctx.store.engine)
    return RedirectResponse("/", status_code=303)


# --- the clinic's settings (admin) --------------------------------------------------


def _settings_page(request: Request, ctx: Admin, **extra: Any) -> Response:
    from attunement.web.routes.checks import DEFAULT_CRISIS

    values: dict[str, Any] = {"error": None, "saved": False, **extra}
    return page(
        request,
        "admin_settings.html",
        ctx,
        status=400 if values["error"] else 200,
        settings=repo.clinic_settings(ctx.db),
        levels=retention.LABELS,
        default_crisis=DEFAULT_CRISIS,
        idle_range=IDLE_RANGE,
        **values,
    )


@router.get("/admin/settings", include_in_schema=False)
def settings_form(request: Request, ctx: Admin) -> Response:
    return _settings_page(request, ctx, saved=request.query_params.get("saved") == "1")


def _clean_text(value: str, field: str, limit: int, required: bool) -> str | None:
    text = value.replace("\r\n", "\n").strip()
    if not text:
        if required:
            raise repo.InputError("is required", where=field)
        return None
    if len(text) > limit:
        raise repo.InputError(f"at most {limit} characters", where=field)
    if any(not (ch.isprintable() or ch == "\n") for ch in text):
        raise repo.InputError("contains control or invalid characters", where=field)
    return text


@router.post("/admin/settings", include_in_schema=False)
def save_settings(
    request: Request,
    ctx: Admin,
    _csrf: FormCtx,
    name: Annotated[str, Form(max_length=400)] = "",
    crisis_text: Annotated[str, Form(max_length=4000)] = "",
    idle_timeout_minutes: Annotated[str, Form(max_length=6)] = "",
    level: Annotated[str, Form(max_length=24)] = "keep",
    confirm: Annotated[bool, Form()] = False,
) -> Response:
    settings = repo.clinic_settings(ctx.db)
    try:
        clean_name = _clean_text(name, "clinic name", MAX_NAME, True)
        crisis = _clean_text(crisis_text, "crisis text", MAX_CRISIS, False)
        lo, hi = IDLE_RANGE
        if not idle_timeout_minutes.strip().isdigit() or not lo <= int(idle_timeout_minutes) <= hi:
            raise repo.InputError(f"a whole number from {lo} to {hi}", where="idle timeout")
        new_level = retention.check_level(level)
        _check_tightening(settings.retention, new_level, confirm)
    except AttunementError as exc:
        return _settings_page(request, ctx, error=str(exc))
    assert clean_name is not None
    settings.name = clean_name
    settings.crisis_text = crisis
    settings.idle_timeout_minutes = int(idle_timeout_minutes)
    retention.set_clinic_level(ctx.db, ctx.store.keys, new_level)
    ctx.audit("clinic_settings.update", "clinic_settings", 1)
    return RedirectResponse("/admin/settings?saved=1", status_code=303)
