import pytest

from services.errors import InvalidRequest, UnknownFacility


def test_nearest_facilities_for_zhaowang_resident(services):
    hits = services.nearest_facilities("r-0001")
    assert len(hits) == 3
    assert hits[0].facility.village == "赵王村" and hits[0].distance_m < 300
    assert [h.distance_m for h in hits] == sorted(h.distance_m for h in hits)


def test_nearest_by_kind_and_service(services):
    [canteen] = services.nearest_facilities("r-0005", kind="canteen", limit=1)  # 北寨村 -> 赵王村 canteen
    assert canteen.facility.id == "ct-zhaowang" and 1000 < canteen.distance_m < 3000
    [yard] = services.nearest_facilities("r-0015", kind="幸福小院", limit=1)
    assert yard.facility.id == "hy-jingsheng"
    [school] = services.nearest_facilities("r-0002", service="老年大学", limit=1)
    assert school.facility.id == "cc-kangle"
    with pytest.raises(InvalidRequest):
        services.nearest_facilities("r-0001", kind="spaceport")


def test_every_facility_or_every_one_of_a_kind(services):
    everything = services.facilities()
    assert len(everything) == 21 and [f.id for f in everything] == sorted(f.id for f in everything)
    assert {f.kind for f in services.facilities("幸福小院")} == {"happiness_yard"}
    assert [f.id for f in services.facilities("canteen")] == [f.id for f in services.canteens()]
    with pytest.raises(InvalidRequest):
        services.facilities("spaceport")


@pytest.mark.parametrize(
    "text, facility_id",
    [
        ("赵王村驿站", "st-zhaowang"),
        ("赵王村的食堂", "ct-zhaowang"),
        ("康乐社区养老服务中心在哪儿", "cc-kangle"),
        ("康乐社区的老年大学", "cc-kangle"),
        ("咱家智慧社区", "cc-zanjia"),
        ("段家庄幸福小院", "hy-duanjiazhuang"),
        ("金融社区食堂", "ct-jinrong"),
        ("西流北村", "dc-xiliubei"),
    ],
)
def test_find_facility(services, text, facility_id):
    found = services.find_facility(text)
    assert found is not None and found.id == facility_id


def test_find_facility_no_match(services):
    assert services.find_facility("北京天安门") is None
    assert services.find_facility("") is None


def test_activities_near_kangle_resident(services):
    acts = services.activities("r-0002")
    titles = {a.title for a in acts}
    assert {"老年大学·书法班", "棋牌室开放", "乒乓球活动"} <= titles
    assert "围坐欢唱" not in titles  # 灵石, far away
    keys = [(a.weekday, a.start) for a in acts]
    assert keys == sorted(keys)


def test_activities_by_weekday_and_facility(services):
    monday = services.activities("r-0002", weekday=0)
    assert monday and all(a.weekday == 0 for a in monday)
    assert "老年大学·书法班" in {a.title for a in monday}
    yard = services.activities("r-0013", facility_id="hy-duanjiazhuang")
    assert {a.title for a in yard} == {"围坐欢唱", "乒乓球切磋"}
    with pytest.raises(UnknownFacility):
        services.activities("r-0013", facility_id="nowhere")
    with pytest.raises(InvalidRequest):
        services.activities("r-0013", weekday=7)
