"""Typed metadata filters (`--filter type=pdf`, `--filter source~=docs/*`, `--filter page>=3`).

One `MetadataFilter` is translated for each place a filter runs: LanceDB's SQL prefilter, a Milvus
boolean expression, and a Python check for BM25 hits, so all three agree.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..errors import ConfigError

FIELDS = {"source": str, "type": str, "heading": str, "page": int}
Op = Literal["=", "!=", "~=", ">=", "<="]
_PATTERN = re.compile(r"^\s*(\w+)\s*(!=|~=|>=|<=|=)\s*(.*?)\s*$")


class MetadataFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    op: Op
    value: str | int

    @classmethod
    def parse(cls, text: str) -> "MetadataFilter":
        match = _PATTERN.match(text)
        if not match or match.group(1) not in FIELDS:
            raise ConfigError("--filter", f"cannot read '{text}'.",
                              f"Write FIELD=VALUE, FIELD!=VALUE, FIELD~=GLOB, page>=N or page<=N with FIELD one of "
                              f"{', '.join(FIELDS)} (e.g. --filter type=pdf, --filter 'source~=*manual*').")
        field, op, value = match.groups()
        if FIELDS[field] is int:
            if not value.lstrip("-").isdigit():
                raise ConfigError("--filter", f"'{field}' needs a whole number, got '{value}'.")
            return cls(field=field, op=op, value=int(value))
        if op in (">=", "<="):
            raise ConfigError("--filter", f"'{op}' works on page numbers only, not on '{field}'.")
        return cls(field=field, op=op, value=value)

    def matches(self, meta: dict) -> bool:
        have = meta.get(self.field)
        if self.op == "~=":
            return fnmatch.fnmatchcase(str(have), str(self.value))
        if self.op in (">=", "<="):
            return have is not None and have >= 0 and (have >= self.value if self.op == ">=" else have <= self.value)
        return (have == self.value) == (self.op == "=")

    def _literal(self) -> str:
        return str(self.value) if isinstance(self.value, int) else "'" + str(self.value).replace("'", "''") + "'"

    def to_sql(self) -> str:
        if self.op == "~=":
            like = str(self.value).replace("'", "''").replace("%", r"\%").replace("_", r"\_")
            return f"{self.field} LIKE '{like.replace('*', '%').replace('?', '_')}'"
        if self.op in (">=", "<="):
            return f"({self.field} >= 0 AND {self.field} {self.op} {self.value})"
        return f"{self.field} {'=' if self.op == '=' else '!='} {self._literal()}"

    def to_milvus(self) -> str:
        if self.op == "~=":
            like = str(self.value).replace('"', '\\"').replace("%", r"\%").replace("*", "%").replace("?", "_")
            return f'{self.field} like "{like}"'
        if self.op in (">=", "<="):
            return f"({self.field} >= 0 and {self.field} {self.op} {self.value})"
        literal = str(self.value) if isinstance(self.value, int) else '"' + str(self.value).replace('"', '\\"') + '"'
        return f"{self.field} {'==' if self.op == '=' else '!='} {literal}"
