"""Local Cloud Tasks and Cloud Scheduler (Google's real gRPC API), an OIDC issuer, and a
launcher for Google's Pub/Sub emulator, so the whole loop runs on one machine."""
