"""The domain words the voice tests correct towards, given the way the gateway gives them.

Voice reads no file and no database for them (it is handed voice.settings.DomainWords). Here they are the
user dictionary and the NLU lookups, read by the assistant's adapter (assistant.voice_settings), and the
names a freshly seeded services database holds, written out so that the voice tests need no database.
tests/assistant/test_voice_settings.py checks that the adapter over a seeded database gives exactly these.
"""
from __future__ import annotations

from assistant.voice_settings import dictionary_words, lookup_words
from voice.settings import DomainWords

# facilities with their county, township and village (by facility id), subsidy programmes, home services
SEEDED_NAMES = (
    "榆次区晋华街道康乐社区养老服务中心", "榆次区", "晋华街道", "康乐社区", "咱家智慧社区居家养老服务中心", "锦纶街道",
    "锦纶社区", "段家庄村幸福小院老年餐桌", "灵石县", "两渡镇", "段家庄村", "潞州区太东街道金融社区食堂", "潞州区",
    "太东街道", "金融社区", "康乐社区养老服务中心老年餐厅", "社城村驿站老年食堂", "榆社县", "社城镇", "社城村",
    "西流北村日间照料中心食堂", "潞城区", "辛安泉镇", "西流北村", "咱家智慧社区长者食堂", "赵王村驿站老年食堂", "北寨乡",
    "赵王村", "潞城区辛安泉镇西流北村老年日间照料中心", "晋华街道社区卫生服务站", "赵王村卫生室",
    "灵石县两渡镇段家庄村幸福小院", "灵石县静升镇静升村幸福小院", "静升镇", "静升村", "灵石县两渡镇两渡村幸福小院",
    "两渡村", "榆社县北寨乡北寨村居家养老服务驿站", "北寨村", "潞州区太东街道金融社区养老服务站",
    "榆社县箕城镇南关村居家养老服务驿站", "箕城镇", "南关村", "榆社县社城镇社城村居家养老服务驿站",
    "榆社县云竹镇云竹村居家养老服务驿站", "云竹镇", "云竹村", "榆社县北寨乡赵王村居家养老服务驿站",
    "高龄津贴", "适老化改造", "经济困难失能老年人补贴", "探访关爱",
    "助浴", "保洁", "陪聊", "陪诊", "理发", "洗衣", "送餐", "送药", "维修",
)


def seeded_domain_words() -> DomainWords:
    """What assistant.voice_settings gives voice over the demo database, without the database."""
    return DomainWords.of([*dictionary_words(), *lookup_words(), *SEEDED_NAMES])
