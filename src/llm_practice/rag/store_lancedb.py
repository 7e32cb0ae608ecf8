"""LanceDB: an embedded, on-disk, versioned vector store (the default)."""

from __future__ import annotations

from .filters import MetadataFilter
from .store import ROW_FIELDS, VectorStore

TABLE = "chunks"


class LanceStore(VectorStore):
    def __init__(self, uri: str, dim: int):
        import lancedb
        import pyarrow as pa

        self.dim = dim
        self._db = lancedb.connect(uri)
        schema = pa.schema([
            *(pa.field(f, pa.int32() if f in ("page", "start", "end") else pa.string()) for f in ROW_FIELDS),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ])
        try:
            self._table = self._db.open_table(TABLE)
        except (ValueError, FileNotFoundError):
            self._table = self._db.create_table(TABLE, schema=schema, exist_ok=True)

    def add(self, rows: list[dict]) -> None:
        if rows:
            self._table.add([{**r, "vector": [float(x) for x in r["vector"]]} for r in rows])

    def delete_docs(self, doc_ids: list[str]) -> None:
        for start in range(0, len(doc_ids), 200):
            part = doc_ids[start:start + 200]
            self._table.delete("doc_id IN (" + ",".join(f"'{d}'" for d in part) + ")")

    def search(self, vector, k: int, filters: list[MetadataFilter], exclude_docs: list[str]):
        clauses = [f.to_sql() for f in filters]
        if exclude_docs:
            clauses.append("doc_id NOT IN (" + ",".join(f"'{d}'" for d in exclude_docs) + ")")
        query = self._table.search(list(map(float, vector))).metric("cosine").limit(k).select([*ROW_FIELDS, "_distance"])
        if clauses:
            query = query.where(" AND ".join(clauses), prefilter=True)
        hits = query.to_list()
        return [({f: h[f] for f in ROW_FIELDS}, 1.0 - float(h["_distance"])) for h in hits]

    def rows(self, fields: tuple[str, ...] = ROW_FIELDS) -> list[dict]:
        return self._table.to_arrow().select(list(fields)).to_pylist()

    def rows_with_vectors(self, fields: tuple[str, ...] = ROW_FIELDS):
        import numpy as np

        table = self._table.to_arrow()
        column = table.column("vector").combine_chunks()
        vectors = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
        return table.select(list(fields)).to_pylist(), vectors.reshape(len(table), self.dim)

    def doc_ids(self) -> set[str]:
        return set(self._table.to_arrow().column("doc_id").to_pylist())

    def count(self) -> int:
        return self._table.count_rows()

    def optimize(self) -> None:
        """Compact small fragments left by many adds (keeps search fast)."""
        try:
            self._table.optimize()
        except Exception:  # noqa: BLE001 - an optional maintenance step must never fail an add
            pass
