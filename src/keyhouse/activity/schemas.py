"""Assistant activity as the API shows it."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ToolCallOut(BaseModel):
    """One MCP tool call: which tool, when, how it ended and how long it took."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tool: str
    called_at: datetime
    outcome: str = Field(description="`ok`, or `error` (the tool answered with an error).")
    duration_ms: int
