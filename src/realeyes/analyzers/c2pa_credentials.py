"""C2PA content credentials: is a manifest present, does it validate, who signed it, what does it declare."""

from __future__ import annotations

import io
import json
import urllib.parse
import urllib.request
from functools import cached_property
from typing import Any

import c2pa

from realeyes.analyzers._registry import register
from realeyes.analyzers._source_types import strongest_claim
from realeyes.analyzers.base import Analyzer, Evidence
from realeyes.labels import ACCUSATIONS
from realeyes.media import Media

# Failure codes that do not mean the content was altered: they are about trust in the signer, or checks skipped.
_TRUST_ONLY_CODES = {
    "signingCredential.untrusted",
    "signingCredential.ocsp.skipped",
    "cawg.x509.credential.untrusted",
}


REMOTE_TIMEOUT_SECONDS = 5.0
REMOTE_MAX_BYTES = 10 * 1024 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would lead off the allow-listed host: it is an error instead."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _remote_url(message: str) -> str | None:
    """The URL in the SDK's "Remote: must fetch remote manifests from url <URL>" error, if that is the error."""
    if not message.startswith("Remote:") or "url" not in message:
        return None
    url = message.split("url", 1)[-1].strip()
    return url or None


@register
class C2paAnalyzer(Analyzer):
    """C2PA manifest presence, validation, signer and declared digital source type."""

    name = "c2pa"
    version = "1.0"
    media_kinds = frozenset({"image", "video", "document"})
    needs_pixels = False

    @cached_property
    def _context(self) -> c2pa.Context:
        # The SDK never fetches by itself: a remote manifest is fetched here, from allow-listed hosts only.
        settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
        if self.settings.c2pa_trust_anchors is not None:
            settings["trust"] = {"trust_anchors": self.settings.c2pa_trust_anchors.read_text()}
            settings["verify"]["verify_trust"] = True
        return c2pa.Context(c2pa.Settings.from_dict(settings))

    def analyze(self, media: Media) -> Evidence:
        try:
            reader = c2pa.Reader(media.format.mime, io.BytesIO(media.data), context=self._context)
        except c2pa.C2paError as exc:
            url = _remote_url(str(exc))
            if url is None or not self.settings.c2pa_fetch_remote:
                return self._unreadable(media, exc)
            manifest, why = self._fetch_remote(url)
            if manifest is None:
                return self.evidence(
                    summary=f"Content credentials are stored remotely and were not fetched ({why}).",
                    details=_details(manifest_present=True, validation="unverified", remote_url=url),
                )
            try:
                reader = c2pa.Reader(
                    media.format.mime, io.BytesIO(media.data), manifest_data=manifest, context=self._context
                )
            except c2pa.C2paError as remote_exc:
                return self._unreadable(media, remote_exc)
        with reader:
            store = json.loads(reader.json())
            state = str(reader.get_validation_state())
        return self._judge(_describe_store(store, state))

    def _fetch_remote(self, url: str) -> tuple[bytes | None, str]:
        """The manifest at `url` when its host is in REALEYES_C2PA_REMOTE_HOSTS (http or https, no redirects,
        a time and size limit), else None and why: an upload must not make the server fetch any URL it names."""
        parsed = urllib.parse.urlsplit(url)
        allowed = {host.lower().rstrip(".") for host in self.settings.c2pa_remote_hosts}
        host = (parsed.hostname or "").rstrip(".")
        if parsed.scheme not in ("http", "https") or not host or host not in allowed:
            return None, f"host {host or '?'} is not in REALEYES_C2PA_REMOTE_HOSTS"
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            request = urllib.request.Request(url, method="GET")  # noqa: S310 - scheme checked above
            with opener.open(request, timeout=REMOTE_TIMEOUT_SECONDS) as response:
                data: bytes = response.read(REMOTE_MAX_BYTES + 1)
        except (OSError, ValueError) as exc:
            return None, f"the fetch failed: {type(exc).__name__}"
        if len(data) > REMOTE_MAX_BYTES:
            return None, f"the manifest is larger than {REMOTE_MAX_BYTES} bytes"
        return data, ""

    def _unreadable(self, media: Media, exc: Exception) -> Evidence:
        kind = type(exc).__name__.lstrip("_").removeprefix("C2pa")
        message = str(exc)
        if kind == "ManifestNotFound":
            return self.evidence(
                summary="No C2PA content credentials (most images carry none, so absence is not evidence).",
                details=_details(manifest_present=False, validation="absent"),
            )
        if message.startswith("Remote:"):
            url = message.split("url", 1)[-1].strip() if "url" in message else None
            return self.evidence(
                summary="Content credentials are stored remotely and were not fetched (remote fetch is disabled).",
                details=_details(manifest_present=True, validation="unverified", remote_url=url),
            )
        present = b"jumb" in media.data or b"c2pa" in media.data
        if not present:
            return self.evidence(
                summary=f"No C2PA content credentials found (the container could not be fully parsed: {message}).",
                details=_details(manifest_present=False, validation="absent", validation_codes=[message]),
            )
        return self.evidence(
            score=0.6,
            weight=0.3,
            label="manipulated",
            summary=f"Content credentials are present but cannot be read or verified ({message}).",
            details=_details(manifest_present=True, validation="invalid", validation_codes=[message]),
        )

    def _judge(self, details: dict[str, Any]) -> Evidence:
        claim = strongest_claim([details["digital_source_type"]] if details["digital_source_type"] else [])
        signer = details["signer"] or "an unknown signer"
        if details["validation"] == "invalid":
            failures = [code for code in details["validation_codes"] if code not in _TRUST_ONLY_CODES]
            if claim and claim.label in ACCUSATIONS:
                return self.evidence(
                    score=0.9, weight=1.0, label=claim.label, details=details,
                    summary=f"Content credentials declare the image {claim.meaning}, but fail validation "
                    f"({', '.join(failures)}).",
                )  # fmt: skip
            return self.evidence(
                score=0.75, weight=0.6, label="manipulated", details=details,
                summary=f"Content credentials fail validation ({', '.join(failures)}): "
                "the file was changed after it was signed, or the signature is broken.",
            )  # fmt: skip
        trust = "trusted" if details["trusted"] else "untrusted"
        if claim and claim.label in ACCUSATIONS:
            # A signed declaration of AI involvement is an admission: decisive whatever the signer's trust.
            return self.evidence(
                score=0.99, weight=1.0, label=claim.label, decisive=True, details=details,
                summary=f"Valid C2PA content credentials signed by {signer} ({trust}) declare the image "
                f"{claim.meaning}.",
            )  # fmt: skip
        if claim and claim.label == "authentic":
            # A capture claim is only as good as the signer: decisive only when the signer is on a trust list.
            return self.evidence(
                score=0.03 if details["trusted"] else 0.25,
                weight=1.0 if details["trusted"] else 0.5,
                label="authentic", decisive=bool(details["trusted"]), details=details,
                summary=f"Valid C2PA content credentials signed by {signer} ({trust}) declare the image "
                f"{claim.meaning}.",
            )  # fmt: skip
        declared = f" declare it {claim.meaning}" if claim else " declare no digital source type"
        return self.evidence(
            details=details,
            summary=f"Valid C2PA content credentials signed by {signer} ({trust}){declared}.",
        )


