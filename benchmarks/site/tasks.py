"""The benchmark's tasks: as cheap as a task can be, so what is measured is the machinery."""

from django_integration.tasks import OnDemandTask


class BenchPlain(OnDemandTask):
    def run(self, **kwargs):
        return None


class BenchDeduplicated(OnDemandTask):
    deduplicate = True

    def run(self, **kwargs):
        return None
