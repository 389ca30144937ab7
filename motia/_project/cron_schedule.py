"""Cron expressions: checked when the app is built, asked for the next tick at run time.

Expressions have 5 fields (minute first), 6 (seconds first, as in Motia 1.0) or 7
(seconds first, then a year, as Motia's engine reads them).
"""

from __future__ import annotations

from datetime import datetime

from croniter import croniter

from motia.exceptions import InvalidCronExpression

__all__ = ["CronSchedule"]


class CronSchedule:
    def __init__(self, expression: str) -> None:
        fields = expression.split() if isinstance(expression, str) else []
        if len(fields) not in (5, 6, 7):
            raise InvalidCronExpression(
                f"cron expression {expression!r} must have 5 fields (minute first, "
                'e.g. "*/5 * * * *"), 6 (seconds first, e.g. "*/10 * * * * *") or 7 '
                '(seconds first, then the year, e.g. "0 30 9 * * * *")'
            )
        self.expression = expression
        self._seconds_first = len(fields) >= 6
        if not croniter.is_valid(expression, second_at_beginning=self._seconds_first):
            raise InvalidCronExpression(
                f"cron expression {expression!r} is not valid: check each field's range "
                "(seconds 0-59, minutes 0-59, hours 0-23, day 1-31, month 1-12, weekday 0-6)"
            )

    def next_after(self, moment: datetime) -> datetime:
        iterator = croniter(self.expression, moment, second_at_beginning=self._seconds_first)
        following: datetime = iterator.get_next(datetime)
        return following
