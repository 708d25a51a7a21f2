"""A business that cases are about."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intake.extensions import db
from intake.types import UTCDateTime, utcnow


class Business(db.Model):
    """One shop or operator, matched across cases by normalised name and place."""

    __table_args__ = (sa.Index("ix_business_match", "township_code", "name_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_key: Mapped[str] = mapped_column(sa.String(200), comment="normalised name used for matching")
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    county_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    township_code: Mapped[str | None] = mapped_column(sa.ForeignKey("division.code"))
    industry_code: Mapped[str | None] = mapped_column(sa.ForeignKey("industry.code"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    township = relationship("Division", foreign_keys=[township_code])
    industry = relationship("Industry")
    cases = relationship("Case", back_populates="business", order_by="Case.received_at.desc()")
