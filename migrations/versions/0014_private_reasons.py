"""Private reasons: what the caller's phone told the router is kept apart from what every handler reads

Revision ID: 0014
Revises: 0015
Create Date: 2026-12-02 01:00:00

No schema change. Data only: the router's reasons stored before this revision are split the
way routing.services now stores them (intake.cases.reasons): ``case.routing["reasons"]`` keeps
the public wording, ``case.routing["phone_reasons"]`` the reasons the caller's number gave, in
full, with their place (and a phone-narrowed list of candidate townships becomes
``phone_candidates``). Routing events (route, to_triage) keep only the public wording; the
duplicate note loses its figure, which counted the same number as 20 points.

The phone-derived reasons are recognised by the router's own fixed wordings (unchanged since
the router was written; see routing/router/locate.py). The wordings are copied here on purpose:
a migration must keep meaning what it meant when it was written.
"""

import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0015"
branch_labels = None
depends_on = None

PHONE_HINT = "按来电信息辅助判断"  # routing.router.reasons
PHONE_DOUBT = "按来电信息判断，需人工确认"
TRIAGE = "转人工分拨："
SEPARATOR = "；"  # how routing.services joins the reasons into the event's text

NARROWED = re.compile(r"^来电(区号\d+|手机号\d+归属地) → .+，只剩.*$")
PHONE_WORDINGS = [
    (re.compile(r"^来电区号\d+在.+，与'.+'（.+）不符，可能不是地名$"), PHONE_HINT),
    (NARROWED, PHONE_HINT),
    (re.compile(r"^来电区号\d+在.+，而.+在.+，未说明县市$"), PHONE_DOUBT),
    (re.compile(r"^重名村只凭手机号归属地确定，需人工确认$"), PHONE_DOUBT),
]
# After a phone narrowed the villages, the ones left tell where the number is from.
MANY_VILLAGES = re.compile(r"^('.+')有\d+处：.+，(案件中没有别的线索能确定是哪一个)$")
OLD_DUPLICATE = re.compile(r"^(疑似与 \S+ 重复)（相似度 \d+%）$")

case = sa.table(
    "case",
    sa.column("id", sa.Integer),
    sa.column("routing", sa.JSON),
)
case_event = sa.table(
    "case_event",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("reason", sa.Text),
)


def public_wording(reason: str, narrowed: bool) -> str | None:
    """The reason without what the phone told, or None when the phone told nothing of it."""
    prefix = TRIAGE if reason.startswith(TRIAGE) else ""
    body = reason[len(prefix) :]
    for pattern, public in PHONE_WORDINGS:
        if pattern.match(body):
            return prefix + public
    if narrowed and (m := MANY_VILLAGES.match(body)):
        return f"{prefix}{m.group(1)}有多处，{m.group(2)}"
    return None


def split(reasons: list[str]) -> tuple[list[str], list[dict]]:
    """(public reasons, phone-derived reasons with their place), as intake.cases.reasons.kept_apart."""
    narrowed = any(NARROWED.match(r) for r in reasons)
    public, private = [], []
    for i, reason in enumerate(reasons):
        wording = public_wording(reason, narrowed)
        public.append(reason if wording is None else wording)
        if wording is not None:
            private.append({"at": i, "text": reason})
    return public, private


def upgrade():
    conn = op.get_bind()
    for case_id, routing in conn.execute(sa.select(case.c.id, case.c.routing).where(case.c.routing.is_not(None))).all():
        if not isinstance(routing, dict) or "phone_reasons" in routing:
            continue
        reasons = list(routing.get("reasons") or [])
        public, private = split(reasons)
        record = {**routing, "reasons": public, "phone_reasons": private}
        if any(NARROWED.match(r) for r in reasons) and routing.get("candidates"):
            # the townships left after the phone narrowed them; those before it are not on record
            record.update(candidates=[], phone_candidates=routing["candidates"])
        conn.execute(case.update().where(case.c.id == case_id).values(routing=record))
    events = sa.select(case_event.c.id, case_event.c.action, case_event.c.reason).where(
        case_event.c.action.in_(["route", "to_triage", "flag_duplicate"])
    )
    for event_id, action, text in conn.execute(events).all():
        if not text:
            continue
        if action == "flag_duplicate":
            new = OLD_DUPLICATE.sub(r"\1", text)
        else:
            public, _ = split(text.split(SEPARATOR))
            new = SEPARATOR.join(dict.fromkeys(public))
        if new != text:
            conn.execute(case_event.update().where(case_event.c.id == event_id).values(reason=new))


def downgrade():
    """Put the phone-derived reasons and candidates back in case.routing; event texts stay public."""
    conn = op.get_bind()
    for case_id, routing in conn.execute(sa.select(case.c.id, case.c.routing).where(case.c.routing.is_not(None))).all():
        if not isinstance(routing, dict) or "phone_reasons" not in routing:
            continue
        reasons = list(routing.get("reasons") or [])
        for item in routing["phone_reasons"]:
            if 0 <= item["at"] < len(reasons):
                reasons[item["at"]] = item["text"]
        rest = {k: v for k, v in routing.items() if k not in ("phone_reasons", "phone_candidates")}
        if "phone_candidates" in routing:
            rest["candidates"] = routing["phone_candidates"]
        conn.execute(case.update().where(case.c.id == case_id).values(routing={**rest, "reasons": reasons}))
