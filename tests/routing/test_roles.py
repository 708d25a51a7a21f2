"""Roles of place mentions: where the shop is, not where the caller lives or works."""

import pytest


def decide(router, text, address=None, business_name=None, phone=None):
    return router.decide({"text": text, "address": address, "business_name": business_name, "caller_phone": phone})


def test_an_address_marked_as_the_callers_home_gives_way_to_the_shop_in_the_story(router):
    d = decide(router, "来电人反映：其家住长安镇，在许村镇一家饭店用餐，菜里有异物。", "海宁市长安镇（来电人住址）")
    assert d.township == "330481101"  # 许村镇
    assert any("来电人的住址" in r for r in d.reasons)


def test_the_story_saying_the_caller_lives_at_the_address_sets_it_aside(router):
    d = decide(router, "我是长安的，前几天到许村一家饭店吃饭，菜里有虫", "海宁市长安镇")
    assert not d.triage and d.township == "330481101"


def test_a_shop_next_to_the_callers_work_is_placed_by_that_address(router):
    d = decide(router, "地址是我公司的。公司大门对面那家快餐店的盒饭里有蟑螂。", "秀洲区新城街道（公司）")
    assert d.township == "330411002" and not any("乡镇/街道不能确定" in r for r in d.reasons)


def test_home_at_the_address_and_no_word_of_where_the_shop_is_goes_to_triage(router):
    d = decide(router, "我住在南湖区，上周出差在外地一家药店买到假药", "南湖区新兴街道")
    assert d.triage and d.township is None
    d = decide(router, "我家住瓯北，那家小吃店的馄饨吃坏了肚子", "永嘉县瓯北街道")
    assert d.triage and any("来电人的住处" in r for r in d.reasons)


def test_a_shop_by_the_callers_home_is_at_the_home_address(router):
    d = decide(router, "我家住瓯北，楼下那家小卖部卖过期牛奶", "永嘉县瓯北街道")
    assert not d.triage and d.township == "330324009"


def test_places_in_a_product_name_or_a_persons_origin_are_not_the_shop(router):
    d = decide(router, "武原街道一家烟杂店销售假冒“沈荡酱油”，我是沈荡人，一看就知道是假的。", "海盐县武原街道")
    assert d.township == "330424001" and not any("矛盾" in r for r in d.reasons)


def test_the_end_of_a_ride_is_not_where_the_bus_is_based(router):
    d = decide(router, "从新仓镇坐中巴到乍浦，司机途中超载，车是新仓镇客运站发的", "平湖市新仓镇")
    assert d.township == "330482103" and not any("矛盾" in r for r in d.reasons)


def test_a_village_the_township_does_not_have_is_a_contradiction(router):
    d = decide(router, "秀洲区王店镇梅园村有一家做酱鸭的作坊无证生产。", "秀洲区王店镇梅园村")
    assert d.triage and any("没有'梅园村'" in r for r in d.reasons)


def test_a_bare_name_that_is_also_another_townships_village_goes_to_triage(router):
    d = decide(router, "马桥那家理发店办卡不给退 老板跑了")
    assert d.triage and len(d.candidates) >= 2


@pytest.mark.parametrize(
    "text, address, township",
    [
        ("填的是我家地址，上周在许村镇一家饭店吃饭，菜里有虫", "海宁市长安镇", "330481101"),
        ("住址：海盐县沈荡镇。在武原街道一家理发店办卡不退", "海盐县沈荡镇", "330424001"),
    ],
)
def test_the_caller_saying_the_address_is_theirs_in_other_words(router, text, address, township):
    d = decide(router, text, address)
    assert not d.triage and d.township == township


@pytest.mark.parametrize(
    "text, address",
    [
        ("留的是单位的地址。我在上班路上一家早餐店买的包子馊了", "平湖市当湖街道"),
        ("上班路上经过一家早餐店，买的包子馊了", "平湖市当湖街道东湖社区 来电人住址"),
        ("来电人反映：其在回家路上一家小卖部买到过期饮料，店名不清楚", "嘉善县魏塘街道（住）"),
        ("在县城一家药店买的膏药贴了过敏", "永嘉县南城街道 家庭住址"),
    ],
)
def test_the_callers_own_address_and_a_shop_somewhere_unnamed_go_to_triage(router, text, address):
    d = decide(router, text, address)
    assert d.triage and d.township is None


@pytest.mark.parametrize(
    "text, township",
    [
        ("这家小卖部的东西是从海盐批发来的，都过期了，店在当湖街道", "330482001"),  # where the goods came from
        ("瓯北街道一家药店卖过期药，我后来去桥头镇医院看了病", "330324009"),  # where the caller went afterwards
        ("那家“乌镇酱鸭”店开在梧桐街道，鸭子是臭的", "330483001"),  # a place in the shop's name
    ],
)
def test_places_that_are_not_where_the_shop_is_do_not_move_it(router, text, township):
    d = decide(router, text)
    assert not d.triage and d.township == township


def test_a_community_named_like_another_township_is_a_guess(router):
    d = decide(router, "西塘社区门口的小饭店，红烧肉是隔夜的")
    assert d.triage and "330421103" in d.candidates  # 西塘镇 is offered beside 西塘桥街道's 西塘社区


def test_a_landline_in_another_city_makes_a_township_named_alone_a_guess(router):
    assert decide(router, "大桥镇一家小卖部卖假洗发水", phone="0518-85551234").triage
    d = decide(router, "桥头镇一家小卖部卖过期饼干", phone="0577-67123456")
    assert not d.triage and d.township == "330324102"
