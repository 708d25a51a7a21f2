from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from intake.extensions import db
from intake.forms import IntakeForm
from intake.places.services import resolve_place
from intake.reference.models import Industry
from intake.reference.seed import department_kind_names


class DispatchForm(IntakeForm):
    township = StringField(
        _l("乡镇（街道）：输入几个字或拼音首字母"),
        [InputRequired(_l("请选择案件所在的乡镇（街道）。")), Length(max=64)],
    )
    township_code = HiddenField()
    industry = SelectField(_l("行业"), validators=[InputRequired(_l("请选择行业。"))])
    lead_kind = SelectField(_l("牵头部门"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.scalars(db.select(Industry).order_by(Industry.position)).all()
        self.industry.choices = [SelectChoice(i.code, i.name) for i in rows]
        self.lead_kind.choices = [SelectChoice("", _l("按路由表"))] + [
            SelectChoice(kind, name) for kind, name in department_kind_names().items()
        ]

    def chosen_township(self) -> str:
        """The township picked from the list; a name typed without picking, as the place search resolves it."""
        return (self.township_code.data or "").strip() or resolve_place(self.township.data) or ""


class TransferForm(IntakeForm):
    reason = TextAreaField(
        _l("转出说明（告诉市民应向哪里反映）"), [InputRequired(_l("转出须写明应向哪里反映。")), Length(max=1000)]
    )
