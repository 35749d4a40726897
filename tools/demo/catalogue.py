"""Brightwave Mobile's fixed reference data: plans, products, stores, return policies, names."""

from __future__ import annotations

# plan_code, name, kind, monthly_fee, data_gb (None = unlimited), voice_minutes, description
PLANS: list[tuple[str, str, str, float, float | None, int | None, str]] = [
    ("ESS-5", "Essential 5 GB", "plan", 30.0, 5.0, 500, "5 GB of data and 500 minutes"),
    ("PLUS-15", "Plus 15 GB", "plan", 45.0, 15.0, None, "15 GB of data, unlimited talk and text"),
    ("PREM-40", "Premium 40 GB", "plan", 60.0, 40.0, None, "40 GB of data, unlimited talk"),
    ("UNL", "Unlimited", "plan", 75.0, None, None, "Unlimited data, talk and text"),
    (
        "UNL-PREM",
        "Unlimited Premium",
        "plan",
        90.0,
        None,
        None,
        "Unlimited data with 50 GB hotspot and international texting",
    ),
    ("DATA-5", "Data Boost 5 GB", "addon", 10.0, 5.0, 0, "5 GB of extra data each month"),
    ("TRAVEL", "Travel Pass", "addon", 15.0, 0.0, 0, "Use your plan in 60 countries"),
    ("PROTECT", "Device Protection", "addon", 12.0, 0.0, 0, "Loss, theft and damage cover"),
    ("INTL-CALL", "International Calling", "addon", 8.0, 0.0, 0, "300 minutes to 80 countries"),
]
PLAN_CODES = [p[0] for p in PLANS if p[2] == "plan"]
PLAN_WEIGHTS = [0.2, 0.35, 0.2, 0.18, 0.07]
ADDON_CODES = [p[0] for p in PLANS if p[2] == "addon"]
PLAN_DATA = {p[0]: p[4] for p in PLANS}
PLAN_FEE = {p[0]: p[3] for p in PLANS}

# category, return_days, exchange_days, receipt_required, no_receipt_policy
RETURN_POLICIES: list[tuple[str, int, int, bool, str]] = [
    (
        "phone",
        14,
        14,
        True,
        "No return without proof of purchase; the order can be found by order number.",
    ),
    ("tablet", 14, 14, True, "No return without proof of purchase."),
    ("wearable", 14, 30, True, "No return without proof of purchase."),
    (
        "accessory",
        30,
        30,
        False,
        "Without a receipt: find the purchase by card last four digits, amount and date; "
        "refund to the original card, or store credit at the lowest price of the last 30 days.",
    ),
    (
        "apparel",
        30,
        60,
        False,
        "Without a receipt: find the purchase by card last four digits, amount and date; "
        "refund to the original card, or store credit at the lowest price of the last 30 days.",
    ),
    ("membership", 0, 0, False, "Membership cards are replaced, not returned."),
]

# sku, name, category, price
PRODUCTS: list[tuple[str, str, str, float]] = [
    ("PH-GS25", "Galaxy S25 128 GB", "phone", 799.0),
    ("PH-IP17", "iPhone 17 128 GB", "phone", 829.0),
    ("PH-PX10", "Pixel 10 128 GB", "phone", 699.0),
    ("PH-MOTO", "Moto G Power", "phone", 199.0),
    ("TB-TAB9", "Galaxy Tab S9 FE", "tablet", 449.0),
    ("WR-WAT4", "Brightwave Watch 4 LTE", "wearable", 299.0),
    ("AC-CASE", "Clear Protective Case", "accessory", 29.99),
    ("AC-CHRG", "30 W Fast Charger", "accessory", 24.99),
    ("AC-BUDS", "Wireless Earbuds Pro", "accessory", 129.0),
    ("AC-GLAS", "Tempered Glass Screen Protector", "accessory", 19.99),
    ("AP-JACK", "Brightwave All-Weather Jacket", "apparel", 89.99),
    ("AP-HOOD", "Brightwave Logo Hoodie", "apparel", 49.99),
    ("AP-CAPS", "Brightwave Cap", "apparel", 19.99),
    ("MB-CARD", "Brightwave Rewards membership card (replacement)", "membership", 5.0),
]
SKU_WEIGHTS = [0.05, 0.05, 0.04, 0.04, 0.03, 0.03, 0.16, 0.14, 0.08, 0.12, 0.07, 0.09, 0.08, 0.02]

STORES: list[tuple[str, str, str]] = [
    ("ST01", "Brightwave Store Riverside Mall", "Portland"),
    ("ST02", "Brightwave Store Downtown", "Seattle"),
    ("ST03", "Brightwave Store Westfield Valley", "San Jose"),
    ("ST04", "Brightwave Store Union Square", "San Francisco"),
    ("ST05", "Brightwave Store Lakeside", "Oakland"),
    ("ST06", "Brightwave Store Capitol Hill", "Denver"),
    ("ST07", "Brightwave Store Midtown", "Sacramento"),
    ("ST08", "Brightwave Store Old Town", "Boise"),
]

