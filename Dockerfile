# Production image: a static-ish release binary on a slim Debian, run as an
# unprivileged user. The build command below is the one .ci/run executes.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin dermagraph

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --create-home dermagraph
COPY --from=build /src/target/release/dermagraph /usr/local/bin/dermagraph
USER dermagraph
WORKDIR /app
ENV DERMAGRAPH_ENV=production \
    DERMAGRAPH_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["dermagraph"]
CMD ["serve"]
