"""SigV4 verification: recompute the client's signature with botocore's own signer.

The received request is rebuilt exactly as the client signed it -- raw (still percent-encoded)
path and query, only the headers named in ``SignedHeaders``, the body bytes as they arrived --
and handed to ``botocore.auth.SigV4Auth`` with the secret of the access key the credential
names; the two signatures are compared in constant time. Both the ``Authorization`` header
form and the presigned query form (``X-Amz-Signature=...``) are accepted.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest, HTTPHeaders  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]

from batchyard.api.errors import (
    MISSING_TOKEN,
    SIGNATURE_MISMATCH,
    UNRECOGNIZED_CLIENT,
    AwsError,
)

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
AMZ_DATE = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class SignedRequest:
    """The parts of an HTTP request that SigV4 covers."""

    method: str
    host_url: str  # scheme://host[:port], as the client addressed it
    raw_path: str
    raw_query: str
    headers: Sequence[tuple[str, str]]  # every received header, names in any case
    body: bytes


@dataclass(frozen=True)
class Identity:
    access_key: str
    region: str
    service: str


class _Verifier(SigV4Auth):  # type: ignore[misc]
    """botocore's signer, told which headers the client signed instead of choosing them."""

    def __init__(self, secret: str, access_key: str, service: str, region: str,
                 signed: list[str]) -> None:  # fmt: skip
        super().__init__(Credentials(access_key, secret), service, region)
        self._signed = signed

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        chosen = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or []:
                chosen[name] = value
        return chosen

    def payload(self, request: AWSRequest) -> str:
        # Hash the body whatever the scheme (botocore may skip it on https when told to).
        return sha256(request.body or b"").hexdigest()


def _auth_params(header: str) -> dict[str, str]:
    _, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            params[key.strip()] = value.strip()
    return params


def _incomplete(message: str) -> AwsError:
    return AwsError("IncompleteSignatureException", message, 400)


def verify(
    request: SignedRequest,
    secrets: Mapping[str, str],
    *,
    now: dt.datetime | None = None,
    expected_service: str | None = None,
) -> Identity:
    """Check ``request``'s signature; return who signed it or raise AWS's error."""
    headers = HTTPHeaders()
    for name, value in request.headers:
        headers[name] = value
    query = dict(parse_qsl(request.raw_query, keep_blank_values=True))
    authorization = headers.get("authorization")
    presigned = "X-Amz-Signature" in query
    if authorization is None and not presigned:
        raise AwsError("MissingAuthenticationTokenException", MISSING_TOKEN, 400)
    if authorization is not None:
        if not authorization.startswith(ALGORITHM + " "):
            raise _incomplete(
                f"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                f"header. Authorization={authorization}"
            )
        params = _auth_params(authorization)
        missing = [k for k in ("Credential", "Signature", "SignedHeaders") if k not in params]
        if missing:
            text = " ".join(f"Authorization header requires '{k}' parameter." for k in missing)
            raise _incomplete(f"{text} Authorization={authorization}")
        credential, signed_headers = params["Credential"], params["SignedHeaders"]
        signature, amz_date = params["Signature"], headers.get("x-amz-date")
        if amz_date is None:
            raise _incomplete(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                f"header. Authorization={authorization}"
            )
        raw_query = request.raw_query
    else:
        credential = query.get("X-Amz-Credential", "")
        signed_headers = query.get("X-Amz-SignedHeaders", "host")
        signature, amz_date = query["X-Amz-Signature"], query.get("X-Amz-Date", "")
        raw_query = "&".join(
            p for p in request.raw_query.split("&") if not p.startswith("X-Amz-Signature=")
        )
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise _incomplete(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not "
            f"'{scope[-1]}'."
            if len(scope) == 5
            else "Credential should be scoped to a valid region. "
        )
    access_key, day, region, service, _ = scope
    if expected_service is not None and service != expected_service:
        raise _incomplete(f"Credential should be scoped to correct service: '{expected_service}'. ")
    secret = secrets.get(access_key)
    if secret is None:
        raise AwsError("UnrecognizedClientException", UNRECOGNIZED_CLIENT, 400)
    _check_date(amz_date, now or dt.datetime.now(dt.UTC))
    url = f"{request.host_url}{request.raw_path}" + (f"?{raw_query}" if raw_query else "")
    aws_request = AWSRequest(method=request.method, url=url, data=request.body, headers=headers)
    aws_request.context["timestamp"] = amz_date
    if amz_date[:8] != day:
        raise AwsError("InvalidSignatureException", SIGNATURE_MISMATCH, 400)
    verifier = _Verifier(secret, access_key, service, region, signed_headers.split(";"))
    canonical = verifier.canonical_request(aws_request)
    expected = verifier.signature(verifier.string_to_sign(aws_request, canonical), aws_request)
    if not hmac.compare_digest(expected, signature):
        raise AwsError("InvalidSignatureException", SIGNATURE_MISMATCH, 400)
    return Identity(access_key, region, service)


def _check_date(amz_date: str, now: dt.datetime) -> None:
    try:
        signed_at = dt.datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise _incomplete(f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.") from exc
    now_text = now.strftime(AMZ_DATE)
    if signed_at < now - MAX_SKEW:
        raise AwsError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime(AMZ_DATE)} ({now_text} - 15 min.)",
            400,
        )
    if signed_at > now + MAX_SKEW:
        raise AwsError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than "
            f"{(now + MAX_SKEW).strftime(AMZ_DATE)} ({now_text} + 15 min.)",
            400,
        )
