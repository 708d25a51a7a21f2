"""The text router is a library of its own: it loads no web framework, ORM or app code."""

import json
import subprocess
import sys

PROBE = """
import json, sys
from routing.router import build_router, load_reference
from routing.router.evaluate import predict_line
router = build_router(load_reference())
line = predict_line(router, {"id": "x", "text": "瓯北街道一家药店卖过期药", "business_name": None,
                             "address": None, "caller_phone": None})
loaded = sorted({m.split('.')[0] for m in sys.modules} & {"flask", "sqlalchemy", "flask_sqlalchemy", "intake", "redis", "rq"})
print(json.dumps({"loaded": loaded, "township": line["township"]}))
"""


def test_router_routes_without_the_app_or_a_database():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["township"] == "330324009"  # 瓯北街道
