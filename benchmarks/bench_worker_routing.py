"""How long routing takes inside a real forking RQ worker, per case.

Run: INSTANCE_PATH=/tmp/bench-inst .venv/bin/python benchmarks/bench_worker_routing.py [N]
(uses DATABASE_URL / REDIS_URL when set; else a fresh SQLite and the embedded Redis).
"""

import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="bench-"))

from flask_migrate import upgrade  # noqa: E402

from intake import create_app  # noqa: E402
from intake.cases.models import Case, CaseKind, Channel  # noqa: E402
from intake.cases.services import Submission, submit_case  # noqa: E402
from intake.extensions import db  # noqa: E402
from intake.redis_conn import get_queue  # noqa: E402
from intake.seeding import seed_all  # noqa: E402
from intake.worker import run_worker  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
TEXTS = [
    ("好日子大药房", "永嘉县瓯北街道罗浮大街{}号", "买的感冒药过期了，店员不肯退。"),
    ("江边农资店", "永嘉县桥头镇{}号", "买的复合肥是假的，庄稼不长。"),
    ("", "海宁市许村镇{}号", "送气工送来的液化气钢瓶漏气，过期没检测。"),
    ("小鱼美发", "连云区连云街道{}号", "办了会员卡，店关门不退钱。"),
]


def main() -> None:
    app = create_app()
    with app.app_context():
        upgrade()
        seed_all()
        db.session.commit()
        get_queue(app).empty()
        for i in range(N):
            name, address, text = TEXTS[i % len(TEXTS)]
            submit_case(
                Submission(
                    kind=CaseKind.COMPLAINT,
                    channel=Channel.API,
                    description=text,
                    business_name=name,
                    business_address=address.format(i),
                    complainant_name="测",
                    complainant_phone="+8613812345678",
                )
            )
        db.session.commit()  # the routing jobs are enqueued once the cases are committed
        ids = [c for c in db.session.scalars(db.select(Case.id).order_by(Case.id.desc()).limit(N))]
        queue = get_queue(app)
        started = time.perf_counter()
        run_worker(app, burst=True, cron=False)
        wall = time.perf_counter() - started
        job_times = []
        for case_id in ids:
            job = queue.fetch_job(f"route-case-{case_id}")
            if job and job.started_at and job.ended_at:
                job_times.append((job.ended_at - job.started_at).total_seconds() * 1000)
    print(f"{N} cases routed by a forking worker in {wall:.2f} s ({N / wall:.0f} cases/s, fork per job)")
    print(
        f"route_case inside the work horse: median {statistics.median(job_times):.1f} ms, "
        f"p95 {sorted(job_times)[int(len(job_times) * 0.95) - 1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
