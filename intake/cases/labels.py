"""What staff and citizens read for each status, event and clock: every label in one place.

Every event the code writes (`transition()` and `record()` in intake.cases.workflow) must have a
label here, and every clock a case runs; `tests/intake/test_registries.py` checks both.
"""

from flask_babel import lazy_gettext as _l

from intake.cases.models import CaseStatus as S

STATUS_LABELS = {
    S.RECEIVED: _l("已受理，待分派"),
    S.TRIAGE: _l("人工分拨中"),
    S.DISPATCHED: _l("已派单，待签收"),
    S.SIGNED: _l("办理中"),
    S.REPLIED: _l("已办结答复"),
    S.REOPENED: _l("重新办理中"),
    S.CLOSED: _l("已结案"),
}

# every event a case's history may hold: the moves of the workflow and the other records
ACTION_LABELS = {
    "receive": _l("受理登记"),
    "route": _l("自动派单"),
    "to_triage": _l("转人工分拨"),
    "dispatch": _l("人工派单"),
    "reroute": _l("补充信息后重新自动分派"),
    "details_added": _l("短信补充情况"),
    "sign": _l("签收"),
    "return": _l("退单"),
    "accept": _l("决定受理"),
    "reply": _l("办结答复"),
    "close": _l("结案"),
    "reopen": _l("发回重办"),
    "answer": _l("当场答复"),
    "merge": _l("重复件合并"),
    "transfer_out": _l("转出（非本渠道受理范围）"),
    "flag_duplicate": _l("疑似重复件"),
    "merged_from": _l("并入重复件"),
    "warn_amber": _l("时限预警"),
    "escalate": _l("超期督办"),
    "problem_case": _l("列为问题件"),
    "extension_requested": _l("申请延期"),
    "extension_approved": _l("批准延期"),
    "extension_refused": _l("不予延期"),
    "callback_asked": _l("发送满意度回访"),
    "callback_answered": _l("回访结果"),
    "callback_dissatisfied": _l("回访不满意"),
    "site_visit": _l("属地现场核查（协办意见）"),
    "co_opinion": _l("配合部门协办意见"),
}

# every clock a case may run (intake.cases.lifecycle starts them), and the extension a policy allows
CLOCK_LABELS = {
    "triage": _l("人工分拨期限"),
    "sign": _l("签收期限"),
    "return": _l("退单期限"),
    "decision": _l("受理/立案决定期限"),
    "resolve": _l("办结期限"),
    "callback": _l("回访期限"),
    "rework": _l("重办期限"),
    "extension": _l("可延长期限（一次）"),
}

# What a citizen reads (the lookup page, the API, the 查询 SMS): what is true in plain words.
# Nothing is 受理 before a department decides, and internal terms (分拨, 派单, 退单) stay inside.
PUBLIC_STATUS_LABELS = {
    S.RECEIVED: _l("已登记，待转交承办部门"),
    S.TRIAGE: _l("已登记，正在确定承办部门"),
    S.DISPATCHED: _l("已转交承办部门，待签收"),
    S.SIGNED: _l("承办部门办理中"),
    S.REPLIED: _l("已办结答复"),
    S.REOPENED: _l("重新办理中"),
    S.CLOSED: _l("已结案"),
}
MERGED_LABEL = _l("已并入 %(no)s")
TRANSFERRED_LABEL = _l("不属本平台受理范围，已告知反映渠道")

# the events a citizen reads in other words than staff do; the rest read as ACTION_LABELS
PUBLIC_ACTION_LABELS = {
    "receive": _l("登记"),
    "route": _l("转交承办部门"),
    "to_triage": _l("由工作人员确定承办部门"),
    "dispatch": _l("转交承办部门"),
    "reroute": _l("补充信息后转交承办部门"),
    "sign": _l("承办部门签收"),
    "return": _l("重新确定承办部门"),
    "merge": _l("与其他案件反映同一问题，合并办理"),
    "transfer_out": _l("转出（不属本平台受理范围）"),
}
