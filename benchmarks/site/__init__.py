"""A minimal Django site for the benchmark workers: the two benchmark tasks, the task endpoints,
and a bare JSON view to compare the task endpoint with."""
