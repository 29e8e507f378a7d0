"""Demo data drawn from the Jinzhong and Changzhi reports in shared/seeds. Everything here is DEMO:
people, phone numbers and subsidy amounts are made up (places and programmes are real)."""

from __future__ import annotations

# id, kind, name, county, township, village, address, lat, lon, hours, phone, services, parent
FACILITIES = [
    # 榆社县: "一村一驿站"; 北寨乡赵王村's 驿站 runs the village canteen where elders queue for lunch.
    ("st-zhaowang", "station", "榆社县北寨乡赵王村居家养老服务驿站", "榆社县", "北寨乡", "赵王村",
     "榆社县北寨乡赵王村原村小学校舍", 37.0422, 113.0853, "07:30-18:00", "0354-6630101",
     ["助餐", "日间照料", "文化娱乐", "健康监测", "理发"], None),
    ("ct-zhaowang", "canteen", "赵王村驿站老年食堂", "榆社县", "北寨乡", "赵王村",
     "榆社县北寨乡赵王村原村小学校舍东侧", 37.0424, 113.0857, "06:30-18:30", "0354-6630102",
     ["助餐", "送餐"], "st-zhaowang"),
    ("hs-zhaowang", "health_station", "赵王村卫生室", "榆社县", "北寨乡", "赵王村",
     "榆社县北寨乡赵王村村委会西", 37.0431, 113.0845, "08:00-17:00", "0354-6630120",
     ["量血压", "测血糖", "慢病随访"], None),
    ("st-beizhai", "station", "榆社县北寨乡北寨村居家养老服务驿站", "榆社县", "北寨乡", "北寨村",
     "榆社县北寨乡北寨村村委会院内", 37.0561, 113.0712, "08:00-17:30", "0354-6630201",
     ["日间照料", "文化娱乐", "助浴"], None),
    ("st-shecheng", "station", "榆社县社城镇社城村居家养老服务驿站", "榆社县", "社城镇", "社城村",
     "榆社县社城镇社城村原供销社院", 37.1702, 113.1135, "07:30-18:00", "0354-6640101",
     ["助餐", "日间照料", "文化娱乐"], None),
    ("ct-shecheng", "canteen", "社城村驿站老年食堂", "榆社县", "社城镇", "社城村",
     "榆社县社城镇社城村原供销社院内", 37.1704, 113.1139, "06:30-18:30", "0354-6640102",
     ["助餐", "送餐"], "st-shecheng"),
    ("st-yunzhu", "station", "榆社县云竹镇云竹村居家养老服务驿站", "榆社县", "云竹镇", "云竹村",
     "榆社县云竹镇云竹村村委会旁", 36.9665, 112.8950, "08:00-17:30", "0354-6650101",
     ["日间照料", "文化娱乐"], None),
    ("st-nanguan", "station", "榆社县箕城镇南关村居家养老服务驿站", "榆社县", "箕城镇", "南关村",
     "榆社县箕城镇南关村南街12号", 37.0660, 112.9790, "08:00-17:30", "0354-6620101",
     ["日间照料", "助浴", "理发"], None),
    # 榆次区: embedded community model; 康乐社区 centre serves 130+ compounds.
    ("cc-kangle", "community_centre", "榆次区晋华街道康乐社区养老服务中心", "榆次区", "晋华街道", "康乐社区",
     "晋中市榆次区晋华街道康乐社区", 37.6905, 112.7336, "08:00-17:30", "0354-3060101",
     ["助餐", "日间照料", "多功能厅", "阅览室", "乒乓球室", "棋牌室", "老年大学", "健康监测"], None),
    ("ct-kangle", "canteen", "康乐社区养老服务中心老年餐厅", "榆次区", "晋华街道", "康乐社区",
     "晋中市榆次区晋华街道康乐社区养老服务中心一层", 37.6906, 112.7339, "07:00-19:00", "0354-3060102",
     ["助餐", "送餐"], "cc-kangle"),
    ("cc-zanjia", "community_centre", "咱家智慧社区居家养老服务中心", "榆次区", "锦纶街道", "锦纶社区",
     "晋中市榆次区锦纶街道锦纶社区", 37.6998, 112.7465, "08:00-18:00", "0354-3070101",
     ["智慧养老平台", "助餐", "日间照料", "健康监测", "康复理疗"], None),
    ("ct-zanjia", "canteen", "咱家智慧社区长者食堂", "榆次区", "锦纶街道", "锦纶社区",
     "晋中市榆次区锦纶街道锦纶社区咱家中心一层", 37.6999, 112.7468, "07:00-19:00", "0354-3070102",
     ["助餐", "送餐"], "cc-zanjia"),
    ("hs-jinhua", "health_station", "晋华街道社区卫生服务站", "榆次区", "晋华街道", "康乐社区",
     "晋中市榆次区晋华街道康乐社区北门", 37.6921, 112.7302, "08:00-20:00", "0354-3060130",
     ["量血压", "测血糖", "家庭医生签约", "慢病随访"], None),
    # 灵石县: mountain mutual-aid model, 107 幸福小院.
    ("hy-duanjiazhuang", "happiness_yard", "灵石县两渡镇段家庄村幸福小院", "灵石县", "两渡镇", "段家庄村",
     "灵石县两渡镇段家庄村中街", 36.9012, 111.7988, "07:00-17:00", "0354-7620101",
     ["助餐", "互助养老", "文化娱乐", "乒乓球"], None),
    ("ct-duanjiazhuang", "canteen", "段家庄村幸福小院老年餐桌", "灵石县", "两渡镇", "段家庄村",
     "灵石县两渡镇段家庄村中街幸福小院内", 36.9013, 111.7990, "06:30-18:00", "0354-7620102",
     ["助餐"], "hy-duanjiazhuang"),
    ("hy-jingsheng", "happiness_yard", "灵石县静升镇静升村幸福小院", "灵石县", "静升镇", "静升村",
     "灵石县静升镇静升村东堡巷", 36.8748, 111.8987, "07:30-17:00", "0354-7630101",
     ["互助养老", "文化娱乐", "理发"], None),
    ("hy-liangdu", "happiness_yard", "灵石县两渡镇两渡村幸福小院", "灵石县", "两渡镇", "两渡村",
     "灵石县两渡镇两渡村南街", 36.9065, 111.7865, "07:30-17:00", "0354-7620201",
     ["互助养老", "文化娱乐"], None),
    # 长治: 金融社区 canteen ("在家门口就能吃上热乎饭") and 460 rural day-care centres.
    ("st-jinrong", "station", "潞州区太东街道金融社区养老服务站", "潞州区", "太东街道", "金融社区",
     "长治市潞州区太东街道金融社区", 36.1957, 113.1230, "08:00-18:00", "0355-2020101",
     ["日间照料", "健身", "棋牌室"], None),
    ("ct-jinrong", "canteen", "潞州区太东街道金融社区食堂", "潞州区", "太东街道", "金融社区",
     "长治市潞州区太东街道金融社区养老服务站旁", 36.1953, 113.1235, "07:00-19:00", "0355-2020102",
     ["助餐", "送餐"], "st-jinrong"),
    ("dc-xiliubei", "day_care", "潞城区辛安泉镇西流北村老年日间照料中心", "潞城区", "辛安泉镇", "西流北村",
     "长治市潞城区辛安泉镇西流北村", 36.4262, 113.3908, "07:30-17:30", "0355-6020101",
     ["助餐", "日间照料", "文化娱乐"], None),
    ("ct-xiliubei", "canteen", "西流北村日间照料中心食堂", "潞城区", "辛安泉镇", "西流北村",
     "长治市潞城区辛安泉镇西流北村日间照料中心内", 36.4263, 113.3911, "06:30-18:00", "0355-6020102",
     ["助餐", "送餐"], "dc-xiliubei"),
]

