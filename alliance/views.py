from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .health import run_checks


@require_safe
@never_cache
def healthz(request):
    """Report each component; 503 when a configured one is down, for load balancers."""
    healthy, report = run_checks()
    return JsonResponse(
        {"status": "ok" if healthy else "error", "components": report},
        status=200 if healthy else 503,
    )
