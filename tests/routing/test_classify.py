"""The classifier names the business a complaint is against, not every trade the story mentions."""

import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def classify(router):
    return router.classifier.classify


def roles(result):
    return {term: role for term, _, role in result.incidental}


def test_a_grocery_selling_a_workshops_snacks_is_a_grocery(classify):
    result = classify("我在村口一家小卖部买的饼干过期了，老板说是从镇上一个作坊进的货。")
    assert result.industry == "grocery"
    assert roles(result) == {"作坊": "supplier"}
    assert result.ambiguous == []


def test_what_a_supplier_made_or_delivered_is_not_the_subject(classify):
    result = classify("在一家早餐摊买的包子是馊的，摊主说包子是食品厂送来的。")
    assert result.industry == "restaurant"
    assert roles(result)["食品厂"] == "supplier"


def test_a_workshop_selling_to_markets_and_small_restaurants_is_a_food_processor(classify):
    result = classify("村里有个家庭作坊做年糕，卫生很差，做好的年糕每天卖给周边菜场和小饭店。")
    assert result.industry == "food_processing"
    assert set(roles(result)) == {"菜场", "小饭店"}
    assert result.ambiguous == []


def test_goods_taken_to_a_market_to_sell_do_not_make_a_market_case(classify):
    result = classify("有户人家在家里做豆腐，没有证照，每天早上拉到镇上菜场去卖。")
    assert result.industry == "food_processing"
    assert roles(result)["菜场"] == "customer"


def test_a_landmark_is_not_the_business(classify):
    result = classify("菜场门口那家理发店剪个头收了八十块，说好的二十。")
    assert result.industry == "beauty_salon"
    assert roles(result) == {"菜场": "landmark"}


def test_a_neighbour_is_not_the_business(classify):
    result = classify("镇上那家农资店卖的化肥是假的，庄稼都烧死了，隔壁是一家小饭店。")
    assert result.industry == "farm_inputs"
    assert roles(result) == {"小饭店": "neighbour"}


def test_a_comparison_is_not_the_business(classify):
    result = classify("这家药店的感冒药比超市贵一倍，还不给发票。")
    assert result.industry == "pharmacy"
    assert roles(result) == {"超市": "comparison"}


def test_a_clinic_dearer_than_a_pharmacy_is_not_a_pharmacy(classify):
    result = classify("在镇上一家私人诊所挂水，开的药比药店贵了一倍。")
    assert result.industry == "other"


def test_the_business_name_outweighs_the_goods(classify):
    result = classify("在店里买了一瓶洗发水，用了以后头皮过敏。", "阿芳理发店")
    assert result.industry == "beauty_salon"


def test_a_plain_case_has_no_rival(classify):
    result = classify("一家小饭店的菜里吃出了虫子，老板不肯退钱。")
    assert (result.industry, result.ambiguous, result.incidental) == ("restaurant", [], [])
    assert result.confidence >= 0.9


def test_a_snack_bar_keeping_lpg_cylinders_may_be_either(classify):
    result = classify("一家小吃店厨房里堆了十几个液化气钢瓶，有的还漏气。")
    assert set(result.ambiguous) == {"restaurant", "lpg_supply"}


def test_a_shop_selling_another_trades_goods_may_be_either(classify):
    result = classify("村里一家小卖部偷偷在卖农药，小孩子也能买到。")
    assert set(result.ambiguous) == {"grocery", "farm_inputs"}


def test_a_chain_is_not_a_rival_trade(classify):
    result = classify("在一家全国连锁的奶茶店买的奶茶里有头发。")
    assert "other" not in result.ambiguous


CASE = {
    "text": "斜桥镇一家小吃店厨房里堆了十几个液化气钢瓶，有的还漏气。",
    "business_name": None,
    "address": None,
    "caller_phone": None,
}


def test_two_trades_equally_the_subject_go_to_triage_naming_both(router):
    decision = router.decide(CASE)
    assert decision.triage
    doubt = [r for r in decision.reasons if "两个行业同为被投诉对象" in r]
    assert len(doubt) == 1 and "小餐饮店" in doubt[0] and "小液化气供应点" in doubt[0]


def test_reasons_say_why_a_mentioned_trade_is_set_aside(router):
    decision = router.decide({**CASE, "text": "斜桥镇一家小卖部卖的饼干过期了，老板说是从一个作坊进的货。"})
    assert decision.industry == "grocery" and not decision.triage
    assert "'作坊'是进货来源，不是被投诉的店" in decision.reasons


def test_the_router_core_imports_no_web_or_database_code():
    code = (
        "import sys, routing.router.classify, routing.router.decide; "
        "print([m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'intake')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_on_equal_weight_the_business_named_leads(classify):
    result = classify("那家小店卖的菜籽油是地沟油炼的。")
    assert result.industry == "grocery"


def test_where_the_complainant_bought_is_the_subject_not_a_supplier(classify):
    result = classify("我在镇上药店买的感冒药是假的，吃了没用。")
    assert result.industry == "pharmacy" and result.incidental == []


@pytest.mark.parametrize(
    "text",
    [
        "我们村的小卖部老板从一个小作坊进了一批辣条，都没有生产日期。",
        "小卖部卖的辣条没有生产日期，老板说是在一个小作坊进的货。",
    ],
)
def test_the_shop_restocked_from_a_workshop_is_the_subject(classify, text):
    result = classify(text)
    assert result.industry == "grocery" and result.ambiguous == []
    assert roles(result)["小作坊"] == "supplier"


def test_a_shop_introduced_beside_a_landmark_is_the_subject(classify):
    result = classify("学校旁边有个小卖部，卖的辣条都是三无产品。")
    assert result.industry == "grocery" and result.incidental == []


def test_bought_from_a_pharmacy_by_a_salon_is_its_supplier(classify):
    result = classify("美容店给顾客打针，针剂是从药店买的。")
    assert result.industry == "beauty_salon"
    assert roles(result) == {"药店": "supplier"}