# Canteens in villages are smaller and cheaper than those in city communities.
URBAN_CANTEENS = {"ct-kangle", "ct-zanjia", "ct-jinrong"}
# meal: (serve_from, capacity village, capacity urban, price village, subsidised village, price urban, subsidised urban)
MEAL_PLAN = {
    "breakfast": ("07:00", 30, 40, 400, 300, 500, 300),
    "lunch": ("11:30", 40, 80, 1000, 600, 1200, 800),
    "dinner": ("17:30", 25, 40, 800, 500, 1000, 600),
}

S, LS, LG = "soft", "low_salt", "low_sugar"
DISHES = {
    "breakfast": [
        ("小米粥", (S, LS, LG)), ("蒸鸡蛋羹", (S, LS, LG)), ("花卷", (S, LG)), ("南瓜小米粥", (S, LS)),
        ("煮鸡蛋", (LS, LG)), ("玉米面窝头", (LS, LG)), ("豆腐脑", (S,)), ("红枣发糕", (S,)),
        ("黄米粥", (S, LS)), ("白菜猪肉包子", (S,)), ("无糖豆浆", (S, LS, LG)), ("凉拌土豆丝", (LG,)),
    ],
    "lunch": [
        ("刀削面", (S,)), ("莜面栲栳栳", (LG,)), ("炖豆腐", (S, LS, LG)), ("西红柿炒鸡蛋", (S, LG)),
        ("蒸南瓜", (S, LS)), ("过油肉", ()), ("山药炖排骨", (S,)), ("清炒西葫芦", (LS, LG)),
        ("白菜炖粉条", (S, LS)), ("小米饭", (LS, LG)), ("猫耳朵", (S,)), ("清蒸鱼", (S, LS, LG)),
        ("剔尖", (S,)), ("蒜蓉油麦菜", (LS, LG)), ("土豆烧鸡块", (S,)), ("大米饭", (S, LS, LG)),
    ],
    "dinner": [
        ("山西大烩菜", (S,)), ("小米粥", (S, LS, LG)), ("荞面碗托", (LG,)), ("山药粥", (S, LS)),
        ("蒸馒头", (S, LS, LG)), ("疙瘩汤", (S, LS)), ("拨鱼儿", (S,)), ("凉拌黄瓜", (LS, LG)),
        ("蒸红薯", (S, LS)), ("炒土豆丝", (LG,)), ("西红柿鸡蛋面片汤", (S, LS)), ("炖冬瓜", (S, LS, LG)),
    ],
}
DISHES_PER_MEAL = {"breakfast": 3, "lunch": 4, "dinner": 3}

