"""The clock sweep and the supervisor's overdue page (督办) on a million cases.

Run:
    .venv/bin/python benchmarks/bench_sweep.py --database postgresql://postgres@127.0.0.1/intake_bench \
        [--cases 1000000 --open 100000] [--gap 60] [--reuse] [--extra-index]

The database is dropped to empty (schema public) and rebuilt from the migrations, so give it a
database of its own. Data are made on the server (INSERT … SELECT generate_series), with the
secondary indexes of the big tables dropped during the load and rebuilt after.

The data stand at a moment T0 (10:30 Beijing time on the last working weekday): every clock that
turned amber or red before the last sweep at T0 - gap is marked warned/escalated, so the first
sweep at T0 finds the clocks of the last `gap` minutes. Later sweeps are run at the moments by
which about 10, 100, 1000 and 5000 more clocks come due, so runs on databases of different sizes
claim the same numbers of clocks.

--reuse skips the build when the database holds a build of the same size, and undoes the changes
an earlier run's sweeps made; --skip-sweeps measures only the overdue page, on the state the last
run left. For measuring the proposals in RESULTS.md, without touching the application's files:
--extra-index creates the proposed indexes by hand in the bench database; --try-fixes patches in the
proposed query changes (with --list-limit N rows in the list, --cache-summary a 60 s summary cache).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-sweep-"))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402
import sqlalchemy.orm  # noqa: E402,F401

TZ = ZoneInfo("Asia/Shanghai")
REDIS_URL = "redis://127.0.0.1:6379/12"


def db_session():
    from intake.extensions import db

    return db.session


def log(msg: str) -> None:
    print(msg, flush=True)


def sql_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith(("postgresql://", "postgres://")) else url


# ---------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    target = sa.engine.make_url(sql_url(url))
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}) is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
            log(f"created database {target.database}")
    admin.dispose()


def read_meta(engine) -> dict | None:
    with engine.connect() as conn:
        comment = conn.scalar(
            sa.text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
        )
    try:
        return json.loads(comment) if comment else None
    except ValueError:
        return None


def write_meta(engine, meta: dict) -> None:
    with engine.begin() as conn:
        db_name = conn.scalar(sa.text("SELECT current_database()"))
        text = json.dumps(meta).replace("'", "''")
        conn.exec_driver_sql(f"COMMENT ON DATABASE \"{db_name}\" IS '{text}'")


def make_app(url: str):
    from intake import create_app

    return create_app(
        {
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2},
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": "intake-bench",
            "NOTIFY_SMS_BACKEND": "log",
            "NOTIFY_MAIL_BACKEND": "log",
            # no quiet hours: every staff SMS is enqueued at once, whatever the wall clock says
            "NOTIFY_QUIET_HOURS": "",
        }
    )


def bench_t0() -> datetime:
    """10:30 Beijing time on the last weekday (Mon–Fri) before now."""
    local = datetime.now(TZ)
    day = local.date() if local.hour * 60 + local.minute >= 10 * 60 + 30 else local.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 30, tzinfo=TZ).astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------------
# Building the data
# ---------------------------------------------------------------------------------------------

FUNCTIONS = r"""
CREATE FUNCTION pg_temp.eod(d date) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT ((d + 1)::timestamp - interval '1 microsecond') AT TIME ZONE 'Asia/Shanghai' $$;
-- end of the n-th working day after t's local date (weekends only; routing.calendar adds holidays)
CREATE FUNCTION pg_temp.add_wd(t timestamptz, n int) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT pg_temp.eod((t AT TIME ZONE 'Asia/Shanghai')::date
          - greatest(extract(isodow FROM t AT TIME ZONE 'Asia/Shanghai')::int - 5, 0) + n
          + 2 * ((least(extract(isodow FROM t AT TIME ZONE 'Asia/Shanghai')::int, 5) - 1 + n) / 5)) $$;
-- end of local date + n days, moved to a weekday
CREATE FUNCTION pg_temp.add_cd(t timestamptz, n int) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT pg_temp.eod((t AT TIME ZONE 'Asia/Shanghai')::date + n
          + CASE extract(isodow FROM (t AT TIME ZONE 'Asia/Shanghai')::date + n)::int
            WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END) $$;
CREATE FUNCTION pg_temp.due(t timestamptz, n int, unit text) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT CASE unit WHEN 'working_days' THEN pg_temp.add_wd(t, n)
                    WHEN 'calendar_days' THEN pg_temp.add_cd(t, n)
                    ELSE t + n * interval '1 hour' END $$;
-- intake.cases.clocks.amber_time: a quarter of the time or one working day left, whichever is later
CREATE FUNCTION pg_temp.amber(s timestamptz, d timestamptz, unit text) RETURNS timestamptz LANGUAGE sql AS
$$ SELECT CASE unit
     WHEN 'working_days' THEN greatest(d - (d - s) / 4, least(pg_temp.eod((d AT TIME ZONE 'Asia/Shanghai')::date
          - CASE extract(isodow FROM d AT TIME ZONE 'Asia/Shanghai')::int WHEN 1 THEN 3 WHEN 7 THEN 2 ELSE 1 END), d))
     WHEN 'calendar_days' THEN greatest(d - (d - s) / 4, d - interval '1 day')
     ELSE d - (d - s) / 4 END $$;
"""

REFERENCE = r"""
CREATE TEMP TABLE tw AS
SELECT (row_number() OVER (ORDER BY t.code) - 1)::int AS i, t.code AS township, t.parent_code AS county,
       coalesce((SELECT array_agg(v.code ORDER BY v.code) FROM division v
                 WHERE v.parent_code = t.code AND v.level = 'village'), ARRAY[NULL::varchar]) AS villages
FROM division t WHERE t.level = 'township';
CREATE TEMP TABLE ind AS
SELECT (row_number() OVER (ORDER BY i.position, i.code) - 1)::int AS i, i.code,
       coalesce(r.lead_kind, 'market') AS lead_kind
