"""Demo data from public facts about the PREPARE partners, for local use only (idempotent)."""

from __future__ import annotations

import sqlalchemy as sa

from assist.auth import services as auth_services
from assist.auth.models import User
from assist.directory import services as directory_services
from assist.directory.models import ExpertOrganisation, GovernmentLevel, LocalAuthority
from assist.extensions import db
from assist.requests import services as request_services
from assist.requests.models import AssistanceRequest
from assist.roles import Role

AUTHORITIES = [
    (
        "Málaga",
        "ES",
        GovernmentLevel.MUNICIPALITY,
        "City of about 580,000 with a municipal Plan for Coexistence and Prevention of Violent "
        "Radicalism; twenty years of intercultural work with residents of 150+ nationalities; pilot "
        "city of the national strategic plan against violent radicalisation.",
    ),
    (
        "Generalitat de Catalunya",
        "ES",
        GovernmentLevel.REGION,
        "The only Spanish region that runs its own prisons (Department of Justice) and has its own "
        "police, the Mossos d'Esquadra. Uses detection and intervention protocols in prisons, "
        "juvenile justice and open regime.",
    ),
    (
        "Rotterdam",
        "NL",
        GovernmentLevel.MUNICIPALITY,
        "Rotterdam approach to radicalisation: countering polarisation, prevention, signalling and "
        "training, and a person-centred approach with a network of professionals.",
    ),
    (
        "The Hague",
        "NL",
        GovernmentLevel.MUNICIPALITY,
        "Dutch local approach: prevention, person-centred approach (PGA) with multidisciplinary case "
        "consultation, and reintegration prepared during detention with the Probation Service.",
    ),
    (
        "Rennes",
        "FR",
        GovernmentLevel.MUNICIPALITY,
        "CLSPD since 2004 whose strategy includes preventing reoffending; works with the prison and "
        "probation service (SPIP) and youth justice (PJJ).",
    ),
    (
        "Bagnolet",
        "FR",
        GovernmentLevel.MUNICIPALITY,
        "Seine-Saint-Denis suburb of Paris with a territorial security and delinquency-prevention "
        "strategy; French frame of prefect-led monitoring cells, CLSPD, SPIP and PJJ.",
    ),
    (
        "Vilvoorde",
        "BE",
        GovernmentLevel.MUNICIPALITY,
        "Town of about 44,000 near Brussels with a dedicated deradicalisation officer since 2014 and "
        "a local integral security cell (LIVC-R) chaired by the mayor.",
    ),
]

