"""The API keys administrators issue to other systems, and which key filed which case."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.types import UTCDateTime, utcnow


class ApiKey(db.Model):
    """A key another organisation files Open311 requests with; only a hash of it is stored."""

    __tablename__ = "open311_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(sa.String(200), comment="who the key was issued to")
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, comment="SHA-256 of the key, hex")
    prefix: Mapped[str] = mapped_column(sa.String(16), comment="the key's first characters, to tell keys apart")
    rate_limit: Mapped[str] = mapped_column(sa.String(64), comment="Flask-Limiter limit for this key's POSTs")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Open311Request(db.Model):
    """A case filed through Open311: by which key, under which service code, and its token."""

    __tablename__ = "open311_request"

    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id", ondelete="CASCADE"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(sa.ForeignKey("open311_key.id"), index=True)
    service_code: Mapped[str] = mapped_column(sa.String(64))
    token: Mapped[str] = mapped_column(sa.String(36), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case")
    api_key = relationship("ApiKey")
