# cvd-activity image for docker-compose.yml: the built package (dist/ and its
# production dependencies), used by the one-shot `migrate` service, the
# checkpointer (`audit checkpoint` on a schedule) and by the demo
# (`node dist/cli/main.js demo`), whose API runs under the register hook.
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The audit spool (write-ahead log) lives here; compose mounts a named volume.
# So do the checkpoints and their signing key (the checkpointer service); a new
# named volume takes over these owners and modes.
RUN mkdir -p /app/.cvd-activity /checkpoints /keys && chown node:node /app/.cvd-activity /checkpoints /keys && chmod 700 /keys
USER node
EXPOSE 8080
CMD ["node", "dist/cli/main.js", "--help"]
