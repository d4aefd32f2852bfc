# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 STATIC_MANIFEST=1
WORKDIR /app

# The runtime lock: the exact tested versions, hashes checked (regenerated with `make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Static files are collected at build time and served by whitenoise from the web container.
RUN SECRET_KEY=build-only DEBUG=0 python manage.py collectstatic --noinput

RUN useradd --create-home app && mkdir -p /app/media && chown -R app /app/media
USER app
EXPOSE 8000
CMD ["gunicorn", "cs_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
