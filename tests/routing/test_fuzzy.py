"""Place names as people write them: what a dispatcher would notice about fuzzy matches."""

import pytest
import sqlalchemy as sa

from routing.router.fuzzy import PlaceHit, fold
from routing.router.gazetteer import Gazetteer
from tests.routing.conftest import sample_divisions

GANPU, XINDAI, OUBEI, XIEQIAO = "330424105", "330482102", "330324009", "330481107"
MAQIAO, HAIZHOU_WAN, HAIZHOU = "330481004", "320703008", "330481002"
XINCHENG, XINCHENG_ZHEN, WANGJIANGJING = "330411002", "330411104", "330411101"


def decide(router, text, address=None, caller_phone=None, business_name=None):
    return router.decide(
        {
            "text": text,
            "business_name": business_name,
            "address": address,
            "caller_phone": caller_phone,
            "kind": "complaint",
            "channel": "hotline",
        }
    )


# --- routing on a name written with a slip ------------------------------------------


def test_a_homophone_in_the_address_routes_with_its_reason(router):
    d = decide(router, "那家饭店的海鲜不新鲜，吃了拉肚子", address="海盐县甘浦镇")
    assert not d.triage
    assert (d.industry, d.township) == ("restaurant", GANPU)
    assert "地址中'甘浦镇'按读音视为澉浦镇" in d.reasons


def test_an_accent_slip_in_the_story_routes(router):
    d = decide(router, "新代镇一家农资店卖的化肥是假的")
    assert not d.triage and d.township == XINDAI
    assert any("按读音视为新埭镇" in r for r in d.reasons)


def test_a_dropped_character_and_an_old_suffix_are_read(router):
    d = decide(router, "王江镇有家小卖部卖过期饮料", address="秀洲区王江镇")
    assert d.township == WANGJIANGJING and any("缺字视为王江泾镇" in r for r in d.reasons)
    d = decide(router, "瓯北镇那家药店卖过期药")
    assert d.township == OUBEI and any("后缀不同视为瓯北街道" in r for r in d.reasons)


def test_one_character_too_many_is_read(router):
    d = decide(router, "王江泾泾镇一家小饭店用地沟油")
    assert d.township == WANGJIANGJING and any("多字视为王江泾镇" in r for r in d.reasons)


def test_an_ambiguous_sound_match_does_not_route(router):
    # 新城镇: 新城街道 with an old suffix, or 新塍镇 (xin cheng) by sound; both in 秀洲区
    d = decide(router, "新城镇一家小饭店的菜里有虫", address="秀洲区新城镇")
    assert d.triage and d.township is None
    assert {XINCHENG, XINCHENG_ZHEN} <= set(d.candidates)
    assert any("可能是" in r and "新塍镇" in r for r in d.reasons)


def test_a_sound_match_that_is_also_a_village_does_not_route(router):
    # 码桥: 马桥街道 (海宁) or the 蚂桥 community (王店镇, 秀洲)
    d = decide(router, "码桥那边有家小卖部卖假烟")
    assert d.triage and MAQIAO in d.candidates


def test_the_county_named_settles_an_ambiguous_sound_match(router):
    d = decide(router, "海宁码桥那边有家小卖部卖假烟")
    assert not d.triage and d.township == MAQIAO


def test_the_landline_area_settles_an_ambiguous_name(router):
    # 海州街道: 海洲街道 (海宁) by sound, or 海州湾街道 (连云) with 湾 dropped
    assert decide(router, "海州街道一家药店卖过期药").triage
    d = decide(router, "海州街道一家药店卖过期药", caller_phone="0518-85212345")
    assert not d.triage and d.township == HAIZHOU_WAN


def test_an_exact_name_beats_a_fuzzy_one(router):
    d = decide(router, "斜桥镇那家小饭店的菜有异味，跟新代镇那家一样")
    assert not d.triage and d.township == XIEQIAO
    assert any("以写明的为准" in r for r in d.reasons)


