"""The `demo` seed: a deterministic, realistic Hungarian system for trying the dashboard.

Six modules (five card modules and an order module), each with its own statuses and custom
fields of every type, 1,000 companies, 1,500 persons, 5,000 cards with status histories,
open and closed to-dos, and orders in every status; and a small seventh module (Ingatlanok,
3 cards) whose dropdown labels are digits other than their ids. The same seed always gives
the same data.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apps.sandbox.seeds import Seeder

SEED = 20181120
COMPANIES = 1000
CARDS_PER_MODULE = 1000
ORDERS_PER_STATUS = 30
EPOCH = datetime(2024, 1, 1, 8, 0, 0)

USERS = {
    101: "Nagy Katalin",
    102: "Kovács Péter",
    103: "Tóth Zsófia",
    104: "Szabó Gergő",
    105: "Horváth Anikó",
    106: "Varga Bence",
    107: "Kiss Réka",
    108: "Molnár Ádám",
}
TODO_TYPES = {1566: "Telefonhívás", 1567: "Találkozó", 1568: "E-mail", 1569: "Feladat"}
LAST_NAMES = [
    "Nagy",
    "Kovács",
    "Tóth",
    "Szabó",
    "Horváth",
    "Varga",
    "Kiss",
    "Molnár",
    "Németh",
    "Farkas",
    "Balogh",
    "Papp",
    "Takács",
    "Juhász",
    "Lakatos",
    "Mészáros",
    "Oláh",
    "Simon",
    "Rácz",
    "Fekete",
    "Szűcs",
    "Kozma",
    "Pintér",
    "Bíró",
    "Szalai",
    "Vörös",
    "Gál",
    "Lengyel",
    "Fodor",
    "Sipos",
    "Magyar",
    "Hegedűs",
    "Török",
    "Pásztor",
    "Erdős",
    "Jakab",
    "Győri",
    "Csizmadia",
    "Ördög",
    "Ónodi",
]
FIRST_NAMES = [
    "Gábor",
    "László",
    "István",
    "Zoltán",
    "Péter",
    "Éva",
    "Katalin",
    "Zsófia",
    "Anikó",
    "Ágnes",
    "Erzsébet",
    "Ildikó",
    "Tünde",
    "Márta",
    "Gergő",
    "Bence",
    "Dávid",
    "Áron",
    "Levente",
    "Réka",
    "Eszter",
    "Orsolya",
    "Csaba",
    "Attila",
    "Tamás",
    "Ferenc",
    "Júlia",
    "Nóra",
    "Ödön",
    "Ünige",
    "Győző",
    "Őrs",
]
COMPANY_PREFIXES = [
    "Duna",
    "Tisza",
    "Balaton",
    "Mátra",
    "Bakony",
    "Hortobágy",
    "Pannon",
    "Alföld",
    "Zemplén",
    "Őrség",
    "Kékes",
    "Villány",
    "Tokaj",
    "Hungária",
    "Kárpát",
    "Sió",
    "Rába",
    "Dráva",
    "Körös",
    "Mecsek",
]
COMPANY_CORES = [
    "Építő",
    "Gépészet",
    "Kereskedelmi",
    "Informatika",
    "Logisztika",
    "Szoftver",
    "Élelmiszer",
    "Energetika",
    "Tanácsadó",
    "Nyomda",
    "Bútor",
    "Autóház",
    "Kertészet",
    "Fém",
    "Üveg",
    "Textil",
    "Vegyiáru",
    "Pékség",
    "Utazási",
    "Biztonságtechnika",
]
COMPANY_FORMS = ["Kft.", "Zrt.", "Bt.", "Nyrt."]
CITIES = [
    ("1051", "Budapest"),
    ("4024", "Debrecen"),
    ("6720", "Szeged"),
    ("7621", "Pécs"),
    ("9021", "Győr"),
    ("3525", "Miskolc"),
    ("4400", "Nyíregyháza"),
    ("6000", "Kecskemét"),
    ("8000", "Székesfehérvár"),
    ("9700", "Szombathely"),
    ("9400", "Sopron"),
    ("3300", "Eger"),
    ("8200", "Veszprém"),
    ("8900", "Zalaegerszeg"),
]
STREETS = [
    "Fő utca",
    "Petőfi Sándor utca",
    "Kossuth Lajos utca",
    "Rákóczi út",
    "Széchenyi tér",
    "Ady Endre út",
    "Árpád fejedelem útja",
    "Dózsa György út",
]
POSITIONS = [
    "Ügyvezető",
    "Beszerzési vezető",
    "Pénzügyi vezető",
    "Értékesítő",
    "Marketingvezető",
    "Irodavezető",
    "Informatikai vezető",
    "Cégvezető",
]
TOPICS = [
    "CRM bevezetés",
    "Éves licenc",
    "Bővítés",
    "Oktatás",
    "Integráció",
    "Megújítás",
    "Adatmigráció",
    "Tanácsadás",
    "Support csomag",
    "Webshop összekötés",
]
PRODUCTS = [
    ("CRM-ALAP", "MiniCRM Alap csomag", "hó", "9900.00"),
    ("CRM-PRO", "MiniCRM Profi csomag", "hó", "19900.00"),
    ("OKT-1", "Oktatás (fél nap)", "alkalom", "45000.00"),
    ("INT-API", "API integráció", "óra", "15000.00"),
    ("MIG-1", "Adatmigráció", "db", "120000.00"),
    ("SUP-EV", "Éves support", "év", "99000.00"),
]


@dataclass
class FieldSpec:
    name: str
    label: str
    kind: str  # Int, Float, Text(n), Date, DateTime, Boolean, File(10MB), Select, MultiSelect
    options: list[str] | None = None
    required: bool = False
    high_bits: bool = False  # multi-select ids near 2^35, as the notes warn


MODULES: list[tuple[int, str, str, list[tuple[str, str]], list[FieldSpec]]] = [
    (
        20,
        "Értékesítés",
        "Generic",
        [
            ("Érdeklődő", "Lead"),
            ("Kapcsolatfelvétel", "Lead"),
            ("Igényfelmérés", "Open"),
            ("Ajánlat kiküldve", "Open"),
            ("Tárgyalás", "Open"),
            ("Megnyert", "Success"),
            ("Elvesztett", "Failed"),
        ],
        [
            FieldSpec("VarhatoArbevetel", "Várható árbevétel", "Int"),
            FieldSpec("Valoszinuseg", "Valószínűség (%)", "Float"),
            FieldSpec(
                "Forras",
                "Forrás",
                "Select",
                ["Weboldal", "Ajánlás", "Hirdetés", "Kiállítás", "Hideghívás"],
                required=True,
            ),
            FieldSpec(
                "Erdeklodes",
                "Érdeklődési terület",
                "MultiSelect",
                [
                    "CRM",
                    "Számlázás",
                    "Webshop",
                    "Marketing automatizáció",
                    "Ügyfélszolgálat",
                    "Projektmenedzsment",
                ],
                high_bits=True,
            ),
            FieldSpec("KovetkezoHivas", "Következő hívás", "DateTime"),
            FieldSpec("VarhatoLezaras", "Várható lezárás", "Date"),
            FieldSpec("ForroLead", "Forró lead", "Boolean"),
            FieldSpec("Ajanlat", "Ajánlat (PDF)", "File(10MB)"),
            FieldSpec("Megjegyzes", "Megjegyzés", "Text(1024)"),
        ],
    ),
    (
        21,
        "Ügyfélszolgálat",
        "HelpDesk",
        [
            ("Új bejelentés", "Lead"),
            ("Folyamatban", "Open"),
            ("Ügyfélre vár", "Open"),
            ("Megoldva", "Success"),
            ("Elutasítva", "Failed"),
        ],
        [
            FieldSpec(
                "Prioritas",
                "Prioritás",
                "Select",
                ["Alacsony", "Normál", "Magas", "Kritikus"],
                required=True,
            ),
            FieldSpec(
                "Kategoria",
                "Kategória",
                "MultiSelect",
                ["Hiba", "Kérdés", "Fejlesztési igény", "Számlázás"],
            ),
            FieldSpec("Hatarido", "Határidő", "Date"),
            FieldSpec("Bejelentve", "Bejelentés időpontja", "DateTime"),
            FieldSpec("Raforditas", "Ráfordított óra", "Float"),
            FieldSpec("Jegyszam", "Jegyszám", "Int"),
            FieldSpec("Surgos", "Sürgős", "Boolean"),
            FieldSpec("Csatolmany", "Csatolmány", "File(10MB)"),
            FieldSpec("Leiras", "Leírás", "Text(65535)"),
        ],
    ),
    (
        22,
        "Projektek",
        "Generic",
        [
            ("Tervezés", "Lead"),
            ("Megvalósítás", "Open"),
            ("Tesztelés", "Open"),
            ("Átadva", "Success"),
            ("Megszakítva", "Failed"),
        ],
        [
            FieldSpec("Koltsegvetes", "Költségvetés", "Int"),
            FieldSpec("Keszultseg", "Készültség (%)", "Float"),
            FieldSpec("Kezdes", "Kezdés", "Date"),
            FieldSpec("Merfoldko", "Következő mérföldkő", "DateTime"),
            FieldSpec(
                "Technologiak",
                "Technológiák",
                "MultiSelect",
                ["Python", "PHP", "JavaScript", "SQL", "Felhő", "Mobil"],
            ),
            FieldSpec(
                "ProjektTipus", "Projekt típusa", "Select", ["Fix áras", "Óradíjas", "Belső"]
            ),
            FieldSpec("Alvallalkozo", "Alvállalkozóval", "Boolean"),
            FieldSpec("Specifikacio", "Specifikáció", "File(10MB)"),
            FieldSpec("ProjektKod", "Projektkód", "Text(64)"),
        ],
    ),
    (
        23,
        "Partnerek",
        "Generic",
        [("Jelölt", "Lead"), ("Aktív", "Open"), ("Kiemelt", "Success"), ("Megszűnt", "Failed")],
        [
            FieldSpec("PartnerSzint", "Partnerszint", "Select", ["Bronz", "Ezüst", "Arany"]),
            FieldSpec(
                "Regio",
                "Régió",
                "MultiSelect",
                ["Közép-Magyarország", "Észak-Alföld", "Dél-Dunántúl", "Nyugat-Dunántúl"],
            ),
            FieldSpec("Jutalek", "Jutalék (%)", "Float"),
            FieldSpec("SzerzodesKezdete", "Szerződés kezdete", "Date"),
            FieldSpec("UtolsoTalalkozo", "Utolsó találkozó", "DateTime"),
            FieldSpec("Aktiv", "Aktív", "Boolean"),
            FieldSpec("EvesForgalom", "Éves forgalom", "Int"),
            FieldSpec("Keretszerzodes", "Keretszerződés", "File(10MB)"),
            FieldSpec("Megjegyzes", "Megjegyzés", "Text(512)"),
        ],
    ),
    (
        24,
        "Rendezvények",
        "Generic",
        [
            ("Jelentkezett", "Lead"),
            ("Visszaigazolva", "Open"),
            ("Részt vett", "Success"),
            ("Lemondta", "Failed"),
        ],
        [
            FieldSpec(
                "Esemeny",
                "Esemény",
                "Select",
                ["Tavaszi konferencia", "Őszi workshop", "Partnertalálkozó"],
                required=True,
            ),
            FieldSpec("Letszam", "Létszám", "Int"),
            FieldSpec("Dij", "Részvételi díj", "Float"),
            FieldSpec("Datum", "Dátum", "Date"),
            FieldSpec("Erkezes", "Érkezés", "DateTime"),
            FieldSpec(
                "Etkezes",
                "Étkezés",
                "MultiSelect",
                ["Vegetáriánus", "Gluténmentes", "Laktózmentes"],
            ),
            FieldSpec("Parkolas", "Parkolás kell", "Boolean"),
            FieldSpec("Jegy", "Belépőjegy", "File(10MB)"),
            FieldSpec("Megjegyzes", "Megjegyzés", "Text(255)"),
        ],
    ),
]
ORDER_MODULE = (
    25,
    "Megrendelés",
    [("Piszkozat", "Open"), ("Teljesítve", "Success"), ("Sztornó", "Failed")],
)
ORDER_STATUSES = ["Draft", "In progress", "Completed", "Paid", "Failed"]
# A module whose dropdown and multi-select labels are digits other than their ids, as real
# systems have them (house numbers, floors): a detail view's "3" is the label, not id 3.
DIGITS_MODULE = (26, "Ingatlanok", [("Új", "Lead"), ("Bemutatva", "Open"), ("Eladva", "Success")])
HOUSE_NUMBERS = {1: "2", 2: "3", 4: "5", 8: "4", 16: "7", 32: "8", 64: "9", 128: "1"}
FLOORS = {3: "5", 5: "6", 6: "3", 7: "9"}
DIGITS_CARDS = [
    # id, house number ids, floor id, price, area, handover, viewing
    (180001, [2, 4, 8, 16, 32, 64], 6, 1890000, 12.5, "2026-10-15", "2026-10-01 14:30:00"),
    (180002, [1], 3, 45000000, 87.25, "2027-03-01", "2026-11-20 09:00:00"),
    (180003, [], 7, 250000, 0.5, "", ""),
]


class _Ids:
    """Dropdown ids that are never powers of two, so they cannot pass for multi-select bits."""

    def __init__(self, start: int) -> None:
        self.current = start

    def take(self) -> int:
        while True:
            self.current += 1
            if self.current & (self.current - 1):
                return self.current


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in plain if ch.isalnum() and ord(ch) < 128).lower()


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def seed(s: Seeder) -> None:
    rng = random.Random(SEED)
    s.users(USERS)
    s.todo_types(TODO_TYPES)
    option_ids = _Ids(4000)
    status_ids = _Ids(5000)
    modules: list[tuple[int, list[int], dict[str, tuple[FieldSpec, list[int]]]]] = []
    for position, (category_id, name, kind, statuses, specs) in enumerate(MODULES, start=1):
        ids = [status_ids.take() for _ in statuses]
        s.category(
            category_id,
            name,
            order=position,
            kind=kind,
            statuses=[
                (sid, sname, group) for sid, (sname, group) in zip(ids, statuses, strict=True)
            ],
        )
        fields = {}
        for spec in specs:
            options = _options(spec, option_ids)
            s.field(
                "Project",
                spec.name,
                spec.kind if not options else "Select",
                label=spec.label,
                category_id=category_id,
                options=options,
                multi=spec.kind == "MultiSelect",
                required=spec.required,
            )
            fields[spec.name] = (spec, list(options or {}))
        modules.append((category_id, ids, fields))
    order_category, order_name, order_statuses = ORDER_MODULE
    order_status_ids = [status_ids.take() for _ in order_statuses]
    s.category(
        order_category,
        order_name,
        order=len(MODULES) + 1,
        is_order=True,
        statuses=[
            (sid, sname, group)
            for sid, (sname, group) in zip(order_status_ids, order_statuses, strict=True)
        ],
    )
    s.field(
        "Project",
        "SzallitasiMod",
        "Select",
        label="Szállítási mód",
        category_id=order_category,
        options={option_ids.take(): label for label in ["Futár", "Személyes átvétel", "Posta"]},
    )
    s.field(
        "Project",
        "SzallitasExtraInfo",
        "Text(1024)",
        label="Szállítási megjegyzés",
        category_id=order_category,
    )

    language = {option_ids.take(): label for label in ["Magyar", "Angol", "Német"]}
    segment = {option_ids.take(): label for label in ["A", "B", "C"]}
    s.field("Person", "Hirlevel", "Boolean", label="Hírlevél")
    s.field("Person", "Szuletesnap", "Date", label="Születésnap")
    s.field("Person", "Nyelv", "Select", label="Nyelv", options=language)
    s.field("Business", "Ugyfelkategoria", "Select", label="Ügyfélkategória", options=segment)
    s.field("Business", "Alkalmazottak", "Int", label="Alkalmazottak száma")

    persons = _contacts(s, rng, list(language), list(segment))
    _cards(s, rng, modules, persons)
    _orders(s, rng, order_category, order_status_ids[0], persons)
    _digits_module(s, [status_ids.take() for _ in DIGITS_MODULE[2]], persons)


def _options(spec: FieldSpec, ids: _Ids) -> dict[int, str] | None:
    if not spec.options:
        return None
    if spec.kind == "MultiSelect":
        first_bit = 35 - len(spec.options) + 1 if spec.high_bits else 0
        return {2 ** (first_bit + i): label for i, label in enumerate(spec.options)}
    return {ids.take(): label for label in spec.options}


def _contacts(
    s: Seeder, rng: random.Random, languages: list[int], segments: list[int]
) -> list[tuple[int, int]]:
    """Companies 10001.. and their persons after them; returns (person id, company id) pairs."""
    names = [f"{p} {c} {f}" for p in COMPANY_PREFIXES for c in COMPANY_CORES for f in COMPANY_FORMS]
    chosen = rng.sample(names, COMPANIES)
    persons: list[tuple[int, int]] = []
    person_rows: list[tuple[int, dict[str, Any]]] = []
    for index, name in enumerate(chosen):
        company_id = 10001 + index
        postal, city = rng.choice(CITIES)
        domain = ascii_slug(name.split(" ")[0] + name.split(" ")[1]) + ".hu"
        created = EPOCH + timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 600))
        s.contact(
            company_id,
            "Business",
            Name=name,
            Email=f"info@{domain}",
            Phone=f"06 (1) {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
            Region=city,
            Description=f"{postal} {city}, {rng.choice(STREETS)} {rng.randint(1, 120)}.",
            VatNumber=f"{rng.randint(10000000, 29999999)}-2-{rng.randint(10, 44)}",
            Ugyfelkategoria=rng.choice(segments),
            Alkalmazottak=rng.randint(2, 800),
            CreatedAt=stamp(created),
            UpdatedAt=stamp(created + timedelta(days=30)),
        )
        for _ in range(1 if index % 2 else 2):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            person_rows.append(
                (
                    company_id,
                    {
                        "FirstName": first,
                        "LastName": last,
                        "Email": f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}",
                        "Phone": f"+36 {rng.choice(['20', '30', '70'])} {rng.randint(100, 999)} "
                        f"{rng.randint(1000, 9999)}",
                        "Position": rng.choice(POSITIONS),
                        "BusinessId": company_id,
                        "Hirlevel": rng.randint(0, 1),
                        "Nyelv": rng.choice(languages),
                        "Szuletesnap": f"{rng.randint(1955, 2000)}-{rng.randint(1, 12):02d}-"
                        f"{rng.randint(1, 28):02d}",
                        "CreatedAt": stamp(created),
                        "UpdatedAt": stamp(created + timedelta(days=31)),
                    },
                )
            )
    for offset, (company_id, data) in enumerate(person_rows):
        person_id = 10001 + COMPANIES + offset
        s.contact(person_id, "Person", **data)
        persons.append((person_id, company_id))
    return persons


def _value(rng: random.Random, spec: FieldSpec, option_ids: list[int]) -> Any:
    if not spec.required and rng.random() < 0.15:
        return None
    moment = EPOCH + timedelta(days=rng.randint(0, 1000), minutes=rng.randint(0, 720))
    kind = spec.kind
    if kind == "Int":
        return rng.randint(1, 500) * 10000
    if kind == "Float":
        return round(rng.uniform(0, 100), 1)
    if kind == "Date":
        return moment.date().isoformat()
    if kind == "DateTime":
        return stamp(moment)
    if kind == "Boolean":
        return rng.randint(0, 1)
    if kind.startswith("File"):
        return f"https://files.example.com/demo/{rng.randint(1000, 9999)}.pdf"
    if kind == "Select":
        return rng.choice(option_ids)
    if kind == "MultiSelect":
        return sorted(rng.sample(option_ids, rng.randint(0, min(3, len(option_ids)))))
    size = int(kind[5:-1])
    return rng.choice(
        [
            "Visszahívást kért.",
            "Árajánlatot vár.",
            "Döntés a jövő héten.",
            "Referenciát kért.",
            "Elégedett ügyfél.",
        ]
    )[:size]


def _cards(
    s: Seeder, rng: random.Random, modules: list[Any], persons: list[tuple[int, int]]
) -> None:
    card_id, history_id, todo_id = 100001, 500001, 700001
    users = list(USERS)
    for category_id, status_ids, fields in modules:
        for _ in range(CARDS_PER_MODULE):
            person_id, _company = rng.choice(persons)
            created = EPOCH + timedelta(days=rng.randint(0, 900), minutes=rng.randint(0, 600))
            path = status_ids[: rng.randint(1, len(status_ids))]
            if len(path) > 2:
                path = [path[0], *rng.sample(path[1:-1], min(2, len(path) - 2)), path[-1]]
            user = rng.choice(users)
            moments = [created + timedelta(days=3 * i, hours=i) for i in range(len(path))]
            values = {name: _value(rng, spec, ids) for name, (spec, ids) in fields.items()}
            s.project(
                card_id,
                category_id,
                Name=f"{rng.choice(TOPICS)} #{card_id - 100000}",
                ContactId=person_id,
                StatusId=path[-1],
                UserId=user,
                CreatedAt=stamp(created),
                StatusUpdatedAt=stamp(moments[-1]),
                UpdatedAt=stamp(moments[-1]),
                **values,
            )
            previous = None
            for status, moment in zip(path, moments, strict=True):
                s.history(history_id, card_id, user, stamp(moment), previous, status)
                history_id, previous = history_id + 1, status
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                closed = rng.random() < 0.4
                deadline = created + timedelta(days=rng.randint(1, 1100), hours=rng.randint(0, 9))
                s.todo(
                    todo_id,
                    card_id,
                    "Closed" if closed else "Open",
                    UserId=rng.choice(users),
                    Type=rng.choice(list(TODO_TYPES)),
                    Comment=rng.choice(
                        [
                            "Visszahívni",
                            "Ajánlatot küldeni",
                            "Szerződést egyeztetni",
                            "Bemutatót tartani",
                            "Számlát ellenőrizni",
                        ]
                    ),
                    Deadline=stamp(deadline),
                    CreatedAt=stamp(created),
                    Mode="Teendő",
                    ContactId=person_id,
                    ClosedAt=stamp(deadline) if closed else None,
                    ClosedBy=user if closed else None,
                )
                todo_id += 1
            card_id += 1


def _orders(
    s: Seeder, rng: random.Random, category_id: int, status_id: int, persons: list[tuple[int, int]]
) -> None:
    order_id, item_id, card_id = 9001, 90001, 190001
    for status in ORDER_STATUSES:
        for _ in range(ORDERS_PER_STATUS):
            _person, company_id = rng.choice(persons)
            s.project(
                card_id,
                category_id,
                Name=f"Megrendelés {order_id}",
                ContactId=company_id,
                StatusId=status_id,
                UserId=rng.choice(list(USERS)),
                CreatedAt=stamp(EPOCH + timedelta(days=rng.randint(0, 900))),
            )
            items = []
            for sku, name, unit, price in rng.sample(PRODUCTS, rng.randint(1, 4)):
                items.append(
                    (
                        item_id,
                        {
                            "SKU": sku,
                            "EAN": "",
                            "Name": name,
                            "Description": "",
                            "PriceNet": price,
                            "Quantity": f"{rng.randint(1, 12)}.00",
                            "Unit": unit,
                            "VAT": "27",
                        },
                    )
                )
                item_id += 1
            s.order(
                order_id,
                card_id,
                company_id,
                status,
                items,
                CurrencyCode="HUF",
                Number="" if status == "Draft" else f"SB-2025-{order_id:06d}",
                Subject=f"Megrendelés {order_id}",
                Performance="2025-06-30",
                Customer={"Name": _name(s, company_id), "CountryId": "36"},
            )
            order_id, card_id = order_id + 1, card_id + 1


def _digits_module(s: Seeder, status_ids: list[int], persons: list[tuple[int, int]]) -> None:
    """The module of digit labels, made last and without the random generator, so the rest of
    the seed stays as it was."""
    category_id, name, statuses = DIGITS_MODULE
    s.category(
        category_id,
        name,
        order=len(MODULES) + 2,
        statuses=[
            (sid, sname, group) for sid, (sname, group) in zip(status_ids, statuses, strict=True)
        ],
    )
    fields = [
        ("Hazi", "Házszámok", "Select", HOUSE_NUMBERS, True),
        ("Emelet", "Emelet", "Select", FLOORS, False),
        ("Ar", "Ár", "Int", None, False),
        ("Terulet", "Terület (m²)", "Float", None, False),
        ("Atadas", "Átadás", "Date", None, False),
        ("Bejaras", "Bejárás", "DateTime", None, False),
    ]
    for field_name, label, kind, options, multi in fields:
        s.field(
            "Project",
            field_name,
            kind,
            label=label,
            category_id=category_id,
            options=options,
            multi=multi,
        )
    for index, (card_id, houses, floor, price, area, handover, viewing) in enumerate(DIGITS_CARDS):
        person_id, _company = persons[-1 - index]
        s.project(
            card_id,
            category_id,
            Name=f"Lakás #{index + 1}",
            ContactId=person_id,
            StatusId=status_ids[index % len(status_ids)],
            UserId=101 + index,
            CreatedAt=stamp(EPOCH),
            Hazi=houses,
            Emelet=floor,
            Ar=price,
            Terulet=area,
            Atadas=handover or None,
            Bejaras=viewing or None,
        )


def _name(s: Seeder, contact_id: int) -> str:
    row = s.db.execute(
        "SELECT json_extract(data, '$.Name') FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    return str(row[0] or "")
