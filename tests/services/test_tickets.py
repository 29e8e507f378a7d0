from datetime import timedelta

import pytest

from services.errors import InvalidRequest, UnknownResident, UnknownServiceType

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
