"""The demo plant's people: departments with heads, users in the QMS roles, supplier portal users.

All demo users share one generated password (returned in the summary, like the admin password on
first start). Its Argon2id hash is made once with light parameters: hashing 25 users and checking
a few hundred e-signatures with the full-strength default would take minutes, and the password is a
published demo password anyway. The sign-in service rehashes a light hash with the current
parameters at the first sign-in (``logins.needs_rehash``), so a demo user who logs in is upgraded.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from engine.services import accounts
from engine.types import Actor

DEPARTMENTS = [("quality", "质量部", "Quality"), ("purchasing", "采购部", "Purchasing"),
               ("production", "生产部", "Production"), ("engineering", "工程部", "Engineering"),
               ("sales", "销售部", "Sales & customer service")]

# handle, name, department, roles, (department head?)
STAFF = [
    ("qm", "王建国 Wang Jianguo", "quality", ["quality_manager", "mrb", "auditor"], True),
    ("qe1", "李娜 Li Na", "quality", ["quality_engineer", "mrb", "auditor"], False),
    ("qe2", "张伟 Zhang Wei", "quality", ["quality_engineer"], False),
    ("sqe", "陈静 Chen Jing", "quality", ["quality_engineer", "auditor"], False),
    ("insp1", "刘洋 Liu Yang", "quality", ["inspector"], False),
    ("insp2", "赵敏 Zhao Min", "quality", ["inspector"], False),
    ("insp3", "孙磊 Sun Lei", "quality", ["inspector"], False),
    ("doc", "周红 Zhou Hong", "quality", ["document_controller"], False),
    ("buyer", "吴刚 Wu Gang", "purchasing", ["purchasing"], True),
    ("buyer2", "郑丽 Zheng Li", "purchasing", ["purchasing"], False),
    ("pm", "黄海 Huang Hai", "production", ["production", "mrb"], True),
    ("sup1", "林峰 Lin Feng", "production", ["production"], False),
    ("eng", "何涛 He Tao", "engineering", ["mrb", "auditor"], True),
    ("cs", "高倩 Gao Qian", "sales", ["customer_service"], True),
]
PORTAL = ("S009", "S012", "S016")      # the bad suppliers get portal logins: they answer their 8Ds
DOMAIN = "demo-plant.cn"


@dataclass
class People:
    """Actors by handle, portal actors by supplier code, and the shared demo password."""

    password: str
    actors: dict[str, Actor] = field(default_factory=dict)
    portal: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, handle: str) -> Actor:
        return self.actors[handle]

    def id(self, handle: str) -> int:
        return self.actors[handle].user_id

    def logins(self) -> list[str]:
        """The demo users' login emails (staff, then the supplier portal users)."""
        return [f"{handle}@{DOMAIN}" for handle in self.actors] + \
            [f"quality.{code.lower()}@supplier-{code.lower()}.cn" for code in self.portal]


def _light_hash(password: str) -> str:
    """An Argon2id hash with light parameters (see the module docstring for why)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(password)


def _ensure_roles(session, tenant_id: int) -> None:
    """The role keys the staff uses; the packages create most of them, customer service may be new."""
    from engine.storage.platform import roles
    from sqlalchemy import select
    known = set(session.execute(select(roles.c.key).where(roles.c.tenant_id == tenant_id)).scalars())
    labels = {"customer_service": {"zh-CN": "客服", "en": "Customer service"}}
    for _h, _n, _d, keys, _head in STAFF:
        for key in keys:
            if key not in known:
                accounts.create_role(session, tenant_id, key, labels.get(key, {"zh-CN": key, "en": key}))
                known.add(key)


def create_people(session, tenant_id: int) -> People:
    """Departments, staff and (without their supplier yet) the portal users, in the caller's transaction."""
    people = People(password=f"demo-{secrets.token_urlsafe(9)}")
    hashed = _light_hash(people.password)
    _ensure_roles(session, tenant_id)
    for key, zh, en in DEPARTMENTS:
        accounts.create_department(session, tenant_id, key, {"zh-CN": zh, "en": en})
    for handle, name, dept, roles, head in STAFF:
        uid = accounts.create_user(session, tenant_id, f"{handle}@{DOMAIN}", name, roles=roles,
                                   department=dept, lang="zh-CN", password_hash=hashed)
        if head:
            accounts.set_department_head(session, tenant_id, dept, uid)
        people.actors[handle] = uid
    for code in PORTAL:
        uid = accounts.create_user(session, tenant_id, f"quality.{code.lower()}@supplier-{code.lower()}.cn",
                                   f"{code} 质量代表 Quality rep", roles=["supplier_portal"],
                                   is_external=True, lang="zh-CN", password_hash=hashed)
        people.portal[code] = uid
    people.actors = {h: accounts.actor_for_user(session, uid) for h, uid in people.actors.items()}
    people.portal = {c: accounts.actor_for_user(session, uid) for c, uid in people.portal.items()}
    return people


def link_portal_users(session, tenant_id: int, people: People, supplier_ids: dict[str, int]) -> None:
    """Give each portal user the ``supplier_id`` attribute of their supplier record (their read scope)."""
    for code, actor in list(people.portal.items()):
        accounts.set_user_attributes(session, tenant_id, actor.user_id, {"supplier_id": supplier_ids[code]})
        people.portal[code] = accounts.actor_for_user(session, actor.user_id)
