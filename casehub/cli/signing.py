"""Agency signing keys on the agency's side (keygen, sign: no database, no keyring) and the
hub's public keys as the trust file offline verifiers use (keys public: the keyring only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from casehub.cli.common import print_json
from casehub.cli.errors import fail
from casehub.config import Settings
from casehub.crypto import LocalKeyring
from casehub.crypto.agency_keys import AgencyPrivateKey, KeyFormatError
from casehub.domain.errors import ValidationFailed
from casehub.domain.signatures.keys import SigningAlgorithm
from casehub.domain.signatures.statements import (
    STATEMENT_MAX_BYTES,
    parse_statement,
    statement_problem,
)


def keygen(
    output: Annotated[
        Path,
        typer.Option(help="File to write the private key to (mode 0600; must not exist)."),
    ],
    hybrid: Annotated[
        bool,
        typer.Option("--hybrid", help="Ed25519 and ML-DSA-65 both (post-quantum), not Ed25519."),
    ] = False,
) -> None:
    """Make an agency signing key: writes the private key to --output and prints the public
    JWK, for registerAgencySigningKey. Run it where the agency's tool runs: the private key
    stays with the agency, never with the hub."""
    algorithm = SigningAlgorithm.ED25519_ML_DSA_65 if hybrid else SigningAlgorithm.ED25519
    key = AgencyPrivateKey.generate(algorithm)
    try:
        key.save(output)
    except FileExistsError:
        fail(f"{output} exists — keygen never overwrites a key; choose another --output")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    print_json(key.public.to_jwk())
    typer.echo(f"wrote the private key {key.public.thumbprint} to {output}", err=True)


def sign(
    key: Annotated[Path, typer.Option(help="The private key file `agency keygen` wrote.")],
    statement: Annotated[
        Path, typer.Option(help="The step statement: RFC 8785 canonical JSON, exactly the bytes.")
    ],
) -> None:
    """Print the signature of a step statement with the agency's key (for shell users: agency
    tools sign in-process). The statement must be canonical, well formed and name this key."""
    try:
        private = AgencyPrivateKey.load(key)
    except KeyFormatError as error:
        fail(str(error).rstrip("."))
    try:
        if statement.stat().st_size > STATEMENT_MAX_BYTES:
            fail(f"the statement {statement} is longer than {STATEMENT_MAX_BYTES} bytes")
        raw = statement.read_bytes()
        text = raw.decode("utf-8")
    except OSError as error:
        fail(f"cannot read the statement {statement}: {error.strerror}")
    except UnicodeDecodeError:
        fail(f"the statement {statement} is not UTF-8 text")
    try:
        parsed = parse_statement(text)
    except ValidationFailed as error:
        fail(f"{statement}: {error.message.rstrip('.')} (the file must hold exactly those bytes)")
    problem = statement_problem(parsed)
    if problem is not None:
        fail(f"{statement}: the statement's {problem} is missing or malformed")
    if parsed["key"] != private.public.thumbprint:
        fail(f"{statement}: the statement names key {parsed['key']}, not this key")
    typer.echo(private.sign(raw))


def public(
    output: Annotated[Path | None, typer.Option(help="File to write; stdout if omitted.")] = None,
) -> None:
    """Write the hub's public keys as a trust file for `casehub requests verify`:
    {"receipts": JWKS, "accreditation": JWKS}. Hand it to verifiers out of band."""
    keys = LocalKeyring.load(Settings().keyring)
    trust = {
        "receipts": keys.receipt_public_keys(),
        "accreditation": keys.accreditation_public_keys(),
    }
    text = json.dumps(trust, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    typer.echo(f"wrote the hub's public keys to {output}", err=True)


def register(agency_app: typer.Typer, keys_app: typer.Typer) -> None:
    """Add keygen and sign to the `agency` group, public to the `keys` group."""
    agency_app.command("keygen")(keygen)
    agency_app.command("sign")(sign)
    keys_app.command("public")(public)
