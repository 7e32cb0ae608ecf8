"""One mapping from huggingface_hub's exceptions to ours, for downloads and hub estimates alike."""

from __future__ import annotations

from ..errors import HubAuthError, HubError, HubUnreachableError, RepoNotFoundError, RevisionNotFoundError


def hub_error(error: Exception, repo_id: str, endpoint: str, revision: str | None = None) -> HubError | None:
    """Our error for a huggingface_hub exception that another try will not fix (gated, missing,
    refused); None for one worth another endpoint or a retry (5xx, a dropped connection)."""
    from huggingface_hub import errors as hf

    if isinstance(error, hf.OfflineModeIsEnabled):
        return HubUnreachableError(repo_id, [endpoint], "HF_HUB_OFFLINE=1 is set; unset it to reach the hub.")
    if isinstance(error, hf.GatedRepoError):  # before RepositoryNotFoundError, its parent
        return HubAuthError(repo_id, "the repository is gated or private.")
    if isinstance(error, hf.RevisionNotFoundError):
        return RevisionNotFoundError(repo_id, revision or "main")
    if isinstance(error, hf.RepositoryNotFoundError):
        return RepoNotFoundError(repo_id, "hf", endpoint)
    if isinstance(error, hf.HfHubHTTPError):
        status = error.response.status_code if error.response is not None else None
        if status in (401, 403):
            return HubAuthError(repo_id, f"HTTP {status} from {endpoint}.")
        if status is not None and status < 500:
            return HubError(repo_id, f"{endpoint} answered HTTP {status} for '{repo_id}': {error}",
                            "Check the repository id and --revision, or try another --endpoint.")
    return None
