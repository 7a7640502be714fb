# caresheet in a container: see docs/deploy.md.
FROM python:3.11-slim-bookworm

# WeasyPrint's native libraries and the fallback fonts (scripts/install-system-deps.sh lists
# the same packages); no browser is needed to serve.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --home-dir /var/lib/caresheet caresheet
WORKDIR /srv/caresheet
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .

USER caresheet
WORKDIR /var/lib/caresheet
ENV CARESHEET_DATABASE_URL=sqlite:////var/lib/caresheet/caresheet.db
EXPOSE 8000
# serve applies any pending migration under a lock before it listens.
CMD ["caresheet", "serve", "--host", "0.0.0.0", "--port", "8000"]
