"""The vocabulary of processing activities: fideslang data uses and data subjects, the GDPR's
lawful bases (Art. 6(1)), special-category conditions (Art. 9(2)), special categories (Art. 9(1))
and transfer safeguards (Chapter V).

Keys are what ``catalog.yaml`` spells (lower case, ``_`` between words); each maps to the article
it comes from and a short label, which the Article 30 record prints together::

    >>> article_label(LAWFUL_BASES, "consent")
    'Art. 6(1)(a) consent'
    >>> special_category("user.demographic.religious_belief")
    'religious or philosophical beliefs'
    >>> special_category("user.contact.email") is None
    True

Data uses and data subjects are the fideslang 2 default taxonomy (``fides_key`` -> name), so a
catalog written for Fides reads the same here.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.categories import most_specific

LAWFUL_BASES: dict[str, tuple[str, str]] = {
    "consent": ("Art. 6(1)(a)", "consent"),
    "contract": ("Art. 6(1)(b)", "performance of a contract"),
    "legal_obligation": ("Art. 6(1)(c)", "compliance with a legal obligation"),
    "vital_interests": ("Art. 6(1)(d)", "vital interests"),
    "public_interest": ("Art. 6(1)(e)", "public interest or official authority"),
    "legitimate_interests": ("Art. 6(1)(f)", "legitimate interests"),
}
"""Art. 6(1)(a)-(f): key -> (article, label)."""

ART9_CONDITIONS: dict[str, tuple[str, str]] = {
    "explicit_consent": ("Art. 9(2)(a)", "explicit consent"),
    "employment_social_security": (
        "Art. 9(2)(b)",
        "employment, social security and social protection law",
    ),
    "vital_interests": ("Art. 9(2)(c)", "vital interests of a subject incapable of consent"),
    "not_for_profit_bodies": ("Art. 9(2)(d)", "legitimate activities of a not-for-profit body"),
    "made_public_by_data_subject": ("Art. 9(2)(e)", "manifestly made public by the subject"),
    "legal_claims": ("Art. 9(2)(f)", "legal claims or judicial acts"),
    "substantial_public_interest": ("Art. 9(2)(g)", "substantial public interest (basis in law)"),
    "health_or_social_care": ("Art. 9(2)(h)", "health or social care (basis in law)"),
    "public_health": ("Art. 9(2)(i)", "public health (basis in law)"),
    "archiving_research_statistics": (
        "Art. 9(2)(j)",
        "archiving, research or statistics (basis in law)",
    ),
}
"""Art. 9(2)(a)-(j): key -> (article, label)."""

TRANSFER_SAFEGUARDS: dict[str, tuple[str, str]] = {
    "adequacy_decision": ("Art. 45", "adequacy decision"),
    "standard_contractual_clauses": ("Art. 46(2)(c)", "standard contractual clauses"),
    "binding_corporate_rules": ("Art. 47", "binding corporate rules"),
    "code_of_conduct": ("Art. 46(2)(e)", "approved code of conduct"),
    "certification": ("Art. 46(2)(f)", "approved certification mechanism"),
    "ad_hoc_clauses": ("Art. 46(3)(a)", "contractual clauses authorised by the authority"),
    "derogation": ("Art. 49(1)", "derogation for a specific situation"),
}
"""Chapter V grounds of a transfer to a third country: key -> (article, label)."""

RECIPIENT_KINDS = ("internal", "processor", "third_party", "joint_controller", "public_authority")
"""Who receives the data: an internal team, a processor (Art. 28), a third party (another
controller), a joint controller (Art. 26) or a public authority. All but ``internal`` need a
contract (or legal) reference."""

SPECIAL_CATEGORIES: dict[str, str] = {
    "user.demographic.race_ethnicity": "racial or ethnic origin",
    "user.demographic.political_opinion": "political opinions",
    "user.demographic.religious_belief": "religious or philosophical beliefs",
    "user.demographic.trade_union_membership": "trade union membership",
    "user.demographic.sexual_orientation": "sex life or sexual orientation",
    "user.health_and_medical": "data concerning health",
    "user.health_and_medical.genetic": "genetic data",
    "user.biometric": "biometric data",
    "user.authorization.biometric": "biometric data",
    "user.credentials.biometric_credentials": "biometric data",
    # fideslang 1 names of the same categories
    "user.race": "racial or ethnic origin",
    "user.political_opinion": "political opinions",
    "user.religious_belief": "religious or philosophical beliefs",
    "user.sexual_orientation": "sex life or sexual orientation",
    "user.genetic": "genetic data",
    "user.biometric_health": "data concerning health",
}
"""Data categories (and everything below them) of the special categories of Art. 9(1).
Fideslang has no trade-union category: ``user.demographic.trade_union_membership`` is this
product's."""

