"""Template tasks (Prefect 1's `prefect.tasks.templates`): `StringFormatter`. Prefect's
`JinjaTemplate` needs jinja2, which flowlight does not depend on, and is not provided."""

from flowlight.tasks.templates.strings import StringFormatter

__all__ = ["StringFormatter"]