def _details(**fields: Any) -> dict[str, Any]:
    """The stable C2PA details contract (docs/OUTPUT.md): every key is always present."""
    base: dict[str, Any] = {
        "manifest_present": False,
        "validation": "absent",
        "validation_codes": [],
        "trusted": False,
        "signer": None,
        "issuer": None,
        "signing_time": None,
        "claim_generator": None,
        "digital_source_type": None,
        "actions": [],
        "active_manifest": None,
        "manifest_count": 0,
        "remote_url": None,
    }
    base.update(fields)
    return base


def _describe_store(store: dict[str, Any], state: str) -> dict[str, Any]:
    label = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(label, {}) if label else {}
    signature = manifest.get("signature_info") or {}
    actions = [action for assertion in manifest.get("assertions", []) for action in _actions_of(assertion)]
    source_types = [str(a["digitalSourceType"]) for a in actions if a.get("digitalSourceType")]
    source_types += _metadata_source_types(manifest)
    claim = strongest_claim(source_types)
    return _details(
        manifest_present=True,
        validation="invalid" if state == "Invalid" else "valid",
        validation_codes=[status["code"] for status in store.get("validation_status") or [] if "code" in status],
        trusted=state == "Trusted",
        signer=signature.get("common_name") or signature.get("issuer"),
        issuer=signature.get("issuer"),
        signing_time=signature.get("time"),
        claim_generator=_claim_generator(manifest),
        digital_source_type=claim.term if claim else (source_types[0] if source_types else None),
        actions=[str(action.get("action")) for action in actions],
        active_manifest=label,
        manifest_count=len(store.get("manifests", {})),
    )


def _actions_of(assertion: dict[str, Any]) -> list[dict[str, Any]]:
    if not str(assertion.get("label", "")).startswith("c2pa.actions"):
        return []
    return [a for a in (assertion.get("data") or {}).get("actions", []) if isinstance(a, dict)]


def _metadata_source_types(manifest: dict[str, Any]) -> list[str]:
    """Digital source types declared outside actions (e.g. a c2pa.metadata / IPTC assertion)."""
    found = []
    for assertion in manifest.get("assertions", []):
        data = assertion.get("data")
        if isinstance(data, dict) and not str(assertion.get("label", "")).startswith("c2pa.actions"):
            value = data.get("Iptc4xmpExt:DigitalSourceType") or data.get("digitalSourceType")
            if isinstance(value, str):
                found.append(value)
    return found


def _claim_generator(manifest: dict[str, Any]) -> str | None:
    if manifest.get("claim_generator"):
        return str(manifest["claim_generator"])
    infos = manifest.get("claim_generator_info") or []
    parts = [" ".join(str(info[k]) for k in ("name", "version") if info.get(k)) for info in infos]
    return "; ".join(part for part in parts if part) or None
