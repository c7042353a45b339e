"""Opens accounts through the API and checks every generated IBAN independently.

Each IBAN must be valid for schwifty (ISO 13616 mod-97, French length and BBAN format, and the
French national check digits), and its clé RIB must equal the one computed here from the
Banque de France formula, written without reference to Coffre's code.
"""

import json
import sys
import urllib.request
from http.cookiejar import CookieJar
from importlib.metadata import version

from schwifty import IBAN

ACCOUNTS = 60
RIB_LETTERS = {c: str(d) for d, letters in enumerate(["", "AJ", "BKS", "CLT", "DMU", "ENV", "FOW", "GPX", "HQY", "IRZ"]) for c in letters}


def rib_key(bank: str, branch: str, account: str) -> int:
    digits = int("".join(RIB_LETTERS.get(c, c) for c in account))
    return 97 - ((89 * int(bank) + 15 * int(branch) + 3 * digits) % 97)


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.csrf = None

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with self.opener.open(request) as response:
            return json.loads(response.read())


def main(base: str, username: str, password: str) -> None:
    staff = Client(base)
    staff.csrf = staff.call("POST", "/auth/login", {"username": username, "password": password})["csrf_token"]
    customer = Client(base).call("POST", "/v1/customers", {
        "first_name": "Iban", "last_name": "Checker", "email": "iban.checker@example.org",
        "birth_date": "1980-01-01", "password": "bourse quiet ledger",
        "address": {"line1": "1 place de la Bourse", "postal_code": "75002", "city": "Paris", "country": "FR"},
    })
    staff.call("POST", f"/v1/customers/{customer['id']}/kyc", {"decision": "VERIFIED"})
    seen = set()
    for n in range(ACCOUNTS):
        account_type = "EPARGNE" if n % 2 else "COURANT"
        account = staff.call("POST", "/v1/accounts", {"customer_id": customer["id"], "type": account_type})
        text = account["iban"]
        iban = IBAN(text, validate_bban=True)
        assert iban.country_code == "FR", text
        bban = iban.bban
        bank, branch, number, key = bban[:5], bban[5:10], bban[10:21], int(bban[21:])
        assert key == rib_key(bank, branch, number), f"{text}: clé RIB {key} != {rib_key(bank, branch, number)}"
        assert text not in seen, f"duplicate IBAN {text}"
        seen.add(text)
    print(f"{len(seen)} generated IBANs valid for schwifty {version('schwifty')}, clé RIB checked")


if __name__ == "__main__":
    main(*sys.argv[1:4])
