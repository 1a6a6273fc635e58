# One image per service, built from the uv workspace: docker build --build-arg SERVICE=loader .
FROM python:3.11-slim
ARG SERVICE
ENV UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy PYTHONUNBUFFERED=1
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
COPY cli cli
COPY deploy/postgres/migrations deploy/postgres/migrations
RUN uv sync --frozen --no-dev --package relais-${SERVICE}
ENV PATH=/app/.venv/bin:$PATH SERVICE=${SERVICE}
CMD ["sh", "-c", "exec relais-${SERVICE}"]
