# One image for every codecnas service: API + controller, Ray head and workers, benchmark agent.
FROM python:3.11-slim

# PyPI's torch 2.13.0 for Linux x86_64 is a multi-GB CUDA build. Point this at a CPU wheel index
# (pip --extra-index-url syntax) to keep the image small; leave it empty to use PyPI as it is.
ARG TORCH_EXTRA_INDEX_URL=""

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    CODECNAS_HOME=/var/lib/codecnas

RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY codec ./codec
COPY search_spaces ./search_spaces
COPY nas ./nas
COPY device_bench ./device_bench
COPY workers ./workers
COPY codecnas ./codecnas
COPY dashboard ./dashboard
RUN if [ -n "$TORCH_EXTRA_INDEX_URL" ]; then \
        pip install --extra-index-url "$TORCH_EXTRA_INDEX_URL" torch==2.13.0; \
    fi \
    && pip install .

RUN useradd --create-home --uid 1000 codecnas && mkdir -p /var/lib/codecnas \
    && chown codecnas /var/lib/codecnas
USER codecnas
EXPOSE 8000
CMD ["codecnas", "--help"]
