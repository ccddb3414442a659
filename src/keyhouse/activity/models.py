"""One MCP tool call through a connection: which tool, when, how it ended, how long it took.

Never the arguments or the result: those are the workspace's data, not the connection's.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from keyhouse.kit.orm import Base, IdMixin


class ToolCall(IdMixin, Base):
    """A recorded call; pruned after `KEYHOUSE_ACTIVITY_RETENTION_DAYS`."""

    __tablename__ = "mcp_tool_calls"
    __table_args__ = (Index("ix_mcp_tool_calls_connection_called", "connection_id", "called_at"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    connection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("connections.id"))
    tool: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # "ok" or "error"
    duration_ms: Mapped[int]
    called_at: Mapped[datetime] = mapped_column(index=True)
