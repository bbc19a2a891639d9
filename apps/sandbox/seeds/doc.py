"""The `doc` seed: exactly the records the API document shows, so each example can be replayed.

Records the examples only refer to (the company of card 2009, customer 225 of order 44, the
cards owning to-dos 1111/2222 and history 30027) are added with the fields the examples imply.
"""

from __future__ import annotations

from apps.sandbox.seeds import Seeder

QUALIFICATION = {3101: "VIP", 3102: "Célcsoport", 3103: "Nem célcsoport", 3105: "Hideg"}
YES_NO = {3111: "Igen", 3112: "Nem"}
SALES_STATUS = {3121: "Értékesítés folyamatban", 3122: "Sikeres", 3123: "Sikertelen"}
LEAD_STEP = {3131: "Kapcsolatfelvétel", 3132: "Igényfelmérés", 3133: "Ajánlat elfogadás"}
CUSTOMER_STEP = {3141: "Bevezetés", 3142: "Aktív ügyfél"}
DECISION = {3151: "Ár", 3152: "Termék minőség", 3153: "Szolgáltatás"}
SOURCE = {3161: "Weboldal", 3162: "Ajánlás", 3163: "Kiállítás"}
FOOD = {2001: "Alma", 2002: "Narancs", 2003: "Sajt", 2004: "Kolbász"}


