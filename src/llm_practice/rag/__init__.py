"""Knowledge bases: load -> split (zh-aware) -> embed -> store -> retrieve (hybrid) -> rerank -> answer.

    from llm_practice.rag import create_kb, KnowledgeBase, KnowledgeBaseRetriever
    kb = create_kb("docs"); kb.add(["manual.pdf"]); kb.search("如何安装？")

Heavy modules (LanceDB, Milvus, jieba, torch) load only when used.
"""

from importlib import import_module

_EXPORTS = {
    "create_kb": "kb", "drop_kb": "kb", "list_kbs": "kb", "KnowledgeBase": "kb",
    "KnowledgeBaseRetriever": "retriever", "build_ask_chain": "answer",
    "MetadataFilter": "filters", "CrossEncoderReranker": "rerank",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(name)
