"""Type stubs of the native module ``rpol._rpol`` (re-exported by ``rpol``)."""

import datetime
import os
from typing import Any, Dict, Iterable, List, Mapping as _Map, Optional, Sequence, Tuple, TypeVar, Union, overload

import pyarrow

__version__: str

Request = Union[_Map[str, Any], str, bytes]
Decision = Dict[str, Any]
MappingLike = Union["Mapping", _Map[str, Any], str, "os.PathLike[str]"]
Tabular = TypeVar("Tabular", pyarrow.Table, pyarrow.RecordBatch)
DropReasons = Union[str, Iterable[str], None]

class Policy:
    """A compiled policy; decide any number of requests from any thread."""

    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"], registry: Optional[Union[str, "os.PathLike[str]"]] = None) -> "Policy": ...
    @staticmethod
    def from_artifact(data: bytes) -> "Policy": ...
    def to_artifact(self) -> bytes: ...
    @property
    def digest(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def features(self) -> List[str]: ...
    def decide(self, request: Request, reasons: Sequence[str] = ()) -> Decision: ...
    def decide_many(self, requests: Iterable[Request], reasons: Sequence[str] = ()) -> List[Decision]: ...
    def check_feature(self, request: Request, name: str) -> bool: ...
    def explain(self, request: Request, code: str) -> Dict[str, str]: ...
    def retention(self, kind: str) -> datetime.timedelta: ...
    def debug_visible(self, role: str, feature: str) -> bool: ...
    def enforcer(
        self,
        schema: Union[pyarrow.Schema, pyarrow.Table, pyarrow.RecordBatch],
        mapping: MappingLike,
        *,
        purpose: Optional[str] = None,
        drop: DropReasons = None,
        now: Optional[datetime.datetime] = None,
        denied_column: bool = False,
    ) -> "Enforcer": ...
    @overload
    def enforce(
        self,
        table: Tabular,
        mapping: MappingLike,
        *,
        purpose: Optional[str] = None,
        drop: DropReasons = None,
        now: Optional[datetime.datetime] = None,
        denied_column: bool = False,
    ) -> Tabular: ...
    @overload
    def enforce(
        self,
        table: Tabular,
        mapping: MappingLike,
        *,
        purpose: Optional[str] = None,
        drop: DropReasons = None,
        now: Optional[datetime.datetime] = None,
        denied_column: bool = False,
        with_stats: bool,
    ) -> Union[Tabular, Tuple[Tabular, Dict[str, Any]]]: ...

class Mapping:
    """Which column (or constant) gives each request field."""

    @staticmethod
    def from_dict(mapping: _Map[str, Any]) -> "Mapping": ...
    @staticmethod
    def from_yaml(text: str, file: str = "<mapping>") -> "Mapping": ...
    @staticmethod
    def load(path: Union[str, "os.PathLike[str]"]) -> "Mapping": ...
    @staticmethod
    def of(value: MappingLike) -> "Mapping": ...
    @property
    def text(self) -> str: ...

class Enforcer:
    """The policy applied batch by batch to tables of one schema."""

    def apply(self, data: Tabular) -> Tabular: ...
    @property
    def output_schema(self) -> pyarrow.Schema: ...
    @property
    def stats(self) -> Dict[str, Any]: ...
