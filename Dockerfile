# botsync: one image, any number of instances (see README, "Production").
# Node 24 runs the TypeScript sources directly (type stripping), so the
# runtime needs no build of the server, only the built admin.

# --- build: every dependency, then the admin's static files (vite build)
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared-docs/package.json shared-docs/
COPY persistence/package.json persistence/
COPY server/package.json server/
COPY bot/package.json bot/
COPY admin-svelte/package.json admin-svelte/
COPY testkit/package.json testkit/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build -w admin-svelte

# --- runtime: production dependencies only (no vite, svelte, vitest, nor the
# `node` dev dependency: the image's own Node 24 runs the server)
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared-docs/package.json shared-docs/
COPY persistence/package.json persistence/
COPY server/package.json server/
COPY bot/package.json bot/
COPY admin-svelte/package.json admin-svelte/
COPY testkit/package.json testkit/
COPY bench/package.json bench/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY shared-docs/src shared-docs/src
COPY persistence/src persistence/src
COPY server/src server/src
COPY bot/src bot/src
COPY --from=build /app/admin-svelte/dist admin-svelte/dist
# DATA_DIR: generated secrets when JWT_SECRET/BOT_SERVICE_TOKEN are not set,
# the embedded database when DATABASE_URL is not set.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
ENV PORT=8080 DATA_DIR=/app/data
EXPOSE 8080
# 200 for ok and degraded (Redis down: still serving), 503 for stopping and down.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server/src/main.ts"]
