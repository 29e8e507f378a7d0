import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import InvalidRequest, UnknownResident
from services.facade import Services
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


# --- the operator desk, the family page, the live fan-out -------------------------------------------------


def _desk(services, request_id, **kwargs):
    return next((v for v in services.help_requests_for_desk(**kwargs) if v.id == request_id), None)


def test_desk_sees_the_number_in_full_and_the_resident(services):
    own = services.raise_help("r-0014", "我腿疼", "phone", new_key("help"), phone="13912345678", location="家里")
    theirs = services.raise_help("r-0014", "我又腿疼", "speaker", new_key("help"))
    stranger = services.raise_help("wx-stranger-9", "救命", "text", new_key("help"))
    view = _desk(services, own.id)
    assert (view.resident_id, view.resident_name, view.channel, view.text, view.phone, view.location, view.status) == (
        "r-0014", "段春兰", "phone", "我腿疼", "13912345678", "家里", "open")
    assert _desk(services, theirs.id).phone == "13835450014"  # the resident's own number, unmasked
    assert (_desk(services, stranger.id).resident_name, _desk(services, stranger.id).phone) == (None, None)
    ids = [v.id for v in services.help_requests_for_desk()]
    assert ids.index(stranger.id) < ids.index(theirs.id) < ids.index(own.id)  # newest first (same time: by id)


def test_desk_marks_overdue_and_hides_resolved_unless_asked(services, clock):
    view = services.raise_help("r-0016", "我喘不上气", "speaker", new_key("help"))
    try:
        clock.now = NOW + timedelta(seconds=179)
        assert _desk(services, view.id).overdue is False
        clock.now = NOW + timedelta(seconds=180)
        assert _desk(services, view.id).overdue is True
        assert _desk(services, view.id, ack_timeout=timedelta(minutes=10)).overdue is False
        services.acknowledge_help(view.id, "op-02")
        acked = _desk(services, view.id)
        assert (acked.status, acked.acknowledged_by, acked.acknowledged_at, acked.overdue) == (
            "acknowledged", "op-02", NOW + timedelta(seconds=180), False)
        services.resolve_help(view.id, "op-02", "已派人上门")
        assert _desk(services, view.id) is None
        done = _desk(services, view.id, include_resolved=True)
        assert (done.status, done.resolved_by, done.note) == ("resolved", "op-02", "已派人上门")
    finally:
        clock.now = NOW


def test_web_help_requests_keep_their_channel(services):
    view = services.raise_help("r-0017", "我爸说他摔了", "web", new_key("help"))
    assert _desk(services, view.id).channel == "web"
    assert _desk(services, services.raise_help("r-0017", "x", "carrier-pigeon", new_key("help")).id).channel == "text"


def test_recent_help_for_the_family(services, clock):
    first = services.raise_help("r-0018", "我头晕", "speaker", new_key("help"))
    try:
        clock.now = NOW + timedelta(minutes=5)
        second = services.raise_help("r-0018", "我又头晕", "speaker", new_key("help"))
        services.acknowledge_help(first.id, "op-01")
    finally:
        clock.now = NOW
    recent = services.recent_help("r-0018")
    assert [r.id for r in recent] == [second.id, first.id]
    assert (recent[1].status, recent[1].acknowledged_at, recent[1].text) == (
        "acknowledged", NOW + timedelta(minutes=5), "我头晕")
    assert recent[0].acknowledged_at is None
    assert services.recent_help("r-0018", limit=1) == recent[:1]
    assert services.recent_help("r-0021") == []
    with pytest.raises(UnknownResident):
        services.recent_help("r-9999")


def test_help_changes_after_follow_acknowledgements_and_resolutions(services, clock):
    start = NOW + timedelta(hours=3)
    a = services.raise_help("r-0019", "我心口疼", "speaker", new_key("help"))
    b = services.raise_help("r-0020", "我起不来", "speaker", new_key("help"))
    try:
        clock.now = start + timedelta(seconds=1)
        services.acknowledge_help(a.id, "op-01")
        clock.now = start + timedelta(seconds=2)
        services.resolve_help(b.id, "op-02", "家人已到")
        clock.now = start + timedelta(seconds=3)
        services.resolve_help(a.id, "op-01", "已送医")
    finally:
        clock.now = NOW
    mine = [v for v in services.help_changes_after(start) if v.id in (a.id, b.id)]
    assert [(v.id, v.status) for v in mine] == [(b.id, "resolved"), (a.id, "resolved")]  # by latest change
    assert [v.id for v in services.help_changes_after(start + timedelta(seconds=2)) if v.id in (a.id, b.id)] == [a.id]
    assert [v for v in services.help_changes_after(start + timedelta(seconds=3)) if v.id in (a.id, b.id)] == []
    with pytest.raises(InvalidRequest):
        services.help_changes_after(datetime(2025, 11, 5))


def test_notifications_after_an_id(services):
    mark = max([0] + [n.id for n in services.notifications_after(0, limit=1000)])
    view = services.raise_help("r-0024", "我找不到药了", "speaker", new_key("help"))
    new = services.notifications_after(mark)
    assert [(n.recipient_kind, n.help_request_id) for n in new] == [("family", view.id), ("operator", view.id)]
    assert [n.recipient_kind for n in services.notifications_after(mark, "operator")] == ["operator"]
    services.mark_notification_delivered(new[0].id)
    assert [n.id for n in services.notifications_after(mark)] == [n.id for n in new]  # delivered or not
    assert services.notifications_after(new[-1].id) == []


def test_escalation_runs_from_the_database_once_whoever_stored_the_request(db_url, services, clock, tmp_path):
    """The request was stored by a process that then died (its Services is closed); two other gateways
    check for overdue help at the same moment: it escalates, once (the level is compared and set in one
    UPDATE), with one escalation notice."""
    creator = Services(db_url, clock=clock, outbox=tmp_path / "creator.jsonl")
    view = creator.raise_help("r-0005", "救命", "phone", new_key("help"))
    creator.close()  # the process that took the call is gone
    gateways = [Services(db_url, clock=clock, outbox=tmp_path / f"gw{i}.jsonl") for i in range(2)]
    try:
        at = NOW + timedelta(minutes=3)
        barrier = threading.Barrier(len(gateways))

        def check(gateway: Services) -> list:
            barrier.wait()
            return [r.id for r in gateway.escalate_overdue(at)]

        with ThreadPoolExecutor(len(gateways)) as pool:
            results = list(pool.map(check, gateways))
        assert sum(r.count(view.id) for r in results) == 1, results
        notices = [n for n in services.pending_notifications("operator")
                   if n.help_request_id == view.id and n.kind == "escalation"]
        assert len(notices) == 1
        assert [r for r in services.open_help_requests() if r.id == view.id][0].escalation_level == 1
    finally:
        for gateway in gateways:
            gateway.close()
