# Builds the frontdesk binary and runs it against the PostgreSQL given by DATABASE_URL.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p frontdesk-server --bin frontdesk

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 frontdesk
COPY --from=build /src/target/release/frontdesk /usr/local/bin/frontdesk
USER frontdesk
ENV FRONTDESK_LISTEN=0.0.0.0:8080 FRONTDESK_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["frontdesk"]
CMD ["serve"]