FROM industry i LEFT JOIN routing_rule r ON r.industry_code = i.code AND r.county_code = '*';
CREATE TEMP TABLE pol AS
SELECT c.clock, k.kind, u.urgent, p.id, p.amount, p.unit
FROM (VALUES ('triage'), ('sign'), ('return'), ('decision'), ('resolve'), ('callback'), ('rework')) c(clock)
CROSS JOIN (VALUES ('complaint'), ('tip'), ('inquiry'), ('suggestion')) k(kind)
CROSS JOIN (VALUES (false), (true)) u(urgent)
CROSS JOIN LATERAL (
  SELECT p.id, p.amount, p.unit FROM time_limit_policy p
  WHERE p.clock = c.clock AND p.case_kind IN (k.kind, '*') AND p.jurisdiction = '*'
    AND (p.urgent = u.urgent OR NOT p.urgent)
  ORDER BY (p.urgent = u.urgent) DESC, (p.case_kind <> '*') DESC, p.effective_from DESC LIMIT 1) p;
"""

# One row per case with random draws; open cases are the first {open} of the series.
PLAN_DRAWS = r"""
CREATE TEMP TABLE p1 AS
SELECT g, g <= {open} AS open,
  CASE WHEN rk < 0.60 THEN 'complaint' WHEN rk < 0.75 THEN 'tip' WHEN rk < 0.90 THEN 'inquiry'
       ELSE 'suggestion' END AS kind,
  ru < 0.03 AS urgent,
  CASE WHEN g > {open} THEN 'closed' WHEN rs < 0.001 THEN 'received' WHEN rs < 0.051 THEN 'triage'
       WHEN rs < 0.171 THEN 'dispatched' WHEN rs < 0.80 THEN 'signed' WHEN rs < 0.95 THEN 'replied'
       ELSE 'reopened' END AS stage,
  rt < 0.25 AS via_triage, ra AS ra, r1, r2, r3, r4, r5, rx1, rx2,
  (SELECT count(*) FROM tw) AS ntw, floor(rw * (SELECT count(*) FROM tw))::int AS tw_i,
  floor(ri * (SELECT count(*) FROM ind))::int AS ind_i, rv
FROM (SELECT g, random() rk, random() ru, random() rs, random() rt, random() ra, random() r1, random() r2,
             random() r3, random() r4, random() r5, random() rx1, random() rx2, random() rw, random() ri,
             random() rv
      FROM generate_series(1, {cases}) g) r;
"""

# Offsets from receipt (hours) and the anchor: open cases from the age of their current stage's
# clock (93% still within the limit, 7% past it), closed cases placed over two years.
PLAN_TIMES = r"""
CREATE TEMP TABLE p2 AS
SELECT *,
  CASE WHEN stage = 'received' THEN NULL
       WHEN stage = 'triage' OR via_triage THEN 30 / 3600.0 END AS o_triage,
  -- the limit (hours, roughly) of the clock the open case is waiting on
  CASE stage WHEN 'received' THEN 0.03
    WHEN 'triage' THEN CASE WHEN urgent THEN 2 ELSE 34 END
    WHEN 'dispatched' THEN CASE WHEN urgent THEN 2 ELSE 34 END
    WHEN 'signed' THEN CASE kind WHEN 'complaint' THEN CASE WHEN ra < 0.5 THEN 1440 ELSE 235 END
                                 WHEN 'tip' THEN 500 WHEN 'inquiry' THEN 67 ELSE 336 END
    WHEN 'replied' THEN 34 WHEN 'reopened' THEN 168 END AS lim
FROM p1;
CREATE TEMP TABLE p3 AS
SELECT *, greatest(CASE WHEN stage = 'received' THEN rx2 * lim
                        WHEN rx1 < 0.93 THEN power(rx2, 1.5) * lim
                        ELSE lim + rx2 * least(2 * lim, 720) END,
                   CASE WHEN stage = 'signed' THEN 0.5 ELSE 0.02 END) AS age,
  (kind = 'complaint' AND stage IN ('signed', 'replied', 'reopened', 'closed')
   AND ra < CASE WHEN stage = 'signed' THEN 0.5 ELSE 0.7 END) AS accepted
FROM p2;
CREATE TEMP TABLE p4 AS
SELECT *,
  CASE WHEN stage IN ('received', 'triage') THEN NULL
       -- a signed case waiting on a clock from receipt was dispatched and signed within its age
       WHEN via_triage AND stage = 'signed' AND NOT accepted THEN least(0.5 + r1 * 20, 0.4 * age)
       WHEN via_triage THEN 0.5 + r1 * 20
       ELSE 30 / 3600.0 END AS o_dispatch
FROM p3;
CREATE TEMP TABLE p5 AS
SELECT *,
  CASE stage
    WHEN 'signed' THEN CASE WHEN accepted THEN o_dispatch + 1 + r3 * 200 END
    WHEN 'closed' THEN CASE WHEN accepted THEN o_dispatch + 1 + 30 * r2 * r2 + r3 * 150 END END AS o_accept0,
  CASE stage
    WHEN 'replied' THEN 2 + o_dispatch + r4 * 400
    WHEN 'reopened' THEN 2 + o_dispatch + r4 * 400
    WHEN 'closed' THEN o_dispatch + 2 + 30 * r2 * r2 + r3 * 150 + r4 * CASE
      WHEN accepted THEN 600 WHEN kind = 'complaint' THEN 100 WHEN kind = 'tip' THEN 300
      WHEN kind = 'inquiry' THEN 40 ELSE 200 END END AS o_reply
FROM p4;
CREATE TEMP TABLE plan0 AS
SELECT *,
  CASE stage WHEN 'reopened' THEN o_reply + 1 + r5 * 24 END AS o_reopen,
  CASE stage WHEN 'closed' THEN o_reply + 1 + r5 * 30 END AS o_close,
  -- hours from receipt to T0
  CASE stage
    WHEN 'received' THEN age WHEN 'triage' THEN age + 30 / 3600.0 WHEN 'dispatched' THEN age + o_dispatch
    WHEN 'signed' THEN CASE WHEN accepted THEN age + o_accept0 ELSE age END
    WHEN 'replied' THEN age + o_reply
    WHEN 'reopened' THEN age + o_reply + 1 + r5 * 24
    ELSE 1 + {gap_h} + (o_reply + 1 + r5 * 30) + r1 * (17520 - (o_reply + 1 + r5 * 30) - {gap_h}) END AS since