# place key -> county, township, village, lat, lon, address prefix
PLACES = {
    "zhaowang": ("榆社县", "北寨乡", "赵王村", 37.0418, 113.0860, "榆社县北寨乡赵王村"),
    "beizhai": ("榆社县", "北寨乡", "北寨村", 37.0565, 113.0705, "榆社县北寨乡北寨村"),
    "shecheng": ("榆社县", "社城镇", "社城村", 37.1695, 113.1128, "榆社县社城镇社城村"),
    "yunzhu": ("榆社县", "云竹镇", "云竹村", 36.9670, 112.8958, "榆社县云竹镇云竹村"),
    "nanguan": ("榆社县", "箕城镇", "南关村", 37.0652, 112.9795, "榆社县箕城镇南关村"),
    "kangle": ("榆次区", "晋华街道", "康乐社区", 37.6898, 112.7328, "晋中市榆次区晋华街道康乐社区"),
    "zanjia": ("榆次区", "锦纶街道", "锦纶社区", 37.7003, 112.7472, "晋中市榆次区锦纶街道锦纶社区"),
    "duanjiazhuang": ("灵石县", "两渡镇", "段家庄村", 36.9008, 111.7995, "灵石县两渡镇段家庄村"),
    "jingsheng": ("灵石县", "静升镇", "静升村", 36.8752, 111.8979, "灵石县静升镇静升村"),
    "jinrong": ("潞州区", "太东街道", "金融社区", 36.1949, 113.1241, "长治市潞州区太东街道金融社区"),
    "xiliubei": ("潞城区", "辛安泉镇", "西流北村", 36.4256, 113.3902, "长治市潞城区辛安泉镇西流北村"),
}
# Administrative division codes, only to make the (hashed, never stored) demo ID numbers realistic.
DIVISION_CODES = {"榆社县": "140721", "榆次区": "140702", "灵石县": "140729", "潞州区": "140403", "潞城区": "140406"}

