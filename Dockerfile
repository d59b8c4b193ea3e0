# syntax=docker/dockerfile:1
# The gateway's container image. Build: `docker build -t veo-gateway .`
# (podman: `podman build --format docker -t veo-gateway .`, so that the HEALTHCHECK is kept)
# Run:   `docker run -p 4000:4000 -v veo-data:/data -e AIMLAPI_API_KEY=… veo-gateway`
# Every setting comes from the environment (see the README's configuration table).

# The Node version we test on (CI runs the suite on Node 24).
ARG NODE_VERSION=24

# ---- build: dev dependencies, TypeScript, the bundled pages ----------------------------------------
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
# `npm install`, not `npm ci`: the lockfile cannot list swc binaries for platforms the registry lacks.
COPY package.json package-lock.json ./
RUN npm install
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# Production dependencies are what the build stage installed, minus the dev ones: no second download.
RUN npm run build && npm prune --omit=dev && npm cache clean --force

# ---- runtime: production dependencies only, non-root ----------------------------------------------
FROM node:${NODE_VERSION}-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data \
    MALLOC_MMAP_THRESHOLD_=131072 \
    NODE_COMPILE_CACHE=/tmp/node-compile-cache \
    NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The simulator's sample video (used only when AIMLAPI_API_KEY is unset).
COPY assets ./assets
# The image's own `node` user (uid 1000) owns only the data folder.
# /media: compose's shared media folder; a named volume takes this owner on first use.
RUN mkdir -p /data /media && chown node:node /data /media
USER node
VOLUME ["/data"]
EXPOSE 4000
# slim has no curl: ask /healthz with node itself. The first start creates the embedded database
# (~15 s, up to a minute on a busy machine). Podman keeps a HEALTHCHECK only in the docker image format
# (`podman build --format docker`).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node directly (not npm start, which would rebuild): it gets SIGTERM and drains gracefully. A 2 MB
# semi-space (V8's default 16 MB) keeps the young generation small: ~17 MB less idle RSS; MALLOC_MMAP_THRESHOLD_
# above has the C allocator return the embedded database's compile memory: ~40 MB less; a 10x WASM tiering budget
# leaves PostgreSQL's run-once start-up code unoptimised: ~0.8 s less CPU to ready; NODE_COMPILE_CACHE keeps the
# compiled modules for the container's later starts: ~0.3 s less to ready (docs/operations.md).
CMD ["node", "--max-semi-space-size=2", "--wasm-tiering-budget=18000000", "dist/main.js"]
