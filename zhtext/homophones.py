"""Same-sound and near-sound character confusions, as a Mandarin speech recogniser makes them.

The table is data: each row is ``source substitutes`` -- a character that appears in what
elderly residents say to Yinling (meals, subsidies, emergencies, family, home services, health
readings, places from the seeds) followed by characters a recogniser is likely to write in its
place because they sound the same (same toneless pinyin) or nearly the same (the usual fuzzy
pairs z/zh, c/ch, s/sh, n/l, an/ang, en/eng, in/ing, common in Jin-dialect Mandarin).
Every pair was checked against pypinyin (heteronyms allowed); ``tests/nlu/test_noisy_generator.py``
checks them again. Numerals (一二三...十百两) and 不 are deliberately NOT sources: a recogniser's
language model rarely gets them wrong in context and changing them changes the meaning
(一百四十五, 不要).

This module imports only the standard library.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from types import MappingProxyType

__all__ = ["CONFUSIONS", "confusions_for", "substitutable_positions", "noisy_variants"]

# source character, then its same/near-sound substitutes (one row per source).
_TABLE = """
订 定丁顶
饭 范反犯泛
餐 参残惨
份 分粉奋
午 五武舞
晚 碗万完
早 枣澡找
菜 彩才财采
单 丹担
吃 痴持迟
啥 傻沙杀
甚 身深神
津 金今进斤
贴 铁帖
补 不步部
助 住注主
申 身深神
请 清情青
龄 零铃灵领
高 糕告搞
失 师诗湿十
困 捆昆
难 南男
改 该盖
造 早灶照
探 叹谈碳
访 放房方
关 观官管
爱 艾碍
驿 易亿一意
站 战占沾
院 远愿园
照 赵找罩
料 了廖聊
医 一衣依
卫 为位未味
室 是事市式
幸 性姓兴
福 服付副富
堂 唐糖躺
救 就旧久
命 明名鸣
摔 甩衰
倒 到道岛
喘 串传船
气 起器汽其
胸 凶兄
疼 腾藤
血 雪学
压 鸭呀牙押
糖 唐堂躺
心 新欣辛
跳 条调挑
温 文问稳
氧 养样羊
儿 而二尔
子 字自紫
闺 归规龟
伴 半办拌
孙 损笋
话 化画华
电 店点垫
打 大达搭
转 专赚砖
工 公功攻共
人 仁忍认
遍 便变边
理 里李礼
发 法罚乏
浴 玉遇预育
洗 喜系戏
澡 早枣造
送 宋颂松
药 要耀钥
诊 真阵针
修 休秀羞
陪 配培赔
保 宝报包
洁 结节接
门 们闷
上 尚伤赏
活 火或
动 东冻懂
课 客刻可
唱 常长场
歌 哥个各
舞 五武午
书 树叔输
棋 旗起其骑期
牌 排派
球 求秋
谢 写泄些
再 在载
见 件建间
说 硕
听 厅停挺
清 青轻请
对 队兑
错 措搓
好 号郝
明 名鸣命
后 厚候
天 添田
周 州粥舟
礼 里理李
拜 败百
号 好耗
月 越
取 去曲娶
消 小销
退 腿推
要 药咬摇
钱 前钳潜
多 朵夺
到 道倒刀
查 茶插
账 帐涨丈
批 皮劈
审 婶沈神
核 和何河
家 加佳夹
里 理李礼
村 存寸
社 设射舍
区 去曲取
康 抗扛
赵 照找
王 往网忘
庄 装壮撞
灵 零铃龄
石 十时实
县 现线限
榆 鱼余于
次 刺此词
潞 路鹿露
城 成程乘诚
段 断锻
金 今津斤
融 容荣
服 福富付
务 物雾误
中 钟终忠
老 劳捞牢
年 念
学 雪穴
跟 根
机 鸡几级
器 气起七
真 诊针阵
员 元原园圆
线 现县限
接 街节结
客 课刻可
来 莱赖
找 照赵
吗 马嘛码
咋 杂砸
走 奏揍
哪 那拿纳
近 进尽今
远 院元愿
路 露鹿陆
量 两亮凉
记 及几计级
低 滴底
快 块筷
慢 满漫蛮
声 生升胜
耳 儿二尔
念 年
笑 校孝小
聊 疗辽
闷 门们
热 惹
雨 鱼语与
票 飘漂
股 古骨鼓
彩 菜才采
视 是事市试
剧 句具据巨聚
律 绿率
车 扯彻
晌 赏上伤
夜 也业页
俺 安暗按
咧 列裂
哎 爱唉埃
呀 压牙鸭
饺 脚角搅
面 免棉
米 迷谜
肉 柔揉
粥 周州舟
汤 烫趟躺
蛋 但淡弹
包 保宝报
馒 满瞒
盐 言严研
辣 拉啦
软 阮
咸 闲嫌贤
素 速诉宿
荤 昏婚
预 玉遇浴
约 曰
排 牌派
登 灯等
晕 云运韵
急 及级集
紧 仅尽锦
头 投透
腿 退推
腰 要摇邀
烧 稍捎
病 并饼
住 助注
烫 趟汤
燃 然染
火 伙或
煤 没眉梅
跌 爹迭
爬 怕
躺 趟淌
疗 聊辽
护 户互虎
养 氧样痒
就 救旧
谁 水睡
拨 波播
频 贫品
手 守首受
码 马吗
联 连莲脸
系 细戏喜
通 同铜统
知 之只支
丈 帐
侄 直值职
婿 序续絮
媳 西希息
娘 酿
投 头
诉 素速
领 令灵
导 到倒岛
班 般搬
值 直职
管 关馆
派 牌排
介 界借
绍 少哨
戏 系细
晋 进近
扭 纽钮
秧 羊杨样
讲 奖蒋
座 做坐
义 意易
检 减简
旅 吕铝
游 油由
钓 掉调
鱼 于余
剪 减简
纸 只指
画 话化
字 自
微 为围
信 新心
拳 全泉权
操 草曹
象 向项像
扑 铺
麻 马妈
将 江奖
蒋 讲
被 背倍
衣 一医
裳 上
灯 登等
泡 炮跑
锁 所索
桶 捅统
堵 赌杜
窗 床创
漏 楼露
擦 插
拆 差
"""


def _parse(table: str) -> Mapping[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in table.strip().splitlines():
        source, subs = line.split()
        if len(source) != 1 or source in out:
            raise ValueError(f"bad confusion row: {line!r}")
        cleaned = tuple(dict.fromkeys(c for c in subs if c != source))
        if not cleaned or any(ord(c) < 128 for c in (source, *cleaned)):
            raise ValueError(f"bad confusion row: {line!r}")
        out[source] = cleaned
    return MappingProxyType(out)


#: source character -> same/near-sound substitutes (read-only).
CONFUSIONS: Mapping[str, tuple[str, ...]] = _parse(_TABLE)


def confusions_for(ch: str) -> tuple[str, ...]:
    """Substitutes for one character (empty when it has none or is ASCII)."""
    if len(ch) != 1 or ord(ch) < 128:
        return ()
    return CONFUSIONS.get(ch, ())


def substitutable_positions(text: str, protected: Collection[int] = ()) -> list[int]:
    """Indexes of characters that the table can replace, excluding ``protected`` ones."""
    return [
        i for i, ch in enumerate(text) if i not in protected and confusions_for(ch)
    ]


def noisy_variants(
    text: str,
    rng: random.Random,
    n: int = 1,
    rate: float = 0.15,
    *,
    protected: Collection[int] = (),
) -> list[str]:
    """Up to ``n`` distinct same-sound corruptions of ``text``.

    Each substitutable character is replaced with probability ``rate`` by one of its
    substitutes; every variant has at least one substitution, so it always differs from
    ``text``. Variants have exactly the length of ``text``, ASCII is never touched, and the
    positions in ``protected`` are kept. Fewer than ``n`` come back when the text has too
    few substitutable characters to make ``n`` distinct ones (none at all: ``[]``).
    Deterministic for a given ``rng`` state.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= rate <= 1.0:
        raise ValueError("rate must be between 0 and 1")
    positions = substitutable_positions(text, protected)
    if not positions or n == 0:
        return []
    variants: list[str] = []
    seen = {text}
    attempts = 0
    while len(variants) < n and attempts < 20 * n:
        attempts += 1
        chosen = [i for i in positions if rng.random() < rate]
        if not chosen:
            chosen = [rng.choice(positions)]
        chars = list(text)
        for i in chosen:
            chars[i] = rng.choice(CONFUSIONS[text[i]])
        variant = "".join(chars)
        if variant not in seen:
            seen.add(variant)
            variants.append(variant)
    return variants