FROM p5;
"""

PLAN = r"""
CREATE TEMP TABLE plan AS
SELECT (row_number() OVER (ORDER BY rcv, g))::int AS id, x.*
FROM (
  SELECT p.g, p.open, p.kind, p.urgent, p.stage, p.via_triage, p.accepted, p.rv,
         tw.township, tw.county, tw.villages[1 + floor(p.rv * cardinality(tw.villages))::int] AS village,
         ind.code AS industry, d.id AS dept, d.name AS dept_name,
         t0 - p.since * interval '1 hour' AS rcv,
         t0 - p.since * interval '1 hour' + p.o_triage * interval '1 hour' AS triaged_at,
         t0 - p.since * interval '1 hour' + p.o_dispatch * interval '1 hour' AS dispatched_at,
         CASE WHEN p.stage IN ('received', 'triage', 'dispatched') THEN NULL
              WHEN p.stage = 'signed' AND p.accepted THEN
                t0 - p.since * interval '1 hour' + (p.o_dispatch + p.r2 * 0.5 * (p.o_accept0 - p.o_dispatch)) * interval '1 hour'
              WHEN p.stage = 'signed' THEN
                t0 - p.since * interval '1 hour' + (p.o_dispatch + p.r2 * least(30, 0.5 * (p.since - p.o_dispatch))) * interval '1 hour'
              WHEN p.stage = 'closed' THEN
                t0 - p.since * interval '1 hour' + (p.o_dispatch + 0.2 + 30 * p.r2 * p.r2 * CASE WHEN p.r5 > 0.97 THEN 2.5 ELSE 1 END) * interval '1 hour'
              ELSE t0 - p.since * interval '1 hour' + (p.o_dispatch + p.r2 * 0.3 * (p.o_reply - p.o_dispatch)) * interval '1 hour'
         END AS signed_at,
         p.o_accept0, p.o_dispatch, p.o_reply, p.o_reopen, p.o_close, p.since, p.r3
  FROM plan0 p
  JOIN tw ON tw.i = p.tw_i JOIN ind ON ind.i = p.ind_i
  JOIN department d ON d.county_code = tw.county AND d.kind = ind.lead_kind
  CROSS JOIN (SELECT '{t0}'::timestamptz AS t0) t
) x;
ALTER TABLE plan RENAME COLUMN rcv TO received_at;
ALTER TABLE plan ADD COLUMN accepted_at timestamptz, ADD COLUMN replied_at timestamptz,
  ADD COLUMN reopened_at timestamptz, ADD COLUMN closed_at timestamptz;
UPDATE plan SET
  accepted_at = CASE WHEN NOT accepted THEN NULL
                     WHEN stage IN ('signed', 'closed') THEN received_at + o_accept0 * interval '1 hour'
                     ELSE signed_at + r3 * 0.5 * (received_at + o_reply * interval '1 hour' - signed_at) END,
  replied_at = received_at + o_reply * interval '1 hour',
  reopened_at = received_at + o_reopen * interval '1 hour',
  closed_at = received_at + o_close * interval '1 hour';
-- closed cases: signing may not come after acceptance or reply
UPDATE plan SET signed_at = dispatched_at + (least(coalesce(accepted_at, replied_at), replied_at) - dispatched_at) / 2
WHERE stage = 'closed' AND signed_at >= least(coalesce(accepted_at, replied_at), replied_at);
CREATE UNIQUE INDEX ON plan (id);
ANALYZE plan;
"""

CASES = r"""
INSERT INTO "case" (id, tracking_no, lookup_code_hash, kind, channel, status, urgent, business_name,
  business_address, description, industry_code, industry_hint, complainant_name, complainant_phone,
  anonymous, disclose_identity, county_code, township_code, village_code, lead_department_id, routing,
  result, reply_text, merged_into_id, received_at, routed_at, closed_at, updated_at, business_id,
  duplicate_of_id, accepted_at, escalated_at, problem_at)
SELECT p.id,
  to_char(p.received_at AT TIME ZONE 'Asia/Shanghai', 'YYMMDD') || lpad(p.id::text, 7, '0'),
  'scrypt:32768:8:1$' || substr(md5(p.id::text), 1, 16) || '$' || md5(p.id::text || 'a') || md5(p.id::text || 'b'),
  p.kind,
  (ARRAY['web', 'web', 'api', 'hotline', 'hotline', 'sms'])[1 + (p.id % 6)],
  p.stage, p.urgent,
  (ARRAY['好日子大药房', '江边农资店', '小鱼美发', '老王面馆', '便民超市', '顺达客运', '惠民液化气站', '阳光KTV',
         '张记豆腐坊', '农贸市场18号摊位'])[1 + (p.id % 10)] || CASE WHEN p.id % 3 = 0 THEN '' ELSE '（' || (p.id % 97) || '号店）' END,
  '路' || (p.id % 500) || '号',
  (ARRAY['买的感冒药过期了，店员不肯退，要求退款并查处。',
         '买的复合肥是假的，庄稼不长，损失很大，希望有关部门查一查。',
         '办了会员卡，店关门不退钱，联系不上老板。',
         '饭菜里吃出异物，商家态度恶劣，不肯赔偿。',
         '送气工送来的液化气钢瓶漏气，过期没检测，存在安全隐患。',
         '客运班车超载，司机中途随意加价。',
         '作坊卫生条件差，生产的豆制品没有标签。'])[1 + (p.id % 7)]
    || '时间大约是' || to_char(p.received_at AT TIME ZONE 'Asia/Shanghai', 'MM月DD日') || '，请尽快处理。（' || p.id || '）',
  p.industry, CASE WHEN p.id % 4 = 0 THEN p.industry END,
  CASE WHEN p.id % 10 = 0 THEN '' ELSE (ARRAY['张', '王', '李', '赵', '陈', '刘'])[1 + (p.id % 6)] || '先生' END,
  CASE WHEN p.id % 10 = 0 THEN '' ELSE '+86138' || lpad(((p.id::bigint * 7919) % 100000000)::text, 8, '0') END,
  p.id % 10 = 0, p.kind = 'tip' AND p.id % 3 = 0,
  p.county, p.township, p.village, CASE WHEN p.stage IN ('received', 'triage') THEN NULL ELSE p.dept END,
  CASE WHEN p.stage = 'received' THEN NULL ELSE
    '{{"confidence": 0.91, "reasons": ["行业关键词", "地址匹配乡镇"], "candidates": []}}'::json END,
  CASE WHEN p.stage = 'closed' THEN
    CASE p.kind WHEN 'complaint' THEN CASE WHEN p.accepted THEN 'mediated' ELSE 'refused' END
                WHEN 'tip' THEN 'case_opened' WHEN 'inquiry' THEN 'answered' ELSE 'acknowledged' END END,
  CASE WHEN p.replied_at IS NOT NULL THEN '经调查核实，已督促经营者整改，并将处理结果答复当事人。' ELSE '' END,
  NULL, p.received_at,
  CASE WHEN p.stage = 'received' THEN NULL ELSE p.received_at + interval '30 seconds' END,
  p.closed_at,
  coalesce(p.closed_at, p.reopened_at, p.replied_at, p.accepted_at, p.signed_at, p.dispatched_at, p.received_at),
  NULL, NULL, p.accepted_at, NULL, NULL
