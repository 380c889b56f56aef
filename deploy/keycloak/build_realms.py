"""Writes the Keycloak realm files from one description, so production and development can't drift:
    herplaatsing-realm.json       deploy/ (Kubernetes): roles, clients, mappers, user profile; no users
    dev/herplaatsing-realm.json   docker-compose.yml: the same plus demo users (development only)
Run after editing:  python3 deploy/keycloak/build_realms.py   (tests/deploy/test_keycloak.py checks the output)
Keycloak replaces ${VAR} in an imported realm with the container's environment variable, so no
client secret is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
REALM = "herplaatsing"
API_AUDIENCE = "herplaatsing-api"  # the gateway's OIDC_ISSUERS audience
ROLES = {
    "marktmeester": "RVO's market master: runs matching, sees the whole market",
    "investor": "An owner of relocatable homes (woningcorporatie, belegger, gemeente as owner)",
    "municipality": "A municipality offering sites (org: its CBS gemeentecode)",
}


def _mappers() -> list[dict]:
    """What the gateway reads: the API audience, the realm roles as `roles`, the user's `org` attribute as `org`."""
    token = {"access.token.claim": "true", "id.token.claim": "false", "introspection.token.claim": "true"}
    return [
        {"name": "herplaatsing-api audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
         "config": {"included.custom.audience": API_AUDIENCE, **token}},
        {"name": "roles", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-realm-role-mapper",
         "config": {"claim.name": "roles", "multivalued": "true", "jsonType.label": "String", **token, "userinfo.token.claim": "true"}},
        {"name": "org", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
         "config": {"user.attribute": "org", "claim.name": "org", "jsonType.label": "String", "multivalued": "false",
                    **token, "id.token.claim": "true", "userinfo.token.claim": "true"}},
    ]


def _user_profile() -> str:
    """`org` is declared (Keycloak drops undeclared attributes) and only an administrator may set it."""
    admin_only = {"view": ["admin", "user"], "edit": ["admin"]}
    editable = {"view": ["admin", "user"], "edit": ["admin", "user"]}
    return json.dumps({
        "attributes": [
            {"name": "username", "permissions": editable,
             "validations": {"length": {"min": 3, "max": 255}, "username-prohibited-characters": {}, "up-username-not-idn-homograph": {}}},
            {"name": "email", "permissions": editable, "validations": {"email": {}, "length": {"max": 255}}},
            {"name": "firstName", "permissions": editable, "validations": {"length": {"max": 255}}},
            {"name": "lastName", "permissions": editable, "validations": {"length": {"max": 255}}},
            {"name": "org", "displayName": "Organisation", "permissions": admin_only, "validations": {"length": {"max": 200}}},
        ],
        "groups": [],
        "unmanagedAttributePolicy": "ADMIN_VIEW",
    })


def realm() -> dict:
    return {
        "realm": REALM,
        "enabled": True,
        "sslRequired": "external",
        "registrationAllowed": False,
        "resetPasswordAllowed": True,
        "bruteForceProtected": True,
        "accessTokenLifespan": 300,
        "ssoSessionIdleTimeout": 1800,
        "roles": {"realm": [{"name": name, "description": text} for name, text in ROLES.items()]},
        "clients": [
            {   # the dashboard (the gateway as backend-for-frontend): code flow with PKCE, confidential
                "clientId": "herplaatsing-dashboard",
                "name": "Herplaatsing dashboard",
                "protocol": "openid-connect",
                "enabled": True,
                "publicClient": False,
                "clientAuthenticatorType": "client-secret",
                "secret": "${HERPLAATSING_DASHBOARD_CLIENT_SECRET}",
                "standardFlowEnabled": True,
                "implicitFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "serviceAccountsEnabled": False,
                # Exact URIs (no wildcard): the gateway's /callback, and its sign-in page after sign-out.
                "redirectUris": ["${HERPLAATSING_DASHBOARD_URL}/callback"],
                "webOrigins": ["${HERPLAATSING_DASHBOARD_URL}"],
                "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "${HERPLAATSING_DASHBOARD_URL}/aanmelden"},
                "protocolMappers": _mappers(),
            },
            {   # API clients of organisations: client credentials; role and org on the service account user
                "clientId": "herplaatsing-machine",
                "name": "Herplaatsing API (machine to machine)",
                "protocol": "openid-connect",
                "enabled": True,
                "publicClient": False,
                "clientAuthenticatorType": "client-secret",
                "secret": "${HERPLAATSING_MACHINE_CLIENT_SECRET}",
                "standardFlowEnabled": False,
                "implicitFlowEnabled": False,
                "directAccessGrantsEnabled": False,
                "serviceAccountsEnabled": True,
                "protocolMappers": _mappers(),
            },
        ],
        "components": {
            "org.keycloak.userprofile.UserProfileProvider": [
                {"providerId": "declarative-user-profile", "subComponents": {}, "config": {"kc.user.profile.config": [_user_profile()]}}
            ]
        },
    }


def _user(username: str, role: str, org: str | None) -> dict:
    return {
        "username": username,
        "enabled": True,
        "email": f"{username}@demo.herplaatsing.invalid",
        "emailVerified": True,
        "firstName": username.split("-")[0].capitalize(),
        "lastName": "Demo",
        "attributes": {"org": [org]} if org else {},
        "realmRoles": [role],
        "credentials": [{"type": "password", "value": "demo", "temporary": False}],
    }


DEMO_USERS = [
    _user("marktmeester", "marktmeester", None),
    _user("investor-woonbron", "investor", "wc-woonbron"),
    _user("investor-vesteda", "investor", "bl-vesteda"),
    _user("municipality-rotterdam", "municipality", "GM0599"),
    _user("municipality-apeldoorn", "municipality", "GM0200"),
]


def dev_realm() -> dict:
    """Development only: demo users (password `demo`), a service account for the machine client, a CLI client."""
    service_account = {
        "username": "service-account-herplaatsing-machine",
        "enabled": True,
        "serviceAccountClientId": "herplaatsing-machine",
        "attributes": {"org": ["wc-woonbron"]},
        "realmRoles": ["investor"],
    }
    # A public client with the password grant, so a demo user's token is one curl away (README);
    # never in the production realm.
    cli = {
        "clientId": "herplaatsing-dev-cli",
        "name": "Development only: demo sign-in from the command line",
        "protocol": "openid-connect",
        "enabled": True,
        "publicClient": True,
        "standardFlowEnabled": False,
        "directAccessGrantsEnabled": True,
        "protocolMappers": _mappers(),
    }
    base = realm()
    return {**base, "clients": [*base["clients"], cli], "users": [*DEMO_USERS, service_account]}


def write() -> None:
    for path, body in ((HERE / "herplaatsing-realm.json", realm()), (HERE / "dev" / "herplaatsing-realm.json", dev_realm())):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
