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
    assert (
        db.session.scalar(sa.select(Department.name).filter_by(county_code="330481", kind="housing"))
        == "海宁市住房和城乡建设局"
    )


def test_imported_division_gets_departments_and_is_routed_to(app, client, run_jobs, tmp_path):
    path = tmp_path / "lucheng.csv"
    path.write_text(NEW_PLACE, encoding="utf-8")
    runner = app.test_cli_runner()
    assert "新增区划 3 个，新增部门 8 个" in runner.invoke(args=["divisions", "import", str(path)]).output
    assert "新增区划 0 个" in runner.invoke(args=["divisions", "import", str(path)]).output

    client.post(
        "/api/v1/cases",
        json={
            "kind": "complaint",
            "business_name": "墨池理发店",
            "business_address": "温州市鹿城区五马街道墨池坊12号",
            "description": "在理发店办了一张会员卡，店老板说关门就关门，卡里还有八百元不退。",
            "complainant": {"name": "周", "phone": "13712345678"},
        },
    )
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

    text = {
        "text": "那家叫小林的铺子卖的鹭鸶糕发霉了",
        "business_name": None,
        "address": "永嘉县瓯北街道",
        "caller_phone": None,
    }
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


def test_one_countys_routing_table_changes_on_a_live_system_with_one_command(app, client, run_jobs):
    """The next case of that county goes to the new lead department; other counties keep the table."""
    from intake.cases.models import Case
    from intake.reference.models import RoutingRule
    from routing.services import invalidate_router

    def file(address):
        body = {
            "kind": "complaint",
            "business_name": "康民大药房",
            "business_address": address,
            "description": "在这家药店买的感冒药过期了，店员不给退。",
            "complainant": {"name": "王先生", "phone": "13812345678"},
            "anonymous": False,
        }
        return client.post("/api/v1/cases", json=body).get_json()["tracking_no"]

    runner = app.test_cli_runner()
    try:
        out = runner.invoke(
            args=["routing", "set-rule", "330324", "pharmacy", "--lead", "health", "--co", "market"]
        ).output
        assert "永嘉县" in out
        yongjia, haining = file("永嘉县瓯北街道"), file("海宁市硖石街道")
        run_jobs()
        by_no = {c.tracking_no: c for c in db.session.scalars(sa.select(Case))}
        assert by_no[yongjia].lead_department.name == "永嘉县卫生健康局"
        assert [d.name for d in by_no[yongjia].co_handlers] == ["永嘉县市场监督管理局"]
        assert by_no[haining].lead_department.name == "海宁市市场监督管理局"
        bad = runner.invoke(args=["routing", "set-rule", "330324", "pharmacy", "--lead", "nonsense"])
        assert bad.exit_code != 0 and "nonsense" in bad.output
    finally:
        db.session.execute(sa.delete(RoutingRule).where(RoutingRule.county_code == "330324"))
        db.session.commit()
        invalidate_router()
