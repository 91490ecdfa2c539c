"""GET /metrics: Prometheus' scrape target, behind a bearer token when CHATKEEP_METRICS_TOKEN is set."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Header, Request, Response

from chatkeep.core.errors import Unauthenticated
from chatkeep.observability import metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"description": "Prometheus text format", "content": {"text/plain": {}}},
        401: {"description": "CHATKEEP_METRICS_TOKEN is set and the bearer token is missing or wrong"},
    },
)
async def scrape(request: Request, authorization: str | None = Header(default=None)) -> Response:
    """Every worker's metrics in Prometheus' text format."""
    expected: str | None = request.app.state.settings.metrics_token
    if expected:
        scheme, _, presented = (authorization or "").partition(" ")
        # Compared in constant time: the token is a shared secret, not a digest looked up by index.
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), expected.encode()
        ):
            raise Unauthenticated("metrics need 'Authorization: Bearer <CHATKEEP_METRICS_TOKEN>'")
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
