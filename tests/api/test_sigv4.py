"""SigV4: signatures recomputed with botocore's signer; AWS's errors for each failure."""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import Credentials  # type: ignore[import-untyped]
from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from batchyard.api import App, ConfigError, ServerConfig, sigv4
from batchyard.api.errors import SIGNATURE_MISMATCH, AwsError
from tests.api.conftest import RunningServer, target


def _error(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return {
        "code": caught.value.response["Error"]["Code"],
        "message": caught.value.response["Error"]["Message"],
        "status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def test_bad_secret_is_invalid_signature(server: RunningServer) -> None:
    logs = server.client(secret="not-the-secret")
    assert _error(logs.describe_log_groups) == {
        "code": "InvalidSignatureException",
        "message": SIGNATURE_MISMATCH,
        "status": 400,
    }


def test_unknown_access_key_is_unrecognized_client(server: RunningServer) -> None:
    logs = server.client(key="AKIDUNKNOWN", secret="test")
    assert _error(logs.describe_log_groups) == {
        "code": "UnrecognizedClientException",
        "message": "The security token included in the request is invalid.",
        "status": 400,
    }


def test_missing_authentication(server: RunningServer) -> None:
    status, _, body = server.raw("{}", target("DescribeLogGroups"), sign=False)
    assert status == 400
    assert body == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Request is missing Authentication Token",
    }


def test_tampered_body_fails(server: RunningServer) -> None:
    headers = target("DescribeLogGroups")
    request = AWSRequest(method="POST", url=server.url + "/", data=b"{}", headers=headers)
    SigV4Auth(Credentials("test", "test"), "logs", "us-east-1").add_auth(request)
    sent = urllib.request.Request(
        server.url + "/", data=b'{"limit": 1}', method="POST", headers=dict(request.headers)
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(sent)
    assert caught.value.code == 400
    assert b"InvalidSignatureException" in caught.value.read()


def _signed(url: str, when: dt.datetime) -> sigv4.SignedRequest:
    request = AWSRequest(method="POST", url=url, data=b"{}", headers=target("DescribeLogGroups"))
    request.headers["Host"] = url.split("//", 1)[1]
    request.context["timestamp"] = when.strftime(sigv4.AMZ_DATE)
    request.headers["X-Amz-Date"] = when.strftime(sigv4.AMZ_DATE)
    auth = SigV4Auth(Credentials("test", "test"), "logs", "us-east-1")
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    headers = auth.signed_headers(auth.headers_to_sign(request))
    scope = auth.scope(request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders={headers}, Signature={signature}"
    )
    return sigv4.SignedRequest("POST", url, "/", "", list(request.headers.items()), b"{}")


def test_signature_checked_offline_and_clock_skew() -> None:
    when = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    request = _signed("http://127.0.0.1:4600", when)
    identity = sigv4.verify(request, {"test": "test"}, now=when + dt.timedelta(minutes=3))
    assert identity == sigv4.Identity("test", "us-east-1", "logs")
    with pytest.raises(AwsError) as caught:
        sigv4.verify(request, {"test": "test"}, now=when + dt.timedelta(minutes=20))
    assert caught.value.code == "InvalidSignatureException"
    assert caught.value.message == (
        "Signature expired: 20240301T120000Z is now earlier than 20240301T120500Z "
        "(20240301T122000Z - 15 min.)"
    )


def test_presigned_query_form(server: RunningServer) -> None:
    request = AWSRequest(method="GET", url=server.url + "/healthz-not-an-api", headers={})
    SigV4QueryAuth(Credentials("test", "test"), "logs", "us-east-1", expires=60).add_auth(request)
    signed_url = request.url
    host = signed_url.split("/")[2]
    parts = signed_url.split("?", 1)
    verified = sigv4.verify(
        sigv4.SignedRequest(
            "GET", "http://" + host, "/healthz-not-an-api", parts[1], [("host", host)], b""
        ),
        {"test": "test"},
    )
    assert verified.access_key == "test"
    tampered = parts[1].replace("X-Amz-Expires=60", "X-Amz-Expires=61")
    with pytest.raises(AwsError):
        sigv4.verify(
            sigv4.SignedRequest(
                "GET", "http://" + host, "/healthz-not-an-api", tampered, [("host", host)], b""
            ),
            {"test": "test"},
        )


def test_non_loopback_requires_credentials() -> None:
    with pytest.raises(ConfigError, match="configure credentials"):
        App(ServerConfig(host="0.0.0.0"))
    app = App(ServerConfig(host="0.0.0.0", credentials={"AKIDEXAMPLE": "s3cr3t"}))
    assert app.credentials == {"AKIDEXAMPLE": "s3cr3t"}
    assert App(ServerConfig(host="::1")).credentials == {"test": "test"}


def test_incomplete_authorization_header(server: RunningServer) -> None:
    headers = {
        **target("DescribeLogGroups"),
        "X-Amz-Date": "20240301T120000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240301/us-east-1/logs/aws4_request",
    }
    status, _, body = server.raw("{}", headers, sign=False)
    assert status == 400
    assert body["__type"] == "IncompleteSignatureException"
    assert body["message"].startswith(
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter."
    )
