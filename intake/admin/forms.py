"""Forms for the administrator's pages; domain rules come from intake.admin.services."""

from flask_babel import lazy_gettext as _l
from limits import parse_many
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FloatField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError

from intake.accounts import services as account_services
from intake.accounts.models import ROLE_LABELS, Role
from intake.admin import services
from intake.forms import IntakeForm
from intake.navigation import MAX_YEAR, MIN_YEAR, in_years
from notify import services as notify_services
from routing import reference


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class ChineseParseError:
    """A field whose "cannot read this" error is the given Chinese message."""

    parse_error = _l("请填写整数。")

    def __init__(self, *args, parse_error=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parse_error = parse_error or self.parse_error

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(self.parse_error) from None


class ChineseIntegerField(ChineseParseError, IntegerField):
    pass


class ChineseDateField(ChineseParseError, DateField):
    pass


class ChineseDateTimeLocalField(ChineseParseError, DateTimeLocalField):
    pass


AMOUNT_MESSAGE = _l("时限须为 %(min)s 到 %(max)s 之间的整数。")  # NumberRange fills these in


class _PolicyLength(IntakeForm):
    """How long a policy's clock runs, and on what authority."""

    amount = ChineseIntegerField(
        _l("时长"),
        [InputRequired(_l("请填写时长。")), NumberRange(services.AMOUNT_MIN, services.AMOUNT_MAX, AMOUNT_MESSAGE)],
    )
    unit = SelectField(
        _l("单位"),
        choices=_choices(services.UNIT_LABELS),
        validate_choice=False,
        validators=[InputRequired(_l("请选择单位。"))],
    )
    note = StringField(_l("说明（依据、文号）"), [Length(max=200, message=_l("说明不能超过 200 个字。"))])


class PolicyEditForm(_PolicyLength):
    """A new length for one policy; saved as a new row in force from now."""

    def __init__(self, policy, *args, **kwargs):
        kwargs.setdefault("prefix", f"policy-{policy.id}")
        super().__init__(*args, **kwargs)
        self.policy = policy

    def validate_unit(self, field):
        p = self.policy
        _check(p.jurisdiction, p.case_kind, p.urgent, p.clock, field.data)


class PolicyAddForm(_PolicyLength):
    """A time limit for a county, case kind, urgency and clock."""

    jurisdiction = SelectField(_l("辖区"), validate_choice=False, validators=[InputRequired(_l("请选择辖区。"))])
    case_kind = SelectField(
        _l("案件类型"),
        choices=_choices(services.KIND_LABELS),
        validate_choice=False,
        validators=[InputRequired(_l("请选择案件类型。"))],
    )
    urgent = BooleanField(_l("紧急件"))
    clock = SelectField(
        _l("时限"),
        choices=_choices(services.POLICY_CLOCK_LABELS),
        validate_choice=False,
        validators=[InputRequired(_l("请选择时限。"))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.jurisdiction.choices = [SelectChoice("*", _l("全部"))] + _choices(services.county_names())

    def validate_unit(self, field):
        _check(self.jurisdiction.data, self.case_kind.data, self.urgent.data, self.clock.data, field.data)


def _check(jurisdiction, case_kind, urgent, clock, unit) -> None:
    # One set of rules, in services (choices included, hence validate_choice=False above);
    # the amount has its own validator, so 1 stands in for it here.
    try:
        services.check_policy(jurisdiction, case_kind, bool(urgent), clock, 1, unit)
    except services.PolicyError as exc:
        raise ValidationError(str(exc)) from None


class DeadlineForm(IntakeForm):
    """Try a limit: from a local start time, when would it end? Read-only, sent by GET."""

    class Meta:
        csrf = False

    start = ChineseDateTimeLocalField(
        _l("起算时间（北京时间）"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[InputRequired(_l("请填写起算时间。"))],
        parse_error=_l("起算时间应写成 2026-09-28 10:00 这样的格式。"),
    )
    amount = ChineseIntegerField(
        _l("时长"),
        [InputRequired(_l("请填写时长。")), NumberRange(0, 3650, _l("时长须为 %(min)s 到 %(max)s 之间的整数。"))],
    )
    unit = SelectField(
        _l("单位"), choices=_choices(services.UNIT_LABELS), validators=[InputRequired(_l("请选择单位。"))]
    )

    def validate_start(self, field):
        if field.data and not in_years(field.data):
            raise ValidationError(_l("起算时间须在 %(min)s 年到 %(max)s 年之间。", min=MIN_YEAR, max=MAX_YEAR))


class CalendarDayForm(IntakeForm):
    day = ChineseDateField(
        _l("日期"),
        validators=[InputRequired(_l("请填写日期，例如 2027-02-06。"))],
        parse_error=_l("日期应写成 2027-02-06 这样的格式。"),
    )
    kind = RadioField(
        _l("类别"),
        choices=[SelectChoice("holiday", _l("放假")), SelectChoice("workday", _l("调休上班"))],
        default="holiday",
        validators=[InputRequired(_l("请选择放假或调休上班。"))],
    )
    note = StringField(_l("说明（如：春节）"), [Length(max=64, message=_l("说明不能超过 64 个字。"))])

    def validate_kind(self, field):
        if self.day.data is None:
            return
        try:
            self.entry = services.calendar_entry(self.day.data, field.data == "workday", self.note.data or "")
        except services.CalendarImportError as exc:
            raise ValidationError(str(exc)) from None


class CalendarImportForm(IntakeForm):
    text = TextAreaField(
        _l("粘贴一年的安排（每行：日期,1 或 0,说明；1 为调休上班，0 为放假）"),
        [InputRequired(_l("请粘贴要录入的日期。")), Length(max=20000)],
    )

    def validate_text(self, field):
        try:
            self.entries = services.parse_calendar(field.data)
        except services.CalendarImportError as exc:
            raise ValidationError(str(exc)) from None


class MessageFilterForm(IntakeForm):
    """Which outbound messages to list; read-only, sent by GET."""

    class Meta:
        csrf = False

    status = SelectField(_l("状态"), validate_choice=False, default="")
    channel = SelectField(
        _l("渠道"),
        validate_choice=False,
        default="",
        choices=[SelectChoice("", _l("全部"))] + _choices(notify_services.CHANNEL_LABELS),
    )
    recipient = StringField(_l("收件人（号码或邮箱，可只填一部分）"), [Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", _l("全部"))] + _choices(notify_services.STATUS_LABELS)

    def validate_status(self, field):
        if field.data and field.data not in notify_services.STATUS_LABELS:
            raise ValidationError(_l("没有这种状态。"))

    def validate_channel(self, field):
        if field.data and field.data not in notify_services.CHANNEL_LABELS:
            raise ValidationError(_l("没有这种渠道。"))


class MessageTemplateForm(IntakeForm):
    """New wording for one message template, checked by rendering it with sample values."""

    text = TextAreaField(
        _l("模板内容"),
        [InputRequired(_l("请填写模板内容。")), Length(max=1000, message=_l("模板不能超过 1000 个字。"))],
    )

    def __init__(self, key: str, *args, **kwargs):
        kwargs.setdefault("prefix", f"template-{key}")
        super().__init__(*args, **kwargs)
        self.key = key

    def validate_text(self, field):
        try:
            self.preview = notify_services.check_template(self.key, field.data)
        except notify_services.TemplateError as exc:
            raise ValidationError(str(exc)) from None


# --- reference data (/admin/reference/…); the rules are routing.reference's ----------------------


class ChineseFloatField(ChineseParseError, FloatField):
    parse_error = _l("请填写数字。")


class DepartmentForm(IntakeForm):
    name = StringField(
        _l("部门名称"),
        [InputRequired(_l("请填写部门名称。")), Length(2, 64, _l("部门名称须为 2 到 64 个字。"))],
    )


class RuleForm(IntakeForm):
    """The lead department kind and the co-handlers for one industry in one county."""

    lead = SelectField(_l("牵头部门"), validate_choice=False, validators=[InputRequired(_l("请选择牵头部门。"))])
    co = SelectMultipleField(_l("配合部门"), validate_choice=False)

    def __init__(self, kinds: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.lead.choices = _choices(kinds)
        self.co.choices = _choices(kinds)

    def validate_lead(self, field):
        if field.data not in self.kinds:
            raise ValidationError(_l("该县没有这类部门。"))

    def validate_co(self, field):
        if any(k not in self.kinds for k in field.data or []):
            raise ValidationError(_l("该县没有这类部门。"))
        if self.lead.data in (field.data or []):
            raise ValidationError(_l("牵头部门不能同时是配合部门。"))


class AliasForm(IntakeForm):
    """Another name people use for one of the county's divisions."""

    code = StringField(_l("区划代码"), [InputRequired(_l("请填写区划代码。"))])
    name = StringField(_l("别名"), [InputRequired(_l("请填写别名。")), Length(2, 32, _l("别名须为 2 到 32 个字。"))])

    def __init__(self, county_code: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.county_code = county_code

    def validate_code(self, field):
        field.data = (field.data or "").strip()
        if not field.data.startswith(self.county_code):
            raise ValidationError(_l("区划代码须为本县或其下乡镇、村社区的代码。"))


class TermForm(IntakeForm):
    """A word of the classifier and its weight."""

    term = StringField(_l("词语"), [InputRequired(_l("请填写词语。")), Length(1, 64, _l("词语须为 1 到 64 个字。"))])
    industry = SelectField(_l("行业"), validate_choice=False, validators=[InputRequired(_l("请选择行业。"))])
    weight = ChineseFloatField(
        _l("权重"),
        [
            InputRequired(_l("请填写权重。")),
            NumberRange(reference.WEIGHT_MIN, reference.WEIGHT_MAX, _l("权重须在 %(min)s 到 %(max)s 之间。")),
        ],
    )
    note = StringField(_l("说明"), [Length(max=200, message=_l("说明不能超过 200 个字。"))])

    def __init__(self, industries: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.industries = industries
        self.industry.choices = _choices(industries)

    def validate_industry(self, field):
        if field.data not in self.industries:
            raise ValidationError(_l("没有这个行业。"))


class SmsWordForm(IntakeForm):
    """A word that makes an inbound SMS a tip, inquiry or suggestion, or urgent."""

    word = StringField(
        _l("关键词"),
        [
            InputRequired(_l("请填写关键词。")),
            Length(1, reference.SMS_WORD_MAX, _l("关键词须为 1 到 %(max)d 个字。")),
        ],
    )
    meaning = SelectField(
        _l("用途"),
        choices=_choices(reference.SMS_MEANINGS),
        validate_choice=False,
        validators=[InputRequired(_l("请选择用途。"))],
    )

    def validate_word(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(_l("请填写关键词。"))

    def validate_meaning(self, field):
        if field.data not in reference.SMS_MEANINGS:
            raise ValidationError(_l("没有这种用途。"))


class TermWeightForm(IntakeForm):
    weight = TermForm.weight
    note = TermForm.note


# --- staff users: the fields here, the rule in intake.accounts.services (the CLI uses it too) -----


class UserForm(IntakeForm):
    """A staff user's name, role, unit, county and contacts; `validate` runs the one saving rule."""

    display_name = StringField(_l("姓名"), [InputRequired(_l("请填写姓名。"))])
    role = SelectField(
        _l("角色"),
        choices=_choices({r.value: label for r, label in ROLE_LABELS.items()}),
        validate_choice=False,
        validators=[InputRequired(_l("请选择角色。"))],
    )

    def validate_role(self, field):
        if field.data not in {r.value for r in Role}:
            raise ValidationError(_l("没有这个角色。"))

    county_code = SelectField(_l("所属县（市、区）"), validate_choice=False, default="")
    department_id = SelectField(_l("所属部门（部门承办人必填）"), validate_choice=False, default="")
    township_code = SelectField(_l("所属乡镇（街道）（乡镇工作人员必填）"), validate_choice=False, default="")
    phone = StringField(_l("手机号码（接收值班短信）"), [Length(max=32, message=_l("号码太长。"))])
    email = StringField(_l("电子邮箱（接收值班邮件）"), [Length(max=200, message=_l("邮箱不能超过 200 个字。"))])
    on_duty = BooleanField(_l("值班：接收本部门或本乡镇（街道）的派单、预警等通知"), default=True)

    def __init__(self, *args, region: str = "CN", **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region
        self.county_code.choices = [SelectChoice("", _l("全部（不限县）"))] + [
            SelectChoice(code, name) for code, name in account_services.county_choices()
        ]
        self.department_id.choices = [SelectChoice("", _l("无"))] + [
            SelectChoice(str(i), label) for i, label in account_services.department_choices()
        ]
        self.township_code.choices = [SelectChoice("", _l("无"))] + [
            SelectChoice(code, label) for code, label in account_services.township_choices()
        ]

    @property
    def fields(self) -> account_services.StaffFields:
        department = self.department_id.data or ""
        return account_services.StaffFields(
            self.display_name.data or "",
            Role(self.role.data),
            county_code=self.county_code.data or None,
            department_id=int(department) if department.isdigit() else None,
            township_code=self.township_code.data or None,
            phone=self.phone.data or "",
            email=self.email.data or "",
            on_duty=bool(self.on_duty.data),
        )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.role.errors:
            return False
        try:
            self.checked = account_services.check_staff(self.fields, self.region)
        except account_services.UserError as exc:
            getattr(self, exc.field).errors.append(str(exc))
            return False
        return ok


class NewUserForm(UserForm):
    """A new staff user: also a username and the first password, typed by the administrator."""

    username = StringField(_l("用户名（登录用）"), [InputRequired(_l("请填写用户名。"))])
    password = PasswordField(_l("初始密码（至少 8 位，由您告知本人）"), [InputRequired(_l("请填写初始密码。"))])

    def validate_username(self, field):
        try:
            field.data = account_services.check_username(field.data)
        except account_services.UserError as exc:
            raise ValidationError(str(exc)) from None

    def validate_password(self, field):
        try:
            account_services.check_password(field.data)
        except account_services.UserError as exc:
            raise ValidationError(str(exc)) from None


class PasswordResetForm(IntakeForm):
    password = PasswordField(_l("新密码（至少 8 位，由您告知本人）"), [InputRequired(_l("请填写新密码。"))])

    def validate_password(self, field):
        try:
            account_services.check_password(field.data)
        except account_services.UserError as exc:
            raise ValidationError(str(exc)) from None


class Open311KeyForm(IntakeForm):
    """An Open311 API key for another organisation, with the limit on its requests."""

    organisation = StringField(
        _l("使用单位"),
        [
            InputRequired(_l("请填写使用这个 key 的单位。")),
            Length(max=200, message=_l("单位名称不能超过 %(max)d 个字。")),
        ],
    )
    rate_limit = StringField(
        _l("频率限制"),
        [InputRequired(_l("请填写频率限制，例如 60 per minute;2000 per day。")), Length(max=64)],
    )

    def validate_organisation(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(_l("请填写使用这个 key 的单位。"))

    def validate_rate_limit(self, field):
        field.data = (field.data or "").strip()
        try:
            parse_many(field.data)
        except ValueError:
            raise ValidationError(_l("看不懂这个频率限制：请写成“60 per minute”，多条用分号隔开。"))
