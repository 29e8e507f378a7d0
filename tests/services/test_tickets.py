from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import InvalidRequest, TicketClosed, TicketNotFound, UnknownResident, UnknownServiceType
from services.models import AuditEntry

from .conftest import TODAY, new_key


def test_service_types(services):
    types = dict(services.service_types())
    assert types["haircut"] == "理发" and types["bathing"] == "助浴" and types["escort"] == "陪诊"


def test_create_ticket_and_list_open(services):
    key = new_key("t")
    ticket = services.create_ticket("r-0001", "haircut", TODAY + timedelta(days=2), "上门理发", key, "resident:r-0001")
    assert (ticket.service_name, ticket.status, ticket.preferred_date) == ("理发", "open", TODAY + timedelta(days=2))
    assert services.create_ticket("r-0001", "haircut", None, "", key, "resident:r-0001") == ticket
    by_name = services.create_ticket("r-0001", "助浴", None, "", new_key("t"), "resident:r-0001")
    assert by_name.service_code == "bathing"
    assert [t.id for t in services.open_tickets("r-0001")] == [ticket.id, by_name.id]


def test_ticket_errors(services):
    with pytest.raises(UnknownServiceType):
        services.create_ticket("r-0001", "massage_on_the_moon", None, "", new_key("t"), "t")
    with pytest.raises(UnknownResident):
        services.create_ticket("r-9999", "haircut", None, "", new_key("t"), "t")
    with pytest.raises(InvalidRequest):
        services.create_ticket("r-0001", "haircut", TODAY - timedelta(days=1), "", new_key("t"), "t")


# --- the operator desk ---------------------------------------------------------------------------------------


def _audit(services, ticket_id):
    with Session(services.engine) as session:
        return session.scalars(select(AuditEntry).where(AuditEntry.target == f"ticket:{ticket_id}")
                               .order_by(AuditEntry.id)).all()


def test_ticket_view_carries_resident_assignee_and_note(services):
    ticket = services.create_ticket("r-0002", "haircut", None, "下午来", new_key("t"), "resident:r-0002")
    assert (ticket.resident_name, ticket.assignee, ticket.note) == ("李福生", None, "下午来")


def test_list_tickets_newest_first_by_status(services):
    a = services.create_ticket("r-0003", "haircut", None, "", new_key("t"), "resident:r-0003")
    b = services.create_ticket("r-0004", "bathing", None, "", new_key("t"), "resident:r-0004")
    listed = [t.id for t in services.list_tickets() if t.id in (a.id, b.id)]
    assert listed == [b.id, a.id]
    services.assign_ticket(a.id, "王师傅", "operator:op-01")
    assert a.id in [t.id for t in services.list_tickets("assigned")]
    assert a.id not in [t.id for t in services.list_tickets("open")] and b.id in [t.id for t in services.list_tickets("open")]
    assert len(services.list_tickets(limit=1)) == 1
    with pytest.raises(InvalidRequest):
        services.list_tickets("lost")


def test_assign_then_update_to_done_audited(services):
    ticket = services.create_ticket("r-0005", "escort", None, "周三去县医院", new_key("t"), "resident:r-0005")
    assigned = services.assign_ticket(ticket.id, "  志愿者小刘 ", "operator:op-01")
    assert (assigned.status, assigned.assignee) == ("assigned", "志愿者小刘")
    assert services.assign_ticket(ticket.id, "志愿者小刘", "operator:op-01") == assigned  # no change, no audit
    reassigned = services.assign_ticket(ticket.id, "志愿者小王", "operator:op-02")
    assert reassigned.assignee == "志愿者小王"
    noted = services.update_ticket(ticket.id, "assigned", "已电话确认，身份证140702194903150012", "operator:op-02")
    assert noted.note.startswith("周三去县医院\n已电话确认") and "140702194903150012" not in noted.note
    done = services.update_ticket(ticket.id, "done", "已陪同就诊", "operator:op-02")
    assert (done.status, done.assignee, done.note.splitlines()[-1]) == ("done", "志愿者小王", "已陪同就诊")
    assert ticket.id not in [t.id for t in services.open_tickets("r-0005")]
    entries = _audit(services, ticket.id)
    assert [e.action for e in entries] == ["ticket.create", "ticket.assign", "ticket.assign", "ticket.update",
                                           "ticket.update"]
    assert entries[2].actor == "operator:op-02" and entries[2].detail == {"assignee": "志愿者小王", "before": "志愿者小刘"}
    assert entries[-1].detail["status"] == "done" and entries[-1].detail["before"] == "assigned"
    assert all("140702194903150012" not in str(e.detail) for e in entries)


def test_closed_tickets_take_no_more_changes(services):
    ticket = services.create_ticket("r-0006", "bathing", None, "", new_key("t"), "resident:r-0006")
    cancelled = services.update_ticket(ticket.id, "cancelled", "老人说不用了", "operator:op-01")
    assert services.update_ticket(ticket.id, "cancelled", "", "operator:op-01") == cancelled  # repeat: no-op
    with pytest.raises(TicketClosed) as err:
        services.update_ticket(ticket.id, "open", "", "operator:op-01")
    assert err.value.status == "cancelled"
    with pytest.raises(TicketClosed):
        services.assign_ticket(ticket.id, "王师傅", "operator:op-01")
    with pytest.raises(TicketClosed):
        services.update_ticket(ticket.id, "cancelled", "再加一句", "operator:op-01")


def test_reopening_clears_the_assignee_and_assigned_needs_one(services):
    ticket = services.create_ticket("r-0007", "haircut", None, "", new_key("t"), "resident:r-0007")
    with pytest.raises(InvalidRequest) as err:
        services.update_ticket(ticket.id, "assigned", "", "operator:op-01")
    assert err.value.reason == "assignee_required"
    services.assign_ticket(ticket.id, "王师傅", "operator:op-01")
    reopened = services.update_ticket(ticket.id, "open", "王师傅病了", "operator:op-01")
    assert (reopened.status, reopened.assignee, reopened.note) == ("open", None, "王师傅病了")


def test_ticket_desk_errors(services):
    ticket = services.create_ticket("r-0008", "haircut", None, "", new_key("t"), "resident:r-0008")
    with pytest.raises(TicketNotFound):
        services.assign_ticket(999_999, "王师傅", "operator:op-01")
    with pytest.raises(TicketNotFound):
        services.update_ticket(999_999, "done", "", "operator:op-01")
    with pytest.raises(InvalidRequest):
        services.update_ticket(ticket.id, "finished", "", "operator:op-01")
    with pytest.raises(InvalidRequest):
        services.assign_ticket(ticket.id, "   ", "operator:op-01")
    with pytest.raises(InvalidRequest):
        services.assign_ticket(ticket.id, "名" * 61, "operator:op-01")
    with pytest.raises(InvalidRequest):
        services.update_ticket(ticket.id, "open", "长" * 1001, "operator:op-01")


def test_concurrent_notes_are_all_kept(services):
    ticket = services.create_ticket("r-0009", "haircut", None, "", new_key("t"), "resident:r-0009")
    barrier = Barrier(6)

    def note(i: int):
        barrier.wait()
        return services.update_ticket(ticket.id, "open", f"备注{i}", f"operator:op-0{i}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(note, range(6)))
    [final] = [t for t in services.list_tickets("open") if t.id == ticket.id]
    assert sorted(final.note.splitlines()) == [f"备注{i}" for i in range(6)]
    assert len([e for e in _audit(services, ticket.id) if e.action == "ticket.update"]) == 6
