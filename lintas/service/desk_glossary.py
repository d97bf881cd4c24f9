"""The glossary in the editors' desk: ``/desk/glossary`` (editor role and up).

* ``GET /desk/glossary?q=`` lists the glossary translation uses: the starter terms and ``LINTAS_GLOSSARY`` files
  (read-only, with their origin; "Override" copies one into the desk) and the desk's own terms from the database
  (editable), a desk term replacing a file term with the same source. ``q`` searches sources, aliases and forms.
* ``GET /desk/glossary/new`` and ``GET /desk/glossary/edit?source=`` show the term form; ``POST /desk/glossary``
  saves it (422 with the form and its errors when it is not a term); ``POST /desk/glossary/delete`` removes a
  desk term (soft delete: the file term with that source, if any, applies again).
* ``GET /desk/glossary.csv`` downloads the desk terms (``?scope=all``: the whole glossary) in the glossary CSV
  format; ``POST /desk/glossary/import`` saves the terms of a pasted CSV, all or nothing (422 naming the line).

Every POST carries the session's ``csrf_token`` (:func:`~lintas.service.accounts.csrf_protect`). Workers and the
service pick up saved terms within seconds (:class:`~lintas.store.glossary_terms.DatabaseGlossary`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from lintas.errors import InputError
from lintas.service.accounts import (
    DeskPage,
    DeskSession,
    OptionalDeskSession,
    csrf_protect,
    read_form,
    render_page,
    require_editor_session,
    root_path,
)
from lintas.service.api import service_state
from lintas.store import glossary_terms as store
from lintas.store.accounts import User
from lintas.store.db import Bind
from lintas.text.glossary import (
    Glossary,
    Term,
    configured_glossary,
    fold,
    starter_glossary,
    term_from_mapping,
    terms_to_csv,
)
from lintas.text.languages import TARGETS, get_language

__all__ = ["router"]

router = APIRouter(prefix="/desk", dependencies=[Depends(csrf_protect)], include_in_schema=False)
_Editor = Annotated[User, require_editor_session("editor")]
_SEP = "|"
_MAX_CSV = 2_000_000  # characters of a pasted CSV
_LANGS = [{"code": code, "name": get_language(code).name, "dir": "rtl" if code == "ar" else "ltr"} for code in TARGETS]


@dataclass(frozen=True)
class Row:
    term: Term
    origin: str  # "desk", "starter", "file"
    overrides: str = ""  # a desk term's: the origin of the file term it replaces ("" for none)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.replace("\n", _SEP).split(_SEP) if v.strip())


def _joined(values: tuple[str, ...] | list[str]) -> str:
    return f" {_SEP} ".join(values)


def _file_glossary() -> Glossary:
    try:
        return configured_glossary() or Glossary()
    except InputError:  # a broken LINTAS_GLOSSARY file: the translation side reports it
        return starter_glossary()


def _origin(term: Term) -> str:
    starter = {fold(t.source): t for t in starter_glossary().terms}
    return "starter" if starter.get(fold(term.source)) is term else "file"


def _rows(bind: Bind, query: str) -> tuple[list[Row], int]:
    """The merged glossary's rows matching ``query`` (by source), and how many terms it has in all."""
    files = {fold(t.source): t for t in _file_glossary().terms}
    desk = {fold(t.source): t for t in store.list_terms(bind)}
    rows = [Row(t, _origin(t)) for key, t in files.items() if key not in desk]
    rows += [Row(t, "desk", _origin(files[key]) if key in files else "") for key, t in desk.items()]
    total = len(rows)
    needle = fold(query)
    if needle:
        rows = [r for r in rows if store._matches(r.term, needle)]
    return sorted(rows, key=lambda r: fold(r.term.source)), total


