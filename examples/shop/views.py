"""The example shop's own endpoints: each hands its work to a task, as a real app's views do."""

import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from examples.shop import tasks


@csrf_exempt
@require_POST
def confirm_order(request: HttpRequest, order_id: int) -> JsonResponse:
    """Enqueue the confirmation email: Cloud Tasks pushes it back to /gcp/tasks/..."""
    email = json.loads(request.body or b"{}").get("email", "customer@example.com")
    task = tasks.SendOrderConfirmation().enqueue(order_id=order_id, email=email)
    return JsonResponse({"task": getattr(task, "name", None)}, status=202)


@csrf_exempt
@require_POST
def order_event(request: HttpRequest, order_id: int) -> JsonResponse:
    """Publish an order event: Pub/Sub pushes it to the ordered subscriber."""
    data = {"order_id": order_id, **json.loads(request.body or b"{}")}
    message_id = tasks.OrderEventsSubscriber().publish(data, ordering_key=f"order-{order_id}")
    return JsonResponse({"message_id": message_id}, status=202)
