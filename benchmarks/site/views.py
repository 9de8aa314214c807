"""The reference the task endpoint is compared with, and the counters the driver reads."""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from django_integration import authentication, conf


@csrf_exempt
@require_POST
def bare(request: HttpRequest) -> JsonResponse:
    """Parses the JSON body and answers: the least a Django view taking tasks can do."""
    json.loads(request.body)
    return JsonResponse({"result": None})


def stats(request: HttpRequest) -> JsonResponse:
    certificates = authentication.certificates(conf.settings.oidc_certs_url)
    recorded = None
    if conf.settings.record_executions:
        from django_integration import models

        recorded = models.TaskExecution.objects.filter(status="SUCCESSFUL").count()
    return JsonResponse({"certificate_fetches": certificates.fetches, "recorded": recorded})
