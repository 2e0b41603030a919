# Cadre in a container. No Docker engine runs in Cadre's CI: this file is kept right by reading it,
# and the topology it serves is tested with processes (docs/operations.md, "Docker").
#
#   docker build -t cadre .
#   docker run -p 8080:8080 -v cadre-data:/data cadre     # one node, embedded SQLite in the /data volume
#   deploy/compose.yaml                                     # several nodes on PostgreSQL

# The web UI (web/) is built with Node.js in its own stage; the .NET build below then skips it (CadreBuildWeb=false).
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore from the project files alone first, so a change to the sources reuses the restored layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Cadre.Core/Cadre.Core.csproj src/Cadre.Core/
COPY src/Cadre.Server/Cadre.Server.csproj src/Cadre.Server/
RUN dotnet restore src/Cadre.Server/Cadre.Server.csproj
COPY src/ src/
COPY --from=web /src/src/Cadre.Server/wwwroot src/Cadre.Server/wwwroot
RUN dotnet publish src/Cadre.Server/Cadre.Server.csproj -c Release --no-restore -p:CadreBuildWeb=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The data directory (SQLite database, key files, uploaded files in files/) belongs to the image's
# non-root user, so a new named volume mounted on it, or on its files/ (shared by several nodes), does too.
RUN mkdir -p /data/files && chown -R "$APP_UID" /data
ENV CADRE_DATA_DIR=/data \
    ASPNETCORE_HTTP_PORTS=8080
VOLUME /data
EXPOSE 8080
USER $APP_UID
# The image has no curl or wget: the server's own probe asks /healthz on the port above and exits 0 or 1.
# The start period covers migrations, which run before the server listens.
HEALTHCHECK --interval=15s --timeout=10s --start-period=2m --retries=3 \
    CMD ["dotnet", "/app/Cadre.Server.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "Cadre.Server.dll"]
