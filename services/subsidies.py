"""Subsidy programmes: what exists, who qualifies (rules as data), and application/payment status."""

from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.clock import age_on, today_local
from services.eligibility import Facts, evaluate
from services.errors import UnknownProgramme
from services.models import Resident, SubsidyApplication, SubsidyProgramme
from services.residents import load_resident
from services.types import ApplicationView, EligibilityView, PaymentView, ProgrammeView


def programme_view(programme: SubsidyProgramme) -> ProgrammeView:
    return ProgrammeView(code=programme.code, name=programme.name, summary=programme.summary)


def programmes(session: Session) -> list[ProgrammeView]:
    return [programme_view(p) for p in session.scalars(select(SubsidyProgramme).order_by(SubsidyProgramme.code))]


def load_programme(session: Session, code_or_name: str) -> SubsidyProgramme:
    """By code ('gaoling') or by its Chinese name ('高龄津贴')."""
    programme = session.scalars(
        select(SubsidyProgramme).where(
            or_(SubsidyProgramme.code == code_or_name, SubsidyProgramme.name == code_or_name)
        )
    ).first()
    if programme is None:
        raise UnknownProgramme(code_or_name)
    return programme


def facts_for(resident: Resident, today: date) -> Facts:
    return Facts(
        age=age_on(resident.birth_date, today),
        special_hardship=resident.special_hardship,
        lives_alone=resident.lives_alone,
        disability_level=resident.disability_level,
    )


def eligibility(
    session: Session,
    resident_id: str,
    programme_code: Optional[str] = None,
    today: Optional[date] = None,
) -> list[EligibilityView]:
    resident = load_resident(session, resident_id)
    facts = facts_for(resident, today or today_local())
    chosen = (
        [load_programme(session, programme_code)]
        if programme_code
        else session.scalars(select(SubsidyProgramme).order_by(SubsidyProgramme.code)).all()
    )
    views = []
    for programme in chosen:
        outcome = evaluate(programme.rules, facts)
        views.append(
            EligibilityView(
                programme=programme_view(programme),
                eligible=outcome.eligible,
                reason_code=outcome.reason_code,
                amount_cents_per_month=outcome.amount_cents_per_month,
            )
        )
    return views


def subsidy_status(session: Session, resident_id: str, programme_code: Optional[str] = None) -> list[ApplicationView]:
    load_resident(session, resident_id)
    query = (
        select(SubsidyApplication)
        .where(SubsidyApplication.resident_id == resident_id)
        .options(selectinload(SubsidyApplication.programme), selectinload(SubsidyApplication.payments))
        .order_by(SubsidyApplication.applied_on, SubsidyApplication.id)
    )
    if programme_code:
        query = query.where(SubsidyApplication.programme_code == load_programme(session, programme_code).code)
    return [
        ApplicationView(
            programme=programme_view(app.programme),
            status=app.status,
            applied_on=app.applied_on,
            decided_on=app.decided_on,
            payments=tuple(PaymentView(p.month, p.amount_cents, p.status, p.paid_on) for p in app.payments),
        )
        for app in session.scalars(query)
    ]
