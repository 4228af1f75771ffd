# One image for every role: the command picks it (see compose.yaml).
#   docker build -t distributed-db .
#   docker run --rm -p 8080:8080 distributed-db v2 registry --host 0.0.0.0
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY stages ./stages
RUN pip install --no-cache-dir .

# Unbuffered, so log lines reach `docker compose logs` as they happen.
ENV PYTHONUNBUFFERED=1
EXPOSE 8080 8050
ENTRYPOINT ["ddb"]
CMD ["--help"]
