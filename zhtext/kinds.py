"""Canonical names for family relations, home services, subsidy programmes and facility kinds."""

from __future__ import annotations

import re

from ._match import compile_table, find_hits, pick
from .normalize import clean

__all__ = [
    "parse_relation", "parse_service", "parse_programme", "parse_facility_kind",
    "RELATIONS", "SERVICES", "PROGRAMMES", "FACILITY_KINDS",
    "SERVICE_ZH", "PROGRAMME_ZH", "FACILITY_KIND_ZH",
]

RELATIONS = ("儿子", "女儿", "老伴", "孙子", "孙女", "儿媳", "女婿", "侄子", "外甥", "邻居")

# Longest phrase at the earliest position wins, so 儿子媳妇 → 儿媳 beats 儿子,
# 孙女 beats 孙, 外孙女 → 孙女. 侄女 and 外甥女 have no canonical slot: they are
# listed as None-producing guards below rather than folded into a male relative.
_RELATION_WORDS = {
    "儿子": ("儿子", "大儿子", "二儿子", "三儿子", "小儿子", "大儿", "二儿", "俺儿", "我儿", "儿娃"),
    "女儿": ("女儿", "闺女", "姑娘", "大闺女", "二闺女", "小闺女", "女子", "女娃"),
    "老伴": ("老伴", "老伴儿", "老头子", "老头儿", "老婆子", "老婆儿", "老太婆", "老婆", "老公", "爱人",
             "我老头", "俺老头", "我家老头", "俺家老头", "我老汉", "俺老汉", "我家老汉", "俺家老汉", "老两口"),
    "孙子": ("孙子", "孙儿", "大孙子", "小孙子", "外孙", "外孙子", "孙娃"),
    "孙女": ("孙女", "孙女儿", "外孙女", "孙闺女"),
    "儿媳": ("儿媳", "儿媳妇", "儿媳妇儿", "媳妇儿", "媳妇", "儿子媳妇", "儿子的媳妇"),
    "女婿": ("女婿", "姑爷", "闺女女婿", "女婿儿"),
    "侄子": ("侄子", "侄儿", "侄娃"),
    "外甥": ("外甥", "外甥儿", "外甥子"),
    "邻居": ("邻居", "邻居家", "隔壁", "街坊", "街坊邻居", "对门", "邻家", "左邻右舍"),
    # Guards: say these, get None (not 侄子 / 外甥 / 儿媳 / 女儿 by accident).
    "": ("侄女", "外甥女", "孙媳妇", "孙子媳妇", "小姑娘", "那个姑娘", "这个姑娘", "那姑娘", "这姑娘"),
}
# Compositions people use for grandchildren ("我儿子的闺女").
_COMPOSED = (
    (re.compile(r"(?:儿子|闺女|女儿|姑娘)(?:的|家的)?(?:闺女|女儿|姑娘)"), "孙女"),
    (re.compile(r"(?:儿子|闺女|女儿|姑娘)(?:的|家的)?(?:儿子|小子)"), "孙子"),
    (re.compile(r"(?:闺女|女儿|姑娘)(?:的|家的)?(?:对象|男人|老公)"), "女婿"),
)
# 小子 means the son only with a possessor or birth order ("我家小子", "二小子").
_SON_XIAOZI = re.compile(r"(?:我|俺|咱)(?:家|们家)?小子|[大二三老]小子")
_REL_RE, _REL_LOOKUP = compile_table(_RELATION_WORDS)


def parse_relation(text: str | None) -> str | None:
    """One of RELATIONS, or None: "给我闺女打电话" → 女儿."""
    t = clean(text)
    if not t:
        return None
    hits = find_hits(t, _REL_RE, _REL_LOOKUP)
    for pattern, rel in _COMPOSED:
        m = pattern.search(t)
        if m and not any(h.end <= m.start() for h in hits):
            return rel
    h = pick(hits)
    if h is not None:
        return h.code or None
    if _SON_XIAOZI.search(t):
        return "儿子"
    return None