FROM plan p ORDER BY p.id;
"""

CLOCKS = r"""
CREATE TEMP TABLE cspec AS
SELECT id AS case_id, kind, urgent, NULL::int AS dept, 'triage' AS name, triaged_at AS start, dispatched_at AS stop
  FROM plan WHERE triaged_at IS NOT NULL
UNION ALL SELECT id, kind, urgent, dept, 'sign', dispatched_at, signed_at FROM plan WHERE dispatched_at IS NOT NULL
UNION ALL SELECT id, kind, urgent, dept, 'return', dispatched_at, closed_at FROM plan WHERE dispatched_at IS NOT NULL
UNION ALL SELECT id, kind, urgent, dept, 'decision', received_at, coalesce(accepted_at, replied_at)
  FROM plan WHERE dispatched_at IS NOT NULL AND kind IN ('complaint', 'tip')
UNION ALL SELECT id, kind, urgent, dept, 'resolve', accepted_at, replied_at FROM plan WHERE accepted_at IS NOT NULL
UNION ALL SELECT id, kind, urgent, dept, 'resolve', received_at, replied_at
  FROM plan WHERE dispatched_at IS NOT NULL AND kind IN ('inquiry', 'suggestion')
UNION ALL SELECT id, kind, urgent, dept, 'callback', replied_at, coalesce(reopened_at, closed_at)
  FROM plan WHERE replied_at IS NOT NULL
UNION ALL SELECT id, kind, urgent, dept, 'rework', reopened_at, NULL FROM plan WHERE reopened_at IS NOT NULL;

CREATE TEMP TABLE c1 AS
SELECT s.*, pol.id AS policy_id, pg_temp.due(s.start, pol.amount, pol.unit) AS due_at, pol.unit
FROM cspec s JOIN pol ON pol.clock = s.name AND pol.kind = s.kind AND pol.urgent = s.urgent;

CREATE TEMP TABLE c2 AS
SELECT c.*, CASE WHEN c.name = 'return' THEN NULL ELSE pg_temp.amber(c.start, c.due_at, c.unit) END AS amber_at,  -- windows never warn
  CASE WHEN c.name = 'return' THEN
         CASE WHEN c.stop IS NOT NULL AND c.stop < c.due_at THEN c.stop
              WHEN c.due_at <= '{t_last}' THEN c.due_at END
       ELSE c.stop END AS stopped_at
FROM c1 c;

INSERT INTO clock (case_id, name, started_at, due_at, stopped_at, met, policy_id, calendar_warning,
                   amber_at, warned_at, escalated_at, department_id)
SELECT case_id, name, start, due_at, stopped_at,
  CASE WHEN stopped_at IS NULL THEN NULL WHEN name = 'return' THEN true ELSE stopped_at <= due_at END,
  policy_id, '', amber_at,
  CASE WHEN name <> 'return' AND amber_at <= '{t_last}' AND (stopped_at IS NULL OR amber_at < stopped_at)
       THEN least(amber_at + random() * interval '60 seconds', '{t_last}', stopped_at) END,
  CASE WHEN name <> 'return' AND due_at <= '{t_last}' AND (stopped_at IS NULL OR due_at < stopped_at)
       THEN least(due_at + random() * interval '60 seconds', '{t_last}', stopped_at) END,
  dept