# city, region, first three digits of its ZIP codes
CITIES: list[tuple[str, str, str]] = [
    ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"),
    ("San Jose", "CA", "951"),
    ("San Francisco", "CA", "941"),
    ("Oakland", "CA", "946"),
    ("Denver", "CO", "802"),
    ("Sacramento", "CA", "958"),
    ("Boise", "ID", "837"),
    ("Spokane", "WA", "992"),
    ("Eugene", "OR", "974"),
    ("Reno", "NV", "895"),
    ("Salt Lake City", "UT", "841"),
]
STREETS = ["Oak", "Maple", "Cedar", "Pine", "Elm", "Birch", "Lake", "Hill", "Park", "River"]
STREET_KINDS = ["St", "Ave", "Rd", "Blvd", "Ln", "Way", "Dr", "Ct"]

FIRST_NAMES = """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard
Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty
Anthony Sandra Mark Ashley Donald Kimberly Steven Emily Paul Donna Andrew Michelle Joshua Carol
Kenneth Amanda Kevin Melissa Brian Deborah George Stephanie Timothy Rebecca Ronald Laura Jason
Sharon Edward Cynthia Jeffrey Kathleen Ryan Amy Jacob Angela Gary Shirley Nicholas Anna Eric
Brenda Jonathan Pamela Stephen Emma Larry Nicole Justin Helen Scott Samantha Brandon Katherine
Benjamin Christine Samuel Debra Gregory Rachel Alexander Carolyn Frank Janet Patrick Maria
Raymond Olivia Jack Heather Dennis Diane Jerry Julie Tyler Joyce Aaron Victoria Jose Ruth Adam
Virginia Nathan Lauren Henry Kelly Zachary Christina Douglas Joan Peter Evelyn Kyle Judith Noah
Andrea Ethan Hannah Jeremy Megan Walter Cheryl Christian Jacqueline Keith Martha Roger Madison
Terry Teresa Austin Gloria Sean Sara Gerald Janice Carl Ann Harold Kathryn Dylan Abigail Arthur
Sophia Lawrence Frances Jordan Jean Jesse Alice Bryan Judy Billy Isabella Bruce Julia Gabriel
Grace Joe Amber Logan Denise Alan Danielle Juan Marilyn Albert Beverly Willie Charlotte Elijah
Natalie Wayne Theresa Randy Diana Vincent Brittany Mason Doris Roy Kayla Ralph Alexis Bobby Lori
Russell Marie Bradley Wei Aisha Priya Hiroshi Mei Arjun Fatima Carlos Sofia Diego Lucia Omar
Leila
""".split()  # noqa: SIM905
LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers
Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson
Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders
Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton
Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina
Aguilar Stevens Murray Ford Castro Marshall Owens Harrison Fernandez Mcdonald Woods Washington
Kennedy Wells Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter
Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black
Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson
Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce
Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson
Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena
Richards Contreras Willis Carpenter Lawrence Sandoval Guerrero George Chapman Rios Estrada
Ortega Watkins Greene Nunez Wheeler Valdez Harper Burke Larson Santiago Maldonado Morrison
Franklin Carlson Austin Dominguez Carr Lawson Jacobs Obrien Lynch Singh Vega Bishop Montgomery
Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li Wong Reid Hanson Le Mccoy
Garrett Burton Fuller Wang Weber Welch Rojas Lucas Marquez Fields Park Yang Little Banks Padilla
Day Walsh Bowman Schultz Luna Fowler Mejia Davidson Acosta Brewer May Holland Juarez Newman
Pearson Curtis Cortez Douglas Schneider Joseph Barrett Navarro Figueroa Keller Avila Wade Molina
Stanley Hopkins Campos Barnett Bates Chambers Caldwell Beck Lambert Miranda Byrd Craig Ayala
Lowe Frazier Powers Neal Leonard Gregory Carrillo Sutton Fleming Rhodes Shelton Schwartz Norris
Jennings Watts Duran Walters Cohen Mcdaniel Moran Parks Steele Vaughn Becker Holt Deleon Barker
Terry Hale Leon Hail Benson Haynes Horton Miles Lyons Pham Graves Bush Thornton Wolfe Warner
Cabrera Mckinney Mann Zimmerman Dawson Lara Fletcher Page Mccarthy Love Robles Cervantes Solis
Erickson Reeves Chang Klein Salinas Fuentes Baldwin Daniel Simon Velasquez Hardy Higgins Aguirre
Lin Cummings Chandler Sharp Barber Bowen Ochoa Dennis Robbins Liu Ramsey Francis Griffith Paul
Blair Oconnor Cardenas Pacheco Cross Calderon Quinn Moss Swanson Chan Rivas Khan Rodgers Serrano
Fitzgerald Rosales Stevenson Christensen Manning Gill Curry Mclaughlin Harmon Mcgee Gross Doyle
Garner Newton Burgess Reese Walton Blake Trujillo Adkins Brady Goodman Roman Webster Goodwin
Fischer Huang Potter Delacruz Montoya Todd Wu Hines Mullins Castaneda Malone Cannon Tate Mack
Sherman Hubbard Hodges Zhang Guerra Wolf Valencia Saunders Franco Rowe Gallagher Farmer Hammond
Hampton Townsend Ingram Wise Okafor Raman Nakamura Kowalski Novak Ibrahim Haddad Silva Rossi
Muller
""".split()  # noqa: SIM905