ORGANISATIONS = [
    {
        "name": "Violence Prevention Network",
        "country": "DE",
        "capacity": 3,
        "description": (
            "Non-profit with 100+ staff in eight German states working on right-wing and "
            "religiously motivated extremism. Since 2001 its non-confrontational responsibility "
            "pedagogy combines anti-violence and competence training, biography work, "
            "political-historical education and a systemic, multi-agency approach. In prisons: "
            "prevention workshops, multi-month group trainings and individual deradicalisation "
            "work, plus stabilisation coaching up to a year after release. Trains prison and "
            "probation staff in early detection and exit support."
        ),
        "terms": {
            "themes": [
                "deradicalisation_training",
                "exit_mentoring",
                "staff_training",
                "release_transition",
                "family_network_support",
                "multiagency_case_conference",
            ],
            "ideologies": ["jihadist", "far_right"],
            "target_groups": [
                "released_terrorist_offenders",
                "radicalised_ordinary_offenders",
                "returnees",
                "young_adults",
                "professionals",
                "families",
            ],
            "settings": ["prison", "release", "probation_parole", "post_supervision"],
            "formats": ["training", "expert_mission", "workshop", "co_design", "remote_advice"],
            "languages": ["de", "en"],
            "countries": ["DE", "AT", "ES", "BE"],
        },
    },
    {
        "name": "Denkzeit-Gesellschaft",
        "country": "DE",
        "capacity": 2,
        "description": (
            "Berlin youth-welfare organisation with 20+ years of psychodynamic-pedagogical, "
            "manualised individual trainings for high-risk delinquent young people, in outpatient "
            "settings, schools and prisons; evaluated with lower reoffending at four-year "
            "follow-up. Its ideology-neutral Blickwechsel training strengthens self- and "
            "relationship-regulation. Trains and supervises professionals."
        ),
        "terms": {
            "themes": [
                "deradicalisation_training",
                "staff_training",
                "mental_health",
                "evaluation",
            ],
            "ideologies": ["ideology_unspecific"],
            "target_groups": [
                "juveniles",
                "young_adults",
                "radicalised_ordinary_offenders",
                "professionals",
            ],
            "settings": ["prison", "probation_parole"],
            "formats": ["training", "expert_mission", "remote_advice"],
            "languages": ["de", "en"],
            "countries": ["DE"],
        },
    },
    {
        "name": "Fryshuset",
        "country": "SE",
        "capacity": 2,
        "description": (
            "Stockholm youth organisation founded in 1984. Exit (since 1998) gives voluntary "
            "support to leave white-power and neo-Nazi groups, with formers and trained "
            "professionals: practical help with housing, police, social services, courts and "
            "work, plus family counselling and advice to professionals. Passus helps people "
            "leave criminal gangs."
        ),
        "terms": {
            "themes": [
                "exit_mentoring",
                "family_network_support",
                "housing",
                "employment",
                "social_network",
                "staff_training",
            ],
            "ideologies": ["far_right", "ideology_unspecific"],
            "target_groups": [
                "young_adults",
                "families",
                "professionals",
                "radicalised_ordinary_offenders",
            ],
            "settings": ["release", "post_supervision", "probation_parole"],
            "formats": ["study_visit", "training", "workshop", "remote_advice"],
            "languages": ["sv", "en"],
            "countries": ["SE", "DK", "NO", "FI"],
        },
    },
    {
        "name": "European Forum for Restorative Justice",
        "country": "BE",
        "capacity": 2,
        "description": (
            "European restorative-justice network based in Leuven, with a working group on "
            "restorative justice and violent extremism: prevention, desistance, including "
            "victims, and training of practitioners in dialogue and mediation."
        ),
        "terms": {
            "themes": ["restorative_justice", "staff_training", "social_network", "evaluation"],
            "ideologies": ["ideology_unspecific", "jihadist", "far_right"],
            "target_groups": ["released_terrorist_offenders", "families", "professionals"],
            "settings": ["prison", "probation_parole", "post_supervision"],
            "formats": ["workshop", "training", "peer_review", "remote_advice"],
            "languages": ["en", "nl", "fr"],
            "countries": ["BE", "NL", "FR", "ES", "IT"],
        },
    },
    {
        "name": "Fondation Agir Contre l'Exclusion (FACE)",
        "country": "FR",
        "capacity": 2,
        "description": (
            "Public-utility foundation created in 1993 by major companies: a network of local "
            "business clubs fighting exclusion through employment and insertion, education and "
            "access to rights. In PREPARE it supported Avignon on risk assessment and joint "
            "working groups for young released offenders with youth justice (PJJ)."
        ),
        "terms": {
            "themes": [
                "employment",
                "education",
                "release_transition",
                "risk_assessment",
                "multiagency_case_conference",
            ],
            "ideologies": ["ideology_unspecific", "jihadist"],
            "target_groups": ["juveniles", "young_adults", "radicalised_ordinary_offenders"],
            "settings": ["release", "probation_parole", "post_supervision"],
            "formats": ["roundtable", "co_design", "workshop", "expert_mission"],
            "languages": ["fr", "en"],
            "countries": ["FR", "BE"],
        },
    },
]