FROM c2 ORDER BY start, case_id;
-- a red clock is always marked warned too (the sweep's coalesce)
UPDATE clock SET warned_at = escalated_at WHERE escalated_at IS NOT NULL AND (warned_at IS NULL OR warned_at > escalated_at);
"""

EVENTS = r"""
INSERT INTO case_event (case_id, at, actor_id, actor_label, action, from_status, to_status, reason, public, data)
SELECT case_id, at, NULL, actor, action, fs, ts, reason, pub, data FROM (
  SELECT id AS case_id, received_at AS at, '系统' AS actor, 'receive' AS action, NULL AS fs, 'received' AS ts,
         '' AS reason, true AS pub, NULL::json AS data FROM plan
  UNION ALL SELECT id, triaged_at, '系统', 'to_triage', 'received', 'triage', '自动派单把握不足，转人工分拨', true, NULL
    FROM plan WHERE triaged_at IS NOT NULL
  UNION ALL SELECT id, dispatched_at, CASE WHEN via_triage THEN '派单员' ELSE '系统' END,
    CASE WHEN via_triage THEN 'dispatch' ELSE 'route' END, CASE WHEN via_triage THEN 'triage' ELSE 'received' END,
    'dispatched', '', true, NULL FROM plan WHERE dispatched_at IS NOT NULL
  UNION ALL SELECT id, signed_at, dept_name, 'sign', 'dispatched', 'signed', '', true, NULL FROM plan WHERE signed_at IS NOT NULL
  UNION ALL SELECT id, accepted_at, dept_name, 'accept', 'signed', 'signed', '', true, NULL FROM plan WHERE accepted_at IS NOT NULL
  UNION ALL SELECT id, replied_at, dept_name, 'reply', 'signed', 'replied',
    '经调查核实，已督促经营者整改，并将处理结果答复当事人。', true, NULL FROM plan WHERE replied_at IS NOT NULL
  UNION ALL SELECT id, reopened_at, '督办人员', 'reopen', 'replied', 'reopened', '当事人对处理结果不满意', true, NULL
    FROM plan WHERE reopened_at IS NOT NULL
  UNION ALL SELECT id, closed_at, '系统', 'close', 'replied', 'closed', '', true, NULL FROM plan WHERE closed_at IS NOT NULL
  UNION ALL SELECT case_id, warned_at, '系统', 'warn_amber', NULL, NULL, '时限将到期', false,
    json_build_object('clock', name, 'clock_id', id) FROM clock WHERE warned_at IS NOT NULL AND warned_at < escalated_at IS NOT FALSE
  UNION ALL SELECT case_id, escalated_at, '系统', 'escalate', NULL, NULL, '时限已超期，列入督办', false,
    json_build_object('clock', name, 'clock_id', id) FROM clock WHERE escalated_at IS NOT NULL
) e ORDER BY at, case_id;
"""

MESSAGES = r"""
INSERT INTO message (case_id, channel, recipient, template, body, status, attempts, idempotency_key,
                     gateway_id, last_error, created_at, sent_at)
SELECT e.case_id, 'sms', c.complainant_phone, 'case_replied',
  '【十小投诉举报】您反映的问题（受理编号' || c.tracking_no || '）已办结。答复内容可凭受理编号查询。',
  'sent', 1, e.case_id || ':' || e.id || ':' || c.complainant_phone || ':case_replied', 'log-' || e.id, '',
  e.at, e.at + interval '3 seconds'
FROM case_event e JOIN "case" c ON c.id = e.case_id
WHERE e.action = 'reply' AND c.complainant_phone <> '' ORDER BY e.id;
"""

EXTRAS = r"""
-- cases first put on the supervisor's list
UPDATE "case" c SET escalated_at = x.first FROM (
  SELECT case_id, min(escalated_at) AS first FROM clock WHERE escalated_at IS NOT NULL GROUP BY case_id) x
WHERE c.id = x.case_id;
-- problem cases (returned or reopened three times): a few open ones, fewer closed ones
UPDATE "case" SET problem_at = received_at + (coalesce(closed_at, updated_at) - received_at) / 2,
                  escalated_at = coalesce(escalated_at, received_at + (coalesce(closed_at, updated_at) - received_at) / 2)
WHERE (status IN ('reopened', 'signed') AND id % 331 = 0) OR (status = 'closed' AND id % 997 = 0);
-- pending extension requests on running deadlines, and decided ones on closed cases
INSERT INTO extension (case_id, clock_id, requested_by_id, requested_at, reason, amount, unit, status,
                       decided_by_id, decided_at, decision_note, old_due_at, new_due_at)
SELECT k.case_id, k.id, NULL, k.started_at + (least(k.due_at, '{t0}') - k.started_at) * 0.8,
  '需现场核查并委托检验，检验周期较长，申请延期。', 15, 'working_days', 'pending', NULL, NULL, '', k.due_at, NULL
FROM (SELECT * FROM clock WHERE stopped_at IS NULL AND name IN ('decision', 'resolve', 'rework')
        AND due_at > '{t0}'::timestamptz + interval '1 day' ORDER BY random() LIMIT {pending}) k;
INSERT INTO extension (case_id, clock_id, requested_by_id, requested_at, reason, amount, unit, status,
                       decided_by_id, decided_at, decision_note, old_due_at, new_due_at)
SELECT k.case_id, k.id, NULL, k.started_at + (k.due_at - k.started_at) * 0.7,
  '需现场核查并委托检验，检验周期较长，申请延期。', 15, 'working_days',
  CASE WHEN k.id % 3 = 0 THEN 'refused' ELSE 'approved' END, NULL,
  k.started_at + (k.due_at - k.started_at) * 0.75, CASE WHEN k.id % 3 = 0 THEN '理由不充分' ELSE '' END,
  k.due_at, CASE WHEN k.id % 3 = 0 THEN NULL ELSE k.due_at + interval '21 days' END
FROM clock k WHERE k.stopped_at IS NOT NULL AND k.name IN ('decision', 'resolve') AND k.id % 151 = 0;
"""

BIG_TABLES = ("case", "clock", "case_event", "message", "extension")


def build(engine, app, args, t0: datetime, t_last: datetime) -> dict:
    """Fill the database; returns timings per step."""
    from werkzeug.security import generate_password_hash

    timings = {}
    fmt = {
        "cases": args.cases,
        "open": args.open,
        "t0": t0.isoformat(),
        "t_last": t_last.isoformat(),
        "gap_h": args.gap / 60,
        "pending": max(5, args.open // 1000),
    }

    def run(label, sql, conn):
        started = time.perf_counter()
        cursor = conn.connection.dbapi_connection.cursor()  # no parameters: '%' is the modulo operator
        for statement in sql.format(**fmt).split(";\n"):
            if statement.strip():
                cursor.execute(statement)
        timings[label] = time.perf_counter() - started
        log(f"  {label:<28} {timings[label]:7.1f} s")

    with engine.connect() as conn:
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.exec_driver_sql("SET work_mem = '256MB'")
        conn.exec_driver_sql("SET temp_buffers = '2GB'")
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql("SET max_parallel_maintenance_workers = 2")
        conn.exec_driver_sql("SET session_replication_role = replica")  # no FK triggers while loading
        # secondary indexes are built once after the load
        dropped = conn.execute(
            sa.text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
                "AND i.tablename = ANY(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)"
            ),
            {"t": list(BIG_TABLES)},
        ).all()
        for name, _ in dropped:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        conn.exec_driver_sql("SELECT setseed(0.42)")
        run("functions and reference", FUNCTIONS + REFERENCE, conn)
        run("plan", PLAN_DRAWS + PLAN_TIMES + PLAN, conn)
        run("case rows", CASES, conn)
        run("clock rows", CLOCKS, conn)
        run("case_event rows", EVENTS, conn)
        run("message rows", MESSAGES, conn)
        run("escalations, extensions", EXTRAS, conn)
        started = time.perf_counter()
        for _, ddl in dropped:
            conn.exec_driver_sql(ddl)
        timings["indexes"] = time.perf_counter() - started
        log(f"  {'indexes':<28} {timings['indexes']:7.1f} s")
        for table in ("case", "clock", "case_event", "message", "extension", "user"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
            )
        # staff on duty, told by the sweep: 2 per department, 1 per township, and per county
        # a dispatcher and an operator (the platform's duties: triage, callback)
        pw = generate_password_hash("pw-duty")
        conn.execute(
            sa.text(
                'INSERT INTO "user" (username, display_name, password_hash, role, county_code, department_id, '
                "township_code, phone, email, active, created_at) "
                "SELECT 'dept' || d.id || '_' || k, d.name || '承办人' || k, :pw, 'department', d.county_code, d.id, "
                "NULL, '+86139' || lpad((d.id * 10 + k)::text, 8, '0'), 'dept' || d.id || '_' || k || '@example.cn', "
                "true, now() FROM department d CROSS JOIN generate_series(1, 2) k "
                "UNION ALL SELECT 'town' || t.code, t.name || '工作人员', :pw, 'township', t.parent_code, NULL, t.code, "
                "'+86137' || right(t.code, 8), 'town' || t.code || '@example.cn', true, now() "
                "FROM division t WHERE t.level = 'township' "
                "UNION ALL SELECT r || c.code, c.name || r, :pw, r, c.code, NULL, NULL, "
                "'+86136' || right(c.code, 6) || CASE r WHEN 'dispatcher' THEN '01' ELSE '02' END, "
                "r || c.code || '@example.cn', true, now() "
                "FROM division c CROSS JOIN (VALUES ('dispatcher'), ('operator')) v(r) WHERE c.level = 'county'"
            ),
            {"pw": pw},
        )
        conn.exec_driver_sql("SET session_replication_role = origin")
        conn.commit()
        conn.exec_driver_sql("DISCARD TEMP")  # the plan tables, before the connection goes back to the pool
        conn.commit()
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    timings["vacuum analyze"] = time.perf_counter() - started
    log(f"  {'vacuum analyze':<28} {timings['vacuum analyze']:7.1f} s")
    return timings


def reset_schema(engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")


def sizes(engine) -> dict:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "AND c.relname = ANY(:t)"
            ),
            {"t": list(BIG_TABLES) + ["user"]},
        ).all()
        db_size = conn.scalar(sa.text("SELECT pg_database_size(current_database())"))
        counts = dict(
            conn.execute(
                sa.text(
                    "SELECT 'open cases', count(*) FROM \"case\" WHERE status <> 'closed' "
                    "UNION ALL SELECT 'running clocks', count(*) FROM clock WHERE stopped_at IS NULL "
                    "UNION ALL SELECT 'red (escalated, running)', count(*) FROM clock WHERE stopped_at IS NULL AND escalated_at IS NOT NULL "
                    "UNION ALL SELECT 'amber (warned only, running)', count(*) FROM clock WHERE stopped_at IS NULL "
                    "  AND warned_at IS NOT NULL AND escalated_at IS NULL "
                    "UNION ALL SELECT 'in ix_clock_to_warn', count(*) FROM clock WHERE stopped_at IS NULL AND warned_at IS NULL "
                    "UNION ALL SELECT 'in ix_clock_to_escalate', count(*) FROM clock WHERE stopped_at IS NULL AND escalated_at IS NULL "
                    "UNION ALL SELECT 'open problem cases', count(*) FROM \"case\" WHERE problem_at IS NOT NULL AND status <> 'closed' "
                    "UNION ALL SELECT 'pending extensions', count(*) FROM extension WHERE status = 'pending'"
                )
            ).all()
        )
    return {"tables": {name: (rows_, size) for name, rows_, size in rows}, "db": db_size, "counts": counts}


def undo_sweeps(engine, meta: dict) -> None:
    """Put back the state the build left (what earlier runs' sweeps changed)."""
    t_last = datetime.fromisoformat(meta["t_last"])
    with engine.begin() as conn:
        p = {"t": t_last, "ev": meta["max_event"], "msg": meta["max_message"]}
        n_msg = conn.execute(sa.text("DELETE FROM message WHERE id > :msg"), p).rowcount
        n_ev = conn.execute(sa.text("DELETE FROM case_event WHERE id > :ev"), p).rowcount
        n_w = conn.execute(sa.text("UPDATE clock SET warned_at = NULL WHERE warned_at > :t"), p).rowcount
        n_e = conn.execute(sa.text("UPDATE clock SET escalated_at = NULL WHERE escalated_at > :t"), p).rowcount
        n_r = conn.execute(
            sa.text(
                "UPDATE clock SET stopped_at = NULL, met = NULL WHERE name = 'return' "
                "AND stopped_at > :t AND stopped_at = due_at"
            ),
            p,
        ).rowcount
        conn.execute(sa.text('UPDATE "case" SET escalated_at = NULL WHERE escalated_at > :t'), p)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("clock", "case", "case_event", "message"):
            conn.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
    log(f"undid earlier sweeps: {n_w} warnings, {n_e} escalations, {n_r} windows, {n_ev} events, {n_msg} messages")


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


class Capture:
    """Record the SQL the app sends (statement, parameters, time) while active."""

    def __init__(self, engine):
        self.engine, self.rows, self.active, self._t = engine, [], False, []
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self._t.append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and self._t:
            self.rows.append((statement, parameters, time.perf_counter() - self._t.pop()))

    def start(self):
        self.rows, self.active = [], True
        return self

    def stop(self):
        self.active = False
        return self.rows


class _Stop(Exception):
    pass


def app_engine(app):
    from intake.extensions import db

    with app.app_context():
        return db.engine


def capture_sweep_updates(app, now: datetime) -> list[tuple[str, dict]]:
    """The UPDATE statements sweep_clocks(now) sends, captured without changing anything."""
    from routing.sweeps import sweep_clocks

    engine = app_engine(app)
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE CLOCK"):
            seen.append((statement, parameters))
        elif seen:
            raise _Stop()

    def commit(conn):
        raise _Stop()

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "commit", commit)
    try:
        with app.app_context():
            sweep_clocks(now=now)
    except (_Stop, sa.exc.StatementError):
        pass
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "commit", commit)
    return seen


