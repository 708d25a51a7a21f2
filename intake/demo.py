"""`flask demo`: one command that builds, seeds and runs everything on a fresh machine."""

import os
import signal
import subprocess
import sys
import time

import click
from flask_migrate import upgrade

from intake.accounts.models import Role
from intake.accounts.services import ensure_user
from intake.cases.models import Case, CaseKind, Channel
from intake.cases.services import Submission, submit_case
from intake.config import ROOT
from intake.extensions import db
from intake.redis_conn import redis_url
from intake.reference.models import Department
from intake.seeding import seed_all
from intake.transaction import transaction

DEMO_PASSWORD = "demo1234"
# username, display name, role, county, department kind, township
DEMO_USERS = [
    ("admin", "系统管理员", Role.ADMIN, None, None, None),
    ("dispatcher", "派单员 王芳", Role.DISPATCHER, None, None, None),
    ("supervisor", "十小办 陈督办", Role.SUPERVISOR, None, None, None),
    ("operator", "话务员 李静", Role.OPERATOR, None, None, None),
    ("yj-market", "永嘉县市场监管局 张承办", Role.DEPARTMENT, "330324", "market", None),
    ("yj-agri", "永嘉县农业农村局 周承办", Role.DEPARTMENT, "330324", "agriculture", None),
    ("yj-transport", "永嘉县交通运输局 吴承办", Role.DEPARTMENT, "330324", "transport", None),
    ("hn-market", "海宁市市场监管局 沈承办", Role.DEPARTMENT, "330481", "market", None),
    ("lyg-market", "连云区市场监管局 徐承办", Role.DEPARTMENT, "320703", "market", None),
    ("oubei", "瓯北街道 郑工作人员", Role.TOWNSHIP, "330324", None, "330324009"),
]


def create_demo_users() -> None:
    for username, name, role, county, kind, township in DEMO_USERS:
        department = None
        if kind:
            department = db.session.scalar(db.select(Department).filter_by(county_code=county, kind=kind))
        ensure_user(
            username,
            DEMO_PASSWORD,
            name,
            role,
            county_code=county,
            department_id=department.id if department else None,
            township_code=township,
        )


# A few cases so every page has something on it the first time; written for the demo.
DEMO_CASES = [
    dict(
        kind=CaseKind.COMPLAINT,
        business_name="好日子大药房",
        business_address="永嘉县瓯北街道罗浮大街88号",
        description="在这家药店买的感冒药已经过期两个月，店员不肯退换。",
        complainant_name="李明",
        complainant_phone="+8613812345678",
    ),
    dict(
        kind=CaseKind.TIP,
        business_name="老街面馆",
        business_address="永嘉县桥头镇桥头大道15号",
        description="后厨卫生很差，剩菜反复加热再卖，工作人员没有健康证。",
        complainant_name="王女士",
        complainant_phone="+8613912345678",
    ),
    dict(
        kind=CaseKind.COMPLAINT,
        business_name="",
        business_address="永嘉县",
        description="县城一家店卖的东西有问题，老板态度不好，不肯退钱。",
        complainant_name="赵先生",
        complainant_phone="+8613712345678",
    ),
    dict(
        kind=CaseKind.INQUIRY,
        business_name="",
        business_address="",
        description="开一家小餐馆需要办哪些证照？到哪里办理？",
        complainant_name="",
        complainant_phone="+8613612345678",
    ),
]


def create_demo_cases() -> int:
    """File the demo cases once (the worker routes them when it starts)."""
    if db.session.scalar(db.select(db.func.count(Case.id))):
        return 0
    for fields in DEMO_CASES:
        submit_case(Submission(channel=Channel.WEB, **fields))
    return len(DEMO_CASES)


def run_demo(app, host: str, port: int) -> None:
    if app.config["APP_ENV"] == "production":
        raise click.ClickException("flask demo creates demo logins; it does not run with APP_ENV=production")
    upgrade()
    with transaction():  # the command's edge: reference data, logins and cases in one commit
        seed_all()
        create_demo_users()
        create_demo_cases()
    env = dict(os.environ, REDIS_URL=redis_url(app), INSTANCE_PATH=app.instance_path)
    env.setdefault("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    children = [
        subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env),
        subprocess.Popen(
            [sys.executable, "-m", "waitress", f"--listen={host}:{port}", "--threads=8", "wsgi:app"], cwd=ROOT, env=env
        ),
    ]
    _banner(host, port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(child.poll() is None for child in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(10)


def _banner(host: str, port: int) -> None:
    url = f"http://{host}:{port}"
    click.echo("\n" + "=" * 64)
    click.echo(f"  市民投诉举报：  {url}/")
    click.echo(f"  案件查询：      {url}/lookup")
    click.echo(f"  工作人员登录：  {url}/login   （密码均为 {DEMO_PASSWORD}）")
    for username, name, *_ in DEMO_USERS:
        click.echo(f"      {username:<14} {name}")
    click.echo(f"  JSON API：      POST {url}/api/v1/cases")
    click.echo("  按 Ctrl-C 停止（网站、后台任务和内置 Redis 一起停止）。")
    click.echo("=" * 64 + "\n")
