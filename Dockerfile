FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY aiguillage ./aiguillage
RUN pip install --no-cache-dir ".[fast]"
EXPOSE 8000 2575
CMD ["aiguillage", "serve", "--host", "0.0.0.0"]