REQUESTS = [
    {
        "authority": "Málaga",
        "submit": True,
        "title": "Multi-agency roundtable to prepare releases",
        "language": "en",
        "context": (
            "Our Plan for Coexistence brings together municipal social services, the local police "
            "and community organisations, but prison and probation are run by the State. When a "
            "person convicted of a radicalisation-related offence returns to the city, the "
            "municipality is informed late and services do not coordinate."
        ),
        "needs": (
            "Facilitation of a first multi-agency roundtable with the prison administration, "
            "probation and municipal services, and a draft protocol on who does what before and "
            "after release."
        ),
        "existing_activities": "Plan for Coexistence; municipal mediation service; CIFAL workshops.",
        "terms": {
            "themes": ["multiagency_case_conference", "release_transition", "information_sharing"],
            "target_groups": ["released_terrorist_offenders", "radicalised_ordinary_offenders"],
            "settings": ["release", "probation_parole"],
            "formats": ["roundtable", "co_design"],
            "agencies": ["municipality", "police", "prison", "probation", "social_services"],
            "languages": ["es", "en"],
        },
        "expected_participants": 20,
    },
    {
        "authority": "Málaga",
        "submit": False,
        "title": "Training for municipal social workers",
        "language": "en",
        "context": "Draft: social workers ask how to recognise and respond to signs of radicalisation.",
        "needs": "",
        "existing_activities": "",
        "terms": {"themes": ["staff_training"], "languages": ["es"]},
    },
    {
        "authority": "Generalitat de Catalunya",
        "submit": True,
        "title": "Risk management and information transfer protocol",
        "language": "en",
        "context": (
            "The Department of Justice runs prisons and open regime and uses detection and "
            "intervention protocols. Two city councils and the Mossos d'Esquadra take part in "
            "preparing releases, but risk assessments are not shared in a systematic way."
        ),
        "needs": (
            "Advice on case assessment and a protocol that systematises risk management and the "
            "transfer of information between justice, police and municipalities; training of "
            "municipal and regional staff."
        ),
        "existing_activities": "Detection and intervention protocols in prisons and juvenile justice.",
        "terms": {
            "themes": [
                "risk_assessment",
                "information_sharing",
                "release_transition",
                "staff_training",
            ],
            "ideologies": ["jihadist"],
            "target_groups": ["released_terrorist_offenders", "professionals"],
            "settings": ["prison", "release"],
            "formats": ["expert_mission", "co_design", "training"],
            "agencies": ["prison", "police", "municipality", "probation"],
            "languages": ["es", "ca", "en"],
        },
        "expected_participants": 30,
    },
    {
        "authority": "Rotterdam",
        "submit": True,
        "title": "Involving families in aftercare",
        "language": "en",
        "context": (
            "Our person-centred approach works with a network of professionals, but families of "
            "people returning from detention are rarely involved, although they are often the "
            "first to notice a relapse into extremist contacts."
        ),
        "needs": "A training for case managers on family counselling and involving relatives.",
        "existing_activities": "Network of key figures; person-centred case approach.",
        "terms": {
            "themes": ["family_network_support", "staff_training", "social_network"],
            "target_groups": ["families", "professionals"],
            "settings": ["release", "post_supervision"],
            "formats": ["training", "study_visit"],
            "agencies": ["municipality", "probation", "social_services"],
            "languages": ["nl", "en"],
        },
        "expected_participants": 25,
    },
    {
        "authority": "Bagnolet",
        "submit": True,
        "title": "Insertion professionnelle des jeunes sortant de détention",
        "language": "fr",
        "context": (
            "Notre stratégie territoriale de prévention de la délinquance associe le CLSPD, le "
            "SPIP et la PJJ. Les jeunes adultes qui sortent de détention retrouvent rarement un "
            "emploi ou une formation, ce qui favorise le retour vers leur ancien milieu."
        ),
        "needs": (
            "Un groupe de travail avec des entreprises locales et les services de justice pour "
            "construire des parcours d'insertion à la sortie."
        ),
        "existing_activities": "CLSPD; mission locale; chantiers d'insertion.",
        "terms": {
            "themes": ["employment", "education", "release_transition"],
            "target_groups": ["young_adults", "juveniles"],
            "settings": ["release", "probation_parole"],
            "formats": ["roundtable", "workshop"],
            "agencies": ["municipality", "probation", "youth_justice", "employment_services"],
            "languages": ["fr"],
        },
        "expected_participants": 15,
    },
    {
        "authority": "Vilvoorde",
        "submit": True,
        "withdraw": "Covered by a regional programme.",
        "title": "Case consultation in the local integral security cell",
        "language": "en",
        "context": (
            "Our local integral security cell discusses situations with social-prevention "
            "services, but professional secrecy makes partners hesitant to share information."
        ),
        "needs": "Peer review of how the cell shares information within legal limits.",
        "existing_activities": "LIVC-R chaired by the mayor; deradicalisation officer.",
        "terms": {
            "themes": ["information_sharing", "multiagency_case_conference"],
            "formats": ["peer_review"],
            "languages": ["nl", "fr"],
        },
    },
    # Written in the cities' own languages: the matching reads them across languages.
    {
        "authority": "Málaga",
        "submit": True,
        "title": "Acompañamiento de jóvenes adultos tras la salida de prisión",
        "language": "es",
        "context": (
            "El Plan de Convivencia coordina los servicios sociales municipales, la policía local "
            "y las entidades del barrio. Cuando un joven adulto vuelve a la ciudad después de un "
            "periodo en prisión, los servicios municipales no conocen su situación y la familia "
            "no recibe orientación. Faltan plazas de empleo y formación adaptadas."
        ),
        "needs": (
            "Un itinerario de acompañamiento con los servicios de empleo y las familias, y una "
            "formación para los profesionales municipales sobre desvinculación y reintegración."
        ),
        "existing_activities": (
            "Plan de Convivencia; servicio municipal de mediación; talleres con asociaciones "
            "juveniles."
        ),
        "terms": {
            "themes": ["release_transition", "employment", "family_network_support"],
            "target_groups": ["young_adults", "families"],
            "settings": ["release", "post_supervision"],
            "formats": ["workshop", "training"],
            "agencies": ["municipality", "social_services", "employment_services"],
            "languages": ["es", "en"],
        },
        "expected_participants": 18,
    },
    {
        "authority": "Rennes",
        "submit": True,
        "title": "Prévenir la récidive : coordination entre la ville, le SPIP et la PJJ",
        "language": "fr",
        "context": (
            "Le CLSPD a inscrit la prévention de la récidive dans sa stratégie. Les jeunes suivis "
            "par la PJJ et les personnes accompagnées par le SPIP après leur sortie de détention "
            "ne sont pas toujours connus des services de la ville, et les partenaires manquent "
            "d'un cadre commun pour partager l'information dans le respect du secret "
            "professionnel."
        ),
        "needs": (
            "Un accompagnement pour construire une charte de partage d'information et former les "
            "professionnels de la ville à l'accueil des jeunes sortant de détention."
        ),
        "existing_activities": (
            "Groupe de travail du CLSPD sur la prévention de la récidive ; conventions avec le "
            "SPIP."
        ),
        "terms": {
            "themes": ["information_sharing", "release_transition", "staff_training"],
            "target_groups": ["juveniles", "young_adults", "professionals"],
            "settings": ["release", "probation_parole"],
            "formats": ["co_design", "training"],
            "agencies": ["municipality", "probation", "youth_justice"],
            "languages": ["fr"],
        },
        "expected_participants": 20,
    },
    {
        "authority": "The Hague",
        "submit": True,
        "title": "Begeleiding bij terugkeer na detentie",
        "language": "nl",
        "context": (
            "Onze persoonsgerichte aanpak brengt gemeente, politie, reclassering en zorg samen in "
            "een multidisciplinair casusoverleg. De voorbereiding van de terugkeer begint vaak pas "
            "kort voor het einde van de detentie, waardoor huisvesting, werk en begeleiding niet "
            "op tijd geregeld zijn."
        ),
        "needs": (
            "Advies over een gezamenlijk protocol voor de voorbereiding van de terugkeer en een "
            "training voor casusregisseurs in herstelgerichte gesprekken met het netwerk."
        ),
        "existing_activities": (
            "Persoonsgerichte aanpak; Zorg- en Veiligheidshuis; casusoverleg met de reclassering."
        ),
        "terms": {
            "themes": [
                "release_transition",
                "restorative_justice",
                "multiagency_case_conference",
            ],
            "target_groups": ["radicalised_ordinary_offenders", "professionals"],
            "settings": ["prison", "release"],
            "formats": ["training", "expert_mission"],
            "agencies": ["municipality", "police", "probation"],
            "languages": ["nl", "en"],
        },
        "expected_participants": 12,
    },
]

