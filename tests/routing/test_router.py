"""The router as a dispatcher sees it: where cases go, when they go to triage, and why."""

from routing.router.classify import Classifier
from routing.router.evaluate import build_router_from_reference_files, evaluate
from routing.router.gazetteer import Gazetteer
from tests.routing.conftest import sample_divisions

MEIYUAN = {"330324001", "330481002", "330482001", "330483101"}  # 梅园: 东城, 海洲, 当湖, 濮院


def decide(router, text, business_name=None, address=None, caller_phone=None):
    return router.decide(
        {
            "text": text,
            "business_name": business_name,
            "address": address,
            "caller_phone": caller_phone,
            "kind": "complaint",
            "channel": "sms",
        }
    )


# --- places written the way people write them ---------------------------------


def test_township_written_without_its_suffix_is_found(router):
    d = decide(router, "斜桥那家小饭店的菜里吃出一根铁丝，老板还不认")
    assert not d.triage
    assert (d.industry, d.township, d.lead_department) == ("restaurant", "330481107", "market")


def test_village_written_without_its_suffix_is_filled_in(router):
    d = decide(router, "店里卖的酱油过期半年了", business_name="阿明食杂店", address="海盐县沈荡镇中钱")
    assert d.township == "330424101" and d.village == "330424101205"


def test_traditional_characters_are_read_as_simplified(router):
    d = decide(router, "碧蓮鎮老街一家藥店賣過期的感冒藥，店員還說沒關係")
    assert not d.triage
    assert (d.industry, d.township) == ("pharmacy", "330324106")


def test_the_shop_counts_not_where_the_caller_lives(router):
    d = decide(router, "我住在海洲街道，上个月在袁花镇一家理发店烫头，头皮烫伤了")
    assert not d.triage and d.township == "330481112"


def test_a_road_the_divisions_do_not_name_leaves_the_township_unknown(router):
    d = decide(router, "三港路上那家药店卖的口罩是假的", address="平湖市三港路")
    assert d.triage and d.township is None and d.county == "330482"
    assert d.industry == "pharmacy" and d.lead_department == "market"


# --- village names that several townships share -------------------------------


def test_shared_village_name_alone_goes_to_triage_with_candidates(router):
    d = decide(router, "梅园村口那家小卖部卖的饼干全是过期的")
    assert d.triage and d.township is None
    assert set(d.candidates) == MEIYUAN
    assert d.industry == "grocery"
    assert any("梅园" in r and "4处" in r for r in d.reasons)


def test_shared_village_name_with_its_township_is_routed(router):
    d = decide(router, "濮院镇梅园社区有家药店卖处方药不要处方")
    assert not d.triage
    assert (d.township, d.village) == ("330483101", "330483101017")


def test_caller_area_code_picks_the_county(router):
    d = decide(router, "梅园村口那家小卖部卖的饼干全是过期的", caller_phone="0577-67001234")
    assert d.township == "330324001" and not d.candidates  # the dispatcher's one guess
    assert any("0577" in r for r in d.reasons)


def test_area_code_that_only_narrows_keeps_the_case_in_triage(router):
    d = decide(router, "梅园村口那家小卖部卖的饼干全是过期的", caller_phone="0573-83001234")
    assert d.triage
    assert set(d.candidates) == MEIYUAN - {"330324001"}


# --- contradictions and routes --------------------------------------------------


def test_address_and_story_naming_different_townships_go_to_triage(router):
    d = decide(router, "在天凝镇一家饭店吃饭，鱼是臭的", business_name="老街饭店", address="嘉善县姚庄镇")
    assert d.triage
    assert set(d.candidates) == {"330421111", "330421112"}
    assert any("矛盾" in r for r in d.reasons)


def test_a_line_between_two_townships_goes_to_triage(router):
    d = decide(router, "石门到崇福的中巴天天超载，过道里都站满了人")
    assert d.triage and d.industry == "passenger_transport" and d.township is None