def seed(s: Seeder) -> None:
    s.users(
        {
            2: "Rendszer",
            3200: "Keszei Csaba",
            3300: "Kovács Anna",
            22404: "Leskó Norbert",
            53986: "Tóth Gábor",
            54726: "Szabó Éva",
        }
    )
    s.todo_types({1566: "Telefonhívás", 1567: "Találkozó", 1568: "E-mail"})
    # Module order and names as the document's jq listing shows them.
    s.category(
        10,
        "Értékesítés",
        order=1,
        statuses=[
            (2620, "Érdeklődő", "Lead"),
            (2876, "Ügyfélminősítés", "Lead"),
            (2621, "Ajánlat kiküldve", "Open"),
            (2622, "Feldolgozásra vár", "Open"),
            (2623, "Sikeres", "Success"),
            (2624, "Sikertelen", "Failed"),
        ],
    )
    s.category(
        5,
        "Ügyfélszolgálat",
        order=2,
        kind="HelpDesk",
        statuses=[
            (2520, "Új bejelentés", "Lead"),
            (2521, "Folyamatban", "Open"),
            (2522, "Megoldva", "Success"),
            (2523, "Elutasítva", "Failed"),
        ],
    )
    s.category(
        6,
        "Projektek",
        order=3,
        statuses=[
            (2600, "Tervezés", "Open"),
            (2601, "Lezárva", "Success"),
            (2602, "Megszakítva", "Failed"),
        ],
    )
    s.category(
        7,
        "Megrendelés",
        order=4,
        is_order=True,
        statuses=[
            (2700, "Piszkozat", "Open"),
            (2701, "Teljesítve", "Success"),
            (2702, "Sztornó", "Failed"),
        ],
    )
    s.category(
        8,
        "Webshop",
        order=5,
        statuses=[
            (11684, "Új kérdés", "Lead"),
            (11685, "Megválaszolva", "Success"),
        ],
    )
    s.category(
        9,
        "Számlázó",
        order=6,
        statuses=[
            (2900, "Kiállítva", "Open"),
            (2901, "Kifizetve", "Success"),
        ],
    )
    s.category(
        3,
        "Partnerek",
        order=7,
        statuses=[
            (2538, "Aktív partner", "Open"),
            (2539, "Volt partner", "Failed"),
            (2540, "Érdeklődő", "Lead"),
        ],
    )

    s.field("Person", "KedvencEtele", "Select", label="Kedvenc étele", options=FOOD)
    sales = 10
    s.field(
        "Project",
        "AutoSalesV3_Qualification",
        "Select",
        label="Lead qualification",
        category_id=sales,
        options=QUALIFICATION,
    )
    s.field(
        "Project",
        "AutoSalesV3_IsHot",
        "Select",
        label="Hot lead",
        category_id=sales,
        options=YES_NO,
    )
    s.field(
        "Project",
        "AutoSalesV3_SalesStatus",
        "Select",
        label="Sales status",
        category_id=sales,
        options=SALES_STATUS,
    )
    s.field(
        "Project",
        "AutoSalesV3_LeadStep",
        "Select",
        label="Lead step",
        category_id=sales,
        options=LEAD_STEP,
    )
    s.field(
        "Project",
        "AutoSalesV3_CustomerStep",
        "Select",
        label="Customer step",
        category_id=sales,
        options=CUSTOMER_STEP,
    )
    s.field(
        "Project",
        "DontesiSzempont",
        "Select",
        label="Döntési szempont",
        category_id=sales,
        options=DECISION,
    )
    s.field(
        "Project",
        "HolTalaltRank",
        "Select",
        label="Hol talált ránk",
        category_id=sales,
        options=SOURCE,
    )
    s.field("Project", "VarhatoArbevetel", "Int", label="Várható árbevétel", category_id=sales)
    s.field(
        "Project",
        "KovetkezoHivasIdpontja",
        "DateTime",
        label="Következő hívás időpontja",
        category_id=sales,
    )
    s.field(
        "Project",
        "VarhatoLezarasDatuma",
        "DateTime",
        label="Várható lezárás dátuma",
        category_id=sales,
    )
    s.field("Project", "Szerzodes", "File(10MB)", label="Szerződés", category_id=sales)
    s.field(
        "Project", "SzallitasExtraInfo", "Text(1024)", label="Szállítási megjegyzés", category_id=7
    )
    s.field(
        "Project", "DeliveryExtraInfo", "Text(1024)", label="Delivery extra info", category_id=7
    )

    s.contact(
        7505, "Business", Name="MiniCRM Zrt.", Email="help@minicrm.hu", Phone="06 (1) 999-0402"
    )
    s.contact(
        7506,
        "Person",
        FirstName="Norbert",
        LastName="Leskó",
        Email="norbert@minicrm.hu",
        Phone="06 (20) 236 7532",
        Position="Cégvezető",
        KedvencEtele=2001,
        BusinessId=7505,
        Description="",
        Url="",
        BankAccount="",
        Swift="",
        VatNumber="",
        Industry="",
        Region="",
    )
    s.contact(
        7507,
        "Person",
        FirstName="Krisztián",
        LastName="Egerszegi",
        Email="egerszegi.krisztian@minicrm.hu",
        Phone="",
        BusinessId=7505,
    )
    s.contact(7453, "Business", Name="Példa Kft.", Email="info@pelda.hu", Phone="06 (1) 555-0100")
    s.contact(
        7461,
        "Person",
        FirstName="Péter",
        LastName="Példa",
        Email="peter@pelda.hu",
        Phone="06 (30) 555 0101",
        BusinessId=7453,
    )
    s.contact(
        225,
        "Business",
        Name="Gigabit Távközlési Kft.",
        Email="info@gigabit.hu",
        Phone="06 (96) 555 225",
        VatNumber="17823443-1-26",
    )

    s.project(
        2009,
        3,
        Name="Ez egy komoly érdeklődő (Példa Kft.)",
        ContactId=7461,
        StatusId=2540,
        UserId=22404,
    )
    s.project(
        2054, 3, Name="MiniCRM Zrt. (CRM szolgáltató)", ContactId=7506, StatusId=2538, UserId=22404
    )
    s.project(2055, 5, Name="API segítség kérés", ContactId=7506, StatusId=2521, UserId=22404)
    s.project(
        2056,
        sales,
        Name="MiniCRM Zrt. (Leskó Norbert)",
        ContactId=7506,
        StatusId=2622,
        UserId=22404,
        CreatedAt="2018-02-14 14:12:31",
        StatusUpdatedAt="2018-02-14 14:12:41",
        AutoSalesV3_Qualification=3101,
        AutoSalesV3_IsHot=3111,
        AutoSalesV3_SalesStatus=3121,
        AutoSalesV3_LeadStep=3133,
        AutoSalesV3_CustomerStep=None,
        DontesiSzempont=3152,
        HolTalaltRank=3161,
        VarhatoArbevetel=1000000,
        KovetkezoHivasIdpontja="2018-02-16 13:00:59",
        VarhatoLezarasDatuma="2018-02-23 23:59:59",
    )
    s.project(
        2001, sales, Name="Példa Kft. (Péter Példa)", ContactId=7461, StatusId=2621, UserId=3200
    )
    s.project(
        29592,
        sales,
        Name="Ügyfélminősítés példa",
        ContactId=7461,
        StatusId=2876,
        UserId=53986,
        CreatedAt="2018-07-18 01:44:20",
    )
    s.history(30027, 29592, 53986, "2018-07-18 01:44:20", None, 2876)
    s.project(
        206,
        7,
        Name="Megrendelés 44 (Gigabit Távközlési Kft.)",
        ContactId=225,
        StatusId=2700,
        UserId=22404,
        SzallitasExtraInfo="",
        DeliveryExtraInfo="",
    )

    s.todo(
        1111,
        2001,
        "Open",
        UserId=3200,
        Type=0,
        Duration=0,
        Reminder=0,
        Mode="Teendő",
        ContactId=0,
        Deadline="2012-01-17 23:59:00",
        Comment="Felhívni és megkérdezni sikerült-e dönteni, van-e még valamilyen kérdése"
        " a termékről.",
        Attachments={
            "FileName": "szerzodes.pdf",
            "Url": "http://cdn.minicrm.hu/doc/2013/04-25/A/Q/AQFwQq7Os0kE5ykH_GSJfg-1",
        },
        CreatedAt="2012-01-17 00:01:59",
        ClosedBy=3200,
        AddressId=3,
        Members=[{"Entity": "Contact", "EntityId": "6"}],
        Notes=[
            {
                "Comment": "Nem sikerült elérnem",
                "CreatedBy": "54726",
                "CreatedAt": "2012-01-17 12:48:17",
            }
        ],
    )
    s.todo(
        2222,
        2001,
        "Open",
        UserId=3300,
        Type=1566,
        Deadline="2013-01-22 23:59:00",
        Comment="Történt valami előrelépés?",
        CreatedAt="2013-01-10 09:00:00",
    )

    s.order(
        44,
        206,
        225,
        "Draft",
        items=[
            (
                54,
                {
                    "SKU": "",
                    "EAN": "",
                    "Name": "Optikai kábel",
                    "Description": "",
                    "PriceNet": "500.00",
                    "Quantity": "15.00",
                    "Unit": "m",
                    "VAT": "27",
                },
            )
        ],
        CurrencyCode="HUF",
        Number="",
        Subject="",
        Performance="2018-11-20",
        Customer={
            "Name": "Gigabit Távközlési Kft.",
            "CountryId": "36",
            "PostalCode": "9245",
            "City": "Mosonszolnok",
            "Address": "Alkotás u. 49.",
            "AccountNumber": "92826253-45043722-59650728",
            "VatNumber": "17823443-1-26",
            "EUVatNumber": "",
            "RegistrationNumber": "32-88-574193",
            "GroupIdentificationNumber": "",
        },
    )
    # The ids the document's create examples answer with.
    s.next_ids(contacts=7520, todos=255, order_items=55)