ADMIN_EMAIL = "admin@assist.example"
DEMO_USERS = [
    ("official@assist.example", "Lucía Martín (demo)", Role.CITY_OFFICIAL, "Málaga", None),
    (
        "official.rotterdam@assist.example",
        "Sanne de Boer (demo)",
        Role.CITY_OFFICIAL,
        "Rotterdam",
        None,
    ),
    ("staff@assist.example", "Efus programme manager (demo)", Role.STAFF, None, None),
    (
        "expert@assist.example",
        "VPN trainer (demo)",
        Role.EXPERT,
        None,
        "Violence Prevention Network",
    ),
    (ADMIN_EMAIL, "Administrator (demo)", Role.ADMIN, None, None),
    ("expert.fryshuset@assist.example", "Exit coach (demo)", Role.EXPERT, None, "Fryshuset"),
]


def _by_name(model: type[LocalAuthority] | type[ExpertOrganisation], name: str) -> int | None:
    return db.session.scalar(sa.select(model.id).where(model.name == name))


def seed(password: str) -> dict[str, int]:
    """Create whatever of the demo set is missing; existing rows are left alone."""
    directory_services.sync_taxonomy()
    added = {"authorities": 0, "organisations": 0, "users": 0, "requests": 0}
    for name, country, level, description in AUTHORITIES:
        if _by_name(LocalAuthority, name) is None:
            db.session.add(
                LocalAuthority(name=name, country=country, level=level, description=description)
            )
            added["authorities"] += 1
    db.session.flush()
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
    if admin is None:
        admin = auth_services.create_user(
            None,
            auth_services.UserData(email=ADMIN_EMAIL, name="Administrator (demo)", role=Role.ADMIN),
            password,
        )
        added["users"] += 1
    for org in ORGANISATIONS:
        if _by_name(ExpertOrganisation, org["name"]) is None:
            directory_services.save_organisation(admin, directory_services.OrganisationData(**org))
            added["organisations"] += 1
    db.session.flush()
    officials: dict[str, User] = {}
    for email, name, role, authority, organisation in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = auth_services.create_user(
                None,
                auth_services.UserData(
                    email=email,
                    name=name,
                    role=role,
                    authority_id=_by_name(LocalAuthority, authority) if authority else None,
                    organisation_id=_by_name(ExpertOrganisation, organisation)
                    if organisation
                    else None,
                ),
                password,
            )
            added["users"] += 1
        if authority:
            officials[authority] = user
    created: set[str] = set()
    for item in REQUESTS:
        authority_id = _by_name(LocalAuthority, item["authority"])
        existing = db.session.scalar(
            sa.select(AssistanceRequest).where(
                AssistanceRequest.authority_id == authority_id,
                AssistanceRequest.title == item["title"],
            )
        )
        if existing is not None:
            if existing.language is None:  # seeded before languages were recorded
                existing.language = item["language"]
                existing.detected_language = request_services.detect_request_language(existing)
            continue
        author = officials.get(item["authority"]) or _demo_official(item["authority"], password)
        data = request_services.RequestData(
            title=item["title"],
            context=item["context"],
            needs=item["needs"],
            existing_activities=item["existing_activities"],
            expected_participants=item.get("expected_participants"),
            terms=item["terms"],
            language=item["language"],
            language_stated=True,
        )
        req = request_services.create_draft(author, data)
        if item["submit"]:
            request_services.submit_request(req, author)
        if item.get("withdraw"):
            request_services.withdraw_request(req, author, item["withdraw"])
        added["requests"] += 1
        created.add(item["title"])
    _demo_workflow(created)
    return added


