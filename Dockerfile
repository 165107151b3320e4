# Production image: gunicorn for the web, the same image for the Celery worker and beat.

FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm run vendor

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VAR_DIR=/app/var
WORKDIR /app
RUN useradd --create-home --uid 1000 alliance
# DejaVu: the worker draws the link-preview picture with it (signatures/social_image.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY . .
COPY --from=assets /app/static/vendor ./static/vendor
COPY --from=assets /app/node_modules ./node_modules
# collectstatic reads settings, which need a key: this one exists only during the build.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown -R alliance:alliance /app/var
USER alliance
EXPOSE 8000
# Workers, threads, preloading, the access log: gunicorn.conf.py.
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "alliance.wsgi:application"]
