"""``QueueConfig``: delivery settings of a queue trigger."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = ["QueueConfig"]


def _both(name: str, camel: str, default: Any) -> Any:
    return Field(
        default=default,
        validation_alias=AliasChoices(name, camel),
        serialization_alias=camel,
    )


class QueueConfig(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    type: Literal["standard", "fifo"] = "standard"
    max_retries: int = _both("max_retries", "maxRetries", 3)
    visibility_timeout: float = _both("visibility_timeout", "visibilityTimeout", 30)
    delay_seconds: float = _both("delay_seconds", "delaySeconds", 0)
    concurrency: int | None = None
    backoff_type: Literal["fixed", "exponential"] | None = _both(
        "backoff_type", "backoffType", None
    )
    backoff_delay_ms: int | None = _both("backoff_delay_ms", "backoffDelayMs", None)

    @classmethod
    def from_value(cls, value: QueueConfig | dict[str, Any]) -> QueueConfig:
        return value if isinstance(value, cls) else cls.model_validate(value)
