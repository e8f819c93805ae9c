"""The demo set-up used by ``make run`` and ``seed_demo``: idempotent, safe to run again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from survey import services
from survey.definition import load_definition_file
from survey.models import Campaign, Membership, Organisation

DEMO_PASSWORD = "stimmen-demo-passwort"  # noqa: S105 - printed for the local demo, never used in production  # nosec B105
DEMO_CAMPAIGN = "demo"

COUNSELLING_LINKS = [
    {
        "url": "https://www.jugendmigrationsdienste.de/",
        "label": {
            "de": "Jugendmigrationsdienste: Beratung für junge Menschen mit Migrationsgeschichte",
            "en": "Youth Migration Services: advice for young people with a migration history",
            "tr": "Gençlik Göç Hizmetleri: göçmen kökenli gençler için danışmanlık",
            "ar": "خدمات هجرة الشباب: استشارات للشباب من أصول مهاجرة",
            "uk": "Молодіжні міграційні служби: консультації для молоді з міграційною історією",
        },
    },
    {
        "url": "https://www.arbeitsagentur.de/bildung",
        "label": {
            "de": "Berufsberatung der Agentur für Arbeit",
            "en": "Careers guidance of the Federal Employment Agency",
            "tr": "İş Ajansı meslek danışmanlığı",
            "ar": "الإرشاد المهني لدى وكالة العمل",
            "uk": "Профорієнтація Агентства з працевлаштування",
        },
    },
    {
        "url": "https://www.anerkennung-in-deutschland.de/",
        "label": {
            "de": "Anerkennung in Deutschland: ausländische Abschlüsse anerkennen lassen",
            "en": "Recognition in Germany: getting foreign qualifications recognised",
            "tr": "Almanya'da denklik: yurt dışı diplomaların tanınması",
            "ar": "الاعتراف في ألمانيا: معادلة الشهادات الأجنبية",
            "uk": "Визнання в Німеччині: визнання іноземних дипломів",
        },
    },
    {
        "url": "https://www.antidiskriminierungsstelle.de/",
        "label": {
            "de": "Antidiskriminierungsstelle des Bundes",
            "en": "Federal Anti-Discrimination Agency",
            "tr": "Federal Ayrımcılıkla Mücadele Ajansı",
            "ar": "الهيئة الاتحادية لمكافحة التمييز",
            "uk": "Федеральне агентство з протидії дискримінації",
        },
    },
    {
        "url": "https://www.nummergegenkummer.de/",
        "label": {
            "de": "Nummer gegen Kummer: 116 111 (anonym und kostenlos)",
            "en": "Nummer gegen Kummer helpline: 116 111 (anonymous and free)",
            "tr": "Nummer gegen Kummer yardım hattı: 116 111 (anonim ve ücretsiz)",
            "ar": "خط المساعدة Nummer gegen Kummer: ‎116 111 (مجهول ومجاني)",
            "uk": "Телефон довіри Nummer gegen Kummer: 116 111 (анонімно й безкоштовно)",
        },
    },
]


@dataclass(frozen=True)
class SeededDemo:
    organisation: Organisation
    campaign: Campaign
    logins: list[tuple[str, str]]
    password: str
    campaign_url: str


@transaction.atomic
def seed_demo(*, definition_path: Path, password: str | None = None) -> SeededDemo:
    """The demo organisation, one login per role, the demo survey and the open campaign ``demo``."""
    password = password or DEMO_PASSWORD
    organisation, _created = Organisation.objects.update_or_create(
        slug="dortmund",
        defaults={
            "name": "Kommunales Integrationszentrum Dortmund",
            "city": "Dortmund",
            "counselling_links": COUNSELLING_LINKS,
        },
    )
    logins = []
    user_model = get_user_model()
    for username, role in (
        ("demo-admin", Membership.Role.ADMIN),
        ("demo-staff", Membership.Role.STAFF),
        ("demo-researcher", Membership.Role.RESEARCHER),
    ):
        user, _created = user_model.objects.get_or_create(username=username)
        user.set_password(password)
        user.save()
        Membership.objects.update_or_create(user=user, organisation=organisation, defaults={"role": role})
        logins.append((username, role.label))

    _definition, data = load_definition_file(definition_path)
    version, _created = services.survey_version_load(data=data, organisation=organisation)
    campaign = Campaign.objects.filter(slug=DEMO_CAMPAIGN).first()
    if campaign is None or not campaign.is_accepting_answers() or campaign.survey_version_id != version.pk:
        campaign = services.campaign_open(
            survey_version=version, slug=DEMO_CAMPAIGN, title="Demo: Ausbildung und Arbeit", target_responses=500
        )
    url = settings.STIMMEN_PUBLIC_URL.rstrip("/") + reverse("survey:start", kwargs={"campaign": campaign.slug})
    return SeededDemo(organisation=organisation, campaign=campaign, logins=logins, password=password, campaign_url=url)
