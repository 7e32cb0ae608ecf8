"""`kb ask` / `kb chat`: an LCEL chain (retriever -> prompt | chat model | parser) with numbered citations.

    chain = build_ask_chain(retriever, LlmpChatModel(engine=engine, temperature=0))
    for piece in chain.stream({"question": "..."}):
        print(piece, end="")

The retrieved passages are numbered [1]..[n] in the prompt and the model is asked to cite them.
When no passage is relevant the chain does not call the model: it answers that it does not know.
Every part is a LangChain runnable a user can swap (another retriever, prompt or chat model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBranch, RunnableLambda, RunnablePassthrough

_CJK = re.compile(r"[\u4e00-\u9fff]")

PROMPTS = {
    "en": ("You answer questions using only the numbered context passages. Cite the passages you use "
           "like [1]. If the context does not contain the answer, say you don't know.",
           "Context:\n{context}\n\nQuestion: {question}\nAnswer:"),
    "zh": ("你只根据编号的资料回答问题，并用 [1] 这样的编号注明出处。资料里没有答案时，就说不知道。",
           "资料：\n{context}\n\n问题：{question}\n回答："),
}
DONT_KNOW = {
    "en": "I don't know: nothing in the knowledge base is relevant to this question.",
    "zh": "我不知道：知识库中没有与这个问题相关的内容。",
}
CONDENSE = {
    "en": "Rewrite the last question so it can be understood without the conversation. "
          "Reply with the question only.\n\nConversation:\n{history}\n\nLast question: {question}\nStandalone question:",
    "zh": "把最后一个问题改写成不看对话也能理解的完整问题，只输出问题。\n\n对话：\n{history}\n\n最后的问题：{question}\n完整问题：",
}


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def format_context(docs: list[Document], max_chars: int = 1200) -> str:
    return "\n\n".join(f"[{i}] ({d.metadata.get('source', '')})\n{d.page_content[:max_chars]}"
                       for i, d in enumerate(docs, 1))


def relevant_docs(docs: list[Document]) -> list[Document]:
    return [d for d in docs if d.metadata.get("relevant", True)]


def retrieval_step(retriever):
    """{"question", optional "query"} -> the same plus "docs" (only the relevant passages)."""
    retrieve = RunnableLambda(lambda inputs: relevant_docs(retriever.invoke(inputs.get("query") or inputs["question"])))
    return RunnablePassthrough.assign(docs=retrieve)


def answer_step(chat_model):
    """{"question", "docs"} -> answer text; "I don't know" without calling the model when docs is empty."""

    def prompt_for(inputs: dict):
        system, human = PROMPTS[language_of(inputs["question"])]
        return ChatPromptTemplate.from_messages([("system", system), ("human", human)]).invoke(
            {"context": format_context(inputs["docs"]), "question": inputs["question"]})

    answer = RunnableLambda(prompt_for) | chat_model | StrOutputParser()
    dont_know = RunnableLambda(lambda inputs: DONT_KNOW[language_of(inputs["question"])])
    return RunnableBranch((lambda inputs: not inputs["docs"], dont_know), answer)


def build_ask_chain(retriever, chat_model):
    """The whole LCEL chain: {"question"} -> streamed answer text."""
    return retrieval_step(retriever) | answer_step(chat_model)


@dataclass
class Answer:
    question: str
    text: str = ""
    docs: list[Document] = field(default_factory=list)

    def sources(self) -> list[str]:
        return [f"[{i}] {d.metadata.get('source', '')}" for i, d in enumerate(self.docs, 1)]


def condense_question(chat_model, history: list[tuple[str, str]], question: str) -> str:
    """A follow-up rewritten with the history, for retrieval. Falls back to previous question + follow-up."""
    if not history:
        return question
    lang = language_of(question)
    transcript = "\n".join(f"Q: {q}\nA: {a[:300]}" for q, a in history[-3:])
    try:
        rewritten = (chat_model | StrOutputParser()).invoke(CONDENSE[lang].format(history=transcript, question=question))
    except Exception:  # noqa: BLE001 - a failed rewrite falls back to plain concatenation
        rewritten = ""
    rewritten = rewritten.strip().splitlines()[0].strip() if rewritten.strip() else ""
    previous = history[-1][0]
    # the rewrite from a small model can drop the subject: keep the previous question's words too
    return f"{previous} {rewritten or question}" if len(rewritten) < 400 else f"{previous} {question}"
