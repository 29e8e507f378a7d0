from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.models import AuditEntry, HelpRequest

from .conftest import NOW, new_key


def test_help_alerts_consenting_family_and_desk(services):
    view = services.raise_help("r-0001", "我摔倒了起不来", "speaker", new_key("help"), conversation_id="r-0001")
    assert view.id is not None and not view.spooled and view.status == "open"
    assert view.notified == ("儿子张建国", "值班话务员")  # not the non-consenting 儿媳
    pending = [n for n in services.pending_notifications() if n.help_request_id == view.id]
    assert {n.recipient_kind for n in pending} == {"family", "operator"}
    family = [n for n in pending if n.recipient_kind == "family"]
    assert [n.recipient_id for n in family] == ["f-0001"]
    assert "王奶奶" in family[0].message and "我摔倒了起不来" in family[0].message
    assert "13835410001" not in family[0].message  # phone masked
    with Session(services.engine) as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"help:{view.id}")).all() == ["help.raise"]


def test_help_is_idempotent(services):
    key = new_key("help")
    first = services.raise_help("r-0002", "救命", "text", key)
    again = services.raise_help("r-0002", "救命", "text", key)
    assert first == again
    with Session(services.engine) as session:
        assert len(session.scalars(select(HelpRequest).where(HelpRequest.idempotency_key == key)).all()) == 1
    assert len([n for n in services.pending_notifications() if n.help_request_id == first.id]) == 3  # 女儿, 老伴, desk


def test_unknown_sender_is_never_refused(services):
    view = services.raise_help("wx-unknown-42", "有人吗，我心口疼", "phone", new_key("help"), phone="13912345678")
    assert view.resident_id is None and view.id is not None
    assert view.notified == ("值班话务员",)
    with Session(services.engine) as session:
        row = session.get(HelpRequest, view.id)
        assert row.conversation_id == "wx-unknown-42" and row.sender_id == "wx-unknown-42"
    [desk] = [n for n in services.pending_notifications("operator") if n.help_request_id == view.id]
    assert "139****5678" in desk.message


def test_acknowledge_and_resolve(services):
    view = services.raise_help("r-0003", "帮帮我", "speaker", new_key("help"))
    assert view.id in [r.id for r in services.open_help_requests()]
    acked = services.acknowledge_help(view.id, "op-01")
    assert acked.status == "acknowledged"
    assert services.acknowledge_help(view.id, "op-02").status == "acknowledged"
    resolved = services.resolve_help(view.id, "op-01", "已联系儿子上门")
    assert resolved.status == "resolved"
    assert view.id not in [r.id for r in services.open_help_requests()]


def test_escalation_once_per_timeout_period(services):
    view = services.raise_help("r-0004", "快来人", "speaker", new_key("help"))
    created = NOW  # the fixed clock
    assert view.id not in [r.id for r in services.escalate_overdue(created + timedelta(minutes=2))]
    first = [r for r in services.escalate_overdue(created + timedelta(minutes=3)) if r.id == view.id]
    assert len(first) == 1 and first[0].escalation_level == 1
    assert "值班主管周志明" in first[0].notified
    # the same period again: nothing new
    assert view.id not in [r.id for r in services.escalate_overdue(created + timedelta(minutes=4))]
    second = [r for r in services.escalate_overdue(created + timedelta(minutes=6)) if r.id == view.id]
    assert second[0].escalation_level == 2
    escalations = [n for n in services.pending_notifications("operator")
                   if n.help_request_id == view.id and n.kind == "escalation"]
    assert len(escalations) == 2 and escalations[0].recipient_id == "op-09"
    services.acknowledge_help(view.id, "op-09")
    assert view.id not in [r.id for r in services.escalate_overdue(created + timedelta(minutes=30))]


def test_acknowledged_requests_do_not_escalate(services):
    view = services.raise_help("r-0006", "头晕", "speaker", new_key("help"))
    services.acknowledge_help(view.id, "op-01")
    assert view.id not in [r.id for r in services.escalate_overdue(NOW + timedelta(hours=1))]


def test_notifications_can_be_marked_delivered(services):
    view = services.raise_help("r-0013", "我不舒服", "speaker", new_key("help"))
    [family] = [n for n in services.pending_notifications("family") if n.help_request_id == view.id]
    assert services.mark_notification_delivered(family.id) is True
    assert services.mark_notification_delivered(family.id) is False
    assert family.id not in [n.id for n in services.pending_notifications("family")]
