"""The demo scenario's data: agencies, cases, subjects, evidence, shares and cooperation
requests in every state (all fictional)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from casehub.domain.enums import (
    AgencyKind,
    CaseCategory,
    CustodyAction,
    EvidenceKind,
    HandlingCode,
    IdentifierKind,
    ShareScope,
    SourceReliability,
    SubjectKind,
    Tlp,
)
from casehub.domain.requests.transitions import (
    FulfilOutcome,
    Priority,
    RequestAction,
    RequestKind,
    Side,
)

AGENCIES: list[tuple[str, str, str, AgencyKind, str]] = [
    (
        "MY-PDRM",
        "Royal Malaysia Police — Commercial Crime Investigation Department",
        "MY",
        AgencyKind.LAW_ENFORCEMENT,
        "Asia/Kuala_Lumpur",
    ),
    (
        "MY-MCMC",
        "Malaysian Communications and Multimedia Commission",
        "MY",
        AgencyKind.REGULATOR,
        "Asia/Kuala_Lumpur",
    ),
    (
        "FR-PARQUET-J3",
        "Parquet de Paris — Section J3 Cybercriminalité",
        "FR",
        AgencyKind.PROSECUTOR,
        "Europe/Paris",
    ),
    (
        "INT-UNODC",
        "United Nations Office on Drugs and Crime — Cybercrime Programme",
        "INT",
        AgencyKind.INTERNATIONAL_ORGANIZATION,
        "Europe/Vienna",
    ),
    (
        "AE-RELAYGRAM",
        "Relaygram Messenger — Trust & Safety",
        "AE",
        AgencyKind.SERVICE_PROVIDER,
        "Asia/Dubai",
    ),
]

ID_KIND = IdentifierKind


@dataclass
class DemoSubject:
    """A subject with (kind, value, platform, chain) identifiers."""

    kind: SubjectKind
    name: str
    identifiers: list[tuple[IdentifierKind, str, str | None, str | None]] = field(
        default_factory=list
    )


@dataclass
class DemoEvidence:
    """An evidence item; content None with a digest for HASH_ONLY items."""

    kind: EvidenceKind
    title: str
    description: str
    content: bytes | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    media_type: str | None = None
    reliability: SourceReliability = SourceReliability.B
    accuracy: int = 2
    custody: list[tuple[CustodyAction, str]] = field(default_factory=list)


@dataclass
class DemoCase:
    """A case with its owner, content and shares (agency code, scope)."""

    owner: str
    reference: str
    title: str
    summary: str
    category: CaseCategory
    tlp: Tlp
    handling: HandlingCode
    subjects: list[DemoSubject]
    evidence: list[DemoEvidence]
    shares: list[tuple[str, ShareScope]] = field(default_factory=list)


CASES: list[DemoCase] = [
    DemoCase(
        owner="MY-PDRM",
        reference="CCID/KL/2026/0412",
        title="Op Ikan Emas — 'Golden Fish' investment channels",
        summary=(
            "Network of 14 Relaygram channels promoting a fake gold and USDT trading app. "
            "Victims in MY and FR transferred funds to mule accounts, then to TRC-20 wallets. "
            "Losses reported so far: RM 18.4 million across 612 police reports."
        ),
        category=CaseCategory.INVESTMENT_SCAM,
        tlp=Tlp.AMBER,
        handling=HandlingCode.H1,
        subjects=[
            DemoSubject(
                SubjectKind.PERSON,
                "Tan Wei Ming (alias 'Mentor Jason')",
                [
                    (ID_KIND.PHONE, "+60 12-345 6789", None, None),
                    (ID_KIND.MESSENGER_HANDLE, "@GoldFish_Mentor", "relaygram", None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Golden Fish VIP Signals (channel)",
                [
                    (ID_KIND.URL, "https://t.me/goldfish_vip_signals", None, None),
                    (ID_KIND.MESSENGER_HANDLE, "goldfish_vip_signals", "telegram", None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Collection wallet #1",
                [
                    (ID_KIND.CRYPTO_WALLET, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", None, "tron"),
                ],
            ),
            DemoSubject(
                SubjectKind.ORGANISATION,
                "GF Global Trading Sdn Bhd (shell)",
                [
                    (ID_KIND.BANK_ACCOUNT, "5142 8830 1197 (Maybank)", None, None),
                    (ID_KIND.DOMAIN, "gf-global-trade.com", None, None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.CHAT_LOG,
                "Export of channel 'Golden Fish VIP Signals', 1–30 Sep 2026",
                "Exported by the complainant's phone; 4,210 messages incl. deposit instructions.",
                content=b"[2026-09-03 21:14] Mentor Jason: Deposit today, 30% bonus ends 23:59...\n",
                media_type="text/plain",
                reliability=SourceReliability.B,
                accuracy=2,
                custody=[(CustodyAction.SEALED, "Original handset sealed in bag KL-0412-07.")],
            ),
            DemoEvidence(
                EvidenceKind.FINANCIAL_RECORD,
                "Maybank statement, account 5142…1197",
                "Production order PO/2026/881; 312 incoming transfers from victims.",
                content=b"date,amount_myr,counterparty\n2026-09-04,25000.00,VICTIM-017\n",
                media_type="text/csv",
                reliability=SourceReliability.A,
                accuracy=1,
            ),
        ],
        shares=[("MY-MCMC", ShareScope.METADATA), ("FR-PARQUET-J3", ShareScope.FULL)],
    ),
    DemoCase(
        owner="MY-PDRM",
        reference="NCID/JB/2026/0077",
        title="Op Salji — drug sales channels in Johor",
        summary=(
            "Methamphetamine and 'happy water' sold through Relaygram channels with "
            "cash-on-delivery riders in Johor Bahru; payments via e-wallets and USDT."
        ),
        category=CaseCategory.DRUG_TRAFFICKING,
        tlp=Tlp.AMBER,
        handling=HandlingCode.H1,
        subjects=[
            DemoSubject(
                SubjectKind.ACCOUNT,
                "JB Ice Express (channel)",
                [
                    (ID_KIND.MESSENGER_HANDLE, "@jb_ice_express", "relaygram", None),
                ],
            ),
            DemoSubject(
                SubjectKind.PERSON,
                "Rider known as 'Ah Keong'",
                [
                    (ID_KIND.PHONE, "+60 17-720 4411", None, None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "USDT payment wallet",
                [
                    (
                        ID_KIND.CRYPTO_WALLET,
                        "0x52908400098527886E0F7030069857D2E4169EE7",
                        None,
                        "ethereum",
                    ),
                ],
            ),
            DemoSubject(
                SubjectKind.PERSON,
                "Supplier known as 'Boss Lek'",
                [
                    (ID_KIND.PHONE, "+66 81 234 5678", None, None),
                    (ID_KIND.MESSENGER_HANDLE, "bosslek_supply", "relaygram", None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.IMAGE,
                "Screenshot of price list post",
                "Price list for 'ice' in grams, posted 12 Oct 2026.",
                content=b"\x89PNG\r\n\x1a\n demo image bytes",
                media_type="image/png",
                reliability=SourceReliability.B,
                accuracy=2,
            ),
        ],
        shares=[("INT-UNODC", ShareScope.METADATA)],
    ),
    DemoCase(
        owner="MY-PDRM",
        reference="D11/KL/2026/0033",
        title="Op Pelindung — CSEM distribution channel",
        summary=(
            "Channel distributing child sexual abuse material; 47 known files matched by hash. "
            "No imagery is held in casehub: digests only, for the platform to block and report."
        ),
        category=CaseCategory.CHILD_SEXUAL_EXPLOITATION,
        tlp=Tlp.RED,
        handling=HandlingCode.H2,
        subjects=[
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Channel administrator account",
                [
                    (ID_KIND.MESSENGER_HANDLE, "@s_archive_88", "relaygram", None),
                    (ID_KIND.IP_ADDRESS, "203.0.113.57", None, None),
                ],
            ),
            DemoSubject(
                SubjectKind.PERSON,
                "Suspected uploader",
                [
                    (ID_KIND.EMAIL, "archiver88@example.net", None, None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.HASH_ONLY,
                "Hash set batch 1 (SHA-256, 47 files)",
                "Digests of files verified by D11 analysts; imagery stays in the national database.",
                sha256="5f2b9c0e7d4a1b3c6e8f0a2d4c6b8e0f1a3c5e7d9b0f2a4c6e8d0b2f4a6c8e0d",
                size_bytes=0,
                reliability=SourceReliability.A,
                accuracy=1,
                custody=[
                    (CustodyAction.ANALYSED, "Verified against ICSE database by analyst D11-07.")
                ],
            ),
            DemoEvidence(
                EvidenceKind.HASH_ONLY,
                "Hash of channel banner image",
                "Perceptual and cryptographic digests of the channel banner.",
                sha256="9a7c5e3b1d0f2e4c6a8b0d2f4e6c8a0b2d4f6e8c0a2b4d6f8e0c2a4b6d8f0e2c",
                size_bytes=0,
                reliability=SourceReliability.A,
                accuracy=1,
            ),
        ],
        shares=[("AE-RELAYGRAM", ShareScope.FULL)],
    ),
    DemoCase(
        owner="MY-MCMC",
        reference="MCMC/ENF/2026/1188",
        title="Scam SMS sender IDs impersonating banks",
        summary=(
            "Bulk SMS with spoofed sender IDs leading to phishing domains that clone "
            "online-banking logins; 9 domains suspended, 3 still resolving."
        ),
        category=CaseCategory.FRAUD,
        tlp=Tlp.GREEN,
        handling=HandlingCode.H0,
        subjects=[
            DemoSubject(
                SubjectKind.ORGANISATION,
                "Bulk SMS reseller 'TextBlast Asia'",
                [
                    (ID_KIND.PHONE, "+60 3-2711 9000", None, None),
                    (ID_KIND.DOMAIN, "maybank2u-secure-login.com", None, None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Phishing kit operator",
                [
                    (ID_KIND.MESSENGER_HANDLE, "@kitmaster_my", "telegram", None),
                    (ID_KIND.EMAIL, "kitmaster.my@proton.example", None, None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.NETWORK_LOG,
                "DNS and hosting records of 12 phishing domains",
                "Passive DNS export, 1 Aug – 15 Oct 2026.",
                content=b"maybank2u-secure-login.com A 198.51.100.23 2026-08-02\n",
                media_type="text/plain",
            ),
        ],
        shares=[("MY-PDRM", ShareScope.FULL)],
    ),
    DemoCase(
        owner="MY-MCMC",
        reference="MCMC/ENF/2026/1203",
        title="Illegal online gambling sites advertised on messaging apps",
        summary="Mirror domains of an unlicensed casino promoted through channel invites.",
        category=CaseCategory.ONLINE_GAMBLING,
        tlp=Tlp.CLEAR,
        handling=HandlingCode.H0,
        subjects=[
            DemoSubject(
                SubjectKind.ORGANISATION,
                "Lucky88 mirror network",
                [
                    (ID_KIND.DOMAIN, "lucky88-my.vip", None, None),
                    (ID_KIND.URL, "https://t.me/lucky88_promo", None, None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Payment agent e-wallet",
                [
                    (ID_KIND.PHONE, "+60 11-2345 6677", None, None),
                    (ID_KIND.BANK_ACCOUNT, "MY 1640 2211 0098 (CIMB)", None, None),
                ],
            ),
        ],
        evidence=[],
    ),
    DemoCase(
        owner="FR-PARQUET-J3",
        reference="PARQUET-J3-26-184522",
        title="Affaire « Poisson d'or » — escroquerie aux placements",
        summary=(
            "Plaintes de 57 victimes françaises d'une fausse plateforme de trading d'or et de "
            "cryptoactifs promue sur des canaux Relaygram; préjudice estimé à 3,2 M€."
        ),
        category=CaseCategory.INVESTMENT_SCAM,
        tlp=Tlp.AMBER,
        handling=HandlingCode.H1,
        subjects=[
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Canal « Golden Fish VIP Signals »",
                [
                    (ID_KIND.MESSENGER_HANDLE, "goldfish_vip_signals", "telegram", None),
                ],
            ),
            DemoSubject(
                SubjectKind.PERSON,
                "« Mentor Jason »",
                [
                    (ID_KIND.PHONE, "+60123456789", None, None),
                ],
            ),
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Portefeuille de collecte",
                [
                    (ID_KIND.CRYPTO_WALLET, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", None, "tron"),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.DOCUMENT,
                "Procès-verbal de plainte n° 2026/0917",
                "Audition d'une victime (Lyon), virements de 48 000 €.",
                content=b"%PDF-1.7 demo proces-verbal",
                media_type="application/pdf",
                reliability=SourceReliability.A,
                accuracy=2,
            ),
        ],
        shares=[("MY-PDRM", ShareScope.FULL)],
    ),
    DemoCase(
        owner="INT-UNODC",
        reference="UNODC-CYB-2026-SEA-014",
        title="Regional typology: scam-compound money laundering via USDT",
        summary=(
            "Typology study of laundering flows from scam compounds in South-East Asia "
            "through OTC desks and TRC-20 USDT; shared with member-state focal points."
        ),
        category=CaseCategory.MONEY_LAUNDERING,
        tlp=Tlp.GREEN,
        handling=HandlingCode.H0,
        subjects=[
            DemoSubject(
                SubjectKind.ORGANISATION,
                "OTC desk 'Huione-style' broker",
                [
                    (ID_KIND.CRYPTO_WALLET, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", None, "tron"),
                ],
            ),
            DemoSubject(
                SubjectKind.ORGANISATION,
                "Shell payment processor",
                [
                    (ID_KIND.DOMAIN, "fastpay-settle.asia", None, None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.DOCUMENT,
                "Typology report draft v0.3",
                "Draft for focal points; not for onward dissemination.",
                content=b"Typology report draft v0.3 - flows via OTC desks",
                media_type="text/plain",
            ),
        ],
        shares=[("MY-PDRM", ShareScope.METADATA), ("FR-PARQUET-J3", ShareScope.METADATA)],
    ),
    DemoCase(
        owner="AE-RELAYGRAM",
        reference="TS-2026-CSE-55310",
        title="Trust & Safety: hash-matched CSEM channel takedown",
        summary=(
            "Channel removed after hash matches; account data preserved for 90 days pending "
            "lawful requests. Internal only."
        ),
        category=CaseCategory.CHILD_SEXUAL_EXPLOITATION,
        tlp=Tlp.AMBER_STRICT,
        handling=HandlingCode.H2,
        subjects=[
            DemoSubject(
                SubjectKind.ACCOUNT,
                "Removed channel owner",
                [
                    (ID_KIND.MESSENGER_HANDLE, "s_archive_88", "relaygram", None),
                    (ID_KIND.PHONE, "+44 7400 123456", None, None),
                ],
            ),
        ],
        evidence=[
            DemoEvidence(
                EvidenceKind.HASH_ONLY,
                "Matched digest",
                "Digest that triggered the automated removal.",
                sha256="5f2b9c0e7d4a1b3c6e8f0a2d4c6b8e0f1a3c5e7d9b0f2a4c6e8d0b2f4a6c8e0d",
                size_bytes=0,
                reliability=SourceReliability.A,
                accuracy=1,
                custody=[(CustodyAction.SEALED, "Account snapshot preserved, ref PRES-55310.")],
            ),
        ],
    ),
]


@dataclass
class DemoStep:
    """One step of a request's life, `ago` before the demo is loaded.

    A transition is taken by the side the state machine names; a MESSAGE by `by`; an APPROVE
    by a supervisor of the requester, another principal than the one who submitted. `text` is
    the reason (decline, withdraw), the fulfilment message or the message body; `supplied` lists
    (case reference, evidence title) of evidence the requested agency hands over with FULFIL.
    Every step that can be signed is signed with the acting agency's accredited key.
    """

    action: RequestAction
    ago: timedelta
    text: str | None = None
    by: Side | None = None
    outcome: FulfilOutcome | None = None
    supplied: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DemoParticulars:
    """The structured content a kind of request needs (see casehub.domain.requests.content)."""

    offence: str | None = None
    data_to_preserve: str | None = None
    custodian_or_location: str | None = None
    follow_up_mla: bool | None = None
    imminent_threat: str | None = None
    account_identifiers: list[tuple[IdentifierKind, str, str | None, str | None]] = field(
        default_factory=list
    )
    content_locations: list[str] = field(default_factory=list)


@dataclass
class DemoRequest:
    """A cooperation request, created `created_ago` before loading, then taken through steps.

    `case` is the reference of a case the requester owns; `attached` titles of its evidence.
    `overwritten` is what an insider with database access writes over the request's priority
    once it is loaded: the forged request the demo shows failing verification.
    """

    requester: str
    requested: str
    kind: RequestKind
    priority: Priority
    title: str
    body: str
    created_ago: timedelta
    legal_basis: str | None = None
    particulars: DemoParticulars = field(default_factory=DemoParticulars)
    case: str | None = None
    attached: list[str] = field(default_factory=list)
    steps: list[DemoStep] = field(default_factory=list)
    overwritten: Priority | None = None


A = RequestAction
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)

# One request in every state of the state machine, in the order they are loaded:
# DRAFT, SUBMITTED (an overdue MLA), ACKNOWLEDGED, ACCEPTED, DECLINED, FULFILLED,
# PARTIALLY_FULFILLED (an emergency approved by a supervisor), a forged one (SUBMITTED, its
# priority overwritten in the database), WITHDRAWN, CLOSED.
REQUESTS: list[DemoRequest] = [
    DemoRequest(
        requester="FR-PARQUET-J3",
        requested="MY-PDRM",
        kind=RequestKind.MUTUAL_LEGAL_ASSISTANCE,
        priority=Priority.ROUTINE,
        title="Demande d'entraide — audition de victimes et relevés Maybank (Poisson d'or)",
        body=(
            "Le parquet de Paris sollicite l'audition de trois victimes malaisiennes et la "
            "communication des relevés du compte Maybank 5142…1197 (période du 1er août au "
            "30 septembre 2026), afin d'établir le circuit des fonds vers les victimes françaises."
        ),
        created_ago=2 * DAY,
        legal_basis=(
            "Convention des Nations unies contre la criminalité transnationale organisée, art. 18; "
            "code de procédure pénale, art. 694 et suivants"
        ),
        particulars=DemoParticulars(
            offence="Escroquerie en bande organisée (code pénal, art. 313-2)"
        ),
        case="PARQUET-J3-26-184522",
        attached=["Procès-verbal de plainte n° 2026/0917"],
    ),
    DemoRequest(
        requester="MY-PDRM",
        requested="FR-PARQUET-J3",
        kind=RequestKind.MUTUAL_LEGAL_ASSISTANCE,
        priority=Priority.ROUTINE,
        title="MLA: statements of French victims and transfers to mule accounts (Op Ikan Emas)",
        body=(
            "The Royal Malaysia Police request the statements of the 57 French complainants, the "
            "bank references of their transfers to Malaysian mule accounts and any subscriber "
            "data already obtained in France for the 'Golden Fish' channels."
        ),
        created_ago=36 * DAY,
        legal_basis=(
            "UNTOC art. 18 (Palermo Convention); Mutual Assistance in Criminal Matters Act 2002 "
            "(Malaysia), s. 7, on the basis of reciprocity"
        ),
        particulars=DemoParticulars(
            offence="Cheating (Penal Code s. 420) and money laundering (AMLATFPUAA 2001 s. 4)"
        ),
        case="CCID/KL/2026/0412",
        attached=["Maybank statement, account 5142…1197"],
        steps=[
            # Submitted 35 days ago and never acknowledged: the 7-day acknowledgement deadline
            # passed four weeks ago, so `casehub requests overdue` lists it.
            DemoStep(A.SUBMIT, 35 * DAY),
            DemoStep(
                A.MESSAGE,
                12 * DAY,
                by=Side.REQUESTER,
                text=(
                    "Reminder: we have had no acknowledgement of this request. Two suspects are "
                    "due in court in Kuala Lumpur next month; the French statements are needed."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="FR-PARQUET-J3",
        requested="AE-RELAYGRAM",
        kind=RequestKind.DATA_DISCLOSURE,
        priority=Priority.URGENT,
        title="Réquisition: subscriber data of the Golden Fish channel administrators",
        body=(
            "Please disclose subscriber information, registration and last-login IP addresses "
            "(with ports and time stamps) for the accounts below, 1 July – 15 October 2026."
        ),
        created_ago=4 * DAY,
        legal_basis=(
            "Code de procédure pénale, art. 60-1 and 77-1-1; Regulation (EU) 2023/1543 "
            "(European Production Order)"
        ),
        particulars=DemoParticulars(
            offence="Escroquerie en bande organisée et blanchiment",
            account_identifiers=[
                (ID_KIND.MESSENGER_HANDLE, "goldfish_vip_signals", "relaygram", None),
                (ID_KIND.MESSENGER_HANDLE, "@GoldFish_Mentor", "relaygram", None),
                (ID_KIND.PHONE, "+60 12-345 6789", None, None),
            ],
        ),
        case="PARQUET-J3-26-184522",
        steps=[
            DemoStep(A.SUBMIT, 4 * DAY - 5 * MINUTE),
            DemoStep(A.ACKNOWLEDGE, 3 * DAY),
            DemoStep(
                A.MESSAGE,
                3 * DAY - 10 * MINUTE,
                by=Side.REQUESTED,
                text=(
                    "Received and under legal review. Please confirm the order was issued by a "
                    "prosecutor so we can handle it as a European Production Order."
                ),
            ),
            DemoStep(
                A.MESSAGE,
                2 * DAY,
                by=Side.REQUESTER,
                text="Confirmed: issued by the deputy prosecutor of section J3, ref. 26-184522.",
            ),
        ],
    ),
    DemoRequest(
        requester="MY-MCMC",
        requested="AE-RELAYGRAM",
        kind=RequestKind.CONTENT_REMOVAL,
        priority=Priority.URGENT,
        title="Removal of bank-phishing and unlicensed-gambling channels targeting Malaysia",
        body=(
            "The channels and posts below impersonate Malaysian banks to harvest online-banking "
            "logins, or advertise an unlicensed casino. Please remove them and keep the "
            "account data for a possible law-enforcement request."
        ),
        created_ago=6 * DAY,
        legal_basis="Communications and Multimedia Act 1998 (Malaysia), ss. 211, 233 and 263(2)",
        particulars=DemoParticulars(
            content_locations=[
                "https://relaygram.example/c/maybank2u_secure_login",
                "https://relaygram.example/c/m2u_rewards_claim/88",
                "https://relaygram.example/c/lucky88_promo",
                "https://relaygram.example/c/lucky88_vip_mirror",
            ],
        ),
        case="MCMC/ENF/2026/1203",
        steps=[
            DemoStep(A.SUBMIT, 6 * DAY - MINUTE),
            DemoStep(A.ACKNOWLEDGE, 5 * DAY),
            DemoStep(A.ACCEPT, 5 * DAY - 2 * HOUR),
            DemoStep(
                A.MESSAGE,
                1 * DAY,
                by=Side.REQUESTED,
                text=(
                    "Both phishing channels are down. The gambling mirrors are under review by "
                    "our regional policy team; we expect a decision this week."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="MY-PDRM",
        requested="AE-RELAYGRAM",
        kind=RequestKind.DATA_DISCLOSURE,
        priority=Priority.ROUTINE,
        title="Subscriber data of @goldfish_vip_admin",
        body=(
            "Subscriber data and registration phone number of the account @goldfish_vip_admin, "
            "administrator of the 'Golden Fish VIP Signals' channel."
        ),
        created_ago=6 * HOUR,
        legal_basis="Criminal Procedure Code (Malaysia) s. 116B",
        particulars=DemoParticulars(
            offence="Cheating (Penal Code s. 420), investment scam",
            account_identifiers=[
                (ID_KIND.MESSENGER_HANDLE, "@goldfish_vip_admin", "relaygram", None)
            ],
        ),
        steps=[DemoStep(A.SUBMIT, 6 * HOUR - MINUTE)],
        # Sent as ROUTINE and signed so; then raised to EMERGENCY in the database (to jump the
        # platform's queue), which no agency signed: the platform sees INVALID.
        overwritten=Priority.EMERGENCY,
    ),
    DemoRequest(
        requester="INT-UNODC",
        requested="AE-RELAYGRAM",
        kind=RequestKind.INFORMATION_REQUEST,
        priority=Priority.ROUTINE,
        title="Account data of channels advertising USDT OTC desks (regional typology)",
        body=(
            "For the South-East Asia typology study, UNODC asks for the registration countries "
            "and creation dates of the accounts administering 40 channels that advertise USDT "
            "over-the-counter desks used by scam compounds."
        ),
        created_ago=15 * DAY,
        case="UNODC-CYB-2026-SEA-014",
        steps=[
            DemoStep(A.SUBMIT, 15 * DAY - MINUTE),
            DemoStep(
                A.DECLINE,
                12 * DAY,
                text=(
                    "Relaygram discloses account data only to competent law-enforcement or "
                    "judicial authorities under legal process. Aggregate figures are published "
                    "in our transparency report; member-state focal points may request the rest."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="MY-PDRM",
        requested="AE-RELAYGRAM",
        kind=RequestKind.EVIDENCE_PRESERVATION,
        priority=Priority.URGENT,
        title="Preserve data of the 14 'Golden Fish' channels and their administrators",
        body=(
            "Please preserve, pending a mutual legal assistance request, the data listed below "
            "for the 14 'Golden Fish' channels and the account @GoldFish_Mentor."
        ),
        created_ago=20 * DAY,
        legal_basis=(
            "Expedited preservation as in Budapest Convention art. 29; Criminal Procedure Code "
            "(Malaysia) s. 116B"
        ),
        particulars=DemoParticulars(
            offence="Cheating (Penal Code s. 420) and money laundering",
            data_to_preserve=(
                "Subscriber information, IP login history, administrator lists and message "
                "content of the channels, 1 June – 15 October 2026"
            ),
            custodian_or_location="Relaygram Messenger FZ-LLC, Dubai (AE): Trust & Safety",
            follow_up_mla=True,
            account_identifiers=[
                (ID_KIND.MESSENGER_HANDLE, "@GoldFish_Mentor", "relaygram", None),
                (ID_KIND.MESSENGER_HANDLE, "goldfish_vip_signals", "relaygram", None),
            ],
        ),
        case="CCID/KL/2026/0412",
        attached=["Export of channel 'Golden Fish VIP Signals', 1–30 Sep 2026"],
        steps=[
            DemoStep(A.SUBMIT, 20 * DAY - MINUTE),
            DemoStep(A.ACKNOWLEDGE, 20 * DAY - 3 * HOUR),
            DemoStep(A.ACCEPT, 20 * DAY - 4 * HOUR),
            DemoStep(
                A.FULFIL,
                20 * DAY - 9 * HOUR,
                outcome=FulfilOutcome.FULL,
                text=(
                    "Preserved under reference PRES-55402 for 90 days: 14 channels, 3 "
                    "administrator accounts, 11,902 login records. We will disclose on receipt "
                    "of the mutual legal assistance request."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="MY-PDRM",
        requested="AE-RELAYGRAM",
        kind=RequestKind.EMERGENCY_DISCLOSURE,
        priority=Priority.EMERGENCY,
        title="EMERGENCY: identify administrator of CSEM channel @s_archive_88",
        body=(
            "Emergency disclosure request: subscriber data, registration phone number and the "
            "last 30 days of login IP addresses of the administrator of the channel "
            "@s_archive_88, which distributes child sexual abuse material."
        ),
        created_ago=2 * DAY,
        legal_basis="Relaygram emergency disclosure policy; Criminal Procedure Code (Malaysia) s. 116B",
        particulars=DemoParticulars(
            offence="Child sexual abuse material (Sexual Offences against Children Act 2017, s. 10)",
            imminent_threat=(
                "In chats seized on 14 Oct the administrator arranged to meet a 12-year-old girl "
                "in Kuala Lumpur within 48 hours; she has not been identified."
            ),
            account_identifiers=[
                (ID_KIND.MESSENGER_HANDLE, "@s_archive_88", "relaygram", None),
                (ID_KIND.IP_ADDRESS, "203.0.113.57", None, None),
            ],
        ),
        case="D11/KL/2026/0033",
        attached=["Hash set batch 1 (SHA-256, 47 files)"],
        steps=[
            # Four eyes: an emergency request to a platform leaves only once a supervisor of
            # the police has countersigned it; its deadlines start then.
            DemoStep(A.SUBMIT, 2 * DAY - MINUTE),
            DemoStep(A.APPROVE, 2 * DAY - 8 * MINUTE),
            DemoStep(A.ACKNOWLEDGE, 2 * DAY - 25 * MINUTE),
            DemoStep(A.ACCEPT, 2 * DAY - 40 * MINUTE),
            DemoStep(
                A.FULFIL,
                2 * DAY - 4 * HOUR,
                outcome=FulfilOutcome.PARTIAL,
                text=(
                    "Disclosed: registration phone +44 7400 123456, registered 2026-03-02, and "
                    "38 login IP addresses (CSV sent through the secure portal, ref. ED-55310). "
                    "Message content is end-to-end encrypted and cannot be disclosed."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="INT-UNODC",
        requested="MY-PDRM",
        kind=RequestKind.INFORMATION_REQUEST,
        priority=Priority.ROUTINE,
        title="Case figures on USDT mule wallets for the regional typology",
        body=(
            "UNODC asks for anonymised figures on wallets and mule accounts seen in Op Ikan "
            "Emas (counts, chains, amounts) for the regional typology report."
        ),
        created_ago=25 * DAY,
        case="UNODC-CYB-2026-SEA-014",
        steps=[
            DemoStep(A.SUBMIT, 25 * DAY - MINUTE),
            DemoStep(A.ACKNOWLEDGE, 24 * DAY),
            DemoStep(
                A.WITHDRAW,
                18 * DAY,
                text=(
                    "Withdrawn: the Malaysian focal point presented the figures at the regional "
                    "meeting in Bangkok."
                ),
            ),
        ],
    ),
    DemoRequest(
        requester="MY-PDRM",
        requested="MY-MCMC",
        kind=RequestKind.INFORMATION_REQUEST,
        priority=Priority.ROUTINE,
        title="Hosting and DNS records of phishing domains linked to Op Ikan Emas",
        body=(
            "Victims of the Golden Fish scam were first contacted by SMS linking to cloned "
            "bank sites. Please share what MCMC holds on the domains and their hosting."
        ),
        created_ago=30 * DAY,
        case="CCID/KL/2026/0412",
        steps=[
            DemoStep(A.SUBMIT, 30 * DAY - MINUTE),
            DemoStep(A.ACKNOWLEDGE, 29 * DAY),
            DemoStep(A.ACCEPT, 29 * DAY - HOUR),
            DemoStep(
                A.FULFIL,
                26 * DAY,
                outcome=FulfilOutcome.FULL,
                text="Passive DNS and hosting records of the 12 domains attached.",
                supplied=[("MCMC/ENF/2026/1188", "DNS and hosting records of 12 phishing domains")],
            ),
            DemoStep(
                A.MESSAGE,
                25 * DAY + HOUR,
                by=Side.REQUESTER,
                text="Thank you; two of the domains match the mule accounts' log-in IPs.",
            ),
            DemoStep(A.CLOSE, 25 * DAY),
        ],
    ),
]
