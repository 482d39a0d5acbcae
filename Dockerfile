# Production image: gunicorn for the web process (config/gunicorn.py), the same image for Celery worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    MRV_VAR_DIR=/var/lib/mrv

WORKDIR /app
# A TrueType CJK font, embedded in the copy of record (PDF); gettext compiles the message catalogues.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei gettext \
    && rm -rf /var/lib/apt/lists/*
# Dependencies first, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
COPY accounting/__init__.py accounting/__init__.py
COPY mrv/__init__.py mrv/__init__.py
COPY config/__init__.py config/__init__.py
RUN pip install -e .

COPY . .
RUN MRV_ENV=build python manage.py compilemessages --verbosity 0
RUN useradd --system --home-dir /app mrv \
    && mkdir -p "$MRV_VAR_DIR/checkpoints" "$MRV_VAR_DIR/evidence" \
    && MRV_ENV=build python manage.py collectstatic --no-input --verbosity 0 \
    && chown -R mrv "$MRV_VAR_DIR"
USER mrv

EXPOSE 8000
# Workers, timeouts and max requests from the environment (MRV_WEB_*): see config/gunicorn.py.
CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi"]
