"""The only code that talks to Google Cloud: Cloud Scheduler and Pub/Sub adapters."""
