# The ledger's image: `ledger serve` as an unprivileged user, with production dependencies only.
# Built by eventstore.compose.yml; on its own: docker build -t session-ledger .

# Node 20, the version the ledger is built and tested on. better-sqlite3 downloads a prebuilt
# binary when one matches; the compilers are here for when none does.
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# Compiles TypeScript to dist/, and the console to dist/console, with the dev dependencies,
# which never reach the final image.
FROM toolchain AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY projections ./projections
COPY bench ./bench
COPY console ./console
RUN npm run build

FROM toolchain AS production-dependencies
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LEDGER_HOST=0.0.0.0 \
    LEDGER_PORT=3000 \
    LEDGER_DB=/data/ledger.db
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY examples/frontend ./examples/frontend
COPY package.json ./
# `ledger` on the PATH, for `docker compose exec <service> ledger token …`; the data directory
# belongs to the unprivileged `node` user the ledger runs as.
RUN chmod 0755 dist/src/cli/main.js \
 && ln -s /app/dist/src/cli/main.js /usr/local/bin/ledger \
 && mkdir /data \
 && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
# Ready means the store answers and the projector keeps up: what a load balancer should ask.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=6 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.LEDGER_PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself as the process: SIGTERM reaches `serve`, which drains and closes in order.
CMD ["node", "dist/src/cli/main.js", "serve"]
