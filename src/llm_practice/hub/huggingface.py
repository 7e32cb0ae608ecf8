"""Hugging Face (and its mirrors): list a revision's files with huggingface_hub.

`HfApi.model_info(files_metadata=True)` gives the commit, every file's size, the LFS sha256 and
the git blob id, and maps the hub's error codes (RepoNotFound, GatedRepo, RevisionNotFound) to
typed exceptions, which we turn into ours. The endpoints are tried in order: `--endpoint`, or the
`--mirror`, or `HF_ENDPOINT` followed by `LLMP_HF_MIRRORS`; the first one that answers serves
every file.
"""

from __future__ import annotations

from ..errors import ConfigError, EngineMissingError, HubUnreachableError
from ..settings import get_settings
from .files import RemoteFile, RepoListing
from .hf_errors import hub_error

MIRRORS: dict[str, str] = {
    "hf-mirror": "https://hf-mirror.com",
    "huggingface": "https://huggingface.co",
}


def candidate_endpoints(endpoint: str | None, mirror: str | None) -> list[str]:
    if endpoint and mirror:
        raise ConfigError("--mirror", "use either --endpoint or --mirror, not both.")
    if endpoint:
        return [endpoint.rstrip("/")]
    if mirror:
        if "://" in mirror:
            return [mirror.rstrip("/")]
        if mirror not in MIRRORS:
            raise ConfigError("--mirror", f"unknown mirror '{mirror}'.",
                              f"Known mirrors: {', '.join(MIRRORS)}; or pass --endpoint URL.")
        return [MIRRORS[mirror]]
    settings = get_settings()
    ordered = [settings.hf_endpoint, *settings.hf_mirrors]
    return list(dict.fromkeys(ordered))


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level failures of whichever HTTP stack this huggingface_hub uses."""
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    for module in ("httpx2", "httpx"):
        try:
            found.append(__import__(module).TransportError)
        except (ImportError, AttributeError):
            pass
    return tuple(found)


def list_hf(repo_id: str, revision: str, token: str | None, endpoints: list[str]) -> RepoListing:
    try:
        from huggingface_hub import HfApi, hf_hub_url
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
        from huggingface_hub.utils import build_hf_headers
    except ImportError as e:
        raise EngineMissingError("huggingface_hub", "pip install 'llm-practice[hub]'", str(e)) from e

    transport = _transport_errors()
    problems: list[str] = []
    for endpoint in endpoints:
        api = HfApi(endpoint=endpoint, token=token)
        try:
            info = api.model_info(repo_id, revision=revision, files_metadata=True)
        except (OfflineModeIsEnabled, HfHubHTTPError) as e:
            final = hub_error(e, repo_id, endpoint, revision)
            if final is not None:
                raise final from e
            status = e.response.status_code if getattr(e, "response", None) is not None else None
            problems.append(f"{endpoint} answered HTTP {status}")
            continue
        except transport as e:
            problems.append(f"{endpoint} failed with {type(e).__name__}")
            continue
        files = [
            RemoteFile(
                path=s.rfilename,
                size=s.lfs.size if s.lfs else s.size,
                url=hf_hub_url(repo_id, s.rfilename, revision=info.sha or revision, endpoint=endpoint),
                sha256=s.lfs.sha256 if s.lfs else None,
                git_sha1=None if s.lfs else s.blob_id,
            )
            for s in info.siblings or []
        ]
        return RepoListing(
            repo_id=repo_id, source="hf", endpoint=endpoint, revision=revision, commit=info.sha,
            files=files, headers=build_hf_headers(token=token),
        )
    raise HubUnreachableError(repo_id, endpoints, "; ".join(problems))  # each problem names its endpoint