# id, name, gender, age at first seeding, place, address detail, lives_alone, disability, special_hardship,
# home canteen, home station, phone (demo)
RESIDENTS = [
    ("r-0001", "王桂兰", "女", 82, "zhaowang", "东街3号", True, 0, False, "ct-zhaowang", "st-zhaowang", "13835410001"),
    ("r-0002", "李福生", "男", 76, "kangle", "九普小区5号楼2单元301", False, 0, False, "ct-kangle", "cc-kangle", "13935420002"),
    ("r-0003", "赵满仓", "男", 91, "zhaowang", "西街11号", False, 1, False, "ct-zhaowang", "st-zhaowang", "13835410003"),
    ("r-0004", "郝秀英", "女", 101, "zhaowang", "后街2号", False, 2, False, "ct-zhaowang", "st-zhaowang", None),
    ("r-0005", "张二旦", "男", 67, "beizhai", "南巷7号", True, 0, True, "ct-zhaowang", "st-beizhai", "15035410005"),
    ("r-0006", "田桂花", "女", 88, "shecheng", "前街19号", False, 1, False, "ct-shecheng", "st-shecheng", "13835420006"),
    ("r-0007", "武成林", "男", 73, "yunzhu", "坡底4号", True, 0, False, None, "st-yunzhu", "13835430007"),
    ("r-0008", "刘玉梅", "女", 85, "nanguan", "南街25号", True, 1, False, None, "st-nanguan", "13835440008"),
    ("r-0009", "孙建华", "男", 63, "kangle", "九普小区2号楼1单元502", False, 0, False, "ct-kangle", "cc-kangle", "13935420009"),
    ("r-0010", "陈淑珍", "女", 94, "kangle", "康乐小区8号楼1单元101", False, 2, True, "ct-kangle", "cc-kangle", "13935420010"),
    ("r-0011", "杨志刚", "男", 80, "zanjia", "锦纶小区3号楼4单元202", False, 0, False, "ct-zanjia", "cc-zanjia", "13935420011"),
    ("r-0012", "吴凤英", "女", 69, "zanjia", "锦纶小区6号楼2单元401", False, 0, False, "ct-zanjia", "cc-zanjia", "13935420012"),
    ("r-0013", "段福贵", "男", 84, "duanjiazhuang", "中街8号", True, 1, False, "ct-duanjiazhuang", "hy-duanjiazhuang", "13835450013"),
    ("r-0014", "段春兰", "女", 78, "duanjiazhuang", "北坡12号", False, 0, False, "ct-duanjiazhuang", "hy-duanjiazhuang", "13835450014"),
    ("r-0015", "王秋生", "男", 90, "jingsheng", "东堡巷6号", True, 1, False, None, "hy-jingsheng", "13835460015"),
    ("r-0016", "耿彩霞", "女", 72, "jingsheng", "西堡巷15号", False, 1, True, None, "hy-jingsheng", "13835460016"),
    ("r-0017", "王福全", "男", 68, "jinrong", "金融小区2号楼3单元301", False, 0, False, "ct-jinrong", "st-jinrong", "13935510017"),
    ("r-0018", "牛玉兰", "女", 83, "jinrong", "金融小区5号楼1单元102", True, 0, False, "ct-jinrong", "st-jinrong", "13935510018"),
    ("r-0019", "申二虎", "男", 79, "xiliubei", "东巷9号", True, 1, True, "ct-xiliubei", "dc-xiliubei", "13835520019"),
    ("r-0020", "李翠萍", "女", 97, "xiliubei", "西巷3号", False, 3, True, "ct-xiliubei", "dc-xiliubei", None),
    ("r-0021", "常富贵", "男", 86, "nanguan", "北街7号", False, 0, False, None, "st-nanguan", "13835440021"),
    ("r-0022", "冯巧云", "女", 65, "beizhai", "北巷21号", False, 0, False, "ct-zhaowang", "st-beizhai", "15035410022"),
    ("r-0023", "贾存良", "男", 99, "shecheng", "后街5号", False, 2, False, "ct-shecheng", "st-shecheng", "13835420023"),
    ("r-0024", "秦月娥", "女", 92, "kangle", "康乐小区2号楼3单元201", True, 1, False, "ct-kangle", "cc-kangle", "13935420024"),
]

