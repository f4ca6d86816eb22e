"""Retrieval: embeddings, the Chroma vector index, BM25 lexical search and their fusion."""
