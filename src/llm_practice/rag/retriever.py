"""A knowledge base as a LangChain `BaseRetriever`: drop it into any LangChain chain.

    from llm_practice.rag import KnowledgeBaseRetriever
    docs = KnowledgeBaseRetriever(kb_name="docs", k=4).invoke("如何配置端口？")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field


class KnowledgeBaseRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    kb_name: str
    k: int = 4
    filters: list = Field(default_factory=list)  # MetadataFilter objects
    reranker: Any = None
    kb: Any = None  # an open KnowledgeBase (opened from kb_name when None)

    def _knowledge_base(self):
        if self.kb is None:
            from .kb import KnowledgeBase

            self.kb = KnowledgeBase(self.kb_name)
        return self.kb

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        results = self._knowledge_base().search(query, k=self.k, filters=self.filters, reranker=self.reranker)
        return [Document(page_content=r.text, metadata={"source": r.source, "score": r.score,
                                                         "relevant": r.relevant, **r.metadata})
                for r in results]
