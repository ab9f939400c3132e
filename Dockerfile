# syntax=docker/dockerfile:1.7
# AkiDB container image: the single binary (deno compile, kernel embedded) on a distroless base.
#
#   docker build -t akidb .                       # the image (binary)
#   docker build --target source -t akidb:src .   # fallback: runs from source with deno
#   docker run -p 8080:8080 -v akidb-data:/var/lib/akidb akidb
#
# Multi-arch: docker buildx build --platform linux/amd64,linux/arm64 -t akidb .
# The build stage needs the network (npm ci, and deno compile downloads its denort runtime).
# Not built where this file was written (no Docker engine there): see docs/DEPLOYMENT.md.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# ---- build: dependencies, the AssemblyScript kernel, the binary ----
FROM ${NODE_IMAGE} AS build
ARG TARGETARCH
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY deno.json ./
COPY wasm-kernels ./wasm-kernels
COPY src ./src
COPY scripts ./scripts
RUN node_modules/.bin/deno task build
RUN case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && node_modules/.bin/deno task compile --target "$target" \
 && install -D -m 0755 "dist/akidb-$target" /out/usr/local/bin/akidb \
 && /out/usr/local/bin/akidb --version
# The runtime has no shell: prepare its directories here, owned by the akidb user (10001).
RUN install -d -m 0750 -o 10001 -g 10001 /out/var/lib/akidb \
 && install -d -m 0755 /out/etc/akidb
# Defaults for the container; mount your own file over it (keys: config.example.toml).
COPY <<'EOF_CONFIG' /out/etc/akidb/config.toml
# AkiDB in a container. Environment (AKIDB_*) and flags override these keys.
[server]
host = "0.0.0.0"
port = 8080

[storage]
data_dir = "/var/lib/akidb"
EOF_CONFIG

# ---- runtime: glibc + the binary, non-root, nothing else ----
FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=build /out/ /
USER 10001:10001
ENV AKIDB_CONFIG=/etc/akidb/config.toml RUST_BACKTRACE=0 NO_COLOR=1
VOLUME ["/var/lib/akidb"]
EXPOSE 8080
# The binary checks itself (no curl in the image): GET /health on the configured port.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/akidb", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/akidb"]
CMD ["serve"]

# ---- source: fallback that runs from source on the npm-installed Deno (larger image) ----
FROM debian:bookworm-slim AS source
RUN useradd --system --uid 10001 --home-dir /var/lib/akidb akidb \
 && install -d -m 0750 -o akidb -g akidb /var/lib/akidb \
 && install -d -m 0755 /etc/akidb /opt/akidb
WORKDIR /opt/akidb
COPY --from=build /build/node_modules/deno/deno /usr/local/bin/deno
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/deno.json /build/package.json ./
COPY --from=build /build/src ./src
COPY --from=build /build/wasm-kernels/build ./wasm-kernels/build
COPY --from=build /out/etc/akidb/config.toml /etc/akidb/config.toml
USER 10001:10001
ENV AKIDB_CONFIG=/etc/akidb/config.toml RUST_BACKTRACE=0 NO_COLOR=1 DENO_DIR=/tmp/deno
VOLUME ["/var/lib/akidb"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "run", "--allow-read", "--allow-env", "--allow-net", "src/main.ts", "healthcheck"]
ENTRYPOINT ["deno", "run", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys", "src/main.ts"]
CMD ["serve"]

# The default target is the last stage: keep the binary image the default.
FROM runtime