DATA_USES: dict[str, str] = {
    "analytics": "Analytics",
    "analytics.reporting": "Analytics for Reporting",
    "analytics.reporting.ad_performance": "Analytics for Advertising Performance",
    "analytics.reporting.content_performance": "Analytics for Content Performance",
    "analytics.reporting.campaign_insights": "Analytics for Insights",
    "analytics.reporting.system": "Analytics for System Activity",
    "analytics.reporting.system.performance": "Analytics for System Performance",
    "collect": "Collect",
    "employment": "Employment",
    "employment.recruitment": "Employment Recruitment",
    "essential": "Essential",
    "essential.fraud_detection": "Essential Fraud Detection",
    "essential.legal_obligation": "Essential Legal Obligation",
    "essential.service": "Essential for Service",
    "essential.service.authentication": "Essential Service Authentication",
    "essential.service.notifications": "Essential Service Notifications",
    "essential.service.notifications.email": "Essential Email Service Notifications",
    "essential.service.notifications.sms": "Essential SMS Service Notifications",
    "essential.service.operations": "Essential for Operations",
    "essential.service.operations.support": "Essential for Operations Support",
    "essential.service.operations.improve": "Essential for Support Improvement",
    "essential.service.payment_processing": "Essential for Payment Processing",
    "essential.service.security": "Essential for Security",
    "essential.service.upgrades": "Essential for Service Upgrades",
    "finance": "Finance",
    "functional": "Functional",
    "functional.storage": "Local Data Storage",
    "functional.service": "Service",
    "functional.service.improve": "Improve Service",
    "marketing": "Marketing",
    "marketing.advertising": "Advertising, Marketing or Promotion",
    "marketing.advertising.first_party": "First Party Advertising",
    "marketing.advertising.first_party.contextual": "First Party Contextual Advertising",
    "marketing.advertising.first_party.targeted": "First Party Personalized Advertising",
    "marketing.advertising.frequency_capping": "Frequency Capping",
    "marketing.advertising.negative_targeting": "Negative Targeting",
    "marketing.advertising.profiling": "Profiling for Advertising",
    "marketing.advertising.serving": "Essential for Serving Ads",
    "marketing.advertising.third_party": "Third Party Advertising",
    "marketing.advertising.third_party.targeted": "Third Party Targeted Advertising",
    "marketing.communications": "Marketing Communications",
    "marketing.communications.email": "Marketing Email Communications",
    "marketing.communications.sms": "Marketing SMS Communications",
    "operations": "Operations",
    "personalize": "Personalize",
    "personalize.content": "Content Personalization",
    "personalize.profiling": "Personalized Profiling",
    "personalize.system": "System Personalization",
    "sales": "Sales",
    "third_party_sharing": "Third Party Sharing",
    "third_party_sharing.legal_obligation": "Sharing for Legal Obligation",
    "train_ai_system": "Train AI System",
}
"""Fideslang 2 default data uses: ``fides_key`` -> name (the purpose of a processing activity)."""

DATA_SUBJECTS: dict[str, str] = {
    "anonymous_user": "Anonymous User",
    "citizen_voter": "Citizen Voter",
    "commuter": "Commuter",
    "consultant": "Consultant",
    "customer": "Customer",
    "employee": "Employee",
    "job_applicant": "Job Applicant",
    "next_of_kin": "Next of Kin",
    "passenger": "Passenger",
    "patient": "Patient",
    "prospect": "Prospect",
    "shareholder": "Shareholder",
    "supplier_vendor": "Supplier/Vendor",
    "trainee": "Trainee",
    "visitor": "Visitor",
}
"""Fideslang default data subjects: ``fides_key`` -> name."""

EEA_COUNTRIES = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT ROU "
    "SVK SVN ESP SWE ISL LIE NOR".split()
)
"""ISO 3166-1 alpha-3 codes of the European Economic Area: a transfer elsewhere is a transfer
to a third country (Chapter V)."""


def article_label(terms: Mapping[str, tuple[str, str]], key: str | None) -> str:
    """``"Art. 6(1)(a) consent"`` for a key of one of the article vocabularies ("" for None)."""
    if not key:
        return ""
    article, label = terms[key]
    return f"{article} {label}"


def special_category(category: str | None) -> str | None:
    """The Art. 9(1) special category a data category falls under (its label), or None."""
    return most_specific(SPECIAL_CATEGORIES, category)


def is_third_country(country: str | None) -> bool:
    """True for an ISO alpha-3 country code outside the EEA (None: not a transfer)."""
    return bool(country) and str(country).upper() not in EEA_COUNTRIES