# id, resident, name, relation, phone, consent
FAMILY = [
    ("f-0001", "r-0001", "张建国", "儿子", "13835411001", True),
    ("f-0002", "r-0001", "李秀梅", "儿媳", "13935411002", False),
    ("f-0003", "r-0002", "李红霞", "女儿", "15035421003", True),
    ("f-0004", "r-0002", "刘淑芬", "老伴", "13703541004", True),
    ("f-0005", "r-0003", "赵小军", "孙子", "18635411005", True),
    ("f-0006", "r-0004", "郝建平", "儿子", "13835411006", True),
    ("f-0007", "r-0010", "陈立新", "儿子", "13935421007", True),
    ("f-0008", "r-0013", "段志强", "侄子", "13835451008", True),
    ("f-0009", "r-0015", "王海燕", "女儿", "13835461009", False),
    ("f-0010", "r-0017", "王晓东", "儿子", "13935511010", True),
    ("f-0011", "r-0019", "申秀兰", "邻居", "13835521011", True),
    ("f-0012", "r-0020", "李国庆", "外甥", "13835521012", True),
    ("f-0013", "r-0024", "秦建设", "儿子", "13935421013", True),
    ("f-0014", "r-0018", "牛丽娟", "女儿", "13935511014", True),
    # 张建国 is also 张二旦's nephew; his web account (below) is linked to both rows. No phone on this row:
    # his number stays r-0001's son's, so a call from it names 王桂兰 only.
    ("f-0015", "r-0005", "张建国", "侄子", None, True),
]

PROGRAMMES = [
    ("gaoling", "高龄津贴",
     "80周岁及以上老年人普惠发放，按月到账。演示金额（非官方标准）：80至89岁每月50元，90至99岁每月100元，100岁及以上每月300元。",
     {"min_age": 80, "demo_amounts": True, "bands": [
         {"min_age": 80, "max_age": 89, "amount_cents": 5000},
         {"min_age": 90, "max_age": 99, "amount_cents": 10000},
         {"min_age": 100, "amount_cents": 30000}]}),
    ("shineng", "经济困难失能老年人补贴",
     "经济困难且经评估失能的60周岁及以上老年人按月补贴。演示金额（非官方标准）：中度失能每月100元，重度失能每月200元。",
     {"min_age": 60, "requires": ["special_hardship"], "min_disability": 2, "demo_amounts": True, "bands": [
         {"min_disability": 3, "amount_cents": 20000},
         {"min_disability": 2, "amount_cents": 10000}]}),
    ("shilaohua", "适老化改造",
     "为特殊困难老年人家庭免费做适老化改造（扶手、防滑、坐便椅等），需先上门评估。",
     {"min_age": 60, "requires": ["special_hardship"], "assessment": True}),
    ("tanfang", "探访关爱",
     "对独居、特困和高龄老年人定期上门或电话探访，了解身体和生活情况。",
     {"min_age": 60, "any_of": [{"requires": ["lives_alone"]}, {"requires": ["special_hardship"]}, {"min_age": 80}]}),
]

# resident, programme, status, applied months ago, decided after days (None: undecided)
APPLICATIONS = [
    ("r-0001", "gaoling", "approved", 7, 12),
    ("r-0003", "gaoling", "approved", 4, 10),
    ("r-0004", "gaoling", "approved", 5, 9),
    ("r-0010", "gaoling", "approved", 6, 14),
    ("r-0010", "shineng", "approved", 3, 20),
    ("r-0010", "shilaohua", "reviewing", 0, None),
    ("r-0020", "gaoling", "approved", 8, 11),
    ("r-0020", "shineng", "reviewing", 1, None),
    ("r-0006", "gaoling", "submitted", 0, None),
    ("r-0019", "tanfang", "approved", 2, 5),
    ("r-0016", "shilaohua", "approved", 3, 30),
    ("r-0009", "gaoling", "rejected", 2, 15),
]

SERVICE_TYPES = [
    ("haircut", "理发"), ("bathing", "助浴"), ("cleaning", "保洁"), ("medicine", "送药"), ("escort", "陪诊"),
    ("repair", "维修"), ("meal_delivery", "送餐"), ("companionship", "陪聊"), ("laundry", "洗衣"),
]

