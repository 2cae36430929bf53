"""The demo scenario's data: agencies, cases, subjects, evidence and shares (all fictional)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
                    (ID_KIND.PHONE, "+44 7700 900123", None, None),
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
