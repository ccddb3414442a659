"""Base classes for request bodies."""

from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator


class StrictInput(BaseModel):
    """A request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchInput(StrictInput):
    """A PATCH body: absent fields stay as they are; fields in NOT_NULL refuse an explicit null."""

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_nulls(self) -> Self:
        for field in sorted(self.NOT_NULL & self.model_fields_set):
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def changes(self) -> dict[str, object]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)