def _request(title: str) -> AssistanceRequest:
    return db.session.scalars(
        sa.select(AssistanceRequest).where(AssistanceRequest.title == title)
    ).one()


def _user(email: str) -> User:
    return db.session.scalars(sa.select(User).where(User.email == email)).one()


def _demo_workflow(created: set[str]) -> None:
    """Move some demo requests along, through the services, so every page has something to show:
    one request in review, some waiting in matching (in French and Dutch), and one delivered and
    closed engagement. Only requests created by this run move: a second run changes nothing."""
    from datetime import date, timedelta

    from assist.delivery import services as delivery
    from assist.engagements import services as engagements

    staff = _user("staff@assist.example")
    moves = {
        "Risk management and information transfer protocol": ("start_review",),
        "Insertion professionnelle des jeunes sortant de détention": (
            "start_review",
            "start_matching",
        ),
        "Begeleiding bij terugkeer na detentie": ("start_review", "start_matching"),
        "Involving families in aftercare": ("start_review", "start_matching"),
    }
    for title, actions in moves.items():
        if title in created:
            for action in actions:
                request_services.transition_request(_request(title), staff, action)
    if "Involving families in aftercare" not in created:
        return
    rotterdam = _request("Involving families in aftercare")
    fryshuset = _by_name(ExpertOrganisation, "Fryshuset")
    engagement = engagements.propose_match(
        rotterdam,
        staff,
        engagements.Proposal(
            organisation_id=fryshuset,
            comment="Start with a study visit to Exit in Stockholm, then a training at home.",
            reason="Family counselling is at the heart of Exit's work with leavers.",
        ),
    )
    engagements.transition_engagement(engagement, staff, "approve")
    coach = _user("expert.fryshuset@assist.example")
    city = _user("official.rotterdam@assist.example")
    engagements.transition_engagement(engagement, coach, "accept")
    visit = delivery.plan_activity(
        engagement,
        coach,
        delivery.PlanData(
            format="study_visit",
            topic="Study visit to Exit: working with families of leavers",
            place="Stockholm",
            intended_audience="Case managers and a probation officer",
        ),
    )
    engagements.transition_engagement(engagement, city, "confirm_plan")
    delivery.record_activity(
        visit,
        coach,
        delivery.RecordData(
            delivered_on=date.today() - timedelta(days=20),
            duration_hours=12,
            participants={"municipal_staff": 4, "probation": 1, "social_services": 2},
            summary="Two days with Exit's family counsellors: how relatives are contacted, "
            "counselled and involved in a leaver's plan; role plays on first conversations.",
            outcomes="An outline for a family-involvement step in Rotterdam's aftercare, "
            "to be tested with the probation service.",
            follow_up="The city drafts the step by next quarter; Exit reviews the draft remotely.",
        ),
    )
    engagements.transition_engagement(engagement, coach, "finish_delivery")
    delivery.transition_activity(visit, city, "confirm")
    delivery.rate_engagement(engagement, city, 5, "Very concrete; the role plays helped most.")
    engagements.transition_engagement(engagement, staff, "close")


def _demo_official(authority: str, password: str) -> User:
    """A placeholder author for demo requests of authorities without a listed demo account."""
    slug = "".join(ch for ch in authority.lower() if ch.isalnum())
    email = f"official.{slug}@assist.example"
    user = db.session.scalar(sa.select(User).where(User.email == email))
    return user or auth_services.create_user(
        None,
        auth_services.UserData(
            email=email,
            name=f"{authority} official (demo)",
            role=Role.CITY_OFFICIAL,
            authority_id=_by_name(LocalAuthority, authority),
        ),
        password,
    )
