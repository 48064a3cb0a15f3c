"""Demo data: the entities named on the routes of the source documents, and one demo login per role.

Idempotent: an entity or user that already exists is left as it is. Passwords are fixed passphrases that
pass the password policy, and TOTP secrets are fixed base32 strings, so `flask demo` prints the same logins
every time. Display names are fake people (Faker es_CO, seeded). Everything is written as the operator "cli",
through the same service as the admin screens, so the access log shows it. Accounts are created with the setup's
`bootstrap` flag (accounts.create_user), which only the command-line operator may use: it would let an account hold
the admin role and a case role without a second admin; no demo account does, and each case role given still raises
the auditors' alert.
"""
from __future__ import annotations

from dataclasses import dataclass

from faker import Faker
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp import audit
from caseapp.extensions import db
from caseapp.models.accounts import Entity, User
from caseapp.services import accounts as admin
from caseapp.services.accounts import passwords
from caseapp.timeutil import utcnow

# (code, name, kind): seeds 000 and 002 (Cartagena) and 003 (Bogotá's committee), plus the national route.
ENTITIES = (  # code, name, kind, territory (DIVIPOLA: 13001 Cartagena, 11001 Bogotá, CO national)
    ("CTG", "Secretaría del Interior y Convivencia Ciudadana de Cartagena", "government", "13001"),
    ("BOG", "Secretaría Distrital de Gobierno de Bogotá", "government", "11001"),
    ("SDIS", "Secretaría Distrital de Integración Social de Bogotá", "government", "11001"),
    ("SMUJER", "Secretaría Distrital de la Mujer de Bogotá", "government", "11001"),
    ("SALUD", "Secretaría Distrital de Salud de Bogotá", "health", "11001"),
    ("FGN", "Fiscalía General de la Nación", "justice", "CO"),
    ("DEFENSORIA", "Defensoría del Pueblo", "justice", "CO"),
    ("PONAL", "Policía Nacional", "police", "CO"),
    ("MECAR", "Policía Metropolitana de Cartagena", "police", "13001"),
    ("MIG", "Migración Colombia", "government", "CO"),
    ("ICBF", "Instituto Colombiano de Bienestar Familiar (ICBF)", "child_protection", "CO"),
    ("OIM", "Organización Internacional para las Migraciones (OIM)", "international", "CO"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    roles: tuple[str, ...]
    entity: str
    password: str
    totp_secret: str


# Demo only: these secrets are public and `flask demo` refuses to run in production.
DEMO_USERS = (
    DemoUser("tsocial.ctg", ("social_worker",), "CTG",
             "colibrí teje hamacas junto al muelle 1533", "SUSW4LQ3MLSNT4FWOAU7PC24AGZ2LWN7"),
    DemoUser("juridico.ctg", ("lawyer",), "CTG",
             "tortuga carey nada lento hacia Barú 27", "R3AABSTHRLIRECVFGEAULBME5IPH2WWH"),
    DemoUser("dual.ctg", ("lawyer", "social_worker"), "CTG",
             "murallas doradas bajo lluvia de abril 84", "27JVM23INTFIW3UKFAYUKJSC6YVBH2AB"),
    DemoUser("tsocial.bog", ("social_worker",), "BOG",
             "frailejones del páramo cantan al alba 19", "2L2YZQ46K2BUVM4CSE4ESPYEFX2K64B6"),
    DemoUser("defensora.icbf", ("social_worker",), "ICBF",
             "cometa naranja sobre el cerro azul 62", "DO4ODHK4P6ZDJRU3QNFNKV47PRKRTI2Z"),
    DemoUser("coordinacion", ("coordinator",), "CTG",
             "guayaba madura en bicicleta roja 305", "DLBLJ3FIAZ4U7WZO32LNDSUX4MUAXRDT"),
    DemoUser("auditoria", ("auditor",), "CTG",
             "lámpara vieja cuenta historias largas 71", "2KM2KO4R53PTKSEJDGJQ5ZU3IEAPBKQZ"),
    DemoUser("admin", ("admin",), "CTG",
             "candado de cobre para la puerta sur 48", "GWJZH226QAGGNZWQWAVASWO5XIICXUTR"),
    # Bogotá's coordinator reads Bogotá's plan (seed 001) and Bogotá's counts; Cartagena's stay Cartagena's.
    DemoUser("coordinacion.bog", ("coordinator",), "BOG",
             "tingua azul camina sobre el humedal 1538", "FFDKG3TIP65OWD2B4KVDPNLR6KQEER5G"),
)

FAKER_SEED = 985  # Law 985 of 2005, against trafficking in persons


def _display_names() -> list[str]:
    fake = Faker("es_CO")
    fake.seed_instance(FAKER_SEED)
    return [fake.name() for _ in DEMO_USERS]


def load(echo) -> None:
    """Create the missing demo entities and users (enrolled in TOTP with their fixed secret)."""
    made_entities = 0
    for code, name, kind, territory in ENTITIES:
        if db.session.scalar(select(Entity.id).where(Entity.code == code)) is None:
            admin.create_entity(admin.CLI, code=code, name=name, kind=kind, territory=territory)
            made_entities += 1
    made_users = 0
    for demo, display_name in zip(DEMO_USERS, _display_names(), strict=True):
        if db.session.scalar(select(User.id).where(User.username == demo.username)) is not None:
            continue
        user = admin.create_user(admin.CLI, username=demo.username, entity_code=demo.entity, roles=demo.roles,
                                 password=demo.password, display_name=display_name, bootstrap=True)
        user.totp_secret = demo.totp_secret
        user.totp_enrolled_at = utcnow()
        audit.record("demo.totp.enrol", object_type="user", object_ref=user.username, actor=admin.CLI.username)
        db.session.commit()
        made_users += 1
    echo(_("Demo accounts: %(entities)s entities and %(users)s users created.", entities=made_entities,
           users=made_users))


def logins() -> list[dict]:
    """Each demo login as stored now: username, roles, entity, password, TOTP secret (decrypted)."""
    rows = []
    for demo in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == demo.username))
        if user is None:
            continue
        rows.append({
            "username": user.username,
            "roles": sorted(user.roles),
            "entity": user.entity.code,
            "password": demo.password if passwords.verify(user.password_hash, demo.password) else None,
            "totp_secret": user.totp_secret or "",
            "active": user.is_active,
        })
    return rows


def print_logins(echo, url: str) -> None:
    echo("")
    echo(_("Demo logins: open %(url)s, sign in with the username and password, then the 6-digit code from an "
           "authenticator app to which you added the TOTP secret (or: oathtool --totp -b SECRET).", url=url))
    for row in logins():
        echo("")
        echo(f"  {row['username']}")
        echo("    " + _("roles: %(roles)s · entity: %(entity)s", roles=", ".join(row["roles"]), entity=row["entity"]))
        echo("    " + _("password: %(password)s", password=row["password"] or _("(changed since the demo was loaded)")))
        echo("    " + _("TOTP secret: %(secret)s", secret=row["totp_secret"] or _("(not set up)")))
        if not row["active"]:
            echo("    " + _("(inactive)"))
