"""The supervisor's decision on a dissatisfied callback."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from intake.forms import IntakeForm


class CallbackReviewForm(IntakeForm):
    decision = SelectField(
        _l("处理意见"),
        choices=[
            SelectChoice("reopen", _l("发回重办")),
            SelectChoice("confirm", _l("维持原答复，结案")),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("理由"), [InputRequired(_l("请写明理由。")), Length(max=1000)])