def _form_values(term: Term | None) -> dict[str, str]:
    """The term form's field values for ``term`` (empty for a new term)."""
    if term is None:
        return {"source": "", "aliases": "", "category": "", "notes": "", "case": "", "enforce": "on"}
    values = {
        "source": term.source,
        "aliases": _joined(term.aliases),
        "category": term.category,
        "notes": term.notes,
        "case": "on" if term.case_sensitive else "",
        "enforce": "on" if term.enforce else "",
    }
    for code in TARGETS:
        forms = term.forms.get(code, ())
        values[f"{code}_preferred"] = forms[0] if forms else ""
        values[f"{code}_others"] = _joined(forms[1:])
        values[f"{code}_avoid"] = _joined(term.avoid.get(code, ()))
    return values


def _term_from_form(fields: dict[str, str]) -> tuple[Term | None, list[str]]:
    """The term the form describes, or None and the problems (in words, for the editor)."""
    errors: list[str] = []
    source = " ".join(fields.get("source", "").split())
    if not source:
        errors.append("Write the Indonesian term (source).")
    elif len(source) > store.MAX_SOURCE:
        errors.append(f"The source is too long: at most {store.MAX_SOURCE} characters.")
    forms: dict[str, list[str]] = {}
    for lang in _LANGS:
        preferred = fields.get(f"{lang['code']}_preferred", "").strip()
        others = list(_split(fields.get(f"{lang['code']}_others", "")))
        if others and not preferred:
            errors.append(f"{lang['name']}: write the preferred form before other forms.")
        if preferred or others:
            forms[lang["code"]] = [preferred, *[o for o in others if o != preferred]]
    enforce = fields.get("enforce") == "on"
    if enforce and not forms and source:
        errors.append("Give at least one language's preferred form, or untick “Check translations”.")
    if errors:
        return None, errors
    entry = {
        "source": source,
        "aliases": list(_split(fields.get("aliases", ""))),
        "forms": forms,
        "avoid": {lang: list(_split(fields.get(f"{lang}_avoid", ""))) for lang in TARGETS},
        "case": "sensitive" if fields.get("case") == "on" else "insensitive",
        "category": fields.get("category", "").strip(),
        "notes": fields.get("notes", "").strip(),
        "enforce": enforce,
    }
    try:
        return term_from_mapping(entry, "The term"), []
    except InputError as exc:
        return None, [str(exc)]


def _here(request: Request, path: str, **query: str) -> str:
    url = f"{root_path(request)}/desk/glossary{path}"
    return f"{url}?{urlencode(query)}" if query else url


def _term_page(
    request: Request,
    user: User,
    session: DeskSession | None,
    values: dict[str, str],
    *,
    is_new: bool,
    status: int = 200,
    errors: list[str] | None = None,
    origin: str = "",
) -> Response:
    assert session is not None  # require_editor_session saw to it
    return render_page(
        request,
        "desk_glossary_term.html",
        status,
        user=user,
        root=root_path(request),
        nav="glossary",
        csrf=session.csrf,
        values=values,
        is_new=is_new,
        errors=errors or [],
        origin=origin,
        langs=_LANGS,
        action=_here(request, ""),
        back=_here(request, ""),
    )


_DONE = {
    "saved": "Saved “{source}”. Translations use it from now on.",
    "deleted": "Deleted “{source}”.",
    "imported": "Imported {count} terms.",
}


@router.get("/glossary", response_class=HTMLResponse)
async def glossary_page(request: Request, user: _Editor, session: OptionalDeskSession) -> Response:
    return await _list_page(request, user, session)


async def _list_page(
    request: Request,
    user: User,
    session: DeskSession | None,
    status: int = 200,
    import_error: str = "",
    csv_text: str = "",
) -> Response:
    assert session is not None  # require_editor_session saw to it
    query = request.query_params.get("q", "").strip()[:200]
    rows, total = await run_in_threadpool(_rows, service_state(request).database(), query)
    done = request.query_params.get("done", "")
    notice = ""
    if done in _DONE and not import_error:
        notice = _DONE[done].format(
            source=request.query_params.get("source", "")[:300], count=request.query_params.get("count", "0")[:10]
        )
    return render_page(
        request,
        "desk_glossary.html",
        status,
        user=user,
        root=root_path(request),
        nav="glossary",
        csrf=session.csrf,
        rows=rows,
        total=total,
        desk_count=sum(1 for r in rows if r.origin == "desk"),
        query=query,
        langs=_LANGS,
        notice=notice,
        import_error=import_error,
        csv_text=csv_text,
        home=f"{root_path(request)}/desk/",
        search_action=_here(request, ""),
        new_url=_here(request, "/new"),
        edit_base=_here(request, "/edit"),
        delete_action=_here(request, "/delete"),
        import_action=_here(request, "/import"),
        csv_url=f"{root_path(request)}/desk/glossary.csv",
    )


