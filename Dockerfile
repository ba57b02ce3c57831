# kizuna node image (docs/deploy.md): non-root, node folder 0700 on a volume.
#   docker build -t kizuna .
#   docker run -d -p 8470:8470 -v kizuna-data:/var/lib/kizuna kizuna
#   docker exec -it <container> kizuna init --party-name NAME --jurisdiction CC --kind csirt
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/kizuna && /opt/kizuna/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/kizuna --shell /usr/sbin/nologin kizuna \
    && install -d -o kizuna -g kizuna -m 0700 /var/lib/kizuna
COPY --from=build /opt/kizuna /opt/kizuna
ENV PATH=/opt/kizuna/bin:$PATH KIZUNA_HOME=/var/lib/kizuna/node PYTHONUNBUFFERED=1
USER kizuna
VOLUME /var/lib/kizuna
EXPOSE 8470
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8470/readyz', timeout=4).status != 200)"
CMD ["kizuna", "serve", "--host", "0.0.0.0", "--port", "8470"]