def explain(engine, statements: list[tuple[str, dict]], rollback: bool = True) -> list[str]:
    plans = []
    with engine.connect() as conn:
        trans = conn.begin()
        for statement, params in statements:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params or {}).all()
            plans.append("\n".join(r[0] for r in rows))
        trans.rollback() if rollback else trans.commit()
    return plans


COMING = (
    "SELECT amber_at AS t FROM clock WHERE stopped_at IS NULL AND warned_at IS NULL "
    "AND name <> 'return' AND amber_at > :a "
    "UNION ALL SELECT due_at FROM clock WHERE stopped_at IS NULL AND escalated_at IS NULL "
    "AND name <> 'return' AND due_at > :a"
)


def next_moment(engine, after: datetime, k: int) -> datetime:
    """The moment by which about k more duty clocks turn amber or red after `after`.

    Deadlines fall at the end of a day, many at the same instant; when the k-th lands in such a
    crowd that would bring far more than k, stop just before it."""
    with engine.connect() as conn:
        moment = conn.scalar(
            sa.text(f"SELECT t FROM ({COMING}) x ORDER BY t OFFSET :k LIMIT 1"), {"a": after, "k": k - 1}
        )
        if moment is None:
            return after + timedelta(hours=1)
        count = conn.scalar(sa.text(f"SELECT count(*) FROM ({COMING}) x WHERE t <= :m"), {"a": after, "m": moment})
        if count > 1.5 * k:
            earlier = moment - timedelta(microseconds=1)
            if conn.scalar(sa.text(f"SELECT count(*) FROM ({COMING}) x WHERE t <= :m"), {"a": after, "m": earlier}) > 0:
                moment = earlier
    return moment