def test_an_ordinary_word_is_not_a_bare_sound_match(router):
    # 大妈 (da ma) sounds like 大麻镇 but not with its tones
    found = router.gazetteer.find("一个大妈卖的菜不新鲜")
    assert all(m.code[:6] != "330483" for m in found)
    # 五元 (wu yuan) has the tones of 武原街道, but a number is an ordinary word
    assert not [m for m in router.gazetteer.find("标价是五元的，结账收了八元") if m.how]
    # 涨水 (zhang shui) sounds like 长水 but is a word of its own
    assert not [m for m in router.gazetteer.find("河里涨水的时候") if m.how]


def test_a_county_written_by_sound_says_so(router):
    d = decide(router, "那家药店卖过期药", address="永佳县瓯北街道")
    assert d.township == OUBEI and "地址中'永佳县'按读音视为永嘉县" in d.reasons


def test_pinyin_letters_are_read(router):
    d = decide(router, "ganpu那家小饭店收费太贵")
    assert d.township == GANPU and any("按拼音视为澉浦镇" in r for r in d.reasons)


def test_exact_names_carry_no_how(router):
    found = router.gazetteer.find("澉浦镇")
    assert [(m.code, m.how) for m in found] == [(GANPU, "")]


def test_accent_folding():
    assert fold("zhang") == fold("zan") and fold("ning") == fold("lin") and fold("fu") == fold("hu")


def test_an_alias_is_found_with_its_reason():
    g = Gazetteer.from_rows(sample_divisions("老城关"))
    assert [(m.code, m.how) for m in g.find("老城关那边")] == [("339901100", "别名")]
    assert [h.how for h in g.matcher.search("老城")] == ["别名"]


# --- the place picker ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query, code, how",
    [
        ("甘浦", GANPU, "按读音"),
        ("新代", XINDAI, "按读音"),
        ("obj", OUBEI, "按拼音首字母"),
        ("oubei", OUBEI, "按拼音"),
        ("瓯北", OUBEI, ""),
        ("瓯北镇", OUBEI, "后缀不同"),
        ("王江镇", WANGJIANGJING, "缺字"),
        ("祟福", "330483107", "按字形"),
    ],
)
def test_search_finds_townships(router, query, code, how):
    hits = router.gazetteer.matcher.search(query)
    assert hits and isinstance(hits[0], PlaceHit)
    assert (hits[0].code, hits[0].how) == (code, how)
    assert hits[0].level == "township" and hits[0].county == code[:6]


def test_search_puts_the_characters_typed_first_and_keeps_the_limit(router):
    hits = router.gazetteer.matcher.search("新城")
    assert [h.code for h in hits[:2]] == [XINCHENG, XINCHENG_ZHEN] and hits[1].how == "按读音"
    assert len(router.gazetteer.matcher.search("x", limit=3)) == 3
    assert router.gazetteer.matcher.search("  ") == []


def test_search_finds_a_townships_villages(router):
    hits = router.gazetteer.matcher.search("xw", township=XINDAI)
    assert hits and all(h.level == "village" and router.gazetteer.township_of(h.code) == XINDAI for h in hits)


# --- an administrator adds an alias -------------------------------------------------


def test_an_administrator_adds_an_alias(app):
    from intake.extensions import db
    from intake.reference.models import Division
    from routing.services import get_router, invalidate_router

    case = {"text": "老瓯渡那家药店卖过期药", "business_name": None, "address": None, "caller_phone": None}
    assert get_router().decide(case).triage
    runner = app.test_cli_runner()
    try:
        out = runner.invoke(args=["divisions", "alias", OUBEI, "老瓯渡"]).output
        assert "老瓯渡" in out
        d = get_router().decide(case)
        assert not d.triage and d.township == OUBEI
        assert any("别名视为瓯北街道" in r for r in d.reasons)
        assert "未改动" in runner.invoke(args=["divisions", "alias", OUBEI, "老瓯渡"]).output
        assert runner.invoke(args=["divisions", "alias", "999", "老瓯渡"]).exit_code != 0
    finally:
        db.session.execute(sa.update(Division).where(Division.code == OUBEI).values(aliases=[]))
        db.session.commit()
        invalidate_router()