def test_where_the_van_starts_counts_when_the_other_end_is_no_township(router):
    d = decide(router, "河山到市区的面包车一车塞十几个人")
    assert d.township == "330483104" and not any("矛盾" in r or "线路" in r for r in d.reasons)


# --- industries -------------------------------------------------------------------


def test_big_supermarket_chain_is_not_one_of_the_ten_and_goes_to_triage(router):
    d = decide(router, "在沃尔玛买的冷冻水饺化冻了又冻上", business_name="沃尔玛超市", address="秀洲区嘉北街道")
    assert d.triage and d.industry == "other" and d.lead_department is None
    assert d.township == "330411003"  # the dispatcher still sees where it is


def test_online_shopping_is_not_one_of_the_ten(router):
    d = decide(router, "在拼多多上买的复合肥，撒下去庄稼全烧了", address="海宁市丁桥镇")
    assert d.triage and d.industry == "other"


def test_a_story_that_never_says_what_the_shop_sells_goes_to_triage(router):
    d = decide(router, "王店镇一家店的老板态度恶劣，收了钱不给发票")
    assert d.triage and d.industry is None and d.township == "330411105"


def test_business_name_outweighs_words_in_the_story(router):
    d = decide(router, "店里给客人烫发用的药水是三无的，还卖饮料", business_name="丽人美发", address="桐乡市高桥街道")
    assert (d.industry, d.lead_department, d.co_handlers) == ("beauty_salon", "commerce", ["health", "market"])


def test_the_shop_a_workshop_supplies_is_not_the_business(router):
    d = decide(router, "有人在家里开作坊做肉丸，批发给周边的小吃店和饭店", address="南湖区七星街道")
    assert d.industry == "food_processing"


# --- reasons ------------------------------------------------------------------------


def test_routed_case_carries_plain_reasons(router):
    d = decide(router, "举报一家农资店卖没有登记证的农药", business_name="丰收农资店", address="平湖市广陈镇")
    assert not d.triage
    assert "'农资店' → 小农资店" in d.reasons
    assert "地址中'广陈镇' → 广陈镇" in d.reasons
    assert any("农业农村局牵头" in r for r in d.reasons)
    assert 0 < d.confidence <= 1


def test_triaged_case_says_why(router):
    d = decide(router, "有家店卖假货")
    assert d.triage and any(r.startswith("转人工分拨") for r in d.reasons)


# --- building blocks ----------------------------------------------------------------


def test_gazetteer_prefers_the_longest_name_and_takes_aliases():
    village = {"code": "339901100001", "name": "上桥头村委会", "level": "village", "parent_code": "339901100"}
    g = Gazetteer.from_rows(sample_divisions("老桥头", extra=(village,)))
    assert [(m.text, m.code) for m in g.find("上桥头村口")] == [("上桥头村", "339901100001")]
    assert [m.code for m in g.find("老桥头那边")] == ["339901100"]
    assert g.county_of("339901100001") == "339901"
    assert g.townships_of("339901") == ["339901100"]


def test_vocabulary_is_data_and_neutral_phrases_shield_short_words():
    c = Classifier(
        [("药店", "pharmacy", 3), ("医药", "pharmacy", 1.5), ("医药费", "other", 0), ("理发", "beauty_salon", 3)]
    )
    result = c.classify("理发时划伤了，要求赔医药费", None)
    assert result.industry == "beauty_salon"
    assert all(term != "医药" for term, _, _ in result.evidence)


def test_evaluation_counts_precision_coverage_and_triage_recall(router):
    cases = [
        {
            "id": "a",
            "text": "斜桥那家小饭店的菜不新鲜",
            "expect": {"triage": False, "industry": "restaurant", "township": "330481107", "lead_department": "market"},
        },
        {
            "id": "b",
            "text": "有家店卖假货",
            "expect": {"triage": True, "industry": None, "township": None, "lead_department": None},
        },
    ]
    report = evaluate(build_router_from_reference_files(threshold=0.0), cases)
    assert (report.precision, report.coverage, report.triage_recall) == (1.0, 1.0, 1.0)
    assert report.mistakes == []