SERVICES = ("haircut", "bathing", "cleaning", "medicine", "escort", "repair", "meal_delivery", "companionship")
SERVICE_ZH = {
    "haircut": "理发", "bathing": "助浴", "cleaning": "保洁", "medicine": "代购送药", "escort": "陪诊",
    "repair": "维修", "meal_delivery": "送餐", "companionship": "陪聊",
}
_SERVICE_WORDS = {
    "haircut": ("理发", "理个发", "剃头", "剃个头", "剪头发", "剪头", "剪个头", "推头", "推个头", "剪发", "头发长了", "刮胡子"),
    "bathing": ("助浴", "洗澡", "洗个澡", "擦身", "擦身子", "擦擦身子", "擦澡", "洗头", "泡脚"),
    "cleaning": ("保洁", "打扫", "打扫卫生", "收拾家", "收拾屋子", "收拾房子", "收拾收拾", "扫地", "拖地",
                 "擦窗户", "家政", "洗衣服", "做卫生"),
    "medicine": ("送药", "拿药", "买药", "取药", "开药", "药吃完了", "没药了", "药没了", "配药"),
    "escort": ("陪诊", "陪看病", "陪我去医院", "陪我上医院", "陪着看病", "陪我看病", "带我去医院", "带我看病",
               "陪同就医", "陪去医院", "陪我去看病", "陪我去趟医院", "跑医院"),
    "repair": ("维修", "修", "修东西", "修一下", "修理", "水管", "漏水", "灯坏了", "灯不亮", "坏了", "堵了",
               "电路", "跳闸", "下水道", "马桶", "换灯泡"),
    "meal_delivery": ("送饭", "送个饭", "送餐", "送饭上门", "助餐"),
    "companionship": ("陪聊", "说说话", "说会儿话", "聊聊天", "聊天", "拉家常", "唠嗑", "拉呱", "啦呱", "拉话",
                      "拉拉话", "谝谝", "做个伴", "陪陪我", "陪我说话", "解解闷"),
}
_SERVICE_RE, _SERVICE_LOOKUP = compile_table(_SERVICE_WORDS)


def parse_service(text: str | None) -> str | None:
    """One of SERVICES, or None: "想找人来剃个头" → haircut."""
    h = pick(find_hits(clean(text), _SERVICE_RE, _SERVICE_LOOKUP))
    return h.code if h else None


PROGRAMMES = ("gaoling", "shineng", "shilaohua", "tanfang")
PROGRAMME_ZH = {"gaoling": "高龄津贴", "shineng": "经济困难失能老年人补贴", "shilaohua": "适老化改造", "tanfang": "探访关爱"}
_PROGRAMME_WORDS = {
    "gaoling": ("高龄津贴", "高龄补贴", "高龄补助", "高龄", "老年补贴", "老年金", "老年津贴", "老人补贴",
                "尊老金", "长寿金", "长寿补贴", "八十岁补贴", "岁数补贴", "年龄补贴", "老龄补贴", "高龄老人"),
    "shineng": ("失能补贴", "经济困难失能", "失能", "护理补贴", "护理补助", "瘫痪补贴", "卧床补贴", "不能自理"),
    "shilaohua": ("适老化改造", "适老化", "改造", "扶手", "防滑", "无障碍"),
    "tanfang": ("探访关爱", "探访", "关爱", "上门看看", "来看看我", "上门探视", "看望", "走访"),
}
_PROGRAMME_RE, _PROGRAMME_LOOKUP = compile_table(_PROGRAMME_WORDS)
# "过了八十岁有啥补贴" / "80岁以上的钱" are about the 高龄津贴.
_EIGHTY = re.compile(r"(?:八十|九十|一百|80|90|100)岁?(?:以上|多|往上)?.{0,6}(?:补贴|津贴|补助|钱)")


def parse_programme(text: str | None) -> str | None:
    """One of PROGRAMMES, or None: "八十岁补贴咋领" → gaoling."""
    t = clean(text)
    h = pick(find_hits(t, _PROGRAMME_RE, _PROGRAMME_LOOKUP))
    if h:
        return h.code
    return "gaoling" if _EIGHTY.search(t) else None


FACILITY_KINDS = ("station", "community_centre", "day_care", "happiness_yard", "canteen", "health_station")
FACILITY_KIND_ZH = {
    "station": "养老服务驿站", "community_centre": "社区养老服务中心", "day_care": "日间照料中心",
    "happiness_yard": "幸福小院", "canteen": "老年食堂", "health_station": "卫生室",
}
_FACILITY_WORDS = {
    "station": ("驿站", "养老驿站", "服务站", "养老站"),
    "community_centre": ("养老服务中心", "社区中心", "服务中心", "社区养老中心", "养老中心", "社区综合体"),
    "day_care": ("日间照料", "日照中心", "日间照料中心", "照料中心", "托老所", "日托"),
    "happiness_yard": ("幸福小院", "幸福院", "互助幸福院", "互助小院"),
    "canteen": ("食堂", "饭堂", "助餐点", "老年餐桌", "配餐点", "餐桌", "吃饭的地方", "助餐"),
    # 社区卫生服务中心 is a clinic even though it ends in 服务中心.
    "health_station": ("卫生室", "卫生院", "诊所", "卫生站", "卫生服务站", "卫生服务中心", "社区卫生服务中心",
                       "社区医院", "医务室", "村医", "看病的地方"),
}
_FACILITY_RE, _FACILITY_LOOKUP = compile_table(_FACILITY_WORDS)


def parse_facility_kind(text: str | None) -> str | None:
    """One of FACILITY_KINDS, or None: "附近有老年餐桌没" → canteen."""
    h = pick(find_hits(clean(text), _FACILITY_RE, _FACILITY_LOOKUP))
    return h.code if h else None