def run_sweeps(app, engine, t0: datetime) -> list[dict]:
    import intake.jobs
    from intake.redis_conn import get_redis
    from routing.sweeps import sweep_clocks

    results = []
    capture = Capture(app_engine(app))
    enqueue_now, enqueued = intake.jobs.enqueue_now, []

    def timed_enqueue(*a, **kw):
        started = time.perf_counter()
        try:
            return enqueue_now(*a, **kw)
        finally:
            enqueued.append(time.perf_counter() - started)

    def one(label, now):
        with app.app_context():
            capture.start()
            enqueued.clear()
            intake.jobs.enqueue_now = timed_enqueue
            started = time.perf_counter()
            try:
                out = sweep_clocks(now=now)
            finally:
                wall = time.perf_counter() - started
                intake.jobs.enqueue_now = enqueue_now
            rows = capture.stop()
        sql_time = sum(r[2] for r in rows)
        claims = [r for r in rows if r[0].lstrip().upper().startswith("UPDATE CLOCK")]
        row = {
            "label": label,
            "now": now,
            **out,
            "seconds": wall,
            "queries": len(rows),
            "sql_seconds": sql_time,
            "update_ms": [round(r[2] * 1000, 2) for r in claims],
            "jobs": len(enqueued),
            "enqueue_seconds": sum(enqueued),
        }
        n = out["amber"] + out["red"]
        per = f"  {wall / n * 1000:5.1f} ms/clock" if n else ""
        row["load"] = os.getloadavg()[0]
        log(
            f"  {label:<32} amber {out['amber']:5d} red {out['red']:5d} windows {out['windows_closed']:4d} "
            f"{wall * 1000:9.1f} ms{per}  {len(rows):6d} queries ({sql_time * 1000:.0f} ms in SQL)  "
            f"{len(enqueued):6d} jobs ({sum(enqueued) * 1000:.0f} ms)  UPDATEs {row['update_ms']} ms  load {row['load']:.1f}"
        )
        results.append(row)

    get_redis(app).flushdb()
    one(f"T0 ({t0:%a %H:%M} UTC, backlog)", t0)
    one("T0 again (nothing new)", t0)
    now = t0
    for k in (10, 100, 1000, 5000):
        now = next_moment(engine, now, k)
        one(f"+{k} due ({now:%a %H:%M:%S} UTC)", now)
        one("  rerun at the same moment", now)
    with app.app_context():
        queued = get_redis(app).llen("rq:queue:" + app.config["RQ_QUEUE_ROUTING"])
    log(f"  RQ jobs queued by the sweeps: {queued}")
    get_redis(app).flushdb()
    return results


def make_supervisors(app):
    from intake.accounts.models import Role
    from intake.accounts.services import ensure_user
    from intake.extensions import db

    with app.app_context():
        county = db.session.scalar(
            sa.text('SELECT county_code FROM "case" GROUP BY county_code ORDER BY count(*) DESC LIMIT 1')
        )
        ensure_user("bench_sup_all", "pw-bench_sup_all", "督办（全市）", Role.SUPERVISOR)
        ensure_user("bench_sup_county", "pw-bench_sup_county", "督办（县）", Role.SUPERVISOR, county_code=county)
    return county


def time_page(app, engine, username: str, path: str = "/staff/overdue", n: int = 20) -> dict:
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": "pw-" + username})
    assert resp.status_code in (302, 303), f"login failed: {resp.status_code}"
    capture = Capture(app_engine(app))
    for _ in range(2):  # warm-up
        resp = client.get(path)
        assert resp.status_code == 200, resp.status_code
    times, queries, sql_times = [], [], []
    for _ in range(n):
        capture.start()
        started = time.perf_counter()
        resp = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        rows = capture.stop()
        queries.append(len(rows))
        sql_times.append(sum(r[2] for r in rows) * 1000)
        assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    times.sort()
    load = os.getloadavg()[0]
    return {
        "user": username,
        "path": path,
        "median": statistics.median(times),
        "p95": times[max(0, int(round(0.95 * len(times))) - 1)],
        "max": times[-1],
        "queries": statistics.median(queries),
        "sql_ms": statistics.median(sql_times),
        "rows": body.count("<tr>"),
        "bytes": len(body),
        "statements": rows,
        "load": load,
    }


def page_parts(app, username: str, n: int = 10) -> dict:
    """Where the page's time goes: each query function of the view, and the template, timed alone."""
    from flask import render_template
    from flask_login import login_user

    from intake.accounts.models import User
    from intake.extensions import db
    from intake.staff import extension_requests as extensions
    from routing import sweeps

    times = {
        k: []
        for k in (
            "overdue_clocks",
            "overdue_summary (uncached)",
            "problem_cases",
            "pending_extensions",
            "render",
            "render without pending",
        )
    }
    for _ in range(n + 2):
        with app.test_request_context("/staff/overdue"):
            user = db.session.scalar(sa.select(User).filter_by(username=username))
            login_user(user)

            def timed(key, fn, *a, **kw):
                started = time.perf_counter()
                out = fn(*a, **kw)
                times[key].append(time.perf_counter() - started)
                return out

            clocks = timed("overdue_clocks", sweeps.overdue_clocks, user.county_code)
            summary = timed("overdue_summary (uncached)", sweeps.overdue_summary, user.county_code)
            problems = timed("problem_cases", sweeps.problem_cases, user.county_code)
            pending = timed("pending_extensions", extensions.pending_extensions, user, limit=50)
            kw = {
                "clocks": clocks,
                "summary": summary,
                "problems": problems,
                "filtered": False,
                "pending_total": len(pending),
            }
            timed("render", render_template, "staff/overdue.html", pending=pending, **kw)
            timed("render without pending", render_template, "staff/overdue.html", pending=[], **kw)
            db.session.remove()
    counts = {"clocks": len(clocks), "problems": len(problems), "pending": len(pending)}
    return {"ms": {k: statistics.median(v[2:]) * 1000 for k, v in times.items()}, "counts": counts}


