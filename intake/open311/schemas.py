"""The Open311 forms and answers as pydantic models: what /api/v1/openapi.json says of /open311/v2.

The fields and their types are GeoReport v2's (the answers validate against open311/schema-validation's
JSON schemas: tests/data/open311). The POST form is checked by `RequestForm` for its types before
intake/open311/forms.py maps it to our JSON case, which the case rules check (intake/cases/rules.py).
Only the `.json` forms are in the document; each endpoint answers the same in XML by `.xml`.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

Text = str


class RequestForm(BaseModel):
    """POST requests.json, form-encoded (the api_key goes in the query or the form: see security)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")  # the spec lets clients send more

    jurisdiction_id: Text | None = Field(
        None, description="本系统的辖区代码（配置了 OPEN311_JURISDICTION_ID 时须一致）"
    )
    service_code: Text = Field(description="服务代码：行业-类型，如 pharmacy-complaint（GET services.json）")
    description: Text | None = Field(None, description="发生了什么（与网页表单同一规则）")
    address_string: Text | None = Field(None, description="商家地址；没有 lat/long 时必填")
    address_id: Text | None = None
    lat: Text | None = Field(None, description="纬度（WGS84，十进制度）；与 long 同时给出，仅保存，不按坐标分拨")
    long: Text | None = Field(None, description="经度（WGS84，十进制度）")
    first_name: Text | None = Field(None, description="名（与 last_name 合为姓名；投诉必填）")
    last_name: Text | None = Field(None, description="姓")
    phone: Text | None = Field(None, description="手机或带区号的固定电话（投诉、实名举报必填）")
    email: Text | None = Field(None, description="接受，不保存")
    device_id: Text | None = None
    account_id: Text | None = None
    media_url: Text | None = Field(None, description="接受，不保存")
    business_name: Text | None = Field(None, alias="attribute[business_name]", description="商家名称")
    township: Text | None = Field(
        None, alias="attribute[township]", description="乡镇代码（services/{code}.json 的取值）"
    )
    anonymous: Literal["true", "false"] | None = Field(None, alias="attribute[anonymous]", description="匿名（仅举报）")
    urgent: Literal["true", "false"] | None = Field(None, alias="attribute[urgent]", description="情况紧急")


class RequestFilters(BaseModel):
    """GET requests.json: the filters (service_request_id overrides the others)."""

    jurisdiction_id: Text | None = None
    service_request_id: Text | None = Field(None, description="受理编号，逗号分隔，最多 100 个")
    service_code: Text | None = Field(None, description="服务代码，逗号分隔")
    status: Text | None = Field(None, description="open、closed，或逗号分隔的两者")
    start_date: Text | None = Field(None, description="W3C 日期时间；与 end_date 相距不超过 90 天")
    end_date: Text | None = Field(None, description="W3C 日期时间；都不给时为最近 90 天")


class Jurisdiction(BaseModel):
    jurisdiction_id: Text | None = None


class Open311ErrorItem(BaseModel):
    code: int = Field(description="HTTP 状态码")
    description: str


class Open311Errors(RootModel[list[Open311ErrorItem]]):
    """GeoReport v2 的错误：{code, description} 的数组。"""


class Endpoint(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class Discovery(BaseModel):
    changeset: str
    contact: str | None
    key_service: str
    endpoints: list[Endpoint]


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str | None
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str | None
    group: str | None


class Services(RootModel[list[Service]]):
    pass


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
    required: bool
    datatype_description: str | None
    order: int | None
    description: str | None
    values: list[AttributeValue] | None = None


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    """A request as Open311 shows it: the citizen's public view only (never who filed it)."""

    service_request_id: str = Field(description="受理编号")
    status: Literal["open", "closed"]
    status_notes: str | None = Field(description="公开的办理经过")
    service_name: str | None
    service_code: str
    description: str | None = Field(description="不公开（市民原话可能指认其身份）：总是 null")
    agency_responsible: str | None = Field(description="牵头承办部门")
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str | None
    expected_datetime: str | None = Field(description="正在计时的时限的到期时间")
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class ServiceRequests(RootModel[list[ServiceRequest]]):
    pass


class RequestCreated(BaseModel):
    service_request_id: str
    token: str
    service_notice: str | None


class RequestsCreated(RootModel[list[RequestCreated]]):
    pass


class TokenAnswer(BaseModel):
    service_request_id: str
    token: str


class TokenAnswers(RootModel[list[TokenAnswer]]):
    pass
