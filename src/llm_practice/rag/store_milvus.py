"""Milvus through pymilvus: a Milvus Lite file locally (tests), a server or cluster URI in production."""

from __future__ import annotations

from .filters import MetadataFilter
from .store import ROW_FIELDS, VectorStore

_LENGTHS = {"id": 128, "doc_id": 80, "source": 2048, "type": 16, "heading": 2048, "text": 65535}


class MilvusStore(VectorStore):
    def __init__(self, uri: str, dim: int, collection: str = "kb"):
        import logging

        from pymilvus import DataType, MilvusClient
        from pymilvus.exceptions import MilvusException

        logging.getLogger("pymilvus").setLevel(logging.ERROR)  # its iterator warns on Milvus Lite
        self.dim = dim
        self._name = collection
        self._uri = uri
        try:
            self._client = MilvusClient(uri)
        except MilvusException as e:
            from ..errors import KnowledgeBaseBusyError

            if uri.endswith(".db"):
                raise KnowledgeBaseBusyError(uri, "a Milvus Lite file is open in one process at a time; stop the "
                                                  "other `llmp` using it, or use a Milvus server URI") from e
            from ..errors import EndpointError

            raise EndpointError(uri, f"cannot connect to Milvus ({e}).", "Check --uri and that Milvus is running.") from e
        if not self._client.has_collection(collection):
            schema = self._client.create_schema(auto_id=False)
            for f in ROW_FIELDS:
                if f in ("page", "start", "end"):
                    schema.add_field(f, DataType.INT64)
                else:
                    schema.add_field(f, DataType.VARCHAR, max_length=_LENGTHS[f], is_primary=f == "id")
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            index = self._client.prepare_index_params()
            index.add_index(field_name="vector", index_type="FLAT" if uri.endswith(".db") else "HNSW",
                            metric_type="COSINE")
            self._client.create_collection(collection, schema=schema, index_params=index)
        self._client.load_collection(collection)

    def add(self, rows: list[dict]) -> None:
        for start in range(0, len(rows), 1000):
            part = rows[start:start + 1000]
            self._client.insert(self._name, [{**r, "text": r["text"][:16000], "vector": [float(x) for x in r["vector"]]}
                                             for r in part])

    def delete_docs(self, doc_ids: list[str]) -> None:
        for start in range(0, len(doc_ids), 200):
            part = doc_ids[start:start + 200]
            self._client.delete(self._name, filter="doc_id in [" + ",".join(f'"{d}"' for d in part) + "]")

    def search(self, vector, k: int, filters: list[MetadataFilter], exclude_docs: list[str]):
        clauses = [f.to_milvus() for f in filters]
        if exclude_docs:
            clauses.append("doc_id not in [" + ",".join(f'"{d}"' for d in exclude_docs) + "]")
        hits = self._client.search(self._name, [list(map(float, vector))], limit=k, filter=" and ".join(clauses),
                                   output_fields=list(ROW_FIELDS), search_params={"metric_type": "COSINE"})[0]
        return [({f: h["entity"][f] for f in ROW_FIELDS}, float(h["distance"])) for h in hits]

    def _query_all(self, fields: list[str]) -> list[dict]:
        out, iterator = [], self._client.query_iterator(self._name, batch_size=1000, filter="",
                                                        output_fields=fields)
        while batch := iterator.next():
            out += batch
        iterator.close()
        return out

    def rows(self, fields: tuple[str, ...] = ROW_FIELDS) -> list[dict]:
        return [{f: r[f] for f in fields} for r in self._query_all(list(fields))]

    def doc_ids(self) -> set[str]:
        return {r["doc_id"] for r in self._query_all(["doc_id"])}

    def count(self) -> int:
        return len(self._query_all(["id"]))

    def close(self) -> None:
        """Close the client; for a Milvus Lite file also stop its in-process server so another process can open it."""
        self._client.close()
        if self._uri.endswith(".db"):
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self._uri)
