import pytest

from services.errors import InvalidRequest, NoFamilyMember

from .conftest import new_key


def test_only_consenting_members_are_shown(services):
    members = services.family_members("r-0001")
    assert [(m.name, m.relation, m.consent) for m in members] == [("张建国", "儿子", True)]
    assert members[0].phone_masked == "138****1001"


def test_call_first_consenting_member(services):
    call = services.request_family_call("r-0002", None, new_key("call"))
    assert call.family.relation == "女儿" and call.status == "queued"


def test_call_by_relation_and_alias(services):
    assert services.request_family_call("r-0002", "老伴", new_key("call")).family.name == "刘淑芬"
    assert services.request_family_call("r-0002", "闺女", new_key("call")).family.name == "李红霞"


def test_non_consenting_member_is_never_called(services):
    with pytest.raises(NoFamilyMember) as info:
        services.request_family_call("r-0001", "儿媳", new_key("call"))
    assert info.value.relation == "儿媳"
    with pytest.raises(NoFamilyMember):
        services.request_family_call("r-0015", None, new_key("call"))  # only a non-consenting daughter
    with pytest.raises(NoFamilyMember):
        services.request_family_call("r-0007", None, new_key("call"))  # nobody on file


def test_call_is_idempotent(services):
    key = new_key("call")
    assert services.request_family_call("r-0001", "儿子", key) == services.request_family_call("r-0001", "儿子", key)


def test_unknown_relation(services):
    with pytest.raises(InvalidRequest):
        services.request_family_call("r-0001", "外星人", new_key("call"))
