# The controller image the Deployment and the Helm chart run (args start with `run`).
# Build: docker build -t ghcr.io/gcp-tasks-controller/gcp-tasks-controller:0.1.0 .
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY controller controller
COPY django_integration django_integration
COPY emulators emulators
# The controller extra brings kopf and prometheus-client; the base package alone serves Django.
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[controller]'

FROM python:3.12-slim
# The same non-root uid the manifests' securityContext asks for; the root filesystem is
# read-only at run time, so nothing is written after install (PYTHONDONTWRITEBYTECODE).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'gcp-tasks-controller[controller]' \
    && rm -rf /wheels \
    && useradd --uid 65532 --no-create-home --shell /usr/sbin/nologin controller
USER 65532:65532
ENTRYPOINT ["gcp-tasks-controller"]
CMD ["run"]
