"""The parties of the demo market: the garantiekavel municipalities (RTHF figures) and the demo's
investor organisations. The runner's demo scenario builds its data from them, and the gateway's
development sign-in offers them when the running services hold nothing yet.
"""

from __future__ import annotations

# Garantiekavels: spots per municipality, 1,360 in total (DOMAIN §2, from the RTHF figures).
GARANTIEKAVEL_SPOTS: dict[str, int] = {"GM0200": 200, "GM0222": 200, "GM0303": 320, "GM0153": 320, "GM0664": 320}
# Permanent homes of the vaste kern the same agreements support, beside (not on) those spots (DOMAIN §2).
GARANTIEKAVEL_VASTE_KERN_HOMES = 1_890

# Investor organisations (org ids as their tokens carry them) with the province they work in
# (None: national). Woningcorporaties own most relocatable homes, beleggers and gemeenten the rest.
CORPORATIES: dict[str, str] = {
    "wc-lefier": "PV20",
    "wc-elkien": "PV21",
    "wc-domesta": "PV22",
    "wc-ons-doel": "PV23",
    "wc-domijn": "PV23",
    "wc-wonen-flevoland": "PV24",
    "wc-woonstede": "PV25",
    "wc-talis": "PV25",
    "wc-mitros": "PV26",
    "wc-portaal": "PV26",
    "wc-ymere": "PV27",
    "wc-de-key": "PV27",
    "wc-woonbron": "PV28",
    "wc-woonstad": "PV28",
    "wc-staedion": "PV28",
    "wc-rws-zeeland": "PV29",
    "wc-trudo": "PV30",
    "wc-area": "PV30",
    "wc-wonenlimburg": "PV31",
}
BELEGGERS = ["bl-vesteda", "bl-bouwinvest", "bl-amvest", "bl-flexwonen-fonds"]
