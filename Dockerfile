# AkiDB container image — first version: runs from source on the Deno binary
# that npm installs. The single-binary image (deno compile) replaces it with
# the packaging work (see docs/DEPLOYMENT.md once it exists).
#
#   docker build -t akidb .
#   docker run -p 8080:8080 -v akidb-data:/var/lib/akidb akidb

FROM node:20-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY deno.json ./
COPY wasm-kernels ./wasm-kernels
COPY src ./src
RUN node_modules/.bin/deno task build \
 && cp node_modules/deno/deno /build/deno \
 && npm prune --omit=dev --no-audit --no-fund

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/akidb akidb \
 && mkdir -p /var/lib/akidb /etc/akidb /opt/akidb \
 && chown akidb:akidb /var/lib/akidb
WORKDIR /opt/akidb
COPY --from=build /build/deno /usr/local/bin/deno
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/deno.json /build/package.json ./
COPY --from=build /build/src ./src
COPY --from=build /build/wasm-kernels/build ./wasm-kernels/build
USER akidb
ENV AKIDB_HOST=0.0.0.0 AKIDB_PORT=8080 AKIDB_DATA_DIR=/var/lib/akidb RUST_BACKTRACE=0
VOLUME ["/var/lib/akidb"]
EXPOSE 8080
ENTRYPOINT ["deno", "run", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys", "src/main.ts"]
CMD ["serve"]
