# qabot: build with `docker build -t qabot .`, run with
#   docker run -d --name qabot --env-file qabot.env \
#     -v "$PWD/knowledge:/app/knowledge:ro" -v "$PWD/config:/app/config:ro" qabot
# where qabot.env holds DISCORD_TOKEN=... (keep it out of the image and of shell history).

# ---- build ------------------------------------------------------------------------------
FROM rust:1-slim-bookworm AS builder
WORKDIR /src
# The manifest and lock first, so dependency builds are cached until they change.
COPY Cargo.toml Cargo.lock ./
# Cargo reads every target the manifest names (the benches) before building the binary.
COPY benches ./benches
COPY src ./src
# Not stripped: the release profile keeps line tables so panics have useful backtraces.
RUN cargo build --release --locked --bin qabot

# ---- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin qabot
WORKDIR /app
COPY --from=builder /src/target/release/qabot /usr/local/bin/qabot
# Shipped defaults; mount your own over /app/knowledge and /app/config.
COPY knowledge ./knowledge
COPY config ./config
# The sentence model semantic matching runs (`[matching] model`), with its licence.
COPY models ./models
# Written at run time (the misses log, the embedding cache); everything else stays read-only.
RUN mkdir -p /app/data && chown qabot:qabot /app/data
VOLUME ["/app/data"]
USER qabot
ENV RUST_LOG=info,serenity=warn
# `qabot run` reads ./knowledge and ./config/qabot.toml, i.e. /app/knowledge and
# /app/config/qabot.toml; validate a mounted pack with `docker run --rm ... qabot check`.
ENTRYPOINT ["qabot"]
CMD ["run"]