# facility, title, weekdays, start, end, description
ACTIVITIES = [
    ("cc-kangle", "老年大学·书法班", (0,), "09:00", "10:30", "毛笔楷书入门，笔墨纸砚中心提供"),
    ("cc-kangle", "老年大学·晋剧唱腔班", (1,), "09:00", "10:30", "晋剧经典唱段教唱"),
    ("cc-kangle", "老年大学·智能手机班", (2,), "09:00", "10:30", "微信视频、扫码、防诈骗"),
    ("cc-kangle", "老年大学·国画班", (3,), "09:00", "10:30", "花鸟画基础"),
    ("cc-kangle", "老年大学·太极拳", (4,), "09:00", "10:30", "二十四式太极拳，多功能厅"),
    ("cc-kangle", "棋牌室开放", (0, 1, 2, 3, 4, 5, 6), "14:30", "17:00", "象棋、扑克、麻将"),
    ("cc-kangle", "乒乓球活动", (1, 3), "15:00", "16:30", "乒乓球室，自带球拍或借用"),
    ("cc-kangle", "阅览室读报", (0, 2, 4), "14:00", "16:00", "报纸杂志、大字书"),
    ("cc-kangle", "健康讲座", (5,), "09:30", "11:00", "社区卫生服务站医生主讲"),
    ("cc-zanjia", "智能手环使用课", (2,), "10:00", "11:00", "心率血压血氧手环怎么戴、怎么看"),
    ("cc-zanjia", "手工编织", (4,), "15:00", "16:30", "毛线编织、串珠"),
    ("hy-duanjiazhuang", "围坐欢唱", (0, 2, 4), "08:30", "09:30", "早饭后一起唱老歌"),
    ("hy-duanjiazhuang", "乒乓球切磋", (1, 3, 5), "09:00", "10:30", "院里乒乓球台"),
    ("hy-jingsheng", "秧歌排练", (1,), "09:00", "10:30", "晋中秧歌"),
    ("hy-jingsheng", "剪纸", (3,), "14:30", "16:00", "窗花剪纸"),
    ("hy-liangdu", "拉家常茶话会", (2,), "14:30", "16:00", "邻里互助，聊聊家常"),
    ("st-zhaowang", "量血压", (0, 3), "09:00", "10:00", "村医到驿站量血压、测血糖"),
    ("st-zhaowang", "戏曲欣赏", (2,), "14:30", "16:00", "看晋剧、听评书"),
    ("st-shecheng", "健身操", (1, 4), "09:00", "10:00", "适合老年人的健身操"),
    ("st-jinrong", "健身锻炼", (0, 1, 2, 3, 4), "08:30", "09:30", "器械锻炼、八段锦"),
    ("st-jinrong", "下棋", (0, 1, 2, 3, 4, 5, 6), "14:00", "17:00", "象棋、围棋"),
    ("dc-xiliubei", "手工课", (1,), "14:30", "16:00", "编草编、做布鞋"),
    ("dc-xiliubei", "拉家常", (3,), "14:30", "16:00", "三五成群聊家常"),
]

# measure, low1, high1, low2, high2
THRESHOLDS = [
    ("bp", 90.0, 140.0, 60.0, 90.0),
    ("glucose", 3.9, 7.0, None, None),
    ("heart_rate", 50.0, 100.0, None, None),
    ("temperature", 36.0, 37.3, None, None),
    ("spo2", 94.0, None, None, None),
]
# Doctor-set targets for particular residents (a looser systolic target for a frail 94-year-old).
THRESHOLD_OVERRIDES = [("r-0010", "bp", 90.0, 150.0, 60.0, 90.0)]

OPERATORS = [("op-01", "赵丽", "operator"), ("op-02", "孙伟", "operator"), ("op-09", "周志明", "supervisor")]

# Web sign-ins (family page, operator console): user name, display name, kind, operator, family rows.
# DEMO ONLY: every demo account has the password below; change or disable them before real use.
DEMO_PASSWORD = "yinling-demo-2026"
ACCOUNTS = [
    ("zhang.jianguo", "张建国", "family", None, ("f-0001", "f-0015")),
    ("li.hongxia", "李红霞", "family", None, ("f-0003",)),
    ("op.li", "赵丽", "operator", "op-01", ()),
    ("sup.wang", "周志明", "operator", "op-09", ()),
]
