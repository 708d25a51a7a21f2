"""Reference data: seeding is idempotent; a new place imported from CSV is routable at once."""
import sqlalchemy as sa

from intake.businesses.models import Business
from intake.cases.models import Case, CaseStatus
from intake.extensions import db
from intake.reference.models import Department, Division
from intake.seeding import seed_all

NEW_PLACE = """code,name,level,parent_code
330302,鹿城区,county,3303
330302001,五马街道,township,330302
330302001003,墨池社区居委会,village,330302001
"""


def test_seeding_twice_changes_nothing():
    assert set(seed_all().values()) == {0}


def test_seeded_reference_data_matches_the_shared_documents():
    assert db.session.scalar(sa.select(sa.func.count(Division.code))) == 1949
    assert db.session.scalar(sa.select(Department.name).filter_by(county_code="330481", kind="housing")) \
        == "海宁市住房和城乡建设局"


def test_imported_division_gets_departments_and_is_routed_to(app, client, run_jobs, tmp_path):
    path = tmp_path / "lucheng.csv"
    path.write_text(NEW_PLACE, encoding="utf-8")
    runner = app.test_cli_runner()
    assert "新增区划 3 个，新增部门 8 个" in runner.invoke(args=["divisions", "import", str(path)]).output
    assert "新增区划 0 个" in runner.invoke(args=["divisions", "import", str(path)]).output

    client.post("/api/v1/cases", json={
        "kind": "complaint", "business_name": "墨池理发店", "business_address": "温州市鹿城区五马街道墨池坊12号",
        "description": "在理发店办了一张会员卡，店老板说关门就关门，卡里还有八百元不退。",
        "complainant": {"name": "周", "phone": "13712345678"}})
    run_jobs()
    case = db.session.scalar(sa.select(Case))
    try:
        assert case.status is CaseStatus.DISPATCHED
        assert case.township_code == "330302001" and case.lead_department.name == "鹿城区商务局"
    finally:  # leave the shared reference data as the other tests expect it
        db.session.execute(sa.delete(Case))
        db.session.execute(sa.delete(Business))
        db.session.execute(sa.delete(Department).where(Department.county_code == "330302"))
        for code in ("330302001003", "330302001", "330302"):
            db.session.execute(sa.delete(Division).where(Division.code == code))
        db.session.commit()
        from routing.services import invalidate_router
        invalidate_router()


def test_an_administrator_teaches_the_classifier_a_new_word(app):
    from intake.reference.models import IndustryTerm
    from routing.services import get_router

    text = {"text": "那家叫小林的铺子卖的鹭鸶糕发霉了", "business_name": None, "address": "永嘉县瓯北街道",
            "caller_phone": None}
    assert get_router().decide(text).industry != "food_processing"
    runner = app.test_cli_runner()
    try:
        out = runner.invoke(args=["routing", "add-term", "鹭鸶糕", "food_processing", "--weight", "3"]).output
        assert "鹭鸶糕" in out
        decision = get_router().decide(text)
        assert decision.industry == "food_processing" and any("鹭鸶糕" in r for r in decision.reasons)
    finally:
        db.session.execute(sa.delete(IndustryTerm).where(IndustryTerm.term == "鹭鸶糕"))
        db.session.commit()
        from routing.services import invalidate_router
        invalidate_router()
