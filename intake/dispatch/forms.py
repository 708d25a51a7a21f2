from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from intake.extensions import db
from intake.reference.models import Industry
from intake.reference.seed import department_kind_names

class DispatchForm(FlaskForm):
    township = StringField(_l("乡镇（街道）：输入几个字或拼音首字母"),
                           [InputRequired(_l("请选择案件所在的乡镇（街道）。")), Length(max=64)])
    industry = SelectField(_l("行业"), validators=[InputRequired(_l("请选择行业。"))])
    lead_kind = SelectField(_l("牵头部门"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.scalars(db.select(Industry).order_by(Industry.position)).all()
        self.industry.choices = [SelectChoice(i.code, i.name) for i in rows]
        self.lead_kind.choices = [SelectChoice("", _l("按路由表"))] + [
            SelectChoice(kind, name) for kind, name in department_kind_names().items()]

    @property
    def township_code(self) -> str:
        """The code at the start of what was picked ('330324009 瓯北街道 …')."""
        return (self.township.data or "").strip().split(" ")[0]


class TransferForm(FlaskForm):
    reason = TextAreaField(_l("转出说明（告诉市民应向哪里反映）"),
                           [InputRequired(_l("转出须写明应向哪里反映。")), Length(max=1000)])