def slowest(statements, k=6) -> list[str]:
    out = []
    for statement, _params, seconds in sorted(statements, key=lambda r: -r[2])[:k]:
        out.append(f"    {seconds * 1000:7.2f} ms  " + " ".join(statement.split())[:160])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database", required=True, help="postgresql://… of a database for this benchmark only")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=100_000)
    ap.add_argument("--gap", type=float, default=60, help="minutes since the last sweep at T0 (default 60)")
    ap.add_argument("--reuse", action="store_true", help="keep a matching earlier build, undo its sweeps")
    ap.add_argument("--skip-sweeps", action="store_true", help="measure the overdue page only")
    ap.add_argument("--requests", type=int, default=20)
    args = ap.parse_args()

    url = sql_url(args.database)
    ensure_database(url)
    engine = sa.create_engine(url)
    meta = read_meta(engine)
    reuse = bool(
        args.reuse
        and meta
        and meta.get("cases") == args.cases
        and meta.get("open") == args.open
        and meta.get("gap") == args.gap
    )
    log(f"{args.cases:,} cases, {args.open:,} open; database {engine.url.render_as_string(hide_password=True)}")
    total_started = time.perf_counter()
    if args.skip_sweeps and meta:
        app = make_app(url)
        t0, t_last = datetime.fromisoformat(meta["t0"]), datetime.fromisoformat(meta["t_last"])
    elif reuse:
        from flask_migrate import upgrade

        from intake.extensions import db
        from intake.seeding import seed_all

        app = make_app(url)
        with app.app_context():
            upgrade()  # the code may have moved on since the build
            seed_all()
            db.session.commit()
        undo_sweeps(engine, meta)
        t0, t_last = datetime.fromisoformat(meta["t0"]), datetime.fromisoformat(meta["t_last"])
    else:
        from flask_migrate import upgrade

        from intake.extensions import db
        from intake.seeding import seed_all

        t0 = bench_t0()
        t_last = t0 - timedelta(minutes=args.gap)
        started = time.perf_counter()
        reset_schema(engine)
        app = make_app(url)
        with app.app_context():
            upgrade()
            seed_all()
            db.session.commit()
        log(f"  {'migrations and seed':<28} {time.perf_counter() - started:7.1f} s")
        timings = build(engine, app, args, t0, t_last)
        with engine.connect() as conn:
            max_event = conn.scalar(sa.text("SELECT max(id) FROM case_event"))
            max_message = conn.scalar(sa.text("SELECT max(id) FROM message"))
        meta = {
            "cases": args.cases,
            "open": args.open,
            "gap": args.gap,
            "t0": t0.isoformat(),
            "t_last": t_last.isoformat(),
            "max_event": max_event,
            "max_message": max_message,
            "build_seconds": round(time.perf_counter() - total_started, 1),
            "timings": {k: round(v, 1) for k, v in timings.items()},
        }
        write_meta(engine, meta)
        log(f"build: {meta['build_seconds']:.1f} s in all")
    s = sizes(engine)
    log(f"T0 = {t0:%Y-%m-%d %H:%M} UTC ({t0.astimezone(TZ):%a %H:%M} Beijing), last sweep at T0 - {args.gap:g} min")
    for name, (rows, size) in sorted(s["tables"].items()):
        log(f"  {name:<12} {rows:>11,} rows  {size / 2**20:8.0f} MiB (with indexes)")
    log(f"  database {s['db'] / 2**30:.2f} GiB")
    for name, value in s["counts"].items():
        log(f"  {name:<30} {value:>9,}")
    if not args.skip_sweeps:
        sweep_part(app, engine, t0)
    page_part(app, engine, args)
    log(f"\ntotal {time.perf_counter() - total_started:.0f} s")


def sweep_part(app, engine, t0):
    # The sweep's UPDATEs, explained at T0 before any sweep (rolled back)
    log("\n== EXPLAIN (ANALYZE, BUFFERS) of the sweep's UPDATEs at T0 (rolled back)")
    for plan in explain(engine, capture_sweep_updates(app, t0)):
        log(plan + "\n")

    log("== sweep_clocks(now)")
    sweep_results = run_sweeps(app, engine, t0)

    log("\n== EXPLAIN of the sweep's UPDATEs right after a sweep (nothing new, rolled back)")
    last_now = sweep_results[-1]["now"]
    for plan in explain(engine, capture_sweep_updates(app, last_now)):
        log(plan + "\n")

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) clock")
        conn.exec_driver_sql('VACUUM (ANALYZE) "case"')


def page_part(app, engine, args):
    county = make_supervisors(app)
    with engine.connect() as conn:
        flagged = conn.execute(
            sa.text(
                'SELECT count(*), count(*) FILTER (WHERE c.county_code = :c) FROM clock k JOIN "case" c '
                "ON c.id = k.case_id WHERE k.stopped_at IS NULL AND k.warned_at IS NOT NULL AND k.name <> 'return'"
            ),
            {"c": county},
        ).one()
    log(
        f"\n== GET /staff/overdue ({args.requests} requests after 2 warm-ups); flagged clocks: "
        f"{flagged[0]:,} in all, {flagged[1]:,} in county {county}"
    )
    pages = []
    for user in ("bench_sup_all", "bench_sup_county"):
        page = time_page(app, engine, user, n=args.requests)
        pages.append(page)
        log(
            f"  {user:<18} median {page['median']:7.1f} ms  p95 {page['p95']:7.1f} ms  max {page['max']:7.1f} ms  "
            f"{page['queries']:.0f} queries, {page['sql_ms']:.1f} ms in SQL, {page['rows']} table rows, "
            f"{page['bytes'] / 1024:.0f} KiB, load average {page['load']:.1f}"
        )
        log("\n".join(slowest(page["statements"])))
        parts = page_parts(app, user)
        log(
            "    parts (median of 10, each alone): "
            + ", ".join(f"{k} {v:.1f} ms" for k, v in parts["ms"].items())
            + f"; rows {parts['counts']}"
        )

    # the page's queries, explained
    for page in pages:
        log(f"\n== EXPLAIN (ANALYZE, BUFFERS) of the overdue page's queries ({page['user']})")
        for statement, params, _ in page["statements"]:
            flat = " ".join(statement.split())
            if "FROM clock" in flat or '"case".problem_at IS NOT NULL' in flat or "FROM extension" in flat:
                log("-- " + flat[:200] + ("…" if len(flat) > 200 else ""))
                log(explain(engine, [(statement, params)])[0] + "\n")


if __name__ == "__main__":
    main()
