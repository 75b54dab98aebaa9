# Wijkkaart app image: gunicorn serving kaart:create_app(), assets from npm at build time.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/vendor-assets scripts/vendor-assets
RUN scripts/vendor-assets

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# The exact versions of the lock file (`make lock`), in a layer that changes only with it.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --no-cache-dir -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY kaart kaart
COPY geodata geodata
# Editable, so the app finds templates/, static/, migrations/ and data/ beside the package;
# --no-deps: the lock file above is all it gets, nothing is resolved again.
RUN pip install --no-cache-dir --no-deps -e .
COPY migrations migrations
COPY templates templates
COPY static static
COPY data data
COPY --from=assets /src/static/vendor static/vendor
# pango and a font for WeasyPrint (the reactienota PDF).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 kaart && mkdir -p var/uploads var/tiles \
    && chown kaart var/uploads var/tiles
USER kaart
EXPOSE 8000
# Migrate, load the demo area only when asked (KAART_DEMO=true; idempotent), then serve.
CMD ["sh", "-c", "kaart db upgrade && if [ \"$KAART_DEMO\" = true ]; then kaart demo load; fi && exec kaart serve --host 0.0.0.0 --port 8000 --workers 3"]
