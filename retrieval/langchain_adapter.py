"""The hybrid searcher as a LangChain retriever, for LLM chains (generative answers)."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from retrieval.search import HybridSearcher


class HybridRetriever(BaseRetriever):
    """One LangChain ``Document`` per best section of each ranked procedure."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: HybridSearcher
    k: int = 3
    lang: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        response = self.searcher.search(query, lang=self.lang, k=self.k)
        documents = []
        for hit in response.results:
            for section in hit.sections:
                documents.append(
                    Document(
                        page_content=section.text,
                        id=section.chunk_id,
                        metadata={
                            "doc_id": hit.doc_id, "lang": hit.lang, "title": hit.title,
                            "heading": section.heading, "source": hit.source,
                            "reviewed": hit.reviewed, "confidence": hit.confidence,
                        },
                    )
                )  # fmt: skip
        return documents
