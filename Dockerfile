# Production image: a release binary on a slim Debian, run as an
# unprivileged user. The final build command below is the one .ci/run
# executes. Base images are pinned to exact releases (Rust 1.95.0, Debian
# 12.11); pin them by digest too where your registry policy asks for it.

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
# Dependencies first, in a layer of their own: only the manifests, the lock
# file and the patched crates under vendor/, with stub sources. A change in
# src/ or migration/src then reuses this layer instead of rebuilding every
# crate with fat LTO.
COPY Cargo.toml Cargo.lock ./
COPY migration/Cargo.toml migration/Cargo.toml
COPY vendor vendor
RUN mkdir -p src migration/src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --bin dermagraph \
    && rm -rf src migration/src
# Then the project itself; its files are touched so that cargo rebuilds them
# over the stubs whatever their timestamps in the build context.
COPY . .
RUN find src migration/src -name '*.rs' -exec touch {} +
RUN cargo build --release --locked --bin dermagraph

FROM debian:12.11-slim
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
