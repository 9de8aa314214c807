"""The operations window in Django's admin (found by `django.contrib.admin`'s autodiscovery):
the periodic and subscriber tasks declared in code beside their live cloud state, and the
recorded executions. Nothing here is imported unless the admin is installed."""

from django.contrib import admin

from django_integration import models
from django_integration.admin import executions, periodic, subscribers

admin.site.register(models.DeclaredPeriodicTask, periodic.PeriodicTaskAdmin)
admin.site.register(models.DeclaredSubscriberTask, subscribers.SubscriberTaskAdmin)
admin.site.register(models.TaskExecution, executions.TaskExecutionAdmin)
