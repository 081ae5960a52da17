"""The classifier that asks a language model, through the openai SDK with structured output.

Any OpenAI-compatible server works (OpenAI, Ollama, vLLM, llama.cpp): set ``base_url`` and
``model``. The model's answer is parsed into :class:`~agent.prompts.ModelClassification`,
converted to a :class:`~agent.schema.Classification`, and its evidence quotes are checked
against the message. Every failure (timeout, rate limit, server error, refusal, content filter,
truncated or malformed output, no answer) raises :class:`~agent.classifier.ClassifierUnavailable`
so the message goes to a person: a failed call is never replaced by a guess.

By default the offline rules run as a guard beside the model: their injection, legal and
insolvency flags are added, and a dispute the rules see clearly is added when the model missed
it (flag ``dispute_from_rules``). Text in an email can talk a model out of "dispute"; it cannot
talk the rules out of it.

``openai`` is imported on first use (it costs about 0.7 s), never at module import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pydantic

from agent.classifier import ClassifierInput, ClassifierUnavailable
from agent.offline import DISPUTE_FIRST, OfflineClassifier, format_amount, parse_number
from agent.prompts import ModelClassification, ModelFinding, build_messages
from agent.schema import Classification, Flag, Intent, IntentFinding, verify_evidence

_GUARDED_FLAGS = (
    Flag.injection_suspected,
    Flag.legal_language,
    Flag.insolvency,
    Flag.short_payment,
)
_CURRENCY_SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD", "US$": "USD"}
_LANGUAGE = re.compile(r"^[a-z]{2}$")


class OpenAIClassifier:
    """Classifies with a chat model's structured output; raises ClassifierUnavailable on failure.

    Pass either ``client_factory`` (a callable returning an ``openai.OpenAI``-like client, used
    as is) or connection settings (``base_url``, ``api_key``, ``timeout`` in seconds,
    ``max_retries``: the SDK's own retries with backoff, 2 in production, 0 in tests).
    ``temperature`` is sent only when set (some models refuse it). Call :meth:`close` (or use
    the instance as a context manager) to release the HTTP connections.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        temperature: float | None = None,
        client_factory: Callable[[], Any] | None = None,
        dispute_guard: bool = True,
    ) -> None:
        self.model = model
        self._base_url = base_url
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._temperature = temperature
        self._client_factory = client_factory
        self._client: Any = None
        self._guard = OfflineClassifier() if dispute_guard else None

    @property
    def name(self) -> str:
        """``openai:<model>``, recorded on every classification."""
        return f"openai:{self.model}"

    def _get_client(self) -> Any:
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                import openai

                self._client = openai.OpenAI(
                    base_url=self._base_url,
                    # local servers (Ollama, vLLM, llama.cpp) accept any key; the SDK wants one
                    api_key=self._api_key or "not-needed",
                    timeout=self._timeout,
                    max_retries=self._max_retries,
                )
        return self._client

    def close(self) -> None:
        """Close the HTTP client this classifier created (a factory's client too)."""
        if self._client is not None and hasattr(self._client, "close"):
            self._client.close()
        self._client = None

    def __enter__(self) -> OpenAIClassifier:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def classify(self, message: ClassifierInput, *, today: date) -> Classification:
        """Ask the model; return a checked Classification or raise ClassifierUnavailable."""
        parsed = self._ask(message, today)
        classification = _to_classification(parsed, classifier=self.name)
        classification = verify_evidence(classification, message.full_text)
        if self._guard is not None:
            classification = _guard(classification, self._guard.classify(message, today=today))
        return classification

    def _ask(self, message: ClassifierInput, today: date) -> ModelClassification:
        import openai

        client = self._get_client()
        options: dict[str, Any] = {}
        if self._temperature is not None:
            options["temperature"] = self._temperature
        try:
            completion = client.chat.completions.parse(
                model=self.model,
                messages=build_messages(message, today=today),
                response_format=ModelClassification,
                **options,
            )
        except openai.APITimeoutError as exc:
            raise ClassifierUnavailable("timeout", str(exc)) from exc
        except openai.RateLimitError as exc:
            raise ClassifierUnavailable("rate_limited", _status_detail(exc)) from exc
        except openai.APIConnectionError as exc:
            raise ClassifierUnavailable("connection_error", str(exc)) from exc
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise ClassifierUnavailable("auth_error", _status_detail(exc)) from exc
        except (openai.BadRequestError, openai.NotFoundError) as exc:
            raise ClassifierUnavailable("bad_request", _status_detail(exc)) from exc
        except openai.APIStatusError as exc:
            reason = "server_error" if exc.status_code >= 500 else "bad_request"
            raise ClassifierUnavailable(reason, _status_detail(exc)) from exc
        except openai.LengthFinishReasonError as exc:
            raise ClassifierUnavailable("truncated", "the answer hit the token limit") from exc
        except openai.ContentFilterFinishReasonError as exc:
            raise ClassifierUnavailable("content_filter", "the provider filtered it") from exc
        except (pydantic.ValidationError, json.JSONDecodeError) as exc:
            raise ClassifierUnavailable("malformed_output", _first_line(exc)) from exc
        except openai.APIResponseValidationError as exc:
            raise ClassifierUnavailable("malformed_output", str(exc)) from exc
        except openai.OpenAIError as exc:
            raise ClassifierUnavailable("unavailable", str(exc)) from exc

        if not completion.choices:
            raise ClassifierUnavailable("empty_output", "the response had no choices")
        answer = completion.choices[0].message
        if getattr(answer, "refusal", None):
            raise ClassifierUnavailable("refused", str(answer.refusal))
        if answer.parsed is None:
            raise ClassifierUnavailable("empty_output", "the response had no structured content")
        parsed: ModelClassification = answer.parsed
        return parsed


