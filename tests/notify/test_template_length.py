"""Every shipped SMS template, filled with realistic values, fits one 70-character segment."""

import string

import sqlalchemy as sa

from intake.extensions import db
from notify.models import MessageTemplate

SAMPLE = {
    "tracking_no": "2611232341596",
    "master_no": "2611232341597",
    "clock": "受理/立案决定期限",
    "due": "2026年10月13日",
    "result": "调解终止，未达成协议",
    "lookup_code": "123456",
    "status": "重新办理中",
    "number": "2611232341596",
    "url": "https://ts.yj.gov.cn",  # PUBLIC_BASE_URL: a county's short address
}


def test_every_sms_template_fits_one_segment():
    rows = db.session.scalars(sa.select(MessageTemplate).where(MessageTemplate.channel == "sms")).all()
    assert len(rows) >= 20
    for row in rows:
        names = {name for _, name, _, _ in string.Formatter().parse(row.text) if name}
        text = row.text.format(**{name: SAMPLE.get(name, "某某某某某某") for name in names})
        assert len(text) <= 70, (row.key, len(text), text)
        assert text.startswith("【十小投诉举报】"), row.key
