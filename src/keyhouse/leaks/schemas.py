"""GitHub secret scanning's partner formats: the report of leaks, and our feedback on each."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LeakReport(BaseModel):
    """One token GitHub found in public (fields GitHub may add later are ignored)."""

    model_config = ConfigDict(extra="ignore")

    token: str = Field(max_length=1000)
    type: str = Field(max_length=200)
    url: str = Field(default="", max_length=2048)
    source: str = Field(default="", max_length=200)


class LeakFeedback(BaseModel):
    """Whether a reported token is ours, by its SHA-256: never which account it belongs to."""

    token_hash: str = Field(description="SHA-256 of the token, lowercase hex.")
    token_type: str
    label: Literal["true_positive", "false_positive"]