def _status_detail(exc: Any) -> str:
    return f"HTTP {getattr(exc, 'status_code', '?')}: {exc}"


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _iso_date(value: str | None, what: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ClassifierUnavailable("malformed_output", f"{what} {value!r} is not a date") from None


def _amount(value: str) -> str:
    digits = re.sub(r"[^\d.,' -]", "", value).strip()
    number: Decimal | None = parse_number(digits) if digits else None
    if number is None:
        raise ClassifierUnavailable("malformed_output", f"amount {value!r} is not a number")
    return format_amount(number)


def _currency(value: str | None) -> str | None:
    if value is None:
        return None
    code = _CURRENCY_SYMBOLS.get(value.strip(), value.strip().upper())
    return code if re.fullmatch(r"[A-Z]{3}", code) else None


def _finding(raw: ModelFinding) -> IntentFinding:
    try:
        return IntentFinding(
            intent=raw.intent,
            confidence=raw.confidence,
            evidence=[q for q in raw.evidence if q.strip()],
            invoice_refs=[r.strip() for r in raw.invoice_refs if r.strip()],
            dates=[d for v in raw.dates if (d := _iso_date(v, "date")) is not None],
            amounts=[_amount(a) for a in raw.amounts],
            currency=_currency(raw.currency),
            promised_date=_iso_date(raw.promised_date, "promised_date"),
            requested_due_date=_iso_date(raw.requested_due_date, "requested_due_date"),
        )
    except pydantic.ValidationError as exc:
        raise ClassifierUnavailable("malformed_output", _first_line(exc)) from exc


def _to_classification(parsed: ModelClassification, *, classifier: str) -> Classification:
    """Convert the model's answer, refusing anything out of range rather than repairing it."""
    findings: list[IntentFinding] = []
    for raw in parsed.intents:
        finding = _finding(raw)
        if all(f.intent is not finding.intent for f in findings):
            findings.append(finding)
    if not findings:
        raise ClassifierUnavailable("empty_output", "the model reported no intent")
    dispute = next((f for f in findings if f.intent is Intent.dispute), None)
    if dispute is not None and dispute.confidence >= DISPUTE_FIRST:
        findings = [dispute, *[f for f in findings if f is not dispute]]
    language = parsed.language.strip().lower()
    return Classification(
        intents=findings,
        language=language if _LANGUAGE.match(language) else "und",
        flags=list(dict.fromkeys(flag.value for flag in parsed.flags)),
        classifier=classifier,
    )


def _guard(model: Classification, rules: Classification) -> Classification:
    """Add the rules' safety flags, and a clear dispute the model did not report."""
    flags = list(model.flags)
    for flag in _GUARDED_FLAGS:
        if flag.value in rules.flags and flag.value not in flags:
            flags.append(flag.value)
    intents = list(model.intents)
    rules_dispute = rules.finding(Intent.dispute)
    if (
        rules_dispute is not None
        and rules_dispute.confidence >= DISPUTE_FIRST
        and not model.has(Intent.dispute)
    ):
        intents.insert(0, rules_dispute)
        flags.append(Flag.dispute_from_rules.value)
    return model.model_copy(update={"intents": intents, "flags": flags})
