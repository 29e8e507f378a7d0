"""Family members the resident has consented to, and requests to phone them."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.audit import audit
from services.clock import utcnow
from services.errors import InvalidRequest, NoFamilyMember
from services.models import CallRequest, FamilyMember
from services.notifications import consenting_family
from services.privacy import mask_phone
from services.residents import load_resident
from services.types import CallRequestView, FamilyView

RELATIONS = ("儿子", "女儿", "老伴", "孙子", "孙女", "外孙", "外孙女", "儿媳", "女婿", "侄子", "侄女", "外甥", "外甥女",
             "兄弟", "姐妹", "邻居", "其他")
# Everyday words for the same people (incl. Jin-dialect usage) mapped onto the canonical relation.
_RELATION_ALIASES = {
    "儿": "儿子", "小子": "儿子", "大儿子": "儿子", "二儿子": "儿子", "小儿子": "儿子",
    "闺女": "女儿", "姑娘": "女儿", "女子": "女儿", "大女儿": "女儿", "小女儿": "女儿",
    "老伴儿": "老伴", "老头": "老伴", "老头子": "老伴", "老婆": "老伴", "老婆子": "老伴", "媳妇": "老伴", "媳妇儿": "老伴",
    "爱人": "老伴", "丈夫": "老伴", "妻子": "老伴",
    "儿媳妇": "儿媳", "孙儿": "孙子", "孙女儿": "孙女", "外甥儿": "外甥",
}


def normalise_relation(relation: str) -> str:
    relation = relation.strip()
    relation = _RELATION_ALIASES.get(relation, relation)
    if relation not in RELATIONS:
        raise InvalidRequest("unknown_relation", relation)
    return relation


def family_view(member: FamilyMember) -> FamilyView:
    return FamilyView(
        id=member.id, name=member.name, relation=member.relation,
        phone_masked=mask_phone(member.phone), consent=member.consent,
    )


# What a family member calls the elder, by how they are related and the elder's gender.
_ELDER_KIN = {
    "儿子": ("父亲", "母亲"), "女儿": ("父亲", "母亲"), "儿媳": ("公公", "婆婆"), "女婿": ("岳父", "岳母"),
    "孙子": ("爷爷", "奶奶"), "孙女": ("爷爷", "奶奶"), "外孙": ("姥爷", "姥姥"), "外孙女": ("姥爷", "姥姥"),
    "老伴": ("老伴", "老伴"),
}


def elder_kin(relation: str, gender: str) -> Optional[str]:
    """"您母亲" for a son writing for his mother; None where the word would be a guess (侄子, 邻居)."""
    pair = _ELDER_KIN.get(relation)
    return None if pair is None else pair[gender == "女"]


def acting_relative(session: Session, account_id: int, resident_id: str) -> Optional[FamilyView]:
    """The family row through which this web account acts for this resident (with consent), if any."""
    member = session.scalars(
        select(FamilyMember).where(FamilyMember.account_id == account_id, FamilyMember.resident_id == resident_id,
                                   FamilyMember.consent.is_(True))
    ).first()
    return family_view(member) if member is not None else None


def family_members(session: Session, resident_id: str) -> list[FamilyView]:
    """Only members the resident consented to; the others are never shown or called."""
    load_resident(session, resident_id)
    return [family_view(m) for m in consenting_family(session, resident_id)]


def request_family_call(
    session: Session,
    resident_id: str,
    relation: Optional[str],
    idempotency_key: str,
    *,
    now: Optional[datetime] = None,
) -> CallRequestView:
    if not idempotency_key:
        raise InvalidRequest("missing_idempotency_key")
    existing = session.scalars(
        select(CallRequest).where(CallRequest.idempotency_key == idempotency_key)
        .options(selectinload(CallRequest.family_member))
    ).one_or_none()
    if existing is not None:
        return CallRequestView(existing.id, family_view(existing.family_member), existing.status)
    now = now or utcnow()
    resident = load_resident(session, resident_id)
    wanted = normalise_relation(relation) if relation else None
    candidates = [m for m in consenting_family(session, resident.id) if wanted is None or m.relation == wanted]
    if not candidates:
        raise NoFamilyMember(resident.id, wanted)
    member = candidates[0]
    call = CallRequest(resident_id=resident.id, family_member_id=member.id, status="queued",
                       created_at=now, idempotency_key=idempotency_key)
    session.add(call)
    session.flush()
    audit(session, f"resident:{resident.id}", "family.call", f"call:{call.id}",
          {"family_member": member.id, "relation": member.relation, "phone": mask_phone(member.phone)}, now=now)
    return CallRequestView(call.id, family_view(member), call.status)
