"""The router marks every reason the caller's number gave, and says each without it too."""

from types import SimpleNamespace

from routing.router import fuzzy
from routing.router.reasons import PHONE_DOUBT, PHONE_HINT, PhoneReason, from_phone, prefixed, public_wording

MEIYUAN_SHOP = "梅园村口那家小卖部卖的饼干全是过期的"  # 梅园: a village of four townships, one in 永嘉
DONGCHENG = "330324001"  # 东城街道, 永嘉县 (温州)


def decide(router, text, phone):
    return router.decide({"text": text, "business_name": None, "address": None, "caller_phone": phone})


def phone_parts(d) -> list[str]:
    return [str(r) for r in d.reasons if from_phone(r)]


def public(d) -> str:
    return "；".join(public_wording(r) for r in d.reasons)


def test_a_landlines_area_code_that_settles_a_village_is_marked(router):
    d = decide(router, MEIYUAN_SHOP, "0577-67001234")
    assert d.township == DONGCHENG
    assert phone_parts(d) == ["来电区号0577 → 浙江省温州市，只剩东城街道"]
    assert "0577" not in public(d) and "温州" not in public(d) and PHONE_HINT in public(d)
    assert "描述中'梅园村' → 东城街道" in public(d)  # what the story said stays as it was


def test_a_mobiles_region_is_marked_in_the_reason_and_in_the_doubt_it_raises(router):
    d = decide(router, MEIYUAN_SHOP, "+8613857701234")
    assert d.triage and d.township == DONGCHENG
    assert len(phone_parts(d)) == 2 and "1385770" in phone_parts(d)[0]
    assert f"转人工分拨：{PHONE_DOUBT}" in public(d)
    assert "1385770" not in public(d) and "手机号" not in public(d) and "温州" not in public(d)


def test_villages_left_by_a_mobiles_region_are_said_in_full_without_it(router):
    d = decide(router, MEIYUAN_SHOP, "+8613957348862")  # a 嘉兴 mobile: three of the four are left
    assert d.triage and len(d.candidates) == 3 and DONGCHENG not in d.candidates
    assert sorted(d.public_candidates) == sorted([*d.candidates, DONGCHENG])
    assert any("'梅园村'有3处" in r for r in phone_parts(d))
    assert "'梅园村'有4处" in public(d) and "嘉兴" not in public(d)


def test_a_landline_against_a_bare_name_and_one_from_another_city_are_marked(router):
    far = decide(router, "桥头那家小饭店用地沟油炒菜", "0573-83001234")
    assert far.township == "330324102" and any("0573" in r for r in phone_parts(far))
    other_city = decide(router, "在新丰镇一家小饭店吃饭，菜里有苍蝇", "0518-82279931")
    assert other_city.triage and any("0518" in r for r in phone_parts(other_city))
    for d in (far, other_city):
        assert "05" not in public(d) and "嘉兴" not in public(d) and "连云港" not in public(d)


def test_without_a_phone_nothing_is_marked(router):
    d = decide(router, MEIYUAN_SHOP, None)
    assert phone_parts(d) == [] and d.public_candidates is None


def test_a_fuzzy_name_narrowed_by_the_landline_is_a_doubt_said_without_it():
    gaz = SimpleNamespace(name=lambda c: {"t1": "甲镇", "t2": "乙镇", "t3": "丙镇"}[c], level=lambda c: "township")
    g = SimpleNamespace(text="甲真")
    problem, candidates = fuzzy.doubt_problem(
        gaz, [(g, {"t1": "按读音", "t2": "按读音"}, {"t1": "按读音", "t2": "按读音", "t3": "按字形"})]
    )
    assert candidates == ["t1", "t2"] and from_phone(problem)
    assert "丙镇" not in problem and "丙镇" in public_wording(problem)
    assert fuzzy.public_candidates(gaz, [(g, {"t1": "", "t2": ""}, {"t1": "", "t2": "", "t3": ""})]) == [
        "t1",
        "t2",
        "t3",
    ]


def test_prefixing_keeps_the_mark():
    doubt = prefixed("转人工分拨：", PhoneReason("来电区号0518在江苏省连云港市", PHONE_DOUBT))
    assert from_phone(doubt) and doubt.public == f"转人工分拨：{PHONE_DOUBT}"
    assert not from_phone(prefixed("转人工分拨：", "行业不明"))