@router.get("/glossary/new", response_class=HTMLResponse)
async def new_term(request: Request, user: _Editor, session: OptionalDeskSession) -> Response:
    return _term_page(request, user, session, _form_values(None), is_new=True)


@router.get("/glossary/edit", response_class=HTMLResponse)
async def edit_term(request: Request, user: _Editor, session: OptionalDeskSession) -> Response:
    source = request.query_params.get("source", "").strip()
    bind = service_state(request).database()
    term = await run_in_threadpool(store.get_term, bind, source) if source else None
    origin = "desk"
    if term is None:  # a starter or file term: the form makes a desk copy that overrides it
        files = {fold(t.source): t for t in _file_glossary().terms}
        term = files.get(fold(source)) if source else None
        if term is None:
            raise DeskPage(404, "No such term", f"The glossary has no term “{source}”.", link=_here(request, ""))
        origin = _origin(term)
    return _term_page(request, user, session, _form_values(term), is_new=False, origin=origin)


@router.post("/glossary", response_class=HTMLResponse)
async def save_term(request: Request, user: _Editor, session: OptionalDeskSession) -> Response:
    fields = await read_form(request)
    is_new = fields.get("new") == "1"
    term, errors = _term_from_form(fields)
    bind = service_state(request).database()
    if term is not None and is_new and await run_in_threadpool(store.get_term, bind, term.source) is not None:
        errors = [f"The desk already has a term “{term.source}”: edit that one instead."]
    if term is None or errors:
        values = {k: v for k, v in fields.items() if k not in ("csrf_token", "new")}
        values.setdefault("enforce", "")
        return _term_page(request, user, session, values, is_new=is_new, status=422, errors=errors)
    await run_in_threadpool(store.save_term, bind, term, user.username)
    return RedirectResponse(_here(request, "", done="saved", source=term.source), 303)


@router.post("/glossary/delete")
async def delete_term(request: Request, user: _Editor) -> Response:
    source = (await read_form(request)).get("source", "").strip()
    deleted = await run_in_threadpool(store.delete_term, service_state(request).database(), source, user.username)
    if not deleted:
        raise DeskPage(404, "No such term", f"The desk has no term “{source}” to delete.", link=_here(request, ""))
    return RedirectResponse(_here(request, "", done="deleted", source=source), 303)


@router.get("/glossary.csv")
async def export(request: Request, user: _Editor) -> Response:
    bind = service_state(request).database()
    everything = request.query_params.get("scope") == "all"
    if everything:
        rows, _total = await run_in_threadpool(_rows, bind, "")
        text = terms_to_csv(r.term for r in rows)
    else:
        text = await run_in_threadpool(store.export_csv, bind)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"lintas-glossary-{'all' if everything else 'desk'}-{stamp}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post("/glossary/import", response_class=HTMLResponse)
async def import_terms(request: Request, user: _Editor, session: OptionalDeskSession) -> Response:
    text = (await read_form(request)).get("csv", "")
    error = ""
    if not text.strip():
        error = "Paste the CSV first (the first row names the columns)."
    elif len(text) > _MAX_CSV:
        error = f"The CSV is too long: at most {_MAX_CSV:,} characters at a time."
    else:
        try:
            count = await run_in_threadpool(store.import_csv, service_state(request).database(), text, user.username)
        except ValueError as exc:
            error = f"Nothing was imported. {exc}"
        else:
            return RedirectResponse(_here(request, "", done="imported", count=str(count)), 303)
    shown = text if len(text) <= 20_000 else ""
    return await _list_page(request, user, session, status=422, import_error=error, csv_text=shown)
