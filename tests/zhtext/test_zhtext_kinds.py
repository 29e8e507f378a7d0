import pytest

from zhtext.kinds import (
    FACILITY_KINDS,
    PROGRAMMES,
    RELATIONS,
    SERVICES,
    parse_facility_kind,
    parse_programme,
    parse_relation,
    parse_service,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("儿子", "儿子"), ("给我儿子打电话", "儿子"), ("给 我 儿子 打 个 电话", "儿子"), ("大儿子", "儿子"),
        ("我家小子", "儿子"), ("俺家小子", "儿子"), ("二小子", "儿子"), ("这小子", None),
        ("女儿", "女儿"), ("闺女", "女儿"), ("给俺闺女打个电话", "女儿"), ("找我姑娘", "女儿"), ("小姑娘", None),
        ("老伴", "老伴"), ("老伴儿", "老伴"), ("老头子", "老伴"), ("老婆子", "老伴"), ("俺老汉", "老伴"),
        ("孙子", "孙子"), ("大孙子", "孙子"), ("外孙", "孙子"),
        ("孙女", "孙女"), ("外孙女", "孙女"), ("我儿子的闺女", "孙女"), ("闺女家的小子", "孙子"),
        ("儿媳", "儿媳"), ("儿媳妇", "儿媳"), ("媳妇儿", "儿媳"), ("儿子媳妇", "儿媳"), ("孙媳妇", None),
        ("女婿", "女婿"), ("姑爷", "女婿"), ("闺女的对象", "女婿"),
        ("侄子", "侄子"), ("侄儿", "侄子"), ("侄女", None),
        ("外甥", "外甥"), ("外甥女", None),
        ("邻居", "邻居"), ("隔壁老王", "邻居"), ("街坊", "邻居"), ("对门", "邻居"),
        ("不找儿子，找闺女", "女儿"),
        ("我想订饭", None), ("", None),
    ],
)
def test_parse_relation(text, expected):
    assert parse_relation(text) == expected
    assert expected is None or expected in RELATIONS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("理发", "haircut"), ("剃头", "haircut"), ("剃个头", "haircut"), ("剪头发", "haircut"), ("推头", "haircut"),
        ("想找人来 剪 个 头", "haircut"),
        ("助浴", "bathing"), ("洗澡", "bathing"), ("想洗个澡", "bathing"), ("擦身", "bathing"),
        ("保洁", "cleaning"), ("打扫", "cleaning"), ("收拾家", "cleaning"), ("扫地", "cleaning"), ("打扫卫生", "cleaning"),
        ("送药", "medicine"), ("拿药", "medicine"), ("买药", "medicine"), ("药吃完了", "medicine"),
        ("陪诊", "escort"), ("陪看病", "escort"), ("陪我去医院", "escort"), ("陪我去医院拿药", "escort"),
        ("维修", "repair"), ("修", "repair"), ("水管", "repair"), ("灯坏了", "repair"), ("修东西", "repair"),
        ("水管漏水了", "repair"), ("马桶堵了", "repair"),
        ("送饭", "meal_delivery"), ("送个饭", "meal_delivery"),
        ("陪聊", "companionship"), ("说说话", "companionship"), ("想找人拉拉话", "companionship"),
        ("我想订饭", None), ("你好", None), ("", None),
    ],
)
def test_parse_service(text, expected):
    assert parse_service(text) == expected
    assert expected is None or expected in SERVICES


@pytest.mark.parametrize(
    "text, expected",
    [
        ("高龄津贴", "gaoling"), ("高龄补贴", "gaoling"), ("老年补贴", "gaoling"), ("八十岁补贴", "gaoling"),
        ("老年金", "gaoling"), ("过了八十有啥补贴", "gaoling"), ("80岁以上的补贴咋领", "gaoling"),
        ("高龄 津贴 发了没", "gaoling"),
        ("失能补贴", "shineng"), ("经济困难失能老年人补贴", "shineng"), ("护理补贴", "shineng"),
        ("适老化改造", "shilaohua"), ("改造", "shilaohua"), ("装扶手", "shilaohua"), ("防滑", "shilaohua"),
        ("探访关爱", "tanfang"), ("探访", "tanfang"), ("上门看看", "tanfang"),
        ("补贴", None), ("我想订饭", None), ("", None),
    ],
)
def test_parse_programme(text, expected):
    assert parse_programme(text) == expected
    assert expected is None or expected in PROGRAMMES


@pytest.mark.parametrize(
    "text, expected",
    [
        ("驿站", "station"), ("附近的养老驿站", "station"),
        ("养老服务中心", "community_centre"), ("社区中心", "community_centre"),
        ("日间照料", "day_care"), ("日照中心", "day_care"), ("日间照料中心", "day_care"),
        ("幸福小院", "happiness_yard"), ("幸 福 小 院", "happiness_yard"),
        ("食堂", "canteen"), ("饭堂", "canteen"), ("助餐点", "canteen"), ("老年餐桌", "canteen"),
        ("附近有食堂没", "canteen"),
        ("卫生室", "health_station"), ("卫生院", "health_station"), ("诊所", "health_station"),
        ("社区卫生服务中心", "health_station"), ("卫生服务站", "health_station"),
        ("我想订饭", None), ("", None),
    ],
)
def test_parse_facility_kind(text, expected):
    assert parse_facility_kind(text) == expected
    assert expected is None or expected in FACILITY_KINDS
