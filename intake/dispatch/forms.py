from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from intake.extensions import db
from intake.reference.models import Industry

LEAD_KINDS = [("", _l("按路由表")), ("market", "市场监督管理局"), ("agriculture", "农业农村局"),
              ("culture", "文化和广电旅游体育局"), ("commerce", "商务局"), ("health", "卫生健康局"),
              ("transport", "交通运输局"), ("housing", "住房和城乡建设局"), ("emergency", "应急管理局")]


class DispatchForm(FlaskForm):
    township = StringField(_l("乡镇（街道）：输入几个字或拼音首字母"),
                           [InputRequired(_l("请选择案件所在的乡镇（街道）。")), Length(max=64)])
    industry = SelectField(_l("行业"), validators=[InputRequired(_l("请选择行业。"))])
    lead_kind = SelectField(_l("牵头部门"), choices=[SelectChoice(k, v) for k, v in LEAD_KINDS],
                            validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = db.session.scalars(db.select(Industry).order_by(Industry.position)).all()
        self.industry.choices = [SelectChoice(i.code, i.name) for i in rows]

    @property
    def township_code(self) -> str:
        """The code at the start of what was picked ('330324009 瓯北街道 …')."""
        return (self.township.data or "").strip().split(" ")[0]


class TransferForm(FlaskForm):
    reason = TextAreaField(_l("转出说明（告诉市民应向哪里反映）"),
                           [InputRequired(_l("转出须写明应向哪里反映。")), Length(max=1000)])
