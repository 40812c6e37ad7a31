"""The Hyperflask app's models: its users (hyperflask-users) and one model of its own.

No ``from __future__ import annotations``: sqlorm reads the raw annotations."""

from hyperflask.factory import db
from hyperflask_users import UserMixin


class HfUser(UserMixin, db.Model):
    __table__ = "users"
    id: db.PrimaryKey[int]
    role: str

    @property
    def roles(self) -> set[str]:
        return {self.role} if self.role else set()


class HfNote(db.Model):
    __table__ = "notes"
    id: db.PrimaryKey[int]
    title: str
    body: str
